/**
 * The contract between kernel modules (lab-module behaviours, written in
 * src/kernel/modules) and the fault machinery (src/kernel/faults), and
 * between faults and the syscall layer / shell that run userspace tasks.
 */

/** When a lab-module behaviour fires. */
export type BehaviourTrigger =
  /** at insmod/modprobe (module init) */
  | 'load'
  /** at rmmod (module exit) */
  | 'unload'
  /** when the named file the module created (procfs or sysfs path) is read */
  | { read: string }
  /** when the named file the module created is written */
  | { write: string }
  /** periodically while loaded */
  | { everyMs: number };

/** What a lab module does wrong (or right), declared in its manifest. */
export type LabBehaviour =
  | { kind: 'leak'; pagesPerSecond: number }
  | { kind: 'null-deref'; on: BehaviourTrigger }
  | { kind: 'bug'; on: BehaviourTrigger }
  | { kind: 'warn'; on: BehaviourTrigger }
  | { kind: 'use-after-free'; on: BehaviourTrigger; objectSize?: number }
  | { kind: 'out-of-bounds'; on: BehaviourTrigger; objectSize?: number; offset?: number }
  | { kind: 'lock-inversion'; on: BehaviourTrigger; locks: [string, string] }
  | { kind: 'sleep-in-atomic'; on: BehaviourTrigger }
  | { kind: 'hung-task'; on: BehaviourTrigger }
  | { kind: 'panic'; on: BehaviourTrigger; message?: string };

export interface FaultSite {
  /** the module the faulting code belongs to */
  module: string;
  /** the function the fault happens in (a symbol the module defines, e.g. `labmod_read`) */
  fn: string;
  /** the task running when it happened */
  pid: number;
}

/**
 * Thrown out of a kernel entry point (a syscall, a module init) when the
 * kernel killed the calling task (an oops kills the task: make_task_dead with
 * SIGSEGV; a panic stops everything). The syscall layer and the shell turn it
 * into the task's death by `signal` (bash then prints "Segmentation fault" or
 * "Killed"); nothing above the machine ever sees it.
 */
export class TaskDeath extends Error {
  constructor(
    readonly signal: number,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'TaskDeath';
  }
}

/** What src/kernel/faults implements for modules (k.faults). */
export interface FaultTrigger {
  /**
   * Runs a lab-module behaviour at `site`: prints its report (oops, KASAN,
   * lockdep, ...) honouring kernelConfig and sysctls (panic_on_oops, panic,
   * hung_task_*), taints, records a crash on panic, and throws TaskDeath when
   * the task dies. `leak` is a no-op here (the modules code accounts its pages).
   */
  runBehaviour(b: LabBehaviour, site: FaultSite): void;
}
