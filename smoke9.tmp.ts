import { Kernel } from './src/kernel/kernel';
import { renderShowTasks } from './src/kernel/sched/sysrq';
const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'g', hostname: 'h' });
const cat = k.sched.spawn(1, { path: '/usr/bin/cat', argv: ['cat'], program: [{ op: 'run', ns: -1 }] });
k.advance(30e9);
const r = (p: string) => k.vfs.readFile(k.rootCtx(), p);
console.log(r('/sys/kernel/debug/sched/debug').split('\n').slice(0, 60).join('\n'));
console.log(r(`/proc/${cat}/stat`));
console.log(renderShowTasks(k).slice(0, 40).join('\n'));
