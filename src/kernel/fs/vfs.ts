import { KernelError } from '../errors';
import type { DirNode, FileNode, FsCtx, VNode } from './vnode';

export const PATH_MAX = 4096;
export const NAME_MAX = 255;
const MAX_SYMLINKS = 40;

export interface Mount {
  /** Mount point, absolute and normalised ("/", "/proc", ...). */
  path: string;
  source: string;
  fstype: string;
  options: string;
  root: DirNode;
  /** Filesystem id, for st_dev and cross-device checks. */
  dev: number;
}

export interface Resolved {
  node: VNode;
  /** Canonical absolute path (symlinks followed). */
  path: string;
  mount: Mount;
}

export interface DirEntry {
  name: string;
  type: 'file' | 'dir' | 'link';
  mode: number;
  size: number;
}

/**
 * The VFS: a mount table over filesystems made of vnodes, with Linux's path
 * walk (".", "..", symlinks, mount crossing) and its errno for each failure.
 */
export class Vfs {
  private mounts: Mount[] = [];

  /** Drops every mount (used when a kernel rebuilds its mount table). */
  reset(): void {
    this.mounts = [];
  }

  mount(m: Mount): void {
    this.mounts = this.mounts.filter((x) => x.path !== m.path);
    this.mounts.push(m);
  }

  umount(path: string): Mount {
    const m = this.mounts.find((x) => x.path === path);
    if (!m) throw new KernelError('EINVAL');
    if (this.mounts.some((x) => x !== m && x.path.startsWith(path === '/' ? '/' : path + '/'))) {
      throw new KernelError('EBUSY');
    }
    this.mounts = this.mounts.filter((x) => x !== m);
    return m;
  }

  /** Mounts in mount order (what /proc/mounts lists). */
  list(): readonly Mount[] {
    return this.mounts;
  }

  private mountAt(path: string): Mount | undefined {
    // the latest mount on a path wins
    for (let i = this.mounts.length - 1; i >= 0; i--) if (this.mounts[i].path === path) return this.mounts[i];
    return undefined;
  }

  /** Validates a path the way the kernel's getname() does. */
  static checkPath(path: string): void {
    if (typeof path !== 'string' || path.length === 0) throw new KernelError('ENOENT');
    if (path.includes('\0')) throw new KernelError('EINVAL', 'path contains a NUL byte');
    if (path.length >= PATH_MAX) throw new KernelError('ENAMETOOLONG');
  }

  /**
   * Resolves `path` (absolute, or relative to `cwd`). `follow` follows a final
   * symlink. Intermediate symlinks are always followed.
   */
  resolve(ctx: FsCtx, path: string, opts: { follow?: boolean; cwd?: string } = {}): Resolved {
    Vfs.checkPath(path);
    const follow = opts.follow ?? true;
    const abs = path.startsWith('/') ? path : `${opts.cwd ?? '/'}/${path}`;
    let budget = MAX_SYMLINKS;
    const walk = (p: string, followLast: boolean): Resolved => {
      const parts = p.split('/').filter((x) => x !== '' && x !== '.');
      const stack: string[] = [];
      let mount = this.mountAt('/') as Mount;
      if (!mount) throw new KernelError('ENOENT');
      let node: VNode = mount.root;
      const nodes: { node: VNode; mount: Mount }[] = [];
      for (let i = 0; i < parts.length; i++) {
        const name = parts[i];
        if (name.length > NAME_MAX) throw new KernelError('ENAMETOOLONG');
        if (node.type !== 'dir') throw new KernelError('ENOTDIR');
        if (!canSearch(ctx, node)) throw new KernelError('EACCES');
        if (name === '..') {
          if (stack.length > 0) {
            stack.pop();
            const prev = nodes.pop() as { node: VNode; mount: Mount };
            node = nodes.length > 0 ? nodes[nodes.length - 1].node : (this.mountAt('/') as Mount).root;
            mount = nodes.length > 0 ? nodes[nodes.length - 1].mount : (this.mountAt('/') as Mount);
            void prev;
          }
          continue;
        }
        const child = node.lookup(ctx, name);
        if (!child) throw new KernelError('ENOENT');
        stack.push(name);
        const here = '/' + stack.join('/');
        const m = this.mountAt(here);
        let next: VNode = child;
        let nextMount = mount;
        if (m) {
          next = m.root;
          nextMount = m;
        }
        const last = i === parts.length - 1;
        if (next.type === 'link' && (!last || followLast)) {
          if (--budget < 0) throw new KernelError('ELOOP');
          const target = next.target(ctx);
          const base = '/' + stack.slice(0, -1).join('/');
          const rest = parts.slice(i + 1).join('/');
          const joined = (target.startsWith('/') ? target : `${base}/${target}`) + (rest ? `/${rest}` : '');
          return walk(joined, followLast);
        }
        node = next;
        mount = nextMount;
        nodes.push({ node, mount });
      }
      return { node, path: '/' + stack.join('/'), mount };
    };
    return walk(abs, follow);
  }

  /** Resolves the parent directory of `path` and returns it with the last name. */
  resolveParent(ctx: FsCtx, path: string, cwd?: string): { dir: DirNode; name: string; mount: Mount; path: string } {
    Vfs.checkPath(path);
    const abs = path.startsWith('/') ? path : `${cwd ?? '/'}/${path}`;
    const parts = abs.split('/').filter((x) => x !== '' && x !== '.');
    const name = parts.pop();
    if (name === undefined || name === '..') throw new KernelError('EBUSY');
    const parent = this.resolve(ctx, '/' + parts.join('/'));
    if (parent.node.type !== 'dir') throw new KernelError('ENOTDIR');
    return { dir: parent.node, name, mount: parent.mount, path: parent.path === '/' ? `/${name}` : `${parent.path}/${name}` };
  }

  readFile(ctx: FsCtx, path: string, cwd?: string): string {
    const r = this.resolve(ctx, path, { cwd });
    if (r.node.type === 'dir') throw new KernelError('EISDIR');
    if (r.node.type !== 'file') throw new KernelError('EINVAL');
    if (!canAccess(ctx, r.node, 4)) throw new KernelError('EACCES');
    return r.node.read(ctx);
  }

  /**
   * Writes `data` to `path`, creating a regular file on writable filesystems
   * (O_CREAT), like `echo data > path` or `>>` when `append`.
   */
  writeFile(ctx: FsCtx, path: string, data: string, opts: { append?: boolean; create?: boolean; cwd?: string } = {}): void {
    let node: VNode;
    try {
      node = this.resolve(ctx, path, { cwd: opts.cwd }).node;
    } catch (e) {
      if (!(e instanceof KernelError) || e.code !== 'ENOENT' || opts.create === false) throw e;
      const p = this.resolveParent(ctx, path, opts.cwd);
      if (!p.dir.create) throw new KernelError('EACCES');
      if (!canAccess(ctx, p.dir, 2)) throw new KernelError('EACCES');
      node = p.dir.create(ctx, p.name, 0o644);
    }
    if (node.type === 'dir') throw new KernelError('EISDIR');
    if (node.type !== 'file') throw new KernelError('EINVAL');
    if (!canAccess(ctx, node, 2) || !node.write) throw new KernelError('EACCES');
    node.write(ctx, data, !!opts.append);
  }

  readdir(ctx: FsCtx, path: string, cwd?: string): DirEntry[] {
    const r = this.resolve(ctx, path, { cwd });
    if (r.node.type !== 'dir') throw new KernelError('ENOTDIR');
    if (!canAccess(ctx, r.node, 4)) throw new KernelError('EACCES');
    const dir = r.node;
    const out: DirEntry[] = [];
    for (const name of dir.list(ctx)) {
      let child = dir.lookup(ctx, name);
      const childPath = r.path === '/' ? `/${name}` : `${r.path}/${name}`;
      const m = this.mountAt(childPath);
      if (m) child = m.root;
      if (!child) continue;
      out.push({ name, type: child.type, mode: child.mode, size: child.type === 'file' ? (child.size?.(ctx) ?? 0) : 0 });
    }
    return out;
  }
}

/** rwx check: want is 4 (r), 2 (w) or 1 (x). Root passes r/w always, x if any x bit. */
export function canAccess(ctx: FsCtx, node: VNode, want: 4 | 2 | 1): boolean {
  const mode = node.mode;
  if (ctx.uid === 0) {
    if (want !== 1 || node.type === 'dir') {
      // root may still not write a file the kernel made without any write bit? It may (DAC override),
      // except pseudo files without a write handler, which writeFile rejects separately.
      return true;
    }
    return (mode & 0o111) !== 0;
  }
  let bits: number;
  if (ctx.uid === (node.uid ?? 0)) bits = (mode >> 6) & 7;
  else if (ctx.gid === (node.gid ?? 0)) bits = (mode >> 3) & 7;
  else bits = mode & 7;
  return (bits & want) !== 0;
}

function canSearch(ctx: FsCtx, dir: DirNode): boolean {
  return canAccess(ctx, dir, 1);
}

export type { FileNode };
