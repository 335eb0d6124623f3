/**
 * Kernel modules in-process: `modprobe btrfs` with its dependency chain on a
 * fresh machine (target ≤ 1 ms) and the lsmod render with 100 modules loaded
 * (target ≤ 100 µs; cached between changes, and fresh after a change).
 */
import { Kernel } from '../src/kernel/kernel';
import { lsmod, modprobe } from '../src/kernel/modules/kmod';
import { registry } from '../src/kernel/modules/registry';
import { fmt, line, nowMs, summary } from './util';

const boot = (i: number): Kernel => Kernel.boot({ cpus: 2, memoryMb: 512, seed: `bench-modules-${i}`, hostname: 'kernelab' });

export async function main(): Promise<void> {
  console.log('# kernel modules');
  registry();
  const run = (label: string, withMm: boolean): void => {
    const probe: number[] = [];
    for (let i = 0; i < 220; i++) {
      const k = boot(i);
      // the mm's vmalloc accounting has its own benchmark; this row shows the module subsystem alone
      if (!withMm) (k.mm as unknown as Record<string, unknown>).vmallocAdd = undefined;
      (globalThis as { gc?: () => void }).gc?.();
      const t = nowMs();
      const r = modprobe(k, ['btrfs']);
      const dt = nowMs() - t;
      if (r.exitCode !== 0 || !k.modules.isLoaded('btrfs')) throw new Error(`modprobe btrfs failed: ${r.stderr}`);
      if (i >= 20) probe.push(dt);
    }
    const p = summary(probe);
    line(`modprobe btrfs (7 modules, fresh machine${label}) p50`, fmt(p.p50));
    line(`modprobe btrfs (7 modules, fresh machine${label}) p99`, fmt(p.p99));
  };
  run('', true);
  run(', no mm accounting', false);

  const k = boot(-1);
  for (const m of registry()
    .modules.filter((x) => x.depLine.length === 0)
    .slice(0, 100))
    k.modules.load(m.name);
  if (k.modules.list().length !== 100) throw new Error('expected 100 modules');
  const cached: number[] = [];
  const fresh: number[] = [];
  const first = k.modules.list()[0].name;
  for (let i = 0; i < 2000; i++) {
    let t = nowMs();
    lsmod(k);
    if (i >= 200) cached.push(nowMs() - t);
    k.modules.get(first);
    t = nowMs();
    lsmod(k);
    if (i >= 200) fresh.push(nowMs() - t);
  }
  const c = summary(cached);
  const f = summary(fresh);
  line('lsmod, 100 modules, unchanged state p50', fmt(c.p50));
  line('lsmod, 100 modules, unchanged state p99', fmt(c.p99));
  line('lsmod, 100 modules, after a change p50', fmt(f.p50));
  line('lsmod, 100 modules, after a change p99 (target ≤ 100 µs)', fmt(f.p99));
}

if (require.main === module) void main();
