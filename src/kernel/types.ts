/** Injected dependencies and configuration of one simulated machine. */
export interface KernelLogger {
  debug(msg: string, meta?: Record<string, unknown>): void;
  warn(msg: string, meta?: Record<string, unknown>): void;
}

export const nullLogger: KernelLogger = {
  debug: () => undefined,
  warn: () => undefined,
};

/** Debug options of a session's kernel (a debug build): see src/kernel/faults. */
export interface KernelDebugConfig {
  /** KASAN: use-after-free / out-of-bounds accesses are reported (else they corrupt silently) */
  kasan?: boolean;
  /** lockdep + DEBUG_ATOMIC_SLEEP: lock-order inversions and sleeping in atomic context are reported */
  lockdep?: boolean;
  /** initial kernel.hung_task_timeout_secs (default 120) */
  hungTaskTimeoutSecs?: number;
  /**
   * The session allows unsafe tracing actions: bpftrace's system(), signal()
   * and override() (with --unsafe in the shell; always for REST runs).
   * Off by default: a tenant's program cannot kill or run tasks.
   */
  allowUnsafe?: boolean;
}

export interface KernelConfig {
  cpus: number;
  memoryMb: number;
  /** Seed of the machine's PRNG: same seed + same inputs => same outputs. */
  seed: string;
  hostname: string;
  /** debug build options (absent: the reference Debian kernel) */
  debug?: KernelDebugConfig;
}

export const KERNEL_RELEASE = '6.1.0-56-amd64';
export const KERNEL_VERSION_STRING = '#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-2 (2026-11-16)';
export const LINUX_BANNER =
  `Linux version ${KERNEL_RELEASE} (debian-kernel@lists.debian.org) (gcc-12 (Debian 12.2.0-14+deb12u1) 12.2.0, ` +
  `GNU ld (GNU Binutils for Debian) 2.40) ${KERNEL_VERSION_STRING}`;

export const NSEC_PER_SEC = 1_000_000_000;
export const NSEC_PER_MSEC = 1_000_000;
export const NSEC_PER_USEC = 1_000;
/** CONFIG_HZ=250 on Debian amd64. */
export const HZ = 250;
export const TICK_NSEC = NSEC_PER_SEC / HZ;
/** USER_HZ, the unit of /proc/stat and /proc/<pid>/stat times. */
export const USER_HZ = 100;
export const PAGE_SIZE = 4096;
