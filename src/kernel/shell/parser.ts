import type {
  AndOr,
  Assign,
  Case,
  CaseItem,
  Command,
  CondCommand,
  For,
  FuncDef,
  If,
  List,
  Loop,
  ParamOp,
  ParamPart,
  Pipeline,
  Redir,
  RedirOp,
  Script,
  SimpleCommand,
  Word,
  WordPart,
} from './ast';

/**
 * Lexer and recursive-descent parser for a POSIX shell with the common bash
 * extensions. Errors are ShellSyntaxError with bash's texts and the line
 * bash reports; limits (length, tokens, nesting) raise the same error type
 * with a message saying which limit was hit.
 */
export interface ParseLimits {
  /** maximum source length in characters */
  maxLength: number;
  /** maximum number of tokens in one parse */
  maxTokens: number;
  /** maximum nesting of compound commands and substitutions */
  maxDepth: number;
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = { maxLength: 64 * 1024, maxTokens: 20_000, maxDepth: 64 };

export class ShellSyntaxError extends Error {
  constructor(
    message: string,
    readonly pos: number,
    readonly line: number,
    /** bash prints the offending source line after "near unexpected token" errors */
    readonly sourceLine?: string,
    /** a limit was exceeded (not a grammar error) */
    readonly limit = false,
  ) {
    super(message);
    this.name = 'ShellSyntaxError';
  }
}

type Tok =
  | { k: 'word'; w: Word; pos: number; end: number; line: number }
  | { k: 'ionum'; n: number; pos: number; end: number; line: number }
  | { k: 'op'; op: string; pos: number; end: number; line: number; synthetic?: boolean }
  | { k: 'eof'; pos: number; end: number; line: number };

const OPS = ['&>>', ';;&', '<<<', '<<-', ';;', ';&', '&&', '||', '|&', '&>', '<<', '<>', '<&', '>>', '>&', '>|', ';', '&', '|', '(', ')', '<', '>', '\n'];
const META = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);
const REDIR_OPS = new Set(['<', '>', '>>', '>|', '<>', '<&', '>&', '&>', '&>>', '<<', '<<-', '<<<']);
export const RESERVED = new Set(['if', 'then', 'elif', 'else', 'fi', 'do', 'done', 'case', 'esac', 'while', 'until', 'for', 'in', 'function', '{', '}', '!', '[[', ']]', 'select', 'time']);
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Shared between a parser and the sub-parsers of its $( ) substitutions. */
interface Shared {
  src: string;
  lineStarts: number[];
  limits: ParseLimits;
  tokens: number;
}

interface PendingHeredoc {
  redir: Redir;
  delim: string;
  strip: boolean;
}

type Mode = 'normal' | 'dq' | 'brace' | 'raw' | 'heredoc';

export class Parser {
  private i: number;
  private line: number;
  private peeked: Tok | undefined;
  private syntheticDone = false;
  private pendingHeredocs: PendingHeredoc[] = [];
  private lastEnd = 0;
  /** line of a here-document delimited by end of file, reported by the evaluator */
  readonly warnings: { line: number; message: string }[] = [];

  private constructor(
    private readonly sh: Shared,
    start: number,
    private depth: number,
    /** maps positions of a re-parsed string (backticks) to the outer source */
    private readonly posBase?: { pos: number; line: number },
  ) {
    this.i = start;
    this.line = this.lineAt(start);
  }

  /** Creates a parser over `src`; throws on a source over the length limit. */
  static create(src: string, limits: Partial<ParseLimits> = {}): Parser {
    const lim = { ...DEFAULT_PARSE_LIMITS, ...limits };
    if (src.length > lim.maxLength) {
      throw new ShellSyntaxError(`command too long (${src.length} bytes, limit ${lim.maxLength})`, 0, 1, undefined, true);
    }
    const lineStarts = [0];
    for (let j = 0; j < src.length; j++) if (src.charCodeAt(j) === 10) lineStarts.push(j + 1);
    return new Parser({ src, lineStarts, limits: lim, tokens: 0 }, 0, 0);
  }

  /** Parses a whole script. */
  static parse(src: string, limits: Partial<ParseLimits> = {}): Script {
    const p = Parser.create(src, limits);
    const commands: List[] = [];
    for (;;) {
      const c = p.next_complete();
      if (c === null) break;
      if (c.items.length) commands.push(c);
    }
    return { type: 'script', commands };
  }

  /**
   * Parses the next complete command (up to an unescaped top-level newline),
   * like bash reading a script: the caller runs it before parsing on.
   * Returns null at end of input; an empty list for blank lines.
   */
  next_complete(): List | null {
    this.skipNewlines();
    const t = this.peek();
    if (t.k === 'eof') return null;
    const list = this.parseList(new Set(), new Set(), true);
    const after = this.peek();
    if (after.k === 'op' && after.op === '\n') this.take();
    else if (after.k !== 'eof') this.unexpected(after);
    return list;
  }

  // ------------------------------------------------------------ positions

  private lineAt(pos: number): number {
    if (this.posBase) return this.posBase.line;
    const ls = this.sh.lineStarts;
    let lo = 0;
    let hi = ls.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ls[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  private outPos(pos: number): number {
    return this.posBase ? this.posBase.pos : pos;
  }

  private get src(): string {
    return this.sh.src;
  }

  private sourceLineOf(pos: number): string {
    const s = this.src;
    const a = s.lastIndexOf('\n', pos - 1) + 1;
    let b = s.indexOf('\n', pos);
    if (b < 0) b = s.length;
    return s.slice(a, b);
  }

  private err(msg: string, pos = this.i, line = this.line, withSource = false): never {
    throw new ShellSyntaxError(msg, this.outPos(pos), this.posBase ? this.posBase.line : line, withSource ? this.sourceLineOf(pos) : undefined);
  }

  private unexpected(t: Tok): never {
    if (t.k === 'eof') this.err('syntax error: unexpected end of file', t.pos, t.line);
    const text = t.k === 'op' ? (t.op === '\n' ? 'newline' : t.op) : t.k === 'ionum' ? String(t.n) : t.w.raw;
    this.err(`syntax error near unexpected token \`${text}'`, t.pos, t.line, true);
  }

  private enter(pos: number): void {
    if (++this.depth > this.sh.limits.maxDepth) {
      throw new ShellSyntaxError(`nesting too deep (limit ${this.sh.limits.maxDepth})`, this.outPos(pos), this.lineAt(pos), undefined, true);
    }
  }

  private leave(): void {
    this.depth--;
  }

  // ------------------------------------------------------------ lexer

  private peek(): Tok {
    if (!this.peeked) this.peeked = this.lex();
    return this.peeked;
  }

  private take(): Tok {
    const t = this.peek();
    this.peeked = undefined;
    this.lastEnd = t.end;
    return t;
  }

  private isWord(t: Tok, w: string): boolean {
    return t.k === 'word' && isPlain(t.w) && t.w.raw === w;
  }

  private isOp(t: Tok, op: string): boolean {
    return t.k === 'op' && t.op === op;
  }

  private skipNewlines(): void {
    while (this.isOp(this.peek(), '\n')) this.take();
  }

  private lex(): Tok {
    if (++this.sh.tokens > this.sh.limits.maxTokens) {
      throw new ShellSyntaxError(`too many tokens (limit ${this.sh.limits.maxTokens})`, this.outPos(this.i), this.line, undefined, true);
    }
    const s = this.src;
    for (;;) {
      const c = s[this.i];
      if (c === ' ' || c === '\t') this.i++;
      else if (c === '\\' && s[this.i + 1] === '\n') {
        this.i += 2;
        this.line++;
      } else if (c === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
      } else break;
    }
    const pos = this.i;
    const line = this.line;
    if (this.i >= s.length) {
      if (!this.syntheticDone && !s.endsWith('\n') && this.posBase === undefined) {
        this.syntheticDone = true;
        this.line++;
        this.readHeredocs();
        return { k: 'op', op: '\n', pos, end: pos, line, synthetic: true };
      }
      return { k: 'eof', pos, end: pos, line: this.line };
    }
    for (const op of OPS) {
      if (s.startsWith(op, this.i)) {
        this.i += op.length;
        if (op === '\n') {
          this.line++;
          this.readHeredocs();
        }
        return { k: 'op', op, pos, end: pos + op.length, line };
      }
    }
    // IO number: digits directly followed by < or >
    let j = this.i;
    while (j < s.length && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
    if (j > this.i && (s[j] === '<' || s[j] === '>')) {
      const n = Number(s.slice(this.i, j));
      this.i = j;
      return { k: 'ionum', n, pos, end: j, line };
    }
    const parts: WordPart[] = [];
    this.i = this.lexParts(parts, 'normal', this.i, s.length, false);
    const w: Word = { parts, raw: s.slice(pos, this.i), pos: this.outPos(pos), line: this.posBase ? this.posBase.line : line };
    return { k: 'word', w, pos, end: this.i, line };
  }

  /** Reads the bodies of the here-documents whose operators ended this line. */
  private readHeredocs(): void {
    const pend = this.pendingHeredocs;
    this.pendingHeredocs = [];
    const s = this.src;
    for (const h of pend) {
      const startLine = h.redir.line;
      const bodyStart = this.i;
      let body = '';
      let found = false;
      while (this.i < s.length) {
        let e = s.indexOf('\n', this.i);
        const hasNl = e >= 0;
        if (!hasNl) e = s.length;
        let ln = s.slice(this.i, e);
        this.i = hasNl ? e + 1 : e;
        if (hasNl) this.line++;
        if (h.strip) ln = ln.replace(/^\t+/, '');
        if (ln === h.delim) {
          found = true;
          break;
        }
        body += ln + '\n';
      }
      if (!found) {
        this.warnings.push({
          line: this.line,
          message: `warning: here-document at line ${startLine} delimited by end-of-file (wanted \`${h.delim}')`,
        });
      }
      if (h.redir.heredocQuoted) {
        h.redir.heredoc = { parts: [{ type: 'lit', value: body, q: true }], raw: body, pos: this.outPos(bodyStart), line: startLine };
      } else {
        const sub = Parser.sub(this, 0);
        const bodyParser = new Parser({ src: body, lineStarts: [0], limits: this.sh.limits, tokens: this.sh.tokens }, 0, this.depth, {
          pos: this.outPos(bodyStart),
          line: startLine,
        });
        void sub;
        const parts: WordPart[] = [];
        bodyParser.lexParts(parts, 'heredoc', 0, body.length, true);
        this.sh.tokens = bodyParser.sh.tokens;
        h.redir.heredoc = { parts, raw: body, pos: this.outPos(bodyStart), line: startLine };
      }
    }
  }

  private static sub(p: Parser, start: number): Parser {
    return new Parser(p.sh, start, p.depth, p.posBase);
  }

  /**
   * Lexes word parts from `i` until a stop for `mode`, appending to `parts`.
   * `q` marks the parts as quoted (inside "..." or a here-document).
   * Returns the index where it stopped (at the stop character, not past it).
   */
  private lexParts(parts: WordPart[], mode: Mode, i: number, end: number, q: boolean): number {
    const s = this.src;
    const lit = (v: string, quoted: boolean): void => {
      const last = parts[parts.length - 1];
      if (last && last.type === 'lit' && last.q === quoted) last.value += v;
      else parts.push({ type: 'lit', value: v, q: quoted });
    };
    let braceDepth = 0;
    while (i < end) {
      const c = s[i];
      if (mode === 'normal' && META.has(c)) break;
      if (mode === 'dq' && c === '"') break;
      if (mode === 'brace' && c === '}') {
        if (braceDepth === 0) break;
        braceDepth--;
      }
      if (mode === 'brace' && c === '{') braceDepth++;
      if (c === '\n') this.line++;
      if (c === '\\') {
        const n = s[i + 1];
        if (i + 1 >= end) {
          lit('\\', q);
          i++;
          continue;
        }
        if (n === '\n') {
          this.line++;
          i += 2;
          continue;
        }
        if (mode === 'normal' || (mode === 'brace' && !q)) {
          lit(n, true);
          i += 2;
          continue;
        }
        // inside double quotes / here-docs only these are escapes
        const special = mode === 'heredoc' || mode === 'raw' ? '$`\\' : '$`"\\';
        if (special.includes(n) || (mode === 'brace' && n === '}')) {
          lit(n, true);
          i += 2;
        } else {
          lit('\\' + n, true);
          i += 2;
        }
        continue;
      }
      if (c === "'" && (mode === 'normal' || (mode === 'brace' && !q))) {
        const e = s.indexOf("'", i + 1);
        if (e < 0 || e >= end) this.err("unexpected EOF while looking for matching `''", i, this.lineAt(i));
        const v = s.slice(i + 1, e);
        for (const ch of v) if (ch === '\n') this.line++;
        lit(v, true);
        i = e + 1;
        continue;
      }
      if (c === '"' && (mode === 'normal' || mode === 'brace')) {
        const startLine = this.line;
        const start = i;
        const inner: WordPart[] = [];
        i = this.lexParts(inner, 'dq', i + 1, end, true);
        if (s[i] !== '"') {
          this.line = startLine;
          this.err('unexpected EOF while looking for matching `"\'', start, startLine);
        }
        i++;
        if (inner.length === 0) lit('', true);
        for (const p of inner) {
          if (p.type === 'lit') lit(p.value, true);
          else parts.push(p);
        }
        continue;
      }
      if (c === '$' && s[i + 1] === "'" && (mode === 'normal' || (mode === 'brace' && !q))) {
        const r = ansiC(s, i + 2, end);
        if (r === null) this.err("unexpected EOF while looking for matching `''", i, this.lineAt(i));
        lit(r.value, true);
        i = r.end;
        continue;
      }
      if (c === '$' && s[i + 1] === '"' && (mode === 'normal' || mode === 'brace')) {
        i++;
        continue;
      }
      if (c === '`') {
        i = this.lexBacktick(parts, i, end, q);
        continue;
      }
      if (c === '$') {
        const r = this.lexDollar(i, end, q);
        if (r) {
          parts.push(r.part);
          i = r.end;
          continue;
        }
      }
      lit(c, q);
      i++;
    }
    return i;
  }

  private lexBacktick(parts: WordPart[], i: number, end: number, q: boolean): number {
    const s = this.src;
    const startLine = this.line;
    let j = i + 1;
    let body = '';
    while (j < end && s[j] !== '`') {
      if (s[j] === '\\' && j + 1 < end && '$`\\'.includes(s[j + 1])) {
        body += s[j + 1];
        j += 2;
        continue;
      }
      if (s[j] === '\n') this.line++;
      body += s[j];
      j++;
    }
    if (j >= end) this.err('unexpected EOF while looking for matching ``\'', i, startLine);
    this.enter(i);
    const sub = new Parser({ src: body, lineStarts: computeLineStarts(body), limits: this.sh.limits, tokens: this.sh.tokens }, 0, this.depth, {
      pos: this.outPos(i),
      line: this.posBase ? this.posBase.line : startLine,
    });
    const commands: List[] = [];
    for (;;) {
      const c = sub.next_complete();
      if (c === null) break;
      if (c.items.length) commands.push(c);
    }
    this.sh.tokens = sub.sh.tokens;
    this.leave();
    parts.push({ type: 'cmdsub', body: { type: 'script', commands }, q, text: s.slice(i, j + 1) });
    return j + 1;
  }

  private lexDollar(i: number, end: number, q: boolean): { part: WordPart; end: number } | null {
    const s = this.src;
    const n = s[i + 1];
    if (n === '(' && s[i + 2] === '(') {
      const close = findArithEnd(s, i + 3, end);
      if (close === -2) this.err("unexpected EOF while looking for matching `)'", s.length, this.lineAt(s.length) + (s.endsWith('\n') ? 0 : 1));
      if (close >= 0) {
        this.enter(i);
        const parts: WordPart[] = [];
        const text = s.slice(i + 3, close);
        const save = this.line;
        this.lexParts(parts, 'raw', i + 3, close, true);
        this.line = save + countNl(text);
        this.leave();
        return { part: { type: 'arith', expr: { parts, raw: text, pos: this.outPos(i + 3), line: this.lineAt(i) }, q, text: s.slice(i, close + 2) }, end: close + 2 };
      }
    }
    if (n === '(') {
      this.enter(i);
      const sub = Parser.sub(this, i + 2);
      sub.line = this.line;
      const commands: List[] = [];
      for (;;) {
        sub.skipNewlines();
        const t = sub.peek();
        if (sub.isOp(t, ')')) {
          sub.take();
          break;
        }
        if (t.k === 'eof') sub.err("unexpected EOF while looking for matching `)'", t.pos, t.line);
        const list = sub.parseList(new Set(), new Set([')']), true);
        if (list.items.length) commands.push(list);
        const after = sub.peek();
        if (sub.isOp(after, '\n')) sub.take();
        else if (!sub.isOp(after, ')')) {
          if (after.k === 'eof') sub.err("unexpected EOF while looking for matching `)'", after.pos, after.line);
          sub.unexpected(after);
        }
      }
      this.leave();
      this.line = sub.line;
      const e = sub.lastEnd;
      return { part: { type: 'cmdsub', body: { type: 'script', commands }, q, text: s.slice(i, e) }, end: e };
    }
    if (n === '{') return this.lexBraceParam(i, end, q);
    if (n !== undefined && i + 1 < end) {
      if (/[A-Za-z_]/.test(n)) {
        let j = i + 2;
        while (j < end && /[A-Za-z0-9_]/.test(s[j])) j++;
        const name = s.slice(i + 1, j);
        return { part: { type: 'param', name, op: '', q, text: s.slice(i, j) }, end: j };
      }
      if (/[0-9@*#?$!-]/.test(n)) {
        return { part: { type: 'param', name: n, op: '', q, text: s.slice(i, i + 2) }, end: i + 2 };
      }
    }
    return null;
  }

  private lexBraceParam(i: number, end: number, q: boolean): { part: WordPart; end: number } {
    const s = this.src;
    // find the closing brace first, honouring quotes and nesting
    let j = i + 2;
    let depth = 0;
    while (j < end) {
      const c = s[j];
      if (c === '\\') {
        j += 2;
        continue;
      }
      if (c === "'" && !q) {
        const e = s.indexOf("'", j + 1);
        if (e < 0) break;
        j = e + 1;
        continue;
      }
      if (c === '"') {
        let k = j + 1;
        while (k < end && s[k] !== '"') k += s[k] === '\\' ? 2 : 1;
        j = k + 1;
        continue;
      }
      if (c === '{') depth++;
      if (c === '}') {
        if (depth === 0) break;
        depth--;
      }
      j++;
    }
    if (j >= end) {
      if (q) this.err('unexpected EOF while looking for matching `"\'', i, this.line);
      this.err("unexpected EOF while looking for matching `}'", s.length, this.lineAt(s.length) + (s.endsWith('\n') ? 0 : 1));
    }
    const close = j;
    const text = s.slice(i, close + 1);
    const bad = (): { part: WordPart; end: number } => ({ part: { type: 'param', name: '', op: 'bad', q, text }, end: close + 1 });
    let k = i + 2;
    let lenOp = false;
    if (s[k] === '#' && k + 1 < close && s[k + 1] !== '}' && !/[-=?+:%#/]/.test(s[k + 1] ?? '')) {
      lenOp = true;
      k++;
    } else if (s[k] === '#' && k + 1 < close && (s[k + 1] === '#' || s[k + 1] === '@' || s[k + 1] === '*' || s[k + 1] === '?' || s[k + 1] === '$' || s[k + 1] === '!')) {
      lenOp = true;
      k++;
    }
    let name: string;
    if (/[A-Za-z_]/.test(s[k] ?? '')) {
      let m = k + 1;
      while (m < close && /[A-Za-z0-9_]/.test(s[m])) m++;
      name = s.slice(k, m);
      k = m;
    } else if (/[0-9]/.test(s[k] ?? '')) {
      let m = k + 1;
      while (m < close && /[0-9]/.test(s[m])) m++;
      name = s.slice(k, m);
      k = m;
    } else if (/[@*#?$!-]/.test(s[k] ?? '')) {
      name = s[k];
      k++;
    } else return bad();
    if (lenOp) {
      if (k !== close) return bad();
      return { part: { type: 'param', name, op: 'len', q, text }, end: close + 1 };
    }
    if (k === close) return { part: { type: 'param', name, op: '', q, text }, end: close + 1 };
    const OPS2: ParamOp[] = [':-', ':=', ':+', ':?', '##', '%%', '//', '/#', '/%', '^^', ',,', '-', '=', '+', '?', '#', '%', '/', ':', '^', ','];
    const op = OPS2.find((o) => s.startsWith(o, k));
    if (!op) return bad();
    k += op.length;
    const p: ParamPart = { type: 'param', name, op, q, text };
    if (op === '/' || op === '//' || op === '/#' || op === '/%') {
      // pattern up to an unescaped '/', then the replacement
      let m = k;
      while (m < close && s[m] !== '/') m += s[m] === '\\' ? 2 : 1;
      p.arg = this.subWord(k, Math.min(m, close), q);
      if (m < close) p.arg2 = this.subWord(m + 1, close, q);
    } else if (op === ':') {
      let m = k;
      let d = 0;
      while (m < close && !(s[m] === ':' && d === 0)) {
        if (s[m] === '(') d++;
        if (s[m] === ')') d--;
        m++;
      }
      p.arg = this.subWord(k, m, true);
      if (m < close) p.arg2 = this.subWord(m + 1, close, true);
    } else {
      p.arg = this.subWord(k, close, q);
    }
    return { part: p, end: close + 1 };
  }

  private subWord(a: number, b: number, q: boolean): Word {
    const parts: WordPart[] = [];
    const save = this.line;
    this.lexParts(parts, 'brace', a, b, q);
    this.line = save;
    return { parts, raw: this.src.slice(a, b), pos: this.outPos(a), line: this.lineAt(a) };
  }

  // ------------------------------------------------------------ grammar

  /**
   * A list of and-or lists separated by ; & or newlines. Stops before a
   * reserved word in `stopWords` or an operator in `stopOps`. With
   * `oneLine`, stops at the first top-level newline (bash reads scripts
   * one complete command at a time).
   */
  private parseList(stopWords: Set<string>, stopOps: Set<string>, oneLine = false): List {
    const first = this.peek();
    const list: List = { type: 'list', items: [], pos: this.outPos(first.pos), line: first.line };
    for (;;) {
      if (!oneLine) this.skipNewlines();
      const t = this.peek();
      if (t.k === 'eof') break;
      if (t.k === 'word' && isPlain(t.w) && stopWords.has(t.w.raw)) break;
      if (t.k === 'op' && stopOps.has(t.op)) break;
      if (oneLine && this.isOp(t, '\n')) break;
      const ao = this.parseAndOr();
      list.items.push(ao);
      const sep = this.peek();
      if (this.isOp(sep, ';') || this.isOp(sep, '&')) {
        this.take();
        if (sep.k === 'op' && sep.op === '&') ao.background = true;
        continue;
      }
      if (this.isOp(sep, '\n')) {
        if (oneLine) break;
        continue;
      }
      if (sep.k === 'eof') break;
      if (sep.k === 'word' && isPlain(sep.w) && stopWords.has(sep.w.raw)) break;
      if (sep.k === 'op' && stopOps.has(sep.op)) break;
      this.unexpected(sep);
    }
    return list;
  }

  /** A compound list that must not be empty (bash rejects `if then fi`). */
  private parseBody(stopWords: string[], stopOps: string[] = []): List {
    this.skipNewlines();
    const l = this.parseList(new Set(stopWords), new Set(stopOps));
    if (l.items.length === 0) this.unexpected(this.peek());
    return l;
  }

  private parseAndOr(): AndOr {
    const start = this.peek();
    const first = this.parsePipeline();
    const ao: AndOr = { type: 'andor', first, rest: [], background: false, text: '', pos: this.outPos(start.pos), line: start.line };
    for (;;) {
      const t = this.peek();
      if (this.isOp(t, '&&') || this.isOp(t, '||')) {
        this.take();
        this.skipNewlines();
        ao.rest.push({ op: (t as { op: '&&' | '||' }).op, pipeline: this.parsePipeline() });
      } else break;
    }
    ao.text = this.posBase ? this.src.slice(0, this.lastEnd).slice(start.pos) : this.src.slice(start.pos, this.lastEnd);
    return ao;
  }

  private parsePipeline(): Pipeline {
    const start = this.peek();
    let negate = false;
    if (this.isWord(start, '!')) {
      this.take();
      negate = true;
    }
    if (this.isWord(this.peek(), 'time')) this.take();
    const p: Pipeline = { type: 'pipeline', negate, commands: [], stderrToo: [], pos: this.outPos(start.pos), line: start.line };
    p.commands.push(this.parseCommand());
    for (;;) {
      const t = this.peek();
      if (this.isOp(t, '|') || this.isOp(t, '|&')) {
        this.take();
        p.stderrToo.push(t.k === 'op' && t.op === '|&');
        this.skipNewlines();
        p.commands.push(this.parseCommand());
      } else break;
    }
    p.stderrToo.push(false);
    return p;
  }

  private parseCommand(): Command {
    const t = this.peek();
    if (t.k === 'op' && t.op === '(') {
      if (this.src[t.pos + 1] === '(') {
        const close = findArithEnd(this.src, t.pos + 2, this.src.length);
        if (close >= 0) return this.withRedirs(this.parseArithCommand(t.pos, close));
      }
      this.take();
      this.enter(t.pos);
      const body = this.parseBody([], [')']);
      this.expectOp(')');
      this.leave();
      return this.withRedirs({ type: 'subshell', body, redirs: [], pos: this.outPos(t.pos), line: t.line });
    }
    if (t.k === 'word' && isPlain(t.w)) {
      switch (t.w.raw) {
        case '{': {
          this.take();
          this.enter(t.pos);
          const body = this.parseBody(['}']);
          this.expectWord('}');
          this.leave();
          return this.withRedirs({ type: 'group', body, redirs: [], pos: this.outPos(t.pos), line: t.line });
        }
        case 'if':
          return this.withRedirs(this.parseIf());
        case 'while':
        case 'until':
          return this.withRedirs(this.parseLoop(t.w.raw));
        case 'for':
          return this.withRedirs(this.parseFor());
        case 'case':
          return this.withRedirs(this.parseCase());
        case 'function':
          return this.parseFunction(true);
        case '[[':
          return this.withRedirs(this.parseCond());
        case 'then':
        case 'elif':
        case 'else':
        case 'fi':
        case 'do':
        case 'done':
        case 'esac':
        case '}':
        case ']]':
        case 'in':
          this.unexpected(t);
      }
    }
    return this.parseSimple();
  }

  private withRedirs<T extends Command>(c: T): T {
    for (;;) {
      const t = this.peek();
      if (t.k === 'ionum' || (t.k === 'op' && REDIR_OPS.has(t.op))) c.redirs.push(this.parseRedir());
      else break;
    }
    return c;
  }

  private expectOp(op: string): void {
    const t = this.peek();
    if (!this.isOp(t, op)) this.unexpected(t);
    this.take();
  }

  private expectWord(w: string): void {
    const t = this.peek();
    if (!this.isWord(t, w)) this.unexpected(t);
    this.take();
  }

  private parseArithCommand(pos: number, close: number): Command {
    this.peeked = undefined;
    const parts: WordPart[] = [];
    const line = this.line;
    this.lexParts(parts, 'raw', pos + 2, close, true);
    this.line = line + countNl(this.src.slice(pos + 2, close));
    this.i = close + 2;
    this.lastEnd = this.i;
    return { type: 'arithcmd', expr: { parts, raw: this.src.slice(pos + 2, close), pos: this.outPos(pos + 2), line }, redirs: [], pos: this.outPos(pos), line };
  }

  private parseCond(): CondCommand {
    const t = this.take();
    const args: Word[] = [];
    for (;;) {
      const n = this.peek();
      if (this.isWord(n, ']]')) {
        this.take();
        break;
      }
      if (n.k === 'eof' || this.isOp(n, '\n')) this.unexpected(n);
      this.take();
      if (n.k === 'word') args.push(n.w);
      else if (n.k === 'op') args.push({ parts: [{ type: 'lit', value: n.op, q: false }], raw: n.op, pos: this.outPos(n.pos), line: n.line });
      else args.push({ parts: [{ type: 'lit', value: String(n.n), q: false }], raw: String(n.n), pos: this.outPos(n.pos), line: n.line });
    }
    return { type: 'cond', args, redirs: [], pos: this.outPos(t.pos), line: t.line };
  }

  private parseIf(): If {
    const t = this.take();
    this.enter(t.pos);
    const node: If = { type: 'if', clauses: [], redirs: [], pos: this.outPos(t.pos), line: t.line };
    const cond = this.parseBody(['then']);
    this.expectWord('then');
    const body = this.parseBody(['elif', 'else', 'fi']);
    node.clauses.push({ cond, body });
    for (;;) {
      const n = this.peek();
      if (this.isWord(n, 'elif')) {
        this.take();
        const c = this.parseBody(['then']);
        this.expectWord('then');
        const b = this.parseBody(['elif', 'else', 'fi']);
        node.clauses.push({ cond: c, body: b });
      } else if (this.isWord(n, 'else')) {
        this.take();
        node.else = this.parseBody(['fi']);
        this.expectWord('fi');
        break;
      } else {
        this.expectWord('fi');
        break;
      }
    }
    this.leave();
    return node;
  }

  private parseLoop(kind: string): Loop {
    const t = this.take();
    this.enter(t.pos);
    const cond = this.parseBody(['do']);
    this.expectWord('do');
    const body = this.parseBody(['done']);
    this.expectWord('done');
    this.leave();
    return { type: kind as 'while' | 'until', cond, body, redirs: [], pos: this.outPos(t.pos), line: t.line };
  }

  private parseFor(): For {
    const t = this.take();
    this.enter(t.pos);
    const nt = this.peek();
    if (nt.k !== 'word') this.unexpected(nt);
    if (!NAME_RE.test(nt.w.raw)) this.err(`\`${nt.w.raw}': not a valid identifier`, nt.pos, nt.line);
    this.take();
    const node: For = { type: 'for', name: nt.w.raw, body: { type: 'list', items: [], pos: 0, line: 0 }, redirs: [], pos: this.outPos(t.pos), line: t.line };
    let n = this.peek();
    if (this.isOp(n, ';')) {
      this.take();
      this.skipNewlines();
    } else {
      this.skipNewlines();
      n = this.peek();
      if (this.isWord(n, 'in')) {
        this.take();
        node.items = [];
        for (;;) {
          const w = this.peek();
          if (w.k !== 'word') break;
          this.take();
          node.items.push(w.w);
        }
        const sep = this.peek();
        if (this.isOp(sep, ';') || this.isOp(sep, '\n')) this.take();
        else this.unexpected(sep);
        this.skipNewlines();
      }
    }
    this.expectWord('do');
    node.body = this.parseBody(['done']);
    this.expectWord('done');
    this.leave();
    return node;
  }

  private parseCase(): Case {
    const t = this.take();
    this.enter(t.pos);
    const w = this.peek();
    if (w.k !== 'word') this.unexpected(w);
    this.take();
    this.skipNewlines();
    this.expectWord('in');
    const node: Case = { type: 'case', word: w.w, items: [], redirs: [], pos: this.outPos(t.pos), line: t.line };
    for (;;) {
      this.skipNewlines();
      const n = this.peek();
      if (this.isWord(n, 'esac')) {
        this.take();
        break;
      }
      if (n.k === 'eof') this.unexpected(n);
      if (this.isOp(n, '(')) this.take();
      const item: CaseItem = { patterns: [], body: { type: 'list', items: [], pos: 0, line: 0 }, term: ';;', pos: this.outPos(n.pos), line: n.line };
      for (;;) {
        const p = this.peek();
        if (p.k !== 'word') this.unexpected(p);
        this.take();
        item.patterns.push(p.w);
        const sep = this.peek();
        if (this.isOp(sep, '|')) {
          this.take();
          continue;
        }
        if (this.isOp(sep, ')')) {
          this.take();
          break;
        }
        this.unexpected(sep);
      }
      item.body = this.parseList(new Set(['esac']), new Set([';;', ';&', ';;&']));
      const term = this.peek();
      if (term.k === 'op' && (term.op === ';;' || term.op === ';&' || term.op === ';;&')) {
        this.take();
        item.term = term.op as CaseItem['term'];
        node.items.push(item);
        continue;
      }
      node.items.push(item);
      this.skipNewlines();
      this.expectWord('esac');
      break;
    }
    this.leave();
    return node;
  }

  private parseFunction(keyword: boolean): FuncDef {
    const start = this.take();
    let nameTok: Tok = start;
    if (keyword) {
      nameTok = this.peek();
      if (nameTok.k !== 'word') this.unexpected(nameTok);
      this.take();
    }
    const name = (nameTok as { w: Word }).w.raw;
    if (this.isOp(this.peek(), '(')) {
      this.take();
      this.expectOp(')');
    } else if (!keyword) this.unexpected(this.peek());
    this.skipNewlines();
    const b = this.peek();
    const compound =
      (b.k === 'op' && b.op === '(') || (b.k === 'word' && isPlain(b.w) && ['{', 'if', 'while', 'until', 'for', 'case', '[['].includes(b.w.raw));
    if (!compound) this.unexpected(b);
    this.enter(b.pos);
    const body = this.parseCommand();
    this.leave();
    const fn: FuncDef = { type: 'func', name, body, text: this.src.slice(start.pos, this.lastEnd), redirs: [], pos: this.outPos(start.pos), line: start.line };
    return this.withRedirs(fn);
  }

  private parseSimple(): Command {
    const first = this.peek();
    const cmd: SimpleCommand = { type: 'simple', assigns: [], words: [], redirs: [], pos: this.outPos(first.pos), line: first.line };
    for (;;) {
      const t = this.peek();
      if (t.k === 'ionum' || (t.k === 'op' && REDIR_OPS.has(t.op))) {
        cmd.redirs.push(this.parseRedir());
        continue;
      }
      if (t.k !== 'word') break;
      if (cmd.words.length === 0) {
        const a = assignmentOf(t.w);
        if (a) {
          this.take();
          cmd.assigns.push(a);
          continue;
        }
        // name() compound: a function definition
        if (cmd.assigns.length === 0 && cmd.redirs.length === 0 && isPlain(t.w)) {
          const after = this.src.slice(t.end).match(/^[ \t]*\(/);
          if (after && /^[ \t]*\([ \t]*\)/.test(this.src.slice(t.end))) {
            if (!/^[^\s$`'"\\|&;<>()]+$/.test(t.w.raw) || RESERVED.has(t.w.raw)) this.err(`\`${t.w.raw}': not a valid identifier`, t.pos, t.line);
            return this.parseFunction(false);
          }
        }
      }
      this.take();
      cmd.words.push(t.w);
      if (cmd.words.length === 1) {
        // after the command word, reserved words are ordinary words
      }
    }
    if (cmd.words.length === 0 && cmd.assigns.length === 0 && cmd.redirs.length === 0) this.unexpected(this.peek());
    return cmd;
  }

  private parseRedir(): Redir {
    const t = this.take();
    let fd: number | undefined;
    let opTok = t;
    if (t.k === 'ionum') {
      fd = t.n;
      opTok = this.take();
      if (opTok.k !== 'op' || !REDIR_OPS.has(opTok.op)) this.unexpected(opTok);
    }
    const op = (opTok as { op: string }).op as RedirOp;
    const w = this.peek();
    if (w.k !== 'word') this.unexpected(w);
    this.take();
    const r: Redir = { fd, op, target: w.w, pos: this.outPos(t.pos), line: t.line };
    if (op === '<<' || op === '<<-') {
      const quoted = w.w.parts.some((p) => p.type === 'lit' && p.q) || w.w.raw.includes('"') || w.w.raw.includes("'");
      const delim = w.w.parts.map((p) => (p.type === 'lit' ? p.value : p.type === 'param' ? p.text : p.text)).join('');
      r.heredocQuoted = quoted;
      r.heredoc = { parts: [], raw: '', pos: r.pos, line: r.line };
      this.pendingHeredocs.push({ redir: r, delim, strip: op === '<<-' });
    }
    return r;
  }
}

/** true when a word is a single unquoted literal (candidate reserved word). */
export function isPlain(w: Word): boolean {
  return w.parts.length === 1 && w.parts[0].type === 'lit' && !w.parts[0].q && !w.raw.includes('\\');
}

function assignmentOf(w: Word): Assign | null {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(\+?)=/.exec(w.raw);
  if (!m) return null;
  const first = w.parts[0];
  if (!first || first.type !== 'lit' || first.q || !first.value.startsWith(m[0])) return null;
  const rest = first.value.slice(m[0].length);
  const parts: WordPart[] = rest ? [{ type: 'lit', value: rest, q: false }, ...w.parts.slice(1)] : w.parts.slice(1);
  return { name: m[1], append: m[2] === '+', value: { parts, raw: w.raw.slice(m[0].length), pos: w.pos + m[0].length, line: w.line }, pos: w.pos, line: w.line };
}

/**
 * From just after "((", finds the index of the "))" that closes an
 * arithmetic expansion: -1 when the parentheses close as ") )" (then it
 * is a command substitution of a subshell), -2 at end of input.
 */
function findArithEnd(s: string, i: number, end: number): number {
  let depth = 0;
  while (i < end) {
    const c = s[i];
    if (c === '\\') {
      i += 2;
      continue;
    }
    if (c === "'" || c === '"') {
      const e = s.indexOf(c, i + 1);
      if (e < 0) return -2;
      i = e + 1;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') {
      if (depth === 0) return s[i + 1] === ')' ? i : -1;
      depth--;
    }
    i++;
  }
  return -2;
}

function countNl(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

function computeLineStarts(s: string): number[] {
  const ls = [0];
  for (let j = 0; j < s.length; j++) if (s.charCodeAt(j) === 10) ls.push(j + 1);
  return ls;
}

/** $'...' ANSI-C quoting; returns null when unterminated. */
function ansiC(s: string, i: number, end: number): { value: string; end: number } | null {
  let v = '';
  while (i < end) {
    const c = s[i];
    if (c === "'") return { value: v, end: i + 1 };
    if (c === '\\' && i + 1 < end) {
      const n = s[i + 1];
      const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
      if (n in map) {
        v += map[n];
        i += 2;
        continue;
      }
      if (n === 'x') {
        const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 2, i + 4));
        if (m) {
          v += String.fromCharCode(parseInt(m[0], 16));
          i += 2 + m[0].length;
          continue;
        }
      }
      if (/[0-7]/.test(n)) {
        const m = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4)) as RegExpExecArray;
        v += String.fromCharCode(parseInt(m[0], 8) & 0xff);
        i += 1 + m[0].length;
        continue;
      }
      if (n === 'u' || n === 'U') {
        const m = (n === 'u' ? /^[0-9a-fA-F]{1,4}/ : /^[0-9a-fA-F]{1,8}/).exec(s.slice(i + 2, i + 10));
        if (m) {
          const cp = parseInt(m[0], 16);
          v += cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
          i += 2 + m[0].length;
          continue;
        }
      }
      v += '\\' + n;
      i += 2;
      continue;
    }
    v += c;
    i++;
  }
  return null;
}
