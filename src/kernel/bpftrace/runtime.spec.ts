import { listProbes, runBpftrace } from './driver';
import { formatInt, parseFormat } from './format';
import { strftime } from './runtime';
import { fakeHost, runToCompletion } from './test-host';

const PROBES = ['kprobe:vfs_read', 'kprobe:vfs_write', 'kprobe:vfs_open', 'kprobe:do_sys_open', 'tracepoint:syscalls:sys_enter_read'];
const ctx = (pid: number, comm: string) => ({ pid, tid: pid, comm, cpu: 1, kstack: ['vfs_read+5', 'ksys_read+103'], argv: [3, 100, 4096] });

describe('driver and evaluator', () => {
  it('expands wildcards, counts attached probes and fires by canonical name', () => {
    const host = fakeHost();
    const s = runBpftrace('k:vfs_* { @[probe, comm] = count(); @b[pid] = sum(arg2); }', { probeList: PROBES }, host);
    expect(s.probes.map((p) => p.name)).toEqual(['kprobe:vfs_read', 'kprobe:vfs_write', 'kprobe:vfs_open']);
    s.fire('kprobe:vfs_read', ctx(10, 'cat'));
    s.fire('kprobe:vfs_read', ctx(10, 'cat'));
    s.fire('kprobe:vfs_write', ctx(11, 'sh'));
    s.fire('kprobe:do_sys_open', ctx(11, 'sh'));
    const r = s.stop();
    expect(r.stdout).toBe('Attaching 3 probes...\n\n\n@[kprobe:vfs_write, sh]: 1\n@[kprobe:vfs_read, cat]: 2\n@b[11]: 4096\n@b[10]: 8192\n');
    expect(r.exitCode).toBe(0);
  });
  it('predicates filter firings; stacks print as bpftrace does', () => {
    const host = fakeHost();
    const s = runBpftrace('kprobe:vfs_read /pid == 10/ { @[kstack] = count(); printf("%s", kstack); }', { probeList: PROBES }, host);
    s.fire('kprobe:vfs_read', ctx(10, 'cat'));
    s.fire('kprobe:vfs_read', ctx(12, 'cat'));
    expect(s.stop().stdout).toBe('Attaching 1 probe...\n\n        vfs_read+5\n        ksys_read+103\n\n\n@[\n    vfs_read+5\n    ksys_read+103\n]: 1\n');
  });
  it('exit() stops the action, END runs, then maps print; later firings are ignored', () => {
    const host = fakeHost();
    const s = runBpftrace('kprobe:vfs_read { @n++; if (@n == 2) { exit(); } @after = @n; } END { printf("bye\\n"); }', { probeList: PROBES }, host);
    for (let i = 0; i < 5; i++) s.fire('kprobe:vfs_read', ctx(1, 'a'));
    expect(s.finished).toBe(true);
    expect(s.result().stdout).toBe('Attaching 2 probes...\nbye\n\n\n@after: 1\n@n: 2\n');
  });
  it('time() and strftime() use the host wall clock in UTC', () => {
    expect(strftime('%Y-%m-%d %H:%M:%S %j %a %b %%', Date.UTC(2026, 10, 26, 23, 35, 38) * 1e6)).toBe('2026-11-26 23:35:38 330 Thu Nov %');
    const r = runToCompletion('BEGIN { time("%H:%M\\n"); printf("%s\\n", strftime("%m/%d/%y", nsecs)); exit(); }');
    expect(r.stdout).toMatch(/^Attaching 1 probe...\n\d\d:\d\d\n\d\d\/\d\d\/\d\d\n\n\n$/);
  });
  it('rand, elapsed and positional parameters come from the host and options', () => {
    const r = runToCompletion('BEGIN { printf("%d %d %d\\n", rand > 0, elapsed, $1 + $2); exit(); }', { args: ['40', '2'] });
    expect(r.stdout).toBe('Attaching 1 probe...\n1 0 42\n\n\n');
  });
  it('printf helpers: 32-bit reads without length modifier', () => {
    const spec = parseFormat('%d').parts[0].spec!;
    expect(formatInt(5000000000n, spec)).toBe('705032704');
    expect(formatInt(-1n, parseFormat('%u').parts[0].spec!)).toBe('4294967295');
    expect(formatInt(-1n, parseFormat('%lu').parts[0].spec!)).toBe('18446744073709551615');
  });
  it('lists probes like bpftrace -l', () => {
    expect(listProbes(PROBES, 'kprobe:vfs_*')).toBe('kprobe:vfs_read\nkprobe:vfs_write\nkprobe:vfs_open\n');
    expect(listProbes(PROBES, 't:syscalls:*')).toBe('tracepoint:syscalls:sys_enter_read\n');
    expect(listProbes(PROBES, 'do_sys')).toBe('kprobe:do_sys_open\n');
    expect(listProbes(PROBES).split('\n').length).toBe(PROBES.length + 1);
  });
  it('tracepoint args fields come from the firing context', () => {
    const host = fakeHost();
    const s = runBpftrace('tracepoint:syscalls:sys_enter_read { @[args->fd] = count(); }', { probeList: PROBES }, host);
    s.fire('tracepoint:syscalls:sys_enter_read', { pid: 5, tid: 5, comm: 'x', args: { fd: 3 } });
    expect(s.stop().stdout).toBe('Attaching 1 probe...\n\n\n@[3]: 1\n');
  });
});
