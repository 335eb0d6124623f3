import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import { canAccess, type DirEntry, type Mount, type Resolved } from '../fs/vfs';
import type { DirNode, FsCtx, VNode } from '../fs/vnode';
import { TaskDeath } from '../faults/contract';
import { O } from '../sched/task';
import type { WaitResult } from '../sched/sched';
import type { SyscallRecord } from '../trace/syscall-record';
import { AT_FDCWD, AT_SYMLINK_NOFOLLOW, FORK_CLONE_FLAGS, SYSCALL_NR } from './nr';

/** The task making a system call, with the credentials file access is checked against. */
export interface Caller {
  pid: number;
  uid: number;
  gid: number;
}

/** the buffer size coreutils reads files with (cat, head, grep: 128 KiB) */
export const READ_CHUNK = 131072;
/** modelled cost of a system call: entry/exit plus a little work (ns) */
const BASE_NS = 300;
/** cost per byte copied to or from user space (ns per 4 bytes) */
const BYTE_SHIFT = 2;
const PATH_COST_NS: Readonly<Record<string, number>> = { openat: 900, newfstatat: 600, execve: 45_000, clone: 25_000, exit_group: 8_000, wait4: 1_200 };

/** fake user-space addresses of the argument buffers (pointers in the registers) */
const USER_STACK = 0x7ffc_0000_0000;
const USER_HEAP = 0x5600_0000_0000;

function stackPtr(pid: number, slot: number): number {
  return USER_STACK + (((pid * 0x9e37) & 0xfffff) << 4) + slot * 0x80;
}

function heapPtr(pid: number, slot: number): number {
  return USER_HEAP + (((pid * 0x45d9) & 0xfffff) << 8) + slot * 0x1000;
}

/** UTF-8 length of a string (bytes a read/write moves) */
export function utf8Len(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 2;
      i++;
    } else n += 2;
  }
  return n;
}

/** the kernel's errno of a failure, as a syscall's negative return value */
function negErrno(e: unknown): number | undefined {
  return e instanceof KernelError ? -e.errno : undefined;
}

/** sizeof(struct linux_dirent64) of a name, 8-byte aligned */
function direntSize(name: string): number {
  return (19 + utf8Len(name) + 1 + 7) & ~7;
}

/**
 * The system call layer of userspace tasks: every file operation of a shell
 * command enters the kernel here. Each call works on the VFS with the
 * caller's credentials, keeps the task's descriptor table (k.sched openFd /
 * closeFd, so /proc/<pid>/fd shows a file while it is open) and I/O counters
 * (/proc/<pid>/io) up to date, and reports a SyscallRecord to k.trace after
 * it ran. Failures throw KernelError with the errno Linux returns; a
 * TaskDeath thrown by the kernel while the call runs (an oops) propagates
 * untouched: the task never returns from that call.
 *
 * Timestamps: calls made while virtual time stands still are laid end to
 * end from k.now with a modelled duration, so a trace shows them in order.
 */
export class Syscalls {
  /** where the next call starts (>= k.now) */
  private cursor = 0;

  constructor(readonly k: Kernel) {}

  /** Where the next reported call starts (a call whose kernel paths are emitted around its record needs it). */
  get nextNs(): number {
    return this.cursor > this.k.now ? this.cursor : this.k.now;
  }

  private ctx(c: Caller): FsCtx {
    return { k: this.k, pid: c.pid, uid: c.uid, gid: c.gid };
  }

  /** Reports a finished call to the tracer. */
  record(pid: number, name: string, args: readonly number[], ret: number, extra: { path?: string; fstype?: string; bytes?: number; durNs?: number; startNs?: number } = {}): void {
    const now = this.k.now;
    const startNs = extra.startNs ?? (this.cursor > now ? this.cursor : now);
    const durNs = extra.durNs ?? (PATH_COST_NS[name] ?? BASE_NS) + ((extra.bytes ?? 0) >> BYTE_SHIFT);
    const rec: SyscallRecord = { name, nr: SYSCALL_NR[name] ?? -1, args, ret, startNs, durNs };
    if (extra.path !== undefined) rec.path = extra.path;
    if (extra.fstype !== undefined) rec.fstype = extra.fstype;
    if (extra.bytes !== undefined) rec.bytes = extra.bytes;
    // (tracing the call may make it longer: rec.durNs then includes the tracer's cost)
    this.k.trace.syscall(pid, rec);
    if (extra.startNs === undefined) this.cursor = startNs + rec.durNs;
  }

  // ------------------------------------------------------------------ descriptors

  /** openat(2) bookkeeping: a descriptor in the task's table (-1 when the caller is no task) */
  private openFd(pid: number, path: string, flags: number): number {
    try {
      return this.k.sched.openFd(pid, path, flags);
    } catch (e) {
      if (e instanceof KernelError && e.code === 'ESRCH') return -1;
      throw e;
    }
  }

  private closeFd(pid: number, fd: number): void {
    if (fd < 0) return;
    try {
      this.k.sched.closeFd(pid, fd);
    } catch {
      // the task died while the file was open: its table is gone already
    }
    this.record(pid, 'close', [fd], 0);
  }

  /** resolves a path for openat; records the failed call */
  private openPath(c: Caller, ctx: FsCtx, path: string, cwd: string, flags: number, mode: number): Resolved {
    try {
      return this.k.vfs.resolve(ctx, path, { cwd });
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(c.pid, 'openat', [AT_FDCWD, stackPtr(c.pid, 0), flags, mode], ret, { path });
      throw e;
    }
  }

  // ------------------------------------------------------------------ files

  /** open + read(s) until EOF + close: the whole content of a file */
  readFile(c: Caller, path: string, cwd: string): string {
    const ctx = this.ctx(c);
    const flags = O.RDONLY;
    const r = this.openPath(c, ctx, path, cwd, flags, 0);
    const fstype = r.mount.fstype;
    const openArgs = [AT_FDCWD, stackPtr(c.pid, 0), flags, 0];
    if (r.node.type !== 'dir' && (r.node.type !== 'file' || !canAccess(ctx, r.node, 4))) {
      const err = new KernelError(r.node.type === 'file' ? 'EACCES' : 'EINVAL');
      this.record(c.pid, 'openat', openArgs, -err.errno, { path, fstype });
      throw err;
    }
    const fd = this.openFd(c.pid, r.path, flags | O.LARGEFILE);
    this.record(c.pid, 'openat', openArgs, fd, { path, fstype });
    const buf = heapPtr(c.pid, 0);
    let ok = false;
    try {
      if (r.node.type === 'dir') {
        const err = new KernelError('EISDIR');
        this.record(c.pid, 'read', [fd, buf, READ_CHUNK], -err.errno, { fstype });
        throw err;
      }
      const node = r.node as Extract<VNode, { type: 'file' }>;
      let data: string;
      try {
        data = node.read(ctx);
      } catch (e) {
        const ret = negErrno(e);
        if (ret !== undefined) this.record(c.pid, 'read', [fd, buf, READ_CHUNK], ret, { fstype });
        throw e;
      }
      const bytes = utf8Len(data);
      // read(fd, buf, 128K) until it returns 0
      let left = bytes;
      let calls = 0;
      for (let n = -1; n !== 0; left -= n) {
        n = left > READ_CHUNK ? READ_CHUNK : left;
        this.record(c.pid, 'read', [fd, buf, READ_CHUNK], n, { fstype, bytes: n });
        calls++;
      }
      this.k.sched.addIo(c.pid, { rchar: bytes, syscr: calls });
      ok = true;
      return data;
    } catch (e) {
      // a task killed in the call never returns to close: its exit does
      ok = !(e instanceof TaskDeath);
      throw e;
    } finally {
      if (ok) this.closeFd(c.pid, fd);
    }
  }

  /** open(O_WRONLY|O_CREAT|O_TRUNC or O_APPEND) + write + close */
  writeFile(c: Caller, path: string, cwd: string, data: string, opts: { append?: boolean; create?: boolean; mode?: number } = {}): void {
    const ctx = this.ctx(c);
    const vfs = this.k.vfs;
    const mode = opts.mode ?? 0o644;
    const flags = O.WRONLY | (opts.create === false ? 0 : O.CREAT) | (opts.append ? O.APPEND : O.TRUNC);
    const openArgs = [AT_FDCWD, stackPtr(c.pid, 0), flags, opts.create === false ? 0 : mode];
    let node: VNode | undefined;
    let mount: Mount | undefined;
    let real = path;
    try {
      try {
        const r = vfs.resolve(ctx, path, { cwd });
        node = r.node;
        mount = r.mount;
        real = r.path;
      } catch (e) {
        if (!(e instanceof KernelError) || e.code !== 'ENOENT' || opts.create === false) throw e;
      }
      if (!node) {
        const p = vfs.resolveParent(ctx, path, cwd);
        mount = p.mount;
        real = p.path;
        if (!canAccess(ctx, p.dir, 2) || !canAccess(ctx, p.dir, 1)) throw new KernelError('EACCES');
        if (!p.dir.create) throw new KernelError('EACCES');
        // the process umask (022, the Debian default) applies to the mode asked for
        node = p.dir.create(ctx, p.name, mode & ~0o022);
      }
      if (node.type === 'dir') throw new KernelError('EISDIR');
      if (node.type !== 'file') throw new KernelError('EINVAL');
      if (!canAccess(ctx, node, 2) || !node.write) throw new KernelError('EACCES');
      // O_TRUNC of a pseudo file acts at open (tracefs: `echo > trace` clears the buffer)
      if (!opts.append && node.ino === undefined) node.truncate?.(ctx);
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(c.pid, 'openat', openArgs, ret, { path, fstype: mount?.fstype });
      throw e;
    }
    const fstype = mount?.fstype;
    const fd = this.openFd(c.pid, real, flags | O.LARGEFILE);
    this.record(c.pid, 'openat', openArgs, fd, { path, fstype });
    let ok = false;
    try {
      const bytes = utf8Len(data);
      const wargs = [fd, heapPtr(c.pid, 1), bytes];
      try {
        // a 0-byte write (or the O_TRUNC of an open) never reaches a pseudo file's handler
        if (data !== '' || node.ino !== undefined) node.write(ctx, data, !!opts.append);
      } catch (e) {
        const ret = negErrno(e);
        if (ret !== undefined) this.record(c.pid, 'write', wargs, ret, { fstype });
        throw e;
      }
      if (bytes > 0 || !opts.append) this.record(c.pid, 'write', wargs, bytes, { fstype, bytes });
      this.k.sched.addIo(c.pid, { wchar: bytes, syscw: 1 });
      ok = true;
    } catch (e) {
      ok = !(e instanceof TaskDeath);
      throw e;
    } finally {
      if (ok) this.closeFd(c.pid, fd);
    }
  }

  /** newfstatat(AT_FDCWD, path, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) */
  stat(c: Caller, path: string, cwd: string, follow = true): Resolved {
    const args = [AT_FDCWD, stackPtr(c.pid, 0), stackPtr(c.pid, 4), follow ? 0 : AT_SYMLINK_NOFOLLOW];
    try {
      const r = this.k.vfs.resolve(this.ctx(c), path, { cwd, follow });
      this.record(c.pid, 'newfstatat', args, 0, { path, fstype: r.mount.fstype });
      return r;
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(c.pid, 'newfstatat', args, ret, { path });
      throw e;
    }
  }

  /** opendir + getdents64 until empty + closedir */
  readdir(c: Caller, path: string, cwd: string): DirEntry[] {
    const ctx = this.ctx(c);
    const flags = O.RDONLY | O.NONBLOCK | O.CLOEXEC | O.DIRECTORY;
    const openArgs = [AT_FDCWD, stackPtr(c.pid, 0), flags, 0];
    const r = this.openPath(c, ctx, path, cwd, flags, 0);
    const fstype = r.mount.fstype;
    if (r.node.type !== 'dir' || !canAccess(ctx, r.node, 4)) {
      const err = new KernelError(r.node.type !== 'dir' ? 'ENOTDIR' : 'EACCES');
      this.record(c.pid, 'openat', openArgs, -err.errno, { path, fstype });
      throw err;
    }
    // the entries are read as the directory is opened: a listing of the
    // caller's own /proc/self/fd does not show the descriptor it reads with
    // (ls stats every entry it lists, after the directory is closed again)
    const out = this.list(ctx, r);
    const fd = this.openFd(c.pid, r.path, flags | O.LARGEFILE);
    this.record(c.pid, 'openat', openArgs, fd, { path, fstype });
    let ok = false;
    try {
      let bytes = 0;
      for (const e of out) bytes += direntSize(e.name);
      // "." and ".."
      bytes += 48;
      const args = [fd, heapPtr(c.pid, 2), 32768];
      let left = bytes;
      while (left > 0) {
        const n = left > 32768 ? 32768 : left;
        this.record(c.pid, 'getdents64', args, n, { fstype, bytes: n });
        left -= n;
      }
      this.record(c.pid, 'getdents64', args, 0, { fstype, bytes: 0 });
      ok = true;
      return out;
    } catch (e) {
      ok = !(e instanceof TaskDeath);
      throw e;
    } finally {
      if (ok) this.closeFd(c.pid, fd);
    }
  }

  private list(ctx: FsCtx, r: Resolved): DirEntry[] {
    const dir = r.node as DirNode;
    const mounts = this.k.vfs.list();
    const out: DirEntry[] = [];
    for (const name of dir.list(ctx)) {
      let child = dir.lookup(ctx, name);
      const childPath = r.path === '/' ? `/${name}` : `${r.path}/${name}`;
      for (let i = mounts.length - 1; i >= 0; i--) {
        if (mounts[i].path === childPath) {
          child = mounts[i].root;
          break;
        }
      }
      if (!child) continue;
      out.push({ name, type: child.type, mode: child.mode, size: child.type === 'file' ? (child.size?.(ctx) ?? 0) : 0 });
    }
    return out;
  }

  /** a path call on the parent directory of `path` (mkdirat, unlinkat, symlinkat, ...) */
  private atParent<T>(c: Caller, name: string, args: readonly number[], path: string, cwd: string, fn: (ctx: FsCtx, dir: DirNode, base: string, mount: Mount) => T): T {
    const ctx = this.ctx(c);
    let mount: Mount | undefined;
    try {
      const p = this.k.vfs.resolveParent(ctx, path, cwd);
      mount = p.mount;
      const v = fn(ctx, p.dir, p.name, p.mount);
      this.record(c.pid, name, args, 0, { path, fstype: mount.fstype });
      return v;
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(c.pid, name, args, ret, { path, fstype: mount?.fstype });
      throw e;
    }
  }

  mkdir(c: Caller, path: string, cwd: string, mode = 0o755): void {
    this.atParent(c, 'mkdirat', [AT_FDCWD, stackPtr(c.pid, 0), mode], path, cwd, (ctx, dir, name) => {
      if (dir.lookup(ctx, name) !== undefined) throw new KernelError('EEXIST');
      if (!canAccess(ctx, dir, 2)) throw new KernelError('EACCES');
      if (!dir.mkdir) throw new KernelError(dir.create ? 'EPERM' : 'ENOENT');
      dir.mkdir(ctx, name, mode);
    });
  }

  rmdir(c: Caller, path: string, cwd: string): void {
    this.atParent(c, 'rmdir', [stackPtr(c.pid, 0)], path, cwd, (ctx, dir, name) => {
      const child = dir.lookup(ctx, name);
      if (!child) throw new KernelError('ENOENT');
      if (child.type !== 'dir') throw new KernelError('ENOTDIR');
      if (this.k.vfs.list().some((m) => m.root === child)) throw new KernelError('EBUSY');
      if (!canAccess(ctx, dir, 2) || !dir.rmdir) throw new KernelError(dir.rmdir ? 'EACCES' : 'EPERM');
      dir.rmdir(ctx, name);
    });
  }

  unlink(c: Caller, path: string, cwd: string): void {
    this.atParent(c, 'unlinkat', [AT_FDCWD, stackPtr(c.pid, 0), 0], path, cwd, (ctx, dir, name) => {
      const child = dir.lookup(ctx, name);
      if (!child) throw new KernelError('ENOENT');
      if (child.type === 'dir') throw new KernelError('EISDIR');
      if (!canAccess(ctx, dir, 2) || !dir.unlink) throw new KernelError(dir.unlink ? 'EACCES' : 'EPERM');
      dir.unlink(ctx, name);
    });
  }

  rename(c: Caller, from: string, to: string, cwd: string): void {
    const ctx = this.ctx(c);
    const args = [AT_FDCWD, stackPtr(c.pid, 0), AT_FDCWD, stackPtr(c.pid, 1), 0];
    let fstype: string | undefined;
    try {
      const a = this.k.vfs.resolveParent(ctx, from, cwd);
      const b = this.k.vfs.resolveParent(ctx, to, cwd);
      fstype = a.mount.fstype;
      if (!a.dir.lookup(ctx, a.name)) throw new KernelError('ENOENT');
      if (a.mount !== b.mount) throw new KernelError('EXDEV');
      if (!canAccess(ctx, a.dir, 2) || !canAccess(ctx, b.dir, 2)) throw new KernelError('EACCES');
      if (!a.dir.rename) throw new KernelError('EPERM');
      a.dir.rename(ctx, a.name, b.dir, b.name);
      this.record(c.pid, 'renameat2', args, 0, { path: from, fstype });
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(c.pid, 'renameat2', args, ret, { path: from, fstype });
      throw e;
    }
  }

  symlink(c: Caller, target: string, path: string, cwd: string): void {
    this.atParent(c, 'symlinkat', [stackPtr(c.pid, 1), AT_FDCWD, stackPtr(c.pid, 0)], path, cwd, (ctx, dir, name) => {
      if (dir.lookup(ctx, name) !== undefined) throw new KernelError('EEXIST');
      if (!canAccess(ctx, dir, 2)) throw new KernelError('EACCES');
      if (!dir.symlink) throw new KernelError('EPERM');
      dir.symlink(ctx, name, target);
    });
  }

  readlink(c: Caller, path: string, cwd: string): string {
    const ctx = this.ctx(c);
    const args = [AT_FDCWD, stackPtr(c.pid, 0), heapPtr(c.pid, 3), 4096];
    let fstype: string | undefined;
    try {
      const r = this.k.vfs.resolve(ctx, path, { cwd, follow: false });
      fstype = r.mount.fstype;
      if (r.node.type !== 'link') throw new KernelError('EINVAL');
      const t = r.node.target(ctx);
      const n = utf8Len(t);
      this.record(c.pid, 'readlinkat', args, n, { path, fstype, bytes: n });
      return t;
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(c.pid, 'readlinkat', args, ret, { path, fstype });
      throw e;
    }
  }

  /** faccessat2(AT_FDCWD, path, mode, 0): false on any failure */
  access(c: Caller, path: string, cwd: string, want: 4 | 2 | 1): boolean {
    const ctx = this.ctx(c);
    const args = [AT_FDCWD, stackPtr(c.pid, 0), want, 0];
    let fstype: string | undefined;
    let ret: number;
    try {
      const r = this.k.vfs.resolve(ctx, path, { cwd });
      fstype = r.mount.fstype;
      ret = canAccess(ctx, r.node, want) ? 0 : -13;
    } catch (e) {
      const n = negErrno(e);
      if (n === undefined) throw e;
      ret = n;
    }
    this.record(c.pid, 'faccessat2', args, ret, { path, fstype });
    return ret === 0;
  }

  /** utimensat(AT_FDCWD, path, NULL, 0): sets the modification time of a regular file */
  touch(c: Caller, path: string, cwd: string): void {
    const ctx = this.ctx(c);
    const args = [AT_FDCWD, stackPtr(c.pid, 0), 0, 0];
    let fstype: string | undefined;
    try {
      const r = this.k.vfs.resolve(ctx, path, { cwd });
      fstype = r.mount.fstype;
      if (r.node.type === 'file' && r.node.write && !r.node.dev && r.node.ino !== undefined) {
        if (!canAccess(ctx, r.node, 2)) throw new KernelError('EACCES');
        r.node.write(ctx, '', true);
      }
      // directories and pseudo files: no settable mtime in the model (a no-op, like touching /proc files)
      this.record(c.pid, 'utimensat', args, 0, { path, fstype });
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(c.pid, 'utimensat', args, ret, { path, fstype });
      throw e;
    }
  }

  // ------------------------------------------------------------------ processes

  /** fork(): clone(SIGCHLD) of `pid`; returns the child's pid (EAGAIN past the limits) */
  fork(pid: number): number {
    const args = [FORK_CLONE_FLAGS, 0, 0, stackPtr(pid, 8), 0];
    let child: number;
    try {
      child = this.k.sched.fork(pid);
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(pid, 'clone', args, ret);
      throw e;
    }
    this.record(pid, 'clone', args, child);
    return child;
  }

  /** execve(path, argv, envp) in `pid` (a forked child) */
  execve(pid: number, path: string, argv: string[], env: string[]): void {
    const args = [stackPtr(pid, 0), heapPtr(pid, 4), heapPtr(pid, 5)];
    try {
      this.k.sched.exec(pid, path, argv, env);
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(pid, 'execve', args, ret, { path });
      throw e;
    }
    this.record(pid, 'execve', args, 0, { path });
  }

  /** exit_group(code): the call never returns; reported as it enters */
  exitGroup(pid: number, code: number): void {
    this.record(pid, 'exit_group', [code & 0xff], 0);
    this.k.sched.exit(pid, code, { group: true });
  }

  /** wait4(child, &status, 0, NULL) by `parent`: reaps a zombie child (null when it still runs) */
  wait4(parent: number, child: number): WaitResult | null {
    const args = [child, stackPtr(parent, 6), 0, 0];
    let r: WaitResult | null;
    try {
      r = this.k.sched.wait(parent, child);
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(parent, 'wait4', args, ret);
      throw e;
    }
    if (r) this.record(parent, 'wait4', args, r.pid);
    return r;
  }

  /** kill(pid, sig) sent by `from` */
  kill(from: number, uid: number, pid: number, sig: number): void {
    const args = [pid, sig];
    try {
      this.k.sched.kill(pid, sig, { uid, from });
    } catch (e) {
      const ret = negErrno(e);
      if (ret !== undefined) this.record(from, 'kill', args, ret);
      throw e;
    }
    this.record(from, 'kill', args, 0);
  }

  /** nanosleep(&req, NULL) that slept from `startNs` to `endNs` (reported once it returned) */
  nanosleep(pid: number, startNs: number, endNs: number): void {
    this.record(pid, 'nanosleep', [stackPtr(pid, 2), 0], 0, { startNs, durNs: Math.max(0, endNs - startNs) });
  }
}
