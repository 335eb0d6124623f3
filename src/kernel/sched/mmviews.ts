/**
 * The address fields of /proc/<pid>/stat (start_code .. env_end), taken from
 * the address space mm laid out for the task.
 */
import type { Kernel } from '../kernel';
import type { Proc } from './task';

export interface StatAddresses {
  startCode: number;
  endCode: number;
  startData: number;
  endData: number;
  startBrk: number;
  startStack: number;
  argStart: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
}

const strBytes = (a: readonly string[]): number => a.reduce((n, s) => n + s.length + 1, 0);

export function stackAddresses(k: Kernel, tgid: number, p: Proc): StatAddresses {
  const vmas = k.mm.vmas(tgid) ?? [];
  const sp = k.mm.space(tgid);
  const exe = vmas.filter((v) => v.kind === 'exe');
  const ti = exe.findIndex((v) => v.perm === 'r-xp');
  const text = ti >= 0 ? exe[ti] : undefined;
  const after = ti >= 0 ? exe[ti + 1] : undefined;
  const rw = exe.filter((v) => v.perm === 'rw-p').pop();
  const r = p.aslr >>> 0;
  const startCode = text?.start ?? 0;
  const endCode = text ? text.end - ((r % 0x7f0) & ~7) - 8 : 0;
  const startData = after ? after.start + (((r >>> 4) % 0xf00) & ~7) : 0;
  const endData = rw ? rw.end - (((r >>> 8) % 0xf00) & ~7) - 16 : 0;
  const stack = vmas.find((v) => v.kind === 'stack');
  const top = stack?.end ?? sp?.layout.stackEnd ?? 0;
  const envEnd = top ? top - 8 - (p.exe.length + 1) - 16 : 0;
  const envStart = envEnd - strBytes(p.env);
  const argEnd = envStart;
  const argStart = argEnd - strBytes(p.argv);
  // (no bitwise ops: user addresses exceed 32 bits)
  const startStack = top ? Math.floor((argStart - 0x1c0 - 8 * (p.argv.length + p.env.length) - ((r >>> 12) % 0x100) * 16) / 16) * 16 : 0;
  return {
    startCode,
    endCode,
    startData,
    endData,
    startBrk: sp?.layout.brkStart ?? 0,
    startStack: Math.max(0, startStack),
    argStart: Math.max(0, argStart),
    argEnd: Math.max(0, argEnd),
    envStart: Math.max(0, envStart),
    envEnd: Math.max(0, envEnd),
  };
}
