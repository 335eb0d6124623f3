/**
 * Address-space layouts of ELF programs on x86_64: the segments of executables
 * and shared libraries (sizes and resident pages of Debian 12 builds), and the
 * placement the 6.1 kernel gives them with ASLR: PIE base at ELF_ET_DYN_BASE +
 * 28 random bits, brk up to 1 GiB above the image, mmap_base below the stack
 * gap, the stack top 22 random bits below TASK_SIZE, [vvar]/[vdso] within the
 * 2 MiB above the stack.
 */

export const PAGE = 4096;
/** TASK_SIZE (47-bit user space) */
export const TASK_SIZE = 0x7ffffffff000;
/** DEFAULT_MAP_WINDOW / 3 * 2, page aligned */
const ELF_ET_DYN_BASE = 0x555555554000;
/** rlimit stack 8 MiB + stack_guard_gap + maximum stack randomisation */
const MMAP_GAP = 0x800000 + 0x100000 + 0x3fffff000;
const PMD_SIZE = 0x200000;
const PUD_SIZE = 0x40000000;
/** the stack VMA after exec: 128 KiB + the argument page */
export const STACK_PAGES = 33;
const VVAR_PAGES = 4;
const VDSO_PAGES = 2;
/** glibc grows the heap by at least 132 KiB (M_TOP_PAD + a page) */
const HEAP_STEP = 33;

export type SegPerm = 'r--p' | 'r-xp' | 'rw-p';

/** One PT_LOAD segment: permissions, size and resident pages. */
export interface Seg {
  perm: SegPerm;
  pages: number;
  rss: number;
  /** the segment's first page is the previous segment's last file page (p_offset inside a page) */
  back?: number;
}

export interface LibProfile {
  path: string;
  segs: readonly Seg[];
  /** anonymous .bss continuation after the rw-p segment */
  bss: number;
  bssRss: number;
}

export interface ExeProfile {
  segs: readonly Seg[];
  bss: number;
  bssRss: number;
  /** non-PIE static binary at 0x400000 */
  static?: boolean;
  libs: readonly string[];
  /** initial heap pages and the anonymous mmap region of the loader/libc (TLS, malloc arenas) */
  heap: number;
  anonRegion: number;
  /** resident anonymous pages right after exec */
  anon: number;
}

const s = (perm: SegPerm, pages: number, rss = pages): Seg => ({ perm, pages, rss });
/** RELRO segment whose file offset starts one page back */
const relro = (pages: number, rss = pages): Seg => ({ perm: 'r--p', pages, rss, back: 1 });

const LD = '/lib64/ld-linux-x86-64.so.2';
const LIBDIR = '/lib/x86_64-linux-gnu';

export const LIBS: Readonly<Record<string, LibProfile>> = {
  [LD]: { path: LD, segs: [s('r--p', 1), s('r-xp', 38, 37), s('r--p', 10), s('r--p', 2), s('rw-p', 2)], bss: 0, bssRss: 0 },
  'libc.so.6': {
    path: `${LIBDIR}/libc.so.6`,
    segs: [s('r--p', 38), s('r-xp', 342, 148), s('r--p', 83, 46), s('r--p', 4), s('rw-p', 2)],
    bss: 15,
    bssRss: 6,
  },
  'libtinfo.so.6': {
    path: `${LIBDIR}/libtinfo.so.6.4`,
    segs: [s('r--p', 14), s('r-xp', 19, 17), s('r--p', 14, 8), s('r--p', 4), s('rw-p', 1)],
    bss: 0,
    bssRss: 0,
  },
  'libselinux.so.1': {
    path: `${LIBDIR}/libselinux.so.1`,
    segs: [s('r--p', 6), s('r-xp', 20, 14), s('r--p', 6, 4), s('r--p', 1), s('rw-p', 1)],
    bss: 2,
    bssRss: 1,
  },
  'libpcre2-8.so.0': {
    path: `${LIBDIR}/libpcre2-8.so.0.11.2`,
    segs: [s('r--p', 2), s('r-xp', 93, 20), s('r--p', 35, 4), s('r--p', 1), s('rw-p', 1)],
    bss: 0,
    bssRss: 0,
  },
  'libm.so.6': {
    path: `${LIBDIR}/libm.so.6`,
    segs: [s('r--p', 16), s('r-xp', 123, 24), s('r--p', 92, 8), s('r--p', 1), s('rw-p', 1)],
    bss: 0,
    bssRss: 0,
  },
  'libz.so.1': {
    path: `${LIBDIR}/libz.so.1.2.13`,
    segs: [s('r--p', 3), s('r-xp', 19, 8), s('r--p', 7, 2), s('r--p', 1), s('rw-p', 1)],
    bss: 0,
    bssRss: 0,
  },
  'libexpat.so.1': {
    path: `${LIBDIR}/libexpat.so.1.8.10`,
    segs: [s('r--p', 9), s('r-xp', 40, 12), s('r--p', 22, 4), s('r--p', 2), s('rw-p', 1)],
    bss: 0,
    bssRss: 0,
  },
  'libprocps.so.8': {
    path: `${LIBDIR}/libprocps.so.8.0.3`,
    segs: [s('r--p', 4), s('r-xp', 11, 9), s('r--p', 4, 2), s('r--p', 1), s('rw-p', 1)],
    bss: 37,
    bssRss: 2,
  },
  'libsystemd.so.0': {
    path: `${LIBDIR}/libsystemd.so.0.35.0`,
    segs: [s('r--p', 18), s('r-xp', 168, 40), s('r--p', 58, 12), s('r--p', 10), s('rw-p', 1)],
    bss: 0,
    bssRss: 0,
  },
};

const COREUTILS_SMALL = new Set([
  'cat',
  'echo',
  'sleep',
  'true',
  'false',
  'yes',
  'head',
  'tail',
  'wc',
  'env',
  'uname',
  'whoami',
  'id',
  'tee',
  'basename',
  'dirname',
  'touch',
  'mkdir',
  'rmdir',
  'rm',
  'ln',
  'readlink',
  'realpath',
  'nproc',
  'printf',
  'seq',
  'tr',
  'cut',
  'uniq',
  'nice',
  'nohup',
  'timeout',
  'kill',
  'hostname',
  'logger',
  'dmesg',
  'mount',
  'umount',
  'sync',
  'chmod',
  'chown',
]);

const PROFILES: Readonly<Record<string, ExeProfile>> = {
  cat: {
    segs: [s('r--p', 2), s('r-xp', 5), s('r--p', 3), relro(1), s('rw-p', 1)],
    bss: 0,
    bssRss: 0,
    libs: ['libc.so.6'],
    heap: 33,
    anonRegion: 37,
    anon: 11,
  },
  bash: {
    segs: [s('r--p', 47, 44), s('r-xp', 223, 168), s('r--p', 58, 36), relro(4), s('rw-p', 9)],
    bss: 11,
    bssRss: 8,
    libs: ['libtinfo.so.6', 'libc.so.6'],
    heap: 264,
    anonRegion: 41,
    anon: 300,
  },
  dash: {
    segs: [s('r--p', 5), s('r-xp', 20, 18), s('r--p', 5, 4), s('r--p', 1), s('rw-p', 1)],
    bss: 2,
    bssRss: 1,
    libs: ['libc.so.6'],
    heap: 33,
    anonRegion: 37,
    anon: 14,
  },
  busybox: {
    segs: [s('r--p', 1), s('r-xp', 388, 260), s('r--p', 86, 30), s('r--p', 7), s('rw-p', 3)],
    bss: 7,
    bssRss: 3,
    static: true,
    libs: [],
    heap: 34,
    anonRegion: 16,
    anon: 13,
  },
  ls: {
    segs: [s('r--p', 4), s('r-xp', 20, 18), s('r--p', 8, 6), s('r--p', 1), s('rw-p', 1)],
    bss: 2,
    bssRss: 1,
    libs: ['libselinux.so.1', 'libc.so.6', 'libpcre2-8.so.0'],
    heap: 33,
    anonRegion: 39,
    anon: 24,
  },
  ps: {
    segs: [s('r--p', 4), s('r-xp', 18, 14), s('r--p', 9, 5), s('r--p', 1), s('rw-p', 1)],
    bss: 130,
    bssRss: 4,
    libs: ['libprocps.so.8', 'libsystemd.so.0', 'libc.so.6'],
    heap: 33,
    anonRegion: 41,
    anon: 60,
  },
  top: {
    segs: [s('r--p', 5), s('r-xp', 22, 18), s('r--p', 8, 5), s('r--p', 1), s('rw-p', 1)],
    bss: 24,
    bssRss: 6,
    libs: ['libprocps.so.8', 'libtinfo.so.6', 'libc.so.6'],
    heap: 66,
    anonRegion: 41,
    anon: 120,
  },
  python3: {
    segs: [s('r--p', 127, 100), s('r-xp', 683, 420), s('r--p', 588, 240), s('r--p', 1), s('rw-p', 122, 80)],
    bss: 34,
    bssRss: 20,
    libs: ['libm.so.6', 'libz.so.1', 'libexpat.so.1', 'libc.so.6'],
    heap: 1700,
    anonRegion: 300,
    anon: 1800,
  },
  'stress-ng': {
    segs: [s('r--p', 82, 40), s('r-xp', 496, 160), s('r--p', 144, 40), s('r--p', 2), s('rw-p', 4)],
    bss: 64,
    bssRss: 16,
    libs: ['libm.so.6', 'libz.so.1', 'libc.so.6'],
    heap: 66,
    anonRegion: 41,
    anon: 90,
  },
};

const ALIASES: Readonly<Record<string, string>> = { sh: 'dash', 'python3.11': 'python3', python: 'python3', htop: 'top' };

/** FNV-1a of a string (deterministic, no rng draw). */
export function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The layout profile of an executable, by its basename (unknown programs get a coreutils-like shape). */
export function exeProfile(exe: string): ExeProfile {
  const base = exe.slice(exe.lastIndexOf('/') + 1);
  const name = ALIASES[base] ?? base;
  const p = PROFILES[name];
  if (p) return p;
  if (exe.startsWith('/bin/busybox') || base === 'busybox') return PROFILES.busybox;
  const h = fnv(name);
  const small = COREUTILS_SMALL.has(name);
  const text = small ? 5 + (h % 12) : 12 + (h % 90);
  const ro = 2 + ((h >>> 8) % (small ? 4 : 24));
  return {
    segs: [
      s('r--p', 2 + ((h >>> 4) % 3)),
      s('r-xp', text, Math.ceil(text * 0.8)),
      s('r--p', ro, Math.ceil(ro / 2)),
      s('r--p', 1),
      s('rw-p', 1),
    ],
    bss: (h >>> 16) % 3,
    bssRss: (h >>> 16) % 3 ? 1 : 0,
    libs: ['libc.so.6'],
    heap: 33,
    anonRegion: 37,
    anon: 12 + ((h >>> 20) % 24),
  };
}

/** The random bases of one exec (drawn from the machine's seeded rng). */
export interface SpaceLayout {
  exeBase: number;
  brkStart: number;
  mmapBase: number;
  stackEnd: number;
  vvar: number;
}

export interface RandomSource {
  nextU32(): number;
}

/** ASLR for a fresh exec of a program with profile `p`. */
export function randomLayout(p: ExeProfile, rng: RandomSource): SpaceLayout {
  const rnd28 = (): number => (rng.nextU32() & 0xfffffff) * PAGE;
  const exeBase = p.static ? 0x400000 : ELF_ET_DYN_BASE + rnd28();
  const exePages = p.segs.reduce((a, x) => a + x.pages, 0) + p.bss;
  const imageEnd = exeBase + exePages * PAGE;
  // arch_randomize_brk: randomize_page(brk, 1 GiB)
  const brkOff = rng.nextU32() % 0x40000;
  const brkStart = imageEnd + brkOff * PAGE;
  const mmapBase = TASK_SIZE - MMAP_GAP - rnd28();
  // randomize_stack_top: 22 random bits of pages below STACK_TOP
  const stackEnd = TASK_SIZE - (rng.nextU32() & 0x3fffff) * PAGE;
  // vdso_addr(): a page within the PMD above the stack
  const len = (VVAR_PAGES + VDSO_PAGES) * PAGE;
  const end = Math.floor((stackEnd + len + PMD_SIZE - 1) / PMD_SIZE) * PMD_SIZE - len;
  let vvar = stackEnd;
  if (end > stackEnd) vvar = stackEnd + (rng.nextU32() % ((end - stackEnd) / PAGE + 1)) * PAGE;
  return { exeBase, brkStart, mmapBase, stackEnd, vvar };
}

export type VmaKind = 'exe' | 'lib' | 'bss' | 'heap' | 'anon' | 'stack' | 'vvar' | 'vdso';

export interface Vma {
  start: number;
  end: number;
  perm: string;
  /** file offset in bytes */
  off: number;
  /** file-backed: path, else '' */
  path: string;
  /** [heap], [stack], [vvar], [vdso] */
  tag: string;
  kind: VmaKind;
  /** resident pages of the file (shared, shmem-backed rootfs) */
  fileRss: number;
  /** resident anonymous pages */
  anonRss: number;
  swap: number;
}

/** Dynamic sizes and resident anonymous pages of a space, by region. */
export interface SpaceDyn {
  heapPages: number;
  /** anonymous mmap region (loader TLS + malloc mmaps) */
  anonPages: number;
  stackPages: number;
  rss: { data: number; heap: number; anon: number; stack: number };
  swap: { data: number; heap: number; anon: number; stack: number };
}

function segVmas(out: Vma[], base: number, path: string, segs: readonly Seg[], kind: VmaKind, bss: number): number {
  let addr = base;
  let off = 0;
  for (const g of segs) {
    off -= (g.back ?? 0) * PAGE;
    out.push({
      start: addr,
      end: addr + g.pages * PAGE,
      perm: g.perm,
      off,
      path,
      tag: '',
      kind,
      fileRss: g.perm === 'rw-p' ? 0 : g.rss,
      anonRss: 0,
      swap: 0,
    });
    addr += g.pages * PAGE;
    off += g.pages * PAGE;
  }
  if (bss > 0) {
    out.push({
      start: addr,
      end: addr + bss * PAGE,
      perm: 'rw-p',
      off: 0,
      path: '',
      tag: '',
      kind: 'bss',
      fileRss: 0,
      anonRss: 0,
      swap: 0,
    });
    addr += bss * PAGE;
  }
  return addr;
}

function libSpan(l: LibProfile): number {
  return (l.segs.reduce((a, x) => a + x.pages, 0) + l.bss) * PAGE;
}

/** Spreads `n` pages over the given VMAs (in order, up to each one's size) into `field`. */
function spread(vmas: Vma[], n: number, field: 'anonRss' | 'swap'): void {
  let left = n;
  for (const v of vmas) {
    if (left <= 0) break;
    const room = (v.end - v.start) / PAGE - v.anonRss - v.swap;
    const t = Math.min(room, left);
    v[field] += t;
    left -= t;
  }
  if (left > 0 && vmas.length) vmas[vmas.length - 1][field] += left;
}

/** The VMAs of a space, ascending, as /proc/<pid>/maps lists them. */
export function buildVmas(exe: string, p: ExeProfile, l: SpaceLayout, d: SpaceDyn): Vma[] {
  const out: Vma[] = [];
  segVmas(out, l.exeBase, exe, p.segs, 'exe', p.bss);
  const dataVmas = out.filter((v) => v.perm === 'rw-p');
  out.push({
    start: l.brkStart,
    end: l.brkStart + d.heapPages * PAGE,
    perm: 'rw-p',
    off: 0,
    path: '',
    tag: '[heap]',
    kind: 'heap',
    fileRss: 0,
    anonRss: 0,
    swap: 0,
  });
  // libraries top-down from mmap_base: the interpreter first, then DT_NEEDED order
  const libs: Vma[] = [];
  let top = l.mmapBase;
  const order = p.static ? [] : [LD, ...p.libs];
  const placed: { base: number; lib: LibProfile }[] = [];
  for (const name of order) {
    const lib = LIBS[name];
    const base = top - libSpan(lib);
    placed.push({ base, lib });
    top = base;
  }
  const anonStart = top - d.anonPages * PAGE;
  const anon: Vma = { start: anonStart, end: top, perm: 'rw-p', off: 0, path: '', tag: '', kind: 'anon', fileRss: 0, anonRss: 0, swap: 0 };
  for (let i = placed.length - 1; i >= 0; i--)
    segVmas(libs, placed[i].base, placed[i].lib.path, placed[i].lib.segs, 'lib', placed[i].lib.bss);
  if (d.anonPages > 0) out.push(anon);
  for (const v of libs) {
    if (v.kind === 'bss') {
      const lib = placed.find((x) => v.start > x.base && v.start < x.base + libSpan(x.lib));
      v.anonRss = lib ? lib.lib.bssRss : 0;
    }
    out.push(v);
  }
  const stack: Vma = {
    start: l.stackEnd - d.stackPages * PAGE,
    end: l.stackEnd,
    perm: 'rw-p',
    off: 0,
    path: '',
    tag: '[stack]',
    kind: 'stack',
    fileRss: 0,
    anonRss: 0,
    swap: 0,
  };
  out.push(stack);
  out.push({
    start: l.vvar,
    end: l.vvar + VVAR_PAGES * PAGE,
    perm: 'r--p',
    off: 0,
    path: '',
    tag: '[vvar]',
    kind: 'vvar',
    fileRss: 0,
    anonRss: 0,
    swap: 0,
  });
  out.push({
    start: l.vvar + VVAR_PAGES * PAGE,
    end: l.vvar + (VVAR_PAGES + VDSO_PAGES) * PAGE,
    perm: 'r-xp',
    off: 0,
    path: '',
    tag: '[vdso]',
    kind: 'vdso',
    fileRss: 1,
    anonRss: 0,
    swap: 0,
  });
  // exe .bss residency is fixed by the profile; the rest of the anonymous pages by region
  const exeBss = out.find((v) => v.kind === 'bss' && v.start < l.brkStart);
  if (exeBss) exeBss.anonRss = Math.min(p.bssRss, d.rss.data);
  const libBssRss = libs.filter((v) => v.kind === 'bss').reduce((a, v) => a + v.anonRss, 0);
  const libData = libs.filter((v) => v.perm === 'rw-p' && v.kind === 'lib');
  spread([...dataVmas, ...libData], Math.max(0, d.rss.data - (exeBss ? exeBss.anonRss : 0) - libBssRss), 'anonRss');
  spread([out.find((v) => v.kind === 'heap') as Vma], d.rss.heap, 'anonRss');
  if (d.anonPages > 0) spread([anon], d.rss.anon, 'anonRss');
  spread([stack], d.rss.stack, 'anonRss');
  spread([...dataVmas, ...libData], d.swap.data, 'swap');
  spread([out.find((v) => v.kind === 'heap') as Vma], d.swap.heap, 'swap');
  if (d.anonPages > 0) spread([anon], d.swap.anon, 'swap');
  spread([stack], d.swap.stack, 'swap');
  return out;
}

/** Static (profile-fixed) anonymous pages the data region can hold: writable file pages and .bss. */
export function dataCapacity(p: ExeProfile): number {
  let n = p.bss;
  for (const g of p.segs) if (g.perm === 'rw-p') n += g.pages;
  for (const name of p.static ? [] : [LD, ...p.libs]) {
    const lib = LIBS[name];
    n += lib.bss;
    for (const g of lib.segs) if (g.perm === 'rw-p') n += g.pages;
  }
  return n;
}

export interface VmSummary {
  vmPages: number;
  exePages: number;
  libPages: number;
  dataPages: number;
  stackPages: number;
  /** resident pages of file mappings (shmem-backed rootfs), per distinct file */
  fileRss: Record<string, number>;
  /** page-table bytes: PTE pages per touched 2 MiB, PMD pages per touched 1 GiB */
  pteBytes: number;
  vmaCount: number;
}

export function summarize(vmas: readonly Vma[]): VmSummary {
  let vmPages = 0;
  let exePages = 0;
  let execVm = 0;
  let dataPages = 0;
  let stackPages = 0;
  const fileRss: Record<string, number> = {};
  let ptes = 0;
  let pmds = 0;
  let lastPte = -1;
  let lastPmd = -1;
  for (const v of vmas) {
    const pages = (v.end - v.start) / PAGE;
    vmPages += pages;
    if (v.perm === 'r-xp') {
      execVm += pages;
      if (v.kind === 'exe') exePages += pages;
    }
    if (v.kind === 'stack') stackPages += pages;
    else if (v.perm === 'rw-p') dataPages += pages;
    if (v.path && v.fileRss > 0) fileRss[v.path] = (fileRss[v.path] ?? 0) + v.fileRss;
    if (v.kind === 'vvar') continue;
    const a = Math.floor(v.start / PMD_SIZE);
    const b = Math.floor((v.end - 1) / PMD_SIZE);
    ptes += b - a + 1 - (a === lastPte ? 1 : 0);
    lastPte = b;
    const c = Math.floor(v.start / PUD_SIZE);
    const e = Math.floor((v.end - 1) / PUD_SIZE);
    pmds += e - c + 1 - (c === lastPmd ? 1 : 0);
    lastPmd = e;
  }
  return {
    vmPages,
    exePages,
    libPages: execVm - exePages,
    dataPages,
    stackPages,
    fileRss,
    pteBytes: (ptes + pmds) * PAGE,
    vmaCount: vmas.length,
  };
}

/** Heap pages after growing the resident heap to `rss` pages (brk moves in 132 KiB steps). */
export function heapFor(rss: number, base: number): number {
  return Math.max(base, Math.ceil((rss + 1) / HEAP_STEP) * HEAP_STEP);
}
