/**
 * kernfs building blocks: directories that list in kernfs order (name hash,
 * then name: what readdir and therefore `find` show), attributes that stat as
 * one page, write-only and read-error attributes, symlinks.
 */
import { KernelError } from '../../errors';
import { kernfsOrder } from '../../modules/taint';
import { type DirNode, type DirTable, type FileNode, type FsCtx, type LinkNode, type VNode, plink } from '../vnode';

export type KTable = DirTable;

/** A sysfs directory (0755) whose readdir order is the kernel's. */
export function kdir(table: KTable | ((ctx: FsCtx) => KTable), mode = 0o755): DirNode {
  const get = (ctx: FsCtx): KTable => (typeof table === 'function' ? table(ctx) : table);
  return {
    type: 'dir',
    mode,
    list: (ctx) => kernfsOrder(Object.keys(get(ctx))),
    lookup: (ctx, name): VNode | undefined => {
      const t = get(ctx);
      if (!Object.prototype.hasOwnProperty.call(t, name)) return undefined;
      const e = t[name];
      return typeof e === 'function' ? e() : e;
    },
  };
}

/** A sysfs attribute (stat size 4096). `write` gets the data as written. */
export function attr(render: (ctx: FsCtx) => string, opts: { mode?: number; write?: (data: string, ctx: FsCtx) => void } = {}): FileNode {
  const w = opts.write;
  return {
    type: 'file',
    mode: opts.mode ?? (w ? 0o644 : 0o444),
    read: render,
    write: w ? (ctx, data) => w(data, ctx) : undefined,
    size: () => 4096,
  };
}

/** A constant attribute: the text plus the newline show() adds. */
export const val = (v: string | number): FileNode => attr(() => `${v}\n`);

/** A write-only attribute (uevent of modules, ...): reading fails to open. */
export function wattr(write: (data: string, ctx: FsCtx) => void, mode = 0o200): FileNode {
  return {
    type: 'file',
    mode,
    read: () => {
      throw new KernelError('EACCES');
    },
    write: (ctx, data) => write(data, ctx),
    size: () => 4096,
  };
}

/** An attribute whose show() fails (e.g. autosuspend_delay_ms without runtime PM: EIO). */
export function errattr(code: 'EIO' | 'EINVAL' | 'ENODATA' | 'EOPNOTSUPP', mode = 0o444, write?: (data: string) => void): FileNode {
  return {
    type: 'file',
    mode,
    read: () => {
      throw new KernelError(code);
    },
    write: write ? (_ctx, data) => write(data) : undefined,
    size: () => 4096,
  };
}

export function link(target: string | ((ctx: FsCtx) => string)): LinkNode {
  return plink(target);
}

/** ../ repeated to climb from a directory `depth` levels below /sys. */
export const up = (depth: number): string => '../'.repeat(depth);

/** Relative path from directory `from` (under /sys, no leading slash) to `to`. */
export function rel(from: string, to: string): string {
  const a = from.split('/').filter(Boolean);
  const b = to.split('/').filter(Boolean);
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return up(a.length - i) + b.slice(i).join('/');
}

/** kstrtoul()/kstrtoint() of a sysfs store: one number, an optional trailing newline. */
export function kstrtoul(data: string, base = 10): number {
  const s = data.endsWith('\n') ? data.slice(0, -1) : data;
  const re = base === 10 ? /^\+?\d+$/ : /^(0x)?[0-9a-fA-F]+$/;
  if (!re.test(s)) throw new KernelError('EINVAL');
  const v = base === 10 ? Number(s) : parseInt(s, 16);
  if (!Number.isSafeInteger(v) || v > 2 ** 64 - 1) throw new KernelError('ERANGE');
  return v;
}

export function kstrtoint(data: string): number {
  const s = data.endsWith('\n') ? data.slice(0, -1) : data;
  if (!/^[+-]?\d+$/.test(s)) throw new KernelError('EINVAL');
  const v = Number(s);
  if (v > 2147483647 || v < -2147483648) throw new KernelError('ERANGE');
  return v;
}

/** kstrtobool(): y/Y/1/on, n/N/0/off. */
export function kstrtobool(data: string): boolean {
  const s = data.trim().toLowerCase();
  if (/^(y|1|on)/.test(s) && s !== 'o') return true;
  if (/^(n|0|off)/.test(s)) return false;
  throw new KernelError('EINVAL');
}

/** The power/ directory every device has (runtime PM unsupported). */
export function powerDir(extra: KTable = {}): VNode {
  return kdir({
    ...extra,
    async: val('disabled'),
    autosuspend_delay_ms: errattr('EIO', 0o644, () => {
      throw new KernelError('EIO');
    }),
    control: attr(() => 'auto\n', { write: (d) => void (['on', 'auto'].includes(d.trim()) || throwInval()) }),
    runtime_active_kids: val(0),
    runtime_active_time: val(0),
    runtime_enabled: val('disabled'),
    runtime_status: val('unsupported'),
    runtime_suspended_time: val(0),
    runtime_usage: val(0),
  });
}

function throwInval(): never {
  throw new KernelError('EINVAL');
}

/** A uevent attribute: shows the environment, accepts synthetic events ("add", "change", ...). */
export function uevent(env: () => string[]): FileNode {
  return attr(
    () =>
      env()
        .map((l) => `${l}\n`)
        .join(''),
    {
      write: (d) => {
        const a = d.trim().split(/\s+/)[0];
        if (!['add', 'remove', 'change', 'move', 'online', 'offline', 'bind', 'unbind'].includes(a)) throw new KernelError('EINVAL');
      },
    },
  );
}
