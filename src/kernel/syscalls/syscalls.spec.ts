import { KernelError } from '../errors';
import { TaskDeath } from '../faults/contract';
import { pdir, pfile } from '../fs/vnode';
import { Kernel } from '../kernel';
import type { SyscallRecord } from '../trace/syscall-record';
import { SYSCALL_NR } from './nr';
import { READ_CHUNK, Syscalls, utf8Len, type Caller } from './syscalls';

function setup(): { k: Kernel; sys: Syscalls; me: Caller; recs: SyscallRecord[] } {
  const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'sys', hostname: 'vm' }, { bootEpochMs: Date.UTC(2026, 0, 1) });
  const pid = k.sched.spawn(1, { path: '/usr/bin/bash', argv: ['bash'], cwd: '/tmp' });
  const recs: SyscallRecord[] = [];
  jest.spyOn(k.trace, 'syscall').mockImplementation((p, r) => {
    if (p === pid) recs.push(r);
  });
  return { k, sys: new Syscalls(k), me: { pid, uid: 0, gid: 0 }, recs };
}

describe('Syscalls', () => {
  it('knows the x86_64 numbers', () => {
    expect(SYSCALL_NR).toMatchObject({ read: 0, write: 1, close: 3, nanosleep: 35, clone: 56, execve: 59, wait4: 61, kill: 62, exit_group: 231, openat: 257, newfstatat: 262 });
    expect(utf8Len('aé€😀')).toBe(1 + 2 + 3 + 4);
  });

  it('reads a file in 128 KiB reads and accounts them', () => {
    const { k, sys, me, recs } = setup();
    const big = 'x'.repeat(READ_CHUNK + 10);
    k.vfs.writeFile(k.rootCtx(), '/tmp/big', big);
    expect(sys.readFile(me, 'big', '/tmp')).toBe(big);
    expect(recs.map((r) => `${r.name}=${r.ret}`)).toEqual(['openat=3', `read=${READ_CHUNK}`, 'read=10', 'read=0', 'close=0']);
    expect(recs[0]).toMatchObject({ path: 'big', fstype: 'tmpfs' });
    const io = k.sched.taskInfo(me.pid)!.io;
    expect(io[0]).toBe(READ_CHUNK + 10);
    expect(io[2]).toBe(3);
    expect(k.sched.fds(me.pid).some((f) => f.fd === 3)).toBe(false);
  });

  it('writes with O_TRUNC or O_APPEND and records -errno failures', () => {
    const { k, sys, me, recs } = setup();
    sys.writeFile(me, '/tmp/f', '/', 'hello\n');
    sys.writeFile(me, '/tmp/f', '/', 'more\n', { append: true });
    expect(k.vfs.readFile(k.rootCtx(), '/tmp/f')).toBe('hello\nmore\n');
    const opens = recs.filter((r) => r.name === 'openat');
    expect(opens[0].args[2]).toBe(0o1 | 0o100 | 0o1000);
    expect(opens[1].args[2]).toBe(0o1 | 0o100 | 0o2000);
    expect(recs.filter((r) => r.name === 'write').map((r) => r.bytes)).toEqual([6, 5]);
    expect(k.sched.taskInfo(me.pid)!.io[1]).toBe(11);
    expect(() => sys.writeFile(me, '/nope/f', '/', 'x')).toThrow(KernelError);
    expect(recs[recs.length - 1]).toMatchObject({ name: 'openat', ret: -2, path: '/nope/f' });
    expect(() => sys.writeFile(me, '/proc/meminfo', '/', 'x')).toThrow(KernelError);
    expect(recs[recs.length - 1]).toMatchObject({ name: 'openat', ret: -13, fstype: 'proc' });
    // a 0-byte write never reaches a pseudo file's handler (sysctl would reject it)
    expect(() => sys.writeFile(me, '/proc/sys/vm/swappiness', '/', '')).not.toThrow();
    expect(k.vfs.readFile(k.rootCtx(), '/proc/sys/vm/swappiness')).toBe('60\n');
  });

  it('lists a directory with getdents64 and stats with newfstatat', () => {
    const { sys, me, recs } = setup();
    const names = sys.readdir(me, '/etc', '/').map((e) => e.name);
    expect(names).toContain('hostname');
    expect(recs.map((r) => r.name)).toEqual(['openat', 'getdents64', 'getdents64', 'close']);
    expect(recs[0].args[2] & 0o200000).toBeTruthy();
    expect(recs[1].bytes).toBeGreaterThan(24 * names.length);
    expect(recs[2].ret).toBe(0);
    recs.length = 0;
    sys.stat(me, '/proc/self', '/', false);
    expect(recs[0]).toMatchObject({ name: 'newfstatat', ret: 0, fstype: 'proc', args: [-100, recs[0].args[1], recs[0].args[2], 0x100] });
    expect(() => sys.readdir(me, '/etc/hostname', '/')).toThrow('Not a directory');
    expect(recs[recs.length - 1]).toMatchObject({ name: 'openat', ret: -20 });
  });

  it('lets a TaskDeath through without returning from the call', () => {
    const { k, sys, me, recs } = setup();
    const p = k.vfs.resolveParent(k.rootCtx(), '/tmp/m');
    p.dir.mkdir?.(k.rootCtx(), p.name, 0o755);
    k.vfs.mount({ path: '/tmp/m', source: 'none', fstype: 'labfs', options: 'rw', dev: 90, root: pdir({ x: pfile(() => { throw new TaskDeath(11, 'oops'); }) }) });
    expect(() => sys.readFile(me, '/tmp/m/x', '/')).toThrow(TaskDeath);
    // it entered read and never came back: no read, no close recorded; the fd is still open until the task exits
    expect(recs.map((r) => r.name)).toEqual(['openat']);
    expect(k.sched.fds(me.pid).find((f) => f.fd === 3)?.path).toBe('/tmp/m/x');
  });

  it('creates, execs, ends and reaps processes', () => {
    const { k, sys, me, recs } = setup();
    const child = sys.fork(me.pid);
    expect(k.sched.task(child)!.ppid).toBe(me.pid);
    sys.execve(child, '/usr/bin/true', ['true'], []);
    expect(k.sched.task(child)!.comm).toBe('true');
    const all: SyscallRecord[] = [];
    jest.spyOn(k.trace, 'syscall').mockImplementation((_p, r) => {
      all.push(r);
    });
    sys.exitGroup(child, 3);
    const w = sys.wait4(me.pid, child);
    expect(w).toMatchObject({ pid: child, code: 3 });
    expect(recs.find((r) => r.name === 'clone')).toMatchObject({ nr: 56, ret: child });
    expect(all.map((r) => r.name)).toEqual(['exit_group', 'wait4']);
    expect(() => sys.wait4(me.pid, child)).toThrow('No child processes');
    expect(all[all.length - 1]).toMatchObject({ name: 'wait4', ret: -10 });
    k.sched.setThreadsMax(k.sched.allTasks().length);
    expect(() => sys.fork(me.pid)).toThrow('Resource temporarily unavailable');
    expect(all[all.length - 1]).toMatchObject({ name: 'clone', ret: -11 });
  });

  it('lays calls made at one instant end to end and reports sleeps as they were', () => {
    const { k, sys, me, recs } = setup();
    sys.stat(me, '/etc', '/');
    sys.stat(me, '/etc', '/');
    expect(recs[1].startNs).toBe(recs[0].startNs + recs[0].durNs);
    expect(recs[0].startNs).toBeGreaterThanOrEqual(k.now);
    sys.nanosleep(me.pid, 100, 2_000_100);
    expect(recs[2]).toMatchObject({ name: 'nanosleep', startNs: 100, durNs: 2e6, ret: 0 });
  });
});
