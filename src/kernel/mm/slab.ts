/**
 * SLUB caches as object counts. Every cache of the reference kernel keeps its
 * geometry (object size, objects and pages per slab); its active objects are a
 * boot baseline plus what the model drives: tasks (task_struct, pid, signal,
 * sighand, kernel stacks' vmap_area), address spaces (mm_struct, VMAs, anon_vma),
 * files (dentry, inodes), page cache (xarray nodes, buffer heads). Slabs are
 * whole: num_objs = slabs * objperslab, plus the partial slabs the reference
 * had. Pure functions of the drivers.
 */
import { REF_SLAB_CACHES, type RefSlabCache } from '../data/mm-reference';

export interface SlabDrivers {
  /** all tasks (threads and kernel threads) */
  tasks: number;
  /** user address spaces */
  procs: number;
  /** VMAs of all address spaces */
  vmas: number;
  /** inodes of the in-memory filesystems (rootfs, tmpfs, devtmpfs) */
  fsInodes: number;
  /** files with page cache (chargeFileRead keys) */
  cacheKeys: number;
  /** page cache pages (files and buffers) */
  cachePages: number;
  shmemPages: number;
  bufferPages: number;
  /** vmalloc areas added at runtime (modules, ...) */
  vmapAreas: number;
}

/** What the reference machine had when its slabinfo was captured. */
const REF_DRIVERS: SlabDrivers = {
  tasks: 61,
  procs: 2,
  vmas: 21,
  fsInodes: 60,
  cacheKeys: 0,
  cachePages: 20,
  shmemPages: 7880,
  bufferPages: 15,
  vmapAreas: 0,
};

type Coef = Partial<Record<keyof SlabDrivers, number>>;

/** Objects per unit of each driver. */
const COEF: Readonly<Record<string, Coef>> = {
  task_struct: { tasks: 1 },
  pid: { tasks: 1 },
  signal_cache: { tasks: 1 },
  sighand_cache: { tasks: 1 },
  cred_jar: { procs: 2 },
  files_cache: { procs: 1 },
  mm_struct: { procs: 1 },
  vm_area_struct: { vmas: 1 },
  anon_vma: { procs: 6 },
  anon_vma_chain: { procs: 10 },
  maple_node: { vmas: 0.25 },
  vmap_area: { tasks: 1, vmapAreas: 1 },
  filp: { procs: 4 },
  proc_inode_cache: { procs: 3 },
  dentry: { fsInodes: 1, cacheKeys: 1 },
  inode_cache: { cacheKeys: 1 },
  shmem_inode_cache: { fsInodes: 1 },
  lsm_inode_cache: { fsInodes: 1, cacheKeys: 1 },
  radix_tree_node: { cachePages: 1 / 64, shmemPages: 1 / 64 },
  buffer_head: { bufferPages: 4 },
  'kmalloc-64': { tasks: 2 },
  'kmalloc-256': { tasks: 1 },
  'kmalloc-512': { procs: 1 },
  'kmalloc-1k': { procs: 1 },
  'kmalloc-cg-4k': { procs: 1 },
  'kmalloc-cg-2k': { procs: 1 },
};

const DRIVER_KEYS = Object.keys(REF_DRIVERS) as (keyof SlabDrivers)[];

function driven(c: Coef, d: SlabDrivers): number {
  let n = 0;
  for (const k of DRIVER_KEYS) {
    const f = c[k];
    if (f) n += f * d[k];
  }
  return n;
}

export interface SlabCacheDef {
  name: string;
  objsize: number;
  perslab: number;
  pagesperslab: number;
  reclaimable: boolean;
  module?: string;
  /** baseline active objects with no driver */
  base: number;
  /** partial slabs beyond the objects (fragmentation the reference showed) */
  extraSlabs: number;
  coef?: Coef;
}

function defOf(r: RefSlabCache): SlabCacheDef {
  const coef = COEF[r.name];
  const base = r.module ? r.active : Math.max(0, Math.round(r.active - (coef ? driven(coef, REF_DRIVERS) : 0)));
  const extraSlabs = Math.max(0, r.slabs - Math.ceil(r.active / Math.max(1, r.perslab)));
  return {
    name: r.name,
    objsize: r.objsize,
    perslab: r.perslab,
    pagesperslab: r.pagesperslab,
    reclaimable: r.reclaimable,
    module: r.module,
    base,
    extraSlabs,
    coef,
  };
}

/** All caches of the reference, newest first; module caches flagged. */
export const SLAB_CACHES: readonly SlabCacheDef[] = REF_SLAB_CACHES.map(defOf);
const BY_NAME: ReadonlyMap<string, SlabCacheDef> = new Map(SLAB_CACHES.map((c) => [c.name, c]));
/** Caches that exist after boot (oldest last, as /proc/slabinfo lists them). */
export const BOOT_CACHES: readonly SlabCacheDef[] = SLAB_CACHES.filter((c) => !c.module);

export function slabCacheDef(name: string): SlabCacheDef | undefined {
  return BY_NAME.get(name);
}

/** A cache not in the reference: SLUB-like geometry for an object size. */
export function customCacheDef(name: string, objsize: number, reclaimable: boolean): SlabCacheDef {
  const size = Math.max(8, Math.ceil(objsize / 8) * 8);
  let order = 0;
  // calculate_order(): at least 16 objects per slab up to order 3, little waste
  while (order < 3 && Math.floor((4096 << order) / size) < 16) order++;
  const perslab = Math.max(1, Math.floor((4096 << order) / size));
  return { name, objsize: size, perslab, pagesperslab: 1 << order, reclaimable, base: 0, extraSlabs: 0 };
}

export interface SlabRow {
  def: SlabCacheDef;
  active: number;
  num: number;
  slabs: number;
  pages: number;
}

/**
 * The cache's row. `scale` (0..1] shrinks large boot baselines on machines
 * smaller than the reference (fewer sysfs nodes, dentries, inodes cached).
 */
export function slabRow(def: SlabCacheDef, d: SlabDrivers, delta: number, scale = 1): SlabRow {
  const base = scale < 1 && def.base > 64 ? Math.max(64, Math.round(def.base * scale)) : def.base;
  const active = Math.max(0, Math.floor(base + (def.coef ? driven(def.coef, d) : 0) + delta));
  const full = Math.ceil(active / def.perslab);
  const slabs = full + (active > 0 || def.extraSlabs > 0 ? def.extraSlabs : 0);
  return { def, active, num: slabs * def.perslab, slabs, pages: slabs * def.pagesperslab };
}

export interface SlabTotals {
  reclaimable: number;
  unreclaimable: number;
}

/** Slab pages of the given caches. */
export function slabTotals(
  caches: readonly SlabCacheDef[],
  d: SlabDrivers,
  delta: Readonly<Record<string, number>>,
  scale = 1,
): SlabTotals {
  let r = 0;
  let u = 0;
  for (const c of caches) {
    const row = slabRow(c, d, delta[c.name] ?? 0, scale);
    if (c.reclaimable) r += row.pages;
    else u += row.pages;
  }
  return { reclaimable: r, unreclaimable: u };
}
