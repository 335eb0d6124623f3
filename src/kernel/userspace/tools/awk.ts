import { fmtG, printfFormat } from '../lib/printf';
import type { ToolCtx, ToolSpec } from '../types';
import { compileRegex, q, readInput, warn } from './common';

/**
 * awk: a POSIX awk interpreter (gawk-compatible output for the common
 * cases): patterns and ranges, BEGIN/END, fields, associative arrays,
 * user functions, printf, getline from files, output redirection to files.
 */

// ------------------------------------------------------------------ values

class StrNum {
  constructor(readonly s: string) {}
}
const UNINIT = Symbol('uninit');
type V = number | string | StrNum | typeof UNINIT;

const NUM_RE = /^[ \t\n\r\f\v]*[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|0[xX][0-9a-fA-F]+|inf|infinity|nan)[ \t\n\r\f\v]*$/i;

function strtod(s: string): number {
  const m = /^[ \t\n\r\f\v]*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/.exec(s);
  if (m) return Number(m[1]);
  const inf = /^[ \t\n\r\f\v]*([-+])(inf|nan)/i.exec(s);
  if (inf) return inf[2].toLowerCase() === 'nan' ? NaN : inf[1] === '-' ? -Infinity : Infinity;
  return 0;
}

function looksNumeric(s: string): boolean {
  return NUM_RE.test(s) && !/^\s*[-+]?0[xX]/.test(s) && !/^\s*(inf|nan)/i.test(s);
}

type AwkArray = Map<string, V>;

class AwkError extends Error {}
class NextSignal {}
class NextFileSignal {}
class ExitSignal {
  constructor(readonly code: number) {}
}
class BreakSignal {}
class ContinueSignal {}
class ReturnSignal {
  constructor(readonly v: V) {}
}

// ------------------------------------------------------------------ lexer

type Tok = { t: string; v?: string; n?: number; line: number; pos: number };

const KEYWORDS = new Set(['BEGIN', 'END', 'function', 'func', 'if', 'else', 'while', 'for', 'do', 'break', 'continue', 'next', 'nextfile', 'exit', 'return', 'delete', 'in', 'getline', 'print', 'printf']);
const BUILTIN_FUNCS = new Set(['length', 'substr', 'index', 'split', 'sub', 'gsub', 'match', 'sprintf', 'sin', 'cos', 'atan2', 'exp', 'log', 'sqrt', 'int', 'rand', 'srand', 'tolower', 'toupper', 'system', 'close', 'fflush']);

function lex(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let line = 1;
  const regexAllowed = (): boolean => {
    const p = toks[toks.length - 1];
    if (!p) return true;
    return !['NAME', 'NUMBER', 'STRING', 'ERE', 'FUNC_NAME', 'BUILTIN', ')', ']', '$', 'incr', 'decr'].includes(p.t);
  };
  const ops = ['+=', '-=', '*=', '/=', '%=', '^=', '**=', '**', '==', '<=', '>=', '!=', '++', '--', '&&', '||', '>>', '!~', '{', '}', '(', ')', '[', ']', ';', ',', '+', '-', '*', '/', '%', '^', '!', '>', '<', '|', '?', ':', '~', '$', '='];
  while (i < src.length) {
    const c = src[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\n') {
      i += 2;
      line++;
      continue;
    }
    if (c === '\\' && src[i + 1] === '\r' && src[i + 2] === '\n') {
      i += 3;
      line++;
      continue;
    }
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '\n') {
      toks.push({ t: 'NEWLINE', line, pos: i });
      line++;
      i++;
      continue;
    }
    if (c === '"') {
      let s = '';
      let j = i + 1;
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\n') throw new AwkError(`newline in string`);
        if (src[j] === '\\' && j + 1 < src.length) {
          const n = src[j + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', '/': '/', a: '\x07', b: '\b', f: '\f', v: '\v' };
          if (n in map) {
            s += map[n];
            j += 2;
          } else if (/[0-7]/.test(n)) {
            const m = /^[0-7]{1,3}/.exec(src.slice(j + 1)) as RegExpExecArray;
            s += String.fromCharCode(parseInt(m[0], 8));
            j += 1 + m[0].length;
          } else if (n === '\n') {
            j += 2;
            line++;
          } else {
            s += '\\' + n;
            j += 2;
          }
          continue;
        }
        s += src[j++];
      }
      if (j >= src.length) throw new AwkError('unterminated string');
      toks.push({ t: 'STRING', v: s, line, pos: i });
      i = j + 1;
      continue;
    }
    if (c === '/' && regexAllowed()) {
      let j = i + 1;
      let s = '';
      let inBr = false;
      while (j < src.length && (src[j] !== '/' || inBr)) {
        if (src[j] === '\n') throw new AwkError('newline in regex');
        if (src[j] === '\\' && j + 1 < src.length) {
          s += src[j + 1] === '/' ? '/' : src[j] + src[j + 1];
          j += 2;
          continue;
        }
        if (src[j] === '[') inBr = true;
        else if (src[j] === ']' && inBr) inBr = false;
        s += src[j++];
      }
      if (j >= src.length) throw new AwkError('unterminated regexp');
      toks.push({ t: 'ERE', v: s, line, pos: i });
      i = j + 1;
      continue;
    }
    if (/[0-9.]/.test(c) && /[0-9]/.test(c === '.' ? (src[i + 1] ?? '') : c)) {
      const m = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)/.exec(src.slice(i)) as RegExpExecArray;
      toks.push({ t: 'NUMBER', n: Number(m[0]), line, pos: i });
      i += m[0].length;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i)) as RegExpExecArray;
      const w = m[0];
      i += w.length;
      if (KEYWORDS.has(w)) toks.push({ t: w === 'func' ? 'function' : w, line, pos: i });
      else if (BUILTIN_FUNCS.has(w)) toks.push({ t: 'BUILTIN', v: w, line, pos: i });
      else if (src[i] === '(') toks.push({ t: 'FUNC_NAME', v: w, line, pos: i });
      else toks.push({ t: 'NAME', v: w, line, pos: i });
      continue;
    }
    const op = ops.find((o) => src.startsWith(o, i));
    if (!op) throw new AwkError(`invalid char '${c}' in expression`);
    const t = op === '++' ? 'incr' : op === '--' ? 'decr' : op === '**' ? '^' : op === '**=' ? '^=' : op;
    toks.push({ t, line, pos: i });
    i += op.length;
  }
  toks.push({ t: 'EOF', line, pos: i });
  return toks;
}

// ------------------------------------------------------------------ AST

type Expr =
  | { k: 'num'; v: number }
  | { k: 'str'; v: string }
  | { k: 're'; re: RegExp; src: string }
  | { k: 'var'; name: string }
  | { k: 'field'; e: Expr }
  | { k: 'idx'; name: string; subs: Expr[] }
  | { k: 'assign'; op: string; target: Expr; e: Expr }
  | { k: 'cond'; c: Expr; a: Expr; b: Expr }
  | { k: 'and' | 'or'; a: Expr; b: Expr }
  | { k: 'in'; subs: Expr[]; name: string }
  | { k: 'match'; neg: boolean; a: Expr; re: Expr }
  | { k: 'bin'; op: string; a: Expr; b: Expr }
  | { k: 'cmp'; op: string; a: Expr; b: Expr }
  | { k: 'concat'; a: Expr; b: Expr }
  | { k: 'unary'; op: string; e: Expr }
  | { k: 'incdec'; op: string; prefix: boolean; target: Expr }
  | { k: 'call'; name: string; args: Expr[] }
  | { k: 'builtin'; name: string; args: Expr[] }
  | { k: 'getline'; target?: Expr; file?: Expr }
  | { k: 'group'; e: Expr };

type Stmt =
  | { k: 'expr'; e: Expr }
  | { k: 'print'; args: Expr[]; redir?: { op: string; e: Expr } }
  | { k: 'printf'; args: Expr[]; redir?: { op: string; e: Expr } }
  | { k: 'if'; c: Expr; a: Stmt; b?: Stmt }
  | { k: 'while'; c: Expr; body: Stmt }
  | { k: 'do'; c: Expr; body: Stmt }
  | { k: 'for'; init?: Stmt; c?: Expr; step?: Stmt; body: Stmt }
  | { k: 'forin'; v: string; arr: string; body: Stmt }
  | { k: 'block'; body: Stmt[] }
  | { k: 'next' }
  | { k: 'nextfile' }
  | { k: 'exit'; e?: Expr }
  | { k: 'return'; e?: Expr }
  | { k: 'break' }
  | { k: 'continue' }
  | { k: 'delete'; name: string; subs?: Expr[] }
  | { k: 'nop' };

interface Item {
  kind: 'begin' | 'end' | 'main';
  pattern?: Expr;
  pattern2?: Expr;
  action?: Stmt;
  inRange?: boolean;
}

interface Func {
  params: string[];
  body: Stmt;
}

// ------------------------------------------------------------------ parser

class P {
  k = 0;
  items: Item[] = [];
  funcs = new Map<string, Func>();
  constructor(private readonly toks: Tok[]) {}

  private peek(o = 0): Tok {
    return this.toks[Math.min(this.k + o, this.toks.length - 1)];
  }
  private is(t: string): boolean {
    return this.peek().t === t;
  }
  private take(t?: string): Tok {
    const tok = this.peek();
    if (t && tok.t !== t) this.fail(tok);
    this.k++;
    return tok;
  }
  private fail(tok: Tok = this.peek()): never {
    throw new AwkError(`syntax error at source line ${tok.line}${tok.t === 'EOF' ? ': unexpected end of program' : ''}`);
  }
  private nl(): void {
    while (this.is('NEWLINE')) this.k++;
  }
  private term(): void {
    while (this.is('NEWLINE') || this.is(';')) this.k++;
  }

  program(): void {
    this.term();
    while (!this.is('EOF')) {
      if (this.is('BEGIN') || this.is('END')) {
        const kind = this.take().t === 'BEGIN' ? 'begin' : 'end';
        this.nl();
        if (!this.is('{')) this.fail();
        this.items.push({ kind, action: this.block() });
      } else if (this.is('function')) {
        this.take();
        const nameTok = this.peek();
        if (nameTok.t !== 'NAME' && nameTok.t !== 'FUNC_NAME') this.fail();
        this.take();
        this.take('(');
        const params: string[] = [];
        while (!this.is(')')) {
          params.push(this.take('NAME').v as string);
          if (this.is(',')) {
            this.take();
            this.nl();
          }
        }
        this.take(')');
        this.nl();
        this.funcs.set(nameTok.v as string, { params, body: this.block() });
      } else {
        const it: Item = { kind: 'main' };
        if (!this.is('{')) {
          it.pattern = this.expr();
          if (this.is(',')) {
            this.take();
            this.nl();
            it.pattern2 = this.expr();
          }
        }
        if (this.is('{')) it.action = this.block();
        this.items.push(it);
      }
      this.term();
    }
  }

  private block(): Stmt {
    this.take('{');
    const body: Stmt[] = [];
    this.term();
    while (!this.is('}')) {
      if (this.is('EOF')) this.fail();
      body.push(this.stmt());
      this.term();
    }
    this.take('}');
    return { k: 'block', body };
  }

  private simpleEnd(): void {
    if (this.is(';') || this.is('NEWLINE')) {
      this.k++;
      return;
    }
    if (this.is('}') || this.is('EOF')) return;
    this.fail();
  }

  private stmt(): Stmt {
    const t = this.peek().t;
    switch (t) {
      case '{':
        return this.block();
      case ';':
        this.take();
        return { k: 'nop' };
      case 'if': {
        this.take();
        this.take('(');
        const c = this.expr();
        this.take(')');
        this.nl();
        const a = this.stmtOrEmpty();
        const save = this.k;
        this.term();
        if (this.is('else')) {
          this.take();
          this.nl();
          return { k: 'if', c, a, b: this.stmtOrEmpty() };
        }
        this.k = save;
        return { k: 'if', c, a };
      }
      case 'while': {
        this.take();
        this.take('(');
        const c = this.expr();
        this.take(')');
        if (this.is(';')) {
          this.take();
          return { k: 'while', c, body: { k: 'nop' } };
        }
        this.nl();
        return { k: 'while', c, body: this.stmtOrEmpty() };
      }
      case 'do': {
        this.take();
        this.nl();
        const body = this.stmtOrEmpty();
        this.term();
        this.take('while');
        this.take('(');
        const c = this.expr();
        this.take(')');
        this.simpleEnd();
        return { k: 'do', c, body };
      }
      case 'for': {
        this.take();
        this.take('(');
        if (this.peek().t === 'NAME' && this.peek(1).t === 'in' && this.peek(2).t === 'NAME' && this.peek(3).t === ')') {
          const v = this.take().v as string;
          this.take('in');
          const arr = this.take().v as string;
          this.take(')');
          this.nl();
          return { k: 'forin', v, arr, body: this.stmtOrEmpty() };
        }
        const init = this.is(';') ? undefined : this.simple();
        this.take(';');
        this.nl();
        const c = this.is(';') ? undefined : this.expr();
        this.take(';');
        this.nl();
        const step = this.is(')') ? undefined : this.simple();
        this.take(')');
        if (this.is(';')) {
          this.take();
          return { k: 'for', init, c, step, body: { k: 'nop' } };
        }
        this.nl();
        return { k: 'for', init, c, step, body: this.stmtOrEmpty() };
      }
      default: {
        const s = this.simple();
        this.simpleEnd();
        return s;
      }
    }
  }

  private stmtOrEmpty(): Stmt {
    if (this.is(';')) {
      this.take();
      return { k: 'nop' };
    }
    return this.stmt();
  }

  private simple(): Stmt {
    const t = this.peek().t;
    switch (t) {
      case 'print':
      case 'printf': {
        this.take();
        let args: Expr[] = [];
        if (!this.is(';') && !this.is('NEWLINE') && !this.is('}') && !this.is('>') && !this.is('>>') && !this.is('|') && !this.is('EOF')) {
          if (this.is('(')) {
            // print (a, b) > file: a parenthesised list
            const save = this.k;
            this.take();
            const list = [this.expr(true)];
            while (this.is(',')) {
              this.take();
              this.nl();
              list.push(this.expr(true));
            }
            if (this.is(')') && [';', 'NEWLINE', '}', '>', '>>', '|', 'EOF'].includes(this.peek(1).t)) {
              this.take();
              args = list;
            } else {
              this.k = save;
              args = this.exprList(true);
            }
          } else args = this.exprList(true);
        }
        let redir: { op: string; e: Expr } | undefined;
        if (this.is('>') || this.is('>>') || this.is('|')) {
          const op = this.take().t;
          redir = { op, e: this.concatExpr(true) };
        }
        return { k: t, args, redir } as Stmt;
      }
      case 'next':
        this.take();
        return { k: 'next' };
      case 'nextfile':
        this.take();
        return { k: 'nextfile' };
      case 'exit': {
        this.take();
        const e = this.is(';') || this.is('NEWLINE') || this.is('}') || this.is('EOF') ? undefined : this.expr();
        return { k: 'exit', e };
      }
      case 'return': {
        this.take();
        const e = this.is(';') || this.is('NEWLINE') || this.is('}') || this.is('EOF') ? undefined : this.expr();
        return { k: 'return', e };
      }
      case 'break':
        this.take();
        return { k: 'break' };
      case 'continue':
        this.take();
        return { k: 'continue' };
      case 'delete': {
        this.take();
        const name = this.take('NAME').v as string;
        if (this.is('[')) {
          this.take();
          const subs = this.exprList(false);
          this.take(']');
          return { k: 'delete', name, subs };
        }
        return { k: 'delete', name };
      }
      default:
        return { k: 'expr', e: this.expr() };
    }
  }

  private exprList(noGt: boolean): Expr[] {
    const list = [this.expr(noGt)];
    while (this.is(',')) {
      this.take();
      this.nl();
      list.push(this.expr(noGt));
    }
    return list;
  }

  expr(noGt = false): Expr {
    return this.ternary(noGt);
  }

  private isLvalue(e: Expr): boolean {
    return e.k === 'var' || e.k === 'field' || e.k === 'idx';
  }

  private ternary(noGt: boolean): Expr {
    const c = this.orExpr(noGt);
    if (this.is('?')) {
      this.take();
      this.nl();
      const a = this.ternary(noGt);
      this.nl();
      this.take(':');
      this.nl();
      const b = this.ternary(noGt);
      return { k: 'cond', c, a, b };
    }
    if (['=', '+=', '-=', '*=', '/=', '%=', '^='].includes(this.peek().t) && this.isLvalue(c)) {
      const op = this.take().t;
      this.nl();
      return { k: 'assign', op, target: c, e: this.ternary(noGt) };
    }
    return c;
  }

  private orExpr(noGt: boolean): Expr {
    let a = this.andExpr(noGt);
    while (this.is('||')) {
      this.take();
      this.nl();
      a = { k: 'or', a, b: this.andExpr(noGt) };
    }
    return a;
  }

  private andExpr(noGt: boolean): Expr {
    let a = this.inExpr(noGt);
    while (this.is('&&')) {
      this.take();
      this.nl();
      a = { k: 'and', a, b: this.inExpr(noGt) };
    }
    return a;
  }

  private inExpr(noGt: boolean): Expr {
    let a = this.matchExpr(noGt);
    while (this.is('in')) {
      this.take();
      const name = this.take('NAME').v as string;
      a = { k: 'in', subs: a.k === 'group' && (a as { list?: Expr[] }).list ? ((a as unknown as { list: Expr[] }).list) : [a], name };
    }
    return a;
  }

  private matchExpr(noGt: boolean): Expr {
    let a = this.cmpExpr(noGt);
    while (this.is('~') || this.is('!~')) {
      const neg = this.take().t === '!~';
      a = { k: 'match', neg, a, re: this.cmpExpr(noGt) };
    }
    return a;
  }

  private cmpExpr(noGt: boolean): Expr {
    const a = this.concatExpr(noGt);
    const t = this.peek().t;
    if (['<', '<=', '!=', '==', '>=', ...(noGt ? [] : ['>'])].includes(t)) {
      this.take();
      return { k: 'cmp', op: t, a, b: this.concatExpr(noGt) };
    }
    if (this.is('|') && this.peek(1).t === 'getline') {
      this.fail();
    }
    return a;
  }

  private startsConcat(): boolean {
    const t = this.peek().t;
    return ['NUMBER', 'STRING', 'ERE', 'NAME', 'FUNC_NAME', 'BUILTIN', '$', '!', '(', 'incr', 'decr', '-', '+'].includes(t) && !(t === '!' && this.peek(1).t === '=');
  }

  private concatExpr(noGt: boolean): Expr {
    let a = this.additive();
    while (this.startsConcat() && !this.is('-') && !this.is('+') && !this.is('!')) {
      if (this.is('in')) break;
      a = { k: 'concat', a, b: this.additive() };
    }
    void noGt;
    return a;
  }

  private additive(): Expr {
    let a = this.mul();
    while (this.is('+') || this.is('-')) {
      const op = this.take().t;
      a = { k: 'bin', op, a, b: this.mul() };
    }
    return a;
  }

  private mul(): Expr {
    let a = this.unary();
    while (this.is('*') || this.is('/') || this.is('%')) {
      const op = this.take().t;
      a = { k: 'bin', op, a, b: this.unary() };
    }
    return a;
  }

  private unary(): Expr {
    if (this.is('!')) {
      this.take();
      return { k: 'unary', op: '!', e: this.unary() };
    }
    if (this.is('-') || this.is('+')) {
      const op = this.take().t;
      return { k: 'unary', op, e: this.unary() };
    }
    return this.pow();
  }

  private pow(): Expr {
    const a = this.postfix();
    if (this.is('^')) {
      this.take();
      // right associative, and binds tighter than unary minus on its left only
      const b = this.is('-') || this.is('+') || this.is('!') ? this.unary() : this.powRight();
      return { k: 'bin', op: '^', a, b };
    }
    return a;
  }

  private powRight(): Expr {
    return this.pow();
  }

  private postfix(): Expr {
    if (this.is('incr') || this.is('decr')) {
      const op = this.take().t === 'incr' ? '++' : '--';
      const target = this.postfix();
      if (!this.isLvalue(target)) this.fail();
      return { k: 'incdec', op, prefix: true, target };
    }
    const e = this.primary();
    if ((this.is('incr') || this.is('decr')) && this.isLvalue(e)) {
      const op = this.take().t === 'incr' ? '++' : '--';
      return { k: 'incdec', op, prefix: false, target: e };
    }
    return e;
  }

  private primary(): Expr {
    const tok = this.peek();
    switch (tok.t) {
      case 'NUMBER':
        this.take();
        return { k: 'num', v: tok.n as number };
      case 'STRING':
        this.take();
        return { k: 'str', v: tok.v as string };
      case 'ERE': {
        this.take();
        const re = compileRegex(tok.v as string, true);
        if (!re) throw new AwkError(`invalid regexp /${tok.v}/`);
        return { k: 're', re, src: tok.v as string };
      }
      case '$': {
        this.take();
        const e = this.is('incr') || this.is('decr') ? this.postfix() : this.primary();
        return { k: 'field', e };
      }
      case '(': {
        this.take();
        this.nl();
        const e = this.expr();
        if (this.is(',')) {
          // (a, b) in arr
          const list = [e];
          while (this.is(',')) {
            this.take();
            this.nl();
            list.push(this.expr());
          }
          this.take(')');
          if (!this.is('in')) this.fail();
          this.take();
          const name = this.take('NAME').v as string;
          return { k: 'in', subs: list, name };
        }
        this.nl();
        this.take(')');
        return { k: 'group', e };
      }
      case 'NAME': {
        this.take();
        if (this.is('[')) {
          this.take();
          const subs = this.exprList(false);
          this.take(']');
          return { k: 'idx', name: tok.v as string, subs };
        }
        return { k: 'var', name: tok.v as string };
      }
      case 'FUNC_NAME': {
        this.take();
        this.take('(');
        this.nl();
        const args = this.is(')') ? [] : this.exprList(false);
        this.nl();
        this.take(')');
        return { k: 'call', name: tok.v as string, args };
      }
      case 'BUILTIN': {
        this.take();
        const name = tok.v as string;
        if (!this.is('(')) {
          if (name === 'length') return { k: 'builtin', name, args: [] };
          this.fail();
        }
        this.take('(');
        this.nl();
        const args = this.is(')') ? [] : this.exprList(false);
        this.nl();
        this.take(')');
        return { k: 'builtin', name, args };
      }
      case 'getline': {
        this.take();
        let target: Expr | undefined;
        if (this.is('NAME') || this.is('$')) target = this.postfix();
        let file: Expr | undefined;
        if (this.is('<')) {
          this.take();
          file = this.concatExpr(true);
        }
        return { k: 'getline', target, file };
      }
      case 'incr':
      case 'decr':
        return this.postfix();
      case '-':
      case '+':
      case '!':
        return this.unary();
    }
    return this.fail(tok);
  }
}

// ------------------------------------------------------------------ interpreter

class Interp {
  vars = new Map<string, V | AwkArray>();
  fields: string[] = [''];
  nf = 0;
  out = '';
  files = new Map<string, string>();
  readers = new Map<string, { lines: string[]; pos: number }>();
  frames: Map<string, V | AwkArray>[] = [];
  rangeState = new Map<Item, boolean>();
  nextInput: (() => string | null) | null = null;
  randSeed = 0;
  randState = 0;
  steps = 0;

  constructor(
    private readonly ctx: ToolCtx,
    readonly funcs: Map<string, Func>,
  ) {
    for (const [k, v] of Object.entries({ FS: ' ', OFS: ' ', ORS: '\n', RS: '\n', NR: 0, FNR: 0, SUBSEP: '\x1c', CONVFMT: '%.6g', OFMT: '%.6g', RSTART: 0, RLENGTH: -1, FILENAME: '' })) this.vars.set(k, v as V);
    const env: AwkArray = new Map();
    for (const [k, v] of Object.entries(ctx.env)) env.set(k, new StrNum(v));
    this.vars.set('ENVIRON', env);
  }

  tick(): void {
    if (++this.steps % 2048 === 0) {
      this.ctx.tick();
      this.flush();
    }
  }

  flush(): void {
    if (this.out) {
      this.ctx.stdout.write(this.out);
      this.out = '';
    }
  }

  // -------------------------------------------------- values

  num(v: V): number {
    if (typeof v === 'number') return v;
    if (v === UNINIT) return 0;
    return strtod(typeof v === 'string' ? v : v.s);
  }

  str(v: V, fmt = 'CONVFMT'): string {
    if (typeof v === 'string') return v;
    if (v === UNINIT) return '';
    if (v instanceof StrNum) return v.s;
    if (Number.isInteger(v)) return Math.abs(v) < 1e16 ? String(v) : v.toExponential().replace(/e\+?/, 'e+').replace(/e\+-/, 'e-');
    if (!isFinite(v)) return isNaN(v) ? (String(v) === 'NaN' ? '-nan' : 'nan') : v > 0 ? 'inf' : '-inf';
    const f = this.str(this.getVar(fmt) as V);
    if (f === '%.6g') return fmtG(v, 6, false, false);
    return printfFormat(f, [String(v)], 'coreutils').out;
  }

  bool(v: V): boolean {
    if (typeof v === 'number') return v !== 0;
    if (v === UNINIT) return false;
    if (typeof v === 'string') return v !== '';
    return looksNumeric(v.s) ? strtod(v.s) !== 0 : v.s !== '';
  }

  isNumeric(v: V): boolean {
    return typeof v === 'number' || (v instanceof StrNum && looksNumeric(v.s));
  }

  compare(a: V, b: V): number {
    const numA = this.isNumeric(a) || a === UNINIT;
    const numB = this.isNumeric(b) || b === UNINIT;
    if (numA && numB) {
      const x = this.num(a);
      const y = this.num(b);
      return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN;
    }
    const x = this.str(a);
    const y = this.str(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  // -------------------------------------------------- variables

  private scope(name: string): Map<string, V | AwkArray> {
    const f = this.frames[this.frames.length - 1];
    if (f && f.has(name)) return f;
    return this.vars;
  }

  getVar(name: string): V | AwkArray {
    if (name === 'NF') return this.nf;
    const s = this.scope(name);
    const v = s.get(name);
    return v === undefined ? UNINIT : v;
  }

  setVar(name: string, v: V): void {
    if (name === 'NF') {
      this.setNF(Math.max(0, Math.trunc(this.num(v))));
      return;
    }
    const s = this.scope(name);
    if (s.get(name) instanceof Map) throw new AwkError(`attempt to use array \`${name}' in a scalar context`);
    s.set(name, v);
  }

  array(name: string): AwkArray {
    const s = this.scope(name);
    let a = s.get(name);
    if (a === undefined || a === UNINIT) {
      a = new Map();
      s.set(name, a);
    }
    if (!(a instanceof Map)) throw new AwkError(`attempt to use scalar \`${name}' as an array`);
    return a;
  }

  subscript(subs: Expr[]): string {
    return subs.map((s) => this.str(this.eval(s))).join(this.str(this.getVar('SUBSEP') as V));
  }

  // -------------------------------------------------- fields

  setRecord(s: string): void {
    this.fields = [s];
    this.splitRecord();
  }

  splitRecord(): void {
    const rec = this.fields[0];
    const parts = this.splitFS(rec, this.str(this.getVar('FS') as V));
    this.fields = [rec, ...parts];
    this.nf = parts.length;
  }

  splitFS(s: string, fs: string): string[] {
    if (s === '') return [];
    if (fs === ' ') return s.split(/[ \t\n]+/).filter((x, i, a) => !((i === 0 || i === a.length - 1) && x === ''));
    if (fs.length === 1 && fs !== '\\') {
      if (fs === '\t' || !/[.[\]()*+?^$|{}]/.test(fs)) return s.split(fs);
    }
    const re = compileRegex(fs, true, 'g');
    if (!re) throw new AwkError(`invalid FS regexp ${fs}`);
    return s.split(re);
  }

  getField(i: number): V {
    if (i < 0) throw new AwkError(`attempt to access field ${i}`);
    if (i === 0) return new StrNum(this.fields[0]);
    if (i > this.nf) return UNINIT;
    return new StrNum(this.fields[i]);
  }

  setField(i: number, v: string): void {
    if (i < 0) throw new AwkError(`attempt to access field ${i}`);
    if (i === 0) {
      this.setRecord(v);
      return;
    }
    if (i > 100000) throw new AwkError('field index too large');
    while (this.nf < i) this.fields[++this.nf] = '';
    this.fields[i] = v;
    this.rebuild();
  }

  setNF(n: number): void {
    if (n > 100000) throw new AwkError('NF too large');
    while (this.nf < n) this.fields[++this.nf] = '';
    this.nf = n;
    this.fields.length = n + 1;
    this.rebuild();
  }

  rebuild(): void {
    this.fields[0] = this.fields.slice(1, this.nf + 1).join(this.str(this.getVar('OFS') as V));
  }

  // -------------------------------------------------- evaluation

  regexOf(e: Expr): RegExp {
    if (e.k === 're') return e.re;
    const src = this.str(this.eval(e));
    const re = compileRegex(src, true);
    if (!re) throw new AwkError(`invalid regexp ${src}`);
    return re;
  }

  assignTo(t: Expr, v: V): void {
    if (t.k === 'var') this.setVar(t.name, v);
    else if (t.k === 'field') this.setField(Math.trunc(this.num(this.eval(t.e))), this.str(v));
    else if (t.k === 'idx') this.array(t.name).set(this.subscript(t.subs), v);
    else if (t.k === 'group') this.assignTo(t.e, v);
    else throw new AwkError('assignment to non-lvalue');
  }

  eval(e: Expr): V {
    this.tick();
    switch (e.k) {
      case 'num':
        return e.v;
      case 'str':
        return e.v;
      case 're':
        e.re.lastIndex = 0;
        return e.re.test(this.fields[0]) ? 1 : 0;
      case 'group':
        return this.eval(e.e);
      case 'var': {
        const v = this.getVar(e.name);
        if (v instanceof Map) throw new AwkError(`attempt to use array \`${e.name}' in a scalar context`);
        return v;
      }
      case 'field':
        return this.getField(Math.trunc(this.num(this.eval(e.e))));
      case 'idx': {
        const a = this.array(e.name);
        const k = this.subscript(e.subs);
        const v = a.get(k);
        if (v === undefined) {
          a.set(k, UNINIT);
          return UNINIT;
        }
        return v;
      }
      case 'assign': {
        let v = this.eval(e.e);
        if (e.op !== '=') {
          const cur = this.num(this.eval(e.target));
          v = this.arith(e.op.slice(0, -1), cur, this.num(v));
        } else if (v instanceof StrNum || v === UNINIT) {
          // keep strnum-ness
        }
        this.assignTo(e.target, v);
        return v;
      }
      case 'cond':
        return this.bool(this.eval(e.c)) ? this.eval(e.a) : this.eval(e.b);
      case 'and':
        return this.bool(this.eval(e.a)) && this.bool(this.eval(e.b)) ? 1 : 0;
      case 'or':
        return this.bool(this.eval(e.a)) || this.bool(this.eval(e.b)) ? 1 : 0;
      case 'in':
        return this.array(e.name).has(this.subscript(e.subs)) ? 1 : 0;
      case 'match': {
        const s = this.str(this.eval(e.a));
        const re = this.regexOf(e.re);
        re.lastIndex = 0;
        const r = re.test(s);
        return r !== e.neg ? 1 : 0;
      }
      case 'bin':
        return this.arith(e.op, this.num(this.eval(e.a)), this.num(this.eval(e.b)));
      case 'cmp': {
        const c = this.compare(this.eval(e.a), this.eval(e.b));
        switch (e.op) {
          case '<':
            return c < 0 ? 1 : 0;
          case '<=':
            return c <= 0 ? 1 : 0;
          case '>':
            return c > 0 ? 1 : 0;
          case '>=':
            return c >= 0 ? 1 : 0;
          case '==':
            return c === 0 ? 1 : 0;
          default:
            return c !== 0 ? 1 : 0;
        }
      }
      case 'concat': {
        const s = this.str(this.eval(e.a)) + this.str(this.eval(e.b));
        if (s.length > 64 * 1024 * 1024) throw new AwkError('string too long');
        return s;
      }
      case 'unary': {
        const v = this.eval(e.e);
        if (e.op === '!') return this.bool(v) ? 0 : 1;
        const n = this.num(v);
        return e.op === '-' ? -n : n;
      }
      case 'incdec': {
        const cur = this.num(this.eval(e.target));
        const next = e.op === '++' ? cur + 1 : cur - 1;
        this.assignTo(e.target, next);
        return e.prefix ? next : cur;
      }
      case 'call':
        return this.call(e.name, e.args);
      case 'builtin':
        return this.builtin(e.name, e.args);
      case 'getline':
        return this.getline(e);
    }
  }

  arith(op: string, a: number, b: number): number {
    switch (op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        if (b === 0) throw new AwkError('division by zero attempted');
        return a / b;
      case '%':
        if (b === 0) throw new AwkError('division by zero attempted in `%\'');
        return a % b;
      case '^':
        return Math.pow(a, b);
    }
    return 0;
  }

  call(name: string, args: Expr[]): V {
    const f = this.funcs.get(name);
    if (!f) throw new AwkError(`function \`${name}' not defined`);
    if (this.frames.length > 1000) throw new AwkError('function call nesting too deep');
    if (args.length > f.params.length) throw new AwkError(`function \`${name}' called with more arguments than declared`);
    const frame = new Map<string, V | AwkArray>();
    f.params.forEach((p, i) => {
      const a = args[i];
      if (!a) {
        frame.set(p, UNINIT);
        return;
      }
      if (a.k === 'var') {
        const v = this.getVar(a.name);
        if (v instanceof Map) {
          frame.set(p, v);
          return;
        }
        if (v === UNINIT) {
          // may be used as an array by the callee: pass a fresh array bound to the caller's name lazily
          frame.set(p, UNINIT);
          return;
        }
        frame.set(p, v);
        return;
      }
      frame.set(p, this.eval(a));
    });
    this.frames.push(frame);
    try {
      this.exec(f.body);
      return UNINIT;
    } catch (e) {
      if (e instanceof ReturnSignal) return e.v;
      throw e;
    } finally {
      this.frames.pop();
      // arrays created inside for an uninitialised caller variable flow back
      f.params.forEach((p, i) => {
        const a = args[i];
        const v = frame.get(p);
        if (a && a.k === 'var' && v instanceof Map && !(this.getVar(a.name) instanceof Map)) this.scope(a.name).set(a.name, v);
      });
    }
  }

  sprintf(args: V[]): string {
    if (args.length === 0) return '';
    const fmt = this.str(args[0]);
    const rest = args.slice(1);
    const conv: string[] = [];
    let ai = 0;
    const re = /%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?([a-zA-Z%])/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(fmt))) {
      if (m[4] === '%') continue;
      if (m[2] === '*') conv.push(String(this.num(rest[ai++] ?? 0)));
      if (m[3] === '*') conv.push(String(this.num(rest[ai++] ?? 0)));
      const v = rest[ai++];
      const c = m[4];
      if (v === undefined) {
        conv.push('');
        continue;
      }
      if (c === 'c') conv.push(typeof v === 'number' ? String.fromCharCode(v) : this.str(v).slice(0, 1));
      else if ('dioxXu'.includes(c)) {
        const n = this.num(v);
        conv.push(isFinite(n) ? String(Math.trunc(n)) : String(n));
      } else if ('eEfFgGaA'.includes(c)) conv.push(String(this.num(v)));
      else conv.push(this.str(v));
    }
    const escaped = fmt.replace(/\\/g, '\\\\');
    const r = printfFormat(escaped, conv, 'coreutils');
    return r.out;
  }

  builtin(name: string, args: Expr[]): V {
    const a = (i: number): V => (args[i] ? this.eval(args[i]) : UNINIT);
    switch (name) {
      case 'length': {
        if (args.length === 0) return [...this.fields[0]].length;
        const x = args[0];
        if (x.k === 'var') {
          const v = this.getVar(x.name);
          if (v instanceof Map) return v.size;
        }
        return [...this.str(a(0))].length;
      }
      case 'substr': {
        const s = [...this.str(a(0))];
        let m = this.num(a(1));
        m = isNaN(m) ? 1 : Math.round(m);
        let n = args.length > 2 ? this.num(a(2)) : Infinity;
        if (isNaN(n)) n = 0;
        if (n !== Infinity) n = Math.round(n);
        const start = Math.max(1, m);
        const end = n === Infinity ? s.length + 1 : Math.min(s.length + 1, m + n);
        return end > start ? s.slice(start - 1, end - 1).join('') : '';
      }
      case 'index': {
        const s = this.str(a(0));
        const t = this.str(a(1));
        return s.indexOf(t) + 1;
      }
      case 'split': {
        const s = this.str(a(0));
        const arrE = args[1];
        if (!arrE || arrE.k !== 'var') throw new AwkError('split: second argument is not an array');
        const arr = this.array(arrE.name);
        arr.clear();
        let parts: string[];
        if (args.length > 2) {
          const sep = args[2];
          if (sep.k === 're') parts = s === '' ? [] : s.split(new RegExp(sep.re.source, 'g'));
          else parts = this.splitFS(s, this.str(this.eval(sep)));
        } else parts = this.splitFS(s, this.str(this.getVar('FS') as V));
        parts.forEach((p, i) => arr.set(String(i + 1), new StrNum(p)));
        return parts.length;
      }
      case 'sub':
      case 'gsub': {
        const re = this.regexOf(args[0]);
        const repl = this.str(a(1));
        const target = args[2] ?? { k: 'field', e: { k: 'num', v: 0 } };
        const s = this.str(this.eval(target));
        const g = new RegExp(re.source, re.flags.replace('g', '') + 'g');
        let count = 0;
        let out = '';
        let pos = 0;
        let m: RegExpExecArray | null;
        while ((m = g.exec(s))) {
          count++;
          out += s.slice(pos, m.index);
          for (let i = 0; i < repl.length; i++) {
            const c = repl[i];
            if (c === '\\' && (repl[i + 1] === '&' || repl[i + 1] === '\\')) {
              out += repl[++i];
            } else if (c === '&') out += m[0];
            else out += c;
          }
          pos = m.index + m[0].length;
          if (m[0] === '') {
            if (g.lastIndex < s.length) out += s[g.lastIndex];
            g.lastIndex++;
            pos = g.lastIndex;
          }
          if (name === 'sub' || g.lastIndex > s.length) break;
        }
        if (count) {
          out += s.slice(Math.min(pos, s.length));
          this.assignTo(target, out);
        }
        return count;
      }
      case 'match': {
        const s = this.str(a(0));
        const re = this.regexOf(args[1]);
        const m = new RegExp(re.source, re.flags.replace('g', '')).exec(s);
        const start = m ? [...s.slice(0, m.index)].length + 1 : 0;
        const len = m ? [...m[0]].length : -1;
        this.setVar('RSTART', start);
        this.setVar('RLENGTH', len);
        if (args[2] && args[2].k === 'var') {
          const arr = this.array(args[2].name);
          arr.clear();
          if (m) m.forEach((g, i) => g !== undefined && arr.set(String(i), new StrNum(g)));
        }
        return start;
      }
      case 'sprintf':
        return this.sprintf(args.map((x) => this.eval(x)));
      case 'sin':
        return Math.sin(this.num(a(0)));
      case 'cos':
        return Math.cos(this.num(a(0)));
      case 'atan2':
        return Math.atan2(this.num(a(0)), this.num(a(1)));
      case 'exp':
        return Math.exp(this.num(a(0)));
      case 'log':
        return Math.log(this.num(a(0)));
      case 'sqrt':
        return Math.sqrt(this.num(a(0)));
      case 'int':
        return Math.trunc(this.num(a(0)));
      case 'rand': {
        // a seeded LCG: deterministic like awk's default seed
        this.randState = (Math.imul(this.randState, 1103515245) + 12345) >>> 0;
        return (this.randState >>> 1) / 0x80000000;
      }
      case 'srand': {
        const prev = this.randSeed;
        this.randSeed = args.length ? this.num(a(0)) : Math.floor((this.ctx.host.bootEpochMs() + this.ctx.host.now() / 1e6) / 1000);
        this.randState = this.randSeed >>> 0;
        return prev;
      }
      case 'tolower':
        return this.str(a(0)).toLowerCase();
      case 'toupper':
        return this.str(a(0)).toUpperCase();
      case 'system':
        this.flush();
        this.ctx.stderr.write('awk: system() is not supported here\n');
        return -1;
      case 'close':
        if (args.length) {
          const n = this.str(a(0));
          this.readers.delete(n);
        }
        return 0;
      case 'fflush':
        this.flush();
        return 0;
    }
    throw new AwkError(`unknown function ${name}`);
  }

  getline(e: { target?: Expr; file?: Expr }): V {
    let line: string | null;
    if (e.file) {
      const name = this.str(this.eval(e.file));
      let r = this.readers.get(name);
      if (!r) {
        let data: string;
        try {
          data = name === '-' || name === '/dev/stdin' ? this.ctx.stdin.readAll() : this.ctx.host.readFile(this.ctx.pid, name, this.ctx.cwd);
        } catch {
          return -1;
        }
        const lines = data === '' ? [] : (data.endsWith('\n') ? data.slice(0, -1) : data).split('\n');
        r = { lines, pos: 0 };
        this.readers.set(name, r);
      }
      line = r.pos < r.lines.length ? r.lines[r.pos++] : null;
      if (line === null) return 0;
      if (e.target) this.assignTo(e.target, new StrNum(line));
      else {
        this.setRecord(line);
        this.setVar('NR', this.num(this.getVar('NR') as V) + 1);
      }
      return 1;
    }
    line = this.nextInput ? this.nextInput() : null;
    if (line === null) return 0;
    this.setVar('NR', this.num(this.getVar('NR') as V) + 1);
    this.setVar('FNR', this.num(this.getVar('FNR') as V) + 1);
    if (e.target) this.assignTo(e.target, new StrNum(line));
    else this.setRecord(line);
    return 1;
  }

  output(s: string, redir?: { op: string; e: Expr }): void {
    if (!redir) {
      this.out += s;
      if (this.out.length > 65536) this.flush();
      return;
    }
    const name = this.str(this.eval(redir.e));
    if (redir.op === '|') throw new AwkError('output to a pipe is not supported here');
    if (name === '/dev/stdout' || name === '-') {
      this.out += s;
      return;
    }
    if (name === '/dev/stderr') {
      this.flush();
      this.ctx.stderr.write(s);
      return;
    }
    if (!this.files.has(name)) {
      this.files.set(name, '');
      try {
        this.ctx.host.writeFile(this.ctx.pid, name, this.ctx.cwd, '', { append: redir.op === '>>' });
      } catch (err) {
        throw new AwkError(`can't redirect to \`${name}' (${(err as Error).message})`);
      }
    }
    this.ctx.host.writeFile(this.ctx.pid, name, this.ctx.cwd, s, { append: true });
  }

  exec(s: Stmt): void {
    this.tick();
    switch (s.k) {
      case 'nop':
        return;
      case 'expr':
        this.eval(s.e);
        return;
      case 'block':
        for (const x of s.body) this.exec(x);
        return;
      case 'print': {
        const ofs = this.str(this.getVar('OFS') as V);
        const ors = this.str(this.getVar('ORS') as V);
        const text = s.args.length === 0 ? this.fields[0] : s.args.map((a) => this.str(this.eval(a), 'OFMT')).join(ofs);
        this.output(text + ors, s.redir);
        return;
      }
      case 'printf': {
        if (s.args.length === 0) throw new AwkError('printf: no format');
        this.output(this.sprintf(s.args.map((a) => this.eval(a))), s.redir);
        return;
      }
      case 'if':
        if (this.bool(this.eval(s.c))) this.exec(s.a);
        else if (s.b) this.exec(s.b);
        return;
      case 'while':
        while (this.bool(this.eval(s.c))) {
          try {
            this.exec(s.body);
          } catch (e) {
            if (e instanceof BreakSignal) break;
            if (e instanceof ContinueSignal) continue;
            throw e;
          }
        }
        return;
      case 'do':
        do {
          try {
            this.exec(s.body);
          } catch (e) {
            if (e instanceof BreakSignal) break;
            if (e instanceof ContinueSignal) continue;
            throw e;
          }
        } while (this.bool(this.eval(s.c)));
        return;
      case 'for':
        if (s.init) this.exec(s.init);
        while (!s.c || this.bool(this.eval(s.c))) {
          try {
            this.exec(s.body);
          } catch (e) {
            if (e instanceof BreakSignal) break;
            if (!(e instanceof ContinueSignal)) throw e;
          }
          if (s.step) this.exec(s.step);
        }
        return;
      case 'forin': {
        const arr = this.array(s.arr);
        for (const k of [...arr.keys()]) {
          if (!arr.has(k)) continue;
          this.setVar(s.v, looksNumeric(k) ? new StrNum(k) : k);
          try {
            this.exec(s.body);
          } catch (e) {
            if (e instanceof BreakSignal) break;
            if (!(e instanceof ContinueSignal)) throw e;
          }
        }
        return;
      }
      case 'next':
        throw new NextSignal();
      case 'nextfile':
        throw new NextFileSignal();
      case 'exit':
        throw new ExitSignal(s.e ? Math.trunc(this.num(this.eval(s.e))) : -1);
      case 'return':
        throw new ReturnSignal(s.e ? this.eval(s.e) : UNINIT);
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
      case 'delete': {
        const arr = this.array(s.name);
        if (s.subs) arr.delete(this.subscript(s.subs));
        else arr.clear();
        return;
      }
    }
  }
}

function assignVar(it: Interp, spec: string): boolean {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/.exec(spec);
  if (!m) return false;
  const v = unescapeAwk(m[2]);
  it.setVar(m[1], new StrNum(v));
  return true;
}

function unescapeAwk(s: string): string {
  return s.replace(/\\(n|t|r|\\|"|\/|a|b|f|v|[0-7]{1,3})/g, (_, c: string) => {
    const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', '/': '/', a: '\x07', b: '\b', f: '\f', v: '\v' };
    return c in map ? map[c] : String.fromCharCode(parseInt(c, 8));
  });
}

const awk = (ctx: ToolCtx): number => {
  const args = ctx.argv.slice(1);
  let fs: string | undefined;
  const assigns: string[] = [];
  let progText: string | undefined;
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (a === '-F') fs = args[++i];
    else if (a.startsWith('-F')) fs = a.slice(2);
    else if (a === '-v') assigns.push(args[++i] ?? '');
    else if (a.startsWith('-v')) assigns.push(a.slice(2));
    else if (a === '-f') {
      const f = args[++i];
      const t = f === undefined ? null : readInput(ctx, f);
      if (t === null) return 2;
      progText = (progText ?? '') + t + '\n';
    } else if (a === '--version' || a === '-V') {
      ctx.stdout.write('GNU Awk 5.2.1, API 3.2\n');
      return 0;
    } else if (a.startsWith('-') && a.length > 1) {
      warn(ctx, `fatal: unknown option ${q(a)}`);
      return 2;
    } else break;
  }
  if (progText === undefined) {
    if (i >= args.length) {
      ctx.stderr.write("Usage: awk [POSIX or GNU style options] -f progfile [--] file ...\nUsage: awk [POSIX or GNU style options] [--] 'program' file ...\n");
      return 2;
    }
    progText = args[i++];
  }
  const operands = args.slice(i);
  let parser: P;
  try {
    parser = new P(lex(progText));
    parser.program();
  } catch (e) {
    if (e instanceof AwkError) {
      ctx.stderr.write(`awk: cmd. line:1: ${progText.split('\n')[0]}\nawk: cmd. line:1: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const it = new Interp(ctx, parser.funcs);
  const argvArr: AwkArray = new Map([['0', 'awk'], ...operands.map((o, k) => [String(k + 1), new StrNum(o)] as [string, V])]);
  it.vars.set('ARGV', argvArr);
  it.vars.set('ARGC', operands.length + 1);
  let exitCode = 0;
  const begins = parser.items.filter((x) => x.kind === 'begin');
  const ends = parser.items.filter((x) => x.kind === 'end');
  const mains = parser.items.filter((x) => x.kind === 'main');
  const fatal = (e: unknown): number => {
    if (e instanceof AwkError) {
      it.flush();
      ctx.stderr.write(`awk: cmd. line:1: fatal: ${e.message}\n`);
      return 2;
    }
    throw e;
  };
  try {
    if (fs !== undefined) it.setVar('FS', fs === 't' ? '\t' : unescapeAwk(fs));
    for (const a of assigns) {
      if (!assignVar(it, a)) {
        warn(ctx, `fatal: \`${a}' argument to \`-v' not in \`var=value' form`);
        return 2;
      }
    }
  } catch (e) {
    return fatal(e);
  }
  let exiting = false;
  try {
    for (const b of begins) it.exec(b.action as Stmt);
  } catch (e) {
    if (e instanceof ExitSignal) {
      exiting = true;
      if (e.code >= 0) exitCode = e.code;
    } else if (e instanceof NextSignal) {
      // next in BEGIN is an error in gawk; ignore
    } else return fatal(e);
  }
  if (!exiting && (mains.length || ends.length)) {
    // inputs: operands that are not assignments; none -> stdin
    const argc = (): number => Math.trunc(it.num(it.getVar('ARGC') as V));
    const sources: (() => { name: string; data: string } | null | 'assign')[] = [];
    void sources;
    let k = 1;
    let usedFile = false;
    let records: string[] = [];
    let rpos = 0;
    const rsSplit = (data: string): string[] => {
      const rs = it.str(it.getVar('RS') as V);
      if (data === '') return [];
      if (rs === '\n') return (data.endsWith('\n') ? data.slice(0, -1) : data).split('\n');
      if (rs === '') return data.replace(/^\n+/, '').replace(/\n+$/, '').split(/\n\n+/).filter((x) => x !== '');
      if (rs.length === 1) {
        const parts = data.split(rs);
        if (parts[parts.length - 1] === '' || parts[parts.length - 1] === '\n') parts.pop();
        return parts;
      }
      const re = compileRegex(rs, true, 'g');
      const parts = re ? data.split(re) : [data];
      if (parts[parts.length - 1] === '') parts.pop();
      return parts;
    };
    const openNext = (): boolean => {
      while (k < argc()) {
        const op = argvArr.get(String(k++));
        const name = op === undefined ? '' : it.str(op);
        if (name === '') continue;
        if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(name)) {
          assignVar(it, name);
          continue;
        }
        usedFile = true;
        let data: string;
        if (name === '-' || name === '/dev/stdin') data = ctx.stdin.readAll();
        else {
          try {
            const st = ctx.host.stat(ctx.pid, name, ctx.cwd);
            if (st.type === 'dir') {
              warn(ctx, `warning: command line argument \`${name}' is a directory: skipped`);
              continue;
            }
            data = ctx.host.readFile(ctx.pid, name, ctx.cwd);
          } catch (e) {
            it.flush();
            ctx.stderr.write(`awk: cmd. line:1: fatal: cannot open file \`${name}' for reading: ${(e as Error).message}\n`);
            exitCode = 2;
            throw new ExitSignal(2);
          }
        }
        it.setVar('FILENAME', name);
        it.setVar('FNR', 0);
        records = rsSplit(data);
        rpos = 0;
        return true;
      }
      if (!usedFile) {
        usedFile = true;
        it.setVar('FNR', 0);
        records = rsSplit(ctx.stdin.readAll());
        rpos = 0;
        return true;
      }
      return false;
    };
    let opened = false;
    const nextRecord = (): string | null => {
      for (;;) {
        if (!opened) {
          if (!openNext()) return null;
          opened = true;
        }
        if (rpos < records.length) return records[rpos++];
        opened = false;
      }
    };
    it.nextInput = nextRecord;
    try {
      for (;;) {
        const rec = nextRecord();
        if (rec === null) break;
        it.setVar('NR', it.num(it.getVar('NR') as V) + 1);
        it.setVar('FNR', it.num(it.getVar('FNR') as V) + 1);
        it.setRecord(rec);
        try {
          for (const m of mains) {
            let hit: boolean;
            if (m.pattern2) {
              if (it.rangeState.get(m)) {
                hit = true;
                if (it.bool(it.eval(m.pattern2))) it.rangeState.set(m, false);
              } else if (m.pattern && it.bool(it.eval(m.pattern))) {
                hit = true;
                if (!it.bool(it.eval(m.pattern2))) it.rangeState.set(m, true);
              } else hit = false;
            } else hit = !m.pattern || it.bool(it.eval(m.pattern));
            if (!hit) continue;
            if (m.action) it.exec(m.action);
            else it.output(it.fields[0] + it.str(it.getVar('ORS') as V));
          }
        } catch (e) {
          if (e instanceof NextSignal) continue;
          if (e instanceof NextFileSignal) {
            opened = false;
            continue;
          }
          throw e;
        }
      }
    } catch (e) {
      if (e instanceof ExitSignal) {
        if (e.code >= 0) exitCode = e.code;
      } else return fatal(e);
    }
  }
  try {
    for (const en of ends) it.exec(en.action as Stmt);
  } catch (e) {
    if (e instanceof ExitSignal) {
      if (e.code >= 0) exitCode = e.code;
    } else if (!(e instanceof NextSignal)) return fatal(e);
  }
  it.flush();
  return exitCode & 255;
};

export const AWK_TOOLS: ToolSpec[] = [
  { name: 'awk', run: awk },
  { name: 'gawk', run: awk },
  { name: 'mawk', run: awk },
];
