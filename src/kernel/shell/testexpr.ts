import type { ShellHost, StatInfo } from './host';

/**
 * test(1) / [ / [[ ]] expression evaluation. Returns the exit status
 * (0 true, 1 false, 2 error) and bash's error message when there is one.
 */
export interface TestEnv {
  host: ShellHost;
  pid: number;
  cwd: string;
  /** [[ ]]: pattern matching for == and !=, regex for =~ */
  match?: (s: string, pat: string) => boolean;
  regex?: (s: string, re: string) => boolean | null;
  isVarSet?: (name: string) => boolean;
}

export interface TestResult {
  status: number;
  error?: string;
}

const UNARY = new Set(['-a', '-b', '-c', '-d', '-e', '-f', '-g', '-h', '-k', '-p', '-r', '-s', '-t', '-u', '-w', '-x', '-G', '-L', '-N', '-O', '-S', '-z', '-n', '-v', '-o']);
const BINARY = new Set(['=', '==', '!=', '<', '>', '-eq', '-ne', '-lt', '-le', '-gt', '-ge', '-nt', '-ot', '-ef', '=~']);

class TestError extends Error {}

export function evalTest(args: string[], env: TestEnv): TestResult {
  try {
    const v = testArgs(args, env);
    return { status: v ? 0 : 1 };
  } catch (e) {
    if (e instanceof TestError) return { status: 2, error: e.message };
    throw e;
  }
}

function statOf(env: TestEnv, path: string, follow = true): StatInfo | undefined {
  if (path === '') return undefined;
  try {
    return env.host.stat(env.pid, path, env.cwd, follow);
  } catch {
    return undefined;
  }
}

function unary(op: string, a: string, env: TestEnv): boolean {
  switch (op) {
    case '-z':
      return a.length === 0;
    case '-n':
      return a.length > 0;
    case '-v':
      return env.isVarSet ? env.isVarSet(a) : false;
    case '-o':
      return false;
    case '-t':
      return false;
    case '-h':
    case '-L':
      return statOf(env, a, false)?.type === 'link';
  }
  const st = statOf(env, a);
  if (!st) return false;
  switch (op) {
    case '-e':
    case '-a':
      return true;
    case '-f':
      return st.type === 'file';
    case '-d':
      return st.type === 'dir';
    case '-b':
      return st.type === 'blk';
    case '-c':
      return st.type === 'chr';
    case '-p':
    case '-S':
      return false;
    case '-s':
      return st.size > 0;
    case '-g':
      return (st.perm & 0o2000) !== 0;
    case '-u':
      return (st.perm & 0o4000) !== 0;
    case '-k':
      return (st.perm & 0o1000) !== 0;
    case '-r':
      return env.host.access(env.pid, a, env.cwd, 4);
    case '-w':
      return env.host.access(env.pid, a, env.cwd, 2);
    case '-x':
      return env.host.access(env.pid, a, env.cwd, 1);
    case '-O':
      return st.uid === env.host.uid;
    case '-G':
      return st.gid === env.host.gid;
    case '-N':
      return false;
  }
  return false;
}

function toInt(s: string): bigint {
  const t = s.trim();
  if (!/^[-+]?[0-9]+$/.test(t)) throw new TestError(`${s}: integer expression expected`);
  return BigInt(t);
}

function binary(a: string, op: string, b: string, env: TestEnv): boolean {
  switch (op) {
    case '=':
    case '==':
      return env.match ? env.match(a, b) : a === b;
    case '!=':
      return env.match ? !env.match(a, b) : a !== b;
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '=~': {
      const r = env.regex ? env.regex(a, b) : null;
      if (r === null) throw new TestError('');
      return r;
    }
    case '-eq':
      return toInt(a) === toInt(b);
    case '-ne':
      return toInt(a) !== toInt(b);
    case '-lt':
      return toInt(a) < toInt(b);
    case '-le':
      return toInt(a) <= toInt(b);
    case '-gt':
      return toInt(a) > toInt(b);
    case '-ge':
      return toInt(a) >= toInt(b);
    case '-nt':
    case '-ot': {
      const x = statOf(env, a);
      const y = statOf(env, b);
      if (op === '-nt') return !!x && (!y || x.mtimeNs > y.mtimeNs);
      return !!y && (!x || x.mtimeNs < y.mtimeNs);
    }
    case '-ef': {
      const x = statOf(env, a);
      const y = statOf(env, b);
      return !!x && !!y && x.ino === y.ino && x.dev === y.dev;
    }
  }
  throw new TestError(`${op}: binary operator expected`);
}

/** POSIX test: decided by the number of arguments first, then a recursive grammar. */
function testArgs(args: string[], env: TestEnv): boolean {
  switch (args.length) {
    case 0:
      return false;
    case 1:
      return args[0].length > 0;
    case 2:
      if (args[0] === '!') return args[1].length === 0;
      if (UNARY.has(args[0])) return unary(args[0], args[1], env);
      throw new TestError(`${args[0]}: unary operator expected`);
    case 3:
      if (BINARY.has(args[1]) || args[1] === '-a' || args[1] === '-o') {
        if (args[1] === '-a') return args[0].length > 0 && args[2].length > 0;
        if (args[1] === '-o') return args[0].length > 0 || args[2].length > 0;
        return binary(args[0], args[1], args[2], env);
      }
      if (args[0] === '!') return !testArgs(args.slice(1), env);
      if (args[0] === '(' && args[2] === ')') return args[1].length > 0;
      throw new TestError(`${args[1]}: binary operator expected`);
    case 4:
      if (args[0] === '!') return !testArgs(args.slice(1), env);
      if (args[0] === '(' && args[3] === ')') return testArgs(args.slice(1, 3), env);
  }
  const p = new Expr(args, env);
  const v = p.or();
  if (p.i < args.length) throw new TestError(p.i < args.length ? `${args[p.i]}: binary operator expected` : 'syntax error');
  return v;
}

class Expr {
  i = 0;
  constructor(
    private readonly a: string[],
    private readonly env: TestEnv,
  ) {}

  or(): boolean {
    let v = this.and();
    while (this.a[this.i] === '-o') {
      this.i++;
      const r = this.and();
      v = v || r;
    }
    return v;
  }

  and(): boolean {
    let v = this.not();
    while (this.a[this.i] === '-a') {
      this.i++;
      const r = this.not();
      v = v && r;
    }
    return v;
  }

  not(): boolean {
    if (this.a[this.i] === '!') {
      this.i++;
      return !this.not();
    }
    return this.prim();
  }

  prim(): boolean {
    const a = this.a;
    if (this.i >= a.length) throw new TestError('argument expected');
    if (a[this.i] === '(') {
      this.i++;
      const v = this.or();
      if (a[this.i] !== ')') throw new TestError("`)' expected");
      this.i++;
      return v;
    }
    if (this.i + 2 < a.length + 0 && BINARY.has(a[this.i + 1])) {
      const v = binary(a[this.i], a[this.i + 1], a[this.i + 2], this.env);
      this.i += 3;
      return v;
    }
    if (UNARY.has(a[this.i]) && this.i + 1 < a.length) {
      const v = unary(a[this.i], a[this.i + 1], this.env);
      this.i += 2;
      return v;
    }
    return a[this.i++].length > 0;
  }
}
