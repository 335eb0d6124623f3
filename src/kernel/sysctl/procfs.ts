import type { Kernel } from '../kernel';
import type { DirTable } from '../fs/vnode';

/** /proc entries owned by the sysctl subsystem (merged into the procfs table). */
export function sysctlProcEntries(_k: Kernel): DirTable {
  return {};
}
