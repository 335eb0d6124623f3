import type { EventFields } from './filter';

/**
 * The probe bus: where the model's instrumentation meets its consumers
 * (bpftrace programs, perf counters). Emitters (call-path tracing, trace
 * events, the PMU) call `fire` at each probe point; consumers `attach` a
 * handler to a probe point by kind and name. Nothing is attached most of
 * the time, so emitters first ask `active(kind, name)` (a map lookup) and
 * build the firing only when someone listens.
 *
 * Attachments are runtime state of their consumer (a bpftrace run), not
 * kernel state: they are not part of getState()/setState().
 */
export type ProbeKind = 'kprobe' | 'kretprobe' | 'tracepoint' | 'software' | 'hardware' | 'uprobe' | 'uretprobe';

export interface ProbeFiring {
  kind: ProbeKind;
  /** kprobe/kretprobe: function name; tracepoint: "system:event"; software/hardware: event name; uprobe: "binary:function" */
  name: string;
  cpu: number;
  /** thread id (what bpftrace calls tid) and its thread group (pid) */
  tid: number;
  pid: number;
  comm: string;
  /** virtual ns since boot */
  nsecs: number;
  /** function arguments in argument-register order (kprobe arg0..argN) */
  args: readonly bigint[];
  /** return value (kretprobe/uretprobe) */
  retval?: bigint;
  /** tracepoint fields, typed by the event's format file */
  fields?: EventFields;
  /** kernel call stack, innermost first (kstack) */
  kstack: readonly string[];
  /** user call stack, innermost first (ustack) */
  ustack?: readonly string[];
  /** software/hardware events: the count this firing stands for */
  count?: number;
  /** user memory the probe may read (str(argN)): address -> the string stored there */
  mem?: ReadonlyMap<bigint, string>;
}

export type ProbeHandler = (f: ProbeFiring) => void;

export class ProbeBus {
  private readonly handlers = new Map<string, Set<ProbeHandler>>();
  private attached = 0;

  /** Attaches a handler; returns the detach function. */
  attach(kind: ProbeKind, name: string, fn: ProbeHandler): () => void {
    const key = `${kind}:${name}`;
    let set = this.handlers.get(key);
    if (!set) this.handlers.set(key, (set = new Set()));
    set.add(fn);
    this.attached++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      set.delete(fn);
      this.attached--;
      if (set.size === 0) this.handlers.delete(key);
    };
  }

  /** true when anything at all is attached (the emitters' fastest gate) */
  get any(): boolean {
    return this.attached > 0;
  }

  active(kind: ProbeKind, name: string): boolean {
    return this.attached > 0 && this.handlers.has(`${kind}:${name}`);
  }

  /** Fires a probe point; `make` builds the firing only when a handler listens. */
  fire(kind: ProbeKind, name: string, make: () => ProbeFiring): void {
    if (this.attached === 0) return;
    const set = this.handlers.get(`${kind}:${name}`);
    if (!set) return;
    const f = make();
    for (const fn of [...set]) fn(f);
  }

  /** names attached for a kind (diagnostics, tests) */
  attachedNames(kind: ProbeKind): string[] {
    const out: string[] = [];
    const prefix = `${kind}:`;
    for (const k of this.handlers.keys()) if (k.startsWith(prefix)) out.push(k.slice(prefix.length));
    return out.sort();
  }

  clear(): void {
    this.handlers.clear();
    this.attached = 0;
  }
}
