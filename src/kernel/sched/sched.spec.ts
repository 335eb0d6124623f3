import { KernelError } from '../errors';
import { Kernel } from '../kernel';
import { O, SCHED_FIFO, SCHED_IDLE, SCHED_RR } from './task';

const boot = (over: Partial<{ cpus: number; memoryMb: number; seed: string }> = {}): Kernel =>
  Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'sched-spec', hostname: 'kernelab', ...over }, { bootEpochMs: Date.UTC(2026, 0, 1) });
const read = (k: Kernel, p: string): string => k.vfs.readFile(k.rootCtx(), p);
const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof KernelError) return e.code;
    throw e;
  }
  return undefined;
};

describe('boot tasks', () => {
  it('creates a Debian 12 system: systemd, kthreadd, per-CPU kthreads and services', () => {
    const k = boot({ cpus: 4, memoryMb: 1024 });
    const s = k.sched;
    const byComm = (c: string) => s.tasks().filter((t) => t.comm === c);
    expect(s.task(1)).toMatchObject({ comm: 'systemd', ppid: 0, kthread: false, uid: 0 });
    expect(s.task(2)).toMatchObject({ comm: 'kthreadd', ppid: 0, kthread: true });
    for (let c = 0; c < 4; c++) {
      for (const n of ['ksoftirqd', 'migration', 'cpuhp']) {
        const t = byComm(`${n}/${c}`);
        expect(t).toHaveLength(1);
        expect(t[0]).toMatchObject({ cpu: c, ppid: 2, kthread: true });
      }
    }
    for (const n of ['rcu_gp', 'rcu_preempt', 'kdevtmpfs', 'khungtaskd', 'oom_reaper', 'kswapd0', 'kcompactd0', 'writeback', 'kblockd', 'khugepaged']) {
      expect(byComm(n)).toHaveLength(1);
    }
    for (const n of ['systemd-journal', 'systemd-udevd', 'cron', 'sshd', 'dbus-daemon', 'systemd-logind']) {
      const t = byComm(n);
      expect(t).toHaveLength(1);
      expect(t[0]).toMatchObject({ ppid: 1, kthread: false });
    }
    expect(byComm('agetty')).toHaveLength(2);
    expect(byComm('rcu_tasks_kthre')[0].comm).toBe('rcu_tasks_kthre');
    expect(read(k, `/proc/${byComm('rcu_tasks_kthre')[0].pid}/comm`)).toBe('rcu_tasks_kthread\n');
    // migration threads are SCHED_FIFO 99 (prio 0); rescuers are nice -20
    const mig = s.taskInfo(byComm('migration/0')[0].pid)!;
    expect([mig.policy, mig.rtPrio]).toEqual([SCHED_FIFO, 99]);
    expect(s.taskInfo(byComm('rcu_gp')[0].pid)!.nice).toBe(-20);
    // under 512 MiB there is no khugepaged (THP is off)
    expect(boot({ memoryMb: 512 }).sched.tasks().some((t) => t.comm === 'khugepaged')).toBe(false);
  });

  it('counts boot forks in processes and reports the last pid', () => {
    const k = boot();
    const last = k.sched.getLastPid();
    expect(k.sched.forks).toBe(last);
    expect(read(k, '/proc/loadavg')).toMatch(new RegExp(` ${last}\\n$`));
    expect(read(k, '/proc/stat')).toContain(`processes ${last}\n`);
  });

  it('is fully deterministic for a seed and differs across seeds', () => {
    const a = boot({ seed: 'a' });
    const b = boot({ seed: 'a' });
    const c = boot({ seed: 'c' });
    expect(JSON.stringify(a.sched.getState())).toBe(JSON.stringify(b.sched.getState()));
    expect(JSON.stringify(a.sched.getState())).not.toBe(JSON.stringify(c.sched.getState()));
  });
});

describe('pids', () => {
  it('allocates cyclically, wraps to RESERVED_PIDS and never reuses live pids', () => {
    const k = boot();
    const s = k.sched;
    expect(s.getPidMax()).toBe(32768);
    expect(boot({ cpus: 64 }).sched.getPidMax()).toBe(65536);
    s.setPidMax(1000);
    s.setLastPid(997);
    const a = s.fork(1);
    const b = s.fork(1);
    const c = s.fork(1);
    expect([a, b]).toEqual([998, 999]);
    expect(c).toBe(300);
    s.exit(b, 0);
    s.setLastPid(997);
    expect(s.fork(1)).toBe(999);
    expect(code(() => s.setPidMax(300))).toBe('EINVAL');
    expect(code(() => s.setPidMax(4194305))).toBe('EINVAL');
  });

  it('fails with EAGAIN when pids or threads run out', () => {
    const k = boot();
    const s = k.sched;
    s.setPidMax(400);
    let n = 0;
    while (code(() => s.fork(1)) === undefined && n < 1000) n++;
    expect(code(() => s.fork(1))).toBe('EAGAIN');
    const k2 = boot();
    k2.sched.setThreadsMax(k2.sched.nrThreads());
    expect(code(() => k2.sched.fork(1))).toBe('EAGAIN');
  });
});

describe('fork, exec, exit, wait', () => {
  it('forks a child that shares the parent attributes, execs and exits into a zombie until reaped', () => {
    const k = boot();
    const s = k.sched;
    const shell = s.spawn(1, { path: '/usr/bin/bash', argv: ['-bash'], uid: 1000, gid: 1000, cwd: '/home/student', setsid: true, tty: 'pts/0' });
    expect(s.task(shell)).toMatchObject({ comm: 'bash', uid: 1000, ppid: 1, state: 'S' });
    const child = s.fork(shell);
    expect(s.task(child)).toMatchObject({ comm: 'bash', uid: 1000, ppid: shell, tgid: child });
    s.exec(child, '/usr/bin/sleep', ['sleep', '10'], ['PATH=/usr/bin']);
    expect(read(k, `/proc/${child}/cmdline`)).toBe('sleep\x0010\x00');
    expect(read(k, `/proc/${child}/environ`)).toBe('PATH=/usr/bin\x00');
    expect(read(k, `/proc/${child}/comm`)).toBe('sleep\n');
    s.run(child, [{ op: 'sleep', ns: 10e9 }, { op: 'exit', code: 7 }]);
    expect(s.wait(shell)).toBeNull();
    k.advance(10e9 + 1);
    expect(s.task(child)?.state).toBe('Z');
    expect(read(k, `/proc/${child}/status`)).toMatch(/State:\tZ \(zombie\)/);
    expect(read(k, `/proc/${child}/cmdline`)).toBe('');
    expect(s.wait(shell)).toEqual({ pid: child, status: 7 << 8, code: 7, signal: 0 });
    expect(s.task(child)).toBeUndefined();
    expect(code(() => s.wait(shell))).toBe('ECHILD');
    expect(() => read(k, `/proc/${child}/status`)).toThrow();
  });

  it('reparents orphans to init, which reaps them', () => {
    const k = boot();
    const s = k.sched;
    const p = s.spawn(1, { argv: ['/usr/bin/bash'] });
    const c = s.spawn(p, { argv: ['/usr/bin/sleep'], program: [{ op: 'sleep', ns: 1e9 }] });
    s.exit(p, 0);
    expect(s.task(c)?.ppid).toBe(1);
    k.advance(2e9);
    expect(s.task(c)).toBeUndefined();
  });

  it('threads share the thread group; exit_group ends them all', () => {
    const k = boot();
    const s = k.sched;
    const p = s.spawn(1, { argv: ['/usr/bin/stress-ng'] });
    const t1 = s.clone(p, { program: [{ op: 'run', ns: -1 }] });
    const t2 = s.clone(p);
    expect(s.task(t1)).toMatchObject({ tgid: p });
    expect(s.threads(p).map((t) => t.pid)).toEqual([p, t1, t2]);
    expect(read(k, `/proc/${p}/status`)).toMatch(/Threads:\t3/);
    expect(k.vfs.readdir(k.rootCtx(), `/proc/${p}/task`).map((e) => e.name)).toEqual([String(p), String(t1), String(t2)]);
    // a thread is not listed in /proc but can be looked up
    expect(k.vfs.readdir(k.rootCtx(), '/proc').some((e) => e.name === String(t1))).toBe(false);
    expect(read(k, `/proc/${t1}/status`)).toMatch(new RegExp(`Tgid:\\t${p}\\nNgid:\\t0\\nPid:\\t${t1}`));
    s.exit(t2, 0);
    expect(s.threads(p)).toHaveLength(2);
    s.exit(t1, 3, { group: true });
    expect(s.task(t1)).toBeUndefined();
    expect(s.task(p)).toBeUndefined(); // reaped by init
  });

  it('exec kills the other threads and closes close-on-exec files', () => {
    const k = boot();
    const s = k.sched;
    const p = s.spawn(1, { argv: ['/usr/bin/bash'] });
    s.clone(p);
    const keep = s.openFd(p, '/etc/passwd', O.RDONLY);
    const gone = s.openFd(p, '/etc/hosts', O.RDONLY | O.CLOEXEC);
    s.exec(p, '/usr/bin/cat', ['cat']);
    expect(s.threads(p)).toHaveLength(1);
    expect(s.fds(p).map((f) => f.fd)).toContain(keep);
    expect(s.fds(p).map((f) => f.fd)).not.toContain(gone);
  });

  it('emits fork/exec/exit events', () => {
    const k = boot();
    const seen: string[] = [];
    k.sched.events.on('fork', (e) => seen.push(`fork ${e.parent}`));
    k.sched.events.on('exec', (e) => seen.push(`exec ${e.path}`));
    k.sched.events.on('exit', (e) => seen.push(`exit ${e.status}`));
    const p = k.sched.spawn(1, { argv: ['/bin/true'], program: [{ op: 'exit', code: 1 }] });
    expect(p).toBeGreaterThan(0);
    expect(seen).toEqual(['fork 1', 'exec /bin/true', 'exit 256']);
  });

  it('exiting init panics the kernel', () => {
    const k = boot();
    const panics: string[] = [];
    k.events.on('panic', (e) => panics.push(e.message));
    k.sched.exit(1, 0);
    expect(panics[0]).toMatch(/Attempted to kill init! exitcode=0x00000000/);
  });
});

describe('signals', () => {
  it('SIGKILL/SIGTERM/SIGINT terminate, SIGSTOP/SIGCONT stop and resume', () => {
    const k = boot();
    const s = k.sched;
    const sh = s.spawn(1, { argv: ['/usr/bin/bash'] });
    const a = s.spawn(sh, { argv: ['/usr/bin/yes'], program: [{ op: 'run', ns: -1 }] });
    s.kill(a, 19);
    expect(s.task(a)?.state).toBe('T');
    const before = s.taskTimes(a).sum;
    k.advance(1e9);
    expect(s.taskTimes(a).sum).toBe(before);
    s.kill(a, 18);
    expect(s.task(a)?.state).toBe('R');
    k.advance(1e9);
    expect(s.taskTimes(a).sum).toBeGreaterThan(before + 0.9e9);
    s.kill(a, 15);
    expect(s.wait(sh, a)).toEqual({ pid: a, status: 15, code: -1, signal: 15 });
    const b = s.spawn(sh, { argv: ['/usr/bin/yes'], program: [{ op: 'run', ns: -1 }] });
    s.kill(b, 9);
    expect(s.wait(sh)?.signal).toBe(9);
  });

  it('init and kernel threads ignore SIGKILL; daemons exit on SIGTERM; permissions are checked', () => {
    const k = boot();
    const s = k.sched;
    s.kill(1, 9);
    s.kill(2, 9);
    expect(s.task(1)?.state).not.toBe('Z');
    expect(s.task(2)).toBeDefined();
    const cron = s.tasks().find((t) => t.comm === 'cron')!;
    expect(code(() => s.kill(cron.pid, 15, { uid: 1000 }))).toBe('EPERM');
    s.kill(cron.pid, 15);
    expect(s.task(cron.pid)).toBeUndefined();
    expect(code(() => s.kill(99999, 0))).toBe('ESRCH');
    expect(code(() => s.kill(1, 65))).toBe('EINVAL');
    s.kill(1, 0);
  });

  it('signals a process group', () => {
    const k = boot();
    const s = k.sched;
    const sh = s.spawn(1, { argv: ['/usr/bin/bash'], setsid: true });
    const a = s.spawn(sh, { argv: ['/usr/bin/a'], pgid: 0, program: [{ op: 'run', ns: -1 }] });
    const b = s.spawn(sh, { argv: ['/usr/bin/b'], pgid: a, program: [{ op: 'run', ns: -1 }] });
    s.kill(-a, 2);
    expect(s.task(a)?.state).toBe('Z');
    expect(s.task(b)?.state).toBe('Z');
    expect(s.task(sh)?.state).toBe('S');
  });
});

describe('attributes', () => {
  it('nice, policy and affinity are validated', () => {
    const k = boot({ cpus: 4 });
    const s = k.sched;
    const p = s.spawn(1, { argv: ['/usr/bin/x'], uid: 1000 });
    s.setNice(p, 25);
    expect(s.task(p)?.nice).toBe(19);
    expect(code(() => s.setNice(p, 0, { uid: 1000 }))).toBe('EACCES');
    expect(code(() => s.setNice(p, 19, { uid: 1001 }))).toBe('EPERM');
    expect(code(() => s.setPolicy(p, SCHED_FIFO, 0))).toBe('EINVAL');
    expect(code(() => s.setPolicy(p, SCHED_IDLE, 3))).toBe('EINVAL');
    expect(code(() => s.setPolicy(p, 4, 0))).toBe('EINVAL');
    s.setPolicy(p, SCHED_RR, 10);
    expect(read(k, `/proc/${p}/stat`).split(' ').slice(17, 19)).toEqual(['-11', '19']);
    expect(code(() => s.setAffinity(p, []))).toBe('EINVAL');
    expect(code(() => s.setAffinity(p, [9]))).toBe('EINVAL');
    s.setAffinity(p, [2, 3]);
    expect(read(k, `/proc/${p}/status`)).toMatch(/Cpus_allowed:\tc\nCpus_allowed_list:\t2-3\n/);
    const mig = s.tasks().find((t) => t.comm === 'migration/1')!;
    expect(code(() => s.setAffinity(mig.pid, [0]))).toBe('EINVAL');
  });

  it('comm and oom_score_adj are writable through /proc', () => {
    const k = boot();
    const p = k.sched.spawn(1, { argv: ['/usr/bin/x'] });
    k.vfs.writeFile(k.rootCtx(), `/proc/${p}/comm`, 'renamed-process-long\n');
    expect(read(k, `/proc/${p}/comm`)).toBe('renamed-process\n');
    k.vfs.writeFile(k.rootCtx(), `/proc/${p}/oom_score_adj`, '500\n');
    expect(read(k, `/proc/${p}/oom_score_adj`)).toBe('500\n');
    expect(read(k, `/proc/${p}/oom_adj`)).toBe('8\n');
    expect(() => k.vfs.writeFile(k.rootCtx(), `/proc/${p}/oom_score_adj`, '2000\n')).toThrow(KernelError);
  });

  it('credentials show in status and gate the owner-only files', () => {
    const k = boot();
    const p = k.sched.spawn(1, { argv: ['/usr/bin/x'], uid: 1000, gid: 1000, groups: [27, 1000] });
    k.sched.setCreds(p, { euid: 0 });
    expect(read(k, `/proc/${p}/status`)).toMatch(/Uid:\t1000\t0\t1000\t0\nGid:\t1000\t1000\t1000\t1000\nFDSize:\t64\nGroups:\t27 1000 \n/);
    const other = { k, pid: 1, uid: 1001, gid: 1001 };
    expect(() => k.vfs.readFile(other, '/proc/1/environ')).toThrow(KernelError);
    expect(k.vfs.readFile(other, '/proc/1/status')).toMatch(/^Name:\tsystemd\n/);
  });
});

describe('file descriptors', () => {
  it('open/dup/close with the lowest free descriptor, EMFILE and EBADF', () => {
    const k = boot();
    const s = k.sched;
    const p = s.spawn(1, { argv: ['/usr/bin/x'], fds: [{ fd: 0, path: '/dev/null', flags: O.RDONLY }] });
    expect(s.openFd(p, '/etc/passwd')).toBe(1);
    expect(s.openFd(p, '/tmp/out', O.WRONLY | O.CREAT | O.LARGEFILE)).toBe(2);
    expect(s.dupFd(p, 2)).toBe(3);
    expect(s.dupFd(p, 1, 10)).toBe(10);
    s.closeFd(p, 1);
    expect(s.openFd(p, 'socket:', O.RDWR)).toBe(1);
    expect(s.fds(p).map((f) => f.fd)).toEqual([0, 1, 2, 3, 10]);
    expect(code(() => s.closeFd(p, 7))).toBe('EBADF');
    expect(code(() => s.dupFd(p, 7))).toBe('EBADF');
    s.seekFd(p, 2, 4096);
    expect(read(k, `/proc/${p}/fdinfo/2`)).toMatch(/^pos:\t4096\nflags:\t0100101\nmnt_id:\t\d+\nino:\t\d+\n$/);
    expect(k.vfs.resolve(k.rootCtx(), `/proc/${p}/fd/2`, { follow: false }).node).toMatchObject({ type: 'link', mode: 0o300 });
    const link = k.vfs.resolve(k.rootCtx(), `/proc/${p}/fd/1`, { follow: false }).node;
    expect(link.type === 'link' && link.target(k.rootCtx())).toMatch(/^socket:\[\d+\]$/);
    s.setLimit(p, 7, 12, 12);
    let last = -1;
    while (code(() => (last = s.openFd(p, '/a'))) === undefined && last < 100);
    expect(last).toBe(11);
    expect(code(() => s.openFd(p, '/a'))).toBe('EMFILE');
  });

  it('fd directories list the open files', () => {
    const k = boot();
    const names = k.vfs.readdir(k.rootCtx(), '/proc/1/fd').map((e) => e.name);
    expect(names.slice(0, 3)).toEqual(['0', '1', '2']);
    expect(read(k, '/proc/1/fdinfo/0')).toMatch(/^pos:\t0\nflags:\t0100002\n/);
  });
});

describe('workloads', () => {
  it('a run step consumes exactly its CPU time, then the program continues', () => {
    const k = boot({ cpus: 1 });
    const s = k.sched;
    const p = s.spawn(1, { argv: ['/usr/bin/x'], program: [{ op: 'run', ns: 3e9, user: 0.75 }, { op: 'wait' }] });
    k.advance(10e9);
    const t = s.taskTimes(p);
    expect(t.sum).toBe(3e9);
    expect(Math.abs(t.ut - 2.25e9)).toBeLessThanOrEqual(2); // per-segment floors
    expect(t.ut + t.st).toBe(t.sum);
    expect(s.task(p)?.state).toBe('S');
    s.wake(p);
    expect(s.task(p)).toBeUndefined(); // program ended: exit(0), reaped by init
  });

  it('io steps are D state with iowait, counted in procs_blocked and /proc/<pid>/io', () => {
    const k = boot({ cpus: 1 });
    const p = k.sched.spawn(1, { argv: ['/usr/bin/dd'], program: [{ op: 'io', ns: 2e9, readBytes: 1 << 20 }, { op: 'wait' }] });
    k.advance(1e9);
    expect(k.sched.task(p)?.state).toBe('D');
    expect(read(k, '/proc/stat')).toMatch(/procs_blocked 1\n/);
    const iowait = k.sched.cpuTimes(0).iowait;
    expect(iowait).toBeGreaterThan(0.9e9);
    k.advance(2e9);
    expect(read(k, `/proc/${p}/io`)).toMatch(/read_bytes: 1048576\n/);
    expect(read(k, '/proc/stat')).toMatch(/procs_blocked 0\n/);
  });

  it('chargeCpu moves idle time to the task without breaking the per-CPU identity', () => {
    const k = boot({ cpus: 1 });
    const p = k.sched.spawn(1, { argv: ['/usr/bin/ls'] });
    k.advance(1e9);
    const before = k.sched.cpuTimes(0);
    k.sched.chargeCpu(p, 3_000_000, { user: 1 });
    const after = k.sched.cpuTimes(0);
    expect(k.sched.taskTimes(p).ut).toBe(3_000_000);
    expect(after.user - before.user).toBe(3_000_000);
    expect(before.idle - after.idle).toBe(3_000_000);
    const sum = (c: typeof after) => c.user + c.nice + c.system + c.idle + c.iowait + c.irq + c.softirq;
    expect(sum(after)).toBe(k.now);
  });

  it('setTaskState forces R, S, D and T', () => {
    const k = boot();
    const s = k.sched;
    const p = s.spawn(1, { argv: ['/usr/bin/x'] });
    for (const st of ['R', 'D', 'T', 'S'] as const) {
      s.setTaskState(p, st);
      expect(s.task(p)?.state).toBe(st);
    }
  });
});
