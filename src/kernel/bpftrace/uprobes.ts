import type { Kernel } from '../kernel';
import type { UserMemFiring } from './kernel-host';

/** Where bash's readline buffers live (a fake user address per line read). */
const READLINE_BUF = 0x55d0c0de0000n;

/**
 * The uprobe hook of bash's readline(): called by the shell when an
 * interactive line has been read. Fires `uprobe:/bin/bash:readline` and
 * `uretprobe:/bin/bash:readline` (whose retval points at the line, so
 * `str(retval)` reads it). Costs one check when nothing is attached.
 */
export function fireBashReadline(k: Kernel, pid: number, line: string, seq = 0): void {
  if (!k.probes.any) return;
  const addr = READLINE_BUF + BigInt((seq & 0xff) * 0x100);
  const base = (kind: 'uprobe' | 'uretprobe'): UserMemFiring => {
    const t = k.sched.task(pid);
    return {
      kind,
      name: '/bin/bash:readline',
      cpu: t?.cpu ?? 0,
      tid: pid,
      pid: t?.tgid ?? pid,
      comm: t?.comm ?? 'bash',
      nsecs: k.now,
      args: [],
      kstack: [],
      ustack: ['readline+0', 'yy_readline_get+0'],
      retval: kind === 'uretprobe' ? addr : undefined,
      mem: new Map([[addr, line]]),
    };
  };
  k.probes.fire('uprobe', '/bin/bash:readline', () => base('uprobe'));
  k.probes.fire('uretprobe', '/bin/bash:readline', () => base('uretprobe'));
}
