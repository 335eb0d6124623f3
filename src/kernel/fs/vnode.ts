import { KernelError } from '../errors';
import type { Kernel } from '../kernel';

/** Who is doing the file operation: the kernel and the calling task. */
export interface FsCtx {
  k: Kernel;
  /** Calling task's pid (resolves /proc/self); 0 for the kernel itself. */
  pid: number;
  uid: number;
  gid: number;
}

interface NodeBase {
  /** Permission bits (e.g. 0o644). The file type is `type`. */
  mode: number;
  uid?: number;
  gid?: number;
  /** Stable inode number where the filesystem has one. */
  ino?: number;
}

export interface FileNode extends NodeBase {
  type: 'file';
  /** seq_file style: render the whole content from state at read time. */
  read(ctx: FsCtx): string;
  /** Absent => EACCES for non-root, EIO never; mode decides. */
  write?(ctx: FsCtx, data: string, append: boolean): void;
  /** An open with O_TRUNC of a pseudo file (tracefs lists and buffers clear on it; may fail, e.g. EBUSY). */
  truncate?(ctx: FsCtx): void;
  /** Size reported by stat; pseudo files report 0 like the kernel. */
  size?(ctx: FsCtx): number;
  /** Character/block device numbers, when the node is a device. */
  dev?: { kind: 'c' | 'b'; major: number; minor: number };
}

export interface DirNode extends NodeBase {
  type: 'dir';
  list(ctx: FsCtx): string[];
  lookup(ctx: FsCtx, name: string): VNode | undefined;
  /** Writable filesystems implement these. */
  create?(ctx: FsCtx, name: string, mode: number): FileNode;
  mkdir?(ctx: FsCtx, name: string, mode: number): DirNode;
  symlink?(ctx: FsCtx, name: string, target: string): void;
  unlink?(ctx: FsCtx, name: string): void;
  rmdir?(ctx: FsCtx, name: string): void;
  /** Moves `name` to `dst`/`dstName`; both within one filesystem. */
  rename?(ctx: FsCtx, name: string, dst: DirNode, dstName: string): void;
}

export interface LinkNode extends NodeBase {
  type: 'link';
  target(ctx: FsCtx): string;
}

export type VNode = FileNode | DirNode | LinkNode;

/** A pseudo file rendered by `render`, writable through `write` if given. */
export function pfile(
  render: (ctx: FsCtx) => string,
  opts: { mode?: number; write?: FileNode['write']; truncate?: FileNode['truncate'] } = {},
): FileNode {
  return {
    type: 'file',
    mode: opts.mode ?? (opts.write ? 0o644 : 0o444),
    read: render,
    write: opts.write,
    ...(opts.truncate ? { truncate: opts.truncate } : {}),
    size: () => 0,
  };
}

/** A write-only pseudo file (e.g. /proc/sysrq-trigger, drop_caches is 0644). */
export function wofile(write: NonNullable<FileNode['write']>, mode = 0o200): FileNode {
  return {
    type: 'file',
    mode,
    read: () => {
      throw new KernelError('EACCES');
    },
    write,
    size: () => 0,
  };
}

export type DirTable = Record<string, VNode | (() => VNode)>;

/**
 * A pseudo directory from a table of entries (evaluated lazily when an entry
 * is a thunk), optionally merged with dynamic entries.
 */
export function pdir(
  table: DirTable | ((ctx: FsCtx) => DirTable),
  opts: { mode?: number } = {},
): DirNode {
  const get = (ctx: FsCtx): DirTable => (typeof table === 'function' ? table(ctx) : table);
  return {
    type: 'dir',
    mode: opts.mode ?? 0o555,
    list: (ctx) => Object.keys(get(ctx)),
    lookup: (ctx, name) => {
      const t = get(ctx);
      if (!Object.prototype.hasOwnProperty.call(t, name)) return undefined;
      const e = t[name];
      return typeof e === 'function' ? e() : e;
    },
  };
}

export function plink(target: string | ((ctx: FsCtx) => string)): LinkNode {
  return {
    type: 'link',
    mode: 0o777,
    target: typeof target === 'function' ? target : () => target,
  };
}
