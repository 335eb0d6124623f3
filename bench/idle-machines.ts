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
  // one virtual second of idle life for all of them
  for (const m of machines) m.kernel.advance(1e9); // warm-up second (JIT)
  const c0 = process.cpuUsage();
  for (const m of machines) m.kernel.advance(1e9);
  const c = process.cpuUsage(c0);
  line(`CPU to keep ${N} idle machines alive for 1 virtual second`, `${((c.user + c.system) / 1000).toFixed(2)} ms total`);
  if (machines.length !== N) throw new Error('unreachable');
}

if (require.main === module) void main();
