import { KernelError } from '../errors';
import type { Kernel } from '../kernel';

/**
 * Tasks and the scheduler: pids, fork/exec/exit/wait, CFS and RT classes,
 * per-CPU runqueues, load balancing, load average and CPU time accounting.
 *
 * (Skeleton: the API the rest of the kernel calls is fixed here; the model
 * behind it is filled in by the sched work.)
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

export interface SchedState {
  /** avenrun[] in FIXED_1 (1 << 11) fixed point */
  avenrun: [number, number, number];
  tasks: TaskView[];
}

export class Sched {
  private s: SchedState = { avenrun: [0, 0, 0], tasks: [] };

  constructor(private readonly k: Kernel) {}

  /** Accounts CPU time for [from, to) ns of virtual time. */
  account(_fromNs: number, _toNs: number): void {
    void this.k;
  }

  get avenrun(): readonly number[] {
    return this.s.avenrun;
  }

  /** All live tasks (threads included), by pid. */
  tasks(): readonly TaskView[] {
    return this.s.tasks;
  }

  task(pid: number): TaskView | undefined {
    return this.s.tasks.find((t) => t.pid === pid);
  }

  /** Sends a signal (9 = SIGKILL, 15 = SIGTERM, 2 = SIGINT, ...). */
  kill(pid: number, _sig: number): void {
    if (!this.task(pid)) throw new KernelError('ESRCH');
  }

  getState(): SchedState {
    return JSON.parse(JSON.stringify(this.s)) as SchedState;
  }

  setState(s: SchedState): void {
    this.s = JSON.parse(JSON.stringify(s)) as SchedState;
  }
}
