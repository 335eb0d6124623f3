/**
 * Property tests of the scheduler model under random workloads: accounting
 * identities, /proc consistency, split invariance, snapshot/restore and
 * determinism.
 */
import * as fc from 'fast-check';
import { KernelError } from '../errors';
import { Kernel } from '../kernel';
import { statJson } from './json';
import type { Step } from './task';

type Op =
  | { op: 'spawn'; prog: Step[]; loop: boolean; nice: number }
  | { op: 'fork'; who: number }
  | { op: 'thread'; who: number }
  | { op: 'kill'; who: number; sig: number }
  | { op: 'exit'; who: number; code: number }
  | { op: 'wait'; who: number }
  | { op: 'nice'; who: number; nice: number }
  | { op: 'affinity'; who: number; mask: number }
  | { op: 'rt'; who: number; prio: number }
  | { op: 'io'; who: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('run' as const), ns: fc.oneof(fc.constant(-1), fc.constant(0), fc.integer({ min: 1e6, max: 3e9 })), user: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ op: fc.constant('run' as const), ns: fc.integer({ min: 1e6, max: 2e9 }), cap: fc.double({ min: 0.05, max: 1, noNaN: true }) }),
  fc.record({ op: fc.constant('sleep' as const), ns: fc.oneof(fc.constant(0), fc.integer({ min: 1e6, max: 3e9 })) }),
  fc.record({ op: fc.constant('io' as const), ns: fc.integer({ min: 1e6, max: 2e9 }), readBytes: fc.integer({ min: 0, max: 1 << 22 }) }),
  fc.record({ op: fc.constant('block' as const), ns: fc.integer({ min: 1e6, max: 1e9 }) }),
  fc.constant({ op: 'wait' as const }),
);

const who = fc.integer({ min: 0, max: 1000 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('spawn' as const), prog: fc.array(stepArb, { minLength: 1, maxLength: 4 }), loop: fc.boolean(), nice: fc.integer({ min: -20, max: 19 }) }) },
  fc.record({ op: fc.constant('fork' as const), who }),
  fc.record({ op: fc.constant('thread' as const), who }),
  fc.record({ op: fc.constant('kill' as const), who, sig: fc.constantFrom(9, 15, 2, 19, 18, 0, 1) }),
  fc.record({ op: fc.constant('exit' as const), who, code: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('wait' as const), who }),
  fc.record({ op: fc.constant('nice' as const), who, nice: fc.integer({ min: -20, max: 19 }) }),
  fc.record({ op: fc.constant('affinity' as const), who, mask: fc.integer({ min: 0, max: 15 }) }),
  fc.record({ op: fc.constant('rt' as const), who, prio: fc.integer({ min: 0, max: 99 }) }),
  fc.record({ op: fc.constant('io' as const), who }),
);

/** A timed script: ops at increasing times. */
const scriptArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 3e9 }), opArb), { minLength: 1, maxLength: 25 });

function boot(cpus: number, seed = 'props'): Kernel {
  return Kernel.boot({ cpus, memoryMb: 512, seed, hostname: 'kernelab' }, { bootEpochMs: Date.UTC(2026, 0, 1) });
}

/** User tasks the ops pick from (by index modulo the count). */
function users(k: Kernel): number[] {
  return k.sched
    .tasks()
    .filter((t) => !t.kthread && t.pid > 300 && t.state !== 'Z')
    .map((t) => t.pid);
}

function apply(k: Kernel, o: Op): void {
  const s = k.sched;
  const u = users(k);
  const pick = (i: number): number | undefined => (u.length ? u[i % u.length] : undefined);
  try {
    switch (o.op) {
      case 'spawn':
        s.spawn(1, { argv: ['/usr/bin/work'], nice: o.nice, program: o.prog, loop: o.loop });
        break;
      case 'fork': {
        const p = pick(o.who);
        if (p) s.fork(p, { program: [{ op: 'run', ns: 5e8 }] });
        break;
      }
      case 'thread': {
        const p = pick(o.who);
        if (p) s.clone(p, { program: [{ op: 'run', ns: 1e9 }, { op: 'sleep', ns: 1e9 }], loop: true });
        break;
      }
      case 'kill': {
        const p = pick(o.who);
        if (p) s.kill(p, o.sig);
        break;
      }
      case 'exit': {
        const p = pick(o.who);
        if (p) s.exit(p, o.code);
        break;
      }
      case 'wait': {
        const p = pick(o.who);
        if (p) s.wait(p);
        break;
      }
      case 'nice': {
        const p = pick(o.who);
        if (p) s.setNice(p, o.nice);
        break;
      }
      case 'affinity': {
        const p = pick(o.who);
        const cpus = [0, 1, 2, 3].filter((c) => o.mask & (1 << c));
        if (p) s.setAffinity(p, cpus);
        break;
      }
      case 'rt': {
        const p = pick(o.who);
        if (p) s.setPolicy(p, o.prio === 0 ? 0 : o.prio % 2 ? 1 : 2, o.prio);
        break;
      }
      case 'io': {
        const p = pick(o.who);
        if (p) s.run(p, [{ op: 'io', ns: 1e9, writeBytes: 65536 }, { op: 'run', ns: 1e8 }]);
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
  }
}

/** Runs a script, also stopping at the given extra split points. */
function runScript(k: Kernel, script: [number, Op][], splits: number[] = [], tail = 2e9): void {
  const base = k.now;
  let t = base;
  const stops = splits.map((x) => base + x).sort((a, b) => a - b);
  const goTo = (target: number): void => {
    while (stops.length && stops[0] < target) {
      const s = stops.shift()!;
      if (s > k.now) k.advanceTo(s);
    }
    k.advanceTo(target);
  };
  for (const [dt, o] of script) {
    t += dt;
    goTo(t);
    apply(k, o);
  }
  goTo(t + tail);
}

const renders = (k: Kernel): string => {
  const read = (p: string): string => {
    try {
      return k.vfs.readFile(k.rootCtx(), p);
    } catch (e) {
      return `<${(e as KernelError).code}>`;
    }
  };
  const files = ['/proc/stat', '/proc/loadavg', '/proc/uptime', '/proc/interrupts', '/proc/softirqs', '/proc/schedstat', '/proc/pressure/cpu', '/proc/pressure/io', '/sys/kernel/debug/sched/debug'];
  for (const t of k.sched.tasks().filter((x) => x.pid > 300 || x.pid < 3)) for (const f of ['stat', 'status', 'sched', 'io', 'schedstat']) files.push(`/proc/${t.pid}/${f}`);
  return files.map((f) => `${f}\n${read(f)}`).join('\n');
};

describe('scheduler properties', () => {
  it('per-CPU times add up: fields sum to uptime, CPUs sum to the total line', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), scriptArb, (cpus, script) => {
        const k = boot(cpus);
        runScript(k, script);
        const st = statJson(k);
        const fields = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guestNice'] as const;
        for (const row of st.cpusNs) expect(fields.reduce((a, f) => a + row[f], 0)).toBe(k.now);
        for (const f of fields) {
          expect(st.cpusNs.reduce((a, r) => a + r[f], 0)).toBe(st.cpuNs[f]);
          // USER_HZ rounding: the total line is the floor of the sum, each CPU line floors its own share
          const sumTicks = st.cpus.reduce((a, r) => a + r[f], 0);
          expect(st.cpu[f] - sumTicks).toBeGreaterThanOrEqual(0);
          expect(st.cpu[f] - sumTicks).toBeLessThan(cpus);
        }
        // rendered text agrees with the JSON
        const lines = k.vfs.readFile(k.rootCtx(), '/proc/stat').split('\n');
        for (let c = 0; c < cpus; c++) expect(lines[c + 1]).toBe(`cpu${c} ${fields.map((f) => st.cpus[c][f]).join(' ')}`);
      }),
      { numRuns: 25 },
    );
  });

  it('a pid directory exists in /proc iff the process exists', () => {
    fc.assert(
      fc.property(scriptArb, (script) => {
        const k = boot(2);
        const seen = new Set<number>();
        const check = (): void => {
          const listed = new Set(
            k.vfs
              .readdir(k.rootCtx(), '/proc')
              .map((e) => e.name)
              .filter((n) => /^\d+$/.test(n))
              .map(Number),
          );
          const leaders = new Set(k.sched.tasks().filter((t) => t.pid === t.tgid).map((t) => t.pid));
          expect([...listed].sort((a, b) => a - b)).toEqual([...leaders].sort((a, b) => a - b));
          for (const t of k.sched.tasks()) expect(() => k.vfs.readFile(k.rootCtx(), `/proc/${t.pid}/stat`)).not.toThrow();
          for (const t of k.sched.tasks()) seen.add(t.pid);
          for (const pid of [...seen, k.sched.getLastPid() + 1]) {
            if (!k.sched.task(pid)) expect(() => k.vfs.readFile(k.rootCtx(), `/proc/${pid}/status`)).toThrow(KernelError);
          }
        };
        let t = 0;
        for (const [dt, o] of script) {
          t += dt;
          k.advanceTo(k.now + dt);
          apply(k, o);
          check();
        }
        void t;
      }),
      { numRuns: 20 },
    );
  });

  it('is split invariant: advancing in any number of steps gives the same state', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        scriptArb,
        fc.array(fc.integer({ min: 0, max: 40e9 }), { minLength: 1, maxLength: 12 }),
        (cpus, script, splits) => {
          const a = boot(cpus, 'split');
          const b = boot(cpus, 'split');
          runScript(a, script, [], 5e9);
          runScript(b, script, splits, 5e9);
          expect(b.now).toBe(a.now);
          expect(JSON.stringify(b.getState())).toBe(JSON.stringify(a.getState()));
          expect(renders(b)).toBe(renders(a));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('snapshot -> restore reproduces every render and the future', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), scriptArb, scriptArb, (cpus, before, after) => {
        const a = boot(cpus, 'snap');
        runScript(a, before);
        const b = Kernel.fromState(JSON.parse(JSON.stringify(a.getState())));
        expect(renders(b)).toBe(renders(a));
        runScript(a, after);
        runScript(b, after);
        expect(JSON.stringify(b.getState())).toBe(JSON.stringify(a.getState()));
        expect(renders(b)).toBe(renders(a));
      }),
      { numRuns: 15 },
    );
  });

  it('same seed and inputs give byte-identical outputs', () => {
    fc.assert(
      fc.property(scriptArb, fc.string({ minLength: 1, maxLength: 8 }), (script, seed) => {
        const a = boot(2, seed);
        const b = boot(2, seed);
        runScript(a, script);
        runScript(b, script);
        expect(renders(b)).toBe(renders(a));
      }),
      { numRuns: 10 },
    );
  });

  it('stat addresses are ordered like a real address space', () => {
    const k = boot(2);
    const p = k.sched.spawn(1, { path: '/usr/bin/bash', argv: ['bash', '-c', 'x'], env: ['A=1'] });
    const f = k.vfs.readFile(k.rootCtx(), `/proc/${p}/stat`).trim().split(' ').map(Number);
    const [startcode, endcode, startstack] = [f[25], f[26], f[27]];
    const [startData, endData, startBrk, argStart, argEnd, envStart, envEnd] = f.slice(44, 51);
    expect(startcode).toBeLessThan(endcode);
    expect(endcode).toBeLessThan(startData);
    expect(startData).toBeLessThan(endData);
    expect(endData).toBeLessThanOrEqual(startBrk);
    expect(startstack).toBeGreaterThan(0x7f0000000000);
    expect(startstack).toBeLessThan(argStart);
    expect(argEnd - argStart).toBe('bash\0-c\0x\0'.length);
    expect(envStart).toBe(argEnd);
    expect(envEnd - envStart).toBe('A=1\0'.length);
  });
});
