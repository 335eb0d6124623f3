/**
 * The model's call paths: syscall records reported by the syscall layer turn
 * into function / function_graph lines, syscall events and probe firings in
 * the shapes of the Linux 6.1 reference traces.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { T, boot, rd, wr } from './testing';
import { Kernel } from '../kernel';
import { NOT_TRACEABLE, allTreeFunctions } from './callpath';
import type { ProbeFiring } from './probes';
import type { SyscallRecord } from './syscall-record';

const REF = join(__dirname, '../../../../shared/reference/linux-6.1/tracefs');
const ref = (p: string): string => readFileSync(join(REF, p), 'utf8');

function spawnCat(k: Kernel): number {
  return k.sched.spawn(1, { path: '/usr/bin/cat', argv: ['cat', '/proc/version'] });
}

function readRec(startNs: number, fstype = 'proc', durNs = 60_000): SyscallRecord {
  return { name: 'read', nr: 0, args: [3, 0x7ffd1000, 131072, 0, 0, 0], ret: 120, fstype, bytes: 120, startNs, durNs };
}

const CTX = /^\s*(.+)-(\d+)\s+\[(\d{3})\] (.{5})\s+(\d+\.\d{6}): (.*)$/;

describe('call path tables', () => {
  it('name only functions from available_filter_functions (besides the noinstr entry code)', () => {
    const avail = new Set(
      ref('available_filter_functions')
        .split('\n')
        .map((l) => l.split(' [')[0]),
    );
    const bad = allTreeFunctions().filter((f) => !avail.has(f) && !NOT_TRACEABLE.includes(f));
    expect(bad).toEqual([]);
  });
});

describe('Trace.syscall', () => {
  it('function tracer + set_ftrace_filter=vfs_read: exactly the reader’s vfs_read lines, reference shape', () => {
    const k = boot();
    const pid = spawnCat(k);
    const other = k.sched.spawn(1, { path: '/usr/bin/sh', argv: ['sh'] });
    wr(k, 'current_tracer', 'function');
    wr(k, 'set_ftrace_filter', 'vfs_read');
    const t = k.now;
    k.trace.syscall(pid, readRec(t + 1000));
    k.trace.syscall(pid, readRec(t + 100_000, 'tmpfs'));
    k.trace.syscall(other, { ...readRec(t + 200_000), name: 'write', nr: 1 });
    const out = rd(k, 'trace');
    const theirs = ref('trace_function_vfs_read');
    // same header as the reference (counts aside)
    expect(out.split('\n').slice(4, 12)).toEqual(theirs.split('\n').slice(4, 12));
    const lines = out.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(lines).toHaveLength(2);
    for (const l of lines) {
      const m = CTX.exec(l);
      expect(m).not.toBeNull();
      expect(m![1].trim()).toBe('cat');
      expect(Number(m![2])).toBe(pid);
      expect(m![4]).toBe('.....');
      expect(m![6]).toBe('vfs_read <-ksys_read');
      // column layout identical to the reference line
      expect(l.indexOf(' [')).toBe(theirs.split('\n')[12].indexOf(' ['));
    }
    expect(out).toContain('# entries-in-buffer/entries-written: 2/2   #P:2');
  });

  it('function_graph: nested path with durations from durNs and the fs-specific read handler', () => {
    const k = boot();
    const pid = spawnCat(k);
    wr(k, 'current_tracer', 'function_graph');
    wr(k, 'set_graph_function', 'vfs_read');
    k.trace.syscall(pid, readRec(k.now + 1000, 'proc', 90_000));
    const out = rd(k, 'trace');
    expect(out.split('\n').slice(0, 4).join('\n')).toBe(ref('trace_function_graph_graphfunc_vfs_read_full_head3000').split('\n').slice(0, 4).join('\n'));
    const cpu = k.sched.task(pid)!.cpu;
    const body = out.split('\n').slice(4).map((l) => l.replace(/^ \d\)/, ' 0)'));
    expect(out).toContain(` ${cpu})               |  vfs_read() {`);
    expect(body[0]).toBe(' 0)               |  vfs_read() {');
    expect(body).toContain(' 0)               |    rw_verify_area() {');
    expect(body).toContain(' 0)               |    proc_reg_read_iter() {');
    expect(body).toContain(' 0)               |      seq_read_iter() {');
    // the closing brace of vfs_read carries its duration, less than the whole call
    const close = body.filter((l) => /^ 0\) .{14}\| {2}\}$/.test(l));
    expect(close).toHaveLength(1);
    const us = Number(/(\d+\.\d+) us/.exec(close[0])![1]);
    expect(us).toBeGreaterThan(10);
    expect(us).toBeLessThan(90);
    // every opened brace is closed
    const opens = body.filter((l) => l.endsWith('{')).length;
    const closes = body.filter((l) => /\|\s+\}$/.test(l)).length;
    expect(opens).toBe(closes);
    // tmpfs reads go through shmem_file_read_iter instead
    wr(k, 'trace', '');
    k.trace.syscall(pid, readRec(k.now + 200_000, 'tmpfs'));
    expect(rd(k, 'trace')).toContain('shmem_file_read_iter() {');
  });

  it('syscall and raw_syscalls events with the format fields', () => {
    const k = boot();
    const pid = spawnCat(k);
    wr(k, 'events/syscalls/sys_enter_openat/enable', '1');
    wr(k, 'events/syscalls/sys_exit_openat/enable', '1');
    wr(k, 'events/syscalls/sys_enter_close/enable', '1');
    wr(k, 'events/raw_syscalls/enable', '1');
    const t = k.now;
    k.trace.syscall(pid, { name: 'openat', nr: 257, args: [-100, 0x7ffcf83dd320, 0x80000, 0, 0, 0], ret: -2, path: '/etc/ld.so.preload', startNs: t + 1000, durNs: 5000 });
    k.trace.syscall(pid, { name: 'close', nr: 3, args: [3, 0, 0, 0, 0, 0], ret: 0, startNs: t + 10_000, durNs: 2000 });
    const lines = rd(k, 'trace')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => CTX.exec(l)![6]);
    expect(lines).toEqual([
      'sys_enter: NR 257 (ffffffffffffff9c, 7ffcf83dd320, 80000, 0, 0, 0)',
      'sys_openat(dfd: ffffff9c, filename: 7ffcf83dd320, flags: 80000, mode: 0)',
      'sys_exit: NR 257 = -2',
      'sys_openat -> 0xfffffffffffffffe',
      'sys_enter: NR 3 (3, 0, 0, 0, 0, 0)',
      'sys_close(fd: 3)',
      'sys_exit: NR 3 = 0',
    ]);
    // the synthesized format of sys_enter_close
    expect(rd(k, 'events/syscalls/sys_enter_close/format')).toContain('\tfield:unsigned int fd;\toffset:16;\tsize:8;\tsigned:0;\n');
    // filters work on the syscall fields
    wr(k, 'trace', '');
    wr(k, 'events/syscalls/sys_enter_close/filter', 'fd == 4');
    k.trace.syscall(pid, { name: 'close', nr: 3, args: [3, 0, 0, 0, 0, 0], ret: 0, startNs: k.now + 20_000, durNs: 2000 });
    expect(rd(k, 'trace')).not.toContain('sys_close(');
  });

  it('sleeping syscalls switch the task out and back in', () => {
    const k = boot();
    const pid = k.sched.spawn(1, { path: '/usr/bin/sleep', argv: ['sleep', '1'] });
    wr(k, 'events/sched/sched_switch/enable', '1');
    wr(k, 'events/sched/sched_wakeup/enable', '1');
    k.trace.syscall(pid, { name: 'clock_nanosleep', nr: 230, args: [0, 0, 0x7ffd0000, 0, 0, 0], ret: 0, startNs: k.now + 1000, durNs: 1e9 });
    const ev = rd(k, 'trace')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(ev).toHaveLength(3);
    expect(ev[0]).toMatch(/sleep-\d+ +\[\d{3}\] d\.\.2\. .*sched_switch: prev_comm=sleep prev_pid=\d+ prev_prio=120 prev_state=S ==> next_comm=swapper\/\d next_pid=0 next_prio=120$/);
    expect(ev[1]).toMatch(/<idle>-0 .*sched_wakeup: comm=sleep pid=\d+ prio=120 target_cpu=00\d$/);
    expect(ev[2]).toMatch(/sched_switch: prev_comm=swapper\/\d prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=sleep/);
    const ts = ev.map((l) => Number(CTX.exec(l)![5]));
    expect(ts[2] - ts[0]).toBeGreaterThan(0.99);
  });

  it('fork/exec/exit events from the scheduler', () => {
    const k = boot();
    wr(k, 'events/sched/sched_process_fork/enable', '1');
    wr(k, 'events/sched/sched_process_exec/enable', '1');
    wr(k, 'events/sched/sched_process_exit/enable', '1');
    const pid = k.sched.fork(1);
    k.sched.exec(pid, '/bin/true', ['true']);
    k.sched.exit(pid, 0);
    const ev = rd(k, 'trace')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => CTX.exec(l)![6]);
    expect(ev[0]).toMatch(new RegExp(`^sched_process_fork: comm=\\S+ pid=1 child_comm=\\S+ child_pid=${pid}$`));
    expect(ev[1]).toBe(`sched_process_exec: filename=/bin/true pid=${pid} old_pid=${pid}`);
    expect(ev[2]).toBe(`sched_process_exit: comm=true pid=${pid} prio=120`);
  });

  it('fires kprobe/kretprobe/tracepoint handlers on the probe bus, with a kernel stack', () => {
    const k = boot();
    const pid = spawnCat(k);
    const got: ProbeFiring[] = [];
    const off = [
      k.probes.attach('kprobe', 'vfs_read', (f) => got.push(f)),
      k.probes.attach('kretprobe', '__x64_sys_read', (f) => got.push(f)),
      k.probes.attach('kretprobe', 'vfs_read', (f) => got.push(f)),
      k.probes.attach('tracepoint', 'syscalls:sys_enter_read', (f) => got.push(f)),
    ];
    k.trace.syscall(pid, readRec(k.now + 1000));
    expect(got.map((f) => `${f.kind}:${f.name}`)).toEqual(['tracepoint:syscalls:sys_enter_read', 'kprobe:vfs_read', 'kretprobe:vfs_read', 'kretprobe:__x64_sys_read']);
    const kp = got[1];
    expect(kp.pid).toBe(pid);
    expect(kp.comm).toBe('cat');
    expect(kp.kstack.map((s) => s.split('+')[0])).toEqual(['vfs_read', 'ksys_read', '__x64_sys_read', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']);
    expect(got[2].retval).toBe(120n);
    expect(got[3].retval).toBe(120n);
    expect(got[2].nsecs).toBeGreaterThan(kp.nsecs);
    expect(got[0].fields?.count).toBe(131072);
    off.forEach((f) => f());
  });

  it('costs nothing observable while tracing is off', () => {
    const k = boot();
    const pid = spawnCat(k);
    const before = JSON.stringify(k.trace.getState());
    k.trace.syscall(pid, readRec(k.now + 1000));
    expect(JSON.stringify(k.trace.getState())).toBe(before);
  });

  it('kmem events from the openat path and module_load from the loader', () => {
    const k = boot();
    const pid = spawnCat(k);
    wr(k, 'events/kmem/kmem_cache_alloc/enable', '1');
    k.trace.syscall(pid, { name: 'openat', nr: 257, args: [-100, 0x7ffcf83dd320, 0, 0, 0, 0], ret: 3, path: '/proc/version', fstype: 'proc', startNs: k.now + 1000, durNs: 20_000 });
    const ev = rd(k, 'trace')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(ev.length).toBeGreaterThanOrEqual(2);
    expect(CTX.exec(ev[0])![6]).toMatch(/^kmem_cache_alloc: call_site=getname_flags\+0x[0-9a-f]+\/0x[0-9a-f]+ ptr=ffff888[0-9a-f]+ bytes_req=256 bytes_alloc=256 gfp_flags=GFP_KERNEL node=-1 accounted=false$/);
  });
});

describe('other trace points', () => {
  it('a timer tick inside a long call runs the hrtimer path in hardirq context', () => {
    const k = boot();
    const pid = spawnCat(k);
    wr(k, 'current_tracer', 'function');
    wr(k, 'set_ftrace_filter', 'scheduler_tick vfs_read');
    const t0 = Math.ceil(k.now / 4_000_000) * 4_000_000 + 1_000_000;
    k.trace.syscall(pid, readRec(t0, 'proc', 5_000_000));
    const lines = rd(k, 'trace')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(lines).toHaveLength(2);
    const ts = lines.map((l) => CTX.exec(l)!);
    expect(ts.map((m) => m[6])).toEqual(['vfs_read <-ksys_read', 'scheduler_tick <-update_process_times']);
    expect(ts[1][4]).toBe('d.h1.');
    const tick = Math.ceil(t0 / 4_000_000) * 4_000_000;
    const at = Math.round(Number(ts[1][5]) * 1e6) * 1000;
    expect(at - tick).toBeGreaterThanOrEqual(0);
    expect(at - tick).toBeLessThan(20_000);
  });

  it('module:module_load / module_free from the module loader', () => {
    const k = boot();
    wr(k, 'events/module/module_load/enable', '1');
    wr(k, 'events/module/module_free/enable', '1');
    k.modules.load('loop');
    k.modules.unload('loop');
    const ev = rd(k, 'trace')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => CTX.exec(l)![6]);
    expect(ev).toEqual(['module_load: loop ', 'module_free: loop']);
  });

  it('user kprobes (kprobe_events) fire on the call path with the argument registers', () => {
    const k = boot();
    const pid = spawnCat(k);
    wr(k, 'kprobe_events', 'p:myopen do_sys_openat2 dfd=%di:s32 path=+0(%si):string');
    k.vfs.writeFile(k.rootCtx(), `${T}/kprobe_events`, 'r:myret __x64_sys_openat ret=$retval:s64\n', { append: true });
    wr(k, 'events/kprobes/enable', '1');
    k.trace.syscall(pid, { name: 'openat', nr: 257, args: [-100, 0x7ffcf83dd320, 0, 0, 0, 0], ret: 3, path: '/proc/version', fstype: 'proc', startNs: k.now + 1000, durNs: 20_000 });
    const ev = rd(k, 'trace')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => CTX.exec(l)![6]);
    expect(ev).toEqual(['myopen: (do_sys_openat2+0x0/0x170) dfd=-100 path="/proc/version"', 'myret: (do_syscall_64+0x5d/0x90 <- __x64_sys_openat) ret=3'].map((s) => expect.stringMatching(new RegExp('^' + s.replace(/[()+.?]/g, (c) => `\\${c}`).replace('0x5d/0x90', '0x[0-9a-f]+/0x[0-9a-f]+') + '$'))));
  });
});

describe('scheduler trace points', () => {
  it('a program that runs and sleeps switches out and is woken (sched_switch / sched_wakeup)', () => {
    const k = boot();
    wr(k, 'events/sched/sched_switch/enable', '1');
    wr(k, 'events/sched/sched_wakeup/enable', '1');
    const pid = k.sched.spawn(1, { path: '/usr/bin/worker', argv: ['worker'], program: [{ op: 'run', ns: 2_000_000 }, { op: 'sleep', ns: 10_000_000 }], loop: true });
    k.advance(50_000_000);
    const ev = rd(k, 'trace')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => CTX.exec(l)![6]);
    const outs = ev.filter((e) => e.startsWith(`sched_switch: prev_comm=worker prev_pid=${pid} prev_prio=120 prev_state=S ==> `));
    const wakes = ev.filter((e) => new RegExp(`^sched_wakeup: comm=worker pid=${pid} prio=120 target_cpu=00\\d$`).test(e));
    expect(outs.length).toBeGreaterThanOrEqual(3);
    expect(wakes.length).toBeGreaterThanOrEqual(3);
  });
});

describe('exit_group', () => {
  it('never returns: no sys_exit, the task switches out as a zombie, do_exit stays open', () => {
    const k = boot();
    const pid = spawnCat(k);
    wr(k, 'events/raw_syscalls/enable', '1');
    wr(k, 'events/sched/sched_switch/enable', '1');
    wr(k, 'current_tracer', 'function_graph');
    wr(k, 'set_graph_function', '__x64_sys_exit_group');
    k.trace.syscall(pid, { name: 'exit_group', nr: 231, args: [0], ret: 0, startNs: k.now + 1000, durNs: 8000 });
    const body = rd(k, 'trace').split('\n').slice(4);
    expect(body.filter((l) => /sys_enter: NR 231 \(0, 0, 0, 0, 0, 0\)/.test(l))).toHaveLength(1);
    expect(body.some((l) => l.includes('sys_exit:'))).toBe(false);
    expect(body.some((l) => /sched_switch: prev_comm=cat prev_pid=\d+ prev_prio=120 prev_state=Z ==> next_comm=swapper\/\d next_pid=0/.test(l))).toBe(true);
    expect(body).toContainEqual(expect.stringMatching(/\| {2}__x64_sys_exit_group\(\) \{$/));
    expect(body).toContainEqual(expect.stringMatching(/\| {6}do_exit\(\) \{$/));
    // nothing closes __x64_sys_exit_group / do_group_exit / do_exit / do_task_dead
    const opens = body.filter((l) => l.endsWith('{')).length;
    const closes = body.filter((l) => /\|\s+\}$/.test(l)).length;
    expect(opens - closes).toBe(4);
  });
});

describe('func_stack_trace', () => {
  it('stack traces of the call path like trace_function_vfs_read_stacktrace', () => {
    const k = boot();
    const pid = spawnCat(k);
    wr(k, 'current_tracer', 'function');
    wr(k, 'set_ftrace_filter', 'vfs_read');
    wr(k, 'options/func_stack_trace', '1');
    k.trace.syscall(pid, readRec(k.now + 1000));
    k.trace.syscall(pid, { ...readRec(k.now + 100_000), name: 'pread64', nr: 17 });
    const ours = rd(k, 'trace').split('\n').slice(12).filter((l) => l.startsWith(' =>'));
    const theirs = ref('trace_function_vfs_read_stacktrace').split('\n').slice(12, 26).filter((l) => l.startsWith(' =>'));
    expect(ours).toEqual(theirs);
  });
});

describe('function_graph with set_ftrace_filter (trace_function_graph_filter_vfs_read)', () => {
  it('leaf lines per read and a context-switch block between two readers on one CPU', () => {
    const k = boot();
    const a = spawnCat(k);
    const b = spawnCat(k);
    k.sched.setAffinity(a, [0]);
    k.sched.setAffinity(b, [0]);
    wr(k, 'current_tracer', 'function_graph');
    wr(k, 'set_ftrace_filter', 'vfs_read');
    let t = k.now + 1000;
    for (const pid of [a, a, b]) {
      k.trace.syscall(pid, readRec(t, 'proc', 20_000));
      t += 100_000;
    }
    const ours = rd(k, 'trace').split('\n');
    const theirs = ref('trace_function_graph_filter_vfs_read').split('\n');
    expect(ours.slice(0, 4)).toEqual(theirs.slice(0, 4));
    const shape = (l: string): string =>
      l
        .replace(/[ +!] +\d+\.\d{3} us/, 'D us')
        .replace(/cat-\d+/g, 'cat-P')
        .replace(/ +/g, ' ');
    expect(ours.slice(4, 11).map(shape)).toEqual([theirs[6], theirs[7], theirs[9], theirs[10], theirs[11], theirs[12], theirs[13]].map(shape));
    expect(ours[4]).toMatch(/^ 0\) [ +!] +\d+\.\d{3} us +\| {2}vfs_read\(\);$/);
    // the duration column is as wide as the kernel's
    expect(ours[4].indexOf('|')).toBe(theirs[6].indexOf('|'));
    expect(ours[7].length).toBe(theirs[10].length);
  });
});
