import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { Kernel } from '../kernel';
import { runFor } from './service';

/** The same recorded bpftrace 0.17.0 outputs, run on a booted machine (kernel ProbeHost, k.timers, virtual time). */
interface Fixture {
  name: string;
  command: string[];
  program: string;
  args: string[];
  flags: string[];
  stdout: string;
  stderr: string;
  exitCode: number;
}

const dir = join(__dirname, 'fixtures');
const fixtures: Fixture[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture)
  // kprobe fixtures depend on the recording host's kernel (kprobes could not attach there)
  .filter((f) => !/\bkprobes?:/.test(f.program));

describe('golden outputs of bpftrace 0.17.0, run on the kernel model', () => {
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(60);
  });
  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
    const k = Kernel.boot({ cpus: 2, memoryMb: 256, seed: 'golden', hostname: 'vm' }, { bootEpochMs: 1_767_225_600_000 });
    const format = fx.flags.includes('json') ? 'json' : 'text';
    const r = runFor(k, { program: fx.program, args: fx.args, format }, 30e9);
    expect({ stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode }).toEqual({ stdout: fx.stdout, stderr: fx.stderr, exitCode: fx.exitCode });
  });
});
