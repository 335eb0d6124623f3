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
