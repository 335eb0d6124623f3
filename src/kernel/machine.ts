import { KernelError } from './errors';
import type { DirEntry } from './fs/vfs';
import type { LogRecord } from './printk/printk';

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
}

export type MachineState = 'running' | 'crashed' | 'stopped';

/** Mutating operations: serialisable, journaled by the server, replayable. */
export type MachineOp =
  | { type: 'write'; path: string; data: string; append?: boolean }
  | { type: 'advance'; ns: number }
  | { type: 'dmesg-clear' };

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
  /** Replays journaled ops (after restore from a snapshot), in order. */
  replay(entries: JournalEntry[]): Promise<void>;
  /** Moves a realtime machine's clock to the present; no-op in manual mode. */
  sync(): Promise<void>;
  subscribe(stream: string, opts: SubscribeOptions, onEvent: (e: StreamEvent) => void): Promise<Subscription>;
  snapshot(): Promise<Uint8Array>;
  restore(bytes: Uint8Array): Promise<void>;
  destroy(): Promise<void>;
}

export function unknownStream(stream: string): KernelError {
  return new KernelError('EINVAL', `unknown stream '${stream}'`);
}
