/**
 * tracefs (mounted at /sys/kernel/tracing, and at /sys/kernel/debug/tracing
 * through debugfs): every file renders from, or writes to, k.trace.
 */
import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import { TRACE_STATIC } from '../../trace/data';
import type { Trace } from '../../trace/trace';
import { type DirNode, type DirTable, type FileNode, type FsCtx, pdir, pfile, wofile } from '../vnode';

const RW = 0o640;
const RO = 0o440;
const DIR = 0o750;

function rw(render: (ctx: FsCtx) => string, write: NonNullable<FileNode['write']>): FileNode {
  return pfile(render, { mode: RW, write });
}
/** A list or buffer file: an open with O_TRUNC clears it as a write of nothing would (and fails as that would). */
function rwt(render: (ctx: FsCtx) => string, write: NonNullable<FileNode['write']>): FileNode {
  return pfile(render, { mode: RW, write, truncate: (c) => write(c, '', false) });
}
function ro(render: (ctx: FsCtx) => string): FileNode {
  return pfile(render, { mode: RO });
}

/** The task writing (for trace_marker): its cpu and comm. */
function writer(k: Kernel, ctx: FsCtx): { cpu: number; comm: string } {
  const t = k.sched.taskInfo(ctx.pid);
  return { cpu: t?.cpu ?? 0, comm: t?.comm ?? (ctx.pid === 0 ? 'swapper/0' : 'sh') };
}

function eventDir(tr: Trace, system: string, name: string): DirNode {
  const table: DirTable = {
    enable: rw(
      () => (tr.isEnabled(system, name) ? '1\n' : '0\n'),
      (_c, d) => tr.writeEnable([{ system, name }], d),
    ),
    filter: rw(
      () => tr.renderFilter(system, name),
      (_c, d) => tr.writeFilter(system, name, d),
    ),
    format: ro(() => tr.renderFormat(system, name)),
    hist: ro(() => `# event histogram\n#\n# trigger info: \n`),
    id: ro(() => `${tr.eventDef(system, name)?.id ?? 0}\n`),
    trigger: rw(
      () => tr.renderTrigger(system, name),
      (_c, d) => tr.writeTrigger(system, name, d),
    ),
  };
  if (system === 'ftrace') {
    delete table.enable;
    delete table.filter;
    delete table.hist;
    delete table.trigger;
  }
  return pdir(table, { mode: DIR });
}

function systemDir(tr: Trace, system: string): DirNode {
  const events = (): { system: string; name: string }[] => tr.eventsOf(system).map((name) => ({ system, name }));
  return pdir(
    () => {
      const t: DirTable = {};
      if (system !== 'ftrace') {
        t.enable = rw(
          () => tr.renderEnable(events()),
          (_c, d) => tr.writeEnable(events(), d),
        );
        t.filter = rw(
          () => 'none\n',
          (_c, d) => {
            let ok = 0;
            for (const e of events()) {
              try {
                tr.writeFilter(system, e.name, d);
                ok++;
              } catch {
                // events without the fields keep their filter
              }
            }
            if (!ok) throw new KernelError('EINVAL');
          },
        );
      }
      for (const name of tr.eventsOf(system)) t[name] = () => eventDir(tr, system, name);
      return t;
    },
    { mode: DIR },
  );
}

function eventsRoot(tr: Trace): DirNode {
  const all = (): { system: string; name: string }[] => tr.allEvents();
  return pdir(
    () => {
      const t: DirTable = {
        enable: rw(
          () => tr.renderEnable(all()),
          (_c, d) => tr.writeEnable(all(), d),
        ),
        header_event: ro(() => TRACE_STATIC.headerEvent),
        header_page: ro(() => TRACE_STATIC.headerPage),
      };
      for (const s of tr.systems()) t[s] = () => systemDir(tr, s);
      return t;
    },
    { mode: DIR },
  );
}

function optionsDir(tr: Trace): DirNode {
  const t: DirTable = {};
  for (const name of tr.optionNames()) {
    t[name] = rw(
      () => (tr.option(name) ? '1\n' : '0\n'),
      (_c, d) => {
        const v = d.trim();
        if (v !== '0' && v !== '1') throw new KernelError('EINVAL');
        tr.setOption(v === '1' ? name : `no${name}`);
      },
    );
  }
  return pdir(t, { mode: DIR });
}

function perCpuDir(k: Kernel, tr: Trace): DirNode {
  const t: DirTable = {};
  for (let c = 0; c < k.config.cpus; c++) {
    t[`cpu${c}`] = () =>
      pdir(
        {
          buffer_size_kb: rw(
            () => tr.renderBufferSize(false),
            (_c, d) => tr.setBufferSizeKb(d),
          ),
          stats: ro(() => tr.renderStats(c)),
          trace: rwt(
            () => tr.renderTrace(c),
            (_c, _d, append) => {
              if (!append) tr.resetCpu(c);
            },
          ),
          trace_pipe: ro(() => tr.readPipe(c)),
        },
        { mode: DIR },
      );
  }
  return pdir(t, { mode: DIR });
}

/** The tracefs root directory. */
export function buildTracefs(k: Kernel): DirNode {
  const tr = k.trace;
  const table: DirTable = {
    README: ro(() => TRACE_STATIC.readme),
    available_events: ro(() => tr.renderAvailableEvents()),
    available_filter_functions: ro(() => tr.renderAvailableFilterFunctions()),
    available_tracers: ro(() => TRACE_STATIC.availableTracers + '\n'),
    buffer_percent: rw(
      () => '50\n',
      () => undefined,
    ),
    buffer_size_kb: rw(
      () => tr.renderBufferSize(false),
      (_c, d) => tr.setBufferSizeKb(d),
    ),
    buffer_total_size_kb: ro(() => tr.renderBufferSize(true)),
    current_tracer: rw(
      () => `${tr.currentTracer}\n`,
      (_c, d) => tr.setTracer(d),
    ),
    dynamic_events: rwt(
      () => tr.renderKprobeEvents(),
      (_c, d, append) => tr.writeKprobeEvents(d, append),
    ),
    enabled_functions: ro(() => tr.renderEnabledFunctions()),
    error_log: rwt(
      () => tr.renderErrorLog(),
      (_c, _d, append) => {
        if (!append) tr.clearErrorLog();
      },
    ),
    events: () => eventsRoot(tr),
    free_buffer: wofile(() => tr.resetBuffers(), 0o200),
    instances: pdir({}, { mode: DIR }),
    kprobe_events: rwt(
      () => tr.renderKprobeEvents(),
      (_c, d, append) => tr.writeKprobeEvents(d, append),
    ),
    kprobe_profile: ro(() => tr.renderKprobeProfile()),
    max_graph_depth: rw(
      () => `${tr.maxGraphDepth}\n`,
      (_c, d) => tr.setMaxGraphDepth(d),
    ),
    options: () => optionsDir(tr),
    per_cpu: () => perCpuDir(k, tr),
    saved_cmdlines: ro(() => tr.renderSavedCmdlines()),
    saved_cmdlines_size: rw(
      () => `${tr.savedCmdlinesSize}\n`,
      (_c, d) => tr.setSavedCmdlinesSize(d),
    ),
    set_event: rwt(
      () => tr.renderSetEvent(),
      (_c, d, append) => tr.writeSetEvent(d, append),
    ),
    set_event_notrace_pid: rwt(
      () => tr.renderPidList('eventNotracePids'),
      (_c, d, append) => tr.writePidList('eventNotracePids', d, append),
    ),
    set_event_pid: rwt(
      () => tr.renderPidList('eventPids'),
      (_c, d, append) => tr.writePidList('eventPids', d, append),
    ),
    set_ftrace_filter: rwt(
      () => tr.renderFunctionList('ftraceFilter'),
      (_c, d, append) => tr.writeFunctionList('ftraceFilter', d, append),
    ),
    set_ftrace_notrace: rwt(
      () => tr.renderFunctionList('ftraceNotrace'),
      (_c, d, append) => tr.writeFunctionList('ftraceNotrace', d, append),
    ),
    set_ftrace_notrace_pid: rwt(
      () => tr.renderPidList('ftraceNotracePids'),
      (_c, d, append) => tr.writePidList('ftraceNotracePids', d, append),
    ),
    set_ftrace_pid: rwt(
      () => tr.renderFtracePid(),
      (_c, d, append) => tr.writeFtracePid(d, append),
    ),
    set_graph_function: rwt(
      () => tr.renderFunctionList('graphFunctions'),
      (_c, d, append) => tr.writeFunctionList('graphFunctions', d, append),
    ),
    set_graph_notrace: rwt(
      () => tr.renderFunctionList('graphNotrace'),
      (_c, d, append) => tr.writeFunctionList('graphNotrace', d, append),
    ),
    snapshot: rw(
      () => tr.renderSnapshot(),
      (_c, d) => tr.writeSnapshot(d),
    ),
    timestamp_mode: ro(() => '[delta] absolute\n'),
    trace: rwt(
      () => tr.renderTrace(),
      (_c, _d, append) => {
        if (!append) tr.resetBuffers();
      },
    ),
    trace_clock: rw(
      () => tr.renderClock(),
      (_c, d) => tr.setClock(d),
    ),
    trace_marker: {
      ...wofile((ctx, d) => {
        const w = writer(k, ctx);
        tr.marker(w.cpu, ctx.pid, w.comm, d);
      }, 0o220),
    },
    trace_options: rw(
      () => tr.renderOptions(),
      (_c, d) => tr.setOption(d),
    ),
    trace_pipe: ro(() => tr.readPipe()),
    tracing_cpumask: rw(
      () => tr.renderCpumask(),
      (_c, d) => tr.setCpumask(d),
    ),
    tracing_max_latency: rw(
      () => '0\n',
      () => undefined,
    ),
    tracing_on: rw(
      () => (tr.tracingOn ? '1\n' : '0\n'),
      (_c, d) => {
        const v = d.trim();
        if (!/^\d+$/.test(v)) throw new KernelError('EINVAL');
        tr.setTracingOn(v !== '0');
      },
    ),
    tracing_thresh: rw(
      () => `${tr.tracingThresh}\n`,
      (_c, d) => tr.setTracingThresh(d),
    ),
    uprobe_events: rwt(
      () => '',
      (_c, d) => {
        if (d.trim()) throw new KernelError('EINVAL');
      },
    ),
    uprobe_profile: ro(() => ''),
  };
  return pdir(table, { mode: DIR });
}
