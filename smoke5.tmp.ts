import { Kernel } from './src/kernel/kernel';
const ks: Kernel[] = [];
for (let i = 0; i < 300; i++) ks.push(Kernel.boot({ cpus: 2, memoryMb: 512, seed: 's' + i, hostname: 'h' }));
const cost: Record<string, [number, number]> = {};
for (const k of ks) {
  const hs = (k as unknown as { timerHandlers: Map<string, (k: Kernel, t: unknown) => void> }).timerHandlers;
  for (const [kind, h] of hs) hs.set(kind, (kk, t) => { const t0 = performance.now(); h(kk, t); const c = (cost[kind] ??= [0, 0]); c[0] += performance.now() - t0; c[1]++; });
}
const t0 = performance.now();
for (let s = 0; s < 20; s++) for (const k of ks) k.advance(1e9);
console.log('total ms per machine-sec', ((performance.now() - t0) / 300 / 20 * 1000).toFixed(1), 'us');
for (const [k, [ms, n]] of Object.entries(cost)) console.log(k, 'calls/machine-sec', (n / 300 / 20).toFixed(2), 'us/call', (ms / n * 1000).toFixed(1));
