import { KernelError } from '../errors';
import type { FsCtx } from '../fs/vnode';
import type { Kernel } from '../kernel';
import { checkSyslogRead, utf8Bytes } from './kmsg';
import { FACILITY_NAMES, LEVEL_NAMES, type LogRecord } from './printk';

/**
 * dmesg(1) of util-linux 2.38.1 (Debian 12) over the printk ring: argument
 * parsing with util-linux's messages, and every output format it has,
 * rendered from the records the way it prints what it reads from /dev/kmsg
 * (or, with -S, from the syslog(2) buffer).
 */

// ---------------------------------------------------------------- names

/** util-linux knows 12 facilities (kern..ftp) and 8 levels. */
const UL_FACILITIES = FACILITY_NAMES.slice(0, 12);
const UL_LEVELS = LEVEL_NAMES;
const FACILITY_HELP = [
  'kernel messages', 'random user-level messages', 'mail system', 'system daemons',
  'security/authorization messages', 'messages generated internally by syslogd', 'line printer subsystem',
  'network news subsystem', 'UUCP subsystem', 'clock daemon', 'security/authorization messages (private)', 'FTP daemon',
];
const LEVEL_HELP = [
  'system is unusable', 'action must be taken immediately', 'critical conditions', 'error conditions',
  'warning conditions', 'normal but significant condition', 'informational', 'debug-level messages',
];

export const DMESG_VERSION = 'dmesg from util-linux 2.38.1\n';

// ---------------------------------------------------------------- options

export type DmesgTimeFormat = 'time' | 'ctime' | 'notime' | 'delta' | 'reltime' | 'iso' | 'time-delta' | 'ctime-delta';
export type DmesgAction = 'read' | 'read-clear' | 'clear' | 'console-off' | 'console-on' | 'console-level' | 'help' | 'version';

export interface DmesgOptions {
  action: DmesgAction;
  /** -n: 1..8 */
  consoleLevel?: number;
  /** kmsg (default), syslog (-S: klogctl buffer) or file (-F) */
  method: 'kmsg' | 'syslog' | 'file';
  file?: string;
  time: DmesgTimeFormat;
  decode: boolean;
  raw: boolean;
  json: boolean;
  forcePrefix: boolean;
  noescape: boolean;
  /** -l / -f filters (undefined = no filter) */
  levels?: number[];
  facilities?: number[];
  /** -w / -W: keep reading; the caller subscribes and feeds new records to a DmesgPrinter */
  follow: boolean;
  /** -W: start at the end of the buffer */
  followNew: boolean;
  /** --since/--until, as given (resolved against the machine's clock when printing) */
  since?: string;
  until?: string;
}

export interface DmesgArgError {
  error: string;
  exitCode: number;
}

export function isDmesgArgError(v: DmesgOptions | DmesgArgError): v is DmesgArgError {
  return (v as DmesgArgError).error !== undefined;
}

export function defaultDmesgOptions(): DmesgOptions {
  return {
    action: 'read',
    method: 'kmsg',
    time: 'time',
    decode: false,
    raw: false,
    json: false,
    forcePrefix: false,
    noescape: false,
    follow: false,
    followNew: false,
  };
}

type HasArg = 0 | 1 | 2;
/** the longopts table, in util-linux's order (ambiguity messages list matches in this order) */
const LONGOPTS: readonly [string, HasArg, string][] = [
  ['buffer-size', 1, 's'],
  ['clear', 0, 'C'],
  ['color', 2, 'L'],
  ['console-level', 1, 'n'],
  ['console-off', 0, 'D'],
  ['console-on', 0, 'E'],
  ['decode', 0, 'x'],
  ['file', 1, 'F'],
  ['facility', 1, 'f'],
  ['follow', 0, 'w'],
  ['follow-new', 0, 'W'],
  ['human', 0, 'H'],
  ['help', 0, 'h'],
  ['json', 0, 'J'],
  ['kernel', 0, 'k'],
  ['level', 1, 'l'],
  ['since', 1, 'since'],
  ['syslog', 0, 'S'],
  ['raw', 0, 'r'],
  ['read-clear', 0, 'c'],
  ['reltime', 0, 'e'],
  ['show-delta', 0, 'd'],
  ['ctime', 0, 'T'],
  ['noescape', 0, 'noescape'],
  ['notime', 0, 't'],
  ['nopager', 0, 'P'],
  ['until', 1, 'until'],
  ['userspace', 0, 'u'],
  ['version', 0, 'V'],
  ['time-format', 1, 'time-format'],
  ['force-prefix', 0, 'p'],
];
const SHORTOPTS = 'CcDdEeF:f:HhJkL::l:n:iPprSs:TtuVWwx';
/** mutually exclusive groups (err_exclusive_options) */
const EXCL: readonly string[][] = [
  ['C', 'D', 'E', 'c', 'n', 'r'],
  ['H', 'r'],
  ['L', 'r'],
  ['S', 'w'],
  ['T', 'r'],
  ['d', 'r'],
  ['e', 'r'],
  ['r', 'x'],
  ['r', 't'],
];

const TRY_HELP = "Try 'dmesg --help' for more information.\n";

class ArgFail {
  constructor(readonly message: string) {}
}

const fail = (message: string): never => {
  throw new ArgFail(message);
};

/** parse_level(): LEVEL ::= number | name; `list` is set for -l items (0..7), unset for -n (1..8). */
function parseLevel(str: string, len: number, rest: string, forConsole: boolean): number {
  const offset = forConsole ? 1 : 0;
  const item = str.slice(0, len);
  if (/^[0-9]/.test(item)) {
    const m = /^[0-9]+/.exec(item) as RegExpExecArray;
    if (m[0].length === len) {
      if (BigInt(m[0]) > 9223372036854775807n) fail(`dmesg: failed to parse level '${rest}': Numerical result out of range\n`);
      const x = Number(m[0]) - offset;
      if (x >= 0 && x < UL_LEVELS.length) return x + offset;
    }
  } else {
    const i = UL_LEVELS.findIndex((n) => n.length === len && n.toLowerCase() === item.toLowerCase());
    if (i >= 0) return i + offset;
  }
  return fail(`dmesg: unknown level '${rest}'\n`);
}

function parseFacility(str: string, len: number, rest: string): number {
  const item = str.slice(0, len);
  if (/^[0-9]/.test(item)) {
    const m = /^[0-9]+/.exec(item) as RegExpExecArray;
    if (m[0].length === len) {
      if (BigInt(m[0]) > 9223372036854775807n) fail(`dmesg: failed to parse facility '${rest}': Numerical result out of range\n`);
      const x = Number(m[0]);
      if (x < UL_FACILITIES.length) return x;
    }
  } else {
    const i = UL_FACILITIES.findIndex((n) => n.length === len && n.toLowerCase() === item.toLowerCase());
    if (i >= 0) return i;
  }
  return fail(`dmesg: unknown facility '${rest}'\n`);
}

/** string_to_bitarray(): comma list; an empty item fails silently (exit 1, no message). */
function parseList(list: string, parse: (item: string, len: number, rest: string) => number, into: Set<number>): boolean {
  let begin = -1;
  for (let p = 0; p < list.length; p++) {
    if (begin < 0) begin = p;
    let end = -1;
    if (list[p] === ',') end = p;
    if (p + 1 === list.length) end = p + 1;
    if (end < 0) continue;
    if (end <= begin) return false;
    into.add(parse(list.slice(begin), end - begin, list.slice(begin)));
    begin = -1;
    if (end === list.length) break;
  }
  return true;
}

/**
 * dmesg's command line (argv without the program name), with getopt_long's
 * and util-linux's diagnostics. Returns the options, or the text dmesg
 * prints on stderr and its exit status.
 */
export function parseDmesgArgs(argv: readonly string[]): DmesgOptions | DmesgArgError {
  const o = defaultDmesgOptions();
  let delta = false;
  const exclState = EXCL.map(() => '');
  const levels = new Set<number>();
  const facilities = new Set<number>();
  const positional: string[] = [];
  const longName = (c: string): string | undefined => LONGOPTS.find((l) => l[2] === c)?.[0];

  const exclusive = (c: string): void => {
    EXCL.forEach((group, e) => {
      if (!group.includes(c)) return;
      if (!exclState[e]) exclState[e] = c;
      else if (exclState[e] !== c) {
        fail(`dmesg: mutually exclusive arguments:${group.map((g) => ` --${longName(g)}`).join('')}\n`);
      }
    });
  };

  const apply = (c: string, arg: string | undefined): void => {
    exclusive(c);
    switch (c) {
      case 'C':
        o.action = 'clear';
        break;
      case 'c':
        o.action = 'read-clear';
        break;
      case 'D':
        o.action = 'console-off';
        break;
      case 'd':
        delta = true;
        break;
      case 'E':
        o.action = 'console-on';
        break;
      case 'e':
        o.time = 'reltime';
        break;
      case 'F':
        o.file = arg;
        o.method = 'file';
        break;
      case 'f':
        o.facilities = [];
        if (!parseList(arg as string, (s, len, rest) => parseFacility(s, len, rest), facilities)) fail('');
        break;
      case 'H':
        o.time = 'reltime';
        break;
      case 'J':
        o.json = true;
        break;
      case 'k':
        o.facilities = [];
        facilities.add(0);
        break;
      case 'L':
        if (arg !== undefined && !['auto', 'never', 'always'].includes(arg)) fail(`dmesg: unsupported color mode: '${arg}'\n`);
        break;
      case 'l':
        o.levels = [];
        if (!parseList(arg as string, (s, len, rest) => parseLevel(s, len, rest, false), levels)) fail('');
        break;
      case 'n':
        o.action = 'console-level';
        o.consoleLevel = parseLevel(arg as string, (arg as string).length, arg as string, true);
        break;
      case 'P':
        break;
      case 'p':
        o.forcePrefix = true;
        break;
      case 'r':
        o.raw = true;
        break;
      case 'S':
        o.method = 'syslog';
        break;
      case 's':
        if (!/^\s*\+?[0-9]+$/.test(arg as string) || Number(arg) > 0xffffffff) fail(`dmesg: invalid buffer size argument: '${arg}'\n`);
        break;
      case 'T':
        o.time = 'ctime';
        break;
      case 't':
        o.time = 'notime';
        break;
      case 'u':
        o.facilities = [];
        for (let n = 1; n < UL_FACILITIES.length; n++) facilities.add(n);
        break;
      case 'w':
        o.follow = true;
        break;
      case 'W':
        o.follow = true;
        o.followNew = true;
        break;
      case 'x':
        o.decode = true;
        break;
      case 'time-format': {
        const map: Record<string, DmesgTimeFormat> = { notime: 'notime', ctime: 'ctime', delta: 'delta', reltime: 'reltime', iso: 'iso' };
        const f = map[arg as string];
        if (!f) fail(`dmesg: unknown time format: ${arg}\n`);
        o.time = f;
        break;
      }
      case 'noescape':
        o.noescape = true;
        break;
      case 'since':
      case 'until':
        if (parseTimestamp(arg as string, 0) === undefined) fail(`dmesg: invalid time value "${arg}"\n`);
        if (c === 'since') o.since = arg;
        else o.until = arg;
        break;
      case 'h':
        o.action = 'help';
        throw new ArgDone();
      case 'V':
        o.action = 'version';
        throw new ArgDone();
      default:
        fail(TRY_HELP);
    }
  };

  try {
    let i = 0;
    for (; i < argv.length; i++) {
      const a = argv[i];
      if (a === '--') {
        positional.push(...argv.slice(i + 1));
        break;
      }
      if (a.startsWith('--')) {
        const eq = a.indexOf('=');
        const name = a.slice(2, eq < 0 ? undefined : eq);
        const exact = LONGOPTS.find((l) => l[0] === name);
        const matches = exact ? [exact] : LONGOPTS.filter((l) => l[0].startsWith(name));
        if (matches.length === 0) fail(`dmesg: unrecognized option '${a}'\n${TRY_HELP}`);
        if (matches.length > 1) {
          const first = matches[0];
          if (matches.some((m) => m[1] !== first[1] || m[2] !== first[2])) {
            fail(`dmesg: option '${a}' is ambiguous; possibilities:${matches.map((m) => ` '--${m[0]}'`).join('')}\n${TRY_HELP}`);
          }
        }
        const [lname, has, c] = matches[0];
        let arg: string | undefined;
        if (eq >= 0) {
          if (has === 0) fail(`dmesg: option '--${lname}' doesn't allow an argument\n${TRY_HELP}`);
          arg = a.slice(eq + 1);
        } else if (has === 1) {
          if (i + 1 >= argv.length) fail(`dmesg: option '--${lname}' requires an argument\n${TRY_HELP}`);
          arg = argv[++i];
        }
        apply(c, arg);
        continue;
      }
      if (a.startsWith('-') && a.length > 1) {
        for (let j = 1; j < a.length; j++) {
          const c = a[j];
          const at = SHORTOPTS.indexOf(c);
          if (at < 0 || c === ':') fail(`dmesg: invalid option -- '${c}'\n${TRY_HELP}`);
          const has: HasArg = SHORTOPTS[at + 1] !== ':' ? 0 : SHORTOPTS[at + 2] === ':' ? 2 : 1;
          if (has === 0) {
            apply(c, undefined);
            continue;
          }
          let arg: string | undefined = a.slice(j + 1) || undefined;
          if (arg === undefined && has === 1) {
            if (i + 1 >= argv.length) fail(`dmesg: option requires an argument -- '${c}'\n${TRY_HELP}`);
            arg = argv[++i];
          }
          apply(c, arg);
          break;
        }
        continue;
      }
      positional.push(a);
    }
    if (positional.length) fail(`dmesg: bad usage\n${TRY_HELP}`);
  } catch (e) {
    if (e instanceof ArgFail) return { error: e.message, exitCode: 1 };
    if (!(e instanceof ArgDone)) throw e;
    return o;
  }

  if (o.levels) o.levels = [...levels].sort((a, b) => a - b);
  if (o.facilities) o.facilities = [...facilities].sort((a, b) => a - b);
  if (o.json) {
    o.time = 'time';
    delta = false;
    o.forcePrefix = false;
    o.raw = false;
    o.noescape = true;
  }
  if (delta) {
    if (o.time === 'ctime') o.time = 'ctime-delta';
    else if (o.time === 'time') o.time = 'time-delta';
    else if (o.time !== 'iso') o.time = 'delta';
  }
  return o;
}

class ArgDone {}

// ---------------------------------------------------------------- usage

export function dmesgUsage(): string {
  const opts = [
    ' -C, --clear                 clear the kernel ring buffer',
    ' -c, --read-clear            read and clear all messages',
    ' -D, --console-off           disable printing messages to console',
    ' -E, --console-on            enable printing messages to console',
    ' -F, --file <file>           use the file instead of the kernel log buffer',
    ' -f, --facility <list>       restrict output to defined facilities',
    ' -H, --human                 human readable output',
    ' -J, --json                  use JSON output format',
    ' -k, --kernel                display kernel messages',
    ' -L, --color[=<when>]        colorize messages (auto, always or never)',
    '                               colors are enabled by default',
    ' -l, --level <list>          restrict output to defined levels',
    ' -n, --console-level <level> set level of messages printed to console',
    ' -P, --nopager               do not pipe output into a pager',
    ' -p, --force-prefix          force timestamp output on each line of multi-line messages',
    ' -r, --raw                   print the raw message buffer',
    '     --noescape              don\'t escape unprintable character',
    ' -S, --syslog                force to use syslog(2) rather than /dev/kmsg',
    ' -s, --buffer-size <size>    buffer size to query the kernel ring buffer',
    ' -u, --userspace             display userspace messages',
    ' -w, --follow                wait for new messages',
    ' -W, --follow-new            wait and print only new messages',
    ' -x, --decode                decode facility and level to readable string',
    ' -d, --show-delta            show time delta between printed messages',
    ' -e, --reltime               show local time and time delta in readable format',
    ' -T, --ctime                 show human-readable timestamp (may be inaccurate!)',
    ' -t, --notime                don\'t show any timestamp with messages',
    '     --time-format <format>  show timestamp using the given format:',
    '                               [delta|reltime|ctime|notime|iso]',
    'Suspending/resume will make ctime and iso timestamps inaccurate.',
    '     --since <time>          display the lines since the specified time',
    '     --until <time>          display the lines until the specified time',
  ];
  let s = '\nUsage:\n dmesg [options]\n\nDisplay or control the kernel ring buffer.\n\nOptions:\n' + opts.join('\n') + '\n\n';
  s += ' -h, --help'.padEnd(29) + 'display this help\n';
  s += ' -V, --version'.padEnd(29) + 'display version\n';
  s += '\nSupported log facilities:\n';
  // util-linux loops over ARRAY_SIZE(level_names) here: only the first 8 facilities are listed
  for (let i = 0; i < UL_LEVELS.length; i++) s += ` ${UL_FACILITIES[i].padStart(7)} - ${FACILITY_HELP[i]}\n`;
  s += '\nSupported log levels (priorities):\n';
  for (let i = 0; i < UL_LEVELS.length; i++) s += ` ${UL_LEVELS[i].padStart(7)} - ${LEVEL_HELP[i]}\n`;
  s += '\nFor more details see dmesg(1).\n';
  return s;
}

// ---------------------------------------------------------------- timestamps (lib/timeutils parse_timestamp)

const USEC_PER_SEC = 1_000_000;
const SEC_UNITS: [string, number][] = [
  ['seconds', 1], ['second', 1], ['sec', 1], ['s', 1],
  ['minutes', 60], ['minute', 60], ['min', 60], ['months', 2629800], ['month', 2629800],
  ['msec', 0.001], ['ms', 0.001], ['m', 60],
  ['hours', 3600], ['hour', 3600], ['hr', 3600], ['h', 3600],
  ['days', 86400], ['day', 86400], ['d', 86400],
  ['weeks', 604800], ['week', 604800], ['w', 604800],
  ['years', 31557600], ['year', 31557600], ['y', 31557600],
  ['usec', 1e-6], ['us', 1e-6], ['', 1],
];

/** parse_sec(): "5min 3s" -> µs */
function parseSec(t: string): number | undefined {
  let p = t;
  let total = 0;
  let something = false;
  for (;;) {
    p = p.replace(/^[ \t\n\r]+/, '');
    if (!p) return something ? total : undefined;
    const m = /^([0-9]+)(?:\.([0-9]+))?/.exec(p);
    if (!m) return undefined;
    p = p.slice(m[0].length).replace(/^[ \t\n\r]+/, '');
    const unit = SEC_UNITS.find(([u]) => p.startsWith(u)) as [string, number];
    const usec = unit[1] * USEC_PER_SEC;
    let frac = 0;
    if (m[2]) frac = Math.floor((Number(m[2]) * usec) / 10 ** m[2].length);
    total += Number(m[1]) * usec + frac;
    p = p.slice(unit[0].length);
    something = true;
  }
}

/**
 * parse_timestamp() of util-linux 2.38 (UTC): now, today, yesterday,
 * tomorrow, +/-<span>, "<span> ago", [YY]YY-MM-DD[ T]HH:MM[:SS], HH:MM[:SS].
 * Returns µs since the epoch, or undefined when the text is invalid.
 */
export function parseTimestamp(t: string, nowUs: number): number | undefined {
  const dayStart = Math.floor(nowUs / (86400 * USEC_PER_SEC)) * 86400 * USEC_PER_SEC;
  if (t === 'now') return nowUs;
  if (t === 'today') return dayStart;
  if (t === 'yesterday') return dayStart - 86400 * USEC_PER_SEC;
  if (t === 'tomorrow') return dayStart + 86400 * USEC_PER_SEC;
  if (t.startsWith('+')) {
    const v = parseSec(t.slice(1));
    return v === undefined ? undefined : nowUs + v;
  }
  if (t.startsWith('-')) {
    const v = parseSec(t.slice(1));
    return v === undefined ? undefined : nowUs - v;
  }
  if (t.endsWith(' ago')) {
    const v = parseSec(t.slice(0, -4));
    return v === undefined ? undefined : nowUs - v;
  }
  const dt = /^([0-9]{2}|[0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?)?$/.exec(t);
  if (dt) {
    const year = dt[1].length === 2 ? (Number(dt[1]) < 69 ? 2000 : 1900) + Number(dt[1]) : Number(dt[1]);
    const [mo, d, h, mi, s] = [Number(dt[2]), Number(dt[3]), Number(dt[4] ?? 0), Number(dt[5] ?? 0), Number(dt[6] ?? 0)];
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 61) return undefined;
    return Date.UTC(year, mo - 1, d, h, mi, s) * 1000;
  }
  const tm = /^([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}))?$/.exec(t);
  if (tm) {
    const [h, mi, s] = [Number(tm[1]), Number(tm[2]), Number(tm[3] ?? 0)];
    if (h > 23 || mi > 59 || s > 61) return undefined;
    return dayStart + ((h * 60 + mi) * 60 + s) * USEC_PER_SEC;
  }
  return undefined;
}

// ---------------------------------------------------------------- records as dmesg sees them

/** A record as dmesg parsed it: facility -1 when unknown, time split like a struct timeval. */
export interface DmesgRecord {
  facility: number;
  level: number;
  sec: number;
  usec: number;
  text: string;
}

/** parse_kmsg_record() of a printk record (LOG_FAC/LOG_PRI of the /dev/kmsg "pri" field). */
export function fromLogRecord(r: LogRecord): DmesgRecord {
  const pri = (r.facility << 3) | r.level;
  let facility = (pri & 0x3f8) >> 3;
  if (facility > UL_FACILITIES.length) facility = -1;
  const us = Math.floor(r.tsNs / 1000);
  return { facility, level: pri & 7, sec: Math.floor(us / 1e6), usec: us % 1e6, text: r.text };
}

/** The syslog(2) SYSLOG_ACTION_READ_ALL buffer: one "<pri>[time] line" per line of every record. */
export function renderSyslogBuffer(records: readonly LogRecord[]): string {
  let out = '';
  for (const r of records) {
    const us = Math.floor(r.tsNs / 1000);
    const prefix = `<${(r.facility << 3) | r.level}>[${String(Math.floor(us / 1e6)).padStart(5)}.${String(us % 1e6).padStart(6, '0')}] `;
    for (const line of r.text.split('\n')) out += prefix + line + '\n';
  }
  return out;
}

/** get_next_syslog_record(): records of a syslog-format buffer ("\n<" starts a record). */
export function parseSyslogBuffer(buf: string, opts: Pick<DmesgOptions, 'time'>): DmesgRecord[] {
  const out: DmesgRecord[] = [];
  const chunks: string[] = [];
  let start = 0;
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === '\n' && buf[i + 1] === '<') {
      chunks.push(buf.slice(start, i));
      start = i + 1;
    }
  }
  if (start < buf.length) chunks.push(buf.slice(start));
  for (let c of chunks) {
    if (c.endsWith('\n')) c = c.slice(0, -1);
    if (!c) continue;
    const rec: DmesgRecord = { facility: -1, level: -1, sec: 0, usec: 0, text: '' };
    let p = c;
    if (p.startsWith('<')) {
      const m = /^<([+-]?[0-9]+)/.exec(p);
      if (m) {
        const num = Number(m[1]);
        rec.facility = (num & 0x3f8) >> 3;
        rec.level = num & 7;
        if (rec.facility > UL_FACILITIES.length) rec.facility = -1;
        p = p.slice(m[0].length + 1);
      } else {
        const gt = p.indexOf('>');
        p = gt < 0 ? '' : p.slice(gt + 1);
      }
    }
    if (p[0] === '[' && (p[1] === ' ' || /[0-9]/.test(p[1] ?? ''))) {
      const m = /^\[\s*([0-9]+)\.([0-9]+)\]/.exec(p);
      if (m && opts.time !== 'notime') {
        rec.sec = Number(m[1]);
        rec.usec = Number(m[2]);
        p = p.slice(m[0].length);
      } else {
        const rb = p.indexOf(']');
        if (rb >= 0) p = p.slice(rb + 1);
      }
      if (p[0] === ' ') p = p.slice(1);
    }
    rec.text = p;
    out.push(rec);
  }
  return out;
}

// ---------------------------------------------------------------- printing

export interface DmesgClock {
  /** wall time of boot, ms since the epoch (ctime, iso, reltime, --since) */
  bootEpochMs: number;
  /** wall time now, ms (resolves --since/--until "now", "-5min", ...) */
  nowMs?: number;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** strftime "%a %b %e %H:%M:%S %Y" in UTC */
function ctimeOf(sec: number): string {
  const d = new Date(sec * 1000);
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** printf("%12.06f") and friends */
function fixed(v: number, width: number, sign = false): string {
  const s = (sign && v >= 0 ? '+' : '') + v.toFixed(6);
  return s.padStart(width);
}

const tsField = (sec: number, usec: number): string => `${String(sec).padStart(5)}.${String(usec).padStart(6, '0')}`;

/**
 * Prints records the way print_record() does, keeping its state between
 * records (deltas, reltime breaks, the JSON writer), so a follow (-w)
 * stream can feed records one by one.
 */
export class DmesgPrinter {
  private lastSec = 0;
  private lastUsec = 0;
  private lastTm = { min: 0, hour: 0, yday: 0 };
  private jsonOpen = false;
  private afterFirst = false;
  private readonly levels?: Set<number>;
  private readonly facilities?: Set<number>;
  private readonly bootSec: number;
  private readonly sinceSec?: number;
  private readonly untilSec?: number;

  constructor(
    private readonly o: DmesgOptions,
    clock: DmesgClock,
  ) {
    if (o.levels) this.levels = new Set(o.levels);
    if (o.facilities) this.facilities = new Set(o.facilities);
    this.bootSec = Math.floor(clock.bootEpochMs / 1000);
    const nowUs = Math.floor((clock.nowMs ?? clock.bootEpochMs) * 1000);
    const at = (t?: string): number | undefined => {
      if (t === undefined) return undefined;
      const us = parseTimestamp(t, nowUs);
      return us === undefined ? undefined : Math.floor(us / USEC_PER_SEC);
    };
    this.sinceSec = at(o.since);
    this.untilSec = at(o.until);
  }

  /** accept_record() */
  accepts(r: DmesgRecord): boolean {
    if (this.levels && (r.facility < 0 || !this.levels.has(r.level))) return false;
    if (this.facilities && (r.facility < 0 || !this.facilities.has(r.facility))) return false;
    const t = this.bootSec + r.sec;
    if (this.sinceSec && this.sinceSec >= t) return false;
    if (this.untilSec && this.untilSec <= t) return false;
    return true;
  }

  private delta(r: DmesgRecord): number {
    let d = 0;
    if (this.lastSec || this.lastUsec) d = r.sec - this.lastSec + (r.usec - this.lastUsec) / 1e6;
    this.lastSec = r.sec;
    this.lastUsec = r.usec;
    return d;
  }

  /** The output for one record ('' when filtered out). */
  print(r: DmesgRecord): string {
    const o = this.o;
    if (!this.accepts(r)) return '';
    if (!r.text) return o.json ? '' : '\n';
    const valid = r.level >= 0 && r.level < 8 && r.facility >= 0 && r.facility < UL_FACILITIES.length;
    let out = '';
    const json: [string, string][] = [];
    let fp = '';
    let ts = '';
    if (o.raw) {
      // LOG_MAKEPRI() of glibc is (fac | pri), on the unshifted facility util-linux parsed
      ts = `<${r.facility | r.level}>[${tsField(r.sec, r.usec)}] `;
    } else {
      if (!o.json && o.decode && valid) fp = `${UL_FACILITIES[r.facility].padEnd(6)}:${UL_LEVELS[r.level].padEnd(6)}: `;
      switch (o.time) {
        case 'notime':
          break;
        case 'ctime':
          ts = `[${ctimeOf(this.bootSec + r.sec)}] `;
          break;
        case 'ctime-delta':
          ts = `[${ctimeOf(this.bootSec + r.sec)} <${fixed(this.delta(r), 12)}>] `;
          break;
        case 'delta':
          ts = `[<${fixed(this.delta(r), 12)}>] `;
          break;
        case 'reltime': {
          const d = new Date((this.bootSec + r.sec) * 1000);
          const cur = { min: d.getUTCMinutes(), hour: d.getUTCHours(), yday: Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) };
          const delta = this.delta(r);
          if (cur.min !== this.lastTm.min || cur.hour !== this.lastTm.hour || cur.yday !== this.lastTm.yday) {
            ts = `[${MONTHS[d.getUTCMonth()]}${String(d.getUTCDate()).padStart(2)} ${pad2(cur.hour)}:${pad2(cur.min)}] `;
          } else ts = delta < 10 ? `[  ${fixed(delta, 9, true)}] ` : `[ ${fixed(delta, 10, true)}] `;
          this.lastTm = cur;
          break;
        }
        case 'time':
          ts = o.json ? tsField(r.sec, r.usec) : `[${tsField(r.sec, r.usec)}] `;
          break;
        case 'time-delta':
          ts = `[${tsField(r.sec, r.usec)} <${fixed(this.delta(r), 12)}>] `;
          break;
        case 'iso': {
          const d = new Date((this.bootSec + r.sec) * 1000);
          ts = `${d.toISOString().slice(0, 19)},${String(r.usec).padStart(6, '0')}+00:00 `;
          break;
        }
      }
    }
    const indent = ts.length + fp.length;
    const lines = o.forcePrefix ? r.text.split('\n').filter((l) => l !== '') : [r.text];
    lines.forEach((line, i) => {
      if (i > 0) out += '\n';
      if (fp) out += fp;
      else if (o.json && valid) {
        if (o.decode) json.push(['fac', jsonString(UL_FACILITIES[r.facility])], ['pri', jsonString(UL_LEVELS[r.level])]);
        else json.push(['pri', String(r.facility | r.level)]);
      }
      if (ts) {
        if (o.json) json.push(['time', ts]);
        else out += o.time === 'reltime' && i > 0 ? '[  +0.000000] ' : ts;
      }
      if (o.json) json.push(['msg', jsonString(line)]);
      else out += o.noescape ? noescapeWrite(line, indent) : safeWrite(line, indent);
    });
    if (!o.json) return out + '\n';
    return this.jsonObject(json);
  }

  /** ul_jsonwrt: the root object and "dmesg" array open with the first record. */
  private jsonObject(fields: [string, string][]): string {
    let out = '';
    if (!this.jsonOpen) {
      out += '{\n   "dmesg": [\n';
      this.jsonOpen = true;
    }
    out += this.afterFirst ? ',' : '      ';
    out += '{\n';
    out += fields.map(([k, v]) => `         "${k}": ${v}`).join(',\n');
    out += '\n      }';
    this.afterFirst = true;
    return out;
  }

  /** What dmesg prints after the last record (closes the JSON document, if one was opened). */
  finish(): string {
    return this.jsonOpen ? '\n   ]\n}\n' : '';
  }
}

/** safe_fwrite(): unprintable characters as \xNN (of their UTF-8 bytes); after each inner newline, `indent` spaces. */
function safeWrite(s: string, indent: number): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0a) {
      out += i + 1 < s.length && indent ? '\n' + ' '.repeat(indent) : '\n';
      continue;
    }
    const space = c === 0x09 || c === 0x0b || c === 0x0c || c === 0x0d;
    const control = (c < 0x20 && !space) || (c >= 0x7f && c <= 0x9f);
    const lone = c >= 0xd800 && c <= 0xdfff && !(c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00);
    if (control || lone) {
      out += utf8Bytes(s[i])
        .map((b) => '\\x' + b.toString(16).padStart(2, '0'))
        .join('');
    } else out += s[i];
  }
  return out;
}

function noescapeWrite(s: string, indent: number): string {
  if (!indent || !s.includes('\n')) return s;
  return s.replace(/\n(?=[\s\S])/g, '\n' + ' '.repeat(indent));
}

/** fputs_quoted_json() */
export function jsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    const c = s.charCodeAt(i);
    if (ch === '"' || ch === '\\') out += '\\' + ch;
    else if (c >= 0x20) out += ch;
    else if (c === 8) out += '\\b';
    else if (c === 9) out += '\\t';
    else if (c === 10) out += '\\n';
    else if (c === 12) out += '\\f';
    else if (c === 13) out += '\\r';
    else out += '\\u00' + c.toString(16).padStart(2, '0');
  }
  return out + '"';
}

// ---------------------------------------------------------------- rendering and running

/** Renders `records` (LogRecords, all already visible) with `opts`; the whole stdout of one dmesg read. */
export function renderDmesg(records: readonly LogRecord[], opts: DmesgOptions, clock: DmesgClock): string {
  const p = new DmesgPrinter(opts, clock);
  if (opts.method === 'syslog') {
    const buf = renderSyslogBuffer(records);
    if (opts.raw) return rawPrint(buf);
    return printAll(p, parseSyslogBuffer(buf, opts));
  }
  return printAll(
    p,
    records.map((r) => fromLogRecord(r)),
  );
}

function printAll(p: DmesgPrinter, recs: DmesgRecord[]): string {
  let out = '';
  for (const r of recs) out += p.print(r);
  return out + p.finish();
}

/** raw_print(): the buffer as is (escaped), newline-terminated. */
function rawPrint(buf: string): string {
  if (!buf) return '';
  const s = safeWrite(buf, 0);
  return s.endsWith('\n') ? s : s + '\n';
}

export interface DmesgResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/**
 * Runs `dmesg` with parsed options on machine `k` as the task `ctx` (root by
 * default). -c/-C clear the buffer and -n/-D/-E change the console level:
 * callers that journal operations should route those through their ops.
 */
export function runDmesg(k: Kernel, opts: DmesgOptions, ctx: FsCtx = k.rootCtx()): DmesgResult {
  const ok = (stdout: string): DmesgResult => ({ stdout, stderr: '', exitCode: 0 });
  const err = (stderr: string, stdout = ''): DmesgResult => ({ stdout, stderr, exitCode: 1 });
  const strerr = (e: unknown): string => (e instanceof KernelError ? e.message : String(e));
  const privileged = ctx.uid === 0;
  switch (opts.action) {
    case 'help':
      return ok(dmesgUsage());
    case 'version':
      return ok(DMESG_VERSION);
    case 'read':
    case 'read-clear': {
      let stdout: string;
      const clock = { bootEpochMs: k.bootEpochMs, nowMs: k.bootEpochMs + k.now / 1e6 };
      if (opts.method === 'file') {
        let buf: string;
        try {
          buf = k.vfs.readFile(ctx, opts.file as string);
        } catch (e) {
          return err(`dmesg: cannot open ${opts.file}: ${strerr(e)}\n`);
        }
        if (opts.raw) stdout = rawPrint(buf);
        else stdout = printAll(new DmesgPrinter(opts, clock), parseSyslogBuffer(buf, opts));
      } else {
        try {
          checkSyslogRead(k, ctx);
        } catch (e) {
          return err(`dmesg: read kernel buffer failed: ${strerr(e)}\n`);
        }
        if (opts.raw && opts.method !== 'kmsg' && (opts.levels || opts.facilities)) {
          return err('dmesg: --raw can be used together with --level or --facility only when reading messages from /dev/kmsg\n');
        }
        const o = opts.method === 'kmsg' ? opts : { ...opts, forcePrefix: false };
        stdout = opts.followNew ? '' : renderDmesg(k.printk.visible(), o, clock);
      }
      if (opts.action === 'read-clear') {
        if (!privileged) return err(`dmesg: clear kernel buffer failed: ${new KernelError('EPERM').message}\n`, stdout);
        k.printk.clear();
      }
      return ok(stdout);
    }
    case 'clear':
      if (!privileged) return err(`dmesg: clear kernel buffer failed: ${new KernelError('EPERM').message}\n`);
      k.printk.clear();
      return ok('');
    case 'console-off':
    case 'console-on':
    case 'console-level':
      if (!privileged) return err(`dmesg: klogctl failed: ${new KernelError('EPERM').message}\n`);
      if (opts.action === 'console-off') k.printk.consoleOff();
      else if (opts.action === 'console-on') k.printk.consoleOn();
      else k.printk.setConsoleLoglevel(opts.consoleLevel as number);
      return ok('');
  }
}

/**
 * `dmesg -w` / `-W`: prints the visible records (none with -W) through
 * `out`, then every new record as it is logged, until the returned function
 * is called. (-w output never ends, so a JSON document stays open.)
 */
export function followDmesg(k: Kernel, opts: DmesgOptions, out: (text: string) => void): () => void {
  const p = new DmesgPrinter(opts, { bootEpochMs: k.bootEpochMs, nowMs: k.bootEpochMs + k.now / 1e6 });
  if (!opts.followNew) {
    const backlog = k.printk
      .visible()
      .map((r) => p.print(fromLogRecord(r)))
      .join('');
    if (backlog) out(backlog);
  }
  return k.printk.events.on('record', (r) => {
    const text = p.print(fromLogRecord(r));
    if (text) out(text);
  });
}

/** parseDmesgArgs + runDmesg: the whole command. */
export function dmesgCommand(k: Kernel, argv: readonly string[], ctx: FsCtx = k.rootCtx()): DmesgResult & { options?: DmesgOptions } {
  const o = parseDmesgArgs(argv);
  if (isDmesgArgError(o)) return { stdout: '', stderr: o.error, exitCode: o.exitCode };
  return { ...runDmesg(k, o, ctx), options: o };
}

// ---------------------------------------------------------------- REST records

/** A record as the REST API and the WebSocket stream serve it. */
export interface DmesgJsonRecord {
  seq: number;
  timeNs: number;
  /** seconds since boot, to the microsecond (what dmesg prints) */
  time: number;
  level: number;
  levelName: (typeof LEVEL_NAMES)[number];
  facility: number;
  facilityName: string;
  text: string;
  dict?: Record<string, string>;
}

export function toDmesgJsonRecord(r: LogRecord): DmesgJsonRecord {
  const out: DmesgJsonRecord = {
    seq: r.seq,
    timeNs: r.tsNs,
    time: Math.floor(r.tsNs / 1000) / 1e6,
    level: r.level,
    levelName: LEVEL_NAMES[r.level],
    facility: r.facility,
    facilityName: FACILITY_NAMES[r.facility] ?? String(r.facility),
    text: r.text,
  };
  if (r.dict) out.dict = { ...r.dict };
  return out;
}
