import { Parser, ShellSyntaxError } from './parser';
import type { Execution, OutputChunk, Shell } from './shell';
import type { Kernel } from '../kernel';
import { fireBashReadline } from '../bpftrace/uprobes';

/**
 * A pure line discipline for an interactive terminal: bytes in, bytes out.
 * Canonical mode with echo, backspace, ^C (interrupt the foreground, or
 * drop the line), ^D (EOF on an empty line), ^Z (stop the foreground into
 * a job), ^U, ^L, arrow-key history, PS2 continuation lines, and ONLCR
 * (\n -> \r\n) on output. The prompt is bash's `\u@\h:\w\$ `.
 */
export interface TtyState {
  line: string;
  /** lines of an incomplete command (PS2 continuation) */
  cont: string[];
  /** position while browsing history (history.length = the draft) */
  histPos: number;
  draft: string;
  closed: boolean;
}

export interface TtyOptions {
  /** evaluation steps per pump before returning control to the caller */
  stepsPerPump?: number;
}

export class Tty {
  private line = '';
  private cont: string[] = [];
  private histPos = 0;
  private draft = '';
  private esc = '';
  private closed = false;
  private ex: Execution | null = null;
  private readonly stepsPerPump: number;
  /** how the last pump of the foreground command ended */
  private lastPump: 'done' | 'blocked' | 'running' = 'done';

  constructor(
    readonly shell: Shell,
    opts: TtyOptions = {},
  ) {
    this.stepsPerPump = opts.stepsPerPump ?? 5000;
    this.histPos = shell.history.length;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** true while a foreground command runs */
  get busy(): boolean {
    return this.ex !== null;
  }

  /**
   * When the foreground command wants to be pumped again (tick()): undefined
   * while the terminal waits for input, 0 when it ran out of steps and should
   * go on at once, or the virtual time (ns) it sleeps until.
   */
  get wakeAt(): number | undefined {
    if (!this.ex) return undefined;
    if (this.lastPump === 'blocked') return this.ex.blockedUntil ?? 0;
    return 0;
  }

  /** the first prompt */
  start(): string {
    return this.prompt();
  }

  prompt(): string {
    if (this.cont.length) return '> ';
    const sh = this.shell;
    const env = sh.env;
    const uid = sh.host.uid;
    let user = sh.getVar('USER') ?? (uid === 0 ? 'root' : String(uid));
    try {
      const pw = sh.host.readFile(env.pid, '/etc/passwd', '/');
      const f = pw.split('\n').find((l) => Number(l.split(':')[2]) === uid);
      if (f) user = f.split(':')[0];
    } catch {
      // keep $USER
    }
    const host = sh.readHostname().split('.')[0];
    const home = sh.getVar('HOME');
    let cwd = env.cwd;
    if (home && home !== '/' && (cwd === home || cwd.startsWith(home + '/'))) cwd = '~' + cwd.slice(home.length);
    return `${user}@${host}:${cwd}${uid === 0 ? '#' : '$'} `;
  }

  getState(): TtyState {
    return { line: this.line, cont: [...this.cont], histPos: this.histPos, draft: this.draft, closed: this.closed };
  }

  setState(s: TtyState): void {
    this.line = s.line;
    this.cont = [...s.cont];
    this.histPos = s.histPos;
    this.draft = s.draft;
    this.closed = s.closed;
    this.esc = '';
    this.ex = null;
  }

  private crlf(s: string): string {
    return s.replace(/\r?\n/g, '\r\n');
  }

  private chunksOut(chunks: OutputChunk[]): string {
    return this.crlf(chunks.map((c) => c.text).join(''));
  }

  /** Feeds input bytes; returns what the terminal shows. */
  input(data: string): string {
    if (this.closed) return '';
    let out = '';
    for (const ch of data) {
      if (this.esc) {
        this.esc += ch;
        if (this.esc === '\x1b[' || this.esc === '\x1bO') continue;
        if (this.esc.length > 2 && /^[0-9;]*$/.test(this.esc.slice(2))) continue;
        const seq = this.esc;
        this.esc = '';
        if (!this.ex) out += this.escape(seq);
        continue;
      }
      if (ch === '\x1b') {
        this.esc = ch;
        continue;
      }
      if (this.ex) {
        out += this.whileRunning(ch);
        continue;
      }
      out += this.key(ch);
      if (this.closed) break;
    }
    return out;
  }

  /** Resumes a foreground command that was waiting (time passed). */
  tick(): string {
    if (!this.ex) return '';
    return this.pump();
  }

  private whileRunning(ch: string): string {
    const ex = this.ex as Execution;
    if (ch === '\x03') {
      this.shell.interrupt();
      return '^C' + this.pump();
    }
    if (ch === '\x1a') {
      const job = ex.suspend();
      this.ex = null;
      let out = this.chunksOut(ex.takeOutput());
      if (job) out += `^Z\r\n[${job.id}]+  Stopped                 ${job.text}\r\n`;
      return out + this.prompt();
    }
    // type-ahead is echoed; it is not delivered (foreground stdin is empty)
    if (ch === '\r' || ch === '\n') return '\r\n';
    if (ch >= ' ') return ch;
    return '';
  }

  private pump(): string {
    const ex = this.ex as Execution;
    const st = ex.pump(this.stepsPerPump);
    this.lastPump = st;
    let out = this.chunksOut(ex.takeOutput());
    if (st === 'done') {
      this.ex = null;
      if (ex.aborted === 'interrupt') out += '\r\n';
      if (this.shell.exited !== null) {
        this.closed = true;
        return out;
      }
      out += this.crlf(this.shell.reapNotifications());
      out += this.prompt();
    }
    return out;
  }

  private escape(seq: string): string {
    const h = this.shell.history;
    if (seq === '\x1b[A' || seq === '\x1bOA') {
      if (this.histPos === 0 || h.length === 0) return '\x07';
      if (this.histPos === h.length) this.draft = this.line;
      this.histPos--;
      return this.replaceLine(h[this.histPos]);
    }
    if (seq === '\x1b[B' || seq === '\x1bOB') {
      if (this.histPos >= h.length) return '\x07';
      this.histPos++;
      return this.replaceLine(this.histPos === h.length ? this.draft : h[this.histPos]);
    }
    return '';
  }

  private replaceLine(text: string): string {
    const erase = '\b \b'.repeat([...this.line].length);
    this.line = text;
    return erase + text;
  }

  private key(ch: string): string {
    switch (ch) {
      case '\r':
      case '\n':
        return '\r\n' + this.submit();
      case '\x7f':
      case '\b':
        if (!this.line) return '';
        this.line = [...this.line].slice(0, -1).join('');
        return '\b \b';
      case '\x03':
        this.line = '';
        this.cont = [];
        this.histPos = this.shell.history.length;
        this.shell.env.status = 130;
        return '^C\r\n' + this.prompt();
      case '\x04':
        if (this.line !== '') return '';
        if (this.cont.length) {
          this.cont = [];
          return '\r\nbash: syntax error: unexpected end of file\r\n' + this.prompt();
        }
        this.closed = true;
        return 'exit\r\n';
      case '\x15': {
        const erase = '\b \b'.repeat([...this.line].length);
        this.line = '';
        return erase;
      }
      case '\x0c':
        return '\x1b[H\x1b[2J' + this.prompt() + this.line;
      case '\x1a':
        return '';
      case '\t':
        return '';
    }
    if (ch < ' ') return '';
    this.line += ch;
    return ch;
  }

  private submit(): string {
    // bash's readline() returns this line: uprobe:/bin/bash:readline fires
    const k = (this.shell.host as { k?: Kernel }).k;
    if (k) fireBashReadline(k, this.shell.env.pid, this.line, this.shell.history.length);
    const text = [...this.cont, this.line].join('\n');
    this.line = '';
    if (text.trim() === '') {
      this.cont = [];
      return this.crlf(this.shell.reapNotifications()) + this.prompt();
    }
    if (incomplete(text)) {
      this.cont = text.split('\n');
      return this.prompt();
    }
    this.cont = [];
    this.ex = this.shell.start(text, { history: true });
    this.histPos = this.shell.history.length;
    this.draft = '';
    return this.pump();
  }
}

/** true when more lines are needed (bash would print PS2) */
function incomplete(src: string): boolean {
  try {
    Parser.parse(src);
    return false;
  } catch (e) {
    if (!(e instanceof ShellSyntaxError)) return false;
    return /unexpected end of file|unexpected EOF while looking for matching/.test(e.message);
  }
}
