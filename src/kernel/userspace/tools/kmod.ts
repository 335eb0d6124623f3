import { insmod, lsmod, modinfo, modprobe, rmmod, type CmdResult } from '../../modules/kmod';
import type { Kernel } from '../../kernel';
import type { ToolCtx, ToolSpec } from '../types';
import { kernelOf } from './common';

/**
 * kmod's commands (Debian installs them as /usr/sbin links to /bin/kmod):
 * front ends of the modules model, running as the calling task.
 */
function kmodTool(name: string, run: (k: Kernel, argv: string[], pid: number) => CmdResult): ToolSpec {
  return {
    name,
    dir: '/usr/sbin',
    run: (ctx: ToolCtx) => {
      const k = kernelOf(ctx);
      if (!k) {
        ctx.stderr.write(`${name}: the kernel is not reachable from this shell\n`);
        return 1;
      }
      const r = run(k, ctx.argv.slice(1), ctx.pid);
      if (r.stdout) ctx.stdout.write(r.stdout);
      if (r.stderr) ctx.stderr.write(r.stderr);
      return r.exitCode;
    },
  };
}

export const KMOD_TOOLS: readonly ToolSpec[] = [
  kmodTool('modprobe', (k, argv, pid) => modprobe(k, argv, { pid })),
  kmodTool('insmod', (k, argv, pid) => insmod(k, argv, { pid })),
  kmodTool('rmmod', (k, argv, pid) => rmmod(k, argv, { pid })),
  kmodTool('lsmod', (k) => lsmod(k)),
  kmodTool('modinfo', (k, argv) => modinfo(k, argv)),
];
