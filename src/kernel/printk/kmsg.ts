import { KernelError } from '../errors';
import type { FileNode, FsCtx } from '../fs/vnode';
import type { Kernel } from '../kernel';
import { type LogRecord, type Printk, utf8Length, LOG_LINE_MAX } from './printk';

/**
 * /dev/kmsg (character device 1:11): reading gives every record of the ring
 * buffer in the kernel's extended format, writing injects a record the way
 * devkmsg_write() does.
 */
export const KMSG_MAJOR = 1;
export const KMSG_MINOR = 11;
/** LOG_USER */
const FACILITY_USER = 1;

/**
 * One record as read(2) on /dev/kmsg returns it:
 * "pri,seq,ts_usec,flags;text\n" then " KEY=value\n" per dictionary entry;
 * bytes < 0x20, >= 0x7f and '\\' escaped as \xNN.
 */
export function formatKmsgRecord(r: LogRecord): string {
  const pri = (r.facility << 3) | r.level;
  let out = `${pri},${r.seq},${Math.floor(r.tsNs / 1000)},${r.flags === 'c' ? 'c' : '-'};${escapeKmsg(r.text)}\n`;
  if (r.dict) {
    for (const key of ['SUBSYSTEM', 'DEVICE']) {
      const v = r.dict[key];
      if (v !== undefined) out += ` ${key}=${escapeKmsg(v)}\n`;
    }
  }
  return out;
}

/** All records, oldest first, as `cat /dev/kmsg` prints them (without blocking at the end). */
export function renderKmsg(records: readonly LogRecord[]): string {
  let out = '';
  for (const r of records) out += formatKmsgRecord(r);
  return out;
}

/** msg_add_ext_text(): escapes per byte of the UTF-8 encoding. */
export function escapeKmsg(s: string): string {
  let out = '';
  let plainFrom = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x5c) continue;
    out += s.slice(plainFrom, i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      out += hexBytes(s.slice(i, i + 2));
      i++;
    } else out += hexBytes(s[i]);
    plainFrom = i + 1;
  }
  return plainFrom === 0 ? s : out + s.slice(plainFrom);
}

function hexBytes(ch: string): string {
  return utf8Bytes(ch)
    .map((b) => '\\x' + b.toString(16).padStart(2, '0'))
    .join('');
}

/** UTF-8 encoding of a short string (no TextEncoder in the pure library). */
export function utf8Bytes(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return out;
}

/** kernel.printk_devkmsg: on, off or ratelimit (per open file: each write here is its own open). */
export type DevkmsgMode = 'on' | 'off' | 'ratelimit';

/**
 * devkmsg_write(): one write(2) of `data` is one record. A "<N>" prefix sets
 * level N & 7 and facility N >> 3; a missing prefix or a kernel facility (0)
 * gives LOG_USER; no prefix gives default_message_loglevel. Text stops at a
 * NUL, a trailing newline is dropped, embedded newlines stay in the record.
 * Returns the record, or undefined when logging from userspace is off.
 */
export function devkmsgWrite(pk: Printk, data: string, mode: DevkmsgMode = 'ratelimit', tsNs?: number): LogRecord | undefined {
  if (utf8Length(data) > LOG_LINE_MAX) throw new KernelError('EINVAL', 'record too long for /dev/kmsg');
  if (mode === 'off') return undefined;
  let line = data;
  const nul = line.indexOf('\0');
  if (nul >= 0) line = line.slice(0, nul);
  let level = pk.getConsoleLevels()[1];
  let facility = FACILITY_USER;
  const m = /^<(\d*)>/.exec(line);
  if (m) {
    // simple_strtoul() into an unsigned int
    const u = Number(BigInt(m[1] || '0') & 0xffffffffn);
    level = u & 7;
    const fac = Math.floor(u / 8);
    if (fac !== 0) facility = fac & 0xff;
    line = line.slice(m[0].length);
  }
  const opts = tsNs === undefined ? { facility, oneRecord: true } : { facility, oneRecord: true, tsNs };
  return pk.log(level, line, opts)[0];
}

/** Value of a sysctl owned elsewhere, or `dflt` while that knob is not modelled. */
function sysctlOr(k: Kernel, name: string, dflt: string): string {
  try {
    return k.sysctl.get(name);
  } catch {
    return dflt;
  }
}

/** check_syslog_permissions() for a reader: with kernel.dmesg_restrict (Debian: 1) only CAP_SYSLOG (root here). */
export function checkSyslogRead(k: Kernel, ctx: FsCtx): void {
  if (ctx.uid === 0) return;
  if (sysctlOr(k, 'kernel/dmesg_restrict', '1').trim() !== '0') throw new KernelError('EPERM');
}

/** The character device driver behind /dev/kmsg. */
export function kmsgDevice(k: Kernel): Pick<FileNode, 'read' | 'write'> {
  return {
    read: (ctx) => {
      checkSyslogRead(k, ctx);
      return renderKmsg(k.printk.records());
    },
    write: (_ctx, data) => {
      const mode = sysctlOr(k, 'kernel/printk_devkmsg', 'ratelimit').trim() as DevkmsgMode;
      devkmsgWrite(k.printk, data, mode);
    },
  };
}

/** Registers the /dev/kmsg driver (1:11) with the kernel's character device table. */
export function registerKmsgDevice(k: Kernel): void {
  k.chrdevs.set(`${KMSG_MAJOR}:${KMSG_MINOR}`, kmsgDevice(k));
}

/** devtmpfs's /dev/kmsg node: crw-r--r-- root root 1, 11. */
export function createKmsgNode(k: Kernel): void {
  const dev = k.memFs('devtmpfs');
  if (dev && !dev.root().lookup(k.rootCtx(0), 'kmsg')) dev.addDevice('kmsg', 'c', KMSG_MAJOR, KMSG_MINOR, 0o644);
}

/** Reverses escapeKmsg(): \xNN sequences are bytes of UTF-8 text. */
export function unescapeKmsg(s: string): string {
  if (!s.includes('\\x')) return s;
  let out = '';
  let bytes: number[] = [];
  const flush = (): void => {
    if (bytes.length) out += utf8Decode(bytes);
    bytes = [];
  };
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '\\' && s[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 2, i + 4))) {
      bytes.push(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
      continue;
    }
    flush();
    out += s[i];
  }
  flush();
  return out;
}

/** Decodes UTF-8 bytes; invalid sequences become U+FFFD. */
export function utf8Decode(b: readonly number[]): string {
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    let cp = 0xfffd;
    let need = 0;
    if (c < 0x80) cp = c;
    else if (c >= 0xc2 && c < 0xe0) [cp, need] = [c & 0x1f, 1];
    else if (c >= 0xe0 && c < 0xf0) [cp, need] = [c & 0x0f, 2];
    else if (c >= 0xf0 && c < 0xf5) [cp, need] = [c & 0x07, 3];
    let j = 0;
    for (; j < need && i + 1 + j < b.length && (b[i + 1 + j] & 0xc0) === 0x80; j++) cp = (cp << 6) | (b[i + 1 + j] & 0x3f);
    if (j < need) cp = 0xfffd;
    i += j;
    out += String.fromCodePoint(cp);
  }
  return out;
}

/**
 * Parses /dev/kmsg output (formatKmsgRecord's format) back into records;
 * lines that are not records or dictionary entries are skipped.
 */
export function parseKmsg(text: string): LogRecord[] {
  const out: LogRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith(' ')) {
      const last = out[out.length - 1];
      const eq = line.indexOf('=');
      if (last && eq > 1) (last.dict ??= {})[line.slice(1, eq)] = unescapeKmsg(line.slice(eq + 1));
      continue;
    }
    const m = /^(\d+),(\d+),(\d+),([^;]*);(.*)$/.exec(line);
    if (!m) continue;
    const pri = Number(m[1]);
    const r: LogRecord = { seq: Number(m[2]), tsNs: Number(m[3]) * 1000, level: pri & 7, facility: pri >> 3, text: unescapeKmsg(m[5]) };
    if (m[4].startsWith('c')) r.flags = 'c';
    out.push(r);
  }
  return out;
}
