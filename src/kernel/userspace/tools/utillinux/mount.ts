import { KernelError } from '../../../errors';
import type { Kernel } from '../../../kernel';
import type { MemFs } from '../../../fs/memfs';
import type { Co, ToolCtx, ToolSpec } from '../../types';
import { has, last, parseArgs, statOrNull, withUsage, write } from '../common';
import { kernelOf } from './common';
import { readMounts } from './lsx';

/** mount(8) and umount(8) of util-linux 2.38.1 over the kernel's mount table. */

const DMESG_HINT = '       dmesg(1) may have more information after failed mount system call.\n';

/** filesystem type -> the kernel filesystem it mounts ('new-tmpfs': a fresh tmpfs instance) */
const FS_TYPES: Record<string, string> = {
  proc: 'proc',
  sysfs: 'sysfs',
  debugfs: 'debugfs',
  tracefs: 'tracefs',
  cgroup2: 'cgroup2',
  devtmpfs: 'devtmpfs',
  tmpfs: 'new-tmpfs',
  ramfs: 'new-tmpfs',
};

/** block filesystems the kernel knows (registered) but the machine has no driver data for */
const BLOCK_FS = new Set(['ext4', 'ext3', 'ext2', 'vfat', 'xfs', 'btrfs', 'iso9660', 'squashfs']);

const VFS_FLAGS = ['ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'sync', 'async', 'noatime', 'atime', 'relatime', 'norelatime', 'strictatime', 'nodiratime', 'diratime', 'lazytime', 'nolazytime', 'remount', 'bind', 'defaults', 'auto', 'noauto', 'user', 'nouser', 'owner', 'silent', 'loud'];

/** Mount options as the kernel shows them in /proc/mounts. */
function showOptions(fstype: string, opts: string[], memTotalKb: number): string | KernelError {
  const has1 = (o: string): boolean => opts.includes(o);
  const out = [has1('ro') && !opts.slice(opts.lastIndexOf('ro')).includes('rw') ? 'ro' : 'rw'];
  if (has1('nosuid')) out.push('nosuid');
  if (has1('nodev')) out.push('nodev');
  if (has1('noexec')) out.push('noexec');
  if (has1('sync')) out.push('sync');
  if (has1('noatime')) out.push('noatime');
  else if (!has1('strictatime')) out.push('relatime');
  if (has1('nodiratime')) out.push('nodiratime');
  const fsOpts = opts.filter((o) => !VFS_FLAGS.includes(o.split('=')[0]));
  if (fstype === 'tmpfs' || fstype === 'ramfs') {
    const kv = new Map(fsOpts.map((o) => [o.split('=')[0], o.includes('=') ? o.slice(o.indexOf('=') + 1) : '']));
    for (const k of kv.keys()) if (!['size', 'nr_inodes', 'mode', 'uid', 'gid', 'inode64', 'inode32', 'huge', 'mpol'].includes(k)) return new KernelError('EINVAL');
    if (fstype === 'tmpfs') {
      const size = kv.get('size');
      if (size !== undefined) {
        const m = /^(\d+)([kKmMgGtT%]?)$/.exec(size);
        if (!m) return new KernelError('EINVAL');
        const n = Number(m[1]);
        const mul: Record<string, number> = { '': 1 / 1024, k: 1, K: 1, m: 1024, M: 1024, g: 1 << 20, G: 1 << 20, t: 1 << 30, T: 1 << 30 };
        let kb = m[2] === '%' ? Math.floor((memTotalKb * n) / 100) : Math.floor(n * mul[m[2]]);
        kb = Math.ceil(kb / 4) * 4;
        out.push(`size=${kb}k`);
      }
      const ni = kv.get('nr_inodes');
      if (ni !== undefined) out.push(`nr_inodes=${ni}`);
      const mode = kv.get('mode');
      if (mode !== undefined && mode !== '1777' && mode !== '01777') out.push(`mode=${mode.replace(/^0+(?=.)/, '')}`);
      const uid = kv.get('uid');
      if (uid !== undefined && uid !== '0') out.push(`uid=${uid}`);
      const gid = kv.get('gid');
      if (gid !== undefined && gid !== '0') out.push(`gid=${gid}`);
      out.push(kv.has('inode32') ? 'inode32' : 'inode64');
    }
  } else if (fstype === 'devtmpfs') {
    return out.join(',');
  } else if (fsOpts.length) {
    return new KernelError('EINVAL');
  }
  return out.join(',');
}

/**
 * A fresh tmpfs instance: the kernel keeps its memfs instances by id (and
 * snapshots carry them), but has no public constructor for one yet, so its
 * private factory is used. Hook wanted: a public k.newTmpfs(opts). The size
 * limit is runtime only (MemFs does not keep it in its state).
 */
function newTmpfsId(k: Kernel, shown: string): string | undefined {
  const create = (k as unknown as { newMemFs?: (id: string, fstype: string) => MemFs }).newMemFs;
  if (typeof create !== 'function') return undefined;
  // an instance no mount uses any more is emptied and reused (its content went with the umount)
  let i = 1;
  let fs: MemFs | undefined;
  for (;; i++) {
    const old = k.memFs(`mnt${i}`);
    if (!old) break;
    if (!k.vfs.list().some((m) => m.root === old.root())) {
      fs = old;
      break;
    }
  }
  const id = `mnt${i}`;
  if (!fs) fs = create.call(k, id, 'tmpfs');
  const opts = shown.split(',');
  const st = fs.getState();
  const root = st.inodes[st.rootIno];
  const mode = opts.find((o) => o.startsWith('mode='));
  root.mode = mode ? parseInt(mode.slice(5), 8) & 0o7777 : 0o1777;
  root.entries = {};
  root.nlink = 2;
  root.mtimeNs = k.now;
  st.inodes = { [st.rootIno]: root };
  st.bytes = 0;
  st.readOnly = opts[0] === 'ro';
  fs.setState(st);
  const size = opts.find((o) => o.startsWith('size='));
  (fs as unknown as { maxBytes: number }).maxBytes = size ? parseInt(size.slice(5), 10) * 1024 : Number.MAX_SAFE_INTEGER;
  return id;
}

function mountList(ctx: ToolCtx, k: Kernel | undefined, type?: string): number {
  let rows = readMounts(ctx);
  if (rows.length === 0 && k) rows = k.vfs.list().map((m) => ({ source: m.source, path: m.path, fstype: m.fstype, options: m.options }));
  const types = type?.split(',');
  for (const r of rows) {
    if (types && !types.includes(r.fstype)) continue;
    write(ctx, `${r.source} on ${r.path} type ${r.fstype} (${r.options})\n`);
  }
  return 0;
}

function mount(ctx: ToolCtx): number {
  return withUsage(ctx, () => {
    const p = parseArgs(ctx, {
      short: 't:o:rwvfnailh',
      long: { 'types=': 't', 'options=': 'o', 'read-only': 'r', rw: 'w', 'read-write': 'w', verbose: 'v', fake: 'f', 'no-mtab': 'n', all: 'a', help: 'h', version: 'V', bind: 'B' },
    });
    if (has(p, 'V')) {
      write(ctx, 'mount from util-linux 2.38.1 (libmount 2.38.1: selinux, smack, btrfs, verity, namespaces, assert, debug)\n');
      return 0;
    }
    const k = kernelOf(ctx);
    const type = last(p, 't');
    if (p.operands.length === 0 && !has(p, 'a')) return mountList(ctx, k, type);
    if (has(p, 'a')) return 0;
    if (ctx.host.uid !== 0) {
      ctx.stderr.write(type !== undefined ? `mount: only root can use "--types" option (effective UID is ${ctx.host.uid})\n` : `mount: only root can do that (effective UID is ${ctx.host.uid})\n`);
      return 1;
    }
    const opts = p.opts.filter(([c]) => c === 'o').flatMap(([, v]) => v.split(',').filter(Boolean));
    if (has(p, 'r')) opts.push('ro');
    if (has(p, 'w')) opts.push('rw');
    if (p.operands.length === 1) {
      const t = p.operands[0];
      if (opts.includes('remount') && k) return remount(ctx, k, t, opts);
      ctx.stderr.write(`mount: ${t}: can't find in /etc/fstab.\n`);
      return 1;
    }
    if (p.operands.length > 2) {
      ctx.stderr.write("mount: bad usage\nTry 'mount --help' for more information.\n");
      return 1;
    }
    const [source, target] = p.operands;
    if (!k) {
      ctx.stderr.write(`mount: ${target}: permission denied.\n`);
      return 32;
    }
    const fail = (msg: string): number => {
      ctx.stderr.write(`mount: ${target}: ${msg}\n${DMESG_HINT}`);
      return 32;
    };
    const st = statOrNull(ctx, target);
    if (!st) return fail('mount point does not exist.');
    if (st.type !== 'dir') return fail('mount point is not a directory.');
    const dir = ctx.host.realpath(ctx.pid, target, ctx.cwd);
    const fstype = type ?? (['proc', 'sysfs', 'tmpfs', 'debugfs', 'tracefs', 'devtmpfs', 'cgroup2'].includes(source) ? source : undefined);
    if (fstype === undefined) {
      const sst = statOrNull(ctx, source);
      if (!sst) return fail(`special device ${source} does not exist.`);
      return fail(`wrong fs type, bad option, bad superblock on ${source}, missing codepage or helper program, or other error.`);
    }
    if (BLOCK_FS.has(fstype)) {
      const sst = statOrNull(ctx, source);
      if (!sst) return fail(`special device ${source} does not exist.`);
      if (sst.type !== 'blk') return fail(`${source} is not a block device.`);
      return fail(`wrong fs type, bad option, bad superblock on ${source}, missing codepage or helper program, or other error.`);
    }
    const fsKind = FS_TYPES[fstype];
    if (!fsKind) return fail(`unknown filesystem type '${fstype}'.`);
    const memKb = Math.floor((k.mm.totalPages * 4096) / 1024);
    const shown = showOptions(fstype, opts, memKb);
    if (shown instanceof KernelError) return fail(`wrong fs type, bad option, bad superblock on ${source}, missing codepage or helper program, or other error.`);
    let fsId = fsKind;
    if (fsKind === 'new-tmpfs') {
      const id = newTmpfsId(k, shown);
      if (!id) return fail(`cannot mount ${source} read-only.`);
      fsId = id;
    }
    try {
      k.mount({ path: dir, source, fstype, options: shown, fs: fsId });
    } catch (e) {
      if (e instanceof KernelError && e.code === 'ENODEV') return fail(`unknown filesystem type '${fstype}'.`);
      throw e;
    }
    if (has(p, 'v')) write(ctx, `mount: ${source} mounted on ${dir}.\n`);
    return 0;
  });
}

function remount(ctx: ToolCtx, k: Kernel, target: string, opts: string[]): number {
  const dir = statOrNull(ctx, target) ? ctx.host.realpath(ctx.pid, target, ctx.cwd) : target;
  const m = [...k.vfs.list()].reverse().find((x) => x.path === dir);
  const state = k.getState().mounts.find((x) => x.path === dir);
  if (!m || !state) {
    ctx.stderr.write(`mount: ${target}: mount point not mounted or bad option.\n${DMESG_HINT}`);
    return 32;
  }
  const old = m.options.split(',');
  const flags = opts.filter((o) => o !== 'remount');
  const rest = old.filter((o) => !['ro', 'rw'].includes(o) && !flags.some((f) => f.split('=')[0] === o.split('=')[0]));
  const ro = flags.includes('ro') ? 'ro' : flags.includes('rw') ? 'rw' : old.includes('ro') ? 'ro' : 'rw';
  const merged = [ro, ...rest, ...flags.filter((f) => f !== 'ro' && f !== 'rw' && !rest.includes(f))];
  k.mount({ ...state, options: merged.join(',') });
  return 0;
}

function umount(ctx: ToolCtx): number {
  return withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'alfnrRvdt:hV', long: { all: 'a', lazy: 'l', force: 'f', 'no-mtab': 'n', recursive: 'R', verbose: 'v', 'types=': 't', help: 'h', version: 'V' } });
    if (has(p, 'V')) {
      write(ctx, 'umount from util-linux 2.38.1 (libmount 2.38.1: selinux, smack, btrfs, verity, namespaces, assert, debug)\n');
      return 0;
    }
    if (p.operands.length === 0) {
      ctx.stderr.write("umount: bad usage\nTry 'umount --help' for more information.\n");
      return 1;
    }
    const k = kernelOf(ctx);
    let status = 0;
    for (const t of p.operands) {
      const r = umountOne(ctx, k, t, has(p, 'l'), has(p, 'R'));
      if (r) status = r;
    }
    return status;
  });
}

function umountOne(ctx: ToolCtx, k: Kernel | undefined, target: string, lazy: boolean, recursive: boolean): number {
  const fail = (msg: string): number => {
    ctx.stderr.write(`umount: ${target}: ${msg}\n`);
    return 32;
  };
  const mounts = k ? k.vfs.list() : [];
  let dir: string;
  if (statOrNull(ctx, target)) dir = ctx.host.realpath(ctx.pid, target, ctx.cwd);
  else {
    const bySource = [...mounts].reverse().find((m) => m.source === target);
    if (!bySource) return fail('no mount point specified.');
    dir = bySource.path;
  }
  if (!mounts.some((m) => m.path === dir)) {
    const bySource = [...mounts].reverse().find((m) => m.source === target);
    if (!bySource) return fail('not mounted.');
    dir = bySource.path;
  }
  if (ctx.host.uid !== 0) return fail('must be superuser to unmount.');
  if (!k) return fail('not mounted.');
  const inside = (p: string): boolean => p === dir || p.startsWith(dir === '/' ? '/' : dir + '/');
  const subs = mounts.filter((m) => m.path !== dir && inside(m.path));
  if (recursive) {
    for (const s of [...subs].sort((a, b) => b.path.length - a.path.length)) k.umount(s.path);
  } else if (!lazy) {
    let busy = dir === '/' || dir === '/dev' || subs.length > 0 || inside(ctx.cwd);
    if (!busy) {
      for (const t of k.sched.allTasks()) {
        if (t.pid !== t.tgid || t.kthread || t.state === 'Z') continue;
        const proc = k.sched.proc(t.tgid);
        if (proc && inside(proc.cwd)) busy = true;
        else if (k.sched.fds(t.pid).some((f) => inside(f.path))) busy = true;
        if (busy) break;
      }
    }
    if (busy) return fail('target is busy.');
  } else if (dir === '/') return fail('target is busy.');
  try {
    if (lazy) for (const s of [...subs].sort((a, b) => b.path.length - a.path.length)) k.umount(s.path);
    k.umount(dir);
  } catch (e) {
    if (e instanceof KernelError && e.code === 'EBUSY') return fail('target is busy.');
    if (e instanceof KernelError && e.code === 'EINVAL') return fail('not mounted.');
    throw e;
  }
  return 0;
}

/**
 * sync(1): sync(2), or fsync(2)/fdatasync(2)/syncfs(2) of each operand. Only
 * block device page cache is ever dirty on this machine (its filesystems are
 * all in memory): sync(2) writes back every block device's dirty pages, an
 * fsync of a block device node writes back its own and flushes the disk.
 */
function* sync(ctx: ToolCtx): Co<number> {
  let waitNs = 0;
  const status = withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'df', long: { data: 'd', 'file-system': 'f', help: 'h', version: 'V' } });
    let rc = 0;
    const k = kernelOf(ctx);
    const self = k?.sched.task(ctx.pid) ? ctx.pid : undefined;
    if (!p.operands.length && k && self !== undefined) waitNs += k.devices.bdevSync(self);
    for (const f of p.operands) {
      const st = statOrNull(ctx, f);
      if (!st) {
        ctx.stderr.write(`sync: error opening '${f}': No such file or directory\n`);
        rc = 1;
        continue;
      }
      if (st.type === 'blk' && st.rdev && k && self !== undefined) {
        const bd = k.devices.blockDevices().find((b) => b.major === st.rdev?.major && b.minor === st.rdev?.minor);
        // syncfs of a device node syncs the filesystem holding the node (devtmpfs: nothing to write)
        if (bd && !has(p, 'f')) waitNs += k.devices.bdevSync(self, bd.name, true);
      }
    }
    return rc;
  });
  if (waitNs > 0) yield* ctx.sleepUntil(ctx.host.now() + waitNs);
  return status;
}

export const MOUNT_TOOLS: ToolSpec[] = [
  { name: 'mount', run: mount },
  { name: 'umount', run: umount },
  { name: 'sync', run: sync },
];
