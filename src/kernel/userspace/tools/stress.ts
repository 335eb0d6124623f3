import { KernelError } from '../../errors';
import type { Kernel } from '../../kernel';
import type { Step } from '../../sched/task';
import type { Co, ToolCtx, ToolSpec } from '../types';
import { kernelOf, selfTask } from './utillinux/common';

/**
 * stress-ng 0.15 (Debian 12): --cpu N, --vm N --vm-bytes SIZE, --io N,
 * --timeout T, --metrics-brief. Each worker is a real task of k.sched
 * (comm stress-ng-cpu / -vm / -io) running a busy program; --vm workers
 * fault their share of --vm-bytes in through k.mm (Committed_AS and used
 * memory rise, and reclaim or the OOM killer can follow). The parent sleeps
 * in virtual time until the timeout, then kills and reaps the workers; an
 * interrupt (Ctrl-C) kills them too.
 */

type StressorName = 'cpu' | 'io' | 'vm';

/** stress-ng's stressor table order (dispatch and report order) */
const ORDER: StressorName[] = ['cpu', 'io', 'vm'];
const DEFAULT_TIMEOUT_S = 86400;
const DEFAULT_VM_BYTES = 256 * 1024 * 1024;
const PAGE = 4096;
/** how often the parent checks its workers (virtual time) */
const WATCH_NS = 1_000_000_000;

/** bogo-op rates of the model (ops per second of CPU time) */
const BOGO_PER_CPU_S: Record<StressorName, number> = { cpu: 1720, io: 0, vm: 52000 };
/** one io stressor loop: sync() (disk wait) and a little CPU */
const IO_LOOP: Step[] = [
  { op: 'run', ns: 120_000, user: 0.08 },
  { op: 'io', ns: 1_800_000, writeBytes: 0 },
];

interface Worker {
  pid: number;
  kind: StressorName;
  instance: number;
  /** CPU time of earlier (OOM-killed) incarnations */
  prevUt: number;
  prevSt: number;
  startNs: number;
  ut: number;
  st: number;
  endNs: number;
}

interface StressOpts {
  counts: Partial<Record<StressorName, number>>;
  vmBytes: string;
  timeoutS: number | undefined;
  metricsBrief: boolean;
  metrics: boolean;
  quiet: boolean;
  verbose: boolean;
  cpuLoad: number;
}

/** "10", "10s", "2m", "1h", "1d" -> seconds; null when invalid */
function parseDuration(s: string): number | null {
  const m = /^(\d+(?:\.\d+)?)([smhdy]?)$/.exec(s);
  if (!m) return null;
  const mul: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, y: 31556926 };
  return Math.floor(Number(m[1]) * mul[m[2]]);
}

/** "256M", "1g", "50%" -> bytes (of `totalBytes` for a percentage); null when invalid */
function parseBytes(s: string, totalBytes: number): number | null {
  const m = /^(\d+(?:\.\d+)?)([bkmgtBKMGT%]?)$/.exec(s);
  if (!m) return null;
  const n = Number(m[1]);
  if (m[2] === '%') return Math.floor((totalBytes * n) / 100);
  const mul: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1 << 20, g: 2 ** 30, t: 2 ** 40 };
  return Math.floor(n * mul[m[2].toLowerCase()]);
}

/** stress_duration_to_str(): "1 min, 0.00 secs", "1 day, 0.00 secs" */
function durationStr(secs: number): string {
  const parts: string[] = [];
  let s = secs;
  const units: [number, string][] = [
    [31556926, 'year'],
    [86400, 'day'],
    [3600, 'hour'],
    [60, 'min'],
  ];
  for (const [len, name] of units) {
    if (s >= len) {
      const n = Math.floor(s / len);
      s -= n * len;
      parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
    }
  }
  parts.push(`${s.toFixed(2)} secs`);
  return parts.join(', ');
}

function parseStressArgs(ctx: ToolCtx): StressOpts | string {
  const o: StressOpts = { counts: {}, vmBytes: String(DEFAULT_VM_BYTES), timeoutS: undefined, metricsBrief: false, metrics: false, quiet: false, verbose: false, cpuLoad: 100 };
  const args = ctx.argv.slice(1);
  const withArg: Record<string, string> = { '--cpu': 'cpu', '-c': 'cpu', '--vm': 'vm', '-m': 'vm', '--io': 'io', '-i': 'io', '--vm-bytes': 'vm-bytes', '--timeout': 'timeout', '-t': 'timeout', '--cpu-load': 'cpu-load', '--cpu-method': 'ignore', '--vm-method': 'ignore', '--vm-hang': 'ignore', '--backoff': 'ignore', '--vm-ops': 'ignore', '--cpu-ops': 'ignore', '--io-ops': 'ignore' };
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    let v: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const key = withArg[a];
    if (key !== undefined) {
      if (v === undefined) v = args[++i];
      if (v === undefined) return `stress-ng: option '${a}' requires an argument`;
      if (key === 'cpu' || key === 'vm' || key === 'io') {
        if (!/^-?\d+$/.test(v)) return `Invalid number '${v}'`;
        let n = Number(v);
        if (n < 0 || (n === 0 && key === 'cpu')) n = kernelOf(ctx)?.sched.cpuCount() ?? 1;
        if (n === 0) n = kernelOf(ctx)?.sched.cpuCount() ?? 1;
        o.counts[key] = Math.min(n, 4096);
      } else if (key === 'vm-bytes') o.vmBytes = v;
      else if (key === 'timeout') {
        const d = parseDuration(v);
        if (d === null) return `Invalid time '${v}'`;
        o.timeoutS = d;
      } else if (key === 'cpu-load') {
        if (!/^\d+$/.test(v) || Number(v) > 100) return `cpu-load must in the range 0 to 100.`;
        o.cpuLoad = Number(v);
      }
      continue;
    }
    if (a === '--metrics-brief') o.metricsBrief = true;
    else if (a === '--metrics' || a === '-M') o.metrics = true;
    else if (a === '-q' || a === '--quiet') o.quiet = true;
    else if (a === '-v' || a === '--verbose') o.verbose = true;
    else if (a === '--vm-keep' || a === '--aggressive' || a === '--times' || a === '--tz') continue;
    else return `stress-ng: unrecognized option '${args[i]}'`;
  }
  return o;
}

function* stressNg(ctx: ToolCtx): Co<number> {
  if (ctx.argv[1] === '--version' || ctx.argv[1] === '-V') {
    ctx.stdout.write('stress-ng, version 0.15.06 (gcc 12.2, x86_64 Linux 6.1.0-56-amd64) 💻🔥\n');
    return 0;
  }
  const o = parseStressArgs(ctx);
  if (typeof o === 'string') {
    ctx.stderr.write(`${o}\n`);
    return 1;
  }
  const me = ctx.pid;
  const info = (s: string): void => {
    if (!o.quiet) ctx.stdout.write(`stress-ng: info:  [${me}] ${s}\n`);
  };
  const kinds = ORDER.filter((n) => (o.counts[n] ?? 0) > 0);
  const k = kernelOf(ctx);
  if (!k) {
    ctx.stderr.write(`stress-ng: error: [${me}] cannot fork stressors: Operation not permitted\n`);
    return 1;
  }
  const totalBytes = k.mm.totalPages * PAGE;
  const vmTotal = parseBytes(o.vmBytes, totalBytes);
  if (vmTotal === null) {
    ctx.stderr.write(`Invalid size '${o.vmBytes}'\n`);
    return 1;
  }
  let timeout = o.timeoutS;
  if (timeout === undefined || timeout === 0) {
    timeout = DEFAULT_TIMEOUT_S;
    info(`defaulting to a ${timeout} second (${durationStr(timeout)}) run per stressor`);
  } else info(`setting to a ${timeout} second run per stressor`);
  if (kinds.length === 0) {
    ctx.stderr.write(`stress-ng: error: [${me}] No stress workers invoked\n`);
    return 1;
  }
  info(`dispatching hogs: ${kinds.map((n) => `${o.counts[n]} ${n}`).join(', ')}`);

  const parent = selfTask(ctx, k) ?? 1;
  const workers: Worker[] = [];
  const start = ctx.host.now();
  const alive = (w: Worker): boolean => {
    const t = k.sched.task(w.pid);
    return !!t && t.state !== 'Z' && t.state !== 'X';
  };
  let failed = 0;
  const spawnWorker = (kind: StressorName, instance: number): Worker | undefined => {
    const program: Step[] = kind === 'io' ? IO_LOOP : [{ op: 'run', ns: -1, user: kind === 'cpu' ? 0.998 : 0.62, cap: kind === 'cpu' && o.cpuLoad < 100 ? o.cpuLoad / 100 : undefined }];
    let pid: number;
    try {
      pid = k.sched.spawn(parent, {
        path: '/usr/bin/stress-ng',
        argv: [`stress-ng-${kind} [run]`],
        comm: `stress-ng-${kind}`,
        uid: ctx.host.uid,
        gid: ctx.host.gid,
        cwd: ctx.cwd,
        program,
        loop: kind === 'io',
      });
    } catch (e) {
      ctx.stderr.write(`stress-ng: fail:  [${me}] ${kind}: fork failed: ${e instanceof KernelError ? e.message : String(e)}\n`);
      failed++;
      return undefined;
    }
    const w: Worker = { pid, kind, instance, startNs: ctx.host.now(), ut: 0, st: 0, endNs: 0, prevUt: 0, prevSt: 0 };
    if (kind === 'vm') faultIn(k, pid, Math.ceil(perVm / PAGE));
    return w;
  };
  const perVm = Math.max(4 * PAGE, Math.floor(vmTotal / Math.max(1, o.counts.vm ?? 1)));
  try {
    for (const kind of kinds) {
      const n = o.counts[kind] ?? 0;
      for (let i = 0; i < n; i++) {
        const w = spawnWorker(kind, i);
        if (w) workers.push(w);
        ctx.tick();
      }
    }
    const deadline = start + timeout * 1e9;
    // wake once a second: a vm worker killed by the OOM killer is restarted (stress_oomable_child)
    while (ctx.host.now() < deadline) {
      yield* ctx.sleepUntil(Math.min(deadline, ctx.host.now() + WATCH_NS));
      ctx.tick();
      if (ctx.host.now() >= deadline) break;
      for (let i = 0; i < workers.length; i++) {
        const w = workers[i];
        if (w.kind !== 'vm' || alive(w)) continue;
        if (o.verbose) ctx.stdout.write(`stress-ng: debug: [${me}] stress-ng-vm: assuming killed by OOM killer, restarting again (instance ${w.instance})\n`);
        reap(k, parent, [w]);
        const nw = spawnWorker('vm', w.instance);
        if (nw) {
          nw.prevUt = w.prevUt + w.ut;
          nw.prevSt = w.prevSt + w.st;
          nw.startNs = w.startNs;
          workers[i] = nw;
        }
      }
      for (const w of workers) {
        if (!alive(w)) continue;
        const t = k.sched.taskTimes(w.pid);
        w.ut = t.ut;
        w.st = t.st;
      }
    }
    for (const w of workers) {
      if (alive(w)) {
        const t = k.sched.taskTimes(w.pid);
        w.ut = t.ut;
        w.st = t.st;
      }
      w.ut += w.prevUt;
      w.st += w.prevSt;
      w.endNs = ctx.host.now();
    }
  } finally {
    reap(k, parent, workers);
  }
  const end = ctx.host.now();
  const elapsed = (end - start) / 1e9;
  if (o.metricsBrief || o.metrics) {
    info(`${'stressor'.padEnd(13)} ${'bogo ops'.padStart(9)} ${'real time'.padStart(9)} ${'usr time'.padStart(9)} ${'sys time'.padStart(9)} ${'bogo ops/s'.padStart(12)} ${'bogo ops/s'.padStart(14)}`);
    info(`${''.padEnd(13)} ${''.padStart(9)} ${'(secs) '.padStart(9)} ${'(secs) '.padStart(9)} ${'(secs) '.padStart(9)} ${'(real time)'.padStart(12)} ${'(usr+sys time)'.padStart(14)}`);
    for (const kind of kinds) {
      const ws = workers.filter((w) => w.kind === kind);
      const usr = ws.reduce((a, w) => a + w.ut, 0) / 1e9;
      const sys = ws.reduce((a, w) => a + w.st, 0) / 1e9;
      const real = ws.length ? ws.reduce((a, w) => a + ((w.endNs || end) - w.startNs), 0) / ws.length / 1e9 : 0;
      const ops = kind === 'io' ? ws.reduce((a, w) => a + Math.floor(((w.endNs || end) - w.startNs) / 1_920_000), 0) : Math.floor((usr + sys) * BOGO_PER_CPU_S[kind]);
      const f2 = (v: number, w: number): string => v.toFixed(2).padStart(w);
      info(`${kind.padEnd(13)} ${String(ops).padStart(9)} ${f2(real, 9)} ${f2(usr, 9)} ${f2(sys, 9)} ${f2(real > 0 ? ops / real : 0, 12)} ${f2(usr + sys > 0 ? ops / (usr + sys) : 0, 14)}`);
    }
  }
  info(`successful run completed in ${elapsed.toFixed(2)}s${elapsed >= 60 ? ` (${durationStr(elapsed)})` : ''}`);
  return failed ? 2 : 0;
}

/** A --vm worker touches its mapping: the pages are faulted in (reclaim or OOM may follow). */
function faultIn(k: Kernel, pid: number, pages: number): void {
  try {
    k.mm.anonFault(pid, pages);
  } catch (e) {
    // overcommit refused the mmap: the worker keeps retrying with what it has
    if (!(e instanceof KernelError)) throw e;
  }
}

/** SIGKILL the workers still running and reap them (children of init are reaped by it). */
function reap(k: Kernel, parent: number, workers: Worker[]): void {
  for (const w of workers) {
    const t = k.sched.task(w.pid);
    if (!t) continue;
    if (t.state !== 'Z') {
      try {
        k.sched.kill(w.pid, 9);
      } catch {
        // already gone
      }
    }
    if (parent !== 1) {
      try {
        k.sched.wait(parent, w.pid);
      } catch {
        // not our child any more (reparented and reaped)
      }
    }
  }
}

export const STRESS_TOOLS: ToolSpec[] = [{ name: 'stress-ng', run: stressNg }];
