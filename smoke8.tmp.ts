import { Kernel } from './src/kernel/kernel';
const k = Kernel.boot({ cpus: 1, memoryMb: 512, seed: 'sched-spec', hostname: 'h' });
const s = k.sched;
const orig = (s as any).commit.bind(s);
(s as any).commit = (now: number) => { if (now === 6012000000) console.log(new Error().stack); const p = s.tasks().find(t=>t.comm==='x'); if (p) { const t = s.taskInfo(p.pid)!; console.log('commit', now, 'sum', t.sum, 'left', t.prog?.left, 'times', s.taskTimes(p.pid).sum); } orig(now); };
const p = s.spawn(1, { argv: ['/usr/bin/x'], program: [{ op: 'run', ns: 3e9, user: 0.75 }, { op: 'wait' }] });
console.log(k.timers.getState().heap.filter(t=>t.kind.startsWith('sched')));
k.advance(10e9);
console.log(s.taskTimes(p));
