/**
 * /sys/devices/system/cpu: masks, per-CPU topology and caches of the
 * machine's vCPUs (one package, one core per CPU, no SMT, no cpufreq).
 */
import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import { memoryLayout, percpuLayout } from '../../printk/boot-layout';
import { type KTable, attr, kdir, link, powerDir, uevent, val } from './kernfs';
import sysfsData from '../../data/sysfs.json';
import type { DirNode } from '../vnode';

/** The feature list QEMU's TCG "max" CPU has, as the cpu bus modalias shows it. */
export const CPU_MODALIAS =
  'cpu:type:x86,ven0002fam000Fmod006B:feature:,0000,0002,0003,0004,0005,0006,0007,0008,0009,000B,000C,000D,000E,000F,0010,0011,0013,0016,0017,0018,0019,001A,001B,001C,0020,0022,0023,0024,0025,0026,0027,0028,0029,002B,002C,002D,002E,002F,0030,0031,0034,0036,0037,0038,003A,003B,003D,003E,003F,0064,006E,0070,0072,0074,0075,0079,007A,0080,0081,0083,0089,008C,008D,0093,0094,0096,0097,0099,009A,009B,009C,009D,009E,009F,00C0,00C1,00C2,00C4,00C5,00C6,00C8,00ED,00F3,010F,0120,0123,0125,0127,0128,0129,012E,0133,0134,0136,0137,0138,0140,0142,0165,016C,01C2,01E0,01F0,01FC,0202,0203,0204,0209,021F';

/** What each vulnerabilities/ file says for an AMD family 0xf vCPU on this kernel. */
const VULN: Record<string, string> = {
  spectre_v1: 'Mitigation: usercopy/swapgs barriers and __user pointer sanitization',
  spectre_v2: 'Mitigation: Retpolines; STIBP: disabled; RSB filling; PBRSB-eIBRS: Not affected; BHI: Not affected',
  spec_store_bypass: 'Vulnerable',
};

/** cpumask "%*pb": hex, 32-bit groups separated by commas, nr_cpu_ids bits wide. */
export function cpuMask(cpus: readonly number[], nr: number): string {
  const words = Math.ceil(nr / 32);
  const out: string[] = [];
  for (let w = words - 1; w >= 0; w--) {
    let v = 0;
    for (const c of cpus) if (c >= w * 32 && c < w * 32 + 32) v |= 1 << (c - w * 32);
    const width = w === words - 1 ? Math.ceil((nr - w * 32) / 4) : 8;
    out.push((v >>> 0).toString(16).padStart(width, '0'));
  }
  return out.join(',');
}

/** cpumask "%*pbl": ranges. */
export function cpuRange(cpus: readonly number[]): string {
  const s = [...cpus].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** QEMU's legacy AMD cache description (CPUID 0x8000001D). */
const CACHES = [
  { level: 1, type: 'Data', size: '64K', ways: 2, sets: 512, shared: 'core' },
  { level: 1, type: 'Instruction', size: '64K', ways: 2, sets: 512, shared: 'core' },
  { level: 2, type: 'Unified', size: '512K', ways: 16, sets: 512, shared: 'core' },
  { level: 3, type: 'Unified', size: '16384K', ways: 16, sets: 16384, shared: 'all' },
] as const;

interface HotplugHooks {
  setCpuOnline?(cpu: number, online: boolean): void;
  cpuOnline?(cpu: number): boolean;
}

function onlineCpus(k: Kernel): number[] {
  const h = k.sched as unknown as HotplugHooks;
  const all = Array.from({ length: k.config.cpus }, (_, i) => i);
  return typeof h.cpuOnline === 'function' ? all.filter((c) => h.cpuOnline?.(c)) : all;
}

function cpuDir(k: Kernel, i: number): DirNode {
  const n = k.config.cpus;
  const all = Array.from({ length: n }, (_, c) => c);
  const self = [i];
  const topo: KTable = {
    core_id: val(i),
    physical_package_id: val(0),
    die_id: val(0),
    cluster_id: val(65535),
    cluster_cpus: val(cpuMask(self, n)),
    cluster_cpus_list: val(cpuRange(self)),
    core_cpus: val(cpuMask(self, n)),
    core_cpus_list: val(cpuRange(self)),
    thread_siblings: val(cpuMask(self, n)),
    thread_siblings_list: val(cpuRange(self)),
    core_siblings: val(cpuMask(all, n)),
    core_siblings_list: val(cpuRange(all)),
    die_cpus: val(cpuMask(all, n)),
    die_cpus_list: val(cpuRange(all)),
    package_cpus: val(cpuMask(all, n)),
    package_cpus_list: val(cpuRange(all)),
  };
  const cache: KTable = { uevent: uevent(() => []) };
  CACHES.forEach((c, idx) => {
    const shared = c.shared === 'all' ? all : self;
    cache[`index${idx}`] = kdir({
      uevent: uevent(() => []),
      id: val(c.shared === 'all' ? 0 : i),
      type: val(c.type),
      level: val(c.level),
      size: val(c.size),
      ways_of_associativity: val(c.ways),
      number_of_sets: val(c.sets),
      coherency_line_size: val(64),
      physical_line_partition: val(1),
      shared_cpu_map: val(cpuMask(shared, n)),
      shared_cpu_list: val(cpuRange(shared)),
    });
  });
  const layout = memoryLayout(k.config.memoryMb, n);
  const unit = percpuLayout(n).unitSize;
  // crash_notes: per-cpu buffer, physical address (first chunk near the top of low memory)
  const notes = (layout.lowBytes - 0x20000000 + 0x1ec3a400 + i * unit).toString(16);
  const t: KTable = {
    // print_cpu_modalias() ends the value with a newline of its own
    uevent: uevent(() => ['DRIVER=processor', `MODALIAS=${CPU_MODALIAS}\n`]),
    hotplug: kdir({
      target: val(i === 0 ? 0 : 236),
      state: val(236),
      fail: attr(() => '-1\n', { write: () => undefined }),
    }),
    crash_notes: val(notes),
    crash_notes_size: val(368),
    firmware_node: link(`../../../LNXSYSTM:00/LNXCPU:${i.toString(16).padStart(2, '0')}`),
    node0: link('../../node/node0'),
    power: () => powerDir({ pm_qos_resume_latency_us: attr(() => '0\n', { write: (d) => void (/^(\d+|n\/a)\n?$/.test(d) || inval()) }) }),
    topology: kdir(topo),
    driver: link('../../../../bus/cpu/drivers/processor'),
    subsystem: link('../../../../bus/cpu'),
    cache: kdir(cache),
  };
  if (i !== 0) {
    t.online = attr(() => `${onlineCpus(k).includes(i) ? 1 : 0}\n`, {
      write: (d) => {
        const v = d.trim();
        if (v !== '0' && v !== '1') throw new KernelError('EINVAL');
        const h = k.sched as unknown as HotplugHooks;
        if (typeof h.setCpuOnline === 'function') h.setCpuOnline(i, v === '1');
        else if (v === '0') throw new KernelError('EBUSY');
      },
    });
  }
  return kdir(t);
}

function inval(): never {
  throw new KernelError('EINVAL');
}

/** /sys/devices/system/cpu */
export function cpuSysDir(k: Kernel): DirNode {
  const n = k.config.cpus;
  const vulns = (sysfsData as { vulnerabilities: string[] }).vulnerabilities;
  return kdir(() => {
    const online = onlineCpus(k);
    const offline = Array.from({ length: n }, (_, c) => c).filter((c) => !online.includes(c));
    const t: KTable = {
      cpuidle: kdir({
        current_driver: val('none'),
        current_governor: attr(() => 'menu\n', {
          write: (d) => {
            if (!['ladder', 'menu', 'teo', 'haltpoll'].includes(d.trim())) throw new KernelError('EINVAL');
          },
        }),
        current_governor_ro: val('menu'),
        available_governors: val('ladder menu teo haltpoll'),
      }),
      uevent: uevent(() => []),
      nohz_full: val('(null)'),
      hotplug: kdir({ states: val('  0: offline\n236: online') }),
      possible: val(cpuRange(Array.from({ length: n }, (_, c) => c))),
      present: val(cpuRange(Array.from({ length: n }, (_, c) => c))),
      online: val(cpuRange(online)),
      offline: val(cpuRange(offline)),
      isolated: val(''),
      kernel_max: val(8191),
      modalias: val(CPU_MODALIAS),
      power: () => powerDir(),
      smt: kdir({
        control: attr(() => 'notsupported\n', {
          write: () => {
            throw new KernelError('ENODEV');
          },
        }),
        active: val(0),
      }),
      vulnerabilities: kdir(Object.fromEntries(vulns.map((v) => [v, val(VULN[v] ?? 'Not affected')]))),
      cpufreq: kdir({}),
    };
    for (let i = 0; i < n; i++) t[`cpu${i}`] = () => cpuDir(k, i);
    return t;
  });
}
