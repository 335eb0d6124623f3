import { KernelError } from './errors';
import { SimMachine } from './sim-machine';
import type { MachineSpec } from './machine';

const spec = (over: Partial<MachineSpec> = {}): MachineSpec => ({
  cpus: 2,
  memoryMb: 512,
  seed: 'seed-1',
  hostname: 'kernelab',
  clock: 'manual',
  ...over,
});

describe('SimMachine', () => {
  it('reads /proc files rendered from the model', async () => {
    const m = SimMachine.boot(spec(), { wallMs: () => 0 });
    expect(await m.read('/proc/sys/kernel/hostname')).toBe('kernelab\n');
    expect(await m.read('/etc/hostname')).toBe('kernelab\n');
  });

  it('maps a missing path to ENOENT and a directory read to EISDIR', async () => {
    const m = SimMachine.boot(spec(), { wallMs: () => 0 });
    await expect(m.read('/proc/nope')).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(m.read('/proc')).rejects.toMatchObject({ code: 'EISDIR' });
    await expect(m.read('/proc/../../etc/hostname')).resolves.toBe('kernelab\n');
    await expect(m.read('/x\0y')).rejects.toBeInstanceOf(KernelError);
  });

  it('snapshot then restore reproduces every render, and writes survive', async () => {
    const m = SimMachine.boot(spec(), { wallMs: () => 0 });
    await m.apply({ type: 'write', path: '/proc/sys/vm/swappiness', data: '10\n' });
    await m.apply({ type: 'write', path: '/tmp/note', data: 'hello' });
    await m.apply({ type: 'advance', ns: 5_000_000_000 });
    const snap = await m.snapshot();
    const m2 = SimMachine.fromSnapshot(snap, { wallMs: () => 0 });
    for (const p of ['/proc/sys/vm/swappiness', '/tmp/note', '/proc/uptime', '/proc/meminfo']) {
      expect(await m2.read(p)).toBe(await m.read(p));
    }
    expect(await m2.read('/tmp/note')).toBe('hello');
  });

  it('a realtime clock follows the injected wall clock from the end of the boot log', async () => {
    let wall = 1_000_000;
    const m = SimMachine.boot(spec({ clock: 'realtime' }), { wallMs: () => wall });
    const booted = (await m.info()).uptimeNs;
    expect(booted).toBeGreaterThan(3_000_000_000);
    wall += 2500;
    const info = await m.info();
    expect(info.uptimeNs).toBe(booted + 2_500_000_000);
    // it was powered on when the boot log started
    expect(info.bootEpochMs).toBe(1_000_000 - Math.round(booted / 1e6));
  });

  describe('checkpoints', () => {
    const T = '/sys/kernel/tracing';
    const traced = async (): Promise<SimMachine> => {
      const m = SimMachine.boot(spec(), { wallMs: () => 0 });
      await m.apply({ type: 'write', path: `${T}/buffer_size_kb`, data: '64' });
      await m.apply({ type: 'write', path: `${T}/current_tracer`, data: 'function' });
      return m;
    };
    const work = (m: SimMachine): Promise<unknown> => m.apply({ type: 'exec', command: 'for i in 1 2 3 4 5 6 7 8; do cat /proc/meminfo > /dev/null; done' });
    const restore = (cp: { head: Uint8Array; blob(k: string): Uint8Array }): SimMachine => SimMachine.fromSnapshot(cp.head, { wallMs: () => 0 }, (k) => cp.blob(k));

    it('a head plus blobs restores the machine with its whole trace ring', async () => {
      const m = await traced();
      await work(m);
      const cp = await m.checkpoint();
      // the full ring pages travel as blobs; the head keeps only the page being filled
      expect(cp.blobKeys.length).toBeGreaterThan(10);
      const blobBytes = cp.blobKeys.reduce((a, k) => a + cp.blob(k).length, 0);
      // what left the head is those pages
      expect((await m.snapshot()).length - cp.head.length).toBeGreaterThan(blobBytes * 0.9);
      const m2 = restore(cp);
      for (const p of [`${T}/trace`, `${T}/per_cpu/cpu0/stats`, '/proc/meminfo']) expect(await m2.read(p)).toBe(await m.read(p));
      // and it goes on exactly like the original
      await work(m);
      await work(m2);
      expect(await m2.read(`${T}/trace`)).toBe(await m.read(`${T}/trace`));
    });

    it('a later checkpoint names unchanged pages by the same keys and new ones by new keys', async () => {
      const m = await traced();
      await work(m);
      const a = await m.checkpoint();
      await m.apply({ type: 'exec', command: 'cat /proc/version > /dev/null' });
      const b = await m.checkpoint();
      const old = new Set(a.blobKeys);
      const kept = b.blobKeys.filter((k) => old.has(k));
      const fresh = b.blobKeys.filter((k) => !old.has(k));
      expect(kept.length).toBeGreaterThan(0);
      expect(fresh.length).toBeGreaterThan(0);
      expect(fresh.length).toBeLessThan(kept.length);
      const text = (u: Uint8Array): string => new TextDecoder().decode(u);
      for (const k of kept) expect(text(b.blob(k))).toBe(text(a.blob(k)));
      // a machine restored from the second checkpoint keeps the keys, and never reuses one for other bytes
      const m2 = restore(b);
      await m2.apply({ type: 'exec', command: 'cat /proc/loadavg > /dev/null' });
      const c = await m2.checkpoint();
      for (const k of c.blobKeys) if (b.blobKeys.includes(k)) expect(text(c.blob(k))).toBe(text(b.blob(k)));
      expect(c.blobKeys.filter((k) => !b.blobKeys.includes(k)).every((k) => !a.blobKeys.includes(k))).toBe(true);
    });

    it('a head whose blob is missing is refused; snapshots stay self-contained', async () => {
      const m = await traced();
      await work(m);
      const cp = await m.checkpoint();
      const drop = cp.blobKeys[0];
      expect(() => SimMachine.fromSnapshot(cp.head, { wallMs: () => 0 }, (k) => (k === drop ? undefined : cp.blob(k)))).toThrow(KernelError);
      const snap = await m.snapshot();
      expect(new TextDecoder().decode(snap)).not.toContain('$blob');
      expect(await SimMachine.fromSnapshot(snap, { wallMs: () => 0 }).read(`${T}/trace`)).toBe(await m.read(`${T}/trace`));
    });
  });

  it('journal replay onto a snapshot reaches the same state', async () => {
    const a = SimMachine.boot(spec(), { wallMs: () => 0 });
    const base = await a.snapshot();
    const ops = [
      { type: 'advance', ns: 1_000_000 },
      { type: 'write', path: '/tmp/x', data: 'y' },
      { type: 'advance', ns: 3_000_000_000 },
    ] as const;
    const journal = [];
    for (const op of ops) {
      const r = await a.apply(op);
      journal.push({ vtimeNs: r.vtimeNs, op });
    }
    const b = SimMachine.fromSnapshot(base, { wallMs: () => 0 });
    await b.replay(journal);
    expect(new TextDecoder().decode(await b.snapshot())).toBe(new TextDecoder().decode(await a.snapshot()));
  });
});
