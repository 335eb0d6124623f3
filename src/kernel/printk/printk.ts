import { Emitter } from '../util/emitter';

/** One printk record, as the kernel's printk_ringbuffer keeps it. */
export interface LogRecord {
  seq: number;
  /** nanoseconds since boot (local_clock) */
  tsNs: number;
  /** 0 (emerg) .. 7 (debug) */
  level: number;
  /** 0 kern, 1 user, ... (syslog facility) */
  facility: number;
  text: string;
  /** SUBSYSTEM=/DEVICE= dictionary */
  dict?: Record<string, string>;
  /** caller id, e.g. "T123" or "C0" (not printed by default) */
  caller?: string;
  /** continuation flag "c" / "+" / "-" as /dev/kmsg prints it */
  flags?: string;
}

export interface PrintkState {
  records: LogRecord[];
  nextSeq: number;
  bytes: number;
  /** seq of the first record `dmesg -c`/SYSLOG_ACTION_CLEAR left visible */
  clearSeq: number;
}

export interface PrintkEvents {
  record: LogRecord;
}

/** CONFIG_LOG_BUF_SHIFT=17 on Debian amd64: a 128 KiB log buffer. */
export const LOG_BUF_LEN = 1 << 17;
/** Per-record overhead the kernel's ringbuffer spends on descriptors (approx). */
const RECORD_OVERHEAD = 32;

export const LEVEL_NAMES = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'] as const;
export const FACILITY_NAMES = [
  'kern', 'user', 'mail', 'daemon', 'auth', 'syslog', 'lpr', 'news',
  'uucp', 'cron', 'authpriv', 'ftp', 'res0', 'res1', 'res2', 'res3',
  'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
] as const;

/**
 * The printk ring buffer: bounded by bytes, overwriting the oldest records,
 * with monotonically increasing sequence numbers (what `dmesg -w` resumes by).
 */
export class Printk {
  private s: PrintkState = { records: [], nextSeq: 0, bytes: 0, clearSeq: 0 };
  readonly events = new Emitter<PrintkEvents>();

  constructor(
    private readonly now: () => number,
    private readonly capacity = LOG_BUF_LEN,
  ) {}

  /**
   * printk(): `text` may start with a KERN_<LEVEL> prefix ("<3>") or have one
   * given in `level`. Multi-line text becomes one record per line like the
   * kernel's vprintk_store does for "\n"-separated messages.
   */
  log(level: number, text: string, opts: { facility?: number; dict?: Record<string, string>; caller?: string; tsNs?: number } = {}): LogRecord[] {
    const out: LogRecord[] = [];
    const lines = text.replace(/\n$/, '').split('\n');
    for (const line of lines) {
      const rec: LogRecord = {
        seq: this.s.nextSeq++,
        tsNs: opts.tsNs ?? this.now(),
        level: clampLevel(level),
        facility: opts.facility ?? 0,
        text: line,
      };
      if (opts.dict) rec.dict = { ...opts.dict };
      if (opts.caller) rec.caller = opts.caller;
      this.push(rec);
      out.push(rec);
    }
    return out;
  }

  /** Convenience: printk with a "<N>" prefix parsed from the text (default level 4, like the kernel's default_message_loglevel). */
  printk(text: string, defaultLevel = 4): LogRecord[] {
    const m = /^<([0-7])>/.exec(text);
    if (m) return this.log(Number(m[1]), text.slice(m[0].length));
    return this.log(defaultLevel, text);
  }

  private push(rec: LogRecord): void {
    const size = recordSize(rec);
    this.s.records.push(rec);
    this.s.bytes += size;
    while (this.s.bytes > this.capacity && this.s.records.length > 1) {
      const old = this.s.records.shift() as LogRecord;
      this.s.bytes -= recordSize(old);
    }
    this.events.emit('record', rec);
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

  /** SYSLOG_ACTION_CLEAR (dmesg -C / the clear part of dmesg -c). */
  clear(): void {
    this.s.clearSeq = this.s.nextSeq;
  }

  getState(): PrintkState {
    return {
      records: this.s.records.map((r) => ({ ...r, dict: r.dict ? { ...r.dict } : undefined })),
      nextSeq: this.s.nextSeq,
      bytes: this.s.bytes,
      clearSeq: this.s.clearSeq,
    };
  }

  setState(s: PrintkState): void {
    this.s = {
      records: s.records.map((r) => {
        const c: LogRecord = { ...r };
        if (!r.dict) delete c.dict;
        return c;
      }),
      nextSeq: s.nextSeq,
      bytes: s.bytes,
      clearSeq: s.clearSeq,
    };
  }
}

function clampLevel(l: number): number {
  return Math.max(0, Math.min(7, Math.trunc(l)));
}

function recordSize(r: LogRecord): number {
  let n = RECORD_OVERHEAD + r.text.length;
  if (r.dict) for (const [k, v] of Object.entries(r.dict)) n += k.length + v.length + 2;
  return n;
}
