import type { ShellHost } from '../shell/host';
import type { InStream, OutStream } from '../shell/io';

/**
 * What a running command asks of the shell's scheduler. The evaluator and
 * blocking tools are generators yielding these; everything else is plain
 * synchronous code.
 */
export type Req =
  /** one evaluation step (budget, interrupt and background-job point) */
  | { t: 'step' }
  /** block until virtual time `until` (ns since boot) */
  | { t: 'sleep'; until: number }
  /** block until the given background jobs (ids) have finished */
  | { t: 'wait'; jobs: number[] };

export type Co<T> = Generator<Req, T, void>;

/** The context a tool runs in: its process, its stdio, the machine. */
export interface ToolCtx {
  /** argv[0] is the name the tool was invoked by */
  readonly argv: string[];
  /** the exported environment */
  readonly env: Record<string, string>;
  readonly cwd: string;
  readonly pid: number;
  readonly stdin: InStream;
  readonly stdout: OutStream;
  readonly stderr: OutStream;
  readonly host: ShellHost;
  /** stdout is the terminal of an interactive session (ls prints columns) */
  readonly tty: boolean;
  /** charges `units` steps of work to the execution; throws (abort) past the budget or on Ctrl-C */
  tick(units?: number): void;
  /** blocks until virtual time `ns` (use with yield*) */
  sleepUntil(ns: number): Co<void>;
  /**
   * Runs another command (PATH lookup, tools and scripts) as a child with
   * the given stdin text (default: this tool's stdin) and this tool's
   * stdout/stderr. Returns its exit status. Use with yield*.
   */
  run(argv: string[], opts?: { stdin?: string; env?: Record<string, string> }): Co<number>;
}

/** A tool: returns its exit status, or is a generator (for tools that block or run others). */
export type ToolFn = (ctx: ToolCtx) => number | Co<number>;

export interface ToolSpec {
  name: string;
  /** directory its executable is installed in (default /usr/bin) */
  dir?: string;
  run: ToolFn;
}

/** The table of installed tools. Other subsystems add theirs with register(). */
export class ToolTable {
  private readonly tools = new Map<string, ToolSpec>();

  register(spec: ToolSpec): this {
    this.tools.set(spec.name, spec);
    return this;
  }

  registerAll(specs: readonly ToolSpec[]): this {
    for (const s of specs) this.register(s);
    return this;
  }

  get(name: string): ToolSpec | undefined {
    return this.tools.get(name);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  list(): ToolSpec[] {
    return [...this.tools.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}

export function isGenerator(v: unknown): v is Co<number> {
  return typeof v === 'object' && v !== null && typeof (v as { next?: unknown }).next === 'function' && typeof (v as { throw?: unknown }).throw === 'function';
}
