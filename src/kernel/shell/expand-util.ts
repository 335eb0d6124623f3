import type { Word, WordPart } from './ast';

/**
 * Brace expansion ({a,b}, {1..5}, {a..e..2}) on a word's parts: only
 * unquoted literal characters take part; other parts stay atomic.
 */
type El = { c: string } | { p: WordPart };

export const MAX_BRACE_WORDS = 100_000;

export class BraceLimit extends Error {}

export function braceExpand(w: Word): Word[] {
  if (!w.parts.some((p) => p.type === 'lit' && !p.q && p.value.includes('{'))) return [w];
  const seq: El[] = [];
  for (const p of w.parts) {
    if (p.type === 'lit' && !p.q) for (const ch of p.value) seq.push({ c: ch });
    else seq.push({ p });
  }
  const out = expandSeq(seq, { n: 0 });
  if (out.length === 1 && out[0] === seq) return [w];
  return out.map((s) => ({ ...w, parts: toParts(s) }));
}

function toParts(seq: El[]): WordPart[] {
  const parts: WordPart[] = [];
  for (const e of seq) {
    if ('c' in e) {
      const last = parts[parts.length - 1];
      if (last && last.type === 'lit' && !last.q) last.value += e.c;
      else parts.push({ type: 'lit', value: e.c, q: false });
    } else parts.push(e.p);
  }
  return parts;
}

const isC = (e: El | undefined, c: string): boolean => !!e && 'c' in e && e.c === c;

function expandSeq(seq: El[], budget: { n: number }): El[][] {
  // find the first '{' that has a matching '}' with a top-level ',' or a sequence expression
  for (let i = 0; i < seq.length; i++) {
    if (!isC(seq[i], '{')) continue;
    if (i > 0 && isC(seq[i - 1], '$')) continue;
    let depth = 0;
    const commas: number[] = [];
    let close = -1;
    for (let j = i + 1; j < seq.length; j++) {
      if (isC(seq[j], '{')) depth++;
      else if (isC(seq[j], '}')) {
        if (depth === 0) {
          close = j;
          break;
        }
        depth--;
      } else if (isC(seq[j], ',') && depth === 0) commas.push(j);
    }
    if (close < 0) return [seq];
    const pre = seq.slice(0, i);
    const post = seq.slice(close + 1);
    let alts: El[][] | null = null;
    if (commas.length > 0) {
      alts = [];
      let a = i + 1;
      for (const c of [...commas, close]) {
        alts.push(seq.slice(a, c));
        a = c + 1;
      }
    } else {
      const inner = seq.slice(i + 1, close);
      if (inner.every((e) => 'c' in e)) {
        const text = inner.map((e) => (e as { c: string }).c).join('');
        const r = sequence(text);
        if (r) alts = r.map((s) => [...s].map((c) => ({ c })));
      }
    }
    if (!alts) {
      // not an expansion: keep the braces literal, look further right
      const rest = expandSeq(seq.slice(i + 1), budget);
      return rest.map((r) => [...seq.slice(0, i + 1), ...r]);
    }
    const out: El[][] = [];
    const posts = expandSeq(post, budget);
    for (const alt of alts) {
      for (const a of expandSeq(alt, budget)) {
        for (const p of posts) {
          if (++budget.n > MAX_BRACE_WORDS) throw new BraceLimit(`brace expansion: more than ${MAX_BRACE_WORDS} words`);
          out.push([...pre, ...a, ...p]);
        }
      }
    }
    return out;
  }
  return [seq];
}

function sequence(text: string): string[] | null {
  let m = /^(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?$/.exec(text);
  if (m) {
    const a = Number(m[1]);
    const b = Number(m[2]);
    let step = Math.abs(Number(m[3] ?? 1)) || 1;
    const width = (m[1].replace('-', '').startsWith('0') && m[1].length > 1) || (m[2].replace('-', '').startsWith('0') && m[2].length > 1) ? Math.max(m[1].length, m[2].length) : 0;
    if (Math.abs(b - a) / step > MAX_BRACE_WORDS) throw new BraceLimit(`brace expansion: more than ${MAX_BRACE_WORDS} words`);
    const out: string[] = [];
    if (a > b) step = -step;
    for (let v = a; step > 0 ? v <= b : v >= b; v += step) {
      const s = String(Math.abs(v)).padStart(width - (v < 0 ? 1 : 0), '0');
      out.push(v < 0 ? '-' + s : s);
    }
    return out;
  }
  m = /^([A-Za-z])\.\.([A-Za-z])(?:\.\.(-?\d+))?$/.exec(text);
  if (m) {
    const a = m[1].charCodeAt(0);
    const b = m[2].charCodeAt(0);
    let step = Math.abs(Number(m[3] ?? 1)) || 1;
    if (a > b) step = -step;
    const out: string[] = [];
    for (let v = a; step > 0 ? v <= b : v >= b; v += step) out.push(String.fromCharCode(v));
    return out;
  }
  return null;
}

/** Splits text on IFS the way the shell splits unquoted expansions. */
export function ifsSplit(s: string, ifs: string): string[] {
  const ws = [...ifs].filter((c) => c === ' ' || c === '\t' || c === '\n').join('');
  const out: string[] = [];
  let cur = '';
  let have = false;
  let i = 0;
  while (i < s.length && ws.includes(s[i])) i++;
  for (; i < s.length; i++) {
    const c = s[i];
    if (ifs.includes(c)) {
      out.push(cur);
      cur = '';
      have = false;
      if (ws.includes(c)) {
        while (i + 1 < s.length && ws.includes(s[i + 1])) i++;
        if (i + 1 < s.length && ifs.includes(s[i + 1]) && !ws.includes(s[i + 1])) {
          i++;
          while (i + 1 < s.length && ws.includes(s[i + 1])) i++;
        }
      } else {
        while (i + 1 < s.length && ws.includes(s[i + 1])) i++;
      }
      continue;
    }
    cur += c;
    have = true;
  }
  if (have) out.push(cur);
  return out;
}
