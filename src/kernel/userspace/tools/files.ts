import { KernelError } from '../../errors';
import type { DirEntryInfo, StatInfo } from '../../shell/host';
import { compilePattern } from '../../shell/pattern';
import type { Co, ToolCtx, ToolSpec } from '../types';
import { MONTHS, basename, dirname, errText, has, humanSize, idNames, joinPath, last, modeString, pad2, parseArgs, q, statOrNull, UsageError, warn, wallMs, withUsage, write } from './common';

/** File tools: ls stat touch mkdir rmdir rm cp mv ln readlink realpath find pwd. */

const cmpC = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

// ------------------------------------------------------------------ ls

interface LsEntry {
  name: string;
  path: string;
  st: StatInfo | null;
  target?: string;
}

/** "Nov 27 00:10" or "May 25  2023" (older than six months or in the future) */
export function lsTime(ctx: ToolCtx, mtimeNs: number): string {
  const ms = wallMs(ctx, mtimeNs);
  const nowMs = wallMs(ctx);
  const d = new Date(ms);
  const sixMonths = (365.2425 / 2) * 86400 * 1000;
  const recent = ms <= nowMs && nowMs - ms < sixMonths;
  const md = `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)}`;
  return recent ? `${md} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}` : `${md}  ${d.getUTCFullYear()}`;
}

function blocksOf(st: StatInfo | null): number {
  if (!st || st.type === 'link' || st.type === 'chr' || st.type === 'blk') return 0;
  if (st.type === 'dir') return st.size === 0 ? 0 : 4;
  return Math.ceil(st.size / 4096) * 4;
}

const ls = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, {
      short: 'aAdFhilnrRSt1CgGopQU',
      long: { all: 'a', 'almost-all': 'A', directory: 'd', classify: 'F', 'human-readable': 'h', inode: 'i', 'numeric-uid-gid': 'n', reverse: 'r', recursive: 'R', 'color=': 'c', color: 'c', 'full-time': 'T', 'group-directories-first': 'D' },
      usageStatus: 2,
    });
    const long = has(p, 'l') || has(p, 'n') || has(p, 'g') || has(p, 'o') || has(p, 'T');
    const showAll = has(p, 'a');
    const almost = has(p, 'A');
    const names = idNames(ctx);
    const oneLine = has(p, '1') || (!has(p, 'C') && !ctx.tty);
    let status = 0;
    const ops = p.operands.length ? p.operands : ['.'];
    const files: LsEntry[] = [];
    const dirs: LsEntry[] = [];
    for (const o of ops) {
      let st: StatInfo;
      try {
        st = ctx.host.stat(ctx.pid, o, ctx.cwd, !long || o.endsWith('/'));
        if (st.type === 'link' && !long) st = ctx.host.stat(ctx.pid, o, ctx.cwd, true);
      } catch (e) {
        warn(ctx, `cannot access ${q(o)}: ${errText(e)}`);
        status = 2;
        continue;
      }
      // ls -l on a symlink to a directory lists the link; otherwise follow
      if (st.type === 'link') {
        const tst = statOrNull(ctx, o);
        if (tst?.type === 'dir' && !long) st = tst;
      }
      const e: LsEntry = { name: o, path: o, st };
      if (st.type === 'link') e.target = safeReadlink(ctx, o);
      if (st.type === 'dir' && !has(p, 'd')) dirs.push(e);
      else files.push(e);
    }
    const sortEntries = (list: LsEntry[]): LsEntry[] => {
      let r = [...list];
      if (has(p, 'U')) return r;
      r.sort((a, b) => cmpC(a.name, b.name));
      if (has(p, 't')) r.sort((a, b) => (b.st?.mtimeNs ?? 0) - (a.st?.mtimeNs ?? 0) || cmpC(a.name, b.name));
      if (has(p, 'S')) r.sort((a, b) => (b.st?.size ?? 0) - (a.st?.size ?? 0) || cmpC(a.name, b.name));
      if (has(p, 'r')) r = r.reverse();
      return r;
    };
    const classify = (e: LsEntry): string => {
      if (!has(p, 'F') && !has(p, 'p')) return '';
      const st = e.st;
      if (!st) return '';
      if (st.type === 'dir') return '/';
      if (!has(p, 'F')) return '';
      if (st.type === 'link') return '@';
      if (st.type === 'file' && st.perm & 0o111) return '*';
      return '';
    };
    const render = (list: LsEntry[], isDir: boolean): string => {
      if (list.length === 0) return isDir && long ? 'total 0\n' : '';
      if (long) {
        const rows = list.map((e) => {
          const st = e.st as StatInfo;
          const size = st.type === 'chr' || st.type === 'blk' ? `${st.rdev?.major ?? 0}, ${st.rdev?.minor ?? 0}` : has(p, 'h') ? humanSize(st.size) : String(st.size);
          const owner = has(p, 'n') ? String(st.uid) : names.user(st.uid);
          const group = has(p, 'n') ? String(st.gid) : names.group(st.gid);
          let name = e.name + classify(e);
          if (st.type === 'link') name = `${e.name} -> ${e.target ?? ''}`;
          return { ino: String(st.ino), mode: modeString(st), nlink: String(st.nlink), owner, group, size, time: lsTime(ctx, st.mtimeNs), name };
        });
        const w = (k: keyof (typeof rows)[0]): number => Math.max(...rows.map((r) => r[k].length));
        let o = '';
        if (isDir) {
          const total = list.reduce((s, e) => s + blocksOf(e.st), 0);
          o += `total ${has(p, 'h') ? humanSize(total * 1024) : total}\n`;
        }
        for (const r of rows) {
          let line = has(p, 'i') ? `${r.ino.padStart(w('ino'))} ` : '';
          line += `${r.mode} ${r.nlink.padStart(w('nlink'))} `;
          if (!has(p, 'g')) line += `${r.owner.padEnd(w('owner'))} `;
          if (!has(p, 'o') && !has(p, 'G')) line += `${r.group.padEnd(w('group'))} `;
          line += `${r.size.padStart(w('size'))} ${r.time} ${r.name}`;
          o += line + '\n';
        }
        return o;
      }
      const items = list.map((e) => (has(p, 'i') ? `${e.st?.ino ?? '?'} ` : '') + e.name + classify(e));
      if (oneLine) return items.map((s) => s + '\n').join('');
      return columns(items, Number(ctx.env.COLUMNS ?? 80) || 80);
    };
    let out = '';
    const fileList = sortEntries(files);
    out += render(fileList, false);
    const sortedDirs = sortEntries(dirs);
    const multi = ops.length > 1 || has(p, 'R');
    let firstBlock = fileList.length === 0;
    const listDir = (d: LsEntry, depthLeft: number): void => {
      let entries: DirEntryInfo[];
      try {
        entries = ctx.host.readdir(ctx.pid, d.path, ctx.cwd);
      } catch (e) {
        warn(ctx, `cannot open directory ${q(d.path)}: ${errText(e)}`);
        status = 2;
        return;
      }
      ctx.tick(1 + Math.floor(entries.length / 64));
      const list: LsEntry[] = [];
      const names2 = entries.map((x) => x.name);
      if (showAll) names2.push('.', '..');
      for (const n of names2) {
        if (n.startsWith('.') && !showAll && !almost) continue;
        const path = joinPath(d.path, n);
        const e: LsEntry = { name: n, path, st: statOrNull(ctx, path, false) };
        if (e.st?.type === 'link') e.target = safeReadlink(ctx, path);
        list.push(e);
      }
      const sorted = sortEntries(list);
      if (multi) out += `${firstBlock ? '' : '\n'}${d.path}:\n`;
      firstBlock = false;
      out += render(sorted, true);
      if (depthLeft > 0 && has(p, 'R')) {
        for (const e of sorted) {
          if (e.name === '.' || e.name === '..') continue;
          if (e.st?.type === 'dir') listDir(e, depthLeft - 1);
        }
      }
    };
    for (const d of sortedDirs) listDir(d, 64);
    write(ctx, out);
    return status;
  });

/** GNU ls -C: fill columns top to bottom, fewest rows that fit the width. */
export function columns(items: string[], width: number): string {
  if (items.length === 0) return '';
  const lens = items.map((s) => s.length);
  for (let cols = Math.min(items.length, Math.max(1, Math.floor(width / 3))); cols >= 1; cols--) {
    const rows = Math.ceil(items.length / cols);
    const realCols = Math.ceil(items.length / rows);
    const colW: number[] = [];
    for (let c = 0; c < realCols; c++) {
      let m = 0;
      for (let r = 0; r < rows; r++) {
        const i = c * rows + r;
        if (i < items.length) m = Math.max(m, lens[i]);
      }
      colW.push(m + (c < realCols - 1 ? 2 : 0));
    }
    const total = colW.reduce((a, b) => a + b, 0);
    if (total <= width || cols === 1) {
      let o = '';
      for (let r = 0; r < rows; r++) {
        let line = '';
        let pos = 0;
        let start = 0;
        for (let c = 0; c < realCols; c++) {
          const i = c * rows + r;
          if (i >= items.length) continue;
          // GNU ls indents with tabs (tab size 8) where it can
          let from = pos;
          while (from < start) {
            if (Math.floor(start / 8) > Math.floor((from + 1) / 8)) {
              line += '\t';
              from += 8 - (from % 8);
            } else {
              line += ' ';
              from++;
            }
          }
          line += items[i];
          pos = start + lens[i];
          start += colW[c];
        }
        o += line + '\n';
      }
      return o;
    }
  }
  return items.join('\n') + '\n';
}

function safeReadlink(ctx: ToolCtx, path: string): string {
  try {
    return ctx.host.readlink(ctx.pid, path, ctx.cwd);
  } catch {
    return '';
  }
}

// ------------------------------------------------------------------ stat

function fmtTime(ctx: ToolCtx, ns: number): string {
  const ms = wallMs(ctx, ns);
  const d = new Date(ms);
  const frac = String(((ns % 1e9) + 1e9) % 1e9).padStart(9, '0');
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${frac} +0000`;
}

function typeName(st: StatInfo): string {
  switch (st.type) {
    case 'file':
      return st.size === 0 ? 'regular empty file' : 'regular file';
    case 'dir':
      return 'directory';
    case 'link':
      return 'symbolic link';
    case 'chr':
      return 'character special file';
    case 'blk':
      return 'block special file';
  }
}

const stat = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'c:fLt', long: { 'format=': 'c', 'printf=': 'P', dereference: 'L', terse: 't', 'file-system': 'f' } });
    if (p.operands.length === 0) {
      warn(ctx, "missing operand\nTry 'stat --help' for more information.");
      return 1;
    }
    const names = idNames(ctx);
    let status = 0;
    for (const f of p.operands) {
      let st: StatInfo;
      try {
        st = ctx.host.stat(ctx.pid, f, ctx.cwd, has(p, 'L'));
      } catch (e) {
        warn(ctx, `cannot statx ${q(f)}: ${errText(e)}`);
        status = 1;
        continue;
      }
      const fmt = last(p, 'c') ?? last(p, 'P');
      if (fmt !== undefined) {
        write(ctx, statFormat(ctx, fmt, f, st, names) + (last(p, 'P') !== undefined ? '' : '\n'));
        continue;
      }
      const blocks = blocksOf(st) * 2;
      const perm = st.perm.toString(8).padStart(4, '0');
      const nameLine = st.type === 'link' ? `${f} -> ${safeReadlink(ctx, f)}` : f;
      const dev = st.type === 'chr' || st.type === 'blk' ? `Device: 0,${st.dev}\tInode: ${String(st.ino).padEnd(11)} Links: ${String(st.nlink).padEnd(5)} Device type: ${st.rdev?.major},${st.rdev?.minor}` : `Device: 0,${st.dev}\tInode: ${String(st.ino).padEnd(11)} Links: ${st.nlink}`;
      const t = fmtTime(ctx, st.mtimeNs);
      write(
        ctx,
        `  File: ${nameLine}\n` +
          `  Size: ${String(st.size).padEnd(10)}\tBlocks: ${String(blocks).padEnd(10)} IO Block: 4096   ${typeName(st)}\n` +
          `${dev}\n` +
          `Access: (${perm}/${modeString(st)})  Uid: (${String(st.uid).padStart(5)}/${names.user(st.uid).padStart(8)})   Gid: (${String(st.gid).padStart(5)}/${names.group(st.gid).padStart(8)})\n` +
          `Access: ${t}\nModify: ${t}\nChange: ${t}\n Birth: -\n`,
      );
    }
    return status;
  });

function statFormat(ctx: ToolCtx, fmt: string, name: string, st: StatInfo, names: ReturnType<typeof idNames>): string {
  return fmt.replace(/%(-?\d*)([a-zA-Z%])/g, (m, w: string, c: string) => {
    let v: string;
    switch (c) {
      case '%':
        return '%';
      case 'n':
        v = name;
        break;
      case 'N':
        v = st.type === 'link' ? `'${name}' -> '${safeReadlink(ctx, name)}'` : `'${name}'`;
        break;
      case 's':
        v = String(st.size);
        break;
      case 'a':
        v = st.perm.toString(8);
        break;
      case 'A':
        v = modeString(st);
        break;
      case 'f':
        v = (({ file: 0o100000, dir: 0o40000, link: 0o120000, chr: 0o20000, blk: 0o60000 })[st.type] | st.perm).toString(16);
        break;
      case 'F':
        v = typeName(st);
        break;
      case 'u':
        v = String(st.uid);
        break;
      case 'U':
        v = names.user(st.uid);
        break;
      case 'g':
        v = String(st.gid);
        break;
      case 'G':
        v = names.group(st.gid);
        break;
      case 'i':
        v = String(st.ino);
        break;
      case 'h':
        v = String(st.nlink);
        break;
      case 'b':
        v = String(blocksOf(st) * 2);
        break;
      case 'B':
        v = '512';
        break;
      case 'o':
        v = '4096';
        break;
      case 'd':
        v = String(st.dev);
        break;
      case 'D':
        v = st.dev.toString(16);
        break;
      case 'y':
      case 'x':
      case 'z':
      case 'w':
        v = c === 'w' ? '-' : fmtTime(ctx, st.mtimeNs);
        break;
      case 'Y':
      case 'X':
      case 'Z':
      case 'W':
        v = c === 'W' ? '0' : String(Math.floor(wallMs(ctx, st.mtimeNs) / 1000));
        break;
      case 't':
        v = (st.rdev?.major ?? 0).toString(16);
        break;
      case 'T':
        v = (st.rdev?.minor ?? 0).toString(16);
        break;
      case 'm':
        v = '/';
        break;
      default:
        return m;
    }
    const width = Number(w);
    if (!w) return v;
    return width < 0 ? v.padEnd(-width) : v.padStart(width);
  });
}

// ------------------------------------------------------------------ touch mkdir rmdir rm

const touch = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'acmd:r:t:h', long: { 'no-create': 'c', 'date=': 'd', 'reference=': 'r' } });
    if (p.operands.length === 0) {
      warn(ctx, "missing file operand\nTry 'touch --help' for more information.");
      return 1;
    }
    let status = 0;
    for (const f of p.operands) {
      try {
        if (statOrNull(ctx, f)) ctx.host.touch(ctx.pid, f, ctx.cwd);
        else if (!has(p, 'c')) ctx.host.writeFile(ctx.pid, f, ctx.cwd, '', { append: true });
      } catch (e) {
        warn(ctx, `cannot touch ${q(f)}: ${errText(e)}`);
        status = 1;
      }
    }
    return status;
  });

function parseMode(s: string | undefined, base: number): number | null {
  if (s === undefined) return base;
  if (/^[0-7]+$/.test(s)) return parseInt(s, 8);
  let mode = base;
  for (const clause of s.split(',')) {
    const m = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(clause);
    if (!m) return null;
    const who = m[1] || 'a';
    let bits = 0;
    for (const c of m[3]) {
      const v = c === 'r' ? 4 : c === 'w' ? 2 : c === 'x' || c === 'X' ? 1 : 0;
      if (who.includes('u') || who.includes('a')) bits |= v << 6;
      if (who.includes('g') || who.includes('a')) bits |= v << 3;
      if (who.includes('o') || who.includes('a')) bits |= v;
    }
    if (m[2] === '+') mode |= bits;
    else if (m[2] === '-') mode &= ~bits;
    else mode = bits;
  }
  return mode;
}

const mkdir = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'pm:v', long: { parents: 'p', 'mode=': 'm', verbose: 'v' } });
    if (p.operands.length === 0) {
      warn(ctx, "missing operand\nTry 'mkdir --help' for more information.");
      return 1;
    }
    const mode = parseMode(last(p, 'm'), 0o755);
    if (mode === null) {
      warn(ctx, `invalid mode ${q(last(p, 'm') ?? '')}`);
      return 1;
    }
    let status = 0;
    for (const d of p.operands) {
      if (has(p, 'p')) {
        const abs = d.startsWith('/');
        const parts = d.split('/').filter(Boolean);
        let cur = abs ? '' : '';
        for (let i = 0; i < parts.length; i++) {
          cur = i === 0 ? (abs ? '/' + parts[0] : parts[0]) : `${cur}/${parts[i]}`;
          const st = statOrNull(ctx, cur);
          if (st) {
            if (st.type !== 'dir') {
              warn(ctx, `cannot create directory ${q(d)}: Not a directory`);
              status = 1;
              break;
            }
            continue;
          }
          try {
            ctx.host.mkdir(ctx.pid, cur, ctx.cwd, mode);
            if (has(p, 'v')) write(ctx, `mkdir: created directory ${q(cur)}\n`);
          } catch (e) {
            warn(ctx, `cannot create directory ${q(cur)}: ${errText(e)}`);
            status = 1;
            break;
          }
        }
        continue;
      }
      try {
        ctx.host.mkdir(ctx.pid, d, ctx.cwd, mode);
        if (has(p, 'v')) write(ctx, `mkdir: created directory ${q(d)}\n`);
      } catch (e) {
        warn(ctx, `cannot create directory ${q(d)}: ${errText(e)}`);
        status = 1;
      }
    }
    return status;
  });

const rmdir = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'pv', long: { parents: 'p', verbose: 'v', 'ignore-fail-on-non-empty': 'I' } });
    if (p.operands.length === 0) {
      warn(ctx, "missing operand\nTry 'rmdir --help' for more information.");
      return 1;
    }
    let status = 0;
    for (const d of p.operands) {
      let cur = d;
      for (;;) {
        try {
          ctx.host.rmdir(ctx.pid, cur, ctx.cwd);
          if (has(p, 'v')) write(ctx, `rmdir: removing directory, ${q(cur)}\n`);
        } catch (e) {
          if (!(has(p, 'I') && e instanceof KernelError && e.code === 'ENOTEMPTY')) {
            warn(ctx, `failed to remove ${q(cur)}: ${errText(e)}`);
            status = 1;
          }
          break;
        }
        if (!has(p, 'p')) break;
        const parent = dirname(cur);
        if (parent === cur || parent === '.' || parent === '/') break;
        cur = parent;
      }
    }
    return status;
  });

const rm = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'firRdv', long: { force: 'f', interactive: 'i', recursive: 'r', dir: 'd', verbose: 'v', 'no-preserve-root': 'N', 'preserve-root': 'P' } });
    const force = has(p, 'f');
    const recursive = has(p, 'r') || has(p, 'R');
    if (p.operands.length === 0) {
      if (force) return 0;
      warn(ctx, "missing operand\nTry 'rm --help' for more information.");
      return 1;
    }
    let status = 0;
    const verbose = has(p, 'v');
    const removeTree = (path: string): boolean => {
      ctx.tick();
      const st = statOrNull(ctx, path, false);
      if (!st) {
        if (!force) {
          warn(ctx, `cannot remove ${q(path)}: No such file or directory`);
          return false;
        }
        return true;
      }
      if (st.type === 'dir') {
        if (!recursive) {
          if (has(p, 'd')) {
            try {
              ctx.host.rmdir(ctx.pid, path, ctx.cwd);
              if (verbose) write(ctx, `removed directory ${q(path)}\n`);
              return true;
            } catch (e) {
              warn(ctx, `cannot remove ${q(path)}: ${errText(e)}`);
              return false;
            }
          }
          warn(ctx, `cannot remove ${q(path)}: Is a directory`);
          return false;
        }
        let ok = true;
        let entries: DirEntryInfo[] = [];
        try {
          entries = ctx.host.readdir(ctx.pid, path, ctx.cwd);
        } catch (e) {
          warn(ctx, `cannot remove ${q(path)}: ${errText(e)}`);
          return false;
        }
        for (const e of entries) if (!removeTree(joinPath(path, e.name))) ok = false;
        if (!ok) return false;
        try {
          ctx.host.rmdir(ctx.pid, path, ctx.cwd);
          if (verbose) write(ctx, `removed directory ${q(path)}\n`);
        } catch (e) {
          warn(ctx, `cannot remove ${q(path)}: ${errText(e)}`);
          return false;
        }
        return true;
      }
      try {
        ctx.host.unlink(ctx.pid, path, ctx.cwd);
        if (verbose) write(ctx, `removed ${q(path)}\n`);
        return true;
      } catch (e) {
        warn(ctx, `cannot remove ${q(path)}: ${errText(e)}`);
        return false;
      }
    };
    for (const f of p.operands) {
      const b = basename(f);
      if (recursive && (f.replace(/\/+/g, '/') === '/' || ctx.host.realpath(ctx.pid, '.', ctx.cwd) === '/' && (f === '.' || f === './'))) {
        if (!has(p, 'N')) {
          warn(ctx, `it is dangerous to operate recursively on ${q('/')}\nrm: use --no-preserve-root to override this failsafe`);
          status = 1;
          continue;
        }
      }
      if (b === '.' || b === '..') {
        warn(ctx, `refusing to remove '.' or '..' directory: skipping ${q(f)}`);
        status = 1;
        continue;
      }
      if (!removeTree(f)) status = 1;
    }
    return status;
  });

// ------------------------------------------------------------------ cp mv ln

function copyTree(ctx: ToolCtx, src: string, dst: string, recursive: boolean, prog: string): boolean {
  ctx.tick();
  const st = statOrNull(ctx, src);
  if (!st) {
    warn(ctx, `cannot stat ${q(src)}: No such file or directory`);
    return false;
  }
  if (st.type === 'dir') {
    if (!recursive) {
      warn(ctx, `-r not specified; omitting directory ${q(src)}`);
      return false;
    }
    const dst0 = statOrNull(ctx, dst);
    if (!dst0) {
      try {
        ctx.host.mkdir(ctx.pid, dst, ctx.cwd, st.perm);
      } catch (e) {
        warn(ctx, `cannot create directory ${q(dst)}: ${errText(e)}`);
        return false;
      }
    } else if (dst0.type !== 'dir') {
      warn(ctx, `cannot overwrite non-directory ${q(dst)} with directory ${q(src)}`);
      return false;
    }
    const srcReal = ctx.host.realpath(ctx.pid, src, ctx.cwd);
    const dstReal = ctx.host.realpath(ctx.pid, dst, ctx.cwd);
    if (dstReal === srcReal || dstReal.startsWith(srcReal + '/')) {
      warn(ctx, `cannot copy a directory, ${q(src)}, into itself, ${q(dst)}`);
      return false;
    }
    let ok = true;
    for (const e of ctx.host.readdir(ctx.pid, src, ctx.cwd)) if (!copyTree(ctx, joinPath(src, e.name), joinPath(dst, e.name), recursive, prog)) ok = false;
    return ok;
  }
  try {
    const dstSt = statOrNull(ctx, dst);
    if (dstSt?.type === 'dir') {
      warn(ctx, `cannot overwrite directory ${q(dst)} with non-directory`);
      return false;
    }
    if (dstSt && dstSt.ino === st.ino && dstSt.dev === st.dev) {
      warn(ctx, `${q(src)} and ${q(dst)} are the same file`);
      return false;
    }
    const data = ctx.host.readFile(ctx.pid, src, ctx.cwd);
    ctx.host.writeFile(ctx.pid, dst, ctx.cwd, data, { mode: st.perm });
    return true;
  } catch (e) {
    warn(ctx, `cannot create regular file ${q(dst)}: ${errText(e)}`);
    return false;
  }
}

function targetOf(ctx: ToolCtx, ops: string[], noTarget: boolean): { sources: string[]; dest: string; intoDir: boolean } | string {
  if (ops.length === 0) return 'missing file operand';
  if (ops.length === 1) return `missing destination file operand after ${q(ops[0])}`;
  const dest = ops[ops.length - 1];
  const sources = ops.slice(0, -1);
  const st = statOrNull(ctx, dest);
  const intoDir = !noTarget && st?.type === 'dir';
  if (sources.length > 1 && !intoDir) return `target ${q(dest)} is not a directory`;
  return { sources, dest, intoDir };
}

const cp = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'aRrfipvTdPLnu', long: { recursive: 'r', force: 'f', verbose: 'v', archive: 'a', 'no-target-directory': 'T', 'no-clobber': 'n' } });
    const t = targetOf(ctx, p.operands, has(p, 'T'));
    if (typeof t === 'string') {
      warn(ctx, `${t}\nTry 'cp --help' for more information.`);
      return 1;
    }
    const recursive = has(p, 'r') || has(p, 'R') || has(p, 'a');
    let status = 0;
    for (const s of t.sources) {
      const dst = t.intoDir ? joinPath(t.dest, basename(s)) : t.dest;
      if (has(p, 'n') && statOrNull(ctx, dst)) continue;
      if (!copyTree(ctx, s, dst, recursive, 'cp')) status = 1;
      else if (has(p, 'v')) write(ctx, `${q(s)} -> ${q(dst)}\n`);
    }
    return status;
  });

const mv = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'fivnTu', long: { force: 'f', verbose: 'v', 'no-clobber': 'n', 'no-target-directory': 'T' } });
    const t = targetOf(ctx, p.operands, has(p, 'T'));
    if (typeof t === 'string') {
      warn(ctx, `${t}\nTry 'mv --help' for more information.`);
      return 1;
    }
    let status = 0;
    for (const s of t.sources) {
      const dst = t.intoDir ? joinPath(t.dest, basename(s)) : t.dest;
      const st = statOrNull(ctx, s, false);
      if (!st) {
        warn(ctx, `cannot stat ${q(s)}: No such file or directory`);
        status = 1;
        continue;
      }
      if (has(p, 'n') && statOrNull(ctx, dst)) continue;
      const dstSt = statOrNull(ctx, dst);
      if (dstSt?.type === 'dir' && st.type !== 'dir') {
        warn(ctx, `cannot overwrite directory ${q(dst)} with non-directory`);
        status = 1;
        continue;
      }
      if (st.type === 'dir') {
        const sr = ctx.host.realpath(ctx.pid, s, ctx.cwd);
        const dr = dstSt ? ctx.host.realpath(ctx.pid, dst, ctx.cwd) : joinPath(ctx.host.realpath(ctx.pid, dirname(dst), ctx.cwd), basename(dst));
        if (dr.startsWith(sr + '/')) {
          warn(ctx, `cannot move ${q(s)} to a subdirectory of itself, ${q(dst)}`);
          status = 1;
          continue;
        }
      }
      try {
        ctx.host.rename(ctx.pid, s, dst, ctx.cwd);
      } catch (e) {
        if (e instanceof KernelError && e.code === 'EXDEV') {
          if (!copyTree(ctx, s, dst, true, 'mv')) {
            status = 1;
            continue;
          }
          removeAll(ctx, s);
        } else {
          warn(ctx, `cannot move ${q(s)} to ${q(dst)}: ${errText(e)}`);
          status = 1;
          continue;
        }
      }
      if (has(p, 'v')) write(ctx, `renamed ${q(s)} -> ${q(dst)}\n`);
    }
    return status;
  });

function removeAll(ctx: ToolCtx, path: string): void {
  const st = statOrNull(ctx, path, false);
  if (!st) return;
  if (st.type === 'dir') {
    for (const e of ctx.host.readdir(ctx.pid, path, ctx.cwd)) removeAll(ctx, joinPath(path, e.name));
    ctx.host.rmdir(ctx.pid, path, ctx.cwd);
  } else ctx.host.unlink(ctx.pid, path, ctx.cwd);
}

const ln = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'sfnvTrL', long: { symbolic: 's', force: 'f', 'no-dereference': 'n', verbose: 'v', 'no-target-directory': 'T', relative: 'r' } });
    let ops = p.operands;
    if (ops.length === 1) ops = [ops[0], basename(ops[0])];
    const t = targetOf(ctx, ops, has(p, 'T') || has(p, 'n'));
    if (typeof t === 'string') {
      warn(ctx, `${t}\nTry 'ln --help' for more information.`);
      return 1;
    }
    let status = 0;
    for (const s of t.sources) {
      const dst = t.intoDir ? joinPath(t.dest, basename(s)) : t.dest;
      if (!has(p, 's')) {
        const st = statOrNull(ctx, s);
        if (!st) warn(ctx, `failed to access ${q(s)}: No such file or directory`);
        else warn(ctx, `failed to create hard link ${q(dst)} => ${q(s)}: Operation not permitted`);
        status = 1;
        continue;
      }
      try {
        if (has(p, 'f') && statOrNull(ctx, dst, false)) ctx.host.unlink(ctx.pid, dst, ctx.cwd);
        ctx.host.symlink(ctx.pid, s, dst, ctx.cwd);
        if (has(p, 'v')) write(ctx, `${q(dst)} -> ${q(s)}\n`);
      } catch (e) {
        warn(ctx, `failed to create symbolic link ${q(dst)}: ${errText(e)}`);
        status = 1;
      }
    }
    return status;
  });

const readlink = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'femnqsvz', long: { canonicalize: 'f', 'canonicalize-existing': 'e', 'canonicalize-missing': 'm', 'no-newline': 'n', quiet: 'q', silent: 's', verbose: 'v' } });
    if (p.operands.length === 0) {
      warn(ctx, "missing operand\nTry 'readlink --help' for more information.");
      return 1;
    }
    let status = 0;
    const canon = has(p, 'f') || has(p, 'e') || has(p, 'm');
    for (const f of p.operands) {
      try {
        const r = canon ? canonicalize(ctx, f, has(p, 'e') ? 'e' : has(p, 'm') ? 'm' : 'f') : ctx.host.readlink(ctx.pid, f, ctx.cwd);
        write(ctx, r + (has(p, 'n') && p.operands.length === 1 ? '' : '\n'));
      } catch (e) {
        if (has(p, 'v')) warn(ctx, `${f}: ${errText(e)}`);
        status = 1;
      }
    }
    return status;
  });

/** realpath -f/-e/-m semantics */
function canonicalize(ctx: ToolCtx, path: string, mode: 'f' | 'e' | 'm'): string {
  try {
    return ctx.host.realpath(ctx.pid, path, ctx.cwd);
  } catch (e) {
    if (mode === 'e') throw e;
    const d = dirname(path);
    const b = basename(path);
    if (mode === 'f') {
      const parent = ctx.host.realpath(ctx.pid, d, ctx.cwd);
      return parent === '/' ? `/${b}` : `${parent}/${b}`;
    }
    const parent = d === path ? '/' : canonicalize(ctx, d, 'm');
    return parent === '/' ? `/${b}` : `${parent}/${b}`;
  }
}

const realpath = (ctx: ToolCtx): number =>
  withUsage(ctx, () => {
    const p = parseArgs(ctx, { short: 'emqsLPz', long: { 'canonicalize-existing': 'e', 'canonicalize-missing': 'm', quiet: 'q' } });
    if (p.operands.length === 0) {
      warn(ctx, "missing operand\nTry 'realpath --help' for more information.");
      return 1;
    }
    let status = 0;
    for (const f of p.operands) {
      try {
        write(ctx, canonicalize(ctx, f, has(p, 'm') ? 'm' : 'e') + '\n');
      } catch (e) {
        if (!has(p, 'q')) warn(ctx, `${f}: ${errText(e)}`);
        status = 1;
      }
    }
    return status;
  });

const pwd = (ctx: ToolCtx): number => {
  if (ctx.argv.includes('-L') && ctx.env.PWD) {
    write(ctx, ctx.env.PWD + '\n');
    return 0;
  }
  write(ctx, ctx.host.realpath(ctx.pid, ctx.cwd, '/') + '\n');
  return 0;
};

// ------------------------------------------------------------------ find

type FindExpr =
  | { k: 'and' | 'or'; a: FindExpr; b: FindExpr }
  | { k: 'not'; a: FindExpr }
  | { k: 'name' | 'iname' | 'path' | 'ipath'; pat: string }
  | { k: 'type'; t: string }
  | { k: 'true' | 'false' | 'print' | 'print0' | 'empty' | 'prune' | 'quit' | 'delete' }
  | { k: 'size'; cmp: number; n: number; unit: number }
  | { k: 'perm'; mode: number; how: '' | '-' | '/' }
  | { k: 'user' | 'group'; id: number }
  | { k: 'exec'; argv: string[]; plus: boolean }
  | { k: 'newer'; ns: number }
  | { k: 'mmin' | 'mtime'; cmp: number; n: number }
  | { k: 'links'; cmp: number; n: number }
  | { k: 'printf'; fmt: string };

const find = function* (ctx: ToolCtx): Co<number> {
  const args = ctx.argv.slice(1);
  const paths: string[] = [];
  let i = 0;
  while (i < args.length && !args[i].startsWith('-') && args[i] !== '!' && args[i] !== '(') paths.push(args[i++]);
  if (paths.length === 0) paths.push('.');
  let maxdepth = Infinity;
  let mindepth = 0;
  let hasAction = false;
  const names = idNames(ctx);
  const rest = args.slice(i);
  let k = 0;
  const fail = (msg: string): never => {
    throw new UsageError(`find: ${msg}`, 1);
  };
  const cmpNum = (s: string): { cmp: number; n: number; raw: string } => {
    const cmp = s.startsWith('+') ? 1 : s.startsWith('-') ? -1 : 0;
    const raw = s.replace(/^[-+]/, '');
    return { cmp, n: Number.parseFloat(raw), raw };
  };
  const primary = (): FindExpr => {
    const t = rest[k++];
    const arg = (): string => {
      const v = rest[k++];
      if (v === undefined) fail(`missing argument to \`${t}'`);
      return v as string;
    };
    switch (t) {
      case '(': {
        const e = orExpr();
        if (rest[k++] !== ')') fail("invalid expression; I was expecting to find a ')' somewhere but did not see one.");
        return e;
      }
      case '!':
      case '-not':
        return { k: 'not', a: primary() };
      case '-name':
      case '-iname':
      case '-path':
      case '-ipath':
      case '-wholename':
        return { k: t === '-wholename' ? 'path' : (t.slice(1) as 'name'), pat: arg() };
      case '-type': {
        const v = arg();
        if (!/^[fdlcbps](,[fdlcbps])*$/.test(v)) fail(`Unknown argument to -type: ${v}`);
        return { k: 'type', t: v };
      }
      case '-maxdepth':
      case '-mindepth': {
        const v = arg();
        if (!/^\d+$/.test(v)) fail(`Expected a positive decimal integer argument to ${t}, but got ${q(v)}`);
        if (t === '-maxdepth') maxdepth = Number(v);
        else mindepth = Number(v);
        return { k: 'true' };
      }
      case '-print':
      case '-print0':
      case '-delete':
        hasAction = true;
        return { k: t.slice(1) as 'print' };
      case '-printf':
        hasAction = true;
        return { k: 'printf', fmt: arg() };
      case '-prune':
      case '-quit':
      case '-true':
      case '-false':
      case '-empty':
        return { k: t.slice(1) as 'prune' };
      case '-size': {
        const v = arg();
        const m = /^([-+]?)(\d+)([bcwkMG]?)$/.exec(v);
        if (!m) fail(`invalid -size type ${q(v)}`);
        const unit = ({ '': 512, b: 512, c: 1, w: 2, k: 1024, M: 1048576, G: 1073741824 } as Record<string, number>)[(m as RegExpExecArray)[3]];
        return { k: 'size', cmp: m![1] === '+' ? 1 : m![1] === '-' ? -1 : 0, n: Number(m![2]), unit };
      }
      case '-perm': {
        const v = arg();
        const how = v.startsWith('-') ? '-' : v.startsWith('/') ? '/' : '';
        const mode = parseMode(v.replace(/^[-/]/, ''), 0);
        if (mode === null) fail(`invalid mode ${q(v)}`);
        return { k: 'perm', mode: mode as number, how };
      }
      case '-user':
      case '-group': {
        const v = arg();
        const id = /^\d+$/.test(v) ? Number(v) : t === '-user' ? names.userId(v) : names.groupId(v);
        if (id === undefined) fail(`${t === '-user' ? '' : 'group '}${q(v)} is not the name of a known ${t === '-user' ? 'user' : 'group'}`);
        return { k: t.slice(1) as 'user', id: id as number };
      }
      case '-newer': {
        const v = arg();
        const st = statOrNull(ctx, v);
        if (!st) fail(`${q(v)}: No such file or directory`);
        return { k: 'newer', ns: st!.mtimeNs };
      }
      case '-mmin':
      case '-mtime':
      case '-links': {
        const c = cmpNum(arg());
        return { k: t.slice(1) as 'mmin', cmp: c.cmp, n: c.n };
      }
      case '-exec':
      case '-ok': {
        hasAction = true;
        const argv: string[] = [];
        while (k < rest.length && rest[k] !== ';' && !(rest[k] === '+' && rest[k - 1] === '{}')) argv.push(rest[k++]);
        if (k >= rest.length) fail(`missing argument to \`${t}'`);
        const plus = rest[k] === '+';
        k++;
        return { k: 'exec', argv, plus };
      }
      case undefined:
        return fail('invalid expression');
      default:
        if (t.startsWith('-')) fail(`unknown predicate \`${t}'`);
        return fail(`paths must precede expression: \`${t}'`);
    }
  };
  const andExpr = (): FindExpr => {
    let a = primary();
    while (k < rest.length && rest[k] !== '-o' && rest[k] !== '-or' && rest[k] !== ')' && rest[k] !== ',') {
      if (rest[k] === '-a' || rest[k] === '-and') k++;
      a = { k: 'and', a, b: primary() };
    }
    return a;
  };
  const orExpr = (): FindExpr => {
    let a = andExpr();
    while (rest[k] === '-o' || rest[k] === '-or') {
      k++;
      a = { k: 'or', a, b: andExpr() };
    }
    return a;
  };
  let expr: FindExpr;
  try {
    expr = rest.length ? orExpr() : { k: 'true' };
    if (k < rest.length) fail(`paths must precede expression: \`${rest[k]}'`);
  } catch (e) {
    if (e instanceof UsageError) {
      ctx.stderr.write(e.message + '\n');
      return 1;
    }
    throw e;
  }
  if (!hasAction) expr = { k: 'and', a: expr, b: { k: 'print' } };
  let status = 0;
  let quit = false;
  const nowNs = ctx.host.now();
  const execs: { argv: string[]; files: string[] }[] = [];
  const self = { prune: false };
  const pending: string[][] = [];
  const evalE = (e: FindExpr, path: string, name: string, st: StatInfo, depth: number): boolean => {
    switch (e.k) {
      case 'and':
        return evalE(e.a, path, name, st, depth) && evalE(e.b, path, name, st, depth);
      case 'or':
        return evalE(e.a, path, name, st, depth) || evalE(e.b, path, name, st, depth);
      case 'not':
        return !evalE(e.a, path, name, st, depth);
      case 'true':
        return true;
      case 'false':
        return false;
      case 'name':
        return compilePattern(e.pat)(name);
      case 'iname':
        return compilePattern(e.pat.toLowerCase())(name.toLowerCase());
      case 'path':
        return compilePattern(e.pat)(path);
      case 'ipath':
        return compilePattern(e.pat.toLowerCase())(path.toLowerCase());
      case 'type': {
        const t = { file: 'f', dir: 'd', link: 'l', chr: 'c', blk: 'b' }[st.type];
        return e.t.split(',').includes(t);
      }
      case 'empty':
        if (st.type === 'dir') {
          try {
            return ctx.host.readdir(ctx.pid, path, ctx.cwd).length === 0;
          } catch {
            return false;
          }
        }
        return st.type === 'file' && st.size === 0;
      case 'size': {
        const units = Math.ceil(st.size / e.unit);
        return e.cmp > 0 ? units > e.n : e.cmp < 0 ? units < e.n : units === e.n;
      }
      case 'perm':
        if (e.how === '-') return (st.perm & e.mode) === e.mode;
        if (e.how === '/') return e.mode === 0 || (st.perm & e.mode) !== 0;
        return (st.perm & 0o7777) === e.mode;
      case 'user':
        return st.uid === e.id;
      case 'group':
        return st.gid === e.id;
      case 'newer':
        return st.mtimeNs > e.ns;
      case 'mmin':
      case 'mtime': {
        const unit = e.k === 'mmin' ? 60e9 : 86400e9;
        const age = Math.floor((nowNs - st.mtimeNs) / unit);
        return e.cmp > 0 ? age > e.n : e.cmp < 0 ? age < e.n : age === e.n;
      }
      case 'links':
        return e.cmp > 0 ? st.nlink > e.n : e.cmp < 0 ? st.nlink < e.n : st.nlink === e.n;
      case 'print':
        write(ctx, path + '\n');
        return true;
      case 'print0':
        write(ctx, path + '\0');
        return true;
      case 'printf':
        write(ctx, e.fmt.replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/%([pfhdsmu%])/g, (_, c: string) => {
          if (c === 'p') return path;
          if (c === 'f') return name;
          if (c === 'h') return dirname(path);
          if (c === 'd') return String(depth);
          if (c === 's') return String(st.size);
          if (c === 'm') return st.perm.toString(8);
          if (c === 'u') return names.user(st.uid);
          return '%';
        }));
        return true;
      case 'prune':
        self.prune = true;
        return true;
      case 'quit':
        quit = true;
        return true;
      case 'delete':
        try {
          if (st.type === 'dir') ctx.host.rmdir(ctx.pid, path, ctx.cwd);
          else ctx.host.unlink(ctx.pid, path, ctx.cwd);
        } catch (err) {
          warn(ctx, `cannot delete ${q(path)}: ${errText(err)}`);
          status = 1;
        }
        return true;
      case 'exec': {
        if (e.plus) {
          let ex = execs.find((x) => x.argv === e.argv);
          if (!ex) {
            ex = { argv: e.argv, files: [] };
            execs.push(ex);
          }
          ex.files.push(path);
          return true;
        }
        pending.push(e.argv.map((a) => a.replace(/\{\}/g, path)));
        return true;
      }
    }
  };
  const depthFirst = rest.includes('-delete');
  for (const root of paths) {
    const rst = statOrNull(ctx, root, false);
    if (!rst) {
      warn(ctx, `${q(root)}: No such file or directory`);
      status = 1;
      continue;
    }
    const stack: { path: string; st: StatInfo; depth: number }[] = [{ path: root, st: rst, depth: 0 }];
    const visit: { path: string; st: StatInfo; depth: number }[] = [];
    // pre-order traversal in directory order (readdir order, like GNU find)
    const walk = function* (path: string, st: StatInfo, depth: number): Co<void> {
      if (quit) return;
      ctx.tick();
      self.prune = false;
      const name = depth === 0 ? path : basename(path);
      if (!depthFirst && depth >= mindepth) {
        evalE(expr, path, name, st, depth);
        while (pending.length) yield* runExec(ctx, pending.shift() as string[], (s) => (status = s === 0 ? status : 1));
      }
      const pruned = self.prune;
      if (st.type === 'dir' && depth < maxdepth && !pruned) {
        let entries: DirEntryInfo[] = [];
        try {
          entries = ctx.host.readdir(ctx.pid, path, ctx.cwd);
        } catch (err) {
          warn(ctx, `${q(path)}: ${errText(err)}`);
          status = 1;
        }
        for (const en of entries) {
          const cp2 = path.endsWith('/') ? path + en.name : `${path}/${en.name}`;
          const cst = statOrNull(ctx, cp2, false);
          if (cst) yield* walk(cp2, cst, depth + 1);
        }
      }
      if (depthFirst && depth >= mindepth) evalE(expr, path, name, st, depth);
    };
    void stack;
    void visit;
    yield* walk(root, rst, 0);
  }
  for (const ex of execs) {
    const argv: string[] = [];
    for (const a of ex.argv) {
      if (a === '{}') argv.push(...ex.files);
      else argv.push(a);
    }
    yield* runExec(ctx, argv, (s) => (status = s === 0 ? status : 1));
  }
  return status;
};

function* runExec(ctx: ToolCtx, argv: string[], done: (s: number) => void): Co<void> {
  const s = yield* ctx.run(argv, { stdin: '' });
  done(s);
}

export const FILE_TOOLS: ToolSpec[] = [
  { name: 'ls', run: ls },
  { name: 'stat', run: stat },
  { name: 'touch', run: touch },
  { name: 'mkdir', run: mkdir },
  { name: 'rmdir', run: rmdir },
  { name: 'rm', run: rm },
  { name: 'cp', run: cp },
  { name: 'mv', run: mv },
  { name: 'ln', run: ln },
  { name: 'readlink', run: readlink },
  { name: 'realpath', run: realpath },
  { name: 'pwd', run: pwd },
  { name: 'find', run: find },
];
