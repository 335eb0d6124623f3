/**
 * Shell pattern matching (glob(7), fnmatch(3)): * ? [...] with ranges,
 * negation and [:class:]. A pattern string uses backslash to quote the
 * next character (the expander escapes quoted characters that way).
 */
/** POSIX character classes ([:alpha:] ...) as regex bracket ranges, shared by globs and the regex tools. */
export const CLASSES: Readonly<Record<string, string>> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: 'A-Za-z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  print: ' -~',
  graph: '!-~',
  cntrl: '\\x00-\\x1f\\x7f',
  xdigit: '0-9A-Fa-f',
};

const RE_SPECIAL = /[.*+?^${}()|[\]\\/-]/g;
const esc = (c: string): string => c.replace(RE_SPECIAL, '\\$&');

export function hasGlob(pat: string): boolean {
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '*' || c === '?') return true;
    if (c === '[' && bracketEnd(pat, i) > 0) return true;
  }
  return false;
}

/** index of the ] closing a bracket expression at i, or -1 */
function bracketEnd(p: string, i: number): number {
  let j = i + 1;
  if (p[j] === '!' || p[j] === '^') j++;
  if (p[j] === ']') j++;
  while (j < p.length) {
    if (p[j] === '[' && p[j + 1] === ':') {
      const e = p.indexOf(':]', j + 2);
      if (e > 0) {
        j = e + 2;
        continue;
      }
    }
    if (p[j] === '\\') {
      j += 2;
      continue;
    }
    if (p[j] === ']') return j;
    j++;
  }
  return -1;
}

/**
 * Regex source for a pattern. `pathname`: * and ? do not match '/';
 * `anchored`: match the whole string.
 */
export function patternSource(pat: string, opts: { pathname?: boolean } = {}): string {
  const any = opts.pathname ? '[^/]' : '[\\s\\S]';
  let out = '';
  for (let i = 0; i < pat.length; i++) {
    const c = pat[i];
    if (c === '\\') {
      if (i + 1 < pat.length) out += esc(pat[++i]);
      else out += '\\\\';
      continue;
    }
    if (c === '*') {
      while (pat[i + 1] === '*') i++;
      out += `${any}*`;
      continue;
    }
    if (c === '?') {
      out += any;
      continue;
    }
    if (c === '[') {
      const e = bracketEnd(pat, i);
      if (e < 0) {
        out += '\\[';
        continue;
      }
      let j = i + 1;
      let neg = false;
      if (pat[j] === '!' || pat[j] === '^') {
        neg = true;
        j++;
      }
      let set = '';
      let first = true;
      while (j < e || (first && pat[j] === ']')) {
        first = false;
        const ch = pat[j];
        if (ch === '[' && pat[j + 1] === ':') {
          const ce = pat.indexOf(':]', j + 2);
          const name = pat.slice(j + 2, ce);
          set += Object.prototype.hasOwnProperty.call(CLASSES, name) ? CLASSES[name] : '';
          j = ce + 2;
          continue;
        }
        let lit = ch;
        if (ch === '\\' && j + 1 < e) {
          lit = pat[j + 1];
          j++;
        }
        if (pat[j + 1] === '-' && j + 2 < e) {
          let hi = pat[j + 2];
          let adv = 3;
          if (hi === '\\' && j + 3 < e) {
            hi = pat[j + 3];
            adv = 4;
          }
          if (hi >= lit) set += `${esc(lit)}-${esc(hi)}`;
          j += adv;
          continue;
        }
        set += esc(lit);
        j++;
      }
      if (opts.pathname && neg) set += '/';
      out += set === '' ? (neg ? any : '(?!)') : `[${neg ? '^' : ''}${set}]`;
      i = e;
      continue;
    }
    out += esc(c);
  }
  return out;
}

export function patternRegex(pat: string, opts: { pathname?: boolean; flags?: string } = {}): RegExp {
  return new RegExp(`^(?:${patternSource(pat, opts)})$`, opts.flags ?? 'u');
}

/** fnmatch: does `s` match `pat` as a whole? */
export function matchPattern(pat: string, s: string): boolean {
  if (!hasGlob(pat)) return unescapePattern(pat) === s;
  return safeRegex(pat).test(s);
}

function safeRegex(pat: string, pathname = false): RegExp {
  try {
    return new RegExp(`^(?:${patternSource(pat, { pathname })})$`, 's');
  } catch {
    return new RegExp(`^${esc(unescapePattern(pat))}$`, 's');
  }
}

export function compilePattern(pat: string, pathname = false): (s: string) => boolean {
  if (!hasGlob(pat)) {
    const lit = unescapePattern(pat);
    return (s) => s === lit;
  }
  const re = safeRegex(pat, pathname);
  return (s) => re.test(s);
}

/** removes the quoting backslashes of a pattern */
export function unescapePattern(pat: string): string {
  let out = '';
  for (let i = 0; i < pat.length; i++) {
    if (pat[i] === '\\' && i + 1 < pat.length) out += pat[++i];
    else out += pat[i];
  }
  return out;
}

/** escapes every pattern character of a literal string */
export function escapePattern(s: string): string {
  return s.replace(/[\\*?[\]]/g, '\\$&');
}

/**
 * Longest/shortest prefix or suffix removal (${x#p} ${x##p} ${x%p} ${x%%p}).
 */
export function removeAffix(s: string, pat: string, op: '#' | '##' | '%' | '%%'): string {
  const m = compilePattern(pat);
  if (op === '#') {
    for (let i = 0; i <= s.length; i++) if (m(s.slice(0, i))) return s.slice(i);
  } else if (op === '##') {
    for (let i = s.length; i >= 0; i--) if (m(s.slice(0, i))) return s.slice(i);
  } else if (op === '%') {
    for (let i = s.length; i >= 0; i--) if (m(s.slice(i))) return s.slice(0, i);
  } else {
    for (let i = 0; i <= s.length; i++) if (m(s.slice(i))) return s.slice(0, i);
  }
  return s;
}

/** ${x/p/r} ${x//p/r} ${x/#p/r} ${x/%p/r}: longest match at each position */
export function replacePattern(s: string, pat: string, rep: string, op: '/' | '//' | '/#' | '/%'): string {
  if (pat === '') return s;
  const m = compilePattern(pat);
  if (op === '/#') {
    for (let j = s.length; j >= 0; j--) if (m(s.slice(0, j))) return rep + s.slice(j);
    return s;
  }
  if (op === '/%') {
    for (let i = 0; i <= s.length; i++) if (m(s.slice(i))) return s.slice(0, i) + rep;
    return s;
  }
  let out = '';
  let i = 0;
  let done = false;
  while (i < s.length) {
    let matched = -1;
    if (!done) {
      for (let j = s.length; j > i; j--) {
        if (m(s.slice(i, j))) {
          matched = j;
          break;
        }
      }
    }
    if (matched > 0) {
      out += rep;
      i = matched;
      if (op === '/') done = true;
    } else {
      out += s[i];
      i++;
    }
  }
  return out;
}
