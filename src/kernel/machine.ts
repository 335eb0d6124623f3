import { KernelError } from './errors';
import type { DirEntry } from './fs/vfs';
import type { LogRecord } from './printk/printk';
import type { KernelDebugConfig } from './types';

/**
 * The interface sessions hold. Asynchronous throughout: the sim answers at
 * once, the qemu driver answers over a guest agent.
 */
export type DriverName = 'sim' | 'qemu';

export type ClockMode = 'realtime' | 'manual';

export interface MachineSpec {
  cpus: number;
  memoryMb: number;
  seed: string;
  hostname: string;
  /** debug-kernel options (KASAN, lockdep, hung task timeout) */
  kernelConfig?: KernelDebugConfig;
  /** realtime: virtual time follows wall time; manual: only explicit advances move it (deterministic runs). */
  clock: ClockMode;
}

export interface MachineInfo {
  driver: DriverName;
  kernelRelease: string;
  cpus: number;
  memoryMb: number;
  clock: ClockMode;
  /** virtual nanoseconds since boot */
  uptimeNs: number;
  /** wall-clock time of boot, ms since the epoch (for dmesg -T style times) */
  bootEpochMs: number;
  state: MachineState;
  /** why it is crashed or stopped (the panic message) */
  stateReason?: string;
  /** boots so far (0 = the first boot) */
  boot: number;
}

export type MachineState = 'running' | 'crashed' | 'stopped';

/** Mutating operations: serialisable, journaled by the server, replayable. */
export type MachineOp =
  | { type: 'write'; path: string; data: string; append?: boolean }
  | { type: 'advance'; ns: number }
  | { type: 'dmesg-clear' }
  /** a `bash -c` command (value: ExecOutcome) */
  | { type: 'exec'; command: string; stdin?: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number }
  /** an interactive terminal: open, keyboard input, window size, hang-up */
  | { type: 'tty-open'; id: string; cols: number; rows: number }
  | { type: 'tty-input'; id: string; data: string }
  | { type: 'tty-resize'; id: string; cols: number; rows: number }
  | { type: 'tty-close'; id: string }
  /** modprobe NAME [params] (value: ModprobeOutcome; a failure is a value too: it printed to dmesg) */
  | { type: 'modprobe'; name: string; params?: string }
  /** rmmod [-f] NAME (value: CmdOutcome) */
  | { type: 'rmmod'; name: string; force?: boolean }
  /** the tenant's lab-module manifests this machine can load (replaces the previous set) */
  | { type: 'lab-sync'; manifests: unknown[] }
  /** a magic SysRq key, as from the keyboard (honours kernel.sysrq) */
  | { type: 'sysrq'; key: string }
  /** boot the machine again (crash records kept) */
  | { type: 'reboot' }
  /** a bpftrace run for durationMs of virtual time, stopped as by Ctrl-C (value: BpftraceResult) */
  | { type: 'bpftrace'; program: string; durationMs: number; format?: 'text' | 'json'; args?: string[] }
  /** a long bpftrace run: start (value: {runId}) and stop (value: BpftraceResult) */
  | { type: 'bpftrace-start'; program: string; format?: 'text' | 'json'; args?: string[]; maxDurationMs?: number }
  | { type: 'bpftrace-stop'; runId: string }
  /** trace-cmd record: trace while a command runs (or for durationMs); value: {recordingId, report} */
  | { type: 'trace-record'; tracer?: string; functions?: string[]; graphFunctions?: string[]; events?: string[]; filter?: string; pid?: number; command?: string; durationMs?: number };

/** What a kmod command printed. */
export interface CmdOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface ModprobeOutcome extends CmdOutcome {
  /** modules the call loaded, in load order (dependencies first) */
  loaded: string[];
}

/** Structured read-only views of a machine (what REST renders as JSON). */
export type MachineQuery =
  /** loaded modules (value: ModuleView[]); `lsmod: true` gives lsmod's text instead */
  | { type: 'modules'; lsmod?: boolean }
  /** one module: modinfo, state, refcount, holders, parameters (value: ModuleDetail; ENOENT if unknown) */
  | { type: 'module'; name: string }
  /** crash records (value: CrashSummary[]) and one whole record (CrashRecord) */
  | { type: 'crashes' }
  | { type: 'crash'; id: number }
  /** bpftrace runs of this boot (value: RunStatus[]) and one run: status, maps, result */
  | { type: 'bpftrace-runs' }
  | { type: 'bpftrace-run'; runId: string }
  /** trace recordings kept by the machine (value: RecordingMeta[]) and one (Recording with report) */
  | { type: 'recordings' }
  | { type: 'recording'; id: number };

export interface ModuleView {
  name: string;
  size: number;
  refcount: number;
  /** modules using this one (lsmod's "Used by") */
  holders: string[];
  state: 'live' | 'coming' | 'going';
  /** load address (/proc/modules) */
  address: string;
  /** module taint flags, e.g. "OE" */
  taint: string;
  lab: boolean;
}

export interface ModuleDetail {
  name: string;
  /** 'loaded', 'builtin' or 'available' (on disk, not loaded) */
  status: 'loaded' | 'builtin' | 'available';
  /** modinfo's fields in its order (repeated keys kept) */
  modinfo: [string, string][];
  /** modinfo's text */
  modinfoText: string;
  loaded?: ModuleView;
  /** parameter values as /sys/module/<m>/parameters shows them */
  parameters: Record<string, string>;
}

export interface OpResult {
  /** virtual time at which the op was issued, before it ran (for the journal) */
  vtimeNs: number;
  value?: unknown;
}

export interface JournalEntry {
  vtimeNs: number;
  op: MachineOp;
}

/** A typed event on a stream, numbered so a consumer can resume. */
export interface StreamEvent<T = unknown> {
  stream: string;
  seq: number;
  data: T;
}

export type DmesgEventData = LogRecord;

/** Events of a `terminal:<id>` stream. */
export type TerminalEventData = { channel: 'stdout'; data: string } | { channel: 'exit'; code: number };

export interface SubscribeOptions {
  /** first sequence number wanted; omitted = only new events */
  fromSeq?: number;
}

export interface Subscription {
  /** seq of the first event that will be delivered */
  readonly startSeq: number;
  /** events requested by fromSeq that were already overwritten */
  readonly missed: number;
  close(): void;
}

export interface Machine {
  readonly driver: DriverName;
  info(): Promise<MachineInfo>;
  read(path: string): Promise<string>;
  list(path: string): Promise<DirEntry[]>;
  /** The printk records `dmesg` can read (what /dev/kmsg yields), from `fromSeq` on. */
  kmsg(fromSeq?: number): Promise<LogRecord[]>;
  /** Target of a symbolic link (EINVAL when `path` is not one). */
  readlink(path: string): Promise<string>;
  apply(op: MachineOp): Promise<OpResult>;
  /** Structured read-only views (modules, ...). */
  query(q: MachineQuery): Promise<unknown>;
  /** Replays journaled ops (after restore from a snapshot), in order. */
  replay(entries: JournalEntry[]): Promise<void>;
  /** Moves a realtime machine's clock to the present; no-op in manual mode. */
  sync(): Promise<void>;
  subscribe(stream: string, opts: SubscribeOptions, onEvent: (e: StreamEvent) => void): Promise<Subscription>;
  /** The whole machine as one self-contained image (user snapshots, clones). */
  snapshot(): Promise<Uint8Array>;
  /**
   * The machine as a checkpoint: a small head plus named immutable blobs
   * (full trace ring pages, finished recordings). A blob keeps its key and
   * its bytes for as long as the machine holds it, so a store that already
   * has a key need not ask for its bytes again. Taken at once; the blobs'
   * bytes may be asked for later, while the machine runs on.
   */
  checkpoint(): Promise<MachineCheckpoint>;
  restore(bytes: Uint8Array): Promise<void>;
  destroy(): Promise<void>;
}

export interface MachineCheckpoint {
  head: Uint8Array;
  /** every blob the head refers to */
  blobKeys: string[];
  /** the bytes of one of blobKeys */
  blob(key: string): Uint8Array;
}

/** A checkpoint's blobs by key, for restoring it (drivers' fromSnapshot). */
export type CheckpointBlobs = (key: string) => Uint8Array | undefined;

export function unknownStream(stream: string): KernelError {
  return new KernelError('EINVAL', `unknown stream '${stream}'`);
}
