import type { Kernel } from '../../kernel';
import { bootShell } from '../../shell/testing';

/** stress-ng: real worker tasks of k.sched, memory through k.mm, virtual-time timeout. */

function workers(k: Kernel): { pid: number; comm: string; ppid: number }[] {
  return k.sched
    .tasks()
    .filter((t) => t.comm.startsWith('stress-ng-') && t.state !== 'Z')
    .map((t) => ({ pid: t.pid, comm: t.comm, ppid: t.ppid }));
}

const meminfo = (k: Kernel, key: string): number => {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(k.vfs.readFile(k.rootCtx(), '/proc/meminfo'));
  return Number(m?.[1]);
};

describe('stress-ng', () => {
  it('runs --cpu and --vm workers as tasks that use CPU and memory, then reaps them', () => {
    const { k, shell } = bootShell();
    const committed0 = meminfo(k, 'Committed_AS');
    const avail0 = meminfo(k, 'MemAvailable');
    const script = [
      'stress-ng --cpu 2 --vm 1 --vm-bytes 128M --timeout 10s > /tmp/stress.out &',
      'sleep 2',
      'ls /proc | grep -E "^[0-9]+$" | while read p; do c=$(cat /proc/$p/comm 2>/dev/null); case $c in stress-ng-*) echo "$p $c $(cut -d" " -f14 /proc/$p/stat)";; esac; done > /tmp/a',
      'grep Committed_AS /proc/meminfo > /tmp/mem',
      'sleep 3',
      'ls /proc | grep -E "^[0-9]+$" | while read p; do c=$(cat /proc/$p/comm 2>/dev/null); case $c in stress-ng-*) echo "$p $c $(cut -d" " -f14 /proc/$p/stat)";; esac; done > /tmp/b',
      'wait',
      'cat /tmp/stress.out',
    ].join('\n');
    const r = shell.exec(script);
    expect(r.stderr).toBe('');
    const parse = (path: string): Map<number, { comm: string; utime: number }> =>
      new Map(
        k.vfs
          .readFile(k.rootCtx(), path)
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(' '))
          .map((f) => [Number(f[0]), { comm: f[1], utime: Number(f[2]) }]),
      );
    const a = parse('/tmp/a');
    const b = parse('/tmp/b');
    // the workers are visible in /proc while running
    expect([...a.values()].map((w) => w.comm).sort()).toEqual(['stress-ng-cpu', 'stress-ng-cpu', 'stress-ng-vm']);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    // and consume CPU: utime (clock ticks) grows by about 3 s x 100 Hz per busy worker
    for (const [pid, w] of a) {
      const later = b.get(pid)!;
      expect(later.utime).toBeGreaterThan(w.utime);
      if (w.comm === 'stress-ng-cpu') expect(later.utime - w.utime).toBeGreaterThan(150);
    }
    // --vm raised committed memory by its mapping
    const committedMid = Number(/(\d+) kB/.exec(k.vfs.readFile(k.rootCtx(), '/tmp/mem'))![1]);
    expect(committedMid - committed0).toBeGreaterThan(100 * 1024);
    // the report
    const pid = /\[(\d+)\]/.exec(r.stdout)![1];
    expect(r.stdout).toBe(
      [
        `stress-ng: info:  [${pid}] setting to a 10 second run per stressor`,
        `stress-ng: info:  [${pid}] dispatching hogs: 2 cpu, 1 vm`,
        `stress-ng: info:  [${pid}] successful run completed in 10.00s`,
        '',
      ].join('\n'),
    );
    // gone after the timeout, memory given back
    expect(workers(k)).toEqual([]);
    expect(meminfo(k, 'Committed_AS') - committed0).toBeLessThan(20 * 1024);
    expect(Math.abs(meminfo(k, 'MemAvailable') - avail0)).toBeLessThan(40 * 1024);
  });

  it('prints --metrics-brief from the workers\' CPU time', () => {
    const { shell } = bootShell();
    const r = shell.exec('stress-ng --cpu 1 --io 1 --timeout 5 --metrics-brief');
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n').map((l) => l.replace(/^stress-ng: info: {2}\[\d+\] /, ''));
    expect(lines[0]).toBe('setting to a 5 second run per stressor');
    expect(lines[1]).toBe('dispatching hogs: 1 cpu, 1 io');
    expect(lines[2]).toBe('stressor       bogo ops real time  usr time  sys time   bogo ops/s     bogo ops/s');
    expect(lines[3]).toBe('                          (secs)    (secs)    (secs)   (real time) (usr+sys time)');
    const cpu = lines[4].split(/\s+/);
    expect(cpu[0]).toBe('cpu');
    expect(Number(cpu[2])).toBeCloseTo(5, 1);
    // one busy worker on an otherwise idle 2-CPU machine gets nearly a whole CPU
    expect(Number(cpu[3])).toBeGreaterThan(4.5);
    expect(Number(cpu[1])).toBeGreaterThan(0);
    const io = lines[5].split(/\s+/);
    expect(io[0]).toBe('io');
    expect(Number(io[3]) + Number(io[4])).toBeLessThan(1);
    expect(lines[lines.length - 2]).toBe('successful run completed in 5.00s');
  });

  it('Ctrl-C stops it and still kills the workers', () => {
    const { k, shell } = bootShell();
    const ex = shell.start('stress-ng --cpu 2 --timeout 60');
    for (let i = 0; i < 10_000 && workers(k).length < 2; i++) ex.pump(1);
    const ws = workers(k);
    expect(ws.map((w) => w.comm)).toEqual(['stress-ng-cpu', 'stress-ng-cpu']);
    const t0 = k.sched.taskTimes(ws[0].pid).ut;
    k.advance(2e9);
    expect(k.sched.taskTimes(ws[0].pid).ut - t0).toBeGreaterThan(1.5e9);
    shell.interrupt();
    const r = ex.finish();
    expect(r.status).toBe(130);
    expect(k.now).toBeLessThan(10e9 + 60e9);
    expect(workers(k)).toEqual([]);
    for (const w of ws) expect(k.sched.task(w.pid)).toBeUndefined();
  });

  it('a large --vm makes the kernel reclaim or OOM-kill, and the run still ends cleanly', () => {
    const { k, shell } = bootShell();
    const r = shell.exec('stress-ng --vm 2 --vm-bytes 90% --timeout 3');
    expect(r.stdout).toMatch(/successful run completed in 3\.00s\n$/);
    expect(workers(k)).toEqual([]);
    const vmstat = k.vfs.readFile(k.rootCtx(), '/proc/vmstat');
    const stat = (key: string): number => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(vmstat)?.[1] ?? 0);
    const dmesg = k.printk.visible().map((x) => x.text).join('\n');
    expect(stat('pgscan_kswapd') + stat('pgscan_direct') + stat('oom_kill') + (dmesg.includes('Out of memory') ? 1 : 0)).toBeGreaterThan(0);
  });

  it('restarts a vm worker the OOM killer took (stress_oomable_child), as -v reports', () => {
    const { k, shell } = bootShell();
    const r = shell.exec('stress-ng --vm 2 --vm-bytes 90% --timeout 4 -v');
    expect(r.stdout).toMatch(/stress-ng: debug: \[\d+\] stress-ng-vm: assuming killed by OOM killer, restarting again \(instance [01]\)\n/);
    const kills = Number(/^oom_kill (\d+)$/m.exec(k.vfs.readFile(k.rootCtx(), '/proc/vmstat'))![1]);
    expect(kills).toBeGreaterThan(1);
    expect(r.stdout).toMatch(/successful run completed in 4\.00s\n$/);
    expect(workers(k)).toEqual([]);
  });

  it('rejects bad arguments', () => {
    const { shell } = bootShell();
    expect(shell.exec('stress-ng --bogus').status).toBe(1);
    const r = shell.exec('stress-ng --timeout 1');
    expect(r.stdout).toMatch(/^stress-ng: info: {2}\[\d+\] setting to a 1 second run per stressor\n$/);
    expect(r.stderr).toMatch(/^stress-ng: error: \[\d+\] No stress workers invoked\n$/);
    expect(r.status).toBe(1);
    expect(shell.exec('stress-ng --cpu x').status).toBe(1);
  });
});
