/** bpftrace value types (SizedType subset) as the semantic pass sees them. */
export type AggFn = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'stats' | 'hist' | 'lhist';
export const AGG_FNS: readonly AggFn[] = ['count', 'sum', 'min', 'max', 'avg', 'stats', 'hist', 'lhist'];

export type Ty =
  | { k: 'int'; signed: boolean; bits: number; lit?: boolean }
  | { k: 'str'; size: number }
  | { k: 'tuple'; elems: Ty[] }
  | { k: 'stack'; user: boolean }
  | { k: 'sym'; user: boolean }
  | { k: 'buf'; size: number }
  | { k: 'agg'; fn: AggFn }
  | { k: 'record' }
  | { k: 'none' };

export const INT64: Ty = { k: 'int', signed: true, bits: 64 };
export const UINT64: Ty = { k: 'int', signed: false, bits: 64 };
export const NONE: Ty = { k: 'none' };

export function tyName(t: Ty): string {
  switch (t.k) {
    case 'int':
      return `${t.signed ? '' : 'unsigned '}int${t.bits}`;
    case 'str':
      return `string[${t.size}]`;
    case 'tuple':
      return `(${t.elems.map(tyName).join(',')})`;
    case 'stack':
      return t.user ? 'ustack' : 'kstack';
    case 'sym':
      return t.user ? 'usym' : 'ksym';
    case 'buf':
      return `buffer[${t.size}]`;
    case 'agg':
      return t.fn;
    case 'record':
      return 'record';
    case 'none':
      return 'none';
  }
}

/** Kind name as printed in "(string provided)" style messages. */
export function kindName(t: Ty): string {
  switch (t.k) {
    case 'int':
      return 'integer';
    case 'str':
      return 'string';
    case 'buf':
      return 'buffer';
    default:
      return tyName(t);
  }
}

/** Same kind (strings of any size and ints of any width are compatible). */
export function sameKind(a: Ty, b: Ty): boolean {
  if (a.k !== b.k) return false;
  if (a.k === 'tuple' && b.k === 'tuple') return a.elems.length === b.elems.length && a.elems.every((e, i) => sameKind(e, b.elems[i]));
  if (a.k === 'agg' && b.k === 'agg') return a.fn === b.fn;
  if (a.k === 'stack' && b.k === 'stack') return a.user === b.user;
  return true;
}

export function isStringy(t: Ty): boolean {
  return t.k === 'str' || t.k === 'sym' || t.k === 'stack';
}
