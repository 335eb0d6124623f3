/** The server's wall clock, injectable so tests can move time (TTL expiry, idle reaping, sleeping commands). */
export abstract class Clock {
  abstract now(): number;
  /** Runs `fn` once `ms` of this clock's time have passed; returns a cancel function. */
  abstract schedule(ms: number, fn: () => void): () => void;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }

  schedule(ms: number, fn: () => void): () => void {
    if (ms <= 0) {
      const h = setImmediate(fn);
      return () => clearImmediate(h);
    }
    // the server's listeners keep the process alive, not pending machine work
    const h = setTimeout(fn, ms).unref();
    return () => clearTimeout(h);
  }
}

/** A clock tests set and advance by hand; scheduled work runs when advance() passes its time. */
export class FakeClock extends Clock {
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;

  constructor(private t = Date.UTC(2026, 0, 1)) {
    super();
  }
  now(): number {
    return this.t;
  }
  set(ms: number): void {
    this.t = ms;
    this.fire();
  }
  advance(ms: number): void {
    this.t += ms;
    this.fire();
  }

  schedule(ms: number, fn: () => void): () => void {
    if (ms <= 0) {
      // work that only waits for its turn (a command's next slice) runs at once, asynchronously
      const h = setImmediate(fn);
      return () => clearImmediate(h);
    }
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return () => {
      this.timers = this.timers.filter((x) => x.id !== id);
    };
  }

  private fire(): void {
    const due = this.timers.filter((x) => x.at <= this.t).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((x) => x.at > this.t);
    for (const x of due) x.fn();
  }
}
