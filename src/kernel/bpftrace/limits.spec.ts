import { runBpftrace } from './driver';
import { parse } from './parser';
import { fakeHost, runToCompletion } from './test-host';

describe('adversarial programs stay bounded', () => {
  it('an infinite while loop is stopped by the per-firing budget', () => {
    // like the verifier rejecting the program: nothing of the firing is shown, END does not run, no maps
    const r = runToCompletion('BEGIN { printf("before\\n"); $i = 0; while (1) { $i++; } } END { printf("never\\n"); }', { limits: { stepsPerFiring: 100_000 } });
    expect(r).toEqual({ stdout: 'Attaching 2 probes...\n', stderr: 'ERROR: Error loading program: BEGIN (try -v)\n', exitCode: 255 });
  });
  it('an unbounded loop in a kprobe aborts the session on its first firing', () => {
    const s = runBpftrace('kprobe:f { @n++; while (@n > 0) { @x++; } }', { limits: { loopIterations: 1000 } }, fakeHost());
    s.fire('kprobe:f', { pid: 1, tid: 1, comm: 'a' });
    expect(s.finished).toBe(true);
    expect(s.result()).toEqual({ stdout: 'Attaching 1 probe...\n', stderr: 'ERROR: Error loading program: kprobe:f (try -v)\n', exitCode: 255 });
  });
  it('nested unrolls (100^4 iterations) hit the budget instead of running', () => {
    const r = runToCompletion('BEGIN { unroll(100) { unroll(100) { unroll(100) { unroll(100) { @x++; } } } } }');
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toBe('ERROR: Error loading program: BEGIN (try -v)\n');
  });
  it('maps stop growing at max entries (4096 by default) with a warning', () => {
    const r = runToCompletion('BEGIN { $i = 0; while ($i < 10000) { @m[$i] = $i; $i++; } exit(); }');
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toContain("WARNING: Map full; can't update element.");
    expect(r.stdout.split('\n').filter((l) => l.startsWith('@m[')).length).toBe(4096);
  });
  it('giant output is capped', () => {
    const r = runToCompletion('interval:us:1 { printf("%s\\n", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"); }', { limits: { maxOutputBytes: 10_000 } }, 100_000);
    expect(r.stdout.length).toBeLessThanOrEqual(10_000 + 100);
    expect(r.stderr).toContain('output limit of 10000 bytes exceeded');
    expect(r.exitCode).toBe(1);
  });
  it('deep nesting becomes a diagnostic, not a stack overflow', () => {
    const src = 'BEGIN { @ = ' + '('.repeat(50_000) + '1' + ')'.repeat(50_000) + '; }';
    const p = parse(src);
    expect(p.program).toBeNull();
    expect(p.diagnostics[0].message).toBe('program too deeply nested');
    const q = parse('BEGIN { ' + 'if (1) { '.repeat(5000) + '}'.repeat(5000) + ' }');
    expect(q.program).toBeNull();
  });
  it('huge programs are refused', () => {
    const r = runToCompletion('BEGIN { ' + '@a = 1; '.repeat(30_000) + '}');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('program too large');
  });
  it('strings are bounded by BPFTRACE_STRLEN (64)', () => {
    expect(runToCompletion(`BEGIN { @s = "${'a'.repeat(63)}"; exit(); }`).exitCode).toBe(0);
    expect(runToCompletion(`BEGIN { @s = "${'a'.repeat(64)}"; exit(); }`).stderr).toContain('String is too long (over 64 bytes)');
    const r = runToCompletion('BEGIN { @s = str($1); exit(); }', { args: ['b'.repeat(100)] });
    expect(r.stdout).toBe(`Attaching 1 probe...\n\n\n@s: ${'b'.repeat(63)}\n`);
  });
  it('a session ignores firings after stop and stop is idempotent', () => {
    const s = runBpftrace('BEGIN { @a = 1; }', {}, fakeHost());
    const a = s.stop();
    s.fire('BEGIN', { pid: 1, tid: 1, comm: 'x' });
    expect(s.stop()).toEqual(a);
  });

  it('printf argument structs larger than the 512-byte BPF stack are refused before anything runs', () => {
    const big = '$s, '.repeat(8) + '$s';
    const r = runToCompletion(`kprobe:f { $s = comm; @n++; } kprobe:g { $s = str(arg0); printf("${'%s'.repeat(9)}", ${big}); }`);
    expect(r.stdout).toBe('');
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('in function kprobe:g i64 (i8*): Looks like the BPF stack limit of 512 bytes is exceeded.');
  });
});
