/**
 * /proc views of the memory model: meminfo, vmstat, zoneinfo, buddyinfo,
 * pagetypeinfo, slabinfo, vmallocinfo, swaps — format-identical to Linux 6.1
 * (fs/proc/meminfo.c, mm/vmstat.c, mm/slab_common.c, mm/vmalloc.c,
 * mm/swapfile.c) — and their JSON forms for the REST API.
 */
import type { Kernel } from '../kernel';
import { seedToU32 } from '../util/rng';
import { MEMINFO_KEYS, VMSTAT_KEYS, ZONEINFO_NODE_KEYS, ZONEINFO_ZONE_KEYS } from '../data/mm-reference';
import { MIGRATE_TYPES, MIGRATETYPE_NAMES, freePerOrder } from './buddy';
import { MAX_ORDER, PAGEBLOCK_ORDER, PAGEBLOCK_PAGES, statThreshold } from './layout';
import { type MemStats, VMALLOC_STACK_OFF, type ZoneStats } from './mm';
import { slabRow } from './slab';

const padL = (v: string | number, w: number): string => String(v).padStart(w, ' ');
const padR = (v: string | number, w: number): string => String(v).padEnd(w, ' ');

/** 2^47 - 1 kB... VMALLOC_SIZE of 4-level paging (32 TiB) in kB, minus one as the kernel prints it. */
const VMALLOC_TOTAL_KB = 34359738367;

/** meminfo values, in kB (HugePages_* are counts). */
export function meminfoValues(st: MemStats): Record<string, number> {
  const kb = (p: number): number => p * 4;
  const cached = st.file + st.shmem + st.swapCached;
  const v: Record<string, number> = {
    MemTotal: kb(st.totalram),
    MemFree: kb(st.free),
    MemAvailable: kb(st.available),
    Buffers: kb(st.buffers),
    Cached: kb(Math.max(0, cached - st.swapCached)),
    SwapCached: kb(st.swapCached),
    Active: kb(st.activeAnon + st.activeFile),
    Inactive: kb(st.inactiveAnon + st.inactiveFile),
    'Active(anon)': kb(st.activeAnon),
    'Inactive(anon)': kb(st.inactiveAnon),
    'Active(file)': kb(st.activeFile),
    'Inactive(file)': kb(st.inactiveFile),
    Unevictable: 0,
    Mlocked: 0,
    SwapTotal: kb(st.swapTotal),
    SwapFree: kb(st.swapFree),
    Zswap: 0,
    Zswapped: 0,
    Dirty: kb(st.dirty),
    Writeback: 0,
    AnonPages: kb(st.anon),
    Mapped: kb(st.mapped),
    Shmem: kb(st.shmem),
    KReclaimable: kb(st.slabR),
    Slab: kb(st.slabR + st.slabU),
    SReclaimable: kb(st.slabR),
    SUnreclaim: kb(st.slabU),
    KernelStack: st.kernelStackKb,
    PageTables: kb(st.pageTables),
    SecPageTables: 0,
    NFS_Unstable: 0,
    Bounce: 0,
    WritebackTmp: 0,
    CommitLimit: kb(st.commitLimit),
    Committed_AS: kb(st.committed),
    VmallocTotal: VMALLOC_TOTAL_KB,
    VmallocUsed: kb(st.vmallocUsed),
    VmallocChunk: 0,
    Percpu: kb(st.percpu),
    HardwareCorrupted: 0,
    AnonHugePages: 0,
    ShmemHugePages: 0,
    ShmemPmdMapped: 0,
    FileHugePages: 0,
    FilePmdMapped: 0,
    HugePages_Total: 0,
    HugePages_Free: 0,
    HugePages_Rsvd: 0,
    HugePages_Surp: 0,
    Hugepagesize: 2048,
    Hugetlb: 0,
    DirectMap4k: st.layout.directMap4k,
    DirectMap2M: st.layout.directMap2M,
    DirectMap1G: st.layout.directMap1G,
  };
  return v;
}

/** Per field: label column, number width, unit (fs/proc/meminfo.c show_val_kb and the hugetlb lines). */
const MEMINFO_FMT: readonly [string, string, number, string][] = MEMINFO_KEYS.map((key) => {
  if (key.startsWith('HugePages_')) return [key, padR(`${key}:`, 19), 5, '\n'];
  if (key === 'HardwareCorrupted') return [key, 'HardwareCorrupted: ', 5, ' kB\n'];
  return [key, padR(`${key}:`, 16), 8, ' kB\n'];
});
const SPACES = '        ';

/** Renders are memoised per stats object (stats() returns the same object until something changes). */
const meminfoCache = new WeakMap<MemStats, string>();

export function renderMeminfo(st: MemStats): string {
  const hit = meminfoCache.get(st);
  if (hit !== undefined) return hit;
  const v = meminfoValues(st);
  let out = '';
  for (const [key, label, width, unit] of MEMINFO_FMT) {
    const n = String(v[key]);
    out += label + (n.length < width ? SPACES.slice(0, width - n.length) : '') + n + unit;
  }
  meminfoCache.set(st, out);
  return out;
}

export function meminfoJson(k: Kernel): Record<string, number> {
  const v = meminfoValues(k.mm.stats());
  const out: Record<string, number> = {};
  for (const key of MEMINFO_KEYS) out[key] = v[key];
  return out;
}

/** A node_stat_item value (pages; nr_kernel_stack in kB). */
function nodeStat(st: MemStats, name: string): number {
  switch (name) {
    case 'nr_inactive_anon':
      return st.inactiveAnon;
    case 'nr_active_anon':
      return st.activeAnon;
    case 'nr_inactive_file':
      return st.inactiveFile;
    case 'nr_active_file':
      return st.activeFile;
    case 'nr_slab_reclaimable':
      return st.slabR;
    case 'nr_slab_unreclaimable':
      return st.slabU;
    case 'nr_anon_pages':
      return st.anon;
    case 'nr_mapped':
      return st.mapped;
    case 'nr_file_pages':
      return st.file + st.buffers + st.shmem + st.swapCached;
    case 'nr_shmem':
      return st.shmem;
    case 'nr_kernel_stack':
      return st.kernelStackKb;
    case 'nr_page_table_pages':
      return st.pageTables;
    case 'nr_swapcached':
      return st.swapCached;
    default:
      return st.ev[name] ?? 0;
  }
}

function zoneStat(z: ZoneStats, name: string): number {
  switch (name) {
    case 'nr_free_pages':
      return z.free;
    case 'nr_zone_inactive_anon':
      return z.inactiveAnon;
    case 'nr_zone_active_anon':
      return z.activeAnon;
    case 'nr_zone_inactive_file':
      return z.inactiveFile;
    case 'nr_zone_active_file':
      return z.activeFile;
    case 'numa_hit':
    case 'numa_local':
      return z.numaHit;
    case 'numa_interleave':
      return z.numaInterleave;
    default:
      return 0;
  }
}

const ZONE_KEY_SET = new Set(ZONEINFO_ZONE_KEYS);
const NODE_KEY_SET = new Set(ZONEINFO_NODE_KEYS);
const ZONE_SUFFIX: Readonly<Record<string, number>> = { dma: 0, dma32: 1, normal: 2, movable: 3, device: 4 };

export function vmstatValues(st: MemStats): [string, number][] {
  const out: [string, number][] = [];
  for (const key of VMSTAT_KEYS) {
    let v: number;
    if (key === 'nr_dirty' || key === 'nr_zone_write_pending') v = st.dirty;
    else if (ZONE_KEY_SET.has(key)) v = st.zones.reduce((a, z) => a + zoneStat(z, key), 0);
    else if (NODE_KEY_SET.has(key)) v = nodeStat(st, key);
    else if (key === 'nr_dirty_threshold') v = st.dirtyThresh;
    else if (key === 'nr_dirty_background_threshold') v = st.bgThresh;
    else {
      const m = /^(pgalloc|allocstall|pgskip)_(\w+)$/.exec(key);
      const zi = m ? ZONE_SUFFIX[m[2]] : undefined;
      if (m && zi !== undefined) v = m[1] === 'pgalloc' ? st.zones[zi].pgalloc : m[1] === 'allocstall' ? st.zones[zi].allocstall : 0;
      else v = st.ev[key] ?? 0;
    }
    out.push([key, v]);
  }
  return out;
}

export function renderVmstat(st: MemStats): string {
  let out = '';
  for (const [k, v] of vmstatValues(st)) out += `${k} ${v}\n`;
  return out;
}

export function vmstatJson(k: Kernel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, v] of vmstatValues(k.mm.stats())) out[key] = v;
  return out;
}

export function renderZoneinfo(st: MemStats, cpus: number): string {
  let out = '';
  const first = st.zones.findIndex((z) => z.populated);
  st.zones.forEach((z, i) => {
    out += `Node 0, zone ${padL(z.name, 8)}`;
    if (i === first) {
      out += '\n  per-node stats';
      for (const key of ZONEINFO_NODE_KEYS) out += `\n      ${padR(key, 12)} ${nodeStat(st, key)}`;
    }
    out +=
      `\n  pages free     ${z.free}` +
      `\n        boost    0` +
      `\n        min      ${z.min}` +
      `\n        low      ${z.low}` +
      `\n        high     ${z.high}` +
      `\n        spanned  ${z.spanned}` +
      `\n        present  ${z.present}` +
      `\n        managed  ${z.managed}` +
      `\n        cma      0` +
      `\n        protection: (${z.reserve.join(', ')})`;
    if (!z.populated) {
      out += '\n';
      return;
    }
    for (const key of ZONEINFO_ZONE_KEYS) out += `\n      ${padR(key, 12)} ${zoneStat(z, key)}`;
    out += '\n  pagesets';
    const thr = statThreshold(z.managed, cpus);
    for (let c = 0; c < cpus; c++) {
      out +=
        `\n    cpu: ${c}` +
        `\n              count: ${z.pcp[c] ?? 0}` +
        `\n              high:  ${z.pcpHigh}` +
        `\n              batch: ${z.pcpBatch}` +
        `\n  vm stats threshold: ${thr}`;
    }
    out += `\n  node_unreclaimable:  0\n  start_pfn:           ${z.startPfn}\n`;
  });
  return out;
}

export function renderBuddyinfo(st: MemStats): string {
  let out = '';
  for (const z of st.zones) {
    if (!z.populated) continue;
    out += `Node 0, zone ${padL(z.name, 8)} `;
    for (const n of freePerOrder(z.area)) out += `${padL(n, 6)} `;
    out += '\n';
  }
  return out;
}

export function buddyinfoJson(k: Kernel): { node: number; zone: string; free: number[] }[] {
  return k.mm
    .stats()
    .zones.filter((z) => z.populated)
    .map((z) => ({ node: 0, zone: z.name, free: freePerOrder(z.area) }));
}

export function renderPagetypeinfo(st: MemStats): string {
  let out = `Page block order: ${PAGEBLOCK_ORDER}\nPages per block:  ${PAGEBLOCK_PAGES}\n\n`;
  out += `${padR('Free pages count per migrate type at order', 43)} `;
  for (let o = 0; o < MAX_ORDER; o++) out += `${padL(o, 6)} `;
  out += '\n';
  for (const z of st.zones) {
    if (!z.populated) continue;
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
      out += `Node ${padL(0, 4)}, zone ${padL(z.name, 8)}, type ${padL(MIGRATETYPE_NAMES[mt], 12)} `;
      for (let o = 0; o < MAX_ORDER; o++) {
        const n = z.area.free[mt][o];
        out += n >= 100000 ? `>${padL(100000, 6)} ` : `${padL(n, 6)} `;
      }
      out += '\n';
    }
  }
  out += `\n${padR('Number of blocks type ', 23)}`;
  for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${padL(MIGRATETYPE_NAMES[mt], 12)} `;
  out += '\n';
  for (const z of st.zones) {
    if (!z.populated) continue;
    out += `Node 0, zone ${padL(z.name, 8)} `;
    for (let mt = 0; mt < MIGRATE_TYPES; mt++) out += `${padL(z.area.blocks[mt], 12)} `;
    out += '\n';
  }
  return out;
}

export function renderSlabinfo(k: Kernel): string {
  const mm = k.mm;
  const d = mm.slabDrivers();
  const delta = mm.slabDelta();
  let out =
    'slabinfo - version: 2.1\n' +
    '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n';
  for (const c of mm.slabCaches()) {
    const r = slabRow(c, d, delta[c.name] ?? 0, mm.scale);
    out +=
      `${padR(c.name, 17)} ${padL(r.active, 6)} ${padL(r.num, 6)} ${padL(c.objsize, 6)} ${padL(c.perslab, 4)} ${padL(c.pagesperslab, 4)}` +
      ` : tunables ${padL(0, 4)} ${padL(0, 4)} ${padL(0, 4)} : slabdata ${padL(r.slabs, 6)} ${padL(r.slabs, 6)} ${padL(0, 6)}\n`;
  }
  return out;
}

/** %pK of a kernel pointer with kptr_restrict=0: a 32-bit keyed hash, printed as 16 hex digits. */
function hashPtr(off: number, key: number): string {
  const lo = (off % 0x100000000) >>> 0;
  const hi = Math.floor(off / 0x100000000) >>> 0;
  let h = (Math.imul(lo ^ key, 0x85ebca6b) ^ Math.imul((hi + 0x9e3779b9) ^ (key >>> 7), 0xc2b2ae35)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0).toString(16).padStart(16, '0');
}

interface VmLine {
  off: number;
  size: number;
  caller: string;
  pages: number;
  kind: 'vmalloc' | 'ioremap' | 'vmap';
  phys?: number;
}

const STACK_AREA = 5 * 4096;

export function renderVmallocinfo(k: Kernel): string {
  const key = seedToU32(`${k.config.seed}:ptr`);
  const lines: VmLine[] = [];
  let staticEnd = 0;
  for (const a of k.mm.vmallocAreas()) {
    lines.push({ off: a.off, size: a.size, caller: a.caller, pages: a.pages, kind: a.kind, phys: a.phys });
    if (a.id === 0) staticEnd = Math.max(staticEnd, a.off + a.size);
  }
  for (let c = 1; c < k.config.cpus; c++) {
    lines.push({ off: staticEnd + (c - 1) * STACK_AREA, size: STACK_AREA, caller: 'fork_idle+0x76/0x105', pages: 4, kind: 'vmalloc' });
  }
  for (const t of k.sched?.tasks() ?? []) {
    lines.push({
      off: VMALLOC_STACK_OFF + t.pid * STACK_AREA,
      size: STACK_AREA,
      caller: 'kernel_clone+0xbf/0x430',
      pages: 4,
      kind: 'vmalloc',
    });
  }
  lines.sort((a, b) => a.off - b.off);
  let out = '';
  for (const l of lines) {
    out += `0x${hashPtr(l.off, key)}-0x${hashPtr(l.off + l.size, key)} ${padL(l.size, 7)} ${l.caller}`;
    if (l.pages) out += ` pages=${l.pages}`;
    if (l.phys !== undefined) out += ` phys=0x${l.phys.toString(16).padStart(16, '0')}`;
    out += ` ${l.kind}`;
    if (l.kind === 'vmalloc' && l.pages) out += ` N0=${l.pages}`;
    out += '\n';
  }
  return out;
}

export function renderSwaps(k: Kernel): string {
  let out = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';
  for (const a of k.mm.swapAreas()) {
    const bytes = a.pages * 4;
    const used = a.used * 4;
    const len = a.path.length;
    out += `${a.path}${' '.repeat(len < 40 ? 40 - len : 1)}${a.partition ? 'partition' : 'file\t'}\t${bytes}\t${bytes < 10000000 ? '\t' : ''}${used}\t${used < 10000000 ? '\t' : ''}${a.prio}\n`;
  }
  return out;
}
