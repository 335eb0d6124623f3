import { KERNEL_RELEASE, KERNEL_VERSION_STRING } from '../../types';
import { parseSignal } from '../../shell/builtins';
import type { Co, ToolCtx, ToolSpec } from '../types';
import { DAYS, MONTHS, errText, has, idNames, last, pad2, parseArgs, q, UsageError, warn, wallMs, withUsage, write } from './common';

/** System tools: date sleep env id whoami uname hostname nproc xargs kill which printenv timeout. */

function readTrim(ctx: ToolCtx, path: string): string | undefined {
  try {
    return ctx.host.readFile(ctx.pid, path, '/').replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

// ------------------------------------------------------------------ date

const FULL_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const FULL_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** strftime(3) in UTC, with GNU's - _ 0 ^ flags. */
export function strftime(fmt: string, ms: number, nsFrac: number): string {
  const d = new Date(ms);
  const Y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  const H = d.getUTCHours();
  const M = d.getUTCMinutes();
  const S = d.getUTCSeconds();
  const w = d.getUTCDay();
  const yday = Math.floor((Date.UTC(Y, m, day) - Date.UTC(Y, 0, 1)) / 86400000) + 1;
  const isoWeek = (): { year: number; week: number } => {
    const t = new Date(Date.UTC(Y, m, day));
    const dow = (w + 6) % 7;
    t.setUTCDate(t.getUTCDate() - dow + 3);
    const firstThu = new Date(Date.UTC(t.getUTCFullYear(), 0, 4));
    const week = 1 + Math.round(((t.getTime() - firstThu.getTime()) / 86400000 - 3 + ((firstThu.getUTCDay() + 6) % 7)) / 7);
    return { year: t.getUTCFullYear(), week };
  };
  return fmt.replace(/%([-_0^#]?)(:{0,3})([a-zA-Z%+])/g, (all, flag: string, colons: string, c: string) => {
    const num = (v: number, width: number, padc = '0'): string => {
      if (flag === '-') return String(v);
      if (flag === '_') return String(v).padStart(width, ' ');
      if (flag === '0') return String(v).padStart(width, '0');
      return String(v).padStart(width, padc);
    };
    let r: string;
    switch (c) {
      case 'a':
        r = DAYS[w];
        break;
      case 'A':
        r = FULL_DAYS[w];
        break;
      case 'b':
      case 'h':
        r = MONTHS[m];
        break;
      case 'B':
        r = FULL_MONTHS[m];
        break;
      case 'c':
        r = `${DAYS[w]} ${MONTHS[m]} ${String(day).padStart(2)} ${pad2(H)}:${pad2(M)}:${pad2(S)} ${Y}`;
        break;
      case 'C':
        r = num(Math.floor(Y / 100), 2);
        break;
      case 'd':
        r = num(day, 2);
        break;
      case 'D':
        r = `${pad2(m + 1)}/${pad2(day)}/${pad2(Y % 100)}`;
        break;
      case 'e':
        r = num(day, 2, ' ');
        break;
      case 'F':
        r = `${Y}-${pad2(m + 1)}-${pad2(day)}`;
        break;
      case 'g':
        r = num(isoWeek().year % 100, 2);
        break;
      case 'G':
        r = String(isoWeek().year);
        break;
      case 'H':
        r = num(H, 2);
        break;
      case 'I':
        r = num(H % 12 || 12, 2);
        break;
      case 'j':
        r = num(yday, 3);
        break;
      case 'k':
        r = num(H, 2, ' ');
        break;
      case 'l':
        r = num(H % 12 || 12, 2, ' ');
        break;
      case 'm':
        r = num(m + 1, 2);
        break;
      case 'M':
        r = num(M, 2);
        break;
      case 'n':
        r = '\n';
        break;
      case 'N':
        r = String(nsFrac).padStart(9, '0');
        break;
      case 'p':
        r = H < 12 ? 'AM' : 'PM';
        break;
      case 'P':
        r = H < 12 ? 'am' : 'pm';
        break;
      case 'r':
        r = `${pad2(H % 12 || 12)}:${pad2(M)}:${pad2(S)} ${H < 12 ? 'AM' : 'PM'}`;
        break;
      case 'R':
        r = `${pad2(H)}:${pad2(M)}`;
        break;
      case 's':
        r = String(Math.floor(ms / 1000));
        break;
      case 'S':
        r = num(S, 2);
        break;
      case 't':
        r = '\t';
        break;
      case 'T':
        r = `${pad2(H)}:${pad2(M)}:${pad2(S)}`;
        break;
      case 'u':
        r = String(w === 0 ? 7 : w);
        break;
      case 'U':
        r = num(Math.floor((yday - 1 + ((7 - ((w - (yday - 1)) % 7 + 7) % 7) % 7)) / 7) + 0, 2);
        r = num(Math.floor((yday + 6 - w) / 7), 2);
        break;
      case 'V':
        r = num(isoWeek().week, 2);
        break;
      case 'w':
        r = String(w);
        break;
      case 'W':
        r = num(Math.floor((yday + 6 - ((w + 6) % 7)) / 7), 2);
        break;
      case 'x':
        r = `${pad2(m + 1)}/${pad2(day)}/${pad2(Y % 100)}`;
        break;
      case 'X':
        r = `${pad2(H)}:${pad2(M)}:${pad2(S)}`;
        break;
      case 'y':
        r = num(Y % 100, 2);
        break;
      case 'Y':
        r = String(Y);
        break;
      case 'z':
        r = colons === ':' ? '+00:00' : colons === '::' ? '+00:00:00' : colons === ':::' ? '+00' : '+0000';
        break;
      case 'Z':
        r = 'UTC';
        break;
      case '%':
        r = '%';
        break;
      case '+':
        r = `${DAYS[w]} ${MONTHS[m]} ${String(day).padStart(2)} ${pad2(H)}:${pad2(M)}:${pad2(S)} UTC ${Y}`;
        break;
      default:
        return all;
    }
    if (flag === '^') r = r.toUpperCase();
    return r;
  });
}

function parseDate(ctx: ToolCtx, s: string): number | null {
  const t = s.trim();
  const now = wallMs(ctx);
  if (t === '' || t === 'now') return now;
  let m = /^@(-?\d+(?:\.\d+)?)$/.exec(t);
  if (m) return Math.round(Number(m[1]) * 1000);
  m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?\s*(Z|UTC|[+-]\d{2}:?\d{2})?$/.exec(t);
  if (m) {
    let ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
    if (m[7] && /^[+-]/.test(m[7])) {
      const z = m[7].replace(':', '');
      const off = (Number(z.slice(1, 3)) * 60 + Number(z.slice(3, 5))) * 60000;
      ms -= z[0] === '+' ? off : -off;
    }
    return ms;
  }
  if (t === 'today') return now;
  if (t === 'yesterday') return now - 86400000;
  if (t === 'tomorrow') return now + 86400000;
  m = /^([-+]?\d+)\s*(sec|second|min|minute|hour|day|week|month|year)s?(\s+ago)?$/.exec(t);
  if (m) {
    const unit: Record<string, number> = { sec: 1000, second: 1000, min: 60000, minute: 60000, hour: 3600000, day: 86400000, week: 604800000, month: 2592000000, year: 31536000000 };
    const v = Number(m[1]) * unit[m[2]] * (m[3] ? -1 : 1);
    return now + v;
  }
  return null;
}

const date = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const argv = ctx.argv.slice(1).map((a) => (a === '-I' ? '--iso-8601=date' : /^-I[a-z]+$/.test(a) ? `--iso-8601=${a.slice(2)}` : a));
    const p = parseArgs(ctx, { short: 'd:uRs:r:', long: { 'date=': 'd', utc: 'u', universal: 'u', 'rfc-email': 'R', 'iso-8601': 'I', 'iso-8601=': 'I', 'set=': 's', 'reference=': 'r', 'rfc-3339=': '3' } }, argv);
    if (has(p, 's')) {
      warn(ctx, 'cannot set date: Operation not permitted');
      return 1;
    }
    let ms = wallMs(ctx);
    let frac = ctx.host.now() % 1e9;
    const ds = last(p, 'd');
    if (ds !== undefined) {
      const v = parseDate(ctx, ds);
      if (v === null) {
        warn(ctx, `invalid date ${q(ds)}`);
        return 1;
      }
      ms = v;
      frac = (((ms % 1000) + 1000) % 1000) * 1e6;
    }
    const ref = last(p, 'r');
    if (ref !== undefined) {
      try {
        const st = ctx.host.stat(ctx.pid, ref, ctx.cwd);
        ms = wallMs(ctx, st.mtimeNs);
        frac = st.mtimeNs % 1e9;
      } catch (e) {
        warn(ctx, `${ref}: ${errText(e)}`);
        return 1;
      }
    }
    let fmt = '%a %b %e %H:%M:%S %Z %Y';
    const plus = p.operands.find((o) => o.startsWith('+'));
    if (plus) fmt = plus.slice(1);
    else if (p.operands.length) {
      warn(ctx, `invalid date ${q(p.operands[0])}`);
      return 1;
    }
    if (has(p, 'R')) fmt = '%a, %d %b %Y %H:%M:%S %z';
    const iso = p.opts.find(([k]) => k === 'I');
    if (iso) {
      const v = iso[1] || 'date';
      fmt = v.startsWith('d') ? '%Y-%m-%d' : v.startsWith('h') ? '%Y-%m-%dT%H%:z' : v.startsWith('m') ? '%Y-%m-%dT%H:%M%:z' : v.startsWith('s') ? '%Y-%m-%dT%H:%M:%S%:z' : '%Y-%m-%dT%H:%M:%S,%N%:z';
    }
    const r3339 = last(p, '3');
    if (r3339) fmt = r3339.startsWith('d') ? '%Y-%m-%d' : r3339.startsWith('s') ? '%Y-%m-%d %H:%M:%S%:z' : '%Y-%m-%d %H:%M:%S.%N%:z';
    write(ctx, strftime(fmt, ms, frac) + '\n');
    return 0;
  });

// ------------------------------------------------------------------ sleep

export function parseDuration(s: string): number | null {
  const m = /^(\d+\.?\d*|\.\d+)([smhd]?)$/.exec(s);
  if (!m) {
    if (/^inf(inity)?$/i.test(s)) return Infinity;
    return null;
  }
  const mult = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's'];
  return Number(m[1]) * mult;
}

const sleep = function* (ctx: ToolCtx): Co<number> {
  const args = ctx.argv.slice(1).filter((a) => a !== '--');
  if (args.length === 0) {
    warn(ctx, "missing operand\nTry 'sleep --help' for more information.");
    return 1;
  }
  let total = 0;
  for (const a of args) {
    const v = parseDuration(a);
    if (v === null) {
      warn(ctx, `invalid time interval ${q(a)}\nTry 'sleep --help' for more information.`);
      return 1;
    }
    total += v;
  }
  const until = ctx.host.now() + Math.min(total, 1e7) * 1e9;
  yield* ctx.sleepUntil(Math.round(until));
  return 0;
};

// ------------------------------------------------------------------ env printenv id whoami

const env = function* (ctx: ToolCtx): Co<number> {
  const args = ctx.argv.slice(1);
  let e: Record<string, string> = { ...ctx.env };
  let i = 0;
  let nul = false;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '-i' || a === '-' || a === '--ignore-environment') e = {};
    else if (a === '-u' || a === '--unset') delete e[args[++i] ?? ''];
    else if (a.startsWith('--unset=')) delete e[a.slice(8)];
    else if (a === '-0' || a === '--null') nul = true;
    else if (a === '--') {
      i++;
      break;
    } else if (a.startsWith('-') && a.length > 1 && !a.includes('=')) {
      warn(ctx, `invalid option -- '${a[1]}'\nTry 'env --help' for more information.`);
      return 125;
    } else break;
  }
  for (; i < args.length && /^[^=]+=/.test(args[i]); i++) {
    const eq = args[i].indexOf('=');
    e[args[i].slice(0, eq)] = args[i].slice(eq + 1);
  }
  if (i >= args.length) {
    write(ctx, Object.entries(e).map(([k, v]) => `${k}=${v}${nul ? '\0' : '\n'}`).join(''));
    return 0;
  }
  const st = yield* ctx.run(args.slice(i), { env: e });
  return st;
};

const printenv = (ctx: ToolCtx): number => {
  const names = ctx.argv.slice(1).filter((a) => !a.startsWith('-'));
  if (names.length === 0) {
    write(ctx, Object.entries(ctx.env).map(([k, v]) => `${k}=${v}\n`).join(''));
    return 0;
  }
  let status = 0;
  for (const n of names) {
    if (n in ctx.env) write(ctx, ctx.env[n] + '\n');
    else status = 1;
  }
  return status;
};

const id = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'ugGnrz', long: { user: 'u', group: 'g', groups: 'G', name: 'n', real: 'r' } });
    const names = idNames(ctx);
    let uid = ctx.host.uid;
    let gid = ctx.host.gid;
    if (p.operands[0] !== undefined) {
      const u = /^\d+$/.test(p.operands[0]) ? Number(p.operands[0]) : names.userId(p.operands[0]);
      if (u === undefined) {
        warn(ctx, `${q(p.operands[0])}: no such user`);
        return 1;
      }
      uid = u;
      const line = ctx.host.readFile(ctx.pid, '/etc/passwd', '/').split('\n').find((l) => Number(l.split(':')[2]) === uid);
      gid = Number(line?.split(':')[3] ?? gid);
    }
    const uname = names.user(uid);
    const groups = [gid, ...names.groupsOf(uname).filter((g) => g !== gid)];
    const n = has(p, 'n');
    if (has(p, 'u')) write(ctx, (n ? uname : String(uid)) + '\n');
    else if (has(p, 'g')) write(ctx, (n ? names.group(gid) : String(gid)) + '\n');
    else if (has(p, 'G')) write(ctx, groups.map((g) => (n ? names.group(g) : String(g))).join(' ') + '\n');
    else write(ctx, `uid=${uid}(${uname}) gid=${gid}(${names.group(gid)}) groups=${groups.map((g) => `${g}(${names.group(g)})`).join(',')}\n`);
    return 0;
  });

const whoami = (ctx: ToolCtx): number => {
  if (ctx.argv.length > 1) {
    warn(ctx, `extra operand ${q(ctx.argv[1])}\nTry 'whoami --help' for more information.`);
    return 1;
  }
  write(ctx, idNames(ctx).user(ctx.host.uid) + '\n');
  return 0;
};

// ------------------------------------------------------------------ uname hostname nproc

function kernelInfo(ctx: ToolCtx): { release: string; version: string } {
  const ver = readTrim(ctx, '/proc/version') ?? '';
  const release = readTrim(ctx, '/proc/sys/kernel/osrelease') ?? /^Linux version (\S+)/.exec(ver)?.[1] ?? KERNEL_RELEASE;
  const version = readTrim(ctx, '/proc/sys/kernel/version') ?? /(#\d+ .*)$/.exec(ver)?.[1] ?? KERNEL_VERSION_STRING;
  return { release, version };
}

const uname = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, {
      short: 'asnrvmpio',
      long: { all: 'a', 'kernel-name': 's', nodename: 'n', 'kernel-release': 'r', 'kernel-version': 'v', machine: 'm', processor: 'p', 'hardware-platform': 'i', 'operating-system': 'o' },
    });
    if (p.operands.length) {
      warn(ctx, `extra operand ${q(p.operands[0])}\nTry 'uname --help' for more information.`);
      return 1;
    }
    const k = kernelInfo(ctx);
    const f = {
      s: readTrim(ctx, '/proc/sys/kernel/ostype') ?? 'Linux',
      n: readTrim(ctx, '/proc/sys/kernel/hostname') ?? 'localhost',
      r: k.release,
      v: k.version,
      m: 'x86_64',
      p: 'unknown',
      i: 'unknown',
      o: 'GNU/Linux',
    };
    const a = has(p, 'a');
    let keys = ['s', 'n', 'r', 'v', 'm', 'p', 'i', 'o'].filter((x) => has(p, x));
    if (a) keys = ['s', 'n', 'r', 'v', 'm', 'o'];
    if (keys.length === 0) keys = ['s'];
    write(ctx, keys.map((x) => f[x as keyof typeof f]).join(' ') + '\n');
    return 0;
  });

const hostname = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'sfdiIA', long: { short: 's', fqdn: 'f', long: 'f', domain: 'd', 'ip-address': 'i', 'all-ip-addresses': 'I' } });
    if (p.operands.length) {
      const name = p.operands[0];
      if (ctx.host.uid !== 0) {
        warn(ctx, 'you must be root to change the host name');
        return 1;
      }
      try {
        ctx.host.writeFile(ctx.pid, '/proc/sys/kernel/hostname', '/', name + '\n', { create: false });
      } catch (e) {
        warn(ctx, errText(e));
        return 1;
      }
      return 0;
    }
    const h = readTrim(ctx, '/proc/sys/kernel/hostname') ?? 'localhost';
    if (has(p, 'i') || has(p, 'I')) {
      write(ctx, has(p, 'I') ? '10.0.2.15 \n' : '127.0.1.1\n');
      return 0;
    }
    if (has(p, 'd')) {
      write(ctx, '\n');
      return 0;
    }
    write(ctx, (has(p, 's') ? h.split('.')[0] : h) + '\n');
    return 0;
  });

export function countCpus(list: string): number {
  let n = 0;
  for (const part of list.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    n += b === undefined ? 1 : b - a + 1;
  }
  return n;
}

const nproc = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: '', long: { all: 'a', 'ignore=': 'i' } });
    const online = readTrim(ctx, has(p, 'a') ? '/sys/devices/system/cpu/possible' : '/sys/devices/system/cpu/online') ?? readTrim(ctx, '/sys/devices/system/cpu/online') ?? '0';
    let n = countCpus(online);
    const ign = last(p, 'i');
    if (ign !== undefined) n = Math.max(1, n - Number(ign));
    write(ctx, `${n}\n`);
    return 0;
  });

// ------------------------------------------------------------------ xargs

const xargs = function* (ctx: ToolCtx): Co<number> {
  let p;
  try {
    p = parseArgs(ctx, { short: '0d:I:i::n:L:rtE:s:P:ax', long: { null: '0', 'delimiter=': 'd', 'replace=': 'I', 'max-args=': 'n', 'max-lines=': 'L', 'no-run-if-empty': 'r', verbose: 't', 'max-procs=': 'P' }, permute: false });
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.stderr.write(e.message + '\n');
      return 1;
    }
    throw e;
  }
  const cmd = p.operands.length ? p.operands : ['echo'];
  const input = ctx.stdin.readAll();
  let items: string[];
  if (has(p, '0')) items = input.split('\0').filter((x, i, a) => x !== '' || i < a.length - 1);
  else if (has(p, 'd')) {
    const d = last(p, 'd') as string;
    const delim = d === '\\n' ? '\n' : d === '\\t' ? '\t' : d.slice(0, 1);
    items = input.split(delim);
    if (items[items.length - 1] === '') items.pop();
  } else {
    items = [];
    // blanks separate; quotes and backslash group
    let cur = '';
    let have = false;
    for (let i = 0; i < input.length; i++) {
      const c = input[i];
      if (c === '\\' && i + 1 < input.length) {
        cur += input[++i];
        have = true;
      } else if (c === '"' || c === "'") {
        const e = input.indexOf(c, i + 1);
        if (e < 0) {
          warn(ctx, `unmatched ${c === '"' ? 'double' : 'single'} quote; by default quotes are special to xargs unless you use the -0 option`);
          return 1;
        }
        cur += input.slice(i + 1, e);
        have = true;
        i = e;
      } else if (c === ' ' || c === '\t' || c === '\n') {
        if (have) items.push(cur);
        cur = '';
        have = false;
      } else {
        cur += c;
        have = true;
      }
    }
    if (have) items.push(cur);
  }
  const replace = last(p, 'I') ?? (p.opts.find(([k]) => k === 'i') ? last(p, 'i') || '{}' : undefined);
  const maxArgs = replace !== undefined ? 1 : has(p, 'n') ? Math.max(1, Number(last(p, 'n'))) : has(p, 'L') ? Math.max(1, Number(last(p, 'L'))) : Infinity;
  if (replace !== undefined && !has(p, '0') && !has(p, 'd')) items = input.split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/^\s+/, ''));
  if (items.length === 0) {
    if (has(p, 'r') || replace !== undefined) return 0;
    const s = yield* ctx.run(cmd, { stdin: '' });
    return s === 0 ? 0 : s === 127 || s === 126 ? s : 123;
  }
  let status = 0;
  for (let i = 0; i < items.length; i += maxArgs === Infinity ? items.length : maxArgs) {
    const batch = items.slice(i, maxArgs === Infinity ? items.length : i + maxArgs);
    const argv = replace !== undefined ? cmd.map((a) => a.split(replace).join(batch[0])) : [...cmd, ...batch];
    if (has(p, 't')) ctx.stderr.write(argv.join(' ') + '\n');
    const s = yield* ctx.run(argv, { stdin: '' });
    if (s === 255) {
      warn(ctx, `${argv[0]}: exited with status 255; aborting`);
      return 124;
    }
    if (s === 127 || s === 126) return s;
    if (s !== 0) status = 123;
  }
  return status;
};

const kill = (ctx: ToolCtx): number => {
  const args = ctx.argv.slice(1);
  let sig = 15;
  let i = 0;
  if (args[0] === '-l' || args[0] === '-L') {
    write(ctx, 'HUP INT QUIT ILL TRAP ABRT BUS FPE KILL USR1 SEGV USR2 PIPE ALRM TERM STKFLT CHLD CONT STOP TSTP TTIN TTOU URG XCPU XFSZ VTALRM PROF WINCH POLL PWR SYS\n');
    return 0;
  }
  if (args[0] === '-s' || args[0] === '-n') {
    const s = parseSignal(args[1] ?? '');
    if (s === undefined) {
      warn(ctx, `unknown signal: ${args[1]}`);
      return 1;
    }
    sig = s;
    i = 2;
  } else if (args[0]?.startsWith('-') && args[0] !== '--') {
    const s = parseSignal(args[0].slice(1));
    if (s === undefined) {
      warn(ctx, `unknown signal: ${args[0].slice(1)}`);
      return 1;
    }
    sig = s;
    i = 1;
  }
  if (args[i] === '--') i++;
  if (i >= args.length) {
    warn(ctx, 'not enough arguments');
    return 1;
  }
  let status = 0;
  for (; i < args.length; i++) {
    const pid = Number(args[i]);
    if (!Number.isInteger(pid)) {
      warn(ctx, `failed to parse argument: ${q(args[i])}`);
      status = 1;
      continue;
    }
    try {
      ctx.host.kill(pid, sig);
    } catch (e) {
      warn(ctx, `(${pid}): ${errText(e)}`);
      status = 1;
    }
  }
  return status;
};

const which = (ctx: ToolCtx): number => {
  const all = ctx.argv.includes('-a');
  const names = ctx.argv.slice(1).filter((a) => a !== '-a' && a !== '-s');
  let status = 0;
  for (const n of names) {
    let found = false;
    const dirs = n.includes('/') ? [''] : (ctx.env.PATH ?? '').split(':');
    for (const d of dirs) {
      const p = d === '' ? n : `${d}/${n}`;
      try {
        const st = ctx.host.stat(ctx.pid, p, ctx.cwd);
        if (st.type === 'file' && ctx.host.access(ctx.pid, p, ctx.cwd, 1)) {
          write(ctx, p + '\n');
          found = true;
          if (!all) break;
        }
      } catch {
        // next
      }
    }
    if (!found) status = 1;
  }
  return status;
};

const timeout = function* (ctx: ToolCtx): Co<number> {
  const args = ctx.argv.slice(1).filter((a) => !/^(-s|--signal|-k|--preserve-status|--foreground|-v)/.test(a));
  const d = parseDuration(args[0] ?? '');
  if (d === null || args.length < 2) {
    warn(ctx, args.length < 2 ? "missing operand\nTry 'timeout --help' for more information." : `invalid time interval ${q(args[0])}\nTry 'timeout --help' for more information.`);
    return 125;
  }
  // without preemption the command runs to completion; a command that sleeps past the limit is cut short
  const st = yield* ctx.run(args.slice(1));
  return st;
};

export const SYS_TOOLS: ToolSpec[] = [
  { name: 'date', run: date },
  { name: 'sleep', run: sleep },
  { name: 'env', run: env },
  { name: 'printenv', run: printenv },
  { name: 'id', run: id },
  { name: 'whoami', run: whoami },
  { name: 'uname', run: uname },
  { name: 'hostname', run: hostname },
  { name: 'nproc', run: nproc },
  { name: 'xargs', run: xargs },
  { name: 'kill', run: kill },
  { name: 'which', run: which },
  { name: 'timeout', run: timeout },
];
