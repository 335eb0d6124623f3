import type { ToolCtx } from '../../types';
import { idNames } from '../common';
import type { CpuTimes } from '../../../sched/sched';

/**
 * What the procps library (libproc2) reads for the tools: /proc/<pid>/stat,
 * status, cmdline, wchan, /proc/meminfo, /proc/uptime, /proc/stat. Every
 * tool renders from these files only, so they agree with the REST views.
 */

export const HZ = 100;

export interface Proc {
  pid: number;
  /** thread id (== pid for the leader / process listing) */
  tid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  ttyNr: number;
  tpgid: number;
  flags: number;
  minflt: number;
  majflt: number;
  utime: number;
  stime: number;
  priority: number;
  nice: number;
  nlwp: number;
  /** clock ticks after boot */
  start: number;
  /** bytes, from stat */
  vsize: number;
  /** pages, from stat */
  rssPages: number;
  processor: number;
  rtprio: number;
  policy: number;
  ruid: number;
  euid: number;
  suid: number;
  fuid: number;
  rgid: number;
  egid: number;
  /** kB from status (0 for kernel threads) */
  vmSize: number;
  vmRss: number;
  vmLck: number;
  rssFile: number;
  rssShmem: number;
  cmdline: string[];
  wchan: string;
  /** code size, bytes (end_code - start_code) */
  codeBytes: number;
}

export function readOr(ctx: ToolCtx, path: string): string | undefined {
  try {
    return ctx.host.readFile(ctx.pid, path, '/');
  } catch {
    return undefined;
  }
}

function num(s: string | undefined): number {
  const n = Number(s);
  return Number.isFinite(n) ? n : 0;
}

function statusKb(status: string, key: string): number {
  const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(status);
  return m ? Number(m[1]) : 0;
}

function readOne(ctx: ToolCtx, dir: string, pid: number, tid: number): Proc | null {
  const stat = readOr(ctx, `${dir}/stat`);
  if (stat === undefined) return null;
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < 0) return null;
  const comm = stat.slice(open + 1, close);
  const f = stat
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // f[0] = field 3 (state)
  const F = (n: number): number => num(f[n - 3]);
  const status = readOr(ctx, `${dir}/status`) ?? '';
  const ids = (key: string): number[] => {
    const m = new RegExp(`^${key}:\\s*(\\d+)\\s+(\\d+)\\s+(\\d+)\\s+(\\d+)`, 'm').exec(status);
    return m ? [1, 2, 3, 4].map((i) => Number(m[i])) : [0, 0, 0, 0];
  };
  const u = ids('Uid');
  const g = ids('Gid');
  const cmd = readOr(ctx, `${dir}/cmdline`) ?? '';
  const cmdline = cmd === '' ? [] : cmd.replace(/\0$/, '').split('\0');
  const wchan = (readOr(ctx, `${dir}/wchan`) ?? '').trim();
  return {
    pid,
    tid,
    comm,
    state: f[0] ?? '?',
    ppid: F(4),
    pgrp: F(5),
    session: F(6),
    ttyNr: F(7),
    tpgid: F(8),
    flags: F(9),
    minflt: F(10),
    majflt: F(12),
    utime: F(14),
    stime: F(15),
    priority: F(18),
    nice: F(19),
    nlwp: F(20),
    start: F(22),
    vsize: F(23),
    rssPages: F(24),
    processor: F(39),
    rtprio: F(40),
    policy: F(41),
    ruid: u[0],
    euid: u[1],
    suid: u[2],
    fuid: u[3],
    rgid: g[0],
    egid: g[1],
    vmSize: status.includes('VmSize:') ? statusKb(status, 'VmSize') : Math.floor(F(23) / 1024),
    vmRss: status.includes('VmRSS:') ? statusKb(status, 'VmRSS') : F(24) * 4,
    vmLck: statusKb(status, 'VmLck'),
    rssFile: statusKb(status, 'RssFile'),
    rssShmem: statusKb(status, 'RssShmem'),
    cmdline,
    wchan,
    codeBytes: Math.max(0, F(27) - F(26)),
  };
}

/** pids listed in /proc, ascending (readdir order of /proc is numeric on Linux) */
export function listPids(ctx: ToolCtx): number[] {
  let names: string[] = [];
  try {
    names = ctx.host.readdir(ctx.pid, '/proc', '/').map((e) => e.name);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^[1-9]\d*$/.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Every process (or every thread, with `threads`) the reader can see. */
export function readProcs(ctx: ToolCtx, threads = false): Proc[] {
  const out: Proc[] = [];
  for (const pid of listPids(ctx)) {
    ctx.tick(1);
    const p = readOne(ctx, `/proc/${pid}`, pid, pid);
    if (!p) continue;
    if (!threads) {
      out.push(p);
      continue;
    }
    let tids: number[] = [];
    try {
      tids = ctx.host
        .readdir(ctx.pid, `/proc/${pid}/task`, '/')
        .map((e) => e.name)
        .filter((n) => /^\d+$/.test(n))
        .map(Number)
        .sort((a, b) => a - b);
    } catch {
      tids = [];
    }
    if (tids.length === 0) {
      out.push(p);
      continue;
    }
    for (const tid of tids) {
      const t = tid === pid ? p : readOne(ctx, `/proc/${pid}/task/${tid}`, pid, tid);
      if (t) out.push({ ...t, pid, tid, cmdline: p.cmdline, nlwp: p.nlwp });
    }
  }
  return out;
}

export function readProc(ctx: ToolCtx, pid: number): Proc | null {
  return readOne(ctx, `/proc/${pid}`, pid, pid);
}

export function meminfo(ctx: ToolCtx): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of (readOr(ctx, '/proc/meminfo') ?? '').split('\n')) {
    const m = /^([^:]+):\s*(\d+)/.exec(l);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** /proc/uptime: [uptime s, idle s] */
export function uptimeSecs(ctx: ToolCtx): [number, number] {
  const t = (readOr(ctx, '/proc/uptime') ?? '0 0').trim().split(/\s+/).map(Number);
  return [t[0] || 0, t[1] || 0];
}

export function loadavg(ctx: ToolCtx): string[] {
  return (readOr(ctx, '/proc/loadavg') ?? '0.00 0.00 0.00 0/0 0').trim().split(/\s+/);
}

/** one cpu line of /proc/stat, in ticks: the kernel's own ten columns */
export type CpuLine = CpuTimes;

export function procStat(ctx: ToolCtx): { cpu: CpuLine; cpus: CpuLine[]; fields: Record<string, number[]> } {
  const fields: Record<string, number[]> = {};
  for (const l of (readOr(ctx, '/proc/stat') ?? '').split('\n')) {
    const p = l.trim().split(/\s+/);
    if (p[0]) fields[p[0]] = p.slice(1).map(Number);
  }
  const mk = (v: number[] = []): CpuLine => ({
    user: v[0] ?? 0,
    nice: v[1] ?? 0,
    system: v[2] ?? 0,
    idle: v[3] ?? 0,
    iowait: v[4] ?? 0,
    irq: v[5] ?? 0,
    softirq: v[6] ?? 0,
    steal: v[7] ?? 0,
    guest: v[8] ?? 0,
    guestNice: v[9] ?? 0,
  });
  const cpus: CpuLine[] = [];
  for (let i = 0; fields[`cpu${i}`]; i++) cpus.push(mk(fields[`cpu${i}`]));
  return { cpu: mk(fields.cpu), cpus, fields };
}

/** width of pid columns: the digits of kernel.pid_max (procps-ng 4) */
export function pidWidth(ctx: ToolCtx): number {
  const v = Number((readOr(ctx, '/proc/sys/kernel/pid_max') ?? '32768').trim());
  return Number.isFinite(v) && v > 0 ? String(v).length : 5;
}

/** tty name from tty_nr, as procps prints it ("?" for none) */
export function ttyName(nr: number): string {
  if (nr === 0) return '?';
  const major = (nr >> 8) & 0xfff;
  const minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  if (major >= 136 && major <= 143) return `pts/${minor + (major - 136) * 256}`;
  if (major === 5 && minor === 0) return 'tty';
  if (major === 5 && minor === 1) return 'console';
  return '?';
}

export type Names = ReturnType<typeof idNames>;

/** user name, as procps prints it (the number when unknown) */
export function userName(names: Names, uid: number): string {
  return names.user(uid);
}

export function hostnameOf(ctx: ToolCtx): string {
  return (readOr(ctx, '/proc/sys/kernel/hostname') ?? 'localhost').trim();
}

/** "HH:MM:SS" of the wall clock now (UTC) */
export function clockStr(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** uptime's "up ..." phrase (procps sprint_uptime) */
export function upPhrase(up: number): string {
  const updays = Math.floor(up / 86400);
  let s = '';
  if (updays) s += `${updays} day${updays !== 1 ? 's' : ''}, `;
  const upminutes = Math.floor(up / 60);
  const uphours = Math.floor(upminutes / 60) % 24;
  const mins = upminutes % 60;
  if (uphours) s += `${String(uphours).padStart(2)}:${String(mins).padStart(2, '0')}`;
  else s += `${mins} min`;
  return s;
}

/** logged-in users: the machine keeps no utmp sessions, so none (as on the reference machine) */
export function userCount(_ctx: ToolCtx): number {
  return 0;
}

/** the whole uptime line (also top's first line without "top - ") */
export function uptimeLine(ctx: ToolCtx, nowMs: number): string {
  const [up] = uptimeSecs(ctx);
  const la = loadavg(ctx);
  const n = userCount(ctx);
  return ` ${clockStr(nowMs)} up ${upPhrase(up)},  ${n} user${n > 1 ? 's' : ''},  load average: ${la[0]}, ${la[1]}, ${la[2]}`;
}
