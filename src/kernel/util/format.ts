/** printf-style padding helpers used by the seq_file renderers. */
export const padL = (v: string | number, w: number): string => String(v).padStart(w, ' ');
export const padR = (v: string | number, w: number): string => String(v).padEnd(w, ' ');
export const hex = (v: number | bigint, w = 0): string => v.toString(16).padStart(w, '0');

/** "%5lu.%06lu" of a nanosecond timestamp, as printk prints it. */
export function printkTime(ns: number): string {
  const sec = Math.floor(ns / 1e9);
  const usec = Math.floor((ns % 1e9) / 1e3);
  return `${padL(sec, 5)}.${String(usec).padStart(6, '0')}`;
}

/** Integer division toward zero for non-negative values. */
export const div = (a: number, b: number): number => Math.floor(a / b);
