import { KernelError } from '../errors';
import { Emitter } from '../util/emitter';
import { printkTime } from '../util/format';

/** One printk record, as the kernel's printk_ringbuffer keeps it. */
export interface LogRecord {
  seq: number;
  /** nanoseconds since boot (local_clock) */
  tsNs: number;
  /** 0 (emerg) .. 7 (debug) */
  level: number;
  /** 0 kern, 1 user, ... (syslog facility) */
  facility: number;
  /** may contain '\n' when one printk() call carried several lines */
  text: string;
  /** SUBSYSTEM=/DEVICE= dictionary (dev_printk) */
  dict?: Record<string, string>;
  /** caller id, e.g. "T123" or "C0" (CONFIG_PRINTK_CALLER is off on Debian: never printed) */
  caller?: string;
  /** "c" for a LOG_CONT record (what /dev/kmsg prints in its flags field); absent = "-" */
  flags?: string;
}

/** kernel.printk: console_loglevel, default_message_loglevel, minimum_console_loglevel, default_console_loglevel. */
export type ConsoleLevels = [number, number, number, number];

export interface PrintkState {
  records: LogRecord[];
  nextSeq: number;
  bytes: number;
  /** seq of the first record `dmesg -c`/SYSLOG_ACTION_CLEAR left visible */
  clearSeq: number;
  consoleLevels: ConsoleLevels;
  /** saved_console_loglevel of SYSLOG_ACTION_CONSOLE_OFF/ON; -1 = LOGLEVEL_DEFAULT (nothing saved) */
  savedConsoleLevel: number;
  /** the serial console's last lines, [tsNs, line] (rendered "[    0.000000] line" on read) */
  console: [number, string][];
}

export interface PrintkEvents {
  record: LogRecord;
  /** one line written to the serial console (ttyS0), without the CR LF */
  console: string;
}

export interface LogOptions {
  facility?: number;
  dict?: Record<string, string>;
  caller?: string;
  /** timestamp of the record; default: the kernel clock now */
  tsNs?: number;
  /**
   * Keep embedded newlines in one record, as a single printk("a\nb") does
   * (dmesg then indents the continuation lines). Default: one record per line,
   * as consecutive printk() calls would give.
   */
  oneRecord?: boolean;
  /** mark the record LOG_CONT ("c" in /dev/kmsg) */
  cont?: boolean;
}

/** CONFIG_LOG_BUF_SHIFT=17 on Debian amd64: a 128 KiB text data ring. */
export const LOG_BUF_LEN = 1 << 17;
/** printk_ringbuffer: 2^(LOG_BUF_SHIFT - PRB_AVGBITS) descriptors, PRB_AVGBITS = 5. */
export const LOG_BUF_RECORDS = LOG_BUF_LEN >> 5;
/** LOG_LINE_MAX = CONSOLE_LOG_MAX (1024) - PREFIX_MAX (32 without CONFIG_PRINTK_CALLER): longest stored text, bytes. */
export const LOG_LINE_MAX = 1024 - 32;
/** Lines of serial console output kept (for panic texts and the console view). */
export const CONSOLE_TAIL_MAX = 200;
/** CONFIG_CONSOLE_LOGLEVEL_DEFAULT=7, CONFIG_MESSAGE_LOGLEVEL_DEFAULT=4 (reference: "7\t4\t1\t7"). */
export const DEFAULT_CONSOLE_LEVELS: Readonly<ConsoleLevels> = [7, 4, 1, 7];
/** LOGLEVEL_DEFAULT */
const LOGLEVEL_DEFAULT = -1;

export const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'] as const;
export const FACILITY_NAMES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news',
  'uucp', 'cron', 'authpriv', 'ftp', 'res0', 'res1', 'res2', 'res3',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;

/**
 * The printk ring buffer: bounded like the kernel's printk_ringbuffer (text
 * bytes and descriptor count), overwriting the oldest records, with
 * monotonically increasing sequence numbers (what `dmesg -w` resumes by).
 * Also the console side of printk: kernel.printk levels and the serial
 * console, which shows every record below console_loglevel.
 */
export class Printk {
  private s: PrintkState = emptyState();
  readonly events = new Emitter<PrintkEvents>();
  private readonly maxRecords: number;

  constructor(
    private readonly now: () => number,
    private readonly capacity = LOG_BUF_LEN,
  ) {
    this.maxRecords = Math.max(1, capacity >> 5);
  }

  /**
   * printk() at `level` (0..7). Multi-line text becomes one record per line
   * unless `oneRecord`; a single trailing newline is dropped like
   * vprintk_store does.
   */
  log(level: number, text: string, opts: LogOptions = {}): LogRecord[] {
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    const lines = opts.oneRecord ? [body] : body.split('\n');
    const out: LogRecord[] = [];
    for (const line of lines) out.push(this.store(level, line, opts));
    return out;
  }

  /**
   * printk() with the level taken from a "<N>" (or KERN_SOH "\x01N") prefix,
   * else default_message_loglevel (or `defaultLevel` when given).
   */
  printk(text: string, defaultLevel?: number): LogRecord[] {
    const dflt = defaultLevel ?? this.s.consoleLevels[1];
    const lvl = text.charCodeAt(1) - 0x30;
    if (lvl >= 0 && lvl <= 7) {
      if (text[0] === '<' && text[2] === '>') return this.log(lvl, text.slice(3));
      if (text.charCodeAt(0) === 1) return this.log(lvl, text.slice(2)); // KERN_SOH "N"
    }
    return this.log(dflt, text);
  }

  private store(level: number, text: string, opts: LogOptions): LogRecord {
    const rec: LogRecord = {
      seq: this.s.nextSeq++,
      tsNs: opts.tsNs ?? this.now(),
      level: clampLevel(level),
      facility: opts.facility === undefined ? 0 : opts.facility & 0xff,
      text: truncateBytes(text, LOG_LINE_MAX),
    };
    if (opts.dict) rec.dict = { ...opts.dict };
    if (opts.caller) rec.caller = opts.caller;
    if (opts.cont) rec.flags = 'c';
    this.push(rec);
    return rec;
  }

  private push(rec: LogRecord): void {
    const s = this.s;
    s.records.push(rec);
    s.bytes += recordSize(rec);
    // drop the oldest records while the text ring or the descriptor ring overflows
    let drop = 0;
    while (s.records.length - drop > 1 && (s.bytes > this.capacity || s.records.length - drop > this.maxRecords)) {
      s.bytes -= recordSize(s.records[drop]);
      drop++;
    }
    if (drop) s.records.splice(0, drop);
    if (rec.level < s.consoleLevels[0]) this.toConsole(rec);
    this.events.emit('record', rec);
  }

  /** call_console_drivers(): every line of the record, each with the record's timestamp. */
  private toConsole(rec: LogRecord): void {
    const tail = this.s.console;
    const lines = rec.text.includes('\n') ? rec.text.split('\n') : [rec.text];
    const listening = this.events.listenerCount('console') > 0;
    for (const line of lines) {
      tail.push([rec.tsNs, line]);
      if (listening) this.events.emit('console', consoleLine(rec.tsNs, line));
    }
    // trimmed in batches: consoleTail() and getState() only ever show the last CONSOLE_TAIL_MAX
    if (tail.length > 2 * CONSOLE_TAIL_MAX) tail.splice(0, tail.length - CONSOLE_TAIL_MAX);
  }

  /** All records still in the buffer, oldest first. */
  records(): readonly LogRecord[] {
    return this.s.records;
  }

  /** Records with seq >= fromSeq (what a reader resuming at fromSeq gets). */
  since(fromSeq: number): LogRecord[] {
    const r = this.s.records;
    if (r.length === 0 || fromSeq > r[r.length - 1].seq) return [];
    const first = r[0].seq;
    const start = Math.max(0, fromSeq - first);
    return r.slice(start);
  }

  /** Records visible to `dmesg` (after the last clear). */
  visible(): LogRecord[] {
    return this.since(this.s.clearSeq);
  }

  get firstSeq(): number {
    return this.s.records.length ? this.s.records[0].seq : this.s.nextSeq;
  }

  get nextSeq(): number {
    return this.s.nextSeq;
  }

  get clearSeq(): number {
    return this.s.clearSeq;
  }

  /** Bytes of the text data ring in use (records' text blocks). */
  get usedBytes(): number {
    return this.s.bytes;
  }

  /** SYSLOG_ACTION_CLEAR (dmesg -C / the clear part of dmesg -c). */
  clear(): void {
    this.s.clearSeq = this.s.nextSeq;
  }

  // ---------------------------------------------------------------- console

  /** The four values of /proc/sys/kernel/printk. */
  getConsoleLevels(): ConsoleLevels {
    return [...this.s.consoleLevels] as ConsoleLevels;
  }

  /**
   * Writes /proc/sys/kernel/printk (proc_dointvec: 1 to 4 integers, the
   * first ones given replace the first values; no range check, like Linux).
   */
  setConsoleLevels(v: readonly number[]): void {
    if (v.length < 1) throw new KernelError('EINVAL', 'kernel.printk needs at least one value');
    const next = this.getConsoleLevels();
    for (let i = 0; i < Math.min(4, v.length); i++) {
      const n = v[i];
      if (!Number.isSafeInteger(n) || n < -0x80000000 || n > 0x7fffffff) throw new KernelError('EINVAL', 'kernel.printk values are ints');
      next[i] = n;
    }
    this.s.consoleLevels = next;
  }

  /** console_loglevel: records with a lower level reach the console. */
  get consoleLoglevel(): number {
    return this.s.consoleLevels[0];
  }

  /** SYSLOG_ACTION_CONSOLE_LEVEL (dmesg -n): 1..8, raised to minimum_console_loglevel. */
  setConsoleLoglevel(level: number): void {
    if (!Number.isInteger(level) || level < 1 || level > 8) throw new KernelError('EINVAL', 'console level must be 1..8');
    const min = this.s.consoleLevels[2];
    this.s.consoleLevels[0] = level < min ? min : level;
    this.s.savedConsoleLevel = LOGLEVEL_DEFAULT;
  }

  /** SYSLOG_ACTION_CONSOLE_OFF (dmesg -D). */
  consoleOff(): void {
    if (this.s.savedConsoleLevel === LOGLEVEL_DEFAULT) this.s.savedConsoleLevel = this.s.consoleLevels[0];
    this.s.consoleLevels[0] = this.s.consoleLevels[2];
  }

  /** SYSLOG_ACTION_CONSOLE_ON (dmesg -E). */
  consoleOn(): void {
    if (this.s.savedConsoleLevel !== LOGLEVEL_DEFAULT) {
      this.s.consoleLevels[0] = this.s.savedConsoleLevel;
      this.s.savedConsoleLevel = LOGLEVEL_DEFAULT;
    }
  }

  /** The last `n` (default all kept, at most CONSOLE_TAIL_MAX) serial console lines, "[    0.000000] text". */
  consoleTail(n = CONSOLE_TAIL_MAX): string[] {
    const t = this.s.console;
    const from = Math.max(0, t.length - Math.max(0, n));
    const out: string[] = [];
    for (let i = from; i < t.length; i++) out.push(consoleLine(t[i][0], t[i][1]));
    return out;
  }

  // ---------------------------------------------------------------- state

  getState(): PrintkState {
    const s = this.s;
    return {
      records: s.records.map(copyRecord),
      nextSeq: s.nextSeq,
      bytes: s.bytes,
      clearSeq: s.clearSeq,
      consoleLevels: [...s.consoleLevels] as ConsoleLevels,
      savedConsoleLevel: s.savedConsoleLevel,
      console: s.console.slice(-CONSOLE_TAIL_MAX).map(([t, l]) => [t, l] as [number, string]),
    };
  }

  setState(s: PrintkState): void {
    const d = emptyState();
    this.s = {
      records: s.records.map(copyRecord),
      nextSeq: s.nextSeq,
      bytes: s.bytes,
      clearSeq: s.clearSeq,
      consoleLevels: s.consoleLevels ? ([...s.consoleLevels] as ConsoleLevels) : d.consoleLevels,
      savedConsoleLevel: s.savedConsoleLevel ?? d.savedConsoleLevel,
      console: (s.console ?? []).map(([t, l]) => [t, l] as [number, string]),
    };
  }
}

function emptyState(): PrintkState {
  return {
    records: [],
    nextSeq: 0,
    bytes: 0,
    clearSeq: 0,
    consoleLevels: [...DEFAULT_CONSOLE_LEVELS] as ConsoleLevels,
    savedConsoleLevel: LOGLEVEL_DEFAULT,
    console: [],
  };
}

function copyRecord(r: LogRecord): LogRecord {
  const c: LogRecord = { seq: r.seq, tsNs: r.tsNs, level: r.level, facility: r.facility, text: r.text };
  if (r.dict) c.dict = { ...r.dict };
  if (r.caller) c.caller = r.caller;
  if (r.flags) c.flags = r.flags;
  return c;
}

/** "[    0.000000] text", what the 8250 console prints for each line (before its CR LF). */
export function consoleLine(tsNs: number, line: string): string {
  return `[${printkTime(tsNs)}] ${line}`;
}

function clampLevel(l: number): number {
  return Math.max(0, Math.min(7, Math.trunc(l)));
}

const NON_ASCII = /[\u0080-\uffff]/;

/** UTF-8 length of a string, in bytes. */
export function utf8Length(s: string): number {
  if (!NON_ASCII.test(s)) return s.length;
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 2; // a surrogate pair: 4 bytes for 2 UTF-16 units
      i++;
    } else n += 2;
  }
  return n;
}

/** Cuts `s` to at most `max` UTF-8 bytes, on a character boundary. */
function truncateBytes(s: string, max: number): string {
  if (s.length <= max && (s.length * 3 <= max || utf8Length(s) <= max)) return s;
  let bytes = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length;
    const w = c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
    if (bytes + w > max) break;
    bytes += w;
    if (pair) i++;
  }
  return s.slice(0, i);
}

/** Text data ring block: the block id (8 bytes) + the text, aligned to 8. */
function recordSize(r: LogRecord): number {
  return (8 + utf8Length(r.text) + 7) & ~7;
}
