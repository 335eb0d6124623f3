/**
 * Recordings: what `trace-cmd record` (and the REST layer) capture out of the
 * ring buffers, in a structured form independent of the tracefs rendering,
 * and the trace-cmd 3.1 `report` rendering of such a capture.
 */
import { padL } from '../util/format';
import { cprintf, splitPrintFmt } from './format';
import { staticEvent } from './data';
import { graphDuration, mark } from './trace';

/** One captured record. */
export interface CapturedEvent {
  /** timestamp, ns */
  ts: number;
  cpu: number;
  pid: number;
  /** irq-info flags ("....." / "d..2.") */
  flags: string;
  /** function, funcgraph_entry, funcgraph_exit, kernel_stack, or the event name (sched_switch, sys_enter_read, print, ...) */
  name: string;
  /** the event system ("ftrace" for the tracer's own records) */
  system: string;
  /** function: the function and its parent; graph: function, depth; events: the kernel's rendering of the payload */
  fn?: string;
  parent?: string;
  depth?: number;
  /** funcgraph_exit: duration ns */
  dur?: number;
  info?: string;
  stack?: string[];
}

export interface CaptureOpts {
  /** nop | function | function_graph */
  tracer?: string;
  /** set_ftrace_filter globs (-l) */
  functions?: string[];
  /** set_ftrace_notrace (-n) */
  notrace?: string[];
  /** set_graph_function (-g) */
  graphFunctions?: string[];
  /** events: "sys:event", "sys", "event", globs (-e) */
  events?: string[];
  /** only these pids (-P) */
  pids?: number[];
  maxGraphDepth?: number;
  /** func_stack_trace (function tracer) */
  stackTrace?: boolean;
  bufferKb?: number;
}

export interface RecordingMeta {
  id: number;
  /** what made it: "trace-cmd", "perf", "rest" */
  kind: string;
  /** virtual ns since boot when it was taken */
  created: number;
  /** the command that ran while recording */
  command: string;
  tracer: string;
  /** number of records */
  count: number;
  /** records dropped to keep the recording bounded */
  truncated: number;
}

export interface Recording extends RecordingMeta {
  cpus: number;
  /** pid -> comm at recording time */
  comms: [number, string][];
  events: CapturedEvent[];
  /** `trace-cmd report` text (rendered when the recording is fetched; not kept in the machine state) */
  report: string;
}

/** Recordings kept per machine, and records kept per recording. */
export const MAX_RECORDINGS = 8;
export const MAX_RECORDING_EVENTS = 10_000;

// ------------------------------------------------------------------ report

const SCHED_SWITCH = /^prev_comm=(.*) prev_pid=(\d+) prev_prio=(\d+) prev_state=(\S+) ==> next_comm=(.*) next_pid=(\d+) next_prio=(\d+)$/;
const WAKEUP = /^comm=(.*) pid=(\d+) prio=(\d+) target_cpu=(\d+)$/;

/** The info column of an event as libtraceevent (and its sched plugin) prints it. */
function eventInfo(e: CapturedEvent): string {
  const info = e.info ?? '';
  if (e.system === 'sched' && e.name === 'sched_switch') {
    const m = SCHED_SWITCH.exec(info);
    if (m) return `${m[1]}:${m[2]} [${m[3]}] ${m[4]} ==> ${m[5]}:${m[6]} [${m[7]}]`;
  }
  if (e.system === 'sched' && /^sched_(wakeup|waking|wakeup_new)$/.test(e.name)) {
    const m = WAKEUP.exec(info);
    if (m) return `${m[1]}:${m[2]} [${m[3]}] CPU:${m[4].padStart(3, '0')}`;
  }
  return info;
}

function nameCol(name: string): string {
  return ` ${name}: ${' '.repeat(Math.max(0, 20 - name.length))}`;
}

function tsCol(ns: number): string {
  const sec = Math.floor(ns / 1e9);
  const usec = Math.floor((ns % 1e9) / 1e3);
  return ` ${padL(sec, 5)}.${String(usec).padStart(6, '0')}:`;
}

export interface ReportOpts {
  cpu?: number;
  /** only these pids */
  pids?: number[];
  /** only these event names */
  events?: string[];
}

/** `trace-cmd report` of a recording (trace-cmd 3.1 layout). */
export function renderReport(r: Pick<Recording, 'cpus' | 'comms' | 'events'>, opts: ReportOpts = {}): string {
  const comms = new Map(r.comms);
  const commOf = (pid: number): string => (pid === 0 ? '<idle>' : (comms.get(pid) ?? '<...>'));
  let evs = r.events;
  if (opts.cpu !== undefined) evs = evs.filter((e) => e.cpu === opts.cpu);
  if (opts.pids?.length) evs = evs.filter((e) => opts.pids?.includes(e.pid));
  if (opts.events?.length) evs = evs.filter((e) => opts.events?.includes(e.name));
  const used = new Set(r.events.map((e) => e.cpu));
  let out = '';
  for (let c = 0; c < r.cpus; c++) if (!used.has(c)) out += `CPU ${c} is empty\n`;
  out += `cpus=${r.cpus}\n`;
  for (let i = 0; i < evs.length; i++) {
    const e = evs[i];
    const head = `${padL(commOf(e.pid), 16)}-${String(e.pid).padEnd(5, ' ')} [${String(e.cpu).padStart(3, '0')}]${tsCol(e.ts)}`;
    let body: string;
    if (e.name === 'function') body = `${nameCol('function')}${e.fn ?? ''}${e.parent ? ` <-- ${e.parent}` : ''}`;
    else if (e.name === 'funcgraph_entry') {
      const ind = '  '.repeat(e.depth ?? 0);
      // a leaf: the exit follows directly (same cpu and pid)
      let j = i + 1;
      while (j < evs.length && evs[j].cpu !== e.cpu) j++;
      const n = evs[j];
      if (n && n.name === 'funcgraph_exit' && n.pid === e.pid && n.fn === e.fn) {
        body = `${nameCol('funcgraph_entry')}${mark(n.dur ?? 0)} ${graphDuration(n.dur ?? 0)}|  ${ind}${e.fn}();`;
        evs = [...evs.slice(0, j), ...evs.slice(j + 1)];
      } else body = `${nameCol('funcgraph_entry')}              |  ${ind}${e.fn}() {`;
    } else if (e.name === 'funcgraph_exit') body = `${nameCol('funcgraph_exit')}${mark(e.dur ?? 0)} ${graphDuration(e.dur ?? 0)}|  ${'  '.repeat(e.depth ?? 0)}}`;
    else if (e.name === 'kernel_stack') body = `${nameCol('kernel_stack')}<stack trace >\n${(e.stack ?? []).map((s) => `=> ${s}\n`).join('')}`.replace(/\n$/, '');
    else body = `${nameCol(e.name)}${eventInfo(e)}`;
    out += `${head}${body}\n`;
  }
  return out;
}

/** Converts the kernel's payload of a syscalls event to libtraceevent's rendering of its print fmt. */
export function syscallInfo(name: string, payload: string): string {
  const exit = / -> (0x[0-9a-f]+)$/.exec(payload);
  if (exit) return exit[1];
  const m = /^sys_\w+\((.*)\)$/.exec(payload);
  if (!m) return payload;
  const def = staticEvent('syscalls', name);
  const sp = def ? splitPrintFmt(def.printFmt) : undefined;
  const vals = m[1]
    ? m[1].split(', ').map((kv) => {
        const v = kv.slice(kv.indexOf(': ') + 2);
        return BigInt(`0x${v || '0'}`);
      })
    : [];
  if (!sp) return m[1];
  return cprintf(
    sp.fmt,
    vals,
    vals.map(() => 8),
  );
}
