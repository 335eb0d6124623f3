/**
 * Rendering of trace event payloads: the part after "TIMESTAMP: " of a line,
 * from an event's print fmt (a small printf interpreter over REC->field
 * arguments) or a dedicated renderer where the print fmt is C code.
 */
import type { EventDef } from './data';
import type { EventFields, FieldValue } from './filter';

function big(v: FieldValue | undefined): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  return 0n;
}

const TASK_STATE = ['S', 'D', 'T', 't', 'X', 'Z', 'P', 'I'];

/** prev_state of sched_switch: __print_flags over the TASK_REPORT bits, "R" when none, "+" for preempted. */
export function prevStateString(v: FieldValue | undefined): string {
  if (typeof v === 'string') return v;
  const n = Number(big(v));
  const mask = n & 0xff;
  let s = '';
  for (let i = 0; i < 8; i++) if (mask & (1 << i)) s += (s ? '|' : '') + TASK_STATE[i];
  return (s || 'R') + (n & 0x100 ? '+' : '');
}

/** Splits a print fmt into its C string and its argument expressions. */
export function splitPrintFmt(pf: string): { fmt: string; args: string[] } | undefined {
  if (pf[0] !== '"') return undefined;
  let i = 1;
  let fmt = '';
  for (; i < pf.length && pf[i] !== '"'; i++) {
    if (pf[i] === '\\') {
      i++;
      fmt += pf[i] === 'n' ? '\n' : pf[i] === 't' ? '\t' : pf[i];
    } else fmt += pf[i];
  }
  const args: string[] = [];
  let depth = 0;
  let cur = '';
  for (let j = i + 1; j < pf.length; j++) {
    const c = pf[j];
    if (c === '(' || c === '{') depth++;
    if (c === ')' || c === '}') depth--;
    if (c === ',' && depth === 0) {
      if (cur.trim()) args.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) args.push(cur.trim());
  return { fmt, args };
}

/** The field a simple print fmt argument reads, or undefined when the argument is C code. */
function argField(a: string): string | undefined {
  const m =
    /^(?:\(void \*\))?REC->(\w+)$/.exec(a) ??
    /^__get_str\((\w+)\)$/.exec(a) ??
    /^\(\(unsigned long\)\(REC->(\w+)\)\)$/.exec(a) ??
    /^\(u64\)REC->(\w+)$/.exec(a);
  return m?.[1];
}

/** printf(3) subset of the kernel's trace output. */
export function cprintf(fmt: string, vals: readonly (FieldValue | undefined)[], sizes: readonly number[] = []): string {
  let out = '';
  let ai = 0;
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    const m = /^%([-0 +#]*)(\d*)(?:\.(\d+))?(hh|h|ll|l|L|z)?([diouxXscpS])([sSFfBR]?)/.exec(fmt.slice(i));
    if (!m) {
      if (fmt[i + 1] === '%') {
        out += '%';
        i++;
      } else out += c;
      continue;
    }
    i += m[0].length - 1;
    const [, flags, width, , len, conv, psuffix] = m;
    const v = vals[ai];
    const size = sizes[ai] || (len === 'l' || len === 'll' || len === 'L' || len === 'z' ? 8 : 4);
    ai++;
    let s: string;
    if (conv === 's') s = v === undefined ? '' : String(v);
    else if (conv === 'c') s = typeof v === 'string' ? v.slice(0, 1) : String.fromCharCode(Number(big(v)));
    else if (conv === 'p') {
      if (psuffix && typeof v === 'string') s = v;
      else s = (psuffix ? '0x' : '') + BigInt.asUintN(64, big(v)).toString(16);
      if (psuffix) i += 0;
    } else if (conv === 'd' || conv === 'i') s = BigInt.asIntN(size * 8, big(v)).toString();
    else if (conv === 'u') s = BigInt.asUintN(size * 8, big(v)).toString();
    else if (conv === 'o') s = BigInt.asUintN(size * 8, big(v)).toString(8);
    else {
      s = BigInt.asUintN(size * 8, big(v)).toString(16);
      if (conv === 'X') s = s.toUpperCase();
      if (flags.includes('#')) s = '0x' + s;
    }
    const w = Number(width || 0);
    if (s.length < w) {
      if (flags.includes('-')) s = s.padEnd(w, ' ');
      else if (flags.includes('0') && conv !== 's') {
        const neg = s.startsWith('-');
        s = (neg ? '-' : '') + s.slice(neg ? 1 : 0).padStart(w - (neg ? 1 : 0), '0');
      } else s = s.padStart(w, ' ');
    }
    out += s;
  }
  return out;
}

function hexArg(def: EventDef | undefined, name: string, v: FieldValue | undefined): string {
  const f = def?.fields.find((x) => x.name === name);
  // int-typed syscall args print their 32-bit value (the field holds the sign-extended int)
  const bits = f && /^(int|unsigned int|u32|s32)$/.test(f.type) ? 32 : 64;
  return BigInt.asUintN(bits, big(v)).toString(16);
}

/** The payload of an event line ("sched_switch: prev_comm=..."). */
export function renderEvent(def: EventDef | undefined, system: string, name: string, f: EventFields): string {
  if (system === 'syscalls' && name.startsWith('sys_enter_')) {
    const own = def?.known ? def.fields.filter((x) => !x.name.startsWith('common_') && x.name !== '__syscall_nr').map((x) => x.name) : Object.keys(f);
    const args = own.map((a) => `${a}: ${hexArg(def, a, f[a])}`);
    return `sys_${name.slice(10)}(${args.join(', ')})`;
  }
  if (system === 'syscalls' && name.startsWith('sys_exit_')) {
    return `sys_${name.slice(9)} -> 0x${BigInt.asUintN(64, big(f.ret)).toString(16)}`;
  }
  if (system === 'sched' && name === 'sched_switch') {
    return (
      `sched_switch: prev_comm=${f.prev_comm ?? ''} prev_pid=${f.prev_pid ?? 0} prev_prio=${f.prev_prio ?? 120} ` +
      `prev_state=${prevStateString(f.prev_state)} ==> next_comm=${f.next_comm ?? ''} next_pid=${f.next_pid ?? 0} next_prio=${f.next_prio ?? 120}`
    );
  }
  const special = renderSpecial(system, name, f);
  if (special !== undefined) return special;
  if (def?.printFmt) {
    const sp = splitPrintFmt(def.printFmt);
    if (sp) {
      const names = sp.args.map(argField);
      if (names.every((n) => n !== undefined)) {
        const sizes = names.map((n) => def.fields.find((x) => x.name === n)?.size ?? 0);
        return `${name}: ${cprintf(sp.fmt, names.map((n) => f[n as string]), sizes)}`;
      }
    }
  }
  const own = def?.known ? def.fields.filter((x) => !x.name.startsWith('common_')).map((x) => x.name) : Object.keys(f);
  return `${name}: ${own
    .filter((k) => f[k] !== undefined)
    .map((k) => `${k}=${String(f[k])}`)
    .join(' ')}`;
}

/** Bytes an event takes in the ring buffer (header + fixed fields + dynamic strings). */
export function eventBytes(def: EventDef | undefined, f: EventFields): number {
  let n = 8;
  if (def) {
    for (const x of def.fields) {
      n = Math.max(n, x.offset + x.size);
      if (/__data_loc/.test(x.decl)) n += String(f[x.name] ?? '').length + 1;
    }
  } else for (const v of Object.values(f)) n += typeof v === 'string' ? v.length + 1 : 8;
  return 4 + Math.ceil(n / 4) * 4;
}

const hex = (v: FieldValue | undefined): string => BigInt.asUintN(64, big(v)).toString(16);

const GFP_NAMES: Record<number, string> = { 0xcc0: 'GFP_KERNEL', 0x400cc0: 'GFP_KERNEL_ACCOUNT', 0xdc0: 'GFP_KERNEL|__GFP_ZERO', 0xa20: 'GFP_ATOMIC', 0x2800: 'GFP_NOWAIT|__GFP_NOWARN' };

/** mm_page_alloc's gfp_flags as __print_flags() names them (the combined masks first) */
const PAGE_GFP_NAMES: Record<number, string> = { 0x100cca: 'GFP_HIGHUSER_MOVABLE', 0x100dca: 'GFP_HIGHUSER_MOVABLE|__GFP_ZERO', 0xcc0: 'GFP_KERNEL', 0xdc0: 'GFP_KERNEL|__GFP_ZERO', 0x400dc0: 'GFP_KERNEL_ACCOUNT|__GFP_ZERO' };

/** a dev_t as "MAJOR,MINOR" (MINORBITS 20) */
const devStr = (v: FieldValue | undefined): string => {
  const d = Number(big(v));
  return `${Math.floor(d / 2 ** 20)},${d % 2 ** 20}`;
};

/** softirq_to_name[], for __print_symbolic(vec, ...) */
const SOFTIRQ_NAMES = ['HI', 'TIMER', 'NET_TX', 'NET_RX', 'BLOCK', 'IRQ_POLL', 'TASKLET', 'SCHED', 'HRTIMER', 'RCU'];

const MODULE_TAINT_FLAGS: [number, string][] = [
  [1 << 0, 'P'],
  [1 << 12, 'O'],
  [1 << 1, 'F'],
  [1 << 10, 'C'],
  [1 << 13, 'E'],
];

/** Events whose print fmt is C code the interpreter cannot run. */
function renderSpecial(system: string, name: string, f: EventFields): string | undefined {
  switch (`${system}:${name}`) {
    case 'raw_syscalls:sys_enter':
      return `sys_enter: NR ${String(f.id ?? 0)} (${String(f.args ?? '0, 0, 0, 0, 0, 0')})`;
    case 'raw_syscalls:sys_exit':
      return `sys_exit: NR ${String(f.id ?? 0)} = ${big(f.ret).toString()}`;
    case 'kmem:kmalloc':
    case 'kmem:kmem_cache_alloc': {
      const g = Number(big(f.gfp_flags));
      return (
        `${name}: call_site=${String(f.call_site ?? '')} ptr=${hex(f.ptr)} bytes_req=${big(f.bytes_req)} bytes_alloc=${big(f.bytes_alloc)} ` +
        `gfp_flags=${g ? (GFP_NAMES[g] ?? `0x${g.toString(16)}`) : 'none'} node=${big(f.node)} accounted=${String(f.accounted ?? 'false')}`
      );
    }
    case 'napi:napi_poll':
      // TP_printk of include/trace/events/napi.h (napi is a %p, passed hashed)
      return `napi_poll: napi poll on napi struct ${String(f.napi ?? '')} for device ${String(f.dev_name ?? '')} work ${big(f.work)} budget ${big(f.budget)}`;
    case 'kmem:kfree':
      return `kfree: call_site=${String(f.call_site ?? '')} ptr=${hex(f.ptr)}`;
    case 'kmem:kmem_cache_free':
      return `kmem_cache_free: call_site=${String(f.call_site ?? '')} ptr=${hex(f.ptr)} name=${String(f.name ?? '')}`;
    case 'sched:sched_stat_runtime':
      return `sched_stat_runtime: comm=${String(f.comm ?? '')} pid=${big(f.pid)} runtime=${big(f.runtime)} [ns] vruntime=${big(f.vruntime)} [ns]`;
    case 'sched:sched_wakeup_new':
      return `sched_wakeup_new: comm=${String(f.comm ?? '')} pid=${big(f.pid)} prio=${big(f.prio)} target_cpu=${String(big(f.target_cpu)).padStart(3, '0')}`;
    case 'module:module_load': {
      const t = Number(big(f.taints));
      return `module_load: ${String(f.name ?? '')} ${MODULE_TAINT_FLAGS.filter(([b]) => t & b)
        .map(([, l]) => l)
        .join('')}`;
    }
    case 'irq:softirq_raise':
    case 'irq:softirq_entry':
    case 'irq:softirq_exit': {
      const vec = Number(big(f.vec));
      return `${name}: vec=${vec} [action=${SOFTIRQ_NAMES[vec] ?? vec}]`;
    }
    case 'irq:irq_handler_exit':
      return `irq_handler_exit: irq=${big(f.irq)} ret=${big(f.ret) ? 'handled' : 'unhandled'}`;
    case 'module:module_free':
      return `module_free: ${String(f.name ?? '')}`;
    case 'exceptions:page_fault_user':
    case 'exceptions:page_fault_kernel':
      // %ps of a user address: no symbol, printed as 0x<hex>
      return `${name}: address=0x${hex(f.address)} ip=0x${hex(f.ip)} error_code=0x${hex(f.error_code)}`;
    case 'kmem:mm_page_alloc': {
      const g = Number(big(f.gfp_flags));
      // page=%p: the struct page pointer, hashed like every plain %p
      const page = (Number(big(f.pfn)) * 0x9e3779b1) >>> 0;
      return `mm_page_alloc: page=${page.toString(16).padStart(16, '0')} pfn=0x${hex(f.pfn)} order=${big(f.order)} migratetype=${big(f.migratetype)} gfp_flags=${g ? (PAGE_GFP_NAMES[g] ?? `0x${g.toString(16)}`) : 'none'}`;
    }
    case 'block:block_rq_issue':
    case 'block:block_rq_insert':
      return `${name}: ${devStr(f.dev)} ${String(f.rwbs ?? '')} ${big(f.bytes)} (${String(f.cmd ?? '')}) ${big(f.sector)} + ${big(f.nr_sector)} [${String(f.comm ?? '')}]`;
    case 'block:block_rq_complete':
      return `${name}: ${devStr(f.dev)} ${String(f.rwbs ?? '')} (${String(f.cmd ?? '')}) ${big(f.sector)} + ${big(f.nr_sector)} [${big(f.error)}]`;
    case 'block:block_bio_queue':
    case 'block:block_getrq':
    case 'block:block_bio_backmerge':
    case 'block:block_bio_frontmerge':
    case 'block:block_bio_complete':
      return `${name}: ${devStr(f.dev)} ${String(f.rwbs ?? '')} ${big(f.sector)} + ${big(f.nr_sector)} [${String(f.comm ?? '')}]`;
    case 'block:block_bio_remap':
      return `${name}: ${devStr(f.dev)} ${String(f.rwbs ?? '')} ${big(f.sector)} + ${big(f.nr_sector)} <- (${devStr(f.old_dev)}) ${big(f.old_sector)}`;
    case 'timer:hrtimer_expire_entry':
      return `hrtimer_expire_entry: hrtimer=${hex(f.hrtimer).padStart(16, '0')} function=${String(f.function ?? '')} now=${big(f.now)}`;
    default:
      return undefined;
  }
}
