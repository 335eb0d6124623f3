import { KernelError } from '../errors';
import type { DirNode, FileNode, FsCtx, VNode } from './vnode';

/**
 * A writable in-memory filesystem (rootfs, tmpfs). Its whole content is JSON
 * state, so it snapshots and restores exactly.
 */
export interface MemInode {
  ino: number;
  type: 'file' | 'dir' | 'link';
  mode: number;
  uid: number;
  gid: number;
  mtimeNs: number;
  /** file content */
  data?: string;
  /** directory entries name -> ino, kept in insertion order */
  entries?: Record<string, number>;
  /** symlink target */
  target?: string;
  nlink: number;
  /** device numbers for device special files */
  dev?: { kind: 'c' | 'b'; major: number; minor: number };
}

export interface MemFsState {
  nextIno: number;
  inodes: Record<number, MemInode>;
  rootIno: number;
  readOnly: boolean;
  bytes: number;
}

export class MemFs {
  private s: MemFsState;
  /** Cached vnodes per inode, so lookups are cheap; rebuilt after setState. */
  private nodes = new Map<number, VNode>();

  constructor(
    readonly fstype: string,
    private readonly now: () => number,
    opts: { readOnly?: boolean; rootMode?: number; firstIno?: number; maxBytes?: number } = {},
  ) {
    const first = opts.firstIno ?? 1;
    this.maxBytes = opts.maxBytes ?? Number.MAX_SAFE_INTEGER;
    this.s = {
      nextIno: first + 1,
      rootIno: first,
      readOnly: !!opts.readOnly,
      bytes: 0,
      inodes: {
        [first]: {
          ino: first,
          type: 'dir',
          mode: opts.rootMode ?? 0o755,
          uid: 0,
          gid: 0,
          mtimeNs: 0,
          entries: {},
          nlink: 2,
        },
      },
    };
  }

  private readonly maxBytes: number;

  get usedBytes(): number {
    return this.s.bytes;
  }

  /** inodes in use (counted once per change, not per read: the mm reads it on every fork) */
  get inodeCount(): number {
    if (this.countAt !== this.s.nextIno + this.deletes) {
      this.count = Object.keys(this.s.inodes).length;
      this.countAt = this.s.nextIno + this.deletes;
    }
    return this.count;
  }

  private count = 0;
  private countAt = -1;
  /** inodes deleted so far (with nextIno: a version of the inode set) */
  private deletes = 0;

  root(): DirNode {
    return this.node(this.s.rootIno) as DirNode;
  }

  getState(): MemFsState {
    return structuredCloneJson(this.s);
  }

  /** One inode, read-only (stat's mtime and nlink); undefined when it does not exist. */
  inode(ino: number): Readonly<MemInode> | undefined {
    return this.s.inodes[ino];
  }

  setState(s: MemFsState): void {
    this.s = structuredCloneJson(s);
    this.nodes.clear();
    this.countAt = -1;
  }

  /** Host-side helpers used while building the initial tree. */
  mkdirp(path: string, mode = 0o755): number {
    let ino = this.s.rootIno;
    for (const part of path.split('/').filter(Boolean)) {
      const dir = this.s.inodes[ino];
      const next = dir.entries![part];
      if (next === undefined) {
        ino = this.alloc(dir, part, { type: 'dir', mode, entries: {}, nlink: 2 });
      } else ino = next;
    }
    return ino;
  }

  writeFile(path: string, data: string, mode = 0o644): void {
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop() as string;
    const dirIno = this.mkdirp(parts.join('/'));
    const dir = this.s.inodes[dirIno];
    const existing = dir.entries![name];
    if (existing !== undefined) {
      const ino = this.s.inodes[existing];
      this.s.bytes += data.length - (ino.data?.length ?? 0);
      ino.data = data;
      return;
    }
    this.s.bytes += data.length;
    this.alloc(dir, name, { type: 'file', mode, data, nlink: 1 });
  }

  addSymlink(path: string, target: string): void {
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop() as string;
    const dir = this.s.inodes[this.mkdirp(parts.join('/'))];
    this.alloc(dir, name, { type: 'link', mode: 0o777, target, nlink: 1 });
  }

  addDevice(path: string, kind: 'c' | 'b', major: number, minor: number, mode = 0o600): void {
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop() as string;
    const dir = this.s.inodes[this.mkdirp(parts.join('/'))];
    this.alloc(dir, name, { type: 'file', mode, data: '', nlink: 1, dev: { kind, major, minor } });
  }

  private alloc(dir: MemInode, name: string, init: Omit<MemInode, 'ino' | 'uid' | 'gid' | 'mtimeNs'>, uid = 0, gid = 0): number {
    const ino = this.s.nextIno++;
    this.s.inodes[ino] = { ino, uid, gid, mtimeNs: this.now(), ...init };
    dir.entries![name] = ino;
    dir.mtimeNs = this.now();
    if (init.type === 'dir') dir.nlink++;
    return ino;
  }

  private checkWritable(): void {
    if (this.s.readOnly) throw new KernelError('EROFS');
  }

  private node(ino: number): VNode {
    const cached = this.nodes.get(ino);
    if (cached) return cached;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- vnode closures refer to their filesystem
    const fs = this;
    const inode = (): MemInode => {
      const i = fs.s.inodes[ino];
      if (!i) throw new KernelError('ENOENT');
      return i;
    };
    const i0 = inode();
    let n: VNode;
    if (i0.type === 'file') {
      const f: FileNode = {
        type: 'file',
        get mode() {
          return inode().mode;
        },
        get uid() {
          return inode().uid;
        },
        get gid() {
          return inode().gid;
        },
        ino,
        dev: i0.dev,
        read: (ctx) => {
          const i = inode();
          const drv = i.dev && ctx.k.chrdev(i.dev);
          return drv ? drv.read(ctx) : (i.data ?? '');
        },
        write: (ctx, data, append) => {
          const d = inode().dev;
          // device nodes go to their driver (kernel.chrdevs); without one, writes are swallowed
          if (d) return void ctx.k.chrdev(d)?.write?.(ctx, data, append);
          fs.checkWritable();
          const i = inode();
          const next = append ? (i.data ?? '') + data : data;
          const delta = next.length - (i.data?.length ?? 0);
          if (fs.s.bytes + delta > fs.maxBytes) throw new KernelError('ENOSPC');
          fs.s.bytes += delta;
          i.data = next;
          i.mtimeNs = fs.now();
        },
        size: () => inode().data?.length ?? 0,
      };
      n = f;
    } else if (i0.type === 'link') {
      n = { type: 'link', mode: 0o777, ino, target: () => inode().target ?? '' };
    } else {
      const d: DirNode = {
        type: 'dir',
        get mode() {
          return inode().mode;
        },
        get uid() {
          return inode().uid;
        },
        get gid() {
          return inode().gid;
        },
        ino,
        list: () => Object.keys(inode().entries ?? {}),
        lookup: (_ctx, name) => {
          const child = inode().entries?.[name];
          return child === undefined ? undefined : fs.node(child);
        },
        create: (ctx: FsCtx, name, mode) => {
          fs.checkWritable();
          const dir = inode();
          if (dir.entries![name] !== undefined) throw new KernelError('EEXIST');
          const c = fs.alloc(dir, name, { type: 'file', mode, data: '', nlink: 1 }, ctx.uid, ctx.gid);
          return fs.node(c) as FileNode;
        },
        mkdir: (ctx: FsCtx, name, mode) => {
          fs.checkWritable();
          const dir = inode();
          if (dir.entries![name] !== undefined) throw new KernelError('EEXIST');
          const c = fs.alloc(dir, name, { type: 'dir', mode, entries: {}, nlink: 2 }, ctx.uid, ctx.gid);
          return fs.node(c) as DirNode;
        },
        symlink: (ctx: FsCtx, name, target) => {
          fs.checkWritable();
          const dir = inode();
          if (dir.entries![name] !== undefined) throw new KernelError('EEXIST');
          fs.alloc(dir, name, { type: 'link', mode: 0o777, target, nlink: 1 }, ctx.uid, ctx.gid);
        },
        unlink: (_ctx, name) => {
          fs.checkWritable();
          const dir = inode();
          const c = dir.entries![name];
          if (c === undefined) throw new KernelError('ENOENT');
          const child = fs.s.inodes[c];
          if (child.type === 'dir') throw new KernelError('EISDIR');
          fs.s.bytes -= child.data?.length ?? 0;
          delete dir.entries![name];
          delete fs.s.inodes[c];
          fs.deletes++;
          fs.nodes.delete(c);
          dir.mtimeNs = fs.now();
        },
        rmdir: (_ctx, name) => {
          fs.checkWritable();
          const dir = inode();
          const c = dir.entries![name];
          if (c === undefined) throw new KernelError('ENOENT');
          const child = fs.s.inodes[c];
          if (child.type !== 'dir') throw new KernelError('ENOTDIR');
          if (Object.keys(child.entries ?? {}).length > 0) throw new KernelError('ENOTEMPTY');
          delete dir.entries![name];
          delete fs.s.inodes[c];
          fs.deletes++;
          fs.nodes.delete(c);
          dir.nlink--;
          dir.mtimeNs = fs.now();
        },
        rename: (_ctx, name, dst, dstName) => {
          fs.checkWritable();
          const dir = inode();
          const c = dir.entries![name];
          if (c === undefined) throw new KernelError('ENOENT');
          const dstIno = dst.ino;
          const target = dstIno !== undefined ? fs.s.inodes[dstIno] : undefined;
          if (!target || target.type !== 'dir') throw new KernelError('EXDEV');
          const existing = target.entries![dstName];
          if (existing !== undefined && existing !== c) {
            const ex = fs.s.inodes[existing];
            if (ex.type === 'dir') throw new KernelError('EISDIR');
            fs.s.bytes -= ex.data?.length ?? 0;
            delete fs.s.inodes[existing];
            fs.deletes++;
            fs.nodes.delete(existing);
          }
          delete dir.entries![name];
          target.entries![dstName] = c;
        },
      };
      n = d;
    }
    this.nodes.set(ino, n);
    return n;
  }
}

function structuredCloneJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
