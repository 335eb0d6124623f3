import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import type { MemFs, MemInode } from '../fs/memfs';
import type { Mount } from '../fs/vfs';
import type { FsCtx, VNode } from '../fs/vnode';
import { O, RLIMIT_NOFILE } from '../sched/task';
import { FORK_CLONE_FLAGS } from '../syscalls/nr';
import { Syscalls, type Caller } from '../syscalls/syscalls';

/**
 * What the shell and its tools need from the machine they run on. The
 * evaluator and every tool only talk to this interface; on a Kernel
 * (KernelShellHost) every command is a task of k.sched and every file
 * operation a system call of that task.
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
  /** the executable to exec (default argv[0]); relative paths are taken from cwd */
  path?: string;
  /** the session's shell itself: its parent, terminal and session come from the host */
  session?: boolean;
}

export interface ShellHost {
  /** credentials of the session's user */
  readonly uid: number;
  readonly gid: number;

  // ---------------------------------------------------------- processes
  /**
   * Creates a process: fork + exec, or a fork only (`fork: true`). Returns
   * its pid. Throws KernelError (EAGAIN past pid_max, threads-max or
   * RLIMIT_NPROC) when no process can be created.
   */
  spawn(req: SpawnRequest): number;
  /** execve() in an existing process (a forked child running a command in place). */
  exec(pid: number, req: SpawnRequest): void;
  /**
   * The process ended with a wait status (exit code, or 128 + signal) and is
   * reaped by its parent. `signal`: it was killed by that signal.
   */
  exit(pid: number, status: number, signal?: number): void;
  /** Delivers a signal to a process the shell did not create itself (`from`: the sender). */
  kill(pid: number, sig: number, from?: number): void;
  /** Accounts CPU time used by a process (virtual ns). */
  chargeCpu(pid: number, ns: number): void;
  /**
   * Makes a restored shell process (a snapshot's) this host's own; the
   * process it replaces (`replacing`, if this host created it) exits.
   */
  adopt(pid: number, replacing?: number): void;
  /** getrlimit(): [soft, hard] of RLIMIT_* `resource`, -1 = unlimited */
  getRlimit(pid: number, resource: number): [number, number];
  /** setrlimit(): EPERM when raising the hard limit without privilege, EINVAL when soft > hard */
  setRlimit(pid: number, resource: number, soft: number, hard: number): void;

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
  /** A process slept (nanosleep) from `startNs` to `endNs`. */
  slept(pid: number, startNs: number, endNs: number): void;
  /** true once the machine has stopped running tasks (a kernel panic): executions end at their next step */
  halted?(): boolean;
  /** deterministic randomness ($RANDOM, mktemp) */
  random(): number;

  // ---------------------------------------------------------- files
  /** the content of an executable, as execve loads it (no descriptor, no read accounting) */
  readImage(pid: number, path: string, cwd: string): string;
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
  /** parent of the session's shell process (default 1, init) */
  parentPid?: number;
  /** controlling terminal of the shell ('pts/0'): it then leads a new session on it */
  tty?: string;
}

const MEMFS_IDS = ['rootfs', 'devtmpfs', 'tmp', 'run', 'shm'];
/** where the shell's own executable lives */
const BASH_PATH = '/usr/bin/bash';
/** fs.nr_open: the hard RLIMIT_NOFILE ceiling */
const NR_OPEN = 1048576;

function envList(env: Record<string, string>): string[] {
  const out: string[] = [];
  for (const k in env) out.push(`${k}=${env[k]}`);
  return out;
}

/**
 * ShellHost on a Kernel. Every process the shell creates is a task of
 * k.sched (fork/exec/exit/wait, so /proc, CPU time and the fork limits are
 * the kernel's), and every file operation is a system call of the calling
 * task through the syscall layer (src/kernel/syscalls): descriptors, I/O
 * accounting and trace records included.
 */
export class KernelShellHost implements ShellHost {
  readonly uid: number;
  readonly gid: number;
  readonly sys: Syscalls;
  private readonly clock: 'manual' | 'realtime';
  private readonly parentPid: number;
  private readonly tty: string | undefined;
  /**
   * Processes this host created that have not exited (runtime only: they
   * are shell coroutines, which signals from other processes do not reach;
   * the tasks themselves are in k.sched's state).
   */
  private readonly own = new Set<number>();
  /** who signalled one of the shell's own processes (the sender of the signal it dies of) */
  private readonly killedBy = new Map<number, number>();

  constructor(
    readonly k: Kernel,
    opts: KernelShellHostOptions = {},
  ) {
    this.uid = opts.uid ?? 0;
    this.gid = opts.gid ?? 0;
    this.clock = opts.clock ?? 'manual';
    this.parentPid = opts.parentPid ?? 1;
    this.tty = opts.tty;
    this.sys = new Syscalls(k);
  }

  private caller(pid: number): Caller {
    return { pid, uid: this.uid, gid: this.gid };
  }

  private ctx(pid: number): FsCtx {
    return { k: this.k, pid, uid: this.uid, gid: this.gid };
  }

  // ---------------------------------------------------------- processes

  spawn(req: SpawnRequest): number {
    const sched = this.k.sched;
    if (req.session) {
      const tty = this.tty;
      const dev = tty ? `/dev/${tty}` : undefined;
      const argv = [tty ? '-bash' : 'bash'];
      const pid = sched.spawn(this.parentPid, {
        path: BASH_PATH,
        argv,
        env: Object.keys(req.env).length ? envList(req.env) : undefined,
        uid: this.uid,
        gid: this.gid,
        cwd: req.cwd,
        tty: tty ?? undefined,
        setsid: !!tty,
        fds: dev
          ? [
              { fd: 0, path: dev, flags: O.RDWR | O.LARGEFILE },
              { fd: 1, path: dev, flags: O.RDWR | O.LARGEFILE },
              { fd: 2, path: dev, flags: O.RDWR | O.LARGEFILE },
            ]
          : undefined,
      });
      // bash keeps its terminal open on fd 255 (close-on-exec)
      if (dev) sched.openFd(pid, dev, O.RDWR | O.LARGEFILE | O.CLOEXEC, { minFd: 255 });
      // a login session's limits (systemd's DefaultLimitNOFILE=1024:524288)
      sched.setLimit(pid, RLIMIT_NOFILE, 1024, 524288);
      this.sys.record(this.parentPid, 'clone', [FORK_CLONE_FLAGS, 0, 0, 0, 0], pid);
      this.sys.record(pid, 'execve', [0, 0, 0], 0, { path: BASH_PATH });
      this.own.add(pid);
      return pid;
    }
    // the parent's cwd may have changed since it was created (cd)
    this.setCwd(req.ppid, req.cwd);
    const pid = this.sys.fork(req.ppid);
    this.own.add(pid);
    if (req.fork) return pid;
    try {
      this.exec(pid, req);
    } catch (e) {
      this.exit(pid, 127);
      throw e;
    }
    return pid;
  }

  exec(pid: number, req: SpawnRequest): void {
    const p = req.path ?? req.argv[0] ?? '';
    const path = p.startsWith('/') ? p : joinPath(req.cwd, p);
    this.sys.execve(pid, path, req.argv, envList(req.env));
    this.setCwd(pid, req.cwd);
  }

  private setCwd(pid: number, cwd: string): void {
    const proc = this.k.sched.proc(pid);
    if (proc && proc.cwd !== cwd) {
      try {
        this.k.sched.setCwd(pid, cwd);
      } catch {
        // not a live task
      }
    }
  }

  exit(pid: number, status: number, signal?: number): void {
    this.own.delete(pid);
    const from = this.killedBy.get(pid);
    this.killedBy.delete(pid);
    const sched = this.k.sched;
    const t = sched.task(pid);
    if (!t || t.kthread) return;
    if (t.state !== 'Z' && t.state !== 'X') {
      if (signal) {
        try {
          sched.kill(pid, signal, from !== undefined && sched.task(from) ? { from } : {});
        } catch {
          // gone already
        }
      }
      const now = sched.task(pid);
      if (now && now.state !== 'Z' && now.state !== 'X') this.sys.exitGroup(pid, status & 0xff);
    }
    // the parent reaps it (a child of init is reaped by the kernel at once)
    const z = sched.task(pid);
    if (z && z.state === 'Z') {
      try {
        this.sys.wait4(z.ppid, pid);
      } catch {
        // the parent is gone: init reaps it
      }
    }
  }

  kill(pid: number, sig: number, from?: number): void {
    // the shell's own processes are coroutines of the evaluator: the shell handles their signals
    // (the kill(2) is made all the same; the process dies of it in exit())
    if (this.own.has(pid)) {
      if (from !== undefined && this.k.sched.task(from)) {
        this.killedBy.set(pid, from);
        this.sys.record(from, 'kill', [pid, sig], 0);
      }
      return;
    }
    if (from !== undefined && this.k.sched.task(from)) this.sys.kill(from, this.uid, pid, sig);
    else this.k.sched.kill(pid, sig, { uid: this.uid });
    // a killed child of one of the shell's processes is reaped at once
    const t = this.k.sched.task(pid);
    if (t && t.state === 'Z' && this.own.has(t.ppid)) {
      try {
        this.sys.wait4(t.ppid, pid);
      } catch {
        // reaped already
      }
    }
  }

  chargeCpu(pid: number, ns: number): void {
    try {
      this.k.sched.chargeCpu(pid, ns);
    } catch {
      // the task is gone
    }
  }

  adopt(pid: number, replacing?: number): void {
    if (replacing !== undefined && replacing !== pid && this.own.has(replacing)) this.exit(replacing, 0);
    if (this.k.sched.task(pid)) this.own.add(pid);
  }

  /** the shell's processes alive now (the shell, subshells and the commands they run) */
  ownPids(): number[] {
    return [...this.own].filter((p) => {
      const t = this.k.sched.task(p);
      return !!t && t.state !== 'Z';
    });
  }

  getRlimit(pid: number, resource: number): [number, number] {
    const t = this.k.sched.task(pid);
    const l = t ? this.k.sched.proc(t.tgid)?.limits[resource] : undefined;
    return l ? [l[0], l[1]] : [-1, -1];
  }

  setRlimit(pid: number, resource: number, soft: number, hard: number): void {
    const [, curHard] = this.getRlimit(pid, resource);
    const t = this.k.sched.task(pid);
    const privileged = (t?.uid ?? this.uid) === 0;
    const above = (v: number, lim: number): boolean => lim !== -1 && (v === -1 || v > lim);
    let ret = 0;
    try {
      if (above(hard, curHard) && !privileged) throw new KernelError('EPERM');
      if (resource === RLIMIT_NOFILE && above(hard, NR_OPEN)) throw new KernelError('EPERM');
      this.k.sched.setLimit(pid, resource, soft, hard);
    } catch (e) {
      if (e instanceof KernelError) ret = -e.errno;
      throw e;
    } finally {
      this.sys.record(pid, 'prlimit64', [0, resource, 1, 0], ret);
    }
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

  slept(pid: number, startNs: number, endNs: number): void {
    this.sys.nanosleep(pid, startNs, endNs);
  }

  halted(): boolean {
    return this.k.faults.crashed;
  }

  random(): number {
    return this.k.rng.nextU32();
  }

  // ---------------------------------------------------------- files

  stat(pid: number, path: string, cwd: string, follow = true): StatInfo {
    const r = this.sys.stat(this.caller(pid), path, cwd, follow);
    return this.statNode(this.ctx(pid), r.node, r.mount, r.path);
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
    let nlink = inode?.nlink ?? (node.type === 'dir' ? 2 : 1);
    // a tracefs directory links "." and each subdirectory's "..": 2 + subdirectories (events: 103)
    if (node.type === 'dir' && !inode && mount.fstype === 'tracefs') nlink = 2 + node.list(ctx).filter((n) => node.lookup(ctx, n)?.type === 'dir').length;
    return {
      type,
      perm: node.mode & 0o7777,
      ino: node.ino ?? pseudoIno(path),
      nlink,
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
  private memInode(mount: Mount, ino: number): Readonly<MemInode> | undefined {
    for (const id of MEMFS_IDS) {
      const fs: MemFs | undefined = this.k.memFs(id);
      if (fs && fs.root() === mount.root) return fs.inode(ino);
    }
    return undefined;
  }

  readFile(pid: number, path: string, cwd: string): string {
    return this.sys.readFile(this.caller(pid), path, cwd);
  }

  readImage(pid: number, path: string, cwd: string): string {
    return this.k.vfs.readFile(this.ctx(pid), path, cwd);
  }

  writeFile(pid: number, path: string, cwd: string, data: string, opts: { append?: boolean; create?: boolean; mode?: number } = {}): void {
    this.sys.writeFile(this.caller(pid), path, cwd, data, opts);
  }

  readdir(pid: number, path: string, cwd: string): DirEntryInfo[] {
    return this.sys.readdir(this.caller(pid), path, cwd).map((e) => {
      let type: FileType = e.type;
      if (e.type === 'file') {
        try {
          const r = this.k.vfs.resolve(this.ctx(pid), joinPath(path, e.name), { cwd, follow: false });
          if (r.node.type === 'file' && r.node.dev) type = r.node.dev.kind === 'c' ? 'chr' : 'blk';
        } catch {
          // a pseudo entry that vanished between list and lookup
        }
      }
      return { name: e.name, type };
    });
  }

  mkdir(pid: number, path: string, cwd: string, mode = 0o755): void {
    this.sys.mkdir(this.caller(pid), path, cwd, mode);
  }

  rmdir(pid: number, path: string, cwd: string): void {
    this.sys.rmdir(this.caller(pid), path, cwd);
  }

  unlink(pid: number, path: string, cwd: string): void {
    this.sys.unlink(this.caller(pid), path, cwd);
  }

  rename(pid: number, from: string, to: string, cwd: string): void {
    this.sys.rename(this.caller(pid), from, to, cwd);
  }

  symlink(pid: number, target: string, path: string, cwd: string): void {
    this.sys.symlink(this.caller(pid), target, path, cwd);
  }

  readlink(pid: number, path: string, cwd: string): string {
    return this.sys.readlink(this.caller(pid), path, cwd);
  }

  realpath(pid: number, path: string, cwd: string): string {
    return this.k.vfs.resolve(this.ctx(pid), path, { cwd, follow: true }).path;
  }

  access(pid: number, path: string, cwd: string, want: 4 | 2 | 1): boolean {
    return this.sys.access(this.caller(pid), path, cwd, want);
  }

  touch(pid: number, path: string, cwd: string): void {
    this.sys.touch(this.caller(pid), path, cwd);
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
