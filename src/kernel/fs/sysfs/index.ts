import type { Kernel } from '../../kernel';
import { type DirNode, pdir, pfile } from '../vnode';

/** sysfs: tables of attribute generators. */
export function buildSysfs(k: Kernel): DirNode {
  return pdir({
    kernel: pdir({
      hostname_placeholder: pfile(() => `${k.config.hostname}\n`),
      // mount point of debugfs (sched registers it)
      debug: pdir({}, { mode: 0o700 }),
    }),
    devices: pdir({
      system: pdir({
        cpu: pdir({
          online: pfile(() => (k.config.cpus === 1 ? '0\n' : `0-${k.config.cpus - 1}\n`)),
        }),
      }),
    }),
  });
}
