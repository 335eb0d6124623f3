/** printf format strings (bpftrace format_string.cpp / printf_format_types.h). */
export interface FmtSpec {
  flags: string;
  width: string;
  prec: string;
  len: string;
  conv: string;
}
export interface FmtPart {
  /** literal text preceding the specifier (or trailing text when spec is null) */
  text: string;
  spec: FmtSpec | null;
}

const SPEC_RE = /%([-+ #0]*)(\d*)(\.\d*)?(hh|h|ll|l|j|z|t)?(rx|rh|[diouxXcspr])/y;

/** Splits a format into literal+specifier parts; the final part has spec null. Returns an error text on bad specifiers. */
export function parseFormat(fmt: string): { parts: FmtPart[]; error?: string } {
  const parts: FmtPart[] = [];
  let text = '';
  let i = 0;
  while (i < fmt.length) {
    const c = fmt[i];
    if (c !== '%') {
      text += c;
      i++;
      continue;
    }
    if (fmt[i + 1] === '%') {
      text += '%%';
      i += 2;
      continue;
    }
    SPEC_RE.lastIndex = i;
    const m = SPEC_RE.exec(fmt);
    if (!m) {
      return { parts, error: `printf: Unknown format string token: ${fmt.slice(i, i + 2)}` };
    }
    parts.push({ text, spec: { flags: m[1], width: m[2], prec: m[3] ?? '', len: m[4] ?? '', conv: m[5] } });
    text = '';
    i += m[0].length;
  }
  parts.push({ text, spec: null });
  return { parts };
}

export function specExpects(conv: string): 'integer' | 'string' | 'buffer' {
  if (conv === 's') return 'string';
  if (conv === 'r' || conv === 'rx' || conv === 'rh') return 'buffer';
  return 'integer';
}

function pad(s: string, spec: FmtSpec, numeric: boolean): string {
  const w = spec.width ? Number(spec.width) : 0;
  if (s.length >= w) return s;
  if (spec.flags.includes('-')) return s + ' '.repeat(w - s.length);
  if (numeric && spec.flags.includes('0') && !spec.prec) {
    const neg = s.startsWith('-') || s.startsWith('+') || s.startsWith(' ');
    const sign = neg ? s[0] : '';
    const digits = neg ? s.slice(1) : s;
    return sign + '0'.repeat(w - s.length) + digits;
  }
  return ' '.repeat(w - s.length) + s;
}

/** C snprintf of one integer specifier. Without a 64-bit length modifier the value is read as 32-bit (bpftrace quirk). */
export function formatInt(v: bigint, spec: FmtSpec): string {
  const wide = spec.len === 'l' || spec.len === 'll' || spec.len === 'j' || spec.len === 'z' || spec.len === 't' || spec.conv === 'p';
  const bits = wide ? 64 : spec.len === 'h' ? 16 : spec.len === 'hh' ? 8 : 32;
  let body: string;
  switch (spec.conv) {
    case 'd':
    case 'i': {
      const n = BigInt.asIntN(bits, v);
      body = n < 0n ? '-' + (-n).toString() : (spec.flags.includes('+') ? '+' : spec.flags.includes(' ') ? ' ' : '') + n.toString();
      break;
    }
    case 'u':
      body = BigInt.asUintN(bits, v).toString();
      break;
    case 'x':
      body = (spec.flags.includes('#') && v !== 0n ? '0x' : '') + BigInt.asUintN(bits, v).toString(16);
      break;
    case 'X':
      body = (spec.flags.includes('#') && v !== 0n ? '0X' : '') + BigInt.asUintN(bits, v).toString(16).toUpperCase();
      break;
    case 'o':
      body = (spec.flags.includes('#') ? '0' : '') + BigInt.asUintN(bits, v).toString(8);
      break;
    case 'p':
      body = v === 0n ? '(nil)' : '0x' + BigInt.asUintN(64, v).toString(16);
      break;
    case 'c':
      return pad(String.fromCharCode(Number(BigInt.asUintN(8, v))), spec, false);
    default:
      body = v.toString();
  }
  if (spec.prec && spec.conv !== 'p') {
    const p = Number(spec.prec.slice(1) || '0');
    const neg = body.startsWith('-');
    let digits = neg ? body.slice(1) : body;
    if (digits.length < p) digits = '0'.repeat(p - digits.length) + digits;
    body = (neg ? '-' : '') + digits;
  }
  return pad(body, spec, true);
}

export function formatStr(s: string, spec: FmtSpec): string {
  let t = s;
  if (spec.prec) t = t.slice(0, Number(spec.prec.slice(1) || '0'));
  return pad(t, spec, false);
}

/** %r / %rx / %rh rendering of a buffer. */
export function formatBuf(s: string, spec: FmtSpec): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    const hex = c.toString(16).padStart(2, '0');
    if (spec.conv === 'rx') out += '\\x' + hex;
    else if (spec.conv === 'rh') out += (i ? ' ' : '') + hex;
    else out += c >= 32 && c < 127 ? s[i] : '\\x' + hex;
  }
  return pad(out, spec, false);
}
