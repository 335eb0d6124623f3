import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import { KernelShellHost } from '../shell/host';
import { DEFAULT_ENV, Shell, type Execution, type ShellLimits, type ShellState } from '../shell/shell';
import { Tty, type TtyState } from '../shell/tty';
import { installUserspace } from './install';
import { defaultToolTable } from './tools';
import type { ToolTable } from './types';

/**
 * A machine's userspace as the machine layer drives it: one-shot commands
 * (`exec`: a `bash -c` process per call) and interactive terminals (a login
 * shell per terminal behind a line discipline). Both run in the machine's
 * virtual time; pumping is bounded so a runaway command never holds the
 * caller for long.
 */
export interface ExecRequest {
  command: string;
  stdin?: string;
  env?: Record<string, string>;
  cwd?: string;
  /** a command still running after this long is stopped as timeout(1) does (exit 124) */
  timeoutMs?: number;
}

export interface ExecOutcome {
  stdout: string;
  stderr: string;
  exitCode: number;
  /** pid of the `bash -c` process that ran the command */
  pid: number;
  /** virtual time the command started (ns since boot) */
  startedAtNs: number;
  /** virtual time it took, CPU time of a manual clock included (ns) */
  durationNs: number;
  /** output went over the per-call cap and was cut */
  truncated: boolean;
  timedOut: boolean;
}

export const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
/** evaluation steps between two timeout checks */
const TIMEOUT_CHECK_STEPS = 256;
/** steps between two yieldNow() checks (a step can be a whole tool run: thousands of trace records under a tracer) */
const YIELD_CHECK_STEPS = 4;
export const MAX_EXEC_TIMEOUT_MS = 600_000;
/** most terminals one machine keeps open */
export const MAX_TERMINALS = 8;
/** terminal output kept for resuming subscribers (characters) */
export const TERMINAL_BACKLOG = 256 * 1024;

/**
 * A host whose sleeps stop at a deadline: a manual clock advances itself only
 * up to it, so a timed-out `sleep 100` ends at the timeout, not after it.
 */
class DeadlineHost extends KernelShellHost {
  deadlineNs = Infinity;
  constructor(
    k: Kernel,
    private readonly manual: boolean,
  ) {
    super(k, { clock: manual ? 'manual' : 'realtime' });
  }

  override sleepUntil(ns: number): boolean {
    if (this.manual && ns > this.deadlineNs) {
      super.sleepUntil(this.deadlineNs);
      return false;
    }
    return super.sleepUntil(ns);
  }
}

export type PumpState = { t: 'done' } | { t: 'running' } | { t: 'blocked'; untilNs: number };

/** One `exec`: a `bash -c` process running `command`. */
export class ExecRun {
  private readonly shell: Shell;
  private readonly ex: Execution;
  private readonly host: DeadlineHost;
  readonly startNs: number;
  private readonly timeoutNs: number;
  private timedOut = false;
  private machineCrashed = false;
  private endNs?: number;

  constructor(
    private readonly k: Kernel,
    tools: ToolTable,
    req: ExecRequest,
    private readonly manual: boolean,
    limits?: Partial<ShellLimits>,
  ) {
    const timeoutMs = req.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    this.timeoutNs = timeoutMs * 1e6;
    const cwd = req.cwd ?? '/root';
    const ctx = k.rootCtx();
    const dir = k.vfs.resolve(ctx, cwd, { follow: true });
    if (dir.node.type !== 'dir') throw new KernelError('ENOTDIR', `cwd ${cwd} is not a directory`);
    this.host = new DeadlineHost(k, manual);
    this.startNs = k.now;
    this.host.deadlineNs = this.startNs + this.timeoutNs;
    this.shell = new Shell({ host: this.host, tools, mode: 'c', cwd: dir.path, env: { ...DEFAULT_ENV, ...req.env }, limits });
    this.ex = this.shell.start(req.command, { stdin: req.stdin ?? '' });
  }

  get pid(): number {
    return this.shell.pid;
  }

  private elapsedNs(): number {
    return this.k.now - this.startNs + (this.manual ? this.ex.run.cpuNs : 0);
  }

  /**
   * Runs at most `maxSteps` evaluation steps, checking the timeout every few
   * hundred, or until `yieldNow()` says the caller's time slice is spent.
   */
  pump(maxSteps = Infinity, yieldNow?: () => boolean): PumpState {
    let budget = maxSteps;
    for (;;) {
      if (!this.ex.done && this.k.faults.crashed) {
        // the kernel panicked under the command: nothing runs any more
        this.machineCrashed = true;
        this.endNs ??= this.elapsedNs();
        return { t: 'done' };
      }
      if (!this.ex.done && !this.timedOut && this.elapsedNs() >= this.timeoutNs) {
        this.timedOut = true;
        this.shell.timeoutForeground();
      }
      const slice = Math.min(yieldNow ? YIELD_CHECK_STEPS : TIMEOUT_CHECK_STEPS, budget);
      const st = this.ex.pump(slice);
      if (st === 'done') {
        if (this.endNs === undefined) {
          this.endNs = this.elapsedNs();
          // the `bash -c` process ends with its command (its background jobs with it)
          this.shell.terminate(this.ex.status);
        }
        return { t: 'done' };
      }
      if (st === 'running') {
        budget -= slice;
        if (budget <= 0 || yieldNow?.()) return { t: 'running' };
        continue;
      }
      const until = Math.min(this.ex.blockedUntil ?? this.k.now, this.startNs + this.timeoutNs);
      // a manual clock stopped at the deadline: go round once more to time out
      if (this.manual && this.k.now >= until) continue;
      return { t: 'blocked', untilNs: until };
    }
  }

  /** Runs to the end on a clock that moves itself (replay, manual machines). */
  runToEnd(): ExecOutcome {
    for (;;) {
      const st = this.pump();
      if (st.t === 'done') return this.outcome();
      if (st.t === 'blocked') this.k.advanceTo(st.untilNs);
    }
  }

  outcome(): ExecOutcome {
    const r = this.ex.result();
    return {
      stdout: r.stdout,
      stderr: r.stderr,
      // a panic stops every task: the command never finished (reported as killed)
      exitCode: this.machineCrashed ? 137 : r.status,
      pid: this.shell.pid,
      startedAtNs: this.startNs,
      durationNs: Math.round(this.endNs ?? this.elapsedNs()),
      truncated: r.aborted === 'output',
      timedOut: this.timedOut && r.aborted === 'timeout',
    };
  }
}

export interface TerminalOutput {
  seq: number;
  channel: 'stdout' | 'exit';
  /** stdout text */
  data?: string;
  /** exit status of the shell */
  code?: number;
}

export interface TerminalState {
  id: string;
  cols: number;
  rows: number;
  pts?: number;
  shell: ShellState;
  tty: TtyState;
  nextSeq: number;
  backlog: TerminalOutput[];
  exitCode: number | null;
}

/** An interactive terminal: a login shell behind a line discipline. */
export class Terminal {
  readonly shell: Shell;
  readonly tty: Tty;
  cols: number;
  rows: number;
  /** its pseudo-terminal: /dev/pts/N */
  readonly pts: number;
  private nextSeq = 1;
  private backlog: TerminalOutput[] = [];
  private backlogChars = 0;
  exitCode: number | null = null;
  private readonly listeners = new Set<(o: TerminalOutput) => void>();

  constructor(
    readonly id: string,
    k: Kernel,
    tools: ToolTable,
    opts: { cols: number; rows: number; manual: boolean; pts: number; state?: TerminalState },
  ) {
    this.cols = opts.cols;
    this.rows = opts.rows;
    this.pts = opts.state?.pts ?? opts.pts;
    const host = new KernelShellHost(k, { clock: opts.manual ? 'manual' : 'realtime', tty: `pts/${this.pts}` });
    const env = { ...DEFAULT_ENV, COLUMNS: String(opts.cols), LINES: String(opts.rows) };
    // a restored terminal takes over its shell process (in the kernel state) rather than starting one
    this.shell = new Shell({ host, tools, mode: 'interactive', cwd: '/root', env, pid: opts.state?.shell.pid });
    this.tty = new Tty(this.shell);
    if (opts.state) {
      const s = opts.state;
      this.shell.setState(s.shell);
      this.tty.setState(s.tty);
      this.nextSeq = s.nextSeq;
      this.backlog = s.backlog.map((o) => ({ ...o }));
      this.backlogChars = this.backlog.reduce((n, o) => n + (o.data?.length ?? 0), 0);
      this.exitCode = s.exitCode;
    } else {
      this.write(this.tty.start());
    }
  }

  get closed(): boolean {
    return this.exitCode !== null;
  }

  getState(): TerminalState {
    return {
      id: this.id,
      cols: this.cols,
      rows: this.rows,
      pts: this.pts,
      shell: this.shell.getState(),
      tty: this.tty.getState(),
      nextSeq: this.nextSeq,
      backlog: this.backlog.map((o) => ({ ...o })),
      exitCode: this.exitCode,
    };
  }

  /** seq the next output will carry */
  get seq(): number {
    return this.nextSeq;
  }

  /** output kept from `fromSeq` on, and how many earlier ones were dropped */
  since(fromSeq: number): { out: TerminalOutput[]; missed: number } {
    const first = this.backlog.length ? this.backlog[0].seq : this.nextSeq;
    return { out: this.backlog.filter((o) => o.seq >= fromSeq), missed: Math.max(0, first - fromSeq) };
  }

  onOutput(fn: (o: TerminalOutput) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private push(o: Omit<TerminalOutput, 'seq'>): void {
    const out: TerminalOutput = { seq: this.nextSeq++, ...o };
    this.backlog.push(out);
    this.backlogChars += out.data?.length ?? 0;
    while (this.backlogChars > TERMINAL_BACKLOG && this.backlog.length > 1) {
      const old = this.backlog.shift() as TerminalOutput;
      this.backlogChars -= old.data?.length ?? 0;
    }
    for (const fn of [...this.listeners]) fn(out);
  }

  private write(text: string): void {
    if (text) this.push({ channel: 'stdout', data: text });
    if (this.tty.isClosed && this.exitCode === null) {
      this.exitCode = this.shell.exited ?? this.shell.lastStatus;
      this.shell.terminate(this.exitCode);
      this.push({ channel: 'exit', code: this.exitCode });
    }
  }

  input(data: string): void {
    if (this.closed) throw new KernelError('EPIPE', 'terminal has exited');
    this.write(this.tty.input(data));
  }

  resize(cols: number, rows: number): void {
    this.cols = cols;
    this.rows = rows;
    this.shell.setVar(this.shell.env, 'COLUMNS', String(cols));
    this.shell.setVar(this.shell.env, 'LINES', String(rows));
  }

  /** Resumes a foreground command whose time has come (or that ran out of steps). */
  tick(): void {
    if (!this.closed) this.write(this.tty.tick());
  }

  /** See Tty.wakeAt. */
  get wakeAt(): number | undefined {
    return this.closed ? undefined : this.tty.wakeAt;
  }

  /** Hang-up: the shell gets SIGHUP and exits with 129. */
  hangup(): void {
    if (this.closed) return;
    this.shell.interrupt();
    this.exitCode = 129;
    this.shell.terminate(129);
    this.push({ channel: 'exit', code: 129 });
    this.listeners.clear();
  }
}

/** The userspace of one machine. */
export class Userspace {
  private table?: ToolTable;
  readonly terminals = new Map<string, Terminal>();

  constructor(private readonly k: Kernel) {}

  /** The tool table, installed into the machine's filesystem on first use. */
  tools(): ToolTable {
    if (!this.table) {
      this.table = defaultToolTable();
      installUserspace(this.k, this.table);
    }
    return this.table;
  }

  exec(req: ExecRequest, manual: boolean, limits?: Partial<ShellLimits>): ExecRun {
    if (typeof req.command !== 'string') throw new KernelError('EINVAL', 'command must be a string');
    const t = req.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    if (!Number.isInteger(t) || t < 1 || t > MAX_EXEC_TIMEOUT_MS) throw new KernelError('EINVAL', `timeoutMs must be an integer from 1 to ${MAX_EXEC_TIMEOUT_MS}`);
    return new ExecRun(this.k, this.tools(), req, manual, limits);
  }

  openTerminal(id: string, cols: number, rows: number, manual: boolean): Terminal {
    if (this.terminals.has(id)) throw new KernelError('EEXIST', `terminal ${id} exists`);
    const open = [...this.terminals.values()].filter((t) => !t.closed).length;
    if (open >= MAX_TERMINALS) throw new KernelError('EAGAIN', `a machine keeps at most ${MAX_TERMINALS} terminals open`);
    for (const [tid, t] of this.terminals) if (t.closed) this.terminals.delete(tid);
    const used = new Set([...this.terminals.values()].map((x) => x.pts));
    let pts = 0;
    while (used.has(pts)) pts++;
    const t = new Terminal(id, this.k, this.tools(), { cols, rows, manual, pts });
    this.terminals.set(id, t);
    return t;
  }

  terminal(id: string): Terminal {
    const t = this.terminals.get(id);
    if (!t) throw new KernelError('ENOENT', `no terminal ${id}`);
    return t;
  }

  closeTerminal(id: string): void {
    const t = this.terminal(id);
    t.hangup();
    this.terminals.delete(id);
  }

  getState(): TerminalState[] {
    return [...this.terminals.values()].map((t) => t.getState());
  }

  setState(terms: TerminalState[] | undefined, manual: boolean): void {
    this.terminals.clear();
    for (const s of terms ?? []) this.terminals.set(s.id, new Terminal(s.id, this.k, this.tools(), { cols: s.cols, rows: s.rows, manual, pts: s.pts ?? 0, state: s }));
  }
}
