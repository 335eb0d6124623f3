import fc from 'fast-check';
import { KernelError } from '../errors';
import { Kernel } from '../kernel';

const MM_FILES = ['meminfo', 'vmstat', 'zoneinfo', 'buddyinfo', 'pagetypeinfo', 'slabinfo', 'vmallocinfo', 'swaps'];
const EXES = ['/usr/bin/cat', '/usr/bin/bash', '/usr/bin/python3', '/usr/bin/stress-ng', '/usr/local/bin/app'];

type Op =
  | { t: 'spawn'; exe: number; anon: number }
  | { t: 'fault'; who: number; n: number }
  | { t: 'release'; who: number; n: number }
  | { t: 'kill'; who: number }
  | { t: 'fork'; who: number }
  | { t: 'raw'; pid: number; exe: number }
  | { t: 'rawExit'; pid: number }
  | { t: 'read'; file: number; bytes: number }
  | { t: 'drop'; mode: number }
  | { t: 'tmpfs'; file: number; bytes: number }
  | { t: 'tune'; name: 'swappiness' | 'min_free_kbytes' | 'overcommit_memory' | 'watermark_scale_factor'; v: number }
  | { t: 'swapon'; kb: number }
  | { t: 'vmalloc'; bytes: number }
  | { t: 'vfree' }
  | { t: 'advance'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('spawn' as const), exe: fc.nat(EXES.length - 1), anon: fc.nat(3000) }),
  fc.record({ t: fc.constant('fault' as const), who: fc.nat(), n: fc.integer({ min: 1, max: 12000 }) }),
  fc.record({ t: fc.constant('release' as const), who: fc.nat(), n: fc.integer({ min: 1, max: 8000 }) }),
  fc.record({ t: fc.constant('kill' as const), who: fc.nat() }),
  fc.record({ t: fc.constant('fork' as const), who: fc.nat() }),
  fc.record({ t: fc.constant('raw' as const), pid: fc.integer({ min: 90000, max: 90005 }), exe: fc.nat(EXES.length - 1) }),
  fc.record({ t: fc.constant('rawExit' as const), pid: fc.integer({ min: 90000, max: 90005 }) }),
  fc.record({ t: fc.constant('read' as const), file: fc.nat(6), bytes: fc.integer({ min: 1, max: 8_000_000 }) }),
  fc.record({ t: fc.constant('drop' as const), mode: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ t: fc.constant('tmpfs' as const), file: fc.nat(3), bytes: fc.nat(3_000_000) }),
  fc.record({
    t: fc.constant('tune' as const),
    name: fc.constantFrom(
      'swappiness' as const,
      'min_free_kbytes' as const,
      'overcommit_memory' as const,
      'watermark_scale_factor' as const,
    ),
    v: fc.nat(2000),
  }),
  fc.record({ t: fc.constant('swapon' as const), kb: fc.integer({ min: 1024, max: 65536 }) }),
  fc.record({ t: fc.constant('vmalloc' as const), bytes: fc.integer({ min: 1, max: 400_000 }) }),
  fc.record({ t: fc.constant('vfree' as const) }),
  fc.record({ t: fc.constant('advance' as const), ms: fc.nat(5000) }),
);

const boot = (): Kernel => Kernel.boot({ cpus: 2, memoryMb: 160, seed: 'inv', hostname: 'h' });

function userPids(k: Kernel): number[] {
  return k.sched
    .tasks()
    .filter((t) => !t.kthread && t.pid === t.tgid && t.pid !== 1 && k.mm.taskMem(t.pid))
    .map((t) => t.pid);
}

function apply(k: Kernel, op: Op, vm: number[]): void {
  const pick = (n: number): number | undefined => {
    const pids = userPids(k);
    return pids.length ? pids[n % pids.length] : undefined;
  };
  try {
    switch (op.t) {
      case 'spawn':
        k.sched.spawn(1, { argv: [EXES[op.exe]], path: EXES[op.exe], anonPages: op.anon });
        break;
      case 'fault': {
        const p = pick(op.who);
        if (p !== undefined) k.mm.anonFault(p, op.n);
        break;
      }
      case 'release': {
        const p = pick(op.who);
        if (p !== undefined) k.mm.anonRelease(p, op.n);
        break;
      }
      case 'kill': {
        const p = pick(op.who);
        if (p !== undefined) k.sched.kill(p, 9);
        break;
      }
      case 'fork': {
        const p = pick(op.who);
        if (p !== undefined) k.sched.fork(p);
        break;
      }
      case 'raw':
        k.mm.createAddressSpace(op.pid, { exe: EXES[op.exe] });
        break;
      case 'rawExit':
        k.mm.exitAddressSpace(op.pid);
        break;
      case 'read':
        k.mm.chargeFileRead(`/srv/data/f${op.file}`, op.bytes);
        break;
      case 'drop':
        k.mm.dropCaches(op.mode);
        break;
      case 'tmpfs':
        k.vfs.writeFile(k.rootCtx(), `/tmp/f${op.file}`, 'x'.repeat(op.bytes));
        if (op.file % 2) k.mm.syncExternal();
        break;
      case 'tune':
        k.mm.setVmTunable(
          op.name,
          op.name === 'min_free_kbytes'
            ? 500 + op.v * 4
            : op.name === 'watermark_scale_factor'
              ? 1 + op.v
              : op.v % (op.name === 'overcommit_memory' ? 3 : 201),
        );
        break;
      case 'swapon':
        if (!k.mm.swapAreas().length) k.mm.swapon('/swapfile', op.kb);
        break;
      case 'vmalloc':
        vm.push(k.mm.vmallocAdd('test_alloc+0x1/0x10', op.bytes));
        break;
      case 'vfree': {
        const id = vm.pop();
        if (id !== undefined) k.mm.vmallocRemove(id);
        break;
      }
      case 'advance':
        k.advance(op.ms * 1_000_000);
        break;
    }
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
  }
}

const num = (text: string, re: RegExp): number[] => [...text.matchAll(re)].map((m) => Number(m[1]));

function check(k: Kernel): void {
  const ctx = k.rootCtx();
  const r = (f: string): string => k.vfs.readFile(ctx, `/proc/${f}`);
  const meminfo = r('meminfo');
  const mi: Record<string, number> = {};
  for (const l of meminfo.trim().split('\n')) {
    const m = /^(\S+):\s+(-?\d+)/.exec(l) as RegExpExecArray;
    mi[m[1]] = Number(m[2]);
  }
  for (const v of Object.values(mi)) expect(Number.isInteger(v) && v >= 0).toBe(true);
  const zoneinfo = r('zoneinfo');
  for (const f of [zoneinfo, r('vmstat'), r('buddyinfo'), r('pagetypeinfo'), r('slabinfo')]) expect(f).not.toMatch(/ -\d|NaN|undefined/);
  // MemTotal = sum of the zones' managed pages
  expect(mi.MemTotal).toBe(num(zoneinfo, /managed {2}(\d+)/g).reduce((a, b) => a + b, 0) * 4);
  // MemFree = buddy free lists = zoneinfo = vmstat = pagetypeinfo
  const buddy = r('buddyinfo')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).slice(4).map(Number));
  const buddyPages = buddy.reduce((a, row) => a + row.reduce((b, n, o) => b + n * 2 ** o, 0), 0);
  expect(mi.MemFree).toBe(buddyPages * 4);
  expect(mi.MemFree).toBe(num(zoneinfo, /pages free {5}(\d+)/g).reduce((a, b) => a + b, 0) * 4);
  expect(mi.MemFree).toBe(num(r('vmstat'), /^nr_free_pages (\d+)$/gm)[0] * 4);
  const pt = r('pagetypeinfo')
    .split('\n')
    .filter((l) => l.includes(', type '))
    .map((l) =>
      l
        .replace(/^.*type +\S+ /, '')
        .trim()
        .split(/\s+/)
        .map(Number),
    );
  expect(pt.reduce((a, row) => a + row.reduce((b, n, o) => b + n * 2 ** o, 0), 0)).toBe(buddyPages);
  // every page is free, on a pcp list, or used by exactly one category
  const st = k.mm.stats();
  const used = st.used;
  for (const u of used) expect(u).toBeGreaterThanOrEqual(0);
  expect(st.free + st.pcp + used.reduce((a, b) => a + b, 0)).toBe(k.mm.totalPages);
  // Slab = SReclaimable + SUnreclaim = slabinfo
  expect(mi.Slab).toBe(mi.SReclaimable + mi.SUnreclaim);
  const slabKb = r('slabinfo')
    .trim()
    .split('\n')
    .slice(2)
    .reduce((a, l) => {
      const f = l.trim().split(/\s+/);
      return a + Number(f[14]) * Number(f[5]) * 4;
    }, 0);
  expect(mi.Slab).toBe(slabKb);
  // LRU lists cover anon + shmem and the file cache
  expect(mi['Active(anon)'] + mi['Inactive(anon)']).toBe(mi.AnonPages + mi.Shmem);
  expect(mi['Active(file)'] + mi['Inactive(file)']).toBe(mi.Buffers + mi.Cached - mi.Shmem);
  expect(mi.Active).toBe(mi['Active(anon)'] + mi['Active(file)']);
  expect(mi.MemAvailable).toBeLessThanOrEqual(mi.MemTotal);
  expect(mi.SwapFree).toBeLessThanOrEqual(mi.SwapTotal);
  // physical anonymous pages = what the address spaces own
  let priv = 0;
  let swapped = 0;
  for (const pid of [...k.sched.tasks().map((t) => t.pid), 90000, 90001, 90002, 90003, 90004, 90005]) {
    const sp = k.mm.space(pid);
    if (!sp) continue;
    priv += sp.priv;
    swapped += sp.mem.swapPages;
    for (const v of Object.values(sp.mem)) expect(v).toBeGreaterThanOrEqual(0);
    expect(sp.shared).toBeGreaterThanOrEqual(0);
    expect(sp.mem.rssAnonPages).toBe(sp.priv + sp.shared);
  }
  expect(mi.AnonPages).toBe(priv * 4);
  expect(mi.SwapTotal - mi.SwapFree).toBe(swapped * 4);
}

function renders(k: Kernel): string[] {
  const ctx = k.rootCtx();
  const out = MM_FILES.map((f) => k.vfs.readFile(ctx, `/proc/${f}`));
  for (const t of k.sched.tasks()) out.push(k.vfs.readFile(ctx, `/proc/${t.pid}/maps`));
  return out;
}

describe('mm accounting invariants (property)', () => {
  it('hold after any sequence of memory operations; views are pure; snapshots restore identically', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 24 }), (ops) => {
        const k = boot();
        const vm: number[] = [];
        for (const op of ops) {
          apply(k, op, vm);
          check(k);
        }
        // reading every view changes nothing
        const before = JSON.stringify(k.mm.getState());
        renders(k);
        expect(JSON.stringify(k.mm.getState())).toBe(before);
        // snapshot -> restore -> identical renders
        const k2 = Kernel.fromState(JSON.parse(JSON.stringify(k.getState())));
        expect(renders(k2)).toEqual(renders(k));
        check(k2);
      }),
      { numRuns: 40, seed: 4242 },
    );
  });

  it('are deterministic: the same seed and operations give byte-identical views', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 16 }), (ops) => {
        const a = boot();
        const b = boot();
        const va: number[] = [];
        const vb: number[] = [];
        for (const op of ops) {
          apply(a, op, va);
          // b reads its views in between: reads must not perturb the outcome
          renders(b);
          apply(b, op, vb);
        }
        expect(renders(b)).toEqual(renders(a));
        expect(a.printk.records().map((r) => r.text)).toEqual(b.printk.records().map((r) => r.text));
      }),
      { numRuns: 25, seed: 77 },
    );
  });

  it('split time advances and direct advances reach the same mm state', () => {
    const run = (split: boolean): string => {
      const k = boot();
      const pid = k.sched.spawn(1, { argv: ['stress-ng'], path: '/usr/bin/stress-ng' });
      k.mm.anonFault(pid, 5000);
      if (split) {
        k.advanceTo(1_500_000_000);
        k.vfs.readFile(k.rootCtx(), '/proc/meminfo');
        k.advanceTo(3_000_000_000);
      } else k.advanceTo(3_000_000_000);
      k.mm.chargeFileRead('/srv/x', 1 << 20);
      return JSON.stringify(k.mm.getState());
    };
    expect(run(true)).toBe(run(false));
  });
});
