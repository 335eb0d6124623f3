import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { Kernel } from '../../kernel';
import { isKernelError } from '../../errors';
import { modprobe } from '../../modules/kmod';
import type { FsCtx } from '../vnode';
import { backgroundTraffic } from './devices';

const REF = path.resolve(__dirname, '../../../../../shared/reference/linux-6.1');
const ref = (f: string): string => fs.readFileSync(path.join(REF, f), 'utf8');
const refLines = (f: string): string[] => ref(f).split('\n').filter(Boolean);

const boot = (over: Partial<{ cpus: number; memoryMb: number; seed: string }> = {}): Kernel =>
  Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'sysfs', hostname: 'qemu-kref', ...over }, { bootEpochMs: 0 });
const root = (k: Kernel): FsCtx => k.rootCtx();
const read = (k: Kernel, p: string): string => k.vfs.readFile(root(k), p);
const write = (k: Kernel, p: string, d: string): void => k.vfs.writeFile(root(k), p, d);
const errno = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    if (isKernelError(e)) return e.code;
    throw e;
  }
};

/** `find <p> -maxdepth <d>`: readdir order, symlinks not followed. */
function find(k: Kernel, p: string, depth: number, out: string[] = []): string[] {
  out.push(p);
  if (depth === 0) return out;
  if (k.vfs.resolve(root(k), p, { follow: false }).node.type !== 'dir') return out;
  for (const e of k.vfs.readdir(root(k), p)) find(k, `${p}/${e.name}`, depth - 1, out);
  return out;
}

function loadReferenceModules(k: Kernel): void {
  for (const m of [['ext4'], ['nvme'], ['btrfs'], ['loop'], ['dummy', 'numdummies=2'], ['vfat']]) expect(modprobe(k, m).exitCode).toBe(0);
}

describe('/sys/devices/system/cpu', () => {
  it('is the reference tree, in readdir (kernfs hash) order', () => {
    const k = boot();
    expect(find(k, '/sys/devices/system/cpu', 4)).toEqual(refLines('sysfs/find_devices_system_cpu_maxdepth4'));
  });

  it('has the reference values, per CPU from the configuration', () => {
    const k = boot();
    for (const l of refLines('sysfs/cpu_values.txt')) {
      const i = l.indexOf(': ');
      const p = l.slice(0, i);
      const want = l.slice(i + 2);
      if (/crash_notes$/.test(p)) continue;
      let got: string;
      try {
        got = read(k, p).replace(/\n/g, ' ');
      } catch (e) {
        got = `cat: read error: ${isKernelError(e) && e.code === 'EIO' ? 'Input/output error' : String(e)} `;
      }
      expect(`${p}: ${got}`).toBe(`${p}: ${want}`);
    }
    const k8 = boot({ cpus: 8 });
    expect(read(k8, '/sys/devices/system/cpu/online')).toBe('0-7\n');
    expect(read(k8, '/sys/devices/system/cpu/cpu5/topology/core_id')).toBe('5\n');
    expect(read(k8, '/sys/devices/system/cpu/cpu5/topology/thread_siblings')).toBe('20\n');
    expect(read(k8, '/sys/devices/system/cpu/cpu5/topology/package_cpus')).toBe('ff\n');
    expect(read(boot({ cpus: 40 }), '/sys/devices/system/cpu/cpu0/topology/package_cpus')).toBe('ff,ffffffff\n');
  });
});

describe('/sys/class and /sys/block', () => {
  it('matches the reference listing once the same modules are loaded (plus vda and eth0)', () => {
    const k = boot();
    loadReferenceModules(k);
    for (const [root, file] of [
      ['/sys/class', 'sysfs/find_class_maxdepth4'],
      ['/sys/block', 'sysfs/find_block_maxdepth4'],
    ]) {
      const ours = find(k, root, 4);
      const theirs = refLines(file);
      const extra = ours.filter((x) => !theirs.includes(x));
      const missing = theirs.filter((x) => !ours.includes(x));
      expect(missing.filter((x) => !x.includes('hwmon'))).toEqual([]);
      expect(extra.every((x) => /vda|eth0|254:0/.test(x))).toBe(true);
      // readdir order of the shared entries (network class directories are namespaced: salted hash)
      const common = ours.filter((x) => theirs.includes(x) && !x.startsWith('/sys/class/net/'));
      expect(common).toEqual(theirs.filter((x) => ours.includes(x) && !x.startsWith('/sys/class/net/')));
    }
  });

  it('links class and block entries into /sys/devices like ls -l shows', () => {
    const k = boot();
    loadReferenceModules(k);
    const target = (p: string): string => {
      const n = k.vfs.resolve(root(k), p, { follow: false }).node;
      return n.type === 'link' ? n.target(root(k)) : '';
    };
    for (const l of refLines('sysfs/ls_l_class_block').slice(1)) {
      const m = / (\S+) -> (\S+)$/.exec(l) as RegExpExecArray;
      if (m[1].startsWith('nvme')) continue;
      expect(target(`/sys/class/block/${m[1]}`)).toBe(m[2]);
    }
    for (const l of refLines('sysfs/ls_l_class_net').slice(1)) {
      const m = / (\S+) -> (\S+)$/.exec(l) as RegExpExecArray;
      expect(target(`/sys/class/net/${m[1]}`)).toBe(m[2]);
    }
    expect(target('/sys/block/vda')).toBe('../devices/pci0000:00/0000:00:03.0/virtio0/block/vda');
    expect(target('/sys/class/net/eth0')).toBe('../../devices/pci0000:00/0000:00:04.0/virtio1/net/eth0');
    expect(read(k, '/sys/class/block/vda1/start')).toBe('2048\n');
    expect(read(k, '/sys/dev/block/254:1/partition')).toBe('1\n');
    expect(read(k, '/sys/dev/char/1:3/uevent')).toBe('MAJOR=1\nMINOR=3\nDEVNAME=null\n');
  });
});

describe('block devices', () => {
  it('shows the reference attribute set and the nvme/loop values', () => {
    const k = boot();
    loadReferenceModules(k);
    for (const l of refLines('sysfs/block_queue_values.txt')) {
      const i = l.indexOf(': ');
      expect(`${l.slice(0, i)}: ${read(k, l.slice(0, i)).replace(/\n$/, '')}`).toBe(l);
    }
    const names = (d: string): string[] =>
      k.vfs
        .readdir(root(k), `/sys/block/${d}/queue`)
        .map((e) => e.name)
        .filter((n) => n !== 'iosched')
        .sort();
    expect(names('vda')).toEqual(names('nvme0n1'));
    const vals = ref('sysfs/block_nvme0n1_values.txt').split('== ').filter(Boolean);
    for (const v of vals) {
      const [p, ...rest] = v.split('\n');
      if (/stat$/.test(p)) {
        expect(read(k, p)).toMatch(/^( {0,7}\d+ ){16} {0,7}\d+\n$/);
        continue;
      }
      if (/uevent$/.test(p)) {
        expect(read(k, p)).toBe(rest.join('\n').replace(/DISKSEQ=1/, 'DISKSEQ=2'));
        continue;
      }
      expect(read(k, p)).toBe(rest.join('\n'));
    }
  });

  it('switches the I/O scheduler like elv_iosched_store (modules loaded on demand)', () => {
    const k = boot();
    const q = '/sys/block/vda/queue/scheduler';
    expect(read(k, q)).toBe('[none] mq-deadline \n');
    expect(read(boot({ cpus: 1 }), q)).toBe('none [mq-deadline] \n');
    write(k, q, 'mq-deadline');
    expect(read(k, q)).toBe('none [mq-deadline] \n');
    expect(read(k, '/sys/block/vda/queue/nr_requests')).toBe('256\n');
    write(k, q, 'kyber\n');
    expect(read(k, q)).toBe('none mq-deadline [kyber] \n');
    expect(k.modules.isLoaded('kyber_iosched')).toBe(true);
    write(k, q, 'bfq');
    expect(read(k, q)).toBe('none mq-deadline kyber [bfq] \n');
    expect(errno(() => write(k, q, 'cfq'))).toBe('EINVAL');
    expect(read(k, q)).toBe('none mq-deadline kyber [bfq] \n');
    write(k, q, 'deadline');
    expect(read(k, q)).toBe('none [mq-deadline] kyber bfq \n');
    write(k, q, 'none');
    expect(read(k, q)).toBe('[none] mq-deadline kyber bfq \n');
    expect(errno(() => write(k, '/sys/block/vda/queue/nr_requests', '257'))).toBe('EINVAL');
    write(k, '/sys/block/vda/queue/nr_requests', '2');
    expect(read(k, '/sys/block/vda/queue/nr_requests')).toBe('4\n');
    write(k, '/sys/block/vda/queue/read_ahead_kb', '4096');
    expect(read(k, '/sys/devices/virtual/bdi/254:0/read_ahead_kb')).toBe('4096\n');
    expect(errno(() => write(k, '/sys/block/vda/queue/max_sectors_kb', '0'))).toBe('EINVAL');
    expect(errno(() => write(k, '/sys/block/vda/queue/logical_block_size', '4096'))).toBe('EACCES');
    expect(errno(() => write(k, '/sys/block/vda/queue/rotational', 'x'))).toBe('EINVAL');
  });

  it('counts I/O on disks and their partitions', () => {
    const k = boot();
    k.devices.blockIo('vda1', 'r', 8);
    k.devices.blockIo('vda1', 'w', 16, { ms: 3 });
    const stat = read(k, '/sys/block/vda/stat').trim().split(/\s+/).map(Number);
    expect(stat.slice(0, 3)).toEqual([1, 0, 8]);
    expect(stat.slice(4, 8)).toEqual([1, 0, 16, 3]);
    expect(read(k, '/sys/block/vda/vda1/stat')).toBe(read(k, '/sys/block/vda/stat'));
    expect(errno(() => k.devices.blockIo('sdz', 'r', 1))).toBe('ENODEV');
  });
});

describe('network interfaces', () => {
  it('shows lo and eth0 with their attributes', () => {
    const k = boot();
    expect(read(k, '/sys/class/net/lo/mtu')).toBe('65536\n');
    expect(read(k, '/sys/class/net/lo/flags')).toBe('0x9\n');
    expect(read(k, '/sys/class/net/eth0/flags')).toBe('0x1003\n');
    expect(read(k, '/sys/class/net/eth0/operstate')).toBe('up\n');
    expect(read(k, '/sys/class/net/eth0/carrier')).toBe('1\n');
    expect(read(k, '/sys/class/net/eth0/ifindex')).toBe('2\n');
    expect(read(k, '/sys/class/net/eth0/uevent')).toBe('INTERFACE=eth0\nIFINDEX=2\n');
    expect(errno(() => read(k, '/sys/class/net/lo/speed'))).toBe('EINVAL');
    expect(errno(() => read(k, '/sys/class/net/eth0/phys_port_id'))).toBe('EOPNOTSUPP');
    write(k, '/sys/class/net/eth0/mtu', '1400\n');
    expect(read(k, '/sys/class/net/eth0/mtu')).toBe('1400\n');
    expect(errno(() => write(k, '/sys/class/net/eth0/mtu', '67'))).toBe('EINVAL');
    expect(errno(() => write(k, '/sys/class/net/eth0/mtu', 'big'))).toBe('EINVAL');
    loadReferenceModules(k);
    expect(read(k, '/sys/class/net/dummy1/flags')).toBe('0x82\n');
    expect(errno(() => read(k, '/sys/class/net/dummy1/carrier'))).toBe('EINVAL');
  });

  it('moves traffic counters with time, split-invariantly', () => {
    const a = boot();
    const b = boot();
    const rx = (k: Kernel): number => Number(read(k, '/sys/class/net/eth0/statistics/rx_bytes'));
    const t0 = rx(a);
    a.advance(3600e9);
    expect(rx(a)).toBeGreaterThan(t0);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 8 }), (steps) => {
        const total = steps.reduce((x, y) => x + y, 0);
        let acc = 0;
        let prev = backgroundTraffic(0, 300);
        for (const s of steps) {
          acc += s;
          const cur = backgroundTraffic(acc, 300);
          expect(cur.rxBytes).toBeGreaterThanOrEqual(prev.rxBytes);
          prev = cur;
        }
        expect(prev).toEqual(backgroundTraffic(total, 300));
      }),
    );
    b.advance(1800e9);
    b.advance(1800e9);
    expect(read(b, '/sys/class/net/eth0/statistics/tx_packets')).toBe(read(a, '/sys/class/net/eth0/statistics/tx_packets'));
    b.devices.netTraffic('lo', { txPackets: 2, txBytes: 200 });
    expect(read(b, '/sys/class/net/lo/statistics/rx_bytes')).toBe('200\n');
  });
});

describe('LEDs', () => {
  it('takes brightness 0..max (higher values cap) and triggers from the list', () => {
    const k = boot();
    const led = '/sys/class/leds/input0::capslock';
    expect(read(k, `${led}/max_brightness`)).toBe('1\n');
    expect(read(k, `${led}/trigger`)).toContain(' [kbd-capslock] ');
    write(k, `${led}/brightness`, '1');
    expect(read(k, `${led}/brightness`)).toBe('1\n');
    write(k, `${led}/brightness`, '255');
    expect(read(k, `${led}/brightness`)).toBe('1\n');
    expect(errno(() => write(k, `${led}/brightness`, '-1'))).toBe('EINVAL');
    write(k, `${led}/brightness`, '0');
    expect(read(k, `${led}/trigger`)).toMatch(/^\[none\] kbd-scrolllock/);
    write(k, `${led}/trigger`, 'panic');
    expect(read(k, `${led}/trigger`)).toMatch(/ \[panic\]\n$/);
    expect(errno(() => write(k, `${led}/trigger`, 'nonsense'))).toBe('EINVAL');
  });
});

describe('/sys/kernel', () => {
  it('has the reference top-level attributes and transparent_hugepage files', () => {
    const k = boot();
    for (const l of refLines('sysfs/kernel_toplevel_values.txt')) {
      const p = l.slice(0, l.indexOf(':'));
      if (/notes|vmcoreinfo|uevent_seqnum/.test(p)) continue;
      expect(`${p}: ${read(k, p).replace(/\n/g, ' ')}`).toBe(l);
    }
    expect(read(k, '/sys/kernel/vmcoreinfo')).toMatch(/^0x[0-9a-f]{16} 1024\n$/);
    // a 512 MiB machine is below THP's 512 MiB of usable RAM: the reference values
    for (const l of refLines('sysfs/transparent_hugepage.txt')) {
      const p = l.slice(0, l.indexOf(': '));
      expect(`${p}: ${read(k, p).replace(/\n$/, '')}`).toBe(l);
    }
    const big = boot({ memoryMb: 2048 });
    expect(read(big, '/sys/kernel/mm/transparent_hugepage/enabled')).toBe('[always] madvise never\n');
    expect(read(big, '/sys/kernel/mm/transparent_hugepage/defrag')).toBe('always defer defer+madvise [madvise] never\n');
    write(big, '/sys/kernel/mm/transparent_hugepage/enabled', 'madvise\n');
    expect(read(big, '/sys/kernel/mm/transparent_hugepage/enabled')).toBe('always [madvise] never\n');
    expect(errno(() => write(big, '/sys/kernel/mm/transparent_hugepage/enabled', 'sometimes'))).toBe('EINVAL');
    expect(errno(() => write(big, '/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none', '512'))).toBe('EINVAL');
  });

  it('lists the reference /sys/kernel entries (depth 2, besides slab caches)', () => {
    const k = boot();
    loadReferenceModules(k);
    const theirs = refLines('sysfs/find_kernel_maxdepth4_xdev').filter(
      (l) => l.split('/').length <= 5 && !l.startsWith('/sys/kernel/slab/') && !l.startsWith('/sys/kernel/irq/'),
    );
    // -xdev: not into the debugfs and tracefs mounts
    const ours = find(k, '/sys/kernel', 2).filter((l) => !/^\/sys\/kernel\/(slab|irq|tracing|debug)\//.test(l));
    expect(ours.filter((x) => !theirs.includes(x))).toEqual([]);
    expect(theirs.filter((x) => !ours.includes(x) && !x.includes('/nls_'))).toEqual([]);
  });

  it('shares hugetlb pool sizes with vm.nr_hugepages', () => {
    const k = boot();
    write(k, '/proc/sys/vm/nr_hugepages', '4');
    expect(read(k, '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages')).toBe('4\n');
  });
});

describe('/sys/module', () => {
  it('has the built-in modules and the loaded ones', () => {
    const k = boot();
    loadReferenceModules(k);
    const ours = k.vfs
      .readdir(root(k), '/sys/module')
      .map((e) => e.name)
      .sort();
    // the reference also mounted a vfat filesystem, which loaded its codepages
    expect(ours).toEqual(
      refLines('modules/sys_module_toplevel_ls.txt')
        .filter((m) => !m.startsWith('nls_'))
        .sort(),
    );
    expect(find(k, '/sys/module/printk', 2)).toEqual(refLines('modules/sys_module_printk_builtin_find.txt'));
    expect(read(k, '/sys/module/printk/parameters/time')).toBe('Y\n');
    write(k, '/sys/module/printk/parameters/time', 'N');
    expect(read(k, '/sys/module/printk/parameters/time')).toBe('N\n');
    expect(errno(() => write(k, '/sys/module/printk/parameters/time', 'maybe'))).toBe('EINVAL');
    expect(errno(() => read(k, '/sys/module/printk/uevent'))).toBe('EACCES');
  });
});

describe('cgroup2', () => {
  it('is mounted on /sys/fs/cgroup with the controllers and the tasks', () => {
    const k = boot();
    expect(read(k, '/proc/mounts')).toContain('cgroup2 /sys/fs/cgroup cgroup2 rw,relatime 0 0\n');
    expect(read(k, '/sys/fs/cgroup/cgroup.controllers')).toBe('cpuset cpu io memory hugetlb pids rdma misc\n');
    const listed = new Set<number>();
    const walk = (p: string): void => {
      for (const pid of read(k, `${p}/cgroup.procs`).split('\n').filter(Boolean)) listed.add(Number(pid));
      for (const e of k.vfs.readdir(root(k), p)) if (e.type === 'dir') walk(`${p}/${e.name}`);
    };
    walk('/sys/fs/cgroup');
    const procs = k.sched
      .tasks()
      .filter((t) => t.pid === t.tgid)
      .map((t) => t.pid);
    expect([...listed].sort((a, b) => a - b)).toEqual(procs.sort((a, b) => a - b));
    expect(read(k, '/sys/fs/cgroup/cpu.stat')).toMatch(/^usage_usec \d+\nuser_usec \d+\nsystem_usec \d+\n$/);
  });
});

describe('snapshots', () => {
  it('restores device state: identical renders', () => {
    const k = boot();
    write(k, '/sys/block/vda/queue/scheduler', 'mq-deadline');
    write(k, '/sys/class/net/eth0/mtu', '1280');
    write(k, '/sys/class/leds/input0::numlock/brightness', '1');
    k.devices.blockIo('vda', 'r', 64);
    k.advance(10e9);
    const files = [
      '/sys/block/vda/queue/scheduler',
      '/sys/class/net/eth0/mtu',
      '/sys/class/leds/input0::numlock/brightness',
      '/sys/block/vda/stat',
      '/sys/class/net/eth0/statistics/rx_bytes',
      '/proc/diskstats',
      '/proc/cpuinfo',
      '/proc/iomem',
    ];
    const k2 = Kernel.fromState(JSON.parse(JSON.stringify(k.getState())));
    for (const f of files) expect(`${f}: ${read(k2, f)}`).toBe(`${f}: ${read(k, f)}`);
    expect(find(k2, '/sys/class', 3)).toEqual(find(k, '/sys/class', 3));
  });
});
