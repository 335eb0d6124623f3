import { KernelError } from '../errors';
import type { ShellHost } from './host';

/**
 * Streams of the shell: bounded in-memory pipes (strings), the terminal
 * sink, files, and the control-flow signals that travel through the
 * evaluator as exceptions.
 */

/** Why an execution was stopped from outside the script. */
export type AbortReason = 'interrupt' | 'timeout' | 'halted' | 'steps' | 'cpu' | 'output' | 'io' | 'depth';

/** Stops the whole execution (never caught by a tool or a subshell). */
export class ShellAbort extends Error {
  constructor(
    readonly reason: AbortReason,
    message: string,
  ) {
    super(message);
    this.name = 'ShellAbort';
  }
}

/** `exit N` (caught at the boundary of the subshell or shell). */
export class ExitSignal {
  constructor(readonly status: number) {}
}

/** `return N` */
export class ReturnSignal {
  constructor(readonly status: number) {}
}

/** `break N` / `continue N` */
export class LoopSignal {
  constructor(
    readonly kind: 'break' | 'continue',
    public n: number,
  ) {}
}

/** A write to a pipe nobody will read any more (the writer gets SIGPIPE). */
export class BrokenPipe extends Error {
  constructor() {
    super('Broken pipe');
    this.name = 'BrokenPipe';
  }
}

/** Budget shared by everything one execution writes (terminal, pipes, files, /dev/null). */
export interface IoBudget {
  /** total bytes written so far */
  written: number;
  /** abort past this many bytes written anywhere */
  maxWritten: number;
  /** called on every write: steps/interrupt checks */
  check(): void;
}

export abstract class OutStream {
  constructor(protected readonly budget: IoBudget) {}
  write(s: string): void {
    if (s.length === 0) return;
    this.budget.written += s.length;
    if (this.budget.written > this.budget.maxWritten) {
      throw new ShellAbort('io', `I/O limit reached (${this.budget.maxWritten} bytes written)`);
    }
    this.budget.check();
    this.put(s);
  }
  protected abstract put(s: string): void;
}

/** An in-memory pipe: everything written, up to `cap` characters. */
export class PipeBuf extends OutStream {
  private chunks: string[] = [];
  private size = 0;
  /** the writer hit the capacity and was stopped */
  overflowed = false;

  constructor(
    budget: IoBudget,
    readonly cap: number,
  ) {
    super(budget);
  }

  protected put(s: string): void {
    if (this.overflowed) throw new BrokenPipe();
    if (this.size + s.length > this.cap) {
      const room = this.cap - this.size;
      if (room > 0) this.chunks.push(s.slice(0, room));
      this.size = this.cap;
      this.overflowed = true;
      throw new BrokenPipe();
    }
    this.chunks.push(s);
    this.size += s.length;
  }

  text(): string {
    if (this.chunks.length > 1) this.chunks = [this.chunks.join('')];
    return this.chunks[0] ?? '';
  }
}

/** Output that nobody reads (/dev/null, a closed fd that drops). */
export class NullOut extends OutStream {
  protected put(): void {
    // discarded
  }
}

/** A write to a closed file descriptor. */
export class ClosedOut extends OutStream {
  protected put(): void {
    throw new KernelError('EBADF');
  }
}

/** Writes through to a file on the host (opened, truncated or appended, before). */
export class FileOut extends OutStream {
  constructor(
    budget: IoBudget,
    private readonly host: ShellHost,
    private readonly pid: number,
    private readonly path: string,
    private readonly cwd: string,
  ) {
    super(budget);
  }

  protected put(s: string): void {
    this.host.writeFile(this.pid, this.path, this.cwd, s, { append: true, create: false });
  }
}

/** Terminal output: fd 1 or 2 of the session, through a shared sink. */
export interface TermSink {
  /** appends output; throws ShellAbort('output') past the cap */
  emit(fd: 1 | 2, s: string): void;
}

export class TermOut extends OutStream {
  constructor(
    budget: IoBudget,
    private readonly sink: TermSink,
    readonly fd: 1 | 2,
  ) {
    super(budget);
  }

  protected put(s: string): void {
    this.sink.emit(this.fd, s);
  }
}

/** Readable input: the whole content is known (pipes run stage by stage). */
export class InStream {
  private pos = 0;
  constructor(private readonly data: string) {}

  /** the rest of the input */
  readAll(): string {
    const r = this.pos === 0 ? this.data : this.data.slice(this.pos);
    this.pos = this.data.length;
    return r;
  }

  /** one line without its newline, or null at end of input */
  readLine(): { line: string; nl: boolean } | null {
    if (this.pos >= this.data.length) return null;
    const e = this.data.indexOf('\n', this.pos);
    if (e < 0) {
      const line = this.data.slice(this.pos);
      this.pos = this.data.length;
      return { line, nl: false };
    }
    const line = this.data.slice(this.pos, e);
    this.pos = e + 1;
    return { line, nl: true };
  }

  /** up to n characters */
  read(n: number): string {
    const r = this.data.slice(this.pos, this.pos + n);
    this.pos += r.length;
    return r;
  }

  get eof(): boolean {
    return this.pos >= this.data.length;
  }
}

export const EMPTY_INPUT = (): InStream => new InStream('');

/** A file descriptor of a command: an input, an output, or both (<>). */
export interface Fd {
  in?: InStream;
  out?: OutStream;
}

export type Fds = Map<number, Fd>;
