/** /proc/sysrq-trigger: root writes a key; only the first character counts; the kernel.sysrq mask is not checked. */
import type { Kernel } from '../kernel';
import { type DirTable, wofile } from '../fs/vnode';

export function faultsProcEntries(k: Kernel): DirTable {
  return {
    'sysrq-trigger': wofile((ctx, data) => {
      if (!data.length) return;
      k.faults.sysrq(data[0], { checkMask: false, pid: ctx.pid });
    }),
  };
}
