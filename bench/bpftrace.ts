/**
 * bpftrace on the model: cost of one probe firing through k.probes (target ≤ 1 µs),
 * parse + check of a 50-line program (target ≤ 5 ms), and a machine running a
 * program vs the same machine idle (ratio of throughput).
 */
import { analyse, parse } from '../src/kernel/bpftrace';
import { startRun } from '../src/kernel/bpftrace/service';
import { resolveKernelProbes, kernelTracepointFields } from '../src/kernel/bpftrace/kernel-host';
import { Kernel } from '../src/kernel/kernel';
import { bootShell } from '../src/kernel/shell/testing';
import type { ProbeFiring } from '../src/kernel/trace/probes';
import { fmt, line, nowMs } from './util';

function boot(): Kernel {
  return Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'bench', hostname: 'kernelab' }, { bootEpochMs: 1_767_225_600_000 });
}

function fiftyLines(): string {
  const probes: string[] = ['BEGIN { printf("start\\n"); @start = nsecs; }'];
  for (let i = 0; probes.join('\n').split('\n').length < 48; i++) {
    probes.push(`kprobe:vfs_read /pid > ${i}/ {\n  @reads[comm, ${i}] = count();\n  $x = arg2 * ${i + 1};\n  if ($x > 4096) { @big = hist($x); } else { @small = lhist($x, 0, 4096, 256); }\n}`);
    probes.push(`tracepoint:sched:sched_switch {\n  @sw[args->prev_comm] = count();\n  @lat${i} = avg(nsecs - @start);\n}`);
  }
  probes.push('END { printf("%d\\n", @start); clear(@start); }');
  return probes.join('\n');
}

export async function main(): Promise<void> {
  console.log('# bpftrace');
  await Promise.resolve();

  // 1. firing cost
  const k = boot();
  const h = startRun(k, { program: 'kprobe:vfs_read { @[comm] = count(); }', limits: { totalFirings: 1e9, totalSteps: 1e12 } });
  const comms = ['cat', 'bash', 'sshd', 'systemd'];
  const firings: ProbeFiring[] = comms.map((comm, i) => ({ kind: 'kprobe', name: 'vfs_read', cpu: 0, tid: 100 + i, pid: 100 + i, comm, nsecs: 0, args: [3n, 0n, 4096n], kstack: [] }));
  const N = 200_000;
  for (let i = 0; i < 200_000; i++) k.probes.fire('kprobe', 'vfs_read', () => firings[i & 3]);
  const per: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = nowMs();
    for (let i = 0; i < N; i++) k.probes.fire('kprobe', 'vfs_read', () => firings[i & 3]);
    per.push((nowMs() - t0) / N);
  }
  per.sort((a, b) => a - b);
  line('probe firing `kprobe:vfs_read { @[comm] = count(); }` (≤ 1 µs)', `${fmt(per[0])} best, ${fmt(per[2])} median of 5`);
  const out = h.stop();
  if (!out.stdout.includes('@[cat]: ')) console.log('  (unexpected output)', out.stdout.slice(0, 200));

  // 2. parse + check of a 50-line program
  const src = fiftyLines();
  const lines = src.split('\n').length;
  const opts = { args: [], unsafe: false, resolveProbes: (p: string) => resolveKernelProbes(k, p), tracepointFields: (n: string) => kernelTracepointFields(k, n) };
  for (let i = 0; i < 50; i++) analyse(parse(src).program!, opts);
  const M = 200;
  const pc: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = nowMs();
    for (let i = 0; i < M; i++) {
      const p = parse(src);
      const res = analyse(p.program!, opts);
      if (res.diagnostics.some((d) => d.severity === 'ERROR')) throw new Error(res.diagnostics[0].message);
    }
    pc.push((nowMs() - t0) / M);
  }
  pc.sort((a, b) => a - b);
  line(`parse + check of a ${lines}-line program (≤ 5 ms)`, `${fmt(pc[0])} best, ${fmt(pc[2])} median of 5`);

  // 3. a machine running a program vs idle: shell workload throughput
  const work = (withRun: boolean): number => {
    const { shell, k: kk } = bootShell({ files: { 'f.txt': 'hello\n'.repeat(100) } });
    const run = withRun ? startRun(kk, { program: 'kprobe:vfs_read { @[comm] = count(); } tracepoint:syscalls:sys_enter_* { @s[probe] = count(); } interval:ms:10 { @t = count(); }' }) : null;
    for (let i = 0; i < 20; i++) shell.exec('cat f.txt > /dev/null; sleep 0.05');
    const R = 200;
    const t0 = nowMs();
    for (let i = 0; i < R; i++) shell.exec('cat f.txt > /dev/null; sleep 0.05');
    const rate = R / (nowMs() - t0);
    run?.stop();
    return rate;
  };
  const idle = work(false);
  const busy = work(true);
  line('shell `cat f; sleep 0.05` idle', `${(idle * 1000).toFixed(0)} runs/s`);
  line('same with a bpftrace program attached', `${(busy * 1000).toFixed(0)} runs/s`);
  line('ratio running / idle', (busy / idle).toFixed(2));

  // 4. virtual time with an interval program: k.advance cost
  const adv = (withRun: boolean): number => {
    const kk = boot();
    const run = withRun ? startRun(kk, { program: 'interval:ms:1 { @n = count(); } profile:hz:99 { @[cpu] = count(); }' }) : null;
    const t0 = nowMs();
    for (let i = 0; i < 10; i++) kk.advance(1e9);
    const ms = nowMs() - t0;
    run?.stop();
    return ms / 10;
  };
  const a0 = adv(false);
  const a1 = adv(true);
  line('k.advance(1 s) idle', fmt(a0));
  line('k.advance(1 s) with interval:ms:1 + profile:hz:99', fmt(a1));
}

if (require.main === module) void main();
