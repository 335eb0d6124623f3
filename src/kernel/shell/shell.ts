import { KernelError, STRERROR, type ErrnoName } from '../errors';
import { TaskDeath } from '../faults/contract';
import type { ToolCtx, ToolTable, Co, Req } from '../userspace/types';
import { isGenerator } from '../userspace/types';
import type { AndOr, Case, Command, CondCommand, For, FuncDef, If, List, Loop, ParamPart, Pipeline, Redir, SimpleCommand, Word, WordPart } from './ast';
import { ArithError, evalArith, type ArithVars } from './arith';
import { builtin, type Builtin } from './builtins';
import { BraceLimit, braceExpand, ifsSplit } from './expand-util';
import { TOOL_MAGIC, joinPath, type ShellHost, type SpawnRequest } from './host';
import {
  BrokenPipe,
  ClosedOut,
  ExitSignal,
  FileOut,
  InStream,
  LoopSignal,
  NullOut,
  PipeBuf,
  ReturnSignal,
  ShellAbort,
  TermOut,
  type AbortReason,
  type Fd,
  type Fds,
  type IoBudget,
  type OutStream,
  type TermSink,
} from './io';
import { DEFAULT_PARSE_LIMITS, Parser, ShellSyntaxError, type ParseLimits } from './parser';
import { compilePattern, escapePattern, hasGlob, matchPattern, removeAffix, replacePattern, unescapePattern } from './pattern';
import { evalTest } from './testexpr';

/**
 * The shell: a bounded evaluator of the parsed AST. Every command runs as a
 * generator (coroutine) so an execution can be stepped, interrupted
 * (Ctrl-C), stopped (Ctrl-Z) and interleaved with background jobs, without
 * threads and without blocking the event loop past its step budget.
 */
export interface ShellLimits extends ParseLimits {
  /** evaluation steps (commands, loop iterations) per execution */
  maxSteps: number;
  /** virtual CPU time per execution (ns); every step and tool charges some */
  maxCpuNs: number;
  /** CPU charged per evaluation step (ns) */
  stepCostNs: number;
  /** terminal output per execution (characters); past it the output is truncated */
  maxOutput: number;
  /** capacity of one pipe / command substitution (characters) */
  maxPipe: number;
  /** everything written per execution, files and /dev/null included */
  maxIo: number;
  /** function / source / eval / subshell nesting at run time */
  maxCallDepth: number;
  /** background jobs at once */
  maxJobs: number;
  /** history entries kept */
  maxHistory: number;
  /**
   * processes background jobs may create while one foreground execution
   * runs (past it a fork fails with EAGAIN): what ends a fork bomb
   */
  maxBgForks: number;
}

export const DEFAULT_LIMITS: ShellLimits = {
  ...DEFAULT_PARSE_LIMITS,
  maxSteps: 200_000,
  maxCpuNs: 30e9,
  stepCostNs: 2_000,
  maxOutput: 1024 * 1024,
  maxPipe: 8 * 1024 * 1024,
  maxIo: 64 * 1024 * 1024,
  maxCallDepth: 200,
  maxJobs: 64,
  maxHistory: 1000,
  maxBgForks: 2000,
};

export interface ShellOptions {
  host: ShellHost;
  tools: ToolTable;
  /** 'c': messages as `bash -c` prints them ("bash: line 1: ..."); 'interactive': as a terminal bash */
  mode?: 'c' | 'interactive';
  limits?: Partial<ShellLimits>;
  /** initial environment (exported); defaults to a root login environment */
  env?: Record<string, string>;
  cwd?: string;
  /** an existing shell process to take over (restoring a terminal) instead of starting one */
  pid?: number;
}

export interface Var {
  value: string;
  exported?: boolean;
  readonly?: boolean;
  /** declared (export/readonly NAME) but never assigned: still unset */
  unset?: boolean;
}

export interface ShellOpts {
  errexit: boolean;
  nounset: boolean;
  xtrace: boolean;
  pipefail: boolean;
  noglob: boolean;
  noclobber: boolean;
}

/** The state of one shell process (the shell, or a subshell forked from it). */
export interface ShEnv {
  vars: Map<string, Var>;
  positional: string[];
  funcs: Map<string, FuncDef>;
  cwd: string;
  opts: ShellOpts;
  status: number;
  /** this process's pid ($BASHPID); $$ is the top shell's */
  pid: number;
  lastBg: number;
  /** $0 */
  name: string;
  /** prefix of error messages: "bash" (with "line N"), or a script path */
  label: string;
  /** a `-c string` shell whose $0 names its messages ("sh: line 1: ...", "sh: -c: line 1: syntax error") */
  dashC?: boolean;
  interactive: boolean;
  line: number;
  funcDepth: number;
  callDepth: number;
  loopDepth: number;
  /** >0 while evaluating a condition (no errexit) */
  condDepth: number;
  /** saved variables of each `local` scope */
  locals: Map<string, Var | undefined>[];
  /** a forked child whose next external command may exec in place (reuse its pid) */
  execReady: boolean;
  /** status of the last command substitution of the current command */
  subStatus: number;
  /** the execution this env runs in (budgets) */
  run: Run;
  /** fds of the command being expanded (inherited by its command substitutions) */
  fds?: Fds;
  /** the simple command being run (bash names it when its process is killed) */
  cmd?: SimpleCommand;
  /** a pipeline stage that is not the last (bash reports no signal deaths of those) */
  midPipe?: boolean;
  /** the command this forked child already exec'd (a pipeline stage), as argv + path */
  preExec?: string;
}

/** bash retries a fork failing with EAGAIN this many times (sleeping 1, 2, 4, 8 s) */
const FORK_RETRIES = 4;

/**
 * A process the shell ran in place (exec) was killed by a signal: the shell
 * process it replaced ends with it.
 */
export class KilledSignal extends ExitSignal {
  constructor(
    status: number,
    readonly signal: number,
  ) {
    super(status);
  }
}

/** the signal that ended a shell process, if an exception says so */
function killSignal(e: unknown): number | undefined {
  return e instanceof KilledSignal ? e.signal : undefined;
}

export type JobState = 'Running' | 'Stopped' | 'Done';

export interface JobInfo {
  id: number;
  pid: number;
  text: string;
  state: JobState;
  status: number;
  /** how it ended: exit or signal number */
  signal?: number;
}

interface Job extends JobInfo {
  co?: Co<number>;
  run: Run;
  env: ShEnv;
  sleepUntil?: number;
  waitFor?: number[];
}

export interface ShellState {
  vars: Record<string, Var>;
  positional: string[];
  funcs: Record<string, FuncDef>;
  cwd: string;
  opts: ShellOpts;
  status: number;
  pid: number;
  lastBg: number;
  history: string[];
  jobs: JobInfo[];
  exited: number | null;
}

export interface OutputChunk {
  fd: 1 | 2;
  text: string;
}

export interface ExecResult {
  status: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved in the order written */
  output: OutputChunk[];
  /** false when blocked on a clock the host does not move (realtime): resume with the Execution */
  done: boolean;
  /** why the execution was stopped from outside, if it was */
  aborted?: AbortReason;
}

/** Budgets and counters of one execution (a foreground line or a background job). */
export class Run implements IoBudget {
  steps = 0;
  cpuNs = 0;
  /** CPU time of this run already charged to processes (host.chargeCpu) */
  charged = 0;
  written = 0;
  outBytes = 0;
  truncated = false;
  readonly maxWritten: number;
  constructor(
    readonly sh: Shell,
    readonly limits: ShellLimits,
    readonly foreground: boolean,
  ) {
    this.maxWritten = limits.maxIo;
  }

  check(): void {
    // the machine stopped under the command (a kernel panic): nothing runs any more
    if (this.sh.host.halted?.()) throw new ShellAbort('halted', 'the machine has stopped');
    if (this.foreground && this.sh.interruptPending) {
      this.sh.interruptPending = false;
      throw this.sh.takeAbort();
    }
    if (this.steps > this.limits.maxSteps) throw new ShellAbort('steps', `step limit (${this.limits.maxSteps}) exceeded`);
    if (this.cpuNs > this.limits.maxCpuNs) throw new ShellAbort('cpu', `CPU time limit (${this.limits.maxCpuNs / 1e9}s) exceeded`);
  }

  step(units = 1): void {
    this.steps += units;
    this.cpuNs += units * this.limits.stepCostNs;
    this.check();
  }
}

class ExpansionError extends Error {
  constructor(
    message: string,
    readonly status: number,
    /** exits a non-interactive shell */
    readonly fatal = true,
  ) {
    super(message);
  }
}

/** A fatal expansion error: ends a non-interactive shell, aborts the line of an interactive one. */
export class FatalSignal extends ExitSignal {}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const DEFAULT_ENV: Readonly<Record<string, string>> = {
  HOME: '/root',
  LANG: 'C',
  LOGNAME: 'root',
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  SHELL: '/bin/bash',
  TERM: 'xterm-256color',
  USER: 'root',
};

type Piece = { s: string; q: boolean; split: boolean; brk?: boolean };

export class Shell {
  readonly host: ShellHost;
  readonly tools: ToolTable;
  readonly limits: ShellLimits;
  readonly mode: 'c' | 'interactive';
  /** the top-level shell process */
  readonly env: ShEnv;
  history: string[] = [];
  private jobs: Job[] = [];
  /** set by interrupt(); consumed by the foreground execution's next check */
  interruptPending = false;
  /** exit status once the shell has run `exit` */
  exited: number | null = null;
  /** output written while no execution collects it (background jobs) */
  private pending: OutputChunk[] = [];
  private collector: OutputChunk[] | null = null;
  /** listeners of terminal output (the tty) */
  onOutput?: (chunk: OutputChunk) => void;
  /** the foreground execution currently running, if any */
  current: Execution | null = null;

  constructor(opts: ShellOptions) {
    this.host = opts.host;
    this.tools = opts.tools;
    this.mode = opts.mode ?? 'c';
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    const interactive = this.mode === 'interactive';
    let pid: number;
    if (opts.pid !== undefined) {
      pid = opts.pid;
      this.host.adopt(pid);
    } else pid = this.host.spawn({ argv: ['bash'], env: {}, cwd: opts.cwd ?? '/root', ppid: 1, session: true });
    const run = new Run(this, this.limits, true);
    this.env = {
      vars: new Map(),
      positional: [],
      funcs: new Map(),
      cwd: opts.cwd ?? '/root',
      opts: { errexit: false, nounset: false, xtrace: false, pipefail: false, noglob: false, noclobber: false },
      status: 0,
      pid,
      lastBg: 0,
      name: 'bash',
      label: 'bash',
      interactive,
      line: 1,
      funcDepth: 0,
      callDepth: 0,
      loopDepth: 0,
      condDepth: 0,
      locals: [],
      execReady: false,
      subStatus: 0,
      run,
    };
    for (const [k, v] of Object.entries(opts.env ?? DEFAULT_ENV)) this.env.vars.set(k, { value: v, exported: true });
    this.env.vars.set('PWD', { value: this.env.cwd, exported: true });
    if (!this.env.vars.has('IFS')) this.env.vars.set('IFS', { value: ' \t\n' });
    if (!this.env.vars.has('PS1')) this.env.vars.set('PS1', { value: '\\u@\\h:\\w\\$ ' });
  }

  /** $$: the shell's pid */
  get pid(): number {
    return this.env.pid;
  }

  get cwd(): string {
    return this.env.cwd;
  }

  get lastStatus(): number {
    return this.env.status;
  }

  getVar(name: string): string | undefined {
    return this.env.vars.get(name)?.value;
  }

  /**
   * Ends the shell process itself (the session or `bash -c` is over): its
   * background jobs are killed and its task exits and is reaped, so no
   * process of it stays behind in the kernel.
   */
  terminate(status = this.exited ?? this.env.status): void {
    for (const j of this.jobs) if (j.state !== 'Done') this.killJob(j, 9);
    this.host.exit(this.env.pid, status & 255);
  }

  /** Ctrl-C: interrupts the foreground execution at its next step. */
  interrupt(): void {
    if (this.current) this.interruptPending = true;
  }

  /** why the pending interrupt stops the foreground: Ctrl-C, or a timeout (exit 124, as timeout(1)) */
  private abortReason: 'interrupt' | 'timeout' = 'interrupt';

  /** Stops the foreground execution at its next step as timeout(1) does (SIGTERM, exit 124). */
  timeoutForeground(): void {
    if (!this.current) return;
    this.abortReason = 'timeout';
    this.interruptPending = true;
  }

  /** The abort the pending interrupt stands for (resets it to Ctrl-C). */
  takeAbort(): ShellAbort {
    const reason = this.abortReason;
    this.abortReason = 'interrupt';
    return reason === 'timeout' ? new ShellAbort('timeout', 'timed out') : new ShellAbort('interrupt', 'interrupted');
  }

  // ------------------------------------------------------------------ state

  getState(): ShellState {
    const vars: Record<string, Var> = {};
    for (const [k, v] of this.env.vars) vars[k] = { ...v };
    const funcs: Record<string, FuncDef> = {};
    for (const [k, f] of this.env.funcs) funcs[k] = f;
    return JSON.parse(
      JSON.stringify({
        vars,
        positional: this.env.positional,
        funcs,
        cwd: this.env.cwd,
        opts: this.env.opts,
        status: this.env.status,
        pid: this.env.pid,
        lastBg: this.env.lastBg,
        history: this.history,
        // running coroutines cannot be serialised: a snapshot keeps their table entry only
        jobs: this.jobs.map((j) => ({ id: j.id, pid: j.pid, text: j.text, state: j.state, status: j.status, signal: j.signal })),
        exited: this.exited,
      }),
    ) as ShellState;
  }

  setState(s: ShellState): void {
    const st = JSON.parse(JSON.stringify(s)) as ShellState;
    this.env.vars = new Map(Object.entries(st.vars));
    this.env.positional = st.positional;
    this.env.funcs = new Map(Object.entries(st.funcs));
    this.env.cwd = st.cwd;
    this.env.opts = st.opts;
    this.env.status = st.status;
    if (st.pid !== this.env.pid) {
      // the restored shell process replaces the one this shell started with
      this.host.adopt(st.pid, this.env.pid);
    }
    this.env.pid = st.pid;
    this.env.lastBg = st.lastBg;
    this.history = st.history;
    this.exited = st.exited;
    // jobs that were running when the snapshot was taken did not survive it
    this.jobs = st.jobs.map((j) => {
      const info: Job = { ...j, run: new Run(this, this.limits, false), env: this.env };
      if (info.state !== 'Done') {
        this.host.exit(info.pid, 128 + 9, 9);
        info.state = 'Done';
        info.status = 128 + 9;
        info.signal = 9;
      }
      return info;
    });
  }

  // ------------------------------------------------------------------ running

  /** Runs a command line (or script) to completion and collects its output. */
  exec(src: string, opts: { stdin?: string } = {}): ExecResult {
    const ex = this.start(src, opts);
    return ex.finish();
  }

  /** Starts a foreground execution; step it with pump(), or finish(). */
  start(src: string, opts: { stdin?: string; history?: boolean } = {}): Execution {
    if (opts.history) this.addHistory(src);
    this.bgForks = 0;
    const ex = new Execution(this, src, opts.stdin ?? '');
    this.current = ex;
    return ex;
  }

  addHistory(line: string): void {
    const t = line.replace(/\n+$/, '');
    if (t.trim() === '' || this.history[this.history.length - 1] === t) return;
    this.history.push(t);
    if (this.history.length > this.limits.maxHistory) this.history.splice(0, this.history.length - this.limits.maxHistory);
  }

  /** @internal output of the current collector (or pending for the next one) */
  emit(fd: 1 | 2, text: string): void {
    const c = { fd, text };
    (this.collector ?? this.pending).push(c);
    this.onOutput?.(c);
  }

  /** @internal */
  setCollector(c: OutputChunk[] | null): void {
    if (c && this.pending.length) {
      c.push(...this.pending);
      this.pending = [];
    }
    this.collector = c;
  }

  /** output written by background jobs while nothing was running */
  drainPending(): OutputChunk[] {
    const p = this.pending;
    this.pending = [];
    return p;
  }

  sinkFor(run: Run): TermSink {
    return {
      emit: (fd, s) => {
        const room = this.limits.maxOutput - run.outBytes;
        if (s.length > room) {
          if (room > 0) this.emit(fd, s.slice(0, room));
          run.outBytes = this.limits.maxOutput;
          run.truncated = true;
          throw new ShellAbort('output', `output truncated at ${this.limits.maxOutput} bytes`);
        }
        run.outBytes += s.length;
        this.emit(fd, s);
      },
    };
  }

  /** fds 0/1/2 of a foreground execution */
  terminalFds(run: Run, stdin: string): Fds {
    const sink = this.sinkFor(run);
    return new Map<number, Fd>([
      [0, { in: new InStream(stdin) }],
      [1, { out: new TermOut(run, sink, 1) }],
      [2, { out: new TermOut(run, sink, 2) }],
    ]);
  }

  // ------------------------------------------------------------------ jobs

  jobList(): readonly JobInfo[] {
    return this.jobs;
  }

  /** @internal finds a job by %spec / pid */
  findJob(spec: string): Job | undefined {
    if (spec.startsWith('%')) {
      const rest = spec.slice(1);
      if (rest === '' || rest === '%' || rest === '+') return this.jobs[this.jobs.length - 1];
      if (rest === '-') return this.jobs[this.jobs.length - 2];
      if (/^\d+$/.test(rest)) return this.jobs.find((j) => j.id === Number(rest));
      return this.jobs.find((j) => j.text.startsWith(rest));
    }
    if (/^\d+$/.test(spec)) return this.jobs.find((j) => j.pid === Number(spec));
    return undefined;
  }

  /** @internal */
  removeJob(j: JobInfo): void {
    this.jobs = this.jobs.filter((x) => x !== j);
  }

  private *startJob(env: ShEnv, ao: AndOr, fds: Fds): Co<number> {
    if (this.jobs.filter((j) => j.state !== 'Done').length >= this.limits.maxJobs) {
      this.writeErr(fds, `${env.name}: fork: retry: Resource temporarily unavailable\n`);
      env.status = 254;
      return 254;
    }
    // finished jobs nobody asked about: bash remembers a bounded number of them
    if (this.jobs.length > 4 * this.limits.maxJobs) {
      let drop = this.jobs.length - 2 * this.limits.maxJobs;
      this.jobs = this.jobs.filter((j) => !(j.state === 'Done' && drop-- > 0));
    }
    const run = new Run(this, this.limits, false);
    const child = this.fork(env, run);
    const pid = yield* this.spawnChild(env, { argv: ['bash'], env: this.exportedEnv(env), cwd: env.cwd, ppid: env.pid, fork: true }, fds);
    // a job runs on its own budget: its CPU time is counted from there
    this.cpuMarks.set(pid, { run, cpu: 0, charged: 0 });
    child.pid = pid;
    child.execReady = true;
    const id = this.jobs.length ? Math.max(...this.jobs.map((j) => j.id)) + 1 : 1;
    const text = ao.text.replace(/\s*&\s*$/, '');
    const jobFds = this.bgFds(env, run);
    const job: Job = { id, pid, text, state: 'Running', status: 0, run, env: child };
    job.co = this.jobBody(child, ao, jobFds);
    this.jobs.push(job);
    env.lastBg = pid;
    if (env.interactive && env === this.env) this.emit(2, `[${id}] ${pid}\n`);
    return 0;
  }

  /**
   * fork() (and exec unless `req.fork`) of a child of `env`, like bash's
   * make_child: on EAGAIN it says "fork: retry" and tries again after 1, 2,
   * 4 and 8 seconds (a foreground command sleeps; background jobs and other
   * processes run meanwhile), then gives up: "fork: <error>" and the forking
   * shell process exits with status 254 (an interactive shell returns to its
   * prompt).
   */
  *spawnChild(env: ShEnv, req: SpawnRequest, fds?: Fds): Co<number> {
    const io = fds ?? env.fds;
    for (let attempt = 0; ; attempt++) {
      try {
        if (!env.run.foreground && ++this.bgForks > this.limits.maxBgForks) {
          attempt = FORK_RETRIES;
          throw new KernelError('EAGAIN');
        }
        const pid = this.host.spawn(req);
        this.cpuMarks.set(pid, { run: env.run, cpu: env.run.cpuNs, charged: env.run.charged });
        return pid;
      } catch (e) {
        if (e instanceof TaskDeath) throw e;
        if (!(e instanceof KernelError)) {
          // a host that cannot create the process at all: the fork fails, the shell stays sane
          if (io) this.writeErr(io, `${env.name}: fork: ${e instanceof Error ? e.message : String(e)}\n`);
          throw new FatalSignal(254);
        }
        if (e.code === 'EAGAIN' && attempt < FORK_RETRIES) {
          if (io) this.writeErr(io, `${env.name}: fork: retry: ${e.message}\n`);
          if (env.run.foreground) yield* this.sleepCo(this.host.now() + (1 << attempt) * 1e9);
          else yield { t: 'step' };
          continue;
        }
        if (io) this.writeErr(io, `${env.name}: fork: ${e.message}\n`);
        throw new FatalSignal(254);
      }
    }
  }

  /** Ends a child process of the shell (exit, or death by `signal`) and reaps it. */
  endChild(env: ShEnv, pid: number, status: number, signal?: number): void {
    if (pid === env.pid) return;
    this.chargeOwn(pid);
    this.host.exit(pid, status, signal);
  }

  /** forks of background jobs during the current foreground execution */
  private bgForks = 0;

  /** where each live child's CPU accounting starts (runtime only) */
  private cpuMarks = new Map<number, { run: Run; cpu: number; charged: number }>();

  /**
   * Charges a child process the CPU time its run used since it was created,
   * minus what its own children were charged.
   */
  private chargeOwn(pid: number, min = 0): void {
    const m = this.cpuMarks.get(pid);
    if (!m) {
      if (min > 0) this.host.chargeCpu(pid, min);
      return;
    }
    this.cpuMarks.delete(pid);
    const own = Math.max(min, m.run.cpuNs - m.cpu - (m.run.charged - m.charged));
    if (own > 0) this.host.chargeCpu(pid, own);
    m.run.charged += own;
  }

  /** @internal charges the shell process the CPU time of a finished run not charged to a child */
  chargeShell(run: Run, pid = this.env.pid): void {
    const own = run.cpuNs - run.charged;
    if (own > 0) this.host.chargeCpu(pid, own);
    run.charged = run.cpuNs;
  }

  private *jobBody(child: ShEnv, ao: AndOr, fds: Fds): Co<number> {
    try {
      return yield* this.evalAndOr(child, { ...ao, background: false }, fds);
    } catch (e) {
      if (e instanceof KilledSignal) throw new TaskDeath(e.signal, 'killed');
      if (e instanceof ExitSignal) return e.status;
      throw e;
    }
  }

  private bgFds(env: ShEnv, run: Run): Fds {
    const sink = this.sinkFor(run);
    return new Map<number, Fd>([
      [0, { in: new InStream('') }],
      [1, { out: new TermOut(run, sink, 1) }],
      [2, { out: new TermOut(run, sink, 2) }],
    ]);
  }

  /**
   * Runs runnable background jobs for up to `steps` steps each. Returns true
   * when any made progress.
   */
  stepJobs(steps: number): boolean {
    let progressed = false;
    for (const j of [...this.jobs]) {
      if (j.state !== 'Running' || !j.co) continue;
      if (j.sleepUntil !== undefined) {
        if (this.host.now() < j.sleepUntil) continue;
        j.sleepUntil = undefined;
      }
      if (j.waitFor) {
        if (j.waitFor.some((id) => this.jobs.some((x) => x.id === id && x.state !== 'Done'))) continue;
        j.waitFor = undefined;
      }
      for (let n = 0; n < steps; n++) {
        let r: IteratorResult<Req, number>;
        try {
          r = j.co.next();
        } catch (e) {
          if (e instanceof ShellAbort) {
            if (e.reason === 'output') this.emit(2, `\n[kernelab: background job ${j.id} output truncated at ${this.limits.maxOutput} bytes]\n`);
            else this.emit(2, `kernelab: background job ${j.id} aborted: ${e.message}\n`);
            this.finishJob(j, e.reason === 'output' ? 141 : 137);
          } else if (e instanceof TaskDeath) {
            this.finishJob(j, 128 + e.signal, e.signal);
          } else {
            this.emit(2, `bash: internal error: ${String(e)}\n`);
            this.finishJob(j, 1);
          }
          progressed = true;
          break;
        }
        progressed = true;
        if (r.done) {
          this.finishJob(j, r.value);
          break;
        }
        const req = r.value;
        if (req.t === 'step') {
          j.run.step();
          continue;
        }
        if (req.t === 'sleep') {
          if (this.host.now() < req.until) {
            j.sleepUntil = req.until;
            break;
          }
          continue;
        }
        if (req.t === 'wait') {
          j.waitFor = req.jobs;
          break;
        }
      }
    }
    return progressed;
  }

  private finishJob(j: Job, status: number, signal?: number): void {
    j.state = 'Done';
    j.status = status;
    j.co = undefined;
    if (status > 128 && status < 160) j.signal = status - 128;
    this.chargeOwn(j.pid);
    this.host.exit(j.pid, status, signal);
  }

  /** earliest wake-up of a sleeping background job */
  nextJobWake(): number | undefined {
    let w: number | undefined;
    for (const j of this.jobs) if (j.state === 'Running' && j.co && j.sleepUntil !== undefined) w = w === undefined ? j.sleepUntil : Math.min(w, j.sleepUntil);
    return w;
  }

  /** true when some background job can run right now */
  jobsRunnable(): boolean {
    return this.jobs.some(
      (j) =>
        j.state === 'Running' &&
        j.co &&
        (j.sleepUntil === undefined || this.host.now() >= j.sleepUntil) &&
        !(j.waitFor && j.waitFor.some((id) => this.jobs.some((x) => x.id === id && x.state !== 'Done'))),
    );
  }

  /** @internal kills a job: its coroutine is closed (finally blocks run) */
  /** Signals a job (`from`: the sending process, whose kill(2) the tracer sees). */
  killJob(j: Job, sig: number, from?: number): void {
    if (from !== undefined && j.state !== 'Done') {
      try {
        this.host.kill(j.pid, sig, from);
      } catch {
        // the job's process is gone already
      }
    }
    if (sig === 19 || sig === 20) {
      if (j.state === 'Running') j.state = 'Stopped';
      return;
    }
    if (sig === 18) {
      if (j.state === 'Stopped') j.state = 'Running';
      return;
    }
    if (sig === 0) return;
    if (j.state === 'Done') return;
    try {
      j.co?.return(0);
    } catch {
      // a finally block that failed: the job is gone anyway
    }
    this.finishJob(j, 128 + sig, sig);
  }

  /** @internal moves a stopped foreground execution into the job table */
  adoptStopped(text: string, co: Co<number>, run: Run, env: ShEnv, pid: number): JobInfo {
    const id = this.jobs.length ? Math.max(...this.jobs.map((j) => j.id)) + 1 : 1;
    const job: Job = { id, pid, text, state: 'Stopped', status: 0, run, env, co };
    this.jobs.push(job);
    return job;
  }

  /** @internal takes a job out of the table to run it in the foreground (fg) */
  takeJob(j: Job): { co: Co<number>; run: Run } | undefined {
    if (!j.co) return undefined;
    this.jobs = this.jobs.filter((x) => x !== j);
    return { co: j.co, run: j.run };
  }

  /** Job notifications an interactive shell prints before its prompt ("[1]+  Done  ..."). */
  reapNotifications(): string {
    let out = '';
    const done = this.jobs.filter((j) => j.state === 'Done');
    for (const j of done) out += formatJob(j, this.jobs, false) + '\n';
    this.jobs = this.jobs.filter((j) => j.state !== 'Done');
    return out;
  }

  // ------------------------------------------------------------------ messages

  /** "bash: line N: " (or "bash: " interactively) */
  prefix(env: ShEnv): string {
    if (env.interactive && env.label === 'bash') return 'bash: ';
    return `${env.label}: line ${env.line}: `;
  }

  /** @internal writes an error message with the shell's prefix to the env's stderr */
  errmsg(env: ShEnv, msg: string, fds?: Fds): void {
    const text = `${this.prefix(env)}${msg}\n`;
    const out = fds?.get(2)?.out;
    if (out) {
      try {
        out.write(text);
      } catch (e) {
        if (e instanceof ShellAbort) throw e;
      }
    } else this.emit(2, text);
  }

  syntaxMessage(env: ShEnv, e: ShellSyntaxError): string {
    const dashC = env.label === 'bash' || env.dashC;
    if (e.limit) return `${env.interactive && env.label === 'bash' ? 'bash' : `${env.label}${dashC ? ': -c' : ''}: line ${e.line}`}: ${e.message}\n`;
    const head = env.interactive && env.label === 'bash' ? 'bash: ' : dashC ? `${env.label}: -c: line ${e.line}: ` : `${env.label}: line ${e.line}: `;
    let text = head + e.message + '\n';
    if (e.sourceLine !== undefined && !(env.interactive && env.label === 'bash')) text += `${head}\`${e.sourceLine}'\n`;
    return text;
  }

  // ------------------------------------------------------------------ environments

  /** EXIT trap of the shell (`trap CMD EXIT`) */
  exitTrap: string | null = null;

  /** @internal runs the EXIT trap once (end of a `bash -c` run, or exit) */
  *runExitTrap(fds: Fds): Co<void> {
    const t = this.exitTrap;
    if (t === null) return;
    this.exitTrap = null;
    const status = this.env.status;
    try {
      yield* this.runSource(this.env, t, fds);
    } catch (e) {
      if (!(e instanceof ExitSignal)) throw e;
    }
    this.env.status = status;
  }

  /** @internal a forked copy of a shell process */
  fork(env: ShEnv, run = env.run): ShEnv {
    const vars = new Map<string, Var>();
    for (const [k, v] of env.vars) vars.set(k, { ...v });
    return {
      ...env,
      vars,
      positional: [...env.positional],
      funcs: new Map(env.funcs),
      opts: { ...env.opts },
      locals: env.locals.map((m) => new Map(m)),
      execReady: false,
      run,
    };
  }

  exportedEnv(env: ShEnv, extra?: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    const names = [...env.vars.keys()].sort();
    for (const k of names) {
      const v = env.vars.get(k) as Var;
      if (v.exported && !v.unset) out[k] = v.value;
    }
    if (extra) Object.assign(out, extra);
    return out;
  }

  /** @internal */
  setVar(env: ShEnv, name: string, value: string, opts: { exported?: boolean } = {}): void {
    const v = env.vars.get(name);
    if (v?.readonly) throw new ExpansionError(`${name}: readonly variable`, 1);
    if (v) {
      v.value = value;
      delete v.unset;
      if (opts.exported) v.exported = true;
    } else env.vars.set(name, opts.exported ? { value, exported: true } : { value });
  }

  /** @internal */
  lookupVar(env: ShEnv, name: string): string | undefined {
    switch (name) {
      case 'RANDOM':
        return String(this.host.random() % 32768);
      case 'LINENO':
        return String(env.line);
      case 'BASHPID':
        return String(env.pid);
      case 'SECONDS':
        return String(Math.floor(this.host.now() / 1e9));
      case 'EPOCHSECONDS':
        return String(Math.floor((this.host.bootEpochMs() + this.host.now() / 1e6) / 1000));
      case 'UID':
      case 'EUID':
        return String(this.host.uid);
      case 'PPID':
        return '1';
      case 'HOSTNAME':
        return env.vars.get(name)?.value ?? this.readHostname();
      case 'BASH_VERSION':
        return '5.2.15(1)-release';
      case 'SHLVL':
        return env.vars.get(name)?.value ?? '1';
    }
    const v = env.vars.get(name);
    return v && !v.unset ? v.value : undefined;
  }

  readHostname(): string {
    try {
      return this.host.readFile(this.env.pid, '/proc/sys/kernel/hostname', '/').replace(/\n$/, '');
    } catch {
      return 'localhost';
    }
  }

  private arithVars(env: ShEnv): ArithVars {
    return {
      get: (n) => this.lookupVar(env, n),
      set: (n, v) => this.setVar(env, n, v),
    };
  }

  // ------------------------------------------------------------------ evaluation

  /**
   * Runs source text in `env`, reading one complete command at a time
   * (so earlier commands run before a later syntax error is found).
   */
  *runSource(env: ShEnv, src: string, fds: Fds): Co<number> {
    let parser: Parser;
    try {
      parser = Parser.create(src, this.limits);
    } catch (e) {
      if (e instanceof ShellSyntaxError) {
        this.writeErr(fds, this.syntaxMessage(env, e));
        env.status = 2;
        return 2;
      }
      throw e;
    }
    let status = 0;
    for (;;) {
      let list: List | null;
      try {
        list = parser.next_complete();
      } catch (e) {
        if (e instanceof ShellSyntaxError) {
          this.writeErr(fds, this.syntaxMessage(env, e));
          env.status = 2;
          if (!env.interactive) throw new ExitSignal(2);
          return 2;
        }
        throw e;
      }
      for (const w of parser.warnings.splice(0)) {
        const saved = env.line;
        env.line = w.line;
        this.errmsg(env, w.message, fds);
        env.line = saved;
      }
      if (list === null) break;
      status = yield* this.evalList(env, list, fds);
    }
    return status;
  }

  private writeErr(fds: Fds, text: string): void {
    const out = fds.get(2)?.out;
    if (!out) return;
    try {
      out.write(text);
    } catch (e) {
      if (e instanceof ShellAbort) throw e;
    }
  }

  *evalList(env: ShEnv, list: List, fds: Fds): Co<number> {
    let status = env.status;
    // a forked child execs in place only its last command (earlier ones fork)
    const ready = env.execReady;
    const lastItem = list.items.length - 1;
    for (let i = 0; i <= lastItem; i++) {
      const ao = list.items[i];
      if (ready) env.execReady = i === lastItem && ao.rest.length === 0;
      if (ao.background) {
        yield* this.startJob(env, ao, fds);
        status = 0;
        env.status = 0;
        continue;
      }
      status = yield* this.evalAndOr(env, ao, fds);
    }
    return status;
  }

  *evalAndOr(env: ShEnv, ao: AndOr, fds: Fds): Co<number> {
    const n = ao.rest.length;
    env.condDepth += n > 0 ? 1 : 0;
    let status: number;
    try {
      status = yield* this.evalPipeline(env, ao.first, fds);
    } finally {
      env.condDepth -= n > 0 ? 1 : 0;
    }
    for (let i = 0; i < n; i++) {
      const { op, pipeline } = ao.rest[i];
      if ((op === '&&' && status !== 0) || (op === '||' && status === 0)) continue;
      const last = i === n - 1;
      if (!last) env.condDepth++;
      try {
        status = yield* this.evalPipeline(env, pipeline, fds);
      } finally {
        if (!last) env.condDepth--;
      }
    }
    return status;
  }

  private errexitCheck(env: ShEnv, status: number, negated: boolean): void {
    if (status !== 0 && env.opts.errexit && env.condDepth === 0 && !negated) throw new ExitSignal(status);
  }

  *evalPipeline(env: ShEnv, p: Pipeline, fds: Fds): Co<number> {
    let status: number;
    if (p.negate) env.condDepth++;
    try {
      if (p.commands.length === 1) {
        status = yield* this.evalCommand(env, p.commands[0], fds);
      } else {
        status = yield* this.evalMultiPipeline(env, p, fds);
      }
    } finally {
      if (p.negate) env.condDepth--;
    }
    if (p.negate) status = status === 0 ? 1 : 0;
    env.status = status;
    this.errexitCheck(env, status, p.negate);
    return status;
  }

  private *evalMultiPipeline(env: ShEnv, p: Pipeline, fds: Fds): Co<number> {
    let input: InStream = fds.get(0)?.in ?? new InStream('');
    const statuses: number[] = [];
    // every stage is forked before the first runs (they run concurrently in bash:
    // a stage listing processes sees the others)
    const pids: number[] = [];
    let next = 0;
    const pre: (string | undefined)[] = [];
    try {
      for (let i = 0; i < p.commands.length; i++) pids.push(yield* this.spawnChild(env, { argv: ['bash'], env: {}, cwd: env.cwd, ppid: env.pid, fork: true }, fds));
      // later stages running a plain tool exec it now, as they would while the first stage runs
      for (let i = 1; i < p.commands.length; i++) pre[i] = this.preExec(env, p.commands[i], pids[i]);
    } catch (e) {
      for (const pid of pids) this.endChild(env, pid, 0);
      throw e;
    }
    try {
      for (let i = 0; i < p.commands.length; i++) {
        next = i + 1;
        statuses.push(yield* this.evalStage(env, p, i, pids[i], fds, input, (pipe) => (input = new InStream(pipe.text())), pre[i]));
      }
    } finally {
      // stages never reached (an abort): end them too
      for (let i = next; i < pids.length; i++) this.endChild(env, pids[i], 0);
    }
    const status = env.opts.pipefail ? ([...statuses].reverse().find((s) => s !== 0) ?? 0) : statuses[statuses.length - 1];
    env.vars.set('PIPESTATUS', { value: statuses.join(' ') });
    return status;
  }

  /**
   * Execs a pipeline stage's command in its forked process ahead of time when
   * it is a tool with literal arguments (no expansion to do), so a listing
   * made by an earlier stage shows it (`ps aux | grep x` shows the grep).
   * Returns what it exec'd.
   */
  private preExec(env: ShEnv, cmd: Command, pid: number): string | undefined {
    if (cmd.type !== 'simple' || cmd.assigns.length > 0 || cmd.words.length === 0) return undefined;
    const argv: string[] = [];
    for (const w of cmd.words) {
      if (w.parts.length !== 1) return undefined;
      const part = w.parts[0];
      if (part.type !== 'lit' || (!part.q && !/^[A-Za-z0-9_@%+=:,./-]+$/.test(part.value))) return undefined;
      argv.push(part.value);
    }
    const name = argv[0];
    if (env.funcs.has(name) || builtin(name) || !/^[A-Za-z0-9_./-]+$/.test(name)) return undefined;
    try {
      const r = this.resolveCommand(env, name);
      if ('error' in r) return undefined;
      const image = this.host.readImage(env.pid, r.path, env.cwd);
      if (!image.startsWith(TOOL_MAGIC)) return undefined;
      const tool = image.slice(TOOL_MAGIC.length).split('\n')[0].trim();
      if (tool === 'bash' || tool === 'sh' || !this.tools.get(tool)) return undefined;
      this.host.exec(pid, { argv, env: this.exportedEnv(env), cwd: env.cwd, ppid: env.pid, path: r.path });
      return `${argv.join('\0')}\0${r.path}`;
    } catch (e) {
      if (e instanceof KernelError) return undefined;
      throw e;
    }
  }

  private *evalStage(env: ShEnv, p: Pipeline, i: number, pid: number, fds: Fds, input: InStream, piped: (pipe: PipeBuf) => void, pre?: string): Co<number> {
    {
      const last = i === p.commands.length - 1;
      const child = this.fork(env);
      child.pid = pid;
      child.execReady = true;
      child.midPipe = !last;
      child.preExec = pre;
      const stageFds: Fds = new Map(fds);
      stageFds.set(0, { in: input });
      let pipe: PipeBuf | undefined;
      if (!last) {
        pipe = new PipeBuf(env.run, this.limits.maxPipe);
        stageFds.set(1, { out: pipe });
        if (p.stderrToo[i]) stageFds.set(2, { out: pipe });
      }
      let st = 0;
      let sig: number | undefined;
      try {
        st = yield* this.evalCommand(child, p.commands[i], stageFds);
      } catch (e) {
        if (e instanceof ExitSignal) {
          st = e.status;
          sig = killSignal(e);
        } else if (e instanceof BrokenPipe) {
          st = 141;
          sig = 13;
        } else throw e;
      } finally {
        this.endChild(env, child.pid, st, sig);
      }
      if (pipe) piped(pipe);
      return st;
    }
  }

  *evalCommand(env: ShEnv, cmd: Command, fds: Fds): Co<number> {
    if (cmd.type === 'simple') return yield* this.evalSimple(env, cmd, fds);
    if (cmd.type === 'func') {
      env.funcs.set(cmd.name, cmd);
      env.status = 0;
      return 0;
    }
    let io = fds;
    env.fds = fds;
    // only a (sub)shell's last simple command execs in place, not one inside a loop or condition
    if (cmd.type !== 'group' && cmd.type !== 'subshell') env.execReady = false;
    if (cmd.redirs.length) {
      env.line = cmd.line;
      const r = yield* this.applyRedirs(env, cmd.redirs, fds);
      if (!r) {
        env.status = 1;
        return 1;
      }
      io = r;
    }
    switch (cmd.type) {
      case 'group':
        return yield* this.evalList(env, cmd.body, io);
      case 'subshell':
        return yield* this.evalSubshell(env, cmd.body, io);
      case 'if':
        return yield* this.evalIf(env, cmd, io);
      case 'while':
      case 'until':
        return yield* this.evalLoop(env, cmd, io);
      case 'for':
        return yield* this.evalFor(env, cmd, io);
      case 'case':
        return yield* this.evalCase(env, cmd, io);
      case 'arithcmd': {
        yield { t: 'step' };
        env.line = cmd.line;
        try {
          const text = yield* this.expandString(env, cmd.expr);
          const v = evalArith(text, this.arithVars(env));
          env.status = v !== 0n ? 0 : 1;
        } catch (e) {
          if (e instanceof ArithError) {
            this.errmsg(env, e.message, io);
            env.status = 1;
          } else if (e instanceof ExpansionError) return this.expansionFailed(env, e, io);
          else throw e;
        }
        return env.status;
      }
      case 'cond':
        return yield* this.evalCond(env, cmd, io);
    }
  }

  private *evalSubshell(env: ShEnv, body: List, fds: Fds): Co<number> {
    const child = this.fork(env);
    const inPlace = env.execReady;
    env.execReady = false;
    child.pid = inPlace ? env.pid : yield* this.spawnChild(env, { argv: ['bash'], env: {}, cwd: env.cwd, ppid: env.pid, fork: true }, fds);
    child.execReady = true;
    child.callDepth++;
    let status = 0;
    let sig: number | undefined;
    try {
      if (child.callDepth > this.limits.maxCallDepth) throw new ShellAbort('depth', `maximum nesting level exceeded (${this.limits.maxCallDepth})`);
      status = yield* this.evalList(child, body, fds);
    } catch (e) {
      if (e instanceof ExitSignal && !(inPlace && e instanceof KilledSignal)) {
        status = e.status;
        sig = killSignal(e);
      } else throw e;
    } finally {
      this.endChild(env, child.pid, status, sig);
    }
    env.status = status;
    return status;
  }

  private *evalCondList(env: ShEnv, l: List, fds: Fds): Co<number> {
    env.condDepth++;
    try {
      return yield* this.evalList(env, l, fds);
    } finally {
      env.condDepth--;
    }
  }

  private *evalIf(env: ShEnv, c: If, fds: Fds): Co<number> {
    for (const cl of c.clauses) {
      const st = yield* this.evalCondList(env, cl.cond, fds);
      if (st === 0) return yield* this.evalList(env, cl.body, fds);
    }
    if (c.else) return yield* this.evalList(env, c.else, fds);
    env.status = 0;
    return 0;
  }

  private *evalLoop(env: ShEnv, c: Loop, fds: Fds): Co<number> {
    let status = 0;
    env.loopDepth++;
    try {
      for (;;) {
        yield { t: 'step' };
        const st = yield* this.evalCondList(env, c.cond, fds);
        if (c.type === 'while' ? st !== 0 : st === 0) break;
        try {
          status = yield* this.evalList(env, c.body, fds);
        } catch (e) {
          if (e instanceof LoopSignal) {
            if (e.n > 1) {
              e.n--;
              throw e;
            }
            if (e.kind === 'break') break;
            continue;
          }
          throw e;
        }
      }
    } finally {
      env.loopDepth--;
    }
    env.status = status;
    return status;
  }

  private *evalFor(env: ShEnv, c: For, fds: Fds): Co<number> {
    env.line = c.line;
    let items: string[];
    if (c.items) {
      try {
        items = yield* this.expandWords(env, c.items);
      } catch (e) {
        if (e instanceof ExpansionError) return this.expansionFailed(env, e, fds);
        throw e;
      }
    } else items = [...env.positional];
    let status = 0;
    env.loopDepth++;
    try {
      for (const it of items) {
        yield { t: 'step' };
        try {
          this.setVar(env, c.name, it);
        } catch (e) {
          if (e instanceof ExpansionError) return this.expansionFailed(env, e, fds);
          throw e;
        }
        try {
          status = yield* this.evalList(env, c.body, fds);
        } catch (e) {
          if (e instanceof LoopSignal) {
            if (e.n > 1) {
              e.n--;
              throw e;
            }
            if (e.kind === 'break') break;
            continue;
          }
          throw e;
        }
      }
    } finally {
      env.loopDepth--;
    }
    env.status = status;
    return status;
  }

  private *evalCase(env: ShEnv, c: Case, fds: Fds): Co<number> {
    env.line = c.line;
    yield { t: 'step' };
    let word: string;
    try {
      word = yield* this.expandString(env, c.word);
    } catch (e) {
      if (e instanceof ExpansionError) return this.expansionFailed(env, e, fds);
      throw e;
    }
    let status = 0;
    let fall = false;
    for (let i = 0; i < c.items.length; i++) {
      const item = c.items[i];
      let hit = fall;
      if (!hit) {
        for (const p of item.patterns) {
          const pat = yield* this.expandPattern(env, p);
          if (matchPattern(pat, word)) {
            hit = true;
            break;
          }
        }
      }
      if (!hit) continue;
      status = yield* this.evalList(env, item.body, fds);
      if (item.term === ';;') break;
      fall = item.term === ';&';
    }
    env.status = status;
    return status;
  }

  private *evalCond(env: ShEnv, c: CondCommand, fds: Fds): Co<number> {
    env.line = c.line;
    yield { t: 'step' };
    const args: string[] = [];
    const raw: string[] = [];
    try {
      for (let i = 0; i < c.args.length; i++) {
        const w = c.args[i];
        const prev = raw[raw.length - 1];
        if (prev === '==' || prev === '!=' || prev === '=') args.push(yield* this.expandPattern(env, w));
        else if (prev === '=~') args.push(yield* this.expandString(env, w));
        else args.push(yield* this.expandString(env, w));
        raw.push(w.raw);
      }
    } catch (e) {
      if (e instanceof ExpansionError) return this.expansionFailed(env, e, fds);
      throw e;
    }
    const status = this.condEval(env, args, raw);
    if (status.error !== undefined) {
      if (status.error) this.errmsg(env, status.error, fds);
    }
    env.status = status.status;
    return status.status;
  }

  private condEval(env: ShEnv, args: string[], raw: string[]): { status: number; error?: string } {
    let i = 0;
    const testEnv = {
      host: this.host,
      pid: env.pid,
      cwd: env.cwd,
      match: (s: string, pat: string) => matchPattern(pat, s),
      regex: (s: string, re: string) => {
        try {
          const m = new RegExp(re).exec(s);
          env.vars.set('BASH_REMATCH', { value: m ? m[0] : '' });
          return !!m;
        } catch {
          return null;
        }
      },
      isVarSet: (n: string) => env.vars.has(n),
    };
    const isOp = (k: number, op: string): boolean => raw[k] === op && args[k] === op;
    const or = (): boolean => {
      let v = and();
      while (isOp(i, '||')) {
        i++;
        const r = and();
        v = v || r;
      }
      return v;
    };
    const and = (): boolean => {
      let v = not();
      while (isOp(i, '&&')) {
        i++;
        const r = not();
        v = v && r;
      }
      return v;
    };
    const not = (): boolean => {
      if (isOp(i, '!')) {
        i++;
        return !not();
      }
      return prim();
    };
    const prim = (): boolean => {
      if (isOp(i, '(')) {
        i++;
        const v = or();
        if (!isOp(i, ')')) throw new Error("syntax error in conditional expression");
        i++;
        return v;
      }
      // binary?
      if (i + 2 < args.length + 1 && i + 1 < args.length && ['==', '=', '!=', '<', '>', '=~', '-eq', '-ne', '-lt', '-le', '-gt', '-ge', '-nt', '-ot', '-ef'].includes(raw[i + 1])) {
        const r = evalTest([args[i], raw[i + 1], args[i + 2] ?? ''], testEnv);
        i += 3;
        if (r.status === 2) throw new Error(r.error ?? '');
        return r.status === 0;
      }
      if (/^-[a-zA-Z]$/.test(raw[i]) && i + 1 < args.length) {
        const r = evalTest([args[i], args[i + 1]], testEnv);
        i += 2;
        if (r.status === 2) throw new Error(r.error ?? '');
        return r.status === 0;
      }
      const v = (args[i] ?? '').length > 0;
      i++;
      return v;
    };
    try {
      const v = or();
      if (i < args.length) return { status: 2, error: `syntax error in conditional expression` };
      return { status: v ? 0 : 1 };
    } catch (e) {
      return { status: 2, error: (e as Error).message };
    }
  }

  /** prints an expansion error; fatal ones end a non-interactive shell (and abort an interactive line) */
  private expansionFailed(env: ShEnv, e: ExpansionError, fds: Fds): number {
    this.errmsg(env, e.message, fds);
    env.status = e.status;
    if (e.fatal) throw new FatalSignal(e.status);
    return e.status;
  }

  // ------------------------------------------------------------------ simple commands

  private *evalSimple(env: ShEnv, cmd: SimpleCommand, fds: Fds): Co<number> {
    env.line = cmd.line;
    env.fds = fds;
    env.cmd = cmd;
    yield { t: 'step' };
    env.subStatus = 0;
    let words: string[];
    try {
      words = yield* this.expandWords(env, cmd.words);
    } catch (e) {
      if (e instanceof ExpansionError) return this.expansionFailed(env, e, fds);
      throw e;
    }
    env.line = cmd.line;
    if (words.length === 0) {
      // assignments and redirections only
      try {
        for (const a of cmd.assigns) {
          const v = yield* this.expandString(env, a.value, true);
          if (env.opts.xtrace) this.writeErr(fds, `+ ${a.name}${a.append ? '+' : ''}=${traceQuote(v)}\n`);
          const cur = this.lookupVar(env, a.name) ?? '';
          this.setVar(env, a.name, a.append ? cur + v : v);
        }
      } catch (e) {
        if (e instanceof ExpansionError) return this.expansionFailed(env, e, fds);
        throw e;
      }
      if (cmd.redirs.length) {
        const r = yield* this.applyRedirs(env, cmd.redirs, fds);
        if (!r) {
          env.status = 1;
          return 1;
        }
      }
      env.status = env.subStatus;
      return env.status;
    }
    let io = fds;
    if (cmd.redirs.length) {
      const r = yield* this.applyRedirs(env, cmd.redirs, fds);
      if (!r) {
        env.status = 1;
        return 1;
      }
      io = r;
    }
    const tempAssigns: Record<string, string> = {};
    try {
      for (const a of cmd.assigns) {
        const v = yield* this.expandString(env, a.value, true);
        tempAssigns[a.name] = a.append ? (this.lookupVar(env, a.name) ?? '') + v : v;
      }
    } catch (e) {
      if (e instanceof ExpansionError) return this.expansionFailed(env, e, fds);
      throw e;
    }
    if (env.opts.xtrace) this.writeErr(io, `+ ${words.map(traceQuote).join(' ')}\n`);
    const status = yield* this.invoke(env, words, tempAssigns, io);
    env.status = status;
    return status;
  }

  /** Runs argv: function, builtin, or an executable found on PATH. */
  *invoke(env: ShEnv, words: string[], tempAssigns: Record<string, string>, io: Fds): Co<number> {
    const name = words[0];
    const fn = env.funcs.get(name);
    if (fn) return yield* this.callFunction(env, fn, words, tempAssigns, io);
    const bi: Builtin | undefined = builtin(name);
    if (bi) {
      const saved: [string, Var | undefined][] = [];
      for (const [k, v] of Object.entries(tempAssigns)) {
        saved.push([k, env.vars.get(k)]);
        try {
          this.setVar(env, k, v);
        } catch (e) {
          if (e instanceof ExpansionError) return this.expansionFailed(env, e, io);
          throw e;
        }
      }
      try {
        const r = bi(this, env, words, io);
        return isGenerator(r) ? yield* r : r;
      } catch (e) {
        if (e instanceof BrokenPipe) return 141;
        if (e instanceof KernelError) {
          this.errmsg(env, `${name}: write error: ${e.message}`, io);
          return 1;
        }
        if (e instanceof ExpansionError) return this.expansionFailed(env, e, io);
        throw e;
      } finally {
        if (!SPECIAL_BUILTINS.has(name)) {
          for (const [k, v] of saved) {
            if (v === undefined) env.vars.delete(k);
            else env.vars.set(k, v);
          }
        }
      }
    }
    return yield* this.runExternal(env, words, tempAssigns, io);
  }

  private *callFunction(env: ShEnv, fn: FuncDef, words: string[], tempAssigns: Record<string, string>, io: Fds): Co<number> {
    if (env.funcDepth + 1 > this.limits.maxCallDepth || env.callDepth + 1 > this.limits.maxCallDepth) {
      this.errmsg(env, `${fn.name}: maximum function nesting level exceeded (${this.limits.maxCallDepth})`, io);
      throw new FatalSignal(1);
    }
    const savedPos = env.positional;
    const savedLabel = env.label;
    env.positional = words.slice(1);
    env.funcDepth++;
    env.callDepth++;
    const scope = new Map<string, Var | undefined>();
    env.locals.push(scope);
    for (const [k, v] of Object.entries(tempAssigns)) {
      scope.set(k, env.vars.get(k));
      env.vars.set(k, { value: v, exported: true });
    }
    const savedLoop = env.loopDepth;
    env.loopDepth = 0;
    const savedFn = env.vars.get('FUNCNAME');
    env.vars.set('FUNCNAME', { value: fn.name });
    let status: number;
    try {
      status = yield* this.evalCommand(env, fn.body, io);
    } catch (e) {
      if (e instanceof ReturnSignal) status = e.status;
      else throw e;
    } finally {
      env.loopDepth = savedLoop;
      if (savedFn) env.vars.set('FUNCNAME', savedFn);
      else env.vars.delete('FUNCNAME');
      env.locals.pop();
      for (const [k, v] of scope) {
        if (v === undefined) env.vars.delete(k);
        else env.vars.set(k, v);
      }
      env.positional = savedPos;
      env.funcDepth--;
      env.callDepth--;
      env.label = savedLabel;
    }
    env.status = status;
    return status;
  }

  /** PATH search; returns the path of an executable or an error. */
  resolveCommand(env: ShEnv, name: string): { path: string } | { error: string; status: number } {
    if (name.includes('/')) {
      try {
        const st = this.host.stat(env.pid, name, env.cwd);
        if (st.type === 'dir') return { error: `${name}: Is a directory`, status: 126 };
        if (!this.host.access(env.pid, name, env.cwd, 1)) return { error: `${name}: Permission denied`, status: 126 };
        return { path: name };
      } catch (e) {
        if (e instanceof KernelError) return { error: `${name}: ${e.message}`, status: e.code === 'EACCES' ? 126 : 127 };
        throw e;
      }
    }
    const pathVar = this.lookupVar(env, 'PATH');
    if (pathVar === undefined) {
      // bash without PATH looks in the current directory only
      try {
        const st = this.host.stat(env.pid, name, env.cwd);
        if (st.type === 'file' && this.host.access(env.pid, name, env.cwd, 1)) return { path: joinPath(env.cwd, name) };
      } catch {
        // not there
      }
      return { error: `${name}: No such file or directory`, status: 127 };
    }
    // bash's command hash: remembered paths are checked with one stat
    const cached = this.hashed.get(name);
    if (cached && cached.path === pathVar) {
      try {
        const st = this.host.stat(env.pid, cached.file, env.cwd);
        if (st.type === 'file' && this.host.access(env.pid, cached.file, env.cwd, 1)) return { path: cached.file };
      } catch {
        // gone: search again
      }
      this.hashed.delete(name);
    }
    const found = this.searchPath(env, name, pathVar);
    if ('path' in found) {
      if (this.hashed.size > 1000) this.hashed.clear();
      this.hashed.set(name, { path: pathVar, file: found.path });
    }
    return found;
  }

  /** remembered command locations (bash's `hash`), keyed by name, valid for one PATH value */
  private hashed = new Map<string, { path: string; file: string }>();

  /** @internal `hash -r` */
  clearHash(): void {
    this.hashed.clear();
  }

  private searchPath(env: ShEnv, name: string, pathVar: string): { path: string } | { error: string; status: number } {
    for (const dir of pathVar.split(':')) {
      const d = dir === '' ? '.' : dir;
      const p = joinPath(d, name);
      try {
        const st = this.host.stat(env.pid, p, env.cwd);
        if (st.type === 'file' && this.host.access(env.pid, p, env.cwd, 1)) return { path: p };
      } catch {
        // next
      }
    }
    return { error: `${name}: command not found`, status: 127 };
  }

  private *runExternal(env: ShEnv, words: string[], tempAssigns: Record<string, string>, io: Fds): Co<number> {
    const name = words[0];
    const r = this.resolveCommand(env, name);
    if ('error' in r) {
      this.errmsg(env, r.error, io);
      return r.status;
    }
    let content: string;
    try {
      content = this.host.readImage(env.pid, r.path, env.cwd);
    } catch (e) {
      if (e instanceof KernelError) {
        this.errmsg(env, `${name}: ${e.message}`, io);
        return 126;
      }
      throw e;
    }
    const childEnv = this.exportedEnv(env, tempAssigns);
    return yield* this.execImage(env, r.path, content, words, childEnv, io);
  }

  /** Executes a file's content: a tool stub, a #! script, or a shell script. */
  private *execImage(env: ShEnv, path: string, content: string, argv: string[], childEnv: Record<string, string>, io: Fds): Co<number> {
    if (content.startsWith(TOOL_MAGIC)) {
      const toolName = content.slice(TOOL_MAGIC.length).split('\n')[0].trim();
      if (toolName === 'bash' || toolName === 'sh') return yield* this.runChildShell(env, argv, childEnv, io);
      const spec = this.tools.get(toolName);
      if (!spec) {
        this.errmsg(env, `${argv[0]}: cannot execute binary file: Exec format error`, io);
        return 126;
      }
      return yield* this.runTool(env, spec.run, argv, childEnv, io, path);
    }
    if (content.startsWith('\x7fELF')) {
      this.errmsg(env, `${argv[0]}: cannot execute binary file: Exec format error`, io);
      return 126;
    }
    if (content.startsWith('#!')) {
      const line = content.slice(2).split('\n')[0].trim();
      const sp = line.search(/\s/);
      const interp = sp < 0 ? line : line.slice(0, sp);
      const arg = sp < 0 ? '' : line.slice(sp + 1).trim();
      const base = interp.split('/').pop() ?? '';
      if (!(base === 'bash' || base === 'sh' || base === 'dash') || (base !== 'bash' && base !== 'sh' && base !== 'dash')) {
        let ic: string;
        try {
          ic = this.host.readImage(env.pid, interp, env.cwd);
        } catch {
          this.errmsg(env, `${path}: ${interp}: bad interpreter: No such file or directory`, io);
          return 126;
        }
        return yield* this.execImage(env, interp, ic, [interp, ...(arg ? [arg] : []), path, ...argv.slice(1)], childEnv, io);
      }
    }
    // a shell script, run by a child shell
    const child = this.fork(env);
    child.pid = yield* this.execChild(env, { argv, env: childEnv, cwd: env.cwd, ppid: env.pid, path }, io);
    child.funcs = new Map();
    child.vars = new Map();
    for (const [k, v] of Object.entries(childEnv)) child.vars.set(k, { value: v, exported: true });
    child.vars.set('IFS', { value: ' \t\n' });
    child.positional = argv.slice(1);
    child.name = path;
    child.label = path;
    child.dashC = false;
    child.interactive = false;
    child.locals = [];
    child.funcDepth = 0;
    child.loopDepth = 0;
    child.condDepth = 0;
    child.opts = { errexit: false, nounset: false, xtrace: false, pipefail: false, noglob: false, noclobber: false };
    child.callDepth = env.callDepth + 1;
    let status = 0;
    let sig: number | undefined;
    try {
      if (child.callDepth > this.limits.maxCallDepth) throw new ShellAbort('depth', `maximum nesting level exceeded (${this.limits.maxCallDepth})`);
      status = yield* this.runSource(child, content, io);
    } catch (e) {
      if (e instanceof ExitSignal) {
        status = e.status;
        sig = killSignal(e);
      } else throw e;
    } finally {
      this.endChild(env, child.pid, status, sig);
    }
    return status;
  }

  /**
   * The process a command runs in: the forked child itself when it may exec
   * in place (execve), else a new fork + exec.
   */
  private *execChild(env: ShEnv, req: SpawnRequest, io: Fds): Co<number> {
    if (env.execReady) {
      env.execReady = false;
      const done = env.preExec;
      env.preExec = undefined;
      if (done === undefined || done !== `${req.argv.join('\0')}\0${req.path}`) {
        try {
          this.host.exec(env.pid, req);
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
        }
      }
      return env.pid;
    }
    return yield* this.spawnChild(env, req, io);
  }

  /** bash [-c string [name [args...]]] [file [args...]]: a child shell */
  private *runChildShell(env: ShEnv, argv: string[], childEnv: Record<string, string>, io: Fds): Co<number> {
    let i = 1;
    let cmd: string | undefined;
    let errexit = false;
    let xtrace = false;
    for (; i < argv.length; i++) {
      const a = argv[i];
      if (a === '-c') cmd = argv[++i] ?? '';
      else if (a === '-e') errexit = true;
      else if (a === '-x') xtrace = true;
      else if (a === '--' || a === '-') {
        i++;
        break;
      } else if (/^-[a-zA-Z]+$/.test(a) || /^--/.test(a)) continue;
      else break;
    }
    if (argv.slice(1).includes('-c') && cmd === '') {
      this.errmsg(env, '-c: option requires an argument', io);
      return 2;
    }
    let src: string;
    let name = argv[0];
    let positional: string[];
    let label = 'bash';
    if (cmd !== undefined) {
      src = cmd;
      if (i < argv.length) name = argv[i++];
      positional = argv.slice(i);
      // bash names a -c shell's messages after its $0: `sh -c` says "sh: line 1: ..."
      label = name;
    } else if (i < argv.length) {
      const file = argv[i];
      try {
        src = this.host.readFile(env.pid, file, env.cwd);
      } catch (e) {
        if (e instanceof KernelError) {
          this.writeErr(io, `${argv[0]}: ${file}: ${e.message}\n`);
          return 127;
        }
        throw e;
      }
      name = file;
      label = file;
      positional = argv.slice(i + 1);
    } else {
      src = io.get(0)?.in?.readAll() ?? '';
      positional = [];
    }
    const child = this.fork(env);
    child.pid = yield* this.execChild(env, { argv, env: childEnv, cwd: env.cwd, ppid: env.pid, path: '/usr/bin/bash' }, io);
    child.execReady = false;
    child.funcs = new Map();
    child.vars = new Map();
    for (const [k, v] of Object.entries(childEnv)) child.vars.set(k, { value: v, exported: true });
    child.vars.set('IFS', { value: ' \t\n' });
    child.positional = positional;
    child.name = name;
    child.label = label;
    child.dashC = cmd !== undefined;
    child.interactive = false;
    child.locals = [];
    child.funcDepth = 0;
    child.loopDepth = 0;
    child.condDepth = 0;
    child.lastBg = 0;
    child.opts = { errexit, nounset: false, xtrace, pipefail: false, noglob: false, noclobber: false };
    child.callDepth = env.callDepth + 1;
    let status = 0;
    let sig: number | undefined;
    try {
      if (child.callDepth > this.limits.maxCallDepth) throw new ShellAbort('depth', `maximum nesting level exceeded (${this.limits.maxCallDepth})`);
      status = yield* this.runSource(child, src, io);
    } catch (e) {
      if (e instanceof ExitSignal) {
        status = e.status;
        sig = killSignal(e);
      } else throw e;
    } finally {
      this.endChild(env, child.pid, status & 255, sig);
    }
    return status & 255;
  }

  /** Runs a tool function as a process. */
  *runTool(env: ShEnv, fn: (ctx: ToolCtx) => number | Co<number>, argv: string[], childEnv: Record<string, string>, io: Fds, path?: string): Co<number> {
    const reuse = env.execReady;
    const pid = yield* this.execChild(env, { argv, env: childEnv, cwd: env.cwd, ppid: env.pid, path }, io);
    const stderr = io.get(2)?.out ?? new ClosedOut(env.run);
    const ctx = this.toolCtx(env, pid, argv, childEnv, io);
    let status = 0;
    /** the kernel killed the process (TaskDeath) with this signal */
    let killed: number | undefined;
    let core = false;
    if (!this.cpuMarks.has(pid)) this.cpuMarks.set(pid, { run: env.run, cpu: env.run.cpuNs, charged: env.run.charged });
    try {
      const r = fn(ctx);
      status = isGenerator(r) ? yield* r : r;
    } catch (e) {
      if (e instanceof ShellAbort || e instanceof ExitSignal) throw e;
      if (e instanceof TaskDeath) {
        killed = e.signal;
        status = 128 + e.signal;
        core = CORE_SIGNALS.has(killed) && this.host.getRlimit(pid, 4)[0] !== 0;
      } else if (e instanceof BrokenPipe) status = 141;
      else if (e instanceof KernelError) {
        status = 1;
        try {
          stderr.write(`${argv[0].split('/').pop()}: write error: ${e.message}\n`);
        } catch (e2) {
          if (e2 instanceof ShellAbort) throw e2;
        }
      } else {
        status = 1;
        try {
          stderr.write(`${argv[0].split('/').pop()}: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
        } catch (e2) {
          if (e2 instanceof ShellAbort) throw e2;
        }
      }
    } finally {
      if (reuse) {
        // the exec'd process goes on as the shell process it replaced: charge it up to now
        const own = this.cpuMarks.get(pid);
        this.chargeOwn(pid, this.limits.stepCostNs);
        if (own) this.cpuMarks.set(pid, { run: own.run, cpu: own.run.cpuNs, charged: own.run.charged });
      } else {
        this.chargeOwn(pid, this.limits.stepCostNs);
        this.host.exit(pid, status, killed);
      }
      env.run.step();
    }
    if (killed !== undefined) {
      // the process the shell ran in place of itself is gone: so is that shell process
      if (reuse && env !== this.env) throw new KilledSignal(status & 255, killed);
      if (!reuse && env.run.foreground && !env.midPipe) this.reportKilled(env, pid, killed, core, io);
    }
    return status & 255;
  }

  /** bash's report of a foreground child killed by a signal: "bash: line 1:  1234 Segmentation fault      cat /proc/x" */
  private reportKilled(env: ShEnv, pid: number, signal: number, dumped: boolean, io: Fds): void {
    if (signal === 2 || signal === 13) return;
    const cmd = env.cmd;
    const text = cmd ? [...cmd.assigns.map((a) => `${a.name}${a.append ? '+' : ''}=${a.value.raw}`), ...cmd.words.map((w) => w.raw)].join(' ') : '';
    const desc = SIGNAL_TEXT[signal] ?? `Unknown signal ${signal}`;
    const core = dumped ? '(core dumped) ' : '';
    if (signal === 15) this.writeErr(io, `${desc}\n`);
    else this.writeErr(io, `${this.prefix(env)}${String(pid).padStart(5)} ${desc.padEnd(24)}${core}${text}\n`);
  }

  private toolCtx(env: ShEnv, pid: number, argv: string[], childEnv: Record<string, string>, io: Fds): ToolCtx {
    const stdin = io.get(0)?.in ?? new InStream('');
    const stdout = io.get(1)?.out ?? new ClosedOut(env.run);
    const stderr = io.get(2)?.out ?? new ClosedOut(env.run);
    return {
      argv,
      env: childEnv,
      cwd: env.cwd,
      pid,
      stdin,
      stdout,
      stderr,
      host: this.host,
      tty: env.interactive && stdout instanceof TermOut,
      tick: (units = 1) => env.run.step(units),
      // every sleep costs a step: a tool that sleeps in a loop stays inside the command's budget
      sleepUntil: (ns: number) => {
        env.run.step();
        return this.sleepCo(ns, pid);
      },
      run: (args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) => this.toolRun(env, pid, io, args, opts),
    };
  }

  private *sleepCo(ns: number, pid?: number): Co<void> {
    const start = this.host.now();
    while (this.host.now() < ns) yield { t: 'sleep', until: ns };
    if (pid !== undefined) this.host.slept(pid, start, this.host.now());
  }

  /** a tool running another command (env, xargs, find -exec) */
  private *toolRun(env: ShEnv, pid: number, io: Fds, args: string[], opts: { stdin?: string; env?: Record<string, string> }): Co<number> {
    const child = this.fork(env);
    child.pid = pid;
    if (opts.env) {
      child.vars = new Map();
      for (const [k, v] of Object.entries(opts.env)) child.vars.set(k, { value: v, exported: true });
    }
    const childIo: Fds = new Map(io);
    if (opts.stdin !== undefined) childIo.set(0, { in: new InStream(opts.stdin) });
    child.funcs = new Map();
    if (args.length === 0) return 0;
    try {
      const bi = builtin(args[0]);
      if (bi && REGULAR_EXEC_BUILTINS.has(args[0])) {
        const r = bi(this, child, args, childIo);
        return isGenerator(r) ? yield* r : r;
      }
      return yield* this.runExternal(child, args, {}, childIo);
    } catch (e) {
      if (e instanceof ExitSignal) return e.status;
      throw e;
    }
  }

  // ------------------------------------------------------------------ redirections

  /** Applies redirections to a copy of `fds`; null (message printed) on failure. */
  *applyRedirs(env: ShEnv, redirs: Redir[], fds: Fds): Co<Fds | null> {
    const out: Fds = new Map(fds);
    for (const r of redirs) {
      env.line = r.line;
      let target: string;
      try {
        if (r.op === '<<' || r.op === '<<-') {
          const body = r.heredocQuoted ? (r.heredoc?.parts[0] as { value: string } | undefined)?.value ?? '' : yield* this.expandString(env, r.heredoc as Word);
          out.set(r.fd ?? 0, { in: new InStream(body) });
          continue;
        }
        if (r.op === '<<<') {
          const s = yield* this.expandString(env, r.target);
          out.set(r.fd ?? 0, { in: new InStream(s + '\n') });
          continue;
        }
        const fields = yield* this.expandWords(env, [r.target]);
        if (fields.length !== 1) {
          this.errmsg(env, `${r.target.raw}: ambiguous redirect`, fds);
          return null;
        }
        target = fields[0];
      } catch (e) {
        if (e instanceof ExpansionError) {
          this.expansionFailed(env, e, fds);
          return null;
        }
        throw e;
      }
      const fail = (code: ErrnoName | string): null => {
        const msg = code in STRERROR ? STRERROR[code as ErrnoName] : code;
        this.errmsg(env, `${target}: ${msg}`, fds);
        return null;
      };
      if (r.op === '<&' || r.op === '>&') {
        const fd = r.fd ?? (r.op === '<&' ? 0 : 1);
        if (target === '-') {
          out.delete(fd);
          continue;
        }
        if (/^\d+-?$/.test(target)) {
          const src = Number(target.replace('-', ''));
          const f = out.get(src);
          if (!f) {
            this.errmsg(env, `${src}: Bad file descriptor`, fds);
            return null;
          }
          out.set(fd, f);
          if (target.endsWith('-')) out.delete(src);
          continue;
        }
        if (r.op === '<&') {
          this.errmsg(env, `${target}: ambiguous redirect`, fds);
          return null;
        }
        // >&file == &>file
        const o = this.openOut(env, target, false, fail);
        if (!o) return null;
        out.set(1, { out: o });
        out.set(2, { out: o });
        continue;
      }
      if (r.op === '<') {
        const fd = r.fd ?? 0;
        const special = this.specialPath(target, out);
        if (special) {
          out.set(fd, special);
          continue;
        }
        try {
          const data = this.host.readFile(env.pid, target, env.cwd);
          out.set(fd, { in: new InStream(data) });
        } catch (e) {
          if (e instanceof KernelError) return fail(e.code);
          throw e;
        }
        continue;
      }
      if (r.op === '<>') {
        const fd = r.fd ?? 0;
        let data = '';
        try {
          data = this.host.readFile(env.pid, target, env.cwd);
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
          if (e.code !== 'ENOENT') return fail(e.code);
        }
        const o = this.openOut(env, target, true, fail);
        if (!o) return null;
        out.set(fd, { in: new InStream(data), out: o });
        continue;
      }
      // > >> >| &> &>>
      const append = r.op === '>>' || r.op === '&>>';
      if (env.opts.noclobber && r.op === '>') {
        try {
          const st = this.host.stat(env.pid, target, env.cwd);
          if (st.type === 'file') {
            this.errmsg(env, `${target}: cannot overwrite existing file`, fds);
            return null;
          }
        } catch {
          // does not exist: fine
        }
      }
      const special = this.specialPath(target, out);
      let o: OutStream | null;
      if (special) o = special.out ?? new ClosedOut(env.run);
      else o = this.openOut(env, target, append, fail);
      if (!o) return null;
      if (r.op === '&>' || r.op === '&>>') {
        out.set(1, { out: o });
        out.set(2, { out: o });
      } else out.set(r.fd ?? 1, { out: o });
    }
    return out;
  }

  private openOut(env: ShEnv, target: string, append: boolean, fail: (c: string) => null): OutStream | null {
    if (target === '/dev/null') return new NullOut(env.run);
    try {
      // bash opens redirections with mode 0666 (the umask makes files 0644)
      this.host.writeFile(env.pid, target, env.cwd, '', { append: true, mode: 0o666 });
      if (!append) this.host.writeFile(env.pid, target, env.cwd, '', { append: false, mode: 0o666 });
    } catch (e) {
      if (e instanceof KernelError) return fail(e.code);
      throw e;
    }
    return new FileOut(env.run, this.host, env.pid, target, env.cwd);
  }

  /** /dev/stdin, /dev/stdout, /dev/stderr, /dev/fd/N, like bash provides them */
  private specialPath(p: string, fds: Fds): Fd | undefined {
    const m = /^\/dev\/(?:(stdin)|(stdout)|(stderr)|fd\/(\d+))$/.exec(p);
    if (!m) return undefined;
    const fd = m[1] ? 0 : m[2] ? 1 : m[3] ? 2 : Number(m[4]);
    return fds.get(fd);
  }

  // ------------------------------------------------------------------ expansion

  /** Expands words to fields: braces, parameters, substitutions, splitting, globbing. */
  *expandWords(env: ShEnv, words: Word[]): Co<string[]> {
    const out: string[] = [];
    for (const w0 of words) {
      let ws: Word[];
      try {
        ws = braceExpand(w0);
      } catch (e) {
        if (e instanceof BraceLimit) throw new ExpansionError(e.message, 1);
        throw e;
      }
      for (const w of ws) {
        const pieces = yield* this.expandParts(env, w.parts, true);
        for (const f of this.fieldsOf(env, pieces)) {
          if (f.glob && !env.opts.noglob) {
            const matches = this.glob(env, f.pat);
            if (matches.length) {
              out.push(...matches);
              continue;
            }
          }
          out.push(f.text);
        }
        if (out.length > 1_000_000) throw new ExpansionError('too many words', 1);
      }
    }
    return out;
  }

  /** Expands a word to one string: no splitting, no globbing (assignments, here-docs, case). */
  *expandString(env: ShEnv, w: Word, assignment = false): Co<string> {
    const pieces = yield* this.expandParts(env, w.parts, false, assignment);
    return pieces.map((p) => p.s).join(pieces.some((p) => p.brk) ? ' ' : '');
  }

  /** Expands a word to a pattern: quoted characters are escaped. */
  *expandPattern(env: ShEnv, w: Word): Co<string> {
    const pieces = yield* this.expandParts(env, w.parts, false);
    return pieces.map((p) => (p.q ? escapePattern(p.s) : p.s)).join('');
  }

  private fieldsOf(env: ShEnv, pieces: Piece[]): { text: string; pat: string; glob: boolean }[] {
    const ifs = this.lookupVar(env, 'IFS') ?? ' \t\n';
    const fields: { text: string; pat: string; glob: boolean }[] = [];
    let text = '';
    let pat = '';
    let have = false;
    const end = (force: boolean): void => {
      if (have || force) fields.push({ text, pat, glob: hasGlob(pat) });
      text = '';
      pat = '';
      have = false;
    };
    for (const p of pieces) {
      if (p.brk) {
        end(false);
        continue;
      }
      if (!p.split || ifs === '') {
        text += p.s;
        pat += p.q ? escapePattern(p.s) : p.s;
        if (p.q || p.s !== '') have = true;
        continue;
      }
      if (p.s === '') continue;
      const parts = ifsSplit(p.s, ifs);
      const lead = ifs.includes(p.s[0]);
      const trail = ifs.includes(p.s[p.s.length - 1]);
      if (lead) end(false);
      parts.forEach((part, idx) => {
        if (idx > 0) end(true);
        text += part;
        pat += part;
        if (part !== '') have = true;
        else if (idx > 0 || lead) have = true;
      });
      if (trail && parts.length) end(false);
      if (parts.length === 0) end(false);
    }
    end(false);
    return fields;
  }

  /** @internal */
  *expandParts(env: ShEnv, parts: WordPart[], fields: boolean, assignment = false): Co<Piece[]> {
    const out: Piece[] = [];
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      switch (p.type) {
        case 'lit': {
          let v = p.value;
          if (i === 0 && !p.q && v.startsWith('~')) v = this.tilde(env, v, parts.length === 1);
          if (assignment && !p.q && v.includes(':~')) v = v.replace(/:~(?=\/|:|$)/g, ':' + (this.lookupVar(env, 'HOME') ?? '~'));
          out.push({ s: v, q: p.q, split: false });
          break;
        }
        case 'param':
          out.push(...(yield* this.paramPieces(env, p, fields)));
          break;
        case 'cmdsub': {
          const s = yield* this.commandSubst(env, p.body, p.text);
          out.push({ s, q: p.q, split: !p.q && fields });
          break;
        }
        case 'arith': {
          const text = yield* this.expandString(env, p.expr);
          let v: bigint;
          try {
            v = evalArith(text, this.arithVars(env));
          } catch (e) {
            if (e instanceof ArithError) throw new ExpansionError(e.message, 1);
            throw e;
          }
          out.push({ s: String(v), q: p.q, split: !p.q && fields });
          break;
        }
      }
    }
    return out;
  }

  private tilde(env: ShEnv, v: string, whole: boolean): string {
    const slash = v.indexOf('/');
    const user = slash < 0 ? v.slice(1) : v.slice(1, slash);
    const rest = slash < 0 ? '' : v.slice(slash);
    void whole;
    if (user === '') return (this.lookupVar(env, 'HOME') ?? '/root') + rest;
    if (user === '+') return env.cwd + rest;
    if (user === '-') return (this.lookupVar(env, 'OLDPWD') ?? '~-') + rest;
    try {
      const passwd = this.host.readFile(env.pid, '/etc/passwd', '/');
      for (const line of passwd.split('\n')) {
        const f = line.split(':');
        if (f[0] === user && f.length >= 6) return f[5] + rest;
      }
    } catch {
      // no passwd: leave as is
    }
    return v;
  }

  private *commandSubst(env: ShEnv, body: { commands: List[] }, _text: string): Co<string> {
    // $(< file)
    if (body.commands.length === 1 && body.commands[0].items.length === 1) {
      const ao = body.commands[0].items[0];
      const c = ao.first.commands[0];
      if (ao.rest.length === 0 && ao.first.commands.length === 1 && c.type === 'simple' && c.words.length === 0 && c.assigns.length === 0 && c.redirs.length === 1 && c.redirs[0].op === '<') {
        const f = yield* this.expandString(env, c.redirs[0].target);
        try {
          return this.host.readFile(env.pid, f, env.cwd).replace(/\n+$/, '');
        } catch (e) {
          if (e instanceof KernelError) {
            this.errmsg(env, `${f}: ${e.message}`);
            return '';
          }
          throw e;
        }
      }
    }
    const child = this.fork(env);
    const pipe = new PipeBuf(env.run, this.limits.maxPipe);
    const fds: Fds = new Map(env.fds ?? []);
    child.pid = yield* this.spawnChild(env, { argv: ['bash'], env: {}, cwd: env.cwd, ppid: env.pid, fork: true }, fds);
    child.execReady = body.commands.length === 1;
    child.callDepth++;
    fds.set(1, { out: pipe });
    let status = 0;
    let sig: number | undefined;
    try {
      if (child.callDepth > this.limits.maxCallDepth) throw new ShellAbort('depth', `maximum nesting level exceeded (${this.limits.maxCallDepth})`);
      for (const l of body.commands) status = yield* this.evalList(child, l, fds);
    } catch (e) {
      if (e instanceof ExitSignal) {
        status = e.status;
        sig = killSignal(e);
      } else if (e instanceof BrokenPipe) status = 141;
      else throw e;
    } finally {
      this.endChild(env, child.pid, status, sig);
    }
    env.subStatus = status;
    env.status = status;
    return pipe.text().replace(/\n+$/, '');
  }

  private *paramPieces(env: ShEnv, p: ParamPart, fields: boolean): Co<Piece[]> {
    const q = p.q;
    const piece = (s: string): Piece => ({ s, q, split: !q && fields });
    if (p.op === 'bad') throw new ExpansionError(`${p.text}: bad substitution`, 1);
    const name = p.name;
    const isList = name === '@' || name === '*';
    if (isList && p.op === '') {
      const pos = env.positional;
      if (name === '@' && q) {
        const out: Piece[] = [];
        pos.forEach((a, i) => {
          if (i > 0) out.push({ s: '', q: true, split: false, brk: true });
          out.push({ s: a, q: true, split: false });
        });
        return out;
      }
      if (q) {
        const ifs = this.lookupVar(env, 'IFS');
        const sep = ifs === undefined ? ' ' : ifs.slice(0, 1);
        return [{ s: pos.join(sep), q: true, split: false }];
      }
      const out: Piece[] = [];
      pos.forEach((a, i) => {
        if (i > 0) out.push({ s: '', q: false, split: false, brk: true });
        out.push({ s: a, q: false, split: fields });
      });
      return out;
    }
    const value = (): string | undefined => {
      if (isList) return env.positional.length ? env.positional.join(' ') : undefined;
      if (/^\d+$/.test(name)) {
        const n = Number(name);
        if (n === 0) return env.name;
        return env.positional[n - 1];
      }
      switch (name) {
        case '?':
          return String(env.status);
        case '$':
          return String(this.env.pid);
        case '!':
          return env.lastBg ? String(env.lastBg) : undefined;
        case '#':
          return String(env.positional.length);
        case '-':
          return (env.opts.errexit ? 'e' : '') + 'h' + (env.opts.nounset ? 'u' : '') + (env.opts.xtrace ? 'x' : '') + 'B' + (env.interactive ? 'i' : 'c');
      }
      return this.lookupVar(env, name);
    };
    const v = value();
    const unsetErr = (): never => {
      throw new ExpansionError(`${name}: unbound variable`, 127);
    };
    switch (p.op) {
      case '':
        if (v === undefined && env.opts.nounset && name !== '!' ) unsetErr();
        return [piece(v ?? '')];
      case 'len':
        if (isList) return [piece(String(env.positional.length))];
        if (v === undefined && env.opts.nounset) unsetErr();
        return [piece(String([...(v ?? '')].length))];
      case ':-':
      case '-': {
        const useArg = p.op === ':-' ? v === undefined || v === '' : v === undefined;
        if (!useArg) return [piece(v as string)];
        return yield* this.argPieces(env, p, fields);
      }
      case ':=':
      case '=': {
        const useArg = p.op === ':=' ? v === undefined || v === '' : v === undefined;
        if (!useArg) return [piece(v as string)];
        if (!NAME_RE.test(name)) throw new ExpansionError(`$${name}: cannot assign in this way`, 1);
        const s = yield* this.expandString(env, p.arg as Word);
        this.setVar(env, name, s);
        return [piece(s)];
      }
      case ':+':
      case '+': {
        const useArg = p.op === ':+' ? v !== undefined && v !== '' : v !== undefined;
        if (!useArg) return [];
        return yield* this.argPieces(env, p, fields);
      }
      case ':?':
      case '?': {
        const bad = p.op === ':?' ? v === undefined || v === '' : v === undefined;
        if (!bad) return [piece(v as string)];
        const msg = p.arg && p.arg.raw !== '' ? yield* this.expandString(env, p.arg) : 'parameter null or not set';
        throw new ExpansionError(`${name}: ${msg}`, 127);
      }
    }
    if (v === undefined && env.opts.nounset) unsetErr();
    const s = v ?? '';
    switch (p.op) {
      case '#':
      case '##':
      case '%':
      case '%%': {
        const pat = p.arg ? yield* this.expandPattern(env, p.arg) : '';
        return [piece(removeAffix(s, pat, p.op))];
      }
      case '/':
      case '//':
      case '/#':
      case '/%': {
        const pat = p.arg ? yield* this.expandPattern(env, p.arg) : '';
        const rep = p.arg2 ? yield* this.expandString(env, p.arg2) : '';
        return [piece(replacePattern(s, pat, rep, p.op))];
      }
      case ':': {
        const offText = p.arg ? yield* this.expandString(env, p.arg) : '0';
        let off: number;
        let len: number | undefined;
        try {
          off = Number(evalArith(offText, this.arithVars(env)));
          if (p.arg2) len = Number(evalArith(yield* this.expandString(env, p.arg2), this.arithVars(env)));
        } catch (e) {
          if (e instanceof ArithError) throw new ExpansionError(e.message, 1);
          throw e;
        }
        const chars = isList ? env.positional : [...s];
        if (off < 0) off = Math.max(0, chars.length + off);
        let endIdx = chars.length;
        if (len !== undefined) {
          if (len < 0) {
            endIdx = chars.length + len;
            if (endIdx < off) throw new ExpansionError(`${p.arg2?.raw ?? ''}: substring expression < 0`, 1);
          } else endIdx = Math.min(chars.length, off + len);
        }
        const sl = chars.slice(off, endIdx);
        return [piece(isList ? sl.join(' ') : sl.join(''))];
      }
      case '^':
      case '^^':
      case ',':
      case ',,': {
        const up = p.op[0] === '^';
        const all = p.op.length === 2;
        const f = (c: string): string => (up ? c.toUpperCase() : c.toLowerCase());
        return [piece(all ? [...s].map(f).join('') : s ? f(s[0]) + s.slice(1) : s)];
      }
    }
    return [piece(s)];
  }

  private *argPieces(env: ShEnv, p: ParamPart, fields: boolean): Co<Piece[]> {
    if (!p.arg) return [];
    const pieces = yield* this.expandParts(env, p.arg.parts, fields);
    return pieces.map((x) => ({ s: x.s, q: x.q || p.q, split: !(x.q || p.q) && fields && (x.split || !x.q), brk: x.brk }));
  }

  /** Pathname expansion against the VFS; sorted like bash in the C locale. */
  glob(env: ShEnv, pat: string): string[] {
    const abs = pat.startsWith('/');
    const comps = pat.split('/').filter((c, i) => c !== '' || i === 0);
    const trailingSlash = pat.endsWith('/') && pat.length > 1;
    let cands: string[] = [abs ? '/' : ''];
    const compsList = abs ? comps.slice(1) : comps;
    for (let ci = 0; ci < compsList.length; ci++) {
      const comp = compsList[ci];
      if (comp === '') continue;
      const last = ci === compsList.length - 1;
      const next: string[] = [];
      if (!hasGlob(comp)) {
        const lit = unescapePattern(comp);
        for (const c of cands) next.push(c === '' ? lit : c === '/' ? `/${lit}` : `${c}/${lit}`);
      } else {
        const m = compilePattern(comp, true);
        const dotOk = comp.startsWith('.') || comp.startsWith('\\.');
        for (const c of cands) {
          let names: { name: string; type: string }[];
          try {
            names = this.host.readdir(env.pid, c === '' ? '.' : c, env.cwd);
          } catch {
            continue;
          }
          const all = [...names.map((n) => n.name), '.', '..'];
          const hits = all.filter((n) => (dotOk || !n.startsWith('.')) && m(n)).sort(cmpC);
          for (const h of hits) {
            if (h === '.' || h === '..') {
              if (!comp.startsWith('.')) continue;
            }
            next.push(c === '' ? h : c === '/' ? `/${h}` : `${c}/${h}`);
          }
        }
      }
      cands = next;
      if (!last || trailingSlash) {
        cands = cands.filter((c) => {
          try {
            return this.host.stat(env.pid, c, env.cwd).type === 'dir';
          } catch {
            return false;
          }
        });
      } else {
        cands = cands.filter((c) => {
          try {
            this.host.stat(env.pid, c, env.cwd, false);
            return true;
          } catch {
            return false;
          }
        });
      }
      if (cands.length > 100_000) break;
    }
    return trailingSlash ? cands.map((c) => c + '/') : cands;
  }
}

/** Builtins whose variable assignments persist (POSIX special builtins). */
const SPECIAL_BUILTINS = new Set([':', '.', 'break', 'continue', 'eval', 'exec', 'exit', 'export', 'readonly', 'return', 'set', 'shift', 'source', 'trap', 'unset', 'local', 'declare', 'typeset']);

/** Builtins that also exist as executables run by env/xargs/find -exec. */
const REGULAR_EXEC_BUILTINS = new Set(['echo', 'printf', 'test', '[', 'true', 'false', 'kill', 'pwd']);

export function cmpC(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function traceQuote(s: string): string {
  if (s === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/** "[1]+  Running                 sleep 1 &" */
export function formatJob(j: JobInfo, all: readonly JobInfo[], withAmp = true): string {
  const cur = all[all.length - 1] === j ? '+' : all[all.length - 2] === j ? '-' : ' ';
  let state: string;
  if (j.state === 'Running') state = 'Running';
  else if (j.state === 'Stopped') state = 'Stopped';
  else if (j.signal) state = SIGNAL_TEXT[j.signal] ?? `Signal ${j.signal}`;
  else state = j.status === 0 ? 'Done' : `Exit ${j.status}`;
  const amp = j.state === 'Running' && withAmp ? ' &' : '';
  return `[${j.id}]${cur}  ${state.padEnd(24)}${j.text}${amp}`;
}

export const SIGNAL_TEXT: Record<number, string> = {
  1: 'Hangup',
  2: 'Interrupt',
  3: 'Quit',
  4: 'Illegal instruction',
  5: 'Trace/breakpoint trap',
  6: 'Aborted',
  7: 'Bus error',
  8: 'Floating point exception',
  9: 'Killed',
  11: 'Segmentation fault',
  13: 'Broken pipe',
  14: 'Alarm clock',
  15: 'Terminated',
  10: 'User defined signal 1',
  12: 'User defined signal 2',
  24: 'CPU time limit exceeded',
  25: 'File size limit exceeded',
  31: 'Bad system call',
};

/** signals whose default action dumps core (when RLIMIT_CORE allows) */
const CORE_SIGNALS = new Set([3, 4, 5, 6, 7, 8, 11, 24, 25, 31]);

/**
 * One foreground execution: a coroutine stepped by pump(). It runs
 * background jobs while it sleeps or waits, and stops at the step, CPU,
 * output and I/O budgets or on interrupt().
 */
/** turns of background work a waiting foreground execution does per pump */
const MAX_WAIT_SPINS = 10_000;

export class Execution {
  run: Run;
  private co: Co<number>;
  private readonly chunks: OutputChunk[] = [];
  status = 0;
  done = false;
  aborted?: AbortReason;
  /** virtual time the execution is blocked until (sleep), when blocked */
  blockedUntil?: number;
  private waitingFor?: number[];
  private pendingSleep?: number;

  constructor(
    private readonly sh: Shell,
    readonly src: string,
    stdin: string,
    resume?: { co: Co<number>; run: Run },
  ) {
    this.run = new Run(sh, sh.limits, true);
    const env = sh.env;
    env.run = this.run;
    const fds = sh.terminalFds(this.run, stdin);
    env.fds = fds;
    if (resume) {
      this.run = resume.run;
      this.co = resume.co;
      return;
    }
    this.co = (function* (): Co<number> {
      let status: number;
      try {
        status = yield* sh.runSource(env, src, fds);
      } catch (e) {
        if (e instanceof FatalSignal && env.interactive) return e.status;
        if (e instanceof ExitSignal) {
          env.status = e.status & 255;
          yield* sh.runExitTrap(fds);
          sh.exited = e.status & 255;
          return e.status & 255;
        }
        if (e instanceof LoopSignal) return 0;
        if (e instanceof ReturnSignal) return e.status;
        throw e;
      }
      // a non-interactive run is a `bash -c`: its EXIT trap runs when it ends
      if (!env.interactive) {
        env.status = status;
        yield* sh.runExitTrap(fds);
      }
      return status;
    })();
  }

  /** The shell process the execution runs in. */
  get env(): ShEnv {
    return this.sh.env;
  }

  /**
   * Steps the execution. Returns 'done', or 'blocked' when it waits for
   * virtual time the host will not move by itself (see blockedUntil).
   * `maxSteps` bounds the work done per call (to keep an event loop responsive).
   */
  pump(maxSteps = Infinity): 'done' | 'blocked' | 'running' {
    if (this.done) return 'done';
    this.sh.setCollector(this.chunks);
    try {
      let n = 0;
      for (;;) {
        if (n++ >= maxSteps) return 'running';
        if (this.pendingSleep !== undefined) {
          const r = this.waitTime(this.pendingSleep);
          if (r !== 'ok') return r;
          this.pendingSleep = undefined;
        }
        if (this.waitingFor) {
          const r = this.waitJobs(this.waitingFor);
          if (r !== 'ok') return r;
          this.waitingFor = undefined;
        }
        let r: IteratorResult<Req, number>;
        try {
          r = this.co.next();
        } catch (e) {
          this.finishAbort(e);
          return 'done';
        }
        if (r.done) {
          this.complete(r.value);
          this.drainJobs();
          return 'done';
        }
        const req = r.value;
        if (req.t === 'step') {
          try {
            this.run.step();
          } catch (e) {
            this.throwIn(e);
            if (this.done) return 'done';
          }
          this.sh.stepJobs(1);
        } else if (req.t === 'sleep') this.pendingSleep = req.until;
        else this.waitingFor = req.jobs;
      }
    } finally {
      this.sh.setCollector(null);
    }
  }

  /** background jobs that can run without time passing run on (bounded by their own budgets) */
  private drainJobs(): void {
    for (let i = 0; i < 10_000 && this.sh.jobsRunnable(); i++) this.sh.stepJobs(256);
  }

  private throwIn(e: unknown): void {
    try {
      const r = this.co.throw(e);
      if (r.done) this.complete(r.value);
      else if (r.value.t === 'sleep') this.pendingSleep = r.value.until;
    } catch (e2) {
      this.finishAbort(e2);
    }
  }

  private waitTime(until: number): 'ok' | 'blocked' | 'done' | 'running' {
    // background jobs run here without evaluation steps of the foreground: bound the spin so a
    // job that never settles gives control back (the caller's budgets and timeout then decide)
    for (let spins = 0; ; spins++) {
      if (spins >= MAX_WAIT_SPINS) return 'running';
      if (this.sh.interruptPending) {
        this.sh.interruptPending = false;
        this.throwIn(this.sh.takeAbort());
        return this.done ? 'done' : 'ok';
      }
      if (this.sh.host.now() >= until) return 'ok';
      if (this.sh.jobsRunnable()) {
        this.sh.stepJobs(64);
        continue;
      }
      const wake = Math.min(until, this.sh.nextJobWake() ?? Infinity);
      if (!this.sh.host.sleepUntil(wake)) {
        this.blockedUntil = wake;
        return 'blocked';
      }
      this.blockedUntil = undefined;
    }
  }

  private waitJobs(ids: number[]): 'ok' | 'blocked' | 'done' | 'running' {
    // background jobs run here without evaluation steps of the foreground: bound the spin so a
    // job that never settles gives control back (the caller's budgets and timeout then decide)
    for (let spins = 0; ; spins++) {
      if (spins >= MAX_WAIT_SPINS) return 'running';
      if (this.sh.interruptPending) {
        this.sh.interruptPending = false;
        this.throwIn(this.sh.takeAbort());
        return this.done ? 'done' : 'ok';
      }
      const pendingJobs = this.sh.jobList().filter((j) => ids.includes(j.id) && j.state === 'Running');
      if (pendingJobs.length === 0) return 'ok';
      if (this.sh.jobsRunnable()) {
        this.sh.stepJobs(64);
        continue;
      }
      const wake = this.sh.nextJobWake();
      if (wake === undefined) return 'ok';
      if (!this.sh.host.sleepUntil(wake)) {
        this.blockedUntil = wake;
        return 'blocked';
      }
    }
  }

  private complete(status: number): void {
    this.sh.chargeShell(this.run);
    this.status = status & 255;
    this.sh.env.status = this.status;
    this.done = true;
    if (this.sh.current === this) this.sh.current = null;
    this.sh.interruptPending = false;
  }

  private finishAbort(e: unknown): void {
    if (e instanceof ShellAbort) {
      this.aborted = e.reason;
      let status = 137;
      if (e.reason === 'timeout') status = 124;
      else if (e.reason === 'halted') status = 137;
      else if (e.reason === 'interrupt') {
        status = 130;
        if (!this.sh.env.interactive) this.sh.emit(2, '^C\n');
      } else if (e.reason === 'output') {
        status = 141;
        this.sh.emit(2, `\n[kernelab: output truncated: limit of ${this.sh.limits.maxOutput} bytes reached]\n`);
      } else this.sh.emit(2, `kernelab: command aborted: ${e.message}\n`);
      this.complete(status);
      return;
    }
    if (e instanceof ExitSignal) {
      this.sh.exited = e.status & 255;
      this.complete(e.status);
      return;
    }
    if (e instanceof TaskDeath) {
      // the kernel killed the shell process in a system call it made itself (a redirection)
      this.sh.emit(2, `${SIGNAL_TEXT[e.signal] ?? `Unknown signal ${e.signal}`}\n`);
      this.complete(128 + e.signal);
      return;
    }
    // a bug in the evaluator: never let it escape to the caller
    this.sh.emit(2, `bash: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    this.complete(1);
  }

  /** Ctrl-Z: stops the execution and moves it into the job table. */
  suspend(): JobInfo | undefined {
    if (this.done) return undefined;
    const job = this.sh.adoptStopped(this.src.trim(), this.co, this.run, this.sh.env, this.sh.env.pid);
    this.done = true;
    this.status = 148;
    this.sh.env.status = 148;
    if (this.sh.current === this) this.sh.current = null;
    return job;
  }

  /** Runs to completion (or until blocked on a clock the host will not move). */
  finish(): ExecResult {
    this.pump();
    return this.result();
  }

  /** Output so far, and the status once done. */
  result(): ExecResult {
    let stdout = '';
    let stderr = '';
    for (const c of this.chunks) {
      if (c.fd === 1) stdout += c.text;
      else stderr += c.text;
    }
    return { status: this.status, stdout, stderr, output: [...this.chunks], done: this.done, aborted: this.aborted };
  }

  /** Takes the output collected so far (for streaming to a terminal). */
  takeOutput(): OutputChunk[] {
    return this.chunks.splice(0);
  }
}

