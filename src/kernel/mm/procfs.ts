import type { Kernel } from '../kernel';
import type { DirTable } from '../fs/vnode';

/** /proc entries owned by the mm subsystem (merged into the procfs table). */
export function mmProcEntries(_k: Kernel): DirTable {
  return {};
}
