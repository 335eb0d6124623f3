import { Kernel } from '../kernel';
import { bootShell } from '../shell/testing';
import { Tty } from '../shell/tty';
import type { ProbeFiring, ProbeKind } from '../trace/probes';
import { kernelProbeList, listKernelProbes, resolveKernelProbes } from './kernel-host';
import { runFor, startRun } from './service';
import { BCC_TOOLS } from './tools';

function boot(): Kernel {
  return Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'bt', hostname: 'vm' }, { bootEpochMs: 1_767_225_600_000 });
}

function fire(k: Kernel, kind: ProbeKind, name: string, over: Partial<ProbeFiring> = {}): void {
  k.probes.fire(kind, name, () => ({ kind, name, cpu: 0, tid: 1, pid: 1, comm: 'init', nsecs: k.now, args: [], kstack: [], ...over }));
}

describe('bpftrace on the kernel model (fired through k.probes)', () => {
  it('counts kprobe firings by comm and prints maps on stop, like Ctrl-C', () => {
    const k = boot();
    const h = startRun(k, { program: 'kprobe:vfs_read { @[comm] = count(); }' });
    expect(k.probes.active('kprobe', 'vfs_read')).toBe(true);
    fire(k, 'kprobe', 'vfs_read', { comm: 'cat', pid: 50, tid: 50 });
    fire(k, 'kprobe', 'vfs_read', { comm: 'cat', pid: 50, tid: 50 });
    fire(k, 'kprobe', 'vfs_read', { comm: 'sshd', pid: 60, tid: 60 });
    fire(k, 'kprobe', 'vfs_write', { comm: 'cat' });
    expect(h.status()).toMatchObject({ state: 'running', probes: 1, firings: 3 });
    expect(h.maps()['@'].text).toBe('@[sshd]: 1\n@[cat]: 2\n');
    const r = h.stop();
    expect(r).toEqual({ stdout: 'Attaching 1 probe...\n\n\n@[sshd]: 1\n@[cat]: 2\n', stderr: '', exitCode: 0 });
    // detached: the bus has nothing left
    expect(k.probes.any).toBe(false);
    expect(h.status().state).toBe('exited');
  });

  it('passes args, retval, func, pid/tid and kstack of the firing', () => {
    const k = boot();
    const h = startRun(k, {
      program:
        'kprobe:vfs_read { printf("%s %d %d %d %s\\n", func, arg2, pid, tid, probe); } kretprobe:vfs_read { printf("ret %d\\n", retval); @s[kstack] = count(); }',
    });
    fire(k, 'kprobe', 'vfs_read', { args: [3n, 0x1000n, 4096n], pid: 7, tid: 8 });
    fire(k, 'kretprobe', 'vfs_read', { retval: 12n, kstack: ['vfs_read+5', 'ksys_read+103'] });
    const r = h.stop();
    expect(r.stdout).toBe('Attaching 2 probes...\nvfs_read 4096 7 8 kprobe:vfs_read\nret 12\n\n\n@s[\n    vfs_read+5\n    ksys_read+103\n]: 1\n');
  });

  it('expands kprobe wildcards against available_filter_functions', () => {
    const k = boot();
    const names = resolveKernelProbes(k, 'kprobe:vfs_read*') ?? [];
    expect(names).toContain('kprobe:vfs_read');
    expect(names.every((n) => n.startsWith('kprobe:vfs_read'))).toBe(true);
    const h = startRun(k, { program: 'kprobe:vfs_read* { @[probe] = count(); }' });
    expect(h.result().stdout).toBe(`Attaching ${names.length} probes...\n`);
    fire(k, 'kprobe', 'vfs_read');
    expect(h.stop().stdout).toContain('@[kprobe:vfs_read]: 1\n');
  });

  it('warns about a function that is not traceable and fails to attach it', () => {
    const k = boot();
    const h = startRun(k, { program: 'kprobe:nonexistent_fn_xyz { exit(); }' });
    const r = h.stop();
    expect(r.stdout).toBe('Attaching 1 probe...\n');
    expect(r.stderr).toBe(
      'stdin:1:1-26: WARNING: nonexistent_fn_xyz is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail\n' +
        'kprobe:nonexistent_fn_xyz { exit(); }\n~~~~~~~~~~~~~~~~~~~~~~~~~\n' +
        "ERROR: Error attaching probe: 'kprobe:nonexistent_fn_xyz'\n",
    );
    expect(r.exitCode).toBe(1);
    expect(k.probes.any).toBe(false);
  });

  it('rejects kprobe offsets and watchpoints', () => {
    const k = boot();
    const off = startRun(k, { program: 'kprobe:vfs_read+8 { }' }).stop();
    expect(off.exitCode).toBe(1);
    expect(off.stderr).toContain("ERROR: Can't check if kprobe is in proper place (compiled without (k|u)probe offset support): vfs_read+8");
    const wp = startRun(k, { program: 'watchpoint:0x10000000:8:rw { }' }).stop();
    expect(wp.exitCode).toBe(1);
    expect(wp.stderr).toContain('watchpoint probes are not supported on this machine');
  });

  it('checks tracepoints against available_events and types args from the format file', () => {
    const k = boot();
    const bad = startRun(k, { program: 'tracepoint:syscalls:nonsense_xyz { }' }).stop();
    expect(bad.stderr).toContain('ERROR: tracepoint not found: syscalls:nonsense_xyz');
    const field = startRun(k, { program: 'tracepoint:sched:sched_switch { print(args->nope); }' }).stop();
    expect(field.stderr).toContain("ERROR: Struct/union of type 'struct _tracepoint_sched_sched_switch' does not contain a field named 'nope'");
    // char prev_comm[16] is a string: %s accepts it; pid_t is an int
    const h = startRun(k, { program: 'tracepoint:sched:sched_switch { printf("%s(%d) -> %s(%d)\\n", args->prev_comm, args->prev_pid, args->next_comm, args->next_pid); }' });
    fire(k, 'tracepoint', 'sched:sched_switch', { fields: { prev_comm: 'bash', prev_pid: 100, prev_prio: 120, prev_state: 1, next_comm: 'swapper/0', next_pid: 0 } });
    expect(h.stop().stdout).toBe('Attaching 1 probe...\nbash(100) -> swapper/0(0)\n\n\n');
    const wrong = startRun(k, { program: 'tracepoint:sched:sched_switch { printf("%d\\n", args->prev_comm); }' }).stop();
    expect(wrong.stderr).toContain('printf: %d specifier expects a value of type integer (string supplied)');
  });

  it('expands tracepoint wildcards (banner counts every match)', () => {
    const k = boot();
    const n = resolveKernelProbes(k, 'tracepoint:syscalls:sys_enter_open*')?.length ?? 0;
    expect(n).toBeGreaterThanOrEqual(3);
    const h = startRun(k, { program: 'tracepoint:syscalls:sys_enter_open* { @[probe] = count(); }' });
    fire(k, 'tracepoint', 'syscalls:sys_enter_openat', { fields: { filename: '/etc/passwd' } });
    expect(h.stop().stdout).toBe(`Attaching ${n} probes...\n\n\n@[tracepoint:syscalls:sys_enter_openat]: 1\n`);
  });

  it('runs interval probes in virtual time, and runFor stops like Ctrl-C', () => {
    const k = boot();
    const t0 = k.now;
    const r = runFor(k, { program: 'interval:ms:100 { @ticks = count(); } END { printf("end\\n"); }' }, 1_050_000_000);
    expect(r).toEqual({ stdout: 'Attaching 2 probes...\nend\n\n\n@ticks: 10\n', stderr: '', exitCode: 0 });
    expect(k.now).toBe(t0 + 1_050_000_000);
  });

  it('exit() from an interval probe ends the run by itself and detaches', () => {
    const k = boot();
    const h = startRun(k, { program: 'interval:ms:100 { @c = count(); } interval:s:1 { printf("%d\\n", elapsed / 1000000); exit(); }' });
    let exited = '';
    h.onExit((r) => (exited = r.stdout));
    k.advance(5e9);
    expect(exited).toBe('Attaching 2 probes...\n1000\n\n\n@c: 10\n');
    expect(h.status().state).toBe('exited');
    // no timers of the run are left behind
    const fired = h.status().firings;
    k.advance(5e9);
    expect(h.status().firings).toBe(fired);
  });

  it('profile probes fire on every CPU', () => {
    const k = boot();
    const r = runFor(k, { program: 'profile:hz:10 { @[cpu] = count(); }' }, 1_000_000_000);
    // equal counts: bpftrace prints ties in hash order
    expect(r.stdout.split('\n').sort()).toEqual(['', '', '', '@[0]: 10', '@[1]: 10', 'Attaching 1 probe...']);
  });

  it('profile samples of an idle CPU carry the idle kernel stack', () => {
    const k = boot();
    const r = runFor(k, { program: 'profile:hz:10 /cpu == 1 && pid == 0/ { @[kstack] = count(); }' }, 1_000_000_000);
    expect(r.stdout).toMatch(/^Attaching 1 probe\.\.\.\n\n\n@\[\n {4}native_safe_halt\+11\n {4}default_idle\+10\n[^]*start_secondary\+\d+\n {4}secondary_startup_64_no_verify\+229\n\]: \d+\n$/);
  });

  it('stops at the virtual-time cap', () => {
    const k = boot();
    const h = startRun(k, { program: 'interval:ms:10 { @n = count(); }', maxVirtualNs: 200_000_000 });
    k.advance(1e9);
    expect(h.status().state).toBe('exited');
    // ticks at 10..200 ms: probes due at the cap itself still run, then the run stops
    expect(h.result().stdout).toBe('Attaching 1 probe...\n\n\n@n: 20\n');
  });

  it('bounds the work of a run fired from the model (firings cap)', () => {
    const k = boot();
    const h = startRun(k, { program: 'kprobe:vfs_read { @ = count(); }', limits: { totalFirings: 5 } });
    for (let i = 0; i < 10; i++) fire(k, 'kprobe', 'vfs_read');
    const r = h.result();
    expect(r.stderr).toBe('ERROR: run limit exceeded (5 probe firings); stopping\n');
    expect(r.exitCode).toBe(1);
    expect(k.probes.any).toBe(false);
  });

  it('stops at a wall-clock cap passed in by the server', () => {
    const k = boot();
    let wall = 1000;
    const h = startRun(k, { program: 'kprobe:vfs_read { @ = count(); } END { printf("end\\n"); }', wallClockMs: () => wall, maxWallMs: 50 });
    for (let i = 0; i < 64; i++) fire(k, 'kprobe', 'vfs_read');
    expect(h.status().state).toBe('running');
    wall += 100;
    for (let i = 0; i < 64; i++) fire(k, 'kprobe', 'vfs_read');
    expect(h.status().state).toBe('exited');
    expect(h.result()).toEqual({ stdout: 'Attaching 2 probes...\nend\n\n\n@: 128\n', stderr: 'ERROR: wall-time limit of 50 ms exceeded; stopping\n', exitCode: 1 });
  });

  it('bounds a single firing by the instruction budget', () => {
    const k = boot();
    const h = startRun(k, { program: 'kprobe:vfs_read { $i = 0; while ($i < 100000000) { $i++; } }', limits: { stepsPerFiring: 10_000 } });
    fire(k, 'kprobe', 'vfs_read');
    expect(h.result().stderr).toContain('ERROR: Error loading program: kprobe:vfs_read');
    expect(h.status().state).toBe('exited');
  });

  it('software events fire once per period', () => {
    const k = boot();
    const h = startRun(k, { program: 'software:faults:10 { @ = count(); } software:cs:1 { @cs = count(); }' });
    for (let i = 0; i < 25; i++) fire(k, 'software', 'page-faults');
    fire(k, 'software', 'context-switches', { count: 3 });
    expect(h.stop().stdout).toBe('Attaching 2 probes...\n\n\n@: 2\n@cs: 3\n');
  });

  it('reads curtask fields, ksym/kaddr from kallsyms, and files with cat()', () => {
    const k = boot();
    const h = startRun(k, {
      program:
        'BEGIN { printf("%d %s %d\\n", curtask->pid, curtask->comm, curtask->real_parent->pid); $a = kaddr("vfs_read"); printf("%s %d\\n", ksym($a), $a != 0); cat("/proc/sys/kernel/hostname"); exit(); }',
      pid: 1,
    });
    const r = h.result();
    const t = k.sched.taskInfo(1);
    expect(r.stdout).toBe(`Attaching 1 probe...\n1 ${t?.comm} ${t?.ppid}\nvfs_read 1\nvm\n\n\n`);
    const bad = startRun(k, { program: 'BEGIN { print(curtask->nope); }' }).stop();
    expect(bad.stderr).toContain("Struct/union of type 'struct task_struct' does not contain a field named 'nope'");
  });

  it('refuses signal()/system() unless unsafe, and signal() kills with unsafe', () => {
    const k = boot();
    const safe = startRun(k, { program: 'kprobe:vfs_read { signal(9); }' }).stop();
    expect(safe.stderr).toContain('signal() is an unsafe function being used in safe mode');
    const victim = k.sched.spawn(1, { argv: ['/bin/victim'] });
    const h = startRun(k, { program: 'kprobe:vfs_read { signal(9); }', unsafe: true });
    fire(k, 'kprobe', 'vfs_read', { pid: victim, tid: victim, comm: 'victim' });
    h.stop();
    const st = k.sched.taskInfo(victim);
    expect(st === undefined || st.state === 'Z' || st.state === 'X').toBe(true);
  });

  it('lists probes like bpftrace -l', () => {
    const k = boot();
    const all = kernelProbeList(k);
    expect(all[0]).toBe('hardware:backend-stalls:');
    expect(all).toContain('software:page-faults:');
    expect(all).toContain('tracepoint:sched:sched_switch');
    expect(listKernelProbes(k, 'kprobe:vfs_rea*').split('\n')).toContain('kprobe:vfs_read');
    expect(listKernelProbes(k, 't:sched:sched_switch')).toBe('tracepoint:sched:sched_switch\n');
    expect(listKernelProbes(k, 'uprobe:/bin/bash:*')).toBe('uprobe:/bin/bash:readline\n');
  });

  it('json output', () => {
    const k = boot();
    const r = runFor(k, { program: 'interval:ms:100 { @x = count(); }', format: 'json' }, 300_000_000);
    expect(r.stdout).toBe('{"type": "attached_probes", "data": {"probes": 1}}\n\n\n{"type": "map", "data": {"@x": 3}}\n');
  });
});

describe('bpftrace tool in the shell', () => {
  it('runs -e programs to exit()', () => {
    const { shell } = bootShell();
    const r = shell.exec(`bpftrace -e 'BEGIN { printf("hi\\n"); exit(); }'`);
    expect(r.stdout).toBe('Attaching 1 probe...\nhi\n\n\n');
    expect(r.status).toBe(0);
  });

  it('runs file.bt with positional parameters, in virtual time', () => {
    const { shell, k } = bootShell({ files: { 'p.bt': 'interval:ms:$1 { @n++; if (@n == $2) { exit(); } }\n', 'bad.bt': 'BEGIN { @c = count(); if (@c == 1) { } }\n' } });
    const t0 = k.now;
    const r = shell.exec('bpftrace p.bt 100 5; echo rc=$?');
    expect(r.stdout).toBe('Attaching 1 probe...\n\n\n@n: 5\nrc=0\n');
    expect(k.now - t0).toBeGreaterThanOrEqual(500_000_000);
    // diagnostics name the script; reading a count() map as an integer is an error in 0.17
    const bad = shell.exec('bpftrace bad.bt');
    expect(bad.stderr).toBe("bad.bt:1:26-34: ERROR: Type mismatch for '==': comparing 'count' with 'int64'\nBEGIN { @c = count(); if (@c == 1) { } }\n" + ' '.repeat(25) + '~'.repeat(8) + '\n');
    expect(bad.status).toBe(1);
  });

  it('-c CMD traces the command and stops when it exits', () => {
    const { shell } = bootShell({ files: { 'f.txt': 'data\n' } });
    const r = shell.exec(`bpftrace -e 'tracepoint:syscalls:sys_enter_openat /comm == "cat"/ { printf("open %s\\n", str(args->filename)); }' -c 'cat f.txt'`);
    // bpftrace's output is read from its perf buffer: it follows what the command wrote itself
    expect(r.stdout).toBe('Attaching 1 probe...\ndata\nopen f.txt\n\n\n');
    expect(r.status).toBe(0);
  });

  it('-q, -f json and -o file', () => {
    const { shell } = bootShell();
    expect(shell.exec(`bpftrace -q -e 'BEGIN { printf("x\\n"); exit(); }'`).stdout).toBe('x\n\n\n');
    expect(shell.exec(`bpftrace -f json -e 'BEGIN { @a = 1; exit(); }'`).stdout).toBe('{"type": "attached_probes", "data": {"probes": 1}}\n\n\n{"type": "map", "data": {"@a": 1}}\n');
    const r = shell.exec(`bpftrace -o out.txt -e 'BEGIN { printf("y\\n"); exit(); }'; cat out.txt`);
    expect(r.stdout).toBe('Attaching 1 probe...\ny\n\n\n');
    const bad = shell.exec('bpftrace -f yaml -e "BEGIN { }"');
    expect(bad.status).toBe(1);
  });

  it('Ctrl-C runs END and prints the maps', () => {
    const { shell } = bootShell();
    const ex = shell.start(`bpftrace -e 'interval:ms:100 { @ticks = count(); } END { printf("bye\\n"); }'`);
    expect(ex.pump(50)).toBe('running');
    shell.interrupt();
    expect(ex.pump()).toBe('done');
    const out = ex.takeOutput().map((c) => c.text).join('');
    expect(out).toMatch(/^Attaching 2 probes\.\.\.\nbye\n\n\n@ticks: \d+\n/);
    expect(ex.status).toBe(0);
  });

  it('-l, -d, -V, usage and errors', () => {
    const { shell } = bootShell();
    expect(shell.exec("bpftrace -l 'tracepoint:sched:sched_switch'").stdout).toBe('tracepoint:sched:sched_switch\n');
    expect(shell.exec("bpftrace -lv 'tracepoint:sched:sched_wakeup'").stdout).toBe(
      'tracepoint:sched:sched_wakeup\n    char comm[16]\n    pid_t pid\n    int prio\n    int target_cpu\n',
    );
    expect(shell.exec('bpftrace -V').stdout).toBe('bpftrace v0.17.0\n');
    const d = shell.exec(`bpftrace -d -e 'BEGIN { printf("x\\n"); }'`);
    expect(d.stdout).toBe('\nAST after: parser\n-------------------\nProgram\n BEGIN\n  call: printf\n   string: x\\n\n');
    const d2 = shell.exec(`bpftrace -d -e 'k:vfs_read,kr:vfs_read /pid == 1/ { @[comm] = count(); }'`);
    expect(d2.stdout).toBe(
      '\nAST after: parser\n-------------------\nProgram\n kprobe:vfs_read\n kretprobe:vfs_read\n  pred\n   ==\n    builtin: pid\n    int: 1\n  =\n   map: @\n    builtin: comm\n   call: count\n',
    );
    const u = shell.exec('bpftrace');
    expect(u.status).toBe(1);
    expect(u.stderr).toMatch(/^USAGE:\n {4}bpftrace \[options\] filename/);
    const sys = shell.exec(`bpftrace -e 'BEGIN { system("echo hi"); exit(); }'`);
    expect(sys.stderr).toContain('system() is an unsafe function being used in safe mode');
    expect(sys.status).toBe(1);
    // --unsafe needs a session that allows unsafe actions (kernelConfig.allowUnsafe)
    const refused = shell.exec(`bpftrace --unsafe -e 'BEGIN { system("echo hi"); exit(); }'`);
    expect(refused).toMatchObject({ status: 1, stdout: '', stderr: expect.stringMatching(/--unsafe is not allowed/) });
    const un = bootShell({ debug: { allowUnsafe: true } }).shell.exec(`bpftrace --unsafe -e 'BEGIN { system("echo hi"); exit(); }'`);
    expect(un.stdout).toBe('Attaching 1 probe...\nhi\n\n\n');
  });

  it('bpftrace tools are installed and print their 0.17 headers', () => {
    const { shell } = bootShell();
    for (const [name, header] of [
      ['execsnoop', 'TIME(ms)   PID   ARGS\n'],
      ['opensnoop', 'Tracing open syscalls... Hit Ctrl-C to end.\nPID    COMM               FD ERR PATH\n'],
      ['killsnoop', 'Tracing kill() signals... Hit Ctrl-C to end.\nTIME      PID    COMM             SIG  TPID   RESULT\n'],
      ['vfsstat', 'Tracing key VFS calls... Hit Ctrl-C to end.\n'],
      ['syscount', 'Counting syscalls... Hit Ctrl-C to end.\n'],
      ['runqlat', 'Tracing CPU scheduler... Hit Ctrl-C to end.\n'],
      ['biolatency', 'Tracing block device I/O... Hit Ctrl-C to end.\n'],
      ['tcpconnect', 'Tracing tcp connections. Hit Ctrl-C to end.\nTIME     PID      COMM             SADDR                                   SPORT  DADDR                                   DPORT \n'],
      ['bashreadline', 'Tracing bash commands... Hit Ctrl-C to end.\nTIME      PID    COMMAND\n'],
    ] as const) {
      expect(BCC_TOOLS[name]).toBeDefined();
      const ex = shell.start(name);
      ex.pump(30);
      shell.interrupt();
      ex.pump();
      const out = ex.takeOutput().map((c) => c.text).join('');
      expect({ name, out: out.replace(/^Attaching \d+ probes?\.\.\.\n/, '').slice(0, header.length) }).toEqual({ name, out: header });
      expect({ name, status: ex.status }).toEqual({ name, status: 0 });
    }
  });

  it('vfsstat prints per-second counts of fired vfs functions', () => {
    const { shell, k } = bootShell();
    const ex = shell.start('vfsstat');
    ex.pump(3);
    for (let i = 0; i < 3; i++) fire(k, 'kprobe', 'vfs_read');
    ex.pump(30);
    shell.interrupt();
    ex.pump();
    const out = ex.takeOutput().map((c) => c.text).join('');
    expect(out).toMatch(/Tracing key VFS calls\.\.\. Hit Ctrl-C to end\.\n\d\d:\d\d:\d\d\n@\[vfs_read\]: 3\n/);
  });
});

describe('uprobe:/bin/bash:readline', () => {
  it('fires when the interactive shell reads a line (bashreadline)', () => {
    const { shell, k } = bootShell({ mode: 'interactive' });
    const tty = new Tty(shell);
    tty.start();
    const h = startRun(k, { program: BCC_TOOLS.bashreadline });
    tty.input('echo hello\r');
    tty.input('ls /nope\r');
    const r = h.stop();
    expect(r.stdout).toMatch(/^Attaching 2 probes\.\.\.\nTracing bash commands\.\.\. Hit Ctrl-C to end\.\nTIME {6}PID {4}COMMAND\n\d\d:\d\d:\d\d {2}\d+ +echo hello\n\d\d:\d\d:\d\d {2}\d+ +ls \/nope\n\n\n$/);
  });
});

describe('integration with the model (checked at the end)', () => {
  it('integration: cat in the shell fires kprobe:vfs_read (counts by comm)', () => {
    const { shell, k } = bootShell({ files: { 'f.txt': 'hello\n' } });
    const h = startRun(k, { program: 'kprobe:vfs_read { @[comm] = count(); }' });
    const r = shell.exec('cat f.txt');
    expect(r.stdout).toBe('hello\n');
    const out = h.stop();
    expect(out.stdout).toMatch(/^Attaching 1 probe\.\.\.\n\n\n(@\[[^\]]+\]: \d+\n)*@\[cat\]: [1-9]\d*\n/);
    expect(out.stdout).toMatch(/@\[cat\]: [1-9]/);
  });

  it('integration: execsnoop and opensnoop see the shell\'s commands', () => {
    const { shell, k } = bootShell({ files: { 'f.txt': 'hello\n' } });
    const exec = startRun(k, { program: BCC_TOOLS.execsnoop });
    const open = startRun(k, { program: BCC_TOOLS.opensnoop });
    shell.exec('cat f.txt; ls -l /tmp > /dev/null');
    expect(exec.stop().stdout).toMatch(/^Attaching \d+ probes\.\.\.\nTIME\(ms\) {3}PID {3}ARGS\n\d+ +\d+ +cat f\.txt\n\d+ +\d+ +ls -l \/tmp\n/);
    expect(open.stop().stdout).toMatch(/PID {4}COMM {15}FD ERR PATH\n\d+ +cat +3 +0 f\.txt\n/);
  });
});
