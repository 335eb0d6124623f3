/**
 * The input side of the kernel's proc_do*vec() handlers (kernel/sysctl.c),
 * reproduced character for character: whitespace skipping, proc_get_long()'s
 * sign/radix/trailer rules, the 21-character number limit, partial vectors,
 * and which conditions give EINVAL.
 */
import { KernelError } from '../errors';
import { HZ, PAGE_SIZE, USER_HZ } from '../types';

export const INT_MAX = 2147483647;
export const INT_MIN = -2147483648;
export const UINT_MAX = 4294967295;
export const U64_MAX = (1n << 64n) - 1n;
export const LONG_MAX = (1n << 63n) - 1n;

/** One number as proc_get_long() returns it: magnitude and sign. */
export interface PNum {
  neg: boolean;
  val: bigint;
}

/** isspace() of the kernel's ctype: space, \t, \n, \v, \f, \r. */
const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const TMPBUFLEN = 22;
const TRAILERS = [' ', '\t', '\n'];

function digitValue(c: string): number {
  const x = c.toLowerCase();
  if (x >= '0' && x <= '9') return x.charCodeAt(0) - 48;
  if (x >= 'a' && x <= 'z') return x.charCodeAt(0) - 87;
  return 99;
}

/** A cursor over the written buffer (the kernel copies at most PAGE_SIZE - 1 bytes, NUL terminated). */
export class Cursor {
  pos = 0;
  readonly buf: string;
  constructor(data: string) {
    const nul = data.indexOf('\0');
    this.buf = (nul >= 0 ? data.slice(0, nul) : data).slice(0, PAGE_SIZE - 1);
  }
  get left(): number {
    return this.buf.length - this.pos;
  }
  skipSpaces(): void {
    while (this.pos < this.buf.length && isSpace(this.buf[this.pos])) this.pos++;
  }
}

/**
 * proc_get_long(): an optionally negative integer in base 0 (0x.. hex, 0.. octal),
 * followed by end of input or one of " \t\n". Returns an errno name on failure.
 */
export function procGetLong(c: Cursor): PNum | 'EINVAL' {
  const size = c.left;
  if (!size) return 'EINVAL';
  const tmp = c.buf.slice(c.pos, c.pos + Math.min(size, TMPBUFLEN - 1));
  let p = 0;
  let neg = false;
  if (tmp[0] === '-' && size > 1) {
    neg = true;
    p++;
  }
  if (!isDigit(tmp[p])) return 'EINVAL';
  // _parse_integer_fixup_radix(), base 0
  let base = 10;
  if (tmp[p] === '0') {
    if (tmp[p + 1]?.toLowerCase() === 'x' && tmp[p + 2] !== undefined && digitValue(tmp[p + 2]) < 16) {
      base = 16;
      p += 2;
    } else base = 8;
  }
  let val = 0n;
  let overflow = false;
  const b = BigInt(base);
  while (p < tmp.length) {
    const d = digitValue(tmp[p]);
    if (d >= base) break;
    val = val * b + BigInt(d);
    if (val > U64_MAX) overflow = true;
    p++;
  }
  if (overflow) return 'EINVAL';
  const len = p;
  if (len === TMPBUFLEN - 1) return 'EINVAL';
  if (len < size && !TRAILERS.includes(tmp[len] ?? c.buf[c.pos + len])) return 'EINVAL';
  c.pos += len;
  return { neg, val };
}

/** Result of a vector write: the values stored (a prefix of the vector) and the error, if any. */
export interface VecWrite<T> {
  values: T[];
  err?: 'EINVAL' | 'ERANGE';
}

/**
 * The write loop of __do_proc_dointvec()/__do_proc_doulongvec_minmax():
 * up to `n` numbers separated by whitespace, each converted by `conv`
 * (which returns the stored value or an error). Values before a failing one
 * stay stored, like the kernel's element-by-element writes. Extra input past
 * the n-th value is ignored. Nothing parsed at all is EINVAL.
 */
export function writeVec<T>(data: string, n: number, conv: (x: PNum) => T | 'EINVAL'): VecWrite<T> {
  const c = new Cursor(data);
  const values: T[] = [];
  let err: 'EINVAL' | undefined;
  for (let i = 0; i < n && c.left; i++) {
    c.skipSpaces();
    if (!c.left) break;
    const x = procGetLong(c);
    if (x === 'EINVAL') {
      err = 'EINVAL';
      break;
    }
    const v = conv(x);
    if (v === 'EINVAL') {
      err = 'EINVAL';
      break;
    }
    values.push(v);
  }
  if (values.length === 0) return { values, err: err ?? 'EINVAL' };
  return { values, err };
}

/** do_proc_douintvec_w(): exactly one unsigned number; a sign is EINVAL. */
export function writeUint(data: string, conv: (x: bigint) => number | 'EINVAL'): number {
  const c = new Cursor(data);
  c.skipSpaces();
  if (!c.left) throw new KernelError('EINVAL');
  const x = procGetLong(c);
  if (x === 'EINVAL' || x.neg) throw new KernelError('EINVAL');
  const v = conv(x.val);
  if (v === 'EINVAL') throw new KernelError('EINVAL');
  return v;
}

/** do_proc_dointvec_conv(): to a C int. */
export function toInt(x: PNum): number | 'EINVAL' {
  if (x.neg) {
    if (x.val > BigInt(INT_MAX) + 1n) return 'EINVAL';
    return x.val === 0n ? 0 : -Number(x.val);
  }
  if (x.val > BigInt(INT_MAX)) return 'EINVAL';
  return Number(x.val);
}

// ---------------------------------------------------------------- jiffies

/** msecs_to_jiffies() at HZ=250 (MSEC_PER_SEC % HZ == 0): round up. */
export function msecsToJiffies(ms: number): number {
  if (ms < 0) return Number.MAX_SAFE_INTEGER; // (int)m < 0: MAX_JIFFY_OFFSET
  const per = 1000 / HZ;
  return Math.floor((ms + per - 1) / per);
}

/** jiffies_to_msecs(): an unsigned int. */
export function jiffiesToMsecs(j: number): number {
  return ((1000 / HZ) * j) % 2 ** 32;
}

/** clock_t_to_jiffies() at HZ=250, USER_HZ=100: x * HZ / USER_HZ, rounded down. */
export function clockTToJiffies(x: number): number {
  return Math.floor((x * HZ) / USER_HZ);
}

/** jiffies_to_clock_t() at HZ=250: x * TICK_NSEC / (NSEC_PER_SEC / USER_HZ), rounded down. */
export function jiffiesToClockT(j: number): number {
  return Math.floor((j * (1e9 / HZ)) / (1e9 / USER_HZ));
}

/** Renders a signed value the way proc_put_long() does ("-" + magnitude). */
export function putLong(neg: boolean, mag: number | bigint): string {
  return `${neg ? '-' : ''}${mag}`;
}
