import { Kernel } from './src/kernel/kernel';
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 's' + i, hostname: 'h' }, { bootEpochMs: 0 });
  const t1 = performance.now();
  new Kernel({ cpus: 2, memoryMb: 512, seed: 's' + i, hostname: 'h' });
  const t2 = performance.now();
  console.log('boot', (t1 - t0).toFixed(2), 'ctor', (t2 - t1).toFixed(2), k.now);
}
import { Sched } from './src/kernel/sched/sched';
const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'x', hostname: 'h' });
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  new Sched(k);
  console.log('sched ctor', (performance.now() - t0).toFixed(2));
}
