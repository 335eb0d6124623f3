/**
 * kprobe_events: the probe definition language (kernel/trace/trace_kprobe.c,
 * trace_probe.c) with the kernel's error texts and caret positions.
 *   p[:[GRP/][EVENT]] [MOD:]SYM[+offs] [FETCHARGS]
 *   r[MAXACTIVE][:[GRP/][EVENT]] [MOD:]SYM[+0] [FETCHARGS]
 *   -:[GRP/][EVENT]
 */
import type { ErrnoName } from '../errors';
import type { FieldValue } from './filter';

/** One fetch argument, e.g. `filename=+0(%si):ustring`. */
export interface ProbeArg {
  name: string;
  /** the fetch expression as written (after NAME=, without :TYPE) */
  fetch: string;
  /** the type as written, '' for the default (x64) */
  type: string;
  /** as kprobe_events reads it back: `fetch[:type]` */
  comm: string;
}

export interface KprobeDef {
  group: string;
  event: string;
  isReturn: boolean;
  maxactive: number;
  symbol: string;
  offset: number;
  args: ProbeArg[];
}

/** Parse failure: message (trace_probe.h error text), position in the command, errno. */
export class ProbeError extends Error {
  constructor(
    message: string,
    readonly pos: number,
    readonly errno: ErrnoName = 'EINVAL',
  ) {
    super(message);
  }
}

export const PROBE_ERR = {
  BAD_MAXACT: 'Invalid maxactive number',
  MAXACT_TOO_BIG: 'Maxactive is too big',
  BAD_PROBE_ADDR: 'Invalid probed address or symbol',
  BAD_RETPROBE: 'Retprobe address must be an function entry',
  NO_GROUP_NAME: 'Group name is not specified',
  GROUP_TOO_LONG: 'Group name is too long',
  BAD_GROUP_NAME: 'Group name must follow the same rules as C identifiers',
  NO_EVENT_NAME: 'Event name is not specified',
  EVENT_TOO_LONG: 'Event name is too long',
  BAD_EVENT_NAME: 'Event name must follow the same rules as C identifiers',
  EVENT_EXIST: 'Given group/event name is already used by another event',
  RETVAL_ON_PROBE: '$retval is not available on probe',
  BAD_STACK_NUM: 'Invalid stack number',
  BAD_ARG_NUM: 'Invalid argument number',
  BAD_VAR: 'Invalid $-valiable specified',
  BAD_REG_NAME: 'Invalid register name',
  BAD_MEM_ADDR: 'Invalid memory address',
  BAD_IMM: 'Invalid immediate value',
  DEREF_NEED_BRACE: 'Dereference needs a brace',
  BAD_DEREF_OFFS: 'Invalid dereference offset',
  DEREF_OPEN_BRACE: 'Dereference brace is not closed',
  BAD_FETCH_ARG: 'Invalid fetch argument',
  BAD_TYPE: 'Unknown type is specified',
  BAD_STRING: 'String accepts only memory argument',
  ARG_NAME_TOO_LONG: 'Argument name is too long',
  NO_ARG_NAME: 'Argument name is not specified',
  BAD_ARG_NAME: 'Argument name must follow the same rules as C identifiers',
  USED_ARG_NAME: 'This argument name is already used',
  NO_ARG_BODY: 'No argument expression',
  TOO_MANY_ARGS: 'Too many arguments are specified',
} as const;

export const X86_REGS = [
  'ax', 'bx', 'cx', 'dx', 'si', 'di', 'bp', 'sp', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'ip', 'flags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs', 'orig_ax',
];
/** x86_64 calling convention: argument registers in order. */
export const ARG_REGS = ['di', 'si', 'dx', 'cx', 'r8', 'r9'];

const TYPES = new Set(['u8', 'u16', 'u32', 'u64', 's8', 's16', 's32', 's64', 'x8', 'x16', 'x32', 'x64', 'string', 'ustring', 'symbol']);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_EVENT_NAME_LEN = 64;
const MAX_ARGS = 128;

/** A parsed command: define a probe, or delete one. */
export type KprobeCommand = { kind: 'add'; def: KprobeDef } | { kind: 'del'; group: string; event: string };

/**
 * Parses one kprobe_events line. `symbolExists` says whether SYM can be probed.
 * Positions are offsets into `cmd` (the argv joined with single spaces, as the
 * kernel logs it).
 */
export function parseKprobe(cmd: string, symbolExists: (s: string) => boolean, cpus: number): KprobeCommand {
  const argv = cmd.split(' ');
  const offs: number[] = [];
  let o = 0;
  for (const a of argv) {
    offs.push(o);
    o += a.length + 1;
  }
  const head = argv[0];
  if (head[0] === '-') {
    if (head[1] !== ':') throw new ProbeError(PROBE_ERR.NO_EVENT_NAME, 1);
    const { group, event } = parseName(head.slice(2), 2, true);
    return { kind: 'del', group, event: event as string };
  }
  const isReturn = head[0] === 'r';
  let rest = head.slice(1);
  let maxactive = 0;
  const colon = rest.indexOf(':');
  const mstr = colon < 0 ? rest : rest.slice(0, colon);
  if (mstr.length) {
    if (!isReturn || !/^\d+$/.test(mstr)) throw new ProbeError(PROBE_ERR.BAD_MAXACT, 1);
    maxactive = Number(mstr);
    if (maxactive > 4096) throw new ProbeError(PROBE_ERR.MAXACT_TOO_BIG, 1);
  }
  rest = colon < 0 ? '' : rest.slice(colon + 1);
  let group = 'kprobes';
  let event: string | undefined;
  if (colon >= 0) {
    const n = parseName(rest, colon + 2, false);
    group = n.group;
    event = n.event;
  }
  if (argv.length < 2 || argv[1] === '') throw new ProbeError(PROBE_ERR.BAD_PROBE_ADDR, offs[1] ?? cmd.length, 'EINVAL');
  const at = argv[1];
  const m = /^([A-Za-z_.][A-Za-z0-9_.:]*)(?:\+(0x[0-9a-fA-F]+|\d+))?$/.exec(at);
  if (!m) throw new ProbeError(PROBE_ERR.BAD_PROBE_ADDR, offs[1]);
  const symbol = m[1];
  const offset = m[2] ? Number(m[2]) : 0;
  if (isReturn && offset !== 0) throw new ProbeError(PROBE_ERR.BAD_RETPROBE, offs[1]);
  if (!symbolExists(symbol)) throw new ProbeError(PROBE_ERR.BAD_PROBE_ADDR, offs[1], 'ENOENT');
  if (event === undefined) event = `${isReturn ? 'r' : 'p'}_${symbol.replace(/[^A-Za-z0-9_]/g, '_')}_${offset}`;
  const args: ProbeArg[] = [];
  for (let i = 2; i < argv.length; i++) {
    if (argv[i] === '') continue;
    if (args.length >= MAX_ARGS) throw new ProbeError(PROBE_ERR.TOO_MANY_ARGS, offs[i]);
    args.push(parseArg(argv[i], offs[i], args.length + 1, isReturn, args));
  }
  if (isReturn && maxactive === 0) maxactive = Math.max(10, 2 * cpus);
  return { kind: 'add', def: { group, event, isReturn, maxactive, symbol, offset, args } };
}

function parseName(s: string, pos: number, forDelete: boolean): { group: string; event: string } {
  let group = 'kprobes';
  let event = s;
  const slash = s.indexOf('/');
  if (slash >= 0) {
    group = s.slice(0, slash);
    event = s.slice(slash + 1);
    if (!group.length) throw new ProbeError(PROBE_ERR.NO_GROUP_NAME, pos);
    if (group.length > MAX_EVENT_NAME_LEN) throw new ProbeError(PROBE_ERR.GROUP_TOO_LONG, pos);
    if (!IDENT.test(group)) throw new ProbeError(PROBE_ERR.BAD_GROUP_NAME, pos);
    pos += slash + 1;
  }
  if (!event.length) {
    if (forDelete || slash >= 0) throw new ProbeError(PROBE_ERR.NO_EVENT_NAME, pos);
    throw new ProbeError(PROBE_ERR.NO_EVENT_NAME, pos);
  }
  if (event.length > MAX_EVENT_NAME_LEN) throw new ProbeError(PROBE_ERR.EVENT_TOO_LONG, pos);
  if (!IDENT.test(event)) throw new ProbeError(PROBE_ERR.BAD_EVENT_NAME, pos);
  return { group, event };
}

function parseArg(text: string, pos: number, index: number, isReturn: boolean, prev: readonly ProbeArg[]): ProbeArg {
  let name = `arg${index}`;
  let body = text;
  let bpos = pos;
  const eq = text.indexOf('=');
  if (eq >= 0) {
    name = text.slice(0, eq);
    if (!name.length) throw new ProbeError(PROBE_ERR.NO_ARG_NAME, pos);
    if (name.length > MAX_EVENT_NAME_LEN) throw new ProbeError(PROBE_ERR.ARG_NAME_TOO_LONG, pos);
    if (!IDENT.test(name)) throw new ProbeError(PROBE_ERR.BAD_ARG_NAME, pos);
    body = text.slice(eq + 1);
    bpos = pos + eq + 1;
  }
  if (prev.some((a) => a.name === name)) throw new ProbeError(PROBE_ERR.USED_ARG_NAME, pos);
  if (!body.length) throw new ProbeError(PROBE_ERR.NO_ARG_BODY, bpos);
  let type = '';
  let fetch = body;
  const tc = lastTypeColon(body);
  if (tc >= 0) {
    type = body.slice(tc + 1);
    fetch = body.slice(0, tc);
    if (!TYPES.has(type) && !/^b\d+@\d+\/\d+$/.test(type)) throw new ProbeError(PROBE_ERR.BAD_TYPE, bpos + tc + 1);
  }
  checkFetch(fetch, bpos, isReturn);
  if ((type === 'string' || type === 'ustring') && !/^[+-]|^@|^\\"|^\$comm$/.test(fetch)) {
    throw new ProbeError(PROBE_ERR.BAD_STRING, bpos + tc + 1);
  }
  return { name, fetch, type, comm: body };
}

/** The ':' that starts the type (not one inside a dereference or a symbol). */
function lastTypeColon(s: string): number {
  let depth = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    if (s[i] === ')') depth++;
    else if (s[i] === '(') depth--;
    else if (s[i] === ':' && depth === 0) return i;
  }
  return -1;
}

function checkFetch(f: string, pos: number, isReturn: boolean): void {
  if (f[0] === '%') {
    if (!X86_REGS.includes(f.slice(1))) throw new ProbeError(PROBE_ERR.BAD_REG_NAME, pos);
    return;
  }
  if (f[0] === '$') {
    const v = f.slice(1);
    if (v === 'retval') {
      if (!isReturn) throw new ProbeError(PROBE_ERR.RETVAL_ON_PROBE, pos);
      return;
    }
    if (v === 'comm' || v === 'stack') return;
    if (v.startsWith('stack')) {
      if (!/^stack\d+$/.test(v)) throw new ProbeError(PROBE_ERR.BAD_STACK_NUM, pos);
      return;
    }
    if (v.startsWith('arg')) {
      if (!/^arg[1-9]\d*$/.test(v)) throw new ProbeError(PROBE_ERR.BAD_ARG_NUM, pos);
      return;
    }
    throw new ProbeError(PROBE_ERR.BAD_VAR, pos);
  }
  if (f[0] === '@') {
    if (!/^@(0x[0-9a-fA-F]+|\d+|[A-Za-z_][A-Za-z0-9_.]*([+-]\d+)?)$/.test(f)) throw new ProbeError(PROBE_ERR.BAD_MEM_ADDR, pos);
    return;
  }
  if (f[0] === '\\') {
    if (!/^\\(-?\d+|0x[0-9a-fA-F]+|".*")$/.test(f)) throw new ProbeError(PROBE_ERR.BAD_IMM, pos);
    return;
  }
  if (f[0] === '+' || f[0] === '-') {
    const m = /^[+-]u?(0x[0-9a-fA-F]+|\d+)?/.exec(f) as RegExpExecArray;
    if (!m[1]) throw new ProbeError(PROBE_ERR.BAD_DEREF_OFFS, pos);
    const rest = f.slice(m[0].length);
    if (rest[0] !== '(') throw new ProbeError(PROBE_ERR.DEREF_NEED_BRACE, pos + m[0].length);
    if (!rest.endsWith(')')) throw new ProbeError(PROBE_ERR.DEREF_OPEN_BRACE, pos + m[0].length);
    checkFetch(rest.slice(1, -1), pos + m[0].length + 1, isReturn);
    return;
  }
  throw new ProbeError(PROBE_ERR.BAD_FETCH_ARG, pos);
}

/** The kprobe_events line of a definition (trace_kprobe_show). */
export function kprobeLine(d: KprobeDef): string {
  const head = `${d.isReturn ? 'r' : 'p'}${d.isReturn && d.maxactive ? d.maxactive : ''}:${d.group}/${d.event}`;
  const at = d.offset ? `${d.symbol}+${d.offset}` : d.symbol;
  return [head, at, ...d.args.map((a) => `${a.name}=${a.comm}`)].join(' ');
}

/** Field type, size, signedness and printf of a fetch type. */
export function argTypeInfo(type: string): { ctype: string; size: number; signed: boolean; fmt: string; string: boolean } {
  const t = type || 'x64';
  if (t === 'string' || t === 'ustring') return { ctype: '__data_loc char[]', size: 4, signed: true, fmt: '\\"%s\\"', string: true };
  if (t === 'symbol') return { ctype: 'u64', size: 8, signed: false, fmt: '%pS', string: false };
  const b = /^b(\d+)@\d+\/(\d+)$/.exec(t);
  if (b) return { ctype: `u${b[2]}`, size: Number(b[2]) / 8, signed: false, fmt: '%u', string: false };
  const bits = Number(t.slice(1));
  const size = bits / 8;
  if (t[0] === 's') return { ctype: t, size, signed: true, fmt: bits === 64 ? '%Ld' : '%d', string: false };
  if (t[0] === 'x') return { ctype: `u${bits}`, size, signed: false, fmt: bits === 64 ? '0x%Lx' : '0x%x', string: false };
  return { ctype: t, size, signed: false, fmt: bits === 64 ? '%Lu' : '%u', string: false };
}

/** The values a probe hit sees: function arguments (in ARG_REGS order), return value, comm. */
export interface ProbeRegs {
  args?: readonly ProbeValue[];
  retval?: ProbeValue;
  comm: string;
}
/** A register or memory value: a number, a string (what a char * points to) or a struct (array of words). */
export type ProbeValue = FieldValue | readonly ProbeValue[];

function fetchValue(f: string, regs: ProbeRegs): ProbeValue | undefined {
  if (f[0] === '%') {
    const i = ARG_REGS.indexOf(f.slice(1));
    return i >= 0 ? regs.args?.[i] : 0;
  }
  if (f === '$retval') return regs.retval;
  if (f === '$comm') return regs.comm;
  if (f.startsWith('$arg')) return regs.args?.[Number(f.slice(4)) - 1];
  if (f.startsWith('$stack')) return 0;
  if (f[0] === '@') return 0;
  if (f[0] === '\\') {
    const v = f.slice(1);
    return v[0] === '"' ? v.slice(1, -1) : Number(v);
  }
  const m = /^([+-])u?(0x[0-9a-fA-F]+|\d+)\((.*)\)$/.exec(f);
  if (m) {
    const base = fetchValue(m[3], regs);
    const off = Number(m[2]) * (m[1] === '-' ? -1 : 1);
    if (Array.isArray(base)) return (base as readonly ProbeValue[])[Math.floor(off / 8)];
    if (typeof base === 'string') return off === 0 ? base : base.slice(off);
    return undefined;
  }
  return 0;
}

function toBig(v: ProbeValue | undefined): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  return 0n;
}

/** Renders the args of one hit: ` name=value` each. */
export function renderProbeArgs(d: KprobeDef, regs: ProbeRegs): string {
  let out = '';
  for (const a of d.args) {
    const info = argTypeInfo(a.type);
    const v = fetchValue(a.fetch, regs);
    let s: string;
    if (info.string) s = typeof v === 'string' ? `"${v}"` : '(fault)';
    else if (a.type === 'symbol') s = `0x${BigInt.asUintN(64, toBig(v)).toString(16)}`;
    else {
      const bits = info.size * 8;
      const x = toBig(v);
      if (info.signed) s = BigInt.asIntN(bits, x).toString();
      else if (info.fmt.startsWith('0x')) s = `0x${BigInt.asUintN(bits, x).toString(16)}`;
      else s = BigInt.asUintN(bits, x).toString();
    }
    out += ` ${a.name}=${s}`;
  }
  return out;
}
