/**
 * perf on a booted machine: stat's counters (perf 6.1 layout, consistent
 * with the scheduler and the syscall records), record/report, list, trace.
 */
import { bootShell } from '../../shell/testing';

const STAT_LINE = /^ {0,17}(\d+(?:\.\d{2})?) (msec| {4}) (\S+) +# +(.*)$/;

describe('perf stat', () => {
  it('prints the default counters in perf 6.1’s layout, on stderr', () => {
    const { shell } = bootShell();
    const r = shell.exec('perf stat -- cat /proc/version');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Linux version 6\.1\.0/);
    const lines = r.stderr.split('\n');
    expect(lines.slice(0, 3)).toEqual(['', " Performance counter stats for 'cat /proc/version':", '']);
    const counters = lines.filter((l) => STAT_LINE.test(l));
    expect(counters.map((l) => STAT_LINE.exec(l)![3])).toEqual(['task-clock', 'context-switches', 'cpu-migrations', 'page-faults', 'cycles', 'instructions', 'branches', 'branch-misses']);
    // value right-aligned in 18 columns, the name at column 24, the '#' at column 57
    for (const l of counters) {
      expect(l.indexOf('#')).toBe(57);
      expect(l[24]).not.toBe(' ');
      expect(l[23]).toBe(' ');
    }
    const v = (name: string): number => Number(STAT_LINE.exec(counters.find((l) => STAT_LINE.exec(l)![3] === name)!)![1]);
    const taskMs = v('task-clock');
    expect(taskMs).toBeGreaterThan(0);
    expect(counters[0]).toMatch(/# +\d\.\d{3} CPUs utilized$/);
    // cycles / task-clock = the GHz metric
    const ghz = Number(/# +(\d+\.\d{3}) GHz/.exec(counters[4])![1]);
    expect(Math.abs(ghz - v('cycles') / (taskMs * 1e6))).toBeLessThan(0.05);
    expect(counters[5]).toMatch(/# +\d\.\d{2} {2}insn per cycle$/);
    expect(v('branch-misses')).toBeLessThan(v('branches'));
    expect(counters[7]).toMatch(/# +\d+\.\d{2}% of all branches$/);
    expect(r.stderr).toMatch(/\n {7}\d\.\d{9} seconds time elapsed\n\n {7}\d\.\d{9} seconds user\n {7}\d\.\d{9} seconds sys\n\n\n$/);
    // user + sys = task-clock
    const user = Number(/(\d\.\d{9}) seconds user/.exec(r.stderr)![1]);
    const sys = Number(/(\d\.\d{9}) seconds sys/.exec(r.stderr)![1]);
    expect((user + sys) * 1e3).toBeCloseTo(taskMs, 1);
  });

  it('is deterministic and counts more work for a bigger command', () => {
    const run = (cmd: string): string => bootShell().shell.exec(cmd).stderr;
    expect(run('perf stat cat /proc/version')).toBe(run('perf stat cat /proc/version'));
    const one = run('perf stat -e task-clock -- cat /proc/version');
    const many = run('perf stat -e task-clock -- cat /proc/version /proc/version /proc/version /proc/version /proc/version /proc/version');
    const ms = (s: string): number => Number(/([\d.]+) msec task-clock/.exec(s)![1]);
    expect(ms(many)).toBeGreaterThan(ms(one));
  });

  it('-e selects counters; an unknown event is a syntax error', () => {
    const { shell } = bootShell();
    const r = shell.exec('perf stat -e cycles,instructions true');
    expect(r.stderr.split('\n').filter((l) => STAT_LINE.test(l)).map((l) => STAT_LINE.exec(l)![3])).toEqual(['cycles', 'instructions']);
    const bad = shell.exec('perf stat -e nosuchevent true');
    expect(bad.status).toBe(129);
    expect(bad.stderr).toContain("event syntax error: 'nosuchevent'");
  });
});

describe('perf stat -a / -p', () => {
  it('-a counts every CPU over the run', () => {
    const { shell } = bootShell();
    const err = shell.exec('perf stat -a -- sleep 0.1').stderr;
    expect(err).toContain(" Performance counter stats for 'system wide':\n");
    expect(err).toMatch(/^ +200\.\d{2} msec cpu-clock +# +2\.000 CPUs utilized$/m);
    expect(err).toMatch(/ 0\.100\d{6} seconds time elapsed/);
  });

  it('-p counts an existing task from the start of the run only', () => {
    const { shell } = bootShell();
    const err = shell.exec('perf stat -p 1 -- sleep 0.1').stderr;
    expect(err).toContain(" Performance counter stats for process id '1':\n");
    const ms = Number(/([\d.]+) msec task-clock/.exec(err)![1]);
    expect(ms).toBeLessThan(5);
    expect(shell.exec('perf stat -p 99999 -- true').status).toBe(1);
  });
});

describe('perf record / report', () => {
  it('samples at -F over the command’s CPU time and reports them', () => {
    const { k, shell } = bootShell();
    const r = shell.exec('perf record -F 20000 -- cat /proc/version /proc/version /proc/version /proc/version');
    expect(r.status).toBe(0);
    const m = /^\[ perf record: Woken up 1 times to write data \]\n\[ perf record: Captured and wrote \d+\.\d{3} MB perf\.data \((\d+) samples\) \]\n$/.exec(r.stderr);
    expect(m).not.toBeNull();
    const samples = Number(m![1]);
    expect(samples).toBeGreaterThan(1);
    expect(k.vfs.readFile(k.rootCtx(), '/tmp/w/perf.data').length).toBeGreaterThan(0);
    const rep = shell.exec('perf report --stdio').stdout;
    expect(rep).toContain(`# Samples: ${samples}  of event 'cpu-clock:pppH'\n# Event count (approx.): ${samples * 50000}\n`);
    expect(rep).toContain('# Overhead  Command  Shared Object         Symbol\n');
    const rows = rep.split('\n').filter((l) => /^ +\d+\.\d{2}% /.test(l));
    const total = rows.reduce((a, l) => a + Number(/(\d+\.\d{2})%/.exec(l)![1]), 0);
    expect(total).toBeCloseTo(100, 0);
    expect(rows.some((l) => /cat +\[kernel\.kallsyms\] +\[k\] \w+/.test(l))).toBe(true);
    expect(rows.some((l) => /cat +\S+ +\[\.\] \w+/.test(l))).toBe(true);
  });

  it('-g adds call chains', () => {
    const { shell } = bootShell();
    shell.exec('perf record -F 20000 -g -- cat /proc/version');
    const rep = shell.exec('perf report --stdio').stdout;
    expect(rep).toContain('# Children      Self  Command');
    expect(rep).toMatch(/\n {12}\|\n {12}---\w+\n/);
  });
});

describe('perf list / trace', () => {
  it('list shows the software and hardware events and tracepoints', () => {
    const { shell } = bootShell();
    const out = shell.exec('perf list').stdout;
    expect(out).toContain('  cpu-clock                                          [Software event]\n');
    expect(out).toContain('  sched:sched_switch                                 [Tracepoint event]\n');
  });

  it('trace -s summarises the command’s system calls', () => {
    const { shell } = bootShell();
    const r = shell.exec('perf trace -s -- cat /proc/version');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/\n Summary of events:\n\n cat \(\d+\), \d+ events, \d+\.\d%\n/);
    const rows = r.stderr.split('\n').filter((l) => /^ {3}[a-z_0-9]+ +\d+ +\d+ +\d+\.\d{3}/.test(l));
    const names = rows.map((l) => l.trim().split(/\s+/)[0]);
    expect(names).toEqual(expect.arrayContaining(['openat', 'read', 'close']));
    const read = rows.find((l) => l.trim().startsWith('read '))!.trim().split(/\s+/);
    expect(Number(read[1])).toBeGreaterThanOrEqual(2);
  });

  it('trace without -s lists each call', () => {
    const { shell } = bootShell();
    const r = shell.exec('perf trace -- cat /proc/version');
    expect(r.stderr).toMatch(/^ +\d+\.\d{3} \( *\d+\.\d{3} ms\): cat\/\d+ openat\(filename: "\/proc\/version"\) = 3$/m);
  });
});
