/**
 * Tracing throughput in-process: syscall records expanded into function
 * tracer entries (generated per second), the trace file rendered (formatted
 * lines per second), function_graph likewise, and the cost of a syscall
 * record while tracing is off (what every machine pays).
 */
import { Kernel } from '../src/kernel/kernel';
import type { SyscallRecord } from '../src/kernel/trace/syscall-record';
import { fmt, line, nowMs } from './util';

function entries(k: Kernel): number {
  let n = 0;
  for (let c = 0; c < k.config.cpus; c++) {
    const s = k.trace.cpuStats(c);
    n += s.entries + s.overrun;
  }
  return n;
}

function run(k: Kernel, pid: number, n: number, t0: number): number {
  for (let i = 0; i < n; i++) {
    const rec: SyscallRecord = { name: i % 2 ? 'read' : 'openat', nr: i % 2 ? 0 : 257, args: [3, 0x7ffd1000, 131072, 0, 0, 0], ret: 64, fstype: 'proc', path: '/proc/version', startNs: t0 + i * 20_000, durNs: 15_000 };
    k.trace.syscall(pid, rec);
  }
  return t0 + n * 20_000;
}

export async function main(): Promise<void> {
  console.log('# tracing (function / function_graph tracers, in-process)');
  const k = Kernel.boot({ cpus: 2, memoryMb: 1024, seed: 'bench', hostname: 'kernelab' });
  const pid = k.sched.spawn(1, { path: '/usr/bin/cat', argv: ['cat'] });
  const w = (p: string, d: string): void => k.vfs.writeFile(k.rootCtx(), `/sys/kernel/tracing/${p}`, d);
  let t = k.now + 1000;

  // tracing off: the cost every syscall pays
  const OFF = 200_000;
  let s = nowMs();
  t = run(k, pid, OFF, t);
  line('syscall record with tracing off', fmt((nowMs() - s) / OFF));

  w('buffer_size_kb', '16384');
  for (const tracer of ['function', 'function_graph']) {
    w('current_tracer', tracer);
    w('trace', '');
    const N = 5_000;
    t = run(k, pid, 200, t);
    w('trace', '');
    const before = entries(k);
    s = nowMs();
    t = run(k, pid, N, t);
    const ms = nowMs() - s;
    const made = entries(k) - before;
    line(`${tracer}: entries generated`, `${((made / ms) * 1000).toFixed(0)} /s (${(made / N).toFixed(0)} per syscall)`);
    s = nowMs();
    const text = k.trace.renderTrace();
    const rms = nowMs() - s;
    const lines = text.split('\n').length;
    line(`${tracer}: trace file formatted`, `${((lines / rms) * 1000).toFixed(0)} lines/s (${lines} lines in ${rms.toFixed(1)} ms)`);
  }
  w('current_tracer', 'nop');
}

if (require.main === module) void main();
