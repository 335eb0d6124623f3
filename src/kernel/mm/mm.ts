import type { Kernel } from '../kernel';
import { PAGE_SIZE } from '../types';

/**
 * Memory management. (Skeleton: zones, buddy allocator, slab caches, page
 * cache, swap, reclaim and the OOM killer live here.)
 */
export interface MmState {
  totalPages: number;
  freePages: number;
}

export class Mm {
  private s: MmState;

  constructor(private readonly k: Kernel) {
    const totalPages = Math.floor((k.config.memoryMb * 1024 * 1024) / PAGE_SIZE);
    this.s = { totalPages, freePages: Math.floor(totalPages * 0.9) };
  }

  get totalPages(): number {
    return this.s.totalPages;
  }

  get freePages(): number {
    return this.s.freePages;
  }

  getState(): MmState {
    return { ...this.s };
  }

  setState(s: MmState): void {
    this.s = { ...s };
  }
}
