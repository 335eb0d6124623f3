import { KernelError } from '../errors';
import { Kernel } from '../kernel';

/**
 * Test helpers of the tracing specs (pure like the rest of the kernel): a
 * booted machine and reads/writes of its tracefs files.
 */
export const T = '/sys/kernel/tracing';

export function boot(): Kernel {
  return Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'trace', hostname: 'kernelab' });
}

export const rd = (k: Kernel, p: string): string => k.vfs.readFile(k.rootCtx(), `${T}/${p}`);

export const wr = (k: Kernel, p: string, d: string, append = false): void => k.vfs.writeFile(k.rootCtx(), `${T}/${p}`, d, { append });

/** the errno name a call fails with, or 'OK' */
export function errno(fn: () => void): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof KernelError) return e.code;
    throw e;
  }
  return 'OK';
}
