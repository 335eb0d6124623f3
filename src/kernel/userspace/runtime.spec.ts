import { Kernel } from '../kernel';
import { SimMachine } from '../sim-machine';
import type { JournalEntry, MachineSpec, StreamEvent } from '../machine';
import type { ExecOutcome } from './runtime';
import { Userspace } from './runtime';

const boot = (): Kernel => Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'rt', hostname: 'vm' }, { bootEpochMs: Date.UTC(2026, 0, 1) });

describe('Userspace.exec', () => {
  it('runs a pipeline as bash -c and reports its pid and output', () => {
    const k = boot();
    const us = new Userspace(k);
    const o = us.exec({ command: 'cat /proc/meminfo | grep Mem' }, true).runToEnd();
    expect(o.exitCode).toBe(0);
    expect(o.stdout.split('\n').filter(Boolean).map((l) => l.split(':')[0])).toEqual(['MemTotal', 'MemFree', 'MemAvailable']);
    expect(o.stdout).toBe(
      k.vfs
        .readFile(k.rootCtx(), '/proc/meminfo')
        .split('\n')
        .filter((l) => l.includes('Mem'))
        .join('\n') + '\n',
    );
    expect(o.pid).toBeGreaterThan(1);
    expect(o.timedOut).toBe(false);
  });

  it('reports bash exit codes and messages', () => {
    const us = new Userspace(boot());
    const o = us.exec({ command: 'nosuchcmd' }, true).runToEnd();
    expect(o.exitCode).toBe(127);
    expect(o.stderr).toBe('bash: line 1: nosuchcmd: command not found\n');
  });

  it('stops a sleeping command at timeoutMs with exit 124 and moves a manual clock only to the deadline', () => {
    const k = boot();
    const us = new Userspace(k);
    const t0 = k.now;
    const o = us.exec({ command: 'echo start; sleep 100; echo never', timeoutMs: 1500 }, true).runToEnd();
    expect(o.exitCode).toBe(124);
    expect(o.timedOut).toBe(true);
    expect(o.stdout).toBe('start\n');
    expect(k.now - t0).toBe(1.5e9);
    expect(o.durationNs).toBeGreaterThanOrEqual(1.5e9);
  });

  it('times out a CPU-bound loop by its CPU time', () => {
    const us = new Userspace(boot());
    const o = us.exec({ command: 'while :; do :; done', timeoutMs: 50 }, true).runToEnd();
    expect(o.exitCode).toBe(124);
    expect(o.durationNs).toBeGreaterThanOrEqual(50e6);
  });

  it('cuts runaway output at the per-call cap and says so', () => {
    const us = new Userspace(boot());
    const o = us.exec({ command: 'yes' }, true, { maxOutput: 10_000 }).runToEnd();
    expect(o.truncated).toBe(true);
    expect(o.stdout.length).toBeLessThanOrEqual(10_000);
    expect(o.stderr).toMatch(/output truncated/);
  });

  it('passes stdin, env and cwd', () => {
    const us = new Userspace(boot());
    const o = us.exec({ command: 'read a; echo "$a $FOO $(pwd)"', stdin: 'hello\n', env: { FOO: 'bar' }, cwd: '/tmp' }, true).runToEnd();
    expect(o.stdout).toBe('hello bar /tmp\n');
  });

  it('rejects a missing cwd and a bad timeout', () => {
    const us = new Userspace(boot());
    expect(() => us.exec({ command: 'true', cwd: '/nope' }, true)).toThrow(/ENOENT|No such file/);
    expect(() => us.exec({ command: 'true', timeoutMs: 0 }, true)).toThrow(/timeoutMs/);
  });
});

const SPEC: MachineSpec = { cpus: 2, memoryMb: 512, seed: 's', hostname: 'lab', clock: 'manual' };
const deps = () => ({ wallMs: () => Date.UTC(2026, 0, 1) });

describe('SimMachine exec and terminals', () => {
  it('journals exec so a replay reproduces its effects', async () => {
    const m = SimMachine.boot(SPEC, deps(), Date.UTC(2026, 0, 1));
    const journal: JournalEntry[] = [];
    const op = { type: 'exec' as const, command: 'echo 7 > /proc/sys/vm/swappiness; sleep 2; echo done > /tmp/f' };
    const r = await m.apply(op);
    journal.push({ vtimeNs: r.vtimeNs, op });
    expect((r.value as ExecOutcome).exitCode).toBe(0);
    const m2 = SimMachine.boot(SPEC, deps(), Date.UTC(2026, 0, 1));
    await m2.replay(journal);
    expect(await m2.read('/proc/sys/vm/swappiness')).toBe('7\n');
    expect(await m2.read('/tmp/f')).toBe('done\n');
    expect((await m2.info()).uptimeNs).toBe((await m.info()).uptimeNs);
  });

  it('runs an interactive terminal: prompt, echo, output, Ctrl-C, exit', async () => {
    const m = SimMachine.boot(SPEC, deps(), Date.UTC(2026, 0, 1));
    await m.apply({ type: 'tty-open', id: 't1', cols: 80, rows: 24 });
    const events: StreamEvent[] = [];
    const sub = await m.subscribe('terminal:t1', { fromSeq: 1 }, (e) => events.push(e));
    const text = (): string => events.map((e) => (e.data as { data?: string }).data ?? '').join('');
    expect(text()).toBe('root@lab:~# ');
    await m.apply({ type: 'tty-input', id: 't1', data: 'echo hi\r' });
    expect(text()).toBe('root@lab:~# echo hi\r\nhi\r\nroot@lab:~# ');
    await m.apply({ type: 'tty-input', id: 't1', data: 'exit 3\r' });
    expect(events.at(-1)?.data).toEqual({ channel: 'exit', code: 3 });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    sub.close();
    await expect(m.apply({ type: 'tty-input', id: 't1', data: 'x' })).rejects.toThrow(/exited/);
  });

  it('keeps terminals across snapshot/restore and replays typed commands', async () => {
    const m = SimMachine.boot(SPEC, deps(), Date.UTC(2026, 0, 1));
    const journal: JournalEntry[] = [];
    const apply = async (op: Parameters<SimMachine['apply']>[0]): Promise<void> => {
      const r = await m.apply(op);
      journal.push({ vtimeNs: r.vtimeNs, op });
    };
    await apply({ type: 'tty-open', id: 'a', cols: 80, rows: 24 });
    await apply({ type: 'tty-input', id: 'a', data: 'cd /tmp; X=42\r' });
    const snap = await m.snapshot();
    await apply({ type: 'tty-input', id: 'a', data: 'echo $X > x; pwd\r' });
    const m2 = SimMachine.fromSnapshot(snap, deps());
    await m2.replay(journal.slice(2));
    expect(await m2.read('/tmp/x')).toBe('42\n');
    const events: StreamEvent[] = [];
    await m2.subscribe('terminal:a', { fromSeq: 1 }, (e) => events.push(e));
    expect(events.map((e) => (e.data as { data?: string }).data ?? '').join('')).toContain('/tmp\r\nroot@lab:/tmp# ');
  });

  it('limits open terminals per machine', async () => {
    const m = SimMachine.boot(SPEC, deps(), Date.UTC(2026, 0, 1));
    for (let i = 0; i < 8; i++) await m.apply({ type: 'tty-open', id: `t${i}`, cols: 80, rows: 24 });
    await expect(m.apply({ type: 'tty-open', id: 'more', cols: 80, rows: 24 })).rejects.toThrow(/at most 8/);
    await m.apply({ type: 'tty-close', id: 't0' });
    await m.apply({ type: 'tty-open', id: 'more', cols: 80, rows: 24 });
  });
});

describe('endless character devices', () => {
  it('cat /dev/zero writes until its reader stops it, a full pipe stops it like SIGPIPE', () => {
    const us = new Userspace(boot());
    expect(us.exec({ command: 'cat /dev/zero | head -c 5 | wc -c' }, true).runToEnd().stdout).toBe('5\n');
    expect(us.exec({ command: 'cat /dev/zero | tr "\\0" z | head -c 3' }, true).runToEnd().stdout).toBe('zzz');
    // a pipe holds 8 MiB in the model
    expect(us.exec({ command: 'cat /dev/zero | wc -c' }, true).runToEnd().stdout).toBe(`${8 * 1024 * 1024}\n`);
    const r = us.exec({ command: 'head -c 32 /dev/urandom | wc -c; cat /dev/urandom | head -c 16 | wc -c' }, true).runToEnd();
    expect(r.stdout).toBe('32\n16\n');
  });

  it('cat /dev/zero > /dev/null runs until a budget or the timeout ends it', () => {
    const us = new Userspace(boot());
    const r = us.exec({ command: 'cat /dev/zero > /dev/null', timeoutMs: 100 }, true).runToEnd();
    expect([124, 137]).toContain(r.exitCode);
  });
});
