import { type AttachPoint, type Expr, type Loc, type MapExpr, mergeLoc, type Probe, type Program, type Stmt } from './ast';
import type { Diagnostic } from './diagnostics';
import { Lexer, punctName, type Token, tokenName } from './lexer';

export const INT_TYPES = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'uint64', 'int64'];

class ParseError extends Error {
  constructor(readonly diag: Diagnostic) {
    super(diag.message);
  }
}

/** Full source span of an expression (binops keep the operator's location as their own loc). */
export function spanOf(e: Expr): Loc {
  switch (e.kind) {
    case 'binop':
      return mergeLoc(spanOf(e.left), spanOf(e.right));
    case 'ternary':
      return mergeLoc(spanOf(e.cond), spanOf(e.else));
    default:
      return e.loc;
  }
}

const BINARY_LEVELS: string[][] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '>', '<=', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];
const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=']);
const MAX_DEPTH = 200;

export interface ParseResult {
  program: Program | null;
  diagnostics: Diagnostic[];
}

/** Parses a bpftrace program. Never throws: every problem becomes a diagnostic. */
export function parse(source: string): ParseResult {
  const diags: Diagnostic[] = [];
  const p = new Parser(source, diags);
  let program: Program | null = null;
  try {
    program = p.program();
  } catch (e) {
    if (e instanceof ParseError) diags.push(e.diag);
    else if (e instanceof RangeError) diags.push({ severity: 'ERROR', message: 'program too deeply nested' });
    else throw e;
  }
  const hasError = diags.some((d) => d.severity === 'ERROR');
  return { program: hasError ? null : program, diagnostics: diags };
}

class Parser {
  private lx: Lexer;
  private tok: Token | null = null;
  private depth = 0;
  private inPredicate = 0;
  constructor(
    readonly src: string,
    readonly diags: Diagnostic[],
  ) {
    this.lx = new Lexer(src, diags);
  }

  private peek(): Token {
    if (!this.tok) this.tok = this.lx.next();
    return this.tok;
  }
  private take(): Token {
    const t = this.peek();
    this.tok = null;
    return t;
  }
  private isP(text: string): boolean {
    const t = this.peek();
    return t.type === 'punct' && t.text === text;
  }
  private fail(t: Token, expecting?: string): never {
    const msg = `syntax error, unexpected ${tokenName(t)}` + (expecting ? `, expecting ${expecting}` : '');
    throw new ParseError({ severity: 'ERROR', message: msg, loc: t.loc });
  }
  private expectP(text: string): Token {
    const t = this.peek();
    if (t.type === 'punct' && t.text === text) return this.take();
    return this.fail(t, punctName(text));
  }

  program(): Program {
    const probes: Probe[] = [];
    for (;;) {
      this.lx.skipSpace();
      if (this.lx.pos >= this.lx.src.length) break;
      if (/^struct\s/.test(this.lx.src.slice(this.lx.pos, this.lx.pos + 7)) && probes.length === 0) {
        this.skipStruct();
        continue;
      }
      probes.push(this.probe());
    }
    if (probes.length === 0) {
      const t = this.peek();
      this.fail(t);
    }
    return { probes };
  }

  private skipStruct(): void {
    // C definitions are accepted and ignored: skip to the matching '}' and an optional ';'
    const s = this.lx.src;
    let i = s.indexOf('{', this.lx.pos);
    if (i < 0) i = s.length;
    let depth = 0;
    for (; i < s.length; i++) {
      if (s[i] === '{') depth++;
      else if (s[i] === '}' && --depth === 0) {
        i++;
        break;
      }
    }
    while (i < s.length && /\s/.test(s[i])) i++;
    if (s[i] === ';') i++;
    const lx = new Lexer(s, this.diags);
    while (lx.pos < i) {
      lx.next();
    }
    this.lx = lx;
    this.tok = null;
  }

  private probe(): Probe {
    const aps: AttachPoint[] = [];
    for (;;) {
      const t = this.lx.attachPoint();
      if (!t) {
        const n = this.peek();
        if (aps.length === 0 && n.type === 'punct' && n.text === '{') {
          throw new ParseError({ severity: 'ERROR', message: 'No attach points for probe', loc: { line: 1, col: 1, endLine: 1, endCol: 1 } });
        }
        this.fail(n);
      }
      aps.push(parseAttachPoint(t.text, t.loc));
      if (this.isP(',')) {
        this.take();
        continue;
      }
      break;
    }
    let predicate: Expr | null = null;
    if (this.isP('/')) {
      this.take();
      this.inPredicate++;
      predicate = this.expr();
      this.inPredicate--;
      this.expectP('/');
    }
    const start = aps[0].loc;
    const body = this.block();
    return { attachPoints: aps, predicate, body, loc: start };
  }

  private block(): Stmt[] {
    this.expectP('{');
    const saved = this.inPredicate;
    this.inPredicate = 0;
    const stmts: Stmt[] = [];
    for (;;) {
      const t = this.peek();
      if (t.type === 'punct' && t.text === '}') break;
      if (t.type === 'kw' && (t.text === 'if' || t.text === 'unroll' || t.text === 'while')) {
        stmts.push(this.blockStmt());
        continue;
      }
      stmts.push(this.simpleStmt());
      const n = this.peek();
      if (n.type === 'punct' && n.text === ';') {
        this.take();
        continue;
      }
      if (n.type === 'punct' && n.text === '}') break;
      this.fail(n, '}');
    }
    this.take();
    this.inPredicate = saved;
    return stmts;
  }

  private nest<T>(f: () => T): T {
    if (++this.depth > MAX_DEPTH) {
      const t = this.peek();
      throw new ParseError({ severity: 'ERROR', message: 'program too deeply nested', loc: t.loc });
    }
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  private blockStmt(): Stmt {
    return this.nest(() => {
      const kw = this.take();
      if (kw.text === 'if') {
        this.expectP('(');
        const cond = this.expr();
        this.expectP(')');
        if (!this.isP('{')) this.fail(this.peek(), '{');
        const then = this.block();
        let els: Stmt[] | null = null;
        const n = this.peek();
        if (n.type === 'kw' && n.text === 'else') {
          this.take();
          const m = this.peek();
          if (m.type === 'kw' && m.text === 'if') els = [this.blockStmt()];
          else {
            if (!this.isP('{')) this.fail(m, '{');
            els = this.block();
          }
        }
        return { kind: 'if', cond, then, else: els, loc: kw.loc };
      }
      if (kw.text === 'unroll') {
        this.expectP('(');
        const c = this.peek();
        if (c.type !== 'int' && c.type !== 'param') this.fail(c);
        const count = this.primary();
        const close = this.expectP(')');
        if (!this.isP('{')) this.fail(this.peek(), '{');
        const body = this.block();
        return { kind: 'unroll', count, body, loc: mergeLoc(kw.loc, close.loc) };
      }
      // while
      this.expectP('(');
      const cond = this.expr();
      this.expectP(')');
      if (!this.isP('{')) this.fail(this.peek(), '{');
      const body = this.block();
      return { kind: 'while', cond, body, loc: kw.loc };
    });
  }

  private simpleStmt(): Stmt {
    const t = this.peek();
    if (t.type === 'kw' && (t.text === 'break' || t.text === 'continue' || t.text === 'return')) {
      this.take();
      return { kind: 'jump', what: t.text as 'break' | 'continue' | 'return', loc: t.loc };
    }
    const left = this.expr();
    const n = this.peek();
    if (n.type === 'punct' && ASSIGN_OPS.has(n.text)) {
      if (left.kind === 'map') {
        this.take();
        const value = this.expr();
        return { kind: 'assignMap', map: left, op: n.text, value, loc: mergeLoc(left.loc, spanOf(value)), opLoc: n.loc };
      }
      if (left.kind === 'var') {
        this.take();
        const value = this.expr();
        return { kind: 'assignVar', name: left.name, op: n.text, value, loc: mergeLoc(left.loc, spanOf(value)), opLoc: n.loc, varLoc: left.loc };
      }
      if (left.kind === 'field' && /^\d+$/.test(left.field)) {
        this.take();
        const value = this.expr();
        throw new ParseError({
          severity: 'ERROR',
          message: 'Tuples are immutable once created. Consider creating a new tuple and assigning it instead.',
          loc: mergeLoc(spanOf(left), spanOf(value)),
        });
      }
    }
    return { kind: 'expr', expr: left, loc: spanOf(left) };
  }

  expr(): Expr {
    return this.nest(() => this.ternary());
  }

  private ternary(): Expr {
    const cond = this.binary(0);
    if (this.isP('?')) {
      this.take();
      const a = this.ternary();
      this.expectP(':');
      const b = this.ternary();
      return { kind: 'ternary', cond, then: a, else: b, loc: mergeLoc(spanOf(cond), spanOf(b)) };
    }
    return cond;
  }

  private binary(level: number): Expr {
    if (level >= BINARY_LEVELS.length) return this.unary();
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.peek();
      if (t.type !== 'punct' || !BINARY_LEVELS[level].includes(t.text)) return left;
      if (t.text === '/' && this.inPredicate) return left;
      this.take();
      const right = this.binary(level + 1);
      left = { kind: 'binop', op: t.text, left, right, loc: t.loc };
    }
  }

  private unary(): Expr {
    return this.nest(() => {
      const t = this.peek();
      if (t.type === 'punct') {
        if (t.text === '!' || t.text === '~' || t.text === '-' || t.text === '*' || t.text === '&') {
          this.take();
          const operand = this.unary();
          if (t.text === '-' && operand.kind === 'int') return { kind: 'int', value: BigInt.asIntN(64, -operand.value), loc: mergeLoc(t.loc, operand.loc) };
          return { kind: 'unop', op: t.text, operand, loc: mergeLoc(t.loc, spanOf(operand)) };
        }
        if (t.text === '++' || t.text === '--') {
          this.take();
          const target = this.unary();
          if (target.kind !== 'map' && target.kind !== 'var') this.fail(this.peek());
          return { kind: 'incdec', op: t.text, prefix: true, target, loc: mergeLoc(t.loc, target.loc) };
        }
      }
      return this.postfix(this.primary());
    });
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      const t = this.peek();
      if (t.type !== 'punct') return e;
      if (t.text === '++' || t.text === '--') {
        if (e.kind !== 'map' && e.kind !== 'var') return e;
        this.take();
        e = { kind: 'incdec', op: t.text, prefix: false, target: e, loc: mergeLoc(e.loc, t.loc) };
      } else if (t.text === '.' || t.text === '->') {
        this.take();
        const f = this.take();
        if (f.type !== 'ident' && f.type !== 'int' && f.type !== 'builtin') this.fail(f);
        e = { kind: 'field', base: e, field: f.type === 'int' ? f.text : f.text, arrow: t.text === '->', loc: mergeLoc(spanOf(e), f.loc) };
      } else if (t.text === '[') {
        this.take();
        const index = this.expr();
        const close = this.expectP(']');
        e = { kind: 'index', base: e, index, loc: mergeLoc(spanOf(e), close.loc) };
      } else return e;
    }
  }

  private primary(): Expr {
    const t = this.take();
    switch (t.type) {
      case 'int':
        return { kind: 'int', value: t.int ?? 0n, loc: t.loc };
      case 'str':
        return { kind: 'str', value: t.str ?? '', loc: t.loc };
      case 'builtin':
        return { kind: 'builtin', name: t.text, loc: t.loc };
      case 'ident':
        return { kind: 'ident', name: t.text, loc: t.loc };
      case 'var':
        return { kind: 'var', name: t.text, loc: t.loc };
      case 'param':
        return { kind: 'param', index: Number(t.text.slice(1)), loc: t.loc };
      case 'paramCount':
        return { kind: 'paramCount', loc: t.loc };
      case 'map': {
        let keys: Expr[] | null = null;
        let loc = t.loc;
        if (this.isP('[')) {
          this.take();
          keys = [this.expr()];
          while (this.isP(',')) {
            this.take();
            keys.push(this.expr());
          }
          loc = mergeLoc(t.loc, this.expectP(']').loc);
        }
        const m: MapExpr = { kind: 'map', name: t.text, keys, loc, nameLoc: t.loc };
        return m;
      }
      case 'call': {
        this.expectP('(');
        const args: Expr[] = [];
        if (!this.isP(')')) {
          args.push(this.expr());
          while (this.isP(',')) {
            this.take();
            args.push(this.expr());
          }
        }
        const close = this.expectP(')');
        return { kind: 'call', name: t.text, args, loc: mergeLoc(t.loc, close.loc), nameLoc: t.loc };
      }
      case 'punct':
        if (t.text === '(') return this.paren(t);
        return this.fail(t);
      default:
        return this.fail(t);
    }
  }

  private paren(open: Token): Expr {
    const n = this.peek();
    if (n.type === 'ident' && INT_TYPES.includes(n.text)) {
      this.take();
      this.expectP(')');
      const operand = this.unary();
      return { kind: 'cast', type: n.text, ptr: false, operand, loc: mergeLoc(open.loc, spanOf(operand)) };
    }
    if (n.type === 'kw' && n.text === 'struct') {
      this.take();
      const name = this.take();
      if (name.type !== 'ident') this.fail(name);
      let ptr = false;
      while (this.isP('*')) {
        this.take();
        ptr = true;
      }
      this.expectP(')');
      const operand = this.unary();
      return { kind: 'cast', type: `struct ${name.text}`, ptr, operand, loc: mergeLoc(open.loc, spanOf(operand)) };
    }
    const first = this.expr();
    if (this.isP(',')) {
      const elems = [first];
      while (this.isP(',')) {
        this.take();
        elems.push(this.expr());
      }
      const close = this.expectP(')');
      return { kind: 'tuple', elems, loc: mergeLoc(open.loc, close.loc) };
    }
    this.expectP(')');
    return first;
  }
}

const PROVIDER_ALIASES: Record<string, string> = {
  kprobe: 'kprobe', k: 'kprobe', kretprobe: 'kretprobe', kr: 'kretprobe',
  uprobe: 'uprobe', u: 'uprobe', uretprobe: 'uretprobe', ur: 'uretprobe',
  tracepoint: 'tracepoint', t: 'tracepoint', rawtracepoint: 'rawtracepoint', rt: 'rawtracepoint',
  profile: 'profile', p: 'profile', interval: 'interval', i: 'interval',
  software: 'software', s: 'software', hardware: 'hardware', h: 'hardware',
  BEGIN: 'BEGIN', END: 'END', kfunc: 'kfunc', f: 'kfunc', kretfunc: 'kretfunc', fr: 'kretfunc',
  usdt: 'usdt', U: 'usdt', watchpoint: 'watchpoint', w: 'watchpoint', asyncwatchpoint: 'asyncwatchpoint', aw: 'asyncwatchpoint',
  iter: 'iter', it: 'iter',
};

export function parseAttachPoint(raw: string, loc: Loc): AttachPoint {
  const parts = raw.split(':');
  const written = parts[0];
  const provider = PROVIDER_ALIASES[written] ?? '';
  return { raw, provider, written, parts: parts.slice(1), loc };
}
