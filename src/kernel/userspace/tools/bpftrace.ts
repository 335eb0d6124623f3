/**
 * bpftrace(8) and the bpftrace tools (execsnoop.bt & co) as machine commands:
 * the program runs on the machine's probe bus in virtual time until exit(),
 * a limit, or Ctrl-C (END runs and the maps print, as in bpftrace).
 */
import { KernelBpftraceRun, listKernelProbes, kernelTracepointFields } from '../../bpftrace/kernel-host';
import { parse } from '../../bpftrace/parser';
import { formatDiagnostics } from '../../bpftrace/diagnostics';
import { DEFAULT_LIMITS, type Limits } from '../../bpftrace/runtime';
import { BCC_TOOLS } from '../../bpftrace/tools';
import { ShellAbort } from '../../shell/io';
import type { OutStream } from '../../shell/io';
import type { Co, ToolCtx, ToolSpec } from '../types';
import { errText } from './common';
import { kernelOf } from './common';

const VERSION = 'bpftrace v0.17.0\n';

const USAGE = `USAGE:
    bpftrace [options] filename
    bpftrace [options] - <stdin input>
    bpftrace [options] -e 'program'

OPTIONS:
    -B MODE        output buffering mode ('full', 'none')
    -f FORMAT      output format ('text', 'json')
    -o file        redirect bpftrace output to file
    -e 'program'   execute this program
    -h, --help     show this help message
    -I DIR         add the directory to the include search path
    --include FILE add an #include file before preprocessing
    -l [search]    list probes
    -p PID         enable USDT probes on PID
    -c 'CMD'       run CMD and enable USDT probes on resulting process
    --usdt-file-activation
                   activate usdt semaphores based on file path
    --unsafe       allow unsafe builtin functions
    -q             keep messages quiet
    --info         Print information about kernel BPF support
    -k             emit a warning when a bpf helper returns an error (except read functions)
    -kk            check all bpf helper functions
    -V, --version  bpftrace version
    --no-warnings  disable all warning messages

TROUBLESHOOTING OPTIONS:
    -v                      verbose messages
    -d                      (dry run) debug info
    -dd                     (dry run) verbose debug info
    --emit-elf FILE         (dry run) generate ELF file with bpf programs and write to FILE
    --emit-llvm FILE        write LLVM IR to FILE.original.ll and FILE.optimized.ll

ENVIRONMENT:
    BPFTRACE_STRLEN             [default: 64] bytes on BPF stack per str()
    BPFTRACE_NO_CPP_DEMANGLE    [default: 0] disable C++ symbol demangling
    BPFTRACE_MAP_KEYS_MAX       [default: 4096] max keys in a map
    BPFTRACE_CAT_BYTES_MAX      [default: 10k] maximum bytes read by cat builtin
    BPFTRACE_MAX_PROBES         [default: 512] max number of probes
    BPFTRACE_MAX_BPF_PROGS      [default: 512] max number of generated BPF programs
    BPFTRACE_LOG_SIZE           [default: 1000000] log size in bytes
    BPFTRACE_PERF_RB_PAGES      [default: 64] pages per CPU to allocate for ring buffer
    BPFTRACE_NO_USER_SYMBOLS    [default: 0] disable user symbol resolution
    BPFTRACE_CACHE_USER_SYMBOLS [default: auto] enable user symbol cache
    BPFTRACE_VMLINUX            [default: none] vmlinux path used for kernel symbol resolution
    BPFTRACE_BTF                [default: none] BTF file

EXAMPLES:
bpftrace -l '*sleep*'
    list probes containing "sleep"
bpftrace -e 'kprobe:do_nanosleep { printf("PID %d sleeping...\\n", pid); }'
    trace processes calling sleep
bpftrace -e 'tracepoint:raw_syscalls:sys_enter { @[comm] = count(); }'
    count syscalls by process name
`;

/** virtual time between two deliveries of buffered output to the terminal */
const SLICE_NS = 100_000_000;


/** Writes even while an interrupt is pending (the output of END after Ctrl-C). */
function writeOut(s: OutStream, text: string): void {
  if (!text) return;
  try {
    s.write(text);
  } catch (e) {
    if (e instanceof ShellAbort && e.reason === 'interrupt') s.write(text);
    else throw e;
  }
}

interface Parsed {
  program?: string;
  file?: string;
  params: string[];
  format: 'text' | 'json';
  list: boolean;
  listPattern?: string;
  debug: number;
  verbose: boolean;
  quiet: boolean;
  unsafe: boolean;
  outFile?: string;
  /** -c CMD: run it, trace while it runs, stop when it exits */
  command?: string;
}

function parseArgs(argv: string[]): Parsed | { exit: number; out?: string; err?: string } {
  const p: Parsed = { params: [], format: 'text', list: false, debug: 0, verbose: false, quiet: false, unsafe: false };
  const pos: string[] = [];
  let i = 0;
  const need = (o: string): string | null => (i + 1 < argv.length ? argv[++i] : (void o, null));
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      pos.push(...argv.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') return { exit: 0, err: USAGE };
    if (a === '-V' || a === '--version') return { exit: 0, out: VERSION };
    if (a === '--unsafe') p.unsafe = true;
    else if (a === '-e') {
      const v = need(a);
      if (v === null) return { exit: 1, err: USAGE };
      p.program = v;
    } else if (a === '-f') {
      const v = need(a);
      if (v !== 'text' && v !== 'json') return { exit: 1, err: `ERROR: Invalid output format "${v ?? ''}"\nValid formats: 'text', 'json'\n` };
      p.format = v;
    } else if (a === '-o') {
      const v = need(a);
      if (v === null) return { exit: 1, err: USAGE };
      p.outFile = v;
    } else if (a === '-c') {
      const v = need(a);
      if (v === null) return { exit: 1, err: USAGE };
      p.command = v;
    } else if (a === '-B' || a === '-I' || a === '--include' || a === '-p') {
      if (need(a) === null) return { exit: 1, err: USAGE };
    } else if (a === '-l') p.list = true;
    else if (a === '-d') p.debug = 1;
    else if (a === '-dd') p.debug = 2;
    else if (a === '-v') p.verbose = true;
    else if (a === '-q') p.quiet = true;
    else if (a === '-lv' || a === '-vl') {
      p.list = true;
      p.verbose = true;
    } else if (a === '-k' || a === '-kk' || a === '--no-warnings' || a === '--usdt-file-activation') continue;
    else if (a.startsWith('-') && a !== '-') return { exit: 1, err: `bpftrace: invalid option -- '${a.replace(/^-+/, '')}'\n` + USAGE };
    else pos.push(a);
  }
  if (p.list) {
    if (pos.length > 1) return { exit: 1, err: USAGE };
    p.listPattern = pos[0];
    return p;
  }
  if (p.program === undefined) {
    if (pos.length === 0) return { exit: 1, err: USAGE };
    p.file = pos.shift();
  }
  p.params = pos;
  return p;
}

/** A small AST dump for -d (the shape of bpftrace 0.17's printer pass, without types). */
function dumpAst(src: string): string {
  const r = parse(src);
  if (!r.program) return '';
  // bpftrace prints the tree after each pass ("AST after: <pass>"), then the LLVM IR; the model has the parser's tree only
  const out: string[] = ['', 'AST after: parser', '-------------------', 'Program'];
  const walk = (o: unknown, depth: number): void => {
    if (!o || typeof o !== 'object') return;
    if (Array.isArray(o)) {
      for (const x of o) walk(x, depth);
      return;
    }
    const n = o as Record<string, unknown>;
    const pad = ' '.repeat(depth);
    let label: string | null = null;
    switch (n.kind) {
      case 'int':
        label = `int: ${String(n.value)}`;
        break;
      case 'str':
        label = `string: ${JSON.stringify(n.value).slice(1, -1)}`;
        break;
      case 'builtin':
        label = `builtin: ${String(n.name)}`;
        break;
      case 'var':
        label = `variable: ${String(n.name)}`;
        break;
      case 'map':
        label = `map: ${String(n.name)}`;
        break;
      case 'call':
        label = `call: ${String(n.name)}`;
        break;
      case 'binop':
      case 'unop':
        label = String(n.op);
        break;
      case 'assignMap':
      case 'assignVar':
        label = String(n.op);
        break;
      case 'field':
        label = `. ${String(n.field)}`;
        break;
      case 'if':
        label = 'if';
        break;
      case 'while':
        label = 'while(';
        break;
      case 'param':
        label = `param: $${String(n.index)}`;
        break;
      case 'ternary':
        label = '?:';
        break;
      case 'cast':
        label = `(${String(n.type)}${n.ptr ? ' *' : ''})`;
        break;
      case 'jump':
        label = String(n.what);
        break;
    }
    if (label !== null) out.push(pad + label);
    const d = label !== null ? depth + 1 : depth;
    for (const [key, v] of Object.entries(n)) if (key !== 'loc' && key !== 'nameLoc' && key !== 'opLoc' && key !== 'varLoc' && v && typeof v === 'object') walk(v, d);
  };
  for (const p of r.program.probes) {
    for (const a of p.attachPoints) out.push(' ' + (a.provider === 'BEGIN' || a.provider === 'END' ? a.provider : [a.provider, ...a.parts].join(':')));
    if (p.predicate) {
      out.push('  pred');
      walk(p.predicate, 3);
    }
    walk(p.body, 2);
  }
  return out.join('\n') + '\n';
}

/** AST nodes of a program (what -v reports) */
function nodeCount(src: string): number {
  const r = parse(src);
  let n = 0;
  const walk = (o: unknown): void => {
    if (!o || typeof o !== 'object') return;
    if (Array.isArray(o)) {
      for (const x of o) walk(x);
      return;
    }
    const rec = o as Record<string, unknown>;
    if (typeof rec.kind === 'string' || Array.isArray(rec.attachPoints) || typeof rec.provider === 'string') n++;
    for (const [key, v] of Object.entries(rec)) if (!key.endsWith('oc') && v && typeof v === 'object') walk(v);
  };
  walk(r.program?.probes ?? []);
  return n + 1;
}

function limitsFromEnv(env: Record<string, string>): Partial<Limits> {
  const l: Partial<Limits> = {};
  const strlen = Number(env.BPFTRACE_STRLEN);
  if (Number.isInteger(strlen) && strlen > 0 && strlen <= 200) l.strlen = strlen;
  const keys = Number(env.BPFTRACE_MAP_KEYS_MAX);
  if (Number.isInteger(keys) && keys > 0) l.mapKeysMax = Math.min(keys, 1_000_000);
  return l;
}

/** Runs a program on the machine of the tool's shell; returns the exit status. */
export function* runOnMachine(
  ctx: ToolCtx,
  source: string,
  o: {
    params?: string[];
    format?: 'text' | 'json';
    unsafe?: boolean;
    quiet?: boolean;
    verbose?: boolean;
    outFile?: string;
    limits?: Partial<Limits>;
    filename?: string;
    /** run this command (sh -c) while tracing; the run ends when it exits */
    command?: string;
  } = {},
): Co<number> {
  const k = kernelOf(ctx);
  if (!k) {
    ctx.stderr.write('ERROR: bpftrace needs a kernel (no probe bus on this host)\n');
    return 1;
  }
  if (ctx.host.uid !== 0) {
    ctx.stderr.write('ERROR: bpftrace currently only supports running as the root user.\n');
    return 1;
  }
  /** stdout text, and system() commands at their place in the output */
  const out: (string | { cmd: string })[] = [];
  const err: string[] = [];
  let outBytes = 0;
  const maxOut = (o.limits?.maxOutputBytes ?? DEFAULT_LIMITS.maxOutputBytes) + 4096;
  let banner = !!o.quiet;
  const run = new KernelBpftraceRun(k, source, {
    args: o.params,
    format: o.format,
    unsafe: o.unsafe,
    limits: { ...o.limits },
    filename: o.filename,
    pid: ctx.pid,
    emit: (t) => {
      if (banner === true && o.quiet && /^Attaching \d+ probes?\.\.\.\n$/.test(t)) {
        banner = false;
        return;
      }
      banner = false;
      if (outBytes > maxOut) return;
      outBytes += t.length;
      out.push(t);
    },
    emitErr: (t) => err.push(t),
    system: (cmd) => {
      out.push({ cmd });
      return '';
    },
  });
  let fileText = '';
  const flush = function* (): Co<void> {
    if (err.length) writeOut(ctx.stderr, err.splice(0).join(''));
    while (out.length) {
      const i = out.findIndex((x) => typeof x !== 'string');
      const texts = (i < 0 ? out.splice(0) : out.splice(0, i)).join('');
      if (o.outFile !== undefined) fileText += texts;
      else writeOut(ctx.stdout, texts);
      if (i >= 0) {
        const c = out.shift() as { cmd: string };
        yield* ctx.run(['sh', '-c', c.cmd]);
      }
    }
  };
  if (o.verbose && run.session.ok) err.unshift(`INFO: node count: ${nodeCount(source)}\n`);
  let status = 0;
  try {
    yield* flush();
    if (o.command !== undefined && !run.finished) {
      yield* ctx.run(['sh', '-c', o.command]);
      yield* flush();
      if (!run.finished) run.stop();
    }
    while (!run.finished) {
      const now = ctx.host.now();
      const until = Math.min(now + SLICE_NS, run.deadline ?? Infinity);
      yield* ctx.sleepUntil(until);
      ctx.tick(1);
      yield* flush();
    }
    const r = run.stop();
    yield* flush();
    status = r.exitCode;
  } catch (e) {
    if (e instanceof ShellAbort && e.reason === 'interrupt') {
      // Ctrl-C: END, then the maps, then a normal exit
      const r = run.stop();
      yield* flush();
      status = r.exitCode;
    } else {
      run.stop();
      out.length = 0;
      throw e;
    }
  }
  if (o.outFile !== undefined) {
    try {
      ctx.host.writeFile(ctx.pid, o.outFile, ctx.cwd, fileText);
    } catch (e) {
      ctx.stderr.write(`ERROR: failed to open output file ${o.outFile}: ${errText(e)}\n`);
      return 1;
    }
  }
  return status;
}

const bpftrace = function* (ctx: ToolCtx): Co<number> {
  const p = parseArgs(ctx.argv.slice(1));
  if ('exit' in p) {
    if (p.out) ctx.stdout.write(p.out);
    if (p.err) ctx.stderr.write(p.err);
    return p.exit;
  }
  const k = kernelOf(ctx);
  if (p.list) {
    if (!k) return 1;
    let text = listKernelProbes(k, p.listPattern);
    if (p.verbose) {
      text = text
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          if (!l.startsWith('tracepoint:')) return l + '\n';
          const fields = kernelTracepointFields(k, l) ?? [];
          const def = k.trace.eventDef(l.split(':')[1], l.split(':')[2]);
          const decls = (def?.fields ?? []).filter((f) => !f.name.startsWith('common_')).map((f) => `    ${f.decl}\n`);
          void fields;
          return l + '\n' + decls.join('');
        })
        .join('');
    }
    ctx.stdout.write(text);
    return 0;
  }
  let source = p.program;
  if (source === undefined) {
    const f = p.file as string;
    try {
      source = f === '-' ? ctx.stdin.readAll() : ctx.host.readFile(ctx.pid, f, ctx.cwd);
    } catch (e) {
      ctx.stderr.write(`ERROR: failed to open file '${f}': ${errText(e)}\n`);
      return 1;
    }
  }
  if (p.debug) {
    const r = parse(source);
    if (!r.program) {
      ctx.stderr.write(formatDiagnostics(r.diagnostics, source));
      return 1;
    }
    ctx.stdout.write(dumpAst(source));
    return 0;
  }
  const machine = kernelOf(ctx);
  if (p.unsafe && machine && !machine.config.debug?.allowUnsafe) {
    ctx.stderr.write('ERROR: --unsafe is not allowed on this machine (the session was created without kernelConfig.allowUnsafe)\n');
    return 1;
  }
  return yield* runOnMachine(ctx, source, {
    params: p.params,
    format: p.format,
    unsafe: p.unsafe,
    quiet: p.quiet,
    verbose: p.verbose,
    outFile: p.outFile,
    command: p.command,
    filename: p.file === undefined || p.file === '-' ? undefined : p.file,
    limits: limitsFromEnv(ctx.env),
  });
};

/** A bpftrace tool (execsnoop.bt & co): its program, run like `bpftrace file.bt`. */
function bccTool(name: string, source: string): ToolFn2 {
  return function* (ctx: ToolCtx): Co<number> {
    const args = ctx.argv.slice(1);
    if (args.includes('-h') || args.includes('--help')) {
      ctx.stderr.write(`USAGE: ${name}\n    (a bpftrace tool: runs until Ctrl-C)\n`);
      return 0;
    }
    return yield* runOnMachine(ctx, source, { params: args, limits: limitsFromEnv(ctx.env) });
  };
}
type ToolFn2 = (ctx: ToolCtx) => Co<number>;

export const BPFTRACE_TOOLS: ToolSpec[] = [
  { name: 'bpftrace', run: bpftrace },
  ...Object.entries(BCC_TOOLS).flatMap(([name, src]) => [
    { name, dir: '/usr/sbin', run: bccTool(name, src) },
    { name: `${name}.bt`, dir: '/usr/sbin', run: bccTool(name, src) },
  ]),
];
