/**
 * tracefs as a filesystem: mount points, listings, modes, and the control
 * files read and written through the VFS, against the Linux 6.1 reference.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { T, boot, errno, rd, wr } from '../../trace/testing';

const REF = join(__dirname, '../../../../../shared/reference/linux-6.1/tracefs');
const ref = (p: string): string => readFileSync(join(REF, p), 'utf8');

describe('tracefs control files', () => {
  const k = boot();
  it('mounts at /sys/kernel/tracing and appears in debugfs', () => {
    expect(rd(k, 'trace')).toBe(ref('trace'));
    expect(k.vfs.readFile(k.rootCtx(), '/sys/kernel/debug/tracing/trace')).toBe(ref('trace'));
    expect(k.vfs.readFile(k.rootCtx(), '/proc/mounts')).toContain('nodev /sys/kernel/tracing tracefs rw,relatime 0 0\n');
  });
  it.each([
    'tracing_on',
    'current_tracer',
    'available_tracers',
    'buffer_size_kb',
    'buffer_total_size_kb',
    'trace_clock',
    'trace_options',
    'tracing_cpumask',
    'saved_cmdlines_size',
    'set_ftrace_filter',
    'set_graph_function',
    'README',
    'available_events',
    'available_filter_functions',
    'kprobe_events',
    'dynamic_events',
    'set_event',
    'error_log',
    'uprobe_events',
    'tracing_thresh',
    'tracing_max_latency',
  ])('%s reads like the reference', (f) => {
    if (f === 'available_filter_functions') {
      // the reference machine had 22 modules loaded; built-in functions are identical
      const mine = rd(k, f).split('\n');
      const theirs = ref(f)
        .split('\n')
        .filter((l) => !l.includes(' ['));
      expect(mine).toEqual(theirs);
    } else expect(rd(k, f)).toBe(ref(f));
  });
  it('lists the reference control files', () => {
    const theirs = ref('ls_tracing')
      .split('\n')
      .slice(1)
      .filter((l) => l)
      .map((l) => l.split(/\s+/).pop() as string);
    const mine = k.vfs.readdir(k.rootCtx(), T).map((e) => e.name);
    // not modelled: the stack tracer, synthetic events, raw markers, printk formats, tgids, dyn_ftrace stats
    const missing = ['dyn_ftrace_total_info', 'printk_formats', 'saved_tgids', 'stack_max_size', 'stack_trace', 'stack_trace_filter', 'synthetic_events', 'trace_marker_raw'];
    expect(mine).toEqual(theirs.filter((n) => !missing.includes(n)));
  });
  it('lists event directories and event files', () => {
    const ls = k.vfs.readdir(k.rootCtx(), `${T}/events`).map((e) => e.name).sort();
    expect(ls).toEqual(ref('events_ls').trim().split('\n').sort());
    const sched = k.vfs.readdir(k.rootCtx(), `${T}/events/sched`).map((e) => e.name).sort();
    expect(sched).toEqual(ref('events_sched_ls').trim().split('\n').sort());
    const sw = k.vfs.readdir(k.rootCtx(), `${T}/events/sched/sched_switch`);
    expect(sw.map((e) => `${e.name}:${e.mode.toString(8)}`)).toEqual(['enable:640', 'filter:640', 'format:440', 'hist:440', 'id:440', 'trigger:640']);
    expect(k.vfs.readdir(k.rootCtx(), `${T}/options`).map((e) => e.name)).toEqual(ref('options_ls').trim().split('\n'));
  });
  it('serves the reference formats', () => {
    for (const f of ['sched_sched_switch', 'syscalls_sys_enter_openat', 'ftrace_print', 'sched_sched_wakeup']) {
      const [sys, ...rest] = f.split('_');
      const name = rest.join('_');
      expect(rd(k, `events/${sys}/${name}/format`)).toBe(ref(`formats/${f}.format`));
    }
    expect(rd(k, 'events/header_page')).toBe(ref('header_page'));
    expect(rd(k, 'per_cpu/cpu0/stats')).toMatch(/^entries: 0\noverrun: 0\ncommit overrun: 0\nbytes: 0\noldest event ts: +\d+\.\d{6}\nnow ts: +\d+\.\d{6}\ndropped events: 0\nread events: 0\n$/);
  });
  it('fails bad writes with the reference errnos', () => {
    const rc = (f: string): string => (ref(f).includes('No such file') ? 'ENOENT' : ref(f).includes('busy') ? 'EBUSY' : 'EINVAL');
    expect(errno(() => wr(k, 'current_tracer', 'no_such_tracer'))).toBe(rc('bad_current_tracer_write'));
    expect(errno(() => wr(k, 'set_ftrace_filter', 'no_such_function_xyz'))).toBe(rc('bad_ftrace_filter_write'));
    expect(ref('bad_ftrace_filter_write.rc')).toBe('exit status: 1\n');
    expect(errno(() => wr(k, 'trace_clock', 'sundial'))).toBe('EINVAL');
    expect(errno(() => wr(k, 'set_event', 'nosuch:event'))).toBe('EINVAL');
    expect(rd(k, 'set_ftrace_filter')).toBe(ref('set_ftrace_filter'));
  });
  it('snapshot: freed help text, swap on `echo 1`, and the snapshot trigger', () => {
    const k2 = boot();
    expect(rd(k2, 'snapshot')).toMatch(/^# tracer: nop\n#\n#\n# \* Snapshot is freed \*\n#\n# Snapshot commands:\n/);
    k2.trace.marker(0, 1, 'init', 'before');
    wr(k2, 'snapshot', '1');
    expect(rd(k2, 'snapshot')).toContain('tracing_mark_write: before\n');
    expect(rd(k2, 'trace')).not.toContain('before');
    wr(k2, 'snapshot', '2');
    expect(rd(k2, 'snapshot')).toContain('# * Snapshot is allocated *');
    wr(k2, 'events/sched/sched_wakeup/trigger', 'snapshot');
    k2.trace.marker(0, 1, 'init', 'again');
    k2.trace.event(0, 1, 'init', 'sched', 'sched_wakeup', { comm: 'a', pid: 2, prio: 120, target_cpu: 0 });
    expect(rd(k2, 'snapshot')).toContain('tracing_mark_write: again\n');
    wr(k2, 'snapshot', '0');
    expect(rd(k2, 'snapshot')).toContain('# * Snapshot is freed *');
    expect(rd(k2, 'saved_cmdlines')).toMatch(/^1 \S+\n/);
  });
  it('set_event: sys:event, sys:*, ! and list order', () => {
    wr(k, 'set_event', 'sched:sched_process_exec sched:sched_process_fork sched:sched_process_exit syscalls:sys_enter_openat syscalls:sys_exit_openat');
    expect(rd(k, 'set_event')).toBe(ref('set_event_multi'));
    expect(rd(k, 'events/sched/enable')).toBe('X\n');
    wr(k, 'set_event', '!syscalls:*', true);
    expect(rd(k, 'set_event')).toBe('sched:sched_process_exec\nsched:sched_process_fork\nsched:sched_process_exit\n');
    wr(k, 'set_event', '');
    expect(rd(k, 'set_event')).toBe('');
    wr(k, 'events/sched/sched_switch/enable', '1');
    expect(rd(k, 'set_event')).toBe(ref('set_event_with_sched_switch'));
    wr(k, 'events/enable', '0');
    expect(rd(k, 'events/sched/sched_switch/enable')).toBe('0\n');
  });
});

