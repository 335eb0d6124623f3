/** /proc/<pid>/mountinfo rows derived from the VFS mount table. */
import type { Kernel } from '../kernel';

export interface MountinfoRow {
  id: number;
  parent: number;
  dev: string;
  path: string;
  mountOpts: string;
  superOpts: string;
  fstype: string;
  source: string;
}

/** Options that are per-mount flags (the rest belong to the superblock). */
const MOUNT_FLAGS = new Set(['rw', 'ro', 'nosuid', 'nodev', 'noexec', 'relatime', 'noatime', 'strictatime', 'nodiratime', 'sync', 'dirsync']);

export function mountinfo(k: Kernel): MountinfoRow[] {
  const mounts = k.vfs.list();
  let anon = 20;
  const rows: MountinfoRow[] = mounts.map((m, i) => {
    const opts = m.options.split(',').filter(Boolean);
    const ro = opts.includes('ro');
    const mountOpts = opts.filter((o) => MOUNT_FLAGS.has(o));
    const superOpts = [ro ? 'ro' : 'rw', ...opts.filter((o) => !MOUNT_FLAGS.has(o))];
    let dev: string;
    if (m.fstype === 'rootfs') dev = '0:2';
    else if (m.fstype === 'devtmpfs') dev = '0:5';
    else dev = `0:${anon++}`;
    return {
      id: i === 0 ? 1 : 21 + i,
      parent: 1,
      dev,
      path: m.path,
      mountOpts: mountOpts.length ? mountOpts.join(',') : 'rw',
      superOpts: superOpts.join(','),
      fstype: m.fstype,
      source: m.source,
    };
  });
  for (const r of rows) {
    let best: MountinfoRow | undefined;
    for (const o of rows) {
      if (o === r) continue;
      const prefix = o.path === '/' ? '/' : o.path + '/';
      if (r.path !== '/' && r.path.startsWith(prefix) && (!best || o.path.length > best.path.length)) best = o;
    }
    r.parent = best ? best.id : r.id;
  }
  return rows;
}
