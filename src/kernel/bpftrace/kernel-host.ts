/**
 * bpftrace on the simulated kernel: the ProbeHost of a machine (clock, rng,
 * files, symbols, signals) and the attachment of a program's probes to the
 * machine's probe bus (k.probes) and timers (k.timers, virtual time).
 *
 * Everything a run holds (bus handlers, timer callbacks) is runtime state of
 * the run, not kernel state: stop() releases it.
 */
import type { Kernel } from '../kernel';
import { renderKallsyms } from '../fs/procfs/static';
import { functionLines } from '../trace/data';
import type { ProbeFiring, ProbeKind } from '../trace/probes';
import { type BpftraceResult, type BpftraceSession, listProbes, periodOf, runBpftrace } from './driver';
import { type FiringContext, type Limits, type ProbeHost } from './runtime';
import { type ExpandedProbe, matchWildcard, type TracepointField } from './semantic';

// ------------------------------------------------------------------ perf events

/** [name, alias, default period] (bpftrace 0.17 SW_PROBE_LIST / HW_PROBE_LIST) */
export const SW_EVENTS: readonly (readonly [string, string, number])[] = [
  ['alignment-faults', '', 1],
  ['bpf-output', '', 1],
  ['context-switches', 'cs', 1000],
  ['cpu-clock', 'cpu', 1000000],
  ['cpu-migrations', '', 1],
  ['dummy', '', 1],
  ['emulation-faults', '', 1],
  ['major-faults', '', 1],
  ['minor-faults', '', 100],
  ['page-faults', 'faults', 100],
  ['task-clock', '', 1],
];

export const HW_EVENTS: readonly (readonly [string, string, number])[] = [
  ['backend-stalls', '', 1000000],
  ['branch-instructions', 'branches', 100000],
  ['branch-misses', '', 100000],
  ['bus-cycles', '', 100000],
  ['cache-misses', '', 1000000],
  ['cache-references', '', 1000000],
  ['cpu-cycles', 'cycles', 1000000],
  ['frontend-stalls', '', 1000000],
  ['instructions', '', 1000000],
  ['ref-cycles', '', 1000000],
];

function perfEvent(kind: 'software' | 'hardware', name: string): readonly [string, string, number] | undefined {
  return (kind === 'software' ? SW_EVENTS : HW_EVENTS).find((e) => e[0] === name || (e[1] !== '' && e[1] === name));
}

/** Binaries with uprobe symbols on this machine (bash's readline). */
export const UPROBE_SYMBOLS: Readonly<Record<string, readonly string[]>> = {
  '/bin/bash': ['readline'],
  '/usr/bin/bash': ['readline'],
};

// ------------------------------------------------------------------ probe names

/** Traceable kernel functions now (available_filter_functions without the module suffix). */
export function traceableFunctions(k: Kernel): string[] {
  const out: string[] = [];
  for (const l of functionLines()) {
    const sp = l.indexOf(' [');
    if (sp < 0) out.push(l);
    else if (k.modules.isLoaded(l.slice(sp + 2, -1))) out.push(l.slice(0, sp));
  }
  return out;
}

function isWild(s: string): boolean {
  return /[*?]/.test(s);
}

/**
 * The canonical probe names a pattern names on this machine (semantic
 * resolveProbes): kprobes/kretprobes against available_filter_functions,
 * tracepoints against available_events. A non-wildcard kprobe that is not
 * traceable resolves to nothing (bpftrace warns, then fails to attach).
 */
export function resolveKernelProbes(k: Kernel, pattern: string): string[] | null {
  const i = pattern.indexOf(':');
  const prov = pattern.slice(0, i);
  const rest = pattern.slice(i + 1);
  switch (prov) {
    case 'kprobe':
    case 'kretprobe': {
      if (!isWild(rest)) return k.trace.isTraceable(rest) ? [pattern] : [];
      const seen = new Set<string>();
      for (const f of traceableFunctions(k)) if (matchWildcard(rest, f)) seen.add(f);
      return [...seen].sort().map((f) => `${prov}:${f}`);
    }
    case 'tracepoint': {
      if (!isWild(rest)) {
        const [sys, ev] = rest.split(':');
        return ev !== undefined && sys !== 'ftrace' && k.trace.eventDef(sys, ev) ? [pattern] : [];
      }
      const out: string[] = [];
      for (const e of k.trace.allEvents()) {
        const n = `${e.system}:${e.name}`;
        if (isWild(rest) ? matchWildcard(rest, n) : rest === n) out.push(`tracepoint:${n}`);
      }
      return isWild(rest) ? [...new Set(out)].sort() : out.slice(0, 1);
    }
    case 'rawtracepoint': {
      const names = new Set(k.trace.allEvents().map((e) => e.name));
      return [...names]
        .filter((n) => matchWildcard(rest, n))
        .sort()
        .map((n) => `rawtracepoint:${n}`);
    }
    case 'uprobe':
    case 'uretprobe': {
      const j = rest.lastIndexOf(':');
      const bin = rest.slice(0, j);
      const fn = rest.slice(j + 1);
      const syms = UPROBE_SYMBOLS[bin] ?? [];
      return syms.filter((s) => matchWildcard(fn, s)).map((s) => `${prov}:${bin}:${s}`);
    }
    default:
      return null;
  }
}

/** Fields of a tracepoint as its format file declares them; null when the format is not known. */
export function kernelTracepointFields(k: Kernel, probeName: string): TracepointField[] | null {
  const [, sys, ev] = probeName.split(':');
  const def = k.trace.eventDef(sys, ev);
  if (!def || !def.known) return null;
  return def.fields.map((f) => ({
    name: f.name,
    size: f.size,
    signed: f.signed,
    charArray: /\bchar\b/.test(f.type) && /\[\d+\]$/.test(f.decl) && !f.type.includes('__data_loc'),
  }));
}

/** Every probe `bpftrace -l` lists on this machine (hardware, kprobe, software, tracepoint; sorted). */
export function kernelProbeList(k: Kernel): string[] {
  const hw = HW_EVENTS.map((e) => `hardware:${e[0]}:`);
  const kp = [...new Set(traceableFunctions(k))].sort().map((f) => `kprobe:${f}`);
  const sw = SW_EVENTS.map((e) => `software:${e[0]}:`);
  const tp = [...new Set(k.trace.allEvents().map((e) => `tracepoint:${e.system}:${e.name}`))].sort();
  return [...hw, ...kp, ...sw, ...tp];
}

/** `bpftrace -l [pattern]` output on this machine. */
export function listKernelProbes(k: Kernel, pattern?: string): string {
  let pat = pattern;
  if (pat === undefined || pat === '*') pat = '*:*';
  const up = /^(u|uprobe|ur|uretprobe):(.+):([^:]*)$/.exec(pat);
  if (up) {
    const prov = up[1].startsWith('ur') ? 'uretprobe' : 'uprobe';
    const syms = UPROBE_SYMBOLS[up[2]] ?? [];
    return syms
      .filter((s) => matchWildcard(up[3] || '*', s))
      .map((s) => `${prov}:${up[2]}:${s}\n`)
      .join('');
  }
  return listProbes(kernelProbeList(k), pat);
}

// ------------------------------------------------------------------ symbols

interface SymTable {
  addrs: bigint[];
  names: string[];
  byName: Map<string, bigint>;
}

function loadSymbols(k: Kernel): SymTable {
  const text = renderKallsyms(k, k.rootCtx());
  const rows: [bigint, string][] = [];
  for (const line of text.split('\n')) {
    const a = line.indexOf(' ');
    if (a < 0) continue;
    const addr = BigInt('0x' + line.slice(0, a));
    const name = line.slice(line.indexOf(' ', a + 1) + 1);
    if (addr > 0xffff000000000000n) rows.push([addr, name]);
  }
  rows.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const byName = new Map<string, bigint>();
  for (const [a, n] of rows) if (!byName.has(n)) byName.set(n, a);
  return { addrs: rows.map((r) => r[0]), names: rows.map((r) => r[1]), byName };
}

// ------------------------------------------------------------------ tasks

const STATE_BITS: Record<string, number> = { R: 0, S: 1, D: 2, T: 4, Z: 32, X: 16, I: 0x402 };

/** `curtask->path` for a task of the model. */
export function taskMember(k: Kernel, tid: number, path: readonly string[]): number | bigint | string | undefined {
  let pid = tid;
  let cred = false;
  for (let i = 0; i < path.length; i++) {
    const f = path[i];
    const t = k.sched.taskInfo(pid);
    if (!t) return undefined;
    const last = i === path.length - 1;
    if (cred) {
      switch (f) {
        case 'uid':
          return t.uid;
        case 'gid':
          return t.gid;
        case 'euid':
          return t.euid;
        case 'egid':
          return t.egid;
        case 'suid':
          return t.suid;
        case 'sgid':
          return t.sgid;
        case 'fsuid':
          return t.fsuid;
        case 'fsgid':
          return t.fsgid;
      }
      return undefined;
    }
    if (f === 'real_parent' || f === 'parent' || f === 'group_leader') {
      const next = f === 'group_leader' ? t.tgid : t.ppid;
      if (last) return taskAddr(next);
      pid = next;
      continue;
    }
    if (f === 'cred' || f === 'real_cred') {
      if (last) return taskAddr(pid) + 0x800n;
      cred = true;
      continue;
    }
    const prio = t.policy === 1 || t.policy === 2 ? 99 - t.rtPrio : 120 + t.nice;
    switch (f) {
      case 'pid':
        return t.pid;
      case 'tgid':
        return t.tgid;
      case 'comm':
        return t.comm;
      case 'prio':
      case 'normal_prio':
        return prio;
      case 'static_prio':
        return 120 + t.nice;
      case 'rt_priority':
        return t.rtPrio;
      case 'policy':
        return t.policy;
      case 'flags':
        return t.flags;
      case '__state':
        return STATE_BITS[t.state] ?? 0;
      case 'on_cpu':
        return t.state === 'R' ? 1 : 0;
      case 'exit_code':
        return t.exitCode;
      case 'exit_signal':
        return t.exitSignal;
      case 'start_time':
        return t.startNs;
      case 'utime':
        return t.ut;
      case 'stime':
        return t.st;
      case 'nvcsw':
        return t.nv;
      case 'nivcsw':
        return t.niv;
      case 'min_flt':
        return t.minflt;
      case 'maj_flt':
        return t.majflt;
    }
    return undefined;
  }
  return undefined;
}

/** A stable fake task_struct address per pid (curtask, ->real_parent). */
export function taskAddr(pid: number): bigint {
  return 0xffff888100000000n + BigInt(pid) * 0x2400n;
}

// ------------------------------------------------------------------ host

export interface KernelHostOptions {
  emit(text: string): void;
  emitErr?(text: string): void;
  /** unsafe builtins (system, signal) allowed (--unsafe) */
  unsafe?: boolean;
  /** system(): runs a command and returns what it printed (default: nothing runs) */
  system?(command: string): string;
}

/** The ProbeHost of a machine. */
export function kernelProbeHost(k: Kernel, o: KernelHostOptions): ProbeHost & { clearFiringTime(): void; firingNs?: number } {
  let syms: SymTable | null = null;
  const symbols = (): SymTable => (syms ??= loadSymbols(k));
  const host: ProbeHost & { clearFiringTime(): void; firingNs?: number } = {
    firingNs: undefined,
    clearFiringTime() {
      host.firingNs = undefined;
    },
    now: () => host.firingNs ?? k.now,
    realtimeMs: () => k.bootEpochMs + Math.floor(k.now / 1e6),
    rand: () => Math.floor(k.rng.next() * 4294967296) >>> 0,
    emit: (t) => o.emit(t),
    emitErr: (t) => (o.emitErr ?? o.emit)(t),
    readFile: (path) => {
      try {
        return k.vfs.readFile(k.rootCtx(), path);
      } catch {
        return null;
      }
    },
    ksym: (addr) => {
      const t = symbols();
      let lo = 0;
      let hi = t.addrs.length - 1;
      if (hi < 0 || addr < t.addrs[0]) return undefined;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (t.addrs[mid] <= addr) lo = mid;
        else hi = mid - 1;
      }
      return t.names[lo];
    },
    kaddr: (name) => symbols().byName.get(name),
  };
  if (o.unsafe) {
    host.system = (cmd) => (o.system ? o.system(cmd) : '');
    host.signal = (pid, sig) => {
      try {
        k.sched.kill(pid, sig);
      } catch {
        // the target is gone: bpf_send_signal fails silently
      }
    };
  }
  return host;
}

// ------------------------------------------------------------------ timers

interface TimerRegistry {
  next: number;
  cbs: Map<number, (at: number) => void>;
}

/** Timer callbacks of the runs on each machine (runtime state, keyed by the machine). */
const TIMER_REGISTRIES = new WeakMap<Kernel, TimerRegistry>();
const TIMER_KIND = 'bpftrace';

function timerRegistry(k: Kernel): TimerRegistry {
  let r = TIMER_REGISTRIES.get(k);
  if (!r) {
    const reg: TimerRegistry = { next: 1, cbs: new Map() };
    TIMER_REGISTRIES.set(k, reg);
    k.onTimer(TIMER_KIND, (_k, t) => reg.cbs.get(t.arg)?.(t.at));
    r = reg;
  }
  return r;
}

// ------------------------------------------------------------------ runs

export interface KernelRunOptions {
  args?: string[];
  format?: 'text' | 'json';
  unsafe?: boolean;
  limits?: Partial<Limits>;
  /** pid/comm of bpftrace itself (BEGIN/END context) */
  pid?: number;
  comm?: string;
  /** stop as by Ctrl-C once this much virtual time has passed */
  maxVirtualNs?: number;
  /** script path diagnostics show (default "stdin") */
  filename?: string;
  /**
   * Wall-clock cap: the kernel reads no clock of its own, so the server passes
   * one in (ms). Checked every 64 firings; past maxWallMs the run stops as by
   * Ctrl-C with an error line on stderr.
   */
  wallClockMs?: () => number;
  maxWallMs?: number;
  emit(text: string): void;
  emitErr?(text: string): void;
  system?(command: string): string;
  /** called once when the run ends by itself (exit(), a limit, the virtual-time cap) */
  onFinish?(): void;
}

/** A firing of the bus seen by the interpreter (lazy where the lookup costs). */
class BusFiring implements FiringContext {
  constructor(
    private readonly k: Kernel,
    private readonly f: ProbeFiring,
    readonly func: string,
  ) {}
  get pid(): number {
    return this.f.pid;
  }
  get tid(): number {
    return this.f.tid;
  }
  get cpu(): number {
    return this.f.cpu;
  }
  get comm(): string {
    return this.f.comm;
  }
  get uid(): number {
    return this.k.sched.task(this.f.tid)?.uid ?? 0;
  }
  get gid(): number {
    return this.k.sched.task(this.f.tid)?.gid ?? 0;
  }
  get curtask(): number {
    return Number(taskAddr(this.f.tid));
  }
  get argv(): readonly bigint[] {
    return this.f.args;
  }
  get retval(): bigint | undefined {
    return this.f.retval;
  }
  get args(): FiringContext['args'] {
    const fl = this.f.fields;
    // execve's argv is user memory the firing does not carry: after the exec it is the process's argv
    if (fl && this.f.kind === 'tracepoint' && this.f.name.startsWith('syscalls:sys_enter_execve') && typeof fl.argv !== 'string') {
      const proc = this.k.sched.proc(this.f.pid);
      if (proc) return { ...fl, argv: proc.argv };
    }
    return fl;
  }
  get kstack(): readonly string[] {
    return this.f.kstack;
  }
  get ustack(): readonly string[] | undefined {
    return this.f.ustack;
  }
  get mem(): ReadonlyMap<bigint, string> | undefined {
    return (this.f as UserMemFiring).mem;
  }
  get nsecs(): number {
    return this.f.nsecs;
  }
  task = (path: readonly string[]): number | bigint | string | undefined => taskMember(this.k, this.f.tid, path);
}

/** A firing carrying memory the program may read with str() (e.g. readline's returned line). */
export interface UserMemFiring extends ProbeFiring {
  mem?: ReadonlyMap<bigint, string>;
}

/** Where a timer interrupt finds an idle CPU (x86-64 6.1, bpftrace's sym+offset form); CPU 0 idles in the boot thread. */
const IDLE_STACK = ['native_safe_halt+11', 'default_idle+10', 'default_idle_call+50', 'do_idle+478', 'cpu_startup_entry+29'];
const IDLE_TAIL_BOOT = ['rest_init+204', 'arch_call_rest_init+10', 'start_kernel+1731', 'x86_64_start_reservations+24', 'x86_64_start_kernel+142', 'secondary_startup_64_no_verify+229'];
const IDLE_TAIL_AP = ['start_secondary+279', 'secondary_startup_64_no_verify+229'];

function timerCtx(k: Kernel, cpu: number, func: string): FiringContext {
  const pid = k.sched.curr(cpu);
  const t = pid ? k.sched.task(pid) : undefined;
  return {
    kstack: pid ? [] : [...IDLE_STACK, ...(cpu === 0 ? IDLE_TAIL_BOOT : IDLE_TAIL_AP)],
    pid: t ? t.tgid : 0,
    tid: pid,
    cpu,
    comm: t ? t.comm : `swapper/${cpu}`,
    uid: t?.uid ?? 0,
    gid: t?.gid ?? 0,
    func,
    task: (path) => taskMember(k, pid, path),
  };
}


/**
 * One bpftrace program attached to a machine: parse/check (probe names
 * validated against the machine), banner, BEGIN, then firings from k.probes
 * and k.timers until exit(), a limit, the virtual-time cap, or stop().
 */
export class KernelBpftraceRun {
  readonly session: BpftraceSession;
  readonly startNs: number;
  private readonly detach: (() => void)[] = [];
  /** interval/profile probes in program order, with their next due time */
  private readonly schedule: { name: string; period: number; profile: boolean; next: number }[] = [];
  /** id of the run's one k.timers entry (armed at the earliest due time), 0 when none */
  private timerId = 0;
  private armedAt = -1;
  private readonly host: ReturnType<typeof kernelProbeHost>;
  private ended = false;
  private final: BpftraceResult | null = null;
  private readonly wallStart: number;
  private sinceWallCheck = 0;

  constructor(
    readonly k: Kernel,
    readonly source: string,
    private readonly opts: KernelRunOptions,
  ) {
    this.startNs = k.now;
    this.wallStart = opts.wallClockMs?.() ?? 0;
    this.host = kernelProbeHost(k, { emit: opts.emit, emitErr: opts.emitErr, unsafe: opts.unsafe, system: opts.system });
    const pid = opts.pid ?? 1;
    this.session = runBpftrace(
      source,
      {
        args: opts.args,
        format: opts.format,
        unsafe: opts.unsafe,
        limits: opts.limits,
        resolveProbes: (p) => resolveKernelProbes(k, p),
        tracepointFields: (n) => kernelTracepointFields(k, n),
        attachCheck: (probes) => this.check(probes),
        filename: opts.filename,
        self: {
          pid,
          tid: pid,
          comm: opts.comm ?? 'bpftrace',
          cpu: 0,
          curtask: Number(taskAddr(pid)),
          task: (path) => taskMember(k, pid, path),
        },
      },
      this.host,
    );
    if (this.session.finished) {
      this.ended = true;
      return;
    }
    this.attach();
    this.arm();
  }

  get finished(): boolean {
    return this.session.finished;
  }

  /** virtual time at which the run stops by itself (maxVirtualNs), if any */
  get deadline(): number | undefined {
    return this.opts.maxVirtualNs === undefined ? undefined : this.startNs + this.opts.maxVirtualNs;
  }

  /** Ctrl-C: END, the maps, exit. Idempotent; returns the whole output. */
  stop(): BpftraceResult {
    if (!this.final) {
      this.final = this.session.stop();
      this.release();
    }
    return this.final;
  }

  result(): BpftraceResult {
    return this.final ?? this.session.result();
  }

  /** attach-time errors (what bpftrace reports after "Attaching N probes...") */
  private check(probes: readonly ExpandedProbe[]): string | null {
    for (const p of probes) {
      const parts = p.name.split(':');
      switch (p.provider) {
        case 'kprobe':
        case 'kretprobe':
          if (!this.k.trace.isTraceable(parts[1])) return `ERROR: Error attaching probe: '${p.name}'\n`;
          break;
        case 'software':
        case 'hardware':
          if (!perfEvent(p.provider, parts[1])) return `ERROR: Invalid ${p.provider} probe: ${parts[1]}\n`;
          break;
        case 'watchpoint':
        case 'asyncwatchpoint':
          return `ERROR: ${p.provider} probes are not supported on this machine\n`;
      }
    }
    return null;
  }

  private fire(name: string, ctx: FiringContext, ns?: number): void {
    if (this.session.finished) return;
    this.host.firingNs = ns;
    try {
      this.session.fire(name, ctx);
    } finally {
      this.host.firingNs = undefined;
    }
    if (this.session.finished) this.finishBy(() => this.session.stop());
    else if (this.opts.wallClockMs && this.opts.maxWallMs !== undefined && ++this.sinceWallCheck >= 64) {
      this.sinceWallCheck = 0;
      if (this.opts.wallClockMs() - this.wallStart > this.opts.maxWallMs) {
        const msg = `ERROR: wall-time limit of ${this.opts.maxWallMs} ms exceeded; stopping\n`;
        this.finishBy(() => (this.session.abort ? this.session.abort(msg) : this.session.stop()));
      }
    }
  }

  private finishBy(stop: () => BpftraceResult): void {
    if (this.final) return;
    this.final = stop();
    this.release();
    this.opts.onFinish?.();
  }

  private release(): void {
    if (this.ended) return;
    this.ended = true;
    for (const d of this.detach.splice(0)) d();
    if (this.timerId) {
      timerRegistry(this.k).cbs.delete(this.timerId);
      this.k.timers.cancel(TIMER_KIND, this.timerId);
      this.timerId = 0;
    }
  }

  /** the next time the run must wake: its earliest interval/profile, or the virtual-time cap */
  private nextDue(): number {
    let at = this.deadline ?? Infinity;
    for (const e of this.schedule) if (e.next < at) at = e.next;
    return at;
  }

  /** Keeps one k.timers entry at the run's next due time. */
  private arm(): void {
    if (this.ended || this.session.finished) return;
    const at = this.nextDue();
    if (at === this.armedAt) return;
    const reg = timerRegistry(this.k);
    if (!this.timerId) {
      this.timerId = reg.next++;
      reg.cbs.set(this.timerId, (t) => this.onTimer(t));
    } else this.k.timers.cancel(TIMER_KIND, this.timerId);
    this.armedAt = at;
    if (at !== Infinity) this.k.timers.add(at, TIMER_KIND, this.timerId);
  }

  /** Fires every interval/profile probe due at `at`, in program order; the cap comes after them. */
  private onTimer(at: number): void {
    this.armedAt = -1;
    for (const e of this.schedule) {
      if (this.session.finished) return;
      if (e.next > at) continue;
      const cpus = e.profile ? this.k.config.cpus : 1;
      for (let c = 0; c < cpus && !this.session.finished; c++) this.fire(e.name, timerCtx(this.k, c, ''), at);
      e.next = at + e.period;
    }
    if (this.session.finished) return;
    if (this.deadline !== undefined && at >= this.deadline) {
      this.finishBy(() => this.session.stop());
      return;
    }
    this.arm();
  }

  private on(kind: ProbeKind, name: string, fn: (f: ProbeFiring) => void): void {
    this.detach.push(this.k.probes.attach(kind, name, fn));
  }

  private attach(): void {
    const k = this.k;
    for (const p of this.session.probes) {
      const name = p.name;
      const parts = name.split(':');
      switch (p.provider) {
        case 'kprobe':
        case 'kretprobe':
          this.on(p.provider, parts[1], (f) => this.fire(name, new BusFiring(k, f, parts[1]), f.nsecs));
          break;
        case 'tracepoint':
          this.on('tracepoint', `${parts[1]}:${parts[2]}`, (f) => this.fire(name, new BusFiring(k, f, ''), f.nsecs));
          break;
        case 'rawtracepoint': {
          const ev = k.trace.allEvents().find((e) => e.name === parts[1]);
          if (ev) this.on('tracepoint', `${ev.system}:${ev.name}`, (f) => this.fire(name, new BusFiring(k, f, ''), f.nsecs));
          break;
        }
        case 'uprobe':
        case 'uretprobe': {
          const target = parts.slice(1).join(':');
          const fn = parts[parts.length - 1];
          const bins = parts[1] === '/bin/bash' || parts[1] === '/usr/bin/bash' ? ['/bin/bash', '/usr/bin/bash'] : [parts[1]];
          for (const b of bins) this.on(p.provider, `${b}:${fn}`, (f) => this.fire(name, new BusFiring(k, f, fn), f.nsecs));
          void target;
          break;
        }
        case 'software':
        case 'hardware': {
          const ev = perfEvent(p.provider, parts[1]);
          if (!ev) break;
          const period = parts[2] ? Math.max(1, Number(parts[2])) : ev[2];
          let acc = 0;
          const handler = (f: ProbeFiring): void => {
            acc += f.count ?? 1;
            while (acc >= period && !this.session.finished) {
              acc -= period;
              this.fire(name, new BusFiring(k, f, ''), f.nsecs);
            }
          };
          this.on(p.provider, ev[0], handler);
          if (ev[1]) this.on(p.provider, ev[1], handler);
          break;
        }
        case 'interval':
        case 'profile': {
          const per = periodOf(name);
          if (per !== null && !this.schedule.some((e) => e.name === name)) {
            this.schedule.push({ name, period: per, profile: p.provider === 'profile', next: this.startNs + per });
          }
          break;
        }
      }
    }
  }
}
