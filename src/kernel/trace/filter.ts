/**
 * The trace event filter language (kernel/trace/trace_events_filter.c):
 *   pred := FIELD OP VALUE      OP: == != < <= > >= & ~
 *   expr := pred | '!' expr | '(' expr ')' | expr '&&' expr | expr '||' expr
 * String fields take ==, != and ~ (glob); numeric fields everything but ~.
 * A parse error carries the kernel's message and caret position.
 */
import type { FieldDef } from './data';

export type FieldValue = number | string | bigint | boolean;
export type EventFields = Record<string, FieldValue | undefined>;
export type FilterFn = (rec: EventFields) => boolean;

/** err_text[] of trace_events_filter.c */
export const FILTER_ERRORS = [
  'No error',
  'Invalid operator',
  "Too many '('",
  "Too few '('",
  'Missing matching quote',
  'Operand too long',
  'Expecting string field',
  'Expecting numeric field',
  'Illegal operation for field type',
  'Field not found',
  'Illegal integer value',
  "Couldn't find or set field in one of a subsystem's events",
  'Too many terms in predicate expression',
  'Meaningless filter expression',
  "Only 'ip' field is supported for function trace",
  'Invalid value (did you forget quotes)?',
  'Error',
  'No filter found',
] as const;

export class FilterParseError extends Error {
  constructor(
    readonly text: string,
    /** lasterr_pos: index into the filter string */
    readonly pos: number,
  ) {
    super(text);
  }
}

/** What the filter file reads back after a failed write (append_filter_err). */
export function filterErrorReadback(filter: string, e: FilterParseError): string {
  const pos = Math.min(e.pos, filter.length);
  return `${filter}\n${' '.repeat(pos)}^\nparse_error: ${e.text}\n\n`;
}

/** Shell-style glob of the filter `~` operator: * ? [...] */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const j = glob.indexOf(']', i + 1);
      if (j < 0) re += '\\[';
      else {
        re += '[' + glob.slice(i + 1, j).replace(/\\/g, '\\\\').replace(/^!/, '^') + ']';
        i = j;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 's');
}

const OPS = ['==', '!=', '<=', '>=', '<', '>', '&', '~'] as const;
type Op = (typeof OPS)[number];

function err(i: number, pos: number): never {
  throw new FilterParseError(FILTER_ERRORS[i], pos);
}

function toNum(v: FieldValue | undefined): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return 0n;
}

/**
 * Compiles `text` against the event's fields. Throws FilterParseError.
 * Returns undefined for the "0" (clear) filter.
 */
export function compileFilter(text: string, fields: readonly FieldDef[]): FilterFn {
  const s = text;
  let i = 0;
  const byName = new Map(fields.map((f) => [f.name, f]));
  const ws = (): void => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  // balance check first, like the kernel's predicate_parse
  let depth = 0;
  for (let j = 0; j < s.length; j++) {
    if (s[j] === '"' || s[j] === "'") {
      const q = s[j];
      const k = s.indexOf(q, j + 1);
      if (k < 0) err(4, j);
      j = k;
    } else if (s[j] === '(') depth++;
    else if (s[j] === ')') {
      if (--depth < 0) err(3, j);
    }
  }
  if (depth > 0) err(2, s.length);

  const parseOr = (): FilterFn => {
    let left = parseAnd();
    for (;;) {
      ws();
      if (s.startsWith('||', i)) {
        i += 2;
        const l = left;
        const r = parseAnd();
        left = (rec) => l(rec) || r(rec);
      } else return left;
    }
  };
  const parseAnd = (): FilterFn => {
    let left = parseUnary();
    for (;;) {
      ws();
      if (s.startsWith('&&', i)) {
        i += 2;
        const l = left;
        const r = parseUnary();
        left = (rec) => l(rec) && r(rec);
      } else return left;
    }
  };
  const parseUnary = (): FilterFn => {
    ws();
    if (s[i] === '!' && s[i + 1] !== '=') {
      i++;
      const inner = parseUnary();
      return (rec) => !inner(rec);
    }
    if (s[i] === '(') {
      i++;
      const inner = parseOr();
      ws();
      if (s[i] !== ')') err(3, i);
      i++;
      return inner;
    }
    return parsePred();
  };
  const parsePred = (): FilterFn => {
    ws();
    const start = i;
    while (i < s.length && /[A-Za-z0-9_]/.test(s[i])) i++;
    if (i === start) err(13, i);
    const name = s.slice(start, i);
    const f = byName.get(name) ?? (name === 'CPU' || name === 'cpu' || name === 'COMM' || name === 'comm' ? pseudoField(name) : undefined);
    if (!f) err(9, i + 1);
    ws();
    const op = OPS.find((o) => s.startsWith(o, i));
    if (!op) err(1, i);
    const opPos = i;
    i += op.length;
    ws();
    let value: string;
    const vpos = i;
    if (s[i] === '"' || s[i] === "'") {
      const q = s[i];
      const k = s.indexOf(q, i + 1);
      value = s.slice(i + 1, k);
      i = k + 1;
    } else {
      while (i < s.length && !/[\s()&|]/.test(s[i])) i++;
      value = s.slice(vpos, i);
    }
    if (value.length === 0) err(13, vpos);
    if (value.length > 255) err(5, vpos);
    const key = f.name;
    if (f.isString) {
      if (op !== '==' && op !== '!=' && op !== '~') err(8, opPos);
      const str = (rec: EventFields): string => String(rec[key] ?? '');
      if (op === '~' || /[*?[]/.test(value)) {
        const re = globToRegExp(value);
        return op === '!=' ? (rec) => !re.test(str(rec)) : (rec) => re.test(str(rec));
      }
      return op === '!=' ? (rec) => str(rec) !== value : (rec) => str(rec) === value;
    }
    if (op === '~') err(8, opPos);
    if (!/^-?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*)$/.test(value)) {
      err(/^[A-Za-z_]/.test(value) ? 15 : 10, vpos);
    }
    const neg = value.startsWith('-');
    const body = neg ? value.slice(1) : value;
    const abs = /^0[xX]/.test(body) ? BigInt(body) : body.length > 1 && body[0] === '0' ? BigInt('0o' + body.slice(1)) : BigInt(body);
    const v = neg ? -abs : abs;
    const cmp = numericOp(op, v);
    return (rec) => cmp(toNum(rec[key]));
  };
  ws();
  if (i >= s.length) err(13, 0);
  const fn = parseOr();
  ws();
  if (i < s.length) err(1, i);
  return fn;
}

function numericOp(op: Op, v: bigint): (x: bigint) => boolean {
  switch (op) {
    case '==':
      return (x) => x === v;
    case '!=':
      return (x) => x !== v;
    case '<':
      return (x) => x < v;
    case '<=':
      return (x) => x <= v;
    case '>':
      return (x) => x > v;
    case '>=':
      return (x) => x >= v;
    default:
      return (x) => (x & v) !== 0n;
  }
}

function pseudoField(name: string): FieldDef {
  const isString = name.toLowerCase() === 'comm';
  return { decl: name, name: name.toLowerCase() === 'cpu' ? 'common_cpu' : 'common_comm', type: isString ? 'char[]' : 'int', offset: 0, size: 0, signed: true, isString };
}
