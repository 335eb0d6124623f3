import { KernelError } from '../../../errors';
import { parseSignal } from '../../../shell/builtins';
import type { Co, ToolCtx } from '../../types';
import { errText, idNames, wallMs, write } from '../common';
import { hostnameOf, readProc, readProcs, ttyName, type Proc } from './proc';
import { ctimeStr } from './ps';

/** sysctl, pgrep/pkill, pidof, watch (procps-ng 4.0.2). */

// ------------------------------------------------------------------ sysctl

const SYSCTL_USAGE = `
Usage:
 sysctl [options] [variable[=value] ...]

Options:
  -a, --all            display all variables
  -A                   alias of -a
  -X                   alias of -a
      --deprecated     include deprecated parameters to listing
      --dry-run        Print the key and values but do not write
  -b, --binary         print value without new line
  -e, --ignore         ignore unknown variables errors
  -N, --names          print variable names without values
  -n, --values         print only values of the given variable(s)
  -p, --load[=<file>]  read values from file
  -f                   alias of -p
      --system         read values from all system directories
  -r, --pattern <expression>
                       select setting that match expression
  -q, --quiet          do not echo variable set
  -w, --write          enable writing a value to variable
  -o                   does nothing
  -x                   does nothing
  -d                   alias of -h

 -h, --help     display this help and exit
 -V, --version  output version information and exit

For more details see sysctl(8).
`;

const DEPRECATED = new Set(['base_reachable_time', 'retrans_time']);

interface SysctlOpts {
  names: boolean;
  values: boolean;
  binary: boolean;
  ignore: boolean;
  quiet: boolean;
  dryRun: boolean;
  deprecated: boolean;
  pattern: RegExp | null;
}

/** "kernel.ostype" / "kernel/ostype" -> path under /proc/sys and the dotted name */
function sysKey(name: string): { path: string; out: string } {
  const n = name.replace(/^\/+/, '');
  if (n.includes('/')) return { path: '/proc/sys/' + n, out: n.replace(/\//g, '.') };
  // dots become slashes, slashes (none here) would become dots
  return { path: '/proc/sys/' + n.replace(/\./g, '/'), out: n };
}

function strerror(e: unknown): string {
  return errText(e);
}

const byteCmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function sysRead(ctx: ToolCtx, o: SysctlOpts, name: string, fromAll = false): number {
  const { path, out } = sysKey(name);
  let st;
  try {
    st = ctx.host.stat(ctx.pid, path, '/');
  } catch (e) {
    if (!o.ignore) {
      ctx.stderr.write(`sysctl: cannot stat ${path}: ${strerror(e)}\n`);
      return 1;
    }
    return 0;
  }
  if (st.type === 'dir') return sysAll(ctx, o, path);
  if (o.pattern && !o.pattern.test(out)) return 0;
  if ((st.perm & 0o400) === 0) return 0;
  if (o.names) {
    write(ctx, out + '\n');
    return 0;
  }
  let v: string;
  try {
    v = ctx.host.readFile(ctx.pid, path, '/');
  } catch (e) {
    if (e instanceof KernelError && (e.code === 'EACCES' || e.code === 'EPERM')) {
      ctx.stderr.write(`sysctl: permission denied on key '${out}'\n`);
      return 1;
    }
    if (e instanceof KernelError && e.code === 'EIO' && path.endsWith('/stable_secret')) return fromAll ? 0 : 1;
    if (e instanceof KernelError && e.code === 'ENOENT') {
      if (!o.ignore) ctx.stderr.write(`sysctl: "${out}" is an unknown key\n`);
      return o.ignore ? 0 : 1;
    }
    ctx.stderr.write(`sysctl: reading key "${out}": ${strerror(e)}\n`);
    return 1;
  }
  ctx.tick(1);
  // an empty read (vm.stat_refresh): fgets() finds nothing, nothing is printed
  if (v === '') return 0;
  if (o.binary) {
    write(ctx, v.replace(/\n$/, ''));
    return 0;
  }
  const lines = v === '' ? [''] : v.replace(/\n$/, '').split('\n');
  write(ctx, lines.map((l) => (o.values ? `${l}\n` : `${out} = ${l}\n`)).join(''));
  return 0;
}

function sysAll(ctx: ToolCtx, o: SysctlOpts, dir: string): number {
  let rc = 0;
  let ents;
  try {
    ents = ctx.host.readdir(ctx.pid, dir, '/');
  } catch (e) {
    ctx.stderr.write(`sysctl: unable to open directory "${dir}": ${strerror(e)}\n`);
    return 1;
  }
  for (const e of [...ents].sort((a, b) => byteCmp(a.name, b.name))) {
    if (e.name === '.' || e.name === '..') continue;
    if (!o.deprecated && DEPRECATED.has(e.name)) continue;
    const p = `${dir}/${e.name}`;
    const rel = p.slice('/proc/sys/'.length);
    if (e.type === 'dir') rc += sysAll(ctx, o, p);
    else rc += sysRead(ctx, o, rel, true) ? 1 : 0;
  }
  return rc ? 1 : 0;
}

/** returns the number of errors that count towards the exit status */
function sysWrite(ctx: ToolCtx, o: SysctlOpts, setting: string, where = 'command line(0)'): number {
  const eq = setting.indexOf('=');
  if (eq <= 0) {
    ctx.stderr.write(`sysctl: ${where}: invalid syntax, continuing...\n`);
    return 1;
  }
  const name = setting.slice(0, eq).trim();
  const value = setting.slice(eq + 1).replace(/^\s+/, '').replace(/\s+$/, '');
  let ignore = o.ignore;
  let key = name;
  if (key.startsWith('-')) {
    ignore = true;
    key = key.slice(1);
  }
  const { path, out } = sysKey(key);
  if (o.pattern && !o.pattern.test(out)) return 0;
  let st;
  try {
    st = ctx.host.stat(ctx.pid, path, '/');
  } catch (e) {
    if (!ignore) {
      ctx.stderr.write(`sysctl: cannot stat ${path}: ${strerror(e)}\n`);
      return 1;
    }
    return 0;
  }
  if ((st.perm & 0o200) === 0 || st.type === 'dir') {
    ctx.stderr.write(`sysctl: setting key "${out}": Invalid argument\n`);
    return 0;
  }
  if (!o.dryRun) {
    try {
      ctx.host.writeFile(ctx.pid, path, '/', value + '\n', { create: false });
    } catch (e) {
      if (e instanceof KernelError && (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS')) ctx.stderr.write(`sysctl: permission denied on key "${out}"\n`);
      else if (e instanceof KernelError && e.code === 'ENOENT') {
        if (!ignore) ctx.stderr.write(`sysctl: "${out}" is an unknown key\n`);
      } else ctx.stderr.write(`sysctl: setting key "${out}": ${strerror(e)}\n`);
      return 1;
    }
  }
  if (!o.quiet) {
    if (o.names) write(ctx, out + '\n');
    else if (o.values) write(ctx, value + (o.binary ? '' : '\n'));
    else write(ctx, `${out} = ${value}\n`);
  }
  return 0;
}

function sysPreload(ctx: ToolCtx, o: SysctlOpts, file: string): number {
  let text: string;
  try {
    text = file === '-' ? ctx.stdin.readAll() : ctx.host.readFile(ctx.pid, file, ctx.cwd);
  } catch (e) {
    ctx.stderr.write(`sysctl: cannot open "${file}": ${strerror(e)}\n`);
    return 1;
  }
  let rc = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    if (!line.includes('=')) {
      ctx.stderr.write(`sysctl: ${file}(${i + 1}): invalid syntax, continuing...\n`);
      return;
    }
    rc += sysWrite(ctx, o, line, `${file}(${i + 1})`);
  });
  return rc;
}

export const sysctl = (ctx: ToolCtx): number => {
  const o: SysctlOpts = { names: false, values: false, binary: false, ignore: false, quiet: false, dryRun: false, deprecated: false, pattern: null };
  let all = false;
  let writeMode = false;
  let preload: string[] | null = null;
  let system = false;
  const ops: string[] = [];
  const args = ctx.argv.slice(1);
  if (args.length === 0) {
    ctx.stderr.write(SYSCTL_USAGE);
    return 1;
  }
  const usageErr = (msg: string): number => {
    ctx.stderr.write(`sysctl: ${msg}\n${SYSCTL_USAGE}`);
    return 1;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const [k, v] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      switch (k) {
        case '--all':
          all = true;
          break;
        case '--binary':
          o.binary = true;
          break;
        case '--ignore':
          o.ignore = true;
          break;
        case '--names':
          o.names = true;
          break;
        case '--values':
          o.values = true;
          break;
        case '--quiet':
          o.quiet = true;
          break;
        case '--write':
          writeMode = true;
          break;
        case '--dry-run':
          o.dryRun = true;
          break;
        case '--deprecated':
          o.deprecated = true;
          break;
        case '--system':
          system = true;
          break;
        case '--load':
          preload = v !== undefined ? [v] : [];
          break;
        case '--pattern': {
          const p = v ?? args[++i];
          try {
            o.pattern = new RegExp(p ?? '');
          } catch {
            ctx.stderr.write(`sysctl: unable to compile regex: ${p}\n`);
            return 1;
          }
          break;
        }
        case '--help':
          write(ctx, SYSCTL_USAGE.slice(1));
          return 0;
        case '--version':
          write(ctx, 'sysctl from procps-ng 4.0.2\n');
          return 0;
        default:
          return usageErr(`unrecognized option '${a}'`);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1 && ops.length === 0 && preload === null) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        switch (c) {
          case 'a':
          case 'A':
          case 'X':
            all = true;
            break;
          case 'b':
            o.binary = true;
            break;
          case 'e':
            o.ignore = true;
            break;
          case 'N':
            o.names = true;
            break;
          case 'n':
            o.values = true;
            break;
          case 'q':
            o.quiet = true;
            break;
          case 'w':
            writeMode = true;
            break;
          case 'o':
          case 'x':
            break;
          case 'p':
          case 'f': {
            const r = a.slice(j + 1);
            preload = r ? [r] : [];
            j = a.length;
            break;
          }
          case 'r': {
            const p = a.slice(j + 1) || args[++i];
            j = a.length;
            try {
              o.pattern = new RegExp(p ?? '');
            } catch {
              ctx.stderr.write(`sysctl: unable to compile regex: ${p}\n`);
              return 1;
            }
            break;
          }
          case 'h':
          case 'd':
          case '?':
            write(ctx, SYSCTL_USAGE.slice(1));
            return 0;
          case 'V':
            write(ctx, 'sysctl from procps-ng 4.0.2\n');
            return 0;
          default:
            return usageErr(`invalid option -- '${c}'`);
        }
      }
      continue;
    }
    ops.push(a);
  }
  if (system) {
    let rc = 0;
    const files: string[] = [];
    for (const d of ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d']) {
      try {
        for (const e of ctx.host.readdir(ctx.pid, d, '/').sort((x, y) => byteCmp(x.name, y.name))) if (e.name.endsWith('.conf') && !files.some((f) => f.endsWith('/' + e.name))) files.push(`${d}/${e.name}`);
      } catch {
        // no such directory
      }
    }
    files.push('/etc/sysctl.conf');
    for (const f of files) {
      try {
        ctx.host.stat(ctx.pid, f, '/');
      } catch {
        continue;
      }
      if (!o.quiet) write(ctx, `* Applying ${f} ...\n`);
      rc += sysPreload(ctx, o, f);
    }
    return rc ? 1 : 0;
  }
  if (preload !== null) {
    const files = [...preload, ...ops];
    if (files.length === 0) files.push('/etc/sysctl.conf');
    let rc = 0;
    for (const f of files) rc += sysPreload(ctx, o, f);
    return rc ? 1 : 0;
  }
  if (all) return sysAll(ctx, o, '/proc/sys');
  if (ops.length === 0) {
    ctx.stderr.write("sysctl: no variables specified\nTry `sysctl --help' for more information.\n");
    return 1;
  }
  let rc = 0;
  for (const a of ops) {
    if (writeMode || a.includes('=')) rc += sysWrite(ctx, o, a);
    else rc += sysRead(ctx, o, a);
  }
  return Math.min(rc, 255);
};

// ------------------------------------------------------------------ pgrep / pkill

function pgrepUsage(name: string): string {
  return `Try \`${name} --help' for more information.\n`;
}

export const pgrep = (ctx: ToolCtx): number => {
  const name = ctx.argv[0].slice(ctx.argv[0].lastIndexOf('/') + 1);
  const kill = name === 'pkill' || name === 'pidwait';
  const names = idNames(ctx);
  let full = false;
  let listName = false;
  let listFull = false;
  let count = false;
  let exact = false;
  let newest = false;
  let oldest = false;
  let negate = false;
  let icase = false;
  let echo = false;
  let delim = '\n';
  let sig = 15;
  const euids: number[] = [];
  const ruids: number[] = [];
  const ppids: number[] = [];
  const pgrps: number[] = [];
  const sids: number[] = [];
  const ttys: string[] = [];
  let pattern: string | undefined;
  const args = ctx.argv.slice(1);
  const fail = (msg: string): number => {
    ctx.stderr.write(`${name}: ${msg}\n${pgrepUsage(name)}`);
    return 2;
  };
  const ulist = (s: string, into: number[]): string | null => {
    for (const u of s.split(',')) {
      const id = /^\d+$/.test(u) ? Number(u) : names.userId(u);
      if (id === undefined) return `invalid user name: ${u}`;
      into.push(id);
    }
    return null;
  };
  const nlist = (s: string, into: number[]): boolean => {
    for (const x of s.split(',')) {
      if (!/^\d+$/.test(x)) return false;
      into.push(Number(x));
    }
    return true;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const [k, v0] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      const v = (): string => v0 ?? args[++i] ?? '';
      switch (k) {
        case '--full':
          full = true;
          break;
        case '--list-name':
          listName = true;
          break;
        case '--list-full':
          listFull = true;
          break;
        case '--count':
          count = true;
          break;
        case '--exact':
          exact = true;
          break;
        case '--newest':
          newest = true;
          break;
        case '--oldest':
          oldest = true;
          break;
        case '--inverse':
          negate = true;
          break;
        case '--ignore-case':
          icase = true;
          break;
        case '--echo':
          echo = true;
          break;
        case '--delimiter':
          delim = v();
          break;
        case '--signal': {
          const s = v();
          const n = parseSignal(s);
          if (n === undefined) return fail(`Unknown signal "${s}".`);
          sig = n;
          break;
        }
        case '--euid': {
          const e = ulist(v(), euids);
          if (e) return fail(e);
          break;
        }
        case '--uid': {
          const e = ulist(v(), ruids);
          if (e) return fail(e);
          break;
        }
        case '--parent':
          if (!nlist(v(), ppids)) return fail('invalid parent list');
          break;
        case '--help':
          write(ctx, `\nUsage:\n ${name} [options] <pattern>\n\nFor more details see pgrep(1).\n`);
          return 0;
        case '--version':
          write(ctx, `${name} from procps-ng 4.0.2\n`);
          return 0;
        default:
          return fail(`unrecognized option '${a}'`);
      }
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      // pkill -9 / -KILL / -SIGTERM
      if (kill && /^-(\d+|(SIG)?[A-Z][A-Z0-9+-]*)$/.test(a) && parseSignal(a.slice(1)) !== undefined) {
        sig = parseSignal(a.slice(1)) as number;
        continue;
      }
      for (let j = 1; j < a.length; j++) {
        const c = a[j];
        const arg = (): string => {
          const r = a.slice(j + 1);
          j = a.length;
          return r !== '' ? r : (args[++i] ?? '');
        };
        switch (c) {
          case 'f':
            full = true;
            break;
          case 'l':
            listName = true;
            break;
          case 'a':
            listFull = true;
            break;
          case 'c':
            count = true;
            break;
          case 'x':
            exact = true;
            break;
          case 'n':
            newest = true;
            break;
          case 'o':
            oldest = true;
            break;
          case 'v':
            negate = true;
            break;
          case 'i':
            icase = true;
            break;
          case 'e':
            echo = true;
            break;
          case 'w':
            break;
          case 'd':
            delim = arg();
            break;
          case 'u': {
            const e = ulist(arg(), euids);
            if (e) return fail(e);
            break;
          }
          case 'U': {
            const e = ulist(arg(), ruids);
            if (e) return fail(e);
            break;
          }
          case 'P':
            if (!nlist(arg(), ppids)) return fail('invalid parent list');
            break;
          case 'g': {
            const v = arg();
            for (const x of v.split(',')) pgrps.push(x === '0' ? (readProc(ctx, ctx.pid)?.pgrp ?? 0) : Number(x));
            break;
          }
          case 's': {
            const v = arg();
            for (const x of v.split(',')) sids.push(x === '0' ? (readProc(ctx, ctx.pid)?.session ?? 0) : Number(x));
            break;
          }
          case 't':
            ttys.push(...arg().split(','));
            break;
          case 'V':
            write(ctx, `${name} from procps-ng 4.0.2\n`);
            return 0;
          case 'h':
            write(ctx, `\nUsage:\n ${name} [options] <pattern>\n\nFor more details see pgrep(1).\n`);
            return 0;
          default:
            return fail(`invalid option -- '${c}'`);
        }
      }
      continue;
    }
    if (pattern !== undefined) return fail(`only one pattern can be provided`);
    pattern = a;
  }
  if (pattern === undefined && !euids.length && !ruids.length && !ppids.length && !pgrps.length && !sids.length && !ttys.length) {
    ctx.stderr.write(`${name}: no matching criteria specified\n${pgrepUsage(name)}`);
    return 2;
  }
  if (newest && oldest) return fail('-n and -o are mutually exclusive'.replace('-n and -o', '--newest and --oldest'));
  if (pattern !== undefined && !full && pattern.length > 15 && !/[\\^$.*+?()[\]{}|]/.test(pattern)) {
    ctx.stderr.write(`${name}: pattern that searches for process name longer than 15 characters will result in zero matches\nTry \`${name} -f' option to match against the complete command line.\n`);
  }
  let re: RegExp | null = null;
  if (pattern !== undefined) {
    try {
      re = new RegExp(exact ? `^(?:${pattern})$` : pattern, icase ? 'i' : '');
    } catch {
      ctx.stderr.write(`${name}: Invalid regular expression\n`);
      return 2;
    }
  }
  const self = new Set([ctx.pid]);
  const me = readProc(ctx, ctx.pid);
  if (me) self.add(me.pid);
  const subject = (p: Proc): string => (full ? (p.cmdline.length ? p.cmdline.join(' ') : p.comm) : p.comm);
  let matches = readProcs(ctx).filter((p) => {
    if (self.has(p.pid)) return false;
    let ok = true;
    if (euids.length && !euids.includes(p.euid)) ok = false;
    if (ruids.length && !ruids.includes(p.ruid)) ok = false;
    if (ppids.length && !ppids.includes(p.ppid)) ok = false;
    if (pgrps.length && !pgrps.includes(p.pgrp)) ok = false;
    if (sids.length && !sids.includes(p.session)) ok = false;
    if (ttys.length && !ttys.includes(ttyName(p.ttyNr))) ok = false;
    if (ok && re && !re.test(subject(p))) ok = false;
    return ok !== negate;
  });
  if (newest || oldest) {
    if (matches.length) {
      const best = matches.reduce((b, p) => (newest ? (p.start > b.start || (p.start === b.start && p.pid > b.pid) ? p : b) : p.start < b.start || (p.start === b.start && p.pid < b.pid) ? p : b));
      matches = [best];
    }
  }
  if (kill) {
    let killed = 0;
    for (const p of matches) {
      try {
        ctx.host.kill(p.pid, sig);
        killed++;
        if (echo) write(ctx, `${p.comm} killed (pid ${p.pid})\n`);
      } catch (e) {
        ctx.stderr.write(`${name}: killing pid ${p.pid} failed: ${errText(e)}\n`);
      }
    }
    if (count) write(ctx, `${killed}\n`);
    return matches.length ? 0 : 1;
  }
  if (count) {
    write(ctx, `${matches.length}\n`);
    return matches.length ? 0 : 1;
  }
  const items = matches.map((p) => (listFull ? `${p.pid} ${p.cmdline.length ? p.cmdline.join(' ') : p.comm}` : listName ? `${p.pid} ${p.comm}` : String(p.pid)));
  if (items.length) write(ctx, items.join(delim) + '\n');
  return matches.length ? 0 : 1;
};

export const pidof = (ctx: ToolCtx): number => {
  let single = false;
  let scripts = false;
  const omit = new Set<number>();
  const progs: string[] = [];
  let sep = ' ';
  const args = ctx.argv.slice(1);
  const me = readProc(ctx, ctx.pid);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-s') single = true;
    else if (a === '-x') scripts = true;
    else if (a === '-c' || a === '-n' || a === '-q' || a === '-z' || a === '-w') continue;
    else if (a === '-d') sep = args[++i] ?? ' ';
    else if (a === '-o' || a.startsWith('-o')) {
      const v = a === '-o' ? (args[++i] ?? '') : a.slice(2);
      for (const x of v.split(',')) {
        if (x === '%PPID') omit.add(me?.ppid ?? -1);
        else if (/^\d+$/.test(x)) omit.add(Number(x));
      }
    } else if (a === '-V') {
      write(ctx, 'pidof from procps-ng 4.0.2\n');
      return 0;
    } else if (a.startsWith('-') && a.length > 1) {
      ctx.stderr.write(`pidof: invalid option -- '${a.slice(1, 2)}'\n\nUsage:\n pidof [options] [program [...]]\n`);
      return 1;
    } else progs.push(a);
  }
  const procs = readProcs(ctx).filter((p) => p.pid !== ctx.pid && p.pid !== me?.pid && !omit.has(p.pid) && p.state !== 'Z');
  const found: number[] = [];
  for (const prog of progs) {
    const base = prog.slice(prog.lastIndexOf('/') + 1);
    const hits = procs
      .filter((p) => {
        const a0 = p.cmdline[0] ?? '';
        const a0base = a0.slice(a0.lastIndexOf('/') + 1).split(' ')[0];
        if (prog.includes('/') ? a0 === prog : a0base === base) return true;
        if (p.cmdline.length === 0 && p.comm === base) return true;
        if (scripts && p.cmdline[1] !== undefined) {
          const a1 = p.cmdline[1];
          if (prog.includes('/') ? a1 === prog : a1.slice(a1.lastIndexOf('/') + 1) === base) return true;
        }
        return false;
      })
      .map((p) => p.pid)
      .sort((x, y) => y - x);
    found.push(...(single ? hits.slice(0, 1) : hits));
    if (single && found.length) break;
  }
  if (found.length) write(ctx, found.join(sep) + '\n');
  return found.length ? 0 : 1;
};

// ------------------------------------------------------------------ watch

export const watch = function* (ctx: ToolCtx): Co<number> {
  let interval = 2;
  let title = true;
  let exec = false;
  let errexit = false;
  let equexit = 0;
  let chgexit = false;
  const args = ctx.argv.slice(1);
  let i = 0;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    if (a.startsWith('--')) {
      const [k, v0] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
      if (k === '--interval') {
        const v = v0 ?? args[++i] ?? '';
        const n = Number(v.replace(',', '.'));
        if (!Number.isFinite(n) || v === '') {
          ctx.stderr.write(`watch: failed to parse argument: '${v}'\n`);
          return 1;
        }
        interval = Math.max(0.1, n);
      } else if (k === '--no-title') title = false;
      else if (k === '--exec') exec = true;
      else if (k === '--chgexit') chgexit = true;
      else if (k === '--equexit') equexit = Math.max(1, Number(v0 ?? args[++i]) || 1);
      else if (k === '--errexit') errexit = true;
      else if (k === '--differences' || k === '--beep' || k === '--color' || k === '--precise' || k === '--no-wrap' || k === '--no-linewrap') continue;
      else if (k === '--version') {
        write(ctx, 'watch from procps-ng 4.0.2\n');
        return 0;
      } else {
        ctx.stderr.write(`watch: unrecognized option '${a}'\n\nUsage:\n watch [options] command\n`);
        return 1;
      }
      continue;
    }
    let stop = false;
    for (let j = 1; j < a.length && !stop; j++) {
      const c = a[j];
      switch (c) {
        case 'n': {
          const v = a.slice(j + 1) || args[++i] || '';
          const n = Number(v.replace(',', '.'));
          if (!Number.isFinite(n) || v === '') {
            ctx.stderr.write(`watch: failed to parse argument: '${v}'\n`);
            return 1;
          }
          interval = Math.max(0.1, n);
          stop = true;
          break;
        }
        case 'q': {
          const v = a.slice(j + 1) || args[++i] || '';
          if (!/^\d+$/.test(v)) {
            ctx.stderr.write(`watch: failed to parse argument: '${v}'\n`);
            return 1;
          }
          equexit = Math.max(1, Number(v));
          stop = true;
          break;
        }
        case 'g':
          chgexit = true;
          break;
        case 't':
          title = false;
          break;
        case 'x':
          exec = true;
          break;
        case 'e':
          errexit = true;
          break;
        case 'd':
        case 'b':
        case 'c':
        case 'p':
        case 'w':
        case 'C':
          break;
        case 'v':
          write(ctx, 'watch from procps-ng 4.0.2\n');
          return 0;
        case 'h':
          write(ctx, '\nUsage:\n watch [options] command\n\nFor more details see watch(1).\n');
          return 0;
        default:
          ctx.stderr.write(`watch: invalid option -- '${c}'\n\nUsage:\n watch [options] command\n`);
          return 1;
      }
    }
  }
  const cmd = args.slice(i);
  if (cmd.length === 0) {
    ctx.stderr.write('\nUsage:\n watch [options] command\n\nOptions:\n  -b, --beep             beep if command has a non-zero exit\n  -c, --color            interpret ANSI color and style sequences\n  -d, --differences[=<permanent>]\n                         highlight changes between updates\n  -e, --errexit          exit if command has a non-zero exit\n  -g, --chgexit          exit when output from command changes\n  -n, --interval <secs>  seconds to wait between updates\n  -p, --precise          attempt run command in precise intervals\n  -t, --no-title         turn off header\n  -w, --no-wrap          turn off line wrapping\n  -x, --exec             pass command to exec instead of "sh -c"\n\n -h, --help     display this help and exit\n -v, --version  output version information and exit\n\nFor more details see watch(1).\n');
    return 1;
  }
  const shown = cmd.join(' ');
  const quote = (x: string): string => `'${x.replace(/'/g, "'\\''")}'`;
  const inner = exec ? cmd.map(quote).join(' ') : `sh -c ${quote(shown)}`;
  // -g / -q compare outputs: the command writes to a scratch file, shown afterwards
  const capture = chgexit || equexit > 0;
  const scratch = `/tmp/.watch.${ctx.pid}`;
  const argv = capture ? ['sh', '-c', `${inner} >${scratch} 2>&1`] : exec ? cmd : ['sh', '-c', shown];
  const width = Number(ctx.env.COLUMNS) || 80;
  let last: string | undefined;
  let same = 0;
  for (let round = 0; ; round++) {
    ctx.tick(1);
    if (ctx.tty) write(ctx, '\x1b[H\x1b[2J');
    else if (round > 0) write(ctx, '\n');
    if (title) {
      const left = `Every ${interval.toFixed(1)}s: ${shown}`;
      const right = `${hostnameOf(ctx)}: ${ctimeStr(Math.floor(wallMs(ctx) / 1000))}`;
      const l = width - left.length - right.length >= 1 ? left : left.slice(0, Math.max(0, width - right.length - 1 - 3)) + '...';
      write(ctx, `${l}${' '.repeat(Math.max(1, width - l.length - right.length))}${right}\n\n`);
    }
    const status = yield* ctx.run(argv, { stdin: '' });
    if (capture) {
      let out = '';
      try {
        out = ctx.host.readFile(ctx.pid, scratch, '/');
        ctx.host.unlink(ctx.pid, scratch, '/');
      } catch {
        out = '';
      }
      write(ctx, out);
      if (last !== undefined) {
        if (chgexit && out !== last) return 0;
        same = out === last ? same + 1 : 0;
        if (equexit && same >= equexit) return 0;
      }
      last = out;
    }
    if (errexit && status !== 0) {
      ctx.stderr.write(`\nwatch: command exit with a non-zero status, press a key to exit\n`);
      return 8;
    }
    yield* ctx.sleepUntil(ctx.host.now() + Math.round(interval * 1e9));
  }
};

