import type { ToolCtx } from '../../types';
import { MONTHS, DAYS, idNames, wallMs, write } from '../common';
import { HZ, meminfo, pidWidth, procStat, readProc, readProcs, ttyName, uptimeSecs, type Names, type Proc } from './proc';

/** ps (procps-ng 4.0.2): UNIX, BSD and GNU options, -o formats, sorting, forest, threads. */

type Align = 'R' | 'L' | 'U' | 'W' | 'X';

interface Env {
  now: number;
  up: number;
  btime: number;
  memTotal: number;
  names: Names;
}

interface FmtDef {
  header: string;
  width: number;
  align: Align;
  get: (p: Proc, e: Env) => string;
  /** sort value */
  key?: (p: Proc, e: Env) => number | string;
  /** a pid-like column whose width follows kernel.pid_max */
  pidlike?: boolean;
}

const p2 = (n: number): string => String(n).padStart(2, '0');

function utcParts(sec: number): { Y: number; mo: number; d: number; H: number; M: number; S: number; yday: number; w: number } {
  const dt = new Date(sec * 1000);
  const Y = dt.getUTCFullYear();
  const mo = dt.getUTCMonth();
  const d = dt.getUTCDate();
  return { Y, mo, d, H: dt.getUTCHours(), M: dt.getUTCMinutes(), S: dt.getUTCSeconds(), yday: Math.floor((Date.UTC(Y, mo, d) - Date.UTC(Y, 0, 1)) / 86400000), w: dt.getUTCDay() };
}

export function ctimeStr(sec: number): string {
  const t = utcParts(sec);
  return `${DAYS[t.w]} ${MONTHS[t.mo]} ${String(t.d).padStart(2)} ${p2(t.H)}:${p2(t.M)}:${p2(t.S)} ${t.Y}`;
}

const elapsed = (p: Proc, e: Env): number => Math.max(0, e.up - p.start / HZ);
const cpuTicks = (p: Proc): number => p.utime + p.stime;

export function pcpuPermille(p: Proc, e: Env): number {
  const secs = Math.floor(elapsed(p, e));
  return secs ? Math.floor(Math.floor((cpuTicks(p) * 1000) / HZ) / secs) : 0;
}

function pcpuStr(p: Proc, e: Env): string {
  const v = pcpuPermille(p, e);
  return v > 999 ? String(Math.floor(v / 10)) : `${Math.floor(v / 10)}.${v % 10}`;
}

export function pmemPermille(p: Proc, e: Env): number {
  if (!e.memTotal) return 0;
  return Math.min(999, Math.floor((p.vmRss * 1000) / e.memTotal));
}

function pmemStr(p: Proc, e: Env): string {
  const v = pmemPermille(p, e);
  return `${Math.floor(v / 10)}.${v % 10}`;
}

export function timeStr(ticks: number): string {
  const t = Math.floor(ticks / HZ);
  const dd = Math.floor(t / 86400);
  return `${dd ? `${dd}-` : ''}${p2(Math.floor(t / 3600) % 24)}:${p2(Math.floor(t / 60) % 60)}:${p2(t % 60)}`;
}

function bsdTime(ticks: number): string {
  const t = Math.floor(ticks / HZ);
  return `${Math.floor(t / 60)}:${p2(t % 60)}`;
}

function etimeStr(t: number): string {
  t = Math.floor(t);
  const dd = Math.floor(t / 86400);
  const hh = Math.floor(t / 3600) % 24;
  return `${dd ? `${dd}-` : ''}${dd || hh ? `${p2(hh)}:` : ''}${p2(Math.floor(t / 60) % 60)}:${p2(t % 60)}`;
}

function stimeStr(p: Proc, e: Env): string {
  const now = utcParts(Math.floor(e.now / 1000));
  const t = utcParts(Math.floor(e.btime + p.start / HZ));
  if (now.Y !== t.Y) return String(t.Y);
  if (now.yday !== t.yday) return `${MONTHS[t.mo]}${p2(t.d)}`;
  return `${p2(t.H)}:${p2(t.M)}`;
}

function startStr(p: Proc, e: Env): string {
  const t = Math.floor(e.btime + p.start / HZ);
  const c = ctimeStr(t);
  if (Math.floor(e.now / 1000) - t > 86400) return c.slice(4, 10);
  return c.slice(11, 19);
}

export function argsStr(p: Proc): string {
  const defunct = p.state === 'Z' ? ' <defunct>' : '';
  if (p.cmdline.length === 0 || p.state === 'Z') return `[${p.comm}]${defunct}`;
  return [...p.cmdline.join(' ')].map((ch) => (ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127 ? '?' : ch)).join('');
}

function commStr(p: Proc): string {
  return p.comm + (p.state === 'Z' ? ' <defunct>' : '');
}

export function statStr(p: Proc): string {
  let s = p.state;
  if (p.nice < 0) s += '<';
  else if (p.nice > 0) s += 'N';
  if (p.vmLck > 0) s += 'L';
  if (p.session === p.pid) s += 's';
  if (p.nlwp > 1) s += 'l';
  if (p.ttyNr !== 0 && p.pgrp === p.tpgid) s += '+';
  return s;
}

const isRt = (p: Proc): boolean => p.policy === 1 || p.policy === 2;
const CLS = ['TS', 'FF', 'RR', 'B', 'ISO', 'IDL', 'DLN'];
const wchanStr = (p: Proc): string => (p.wchan === '' || p.wchan === '0' || p.state === 'R' ? '-' : p.wchan);

const n = (f: (p: Proc, e: Env) => number): ((p: Proc, e: Env) => string) => (p, e) => String(f(p, e));

function def(header: string, width: number, align: Align, get: (p: Proc, e: Env) => string, key?: (p: Proc, e: Env) => number | string, pidlike = false): FmtDef {
  return { header, width, align, get, key, pidlike };
}

const FMT: Record<string, FmtDef> = {
  pid: def('PID', 5, 'R', n((p) => p.pid), (p) => p.pid, true),
  tgid: def('TGID', 5, 'R', n((p) => p.pid), (p) => p.pid, true),
  ppid: def('PPID', 5, 'R', n((p) => p.ppid), (p) => p.ppid, true),
  pgid: def('PGID', 5, 'R', n((p) => p.pgrp), (p) => p.pgrp, true),
  pgrp: def('PGRP', 5, 'R', n((p) => p.pgrp), (p) => p.pgrp, true),
  sid: def('SID', 5, 'R', n((p) => p.session), (p) => p.session, true),
  sess: def('SESS', 5, 'R', n((p) => p.session), (p) => p.session, true),
  session: def('SESS', 5, 'R', n((p) => p.session), (p) => p.session, true),
  tpgid: def('TPGID', 5, 'R', n((p) => p.tpgid), (p) => p.tpgid, true),
  lwp: def('LWP', 5, 'R', n((p) => p.tid), (p) => p.tid, true),
  tid: def('TID', 5, 'R', n((p) => p.tid), (p) => p.tid, true),
  spid: def('SPID', 5, 'R', n((p) => p.tid), (p) => p.tid, true),
  nlwp: def('NLWP', 4, 'R', n((p) => p.nlwp), (p) => p.nlwp),
  thcount: def('THCNT', 5, 'R', n((p) => p.nlwp), (p) => p.nlwp),
  user: def('USER', 8, 'U', (p, e) => e.names.user(p.euid), (p, e) => e.names.user(p.euid)),
  euser: def('EUSER', 8, 'U', (p, e) => e.names.user(p.euid), (p, e) => e.names.user(p.euid)),
  uname: def('USER', 8, 'U', (p, e) => e.names.user(p.euid), (p, e) => e.names.user(p.euid)),
  ruser: def('RUSER', 8, 'U', (p, e) => e.names.user(p.ruid), (p, e) => e.names.user(p.ruid)),
  uid: def('UID', 5, 'R', n((p) => p.euid), (p) => p.euid),
  euid: def('EUID', 5, 'R', n((p) => p.euid), (p) => p.euid),
  ruid: def('RUID', 5, 'R', n((p) => p.ruid), (p) => p.ruid),
  gid: def('GID', 5, 'R', n((p) => p.egid), (p) => p.egid),
  egid: def('EGID', 5, 'R', n((p) => p.egid), (p) => p.egid),
  rgid: def('RGID', 5, 'R', n((p) => p.rgid), (p) => p.rgid),
  group: def('GROUP', 8, 'U', (p, e) => e.names.group(p.egid), (p, e) => e.names.group(p.egid)),
  egroup: def('EGROUP', 8, 'U', (p, e) => e.names.group(p.egid), (p, e) => e.names.group(p.egid)),
  rgroup: def('RGROUP', 8, 'U', (p, e) => e.names.group(p.rgid), (p, e) => e.names.group(p.rgid)),
  comm: def('COMMAND', 15, 'L', commStr, (p) => p.comm),
  ucmd: def('CMD', 15, 'L', commStr, (p) => p.comm),
  ucomm: def('COMMAND', 15, 'L', commStr, (p) => p.comm),
  fname: def('COMMAND', 8, 'L', (p) => p.comm.slice(0, 8), (p) => p.comm),
  args: def('COMMAND', 27, 'X', argsStr, argsStr),
  command: def('COMMAND', 27, 'X', argsStr, argsStr),
  cmd: def('CMD', 27, 'X', argsStr, argsStr),
  '%cpu': def('%CPU', 4, 'R', pcpuStr, pcpuPermille),
  pcpu: def('%CPU', 4, 'R', pcpuStr, pcpuPermille),
  c: def('C', 2, 'R', (p, e) => {
    const secs = Math.floor(elapsed(p, e));
    const v = secs ? Math.floor(Math.floor((cpuTicks(p) * 100) / HZ) / secs) : 0;
    return String(Math.min(99, v));
  }, pcpuPermille),
  '%mem': def('%MEM', 4, 'R', pmemStr, (p) => p.vmRss),
  pmem: def('%MEM', 4, 'R', pmemStr, (p) => p.vmRss),
  vsz: def('VSZ', 6, 'R', n((p) => p.vmSize), (p) => p.vmSize),
  vsize: def('VSZ', 6, 'R', n((p) => p.vmSize), (p) => p.vmSize),
  rss: def('RSS', 5, 'R', n((p) => p.vmRss), (p) => p.vmRss),
  rssize: def('RSS', 5, 'R', n((p) => p.vmRss), (p) => p.vmRss),
  rsz: def('RSZ', 5, 'R', n((p) => p.vmRss), (p) => p.vmRss),
  sz: def('SZ', 5, 'R', n((p) => Math.floor(p.vmSize / 4)), (p) => p.vmSize),
  tty: def('TT', 8, 'L', (p) => ttyName(p.ttyNr), (p) => p.ttyNr),
  tname: def('TTY', 8, 'L', (p) => ttyName(p.ttyNr), (p) => p.ttyNr),
  tt: def('TT', 8, 'L', (p) => ttyName(p.ttyNr), (p) => p.ttyNr),
  stat: def('STAT', 4, 'L', statStr, statStr),
  s: def('S', 1, 'L', (p) => p.state, (p) => p.state),
  state: def('S', 1, 'L', (p) => p.state, (p) => p.state),
  f: def('F', 1, 'R', (p) => ((p.flags >>> 6) & 7).toString(16), (p) => p.flags),
  flags: def('F', 1, 'R', (p) => ((p.flags >>> 6) & 7).toString(16), (p) => p.flags),
  start: def('STARTED', 8, 'R', startStr, (p) => p.start),
  start_time: def('START', 5, 'R', stimeStr, (p) => p.start),
  stime: def('STIME', 5, 'R', stimeStr, (p) => p.start),
  bsdstart: def('START', 6, 'R', stimeStr, (p) => p.start),
  lstart: def('STARTED', 24, 'R', (p, e) => ctimeStr(Math.floor(e.btime + p.start / HZ)), (p) => p.start),
  time: def('TIME', 8, 'R', (p) => timeStr(cpuTicks(p)), cpuTicks),
  cputime: def('TIME', 8, 'R', (p) => timeStr(cpuTicks(p)), cpuTicks),
  cputimes: def('TIME', 8, 'R', (p) => String(Math.floor(cpuTicks(p) / HZ)), cpuTicks),
  bsdtime: def('TIME', 6, 'R', (p) => bsdTime(cpuTicks(p)), cpuTicks),
  etime: def('ELAPSED', 11, 'R', (p, e) => etimeStr(elapsed(p, e)), (p) => -p.start),
  etimes: def('ELAPSED', 7, 'R', (p, e) => String(Math.floor(elapsed(p, e))), (p) => -p.start),
  ni: def('NI', 3, 'R', (p) => (isRt(p) ? '-' : String(p.nice)), (p) => p.nice),
  nice: def('NI', 3, 'R', (p) => (isRt(p) ? '-' : String(p.nice)), (p) => p.nice),
  pri: def('PRI', 3, 'R', n((p) => 39 - p.priority), (p) => 39 - p.priority),
  priority: def('PRI', 3, 'R', n((p) => p.priority), (p) => p.priority),
  opri: def('PRI', 3, 'R', n((p) => 60 + p.priority), (p) => p.priority),
  psr: def('PSR', 3, 'R', n((p) => p.processor), (p) => p.processor),
  cls: def('CLS', 3, 'R', (p) => CLS[p.policy] ?? '?', (p) => p.policy),
  class: def('CLS', 3, 'R', (p) => CLS[p.policy] ?? '?', (p) => p.policy),
  policy: def('POL', 3, 'L', (p) => CLS[p.policy] ?? '?', (p) => p.policy),
  rtprio: def('RTPRIO', 6, 'R', (p) => (isRt(p) ? String(p.rtprio) : '-'), (p) => p.rtprio),
  wchan: def('WCHAN', 6, 'W', wchanStr, wchanStr),
  addr: def('ADDR', 4, 'R', () => '-'),
  maj_flt: def('MAJFL', 6, 'R', n((p) => p.majflt), (p) => p.majflt),
  min_flt: def('MINFL', 6, 'R', n((p) => p.minflt), (p) => p.minflt),
  majflt: def('MAJFLT', 6, 'R', n((p) => p.majflt), (p) => p.majflt),
  minflt: def('MINFLT', 6, 'R', n((p) => p.minflt), (p) => p.minflt),
  trs: def('TRS', 5, 'R', n((p) => Math.floor(p.codeBytes / 1024)), (p) => p.codeBytes),
  drs: def('DRS', 5, 'R', n((p) => Math.floor(Math.max(0, p.vsize - p.codeBytes) / 1024)), (p) => p.vsize - p.codeBytes),
  sgi_p: def('P', 1, 'R', (p) => (p.state === 'R' ? String(p.processor) : '*'), (p) => p.processor),
};

/** the header-only variants ps uses in its built-in formats */
interface Col {
  def: FmtDef;
  header: string;
  width: number;
}

function col(name: string, header?: string, width?: number): Col {
  const d = FMT[name];
  return { def: d, header: header ?? d.header, width: width ?? d.width };
}

// -l's CMD column and -f's UID column
const FORMATS: Record<string, () => Col[]> = {
  default: () => [col('pid'), col('tname'), col('time'), col('ucmd')],
  f: () => [col('user', 'UID'), col('pid'), col('ppid'), col('c'), col('stime'), col('tname'), col('time'), col('args', 'CMD')],
  F: () => [col('user', 'UID'), col('pid'), col('ppid'), col('c'), col('sz'), col('rss'), col('psr'), col('stime'), col('tname'), col('time'), col('args', 'CMD')],
  l: () => [col('f'), col('s'), col('uid'), col('pid'), col('ppid'), col('c'), col('opri'), col('ni'), col('addr', 'ADDR', 1), col('sz'), col('wchan'), col('tname'), col('time'), col('ucmd')],
  lf: () => [col('f'), col('s'), col('user', 'UID'), col('pid'), col('ppid'), col('c'), col('opri'), col('ni'), col('addr', 'ADDR', 1), col('sz'), col('wchan'), col('stime'), col('tname'), col('time'), col('args', 'CMD')],
  j: () => [col('pid'), col('pgid'), col('sid'), col('tname'), col('time'), col('ucmd')],
  jf: () => [col('user', 'UID'), col('pid'), col('ppid'), col('pgid'), col('sid'), col('c'), col('stime'), col('tname'), col('time'), col('args', 'CMD')],
  L: () => [col('pid'), col('lwp'), col('tname'), col('time'), col('ucmd')],
  Lf: () => [col('user', 'UID'), col('pid'), col('ppid'), col('lwp'), col('c'), col('nlwp'), col('stime'), col('tname'), col('time'), col('args', 'CMD')],
  T: () => [col('pid'), col('spid'), col('tname'), col('time'), col('ucmd')],
  Tf: () => [col('user', 'UID'), col('pid'), col('spid'), col('ppid'), col('c'), col('stime'), col('tname'), col('time'), col('args', 'CMD')],
  u: () => [col('user'), col('pid'), col('%cpu'), col('%mem'), col('vsz'), col('rss'), col('tname', 'TTY'), col('stat'), col('start_time'), col('bsdtime'), col('args')],
  bsd: () => [col('pid'), col('tname'), col('stat'), col('bsdtime'), col('args')],
  bsdj: () => [col('ppid'), col('pid'), col('pgid'), col('sid'), col('tname'), col('tpgid'), col('stat'), col('uid'), col('bsdtime'), col('args')],
  bsdl: () => [col('f'), col('uid'), col('pid'), col('ppid'), col('priority'), col('ni'), col('vsz'), col('rss'), col('wchan'), col('stat'), col('tname'), col('bsdtime'), col('args')],
  v: () => [col('pid'), col('tname'), col('stat'), col('bsdtime'), col('maj_flt'), col('trs'), col('drs'), col('rss'), col('%mem'), col('args')],
};

const USAGE = `
Usage:
 ps [options]

 Try 'ps --help <simple|list|output|threads|misc|all>'
  or 'ps --help <s|l|o|t|m|a>'
 for additional help text.

For more details see ps(1).
`;

class PsError extends Error {}

/** Parses an -o list ("pid,comm=Name,args:20"). */
function parseFormat(spec: string): Col[] {
  const out: Col[] = [];
  let rest = spec;
  while (rest.length) {
    const m = /^[\s,]*([^\s,=:]+)(?::(\d+))?/.exec(rest);
    if (!m || m[0].trim() === '' || m[1] === undefined) {
      if (/^[\s,]*$/.test(rest)) break;
      throw new PsError('error: improper list');
    }
    const name = m[1];
    const d = FMT[name.toLowerCase()] ?? FMT[name];
    if (!d) throw new PsError(`error: unknown user-defined format specifier "${name}"`);
    rest = rest.slice(m[0].length);
    let header: string | undefined;
    if (rest.startsWith('=')) {
      // procps-ng 4: the header runs to the next comma or blank
      const h = /^=([^\s,]*)/.exec(rest) as RegExpExecArray;
      header = h[1];
      rest = rest.slice(h[0].length);
    }
    const width = m[2] !== undefined ? Number(m[2]) : header !== undefined && header.length > d.width && d.align !== 'X' ? header.length : undefined;
    out.push({ def: d, header: header ?? d.header, width: width ?? d.width });
  }
  return out;
}

interface Sel {
  all: boolean;
  notLeaders: boolean;
  ttyOnly: boolean;
  bsdA: boolean;
  bsdX: boolean;
  pids: number[];
  ppids: number[];
  users: number[];
  rusers: number[];
  cmds: string[];
  ttys: string[];
  groups: number[];
  sids: number[];
  negate: boolean;
}

function splitList(s: string): string[] {
  return s.split(/[\s,]+/).filter((x) => x !== '');
}

export function ps(ctx: ToolCtx): number {
  try {
    return psMain(ctx);
  } catch (e) {
    if (e instanceof PsError) {
      ctx.stderr.write(e.message + '\n' + USAGE);
      return 1;
    }
    throw e;
  }
}

function psMain(ctx: ToolCtx): number {
  const names = idNames(ctx);
  const sel: Sel = { all: false, notLeaders: false, ttyOnly: false, bsdA: false, bsdX: false, pids: [], ppids: [], users: [], rusers: [], cmds: [], ttys: [], groups: [], sids: [], negate: false };
  let anySel = false;
  let full = 0;
  let long = false;
  let jobs = false;
  let threads: '' | 'L' | 'T' | 'H' = '';
  let bsdFmt = '';
  let custom: Col[] | null = null;
  let noHeaders = false;
  let forest: '' | 'H' | 'f' = '';
  let bsdF = false;
  let wide = 0;
  const sorts: { key: FmtDef; desc: boolean }[] = [];
  const args = ctx.argv.slice(1);
  const userIds = (s: string): number[] =>
    splitList(s).map((u) => {
      const id = /^\d+$/.test(u) ? Number(u) : names.userId(u);
      if (id === undefined) throw new PsError('error: user name does not exist');
      return id;
    });
  const pidList = (s: string): number[] =>
    splitList(s).map((x) => {
      if (!/^\d+$/.test(x)) throw new PsError('error: process ID list syntax error');
      return Number(x);
    });
  const addSort = (spec: string): void => {
    for (const k of splitList(spec)) {
      const desc = k.startsWith('-');
      const name = k.replace(/^[+-]/, '');
      const d = FMT[name.toLowerCase()];
      if (!d) throw new PsError('error: unknown sort specifier');
      sorts.push({ key: d, desc });
    }
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = (opt: string): string => {
      const v = args[++i];
      if (v === undefined) throw new PsError(`error: list of ${opt} must follow ${opt === 'command names' ? '-C' : ''}`.trim());
      return v;
    };
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const val = (): string => (eq >= 0 ? a.slice(eq + 1) : next(name));
      switch (name) {
        case 'sort':
          addSort(val());
          break;
        case 'no-headers':
        case 'no-heading':
          noHeaders = true;
          break;
        case 'forest':
          forest = 'f';
          break;
        case 'pid':
          sel.pids.push(...pidList(val()));
          anySel = true;
          break;
        case 'ppid':
          sel.ppids.push(...pidList(val()));
          anySel = true;
          break;
        case 'user':
          sel.users.push(...userIds(val()));
          anySel = true;
          break;
        case 'User':
          sel.rusers.push(...userIds(val()));
          anySel = true;
          break;
        case 'format':
          custom = [...(custom ?? []), ...parseFormat(val())];
          break;
        case 'deselect':
          sel.negate = true;
          break;
        case 'cols':
        case 'columns':
        case 'width':
        case 'lines':
        case 'rows':
          if (eq < 0) i++;
          break;
        case 'sid':
          sel.sids.push(...pidList(val()));
          anySel = true;
          break;
        case 'help':
          write(ctx, USAGE.slice(1));
          return 0;
        case 'version':
        case 'info':
          write(ctx, 'ps from procps-ng 4.0.2\n');
          return 0;
        default:
          throw new PsError(`error: unknown gnu long option`);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        const optArg = (): string => {
          const r = a.slice(j + 1);
          j = a.length;
          if (r !== '') return r;
          const v = args[++i];
          if (v === undefined) throw new PsError(`error: list of ${c === 'C' ? 'command names' : c === 'o' ? 'format specifiers' : c === 'p' ? 'process IDs' : c === 'u' || c === 'U' ? 'users' : 'arguments'} must follow -${c}`);
          return v;
        };
        switch (c) {
          case 'e':
          case 'A':
            sel.all = true;
            anySel = true;
            break;
          case 'a':
            sel.ttyOnly = true;
            sel.notLeaders = true;
            anySel = true;
            break;
          case 'd':
            sel.notLeaders = true;
            anySel = true;
            break;
          case 'N':
            sel.negate = true;
            break;
          case 'f':
            full++;
            break;
          case 'F':
            full = 2;
            break;
          case 'l':
            long = true;
            break;
          case 'j':
            jobs = true;
            break;
          case 'L':
            threads = 'L';
            break;
          case 'T':
            threads = 'T';
            break;
          case 'm':
            threads = 'H';
            break;
          case 'H':
            forest = 'H';
            break;
          case 'w':
            wide++;
            break;
          case 'c':
          case 'y':
          case 'M':
          case 'Z':
            break;
          case 'o':
          case 'O': {
            const spec = optArg();
            const cols = parseFormat(spec);
            custom = c === 'O' ? [...(custom ?? []), col('pid'), ...cols, col('tname'), col('time'), col('ucmd')] : [...(custom ?? []), ...cols];
            break;
          }
          case 'p':
          case 'q':
            sel.pids.push(...pidList(optArg()));
            anySel = true;
            break;
          case 'u':
            sel.users.push(...userIds(optArg()));
            anySel = true;
            break;
          case 'U':
            sel.rusers.push(...userIds(optArg()));
            anySel = true;
            break;
          case 'C':
            sel.cmds.push(...splitList(optArg()));
            anySel = true;
            break;
          case 't':
            sel.ttys.push(...splitList(optArg()));
            anySel = true;
            break;
          case 'g':
          case 'G':
            sel.groups.push(...splitList(optArg()).map((g) => (/^\d+$/.test(g) ? Number(g) : (names.groupId(g) ?? -1))));
            anySel = true;
            break;
          case 's':
            sel.sids.push(...pidList(optArg()));
            anySel = true;
            break;
          case 'V':
            write(ctx, 'ps from procps-ng 4.0.2\n');
            return 0;
          default:
            throw new PsError(`error: unsupported SysV option`);
        }
      }
      continue;
    }
    // BSD options (no dash); a number is a pid
    if (/^\d+(,\d+)*$/.test(a)) {
      sel.pids.push(...pidList(a));
      anySel = true;
      continue;
    }
    for (let j = 0; j < a.length; j++) {
      const c = a[j];
      const optArg = (): string => {
        const r = a.slice(j + 1);
        j = a.length;
        if (r !== '') return r;
        const v = args[++i];
        if (v === undefined) throw new PsError(`error: list of arguments must follow ${c}`);
        return v;
      };
      switch (c) {
        case 'a':
          sel.bsdA = true;
          anySel = true;
          break;
        case 'x':
          sel.bsdX = true;
          anySel = true;
          break;
        case 'u':
        case 'j':
        case 'l':
        case 'v':
          bsdFmt = c === 'u' ? 'u' : c === 'j' ? 'bsdj' : c === 'l' ? 'bsdl' : 'v';
          break;
        case 'f':
          forest = 'f';
          bsdF = true;
          break;
        case 'h':
          noHeaders = true;
          break;
        case 'H':
          threads = 'H';
          break;
        case 'm':
          threads = 'H';
          break;
        case 'w':
          wide++;
          break;
        case 'e':
        case 'c':
        case 'n':
        case 'r':
        case 'S':
          break;
        case 'o':
          custom = [...(custom ?? []), ...parseFormat(optArg())];
          break;
        case 'O': {
          const cols = parseFormat(optArg());
          custom = [...(custom ?? []), col('pid'), ...cols, col('tname'), col('stat'), col('bsdtime'), col('args')];
          break;
        }
        case 'p':
          sel.pids.push(...pidList(optArg()));
          anySel = true;
          break;
        case 'U':
          sel.users.push(...userIds(optArg()));
          anySel = true;
          break;
        case 't':
          sel.ttys.push(...splitList(optArg()));
          anySel = true;
          break;
        case 'k':
          addSort(optArg());
          break;
        case 'L':
          write(ctx, Object.keys(FMT).map((k) => `${k.padEnd(10)} ${FMT[k].header}`).join('\n') + '\n');
          return 0;
        case 'V':
          write(ctx, 'ps from procps-ng 4.0.2\n');
          return 0;
        default:
          throw new PsError(`error: unsupported option (BSD syntax)`);
      }
    }
  }

  // the columns
  let cols: Col[];
  if (custom) cols = custom;
  else if (bsdFmt) cols = FORMATS[bsdFmt]();
  else if (long) cols = full ? FORMATS.lf() : FORMATS.l();
  else if (threads === 'L') cols = full ? FORMATS.Lf() : FORMATS.L();
  else if (threads === 'T') cols = full ? FORMATS.Tf() : FORMATS.T();
  else if (jobs) cols = full ? FORMATS.jf() : FORMATS.j();
  else if (full === 2) cols = FORMATS.F();
  else if (full) cols = FORMATS.f();
  else if (sel.bsdA || sel.bsdX || bsdF) cols = FORMATS.bsd();
  else cols = FORMATS.default();
  const pw = pidWidth(ctx);
  cols = cols.map((c) => (c.def.pidlike && c.width === c.def.width ? { ...c, width: pw } : c));

  // the processes
  const [up] = uptimeSecs(ctx);
  const st = procStat(ctx);
  const env: Env = { now: wallMs(ctx), up, btime: st.fields.btime?.[0] ?? Math.floor(ctx.host.bootEpochMs() / 1000), memTotal: meminfo(ctx).MemTotal ?? 0, names };
  const all = readProcs(ctx, threads !== '');
  const me = readProc(ctx, ctx.pid);
  const myTty = me?.ttyNr ?? 0;
  const myEuid = me?.euid ?? ctx.host.uid;
  const match = (p: Proc): boolean => {
    if (!anySel) return p.euid === myEuid && p.ttyNr === myTty;
    if (sel.all) return true;
    if (sel.bsdA && sel.bsdX) return true;
    if (sel.bsdA && p.ttyNr !== 0) return true;
    if (sel.bsdX && !sel.bsdA && p.euid === myEuid) return true;
    if (sel.notLeaders && p.session !== p.pid && (!sel.ttyOnly || p.ttyNr !== 0)) return true;
    if (sel.pids.includes(p.pid)) return true;
    if (sel.ppids.includes(p.ppid)) return true;
    if (sel.users.includes(p.euid)) return true;
    if (sel.rusers.includes(p.ruid)) return true;
    if (sel.groups.includes(p.egid) || sel.groups.includes(p.rgid)) return true;
    if (sel.sids.includes(p.session)) return true;
    if (sel.cmds.includes(p.comm)) return true;
    if (sel.ttys.length && sel.ttys.some((t) => t.replace(/^\/dev\//, '') === ttyName(p.ttyNr) || (t === '-' && p.ttyNr === 0))) return true;
    return false;
  };
  let list = all.filter((p) => match(p) !== sel.negate);
  if (sorts.length) {
    list = [...list].sort((a, b) => {
      for (const s of sorts) {
        const ka = s.key.key ? s.key.key(a, env) : s.key.get(a, env);
        const kb = s.key.key ? s.key.key(b, env) : s.key.get(b, env);
        const c = typeof ka === 'number' && typeof kb === 'number' ? ka - kb : String(ka) < String(kb) ? -1 : String(ka) > String(kb) ? 1 : 0;
        if (c !== 0) return s.desc ? -c : c;
      }
      return 0;
    });
  }
  let indent = new Map<Proc, string>();
  if (forest) {
    const r = forestOrder(list, forest);
    list = r.list;
    indent = r.indent;
  }

  // COLUMNS, else the terminal's width (80), else unlimited; at least 132 with w, unlimited with ww
  const envCols = Number(ctx.env.COLUMNS) || 0;
  let cols80 = envCols ? envCols : ctx.tty ? 80 : Infinity;
  if (wide === 1) cols80 = Math.max(cols80, 132);
  if (wide >= 2) cols80 = Infinity;
  const lines: string[] = [];
  if (!noHeaders && cols.some((c) => c.header !== '')) lines.push(renderRow(cols, cols.map((c) => c.header), cols80, true));
  for (const p of list) {
    ctx.tick(1);
    const cells = cols.map((c) => {
      let v = c.def.get(p, env);
      if (indent.has(p) && (c.def === FMT.args || c.def === FMT.cmd || c.def === FMT.command || c.def === FMT.comm || c.def === FMT.ucmd || c.def === FMT.ucomm)) v = (indent.get(p) ?? '') + v;
      return v;
    });
    lines.push(renderRow(cols, cells, cols80, false));
  }
  write(ctx, lines.map((l) => l + '\n').join(''));
  return list.length ? 0 : 1;
}

function forestOrder(list: Proc[], style: 'H' | 'f'): { list: Proc[]; indent: Map<Proc, string> } {
  const byPid = new Map<number, Proc>();
  for (const p of list) if (p.tid === p.pid) byPid.set(p.pid, p);
  const kids = new Map<number, Proc[]>();
  const roots: Proc[] = [];
  for (const p of list) {
    if (p.tid !== p.pid) continue;
    if (p.ppid !== p.pid && byPid.has(p.ppid)) {
      const k = kids.get(p.ppid) ?? [];
      k.push(p);
      kids.set(p.ppid, k);
    } else roots.push(p);
  }
  // procps walks kthreadd's tree before init's
  const ordered = [...roots.filter((p) => p.pid !== 1), ...roots.filter((p) => p.pid === 1)];
  const out: Proc[] = [];
  const indent = new Map<Proc, string>();
  // the ASCII-art forest draws init's children as roots
  const walk = (p: Proc, level: number, underInit: boolean): void => {
    out.push(p);
    const lv = style === 'f' && underInit ? level - 1 : level;
    indent.set(p, lv <= 0 ? '' : style === 'H' ? '  '.repeat(lv) : '    '.repeat(lv - 1) + ' \\_ ');
    for (const t of list) if (t.pid === p.pid && t.tid !== t.pid) out.push(t);
    for (const c of kids.get(p.pid) ?? []) walk(c, level + 1, underInit || p.pid === 1);
  };
  for (const r of ordered) walk(r, 0, false);
  return { list: out, indent };
}

/** procps's show_one_proc: columns absorb the overflow of earlier ones where they have padding. */
function renderRow(cols: Col[], cells: string[], maxCols: number, header: boolean): string {
  let out = '';
  let correct = 0;
  let actual = 0;
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i];
    const last = i === cols.length - 1;
    let v = cells[i];
    const align = c.def.align;
    if (!header && !last && (align === 'X' || align === 'L' || align === 'W')) {
      if (v.length > c.width) v = v.slice(0, c.width);
    }
    if (!header && !last && align === 'U' && v.length > c.width) v = v.slice(0, Math.max(0, c.width - 1)) + '+';
    const right = align === 'R';
    const leftpad = right ? Math.max(0, c.width - v.length) : 0;
    let space = correct - actual + leftpad;
    const dospace = i > 0 ? 1 : 0;
    if (space < 1) space = dospace;
    if (last) {
      let line = out + ' '.repeat(space) + v;
      if (Number.isFinite(maxCols) && line.length > maxCols) line = line.slice(0, maxCols);
      return line;
    }
    out += ' '.repeat(space) + v;
    actual += space + v.length;
    correct += c.width + 1;
  }
  return out;
}
