import * as fc from 'fast-check';
import { formatDiagnostics } from './diagnostics';
import { parse } from './parser';
import { runToCompletion } from './test-host';

const TOKENS = [
  'BEGIN', 'END', 'kprobe:vfs_read', 'interval:ms:1', 'tracepoint:syscalls:sys_enter_read', 'k:do_*', 'watchpoint:0x1:8:rw',
  '{', '}', '(', ')', '[', ']', ';', ',', '/', '=', '==', '+', '-', '*', '%', '<<', '>>', '&&', '||', '!', '~', '?', ':', '.', '->',
  '++', '--', '+=', '<<=', 'if', 'else', 'while', 'unroll', 'break', 'continue', 'return', '$x', '$y', '$1', '$#', '@', '@m', '@h',
  '1', '0', '-1', '0x10', '1e3', '08', '"s"', '"%d\\n"', '"%s %d"', '"unterminated', 'pid', 'comm', 'nsecs', 'retval', 'args', 'arg0',
  'kstack', 'printf', 'print', 'count()', 'hist', 'lhist', 'exit()', 'str', 'foo', 'uint8', '(uint16)', 'struct', '`', "'A'", '#', '\n', ' ',
];

function checkParse(src: string): void {
  const r = parse(src);
  // every failure is a diagnostic, and diagnostics always render
  if (!r.program) expect(r.diagnostics.some((d) => d.severity === 'ERROR')).toBe(true);
  expect(typeof formatDiagnostics(r.diagnostics, src)).toBe('string');
}

const tokenSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((ts) => ts.join(' '));
const VALID = [
  'BEGIN { @x[pid, comm] = count(); $a = 1; while ($a < 5) { $a++; } printf("%d %s\\n", $a, comm); exit(); }',
  'BEGIN { @h = hist(5); @l = lhist(3, 0, 10, 2); @s = stats(1); print(@h); clear(@h); exit(); } END { printf("end\\n"); }',
  'interval:ms:1 /@n < 3/ { @n++; @t = (1, "a"); if (@n == 2) { exit(); } else { printf("%s\\n", probe); } }',
];
const mutated = fc
  .tuple(fc.constantFrom(...VALID), fc.nat(), fc.nat({ max: 8 }), fc.string({ maxLength: 4 }))
  .map(([s, at, del, ins]) => {
    const i = at % (s.length + 1);
    return s.slice(0, i) + ins + s.slice(i + del);
  });

describe('parser fuzzing', () => {
  it('never throws on arbitrary text (4,000 inputs)', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), (s) => checkParse(s)), { numRuns: 4000, seed: 42 });
  });
  it('never throws on token soup (4,000 inputs)', () => {
    fc.assert(fc.property(tokenSoup, (s) => checkParse(s)), { numRuns: 4000, seed: 43 });
  });
  it('never throws on unicode / full-range text (1,000 inputs)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 100 }), (s) => checkParse(s)), { numRuns: 1000, seed: 44 });
  });
  it('checks and runs mutated valid programs without throwing (2,000 inputs)', () => {
    fc.assert(
      fc.property(mutated, (s) => {
        const r = runToCompletion(s, { limits: { stepsPerFiring: 5000, loopIterations: 1000 } }, 20);
        expect([0, 1, 134, 255]).toContain(r.exitCode);
        if (r.exitCode !== 0) expect(r.stderr).toMatch(/ERROR|FATAL/);
      }),
      { numRuns: 2000, seed: 45 },
    );
  });
  it('runs token-soup programs end to end without throwing (1,000 inputs)', () => {
    fc.assert(
      fc.property(tokenSoup, (s) => {
        const r = runToCompletion(s, { limits: { stepsPerFiring: 5000, loopIterations: 1000 } }, 5);
        expect(typeof r.stdout).toBe('string');
      }),
      { numRuns: 1000, seed: 46 },
    );
  });
});
