import type { Kernel } from '../kernel';
import { type DirTable, pfile } from '../fs/vnode';
import {
  renderBuddyinfo,
  renderMeminfo,
  renderPagetypeinfo,
  renderSlabinfo,
  renderSwaps,
  renderVmallocinfo,
  renderVmstat,
  renderZoneinfo,
} from './views';

/** /proc entries owned by the mm subsystem (merged into the procfs table). */
export function mmProcEntries(k: Kernel): DirTable {
  return {
    meminfo: pfile(() => renderMeminfo(k.mm.stats())),
    vmstat: pfile(() => renderVmstat(k.mm.stats())),
    zoneinfo: pfile(() => renderZoneinfo(k.mm.stats(), k.config.cpus)),
    buddyinfo: pfile(() => renderBuddyinfo(k.mm.stats())),
    pagetypeinfo: pfile(() => renderPagetypeinfo(k.mm.stats()), { mode: 0o400 }),
    slabinfo: pfile(() => renderSlabinfo(k), { mode: 0o400 }),
    vmallocinfo: pfile(() => renderVmallocinfo(k), { mode: 0o400 }),
    swaps: pfile(() => renderSwaps(k)),
  };
}
