import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import { LINUX_BANNER, PAGE_SIZE } from '../../types';
import { padL } from '../../util/format';
import { type DirNode, type DirTable, type FsCtx, pdir, pfile, plink } from '../vnode';
import { mmProcEntries } from '../../mm/procfs';
import { withLabProcFiles } from '../../modules/lab-fs';
import { modulesProcEntries } from '../../modules/views';
import { printkProcEntries } from '../../printk/procfs';
import { procRootWithPids, schedProcEntries } from '../../sched/procfs';
import { sysctlProcEntries } from '../../sysctl/procfs';
import { staticProcEntries } from './static';
import { faultsProcEntries } from '../../faults/procfs';
import { netProcEntries } from '../../net/procfs';

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
    ...staticProcEntries(k),
    ...mmProcEntries(k),
    ...schedProcEntries(k),
    ...printkProcEntries(k),
    ...sysctlProcEntries(k),
    ...modulesProcEntries(k),
    ...faultsProcEntries(k),
    ...netProcEntries(k),
  };
  return procRootWithPids(k, withLabProcFiles(k, pdir(table)));
}

/** LOAD_INT/LOAD_FRAC of a FIXED_1 (2048) fixed-point load value. */
export function fixedToStr(x: number): string {
  const FIXED_1 = 1 << 11;
  const loadInt = Math.floor(x / FIXED_1);
  const loadFrac = Math.floor(((x & (FIXED_1 - 1)) * 100 + FIXED_1 / 2) / FIXED_1);
  void KernelError;
  return `${loadInt}.${String(loadFrac).padStart(2, '0')}`;
}
