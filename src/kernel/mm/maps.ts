/**
 * Per-task memory views: /proc/<pid>/maps, smaps, smaps_rollup and statm, in
 * the formats of fs/proc/task_mmu.c (Linux 6.1). The sched engineer's
 * /proc/<pid> directory calls these.
 */
import type { Kernel } from '../kernel';
import { type Vma, PAGE, fnv } from './elf';

const hex = (v: number, w: number): string => v.toString(16).padStart(w, '0');
const ROOT_DEV = '00:02';

/** Inode number of a mapped file: the rootfs inode when it exists, else a stable synthetic one. */
function inoOf(k: Kernel, path: string): number {
  try {
    const ino = k.vfs.resolve(k.rootCtx(), path).node.ino;
    if (ino !== undefined) return ino;
  } catch {
    // not in the rootfs: synthesize
  }
  return 100 + (fnv(path) % 30000);
}

/** show_vma_header_prefix() plus the name column (padded to 73). */
function header(start: number, end: number, perm: string, off: number, dev: string, ino: number, name: string): string {
  const prefix = `${hex(start, 8)}-${hex(end, 8)} ${perm} ${hex(off, 8)} ${dev} ${ino} `;
  if (!name) return `${prefix}\n`;
  return `${prefix.padEnd(72, ' ')} ${name}\n`;
}

function vmaHeader(k: Kernel, v: Vma, inos: Map<string, number>): string {
  if (v.path) {
    let ino = inos.get(v.path);
    if (ino === undefined) {
      ino = inoOf(k, v.path);
      inos.set(v.path, ino);
    }
    return header(v.start, v.end, v.perm, v.off, ROOT_DEV, ino, v.path);
  }
  return header(v.start, v.end, v.perm, 0, '00:00', 0, v.tag);
}

/** /proc/<pid>/maps ('' for kernel threads). */
export function renderMaps(k: Kernel, pid: number): string {
  const vmas = k.mm.vmas(pid);
  if (!vmas) return '';
  const inos = new Map<string, number>();
  let out = '';
  for (const v of vmas) out += vmaHeader(k, v, inos);
  return out;
}

interface Mss {
  rss: number;
  pss: number;
  pssAnon: number;
  pssFile: number;
  pssShmem: number;
  sharedClean: number;
  sharedDirty: number;
  privateClean: number;
  privateDirty: number;
  anon: number;
  swap: number;
}

const zero = (): Mss => ({
  rss: 0,
  pss: 0,
  pssAnon: 0,
  pssFile: 0,
  pssShmem: 0,
  sharedClean: 0,
  sharedDirty: 0,
  privateClean: 0,
  privateDirty: 0,
  anon: 0,
  swap: 0,
});

/** Byte counts of one VMA as smap_gather_stats() finds them (pss in bytes, fractional). */
function gather(k: Kernel, pid: number, v: Vma): Mss {
  const m = zero();
  const sp = k.mm.space(pid);
  if (!sp) return m;
  const anonTotal = sp.priv + sp.shared;
  const sharedAnon = sp.shared + Math.min(sp.cowShared, sp.priv);
  // anonymous pages: shared copy-on-write ones have two mappers
  if (v.anonRss > 0) {
    const sh = anonTotal > 0 ? Math.round((v.anonRss * sharedAnon) / anonTotal) : 0;
    const pr = v.anonRss - sh;
    m.rss += v.anonRss * PAGE;
    m.anon += v.anonRss * PAGE;
    m.privateDirty += pr * PAGE;
    m.sharedDirty += sh * PAGE;
    const pss = pr * PAGE + (sh * PAGE) / 2;
    m.pss += pss;
    m.pssAnon += pss;
  }
  if (v.fileRss > 0 && v.path) {
    // rootfs files live in shmem: resident pages are dirty, shared by every process mapping them
    const mappers = Math.max(1, k.mm.mappedCount(v.path));
    m.rss += v.fileRss * PAGE;
    if (mappers > 1) m.sharedDirty += v.fileRss * PAGE;
    else m.privateDirty += v.fileRss * PAGE;
    const pss = (v.fileRss * PAGE) / mappers;
    m.pss += pss;
    m.pssShmem += pss;
  } else if (v.fileRss > 0) {
    // the vDSO page: kernel text mapped into every process
    m.rss += v.fileRss * PAGE;
    m.privateClean += v.fileRss * PAGE;
    m.pss += v.fileRss * PAGE;
    m.pssFile += v.fileRss * PAGE;
  }
  m.swap = v.swap * PAGE;
  return m;
}

const dec = (label: string, bytes: number): string => `${label}${String(Math.floor(bytes / 1024)).padStart(8)} kB\n`;

function showSmap(m: Mss, rollup: boolean): string {
  let out = dec('Rss:            ', m.rss);
  out += dec('Pss:            ', m.pss);
  out += dec('Pss_Dirty:      ', m.pss - m.pssFile);
  if (rollup) {
    out += dec('Pss_Anon:       ', m.pssAnon);
    out += dec('Pss_File:       ', m.pssFile);
    out += dec('Pss_Shmem:      ', m.pssShmem);
  }
  out += dec('Shared_Clean:   ', m.sharedClean);
  out += dec('Shared_Dirty:   ', m.sharedDirty);
  out += dec('Private_Clean:  ', m.privateClean);
  out += dec('Private_Dirty:  ', m.privateDirty);
  out += dec('Referenced:     ', m.rss);
  out += dec('Anonymous:      ', m.anon);
  out += dec('LazyFree:       ', 0);
  out += dec('AnonHugePages:  ', 0);
  out += dec('ShmemPmdMapped: ', 0);
  out += dec('FilePmdMapped:  ', 0);
  out += dec('Shared_Hugetlb: ', 0);
  out += `Private_Hugetlb: ${String(0).padStart(7)} kB\n`;
  out += dec('Swap:           ', m.swap);
  out += dec('SwapPss:        ', m.swap);
  out += dec('Locked:         ', 0);
  return out;
}

function vmFlags(v: Vma, index: number, vmas: readonly Vma[]): string {
  switch (v.kind) {
    case 'stack':
      return 'rd wr mr mw me gd ac';
    case 'vvar':
      return 'rd mr pf io de dd sd';
    case 'vdso':
      return 'rd ex mr mw me de sd';
    default:
      break;
  }
  if (v.perm === 'rw-p') return 'rd wr mr mw me ac sd';
  if (v.perm === 'r-xp') return 'rd ex mr mw me sd';
  // the RELRO segment was writable before mprotect(): it keeps VM_ACCOUNT
  const next = vmas[index + 1];
  if (v.path && next && next.path === v.path && next.perm === 'rw-p') return 'rd mr mw me ac sd';
  return 'rd mr mw me sd';
}

function thpEligible(v: Vma): number {
  if (v.kind !== 'anon' && v.kind !== 'heap') return 0;
  const HPAGE = 0x200000;
  return Math.ceil(v.start / HPAGE) * HPAGE + HPAGE <= v.end ? 1 : 0;
}

/** /proc/<pid>/smaps ('' for kernel threads). */
export function renderSmaps(k: Kernel, pid: number): string {
  const vmas = k.mm.vmas(pid);
  if (!vmas) return '';
  const inos = new Map<string, number>();
  let out = '';
  vmas.forEach((v, i) => {
    out += vmaHeader(k, v, inos);
    out += `Size:           ${String((v.end - v.start) / 1024).padStart(8)} kB\n`;
    out += 'KernelPageSize:        4 kB\nMMUPageSize:           4 kB\n';
    out += showSmap(gather(k, pid, v), false);
    out += `THPeligible:    ${thpEligible(v)}\n`;
    out += `ProtectionKey:  ${String(0).padStart(8)}\n`;
    out += `VmFlags: ${vmFlags(v, i, vmas)} \n`;
  });
  return out;
}

/** /proc/<pid>/smaps_rollup ('' for kernel threads). */
export function renderSmapsRollup(k: Kernel, pid: number): string {
  const vmas = k.mm.vmas(pid);
  if (!vmas || !vmas.length) return '';
  const total = zero();
  for (const v of vmas) {
    const m = gather(k, pid, v);
    for (const key of Object.keys(total) as (keyof Mss)[]) total[key] += m[key];
  }
  const head = header(vmas[0].start, vmas[vmas.length - 1].end, '---p', 0, '00:00', 0, '[rollup]');
  return head + showSmap(total, true);
}

/** /proc/<pid>/statm: size resident shared text lib data dt (pages). */
export function renderStatm(k: Kernel, pid: number): string {
  const m = k.mm.taskMem(pid);
  if (!m) return '0 0 0 0 0 0 0\n';
  const shared = m.rssFilePages + m.rssShmemPages;
  const resident = shared + m.rssAnonPages;
  return `${m.vmPages} ${resident} ${shared} ${m.exePages} 0 ${m.dataPages + m.stackPages} 0\n`;
}

/** /proc/<pid>/oom_score. */
export function renderOomScore(k: Kernel, pid: number): string {
  return `${k.mm.oomScore(pid)}\n`;
}
