/**
 * The physical memory and CPU layout a QEMU pc-i440fx machine with SeaBIOS
 * hands to Linux 6.1 for a given -m/-smp, and the sizes the kernel derives
 * from it at boot (e820 map, zones, memmap, hash tables, percpu units).
 * Pure functions of the configuration; the boot log prints them, and other
 * subsystems (mm) can use the same numbers.
 */

export const PAGE_SHIFT = 12;
export const PAGE = 4096;
/** SPARSEMEM section: 128 MiB. */
export const PAGES_PER_SECTION = 1 << 15;
/** pfn limits of ZONE_DMA and ZONE_DMA32 */
const MAX_DMA_PFN = 0x1000;
const MAX_DMA32_PFN = 0x100000;
const FOUR_G = 0x100000000;
/** SeaBIOS keeps the top 172 KiB of low RAM (its tables and the ACPI tables). */
const BIOS_HIGH_RESERVED = 0x2b000;
/** QEMU loads the initrd below (low RAM - 192 KiB), and below initrd_addr_max (2 GiB - 1). */
const INITRD_TOP_GAP = 0x30000;
const INITRD_ADDR_MAX = 0x7fffffff;
/** The busybox initramfs of the reference machine ("Freeing initrd memory: 9700K"). */
export const INITRD_BYTES = 9700 * 1024;
/** sizeof(pg_data_t) rounded to pages (NODE_DATA). */
const NODE_DATA_BYTES = 0x2b000;
/** sizeof(struct page) */
const STRUCT_PAGE = 64;
/** memblock-reserved pages below 16 MiB (set_dma_reserve) */
const DMA_RESERVE = 158;

/** Kernel image of 6.1.0-56-amd64, as mem_init_print_info() prints it (KiB). */
export const KERNEL_IMAGE_K = { code: 14343, rwdata: 2338, rodata: 9132, init: 2824, bss: 17344 } as const;
const KERNEL_IMAGE_TOTAL_K = 14343 + 2338 + 9132 + 2824 + 17344;
/** Early reservations below the first deferred section besides the image (page tables, trampolines...). */
const LOW_RESERVED_K = 41852;
/** Other memblock reservations (early page tables, ACPI, swiotlb bookkeeping...), KiB. */
const OTHER_RESERVED_K = 7423;
/** Freed after mem_init: SMP alternatives 36K, initrd, decrypted 2036K, initmem 2824K, text/rodata 2040K, rodata/data 1108K. */
export const FREED_AFTER_MEMINIT_K = 36 + 9700 + 2036 + 2824 + 2040 + 1108;
/** percpu first chunk: 62 pages/cpu (s217088 r8192 d28672), allocated in 2 MiB atoms */
export const PCPU = { static: 217088, reserved: 8192, dyn: 28672, atom: 2 << 20 } as const;

export type E820Type = 'usable' | 'reserved';
export interface E820Entry {
  start: number;
  /** exclusive */
  end: number;
  type: E820Type;
}

export interface Zone {
  name: 'DMA' | 'DMA32' | 'Normal';
  startPfn: number;
  /** exclusive; startPfn === endPfn: empty */
  endPfn: number;
  present: number;
  spanned: number;
  memmap: number;
  /** managed pages at free_area_init (before memblock frees): present - memmap (- dma_reserve) */
  managed: number;
}

export interface MemoryLayout {
  memoryMb: number;
  /** bytes of RAM below 4 GiB and above it */
  lowBytes: number;
  highBytes: number;
  e820: E820Entry[];
  /** memblock memory after the kernel's e820 fixups, [startPfn, endPfn) */
  ranges: [number, number][];
  maxPfn: number;
  maxLowPfn: number;
  /** present pages (get_num_physpages) */
  physPages: number;
  zones: Zone[];
  /** sum of managed pages of the zones: "Total pages", nr_kernel_pages */
  nrKernelPages: number;
  initrd: { start: number; end: number };
  nodeData: { start: number; end: number };
  /** QEMU's ACPI tables live here (FACS first) */
  acpiBase: number;
  /** pages initialised before mem_init (CONFIG_DEFERRED_STRUCT_PAGE_INIT) and deferred to a kthread */
  initialisedPages: number;
  deferredPages: number;
  /** memblock-reserved KiB at mem_init ("Memory: ... K reserved") */
  reservedK: number;
  /** MemTotal once boot has freed init memory and the initrd (KiB) */
  memTotalK: number;
  /** nr_free_pages() at mem_init (KiB): "Memory: <this>K/<phys>K available" */
  availableK: number;
}

/** The layout for -m `memoryMb` -smp `cpus`. */
export function memoryLayout(memoryMb: number, cpus: number): MemoryLayout {
  const ram = memoryMb * 1024 * 1024;
  // pc_piix: from 3.5 GiB up, low RAM stops at 3 GiB (gigabyte aligned) and the rest goes above 4 GiB
  const lowBytes = ram >= 0xe0000000 ? 0xc0000000 : ram;
  const highBytes = ram - lowBytes;
  const usableLowEnd = lowBytes - BIOS_HIGH_RESERVED;
  const e820: E820Entry[] = [
    { start: 0, end: 0x9fc00, type: 'usable' },
    { start: 0x9fc00, end: 0xa0000, type: 'reserved' },
    { start: 0xf0000, end: 0x100000, type: 'reserved' },
    { start: 0x100000, end: usableLowEnd, type: 'usable' },
    { start: usableLowEnd, end: lowBytes, type: 'reserved' },
    { start: 0xfffc0000, end: FOUR_G, type: 'reserved' },
  ];
  if (highBytes > 0) e820.push({ start: FOUR_G, end: FOUR_G + highBytes, type: 'usable' });
  e820.push({ start: 0xfd00000000, end: 0x10000000000, type: 'reserved' });

  // e820: update [0-0xfff] usable ==> reserved; remove [0xa0000-0xfffff] usable
  const ranges: [number, number][] = [
    [1, Math.floor(0x9fc00 / PAGE)],
    [0x100, usableLowEnd / PAGE],
  ];
  if (highBytes > 0) ranges.push([FOUR_G / PAGE, (FOUR_G + highBytes) / PAGE]);
  const maxPfn = ranges[ranges.length - 1][1];
  const maxLowPfn = usableLowEnd / PAGE;
  const physPages = ranges.reduce((a, [s, e]) => a + e - s, 0);

  const nodeStart = ranges[0][0];
  const zoneDefs: [Zone['name'], number, number][] = [
    ['DMA', 0, MAX_DMA_PFN],
    ['DMA32', MAX_DMA_PFN, MAX_DMA32_PFN],
    ['Normal', MAX_DMA32_PFN, Number.MAX_SAFE_INTEGER],
  ];
  const zones: Zone[] = zoneDefs.map(([name, lo, hi], j) => {
    const startPfn = clamp(nodeStart, lo, hi);
    const endPfn = clamp(maxPfn, lo, hi);
    const spanned = endPfn - startPfn;
    const present = ranges.reduce((a, [s, e]) => a + Math.max(0, Math.min(e, endPfn) - Math.max(s, startPfn)), 0);
    const memmapBase = spanned > present + (present >> 4) ? present : spanned;
    const memmap = present ? Math.ceil((memmapBase * STRUCT_PAGE) / PAGE) : 0;
    let managed = present >= memmap ? present - memmap : present;
    if (j === 0 && managed > DMA_RESERVE) managed -= DMA_RESERVE;
    return { name, startPfn, endPfn, present, spanned, memmap, managed };
  });
  const nrKernelPages = zones.reduce((a, z) => a + z.managed, 0);

  // the initrd QEMU placed at the top of low RAM (below initrd_addr_max)
  const initrdMax = Math.min(lowBytes - INITRD_TOP_GAP, INITRD_ADDR_MAX);
  const initrdStart = Math.floor((initrdMax - INITRD_BYTES) / PAGE) * PAGE;
  const initrd = { start: initrdStart, end: initrdStart + INITRD_BYTES };
  // NODE_DATA: memblock allocates top-down; below the initrd when it sits at the top of RAM
  const nodeDataEnd = highBytes > 0 ? FOUR_G + highBytes : initrd.start;
  const nodeData = { start: nodeDataEnd - NODE_DATA_BYTES, end: nodeDataEnd };

  // deferred struct page init: lower zones are initialised, the last zone only up to
  // the first section boundary after its first PAGES_PER_SECTION pages
  const populated = zones.filter((z) => z.present > 0);
  const last = populated[populated.length - 1];
  let initialisedPages = 0;
  for (const z of populated) initialisedPages += z === last ? initialisedInZone(ranges, z) : z.present;
  const deferredPages = physPages - initialisedPages;

  const memmapK = zones.reduce((a, z) => a + z.memmap, 0) * 4;
  const pcpuK = (percpuLayout(cpus).allocs * PCPU.atom) / 1024;
  const reservedK = KERNEL_IMAGE_TOTAL_K + INITRD_BYTES / 1024 + memmapK + pcpuK + OTHER_RESERVED_K;
  const physK = physPages * 4;
  const memTotalK = physK - reservedK + FREED_AFTER_MEMINIT_K;
  // early reservations inside the initialised range: the image area, plus the initrd,
  // memmap and NODE_DATA when nothing was deferred (they then sit in initialised memory)
  let lowReservedK = LOW_RESERVED_K;
  if (deferredPages === 0) lowReservedK += INITRD_BYTES / 1024 + memmapK + NODE_DATA_BYTES / 1024;
  const availableK = Math.max(0, initialisedPages * 4 - lowReservedK);

  return {
    memoryMb,
    lowBytes,
    highBytes,
    e820,
    ranges,
    maxPfn,
    maxLowPfn,
    physPages,
    zones,
    nrKernelPages,
    initrd,
    nodeData,
    acpiBase: lowBytes - 0x20000,
    initialisedPages,
    deferredPages,
    reservedK,
    memTotalK,
    availableK,
  };
}

function initialisedInZone(ranges: [number, number][], z: Zone): number {
  let n = 0;
  for (const [s0, e0] of ranges) {
    const s = Math.max(s0, z.startPfn);
    const e = Math.min(e0, z.endPfn);
    if (s >= e) continue;
    // first section-aligned pfn p in [s, e) with n + (p - s + 1) > PAGES_PER_SECTION
    const need = s + (PAGES_PER_SECTION - n); // the pfn that makes the count exceed a section
    if (need < e) {
      const p = Math.ceil(need / PAGES_PER_SECTION) * PAGES_PER_SECTION;
      if (p < e) return n + (p - s);
    }
    n += e - s;
  }
  return n;
}

/**
 * memmap_init(): holes inside present sections are initialised as reserved
 * pages and reported per zone ("On node 0, zone DMA: 1 pages in unavailable ranges").
 */
export function unavailableRanges(l: MemoryLayout): { zone: Zone['name']; pages: number }[] {
  const out: { zone: Zone['name']; pages: number }[] = [];
  const sectionHasMemory = (sec: number): boolean =>
    l.ranges.some(([s, e]) => s < (sec + 1) * PAGES_PER_SECTION && e > sec * PAGES_PER_SECTION);
  const count = (from: number, to: number): number => {
    let n = 0;
    for (let sec = Math.floor(from / PAGES_PER_SECTION); sec * PAGES_PER_SECTION < to; sec++) {
      if (!sectionHasMemory(sec)) continue;
      n += Math.min(to, (sec + 1) * PAGES_PER_SECTION) - Math.max(from, sec * PAGES_PER_SECTION);
    }
    return n;
  };
  let hole = 0;
  let lastZone: Zone['name'] = 'DMA';
  for (const [rs, re] of l.ranges) {
    for (const z of l.zones) {
      if (!z.present) continue;
      const s = clamp(rs, z.startPfn, z.endPfn);
      const e = clamp(re, z.startPfn, z.endPfn);
      lastZone = z.name;
      if (s >= e) continue;
      if (hole < s) {
        const n = count(hole, s);
        if (n) out.push({ zone: z.name, pages: n });
      }
      hole = e;
    }
  }
  const end = Math.ceil(l.ranges[l.ranges.length - 1][1] / PAGES_PER_SECTION) * PAGES_PER_SECTION;
  if (hole < end) {
    const n = count(hole, end);
    if (n) out.push({ zone: lastZone, pages: n });
  }
  return out;
}

/** e820__register_nosave_regions(max_pfn), merged as register_nosave_region() extends the previous one. */
export function nosaveRegions(l: MemoryLayout): [number, number][] {
  // the sanitized table after the early updates
  const table: E820Entry[] = [{ start: 0, end: 0x1000, type: 'reserved' }, { start: 0x1000, end: 0x9fc00, type: 'usable' }, ...l.e820.slice(1)];
  const out: [number, number][] = [];
  const add = (s: number, e: number): void => {
    if (s >= e) return;
    const prev = out[out.length - 1];
    if (prev && prev[1] === s) prev[1] = e;
    else out.push([s, e]);
  };
  let pfn = 0;
  for (const en of table) {
    const up = Math.ceil(en.start / PAGE);
    if (pfn < up) add(pfn, up);
    pfn = Math.floor(en.end / PAGE);
    if (en.type !== 'usable') add(up, pfn);
    if (pfn >= l.maxPfn) break;
  }
  return out;
}

/** e820_search_gap(): the largest gap below 4 GiB, where PCI devices go. */
export function pciGap(l: MemoryLayout): [number, number] {
  let best: [number, number] = [0, 0];
  let last = FOUR_G;
  for (let i = l.e820.length - 1; i >= 0; i--) {
    const e = l.e820[i];
    if (e.start >= FOUR_G) continue;
    if (e.end < last && last - e.end > best[1] - best[0]) best = [e.end, last];
    last = Math.min(last, e.start);
  }
  return best;
}

// ---------------------------------------------------------------- percpu

export interface PercpuLayout {
  unitSize: number;
  /** units per 2 MiB allocation */
  upa: number;
  allocs: number;
}

/** pcpu_build_alloc_info() for one NUMA group of `cpus` possible CPUs. */
export function percpuLayout(cpus: number): PercpuLayout {
  const sizeSum = PCPU.static + PCPU.reserved + PCPU.dyn;
  const minUnit = Math.max(sizeSum, 32 << 10);
  const allocSize = Math.ceil(minUnit / PCPU.atom) * PCPU.atom;
  let upa = Math.floor(allocSize / minUnit);
  while (allocSize % upa || (allocSize / upa) % PAGE) upa--;
  const maxUpa = upa;
  let lastAllocs = Number.MAX_SAFE_INTEGER;
  let best = 0;
  for (upa = maxUpa; upa; upa--) {
    if (allocSize % upa || (allocSize / upa) % PAGE) continue;
    const allocs = Math.ceil(cpus / upa);
    const wasted = allocs * upa - cpus;
    if (wasted > Math.floor(cpus / 3)) continue;
    if (allocs > lastAllocs) break;
    lastAllocs = allocs;
    best = upa;
  }
  return { unitSize: allocSize / best, upa: best, allocs: Math.ceil(cpus / best) };
}

/** pcpu_dump_alloc_info(): the "pcpu-alloc: [0] 0 1 " lines after the summary line. */
export function percpuMapLines(cpus: number): string[] {
  const p = percpuLayout(cpus);
  const cpuWidth = String(cpus).length;
  const groupWidth = 1;
  const width = p.upa * (cpuWidth + 1) + groupWidth + 3;
  const apl = rounddownPow2(Math.max(Math.floor(60 / width), 1));
  const empty = '-'.repeat(Math.min(cpuWidth, 8));
  const lines: string[] = [];
  let cur = '';
  for (let alloc = 0; alloc < p.allocs; alloc++) {
    if (alloc % apl === 0) {
      if (alloc) lines.push(cur);
      cur = 'pcpu-alloc: ';
    }
    cur += '[0] ';
    for (let u = alloc * p.upa; u < (alloc + 1) * p.upa; u++) cur += (u < cpus ? String(u).padStart(cpuWidth, '0') : empty) + ' ';
  }
  lines.push(cur);
  return lines;
}

// ---------------------------------------------------------------- hash tables

export interface HashSpec {
  bucket: number;
  scale: number;
  /** entries given (futex, Table-perturb, TCP bind) instead of derived from memory */
  entries?: number;
  early?: boolean;
  low?: number;
  high?: number;
}

/** alloc_large_system_hash(): "<name> hash table entries: N (order: O, B bytes, linear)". */
export function largeSystemHash(l: MemoryLayout, h: HashSpec): { entries: number; order: number; bytes: number; where: string } {
  let n = h.entries ?? 0;
  const high = h.high ?? 0;
  let scale = h.scale;
  if (!n) {
    n = Math.ceil(l.nrKernelPages / 256) * 256;
    if (!high) for (let adapt = 1 << 24; adapt < n; adapt *= 4) scale++;
    n = scale > PAGE_SHIFT ? Math.floor(n / 2 ** (scale - PAGE_SHIFT)) : n * 2 ** (PAGE_SHIFT - scale);
    if (n * h.bucket < PAGE) n = PAGE / h.bucket;
  }
  n = roundupPow2(n);
  const max = high || Math.min(Math.floor((l.nrKernelPages * PAGE) / 16 / h.bucket), 0x80000000);
  if (h.low && n < h.low) n = h.low;
  if (n > max) n = max;
  const entries = 2 ** Math.floor(Math.log2(n));
  const bytes = entries * h.bucket;
  const order = getOrder(bytes);
  const where = !h.early && order >= 11 ? 'vmalloc' : 'linear';
  return { entries, order, bytes, where };
}

export function getOrder(bytes: number): number {
  let order = 0;
  while (PAGE * 2 ** order < bytes) order++;
  return order;
}

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

function rounddownPow2(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, v));
}
