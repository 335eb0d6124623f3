import type { Loc } from './ast';
import type { Diagnostic } from './diagnostics';

export type TokType = 'int' | 'str' | 'call' | 'builtin' | 'ident' | 'var' | 'param' | 'paramCount' | 'map' | 'kw' | 'punct' | 'eof';

export interface Token {
  type: TokType;
  text: string;
  loc: Loc;
  int?: bigint;
  str?: string;
}

export const BUILTINS = new Set([
  ...Array.from({ length: 10 }, (_, i) => `arg${i}`),
  ...Array.from({ length: 10 }, (_, i) => `sarg${i}`),
  'args', 'cgroup', 'comm', 'cpid', 'numaid', 'cpu', 'ctx', 'curtask', 'elapsed', 'func', 'gid', 'nsecs',
  'pid', 'probe', 'rand', 'retval', 'tid', 'uid', 'username', 'kstack', 'ustack',
]);

const KEYWORDS = new Set(['if', 'else', 'unroll', 'while', 'break', 'continue', 'return', 'struct']);

const PUNCT = [
  '<<=', '>>=', '==', '!=', '<=', '>=', '<<', '>>', '&&', '||', '++', '--', '->', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=',
  '{', '}', '(', ')', '[', ']', ';', ',', ':', '?', '.', '=', '+', '-', '*', '/', '%', '&', '|', '^', '!', '~', '<', '>',
];

/** Bison-style token name used in "unexpected X" messages. */
export function tokenName(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'end of file';
    case 'int':
      return 'integer';
    case 'str':
      return 'string';
    case 'call':
      return 'call';
    case 'builtin':
      return 'builtin';
    case 'ident':
      return 'identifier';
    case 'var':
      return 'variable';
    case 'map':
      return 'map';
    case 'param':
    case 'paramCount':
      return 'positional parameter';
    default:
      return punctName(t.text);
  }
}

export function punctName(p: string): string {
  return /[',\\]/.test(p) ? `"${p}"` : p;
}

const MAX_INPUT = 1 << 20;

/**
 * On-demand lexer. Location quirk of bpftrace's flex lexer: a token's location starts where the
 * last whitespace ended (loc.step() only runs on whitespace), so `print($y)` gives `$y` the
 * columns of `print($y`.
 */
export class Lexer {
  pos = 0;
  line = 1;
  col = 1;
  private stepLine = 1;
  private stepCol = 1;
  constructor(
    readonly src: string,
    readonly diags: Diagnostic[],
  ) {
    if (src.length > MAX_INPUT) this.src = src.slice(0, MAX_INPUT);
    if (this.src.startsWith('#!')) {
      while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.advance(1);
      this.step();
    }
  }

  private advance(n: number): void {
    for (let i = 0; i < n && this.pos < this.src.length; i++) {
      if (this.src[this.pos] === '\n') {
        this.line++;
        this.col = 1;
      } else this.col++;
      this.pos++;
    }
  }

  private step(): void {
    this.stepLine = this.line;
    this.stepCol = this.col;
  }

  private locHere(): Loc {
    return { line: this.stepLine, col: this.stepCol, endLine: this.line, endCol: this.col };
  }

  /** Skips whitespace and comments (each of which steps the location). */
  skipSpace(): void {
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
        while (this.pos < this.src.length && /\s/.test(this.src[this.pos])) this.advance(1);
        this.step();
      } else if (c === '/' && this.src[this.pos + 1] === '/') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.advance(1);
        this.step();
      } else if (c === '/' && this.src[this.pos + 1] === '*') {
        const end = this.src.indexOf('*/', this.pos + 2);
        this.advance(end < 0 ? this.src.length - this.pos : end + 2 - this.pos);
        this.step();
      } else if (c === '#' && this.col === 1) {
        // #include / #define lines (C definitions) are skipped
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.advance(1);
        this.step();
      } else return;
    }
  }

  /** Reads one attach point (raw text up to whitespace, ',', '{'; '/' only inside u/usdt paths). */
  attachPoint(): Token | null {
    this.skipSpace();
    // quirk: attach points after the first keep the preceding whitespace in their location
    if (this.lastEnd) {
      this.stepLine = this.lastEnd.line;
      this.stepCol = this.lastEnd.col;
    }
    const start = this.pos;
    const stepCol = this.stepCol;
    const stepLine = this.stepLine;
    while (this.pos < this.src.length) {
      const c = this.src[this.pos];
      if (/\s/.test(c) || c === ',' || c === '{' || c === '}' || c === ';') break;
      if (c === '/') {
        const sofar = this.src.slice(start, this.pos);
        if (!/^(uprobe|uretprobe|u|ur|usdt|U):/.test(sofar)) break;
      }
      this.advance(1);
    }
    if (this.pos === start) return null;
    return { type: 'ident', text: this.src.slice(start, this.pos), loc: { line: stepLine, col: stepCol, endLine: this.line, endCol: this.col } };
  }

  /** Marks the current position as the start of the next token's location (attach points keep preceding space). */
  stepHere(): void {
    this.step();
  }

  private lastEnd: { line: number; col: number } | null = null;

  next(): Token {
    const t = this.next0();
    this.lastEnd = { line: this.line, col: this.col };
    return t;
  }

  private next0(): Token {
    this.skipSpace();
    const s = this.src;
    if (this.pos >= s.length) return { type: 'eof', text: '', loc: this.locHere() };
    const c = s[this.pos];
    const start = this.pos;
    // identifiers, keywords, builtins, calls
    if (/[A-Za-z_]/.test(c)) {
      let e = this.pos;
      while (e < s.length && /[A-Za-z0-9_]/.test(s[e])) e++;
      const text = s.slice(start, e);
      this.advance(e - start);
      let la = e;
      while (la < s.length && (s[la] === ' ' || s[la] === '\t')) la++;
      if (s[la] === '(' && !KEYWORDS.has(text)) return { type: 'call', text, loc: this.locHere() };
      if (KEYWORDS.has(text)) return { type: 'kw', text, loc: this.locHere() };
      if (BUILTINS.has(text)) return { type: 'builtin', text, loc: this.locHere() };
      return { type: 'ident', text, loc: this.locHere() };
    }
    if (c === '$') {
      let e = this.pos + 1;
      if (s[e] === '#') {
        this.advance(2);
        return { type: 'paramCount', text: '$#', loc: this.locHere() };
      }
      if (/[0-9]/.test(s[e] ?? '')) {
        while (e < s.length && /[0-9]/.test(s[e])) e++;
        const text = s.slice(start, e);
        this.advance(e - start);
        return { type: 'param', text, loc: this.locHere() };
      }
      if (/[A-Za-z_]/.test(s[e] ?? '')) {
        while (e < s.length && /[A-Za-z0-9_]/.test(s[e])) e++;
        const text = s.slice(start, e);
        this.advance(e - start);
        return { type: 'var', text, loc: this.locHere() };
      }
    }
    if (c === '@') {
      let e = this.pos + 1;
      while (e < s.length && /[A-Za-z0-9_]/.test(s[e])) e++;
      const text = s.slice(start, e);
      this.advance(e - start);
      return { type: 'map', text, loc: this.locHere() };
    }
    if (/[0-9]/.test(c)) return this.number();
    if (c === '"') return this.string();
    for (const p of PUNCT) {
      if (s.startsWith(p, this.pos)) {
        this.advance(p.length);
        return { type: 'punct', text: p, loc: this.locHere() };
      }
    }
    // invalid character: report, skip it and continue (flex does the same)
    this.advance(1);
    this.diags.push({ severity: 'ERROR', message: `invalid character '${c}'`, loc: this.locHere() });
    return this.next0();
  }

  private number(): Token {
    const s = this.src;
    const m = /^(0[xX][0-9a-fA-F_]+|[0-9][0-9_]*(?:[eE][0-9]+)?)([uU]?[lL]{0,2}[uU]?)/.exec(s.slice(this.pos, this.pos + 80));
    const text0 = m ? m[0] : s[this.pos];
    let e = this.pos + text0.length;
    // trailing identifier characters are an error
    let bad = false;
    while (e < s.length && /[A-Za-z0-9_]/.test(s[e])) {
      e++;
      bad = true;
    }
    const text = s.slice(this.pos, e);
    this.advance(e - this.pos);
    let value = 0n;
    const body = (m ? m[1] : text0).replace(/_/g, '');
    try {
      if (/^0[xX]/.test(body)) value = BigInt(body);
      else if (/[eE]/.test(body)) {
        const [b, ex] = body.split(/[eE]/);
        value = BigInt(b) * 10n ** BigInt(Math.min(Number(ex), 40));
      } else if (/^0[0-9]/.test(body)) {
        if (/^0[0-7]+$/.test(body)) value = BigInt('0o' + body.slice(1));
        else bad = true;
      } else value = BigInt(body);
    } catch {
      bad = true;
    }
    if (value >= 1n << 64n) {
      this.diags.push({ severity: 'ERROR', message: `Integer too large: ${text}`, loc: this.locHere() });
      value = 0n;
    }
    if (bad) this.diags.push({ severity: 'ERROR', message: `Found trailing non-numeric characters`, loc: this.locHere() });
    return { type: 'int', text, loc: this.locHere(), int: BigInt.asIntN(64, value) };
  }

  private string(): Token {
    const s = this.src;
    let out = '';
    let i = this.pos + 1;
    for (;;) {
      if (i >= s.length || s[i] === '\n') {
        this.advance(i - this.pos);
        this.diags.push({ severity: 'ERROR', message: 'unterminated string', loc: this.locHere() });
        // flex swallows the rest of the input
        this.advance(s.length - this.pos);
        return { type: 'eof', text: '', loc: this.locHere() };
      }
      const c = s[i];
      if (c === '"') {
        i++;
        break;
      }
      if (c === '\\') {
        const d = s[i + 1] ?? '';
        const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v', e: '\x1b' };
        if (d in simple) {
          out += simple[d];
          i += 2;
          continue;
        }
        const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1, i + 4));
        if (oct) {
          out += String.fromCharCode(parseInt(oct[0], 8) & 0xff);
          i += 1 + oct[0].length;
          continue;
        }
        const hex = /^x([0-9a-fA-F]{1,2})/.exec(s.slice(i + 1, i + 4));
        if (hex) {
          out += String.fromCharCode(parseInt(hex[1], 16));
          i += 1 + hex[0].length;
          continue;
        }
        this.advance(i + 2 - this.pos);
        this.diags.push({ severity: 'ERROR', message: `invalid escape character '\\${d}'`, loc: this.locHere() });
        i += 2;
        continue;
      }
      out += c;
      i++;
    }
    const text = s.slice(this.pos, i);
    this.advance(i - this.pos);
    return { type: 'str', text, loc: this.locHere(), str: out };
  }
}
