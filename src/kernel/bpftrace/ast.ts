/** AST of the bpftrace 0.17 language. Locations follow bpftrace's lexer: 1-based columns, end exclusive. */
export interface Loc {
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}

export const NO_LOC: Loc = { line: 1, col: 1, endLine: 1, endCol: 1 };

export function mergeLoc(a: Loc, b: Loc): Loc {
  return { line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
}

export type Expr =
  | { kind: 'int'; value: bigint; loc: Loc }
  | { kind: 'str'; value: string; loc: Loc }
  | { kind: 'builtin'; name: string; loc: Loc }
  | { kind: 'ident'; name: string; loc: Loc }
  | { kind: 'param'; index: number; loc: Loc }
  | { kind: 'paramCount'; loc: Loc }
  | { kind: 'var'; name: string; loc: Loc }
  | MapExpr
  | { kind: 'call'; name: string; args: Expr[]; loc: Loc; nameLoc: Loc }
  | { kind: 'binop'; op: string; left: Expr; right: Expr; loc: Loc }
  | { kind: 'unop'; op: string; operand: Expr; loc: Loc }
  | { kind: 'incdec'; op: '++' | '--'; prefix: boolean; target: Expr; loc: Loc }
  | { kind: 'ternary'; cond: Expr; then: Expr; else: Expr; loc: Loc }
  | { kind: 'tuple'; elems: Expr[]; loc: Loc }
  | { kind: 'field'; base: Expr; field: string; arrow: boolean; loc: Loc }
  | { kind: 'index'; base: Expr; index: Expr; loc: Loc }
  | { kind: 'cast'; type: string; ptr: boolean; operand: Expr; loc: Loc };

export interface MapExpr {
  kind: 'map';
  name: string; // '@' or '@name'
  keys: Expr[] | null;
  loc: Loc;
  nameLoc: Loc;
}

export type Stmt =
  | { kind: 'expr'; expr: Expr; loc: Loc }
  | { kind: 'assignMap'; map: MapExpr; op: string; value: Expr; loc: Loc; opLoc: Loc }
  | { kind: 'assignVar'; name: string; op: string; value: Expr; loc: Loc; opLoc: Loc; varLoc: Loc }
  | { kind: 'if'; cond: Expr; then: Stmt[]; else: Stmt[] | null; loc: Loc }
  | { kind: 'unroll'; count: Expr; body: Stmt[]; loc: Loc }
  | { kind: 'while'; cond: Expr; body: Stmt[]; loc: Loc }
  | { kind: 'jump'; what: 'break' | 'continue' | 'return'; loc: Loc };

export interface AttachPoint {
  /** text as written */
  raw: string;
  /** canonical provider (kprobe, tracepoint, interval, ...) or '' if unknown */
  provider: string;
  /** provider as written */
  written: string;
  parts: string[];
  loc: Loc;
}

export interface Probe {
  attachPoints: AttachPoint[];
  predicate: Expr | null;
  body: Stmt[];
  loc: Loc;
}

export interface Program {
  probes: Probe[];
}
