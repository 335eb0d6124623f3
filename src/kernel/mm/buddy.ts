/**
 * The buddy allocator of one zone, as counts: free blocks per migratetype and
 * order, pageblocks per migratetype, and the per-cpu pagesets. No page is an
 * object: allocation takes blocks smallest-first and splits them (what a run of
 * single-page allocations does to the free lists), frees merge pairs of blocks
 * back up, and a migratetype with no free blocks steals from its fallbacks the
 * way __rmqueue_fallback() does (largest block first, whole pageblocks change
 * type). Every operation is deterministic and keeps
 *   nrFree = sum(free[mt][order] << order).
 */
import { MAX_ORDER, PAGEBLOCK_ORDER } from './layout';

export const MIGRATE_UNMOVABLE = 0;
export const MIGRATE_MOVABLE = 1;
export const MIGRATE_RECLAIMABLE = 2;
export const MIGRATE_HIGHATOMIC = 3;
export const MIGRATE_ISOLATE = 4;
/** CONFIG_CMA is off in the reference config: no CMA migratetype. */
export const MIGRATE_TYPES = 5;
/** The pcp lists hold the first three types. */
export const MIGRATE_PCPTYPES = 3;
export const MIGRATETYPE_NAMES = ['Unmovable', 'Movable', 'Reclaimable', 'HighAtomic', 'Isolate'] as const;
/** show_migration_types() letters. */
export const MIGRATETYPE_LETTERS = ['U', 'M', 'E', 'H', 'I'] as const;

/** fallbacks[] of mm/page_alloc.c */
const FALLBACKS: readonly (readonly number[])[] = [
  [MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE],
  [MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE],
  [MIGRATE_UNMOVABLE, MIGRATE_MOVABLE],
];

/**
 * How many blocks of an order may stay unmerged on a free list: the residue of
 * fragmentation the model keeps (pairs beyond it coalesce into the next order).
 */
const KEEP_UNMERGED = [16, 8, 8, 8, 4, 4, 4, 4, 2, 2];

export interface FreeArea {
  /** free[mt][order]: free blocks */
  free: number[][];
  /** free pages in the buddy lists (NR_FREE_PAGES) */
  nrFree: number;
  /** pageblocks per migratetype */
  blocks: number[];
}

export function emptyFreeArea(): FreeArea {
  return {
    free: Array.from({ length: MIGRATE_TYPES }, () => new Array<number>(MAX_ORDER).fill(0)),
    nrFree: 0,
    blocks: new Array<number>(MIGRATE_TYPES).fill(0),
  };
}

export function cloneFreeArea(a: FreeArea): FreeArea {
  return { free: a.free.map((r) => r.slice()), nrFree: a.nrFree, blocks: a.blocks.slice() };
}

/** Adds one free block (boot: memblock_free_all). */
export function addBlock(a: FreeArea, mt: number, order: number): void {
  a.free[mt][order]++;
  a.nrFree += 1 << order;
}

/** Pages free per order (all types). */
export function freePerOrder(a: FreeArea): number[] {
  const out = new Array<number>(MAX_ORDER).fill(0);
  for (let mt = 0; mt < MIGRATE_TYPES; mt++) for (let o = 0; o < MAX_ORDER; o++) out[o] += a.free[mt][o];
  return out;
}

/**
 * Takes up to `n` order-0 pages from `mt`'s own lists, smallest blocks first;
 * a block larger than what is left is split and the rest stays free as the
 * binary decomposition of the remainder. Returns the pages still wanted.
 */
function takeOwn(a: FreeArea, mt: number, n: number): number {
  const f = a.free[mt];
  let need = n;
  for (let o = 0; o < MAX_ORDER && need > 0; o++) {
    const size = 1 << o;
    const whole = Math.min(f[o], Math.floor(need / size));
    f[o] -= whole;
    need -= whole * size;
    a.nrFree -= whole * size;
    if (need > 0 && need < size && f[o] > 0) {
      f[o]--;
      a.nrFree -= need;
      const rest = size - need;
      for (let b = 0; b < o; b++) if (rest & (1 << b)) f[b]++;
      need = 0;
    }
  }
  return need;
}

function canSteal(order: number, startMt: number): boolean {
  return order >= PAGEBLOCK_ORDER >> 1 || startMt === MIGRATE_RECLAIMABLE || startMt === MIGRATE_UNMOVABLE;
}

/** __rmqueue_fallback() for an order-`order` request: moves one block into `mt`'s lists. */
function steal(a: FreeArea, mt: number, order: number): boolean {
  const fb = FALLBACKS[mt];
  if (!fb) return false;
  let found = -1;
  let fmt = -1;
  for (let o = MAX_ORDER - 1; o >= order && found < 0; o--) {
    for (const t of fb) {
      if (a.free[t][o] > 0) {
        found = o;
        fmt = t;
        break;
      }
    }
  }
  if (found < 0) return false;
  let whole = canSteal(found, mt);
  if (!whole && mt === MIGRATE_MOVABLE && found > order) {
    // cannot take the pageblock: split the smallest block instead
    found = -1;
    for (let o = order; o < MAX_ORDER && found < 0; o++) {
      for (const t of fb) {
        if (a.free[t][o] > 0) {
          found = o;
          fmt = t;
          whole = canSteal(o, mt);
          break;
        }
      }
    }
  }
  a.free[fmt][found]--;
  a.free[mt][found]++;
  if (found >= PAGEBLOCK_ORDER) {
    const n = 1 << (found - PAGEBLOCK_ORDER);
    const moved = Math.min(n, a.blocks[fmt]);
    a.blocks[fmt] -= moved;
    a.blocks[mt] += moved;
  } else if (whole && found >= PAGEBLOCK_ORDER - 1 && a.blocks[fmt] > 0) {
    // at least half the pageblock is free: it changes type
    a.blocks[fmt]--;
    a.blocks[mt]++;
  }
  return true;
}

/** Allocates up to `n` order-0 pages of `mt`. Returns how many were taken. */
export function takePages(a: FreeArea, mt: number, n: number): number {
  let need = n;
  while (need > 0) {
    need = takeOwn(a, mt, need);
    if (need === 0 || !steal(a, mt, 0)) break;
  }
  return n - need;
}

/** Allocates one block of `order` (a high-order allocation). */
export function takeBlock(a: FreeArea, mt: number, order: number): boolean {
  for (;;) {
    const f = a.free[mt];
    for (let o = order; o < MAX_ORDER; o++) {
      if (f[o] > 0) {
        f[o]--;
        // expand(): the unused halves stay free, one block per order
        for (let b = order; b < o; b++) f[b]++;
        a.nrFree -= 1 << order;
        return true;
      }
    }
    if (!steal(a, mt, order)) return false;
  }
}

/** Frees `n` order-0 pages of `mt` and merges buddies. */
export function givePages(a: FreeArea, mt: number, n: number): void {
  if (n <= 0) return;
  a.free[mt][0] += n;
  a.nrFree += n;
  merge(a, mt);
}

function merge(a: FreeArea, mt: number): void {
  const f = a.free[mt];
  for (let o = 0; o < MAX_ORDER - 1; o++) {
    const keep = KEEP_UNMERGED[o];
    if (f[o] > keep) {
      const pairs = Math.floor((f[o] - keep + 1) / 2);
      f[o] -= 2 * pairs;
      f[o + 1] += pairs;
    }
  }
}

/** Frees one block of `order`. */
export function giveBlock(a: FreeArea, mt: number, order: number): void {
  a.free[mt][order]++;
  a.nrFree += 1 << order;
  merge(a, mt);
}
