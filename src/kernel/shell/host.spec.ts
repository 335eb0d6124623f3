import { Kernel } from '../kernel';
import { TaskDeath } from '../faults/contract';
import { pdir, pfile } from '../fs/vnode';
import type { SyscallRecord } from '../trace/syscall-record';
import { createShell } from './index';
import { TEST_BOOT_EPOCH_MS, bootShell } from './testing';

/** field N (1-based, as proc(5) numbers them) of /proc/<pid>/stat */
function statField(stat: string, n: number): string {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  return n === 1 ? stat.split(' ')[0] : n === 2 ? stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) : rest[n - 3];
}

function userShell(uid = 1000): ReturnType<typeof createShell> & { k: Kernel } {
  const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'test', hostname: 'vm' }, { bootEpochMs: TEST_BOOT_EPOCH_MS });
  return { k, ...createShell(k, { cwd: '/tmp', host: { uid, gid: uid } }) };
}

/** a filesystem whose file kills the task reading it, like a module's oopsing read handler */
function mountOops(k: Kernel, sig = 11): void {
  const p = k.vfs.resolveParent(k.rootCtx(), '/tmp/w/oops');
  p.dir.mkdir?.(k.rootCtx(), p.name, 0o755);
  k.vfs.mount({
    path: '/tmp/w/oops',
    source: 'none',
    fstype: 'labfs',
    options: 'rw',
    dev: 77,
    root: pdir({
      crash: pfile(() => {
        throw new TaskDeath(sig, 'Oops');
      }),
    }),
  });
}

describe('shell commands are tasks of the kernel', () => {
  it('runs each command as a child task of the shell: comm, ppid, /proc/self', () => {
    const { shell, k } = bootShell();
    const sh = shell.pid;
    expect(k.sched.task(sh)).toMatchObject({ comm: 'bash', ppid: 1 });
    const stat = shell.exec('cat /proc/self/stat').stdout;
    const pid = Number(statField(stat, 1));
    expect(statField(stat, 2)).toBe('cat');
    expect(Number(statField(stat, 4))).toBe(sh);
    expect(pid).toBeGreaterThan(sh);
    // the task is gone (reaped) once the command ended
    expect(k.sched.task(pid)).toBeUndefined();
    // readlink /proc/self names the reading task, $$ the shell, $BASHPID the subshell
    const r = shell.exec('echo $$ $BASHPID; (echo $BASHPID; readlink /proc/self); readlink /proc/self').stdout.split('\n');
    expect(r[0]).toBe(`${sh} ${sh}`);
    const sub = Number(r[1]);
    expect(sub).toBeGreaterThan(pid);
    // the last command of a subshell runs in place of it (exec), like bash
    expect(Number(r[2])).toBe(sub);
    expect(Number(r[3])).toBeGreaterThan(sub);
    // /proc/<pid>/cmdline and the exe of a running command
    expect(shell.exec('cat /proc/self/cmdline | tr "\\0" " "; echo; readlink /proc/self/exe').stdout).toBe('cat /proc/self/cmdline \n/usr/bin/readlink\n');
    // a redirection is opened by the forked shell before it execs the command: /proc/self is still bash
    expect(shell.exec('tr "\\0" " " < /proc/self/comm').stdout).toBe('bash\n');
  });

  it('forks every pipeline stage before the first runs, so a stage sees the others', () => {
    const { shell, k } = bootShell();
    const sh = shell.pid;
    const out = shell.exec('ls /proc | grep -E "^[0-9]+$" | sort -n | tail -4; echo; cat /proc/self/stat | cut -d" " -f1-4').stdout;
    const [listing, stage] = out.split('\n\n');
    const pids = listing.trim().split('\n').map(Number);
    // ls itself and the three stages after it (forked, not yet run)
    expect(pids).toHaveLength(4);
    expect(pids[0]).toBeGreaterThan(sh);
    expect(pids[3] - pids[0]).toBe(3);
    const [pid, comm, , ppid] = stage.trim().split(' ');
    expect(comm).toBe('(cat)');
    expect(Number(ppid)).toBe(sh);
    expect(Number(pid)).toBeGreaterThan(pids[3]);
    expect(k.sched.children(sh)).toEqual([]);
    // stages running a tool with plain arguments have exec'd it already (ps aux | grep x shows the grep)
    const cmdlines = shell.exec('{ for i in 1 2 3; do tr "\\0" " " < /proc/$((BASHPID+i))/cmdline; echo; done; } | grep "^" | tail -n 5 | cat').stdout;
    expect(cmdlines).toBe('grep ^ \ntail -n 5 \ncat \n');
  });

  it('reaps every child: pipelines, subshells, substitutions, scripts, background jobs', () => {
    const { shell, k, host } = bootShell();
    const base = k.sched.tasks().length;
    const zombies = (): number => k.sched.tasks().filter((t) => t.state === 'Z').length;
    shell.exec('true | cat | wc -l; (cd /; ls >/dev/null); x=$(cat /etc/hostname); echo "echo s" > s.sh; bash s.sh; sh -c "exit 3"; sleep 1 & sleep 2 & wait');
    expect(zombies()).toBe(0);
    expect(k.sched.tasks().length).toBe(base);
    expect(host.ownPids()).toEqual([shell.pid]);
    // a job killed by a signal is reaped too, and the sched saw the signal
    const exits: { pid: number; status: number }[] = [];
    k.sched.events.on('exit', (e) => exits.push(e));
    const r = shell.exec('sleep 100 & kill -9 $!; wait $!; echo $?');
    expect(r.stdout).toBe('137\n');
    expect(exits.some((e) => e.status === 9)).toBe(true);
    expect(k.sched.tasks().length).toBe(base);
    expect(zombies()).toBe(0);
  });

  it('charges CPU time to the commands and folds it into the shell cutime when reaped', () => {
    const { shell, k } = bootShell();
    const sh = shell.pid;
    const cutime = (): number => k.sched.taskInfo(sh)!.cutime;
    expect(cutime()).toBe(0);
    shell.exec('cat /etc/hostname >/dev/null');
    const one = cutime();
    expect(one).toBeGreaterThan(0);
    // a busy subshell: 2 µs per evaluation step, a few steps per iteration
    shell.exec('(i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done)');
    expect(cutime() - one).toBeGreaterThan(50e6);
    // /proc/<shell>/stat field 16 (cutime) in clock ticks
    const ticks = Number(statField(shell.exec('cat /proc/$$/stat').stdout, 16));
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(k.sched.taskInfo(sh)!.cutime / 1e7) - 1);
    expect(ticks).toBeGreaterThan(0);
  });

  it('keeps the shell cwd of the task in step with cd (/proc/<pid>/cwd)', () => {
    const { shell } = bootShell();
    expect(shell.exec('cd /etc; readlink /proc/$$/cwd; readlink /proc/self/cwd').stdout).toBe('/etc\n/etc\n');
  });

  it('gives a terminal shell its tty and session', () => {
    const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'test', hostname: 'vm' }, { bootEpochMs: TEST_BOOT_EPOCH_MS });
    const { shell } = createShell(k, { mode: 'interactive', host: { tty: 'pts/0', parentPid: 349 } });
    const t = k.sched.task(shell.pid)!;
    expect(t.ppid).toBe(349);
    expect(k.sched.proc(shell.pid)!.tty).toBe('pts/0');
    expect(k.sched.taskInfo(shell.pid)!.sid).toBe(shell.pid);
    expect(shell.exec('ls -l /proc/$$/fd | grep -c pts/0; readlink /proc/$$/fd/255').stdout).toBe('4\n/dev/pts/0\n');
    // a command run from it inherits the terminal
    expect(shell.exec('ls -l /proc/self/fd/0 | sed "s/.*-> //"').stdout).toBe('/dev/pts/0\n');
  });

  it('ends the shell process on terminate()', () => {
    const { shell, k } = bootShell();
    shell.exec('sleep 50 &');
    const pid = shell.pid;
    const base = k.sched.tasks().length;
    shell.terminate();
    expect(k.sched.task(pid)).toBeUndefined();
    expect(k.sched.tasks().length).toBe(base - 2);
  });
});

describe('ulimit and fork failures', () => {
  it('reads and sets the shell task limits', () => {
    const { shell, k } = bootShell();
    const r = shell.exec('ulimit -n; ulimit -s; ulimit -u; ulimit -Hn; ulimit -c');
    const nproc = k.sched.proc(shell.pid)!.limits[6][0];
    expect(r.stdout).toBe(`1024\n8192\n${nproc}\n524288\n0\n`);
    expect(shell.exec('ulimit -n 256; ulimit -n; cat /proc/self/limits | grep "open files"').stdout).toBe(
      '256\nMax open files            256                  256                  files     \n',
    );
    expect(shell.exec('ulimit -s unlimited; ulimit -s; (ulimit -s 1024; ulimit -s); ulimit -s').stdout).toBe('unlimited\n1024\nunlimited\n');
    const a = shell.exec('ulimit -a').stdout.split('\n');
    expect(a[0]).toBe('real-time non-blocking time  (microseconds, -R) unlimited');
    expect(a[1]).toBe('core file size              (blocks, -c) 0');
    expect(a[8]).toBe('open files                          (-n) 256');
    expect(a[14]).toBe(`max user processes                  (-u) ${nproc}`);
    expect(shell.exec('ulimit -n abc').stderr).toBe('bash: line 1: ulimit: abc: invalid number\n');
  });

  it('refuses to raise a hard limit without privilege', () => {
    const { shell } = userShell();
    const r = shell.exec('ulimit -n 100; ulimit -n 200; echo $?; ulimit -n');
    expect(r.stderr).toBe('bash: line 1: ulimit: open files: cannot modify limit: Operation not permitted\n');
    expect(r.stdout).toBe('1\n100\n');
  });

  it('fails a fork past RLIMIT_NPROC like bash: retries, then gives up with status 254', () => {
    const { shell, k } = userShell();
    const t0 = k.now;
    const r = shell.exec('ulimit -u 3; sleep 100 & sleep 100 & sleep 100 & echo never');
    expect(r.stderr).toBe('bash: fork: retry: Resource temporarily unavailable\n'.repeat(4) + 'bash: fork: Resource temporarily unavailable\n');
    expect(r.stdout).toBe('');
    expect(r.status).toBe(254);
    // it slept 1 + 2 + 4 + 8 seconds between the attempts
    expect(k.now - t0).toBe(15e9);
  });

  it('succeeds on a retry once a child has exited', () => {
    const { shell, k } = userShell();
    const t0 = k.now;
    const r = shell.exec('ulimit -u 3; for i in 1 2 3 4; do sleep 1 & done; wait; echo ok');
    expect(r.stdout).toBe('ok\n');
    expect(r.stderr).toMatch(/^(bash: fork: retry: Resource temporarily unavailable\n)+$/);
    expect(k.now - t0).toBeLessThan(10e9);
  });

  it('fails a command cleanly when threads-max is reached', () => {
    const { shell, k } = bootShell();
    k.sched.setThreadsMax(k.sched.allTasks().length);
    const r = shell.exec('echo a; cat /etc/hostname; echo b');
    expect(r.stdout).toBe('a\n');
    expect(r.stderr.split('\n').slice(-2)).toEqual(['bash: fork: Resource temporarily unavailable', '']);
    expect(r.status).toBe(254);
    k.sched.setThreadsMax(10000);
    shell.exited = null;
    expect(shell.exec('cat /etc/hostname').stdout).toBe('vm\n');
  });

  it('ends a fork bomb and cleans up its tasks', () => {
    const { shell, k } = bootShell();
    const base = k.sched.tasks().length;
    // bounded by the background fork budget (maxBgForks): it ends within the test timeout
    const r = shell.exec(':(){ :|:& };:');
    expect(r.stderr).toMatch(/bash: fork: (retry: )?Resource temporarily unavailable\n/);
    expect(r.status).toBeGreaterThanOrEqual(0);
    expect(r.status).toBeLessThanOrEqual(255);
    // whatever is still running is killed, and nothing is left behind
    shell.exec('kill -9 $(jobs -p) 2>/dev/null; wait');
    expect(shell.exec('echo alive').stdout).toBe('alive\n');
    expect(k.sched.tasks().filter((x) => x.state === 'Z')).toEqual([]);
    expect(k.sched.tasks().length).toBe(base);
  });

  it('never lets a failing spawn escape the evaluator', () => {
    const { shell, host } = bootShell();
    const spawn = host.spawn.bind(host);
    host.spawn = () => {
      throw new Error('boom');
    };
    const r = shell.exec('cat /etc/hostname; echo after');
    expect(r).toMatchObject({ status: 254, done: true, stdout: '', stderr: 'bash: fork: boom\n' });
    expect(shell.exec('(echo sub) | cat; x=$(echo y); echo $x')).toMatchObject({ status: 254, done: true });
    host.spawn = spawn;
    expect(shell.exec('cat /etc/hostname').stdout).toBe('vm\n');
  });
});

describe('a task the kernel kills in a system call', () => {
  it('dies by the signal: status 128+sig, bash names it, the shell goes on', () => {
    const { shell, k } = bootShell();
    mountOops(k);
    const exits: { pid: number; status: number }[] = [];
    k.sched.events.on('exit', (e) => exits.push(e));
    const r = shell.exec('cat oops/crash; echo $?');
    const died = exits.find((e) => e.status === 11);
    expect(died).toBeDefined();
    expect(r.stdout).toBe('139\n');
    expect(r.stderr).toBe(`bash: line 1: ${String(died!.pid).padStart(5)} Segmentation fault      cat oops/crash\n`);
    expect(k.sched.task(died!.pid)).toBeUndefined();
    // no report for a substitution or an inner pipeline stage; status as bash
    expect(shell.exec('x=$(cat oops/crash); echo $?; cat oops/crash | cat; echo $?')).toMatchObject({ stdout: '139\n0\n', stderr: '' });
    expect(shell.exec('echo still here').stdout).toBe('still here\n');
    expect(k.sched.tasks().filter((t) => t.state === 'Z')).toEqual([]);
  });

  it('reports SIGKILL as Killed and ends a subshell that ran the command in place', () => {
    const { shell, k } = bootShell();
    mountOops(k, 9);
    const r = shell.exec('cat oops/crash; (echo in; cat oops/crash); echo $?');
    expect(r.stderr).toMatch(/^bash: line 1: +\d+ Killed {18}cat oops\/crash\n$/);
    expect(r.stdout).toBe('in\n137\n');
  });
});

describe('file operations are system calls of the calling task', () => {
  it('reports openat/read/close of cat /etc/hostname to the tracer', () => {
    const { shell, k } = bootShell();
    const recs: { pid: number; rec: SyscallRecord }[] = [];
    const spy = jest.spyOn(k.trace, 'syscall').mockImplementation((pid, rec) => {
      recs.push({ pid, rec });
    });
    shell.exec('cat /etc/hostname');
    spy.mockRestore();
    const clone = recs.find((r) => r.rec.name === 'clone')!;
    expect(clone.pid).toBe(shell.pid);
    expect(clone.rec.nr).toBe(56);
    const cat = clone.rec.ret;
    expect(recs.find((r) => r.rec.name === 'execve')).toMatchObject({ pid: cat, rec: { nr: 59, ret: 0, path: '/usr/bin/cat' } });
    const mine = recs.filter((r) => r.pid === cat && ['openat', 'read', 'close'].includes(r.rec.name));
    const fstype = k.vfs.resolve(k.rootCtx(), '/etc/hostname').mount.fstype;
    expect(mine.map((r) => r.rec.name)).toEqual(['openat', 'read', 'read', 'close']);
    const [open, read, eof, close] = mine.map((r) => r.rec);
    expect(open).toMatchObject({ nr: 257, ret: 3, path: '/etc/hostname', fstype });
    expect(open.args.slice(0, 3)).toEqual([-100, open.args[1], 0]);
    expect(open.args[1]).toBeGreaterThan(0x7f0000000000);
    expect(read).toMatchObject({ nr: 0, ret: 3, bytes: 3, fstype });
    expect(read.args).toEqual([3, read.args[1], 131072]);
    expect(eof).toMatchObject({ nr: 0, ret: 0, bytes: 0 });
    expect(close).toMatchObject({ nr: 3, ret: 0, args: [3] });
    for (let i = 1; i < mine.length; i++) expect(mine[i].rec.startNs).toBeGreaterThanOrEqual(mine[i - 1].rec.startNs + mine[i - 1].rec.durNs);
    expect(mine.every((r) => r.rec.durNs > 0 && r.rec.startNs >= k.now - 1e9)).toBe(true);
    // the end of the process
    const exitRec = recs.find((r) => r.rec.name === 'exit_group')!;
    expect(exitRec).toMatchObject({ pid: cat, rec: { nr: 231, args: [0] } });
    expect(recs.find((r) => r.rec.name === 'wait4')).toMatchObject({ pid: shell.pid, rec: { nr: 61, ret: cat } });
  });

  it('reports failures as -errno and sleeps as nanosleep', () => {
    const { shell, k } = bootShell();
    const recs: SyscallRecord[] = [];
    const spy = jest.spyOn(k.trace, 'syscall').mockImplementation((_pid, rec) => {
      recs.push(rec);
    });
    const t0 = k.now;
    shell.exec('cat /nope; sleep 2');
    spy.mockRestore();
    expect(recs.find((r) => r.path === '/nope')).toMatchObject({ ret: -2 });
    expect(recs.find((r) => r.name === 'nanosleep')).toMatchObject({ nr: 35, ret: 0, startNs: t0, durNs: 2e9 });
  });

  it('holds a descriptor in the task table while the file is read', () => {
    const { shell, k } = bootShell();
    const seen: { fd: number; path: string }[][] = [];
    const spy = jest.spyOn(k.trace, 'syscall').mockImplementation((pid, rec) => {
      if (rec.name === 'read' && rec.bytes) seen.push(k.sched.fds(pid).map((f) => ({ fd: f.fd, path: f.path })));
    });
    shell.exec('cat /etc/hostname /etc/hosts > /dev/null');
    spy.mockRestore();
    expect(seen).toHaveLength(2);
    expect(seen[0].find((f) => f.fd === 3)).toEqual({ fd: 3, path: '/etc/hostname' });
    expect(seen[1].find((f) => f.fd === 3)).toEqual({ fd: 3, path: '/etc/hosts' });
    // closed again afterwards: the next command's table has no fd 3
    expect(shell.exec('ls /proc/self/fd').stdout).toBe('0\n1\n2\n');
  });

  it('counts read and write traffic in /proc/<pid>/io', () => {
    const { shell, k } = bootShell();
    const io = shell.exec('cat /etc/hostname /etc/hostname /proc/self/io').stdout;
    expect(io).toMatch(/rchar: 6\nwchar: 0\nsyscr: 4\n/);
    const before = k.sched.taskInfo(shell.pid)!.io.slice();
    shell.exec('echo hello > f.txt; echo more >> f.txt; x=$(< f.txt)');
    const after = k.sched.taskInfo(shell.pid)!.io;
    // the shell itself opened and wrote the file (redirections), then read it back
    expect(after[1] - before[1]).toBe(11);
    expect(after[0] - before[0]).toBe(11);
    expect(after[2] - before[2]).toBeGreaterThanOrEqual(2);
  });
});
