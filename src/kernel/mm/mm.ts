import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import { PAGE_SIZE } from '../types';
import {
  MIGRATE_MOVABLE,
  MIGRATE_PCPTYPES,
  MIGRATE_RECLAIMABLE,
  MIGRATE_UNMOVABLE,
  type FreeArea,
  addBlock,
  cloneFreeArea,
  emptyFreeArea,
  givePages,
  takeBlock,
  takePages,
} from './buddy';
import {
  type ExeProfile,
  type SpaceDyn,
  type SpaceLayout,
  type Vma,
  STACK_PAGES,
  buildVmas,
  dataCapacity,
  exeProfile,
  heapFor,
  randomLayout,
  summarize,
} from './elf';
import {
  LATE_FREED_PAGES,
  type MemoryLayout,
  NR_ZONES,
  PAGEBLOCK_PAGES,
  PERCPU_REPORTED_PAGES_PER_CPU,
  ZONE_DMA,
  ZONE_DMA32,
  ZONE_MOVABLE,
  ZONE_NAMES,
  ZONE_NORMAL,
  atomicPoolPages,
  computeLayout,
  defaultMinFreeKbytes,
  forEachBuddyBlock,
  lowmemReserve,
  pcpBatch,
  pcpHigh,
  zoneWatermarks,
} from './layout';
import { BOOT_CACHES, type SlabCacheDef, type SlabDrivers, type SlabRow, customCacheDef, slabCacheDef, slabRow, slabTotals } from './slab';
import { REF_VMALLOC_AREAS } from '../data/mm-reference';
import { oomReport, type OomVictimInfo } from './oom';
import { traceAnonFaults } from '../trace/paths/mm-block';

/**
 * Memory management: zones, buddy allocator, slab caches, page cache, swap,
 * reclaim and the OOM killer; also the address spaces of tasks.
 *
 * Everything is counts (no page is an object). Memory the rest of the kernel
 * owns — tmpfs bytes, the number of tasks (kernel stacks, task_struct...) — is
 * read lazily: views reconcile it on a copy of the state (pure reads), and
 * every mutating mm call reconciles it for real first (so it happens at op or
 * timer times only, identically on journal replay).
 */

/** Per-task memory, what /proc/<pid>/status Vm* lines and statm show. */
export interface TaskMem {
  /** pages mapped in total (VmSize) */
  vmPages: number;
  rssAnonPages: number;
  rssFilePages: number;
  rssShmemPages: number;
  swapPages: number;
  /** high-water mark of rss, pages */
  hwmPages: number;
  /** peak vmPages */
  peakPages: number;
  dataPages: number;
  stackPages: number;
  exePages: number;
  libPages: number;
  lockedPages: number;
  pinnedPages: number;
  pteBytes: number;
}

/** How a new address space is laid out (an ELF binary and its libraries). */
export interface AddressSpaceSpec {
  /** absolute path of the executable, e.g. /usr/bin/bash */
  exe: string;
  /** initial resident anonymous pages (heap+stack touched); default from the program's profile */
  anonPages?: number;
}

// ---------------------------------------------------------------- state

/** What a zone's pages are used for (per-zone counts). */
export const C_ANON = 0;
export const C_FILE = 1;
export const C_SHMEM = 2;
export const C_SLAB_R = 3;
export const C_SLAB_U = 4;
export const C_STACK = 5;
export const C_PGTABLE = 6;
export const C_VMALLOC = 7;
export const C_KOTHER = 8;
export const NR_CATS = 9;
const CAT_MT = [
  MIGRATE_MOVABLE,
  MIGRATE_MOVABLE,
  MIGRATE_MOVABLE,
  MIGRATE_RECLAIMABLE,
  MIGRATE_UNMOVABLE,
  MIGRATE_UNMOVABLE,
  MIGRATE_UNMOVABLE,
  MIGRATE_UNMOVABLE,
  MIGRATE_UNMOVABLE,
];
const DERIVED_CATS = [C_SHMEM, C_SLAB_R, C_SLAB_U, C_STACK] as const;

export interface ZoneState {
  area: FreeArea;
  /** pcp[cpu][pcptype]: pages on the per-cpu lists */
  pcp: number[][];
  /** watermarks: min, low, high */
  wm: [number, number, number];
  /** lowmem_reserve[] (protection) */
  reserve: number[];
  /** pages in use, by category */
  used: number[];
  pgalloc: number;
  numaHit: number;
  numaInterleave: number;
  allocstall: number;
}

export interface PageCacheEntry {
  pages: number;
  /** pages on the active list */
  active: number;
  /** LRU age: last access tick */
  tick: number;
  /** block device buffers (Buffers:) rather than file pages */
  buffers?: boolean;
}

export interface SpaceState {
  exe: string;
  layout: SpaceLayout;
  dyn: SpaceDyn;
  mem: TaskMem;
  /** anonymous pages this space owns physically */
  priv: number;
  /** pages shared copy-on-write with (owned by) cowParent */
  shared: number;
  cowParent: number;
  /** of priv, pages children share */
  cowShared: number;
  /** of priv, pages on the active list */
  active: number;
  /** charged page-table pages */
  ptePages: number;
  /** committed pages (private writable mappings) */
  commit: number;
  vmas: number;
  /** mapped files and their resident pages */
  files: Record<string, number>;
  oomSkip?: boolean;
}

export interface VmallocArea {
  id: number;
  caller: string;
  pages: number;
  /** bytes, guard page included */
  size: number;
  /** offset from VMALLOC_START, bytes */
  off: number;
  kind: 'vmalloc' | 'ioremap' | 'vmap';
  phys?: number;
}

export interface SwapArea {
  path: string;
  partition: boolean;
  pages: number;
  used: number;
  prio: number;
}

export interface VmTunables {
  swappiness: number;
  overcommit_memory: number;
  overcommit_ratio: number;
  overcommit_kbytes: number;
  min_free_kbytes: number;
  panic_on_oom: number;
  drop_caches: number;
  oom_kill_allocating_task: number;
  oom_dump_tasks: number;
  watermark_scale_factor: number;
  admin_reserve_kbytes: number;
  user_reserve_kbytes: number;
}

export interface MmState {
  v: 2;
  zones: ZoneState[];
  tun: VmTunables;
  spaces: Record<number, SpaceState>;
  pc: Record<string, PageCacheEntry>;
  tick: number;
  /** mapped files: processes mapping them and their resident pages */
  mapped: Record<string, { count: number; pages: number }>;
  vmalloc: { nextId: number; nextOff: number; areas: VmallocArea[] };
  slab: { delta: Record<string, number>; created: string[]; custom: Record<string, SlabCacheDef> };
  swap: SwapArea[];
  /** vm event counters (pgfault, pgfree, ...) */
  ev: Record<string, number>;
  dropStfu: boolean;
  /** oom_rs ratelimit of the OOM report: window start (ns) and reports printed in it */
  oomRl: [number, number];
  /** shmem pages of the unpacked initramfs (the OS files of the rootfs) */
  bootShmem: number;
}

/** vm.* knobs with the kernel's ranges (min..max, inclusive). */
const TUNABLE_RANGE: Readonly<Record<keyof VmTunables, [number, number]>> = {
  swappiness: [0, 200],
  overcommit_memory: [0, 2],
  overcommit_ratio: [-2147483648, 2147483647],
  overcommit_kbytes: [0, Number.MAX_SAFE_INTEGER],
  min_free_kbytes: [0, 2147483647],
  panic_on_oom: [0, 2],
  drop_caches: [1, 4],
  oom_kill_allocating_task: [-2147483648, 2147483647],
  oom_dump_tasks: [-2147483648, 2147483647],
  watermark_scale_factor: [1, 3000],
  admin_reserve_kbytes: [0, Number.MAX_SAFE_INTEGER],
  user_reserve_kbytes: [0, Number.MAX_SAFE_INTEGER],
};

export type VmTunableName = keyof VmTunables;
export const VM_TUNABLES = Object.keys(TUNABLE_RANGE) as VmTunableName[];

/** Pages of unpacked initramfs (shmem) on the reference machine: 31520 kB. */
const BOOT_SHMEM_PAGES = 7880;
/** Early kernel allocations from the buddy allocator (ftrace pages, driver buffers, ...). */
const BOOT_KERNEL_OTHER_PAGES = 880;
/** Block-device buffers of the boot disk. */
const BOOT_BUFFER_PAGES = 15;
/** managed pages of the reference 512 MiB machine: baselines scale down below it */
const REF_MANAGED = 117031;
const STACK_PAGES_PER_TASK = 4;
/** memfs ids of the in-memory filesystems whose pages are shmem */
const SHMEM_FS = ['rootfs', 'devtmpfs', 'tmp', 'run', 'shm'];
/** VMALLOC_START offset where runtime vmalloc areas (modules, ...) begin */
const VMALLOC_DYN_OFF = 0x40000000;
/** ... and where kernel stacks of tasks live (pid-indexed slots) */
export const VMALLOC_STACK_OFF = 0x100000000;
const MAX_OOM_ROUNDS = 64;

export interface AllocCtx {
  pid?: number;
  gfp: string;
  order?: number;
  /** reconcile on a copy: no reclaim, no OOM, no watermarks */
  view?: boolean;
  noOom?: boolean;
}

export const GFP_HIGHUSER_MOVABLE = '0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP)';
export const GFP_KERNEL = '0xcc0(GFP_KERNEL)';

// ---------------------------------------------------------------- views

export interface ZoneStats {
  name: string;
  populated: boolean;
  startPfn: number;
  spanned: number;
  present: number;
  managed: number;
  free: number;
  min: number;
  low: number;
  high: number;
  reserve: number[];
  pcp: number[];
  pcpHigh: number;
  pcpBatch: number;
  activeAnon: number;
  inactiveAnon: number;
  activeFile: number;
  inactiveFile: number;
  area: FreeArea;
  numaHit: number;
  numaInterleave: number;
  pgalloc: number;
  allocstall: number;
}

/** Everything the views print, in pages unless named otherwise. */
export interface MemStats {
  zones: ZoneStats[];
  totalram: number;
  free: number;
  pcp: number;
  anon: number;
  shmem: number;
  /** file pages without buffers and shmem */
  file: number;
  buffers: number;
  activeAnon: number;
  inactiveAnon: number;
  activeFile: number;
  inactiveFile: number;
  mapped: number;
  slabR: number;
  slabU: number;
  kernelStackKb: number;
  pageTables: number;
  vmallocUsed: number;
  percpu: number;
  committed: number;
  commitLimit: number;
  swapTotal: number;
  swapFree: number;
  swapCached: number;
  available: number;
  totalreserve: number;
  dirtyThresh: number;
  bgThresh: number;
  /** dirty page cache pages (block device pages written and not yet written back) */
  dirty: number;
  ev: Readonly<Record<string, number>>;
  /** pages in use per category (C_ANON ... C_KOTHER) */
  used: number[];
  layout: MemoryLayout;
  present: number;
  reserved: number;
}

function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const out = weights.map(() => 0);
  if (sum <= 0 || total <= 0) return out;
  let given = 0;
  let big = 0;
  for (let i = 0; i < weights.length; i++) {
    out[i] = Math.floor((total * weights[i]) / sum);
    given += out[i];
    if (weights[i] > weights[big]) big = i;
  }
  out[big] += total - given;
  return out;
}

function cloneZone(z: ZoneState): ZoneState {
  return {
    area: cloneFreeArea(z.area),
    pcp: z.pcp.map((r) => r.slice()),
    wm: [z.wm[0], z.wm[1], z.wm[2]],
    reserve: z.reserve.slice(),
    used: z.used.slice(),
    pgalloc: z.pgalloc,
    numaHit: z.numaHit,
    numaInterleave: z.numaInterleave,
    allocstall: z.allocstall,
  };
}

function parseTunable(name: string, value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new KernelError('EINVAL', `${name}: not an integer`);
    return value;
  }
  const t = value.trim();
  if (!/^[+-]?\d+$/.test(t)) throw new KernelError('EINVAL', `${name}: not an integer`);
  const n = Number(t);
  if (!Number.isSafeInteger(n)) throw new KernelError('EINVAL', `${name}: out of range`);
  return n;
}

export class Mm {
  private s: MmState;
  readonly layout: MemoryLayout;
  private readonly cpus: number;
  private readonly zonelist: number[];
  /** baselines scale with memory below the reference machine's (0..1] */
  readonly scale: number;
  private batch: number[] = [];
  private high: number[] = [];
  /** bumps on every mutation: keys the memoised views */
  private version = 0;
  private memo: { version: number; key: string; stats: MemStats } | undefined;
  private inSync = false;
  /** caches that exist (derived from state.slab.created; rebuilt when it changes) */
  private cacheList: SlabCacheDef[] | undefined;
  private slabMemo: { key: string; totals: { reclaimable: number; unreclaimable: number } } | undefined;

  constructor(private readonly k: Kernel) {
    this.cpus = k.config.cpus;
    this.layout = computeLayout(k.config.memoryMb, k.config.cpus);
    this.zonelist = [ZONE_NORMAL, ZONE_DMA32, ZONE_DMA].filter((i) => this.layout.zones[i].managed > 0);
    const managed = this.layout.zones.reduce((a, z) => a + z.managed, 0);
    this.scale = Math.min(1, managed / REF_MANAGED);
    this.s = this.boot();
  }

  // ---------------------------------------------------------------- boot

  private boot(): MmState {
    const L = this.layout;
    const zones: ZoneState[] = L.zones.map((g) => {
      const area = emptyFreeArea();
      // memmap_init() marks pageblocks Movable from each aligned pfn of the zone: a zone starting
      // inside a pageblock (DMA starts at pfn 1) leaves that first pageblock Unmovable
      const unaligned = g.startPfn % PAGEBLOCK_PAGES !== 0;
      const firstMovable = Math.ceil(g.startPfn / PAGEBLOCK_PAGES) * PAGEBLOCK_PAGES;
      if (g.spanned > 0) {
        const first = Math.floor(g.startPfn / PAGEBLOCK_PAGES);
        const last = Math.ceil((g.startPfn + g.spanned) / PAGEBLOCK_PAGES);
        area.blocks[MIGRATE_MOVABLE] = last - first - (unaligned ? 1 : 0);
        if (unaligned) area.blocks[MIGRATE_UNMOVABLE] = 1;
      }
      for (const r of g.freeRanges) {
        forEachBuddyBlock(r.start, r.end, (o, pfn) => addBlock(area, pfn < firstMovable ? MIGRATE_UNMOVABLE : MIGRATE_MOVABLE, o));
      }
      return {
        area,
        pcp: Array.from({ length: this.cpus }, () => new Array<number>(MIGRATE_PCPTYPES).fill(0)),
        wm: [0, 0, 0] as [number, number, number],
        reserve: new Array<number>(NR_ZONES).fill(0),
        used: new Array<number>(NR_CATS).fill(0),
        pgalloc: 0,
        numaHit: 0,
        numaInterleave: 0,
        allocstall: 0,
      };
    });
    // init_per_zone_wmark_min runs before initrd and init sections are freed
    const initManaged = L.zones.map((z, i) => (i === ZONE_DMA32 ? Math.max(0, z.managed - LATE_FREED_PAGES) : z.managed));
    const minFree = defaultMinFreeKbytes(initManaged.reduce((a, b) => a + b, 0));
    const wms = zoneWatermarks(initManaged, minFree, 10);
    const res = lowmemReserve(initManaged);
    zones.forEach((z, i) => {
      z.wm = [wms[i].min, wms[i].low, wms[i].high];
      z.reserve = res[i];
    });
    const s: MmState = {
      v: 2,
      zones,
      tun: {
        swappiness: 60,
        overcommit_memory: 0,
        overcommit_ratio: 50,
        overcommit_kbytes: 0,
        min_free_kbytes: minFree,
        panic_on_oom: 0,
        drop_caches: 0,
        oom_kill_allocating_task: 0,
        oom_dump_tasks: 1,
        watermark_scale_factor: 10,
        admin_reserve_kbytes: 0,
        user_reserve_kbytes: 0,
      },
      spaces: {},
      pc: {},
      tick: 0,
      mapped: {},
      vmalloc: { nextId: 1, nextOff: VMALLOC_DYN_OFF, areas: [] },
      slab: { delta: {}, created: [], custom: {} },
      swap: [],
      ev: {},
      dropStfu: false,
      oomRl: [0, 0],
      bootShmem: Math.round(BOOT_SHMEM_PAGES * this.scale),
    };
    this.s = s;
    this.recomputePcp();
    // memblock_free_all() counts every page it releases as freed
    s.ev.pgfree = L.zones.reduce((a, z) => a + z.managed, 0);
    const boot: AllocCtx = { gfp: GFP_KERNEL, view: true };
    // DMA atomic pools: GFP_KERNEL|GFP_DMA, GFP_KERNEL|GFP_DMA32 and GFP_KERNEL, one high-order block each
    const poolPages = atomicPoolPages(L.zones.reduce((a, z) => a + z.managed, 0));
    const poolOrder = Math.ceil(Math.log2(poolPages));
    for (const zi of [ZONE_DMA, ZONE_DMA32, this.zonelist[0]]) {
      if (L.zones[zi].managed > 0 && takeBlock(s.zones[zi].area, MIGRATE_UNMOVABLE, poolOrder)) {
        s.zones[zi].used[C_KOTHER] += 1 << poolOrder;
        s.zones[zi].pgalloc += 1 << poolOrder;
        s.zones[zi].numaHit += 1;
      }
    }
    this.allocCat(s, C_KOTHER, Math.round(BOOT_KERNEL_OTHER_PAGES * this.scale), boot);
    let off = 0;
    for (const a of REF_VMALLOC_AREAS) {
      for (let c = 0; c < (a.perCpu ? this.cpus : 1); c++) {
        let phys = a.phys;
        // ACPI tables sit at the top of low RAM
        if (phys !== undefined && phys >= 0x1f000000 && phys < 0x20000000) phys = phys - 0x20000000 + L.lowEnd;
        s.vmalloc.areas.push({ id: 0, caller: a.caller, pages: a.pages, size: a.size, off, kind: a.kind, phys });
        off += a.size;
        if (a.pages > 0) {
          const got = this.allocCat(s, C_VMALLOC, a.pages, boot);
          s.zones[this.zonelist[0]].numaInterleave += got;
        }
      }
    }
    s.pc['bdev:vda'] = { pages: 0, active: 0, tick: 0, buffers: true };
    const got = this.allocCat(s, C_FILE, BOOT_BUFFER_PAGES, boot);
    s.pc['bdev:vda'].pages = got;
    s.pc['bdev:vda'].active = Math.floor((got * 4) / 5);
    const freeKb = this.totalFree(s) * 4 - LATE_FREED_PAGES * 4;
    s.tun.user_reserve_kbytes = Math.min(Math.floor(freeKb / 32), 1 << 17);
    s.tun.admin_reserve_kbytes = Math.min(Math.floor(freeKb / 32), 1 << 13);
    return s;
  }

  private recomputePcp(): void {
    this.batch = this.s.zones.map((_, i) => pcpBatch(this.layout.zones[i].managed));
    this.high = this.s.zones.map((z, i) => pcpHigh(z.wm[1], this.batch[i], this.cpus));
  }

  /** setup_per_zone_wmarks() + lowmem reserve + pcp high, from the current tunables. */
  private recomputeWatermarks(): void {
    const managed = this.layout.zones.map((z) => z.managed);
    const wms = zoneWatermarks(managed, this.s.tun.min_free_kbytes, this.s.tun.watermark_scale_factor);
    const res = lowmemReserve(managed);
    this.s.zones.forEach((z, i) => {
      z.wm = [wms[i].min, wms[i].low, wms[i].high];
      z.reserve = res[i];
    });
    this.recomputePcp();
  }

  // ---------------------------------------------------------------- accessors

  /** MemTotal in pages (sum of the zones' managed pages). */
  get totalPages(): number {
    return this.layout.zones.reduce((a, z) => a + z.managed, 0);
  }

  /** MemFree in pages. */
  get freePages(): number {
    return this.stats().free;
  }

  /** Memory of a user task; undefined for kernel threads and unknown pids. */
  taskMem(pid: number): TaskMem | undefined {
    return this.s.spaces[pid]?.mem;
  }

  /** The VMAs of a task (ascending), or undefined without an address space. */
  vmas(pid: number): Vma[] | undefined {
    const sp = this.s.spaces[pid];
    if (!sp) return undefined;
    return buildVmas(sp.exe, exeProfile(sp.exe), sp.layout, sp.dyn);
  }

  /** Internal state for the views and the OOM report (read-only by convention). */
  space(pid: number): Readonly<SpaceState> | undefined {
    return this.s.spaces[pid];
  }

  mappedCount(path: string): number {
    return this.s.mapped[path]?.count ?? 0;
  }

  swapAreas(): readonly SwapArea[] {
    return this.s.swap;
  }

  vmallocAreas(): readonly VmallocArea[] {
    return this.s.vmalloc.areas;
  }

  /** Slab caches that exist now, newest first (the order /proc/slabinfo uses). */
  slabCaches(): readonly SlabCacheDef[] {
    if (!this.cacheList) {
      const created = this.s.slab.created.map((n) => slabCacheDef(n) ?? this.s.slab.custom[n]).filter((c): c is SlabCacheDef => !!c);
      this.cacheList = [...created.reverse(), ...BOOT_CACHES];
    }
    return this.cacheList;
  }

  slabDelta(): Readonly<Record<string, number>> {
    return this.s.slab.delta;
  }

  /** A cache's current slabinfo row. */
  slabRowOf(c: SlabCacheDef): SlabRow {
    return slabRow(c, this.slabDrivers(), this.s.slab.delta[c.name] ?? 0, this.scale);
  }

  // ---------------------------------------------------------------- derived charges

  private tasksCount(): number {
    const sched = this.k.sched;
    if (!sched) return 0;
    return typeof sched.nrThreads === 'function' ? sched.nrThreads() : sched.tasks().length;
  }

  /** Shmem pages: the unpacked initramfs plus what the in-memory filesystems hold. */
  shmemTarget(): number {
    let pages = this.s.bootShmem;
    for (const id of SHMEM_FS) {
      const fs = this.k.memFs(id);
      if (fs) pages += Math.ceil(fs.usedBytes / PAGE_SIZE);
    }
    return pages;
  }

  slabDrivers(shmem = this.shmemTarget()): SlabDrivers {
    let fsInodes = 0;
    for (const id of SHMEM_FS) fsInodes += this.k.memFs(id)?.inodeCount ?? 0;
    let vmas = 0;
    let procs = 0;
    for (const sp of Object.values(this.s.spaces)) {
      vmas += sp.vmas;
      procs++;
    }
    let cacheKeys = 0;
    let cachePages = 0;
    let bufferPages = 0;
    for (const e of Object.values(this.s.pc)) {
      cacheKeys++;
      cachePages += e.pages;
      if (e.buffers) bufferPages += e.pages;
    }
    let vmapAreas = 0;
    for (const a of this.s.vmalloc.areas) if (a.id > 0) vmapAreas++;
    return { tasks: this.tasksCount(), procs, vmas, fsInodes, cacheKeys, cachePages, shmemPages: shmem, bufferPages, vmapAreas };
  }

  private slabTotalsNow(d: SlabDrivers): { reclaimable: number; unreclaimable: number } {
    let key = `${d.tasks},${d.procs},${d.vmas},${d.fsInodes},${d.cacheKeys},${d.cachePages},${d.shmemPages},${d.bufferPages},${d.vmapAreas}`;
    for (const [n, v] of Object.entries(this.s.slab.delta)) key += `;${n}=${v}`;
    key += `|${this.s.slab.created.join(',')}`;
    if (this.slabMemo?.key === key) return this.slabMemo.totals;
    const totals = slabTotals(this.slabCaches(), d, this.s.slab.delta, this.scale);
    this.slabMemo = { key, totals };
    return totals;
  }

  private targets(): number[] {
    const shmem = this.shmemTarget();
    const d = this.slabDrivers(shmem);
    const slab = this.slabTotalsNow(d);
    const stack = (d.tasks + this.cpus - 1) * STACK_PAGES_PER_TASK;
    const t = new Array<number>(NR_CATS).fill(0);
    t[C_SHMEM] = shmem;
    t[C_SLAB_R] = slab.reclaimable;
    t[C_SLAB_U] = slab.unreclaimable;
    t[C_STACK] = stack;
    return t;
  }

  private used(s: MmState, cat: number): number {
    let n = 0;
    for (const z of s.zones) n += z.used[cat];
    return n;
  }

  private totalFree(s: MmState): number {
    let n = 0;
    for (const z of s.zones) n += z.area.nrFree;
    return n;
  }

  /** Brings the derived charges (shmem, slab, kernel stacks) to their targets. */
  private syncDerived(s: MmState, targets: number[], ctx: AllocCtx, freeOnly = false): void {
    for (const cat of DERIVED_CATS) {
      const cur = this.used(s, cat);
      if (targets[cat] < cur) this.freeCat(s, cat, cur - targets[cat], 0);
    }
    if (freeOnly) return;
    for (const cat of DERIVED_CATS) {
      const cur = this.used(s, cat);
      if (targets[cat] > cur)
        this.allocCat(s, cat, targets[cat] - cur, { ...ctx, gfp: cat === C_SHMEM ? GFP_HIGHUSER_MOVABLE : GFP_KERNEL });
    }
  }

  /**
   * Reconciles memory other subsystems own (tmpfs pages, tasks) now: call it
   * after such changes at op time to let reclaim and the OOM killer react.
   */
  syncExternal(pid?: number): void {
    this.mutate(() => undefined, pid);
  }

  /** Runs a mutation after reconciling the derived charges. */
  private mutate<T>(fn: () => T, pid?: number): T {
    this.version++;
    this.memo = undefined;
    // nested calls (the OOM killer's kill exits the victim) only do their own change
    if (this.inSync) return fn();
    this.inSync = true;
    try {
      this.syncDerived(this.s, this.targets(), { gfp: GFP_KERNEL, pid });
      return fn();
    } finally {
      this.inSync = false;
      this.version++;
      this.memo = undefined;
    }
  }

  // ---------------------------------------------------------------- allocation

  private cpuOf(pid?: number): number {
    if (pid === undefined || !this.k.sched) return 0;
    const c = this.k.sched.task(pid)?.cpu ?? 0;
    return c >= 0 && c < this.cpus ? c : 0;
  }

  /** Order-0 pages of `mt` from one zone through its per-cpu lists, above `mark`. */
  private allocFromZone(s: MmState, zi: number, mt: number, n: number, cpu: number, mark: number): number {
    const z = s.zones[zi];
    if (mark > 0 && z.area.nrFree <= mark) return 0;
    const pcp = z.pcp[cpu];
    const t = Math.min(n, pcp[mt]);
    pcp[mt] -= t;
    let got = t;
    const rest = n - t;
    if (rest > 0) {
      const batch = this.batch[zi];
      const budget = Math.max(0, z.area.nrFree - mark);
      const pull = Math.min(Math.ceil(rest / batch) * batch, budget);
      const pulled = takePages(z.area, mt, pull);
      const use = Math.min(rest, pulled);
      pcp[mt] += pulled - use;
      got += use;
    }
    z.pgalloc += got;
    z.numaHit += got;
    return got;
  }

  private tryZones(s: MmState, cat: number, n: number, cpu: number, wmark: number): number {
    const mt = CAT_MT[cat];
    const classzone = mt === MIGRATE_MOVABLE ? ZONE_MOVABLE : ZONE_NORMAL;
    let got = 0;
    for (const zi of this.zonelist) {
      if (got >= n) break;
      const z = s.zones[zi];
      const mark = wmark < 0 ? 0 : z.wm[wmark] + z.reserve[classzone];
      const g = this.allocFromZone(s, zi, mt, n - got, cpu, mark);
      z.used[cat] += g;
      got += g;
    }
    return got;
  }

  /**
   * Allocates `n` pages for `cat`: fast path above the low watermarks, kswapd,
   * the min watermarks, direct reclaim, then the OOM killer. Returns pages got.
   */
  private allocCat(s: MmState, cat: number, n: number, ctx: AllocCtx): number {
    if (n <= 0) return 0;
    const cpu = this.cpuOf(ctx.pid);
    if (ctx.view) return this.tryZones(s, cat, n, cpu, -1);
    let got = this.tryZones(s, cat, n, cpu, 1);
    if (got < n) {
      this.kswapd(s);
      got += this.tryZones(s, cat, n - got, cpu, 1);
      if (got < n) got += this.tryZones(s, cat, n - got, cpu, 0);
    }
    for (let round = 0; got < n && round < MAX_OOM_ROUNDS; round++) {
      const stallZone = this.zonelist[0];
      s.zones[stallZone].allocstall++;
      const freed = this.reclaim(s, n - got, 'direct');
      got += this.tryZones(s, cat, n - got, cpu, 0);
      if (got >= n) break;
      if (freed > 0) continue;
      if (ctx.noOom || !this.outOfMemory(s, ctx)) break;
      got += this.tryZones(s, cat, n - got, cpu, 0);
      if (ctx.pid !== undefined && (!s.spaces[ctx.pid] || s.spaces[ctx.pid].oomSkip) && cat === C_ANON) break;
    }
    if (this.zonelist.some((zi) => s.zones[zi].area.nrFree < s.zones[zi].wm[1])) this.kswapd(s);
    return got;
  }

  /** Frees `n` pages of `cat` back through the per-cpu lists, spread over the zones holding them. */
  private freeCat(s: MmState, cat: number, n: number, cpu: number): void {
    if (n <= 0) return;
    const weights = s.zones.map((z) => z.used[cat]);
    const parts = apportion(
      Math.min(
        n,
        weights.reduce((a, b) => a + b, 0),
      ),
      weights,
    );
    const mt = CAT_MT[cat];
    for (let zi = 0; zi < parts.length; zi++) {
      const f = Math.min(parts[zi], s.zones[zi].used[cat]);
      if (f <= 0) continue;
      s.zones[zi].used[cat] -= f;
      this.freeToZone(s, zi, mt, f, cpu);
    }
  }

  private freeToZone(s: MmState, zi: number, mt: number, n: number, cpu: number): void {
    const z = s.zones[zi];
    const pcp = z.pcp[cpu];
    pcp[mt] += n;
    s.ev.pgfree = (s.ev.pgfree ?? 0) + n;
    let total = pcp[0] + pcp[1] + pcp[2];
    const high = this.high[zi];
    const batch = this.batch[zi];
    if (total < high) return;
    let toFree = Math.min(total, (Math.floor((total - high) / batch) + 1) * batch);
    for (const m of [mt, 0, 1, 2]) {
      const f = Math.min(pcp[m], toFree);
      if (f <= 0) continue;
      pcp[m] -= f;
      givePages(z.area, m, f);
      toFree -= f;
      total -= f;
    }
  }

  // ---------------------------------------------------------------- reclaim

  private bump(s: MmState, name: string, n = 1): void {
    if (n) s.ev[name] = (s.ev[name] ?? 0) + n;
  }

  /** kswapd: reclaims until every zone is above its high watermark (instantly, no thread). */
  private kswapd(s: MmState): void {
    this.bump(s, 'pageoutrun');
    for (let i = 0; i < 8; i++) {
      let need = 0;
      for (const zi of this.zonelist) {
        const z = s.zones[zi];
        if (z.area.nrFree < z.wm[2]) need += z.wm[2] - z.area.nrFree;
      }
      if (need <= 0) {
        if (i === 0) this.bump(s, 'kswapd_high_wmark_hit_quickly');
        return;
      }
      if (this.reclaim(s, need, 'kswapd') === 0) return;
    }
  }

  private swapFree(s: MmState): number {
    return s.swap.reduce((a, x) => a + x.pages - x.used, 0);
  }

  /** shrink_node(): file LRU, anonymous to swap (by swappiness), then slab. Returns pages freed. */
  private reclaim(s: MmState, need: number, mode: 'kswapd' | 'direct'): number {
    const swap = this.swapFree(s);
    const anonOk = swap > 0 && s.tun.swappiness > 0;
    let anonTarget = anonOk ? Math.floor((need * s.tun.swappiness) / 200) : 0;
    const fileTarget = need - anonTarget;
    const fileGot = this.reclaimFile(s, fileTarget, mode);
    if (anonOk) anonTarget += fileTarget - fileGot;
    else if (swap > 0 && fileGot < fileTarget) anonTarget = fileTarget - fileGot;
    const anonGot = anonTarget > 0 ? this.reclaimAnon(s, Math.min(anonTarget, swap), mode) : 0;
    let freed = fileGot + anonGot;
    if (freed < need) freed += this.shrinkSlab(s, mode);
    return freed;
  }

  private reclaimFile(s: MmState, target: number, mode: 'kswapd' | 'direct'): number {
    if (target <= 0) return 0;
    const entries = Object.entries(s.pc)
      .filter(([, e]) => e.pages > 0)
      .sort((a, b) => a[1].tick - b[1].tick || (a[0] < b[0] ? -1 : 1));
    let got = 0;
    let scanned = 0;
    for (const pass of [0, 1]) {
      for (const [, e] of entries) {
        if (got >= target) break;
        const avail = pass === 0 ? e.pages - e.active : e.active;
        const t = Math.min(avail, target - got);
        if (t <= 0) continue;
        if (pass === 1) {
          e.active -= t;
          this.bump(s, 'pgdeactivate', t);
          this.bump(s, 'pgrefill', t);
        }
        e.pages -= t;
        e.active = Math.min(e.active, e.pages);
        got += t;
        scanned += t;
      }
    }
    this.freeCat(s, C_FILE, got, 0);
    this.bump(s, `pgscan_${mode}`, scanned);
    this.bump(s, `pgsteal_${mode}`, got);
    this.bump(s, 'pgscan_file', scanned);
    this.bump(s, 'pgsteal_file', got);
    return got;
  }

  private reclaimAnon(s: MmState, target: number, mode: 'kswapd' | 'direct'): number {
    const spaces = Object.entries(s.spaces)
      .map(([pid, sp]) => ({ pid: Number(pid), sp }))
      .filter((x) => x.sp.priv - x.sp.cowShared > 0)
      .sort((a, b) => b.sp.priv - a.sp.priv || a.pid - b.pid);
    let got = 0;
    for (const { sp } of spaces) {
      if (got >= target) break;
      const t = Math.min(sp.priv - sp.cowShared, target - got);
      this.swapOut(s, sp, t);
      got += t;
    }
    this.freeCat(s, C_ANON, got, 0);
    this.bump(s, `pgscan_${mode}`, got);
    this.bump(s, `pgsteal_${mode}`, got);
    this.bump(s, 'pgscan_anon', got);
    this.bump(s, 'pgsteal_anon', got);
    this.bump(s, 'pswpout', got);
    return got;
  }

  private swapOut(s: MmState, sp: SpaceState, n: number): void {
    let left = n;
    const areas = s.swap.slice().sort((a, b) => b.prio - a.prio);
    for (const a of areas) {
      const t = Math.min(a.pages - a.used, left);
      a.used += t;
      left -= t;
    }
    sp.priv -= n;
    sp.active = Math.min(sp.active, sp.priv);
    sp.mem.swapPages += n;
    let rest = n;
    for (const r of ['anon', 'heap', 'data', 'stack'] as const) {
      const t = Math.min(sp.dyn.rss[r], rest);
      sp.dyn.rss[r] -= t;
      sp.dyn.swap[r] += t;
      rest -= t;
    }
    this.refreshMem(sp);
  }

  /** Prunes dentries and inodes of files without cached pages (drop_slab / shrinkers). */
  private shrinkSlab(s: MmState, mode: 'kswapd' | 'direct' | 'drop'): number {
    const before = this.used(s, C_SLAB_R) + this.used(s, C_SLAB_U);
    let pruned = 0;
    for (const [key, e] of Object.entries(s.pc)) {
      if (e.pages === 0) {
        delete s.pc[key];
        pruned++;
      }
    }
    if (pruned === 0) return 0;
    this.bump(s, 'slabs_scanned', pruned * 2);
    if (mode === 'kswapd') this.bump(s, 'kswapd_inodesteal', 0);
    this.syncDerived(s, this.targets(), { gfp: GFP_KERNEL }, true);
    const after = this.used(s, C_SLAB_R) + this.used(s, C_SLAB_U);
    return Math.max(0, before - after);
  }

  // ---------------------------------------------------------------- OOM

  /** oom_badness(): rss + swap + page tables, plus oom_score_adj per mille of RAM+swap. */
  badness(pid: number): number | undefined {
    const sp = this.s.spaces[pid];
    const t = this.k.sched?.task(pid);
    if (!sp || !t || t.kthread || pid === 1) return undefined;
    if (t.oomScoreAdj === -1000 || sp.oomSkip) return undefined;
    const totalpages = this.totalPages + this.s.swap.reduce((a, x) => a + x.pages, 0);
    const m = sp.mem;
    const points = m.rssAnonPages + m.rssFilePages + m.rssShmemPages + m.swapPages + Math.floor(m.pteBytes / PAGE_SIZE);
    return points + t.oomScoreAdj * Math.floor(totalpages / 1000);
  }

  /** /proc/<pid>/oom_score: badness scaled to 0..2000. */
  oomScore(pid: number): number {
    const b = this.badness(pid);
    if (b === undefined) return 0;
    const totalpages = this.totalPages + this.s.swap.reduce((a, x) => a + x.pages, 0);
    return Math.max(0, Math.trunc(((1000 + Math.trunc((b * 1000) / totalpages)) * 2) / 3));
  }

  /** out_of_memory(): picks and kills a victim. Returns whether memory could be freed. */
  private outOfMemory(s: MmState, ctx: AllocCtx): boolean {
    const k = this.k;
    const tun = s.tun;
    const stats = (): MemStats => this.computeStats(s);
    if (tun.panic_on_oom) {
      oomReport(k, this, stats(), ctx, undefined, this.oomRatelimit(s));
      k.events.emit('panic', {
        message: `Out of memory: ${tun.panic_on_oom === 2 ? 'compulsory' : 'system-wide'} panic_on_oom is enabled`,
      });
      return false;
    }
    let victim: number | undefined;
    let message = 'Out of memory';
    if (tun.oom_kill_allocating_task && ctx.pid !== undefined && this.badness(ctx.pid) !== undefined) {
      victim = ctx.pid;
      message = 'Out of memory (oom_kill_allocating_task)';
    } else {
      let best = -Infinity;
      const tasks = k.sched ? [...k.sched.tasks()].sort((a, b) => a.pid - b.pid) : [];
      for (const t of tasks) {
        if (t.tgid !== t.pid) continue;
        const b = this.badness(t.pid);
        if (b !== undefined && b > best) {
          best = b;
          victim = t.pid;
        }
      }
    }
    if (victim === undefined) {
      oomReport(k, this, stats(), ctx, undefined, this.oomRatelimit(s));
      k.printk.log(4, 'Out of memory and no killable processes...');
      k.events.emit('panic', { message: 'System is deadlocked on memory' });
      return false;
    }
    const sp = s.spaces[victim];
    const t = k.sched.task(victim);
    const info: OomVictimInfo = {
      pid: victim,
      comm: t?.comm ?? 'unknown',
      uid: t?.uid ?? 0,
      oomScoreAdj: t?.oomScoreAdj ?? 0,
      mem: { ...sp.mem },
      message,
    };
    oomReport(k, this, stats(), ctx, info, this.oomRatelimit(s));
    this.bump(s, 'oom_kill');
    sp.oomSkip = true;
    try {
      k.sched.kill(victim, 9);
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
    }
    // the oom_reaper unmaps the victim's private memory at once
    const after = s.spaces[victim];
    if (after) this.reap(s, after);
    k.printk.log(
      6,
      `oom_reaper: reaped process ${victim} (${info.comm}), now anon-rss:0kB, file-rss:0kB, shmem-rss:${(after?.mem.rssShmemPages ?? 0) * 4}kB`,
    );
    return true;
  }

  /** __ratelimit(&oom_rs): 10 reports per 5 seconds. */
  private oomRatelimit(s: MmState): 'full' | 'ratelimited' {
    const now = this.k.now;
    if (!s.oomRl || now - s.oomRl[0] >= 5_000_000_000) s.oomRl = [now, 0];
    if (s.oomRl[1] >= 10) return 'ratelimited';
    s.oomRl[1]++;
    return 'full';
  }

  private reap(s: MmState, sp: SpaceState): void {
    const free = sp.priv - Math.min(sp.priv, sp.cowShared);
    this.freeCat(s, C_ANON, free, 0);
    sp.priv -= free;
    sp.active = Math.min(sp.active, sp.priv);
    this.releaseSwap(s, sp.mem.swapPages);
    sp.mem.swapPages = 0;
    sp.shared = 0;
    sp.dyn.rss = { data: 0, heap: 0, anon: 0, stack: 0 };
    sp.dyn.swap = { data: 0, heap: 0, anon: 0, stack: 0 };
    sp.dyn.rss.data = sp.priv;
    this.refreshMem(sp);
  }

  private releaseSwap(s: MmState, n: number): void {
    let left = n;
    for (const a of s.swap.slice().sort((x, y) => x.prio - y.prio)) {
      const t = Math.min(a.used, left);
      a.used -= t;
      left -= t;
    }
  }

  // ---------------------------------------------------------------- overcommit

  /** vm_commit_limit() in pages. */
  commitLimit(s: MmState = this.s): number {
    const swap = s.swap.reduce((a, x) => a + x.pages, 0);
    if (s.tun.overcommit_kbytes) return Math.floor(s.tun.overcommit_kbytes / 4) + swap;
    return Math.floor((this.totalPages * s.tun.overcommit_ratio) / 100) + swap;
  }

  private committed(s: MmState): number {
    let n = this.shmemTarget();
    for (const sp of Object.values(s.spaces)) n += sp.commit;
    return n;
  }

  /** __vm_enough_memory(): may `pages` more be committed? */
  private enoughMemory(pages: number, totalVm: number, admin: boolean): boolean {
    const s = this.s;
    if (pages <= 0) return true;
    if (s.tun.overcommit_memory === 1) return true;
    const swapTotal = s.swap.reduce((a, x) => a + x.pages, 0);
    if (s.tun.overcommit_memory === 0) return pages <= this.totalPages + swapTotal;
    let allowed = this.commitLimit();
    if (!admin) allowed -= Math.floor(s.tun.admin_reserve_kbytes / 4);
    allowed -= Math.min(Math.floor(totalVm / 32), Math.floor(s.tun.user_reserve_kbytes / 4));
    return this.committed(s) + pages < allowed;
  }

  // ---------------------------------------------------------------- address spaces

  private refreshMem(sp: SpaceState): void {
    const p = exeProfile(sp.exe);
    const sum = summarize(buildVmas(sp.exe, p, sp.layout, sp.dyn));
    const m = sp.mem;
    m.vmPages = sum.vmPages;
    m.exePages = sum.exePages;
    m.libPages = sum.libPages;
    m.dataPages = sum.dataPages;
    m.stackPages = sum.stackPages;
    m.rssAnonPages = sp.priv + sp.shared;
    m.rssShmemPages = Object.values(sp.files).reduce((a, b) => a + b, 0);
    m.rssFilePages = 0;
    m.pteBytes = sum.pteBytes;
    m.peakPages = Math.max(m.peakPages, m.vmPages);
    m.hwmPages = Math.max(m.hwmPages, m.rssAnonPages + m.rssFilePages + m.rssShmemPages);
    sp.vmas = sum.vmaCount;
    sp.commit = m.dataPages + m.stackPages;
  }

  private chargePageTables(s: MmState, sp: SpaceState, pid: number): void {
    const want = Math.ceil(sp.mem.pteBytes / PAGE_SIZE);
    if (want > sp.ptePages) sp.ptePages += this.allocCat(s, C_PGTABLE, want - sp.ptePages, { gfp: GFP_KERNEL, pid, noOom: true });
    else if (want < sp.ptePages) {
      this.freeCat(s, C_PGTABLE, sp.ptePages - want, this.cpuOf(pid));
      sp.ptePages = want;
    }
  }

  private mapFiles(s: MmState, files: Record<string, number>): void {
    for (const [path, pages] of Object.entries(files)) {
      const m = s.mapped[path] ?? (s.mapped[path] = { count: 0, pages: 0 });
      m.count++;
      m.pages = Math.max(m.pages, pages);
    }
  }

  private unmapFiles(s: MmState, files: Record<string, number>): void {
    for (const path of Object.keys(files)) {
      const m = s.mapped[path];
      if (!m) continue;
      if (--m.count <= 0) delete s.mapped[path];
    }
  }

  /** exec(): a fresh address space for `pid` (replaces any previous one). */
  createAddressSpace(pid: number, spec: AddressSpaceSpec): void {
    this.mutate(() => {
      const s = this.s;
      const p: ExeProfile = exeProfile(spec.exe);
      const anon = Math.max(0, Math.floor(spec.anonPages ?? p.anon));
      const layout = randomLayout(p, this.k.rng);
      const cap = dataCapacity(p);
      const dataRss = Math.min(cap, anon);
      const stackRss = Math.min(Math.max(2, Math.floor((anon - dataRss) / 8)), STACK_PAGES, anon - dataRss);
      const heapRss = anon - dataRss - stackRss;
      const dyn: SpaceDyn = {
        heapPages: heapFor(heapRss, p.heap),
        anonPages: p.anonRegion,
        stackPages: STACK_PAGES,
        rss: { data: dataRss, heap: heapRss, anon: 0, stack: stackRss },
        swap: { data: 0, heap: 0, anon: 0, stack: 0 },
      };
      const mem: TaskMem = {
        vmPages: 0,
        rssAnonPages: 0,
        rssFilePages: 0,
        rssShmemPages: 0,
        swapPages: 0,
        hwmPages: 0,
        peakPages: 0,
        dataPages: 0,
        stackPages: 0,
        exePages: 0,
        libPages: 0,
        lockedPages: 0,
        pinnedPages: 0,
        pteBytes: 0,
      };
      const sp: SpaceState = {
        exe: spec.exe,
        layout,
        dyn,
        mem,
        priv: 0,
        shared: 0,
        cowParent: 0,
        cowShared: 0,
        active: 0,
        ptePages: 0,
        commit: 0,
        vmas: 0,
        files: {},
      };
      this.refreshMem(sp);
      if (!this.enoughMemory(sp.commit, sp.mem.vmPages, this.isAdmin(pid))) throw new KernelError('ENOMEM');
      this.dropSpace(s, pid);
      s.spaces[pid] = sp;
      sp.files = summarize(buildVmas(spec.exe, p, layout, dyn)).fileRss;
      this.mapFiles(s, sp.files);
      const got = this.allocCat(s, C_ANON, anon, { gfp: GFP_HIGHUSER_MOVABLE, pid });
      this.trimAnon(sp, anon - got);
      sp.priv = got;
      this.refreshMem(sp);
      this.chargePageTables(s, sp, pid);
      const faults = got + sp.mem.rssShmemPages;
      this.bump(s, 'pgfault', faults);
      this.bump(s, 'pgreuse', Math.floor(got / 4));
    }, pid);
  }

  private isAdmin(pid: number): boolean {
    return (this.k.sched?.task(pid)?.uid ?? 0) === 0;
  }

  /** Removes unbacked resident pages from the regions (after a short allocation). */
  private trimAnon(sp: SpaceState, n: number): void {
    let rest = n;
    for (const r of ['anon', 'heap', 'data', 'stack'] as const) {
      const t = Math.min(sp.dyn.rss[r], rest);
      sp.dyn.rss[r] -= t;
      rest -= t;
    }
  }

  /** fork(): the child shares (copy-on-write) the parent's pages. */
  forkAddressSpace(parentPid: number, childPid: number): void {
    const p = this.s.spaces[parentPid];
    if (!p) return;
    this.mutate(() => {
      const s = this.s;
      const parent = s.spaces[parentPid];
      if (!parent) return;
      this.dropSpace(s, childPid);
      const c: SpaceState = JSON.parse(JSON.stringify(parent)) as SpaceState;
      c.oomSkip = undefined;
      // the child writes its stack at once: those pages are copied
      const anonTotal = parent.priv + parent.shared;
      const copy = Math.min(anonTotal, 4);
      const got = this.allocCat(s, C_ANON, copy, { gfp: GFP_HIGHUSER_MOVABLE, pid: parentPid });
      c.priv = got;
      c.active = 0;
      c.shared = anonTotal - got;
      c.cowParent = parentPid;
      c.cowShared = 0;
      c.ptePages = 0;
      // swapped-out pages stay the parent's: the child only maps what is resident
      c.mem.swapPages = 0;
      c.dyn.swap = { data: 0, heap: 0, anon: 0, stack: 0 };
      c.mem.hwmPages = 0;
      parent.cowShared = Math.min(parent.priv, parent.cowShared + Math.min(c.shared, parent.priv));
      s.spaces[childPid] = c;
      this.mapFiles(s, c.files);
      this.refreshMem(c);
      c.mem.hwmPages = c.mem.rssAnonPages + c.mem.rssShmemPages;
      this.chargePageTables(s, c, childPid);
      this.bump(s, 'pgfault', got);
    }, parentPid);
  }

  /** exit()/exec(): releases the task's pages. */
  exitAddressSpace(pid: number): void {
    if (!this.s.spaces[pid]) return;
    this.mutate(() => this.dropSpace(this.s, pid), pid);
  }

  private dropSpace(s: MmState, pid: number): void {
    const sp = s.spaces[pid];
    if (!sp) return;
    delete s.spaces[pid];
    // children sharing our pages: the one sharing most inherits them
    const kids = Object.entries(s.spaces)
      .filter(([, c]) => c.cowParent === pid)
      .map(([cpid, c]) => ({ cpid: Number(cpid), c }))
      .sort((a, b) => b.c.shared - a.c.shared || a.cpid - b.cpid);
    let kept = 0;
    if (kids.length) {
      const heir = kids[0];
      kept = Math.min(heir.c.shared, sp.priv);
      heir.c.priv += kept;
      heir.c.shared = 0;
      heir.c.cowParent = sp.cowParent;
      heir.c.cowShared = 0;
      for (const o of kids.slice(1)) {
        o.c.cowParent = heir.cpid;
        o.c.shared = Math.min(o.c.shared, kept);
        heir.c.cowShared = Math.min(heir.c.priv, heir.c.cowShared + o.c.shared);
      }
      this.refreshMem(heir.c);
    }
    if (sp.cowParent && s.spaces[sp.cowParent]) {
      const par = s.spaces[sp.cowParent];
      par.cowShared = Math.max(0, par.cowShared - sp.shared);
    }
    this.freeCat(s, C_ANON, sp.priv - kept, this.cpuOf(pid));
    this.freeCat(s, C_PGTABLE, sp.ptePages, this.cpuOf(pid));
    this.releaseSwap(s, sp.mem.swapPages);
    this.unmapFiles(s, sp.files);
  }

  /** Anonymous page faults (heap growth, stress-ng --vm): may trigger reclaim or the OOM killer. Returns pages faulted in. */
  anonFault(pid: number, pages: number): number {
    const sp0 = this.s.spaces[pid];
    if (!sp0 || !(pages > 0)) return 0;
    const n = Math.floor(pages);
    if (!this.enoughMemory(n, sp0.mem.vmPages, this.isAdmin(pid))) throw new KernelError('ENOMEM');
    // where the faults happen, for their trace paths: the heap's end or a new mapping below the last one
    const heap = n < 32;
    const site = heap ? sp0.layout.brkStart + sp0.dyn.rss.heap * PAGE_SIZE : sp0.layout.mmapBase - (sp0.dyn.anonPages + n) * PAGE_SIZE;
    const got = this.mutate(() => {
      const s = this.s;
      const sp = s.spaces[pid];
      if (!sp) return 0;
      const got = this.allocCat(s, C_ANON, n, { gfp: GFP_HIGHUSER_MOVABLE, pid });
      const live = s.spaces[pid];
      if (!live || live !== sp) {
        // killed by the OOM killer while faulting: its pages are gone
        if (got) this.freeCat(s, C_ANON, got, this.cpuOf(pid));
        return 0;
      }
      // what was faulted before is now the working set
      this.bump(s, 'pgactivate', sp.priv - sp.active);
      sp.active = sp.priv;
      sp.priv += got;
      if (n < 32) {
        sp.dyn.rss.heap += got;
        sp.dyn.heapPages = Math.max(sp.dyn.heapPages, heapFor(sp.dyn.rss.heap, sp.dyn.heapPages));
      } else {
        sp.dyn.rss.anon += got;
        sp.dyn.anonPages += n;
      }
      this.refreshMem(sp);
      this.chargePageTables(s, sp, pid);
      this.bump(s, 'pgfault', got);
      return got;
    }, pid);
    if (got > 0 && this.k.trace?.observed) {
      const z = this.layout.zones[this.zonelist[0]];
      // the touching code: the program's text (stress-ng's vm stressor writes its pages itself)
      traceAnonFaults(this.k, { pid, pages: got, addr: site, ip: sp0.layout.exeBase + 0x1e4b0, fresh: !heap, startPfn: z.startPfn, spanned: z.spanned });
    }
    return got;
  }

  /** munmap()/free(): returns anonymous memory (large mappings first, then the heap). Returns pages released. */
  anonRelease(pid: number, pages: number): number {
    const sp0 = this.s.spaces[pid];
    if (!sp0 || !(pages > 0)) return 0;
    return this.mutate(() => {
      const s = this.s;
      const sp = s.spaces[pid];
      if (!sp) return 0;
      let left = Math.floor(pages);
      let freedRes = 0;
      let freedSwap = 0;
      for (const r of ['anon', 'heap'] as const) {
        const t = Math.min(sp.dyn.rss[r], left);
        sp.dyn.rss[r] -= t;
        left -= t;
        freedRes += t;
        const w = Math.min(sp.dyn.swap[r], left);
        sp.dyn.swap[r] -= w;
        left -= w;
        freedSwap += w;
        if (r === 'anon') sp.dyn.anonPages = Math.max(exeProfile(sp.exe).anonRegion, sp.dyn.anonPages - t - w);
      }
      const fromShared = Math.min(sp.shared, freedRes);
      sp.shared -= fromShared;
      const fromPriv = freedRes - fromShared;
      sp.priv -= fromPriv;
      sp.active = Math.min(sp.active, sp.priv);
      sp.cowShared = Math.min(sp.cowShared, sp.priv);
      this.freeCat(s, C_ANON, fromPriv, this.cpuOf(pid));
      sp.mem.swapPages -= freedSwap;
      this.releaseSwap(s, freedSwap);
      this.refreshMem(sp);
      this.chargePageTables(s, sp, pid);
      return freedRes + freedSwap;
    }, pid);
  }

  // ---------------------------------------------------------------- page cache

  private pcInactiveRatio(): number {
    const gb = Math.floor((this.totalPages * PAGE_SIZE) / (1 << 30));
    return gb ? Math.floor(Math.sqrt(10 * gb)) : 1;
  }

  /**
   * A read of `bytes` of the file `key` through the page cache: misses are
   * read in (pgpgin) onto the inactive list, hits are activated. Keys of block
   * devices ("bdev:...", "/dev/...") are Buffers.
   */
  chargeFileRead(key: string, bytes: number, opts: { pid?: number; write?: boolean } = {}): void {
    if (!(bytes > 0)) return;
    this.mutate(() => {
      const s = this.s;
      const pages = Math.ceil(bytes / PAGE_SIZE);
      s.tick++;
      let e = s.pc[key];
      if (!e) {
        e = { pages: 0, active: 0, tick: s.tick };
        if (key.startsWith('bdev:') || key.startsWith('/dev/')) e.buffers = true;
        s.pc[key] = e;
      }
      const hits = Math.min(e.pages, pages);
      const promote = Math.min(hits, e.pages - e.active);
      e.active += promote;
      this.bump(s, 'pgactivate', promote);
      e.tick = s.tick;
      const miss = pages - hits;
      if (miss > 0) {
        const got = this.allocCat(s, C_FILE, miss, { gfp: GFP_HIGHUSER_MOVABLE, pid: opts.pid });
        const live = s.pc[key] ?? (s.pc[key] = e);
        live.pages += got;
        // (a write fills its pages instead of reading them)
        if (!opts.write) this.bump(s, 'pgpgin', got * 4);
      }
      this.balanceFileLru(s);
    }, opts.pid);
  }

  /** Block I/O written to disk (submit_bio's PGPGOUT, shown in kB); also refreshes the dirty count. */
  countPgpgout(kb: number, pid?: number): void {
    this.mutate(() => this.bump(this.s, 'pgpgout', Math.max(0, Math.floor(kb))), pid);
  }

  /** Keeps active file pages within inactive * inactive_ratio (inactive_is_low). */
  private balanceFileLru(s: MmState): void {
    let active = 0;
    let total = 0;
    for (const e of Object.values(s.pc)) {
      active += e.active;
      total += e.pages;
    }
    const ratio = this.pcInactiveRatio();
    const excess = active - (total - active) * ratio;
    if (excess <= 0) return;
    let left = Math.ceil(excess / (ratio + 1));
    const entries = Object.values(s.pc).sort((a, b) => a.tick - b.tick);
    for (const e of entries) {
      if (left <= 0) break;
      const t = Math.min(e.active, left);
      e.active -= t;
      left -= t;
      this.bump(s, 'pgdeactivate', t);
      this.bump(s, 'pgrefill', t);
    }
  }

  /** vm.drop_caches: 1 = page cache, 2 = dentries and inodes, 3 = both. */
  dropCaches(mode: number, pid?: number): void {
    if (!Number.isInteger(mode) || mode < 1 || mode > 4) throw new KernelError('EINVAL', 'drop_caches: 1..4');
    this.mutate(() => {
      const s = this.s;
      if (mode & 1) {
        let n = 0;
        for (const e of Object.values(s.pc)) {
          n += e.pages;
          e.pages = 0;
          e.active = 0;
        }
        this.freeCat(s, C_FILE, n, this.cpuOf(pid));
        this.bump(s, 'drop_pagecache');
      }
      if (mode & 2) {
        this.shrinkSlab(s, 'drop');
        this.bump(s, 'drop_slab');
      }
      if (!s.dropStfu) {
        const t = pid !== undefined ? this.k.sched?.task(pid) : undefined;
        this.k.printk.log(6, `${t?.comm ?? 'sh'} (${pid ?? 1}): drop_caches: ${mode}`);
      }
      if (mode & 4) s.dropStfu = true;
      s.tun.drop_caches = mode;
    }, pid);
  }

  // ---------------------------------------------------------------- tunables

  getVmTunable(name: string): number {
    if (!(name in TUNABLE_RANGE)) throw new KernelError('ENOENT', `no vm tunable ${name}`);
    return this.s.tun[name as VmTunableName];
  }

  /** Writes a vm.* knob with the kernel's range checks (EINVAL outside). */
  setVmTunable(name: string, value: string | number, pid?: number): void {
    const range = TUNABLE_RANGE[name as VmTunableName];
    if (!range) throw new KernelError('ENOENT', `no vm tunable ${name}`);
    const v = parseTunable(name, value);
    if (v < range[0] || v > range[1]) throw new KernelError('EINVAL', `${name}: ${v} out of range ${range[0]}..${range[1]}`);
    if (name === 'drop_caches') {
      this.dropCaches(v, pid);
      return;
    }
    this.mutate(() => {
      const t = this.s.tun;
      t[name as VmTunableName] = v;
      if (name === 'overcommit_ratio') t.overcommit_kbytes = 0;
      if (name === 'overcommit_kbytes') t.overcommit_ratio = 0;
      if (name === 'min_free_kbytes' || name === 'watermark_scale_factor') {
        this.recomputeWatermarks();
        this.kswapd(this.s);
      }
    }, pid);
  }

  // ---------------------------------------------------------------- vmalloc, slab, swap

  /** vmalloc(): a runtime area (module memory, ...). Returns its id for vmallocRemove. */
  vmallocAdd(caller: string, bytes: number): number {
    if (!(bytes > 0)) throw new KernelError('EINVAL', 'vmalloc size');
    return this.mutate(() => {
      const s = this.s;
      const pages = Math.ceil(bytes / PAGE_SIZE);
      const got = this.allocCat(s, C_VMALLOC, pages, { gfp: GFP_KERNEL });
      if (got < pages) {
        this.freeCat(s, C_VMALLOC, got, 0);
        throw new KernelError('ENOMEM');
      }
      const id = s.vmalloc.nextId++;
      s.vmalloc.areas.push({ id, caller, pages, size: (pages + 1) * PAGE_SIZE, off: s.vmalloc.nextOff, kind: 'vmalloc' });
      s.vmalloc.nextOff += (pages + 1) * PAGE_SIZE;
      return id;
    });
  }

  vmallocRemove(id: number): void {
    const i = this.s.vmalloc.areas.findIndex((a) => a.id === id && id > 0);
    if (i < 0) throw new KernelError('EINVAL', `no vmalloc area ${id}`);
    this.mutate(() => {
      const [a] = this.s.vmalloc.areas.splice(i, 1);
      this.freeCat(this.s, C_VMALLOC, a.pages, 0);
    });
  }

  /** kmem_cache_create(): a cache of the reference (module caches) or a new one of `objsize`. */
  slabCacheCreate(name: string, objsize?: number, reclaimable = false): void {
    if (this.slabCaches().some((c) => c.name === name)) throw new KernelError('EEXIST', `slab cache ${name} exists`);
    const def = slabCacheDef(name);
    if (!def && !(objsize && objsize > 0)) throw new KernelError('EINVAL', `unknown slab cache ${name} needs an object size`);
    this.mutate(() => {
      if (!def) this.s.slab.custom[name] = customCacheDef(name, objsize as number, reclaimable);
      this.s.slab.created.push(name);
      this.cacheList = undefined;
    });
  }

  slabCacheDestroy(name: string): void {
    const i = this.s.slab.created.indexOf(name);
    if (i < 0) throw new KernelError('EINVAL', `slab cache ${name} was not created at runtime`);
    this.mutate(() => {
      this.s.slab.created.splice(i, 1);
      this.cacheList = undefined;
      delete this.s.slab.custom[name];
      delete this.s.slab.delta[name];
    });
  }

  /** kmem_cache_alloc()/kfree() in bulk: `n` objects more (or fewer, negative) in `cache`. */
  slabAdjust(cache: string, n: number): void {
    if (!this.slabCaches().some((c) => c.name === cache)) throw new KernelError('EINVAL', `no slab cache ${cache}`);
    this.mutate(() => {
      const d = (this.s.slab.delta[cache] ?? 0) + Math.trunc(n);
      if (d) this.s.slab.delta[cache] = d;
      else delete this.s.slab.delta[cache];
    });
  }

  /** swapon(8): a swap area of `sizeKb`. */
  swapon(path: string, sizeKb: number, prio?: number): void {
    if (this.s.swap.some((a) => a.path === path)) throw new KernelError('EBUSY');
    if (!(sizeKb >= 40)) throw new KernelError('EINVAL', 'swap area too small');
    this.mutate(() => {
      const p = prio ?? -2 - this.s.swap.filter((a) => a.prio < 0).length;
      this.s.swap.push({ path, partition: path.startsWith('/dev/'), pages: Math.floor(sizeKb / 4) - 1, used: 0, prio: p });
    });
  }

  /** swapoff(8): swaps the area's pages back in (may OOM). */
  swapoff(path: string): void {
    const i = this.s.swap.findIndex((a) => a.path === path);
    if (i < 0) throw new KernelError('EINVAL');
    this.mutate(() => {
      const s = this.s;
      const area = s.swap[i];
      let need = area.used;
      for (const [pid, sp] of Object.entries(s.spaces)) {
        if (need <= 0) break;
        const t = Math.min(sp.mem.swapPages, need);
        if (t <= 0) continue;
        const got = this.allocCat(s, C_ANON, t, { gfp: GFP_HIGHUSER_MOVABLE, pid: Number(pid) });
        sp.priv += got;
        sp.mem.swapPages -= got;
        let rest = got;
        for (const r of ['anon', 'heap', 'data', 'stack'] as const) {
          const m = Math.min(sp.dyn.swap[r], rest);
          sp.dyn.swap[r] -= m;
          sp.dyn.rss[r] += m;
          rest -= m;
        }
        this.bump(s, 'pswpin', got);
        this.refreshMem(sp);
        need -= got;
      }
      if (need > 0) throw new KernelError('ENOMEM');
      s.swap.splice(i, 1);
    });
  }

  // ---------------------------------------------------------------- views

  /** The numbers every view prints, reconciled (on a copy) with tmpfs and the task list. Pure. */
  stats(): MemStats {
    const t = this.targets();
    const key = t.join(',');
    if (this.memo && this.memo.version === this.version && this.memo.key === key) return this.memo.stats;
    let s = this.s;
    if (DERIVED_CATS.some((c) => this.used(s, c) !== t[c])) {
      s = { ...this.s, zones: this.s.zones.map(cloneZone), ev: { ...this.s.ev } };
      this.syncDerived(s, t, { gfp: GFP_KERNEL, view: true });
    }
    const stats = this.computeStats(s);
    this.memo = { version: this.version, key, stats };
    return stats;
  }

  private computeStats(s: MmState): MemStats {
    const L = this.layout;
    let pcp = 0;
    let free = 0;
    const cat = new Array<number>(NR_CATS).fill(0);
    for (const z of s.zones) {
      free += z.area.nrFree;
      for (const row of z.pcp) pcp += row[0] + row[1] + row[2];
      for (let c = 0; c < NR_CATS; c++) cat[c] += z.used[c];
    }
    let buffers = 0;
    let fileActive = 0;
    let cacheTotal = 0;
    for (const e of Object.values(s.pc)) {
      cacheTotal += e.pages;
      fileActive += e.active;
      if (e.buffers) buffers += e.pages;
    }
    // charged file pages can lag the entries only by rounding; the zone counts are the truth
    const filePages = cat[C_FILE];
    const activeFile = Math.min(fileActive, filePages);
    let anonActive = 0;
    for (const sp of Object.values(s.spaces)) anonActive += Math.min(sp.active, sp.priv);
    const shmem = cat[C_SHMEM];
    const shmemActive = shmem - Math.floor((shmem * 3) / 7);
    const activeAnon = Math.min(cat[C_ANON], anonActive) + shmemActive;
    const anonLru = cat[C_ANON] + shmem;
    const inactiveAnon = anonLru - activeAnon;
    const inactiveFile = filePages - activeFile;
    const zAnon = apportion(
      activeAnon,
      s.zones.map((z) => z.used[C_ANON] + z.used[C_SHMEM]),
    );
    const zFile = apportion(
      activeFile,
      s.zones.map((z) => z.used[C_FILE]),
    );
    const totalram = this.totalPages;
    const zones: ZoneStats[] = s.zones.map((z, i) => {
      const g = L.zones[i];
      return {
        name: ZONE_NAMES[i],
        populated: g.managed > 0,
        startPfn: g.startPfn,
        spanned: g.spanned,
        present: g.present,
        managed: g.managed,
        free: z.area.nrFree,
        min: z.wm[0],
        low: z.wm[1],
        high: z.wm[2],
        reserve: z.reserve,
        pcp: z.pcp.map((r) => r[0] + r[1] + r[2]),
        pcpHigh: this.high[i],
        pcpBatch: this.batch[i],
        activeAnon: zAnon[i],
        inactiveAnon: z.used[C_ANON] + z.used[C_SHMEM] - zAnon[i],
        activeFile: zFile[i],
        inactiveFile: z.used[C_FILE] - zFile[i],
        area: z.area,
        numaHit: z.numaHit,
        numaInterleave: z.numaInterleave,
        pgalloc: z.pgalloc,
        allocstall: z.allocstall,
      };
    });
    // calculate_totalreserve_pages()
    let totalreserve = 0;
    let wmarkLow = 0;
    zones.forEach((z) => {
      if (!z.populated) return;
      const max = Math.min(z.managed, Math.max(...z.reserve) + z.high);
      totalreserve += max;
      wmarkLow += z.low;
    });
    // si_mem_available()
    let available = free - totalreserve;
    let pagecache = activeFile + inactiveFile;
    pagecache -= Math.min(Math.floor(pagecache / 2), wmarkLow);
    available += pagecache;
    const reclaimable = cat[C_SLAB_R];
    available += reclaimable - Math.min(Math.floor(reclaimable / 2), wmarkLow);
    if (available < 0) available = 0;
    // global_dirty_limits(): 20% / 10% of dirtyable memory
    const dirtyable = free - Math.min(free, totalreserve) + activeFile + inactiveFile + 1;
    const ratio = Math.floor((20 * PAGE_SIZE) / 100);
    const bgRatio = Math.floor((10 * PAGE_SIZE) / 100);
    const dirtyThresh = Math.floor((ratio * dirtyable) / PAGE_SIZE);
    let bgThresh = Math.floor((bgRatio * dirtyable) / PAGE_SIZE);
    if (bgThresh >= dirtyThresh) bgThresh = Math.floor(dirtyThresh / 2);
    let mapped = 0;
    for (const m of Object.values(s.mapped)) mapped += m.pages;
    let committed = shmem;
    for (const sp of Object.values(s.spaces)) committed += sp.commit;
    const swapTotal = s.swap.reduce((a, x) => a + x.pages, 0);
    const swapUsed = s.swap.reduce((a, x) => a + x.used, 0);
    let vmallocUsed = cat[C_STACK];
    for (const a of s.vmalloc.areas) if (a.kind === 'vmalloc') vmallocUsed += a.pages;
    void cacheTotal;
    return {
      zones,
      totalram,
      free,
      pcp,
      anon: cat[C_ANON],
      shmem,
      file: filePages - Math.min(buffers, filePages),
      buffers: Math.min(buffers, filePages),
      activeAnon,
      inactiveAnon,
      activeFile,
      inactiveFile,
      mapped: Math.min(mapped, shmem + filePages),
      slabR: cat[C_SLAB_R],
      slabU: cat[C_SLAB_U],
      kernelStackKb: cat[C_STACK] * 4,
      pageTables: cat[C_PGTABLE],
      vmallocUsed,
      percpu: this.cpus * PERCPU_REPORTED_PAGES_PER_CPU,
      committed,
      commitLimit: this.commitLimit(s),
      swapTotal,
      swapFree: swapTotal - swapUsed,
      swapCached: 0,
      available,
      totalreserve,
      dirtyThresh,
      bgThresh,
      dirty: Math.ceil((this.k.devices?.bdevDirtyBytes() ?? 0) / PAGE_SIZE),
      ev: s.ev,
      used: cat,
      layout: L,
      present: L.totalPresent,
      reserved: L.reservedPages,
    };
  }

  /** sysrq-m / show_mem(): the Mem-Info report to the kernel log. */
  showMem(): void {
    oomReport(this.k, this, this.stats(), { gfp: GFP_KERNEL }, undefined, 'show');
  }

  /** Pages per category summed over zones (tests and invariants). */
  usedPages(): number[] {
    const out = new Array<number>(NR_CATS).fill(0);
    for (const z of this.s.zones) for (let c = 0; c < NR_CATS; c++) out[c] += z.used[c];
    return out;
  }

  // ---------------------------------------------------------------- snapshots

  getState(): MmState {
    return JSON.parse(JSON.stringify(this.s)) as MmState;
  }

  setState(s: MmState): void {
    if (!s || s.v !== 2) throw new KernelError('EINVAL', 'unsupported mm snapshot');
    this.s = JSON.parse(JSON.stringify(s)) as MmState;
    this.cacheList = undefined;
    this.slabMemo = undefined;
    this.recomputePcp();
    this.version++;
    this.memo = undefined;
  }
}
