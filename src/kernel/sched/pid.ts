/**
 * /proc/<pid>/ (and /proc/<pid>/task/<tid>/): the per-task files of
 * fs/proc/base.c, array.c and task_mmu.c, rendered from the task model.
 */
import { KernelError } from '../errors';
import type { DirNode, DirTable, FsCtx, VNode } from '../fs/vnode';
import { pdir, pfile, plink, wofile } from '../fs/vnode';
import type { Kernel } from '../kernel';
import { PAGE_SIZE } from '../types';
import { padL, padR } from '../util/format';
import { STATE_NAMES, bitmapHex, bitmapList, clockT, splitNs, ttyDev } from './fmt';
import { renderMaps, renderSmaps, renderSmapsRollup, renderStatm as mmStatm } from '../mm/maps';
import { stackAddresses } from './mmviews';
import { mountinfo } from './mountinfo';
import { renderTaskStack } from './sysrq';
import { O, PF, type Proc, RLIMITS, RLIMIT_SIGPENDING, type Task, isRt, maskLow31, prioOf, weightOf } from './task';

/** ULONG_MAX, what RLIM_INFINITY prints as in /proc/<pid>/stat */
const ULONG_MAX = '18446744073709551615';
const CAP_FULL = '000001ffffffffff';
const MEMS_ALLOWED = Array.from({ length: 32 }, (_, i) => (i === 31 ? '00000001' : '00000000')).join(',');

function task(k: Kernel, pid: number): Task {
  const t = k.sched.taskInfo(pid);
  if (!t) throw new KernelError('ESRCH');
  return t as Task;
}

function proc(k: Kernel, t: Task): Proc | undefined {
  return k.sched.proc(t.tgid) as Proc | undefined;
}

/** proc_task_name(): full kthread names, "kworker/0:1-events" for workers. */
export function taskName(t: Task): string {
  if (t.kthread && t.wq !== undefined && t.flags & PF.WQ_WORKER) return `${t.comm}-${t.wq}`.slice(0, 63);
  if (t.kthread && t.kname) return t.kname;
  return t.comm;
}

/** seq_escape_str(ESCAPE_SPACE | ESCAPE_SPECIAL, "\n\\") as status Name: prints it. */
function escapeName(s: string): string {
  return s.replace(/[\\\n\t\f\v\r ]/g, (c) => ({ '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\f': '\\f', '\v': '\\v', '\r': '\\r', ' ': '\\040' })[c] ?? c);
}

const kb = (pages: number): string => `${padL((pages * PAGE_SIZE) / 1024, 8)} kB`;

export function renderStatus(k: Kernel, pid: number): string {
  const t = task(k, pid);
  const p = proc(k, t);
  const s = k.sched;
  const mem = t.state === 'Z' || t.kthread ? undefined : k.mm.taskMem(t.tgid);
  const times = s.taskTimes(t.pid);
  const threads = s.threads(t.tgid).length;
  const fds = p ? Object.keys(p.fds).map(Number) : [];
  const maxFd = fds.length ? Math.max(...fds) : -1;
  let fdSize = 64;
  while (fdSize <= maxFd) fdSize *= 2;
  if (t.state === 'Z') fdSize = 0;
  const root = t.euid === 0;
  const lines: string[] = [];
  lines.push(`Name:\t${escapeName(taskName(t))}`);
  if (t.state !== 'Z') lines.push(`Umask:\t${(p?.umask ?? 0o22).toString(8).padStart(4, '0')}`);
  lines.push(`State:\t${STATE_NAMES[s.displayState(t)]}`);
  lines.push(`Tgid:\t${t.tgid}`);
  lines.push('Ngid:\t0');
  lines.push(`Pid:\t${t.pid}`);
  lines.push(`PPid:\t${t.ppid}`);
  lines.push('TracerPid:\t0');
  lines.push(`Uid:\t${t.uid}\t${t.euid}\t${t.suid}\t${t.fsuid}`);
  lines.push(`Gid:\t${t.gid}\t${t.egid}\t${t.sgid}\t${t.fsgid}`);
  lines.push(`FDSize:\t${fdSize}`);
  lines.push(`Groups:\t${t.groups.join(' ')} `);
  lines.push(`NStgid:\t${t.tgid}`);
  lines.push(`NSpid:\t${t.pid}`);
  lines.push(`NSpgid:\t${t.pgid}`);
  lines.push(`NSsid:\t${t.sid}`);
  let out = lines.join('\n') + '\n';
  if (mem) {
    out +=
      `VmPeak:\t${kb(mem.peakPages)}\nVmSize:\t${kb(mem.vmPages)}\nVmLck:\t${kb(mem.lockedPages)}\nVmPin:\t${kb(mem.pinnedPages)}\n` +
      `VmHWM:\t${kb(mem.hwmPages)}\nVmRSS:\t${kb(mem.rssAnonPages + mem.rssFilePages + mem.rssShmemPages)}\n` +
      `RssAnon:\t${kb(mem.rssAnonPages)}\nRssFile:\t${kb(mem.rssFilePages)}\nRssShmem:\t${kb(mem.rssShmemPages)}\n` +
      `VmData:\t${kb(mem.dataPages)}\nVmStk:\t${kb(mem.stackPages)}\nVmExe:\t${kb(mem.exePages)}\nVmLib:\t${kb(mem.libPages)}\n` +
      `VmPTE:\t${padL(Math.floor(mem.pteBytes / 1024), 8)} kB\nVmSwap:\t${kb(mem.swapPages)}\nHugetlbPages:\t${kb(0)}\n` +
      'CoreDumping:\t0\nTHP_enabled:\t1\n';
  }
  const nsigpend = p?.limits[RLIMIT_SIGPENDING]?.[0] ?? 0;
  const affinity = s.affinity(t.pid);
  out +=
    `Threads:\t${threads}\n` +
    `SigQ:\t0/${nsigpend < 0 ? ULONG_MAX : nsigpend}\n` +
    `SigPnd:\t${t.sigPnd}\nShdPnd:\t0000000000000000\nSigBlk:\t${t.sigBlk}\n` +
    `SigIgn:\t${p?.sigIgn ?? '0000000000000000'}\nSigCgt:\t${p?.sigCgt ?? '0000000000000000'}\n` +
    `CapInh:\t0000000000000000\nCapPrm:\t${root ? CAP_FULL : '0000000000000000'}\nCapEff:\t${root ? CAP_FULL : '0000000000000000'}\n` +
    `CapBnd:\t${CAP_FULL}\nCapAmb:\t0000000000000000\n` +
    'NoNewPrivs:\t0\nSeccomp:\t0\nSeccomp_filters:\t0\n' +
    'Speculation_Store_Bypass:\tnot vulnerable\nSpeculationIndirectBranch:\talways enabled\n' +
    `Cpus_allowed:\t${bitmapHex(affinity, s.cpuCount())}\nCpus_allowed_list:\t${bitmapList(affinity)}\n` +
    `Mems_allowed:\t${MEMS_ALLOWED}\nMems_allowed_list:\t0\n` +
    `voluntary_ctxt_switches:\t${times.nv}\nnonvoluntary_ctxt_switches:\t${times.niv}\n`;
  return out;
}

/** do_task_stat(): /proc/<pid>/stat (whole = the thread group) and task/<tid>/stat. */
export function renderStat(k: Kernel, pid: number, whole: boolean): string {
  const t = task(k, pid);
  const p = proc(k, t);
  const s = k.sched;
  const threads = s.threads(t.tgid);
  const mem = t.state === 'Z' || t.kthread ? undefined : k.mm.taskMem(t.tgid);
  let ut: number;
  let st: number;
  let minflt = t.minflt;
  let majflt = t.majflt;
  if (whole) {
    const g = s.groupTimes(t.tgid);
    ut = g.ut;
    st = g.st;
    minflt = threads.reduce((a, x) => a + x.minflt, 0);
    majflt = threads.reduce((a, x) => a + x.majflt, 0);
  } else {
    const x = s.taskTimes(t.pid);
    ut = x.ut;
    st = x.st;
  }
  const leader = s.taskInfo(t.tgid) ?? t;
  const state = s.displayState(t);
  const tty = p?.tty ?? null;
  const ttyNr = ttyDev(tty);
  const tpgid = tty ? leader.pgid : -1;
  const wchan = (!whole || threads.length < 2) && state !== 'R' ? 1 : 0;
  const a = mem && p ? stackAddresses(k, t.tgid, p) : undefined;
  const rssPages = mem ? mem.rssAnonPages + mem.rssFilePages + mem.rssShmemPages : 0;
  const f: (string | number)[] = [
    t.ppid,
    t.pgid,
    t.sid,
    ttyNr,
    tpgid,
    t.flags >>> 0,
    minflt,
    whole ? t.cminflt : 0,
    majflt,
    whole ? t.cmajflt : 0,
    clockT(ut),
    clockT(st),
    whole ? clockT(t.cutime) : 0,
    whole ? clockT(t.cstime) : 0,
    prioOf(t) - 100,
    t.nice,
    threads.length,
    0,
    clockT(t.startNs),
    mem ? mem.vmPages * PAGE_SIZE : 0,
    rssPages,
    ULONG_MAX,
    a ? a.startCode : 0,
    a ? a.endCode : 0,
    a ? a.startStack : 0,
    0,
    0,
    maskLow31(t.sigPnd),
    maskLow31(t.sigBlk),
    maskLow31(p?.sigIgn ?? '0000000000000000'),
    maskLow31(p?.sigCgt ?? '0000000000000000'),
    wchan,
    0,
    0,
    t.exitSignal,
    t.cpu,
    t.rtPrio,
    t.policy,
    0,
    0,
    0,
  ];
  if (a) f.push(a.startData, a.endData, a.startBrk, a.argStart, a.argEnd, a.envStart, a.envEnd);
  else f.push(0, 0, 0, 0, 0, 0, 0);
  f.push(t.state === 'Z' ? t.exitCode : 0);
  return `${t.pid} (${taskName(t)}) ${state} ${f.join(' ')}\n`;
}

export function renderStatm(k: Kernel, pid: number): string {
  const t = task(k, pid);
  if (t.state === 'Z' || t.kthread) return '0 0 0 0 0 0 0\n';
  return mmStatm(k, t.tgid);
}

export function renderSched(k: Kernel, pid: number): string {
  const t = task(k, pid);
  const s = k.sched;
  const x = s.taskTimes(t.pid);
  const PN = (name: string, ns: number): string => `${padR(name, 45)}:${splitNs(ns, 14)}\n`;
  const P = (name: string, v: number): string => `${padR(name, 45)}:${padL(v, 21)}\n`;
  const weight = isRt(t) ? 1024 : weightOf(t);
  const divider = 47742 - 1024 + (Math.floor(k.now / 1024) % 1024);
  const runnable = t.state === 'R' ? x.runnable : Math.floor(x.runnable / 2);
  const loadAvg = Math.floor((runnable * weight) / 1024);
  let out = `${t.comm} (${t.pid}, #threads: ${s.threads(t.tgid).length})\n`;
  out += '-------------------------------------------------------------------\n';
  out += PN('se.exec_start', x.lastRan);
  out += PN('se.vruntime', x.vrt);
  out += PN('se.sum_exec_runtime', x.sum);
  out += P('se.nr_migrations', t.mig);
  out += P('nr_switches', x.nv + x.niv);
  out += P('nr_voluntary_switches', x.nv);
  out += P('nr_involuntary_switches', x.niv);
  out += P('se.load.weight', weight * 1024);
  out += P('se.avg.load_sum', Math.floor((runnable * divider) / 1024));
  out += P('se.avg.runnable_sum', runnable * divider);
  out += P('se.avg.util_sum', x.util * divider);
  out += P('se.avg.load_avg', loadAvg);
  out += P('se.avg.runnable_avg', runnable);
  out += P('se.avg.util_avg', x.util);
  out += P('se.avg.last_update_time', Math.floor(x.lastRan / 1024) * 1024);
  out += P('se.avg.util_est.ewma', t.state === 'R' ? 0 : x.util);
  out += P('se.avg.util_est.enqueued', t.state === 'R' ? 0 : x.util);
  out += P('policy', t.policy);
  out += P('prio', prioOf(t));
  out += P('clock-delta', 40 + ((t.pid * 131 + Math.floor(k.now / 1000)) % 60));
  if (!t.kthread && t.state !== 'Z') out += P('mm->numa_scan_seq', 0);
  out += P('numa_pages_migrated', 0);
  out += P('numa_preferred_nid', -1);
  out += P('total_numa_faults', 0);
  out += 'current_node=0, numa_group_id=0\n';
  out += 'numa_faults node=0 task_private=0 task_shared=0 group_private=0 group_shared=0\n';
  return out;
}

export function renderLimits(k: Kernel, pid: number): string {
  const t = task(k, pid);
  const p = proc(k, t);
  let out = `${padR('Limit', 25)} ${padR('Soft Limit', 20)} ${padR('Hard Limit', 20)} ${padR('Units', 10)}\n`;
  RLIMITS.forEach((r, i) => {
    const [soft, hard] = p?.limits[i] ?? [-1, -1];
    const v = (x: number): string => padR(x < 0 ? 'unlimited' : String(x), 20);
    out += `${padR(r.name, 25)} ${v(soft)} ${v(hard)} ${r.units ? `${padR(r.units, 10)}\n` : '\n'}`;
  });
  return out;
}

export function renderIo(k: Kernel, pid: number, whole: boolean): string {
  const t = task(k, pid);
  const tasks = whole ? k.sched.threads(t.tgid) : [t];
  const io = [0, 0, 0, 0, 0, 0, 0];
  for (const x of tasks) x.io.forEach((v, i) => (io[i] += v));
  const names = ['rchar', 'wchar', 'syscr', 'syscw', 'read_bytes', 'write_bytes', 'cancelled_write_bytes'];
  return names.map((n, i) => `${n}: ${io[i]}\n`).join('');
}

const SYSCALL_OF: Record<string, number> = {
  ep_poll: 232,
  do_sys_poll: 7,
  hrtimer_nanosleep: 230,
  do_wait: 61,
  wait_woken: 0,
  folio_wait_bit_common: 0,
  schedule_timeout: 0,
  do_signal_stop: 0,
};

export function renderSyscall(k: Kernel, pid: number): string {
  const t = task(k, pid);
  const state = k.sched.displayState(t);
  if (state === 'R') return 'running\n';
  if (t.kthread || t.state === 'Z') return '0 0x0 0x0 0x0 0x0 0x0 0x0 0x0 0x0\n';
  const p = proc(k, t);
  const nr = SYSCALL_OF[t.wchan] ?? 0;
  const sp = p ? stackAddresses(k, t.tgid, p).startStack - 0x1c8 - ((t.pid * 16) % 512) : 0;
  const pc = 0x7f0000000000 + ((p?.aslr ?? 0) % 0x100000) * 4096 + 0xe4a3d;
  const hex = (v: number): string => `0x${v.toString(16)}`;
  const args = nr === 232 ? [4, sp - 0x40, 16, -1] : nr === 7 ? [sp - 0x80, 2, -1, 0] : nr === 61 ? [-1, sp - 0x14, 0, 0] : nr === 230 ? [0, 0, sp - 0x20, sp - 0x20] : [0, sp - 0x1000, 4096, 0];
  const a = args.map((v) => (v < 0 ? '0xffffffffffffffff' : hex(v)));
  return `${nr} ${a.join(' ')} 0x0 0x0 ${hex(sp)} ${hex(pc)}\n`;
}

export function renderCmdline(k: Kernel, pid: number): string {
  const t = task(k, pid);
  if (t.kthread || t.state === 'Z') return '';
  const p = proc(k, t);
  if (!p || p.argv.length === 0) return '';
  return p.argv.join('\0') + '\0';
}

export function renderEnviron(k: Kernel, pid: number): string {
  const t = task(k, pid);
  if (t.kthread || t.state === 'Z') return '';
  const p = proc(k, t);
  if (!p || p.env.length === 0) return '';
  return p.env.join('\0') + '\0';
}

function fdLinkMode(flags: number): number {
  const acc = flags & O.ACCMODE;
  return acc === O.RDWR ? 0o700 : acc === O.WRONLY ? 0o300 : 0o500;
}

function fdDir(k: Kernel, pid: number, info: boolean): DirNode {
  const t = task(k, pid);
  const list = (): DirTable => {
    const out: DirTable = {};
    const tk = k.sched.taskInfo(pid);
    if (!tk) return out;
    const p = k.sched.proc(tk.tgid);
    if (!p || tk.state === 'Z') return out;
    const fds = Object.keys(p.fds)
      .map(Number)
      .sort((a, b) => a - b);
    for (const fd of fds) {
      if (info) {
        out[String(fd)] = () => {
          const f = k.sched.proc(tk.tgid)?.fds[fd];
          if (!f) throw new KernelError('ENOENT');
          return { ...pfile(() => renderFdinfo(k, tk.tgid, fd)), uid: t.euid, gid: t.egid };
        };
      } else {
        const f = p.fds[fd];
        out[String(fd)] = () => ({
          ...plink(() => {
            const cur = k.sched.proc(tk.tgid)?.fds[fd];
            if (!cur) throw new KernelError('ENOENT');
            return cur.path;
          }),
          mode: fdLinkMode(f.flags),
          uid: t.euid,
          gid: t.egid,
        });
      }
    }
    return out;
  };
  const d = pdir(list, { mode: info ? 0o555 : 0o500 });
  return { ...d, uid: t.euid, gid: t.egid };
}

/** fdinfo: position, flags (octal), mount id and inode of the open file. */
export function renderFdinfo(k: Kernel, tgid: number, fd: number): string {
  const p = k.sched.proc(tgid);
  const f = p?.fds[fd];
  if (!f) throw new KernelError('ENOENT');
  let mnt = 15;
  let ino = f.ino ?? 0;
  if (f.path.startsWith('/')) {
    try {
      const r = k.vfs.resolve(k.rootCtx(), f.path);
      mnt = mountinfo(k).find((m) => m.path === r.mount.path)?.id ?? 1;
      ino = r.node.ino ?? inoOf(f.path);
    } catch {
      mnt = 1;
      ino = inoOf(f.path);
    }
  } else if (f.path.startsWith('anon_inode:')) {
    mnt = 14;
    ino = 1057;
  } else if (f.path.startsWith('pipe:')) mnt = 13;
  else if (f.path.startsWith('socket:')) mnt = 8;
  return `pos:\t${f.pos}\nflags:\t0${f.flags.toString(8)}\nmnt_id:\t${mnt}\nino:\t${ino}\n`;
}

function inoOf(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193) >>> 0;
  return 100 + (h % 50000);
}

const NS_INODES: [string, number][] = [
  ['cgroup', 4026531835],
  ['ipc', 4026531839],
  ['mnt', 4026531841],
  ['net', 4026531840],
  ['pid', 4026531836],
  ['pid_for_children', 4026531836],
  ['time', 4026531834],
  ['time_for_children', 4026531834],
  ['user', 4026531837],
  ['uts', 4026531838],
];

export function renderMountinfo(k: Kernel): string {
  return mountinfo(k)
    .map((m) => `${m.id} ${m.parent} ${m.dev} / ${m.path} ${m.mountOpts} - ${m.fstype} ${m.source} ${m.superOpts}\n`)
    .join('');
}

/** The directory of one task: /proc/<pid> (thread = false) or /proc/<pid>/task/<tid>. */
export function pidDir(k: Kernel, pid: number, thread: boolean): DirNode {
  const t0 = task(k, pid);
  const own = <T extends VNode>(n: T): T => ({ ...n, uid: t0.euid, gid: t0.egid });
  const whole = !thread;
  const live = (): Task => task(k, pid);
  const f = (render: () => string, mode = 0o444): VNode => own(pfile(() => render(), { mode }));
  const table: DirTable = {
    autogroup: () => f(() => '', 0o644),
    cgroup: () => f(() => `0::${proc(k, live())?.cgroup ?? '/'}\n`),
    clear_refs: () => own(wofile(() => undefined, 0o200)),
    cmdline: () => f(() => renderCmdline(k, pid)),
    comm: () =>
      own(
        pfile(() => `${taskName(live())}\n`, {
          mode: 0o644,
          write: (ctx: FsCtx, data: string) => {
            const tk = live();
            if (ctx.uid !== 0 && ctx.uid !== tk.uid) throw new KernelError('EACCES');
            k.sched.setComm(pid, data);
          },
        }),
      ),
    coredump_filter: () => f(() => '00000033\n', 0o644),
    cpuset: () => f(() => '/\n'),
    cwd: () => own(plink(() => proc(k, live())?.cwd ?? '/')),
    environ: () => f(() => renderEnviron(k, pid), 0o400),
    exe: () =>
      own(
        plink(() => {
          const tk = live();
          const p = proc(k, tk);
          if (tk.kthread || tk.state === 'Z' || !p?.exe) throw new KernelError('ENOENT');
          return p.exe;
        }),
      ),
    fd: () => fdDir(k, pid, false),
    fdinfo: () => fdDir(k, pid, true),
    gid_map: () => f(() => '         0          0 4294967295\n', 0o644),
    io: () => f(() => renderIo(k, pid, whole), 0o400),
    limits: () => f(() => renderLimits(k, pid)),
    loginuid: () => f(() => String(proc(k, live())?.loginuid ?? 4294967295), 0o644),
    maps: () => f(() => renderMaps(k, live().tgid)),
    mountinfo: () => f(() => renderMountinfo(k)),
    mounts: () =>
      f(() =>
        k.vfs
          .list()
          .map((m) => `${m.source} ${m.path} ${m.fstype} ${m.options} 0 0\n`)
          .join(''),
      ),
    ns: () =>
      own(
        pdir(Object.fromEntries(NS_INODES.map(([n, ino]) => [n, plink(`${n.replace(/_for_children$/, '')}:[${ino}]`)])), {
          mode: 0o511,
        }),
      ),
    oom_adj: () =>
      own(
        pfile(
          () => {
            const adj = live().oomScoreAdj;
            return `${adj === 1000 ? 15 : Math.trunc((adj * 17) / 1000)}\n`;
          },
          {
            mode: 0o644,
            write: (_ctx, data) => {
              const v = Number(data.trim());
              if (!Number.isInteger(v) || v < -17 || v > 15) throw new KernelError('EINVAL');
              k.sched.setOomScoreAdj(pid, v === 15 ? 1000 : v === -17 ? -1000 : Math.trunc((v * 1000) / 17));
            },
          },
        ),
      ),
    oom_score: () => f(() => `${live().kthread ? 0 : k.mm.oomScore(live().tgid)}\n`),
    oom_score_adj: () =>
      own(
        pfile(() => `${live().oomScoreAdj}\n`, {
          mode: 0o644,
          write: (_ctx, data) => {
            const v = Number(data.trim());
            if (!/^-?\d+$/.test(data.trim())) throw new KernelError('EINVAL');
            k.sched.setOomScoreAdj(pid, v);
          },
        }),
      ),
    personality: () => f(() => '00000000\n', 0o400),
    root: () => own(plink('/')),
    sched: () => own(pfile(() => renderSched(k, pid), { mode: 0o644, write: () => undefined })),
    schedstat: () =>
      f(() => {
        const x = k.sched.taskTimes(pid);
        return `${x.sum} ${x.wait} ${x.pcount}\n`;
      }),
    sessionid: () => f(() => String(proc(k, live())?.sessionid ?? 4294967295)),
    setgroups: () => f(() => 'allow\n', 0o644),
    smaps: () => f(() => renderSmaps(k, live().tgid)),
    smaps_rollup: () => f(() => renderSmapsRollup(k, live().tgid)),
    stack: () => f(() => renderTaskStack(k, live()), 0o400),
    stat: () => f(() => renderStat(k, pid, whole)),
    statm: () => f(() => renderStatm(k, pid)),
    status: () => f(() => renderStatus(k, pid)),
    syscall: () => f(() => renderSyscall(k, pid), 0o400),
    timerslack_ns: () => f(() => '50000\n', 0o666),
    uid_map: () => f(() => '         0          0 4294967295\n', 0o644),
    wchan: () =>
      f(() => {
        const tk = live();
        return k.sched.displayState(tk) === 'R' || tk.state === 'Z' ? '0' : tk.wchan;
      }),
  };
  if (!thread) {
    table.task = () =>
      own(
        pdir(
          () => {
            const out: DirTable = {};
            const tk = k.sched.taskInfo(pid);
            if (!tk) return out;
            for (const th of k.sched.threads(tk.tgid)) out[String(th.pid)] = () => pidDir(k, th.pid, true);
            return out;
          },
          { mode: 0o555 },
        ),
      );
  }
  return own(pdir(table, { mode: 0o555 }));
}
