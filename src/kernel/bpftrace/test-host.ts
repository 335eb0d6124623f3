import { type BpftraceResult, type RunOptions, runBpftrace } from './driver';
import type { ProbeHost } from './runtime';

/** A deterministic host for tests and examples: fixed clock, fixed random sequence. */
export function fakeHost(startNs = 1_000_000_000): ProbeHost & { nowNs: number } {
  let seed = 12345;
  const h = {
    nowNs: startNs,
    now: () => h.nowNs,
    realtimeMs: () => 1_764_200_000_000 + Math.floor(h.nowNs / 1e6),
    rand: () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    },
    emit: () => undefined,
    emitErr: () => undefined,
  };
  return h;
}

/**
 * Runs a program to completion: BEGIN, then interval/profile probes in time order until exit()
 * or `maxFirings`, then stop().
 */
export function runToCompletion(source: string, opts: RunOptions = {}, maxFirings = 1000): BpftraceResult {
  const host = fakeHost();
  const s = runBpftrace(source, opts, host);
  if (!s.ok || s.finished) return s.stop();
  const next = new Map(s.timers.map((t) => [t.name, host.nowNs + t.periodNs]));
  for (let i = 0; i < maxFirings && !s.finished && next.size; i++) {
    let name = '';
    let at = Infinity;
    for (const [n, t] of next) if (t < at) [name, at] = [n, t];
    host.nowNs = at;
    s.fire(name, { pid: 1, tid: 1, comm: 'swapper/0', cpu: 0 });
    next.set(name, at + s.timers.find((t) => t.name === name)!.periodNs);
  }
  return s.stop();
}
