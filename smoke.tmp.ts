import { Kernel } from './src/kernel/kernel';
const t0 = performance.now();
const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 's', hostname: 'h' }, { bootEpochMs: Date.UTC(2026,0,1) });
console.log('boot ms', performance.now() - t0, 'now', k.now);
k.advance(20e9);
const r = (p: string) => k.vfs.readFile(k.rootCtx(), p);
for (const p of ['/proc/stat','/proc/loadavg','/proc/uptime','/proc/interrupts','/proc/softirqs','/proc/schedstat','/proc/pressure/cpu','/proc/1/status','/proc/1/stat','/proc/2/stat','/proc/1/sched','/proc/1/limits','/proc/1/io','/proc/1/cmdline','/proc/1/mountinfo','/proc/1/fdinfo/3', '/proc/1/stack','/proc/1/statm']) {
  try { console.log('=== '+p+'\n'+r(p).slice(0,1500)); } catch (e) { console.log('ERR', p, e); }
}
console.log(k.vfs.readdir(k.rootCtx(), '/proc').map(e=>e.name).join(' '));
console.log(k.vfs.readdir(k.rootCtx(), '/proc/1/fd').map(e=>e.name).join(' '));
