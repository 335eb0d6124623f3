import { KernelError } from '../errors';
import type { Co } from '../userspace/types';
import { echoText, printfFormat, shellQuote } from '../userspace/lib/printf';
import { ArithError, evalArith } from './arith';
import { ExitSignal, LoopSignal, ReturnSignal, type Fds } from './io';
import { RESERVED } from './parser';
import { FatalSignal, cmpC, formatJob, type ShEnv, type Shell } from './shell';
import { evalTest } from './testexpr';

/**
 * Shell builtins: they run inside the shell process (no fork), so cd,
 * export, read... change the shell itself.
 */
export type Builtin = (sh: Shell, env: ShEnv, argv: string[], fds: Fds) => number | Co<number>;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function out(fds: Fds, s: string): void {
  fds.get(1)?.out?.write(s);
}

function err(sh: Shell, env: ShEnv, fds: Fds, msg: string): void {
  sh.errmsg(env, msg, fds);
}

export const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  PWR: 30,
  SYS: 31,
};

/** "9", "KILL", "SIGKILL", "kill" -> 9 */
export function parseSignal(s: string): number | undefined {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n <= 64 ? n : undefined;
  }
  const name = s.toUpperCase().replace(/^SIG/, '');
  return Object.prototype.hasOwnProperty.call(SIGNALS, name) ? SIGNALS[name] : undefined;
}

function normalize(path: string): string {
  const parts: string[] = [];
  for (const p of path.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') parts.pop();
    else parts.push(p);
  }
  return '/' + parts.join('/');
}

const cd: Builtin = (sh, env, argv, fds) => {
  const args = argv.slice(1).filter((a, i) => !(i === 0 && (a === '-L' || a === '-P' || a === '--')));
  if (args.length > 1) {
    err(sh, env, fds, 'cd: too many arguments');
    return 1;
  }
  let dir: string | undefined = args[0];
  let print = false;
  if (dir === undefined) {
    dir = sh.lookupVar(env, 'HOME');
    if (dir === undefined) {
      err(sh, env, fds, 'cd: HOME not set');
      return 1;
    }
  } else if (dir === '-') {
    dir = sh.lookupVar(env, 'OLDPWD');
    if (dir === undefined) {
      err(sh, env, fds, 'cd: OLDPWD not set');
      return 1;
    }
    print = true;
  }
  if (dir === '') return 0;
  const target = normalize(dir.startsWith('/') ? dir : `${env.cwd}/${dir}`);
  try {
    const st = sh.host.stat(env.pid, target, '/');
    if (st.type !== 'dir') throw new KernelError('ENOTDIR');
    if (!sh.host.access(env.pid, target, '/', 1)) throw new KernelError('EACCES');
  } catch (e) {
    if (e instanceof KernelError) {
      // the logical path failed: bash retries the physical one
      try {
        const phys = sh.host.realpath(env.pid, dir, env.cwd);
        const st = sh.host.stat(env.pid, phys, '/');
        if (st.type === 'dir') return finishCd(sh, env, fds, phys, print);
      } catch {
        // report the first error
      }
      err(sh, env, fds, `cd: ${dir}: ${e.message}`);
      return 1;
    }
    throw e;
  }
  return finishCd(sh, env, fds, target, print);
};

function finishCd(sh: Shell, env: ShEnv, fds: Fds, target: string, print: boolean): number {
  const old = env.cwd;
  env.cwd = target;
  const pwd = env.vars.get('PWD');
  env.vars.set('OLDPWD', { value: old, exported: env.vars.get('OLDPWD')?.exported ?? true });
  env.vars.set('PWD', { value: target, exported: pwd?.exported ?? true });
  if (print) out(fds, target + '\n');
  void sh;
  return 0;
}

const pwd: Builtin = (sh, env, argv, fds) => {
  if (argv.includes('-P')) {
    try {
      out(fds, sh.host.realpath(env.pid, env.cwd, '/') + '\n');
      return 0;
    } catch (e) {
      if (e instanceof KernelError) {
        err(sh, env, fds, `pwd: error retrieving current directory: ${e.message}`);
        return 1;
      }
      throw e;
    }
  }
  out(fds, env.cwd + '\n');
  return 0;
};

function declareLine(name: string, v: { value: string; exported?: boolean; readonly?: boolean }): string {
  const flags = (v.exported ? 'x' : '') + (v.readonly ? 'r' : '');
  return `declare -${flags || '-'} ${name}="${v.value.replace(/(["\\$`])/g, '\\$1')}"`;
}

const exportB: Builtin = (sh, env, argv, fds) => {
  let i = 1;
  let unexport = false;
  let print = false;
  while (i < argv.length && /^-[fnp]+$/.test(argv[i])) {
    if (argv[i].includes('n')) unexport = true;
    if (argv[i].includes('p')) print = true;
    i++;
  }
  if (argv[i] === '--') i++;
  if (i >= argv.length || (print && i >= argv.length)) {
    const names = [...env.vars.keys()].sort(cmpC);
    for (const n of names) {
      const v = env.vars.get(n)!;
      if (v.exported) out(fds, declareLine(n, v) + '\n');
    }
    return 0;
  }
  let status = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!NAME_RE.test(name)) {
      err(sh, env, fds, `export: \`${a}': not a valid identifier`);
      status = 1;
      continue;
    }
    const v = env.vars.get(name);
    if (eq >= 0) {
      if (v?.readonly) {
        err(sh, env, fds, `${name}: readonly variable`);
        status = 1;
        continue;
      }
      env.vars.set(name, { ...(v ?? {}), value: a.slice(eq + 1), exported: !unexport, unset: undefined });
    } else if (v) v.exported = !unexport;
    else if (!unexport) env.vars.set(name, { value: '', exported: true, unset: true });
  }
  return status;
};

const readonlyB: Builtin = (sh, env, argv, fds) => {
  const args = argv.slice(1).filter((a) => a !== '-p' && a !== '--');
  if (args.length === 0) {
    for (const n of [...env.vars.keys()].sort(cmpC)) {
      const v = env.vars.get(n)!;
      if (v.readonly) out(fds, declareLine(n, v) + '\n');
    }
    return 0;
  }
  let status = 0;
  for (const a of args) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!NAME_RE.test(name)) {
      err(sh, env, fds, `readonly: \`${a}': not a valid identifier`);
      status = 1;
      continue;
    }
    const v = env.vars.get(name);
    if (eq >= 0) {
      if (v?.readonly) {
        err(sh, env, fds, `${name}: readonly variable`);
        status = 1;
        continue;
      }
      env.vars.set(name, { ...(v ?? {}), value: a.slice(eq + 1), readonly: true });
    } else if (v) v.readonly = true;
    else env.vars.set(name, { value: '', readonly: true, unset: true });
  }
  return status;
};

const unset: Builtin = (sh, env, argv, fds) => {
  let funcs = false;
  let i = 1;
  while (i < argv.length && /^-[fvn]+$/.test(argv[i])) {
    if (argv[i].includes('f')) funcs = true;
    i++;
  }
  let status = 0;
  for (; i < argv.length; i++) {
    const n = argv[i];
    if (funcs) {
      env.funcs.delete(n);
      continue;
    }
    if (!NAME_RE.test(n)) {
      err(sh, env, fds, `unset: \`${n}': not a valid identifier`);
      status = 1;
      continue;
    }
    const v = env.vars.get(n);
    if (v?.readonly) {
      err(sh, env, fds, `unset: ${n}: cannot unset: readonly variable`);
      status = 1;
      continue;
    }
    if (v) env.vars.delete(n);
    else env.funcs.delete(n);
  }
  return status;
};

const local: Builtin = (sh, env, argv, fds) => {
  if (env.locals.length === 0) {
    err(sh, env, fds, 'local: can only be used in a function');
    return 1;
  }
  return declareVars(sh, env, argv, fds, 'local', true);
};

function declareVars(sh: Shell, env: ShEnv, argv: string[], fds: Fds, name: string, isLocal: boolean): number {
  const scope = env.locals[env.locals.length - 1];
  let exported = false;
  let readonly = false;
  let print = false;
  let funcs = false;
  let i = 1;
  while (i < argv.length && /^[-+][a-zA-Z]+$/.test(argv[i])) {
    if (argv[i].startsWith('-')) {
      if (argv[i].includes('x')) exported = true;
      if (argv[i].includes('r')) readonly = true;
      if (argv[i].includes('p')) print = true;
      if (argv[i].includes('f') || argv[i].includes('F')) funcs = true;
    }
    i++;
  }
  if (funcs) {
    const names = i < argv.length ? argv.slice(i) : [...env.funcs.keys()].sort(cmpC);
    for (const n of names) {
      const f = env.funcs.get(n);
      if (!f) return 1;
      out(fds, argv[i - 1]?.includes('F') ? `declare -f ${n}\n` : `${f.text}\n`);
    }
    return 0;
  }
  if (i >= argv.length || print) {
    const names = i < argv.length ? argv.slice(i) : [...env.vars.keys()].sort(cmpC);
    let st = 0;
    for (const n of names) {
      const v = env.vars.get(n);
      if (!v) {
        err(sh, env, fds, `${name}: ${n}: not found`);
        st = 1;
        continue;
      }
      if (i >= argv.length && !print && !v.exported && !v.readonly) out(fds, `${n}=${shellQuote(v.value)}\n`);
      else out(fds, declareLine(n, v) + '\n');
    }
    return st;
  }
  let status = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const n = eq < 0 ? a : a.slice(0, eq);
    if (!NAME_RE.test(n)) {
      err(sh, env, fds, `${name}: \`${a}': not a valid identifier`);
      status = 1;
      continue;
    }
    const cur = env.vars.get(n);
    if (cur?.readonly && eq >= 0) {
      err(sh, env, fds, `${n}: readonly variable`);
      status = 1;
      continue;
    }
    if (isLocal && scope && !scope.has(n)) scope.set(n, cur ? { ...cur } : undefined);
    const value = eq >= 0 ? a.slice(eq + 1) : isLocal ? '' : (cur?.value ?? '');
    env.vars.set(n, { value: eq < 0 && !isLocal && cur ? cur.value : value, exported: exported || (!isLocal && cur?.exported), readonly: readonly || cur?.readonly });
  }
  return status;
}

const declare: Builtin = (sh, env, argv, fds) => declareVars(sh, env, argv, fds, argv[0], env.locals.length > 0);

const SET_OPTS: Record<string, keyof ShEnv['opts']> = { e: 'errexit', u: 'nounset', x: 'xtrace', f: 'noglob', C: 'noclobber' };
const LONG_OPTS: Record<string, keyof ShEnv['opts']> = { errexit: 'errexit', nounset: 'nounset', xtrace: 'xtrace', noglob: 'noglob', noclobber: 'noclobber', pipefail: 'pipefail' };

const set: Builtin = (sh, env, argv, fds) => {
  if (argv.length === 1) {
    for (const n of [...env.vars.keys()].sort(cmpC)) out(fds, `${n}=${shellQuote(env.vars.get(n)!.value)}\n`);
    return 0;
  }
  let i = 1;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      env.positional = argv.slice(i + 1);
      return 0;
    }
    if (a === '-' ) {
      env.opts.xtrace = false;
      env.positional = argv.slice(i + 1);
      return 0;
    }
    if (a === '-o' || a === '+o') {
      const name = argv[++i];
      if (name === undefined) {
        for (const [k, v] of Object.entries(LONG_OPTS)) out(fds, a === '-o' ? `${k.padEnd(15)}\t${env.opts[v] ? 'on' : 'off'}\n` : `set ${env.opts[v] ? '-' : '+'}o ${k}\n`);
        return 0;
      }
      const opt = LONG_OPTS[name];
      if (!opt) {
        if (['monitor', 'notify', 'emacs', 'vi', 'histexpand', 'history', 'ignoreeof', 'interactive-comments', 'hashall', 'braceexpand', 'posix', 'allexport', 'verbose', 'noexec', 'physical', 'functrace', 'errtrace', 'keyword', 'onecmd', 'privileged', 'nolog'].includes(name)) continue;
        err(sh, env, fds, `set: ${name}: invalid option name`);
        return 1;
      }
      env.opts[opt] = a === '-o';
      continue;
    }
    if (/^[-+][a-zA-Z]+$/.test(a)) {
      for (const ch of a.slice(1)) {
        const opt = SET_OPTS[ch];
        if (opt) env.opts[opt] = a[0] === '-';
        else if (!'abhkmnpvBEHPT'.includes(ch)) {
          err(sh, env, fds, `set: ${a[0]}${ch}: invalid option`);
          out2(fds, 'set: usage: set [-abefhkmnptuvxBCEHPT] [-o option-name] [--] [-] [arg ...]\n');
          return 2;
        }
      }
      continue;
    }
    env.positional = argv.slice(i);
    return 0;
  }
  return 0;
};

function out2(fds: Fds, s: string): void {
  fds.get(2)?.out?.write(s);
}

const shift: Builtin = (sh, env, argv, fds) => {
  const n = argv[1] === undefined ? 1 : Number(argv[1]);
  if (!Number.isInteger(n) || n < 0) {
    err(sh, env, fds, `shift: ${argv[1]}: numeric argument required`);
    return 1;
  }
  if (n > env.positional.length) return 1;
  env.positional = env.positional.slice(n);
  return 0;
};

function numericArg(s: string): number | undefined {
  if (!/^\s*[-+]?\d+\s*$/.test(s)) return undefined;
  return Number(BigInt.asIntN(64, BigInt(s.trim())) & 255n);
}

const exit: Builtin = (sh, env, argv, fds) => {
  if (env.interactive && env === sh.env) out2(fds, 'exit\n');
  if (argv.length > 2) {
    err(sh, env, fds, 'exit: too many arguments');
    return 1;
  }
  if (argv[1] === undefined) throw new ExitSignal(env.status);
  const n = numericArg(argv[1]);
  if (n === undefined) {
    err(sh, env, fds, `exit: ${argv[1]}: numeric argument required`);
    throw new ExitSignal(2);
  }
  throw new ExitSignal(n);
};

const ret: Builtin = (sh, env, argv, fds) => {
  if (env.funcDepth === 0 && !env.locals.length) {
    err(sh, env, fds, "return: can only `return' from a function or sourced script");
    return 2;
  }
  if (argv[1] === undefined) throw new ReturnSignal(env.status);
  const n = numericArg(argv[1]);
  if (n === undefined) {
    err(sh, env, fds, `return: ${argv[1]}: numeric argument required`);
    throw new ReturnSignal(2);
  }
  throw new ReturnSignal(n);
};

function loopCtl(kind: 'break' | 'continue'): Builtin {
  return (sh, env, argv, fds) => {
    const n = argv[1] === undefined ? 1 : Number(argv[1]);
    if (!Number.isInteger(n) || n < 1) {
      err(sh, env, fds, `${kind}: ${argv[1]}: loop count out of range`);
      return 1;
    }
    if (env.loopDepth === 0) {
      err(sh, env, fds, `${kind}: only meaningful in a \`for', \`while', or \`until' loop`);
      return 0;
    }
    throw new LoopSignal(kind, Math.min(n, env.loopDepth));
  };
}

const evalB: Builtin = function* (sh, env, argv, fds): Co<number> {
  const src = argv.slice(1).join(' ');
  if (src.trim() === '') return 0;
  env.callDepth++;
  try {
    if (env.callDepth > sh.limits.maxCallDepth) {
      err(sh, env, fds, `eval: maximum nesting level exceeded (${sh.limits.maxCallDepth})`);
      throw new FatalSignal(1);
    }
    const saved = env.line;
    const r = yield* sh.runSource(env, src, fds);
    env.line = saved;
    return r;
  } finally {
    env.callDepth--;
  }
};

const source: Builtin = function* (sh, env, argv, fds): Co<number> {
  const file = argv[1];
  if (file === undefined) {
    err(sh, env, fds, `${argv[0]}: filename argument required`);
    out2(fds, `${argv[0]}: usage: ${argv[0]} filename [arguments]\n`);
    return 2;
  }
  let path = file;
  if (!file.includes('/')) {
    for (const d of (sh.lookupVar(env, 'PATH') ?? '').split(':')) {
      try {
        const p = `${d || '.'}/${file}`;
        if (sh.host.stat(env.pid, p, env.cwd).type === 'file') {
          path = p;
          break;
        }
      } catch {
        // next
      }
    }
  }
  let src: string;
  try {
    src = sh.host.readFile(env.pid, path, env.cwd);
  } catch (e) {
    if (e instanceof KernelError) {
      err(sh, env, fds, `${file}: ${e.message}`);
      return 1;
    }
    throw e;
  }
  const savedPos = env.positional;
  const savedLabel = env.label;
  const savedLine = env.line;
  if (argv.length > 2) env.positional = argv.slice(2);
  env.label = file;
  env.callDepth++;
  env.locals.push(new Map());
  const scope = env.locals[env.locals.length - 1];
  try {
    if (env.callDepth > sh.limits.maxCallDepth) {
      err(sh, env, fds, `${file}: maximum nesting level exceeded (${sh.limits.maxCallDepth})`);
      throw new FatalSignal(1);
    }
    return yield* sh.runSource(env, src, fds);
  } catch (e) {
    if (e instanceof ReturnSignal) return e.status;
    throw e;
  } finally {
    env.locals.pop();
    void scope;
    env.callDepth--;
    env.label = savedLabel;
    env.line = savedLine;
    if (argv.length > 2) env.positional = savedPos;
  }
};

const read: Builtin = (sh, env, argv, fds) => {
  let raw = false;
  let delim = '\n';
  let nchars: number | undefined;
  let arrayName: string | undefined;
  const names: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-r') raw = true;
    else if (a === '-s' || a === '-e') continue;
    else if (a === '-p' || a === '-t' || a === '-u') i++;
    else if (a === '-d') delim = (argv[++i] ?? '').slice(0, 1) || '\0';
    else if (a === '-n' || a === '-N') nchars = Number(argv[++i]);
    else if (a === '-a') arrayName = argv[++i];
    else if (/^-[rse]+$/.test(a)) raw = raw || a.includes('r');
    else names.push(a);
  }
  for (const n of names) {
    if (!NAME_RE.test(n)) {
      err(sh, env, fds, `read: \`${n}': not a valid identifier`);
      return 1;
    }
  }
  const input = fds.get(0)?.in;
  if (!input) {
    err(sh, env, fds, 'read: read error: 0: Bad file descriptor');
    return 1;
  }
  let line = '';
  let gotDelim = false;
  if (nchars !== undefined) {
    line = input.read(nchars);
    gotDelim = line.length === nchars;
  } else {
    for (;;) {
      if (input.eof) break;
      const c = input.read(1);
      if (c === delim) {
        gotDelim = true;
        break;
      }
      if (!raw && c === '\\') {
        const n = input.read(1);
        if (n === '\n') continue;
        line += '\x00' + n;
        continue;
      }
      line += c;
    }
  }
  const ifs = sh.lookupVar(env, 'IFS') ?? ' \t\n';
  const targets = names.length ? names : arrayName ? [] : ['REPLY'];
  const unmark = (s: string): string => s.replace(new RegExp(String.fromCharCode(0) + '(.)', 'gs'), '$1');
  if (targets.length === 1 && targets[0] === 'REPLY' && names.length === 0) {
    sh.setVar(env, 'REPLY', unmark(line));
  } else {
    const ws = [...ifs].filter((c) => ' \t\n'.includes(c)).join('');
    let rest = line;
    const trimWs = (s: string, lead: boolean): string => {
      let a = 0;
      let b = s.length;
      if (lead) while (a < b && ws.includes(s[a]) && s[a - 1] !== '\x00') a++;
      else while (b > a && ws.includes(s[b - 1]) && s[b - 2] !== '\x00') b--;
      return s.slice(a, b);
    };
    rest = trimWs(rest, true);
    const words: string[] = [];
    for (let t = 0; t < targets.length; t++) {
      if (t === targets.length - 1) {
        words.push(trimWs(rest, false));
        break;
      }
      let j = 0;
      while (j < rest.length && !(ifs.includes(rest[j]) && rest[j - 1] !== '\x00')) j++;
      words.push(rest.slice(0, j));
      rest = rest.slice(j);
      // skip one delimiter plus surrounding whitespace
      let k = 0;
      while (k < rest.length && ws.includes(rest[k])) k++;
      if (k < rest.length && ifs.includes(rest[k]) && !ws.includes(rest[k])) k++;
      while (k < rest.length && ws.includes(rest[k])) k++;
      rest = rest.slice(k);
    }
    targets.forEach((n, idx) => sh.setVar(env, n, unmark(words[idx] ?? '')));
  }
  return gotDelim ? 0 : 1;
};

const echo: Builtin = (_sh, _env, argv, fds) => {
  out(fds, echoText(argv.slice(1)));
  return 0;
};

const printf: Builtin = (sh, env, argv, fds) => {
  let args = argv.slice(1);
  let varName: string | undefined;
  if (args[0] === '-v') {
    varName = args[1];
    args = args.slice(2);
  }
  if (args[0] === '--') args = args.slice(1);
  if (args.length === 0) {
    out2(fds, 'printf: usage: printf [-v var] format [arguments]\n');
    return 2;
  }
  const r = printfFormat(args[0], args.slice(1), 'bash');
  if (varName) sh.setVar(env, varName, r.out);
  else out(fds, r.out);
  for (const e of r.errors) err(sh, env, fds, `printf: ${e}`);
  return r.errors.length ? 1 : 0;
};

const test: Builtin = (sh, env, argv, fds) => {
  let args = argv.slice(1);
  if (argv[0] === '[') {
    if (args[args.length - 1] !== ']') {
      err(sh, env, fds, "[: missing `]'");
      return 2;
    }
    args = args.slice(0, -1);
  }
  const r = evalTest(args, { host: sh.host, pid: env.pid, cwd: env.cwd, isVarSet: (n) => env.vars.has(n) });
  if (r.error) err(sh, env, fds, `${argv[0]}: ${r.error}`);
  return r.status;
};

const jobs: Builtin = (sh, env, argv, fds) => {
  const pidsOnly = argv.includes('-p');
  const long = argv.includes('-l');
  if (!env.interactive) for (const j of sh.jobList().filter((x) => x.state === 'Done')) sh.removeJob(j);
  const list = sh.jobList();
  for (const j of list) {
    if (pidsOnly) out(fds, `${j.pid}\n`);
    else {
      let line = formatJob(j, list);
      if (long) line = line.replace(/^(\[\d+\][+\- ]) /, `$1 ${j.pid} `);
      out(fds, line + '\n');
    }
  }
  for (const j of list.filter((x) => x.state === 'Done')) sh.removeJob(j);
  return 0;
};

const kill: Builtin = (sh, env, argv, fds) => {
  let sig = 15;
  let i = 1;
  if (argv[1] === '-l' || argv[1] === '-L') {
    if (argv[2] !== undefined) {
      const n = Number(argv[2]);
      const name = Object.entries(SIGNALS).find(([, v]) => v === (n > 128 ? n - 128 : n))?.[0];
      if (!name) {
        err(sh, env, fds, `kill: ${argv[2]}: invalid signal specification`);
        return 1;
      }
      out(fds, name + '\n');
      return 0;
    }
    const entries = Object.entries(SIGNALS);
    let line = '';
    entries.forEach(([name, n], idx) => {
      line += `${String(n).padStart(2)}) SIG${name}`;
      if ((idx + 1) % 5 === 0 || idx === entries.length - 1) {
        out(fds, line + '\n');
        line = '';
      } else line = line.padEnd(line.length + Math.max(1, 16 - (`${String(n).padStart(2)}) SIG${name}`.length)), ' ').replace(/ +$/, '\t');
    });
    return 0;
  }
  if (argv[1] === '-s' || argv[1] === '-n') {
    const s = parseSignal(argv[2] ?? '');
    if (s === undefined) {
      err(sh, env, fds, `kill: ${argv[2] ?? ''}: invalid signal specification`);
      return 1;
    }
    sig = s;
    i = 3;
  } else if (argv[1]?.startsWith('-') && argv[1] !== '--' && argv[1].length > 1) {
    const s = parseSignal(argv[1].slice(1));
    if (s === undefined) {
      err(sh, env, fds, `kill: ${argv[1].slice(1)}: invalid signal specification`);
      return 1;
    }
    sig = s;
    i = 2;
  }
  if (argv[i] === '--') i++;
  if (i >= argv.length) {
    out2(fds, 'kill: usage: kill [-s sigspec | -n signum | -sigspec] pid | jobspec ... or kill -l [sigspec]\n');
    return 2;
  }
  let status = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('%')) {
      const j = sh.findJob(a);
      if (!j) {
        err(sh, env, fds, `kill: ${a}: no such job`);
        status = 1;
        continue;
      }
      sh.killJob(j, sig, env.pid);
      continue;
    }
    if (!/^-?\d+$/.test(a)) {
      err(sh, env, fds, `kill: ${a}: arguments must be process or job IDs`);
      status = 1;
      continue;
    }
    const pid = Number(a);
    const j = sh.findJob(String(pid));
    if (j) {
      sh.killJob(j, sig, env.pid);
      continue;
    }
    try {
      sh.host.kill(pid, sig, env.pid);
    } catch (e) {
      if (e instanceof KernelError) {
        err(sh, env, fds, `kill: (${pid}) - ${e.message}`);
        status = 1;
        continue;
      }
      throw e;
    }
  }
  return status;
};

const wait: Builtin = function* (sh, env, argv, fds): Co<number> {
  const args = argv.slice(1).filter((a) => a !== '-n' && a !== '-f');
  if (args.length === 0) {
    const ids = sh.jobList().filter((j) => j.state === 'Running').map((j) => j.id);
    if (ids.length) yield { t: 'wait', jobs: ids };
    for (const j of sh.jobList().filter((x) => x.state === 'Done')) sh.removeJob(j);
    return 0;
  }
  let status = 0;
  for (const a of args) {
    const j = sh.findJob(a);
    if (!j) {
      if (a.startsWith('%')) err(sh, env, fds, `wait: ${a}: no such job`);
      else if (/^\d+$/.test(a)) err(sh, env, fds, `wait: pid ${a} is not a child of this shell`);
      else err(sh, env, fds, `wait: \`${a}': not a pid or valid job spec`);
      status = 127;
      continue;
    }
    if (j.state === 'Running') yield { t: 'wait', jobs: [j.id] };
    status = j.state === 'Done' ? j.status : 0;
    if (j.state === 'Done') sh.removeJob(j);
  }
  return status;
};

const fg: Builtin = function* (sh, env, argv, fds): Co<number> {
  if (!env.interactive) {
    err(sh, env, fds, `${argv[0]}: no job control`);
    return 1;
  }
  const spec = argv[1] ?? '%+';
  const j = sh.findJob(spec.startsWith('%') || /^\d+$/.test(spec) ? spec : `%${spec}`);
  if (!j) {
    err(sh, env, fds, `${argv[0]}: ${argv[1] ?? 'current'}: no such job`);
    return 1;
  }
  if (argv[0] === 'bg') {
    if (j.state === 'Stopped') sh.killJob(j, 18);
    out(fds, `[${j.id}]+ ${j.text} &\n`);
    return 0;
  }
  out(fds, `${j.text}\n`);
  if (j.state === 'Done') {
    sh.removeJob(j);
    return j.status;
  }
  const taken = sh.takeJob(j as never);
  if (!taken) return 0;
  return yield* taken.co;
};

const typeB: Builtin = (sh, env, argv, fds) => {
  let terse = false;
  let all = false;
  let pathOnly = false;
  const names: string[] = [];
  for (const a of argv.slice(1)) {
    if (/^-[tapP]+$/.test(a)) {
      if (a.includes('t')) terse = true;
      if (a.includes('a')) all = true;
      if (a.includes('p') || a.includes('P')) pathOnly = true;
    } else names.push(a);
  }
  let status = 0;
  for (const n of names) {
    let found = false;
    if (!pathOnly && RESERVED.has(n)) {
      out(fds, terse ? 'keyword\n' : `${n} is a shell keyword\n`);
      found = true;
      if (!all) continue;
    }
    const f = env.funcs.get(n);
    if (!pathOnly && f) {
      out(fds, terse ? 'function\n' : `${n} is a function\n${f.text}\n`);
      found = true;
      if (!all) continue;
    }
    if (!pathOnly && builtin(n)) {
      out(fds, terse ? 'builtin\n' : `${n} is a shell builtin\n`);
      found = true;
      if (!all) continue;
    }
    const r = sh.resolveCommand(env, n);
    if ('path' in r) {
      out(fds, terse || pathOnly ? `${r.path}\n` : `${n} is ${r.path}\n`);
      found = true;
    }
    if (!found) {
      if (!terse && !pathOnly) err(sh, env, fds, `type: ${n}: not found`);
      status = 1;
    }
  }
  return status;
};

const command: Builtin = function* (sh, env, argv, fds): Co<number> {
  let i = 1;
  let v = false;
  let V = false;
  while (i < argv.length && /^-[pvV]+$/.test(argv[i])) {
    if (argv[i].includes('v')) v = true;
    if (argv[i].includes('V')) V = true;
    i++;
  }
  const rest = argv.slice(i);
  if (rest.length === 0) return 0;
  if (v || V) {
    let status = 0;
    for (const n of rest) {
      if (env.funcs.has(n) || builtin(n) || RESERVED.has(n)) {
        if (V) out(fds, env.funcs.has(n) ? `${n} is a function\n` : builtin(n) ? `${n} is a shell builtin\n` : `${n} is a shell keyword\n`);
        else out(fds, n + '\n');
        continue;
      }
      const r = sh.resolveCommand(env, n);
      if ('path' in r) out(fds, V ? `${n} is ${r.path}\n` : `${r.path}\n`);
      else {
        if (V) err(sh, env, fds, `command: ${n}: not found`);
        status = 1;
      }
    }
    return status;
  }
  const saved = env.funcs;
  env.funcs = new Map();
  try {
    return yield* sh.invoke(env, rest, {}, fds);
  } finally {
    env.funcs = saved;
  }
};

const letB: Builtin = (sh, env, argv, fds) => {
  if (argv.length < 2) {
    err(sh, env, fds, 'let: expression expected');
    return 1;
  }
  let v = 0n;
  for (const a of argv.slice(1)) {
    try {
      v = evalArith(a, { get: (n) => sh.lookupVar(env, n), set: (n, x) => sh.setVar(env, n, x) });
    } catch (e) {
      if (e instanceof ArithError) {
        err(sh, env, fds, `let: ${e.message}`);
        return 1;
      }
      throw e;
    }
  }
  return v !== 0n ? 0 : 1;
};

const umask: Builtin = (sh, env, argv, fds) => {
  const cur = sh.lookupVar(env, '__umask') ?? '0022';
  if (argv[1] === undefined) {
    out(fds, cur + '\n');
    return 0;
  }
  if (argv[1] === '-S') {
    const m = parseInt(cur, 8);
    const f = (shift: number): string => {
      const bits = (~m >> shift) & 7;
      return (bits & 4 ? 'r' : '') + (bits & 2 ? 'w' : '') + (bits & 1 ? 'x' : '');
    };
    out(fds, `u=${f(6)},g=${f(3)},o=${f(0)}\n`);
    return 0;
  }
  if (!/^[0-7]{1,4}$/.test(argv[1])) {
    err(sh, env, fds, `umask: ${argv[1]}: octal number out of range`);
    return 1;
  }
  env.vars.set('__umask', { value: argv[1].padStart(4, '0') });
  return 0;
};

const history: Builtin = (sh, _env, argv, fds) => {
  if (argv[1] === '-c') {
    sh.history = [];
    return 0;
  }
  const h = sh.history;
  const n = argv[1] !== undefined && /^\d+$/.test(argv[1]) ? Number(argv[1]) : h.length;
  const start = Math.max(0, h.length - n);
  for (let i = start; i < h.length; i++) out(fds, `${String(i + 1).padStart(5)}  ${h[i]}\n`);
  return 0;
};

const getopts: Builtin = (sh, env, argv, fds) => {
  if (argv.length < 3) {
    out2(fds, 'getopts: usage: getopts optstring name [arg ...]\n');
    return 2;
  }
  const optstring = argv[1];
  const name = argv[2];
  const args = argv.length > 3 ? argv.slice(3) : env.positional;
  let optind = Number(sh.lookupVar(env, 'OPTIND') ?? '1') || 1;
  let sub = Number(sh.lookupVar(env, '__optsub') ?? '1') || 1;
  const silent = optstring.startsWith(':');
  const spec = silent ? optstring.slice(1) : optstring;
  const arg = args[optind - 1];
  const done = (): number => {
    sh.setVar(env, name, '?');
    sh.setVar(env, 'OPTIND', String(optind));
    env.vars.delete('__optsub');
    return 1;
  };
  if (arg === undefined || arg === '-' || !arg.startsWith('-')) return done();
  if (arg === '--') {
    optind++;
    return done();
  }
  const ch = arg[sub];
  const idx = spec.indexOf(ch);
  const advance = (): void => {
    if (sub + 1 >= arg.length) {
      optind++;
      sub = 1;
    } else sub++;
  };
  if (idx < 0 || ch === ':') {
    advance();
    sh.setVar(env, 'OPTIND', String(optind));
    env.vars.set('__optsub', { value: String(sub) });
    sh.setVar(env, name, '?');
    if (silent) sh.setVar(env, 'OPTARG', ch);
    else {
      env.vars.delete('OPTARG');
      out2(fds, `${env.name}: illegal option -- ${ch}\n`);
    }
    return 0;
  }
  if (spec[idx + 1] === ':') {
    let val: string | undefined;
    if (sub + 1 < arg.length) {
      val = arg.slice(sub + 1);
      optind++;
    } else {
      val = args[optind];
      optind += 2;
    }
    sub = 1;
    if (val === undefined) {
      sh.setVar(env, 'OPTIND', String(optind - 1));
      if (silent) {
        sh.setVar(env, name, ':');
        sh.setVar(env, 'OPTARG', ch);
      } else {
        sh.setVar(env, name, '?');
        out2(fds, `${env.name}: option requires an argument -- ${ch}\n`);
      }
      return 0;
    }
    sh.setVar(env, 'OPTARG', val);
  } else {
    advance();
    env.vars.delete('OPTARG');
  }
  sh.setVar(env, 'OPTIND', String(optind));
  env.vars.set('__optsub', { value: String(sub) });
  sh.setVar(env, name, ch);
  return 0;
};

const exec: Builtin = function* (sh, env, argv, fds): Co<number> {
  if (argv.length < 2) return 0;
  env.execReady = true;
  const st = yield* sh.invoke(env, argv.slice(1), {}, fds);
  throw new ExitSignal(st);
};

/** ulimit's resources as bash 5.2 lists them (-a): option, RLIMIT_*, unit factor, description, unit */
const ULIMITS: readonly { opt: string; res: number; factor: number; desc: string; unit: string }[] = [
  { opt: 'R', res: 15, factor: 1, desc: 'real-time non-blocking time', unit: 'microseconds' },
  { opt: 'c', res: 4, factor: 1024, desc: 'core file size', unit: 'blocks' },
  { opt: 'd', res: 2, factor: 1024, desc: 'data seg size', unit: 'kbytes' },
  { opt: 'e', res: 13, factor: 1, desc: 'scheduling priority', unit: '' },
  { opt: 'f', res: 1, factor: 1024, desc: 'file size', unit: 'blocks' },
  { opt: 'i', res: 11, factor: 1, desc: 'pending signals', unit: '' },
  { opt: 'l', res: 8, factor: 1024, desc: 'max locked memory', unit: 'kbytes' },
  { opt: 'm', res: 5, factor: 1024, desc: 'max memory size', unit: 'kbytes' },
  { opt: 'n', res: 7, factor: 1, desc: 'open files', unit: '' },
  { opt: 'p', res: -1, factor: 1, desc: 'pipe size', unit: '512 bytes' },
  { opt: 'q', res: 12, factor: 1, desc: 'POSIX message queues', unit: 'bytes' },
  { opt: 'r', res: 14, factor: 1, desc: 'real-time priority', unit: '' },
  { opt: 's', res: 3, factor: 1024, desc: 'stack size', unit: 'kbytes' },
  { opt: 't', res: 0, factor: 1, desc: 'cpu time', unit: 'seconds' },
  { opt: 'u', res: 6, factor: 1, desc: 'max user processes', unit: '' },
  { opt: 'v', res: 9, factor: 1024, desc: 'virtual memory', unit: 'kbytes' },
  { opt: 'x', res: 10, factor: 1, desc: 'file locks', unit: '' },
];

/** ulimit [-SHa] [-RcdefilmnpqrstuvxP] [limit]: the shell process's resource limits (getrlimit/setrlimit) */
const ulimit: Builtin = (sh, env, argv, fds) => {
  let hard = false;
  let soft = false;
  let all = false;
  const picked: (typeof ULIMITS)[number][] = [];
  let value: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      value = argv[i + 1];
      break;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (const ch of a.slice(1)) {
        if (ch === 'H') hard = true;
        else if (ch === 'S') soft = true;
        else if (ch === 'a') all = true;
        else {
          const u = ULIMITS.find((x) => x.opt === ch);
          if (!u) {
            err(sh, env, fds, `ulimit: -${ch}: invalid option`);
            out2(fds, 'ulimit: usage: ulimit [-SHabcdefiklmnpqrstuvxPRT] [limit]\n');
            return 2;
          }
          picked.push(u);
        }
      }
      continue;
    }
    value = a;
  }
  const pid = env.pid;
  const show = (v: number, factor: number): string => (v < 0 ? 'unlimited' : String(Math.floor(v / factor)));
  const get = (u: (typeof ULIMITS)[number]): string => {
    if (u.res < 0) return '8';
    const [s, h] = sh.host.getRlimit(pid, u.res);
    return show(hard && !soft ? h : s, u.factor);
  };
  // printf("%-20s %20s", description, "(unit, -X) ")
  const label = (u: (typeof ULIMITS)[number]): string => `${u.desc.padEnd(20)} ${`${u.unit ? `(${u.unit}, ` : '('}-${u.opt}) `.padStart(20)}`;
  if (all) {
    out(fds, ULIMITS.map((u) => `${label(u)}${get(u)}\n`).join(''));
    return 0;
  }
  if (picked.length === 0) picked.push(ULIMITS.find((u) => u.opt === 'f')!);
  if (value === undefined) {
    if (picked.length === 1) out(fds, get(picked[0]) + '\n');
    else out(fds, picked.map((u) => `${label(u)}${get(u)}\n`).join(''));
    return 0;
  }
  let status = 0;
  for (const u of picked) {
    if (u.res < 0) {
      err(sh, env, fds, `ulimit: ${u.desc}: cannot modify limit: Invalid argument`);
      status = 1;
      continue;
    }
    const [curSoft, curHard] = sh.host.getRlimit(pid, u.res);
    let v: number;
    if (value === 'unlimited') v = -1;
    else if (value === 'hard') v = curHard;
    else if (value === 'soft') v = curSoft;
    else if (/^\d+$/.test(value)) {
      v = Number(value) * u.factor;
      if (!Number.isSafeInteger(v)) v = -1;
    } else {
      err(sh, env, fds, `ulimit: ${value}: invalid number`);
      return 1;
    }
    // neither -H nor -S: both limits
    const setSoft = soft || !hard;
    const setHard = hard || !soft;
    try {
      sh.host.setRlimit(pid, u.res, setSoft ? v : curSoft, setHard ? v : curHard);
    } catch (e) {
      if (e instanceof KernelError) {
        err(sh, env, fds, `ulimit: ${u.desc}: cannot modify limit: ${e.message}`);
        status = 1;
        continue;
      }
      throw e;
    }
  }
  return status;
};

const times: Builtin = (_sh, _env, _argv, fds) => {
  out(fds, '0m0.000s 0m0.000s\n0m0.000s 0m0.000s\n');
  return 0;
};

const noop: Builtin = () => 0;

/** The builtin table (name -> implementation). */
export const BUILTINS: Readonly<Record<string, Builtin>> = {
  ':': noop,
  true: noop,
  false: () => 1,
  echo,
  printf,
  test,
  '[': test,
  cd,
  pwd,
  export: exportB,
  readonly: readonlyB,
  unset,
  local,
  declare,
  typeset: declare,
  set,
  shift,
  exit,
  return: ret,
  break: loopCtl('break'),
  continue: loopCtl('continue'),
  eval: evalB,
  source,
  '.': source,
  read,
  jobs,
  kill,
  wait,
  fg,
  bg: fg,
  type: typeB,
  command,
  let: letB,
  umask,
  history,
  getopts,
  exec,
  times,
  hash: (sh, _env, argv) => {
    if (argv.includes('-r')) sh.clearHash();
    return 0;
  },
  trap: (sh, env, argv, fds) => {
    const args = argv.slice(1).filter((a) => a !== '--');
    if (args.length === 0 || args[0] === '-p') {
      if (sh.exitTrap !== null) out(fds, `trap -- ${shellQuote(sh.exitTrap)} EXIT\n`);
      return 0;
    }
    if (args[0] === '-l') return 0;
    const [action, ...sigs] = args.length === 1 ? ['-', ...args] : args;
    for (const s of sigs) {
      const name = s.toUpperCase().replace(/^SIG/, '');
      if (name === 'EXIT' || name === '0') sh.exitTrap = action === '-' ? null : action;
      else if (parseSignal(name) === undefined && !['ERR', 'DEBUG', 'RETURN'].includes(name)) {
        err(sh, env, fds, `trap: ${s}: invalid signal specification`);
        return 1;
      }
      // other signals: accepted, not delivered to the shell in this model
    }
    return 0;
  },
  alias: noop,
  unalias: noop,
  shopt: noop,
  ulimit,
  disown: (sh, _env, argv) => {
    const j = sh.findJob(argv[1] ?? '%+');
    if (j) sh.removeJob(j);
    return 0;
  },
  suspend: noop,
  logout: exit,
};

/** the builtin called `name`, if there is one (own properties only: `valueOf` is no builtin) */
export function builtin(name: string): Builtin | undefined {
  return Object.prototype.hasOwnProperty.call(BUILTINS, name) ? BUILTINS[name] : undefined;
}
