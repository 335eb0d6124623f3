import { Inject, Injectable, Logger } from '@nestjs/common';
import { Clock } from '../common/clock';
import { ApiError } from '../common/errors';
import type { CheckpointBlobs, DriverName, Machine, MachineSpec } from '../kernel/machine';
import { type SimDeps, SimMachine } from '../kernel/sim-machine';

/** Boots and restores machines of one driver. */
export interface MachineDriver {
  readonly name: DriverName;
  /** Boots a machine; `atWallMs` re-creates one booted at that time, where the driver is deterministic. */
  boot(spec: MachineSpec, atWallMs?: number): Promise<Machine>;
  /** Whether spec + boot time + journal reproduce a machine exactly (no boot checkpoint needed). */
  readonly deterministic: boolean;
  /** A machine from snapshot() bytes, or from a checkpoint's head and its blobs. */
  fromSnapshot(bytes: Uint8Array, blobs?: CheckpointBlobs): Promise<Machine>;
}

@Injectable()
export class SimDriver implements MachineDriver {
  readonly name = 'sim' as const;
  readonly deterministic = true;
  private readonly log = new Logger('sim');
  private readonly logger = {
    debug: (msg: string, meta?: Record<string, unknown>) => this.log.debug({ msg, ...meta }),
    warn: (msg: string, meta?: Record<string, unknown>) => this.log.warn({ msg, ...meta }),
  };

  constructor(@Inject(Clock) private readonly clock: Clock) {}

  private deps(): SimDeps {
    return { wallMs: () => this.clock.now(), logger: this.logger, schedule: (ms, fn) => this.clock.schedule(ms, fn) };
  }

  async boot(spec: MachineSpec, atWallMs?: number): Promise<Machine> {
    return SimMachine.boot(spec, this.deps(), atWallMs);
  }

  async fromSnapshot(bytes: Uint8Array, blobs?: CheckpointBlobs): Promise<Machine> {
    return SimMachine.fromSnapshot(bytes, this.deps(), blobs);
  }
}

/** Picks the driver for a session; qemu answers 501 until its own issue lands. */
@Injectable()
export class DriverRegistry {
  constructor(private readonly sim: SimDriver) {}

  get(name: string): MachineDriver {
    if (name === 'sim') return this.sim;
    if (name === 'qemu') {
      throw new ApiError(501, 'DRIVER_NOT_AVAILABLE', "the 'qemu' driver is not available yet on this server; use driver 'sim'");
    }
    throw new ApiError(400, 'UNKNOWN_DRIVER', `unknown driver '${name}' (expected 'sim' or 'qemu')`);
  }
}
