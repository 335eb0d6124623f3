/** Kernel taint flags (include/linux/panic.h), in taint_flags[] order. */
export const TAINT_LETTERS = 'PFSRMBUDAWCIOELKXT';

export const TAINT = {
  PROPRIETARY_MODULE: 0,
  FORCED_MODULE: 1,
  FORCED_RMMOD: 3,
  CRAP: 10,
  OOT_MODULE: 12,
  UNSIGNED_MODULE: 13,
} as const;

/** module_flags_taint(): the letters of the set bits, in table order. */
export function taintLetters(mask: number): string {
  let s = '';
  for (let i = 0; i < TAINT_LETTERS.length; i++) if (mask & (1 << i)) s += TAINT_LETTERS[i];
  return s;
}

/**
 * kernfs_name_hash(): the order readdir gives in sysfs directories
 * (e.g. /sys/module/<m>/holders, which lsmod prints in that order).
 */
export function kernfsNameHash(name: string): number {
  const MASK = (1n << 64n) - 1n;
  let hash = 0n;
  for (let i = 0; i < name.length; i++) {
    const c = BigInt(name.charCodeAt(i) & 0xff);
    hash = ((hash + (c << 4n) + (c >> 4n)) * 11n) & MASK;
  }
  // end_name_hash() = hash_long(hash, 32) = hash_64(): (val * GOLDEN_RATIO_64) >> 32
  let h = Number((((hash * 0x61c8864680b583ebn) & MASK) >> 32n) & 0x7fffffffn);
  if (h < 2) h += 2;
  if (h >= 0x7fffffff) h = 0x7ffffffe;
  return h;
}

/** Sorts names the way kernfs keeps a directory's children (hash, then name). */
export function kernfsOrder(names: readonly string[]): string[] {
  return names
    .map((n) => [kernfsNameHash(n), n] as const)
    .sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map((x) => x[1]);
}
