import type { Kernel } from '../kernel';

/**
 * Tasks and the scheduler. (Skeleton: CFS, RT classes, per-CPU runqueues,
 * load balancing, load average and CPU time accounting live here.)
 */
export interface SchedState {
  /** avenrun[] in FIXED_1 (1 << 11) fixed point */
  avenrun: [number, number, number];
}

export class Sched {
  private s: SchedState = { avenrun: [0, 0, 0] };

  constructor(private readonly k: Kernel) {}

  /** Accounts CPU time for [from, to) ns of virtual time. */
  account(_fromNs: number, _toNs: number): void {
    void this.k;
  }

  get avenrun(): readonly number[] {
    return this.s.avenrun;
  }

  getState(): SchedState {
    return { avenrun: [...this.s.avenrun] as SchedState['avenrun'] };
  }

  setState(s: SchedState): void {
    this.s = { avenrun: [...s.avenrun] as SchedState['avenrun'] };
  }
}
