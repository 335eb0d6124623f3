/**
 * Analytic CPU sharing between scheduler events.
 *
 * Between two events the set of runnable tasks on a CPU is constant (a
 * "segment"); every counter of that CPU and its tasks is then a pure function
 * of the time elapsed since the segment started. Reads evaluate that function;
 * only events fold it into the committed counters. So reading at any moment
 * never changes state, and advancing in one step or many gives the same
 * state (split invariance), with exact integer nanoseconds.
 */
import { HZ, NSEC_PER_SEC, TICK_NSEC } from '../types';

/** Shares are fixed point with 24 fractional bits. */
export const SHARE_ONE = 1 << 24;

/**
 * floor(a * b / c) for non-negative integers with b, c < 2^29, exact as long
 * as a < 2^53 (a = q*c + r, so a*b/c = q*b + r*b/c with r*b < 2^53).
 */
export function mulDiv(a: number, b: number, c: number): number {
  if (a <= 0 || b <= 0) return 0;
  const q = Math.floor(a / c);
  const r = a - q * c;
  const rb = r * b;
  if (rb < Number.MAX_SAFE_INTEGER) return q * b + Math.floor(rb / c);
  return q * b + Number((BigInt(r) * BigInt(b)) / BigInt(c));
}

/** Share (SHARE_ONE units) of a fraction in [0, 1]. */
export function toShare(frac: number): number {
  if (!(frac > 0)) return 0;
  if (frac >= 1) return SHARE_ONE;
  return Math.floor(frac * SHARE_ONE);
}

/** One runnable foreground task in a segment. */
export interface SegTask {
  pid: number;
  /** fraction of the CPU's task capacity it receives, SHARE_ONE units */
  share: number;
  /** its demand (cap), SHARE_ONE units */
  demand: number;
  /** fraction of its CPU time in user mode, SHARE_ONE units */
  user: number;
  /** its user time counts as "nice" (nice > 0) */
  nice: boolean;
  /** CFS load weight (vruntime scaling); 0 for RT */
  weight: number;
  /** own CPU time per involuntary context switch (0 = never preempted) */
  preemptNs: number;
  /** wall time per voluntary switch of a duty-cycled task (0 = none) */
  dutyNs: number;
}

export interface Seg {
  /** background share of system tasks (kthreads, daemons), SHARE_ONE units of wall time */
  bg: number;
  /** parts of `bg` spent in user mode and in softirq context */
  bgUser: number;
  bgSoft: number;
  /** wall ns per background context switch (0 = none) */
  bgSwitchNs: number;
  tasks: SegTask[];
  /** wall ns per local timer interrupt */
  locNs: number;
  /** per-CPU PSI conditions during the segment */
  cpuSome: boolean;
  ioSome: boolean;
  ioFull: boolean;
  memSome: boolean;
  memFull: boolean;
  nonidle: boolean;
  /** idle time is iowait (some task on this CPU waits for I/O) */
  iowait: boolean;
}

export interface SegEval {
  /** per task CPU time, same order as seg.tasks */
  t: number[];
  user: number;
  nice: number;
  system: number;
  softirq: number;
  idle: number;
  iowait: number;
  /** background CPU time */
  bg: number;
  /** foreground CPU time */
  busy: number;
  loc: number;
  switches: number;
}

/** Task capacity of a CPU over d ns: what background work leaves. */
export function capOf(seg: Seg, d: number): number {
  return d - mulDiv(d, seg.bg, SHARE_ONE);
}

export function taskTime(seg: Seg, i: number, d: number): number {
  return mulDiv(capOf(seg, d), seg.tasks[i].share, SHARE_ONE);
}

export function evalSeg(seg: Seg, d: number): SegEval {
  const cap = capOf(seg, d);
  const bg = d - cap;
  const bgUser = Math.min(mulDiv(d, seg.bgUser, SHARE_ONE), bg);
  const bgSoft = Math.min(mulDiv(d, seg.bgSoft, SHARE_ONE), bg - bgUser);
  const t: number[] = new Array(seg.tasks.length);
  let user = bgUser;
  let nice = 0;
  let system = bg - bgUser - bgSoft;
  let busy = 0;
  let switches = seg.bgSwitchNs > 0 ? Math.floor(d / seg.bgSwitchNs) : 0;
  for (let i = 0; i < seg.tasks.length; i++) {
    const st = seg.tasks[i];
    const ti = mulDiv(cap, st.share, SHARE_ONE);
    t[i] = ti;
    busy += ti;
    const u = mulDiv(ti, st.user, SHARE_ONE);
    if (st.nice) nice += u;
    else user += u;
    system += ti - u;
    if (st.preemptNs > 0) switches += Math.floor(ti / st.preemptNs);
    if (st.dutyNs > 0) switches += Math.floor(d / st.dutyNs);
  }
  const rest = Math.max(0, d - bg - busy);
  return {
    t,
    user,
    nice,
    system,
    softirq: bgSoft,
    idle: seg.iowait ? 0 : rest,
    iowait: seg.iowait ? rest : 0,
    bg,
    busy,
    loc: seg.locNs > 0 ? Math.floor(d / seg.locNs) : 0,
    switches,
  };
}

/** Wall ns per local timer interrupt given the busy fraction and idle wakeups. */
export function locPeriod(busyShare: number, idleHz: number): number {
  const f = busyShare / SHARE_ONE;
  const rate = f * HZ + (1 - f) * idleHz;
  if (rate <= 0) return 0;
  return Math.max(1, Math.round(NSEC_PER_SEC / rate));
}

/**
 * Smallest d >= 1 with taskTime(seg, i, d) >= need, or -1 when the task gets
 * no CPU in this segment.
 */
export function timeToConsume(seg: Seg, i: number, need: number): number {
  if (need <= 0) return 0;
  const share = seg.tasks[i].share;
  if (share <= 0) return -1;
  const frac = (share / SHARE_ONE) * (1 - seg.bg / SHARE_ONE);
  if (!(frac > 0)) return -1;
  const est = Math.max(1, Math.ceil(need / frac));
  let hi = est;
  while (taskTime(seg, i, hi) < need) hi = hi * 2 + 1;
  let lo = Math.max(0, Math.floor(est * (1 - 1e-9)) - 2);
  if (lo >= hi || taskTime(seg, i, lo) >= need) lo = 0;
  // invariant: taskTime(lo) < need <= taskTime(hi)
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (taskTime(seg, i, mid) >= need) hi = mid;
    else lo = mid;
  }
  return hi;
}

/** Effective CFS slice: sched_slice rounded up to ticks (preemption is checked at the tick). */
export function cfsSliceNs(nr: number, weight: number, totalWeight: number, latencyNs: number, minGranNs: number): number {
  const nrLatency = Math.max(1, Math.floor(latencyNs / minGranNs));
  const period = nr > nrLatency ? nr * minGranNs : latencyNs;
  let slice = Math.floor((period * weight) / Math.max(1, totalWeight));
  slice = Math.max(slice, minGranNs);
  return Math.max(TICK_NSEC, Math.ceil(slice / TICK_NSEC) * TICK_NSEC);
}

/**
 * Water-filling: shares of `avail` for tasks with weights and caps, so that
 * every task gets min(cap, its weighted part of what the capped ones leave).
 */
export function waterFill(avail: number, weights: number[], caps: number[]): number[] {
  const n = weights.length;
  const out = new Array<number>(n).fill(0);
  const active: number[] = [];
  for (let i = 0; i < n; i++) active.push(i);
  let remaining = avail;
  for (let round = 0; round < n + 1 && active.length > 0 && remaining > 0; round++) {
    let w = 0;
    for (const i of active) w += weights[i];
    if (w <= 0) break;
    const capped: number[] = [];
    for (const i of active) {
      const fair = mulDiv(remaining, weights[i], w);
      if (fair >= caps[i]) capped.push(i);
    }
    if (capped.length === 0) {
      for (const i of active) out[i] = mulDiv(remaining, weights[i], w);
      return out;
    }
    for (const i of capped) {
      out[i] = caps[i];
      remaining -= caps[i];
      active.splice(active.indexOf(i), 1);
    }
  }
  return out;
}
