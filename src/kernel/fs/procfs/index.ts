import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import { LINUX_BANNER, PAGE_SIZE } from '../../types';
import { padL } from '../../util/format';
import { type DirNode, type DirTable, type FsCtx, type VNode, pdir, pfile, plink } from '../vnode';
import { mmProcEntries } from '../../mm/procfs';
import { modulesProcEntries } from '../../modules/views';
import { printkProcEntries } from '../../printk/procfs';
import { procRootWithPids, schedProcEntries } from '../../sched/procfs';
import { sysctlProcEntries } from '../../sysctl/procfs';

/**
 * procfs: a table of generators, name -> render(state), like the kernel's
 * seq_files. Every file is rendered from the model at read time.
 */
export function buildProcfs(k: Kernel): DirNode {
  const kb = (pages: number): string => `${padL(Math.floor((pages * PAGE_SIZE) / 1024), 8)} kB`;
  const table: DirTable = {
    version: pfile(() => `${LINUX_BANNER}\n`),
    cmdline: pfile(() => 'console=ttyS0 panic=-1\n'),
    meminfo: pfile(() => `MemTotal:       ${kb(k.mm.totalPages)}\nMemFree:        ${kb(k.mm.freePages)}\n`),
    uptime: pfile(() => {
      const up = k.now / 1e9;
      const idle = up * k.config.cpus;
      return `${up.toFixed(2)} ${idle.toFixed(2)}\n`;
    }),
    loadavg: pfile(() => {
      const a = k.sched.avenrun.map((v) => fixedToStr(v));
      return `${a.join(' ')} 1/1 1\n`;
    }),
    mounts: pfile(() =>
      k.vfs
        .list()
        .map((m) => `${m.source} ${m.path} ${m.fstype} ${m.options} 0 0\n`)
        .join(''),
    ),
    self: plink((ctx: FsCtx) => String(ctx.pid)),
    sys: () => sysDir(k, ''),
    ...mmProcEntries(k),
    ...schedProcEntries(k),
    ...printkProcEntries(k),
    ...sysctlProcEntries(k),
    ...modulesProcEntries(k),
  };
  return procRootWithPids(k, pdir(table));
}

function sysDir(k: Kernel, prefix: string): DirNode {
  const children = (): Map<string, 'dir' | 'file'> => {
    const out = new Map<string, 'dir' | 'file'>();
    for (const name of k.sysctl.names()) {
      if (prefix && !name.startsWith(prefix + '/')) continue;
      const rest = prefix ? name.slice(prefix.length + 1) : name;
      const i = rest.indexOf('/');
      if (i < 0) out.set(rest, 'file');
      else out.set(rest.slice(0, i), 'dir');
    }
    return out;
  };
  return {
    type: 'dir',
    mode: 0o555,
    list: () => [...children().keys()].sort(),
    lookup: (_ctx, name): VNode | undefined => {
      const kind = children().get(name);
      const full = prefix ? `${prefix}/${name}` : name;
      if (kind === 'dir') return sysDir(k, full);
      if (kind === 'file') {
        return {
          type: 'file',
          mode: k.sysctl.mode(full),
          read: () => `${k.sysctl.get(full)}\n`,
          write: (_c, data) => k.sysctl.set(full, data),
          size: () => 0,
        };
      }
      return undefined;
    },
  };
}

/** LOAD_INT/LOAD_FRAC of a FIXED_1 (2048) fixed-point load value. */
export function fixedToStr(x: number): string {
  const FIXED_1 = 1 << 11;
  const loadInt = Math.floor(x / FIXED_1);
  const loadFrac = Math.floor(((x & (FIXED_1 - 1)) * 100 + FIXED_1 / 2) / FIXED_1);
  void KernelError;
  return `${loadInt}.${String(loadFrac).padStart(2, '0')}`;
}
