import { Kernel } from './src/kernel/kernel';
const ks: Kernel[] = [];
for (let i = 0; i < 1000; i++) ks.push(Kernel.boot({ cpus: 2, memoryMb: 512, seed: 's' + i, hostname: 'h' }));
for (let round = 0; round < 5; round++) {
  const t0 = process.cpuUsage();
  const w0 = performance.now();
  for (const k of ks) k.advance(1e9);
  const u = process.cpuUsage(t0);
  console.log('1000 machines x 1s: cpu ms', ((u.user + u.system) / 1000).toFixed(1), 'wall', (performance.now() - w0).toFixed(1));
}
const g = global as unknown as { gc?: () => void };
if (g.gc) { g.gc(); }
console.log('heap MB', (process.memoryUsage().heapUsed / 1e6).toFixed(1));
