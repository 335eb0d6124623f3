import { evalTest } from '../../shell/testexpr';
import { echoText, printfFormat, unescape } from '../lib/printf';
import type { ToolCtx, ToolSpec } from '../types';
import { all, basename, dirname, has, last, parseArgs, prog, q, endlessDevice, readInput, splitLines, warn, withUsage, write } from './common';

/** Text tools of coreutils: cat head tail wc sort uniq cut tr tee seq yes echo printf test... */

function inputs(ops: string[]): string[] {
  return ops.length ? ops : ['-'];
}

const cat = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, {
      short: 'AbeEnstTuv',
      long: { 'show-all': 'A', 'number-nonblank': 'b', 'show-ends': 'E', number: 'n', 'squeeze-blank': 's', 'show-tabs': 'T', 'show-nonprinting': 'v' },
    });
    const number = has(p, 'n');
    const nonblank = has(p, 'b');
    const ends = has(p, 'E') || has(p, 'A') || has(p, 'e');
    const tabs = has(p, 'T') || has(p, 'A') || has(p, 't');
    const nonprint = has(p, 'v') || has(p, 'A') || has(p, 'e') || has(p, 't');
    const squeeze = has(p, 's');
    let status = 0;
    let n = 0;
    let prevBlank = false;
    for (const f of inputs(p.operands)) {
      const endless = endlessDevice(ctx, f);
      if (endless) {
        // /dev/zero, /dev/urandom: the data never ends; cat writes until its reader stops it
        // (SIGPIPE, a full pipe), Ctrl-C or the command's budget does
        for (;;) {
          ctx.tick(16);
          write(ctx, endless());
        }
      }
      const data = readInput(ctx, f);
      if (data === null) {
        status = 1;
        continue;
      }
      if (!number && !nonblank && !ends && !tabs && !nonprint && !squeeze) {
        write(ctx, data);
        continue;
      }
      const { lines, finalNl } = splitLines(data);
      let o = '';
      lines.forEach((line, i) => {
        const blank = line === '';
        if (squeeze && blank && prevBlank) return;
        prevBlank = blank;
        let l = line;
        if (nonprint) l = showNonPrinting(l);
        if (tabs) l = l.replace(/\t/g, '^I');
        if ((number && !nonblank) || (nonblank && !blank)) l = `${String(++n).padStart(6)}\t${l}`;
        const nl = i < lines.length - 1 || finalNl;
        o += l + (nl ? (ends ? '$\n' : '\n') : '');
      });
      write(ctx, o);
    }
    return status;
  });

function showNonPrinting(s: string): string {
  let o = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch === '\t') o += ch;
    else if (c < 32) o += '^' + String.fromCharCode(c + 64);
    else if (c === 127) o += '^?';
    else if (c >= 128 && c < 160) o += 'M-^' + String.fromCharCode(c - 128 + 64);
    else if (c >= 160 && c < 256) o += 'M-' + String.fromCharCode(c - 128);
    else o += ch;
  }
  return o;
}

function parseCount(s: string): { n: number; neg: boolean; plus: boolean } | null {
  const m = /^([-+]?)(\d+)([a-zA-Z]*)$/.exec(s.trim());
  if (!m) return null;
  const mult: Record<string, number> = { '': 1, b: 512, k: 1024, K: 1024, kB: 1000, KB: 1000, M: 1048576, MB: 1e6, G: 1073741824, GB: 1e9, KiB: 1024, MiB: 1048576, GiB: 1073741824 };
  if (!Object.prototype.hasOwnProperty.call(mult, m[3])) return null;
  return { n: Number(m[2]) * mult[m[3]], neg: m[1] === '-', plus: m[1] === '+' };
}

function headTail(ctx: ToolCtx, isHead: boolean): number {
  return withUsage(ctx, () => {
    const p = parseArgs(ctx, {
      short: 'n:c:qvfF',
      long: { 'lines=': 'n', 'bytes=': 'c', quiet: 'q', silent: 'q', verbose: 'v', follow: 'f' },
      numericKey: 'n',
    });
    let mode: 'n' | 'c' = 'n';
    let spec = '10';
    for (const [k, v] of p.opts) {
      if (k === 'n' || k === 'c') {
        mode = k;
        spec = v;
      }
    }
    const c = parseCount(spec);
    if (!c) {
      warn(ctx, `invalid number of ${mode === 'n' ? 'lines' : 'bytes'}: ${q(spec)}`);
      return 1;
    }
    const files = inputs(p.operands);
    const headers = (files.length > 1 && !has(p, 'q')) || has(p, 'v');
    let status = 0;
    let first = true;
    for (const f of files) {
      const data = readInput(ctx, f);
      if (data === null) {
        status = 1;
        continue;
      }
      if (headers) {
        write(ctx, `${first ? '' : '\n'}==> ${f === '-' ? 'standard input' : f} <==\n`);
      }
      first = false;
      if (mode === 'c') {
        if (isHead) write(ctx, c.neg ? data.slice(0, Math.max(0, data.length - c.n)) : data.slice(0, c.n));
        else write(ctx, c.plus ? data.slice(Math.max(0, c.n - 1)) : c.n === 0 ? '' : data.slice(-c.n));
        continue;
      }
      // lines, keeping the text exactly (a missing final newline stays missing)
      if (isHead && !c.neg) {
        let end = 0;
        for (let k = 0; k < c.n && end < data.length; k++) {
          const nl = data.indexOf('\n', end);
          end = nl < 0 ? data.length : nl + 1;
        }
        write(ctx, data.slice(0, end));
        continue;
      }
      if (!isHead && !c.plus) {
        let start = data.length;
        if (data.endsWith('\n')) start--;
        let k = 0;
        while (k < c.n && start > 0) {
          const nl = data.lastIndexOf('\n', start - 1);
          start = nl < 0 ? 0 : nl;
          k++;
          if (nl < 0) break;
        }
        if (c.n === 0) continue;
        if (start > 0 || data[0] === '\n') start = data[start] === '\n' && k >= c.n ? start + 1 : start;
        write(ctx, data.slice(start));
        continue;
      }
      const idx: number[] = [];
      for (let i = data.indexOf('\n'); i >= 0; i = data.indexOf('\n', i + 1)) idx.push(i);
      const total = idx.length + (data.length && !data.endsWith('\n') ? 1 : 0);
      const endOfLine = (k: number): number => (k < idx.length ? idx[k] + 1 : data.length);
      if (isHead) {
        const count = Math.max(0, total - c.n);
        write(ctx, count === 0 ? '' : data.slice(0, endOfLine(count - 1)));
      } else {
        const from = Math.max(0, c.n - 1);
        if (from >= total) continue;
        const start = from === 0 ? 0 : endOfLine(from - 1);
        write(ctx, data.slice(start));
      }
    }
    return status;
  });
}

const wc = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'clmwL', long: { bytes: 'c', chars: 'm', lines: 'l', words: 'w', 'max-line-length': 'L' } });
    let sel = ['l', 'w', 'm', 'c', 'L'].filter((k) => has(p, k));
    if (sel.length === 0) sel = ['l', 'w', 'c'];
    const files = inputs(p.operands);
    const rows: { counts: Record<string, number>; name: string; regular: boolean; size: number }[] = [];
    let status = 0;
    const tot: Record<string, number> = { l: 0, w: 0, m: 0, c: 0, L: 0 };
    for (const f of files) {
      const data = readInput(ctx, f);
      if (data === null) {
        status = 1;
        continue;
      }
      const bytes = new TextEncoder().encode(data).length;
      let lines = 0;
      let words = 0;
      let maxLen = 0;
      let cur = 0;
      let inWord = false;
      for (const ch of data) {
        if (ch === '\n') {
          lines++;
          maxLen = Math.max(maxLen, cur);
          cur = 0;
        } else if (ch === '\t') cur += 8 - (cur % 8);
        else cur++;
        const space = ch === ' ' || ch === '\n' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v';
        if (space) inWord = false;
        else if (!inWord) {
          inWord = true;
          words++;
        }
      }
      maxLen = Math.max(maxLen, cur);
      const counts = { l: lines, w: words, m: [...data].length, c: bytes, L: maxLen };
      for (const k of Object.keys(tot)) tot[k] = k === 'L' ? Math.max(tot[k], counts.L) : tot[k] + counts[k as keyof typeof counts];
      rows.push({ counts, name: f === '-' && p.operands.length === 0 ? '' : f, regular: f !== '-', size: bytes });
    }
    if (rows.length > 1) rows.push({ counts: tot, name: 'total', regular: true, size: 0 });
    // GNU: width from the total size of regular files, at least 7 with a non-regular input
    let width = 1;
    if (!(sel.length === 1 && files.length === 1)) {
      let minw = 1;
      let regTotal = 0;
      for (const f of files) {
        if (f === '-') minw = 7;
      }
      for (const r of rows) if (r.regular && r.name !== 'total') regTotal += r.size;
      width = String(regTotal).length;
      if (width < minw) width = minw;
    }
    for (const r of rows) {
      const cols = sel.map((k) => String(r.counts[k]).padStart(width));
      write(ctx, cols.join(' ') + (r.name ? ` ${r.name}` : '') + '\n');
    }
    return status;
  });

// ------------------------------------------------------------------ sort

interface KeySpec {
  f1: number;
  c1: number;
  f2: number;
  c2: number;
  flags: string;
}

function parseKey(s: string): KeySpec | null {
  const m = /^(\d+)(?:\.(\d+))?([bdfgiMhnRrV]*)(?:,(\d+)(?:\.(\d+))?([bdfgiMhnRrV]*))?$/.exec(s);
  if (!m) return null;
  return { f1: Number(m[1]), c1: Number(m[2] ?? 1), f2: m[4] ? Number(m[4]) : 0, c2: m[5] ? Number(m[5]) : 0, flags: (m[3] ?? '') + (m[6] ?? '') };
}

function fieldsOf(line: string, sep: string | undefined): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  if (sep !== undefined) {
    let s = 0;
    for (;;) {
      const i = line.indexOf(sep, s);
      if (i < 0) {
        out.push({ start: s, end: line.length });
        break;
      }
      out.push({ start: s, end: i });
      s = i + 1;
    }
    return out;
  }
  // default: a field is leading blanks plus non-blanks
  let i = 0;
  while (i < line.length) {
    const start = i;
    while (i < line.length && (line[i] === ' ' || line[i] === '\t')) i++;
    while (i < line.length && line[i] !== ' ' && line[i] !== '\t') i++;
    out.push({ start, end: i });
  }
  return out;
}

function keyText(line: string, k: KeySpec, sep: string | undefined, skipBlanks: boolean): string {
  const fs = fieldsOf(line, sep);
  const f1 = fs[k.f1 - 1];
  if (!f1) return '';
  let start = f1.start;
  if (skipBlanks || k.flags.includes('b')) while (start < f1.end && (line[start] === ' ' || line[start] === '\t')) start++;
  start = Math.min(start + k.c1 - 1, f1.end);
  let end = line.length;
  if (k.f2) {
    const f2 = fs[k.f2 - 1];
    if (!f2) end = line.length;
    else if (k.c2 === 0) end = f2.end;
    else {
      let s2 = f2.start;
      if (k.flags.includes('b')) while (s2 < f2.end && (line[s2] === ' ' || line[s2] === '\t')) s2++;
      end = Math.min(s2 + k.c2, f2.end);
    }
  }
  return end > start ? line.slice(start, end) : '';
}

function numPrefix(s: string): number {
  const m = /^\s*(-?\d*\.?\d*)/.exec(s);
  const v = m ? Number(m[1]) : NaN;
  return isNaN(v) || m?.[1] === '' || m?.[1] === '-' || m?.[1] === '.' ? 0 : v;
}

function humanNum(s: string): number {
  const m = /^\s*(-?\d*\.?\d*)([KMGTPEZY]?)/.exec(s);
  if (!m) return 0;
  const v = Number(m[1]) || 0;
  const pow = ' KMGTPEZY'.indexOf(m[2] || ' ');
  return v * Math.pow(1024, Math.max(0, pow));
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function genNum(s: string): number {
  const v = parseFloat(s);
  return isNaN(v) ? -Infinity : v;
}

function compareBy(a: string, b: string, flags: string): number {
  let x = a;
  let y = b;
  if (flags.includes('b')) {
    x = x.replace(/^[ \t]+/, '');
    y = y.replace(/^[ \t]+/, '');
  }
  if (flags.includes('d')) {
    x = x.replace(/[^A-Za-z0-9 \t]/g, '');
    y = y.replace(/[^A-Za-z0-9 \t]/g, '');
  }
  if (flags.includes('f')) {
    x = x.toUpperCase();
    y = y.toUpperCase();
  }
  if (flags.includes('n')) return Math.sign(numPrefix(x) - numPrefix(y));
  if (flags.includes('g')) return Math.sign(genNum(x) - genNum(y)) || 0;
  if (flags.includes('h')) return Math.sign(humanNum(x) - humanNum(y));
  if (flags.includes('V')) return versionCmp(x, y);
  if (flags.includes('M')) {
    const mi = (s: string): number => ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'].indexOf(s.trim().slice(0, 3).toUpperCase());
    return Math.sign(mi(x) - mi(y));
  }
  return cmpStr(x, y);
}

function versionCmp(a: string, b: string): number {
  const re = /(\d+|\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    if (/^\d/.test(x) && /^\d/.test(y)) {
      const d = Number(x) - Number(y);
      if (d) return Math.sign(d);
    } else if (x !== y) return cmpStr(x, y);
  }
  return 0;
}

const sort = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, {
      short: 'bcCdfghik:MmnRrst:uVo:zS:T:',
      long: {
        'ignore-leading-blanks': 'b',
        check: 'c',
        'dictionary-order': 'd',
        'ignore-case': 'f',
        'general-numeric-sort': 'g',
        'human-numeric-sort': 'h',
        'key=': 'k',
        'month-sort': 'M',
        merge: 'm',
        'numeric-sort': 'n',
        reverse: 'r',
        stable: 's',
        'field-separator=': 't',
        unique: 'u',
        'version-sort': 'V',
        'output=': 'o',
        'zero-terminated': 'z',
        'buffer-size=': 'S',
        'temporary-directory=': 'T',
      },
      usageStatus: 2,
    });
    const global = ['b', 'd', 'f', 'g', 'h', 'M', 'n', 'V', 'r'].filter((k) => has(p, k)).join('');
    const sepRaw = last(p, 't');
    if (sepRaw !== undefined && sepRaw.length > 1 && sepRaw !== '\\0') {
      warn(ctx, `multi-character tab ${q(sepRaw)}`);
      return 2;
    }
    const sep = sepRaw === '\\0' ? '\0' : sepRaw;
    const keys: KeySpec[] = [];
    for (const k of all(p, 'k')) {
      const ks = parseKey(k);
      if (ks && ks.f1 === 0) {
        warn(ctx, `field number is zero: invalid field specification ${q(k)}`);
        return 2;
      }
      if (!ks) {
        warn(ctx, `invalid number at field start: invalid count at start of ${q(k)}`);
        return 2;
      }
      keys.push(ks);
    }
    const zero = has(p, 'z');
    let text = '';
    const status = 0;
    for (const f of inputs(p.operands)) {
      const d = readInput(ctx, f);
      if (d === null) {
        warn(ctx, 'cannot read: ' + f);
        return 2;
      }
      text += d && !d.endsWith(zero ? '\0' : '\n') ? d + (zero ? '\0' : '\n') : d;
    }
    const term = zero ? '\0' : '\n';
    const lines = text === '' ? [] : text.slice(0, -1).split(term);
    ctx.tick(1 + Math.floor(lines.length / 1000));
    const reverseAll = has(p, 'r');
    const cmpKeys = (a: string, b: string): number => {
      if (keys.length === 0) {
        const r = compareBy(a, b, global.replace('r', ''));
        return reverseAll ? -r : r;
      }
      for (const k of keys) {
        const flags = k.flags.replace(/[bR]/g, '') ? k.flags : global;
        const ka = keyText(a, k, sep, flags.includes('b'));
        const kb = keyText(b, k, sep, flags.includes('b'));
        let r = compareBy(ka, kb, flags.replace('r', ''));
        if (flags.includes('r')) r = -r;
        if (r) return r;
      }
      return 0;
    };
    const stable = has(p, 's') || has(p, 'u');
    const full = (a: string, b: string): number => {
      const r = cmpKeys(a, b);
      if (r || stable) return r;
      const l = cmpStr(a, b);
      return reverseAll ? -l : l;
    };
    if (has(p, 'c') || has(p, 'C')) {
      for (let i = 1; i < lines.length; i++) {
        const r = full(lines[i - 1], lines[i]);
        if (r > 0 || (has(p, 'u') && r === 0)) {
          if (!has(p, 'C')) warn(ctx, `${p.operands[0] ?? '-'}:${i + 1}: disorder: ${lines[i]}`);
          return 1;
        }
      }
      return 0;
    }
    const sorted = lines.map((l, i) => ({ l, i })).sort((a, b) => full(a.l, b.l) || a.i - b.i).map((x) => x.l);
    let outLines = sorted;
    if (has(p, 'u')) {
      outLines = [];
      for (const l of sorted) if (outLines.length === 0 || cmpKeys(outLines[outLines.length - 1], l) !== 0) outLines.push(l);
    }
    const outText = outLines.map((l) => l + term).join('');
    const o = last(p, 'o');
    if (o !== undefined) {
      try {
        ctx.host.writeFile(ctx.pid, o, ctx.cwd, outText);
      } catch (e) {
        warn(ctx, `open failed: ${o}: ${(e as Error).message}`);
        return 2;
      }
    } else write(ctx, outText);
    return status;
  });

const uniq = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, {
      short: 'cdDiuf:s:w:z',
      long: { count: 'c', repeated: 'd', 'all-repeated': 'D', 'ignore-case': 'i', unique: 'u', 'skip-fields=': 'f', 'skip-chars=': 's', 'check-chars=': 'w', 'zero-terminated': 'z' },
    });
    if (p.operands.length > 2) {
      warn(ctx, `extra operand ${q(p.operands[2])}\nTry 'uniq --help' for more information.`);
      return 1;
    }
    const data = readInput(ctx, p.operands[0] ?? '-');
    if (data === null) return 1;
    const skipF = Number(last(p, 'f') ?? 0);
    const skipC = Number(last(p, 's') ?? 0);
    const checkW = last(p, 'w') !== undefined ? Number(last(p, 'w')) : Infinity;
    const key = (l: string): string => {
      let s = l;
      for (let i = 0; i < skipF; i++) s = s.replace(/^[ \t]*[^ \t]*/, '');
      s = s.slice(skipC);
      if (checkW !== Infinity) s = s.slice(0, checkW);
      return has(p, 'i') ? s.toLowerCase() : s;
    };
    const { lines } = splitLines(data);
    let o = '';
    let i = 0;
    while (i < lines.length) {
      let j = i + 1;
      while (j < lines.length && key(lines[j]) === key(lines[i])) j++;
      const n = j - i;
      const show = (has(p, 'd') || has(p, 'D') ? n > 1 : true) && (has(p, 'u') ? n === 1 : true);
      if (show) {
        if (has(p, 'D')) for (let k = i; k < j; k++) o += lines[k] + '\n';
        else o += (has(p, 'c') ? `${String(n).padStart(7)} ` : '') + lines[i] + '\n';
      }
      i = j;
    }
    if (p.operands[1] !== undefined) {
      ctx.host.writeFile(ctx.pid, p.operands[1], ctx.cwd, o);
    } else write(ctx, o);
    return 0;
  });

function parseList(spec: string): { lo: number; hi: number }[] | string {
  const out: { lo: number; hi: number }[] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d*)(-?)(\d*)$/.exec(part);
    if (!m || (m[1] === '' && m[3] === '' && m[2] === '-') || part === '') return 'invalid';
    const lo = m[1] ? Number(m[1]) : 1;
    const hi = m[2] ? (m[3] ? Number(m[3]) : Infinity) : lo;
    if (lo === 0 || hi === 0) return 'zero';
    if (hi < lo) return 'decreasing';
    out.push({ lo, hi });
  }
  return out;
}

const cut = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, {
      short: 'b:c:d:f:nsz',
      long: { 'bytes=': 'b', 'characters=': 'c', 'delimiter=': 'd', 'fields=': 'f', 'only-delimited': 's', 'output-delimiter=': 'O', complement: 'C', 'zero-terminated': 'z' },
    });
    const modes = ['b', 'c', 'f'].filter((k) => has(p, k));
    if (modes.length === 0) {
      warn(ctx, 'you must specify a list of bytes, characters, or fields\nTry \'cut --help\' for more information.');
      return 1;
    }
    if (modes.length > 1) {
      warn(ctx, "only one type of list may be specified\nTry 'cut --help' for more information.");
      return 1;
    }
    const mode = modes[0];
    const spec = last(p, mode) as string;
    const list = parseList(spec);
    if (typeof list === 'string') {
      if (list === 'zero') warn(ctx, `fields and positions are numbered from 1\nTry 'cut --help' for more information.`);
      else if (list === 'decreasing') warn(ctx, `invalid decreasing range\nTry 'cut --help' for more information.`);
      else warn(ctx, `invalid ${mode === 'f' ? 'field' : 'byte/character position'} list ${q(spec)}\nTry 'cut --help' for more information.`);
      return 1;
    }
    const delim = last(p, 'd') ?? '\t';
    if (has(p, 'd') && mode !== 'f') {
      warn(ctx, "an input delimiter may be specified only when operating on fields\nTry 'cut --help' for more information.");
      return 1;
    }
    if (delim.length !== 1) {
      warn(ctx, "the delimiter must be a single character\nTry 'cut --help' for more information.");
      return 1;
    }
    const outDelim = last(p, 'O') ?? (mode === 'f' ? delim : '');
    const complement = has(p, 'C');
    const sel = (i: number): boolean => list.some((r) => i >= r.lo && i <= r.hi) !== complement;
    let status = 0;
    let o = '';
    for (const f of inputs(p.operands)) {
      const data = readInput(ctx, f);
      if (data === null) {
        status = 1;
        continue;
      }
      const { lines } = splitLines(data);
      for (const line of lines) {
        if (mode === 'f') {
          if (!line.includes(delim)) {
            if (!has(p, 's')) o += line + '\n';
            continue;
          }
          const fs = line.split(delim);
          o += fs.filter((_, i) => sel(i + 1)).join(outDelim) + '\n';
        } else {
          const chars = [...line];
          if (has(p, 'O')) {
            // ranges joined by the output delimiter
            const parts: string[] = [];
            let cur = '';
            let prev = false;
            chars.forEach((c, i) => {
              const s = sel(i + 1);
              if (s) cur += c;
              else if (prev) {
                parts.push(cur);
                cur = '';
              }
              prev = s;
            });
            if (cur) parts.push(cur);
            o += parts.join(outDelim) + '\n';
          } else o += chars.filter((_, i) => sel(i + 1)).join('') + '\n';
        }
      }
    }
    write(ctx, o);
    return status;
  });

// ------------------------------------------------------------------ tr

function expandSet(spec: string): string[] | string {
  const s = unescape(spec.replace(/\\([\\\-[\]])/g, (_, c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`), 'format').text;
  const out: string[] = [];
  const chars = [...s];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '[' && chars[i + 1] === ':') {
      const end = s.indexOf(':]', i + 2);
      if (end > 0) {
        const name = chars.slice(i + 2, end).join('');
        const cls: Record<string, string> = {
          alpha: 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
          upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
          lower: 'abcdefghijklmnopqrstuvwxyz',
          digit: '0123456789',
          alnum: '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz',
          space: '\t\n\v\f\r ',
          blank: '\t ',
          punct: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
          xdigit: '0123456789ABCDEFabcdef',
          cntrl: Array.from({ length: 32 }, (_, k) => String.fromCharCode(k)).join('') + '\x7f',
          print: Array.from({ length: 95 }, (_, k) => String.fromCharCode(k + 32)).join(''),
          graph: Array.from({ length: 94 }, (_, k) => String.fromCharCode(k + 33)).join(''),
        };
        if (!Object.prototype.hasOwnProperty.call(cls, name)) return `invalid character class ${q(name)}`;
        out.push(...cls[name]);
        i = end + 1;
        continue;
      }
    }
    if (c === '[' && chars[i + 2] === '*' ) {
      const end = chars.indexOf(']', i + 3);
      if (end > 0) {
        const n = Number(chars.slice(i + 3, end).join('') || '0');
        out.push(...Array(n || 1).fill(chars[i + 1]));
        i = end;
        continue;
      }
    }
    if (chars[i + 1] === '-' && i + 2 < chars.length) {
      const a = c.codePointAt(0) as number;
      const b = chars[i + 2].codePointAt(0) as number;
      if (b < a) return `range-endpoints of '${c}-${chars[i + 2]}' are in reverse collating sequence order`;
      for (let k = a; k <= b; k++) out.push(String.fromCodePoint(k));
      i += 2;
      continue;
    }
    out.push(c);
  }
  return out;
}

const tr = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'cCdst', long: { complement: 'c', delete: 'd', 'squeeze-repeats': 's', 'truncate-set1': 't' } });
    const del = has(p, 'd');
    const squeeze = has(p, 's');
    const comp = has(p, 'c') || has(p, 'C');
    const ops = p.operands;
    const need = del && !squeeze ? 1 : del && squeeze ? 2 : squeeze ? 1 : 2;
    if (ops.length < need) {
      if (ops.length === 0) warn(ctx, "missing operand\nTry 'tr --help' for more information.");
      else warn(ctx, `missing operand after ${q(ops[ops.length - 1])}\nTry 'tr --help' for more information.`);
      return 1;
    }
    if (ops.length > 2 || (del && !squeeze && ops.length > 1)) {
      warn(ctx, `extra operand ${q(ops[need])}\n${del ? 'Only one string may be given when deleting without squeezing repeats.\n' : ''}Try 'tr --help' for more information.`);
      return 1;
    }
    const s1r = expandSet(ops[0]);
    if (typeof s1r === 'string') {
      warn(ctx, s1r);
      return 1;
    }
    const s2r = ops[1] !== undefined ? expandSet(ops[1]) : [];
    if (typeof s2r === 'string') {
      warn(ctx, s2r);
      return 1;
    }
    const set1 = new Set(s1r);
    const in1 = (c: string): boolean => set1.has(c) !== comp;
    const data = ctx.stdin.readAll();
    ctx.tick(1 + Math.floor(data.length / 65536));
    let o = '';
    const map = new Map<string, string>();
    if (!del && ops.length === 2) {
      if (s2r.length === 0) {
        warn(ctx, 'when not truncating set1, string2 must be non-empty');
        return 1;
      }
      if (!comp) s1r.forEach((c, i) => map.set(c, s2r[Math.min(i, s2r.length - 1)]));
    }
    const sqSet = new Set(squeeze ? (del || ops.length === 1 ? (ops.length === 2 ? s2r : s1r) : s2r) : []);
    let prev = '';
    for (const c of data) {
      if (del && in1(c)) continue;
      let d = c;
      if (!del && ops.length === 2) {
        if (comp) {
          if (in1(c)) d = s2r[s2r.length - 1];
        } else d = map.get(c) ?? c;
      }
      if (squeeze && d === prev && (ops.length === 1 && !del ? in1(d) : sqSet.has(d))) continue;
      o += d;
      prev = d;
    }
    write(ctx, o);
    return 0;
  });

const tee = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'aip', long: { append: 'a', 'ignore-interrupts': 'i' } });
    const data = ctx.stdin.readAll();
    let status = 0;
    for (const f of p.operands) {
      try {
        ctx.host.writeFile(ctx.pid, f, ctx.cwd, data, { append: has(p, 'a') });
      } catch (e) {
        warn(ctx, `${f}: ${(e as Error).message}`);
        status = 1;
      }
    }
    write(ctx, data);
    return status;
  });

function seqNum(s: string): number | null {
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s) && !/^[-+]?0[xX][0-9a-fA-F]+$/.test(s)) return null;
  return Number(s);
}

const seq = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const args = ctx.argv.slice(1);
    // negative numbers are operands, not options
    const optArgs: string[] = [];
    const ops: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (ops.length === 0 && /^-[swf]/.test(a) && !/^-\d/.test(a)) {
        optArgs.push(a);
        if ((a === '-s' || a === '-f') && i + 1 < args.length) optArgs.push(args[++i]);
      } else if (a === '--') continue;
      else ops.push(a);
    }
    const p = parseArgs(ctx, { short: 's:f:w', long: { 'separator=': 's', 'format=': 'f', 'equal-width': 'w' } }, optArgs);
    if (ops.length === 0 || ops.length > 3) {
      warn(ctx, ops.length === 0 ? "missing operand\nTry 'seq --help' for more information." : `extra operand ${q(ops[3])}\nTry 'seq --help' for more information.`);
      return 1;
    }
    const nums = ops.map(seqNum);
    const badIdx = nums.findIndex((n) => n === null);
    if (badIdx >= 0) {
      warn(ctx, `invalid floating point argument: ${q(ops[badIdx])}\nTry 'seq --help' for more information.`);
      return 1;
    }
    const [first, inc, lastN] = ops.length === 1 ? [1, 1, nums[0] as number] : ops.length === 2 ? [nums[0] as number, 1, nums[1] as number] : (nums as number[]);
    if (inc === 0) {
      warn(ctx, `invalid Zero increment value: ${q(ops[1])}\nTry 'seq --help' for more information.`);
      return 1;
    }
    const decimals = (s: string): number => {
      if (/[eE]/.test(s)) return 0;
      const i = s.indexOf('.');
      return i < 0 ? 0 : s.length - i - 1;
    };
    const prec = Math.max(ops.length >= 2 ? decimals(ops[0]) : 0, ops.length === 3 ? decimals(ops[1]) : 0);
    const sep = unescape(last(p, 's') ?? '\n', 'format').text;
    const fmt = last(p, 'f');
    const format = (v: number): string => {
      if (fmt) return printfFormat(fmt, [String(v)], 'coreutils').out;
      return prec > 0 ? v.toFixed(prec) : Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
    };
    const items: string[] = [];
    let o = '';
    let n = 0;
    for (let k = 0; ; k++) {
      const v = first + k * inc;
      if (inc > 0 ? v > lastN + 1e-12 : v < lastN - 1e-12) break;
      if (has(p, 'w')) items.push(format(v));
      else {
        o += (n++ ? sep : '') + format(v);
        if (o.length >= 65536) {
          write(ctx, o);
          o = '';
        }
      }
      if (k % 4096 === 4095) ctx.tick();
    }
    if (has(p, 'w')) {
      const width = Math.max(...items.map((s) => s.length), 0);
      o = items.map((s) => (s.startsWith('-') ? '-' + s.slice(1).padStart(width - 1, '0') : s.padStart(width, '0'))).join(sep);
      n = items.length;
    }
    write(ctx, o + (n ? '\n' : ''));
    return 0;
  });

const yes = (ctx: ToolCtx): number => {
  const line = (ctx.argv.length > 1 ? ctx.argv.slice(1).join(' ') : 'y') + '\n';
  let block = line;
  while (block.length < 8192) block += line;
  for (;;) write(ctx, block);
};

const echo = (ctx: ToolCtx): number => {
  write(ctx, echoText(ctx.argv.slice(1)));
  return 0;
};

const printf = (ctx: ToolCtx): number => {
  const args = ctx.argv.slice(1);
  if (args.length === 0) {
    warn(ctx, "missing operand\nTry 'printf --help' for more information.");
    return 1;
  }
  const r = printfFormat(args[0], args.slice(1), 'coreutils');
  write(ctx, r.out);
  for (const e of r.errors) warn(ctx, e);
  return r.errors.length ? 1 : 0;
};

const test = (ctx: ToolCtx): number => {
  let args = ctx.argv.slice(1);
  if (prog(ctx) === '[') {
    if (args[args.length - 1] !== ']') {
      warn(ctx, "missing ']'");
      return 2;
    }
    args = args.slice(0, -1);
  }
  const r = evalTest(args, { host: ctx.host, pid: ctx.pid, cwd: ctx.cwd });
  if (r.error) warn(ctx, r.error);
  return r.status;
};

const tac = (ctx: ToolCtx): number => {
  let status = 0;
  let o = '';
  for (const f of inputs(ctx.argv.slice(1))) {
    const d = readInput(ctx, f);
    if (d === null) {
      status = 1;
      continue;
    }
    const { lines, finalNl } = splitLines(d);
    const rev = lines.reverse();
    o += finalNl ? rev.map((l) => l + '\n').join('') : rev.join('\n').replace(/^([^\n]*)/, '$1');
  }
  write(ctx, o);
  return status;
};

const rev = (ctx: ToolCtx): number => {
  let status = 0;
  for (const f of inputs(ctx.argv.slice(1))) {
    const d = readInput(ctx, f);
    if (d === null) {
      status = 1;
      continue;
    }
    const { lines, finalNl } = splitLines(d);
    write(ctx, lines.map((l) => [...l].reverse().join('')).join('\n') + (finalNl && lines.length ? '\n' : ''));
  }
  return status;
};

const basenameTool = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'as:z', long: { multiple: 'a', 'suffix=': 's', zero: 'z' } });
    if (p.operands.length === 0) {
      warn(ctx, "missing operand\nTry 'basename --help' for more information.");
      return 1;
    }
    const multi = has(p, 'a') || has(p, 's');
    let suffix = last(p, 's');
    let names = p.operands;
    if (!multi) {
      if (names.length > 2) {
        warn(ctx, `extra operand ${q(names[2])}\nTry 'basename --help' for more information.`);
        return 1;
      }
      suffix = names[1];
      names = [names[0]];
    }
    for (const n of names) {
      let b = basename(n);
      if (suffix && b !== suffix && b.endsWith(suffix)) b = b.slice(0, -suffix.length);
      write(ctx, b + (has(p, 'z') ? '\0' : '\n'));
    }
    return 0;
  });

const dirnameTool = (ctx: ToolCtx): number => {
  const ops = ctx.argv.slice(1).filter((a) => a !== '--');
  if (ops.length === 0) {
    warn(ctx, "missing operand\nTry 'dirname --help' for more information.");
    return 1;
  }
  for (const n of ops) write(ctx, dirname(n) + '\n');
  return 0;
};

export const TEXT_TOOLS: ToolSpec[] = [
  { name: 'cat', run: cat },
  { name: 'head', run: (c) => headTail(c, true) },
  { name: 'tail', run: (c) => headTail(c, false) },
  { name: 'wc', run: wc },
  { name: 'sort', run: sort },
  { name: 'uniq', run: uniq },
  { name: 'cut', run: cut },
  { name: 'tr', run: tr },
  { name: 'tee', run: tee },
  { name: 'seq', run: seq },
  { name: 'yes', run: yes },
  { name: 'echo', run: echo },
  { name: 'printf', run: printf },
  { name: 'test', run: test },
  { name: '[', run: test },
  { name: 'true', run: () => 0 },
  { name: 'false', run: () => 1 },
  { name: 'tac', run: tac },
  { name: 'rev', run: rev },
  { name: 'basename', run: basenameTool },
  { name: 'dirname', run: dirnameTool },
];
