/**
 * /proc/sys: every knob of the reference kernel (Linux 6.1, Debian
 * 6.1.0-56-amd64) with its default, file mode and write validation.
 *
 * Defaults live in shared immutable data (tree.ts); a machine stores only
 * the values that changed. Knobs whose value belongs to another subsystem
 * (vm.* -> mm, kernel.printk -> printk, kernel.pid_max -> sched, ...) read
 * and write through that subsystem when it provides the hook.
 *
 * Values are kept as the kernel keeps them ("internal"): jiffies for the
 * *_jiffies handlers, bytes for unres_qlen; reads convert like the handlers.
 */
import { KernelError, type ErrnoName } from '../errors';
import type { FsCtx } from '../fs/vnode';
import type { Kernel } from '../kernel';
import { HZ } from '../types';
import { Rng } from '../util/rng';
import { defaultTokens, type Knob } from './knobs';
import { bootDefault, liveBinding, type Binding } from './hooks';
import {
  INT_MAX,
  type PNum,
  U64_MAX,
  UINT_MAX,
  clockTToJiffies,
  jiffiesToClockT,
  jiffiesToMsecs,
  msecsToJiffies,
  toInt,
  writeUint,
  writeVec,
} from './parse';
import { customRead, customWrite } from './custom';
import { DEV_PARENTS, TREE, devPath, nameCmp, vecLen } from './tree';

export interface SysctlState {
  /** changed values by storage path (internal representation) */
  v: Record<string, string>;
  /** kernel.random.boot_id */
  bootId: string;
  /** reads of kernel.random.uuid so far (each read is a fresh uuid) */
  uuidSeq: number;
  /** taint bits set through kernel.tainted or addTaint() */
  taint: number;
}

/** SKB_TRUESIZE(ETH_FRAME_LEN): the unit of neigh unres_qlen. */
export const SKB_TRUESIZE_ETH = 2090;

/** A resolved knob: where it is, how it parses, what it shows by default. */
export interface KnobRef {
  path: string;
  mode: number;
  knob: Knob;
  /** the reference default (vectors space separated), null when unreadable */
  def: string | null;
  /** interface of a per-device knob */
  dev?: string;
  /** where its data lives (a sibling for shared data) */
  store: string;
}

function uuidOf(r: Rng): string {
  const h = Array.from({ length: 4 }, () => r.nextU32().toString(16).padStart(8, '0')).join('');
  // version 4, variant 10
  const v = h.slice(0, 12) + '4' + h.slice(13, 16) + ((parseInt(h[16], 16) & 3) | 8).toString(16) + h.slice(17);
  return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20, 32)}`;
}

export class Sysctl {
  private s: SysctlState;
  /** boot-time defaults of this configuration, computed on first read (derived, not state) */
  private readonly bootCache = new Map<string, string | undefined>();

  constructor(private readonly k: Kernel) {
    // boot_id: a random uuid fixed at boot (a stream of its own: the kernel's rng is not consumed)
    this.s = { v: {}, bootId: uuidOf(new Rng(`${k.config.seed}\u0000boot_id`)), uuidSeq: 0, taint: 0 };
  }

  // ---------------------------------------------------------------- lookup

  /** The knob at `path` (e.g. "vm/swappiness"), or undefined. */
  ref(path: string): KnobRef | undefined {
    const e = TREE.entries.get(path);
    if (e) return this.mkRef(path, e.mode, e.def, e.knob);
    const d = devPath(path);
    if (!d) return undefined;
    const [parent, dev, name] = d;
    if (!this.hasDev(dev) || !TREE.devKnobs.get(parent)?.includes(name)) return undefined;
    const tmpl = TREE.entries.get(`${parent}/default/${name}`);
    if (!tmpl) return undefined;
    return { ...this.mkRef(path, tmpl.mode, tmpl.def, tmpl.knob), dev };
  }

  private mkRef(path: string, mode: number, def: string | null, knob: Knob): KnobRef {
    const dir = path.slice(0, path.lastIndexOf('/'));
    const store = knob.data ? `${dir}/${knob.data}` : path;
    return { path, mode, knob, def, store };
  }

  private hasDev(dev: string): boolean {
    return !!this.k.devices?.netdev(dev);
  }

  /** Children of a /proc/sys directory ("" = the root), sorted like the kernel's readdir. */
  list(dir: string): [string, boolean][] | undefined {
    for (const p of DEV_PARENTS) {
      if (dir === p) {
        const stat = TREE.dirs.get(p) ?? [];
        const devs = (this.k.devices?.netdevs() ?? []).map((n) => [n.name, true] as [string, boolean]);
        return [...stat, ...devs].sort((a, b) => nameCmp(a[0], b[0]));
      }
      if (dir.startsWith(p + '/')) {
        const dev = dir.slice(p.length + 1);
        if (dev === 'all' || dev === 'default') break;
        if (dev.includes('/') || !this.hasDev(dev)) return undefined;
        return (TREE.devKnobs.get(p) ?? []).map((n) => [n, false]);
      }
    }
    const d = TREE.dirs.get(dir);
    return d ? [...d] : undefined;
  }

  /** Every knob path, in `sysctl -a` order. */
  names(): string[] {
    const out: string[] = [];
    const walk = (dir: string): void => {
      for (const [n, isDir] of this.list(dir) ?? []) {
        const p = dir ? `${dir}/${n}` : n;
        if (isDir) walk(p);
        else out.push(p);
      }
    };
    walk('');
    return out;
  }

  mode(path: string): number {
    const r = this.ref(path);
    if (!r) throw new KernelError('ENOENT');
    return r.mode;
  }

  // ---------------------------------------------------------------- values

  /** The reference default in internal units, or what the machine's boot set. */
  private defaultInternal(store: string): string | null {
    let boot = this.bootCache.get(store);
    if (boot === undefined && !this.bootCache.has(store)) {
      boot = bootDefault(this.k, store);
      this.bootCache.set(store, boot);
    }
    if (boot !== undefined) return boot;
    const r = this.ref(store);
    if (!r) return null;
    if (r.dev) return this.devDefault(r);
    if (r.def === null) return null;
    return toInternal(r.knob, r.def);
  }

  /** A device's value before anything was written to it. */
  private devDefault(r: KnobRef): string | null {
    const [parent, dev, name] = devPath(r.path) as [string, string, string];
    const nd = this.k.devices.netdev(dev);
    if (parent === 'net/ipv6/conf') {
      // copied from the boot defaults when the device registered (ipv6_add_dev)
      if (name === 'mtu') return String(nd ? this.k.devices.mtu(nd) : 1500);
      if (name === 'accept_dad' && nd && (nd.loopback || nd.noarp)) return '-1';
      if (name === 'use_tempaddr' && nd?.loopback) return '-1';
      const t = TREE.entries.get(`${parent}/default/${name}`);
      return t?.def === null || !t ? null : toInternal(r.knob, t.def);
    }
    if (parent === 'net/ipv4/conf' && nd?.loopback && (name === 'disable_policy' || name === 'disable_xfrm')) return '1';
    // devinet and neigh parms follow "default" until written
    return this.internal(`${parent}/default/${name}`);
  }

  /** The stored (internal) value of a storage path. */
  internal(store: string): string | null {
    const v = this.s.v[store];
    return v !== undefined ? v : this.defaultInternal(store);
  }

  private binding(r: KnobRef): Binding | undefined {
    return liveBinding(this.k, r, this);
  }

  /**
   * The value a read shows, without the trailing newline (vectors tab separated).
   * Throws the handler's errno for unreadable knobs (not the permission check).
   */
  value(path: string, ctx?: FsCtx): string {
    const r = this.ref(path);
    if (!r) throw new KernelError('ENOENT');
    return this.show(r, ctx);
  }

  private show(r: KnobRef, ctx?: FsCtx): string {
    if (r.knob.t === 'custom') {
      const c = customRead(this.k, this, r, ctx);
      if (c !== undefined) return c;
    }
    const b = this.binding(r);
    const live = b?.get?.();
    const internal = live !== undefined ? live : this.internal(r.store);
    if (internal === null) throw new KernelError(r.knob.readErr ?? 'EIO');
    return display(r.knob, internal);
  }

  /** kmsg and others: the value of a knob as read by root (ENOENT for unknown knobs). */
  get(path: string): string {
    return this.value(path);
  }

  /** The content of the /proc/sys file (value + newline; empty files stay empty). */
  read(path: string, ctx?: FsCtx): string {
    const r = this.ref(path);
    if (!r) throw new KernelError('ENOENT');
    if (ctx) checkPerm(ctx, r.mode, 4);
    const v = this.show(r, ctx);
    if (r.knob.t === 'custom' && path === 'vm/stat_refresh') return v;
    return `${v}\n`;
  }

  /** A write of `data` to the /proc/sys file (as `echo data >` does, one write at offset 0). */
  write(path: string, data: string, ctx?: FsCtx): void {
    const r = this.ref(path);
    if (!r) throw new KernelError('ENOENT');
    if (ctx) checkPerm(ctx, r.mode, 2);
    if (r.knob.t === 'custom') {
      if (customWrite(this.k, this, r, data, ctx)) return;
    }
    this.parseAndCommit(r, data);
  }

  /** The generic handlers: parse, validate, store (prefix of a vector on a partial failure). */
  parseAndCommit(r: KnobRef, data: string, opts: { min?: number | bigint; max?: number | bigint } = {}): string {
    const knob = r.knob;
    const min = opts.min ?? knob.min;
    const max = opts.max ?? knob.max;
    const old = this.currentInternal(r);
    switch (knob.t) {
      case 'roint':
        return old ?? '';
      case 'str': {
        const maxlen = knob.maxlen ?? 256;
        if (data.length === 0) return old ?? '';
        let s = '';
        for (const c of data) {
          if (c === '\n' || c === '\0' || s.length >= maxlen - 1) break;
          s += c;
        }
        this.commit(r, s);
        return s;
      }
      case 'uint':
      case 'u8': {
        const lo = BigInt(min ?? 0);
        const hi = BigInt(max ?? (knob.t === 'u8' ? 255 : UINT_MAX));
        const v = writeUint(data, (x) => (x > BigInt(UINT_MAX) || x < lo || x > hi ? 'EINVAL' : Number(x)));
        this.commit(r, String(v));
        return String(v);
      }
      case 'ulong': {
        const lo = min === undefined ? undefined : BigInt(min);
        const hi = max === undefined ? undefined : BigInt(max);
        const n = vecLen(r.def);
        const res = writeVec(data, n, (x: PNum) => {
          if (x.neg) return 'EINVAL';
          if ((lo !== undefined && x.val < lo) || (hi !== undefined && x.val > hi)) return 'EINVAL';
          return x.val;
        });
        const cur = (old ?? '').split(/\s+/).filter(Boolean);
        res.values.forEach((v, i) => (cur[i] = String(v)));
        const next = cur.slice(0, n).join(' ');
        if (res.values.length) this.commit(r, next);
        if (res.err) throw new KernelError(res.err);
        return next;
      }
      case 'int':
      case 'custom': {
        const n = knob.data ? 1 : vecLen(r.def);
        const conv = intConv(knob, min, max);
        const res = writeVec(data, n, conv);
        const cur = (old ?? '').split(/\s+/).filter(Boolean);
        res.values.forEach((v, i) => (cur[i] = String(v)));
        const next = cur.slice(0, n).join(' ');
        if (res.values.length) this.commit(r, next);
        if (res.err) throw new KernelError(res.err);
        return next;
      }
    }
  }

  /** The internal value a write starts from (a bound knob's live value). */
  currentInternal(r: KnobRef): string | null {
    const live = this.binding(r)?.get?.();
    return live !== undefined ? live : this.internal(r.store);
  }

  /** Stores an internal value (through the owning subsystem for bound knobs). */
  commit(r: KnobRef, internal: string): void {
    const b = this.binding(r);
    if (b?.set) {
      b.set(internal);
      if (b.only) return;
    }
    this.setInternal(r.store, internal);
  }

  /** Stores a value at a storage path, forgetting it when it equals the default. */
  setInternal(store: string, internal: string): void {
    delete this.s.v[store];
    const dflt = this.defaultInternal(store);
    if (dflt !== internal) this.s.v[store] = internal;
  }

  /** Whether a storage path holds a written value (devinet/neigh "state" bits). */
  isSet(store: string): boolean {
    return store in this.s.v;
  }

  forget(store: string): void {
    delete this.s.v[store];
  }

  // ---------------------------------------------------------------- facts for other subsystems

  /** The node name (what uname -n and `hostname` show). */
  getHostname(): string {
    return this.value('kernel/hostname');
  }

  /** sethostname(2): EINVAL past __NEW_UTS_LEN (64). */
  setHostname(name: string): void {
    if (name.length > 64) throw new KernelError('EINVAL');
    this.setInternal('kernel/hostname', name);
  }

  getDomainname(): string {
    return this.value('kernel/domainname');
  }

  setDomainname(name: string): void {
    if (name.length > 64) throw new KernelError('EINVAL');
    this.setInternal('kernel/domainname', name);
  }

  get bootId(): string {
    return this.s.bootId;
  }

  /** A fresh random uuid (kernel.random.uuid reads). */
  nextUuid(): string {
    const r = new Rng(`${this.k.config.seed}\u0000uuid\u0000${this.s.uuidSeq++}`);
    return uuidOf(r);
  }

  /** The kernel's taint mask (kernel.tainted): what was added here plus the module loader's. */
  tainted(): number {
    return (this.s.taint | (this.k.modules?.taintMask ?? 0)) >>> 0;
  }

  /** add_taint(flag) */
  addTaint(bit: number): void {
    if (!Number.isInteger(bit) || bit < 0 || bit >= TAINT_FLAGS_COUNT) throw new KernelError('EINVAL');
    this.s.taint = (this.s.taint | (1 << bit)) >>> 0;
  }

  /** An interface's MTU changed: IPv6 follows it (addrconf_notify NETDEV_CHANGEMTU). */
  onMtuChange(dev: string, mtu: number): void {
    if (mtu >= 1280) this.forget(`net/ipv6/conf/${dev}/mtu`);
  }

  getState(): SysctlState {
    return { v: { ...this.s.v }, bootId: this.s.bootId, uuidSeq: this.s.uuidSeq, taint: this.s.taint };
  }

  setState(s: SysctlState | undefined): void {
    // snapshots from before the full table carry no changed values: keep the defaults
    if (!s || !s.v) return;
    this.s = { v: { ...s.v }, bootId: s.bootId ?? this.s.bootId, uuidSeq: s.uuidSeq ?? 0, taint: s.taint ?? 0 };
  }
}

export const TAINT_FLAGS_COUNT = 19;

/** proc_sys_permission(): root gets the owner bits, no override (0444 stays read-only). */
export function checkPerm(ctx: FsCtx, mode: number, want: 4 | 2): void {
  const bits = ctx.uid === 0 ? (mode >> 6) & 7 : mode & 7;
  if ((bits & want) === 0) throw new KernelError('EACCES');
}

/** Internal representation of a displayed default. */
export function toInternal(knob: Knob, shown: string): string {
  const toks = defaultTokens(shown);
  if (knob.t === 'str' || (knob.t === 'custom' && !/^-?\d+(\s+-?\d+)*$/.test(shown.trim()))) return shown;
  if (knob.t !== 'int' && knob.t !== 'custom') return toks.join(' ');
  if (!knob.conv || knob.data) return toks.join(' ');
  return toks
    .map((t) => {
      const v = Number(t);
      switch (knob.conv) {
        case 'jiffies':
          return String(v * HZ);
        case 'ms':
          return String(msecsToJiffies(v));
        case 'userhz':
          return String(clockTToJiffies(v));
        default:
          return t;
      }
    })
    .join(' ');
}

/** What a read shows of an internal value. */
export function display(knob: Knob, internal: string): string {
  if (knob.t === 'str' || (knob.t === 'custom' && !/^-?\d+(\s+-?\d+)*$/.test(internal.trim()))) return internal;
  const toks = internal.split(/\s+/).filter(Boolean);
  if (!knob.conv) return toks.join('\t');
  return toks
    .map((t) => {
      const v = Number(t);
      const neg = v < 0;
      const a = Math.abs(v);
      switch (knob.conv) {
        case 'jiffies':
          return `${neg ? '-' : ''}${Math.floor(a / HZ)}`;
        case 'ms':
          return `${neg ? '-' : ''}${jiffiesToMsecs(a)}`;
        case 'userhz':
          return `${neg ? '-' : ''}${jiffiesToClockT(a)}`;
        case 'qlen':
          return String(Math.floor(v / SKB_TRUESIZE_ETH));
        default:
          return t;
      }
    })
    .join('\t');
}

/** The per-element conversion of the int handlers (dointvec, _minmax, _jiffies, _ms_jiffies, _userhz_jiffies). */
function intConv(knob: Knob, min?: number | bigint, max?: number | bigint): (x: PNum) => number | 'EINVAL' {
  const lo = min === undefined ? undefined : Number(min);
  const hi = max === undefined ? undefined : Number(max);
  const inRange = (v: number): boolean => (lo === undefined || v >= lo) && (hi === undefined || v <= hi);
  switch (knob.conv) {
    case 'jiffies':
      return (x) => {
        if (x.val > BigInt(Math.floor(INT_MAX / HZ))) return 'EINVAL';
        const v = x.neg ? -Number(x.val) : Number(x.val);
        return inRange(v) ? v * HZ : 'EINVAL';
      };
    case 'ms':
      return (x) => {
        if (x.neg && x.val !== 0n) return 'EINVAL';
        if (x.val > BigInt(INT_MAX)) return 'EINVAL';
        const j = msecsToJiffies(Number(x.val));
        if (j > INT_MAX) return 'EINVAL';
        if (lo !== undefined && j < msecsToJiffies(lo)) return 'EINVAL';
        if (hi !== undefined && j > msecsToJiffies(hi)) return 'EINVAL';
        return j;
      };
    case 'userhz':
      return (x) => {
        if (x.val > ((U64_MAX >> 1n) / BigInt(HZ)) * 100n) return 'EINVAL';
        if (x.neg && x.val !== 0n) return -1;
        const j = clockTToJiffies(Number(x.val));
        return j > INT_MAX ? 'EINVAL' : j;
      };
    case 'qlen':
      return (x) => {
        const v = toInt(x);
        if (v === 'EINVAL' || v < 0 || v > Math.floor(INT_MAX / SKB_TRUESIZE_ETH)) return 'EINVAL';
        return v * SKB_TRUESIZE_ETH;
      };
    default:
      return (x) => {
        const v = toInt(x);
        if (v === 'EINVAL') return 'EINVAL';
        return inRange(v) ? v : 'EINVAL';
      };
  }
}

export type { ErrnoName };
