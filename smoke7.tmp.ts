import { Kernel } from './src/kernel/kernel';
function scenario(splits: number[]) {
  const k = Kernel.boot({ cpus: 3, memoryMb: 512, seed: 'x', hostname: 'h' });
  const s = k.sched;
  const ops: [number, () => void][] = [
    [4e9, () => { s.spawn(1, { argv: ['/usr/bin/a'], program: [{ op: 'run', ns: 3e9 }, { op: 'sleep', ns: 1e9 }, { op: 'io', ns: 5e8, readBytes: 1 << 20 }], loop: true }); }],
    [4.5e9, () => { for (let i = 0; i < 4; i++) s.spawn(1, { argv: ['/usr/bin/b'], nice: i, program: [{ op: 'run', ns: 7e9 + i }] }); }],
    [6e9, () => { s.spawn(1, { argv: ['/usr/bin/c'], program: [{ op: 'run', ns: -1, cap: 0.3 }] }); }],
    [9e9, () => { const t = s.tasks().find(t => t.comm === 'b')!; s.setPolicy(t.pid, 1, 50); }],
  ];
  const points = [...splits];
  let end = 40e9;
  for (const [at, f] of ops) {
    for (const p of points.filter(p => p < at && p > k.now)) k.advanceTo(p);
    k.advanceTo(at); f();
  }
  for (const p of points.filter(p => p > k.now).sort((a,b)=>a-b)) k.advanceTo(p);
  k.advanceTo(end);
  const st = k.getState();
  return JSON.stringify(st) + JSON.stringify({ sched: st.sched, timers: st.timers.heap.filter(t=>t.kind.startsWith('sched')).sort((a,b)=>a.at-b.at||a.kind.localeCompare(b.kind)).map(t=>[t.at,t.kind,t.arg]) }) + k.vfs.readFile(k.rootCtx(), '/proc/stat') + k.vfs.readFile(k.rootCtx(), '/proc/pressure/cpu');
}
const base = scenario([]);
for (let i = 0; i < 20; i++) {
  const sp = Array.from({ length: 10 }, () => Math.floor(Math.random() * 40e9));
  const r = scenario(sp);
  if (r !== base) { console.log('MISMATCH', sp); 
    for (let j = 0; j < base.length; j++) if (base[j] !== r[j]) { console.log(base.slice(j-300, j+100)); console.log('---'); console.log(r.slice(j-300, j+100)); break; }
    process.exit(1); }
}
console.log('ok');
