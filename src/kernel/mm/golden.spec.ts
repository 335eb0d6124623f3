import { readFileSync } from 'fs';
import { join } from 'path';
import { Kernel } from '../kernel';
import type { KernelConfig } from '../types';
import { computeLayout, defaultMinFreeKbytes, pcpBatch, pcpHigh, statThreshold, zoneWatermarks } from './layout';
import { showMemLines } from './oom';
import { renderMaps, renderSmaps, renderSmapsRollup, renderStatm } from './maps';
import { meminfoJson, vmstatJson, buddyinfoJson } from './views';
import { REF_SLAB_CACHES } from '../data/mm-reference';

const REF = join(__dirname, '../../../../shared/reference/linux-6.1');
const ref = (p: string): string => readFileSync(join(REF, p), 'utf8');
const lines = (t: string): string[] => t.replace(/\n$/, '').split('\n');

/** Right-aligned numeric columns keep their width: every " *digits" run becomes that many '#'. */
const cols = (l: string): string => l.replace(/ *\d+/g, (m) => '#'.repeat(m.length));
/** Left-aligned numbers (at line end): a run of spaces+digits becomes one '#'. */
const toks = (l: string): string => l.replace(/ *\d+/g, '#');

const cfg = (over: Partial<KernelConfig> = {}): KernelConfig => ({ cpus: 2, memoryMb: 512, seed: 'golden', hostname: 'kernelab', ...over });
const boot = (over: Partial<KernelConfig> = {}): Kernel => Kernel.boot(cfg(over));
const read = (k: Kernel, p: string): string => k.vfs.readFile(k.rootCtx(), p);

describe('mm layout of the reference machine (qemu -m 512 -smp 2)', () => {
  const L = computeLayout(512, 2);

  it('sizes the zones like x86_64 with the reference e820 map', () => {
    const [dma, dma32, normal] = L.zones;
    expect([dma.startPfn, dma.spanned, dma.present, dma.managed]).toEqual([1, 4095, 3998, 3840]);
    expect([dma32.startPfn, dma32.spanned, dma32.present, dma32.managed]).toEqual([4096, 126933, 126933, 113191]);
    expect([normal.spanned, normal.present, normal.managed]).toEqual([0, 0, 0]);
    expect(L.totalPresent).toBe(130931);
    expect(L.reservedPages).toBe(13900);
    expect([L.dentryHashEntries, L.inodeHashEntries]).toEqual([65536, 32768]);
    expect([L.directMap4k, L.directMap2M, L.directMap1G]).toEqual([46932, 477184, 0]);
  });

  it('computes min_free_kbytes, watermarks, pcp and thresholds like the kernel', () => {
    const initManaged = [3840, 113191 - 4427, 0, 0, 0];
    const mfk = defaultMinFreeKbytes(initManaged.reduce((a, b) => a + b, 0));
    expect(mfk).toBe(2684);
    const wm = zoneWatermarks(initManaged, mfk, 10);
    expect(wm[0]).toEqual({ min: 22, low: 27, high: 32 });
    expect(wm[1]).toEqual({ min: 648, low: 810, high: 972 });
    expect([pcpBatch(3840), pcpHigh(27, 1, 2)]).toEqual([1, 13]);
    expect([pcpBatch(113191), pcpHigh(810, 31, 2)]).toEqual([31, 405]);
    expect([statThreshold(3840, 2), statThreshold(113191, 2)]).toEqual([4, 12]);
  });

  it('puts RAM above 4 GiB into ZONE_NORMAL, with swiotlb and protection for the lower zones', () => {
    const big = computeLayout(8192, 4);
    expect(big.zones[2].present).toBe((8192 - 3072) * 256);
    expect(big.swiotlb).toBe(true);
    const k = boot({ memoryMb: 8192, cpus: 4 });
    const zi = read(k, '/proc/zoneinfo');
    expect(zi).toMatch(/Node 0, zone {3}Normal\n {2}pages free {5}\d+/);
    const prot = [...zi.matchAll(/protection: \(([^)]*)\)/g)].map((m) => m[1].split(', ').map(Number));
    expect(prot[0][1]).toBeGreaterThan(0);
    expect(prot[1][2]).toBeGreaterThan(0);
    expect(lines(read(k, '/proc/buddyinfo'))).toHaveLength(3);
  });

  it('boots small machines (64 MiB is mostly kernel image: the rest runs under memory pressure)', () => {
    const tiny = meminfoJson(boot({ memoryMb: 64, cpus: 1 }));
    expect(tiny.MemTotal).toBe(computeLayout(64, 1).zones.reduce((a, z) => a + z.managed, 0) * 4);
    expect(tiny.MemFree).toBeGreaterThanOrEqual(0);
    const small = meminfoJson(boot({ memoryMb: 96, cpus: 1 }));
    expect(small.MemFree).toBeGreaterThan(0);
    expect(small.Slab).toBeLessThan(meminfoJson(boot()).Slab);
  });
});

describe('/proc views match the reference formats', () => {
  const k = boot();

  it('meminfo: same fields, order and column widths; MemTotal of the reference', () => {
    const ours = lines(read(k, '/proc/meminfo'));
    const theirs = lines(ref('proc/meminfo'));
    expect(ours.map(cols)).toEqual(theirs.map(cols));
    expect(ours[0]).toBe('MemTotal:         468124 kB');
    expect(ours.find((l) => l.startsWith('CommitLimit:'))).toBe('CommitLimit:      234060 kB');
    expect(ours.find((l) => l.startsWith('DirectMap4k:'))).toBe('DirectMap4k:       46932 kB');
  });

  it('vmstat: every field of the reference, in order', () => {
    const ours = lines(read(k, '/proc/vmstat')).map((l) => l.split(' ')[0]);
    expect(ours).toEqual(lines(ref('proc/vmstat')).map((l) => l.split(' ')[0]));
    expect(lines(read(k, '/proc/vmstat')).every((l) => /^[a-z0-9_]+ \d+$/.test(l))).toBe(true);
  });

  it('zoneinfo: line for line the reference shape, with the reference zone geometry', () => {
    const ours = read(k, '/proc/zoneinfo');
    expect(lines(ours).map(toks)).toEqual(lines(ref('proc/zoneinfo')).map(toks));
    for (const want of [
      'spanned  4095',
      'present  3998',
      'managed  3840',
      'spanned  126933',
      'managed  113191',
      'min      648',
      'high     972',
      'protection: (0, 424, 424, 424, 424)',
      'high:  405',
      'batch: 31',
      'start_pfn:           4096',
    ]) {
      expect(ours).toContain(want);
    }
  });

  it('buddyinfo: reference columns; the DMA zone is exactly the reference one', () => {
    const ours = lines(read(k, '/proc/buddyinfo'));
    const theirs = lines(ref('proc/buddyinfo'));
    expect(ours.map(cols)).toEqual(theirs.map(cols));
    expect(ours[0]).toBe(theirs[0]);
  });

  it('pagetypeinfo: reference columns; DMA free lists and pageblocks as the reference', () => {
    const ours = lines(read(k, '/proc/pagetypeinfo'));
    const theirs = lines(ref('proc/pagetypeinfo'));
    expect(ours.map(cols)).toEqual(theirs.map(cols));
    for (const l of theirs.filter((x) => /zone {6}DMA/.test(x))) expect(ours).toContain(l);
  });

  it('slabinfo: 2.1 header and reference rows (module caches appear when created)', () => {
    const ours = lines(read(k, '/proc/slabinfo'));
    const theirs = lines(ref('proc/slabinfo'));
    expect(ours.slice(0, 2)).toEqual(theirs.slice(0, 2));
    const byName = new Map(theirs.slice(2).map((l) => [l.split(/\s+/)[0], l]));
    const names = ours.slice(2).map((l) => l.split(/\s+/)[0]);
    const moduleCaches = new Set(REF_SLAB_CACHES.filter((c) => c.module).map((c) => c.name));
    expect(names).toEqual(
      theirs
        .slice(2)
        .map((l) => l.split(/\s+/)[0])
        .filter((n) => !moduleCaches.has(n)),
    );
    for (const l of ours.slice(2)) expect(cols(l)).toBe(cols(byName.get(l.split(/\s+/)[0]) as string));
    k.mm.slabCacheCreate('ext4_inode_cache');
    const after = lines(read(k, '/proc/slabinfo'));
    expect(after[2]).toMatch(/^ext4_inode_cache +\d+ +\d+ {3}1192 {3}13 {4}4 : tunables {4}0 {4}0 {4}0 : slabdata/);
    k.mm.slabCacheDestroy('ext4_inode_cache');
  });

  it('vmallocinfo: reference line grammar, hashed pointers, adjacent areas share addresses', () => {
    const grammar = /^0x[0-9a-f]{16}-0x[0-9a-f]{16} [ \d]{6}\d \S+( pages=\d+)?( phys=0x[0-9a-f]{16})? (ioremap|vmalloc|vmap)( N0=\d+)?$/;
    const theirs = lines(ref('proc/vmallocinfo')).filter((l) => !l.includes('unpurged') && !l.includes('['));
    expect(theirs.every((l) => grammar.test(l))).toBe(true);
    const ours = lines(read(k, '/proc/vmallocinfo'));
    expect(ours.every((l) => grammar.test(l))).toBe(true);
    expect(ours.filter((l) => l.includes('kernel_clone')).length).toBe(k.sched.tasks().length);
    expect(ours.filter((l) => l.includes('fork_idle')).length).toBe(1);
    expect(ours[0].slice(19, 37)).toBe(ours[1].slice(0, 18));
  });

  it('swaps: the header, and a row per swap area in the kernel format', () => {
    expect(read(k, '/proc/swaps')).toBe(ref('proc/swaps'));
    const k2 = boot();
    k2.mm.swapon('/swapfile', 65536);
    expect(read(k2, '/proc/swaps')).toBe(`${ref('proc/swaps')}/swapfile                               file\t\t65532\t\t0\t\t-2\n`);
  });

  it('JSON forms carry the rendered numbers', () => {
    const mi = meminfoJson(k);
    expect(Object.keys(mi)).toEqual(lines(ref('proc/meminfo')).map((l) => l.split(':')[0]));
    expect(`${mi.MemFree}`).toBe(/MemFree:\s+(\d+)/.exec(read(k, '/proc/meminfo'))?.[1]);
    const vs = vmstatJson(k);
    expect(vs.nr_free_pages * 4).toBe(mi.MemFree);
    const bi = buddyinfoJson(k);
    expect(bi.map((z) => z.zone)).toEqual(['DMA', 'DMA32']);
    expect(bi.reduce((a, z) => a + z.free.reduce((b, n, o) => b + (n << o), 0), 0) * 4).toBe(mi.MemFree);
  });

  it('show_mem (sysrq-m) prints the reference Mem-Info block', () => {
    const theirs = lines(ref('dmesg/sysrq_m_show_memory.txt'))
      .map((l) => l.replace(/^\[[ \d.]+\] /, '').trim())
      .filter((l, i, a) => i >= a.indexOf('Mem-Info:'));
    const ours = showMemLines(k.mm.stats(), 0)
      .flatMap((l) => l.split('\n'))
      .map((l) => l.trim());
    const shape = (l: string): string => toks(l.replace(/ \([UMEHI]+\)/g, ''));
    expect(ours.map(shape)).toEqual(theirs.map(shape));
    expect(ours).toContain('130931 pages RAM');
    expect(ours).toContain('13900 pages reserved');
  });
});

describe('per-task views match the reference formats', () => {
  const k = boot();
  const pid = k.sched.spawn(1, { argv: ['cat'], path: '/usr/bin/cat' });

  it('maps: the dynamic coreutils cat of the reference, segment for segment', () => {
    const ours = lines(renderMaps(k, pid));
    const theirs = lines(ref('proc/self/maps_dynamic_coreutils_cat'));
    expect(ours).toHaveLength(theirs.length);
    const parse = (l: string): { size: number; rest: string; col: number } => {
      const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+ \S+ \S+) \d+ *(.*)$/.exec(l) as RegExpExecArray;
      const name = m[4];
      return {
        size: parseInt(m[2], 16) - parseInt(m[1], 16),
        rest: `${m[3].replace(/^(\S+ \S+) \S+/, '$1')} ${name}`,
        col: name ? l.indexOf(name) : -1,
      };
    };
    ours.forEach((l, i) => {
      const a = parse(l);
      const b = parse(theirs[i]);
      expect(a.rest).toBe(b.rest);
      expect(a.col).toBe(b.col);
      if (!/\[(heap|stack)\]|^\S+ rw-p 00000000 00:00 $/.test(l)) expect(a.size).toBe(b.size);
    });
  });

  it('smaps: the reference field list and VmFlags per mapping', () => {
    const ours = lines(renderSmaps(k, pid));
    const theirs = lines(ref('proc/self/smaps_dynamic_coreutils_cat'));
    expect(ours).toHaveLength(theirs.length);
    ours.forEach((l, i) => {
      if (/^[0-9a-f]+-/.test(l)) return;
      expect(cols(l)).toBe(cols(theirs[i]));
      if (l.startsWith('VmFlags')) expect(l).toBe(theirs[i]);
    });
  });

  it('smaps_rollup: the reference layout, totals that add up', () => {
    const ours = lines(renderSmapsRollup(k, pid));
    const theirs = lines(ref('proc/self/smaps_rollup'));
    expect(ours.slice(1).map(cols)).toEqual(theirs.slice(1).map(cols));
    expect(ours[0]).toMatch(/^[0-9a-f]{12}-[0-9a-f]{12} ---p 00000000 00:00 0 {26}\[rollup\]$/);
    expect(ours[0].indexOf('[rollup]')).toBe(theirs[0].indexOf('[rollup]'));
    const v = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(ours.join('\n'))?.[1]);
    expect(v('Rss')).toBe(v('Shared_Clean') + v('Shared_Dirty') + v('Private_Clean') + v('Private_Dirty'));
    expect(v('Pss')).toBeLessThanOrEqual(v('Rss'));
  });

  it('statm agrees with the task memory', () => {
    const m = k.mm.taskMem(pid)!;
    const [size, resident, shared, text, lib, data, dt] = renderStatm(k, pid).trim().split(' ').map(Number);
    expect(size).toBe(m.vmPages);
    expect(resident).toBe(m.rssAnonPages + m.rssFilePages + m.rssShmemPages);
    expect(shared).toBe(m.rssFilePages + m.rssShmemPages);
    expect(text).toBe(m.exePages);
    expect([lib, dt]).toEqual([0, 0]);
    expect(data).toBe(m.dataPages + m.stackPages);
    // the reference cat: VmExe 20 kB, VmLib 1528 kB, VmData 360 kB, VmStk 132 kB, VmSize 2632 kB
    expect([m.exePages * 4, m.libPages * 4, m.dataPages * 4, m.stackPages * 4, m.vmPages * 4]).toEqual([20, 1528, 360, 132, 2632]);
    expect(renderStatm(k, 2)).toBe('0 0 0 0 0 0 0\n');
  });
});
