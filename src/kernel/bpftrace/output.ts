import type { AggFn, Ty } from './types';

/** Runtime values: ints are bigint, strings/symbols strings, tuples arrays, stacks and buffers tagged objects. */
export type Val = bigint | string | Val[] | { stack: string[] } | { buf: string };

export type AggState =
  | { fn: 'count' | 'sum' | 'min' | 'max'; v: bigint }
  | { fn: 'avg' | 'stats'; count: bigint; total: bigint }
  | { fn: 'hist'; buckets: Map<number, bigint> }
  | { fn: 'lhist'; buckets: Map<number, bigint>; min: bigint; max: bigint; step: bigint };

export interface MapEntry {
  key: Val[];
  value: Val | AggState;
  seq: number;
}

export interface MapView {
  name: string;
  valueType: Ty;
  keyTypes: Ty[] | null;
  entries: MapEntry[];
}

export function isAgg(v: Val | AggState): v is AggState {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && 'fn' in v;
}

export function intText(v: bigint, t: Ty | undefined): string {
  if (t && t.k === 'int' && !t.signed) return BigInt.asUintN(64, v).toString();
  return BigInt.asIntN(64, v).toString();
}

export function valText(v: Val, t?: Ty, nested = false): string {
  if (typeof v === 'bigint') return intText(v, t);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    const el = t && t.k === 'tuple' ? t.elems : [];
    return '(' + v.map((x, i) => valText(x, el[i], true)).join(', ') + ')';
  }
  if ('stack' in v) return stackText(v.stack, 8);
  void nested;
  return bufText(v.buf);
}

export function stackText(frames: string[], indent: number): string {
  return '\n' + frames.map((f) => ' '.repeat(indent) + f + '\n').join('');
}

export function bufText(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    out += c >= 32 && c < 127 ? s[i] : '\\x' + c.toString(16).padStart(2, '0');
  }
  return out;
}

function keyText(key: Val[], types: Ty[] | null): string {
  if (key.length === 1 && typeof key[0] === 'object' && !Array.isArray(key[0]) && 'stack' in key[0]) {
    const fr = key[0].stack;
    return fr.length ? stackText(fr, 4) : '';
  }
  return key.map((k, i) => valText(k, types?.[i])).join(', ');
}

// ------------------------------------------------------------------------ aggregations

export function histIndex(v: bigint): number {
  if (v < 0n) return -1;
  if (v === 0n) return 0;
  return v.toString(2).length; // 1 -> 1, [2,4) -> 2, ...
}

function powLabel(p: number): string {
  const units = ['', 'K', 'M', 'G', 'T', 'P', 'E'];
  const u = Math.floor(p / 10);
  return `${2 ** (p - u * 10)}${units[u]}`;
}

function histLabel(i: number): string {
  if (i === -1) return '(..., 0)';
  if (i === 0) return '[0]';
  if (i === 1) return '[1]';
  return `[${powLabel(i - 1)}, ${powLabel(i)})`;
}

export function lhistIndex(v: bigint, min: bigint, max: bigint, step: bigint): number {
  if (v < min) return 0;
  if (v >= max) return Number((max - min) / step) + 1;
  return Number((v - min) / step) + 1;
}

function lhistNum(n: bigint): string {
  if (n === 0n) return '0';
  if (n % 1048576n === 0n) return `${n / 1048576n}M`;
  if (n % 1024n === 0n) return `${n / 1024n}K`;
  return n.toString();
}

function lhistLabel(i: number, a: { min: bigint; max: bigint; step: bigint }): string {
  const last = Number((a.max - a.min) / a.step) + 1;
  if (i === 0) return `(..., ${lhistNum(a.min)})`;
  if (i === last) return `[${lhistNum(a.max)}, ...)`;
  const lo = a.min + BigInt(i - 1) * a.step;
  return `[${lhistNum(lo)}, ${lhistNum(lo + a.step)})`;
}

function bucketRows(a: Extract<AggState, { fn: 'hist' | 'lhist' }>): { label: string; count: bigint; lo: bigint | null; hi: bigint | null }[] {
  const idx = [...a.buckets.keys()].filter((k) => a.buckets.get(k)! > 0n).sort((x, y) => x - y);
  if (idx.length === 0) return [];
  const rows = [];
  for (let i = idx[0]; i <= idx[idx.length - 1]; i++) {
    const count = a.buckets.get(i) ?? 0n;
    if (a.fn === 'hist') {
      const lo = i === -1 ? null : i === 0 ? 0n : 1n << BigInt(i - 1);
      const hi = i === -1 ? -1n : i === 0 ? 0n : (1n << BigInt(i)) - 1n;
      rows.push({ label: histLabel(i), count, lo, hi });
    } else {
      const last = Number((a.max - a.min) / a.step) + 1;
      const lo = i === 0 ? null : a.min + BigInt(i - 1) * a.step;
      const hi = i === 0 ? a.min - 1n : i === last ? null : lo! + a.step - 1n;
      rows.push({ label: lhistLabel(i, a), count, lo, hi });
    }
  }
  return rows;
}

function histText(a: Extract<AggState, { fn: 'hist' | 'lhist' }>, div: bigint): string {
  const rows = bucketRows(a);
  let max = 0n;
  for (const r of rows) if (r.count / div > max) max = r.count / div;
  let out = '';
  for (const r of rows) {
    const c = r.count / div;
    const bar = max > 0n ? Number((c * 52n) / max) : 0;
    out += r.label.padEnd(16) + c.toString().padStart(8) + ' |' + '@'.repeat(bar).padEnd(52) + '|\n';
  }
  return out;
}

function aggScalar(a: AggState): bigint {
  switch (a.fn) {
    case 'count':
    case 'sum':
    case 'min':
    case 'max':
      return a.v;
    case 'avg':
    case 'stats':
      return a.count === 0n ? 0n : a.total / a.count;
    default: {
      let n = 0n;
      for (const c of a.buckets.values()) n += c;
      return n;
    }
  }
}

/** Entries in bpftrace's print order (ints/aggregations by value, others by key), top/div applied. */
function ordered(m: MapView, top: number): MapEntry[] {
  const es = [...m.entries].sort((a, b) => b.seq - a.seq);
  const vt = m.valueType;
  const byValue = vt.k === 'int' || vt.k === 'agg';
  if (byValue) {
    const signed = !(vt.k === 'agg' && vt.fn === 'count');
    const sv = (e: MapEntry): bigint => {
      const v = isAgg(e.value) ? aggScalar(e.value) : typeof e.value === 'bigint' ? e.value : 0n;
      return signed ? BigInt.asIntN(64, v) : BigInt.asUintN(64, v);
    };
    es.sort((a, b) => (sv(a) < sv(b) ? -1 : sv(a) > sv(b) ? 1 : 0));
  } else {
    es.sort((a, b) => cmpKeys(a.key, b.key));
  }
  return top > 0 ? es.slice(Math.max(0, es.length - top)) : es;
}

function cmpKeys(a: Val[], b: Val[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (typeof x === 'bigint' && typeof y === 'bigint') {
      if (x !== y) return x < y ? -1 : 1;
    } else {
      const xs = valText(x);
      const ys = valText(y);
      if (xs !== ys) return xs < ys ? -1 : 1;
    }
  }
  return a.length - b.length;
}

/** Text form of a whole map, exactly as bpftrace 0.17 prints it at exit or with print(@m). */
export function mapText(m: MapView, top = 0, div = 1n): string {
  if (m.entries.length === 0) return '\n';
  const d = div > 0n ? div : 1n;
  let out = '';
  const vt = m.valueType;
  const agg = vt.k === 'agg' ? vt.fn : null;
  for (const e of ordered(m, top)) {
    const head = m.keyTypes ? `${m.name}[${keyText(e.key, m.keyTypes)}]` : m.name;
    if (isAgg(e.value)) {
      const a = e.value;
      if (a.fn === 'hist' || a.fn === 'lhist') {
        out += `${head}: \n` + histText(a, d) + '\n';
      } else if (a.fn === 'stats') {
        const avg = a.count === 0n ? 0n : a.total / a.count;
        out += `${head}: count ${a.count / d}, average ${avg / d}, total ${a.total / d}\n`;
      } else if (a.fn === 'avg') {
        out += `${head}: ${aggScalar(a) / d}\n`;
      } else {
        const v = aggScalar(a) / d;
        out += `${head}: ${a.fn === 'count' ? BigInt.asUintN(64, v) : BigInt.asIntN(64, v)}\n`;
      }
    } else {
      const v = typeof e.value === 'bigint' ? e.value / d : e.value;
      out += `${head}: ${valText(v, vt)}\n`;
    }
  }
  if (agg === 'avg' || agg === 'stats') out += '\n';
  return out;
}

// ------------------------------------------------------------------------ JSON (-f json)

export function jsonStr(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

function jsonVal(v: Val, t?: Ty): string {
  if (typeof v === 'bigint') return intText(v, t);
  if (typeof v === 'string') return jsonStr(v);
  if (Array.isArray(v)) return '[' + v.map((x, i) => jsonVal(x, t && t.k === 'tuple' ? t.elems[i] : undefined)).join(',') + ']';
  return jsonStr(valText(v, t));
}

function jsonAgg(a: AggState, d: bigint): string {
  if (a.fn === 'hist' || a.fn === 'lhist') {
    return (
      '[' +
      bucketRows(a)
        .map((r) => {
          const parts: string[] = [];
          if (r.lo !== null) parts.push(`"min": ${r.lo}`);
          if (r.hi !== null) parts.push(`"max": ${r.hi}`);
          parts.push(`"count": ${r.count / d}`);
          return '{' + parts.join(', ') + '}';
        })
        .join(', ') +
      ']'
    );
  }
  if (a.fn === 'stats') return `{"count": ${a.count / d}, "average": ${(a.count === 0n ? 0n : a.total / a.count) / d}, "total": ${a.total / d}}`;
  const v = aggScalar(a) / d;
  return a.fn === 'count' ? BigInt.asUintN(64, v).toString() : BigInt.asIntN(64, v).toString();
}

export function mapJson(m: MapView, top = 0, div = 1n): string {
  const d = div > 0n ? div : 1n;
  const vt = m.valueType;
  const type = vt.k === 'agg' && (vt.fn === 'hist' || vt.fn === 'lhist') ? 'hist' : vt.k === 'agg' && (vt.fn === 'avg' || vt.fn === 'stats') ? 'stats' : 'map';
  const one = (e: MapEntry): string => (isAgg(e.value) ? jsonAgg(e.value, d) : jsonVal(typeof e.value === 'bigint' ? e.value / d : e.value, vt));
  let data: string;
  if (!m.keyTypes) data = m.entries.length ? one(m.entries[0]) : 'null';
  else data = '{' + ordered(m, top).map((e) => `${jsonStr(e.key.map((k, i) => valText(k, m.keyTypes?.[i])).join(','))}: ${one(e)}`).join(', ') + '}';
  return `{"type": "${type}", "data": {${jsonStr(m.name)}: ${data}}}\n`;
}

export function jsonEvent(type: string, data: string): string {
  return `{"type": "${type}", "data": ${data}}\n`;
}

export type { AggFn };
