/**
 * The "static" procfs files: hardware and kernel-build facts rendered from the
 * machine's configuration and device model in the exact layout of the 6.1
 * seq_file show() functions (cpuinfo, version, cmdline, filesystems,
 * mounts, partitions, diskstats, devices, kallsyms, crypto, cgroups,
 * execdomains, misc, iomem, ioports, dma, key-users, locks).
 */
import { renderModuleKallsyms } from '../../modules/views';
import type { Kernel } from '../../kernel';
import { KERNEL_CMDLINE } from '../../printk/boot-log';
import { memoryLayout } from '../../printk/boot-layout';
import { LINUX_BANNER } from '../../types';
import { type DirTable, type FsCtx, pfile } from '../vnode';
import procData from '../../data/proc.json';
import cryptoData from '../../data/crypto.json';
import kallsymsData from '../../data/kallsyms.json';
import { CGROUP_CONTROLLERS } from '../sysfs/cgroup';
import { IO_FIELDS } from '../sysfs/devices';
import { renderMountinfo } from '../../sched/pid';

export { renderMountinfo };

const HZ = 250;

// ---------------------------------------------------------------- cpuinfo

/** /proc/cpuinfo (show_cpuinfo): one block per online CPU. */
export function renderCpuinfo(k: Kernel): string {
  const tmpl = (procData as unknown as { cpuinfo: [string, string][] }).cpuinfo;
  const n = k.config.cpus;
  const boot = k.devices.boot;
  const mhz = `${Math.floor(boot.tscKhz / 1000)}.${String(boot.tscKhz % 1000).padStart(3, '0')}`;
  let out = '';
  for (let i = 0; i < n; i++) {
    const lpj = boot.lpj[i] ?? boot.lpj[0];
    const bogo = `${Math.floor(lpj / (500000 / HZ))}.${String(Math.floor(lpj / (5000 / HZ)) % 100).padStart(2, '0')}`;
    for (const [key, v] of tmpl) {
      const name = key.trim();
      let value = v;
      switch (name) {
        case 'processor':
        case 'core id':
        case 'apicid':
        case 'initial apicid':
          value = String(i);
          break;
        case 'siblings':
        case 'cpu cores':
          value = String(n);
          break;
        case 'physical id':
          value = '0';
          break;
        case 'cpu MHz':
          value = mhz;
          break;
        case 'bogomips':
          value = bogo;
          break;
      }
      out += name === 'power management' ? `${key}:\n` : `${key}: ${value}\n`;
    }
    out += '\n';
  }
  return out;
}

// ---------------------------------------------------------------- block

/** /proc/partitions (show_partition): disks with a capacity, then their partitions. */
export function renderPartitions(k: Kernel): string {
  let out = 'major minor  #blocks  name\n\n';
  for (const b of k.devices.blockDevices()) {
    if (!b.disk.sectors) continue;
    out += `${String(b.major).padStart(4)}  ${String(b.minor).padStart(7)} ${String(Math.floor(b.sectors / 2)).padStart(10)} ${b.name}\n`;
  }
  return out;
}

/** /proc/diskstats (diskstats_show). */
export function renderDiskstats(k: Kernel): string {
  let out = '';
  for (const b of k.devices.blockDevices()) {
    const io = k.devices.ioStat(b.name);
    while (io.length < IO_FIELDS) io.push(0);
    out += `${String(b.major).padStart(4)} ${String(b.minor).padStart(7)} ${b.name} ${io.join(' ')}\n`;
  }
  return out;
}

/** /proc/devices: character then block majors, by major number. */
export function renderDevices(k: Kernel): string {
  const list = (kind: 'chr' | 'blk'): string =>
    k.devices
      .majors(kind)
      .map((x, i) => [x, i] as const)
      .sort((a, b) => a[0][0] - b[0][0] || a[1] - b[1])
      .map(([[m, name]]) => `${String(m).padStart(3)} ${name}\n`)
      .join('');
  return `Character devices:\n${list('chr')}\nBlock devices:\n${list('blk')}`;
}

/** /proc/misc (misc_seq_show): newest first. */
export function renderMisc(k: Kernel): string {
  return k.devices
    .miscDevices()
    .map(([minor, name]) => `${String(minor).padStart(3)} ${name}\n`)
    .join('');
}

/** /proc/filesystems */
export function renderFilesystems(k: Kernel): string {
  return k.devices
    .filesystems()
    .map(([n, nodev]) => `${nodev ? 'nodev' : ''}\t${n}\n`)
    .join('');
}

// ---------------------------------------------------------------- kallsyms

interface KallsymsData {
  percpu: [number, string][];
  head: [number, string, string][];
  tail: string;
}

const KALLSYMS = kallsymsData as unknown as KallsymsData;
/** __START_KERNEL_map + the default physical start: the text base without KASLR. */
const TEXT_BASE = 0xffffffff81000000n;

/** Type of a symbol known only by name (available_filter_functions): static helpers are 't'. */
function symType(name: string): string {
  if (name.includes('.') || /^(trace_event_raw_event_|perf_trace_|trace_raw_output_|__bpf_trace_|trace_event_get_offsets_)/.test(name))
    return 't';
  return 'T';
}

/** A deterministic function size (16-byte aligned) for symbols whose size the data lacks. */
function symSize(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return 16 * (2 + (h % 48));
}

/** kallsyms_show_value(): addresses for CAP_SYSLOG unless kptr_restrict is 2 (or for anyone with perf_event_paranoid <= 1 and kptr_restrict 0). */
export function kallsymsShowsAddresses(k: Kernel, ctx: FsCtx): boolean {
  const restrict = Number(k.sysctl.value('kernel/kptr_restrict'));
  const paranoid = Number(k.sysctl.value('kernel/perf_event_paranoid'));
  if (restrict === 0 && paranoid <= 1) return true;
  if (restrict <= 1 && ctx.uid === 0) return true;
  return false;
}

/** /proc/kallsyms: per-cpu symbols, then the kernel text at this boot's KASLR base. */
export function renderKallsyms(k: Kernel, ctx: FsCtx): string {
  const show = kallsymsShowsAddresses(k, ctx);
  const zero = '0000000000000000';
  const parts: string[] = [];
  for (const [off, name] of KALLSYMS.percpu) parts.push(`${show ? off.toString(16).padStart(16, '0') : zero} A ${name}\n`);
  const base = TEXT_BASE + BigInt(k.devices.boot.kaslr) * 0x200000n;
  let off = 0;
  for (const [d, type, name] of KALLSYMS.head) {
    off += d;
    parts.push(`${show ? (base + BigInt(off)).toString(16) : zero} ${type} ${name}\n`);
  }
  let prev = KALLSYMS.head.length ? KALLSYMS.head[KALLSYMS.head.length - 1][2] : '';
  let last = '';
  for (const coded of KALLSYMS.tail.split(' ')) {
    const name = last.slice(0, coded.charCodeAt(0) - 48) + coded.slice(1);
    last = name;
    off += symSize(prev);
    prev = name;
    parts.push(`${show ? (base + BigInt(off)).toString(16) : zero} ${symType(name)} ${name}\n`);
  }
  if (k.modules?.list().length) parts.push(renderModuleKallsyms(k, show));
  return parts.join('');
}

// ---------------------------------------------------------------- crypto

/** /proc/crypto: algorithms newest first (loaded modules' providers, then the built-in ones). */
export function renderCrypto(k: Kernel): string {
  const blocks = cryptoData as unknown as [string, string][][];
  const modOf = (b: [string, string][]): string => b.find(([key]) => key === 'module')?.[1] ?? 'kernel';
  const loaded = [...(k.modules?.list() ?? [])].map((m) => m.name);
  const out: [string, string][][] = [];
  for (const m of loaded) for (const b of blocks) if (modOf(b) === m) out.push(b);
  for (const b of blocks) if (modOf(b) === 'kernel') out.push(b);
  return out.map((b) => b.map(([key, v]) => `${key.padEnd(12)} : ${v}\n`).join('') + '\n').join('');
}

// ---------------------------------------------------------------- cgroups

/** /proc/cgroups: every controller is on the cgroup2 hierarchy (0); counts of cgroups where enabled. */
export function renderCgroups(k: Kernel): string {
  const names = (procData as unknown as { cgroups: string[] }).cgroups;
  let total = 1;
  try {
    total = countCgroups(k);
  } catch {
    total = 1;
  }
  const enabledBelowRoot = new Set(['cpu', 'cpuacct', 'blkio', 'memory', 'pids', 'perf_event']);
  let out = '#subsys_name\thierarchy\tnum_cgroups\tenabled\n';
  for (const n of names) out += `${n}\t0\t${enabledBelowRoot.has(n) ? total : 1}\t1\n`;
  void CGROUP_CONTROLLERS;
  return out;
}

function countCgroups(k: Kernel): number {
  let n = 0;
  const walk = (p: string): void => {
    n++;
    for (const e of k.vfs.readdir(k.rootCtx(), p)) if (e.type === 'dir') walk(`${p}/${e.name}`);
  };
  walk('/sys/fs/cgroup');
  return n;
}

// ---------------------------------------------------------------- iomem / ioports

type Res = [number, number, string, Res[]?];

function renderResources(tree: Res[], ctx: FsCtx, width: number): string {
  let out = '';
  const hex = (v: number): string => (ctx.uid === 0 ? v : 0).toString(16).padStart(width, '0');
  const walk = (list: Res[], depth: number): void => {
    for (const [s, e, name, kids] of list) {
      out += `${'  '.repeat(depth)}${hex(s)}-${hex(e)} : ${name}\n`;
      if (kids) walk(kids, depth + 1);
    }
  };
  walk(tree, 0);
  return out;
}

/** /proc/iomem of the i440fx machine with this memory size (addresses hidden from non-root). */
export function renderIomem(k: Kernel, ctx: FsCtx): string {
  const l = memoryLayout(k.config.memoryMb, k.config.cpus);
  const phys = k.devices.boot.physBase;
  const lowEnd = l.e820.find((e) => e.start === 0x100000)?.end ?? l.lowBytes;
  const G = 0x100000000;
  const tree: Res[] = [
    [0, 0xfff, 'Reserved'],
    [0x1000, 0x9fbff, 'System RAM'],
    [0x9fc00, 0x9ffff, 'Reserved'],
    [0xa0000, 0xbffff, 'PCI Bus 0000:00'],
    [0xc0000, 0xc9bff, 'Video ROM'],
    [0xca000, 0xca5ff, 'Adapter ROM'],
    [0xf0000, 0xfffff, 'Reserved', [[0xf0000, 0xfffff, 'System ROM']]],
    [
      0x100000,
      lowEnd - 1,
      'System RAM',
      [
        [phys, phys + 0xe01d31, 'Kernel code'],
        [phys + 0x1000000, phys + 0x18eafff, 'Kernel rodata'],
        [phys + 0x1a00000, phys + 0x1c4897f, 'Kernel data'],
        [phys + 0x2310000, phys + 0x33fffff, 'Kernel bss'],
      ],
    ],
    [lowEnd, l.lowBytes - 1, 'Reserved'],
    [
      l.lowBytes,
      0xfebfffff,
      'PCI Bus 0000:00',
      [
        [0xfd000000, 0xfdffffff, '0000:00:02.0'],
        [0xfe000000, 0xfe003fff, '0000:00:03.0', [[0xfe000000, 0xfe003fff, 'virtio-pci-modern']]],
        [0xfe004000, 0xfe007fff, '0000:00:04.0', [[0xfe004000, 0xfe007fff, 'virtio-pci-modern']]],
        [0xfebf0000, 0xfebf0fff, '0000:00:02.0'],
        [0xfebf1000, 0xfebf1fff, '0000:00:03.0'],
        [0xfebf2000, 0xfebf2fff, '0000:00:04.0'],
      ],
    ],
    [0xfec00000, 0xfec003ff, 'IOAPIC 0'],
    [0xfed00000, 0xfed003ff, 'HPET 0', [[0xfed00000, 0xfed003ff, 'PNP0103:00']]],
    [0xfee00000, 0xfee00fff, 'Local APIC'],
    [0xfffc0000, 0xffffffff, 'Reserved'],
  ];
  if (l.highBytes > 0) tree.push([G, G + l.highBytes - 1, 'System RAM']);
  const hole = Math.ceil((G + l.highBytes) / 0x40000000) * 0x40000000;
  tree.push([hole, hole + 0x80000000 - 1, 'PCI Bus 0000:00']);
  tree.push([0xfd00000000, 0xffffffffff, 'Reserved']);
  return renderResources(tree, ctx, 8);
}

const IOPORTS: Res[] = [
  [
    0,
    0xcf7,
    'PCI Bus 0000:00',
    [
      [0, 0x1f, 'dma1'],
      [0x20, 0x21, 'pic1'],
      [0x40, 0x43, 'timer0'],
      [0x50, 0x53, 'timer1'],
      [0x60, 0x60, 'keyboard'],
      [0x64, 0x64, 'keyboard'],
      [0x70, 0x77, 'rtc0'],
      [0x80, 0x8f, 'dma page reg'],
      [0xa0, 0xa1, 'pic2'],
      [0xc0, 0xdf, 'dma2'],
      [0xf0, 0xff, 'fpu'],
      [0x170, 0x177, '0000:00:01.1'],
      [0x1f0, 0x1f7, '0000:00:01.1'],
      [0x376, 0x376, '0000:00:01.1'],
      [0x3c0, 0x3df, 'vga+'],
      [0x3f6, 0x3f6, '0000:00:01.1'],
      [0x3f8, 0x3ff, 'serial'],
      [0x510, 0x51b, 'QEMU0002:00'],
      [
        0x600,
        0x63f,
        '0000:00:01.3',
        [
          [0x600, 0x603, 'ACPI PM1a_EVT_BLK'],
          [0x604, 0x605, 'ACPI PM1a_CNT_BLK'],
          [0x608, 0x60b, 'ACPI PM_TMR'],
        ],
      ],
      [0x700, 0x70f, '0000:00:01.3'],
    ],
  ],
  [0xcf8, 0xcff, 'PCI conf1'],
  [
    0xd00,
    0xffff,
    'PCI Bus 0000:00',
    [
      [0xafe0, 0xafe3, 'ACPI GPE0_BLK'],
      [0xc000, 0xc07f, '0000:00:03.0'],
      [0xc080, 0xc09f, '0000:00:04.0'],
      [0xc0a0, 0xc0af, '0000:00:01.1'],
    ],
  ],
];

export function renderIoports(ctx: FsCtx): string {
  return renderResources(IOPORTS, ctx, 4);
}

// ---------------------------------------------------------------- small tables

/** /proc/key-users: root's keys against kernel.keys.root_max*. */
export function renderKeyUsers(k: Kernel): string {
  const maxkeys = k.sysctl.value('kernel/keys/root_maxkeys');
  const maxbytes = k.sysctl.value('kernel/keys/root_maxbytes');
  return `${String(0).padStart(5)}: ${String(13).padStart(5)} 12/12 3/${maxkeys} 40/${maxbytes}\n`;
}

/** procfs table entries of the static files (spread into buildProcfs). */
export function staticProcEntries(k: Kernel): DirTable {
  return {
    cpuinfo: pfile(() => renderCpuinfo(k)),
    version: pfile(() => `${LINUX_BANNER}\n`),
    cmdline: pfile(() => `${KERNEL_CMDLINE}\n`),
    filesystems: pfile(() => renderFilesystems(k)),
    mounts: pfile(() =>
      k.vfs
        .list()
        .map((m) => `${m.source} ${m.path} ${m.fstype} ${m.options} 0 0\n`)
        .join(''),
    ),
    partitions: pfile(() => renderPartitions(k)),
    diskstats: pfile(() => renderDiskstats(k)),
    devices: pfile(() => renderDevices(k)),
    kallsyms: pfile((ctx) => renderKallsyms(k, ctx)),
    crypto: pfile(() => renderCrypto(k)),
    cgroups: pfile(() => renderCgroups(k)),
    execdomains: pfile(() => '0-0\tLinux           \t[kernel]\n'),
    misc: pfile(() => renderMisc(k)),
    iomem: pfile((ctx) => renderIomem(k, ctx)),
    ioports: pfile((ctx) => renderIoports(ctx)),
    dma: pfile(() => ' 4: cascade\n'),
    'key-users': pfile(() => renderKeyUsers(k)),
    locks: pfile(() => ''),
  };
}
