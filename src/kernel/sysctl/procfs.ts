/**
 * /proc/sys as vnodes, and the views of the knob table for the shell and
 * REST: `sysctl -a` (procps) and a typed JSON form.
 */
import { KernelError, isKernelError } from '../errors';
import type { Kernel } from '../kernel';
import { type DirNode, type DirTable, type FsCtx, type VNode } from '../fs/vnode';
import { checkPerm } from './sysctl';

/** /proc entries owned by the sysctl subsystem (merged into the procfs table). */
export function sysctlProcEntries(k: Kernel): DirTable {
  return { sys: () => sysDir(k, '') };
}

/** A /proc/sys directory (mode 0555; ls shows dr-xr-xr-x). */
export function sysDir(k: Kernel, dir: string): DirNode {
  return {
    type: 'dir',
    mode: 0o555,
    list: () => (k.sysctl.list(dir) ?? []).map(([n]) => n),
    lookup: (_ctx, name): VNode | undefined => {
      const kids = k.sysctl.list(dir);
      const e = kids?.find(([n]) => n === name);
      if (!e) return undefined;
      const path = dir ? `${dir}/${name}` : name;
      if (e[1]) return sysDir(k, path);
      return sysFile(k, path);
    },
  };
}

function sysFile(k: Kernel, path: string): VNode {
  const mode = k.sysctl.mode(path);
  return {
    type: 'file',
    mode,
    read: (ctx: FsCtx) => k.sysctl.read(path, ctx),
    write: (ctx: FsCtx, data: string) => k.sysctl.write(path, data, ctx),
    size: () => 0,
  };
}

/** procps' deprecated keys: left out of `sysctl -a` (shown with --deprecated). */
const DEPRECATED = new Set(['base_reachable_time', 'retrans_time']);

/** Output of `sysctl -a` (and `-N` for names only) as procps 4 prints it; unreadable knobs are left out. */
export function renderSysctlA(k: Kernel, opts: { ctx?: FsCtx; namesOnly?: boolean; prefix?: string } = {}): string {
  const ctx = opts.ctx ?? k.rootCtx();
  let out = '';
  for (const path of k.sysctl.names()) {
    const name = path.replace(/\//g, '.');
    if (opts.prefix && !(name === opts.prefix || name.startsWith(opts.prefix + '.'))) continue;
    if (DEPRECATED.has(path.slice(path.lastIndexOf('/') + 1))) continue;
    const mode = k.sysctl.mode(path);
    // write-only entries are skipped before reading
    if ((mode & 0o444) === 0) continue;
    if (opts.namesOnly) {
      out += `${name}\n`;
      continue;
    }
    let content: string;
    try {
      content = k.sysctl.read(path, ctx);
    } catch (e) {
      if (isKernelError(e)) continue;
      throw e;
    }
    // an empty read prints nothing; procps prints the value up to the newline
    if (content === '') continue;
    out += `${name} = ${content.replace(/\n$/, '')}\n`;
  }
  return out;
}

export type SysctlJsonValue = number | string | (number | string)[] | null;

/**
 * Knobs under `prefix` (dotted or slashed, "" for all) as typed JSON: numbers
 * for numeric knobs (strings past 2^53), arrays for vectors, strings
 * otherwise; null for knobs that cannot be read (write-only, read errors).
 */
export function sysctlJson(k: Kernel, prefix = '', ctx?: FsCtx): Record<string, SysctlJsonValue> {
  const pre = prefix.replace(/\./g, '/').replace(/^\/+|\/+$/g, '');
  const out: Record<string, SysctlJsonValue> = {};
  const c = ctx ?? k.rootCtx();
  let any = false;
  for (const path of k.sysctl.names()) {
    if (pre && !(path === pre || path.startsWith(pre + '/'))) continue;
    any = true;
    const name = path.replace(/\//g, '.');
    const ref = k.sysctl.ref(path);
    if (!ref) continue;
    let v: string;
    try {
      checkPerm(c, ref.mode, 4);
      v = k.sysctl.value(path, c);
    } catch (e) {
      if (!isKernelError(e)) throw e;
      out[name] = null;
      continue;
    }
    const numeric = ref.knob.t !== 'str' && /^-?\d+(\t-?\d+)*$/.test(v);
    if (!numeric) {
      out[name] = v;
      continue;
    }
    const nums = v.split('\t').map((x) => (Number.isSafeInteger(Number(x)) ? Number(x) : x));
    out[name] = nums.length === 1 ? nums[0] : nums;
  }
  if (pre && !any) throw new KernelError('ENOENT', `no sysctl ${prefix}`);
  return out;
}
