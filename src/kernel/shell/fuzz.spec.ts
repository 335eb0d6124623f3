import fc from 'fast-check';
import { Parser, ShellSyntaxError } from './parser';
import { bootShell } from './testing';
import type { Shell } from './shell';

const TOKENS = [
  'echo', 'x', 'y=1', '$x', '${x:-d}', '${#x}', '${x/a/b}', '${}', '$', '(', ')', '{', '}', '"', "'", '`', '\\', '|', '|&', '&', ';', ';;',
  '<', '>', '>>', '2>&1', '&>', '<<EOF', 'EOF', '<<<', '$((', '))', '$(', '${', 'if', 'then', 'elif', 'else', 'fi', 'for', 'in',
  'do', 'done', 'while', 'until', 'case', 'esac', '*', '?', '[', ']', '[[', ']]', '\n', ' ', ' ', ' ', '=', '1', '0', '-', '+', 'a',
  'cat', 'yes', 'head -n 2', 'seq 3', 'sleep 1', 'true', 'false', ':', 'f()', 'f', 'wait', 'kill %1', 'jobs', 'exit', 'return',
  'break', 'continue', '~', '#', '!', '&&', '||', '$@', '$?', '$#', '$1', '"$@"', 'local', 'export', 'unset', 'read', 'set -e',
  'eval', 'cd', '/tmp', '..', 'ls', 'grep a', 'sed s/a/b/', 'awk "{print}"', 'sort', 'wc', 'tr a b', 'cut -c1', 'printf %s',
  '$RANDOM', "$'\\n'", '{1..3}', '((1+2))', 'let', 'shift', 'test', '[ 1 ]', 'bash -c', 'sh', 'xargs', 'find .', 'fg', 'bg',
];

const script = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...TOKENS), { maxLength: 24 }).map((t) => t.join(' ')) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...TOKENS), { maxLength: 24 }).map((t) => t.join('')) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
);

describe('shell fuzz', () => {
  it('the parser only ever throws ShellSyntaxError (10,000 inputs)', () => {
    fc.assert(
      fc.property(script, (src) => {
        try {
          Parser.parse(src);
        } catch (e) {
          if (!(e instanceof ShellSyntaxError)) throw e;
        }
      }),
      { numRuns: 10_000, seed: 4242 },
    );
  });

  it('the evaluator never throws and always ends with a status 0..255 (10,000 inputs)', () => {
    let shell: Shell | undefined;
    let runs = 0;
    const fresh = (): Shell =>
      bootShell({ limits: { maxSteps: 400, maxOutput: 4096, maxIo: 256 * 1024, maxPipe: 64 * 1024, maxCallDepth: 40 } }).shell;
    fc.assert(
      fc.property(script, (src) => {
        if (!shell || runs++ % 1000 === 0) shell = fresh();
        const r = shell.exec(src);
        expect(Number.isInteger(r.status) && r.status >= 0 && r.status <= 255).toBe(true);
        expect(r.done).toBe(true);
        expect(r.stderr).not.toMatch(/internal error/);
        shell.exited = null;
      }),
      { numRuns: 10_000, seed: 1717 },
    );
    expect(fresh().exec('echo ok').stdout).toBe('ok\n');
  });
});
