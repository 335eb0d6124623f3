import { KernelShellHost } from './host';
import { Parser } from './parser';
import { Shell } from './shell';
import { bootShell, sim } from './testing';
import { defaultToolTable } from '../userspace/tools';
import { installUserspace } from '../userspace/install';
import { Kernel } from '../kernel';

describe('shell evaluator on the simulated machine', () => {
  it('reports exec and redirection failures like bash', () => {
    expect(sim('/etc/hostname')).toEqual({ stdout: '', stderr: 'bash: line 1: /etc/hostname: Permission denied\n', status: 126 });
    expect(sim('echo hi > /proc/meminfo; echo $?')).toEqual({ stdout: '1\n', stderr: 'bash: line 1: /proc/meminfo: Permission denied\n', status: 0 });
    expect(sim('/etc')).toEqual({ stdout: '', stderr: 'bash: line 1: /etc: Is a directory\n', status: 126 });
    expect(sim('cd /nope')).toEqual({ stdout: '', stderr: 'bash: line 1: cd: /nope: No such file or directory\n', status: 1 });
    expect(sim('foo')).toMatchObject({ stderr: 'bash: line 1: foo: command not found\n', status: 127 });
    expect(sim('echo )').status).toBe(2);
  });

  it('prints interactive-style messages in interactive mode', () => {
    const { shell } = bootShell({ mode: 'interactive' });
    expect(shell.exec('foo').stderr).toBe('bash: foo: command not found\n');
    expect(shell.exec('echo )').stderr).toBe("bash: syntax error near unexpected token `)'\n");
    expect(shell.exec('cd /nope').stderr).toBe('bash: cd: /nope: No such file or directory\n');
    // a fatal expansion error aborts the line but not the session
    expect(shell.exec('echo ${}; echo no').status).toBe(1);
    expect(shell.exec('echo still here').stdout).toBe('still here\n');
  });

  it('redirects into files of the VFS', () => {
    const { shell, k } = bootShell();
    shell.exec('echo one > /tmp/out; echo two >> /tmp/out; ls /nope 2> /tmp/err; echo both &> /tmp/both');
    const read = (p: string): string => k.vfs.readFile(k.rootCtx(), p);
    expect(read('/tmp/out')).toBe('one\ntwo\n');
    expect(read('/tmp/err')).toBe("ls: cannot access '/nope': No such file or directory\n");
    expect(read('/tmp/both')).toBe('both\n');
    expect(shell.exec('wc -l < /tmp/out').stdout).toBe('2\n');
  });

  it('keeps subshell changes in the subshell and cd in the shell', () => {
    const { shell } = bootShell();
    expect(shell.exec('x=1; (x=2; cd /etc; echo $x $PWD); echo $x $PWD').stdout).toBe('2 /etc\n1 /tmp/w\n');
    shell.exec('cd /usr/bin');
    expect(shell.cwd).toBe('/usr/bin');
    expect(shell.exec('pwd; cd -; pwd').stdout).toBe('/usr/bin\n/tmp/w\n/tmp/w\n');
    expect(shell.exec('cd; pwd').stdout).toBe('/root\n');
  });

  it('globs against the VFS', () => {
    const { shell } = bootShell({ files: { 'a.txt': '', 'b.txt': '', 'c.log': '', '.hidden': '' } });
    expect(shell.exec('echo *.txt; echo *; echo .h*; echo /etc/host*; echo /e?c/pass[wx]d; echo none*').stdout).toBe(
      'a.txt b.txt\na.txt b.txt c.log\n.hidden\n/etc/hostname /etc/hosts\n/etc/passwd\nnone*\n',
    );
  });

  it('finds tools on PATH as executables of the VFS', () => {
    const { shell } = bootShell();
    expect(shell.exec('type ls; command -v grep; ls -l /usr/bin/cat | cut -c1-10').stdout).toBe('ls is /usr/bin/ls\n/usr/bin/grep\n-rwxr-xr-x\n');
    expect(shell.exec('PATH=/nowhere; ls').stderr).toBe('bash: line 1: ls: command not found\n');
    expect(shell.exec('PATH=/usr/bin:/bin; printf "echo from script \\$1\\n" > /tmp/s.sh; chmod_missing=1; bash /tmp/s.sh arg; sh -c "echo \\$0 \\$1" zero one').stdout).toBe(
      'from script arg\nzero one\n',
    );
  });

  it('gives every command a process and ends it', () => {
    const { shell, host, k } = bootShell();
    const before = host.ownPids().length;
    const tasks = k.sched.tasks().length;
    const r = shell.exec('echo $$; true | cat; (exit 3); x=$(echo hi); ls / > /dev/null');
    expect(Number(r.stdout.trim())).toBe(shell.pid);
    expect(host.ownPids().length).toBe(before);
    // every child was reaped: no zombies, no leftover tasks
    expect(k.sched.tasks().length).toBe(tasks);
    expect(k.sched.children(shell.pid)).toEqual([]);
    const a = shell.exec('sleep 1 & echo $!').stdout.trim();
    const b = shell.exec('sleep 1 & echo $!').stdout.trim();
    expect(Number(b)).toBeGreaterThan(Number(a));
    expect(Number(a)).toBeGreaterThan(shell.pid);
  });

  it('runs background jobs: jobs, $!, kill %1, wait, in virtual time', () => {
    const { shell, k } = bootShell();
    const t0 = k.now;
    expect(shell.exec('sleep 10 & jobs').stdout).toBe('[1]+  Running                 sleep 10 &\n');
    expect(k.now).toBe(t0);
    expect(shell.exec('kill %1; wait %1; echo $?').stdout).toBe('143\n');
    expect(k.now).toBe(t0);
    expect(shell.exec('sleep 5 & sleep 2 & wait; echo done').stdout).toBe('done\n');
    expect(k.now - t0).toBe(5e9);
    expect(shell.exec('(sleep 1; echo late) & echo early; wait').stdout).toBe('early\nlate\n');
    expect(shell.exec('false & wait $!; echo $?').stdout).toBe('1\n');
    expect(shell.exec('wait %9').stderr).toBe('bash: line 1: wait: %9: no such job\n');
  });

  it('sleep and date move through virtual time', () => {
    const { shell } = bootShell();
    const d1 = shell.exec('date +%s').stdout;
    const d2 = shell.exec('sleep 90; date +%s').stdout;
    expect(Number(d2) - Number(d1)).toBe(90);
    expect(shell.exec('date -d @0 "+%Y-%m-%d %H:%M:%S %a"').stdout).toBe('1970-01-01 00:00:00 Thu\n');
  });

  it('bounds output: yes | head and a runaway yes', () => {
    const { shell } = bootShell({ limits: { maxOutput: 64 * 1024 } });
    const t = Date.now();
    expect(shell.exec('yes | head -n 3')).toMatchObject({ stdout: 'y\ny\ny\n', status: 0 });
    const r = shell.exec('yes');
    expect(Date.now() - t).toBeLessThan(10000);
    expect(r.stdout.length).toBe(64 * 1024);
    expect(r.stdout.startsWith('y\ny\n')).toBe(true);
    expect(r.stderr).toBe('\n[kernelab: output truncated: limit of 65536 bytes reached]\n');
    expect(r.status).toBe(141);
    expect(r.aborted).toBe('output');
    // the shell stays usable
    expect(shell.exec('echo ok').stdout).toBe('ok\n');
  });

  it('bounds work written to /dev/null and files', () => {
    const { shell } = bootShell({ limits: { maxIo: 1024 * 1024 } });
    const r = shell.exec('yes > /dev/null');
    expect(r.status).toBe(137);
    expect(r.stderr).toBe('kernelab: command aborted: I/O limit reached (1048576 bytes written)\n');
  });

  it('ends an infinite loop by the step budget', () => {
    const { shell } = bootShell({ limits: { maxSteps: 20_000 } });
    const t = Date.now();
    const r = shell.exec('while true; do :; done; echo never');
    expect(Date.now() - t).toBeLessThan(10000);
    expect(r).toMatchObject({ stdout: '', stderr: 'kernelab: command aborted: step limit (20000) exceeded\n', status: 137, aborted: 'steps' });
    const r2 = shell.exec('f() { f; }; f');
    expect(r2.stderr).toBe('bash: line 1: f: maximum function nesting level exceeded (200)\n');
    expect(shell.exec('echo alive').stdout).toBe('alive\n');
  });

  it('ends an infinite loop by the CPU time budget', () => {
    const { shell } = bootShell({ limits: { maxCpuNs: 10e6, stepCostNs: 1000 } });
    const r = shell.exec('until false; do true; done');
    expect(r).toMatchObject({ status: 137, aborted: 'cpu', stderr: 'kernelab: command aborted: CPU time limit (0.01s) exceeded\n' });
  });

  it('can be interrupted between steps (Ctrl-C)', () => {
    const { shell } = bootShell();
    const ex = shell.start('while true; do echo tick; done');
    expect(ex.pump(100)).toBe('running');
    shell.interrupt();
    expect(ex.pump()).toBe('done');
    expect(ex.status).toBe(130);
    expect(ex.aborted).toBe('interrupt');
    expect(ex.result().stdout.startsWith('tick\n')).toBe(true);
  });

  it('blocks on a realtime clock instead of moving it, and can be interrupted while sleeping', () => {
    const k = Kernel.boot({ cpus: 1, memoryMb: 256, seed: 'rt', hostname: 'vm' });
    const host = new KernelShellHost(k, { clock: 'realtime' });
    const tools = defaultToolTable();
    installUserspace(k, tools);
    const shell = new Shell({ host, tools });
    const ex = shell.start('sleep 2; echo woke');
    expect(ex.pump()).toBe('blocked');
    expect(ex.blockedUntil).toBe(k.now + 2e9);
    k.advance(2e9);
    expect(ex.pump()).toBe('done');
    expect(ex.result().stdout).toBe('woke\n');
    const ex2 = shell.start('sleep 100; echo no');
    expect(ex2.pump()).toBe('blocked');
    shell.interrupt();
    expect(ex2.pump()).toBe('done');
    expect(ex2.status).toBe(130);
  });

  it('serialises its state and restores it', () => {
    const { shell, k } = bootShell();
    shell.exec('export GREETING=hi; n=3; f() { echo "f:$1:$n"; }; cd /etc; set -- a b');
    shell.addHistory('echo one');
    const state = JSON.parse(JSON.stringify(shell.getState()));
    const { shell: other } = bootShell();
    other.setState(state);
    expect(other.cwd).toBe('/etc');
    expect(other.exec('f x; echo $GREETING $#; env | grep GREETING').stdout).toBe('f:x:3\nhi 2\nGREETING=hi\n');
    expect(other.history).toEqual(['echo one']);
    void k;
  });

  it('is deterministic for the same seed and inputs', () => {
    const run = (): string => {
      const { shell } = bootShell();
      return shell.exec('echo $RANDOM $RANDOM; sleep 3 & wait; date; ls -l /tmp; awk "BEGIN{srand(1); print rand()}"').stdout;
    };
    expect(run()).toBe(run());
  });

  it('never lets an evaluator failure escape', () => {
    const { shell } = bootShell();
    for (const src of ['', '\0', '$((', '${x', 'case', ';;', '|', 'f() { f; }; f & wait', 'eval "$(yes | head -c 100000)"']) {
      const r = shell.exec(src);
      expect(r.status).toBeGreaterThanOrEqual(0);
      expect(r.status).toBeLessThanOrEqual(255);
    }
    expect(Parser.parse('').commands).toEqual([]);
  });
});
