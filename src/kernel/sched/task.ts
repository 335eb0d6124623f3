/**
 * The task model: what the kernel keeps per task (task_struct) and per thread
 * group (signal_struct + files + mm pointer), as plain JSON so the scheduler
 * snapshots and restores exactly.
 */
import type { TaskStateCode, TaskView } from './sched';

/** SCHED_* policies (include/uapi/linux/sched.h). */
export const SCHED_NORMAL = 0;
export const SCHED_FIFO = 1;
export const SCHED_RR = 2;
export const SCHED_BATCH = 3;
export const SCHED_IDLE = 5;
export const POLICY_NAMES: Record<number, string> = { 0: 'SCHED_OTHER', 1: 'SCHED_FIFO', 2: 'SCHED_RR', 3: 'SCHED_BATCH', 5: 'SCHED_IDLE' };

export const MAX_RT_PRIO = 100;
export const NICE_0_LOAD = 1024;
/** kernel/sched/core.c sched_prio_to_weight[], nice -20 .. 19. */
export const SCHED_PRIO_TO_WEIGHT: readonly number[] = [
  88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949, 11916, 9548, 7620, 6100, 4904, 3906, 3121, 2501, 1991, 1586, 1277,
  1024, 820, 655, 526, 423, 335, 272, 215, 172, 137, 110, 87, 70, 56, 45, 36, 29, 23, 18, 15,
];
/** SCHED_IDLE tasks weigh WEIGHT_IDLEPRIO. */
export const WEIGHT_IDLEPRIO = 3;

/** PF_* task flags (include/linux/sched.h, 6.1). */
export const PF = {
  EXITING: 0x4,
  WQ_WORKER: 0x20,
  FORKNOEXEC: 0x40,
  SUPERPRIV: 0x100,
  SIGNALED: 0x400,
  MEMALLOC: 0x800,
  NOFREEZE: 0x8000,
  KSWAPD: 0x20000,
  KTHREAD: 0x200000,
  RANDOMIZE: 0x400000,
  NO_SETAFFINITY: 0x4000000,
} as const;

/** Signal numbers (x86_64). */
export const SIG = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10, SEGV: 11, USR2: 12, PIPE: 13,
  ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CONT: 18, STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24,
  XFSZ: 25, VTALRM: 26, PROF: 27, WINCH: 28, IO: 29, PWR: 30, SYS: 31,
} as const;
export const NSIG = 64;
/** Default action "ignore". */
export const SIG_DEFAULT_IGNORE: ReadonlySet<number> = new Set([SIG.CHLD, SIG.CONT, SIG.URG, SIG.WINCH]);
/** Default action "stop". */
export const SIG_DEFAULT_STOP: ReadonlySet<number> = new Set([SIG.STOP, SIG.TSTP, SIG.TTIN, SIG.TTOU]);
/** Default action "core dump" (terminate; a core only when RLIMIT_CORE allows). */
export const SIG_DEFAULT_CORE: ReadonlySet<number> = new Set([SIG.QUIT, SIG.ILL, SIG.TRAP, SIG.ABRT, SIG.BUS, SIG.FPE, SIG.SEGV, SIG.XCPU, SIG.XFSZ, SIG.SYS]);

/** RLIMIT_* in the order /proc/<pid>/limits lists them. */
export const RLIMITS: readonly { name: string; units: string }[] = [
  { name: 'Max cpu time', units: 'seconds' },
  { name: 'Max file size', units: 'bytes' },
  { name: 'Max data size', units: 'bytes' },
  { name: 'Max stack size', units: 'bytes' },
  { name: 'Max core file size', units: 'bytes' },
  { name: 'Max resident set', units: 'bytes' },
  { name: 'Max processes', units: 'processes' },
  { name: 'Max open files', units: 'files' },
  { name: 'Max locked memory', units: 'bytes' },
  { name: 'Max address space', units: 'bytes' },
  { name: 'Max file locks', units: 'locks' },
  { name: 'Max pending signals', units: 'signals' },
  { name: 'Max msgqueue size', units: 'bytes' },
  { name: 'Max nice priority', units: '' },
  { name: 'Max realtime priority', units: '' },
  { name: 'Max realtime timeout', units: 'us' },
];
export const RLIMIT_NPROC = 6;
export const RLIMIT_NOFILE = 7;
export const RLIMIT_SIGPENDING = 11;
export const RLIM_INFINITY = -1;

/** open(2) flags (octal, as fdinfo prints them). */
export const O = {
  RDONLY: 0o0,
  WRONLY: 0o1,
  RDWR: 0o2,
  ACCMODE: 0o3,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DIRECTORY: 0o200000,
  LARGEFILE: 0o100000,
  CLOEXEC: 0o2000000,
} as const;

/**
 * What a user task is doing: a small program of steps the scheduler runs
 * analytically. `run` consumes CPU time (shared with other runnable tasks),
 * `sleep`/`io`/`block` wait for a duration, `wait` sleeps until woken, `exit`
 * ends the task. A program that reaches its end exits with status 0 unless it
 * loops.
 */
export type Step =
  /** on CPU for `ns` of CPU time (-1: forever); `user` = share spent in user mode (0..1, default 1); `cap` = max CPU fraction (duty cycle) */
  | { op: 'run'; ns: number; user?: number; cap?: number }
  /** interruptible sleep (S) for `ns` of wall time */
  | { op: 'sleep'; ns: number }
  /** disk wait (D, counted as iowait) for `ns`; optional bytes for /proc/<pid>/io */
  | { op: 'io'; ns: number; readBytes?: number; writeBytes?: number }
  /** uninterruptible sleep (D) that is not I/O */
  | { op: 'block'; ns: number }
  /** sleep until woken (wake(pid) or a signal) */
  | { op: 'wait' }
  | { op: 'exit'; code: number };

export interface Prog {
  steps: Step[];
  pc: number;
  loop: boolean;
  /** CPU time still to consume in the current run step, ns (-1: unbounded) */
  left: number;
  /** wall time at which the current sleep/io/block step ends */
  until: number;
}

/** Background activity of a system task: a duty cycle accounted analytically. */
export interface BgLoad {
  /** CPU share, in SHARE_ONE units */
  share: number;
  /** fraction of its time in user mode, SHARE_ONE units */
  user: number;
  /** wakeups per second (voluntary context switches) */
  hz: number;
  /** anchor: the time the committed counters below were last folded */
  since: number;
}

export interface Task extends TaskView {
  /** creation order (for_each_process_thread order) */
  seq: number;
  pgid: number;
  sid: number;
  /** full kthread name when longer than comm (get_kthread_comm) */
  kname?: string;
  /** workqueue description of a kworker (wq_worker_comm) */
  wq?: string;
  flags: number;
  euid: number;
  suid: number;
  fsuid: number;
  egid: number;
  sgid: number;
  fsgid: number;
  groups: number[];
  policy: number;
  rtPrio: number;
  /** allowed CPUs, null = all */
  allowed: number[] | null;
  startNs: number;
  exitSignal: number;
  /** the kernel's exit_code (wait status) once exited */
  exitCode: number;
  /** committed accounting (ns unless noted) */
  sum: number;
  ut: number;
  st: number;
  /** vruntime, ns */
  vrt: number;
  nv: number;
  niv: number;
  mig: number;
  /** time runnable but waiting (sched_info run_delay) */
  wait: number;
  /** times scheduled in (sched_info pcount) */
  pcount: number;
  /** last time it ran (se.exec_start) */
  lastRan: number;
  minflt: number;
  majflt: number;
  cminflt: number;
  cmajflt: number;
  cutime: number;
  cstime: number;
  /** rchar wchar syscr syscw read_bytes write_bytes cancelled_write_bytes */
  io: number[];
  bg?: BgLoad;
  prog?: Prog;
  /** state before SIGSTOP */
  stoppedFrom?: TaskStateCode;
  /** a wake that arrived while stopped */
  wokeWhileStopped?: boolean;
  /** symbolic wait channel / stack kind */
  wchan: string;
  /** enqueue order (RT FIFO order) */
  enq: number;
  /** PELT: util_avg, runnable_avg (0..1024) at `peltAt` */
  util: number;
  runnable: number;
  peltAt: number;
  memstall?: boolean;
  /** pending signals (bit n-1 = signal n), 16 hex digits */
  sigPnd: string;
  sigBlk: string;
}

export interface Fd {
  path: string;
  flags: number;
  pos: number;
  /** inode for anonymous files (socket:[ino], pipe:[ino]) */
  ino?: number;
}

export interface Proc {
  tgid: number;
  exe: string;
  argv: string[];
  env: string[];
  cwd: string;
  umask: number;
  /** controlling tty: 'tty1', 'ttyS0', 'pts/0' or null */
  tty: string | null;
  fds: Record<string, Fd>;
  /** [soft, hard], -1 = unlimited */
  limits: [number, number][];
  /** 64-bit signal masks as 16 hex digits */
  sigIgn: string;
  sigCgt: string;
  /** what a caught SIGTERM/SIGINT/SIGHUP does */
  onTerm: 'exit' | 'ignore';
  cgroup: string;
  /** address-space randomisation seed (stat's code/stack addresses) */
  aslr: number;
  loginuid: number;
  sessionid: number;
  /** times of threads that already exited (signal->utime/stime) */
  deadUt?: number;
  deadSt?: number;
}

export function weightOf(t: { policy: number; nice: number }): number {
  if (t.policy === SCHED_IDLE) return WEIGHT_IDLEPRIO;
  return SCHED_PRIO_TO_WEIGHT[clampNice(t.nice) + 20];
}

export function clampNice(n: number): number {
  return Math.max(-20, Math.min(19, Math.trunc(n)));
}

export function isRt(t: { policy: number }): boolean {
  return t.policy === SCHED_FIFO || t.policy === SCHED_RR;
}

/** p->prio: 0..99 RT (99 - rt_priority), 100..139 normal (120 + nice). */
export function prioOf(t: { policy: number; nice: number; rtPrio: number }): number {
  if (isRt(t)) return MAX_RT_PRIO - 1 - t.rtPrio;
  return 120 + clampNice(t.nice);
}

// ---------------------------------------------------------------- 64-bit masks as hex

export const EMPTY_MASK = '0000000000000000';

export function maskHas(mask: string, sig: number): boolean {
  return ((BigInt('0x' + mask) >> BigInt(sig - 1)) & 1n) === 1n;
}

export function maskSet(mask: string, sig: number, on: boolean): string {
  let v = BigInt('0x' + mask);
  const bit = 1n << BigInt(sig - 1);
  v = on ? v | bit : v & ~bit;
  return v.toString(16).padStart(16, '0');
}

export function maskOf(sigs: number[]): string {
  let m = EMPTY_MASK;
  for (const s of sigs) m = maskSet(m, s, true);
  return m;
}

/** Low 31 bits of a mask, as /proc/<pid>/stat prints the obsolete signal fields. */
export function maskLow31(mask: string): number {
  return Number(BigInt('0x' + mask) & 0x7fffffffn);
}
