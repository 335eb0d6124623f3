import { Kernel } from './src/kernel/kernel';
const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'x', hostname: 'h' });
const mm = k.mm as unknown as Record<string, (...a: unknown[]) => unknown>;
let mmT = 0;
for (const name of ['createAddressSpace']) {
  const orig = mm[name].bind(k.mm);
  mm[name] = (...a: unknown[]) => { const t = performance.now(); const r = orig(...a); mmT += performance.now() - t; return r; };
}
import { Sched } from './src/kernel/sched/sched';
for (let i = 0; i < 20; i++) { mmT = 0; const t0 = performance.now(); new Sched(k); console.log('sched ctor', (performance.now() - t0).toFixed(2), 'mm', mmT.toFixed(2)); }
