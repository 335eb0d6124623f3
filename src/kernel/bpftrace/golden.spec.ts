import { readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { runToCompletion } from './test-host';

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
  .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Fixture);

describe('golden outputs recorded from bpftrace 0.17.0', () => {
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
  });
  it.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
    expect(fx.command[0]).toBe('bpftrace');
    const format = fx.flags.includes('json') ? 'json' : 'text';
    const r = runToCompletion(fx.program, { args: fx.args, format });
    expect({ stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode }).toEqual({ stdout: fx.stdout, stderr: fx.stderr, exitCode: fx.exitCode });
  });
});
