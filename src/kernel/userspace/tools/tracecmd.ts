/**
 * trace-cmd (3.1, as Debian 12 ships it): a front end to tracefs. `record`
 * sets up the tracer and events, runs a command, and saves the ring-buffer
 * contents to trace.dat (a self-describing JSON file only our `report`
 * reads); every recording is also kept in the machine's trace state
 * (k.trace.recordings()) for the REST layer.
 */
import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import { type CaptureOpts, type CapturedEvent, type Recording, renderReport } from '../../trace/capture';
import { TRACE_STATIC } from '../../trace/data';
import { TRACERS } from '../../trace/trace';
import type { Co, ToolCtx, ToolSpec } from '../types';
import { errText, write } from './common';
import { kernelOf } from './common';
import { ShellAbort } from '../../shell/io';

export { kernelOf };

export const TRACE_DAT_MAGIC = 'Kernelab trace-cmd data (tracing6)\n';
const VERSION = 'trace-cmd version 3.1.6 ()';


function err(ctx: ToolCtx, msg: string): number {
  ctx.stderr.write(`trace-cmd: ${msg}\n`);
  return 1;
}

const USAGE = `
trace-cmd version 3.1.6 ()

usage:
  trace-cmd [COMMAND] ...

  commands:
     record - record a trace into a trace.dat file
     start - start tracing without recording into a file
     extract - extract a trace from the kernel
     stop - stop the kernel from recording trace data
     restart - restart the kernel trace data recording
     show - show the contents of the kernel tracing buffer
     reset - disable all kernel tracing and clear the trace buffers
     report - read out the trace stored in a trace.dat file
     list - list the available events, plugins or options
     version - show version
`;

interface RecordArgs {
  opts: CaptureOpts;
  output: string;
  follow: boolean;
  command: string[];
}

/** Options of record / start (they stop at the first non-option: the command). */
function parseRecord(ctx: ToolCtx, args: string[], sub: string): RecordArgs | number {
  const opts: CaptureOpts = {};
  let output = 'trace.dat';
  let follow = false;
  let i = 0;
  const need = (o: string): string | undefined => {
    const v = args[++i];
    if (v === undefined) {
      ctx.stderr.write(`trace-cmd: option requires an argument -- '${o.replace(/^-+/, '')}'\n`);
    }
    return v;
  };
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    let v: string | undefined;
    switch (a) {
      case '-p':
      case '--plugin':
        if ((v = need(a)) === undefined) return 1;
        opts.tracer = v;
        break;
      case '-e':
      case '--event':
        if ((v = need(a)) === undefined) return 1;
        (opts.events ??= []).push(v);
        break;
      case '-l':
        if ((v = need(a)) === undefined) return 1;
        (opts.functions ??= []).push(v);
        break;
      case '-n':
        if ((v = need(a)) === undefined) return 1;
        (opts.notrace ??= []).push(v);
        break;
      case '-g':
        if ((v = need(a)) === undefined) return 1;
        (opts.graphFunctions ??= []).push(v);
        opts.tracer ??= 'function_graph';
        break;
      case '-P':
        if ((v = need(a)) === undefined) return 1;
        if (!/^\d+$/.test(v)) return err(ctx, `invalid pid ${v}`);
        (opts.pids ??= []).push(Number(v));
        break;
      case '-o':
        if ((v = need(a)) === undefined) return 1;
        output = v;
        break;
      case '-b':
        if ((v = need(a)) === undefined) return 1;
        opts.bufferKb = Number(v);
        break;
      case '--max-graph-depth':
        if ((v = need(a)) === undefined) return 1;
        opts.maxGraphDepth = Number(v);
        break;
      case '-F':
        follow = true;
        break;
      case '-c':
        break;
      case '-T':
        opts.stackTrace = true;
        break;
      default:
        ctx.stderr.write(`trace-cmd: invalid option -- '${a.replace(/^-+/, '')}'\n`);
        usageOf(ctx, sub);
        return 1;
    }
  }
  if (opts.tracer && !(TRACERS as readonly string[]).includes(opts.tracer) && opts.tracer !== 'nop') {
    return err(ctx, `Failed to set plugin ${opts.tracer}\n  plugin '${opts.tracer}' does not exist`);
  }
  if (!opts.tracer && opts.functions?.length) opts.tracer = 'function';
  return { opts, output, follow, command: args.slice(i) };
}

function usageOf(ctx: ToolCtx, sub: string): void {
  ctx.stderr.write(
    `\ntrace-cmd version 3.1.6 ()\n\nusage:\n trace-cmd ${sub} [-v][-e event [-f filter]][-p plugin][-F][-d][-D][-o file] \\\n           [-q][-s usecs][-O option ][-l func][-g func][-n func] \\\n           [-P pid][-N host:port][-t][-r prio][-b size][-B buf][command ...]\n`,
  );
}

function needRoot(ctx: ToolCtx): number | undefined {
  if (ctx.host.uid === 0) return undefined;
  ctx.stderr.write('trace-cmd: Permission denied\n  opening /sys/kernel/tracing/trace\n');
  return 1;
}

function configError(ctx: ToolCtx, e: unknown, opts: CaptureOpts): number {
  if (e instanceof KernelError && e.code === 'EINVAL') {
    if (opts.events?.length) return err(ctx, `No events enabled with ${opts.events.join(' ')}`);
    const f = [...(opts.functions ?? []), ...(opts.graphFunctions ?? []), ...(opts.notrace ?? [])];
    if (f.length) return err(ctx, `Failed to add filter ${f.join(' ')}\n  Could not find any function matching`);
  }
  return err(ctx, errText(e));
}

/** The data file: magic line, then the recording as JSON. */
export function encodeDat(r: Pick<Recording, 'cpus' | 'comms' | 'events' | 'tracer' | 'command'>): string {
  return TRACE_DAT_MAGIC + JSON.stringify({ version: 1, tracer: r.tracer, command: r.command, cpus: r.cpus, comms: r.comms, events: r.events }) + '\n';
}

export function decodeDat(text: string): Pick<Recording, 'cpus' | 'comms' | 'events' | 'tracer' | 'command'> | undefined {
  if (!text.startsWith(TRACE_DAT_MAGIC)) return undefined;
  try {
    const o = JSON.parse(text.slice(TRACE_DAT_MAGIC.length)) as { tracer: string; command: string; cpus: number; comms: [number, string][]; events: CapturedEvent[] };
    if (!Array.isArray(o.events)) return undefined;
    return o;
  } catch {
    return undefined;
  }
}

/** "CPU0 data recorded at offset=..." lines of record / extract. */
function cpuSummary(events: CapturedEvent[], cpus: number): string {
  let out = '';
  let off = 0x5b4000;
  for (let c = 0; c < cpus; c++) {
    const n = events.filter((e) => e.cpu === c).length;
    const bytes = n ? Math.ceil((n * 32) / 4096) * 4096 : 0;
    out += `CPU${c} data recorded at offset=0x${off.toString(16)}\n    ${bytes} bytes in size\n`;
    off += bytes;
  }
  return out;
}

function saveDat(ctx: ToolCtx, file: string, r: Pick<Recording, 'cpus' | 'comms' | 'events' | 'tracer' | 'command'>): number | undefined {
  try {
    ctx.host.writeFile(ctx.pid, file, ctx.cwd, encodeDat(r), { create: true });
  } catch (e) {
    return err(ctx, `can't create ${file}: ${errText(e)}`);
  }
  return undefined;
}

function* record(ctx: ToolCtx, k: Kernel, args: string[]): Co<number> {
  const r = parseRecord(ctx, args, 'record');
  if (typeof r === 'number') return r;
  const denied = needRoot(ctx);
  if (denied !== undefined) return denied;
  if (k.trace.capturing) return err(ctx, 'another trace-cmd record is running');
  try {
    k.trace.beginCapture(r.opts);
  } catch (e) {
    return configError(ctx, e, r.opts);
  }
  if (r.opts.tracer && r.opts.tracer !== 'nop') write(ctx, `  plugin '${r.opts.tracer}'\n`);
  const self = ctx.pid;
  let status = 0;
  try {
    if (r.command.length) status = yield* ctx.run(r.command);
    else {
      // no command: record the whole machine until Ctrl-C (or the command's time budget) stops it
      write(ctx, 'Hit Ctrl^C to stop recording\n');
      for (;;) yield* ctx.sleepUntil(k.now + 100e6);
    }
  } finally {
    // (also when the run is aborted: the tracefs configuration is restored)
    if (k.trace.capturing) {
      const cap = k.trace.endCapture(r.follow ? (e) => e.pid > self : undefined);
      const rec = k.trace.addRecording({ kind: 'trace-cmd', command: r.command.length ? r.command.join(' ') : '(until Ctrl^C)', tracer: r.opts.tracer ?? 'nop', ...cap });
      const bad = saveDat(ctx, r.output, rec);
      if (bad === undefined) write(ctx, cpuSummary(rec.events, rec.cpus));
    }
  }
  return status;
}

function start(ctx: ToolCtx, k: Kernel, args: string[]): number {
  const r = parseRecord(ctx, args, 'start');
  if (typeof r === 'number') return r;
  const denied = needRoot(ctx);
  if (denied !== undefined) return denied;
  try {
    k.trace.applyConfig(r.opts);
  } catch (e) {
    return configError(ctx, e, r.opts);
  }
  if (r.opts.tracer && r.opts.tracer !== 'nop') write(ctx, `  plugin '${r.opts.tracer}'\n`);
  return 0;
}

function report(ctx: ToolCtx, args: string[]): number {
  let input = 'trace.dat';
  let cpu: number | undefined;
  const pids: number[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-i') input = args[++i] ?? input;
    else if (a === '--cpu') cpu = Number(args[++i]);
    else if (a === '-P' || a === '--pid') pids.push(Number(args[++i]));
    else if (!a.startsWith('-')) input = a;
    else return err(ctx, `report: unsupported option ${a}`);
  }
  let text: string;
  try {
    text = ctx.host.readFile(ctx.pid, input, ctx.cwd);
  } catch {
    ctx.stderr.write(`  Failed to open '${input}'\n`);
    return err(ctx, `error reading header for ${input}`);
  }
  const d = decodeDat(text);
  if (!d) {
    ctx.stderr.write(`  Failed to read '${input}'\n`);
    return err(ctx, `error reading header for ${input}`);
  }
  write(ctx, renderReport(d, { cpu, pids }));
  return 0;
}

function list(ctx: ToolCtx, k: Kernel, args: string[]): number {
  const flag = args[0] ?? '-e';
  const re = args[1] ? new RegExp(args[1]) : undefined;
  const ok = (s: string): boolean => !re || re.test(s);
  switch (flag) {
    case '-t':
      write(ctx, TRACE_STATIC.availableTracers.endsWith('\n') ? TRACE_STATIC.availableTracers : `${TRACE_STATIC.availableTracers}\n`);
      return 0;
    case '-e':
      write(
        ctx,
        k.trace
          .allEvents()
          .map((e) => `${e.system}:${e.name}`)
          .filter(ok)
          .map((l) => l + '\n')
          .join(''),
      );
      return 0;
    case '-f':
      write(
        ctx,
        k.trace
          .renderAvailableFilterFunctions()
          .split('\n')
          .filter((l) => l && ok(l))
          .map((l) => l + '\n')
          .join(''),
      );
      return 0;
    case '-o':
      write(ctx, k.trace.renderOptions());
      return 0;
    default:
      return err(ctx, `list: unknown option ${flag}`);
  }
}

function reset(k: Kernel): number {
  k.trace.applyConfig({ tracer: 'nop' });
  for (let c = 0; c < k.config.cpus; c++) k.trace.resetCpu(c);
  return 0;
}

function extract(ctx: ToolCtx, k: Kernel, args: string[]): number {
  let out = 'trace.dat';
  for (let i = 0; i < args.length; i++) if (args[i] === '-o') out = args[++i] ?? out;
  const denied = needRoot(ctx);
  if (denied !== undefined) return denied;
  const cap = k.trace.captureBuffers();
  const rec = k.trace.addRecording({ kind: 'trace-cmd', command: '(extract)', tracer: k.trace.currentTracer, ...cap });
  const bad = saveDat(ctx, out, rec);
  if (bad !== undefined) return bad;
  write(ctx, cpuSummary(rec.events, rec.cpus));
  return 0;
}

function* tracecmd(ctx: ToolCtx): Co<number> {
  const [sub, ...args] = ctx.argv.slice(1);
  const k = kernelOf(ctx);
  if (!sub || sub === '-h' || sub === '--help' || sub === 'help') {
    write(ctx, USAGE);
    return sub ? 0 : 1;
  }
  if (sub === 'version' || sub === '--version' || sub === '-v') {
    write(ctx, `\n${VERSION}\n\n`);
    return 0;
  }
  if (!k) return err(ctx, 'tracefs not mounted');
  try {
    switch (sub) {
      case 'record':
        return yield* record(ctx, k, args);
      case 'start':
        return start(ctx, k, args);
      case 'stop':
        return needRoot(ctx) ?? (k.trace.setTracingOn(false), 0);
      case 'restart':
        return needRoot(ctx) ?? (k.trace.setTracingOn(true), 0);
      case 'show':
        write(ctx, k.trace.renderTrace());
        return 0;
      case 'reset':
        return needRoot(ctx) ?? reset(k);
      case 'report':
        return report(ctx, args);
      case 'list':
        return list(ctx, k, args);
      case 'extract':
        return extract(ctx, k, args);
      default:
        ctx.stderr.write(`trace-cmd: unknown command ${sub}\n`);
        write(ctx, USAGE);
        return 1;
    }
  } catch (e) {
    // Ctrl-C, a timeout or a budget stop the whole command line: not trace-cmd's own error
    if (e instanceof ShellAbort) throw e;
    return err(ctx, errText(e));
  }
}

export const TRACECMD_TOOLS: ToolSpec[] = [{ name: 'trace-cmd', run: tracecmd }];
