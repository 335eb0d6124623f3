import type { Kernel } from '../kernel';
import type { DirTable } from '../fs/vnode';

/** /proc entries owned by the sched subsystem (merged into the procfs table). */
export function schedProcEntries(_k: Kernel): DirTable {
  return {};
}
