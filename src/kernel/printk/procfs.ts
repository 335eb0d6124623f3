import type { Kernel } from '../kernel';
import type { DirTable } from '../fs/vnode';

/** /proc entries owned by the printk subsystem (merged into the procfs table). */
export function printkProcEntries(_k: Kernel): DirTable {
  return {};
}
