import { KernelError } from './errors';
import { Kernel, type KernelState } from './kernel';
import type {
  CheckpointBlobs,
  MachineCheckpoint,
  MachineQuery,
  JournalEntry,
  Machine,
  MachineInfo,
  MachineOp,
  MachineSpec,
  MachineState,
  OpResult,
  StreamEvent,
  SubscribeOptions,
  Subscription,
} from './machine';
import { unknownStream } from './machine';
import type { BlobSink } from './blobs';
import type { DirEntry } from './fs/vfs';
import { queryMachine, runModprobe, runRmmod } from './machine-views';
import { toDmesgJsonRecord } from './printk/dmesg';
import type { LogRecord } from './printk/printk';
import { KERNEL_RELEASE, type KernelConfig, type KernelLogger } from './types';
import { type BpftraceRunHandle, startRun } from './bpftrace/service';
import type { CrashRecord } from './faults/faults';
import { encodeDat } from './userspace/tools/tracecmd';
import { topCollector } from './userspace/tools/perf';
import { type ExecOutcome, type ExecRun, type TerminalOutput, type TerminalState, Userspace } from './userspace/runtime';

export interface SimDeps {
  /** wall clock in ms (injected; tests pass a fake) */
  wallMs: () => number;
  logger?: KernelLogger;
  /**
   * Runs `fn` after `ms` of wall time; returns a cancel function. Realtime
   * machines use it to go on with sleeping or long-running commands (exec,
   * terminals). Without it they only move when called.
   */
  schedule?: (ms: number, fn: () => void) => () => void;
}

/** evaluation steps a live command runs before the machine yields to other work */
const STEPS_PER_SLICE = 5_000;
/**
 * wall-clock milliseconds a live command runs before it yields, whatever its
 * steps cost (under a tracer a step emits thousands of records): other
 * sessions' requests wait at most about this long for it
 */
const SLICE_MS = 4;

/** Fixed boot epoch of manual-clock machines, so their renders are reproducible. */
export const MANUAL_BOOT_EPOCH_MS = Date.UTC(2026, 0, 1, 0, 0, 0);

interface SimEnvelope {
  spec: MachineSpec;
  state: MachineState;
  /** wall/virtual anchor of a realtime clock */
  anchorWallMs: number;
  anchorVirtNs: number;
  kernel: KernelState;
  /** open terminals (absent in older snapshots) */
  terminals?: TerminalState[];
  /** the next blob key number (checkpoints) */
  blobSeq?: number;
}

/**
 * The sim driver: a Machine on the pure kernel model. In realtime mode the
 * virtual clock follows the injected wall clock from an anchor; in manual mode
 * it moves only by explicit `advance` ops.
 */
export class SimMachine implements Machine {
  readonly driver = 'sim' as const;
  private k: Kernel;
  private state: MachineState = 'running';
  private anchorWallMs: number;
  private anchorVirtNs = 0;
  private destroyed = false;
  private us: Userspace;
  /** bpftrace runs of this boot, with their numbered output */
  private btRuns = new Map<string, BtRun>();
  /** pending wake-up of the terminals' foreground commands */
  private termTimer?: { at: number; cancel: () => void };
  /** keys of the immutable state parts (blobs) checkpoints handed out, by object */
  private blobIds = new WeakMap<object, string>();
  /** blob keys are `b<n>`, never reused by this machine (the counter travels in checkpoints) */
  private nextBlob = 0;

  private constructor(
    private readonly spec: MachineSpec,
    private readonly deps: SimDeps,
    k: Kernel,
  ) {
    this.k = k;
    this.anchorWallMs = deps.wallMs();
    this.us = new Userspace(k);
  }

  private get manual(): boolean {
    return this.spec.clock === 'manual';
  }

  /**
   * Boots a machine. `atWallMs` re-creates a machine booted at that wall time
   * (the sim is deterministic: spec + boot time + journal reproduce it).
   */
  static boot(spec: MachineSpec, deps: SimDeps, atWallMs?: number): SimMachine {
    const wall = atWallMs ?? deps.wallMs();
    const bootEpochMs = spec.clock === 'manual' ? MANUAL_BOOT_EPOCH_MS : wall;
    const k = Kernel.boot(kernelConfigOf(spec), { logger: deps.logger, bootEpochMs });
    const m = new SimMachine(spec, deps, k);
    m.anchorWallMs = wall;
    if (spec.clock === 'realtime') {
      // the machine finished booting just now: it was powered on (boot log time) ago,
      // and its clock runs on from the end of the boot log with the wall clock
      k.bootEpochMs = bootEpochMs - Math.round(k.now / 1e6);
      m.anchorVirtNs = k.now;
    }
    return m;
  }

  /** A machine from snapshot() bytes, or from a checkpoint's head and its blobs. */
  static fromSnapshot(bytes: Uint8Array, deps: SimDeps, blobs?: CheckpointBlobs): SimMachine {
    const env = decodeSnapshot(bytes);
    const ids = new WeakMap<object, string>();
    const source = (key: string): unknown => {
      const b = blobs?.(key);
      if (!b) return undefined;
      const v = JSON.parse(new TextDecoder().decode(b)) as object;
      ids.set(v, key);
      return v;
    };
    const k = Kernel.fromState(env.kernel, { logger: deps.logger }, source);
    const m = new SimMachine(env.spec, deps, k);
    m.blobIds = ids;
    m.nextBlob = env.blobSeq ?? 0;
    m.state = env.state;
    m.anchorWallMs = env.anchorWallMs;
    m.anchorVirtNs = env.anchorVirtNs;
    m.us.setState(env.terminals, m.manual);
    return m;
  }

  /** The kernel model (for in-process callers such as benchmarks and tests). */
  get kernel(): Kernel {
    return this.k;
  }

  private alive(): void {
    if (this.destroyed) throw new KernelError('ENXIO', 'machine destroyed');
  }

  async sync(): Promise<void> {
    this.alive();
    this.syncNow();
  }

  private syncNow(): void {
    if (this.spec.clock !== 'realtime' || this.state !== 'running') return;
    for (let boots = 0; boots < 16; boots++) {
      const elapsedMs = Math.max(0, this.deps.wallMs() - this.anchorWallMs);
      const target = this.anchorVirtNs + Math.round(elapsedMs * 1e6);
      const at = this.pendingReboot();
      if (at === undefined || at > target) {
        this.k.advanceTo(target);
        if (this.pendingReboot() === undefined || (this.pendingReboot() as number) > this.k.now) return;
        continue;
      }
      this.k.advanceTo(at);
      this.reboot(at);
    }
  }

  /** virtual time a requested reboot (kernel.panic=N, sysrq b) happens at */
  private pendingReboot(): number | undefined {
    const f = this.k.faults;
    if (f.rebootAtNs === undefined || f.rebootReason === 'poweroff') return undefined;
    return f.rebootAtNs;
  }

  /** Moves a manual clock by `ns`, rebooting on the way when the kernel asked for it. */
  private advanceManual(ns: number): void {
    let left = ns;
    for (let boots = 0; boots < 16; boots++) {
      const at = this.pendingReboot();
      if (at !== undefined && at <= this.k.now + left) {
        left -= Math.max(0, at - this.k.now);
        this.k.advanceTo(at);
        this.reboot(at);
        continue;
      }
      this.k.advance(left);
      if (this.pendingReboot() === undefined) return;
      left = 0;
    }
  }

  /**
   * Boots the machine again: a fresh kernel (new boot log, no modules, sysctls
   * at their defaults, uptime from 0), the crash records carried over, the
   * terminals hung up. The wall time of the reboot follows from the clock, so
   * a replay reboots at the same moment.
   */
  private reboot(atNs = this.k.now): void {
    const carry = this.k.faults.takeCrashRecords();
    const wall = this.manual ? this.k.bootEpochMs + Math.round(atNs / 1e6) : this.anchorWallMs + Math.round((atNs - this.anchorVirtNs) / 1e6);
    for (const t of this.us.terminals.values()) t.hangup();
    this.termTimer?.cancel();
    this.termTimer = undefined;
    this.stopBpftraceRuns();
    this.k.events.clear();
    const k = Kernel.boot(kernelConfigOf(this.spec), { logger: this.deps.logger, bootEpochMs: wall });
    k.faults.restoreCrashRecords(carry);
    if (!this.manual) k.bootEpochMs = wall - Math.round(k.now / 1e6);
    this.k = k;
    this.us = new Userspace(k);
    this.anchorWallMs = wall;
    this.anchorVirtNs = k.now;
    this.emitReboot();
  }

  async info(): Promise<MachineInfo> {
    this.alive();
    this.syncNow();
    return {
      driver: 'sim',
      kernelRelease: KERNEL_RELEASE,
      cpus: this.spec.cpus,
      memoryMb: this.spec.memoryMb,
      clock: this.spec.clock,
      uptimeNs: this.k.now,
      bootEpochMs: this.k.bootEpochMs,
      state: this.k.faults.crashed ? 'crashed' : this.k.faults.rebootReason === 'poweroff' ? 'stopped' : this.state,
      stateReason: this.k.faults.crashed ? this.k.faults.panicMessage : undefined,
      boot: this.k.faults.boot,
    };
  }

  async read(path: string): Promise<string> {
    this.alive();
    this.syncNow();
    return this.k.vfs.readFile(this.k.rootCtx(), path);
  }

  async list(path: string): Promise<DirEntry[]> {
    this.alive();
    this.syncNow();
    return this.k.vfs.readdir(this.k.rootCtx(), path);
  }

  async kmsg(fromSeq = 0): Promise<LogRecord[]> {
    this.alive();
    this.syncNow();
    return this.k.printk.visible().filter((r) => r.seq >= fromSeq);
  }

  async readlink(path: string): Promise<string> {
    this.alive();
    this.syncNow();
    const ctx = this.k.rootCtx();
    const r = this.k.vfs.resolve(ctx, path, { follow: false });
    if (r.node.type !== 'link') throw new KernelError('EINVAL');
    return r.node.target(ctx);
  }

  async apply(op: MachineOp): Promise<OpResult> {
    this.alive();
    this.syncNow();
    const at = this.k.now;
    this.assertUp(op);
    if (op.type === 'exec') {
      const run = this.us.exec(op, this.manual);
      const value = await this.runLive(run);
      if (this.topSubs.size) this.tickPerfTop();
      return { vtimeNs: at, value };
    }
    const value = this.applyNow(op);
    this.scheduleTerminals();
    if (this.topSubs.size) this.tickPerfTop();
    return { vtimeNs: at, value };
  }

  /**
   * A command pumped in time slices, so other sessions' work runs between
   * them. On a realtime clock it sleeps in wall time; on a manual clock a
   * sleep moves the clock at once (like runToEnd(), with the same result).
   */
  private async runLive(run: ExecRun): Promise<ExecOutcome> {
    const wait = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        if (this.deps.schedule) this.deps.schedule(ms, resolve);
        else resolve();
      });
    for (;;) {
      this.syncNow();
      const sliceStart = this.deps.wallMs();
      const st = run.pump(STEPS_PER_SLICE, () => this.deps.wallMs() - sliceStart >= SLICE_MS);
      if (st.t === 'done') return run.outcome();
      if (this.destroyed) throw new KernelError('ENXIO', 'machine destroyed');
      if (st.t === 'running') await wait(0);
      else if (this.manual || !this.deps.schedule) this.k.advanceTo(st.untilNs);
      else await wait(Math.max(1, Math.ceil((st.untilNs - this.k.now) / 1e6)));
    }
  }

  private applyNow(op: MachineOp): unknown {
    switch (op.type) {
      case 'exec':
        // replay: a command runs to its end on a clock that moves itself
        return this.us.exec(op, true).runToEnd();
      case 'tty-open': {
        checkWinsize(op.cols, op.rows);
        const t = this.us.openTerminal(op.id, op.cols, op.rows, this.manual);
        return { id: t.id, seq: t.seq };
      }
      case 'tty-input':
        if (typeof op.data !== 'string') throw new KernelError('EINVAL', 'data must be a string');
        this.us.terminal(op.id).input(op.data);
        return undefined;
      case 'tty-resize':
        checkWinsize(op.cols, op.rows);
        this.us.terminal(op.id).resize(op.cols, op.rows);
        return undefined;
      case 'tty-close':
        this.us.closeTerminal(op.id);
        return undefined;
      case 'modprobe':
        return runModprobe(this.k, op.name, op.params);
      case 'rmmod':
        return runRmmod(this.k, op.name, !!op.force);
      case 'lab-sync':
        this.syncLabs(op.manifests);
        return undefined;
      case 'write':
        this.k.vfs.writeFile(this.k.rootCtx(), op.path, op.data, { append: op.append });
        return undefined;
      case 'advance':
        if (this.spec.clock !== 'manual') throw new KernelError('EINVAL', 'advance is only allowed on manual-clock machines');
        if (!Number.isInteger(op.ns) || op.ns < 0) throw new KernelError('EINVAL', 'ns must be a non-negative integer');
        this.advanceManual(op.ns);
        return undefined;
      case 'sysrq':
        if (typeof op.key !== 'string' || op.key.length !== 1) throw new KernelError('EINVAL', 'key must be one character');
        {
          const pk = this.k.printk;
          const from = pk.nextSeq;
          this.k.faults.sysrq(op.key, { checkMask: true });
          const log = pk.since(from).map((r) => r.text).join('\n');
          this.rebootIfDue();
          return { log: log ? log + '\n' : '' };
        }
      case 'reboot':
        this.reboot();
        return undefined;
      case 'bpftrace':
        return this.runBpftraceFor(op);
      case 'bpftrace-start':
        return { runId: this.startBpftrace(op).runId };
      case 'bpftrace-stop':
        return this.bpftraceRun(op.runId).stop();
      case 'trace-record':
        return this.traceRecord(op);
      case 'dmesg-clear':
        this.k.printk.clear();
        return undefined;
      default:
        throw new KernelError('EINVAL', `unknown op ${(op as { type: string }).type}`);
    }
  }

  async query(q: MachineQuery): Promise<unknown> {
    this.alive();
    this.syncNow();
    switch (q.type) {
      case 'crashes':
        return this.k.faults.crashes().map(crashSummary);
      case 'crash': {
        const c = this.k.faults.crashes().find((x) => x.id === q.id);
        if (!c) throw new KernelError('ENOENT', `no crash record ${q.id}`);
        return c;
      }
      case 'recordings':
        return this.k.trace.recordings();
      case 'recording': {
        const r = this.k.trace.recording(q.id);
        if (!r) throw new KernelError('ENOENT', `no recording ${q.id}`);
        return { ...r, dat: encodeDat(r) };
      }
      case 'bpftrace-runs':
        return [...this.btRuns.values()].map((r) => r.handle.status());
      case 'bpftrace-run': {
        const r = this.bpftraceRun(q.runId);
        const st = r.status();
        return { status: st, maps: r.maps(), result: st.state === 'exited' ? r.result() : undefined };
      }
      default:
        return queryMachine(this.k, q);
    }
  }

  /** A crashed (panicked) or powered-off machine only takes a reboot, time and housekeeping. */
  private assertUp(op: MachineOp): void {
    const f = this.k.faults;
    if (!f.crashed && f.rebootReason !== 'poweroff') return;
    if (op.type === 'reboot' || op.type === 'advance' || op.type === 'lab-sync' || op.type === 'tty-close' || op.type === 'bpftrace-stop' || op.type === 'dmesg-clear') return;
    const why = f.crashed ? `the machine has crashed (${f.panicMessage ?? 'kernel panic'})` : 'the machine is powered off';
    throw new KernelError('EHOSTDOWN', `${why}: reboot it (POST /v1/sessions/{id}/reboot)`);
  }

  private rebootIfDue(): void {
    const at = this.pendingReboot();
    if (at !== undefined && at <= this.k.now) this.reboot(at);
  }

  // ------------------------------------------------------------------ tracing

  /** trace-cmd record over a command (run to its end) or a stretch of time. */
  private traceRecord(op: Extract<MachineOp, { type: 'trace-record' }>): { recordingId: number; report: string } {
    const tracer = op.tracer ?? 'nop';
    if (!['nop', 'function', 'function_graph'].includes(tracer)) throw new KernelError('EINVAL', `tracer ${tracer} is not one of nop, function, function_graph`);
    if ((op.command === undefined) === (op.durationMs === undefined)) throw new KernelError('EINVAL', 'give either command or durationMs');
    if (op.durationMs !== undefined && (!Number.isInteger(op.durationMs) || op.durationMs < 1)) throw new KernelError('EINVAL', 'durationMs must be a positive integer');
    const events = op.events ?? [];
    if (op.filter !== undefined) {
      // the same filter on every requested event, as trace-cmd record -f does (the kernel's filter grammar)
      for (const ev of events) {
        const [sys, name] = ev.includes(':') ? ev.split(':') : [undefined, ev];
        const def = this.k.trace.allEvents().find((e) => e.name === name && (sys === undefined || e.system === sys));
        if (!def) throw new KernelError('EINVAL', `no event ${ev}`);
        this.k.trace.writeFilter(def.system, def.name, op.filter);
      }
    }
    const command = op.command ?? `sleep ${op.durationMs! / 1000}`;
    const rec = this.k.trace.recordAround(
      { tracer, functions: op.functions, graphFunctions: op.graphFunctions, events, pids: op.pid !== undefined ? [op.pid] : undefined },
      { kind: 'trace-cmd', command },
      () => {
        if (op.command !== undefined) this.us.exec({ command: op.command }, true).runToEnd();
        else if (this.manual) this.advanceManual(op.durationMs! * 1e6);
        else this.k.advance(op.durationMs! * 1e6);
      },
    );
    return { recordingId: rec.id, report: this.k.trace.recording(rec.id)?.report ?? '' };
  }

  // ------------------------------------------------------------------ bpftrace

  private bpftraceRun(runId: string): BpftraceRunHandle {
    const r = typeof runId === 'string' ? this.btRuns.get(runId) : undefined;
    if (!r) throw new KernelError('ENOENT', `no bpftrace run ${String(runId)}`);
    return r.handle;
  }

  private startBpftrace(op: { program: string; format?: 'text' | 'json'; args?: string[]; maxDurationMs?: number }): BpftraceRunHandle {
    if (typeof op.program !== 'string') throw new KernelError('EINVAL', 'program must be a string');
    this.k.faults.assertAlive();
    const running = [...this.btRuns.values()].filter((r) => r.handle.status().state === 'running').length;
    if (running >= MAX_BPFTRACE_RUNS) throw new KernelError('EAGAIN', `a machine runs at most ${MAX_BPFTRACE_RUNS} bpftrace programs at once`);
    const handle = startRun(this.k, {
      program: op.program,
      unsafe: !!this.k.config.debug?.allowUnsafe,
      // system() runs the command in the machine, as bpftrace runs it through the shell
      system: (command) => this.us.exec({ command, timeoutMs: 10_000 }, true).runToEnd().stdout,
      format: op.format,
      args: op.args,
      maxVirtualNs: op.maxDurationMs !== undefined ? op.maxDurationMs * 1e6 : undefined,
    });
    const rec: BtRun = { handle, out: [], nextSeq: 1, listeners: new Set() };
    handle.onOutput((c) => this.pushBt(rec, { stream: c.stream, text: c.text }));
    handle.onExit((r) => this.pushBt(rec, { exit: r.exitCode }));
    for (const [id, old] of this.btRuns) if (this.btRuns.size >= MAX_BPFTRACE_RUNS * 4 && old.handle.status().state === 'exited') this.btRuns.delete(id);
    this.btRuns.set(handle.runId, rec);
    return handle;
  }

  private pushBt(rec: BtRun, data: BtEventData): void {
    const e = { seq: rec.nextSeq++, data };
    rec.out.push(e);
    if (rec.out.length > BPFTRACE_BACKLOG) rec.out.shift();
    for (const fn of [...rec.listeners]) fn(e);
  }

  private runBpftraceFor(op: { program: string; durationMs: number; format?: 'text' | 'json'; args?: string[] }): unknown {
    if (!Number.isInteger(op.durationMs) || op.durationMs < 1) throw new KernelError('EINVAL', 'durationMs must be a positive integer');
    const h = this.startBpftrace(op);
    if (h.status().state === 'running') this.advanceManual(op.durationMs * 1e6);
    return h.stop();
  }

  private stopBpftraceRuns(): void {
    for (const r of this.btRuns.values()) if (r.handle.status().state === 'running') r.handle.stop();
    this.btRuns.clear();
  }

  private subscribeBpftrace(stream: string, opts: SubscribeOptions, onEvent: (e: StreamEvent) => void): Subscription {
    const rec = this.btRuns.get(stream.slice('bpftrace:'.length));
    if (!rec) throw new KernelError('ENOENT', `no bpftrace run ${stream.slice('bpftrace:'.length)}`);
    const first = rec.out.length ? rec.out[0].seq : rec.nextSeq;
    const from = opts.fromSeq ?? first;
    const backlog = rec.out.filter((e) => e.seq >= from);
    for (const e of backlog) onEvent({ stream, seq: e.seq, data: e.data });
    const fn = (e: { seq: number; data: BtEventData }): void => onEvent({ stream, seq: e.seq, data: e.data });
    rec.listeners.add(fn);
    return { startSeq: backlog.length ? backlog[0].seq : rec.nextSeq, missed: Math.max(0, first - from), close: () => rec.listeners.delete(fn) };
  }

  // ------------------------------------------------------------------ perf top

  private readonly topSubs = new Set<PerfTopSub>();
  private topTimer?: () => void;

  /** `perf top -a` as a stream: one snapshot per second of machine time (not stored: no resume). */
  private subscribePerfTop(onEvent: (e: StreamEvent) => void): Subscription {
    const sub: PerfTopSub = { col: topCollector(this.k), nextAt: this.k.now + PERF_TOP_INTERVAL_NS, seq: 1, onEvent };
    const offReboot = this.onReboot(() => {
      sub.col.close();
      sub.col = topCollector(this.k);
      sub.nextAt = this.k.now + PERF_TOP_INTERVAL_NS;
    });
    this.topSubs.add(sub);
    this.armTopTimer();
    return {
      startSeq: 1,
      missed: 0,
      close: () => {
        offReboot();
        sub.col.close();
        this.topSubs.delete(sub);
      },
    };
  }

  /** Emits the perf top snapshots whose second has passed. */
  private tickPerfTop(): void {
    for (const sub of this.topSubs) {
      if (this.k.now < sub.nextAt) continue;
      const snap = sub.col.take();
      sub.onEvent({ stream: 'perf-top', seq: sub.seq++, data: snap });
      sub.nextAt = this.k.now + PERF_TOP_INTERVAL_NS;
    }
  }

  /** A realtime machine's clock moves by itself: look once a second. */
  private armTopTimer(): void {
    if (this.topTimer || this.manual || !this.deps.schedule) return;
    this.topTimer = this.deps.schedule(PERF_TOP_INTERVAL_NS / 1e6, () => {
      this.topTimer = undefined;
      if (this.destroyed || this.topSubs.size === 0) return;
      try {
        this.syncNow();
        this.tickPerfTop();
      } catch (e) {
        this.deps.logger?.warn('perf top tick failed', { err: String(e) });
      }
      this.armTopTimer();
    });
  }

  // ------------------------------------------------------------------ reboot listeners

  private readonly rebootListeners = new Set<() => void>();

  /** Called after the machine booted again (streams re-attach to the new kernel). */
  onReboot(fn: () => void): () => void {
    this.rebootListeners.add(fn);
    return () => this.rebootListeners.delete(fn);
  }

  private emitReboot(): void {
    for (const fn of [...this.rebootListeners]) fn();
  }

  /**
   * The tenant's lab modules: registers new or changed manifests (dependencies
   * first), keeps loaded ones as loaded, forgets deleted ones that are not
   * loaded. A manifest that cannot be registered here is left out.
   */
  private syncLabs(manifests: unknown[]): void {
    if (!Array.isArray(manifests)) throw new KernelError('EINVAL', 'manifests must be an array');
    const mods = this.k.modules;
    const wanted = new Map<string, unknown>();
    for (const m of manifests) {
      const name = (m as { name?: unknown } | null)?.name;
      if (typeof name === 'string') wanted.set(name, m);
    }
    let pending = [...wanted.entries()].filter(([name, m]) => !mods.isLoaded(name) && JSON.stringify(mods.labManifest(name)) !== JSON.stringify(m));
    for (let pass = 0; pending.length > 0 && pass < 64; pass++) {
      const next: typeof pending = [];
      for (const [name, m] of pending) {
        try {
          mods.registerLab(m);
        } catch (e) {
          if (e instanceof KernelError && e.code === 'ENOENT') next.push([name, m]);
        }
      }
      if (next.length === pending.length) break;
      pending = next;
    }
    for (const m of [...mods.labs()]) {
      if (wanted.has(m.name) || mods.isLoaded(m.name)) continue;
      try {
        mods.unregisterLab(m.name);
      } catch {
        // another registered lab still depends on it
      }
    }
  }

  async replay(entries: JournalEntry[]): Promise<void> {
    this.alive();
    for (const e of entries) {
      // a reboot the kernel asked for (kernel.panic=N) happened live before this op if the op is
      // at or past the reboot time, or in the new boot's time frame (time went back)
      const due = this.pendingReboot();
      if (due !== undefined && (e.vtimeNs >= due || e.vtimeNs < this.k.now)) {
        this.k.advanceTo(due);
        this.reboot(due);
      }
      this.advanceTerminalsTo(e.vtimeNs);
      try {
        this.applyNow(e.op);
      } catch (err) {
        // an op that failed originally fails the same way again; the journal only
        // holds ops that succeeded, so a failure here means a divergence worth a log line
        this.deps.logger?.warn('journal replay op failed', { op: e.op.type, err: String(err) });
      }
    }
    // a realtime clock keeps its anchor: the machine "kept running" while the
    // server was down, and the next sync moves it to the present
  }

  async subscribe(stream: string, opts: SubscribeOptions, onEvent: (e: StreamEvent) => void): Promise<Subscription> {
    this.alive();
    this.syncNow();
    if (stream.startsWith('terminal:')) return this.subscribeTerminal(stream, opts, onEvent);
    if (stream.startsWith('bpftrace:')) return this.subscribeBpftrace(stream, opts, onEvent);
    if (stream === 'perf-top') return this.subscribePerfTop(onEvent);
    if (stream !== 'dmesg' && stream !== 'trace_pipe' && stream !== 'events') throw unknownStream(stream);
    // kernel streams follow the machine over reboots: the new boot's records from its first (seqs restart, like /dev/kmsg)
    let inner = this.subscribeKernel(stream, opts.fromSeq, onEvent);
    const off = this.onReboot(() => {
      inner.close();
      inner = this.subscribeKernel(stream, 0, onEvent);
    });
    return {
      startSeq: inner.startSeq,
      missed: inner.missed,
      close: () => {
        off();
        inner.close();
      },
    };
  }

  private subscribeKernel(stream: 'dmesg' | 'trace_pipe' | 'events', fromSeq: number | undefined, onEvent: (e: StreamEvent) => void): Subscription {
    if (stream === 'events') {
      // the same records as typed JSON (what frontends plot)
      const sub = this.k.trace.subscribeEvents(fromSeq, (ev) => onEvent({ stream, seq: ev.seq, data: ev }));
      return { startSeq: sub.startSeq, missed: sub.missed, close: () => sub.close() };
    }
    if (stream === 'trace_pipe') {
      // what a reader of trace_pipe sees, numbered so a consumer can resume (non-consuming)
      const sub = this.k.trace.subscribe(fromSeq, (line) => onEvent({ stream, seq: line.seq, data: { text: line.text } }));
      return { startSeq: sub.startSeq, missed: sub.missed, close: () => sub.close() };
    }
    const pk = this.k.printk;
    const from = fromSeq ?? pk.nextSeq;
    const missed = Math.max(0, pk.firstSeq - from);
    const backlog = pk.since(Math.max(from, pk.firstSeq));
    const startSeq = backlog.length ? backlog[0].seq : pk.nextSeq;
    for (const r of backlog) onEvent({ stream, seq: r.seq, data: toDmesgJsonRecord(r) });
    const off = pk.events.on('record', (r) => onEvent({ stream, seq: r.seq, data: toDmesgJsonRecord(r) }));
    return { startSeq, missed, close: off };
  }

  async snapshot(): Promise<Uint8Array> {
    this.alive();
    this.syncNow();
    const env: SimEnvelope = {
      spec: this.spec,
      state: this.state,
      anchorWallMs: this.anchorWallMs,
      anchorVirtNs: this.anchorVirtNs,
      kernel: this.k.getState(),
      terminals: this.us.getState(),
    };
    // re-anchor: the snapshot carries the clock position
    env.anchorVirtNs = this.k.now;
    env.anchorWallMs = this.deps.wallMs();
    return new TextEncoder().encode(JSON.stringify(env));
  }

  async checkpoint(): Promise<MachineCheckpoint> {
    this.alive();
    this.syncNow();
    const held = new Map<string, object>();
    const sink: BlobSink = {
      ref: (v) => {
        let key = this.blobIds.get(v);
        if (key === undefined) {
          key = `b${this.nextBlob++}`;
          this.blobIds.set(v, key);
        }
        held.set(key, v);
        return key;
      },
    };
    const env: SimEnvelope = {
      spec: this.spec,
      state: this.state,
      anchorWallMs: this.deps.wallMs(),
      anchorVirtNs: this.k.now,
      kernel: this.k.getState(sink),
      terminals: this.us.getState(),
    };
    env.blobSeq = this.nextBlob;
    const enc = new TextEncoder();
    return {
      head: enc.encode(JSON.stringify(env)),
      blobKeys: [...held.keys()],
      blob: (key) => {
        const v = held.get(key);
        if (!v) throw new KernelError('ENOENT', `no blob ${key} in this checkpoint`);
        return enc.encode(JSON.stringify(v));
      },
    };
  }

  async restore(bytes: Uint8Array): Promise<void> {
    this.alive();
    const env = decodeSnapshot(bytes);
    const k = Kernel.fromState(env.kernel, { logger: this.deps.logger });
    this.stopBpftraceRuns();
    for (const t of this.us.terminals.values()) t.hangup();
    this.k.events.clear();
    this.k = k;
    this.us = new Userspace(k);
    this.us.setState(env.terminals, this.manual);
    this.state = env.state;
    this.anchorVirtNs = k.now;
    this.anchorWallMs = this.deps.wallMs();
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.topTimer?.();
    for (const s of this.topSubs) s.col.close();
    this.topSubs.clear();
    this.termTimer?.cancel();
    this.termTimer = undefined;
    this.k.events.clear();
  }

  // ------------------------------------------------------------------ terminals

  private subscribeTerminal(stream: string, opts: SubscribeOptions, onEvent: (e: StreamEvent) => void): Subscription {
    const t = this.us.terminal(stream.slice('terminal:'.length));
    const send = (o: TerminalOutput): void =>
      onEvent({ stream, seq: o.seq, data: o.channel === 'exit' ? { channel: 'exit', code: o.code } : { channel: 'stdout', data: o.data } });
    const from = opts.fromSeq ?? t.seq;
    const { out, missed } = t.since(from);
    const startSeq = out.length ? out[0].seq : t.seq;
    for (const o of out) send(o);
    const off = t.onOutput(send);
    return { startSeq, missed, close: off };
  }

  /**
   * Moves the clock to `ns`, letting the terminals' foreground commands run
   * at the times they wake up on the way (as they did live).
   */
  private advanceTerminalsTo(ns: number): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      let next = Infinity;
      for (const t of this.us.terminals.values()) {
        const w = t.wakeAt;
        if (w === undefined) continue;
        if (w <= this.k.now) {
          t.tick();
          next = Math.min(next, this.k.now);
        } else next = Math.min(next, w);
      }
      if (next > ns || next === Infinity) break;
      if (next > this.k.now) this.k.advanceTo(next);
    }
    this.k.advanceTo(ns);
  }

  /** Arms the wall-clock timer that goes on with the terminals' foreground commands. */
  private scheduleTerminals(): void {
    if (!this.deps.schedule || this.destroyed) return;
    let next = Infinity;
    for (const t of this.us.terminals.values()) {
      const w = t.wakeAt;
      if (w !== undefined) next = Math.min(next, w);
    }
    if (next === Infinity) {
      this.termTimer?.cancel();
      this.termTimer = undefined;
      return;
    }
    if (this.termTimer && this.termTimer.at <= next) return;
    this.termTimer?.cancel();
    const ms = this.manual ? 0 : Math.max(0, Math.ceil((next - this.k.now) / 1e6));
    const cancel = this.deps.schedule(ms, () => {
      this.termTimer = undefined;
      if (this.destroyed) return;
      try {
        this.syncNow();
        for (const t of this.us.terminals.values()) {
          const w = t.wakeAt;
          if (w !== undefined && w <= this.k.now) t.tick();
        }
      } catch (e) {
        this.deps.logger?.warn('terminal pump failed', { err: String(e) });
      }
      this.scheduleTerminals();
    });
    this.termTimer = { at: next, cancel };
  }
}

/** The kernel's configuration for a machine spec. */
function kernelConfigOf(spec: MachineSpec): KernelConfig {
  const c: KernelConfig = { cpus: spec.cpus, memoryMb: spec.memoryMb, seed: spec.seed, hostname: spec.hostname };
  if (spec.kernelConfig) c.debug = { ...spec.kernelConfig };
  return c;
}

/** What a crash list shows (the whole record is one more request away). */
function crashSummary(c: CrashRecord): Omit<CrashRecord, 'report' | 'dmesgTail' | 'tasks'> {
  return { id: c.id, title: c.title, type: c.type, frame: c.frame, module: c.module, taint: c.taint, panic: c.panic, timeNs: c.timeNs, wallMs: c.wallMs, boot: c.boot };
}

/** perf top's refresh: one snapshot per second of machine time */
const PERF_TOP_INTERVAL_NS = 1e9;

interface PerfTopSub {
  col: ReturnType<typeof topCollector>;
  nextAt: number;
  seq: number;
  onEvent: (e: StreamEvent) => void;
}

/** most bpftrace programs one machine runs at once */
export const MAX_BPFTRACE_RUNS = 4;
/** output events of a run kept for resuming subscribers */
const BPFTRACE_BACKLOG = 10_000;

export type BtEventData = { stream: 'stdout' | 'stderr'; text: string } | { exit: number };

interface BtRun {
  handle: BpftraceRunHandle;
  out: { seq: number; data: BtEventData }[];
  nextSeq: number;
  listeners: Set<(e: { seq: number; data: BtEventData }) => void>;
}

function checkWinsize(cols: number, rows: number): void {
  if (!Number.isInteger(cols) || !Number.isInteger(rows) || cols < 1 || rows < 1 || cols > 1000 || rows > 1000) {
    throw new KernelError('EINVAL', 'cols and rows must be integers from 1 to 1000');
  }
}

function decodeSnapshot(bytes: Uint8Array): SimEnvelope {
  let env: SimEnvelope;
  try {
    env = JSON.parse(new TextDecoder().decode(bytes)) as SimEnvelope;
  } catch {
    throw new KernelError('EINVAL', 'snapshot is not valid');
  }
  if (!env || typeof env !== 'object' || !env.kernel || !env.spec) throw new KernelError('EINVAL', 'snapshot is not valid');
  return env;
}
