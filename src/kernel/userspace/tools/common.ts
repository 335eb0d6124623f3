import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import type { StatInfo } from '../../shell/host';
import type { ToolCtx } from '../types';
import { CLASSES } from '../../shell/pattern';

/** Helpers shared by the tools: option parsing, messages, inputs. */

export function prog(ctx: ToolCtx): string {
  const a = ctx.argv[0] ?? '';
  const i = a.lastIndexOf('/');
  return i >= 0 ? a.slice(i + 1) : a;
}

export function write(ctx: ToolCtx, s: string): void {
  ctx.stdout.write(s);
}

/** "prog: msg\n" on stderr */
export function warn(ctx: ToolCtx, msg: string): void {
  ctx.stderr.write(`${prog(ctx)}: ${msg}\n`);
}

export function errText(e: unknown): string {
  if (e instanceof KernelError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

/** GNU's quoting of a file name in messages (C locale): 'name' */
export function q(s: string): string {
  if (/^[A-Za-z0-9_./@%+=:,-]+$/.test(s) && s !== '') return `'${s}'`;
  if (!s.includes("'")) return `'${s}'`;
  return `"${s}"`;
}

export interface OptSpec {
  /** short options; a trailing ':' takes an argument ("n:") */
  short: string;
  /** long name -> short key (or its own key); `=` suffix on the name takes an argument */
  long?: Record<string, string>;
  /** exit status on a usage error (1 for most tools, 2 for ls, grep...) */
  usageStatus?: number;
  /** GNU argument permutation: options after operands (default true) */
  permute?: boolean;
  /** options like -5 (head, tail) map to this key with the number */
  numericKey?: string;
}

export interface Parsed {
  opts: [string, string][];
  operands: string[];
}

export class UsageError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export function has(p: Parsed, key: string): boolean {
  return p.opts.some(([k]) => k === key);
}

export function last(p: Parsed, key: string): string | undefined {
  for (let i = p.opts.length - 1; i >= 0; i--) if (p.opts[i][0] === key) return p.opts[i][1];
  return undefined;
}

export function all(p: Parsed, key: string): string[] {
  return p.opts.filter(([k]) => k === key).map(([, v]) => v);
}

/** getopt_long, GNU style. Throws UsageError with coreutils' message. */
export function parseArgs(ctx: ToolCtx, spec: OptSpec, args = ctx.argv.slice(1)): Parsed {
  const status = spec.usageStatus ?? 1;
  const takes = (c: string): boolean | undefined => {
    const i = spec.short.indexOf(c);
    if (i < 0 || c === ':') return undefined;
    return spec.short[i + 1] === ':';
  };
  const out: Parsed = { opts: [], operands: [] };
  const tryHelp = `Try '${prog(ctx)} --help' for more information.`;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      out.operands.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const longs = spec.long ?? {};
      let keys = Object.keys(longs).filter((k) => k.replace(/=$/, '') === name);
      if (keys.length === 0) keys = Object.keys(longs).filter((k) => k.startsWith(name));
      const uniq = [...new Set(keys.map((k) => longs[k]))];
      if (keys.length === 0) throw new UsageError(`${prog(ctx)}: unrecognized option '${a}'\n${tryHelp}`, status);
      if (uniq.length > 1) throw new UsageError(`${prog(ctx)}: option '${a}' is ambiguous\n${tryHelp}`, status);
      const k = keys.find((x) => x.endsWith('=') === eq >= 0) ?? keys[0];
      const wantsArg = k.endsWith('=');
      if (wantsArg) {
        let v: string | undefined;
        if (eq >= 0) v = a.slice(eq + 1);
        else v = args[++i];
        if (v === undefined) throw new UsageError(`${prog(ctx)}: option '--${k.replace(/=$/, '')}' requires an argument\n${tryHelp}`, status);
        out.opts.push([longs[k], v]);
      } else {
        if (eq >= 0) throw new UsageError(`${prog(ctx)}: option '--${k}' doesn't allow an argument\n${tryHelp}`, status);
        out.opts.push([longs[k], '']);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      if (spec.numericKey && /^-\d+$/.test(a)) {
        out.opts.push([spec.numericKey, a.slice(1)]);
        continue;
      }
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        const t = takes(c);
        if (t === undefined) throw new UsageError(`${prog(ctx)}: invalid option -- '${c}'\n${tryHelp}`, status);
        if (t) {
          let v = a.slice(j + 1);
          if (v === '') {
            const n = args[++i];
            if (n === undefined) throw new UsageError(`${prog(ctx)}: option requires an argument -- '${c}'\n${tryHelp}`, status);
            v = n;
          }
          out.opts.push([c, v]);
          break;
        }
        out.opts.push([c, '']);
      }
      continue;
    }
    if (spec.permute === false) {
      out.operands.push(...args.slice(i));
      break;
    }
    out.operands.push(a);
  }
  return out;
}

/** Runs a tool body, turning UsageError into its message and status. */
export function withUsage(ctx: ToolCtx, body: () => number): number {
  try {
    return body();
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.stderr.write(e.message + '\n');
      return e.status;
    }
    throw e;
  }
}

/**
 * Reads an input operand ("-" = stdin). On failure prints
 * "prog: name: error" and returns null.
 */
/** what a tool reading a whole input gets from an endless device (head -c 32 /dev/urandom) */
export const ENDLESS_READ = 1024 * 1024;

export function readInput(ctx: ToolCtx, name: string): string | null {
  if (name === '-') return ctx.stdin.readAll();
  try {
    let st;
    try {
      st = ctx.host.stat(ctx.pid, name, ctx.cwd);
    } catch (e) {
      // the tool opens the file (and fails there, as openat) before it looks at it
      if (e instanceof KernelError) ctx.host.readFile(ctx.pid, name, ctx.cwd);
      throw e;
    }
    if (st.type === 'dir') throw new KernelError('EISDIR');
    const endless = endlessOf(ctx, st);
    if (endless) {
      let data = '';
      while (data.length < ENDLESS_READ) {
        ctx.tick(16);
        data += endless();
      }
      return data;
    }
    const data = ctx.host.readFile(ctx.pid, name, ctx.cwd);
    ctx.tick(1 + Math.floor(data.length / 65536));
    return data;
  } catch (e) {
    if (e instanceof KernelError) {
      warn(ctx, `${name}: ${e.message}`);
      return null;
    }
    throw e;
  }
}

/** A generator of 64 KiB blocks for the character devices that never reach EOF (mem major 1). */
export function endlessDevice(ctx: ToolCtx, name: string): (() => string) | undefined {
  if (name === '-') return undefined;
  const st = statOrNull(ctx, name);
  return st ? endlessOf(ctx, st) : undefined;
}

function endlessOf(ctx: ToolCtx, st: StatInfo): (() => string) | undefined {
  if (st.type !== 'chr' || st.rdev?.major !== 1) return undefined;
  const minor = st.rdev.minor;
  if (minor === 5 || minor === 7) {
    const zeros = '\0'.repeat(65536);
    return () => zeros; // zero, full: reads return zeros
  }
  if (minor === 8 || minor === 9) {
    return () => {
      // 4 KiB of fresh randomness per 64 KiB block (7-bit bytes: the model's files are strings,
      // a byte above 0x7f would count twice)
      let b = '';
      for (let i = 0; i < 4096; i += 4) {
        const r = ctx.host.random();
        b += String.fromCharCode(r & 0x7f, (r >>> 8) & 0x7f, (r >>> 16) & 0x7f, (r >>> 24) & 0x7f);
      }
      return b.repeat(16);
    };
  }
  return undefined;
}

export function statOrNull(ctx: ToolCtx, path: string, follow = true): StatInfo | null {
  try {
    return ctx.host.stat(ctx.pid, path, ctx.cwd, follow);
  } catch {
    return null;
  }
}

/** Splits text into lines, keeping track of a missing final newline. */
export function splitLines(s: string): { lines: string[]; finalNl: boolean } {
  if (s === '') return { lines: [], finalNl: true };
  const finalNl = s.endsWith('\n');
  const lines = (finalNl ? s.slice(0, -1) : s).split('\n');
  return { lines, finalNl };
}

export function joinPath(dir: string, name: string): string {
  if (dir === '') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

export function basename(p: string): string {
  if (p === '') return '';
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}

export function dirname(p: string): string {
  const t = p.replace(/\/+$/, '');
  if (t === '') return p.startsWith('/') ? '/' : '.';
  const i = t.lastIndexOf('/');
  if (i < 0) return '.';
  const d = t.slice(0, i).replace(/\/+$/, '');
  return d === '' ? '/' : d;
}

/** user and group names from /etc/passwd and /etc/group */
export function idNames(ctx: ToolCtx): { user: (uid: number) => string; group: (gid: number) => string; userId: (name: string) => number | undefined; groupId: (name: string) => number | undefined; home: (uid: number) => string | undefined; groupsOf: (user: string) => number[] } {
  const read = (p: string): string[][] => {
    try {
      return ctx.host
        .readFile(ctx.pid, p, '/')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.split(':'));
    } catch {
      return [];
    }
  };
  const passwd = read('/etc/passwd');
  const group = read('/etc/group');
  return {
    user: (uid) => passwd.find((f) => Number(f[2]) === uid)?.[0] ?? String(uid),
    group: (gid) => group.find((f) => Number(f[2]) === gid)?.[0] ?? String(gid),
    userId: (n) => {
      const f = passwd.find((x) => x[0] === n);
      return f ? Number(f[2]) : undefined;
    },
    groupId: (n) => {
      const f = group.find((x) => x[0] === n);
      return f ? Number(f[2]) : undefined;
    },
    home: (uid) => passwd.find((f) => Number(f[2]) === uid)?.[5],
    groupsOf: (u) => group.filter((f) => (f[3] ?? '').split(',').includes(u)).map((f) => Number(f[2])),
  };
}

/** a virtual-time instant as a UTC Date (ms since the epoch) */
export function wallMs(ctx: ToolCtx, ns = ctx.host.now()): number {
  return ctx.host.bootEpochMs() + Math.floor(ns / 1e6);
}

/** "-rw-r--r--" */
export function modeString(st: StatInfo): string {
  const t = { file: '-', dir: 'd', link: 'l', chr: 'c', blk: 'b' }[st.type];
  const p = st.perm;
  const rwx = (b: number, sbit: boolean, sch: string): string =>
    (b & 4 ? 'r' : '-') + (b & 2 ? 'w' : '-') + (sbit ? (b & 1 ? sch : sch.toUpperCase()) : b & 1 ? 'x' : '-');
  return t + rwx((p >> 6) & 7, (p & 0o4000) !== 0, 's') + rwx((p >> 3) & 7, (p & 0o2000) !== 0, 's') + rwx(p & 7, (p & 0o1000) !== 0, 't');
}

/** POSIX BRE/ERE to a JavaScript regular expression source. */
export function posixRegex(pat: string, ere: boolean): string {
  let out = '';
  let i = 0;
  const n = pat.length;
  let atStart = true;
  while (i < n) {
    const c = pat[i];
    if (c === '[') {
      // bracket expression
      let j = i + 1;
      let set = '';
      if (pat[j] === '^') {
        set += '^';
        j++;
      }
      if (pat[j] === ']') {
        set += '\\]';
        j++;
      }
      while (j < n && pat[j] !== ']') {
        if (pat[j] === '[' && pat[j + 1] === ':') {
          const e = pat.indexOf(':]', j + 2);
          if (e > 0) {
            const name = pat.slice(j + 2, e);
            set += Object.prototype.hasOwnProperty.call(CLASSES, name) ? CLASSES[name] : '';
            j = e + 2;
            continue;
          }
        }
        if (pat[j] === '[' && (pat[j + 1] === '.' || pat[j + 1] === '=')) {
          const end = pat.indexOf(pat[j + 1] + ']', j + 2);
          if (end > 0) {
            set += escapeClass(pat.slice(j + 2, end));
            j = end + 2;
            continue;
          }
        }
        const ch = pat[j];
        set += ch === '\\' || ch === ']' || ch === '[' ? '\\' + ch : ch;
        j++;
      }
      if (j >= n) {
        out += '\\[';
        i++;
        continue;
      }
      out += `[${set}]`;
      i = j + 1;
      atStart = false;
      continue;
    }
    if (c === '\\' && i + 1 < n) {
      const d = pat[i + 1];
      i += 2;
      if (!ere && '(){}|+?'.includes(d)) {
        out += d;
        atStart = d === '(' || d === '|';
        continue;
      }
      if (/[1-9]/.test(d)) {
        out += '\\' + d;
        continue;
      }
      if (d === 'n') out += '\\n';
      else if (d === 't') out += '\\t';
      else if (d === 'w' || d === 'W' || d === 's' || d === 'S' || d === 'b' || d === 'B') out += '\\' + d;
      else if (d === '<') out += '\\b(?=\\w)';
      else if (d === '>') out += '\\b(?<=\\w)';
      else if (d === '`') out += '^';
      else if (d === "'") out += '$';
      else out += escapeChar(d);
      atStart = false;
      continue;
    }
    if (ere) {
      if (c === '{' && !/^\{\d*(,\d*)?\}/.test(pat.slice(i))) {
        out += '\\{';
        i++;
        continue;
      }
      if ((c === '*' || c === '+' || c === '?') && atStart) {
        out += '\\' + c;
        i++;
        continue;
      }
      out += c === '/' ? '\\/' : c;
      atStart = c === '(' || c === '|';
      i++;
      continue;
    }
    // BRE: ( ) { } | + ? are literal; * at start is literal; ^ only at start, $ only at end
    if ('(){}|+?'.includes(c)) {
      out += '\\' + c;
      i++;
      atStart = false;
      continue;
    }
    if (c === '*' && atStart) {
      out += '\\*';
      i++;
      atStart = false;
      continue;
    }
    if (c === '^' && !atStart) {
      out += '\\^';
      i++;
      continue;
    }
    if (c === '$' && i !== n - 1 && !(pat.slice(i + 1, i + 3) === '\\)' || pat.slice(i + 1, i + 3) === '\\|')) {
      out += '\\$';
      i++;
      atStart = false;
      continue;
    }
    out += c === '/' ? '\\/' : c;
    atStart = c === '^';
    i++;
  }
  return out;
}

function escapeChar(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

function escapeClass(s: string): string {
  return s.replace(/[\]\\^-]/g, '\\$&');
}

/** Compiles a POSIX regex; null when invalid. */
export function compileRegex(pat: string, ere: boolean, flags = ''): RegExp | null {
  try {
    return new RegExp(posixRegex(pat, ere), flags);
  } catch {
    return null;
  }
}

export function humanSize(n: number): string {
  // GNU -h: powers of 1024, one decimal below 10, rounded up
  const units = ['K', 'M', 'G', 'T', 'P', 'E'];
  if (n < 1024) return String(n);
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (v < 10) {
    let r = Math.ceil(v * 10) / 10;
    if (r >= 10) return `${Math.ceil(r)}${units[u]}`;
    r = Math.ceil(v * 10 - 1e-9) / 10;
    return `${r.toFixed(1)}${units[u]}`;
  }
  const r = Math.ceil(v - 1e-9);
  if (r >= 1024 && u < units.length - 1) return `1.0${units[u + 1]}`;
  return `${r}${units[u]}`;
}

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
export const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * The kernel a tool runs on, for tools that are front ends of kernel
 * interfaces (kmod, dmesg, tracing): the machine's shell host carries it.
 */
export function kernelOf(ctx: ToolCtx): Kernel | undefined {
  return (ctx.host as { k?: Kernel }).k;
}
