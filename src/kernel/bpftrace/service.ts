/**
 * The driver API the server calls: start a bpftrace run on a machine, stream
 * its output, stop it (as Ctrl-C would), read its maps. Pure: time is the
 * machine's virtual time; whoever moves the machine's clock moves the run.
 */
import type { Kernel } from '../kernel';
import type { BpftraceResult } from './driver';
import { KernelBpftraceRun, listKernelProbes } from './kernel-host';
import { mapJson, mapText } from './output';
import type { Limits } from './runtime';

export interface StartRunOptions {
  /** program text (what `-e` takes) */
  program: string;
  format?: 'text' | 'json';
  /** positional parameters $1..$N */
  args?: string[];
  /** allow system()/signal() (--unsafe) */
  unsafe?: boolean;
  /** system(): runs a command in the machine and returns what it printed */
  system?: (command: string) => string;
  /** stop as by Ctrl-C once this much virtual time has passed since the start */
  maxVirtualNs?: number;
  limits?: Partial<Limits>;
  /** pid bpftrace runs as (BEGIN/END context); default 1 */
  pid?: number;
  /** wall-clock cap (the server passes its clock in: the kernel reads none) */
  wallClockMs?: () => number;
  maxWallMs?: number;
}

export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  text: string;
  /** virtual ns at which it was written */
  ns: number;
}

export type RunState = 'running' | 'exited';

export interface RunStatus {
  runId: string;
  state: RunState;
  /** virtual ns since boot at the start, and now */
  startedNs: number;
  nowNs: number;
  /** probes attached (what the banner counts) */
  probes: number;
  firings: number;
  steps: number;
  stdoutBytes: number;
  stderrBytes: number;
  /** once exited */
  exitCode?: number;
}

export interface MapSnapshot {
  /** the map as `print(@m)` shows it */
  text: string;
  /** the map as `-f json` shows it (parsed) */
  json: unknown;
}

export interface BpftraceRunHandle {
  readonly runId: string;
  /**
   * Subscribes to output; chunks already written are replayed first unless
   * `replay` is false. Returns the unsubscribe function. Callbacks run inside
   * the machine's probe firings: they must be quick and must not throw.
   */
  onOutput(cb: (c: OutputChunk) => void, opts?: { replay?: boolean }): () => void;
  /** called once when the run ends (by itself or by stop()) */
  onExit(cb: (r: BpftraceResult) => void): () => void;
  /** Ctrl-C: END runs, maps print, the run ends. Idempotent. */
  stop(): BpftraceResult;
  status(): RunStatus;
  /** the maps now, by name */
  maps(): Record<string, MapSnapshot>;
  /** output so far */
  result(): BpftraceResult;
}

interface Registry {
  next: number;
  runs: Map<string, BpftraceRunHandle>;
}

/** Runs per machine (runtime state of the runs, keyed by the machine). */
const REGISTRIES = new WeakMap<Kernel, Registry>();

function registry(k: Kernel): Registry {
  let r = REGISTRIES.get(k);
  if (!r) {
    r = { next: 1, runs: new Map() };
    REGISTRIES.set(k, r);
  }
  return r;
}

/** Backlog kept for late subscribers (the interpreter's output cap bounds it too). */
const MAX_BACKLOG_BYTES = 4 * 1024 * 1024;

/** Starts a run: banner and BEGIN happen now; probes fire as the machine runs. */
export function startRun(k: Kernel, opts: StartRunOptions): BpftraceRunHandle {
  const reg = registry(k);
  const runId = `bt-${reg.next++}`;
  const backlog: OutputChunk[] = [];
  let backlogBytes = 0;
  let stdoutBytes = 0;
  let stderrBytes = 0;
  const outs = new Set<(c: OutputChunk) => void>();
  const exits = new Set<(r: BpftraceResult) => void>();
  let exited: BpftraceResult | null = null;
  const push = (stream: 'stdout' | 'stderr', text: string): void => {
    if (!text) return;
    if (stream === 'stdout') stdoutBytes += text.length;
    else stderrBytes += text.length;
    const c: OutputChunk = { stream, text, ns: k.now };
    if (backlogBytes + text.length <= MAX_BACKLOG_BYTES) {
      backlog.push(c);
      backlogBytes += text.length;
    }
    for (const cb of [...outs]) {
      try {
        cb(c);
      } catch {
        // a subscriber's failure is its own
      }
    }
  };
  const finish = (r: BpftraceResult): void => {
    if (exited) return;
    exited = r;
    reg.runs.delete(runId);
    for (const cb of [...exits]) {
      try {
        cb(r);
      } catch {
        // ignore
      }
    }
  };
  const run = new KernelBpftraceRun(k, opts.program, {
    args: opts.args,
    format: opts.format,
    unsafe: opts.unsafe,
    system: opts.system,
    limits: opts.limits,
    pid: opts.pid,
    maxVirtualNs: opts.maxVirtualNs,
    wallClockMs: opts.wallClockMs,
    maxWallMs: opts.maxWallMs,
    emit: (t) => push('stdout', t),
    emitErr: (t) => push('stderr', t),
    onFinish: () => finish(run.result()),
  });
  if (run.finished) finish(run.stop());
  const handle: BpftraceRunHandle = {
    runId,
    onOutput(cb, o = {}) {
      if (o.replay !== false) for (const c of backlog) cb(c);
      outs.add(cb);
      return () => outs.delete(cb);
    },
    onExit(cb) {
      if (exited) {
        cb(exited);
        return () => undefined;
      }
      exits.add(cb);
      return () => exits.delete(cb);
    },
    stop() {
      const r = run.stop();
      finish(r);
      return r;
    },
    status() {
      const it = run.session.interpreter;
      return {
        runId,
        state: exited ? 'exited' : 'running',
        startedNs: run.startNs,
        nowNs: k.now,
        probes: run.session.probes.length,
        firings: it?.firings ?? 0,
        steps: it?.steps ?? 0,
        stdoutBytes,
        stderrBytes,
        exitCode: exited ? exited.exitCode : undefined,
      };
    },
    maps() {
      const it = run.session.interpreter;
      const out: Record<string, MapSnapshot> = {};
      if (!it) return out;
      for (const name of [...it.maps.keys()].sort()) {
        const v = it.view(name);
        out[name] = { text: mapText(v), json: (JSON.parse(mapJson(v)) as { data: Record<string, unknown> }).data[name] };
      }
      return out;
    },
    result() {
      return run.result();
    },
  };
  if (!exited) reg.runs.set(runId, handle);
  return handle;
}

/** The runs still attached to a machine. */
export function activeRuns(k: Kernel): BpftraceRunHandle[] {
  return [...registry(k).runs.values()];
}

export function getRun(k: Kernel, runId: string): BpftraceRunHandle | undefined {
  return registry(k).runs.get(runId);
}

/**
 * `POST /bpftrace` on a manual-clock machine: starts the program, moves the
 * machine's clock by `durationNs` (firing whatever the machine does in that
 * time), then stops as Ctrl-C would (unless the program exited first).
 * On a realtime machine use startRun with maxVirtualNs and wait for onExit.
 */
export function runFor(k: Kernel, opts: StartRunOptions, durationNs: number): BpftraceResult {
  const h = startRun(k, opts);
  let done: BpftraceResult | null = null;
  h.onExit((r) => (done = r));
  if (!done) k.advance(Math.max(0, durationNs));
  return done ?? h.stop();
}

/** `bpftrace -l [pattern]` on a machine. */
export function listRunProbes(k: Kernel, pattern?: string): string[] {
  return listKernelProbes(k, pattern).split('\n').filter(Boolean);
}
