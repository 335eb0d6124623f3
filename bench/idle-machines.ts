/**
 * Idle machines: heap/RSS per machine with 1,000 live sim machines (target
 * ≥ 1,000 per GiB of RSS), and the CPU cost of keeping them alive for one
 * virtual second (target ≤ 50 ms total).
 */
import { SimMachine } from '../src/kernel/sim-machine';
import { line } from './util';

const N = Number(process.env.BENCH_MACHINES ?? 1000);

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

export async function main(): Promise<void> {
  console.log(`# idle machines (N=${N})`);
  gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = process.cpuUsage();
  const machines: SimMachine[] = [];
  for (let i = 0; i < N; i++) {
    machines.push(SimMachine.boot({ cpus: 2, memoryMb: 2048, seed: `idle-${i}`, hostname: 'kernelab', clock: 'manual' }, { wallMs: () => 0 }));
  }
  const boot = process.cpuUsage(t0);
  gc();
  const rss1 = process.memoryUsage().rss;
  const heap1 = process.memoryUsage().heapUsed;
  const rssPer = (rss1 - rss0) / N;
  const heapPer = (heap1 - heap0) / N;
  line('boot CPU per machine', `${((boot.user + boot.system) / 1000 / N).toFixed(3)} ms`);
  line('RSS per idle machine', `${(rssPer / 1024).toFixed(1)} KiB   (${Math.floor(2 ** 30 / Math.max(1, rssPer))} machines per GiB of RSS)`);
  line('heap per idle machine', `${(heapPer / 1024).toFixed(1)} KiB`);
  const cpuMs = (f: () => void): number => {
    const c0 = process.cpuUsage();
    f();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  // right after boot the machines still settle (daemons start, timers arm): report it apart from the idle steady state
  const first = cpuMs(() => machines.forEach((m) => m.kernel.advance(1e9)));
  line(`CPU for the 1st virtual second after boot, ${N} machines`, `${first.toFixed(2)} ms total`);
  for (let s = 0; s < 9; s++) machines.forEach((m) => m.kernel.advance(1e9));
  const seconds = 10;
  const steady = cpuMs(() => {
    for (let s = 0; s < seconds; s++) machines.forEach((m) => m.kernel.advance(1e9));
  });
  line(`CPU to keep ${N} idle machines alive for 1 virtual second`, `${(steady / seconds).toFixed(2)} ms total (mean of ${seconds} s after 10 s uptime; target ≤ 50 ms)`);
  if (machines.length !== N) throw new Error('unreachable');
}

if (require.main === module) void main();
