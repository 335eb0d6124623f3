import { KernelError } from './errors';
import type { BlobSink, BlobSource } from './blobs';
import { buildRootfs } from './fs/rootfs';
import { MemFs, type MemFsState } from './fs/memfs';
import { buildProcfs } from './fs/procfs';
import { buildSysfs } from './fs/sysfs';
import { buildTracefs } from './fs/tracefs';
import { Devices, type DevicesState } from './fs/sysfs/devices';
import { Faults, type FaultsState } from './faults/faults';
import { Vfs, type Mount } from './fs/vfs';
import type { DirNode, FileNode, FsCtx } from './fs/vnode';
import { Mm, type MmState } from './mm/mm';
import { Net, type NetState } from './net/net';
import { Modules, type ModulesState } from './modules/modules';
import { printBootLog } from './printk/boot-log';
import { createKmsgNode, registerKmsgDevice } from './printk/kmsg';
import { Printk, type PrintkState } from './printk/printk';
import { Sched, type SchedState } from './sched/sched';
import { Sysctl, type SysctlState } from './sysctl/sysctl';
import { ProbeBus } from './trace/probes';
import { Trace, type TraceState } from './trace/trace';
import { type KernelConfig, type KernelLogger, nullLogger } from './types';
import { Emitter } from './util/emitter';
import { Rng, type RngState } from './util/rng';
import { TimerQueue, type TimerQueueState, type Timer } from './util/timers';

export const STATE_VERSION = 1;

export interface KernelDeps {
  logger?: KernelLogger;
  /**
   * Wall-clock time of boot, in ms since the epoch (what `btime` in /proc/stat
   * and `dmesg -T` derive from). Injected: deterministic runs pass a constant.
   */
  bootEpochMs?: number;
}

export interface MountState {
  path: string;
  source: string;
  fstype: string;
  options: string;
  /** a MemFs id (rootfs/tmpfs/devtmpfs) or a pseudo filesystem type */
  fs: string;
}

export interface KernelState {
  version: number;
  config: KernelConfig;
  bootEpochMs: number;
  now: number;
  rng: RngState;
  timers: TimerQueueState;
  printk: PrintkState;
  mm: MmState;
  sched: SchedState;
  sysctl: SysctlState;
  /** loaded kernel modules (absent in older snapshots) */
  modules?: ModulesState;
  /** block/net/LED device state (absent in older snapshots) */
  devices?: DevicesState;
  /** tracefs state: ring buffers, tracer, events, kprobes (absent in older snapshots) */
  trace?: TraceState;
  /** kernel faults: crash records, taint-relevant fault state, hung tasks (absent in older snapshots) */
  faults?: FaultsState;
  /** IPv4 SNMP counters (absent in older snapshots) */
  net?: NetState;
  memfs: Record<string, MemFsState>;
  mounts: MountState[];
}

export interface KernelEvents {
  /** the machine crashed (panic) */
  panic: { message: string };
}

export type TimerHandler = (k: Kernel, t: Timer) => void;

/**
 * One simulated Linux 6.1 machine: a single state from which every view
 * (/proc, /sys, dmesg, ...) is rendered. Pure and deterministic: time only
 * moves through advanceTo(), randomness only comes from the seeded rng.
 */
export class Kernel {
  readonly config: KernelConfig;
  readonly logger: KernelLogger;
  readonly rng: Rng;
  readonly timers = new TimerQueue();
  readonly events = new Emitter<KernelEvents>();
  readonly printk: Printk;
  readonly vfs = new Vfs();
  readonly mm: Mm;
  readonly sched: Sched;
  readonly sysctl: Sysctl;
  readonly modules: Modules;
  /** ftrace: tracers, trace events, kprobes (tracefs) */
  readonly trace: Trace;
  /** probe points of the model (bpftrace, perf attach here); runtime only, not in getState() */
  readonly probes = new ProbeBus();
  readonly devices: Devices;
  /** oops/WARN/panic, KASAN/lockdep/hung-task reports, crash records, sysrq */
  readonly faults: Faults;
  /** IPv4 counters and loopback delivery (interface counters stay in devices) */
  readonly net: Net;
  bootEpochMs: number;
  /** Character device drivers by "major:minor": device nodes in devtmpfs dispatch reads and writes here. */
  readonly chrdevs = new Map<string, Pick<FileNode, 'read' | 'write'>>();

  /** nanoseconds since boot */
  private nowNs = 0;
  private readonly timerHandlers = new Map<string, TimerHandler>();
  private memfs = new Map<string, MemFs>();
  private pseudo = new Map<string, DirNode>();
  private mountState: MountState[] = [];

  constructor(config: KernelConfig, deps: KernelDeps = {}) {
    validateConfig(config);
    this.config = { ...config };
    this.logger = deps.logger ?? nullLogger;
    this.bootEpochMs = deps.bootEpochMs ?? 0;
    this.rng = new Rng(config.seed);
    this.printk = new Printk(() => this.nowNs);
    registerKmsgDevice(this);
    this.mm = new Mm(this);
    this.sched = new Sched(this);
    this.sysctl = new Sysctl(this);
    this.modules = new Modules(this);
    this.devices = new Devices(this);
    this.faults = new Faults(this);
    this.net = new Net(this);
    this.pseudo.set('proc', buildProcfs(this));
    this.pseudo.set('sysfs', buildSysfs(this));
    this.trace = new Trace(this);
    const tracefs = buildTracefs(this);
    this.registerPseudoFs('tracefs', tracefs);
    this.sched.debugfs.tracing = tracefs;
    this.initFilesystems();
    this.mount({ path: '/sys/kernel/tracing', source: 'nodev', fstype: 'tracefs', options: 'rw,relatime', fs: 'tracefs' });
  }

  /** Boots a fresh machine: filesystems, boot log, system tasks. */
  static boot(config: KernelConfig, deps: KernelDeps = {}): Kernel {
    const k = new Kernel(config, deps);
    createKmsgNode(k);
    // the kernel's own boot, up to the start of /init: the machine is handed over then
    const boot = printBootLog(k);
    k.advanceTo(boot.endNs);
    return k;
  }

  /** Virtual time: nanoseconds since boot. */
  get now(): number {
    return this.nowNs;
  }

  /** A kernel-context file-operation context (pid 0, root). */
  rootCtx(pid = 1): FsCtx {
    return { k: this, pid, uid: 0, gid: 0 };
  }

  /** The driver of a device node, if one is registered (character devices only). */
  chrdev(dev: { kind: 'c' | 'b'; major: number; minor: number }): Pick<FileNode, 'read' | 'write'> | undefined {
    return dev.kind === 'c' ? this.chrdevs.get(`${dev.major}:${dev.minor}`) : undefined;
  }

  onTimer(kind: string, handler: TimerHandler): void {
    this.timerHandlers.set(kind, handler);
  }

  /**
   * Moves virtual time forward to `targetNs`, firing every timer due on the
   * way, in order, and accounting CPU time between them.
   */
  advanceTo(targetNs: number): void {
    if (!(targetNs >= this.nowNs)) return;
    for (;;) {
      const t = this.timers.peek();
      if (!t || t.at > targetNs) break;
      this.timers.pop();
      this.stepTo(Math.max(this.nowNs, t.at));
      const h = this.timerHandlers.get(t.kind);
      if (h) h(this, t);
      else this.logger.warn('timer without handler', { kind: t.kind });
    }
    this.stepTo(targetNs);
  }

  advance(deltaNs: number): void {
    this.advanceTo(this.nowNs + deltaNs);
  }

  private stepTo(ns: number): void {
    if (ns <= this.nowNs) return;
    this.sched.account(this.nowNs, ns);
    this.nowNs = ns;
  }

  // ---------------------------------------------------------------- filesystems

  private initFilesystems(): void {
    const root = this.newMemFs('rootfs', 'rootfs');
    buildRootfs(root, this.config.hostname);
    this.newMemFs('devtmpfs', 'devtmpfs');
    this.newMemFs('tmp', 'tmpfs');
    this.newMemFs('run', 'tmpfs');
    this.newMemFs('shm', 'tmpfs');
    const sizeK = Math.floor((this.config.memoryMb * 1024) / 2);
    const inodes = Math.floor(sizeK / 4);
    this.mountState = [
      { path: '/', source: 'rootfs', fstype: 'rootfs', options: `rw,size=${sizeK}k,nr_inodes=${inodes},inode64`, fs: 'rootfs' },
      { path: '/proc', source: 'proc', fstype: 'proc', options: 'rw,relatime', fs: 'proc' },
      { path: '/sys', source: 'sysfs', fstype: 'sysfs', options: 'rw,relatime', fs: 'sysfs' },
      { path: '/dev', source: 'devtmpfs', fstype: 'devtmpfs', options: `rw,relatime,size=${sizeK}k,nr_inodes=${inodes},mode=755,inode64`, fs: 'devtmpfs' },
      { path: '/dev/shm', source: 'tmpfs', fstype: 'tmpfs', options: 'rw,relatime,inode64', fs: 'shm' },
      { path: '/tmp', source: 'tmpfs', fstype: 'tmpfs', options: 'rw,relatime,inode64', fs: 'tmp' },
      { path: '/sys/fs/cgroup', source: 'cgroup2', fstype: 'cgroup2', options: 'rw,relatime', fs: 'cgroup2' },
      { path: '/run', source: 'tmpfs', fstype: 'tmpfs', options: 'rw,nosuid,nodev,relatime,size=' + Math.floor(sizeK / 5) + 'k,mode=755,inode64', fs: 'run' },
      { path: '/sys/kernel/debug', source: 'debugfs', fstype: 'debugfs', options: 'rw,nosuid,nodev,noexec,relatime', fs: 'debugfs' },
    ];
    for (const d of ['proc', 'sys', 'dev', 'tmp', 'run']) root.mkdirp(d);
    this.memfs.get('devtmpfs')!.mkdirp('shm');
    this.applyMounts();
  }

  private newMemFs(id: string, fstype: string): MemFs {
    const fs = new MemFs(fstype, () => this.nowNs, {
      firstIno: this.memfs.size * 1_000_000 + 1,
      rootMode: fstype === 'tmpfs' && id === 'tmp' ? 0o1777 : 0o755,
    });
    this.memfs.set(id, fs);
    return fs;
  }

  memFs(id: string): MemFs | undefined {
    return this.memfs.get(id);
  }

  /** Registers a pseudo filesystem (debugfs, tracefs, ...) mountable by type. */
  registerPseudoFs(fstype: string, root: DirNode): void {
    this.pseudo.set(fstype, root);
  }

  mount(m: MountState): void {
    if (!this.memfs.has(m.fs) && !this.pseudo.has(m.fs)) throw new KernelError('ENODEV');
    const prev = this.mountState.find((x) => x.path === m.path);
    const remount = prev !== undefined && prev.fstype === m.fstype && prev.source === m.source;
    if (prev && !remount) this.modules.umountFs(m.path);
    this.mountState = this.mountState.filter((x) => x.path !== m.path);
    this.mountState.push({ ...m });
    this.applyMounts();
    // the filesystem's module (and what the mount uses) is pinned while mounted
    if (!remount) this.modules.mountFs(m.path, m.fstype, m.source);
  }

  umount(path: string): void {
    this.vfs.umount(path);
    this.mountState = this.mountState.filter((x) => x.path !== path);
    this.modules.umountFs(path);
  }

  private applyMounts(): void {
    this.vfs.reset();
    let dev = 1;
    for (const m of this.mountState) {
      const root: DirNode | undefined = this.memfs.get(m.fs)?.root() ?? this.pseudo.get(m.fs);
      if (!root) throw new KernelError('ENODEV', `no filesystem ${m.fs}`);
      const mount: Mount = { path: m.path, source: m.source, fstype: m.fstype, options: m.options, root, dev: dev++ };
      this.vfs.mount(mount);
    }
  }

  // ---------------------------------------------------------------- snapshots

  /** The machine's state as JSON; with `blobs`, its large immutable parts are handed to the sink (see blobs.ts). */
  getState(blobs?: BlobSink): KernelState {
    const memfs: Record<string, MemFsState> = {};
    for (const [id, fs] of this.memfs) memfs[id] = fs.getState();
    return {
      version: STATE_VERSION,
      config: { ...this.config },
      bootEpochMs: this.bootEpochMs,
      now: this.nowNs,
      rng: this.rng.getState(),
      timers: this.timers.getState(),
      printk: this.printk.getState(),
      mm: this.mm.getState(),
      sched: this.sched.getState(),
      sysctl: this.sysctl.getState(),
      modules: this.modules.getState(),
      trace: this.trace.getState(blobs),
      devices: this.devices.getState(),
      faults: this.faults.getState(),
      net: this.net.getState(),
      memfs,
      mounts: this.mountState.map((m) => ({ ...m })),
    };
  }

  setState(s: KernelState, blobs?: BlobSource): void {
    if (s.version !== STATE_VERSION) throw new KernelError('EINVAL', `unsupported snapshot version ${s.version}`);
    this.nowNs = s.now;
    this.bootEpochMs = s.bootEpochMs;
    this.rng.setState(s.rng);
    this.timers.setState(s.timers);
    this.printk.setState(s.printk);
    this.mm.setState(s.mm);
    this.sched.setState(s.sched);
    this.sysctl.setState(s.sysctl);
    this.modules.setState(s.modules);
    this.trace.setState(s.trace, blobs);
    this.devices.setState(s.devices);
    this.faults.setState(s.faults);
    this.net.setState(s.net);
    for (const [id, st] of Object.entries(s.memfs)) {
      let fs = this.memfs.get(id);
      if (!fs) {
        fs = new MemFs(st.rootIno === 1 ? 'rootfs' : 'tmpfs', () => this.nowNs);
        this.memfs.set(id, fs);
      }
      fs.setState(st);
    }
    this.mountState = s.mounts.map((m) => ({ ...m }));
    this.applyMounts();
  }

  /** Rebuilds a machine from a snapshot. */
  static fromState(s: KernelState, deps: KernelDeps = {}, blobs?: BlobSource): Kernel {
    const k = new Kernel(s.config, deps);
    k.setState(s, blobs);
    return k;
  }
}

export function validateConfig(c: KernelConfig): void {
  if (!Number.isInteger(c.cpus) || c.cpus < 1 || c.cpus > 64) throw new KernelError('EINVAL', 'cpus must be an integer from 1 to 64');
  if (!Number.isInteger(c.memoryMb) || c.memoryMb < 64 || c.memoryMb > 65536) {
    throw new KernelError('EINVAL', 'memoryMb must be an integer from 64 to 65536');
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/.test(c.hostname)) throw new KernelError('EINVAL', 'invalid hostname');
}
