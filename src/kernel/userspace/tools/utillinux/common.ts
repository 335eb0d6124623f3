import type { Kernel } from '../../../kernel';
import type { FsCtx } from '../../../fs/vnode';
import type { ToolCtx } from '../../types';
import { kernelOf } from '../common';

export { kernelOf };

/** Helpers shared by the util-linux style tools. */


/** The file-operation context of the tool's process. */
export function fsCtxOf(ctx: ToolCtx, k: Kernel): FsCtx {
  return { k, pid: ctx.pid, uid: ctx.host.uid, gid: ctx.host.gid };
}

/**
 * The tool's own pid when it is a task of k.sched (the host runs commands as
 * real tasks); undefined with a host that only counts pids.
 */
export function selfTask(ctx: ToolCtx, k: Kernel): number | undefined {
  const t = k.sched.task(ctx.pid);
  return t && t.state !== 'Z' && t.state !== 'X' ? ctx.pid : undefined;
}

/** lib/cpuset.c cpulist_create(): "0,1", "0-3,5" (runs of 3 or more become ranges). */
export function cpulistCreate(cpus: readonly number[]): string {
  const set = [...new Set(cpus)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < set.length; i++) {
    let j = i;
    while (j + 1 < set.length && set[j + 1] === set[j] + 1) j++;
    const run = j - i;
    if (run === 0) out.push(String(set[i]));
    else if (run === 1) out.push(`${set[i]},${set[j]}`);
    else out.push(`${set[i]}-${set[j]}`);
    i = j;
  }
  return out.join(',');
}

/** lib/cpuset.c cpulist_parse(): "0-3,5", "0-7:2"; null when invalid. */
export function cpulistParse(s: string): number[] | null {
  const out: number[] = [];
  if (s === '') return null;
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part.trim());
    if (!m) return null;
    const a = Number(m[1]);
    const b = m[2] !== undefined ? Number(m[2]) : a;
    const st = m[3] !== undefined ? Number(m[3]) : 1;
    if (b < a || st < 1 || b > 8191) return null;
    for (let c = a; c <= b; c += st) out.push(c);
  }
  return out;
}

/** A hex CPU mask ("3", "0x3", "ff") to CPU numbers; null when invalid. */
export function cpumaskParse(s: string): number[] | null {
  const h = s.replace(/^0[xX]/, '').replace(/,/g, '');
  if (!/^[0-9a-fA-F]+$/.test(h)) return null;
  const out: number[] = [];
  for (let i = 0; i < h.length; i++) {
    const nib = parseInt(h[h.length - 1 - i], 16);
    for (let b = 0; b < 4; b++) if (nib & (1 << b)) out.push(i * 4 + b);
  }
  return out;
}

/** CPU numbers to a hex mask without leading zeros ("3"). */
export function cpumaskCreate(cpus: readonly number[]): string {
  if (cpus.length === 0) return '0';
  const max = Math.max(...cpus);
  const nibs = new Array<number>(Math.floor(max / 4) + 1).fill(0);
  for (const c of cpus) nibs[Math.floor(c / 4)] |= 1 << (c % 4);
  let s = '';
  for (let i = nibs.length - 1; i >= 0; i--) s += nibs[i].toString(16);
  return s.replace(/^0+(?=.)/, '');
}

/**
 * util-linux size_to_human_string(): "8G", "512M", "1.5G", "0B"; with
 * `space3` (SIZE_SUFFIX_SPACE | SIZE_SUFFIX_3LETTER) "64 KiB".
 */
export function sizeToHuman(bytes: number, space3 = false): string {
  const letters = 'BKMGTPE';
  let exp = 0;
  for (let shft = 10; shft <= 60; shft += 10) {
    if (bytes < 2 ** shft) break;
    exp = shft;
  }
  const c = letters[exp ? exp / 10 : 0];
  const unit = 2 ** exp;
  let dec = exp ? Math.floor(bytes / unit) : bytes;
  let frac = exp ? bytes - dec * unit : 0;
  const suffix = (space3 ? ' ' : '') + c + (space3 && c !== 'B' ? 'iB' : '');
  if (frac) {
    frac = Math.floor((frac * 1000) / unit);
    frac = Math.floor((frac + 50) / 100) * 10;
    if (frac === 100) {
      dec++;
      frac = 0;
    }
  }
  if (frac) {
    let s = `${dec}.${String(frac).padStart(2, '0')}`;
    if (s.endsWith('0')) s = s.slice(0, -1);
    return s + suffix;
  }
  return `${dec}${suffix}`;
}

/** The session's locale prints UTF-8 (tree drawing characters). */
export function utf8Locale(ctx: ToolCtx): boolean {
  const l = ctx.env.LC_ALL || ctx.env.LC_CTYPE || ctx.env.LANG || '';
  return /utf-?8/i.test(l);
}

/** Reads a file through the host, trimmed; undefined when unreadable. */
export function readOpt(ctx: ToolCtx, path: string): string | undefined {
  try {
    return ctx.host.readFile(ctx.pid, path, '/').replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

/** Lists a directory through the host; [] when unreadable. */
export function listOpt(ctx: ToolCtx, path: string): string[] {
  try {
    return ctx.host.readdir(ctx.pid, path, '/').map((e) => e.name);
  } catch {
    return [];
  }
}
