import type { Expr, MapExpr, Probe, Program, Stmt } from './ast';
import { formatBuf, formatInt, formatStr, parseFormat } from './format';
import { type AggState, bufText, histIndex, isAgg, jsonEvent, jsonStr, lhistIndex, type MapEntry, mapJson, mapText, type MapView, stackText, type Val, valText } from './output';
import { type MapInfo, taskPath } from './semantic';
import type { AggFn, Ty } from './types';

/** What the machine knows about the context a probe fires in. */
export interface FiringContext {
  pid: number;
  tid: number;
  uid?: number;
  gid?: number;
  cpu?: number;
  comm: string;
  username?: string;
  cgroup?: number;
  curtask?: number;
  /** kernel stack frames, innermost first, as `sym+off` */
  kstack?: readonly string[];
  ustack?: readonly string[];
  /** function name (func builtin) */
  func?: string;
  /** arg0..argN */
  argv?: readonly (number | bigint)[];
  retval?: number | bigint;
  /** tracepoint fields (args->field) */
  args?: Readonly<Record<string, number | bigint | string | boolean | readonly string[] | undefined>>;
  /** `curtask->a->b`: the task member at a path (see semantic taskPath) */
  task?: (path: readonly string[]) => number | bigint | string | undefined;
  /** user/kernel memory holding strings (str(ptr) of a pointer the firing carries, e.g. readline's return value) */
  mem?: ReadonlyMap<bigint, string>;
}

/** Host interface: time, randomness and output come from the simulated machine. */
export interface ProbeHost {
  /** monotonic ns since boot (nsecs) */
  now(): number;
  /** wall clock, ms since the epoch (time(), strftime()) */
  realtimeMs(): number;
  /** a random u32 (rand builtin) */
  rand(): number;
  /** stdout text */
  emit(text: string): void;
  /** stderr text */
  emitErr?(text: string): void;
  /** file contents for cat(); null if missing */
  readFile?(path: string): string | null;
  /** symbol for an address (ksym/usym) */
  ksym?(addr: bigint): string | undefined;
  /** address of a kernel symbol (kaddr) */
  kaddr?(name: string): bigint | undefined;
  /** side effects of unsafe functions */
  system?(command: string): string;
  signal?(pid: number, sig: number): void;
}

export interface Limits {
  /** evaluation steps per probe firing (BPF programs are bounded: the verifier allows 1M instructions) */
  stepsPerFiring: number;
  /** iterations of one while loop */
  loopIterations: number;
  /** BPF map max entries (BPFTRACE_MAP_KEYS_MAX) */
  mapKeysMax: number;
  /** bytes of stdout before the run is stopped */
  maxOutputBytes: number;
  /** string size (BPFTRACE_STRLEN) */
  strlen: number;
  /** evaluation steps over the whole run (the deterministic stand-in for a wall-time cap) */
  totalSteps: number;
  /** probe firings over the whole run */
  totalFirings: number;
}

export const DEFAULT_LIMITS: Limits = {
  stepsPerFiring: 1_000_000,
  loopIterations: 1_000_000,
  mapKeysMax: 4096,
  maxOutputBytes: 4 * 1024 * 1024,
  strlen: 64,
  totalSteps: 50_000_000,
  totalFirings: 2_000_000,
};

const AGG_CALLS: ReadonlySet<string> = new Set(['count', 'sum', 'min', 'max', 'avg', 'stats', 'hist', 'lhist']);

class ExitAction extends Error {}
class BreakLoop extends Error {}
class ContinueLoop extends Error {}
export class BudgetExceeded extends Error {}
class OutputFull extends Error {}

interface Frame {
  vars: Map<string, Val>;
  ctx: FiringContext;
  probeName: string;
  steps: number;
}

function toBig(v: number | bigint | undefined): bigint {
  if (v === undefined) return 0n;
  return typeof v === 'bigint' ? v : BigInt(Math.trunc(v));
}

function truthy(v: Val): boolean {
  return typeof v === 'bigint' ? v !== 0n : true;
}

/** The bounded interpreter: evaluates probe actions against maps and the host. */
export class Interpreter {
  readonly maps = new Map<string, Map<string, MapEntry>>();
  exited = false;
  aborted: string | null = null;
  private seq = 0;
  private outBytes = 0;
  /** steps and firings of the run so far */
  steps = 0;
  firings = 0;
  private warnedFull = new Set<string>();
  private readonly startNs: number;

  constructor(
    readonly program: Program,
    readonly mapInfo: Map<string, MapInfo>,
    readonly types: Map<Expr, Ty>,
    readonly host: ProbeHost,
    readonly opts: { args: string[]; json: boolean; limits: Limits },
  ) {
    this.startNs = host.now();
  }

  /** output of the firing in progress: discarded if the firing turns out to be unloadable */
  private pending: string | null = null;
  /** scratch-variable table reused by the outermost firing (firings may nest: a probe's action can make the model fire another) */
  private readonly scratch = new Map<string, Val>();
  private depth = 0;

  out(text: string): void {
    this.outBytes += text.length;
    if (this.outBytes > this.opts.limits.maxOutputBytes) throw new OutputFull();
    if (this.pending !== null) this.pending += text;
    else this.host.emit(text);
  }

  private flush(): void {
    const p = this.pending;
    this.pending = null;
    if (p) this.host.emit(p);
  }

  err(text: string): void {
    this.host.emitErr?.(text);
  }

  /** Runs one probe's action (predicate + body); sets `exited` or `aborted` when the run must stop. */
  fire(probe: Probe, probeName: string, ctx: FiringContext): void {
    if (this.exited || this.aborted) return;
    if (++this.firings > this.opts.limits.totalFirings || this.steps > this.opts.limits.totalSteps) {
      this.aborted = `ERROR: run limit exceeded (${this.firings > this.opts.limits.totalFirings ? `${this.opts.limits.totalFirings} probe firings` : `${this.opts.limits.totalSteps} steps`}); stopping\n`;
      this.err(this.aborted);
      return;
    }
    const outer = this.pending;
    if (outer) {
      // output of the firing this one interrupts goes first
      this.pending = null;
      this.host.emit(outer);
    }
    let vars: Map<string, Val>;
    if (this.depth === 0) {
      vars = this.scratch;
      vars.clear();
    } else vars = new Map();
    const f: Frame = { vars, ctx, probeName, steps: 0 };
    this.pending = '';
    this.depth++;
    try {
      this.run(probe, f);
    } finally {
      this.depth--;
      this.pending = outer === null ? null : '';
    }
  }

  private run(probe: Probe, f: Frame): void {
    try {
      if (probe.predicate && !truthy(this.eval(probe.predicate, f))) return this.flush();
      this.block(probe.body, f);
      this.flush();
    } catch (e) {
      if (e instanceof ExitAction) return this.flush();
      if (e instanceof BudgetExceeded) {
        // a program that may not terminate is one the BPF verifier rejects: nothing of this firing is shown
        this.pending = null;
        this.aborted = `ERROR: Error loading program: ${f.probeName} (try -v)\n`;
        this.err(this.aborted);
        return;
      }
      this.flush();
      if (e instanceof OutputFull) {
        this.aborted = `ERROR: output limit of ${this.opts.limits.maxOutputBytes} bytes exceeded; stopping\n`;
        this.err(this.aborted);
        return;
      }
      if (e instanceof BreakLoop || e instanceof ContinueLoop) return;
      throw e;
    }
  }

  private tick(f: Frame): void {
    this.steps++;
    if (++f.steps > this.opts.limits.stepsPerFiring) throw new BudgetExceeded();
  }

  private block(ss: Stmt[], f: Frame): void {
    for (const s of ss) this.stmt(s, f);
  }

  private stmt(s: Stmt, f: Frame): void {
    this.tick(f);
    switch (s.kind) {
      case 'expr':
        this.eval(s.expr, f);
        return;
      case 'assignVar': {
        const v = this.eval(s.value, f);
        if (s.op === '=') f.vars.set(s.name, this.fitVal(v, s.value));
        else f.vars.set(s.name, this.arith(s.op.slice(0, -1), (f.vars.get(s.name) as bigint) ?? 0n, v as bigint, false));
        return;
      }
      case 'assignMap': {
        const key = this.keyOf(s.map, f);
        if (s.op === '=' && s.value.kind === 'call' && this.isAggCall(s.value)) {
          const args = s.value.args.map((a) => this.eval(a, f) as bigint);
          this.aggregate(s.map.name, key, s.value.name as AggFn, args);
          return;
        }
        const v = this.eval(s.value, f);
        if (s.op === '=') this.mapSet(s.map.name, key, this.fitVal(v, s.value));
        else {
          const cur = this.mapGetInt(s.map.name, key);
          this.mapSet(s.map.name, key, this.arith(s.op.slice(0, -1), cur, v as bigint, false));
        }
        return;
      }
      case 'if':
        if (truthy(this.eval(s.cond, f))) this.block(s.then, f);
        else if (s.else) this.block(s.else, f);
        return;
      case 'unroll': {
        const n = s.count.kind === 'int' ? Number(s.count.value) : Number(this.eval(s.count, f));
        for (let i = 0; i < Math.min(n, 100); i++) this.block(s.body, f);
        return;
      }
      case 'while': {
        let iters = 0;
        while (truthy(this.eval(s.cond, f))) {
          if (++iters > this.opts.limits.loopIterations) throw new BudgetExceeded();
          try {
            this.block(s.body, f);
          } catch (e) {
            if (e instanceof BreakLoop) break;
            if (e instanceof ContinueLoop) continue;
            throw e;
          }
        }
        return;
      }
      case 'jump':
        if (s.what === 'break') throw new BreakLoop();
        if (s.what === 'continue') throw new ContinueLoop();
        throw new ExitAction();
    }
  }

  private isAggCall(e: Extract<Expr, { kind: 'call' }>): boolean {
    return AGG_CALLS.has(e.name);
  }

  /** Truncates strings to their static size (BPF strings are fixed-size buffers). */
  private fitVal(v: Val, e: Expr): Val {
    if (typeof v === 'string') {
      const t = this.types.get(e);
      const max = t && t.k === 'str' ? Math.min(t.size, this.opts.limits.strlen) : this.opts.limits.strlen;
      return v.length > max - 1 ? v.slice(0, Math.max(0, max - 1)) : v;
    }
    return v;
  }

  private keyOf(m: MapExpr, f: Frame): Val[] {
    return m.keys ? m.keys.map((k) => this.fitVal(this.eval(k, f), k)) : [];
  }

  private keyId(key: Val[]): string {
    // fast paths for the common single-key maps (@[comm], @[pid], @)
    if (key.length === 0) return '[]';
    if (key.length === 1) {
      const k0 = key[0];
      if (typeof k0 === 'string') return 's' + k0;
      if (typeof k0 === 'bigint') return 'i' + k0;
    }
    return JSON.stringify(key, (_k, v) => (typeof v === 'bigint' ? `#${v}` : v));
  }

  private table(name: string): Map<string, MapEntry> {
    let t = this.maps.get(name);
    if (!t) {
      t = new Map();
      this.maps.set(name, t);
    }
    return t;
  }

  /** Returns the entry for key, creating it if there is room (BPF map update fails when full). */
  private entry(name: string, key: Val[], init: () => Val | AggState): MapEntry | null {
    const t = this.table(name);
    const id = this.keyId(key);
    let e = t.get(id);
    if (!e) {
      if (t.size >= this.opts.limits.mapKeysMax) {
        if (!this.warnedFull.has(name)) {
          this.warnedFull.add(name);
          this.err(`WARNING: Map full; can't update element. Try increasing max_map_keys config or use BPFTRACE_MAP_KEYS_MAX environment variable. (${name}, ${this.opts.limits.mapKeysMax} keys)\n`);
        }
        return null;
      }
      e = { key, value: init(), seq: this.seq++ };
      t.set(id, e);
    }
    return e;
  }

  private mapSet(name: string, key: Val[], v: Val): void {
    const e = this.entry(name, key, () => v);
    if (e) e.value = v;
  }

  private mapGet(name: string, key: Val[]): Val {
    const e = this.maps.get(name)?.get(this.keyId(key));
    if (!e) {
      const t = this.mapInfo.get(name)?.value;
      return t && t.k === 'str' ? '' : 0n;
    }
    if (isAgg(e.value)) {
      const a = e.value;
      if (a.fn === 'count' || a.fn === 'sum' || a.fn === 'min' || a.fn === 'max') return a.v;
      if (a.fn === 'avg' || a.fn === 'stats') return a.count ? a.total / a.count : 0n;
      return 0n;
    }
    return e.value;
  }

  private mapGetInt(name: string, key: Val[]): bigint {
    const v = this.mapGet(name, key);
    return typeof v === 'bigint' ? v : 0n;
  }

  private aggregate(name: string, key: Val[], fn: AggFn, args: bigint[]): void {
    const x = BigInt.asIntN(64, args[0] ?? 0n);
    const e = this.entry(name, key, () => {
      switch (fn) {
        case 'count':
        case 'sum':
          return { fn, v: 0n };
        case 'min':
        case 'max':
          return { fn, v: x };
        case 'avg':
        case 'stats':
          return { fn, count: 0n, total: 0n };
        case 'hist':
          return { fn, buckets: new Map() };
        case 'lhist':
          return { fn, buckets: new Map(), min: args[1], max: args[2], step: args[3] };
      }
    });
    if (!e || !isAgg(e.value)) return;
    const a = e.value;
    switch (a.fn) {
      case 'count':
        a.v += 1n;
        break;
      case 'sum':
        a.v = BigInt.asIntN(64, a.v + x);
        break;
      case 'min':
        if (x < a.v) a.v = x;
        break;
      case 'max':
        if (x > a.v) a.v = x;
        break;
      case 'avg':
      case 'stats':
        a.count += 1n;
        a.total = BigInt.asIntN(64, a.total + x);
        break;
      case 'hist': {
        const i = histIndex(x);
        a.buckets.set(i, (a.buckets.get(i) ?? 0n) + 1n);
        break;
      }
      case 'lhist': {
        const i = lhistIndex(x, a.min, a.max, a.step);
        a.buckets.set(i, (a.buckets.get(i) ?? 0n) + 1n);
        break;
      }
    }
  }

  view(name: string): MapView {
    const info = this.mapInfo.get(name);
    return {
      name,
      valueType: info?.value ?? { k: 'int', signed: true, bits: 64 },
      keyTypes: info?.keys ?? null,
      entries: [...(this.maps.get(name)?.values() ?? [])],
    };
  }

  printMap(name: string, top = 0, div = 1n): void {
    const v = this.view(name);
    this.out(this.opts.json ? mapJson(v, top, div) : mapText(v, top, div));
  }

  /** Prints every map in name order (what bpftrace does at exit). */
  printAllMaps(): void {
    const names = [...this.mapInfo.keys()].filter((n) => this.maps.has(n)).sort();
    for (const n of names) this.printMap(n);
  }

  private arith(op: string, a: bigint, b: bigint, signed: boolean): bigint {
    switch (op) {
      case '+':
        return BigInt.asIntN(64, a + b);
      case '-':
        return BigInt.asIntN(64, a - b);
      case '*':
        return BigInt.asIntN(64, a * b);
      case '/':
      case '%': {
        // BPF division is unsigned; division by zero yields 0 (div) / the dividend (mod)
        const ua = BigInt.asUintN(64, a);
        const ub = BigInt.asUintN(64, b);
        if (ub === 0n) return op === '/' ? 0n : a;
        void signed;
        return BigInt.asIntN(64, op === '/' ? ua / ub : ua % ub);
      }
      case '&':
        return a & b;
      case '|':
        return a | b;
      case '^':
        return a ^ b;
      case '<<':
        return BigInt.asIntN(64, a << (BigInt.asUintN(64, b) & 63n));
      case '>>':
        return BigInt.asIntN(64, BigInt.asUintN(64, a) >> (BigInt.asUintN(64, b) & 63n));
      default:
        return 0n;
    }
  }

  private isSigned(e: Expr): boolean {
    const t = this.types.get(e);
    return !t || t.k !== 'int' || t.signed;
  }

  eval(e: Expr, f: Frame): Val {
    this.tick(f);
    switch (e.kind) {
      case 'int':
        return e.value;
      case 'str':
        return e.value;
      case 'paramCount':
        return BigInt(this.opts.args.length);
      case 'param': {
        const a = this.opts.args[e.index - 1];
        if (a === undefined) return 0n;
        try {
          return BigInt(a);
        } catch {
          return 0n;
        }
      }
      case 'builtin':
        return this.builtin(e.name, f);
      case 'ident':
        return 0n;
      case 'var':
        return f.vars.get(e.name) ?? 0n;
      case 'map':
        return this.mapGet(e.name, this.keyOf(e, f));
      case 'call':
        return this.call(e, f);
      case 'binop': {
        if (e.op === '&&') return truthy(this.eval(e.left, f)) && truthy(this.eval(e.right, f)) ? 1n : 0n;
        if (e.op === '||') return truthy(this.eval(e.left, f)) || truthy(this.eval(e.right, f)) ? 1n : 0n;
        const l = this.eval(e.left, f);
        const r = this.eval(e.right, f);
        if (typeof l === 'string' || typeof r === 'string') {
          const eq = l === r;
          return (e.op === '==' ? eq : !eq) ? 1n : 0n;
        }
        const a = l as bigint;
        const b = r as bigint;
        const signed = this.isSigned(e.left) && this.isSigned(e.right);
        const sa = signed ? BigInt.asIntN(64, a) : BigInt.asUintN(64, a);
        const sb = signed ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b);
        switch (e.op) {
          case '==':
            return sa === sb ? 1n : 0n;
          case '!=':
            return sa !== sb ? 1n : 0n;
          case '<':
            return sa < sb ? 1n : 0n;
          case '>':
            return sa > sb ? 1n : 0n;
          case '<=':
            return sa <= sb ? 1n : 0n;
          case '>=':
            return sa >= sb ? 1n : 0n;
          default:
            return this.arith(e.op, a, b, signed);
        }
      }
      case 'unop': {
        const v = this.eval(e.operand, f) as bigint;
        switch (e.op) {
          case '!':
            return v === 0n ? 1n : 0n;
          case '~':
            return BigInt.asIntN(64, ~v);
          case '-':
            return BigInt.asIntN(64, -v);
          default:
            return 0n; // no kernel memory to dereference
        }
      }
      case 'incdec': {
        const d = e.op === '++' ? 1n : -1n;
        if (e.target.kind === 'var') {
          const cur = (f.vars.get(e.target.name) as bigint) ?? 0n;
          const next = BigInt.asIntN(64, cur + d);
          f.vars.set(e.target.name, next);
          return e.prefix ? next : cur;
        }
        const t = e.target as MapExpr;
        const key = this.keyOf(t, f);
        const cur = this.mapGetInt(t.name, key);
        const next = BigInt.asIntN(64, cur + d);
        this.mapSet(t.name, key, next);
        return e.prefix ? next : cur;
      }
      case 'ternary':
        return truthy(this.eval(e.cond, f)) ? this.eval(e.then, f) : this.eval(e.else, f);
      case 'tuple':
        return e.elems.map((x) => this.fitVal(this.eval(x, f), x));
      case 'field': {
        if (e.base.kind === 'builtin' && e.base.name === 'args') {
          const v = f.ctx.args?.[e.field];
          if (typeof v === 'string') return v;
          if (typeof v === 'boolean') return v ? 1n : 0n;
          if (Array.isArray(v)) return [...v] as Val;
          return toBig(v as number | bigint | undefined);
        }
        const tp = taskPath(e);
        if (tp) {
          const v = f.ctx.task?.(tp);
          return typeof v === 'string' ? v : toBig(v);
        }
        const b = this.eval(e.base, f);
        if (Array.isArray(b)) return b[Number(e.field)] ?? 0n;
        return 0n;
      }
      case 'index':
        this.eval(e.base, f);
        this.eval(e.index, f);
        return 0n;
      case 'cast': {
        const v = this.eval(e.operand, f) as bigint;
        if (e.ptr || e.type.startsWith('struct')) return v;
        const bits = Number(e.type.replace(/^u?int/, ''));
        return e.type.startsWith('u') ? BigInt.asUintN(bits, v) : BigInt.asIntN(bits, v);
      }
    }
  }

  private builtin(name: string, f: Frame): Val {
    const c = f.ctx;
    const c0 = name.charCodeAt(0);
    if (c0 === 97 /* a */ || c0 === 115 /* s */) {
      const m = /^(s?)arg(\d)$/.exec(name);
      if (m) return toBig(c.argv?.[Number(m[2])]);
    }
    switch (name) {
      case 'pid':
        return BigInt(c.pid);
      case 'tid':
        return BigInt(c.tid);
      case 'uid':
        return BigInt(c.uid ?? 0);
      case 'gid':
        return BigInt(c.gid ?? 0);
      case 'cpu':
        return BigInt(c.cpu ?? 0);
      case 'numaid':
        return 0n;
      case 'nsecs':
        return BigInt(Math.trunc(this.host.now()));
      case 'elapsed':
        return BigInt(Math.trunc(this.host.now() - this.startNs));
      case 'rand':
        return BigInt(this.host.rand() >>> 0);
      case 'cgroup':
        return BigInt(c.cgroup ?? 0);
      case 'comm':
        return c.comm.slice(0, 15);
      case 'username':
        return c.username ?? (c.uid ? String(c.uid) : 'root');
      case 'probe':
        return f.probeName;
      case 'func':
        return c.func ?? '';
      case 'retval':
        return toBig(c.retval);
      case 'curtask':
        return BigInt(c.curtask ?? 0);
      case 'kstack':
        return { stack: [...(c.kstack ?? [])] };
      case 'ustack':
        return { stack: [...(c.ustack ?? [])] };
      default:
        return 0n;
    }
  }

  /** printf-style formatting shared by printf/system/cat. */
  format(e: Extract<Expr, { kind: 'call' }>, f: Frame): string {
    const fmt = (e.args[0] as Extract<Expr, { kind: 'str' }>).value;
    const { parts } = parseFormat(fmt);
    let out = '';
    parts.forEach((p, i) => {
      if (!p.spec) {
        // text after the last argument goes out raw (a bpftrace 0.17 quirk: "%%" stays "%%")
        out += e.args.length > 1 ? p.text : p.text;
        return;
      }
      out += p.text.replace(/%%/g, '%');
      const arg = e.args[i + 1];
      const v = this.eval(arg, f);
      if (p.spec.conv === 's') out += formatStr(typeof v === 'string' ? v : valText(v, this.types.get(arg)), p.spec);
      else if (p.spec.conv.startsWith('r')) out += formatBuf(typeof v === 'object' && !Array.isArray(v) && 'buf' in v ? v.buf : String(v), p.spec);
      else out += formatInt(typeof v === 'bigint' ? v : 0n, p.spec);
    });
    return out;
  }

  private call(e: Extract<Expr, { kind: 'call' }>, f: Frame): Val {
    switch (e.name) {
      case 'printf': {
        const s = this.format(e, f);
        this.out(this.opts.json ? jsonEvent('printf', jsonStr(s)) : s);
        return 0n;
      }
      case 'system': {
        const cmd = this.format(e, f);
        const s = this.host.system ? this.host.system(cmd) : '';
        this.out(this.opts.json ? jsonEvent('system', jsonStr(s)) : s);
        return 0n;
      }
      case 'cat': {
        const path = this.format(e, f);
        const data = this.host.readFile?.(path) ?? null;
        if (data === null) this.err(`ERROR: failed to open file '${path}': No such file or directory\n`);
        else this.out(this.opts.json ? jsonEvent('cat', jsonStr(data)) : data);
        return 0n;
      }
      case 'print': {
        const a0 = e.args[0];
        if (a0.kind === 'map') {
          const top = e.args[1] ? Number(this.eval(e.args[1], f)) : 0;
          const div = e.args[2] ? (this.eval(e.args[2], f) as bigint) : 1n;
          this.printMap(a0.name, top, div);
          return 0n;
        }
        const v = this.eval(a0, f);
        const t = this.types.get(a0);
        this.out(this.opts.json ? jsonEvent('value', typeof v === 'bigint' ? valText(v, t) : jsonStr(valText(v, t))) : valText(v, t) + '\n');
        return 0n;
      }
      case 'time': {
        const fmt = e.args[0] && e.args[0].kind === 'str' ? e.args[0].value : '%H:%M:%S\n';
        const s = strftime(fmt, this.host.realtimeMs() * 1e6);
        this.out(this.opts.json ? jsonEvent('time', jsonStr(s)) : s);
        return 0n;
      }
      case 'strftime': {
        const fmt = (e.args[0] as Extract<Expr, { kind: 'str' }>).value;
        const ns = Number(this.eval(e.args[1], f));
        const bootEpochNs = this.host.realtimeMs() * 1e6 - this.host.now();
        return strftime(fmt, bootEpochNs + ns);
      }
      case 'join': {
        const v = this.eval(e.args[0], f);
        const delim = e.args[1] && e.args[1].kind === 'str' ? e.args[1].value : ' ';
        const s = (Array.isArray(v) ? v.map((x) => valText(x)) : [valText(v)]).join(delim) + '\n';
        this.out(this.opts.json ? jsonEvent('join', jsonStr(s)) : s);
        return 0n;
      }
      case 'str': {
        const v = e.args[0].kind === 'param' ? (this.opts.args[e.args[0].index - 1] ?? '') : this.eval(e.args[0], f);
        const max = e.args[1] ? Number(this.eval(e.args[1], f)) : this.opts.limits.strlen - 1;
        const s = typeof v === 'string' ? v : typeof v === 'bigint' ? (f.ctx.mem?.get(v) ?? '') : '';
        return s.slice(0, Math.max(0, Math.min(max, this.opts.limits.strlen - 1)));
      }
      case 'buf': {
        const v = this.eval(e.args[0], f);
        const len = e.args[1] ? Number(this.eval(e.args[1], f)) : this.opts.limits.strlen;
        return { buf: (typeof v === 'string' ? v : '').slice(0, Math.max(0, Math.min(len, this.opts.limits.strlen))) };
      }
      case 'ksym':
      case 'usym': {
        const a = this.eval(e.args[0], f) as bigint;
        return this.host.ksym?.(a) ?? '0x' + BigInt.asUintN(64, a).toString(16);
      }
      case 'kaddr':
      case 'uaddr': {
        const n = e.args[0].kind === 'str' ? e.args[0].value : '';
        return this.host.kaddr?.(n) ?? 0n;
      }
      case 'reg':
      case 'cgroupid':
        return 0n;
      case 'ntop': {
        const v = this.eval(e.args[e.args.length - 1], f);
        if (typeof v !== 'bigint') return valText(v);
        const n = BigInt.asUintN(32, v);
        return [0n, 8n, 16n, 24n].map((s) => ((n >> s) & 255n).toString()).join('.');
      }
      case 'strncmp': {
        const a = valText(this.eval(e.args[0], f));
        const b = valText(this.eval(e.args[1], f));
        const n = Number(this.eval(e.args[2], f));
        const pa = (a + '\0').slice(0, n);
        const pb = (b + '\0').slice(0, n);
        return pa === pb ? 0n : 1n;
      }
      case 'strcontains': {
        const a = valText(this.eval(e.args[0], f));
        const b = valText(this.eval(e.args[1], f));
        return a.includes(b) ? 1n : 0n;
      }
      case 'sizeof': {
        const a = e.args[0];
        if (a.kind === 'ident') return BigInt(Number(a.name.replace(/^u?int/, '')) / 8);
        const t = this.types.get(a);
        if (t && t.k === 'int') return BigInt(t.bits / 8);
        if (t && t.k === 'str') return BigInt(t.size);
        return 8n;
      }
      case 'bswap': {
        const v = this.eval(e.args[0], f) as bigint;
        const t = this.types.get(e.args[0]);
        const bytes = t && t.k === 'int' ? t.bits / 8 : 8;
        let out = 0n;
        for (let i = 0; i < bytes; i++) out = (out << 8n) | ((BigInt.asUintN(64, v) >> BigInt(8 * i)) & 255n);
        return out;
      }
      case 'exit':
        this.exited = true;
        throw new ExitAction();
      case 'signal': {
        const sig = Number(this.eval(e.args[0], f));
        this.host.signal?.(f.ctx.pid, sig);
        return 0n;
      }
      case 'override':
        this.eval(e.args[0], f);
        return 0n;
      case 'kstack':
        return { stack: [...(f.ctx.kstack ?? [])] };
      case 'ustack':
        return { stack: [...(f.ctx.ustack ?? [])] };
      case 'delete': {
        const m = e.args[0] as MapExpr;
        this.maps.get(m.name)?.delete(this.keyId(this.keyOf(m, f)));
        return 0n;
      }
      case 'clear': {
        this.maps.get((e.args[0] as MapExpr).name)?.clear();
        return 0n;
      }
      case 'zero': {
        const t = this.maps.get((e.args[0] as MapExpr).name);
        for (const en of t?.values() ?? []) en.value = zeroOf(en.value);
        return 0n;
      }
      default:
        return 0n;
    }
  }
}

function zeroOf(v: Val | AggState): Val | AggState {
  if (isAgg(v)) {
    switch (v.fn) {
      case 'count':
      case 'sum':
      case 'min':
      case 'max':
        return { fn: v.fn, v: 0n };
      case 'avg':
      case 'stats':
        return { fn: v.fn, count: 0n, total: 0n };
      case 'hist':
        return { fn: v.fn, buckets: new Map() };
      case 'lhist':
        return { ...v, buckets: new Map() };
    }
  }
  if (typeof v === 'bigint') return 0n;
  if (typeof v === 'string') return '';
  return v;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** strftime(3) subset in UTC (the simulated machines run in UTC); %f is microseconds (bpftrace extension). */
export function strftime(fmt: string, epochNs: number): string {
  const ms = Math.floor(epochNs / 1e6);
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  const Y = d.getUTCFullYear();
  const start = Date.UTC(Y, 0, 1);
  const yday = Math.floor((ms - start) / 86400000) + 1;
  const h = d.getUTCHours();
  return fmt.replace(/%([a-zA-Z%])/g, (all, c: string) => {
    switch (c) {
      case 'Y':
        return String(Y);
      case 'y':
        return p2(Y % 100);
      case 'm':
        return p2(d.getUTCMonth() + 1);
      case 'd':
        return p2(d.getUTCDate());
      case 'e':
        return String(d.getUTCDate()).padStart(2, ' ');
      case 'H':
        return p2(h);
      case 'I':
        return p2(h % 12 || 12);
      case 'p':
        return h < 12 ? 'AM' : 'PM';
      case 'M':
        return p2(d.getUTCMinutes());
      case 'S':
        return p2(d.getUTCSeconds());
      case 'j':
        return String(yday).padStart(3, '0');
      case 'a':
        return DAYS[d.getUTCDay()];
      case 'A':
        return ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'][d.getUTCDay()];
      case 'b':
      case 'h':
        return MONTHS[d.getUTCMonth()];
      case 'T':
        return `${p2(h)}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
      case 'D':
        return `${p2(d.getUTCMonth() + 1)}/${p2(d.getUTCDate())}/${p2(Y % 100)}`;
      case 'F':
        return `${Y}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
      case 's':
        return String(Math.floor(ms / 1000));
      case 'f':
        return String(Math.floor(epochNs / 1000) % 1000000).padStart(6, '0');
      case 'Z':
        return 'UTC';
      case 'z':
        return '+0000';
      case '%':
        return '%';
      default:
        return all;
    }
  });
}

export { bufText, stackText };
