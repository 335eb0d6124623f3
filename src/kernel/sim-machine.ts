import { KernelError } from './errors';
import { Kernel, type KernelState } from './kernel';
import type {
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
import type { DirEntry } from './fs/vfs';
import { toDmesgJsonRecord } from './printk/dmesg';
import type { LogRecord } from './printk/printk';
import { KERNEL_RELEASE, type KernelLogger } from './types';

export interface SimDeps {
  /** wall clock in ms (injected; tests pass a fake) */
  wallMs: () => number;
  logger?: KernelLogger;
}

/** Fixed boot epoch of manual-clock machines, so their renders are reproducible. */
export const MANUAL_BOOT_EPOCH_MS = Date.UTC(2026, 0, 1, 0, 0, 0);

interface SimEnvelope {
  spec: MachineSpec;
  state: MachineState;
  /** wall/virtual anchor of a realtime clock */
  anchorWallMs: number;
  anchorVirtNs: number;
  kernel: KernelState;
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

  private constructor(
    private readonly spec: MachineSpec,
    private readonly deps: SimDeps,
    k: Kernel,
  ) {
    this.k = k;
    this.anchorWallMs = deps.wallMs();
  }

  /**
   * Boots a machine. `atWallMs` re-creates a machine booted at that wall time
   * (the sim is deterministic: spec + boot time + journal reproduce it).
   */
  static boot(spec: MachineSpec, deps: SimDeps, atWallMs?: number): SimMachine {
    const wall = atWallMs ?? deps.wallMs();
    const bootEpochMs = spec.clock === 'manual' ? MANUAL_BOOT_EPOCH_MS : wall;
    const k = Kernel.boot(
      { cpus: spec.cpus, memoryMb: spec.memoryMb, seed: spec.seed, hostname: spec.hostname },
      { logger: deps.logger, bootEpochMs },
    );
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

  static fromSnapshot(bytes: Uint8Array, deps: SimDeps): SimMachine {
    const env = decodeSnapshot(bytes);
    const k = Kernel.fromState(env.kernel, { logger: deps.logger });
    const m = new SimMachine(env.spec, deps, k);
    m.state = env.state;
    m.anchorWallMs = env.anchorWallMs;
    m.anchorVirtNs = env.anchorVirtNs;
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
    const elapsedMs = Math.max(0, this.deps.wallMs() - this.anchorWallMs);
    this.k.advanceTo(this.anchorVirtNs + Math.round(elapsedMs * 1e6));
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
      state: this.state,
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
    const value = this.applyNow(op);
    return { vtimeNs: at, value };
  }

  private applyNow(op: MachineOp): unknown {
    switch (op.type) {
      case 'write':
        this.k.vfs.writeFile(this.k.rootCtx(), op.path, op.data, { append: op.append });
        return undefined;
      case 'advance':
        if (this.spec.clock !== 'manual') throw new KernelError('EINVAL', 'advance is only allowed on manual-clock machines');
        if (!Number.isInteger(op.ns) || op.ns < 0) throw new KernelError('EINVAL', 'ns must be a non-negative integer');
        this.k.advance(op.ns);
        return undefined;
      case 'dmesg-clear':
        this.k.printk.clear();
        return undefined;
      default:
        throw new KernelError('EINVAL', `unknown op ${(op as { type: string }).type}`);
    }
  }

  async replay(entries: JournalEntry[]): Promise<void> {
    this.alive();
    for (const e of entries) {
      this.k.advanceTo(e.vtimeNs);
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
    if (stream === 'trace_pipe') {
      // what a reader of trace_pipe sees, numbered so a consumer can resume (non-consuming)
      const sub = this.k.trace.subscribe(opts.fromSeq, (line) => onEvent({ stream, seq: line.seq, data: { text: line.text } }));
      return { startSeq: sub.startSeq, missed: sub.missed, close: () => sub.close() };
    }
    if (stream !== 'dmesg') throw unknownStream(stream);
    const pk = this.k.printk;
    const from = opts.fromSeq ?? pk.nextSeq;
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
    };
    // re-anchor: the snapshot carries the clock position
    env.anchorVirtNs = this.k.now;
    env.anchorWallMs = this.deps.wallMs();
    return new TextEncoder().encode(JSON.stringify(env));
  }

  async restore(bytes: Uint8Array): Promise<void> {
    this.alive();
    const env = decodeSnapshot(bytes);
    const k = Kernel.fromState(env.kernel, { logger: this.deps.logger });
    this.k.events.clear();
    this.k = k;
    this.state = env.state;
    this.anchorVirtNs = k.now;
    this.anchorWallMs = this.deps.wallMs();
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
    this.k.events.clear();
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
