import type { Kernel } from '../kernel';
import type { Printk } from './printk';
import { LINUX_BANNER } from '../types';
import type { Rng } from '../util/rng';
import {
  FREED_AFTER_MEMINIT_K,
  type HashSpec,
  INITRD_BYTES,
  KERNEL_IMAGE_K,
  type MemoryLayout,
  PCPU,
  largeSystemHash,
  memoryLayout,
  nosaveRegions,
  pciGap,
  percpuLayout,
  percpuMapLines,
  unavailableRanges,
} from './boot-layout';

/**
 * The boot log: what Linux 6.1 (Debian 6.1.0-56-amd64) prints booting under
 * qemu-system-x86_64 -M pc -accel tcg, as a table of line templates. Static
 * lines are the kernel's constant texts; every value that depends on the
 * machine (memory map, zones, CPUs, hash sizes, clocks) is computed from its
 * configuration. Timestamps follow the reference boot's schedule, with
 * per-record jitter from the machine's seeded rng and phases that scale with
 * the CPU count and the memory size.
 */

/** the capture's command line without its panic=-1 (see BOOT_OVERRIDES in sysctl/tree.ts) */
export const KERNEL_CMDLINE = 'console=ttyS0';

/** What the templates see. */
export interface BootCtx {
  cpus: number;
  mem: MemoryLayout;
  /** TSC frequency in kHz ("tsc: Detected 2596.117 MHz processor") */
  tscKhz: number;
  /** loops_per_jiffy of each CPU */
  lpj: number[];
  /** wall clock of boot, ms since the epoch */
  bootEpochMs: number;
  /** timestamp of the record being rendered, ns since boot */
  ts: number;
  /** pages the mm model reports (MemTotal, MemFree) */
  mmTotalPages: number;
  mmFreePages: number;
  rng: Rng;
}

type Text = string | ((c: BootCtx) => string | readonly string[] | null);
/** How a phase's duration scales: with the secondary CPUs booted, the memory initialised or the deferred pages. */
type Scale = 'cpu' | 'mem' | 'deferred';
/** [reference µs, level, text, device ("subsystem:name") for the SUBSYSTEM=/DEVICE= dictionary, scale] */
type Entry = readonly [number, number, Text, string?, Scale?];

const HZ = 250;
const hex = (n: number, digits: number): string => '0x' + n.toString(16).padStart(digits, '0');
/** %#018Lx */
const x16 = (n: number): string => hex(n, 16);
/** %#010llx */
const x8 = (n: number): string => hex(n, 8);
const memRange16 = (s: number, eExcl: number): string => `[mem ${x16(s)}-${x16(eExcl - 1)}]`;
const memRange8 = (s: number, eExcl: number): string => `[mem ${x8(s)}-${x8(eExcl - 1)}]`;
const smp = (f: (c: BootCtx) => string | readonly string[] | null) => (c: BootCtx) => (c.cpus > 1 ? f(c) : null);
const bogo = (lpj: number): string => `${Math.floor(lpj / (500000 / HZ))}.${String(Math.floor(lpj / (5000 / HZ)) % 100).padStart(2, '0')}`;

function hashLine(name: string, h: HashSpec) {
  return (c: BootCtx): string => {
    const r = largeSystemHash(c.mem, h);
    return `${name} hash table entries: ${r.entries} (order: ${r.order}, ${r.bytes} bytes, ${r.where})`;
  };
}

const futexEntries = (c: BootCtx): number => 2 ** Math.ceil(Math.log2(256 * c.cpus));
const tcpEhash: HashSpec = { bucket: 8, scale: 17, high: 512 * 1024 };

/** QEMU's ACPI tables, in the order SeaBIOS lays them out from the top of low RAM. */
function acpiTables(c: BootCtx): { sig: string; addr: number; len: number; rev: string }[] {
  const base = c.mem.acpiBase;
  const madt = 0x70 + 8 * c.cpus;
  const facs = { sig: 'FACS', addr: base, len: 0x40, rev: '' };
  const dsdt = { sig: 'DSDT', addr: base + 0x40, len: 0x199f, rev: 'v01' };
  const facp = { sig: 'FACP', addr: dsdt.addr + dsdt.len, len: 0x74, rev: 'v01' };
  const apic = { sig: 'APIC', addr: facp.addr + facp.len, len: madt, rev: 'v01' };
  const hpet = { sig: 'HPET', addr: apic.addr + apic.len, len: 0x38, rev: 'v01' };
  const waet = { sig: 'WAET', addr: hpet.addr + hpet.len, len: 0x28, rev: 'v01' };
  const rsdt = { sig: 'RSDT', addr: waet.addr + waet.len, len: 0x24 + 4 * 4, rev: 'v01' };
  return [rsdt, facp, dsdt, facs, apic, hpet, waet];
}

function acpiTableLines(c: BootCtx): string[] {
  return acpiTables(c).map((t) => {
    const addr = '0x' + t.addr.toString(16).toUpperCase().padStart(16, '0');
    const len = t.len.toString(16).toUpperCase().padStart(6, '0');
    return t.rev ? `ACPI: ${t.sig} ${addr} ${len} (${t.rev} BOCHS  BXPC     00000001 BXPC 00000001)` : `ACPI: ${t.sig} ${addr} ${len}`;
  });
}

function acpiReserveLines(c: BootCtx): string[] {
  return acpiTables(c)
    .filter((t) => t.sig !== 'RSDT')
    .map((t) => `ACPI: Reserving ${t.sig} table memory at ${memRange8(t.addr, t.addr + t.len)}`);
}

function zoneRangeLines(c: BootCtx): string[] {
  const m = c.mem;
  const out = ['Zone ranges:'];
  for (const z of m.zones) {
    const name = `  ${z.name.padEnd(8)} `;
    out.push(z.spanned ? `${name}${memRange16(z.startPfn * 4096, z.endPfn * 4096)}` : `${name}empty`);
  }
  out.push('  Device   empty');
  return out;
}

function memoryLine(c: BootCtx): string {
  const m = c.mem;
  const physK = m.physPages * 4;
  // reserved = physpages - totalram at mem_init; totalram grows by what boot frees later
  const mmReserved = physK - (c.mmTotalPages * 4 - FREED_AFTER_MEMINIT_K);
  const reservedK = mmReserved >= 0 && mmReserved <= physK ? mmReserved : m.reservedK;
  const availK = Math.min(m.availableK, c.mmFreePages * 4);
  const k = KERNEL_IMAGE_K;
  return (
    `Memory: ${availK}K/${physK}K available (${k.code}K kernel code, ${k.rwdata}K rwdata, ${k.rodata}K rodata, ` +
    `${k.init}K init, ${k.bss}K bss, ${reservedK}K reserved, 0K cma-reserved)`
  );
}

function cpusLine(c: BootCtx): string | null {
  if (c.cpus < 2) return null;
  const width = String(c.cpus).length + 1;
  let s = '.... node  #0, CPUs:  ' + ' '.repeat(width + 1);
  for (let cpu = 1; cpu < c.cpus; cpu++) s += ' '.repeat(Math.max(1, width - String(cpu).length)) + '#' + cpu;
  return s;
}

function pciWindows(c: BootCtx): [string, string, string, string, string] {
  const m = c.mem;
  const low = m.lowBytes;
  const hole64 = Math.ceil(Math.max(0x100000000, 0x100000000 + m.highBytes) / 0x40000000) * 0x40000000;
  return [
    '[io  0x0000-0x0cf7 window]',
    '[io  0x0d00-0xffff window]',
    '[mem 0x000a0000-0x000bffff window]',
    `[mem ${x8(low)}-0xfebfffff window]`,
    `[mem ${x8(hole64)}-${x8(hole64 + 0x80000000 - 1)} window]`,
  ];
}

function rtcTime(c: BootCtx): string {
  const sec = Math.floor((c.bootEpochMs + c.ts / 1e6) / 1000);
  const iso = new Date(sec * 1000).toISOString().slice(0, 19);
  return `rtc_cmos 00:05: setting system clock to ${iso} UTC (${sec})`;
}

function auditLine(c: BootCtx): string {
  const ms = Math.floor(c.bootEpochMs + c.ts / 1e6);
  const sec = Math.floor(ms / 1000);
  return `audit: type=2000 audit(${sec}.${String(ms - sec * 1000).padStart(3, '0')}:1): state=initialized audit_enabled=0 res=1`;
}

function dmaPool(kind: string) {
  return (c: BootCtx): string => {
    // atomic_pool_size: 128 KiB per GiB of totalram, at least 128 KiB, at most MAX_ORDER_NR_PAGES
    const pages = Math.min(Math.floor(c.mmTotalPages / 8192), 1024);
    const kib = Math.max((pages * 4096) / 1024, 128);
    return `DMA: preallocated ${kib} KiB ${kind} pool for atomic allocations`;
  };
}

const cblist = [
  'cblist_init_generic: Setting adjustable number of callback queues.',
  (c: BootCtx): string => `cblist_init_generic: Setting shift to ${Math.ceil(Math.log2(c.cpus))} and lim to 1 rcu_task_cpu_ids=${c.cpus}.`,
] as const;

const pciBus = 'pci_bus:0000:00';

/** The reference boot's lines, in order. */
export const BOOT_LOG: readonly Entry[] = [
  [0, 5, LINUX_BANNER],
  [0, 6, `Command line: ${KERNEL_CMDLINE}`],
  [0, 6, 'BIOS-provided physical RAM map:'],
  [0, 6, (c) => c.mem.e820.map((e) => `BIOS-e820: ${memRange16(e.start, e.end)} ${e.type}`)],
  [0, 6, 'NX (Execute Disable) protection: active'],
  [0, 6, 'SMBIOS 2.8 present.'],
  [0, 6, 'DMI: QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014'],
  [0, 6, 'tsc: Fast TSC calibration using PIT'],
  [0, 6, (c) => `tsc: Detected ${Math.floor(c.tscKhz / 1000)}.${String(c.tscKhz % 1000).padStart(3, '0')} MHz processor`],
  [9198, 7, 'e820: update [mem 0x00000000-0x00000fff] usable ==> reserved'],
  [9386, 7, 'e820: remove [mem 0x000a0000-0x000fffff] usable'],
  [10761, 6, 'AGP: No AGP bridge found'],
  [11010, 6, (c) => `last_pfn = ${hex(c.mem.maxPfn, 0)} max_arch_pfn = 0x400000000`],
  [11743, 6, 'x86/PAT: Configuration [0-7]: WB  WC  UC- UC  WB  WP  UC- WT  '],
  [11950, 6, (c) => (c.mem.highBytes ? `last_pfn = ${hex(c.mem.maxLowPfn, 0)} max_arch_pfn = 0x400000000` : null)],
  [38997, 6, 'found SMP MP-table at [mem 0x000f5b90-0x000f5b9f]'],
  [41051, 6, 'Using GB pages for direct mapping'],
  [45592, 6, (c) => `RAMDISK: ${memRange8(c.mem.initrd.start, Math.ceil(c.mem.initrd.end / 4096) * 4096)}`],
  [46178, 6, 'ACPI: Early table checksum verification disabled'],
  [46607, 6, 'ACPI: RSDP 0x00000000000F59C0 000014 (v00 BOCHS )'],
  [47079, 6, acpiTableLines],
  [48895, 6, acpiReserveLines],
  [51758, 6, 'No NUMA configuration found'],
  [51793, 6, (c) => `Faking a node at ${memRange16(0, c.mem.maxPfn * 4096)}`],
  [52656, 6, (c) => `NODE_DATA(0) allocated ${memRange8(c.mem.nodeData.start, c.mem.nodeData.end)}`],
  [57749, 6, zoneRangeLines],
  [57969, 6, 'Movable zone start for each node'],
  [58009, 6, 'Early memory node ranges'],
  [58046, 6, (c) => c.mem.ranges.map(([s, e]) => `  node   0: ${memRange16(s * 4096, e * 4096)}`)],
  [58568, 6, (c) => `Initmem setup node 0 ${memRange16(c.mem.ranges[0][0] * 4096, c.mem.maxPfn * 4096)}`],
  [59776, 6, (c) => unavailableRanges(c.mem).map((u) => `On node 0, zone ${u.zone}: ${u.pages} pages in unavailable ranges`)],
  // memmap_init() of the initialised memory takes most of this gap
  [96392, 6, 'ACPI: PM-Timer IO Port: 0x608', undefined, 'mem'],
  [96999, 6, 'ACPI: LAPIC_NMI (acpi_id[0xff] dfl dfl lint[0x1])'],
  [97428, 6, 'IOAPIC[0]: apic_id 0, version 32, address 0xfec00000, GSI 0-23'],
  [97568, 6, 'ACPI: INT_SRC_OVR (bus 0 bus_irq 0 global_irq 2 dfl dfl)'],
  [97848, 6, 'ACPI: INT_SRC_OVR (bus 0 bus_irq 5 global_irq 5 high level)'],
  [97897, 6, 'ACPI: INT_SRC_OVR (bus 0 bus_irq 9 global_irq 9 high level)'],
  [97989, 6, 'ACPI: INT_SRC_OVR (bus 0 bus_irq 10 global_irq 10 high level)'],
  [98000, 6, 'ACPI: INT_SRC_OVR (bus 0 bus_irq 11 global_irq 11 high level)'],
  [98197, 6, 'ACPI: Using ACPI (MADT) for SMP configuration information'],
  [98250, 6, 'ACPI: HPET id: 0x8086a201 base: 0xfed00000'],
  [98614, 6, (c) => `smpboot: Allowing ${c.cpus} CPUs, 0 hotplug CPUs`],
  [99662, 6, (c) => nosaveRegions(c.mem).map(([s, e]) => `PM: hibernation: Registered nosave memory: ${memRange8(s * 4096, e * 4096)}`)],
  [99821, 6, (c) => `${memRange8(...pciGap(c.mem))} available for PCI devices`],
  [99858, 6, 'Booting paravirtualized kernel on bare hardware'],
  [100195, 6, 'clocksource: refined-jiffies: mask: 0xffffffff max_cycles: 0xffffffff, max_idle_ns: 7645519600211568 ns'],
  [109705, 6, (c) => `setup_percpu: NR_CPUS:8192 nr_cpumask_bits:${c.cpus} nr_cpu_ids:${c.cpus} nr_node_ids:1`],
  [119857, 6, (c) => `percpu: Embedded 62 pages/cpu s${PCPU.static} r${PCPU.reserved} d${PCPU.dyn} u${percpuLayout(c.cpus).unitSize}`],
  [120258, 7, (c) => `pcpu-alloc: s${PCPU.static} r${PCPU.reserved} d${PCPU.dyn} u${percpuLayout(c.cpus).unitSize} alloc=1*${PCPU.atom}`],
  [120335, 7, (c) => percpuMapLines(c.cpus)],
  [121444, 6, 'Fallback order for Node 0: 0 '],
  [121672, 6, (c) => `Built 1 zonelists, mobility grouping on.  Total pages: ${c.mem.nrKernelPages}`],
  [121688, 6, (c) => `Policy zone: ${c.mem.highBytes ? 'Normal' : 'DMA32'}`],
  [121821, 5, `Kernel command line: ${KERNEL_CMDLINE}`],
  [123160, 5, 'random: crng init done'],
  [124188, 6, hashLine('Dentry cache', { bucket: 8, scale: 13, early: true })],
  [124792, 6, hashLine('Inode-cache', { bucket: 8, scale: 14, early: true })],
  [126167, 6, 'mem auto-init: stack:all(zero), heap alloc:on, heap free:off'],
  [126301, 6, 'AGP: Checking aperture...'],
  [127456, 6, 'AGP: No AGP bridge found'],
  [153439, 6, memoryLine],
  [158657, 6, (c) => `SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=${c.cpus}, Nodes=1`],
  [160780, 6, 'ftrace: allocating 40521 entries in 159 pages'],
  [197959, 6, 'ftrace: allocated 159 pages with 6 groups'],
  [205985, 6, 'Dynamic Preempt: voluntary'],
  [213382, 6, 'rcu: Preemptible hierarchical RCU implementation.'],
  [213418, 6, (c) => `rcu: \tRCU restricting CPUs from NR_CPUS=8192 to nr_cpu_ids=${c.cpus}.`],
  [213510, 6, '\tTrampoline variant of Tasks RCU enabled.'],
  [213516, 6, '\tRude variant of Tasks RCU enabled.'],
  [213522, 6, '\tTracing variant of Tasks RCU enabled.'],
  [213595, 6, 'rcu: RCU calculated value of scheduler-enlistment delay is 25 jiffies.'],
  [213619, 6, (c) => `rcu: Adjusting geometry for rcu_fanout_leaf=16, nr_cpu_ids=${c.cpus}`],
  // arch_probe_nr_irqs(): gsi_top 24 + 16 legacy + 8 per CPU + 16 per GSI, at most NR_VECTORS per CPU
  [241917, 6, (c) => `NR_IRQS: 524544, nr_irqs: ${Math.min(256 * c.cpus, 24 + 16 + 8 * c.cpus + 24 * 16)}, preallocated irqs: 16`],
  [252156, 6, 'rcu: srcu_init: Setting srcu_struct sizes based on contention.'],
  [257127, 6, 'Console: colour VGA+ 80x25'],
  [271197, 6, 'printk: console [ttyS0] enabled'],
  [272245, 6, 'ACPI: Core revision 20220331'],
  [276236, 6, 'clocksource: hpet: mask: 0xffffffff max_cycles: 0xffffffff, max_idle_ns: 19112604467 ns'],
  [277833, 6, 'APIC: Switch to symmetric I/O mode setup'],
  [280836, 6, '..TIMER: vector=0x30 apic1=0 pin1=2 apic2=-1 pin2=-1'],
  [301677, 6, smp(() => 'tsc: Marking TSC unstable due to TSCs unsynchronized')],
  [302202, 6, (c) => `Calibrating delay loop (skipped), value calculated using timer frequency.. ${bogo(c.lpj[0])} BogoMIPS (lpj=${c.lpj[0]})`],
  [303788, 6, 'x86/cpu: User Mode Instruction Prevention (UMIP) activated'],
  [313254, 6, 'process: using AMD E400 aware idle routine'],
  [313630, 6, 'Last level iTLB entries: 4KB 512, 2MB 255, 4MB 127'],
  [313910, 6, 'Last level dTLB entries: 4KB 512, 2MB 255, 4MB 127, 1GB 0'],
  [315086, 6, 'Spectre V1 : Mitigation: usercopy/swapgs barriers and __user pointer sanitization'],
  [315648, 6, 'Spectre V2 : Mitigation: Retpolines'],
  [315798, 6, 'Spectre V2 : Spectre v2 / SpectreRSB: Filling RSB on context switch and VMEXIT'],
  [317214, 6, "x86/fpu: Supporting XSAVE feature 0x001: 'x87 floating point registers'"],
  [322068, 6, "x86/fpu: Supporting XSAVE feature 0x002: 'SSE registers'"],
  [322249, 6, "x86/fpu: Supporting XSAVE feature 0x004: 'AVX registers'"],
  [322383, 6, "x86/fpu: Supporting XSAVE feature 0x008: 'MPX bounds registers'"],
  [322538, 6, "x86/fpu: Supporting XSAVE feature 0x010: 'MPX CSR'"],
  [322717, 6, "x86/fpu: Supporting XSAVE feature 0x200: 'Protection Keys User registers'"],
  [322997, 6, 'x86/fpu: xstate_offset[2]:  576, xstate_sizes[2]:  256'],
  [323221, 6, 'x86/fpu: xstate_offset[3]:  960, xstate_sizes[3]:   64'],
  [323347, 6, 'x86/fpu: xstate_offset[4]: 1024, xstate_sizes[4]:   64'],
  [323518, 6, 'x86/fpu: xstate_offset[9]: 2688, xstate_sizes[9]:    8'],
  [323656, 6, "x86/fpu: Enabled xstate features 0x21f, context size is 2696 bytes, using 'standard' format."],
  [464663, 6, 'Freeing SMP alternatives memory: 36K'],
  // pid_max: max(32768, 1024 per CPU); minimum max(301, 8 per CPU)
  [465279, 6, (c) => `pid_max: default: ${Math.max(32768, 1024 * c.cpus)} minimum: ${Math.max(301, 8 * c.cpus)}`],
  [471453, 6, 'LSM: Security Framework initializing'],
  [472626, 6, 'landlock: Up and running.'],
  [472725, 6, 'Yama: disabled by default; enable with sysctl kernel.yama.*'],
  [475890, 6, 'AppArmor: AppArmor initialized'],
  [476044, 6, 'TOMOYO Linux initialized'],
  [476543, 6, 'LSM support for eBPF active'],
  [479565, 6, hashLine('Mount-cache', { bucket: 8, scale: 19 })],
  [479805, 6, hashLine('Mountpoint-cache', { bucket: 8, scale: 19 })],
  [621974, 6, 'smpboot: CPU0: AMD QEMU TCG CPU version 2.5+ (family: 0xf, model: 0x6b, stepping: 0x1)'],
  [626023, 6, cblist[0]],
  [626263, 6, cblist[1]],
  [626696, 6, cblist[0]],
  [626847, 6, cblist[1]],
  [627425, 6, cblist[0]],
  [627577, 6, cblist[1]],
  [628053, 6, 'Performance Events: PMU not available due to virtualization, using software events only.'],
  [629075, 6, 'signal: max sigframe size: 3632'],
  [629908, 6, 'rcu: Hierarchical SRCU implementation.'],
  [630011, 6, 'rcu: \tMax phase no-delay instances is 1000.'],
  [641393, 6, 'NMI watchdog: Perf NMI watchdog permanently disabled'],
  [645488, 6, 'smp: Bringing up secondary CPUs ...'],
  [654530, 6, smp(() => 'x86: Booting SMP configuration:')],
  [654780, 6, cpusLine],
  [744108, 6, (c) => `smp: Brought up 1 node, ${c.cpus} CPU${c.cpus > 1 ? 's' : ''}`, undefined, 'cpu'],
  [744406, 6, 'smpboot: Max logical packages: 1'],
  [744549, 6, (c) => `smpboot: Total of ${c.cpus} processors activated (${bogo(c.lpj.reduce((a, b) => a + b, 0))} BogoMIPS)`],
  [
    756606,
    6,
    (c) => (c.mem.deferredPages ? `node 0 deferred pages initialised in ${Math.floor((c.mem.deferredPages * (55 + c.rng.int(0, 10))) / 1e6)}ms` : null),
    undefined,
    'deferred',
  ],
  [766676, 6, 'devtmpfs: initialized'],
  [774208, 6, 'x86/mm: Memory block size: 128MB'],
  [784168, 6, 'clocksource: jiffies: mask: 0xffffffff max_cycles: 0xffffffff, max_idle_ns: 7645041785100000 ns'],
  [785307, 6, (c) => hashLine('futex', { bucket: 64, scale: 0, entries: futexEntries(c) })(c)],
  [790369, 6, 'pinctrl core: initialized pinctrl subsystem'],
  [821411, 6, 'NET: Registered PF_NETLINK/PF_ROUTE protocol family'],
  [826397, 6, dmaPool('GFP_KERNEL')],
  [828101, 6, dmaPool('GFP_KERNEL|GFP_DMA')],
  [828842, 6, dmaPool('GFP_KERNEL|GFP_DMA32')],
  [829600, 6, 'audit: initializing netlink subsys (disabled)'],
  [831065, 5, auditLine],
  [838769, 6, "thermal_sys: Registered thermal governor 'fair_share'"],
  [838905, 6, "thermal_sys: Registered thermal governor 'bang_bang'"],
  [839165, 6, "thermal_sys: Registered thermal governor 'step_wise'"],
  [839333, 6, "thermal_sys: Registered thermal governor 'user_space'"],
  [839494, 6, "thermal_sys: Registered thermal governor 'power_allocator'"],
  [840145, 6, 'cpuidle: using governor ladder'],
  [840586, 6, 'cpuidle: using governor menu'],
  [842583, 6, 'acpiphp: ACPI Hot Plug PCI Controller Driver version: 0.5'],
  [846343, 6, 'PCI: Using configuration type 1 for base access'],
  // TCG gives each vCPU its own MTRR state: only an SMP guest sees them disagree
  [848436, 4, smp(() => 'mtrr: your CPUs had inconsistent fixed MTRR settings')],
  [848644, 4, smp(() => 'mtrr: your CPUs had inconsistent variable MTRR settings')],
  [848826, 4, smp(() => 'mtrr: your CPUs had inconsistent MTRRdefType settings')],
  [848995, 6, smp(() => 'mtrr: probably your BIOS does not setup all CPUs.')],
  [849187, 6, smp(() => 'mtrr: corrected configuration.')],
  [864237, 6, 'kprobes: kprobe jump-optimization is enabled. All kprobes are optimized if possible.'],
  [904001, 6, 'HugeTLB: registered 1.00 GiB page size, pre-allocated 0 pages'],
  [904350, 6, 'HugeTLB: 16380 KiB vmemmap can be freed for a 1.00 GiB page'],
  [904574, 6, 'HugeTLB: registered 2.00 MiB page size, pre-allocated 0 pages'],
  [904777, 6, 'HugeTLB: 28 KiB vmemmap can be freed for a 2.00 MiB page'],
  [927035, 6, 'ACPI: Added _OSI(Module Device)'],
  [927282, 6, 'ACPI: Added _OSI(Processor Device)'],
  [927407, 6, 'ACPI: Added _OSI(Processor Aggregator Device)'],
  [946270, 6, 'ACPI: 1 ACPI AML tables successfully acquired and loaded'],
  [970770, 6, 'ACPI: Interpreter enabled'],
  [972277, 6, 'ACPI: PM: (supports S0 S3 S4 S5)'],
  [972478, 6, 'ACPI: Using IOAPIC for interrupt routing'],
  [973321, 6, 'PCI: Using host bridge windows from ACPI; if necessary, use "pci=nocrs" and report a bug'],
  [974056, 6, 'PCI: Using E820 reservations for host bridge windows'],
  [976122, 6, 'ACPI: Enabled 2 GPEs in block 00 to 0F'],
  [1005817, 6, 'ACPI: PCI Root Bridge [PCI0] (domain 0000 [bus 00-ff])'],
  [1006547, 6, 'acpi PNP0A03:00: _OSC: OS supports [ASPM ClockPM Segments MSI HPX-Type3]', 'acpi:PNP0A03:00'],
  [1007082, 6, 'acpi PNP0A03:00: _OSC: not requesting OS control; OS requires [ExtendedConfig ASPM ClockPM MSI]', 'acpi:PNP0A03:00'],
  [
    1007923,
    4,
    "acpi PNP0A03:00: fail to add MMCONFIG information, can't access extended PCI configuration space under this bridge.",
    'acpi:PNP0A03:00',
  ],
  // i440fx has 32 slots; 0-2 hold the host bridge, PIIX3 and VGA
  [1015925, 6, () => Array.from({ length: 29 }, (_, i) => `acpiphp: Slot [${i + 3}] registered`)],
  [1020778, 6, 'PCI host bridge to bus 0000:00'],
  [1021206, 6, (c) => pciWindows(c).map((w) => `pci_bus 0000:00: root bus resource ${w}`), pciBus],
  [1022564, 6, 'pci_bus 0000:00: root bus resource [bus 00-ff]', pciBus],
  [1024040, 6, 'pci 0000:00:00.0: [8086:1237] type 00 class 0x060000', 'pci:0000:00:00.0'],
  [1032137, 6, 'pci 0000:00:01.0: [8086:7000] type 00 class 0x060100', 'pci:0000:00:01.0'],
  [1035893, 6, 'pci 0000:00:01.1: [8086:7010] type 00 class 0x010180', 'pci:0000:00:01.1'],
  [1037974, 6, 'pci 0000:00:01.1: BAR 4 [io  0xc080-0xc08f]', 'pci:0000:00:01.1'],
  [1039369, 6, 'pci 0000:00:01.1: BAR 0 [io  0x01f0-0x01f7]: legacy IDE quirk', 'pci:0000:00:01.1'],
  [1039565, 6, 'pci 0000:00:01.1: BAR 1 [io  0x03f6]: legacy IDE quirk', 'pci:0000:00:01.1'],
  [1039717, 6, 'pci 0000:00:01.1: BAR 2 [io  0x0170-0x0177]: legacy IDE quirk', 'pci:0000:00:01.1'],
  [1039885, 6, 'pci 0000:00:01.1: BAR 3 [io  0x0376]: legacy IDE quirk', 'pci:0000:00:01.1'],
  [1042777, 6, 'pci 0000:00:01.3: [8086:7113] type 00 class 0x068000', 'pci:0000:00:01.3'],
  [1043282, 6, 'pci 0000:00:01.3: quirk: [io  0x0600-0x063f] claimed by PIIX4 ACPI', 'pci:0000:00:01.3'],
  [1043476, 6, 'pci 0000:00:01.3: quirk: [io  0x0700-0x070f] claimed by PIIX4 SMB', 'pci:0000:00:01.3'],
  [1043956, 6, 'pci 0000:00:02.0: [1234:1111] type 00 class 0x030000', 'pci:0000:00:02.0'],
  [1044735, 6, 'pci 0000:00:02.0: BAR 0 [mem 0xfd000000-0xfdffffff pref]', 'pci:0000:00:02.0'],
  [1048108, 6, 'pci 0000:00:02.0: BAR 2 [mem 0xfebf4000-0xfebf4fff]', 'pci:0000:00:02.0'],
  [1050584, 6, 'pci 0000:00:02.0: ROM [mem 0xfebe0000-0xfebeffff pref]', 'pci:0000:00:02.0'],
  [1054326, 6, 'pci 0000:00:02.0: Video device with shadowed ROM at [mem 0x000c0000-0x000dffff]', 'pci:0000:00:02.0'],
  [1058654, 6, 'pci 0000:00:03.0: [1b36:0010] type 00 class 0x010802', 'pci:0000:00:03.0'],
  [1059261, 6, 'pci 0000:00:03.0: BAR 0 [mem 0xfebf0000-0xfebf3fff 64bit]', 'pci:0000:00:03.0'],
  [1066320, 6, 'pci 0000:00:04.0: [1af4:1001] type 00 class 0x010000', 'pci:0000:00:04.0'],
  [1067435, 6, 'pci 0000:00:04.0: BAR 0 [io  0xc000-0xc07f]', 'pci:0000:00:04.0'],
  [1068440, 6, 'pci 0000:00:04.0: BAR 1 [mem 0xfebf5000-0xfebf5fff]', 'pci:0000:00:04.0'],
  [1069974, 6, 'pci 0000:00:04.0: BAR 4 [mem 0xfe000000-0xfe003fff 64bit pref]', 'pci:0000:00:04.0'],
  [1080534, 6, 'ACPI: PCI: Interrupt link LNKA configured for IRQ 10'],
  [1081225, 6, 'ACPI: PCI: Interrupt link LNKB configured for IRQ 10'],
  [1081612, 6, 'ACPI: PCI: Interrupt link LNKC configured for IRQ 11'],
  [1082071, 6, 'ACPI: PCI: Interrupt link LNKD configured for IRQ 11'],
  [1082648, 6, 'ACPI: PCI: Interrupt link LNKS configured for IRQ 9'],
  [1091401, 6, 'iommu: Default domain type: Translated '],
  [1091401, 6, 'iommu: DMA domain TLB invalidation policy: lazy mode '],
  [1091720, 6, 'pps_core: LinuxPPS API ver. 1 registered'],
  [1091846, 6, 'pps_core: Software ver. 5.3.6 - Copyright 2005-2007 Rodolfo Giometti <giometti@linux.it>'],
  [1093367, 6, 'PTP clock support registered'],
  [1094200, 6, 'EDAC MC: Ver: 3.0.0'],
  [1108033, 6, 'NetLabel: Initializing'],
  [1108201, 6, 'NetLabel:  domain hash size = 128'],
  [1108296, 6, 'NetLabel:  protocols = UNLABELED CIPSOv4 CALIPSO'],
  [1109088, 6, 'NetLabel:  unlabeled traffic allowed by default'],
  [1109233, 6, 'PCI: Using ACPI for IRQ routing'],
  [1109418, 7, 'PCI: pci_cache_line_size set to 64 bytes'],
  [
    1109754,
    7,
    // e820__reserve_resources_late(): each usable range's tail up to its RAM alignment
    (c) =>
      c.mem.e820
        .filter((e) => e.type === 'usable')
        .map((e) => [e.end, Math.ceil(e.end / ramAlignment(e.end)) * ramAlignment(e.end)])
        .filter(([s, e]) => s < e)
        .map(([s, e]) => `e820: reserve RAM buffer ${memRange8(s, e)}`),
  ],
  [1111881, 6, 'pci 0000:00:02.0: vgaarb: setting as boot VGA device', 'pci:0000:00:02.0'],
  [1111881, 6, 'pci 0000:00:02.0: vgaarb: bridge control possible', 'pci:0000:00:02.0'],
  [1111881, 6, 'pci 0000:00:02.0: vgaarb: VGA device added: decodes=io+mem,owns=io+mem,locks=none', 'pci:0000:00:02.0'],
  [1114030, 6, 'vgaarb: loaded'],
  [1114563, 6, 'hpet0: at MMIO 0xfed00000, IRQs 2, 8, 0'],
  [1114875, 6, 'hpet0: 3 comparators, 64-bit 100.000000 MHz counter'],
  [1119556, 6, 'clocksource: Switched to clocksource hpet'],
  [1217094, 5, 'VFS: Disk quotas dquot_6.6.0'],
  [1217667, 6, 'VFS: Dquot-cache hash table entries: 512 (order 0, 4096 bytes)'],
  [1222838, 6, 'AppArmor: AppArmor Filesystem Enabled'],
  [1223584, 6, 'pnp: PnP ACPI init'],
  [1226285, 7, 'pnp 00:02: [dma 2]', 'pnp:00:02'],
  [1228143, 6, 'pnp: PnP ACPI: found 6 devices'],
  [1261236, 6, 'clocksource: acpi_pm: mask: 0xffffff max_cycles: 0xffffff, max_idle_ns: 2085701024 ns'],
  [1262501, 6, 'NET: Registered PF_INET protocol family'],
  [1263655, 6, hashLine('IP idents', { bucket: 8, scale: 16, low: 2048, high: 256 * 1024 })],
  [1284869, 6, hashLine('tcp_listen_portaddr_hash', { bucket: 16, scale: 21, high: 64 * 1024 })],
  [1286818, 6, hashLine('Table-perturb', { bucket: 4, scale: 0, entries: 65536, low: 65536, high: 65536 })],
  [1287247, 6, hashLine('TCP established', tcpEhash)],
  [1288172, 6, (c) => hashLine('TCP bind', { bucket: 32, scale: 17, entries: largeSystemHash(c.mem, tcpEhash).entries, high: 64 * 1024 })(c)],
  [
    1288593,
    6,
    (c) => {
      const e = largeSystemHash(c.mem, tcpEhash).entries;
      const b = largeSystemHash(c.mem, { bucket: 32, scale: 17, entries: e, high: 64 * 1024 }).entries;
      return `TCP: Hash tables configured (established ${e} bind ${b})`;
    },
  ],
  [1291172, 6, hashLine('MPTCP token', { bucket: 24, scale: 20, high: 64 * 1024 })],
  [1291784, 6, hashLine('UDP', { bucket: 32, scale: 21, low: 256, high: 64 * 1024 })],
  [1292256, 6, hashLine('UDP-Lite', { bucket: 32, scale: 21, low: 256, high: 64 * 1024 })],
  [1294943, 6, 'NET: Registered PF_UNIX/PF_LOCAL protocol family'],
  [1295602, 6, 'NET: Registered PF_XDP protocol family'],
  [1296960, 6, (c) => pciWindows(c).map((w, i) => `pci_bus 0000:00: resource ${i + 4} ${w}`), pciBus],
  [1299015, 6, 'pci 0000:00:01.0: PIIX3: Enabling Passive Release', 'pci:0000:00:01.0'],
  [1299323, 6, 'pci 0000:00:00.0: Limiting direct PCI/PCI transfers', 'pci:0000:00:00.0'],
  [1299661, 6, 'PCI: CLS 0 bytes, default 64'],
  [1309244, 6, 'Trying to unpack rootfs image as initramfs...'],
  [1312719, 5, 'Initialise system trusted keyrings'],
  [1316068, 5, 'Key type blacklist registered'],
  // workingset: max_order = fls_long(totalram_pages - 1), totalram as the mm model has it
  [1318061, 6, (c) => `workingset: timestamp_bits=36 max_order=${Math.floor(Math.log2(Math.max(1, c.mmTotalPages - 1))) + 1} bucket_order=0`],
  [1333510, 6, 'zbud: loaded'],
  [1342001, 5, 'integrity: Platform Keyring initialized'],
  [1342702, 5, 'integrity: Machine keyring initialized'],
  [1342900, 5, 'Key type asymmetric registered'],
  [1343135, 5, "Asymmetric key parser 'x509' registered"],
  [2328411, 6, `Freeing initrd memory: ${INITRD_BYTES / 1024}K`],
  [2546720, 6, 'alg: self-tests for CTR-KDF (hmac(sha256)) passed'],
  [2547325, 6, 'Block layer SCSI generic (bsg) driver version 0.4 loaded (major 248)'],
  [2555071, 6, 'io scheduler mq-deadline registered'],
  [2574737, 6, 'shpchp: Standard Hot Plug PCI Controller Driver version: 0.4'],
  [2581756, 6, 'Serial: 8250/16550 driver, 4 ports, IRQ sharing enabled'],
  [2584780, 6, '00:04: ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A'],
  [2595033, 6, 'Linux agpgart interface v0.103'],
  [2597369, 6, 'AMD-Vi: AMD IOMMUv2 functionality not available on this system - This is not a bug.'],
  [2602873, 6, 'i8042: PNP: PS/2 Controller [PNP0303:KBD,PNP0f13:MOU] at 0x60,0x64 irq 1,12'],
  [2605685, 6, 'serio: i8042 KBD port at 0x60,0x64 irq 1'],
  [2605982, 6, 'serio: i8042 AUX port at 0x60,0x64 irq 12'],
  [2608347, 6, 'mousedev: PS/2 mouse device common for all mice'],
  [2609932, 6, 'rtc_cmos 00:05: RTC can wake from S4', 'pnp:00:05'],
  [2611938, 6, 'input: AT Translated Set 2 keyboard as /devices/platform/i8042/serio0/input/input0'],
  [2617524, 6, 'rtc_cmos 00:05: registered as rtc0', 'pnp:00:05'],
  [2618176, 6, rtcTime, 'pnp:00:05'],
  [2619468, 6, 'rtc_cmos 00:05: alarms up to one day, y3k, 242 bytes nvram, hpet irqs', 'pnp:00:05'],
  [2620390, 6, 'ledtrig-cpu: registered to indicate activity on CPUs'],
  [2691551, 6, 'NET: Registered PF_INET6 protocol family'],
  [2831918, 6, 'Segment Routing with IPv6'],
  [2832513, 6, 'In-situ OAM (IOAM) with IPv6'],
  [2833255, 6, 'mip6: Mobile IPv6'],
  [2833757, 6, 'NET: Registered PF_PACKET protocol family'],
  [2835075, 6, 'mpls_gso: MPLS GSO support'],
  [2838352, 6, 'IPI shorthand broadcast: enabled'],
  [2841622, 6, 'registered taskstats version 1'],
  [2842043, 5, 'Loading compiled-in X.509 certificates'],
  [2919603, 5, "Loaded X.509 cert 'Build time autogenerated kernel key: 8963f707e289edc09df337a240938134371a5bb8'"],
  [2929068, 6, 'zswap: loaded using pool lzo/zbud'],
  [2933701, 5, 'Key type .fscrypt registered'],
  [2933916, 5, 'Key type fscrypt-provisioning registered'],
  [3066917, 5, 'Key type encrypted registered'],
  [3067261, 6, 'AppArmor: AppArmor sha1 policy hashing enabled'],
  [3068002, 6, 'ima: No TPM chip found, activating TPM-bypass!'],
  [3068227, 6, 'ima: Allocated hash algorithm: sha256'],
  [3070612, 6, 'ima: No architecture policies found'],
  [3071312, 6, 'evm: Initialising EVM extended attributes:'],
  [3071469, 6, 'evm: security.selinux'],
  [3071586, 6, 'evm: security.SMACK64 (disabled)'],
  [3071703, 6, 'evm: security.SMACK64EXEC (disabled)'],
  [3071827, 6, 'evm: security.SMACK64TRANSMUTE (disabled)'],
  [3071967, 6, 'evm: security.SMACK64MMAP (disabled)'],
  [3072093, 6, 'evm: security.apparmor'],
  [3072189, 6, 'evm: security.ima'],
  [3072272, 6, 'evm: security.capability'],
  [3072383, 6, 'evm: HMAC attrs: 0x1'],
  // one printk() with embedded newlines: a single record (only when the TSC was marked unstable)
  [
    3426779,
    4,
    smp(
      () =>
        'Unstable clock detected, switching default tracing clock to "global"\n' +
        'If you want to keep using the local clock, then add:\n' +
        '  "trace_clock=local"\n' +
        'on the kernel command line',
    ),
  ],
  [3427825, 6, 'clk: Disabling unused clocks'],
  [3456300, 6, 'Freeing unused decrypted memory: 2036K'],
  [3561242, 6, `Freeing unused kernel image (initmem) memory: ${KERNEL_IMAGE_K.init}K`],
  [3561877, 6, 'Write protecting the kernel read-only data: 26624k'],
  [3566737, 6, 'Freeing unused kernel image (text/rodata gap) memory: 2040K'],
  [3568417, 6, 'Freeing unused kernel image (rodata/data gap) memory: 1108K'],
  [3745318, 6, 'x86/mm: Checked W+X mappings: passed, no W+X pages found.'],
  [3746151, 6, 'Run /init as init process'],
  [3746418, 7, '  with arguments:'],
  [3746468, 7, '    /init'],
  [3746495, 7, '  with environment:'],
  [3746513, 7, '    HOME=/'],
  [3746531, 7, '    TERM=linux'],
];

/** ram_alignment(): 64 KiB below 1 MiB, 1 MiB below 16 MiB, 64 MiB above. */
function ramAlignment(pos: number): number {
  const mb = Math.floor(pos / (1 << 20));
  if (!mb) return 64 * 1024;
  if (mb < 16) return 1 << 20;
  return 64 << 20;
}

/** Memory the reference run initialised before mem_init (512 MiB), the base of the 'mem' scale. */
const REF_INITIALISED_PAGES = 65438;
const REF_DEFERRED_PAGES = 65493;

export interface BootLogResult {
  /** records printed */
  records: number;
  /** timestamp of the last record: when /init starts */
  endNs: number;
}

/** What the boot log needs of a kernel (a Kernel is one). */
export interface BootHost {
  config: Kernel['config'];
  rng: Rng;
  bootEpochMs: number;
  printk: Printk;
  mm: { readonly totalPages: number; readonly freePages: number };
}

/** The per-machine values the templates use, drawn from a fork of the kernel's rng. */
export function bootContext(k: BootHost, rng: Rng): BootCtx {
  const cpus = k.config.cpus;
  const tscKhz = rng.int(2_000_000, 3_600_000);
  const lpj0 = Math.floor((tscKhz * 1000) / HZ);
  const lpj = [lpj0];
  // the APs calibrate their own delay loop; TCG vCPUs come out a little apart
  for (let i = 1; i < cpus; i++) lpj.push(Math.floor(lpj0 * (0.998 + rng.next() * 0.004)));
  return {
    cpus,
    mem: memoryLayout(k.config.memoryMb, cpus),
    tscKhz,
    lpj,
    bootEpochMs: k.bootEpochMs,
    ts: 0,
    mmTotalPages: k.mm.totalPages,
    mmFreePages: k.mm.freePages,
    rng,
  };
}

/**
 * Prints the boot log into k.printk, with explicit timestamps from 0 up to
 * the start of /init. Does not move the kernel clock (the caller does).
 */
export function printBootLog(k: BootHost): BootLogResult {
  const rng = k.rng.fork();
  const c = bootContext(k, rng);
  let prevRef = 0;
  let ts = 0;
  let n = 0;
  for (const [ref, level, text, dev, scale] of BOOT_LOG) {
    const delta = ref - prevRef;
    prevRef = ref;
    if (delta > 0) {
      let f = 0.85 + 0.3 * rng.next();
      if (scale === 'cpu') f *= Math.max(0.02, c.cpus - 1);
      else if (scale === 'mem') f *= Math.max(0.05, c.mem.initialisedPages / REF_INITIALISED_PAGES);
      else if (scale === 'deferred') f *= Math.max(0.05, c.mem.deferredPages / REF_DEFERRED_PAGES);
      ts += Math.max(1, Math.round(delta * 1000 * f));
    }
    c.ts = ts;
    const out = typeof text === 'string' ? text : text(c);
    if (out === null) continue;
    const dict = dev ? deviceDict(dev) : undefined;
    const lines = typeof out === 'string' ? [out] : out;
    for (let i = 0; i < lines.length; i++) {
      // several lines of one template: consecutive printk() calls a few µs apart
      if (i > 0 && ts > 0) ts += rng.int(8_000, 90_000);
      k.printk.log(level, lines[i], { tsNs: ts, dict, oneRecord: true });
      n++;
    }
  }
  return { records: n, endNs: ts };
}

/** dev_printk()'s dictionary: SUBSYSTEM=pci, DEVICE=+pci:0000:00:01.1 */
function deviceDict(dev: string): Record<string, string> {
  return { SUBSYSTEM: dev.slice(0, dev.indexOf(':')), DEVICE: `+${dev}` };
}
