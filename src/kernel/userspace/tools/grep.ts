import type { DirEntryInfo } from '../../shell/host';
import type { ToolCtx, ToolSpec } from '../types';
import { all, compileRegex, errText, has, joinPath, last, parseArgs, splitLines, statOrNull, UsageError, warn, write } from './common';

/** grep: -E -F -G -v -c -i -n -o -q -r -l -L -h -H -w -x -e -f -s -m -A -B -C. */
const grep = (ctx: ToolCtx): number => {
  let p;
  try {
    p = parseArgs(ctx, {
      short: 'EFGPvcinoqsrRlLhHwxe:f:m:A:B:C:zZbaI',
      long: {
        'extended-regexp': 'E',
        'fixed-strings': 'F',
        'basic-regexp': 'G',
        'perl-regexp': 'P',
        'invert-match': 'v',
        count: 'c',
        'ignore-case': 'i',
        'line-number': 'n',
        'only-matching': 'o',
        quiet: 'q',
        silent: 'q',
        'no-messages': 's',
        recursive: 'r',
        'dereference-recursive': 'R',
        'files-with-matches': 'l',
        'files-without-match': 'L',
        'no-filename': 'h',
        'with-filename': 'H',
        'word-regexp': 'w',
        'line-regexp': 'x',
        'regexp=': 'e',
        'file=': 'f',
        'max-count=': 'm',
        'after-context=': 'A',
        'before-context=': 'B',
        'context=': 'C',
        'color=': 'K',
        colour: 'K',
        color: 'K',
        'colour=': 'K',
        'include=': 'N',
        'exclude=': 'X',
        'exclude-dir=': 'D',
        'null-data': 'z',
        null: 'Z',
      },
      usageStatus: 2,
    });
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.stderr.write(e.message.replace(/Try 'grep --help'/, "Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help'") + '\n');
      return 2;
    }
    throw e;
  }
  let patterns = all(p, 'e');
  let operands = p.operands;
  for (const f of all(p, 'f')) {
    try {
      const t = f === '-' ? ctx.stdin.readAll() : ctx.host.readFile(ctx.pid, f, ctx.cwd);
      patterns.push(...splitLines(t).lines);
    } catch (e) {
      warn(ctx, `${f}: ${errText(e)}`);
      return 2;
    }
  }
  if (patterns.length === 0 && !has(p, 'f')) {
    if (operands.length === 0) {
      ctx.stderr.write("Usage: grep [OPTION]... PATTERNS [FILE]...\nTry 'grep --help' for more information.\n");
      return 2;
    }
    patterns = operands[0].split('\n');
    operands = operands.slice(1);
  }
  const mode = has(p, 'F') ? 'F' : has(p, 'E') || has(p, 'P') ? 'E' : 'G';
  const mlast = p.opts.filter(([k]) => k === 'E' || k === 'F' || k === 'G' || k === 'P').pop()?.[0];
  const effMode = mlast === 'F' ? 'F' : mlast === 'E' || mlast === 'P' ? 'E' : mlast === 'G' ? 'G' : mode;
  const icase = has(p, 'i');
  const word = has(p, 'w');
  const line = has(p, 'x');
  const sources: string[] = [];
  for (const pat of patterns) {
    let src: string;
    if (effMode === 'F') src = pat.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else {
      const re = compileRegex(pat, effMode === 'E');
      if (!re) {
        warn(ctx, unmatchedMessage(pat, effMode === 'E'));
        return 2;
      }
      src = re.source;
    }
    if (line) src = `^(?:${src})$`;
    else if (word) src = `(?<![A-Za-z0-9_])(?:${src})(?![A-Za-z0-9_])`;
    sources.push(src);
  }
  let re: RegExp;
  try {
    re = new RegExp(sources.map((s) => `(?:${s})`).join('|') || '(?:)', icase ? 'gi' : 'g');
  } catch {
    warn(ctx, 'Invalid regular expression');
    return 2;
  }
  const invert = has(p, 'v');
  const count = has(p, 'c');
  const quiet = has(p, 'q');
  const onlyM = has(p, 'o');
  const listM = has(p, 'l');
  const listNon = has(p, 'L');
  const number = has(p, 'n');
  const noMsg = has(p, 's');
  const recursive = has(p, 'r') || has(p, 'R');
  const maxCount = last(p, 'm') !== undefined ? Number(last(p, 'm')) : Infinity;
  const after = Number(last(p, 'A') ?? last(p, 'C') ?? 0);
  const before = Number(last(p, 'B') ?? last(p, 'C') ?? 0);
  const files = operands.length ? operands : recursive ? ['.'] : ['-'];
  const withName = has(p, 'H') || (!has(p, 'h') && (files.length > 1 || recursive));
  let matchedAny = false;
  let error = false;
  let out = '';
  const flush = (): void => {
    if (out.length) {
      write(ctx, out);
      out = '';
    }
  };
  const searchText = (name: string, data: string): void => {
    const { lines } = splitLines(data);
    let n = 0;
    const label = name === '-' ? '(standard input)' : name;
    const prefix = (i: number, sep: string): string => (withName ? label + sep : '') + (number ? `${i + 1}${sep}` : '');
    let lastPrinted = -1;
    let afterLeft = 0;
    for (let i = 0; i < lines.length; i++) {
      if (n >= maxCount) break;
      const l = lines[i];
      re.lastIndex = 0;
      const hit = re.test(l) !== invert;
      if (!hit) {
        if (afterLeft > 0 && !count && !quiet && !listM && !listNon) {
          out += prefix(i, '-') + l + '\n';
          lastPrinted = i;
          afterLeft--;
        }
        continue;
      }
      n++;
      matchedAny = true;
      if (quiet) return;
      if (count || listM || listNon) continue;
      if (before > 0 || after > 0) {
        const from = Math.max(lastPrinted + 1, i - before);
        if (lastPrinted >= 0 && from > lastPrinted + 1) out += '--\n';
        for (let k = from; k < i; k++) out += prefix(k, '-') + lines[k] + '\n';
      }
      if (onlyM && !invert) {
        re.lastIndex = 0;
        let m: RegExpExecArray | null;
        while ((m = re.exec(l))) {
          if (m[0] === '') {
            re.lastIndex++;
            continue;
          }
          out += prefix(i, ':') + m[0] + '\n';
        }
      } else if (!onlyM) out += prefix(i, ':') + l + '\n';
      lastPrinted = i;
      afterLeft = after;
      if (out.length > 65536) flush();
    }
    if (count) out += (withName ? label + ':' : '') + n + '\n';
    if (listM && n > 0) out += label + '\n';
    if (listNon && n === 0) out += label + '\n';
  };
  const searchPath = (name: string, top: boolean): void => {
    if (quiet && matchedAny) return;
    ctx.tick();
    if (name === '-') {
      searchText('-', ctx.stdin.readAll());
      return;
    }
    const st = statOrNull(ctx, name, top || has(p, 'R'));
    if (!st) {
      if (!noMsg) warn(ctx, `${name}: No such file or directory`);
      error = true;
      return;
    }
    if (st.type === 'dir') {
      if (!recursive) {
        if (!noMsg) warn(ctx, `${name}: Is a directory`);
        return;
      }
      let entries: DirEntryInfo[];
      try {
        entries = ctx.host.readdir(ctx.pid, name, ctx.cwd);
      } catch (e) {
        if (!noMsg) warn(ctx, `${name}: ${errText(e)}`);
        error = true;
        return;
      }
      for (const e of entries) searchPath(name === '.' && !operands.length ? e.name : joinPath(name, e.name), false);
      return;
    }
    if (st.type === 'link') return;
    let data: string;
    try {
      data = ctx.host.readFile(ctx.pid, name, ctx.cwd);
    } catch (e) {
      if (!noMsg) warn(ctx, `${name}: ${errText(e)}`);
      error = true;
      return;
    }
    if (data.includes('\0') && !has(p, 'a')) {
      re.lastIndex = 0;
      const any = splitLines(data).lines.some((l) => {
        re.lastIndex = 0;
        return re.test(l) !== invert;
      });
      if (any) {
        matchedAny = true;
        if (!quiet && !count) out += `grep: ${name}: binary file matches\n`;
        else if (count) searchText(name, data);
      }
      return;
    }
    searchText(name, data);
  };
  for (const f of files) searchPath(f, true);
  flush();
  if (quiet && matchedAny) return 0;
  if (error && !(quiet && matchedAny)) return 2;
  return matchedAny ? 0 : 1;
};

function unmatchedMessage(pat: string, ere: boolean): string {
  let depth = 0;
  for (let i = 0; i < pat.length; i++) {
    if (pat[i] === '\\') {
      if (!ere && pat[i + 1] === '(') depth++;
      if (!ere && pat[i + 1] === ')') depth--;
      i++;
      continue;
    }
    if (ere && pat[i] === '(') depth++;
    if (ere && pat[i] === ')') depth--;
    if (pat[i] === '[' && !pat.includes(']', i + 1)) return 'Unmatched [, [^, [:, [., or [=';
  }
  if (depth > 0) return 'Unmatched ( or \\(';
  if (depth < 0) return 'Unmatched ) or \\)';
  return 'Invalid regular expression';
}

export const GREP_TOOLS: ToolSpec[] = [
  { name: 'grep', run: grep },
  { name: 'egrep', run: (ctx) => grep({ ...ctx, argv: ['grep', '-E', ...ctx.argv.slice(1)] }) },
  { name: 'fgrep', run: (ctx) => grep({ ...ctx, argv: ['grep', '-F', ...ctx.argv.slice(1)] }) },
];
