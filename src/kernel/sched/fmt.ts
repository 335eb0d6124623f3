/** Formatting helpers shared by the scheduler's views (seq_file printf idioms). */
import { NSEC_PER_SEC, USER_HZ } from '../types';

/** SPLIT_NS(x) as "%Ld.%06ld" (the kernel drops the sign of values in (-1 ms, 0)). */
export function splitNs(ns: number, width = 0): string {
  const neg = ns < 0;
  const a = Math.abs(Math.trunc(ns));
  const high = Math.floor(a / 1_000_000);
  const low = a % 1_000_000;
  const h = `${neg && high !== 0 ? '-' : ''}${high}`;
  return `${h.padStart(width, ' ')}.${String(low).padStart(6, '0')}`;
}

/** nsec_to_clock_t(): USER_HZ ticks. */
export function clockT(ns: number): number {
  return Math.floor(ns / (NSEC_PER_SEC / USER_HZ));
}

/** "%*pb" of a bitmap of `nbits` bits: hex in 32-bit chunks, high first, comma separated. */
export function bitmapHex(bits: readonly number[], nbits: number): string {
  const chunks = Math.max(1, Math.ceil(nbits / 32));
  const words = new Array<number>(chunks).fill(0);
  for (const b of bits) if (b >= 0 && b < nbits) words[Math.floor(b / 32)] = (words[Math.floor(b / 32)] | (1 << (b % 32))) >>> 0;
  const out: string[] = [];
  for (let i = chunks - 1; i >= 0; i--) {
    const w = i === chunks - 1 ? Math.ceil((nbits - 32 * (chunks - 1)) / 4) : 8;
    out.push(words[i].toString(16).padStart(w, '0'));
  }
  return out.join(',');
}

/** "%*pbl": ranges like 0-3,6. */
export function bitmapList(bits: readonly number[]): string {
  const s = [...new Set(bits)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(i === j ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/**
 * LOAD_INT.LOAD_FRAC of a FIXED_1 (2048) fixed-point value; /proc/loadavg adds
 * FIXED_1/200 first (get_avenrun's rounding offset), PSI does not.
 */
export function loadStr(x: number, offset = 0): string {
  const FIXED_1 = 1 << 11;
  const v = x + offset;
  const i = Math.floor(v / FIXED_1);
  const f = Math.floor(((v % FIXED_1) * 100) / FIXED_1);
  return `${i}.${String(f).padStart(2, '0')}`;
}

/** task_state_to_char / get_task_state names. */
export const STATE_NAMES: Record<string, string> = {
  R: 'R (running)',
  S: 'S (sleeping)',
  D: 'D (disk sleep)',
  T: 'T (stopped)',
  t: 't (tracing stop)',
  X: 'X (dead)',
  Z: 'Z (zombie)',
  P: 'P (parked)',
  I: 'I (idle)',
};

/** new_encode_dev() of a tty name: tty1 (4:1), ttyS0 (4:64), pts/0 (136:0). */
export function ttyDev(tty: string | null): number {
  if (!tty) return 0;
  let major = 0;
  let minor = 0;
  let m: RegExpMatchArray | null;
  if ((m = /^ttyS(\d+)$/.exec(tty))) {
    major = 4;
    minor = 64 + Number(m[1]);
  } else if ((m = /^tty(\d+)$/.exec(tty))) {
    major = 4;
    minor = Number(m[1]);
  } else if ((m = /^pts\/(\d+)$/.exec(tty))) {
    major = 136 + Math.floor(Number(m[1]) / 256);
    minor = Number(m[1]) % 256;
  } else if (tty === 'console') {
    major = 5;
    minor = 1;
  }
  return (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
}
