/**
 * The cgroup2 hierarchy (mounted on /sys/fs/cgroup): one directory per
 * cgroup the tasks live in (from the scheduler's processes), with the core
 * interface files and the controllers' basic statistics.
 */
import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import type { DirNode } from '../vnode';
import { type KTable, attr, kdir, val } from './kernfs';

export const CGROUP_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc'];
/** what systemd enables below the root */
const ROOT_SUBTREE = ['cpu', 'io', 'memory', 'pids'];

interface SchedView {
  proc?(tgid: number): { cgroup: string } | undefined;
  groupTimes?(tgid: number): { ut: number; st: number; sum: number };
  cpuTimes?(c: number): { user: number; nice: number; system: number; irq: number; softirq: number };
}

/** tgid -> cgroup path of every live process. */
function membership(k: Kernel): Map<number, string> {
  const s = k.sched as unknown as SchedView;
  const out = new Map<number, string>();
  for (const t of k.sched.tasks()) {
    if (t.pid !== t.tgid) continue;
    const cg = typeof s.proc === 'function' ? (s.proc(t.tgid)?.cgroup ?? '/') : '/';
    out.set(t.tgid, cg || '/');
  }
  return out;
}

/** Every cgroup path that exists (ancestors of the occupied ones included). */
function cgroupPaths(k: Kernel): Set<string> {
  const set = new Set<string>(['/']);
  for (const cg of membership(k).values()) {
    const parts = cg.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) set.add('/' + parts.slice(0, i).join('/'));
  }
  for (const p of k.devices.cgroupsMade()) set.add(p);
  return set;
}

function usage(k: Kernel, path: string): { usage: number; user: number; system: number } {
  const s = k.sched as unknown as SchedView;
  if (path === '/') {
    if (typeof s.cpuTimes !== 'function') return { usage: 0, user: 0, system: 0 };
    let user = 0;
    let system = 0;
    for (let c = 0; c < k.config.cpus; c++) {
      const t = s.cpuTimes(c);
      user += t.user + t.nice;
      system += t.system + t.irq + t.softirq;
    }
    const u = Math.floor(user / 1000);
    const sy = Math.floor(system / 1000);
    return { usage: u + sy, user: u, system: sy };
  }
  let user = 0;
  let system = 0;
  if (typeof s.groupTimes === 'function') {
    for (const [tgid, cg] of membership(k)) {
      if (cg !== path && !cg.startsWith(path + '/')) continue;
      const g = s.groupTimes(tgid);
      user += g.ut;
      system += g.st;
    }
  }
  const u = Math.floor(user / 1000);
  const sy = Math.floor(system / 1000);
  return { usage: u + sy, user: u, system: sy };
}

function cgroupDir(k: Kernel, path: string): DirNode {
  const root = path === '/';
  return kdir(() => {
    const members = [...membership(k)].filter(([, cg]) => cg === path).map(([t]) => t);
    const all = cgroupPaths(k);
    const prefix = root ? '/' : path + '/';
    const kids = [...all].filter((p) => p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/'));
    const subtree = ROOT_SUBTREE;
    const t: KTable = {
      'cgroup.controllers': val(root ? CGROUP_CONTROLLERS.join(' ') : subtree.join(' ')),
      'cgroup.max.depth': attr(() => 'max\n', { write: (d) => checkMax(d) }),
      'cgroup.max.descendants': attr(() => 'max\n', { write: (d) => checkMax(d) }),
      'cgroup.pressure': attr(() => '1\n', { write: (d) => void (['0', '1'].includes(d.trim()) || inval()) }),
      'cgroup.procs': attr(
        () =>
          members
            .sort((a, b) => a - b)
            .map((p) => `${p}\n`)
            .join(''),
        {
          write: (d) => {
            const pid = Number(d.trim());
            if (!Number.isInteger(pid) || !k.sched.task(pid)) throw new KernelError('ESRCH');
            k.devices.moveToCgroup(pid, path);
          },
        },
      ),
      'cgroup.stat': attr(
        () => `nr_descendants ${[...all].filter((p) => p !== path && p.startsWith(prefix)).length}\nnr_dying_descendants 0\n`,
      ),
      'cgroup.subtree_control': attr(() => (kids.length || root ? `${subtree.join(' ')}\n` : '\n'), { write: (d) => checkControllers(d) }),
      'cgroup.threads': attr(() =>
        k.sched
          .tasks()
          .filter((x) => members.includes(x.tgid))
          .map((x) => x.pid)
          .sort((a, b) => a - b)
          .map((p) => `${p}\n`)
          .join(''),
      ),
      'cpu.pressure': attr(() => pressure(k, 'cpu')),
      'cpu.stat': attr(() => {
        const u = usage(k, path);
        let s = `usage_usec ${u.usage}\nuser_usec ${u.user}\nsystem_usec ${u.system}\n`;
        if (!root) s += 'nr_periods 0\nnr_throttled 0\nthrottled_usec 0\nnr_bursts 0\nburst_usec 0\n';
        return s;
      }),
      'io.pressure': attr(() => pressure(k, 'io')),
      'memory.pressure': attr(() => pressure(k, 'memory')),
      'io.stat': attr(() => ''),
    };
    if (root) {
      t['cpuset.cpus.effective'] = val(k.config.cpus === 1 ? '0' : `0-${k.config.cpus - 1}`);
      t['cpuset.mems.effective'] = val('0');
      t['memory.numa_stat'] = attr(() => '');
      t['memory.stat'] = attr(() => '');
      t['memory.reclaim'] = attr(() => '', { mode: 0o200, write: () => undefined });
      t['misc.capacity'] = val('');
    } else {
      t['cgroup.events'] = attr(() => `populated ${members.length || kids.length ? 1 : 0}\nfrozen 0\n`);
      t['cgroup.freeze'] = attr(() => '0\n', { write: (d) => void (['0', '1'].includes(d.trim()) || inval()) });
      t['cgroup.kill'] = { ...attr(() => '', { mode: 0o200, write: () => undefined }), read: () => inval() };
      t['cgroup.type'] = val('domain');
      t['cpu.weight'] = attr(() => '100\n', { write: (d) => void (Number(d) >= 1 && Number(d) <= 10000 ? 0 : inval()) });
      t['cpu.max'] = val('max 100000');
      t['memory.current'] = attr(() => '0\n');
      t['memory.max'] = val('max');
      t['memory.high'] = val('max');
      t['memory.min'] = val(0);
      t['memory.low'] = val(0);
      t['pids.current'] = attr(() => `${k.sched.tasks().filter((x) => members.includes(x.tgid)).length}\n`);
      t['pids.max'] = val('max');
      t['io.max'] = val('');
    }
    for (const kid of kids) t[kid.slice(prefix.length)] = () => cgroupDir(k, kid);
    return t;
  });
}

function pressure(k: Kernel, what: string): string {
  try {
    return k.vfs.readFile(k.rootCtx(), `/proc/pressure/${what}`);
  } catch {
    return 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
  }
}

function inval(): never {
  throw new KernelError('EINVAL');
}

function checkMax(d: string): void {
  const v = d.trim();
  if (v !== 'max' && !/^\d+$/.test(v)) throw new KernelError('EINVAL');
}

function checkControllers(d: string): void {
  for (const w of d.trim().split(/\s+/).filter(Boolean)) {
    if (!/^[+-]/.test(w) || !CGROUP_CONTROLLERS.includes(w.slice(1))) throw new KernelError('EINVAL');
  }
}

/** The root of the cgroup2 filesystem. */
export function cgroup2Root(k: Kernel): DirNode {
  const root = cgroupDir(k, '/');
  return {
    ...root,
    mkdir: (_ctx, name) => {
      if (name.includes('/') || name.startsWith('cgroup.')) throw new KernelError('EINVAL');
      k.devices.makeCgroup('/' + name);
      return cgroupDir(k, '/' + name);
    },
  };
}
