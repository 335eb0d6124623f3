/** The server's wall clock, injectable so tests can move time (TTL expiry, idle reaping). */
export abstract class Clock {
  abstract now(): number;
}

export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }
}

/** A clock tests set and advance by hand. */
export class FakeClock extends Clock {
  constructor(private t = Date.UTC(2026, 0, 1)) {
    super();
  }
  now(): number {
    return this.t;
  }
  set(ms: number): void {
    this.t = ms;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
