/**
 * Shell arithmetic ($(( )), (( )), let): 64-bit signed integers with C
 * operators, variables evaluated recursively, and bash's error texts
 * ("1/0: division by 0 (error token is "0")").
 */
export class ArithError extends Error {
  constructor(
    /** the whole expression as bash echoes it */
    readonly expr: string,
    readonly what: string,
    readonly token: string,
  ) {
    super(`${expr}: ${what} (error token is "${token}")`);
    this.name = 'ArithError';
  }
}

export interface ArithVars {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
}

type Tok = { t: 'num'; v: bigint; pos: number; text: string } | { t: 'id'; name: string; pos: number } | { t: 'op'; op: string; pos: number } | { t: 'end'; pos: number };

const OPS = ['<<=', '>>=', '**', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '^=', '|=', '+', '-', '*', '/', '%', '<', '>', '&', '^', '|', '!', '~', '?', ':', '=', '(', ')', ','];

const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);

const MAX_RECURSION = 64;
/** parentheses and unary operators one expression may nest */
const MAX_NESTING = 256;

export function evalArith(text: string, vars: ArithVars, depth = 0): bigint {
  return new ArithParser(text, vars, depth).run();
}

class ArithParser {
  private toks: Tok[] = [];
  private k = 0;
  private readonly shown: string;
  private lead: number;

  constructor(
    private readonly src: string,
    private readonly vars: ArithVars,
    private readonly depth: number,
  ) {
    this.lead = src.length - src.trimStart().length;
    this.shown = src.slice(this.lead);
  }

  private fail(what: string, pos: number): never {
    throw new ArithError(this.shown, what, this.src.slice(Math.max(pos, this.lead)));
  }

  private tokenize(): void {
    const s = this.src;
    let i = 0;
    while (i < s.length) {
      const c = s[i];
      if (c === ' ' || c === '\t' || c === '\n') {
        i++;
        continue;
      }
      if (/[0-9]/.test(c)) {
        let j = i;
        while (j < s.length && /[0-9A-Za-z_#@]/.test(s[j])) j++;
        const text = s.slice(i, j);
        this.toks.push({ t: 'num', v: this.parseNum(text, i), pos: i, text });
        i = j;
        continue;
      }
      if (/[A-Za-z_]/.test(c)) {
        let j = i;
        while (j < s.length && /[A-Za-z0-9_]/.test(s[j])) j++;
        this.toks.push({ t: 'id', name: s.slice(i, j), pos: i });
        i = j;
        continue;
      }
      const op = OPS.find((o) => s.startsWith(o, i));
      if (!op) this.fail('syntax error: invalid arithmetic operator', i);
      this.toks.push({ t: 'op', op, pos: i });
      i += op.length;
    }
    this.toks.push({ t: 'end', pos: s.length });
  }

  private parseNum(text: string, pos: number): bigint {
    let base = 10;
    let digits = text;
    const hash = text.indexOf('#');
    if (hash >= 0) {
      base = Number(text.slice(0, hash));
      digits = text.slice(hash + 1);
      if (!(base >= 2 && base <= 64)) this.fail('invalid arithmetic base', pos);
    } else if (/^0[xX]/.test(text)) {
      base = 16;
      digits = text.slice(2);
    } else if (text.length > 1 && text[0] === '0') {
      base = 8;
      digits = text.slice(1);
    }
    if (digits === '') this.fail('invalid integer constant', pos);
    let v = 0n;
    for (const ch of digits) {
      let d: number;
      if (ch >= '0' && ch <= '9') d = ch.charCodeAt(0) - 48;
      else if (ch >= 'a' && ch <= 'z') d = ch.charCodeAt(0) - 87;
      else if (ch >= 'A' && ch <= 'Z') d = base <= 36 ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 29;
      else if (ch === '@') d = 62;
      else if (ch === '_') d = 63;
      else d = 99;
      if (d >= base) this.fail('value too great for base', pos);
      v = wrap(v * BigInt(base) + BigInt(d));
    }
    return v;
  }

  run(): bigint {
    if (this.depth > MAX_RECURSION) this.fail('expression recursion level exceeded', 0);
    this.tokenize();
    if (this.toks.length === 1) return 0n;
    const v = this.comma(true);
    const t = this.toks[this.k];
    if (t.t !== 'end') this.fail('syntax error in expression', t.pos);
    return v;
  }

  private peekOp(): string | undefined {
    const t = this.toks[this.k];
    return t.t === 'op' ? t.op : undefined;
  }

  private comma(ev: boolean): bigint {
    let v = this.assign(ev);
    while (this.peekOp() === ',') {
      this.k++;
      v = this.assign(ev);
    }
    return v;
  }

  private varValue(name: string, pos: number): bigint {
    const raw = this.vars.get(name);
    if (raw === undefined || raw.trim() === '') return 0n;
    if (/^-?[0-9]+$/.test(raw.trim())) return wrap(BigInt(raw.trim()));
    try {
      return evalArith(raw, this.vars, this.depth + 1);
    } catch (e) {
      if (e instanceof ArithError) throw e;
      this.fail('syntax error in expression', pos);
    }
  }

  private assign(ev: boolean): bigint {
    const t = this.toks[this.k];
    const n = this.toks[this.k + 1];
    if (t.t === 'id' && n.t === 'op' && ['=', '+=', '-=', '*=', '/=', '%=', '<<=', '>>=', '&=', '^=', '|='].includes(n.op)) {
      this.k += 2;
      const rhs = this.assign(ev);
      if (!ev) return rhs;
      let v = rhs;
      if (n.op !== '=') v = this.binop(n.op.slice(0, -1), this.varValue(t.name, t.pos), rhs, this.toks[this.k - 1].pos);
      this.vars.set(t.name, String(v));
      return v;
    }
    return this.ternary(ev);
  }

  private ternary(ev: boolean): bigint {
    const c = this.binary(0, ev);
    if (this.peekOp() !== '?') return c;
    this.k++;
    const a = this.assign(ev && c !== 0n);
    if (this.peekOp() !== ':') this.fail("syntax error: `:' expected for conditional expression", this.toks[this.k].pos);
    this.k++;
    const b = this.assign(ev && c === 0n);
    return c !== 0n ? a : b;
  }

  private static PREC: [string[], number][] = [
    [['||'], 1],
    [['&&'], 2],
    [['|'], 3],
    [['^'], 4],
    [['&'], 5],
    [['==', '!='], 6],
    [['<', '>', '<=', '>='], 7],
    [['<<', '>>'], 8],
    [['+', '-'], 9],
    [['*', '/', '%'], 10],
  ];

  private prec(op: string | undefined): number {
    if (op === undefined) return -1;
    for (const [ops, p] of ArithParser.PREC) if (ops.includes(op)) return p;
    return -1;
  }

  private binary(minPrec: number, ev: boolean): bigint {
    let lhs = this.power(ev);
    for (;;) {
      const op = this.peekOp();
      const p = this.prec(op);
      if (p < 0 || p < minPrec) break;
      this.k++;
      if (op === '&&') {
        const rhs = this.binary(p + 1, ev && lhs !== 0n);
        lhs = lhs !== 0n && rhs !== 0n ? 1n : 0n;
        continue;
      }
      if (op === '||') {
        const rhs = this.binary(p + 1, ev && lhs === 0n);
        lhs = lhs !== 0n || rhs !== 0n ? 1n : 0n;
        continue;
      }
      const rhsTok = this.toks[this.k];
      const rhs = this.binary(p + 1, ev);
      lhs = ev ? this.binop(op as string, lhs, rhs, rhsTok.pos) : 0n;
    }
    return lhs;
  }

  private binop(op: string, a: bigint, b: bigint, pos: number): bigint {
    switch (op) {
      case '+':
        return wrap(a + b);
      case '-':
        return wrap(a - b);
      case '*':
        return wrap(a * b);
      case '/':
      case '%':
        if (b === 0n) this.fail('division by 0', pos);
        if (op === '/') return a === -(2n ** 63n) && b === -1n ? a : wrap(a / b);
        return a === -(2n ** 63n) && b === -1n ? 0n : wrap(a % b);
      case '<<':
        return wrap(a << (b & 63n));
      case '>>':
        return wrap(a >> (b & 63n));
      case '<':
        return a < b ? 1n : 0n;
      case '>':
        return a > b ? 1n : 0n;
      case '<=':
        return a <= b ? 1n : 0n;
      case '>=':
        return a >= b ? 1n : 0n;
      case '==':
        return a === b ? 1n : 0n;
      case '!=':
        return a !== b ? 1n : 0n;
      case '&':
        return a & b;
      case '^':
        return a ^ b;
      case '|':
        return a | b;
      case '**':
        if (b < 0n) this.fail('exponent less than 0', pos);
        return powWrap(a, b);
    }
    this.fail('syntax error in expression', pos);
  }

  private power(ev: boolean): bigint {
    const base = this.unary(ev);
    if (this.peekOp() === '**') {
      this.k++;
      const pos = this.toks[this.k].pos;
      const exp = this.power(ev);
      return ev ? this.binop('**', base, exp, pos) : 0n;
    }
    return base;
  }

  /** nesting of parentheses and unary operators, bounded so no expression can exhaust the stack */
  private nest = 0;

  private deeper(pos: number): void {
    if (++this.nest > MAX_NESTING) this.fail(`expression nesting too deep (limit ${MAX_NESTING})`, pos);
  }

  private unary(ev: boolean): bigint {
    const t = this.toks[this.k];
    if (t.t === 'op' && (t.op === '-' || t.op === '+' || t.op === '!' || t.op === '~')) {
      this.deeper(t.pos);
      try {
        return this.unaryOp(t.op, ev);
      } finally {
        this.nest--;
      }
    }
    return this.unaryOp(undefined, ev);
  }

  private unaryOp(_op: string | undefined, ev: boolean): bigint {
    const t = this.toks[this.k];
    if (t.t === 'op') {
      switch (t.op) {
        case '-':
          this.k++;
          return wrap(-this.unary(ev));
        case '+':
          this.k++;
          return this.unary(ev);
        case '!':
          this.k++;
          return this.unary(ev) === 0n ? 1n : 0n;
        case '~':
          this.k++;
          return ~this.unary(ev);
        case '++':
        case '--': {
          this.k++;
          const id = this.toks[this.k];
          if (id.t !== 'id') this.fail('syntax error: operand expected', id.pos);
          this.k++;
          if (!ev) return 0n;
          const v = wrap(this.varValue(id.name, id.pos) + (t.op === '++' ? 1n : -1n));
          this.vars.set(id.name, String(v));
          return v;
        }
      }
    }
    return this.postfix(ev);
  }

  private postfix(ev: boolean): bigint {
    const t = this.toks[this.k];
    if (t.t === 'id') {
      this.k++;
      const op = this.peekOp();
      if (op === '++' || op === '--') {
        this.k++;
        if (!ev) return 0n;
        const v = this.varValue(t.name, t.pos);
        this.vars.set(t.name, String(wrap(v + (op === '++' ? 1n : -1n))));
        return v;
      }
      return ev ? this.varValue(t.name, t.pos) : 0n;
    }
    if (t.t === 'num') {
      this.k++;
      return t.v;
    }
    if (t.t === 'op' && t.op === '(') {
      this.k++;
      this.deeper(t.pos);
      const v = this.comma(ev);
      this.nest--;
      if (this.peekOp() !== ')') this.fail("missing `)'", this.toks[this.k].pos);
      this.k++;
      return v;
    }
    this.fail('syntax error: operand expected', t.t === 'end' && this.k > 0 ? this.toks[this.k - 1].pos : t.pos);
  }
}

function powWrap(a: bigint, b: bigint): bigint {
  let r = 1n;
  let base = wrap(a);
  let e = b;
  while (e > 0n) {
    if (e & 1n) r = wrap(r * base);
    base = wrap(base * base);
    e >>= 1n;
  }
  return r;
}
