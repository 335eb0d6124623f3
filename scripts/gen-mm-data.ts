/**
 * Generates src/kernel/data/mm-reference.ts from the Linux 6.1 ground truth in
 * ../shared/reference/linux-6.1: the slab caches of the reference kernel (name,
 * geometry, object counts at capture time), the boot-time vmalloc areas, and the
 * field lists of /proc/meminfo, /proc/vmstat and /proc/zoneinfo.
 *
 *   npx ts-node --transpile-only scripts/gen-mm-data.ts [referenceDir]
 *
 * The build never reads ../shared: the output is committed.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'fs';
import { join, resolve } from 'path';

const ref = resolve(process.argv[2] ?? join(__dirname, '../../shared/reference/linux-6.1'));
const out = resolve(__dirname, '../src/kernel/data/mm-reference.ts');
const read = (p: string): string => readFileSync(join(ref, p), 'utf8');

/** Caches created with SLAB_RECLAIM_ACCOUNT (or SLAB_TEMPORARY) in 6.1: they count as SReclaimable. */
const RECLAIMABLE = new Set([
  'dentry',
  'inode_cache',
  'radix_tree_node',
  'buffer_head',
  'proc_inode_cache',
  'sock_inode_cache',
  'bdev_cache',
  'dquot',
  'dax_cache',
  'fscrypt_info',
  'fsverity_info',
  'ext4_inode_cache',
  'ext4_groupinfo_1k',
  'ext4_allocation_context',
  'ext4_system_zone',
  'ext4_extent_status',
  'ext4_fc_dentry_update',
  'jbd2_journal_head',
  'jbd2_revoke_table_s',
  'jbd2_revoke_record_s',
  'fat_inode_cache',
  'fat_cache',
  'btrfs_inode',
]);

/** Caches in the reference that module loads created (they sit above the boot caches: newest first). */
function moduleOf(name: string): string | undefined {
  if (name.startsWith('ext4_')) return 'ext4';
  if (name.startsWith('jbd2_')) return 'jbd2';
  if (name.startsWith('fat_')) return 'fat';
  if (name.startsWith('btrfs_') || /^bio-\d+$/.test(name)) return 'btrfs';
  return undefined;
}

interface SlabRow {
  name: string;
  objsize: number;
  perslab: number;
  pagesperslab: number;
  active: number;
  num: number;
  slabs: number;
  reclaimable: boolean;
  module?: string;
}

function slabs(): SlabRow[] {
  const lines = read('proc/slabinfo').split('\n').filter(Boolean);
  if (!lines[0].startsWith('slabinfo - version: 2.1')) throw new Error('unexpected slabinfo header');
  const rows: SlabRow[] = [];
  let inModules = true;
  for (const line of lines.slice(2)) {
    const f = line.trim().split(/\s+/);
    const name = f[0];
    const row: SlabRow = {
      name,
      active: Number(f[1]),
      num: Number(f[2]),
      objsize: Number(f[3]),
      perslab: Number(f[4]),
      pagesperslab: Number(f[5]),
      slabs: Number(f[14]),
      reclaimable: RECLAIMABLE.has(name) || name.startsWith('kmalloc-rcl-'),
    };
    // module caches are listed first (newest first); the first boot cache ends the run
    const mod = moduleOf(name);
    if (inModules && mod) row.module = mod;
    else inModules = false;
    rows.push(row);
  }
  return rows;
}

interface VmallocRow {
  caller: string;
  size: number;
  pages: number;
  phys?: number;
  kind: 'vmalloc' | 'ioremap' | 'vmap';
  perCpu?: boolean;
}

/** Callers that allocate once per CPU (the reference machine has 2). */
const PER_CPU = ['irq_init_percpu_irqstack', 'crypto_scomp_init_tfm'];

function vmalloc(): VmallocRow[] {
  const rows: VmallocRow[] = [];
  const seenPerCpu = new Set<string>();
  for (const line of read('proc/vmallocinfo').split('\n').filter(Boolean)) {
    const m = /^0x[0-9a-f]+-0x[0-9a-f]+\s+(\d+) (.*)$/.exec(line);
    if (!m) throw new Error(`bad vmallocinfo line ${line}`);
    const rest = m[2];
    // per-task stacks, idle stacks, modules and lazily freed areas are modelled, not copied
    if (/^(kernel_clone|fork_idle|load_module)\+/.test(rest) || rest.startsWith('unpurged') || rest.includes('[')) continue;
    const caller = rest.split(' ')[0];
    const pages = Number(/pages=(\d+)/.exec(rest)?.[1] ?? 0);
    const phys = /phys=0x([0-9a-f]+)/.exec(rest);
    const kind = rest.includes(' ioremap') ? 'ioremap' : rest.includes(' vmap') ? 'vmap' : 'vmalloc';
    const row: VmallocRow = { caller, size: Number(m[1]), pages, kind };
    if (phys) row.phys = parseInt(phys[1], 16);
    const fn = caller.split('+')[0];
    if (PER_CPU.includes(fn)) {
      if (seenPerCpu.has(caller)) continue;
      seenPerCpu.add(caller);
      row.perCpu = true;
    }
    rows.push(row);
  }
  return rows;
}

function keys(path: string, re: RegExp): string[] {
  const outKeys: string[] = [];
  for (const line of read(path).split('\n')) {
    const m = re.exec(line);
    if (m) outKeys.push(m[1]);
  }
  return outKeys;
}

function zoneinfoKeys(): { node: string[]; zone: string[] } {
  const lines = read('proc/zoneinfo').split('\n');
  const node: string[] = [];
  const zone: string[] = [];
  let section: 'node' | 'zone' | 'other' = 'other';
  let zones = 0;
  for (const line of lines) {
    if (line.startsWith('Node ')) zones++;
    if (line === '  per-node stats') section = 'node';
    else if (line.startsWith('  pages free')) section = 'other';
    else if (line.startsWith('        protection:')) section = zones === 1 ? 'zone' : 'other';
    else if (line === '  pagesets') section = 'other';
    else if (section !== 'other' && /^ {6}\S/.test(line)) (section === 'node' ? node : zone).push(line.trim().split(/\s+/)[0]);
  }
  return { node, zone };
}

const slabRows = slabs();
const vm = vmalloc();
const zi = zoneinfoKeys();
const text = `// Generated by scripts/gen-mm-data.ts from the Linux 6.1 reference captures. Do not edit.

/** A slab cache of the reference kernel: geometry and object counts at capture time. */
export interface RefSlabCache {
  name: string;
  objsize: number;
  perslab: number;
  pagesperslab: number;
  /** active_objs / num_objs / num_slabs in the reference capture */
  active: number;
  num: number;
  slabs: number;
  /** SLAB_RECLAIM_ACCOUNT: counts as SReclaimable */
  reclaimable: boolean;
  /** created by this module's init (absent at boot) */
  module?: string;
}

/** /proc/slabinfo order: newest cache first, kmem_cache last. */
export const REF_SLAB_CACHES: readonly RefSlabCache[] = ${JSON.stringify(slabRows, null, 0).replace(/\},\{/g, '},\n  {')};

/** A boot-time vmalloc/ioremap/vmap area of the reference kernel (per-task stacks and modules excluded). */
export interface RefVmallocArea {
  caller: string;
  /** bytes, guard page included */
  size: number;
  pages: number;
  phys?: number;
  kind: 'vmalloc' | 'ioremap' | 'vmap';
  /** one per online CPU */
  perCpu?: boolean;
}

export const REF_VMALLOC_AREAS: readonly RefVmallocArea[] = ${JSON.stringify(vm, null, 0).replace(/\},\{/g, '},\n  {')};

/** Field names of /proc/meminfo, in order. */
export const MEMINFO_KEYS: readonly string[] = ${JSON.stringify(keys('proc/meminfo', /^([^:]+):/))};

/** Field names of /proc/vmstat, in order. */
export const VMSTAT_KEYS: readonly string[] = ${JSON.stringify(keys('proc/vmstat', /^(\S+) /))};

/** Per-node stat names of /proc/zoneinfo (first populated zone), in order. */
export const ZONEINFO_NODE_KEYS: readonly string[] = ${JSON.stringify(zi.node)};

/** Per-zone stat names of /proc/zoneinfo (populated zones), in order. */
export const ZONEINFO_ZONE_KEYS: readonly string[] = ${JSON.stringify(zi.zone)};
`;
mkdirSync(resolve(out, '..'), { recursive: true });
writeFileSync(out, text);
console.log(`wrote ${out}: ${slabRows.length} slab caches, ${vm.length} vmalloc areas`);
