import type { ToolCtx, ToolSpec } from '../types';
import { all, compileRegex, has, parseArgs, readInput, UsageError, warn } from './common';

/**
 * sed: addresses (N, $, /re/, first~step, addr,+N, 0,/re/), ! negation,
 * { } blocks, and the commands s y d D p P n N g G h H x = a i c q Q b t T : l z r w.
 */
type Addr = { k: 'line'; n: number } | { k: 'last' } | { k: 're'; re: RegExp | null } | { k: 'step'; first: number; step: number } | { k: 'zero' };

interface Cmd {
  a1?: Addr;
  a2?: Addr | { k: 'plus'; n: number };
  neg: boolean;
  name: string;
  text?: string;
  re?: RegExp | null;
  rep?: string;
  flags?: { g: boolean; p: boolean; n: number; w?: string };
  label?: string;
  /** for { : index of the matching } */
  end?: number;
  ysrc?: string[];
  ydst?: string[];
  code?: number;
  /** range state */
  active?: boolean;
  rangeEnd?: number;
}

class SedError extends Error {}

class Parser {
  i = 0;
  constructor(
    private readonly s: string,
    private readonly ere: boolean,
  ) {}

  private err(msg: string): never {
    throw new SedError(`-e expression #1, char ${this.i}: ${msg}`);
  }

  private ws(): void {
    while (this.i < this.s.length && (this.s[this.i] === ' ' || this.s[this.i] === '\t')) this.i++;
  }

  /** reads up to an unescaped delimiter; returns the raw text */
  private delimited(d: string, isRe: boolean): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === '\\' && this.i + 1 < this.s.length) {
        const n = this.s[this.i + 1];
        if (n === d && d !== '\\') out += isRe && '.*[]^$+?(){}|'.includes(d) ? '\\' + d : d;
        else if (n === 'n' && !isRe) out += '\n';
        else out += c + n;
        this.i += 2;
        continue;
      }
      if (c === '\n' && isRe) break;
      if (c === d) {
        this.i++;
        return out;
      }
      if (isRe && c === '[') {
        // a bracket expression may contain the delimiter
        const start = this.i;
        let j = this.i + 1;
        if (this.s[j] === '^') j++;
        if (this.s[j] === ']') j++;
        while (j < this.s.length && this.s[j] !== ']') {
          if (this.s[j] === '[' && ':.='.includes(this.s[j + 1] ?? '')) {
            const e = this.s.indexOf(this.s[j + 1] + ']', j + 2);
            j = e > 0 ? e + 2 : j + 1;
            continue;
          }
          j++;
        }
        if (j < this.s.length) {
          out += this.s.slice(start, j + 1);
          this.i = j + 1;
          continue;
        }
      }
      out += c;
      this.i++;
    }
    return this.err(`unterminated ${isRe ? 'address regex' : "`s' command"}`);
  }

  private regex(src: string, flags: string): RegExp | null {
    if (src === '') return null; // last regex
    const re = compileRegex(src, this.ere, flags);
    if (!re) this.err('Invalid regular expression');
    return re;
  }

  private addr(): Addr | undefined {
    const s = this.s;
    const c = s[this.i];
    if (c === undefined) return undefined;
    if (/\d/.test(c)) {
      let j = this.i;
      while (/\d/.test(s[j] ?? '')) j++;
      const n = Number(s.slice(this.i, j));
      this.i = j;
      if (s[this.i] === '~') {
        this.i++;
        let k = this.i;
        while (/\d/.test(s[k] ?? '')) k++;
        const step = Number(s.slice(this.i, k) || '0');
        this.i = k;
        return { k: 'step', first: n, step };
      }
      if (n === 0) return { k: 'zero' };
      return { k: 'line', n };
    }
    if (c === '$') {
      this.i++;
      return { k: 'last' };
    }
    if (c === '/' || c === '\\') {
      let d = '/';
      if (c === '\\') {
        d = s[this.i + 1];
        this.i += 2;
      } else this.i++;
      const src = this.delimited(d, true);
      let flags = '';
      while (s[this.i] === 'I' || s[this.i] === 'M') {
        if (s[this.i] === 'I') flags += 'i';
        else flags += 'm';
        this.i++;
      }
      return { k: 're', re: this.regex(src, flags) };
    }
    return undefined;
  }

  private textArg(): string {
    // a\ text, a text (GNU one-liner)
    const s = this.s;
    this.ws();
    if (s[this.i] === '\\') {
      this.i++;
      if (s[this.i] === '\n') this.i++;
    }
    let out = '';
    while (this.i < s.length && s[this.i] !== '\n') {
      if (s[this.i] === '\\' && this.i + 1 < s.length) {
        out += s[this.i + 1] === '\n' ? '\n' : s[this.i + 1];
        this.i += 2;
        continue;
      }
      out += s[this.i++];
    }
    return out;
  }

  private label(): string {
    this.ws();
    let j = this.i;
    while (j < this.s.length && this.s[j] !== '\n' && this.s[j] !== ';') j++;
    const l = this.s.slice(this.i, j).trim();
    this.i = j;
    return l;
  }

  parse(): Cmd[] {
    const cmds: Cmd[] = [];
    const stack: number[] = [];
    const s = this.s;
    for (;;) {
      while (this.i < s.length && /[\s;]/.test(s[this.i])) this.i++;
      if (this.i >= s.length) break;
      if (s[this.i] === '#') {
        while (this.i < s.length && s[this.i] !== '\n') this.i++;
        continue;
      }
      const cmd: Cmd = { neg: false, name: '' };
      cmd.a1 = this.addr();
      if (cmd.a1 && s[this.i] === ',') {
        this.i++;
        if (s[this.i] === '+') {
          this.i++;
          let j = this.i;
          while (/\d/.test(s[j] ?? '')) j++;
          cmd.a2 = { k: 'plus', n: Number(s.slice(this.i, j)) };
          this.i = j;
        } else {
          cmd.a2 = this.addr();
          if (!cmd.a2) this.err('unexpected `,\'');
        }
      }
      if (cmd.a1?.k === 'zero' && !(cmd.a2 && cmd.a2.k === 're')) this.err('invalid usage of line address 0');
      this.ws();
      while (s[this.i] === '!') {
        cmd.neg = true;
        this.i++;
        this.ws();
      }
      const c = s[this.i++];
      if (c === undefined) this.err('missing command');
      cmd.name = c;
      switch (c) {
        case '{':
          stack.push(cmds.length);
          cmds.push(cmd);
          continue;
        case '}':
          if (!stack.length) this.err("unexpected `}'");
          cmds[stack.pop() as number].end = cmds.length;
          cmds.push(cmd);
          continue;
        case 'a':
        case 'i':
        case 'c':
          cmd.text = this.textArg();
          break;
        case ':':
          if (cmd.a1) this.err(': doesn\'t want any addresses');
          cmd.label = this.label();
          if (!cmd.label) this.err('":" lacks a label');
          break;
        case 'b':
        case 't':
        case 'T':
          cmd.label = this.label();
          break;
        case 'r':
        case 'R':
        case 'w':
        case 'W':
          cmd.text = this.textArg();
          break;
        case 'q':
        case 'Q':
        case 'l':
        case 'L': {
          this.ws();
          let j = this.i;
          while (/\d/.test(s[j] ?? '')) j++;
          cmd.code = j > this.i ? Number(s.slice(this.i, j)) : 0;
          this.i = j;
          break;
        }
        case 's': {
          const d = s[this.i++];
          if (d === undefined || d === '\n' || d === '\\') this.err("unterminated `s' command");
          const src = this.delimited(d, true);
          const rep = this.delimitedRep(d);
          const flags = { g: false, p: false, n: 1, w: undefined as string | undefined };
          let reFlags = '';
          for (;;) {
            const f = s[this.i];
            if (f === 'g') flags.g = true;
            else if (f === 'p') flags.p = true;
            else if (f === 'i' || f === 'I') reFlags += 'i';
            else if (f === 'm' || f === 'M') reFlags += 'm';
            else if (f === 'e') {
              /* not supported: ignored */
            } else if (f !== undefined && /\d/.test(f)) {
              let j = this.i;
              while (/\d/.test(s[j] ?? '')) j++;
              flags.n = Number(s.slice(this.i, j));
              if (flags.n === 0) this.err("number option to `s' command may not be zero");
              this.i = j;
              continue;
            } else if (f === 'w') {
              this.i++;
              flags.w = this.textArg();
              break;
            } else break;
            this.i++;
          }
          cmd.re = this.regex(src, reFlags);
          cmd.rep = rep;
          cmd.flags = flags;
          break;
        }
        case 'y': {
          const d = s[this.i++];
          const a = [...this.delimited(d, false).replace(/\\\\/g, '\\')];
          const b = [...this.delimited(d, false).replace(/\\\\/g, '\\')];
          if (a.length !== b.length) this.err("strings for `y' command are different lengths");
          cmd.ysrc = a;
          cmd.ydst = b;
          break;
        }
        case '=':
        case 'd':
        case 'D':
        case 'g':
        case 'G':
        case 'h':
        case 'H':
        case 'n':
        case 'N':
        case 'p':
        case 'P':
        case 'x':
        case 'z':
        case 'F':
          break;
        default:
          this.err(`unknown command: \`${c}'`);
      }
      cmds.push(cmd);
      this.ws();
      if (this.i < s.length && !/[;\n}#]/.test(s[this.i])) this.err(`extra characters after command`);
    }
    if (stack.length) {
      this.i = s.length;
      this.err("unmatched `{'");
    }
    return cmds;
  }

  /** the replacement part: keeps backslash escapes for the expander */
  private delimitedRep(d: string): string {
    let out = '';
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === '\\' && this.i + 1 < s.length) {
        const n = s[this.i + 1];
        if (n === d) out += d === '&' ? '\\&' : d;
        else if (n === '\n') out += '\n';
        else out += c + n;
        this.i += 2;
        continue;
      }
      if (c === d) {
        this.i++;
        return out;
      }
      out += c;
      this.i++;
    }
    return this.err("unterminated `s' command");
  }
}

function expandReplacement(rep: string, m: RegExpExecArray): string {
  let out = '';
  let mode: '' | 'U' | 'L' = '';
  let one: '' | 'u' | 'l' = '';
  const add = (s: string): void => {
    for (const ch of s) {
      let c = mode === 'U' ? ch.toUpperCase() : mode === 'L' ? ch.toLowerCase() : ch;
      if (one) {
        c = one === 'u' ? c.toUpperCase() : c.toLowerCase();
        one = '';
      }
      out += c;
    }
  };
  for (let i = 0; i < rep.length; i++) {
    const c = rep[i];
    if (c === '&') {
      add(m[0]);
      continue;
    }
    if (c === '\\' && i + 1 < rep.length) {
      const n = rep[++i];
      if (/\d/.test(n)) add(m[Number(n)] ?? '');
      else if (n === 'n') add('\n');
      else if (n === 't') add('\t');
      else if (n === '&') add('&');
      else if (n === 'U' || n === 'L') mode = n;
      else if (n === 'E') mode = '';
      else if (n === 'u' || n === 'l') one = n;
      else add(n);
      continue;
    }
    add(c);
  }
  return out;
}

const sed = (ctx: ToolCtx): number => {
  let p;
  try {
    p = parseArgs(ctx, {
      short: 'ne:f:Erisuzl:',
      long: { quiet: 'n', silent: 'n', 'expression=': 'e', 'file=': 'f', 'regexp-extended': 'E', 'in-place': 'i', 'in-place=': 'i', separate: 's', 'null-data': 'z', posix: 'P', debug: 'D', sandbox: 'S' },
    });
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.stderr.write(e.message.replace(/\nTry.*$/, '') + '\nUsage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n\n');
      return 1;
    }
    throw e;
  }
  const scripts = all(p, 'e');
  for (const f of all(p, 'f')) {
    const t = readInput(ctx, f);
    if (t === null) return 1;
    scripts.push(t.replace(/\n$/, ''));
  }
  let operands = p.operands;
  if (scripts.length === 0) {
    if (operands.length === 0) {
      ctx.stderr.write('Usage: sed [OPTION]... {script-only-if-no-other-script} [input-file]...\n\n');
      return 1;
    }
    scripts.push(operands[0]);
    operands = operands.slice(1);
  }
  const ere = has(p, 'E') || has(p, 'r');
  let cmds: Cmd[];
  try {
    cmds = new Parser(scripts.join('\n'), ere).parse();
  } catch (e) {
    if (e instanceof SedError) {
      warn(ctx, e.message);
      return 1;
    }
    throw e;
  }
  const labels = new Map<string, number>();
  cmds.forEach((c, i) => {
    if (c.name === ':' && c.label) labels.set(c.label, i);
  });
  for (const c of cmds) {
    if ((c.name === 'b' || c.name === 't' || c.name === 'T') && c.label && !labels.has(c.label)) {
      warn(ctx, `-e expression #1, char 0: can't find label for jump to \`${c.label}'`);
      return 1;
    }
  }
  const quiet = has(p, 'n');
  const inPlace = has(p, 'i');
  const separate = inPlace || has(p, 's');
  const files = operands.length ? operands : ['-'];
  let status = 0;
  let lastRe: RegExp | null = null;
  let hold = '';
  let quitCode: number | null = null;
  // the input as one stream (or one per file with -s / -i)
  const groups: { name: string; lines: string[]; finalNl: boolean }[][] = [];
  let cur: { name: string; lines: string[]; finalNl: boolean }[] = [];
  for (const f of files) {
    const d = readInput(ctx, f);
    if (d === null) {
      status = 2;
      continue;
    }
    const finalNl = d.endsWith('\n');
    const lines = d === '' ? [] : (finalNl ? d.slice(0, -1) : d).split('\n');
    cur.push({ name: f, lines, finalNl });
    if (separate) {
      groups.push(cur);
      cur = [];
    }
  }
  if (!separate) groups.push(cur);
  const wfiles = new Map<string, string>();
  for (const g of groups) {
    const input: { line: string; nl: boolean }[] = [];
    for (const f of g) f.lines.forEach((l, i) => input.push({ line: l, nl: i < f.lines.length - 1 || f.finalNl }));
    let out = '';
    let idx = 0;
    let lineNo = 0;
    for (const c of cmds) {
      c.active = false;
      c.rangeEnd = undefined;
    }
    const isLast = (): boolean => idx >= input.length;
    const match = (a: Addr, ps: string): boolean => {
      switch (a.k) {
        case 'line':
          return lineNo === a.n;
        case 'last':
          return isLast();
        case 'zero':
          return false;
        case 'step':
          return a.step <= 0 ? lineNo === a.first : lineNo >= a.first && (lineNo - a.first) % a.step === 0;
        case 're': {
          const re = a.re ?? lastRe;
          if (!re) return false;
          if (a.re) lastRe = a.re;
          re.lastIndex = 0;
          return re.test(ps);
        }
      }
    };
    const selected = (c: Cmd, ps: string): boolean => {
      if (!c.a1) return true;
      if (!c.a2) return match(c.a1, ps);
      if (c.active) {
        const a2 = c.a2;
        if (a2.k === 'plus') {
          if (lineNo >= (c.rangeEnd as number)) c.active = false;
          return true;
        }
        if (a2.k === 'line') {
          if (lineNo >= a2.n) c.active = false;
          return lineNo <= a2.n || true;
        }
        if (match(a2, ps)) c.active = false;
        return true;
      }
      const startHit = c.a1.k === 'zero' ? lineNo === 1 || false : match(c.a1, ps);
      if (c.a1.k === 'zero') {
        // 0,/re/: the end regex may match on the first line
        if (!c.rangeEnd) {
          c.rangeEnd = 1;
          c.active = true;
          if (match(c.a2 as Addr, ps)) c.active = false;
          return true;
        }
        return false;
      }
      if (!startHit) return false;
      const a2 = c.a2;
      if (a2.k === 'plus') {
        c.rangeEnd = lineNo + a2.n;
        c.active = a2.n > 0;
      } else if (a2.k === 'line') c.active = a2.n > lineNo;
      else if (a2.k === 'last') c.active = !isLast();
      else c.active = true;
      return true;
    };
    let ps = '';
    let append = '';
    let lastNl = true;
    const emit = (s: string, nl = true): void => {
      out += s + (nl ? '\n' : '');
    };
    const flushAppend = (): void => {
      if (append && out !== '' && !out.endsWith('\n')) out += '\n';
      out += append;
      append = '';
    };
    let cycles = 0;
    while (idx < input.length && quitCode === null) {
      if (++cycles % 1024 === 0) ctx.tick();
      const rec = input[idx++];
      ps = rec.line;
      lastNl = rec.nl;
      lineNo++;
      let tflag = false;
      let deleted = false;
      let pc = 0;
      let restart = false;
      let autoPrint = !quiet;
      let steps = 0;
      while (pc < cmds.length) {
        if (++steps > 100000) {
          ctx.tick(100);
          steps = 0;
        }
        const c = cmds[pc];
        if (c.name === '}' || c.name === ':') {
          pc++;
          continue;
        }
        let sel = selected(c, ps);
        if (c.neg) sel = !sel;
        if (!sel) {
          pc = c.name === '{' ? (c.end as number) + 1 : pc + 1;
          continue;
        }
        pc++;
        switch (c.name) {
          case '{':
            break;
          case '=':
            emit(String(lineNo));
            break;
          case 'a':
            append += (c.text ?? '') + '\n';
            break;
          case 'i':
            emit(c.text ?? '');
            break;
          case 'c':
            if (!c.a2 || !c.active) emit(c.text ?? '');
            deleted = true;
            break;
          case 'd':
            deleted = true;
            break;
          case 'D':
            if (!ps.includes('\n')) deleted = true;
            else {
              ps = ps.slice(ps.indexOf('\n') + 1);
              restart = true;
            }
            break;
          case 'p':
            emit(ps);
            break;
          case 'P':
            emit(ps.split('\n')[0]);
            break;
          case 'n':
            if (autoPrint) emit(ps, true);
            flushAppend();
            if (isLast()) {
              autoPrint = false;
              deleted = true;
              break;
            }
            {
              const r = input[idx++];
              ps = r.line;
              lastNl = r.nl;
              lineNo++;
            }
            break;
          case 'N':
            if (isLast()) {
              // GNU prints the pattern space when N fails on the last line
              deleted = !autoPrint;
              pc = cmds.length;
              break;
            }
            {
              const r = input[idx++];
              ps += '\n' + r.line;
              lastNl = r.nl;
              lineNo++;
            }
            break;
          case 'g':
            ps = hold;
            break;
          case 'G':
            ps += '\n' + hold;
            break;
          case 'h':
            hold = ps;
            break;
          case 'H':
            hold += '\n' + ps;
            break;
          case 'x': {
            const t = ps;
            ps = hold;
            hold = t;
            break;
          }
          case 'z':
            ps = '';
            break;
          case 'F':
            emit(g.length === 1 ? (g[0].name === '-' ? '-' : g[0].name) : '-');
            break;
          case 'l':
            emit(
              [...ps]
                .map((ch) => {
                  const code = ch.charCodeAt(0);
                  if (ch === '\\') return '\\\\';
                  if (ch === '\n') return '\\n';
                  if (ch === '\t') return '\\t';
                  if (code < 32 || code >= 127) return '\\' + code.toString(8).padStart(3, '0');
                  return ch;
                })
                .join('') + '$',
            );
            break;
          case 'q':
            quitCode = c.code ?? 0;
            pc = cmds.length;
            break;
          case 'Q':
            quitCode = c.code ?? 0;
            deleted = true;
            autoPrint = false;
            pc = cmds.length;
            break;
          case 'y': {
            const src = c.ysrc as string[];
            const dst = c.ydst as string[];
            ps = [...ps].map((ch) => {
              const k = src.indexOf(ch);
              return k >= 0 ? dst[k] : ch;
            }).join('');
            break;
          }
          case 'b':
            pc = c.label ? (labels.get(c.label) as number) : cmds.length;
            break;
          case 't':
            if (tflag) {
              tflag = false;
              pc = c.label ? (labels.get(c.label) as number) : cmds.length;
            }
            break;
          case 'T':
            if (!tflag) pc = c.label ? (labels.get(c.label) as number) : cmds.length;
            else tflag = false;
            break;
          case 'r':
            try {
              append += ctx.host.readFile(ctx.pid, c.text ?? '', ctx.cwd);
            } catch {
              // a missing file is silently ignored
            }
            break;
          case 'w':
            wfiles.set(c.text ?? '', (wfiles.get(c.text ?? '') ?? '') + ps + '\n');
            break;
          case 's': {
            const re0 = c.re ?? lastRe;
            if (!re0) {
              warn(ctx, 'no previous regular expression');
              return 1;
            }
            if (c.re) lastRe = c.re;
            const re = new RegExp(re0.source, re0.flags.replace('g', '') + 'g');
            let count = 0;
            let res = '';
            let pos = 0;
            let did = false;
            let m: RegExpExecArray | null;
            re.lastIndex = 0;
            while ((m = re.exec(ps))) {
              count++;
              const hit = c.flags?.g ? count >= (c.flags?.n ?? 1) : count === (c.flags?.n ?? 1);
              if (hit) {
                res += ps.slice(pos, m.index) + expandReplacement(c.rep ?? '', m);
                pos = m.index + m[0].length;
                did = true;
                if (!c.flags?.g) break;
              }
              if (m[0] === '') {
                if (re.lastIndex >= ps.length) break;
                re.lastIndex++;
              }
            }
            if (did) {
              ps = res + ps.slice(pos);
              tflag = true;
              if (c.flags?.p) emit(ps);
              if (c.flags?.w) wfiles.set(c.flags.w, (wfiles.get(c.flags.w) ?? '') + ps + '\n');
            }
            break;
          }
        }
        if (deleted || restart) break;
      }
      if (restart) {
        // D: restart the cycle without reading a new line
        idx--;
        input[idx] = { line: ps, nl: lastNl };
        lineNo--;
        continue;
      }
      if (!deleted && autoPrint) emit(ps, lastNl || idx < input.length);
      flushAppend();
    }
    if (out.length && !lastNl && out.endsWith('\n') && !append) {
      // keep a missing final newline missing
    }
    if (inPlace && g.length === 1 && g[0].name !== '-') {
      try {
        ctx.host.writeFile(ctx.pid, g[0].name, ctx.cwd, out);
      } catch (e) {
        warn(ctx, `couldn't open file ${g[0].name}: ${(e as Error).message}`);
        status = 4;
      }
    } else ctx.stdout.write(out);
  }
  for (const [f, data] of wfiles) {
    try {
      if (f === '/dev/stdout') ctx.stdout.write(data);
      else ctx.host.writeFile(ctx.pid, f, ctx.cwd, data);
    } catch {
      // ignore
    }
  }
  return quitCode ?? status;
};

export const SED_TOOLS: ToolSpec[] = [{ name: 'sed', run: sed }];
