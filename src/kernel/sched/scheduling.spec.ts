import * as fc from 'fast-check';
import { Kernel } from '../kernel';
import { FIXED_1, LOAD_FREQ_NS, calcLoad, EXP_1 } from './sched';
import { SCHED_FIFO, SCHED_IDLE, SCHED_PRIO_TO_WEIGHT, SCHED_RR } from './task';
import { TICK_NSEC } from '../types';

const boot = (cpus = 1, seed = 'scheduling'): Kernel => Kernel.boot({ cpus, memoryMb: 512, seed, hostname: 'kernelab' }, { bootEpochMs: 0 });
const hog = (k: Kernel, opts: { nice?: number; cap?: number } = {}): number =>
  k.sched.spawn(1, { argv: ['/usr/bin/stress-ng', '--cpu', '1'], nice: opts.nice, program: [{ op: 'run', ns: -1, cap: opts.cap }] });
const cpuOf = (k: Kernel, pid: number): number => k.sched.taskTimes(pid).sum;

describe('CFS', () => {
  it('shares a CPU in proportion to the nice weights', () => {
    const k = boot(1);
    const nices = [-5, 0, 5, 10];
    const pids = nices.map((n) => hog(k, { nice: n }));
    const t0 = pids.map((p) => cpuOf(k, p));
    k.advance(30e9);
    const got = pids.map((p, i) => cpuOf(k, p) - t0[i]);
    const total = got.reduce((a, b) => a + b, 0);
    const w = nices.map((n) => SCHED_PRIO_TO_WEIGHT[n + 20]);
    const wt = w.reduce((a, b) => a + b, 0);
    got.forEach((g, i) => expect(g / total).toBeCloseTo(w[i] / wt, 3));
    // the CPU is busy but for the background kthreads
    expect(total).toBeGreaterThan(0.995 * 30e9);
    expect(total).toBeLessThanOrEqual(30e9);
  });

  it('SCHED_IDLE tasks only get what others leave', () => {
    const k = boot(1);
    const a = hog(k);
    const b = hog(k);
    k.sched.setPolicy(b, SCHED_IDLE, 0);
    k.advance(10e9);
    expect(cpuOf(k, b) / cpuOf(k, a)).toBeLessThan(0.01);
  });

  it('counts involuntary switches at slice granularity and voluntary ones at sleeps', () => {
    const k = boot(1);
    const a = hog(k);
    const b = hog(k);
    k.advance(1e9);
    const x = k.sched.taskTimes(a);
    // 1 CPU: 6 ms latency / 2 tasks = 3 ms slices, preempted at the next 4 ms tick
    expect(x.niv).toBeGreaterThan(100);
    expect(x.niv).toBeLessThan(130);
    const s = k.sched.spawn(1, { argv: ['/usr/bin/x'], program: [{ op: 'run', ns: 1e6 }, { op: 'sleep', ns: 1e6 }], loop: true });
    k.advance(1e8);
    expect(k.sched.taskTimes(s).nv).toBeGreaterThan(20);
    void b;
  });

  it('a duty-cycled task gets its cap and shows both R and S', () => {
    const k = boot(1);
    const p = hog(k, { cap: 0.3 });
    k.advance(10e9);
    expect(cpuOf(k, p) / 10e9).toBeCloseTo(0.3, 2);
    const states = new Set<string>();
    for (let i = 0; i < 50; i++) {
      k.advance(TICK_NSEC);
      states.add(k.sched.displayState(k.sched.task(p)!));
    }
    expect([...states].sort()).toEqual(['R', 'S']);
  });
});

describe('RT', () => {
  it('SCHED_FIFO preempts CFS, up to the RT throttling limit (95%)', () => {
    const k = boot(1);
    const cfs = hog(k);
    const rt = hog(k);
    k.sched.setPolicy(rt, SCHED_FIFO, 50);
    const c0 = cpuOf(k, cfs);
    const r0 = cpuOf(k, rt);
    k.advance(10e9);
    const r = cpuOf(k, rt) - r0;
    const c = cpuOf(k, cfs) - c0;
    expect(r / (r + c)).toBeCloseTo(0.95, 2);
    // without throttling the CFS task starves
    k.sched.setTunable('rtRuntimeUs', -1);
    const c1 = cpuOf(k, cfs);
    k.advance(5e9);
    expect(cpuOf(k, cfs) - c1).toBe(0);
  });

  it('the highest RT priority runs; equal SCHED_RR tasks share', () => {
    const k = boot(1);
    k.sched.setTunable('rtRuntimeUs', -1);
    const lo = hog(k);
    const hi = hog(k);
    k.sched.setPolicy(lo, SCHED_FIFO, 10);
    k.sched.setPolicy(hi, SCHED_FIFO, 20);
    const l0 = cpuOf(k, lo);
    k.advance(2e9);
    expect(cpuOf(k, lo) - l0).toBe(0);
    const a = hog(k);
    const b = hog(k);
    k.sched.setPolicy(hi, SCHED_FIFO, 10);
    k.sched.setPolicy(a, SCHED_RR, 30);
    k.sched.setPolicy(b, SCHED_RR, 30);
    const a0 = cpuOf(k, a);
    const b0 = cpuOf(k, b);
    k.advance(4e9);
    expect((cpuOf(k, a) - a0) / (cpuOf(k, b) - b0)).toBeCloseTo(1, 3);
    expect(k.sched.taskTimes(a).niv).toBeGreaterThan(10); // 100 ms RR timeslices
  });
});

describe('SMP', () => {
  it('spreads runnable tasks over the CPUs and honours affinity', () => {
    const k = boot(4);
    const pids = [0, 1, 2, 3].map(() => hog(k));
    expect(new Set(pids.map((p) => k.sched.task(p)!.cpu)).size).toBe(4);
    const pinned = hog(k);
    k.sched.setAffinity(pinned, [2]);
    k.advance(5e9);
    expect(k.sched.task(pinned)!.cpu).toBe(2);
    expect(cpuOf(k, pinned) / 5e9).toBeCloseTo(0.5, 1);
  });

  it('three hogs on two CPUs each get about two thirds of a CPU over time', () => {
    const k = boot(2);
    const pids = [0, 1, 2].map(() => hog(k));
    const t0 = pids.map((p) => cpuOf(k, p));
    k.advance(60e9);
    for (const [i, p] of pids.entries()) expect((cpuOf(k, p) - t0[i]) / 60e9).toBeCloseTo(2 / 3, 1);
  });

  it('/proc/stat user time lands on the CPUs the tasks run on', () => {
    const k = boot(2);
    const p = hog(k);
    k.sched.setAffinity(p, [1]);
    k.advance(10e9);
    const [c0, c1] = [0, 1].map((c) => k.sched.cpuTimes(c));
    expect(c1.user).toBeGreaterThan(9.9e9);
    expect(c0.user).toBeLessThan(0.01e9);
    expect(k.sched.cpuLoc(1)).toBeGreaterThan(2400); // 250 Hz while busy
    expect(k.sched.cpuLoc(0)).toBeLessThan(400); // NOHZ idle
  });
});

describe('load average', () => {
  it('samples every LOAD_FREQ with the kernel fixed-point formula', () => {
    const k = boot(2);
    hog(k);
    hog(k);
    k.advanceTo(LOAD_FREQ_NS + 10 * TICK_NSEC - 1);
    expect(k.sched.avenrun[0]).toBe(0);
    k.advanceTo(LOAD_FREQ_NS + 10 * TICK_NSEC);
    expect(k.sched.avenrun[0]).toBe(calcLoad(0, EXP_1, 2 * FIXED_1));
  });

  it('decays monotonically toward the number of runnable + uninterruptible tasks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4 }), (before, running, blocked) => {
        const k = boot(2, `la-${before}-${running}-${blocked}`);
        const pre = Array.from({ length: before }, () => hog(k));
        k.advance(120e9);
        for (const p of pre) k.sched.kill(p, 9);
        for (let i = 0; i < running; i++) hog(k);
        for (let i = 0; i < blocked; i++) k.sched.spawn(1, { argv: ['/usr/bin/dd'], program: [{ op: 'io', ns: 1e12 }] });
        const target = (running + blocked) * FIXED_1;
        let dist = [0, 1, 2].map((i) => Math.abs(k.sched.avenrun[i] - target));
        const dist0 = dist[0];
        for (let step = 0; step < 30; step++) {
          k.advance(LOAD_FREQ_NS);
          const d = [0, 1, 2].map((i) => Math.abs(k.sched.avenrun[i] - target));
          d.forEach((x, i) => expect(x).toBeLessThanOrEqual(dist[i] + 1));
          dist = d;
        }
        // after 150 s the 1-minute average has closed over 90% of the gap (e^-2.5 = 8%)
        expect(Math.abs(k.sched.avenrun[0] - target)).toBeLessThanOrEqual(0.1 * dist0 + 30);
      }),
      { numRuns: 12 },
    );
  });
});

describe('PSI', () => {
  it('reports CPU pressure while tasks wait, and io pressure while they block', () => {
    const k = boot(1);
    hog(k);
    hog(k);
    k.advance(30e9);
    const cpu = k.vfs.readFile(k.rootCtx(), '/proc/pressure/cpu');
    const m = /^some avg10=(\d+)\.(\d+) avg60=\d+\.\d+ avg300=\d+\.\d+ total=(\d+)\n/.exec(cpu)!;
    expect(Number(m[1])).toBeGreaterThan(90);
    expect(Number(m[3])).toBeGreaterThan(29e6);
    expect(cpu).toMatch(/\nfull avg10=0\.00 avg60=0\.00 avg300=0\.00 total=0\n$/);
    const k2 = boot(1);
    k2.sched.spawn(1, { argv: ['/usr/bin/dd'], program: [{ op: 'io', ns: 1e12 }] });
    k2.advance(60e9);
    const io = k2.vfs.readFile(k2.rootCtx(), '/proc/pressure/io');
    expect(io).toMatch(/^some avg10=(9\d|100)\.\d\d .*\nfull avg10=(9\d|100)\.\d\d /);
  });

  it('averages decay once the pressure is gone and the timer stops', () => {
    const k = boot(1);
    const a = hog(k);
    const b = hog(k);
    k.advance(10e9);
    k.sched.kill(a, 9);
    k.sched.kill(b, 9);
    k.advance(600e9);
    expect(k.vfs.readFile(k.rootCtx(), '/proc/pressure/cpu')).toMatch(/^some avg10=0\.00 avg60=0\.00 /);
    expect(k.timers.getState().heap.some((t) => t.kind === 'sched.psi')).toBe(false);
  });
});
