import fc from 'fast-check';
import { Kernel } from '../kernel';
import type { TraceLine } from './trace';

const T = '/sys/kernel/tracing';
function boot(seed = 'ring'): Kernel {
  return Kernel.boot({ cpus: 2, memoryMb: 512, seed, hostname: 'kernelab' });
}
const rd = (k: Kernel, p: string): string => k.vfs.readFile(k.rootCtx(), `${T}/${p}`);
const wr = (k: Kernel, p: string, d: string, append = false): void => k.vfs.writeFile(k.rootCtx(), `${T}/${p}`, d, { append });
const header = (k: Kernel): [number, number] => {
  const m = /entries-in-buffer\/entries-written: (\d+)\/(\d+)/.exec(rd(k, 'trace')) as RegExpExecArray;
  return [Number(m[1]), Number(m[2])];
};

describe('ring buffer accounting', () => {
  it('keeps entries + overrun == written and bytes within the buffer (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.record({ cpu: fc.integer({ min: 0, max: 1 }), len: fc.integer({ min: 0, max: 300 }) }), { minLength: 1, maxLength: 400 }),
        (kb, writes) => {
          const k = boot();
          wr(k, 'buffer_size_kb', String(kb));
          const written = [0, 0];
          for (const w of writes) {
            k.advance(1000);
            k.trace.marker(w.cpu, 1, 'init', 'x'.repeat(w.len));
            written[w.cpu]++;
          }
          const cap = k.trace.capacityBytes();
          let inBuf = 0;
          for (const c of [0, 1]) {
            const s = k.trace.cpuStats(c);
            expect(s.entries + s.overrun).toBe(written[c]);
            expect(s.bytes).toBeLessThanOrEqual(cap);
            expect(s.dropped).toBe(0);
            inBuf += s.entries;
          }
          expect(header(k)).toEqual([inBuf, writes.length]);
          const body = rd(k, 'trace').split('\n').filter((l) => l && !l.startsWith('#'));
          expect(body.length).toBe(inBuf);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('overwrites the oldest entries and counts the overrun per CPU', () => {
    const k = boot();
    wr(k, 'buffer_size_kb', '4');
    expect(rd(k, 'buffer_size_kb')).toBe('4\n');
    expect(rd(k, 'buffer_total_size_kb')).toBe('8\n');
    for (let i = 0; i < 1000; i++) k.trace.marker(0, 1, 'init', `line ${i}`);
    const s = k.trace.cpuStats(0);
    expect(s.overrun).toBeGreaterThan(0);
    expect(rd(k, 'per_cpu/cpu0/stats')).toContain(`entries: ${s.entries}\noverrun: ${s.overrun}\n`);
    expect(rd(k, 'trace')).toContain('tracing_mark_write: line 999\n');
    expect(rd(k, 'trace')).not.toContain('tracing_mark_write: line 0\n');
  });

  it('drops new entries instead when overwrite is off', () => {
    const k = boot();
    wr(k, 'buffer_size_kb', '4');
    wr(k, 'options/overwrite', '0');
    for (let i = 0; i < 1000; i++) k.trace.marker(0, 1, 'init', `line ${i}`);
    const s = k.trace.cpuStats(0);
    expect(s.overrun).toBe(0);
    expect(s.dropped).toBe(1000 - s.entries);
    expect(rd(k, 'trace')).toContain('tracing_mark_write: line 0\n');
  });

  it('tracing_on=0 and tracing_cpumask stop recording; echo > trace empties', () => {
    const k = boot();
    wr(k, 'tracing_on', '0');
    k.trace.marker(0, 1, 'init', 'a');
    expect(header(k)).toEqual([0, 0]);
    wr(k, 'tracing_on', '1');
    wr(k, 'tracing_cpumask', '2');
    expect(rd(k, 'tracing_cpumask')).toBe('2\n');
    k.trace.marker(0, 1, 'init', 'a');
    k.trace.marker(1, 1, 'init', 'b');
    expect(header(k)).toEqual([1, 1]);
    expect(rd(k, 'per_cpu/cpu1/trace')).toContain('tracing_mark_write: b\n');
    wr(k, 'trace', '');
    expect(header(k)).toEqual([0, 0]);
  });

  it('writes to trace_marker through the VFS as the writing task', () => {
    const k = boot();
    k.vfs.writeFile(k.rootCtx(1), `${T}/trace_marker`, 'hello from trace_marker\n');
    const t = k.sched.taskInfo(1);
    const ctx = `${(t?.comm ?? '').padStart(16)}-1       [${String(t?.cpu ?? 0).padStart(3, '0')}] .....`;
    expect(rd(k, 'trace')).toMatch(new RegExp(`^${ctx.replace(/[.[\]]/g, '\\$&')} +\\d+\\.\\d{6}: tracing_mark_write: hello from trace_marker\n`, 'm'));
  });
});

describe('trace_pipe and live subscribers', () => {
  it('consumes what it returns', () => {
    const k = boot();
    wr(k, 'events/sched/sched_wakeup/enable', '1');
    for (let i = 0; i < 5; i++) {
      k.advance(1_000_000);
      k.trace.event(i % 2, 0, 'swapper/0', 'sched', 'sched_wakeup', { comm: 'rcu_preempt', pid: 15, prio: 120, target_cpu: i % 2 }, { flags: 'dNs4.' });
    }
    const out = rd(k, 'trace_pipe');
    expect(out.split('\n').filter((l) => l)).toHaveLength(5);
    expect(out).toMatch(/^ {10}<idle>-0 {7}\[000\] dNs4\. +\d+\.\d{6}: sched_wakeup: comm=rcu_preempt pid=15 prio=120 target_cpu=000\n/);
    expect(rd(k, 'trace_pipe')).toBe('');
    expect(header(k)).toEqual([0, 0]);
    expect(rd(k, 'per_cpu/cpu0/stats')).toContain('read events: 3\n');
    // trace_after_trace_pipe_consumed: an empty header
    wr(k, 'events/sched/sched_wakeup/enable', '0');
  });

  it('numbers lines monotonically and resumes by seq without gaps', () => {
    const k = boot();
    const first = k.trace.nextSeq;
    const got: TraceLine[] = [];
    const sub = k.trace.subscribe(undefined, (l) => got.push(l));
    expect(sub.startSeq).toBe(first);
    expect(sub.missed).toBe(0);
    for (let i = 0; i < 10; i++) k.trace.marker(i % 2, 1, 'init', `m${i}`);
    sub.close();
    expect(got.map((l) => l.seq)).toEqual(Array.from({ length: 10 }, (_, i) => first + i));
    expect(got[3].text).toMatch(/tracing_mark_write: m3$/);
    // a client that saw the first 4 lines resumes at the 5th: backlog then live, no gap, no duplicate
    const resumed: TraceLine[] = [];
    const sub2 = k.trace.subscribe(got[4].seq, (l) => resumed.push(l));
    expect(sub2.missed).toBe(0);
    k.trace.marker(0, 1, 'init', 'live');
    sub2.close();
    expect(resumed.map((l) => l.seq)).toEqual(Array.from({ length: 7 }, (_, i) => got[4].seq + i));
    expect(resumed.map((l) => l.text)).toEqual([...got.slice(4).map((l) => l.text), expect.stringMatching(/tracing_mark_write: live$/)]);
  });

  it('reports lines lost to overwrite or consumption as missed', () => {
    const k = boot();
    const first = k.trace.nextSeq;
    for (let i = 0; i < 6; i++) k.trace.marker(0, 1, 'init', `m${i}`);
    rd(k, 'trace_pipe');
    for (let i = 6; i < 8; i++) k.trace.marker(0, 1, 'init', `m${i}`);
    const got: TraceLine[] = [];
    const sub = k.trace.subscribe(first, (l) => got.push(l));
    expect(sub.missed).toBe(6);
    expect(sub.startSeq).toBe(first + 6);
    expect(got.map((l) => l.text.replace(/.*: /, ''))).toEqual(['m6', 'm7']);
    sub.close();
  });
});

describe('snapshot / restore', () => {
  it('restores identical renders and continues identically', () => {
    const run = (k: Kernel): void => {
      wr(k, 'kprobe_events', 'p:myprobe do_sys_openat2 dfd=%di:s32 filename=+0(%si):string');
      wr(k, 'events/kprobes/myprobe/enable', '1');
      wr(k, 'events/sched/sched_switch/filter', 'prev_pid != 7');
      wr(k, 'events/sched/sched_switch/enable', '1');
      wr(k, 'set_graph_function', 'vfs_read');
      wr(k, 'current_tracer', 'function_graph');
      k.trace.funcEntry(0, 100, 'cat', 'vfs_read', 'ksys_read');
      k.trace.funcEntry(0, 100, 'cat', 'rw_verify_area', 'vfs_read');
    };
    const a = boot('snap');
    run(a);
    const b = Kernel.fromState(JSON.parse(JSON.stringify(a.getState())));
    const files = ['trace', 'kprobe_events', 'set_event', 'events/sched/sched_switch/filter', 'set_graph_function', 'current_tracer', 'per_cpu/cpu0/stats', 'kprobe_profile'];
    for (const f of files) expect(rd(b, f)).toBe(rd(a, f));
    for (const k of [a, b]) {
      k.advance(5000);
      k.trace.funcExit(0, 100, 'cat', 'rw_verify_area', 3000);
      k.trace.funcEntry(0, 100, 'cat', 'do_sys_openat2', 'vfs_read', { args: [-100, '/etc/passwd'] });
      k.trace.funcExit(0, 100, 'cat', 'do_sys_openat2', 1000);
      k.trace.funcExit(0, 100, 'cat', 'vfs_read', 9000);
      k.trace.event(1, 7, 'sh', 'sched', 'sched_switch', { prev_comm: 'sh', prev_pid: 7, prev_prio: 120, prev_state: 1, next_comm: 'x', next_pid: 8, next_prio: 120 });
      k.trace.event(1, 8, 'x', 'sched', 'sched_switch', { prev_comm: 'x', prev_pid: 8, prev_prio: 120, prev_state: 1, next_comm: 'sh', next_pid: 7, next_prio: 120 });
    }
    for (const f of files) expect(rd(b, f)).toBe(rd(a, f));
    expect(rd(a, 'trace')).toContain(' 0)               |  vfs_read() {\n 0)   3.000 us    |    rw_verify_area();\n');
    expect(rd(a, 'trace')).toContain('/* myprobe: (do_sys_openat2+0x0/0x170) dfd=-100 filename="/etc/passwd" */');
    expect(rd(a, 'trace')).toContain('/* sched_switch: prev_comm=x prev_pid=8');
    expect(rd(a, 'trace')).not.toContain('prev_pid=7');
    expect(JSON.stringify(b.getState())).toBe(JSON.stringify(a.getState()));
  });

  it('same seed and inputs give the same output', () => {
    const render = (): string => {
      const k = boot('det');
      wr(k, 'current_tracer', 'function');
      for (let i = 0; i < 50; i++) {
        k.advance(12345);
        k.trace.funcEntry(i % 2, 100 + (i % 3), 'cat', i % 2 ? 'vfs_read' : 'ksys_read', 'do_syscall_64');
      }
      return rd(k, 'trace');
    };
    expect(render()).toBe(render());
  });
});

describe('emission API bounds', () => {
  it('is a no-op while nothing is active, and bounded when exits are never reported', () => {
    const k = boot();
    expect(k.trace.functionsActive).toBe(false);
    expect(k.trace.eventsActive).toBe(false);
    expect(k.trace.funcEntry(0, 1, 'init', 'vfs_read', 'ksys_read')).toBe(false);
    expect(k.trace.event(0, 1, 'init', 'sched', 'sched_switch', {})).toBe(false);
    expect(k.trace.getState().stacks).toEqual([]);
    wr(k, 'current_tracer', 'function');
    for (let i = 0; i < 1000; i++) k.trace.funcEntry(0, 1, 'init', 'vfs_read', 'ksys_read');
    const st = k.trace.getState().stacks;
    expect(st).toHaveLength(1);
    expect(st[0][1].length).toBeLessThanOrEqual(128);
    k.trace.forgetTask(1);
    expect(k.trace.getState().stacks).toEqual([]);
  });
});
