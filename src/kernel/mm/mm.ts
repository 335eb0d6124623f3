import type { Kernel } from '../kernel';
import { PAGE_SIZE } from '../types';

/**
 * Memory management: zones, buddy allocator, slab caches, page cache, swap,
 * reclaim and the OOM killer; also the address spaces of tasks.
 *
 * (Skeleton: the API the rest of the kernel calls is fixed here; the model
 * behind it is filled in by the mm work.)
 */
export interface MmState {
  totalPages: number;
  freePages: number;
  spaces: Record<number, TaskMem>;
}

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
  /** initial resident anonymous pages (heap+stack touched) */
  anonPages?: number;
}

export class Mm {
  private s: MmState;

  constructor(private readonly k: Kernel) {
    const totalPages = Math.floor((k.config.memoryMb * 1024 * 1024) / PAGE_SIZE);
    this.s = { totalPages, freePages: Math.floor(totalPages * 0.9), spaces: {} };
  }

  get totalPages(): number {
    return this.s.totalPages;
  }

  get freePages(): number {
    return this.s.freePages;
  }

  /** exec(): a fresh address space for `pid` (replaces any previous one). */
  createAddressSpace(pid: number, spec: AddressSpaceSpec): void {
    this.exitAddressSpace(pid);
    const anon = spec.anonPages ?? 32;
    this.s.spaces[pid] = emptyMem(anon);
    this.s.freePages -= anon;
  }

  /** fork(): the child shares (copy-on-write) the parent's pages. */
  forkAddressSpace(parentPid: number, childPid: number): void {
    const p = this.s.spaces[parentPid];
    if (!p) return;
    this.s.spaces[childPid] = { ...p };
  }

  /** exit()/exec(): releases the task's pages. */
  exitAddressSpace(pid: number): void {
    const m = this.s.spaces[pid];
    if (!m) return;
    this.s.freePages += m.rssAnonPages;
    delete this.s.spaces[pid];
  }

  /** Anonymous page faults (heap growth, stress-ng --vm): may trigger reclaim or the OOM killer. */
  anonFault(pid: number, pages: number): void {
    const m = this.s.spaces[pid];
    if (!m) return;
    m.rssAnonPages += pages;
    m.vmPages += pages;
    m.hwmPages = Math.max(m.hwmPages, m.rssAnonPages + m.rssFilePages + m.rssShmemPages);
    this.s.freePages -= pages;
  }

  /** Memory of a user task; undefined for kernel threads and unknown pids. */
  taskMem(pid: number): TaskMem | undefined {
    return this.s.spaces[pid];
  }

  getState(): MmState {
    return JSON.parse(JSON.stringify(this.s)) as MmState;
  }

  setState(s: MmState): void {
    this.s = JSON.parse(JSON.stringify(s)) as MmState;
  }
}

function emptyMem(anon: number): TaskMem {
  return {
    vmPages: anon + 2048,
    rssAnonPages: anon,
    rssFilePages: 0,
    rssShmemPages: 0,
    swapPages: 0,
    hwmPages: anon,
    peakPages: anon + 2048,
    dataPages: anon,
    stackPages: 33,
    exePages: 0,
    libPages: 0,
    lockedPages: 0,
    pinnedPages: 0,
    pteBytes: 0,
  };
}
