/**
 * A serialisable timer queue. Timers are data ({at, kind, arg}); the kernel
 * dispatches each kind to the handler its subsystem registered, so the queue
 * snapshots as JSON and restores exactly.
 */
export interface Timer {
  at: number;
  /** Insertion order, breaks ties deterministically. */
  id: number;
  kind: string;
  arg: number;
}

export interface TimerQueueState {
  nextId: number;
  heap: Timer[];
}

export class TimerQueue {
  private heap: Timer[] = [];
  private nextId = 1;

  get size(): number {
    return this.heap.length;
  }

  add(at: number, kind: string, arg = 0): number {
    const t: Timer = { at, id: this.nextId++, kind, arg };
    this.heap.push(t);
    this.up(this.heap.length - 1);
    return t.id;
  }

  /** Removes all timers of a kind (and arg, when given). */
  cancel(kind: string, arg?: number): void {
    const keep = this.heap.filter((t) => !(t.kind === kind && (arg === undefined || t.arg === arg)));
    if (keep.length !== this.heap.length) {
      this.heap = keep;
      for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.down(i);
    }
  }

  peek(): Timer | undefined {
    return this.heap[0];
  }

  pop(): Timer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop() as Timer;
    if (h.length > 0) {
      h[0] = last;
      this.down(0);
    }
    return top;
  }

  getState(): TimerQueueState {
    return { nextId: this.nextId, heap: this.heap.map((t) => ({ ...t })) };
  }

  setState(s: TimerQueueState): void {
    this.nextId = s.nextId;
    this.heap = s.heap.map((t) => ({ ...t }));
  }

  private less(a: Timer, b: Timer): boolean {
    return a.at < b.at || (a.at === b.at && a.id < b.id);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
