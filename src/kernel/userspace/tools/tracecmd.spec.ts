/**
 * trace-cmd on a booted machine: record around a command, report in
 * trace-cmd 3.1's layout, list/start/stop/show/reset/extract, and the
 * recordings kept in the machine's trace state.
 */
import { bootShell } from '../../shell/testing';
import { TRACE_DAT_MAGIC } from './tracecmd';
import { Kernel } from '../../kernel';
import { Userspace } from '../runtime';

const LINE = /^ {0,16}(\S.*)-(\d+) +\[(\d{3})\] +(\d+)\.(\d{6}): (\S+): +(.*)$/;

describe('trace-cmd record / report', () => {
  it('record -p function_graph -g vfs_read -F: the command’s vfs_read graph, config restored', () => {
    const { k, shell } = bootShell();
    const r = shell.exec('trace-cmd record -p function_graph -g vfs_read -F cat /proc/version');
    expect(r.status).toBe(0);
    expect(r.stdout.startsWith("  plugin 'function_graph'\nLinux version 6.1.0")).toBe(true);
    expect(r.stdout).toMatch(/CPU0 data recorded at offset=0x[0-9a-f]+\n {4}\d+ bytes in size\nCPU1 data recorded at offset=0x[0-9a-f]+\n {4}\d+ bytes in size\n$/);
    // tracefs is back to how it was
    expect(k.vfs.readFile(k.rootCtx(), '/sys/kernel/tracing/current_tracer')).toBe('nop\n');
    expect(k.vfs.readFile(k.rootCtx(), '/sys/kernel/tracing/set_graph_function')).toBe('#### all functions enabled ####\n');
    const dat = k.vfs.readFile(k.rootCtx(), '/tmp/w/trace.dat');
    expect(dat.startsWith(TRACE_DAT_MAGIC)).toBe(true);

    const rep = shell.exec('trace-cmd report').stdout.split('\n');
    expect(rep).toContain('cpus=2');
    const lines = rep.filter((l) => LINE.test(l));
    expect(lines.length).toBeGreaterThan(10);
    const pids = new Set(lines.map((l) => LINE.exec(l)![2]));
    expect(pids.size).toBe(1);
    expect(lines.every((l) => LINE.exec(l)![1] === 'cat')).toBe(true);
    // first record: the entry of vfs_read, the graph columns after the padded event name
    expect(lines[0]).toMatch(/\[\d{3}\] +\d+\.\d{6}: funcgraph_entry: {20}\| {2}vfs_read\(\) \{$/);
    expect(lines.some((l) => /funcgraph_entry: {7}[ +!] +\d+\.\d{3} us +\| {6}security_file_permission\(\) \{$/.test(l) || /\| {4}rw_verify_area\(\) \{$/.test(l))).toBe(true);
    expect(lines.some((l) => /funcgraph_exit: +[ +!#] +\d+\.\d{3} us +\| {2}\}$/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('proc_reg_read_iter() {'))).toBe(true);

    const recs = k.trace.recordings();
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({ id: 1, kind: 'trace-cmd', command: 'cat /proc/version', tracer: 'function_graph' });
    const full = k.trace.recording(1)!;
    expect(full.events.length).toBe(recs[0].count);
    expect(full.report.split('\n').filter((l) => LINE.test(l))).toEqual(lines);
  });

  it('record -p function -l vfs_read -o FILE; report -i FILE: function lines in trace-cmd’s layout', () => {
    const { shell } = bootShell();
    expect(shell.exec('trace-cmd record -p function -l vfs_read -o f.dat -F cat /proc/version > /dev/null').status).toBe(0);
    const out = shell.exec('trace-cmd report -i f.dat').stdout;
    const lines = out.split('\n').filter((l) => LINE.test(l));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const l of lines) {
      expect(l).toMatch(/^ +cat-\d+ +\[\d{3}\] +\d+\.\d{6}: function: {13}vfs_read <-- ksys_read$/);
      // "%16s-%-5d [%03d]": the comm is right-aligned in 16 columns, the pid left-aligned in 5
      expect(l.indexOf('-')).toBe(16);
      expect(l.slice(17, 23)).toMatch(/^\d+ +$/);
    }
    expect(shell.exec('trace-cmd report -i nosuch.dat').status).toBe(1);
  });

  it('record -e: events with libtraceevent’s rendering of their print fmt', () => {
    const { shell } = bootShell();
    shell.exec('trace-cmd record -e sched:sched_process_exec -e syscalls:sys_enter_openat -e sys_exit_openat -F cat /proc/version > /dev/null');
    const lines = shell
      .exec('trace-cmd report')
      .stdout.split('\n')
      .filter((l) => LINE.test(l))
      .map((l) => LINE.exec(l)!.slice(6, 8).join(' '));
    expect(lines[0]).toMatch(/^sched_process_exec filename=\/usr\/bin\/cat pid=\d+ old_pid=\d+$/);
    expect(lines).toContainEqual(expect.stringMatching(/^sys_enter_openat dfd: 0xffffff9c, filename: 0x[0-9a-f]{8,}, flags: 0x[0-9a-f]{8}, mode: 0x[0-9a-f]{8}$/));
    expect(lines).toContainEqual(expect.stringMatching(/^sys_exit_openat 0x3$/));
  });

  it('errors: unknown plugin, unknown function, no command', () => {
    const { k, shell } = bootShell();
    let r = shell.exec('trace-cmd record -p blah true');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("plugin 'blah' does not exist");
    r = shell.exec('trace-cmd record -p function -l no_such_function_xyz true');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Failed to add filter no_such_function_xyz');
    expect(k.trace.capturing).toBe(false);
    expect(k.vfs.readFile(k.rootCtx(), '/sys/kernel/tracing/current_tracer')).toBe('nop\n');
    // no command: it records until stopped (here by the command's step budget)
    const bounded = bootShell({ limits: { maxSteps: 50 } }).shell.exec('trace-cmd record -p function -o /tmp/x.dat');
    expect(bounded.stdout).toMatch(/^ {2}plugin 'function'\nHit Ctrl\^C to stop recording\n/);
    expect(bounded.status).toBe(137);
  });
});

describe('trace-cmd list / start / stop / show / reset / extract', () => {
  it('list -t -e -f -o', () => {
    const { shell } = bootShell();
    expect(shell.exec('trace-cmd list -t').stdout).toBe('blk mmiotrace function_graph function nop\n');
    const ev = shell.exec('trace-cmd list -e sched_switch').stdout;
    expect(ev).toBe('sched:sched_switch\n');
    expect(shell.exec('trace-cmd list -f ^vfs_read$').stdout).toBe('vfs_read\n');
    expect(shell.exec('trace-cmd list -o').stdout).toContain('print-parent\n');
  });

  it('start configures tracefs, stop/show/extract/reset', () => {
    const { k, shell } = bootShell();
    const ctx = k.rootCtx();
    expect(shell.exec('trace-cmd start -p function -l vfs_read').stdout).toBe("  plugin 'function'\n");
    expect(k.vfs.readFile(ctx, '/sys/kernel/tracing/current_tracer')).toBe('function\n');
    expect(k.vfs.readFile(ctx, '/sys/kernel/tracing/set_ftrace_filter')).toBe('vfs_read\n');
    shell.exec('cat /proc/version > /dev/null');
    const show = shell.exec('trace-cmd show').stdout;
    expect(show.startsWith('# tracer: function\n')).toBe(true);
    expect(show).toMatch(/cat-\d+ +\[\d{3}\] \.{5} +\d+\.\d{6}: vfs_read <-ksys_read/);
    shell.exec('trace-cmd stop');
    expect(k.vfs.readFile(ctx, '/sys/kernel/tracing/tracing_on')).toBe('0\n');
    const ex = shell.exec('trace-cmd extract -o ex.dat');
    expect(ex.status).toBe(0);
    expect(shell.exec('trace-cmd report -i ex.dat').stdout).toMatch(/function: {13}vfs_read <-- ksys_read/);
    expect(k.trace.recordings().map((r) => r.command)).toEqual(['(extract)']);
    shell.exec('trace-cmd reset');
    expect(k.vfs.readFile(ctx, '/sys/kernel/tracing/current_tracer')).toBe('nop\n');
    expect(k.vfs.readFile(ctx, '/sys/kernel/tracing/tracing_on')).toBe('1\n');
    expect(shell.exec('trace-cmd show').stdout.split('\n').filter((l) => l && !l.startsWith('#'))).toEqual([]);
  });

  it('recordAround (the REST entry point) keeps a bounded list', () => {
    const { k, shell } = bootShell();
    for (let i = 0; i < 18; i++) {
      k.trace.recordAround({ tracer: 'function', functions: ['vfs_read'] }, { kind: 'rest', command: 'cat /proc/version' }, () => {
        shell.exec('cat /proc/version > /dev/null');
      });
    }
    const l = k.trace.recordings();
    expect(l).toHaveLength(8);
    expect(l[0].id).toBe(11);
    const r = k.trace.recording(18)!;
    expect(r.count).toBeGreaterThan(0);
    expect(r.report).toMatch(/function: {13}vfs_read <-- ksys_read/);
    // survives a snapshot round trip
    const k2 = k.getState();
    expect(k2.trace?.recordings?.length).toBe(8);
    expect(k2.trace?.recordings?.[0].report).toBe('');
  });
});

describe('trace-cmd record without a command', () => {
  it('records the whole machine until it is stopped, and keeps what it recorded', () => {
    const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'tc', hostname: 'vm' }, { bootEpochMs: Date.UTC(2026, 0, 1) });
    const us = new Userspace(k);
    const r = us.exec({ command: '(sleep 0.3; cat /etc/hostname > /dev/null) & trace-cmd record -e syscalls:sys_enter_openat -o /tmp/t.dat', timeoutMs: 1000 }, true).runToEnd();
    expect(r.exitCode).toBe(124);
    expect(r.stdout).toMatch(/^Hit Ctrl\^C to stop recording\n/);
    const rep = us.exec({ command: 'trace-cmd report -i /tmp/t.dat' }, true).runToEnd().stdout;
    expect(rep.split('\n').filter((l) => /^\s+cat-\d+ .*sys_enter_openat: .*/.test(l)).length).toBeGreaterThan(0);
    expect(k.trace.recordings().at(-1)).toMatchObject({ kind: 'trace-cmd', command: '(until Ctrl^C)' });
  });
});
