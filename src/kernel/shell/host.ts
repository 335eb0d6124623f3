import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import type { MemFs, MemInode } from '../fs/memfs';
import { canAccess, type Mount } from '../fs/vfs';
import type { DirNode, FsCtx, VNode } from '../fs/vnode';

/**
 * What the shell and its tools need from the machine they run on. The
 * evaluator and every tool only talk to this interface, so a command can
 * later become a real task of the simulated kernel (k.sched fork/exec/exit)
 * without touching the shell.
 *
 * Every file operation takes the calling process's pid (for /proc/self and
 * credentials) and the cwd a relative path is resolved against. Failures
 * throw KernelError with the errno Linux would return.
 */
export type FileType = 'file' | 'dir' | 'link' | 'chr' | 'blk';

export interface StatInfo {
  type: FileType;
  /** permission bits (0o7777) */
  perm: number;
  ino: number;
  nlink: number;
  uid: number;
  gid: number;
  size: number;
  /** modification time, ns since boot (negative: before boot) */
  mtimeNs: number;
  /** st_dev: the filesystem (mount) number */
  dev: number;
  /** st_rdev of device nodes */
  rdev?: { major: number; minor: number };
}

export interface DirEntryInfo {
  name: string;
  type: FileType;
}

export interface SpawnRequest {
  argv: string[];
  /** exported environment */
  env: Record<string, string>;
  cwd: string;
  /** parent pid (the shell, or a subshell) */
  ppid: number;
  /** true for a fork without exec (subshell, pipeline stage running a builtin) */
  fork?: boolean;
}

export interface ShellHost {
  /** credentials of the session's user */
  readonly uid: number;
  readonly gid: number;

  // ---------------------------------------------------------- processes
  /** Creates a process (fork + exec) and returns its pid. */
  spawn(req: SpawnRequest): number;
  /** The process ended with a wait status (exit code, or 128 + signal). */
  exit(pid: number, status: number): void;
  /** Delivers a signal to a process the shell did not create itself. */
  kill(pid: number, sig: number): void;
  /** Accounts CPU time used by a process (virtual ns). */
  chargeCpu(pid: number, ns: number): void;

  // ---------------------------------------------------------- time
  /** virtual ns since boot */
  now(): number;
  /** wall-clock ms of boot (date = bootEpochMs + now) */
  bootEpochMs(): number;
  /**
   * Lets virtual time reach `ns` (a sleeping command). Returns true when the
   * clock is now at or past `ns`; false when the caller must yield and retry
   * later (a realtime clock that the server moves forward).
   */
  sleepUntil(ns: number): boolean;
  /** deterministic randomness ($RANDOM, mktemp) */
  random(): number;

  // ---------------------------------------------------------- files
  stat(pid: number, path: string, cwd: string, follow?: boolean): StatInfo;
  readFile(pid: number, path: string, cwd: string): string;
  /** O_CREAT|O_WRONLY, O_TRUNC unless append; `create: false` = must exist */
  writeFile(pid: number, path: string, cwd: string, data: string, opts?: { append?: boolean; create?: boolean; mode?: number }): void;
  readdir(pid: number, path: string, cwd: string): DirEntryInfo[];
  mkdir(pid: number, path: string, cwd: string, mode?: number): void;
  rmdir(pid: number, path: string, cwd: string): void;
  unlink(pid: number, path: string, cwd: string): void;
  rename(pid: number, from: string, to: string, cwd: string): void;
  symlink(pid: number, target: string, path: string, cwd: string): void;
  readlink(pid: number, path: string, cwd: string): string;
  /** canonical absolute path with every symlink followed */
  realpath(pid: number, path: string, cwd: string): string;
  /** access(2): want 4 (r), 2 (w), 1 (x) */
  access(pid: number, path: string, cwd: string, want: 4 | 2 | 1): boolean;
  /** sets the modification time of an existing file (touch) */
  touch(pid: number, path: string, cwd: string): void;
}

/** The header of an executable that runs a built-in tool: "\x7fELF kernelab-tool NAME\n". */
export const TOOL_MAGIC = '\x7fELF kernelab-tool ';

export interface KernelShellHostOptions {
  uid?: number;
  gid?: number;
  /**
   * 'manual': a sleeping command moves the kernel clock forward itself
   * (deterministic runs); 'realtime': it waits for the server to move it.
   */
  clock?: 'manual' | 'realtime';
  /** first pid handed out by the interim pid counter */
  firstPid?: number;
}

export interface KernelShellHostState {
  nextPid: number;
  cpuNs: Record<number, number>;
  live: number[];
}

const MEMFS_IDS = ['rootfs', 'devtmpfs', 'tmp', 'run', 'shm'];

/**
 * ShellHost on a Kernel: files go through k.vfs with an FsCtx of the
 * calling pid.
 *
 * INTERIM: pids come from a counter kept here, and process lifetime/CPU
 * time are only recorded here. To be replaced by k.sched's fork/exec/exit
 * API when it lands (spawn -> fork+exec, exit -> exit, kill -> k.sched.kill,
 * chargeCpu -> the task's sum_exec_runtime).
 */
export class KernelShellHost implements ShellHost {
  readonly uid: number;
  readonly gid: number;
  private readonly clock: 'manual' | 'realtime';
  private s: KernelShellHostState;
  /** memfs inode tables read for stat (mtime, nlink), keyed by memfs id */
  private inodeCache = new Map<string, { key: string; inodes: Record<number, MemInode> }>();

  constructor(
    readonly k: Kernel,
    opts: KernelShellHostOptions = {},
  ) {
    this.uid = opts.uid ?? 0;
    this.gid = opts.gid ?? 0;
    this.clock = opts.clock ?? 'manual';
    this.s = { nextPid: opts.firstPid ?? 1000, cpuNs: {}, live: [] };
  }

  getState(): KernelShellHostState {
    return JSON.parse(JSON.stringify(this.s)) as KernelShellHostState;
  }

  setState(s: KernelShellHostState): void {
    this.s = JSON.parse(JSON.stringify(s)) as KernelShellHostState;
  }

  /** CPU time charged to a pid so far (ns). */
  cpuTime(pid: number): number {
    return this.s.cpuNs[pid] ?? 0;
  }

  /** pids spawned and not yet exited */
  livePids(): readonly number[] {
    return this.s.live;
  }

  private ctx(pid: number): FsCtx {
    return { k: this.k, pid, uid: this.uid, gid: this.gid };
  }

  spawn(_req: SpawnRequest): number {
    const pid = this.s.nextPid++;
    // pid_max wraps like the kernel's (4194304 on 64-bit); skip live pids
    if (this.s.nextPid > 4_194_304) this.s.nextPid = 300;
    this.s.live.push(pid);
    return pid;
  }

  exit(pid: number, _status: number): void {
    const i = this.s.live.indexOf(pid);
    if (i >= 0) this.s.live.splice(i, 1);
    delete this.s.cpuNs[pid];
  }

  kill(pid: number, sig: number): void {
    if (this.s.live.includes(pid)) return;
    this.k.sched.kill(pid, sig);
  }

  chargeCpu(pid: number, ns: number): void {
    this.s.cpuNs[pid] = (this.s.cpuNs[pid] ?? 0) + ns;
  }

  now(): number {
    return this.k.now;
  }

  bootEpochMs(): number {
    return this.k.bootEpochMs;
  }

  sleepUntil(ns: number): boolean {
    if (this.k.now >= ns) return true;
    if (this.clock === 'manual') {
      this.k.advanceTo(ns);
      return true;
    }
    return false;
  }

  random(): number {
    return this.k.rng.nextU32();
  }

  // ---------------------------------------------------------- files

  stat(pid: number, path: string, cwd: string, follow = true): StatInfo {
    const ctx = this.ctx(pid);
    const r = this.k.vfs.resolve(ctx, path, { cwd, follow });
    return this.statNode(ctx, r.node, r.mount, r.path);
  }

  private statNode(ctx: FsCtx, node: VNode, mount: Mount, path: string): StatInfo {
    const inode = node.ino !== undefined ? this.memInode(mount, node.ino) : undefined;
    let type: FileType = node.type;
    let rdev: StatInfo['rdev'];
    let size = 0;
    if (node.type === 'file') {
      if (node.dev) {
        type = node.dev.kind === 'c' ? 'chr' : 'blk';
        rdev = { major: node.dev.major, minor: node.dev.minor };
      } else size = node.size?.(ctx) ?? 0;
    } else if (node.type === 'link') size = node.target(ctx).length;
    else if (inode) size = 4096;
    if (node.type === 'dir' && !inode) size = 0;
    if (mount.fstype === 'tmpfs' || mount.fstype === 'devtmpfs' || mount.fstype === 'rootfs') {
      if (node.type === 'dir') size = 40 + 20 * (node.list(ctx).length);
    }
    return {
      type,
      perm: node.mode & 0o7777,
      ino: node.ino ?? pseudoIno(path),
      nlink: inode?.nlink ?? (node.type === 'dir' ? 2 : 1),
      uid: node.uid ?? 0,
      gid: node.gid ?? 0,
      size,
      mtimeNs: inode ? inode.mtimeNs : this.k.now,
      dev: mount.dev,
      rdev,
    };
  }

  /**
   * The memfs inode behind a vnode, for the fields vnodes do not expose
   * (mtime, nlink). Hook wanted: an optional stat() on vnodes would make
   * this read unnecessary.
   */
  private memInode(mount: Mount, ino: number): MemInode | undefined {
    for (const id of MEMFS_IDS) {
      const fs: MemFs | undefined = this.k.memFs(id);
      if (!fs || fs.root() !== mount.root) continue;
      const key = `${this.k.now}:${fs.usedBytes}:${fs.inodeCount}`;
      let c = this.inodeCache.get(id);
      if (!c || c.key !== key) {
        c = { key, inodes: fs.getState().inodes };
        this.inodeCache.set(id, c);
      }
      return c.inodes[ino];
    }
    return undefined;
  }

  private dirty(): void {
    this.inodeCache.clear();
  }

  readFile(pid: number, path: string, cwd: string): string {
    return this.k.vfs.readFile(this.ctx(pid), path, cwd);
  }

  writeFile(pid: number, path: string, cwd: string, data: string, opts: { append?: boolean; create?: boolean; mode?: number } = {}): void {
    this.dirty();
    const ctx = this.ctx(pid);
    const vfs = this.k.vfs;
    let node: VNode | undefined;
    try {
      node = vfs.resolve(ctx, path, { cwd }).node;
    } catch (e) {
      if (!(e instanceof KernelError) || e.code !== 'ENOENT' || opts.create === false) throw e;
    }
    if (!node) {
      const p = vfs.resolveParent(ctx, path, cwd);
      if (!canAccess(ctx, p.dir, 2) || !canAccess(ctx, p.dir, 1)) throw new KernelError('EACCES');
      if (!p.dir.create) throw new KernelError('EACCES');
      node = p.dir.create(ctx, p.name, opts.mode ?? 0o644);
    }
    if (node.type === 'dir') throw new KernelError('EISDIR');
    if (node.type !== 'file') throw new KernelError('EINVAL');
    if (!canAccess(ctx, node, 2) || !node.write) throw new KernelError('EACCES');
    node.write(ctx, data, !!opts.append);
  }

  readdir(pid: number, path: string, cwd: string): DirEntryInfo[] {
    return this.k.vfs.readdir(this.ctx(pid), path, cwd).map((e) => {
      let type: FileType = e.type;
      if (e.type === 'file') {
        try {
          const st = this.stat(pid, joinPath(path, e.name), cwd, false);
          type = st.type;
        } catch {
          // a pseudo entry that vanished between list and lookup
        }
      }
      return { name: e.name, type };
    });
  }

  private parentDir(pid: number, path: string, cwd: string): { dir: DirNode; name: string; mount: Mount; ctx: FsCtx } {
    const ctx = this.ctx(pid);
    const p = this.k.vfs.resolveParent(ctx, path, cwd);
    return { dir: p.dir, name: p.name, mount: p.mount, ctx };
  }

  private exists(ctx: FsCtx, dir: DirNode, name: string): boolean {
    return dir.lookup(ctx, name) !== undefined;
  }

  mkdir(pid: number, path: string, cwd: string, mode = 0o755): void {
    this.dirty();
    const { dir, name, ctx } = this.parentDir(pid, path, cwd);
    if (this.exists(ctx, dir, name)) throw new KernelError('EEXIST');
    if (!canAccess(ctx, dir, 2)) throw new KernelError('EACCES');
    if (!dir.mkdir) throw new KernelError(dir.create ? 'EPERM' : 'ENOENT');
    dir.mkdir(ctx, name, mode);
  }

  rmdir(pid: number, path: string, cwd: string): void {
    this.dirty();
    const { dir, name, ctx } = this.parentDir(pid, path, cwd);
    const child = dir.lookup(ctx, name);
    if (!child) throw new KernelError('ENOENT');
    if (child.type !== 'dir') throw new KernelError('ENOTDIR');
    if (this.k.vfs.list().some((m) => m.root === child)) throw new KernelError('EBUSY');
    if (!canAccess(ctx, dir, 2) || !dir.rmdir) throw new KernelError(dir.rmdir ? 'EACCES' : 'EPERM');
    dir.rmdir(ctx, name);
  }

  unlink(pid: number, path: string, cwd: string): void {
    this.dirty();
    const { dir, name, ctx } = this.parentDir(pid, path, cwd);
    const child = dir.lookup(ctx, name);
    if (!child) throw new KernelError('ENOENT');
    if (child.type === 'dir') throw new KernelError('EISDIR');
    if (!canAccess(ctx, dir, 2) || !dir.unlink) throw new KernelError(dir.unlink ? 'EACCES' : 'EPERM');
    dir.unlink(ctx, name);
  }

  rename(pid: number, from: string, to: string, cwd: string): void {
    this.dirty();
    const a = this.parentDir(pid, from, cwd);
    const b = this.parentDir(pid, to, cwd);
    if (!a.dir.lookup(a.ctx, a.name)) throw new KernelError('ENOENT');
    if (a.mount !== b.mount) throw new KernelError('EXDEV');
    if (!canAccess(a.ctx, a.dir, 2) || !canAccess(b.ctx, b.dir, 2)) throw new KernelError('EACCES');
    if (!a.dir.rename) throw new KernelError('EPERM');
    a.dir.rename(a.ctx, a.name, b.dir, b.name);
  }

  symlink(pid: number, target: string, path: string, cwd: string): void {
    this.dirty();
    const { dir, name, ctx } = this.parentDir(pid, path, cwd);
    if (this.exists(ctx, dir, name)) throw new KernelError('EEXIST');
    if (!canAccess(ctx, dir, 2)) throw new KernelError('EACCES');
    if (!dir.symlink) throw new KernelError('EPERM');
    dir.symlink(ctx, name, target);
  }

  readlink(pid: number, path: string, cwd: string): string {
    const ctx = this.ctx(pid);
    const r = this.k.vfs.resolve(ctx, path, { cwd, follow: false });
    if (r.node.type !== 'link') throw new KernelError('EINVAL');
    return r.node.target(ctx);
  }

  realpath(pid: number, path: string, cwd: string): string {
    return this.k.vfs.resolve(this.ctx(pid), path, { cwd, follow: true }).path;
  }

  access(pid: number, path: string, cwd: string, want: 4 | 2 | 1): boolean {
    const ctx = this.ctx(pid);
    try {
      const r = this.k.vfs.resolve(ctx, path, { cwd });
      return canAccess(ctx, r.node, want);
    } catch {
      return false;
    }
  }

  touch(pid: number, path: string, cwd: string): void {
    this.dirty();
    const ctx = this.ctx(pid);
    const r = this.k.vfs.resolve(ctx, path, { cwd });
    if (r.node.type === 'file' && r.node.write && !r.node.dev && r.node.ino !== undefined) {
      if (!canAccess(ctx, r.node, 2)) throw new KernelError('EACCES');
      r.node.write(ctx, '', true);
    }
    // directories and pseudo files: no settable mtime in the model (a no-op, like touching /proc files)
  }
}

export function joinPath(dir: string, name: string): string {
  if (name.startsWith('/')) return name;
  if (dir === '' || dir === '.') return name;
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}

/** A stable inode number for pseudo files, derived from the path. */
function pseudoIno(path: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < path.length; i++) {
    h ^= path.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return 4026531840 + (h % 100000);
}
