import { followDmesg, isDmesgArgError, parseDmesgArgs, runDmesg } from '../../printk/dmesg';
import { checkSyslogRead } from '../../printk/kmsg';
import { PipeBuf } from '../../shell/io';
import type { Co, ToolCtx, ToolSpec } from '../types';
import { errText } from './common';
import { fsCtxOf, kernelOf } from './utillinux/common';
import { DD_TOOLS } from './utillinux/dd';
import { LSX_TOOLS } from './utillinux/lsx';
import { MOUNT_TOOLS } from './utillinux/mount';
import { SCHEDUTILS_TOOLS } from './utillinux/schedutils';

export { kernelOf } from './utillinux/common';

/**
 * util-linux and friends as Debian 12 ships them: dmesg, lscpu, lsblk,
 * mount, umount, taskset, chrt, renice, nice, sync, dd.
 */

/** how often `dmesg -w` looks for new records (virtual time) */
const FOLLOW_POLL_NS = 200_000_000;

/**
 * dmesg(1): the printk ring through src/kernel/printk/dmesg.ts. -w/-W
 * subscribes to new records and blocks in virtual time, printing them as
 * they come, until interrupted (Ctrl-C).
 */
function* dmesg(ctx: ToolCtx): Co<number> {
  const k = kernelOf(ctx);
  if (!k) {
    ctx.stderr.write('dmesg: read kernel buffer failed: Operation not permitted\n');
    return 1;
  }
  const o = parseDmesgArgs(ctx.argv.slice(1));
  if (isDmesgArgError(o)) {
    ctx.stderr.write(o.error);
    return o.exitCode;
  }
  const fs = fsCtxOf(ctx, k);
  // a pipeline runs its stages one after the other: a reader after `dmesg -w |` only
  // starts once dmesg ends, so following into a pipe prints what there is and stops
  const intoPipe = ctx.stdout instanceof PipeBuf;
  if (!o.follow || o.action !== 'read' || o.method !== 'kmsg' || intoPipe) {
    const r = runDmesg(k, o, fs);
    if (r.stdout) ctx.stdout.write(r.stdout);
    if (r.stderr) ctx.stderr.write(r.stderr);
    return r.exitCode;
  }
  try {
    checkSyslogRead(k, fs);
  } catch (e) {
    ctx.stderr.write(`dmesg: read kernel buffer failed: ${errText(e)}\n`);
    return 1;
  }
  const pending: string[] = [];
  const off = followDmesg(k, o, (text) => void pending.push(text));
  try {
    for (;;) {
      if (pending.length) ctx.stdout.write(pending.splice(0).join(''));
      ctx.tick();
      yield* ctx.sleepUntil(ctx.host.now() + FOLLOW_POLL_NS);
    }
  } finally {
    off();
    if (pending.length) {
      try {
        ctx.stdout.write(pending.splice(0).join(''));
      } catch {
        // the output is gone (interrupted pipeline)
      }
    }
  }
}

export const UTIL_LINUX_TOOLS: ToolSpec[] = [{ name: 'dmesg', run: dmesg }, ...LSX_TOOLS, ...MOUNT_TOOLS, ...SCHEDUTILS_TOOLS, ...DD_TOOLS];
