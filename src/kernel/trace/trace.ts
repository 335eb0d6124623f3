/**
 * The tracing core (kernel/trace/): per-CPU ring buffers, the tracers (nop,
 * function, function_graph), trace events with filters and triggers, kprobe
 * events, trace_marker, and the renderings of trace / trace_pipe.
 *
 * Emission API for the rest of the model: funcEntry / funcExit / event /
 * marker. Each starts with a boolean check, so callers may use them on hot
 * paths: nothing is done while no tracer, event or probe is active.
 */
import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import { padL } from '../util/format';
import {
  COMMON_FIELDS,
  type EventDef,
  type FieldDef,
  TRACE_STATIC,
  field,
  functionLines,
  isBuiltinFunction,
  moduleFunctions,
  moduleNames,
  staticEvent,
  staticEvents,
} from './data';
import type { SyscallRecord } from './syscall-record';
import { type BlobSink, type BlobSource, blobRef, resolveBlob } from '../blobs';
import { type CallNode, SCHEDULE_TREE, SYSCALL_WRAPPERS, TIMER_TREE, UNIT_NS, namedTree, syscallTree } from './callpath';
import type { ProbeFiring, ProbeKind } from './probes';
import { syscallArgNames } from './syscalls';
import { type CaptureOpts, type CapturedEvent, MAX_RECORDINGS, MAX_RECORDING_EVENTS, type Recording, type RecordingMeta, renderReport, syscallInfo } from './capture';
import { type EventFields, type FilterFn, FilterParseError, compileFilter, filterErrorReadback, globToRegExp } from './filter';
import { eventBytes, renderEvent } from './format';
import { type KprobeDef, type ProbeRegs, type ProbeValue, ProbeError, argTypeInfo, kprobeLine, parseKprobe, renderProbeArgs } from './kprobes';

export const TRACERS = ['nop', 'function', 'function_graph'] as const;
export type TracerName = (typeof TRACERS)[number];
export const TRACE_CLOCKS = ['local', 'global', 'counter', 'uptime', 'perf', 'mono', 'mono_raw', 'boot', 'tai', 'x86-tsc'];
const NS_CLOCKS = new Set(['local', 'global', 'perf', 'mono', 'mono_raw', 'boot', 'tai']);
/** buffer_size_kb before the ring buffer is first expanded, and after */
const MIN_BUFFER_KB = 7;
const DEFAULT_BUFFER_KB = 1408;
/** usable bytes of a 4 KiB ring-buffer page */
const PAGE_DATA = 4080;
const ERROR_LOG_MAX = 16;
const TRAMP = '0xffffffffc02cb000';
const TRAMP_RET = '0xffffffffc02cb083';
const DYN_EVENT_ID_BASE = 1708;
/** call frames remembered per task, and tasks with frames (callers that never report exits stay bounded) */
const MAX_FRAMES = 128;
const MAX_FRAME_TASKS = 4096;
const TRIGGER_HELP = '# Available triggers:\n# traceon traceoff snapshot stacktrace enable_event disable_event enable_hist disable_hist hist\n';

/** Tracer-specific options (shown in trace_options while the tracer is current). */
const TRACER_OPTIONS: Record<TracerName, [string, boolean][]> = {
  nop: [
    ['test_nop_accept', false],
    ['test_nop_refuse', false],
  ],
  function: [
    ['func_stack_trace', false],
    ['func-no-repeats', false],
  ],
  function_graph: [
    ['funcgraph-overrun', false],
    ['funcgraph-cpu', true],
    ['funcgraph-overhead', true],
    ['funcgraph-proc', false],
    ['funcgraph-duration', true],
    ['funcgraph-abstime', false],
    ['funcgraph-irqs', true],
    ['funcgraph-tail', false],
    ['sleep-time', true],
  ],
};

/** One ring-buffer record (JSON-serialisable). */
export interface TraceEntry {
  /** global sequence number (trace_pipe stream position) */
  s: number;
  /** timestamp in trace_clock units (ns for the ns clocks) */
  t: number;
  c: number;
  p: number;
  /** irq-info flags, 5 chars ("....." / "d..2.") */
  f: string;
  /** fn: function entry; st: stack trace; ge/gr: graph entry/return; ev: event/print/kprobe line */
  k: 'fn' | 'st' | 'ge' | 'gr' | 'ev';
  /** function name, or the event payload */
  a: string;
  /** parent function (fn) */
  b?: string;
  /** graph depth */
  d?: number;
  /** graph return: call time */
  x?: number;
  st?: string[];
  /** bytes in the ring buffer */
  n: number;
  /** event records: "system:name" (the payload does not always say: syscalls print as sys_openat(...)) */
  e?: string;
}

interface CpuBuffer {
  /** ring-buffer pages, oldest first; each holds up to PAGE_DATA bytes of entries */
  pages: TraceEntry[][];
  /** bytes used in the newest page */
  lastBytes: number;
  /** entries in the buffer */
  count: number;
  bytes: number;
  overrun: number;
  dropped: number;
  read: number;
  /** timestamp of the oldest event ever in the buffer since the last reset */
  oldest: number;
}

interface EventState {
  enabled: boolean;
  filter?: string;
  /** readback after a bad filter write */
  filterError?: string;
  triggers?: string[];
}

interface ProbeState {
  def: KprobeDef;
  id: number;
  hits: number;
  missed: number;
}

interface Frame {
  fn: string;
  parent: string;
  traced: boolean;
  graph: boolean;
  depth: number;
  t0: number;
}

export interface TraceState {
  on: boolean;
  tracer: TracerName;
  clock: string;
  bufferKb: number;
  expanded: boolean;
  options: Record<string, boolean>;
  ftraceFilter: string[];
  ftraceNotrace: string[];
  graphFunctions: string[];
  graphNotrace: string[];
  ftracePids: number[];
  maxGraphDepth: number;
  cpumask: number;
  events: Record<string, EventState>;
  probes: ProbeState[];
  nextDynId: number;
  errorLog: string[];
  cpus: CpuBuffer[];
  seq: number;
  counter: number;
  cmdlines: [number, string][];
  savedCmdlinesSize: number;
  stacks: [number, Frame[]][];
  tracingThresh: number;
  /** set_event_pid / set_event_notrace_pid / set_ftrace_notrace_pid */
  eventPids?: number[];
  eventNotracePids?: number[];
  ftraceNotracePids?: number[];
  /** the snapshot buffer (absent: freed) */
  snapshot?: CpuBuffer[];
  /** trace-cmd / REST recordings, oldest first (bounded) */
  recordings?: Recording[];
  nextRecordingId?: number;
}

export interface TraceLine {
  seq: number;
  /** the rendered line(s), without the final newline */
  text: string;
}

/** A trace record as the `events` stream carries it. */
export interface TraceEventJson {
  seq: number;
  /** timestamp in trace_clock units (ns for the default clocks) */
  ts: number;
  cpu: number;
  pid: number;
  comm: string;
  /** irq-info flags ("....." / "d..2.") */
  flags: string;
  type: 'function' | 'funcgraph_entry' | 'funcgraph_exit' | 'stack' | 'event';
  function?: string;
  parent?: string;
  depth?: number;
  durationNs?: number;
  stack?: string[];
  /** events: the event system and name (sched_switch, sys_enter_read, a kprobe's name, print) and its fields, numbers typed */
  system?: string;
  event?: string;
  fields?: Record<string, string | number>;
  /** the event line as the trace file prints it */
  text?: string;
}

export interface TraceSubscription {
  /** seq of the first line delivered */
  readonly startSeq: number;
  /** lines at or after fromSeq that were no longer in the buffer */
  readonly missed: number;
  close(): void;
}

/** Optional context of an emission. */
export interface EmitOpts {
  /** irq-info flags (5 chars); defaults per kind */
  flags?: string;
  /** call stack (callers first after the function itself) for stack traces */
  stack?: readonly string[];
  /** function arguments in x86_64 argument-register order (kprobe fetch args) */
  args?: readonly ProbeValue[];
  /** return value (kretprobes) */
  retval?: ProbeValue;
}

/** Global option names in trace_options order, with their defaults. */
const GLOBAL_OPTIONS: readonly [string, boolean][] = TRACE_STATIC.traceOptions
  .map((l): [string, boolean] => (l.startsWith('no') ? [l.slice(2), false] : [l, true]))
  .filter(([n]) => !n.startsWith('test_nop_'));

const DEFAULT_OPTIONS = (): Record<string, boolean> => {
  const o: Record<string, boolean> = {};
  for (const [n, v] of GLOBAL_OPTIONS) o[n] = v;
  for (const t of TRACERS) for (const [n, v] of TRACER_OPTIONS[t]) o[n] = v;
  return o;
};

function globMatcher(pat: string): (s: string) => boolean {
  if (!/[*?[]/.test(pat)) return (s) => s === pat;
  const re = globToRegExp(pat);
  return (s) => re.test(s);
}

export class Trace {
  private st: TraceState;
  /** hot-path gates */
  private fnActive = false;
  private evActive = false;
  private filterCache = new Map<string, FilterFn | null>();
  private setCache = new Map<string, Set<string> | Set<number>>();
  private subs = new Set<(e: TraceEntry) => void>();
  private fnModule?: Map<string, string>;

  constructor(private readonly k: Kernel) {
    this.st = this.fresh();
    // the scheduler's and module loader's trace points (cheap when nothing listens)
    k.sched.events.on('fork', (e) => this.onFork(e.parent, e.child));
    k.sched.events.on('exec', (e) => this.onExec(e.pid, e.path));
    k.sched.events.on('exit', (e) => this.onExit(e.pid));
    k.modules.onLoad((m) => this.onModule('module_load', m.name, m.taints));
    k.modules.onUnload((m) => this.onModule('module_free', m.name, 0));
  }

  private taskCtx(pid: number): EmitCtx {
    const t = this.k.sched.task(pid);
    const cpu = t && t.cpu < this.st.cpus.length ? t.cpu : 0;
    return { cpu, pid, tgid: t?.tgid ?? pid, comm: t?.comm ?? this.commOf(pid), prio: t ? 120 + t.nice : 120, stack: [], seq: 0 };
  }

  private onFork(parent: number, child: number): void {
    if (!this.evActive && !this.k.probes.any) return;
    const p = this.taskCtx(parent);
    const c = this.taskCtx(child);
    this.saveCmdline(child, c.comm);
    // copy_process(): the new task, then wake_up_new_task(); fork(2) of glibc is clone(CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD)
    this.tracepoint(parent, 'task', 'task_newtask', { pid: child, comm: c.comm, clone_flags: 0x1200011, oom_score_adj: 0 }, { cpu: p.cpu, flags: '.....' });
    this.schedEvent(p.cpu, parent, p.comm, 'sched_process_fork', { parent_comm: p.comm, parent_pid: parent, child_comm: c.comm, child_pid: child }, '.....');
    this.schedEvent(p.cpu, parent, p.comm, 'sched_wakeup_new', { comm: c.comm, pid: child, prio: c.prio, target_cpu: c.cpu });
  }

  private onExec(pid: number, path: string): void {
    if (!this.evActive && !this.k.probes.any) return;
    const c = this.taskCtx(pid);
    this.schedEvent(c.cpu, pid, c.comm, 'sched_process_exec', { filename: path, pid, old_pid: pid }, '.....');
  }

  private onExit(pid: number): void {
    this.forgetTask(pid);
    if (!this.evActive && !this.k.probes.any) return;
    const c = this.taskCtx(pid);
    this.schedEvent(c.cpu, pid, c.comm, 'sched_process_exit', { comm: c.comm, pid, prio: c.prio }, '.....');
  }

  private onModule(name: 'module_load' | 'module_free', mod: string, taints: number): void {
    if (!this.evActive && !this.k.probes.any) return;
    const c = this.current ?? this.taskCtx(1);
    const f: EventFields = name === 'module_load' ? { taints, name: mod } : { name: mod };
    if (this.evActive) this.event(c.cpu, c.pid, c.comm, 'module', name, f);
    this.k.probes.fire('tracepoint', `module:${name}`, () => ({ kind: 'tracepoint', name: `module:${name}`, cpu: c.cpu, tid: c.pid, pid: c.tgid, comm: c.comm, nsecs: this.k.now, args: [], fields: f, kstack: [] }));
  }

  private fresh(): TraceState {
    const cpus: CpuBuffer[] = [];
    for (let c = 0; c < this.k.config.cpus; c++) cpus.push(emptyBuffer(0));
    return {
      on: true,
      tracer: 'nop',
      clock: 'global',
      bufferKb: DEFAULT_BUFFER_KB,
      expanded: false,
      options: DEFAULT_OPTIONS(),
      ftraceFilter: [],
      ftraceNotrace: [],
      graphFunctions: [],
      graphNotrace: [],
      ftracePids: [],
      maxGraphDepth: 0,
      cpumask: this.k.config.cpus >= 31 ? 2 ** this.k.config.cpus - 1 : (1 << this.k.config.cpus) - 1,
      events: {},
      probes: [],
      nextDynId: DYN_EVENT_ID_BASE,
      errorLog: [],
      cpus,
      seq: 1,
      counter: 0,
      cmdlines: [],
      savedCmdlinesSize: 6552,
      stacks: [],
      tracingThresh: 0,
    };
  }

  // ------------------------------------------------------------------ state

  /**
   * The tracing state as JSON. Recorded entries never change once written and
   * a ring page never changes once the next page is started, so full pages and
   * finished recordings are shared, not copied; with `blobs` they are handed
   * to the sink and replaced by `{$blob: key}` references (a checkpoint then
   * writes only what is new since the last one).
   */
  getState(blobs?: BlobSink): TraceState {
    const { cpus, snapshot, recordings, ...rest } = this.st;
    const out = JSON.parse(JSON.stringify(rest)) as TraceState;
    const page = (p: TraceEntry[], last: boolean): TraceEntry[] => (last ? p.slice() : blobs ? (blobRef(blobs, p) as unknown as TraceEntry[]) : p);
    const buf = (b: CpuBuffer): CpuBuffer => ({ ...b, pages: b.pages.map((p, i) => page(p, i === b.pages.length - 1)) });
    out.cpus = cpus.map(buf);
    if (snapshot) out.snapshot = snapshot.map(buf);
    if (recordings) out.recordings = recordings.map((r) => (blobs ? (blobRef(blobs, r) as unknown as Recording) : r));
    return out;
  }

  /** Restores getState(); `blobs` resolves the `{$blob: key}` references of a checkpoint. */
  setState(s: TraceState | undefined, blobs?: BlobSource): void {
    if (s) {
      const { cpus, snapshot, recordings, ...rest } = s;
      const st = JSON.parse(JSON.stringify(rest)) as TraceState;
      const page = (p: unknown): TraceEntry[] => resolveBlob(p, blobs) as TraceEntry[];
      const buf = (b: CpuBuffer): CpuBuffer => ({ ...b, pages: b.pages.map((p, i) => (i === b.pages.length - 1 ? page(p).slice() : page(p))) });
      st.cpus = cpus.map(buf);
      if (snapshot) st.snapshot = snapshot.map(buf);
      if (recordings) st.recordings = recordings.map((r) => resolveBlob(r, blobs) as Recording);
      this.st = st;
    } else this.st = this.fresh();
    this.filterCache.clear();
    this.setCache.clear();
    this.cmdMap = undefined;
    this.stackMap = undefined;
    this.updateGates();
  }

  private updateGates(): void {
    const st = this.st;
    this.fnActive = st.tracer !== 'nop' || st.probes.some((p) => this.evState(p.def.group, p.def.event)?.enabled);
    this.evActive = Object.values(st.events).some((e) => e.enabled || (e.triggers?.length ?? 0) > 0);
  }

  // ------------------------------------------------------------------ control files

  get tracingOn(): boolean {
    return this.st.on;
  }

  setTracingOn(v: boolean): void {
    this.st.on = v;
  }

  get currentTracer(): TracerName {
    return this.st.tracer;
  }

  setTracer(name: string): void {
    const t = name.trim();
    if (!(TRACERS as readonly string[]).includes(t)) {
      // blk and mmiotrace are listed but not modelled
      throw new KernelError('EINVAL');
    }
    if (t !== this.st.tracer) {
      this.st.tracer = t as TracerName;
      this.st.stacks = [];
      this.stackMap = undefined;
      this.resetBuffers();
    }
    if (t !== 'nop') this.st.expanded = true;
    this.updateGates();
  }

  get clock(): string {
    return this.st.clock;
  }

  setClock(name: string): void {
    const c = name.trim();
    if (!TRACE_CLOCKS.includes(c)) throw new KernelError('EINVAL');
    if (c !== this.st.clock) {
      this.st.clock = c;
      this.resetBuffers();
    }
  }

  renderClock(): string {
    return TRACE_CLOCKS.map((c) => (c === this.st.clock ? `[${c}]` : c)).join(' ') + '\n';
  }

  renderBufferSize(total: boolean): string {
    const n = total ? this.k.config.cpus : 1;
    if (!this.st.expanded) return `${MIN_BUFFER_KB * n} (expanded: ${this.st.bufferKb * n})\n`;
    return `${this.st.bufferKb * n}\n`;
  }

  setBufferSizeKb(v: string): void {
    const t = v.trim();
    if (!/^\d+$/.test(t) || Number(t) === 0) throw new KernelError('EINVAL');
    this.st.bufferKb = Number(t);
    this.st.expanded = true;
    for (const b of this.st.cpus) this.trim(b);
  }

  /** Bytes of data a CPU's ring buffer holds. */
  capacityBytes(): number {
    return this.capacityPages() * PAGE_DATA;
  }

  /** Pages of a CPU's ring buffer. */
  capacityPages(): number {
    const kb = this.st.expanded ? this.st.bufferKb : MIN_BUFFER_KB;
    return Math.max(2, Math.ceil((kb * 1024) / 4096));
  }

  renderOptions(): string {
    const o = this.st.options;
    const lines: string[] = [];
    for (const [name] of GLOBAL_OPTIONS) lines.push(o[name] ? name : `no${name}`);
    for (const [n] of TRACER_OPTIONS[this.st.tracer]) lines.push(o[n] ? n : `no${n}`);
    return lines.join('\n') + '\n';
  }

  /** Names of the option files (options/). */
  optionNames(): readonly string[] {
    return TRACE_STATIC.optionFiles;
  }

  option(name: string): boolean {
    return !!this.st.options[name];
  }

  setOption(text: string): void {
    let t = text.trim();
    let v = true;
    if (t.startsWith('no') && !(t in this.st.options)) {
      t = t.slice(2);
      v = false;
    }
    if (!(t in this.st.options) && !TRACE_STATIC.optionFiles.includes(t)) throw new KernelError('EINVAL');
    if (t === 'test_nop_refuse') throw new KernelError('EINVAL');
    this.st.options[t] = v;
  }

  renderCpumask(): string {
    return this.st.cpumask.toString(16) + '\n';
  }

  setCpumask(v: string): void {
    const t = v.trim().replace(/,/g, '');
    if (!/^[0-9a-fA-F]+$/.test(t)) throw new KernelError('EINVAL');
    this.st.cpumask = parseInt(t, 16) & ((1 << this.k.config.cpus) - 1);
  }

  get savedCmdlinesSize(): number {
    return this.st.savedCmdlinesSize;
  }

  setSavedCmdlinesSize(v: string): void {
    const t = v.trim();
    if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > 32768) throw new KernelError('EINVAL');
    this.st.savedCmdlinesSize = Number(t);
    this.trimCmdlines();
  }

  get maxGraphDepth(): number {
    return this.st.maxGraphDepth;
  }

  setMaxGraphDepth(v: string): void {
    const t = v.trim();
    if (!/^\d+$/.test(t)) throw new KernelError('EINVAL');
    this.st.maxGraphDepth = Number(t);
  }

  get tracingThresh(): number {
    return this.st.tracingThresh;
  }

  setTracingThresh(v: string): void {
    const t = v.trim();
    if (!/^\d+$/.test(t)) throw new KernelError('EINVAL');
    this.st.tracingThresh = Number(t);
  }

  // ------------------------------------------------------------------ function filters

  private fnToModule(): Map<string, string> {
    if (!this.fnModule) {
      const m = new Map<string, string>();
      for (const mod of moduleNames()) for (const f of moduleFunctions(mod)) m.set(f, mod);
      this.fnModule = m;
    }
    return this.fnModule;
  }

  /** Whether `fn` is traceable now: in available_filter_functions (built-in or a loaded module's). */
  isTraceable(fn: string): boolean {
    if (isBuiltinFunction(fn)) return true;
    const mod = this.fnToModule().get(fn);
    return mod !== undefined && this.k.modules.isLoaded(mod);
  }

  /** available_filter_functions as the kernel lists it (loaded modules only). */
  renderAvailableFilterFunctions(): string {
    const out: string[] = [];
    for (const l of functionLines()) {
      const sp = l.indexOf(' [');
      if (sp < 0 || this.k.modules.isLoaded(l.slice(sp + 2, -1))) out.push(l);
    }
    return out.join('\n') + '\n';
  }

  private traceableNames(): string[] {
    return functionLines()
      .filter((l) => {
        const sp = l.indexOf(' [');
        return sp < 0 || this.k.modules.isLoaded(l.slice(sp + 2, -1));
      })
      .map((l) => {
        const sp = l.indexOf(' [');
        return sp < 0 ? l : l.slice(0, sp);
      });
  }

  /**
   * A write to set_ftrace_filter / set_ftrace_notrace / set_graph_function /
   * set_graph_notrace: globs, `:mod:NAME`, `!` removal. Nothing matching => EINVAL.
   */
  writeFunctionList(which: 'ftraceFilter' | 'ftraceNotrace' | 'graphFunctions' | 'graphNotrace', data: string, append: boolean): void {
    const cur = new Set(append ? this.st[which] : []);
    let names: string[] | undefined;
    for (const tok of data.split(/\s+/).filter((x) => x)) {
      const neg = tok.startsWith('!');
      const t = neg ? tok.slice(1) : tok;
      let matched: string[];
      const mod = /^(.*):mod:(.+)$/.exec(t);
      if (mod) {
        if (!this.k.modules.isLoaded(mod[2])) throw new KernelError('EINVAL');
        const m = globMatcher(mod[1] || '*');
        matched = moduleFunctions(mod[2]).filter(m);
      } else if (t.includes(':')) {
        // function triggers (func:traceoff ...) are not modelled
        throw new KernelError('EINVAL');
      } else {
        names ??= this.traceableNames();
        const m = globMatcher(t);
        matched = /[*?[]/.test(t) ? names.filter(m) : this.isTraceable(t) ? [t] : [];
      }
      if (!matched.length && !neg) throw new KernelError('EINVAL');
      for (const f of matched) {
        if (neg) cur.delete(f);
        else cur.add(f);
      }
    }
    this.st[which] = [...cur];
    this.setCache.delete(which);
  }

  renderFunctionList(which: 'ftraceFilter' | 'ftraceNotrace' | 'graphFunctions' | 'graphNotrace'): string {
    const l = this.st[which];
    if (!l.length) {
      if (which === 'ftraceFilter' || which === 'graphFunctions') return '#### all functions enabled ####\n';
      if (which === 'graphNotrace') return '#### no functions disabled ####\n';
      return '';
    }
    return l.join('\n') + '\n';
  }

  private fset(which: 'ftraceFilter' | 'ftraceNotrace' | 'graphFunctions' | 'graphNotrace'): Set<string> {
    let s = this.setCache.get(which) as Set<string> | undefined;
    if (!s) this.setCache.set(which, (s = new Set(this.st[which])));
    return s;
  }

  writeFtracePid(data: string, append: boolean): void {
    const cur = new Set(append ? this.st.ftracePids : []);
    for (const tok of data.split(/\s+/).filter((x) => x)) {
      if (!/^\d+$/.test(tok)) throw new KernelError('EINVAL');
      cur.add(Number(tok));
    }
    this.st.ftracePids = [...cur].sort((a, b) => a - b);
    this.setCache.delete('pids');
  }

  renderFtracePid(): string {
    return this.st.ftracePids.length ? this.st.ftracePids.join('\n') + '\n' : 'no pid\n';
  }

  /** set_event_pid, set_event_notrace_pid, set_ftrace_notrace_pid */
  writePidList(which: 'eventPids' | 'eventNotracePids' | 'ftraceNotracePids', data: string, append: boolean): void {
    const cur = new Set(append ? (this.st[which] ?? []) : []);
    for (const tok of data.split(/\s+/).filter((x) => x)) {
      if (!/^\d+$/.test(tok)) throw new KernelError('EINVAL');
      cur.add(Number(tok));
    }
    this.st[which] = [...cur].sort((a, b) => a - b);
  }

  renderPidList(which: 'eventPids' | 'eventNotracePids' | 'ftraceNotracePids'): string {
    const l = this.st[which] ?? [];
    if (which === 'ftraceNotracePids' && !l.length) return 'no pid\n';
    return l.map((p) => `${p}\n`).join('');
  }

  private eventPidOk(pid: number): boolean {
    const only = this.st.eventPids;
    if (only?.length && !only.includes(pid)) return false;
    return !this.st.eventNotracePids?.includes(pid);
  }

  /** enabled_functions: the functions with the tracer's callback attached. */
  renderEnabledFunctions(): string {
    if (this.st.tracer === 'nop') return '';
    const cb = this.st.tracer === 'function' ? 'function_trace_call+0x0/0x120' : 'ftrace_graph_func+0x0/0x40';
    const f = this.fset('ftraceFilter');
    const nt = this.fset('ftraceNotrace');
    const names = f.size ? [...f] : this.traceableNames();
    return names
      .filter((n) => !nt.has(n))
      .map((n) => `${n} (1)      \ttramp: ${TRAMP} (${cb}) ->${cb}\n`)
      .join('');
  }

  // ------------------------------------------------------------------ events

  private evKey(system: string, name: string): string {
    return `${system}:${name}`;
  }

  private evState(system: string, name: string): EventState | undefined {
    return this.st.events[this.evKey(system, name)];
  }

  private evStateMut(system: string, name: string): EventState {
    const key = this.evKey(system, name);
    return (this.st.events[key] ??= { enabled: false });
  }

  /** An event's definition (static or kprobe). */
  eventDef(system: string, name: string): EventDef | undefined {
    const p = this.st.probes.find((x) => x.def.group === system && x.def.event === name);
    if (p) return probeEventDef(p);
    return staticEvent(system, name);
  }

  /** Every event in available_events order (dynamic events first). */
  allEvents(): { system: string; name: string }[] {
    const dyn = [...this.st.probes].reverse().map((p) => ({ system: p.def.group, name: p.def.event }));
    return [...dyn, ...staticEvents().map((e) => ({ system: e.system, name: e.name }))];
  }

  systems(): string[] {
    const s = new Set<string>();
    for (const e of this.allEvents()) s.add(e.system);
    s.add('ftrace');
    return [...s].sort();
  }

  eventsOf(system: string): string[] {
    const out = this.allEvents()
      .filter((e) => e.system === system)
      .map((e) => e.name);
    if (system === 'ftrace') return ['function', 'funcgraph_entry', 'print'].filter((n) => staticEvent('ftrace', n));
    return out;
  }

  renderAvailableEvents(): string {
    return this.allEvents()
      .map((e) => `${e.system}:${e.name}\n`)
      .join('');
  }

  isEnabled(system: string, name: string): boolean {
    return !!this.evState(system, name)?.enabled;
  }

  setEnabled(system: string, name: string, on: boolean): void {
    if (!this.eventDef(system, name) || system === 'ftrace') throw new KernelError('EINVAL');
    this.evStateMut(system, name).enabled = on;
    if (on) this.st.expanded = true;
    this.updateGates();
  }

  /** "0", "1" or "X" (mixed) over a set of events. */
  renderEnable(events: { system: string; name: string }[]): string {
    const on = events.filter((e) => this.isEnabled(e.system, e.name)).length;
    return on === 0 ? '0\n' : on === events.length ? '1\n' : 'X\n';
  }

  writeEnable(events: { system: string; name: string }[], data: string): void {
    const t = data.trim();
    if (t !== '0' && t !== '1') throw new KernelError('EINVAL');
    for (const e of events) this.setEnabled(e.system, e.name, t === '1');
  }

  renderSetEvent(): string {
    return this.allEvents()
      .filter((e) => this.isEnabled(e.system, e.name))
      .map((e) => `${e.system}:${e.name}\n`)
      .join('');
  }

  /** set_event: `sys:event`, `event`, `sys:*`, `sys:`, `*:*`, `!` to disable. */
  writeSetEvent(data: string, append: boolean): void {
    if (!append) for (const e of this.allEvents()) if (this.isEnabled(e.system, e.name)) this.setEnabled(e.system, e.name, false);
    for (const tok of data.split(/\s+/).filter((x) => x)) {
      const neg = tok.startsWith('!');
      const t = neg ? tok.slice(1) : tok;
      let sys = '*';
      let ev = t;
      const i = t.indexOf(':');
      if (i >= 0) {
        sys = t.slice(0, i) || '*';
        ev = t.slice(i + 1) || '*';
      }
      const ms = globMatcher(sys);
      const me = globMatcher(ev);
      const hits = this.allEvents().filter((e) => ms(e.system) && me(e.name));
      if (!hits.length) throw new KernelError('EINVAL');
      for (const e of hits) this.setEnabled(e.system, e.name, !neg);
    }
  }

  renderFilter(system: string, name: string): string {
    const s = this.evState(system, name);
    if (s?.filterError) return s.filterError;
    return s?.filter ? `${s.filter}\n` : 'none\n';
  }

  /** Sets an event filter; "0" clears. A bad filter fails with EINVAL and is logged. */
  writeFilter(system: string, name: string, data: string): void {
    const def = this.eventDef(system, name);
    if (!def) throw new KernelError('EINVAL');
    const text = data.replace(/\n+$/, '').trim();
    const s = this.evStateMut(system, name);
    if (text === '0' || text === '') {
      delete s.filter;
      delete s.filterError;
      this.filterCache.delete(this.evKey(system, name));
      return;
    }
    try {
      compileFilter(text, def.fields);
    } catch (e) {
      if (!(e instanceof FilterParseError)) throw e;
      delete s.filter;
      s.filterError = filterErrorReadback(text, e);
      this.filterCache.delete(this.evKey(system, name));
      this.logError('event filter parse error', e.text, text, e.pos);
      throw new KernelError('EINVAL');
    }
    s.filter = text;
    delete s.filterError;
    this.filterCache.delete(this.evKey(system, name));
  }

  private filterFn(key: string, text: string | undefined, fields: readonly FieldDef[]): FilterFn | null {
    if (!text) return null;
    let f = this.filterCache.get(key);
    if (f === undefined) {
      try {
        f = compileFilter(text, fields);
      } catch {
        f = null;
      }
      this.filterCache.set(key, f);
    }
    return f;
  }

  renderTrigger(system: string, name: string): string {
    const t = this.evState(system, name)?.triggers ?? [];
    return t.length ? t.map((x) => x + '\n').join('') : TRIGGER_HELP;
  }

  /** trigger: `CMD[:COUNT] [if FILTER]`, `!CMD` removes. CMD: traceon traceoff stacktrace snapshot. */
  writeTrigger(system: string, name: string, data: string): void {
    const def = this.eventDef(system, name);
    if (!def) throw new KernelError('EINVAL');
    const text = data.trim();
    if (!text) return;
    const m = /^(!)?(traceon|traceoff|stacktrace|snapshot)(?::(\d+))?(?:\s+if\s+(.+))?$/.exec(text);
    if (!m) throw new KernelError('EINVAL');
    const s = this.evStateMut(system, name);
    const list = (s.triggers ??= []);
    const cmd = m[2];
    const idx = list.findIndex((x) => x.split(':')[0] === cmd);
    if (m[1]) {
      if (idx < 0) throw new KernelError('ENOENT');
      list.splice(idx, 1);
    } else {
      if (idx >= 0) throw new KernelError('EEXIST');
      if (m[4]) {
        try {
          compileFilter(m[4], def.fields);
        } catch (e) {
          if (e instanceof FilterParseError) {
            this.logError('event filter parse error', e.text, m[4], e.pos);
            throw new KernelError('EINVAL');
          }
          throw e;
        }
      }
      list.push(`${cmd}:${m[3] ? `count=${m[3]}` : 'unlimited'}${m[4] ? ` if ${m[4]}` : ''}`);
    }
    this.updateGates();
  }

  /** The format file of an event. */
  renderFormat(system: string, name: string): string {
    const def = this.eventDef(system, name);
    if (!def) throw new KernelError('ENOENT');
    const line = (f: FieldDef): string => `\tfield:${f.decl};\toffset:${f.offset};\tsize:${f.size};\tsigned:${f.signed ? 1 : 0};\n`;
    const common = def.fields.filter((f) => f.name.startsWith('common_'));
    const own = def.fields.filter((f) => !f.name.startsWith('common_'));
    return `name: ${def.name}\nID: ${def.id}\nformat:\n${common.map(line).join('')}\n${own.map(line).join('')}\nprint fmt: ${def.printFmt}\n`;
  }

  // ------------------------------------------------------------------ kprobes

  renderKprobeEvents(): string {
    return this.st.probes.map((p) => kprobeLine(p.def) + '\n').join('');
  }

  renderKprobeProfile(): string {
    return this.st.probes.map((p) => `  ${p.def.event.padEnd(44, ' ')} ${padL(p.hits, 15)} ${padL(p.missed, 15)}\n`).join('');
  }

  /** A write to kprobe_events (or dynamic_events): one command per line; truncation clears all probes. */
  writeKprobeEvents(data: string, append: boolean): void {
    if (!append) {
      if (this.st.probes.some((p) => this.isEnabled(p.def.group, p.def.event))) throw new KernelError('EBUSY');
      for (const p of this.st.probes) delete this.st.events[this.evKey(p.def.group, p.def.event)];
      this.st.probes = [];
    }
    for (const raw of data.split('\n')) {
      const line = raw.replace(/#.*$/, '').trim();
      if (!line) continue;
      const cmd = line.split(/\s+/).join(' ');
      let c;
      try {
        c = parseKprobe(cmd, (s) => this.isTraceable(s), this.k.config.cpus);
      } catch (e) {
        if (!(e instanceof ProbeError)) throw e;
        this.logError('trace_kprobe', e.message, cmd, e.pos);
        throw new KernelError(e.errno);
      }
      if (c.kind === 'del') {
        const i = this.st.probes.findIndex((p) => p.def.event === c.event && (c.group === 'kprobes' || p.def.group === c.group));
        if (i < 0) throw new KernelError('ENOENT');
        const p = this.st.probes[i];
        if (this.isEnabled(p.def.group, p.def.event)) throw new KernelError('EBUSY');
        delete this.st.events[this.evKey(p.def.group, p.def.event)];
        this.st.probes.splice(i, 1);
        continue;
      }
      const d = c.def;
      if (this.st.probes.some((p) => p.def.event === d.event && p.def.group === d.group) || staticEvent(d.group, d.event)) {
        this.logError('trace_kprobe', 'Given group/event name is already used by another event', cmd, 0);
        throw new KernelError('EEXIST');
      }
      this.st.probes.push({ def: d, id: this.st.nextDynId++, hits: 0, missed: 0 });
    }
    this.updateGates();
  }

  // ------------------------------------------------------------------ error_log

  private logError(loc: string, msg: string, cmd: string, pos: number): void {
    const ts = this.k.now;
    const sec = Math.floor(ts / 1e9);
    const usec = Math.floor((ts % 1e9) / 1e3);
    const head = `[${padL(sec, 5)}.${String(usec).padStart(6, '0')}] ${loc}: error: ${msg}\n`;
    this.st.errorLog.push(`${head}  Command: ${cmd}\n${' '.repeat(11 + pos)}^\n`);
    if (this.st.errorLog.length > ERROR_LOG_MAX) this.st.errorLog.shift();
  }

  renderErrorLog(): string {
    return this.st.errorLog.join('');
  }

  clearErrorLog(): void {
    this.st.errorLog = [];
  }

  // ------------------------------------------------------------------ ring buffer

  private clockNow(): number {
    const c = this.st.clock;
    if (NS_CLOCKS.has(c)) return this.tsAt ?? this.k.now;
    if (c === 'counter') return this.st.counter++;
    if (c === 'uptime') return Math.floor(this.k.now / 4_000_000);
    return Math.floor((this.k.now * 2596117) / 1_000_000);
  }

  /** Empties every CPU buffer (`echo > trace`, tracer or clock change). */
  resetBuffers(): void {
    const now = this.clockNow();
    for (const b of this.st.cpus) {
      Object.assign(b, emptyBuffer(now));
    }
  }

  resetCpu(cpu: number): void {
    const b = this.st.cpus[cpu];
    if (!b) return;
    Object.assign(b, emptyBuffer(b.oldest), { dropped: b.dropped });
  }

  /** Overwrites the oldest data when over capacity: a whole page at a time, like the kernel's ring buffer. */
  private trim(b: CpuBuffer): void {
    const pages = this.capacityPages();
    while (b.pages.length > pages) {
      const old = b.pages.shift() as TraceEntry[];
      b.count -= old.length;
      b.overrun += old.length;
      for (const e of old) b.bytes -= e.n;
    }
  }

  private cmdMap?: Map<number, string>;

  private cmdlines(): Map<number, string> {
    if (!this.cmdMap) this.cmdMap = new Map(this.st.cmdlines);
    return this.cmdMap;
  }

  private saveCmdline(pid: number, comm: string): void {
    if (pid === 0 || !this.st.options['record-cmd']) return;
    const m = this.cmdlines();
    if (m.get(pid) === comm) return;
    m.delete(pid);
    m.set(pid, comm);
    this.trimCmdlines();
    this.st.cmdlines = [...m];
  }

  private trimCmdlines(): void {
    const m = this.cmdlines();
    while (m.size > this.st.savedCmdlinesSize) m.delete(m.keys().next().value as number);
    this.st.cmdlines = [...m];
  }

  /** The comm the trace shows for a pid (saved_cmdlines). */
  commOf(pid: number): string {
    if (pid === 0) return '<idle>';
    return this.cmdlines().get(pid) ?? '<...>';
  }

  private record(e: Omit<TraceEntry, 's' | 't'>, at?: number): boolean {
    const st = this.st;
    if (!st.on) return false;
    if (!(st.cpumask & (1 << e.c))) return false;
    const b = st.cpus[e.c];
    if (!b) return false;
    st.expanded = true;
    const entry = { s: st.seq, t: at ?? this.clockNow(), ...e } as TraceEntry;
    const newPage = !b.pages.length || b.lastBytes + entry.n > PAGE_DATA;
    if (newPage && !st.options.overwrite && b.pages.length >= this.capacityPages()) {
      b.dropped++;
      return false;
    }
    st.seq++;
    if (!b.count && b.overrun === 0 && b.read === 0) b.oldest = entry.t;
    if (newPage) {
      b.pages.push([entry]);
      b.lastBytes = entry.n;
    } else {
      b.pages[b.pages.length - 1].push(entry);
      b.lastBytes += entry.n;
    }
    b.count++;
    b.bytes += entry.n;
    if (newPage) this.trim(b);
    if (this.subs.size) for (const fn of [...this.subs]) fn(entry);
    return true;
  }

  // ------------------------------------------------------------------ emission API

  /** Whether function entries/exits are wanted at all (a tracer or a kprobe is active). */
  get functionsActive(): boolean {
    return this.fnActive;
  }

  /** Whether any trace event is enabled or has a trigger. */
  get eventsActive(): boolean {
    return this.evActive;
  }

  private stackMap?: Map<number, Frame[]>;

  private frames(pid: number): Frame[] {
    if (!this.stackMap) this.stackMap = new Map(this.st.stacks);
    let f = this.stackMap.get(pid);
    if (!f) {
      if (this.stackMap.size >= MAX_FRAME_TASKS) this.stackMap.delete(this.stackMap.keys().next().value as number);
      this.stackMap.set(pid, (f = []));
      this.st.stacks = [...this.stackMap];
    }
    if (f.length >= MAX_FRAMES) f.splice(0, f.length - MAX_FRAMES + 1);
    return f;
  }

  /** Forgets a task's call frames (call when a task exits). */
  forgetTask(pid: number): void {
    if (!this.st.stacks.length) return;
    if (!this.stackMap) this.stackMap = new Map(this.st.stacks);
    if (this.stackMap.delete(pid)) this.st.stacks = [...this.stackMap];
  }

  private pidOk(pid: number): boolean {
    if (this.st.ftraceNotracePids?.includes(pid)) return false;
    if (!this.st.ftracePids.length) return true;
    let s = this.setCache.get('pids') as Set<number> | undefined;
    if (!s) this.setCache.set('pids', (s = new Set(this.st.ftracePids)));
    return s.has(pid);
  }

  private passesFilter(fn: string): boolean {
    const f = this.fset('ftraceFilter');
    if (f.size && !f.has(fn)) return false;
    return !this.fset('ftraceNotrace').has(fn);
  }

  /**
   * A function was entered on `cpu` by task `pid` (`comm`), called from
   * `parentFn`. Returns whether anything was recorded. Unknown functions
   * (not in available_filter_functions nor a loaded module's) are ignored.
   */
  /**
   * A userspace task's system call, reported by the syscall layer after it
   * ran (see SyscallRecord). CONTRACT for the call-path tracer: emit its
   * events, function path and probe firings here.
   */
  syscall(pid: number, rec: SyscallRecord): void {
    const probes = this.k.probes.any;
    if (!this.fnActive && !this.evActive && !probes && !this.recHooks.size) return;
    const task = this.k.sched.task(pid);
    const comm = task?.comm ?? this.commOf(pid);
    const cpu = task && task.cpu < this.st.cpus.length ? task.cpu : 0;
    const tgid = task?.tgid ?? pid;
    const ctx: EmitCtx = { cpu, pid, tgid, comm, prio: task ? 120 + task.nice : 120, rec, stack: [], seq: 0 };
    const t0 = rec.startNs;
    let t1 = rec.startNs + Math.max(0, rec.durNs);
    const prevTs = this.tsAt;
    const prevCur = this.current;
    this.current = ctx;
    try {
      this.tsAt = t0;
      if (this.evActive || probes) this.syscallEvents(ctx, true);
      if (this.fnActive || probes || this.evActive) {
        // the call takes longer by what tracing it costs: the caller's clock (Syscalls' cursor) moves on from the new end
        const took = this.walk(ctx, syscallTree(rec.name, rec.fstype), t0, rec.durNs);
        if (took > rec.durNs && !ctx.dead) {
          rec.durNs = Math.round(took);
          t1 = t0 + rec.durNs;
        }
      }
      // a local timer tick that falls inside the call's CPU time interrupts it (HZ=250)
      const tick = Math.ceil(t0 / TICK_NS) * TICK_NS;
      // (not under function_graph: its nesting is rendered from entry order, and the interrupt would split the call's)
      if (tick > t0 && tick < t1 && this.st.tracer !== 'function_graph' && (this.fnActive || this.evActive || probes)) {
        const tree = syscallTree(rec.name, rec.fstype);
        if (!tree.sleeps || tick < t0 + tree.total * UNIT_NS) this.timerTick(cpu, pid, tick);
      }
      this.tsAt = t1;
      if (ctx.dead) this.forgetTask(pid);
      else if (this.evActive || probes) this.syscallEvents(ctx, false);
      for (const h of this.recHooks) h(pid, rec);
    } finally {
      this.tsAt = prevTs;
      this.current = prevCur;
    }
  }

  /** Runtime observers of syscall records (perf's counters); not kernel state. */
  private readonly recHooks = new Set<(pid: number, rec: SyscallRecord) => void>();

  /** Observes every syscall record (perf stat / perf trace); returns the detach function. */
  onSyscall(fn: (pid: number, rec: SyscallRecord) => void): () => void {
    this.recHooks.add(fn);
    return () => void this.recHooks.delete(fn);
  }

  /** the syscall being emitted (module hooks attribute their events to it) */
  private current?: EmitCtx;
  /** timestamp override while emitting a reported call (ns clocks) */
  private tsAt?: number;

  private syscallEvents(c: EmitCtx, enter: boolean): void {
    const rec = c.rec as SyscallRecord;
    const sys = `sys_${enter ? 'enter' : 'exit'}_${rec.name}`;
    const raw = enter ? 'sys_enter' : 'sys_exit';
    const args = rec.args.length >= 6 ? rec.args : [...rec.args, 0, 0, 0, 0, 0, 0].slice(0, 6);
    const rawFields: EventFields = enter ? { id: rec.nr, args: args.map((a) => u64(a).toString(16)).join(', ') } : { id: rec.nr, ret: rec.ret };
    const names = syscallArgNames(rec.name);
    const fields: EventFields = { __syscall_nr: rec.nr };
    if (enter) names.forEach((n, i) => (fields[n] = args[i] ?? 0));
    else fields.ret = rec.ret;
    if (this.evActive) {
      this.event(c.cpu, c.pid, c.comm, 'raw_syscalls', raw, rawFields, { flags: '.....' });
      if (staticEvent('syscalls', sys)) this.event(c.cpu, c.pid, c.comm, 'syscalls', sys, fields);
    }
    const bus = this.k.probes;
    if (bus.any) {
      const mk = (name: string, f: EventFields) => (): ProbeFiring => ({
        kind: 'tracepoint',
        name,
        cpu: c.cpu,
        tid: c.pid,
        pid: c.tgid,
        comm: c.comm,
        nsecs: this.tsAt ?? this.k.now,
        args: [],
        fields: f,
        kstack: [],
        ...(rec.path !== undefined && PATH_ARG[rec.name] !== undefined ? { mem: new Map([[u64(rec.args[PATH_ARG[rec.name]] ?? 0), rec.path]]) } : {}),
      });
      bus.fire('tracepoint', `raw_syscalls:${raw}`, mk(`raw_syscalls:${raw}`, enter ? { id: rec.nr, args: rawFields.args } : rawFields));
      bus.fire('tracepoint', `syscalls:${sys}`, mk(`syscalls:${sys}`, rec.path !== undefined && enter ? { ...fields, [names.find((n) => /name$/.test(n)) ?? 'filename']: rec.path } : fields));
    }
  }

  /** Walks a call tree from `t0` over `durNs`: function entries/exits, kprobes, node events, context switches. */
  private walk(c: EmitCtx, root: CallNode, t0: number, durNs: number): number {
    // per-call deterministic jitter of each function's own cost (real durations vary call to call)
    const w = new Map<CallNode, [number, number]>();
    let seed = hash(`${c.pid}:${t0}`);
    const weigh = (n: CallNode): number => {
      seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) >>> 0;
      const self = n.self * (0.6 + (seed % 1000) / 1250);
      let tot = self;
      for (const k of n.kids) tot += weigh(k);
      w.set(n, [self, tot]);
      return tot;
    };
    const cpuUnits = weigh(root);
    c.w = w;
    let unit = UNIT_NS;
    let extra = 0;
    const dur = Math.max(0, durNs);
    if (root.sleeps && dur > cpuUnits * UNIT_NS) extra = dur - cpuUnits * UNIT_NS;
    else unit = cpuUnits ? dur / cpuUnits : 0;
    return this.visit(c, root, '', t0, unit, extra);
  }

  private visit(c: EmitCtx, n: CallNode, parent: string, t: number, unit: number, extra: number): number {
    const [self, total] = c.w?.get(n) ?? [n.self, n.total];
    const dur = total * unit + (n.sleeps ? extra : 0);
    const traced = n.traceable || (!SYSCALL_WRAPPER_SET.has(n.fn) && this.isTraceable(n.fn));
    // the tracer's own cost: each recorded entry and exit delays the traced task (see TRACER_COST_NS)
    let cost = 0;
    const bus = this.k.probes;
    const stackLen = c.stack.length;
    c.stack.push(n.fn);
    this.tsAt = Math.round(t);
    if (traced) {
      if (this.fnActive) {
        const stack = this.st.options.func_stack_trace ? callers(c.stack) : undefined;
        if (this.funcEntry(c.cpu, c.pid, c.comm, n.fn, parent || 'entry_SYSCALL_64_after_hwframe', { args: this.nodeArgs(c, n), flags: c.flags, stack })) {
          cost += this.tracerCost(c, 'entry');
        }
      }
      if (bus.any) bus.fire('kprobe', n.fn, () => this.firing(c, 'kprobe', n.fn));
    }
    if (n.marks) for (const m of n.marks) this.markEvent(c, m, parent);
    let cur = t + cost + (self * unit) / 2;
    for (const k of n.kids) {
      const took = this.visit(c, k, n.fn, cur, unit, extra);
      cur += took;
      // what the callees took beyond their modelled time is the tracer's
      const kw = c.w?.get(k);
      cost += took - ((kw ? kw[1] : k.total) * unit + (k.sleeps ? extra : 0));
      if (c.dead) break;
    }
    if (n.marks?.includes('dead')) {
      // do_task_dead(): the task switches out for good; nothing on its stack returns
      this.switchOut(c, cur, 0x20);
      c.dead = true;
    }
    if (c.dead) {
      c.stack.length = stackLen;
      return dur + cost;
    }
    if (n.sleep && extra > 0) {
      this.switchOut(c, cur, 1);
      cur += extra;
      this.switchIn(c, cur);
    }
    const end = t + dur + cost;
    this.tsAt = Math.round(end);
    if (traced) {
      const ret = n.fn.startsWith('__x64_sys_') || RET_PASS.has(n.fn) ? (c.rec?.ret ?? 0) : 0;
      if (this.fnActive && this.funcExit(c.cpu, c.pid, c.comm, n.fn, Math.round(end) - Math.round(t), { retval: ret, flags: c.flags })) {
        cost += this.tracerCost(c, 'exit');
      }
      if (bus.any) bus.fire('kretprobe', n.fn, () => ({ ...this.firing(c, 'kretprobe', n.fn), retval: BigInt(Number.isFinite(ret) ? Math.trunc(ret) : 0) }));
    }
    c.stack.length = stackLen;
    return dur + cost;
  }

  /** Nanoseconds one recorded function entry or exit costs the traced task (with a deterministic jitter). */
  private tracerCost(c: EmitCtx, at: 'entry' | 'exit'): number {
    const base = TRACER_COST_NS[this.st.tracer]?.[at] ?? 0;
    if (!base) return 0;
    c.jit = Math.imul((c.jit ?? Math.imul(c.pid + 1, 0x9e3779b1)) ^ 0x5bd1e995, 0x85ebca6b) >>> 0;
    return base * (0.75 + (c.jit % 512) / 1024);
  }

  private nodeArgs(c: EmitCtx, n: CallNode): ProbeValue[] | undefined {
    const rec = c.rec;
    if (!rec) return undefined;
    if (n.fn.startsWith('__x64_sys_')) return [fakePtr(c.pid, 'regs')];
    const a: ProbeValue[] = rec.args.map((x) => x);
    if (rec.path !== undefined) {
      const i = PATH_ARG[rec.name];
      if (i !== undefined) {
        if (/^(getname|getname_flags)$/.test(n.fn)) a[0] = rec.path;
        else if (/^do_sys_openat2$|^do_filp_open$/.test(n.fn)) a[1] = rec.path;
        else a[i] = rec.path;
      }
    }
    // do_sys_openat2(dfd, filename, struct open_how *how): build_open_how() forces O_LARGEFILE (64-bit), mode only with O_CREAT/O_TMPFILE
    if (n.fn === 'do_sys_openat2' && rec.name === 'openat') {
      const flags = Number(rec.args[2] ?? 0);
      a[2] = [flags | 0o100000, flags & 0o20000100 ? Number(rec.args[3] ?? 0) : 0, 0];
    }
    if (/^vfs_(read|write)$/.test(n.fn)) a.unshift(fakePtr(c.pid, `file${rec.args[0] ?? 0}`));
    return a;
  }

  private firing(c: EmitCtx, kind: ProbeKind, fn: string): ProbeFiring {
    const rec = c.rec;
    let args: bigint[] = (rec?.args ?? []).map(u64);
    let mem: Map<bigint, string> | undefined;
    const pi = rec ? PATH_ARG[rec.name] : undefined;
    if (rec && rec.path !== undefined && pi !== undefined) mem = new Map([[args[pi] ?? 0n, rec.path]]);
    if (rec) {
      if (fn.startsWith('__x64_sys_')) args = [fakePtr(c.pid, 'regs')];
      else if (fn === 'vfs_read' || fn === 'vfs_write') args = [fakePtr(c.pid, `file${rec.args[0] ?? 0}`), args[1] ?? 0n, args[2] ?? 0n, fakePtr(c.pid, 'pos')];
      else if ((fn === 'getname' || fn === 'getname_flags') && pi !== undefined) args = [args[pi] ?? 0n, 0n];
    }
    const kstack = c.stack
      .slice()
      .reverse()
      .map((f, i) => (i === 0 ? `${f}+${kind === 'kprobe' ? 5 : 0}` : `${f}+${retOffset(f, symSize(f))}`));
    if (kstack.length && kstack[kstack.length - 1].startsWith('entry_SYSCALL_64_after_hwframe')) kstack[kstack.length - 1] = 'entry_SYSCALL_64_after_hwframe+99';
    const f: ProbeFiring = { kind, name: fn, cpu: c.cpu, tid: c.pid, pid: c.tgid, comm: c.comm, nsecs: this.tsAt ?? this.k.now, args, kstack };
    if (mem) f.mem = mem;
    return f;
  }

  /** kmem events attached to call-tree nodes. */
  private markEvent(c: EmitCtx, m: string, parent: string): void {
    const name = m === 'kmalloc' ? 'kmalloc' : m === 'kfree' ? 'kfree' : m === 'cache_alloc' ? 'kmem_cache_alloc' : m === 'cache_free' ? 'kmem_cache_free' : undefined;
    if (!name) return;
    const site = `${parent}+0x${retOffset(parent, symSize(parent)).toString(16)}/0x${symSize(parent).toString(16)}`;
    c.seq++;
    const ptr = fakePtr(c.pid, `${this.tsAt ?? 0}:${c.seq}`);
    const size = m === 'kmalloc' ? 4096 : m === 'cache_alloc' ? 256 : 0;
    const f: EventFields =
      m === 'kfree' || m === 'cache_free'
        ? { call_site: site, ptr, name: m === 'cache_free' ? 'names_cache' : undefined }
        : { call_site: site, ptr, bytes_req: size, bytes_alloc: size, gfp_flags: 0xcc0, node: -1, accounted: 'false' };
    if (this.evActive) this.event(c.cpu, c.pid, c.comm, 'kmem', name, f);
    const bus = this.k.probes;
    if (bus.any) bus.fire('tracepoint', `kmem:${name}`, () => ({ ...this.firing(c, 'kprobe', name), kind: 'tracepoint', name: `kmem:${name}`, fields: f, args: [] }));
  }

  /** The task leaves the CPU (prev_state: 1 = S, 0x20 = Z): sched_stat_runtime, the schedule() path, sched_switch to idle. */
  private switchOut(c: EmitCtx, t: number, state: number): void {
    this.tsAt = Math.round(t);
    const idle = `swapper/${c.cpu}`;
    this.schedEvent(c.cpu, c.pid, c.comm, 'sched_stat_runtime', { comm: c.comm, pid: c.pid, runtime: Math.round(t - (c.rec?.startNs ?? t)) || 1000, vruntime: 1_000_000 + c.pid * 1000 });
    this.schedEvent(c.cpu, c.pid, c.comm, 'sched_switch', {
      prev_comm: c.comm,
      prev_pid: c.pid,
      prev_prio: c.prio,
      prev_state: state,
      next_comm: idle,
      next_pid: 0,
      next_prio: 120,
    });
  }

  /** The task is woken (from the idle CPU's interrupt) and switched back in. */
  private switchIn(c: EmitCtx, t: number): void {
    const at = Math.round(t);
    this.tsAt = Math.max(0, at - 2000);
    const w = { comm: c.comm, pid: c.pid, prio: c.prio, target_cpu: c.cpu };
    this.schedEvent(c.cpu, 0, '<idle>', 'sched_waking', w, 'dNh4.');
    this.tsAt = Math.max(0, at - 1500);
    this.schedEvent(c.cpu, 0, '<idle>', 'sched_wakeup', w, 'dNh4.');
    this.tsAt = at;
    this.schedEvent(c.cpu, 0, '<idle>', 'sched_switch', {
      prev_comm: `swapper/${c.cpu}`,
      prev_pid: 0,
      prev_prio: 120,
      prev_state: 0,
      next_comm: c.comm,
      next_pid: c.pid,
      next_prio: c.prio,
    });
    if (this.fnActive || this.k.probes.any) {
      const idle: EmitCtx = { cpu: c.cpu, pid: 0, tgid: 0, comm: `swapper/${c.cpu}`, prio: 120, stack: [], seq: 0 };
      const tree = namedTree('schedule', SCHEDULE_TREE);
      // the idle task's schedule() that hands the CPU over
      const d = tree.total * UNIT_NS;
      const save = this.tsAt;
      this.visit(idle, tree, 'schedule_idle', at - d, UNIT_NS, 0);
      this.tsAt = save;
    }
  }

  private schedEvent(cpu: number, pid: number, comm: string, name: string, f: EventFields, flags?: string): void {
    if (this.evActive) this.event(cpu, pid, comm, 'sched', name, f, flags ? { flags } : undefined);
    const bus = this.k.probes;
    if (bus.any) {
      bus.fire('tracepoint', `sched:${name}`, () => ({ kind: 'tracepoint', name: `sched:${name}`, cpu, tid: pid, pid, comm, nsecs: this.tsAt ?? this.k.now, args: [], fields: f, kstack: [] }));
    }
  }

  /**
   * Scheduler hook: task `pid` left the CPU to sleep (a program's sleep/io/wait step).
   * Emits sched_stat_runtime + sched_switch to the next runnable task (or idle) and the schedule() path.
   */
  schedSleep(pid: number, cpu: number): void {
    if (!this.fnActive && !this.evActive && !this.k.probes.any) return;
    const c = this.taskCtx(pid);
    if (cpu < this.st.cpus.length) c.cpu = cpu;
    const prev = this.tsAt;
    try {
      const now = this.k.now;
      if (this.fnActive || this.k.probes.any) {
        const tree = namedTree('schedule', SCHEDULE_TREE);
        this.visit(c, tree, 'do_nanosleep', now, UNIT_NS, 0);
      }
      const next = this.k.sched.runqueue(c.cpu).find((p) => p !== pid) ?? 0;
      const n = next ? this.taskCtx(next) : undefined;
      this.tsAt = now + namedTree('schedule', SCHEDULE_TREE).total * UNIT_NS;
      this.schedEvent(c.cpu, pid, c.comm, 'sched_stat_runtime', { comm: c.comm, pid, runtime: 100_000 + (pid % 97) * 1000, vruntime: 1_000_000 + pid * 1000 });
      this.schedEvent(c.cpu, pid, c.comm, 'sched_switch', {
        prev_comm: c.comm,
        prev_pid: pid,
        prev_prio: c.prio,
        prev_state: 1,
        next_comm: n ? n.comm : `swapper/${c.cpu}`,
        next_pid: next,
        next_prio: n ? n.prio : 120,
      });
    } finally {
      this.tsAt = prev;
    }
  }

  /** Scheduler hook: task `pid` was woken onto `cpu` (`idle`: the CPU had nothing else to run, so it switches in at once). */
  schedWakeup(pid: number, cpu: number, idle: boolean): void {
    if (!this.fnActive && !this.evActive && !this.k.probes.any) return;
    const c = this.taskCtx(pid);
    if (cpu < this.st.cpus.length) c.cpu = cpu;
    const waker = this.current;
    const wcpu = waker?.cpu ?? c.cpu;
    const w = { comm: c.comm, pid, prio: c.prio, target_cpu: c.cpu };
    this.schedEvent(wcpu, waker?.pid ?? 0, waker?.comm ?? '<idle>', 'sched_waking', w, waker ? 'd..2.' : 'dNh3.');
    this.schedEvent(wcpu, waker?.pid ?? 0, waker?.comm ?? '<idle>', 'sched_wakeup', w, waker ? 'd..2.' : 'dNh3.');
    if (idle) {
      this.schedEvent(c.cpu, 0, '<idle>', 'sched_switch', {
        prev_comm: `swapper/${c.cpu}`,
        prev_pid: 0,
        prev_prio: 120,
        prev_state: 0,
        next_comm: c.comm,
        next_pid: pid,
        next_prio: c.prio,
      });
    }
  }

  /** Whether anything observes the kernel right now (a tracer, an enabled event or trigger, a kprobe or bpftrace probe). */
  get observed(): boolean {
    return this.fnActive || this.evActive || this.k.probes.any;
  }

  /**
   * A kernel activity outside a system call (a page fault, a block request, a
   * packet): walks `tree` (from namedTree()) for task `pid` (0: the idle task
   * of `opts.cpu`) from `opts.atNs` (default now): function / function_graph
   * entries and exits, kprobes / kretprobes and the kmem marks of its nodes,
   * under the untraced caller `parent`. `opts.flags` are the irq-info flags
   * of its lines ('d.h1.' in a hard irq, '..s1.' in a softirq). Returns the
   * time the walk took in ns (0 when nothing observes the kernel).
   */
  kernelPath(pid: number, tree: CallNode, parent: string, opts: { cpu?: number; atNs?: number; flags?: string } = {}): number {
    if (!this.fnActive && !this.k.probes.any) return 0;
    const c = pid ? this.taskCtx(pid) : this.idleCtx(opts.cpu ?? 0);
    if (opts.cpu !== undefined && opts.cpu < this.st.cpus.length) c.cpu = opts.cpu;
    if (opts.flags) c.flags = opts.flags;
    const prev = this.tsAt;
    const prevCur = this.current;
    this.current = c;
    try {
      return this.visit(c, tree, parent, opts.atNs ?? this.k.now, UNIT_NS, 0);
    } finally {
      this.tsAt = prev;
      this.current = prevCur;
    }
  }

  /**
   * A static tracepoint fired by the model (e.g. tracepoint(pid, 'block', 'block_rq_issue', {...})):
   * the trace event (format, filter, triggers) and bpftrace's `tracepoint:sys:name` probes.
   * `opts.atNs` timestamps it (default now); pid 0 is the idle task of `opts.cpu`.
   */
  tracepoint(pid: number, system: string, name: string, fields: EventFields, opts: { cpu?: number; atNs?: number; flags?: string } = {}): void {
    if (!this.evActive && !this.k.probes.any) return;
    const c = pid ? this.taskCtx(pid) : this.idleCtx(opts.cpu ?? 0);
    if (opts.cpu !== undefined && opts.cpu < this.st.cpus.length) c.cpu = opts.cpu;
    const prev = this.tsAt;
    try {
      this.tsAt = opts.atNs !== undefined ? Math.round(opts.atNs) : prev;
      if (this.evActive) this.event(c.cpu, c.pid, c.comm, system, name, fields, opts.flags ? { flags: opts.flags } : undefined);
      const bus = this.k.probes;
      if (bus.any) {
        const full = `${system}:${name}`;
        bus.fire('tracepoint', full, () => ({ kind: 'tracepoint', name: full, cpu: c.cpu, tid: c.pid, pid: c.tgid, comm: c.comm, nsecs: this.tsAt ?? this.k.now, args: [], fields, kstack: [] }));
      }
    } finally {
      this.tsAt = prev;
    }
  }

  private idleCtx(cpu: number): EmitCtx {
    const n = cpu < this.st.cpus.length ? cpu : 0;
    return { cpu: n, pid: 0, tgid: 0, comm: `swapper/${n}`, prio: 120, stack: [], seq: 0 };
  }

  /** A local timer interrupt (tick) on `cpu` while `pid` runs: the hrtimer path and the timer/irq events. */
  timerTick(cpu: number, pid: number, atNs?: number): void {
    if (!this.fnActive && !this.evActive && !this.k.probes.any) return;
    const task = pid ? this.k.sched.task(pid) : undefined;
    const comm = pid === 0 ? `swapper/${cpu}` : (task?.comm ?? this.commOf(pid));
    const c: EmitCtx = { cpu, pid, tgid: task?.tgid ?? pid, comm, prio: 120, stack: [], seq: 0, flags: 'd.h1.' };
    const prev = this.tsAt;
    const t = atNs ?? this.k.now;
    try {
      this.tsAt = t;
      const f = { hrtimer: fakePtr(cpu, 'tick'), function: 'tick_sched_timer', now: t };
      if (this.evActive) this.event(cpu, pid, comm, 'timer', 'hrtimer_expire_entry', f, { flags: 'd.h1.' });
      const tree = namedTree('timer', TIMER_TREE);
      const took = this.fnActive || this.k.probes.any ? this.visit(c, tree, 'sysvec_apic_timer_interrupt', t, UNIT_NS, 0) : tree.total * UNIT_NS;
      // update_process_times() -> run_local_timers() raises TIMER_SOFTIRQ; it runs as the interrupt returns (irq_exit_rcu)
      this.tracepoint(pid, 'irq', 'softirq_raise', { vec: 1 }, { cpu, atNs: t + took / 2, flags: 'd.h1.' });
      this.tracepoint(pid, 'irq', 'softirq_entry', { vec: 1 }, { cpu, atNs: t + took + 200, flags: '..s1.' });
      this.tracepoint(pid, 'irq', 'softirq_exit', { vec: 1 }, { cpu, atNs: t + took + 900, flags: '..s1.' });
    } finally {
      this.tsAt = prev;
    }
  }

  funcEntry(cpu: number, pid: number, comm: string, fn: string, parentFn: string, opts?: EmitOpts): boolean {
    if (!this.fnActive) return false;
    if (!this.isTraceable(fn)) return false;
    const st = this.st;
    this.saveCmdline(pid, comm);
    const flags = opts?.flags ?? '.....';
    let done = false;
    // kprobes on the function entry (newest first, like the kernel's aggregated probe list)
    for (let i = st.probes.length - 1; i >= 0; i--) {
      const p = st.probes[i];
      if (p.def.isReturn || p.def.symbol !== fn || !this.isEnabled(p.def.group, p.def.event)) continue;
      done = this.probeHit(p, cpu, pid, comm, flags, { args: opts?.args, comm }, `(${fn}+0x${p.def.offset.toString(16)}/0x${symSize(fn).toString(16)})`) || done;
    }
    const frames = this.frames(pid);
    const pidOk = this.pidOk(pid);
    if (st.tracer === 'function') {
      frames.push({ fn, parent: parentFn, traced: false, graph: false, depth: 0, t0: this.k.now });
      if (!pidOk || !this.passesFilter(fn)) return done;
      const rec = this.record({ c: cpu, p: pid, f: flags, k: 'fn', a: fn, b: parentFn, n: 32 });
      if (rec && st.options.func_stack_trace) {
        const stack = [TRAMP_RET, fn, ...(opts?.stack ?? [parentFn])];
        this.record({ c: cpu, p: pid, f: flags, k: 'st', a: '', st: stack, n: 16 + 8 * stack.length });
      }
      return rec || done;
    }
    if (st.tracer === 'function_graph') {
      const top = frames[frames.length - 1];
      const inGraph = top?.graph ?? false;
      const g = this.fset('graphFunctions');
      const graph = inGraph || g.size === 0 || g.has(fn);
      const notraceGraph = this.fset('graphNotrace').has(fn);
      const depth = frames.filter((f) => f.traced).length;
      const traced =
        graph && !notraceGraph && pidOk && this.passesFilter(fn) && (st.maxGraphDepth === 0 || depth < st.maxGraphDepth) && !(top && !top.traced && top.graph === false && g.size > 0 && !g.has(fn));
      frames.push({ fn, parent: parentFn, traced, graph: graph && !notraceGraph, depth, t0: this.k.now });
      if (!traced) return done;
      return this.record({ c: cpu, p: pid, f: flags, k: 'ge', a: fn, d: depth, n: 24 }) || done;
    }
    frames.push({ fn, parent: parentFn, traced: false, graph: false, depth: 0, t0: this.k.now });
    return done;
  }

  /** The function `fn` returned after `durationNs` (kretprobes, function_graph). */
  funcExit(cpu: number, pid: number, comm: string, fn: string, durationNs: number, opts?: EmitOpts): boolean {
    if (!this.fnActive) return false;
    if (!this.isTraceable(fn)) return false;
    const st = this.st;
    const frames = this.frames(pid);
    let i = frames.length - 1;
    while (i >= 0 && frames[i].fn !== fn) i--;
    const frame = i >= 0 ? frames[i] : undefined;
    if (i >= 0) frames.length = i;
    const flags = opts?.flags ?? '.....';
    let done = false;
    for (let j = st.probes.length - 1; j >= 0; j--) {
      const p = st.probes[j];
      if (!p.def.isReturn || p.def.symbol !== fn || !this.isEnabled(p.def.group, p.def.event)) continue;
      const parent = frame?.parent ?? 'entry_SYSCALL_64_after_hwframe';
      const size = symSize(parent);
      const off = retOffset(parent, size);
      done =
        this.probeHit(p, cpu, pid, comm, flags, { retval: opts?.retval, args: opts?.args, comm }, `(${parent}+0x${off.toString(16)}/0x${size.toString(16)} <- ${fn})`) || done;
    }
    if (st.tracer === 'function_graph' && frame?.traced) {
      const now = this.clockNow();
      this.saveCmdline(pid, comm);
      return this.record({ c: cpu, p: pid, f: flags, k: 'gr', a: fn, d: frame.depth, x: now - durationNs, n: 48 }, now) || done;
    }
    return done;
  }

  private probeHit(p: ProbeState, cpu: number, pid: number, comm: string, flags: string, regs: ProbeRegs, where: string): boolean {
    const def = probeEventDef(p);
    const vals: EventFields = { common_pid: pid, common_cpu: cpu, common_comm: comm };
    p.hits++;
    const text = `${p.def.event}: ${where}${renderProbeArgs(p.def, regs)}`;
    const s = this.evState(p.def.group, p.def.event);
    const ff = this.filterFn(this.evKey(p.def.group, p.def.event), s?.filter, def.fields);
    if (ff && !ff(vals)) return false;
    this.saveCmdline(pid, comm);
    return this.record({ c: cpu, p: pid, f: flags, k: 'ev', a: text, n: eventBytes(def, {}), e: `${p.def.group}:${p.def.event}` });
  }

  /**
   * A trace event fired (e.g. event(cpu, pid, comm, 'sched', 'sched_switch', {...})).
   * Applies the event's filter and triggers; returns whether it was recorded.
   */
  event(cpu: number, pid: number, comm: string, system: string, name: string, fields: EventFields, opts?: EmitOpts): boolean {
    if (!this.evActive) return false;
    const key = this.evKey(system, name);
    const s = this.st.events[key];
    if (!s || (!s.enabled && !s.triggers?.length)) return false;
    const def = this.eventDef(system, name);
    const rec: EventFields = { ...fields, common_pid: pid, common_cpu: cpu, common_comm: comm };
    let stack = false;
    for (const t of s.triggers ?? []) {
      const m = /^(\w+):(unlimited|count=(\d+))(?: if (.+))?$/.exec(t);
      if (!m) continue;
      if (m[4]) {
        const tf = this.filterFn(`${key}#${t}`, m[4], def?.fields ?? COMMON_FIELDS);
        if (tf && !tf(rec)) continue;
      }
      if (m[3] !== undefined) {
        const n = Number(m[3]);
        if (n <= 0) continue;
        s.triggers = (s.triggers ?? []).map((x) => (x === t ? t.replace(/count=\d+/, `count=${n - 1}`) : x));
      }
      if (m[1] === 'traceon') this.st.on = true;
      else if (m[1] === 'traceoff') this.st.on = false;
      else if (m[1] === 'stacktrace') stack = true;
      else if (m[1] === 'snapshot') this.takeSnapshot();
    }
    if (!s.enabled || !this.eventPidOk(pid)) return false;
    const ff = this.filterFn(key, s.filter, def?.fields ?? COMMON_FIELDS);
    if (ff && !ff(rec)) return false;
    this.saveCmdline(pid, comm);
    if (system === 'sched' && name === 'sched_switch') {
      if (typeof fields.next_pid === 'number' && typeof fields.next_comm === 'string') this.saveCmdline(fields.next_pid, fields.next_comm);
    }
    const flags = opts?.flags ?? (system === 'sched' && /^sched_(switch|wakeup|waking|wakeup_new)$/.test(name) ? 'd..2.' : system === 'syscalls' ? '...1.' : '.....');
    const ok = this.record({ c: cpu, p: pid, f: flags, k: 'ev', a: renderEvent(def, system, name, fields), n: eventBytes(def, fields), e: `${system}:${name}` });
    if (ok && stack) {
      const st = [...(opts?.stack ?? [])];
      this.record({ c: cpu, p: pid, f: flags, k: 'st', a: '', st, n: 16 + 8 * st.length });
    }
    return ok;
  }

  /** A write to trace_marker: a print event `tracing_mark_write: text`. */
  marker(cpu: number, pid: number, comm: string, text: string): void {
    if (!this.st.options.markers) throw new KernelError('EINVAL');
    const body = text.endsWith('\n') ? text.slice(0, -1) : text;
    this.saveCmdline(pid, comm);
    this.record({ c: cpu, p: pid, f: '.....', k: 'ev', a: `tracing_mark_write: ${body}`, n: 4 + Math.ceil((17 + body.length) / 4) * 4, e: 'ftrace:print' });
  }

  // ------------------------------------------------------------------ rendering

  private entriesSorted(cpu?: number): TraceEntry[] {
    const all: TraceEntry[] = [];
    this.st.cpus.forEach((b, c) => {
      if (cpu === undefined || cpu === c) for (const p of b.pages) all.push(...p);
    });
    return all.sort((a, b) => a.t - b.t || a.s - b.s);
  }

  private timeStr(t: number): string {
    if (NS_CLOCKS.has(this.st.clock)) {
      const sec = Math.floor(t / 1e9);
      const usec = Math.floor((t % 1e9) / 1e3);
      return ` ${padL(sec, 5)}.${String(usec).padStart(6, '0')}`;
    }
    return ` ${padL(t, 12)}`;
  }

  private context(e: TraceEntry): string {
    const comm = this.commOf(e.p);
    const irq = this.st.options['irq-info'];
    return `${padL(comm, 16)}-${String(e.p).padEnd(7, ' ')} [${String(e.c).padStart(3, '0')}] ${irq ? e.f : ''}${this.timeStr(e.t)}: `;
  }

  private renderEntry(e: TraceEntry): string {
    const ctx = this.st.options['context-info'] ? this.context(e) : '';
    switch (e.k) {
      case 'fn':
        return `${ctx}${e.a}${this.st.options['print-parent'] ? ` <-${e.b}` : ''}\n`;
      case 'st':
        return `${ctx}<stack trace>\n${(e.st ?? []).map((x) => ` => ${x}\n`).join('')}`;
      case 'ge':
        return `${ctx}${e.a}() {\n`;
      case 'gr':
        return `${ctx}} /* ${e.a} */\n`;
      default:
        return `${ctx}${e.a}\n`;
    }
  }

  private renderLive(e: TraceEntry): string {
    if (this.st.tracer === 'function_graph') {
      const out = this.renderGraph([e], true, new GraphCursor()).replace(/\n$/, '');
      return out;
    }
    return this.renderEntry(e).replace(/\n$/, '');
  }

  /** Header of the trace file (non-graph tracers). */
  private header(cpu?: number): string {
    const bufs = cpu === undefined ? this.st.cpus : [this.st.cpus[cpu]];
    const entries = bufs.reduce((a, b) => a + b.count, 0);
    const total = bufs.reduce((a, b) => a + b.count + b.overrun, 0);
    let h = `# tracer: ${this.st.tracer}\n#\n# entries-in-buffer/entries-written: ${entries}/${total}   #P:${this.k.config.cpus}\n#\n`;
    if (this.st.options['irq-info']) {
      h +=
        '#                                _-----=> irqs-off/BH-disabled\n' +
        '#                               / _----=> need-resched\n' +
        '#                              | / _---=> hardirq/softirq\n' +
        '#                              || / _--=> preempt-depth\n' +
        '#                              ||| / _-=> migrate-disable\n' +
        '#                              |||| /     delay\n' +
        '#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n' +
        '#              | |         |   |||||     |         |\n';
    } else {
      h += '#           TASK-PID     CPU#     TIMESTAMP  FUNCTION\n' + '#              | |         |         |         |\n';
    }
    return h;
  }

  private graphFlags(): { abs: boolean; cpu: boolean; proc: boolean; dur: boolean; overhead: boolean; tail: boolean } {
    const o = this.st.options;
    return {
      abs: !!o['funcgraph-abstime'],
      cpu: !!o['funcgraph-cpu'],
      proc: !!o['funcgraph-proc'],
      dur: !!o['funcgraph-duration'],
      overhead: !!o['funcgraph-overhead'],
      tail: !!o['funcgraph-tail'],
    };
  }

  private graphHeader(): string {
    const g = this.graphFlags();
    let l1 = '#';
    let l2 = '#';
    if (g.abs) {
      l1 += '     TIME       ';
      l2 += '      |         ';
    }
    if (g.cpu) {
      l1 += ' CPU';
      l2 += ' |  ';
    }
    if (g.proc) {
      l1 += '  TASK/PID       ';
      l2 += '   |    |        ';
    }
    if (g.dur) {
      l1 += '  DURATION   ';
      l2 += '   |   |      ';
    }
    return `# tracer: function_graph\n#\n${l1}               FUNCTION CALLS\n${l2}               |   |   |   |\n`;
  }

  private graphCpuWidth(): number {
    return String(this.k.config.cpus - 1).length;
  }

  private procCol(pid: number): string {
    const comm = this.commOf(pid).slice(0, 7);
    const s = `${comm}-${pid}`;
    const spaces = Math.max(0, 14 - s.length);
    return ' '.repeat(Math.floor(spaces / 2)) + s + ' '.repeat(spaces - Math.floor(spaces / 2));
  }

  /** function_graph output of `entries` (in buffer order). */
  private renderGraph(entries: TraceEntry[], live: boolean, cur: GraphCursor): string {
    const g = this.graphFlags();
    const w = this.graphCpuWidth();
    let out = '';
    const nextOnCpu = new Map<number, number>();
    if (!live) {
      for (let i = entries.length - 1; i >= 0; i--) {
        const e = entries[i];
        (e as TraceEntry & { _n?: number })._n = nextOnCpu.get(e.c);
        nextOnCpu.set(e.c, i);
      }
    }
    const skip = new Set<number>();
    for (let i = 0; i < entries.length; i++) {
      if (skip.has(i)) continue;
      const e = entries[i];
      const last = cur.lastPid.get(e.c);
      cur.lastPid.set(e.c, e.p);
      if (last !== undefined && last !== e.p) {
        out += ` ------------------------------------------\n ${padL(e.c, w)}) ${this.procCol(last)} => ${this.procCol(e.p)}\n ------------------------------------------\n\n`;
      }
      let pre = '';
      if (g.abs) pre += `${this.timeStr(e.t).slice(1)} |  `;
      if (g.cpu) pre += ` ${padL(e.c, w)}) `;
      if (g.proc) pre += `${this.procCol(e.p)} | `;
      const dur = (ns: number): string => (g.dur ? `${g.overhead ? `${mark(ns)} ` : '  '}${graphDuration(ns)}|  ` : '');
      const fill = g.dur ? '              |  ' : '';
      if (e.k === 'ge') {
        const ni = (e as TraceEntry & { _n?: number })._n;
        const n = ni !== undefined ? entries[ni] : undefined;
        if (n && n.k === 'gr' && n.p === e.p && n.a === e.a) {
          skip.add(ni as number);
          out += `${pre}${dur(n.t - (n.x ?? n.t))}${' '.repeat((e.d ?? 0) * 2)}${e.a}();\n`;
          cur.depth.set(e.c, (e.d ?? 0) - 1);
        } else {
          out += `${pre}${fill}${' '.repeat((e.d ?? 0) * 2)}${e.a}() {\n`;
          cur.depth.set(e.c, e.d ?? 0);
        }
      } else if (e.k === 'gr') {
        out += `${pre}${dur(e.t - (e.x ?? e.t))}${' '.repeat((e.d ?? 0) * 2)}}${g.tail ? ` /* ${e.a} */` : ''}\n`;
        cur.depth.set(e.c, (e.d ?? 0) - 1);
      } else if (e.k === 'st') {
        const ind = ' '.repeat(((cur.depth.get(e.c) ?? -1) + 1) * 2);
        out += `${pre}${fill}${ind}/* <stack trace> */\n${(e.st ?? []).map((x) => ` => ${x}\n`).join('')}`;
      } else {
        const ind = ' '.repeat(((cur.depth.get(e.c) ?? -1) + 1) * 2);
        out += `${pre}${fill}${ind}/* ${e.k === 'fn' ? `${e.a} <-${e.b}` : e.a} */\n`;
      }
    }
    for (const e of entries) delete (e as TraceEntry & { _n?: number })._n;
    return out;
  }

  /** The trace file (or per_cpu/cpuN/trace). */
  renderTrace(cpu?: number): string {
    const entries = this.entriesSorted(cpu);
    if (this.st.tracer === 'function_graph') return this.graphHeader() + this.renderGraph(entries, false, new GraphCursor());
    return this.header(cpu) + entries.map((e) => this.renderEntry(e)).join('');
  }

  /** trace_pipe: a consuming read of everything in the buffer (no header); '' when empty. */
  readPipe(cpu?: number): string {
    const entries = this.entriesSorted(cpu);
    const out = this.st.tracer === 'function_graph' ? this.renderGraph(entries, false, new GraphCursor()) : entries.map((e) => this.renderEntry(e)).join('');
    this.st.cpus.forEach((b, c) => {
      if (cpu !== undefined && cpu !== c) return;
      b.read += b.count;
      Object.assign(b, { pages: [], lastBytes: 0, count: 0, bytes: 0 });
    });
    return out;
  }

  /** saved_cmdlines: "pid comm" of the remembered tasks. */
  renderSavedCmdlines(): string {
    return this.st.cmdlines.map(([p, c]) => `${p} ${c}\n`).join('');
  }

  // ------------------------------------------------------------------ captures and recordings

  private captureSaved?: TraceState;

  /** Whether a capture (trace-cmd record) is in progress. */
  get capturing(): boolean {
    return this.captureSaved !== undefined;
  }

  /**
   * Starts a capture: remembers the tracefs configuration, then sets up the
   * tracer, filters, events and pid filters of `opts` on empty buffers.
   * Throws KernelError EINVAL for an unknown tracer, function or event.
   */
  beginCapture(opts: CaptureOpts): void {
    if (this.captureSaved) throw new KernelError('EBUSY');
    const saved = this.getState();
    try {
      this.applyConfig(opts);
    } catch (e) {
      this.setState(saved);
      throw e;
    }
    this.captureSaved = saved;
  }

  /** Sets up tracefs like `trace-cmd start` (tracer, filters, events, pids), on empty buffers. */
  applyConfig(opts: CaptureOpts): void {
    this.st.ftraceFilter = [];
    this.st.ftraceNotrace = [];
    this.st.graphFunctions = [];
    this.st.graphNotrace = [];
    this.st.ftracePids = [];
    this.st.eventPids = [];
    this.setCache.clear();
    for (const e of this.allEvents()) if (this.isEnabled(e.system, e.name)) this.setEnabled(e.system, e.name, false);
    this.setTracer(opts.tracer ?? 'nop');
    if (opts.functions?.length) this.writeFunctionList('ftraceFilter', opts.functions.join(' '), false);
    if (opts.notrace?.length) this.writeFunctionList('ftraceNotrace', opts.notrace.join(' '), false);
    if (opts.graphFunctions?.length) this.writeFunctionList('graphFunctions', opts.graphFunctions.join(' '), false);
    for (const ev of opts.events ?? []) {
      const t = ev === 'all' ? '*:*' : ev.includes(':') ? ev : this.systems().includes(ev) ? `${ev}:*` : ev;
      this.writeSetEvent(t, true);
    }
    if (opts.pids?.length) {
      this.writeFtracePid(opts.pids.join(' '), false);
      this.writePidList('eventPids', opts.pids.join(' '), false);
    }
    this.st.maxGraphDepth = opts.maxGraphDepth ?? 0;
    this.st.options.func_stack_trace = !!opts.stackTrace;
    if (opts.bufferKb) this.setBufferSizeKb(String(opts.bufferKb));
    this.st.on = true;
    this.resetBuffers();
    this.updateGates();
  }

  /**
   * Ends a capture: returns the records (those `keep` accepts, at most
   * MAX_RECORDING_EVENTS) and restores the configuration and buffers from
   * before beginCapture (recordings made meanwhile are kept).
   */
  endCapture(keep?: (e: CapturedEvent) => boolean): { events: CapturedEvent[]; comms: [number, string][]; truncated: number } {
    const saved = this.captureSaved;
    const out = this.captureBuffers(keep);
    if (saved) {
      const recs = this.st.recordings;
      const next = this.st.nextRecordingId;
      this.captureSaved = undefined;
      this.setState(saved);
      this.st.recordings = recs;
      this.st.nextRecordingId = next;
    }
    return out;
  }

  /** The current buffers as records (trace-cmd extract), oldest first. */
  captureBuffers(keep?: (e: CapturedEvent) => boolean): { events: CapturedEvent[]; comms: [number, string][]; truncated: number } {
    const events: CapturedEvent[] = [];
    let truncated = 0;
    const pids = new Set<number>();
    for (const e of this.entriesSorted()) {
      const c = this.toCaptured(e);
      if (keep && !keep(c)) continue;
      if (events.length >= MAX_RECORDING_EVENTS) {
        truncated++;
        continue;
      }
      events.push(c);
      pids.add(c.pid);
    }
    const comms: [number, string][] = [...pids].filter((p) => p !== 0).map((p) => [p, this.commOf(p)]);
    return { events, comms, truncated };
  }

  private evSystems?: Map<string, string>;

  private toCaptured(e: TraceEntry): CapturedEvent {
    const base = { ts: e.t, cpu: e.c, pid: e.p, flags: e.f, system: 'ftrace' };
    switch (e.k) {
      case 'fn':
        return { ...base, name: 'function', fn: e.a, parent: e.b };
      case 'st':
        return { ...base, name: 'kernel_stack', stack: e.st ?? [] };
      case 'ge':
        return { ...base, name: 'funcgraph_entry', fn: e.a, depth: e.d ?? 0 };
      case 'gr':
        return { ...base, name: 'funcgraph_exit', fn: e.a, depth: e.d ?? 0, dur: e.t - (e.x ?? e.t) };
      default: {
        const sc = /^sys_(\w+)(\(| -> )/.exec(e.a);
        if (sc) {
          const name = `sys_${sc[2] === '(' ? 'enter' : 'exit'}_${sc[1]}`;
          return { ...base, system: 'syscalls', name, info: syscallInfo(name, e.a) };
        }
        if (e.a.startsWith('tracing_mark_write: ')) return { ...base, name: 'print', info: e.a };
        const i = e.a.indexOf(': ');
        const name = i >= 0 ? e.a.slice(0, i) : e.a;
        if (!this.evSystems) {
          this.evSystems = new Map();
          for (const ev of staticEvents()) if (!this.evSystems.has(ev.name)) this.evSystems.set(ev.name, ev.system);
        }
        const probe = this.st.probes.find((p) => p.def.event === name);
        const system = probe ? probe.def.group : (this.evSystems.get(name) ?? 'ftrace');
        return { ...base, system, name, info: i >= 0 ? e.a.slice(i + 2) : '' };
      }
    }
  }

  /** Stores a recording (the oldest go beyond MAX_RECORDINGS); renders its report. */
  addRecording(r: { kind: string; command: string; tracer: string; events: CapturedEvent[]; comms: [number, string][]; truncated?: number }): Recording {
    const id = this.st.nextRecordingId ?? 1;
    this.st.nextRecordingId = id + 1;
    const rec: Recording = {
      id,
      kind: r.kind,
      created: this.k.now,
      command: r.command,
      tracer: r.tracer,
      count: r.events.length,
      truncated: r.truncated ?? 0,
      cpus: this.k.config.cpus,
      comms: r.comms,
      events: r.events,
      report: '',
    };
    const list = (this.st.recordings ??= []);
    list.push(rec);
    while (list.length > MAX_RECORDINGS) list.shift();
    return { ...rec, report: renderReport(rec) };
  }

  /** The recordings kept on this machine (oldest first), without their data. */
  recordings(): RecordingMeta[] {
    return (this.st.recordings ?? []).map((r) => ({ id: r.id, kind: r.kind, created: r.created, command: r.command, tracer: r.tracer, count: r.count, truncated: r.truncated }));
  }

  /** One recording with its records and report. */
  recording(id: number): Recording | undefined {
    const r = this.st.recordings?.find((x) => x.id === id);
    return r ? { ...r, report: renderReport(r) } : undefined;
  }

  deleteRecording(id: number): boolean {
    const l = this.st.recordings ?? [];
    const i = l.findIndex((r) => r.id === id);
    if (i < 0) return false;
    l.splice(i, 1);
    return true;
  }

  /**
   * Records around `run` (which makes the machine do something, e.g. runs a
   * command in a shell synchronously): beginCapture(opts), run(), endCapture,
   * and stores the result as a recording.
   */
  recordAround(opts: CaptureOpts, meta: { kind: string; command: string; keep?: (e: CapturedEvent) => boolean }, run: () => void): Recording {
    this.beginCapture(opts);
    let cap: ReturnType<Trace['endCapture']>;
    try {
      run();
    } finally {
      cap = this.endCapture(meta.keep);
    }
    return this.addRecording({ kind: meta.kind, command: meta.command, tracer: opts.tracer ?? 'nop', ...cap });
  }

  // ------------------------------------------------------------------ snapshot

  /** Swaps the main buffer with the snapshot buffer (allocating it), like `echo 1 > snapshot`. */
  takeSnapshot(): void {
    const empty = (): CpuBuffer[] => this.st.cpus.map(() => emptyBuffer(this.clockNow()));
    const snap = this.st.snapshot ?? empty();
    this.st.snapshot = this.st.cpus;
    this.st.cpus = snap;
  }

  /** A write to snapshot: 0 frees, 1 allocates and swaps, anything else clears. */
  writeSnapshot(data: string): void {
    const t = data.trim();
    if (!/^\d+$/.test(t)) throw new KernelError('EINVAL');
    if (t === '0') delete this.st.snapshot;
    else if (t === '1') this.takeSnapshot();
    else if (this.st.snapshot) for (const b of this.st.snapshot) Object.assign(b, emptyBuffer(b.oldest));
  }

  renderSnapshot(): string {
    const snap = this.st.snapshot;
    if (!snap || snap.every((b) => !b.count)) {
      return (
        `# tracer: ${this.st.tracer}\n#\n#\n# * Snapshot is ${snap ? 'allocated' : 'freed'} *\n#\n# Snapshot commands:\n` +
        '# echo 0 > snapshot : Clears and frees snapshot buffer\n' +
        '# echo 1 > snapshot : Allocates snapshot buffer, if not already allocated.\n' +
        '#                      Takes a snapshot of the main buffer.\n' +
        '# echo 2 > snapshot : Clears snapshot buffer (but does not allocate or free)\n' +
        "#                      (Doesn't have to be '2' works with any number that\n" +
        "#                       is not a '0' or '1')\n"
      );
    }
    const main = this.st.cpus;
    this.st.cpus = snap;
    try {
      return this.renderTrace();
    } finally {
      this.st.cpus = main;
    }
  }

  /** per_cpu/cpuN/stats */
  renderStats(cpu: number): string {
    const b = this.st.cpus[cpu];
    if (!b) throw new KernelError('ENOENT');
    const ts = (t: number): string => this.timeStr(t).slice(1);
    return (
      `entries: ${b.count}\noverrun: ${b.overrun}\ncommit overrun: 0\nbytes: ${b.bytes}\n` +
      `oldest event ts: ${ts(b.pages[0]?.[0]?.t ?? b.oldest)}\nnow ts: ${ts(NS_CLOCKS.has(this.st.clock) ? this.k.now : this.st.counter)}\n` +
      `dropped events: ${b.dropped}\nread events: ${b.read}\n`
    );
  }

  /** Per-CPU accounting (for tests and tools). */
  cpuStats(cpu: number): { entries: number; overrun: number; bytes: number; dropped: number; read: number } {
    const b = this.st.cpus[cpu];
    return { entries: b.count, overrun: b.overrun, bytes: b.bytes, dropped: b.dropped, read: b.read };
  }

  /** The next sequence number a recorded line will get. */
  get nextSeq(): number {
    return this.st.seq;
  }

  /**
   * Live trace lines, numbered: first the lines still in the buffer with
   * seq >= fromSeq (in seq order), then every new one as it is recorded. Not
   * consuming (trace_pipe readers are unaffected). `missed` counts the
   * numbers at or after fromSeq that were overwritten or consumed already.
   */
  subscribe(fromSeq: number | undefined, cb: (line: TraceLine) => void): TraceSubscription {
    return this.subscribeEntries(fromSeq, (e) => cb({ seq: e.s, text: this.renderLive(e) }));
  }

  /** Live trace records as typed JSON (the `events` stream): same numbering and backlog as subscribe(). */
  subscribeEvents(fromSeq: number | undefined, cb: (ev: TraceEventJson) => void): TraceSubscription {
    return this.subscribeEntries(fromSeq, (e) => cb(this.eventJson(e)));
  }

  private subscribeEntries(fromSeq: number | undefined, cb: (e: TraceEntry) => void): TraceSubscription {
    const from = fromSeq ?? this.st.seq;
    const backlog = this.st.cpus
      .flatMap((b) => b.pages.flat())
      .filter((e) => e.s >= from)
      .sort((a, b) => a.s - b.s);
    const missed = Math.max(0, this.st.seq - from - backlog.length);
    const startSeq = backlog.length ? backlog[0].s : this.st.seq;
    for (const e of backlog) cb(e);
    this.subs.add(cb);
    return { startSeq, missed, close: () => void this.subs.delete(cb) };
  }

  /** One ring-buffer record as typed JSON: what a frontend plots. */
  eventJson(e: TraceEntry): TraceEventJson {
    const base = { seq: e.s, ts: e.t, cpu: e.c, pid: e.p, comm: this.commOf(e.p), flags: e.f };
    switch (e.k) {
      case 'fn':
        return { ...base, type: 'function', function: e.a, parent: e.b };
      case 'ge':
        return { ...base, type: 'funcgraph_entry', function: e.a, depth: e.d };
      case 'gr':
        return { ...base, type: 'funcgraph_exit', function: e.a, depth: e.d, durationNs: e.x !== undefined ? e.t - e.x : undefined };
      case 'st':
        return { ...base, type: 'stack', stack: e.st ?? [] };
      default: {
        const m = /^([\w:.-]+): ?([\s\S]*)$/.exec(e.a);
        const [system, name] = e.e ? e.e.split(':') : [undefined, m ? m[1] : 'print'];
        const payload = e.e && m && m[1] === name ? m[2] : e.a;
        const fields: Record<string, string | number> = {};
        const num = (v: string): string | number => (/^-?\d+$/.test(v) && Math.abs(Number(v)) <= Number.MAX_SAFE_INTEGER ? Number(v) : v);
        for (const f of payload.matchAll(/([A-Za-z_][\w.]*)=("[^"]*"|\[[^\]]*\]|\S+)/g)) fields[f[1]] = num(f[2].replace(/^"|"$/g, ''));
        // syscall events print as sys_openat(dfd: ffffff9c, ...) and sys_openat -> 0x3: hex registers
        const call = /^sys_\w+\(([^)]*)\)$/.exec(payload);
        if (call) for (const f of call[1].matchAll(/(\w+): ([0-9a-f]+)/g)) fields[f[1]] = parseInt(f[2], 16) <= Number.MAX_SAFE_INTEGER ? parseInt(f[2], 16) : f[2];
        const ret = /^sys_\w+ -> 0x([0-9a-f]+)$/.exec(payload);
        if (ret) fields.ret = parseInt(ret[1], 16) <= Number.MAX_SAFE_INTEGER ? parseInt(ret[1], 16) : ret[1];
        return { ...base, type: 'event', system, event: name, fields, text: e.a };
      }
    }
  }

}

/** What an emission walk knows about the running task. */
interface EmitCtx {
  cpu: number;
  pid: number;
  tgid: number;
  comm: string;
  prio: number;
  rec?: SyscallRecord;
  /** functions entered, outermost first */
  stack: string[];
  /** allocations made so far (fake pointers) */
  seq: number;
  /** this call's [self, subtree] weights per node */
  w?: Map<CallNode, [number, number]>;
  /** irq-info flags of the emitted function records (hardirq context: "d.h1.") */
  flags?: string;
  /** the task died on the way (exit): nothing returns */
  dead?: boolean;
  /** state of the tracer-cost jitter */
  jit?: number;
}

const SYSCALL_WRAPPER_SET: ReadonlySet<string> = new Set(SYSCALL_WRAPPERS);
/**
 * What the tracer itself costs per recorded function entry / exit, ns: the
 * mcount trampoline, the filter hash lookups, reserving and committing the
 * ring buffer event (function_graph also keeps the return stack). Like on real
 * hardware, a traced call takes longer than an untraced one, and function_graph
 * durations include the cost of tracing the callees.
 */
const TRACER_COST_NS: Partial<Record<TracerName, { entry: number; exit: number }>> = {
  function: { entry: 70, exit: 0 },
  function_graph: { entry: 95, exit: 85 },
};
/** Functions that return what the system call returns (bytes read, fd, child pid...): their kretprobe retval. */
const RET_PASS: ReadonlySet<string> = new Set([
  'ksys_read',
  'ksys_write',
  'vfs_read',
  'vfs_write',
  'seq_read',
  'seq_read_iter',
  'proc_reg_read_iter',
  'kernfs_fop_read_iter',
  'shmem_file_read_iter',
  'generic_file_read_iter',
  'filemap_read',
  'pipe_read',
  'tty_read',
  'generic_file_write_iter',
  'kernfs_fop_write_iter',
  'pipe_write',
  'tty_write',
  'do_sys_openat2',
  'close_fd',
  'kernel_clone',
  'kernel_wait4',
  'hrtimer_nanosleep',
  'ksys_mmap_pgoff',
  'vm_mmap_pgoff',
  'do_mmap',
]);
/** the local timer's period (CONFIG_HZ=250) */
const TICK_NS = 4_000_000;

/** Index of the path argument of syscalls that take one. */
const PATH_ARG: Record<string, number> = { openat: 1, execve: 0, newfstatat: 1, unlinkat: 1, mkdirat: 1, chdir: 0, open: 0, stat: 0, access: 0 };

/**
 * The callers of the innermost frame of `stack` (outermost first), innermost
 * first as a stack trace shows them: __x64_sys_X tail-calls ksys_X, so its
 * frame is gone.
 */
function callers(stack: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = stack.length - 2; i >= 0; i--) {
    const f = stack[i];
    const inner = stack[i + 1];
    if (f.startsWith('__x64_sys_') && inner === `ksys_${f.slice(10)}`) continue;
    out.push(f);
  }
  return out;
}

/** A register value as the u64 the kernel sees (non-finite values read as 0). */
function u64(x: number): bigint {
  return Number.isFinite(x) ? BigInt.asUintN(64, BigInt(Math.trunc(x))) : 0n;
}

/** A stable made-up kernel pointer (ffff888...) for `pid` and `what`. */
function fakePtr(pid: number, what: string): bigint {
  const h = hash(`${pid}:${what}`);
  return 0xffff888000000000n + BigInt((h & 0x3ffffff) * 64);
}

function emptyBuffer(oldest: number): CpuBuffer {
  return { pages: [], lastBytes: 0, count: 0, bytes: 0, overrun: 0, dropped: 0, read: 0, oldest };
}

class GraphCursor {
  lastPid = new Map<number, number>();
  depth = new Map<number, number>();
}

/** trace_find_mark: the overhead marker of a duration. */
export function mark(ns: number): string {
  if (ns > 1e9) return '$';
  if (ns > 1e8) return '@';
  if (ns > 1e7) return '*';
  if (ns > 1e6) return '#';
  if (ns > 1e5) return '!';
  if (ns > 1e4) return '+';
  return ' ';
}

/** trace_print_graph_duration: "852.423 us  " (usecs, up to 7 digits with the fraction). */
export function graphDuration(ns: number): string {
  const d = Math.max(0, Math.floor(ns));
  const usecs = String(Math.floor(d / 1000));
  const rem = d % 1000;
  let s = usecs;
  let len = usecs.length;
  if (len < 7) {
    const slen = Math.min(5, 8 - len);
    const frac = String(rem).padStart(3, '0').slice(0, slen - 1);
    s += `.${frac}`;
    len += frac.length + 1;
  }
  s += ' us ';
  for (let i = len; i < 8; i++) s += ' ';
  return s;
}

/** Function sizes the reference kernel printed; others get a stable made-up size. */
const SYM_SIZES: Record<string, number> = { do_sys_openat2: 0x170, __x64_sys_openat: 0xa0, vfs_read: 0x2b0, ksys_read: 0xe0 };
const RET_OFFS: Record<string, number> = { __x64_sys_openat: 0x6a };

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function symSize(sym: string): number {
  return SYM_SIZES[sym] ?? 0x40 + (hash(sym) % 60) * 0x10;
}

function retOffset(sym: string, size: number): number {
  return RET_OFFS[sym] ?? 5 + (hash(sym + '+ret') % Math.max(1, size - 8));
}

/** The event definition (format) of a kprobe event. */
function probeEventDef(p: ProbeState): EventDef {
  const d = p.def;
  const fields: FieldDef[] = [...COMMON_FIELDS];
  let off: number;
  let fmt: string;
  const fargs: string[] = [];
  if (d.isReturn) {
    fields.push(field('unsigned long __probe_func', 8, 8, false), field('unsigned long __probe_ret_ip', 16, 8, false));
    off = 24;
    fmt = '(%lx <- %lx)';
    fargs.push('REC->__probe_func', 'REC->__probe_ret_ip');
  } else {
    fields.push(field('unsigned long __probe_ip', 8, 8, false));
    off = 16;
    fmt = '(%lx)';
    fargs.push('REC->__probe_ip');
  }
  for (const a of d.args) {
    const t = argTypeInfo(a.type);
    fields.push(field(`${t.ctype} ${a.name}`, off, t.size, t.signed));
    off += t.size;
    fmt += ` ${a.name}=${t.fmt}`;
    fargs.push(t.string ? `__get_str(${a.name})` : `REC->${a.name}`);
  }
  return { system: d.group, name: d.event, id: p.id, fields, printFmt: `"${fmt}", ${fargs.join(', ')}`, known: true };
}
