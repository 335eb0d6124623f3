/**
 * printf(1) formatting shared by the bash builtin and /usr/bin/printf, and
 * echo's escape handling.
 */
export interface PrintfResult {
  out: string;
  /** messages about bad arguments (without program prefix) */
  errors: string[];
  /** \c seen: stop all output */
  stop: boolean;
}

/** Backslash escapes of printf's format string and of %b / echo -e. */
export function unescape(s: string, mode: 'format' | 'b'): { text: string; stop: boolean } {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c !== '\\' || i + 1 >= s.length) {
      out += c;
      continue;
    }
    const n = s[++i];
    switch (n) {
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'e':
      case 'E':
        out += '\x1b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
        out += mode === 'format' ? '"' : '\\"';
        break;
      case "'":
        out += mode === 'format' ? "'" : "\\'";
        break;
      case 'c':
        if (mode === 'b') return { text: out, stop: true };
        out += '\\c';
        break;
      case 'x': {
        const m = /^[0-9a-fA-F]{1,2}/.exec(s.slice(i + 1));
        if (!m) {
          out += '\\x';
          break;
        }
        out += String.fromCharCode(parseInt(m[0], 16));
        i += m[0].length;
        break;
      }
      case 'u':
      case 'U': {
        const m = (n === 'u' ? /^[0-9a-fA-F]{1,4}/ : /^[0-9a-fA-F]{1,8}/).exec(s.slice(i + 1));
        if (!m) {
          out += '\\' + n;
          break;
        }
        const cp = parseInt(m[0], 16);
        out += cp <= 0x10ffff ? String.fromCodePoint(cp) : '';
        i += m[0].length;
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        // %b and echo: \0nnn (up to 3 digits after the 0); format: \nnn
        let digits: RegExpExecArray | null;
        if (mode === 'b') {
          if (n === '0') {
            digits = /^[0-7]{0,3}/.exec(s.slice(i + 1));
            out += String.fromCharCode(parseInt(digits?.[0] || '0', 8) & 0xff);
            i += digits?.[0].length ?? 0;
          } else {
            digits = /^[0-7]{0,2}/.exec(s.slice(i + 1));
            out += String.fromCharCode(parseInt(n + (digits?.[0] ?? ''), 8) & 0xff);
            i += digits?.[0].length ?? 0;
          }
        } else {
          digits = /^[0-7]{0,2}/.exec(s.slice(i + 1));
          out += String.fromCharCode(parseInt(n + (digits?.[0] ?? ''), 8) & 0xff);
          i += digits?.[0].length ?? 0;
        }
        break;
      }
      default:
        out += '\\' + n;
    }
  }
  return { text: out, stop: false };
}

function parseNumArg(a: string, errors: string[], ctx: { quoteStyle: 'bash' | 'coreutils' }): { v: bigint; f: number } {
  const t = a.trim();
  if (/^['"]/.test(t)) {
    const cp = t.length > 1 ? (t.codePointAt(1) ?? 0) : 0;
    return { v: BigInt(cp), f: cp };
  }
  let m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(t);
  if (m) {
    const body = m[2];
    let v: bigint;
    if (/^0[xX]/.test(body)) v = BigInt(body);
    else if (body.length > 1 && body[0] === '0') v = BigInt('0o' + body.slice(1));
    else v = BigInt(body);
    if (m[1] === '-') v = -v;
    return { v, f: Number(v) };
  }
  m = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.exec(t);
  if (m) {
    const f = Number(t);
    return { v: BigInt(Math.trunc(f)), f };
  }
  if (/^[-+]?(inf|infinity|nan)$/i.test(t)) {
    const f = Number(t.replace(/inf(inity)?/i, 'Infinity').replace(/nan/i, 'NaN'));
    return { v: 0n, f };
  }
  // a leading number followed by garbage: the number is used, with an error
  const lead = /^[-+]?\d+/.exec(t);
  errors.push(ctx.quoteStyle === 'bash' ? `${a}: invalid number` : `'${a}': ${lead ? 'value not completely converted' : 'expected a numeric value'}`);
  if (lead) return { v: BigInt(lead[0]), f: Number(lead[0]) };
  return { v: 0n, f: 0 };
}

function pad(s: string, width: number, left: boolean, zero: boolean): string {
  if (s.length >= width) return s;
  if (left) return s.padEnd(width, ' ');
  if (zero) {
    const sign = /^[-+ ]/.test(s) ? s[0] : '';
    const pfx = /^[-+ ]?0[xX]/.test(s) ? s.slice(sign.length, sign.length + 2) : '';
    const body = s.slice(sign.length + pfx.length);
    return sign + pfx + body.padStart(width - sign.length - pfx.length, '0');
  }
  return s.padStart(width, ' ');
}

/** C's %e: mantissa with `prec` digits and an exponent of at least two digits. */
export function fmtExp(f: number, prec: number, upper: boolean): string {
  if (!isFinite(f)) return fmtNonFinite(f, upper);
  let s = f.toExponential(prec);
  s = s.replace(/e([+-])(\d)$/, 'e$10$2');
  return upper ? s.toUpperCase() : s;
}

function fmtNonFinite(f: number, upper: boolean): string {
  const s = isNaN(f) ? 'nan' : f > 0 ? 'inf' : '-inf';
  return upper ? s.toUpperCase() : s;
}

/** C's %g */
export function fmtG(f: number, prec: number, upper: boolean, alt: boolean): string {
  if (!isFinite(f)) return fmtNonFinite(f, upper);
  const p = prec === 0 ? 1 : prec;
  if (f === 0) return alt ? (0).toFixed(p - 1) : '0';
  const exp = Math.floor(Math.log10(Math.abs(Number(f.toExponential(p - 1)))));
  let s: string;
  if (exp < -4 || exp >= p) {
    s = f.toExponential(p - 1);
    if (!alt) s = s.replace(/\.?0+e/, 'e');
    s = s.replace(/e([+-])(\d)$/, 'e$10$2');
  } else {
    s = f.toFixed(Math.max(0, p - 1 - exp));
    if (!alt && s.includes('.')) s = s.replace(/\.?0+$/, '');
  }
  return upper ? s.toUpperCase() : s;
}

/** %q: bash's shell quoting */
export function shellQuote(s: string): string {
  if (s === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  if ([...s].some((ch) => ch.charCodeAt(0) < 32 || ch.charCodeAt(0) === 127)) {
    let out = "$'";
    for (const ch of s) {
      const c = ch.charCodeAt(0);
      if (ch === "'") out += "\\'";
      else if (ch === '\\') out += '\\\\';
      else if (ch === '\n') out += '\\n';
      else if (ch === '\t') out += '\\t';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\x1b') out += '\\E';
      else if (c < 32 || c === 127) out += '\\' + c.toString(8).padStart(3, '0');
      else out += ch;
    }
    return out + "'";
  }
  return s.replace(/[^A-Za-z0-9_@%+=:,./-]/g, '\\$&');
}

/**
 * Formats like printf(1): the format is reused until the arguments are
 * consumed; missing arguments are empty / zero.
 */
export function printfFormat(format: string, args: string[], quoteStyle: 'bash' | 'coreutils' = 'bash'): PrintfResult {
  const errors: string[] = [];
  let out = '';
  let ai = 0;
  const ctx = { quoteStyle };
  const next = (): string | undefined => (ai < args.length ? args[ai++] : undefined);
  for (let round = 0; round < 10_000; round++) {
    const startAi = ai;
    let i = 0;
    let usedConv = false;
    while (i < format.length) {
      const c = format[i];
      if (c === '\\') {
        // find escape extent
        let j = i + 1;
        const n = format[j];
        if (n === 'x') {
          j++;
          while (j < format.length && j < i + 4 && /[0-9a-fA-F]/.test(format[j])) j++;
        } else if (n === 'u' || n === 'U') {
          j++;
          const max = n === 'u' ? 4 : 8;
          while (j < format.length && j < i + 2 + max && /[0-9a-fA-F]/.test(format[j])) j++;
        } else if (/[0-7]/.test(n ?? '')) {
          j++;
          while (j < format.length && j < i + 4 && /[0-7]/.test(format[j])) j++;
        } else j++;
        out += unescape(format.slice(i, j), 'format').text;
        i = j;
        continue;
      }
      if (c !== '%') {
        out += c;
        i++;
        continue;
      }
      if (format[i + 1] === '%') {
        out += '%';
        i += 2;
        continue;
      }
      const m = /^%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?(hh|h|ll|l|L|j|z|t)?([a-zA-Z])?/.exec(format.slice(i));
      if (!m || !m[5]) {
        errors.push(`${quoteStyle === 'bash' ? '' : ''}${format.slice(i)}: invalid conversion specification`.replace(/^/, ''));
        return { out, errors: [`\`${format.slice(i, i + 2)}': missing format character`], stop: true };
      }
      usedConv = true;
      i += m[0].length;
      const flags = m[1];
      let width = 0;
      if (m[2] === '*') width = Number(parseNumArg(next() ?? '0', errors, ctx).v);
      else if (m[2]) width = Number(m[2]);
      let prec: number | undefined;
      if (m[3] !== undefined) prec = m[3] === '*' ? Number(parseNumArg(next() ?? '0', errors, ctx).v) : Number(m[3] || '0');
      let left = flags.includes('-');
      if (width < 0) {
        left = true;
        width = -width;
      }
      const zero = flags.includes('0') && !left;
      const plus = flags.includes('+');
      const space = flags.includes(' ');
      const alt = flags.includes('#');
      const conv = m[5];
      const arg = next();
      switch (conv) {
        case 's': {
          let s = arg ?? '';
          if (prec !== undefined) s = s.slice(0, prec);
          out += pad(s, width, left, false);
          break;
        }
        case 'b': {
          const r = unescape(arg ?? '', 'b');
          let s = r.text;
          if (prec !== undefined) s = s.slice(0, prec);
          out += pad(s, width, left, false);
          if (r.stop) return { out, errors, stop: true };
          break;
        }
        case 'q':
          out += pad(shellQuote(arg ?? ''), width, left, false);
          break;
        case 'c':
          out += pad((arg ?? '').slice(0, 1), width, left, false);
          break;
        case 'd':
        case 'i':
        case 'u':
        case 'o':
        case 'x':
        case 'X': {
          let v = arg === undefined ? 0n : parseNumArg(arg, errors, ctx).v;
          if (conv === 'd' || conv === 'i') v = BigInt.asIntN(64, v);
          else v = BigInt.asUintN(64, v);
          const neg = v < 0n;
          let digits = (neg ? -v : v).toString(conv === 'o' ? 8 : conv === 'x' || conv === 'X' ? 16 : 10);
          if (conv === 'X') digits = digits.toUpperCase();
          if (prec !== undefined) digits = prec === 0 && v === 0n ? '' : digits.padStart(prec, '0');
          if (alt && conv === 'o' && !digits.startsWith('0')) digits = '0' + digits;
          if (alt && (conv === 'x' || conv === 'X') && v !== 0n) digits = (conv === 'x' ? '0x' : '0X') + digits;
          const sign = neg ? '-' : (conv === 'd' || conv === 'i') && plus ? '+' : (conv === 'd' || conv === 'i') && space ? ' ' : '';
          out += pad(sign + digits, width, left, zero && prec === undefined);
          break;
        }
        case 'f':
        case 'F':
        case 'e':
        case 'E':
        case 'g':
        case 'G':
        case 'a':
        case 'A': {
          const f = arg === undefined ? 0 : parseNumArg(arg, errors, ctx).f;
          const p = prec ?? 6;
          let s: string;
          if (conv === 'f' || conv === 'F') s = isFinite(f) ? f.toFixed(Math.min(p, 100)) : fmtNonFinite(f, conv === 'F');
          else if (conv === 'e' || conv === 'E') s = fmtExp(f, Math.min(p, 100), conv === 'E');
          else if (conv === 'g' || conv === 'G') s = fmtG(f, Math.min(p, 100), conv === 'G', alt);
          else s = f.toString(16);
          if (!s.startsWith('-')) s = (plus ? '+' : space ? ' ' : '') + s;
          out += pad(s, width, left, zero && isFinite(f));
          break;
        }
        default:
          return { out, errors: [...errors, `%${conv}: invalid directive`], stop: true };
      }
    }
    if (!usedConv || ai >= args.length || ai === startAi) break;
  }
  return { out, errors, stop: false };
}

/** echo's argument handling (bash builtin and coreutils agree for -n -e -E). */
export function echoText(args: string[], defaultEscapes = false): string {
  let i = 0;
  let newline = true;
  let escapes = defaultEscapes;
  while (i < args.length && /^-[neE]+$/.test(args[i])) {
    for (const ch of args[i].slice(1)) {
      if (ch === 'n') newline = false;
      else if (ch === 'e') escapes = true;
      else escapes = false;
    }
    i++;
  }
  let text = args.slice(i).join(' ');
  if (escapes) {
    const r = unescape(text, 'b');
    if (r.stop) return r.text;
    text = r.text;
  }
  return newline ? text + '\n' : text;
}
