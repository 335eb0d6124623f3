import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { Rng } from '../util/rng';
import { printkTime } from '../util/format';
import { BOOT_LOG, type BootHost, printBootLog } from './boot-log';
import { memoryLayout, percpuLayout, percpuMapLines } from './boot-layout';
import { parseDmesgArgs, renderDmesg, type DmesgOptions } from './dmesg';
import { parseKmsg } from './kmsg';
import { Printk, type LogRecord } from './printk';

const REF = path.resolve(__dirname, '../../../../shared/reference/linux-6.1');
const ref = (f: string): string => fs.readFileSync(path.join(REF, f), 'utf8');
const REF_BOOT_MS = Date.UTC(2026, 10, 26, 23, 54, 59, 0);

/** MemTotal of the reference machine: what the mm model reports for 512 MiB. */
const REF_MEMTOTAL_PAGES = 468124 / 4;

function host(cpus: number, memoryMb: number, seed = 'boot', mm?: { totalPages: number; freePages: number }): BootHost {
  const layout = memoryLayout(memoryMb, cpus);
  return {
    config: { cpus, memoryMb, seed, hostname: 'kernelab' },
    rng: new Rng(seed),
    bootEpochMs: REF_BOOT_MS,
    printk: new Printk(() => 0),
    mm: mm ?? { totalPages: layout.memTotalK / 4, freePages: Math.floor((layout.memTotalK / 4) * 0.85) },
  };
}

function boot(cpus: number, memoryMb: number, seed = 'boot', mm?: { totalPages: number; freePages: number }): { recs: readonly LogRecord[]; endNs: number } {
  const h = host(cpus, memoryMb, seed, mm);
  const { endNs, records } = printBootLog(h);
  expect(records).toBe(h.printk.records().length);
  return { recs: h.printk.records(), endNs };
}

const dmesg = (recs: readonly LogRecord[], argv: string[] = []): string =>
  renderDmesg(recs, parseDmesgArgs(argv) as DmesgOptions, { bootEpochMs: REF_BOOT_MS });
const texts = (recs: readonly LogRecord[]): string[] => recs.map((r) => r.text);
const find = (recs: readonly LogRecord[], prefix: string): string[] => texts(recs).filter((t) => t.startsWith(prefix));

/** lines whose values come from the machine's rng or its clock (TSC speed, calibration, boot-time wall clock) */
const RNG_LINES = [/^tsc: Detected /, /^Calibrating delay loop/, /^smpboot: Total of /, /^node 0 deferred pages/, /^audit: type=2000/, /^rtc_cmos 00:05: setting system clock/];

describe('boot log of the reference configuration (2 CPUs, 512 MiB)', () => {
  const { recs } = boot(2, 512, 'boot', { totalPages: REF_MEMTOTAL_PAGES, freePages: 98840 });
  const refRecs = parseKmsg(ref('dmesg/kmsg_full.txt')).slice(0, 378);

  it('prints the reference boot_dmesg.txt line for line, values computed from the configuration', () => {
    const mine = dmesg(recs).split('\n');
    // the capture's command line had panic=-1, which Kernelab machines boot without (see sysctl/tree.ts)
    const theirs = ref('dmesg/boot_dmesg.txt').replace(/ panic=-1$/gm, '').split('\n');
    expect(mine.length).toBe(theirs.length);
    const strip = (l: string): string => l.replace(/^\[ *\d+\.\d{6}\] /, '');
    for (let i = 0; i < mine.length; i++) {
      const a = strip(mine[i]);
      const b = strip(theirs[i]);
      // the same line with other numbers
      if (RNG_LINES.some((re) => re.test(b))) expect(a).toMatch(new RegExp('^' + b.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\d+/g, '\\d+') + '$'));
      else expect(a).toBe(b);
    }
  });

  it('has the reference levels, facilities and SUBSYSTEM=/DEVICE= dictionaries on every record', () => {
    expect(recs.length).toBe(refRecs.length);
    recs.forEach((r, i) => {
      expect({ level: r.level, facility: r.facility, dict: r.dict }).toEqual({ level: refRecs[i].level, facility: refRecs[i].facility, dict: refRecs[i].dict });
    });
    // dmesg -r prefixes line by line
    const pre = (s: string): string[] => s.split('\n').map((l) => /^<\d+>/.exec(l)?.[0] ?? l.replace(/\S.*$/, ''));
    expect(pre(dmesg(recs, ['-r']))).toEqual(pre(ref('dmesg/boot_dmesg_raw.txt')));
  });

  it('has increasing timestamps on the reference schedule, the pre-clock records at zero', () => {
    for (let i = 1; i < recs.length; i++) expect(recs[i].tsNs).toBeGreaterThanOrEqual(recs[i - 1].tsNs);
    const zero = refRecs.filter((r) => r.tsNs === 0).length;
    expect(recs.slice(0, zero).every((r) => r.tsNs === 0)).toBe(true);
    expect(recs[zero].tsNs).toBeGreaterThan(0);
    // every record within 25% (plus 20 ms) of the reference time
    recs.forEach((r, i) => expect(Math.abs(r.tsNs - refRecs[i].tsNs)).toBeLessThanOrEqual(refRecs[i].tsNs * 0.25 + 20e6));
    // the vgaarb lines were printed in the same microsecond
    const vga = recs.filter((r) => r.text.includes('vgaarb: ') && r.text.startsWith('pci '));
    expect(new Set(vga.map((r) => r.tsNs)).size).toBe(1);
  });

  it('prints the calibration consistently with the TSC it detected', () => {
    const mhz = Number(/Detected (\d+\.\d+) MHz/.exec(find(recs, 'tsc: Detected')[0])?.[1]);
    const m = /\.\. (\d+)\.(\d\d) BogoMIPS \(lpj=(\d+)\)/.exec(find(recs, 'Calibrating')[0]) as RegExpExecArray;
    const lpj = Number(m[3]);
    expect(lpj).toBe(Math.floor((Math.round(mhz * 1000) * 1000) / 250));
    expect(`${m[1]}.${m[2]}`).toBe(`${Math.floor(lpj / 2000)}.${String(Math.floor(lpj / 20) % 100).padStart(2, '0')}`);
    const total = Number(/\((\d+\.\d\d) BogoMIPS\)/.exec(find(recs, 'smpboot: Total of 2')[0])?.[1]);
    expect(total).toBeGreaterThan(2 * Number(`${m[1]}.${m[2]}`) * 0.99);
    expect(total).toBeLessThan(2 * Number(`${m[1]}.${m[2]}`) * 1.01);
  });

  it('derives the wall-clock lines from the boot epoch and the record time', () => {
    const audit = recs.find((r) => r.text.startsWith('audit: type=2000')) as LogRecord;
    const ms = Math.floor(REF_BOOT_MS + audit.tsNs / 1e6);
    expect(audit.text).toContain(`audit(${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}:1)`);
    const rtc = recs.find((r) => r.text.includes('setting system clock')) as LogRecord;
    const sec = Math.floor((REF_BOOT_MS + rtc.tsNs / 1e6) / 1000);
    expect(rtc.text).toBe(`rtc_cmos 00:05: setting system clock to ${new Date(sec * 1000).toISOString().slice(0, 19)} UTC (${sec})`);
    expect(sec).toBeGreaterThanOrEqual(1795737301);
  });

  it('is the same for the same seed and differs for another', () => {
    const again = boot(2, 512, 'boot', { totalPages: REF_MEMTOTAL_PAGES, freePages: 98840 }).recs;
    expect(again).toEqual(recs);
    const other = boot(2, 512, 'other seed', { totalPages: REF_MEMTOTAL_PAGES, freePages: 98840 }).recs;
    expect(texts(other).length).toBe(recs.length);
    expect(other.map((r) => r.tsNs)).not.toEqual(recs.map((r) => r.tsNs));
  });
});

describe('memory layout', () => {
  it('reproduces the reference numbers for 512 MiB', () => {
    const l = memoryLayout(512, 2);
    expect(l.physPages * 4).toBe(523724);
    expect(l.nrKernelPages).toBe(128725);
    expect(l.reservedK).toBe(73344);
    expect(l.availableK).toBe(219900);
    const memTotal = Number(/^MemTotal: +(\d+) kB/m.exec(ref('proc/meminfo'))?.[1]);
    expect(l.memTotalK).toBe(memTotal);
  });

  it('moves RAM above 4 GiB from 3.5 GiB on, like QEMU pc', () => {
    const { recs } = boot(2, 4096);
    const t = texts(recs);
    expect(t).toContain('BIOS-e820: [mem 0x0000000100000000-0x000000013fffffff] usable');
    expect(t).toContain('BIOS-e820: [mem 0x00000000bffd5000-0x00000000bfffffff] reserved');
    expect(t).toContain('  Normal   [mem 0x0000000100000000-0x000000013fffffff]');
    expect(t).toContain('  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]');
    expect(t).toContain('On node 0, zone Normal: 43 pages in unavailable ranges');
    expect(t).toContain('Policy zone: Normal');
    expect(find(recs, 'last_pfn = ')).toEqual(['last_pfn = 0x140000 max_arch_pfn = 0x400000000', 'last_pfn = 0xbffd5 max_arch_pfn = 0x400000000']);
    expect(t).toContain('PM: hibernation: Registered nosave memory: [mem 0xbffd5000-0xffffffff]');
    expect(t).toContain('[mem 0xc0000000-0xfffbffff] available for PCI devices');
    expect(t).toContain('pci_bus 0000:00: root bus resource [mem 0x140000000-0x1bfffffff window]');
    expect(t).toContain('RAMDISK: [mem 0x7f686000-0x7fffefff]');
  });

  it('scales the hash tables with memory', () => {
    const small = texts(boot(1, 64).recs);
    const big = texts(boot(8, 16384).recs);
    const entries = (t: string[], name: string): number => Number(new RegExp(`^${name} hash table entries: (\\d+)`).exec(t.find((x) => x.startsWith(name + ' hash')) ?? '')?.[1]);
    for (const name of ['Dentry cache', 'Inode-cache', 'TCP established', 'UDP', 'IP idents']) {
      expect(entries(big, name)).toBeGreaterThanOrEqual(entries(small, name));
    }
    expect(entries(big, 'Dentry cache')).toBeGreaterThan(entries(small, 'Dentry cache'));
    expect(small.find((x) => x.startsWith('node 0 deferred'))).toBeUndefined();
    // atomic_pool_size: a page per 32 MiB of totalram (min 128 KiB)
    const kib = (Math.floor(memoryLayout(16384, 8).memTotalK / 4 / 8192) * 4096) / 1024;
    expect(kib).toBeGreaterThan(128);
    expect(big.find((x) => x.startsWith('DMA: preallocated'))).toBe(`DMA: preallocated ${kib} KiB GFP_KERNEL pool for atomic allocations`);
    expect(small.find((x) => x.startsWith('DMA: preallocated'))).toBe('DMA: preallocated 128 KiB GFP_KERNEL pool for atomic allocations');
  });
});

describe('CPUs', () => {
  it('boots one CPU without the SMP-only lines', () => {
    const t = texts(boot(1, 512).recs);
    expect(t).toContain('smp: Brought up 1 node, 1 CPU');
    expect(t).toContain('smpboot: Allowing 1 CPUs, 0 hotplug CPUs');
    expect(t.some((x) => x.startsWith('x86: Booting SMP') || x.startsWith('.... node') || x.startsWith('mtrr:') || x.startsWith('Unstable clock'))).toBe(false);
    expect(t).toContain('pcpu-alloc: [0] 0 ');
    expect(t).toContain('percpu: Embedded 62 pages/cpu s217088 r8192 d28672 u2097152');
  });

  it('lists the secondary CPUs the way announce_cpu pads them', () => {
    expect(find(boot(4, 512).recs, '.... node')).toEqual(['.... node  #0, CPUs:      #1 #2 #3']);
    expect(find(boot(16, 512).recs, '.... node')).toEqual(['.... node  #0, CPUs:        #1  #2  #3  #4  #5  #6  #7  #8  #9 #10 #11 #12 #13 #14 #15']);
  });

  it('computes the percpu units like pcpu_build_alloc_info', () => {
    expect(percpuLayout(2).unitSize).toBe(1048576);
    expect(percpuMapLines(2)).toEqual(['pcpu-alloc: [0] 0 1 ']);
    expect(percpuMapLines(3)).toEqual(['pcpu-alloc: [0] 0 1 2 - ']);
    expect(percpuMapLines(16)).toEqual(['pcpu-alloc: [0] 00 01 02 03 04 05 06 07 [0] 08 09 10 11 12 13 14 15 ']);
    expect(percpuMapLines(64).length).toBe(4);
  });

  it('scales the per-CPU values', () => {
    const t = texts(boot(64, 2048).recs);
    expect(t).toContain('pid_max: default: 65536 minimum: 512');
    expect(t).toContain('smp: Brought up 1 node, 64 CPUs');
    expect(t).toContain('setup_percpu: NR_CPUS:8192 nr_cpumask_bits:64 nr_cpu_ids:64 nr_node_ids:1');
    expect(t).toContain('cblist_init_generic: Setting shift to 6 and lim to 1 rcu_task_cpu_ids=64.');
    expect(t).toContain('futex hash table entries: 16384 (order: 8, 1048576 bytes, linear)');
    expect(t).toContain('NR_IRQS: 524544, nr_irqs: 936, preallocated irqs: 16');
    expect(t).toContain('ACPI: APIC 0x000000007FFE1A53 000270 (v01 BOCHS  BXPC     00000001 BXPC 00000001)');
  });
});

describe('any configuration (property)', () => {
  it('prints a well-formed, monotonic, deterministic boot log', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 64, max: 65536 }), fc.string({ minLength: 1, maxLength: 8 }), (cpus, mem, seed) => {
        const a = boot(cpus, mem, seed);
        const b = boot(cpus, mem, seed);
        expect(b.recs).toEqual(a.recs);
        expect(a.recs.length).toBeGreaterThan(360);
        expect(a.recs.length).toBeLessThan(400);
        expect(a.endNs).toBe(a.recs[a.recs.length - 1].tsNs);
        for (let i = 1; i < a.recs.length; i++) expect(a.recs[i].tsNs).toBeGreaterThanOrEqual(a.recs[i - 1].tsNs);
        const t = texts(a.recs);
        const layout = memoryLayout(mem, cpus);
        expect(t.find((x) => x.startsWith('Memory: '))).toMatch(new RegExp(`^Memory: \\d+K/${layout.physPages * 4}K available `));
        expect(t).toContain(`smp: Brought up 1 node, ${cpus} CPU${cpus > 1 ? 's' : ''}`);
        expect(a.recs.every((r) => r.level >= 0 && r.level <= 7 && r.facility === 0 && printkTime(r.tsNs).length >= 12)).toBe(true);
        // the e820 map covers the memory
        const usable = t
          .filter((x) => x.startsWith('BIOS-e820') && x.endsWith('usable'))
          .map((x) => /0x([0-9a-f]+)-0x([0-9a-f]+)/.exec(x) as RegExpExecArray)
          .reduce((s, m) => s + parseInt(m[2], 16) + 1 - parseInt(m[1], 16), 0);
        expect(usable).toBeLessThanOrEqual(mem * 1024 * 1024);
        // all but the ISA hole, page 0 and SeaBIOS's top 172 KiB
        expect(usable).toBe(mem * 1024 * 1024 - 0x2b000 - 0x60400);
      }),
      { numRuns: 40 },
    );
  });

  it('is a table of templates, not one string', () => {
    expect(BOOT_LOG.length).toBeGreaterThan(250);
    expect(BOOT_LOG.filter((e) => typeof e[2] === 'function').length).toBeGreaterThan(40);
  });

  it('boots fast', () => {
    for (let i = 0; i < 20; i++) boot(2, 512, `warm${i}`);
    const n = 200;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) printBootLog(host(2, 512, `perf${i}`));
    const avg = (performance.now() - t0) / n;
    // ~0.5 ms on a laptop; generous for loaded CI machines
    expect(avg).toBeLessThan(5);
  });
});
