import { runBpftrace } from './driver';
import { fakeHost, runToCompletion } from './test-host';

const PROBES = ['kprobe:vfs_read', 'kprobe:vfs_write', 'kprobe:do_sys_open', 'tracepoint:syscalls:sys_enter_read', 'tracepoint:syscalls:sys_enter_write'];

function errors(src: string, opts: Parameters<typeof runToCompletion>[1] = {}): string {
  const r = runToCompletion(src, { probeList: PROBES, ...opts });
  expect(r.stdout).toBe(''); // nothing runs when any error is found
  expect(r.exitCode).toBe(1);
  return r.stderr;
}

describe('semantic checks', () => {
  it('reports several errors with positions, source line and underline', () => {
    const err = errors('BEGIN {\n  $a = 1;\n  $a = "x";\n  @m = count();\n  @m = 5;\n}');
    expect(err).toBe(
      "stdin:3:6-7: ERROR: Type mismatch for $a: trying to assign value of type 'string[2]' when variable already contains a value of type 'int64'\n" +
        '  $a = "x";\n     ~\n' +
        "stdin:5:3-5: ERROR: Type mismatch for @m: trying to assign value of type 'int64' when map already contains a value of type 'count\n" +
        '  @m = 5;\n  ~~\n',
    );
  });
  it('map value types are fixed across probes', () => {
    expect(errors('BEGIN { @x = "a"; } END { @x = 1; }')).toContain("Type mismatch for @x: trying to assign value of type 'int64' when map already contains a value of type 'string[2]");
  });
  it('unknown functions, identifiers and builtins in the wrong probe', () => {
    expect(errors('BEGIN { bar(1); }')).toContain('ERROR: Unknown function: bar');
    expect(errors('BEGIN { $x = nope; }')).toContain("ERROR: Unknown identifier: 'nope'");
    expect(errors('tracepoint:syscalls:sys_enter_read { @ = retval; }')).toContain('The retval builtin can only be used');
    expect(errors('kretprobe:vfs_read { @ = arg1; }')).toContain("The arg1 builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes");
  });
  it('argument counts and types of functions', () => {
    expect(errors('BEGIN { @ = hist(); }')).toContain('hist() requires 1 argument (0 provided)');
    expect(errors('BEGIN { @ = count(1); }')).toContain('count() requires no arguments (1 provided)');
    expect(errors('BEGIN { @ = sum("x"); }')).toContain('sum() only supports integer arguments (string provided)');
    expect(errors('BEGIN { printf("%d %s\\n", 1, 2); }')).toContain('printf: %s specifier expects a value of type string (integer supplied)');
    expect(errors('BEGIN { printf("%d\\n"); }')).toContain('printf: Not enough arguments for format string (0 supplied, 1 expected)');
    expect(errors('BEGIN { @ = lhist(1, 10, 0, 1); }')).toContain('lhist() min must be less than max');
    expect(errors('BEGIN { $x = count(); }')).toContain('count() should be directly assigned to a map');
  });
  it('type mismatches in expressions and conditions', () => {
    expect(errors('BEGIN { @ = "a" + 1; }')).toContain("Type mismatch for '+': comparing 'string[2]' with 'int64'");
    expect(errors('BEGIN { if (comm) { } }')).toContain('stdin:1:1-1: ERROR: Invalid condition in if(): string');
    expect(errors('BEGIN { @a[1] = 1; @a[comm] = 2; }')).toContain('Argument mismatch for @a: trying to access with arguments: [string[16]] when map expects arguments: [unsigned int64]');
  });
  it('variables must be assigned before use', () => {
    expect(errors('BEGIN { $x++; }')).toContain('Undefined or undeclared variable: $x');
    expect(errors('BEGIN { printf("%d", @never); }')).toContain('Undefined map: @never');
  });
  it('probe types: unknown provider is fatal, watchpoints and kprobe offsets are refused', () => {
    const r = runToCompletion('kprobes:vfs_read { }');
    expect(r).toEqual({ stdout: '', stderr: 'FATAL: Invalid probe type made it to attachpoint parser\n', exitCode: 134 });
    expect(errors('watchpoint:0x10000:8:rw { }')).toContain('watchpoint probes are not supported');
    expect(errors('kprobe:vfs_read+16 { }')).toContain("Can't check if kprobe is in proper place");
    expect(errors('kretprobe:vfs_read+16 { }')).toContain('Offset not allowed for kretprobe');
    expect(errors('tracepoint:syscalls:nonsense_xyz { }')).toBe('stdin:1:1-33: ERROR: tracepoint not found: syscalls:nonsense_xyz\ntracepoint:syscalls:nonsense_xyz { }\n~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n');
    expect(errors('profile:xx:99 { }')).toContain('xx is not an accepted unit of time');
    expect(errors('BEGIN { } END { } END { }')).toContain('More than one END probe defined');
  });
  it('unsafe functions need the unsafe option', () => {
    expect(errors('kprobe:vfs_read { system("ls"); }')).toContain('system() is an unsafe function being used in safe mode');
    expect(errors('kprobe:vfs_read { override(1); }')).toContain('override() is an unsafe function being used in safe mode');
    const r = runToCompletion('BEGIN { system("echo %d", 1); exit(); }', { unsafe: true });
    expect(r.exitCode).toBe(0);
  });
  it('loops: unroll bounds and break outside loops', () => {
    expect(errors('BEGIN { unroll(0) { } }')).toContain('unroll minimum value is 1');
    expect(errors('BEGIN { break; }')).toContain("'break' statement is not allowed outside of a loop");
  });
  it('warnings are printed but the program still runs', () => {
    const r = runToCompletion('BEGIN { $a = 9; printf("%d\\n", $a % 4); exit(); }');
    expect(r.stderr).toContain("WARNING: signed operands for '%' can lead to undefined behavior");
    expect(r.stdout).toBe('Attaching 1 probe...\n1\n\n\n');
  });
  it('kprobe names are checked against the probe list: missing ones warn as bpftrace does', () => {
    const host = fakeHost();
    const s = runBpftrace('kprobe:no_such_fn { }', { probeList: PROBES }, host);
    expect(s.result().stderr).toContain('WARNING: no_such_fn is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail');
  });
});
