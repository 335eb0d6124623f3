/**
 * Physical memory layout of an x86_64 QEMU (i440FX) guest: the e820 map, the
 * zones (DMA, DMA32, Normal; Movable and Device empty), what memblock keeps
 * reserved at boot, and the page-allocator tunings the kernel derives from the
 * zone sizes (watermarks, lowmem_reserve, per-cpu pageset high/batch, vmstat
 * thresholds). Pure functions of the configuration.
 */

export const PAGE_SHIFT = 12;
export const PAGE_KB = 4;
export const MAX_ORDER = 11;
export const PAGEBLOCK_ORDER = 9;
export const PAGEBLOCK_PAGES = 1 << PAGEBLOCK_ORDER;

export const ZONE_NAMES = ['DMA', 'DMA32', 'Normal', 'Movable', 'Device'] as const;
export type ZoneName = (typeof ZONE_NAMES)[number];
export const ZONE_DMA = 0;
export const ZONE_DMA32 = 1;
export const ZONE_NORMAL = 2;
export const ZONE_MOVABLE = 3;
export const NR_ZONES = 5;

/** sysctl vm.lowmem_reserve_ratio defaults: DMA 256, DMA32 256, Normal 32, Movable 0, Device 0. */
export const LOWMEM_RESERVE_RATIO = [256, 256, 32, 0, 0] as const;

const MIB = 1024 * 1024;
const PFN_4G = 0x100000;
const PFN_16M = 0x1000;
/** SeaBIOS keeps the top 172 KiB of low RAM for ACPI tables (0x1ffd5000-0x1fffffff on a 512 MiB guest). */
const BIOS_TOP_RESERVED = 0x2b;
/** Kernel image (text+rwdata+rodata+bss) the reference kernel keeps after freeing initmem, pages. */
export const KERNEL_IMAGE_PAGES = 10789;
/** NODE_DATA, early page tables, ACPI, trampoline and other memblock allocations, pages. */
export const MEMBLOCK_MISC_PAGES = 589;
/** Freed late in boot (initrd 9700K, init sections and image gaps 8008K): not yet counted when vm.min_free_kbytes is first computed. */
export const LATE_FREED_PAGES = 4427;
/** percpu first chunk: "Embedded 62 pages/cpu". */
export const PERCPU_PAGES_PER_CPU = 62;
/** meminfo Percpu per CPU (first chunk plus the dynamic chunk's populated pages). */
export const PERCPU_REPORTED_PAGES_PER_CPU = 68;
/** software IO TLB bounce buffers when RAM reaches above 4 GiB: 64 MiB. */
const SWIOTLB_PAGES = (64 * MIB) >> PAGE_SHIFT;
const SECTION_PAGES = (128 * MIB) >> PAGE_SHIFT;
/** struct page is 64 bytes: a 128 MiB section needs 2 MiB of memmap. */
const MEMMAP_PAGES_PER_SECTION = (SECTION_PAGES * 64) >> PAGE_SHIFT;

export interface PfnRange {
  start: number;
  end: number;
}

export interface ZoneGeometry {
  name: ZoneName;
  startPfn: number;
  spanned: number;
  present: number;
  managed: number;
  /** free ranges handed to the buddy allocator at the end of boot */
  freeRanges: PfnRange[];
}

export interface MemoryLayout {
  /** usable RAM below 4 GiB ends here (bytes) */
  lowEnd: number;
  /** RAM above 4 GiB (bytes) */
  highBytes: number;
  zones: ZoneGeometry[];
  /** all present pages ("pages RAM") */
  totalPresent: number;
  reservedPages: number;
  /** last pfn + 1 of RAM */
  maxPfn: number;
  /** Dentry/Inode-cache hash table entries */
  dentryHashEntries: number;
  inodeHashEntries: number;
  swiotlb: boolean;
  /** direct map page counts by size, in kB */
  directMap4k: number;
  directMap2M: number;
  directMap1G: number;
}

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** The physical layout for `memoryMb` of RAM and `cpus` CPUs. */
export function computeLayout(memoryMb: number, cpus: number): MemoryLayout {
  const memBytes = memoryMb * MIB;
  // QEMU pc: above 3.5 GiB of RAM, low memory stops at 3 GiB and the rest moves above 4 GiB
  const lowEnd = memBytes >= 0xe0000000 ? 0xc0000000 : memBytes;
  const highBytes = memBytes - lowEnd;
  const lowEndPfn = Math.floor(lowEnd / 4096) - BIOS_TOP_RESERVED;
  const highPages = highBytes / 4096;

  // present ranges: page 0 is reserved by the e820 update, 0x9f000-0xfffff is the ISA hole
  const dmaEnd = Math.min(lowEndPfn, PFN_16M);
  const dma32End = Math.min(lowEndPfn, PFN_4G);
  const dmaPresent = 0x9f - 1 + Math.max(0, dmaEnd - 0x100);
  const dma32Present = Math.max(0, dma32End - PFN_16M);
  const normalPresent = highPages;
  const totalPresent = dmaPresent + dma32Present + normalPresent;
  const maxPfn = highPages > 0 ? PFN_4G + highPages : lowEndPfn;

  // memblock reservations
  let sections = Math.ceil(lowEndPfn / SECTION_PAGES);
  if (highPages > 0) sections += Math.ceil(highPages / SECTION_PAGES);
  const memmap = sections * MEMMAP_PAGES_PER_SECTION;
  const kernelPages = totalPresent - memmap;
  const hashBase = Math.ceil(kernelPages / 256) * 256;
  const dentryHashEntries = roundupPow2(hashBase >> 1);
  const inodeHashEntries = roundupPow2(hashBase >> 2);
  const hashPages = (dentryHashEntries * 8 + inodeHashEntries * 8) >> PAGE_SHIFT;
  const percpu = cpus * PERCPU_PAGES_PER_CPU;
  const swiotlb = highPages > 0;
  const topReserved = memmap + hashPages + percpu + MEMBLOCK_MISC_PAGES;

  const zones: ZoneGeometry[] = [];
  // DMA: the first MiB stays reserved (real-mode trampoline, BIOS areas)
  zones.push({
    name: 'DMA',
    startPfn: 1,
    spanned: dmaEnd - 1,
    present: dmaPresent,
    managed: Math.max(0, dmaEnd - 0x100),
    freeRanges: dmaEnd > 0x100 ? [{ start: 0x100, end: dmaEnd }] : [],
  });
  // DMA32: the kernel image at 16 MiB; swiotlb at its top; the rest of memblock top-down in the highest zone
  {
    const start = PFN_16M;
    const end = dma32End;
    let freeStart = start + KERNEL_IMAGE_PAGES;
    let freeEnd = end;
    if (swiotlb) freeEnd -= SWIOTLB_PAGES;
    if (!(highPages > 0)) freeEnd -= topReserved;
    freeStart = Math.min(freeStart, freeEnd);
    zones.push({
      name: 'DMA32',
      startPfn: start,
      spanned: end - start,
      present: dma32Present,
      managed: freeEnd - freeStart,
      freeRanges: freeEnd > freeStart ? [{ start: freeStart, end: freeEnd }] : [],
    });
  }
  if (highPages > 0) {
    const start = PFN_4G;
    const end = PFN_4G + highPages - topReserved;
    zones.push({
      name: 'Normal',
      startPfn: start,
      spanned: highPages,
      present: highPages,
      managed: end - start,
      freeRanges: [{ start, end }],
    });
  } else {
    zones.push({ name: 'Normal', startPfn: 0, spanned: 0, present: 0, managed: 0, freeRanges: [] });
  }
  zones.push({ name: 'Movable', startPfn: 0, spanned: 0, present: 0, managed: 0, freeRanges: [] });
  zones.push({ name: 'Device', startPfn: 0, spanned: 0, present: 0, managed: 0, freeRanges: [] });

  const managed = zones.reduce((a, z) => a + z.managed, 0);

  // direct map: the first 2 MiB and unaligned tails in 4k pages, some 2M pages split for the kernel text, 1G pages where aligned above 1 GiB
  const KB_2M = 2048;
  const KB_1G = 1024 * 1024;
  const lowKb = lowEndPfn * PAGE_KB;
  let d4k = KB_2M + (lowKb % KB_2M) + 21 * KB_2M;
  let d1g = 0;
  let d2m = Math.floor(lowKb / KB_2M) * KB_2M - KB_2M - 21 * KB_2M;
  if (lowKb >= 2 * KB_1G) {
    const g = Math.floor(lowKb / KB_1G) - 1;
    d1g += g * KB_1G;
    d2m -= g * KB_1G;
  }
  if (highPages > 0) {
    const hiKb = highPages * PAGE_KB;
    const g = Math.floor(hiKb / KB_1G);
    d1g += g * KB_1G;
    const rest = hiKb - g * KB_1G;
    d2m += Math.floor(rest / KB_2M) * KB_2M;
    d4k += rest % KB_2M;
  }
  if (d2m < 0) {
    d4k += d2m;
    d2m = 0;
  }

  return {
    lowEnd,
    highBytes,
    zones,
    totalPresent,
    reservedPages: totalPresent - managed,
    maxPfn,
    dentryHashEntries,
    inodeHashEntries,
    swiotlb,
    directMap4k: d4k,
    directMap2M: d2m,
    directMap1G: d1g,
  };
}

/** Splits [start, end) into naturally aligned buddy blocks: calls add(order, pfn) per block. */
export function forEachBuddyBlock(start: number, end: number, add: (order: number, pfn: number) => void): void {
  let pfn = start;
  while (pfn < end) {
    let order = MAX_ORDER - 1;
    while (order > 0 && (pfn % (1 << order) !== 0 || pfn + (1 << order) > end)) order--;
    add(order, pfn);
    pfn += 1 << order;
  }
}

/** int_sqrt(): floor of the square root. */
export function intSqrt(x: number): number {
  return Math.floor(Math.sqrt(x));
}

/** init_per_zone_wmark_min: min_free_kbytes = sqrt(lowmem_kbytes * 16), clamped to [128, 262144]. */
export function defaultMinFreeKbytes(lowmemPages: number): number {
  const v = intSqrt(lowmemPages * PAGE_KB * 16);
  return Math.min(262144, Math.max(128, v));
}

export interface Watermarks {
  min: number;
  low: number;
  high: number;
}

/** __setup_per_zone_wmarks for the given managed pages of each zone. */
export function zoneWatermarks(managed: readonly number[], minFreeKbytes: number, scaleFactor: number): Watermarks[] {
  const pagesMin = Math.floor(minFreeKbytes / PAGE_KB);
  const lowmem = managed.reduce((a, b) => a + b, 0);
  return managed.map((m) => {
    if (m === 0 || lowmem === 0) return { min: 0, low: 0, high: 0 };
    const tmp = Math.floor((pagesMin * m) / lowmem);
    const gap = Math.max(tmp >> 2, Math.floor((m * scaleFactor) / 10000));
    return { min: tmp, low: tmp + gap, high: tmp + 2 * gap };
  });
}

/** setup_per_zone_lowmem_reserve: protection[] of each zone against allocations for higher zones. */
export function lowmemReserve(managed: readonly number[]): number[][] {
  return managed.map((m, i) => {
    const out = new Array<number>(NR_ZONES).fill(0);
    const ratio = LOWMEM_RESERVE_RATIO[i];
    const clear = !ratio || !m;
    let sum = 0;
    for (let j = i + 1; j < NR_ZONES; j++) {
      sum += managed[j];
      out[j] = clear ? 0 : Math.floor(sum / ratio);
    }
    return out;
  });
}

/** zone_batchsize(): the per-cpu pageset batch. */
export function pcpBatch(managed: number): number {
  let batch = Math.min(managed >> 10, (1024 * 1024) >> PAGE_SHIFT);
  batch = Math.floor(batch / 4);
  if (batch < 1) batch = 1;
  let p = 1;
  while (p * 2 <= batch + (batch >> 1)) p *= 2;
  return Math.max(1, p - 1);
}

/** zone_highsize(): the per-cpu pageset high mark, from the low watermark split over the CPUs. */
export function pcpHigh(lowWmark: number, batch: number, cpus: number): number {
  return Math.max(Math.floor(lowWmark / cpus), batch << 2);
}

function fls(x: number): number {
  let n = 0;
  while (x > 0) {
    n++;
    x = Math.floor(x / 2);
  }
  return n;
}

/** calculate_normal_threshold(): the "vm stats threshold" of a zone. */
export function statThreshold(managed: number, cpus: number): number {
  const mem = Math.floor(managed / (1 << (27 - PAGE_SHIFT)));
  return Math.min(125, 2 * fls(cpus) * (1 + fls(mem)));
}

/** Pages of each DMA atomic pool ("DMA: preallocated 128 KiB ... pool"). */
export function atomicPoolPages(totalram: number): number {
  const pages = Math.min(Math.floor(totalram / 8192), 1 << (MAX_ORDER - 1));
  return Math.max(pages, 32);
}
