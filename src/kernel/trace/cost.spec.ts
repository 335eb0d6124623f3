/**
 * The tracer's own cost: like on real hardware, a traced call takes longer
 * than an untraced one, and function_graph durations include the cost of
 * tracing the callees.
 */
import { boot, rd, wr } from './testing';
import { Kernel } from '../kernel';
import type { SyscallRecord } from './syscall-record';

const readRec = (startNs: number): SyscallRecord => ({ name: 'read', nr: 0, args: [3, 0x7ffd1000, 131072, 0, 0, 0], ret: 120, fstype: 'proc', bytes: 120, startNs, durNs: 1_000 });

function cat(k: Kernel): number {
  return k.sched.spawn(1, { path: '/usr/bin/cat', argv: ['cat', '/proc/version'] });
}

/** graph lines as [depth, duration µs | undefined, text] */
function graph(text: string): { depth: number; us?: number; fn: string }[] {
  return text
    .split('\n')
    .filter((l) => /^ \d\) /.test(l))
    .map((l) => {
      const m = /^ \d\) ([ +!#*@$])?\s*([\d.]+ us)?\s*\|(\s*)(.*)$/.exec(l) as RegExpExecArray;
      return { depth: (m[3].length - 2) / 2, us: m[2] ? Number(m[2].split(' ')[0]) : undefined, fn: m[4] };
    });
}

describe('tracer cost', () => {
  it('function_graph: leaves cost tenths of a microsecond, a parent at least the sum of its callees', () => {
    const k = boot();
    const pid = cat(k);
    wr(k, 'set_graph_function', 'vfs_read');
    wr(k, 'current_tracer', 'function_graph');
    k.trace.syscall(pid, readRec(1_000_000));
    const lines = graph(rd(k, 'trace'));
    const leaves = lines.filter((l) => l.fn.endsWith('();'));
    expect(leaves.length).toBeGreaterThan(10);
    for (const l of leaves) {
      expect(l.us).toBeGreaterThanOrEqual(0.05);
      expect(l.us).toBeLessThan(1);
    }
    // closing braces: each at least the sum of the durations directly inside it
    const stack: number[] = [];
    let checked = 0;
    for (const l of lines) {
      if (l.fn.endsWith('{')) stack.push(0);
      else if (l.fn === '}') {
        const inner = stack.pop() as number;
        expect(l.us as number).toBeGreaterThanOrEqual(inner);
        checked++;
        if (stack.length) stack[stack.length - 1] += l.us as number;
      } else if (stack.length) stack[stack.length - 1] += l.us as number;
    }
    expect(checked).toBeGreaterThan(5);
    // vfs_read of a /proc file traced call by call: microseconds, not the untraced ~1 µs
    expect(lines[lines.length - 1].us).toBeGreaterThan(3);
  });

  it('a traced system call takes longer than an untraced one, and only by what was recorded', () => {
    const span = (tracer: string, filter = ''): number => {
      const k = boot();
      const pid = cat(k);
      wr(k, 'events/raw_syscalls/enable', '1');
      if (filter) wr(k, 'set_ftrace_filter', filter);
      wr(k, 'current_tracer', tracer);
      const rec = readRec(1_000_000);
      k.trace.syscall(pid, rec);
      if (tracer !== 'function_graph') {
        // the trace shows it: sys_exit comes that much later
        const ts = rd(k, 'trace')
          .split('\n')
          .filter((l) => / sys_(enter|exit): /.test(l))
          .map((l) => Number((/ (\d+\.\d{6}): /.exec(l) as RegExpExecArray)[1]));
        expect(ts).toHaveLength(2);
        expect(Math.abs(Math.round((ts[1] - ts[0]) * 1e9) - rec.durNs)).toBeLessThanOrEqual(1000);
      }
      return rec.durNs;
    };
    const untraced = span('nop');
    expect(untraced).toBe(1_000);
    const graphed = span('function_graph');
    const fn = span('function');
    const one = span('function', 'vfs_read');
    expect(graphed).toBeGreaterThan(fn);
    expect(fn).toBeGreaterThan(one);
    expect(one).toBeGreaterThan(untraced);
    expect(one - untraced).toBeLessThan(200);
  });
});
