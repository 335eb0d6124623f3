import { KernelError } from '../errors';
import type { DirTable } from '../fs/vnode';
import { pdir } from '../fs/vnode';
import type { Kernel } from '../kernel';
import type { Timer } from '../util/timers';
import { Emitter } from '../util/emitter';
import { NSEC_PER_SEC, TICK_NSEC } from '../types';
import { type BootDaemon, type BootKthread, INIT_DAEMON, bootTaskTable } from './boot';
import {
  type SegEval,
  type Seg,
  type SegTask,
  SHARE_ONE,
  capOf,
  cfsSliceNs,
  evalSeg,
  locPeriod,
  mulDiv,
  timeToConsume,
  toShare,
  waterFill,
} from './lazy';
import {
  EMPTY_MASK,
  type Fd,
  NICE_0_LOAD,
  NSIG,
  O,
  PF,
  type Proc,
  RLIMIT_NOFILE,
  RLIMIT_NPROC,
  SCHED_BATCH,
  SCHED_FIFO,
  SCHED_IDLE,
  SCHED_NORMAL,
  SCHED_RR,
  SIG,
  SIG_DEFAULT_CORE,
  SIG_DEFAULT_IGNORE,
  SIG_DEFAULT_STOP,
  type Step,
  type Task,
  clampNice,
  isRt,
  maskHas,
  maskOf,
  weightOf,
} from './task';
import { schedDebugfsEntries } from './debugfs';

/**
 * Tasks and the scheduler: pids, fork/exec/exit/wait, CFS and RT classes,
 * per-CPU runqueues, load balancing, load average, PSI and CPU time accounting.
 *
 * CPU time is shared analytically: between two events (a timer, an API call)
 * the runnable set of each CPU is constant, and every counter is a pure
 * function of the time since the last event (see lazy.ts). System tasks
 * (kthreads, idle daemons) contribute a constant background duty cycle
 * instead of waking on timers, so an idle machine costs almost nothing to run.
 */
export type TaskStateCode = 'R' | 'S' | 'D' | 'Z' | 'T' | 'I' | 'X';

/** What other subsystems (mm's OOM killer, procfs, tracing) may read of a task. */
export interface TaskView {
  pid: number;
  tgid: number;
  ppid: number;
  comm: string;
  state: TaskStateCode;
  uid: number;
  gid: number;
  /** kernel threads have no address space */
  kthread: boolean;
  oomScoreAdj: number;
  nice: number;
  cpu: number;
}

/** PSI resource states, in the kernel's order (enum psi_states). */
export const PSI_IO_SOME = 0;
export const PSI_IO_FULL = 1;
export const PSI_MEM_SOME = 2;
export const PSI_MEM_FULL = 3;
export const PSI_CPU_SOME = 4;
export const PSI_CPU_FULL = 5;
export const PSI_NONIDLE = 6;

/** Softirq vectors (HI TIMER NET_TX NET_RX BLOCK IRQ_POLL TASKLET SCHED HRTIMER RCU). */
export const SOFTIRQ_NAMES = ['HI', 'TIMER', 'NET_TX', 'NET_RX', 'BLOCK', 'IRQ_POLL', 'TASKLET', 'SCHED', 'HRTIMER', 'RCU'] as const;
const SI_TIMER = 1;
const SI_BLOCK = 4;
const SI_SCHED = 7;
const SI_RCU = 9;
/** softirqs raised per local timer interrupt (TIMER, SCHED, RCU), SHARE_ONE units */
const SOFTIRQ_PER_LOC: readonly [number, number][] = [
  [SI_TIMER, toShare(0.3)],
  [SI_SCHED, toShare(0.45)],
  [SI_RCU, toShare(0.55)],
];

export interface CpuState extends CpuTimes {
  /** start of the current segment */
  segStart: number;
  /** runnable foreground tasks, in enqueue order */
  rq: number[];
  loc: number;
  /** softirq counts raised by events (the tick-driven ones are added from `loc`) */
  softirqs: number[];
  /** softirq counts derived from committed loc */
  locSoftirqs: number[];
  sw: number;
  rqTime: number;
  runDelay: number;
  pcount: number;
  res: number;
  cal: number;
  tlb: number;
  minVrt: number;
  /** PSI times (ns) since the last aggregation, indexed by PSI_* (incl. NONIDLE) */
  psi: number[];
}

export interface IrqLine {
  irq: number;
  chip: string;
  hwirq: string;
  trigger: string;
  name: string;
  counts: number[];
}

export interface Tunables {
  latencyNs: number;
  minGranNs: number;
  idleMinGranNs: number;
  wakeupGranNs: number;
  migrationCostNs: number;
  nrMigrate: number;
  scaling: number;
  features: number;
  latencyWarnMs: number;
  latencyWarnOnce: number;
  verbose: boolean;
  preempt: 'none' | 'voluntary' | 'full';
  rtRuntimeUs: number;
  rtPeriodUs: number;
  rrTimesliceMs: number;
  childRunsFirst: number;
  schedstats: number;
}

export interface PsiState {
  /** aggregated stall totals, ns, PSI_IO_SOME..PSI_CPU_FULL */
  total: number[];
  /** running averages avg10/avg60/avg300 per state, FIXED_1 fixed point */
  avg: number[][];
  avgTotal: number[];
  avgLast: number;
  avgNext: number;
  armed: boolean;
}

export interface SchedState {
  /** avenrun[] in FIXED_1 (1 << 11) fixed point */
  avenrun: [number, number, number];
  tasks: Task[];
  procs: Proc[];
  cpus: CpuState[];
  pidMax: number;
  /** last allocated pid (ns_last_pid) */
  lastPid: number;
  threadsMax: number;
  /** forks since boot (/proc/stat processes) */
  forks: number;
  seq: number;
  enq: number;
  nextIno: number;
  tun: Tunables;
  psi: PsiState;
  irqs: IrqLine[];
  balanceArmed: boolean;
}

export interface SchedEvents {
  fork: { parent: number; child: number };
  exec: { pid: number; path: string };
  /** a task exited; `status` is the wait status (code << 8, or the signal) */
  exit: { pid: number; tgid: number; status: number };
}

export interface SpawnOptions {
  /** executable path; comm is its basename (default argv[0]) */
  path?: string;
  argv: string[];
  env?: string[];
  comm?: string;
  uid?: number;
  gid?: number;
  groups?: number[];
  cwd?: string;
  tty?: string | null;
  nice?: number;
  cgroup?: string;
  /** new session and process group (setsid) */
  setsid?: boolean;
  /** join this process group */
  pgid?: number;
  /** initial open files (default: the parent's, minus close-on-exec) */
  fds?: { fd: number; path: string; flags: number }[];
  /** what it does; default: wait (sleep until woken) */
  program?: Step[];
  loop?: boolean;
  /** resident anonymous pages of the new image */
  anonPages?: number;
}

export interface KthreadOptions {
  cpu?: number;
  nice?: number;
  policy?: number;
  rtPrio?: number;
  state?: 'S' | 'I';
  wq?: string;
  wchan?: string;
  /** background CPU use: parts per million of a CPU and wakeups per second */
  ppm?: number;
  hz?: number;
}

export interface WaitResult {
  pid: number;
  /** wait(2) status word */
  status: number;
  /** exit code when it exited normally, else -1 */
  code: number;
  /** terminating signal, else 0 */
  signal: number;
}

export interface TaskTimes {
  sum: number;
  ut: number;
  st: number;
  vrt: number;
  nv: number;
  niv: number;
  wait: number;
  pcount: number;
  lastRan: number;
  util: number;
  runnable: number;
}

/** The ten /proc/stat CPU time columns (ns in the model, ticks when rendered). */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
  guest: number;
  guestNice: number;
}

export const FIXED_1 = 1 << 11;
export const EXP_1 = 1884;
export const EXP_5 = 2014;
export const EXP_15 = 2037;
/** LOAD_FREQ = 5*HZ+1 ticks */
export const LOAD_FREQ_NS = (5 * 250 + 1) * TICK_NSEC;
/** PSI_FREQ = 2*HZ+1 ticks */
export const PSI_PERIOD_NS = (2 * 250 + 1) * TICK_NSEC;
const PSI_EXP = [1677, 1981, 2034];
/** INITIAL_JIFFIES: jiffies start 5 minutes before wrapping 32 bits */
export const INITIAL_JIFFIES = 4294967296 - 300 * 250;
export const PID_MAX_LIMIT = 4 * 1024 * 1024;
const RESERVED_PIDS = 300;
const BALANCE_PERIOD_NS = 500_000_000;
/** wall ns per wakeup of a duty-cycled task */
const DUTY_PERIOD_NS = 10_000_000;
/** timerslack_ns: the shortest sleep */
const TIMER_SLACK_NS = 50_000;
/** the shortest CPU burst of a looping program */
const MIN_LOOP_RUN_NS = 10_000;
/** base idle wakeups per second of a NOHZ idle CPU besides its kthreads */
const IDLE_BASE_HZ = 2;

export function calcLoad(load: number, exp: number, active: number): number {
  let newload = load * exp + active * (FIXED_1 - exp);
  if (active >= load) newload += FIXED_1 - 1;
  return Math.floor(newload / FIXED_1);
}

function fixedPow(x: number, n: number): number {
  // fixed_power_int(x, FSHIFT, n)
  let result = FIXED_1;
  if (n) {
    for (;;) {
      if (n & 1) {
        result *= x;
        result += FIXED_1 / 2;
        result = Math.floor(result / FIXED_1);
      }
      n >>= 1;
      if (!n) break;
      x *= x;
      x += FIXED_1 / 2;
      x = Math.floor(x / FIXED_1);
    }
  }
  return result;
}

/** calc_load_n(): n missed periods at once. */
export function calcLoadN(load: number, exp: number, active: number, n: number): number {
  return calcLoad(load, fixedPow(exp, n), active);
}

/** update_averages(): folds the stall time since the last update into avg10/60/300. */
function updateAverages(p: PsiState, now: number): void {
  let missed = 0;
  const expires = p.avgNext;
  if (now - expires >= PSI_PERIOD_NS) missed = Math.floor((now - expires) / PSI_PERIOD_NS);
  p.avgNext = expires + (1 + missed) * PSI_PERIOD_NS;
  const period = now - (p.avgLast + missed * PSI_PERIOD_NS);
  p.avgLast = now;
  for (let s = 0; s < 6; s++) {
    let sample = p.total[s] - p.avgTotal[s];
    if (sample > period) sample = period;
    p.avgTotal[s] += sample;
    const avg = p.avg[s];
    if (missed) for (let w = 0; w < 3; w++) avg[w] = calcLoadN(avg[w], PSI_EXP[w], 0, missed);
    const pct = period > 0 ? Math.floor((sample * 100) / period) * FIXED_1 : 0;
    for (let w = 0; w < 3; w++) avg[w] = calcLoad(avg[w], PSI_EXP[w], pct);
  }
}

function defaultTunables(cpus: number): Tunables {
  const factor = 1 + Math.floor(Math.log2(Math.min(cpus, 8)));
  return {
    latencyNs: 6_000_000 * factor,
    minGranNs: 750_000 * factor,
    idleMinGranNs: 750_000,
    wakeupGranNs: 1_000_000 * factor,
    migrationCostNs: 500_000,
    nrMigrate: 32,
    scaling: 1,
    features: 125703739,
    latencyWarnMs: 100,
    latencyWarnOnce: 1,
    verbose: false,
    preempt: 'voluntary',
    rtRuntimeUs: 950_000,
    rtPeriodUs: 1_000_000,
    rrTimesliceMs: 100,
    childRunsFirst: 0,
    schedstats: 0,
  };
}

/** CPUs per tunable scaling mode (none, log, linear), capped at 8 like the kernel. */
export function tunableFactor(cpus: number, scaling: number): number {
  const n = Math.min(cpus, 8);
  if (scaling === 0) return 1;
  if (scaling === 2) return n;
  return 1 + Math.floor(Math.log2(n));
}

function newCpu(): CpuState {
  return {
    segStart: 0,
    rq: [],
    user: 0,
    nice: 0,
    system: 0,
    idle: 0,
    iowait: 0,
    irq: 0,
    softirq: 0,
    steal: 0,
    guest: 0,
    guestNice: 0,
    loc: 0,
    softirqs: new Array(10).fill(0),
    locSoftirqs: new Array(10).fill(0),
    sw: 0,
    rqTime: 0,
    runDelay: 0,
    pcount: 0,
    res: 0,
    cal: 0,
    tlb: 0,
    minVrt: 0,
    psi: new Array(7).fill(0),
  };
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function basename(p: string): string {
  const parts = p.split('/').filter(Boolean);
  return parts.length ? parts[parts.length - 1] : p;
}

/** Per-CPU aggregates of the non-runqueue tasks, rebuilt when tasks change. */
interface CpuAgg {
  bg: number;
  bgUser: number;
  bgHz: number;
  iowait: number;
  blocked: number;
  memstall: number;
}

export class Sched {
  private s!: SchedState;
  private byPid = new Map<number, Task>();
  private procs = new Map<number, Proc>();
  private segs: (Seg | undefined)[] = [];
  /** the aggregates each cached segment was built from */
  private segAgg: (CpuAgg | undefined)[] = [];
  private agg: CpuAgg[] | undefined;
  private sorted: Task[] | undefined;
  private dirty = new Set<number>();
  readonly events = new Emitter<SchedEvents>();
  /**
   * The debugfs root (mounted at /sys/kernel/debug). A table other subsystems
   * extend: `k.sched.debugfs.tracing = tracefsRoot`.
   */
  readonly debugfs: DirTable = {};

  constructor(private readonly k: Kernel) {
    this.debugfs.sched = pdir(schedDebugfsEntries(k), { mode: 0o755 });
    k.registerPseudoFs('debugfs', pdir(this.debugfs, { mode: 0o700 }));
    k.onTimer('sched.cpu', (_k, t) => this.onCpuTimer(t));
    k.onTimer('sched.wake', (_k, t) => this.onWakeTimer(t));
    k.onTimer('sched.loadavg', (_k, t) => this.onLoadTimer(t));
    k.onTimer('sched.psi', (_k, t) => this.onPsiTimer(t));
    k.onTimer('sched.balance', () => this.onBalanceTimer());
    this.boot();
  }

  // ================================================================ contract

  /**
   * Accounts CPU time for [from, to) ns of virtual time. The model is
   * analytic: counters are functions of the time since the last event, so
   * there is nothing to do per step (which is what makes any split of an
   * advance give the same state).
   */
  account(_fromNs: number, _toNs: number): void {
    // intentionally empty: see class comment
  }

  get avenrun(): readonly number[] {
    return this.s.avenrun;
  }

  /** All live tasks (threads and zombies included), by pid. */
  tasks(): readonly TaskView[] {
    return this.sortedTasks();
  }

  task(pid: number): TaskView | undefined {
    return this.byPid.get(pid);
  }

  /** The full task record (read-only use). */
  taskInfo(pid: number): Readonly<Task> | undefined {
    return this.byPid.get(pid);
  }

  proc(tgid: number): Readonly<Proc> | undefined {
    return this.procs.get(tgid);
  }

  /** Tasks in creation order (for_each_process_thread). */
  allTasks(): readonly Task[] {
    if (!this.sorted) this.sorted = [...this.byPid.values()].sort((a, b) => a.seq - b.seq);
    return this.sorted;
  }

  private sortedTasks(): Task[] {
    return [...this.byPid.values()].sort((a, b) => a.pid - b.pid);
  }

  /** Threads of a thread group, leader first. */
  threads(tgid: number): Task[] {
    return this.allTasks().filter((t) => t.tgid === tgid);
  }

  getState(): SchedState {
    const s = clone(this.s);
    s.tasks = clone(this.allTasks() as Task[]);
    s.procs = clone([...this.procs.values()].sort((a, b) => a.tgid - b.tgid));
    return s;
  }

  setState(s: SchedState): void {
    this.s = clone(s);
    this.byPid.clear();
    this.procs.clear();
    for (const t of this.s.tasks) this.byPid.set(t.pid, t);
    for (const p of this.s.procs) this.procs.set(p.tgid, p);
    this.s.tasks = [];
    this.s.procs = [];
    this.invalidate();
  }

  private invalidate(): void {
    this.segs = [];
    this.segAgg = [];
    this.agg = undefined;
    this.sorted = undefined;
  }

  // ================================================================ boot

  private boot(): void {
    const cpus = this.k.config.cpus;
    const threadsMax = Math.max(20, Math.min(0x3fffffff, Math.floor(this.k.mm.totalPages / 32)));
    this.s = {
      avenrun: [0, 0, 0],
      tasks: [],
      procs: [],
      cpus: Array.from({ length: cpus }, () => newCpu()),
      pidMax: Math.min(PID_MAX_LIMIT, Math.max(32768, 1024 * cpus)),
      lastPid: 0,
      threadsMax,
      forks: 0,
      seq: 0,
      enq: 0,
      nextIno: 11000 + this.k.rng.int(0, 2000),
      tun: defaultTunables(cpus),
      psi: {
        total: new Array(6).fill(0),
        avg: Array.from({ length: 6 }, () => [0, 0, 0]),
        avgTotal: new Array(6).fill(0),
        avgLast: 0,
        avgNext: PSI_PERIOD_NS,
        armed: false,
      },
      irqs: this.bootIrqs(cpus),
      balanceArmed: false,
    };
    this.createDaemon({ kind: 'u', pid: 1, ...INIT_DAEMON }, 0);
    for (const b of bootTaskTable(cpus, this.k.config.memoryMb)) {
      if (b.kind === 'k') this.createBootKthread(b);
      else this.createDaemon(b, 1);
    }
    this.s.forks = this.s.lastPid;
    this.k.timers.add(LOAD_FREQ_NS + 10 * TICK_NSEC, 'sched.loadavg');
  }

  private bootIrqs(cpus: number): IrqLine[] {
    const r = this.k.rng;
    const z = (): number[] => new Array(cpus).fill(0);
    const on = (cpu: number, n: number): number[] => {
      const c = z();
      c[Math.min(cpu, cpus - 1)] = n;
      return c;
    };
    const lines: IrqLine[] = [
      { irq: 0, chip: 'IO-APIC', hwirq: '2', trigger: 'edge', name: 'timer', counts: on(0, 40 + r.int(0, 50)) },
      { irq: 1, chip: 'IO-APIC', hwirq: '1', trigger: 'edge', name: 'i8042', counts: on(1, 9) },
      { irq: 4, chip: 'IO-APIC', hwirq: '4', trigger: 'edge', name: 'ttyS0', counts: on(1, 8 + r.int(0, 4)) },
      { irq: 8, chip: 'IO-APIC', hwirq: '8', trigger: 'edge', name: 'rtc0', counts: on(0, 1) },
      { irq: 9, chip: 'IO-APIC', hwirq: '9', trigger: 'fasteoi', name: 'acpi', counts: z() },
      { irq: 12, chip: 'IO-APIC', hwirq: '12', trigger: 'edge', name: 'i8042', counts: on(0, 3) },
      // the boot disk vda: virtio0 at PCI 00:03.0 (MSI hwirq = devfn << 11), its config vector and one request queue per CPU
      { irq: 24, chip: 'PCI-MSI', hwirq: '49152', trigger: 'edge', name: 'virtio0-config', counts: z() },
    ];
    // (the draw that once sized this line's count: kept so every later draw of the boot stays what it was)
    r.int(0, 6);
    for (let c = 0; c < cpus; c++) {
      lines.push({ irq: 25 + c, chip: 'PCI-MSI', hwirq: String(49153 + c), trigger: 'edge', name: `virtio0-req.${c}`, counts: on(c, 150 + r.int(0, 120)) });
    }
    return lines;
  }

  private blankTask(pid: number): Task {
    return {
      pid,
      tgid: pid,
      ppid: 0,
      comm: '',
      state: 'S',
      uid: 0,
      gid: 0,
      kthread: false,
      oomScoreAdj: 0,
      nice: 0,
      cpu: 0,
      seq: this.s.seq++,
      pgid: 0,
      sid: 0,
      flags: 0,
      euid: 0,
      suid: 0,
      fsuid: 0,
      egid: 0,
      sgid: 0,
      fsgid: 0,
      groups: [],
      policy: SCHED_NORMAL,
      rtPrio: 0,
      allowed: null,
      startNs: this.k.now,
      exitSignal: SIG.CHLD,
      exitCode: 0,
      sum: 0,
      ut: 0,
      st: 0,
      vrt: 0,
      nv: 0,
      niv: 0,
      mig: 0,
      wait: 0,
      pcount: 0,
      lastRan: this.k.now,
      minflt: 0,
      majflt: 0,
      cminflt: 0,
      cmajflt: 0,
      cutime: 0,
      cstime: 0,
      io: [0, 0, 0, 0, 0, 0, 0],
      wchan: 'do_wait',
      enq: 0,
      util: 0,
      runnable: 0,
      peltAt: this.k.now,
      sigPnd: EMPTY_MASK,
      sigBlk: EMPTY_MASK,
    };
  }

  private addTask(t: Task): void {
    this.byPid.set(t.pid, t);
    if (t.pid > this.s.lastPid || this.s.lastPid === 0) this.s.lastPid = t.pid;
    this.sorted = undefined;
    this.agg = undefined;
  }

  private createBootKthread(b: BootKthread): Task {
    const t = this.blankTask(b.pid);
    t.ppid = 2;
    if (b.pid === 2) t.ppid = 0;
    t.comm = b.name.slice(0, 15);
    if (b.name.length > 15) t.kname = b.name;
    t.kthread = true;
    t.state = b.state;
    t.flags = b.flags;
    t.nice = b.nice;
    t.policy = b.policy;
    t.rtPrio = b.rtPrio;
    t.cpu = b.cpu;
    t.allowed = b.bound ? [b.cpu] : null;
    t.wq = b.wq;
    t.wchan = b.wchan;
    t.exitSignal = -1;
    if (b.ppm > 0 || b.hz > 0) t.bg = { share: toShare(b.ppm / 1e6), user: 0, hz: b.hz, since: this.k.now };
    t.nv = 2;
    t.pcount = 2;
    t.sum = 20_000 + this.k.rng.int(0, 200_000);
    t.st = t.sum;
    t.vrt = t.sum;
    this.addTask(t);
    this.procs.set(t.pid, this.kthreadProc(t.pid));
    return t;
  }

  private kthreadProc(pid: number): Proc {
    return {
      tgid: pid,
      exe: '',
      argv: [],
      env: [],
      cwd: '/',
      umask: 0o022,
      tty: null,
      fds: {},
      limits: this.defaultLimits([1024, 4096]),
      sigIgn: 'ffffffffffffffff',
      sigCgt: EMPTY_MASK,
      onTerm: 'ignore',
      cgroup: '/',
      aslr: 0,
      loginuid: 4294967295,
      sessionid: 4294967295,
    };
  }

  defaultLimits(nofile: [number, number]): [number, number][] {
    const nproc = Math.floor(this.s.threadsMax / 2);
    return [
      [-1, -1],
      [-1, -1],
      [-1, -1],
      [8388608, -1],
      [0, -1],
      [-1, -1],
      [nproc, nproc],
      [nofile[0], nofile[1]],
      [8388608, 8388608],
      [-1, -1],
      [-1, -1],
      [nproc, nproc],
      [819200, 819200],
      [0, 0],
      [0, 0],
      [-1, -1],
    ];
  }

  private hex32(): string {
    let s = '';
    for (let i = 0; i < 4; i++) s += this.k.rng.nextU32().toString(16).padStart(8, '0');
    return s;
  }

  private ino(): number {
    return this.s.nextIno++;
  }

  private createDaemon(b: BootDaemon, ppid: number): Task {
    const t = this.blankTask(b.pid);
    t.ppid = ppid;
    t.pgid = b.pid;
    t.sid = b.pid;
    t.comm = b.comm.slice(0, 15);
    t.uid = t.euid = t.suid = t.fsuid = b.uid;
    t.gid = t.egid = t.sgid = t.fsgid = b.gid;
    t.flags = PF.RANDOMIZE | (b.uid === 0 ? PF.SUPERPRIV : 0);
    t.wchan = b.wchan;
    t.oomScoreAdj = b.oomScoreAdj;
    t.cpu = b.pid % this.k.config.cpus;
    t.sigBlk = maskOf(b.sigBlk);
    if (b.ppm > 0 || b.hz > 0) t.bg = { share: toShare(b.ppm / 1e6), user: toShare(b.user), hz: b.hz, since: this.k.now };
    t.nv = 20 + this.k.rng.int(0, 200);
    t.niv = this.k.rng.int(0, 20);
    t.pcount = t.nv + t.niv;
    t.sum = 2_000_000 + this.k.rng.int(0, 40_000_000);
    t.ut = Math.floor(t.sum * b.user);
    t.st = t.sum - t.ut;
    t.vrt = t.sum;
    t.minflt = 200 + b.anonPages + this.k.rng.int(0, 400);
    t.majflt = this.k.rng.int(5, 60);
    t.io = [40_000 + this.k.rng.int(0, 400_000), 2_000 + this.k.rng.int(0, 40_000), 100 + this.k.rng.int(0, 900), 20 + this.k.rng.int(0, 200), 0, 0, 0];
    t.io[4] = 4096 * this.k.rng.int(0, 200);
    this.addTask(t);
    const invocation = this.hex32();
    let env: string[];
    if (b.env === 'init') {
      env = ['HOME=/', 'init=/sbin/init', 'NETWORK_SKIP_ENSLAVED=', 'TERM=linux', 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-56-amd64', 'drop_caches=', 'PATH=/sbin:/usr/sbin:/bin:/usr/bin', 'PWD=/', 'rootmnt=/root'];
    } else {
      env = ['LANG=C.UTF-8', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
      if (b.notify) env.push('NOTIFY_SOCKET=/run/systemd/notify');
      env.push(`INVOCATION_ID=${invocation}`);
      if (b.env === 'getty') env.push(`TERM=${b.tty === 'tty1' ? 'linux' : 'vt220'}`);
      else env.push(`JOURNAL_STREAM=8:${this.s.nextIno + 7}`);
      env.push(`SYSTEMD_EXEC_PID=${b.pid}`);
    }
    const fds: Record<string, Fd> = {};
    for (const f of b.fds) {
      const fd: Fd = { path: f.path, flags: f.flags, pos: 0 };
      if (f.path === 'socket:') {
        fd.ino = this.ino();
        fd.path = `socket:[${fd.ino}]`;
      }
      fds[f.fd] = fd;
    }
    this.procs.set(t.pid, {
      tgid: t.pid,
      exe: b.exe,
      argv: [...b.argv],
      env,
      cwd: '/',
      umask: 0o022,
      tty: b.tty,
      fds,
      limits: this.defaultLimits(b.nofile),
      sigIgn: maskOf(b.sigIgn),
      sigCgt: maskOf(b.sigCgt),
      onTerm: b.pid === 1 ? 'ignore' : 'exit',
      cgroup: b.cgroup,
      aslr: this.k.rng.nextU32(),
      loginuid: 4294967295,
      sessionid: 4294967295,
    });
    this.k.mm.createAddressSpace(t.pid, { exe: b.exe, anonPages: b.anonPages });
    return t;
  }

  // ================================================================ pids

  getPidMax(): number {
    return this.s.pidMax;
  }

  /** kernel.pid_max: 301 .. 4194304 (EINVAL otherwise). */
  setPidMax(n: number): void {
    if (!Number.isInteger(n) || n < RESERVED_PIDS + 1 || n > PID_MAX_LIMIT) throw new KernelError('EINVAL');
    this.s.pidMax = n;
  }

  /** kernel.ns_last_pid */
  getLastPid(): number {
    return this.s.lastPid;
  }

  setLastPid(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n >= this.s.pidMax) throw new KernelError('EINVAL');
    this.s.lastPid = n;
  }

  /** kernel.threads-max */
  getThreadsMax(): number {
    return this.s.threadsMax;
  }

  setThreadsMax(n: number): void {
    if (!Number.isInteger(n) || n < 20 || n > 0x3fffffff) throw new KernelError('EINVAL');
    this.s.threadsMax = n;
  }

  get forks(): number {
    return this.s.forks;
  }

  private pidInUse(pid: number): boolean {
    if (this.byPid.has(pid)) return true;
    for (const t of this.byPid.values()) if (t.pgid === pid || t.sid === pid) return true;
    return false;
  }

  /** alloc_pid(): cyclic from ns_last_pid+1, wrapping to RESERVED_PIDS. */
  private allocPid(): number {
    const max = this.s.pidMax;
    const used = new Set<number>();
    for (const t of this.byPid.values()) {
      used.add(t.pid);
      used.add(t.pgid);
      used.add(t.sid);
    }
    const start = this.s.lastPid + 1;
    const min = this.s.lastPid >= RESERVED_PIDS ? RESERVED_PIDS : 1;
    for (let p = Math.max(start, min); p < max; p++) {
      if (!used.has(p)) return this.takePid(p);
    }
    for (let p = min; p < Math.min(start, max); p++) {
      if (!used.has(p)) return this.takePid(p);
    }
    throw new KernelError('EAGAIN', 'no free pids');
  }

  private takePid(p: number): number {
    this.s.lastPid = p;
    return p;
  }

  // ================================================================ time & lazy accounting

  private get tasksCpuCount(): number {
    return this.s.cpus.length;
  }

  private aggregates(): CpuAgg[] {
    if (this.agg) return this.agg;
    const n = this.tasksCpuCount;
    const a: CpuAgg[] = Array.from({ length: n }, () => ({ bg: 0, bgUser: 0, bgHz: 0, iowait: 0, blocked: 0, memstall: 0 }));
    for (const t of this.byPid.values()) {
      const c = a[t.cpu] ?? a[0];
      if (t.bg && t.state !== 'Z' && t.state !== 'T') {
        c.bg += t.bg.share;
        c.bgUser += mulDiv(t.bg.share, t.bg.user, SHARE_ONE);
        c.bgHz += t.bg.hz;
      }
      if (t.state === 'D') {
        c.blocked++;
        if (t.prog && t.prog.steps[t.prog.pc]?.op === 'io') c.iowait++;
      }
      if (t.memstall && (t.state === 'R' || t.state === 'D')) c.memstall++;
    }
    this.agg = a;
    return a;
  }

  /** The current segment of a CPU (derived, cached). */
  seg(c: number): Seg {
    const cached = this.segs[c];
    if (cached) return cached;
    const cpu = this.s.cpus[c];
    const ag = this.aggregates()[c];
    const tun = this.s.tun;
    const tasks = cpu.rq.map((pid) => this.byPid.get(pid)).filter((t): t is Task => !!t);
    const rts = tasks.filter(isRt);
    const cfs = tasks.filter((t) => !isRt(t));
    const shares = new Map<number, number>();
    const demandOf = (t: Task): number => {
      const st = t.prog?.steps[t.prog.pc];
      const cap = st && st.op === 'run' && st.cap !== undefined ? toShare(st.cap) : SHARE_ONE;
      return Math.max(1, cap);
    };
    let avail = SHARE_ONE;
    if (rts.length > 0) {
      const throttle = tun.rtRuntimeUs >= 0 && tun.rtRuntimeUs < tun.rtPeriodUs;
      let budget = throttle ? mulDiv(SHARE_ONE, tun.rtRuntimeUs, tun.rtPeriodUs) : SHARE_ONE;
      const byPrio = [...new Set(rts.map((t) => t.rtPrio))].sort((a, b) => b - a);
      for (const prio of byPrio) {
        if (budget <= 0) break;
        const level = rts.filter((t) => t.rtPrio === prio).sort((a, b) => a.enq - b.enq);
        const fifo = level.find((t) => t.policy === SCHED_FIFO);
        const runners = fifo ? [fifo] : level;
        const got = waterFill(budget, runners.map(() => 1), runners.map(demandOf));
        runners.forEach((t, i) => {
          shares.set(t.pid, got[i]);
          budget -= got[i];
        });
        if (fifo && demandOf(fifo) >= SHARE_ONE) break;
      }
      let used = 0;
      for (const v of shares.values()) used += v;
      avail = SHARE_ONE - used;
      if (throttle) avail = Math.max(avail, SHARE_ONE - mulDiv(SHARE_ONE, tun.rtRuntimeUs, tun.rtPeriodUs));
    }
    if (cfs.length > 0 && avail > 0) {
      const got = waterFill(avail, cfs.map(weightOf), cfs.map(demandOf));
      cfs.forEach((t, i) => shares.set(t.pid, got[i]));
    }
    const totalW = cfs.reduce((a, t) => a + weightOf(t), 0);
    const bgPeriodNs = ag.bgHz > 0 ? Math.round(NSEC_PER_SEC / (ag.bgHz + IDLE_BASE_HZ)) : 0;
    const segTasks: SegTask[] = [];
    let busyShare = 0;
    let sumDemand = 0;
    for (const t of tasks) {
      const share = shares.get(t.pid) ?? 0;
      const demand = demandOf(t);
      sumDemand += demand;
      const st = t.prog?.steps[t.prog.pc];
      const user = st && st.op === 'run' ? toShare(st.user ?? 1) : 0;
      let preemptNs = 0;
      if (isRt(t)) preemptNs = t.policy === SCHED_RR && rts.length > 1 ? tun.rrTimesliceMs * 1_000_000 : 0;
      else if (cfs.length > 1) preemptNs = cfsSliceNs(cfs.length, weightOf(t), totalW, tun.latencyNs, tun.minGranNs);
      else if (bgPeriodNs > 0) preemptNs = bgPeriodNs * 4;
      segTasks.push({
        pid: t.pid,
        share,
        demand,
        user,
        nice: t.nice > 0,
        weight: isRt(t) ? 0 : weightOf(t),
        preemptNs,
        dutyNs: demand < SHARE_ONE ? DUTY_PERIOD_NS : 0,
      });
      busyShare += share;
    }
    const bg = Math.min(ag.bg, SHARE_ONE - 1);
    const effBusy = mulDiv(busyShare, SHARE_ONE - bg, SHARE_ONE) + bg;
    const seg: Seg = {
      bg,
      bgUser: Math.min(ag.bgUser, bg),
      bgSoft: Math.min(mulDiv(bg, toShare(0.08), SHARE_ONE), bg - Math.min(ag.bgUser, bg)),
      bgSwitchNs: ag.bgHz > 0 ? Math.max(1, Math.round(NSEC_PER_SEC / (2 * ag.bgHz))) : 0,
      tasks: segTasks,
      locNs: locPeriod(effBusy, ag.bgHz + IDLE_BASE_HZ),
      cpuSome: sumDemand > SHARE_ONE + tasks.length,
      ioSome: ag.iowait > 0,
      ioFull: ag.iowait > 0 && tasks.length === 0,
      memSome: ag.memstall > 0,
      memFull: ag.memstall > 0 && tasks.every((t) => t.memstall),
      nonidle: tasks.length > 0 || ag.blocked > 0,
      iowait: ag.iowait > 0,
    };
    this.segs[c] = seg;
    this.segAgg[c] = { ...ag };
    return seg;
  }

  /** Folds every CPU's segment up to `now` into the committed counters. */
  private commit(now: number): void {
    for (let c = 0; c < this.s.cpus.length; c++) {
      const cpu = this.s.cpus[c];
      const d = now - cpu.segStart;
      if (d <= 0) continue;
      const seg = this.seg(c);
      const e = evalSeg(seg, d);
      cpu.user += e.user;
      cpu.nice += e.nice;
      cpu.system += e.system;
      cpu.softirq += e.softirq;
      cpu.idle += e.idle;
      cpu.iowait += e.iowait;
      cpu.sw += e.switches;
      cpu.pcount += e.switches;
      cpu.rqTime += e.busy + e.bg;
      const before = cpu.loc;
      cpu.loc += e.loc;
      this.foldLocSoftirqs(cpu, before);
      this.foldPsi(cpu, seg, d);
      let minV = Infinity;
      seg.tasks.forEach((st, i) => {
        const t = this.byPid.get(st.pid);
        if (!t) return;
        this.foldTask(t, st, e.t[i], d, now);
        cpu.runDelay += Math.max(0, d - e.t[i]);
        if (!isRt(t)) minV = Math.min(minV, t.vrt);
      });
      cpu.minVrt += e.bg;
      if (minV !== Infinity) cpu.minVrt = Math.max(cpu.minVrt, minV);
      cpu.segStart = now;
    }
  }

  private foldLocSoftirqs(cpu: CpuState, beforeLoc: number): void {
    for (const [vec, share] of SOFTIRQ_PER_LOC) {
      if (vec === SI_SCHED && this.s.cpus.length === 1) continue;
      cpu.locSoftirqs[vec] += mulDiv(cpu.loc, share, SHARE_ONE) - mulDiv(beforeLoc, share, SHARE_ONE);
    }
  }

  private foldPsi(cpu: CpuState, seg: Seg, d: number): void {
    if (seg.ioSome) cpu.psi[PSI_IO_SOME] += d;
    if (seg.ioFull) cpu.psi[PSI_IO_FULL] += d;
    if (seg.memSome) cpu.psi[PSI_MEM_SOME] += d;
    if (seg.memFull) cpu.psi[PSI_MEM_FULL] += d;
    if (seg.cpuSome) cpu.psi[PSI_CPU_SOME] += d;
    if (seg.nonidle) cpu.psi[PSI_NONIDLE] += d;
  }

  private taskDelta(st: SegTask, ti: number, d: number): { u: number; v: number; niv: number; nv: number } {
    const u = mulDiv(ti, st.user, SHARE_ONE);
    const v = st.weight > 0 ? mulDiv(ti, NICE_0_LOAD, st.weight) : 0;
    const niv = st.preemptNs > 0 ? Math.floor(ti / st.preemptNs) : 0;
    const nv = st.dutyNs > 0 ? Math.floor(d / st.dutyNs) : 0;
    return { u, v, niv, nv };
  }

  private foldTask(t: Task, st: SegTask, ti: number, d: number, now: number): void {
    const x = this.taskDelta(st, ti, d);
    const pelt = this.peltAt(t, st, d, ti);
    t.sum += ti;
    t.ut += x.u;
    t.st += ti - x.u;
    t.vrt += x.v;
    t.niv += x.niv;
    t.nv += x.nv;
    t.pcount += x.niv + x.nv;
    t.wait += Math.max(0, d - ti);
    if (ti > 0) t.lastRan = now;
    t.util = pelt.util;
    t.runnable = pelt.runnable;
    t.peltAt = now;
    if (t.prog && t.prog.left > 0) t.prog.left = Math.max(0, t.prog.left - ti);
  }

  /** PELT-like averages: geometric approach with a 32 ms half-life. */
  private peltAt(t: Task, st: SegTask | undefined, d: number, ti: number): { util: number; runnable: number } {
    if (!st || d <= 0) return { util: t.util, runnable: t.runnable };
    const y = Math.pow(0.5, d / 32_000_000);
    const utilTarget = (1024 * ti) / d;
    return {
      util: Math.round(utilTarget + (t.util - utilTarget) * y),
      runnable: Math.round(1024 + (t.runnable - 1024) * y),
    };
  }

  /** Where a runnable task sits in its CPU's segment. */
  private segIndex(t: Task): { seg: Seg; i: number; d: number } | undefined {
    if (t.state !== 'R' || !this.s.cpus[t.cpu]?.rq.includes(t.pid)) return undefined;
    const seg = this.seg(t.cpu);
    const i = seg.tasks.findIndex((x) => x.pid === t.pid);
    if (i < 0) return undefined;
    return { seg, i, d: this.k.now - this.s.cpus[t.cpu].segStart };
  }

  /** Task counters at the current time (committed + the running segment). */
  taskTimes(pid: number): TaskTimes {
    const t = this.byPid.get(pid);
    if (!t) throw new KernelError('ESRCH');
    const out: TaskTimes = { sum: t.sum, ut: t.ut, st: t.st, vrt: t.vrt, nv: t.nv, niv: t.niv, wait: t.wait, pcount: t.pcount, lastRan: t.lastRan, util: t.util, runnable: t.runnable };
    const now = this.k.now;
    if (t.bg && t.state !== 'Z') {
      const d = now - t.bg.since;
      const ti = mulDiv(d, t.bg.share, SHARE_ONE);
      const u = mulDiv(ti, t.bg.user, SHARE_ONE);
      const wakes = t.bg.hz > 0 ? Math.floor((d * t.bg.hz) / NSEC_PER_SEC) : 0;
      out.sum += ti;
      out.ut += u;
      out.st += ti - u;
      out.nv += wakes;
      out.pcount += wakes;
      if (wakes > 0 && t.bg.hz > 0) out.lastRan = t.bg.since + Math.floor((wakes * NSEC_PER_SEC) / t.bg.hz);
      if (!isRt(t)) {
        out.vrt += mulDiv(ti, NICE_0_LOAD, weightOf(t));
        // a frequent sleeper is re-placed near min_vruntime at each wakeup
        if (t.bg.hz >= 0.1 && !this.s.cpus[t.cpu]?.rq.includes(t.pid)) {
          out.vrt = Math.max(out.vrt, this.minVruntime(t.cpu) - Math.floor(this.s.tun.latencyNs / 2) + ((t.pid * 7919) % 3_000_000));
        }
      }
    }
    const pos = this.segIndex(t);
    if (pos && pos.d > 0) {
      const st = pos.seg.tasks[pos.i];
      const ti = mulDiv(capOf(pos.seg, pos.d), st.share, SHARE_ONE);
      const x = this.taskDelta(st, ti, pos.d);
      out.sum += ti;
      out.ut += x.u;
      out.st += ti - x.u;
      out.vrt += x.v;
      out.niv += x.niv;
      out.nv += x.nv;
      out.pcount += x.niv + x.nv;
      out.wait += Math.max(0, pos.d - ti);
      if (ti > 0) out.lastRan = now;
      const p = this.peltAt(t, st, pos.d, ti);
      out.util = p.util;
      out.runnable = p.runnable;
    }
    return out;
  }

  /** Sum of a thread group's times (whole-process /proc/<pid>/stat). */
  groupTimes(tgid: number): { ut: number; st: number; sum: number } {
    const proc = this.procs.get(tgid);
    let ut = proc?.deadUt ?? 0;
    let st = proc?.deadSt ?? 0;
    let sum = ut + st;
    for (const t of this.threads(tgid)) {
      const x = this.taskTimes(t.pid);
      ut += x.ut;
      st += x.st;
      sum += x.sum;
    }
    return { ut, st, sum };
  }

  private cpuEval(c: number): SegEval {
    const cpu = this.s.cpus[c];
    return evalSeg(this.seg(c), Math.max(0, this.k.now - cpu.segStart));
  }

  /** Per-CPU /proc/stat times at the current moment, ns. */
  cpuTimes(c: number): CpuTimes {
    const cpu = this.s.cpus[c];
    const e = this.cpuEval(c);
    return {
      user: cpu.user + e.user,
      nice: cpu.nice + e.nice,
      system: cpu.system + e.system,
      idle: cpu.idle + e.idle,
      iowait: cpu.iowait + e.iowait,
      irq: cpu.irq,
      softirq: cpu.softirq + e.softirq,
      steal: cpu.steal,
      guest: cpu.guest,
      guestNice: cpu.guestNice,
    };
  }

  cpuCount(): number {
    return this.s.cpus.length;
  }

  /** Context switches of a CPU (rq->nr_switches). */
  cpuSwitches(c: number): number {
    return this.s.cpus[c].sw + this.cpuEval(c).switches;
  }

  /** sched_info of a CPU: rq_cpu_time, run_delay, pcount. */
  cpuSchedInfo(c: number): { cpuTime: number; runDelay: number; pcount: number } {
    const cpu = this.s.cpus[c];
    const d = Math.max(0, this.k.now - cpu.segStart);
    const e = this.cpuEval(c);
    let delay = 0;
    for (const ti of e.t) delay += Math.max(0, d - ti);
    return { cpuTime: cpu.rqTime + e.busy + e.bg, runDelay: cpu.runDelay + delay, pcount: cpu.pcount + e.switches };
  }

  /** Local timer interrupts of a CPU. */
  cpuLoc(c: number): number {
    return this.s.cpus[c].loc + this.cpuEval(c).loc;
  }

  /** Softirq counts of a CPU, by vector. */
  cpuSoftirqs(c: number): number[] {
    const cpu = this.s.cpus[c];
    const out = cpu.softirqs.map((v, i) => v + cpu.locSoftirqs[i]);
    const loc = cpu.loc + this.cpuEval(c).loc;
    for (const [vec, share] of SOFTIRQ_PER_LOC) {
      if (vec === SI_SCHED && this.s.cpus.length === 1) continue;
      out[vec] += mulDiv(loc, share, SHARE_ONE) - mulDiv(cpu.loc, share, SHARE_ONE);
    }
    return out;
  }

  /** Arch IPI counters (RES, CAL, TLB) and machine-check polls: background rates + events. */
  cpuIpis(c: number): { res: number; cal: number; tlb: number; mcp: number } {
    const cpu = this.s.cpus[c];
    const now = this.k.now;
    const smp = this.s.cpus.length > 1;
    return {
      res: cpu.res + (smp ? Math.floor(now / 3_000_000_000) : 0),
      cal: cpu.cal + (smp ? Math.floor(now / 900_000_000) : 0),
      tlb: cpu.tlb + (smp ? Math.floor(now / 20_000_000_000) : 0),
      mcp: 1 + Math.floor(now / 300_000_000_000),
    };
  }

  irqLines(): readonly IrqLine[] {
    return this.s.irqs;
  }

  /** The boot disk's request-queue interrupt serving `cpu` (blk-mq maps a hardware queue per CPU). */
  blockIrq(cpu: number): IrqLine | undefined {
    return this.s.irqs.find((l) => l.name === `virtio0-req.${cpu}`);
  }

  /** A softirq vector (0 HI … 3 NET_RX … 9 RCU) ran on `cpu`: /proc/softirqs and /proc/stat count it. */
  countSoftirq(cpu: number, vec: number): void {
    const c = this.s.cpus[cpu];
    if (c && vec >= 0 && vec < c.softirqs.length) c.softirqs[vec]++;
  }

  /** A device interrupt on `cpu`: its /proc/interrupts line counts it. */
  countIrq(line: IrqLine, cpu: number): void {
    if (cpu >= 0 && cpu < line.counts.length) line.counts[cpu]++;
  }

  /** nr_irqs on x86: gsi_top + legacy + 8 per CPU + 16 per GSI (MSI). */
  nrIrqs(): number {
    return 24 + 16 + 8 * this.s.cpus.length + 24 * 16;
  }

  minVruntime(c: number): number {
    const cpu = this.s.cpus[c];
    const base = cpu.minVrt + this.cpuEval(c).bg;
    let m = Infinity;
    for (const pid of cpu.rq) {
      const t = this.byPid.get(pid);
      if (t && !isRt(t)) m = Math.min(m, this.taskTimes(pid).vrt);
    }
    return m === Infinity ? base : Math.max(base, m);
  }

  /** Runnable tasks of a CPU (its runqueue). */
  runqueue(c: number): readonly number[] {
    return this.s.cpus[c].rq;
  }

  /** The task a CPU is running now (0 = idle): the RT head, else the CFS task with the largest share. */
  curr(c: number): number {
    const seg = this.seg(c);
    let best = 0;
    let bestShare = 0;
    for (const st of seg.tasks) {
      const t = this.byPid.get(st.pid);
      if (!t) continue;
      if (st.share > bestShare) {
        best = st.pid;
        bestShare = st.share;
      }
    }
    if (best === 0) return 0;
    // a duty-cycled task is on the CPU only part of the time
    const st = seg.tasks.find((x) => x.pid === best)!;
    if (st.demand < SHARE_ONE && !this.dutyOn(best, st.demand)) return 0;
    return best;
  }

  /** Deterministic "is it on the CPU this tick" for duty-cycled tasks. */
  private dutyOn(pid: number, demand: number): boolean {
    const tick = Math.floor(this.k.now / TICK_NSEC);
    let h = (Math.imul(pid, 0x9e3779b1) ^ Math.imul(tick, 0x85ebca6b)) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
    h = (h ^ (h >>> 12)) >>> 0;
    return h / 0x100000000 < demand / SHARE_ONE;
  }

  /** The state letter as /proc shows it now (duty-cycled tasks alternate R/S). */
  displayState(t: TaskView): TaskStateCode {
    const task = this.byPid.get(t.pid);
    if (!task) return t.state;
    if (task.state === 'R' && task.prog) {
      const st = task.prog.steps[task.prog.pc];
      if (st && st.op === 'run' && st.cap !== undefined && st.cap < 1 && !this.dutyOn(task.pid, toShare(st.cap))) return 'S';
    }
    return task.state;
  }

  /** nr_running(): runnable tasks on all CPUs. */
  nrRunning(): number {
    let n = 0;
    for (const c of this.s.cpus) n += c.rq.length;
    return n;
  }

  nrThreads(): number {
    return this.byPid.size;
  }

  /** Tasks waiting for I/O (procs_blocked). */
  nrIowait(): number {
    return this.aggregates().reduce((a, c) => a + c.iowait, 0);
  }

  nrUninterruptible(): number {
    return this.aggregates().reduce((a, c) => a + c.blocked, 0);
  }

  nrUninterruptibleOn(c: number): number {
    return this.aggregates()[c]?.blocked ?? 0;
  }

  get tunables(): Readonly<Tunables> {
    return this.s.tun;
  }

  // ================================================================ events

  /** Commits accounting up to now; every mutation starts with it. */
  private sync(): void {
    this.commit(this.k.now);
    this.psiAggregate();
    // a commit changes the rounding of the running segments: re-aim completion timers
    this.s.cpus.forEach((cpu, c) => {
      for (const pid of cpu.rq) {
        const t = this.byPid.get(pid);
        if (t?.prog && t.prog.left >= 0) {
          this.dirty.add(c);
          break;
        }
      }
    });
  }

  private rearm(): void {
    for (const c of this.dirty) this.armCpu(c);
    this.dirty.clear();
  }

  /** After a mutation: balance, rebuild segments, re-arm completion timers. */
  private settle(): void {
    this.balance();
    this.agg = undefined;
    const agg = this.aggregates();
    for (let c = 0; c < this.s.cpus.length; c++) {
      const used = this.segAgg[c];
      const now = agg[c];
      if (
        !used ||
        used.bg !== now.bg ||
        used.bgUser !== now.bgUser ||
        used.bgHz !== now.bgHz ||
        used.iowait !== now.iowait ||
        used.blocked !== now.blocked ||
        used.memstall !== now.memstall
      ) {
        this.segs[c] = undefined;
      }
    }
    this.rearm();
    this.armPsi();
    this.armBalance();
  }

  private markDirty(c: number): void {
    this.dirty.add(c);
    this.segs[c] = undefined;
    this.agg = undefined;
  }

  private markAllDirty(): void {
    for (let c = 0; c < this.s.cpus.length; c++) this.markDirty(c);
  }

  private armCpu(c: number): void {
    this.k.timers.cancel('sched.cpu', c);
    const seg = this.seg(c);
    let best = -1;
    seg.tasks.forEach((st, i) => {
      const t = this.byPid.get(st.pid);
      if (!t?.prog || t.prog.left < 0 || t.state !== 'R') return;
      const d = timeToConsume(seg, i, t.prog.left);
      if (d >= 0 && (best < 0 || d < best)) best = d;
    });
    if (best >= 0) this.k.timers.add(this.s.cpus[c].segStart + Math.max(0, best), 'sched.cpu', c);
  }

  private onCpuTimer(t: Timer): void {
    this.sync();
    const cpu = this.s.cpus[t.arg];
    if (!cpu) return;
    for (const pid of [...cpu.rq]) {
      const task = this.byPid.get(pid);
      if (task?.prog && task.state === 'R' && task.prog.left === 0) this.nextStep(task);
    }
    this.markDirty(t.arg);
    this.settle();
  }

  private onWakeTimer(t: Timer): void {
    const task = this.byPid.get(t.arg);
    if (!task?.prog || task.prog.until !== t.at) return;
    this.sync();
    if (task.state === 'T') {
      task.wokeWhileStopped = true;
    } else if (task.state === 'S' || task.state === 'D') {
      if (task.prog.steps[task.prog.pc]?.op === 'io') this.ioDone(task);
      this.nextStep(task);
    }
    this.settle();
  }

  private onLoadTimer(t: Timer): void {
    // calc_global_load(): active = nr_running + nr_uninterruptible
    let active = 0;
    for (const c of this.s.cpus) {
      for (const pid of c.rq) {
        const task = this.byPid.get(pid);
        if (task && this.displayState(task) === 'R') active++;
      }
    }
    active += this.nrUninterruptible();
    const a = active * FIXED_1;
    const av = this.s.avenrun;
    av[0] = calcLoad(av[0], EXP_1, a);
    av[1] = calcLoad(av[1], EXP_5, a);
    av[2] = calcLoad(av[2], EXP_15, a);
    this.k.timers.add(t.at + LOAD_FREQ_NS, 'sched.loadavg');
  }

  // ---------------------------------------------------------------- PSI

  /** Per-CPU PSI times since the last aggregation, at the current moment. */
  private psiPending(): number[][] {
    return this.s.cpus.map((cpu, c) => {
      const p = [...cpu.psi];
      const d = this.k.now - cpu.segStart;
      if (d > 0) {
        const seg = this.seg(c);
        if (seg.ioSome) p[PSI_IO_SOME] += d;
        if (seg.ioFull) p[PSI_IO_FULL] += d;
        if (seg.memSome) p[PSI_MEM_SOME] += d;
        if (seg.memFull) p[PSI_MEM_FULL] += d;
        if (seg.cpuSome) p[PSI_CPU_SOME] += d;
        if (seg.nonidle) p[PSI_NONIDLE] += d;
      }
      return p;
    });
  }

  /** collect_percpu_times(): stall time weighted by each CPU's non-idle time. */
  private psiDeltas(per: number[][]): number[] {
    const deltas = new Array(6).fill(0);
    let nonidleTotal = 0;
    const w = per.map((p) => Math.floor(p[PSI_NONIDLE] / TICK_NSEC));
    for (const x of w) nonidleTotal += x;
    for (let s = 0; s < 6; s++) {
      let acc = 0;
      let big = false;
      per.forEach((p, c) => {
        acc += p[s] * w[c];
        if (acc > Number.MAX_SAFE_INTEGER) big = true;
      });
      if (big) {
        let b = 0n;
        per.forEach((p, c) => (b += BigInt(p[s]) * BigInt(w[c])));
        deltas[s] = Number(b / BigInt(Math.max(nonidleTotal, 1)));
      } else deltas[s] = Math.floor(acc / Math.max(nonidleTotal, 1));
    }
    return deltas;
  }

  private psiAggregate(): void {
    const per = this.s.cpus.map((c) => c.psi);
    if (per.every((p) => p.every((x) => x === 0))) return;
    const deltas = this.psiDeltas(per);
    for (let s = 0; s < 6; s++) this.s.psi.total[s] += deltas[s];
    for (const c of this.s.cpus) c.psi.fill(0);
  }

  /** PSI totals (ns) and averages at the current moment. */
  psiView(): { total: number[]; avg: number[][] } {
    const deltas = this.psiDeltas(this.psiPending());
    const p: PsiState = clone(this.s.psi);
    p.total = p.total.map((v, s) => v + deltas[s]);
    // psi_show() catches up the averages of a stopped clock (missed periods)
    if (this.k.now >= p.avgNext) updateAverages(p, this.k.now);
    return { total: p.total, avg: p.avg };
  }

  /** The averaging clock runs while some CPU has non-idle tasks (PSI_STATE_RESCHEDULE). */
  private psiActive(): boolean {
    for (let c = 0; c < this.s.cpus.length; c++) if (this.seg(c).nonidle) return true;
    return false;
  }

  private armPsi(): void {
    const p = this.s.psi;
    if (p.armed || !this.psiActive()) return;
    p.armed = true;
    this.k.timers.add(this.k.now + PSI_PERIOD_NS, 'sched.psi');
  }

  private onPsiTimer(t: Timer): void {
    this.sync();
    const p = this.s.psi;
    updateAverages(p, t.at);
    p.armed = false;
    if (this.psiActive()) {
      p.armed = true;
      this.k.timers.add(Math.max(p.avgNext, t.at + 1), 'sched.psi');
    }
    this.rearm();
  }

  // ---------------------------------------------------------------- balancing

  private loadOf(c: number): number {
    let n = 0;
    for (const pid of this.s.cpus[c].rq) {
      const t = this.byPid.get(pid);
      if (t) n += isRt(t) ? 1000 : 1;
    }
    return n;
  }

  private allowedOn(t: Task, c: number): boolean {
    return t.allowed === null || t.allowed.includes(c);
  }

  /** select_task_rq(): the least loaded allowed CPU, preferring the previous one. */
  private selectCpu(t: Task): number {
    let best = -1;
    let bestLoad = Infinity;
    const consider = (c: number): void => {
      if (!this.allowedOn(t, c)) return;
      const l = this.loadOf(c);
      if (l < bestLoad) {
        best = c;
        bestLoad = l;
      }
    };
    if (t.cpu < this.s.cpus.length) consider(t.cpu);
    for (let c = 0; c < this.s.cpus.length; c++) consider(c);
    return best < 0 ? (t.allowed?.[0] ?? 0) : best;
  }

  private migrate(t: Task, to: number): void {
    if (t.cpu === to) return;
    const from = t.cpu;
    const src = this.s.cpus[from];
    const idx = src.rq.indexOf(t.pid);
    if (idx >= 0) {
      src.rq.splice(idx, 1);
      this.s.cpus[to].rq.push(t.pid);
      if (!isRt(t)) t.vrt = Math.max(0, t.vrt - src.minVrt + this.s.cpus[to].minVrt);
      this.s.cpus[to].res++;
    }
    t.cpu = to;
    t.mig++;
    this.markDirty(from);
    this.markDirty(to);
  }

  /** Periodic/idle load balancing: move tasks while two CPUs differ by 2 or more. */
  private balance(): void {
    const n = this.s.cpus.length;
    if (n < 2) return;
    for (let guard = 0; guard < 256; guard++) {
      const loads = this.s.cpus.map((_, c) => this.loadOf(c));
      let moved = false;
      const order = [...loads.keys()].sort((a, b) => loads[b] - loads[a] || a - b);
      for (const src of order) {
        for (const dst of [...order].reverse()) {
          if (loads[src] - loads[dst] < 2) continue;
          const cand = this.s.cpus[src].rq
            .map((pid) => this.byPid.get(pid)!)
            .filter((t) => t && !isRt(t) && this.allowedOn(t, dst))
            .sort((a, b) => b.enq - a.enq)[0];
          if (cand) {
            this.migrate(cand, dst);
            moved = true;
            break;
          }
        }
        if (moved) break;
      }
      if (!moved) return;
    }
  }

  /** Pairs a swap could even out over time (imbalance of one task). */
  private rotationCandidate(): { a: Task; b: Task } | undefined {
    const n = this.s.cpus.length;
    if (n < 2) return undefined;
    const loads = this.s.cpus.map((_, c) => this.loadOf(c));
    // CFS tasks of each CPU, least served first
    const lists: { t: Task; sum: number }[][] = this.s.cpus.map((cpu) => {
      const out: { t: Task; sum: number }[] = [];
      for (const pid of cpu.rq) {
        const t = this.byPid.get(pid);
        if (t && !isRt(t)) out.push({ t, sum: this.taskTimes(pid).sum });
      }
      return out.sort((x, y) => x.sum - y.sum || x.t.pid - y.t.pid);
    });
    for (let src = 0; src < n; src++) {
      for (let dst = 0; dst < n; dst++) {
        if (loads[src] - loads[dst] !== 1 || loads[dst] < 1 || loads[src] >= 1000) continue;
        const a = lists[src].find((x) => this.allowedOn(x.t, dst));
        let b: { t: Task; sum: number } | undefined;
        for (let i = lists[dst].length - 1; i >= 0 && !b; i--) if (this.allowedOn(lists[dst][i].t, src)) b = lists[dst][i];
        if (a && b && a.sum < b.sum) return { a: a.t, b: b.t };
      }
    }
    return undefined;
  }

  private imbalanced(): boolean {
    const n = this.s.cpus.length;
    if (n < 2) return false;
    const loads = this.s.cpus.map((_, c) => this.loadOf(c));
    for (let src = 0; src < n; src++) {
      for (let dst = 0; dst < n; dst++) {
        if (loads[src] - loads[dst] === 1 && loads[dst] >= 1 && loads[src] < 1000) return true;
      }
    }
    return false;
  }

  private armBalance(): void {
    if (this.s.balanceArmed || !this.imbalanced()) return;
    this.s.balanceArmed = true;
    this.k.timers.add(this.k.now + BALANCE_PERIOD_NS, 'sched.balance');
  }

  private onBalanceTimer(): void {
    this.s.balanceArmed = false;
    this.sync();
    const pair = this.rotationCandidate();
    if (pair) {
      const ca = pair.a.cpu;
      const cb = pair.b.cpu;
      this.migrate(pair.a, cb);
      this.migrate(pair.b, ca);
    }
    this.settle();
  }

  // ---------------------------------------------------------------- run queue

  private enqueue(t: Task, wakeup: boolean): void {
    const c = this.selectCpu(t);
    if (c !== t.cpu) {
      t.mig++;
      if (wakeup) this.s.cpus[c].res++;
    }
    const cpu = this.s.cpus[c];
    if (!isRt(t)) {
      const min = this.minVruntime(c);
      if (wakeup) t.vrt = Math.max(t.vrt, min - Math.floor(this.s.tun.latencyNs / 2));
      else t.vrt = Math.max(t.vrt, min);
    }
    t.cpu = c;
    t.enq = ++this.s.enq;
    if (!cpu.rq.includes(t.pid)) cpu.rq.push(t.pid);
    t.pcount++;
    cpu.sw++;
    cpu.pcount++;
    this.markDirty(c);
    // trace point: sched_waking / sched_wakeup (+ the switch in when the CPU was idle)
    if (wakeup) this.k.trace?.schedWakeup(t.pid, c, cpu.rq.length === 1);
  }

  private dequeue(t: Task): void {
    const cpu = this.s.cpus[t.cpu];
    if (!cpu) return;
    const i = cpu.rq.indexOf(t.pid);
    if (i >= 0) {
      cpu.rq.splice(i, 1);
      cpu.sw++;
    }
    this.markDirty(t.cpu);
  }

  // ---------------------------------------------------------------- programs

  /** Enters the step at prog.pc (skipping/looping), running zero-time steps at once. */
  private enterStep(t: Task): void {
    const p = t.prog!;
    for (let guard = 0; guard < 1000; guard++) {
      if (p.pc >= p.steps.length) {
        if (p.loop && p.steps.length > 0) p.pc = 0;
        else {
          if (t.pid !== t.tgid) this.removeThread(t, 0);
          else this.exitGroup(t, 0);
          return;
        }
      }
      const st = p.steps[p.pc];
      const wasQueued = this.s.cpus[t.cpu]?.rq.includes(t.pid);
      switch (st.op) {
        case 'run': {
          // a looping program cannot spin faster than the syscalls it would make
          p.left = st.ns < 0 ? -1 : Math.floor(st.ns) > 0 && p.loop ? Math.max(MIN_LOOP_RUN_NS, Math.floor(st.ns)) : Math.floor(st.ns);
          if (p.left === 0) {
            p.pc++;
            continue;
          }
          t.wchan = '0';
          if (!wasQueued) {
            t.state = 'R';
            this.enqueue(t, true);
          } else this.markDirty(t.cpu);
          return;
        }
        case 'sleep':
        case 'io':
        case 'block': {
          // hrtimer sleeps end no sooner than the timer slack (50 us)
          const ns = st.ns > 0 ? Math.max(TIMER_SLACK_NS, Math.floor(st.ns)) : 0;
          if (wasQueued) this.sleepFromRq(t);
          if (ns === 0) {
            if (st.op === 'io') this.ioDone(t);
            p.pc++;
            continue;
          }
          t.state = st.op === 'sleep' ? 'S' : 'D';
          t.wchan = st.op === 'sleep' ? 'hrtimer_nanosleep' : st.op === 'io' ? 'folio_wait_bit_common' : 'schedule_timeout';
          p.until = this.k.now + ns;
          this.k.timers.add(p.until, 'sched.wake', t.pid);
          this.agg = undefined;
          this.markDirty(t.cpu);
          return;
        }
        case 'wait': {
          if (wasQueued) this.sleepFromRq(t);
          t.state = 'S';
          t.wchan = 'do_wait';
          p.until = -1;
          this.markDirty(t.cpu);
          return;
        }
        case 'exit':
          if (t.pid !== t.tgid) this.removeThread(t, (st.code & 0xff) << 8);
          else this.exitGroup(t, (st.code & 0xff) << 8);
          return;
      }
    }
    // a loop of zero-time steps: park it
    if (this.s.cpus[t.cpu]?.rq.includes(t.pid)) this.sleepFromRq(t);
    t.state = 'S';
    t.wchan = 'do_wait';
    p.until = -1;
  }

  private sleepFromRq(t: Task): void {
    this.dequeue(t);
    t.nv++;
    t.pcount++;
    // trace point: schedule() out of the task (sched_switch)
    this.k.trace?.schedSleep(t.pid, t.cpu);
  }

  private nextStep(t: Task): void {
    if (!t.prog) return;
    t.prog.pc++;
    this.enterStep(t);
  }

  private ioDone(t: Task): void {
    const st = t.prog?.steps[t.prog.pc];
    if (!st || st.op !== 'io') return;
    const r = st.readBytes ?? 0;
    const w = st.writeBytes ?? 0;
    const proc = t.io;
    proc[0] += r;
    proc[1] += w;
    proc[2] += r > 0 ? Math.max(1, Math.ceil(r / 131072)) : 0;
    proc[3] += w > 0 ? Math.max(1, Math.ceil(w / 131072)) : 0;
    proc[4] += r;
    proc[5] += w;
    const reqs = Math.max(1, Math.ceil((r + w) / 131072));
    const line = this.blockIrq(t.cpu);
    if (line) line.counts[t.cpu] += reqs;
    this.s.cpus[t.cpu].softirqs[SI_BLOCK] += reqs;
  }

  /**
   * Makes a task run a program (replacing what it was doing). Steps: run CPU
   * time, sleep, io, block, wait, exit. See Step.
   */
  run(pid: number, steps: Step[], opts: { loop?: boolean } = {}): void {
    const t = this.liveUserTask(pid);
    this.validateSteps(steps);
    this.sync();
    this.k.timers.cancel('sched.wake', pid);
    if (t.state === 'T') {
      // runs once continued
      t.prog = { steps: clone(steps), pc: -1, loop: !!opts.loop, left: 0, until: -1 };
      t.stoppedFrom = 'S';
      t.wokeWhileStopped = true;
      this.settle();
      return;
    }
    t.prog = { steps: clone(steps), pc: 0, loop: !!opts.loop, left: 0, until: -1 };
    this.enterStep(t);
    this.settle();
  }

  /** Busy on CPU for `ns` of CPU time (-1 = until killed), then exit(0) unless `then` is given. */
  busy(pid: number, ns: number, opts: { user?: number; cap?: number; then?: Step[] } = {}): void {
    this.run(pid, [{ op: 'run', ns, user: opts.user, cap: opts.cap }, ...(opts.then ?? [{ op: 'wait' }])]);
  }

  /** Sleep for `ns`, then continue with `then` (default: wait). */
  sleep(pid: number, ns: number, opts: { then?: Step[] } = {}): void {
    this.run(pid, [{ op: 'sleep', ns }, ...(opts.then ?? [{ op: 'wait' }])]);
  }

  /** Wakes a task from `wait` (or an interruptible sleep), continuing its program. */
  wake(pid: number): void {
    const t = this.byPid.get(pid);
    if (!t) throw new KernelError('ESRCH');
    if (!t.prog || t.state !== 'S') return;
    this.sync();
    this.k.timers.cancel('sched.wake', pid);
    this.nextStep(t);
    this.settle();
  }

  private validateSteps(steps: Step[]): void {
    if (!Array.isArray(steps)) throw new KernelError('EINVAL', 'program must be an array of steps');
    for (const st of steps) {
      switch (st?.op) {
        case 'run':
          if (!Number.isFinite(st.ns) || (st.ns < 0 && st.ns !== -1)) throw new KernelError('EINVAL', 'run.ns must be >= 0 or -1');
          if (st.cap !== undefined && !(st.cap > 0 && st.cap <= 1)) throw new KernelError('EINVAL', 'run.cap must be in (0, 1]');
          if (st.user !== undefined && !(st.user >= 0 && st.user <= 1)) throw new KernelError('EINVAL', 'run.user must be in [0, 1]');
          break;
        case 'sleep':
        case 'io':
        case 'block':
          if (!Number.isFinite(st.ns) || st.ns < 0) throw new KernelError('EINVAL', `${st.op}.ns must be >= 0`);
          break;
        case 'wait':
          break;
        case 'exit':
          if (!Number.isInteger(st.code)) throw new KernelError('EINVAL', 'exit.code must be an integer');
          break;
        default:
          throw new KernelError('EINVAL', 'unknown step');
      }
    }
  }

  private liveTask(pid: number): Task {
    const t = this.byPid.get(pid);
    if (!t || t.state === 'Z' || t.state === 'X') throw new KernelError('ESRCH');
    return t;
  }

  private liveUserTask(pid: number): Task {
    const t = this.liveTask(pid);
    if (t.kthread) throw new KernelError('EINVAL', 'kernel threads do not run user programs');
    return t;
  }

  // ---------------------------------------------------------------- fork / exec / exit / wait

  private checkForkLimits(parent: Task): void {
    if (this.byPid.size >= this.s.threadsMax) throw new KernelError('EAGAIN');
    if (parent.uid !== 0) {
      const proc = this.procs.get(parent.tgid);
      const lim = proc?.limits[RLIMIT_NPROC]?.[0] ?? -1;
      if (lim >= 0) {
        let n = 0;
        for (const t of this.byPid.values()) if (t.uid === parent.uid) n++;
        if (n >= lim) throw new KernelError('EAGAIN');
      }
    }
  }

  /** fork(): a new process, copy of `pid`'s thread group; it waits until given a program. */
  fork(pid: number, opts: { program?: Step[]; loop?: boolean } = {}): number {
    const parent = this.liveUserTask(pid);
    this.checkForkLimits(parent);
    if (opts.program) this.validateSteps(opts.program);
    this.sync();
    const child = this.copyTask(parent, this.allocPid());
    child.tgid = child.pid;
    child.ppid = parent.tgid;
    const pproc = this.procs.get(parent.tgid)!;
    const proc = clone(pproc);
    proc.tgid = child.pid;
    this.procs.set(child.pid, proc);
    this.k.mm.forkAddressSpace(parent.tgid, child.pid);
    this.addTask(child);
    this.s.forks++;
    this.startNew(child, opts.program, opts.loop);
    this.settle();
    this.events.emit('fork', { parent: parent.pid, child: child.pid });
    return child.pid;
  }

  /** clone(CLONE_THREAD): a new thread in `pid`'s thread group. */
  clone(pid: number, opts: { program?: Step[]; loop?: boolean; comm?: string } = {}): number {
    const parent = this.liveUserTask(pid);
    this.checkForkLimits(parent);
    if (opts.program) this.validateSteps(opts.program);
    this.sync();
    const child = this.copyTask(parent, this.allocPid());
    child.tgid = parent.tgid;
    child.ppid = parent.ppid;
    child.exitSignal = -1;
    if (opts.comm !== undefined) child.comm = opts.comm.slice(0, 15);
    this.addTask(child);
    this.s.forks++;
    this.startNew(child, opts.program, opts.loop);
    this.settle();
    this.events.emit('fork', { parent: parent.pid, child: child.pid });
    return child.pid;
  }

  private copyTask(p: Task, pid: number): Task {
    const t = this.blankTask(pid);
    t.comm = p.comm;
    t.uid = p.uid;
    t.gid = p.gid;
    t.euid = p.euid;
    t.suid = p.suid;
    t.fsuid = p.fsuid;
    t.egid = p.egid;
    t.sgid = p.sgid;
    t.fsgid = p.fsgid;
    t.groups = [...p.groups];
    t.pgid = p.pgid;
    t.sid = p.sid;
    t.oomScoreAdj = p.oomScoreAdj;
    t.nice = p.nice;
    t.policy = p.policy;
    t.rtPrio = p.rtPrio;
    t.allowed = p.allowed ? [...p.allowed] : null;
    t.cpu = p.cpu;
    t.flags = (p.flags | PF.FORKNOEXEC) & ~PF.SUPERPRIV;
    t.sigBlk = p.sigBlk;
    t.minflt = 30 + this.k.rng.int(0, 60);
    t.vrt = this.minVruntime(p.cpu) + Math.floor(this.s.tun.latencyNs / 2);
    return t;
  }

  private startNew(t: Task, program: Step[] | undefined, loop?: boolean): void {
    t.state = 'S';
    t.wchan = 'do_wait';
    t.prog = { steps: program ? clone(program) : [{ op: 'wait' }], pc: 0, loop: !!loop, left: 0, until: -1 };
    this.enterStep(t);
  }

  /**
   * execve(): replaces the program image of `pid`'s thread group. Other
   * threads die, close-on-exec files close, caught signals reset.
   */
  exec(pid: number, path: string, argv: string[], env?: string[], opts: { anonPages?: number } = {}): void {
    const t = this.liveUserTask(pid);
    if (typeof path !== 'string' || !path) throw new KernelError('ENOENT');
    if (!Array.isArray(argv)) throw new KernelError('EFAULT');
    this.sync();
    const leader = this.byPid.get(t.tgid) ?? t;
    for (const th of this.threads(t.tgid)) if (th.pid !== leader.pid) this.removeThread(th, 0);
    const proc = this.procs.get(leader.tgid)!;
    proc.exe = path;
    proc.argv = [...argv];
    if (env) proc.env = [...env];
    for (const [fd, f] of Object.entries(proc.fds)) if (f.flags & O.CLOEXEC) delete proc.fds[fd];
    proc.sigCgt = EMPTY_MASK;
    proc.onTerm = 'exit';
    proc.aslr = this.k.rng.nextU32();
    leader.comm = basename(path).slice(0, 15);
    leader.flags &= ~PF.FORKNOEXEC;
    leader.minflt += 60 + this.k.rng.int(0, 80);
    this.k.mm.createAddressSpace(leader.tgid, { exe: path, anonPages: opts.anonPages });
    this.settle();
    this.events.emit('exec', { pid: leader.pid, path });
  }

  /** fork() + exec() + program: a new process under `parentPid`. */
  spawn(parentPid: number, opts: SpawnOptions): number {
    if (!opts || !Array.isArray(opts.argv)) throw new KernelError('EINVAL', 'argv required');
    const parent = this.byPid.get(parentPid);
    if (!parent) throw new KernelError('ESRCH');
    if (opts.program) this.validateSteps(opts.program);
    const pid = this.fork(parentPid);
    const t = this.byPid.get(pid)!;
    const proc = this.procs.get(pid)!;
    if (opts.uid !== undefined) t.uid = t.euid = t.suid = t.fsuid = opts.uid;
    if (opts.gid !== undefined) t.gid = t.egid = t.sgid = t.fsgid = opts.gid;
    if (opts.groups) t.groups = [...opts.groups];
    if (opts.nice !== undefined) t.nice = clampNice(opts.nice);
    if (t.uid !== 0) t.flags &= ~PF.SUPERPRIV;
    // the spawner resets dispositions and the blocked mask before exec
    t.sigBlk = EMPTY_MASK;
    proc.sigIgn = EMPTY_MASK;
    if (opts.cwd) proc.cwd = opts.cwd;
    if (opts.tty !== undefined) proc.tty = opts.tty;
    if (opts.cgroup) proc.cgroup = opts.cgroup;
    if (opts.setsid) {
      t.sid = pid;
      t.pgid = pid;
      proc.tty = opts.tty ?? null;
    } else if (opts.pgid !== undefined) t.pgid = opts.pgid === 0 ? pid : opts.pgid;
    if (opts.fds) {
      proc.fds = {};
      for (const f of opts.fds) proc.fds[f.fd] = this.makeFd(f.path, f.flags);
    }
    const path = opts.path ?? opts.argv[0] ?? '';
    this.exec(pid, path, opts.argv, opts.env ?? proc.env, { anonPages: opts.anonPages });
    if (opts.comm) t.comm = opts.comm.slice(0, 15);
    if (opts.program) this.run(pid, opts.program, { loop: opts.loop });
    return pid;
  }

  /** Creates a kernel thread (child of kthreadd). */
  spawnKthread(name: string, opts: KthreadOptions = {}): number {
    if (!name) throw new KernelError('EINVAL');
    this.sync();
    const pid = this.allocPid();
    const bound = opts.cpu !== undefined;
    const t = this.blankTask(pid);
    t.ppid = 2;
    t.comm = name.slice(0, 15);
    if (name.length > 15) t.kname = name;
    t.kthread = true;
    t.state = opts.state ?? 'S';
    t.flags = PF.KTHREAD | PF.NOFREEZE | PF.FORKNOEXEC | (bound ? PF.NO_SETAFFINITY : 0) | (opts.wq !== undefined ? PF.WQ_WORKER | PF.NO_SETAFFINITY : 0);
    t.nice = clampNice(opts.nice ?? 0);
    t.policy = opts.policy ?? SCHED_NORMAL;
    t.rtPrio = opts.rtPrio ?? 0;
    t.cpu = bound ? opts.cpu! : pid % this.s.cpus.length;
    if (t.cpu < 0 || t.cpu >= this.s.cpus.length) throw new KernelError('EINVAL');
    t.allowed = bound ? [t.cpu] : null;
    t.wq = opts.wq;
    t.wchan = opts.wchan ?? 'kthread';
    t.exitSignal = -1;
    if ((opts.ppm ?? 0) > 0 || (opts.hz ?? 0) > 0) t.bg = { share: toShare((opts.ppm ?? 0) / 1e6), user: 0, hz: opts.hz ?? 0, since: this.k.now };
    this.addTask(t);
    this.procs.set(pid, this.kthreadProc(pid));
    this.s.forks++;
    this.markDirty(t.cpu);
    this.settle();
    return pid;
  }

  /**
   * exit(): a thread exits alone; a thread-group leader (or any thread when
   * `group`) ends the whole process, which stays a zombie until reaped.
   */
  exit(pid: number, code: number, opts: { group?: boolean } = {}): void {
    const t = this.liveTask(pid);
    this.sync();
    const status = (code & 0xff) << 8;
    if (t.pid !== t.tgid && !opts.group) this.removeThread(t, status);
    else this.exitGroup(this.byPid.get(t.tgid) ?? t, status);
    this.settle();
  }

  /** Removes a non-leader thread (threads are reaped at once). */
  private removeThread(t: Task, status: number): void {
    const x = this.taskTimes(t.pid);
    this.dequeue(t);
    this.k.timers.cancel('sched.wake', t.pid);
    const proc = this.procs.get(t.tgid);
    if (proc) {
      proc.deadUt = (proc.deadUt ?? 0) + x.ut;
      proc.deadSt = (proc.deadSt ?? 0) + x.st;
    }
    this.byPid.delete(t.pid);
    this.sorted = undefined;
    this.agg = undefined;
    this.events.emit('exit', { pid: t.pid, tgid: t.tgid, status });
  }

  private exitGroup(t: Task, status: number): void {
    const leader = this.byPid.get(t.tgid) ?? t;
    if (leader.state === 'Z') return;
    for (const th of this.threads(leader.tgid)) if (th.pid !== leader.pid) this.removeThread(th, status);
    this.dequeue(leader);
    this.k.timers.cancel('sched.wake', leader.pid);
    leader.prog = undefined;
    if (leader.bg) {
      const x = this.taskTimes(leader.pid);
      leader.sum = x.sum;
      leader.ut = x.ut;
      leader.st = x.st;
      leader.nv = x.nv;
      leader.pcount = x.pcount;
      leader.bg = undefined;
    }
    leader.state = 'Z';
    leader.wchan = '0';
    leader.exitCode = status;
    leader.flags |= PF.EXITING;
    if ((status & 0x7f) !== 0) leader.flags |= PF.SIGNALED;
    const proc = this.procs.get(leader.tgid);
    if (proc) proc.fds = {};
    if (!leader.kthread) this.k.mm.exitAddressSpace(leader.tgid);
    this.agg = undefined;
    this.markDirty(leader.cpu);
    this.events.emit('exit', { pid: leader.pid, tgid: leader.tgid, status });
    if (leader.pid === 1) {
      const msg = `Kernel panic - not syncing: Attempted to kill init! exitcode=0x${status.toString(16).padStart(8, '0')}`;
      this.k.printk.log(0, msg);
      this.k.events.emit('panic', { message: msg });
    }
    // reparent children to init (the child reaper)
    for (const c of this.byPid.values()) {
      if (c.ppid === leader.tgid && c.pid !== leader.pid) {
        c.ppid = leader.pid === 1 ? 0 : 1;
        if (c.state === 'Z' && c.tgid === c.pid) this.release(c);
      }
    }
    const parent = this.byPid.get(leader.ppid);
    const autoreap =
      leader.kthread ||
      leader.exitSignal === -1 ||
      !parent ||
      parent.pid === 1 ||
      parent.kthread ||
      (this.procs.get(parent.tgid) && maskHas(this.procs.get(parent.tgid)!.sigIgn, SIG.CHLD));
    if (autoreap) {
      this.release(leader);
      return;
    }
  }

  /** release_task(): frees a zombie, adding its times to the parent's. */
  private release(z: Task): void {
    const parent = this.byPid.get(z.ppid);
    if (parent) {
      parent.cutime += z.ut + z.cutime;
      parent.cstime += z.st + z.cstime;
      parent.cminflt += z.minflt + z.cminflt;
      parent.cmajflt += z.majflt + z.cmajflt;
    }
    this.byPid.delete(z.pid);
    this.procs.delete(z.tgid);
    this.sorted = undefined;
    this.agg = undefined;
  }

  /**
   * wait4(): reaps a zombie child of `parentPid` (any child when pid is -1).
   * Returns null when children exist but none has exited (WNOHANG), and
   * throws ECHILD when there is no such child.
   */
  wait(parentPid: number, pid = -1): WaitResult | null {
    const parent = this.byPid.get(parentPid);
    if (!parent) throw new KernelError('ESRCH');
    const kids = this.allTasks().filter((t) => t.ppid === parent.tgid && t.pid === t.tgid && (pid === -1 || t.pid === pid));
    if (kids.length === 0) throw new KernelError('ECHILD');
    const z = kids.find((t) => t.state === 'Z');
    if (!z) return null;
    this.sync();
    const status = z.exitCode;
    this.release(z);
    this.settle();
    const signal = status & 0x7f;
    return { pid: z.pid, status, code: signal === 0 ? (status >> 8) & 0xff : -1, signal };
  }

  /** Children of a process (thread-group leaders). */
  children(pid: number): number[] {
    const t = this.byPid.get(pid);
    if (!t) return [];
    return this.allTasks()
      .filter((c) => c.ppid === t.tgid && c.pid === c.tgid && c.pid !== t.pid)
      .map((c) => c.pid);
  }

  // ---------------------------------------------------------------- signals

  private canSignal(fromUid: number | undefined, t: Task): boolean {
    if (fromUid === undefined || fromUid === 0) return true;
    return fromUid === t.uid || fromUid === t.suid;
  }

  /**
   * kill(2): 9 SIGKILL, 15 SIGTERM, 2 SIGINT, 19 SIGSTOP, 18 SIGCONT, ...
   * pid > 0: that process (or thread); pid < -1: process group -pid; pid -1:
   * every process but init and the sender. `uid` is the sender's uid.
   */
  kill(pid: number, sig: number, opts: { uid?: number; from?: number } = {}): void {
    if (!Number.isInteger(sig) || sig < 0 || sig > NSIG) throw new KernelError('EINVAL');
    if (!Number.isInteger(pid)) throw new KernelError('EINVAL');
    let targets: Task[];
    if (pid > 0) {
      const t = this.byPid.get(pid);
      if (!t) throw new KernelError('ESRCH');
      targets = [t];
    } else if (pid === -1) {
      targets = this.allTasks().filter((t) => t.pid === t.tgid && t.pid !== 1 && !t.kthread && t.tgid !== opts.from);
    } else {
      const pgid = pid === 0 ? (this.byPid.get(opts.from ?? 0)?.pgid ?? -1) : -pid;
      targets = this.allTasks().filter((t) => t.pid === t.tgid && t.pgid === pgid && !t.kthread);
      if (targets.length === 0) throw new KernelError('ESRCH');
    }
    const allowed = targets.filter((t) => this.canSignal(opts.uid, t));
    if (targets.length > 0 && allowed.length === 0) throw new KernelError('EPERM');
    if (sig === 0) return;
    this.sync();
    for (const t of allowed) this.deliver(t, sig, opts.from ?? 0, pid > 0 && t.pid !== t.tgid ? 0 : 1);
    this.settle();
  }

  /** `from`: the sending task (0: the kernel); `group`: sent to the thread group (kill) or one thread (tkill). */
  private deliver(t: Task, sig: number, from = 0, group = 1): void {
    if (t.kthread || t.state === 'Z' || t.state === 'X') return;
    const leader = this.byPid.get(t.tgid) ?? t;
    const proc = this.procs.get(leader.tgid);
    if (!proc) return;
    const init = leader.pid === 1;
    const trace = this.k.trace;
    if (trace?.observed) {
      // __send_signal(): TRACE_SIGNAL_IGNORED (1) when prepare_signal() drops it, else DELIVERED (0)
      const dfl = !maskHas(proc.sigCgt, sig) && !maskHas(t.sigBlk, sig);
      const ignored = sig !== SIG.KILL && sig !== SIG.STOP && (maskHas(proc.sigIgn, sig) || (dfl && SIG_DEFAULT_IGNORE.has(sig)) || (init && dfl));
      // SI_USER (0) from a task's kill(2), SI_KERNEL (0x80) from the kernel (OOM killer, sysrq)
      trace.tracepoint(from, 'signal', 'signal_generate', { sig, errno: 0, code: from ? 0 : 0x80, comm: t.comm, pid: t.pid, group, result: ignored ? 1 : 0 });
      // a fatal default action: the target dequeues it in get_signal() on its way out
      const fatal = sig === SIG.KILL || (dfl && !ignored && !SIG_DEFAULT_STOP.has(sig) && sig !== SIG.CONT && !init);
      if (fatal) trace.tracepoint(t.pid, 'signal', 'signal_deliver', { sig, errno: 0, code: from ? 0 : 0x80, sa_handler: 0, sa_flags: 0 });
    }
    if (sig === SIG.KILL) {
      if (init) return;
      this.exitGroup(leader, SIG.KILL);
      return;
    }
    if (sig === SIG.CONT) {
      this.contGroup(leader);
      if (!maskHas(proc.sigCgt, sig)) return;
    }
    if (sig === SIG.STOP) {
      if (!init) this.stopGroup(leader);
      return;
    }
    if (maskHas(proc.sigIgn, sig)) return;
    const handled = maskHas(proc.sigCgt, sig) || maskHas(t.sigBlk, sig);
    if (handled) {
      if ((sig === SIG.TERM || sig === SIG.INT || sig === SIG.QUIT) && proc.onTerm === 'exit' && !init) this.exitGroup(leader, 0);
      return;
    }
    if (init) return;
    if (SIG_DEFAULT_IGNORE.has(sig)) return;
    if (SIG_DEFAULT_STOP.has(sig)) {
      this.stopGroup(leader);
      return;
    }
    const core = SIG_DEFAULT_CORE.has(sig) && (proc.limits[4]?.[0] ?? 0) !== 0;
    this.exitGroup(leader, sig | (core ? 0x80 : 0));
  }

  private stopGroup(leader: Task): void {
    for (const th of this.threads(leader.tgid)) {
      if (th.state === 'T' || th.state === 'Z') continue;
      th.stoppedFrom = th.state;
      if (th.state === 'R') this.sleepFromRq(th);
      th.state = 'T';
      th.wchan = 'do_signal_stop';
      this.markDirty(th.cpu);
    }
    this.agg = undefined;
  }

  private contGroup(leader: Task): void {
    for (const th of this.threads(leader.tgid)) {
      if (th.state !== 'T') continue;
      const prev = th.stoppedFrom ?? 'S';
      th.stoppedFrom = undefined;
      th.state = prev;
      const woke = th.wokeWhileStopped;
      th.wokeWhileStopped = false;
      if (th.prog) {
        if (woke || (th.prog.until >= 0 && th.prog.until <= this.k.now && (prev === 'S' || prev === 'D'))) {
          th.state = 'S';
          if (th.prog.steps[th.prog.pc]?.op === 'io') this.ioDone(th);
          this.nextStep(th);
        } else if (prev === 'R') {
          th.state = 'R';
          th.wchan = '0';
          this.enqueue(th, true);
        } else {
          th.wchan = th.prog.steps[th.prog.pc]?.op === 'sleep' ? 'hrtimer_nanosleep' : 'do_wait';
        }
      }
      this.markDirty(th.cpu);
    }
    this.agg = undefined;
  }

  // ---------------------------------------------------------------- attributes

  /** setpriority(): nice -20..19 (clamped); lowering needs root. */
  setNice(pid: number, nice: number, opts: { uid?: number } = {}): void {
    const t = this.liveTask(pid);
    if (!Number.isFinite(nice)) throw new KernelError('EINVAL');
    const n = clampNice(nice);
    if (opts.uid !== undefined && opts.uid !== 0) {
      if (opts.uid !== t.uid && opts.uid !== t.euid) throw new KernelError('EPERM');
      if (n < t.nice) throw new KernelError('EACCES');
    }
    this.sync();
    t.nice = n;
    this.markDirty(t.cpu);
    this.settle();
  }

  /** sched_setscheduler(): FIFO/RR need rtPrio 1..99, the others 0. */
  setPolicy(pid: number, policy: number, rtPrio = 0, opts: { uid?: number } = {}): void {
    const t = this.liveTask(pid);
    const valid = [SCHED_NORMAL, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_IDLE];
    if (!valid.includes(policy) || !Number.isInteger(rtPrio)) throw new KernelError('EINVAL');
    const rt = policy === SCHED_FIFO || policy === SCHED_RR;
    if (rt ? rtPrio < 1 || rtPrio > 99 : rtPrio !== 0) throw new KernelError('EINVAL');
    if (opts.uid !== undefined && opts.uid !== 0 && rt) throw new KernelError('EPERM');
    this.sync();
    t.policy = policy;
    t.rtPrio = rtPrio;
    if (this.s.cpus[t.cpu].rq.includes(t.pid)) {
      this.dequeue(t);
      this.enqueue(t, false);
    }
    this.markDirty(t.cpu);
    this.settle();
  }

  /** sched_setaffinity(): the CPUs a task may run on. */
  setAffinity(pid: number, cpus: number[], opts: { uid?: number } = {}): void {
    const t = this.liveTask(pid);
    if (t.flags & PF.NO_SETAFFINITY) throw new KernelError('EINVAL');
    if (opts.uid !== undefined && opts.uid !== 0 && opts.uid !== t.uid) throw new KernelError('EPERM');
    const n = this.s.cpus.length;
    const set = [...new Set(cpus.filter((c) => Number.isInteger(c) && c >= 0 && c < n))].sort((a, b) => a - b);
    if (set.length === 0) throw new KernelError('EINVAL');
    this.sync();
    t.allowed = set.length === n ? null : set;
    if (!this.allowedOn(t, t.cpu)) {
      if (this.s.cpus[t.cpu].rq.includes(t.pid)) this.migrate(t, this.selectCpu({ ...t, cpu: set[0] } as Task));
      else {
        t.cpu = set[0];
        t.mig++;
      }
    }
    this.agg = undefined;
    this.markAllDirty();
    this.settle();
  }

  /** CPUs a task may run on. */
  affinity(pid: number): number[] {
    const t = this.byPid.get(pid);
    if (!t) throw new KernelError('ESRCH');
    return t.allowed ? [...t.allowed] : Array.from({ length: this.s.cpus.length }, (_, i) => i);
  }

  setCreds(pid: number, c: { uid?: number; euid?: number; suid?: number; fsuid?: number; gid?: number; egid?: number; sgid?: number; fsgid?: number; groups?: number[] }): void {
    const t = this.liveTask(pid);
    for (const [k, v] of Object.entries(c)) {
      if (k === 'groups') continue;
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 0xfffffffe)) throw new KernelError('EINVAL');
    }
    if (c.uid !== undefined) {
      t.uid = c.uid;
      t.euid = c.euid ?? c.uid;
      t.suid = c.suid ?? c.uid;
      t.fsuid = c.fsuid ?? t.euid;
    } else {
      if (c.euid !== undefined) t.euid = t.fsuid = c.euid;
      if (c.suid !== undefined) t.suid = c.suid;
      if (c.fsuid !== undefined) t.fsuid = c.fsuid;
    }
    if (c.gid !== undefined) {
      t.gid = c.gid;
      t.egid = c.egid ?? c.gid;
      t.sgid = c.sgid ?? c.gid;
      t.fsgid = c.fsgid ?? t.egid;
    } else {
      if (c.egid !== undefined) t.egid = t.fsgid = c.egid;
      if (c.sgid !== undefined) t.sgid = c.sgid;
      if (c.fsgid !== undefined) t.fsgid = c.fsgid;
    }
    if (c.groups) t.groups = [...c.groups];
    if (t.euid !== 0) t.flags &= ~PF.SUPERPRIV;
  }

  setComm(pid: number, comm: string): void {
    const t = this.liveTask(pid);
    t.comm = comm.replace(/\n$/, '').slice(0, 15);
    t.kname = undefined;
  }

  setOomScoreAdj(pid: number, adj: number): void {
    const t = this.liveTask(pid);
    if (!Number.isInteger(adj) || adj < -1000 || adj > 1000) throw new KernelError('EINVAL');
    for (const th of this.threads(t.tgid)) th.oomScoreAdj = adj;
  }

  setPgid(pid: number, pgid: number): void {
    const t = this.liveTask(pid);
    if (!Number.isInteger(pgid) || pgid < 0) throw new KernelError('EINVAL');
    t.pgid = pgid === 0 ? t.pid : pgid;
  }

  setsid(pid: number): number {
    const t = this.liveTask(pid);
    if (t.pgid === t.pid) throw new KernelError('EPERM');
    t.sid = t.pid;
    t.pgid = t.pid;
    const proc = this.procs.get(t.tgid);
    if (proc) proc.tty = null;
    return t.pid;
  }

  setCwd(pid: number, cwd: string): void {
    const t = this.liveTask(pid);
    const proc = this.procs.get(t.tgid);
    if (proc) proc.cwd = cwd;
  }

  setLimit(pid: number, resource: number, soft: number, hard: number): void {
    const t = this.liveTask(pid);
    const proc = this.procs.get(t.tgid);
    if (!proc || !Number.isInteger(resource) || resource < 0 || resource >= proc.limits.length) throw new KernelError('EINVAL');
    const norm = (v: number): number => (v < 0 ? -1 : v);
    const s = norm(soft);
    const h = norm(hard);
    if (h !== -1 && (s === -1 || s > h)) throw new KernelError('EINVAL');
    proc.limits[resource] = [s, h];
  }

  /**
   * Forces a task into a state: R (busy forever), S (wait), D (blocked until
   * woken), T (stopped), I (idle kthread). (Named so as not to clash with the
   * snapshot setState.)
   */
  setTaskState(pid: number, state: TaskStateCode): void {
    const t = this.liveTask(pid);
    if (state === 'T') {
      this.sync();
      this.stopGroup(this.byPid.get(t.tgid) ?? t);
      this.settle();
      return;
    }
    if (t.kthread) {
      if (state !== 'S' && state !== 'I') throw new KernelError('EINVAL');
      t.state = state;
      return;
    }
    if (t.state === 'T') {
      this.sync();
      this.contGroup(this.byPid.get(t.tgid) ?? t);
      this.settle();
    }
    if (state === 'R') this.run(pid, [{ op: 'run', ns: -1 }]);
    else if (state === 'S') this.run(pid, [{ op: 'wait' }]);
    else if (state === 'D') this.run(pid, [{ op: 'block', ns: Number.MAX_SAFE_INTEGER / 4 }]);
    else throw new KernelError('EINVAL');
  }

  /** Marks a task as stalled on memory (reclaim), for PSI memory. */
  setMemstall(pid: number, on: boolean): void {
    const t = this.byPid.get(pid);
    if (!t) throw new KernelError('ESRCH');
    if (!!t.memstall === on) return;
    this.sync();
    t.memstall = on || undefined;
    this.agg = undefined;
    this.markDirty(t.cpu);
    this.settle();
  }

  // ---------------------------------------------------------------- accounting hooks

  /** I/O accounting for /proc/<pid>/io. */
  addIo(pid: number, d: { rchar?: number; wchar?: number; syscr?: number; syscw?: number; readBytes?: number; writeBytes?: number; cancelledWriteBytes?: number }): void {
    const t = this.byPid.get(pid);
    if (!t) return;
    const v = [d.rchar, d.wchar, d.syscr, d.syscw, d.readBytes, d.writeBytes, d.cancelledWriteBytes];
    v.forEach((x, i) => {
      if (x && x > 0) t.io[i] += Math.floor(x);
    });
  }

  /**
   * Charges CPU time a task spent "instantly" (work done synchronously at an
   * op, e.g. a shell builtin): the task's times grow and the same amount
   * moves from its CPU's idle time to user/system time (never more than the
   * CPU has been idle, so per-CPU times still add up to the uptime).
   */
  chargeCpu(pid: number, ns: number, opts: { user?: number } = {}): void {
    const t = this.byPid.get(pid);
    if (!t) throw new KernelError('ESRCH');
    const n = Math.floor(ns);
    if (!(n > 0)) return;
    this.sync();
    const u = mulDiv(n, toShare(opts.user ?? 0.5), SHARE_ONE);
    t.sum += n;
    t.ut += u;
    t.st += n - u;
    if (!isRt(t)) t.vrt += mulDiv(n, NICE_0_LOAD, weightOf(t));
    t.lastRan = this.k.now;
    const cpu = this.s.cpus[t.cpu];
    const take = Math.min(n, cpu.idle);
    const tu = mulDiv(take, toShare(opts.user ?? 0.5), SHARE_ONE);
    cpu.idle -= take;
    if (t.nice > 0) cpu.nice += tu;
    else cpu.user += tu;
    cpu.system += take - tu;
    cpu.rqTime += take;
    this.rearm();
  }

  addFaults(pid: number, minflt: number, majflt = 0): void {
    const t = this.byPid.get(pid);
    if (!t) return;
    t.minflt += Math.max(0, Math.floor(minflt));
    t.majflt += Math.max(0, Math.floor(majflt));
  }

  /** A device interrupt on a CPU. */
  raiseIrq(irq: number, cpu: number, n = 1): void {
    const line = this.s.irqs.find((l) => l.irq === irq);
    if (!line) throw new KernelError('EINVAL', `no irq ${irq}`);
    if (cpu < 0 || cpu >= this.s.cpus.length) throw new KernelError('EINVAL');
    line.counts[cpu] += n;
  }

  raiseSoftirq(vec: number, cpu: number, n = 1): void {
    if (vec < 0 || vec >= 10 || cpu < 0 || cpu >= this.s.cpus.length) throw new KernelError('EINVAL');
    this.s.cpus[cpu].softirqs[vec] += n;
  }

  /** request_irq(): a new interrupt line (e.g. a virtio NIC's queues). */
  registerIrq(line: { irq: number; chip: string; hwirq: string; trigger: string; name: string }): void {
    if (this.s.irqs.some((l) => l.irq === line.irq)) throw new KernelError('EBUSY');
    this.s.irqs.push({ ...line, counts: new Array(this.s.cpus.length).fill(0) });
    this.s.irqs.sort((a, b) => a.irq - b.irq);
  }

  /** Writes a debugfs scheduler tunable (values as written to the file). */
  setTunable(name: keyof Tunables, value: number | string | boolean): void {
    const tun = this.s.tun;
    this.sync();
    switch (name) {
      case 'scaling': {
        const v = Number(value);
        if (![0, 1, 2].includes(v)) throw new KernelError('EINVAL');
        const base = defaultTunables(1);
        const f = tunableFactor(this.s.cpus.length, v);
        tun.scaling = v;
        tun.latencyNs = base.latencyNs * f;
        tun.minGranNs = base.minGranNs * f;
        tun.wakeupGranNs = base.wakeupGranNs * f;
        break;
      }
      case 'preempt':
        if (value !== 'none' && value !== 'voluntary' && value !== 'full') throw new KernelError('EINVAL');
        tun.preempt = value;
        break;
      case 'verbose':
        tun.verbose = !!value;
        break;
      default: {
        const v = Number(value);
        if (!Number.isInteger(v)) throw new KernelError('EINVAL');
        if (name === 'rtRuntimeUs' && v !== -1 && (v < 0 || v > tun.rtPeriodUs)) throw new KernelError('EINVAL');
        if (name === 'rtPeriodUs' && (v <= 0 || (tun.rtRuntimeUs !== -1 && v < tun.rtRuntimeUs))) throw new KernelError('EINVAL');
        if (name !== 'rtRuntimeUs' && v < 0) throw new KernelError('EINVAL');
        (tun as unknown as Record<string, number>)[name] = v;
      }
    }
    this.markAllDirty();
    this.settle();
  }

  // ---------------------------------------------------------------- files

  private makeFd(path: string, flags: number): Fd {
    const fd: Fd = { path, flags, pos: 0 };
    if (path === 'socket:' || path === 'pipe:') {
      fd.ino = this.ino();
      fd.path = `${path}[${fd.ino}]`;
    }
    return fd;
  }

  private procOf(pid: number): Proc {
    const t = this.byPid.get(pid);
    if (!t || t.state === 'Z') throw new KernelError('ESRCH');
    const p = this.procs.get(t.tgid);
    if (!p) throw new KernelError('ESRCH');
    return p;
  }

  /**
   * Records an open file: the lowest free descriptor (>= minFd) pointing at
   * `path` ("socket:" / "pipe:" allocate an anonymous inode). EMFILE past
   * RLIMIT_NOFILE.
   */
  openFd(pid: number, path: string, flags: number = O.RDONLY | O.LARGEFILE, opts: { minFd?: number } = {}): number {
    const proc = this.procOf(pid);
    if (typeof path !== 'string' || !path) throw new KernelError('ENOENT');
    const limit = proc.limits[RLIMIT_NOFILE][0];
    let fd = Math.max(0, opts.minFd ?? 0);
    while (proc.fds[fd]) fd++;
    if (limit >= 0 && fd >= limit) throw new KernelError('EMFILE');
    proc.fds[fd] = this.makeFd(path, flags);
    return fd;
  }

  closeFd(pid: number, fd: number): void {
    const proc = this.procOf(pid);
    if (!proc.fds[fd]) throw new KernelError('EBADF');
    delete proc.fds[fd];
  }

  /** dup() (lowest free) or dup2(fd, target). The copy is not close-on-exec unless asked. */
  dupFd(pid: number, fd: number, target?: number, opts: { cloexec?: boolean } = {}): number {
    const proc = this.procOf(pid);
    const f = proc.fds[fd];
    if (!f) throw new KernelError('EBADF');
    const limit = proc.limits[RLIMIT_NOFILE][0];
    let nfd: number;
    if (target === undefined) {
      nfd = 0;
      while (proc.fds[nfd]) nfd++;
    } else {
      if (!Number.isInteger(target) || target < 0) throw new KernelError('EBADF');
      nfd = target;
    }
    if (limit >= 0 && nfd >= limit) throw new KernelError(target === undefined ? 'EMFILE' : 'EBADF');
    if (nfd === fd) return nfd;
    const flags = opts.cloexec ? f.flags | O.CLOEXEC : f.flags & ~O.CLOEXEC;
    proc.fds[nfd] = { ...f, flags };
    return nfd;
  }

  seekFd(pid: number, fd: number, pos: number): void {
    const proc = this.procOf(pid);
    const f = proc.fds[fd];
    if (!f) throw new KernelError('EBADF');
    if (!Number.isInteger(pos) || pos < 0) throw new KernelError('EINVAL');
    f.pos = pos;
  }

  /** Open files of a task's process, by descriptor. */
  fds(pid: number): { fd: number; path: string; flags: number; pos: number; ino?: number }[] {
    const t = this.byPid.get(pid);
    if (!t) throw new KernelError('ESRCH');
    const proc = this.procs.get(t.tgid);
    if (!proc) return [];
    return Object.entries(proc.fds)
      .map(([fd, f]) => ({ fd: Number(fd), ...f }))
      .sort((a, b) => a.fd - b.fd);
  }
}
