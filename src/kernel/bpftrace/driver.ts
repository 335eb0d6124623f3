import type { Expr, Program } from './ast';
import { type Diagnostic, formatDiagnostics } from './diagnostics';
import { jsonEvent } from './output';
import { parse } from './parser';
import { DEFAULT_LIMITS, type FiringContext, Interpreter, type Limits, type ProbeHost } from './runtime';
import { analyse, type ExpandedProbe, matchWildcard, type SemanticOptions } from './semantic';
import type { Ty } from './types';

export interface RunOptions {
  /** positional parameters $1..$N */
  args?: string[];
  /** -f json */
  format?: 'text' | 'json';
  /** --unsafe */
  unsafe?: boolean;
  /** available probes (as `bpftrace -l` prints them); used to check and expand kprobe/tracepoint/uprobe attach points */
  probeList?: readonly string[];
  /** machine-backed alternative to probeList (see SemanticOptions.resolveProbes) */
  resolveProbes?: SemanticOptions['resolveProbes'];
  /** tracepoint format fields for typing args->field */
  tracepointFields?: SemanticOptions['tracepointFields'];
  limits?: Partial<Limits>;
  /** name diagnostics show for the program (bpftrace uses the script's path; default "stdin") */
  filename?: string;
  /** attach-time check: an error message (stderr) makes the run fail after the banner, before BEGIN */
  attachCheck?: (probes: readonly ExpandedProbe[]) => string | null;
  /** firing context of bpftrace itself (BEGIN/END); comm defaults to "bpftrace" */
  self?: Partial<FiringContext>;
}

export interface BpftraceResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface TimerProbe {
  name: string;
  periodNs: number;
}

export interface BpftraceSession {
  /** false when parsing/checking failed: nothing ran */
  readonly ok: boolean;
  /** attached probes (canonical names), BEGIN/END included */
  readonly probes: readonly ExpandedProbe[];
  /** interval/profile probes the host should fire periodically */
  readonly timers: readonly TimerProbe[];
  /** true once exit() was called, a limit stopped the run, or stop() ran */
  readonly finished: boolean;
  readonly diagnostics: readonly Diagnostic[];
  /** fires every attached probe with this canonical name (e.g. `kprobe:vfs_read`, `interval:ms:100`) */
  fire(probeName: string, ctx: FiringContext): void;
  /** Ctrl-C / end of exit(): runs END, prints "\n\n" and the maps; idempotent */
  stop(): BpftraceResult;
  /** output so far */
  result(): BpftraceResult;
  /** a limit of the host stopped the run: the message goes to stderr, then stop() (END, maps); exit code 1 */
  abort?(message: string): BpftraceResult;
  /** the interpreter (maps, counters); absent when nothing ran */
  readonly interpreter?: Interpreter;
}

const MAX_PROGRAM_NODES = 100_000;
const BPF_STACK = 512;

function countNodes(p: Program): number {
  let n = 0;
  const walk = (o: unknown): void => {
    if (n > MAX_PROGRAM_NODES || !o || typeof o !== 'object') return;
    n++;
    for (const v of Object.values(o as Record<string, unknown>)) if (v && typeof v === 'object') walk(v);
  };
  walk(p.probes);
  return n;
}

function tySize(t: Ty | undefined): number {
  if (!t) return 8;
  switch (t.k) {
    case 'str':
      return t.size;
    case 'buf':
      return t.size + 1;
    case 'tuple':
      return t.elems.reduce((a, e) => a + tySize(e), 0);
    default:
      return 8;
  }
}

/**
 * BPF stack model: the argument struct of each printf/system/cat call lives on the 512-byte stack
 * (scratch variables are mostly kept in registers by LLVM, as bpftrace 0.17 shows). Returns the name
 * of the first probe whose action overflows, or null.
 */
function stackOverflow(p: Program, types: Map<Expr, Ty>, probes: readonly ExpandedProbe[]): string | null {
  for (const ep of probes) {
    let worst = 0;
    const walk = (o: unknown): void => {
      if (!o || typeof o !== 'object') return;
      const e = o as Expr;
      if (e.kind === 'call' && (e.name === 'printf' || e.name === 'system' || e.name === 'cat')) {
        worst = Math.max(worst, 8 + e.args.slice(1).reduce((a, x) => a + tySize(types.get(x)), 0));
      }
      for (const v of Object.values(o as Record<string, unknown>)) if (v && typeof v === 'object') walk(v);
    };
    walk(p.probes[ep.index].body);
    if (worst > BPF_STACK) return ep.name;
  }
  return null;
}

/** the period of an interval/profile probe, ns (null for other probes) */
export function periodOf(name: string): number | null {
  const m = /^(interval|profile):(s|ms|us|hz):(\d+)$/.exec(name);
  if (!m) return null;
  const n = Number(m[3]);
  switch (m[2]) {
    case 's':
      return n * 1e9;
    case 'ms':
      return n * 1e6;
    case 'us':
      return n * 1e3;
    default:
      return Math.max(1, Math.round(1e9 / n));
  }
}

/**
 * Parses, checks and starts a bpftrace program: prints "Attaching N probes..." and runs BEGIN.
 * The host then fires probes and finally calls stop() (or the program calls exit()).
 */
export function runBpftrace(source: string, opts: RunOptions, host: ProbeHost): BpftraceSession {
  let stdout = '';
  let stderr = '';
  const h: ProbeHost = {
    ...host,
    emit: (t) => {
      stdout += t;
      host.emit(t);
    },
    emitErr: (t) => {
      stderr += t;
      host.emitErr?.(t);
    },
  };
  const args = opts.args ?? [];
  const json = opts.format === 'json';
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  let exitCode = 0;
  let finished = false;
  const result = (): BpftraceResult => ({ stdout, stderr, exitCode });
  const failed = (diags: Diagnostic[], code: number): BpftraceSession => {
    h.emitErr!(formatDiagnostics(diags, source, opts.filename));
    exitCode = code;
    return {
      ok: false,
      probes: [],
      timers: [],
      finished: true,
      diagnostics: diags,
      fire: () => undefined,
      stop: result,
      result,
    };
  };

  const parsed = parse(source);
  if (!parsed.program) return failed(parsed.diagnostics, 1);
  const program = parsed.program;
  if (countNodes(program) > MAX_PROGRAM_NODES) {
    return failed([{ severity: 'ERROR', message: `program too large: more than ${MAX_PROGRAM_NODES} AST nodes (BPF programs are limited to 1M instructions)` }], 1);
  }
  const sem = analyse(program, {
    args,
    unsafe: !!opts.unsafe,
    probeList: opts.probeList,
    resolveProbes: opts.resolveProbes,
    tracepointFields: opts.tracepointFields,
  });
  const diags = [...parsed.diagnostics, ...sem.diagnostics];
  if (sem.fatal) {
    const d = sem.diagnostics.find((x) => x.message.startsWith('FATAL'))!;
    h.emitErr!(d.message + '\n');
    exitCode = 134;
    return { ok: false, probes: [], timers: [], finished: true, diagnostics: diags, fire: () => undefined, stop: result, result };
  }
  if (diags.some((d) => d.severity === 'ERROR')) return failed(diags, 1);
  if (diags.length) h.emitErr!(formatDiagnostics(diags, source, opts.filename));
  const overflow = stackOverflow(program, sem.types, sem.probes);
  if (overflow !== null) {
    h.emitErr!(
      `error: <unknown>:0:0: in function ${overflow} i64 (i8*): Looks like the BPF stack limit of ${BPF_STACK} bytes is exceeded. ` +
        'Please move large on stack variables into BPF per-cpu array map.\n\n\n',
    );
    exitCode = 1;
    return { ok: false, probes: [], timers: [], finished: true, diagnostics: diags, fire: () => undefined, stop: result, result };
  }

  const interp = new Interpreter(program, sem.maps, sem.types, h, { args, json, limits });
  const selfCtx: FiringContext = { pid: 1, tid: 1, comm: 'bpftrace', ...opts.self };
  const n = sem.probes.length;
  const banner = json ? jsonEvent('attached_probes', `{"probes": ${n}}`) : `Attaching ${n} probe${n === 1 ? '' : 's'}...\n`;
  h.emit(banner);
  const attachErr = opts.attachCheck?.(sem.probes) ?? null;
  if (attachErr) {
    h.emitErr!(attachErr);
    exitCode = 1;
    return { ok: false, probes: sem.probes, timers: [], finished: true, diagnostics: diags, fire: () => undefined, stop: result, result };
  }

  const stop = (): BpftraceResult => {
    if (finished) return result();
    finished = true;
    if (interp.aborted?.startsWith('ERROR: Error loading program')) {
      exitCode = 255;
      return result();
    }
    if (!interp.aborted) {
      const end = sem.probes.find((p) => p.provider === 'END');
      interp.exited = false;
      if (end) interp.fire(program.probes[end.index], 'END', selfCtx);
    }
    try {
      interp.out('\n\n');
      interp.printAllMaps();
    } catch {
      h.emitErr!(`ERROR: output limit of ${limits.maxOutputBytes} bytes exceeded; stopping\n`);
    }
    return result();
  };

  const afterFiring = (): void => {
    if (interp.aborted) {
      exitCode = 1;
      stop();
    } else if (interp.exited) stop();
  };

  const begin = sem.probes.find((p) => p.provider === 'BEGIN');
  if (begin) {
    interp.fire(program.probes[begin.index], 'BEGIN', selfCtx);
    afterFiring();
  }

  const byName = new Map<string, ExpandedProbe[]>();
  for (const p of sem.probes) {
    if (p.provider === 'BEGIN' || p.provider === 'END') continue;
    const l = byName.get(p.name);
    if (l) l.push(p);
    else byName.set(p.name, [p]);
  }

  const timers: TimerProbe[] = [];
  for (const p of sem.probes) {
    const period = periodOf(p.name);
    if (period !== null) timers.push({ name: p.name, periodNs: period });
  }

  return {
    ok: true,
    probes: sem.probes,
    timers,
    get finished() {
      return finished;
    },
    diagnostics: diags,
    fire(probeName: string, ctx: FiringContext): void {
      if (finished) return;
      const list = byName.get(probeName);
      if (!list) return;
      for (const p of list) {
        if (finished) return;
        interp.fire(program.probes[p.index], p.name, ctx);
        afterFiring();
      }
    },
    interpreter: interp,
    stop,
    result,
    abort(message: string): BpftraceResult {
      if (finished) return result();
      h.emitErr!(message);
      exitCode = 1;
      return stop();
    },
  };
}

/** `bpftrace -l [pattern]`: the probes of a provided list matching a pattern (aliases accepted). */
export function listProbes(probeList: readonly string[], pattern?: string): string {
  let pat = pattern ?? '*';
  const alias: Record<string, string> = { k: 'kprobe', kr: 'kretprobe', t: 'tracepoint', u: 'uprobe', ur: 'uretprobe', s: 'software', h: 'hardware', rt: 'rawtracepoint' };
  const [prov, ...rest] = pat.split(':');
  if (rest.length && alias[prov]) pat = [alias[prov], ...rest].join(':');
  if (!pat.includes(':') && !/[*?]/.test(pat)) pat = `*${pat}*`;
  const out = probeList.filter((p) => matchWildcard(pat, p) || (!pat.includes(':') && matchWildcard(pat, p.split(':').slice(1).join(':'))));
  return out.map((p) => p + '\n').join('');
}

export { BPF_STACK };
