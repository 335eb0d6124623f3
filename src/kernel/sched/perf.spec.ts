/**
 * Cost of the scheduler model: an idle machine must be nearly free to run
 * (budget: 1,000 idle machines advanced by one virtual second in <= 50 ms).
 * The assertions leave 2x headroom for slow CI runners.
 */
import { Kernel } from '../kernel';

const N = 200;

describe('scheduler performance', () => {
  it('idle machines cost a few microseconds per virtual second', () => {
    const ks = Array.from({ length: N }, (_, i) => Kernel.boot({ cpus: 2, memoryMb: 512, seed: `perf-${i}`, hostname: 'kernelab' }));
    for (const k of ks) k.advance(1e9); // warm up
    const seconds = 20;
    const t0 = performance.now();
    for (let s = 0; s < seconds; s++) for (const k of ks) k.advance(1e9);
    const usPerMachineSecond = ((performance.now() - t0) * 1000) / (N * seconds);
    expect(usPerMachineSecond).toBeLessThan(100);
  });

  it('idle machines wake for at most a few timer events per second', () => {
    const k = Kernel.boot({ cpus: 8, memoryMb: 2048, seed: 'perf-timers', hostname: 'kernelab' });
    k.advance(10e9);
    let fired = 0;
    const handlers = (k as unknown as { timerHandlers: Map<string, (k: Kernel, t: unknown) => void> }).timerHandlers;
    for (const [kind, h] of handlers) {
      if (kind.startsWith('sched.')) handlers.set(kind, (kk, t) => (fired++, h(kk, t)));
    }
    k.advance(100e9);
    expect(fired / 100).toBeLessThanOrEqual(1);
  });

  it('busy machines stay event-driven (no per-tick work)', () => {
    const k = Kernel.boot({ cpus: 4, memoryMb: 1024, seed: 'perf-busy', hostname: 'kernelab' });
    for (let i = 0; i < 6; i++) k.sched.spawn(1, { argv: ['/usr/bin/stress-ng'], nice: i, program: [{ op: 'run', ns: -1 }] });
    const t0 = performance.now();
    k.advance(3600e9);
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(k.timers.size).toBeLessThan(20);
  });

  it('reading /proc/stat and a pid status is cheap', () => {
    const k = Kernel.boot({ cpus: 4, memoryMb: 1024, seed: 'perf-read', hostname: 'kernelab' });
    k.advance(60e9);
    const t0 = performance.now();
    for (let i = 0; i < 200; i++) {
      k.vfs.readFile(k.rootCtx(), '/proc/stat');
      k.vfs.readFile(k.rootCtx(), '/proc/1/status');
    }
    expect((performance.now() - t0) / 200).toBeLessThan(5);
  });
});
