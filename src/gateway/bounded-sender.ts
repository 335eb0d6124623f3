/**
 * Delivers a numbered stream to one socket without ever buffering without
 * bound: events wait in a fixed-size queue while the socket's transport buffer
 * is full; when the queue is full, new events are dropped and counted, and the
 * consumer gets one `dropped` report (like the kernel's "LOST N EVENTS")
 * before delivery resumes.
 */
export interface SenderConn {
  /** engine.io packets waiting to be written */
  writeBuffer: unknown[];
  on(event: 'drain', fn: () => void): void;
  off(event: 'drain', fn: () => void): void;
}

export interface DroppedReport {
  sessionId: string;
  stream: string;
  count: number;
  fromSeq: number;
  toSeq: number;
}

export interface SenderOptions {
  /** events queued per subscription while the socket is congested */
  queueMax: number;
  /** engine.io packets buffered before the socket counts as congested */
  highWater: number;
}

export const DEFAULT_SENDER: SenderOptions = { queueMax: 2000, highWater: 256 };

/** A batching subscription: events gathered over one event-loop turn go out as one message. */
export const BATCH_SENDER: SenderOptions & { batchMax: number } = { queueMax: 20_000, highWater: 4, batchMax: 1000 };

export interface BatchOptions {
  /** sends several events as one message */
  emitBatch: (events: unknown[]) => void;
  /** defers a flush to the next turn of the event loop (setImmediate) */
  defer: (fn: () => void) => void;
  batchMax: number;
}

export class BoundedSender<T extends { seq: number }> {
  private queue: T[] = [];
  private dropped: { count: number; fromSeq: number; toSeq: number } | null = null;
  private waiting = false;
  private closed = false;
  private readonly onDrain = (): void => {
    this.waiting = false;
    this.conn.off('drain', this.onDrain);
    this.flush();
  };

  constructor(
    private readonly conn: SenderConn,
    private readonly emitEvent: (e: T) => void,
    private readonly emitDropped: (r: DroppedReport) => void,
    private readonly ids: { sessionId: string; stream: string },
    private readonly opts: SenderOptions = DEFAULT_SENDER,
    private readonly batch?: BatchOptions,
  ) {}

  private deferred = false;

  /** Total events dropped so far. */
  droppedTotal = 0;

  get queued(): number {
    return this.queue.length;
  }

  push(e: T): void {
    if (this.closed) return;
    if (this.queue.length >= this.opts.queueMax) {
      this.droppedTotal++;
      if (this.dropped) this.dropped.toSeq = e.seq;
      else this.dropped = { count: 0, fromSeq: e.seq, toSeq: e.seq };
      this.dropped.count++;
      return;
    }
    this.queue.push(e);
    if (!this.batch) this.flush();
    else if (!this.deferred) {
      // a burst (a command's trace lines arrive in one synchronous run) becomes one message
      this.deferred = true;
      this.batch.defer(() => {
        this.deferred = false;
        this.flush();
      });
    }
  }

  private congested(): boolean {
    return this.conn.writeBuffer.length >= this.opts.highWater;
  }

  private flush(): void {
    if (this.closed || this.waiting) return;
    while (this.queue.length > 0 || this.dropped) {
      if (this.congested()) {
        this.waiting = true;
        this.conn.on('drain', this.onDrain);
        return;
      }
      // queued events precede the drop gap; the report comes when the queue empties
      if (this.queue.length > 1 && this.batch) this.batch.emitBatch(this.queue.splice(0, this.batch.batchMax));
      else if (this.queue.length > 0) this.emitEvent(this.queue.shift() as T);
      else if (this.dropped) {
        const d = this.dropped;
        this.dropped = null;
        this.emitDropped({ ...this.ids, ...d });
      }
    }
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    this.conn.off('drain', this.onDrain);
  }
}
