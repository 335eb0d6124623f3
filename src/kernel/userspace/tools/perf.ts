/**
 * perf (6.1, Debian 12's linux-perf): stat, record/report, list and trace,
 * on a simulated PMU. Everything is derived from what the machine did while
 * the command ran: the tasks it forked (scheduler accounting: CPU time,
 * context switches, page faults) and its system calls (the syscall layer's
 * records, expanded into kernel call paths for the samples).
 */
import type { Kernel } from '../../kernel';
import { type CallNode, UNIT_NS, syscallTree } from '../../trace/callpath';
import type { SyscallRecord } from '../../trace/syscall-record';
import type { Co, ToolCtx, ToolSpec } from '../types';
import { errText, write } from './common';
import { kernelOf } from './common';

/** Simulated core clock (GHz) and the PMU's per-workload ratios. */
const GHZ = 2.4;
const PERF_DATA_MAGIC = 'Kernelab perf.data (PERFILE2)\n';
/** kernel and user CPU time of a short process beyond its system calls (faults, exec, exit; ld.so, libc init) */
const PROC_KERNEL_NS = 140_000;
const PROC_USER_NS = 90_000;

/** Where that per-process kernel time goes: symbol, share, call chain (innermost first, after the symbol). */
const PROC_KERNEL_SYMS: [string, number, string[]][] = [
  ['clear_page_erms', 0.2, ['__handle_mm_fault', 'handle_mm_fault', 'exc_page_fault', 'asm_exc_page_fault']],
  ['next_uptodate_page', 0.15, ['filemap_map_pages', '__handle_mm_fault', 'handle_mm_fault', 'exc_page_fault', 'asm_exc_page_fault']],
  ['handle_mm_fault', 0.1, ['exc_page_fault', 'asm_exc_page_fault']],
  ['copy_user_enhanced_fast_string', 0.1, ['copy_strings.isra.0', 'do_execveat_common.isra.0', '__x64_sys_execve', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']],
  ['unmap_page_range', 0.15, ['unmap_vmas', 'exit_mmap', 'mmput', 'do_exit', 'do_group_exit', '__x64_sys_exit_group', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']],
  ['release_pages', 0.1, ['tlb_batch_pages_flush', 'tlb_finish_mmu', 'exit_mmap', 'mmput', 'do_exit', 'do_group_exit', '__x64_sys_exit_group', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']],
  ['free_pgtables', 0.05, ['exit_mmap', 'mmput', 'do_exit', 'do_group_exit', '__x64_sys_exit_group', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe']],
  ['native_irq_return_iret', 0.15, []],
];

interface Observed {
  pids: Set<number>;
  comms: Map<number, string>;
  recs: { pid: number; rec: SyscallRecord }[];
  /** per pid: [cpu ns, user ns, voluntary+involuntary switches, page faults, cpu-migrations] */
  times: Map<number, { sum: number; ut: number; st: number; cs: number; pf: number }>;
  startNs: number;
  endNs: number;
}

/** Watches the command's process tree (forks from `root`) while `body` runs. */
function* observe(k: Kernel, root: number, opts: { all?: boolean; pid?: number }, body: () => Co<number>): Co<{ status: number; obs: Observed }> {
  const obs: Observed = { pids: new Set(), comms: new Map(), recs: [], times: new Map(), startNs: k.now, endNs: k.now };
  const tracked = (pid: number): boolean => (opts.all ? pid !== root : opts.pid !== undefined ? pid === opts.pid : obs.pids.has(pid));
  const parents = new Set<number>([root]);
  if (opts.pid !== undefined) obs.pids.add(opts.pid);
  // an existing task is counted from now: its times at the start are subtracted at the end
  const base = new Map<number, { sum: number; ut: number; st: number; cs: number; pf: number }>();
  const grab = (pid: number): void => {
    const t = k.sched.task(pid);
    if (t) obs.comms.set(pid, t.comm);
    try {
      const tt = k.sched.taskTimes(pid);
      const info = k.sched.taskInfo(pid) as { minflt?: number; majflt?: number } | undefined;
      obs.times.set(pid, { sum: tt.sum, ut: tt.ut, st: tt.st, cs: tt.nv + tt.niv, pf: (info?.minflt ?? 0) + (info?.majflt ?? 0) });
    } catch {
      // gone already
    }
  };
  if (opts.pid !== undefined) {
    grab(opts.pid);
    const b = obs.times.get(opts.pid);
    if (b) base.set(opts.pid, b);
    obs.times.delete(opts.pid);
  }
  const offs = [
    k.sched.events.on('fork', (e) => {
      if (parents.has(e.parent) || obs.pids.has(e.parent)) {
        obs.pids.add(e.child);
        parents.add(e.child);
      }
    }),
    k.sched.events.on('exec', (e) => {
      if (tracked(e.pid)) grab(e.pid);
    }),
    k.sched.events.on('exit', (e) => {
      if (tracked(e.pid)) grab(e.pid);
    }),
    k.trace.onSyscall((pid, rec) => {
      if (!tracked(pid)) return;
      obs.recs.push({ pid, rec });
      if (!obs.comms.has(pid)) {
        const t = k.sched.task(pid);
        if (t) obs.comms.set(pid, t.comm);
      }
    }),
  ];
  let status: number;
  try {
    status = yield* body();
  } finally {
    offs.forEach((f) => f());
  }
  for (const p of obs.pids) if (!obs.times.has(p)) grab(p);
  for (const [p, b] of base) {
    const t = obs.times.get(p);
    if (t) obs.times.set(p, { sum: t.sum - b.sum, ut: t.ut - b.ut, st: t.st - b.st, cs: t.cs - b.cs, pf: t.pf - b.pf });
  }
  obs.endNs = Math.max(k.now, ...obs.recs.map((r) => r.rec.startNs + r.rec.durNs), obs.startNs);
  return { status, obs };
}

/** CPU ns a syscall spent on the CPU (its sleeping part excluded). */
function syscallCpuNs(rec: SyscallRecord): number {
  const t = syscallTree(rec.name, rec.fstype);
  return t.sleeps ? Math.min(rec.durNs, t.total * UNIT_NS) : rec.durNs;
}

function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

interface Counters {
  taskClockNs: number;
  userNs: number;
  sysNs: number;
  cs: number;
  migrations: number;
  faults: number;
  cycles: number;
  instructions: number;
  branches: number;
  branchMisses: number;
  elapsedNs: number;
  /** system-wide (-a): the clock counter is cpu-clock */
  system?: boolean;
}

function counters(obs: Observed, label: string, allCpus = 0): Counters {
  let sysNs = 0;
  let sleeps = 0;
  for (const { rec } of obs.recs) {
    sysNs += syscallCpuNs(rec);
    if (syscallTree(rec.name, rec.fstype).sleeps && rec.durNs > syscallCpuNs(rec)) sleeps++;
  }
  let sum = 0;
  let ut = 0;
  let cs = 0;
  let pf = 0;
  for (const t of obs.times.values()) {
    sum += t.sum;
    ut += t.ut;
    cs += t.cs;
    pf += t.pf;
  }
  const nproc = Math.max(obs.pids.size || obs.times.size, 1);
  // page faults, exec and exit work of each process (outside the syscall records' call paths)
  sysNs += nproc * PROC_KERNEL_NS;
  // the exec'd image's start-up: dynamic loader relocations and libc init
  const userNs = Math.max(ut, Math.round(sysNs * 0.3) + nproc * PROC_USER_NS);
  // system wide: every CPU's clock over the run (idle included)
  const taskClockNs = allCpus ? Math.max(1, obs.endNs - obs.startNs) * allCpus : Math.max(sum, sysNs + userNs);
  const h = hash(label);
  const cycles = Math.round((taskClockNs * GHZ * (0.92 + (h % 60) / 1000)) / 1);
  const ipc = 0.78 + ((h >>> 8) % 40) / 100;
  const instructions = Math.round(cycles * ipc);
  const branches = Math.round(instructions * (0.19 + ((h >>> 16) % 30) / 1000));
  const branchMisses = Math.round(branches * (0.018 + ((h >>> 20) % 20) / 1000));
  const faults = Math.max(pf, nproc * 64 + obs.recs.filter((r) => r.rec.name === 'mmap' || r.rec.name === 'execve').length * 9);
  return {
    taskClockNs,
    userNs,
    sysNs: taskClockNs - userNs,
    cs: Math.max(cs, sleeps),
    migrations: 0,
    faults,
    cycles,
    instructions,
    branches,
    branchMisses,
    elapsedNs: allCpus ? Math.max(1, obs.endNs - obs.startNs) : Math.max(obs.endNs - obs.startNs, taskClockNs + 150_000),
  };
}

/** "128.846 K/sec" style rates. */
function rate(n: number, ns: number): string {
  const per = ns > 0 ? (n * 1e9) / ns : 0;
  if (per >= 1e9) return `${(per / 1e9).toFixed(3).padStart(8)} G/sec`;
  if (per >= 1e6) return `${(per / 1e6).toFixed(3).padStart(8)} M/sec`;
  if (per >= 1e3) return `${(per / 1e3).toFixed(3).padStart(8)} K/sec`;
  return `${per.toFixed(3).padStart(8)} /sec`;
}

const STAT_EVENTS = ['task-clock', 'context-switches', 'cpu-migrations', 'page-faults', 'cycles', 'instructions', 'branches', 'branch-misses'];
const ALIASES: Record<string, string> = { 'cpu-clock': 'task-clock', cs: 'context-switches', migrations: 'cpu-migrations', faults: 'page-faults', 'cpu-cycles': 'cycles', 'branch-instructions': 'branches', 'minor-faults': 'page-faults' };

/** The lines of perf stat (perf 6.1 layout), printed on stderr like perf does. */
export function renderStat(target: string, c: Counters, events: string[]): string {
  const line = (value: string, name: string, metric: string): string => `${value} ${name.padEnd(33)}${metric ? `# ${metric}` : ''}`.trimEnd() + '\n';
  let out = `\n Performance counter stats for ${target}:\n\n`;
  const secs = c.taskClockNs / 1e9;
  for (const ev of events) {
    switch (ev) {
      case 'task-clock':
        out += line(`${(c.taskClockNs / 1e6).toFixed(2).padStart(18)} msec`, c.system ? 'cpu-clock' : 'task-clock', `${(c.taskClockNs / c.elapsedNs).toFixed(3).padStart(8)} CPUs utilized`);
        break;
      case 'context-switches':
        out += line(`${String(c.cs).padStart(18)}     `, 'context-switches', rate(c.cs, c.taskClockNs));
        break;
      case 'cpu-migrations':
        out += line(`${String(c.migrations).padStart(18)}     `, 'cpu-migrations', rate(c.migrations, c.taskClockNs));
        break;
      case 'page-faults':
        out += line(`${String(c.faults).padStart(18)}     `, 'page-faults', rate(c.faults, c.taskClockNs));
        break;
      case 'cycles':
        out += line(`${String(c.cycles).padStart(18)}     `, 'cycles', `${(secs ? c.cycles / secs / 1e9 : 0).toFixed(3).padStart(8)} GHz`);
        break;
      case 'instructions':
        out += line(`${String(c.instructions).padStart(18)}     `, 'instructions', `${(c.cycles ? c.instructions / c.cycles : 0).toFixed(2).padStart(7)}  insn per cycle`);
        break;
      case 'branches':
        out += line(`${String(c.branches).padStart(18)}     `, 'branches', rate(c.branches, c.taskClockNs));
        break;
      case 'branch-misses':
        out += line(`${String(c.branchMisses).padStart(18)}     `, 'branch-misses', `${(c.branches ? (c.branchMisses * 100) / c.branches : 0).toFixed(2).padStart(7)}% of all branches`);
        break;
      default:
        out += `${'<not supported>'.padStart(18)}      ${ev}\n`;
    }
  }
  out += `\n${(c.elapsedNs / 1e9).toFixed(9).padStart(18)} seconds time elapsed\n\n`;
  out += `${(c.userNs / 1e9).toFixed(9).padStart(18)} seconds user\n${(c.sysNs / 1e9).toFixed(9).padStart(18)} seconds sys\n\n\n`;
  return out;
}

/** Splits `perf <sub> [opts] [--] cmd...`: options with a value, flags, the command. */
function parse(args: string[], withValue: string[]): { opts: Map<string, string[]>; cmd: string[]; bad?: string } {
  const opts = new Map<string, string[]>();
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    const eq = a.indexOf('=');
    const key = eq > 0 ? a.slice(0, eq) : a;
    if (withValue.includes(key)) {
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) return { opts, cmd: [], bad: key };
      opts.set(key, [...(opts.get(key) ?? []), v]);
    } else if (/^-[a-zA-Z]{2,}$/.test(a)) for (const ch of a.slice(1)) opts.set(`-${ch}`, ['']);
    else opts.set(key, ['']);
  }
  return { opts, cmd: args.slice(i) };
}

function* stat(ctx: ToolCtx, k: Kernel, args: string[]): Co<number> {
  const p = parse(args, ['-e', '--event', '-p', '--pid', '-x', '-r', '--repeat', '-o']);
  if (p.bad) {
    ctx.stderr.write(`  Error: switch \`${p.bad.replace(/^-+/, '')}' requires a value\n`);
    return 129;
  }
  const evs = [...(p.opts.get('-e') ?? []), ...(p.opts.get('--event') ?? [])].flatMap((e) => e.split(','));
  const events = evs.length ? evs.map((e) => ALIASES[e.replace(/:u$|:k$/, '')] ?? e.replace(/:u$|:k$/, '')) : STAT_EVENTS;
  const unknown = events.find((e) => !STAT_EVENTS.includes(e));
  if (unknown) {
    ctx.stderr.write(`event syntax error: '${unknown}'\n                     \\___ parser error\nRun 'perf list' for a list of valid events\n\n Usage: perf stat [<options>] [<command>]\n\n    -e, --event <event>   event selector. use 'perf list' to list available events\n`);
    return 129;
  }
  const all = p.opts.has('-a') || p.opts.has('--all-cpus');
  const pidOpt = p.opts.get('-p')?.[0] ?? p.opts.get('--pid')?.[0];
  if (!p.cmd.length && pidOpt === undefined && !all) {
    ctx.stderr.write("\n Usage: perf stat [<options>] [<command>]\n\n    -e, --event <event>   event selector. use 'perf list' to list available events\n");
    return 129;
  }
  if (pidOpt !== undefined && !k.sched.task(Number(pidOpt))) {
    ctx.stderr.write(`Error:\nThe sys_perf_event_open() syscall returned with 3 (No such process) for event (task-clock).\n`);
    return 1;
  }
  const label = all ? 'system wide' : p.cmd.join(' ') || `pid ${pidOpt}`;
  const { status, obs } = yield* observe(k, ctx.pid, { all, pid: pidOpt !== undefined ? Number(pidOpt) : undefined }, function* () {
    if (p.cmd.length) return yield* ctx.run(p.cmd);
    return 0;
  });
  const c = counters(obs, label, all ? k.config.cpus : 0);
  if (all) c.system = true;
  const head = pidOpt !== undefined ? `process id '${pidOpt}'` : `'${label}'`;
  ctx.stderr.write(renderStat(head, c, events));
  return status;
}

// ------------------------------------------------------------------ record / report

interface Sample {
  comm: string;
  pid: number;
  dso: string;
  sym: string;
  kernel: boolean;
  /** callchain, innermost first */
  chain: string[];
  ns: number;
}

/** Self time of each function of a call tree for a call of `durNs` CPU ns. */
function selfTimes(root: CallNode, cpuNs: number, out: (fn: string, ns: number, chain: string[]) => void): void {
  const unit = root.total ? cpuNs / root.total : 0;
  const walk = (n: CallNode, chain: string[]): void => {
    const ch = [n.fn, ...chain];
    if (n.self) out(n.fn, n.self * unit, ch);
    for (const c of n.kids) walk(c, ch);
  };
  walk(root, []);
}

const USER_SYMS: [string, string, number][] = [
  ['ld-linux-x86-64.so.2', '_dl_relocate_object', 0.34],
  ['ld-linux-x86-64.so.2', 'do_lookup_x', 0.18],
  ['libc.so.6', '__memmove_avx_unaligned_erms', 0.14],
  ['libc.so.6', '_IO_file_xsputn', 0.08],
  ['', 'main', 0.26],
];

function profile(obs: Observed, c: Counters): Sample[] {
  const agg = new Map<string, Sample>();
  const add = (s: Omit<Sample, 'ns'>, ns: number): void => {
    const key = `${s.pid}|${s.dso}|${s.sym}|${s.chain.join(',')}`;
    const cur = agg.get(key);
    if (cur) cur.ns += ns;
    else agg.set(key, { ...s, ns });
  };
  for (const { pid, rec } of obs.recs) {
    const comm = obs.comms.get(pid) ?? String(pid);
    selfTimes(syscallTree(rec.name, rec.fstype), syscallCpuNs(rec), (fn, ns, chain) => add({ comm, pid, dso: '[kernel.kallsyms]', sym: fn, kernel: true, chain }, ns));
  }
  const pids = [...obs.pids].filter((p) => obs.comms.has(p));
  const per = pids.length ? c.userNs / pids.length : 0;
  for (const pid of pids) {
    const comm = obs.comms.get(pid) ?? String(pid);
    for (const [sym, f, chain] of PROC_KERNEL_SYMS) add({ comm, pid, dso: '[kernel.kallsyms]', sym, kernel: true, chain: [sym, ...chain] }, PROC_KERNEL_NS * f);
    for (const [dso, sym, f] of USER_SYMS) add({ comm, pid, dso: dso || comm, sym, kernel: false, chain: [sym, '__libc_start_call_main'] }, per * f);
  }
  return [...agg.values()];
}

/** Samples at `freq` Hz over the profile: largest-remainder apportioning (deterministic). */
function takeSamples(prof: Sample[], freq: number): { s: Sample; n: number }[] {
  const total = prof.reduce((a, s) => a + s.ns, 0);
  const n = Math.max(1, Math.round((total * freq) / 1e9));
  const exact = prof.map((s) => (total ? (s.ns * n) / total : 0));
  const got = exact.map(Math.floor);
  let left = n - got.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => [e - Math.floor(e), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) {
    if (left <= 0) break;
    got[i]++;
    left--;
  }
  return prof.map((s, i) => ({ s, n: got[i] })).filter((x) => x.n > 0);
}

interface PerfData {
  command: string;
  event: string;
  freq: number;
  callgraph: boolean;
  samples: { comm: string; pid: number; dso: string; sym: string; kernel: boolean; chain: string[]; n: number }[];
}

function* record(ctx: ToolCtx, k: Kernel, args: string[]): Co<number> {
  const p = parse(args, ['-F', '--freq', '-o', '--output', '-e', '--event', '-p', '--pid', '-c']);
  if (p.bad) {
    ctx.stderr.write(`  Error: switch \`${p.bad.replace(/^-+/, '')}' requires a value\n`);
    return 129;
  }
  const freq = Number(p.opts.get('-F')?.[0] ?? p.opts.get('--freq')?.[0] ?? 4000);
  if (!Number.isFinite(freq) || freq <= 0) {
    ctx.stderr.write('invalid frequency\n');
    return 129;
  }
  const out = p.opts.get('-o')?.[0] ?? p.opts.get('--output')?.[0] ?? 'perf.data';
  const all = p.opts.has('-a');
  const g = p.opts.has('-g') || p.opts.has('--call-graph');
  if (!p.cmd.length) {
    ctx.stderr.write('\n Usage: perf record [<options>] [<command>]\n    or: perf record [<options>] -- <command> [<options>]\n');
    return 129;
  }
  const { status, obs } = yield* observe(k, ctx.pid, { all }, function* () {
    return yield* ctx.run(p.cmd);
  });
  const c = counters(obs, p.cmd.join(' '));
  const samples = takeSamples(profile(obs, c), freq).map(({ s, n }) => ({ comm: s.comm, pid: s.pid, dso: s.dso, sym: s.sym, kernel: s.kernel, chain: s.chain, n }));
  const data: PerfData = { command: p.cmd.join(' '), event: 'cpu-clock:pppH', freq, callgraph: g, samples };
  const text = PERF_DATA_MAGIC + JSON.stringify(data) + '\n';
  try {
    ctx.host.writeFile(ctx.pid, out, ctx.cwd, text, { create: true });
  } catch (e) {
    ctx.stderr.write(`failed to open ${out}: ${errText(e)}\n`);
    return 255;
  }
  const nsamp = samples.reduce((a, s) => a + s.n, 0);
  ctx.stderr.write(`[ perf record: Woken up 1 times to write data ]\n[ perf record: Captured and wrote ${(text.length / 1048576).toFixed(3)} MB ${out} (${nsamp} samples) ]\n`);
  return status;
}

/** perf report --stdio of a perf.data. */
export function renderPerfReport(d: PerfData, fileBytes: number): string {
  const total = d.samples.reduce((a, s) => a + s.n, 0);
  const period = Math.round(1e9 / d.freq);
  const rows = new Map<string, { comm: string; dso: string; sym: string; kernel: boolean; n: number; chains: Map<string, number> }>();
  for (const s of d.samples) {
    const key = `${s.comm}|${s.dso}|${s.sym}`;
    let r = rows.get(key);
    if (!r) rows.set(key, (r = { comm: s.comm, dso: s.dso, sym: s.sym, kernel: s.kernel, n: 0, chains: new Map() }));
    r.n += s.n;
    const ck = s.chain.join('\n');
    r.chains.set(ck, (r.chains.get(ck) ?? 0) + s.n);
  }
  const list = [...rows.values()].sort((a, b) => b.n - a.n || (a.sym < b.sym ? -1 : 1));
  const cw = Math.max(7, ...list.map((r) => r.comm.length));
  const dw = Math.max(13, ...list.map((r) => r.dso.length));
  let out = '# To display the perf.data header info, please use --header/--header-only options.\n#\n#\n';
  out += `# Total Lost Samples: 0\n#\n# Samples: ${total}  of event '${d.event}'\n# Event count (approx.): ${total * period}\n#\n`;
  const pct = (n: number): string => `${((n * 100) / Math.max(1, total)).toFixed(2)}%`.padStart(7);
  if (d.callgraph) {
    out += `# Children      Self  ${'Command'.padEnd(cw)}  ${'Shared Object'.padEnd(dw)}  Symbol\n`;
    out += `# ........  ........  ${'.'.repeat(cw)}  ${'.'.repeat(dw)}  ${'.'.repeat(30)}\n#\n`;
  } else {
    out += `# Overhead  ${'Command'.padEnd(cw)}  ${'Shared Object'.padEnd(dw)}  Symbol\n`;
    out += `# ........  ${'.'.repeat(cw)}  ${'.'.repeat(dw)}  ${'.'.repeat(30)}\n#\n`;
  }
  for (const r of list) {
    const sym = `[${r.kernel ? 'k' : '.'}] ${r.sym}`;
    if (d.callgraph) {
      out += `   ${pct(r.n)}   ${pct(r.n)}  ${r.comm.padEnd(cw)}  ${r.dso.padEnd(dw)}  ${sym}\n`;
      for (const [chain, n] of [...r.chains].sort((a, b) => b[1] - a[1])) {
        const fns = chain.split('\n');
        out += `            |\n            ---${fns[0]}\n`;
        for (const f of fns.slice(1)) out += `               ${f}\n`;
        if (r.chains.size > 1) out += `               (${pct(n).trim()})\n`;
      }
      out += '\n';
    } else out += `   ${pct(r.n)}  ${r.comm.padEnd(cw)}  ${r.dso.padEnd(dw)}  ${sym}\n`;
  }
  out += `\n\n#\n# (Tip: For a higher level overview, try: perf report --sort comm,dso)\n#\n`;
  void fileBytes;
  return out;
}

function report(ctx: ToolCtx, args: string[]): number {
  const p = parse(args, ['-i', '--input', '--sort', '-s']);
  const file = p.opts.get('-i')?.[0] ?? p.opts.get('--input')?.[0] ?? 'perf.data';
  let text: string;
  try {
    text = ctx.host.readFile(ctx.pid, file, ctx.cwd);
  } catch {
    ctx.stderr.write(`failed to open ${file}: No such file or directory\n`);
    return 255;
  }
  if (!text.startsWith(PERF_DATA_MAGIC)) {
    ctx.stderr.write(`file ${file} not owned by current user or root\n`);
    return 255;
  }
  const d = JSON.parse(text.slice(PERF_DATA_MAGIC.length)) as PerfData;
  if (p.opts.has('--no-children')) d.callgraph = false;
  write(ctx, renderPerfReport(d, text.length));
  return 0;
}

const LIST = `
List of pre-defined events (to be used in -e or -M):

  branch-instructions OR branches                    [Hardware event]
  branch-misses                                      [Hardware event]
  bus-cycles                                         [Hardware event]
  cache-misses                                       [Hardware event]
  cache-references                                   [Hardware event]
  cpu-cycles OR cycles                               [Hardware event]
  instructions                                       [Hardware event]
  ref-cycles                                         [Hardware event]
  alignment-faults                                   [Software event]
  bpf-output                                         [Software event]
  cgroup-switches                                    [Software event]
  context-switches OR cs                             [Software event]
  cpu-clock                                          [Software event]
  cpu-migrations OR migrations                       [Software event]
  dummy                                              [Software event]
  emulation-faults                                   [Software event]
  major-faults                                       [Software event]
  minor-faults                                       [Software event]
  page-faults OR faults                              [Software event]
  task-clock                                         [Software event]
`;

function list(ctx: ToolCtx, k: Kernel, args: string[]): number {
  const filter = args.find((a) => !a.startsWith('-'));
  let out = LIST;
  if (!filter || filter === 'tracepoint' || filter.includes(':')) {
    const tps = k.trace
      .allEvents()
      .map((e) => `${e.system}:${e.name}`)
      .filter((n) => !filter || filter === 'tracepoint' || n.startsWith(filter.replace(/\*$/, '')));
    out += `\n${tps.map((t) => `  ${t.padEnd(50)} [Tracepoint event]\n`).join('')}`;
  }
  if (filter === 'hw' || filter === 'hardware') out = out.split('\n').filter((l) => !l.includes('[Software') && !l.includes('[Tracepoint')).join('\n');
  if (filter === 'sw' || filter === 'software') out = out.split('\n').filter((l) => !l.includes('[Hardware') && !l.includes('[Tracepoint')).join('\n');
  write(ctx, out.endsWith('\n') ? out : out + '\n');
  return 0;
}

function* trace(ctx: ToolCtx, k: Kernel, args: string[]): Co<number> {
  const p = parse(args, ['-p', '-e', '-o']);
  const summaryOnly = p.opts.has('-s') || p.opts.has('--summary');
  const withSummary = summaryOnly || p.opts.has('-S');
  if (!p.cmd.length) {
    ctx.stderr.write('\n Usage: perf trace [<options>] [<command>]\n    or: perf trace [<options>] -- <command> [<options>]\n');
    return 129;
  }
  const { status, obs } = yield* observe(k, ctx.pid, {}, function* () {
    return yield* ctx.run(p.cmd);
  });
  let out = '';
  if (!summaryOnly) {
    for (const { pid, rec } of obs.recs) {
      const rel = (rec.startNs - obs.startNs) / 1e6;
      const args = rec.path !== undefined ? `filename: "${rec.path}"` : rec.args.map((a, i) => `arg${i}: ${a}`).join(', ');
      const ret = rec.ret < 0 ? `-1 ${ERRNO_NAMES[-rec.ret] ?? `E${-rec.ret}`}` : String(rec.ret);
      out += `${rel.toFixed(3).padStart(10)} (${(rec.durNs / 1e6).toFixed(3).padStart(6)} ms): ${obs.comms.get(pid) ?? pid}/${pid} ${rec.name}(${args}) = ${ret}\n`;
    }
  }
  if (withSummary) {
    out += '\n Summary of events:\n\n';
    const byPid = new Map<number, SyscallRecord[]>();
    for (const { pid, rec } of obs.recs) byPid.set(pid, [...(byPid.get(pid) ?? []), rec]);
    const total = obs.recs.length * 2;
    for (const [pid, recs] of byPid) {
      out += ` ${obs.comms.get(pid) ?? pid} (${pid}), ${recs.length * 2} events, ${((recs.length * 200) / Math.max(1, total)).toFixed(1)}%\n\n`;
      out += '   syscall            calls  errors  total       min       avg       max       stddev\n';
      out += '                                     (msec)    (msec)    (msec)    (msec)        (%)\n';
      out += '   --------------- --------  ------ -------- --------- --------- ---------     ------\n';
      const groups = new Map<string, SyscallRecord[]>();
      for (const r of recs) groups.set(r.name, [...(groups.get(r.name) ?? []), r]);
      const rows = [...groups].map(([name, rs]) => {
        const d = rs.map((r) => r.durNs / 1e6);
        const sum = d.reduce((a, b) => a + b, 0);
        const avg = sum / d.length;
        const sd = d.length > 1 ? Math.sqrt(d.reduce((a, b) => a + (b - avg) ** 2, 0) / (d.length - 1)) / Math.sqrt(d.length) : 0;
        return { name, calls: rs.length, errors: rs.filter((r) => r.ret < 0).length, sum, min: Math.min(...d), avg, max: Math.max(...d), pct: avg ? (sd * 100) / avg : 0 };
      });
      rows.sort((a, b) => b.sum - a.sum);
      for (const r of rows) {
        out += `   ${r.name.padEnd(15)} ${String(r.calls).padStart(8)} ${String(r.errors).padStart(7)} ${r.sum.toFixed(3).padStart(8)} ${r.min.toFixed(3).padStart(9)} ${r.avg.toFixed(3).padStart(9)} ${r.max.toFixed(3).padStart(9)} ${r.pct.toFixed(2).padStart(9)}%\n`;
      }
      out += '\n';
    }
    out += '\n';
  }
  ctx.stderr.write(out);
  return status;
}

const ERRNO_NAMES: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 5: 'EIO', 9: 'EBADF', 10: 'ECHILD', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 17: 'EEXIST', 20: 'ENOTDIR', 21: 'EISDIR', 22: 'EINVAL', 25: 'ENOTTY', 28: 'ENOSPC', 32: 'EPIPE' };

const USAGE = `
 usage: perf [--version] [--help] [OPTIONS] COMMAND [ARGS]

 The most commonly used perf commands are:
   list            List all symbolic event types
   record          Run a command and record its profile into perf.data
   report          Read perf.data (created by perf record) and display the profile
   stat            Run a command and gather performance counter statistics
   trace           strace inspired tool

 See 'perf help COMMAND' for more information on a specific command.

`;

// ------------------------------------------------------------------ perf top

/** One perf top window: where the machine's CPUs spent their time, by symbol. */
export interface TopSnapshot {
  startNs: number;
  endNs: number;
  /** samples in the window (at 4000 Hz of the CPU time the tasks used) */
  samples: number;
  irqsPerSec: number;
  kernelPct: number;
  cpus: number;
  rows: { overhead: number; dso: string; sym: string; kernel: boolean }[];
}

type Times = { sum: number; ut: number; st: number; cs: number; pf: number };

/**
 * Watches every task of the machine and cuts the observation into windows
 * (perf top -a): each take() returns the window since the previous one.
 */
export function topCollector(k: Kernel, freq = 4000): { take(): TopSnapshot; close(): void } {
  const read = (pid: number): Times | undefined => {
    try {
      const tt = k.sched.taskTimes(pid);
      const info = k.sched.taskInfo(pid) as { minflt?: number; majflt?: number } | undefined;
      return { sum: tt.sum, ut: tt.ut, st: tt.st, cs: tt.nv + tt.niv, pf: (info?.minflt ?? 0) + (info?.majflt ?? 0) };
    } catch {
      return undefined;
    }
  };
  let base = new Map<number, Times>();
  let recs: { pid: number; rec: SyscallRecord }[] = [];
  let gone = new Map<number, { comm: string; times: Times }>();
  let startNs = k.now;
  const snapBase = (): void => {
    base = new Map();
    for (const t of k.sched.tasks()) {
      if (t.pid <= 0) continue;
      const x = read(t.pid);
      if (x) base.set(t.pid, x);
    }
  };
  snapBase();
  const offs = [
    k.trace.onSyscall((pid, rec) => {
      if (recs.length < 100_000) recs.push({ pid, rec });
    }),
    k.sched.events.on('exit', (e) => {
      const t = k.sched.task(e.pid);
      const x = read(e.pid);
      if (t && x) gone.set(e.pid, { comm: t.comm, times: x });
    }),
  ];
  return {
    take(): TopSnapshot {
      const obs: Observed = { pids: new Set(), comms: new Map(), recs, times: new Map(), startNs, endNs: k.now };
      const add = (pid: number, comm: string, x: Times): void => {
        const b = base.get(pid) ?? { sum: 0, ut: 0, st: 0, cs: 0, pf: 0 };
        const d = { sum: x.sum - b.sum, ut: x.ut - b.ut, st: x.st - b.st, cs: x.cs - b.cs, pf: x.pf - b.pf };
        if (d.sum <= 0 && !recs.some((r) => r.pid === pid)) return;
        obs.pids.add(pid);
        obs.comms.set(pid, comm);
        obs.times.set(pid, d);
      };
      for (const t of k.sched.tasks()) {
        if (t.pid <= 0 || t.kthread) continue;
        const x = read(t.pid);
        if (x) add(t.pid, t.comm, x);
      }
      for (const [pid, g] of gone) add(pid, g.comm, g.times);
      const taken = obs.pids.size ? takeSamples(topProfile(obs), freq) : [];
      const total = taken.reduce((a, x) => a + x.n, 0);
      const bySym = new Map<string, { dso: string; sym: string; kernel: boolean; n: number }>();
      for (const { s, n } of taken) {
        const dso = s.kernel ? '[kernel]' : s.dso;
        // the program's own symbols are told apart by binary, library ones merge across tasks
        const key = `${dso}|${s.sym}`;
        const cur = bySym.get(key);
        if (cur) cur.n += n;
        else bySym.set(key, { dso, sym: s.sym, kernel: s.kernel, n });
      }
      const rows = [...bySym.values()]
        .sort((a, b) => b.n - a.n || (a.sym < b.sym ? -1 : 1))
        .map((r) => ({ overhead: total ? (100 * r.n) / total : 0, dso: r.dso, sym: r.sym, kernel: r.kernel }));
      const kernelN = [...bySym.values()].filter((r) => r.kernel).reduce((a, r) => a + r.n, 0);
      const span = Math.max(1, k.now - startNs);
      const snap: TopSnapshot = {
        startNs,
        endNs: k.now,
        samples: total,
        irqsPerSec: Math.round((total * 1e9) / span),
        kernelPct: total ? (100 * kernelN) / total : 0,
        cpus: k.config.cpus,
        rows,
      };
      startNs = k.now;
      recs = [];
      gone = new Map();
      obs.recs = [];
      snapBase();
      return snap;
    },
    close(): void {
      offs.forEach((f) => f());
    },
  };
}

/** A long-running task's user time: mostly its own code, some libc. */
const TOP_USER_SYMS: [string | null, string, number][] = [
  [null, 'main', 0.8],
  ['libc.so.6', '__memmove_avx_unaligned_erms', 0.12],
  ['libc.so.6', '_IO_file_xsputn', 0.08],
];

/**
 * perf top's profile: each task's own user and system time over the window.
 * Syscall time goes to the call paths' functions; the rest of its system
 * time to the page-fault and interrupt paths; user time to its own binary.
 */
function topProfile(obs: Observed): Sample[] {
  const agg = new Map<string, Sample>();
  const add = (s: Omit<Sample, 'ns'>, ns: number): void => {
    if (ns <= 0) return;
    const key = `${s.pid}|${s.dso}|${s.sym}`;
    const cur = agg.get(key);
    if (cur) cur.ns += ns;
    else agg.set(key, { ...s, ns });
  };
  const sysByPid = new Map<number, number>();
  for (const { pid, rec } of obs.recs) {
    const comm = obs.comms.get(pid);
    if (comm === undefined) continue;
    const ns = syscallCpuNs(rec);
    sysByPid.set(pid, (sysByPid.get(pid) ?? 0) + ns);
    selfTimes(syscallTree(rec.name, rec.fstype), ns, (fn, n, chain) => add({ comm, pid, dso: '[kernel.kallsyms]', sym: fn, kernel: true, chain }, n));
  }
  for (const [pid, t] of obs.times) {
    const comm = obs.comms.get(pid) ?? String(pid);
    const rest = Math.max(0, t.st - (sysByPid.get(pid) ?? 0));
    for (const [sym, f, chain] of PROC_KERNEL_SYMS) add({ comm, pid, dso: '[kernel.kallsyms]', sym, kernel: true, chain: [sym, ...chain] }, rest * f);
    for (const [dso, sym, f] of TOP_USER_SYMS) add({ comm, pid, dso: dso ?? comm, sym, kernel: false, chain: [sym] }, t.ut * f);
  }
  return [...agg.values()];
}

/** perf top --stdio's screen for one window. */
export function renderTop(s: TopSnapshot, maxRows = 40): string {
  const head = `   PerfTop:${String(s.irqsPerSec).padStart(8)} irqs/sec  kernel:${s.kernelPct.toFixed(1).padStart(4)}%  exact:  0.0% lost: 0/0 drop: 0/0 [4000Hz cpu-clock:pppH],  (all, ${s.cpus} CPU${s.cpus > 1 ? 's' : ''})`;
  const rule = '-'.repeat(Math.max(head.length, 80));
  const rows = s.rows.slice(0, maxRows);
  const w = Math.max(8, ...rows.map((r) => r.dso.length));
  const body = rows.map((r) => `  ${r.overhead.toFixed(2).padStart(6)}%  ${r.dso.padEnd(w)}  [${r.kernel ? 'k' : '.'}] ${r.sym}`).join('\n');
  return `${head}\n${rule}\n\n${body}${body ? '\n' : ''}\n`;
}

/** perf top --stdio [-d secs] [-F freq]: a window every `d` seconds of machine time until interrupted. */
function* top(ctx: ToolCtx, k: Kernel, args: string[]): Co<number> {
  const p = parse(args, ['-d', '--delay', '-F', '--freq', '-E', '--entries']);
  if (p.bad) {
    ctx.stderr.write(`  Error: switch \`${p.bad.replace(/^-+/, '')}' requires a value\n`);
    return 129;
  }
  const delay = Number(p.opts.get('-d')?.[0] ?? p.opts.get('--delay')?.[0] ?? 2);
  const freq = Number(p.opts.get('-F')?.[0] ?? p.opts.get('--freq')?.[0] ?? 4000);
  const entries = Number(p.opts.get('-E')?.[0] ?? p.opts.get('--entries')?.[0] ?? 40);
  if (!(delay > 0) || !(freq > 0) || !(entries > 0)) {
    ctx.stderr.write('perf top: invalid -d, -F or -E value\n');
    return 129;
  }
  const col = topCollector(k, freq);
  try {
    for (;;) {
      yield* ctx.sleepUntil(k.now + Math.round(delay * 1e9));
      write(ctx, renderTop(col.take(), entries));
    }
  } finally {
    col.close();
  }
}

function* perf(ctx: ToolCtx): Co<number> {
  const [sub, ...args] = ctx.argv.slice(1);
  if (!sub || sub === '--help' || sub === 'help') {
    write(ctx, USAGE);
    return sub ? 0 : 1;
  }
  if (sub === '--version' || sub === 'version') {
    write(ctx, 'perf version 6.1.192\n');
    return 0;
  }
  const k = kernelOf(ctx);
  if (!k) {
    ctx.stderr.write('perf: no kernel\n');
    return 1;
  }
  switch (sub) {
    case 'stat':
      return yield* stat(ctx, k, args);
    case 'record':
      return yield* record(ctx, k, args);
    case 'report':
      return report(ctx, args);
    case 'list':
      return list(ctx, k, args);
    case 'trace':
      return yield* trace(ctx, k, args);
    case 'top':
      return yield* top(ctx, k, args);
    default:
      ctx.stderr.write(`perf: '${sub}' is not a perf-command. See 'perf --help'.\n`);
      return 1;
  }
}

export const PERF_TOOLS: ToolSpec[] = [{ name: 'perf', run: perf }];
