import { type AttachPoint, type Expr, type Loc, type MapExpr, mergeLoc, NO_LOC, type Probe, type Program, type Stmt } from './ast';
import type { Diagnostic } from './diagnostics';
import { parseFormat, specExpects } from './format';
import { INT_TYPES, spanOf } from './parser';
import { AGG_FNS, type AggFn, INT64, isStringy, kindName, NONE, sameKind, type Ty, tyName, UINT64 } from './types';

export interface SemanticOptions {
  /** positional parameters $1..$N */
  args: string[];
  unsafe: boolean;
  /** available probes (`bpftrace -l` form, e.g. `kprobe:vfs_read`); when absent, kprobe/tracepoint names are not checked */
  probeList?: readonly string[];
  /**
   * Alternative to probeList: the canonical probe names a pattern (`kprobe:vfs_*`,
   * `tracepoint:syscalls:sys_enter_read`) matches on this machine; null when the
   * provider is not checked by the resolver.
   */
  resolveProbes?: (pattern: string) => readonly string[] | null;
  /** fields of a tracepoint (`tracepoint:sys:event`) from its format file; null when unknown (any field accepted) */
  tracepointFields?: (probeName: string) => readonly TracepointField[] | null;
}

/** A field of a tracepoint's format file, as the semantic pass types `args->field`. */
export interface TracepointField {
  name: string;
  /** byte size */
  size: number;
  signed: boolean;
  /** char array (`char comm[16]`): a string of `size` bytes; char pointers and __data_loc are pointers */
  charArray: boolean;
}

/** task_struct members `curtask->...` can reach (the rest of the struct is not modelled). */
const TASK_SCALARS: Record<string, Ty> = {
  pid: { k: 'int', signed: true, bits: 32 },
  tgid: { k: 'int', signed: true, bits: 32 },
  comm: { k: 'str', size: 16 },
  prio: { k: 'int', signed: true, bits: 32 },
  static_prio: { k: 'int', signed: true, bits: 32 },
  normal_prio: { k: 'int', signed: true, bits: 32 },
  rt_priority: { k: 'int', signed: false, bits: 32 },
  policy: { k: 'int', signed: false, bits: 32 },
  flags: { k: 'int', signed: false, bits: 32 },
  __state: { k: 'int', signed: false, bits: 32 },
  on_cpu: { k: 'int', signed: true, bits: 32 },
  exit_code: { k: 'int', signed: true, bits: 32 },
  exit_signal: { k: 'int', signed: true, bits: 32 },
  start_time: { k: 'int', signed: false, bits: 64 },
  utime: { k: 'int', signed: false, bits: 64 },
  stime: { k: 'int', signed: false, bits: 64 },
  nvcsw: { k: 'int', signed: false, bits: 64 },
  nivcsw: { k: 'int', signed: false, bits: 64 },
  min_flt: { k: 'int', signed: false, bits: 64 },
  maj_flt: { k: 'int', signed: false, bits: 64 },
};
/** task_struct pointers to other tasks */
const TASK_LINKS = new Set(['real_parent', 'parent', 'group_leader']);
const CRED_FIELDS = new Set(['uid', 'gid', 'euid', 'egid', 'suid', 'sgid', 'fsuid', 'fsgid']);

/** The member path of `curtask->a->b` (through casts), or null when the expression is not rooted at curtask. */
export function taskPath(e: Expr): string[] | null {
  const path: string[] = [];
  let cur: Expr = e;
  for (;;) {
    if (cur.kind === 'field') {
      path.unshift(cur.field);
      cur = cur.base;
    } else if (cur.kind === 'cast' && cur.ptr) cur = cur.operand;
    else if (cur.kind === 'builtin' && cur.name === 'curtask') return path.length ? path : null;
    else return null;
  }
}

/** The type of a curtask member path, or a message naming the missing member. */
export function taskPathType(path: readonly string[]): Ty | string {
  let struct = 'task_struct';
  for (let i = 0; i < path.length; i++) {
    const f = path[i];
    const last = i === path.length - 1;
    if (struct === 'task_struct') {
      if (TASK_LINKS.has(f)) {
        if (last) return UINT64;
        continue;
      }
      if (f === 'cred' || f === 'real_cred') {
        if (last) return UINT64;
        struct = 'cred';
        continue;
      }
      const t = TASK_SCALARS[f];
      if (t && last) return t;
    } else if (struct === 'cred' && CRED_FIELDS.has(f) && last) return { k: 'int', signed: false, bits: 32 };
    return `Struct/union of type 'struct ${struct}' does not contain a field named '${f}'`;
  }
  return UINT64;
}

export interface MapInfo {
  value: Ty;
  keys: Ty[] | null;
}

export interface ExpandedProbe {
  /** index of the probe in the program */
  index: number;
  /** canonical full name (value of the `probe` builtin) */
  name: string;
  provider: string;
}

export interface SemanticResult {
  diagnostics: Diagnostic[];
  maps: Map<string, MapInfo>;
  types: Map<Expr, Ty>;
  probes: ExpandedProbe[];
  /** exit code when the only problem is fatal (bpftrace aborts with 134) */
  fatal: boolean;
}

const STR_DEFAULT = 64;
const MAX_ATTACH = 4096;

export function matchWildcard(pattern: string, text: string): boolean {
  if (!/[*?]/.test(pattern)) return pattern === text;
  const re = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$');
  return re.test(text);
}

function canonicalName(ap: AttachPoint): string {
  if (ap.provider === 'BEGIN' || ap.provider === 'END') return ap.provider;
  return [ap.provider, ...ap.parts].join(':');
}

export function analyse(program: Program, opts: SemanticOptions): SemanticResult {
  return new Analyser(program, opts).run();
}

class Analyser {
  private diags: Diagnostic[] = [];
  private maps = new Map<string, MapInfo>();
  private types = new Map<Expr, Ty>();
  private assignedMaps = new Set<string>();
  private vars = new Map<string, Ty>();
  private probe!: Probe;
  private loopDepth = 0;
  private fatal = false;
  private expanded: ExpandedProbe[] = [];

  constructor(
    readonly program: Program,
    readonly opts: SemanticOptions,
  ) {}

  private err(message: string, loc?: Loc): void {
    this.diags.push({ severity: 'ERROR', message, loc });
  }
  private errorCount(): number {
    return this.diags.filter((d) => d.severity === 'ERROR').length;
  }
  private warn(message: string, loc?: Loc): void {
    this.diags.push({ severity: 'WARNING', message, loc });
  }

  run(): SemanticResult {
    this.collectAssignedMaps();
    this.checkAttachPoints();
    if (!this.fatal) {
      for (const p of this.program.probes) {
        this.probe = p;
        this.vars = new Map();
        if (p.predicate) {
          const t = this.expr(p.predicate);
          if (t.k !== 'int' && t.k !== 'none') this.err(`Invalid type for predicate: ${kindName(t)}`, spanOf(p.predicate));
        }
        this.stmts(p.body);
      }
    }
    return { diagnostics: this.diags, maps: this.maps, types: this.types, probes: this.expanded, fatal: this.fatal };
  }

  private collectAssignedMaps(): void {
    const visit = (ss: Stmt[]): void => {
      for (const s of ss) {
        if (s.kind === 'assignMap') this.assignedMaps.add(s.map.name);
        else if (s.kind === 'if') {
          visit(s.then);
          if (s.else) visit(s.else);
        } else if (s.kind === 'while' || s.kind === 'unroll') visit(s.body);
        else if (s.kind === 'expr' && s.expr.kind === 'incdec' && s.expr.target.kind === 'map') this.assignedMaps.add(s.expr.target.name);
      }
    };
    for (const p of this.program.probes) visit(p.body);
    // maps incremented inside expressions are created too
    const walk = (e: unknown): void => {
      if (!e || typeof e !== 'object') return;
      const o = e as Record<string, unknown>;
      if (o.kind === 'incdec' && (o.target as MapExpr).kind === 'map') this.assignedMaps.add((o.target as MapExpr).name);
      for (const v of Object.values(o)) if (v && typeof v === 'object' && v !== o) walk(v);
    };
    walk(this.program.probes.map((p) => [p.predicate, p.body]));
  }

  private checkAttachPoints(): void {
    let seenBegin = false;
    let seenEnd = false;
    this.program.probes.forEach((p, index) => {
      for (const ap of p.attachPoints) {
        const prov = ap.provider;
        if (!prov) {
          this.diags.push({ severity: 'ERROR', message: 'FATAL: Invalid probe type made it to attachpoint parser' });
          this.fatal = true;
          return;
        }
        if (ap.parts.some((x) => /\$\d/.test(x))) {
          // positional parameters in attach points are replaced by their text
          ap.parts = ap.parts.map((x) => x.replace(/\$(\d+)/g, (_m, d: string) => this.opts.args[Number(d) - 1] ?? ''));
        }
        const name = canonicalName(ap);
        const n = ap.parts.length;
        switch (prov) {
          case 'BEGIN':
          case 'END':
            if ((prov === 'BEGIN' && seenBegin) || (prov === 'END' && seenEnd)) {
              this.err(`More than one ${prov} probe defined`, ap.loc);
              continue;
            }
            if (prov === 'BEGIN') seenBegin = true;
            else seenEnd = true;
            this.expanded.push({ index, name, provider: prov });
            continue;
          case 'interval':
          case 'profile':
            if (n !== 2) {
              this.err(`${prov} probe type requires 2 arguments`, ap.loc);
              continue;
            }
            if (!['s', 'ms', 'us', 'hz'].includes(ap.parts[0])) {
              this.err(`${ap.parts[0]} is not an accepted unit of time`, ap.loc);
              continue;
            }
            if (!/^[0-9]+$/.test(ap.parts[1]) || Number(ap.parts[1]) <= 0) {
              this.err(`${prov} rate must be a positive integer`, ap.loc);
              continue;
            }
            this.expanded.push({ index, name, provider: prov });
            continue;
          case 'software':
          case 'hardware':
            if (n < 1 || n > 2 || !ap.parts[0]) {
              this.err(`${prov} probe type requires 1 or 2 arguments`, ap.loc);
              continue;
            }
            this.expanded.push({ index, name, provider: prov });
            continue;
          case 'watchpoint':
          case 'asyncwatchpoint':
            this.err(`${prov} probes are not supported on this machine (no hardware debug registers are emulated)`, ap.loc);
            continue;
          case 'kfunc':
          case 'kretfunc':
          case 'iter':
          case 'usdt':
            this.err(`${prov} probes are not supported on this machine (no BTF/ELF data is emulated)`, ap.loc);
            continue;
          case 'kprobe':
          case 'kretprobe':
          case 'rawtracepoint': {
            if (n !== 1 || !ap.parts[0]) {
              this.err(`${prov} probe type requires 1 argument`, ap.loc);
              continue;
            }
            const fn = ap.parts[0];
            if (fn.includes('+')) {
              if (prov === 'kretprobe') this.err('Offset not allowed for kretprobe', ap.loc);
              else this.err(`Can't check if kprobe is in proper place (compiled without (k|u)probe offset support): ${fn}`, ap.loc);
              continue;
            }
            this.expandList(index, prov, name, ap, () => {
              this.warn(`${fn} is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail`, ap.loc);
            });
            continue;
          }
          case 'tracepoint':
            if (n !== 2) {
              this.err('tracepoint probe type requires 2 arguments', ap.loc);
              continue;
            }
            this.expandList(index, prov, name, ap, () => this.err(`tracepoint not found: ${ap.parts.join(':')}`, ap.loc));
            continue;
          case 'uprobe':
          case 'uretprobe':
            if (n < 2) {
              this.err(`${prov} probe type requires 2 arguments`, ap.loc);
              continue;
            }
            this.expandList(index, prov, name, ap, () => this.err(`Could not resolve symbol: ${ap.parts.join(':')}`, ap.loc));
            continue;
        }
      }
    });
  }

  private expandList(index: number, prov: string, name: string, ap: AttachPoint, notFound: () => void): void {
    const resolved = this.opts.resolveProbes?.(name);
    if (resolved) {
      if (resolved.length === 0) {
        notFound();
        // a kprobe on a missing function is only a warning: attaching it fails later
        if (!/[*?]/.test(name) && (prov === 'kprobe' || prov === 'kretprobe')) this.expanded.push({ index, name, provider: prov });
        return;
      }
      for (const m of resolved.slice(0, MAX_ATTACH)) this.expanded.push({ index, name: m, provider: prov });
      if (resolved.length > MAX_ATTACH) this.err(`Too many probes match ${name} (${resolved.length}, limit ${MAX_ATTACH})`, ap.loc);
      return;
    }
    const list = this.opts.probeList;
    const wild = /[*?]/.test(name);
    if (!list) {
      if (wild) this.err(`Wildcards require a probe list: ${name}`, ap.loc);
      else this.expanded.push({ index, name, provider: prov });
      return;
    }
    const matches = list.filter((l) => matchWildcard(name, l));
    if (matches.length === 0) {
      notFound();
      return;
    }
    for (const m of matches.slice(0, MAX_ATTACH)) this.expanded.push({ index, name: m, provider: prov });
    if (matches.length > MAX_ATTACH) this.err(`Too many probes match ${name} (${matches.length}, limit ${MAX_ATTACH})`, ap.loc);
  }

  /** `args->field` of the probe's tracepoints, typed from their format files. */
  private tracepointField(e: Extract<Expr, { kind: 'field' }>): Ty {
    const index = this.program.probes.indexOf(this.probe);
    let out: Ty | null = null;
    for (const ep of this.expanded) {
      if (ep.index !== index || ep.provider !== 'tracepoint') continue;
      const fields = this.opts.tracepointFields?.(ep.name);
      if (!fields) continue;
      const fd = fields.find((x) => x.name === e.field);
      if (!fd) {
        const [, sys, ev] = ep.name.split(':');
        this.err(`Struct/union of type 'struct _tracepoint_${sys}_${ev}' does not contain a field named '${e.field}'`, e.loc);
        return NONE;
      }
      const t: Ty = fd.charArray ? { k: 'str', size: fd.size } : { k: 'int', signed: fd.signed, bits: [1, 2, 4, 8].includes(fd.size) ? fd.size * 8 : 64 };
      if (!out) out = t;
    }
    return out ?? INT64;
  }

  private providers(): string[] {
    return this.probe.attachPoints.map((a) => a.provider);
  }

  // ------------------------------------------------------------------ statements

  private stmts(ss: Stmt[]): void {
    for (const s of ss) this.stmt(s);
  }

  private stmt(s: Stmt): void {
    switch (s.kind) {
      case 'expr':
        this.expr(s.expr, true);
        return;
      case 'assignVar': {
        const nd = this.errorCount();
        const v = this.valueExpr(s.value);
        if (this.errorCount() > nd) return;
        let t = v;
        if (s.op !== '=') {
          const cur = this.vars.get(s.name);
          if (!cur) {
            this.err(`Undefined or undeclared variable: ${s.name}`, s.varLoc);
            return;
          }
          if (cur.k !== 'int' || v.k !== 'int') {
            this.err(`Type mismatch for '${s.op.slice(0, -1)}': comparing '${tyName(cur)}' with '${tyName(v)}'`, s.loc);
            return;
          }
          t = cur;
          this.divWarning(s.op, cur, s.value, s.opLoc);
        }
        if (t.k === 'none') {
          this.err(`Value '${exprText(s.value)}' cannot be assigned to a scratch variable.`, s.opLoc);
          return;
        }
        const prev = this.vars.get(s.name);
        if (prev && !sameKind(prev, t)) {
          this.err(`Type mismatch for ${s.name}: trying to assign value of type '${tyName(t)}' when variable already contains a value of type '${tyName(prev)}'`, s.opLoc);
          return;
        }
        if (prev && prev.k === 'str' && t.k === 'str' && t.size > prev.size) prev.size = t.size;
        if (!prev) this.vars.set(s.name, t.k === 'int' ? { k: 'int', signed: t.signed, bits: 64 } : t.k === 'str' ? { ...t } : t);
        return;
      }
      case 'assignMap': {
        const nd = this.errorCount();
        const keys = this.mapKeys(s.map);
        let vt: Ty;
        if (s.op === '=' && s.value.kind === 'call' && (AGG_FNS as readonly string[]).includes(s.value.name)) {
          vt = this.aggCall(s.value, s.value.name as AggFn);
        } else {
          vt = this.valueExpr(s.value);
          if (s.op !== '=') {
            if (vt.k !== 'int') {
              this.err(`Type mismatch for '${s.op.slice(0, -1)}': comparing 'int64' with '${tyName(vt)}'`, s.loc);
              return;
            }
            const cur = this.maps.get(s.map.name);
            if (cur && cur.value.k !== 'int' && !(cur.value.k === 'agg' && ['count', 'sum', 'min', 'max'].includes(cur.value.fn))) {
              this.err(`Type mismatch for ${s.map.name}: trying to assign value of type 'int64' when map already contains a value of type '${tyName(cur.value)}`, s.map.nameLoc);
              return;
            }
            vt = cur?.value ?? INT64;
            this.divWarning(s.op, vt.k === 'int' ? vt : INT64, s.value, s.opLoc);
          }
        }
        if (this.errorCount() > nd) return;
        if (vt.k === 'none') {
          this.err(`Value '${exprText(s.value)}' cannot be assigned to a map.`, s.map.loc);
          return;
        }
        this.setMap(s.map, vt, keys);
        return;
      }
      case 'if': {
        const t = this.expr(s.cond);
        if (t.k !== 'int' && t.k !== 'none') this.err(`Invalid condition in if(): ${kindName(t)}`, NO_LOC);
        this.stmts(s.then);
        if (s.else) this.stmts(s.else);
        return;
      }
      case 'while': {
        const t = this.expr(s.cond);
        if (t.k !== 'int' && t.k !== 'none') this.err(`Invalid condition in while(): ${kindName(t)}`, NO_LOC);
        this.loopDepth++;
        this.stmts(s.body);
        this.loopDepth--;
        return;
      }
      case 'unroll': {
        const n = this.unrollCount(s.count);
        if (n !== null) {
          if (n > 100n) this.err('unroll maximum value is 100', s.loc);
          else if (n < 1n) this.err('unroll minimum value is 1', s.loc);
        }
        this.stmts(s.body);
        return;
      }
      case 'jump':
        if (s.what !== 'return' && this.loopDepth === 0) this.err(`'${s.what}' statement is not allowed outside of a loop`, s.loc);
        return;
    }
  }

  private unrollCount(e: Expr): bigint | null {
    if (e.kind === 'int') return e.value;
    if (e.kind === 'param') {
      const a = this.opts.args[e.index - 1] ?? '0';
      if (!/^-?[0-9]+$/.test(a)) {
        this.err(`${'$' + e.index} used numerically but given "${a}". Try using str(${'$' + e.index}).`, e.loc);
        return null;
      }
      return BigInt(a);
    }
    return null;
  }

  private setMap(m: MapExpr, vt: Ty, keys: Ty[] | null): void {
    const cur = this.maps.get(m.name);
    if (!cur) {
      this.maps.set(m.name, { value: vt.k === 'int' ? { k: 'int', signed: vt.signed, bits: 64 } : vt, keys });
      return;
    }
    if (!sameKind(cur.value, vt)) {
      this.err(`Type mismatch for ${m.name}: trying to assign value of type '${tyName(vt)}' when map already contains a value of type '${tyName(cur.value)}`, m.loc);
    } else if (cur.value.k === 'str' && vt.k === 'str' && vt.size > cur.value.size) cur.value = vt;
  }

  /** Checks map keys against the map's recorded key types (fixing them on first use). */
  private mapKeys(m: MapExpr): Ty[] | null {
    const keys = m.keys ? m.keys.map((k) => this.valueExpr(k)) : null;
    const cur = this.maps.get(m.name);
    if (cur) {
      const a = cur.keys ?? [];
      const b = keys ?? [];
      if (a.length !== b.length || a.some((t, i) => !sameKind(t, b[i]))) {
        this.err(`Argument mismatch for ${m.name}: trying to access with arguments: [${b.map(keyName).join(', ')}] when map expects arguments: [${a.map(keyName).join(', ')}]`, m.loc);
      }
      return cur.keys;
    }
    return keys;
  }

  // ------------------------------------------------------------------ expressions

  /** An expression whose value is used (aggregations are not allowed). */
  private valueExpr(e: Expr): Ty {
    return this.expr(e);
  }

  private set(e: Expr, t: Ty): Ty {
    this.types.set(e, t);
    return t;
  }

  private expr(e: Expr, isStmt = false): Ty {
    return this.set(e, this.exprInner(e, isStmt));
  }

  private exprInner(e: Expr, isStmt: boolean): Ty {
    switch (e.kind) {
      case 'int':
        return { k: 'int', signed: true, bits: 64, lit: true };
      case 'str':
        if (byteLen(e.value) > STR_DEFAULT - 1) this.err(`String is too long (over ${STR_DEFAULT} bytes): ${e.value}`, e.loc);
        return { k: 'str', size: byteLen(e.value) + 1 };
      case 'paramCount':
        return UINT64;
      case 'param': {
        const a = this.opts.args[e.index - 1];
        if (a !== undefined && !/^-?(0x[0-9a-fA-F]+|[0-9]+)$/.test(a)) {
          this.err(`${'$' + e.index} used numerically but given "${a}". Try using str(${'$' + e.index}).`, e.loc);
        }
        return INT64;
      }
      case 'builtin':
        return this.builtin(e.name, e.loc);
      case 'ident':
        if (INT_TYPES.includes(e.name)) return NONE;
        this.err(`Unknown identifier: '${e.name}'`, e.loc);
        return NONE;
      case 'var': {
        const t = this.vars.get(e.name);
        if (!t) {
          this.err(`Undefined or undeclared variable: ${e.name}`, e.loc);
          return NONE;
        }
        return t;
      }
      case 'map': {
        if (!this.assignedMaps.has(e.name)) {
          this.err(`Undefined map: ${e.name}`, e.loc);
          return NONE;
        }
        this.mapKeys(e);
        const info = this.maps.get(e.name);
        if (!info) return INT64;
        // reading an aggregation gives a value of its own type (0.17: 'count' does not mix with 'int64')
        if (info.value.k === 'agg') return info.value.fn === 'hist' || info.value.fn === 'lhist' ? INT64 : info.value;
        return info.value;
      }
      case 'call':
        return this.call(e, isStmt);
      case 'binop':
        return this.binop(e);
      case 'unop': {
        const t = this.expr(e.operand);
        if (e.op === '*' || e.op === '&') return UINT64;
        if (t.k !== 'int' && t.k !== 'none') {
          this.err(`Invalid type for unary operator '${e.op}': ${kindName(t)}`, e.loc);
          return NONE;
        }
        return e.op === '!' ? UINT64 : t.k === 'int' ? { k: 'int', signed: t.signed, bits: 64 } : INT64;
      }
      case 'incdec': {
        if (e.target.kind === 'var') {
          const t = this.vars.get(e.target.name);
          if (!t) {
            this.err(`Undefined or undeclared variable: ${e.target.name}`, e.target.loc);
            return NONE;
          }
          if (t.k !== 'int') this.err(`The ${e.op} operator must be applied to an integer`, e.loc);
          return t;
        }
        if (e.target.kind === 'map') {
          const keys = this.mapKeys(e.target);
          const cur = this.maps.get(e.target.name);
          if (cur && cur.value.k !== 'int') {
            this.err(`Type mismatch for ${e.target.name}: trying to assign value of type 'int64' when map already contains a value of type '${tyName(cur.value)}`, e.target.loc);
            return NONE;
          }
          if (!cur) this.maps.set(e.target.name, { value: INT64, keys });
          return INT64;
        }
        return NONE;
      }
      case 'ternary': {
        const c = this.expr(e.cond);
        if (c.k !== 'int' && c.k !== 'none') this.err(`Invalid condition in ternary: ${kindName(c)}`, spanOf(e.cond));
        const a = this.expr(e.then);
        const b = this.expr(e.else);
        if (a.k !== 'none' && b.k !== 'none' && !sameKind(a, b)) {
          this.err(`Ternary operator must return the same type: have '${tyName(a)}' and '${tyName(b)}'`, e.loc);
          return NONE;
        }
        if (a.k === 'str' && b.k === 'str') return { k: 'str', size: Math.max(a.size, b.size) };
        return a;
      }
      case 'tuple': {
        const elems = e.elems.map((x) => this.expr(x));
        return { k: 'tuple', elems };
      }
      case 'field': {
        const tp = taskPath(e);
        if (tp) {
          this.expr(e.base);
          const t = taskPathType(tp);
          if (typeof t === 'string') {
            this.err(t, e.loc);
            return NONE;
          }
          return t;
        }
        if (e.base.kind === 'builtin' && e.base.name === 'args' && this.opts.tracepointFields) {
          const b0 = this.expr(e.base);
          if (b0.k === 'record') return this.tracepointField(e);
          return NONE;
        }
        const b = this.expr(e.base);
        if (b.k === 'tuple') {
          const i = Number(e.field);
          if (!/^\d+$/.test(e.field) || i >= b.elems.length) {
            this.err(`Invalid tuple index: ${e.field}. Found ${b.elems.length} elements in tuple.`, e.loc);
            return NONE;
          }
          return b.elems[i];
        }
        if (b.k === 'record') return INT64;
        if (b.k === 'none') return NONE;
        if (e.arrow && b.k === 'int') return INT64;
        this.err(`Can not access field '${e.field}' on expression of type '${tyName(b)}'`, e.loc);
        return NONE;
      }
      case 'index': {
        this.expr(e.base);
        this.expr(e.index);
        return INT64;
      }
      case 'cast': {
        const t = this.expr(e.operand);
        if (t.k !== 'int' && t.k !== 'none') {
          this.err(`Cannot cast from "${tyName(t)}" to "${e.type}${e.ptr ? ' *' : ''}"`, e.loc);
          return NONE;
        }
        if (e.ptr || e.type.startsWith('struct')) return UINT64;
        return { k: 'int', signed: !e.type.startsWith('u'), bits: Number(e.type.replace(/^u?int/, '')) };
      }
    }
  }

  private builtin(name: string, loc: Loc): Ty {
    const provs = this.providers();
    if (/^s?arg\d$/.test(name)) {
      const bad = provs.find((p) => !['kprobe', 'uprobe', 'usdt'].includes(p));
      if (bad) {
        this.err(`The ${name} builtin can only be used with 'kprobes', 'uprobes' and 'usdt' probes`, loc);
        return NONE;
      }
      return name.startsWith('s') ? INT64 : UINT64;
    }
    switch (name) {
      case 'retval': {
        const bad = provs.find((p) => !['kretprobe', 'uretprobe', 'kretfunc'].includes(p));
        if (bad) {
          this.err(`The retval builtin can only be used with 'kretprobe' and 'uretprobe' and 'kfunc' probes`, loc);
          return NONE;
        }
        return UINT64;
      }
      case 'args': {
        const bad = provs.find((p) => !['tracepoint', 'kfunc', 'kretfunc', 'uprobe'].includes(p));
        if (bad) {
          this.err(`The args builtin can only be used with tracepoint/kfunc/uprobeprobes (${bad} used here)`, loc);
          return NONE;
        }
        return { k: 'record' };
      }
      case 'comm':
        return { k: 'str', size: 16 };
      case 'username':
        return { k: 'str', size: 32 };
      case 'probe':
        return { k: 'str', size: STR_DEFAULT };
      case 'func':
        return { k: 'sym', user: provs.some((p) => p.startsWith('u')) };
      case 'kstack':
        return { k: 'stack', user: false };
      case 'ustack':
        return { k: 'stack', user: true };
      default:
        return UINT64;
    }
  }

  private binop(e: Extract<Expr, { kind: 'binop' }>): Ty {
    const l = this.expr(e.left);
    const r = this.expr(e.right);
    if (l.k === 'none' || r.k === 'none') return NONE;
    const strL = l.k === 'str';
    const strR = r.k === 'str';
    if (strL && strR && (e.op === '==' || e.op === '!=')) return UINT64;
    if (l.k !== 'int' || r.k !== 'int') {
      this.err(`Type mismatch for '${e.op}': comparing '${tyName(l)}' with '${tyName(r)}'`, mergeLoc(spanOf(e.left), spanOf(e.right)));
      return NONE;
    }
    const ls = l.signed && !(l.lit && isNonNegLit(e.left));
    const rs = r.signed && !(r.lit && isNonNegLit(e.right));
    if ((e.op === '/' || e.op === '%') && (ls || rs)) {
      this.warn(`signed operands for '${e.op}' can lead to undefined behavior (cast to unsigned to silence warning)`, e.loc);
    }
    if (['==', '!=', '<', '>', '<=', '>=', '&&', '||'].includes(e.op)) return UINT64;
    return { k: 'int', signed: l.signed || r.signed, bits: 64, lit: !!(l.lit && r.lit) };
  }

  /** `x /= v` and `x %= v` warn like the binary operators when signed operands are involved. */
  private divWarning(op: string, target: Ty, value: Expr, loc: Loc): void {
    if (op !== '/=' && op !== '%=') return;
    const vt = this.types.get(value);
    const vs = !!vt && vt.k === 'int' && vt.signed && !(vt.lit && isNonNegLit(value));
    if ((target.k === 'int' && target.signed) || vs) {
      this.warn(`signed operands for '${op.slice(0, -1)}' can lead to undefined behavior (cast to unsigned to silence warning)`, loc);
    }
  }

  private nargs(e: Extract<Expr, { kind: 'call' }>, min: number, max = min): boolean {
    const n = e.args.length;
    if (n >= min && n <= max) return true;
    const want = (k: number): string => (k === 0 ? 'no arguments' : `${k} argument${k === 1 ? '' : 's'}`);
    if (min === max) this.err(`${e.name}() requires ${want(min)} (${n} provided)`, e.loc);
    else if (n < min) this.err(`${e.name}() requires at least ${want(min)} (${n} provided)`, e.loc);
    else this.err(`${e.name}() takes up to ${max} arguments (${n} provided)`, e.loc);
    return false;
  }

  private aggCall(e: Extract<Expr, { kind: 'call' }>, fn: AggFn): Ty {
    const argc = fn === 'count' ? 0 : fn === 'lhist' ? 4 : 1;
    const ok = this.nargs(e, argc);
    const ts = e.args.map((a) => this.expr(a));
    if (ok && argc > 0 && ts[0].k !== 'int' && ts[0].k !== 'none') {
      this.err(`${fn}() only supports integer arguments (${kindName(ts[0])} provided)`, e.loc);
    }
    if (ok && fn === 'lhist') {
      const names = ['min', 'max', 'step'];
      const vals: bigint[] = [];
      for (let i = 1; i < 4; i++) {
        const a = e.args[i];
        if (a.kind !== 'int') {
          this.err(`lhist() ${names[i - 1]} must be a literal integer`, e.loc);
          return { k: 'agg', fn };
        }
        vals.push(a.value);
      }
      if (vals[0] < 0n) this.err('lhist() min must be non-negative (provided min ' + vals[0] + ')', e.loc);
      else if (vals[0] > vals[1]) this.err('lhist() min must be less than max (provided min ' + vals[0] + ' and max ' + vals[1] + ')', e.loc);
      else if (vals[2] <= 0n) this.err('lhist() step must be >= 1 (' + vals[2] + ' provided)', e.loc);
      else if ((vals[1] - vals[0]) / vals[2] > 1000n) this.err(`lhist() too many buckets, must be <= 1000 (would need ${(vals[1] - vals[0]) / vals[2]})`, e.loc);
    }
    return { k: 'agg', fn };
  }

  private unsafeCheck(e: Extract<Expr, { kind: 'call' }>): void {
    if (!this.opts.unsafe) this.err(`${e.name}() is an unsafe function being used in safe mode`, e.loc);
  }

  private formatArgs(e: Extract<Expr, { kind: 'call' }>, ts: Ty[]): void {
    const fmtArg = e.args[0];
    if (!fmtArg || fmtArg.kind !== 'str') {
      this.err(`${e.name}() expects a string literal as the first argument`, e.loc);
      return;
    }
    const { parts, error } = parseFormat(fmtArg.value);
    if (error) {
      this.err(error, e.loc);
      return;
    }
    const specs = parts.filter((p) => p.spec).map((p) => p.spec!);
    const supplied = e.args.length - 1;
    if (supplied < specs.length) {
      this.err(`${e.name}: Not enough arguments for format string (${supplied} supplied, ${specs.length} expected)`, e.loc);
      return;
    }
    if (supplied > specs.length) {
      this.err(`${e.name}: Too many arguments for format string (${supplied} supplied, ${specs.length} expected)`, e.loc);
      return;
    }
    // bpftrace reports the first mismatching argument of a call only
    specs.some((s, i) => {
      const t = ts[i + 1];
      const want = specExpects(s.conv);
      if (t.k === 'none') return false;
      const have = t.k === 'int' ? 'integer' : isStringy(t) ? 'string' : t.k === 'buf' ? 'buffer' : tyName(t);
      const ok = want === 'string' ? have === 'string' : want === 'integer' ? have === 'integer' : have === 'buffer';
      if (!ok) this.err(`${e.name}: %${s.conv} specifier expects a value of type ${want} (${have} supplied)`, e.loc);
      return !ok;
    });
  }

  private call(e: Extract<Expr, { kind: 'call' }>, isStmt: boolean): Ty {
    const name = e.name;
    if ((AGG_FNS as readonly string[]).includes(name)) {
      this.err(`${name}() should be directly assigned to a map`, e.loc);
      e.args.forEach((a) => this.expr(a));
      return NONE;
    }
    switch (name) {
      case 'printf':
      case 'system':
      case 'cat': {
        if (name === 'system') this.unsafeCheck(e);
        if (!this.nargs(e, 1, 128)) return NONE;
        const ts = e.args.map((a) => this.expr(a));
        this.formatArgs(e, ts);
        return NONE;
      }
      case 'print': {
        if (!this.nargs(e, 1, 3)) return NONE;
        const a0 = e.args[0];
        if (a0.kind === 'map') {
          if (a0.keys) {
            this.err('The map passed to print() should not be indexed by a key', e.loc);
            return NONE;
          }
          if (!this.assignedMaps.has(a0.name)) {
            this.err(`Undefined map: ${a0.name}`, a0.loc);
            return NONE;
          }
          e.args.slice(1).forEach((a) => {
            const t = this.expr(a);
            if (t.k !== 'int') this.err('print() expects integer arguments for top and div', e.loc);
          });
          return NONE;
        }
        if (e.args.length > 1) this.err('Non-map print() only takes 1 argument, 2 found', e.loc);
        this.expr(a0);
        return NONE;
      }
      case 'time': {
        if (!this.nargs(e, 0, 1)) return NONE;
        if (e.args[0] && e.args[0].kind !== 'str') this.err('time() expects a string literal as the first argument', e.loc);
        return NONE;
      }
      case 'strftime': {
        if (!this.nargs(e, 2)) return NONE;
        if (e.args[0].kind !== 'str') this.err('strftime() expects a string literal as the first argument', e.loc);
        this.expr(e.args[1]);
        return { k: 'str', size: STR_DEFAULT };
      }
      case 'join': {
        if (!this.nargs(e, 1, 2)) return NONE;
        this.expr(e.args[0]);
        if (e.args[1] && e.args[1].kind !== 'str') this.err('join() expects a string literal as the second argument', e.loc);
        return NONE;
      }
      case 'str': {
        if (!this.nargs(e, 1, 2)) return NONE;
        const t = e.args[0].kind === 'param' ? this.set(e.args[0], { k: 'str', size: STR_DEFAULT }) : this.expr(e.args[0]);
        if (e.args[1]) this.expr(e.args[1]);
        if (t.k !== 'int' && t.k !== 'none' && e.args[0].kind !== 'param') {
          this.err(`str() expects an integer or a pointer type as first argument (${kindName(t)} provided)`, e.loc);
          return NONE;
        }
        const len = e.args[1]?.kind === 'int' ? Number(e.args[1].value) + 1 : STR_DEFAULT;
        return { k: 'str', size: Math.max(1, Math.min(len, STR_DEFAULT)) };
      }
      case 'buf': {
        if (!this.nargs(e, 1, 2)) return NONE;
        e.args.forEach((a) => this.expr(a));
        const len = e.args[1]?.kind === 'int' ? Number(e.args[1].value) : STR_DEFAULT;
        return { k: 'buf', size: Math.max(0, Math.min(len, STR_DEFAULT)) };
      }
      case 'ksym':
      case 'usym':
        if (!this.nargs(e, 1)) return NONE;
        this.expr(e.args[0]);
        return { k: 'sym', user: name === 'usym' };
      case 'kaddr':
      case 'uaddr':
      case 'reg':
      case 'cgroupid':
        if (!this.nargs(e, 1)) return NONE;
        if (e.args[0].kind !== 'str') this.err(`${name}() expects a string literal as the first argument`, e.loc);
        return UINT64;
      case 'ntop': {
        if (!this.nargs(e, 1, 2)) return NONE;
        e.args.forEach((a) => this.expr(a));
        return { k: 'str', size: 40 };
      }
      case 'strncmp': {
        if (!this.nargs(e, 3)) return NONE;
        const ts = e.args.map((a) => this.expr(a));
        if (!isStringy(ts[0]) && ts[0].k !== 'none') this.err(`strncmp() expects a string as the first argument (${kindName(ts[0])} provided)`, e.loc);
        if (!isStringy(ts[1]) && ts[1].k !== 'none') this.err(`strncmp() expects a string as the second argument (${kindName(ts[1])} provided)`, e.loc);
        if (e.args[2].kind !== 'int') this.err('strncmp() expects an integer literal as the third argument', e.loc);
        return UINT64;
      }
      case 'strcontains': {
        if (!this.nargs(e, 2)) return NONE;
        e.args.forEach((a) => this.expr(a));
        return UINT64;
      }
      case 'sizeof': {
        if (!this.nargs(e, 1)) return NONE;
        const a = e.args[0];
        if (a.kind !== 'ident') this.expr(a);
        else if (!INT_TYPES.includes(a.name)) this.err(`Unknown type: ${a.name}`, a.loc);
        return UINT64;
      }
      case 'exit':
        this.nargs(e, 0);
        return NONE;
      case 'signal': {
        this.unsafeCheck(e);
        if (!this.nargs(e, 1)) return NONE;
        this.expr(e.args[0]);
        for (const p of this.providers()) {
          if (p === 'BEGIN' || p === 'END') this.err(`signal can not be used with "${p}" probes`, e.loc);
        }
        return NONE;
      }
      case 'override': {
        this.unsafeCheck(e);
        if (!this.nargs(e, 1)) return NONE;
        this.expr(e.args[0]);
        for (const p of this.providers()) {
          if (p !== 'kprobe') this.err(`override() can only be used with kprobes.`, e.loc);
        }
        return NONE;
      }
      case 'kstack':
      case 'ustack': {
        if (!this.nargs(e, 0, 2)) return NONE;
        for (const a of e.args) {
          if (a.kind === 'ident' && (a.name === 'perf' || a.name === 'bpftrace' || a.name === 'raw')) continue;
          if (a.kind === 'int') continue;
          this.err(`${name}() expects a stack mode or an integer limit`, e.loc);
        }
        return { k: 'stack', user: name === 'ustack' };
      }
      case 'delete': {
        if (!this.nargs(e, 1)) return NONE;
        const a = e.args[0];
        if (a.kind !== 'map') {
          this.err('delete() expects a map to be provided', e.loc);
          return NONE;
        }
        this.expr(a);
        return NONE;
      }
      case 'clear':
      case 'zero': {
        if (!this.nargs(e, 1)) return NONE;
        const a = e.args[0];
        if (a.kind !== 'map') {
          this.err(`${name}() expects a map to be provided`, e.loc);
          return NONE;
        }
        if (a.keys) {
          this.err(`The map passed to ${name}() should not be indexed by a key`, e.loc);
          return NONE;
        }
        if (!this.assignedMaps.has(a.name)) this.err(`Undefined map: ${a.name}`, a.loc);
        return NONE;
      }
      case 'bswap': {
        if (!this.nargs(e, 1)) return NONE;
        const t = this.expr(e.args[0]);
        return t.k === 'int' ? { k: 'int', signed: false, bits: t.bits } : UINT64;
      }
      default:
        void isStmt;
        this.err(`Unknown function: ${name}`, e.nameLoc);
        return NONE;
    }
  }
}

function isNonNegLit(e: Expr): boolean {
  return e.kind === 'int' && e.value >= 0n;
}

function keyName(t: Ty): string {
  if (t.k === 'int') return t.lit || !t.signed ? 'unsigned int64' : 'int64';
  return tyName(t);
}

function byteLen(s: string): number {
  let n = 0;
  for (const ch of s) n += ch.codePointAt(0)! < 0x80 ? 1 : ch.codePointAt(0)! < 0x800 ? 2 : ch.codePointAt(0)! < 0x10000 ? 3 : 4;
  return n;
}

function exprText(e: Expr): string {
  if (e.kind === 'call') return `${e.name}()`;
  if (e.kind === 'builtin' || e.kind === 'ident') return e.name;
  return e.kind;
}
