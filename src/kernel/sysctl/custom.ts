/**
 * Knobs with handlers of their own (the 'custom' entries of knobs.ts): what
 * they show and how they take writes, after the kernel function named in
 * each case.
 */
import { KernelError } from '../errors';
import type { FsCtx } from '../fs/vnode';
import type { Kernel } from '../kernel';
import { KERNEL_RELEASE } from '../types';
import { cpuList } from './hooks';
import { INT_MAX, type PNum, UINT_MAX, toInt, writeUint, writeVec } from './parse';
import { type KnobRef, type Sysctl, TAINT_FLAGS_COUNT } from './sysctl';

const SECCOMP_ACTIONS = ['kill_process', 'kill_thread', 'trap', 'errno', 'user_notif', 'trace', 'log', 'allow'];
const BUILTIN_QDISCS = ['pfifo_fast', 'pfifo', 'bfifo', 'pfifo_head_drop', 'noop', 'noqueue', 'mq', 'fq_codel'];
const BUILTIN_CC = ['reno', 'cubic'];
/** tcp_* congestion control modules and the algorithm each registers */
const CC_MODULES: Record<string, string> = {
  tcp_bbr: 'bbr',
  tcp_bic: 'bic',
  tcp_cdg: 'cdg',
  tcp_dctcp: 'dctcp',
  tcp_diag: '',
  tcp_highspeed: 'highspeed',
  tcp_htcp: 'htcp',
  tcp_hybla: 'hybla',
  tcp_illinois: 'illinois',
  tcp_lp: 'lp',
  tcp_nv: 'nv',
  tcp_scalable: 'scalable',
  tcp_vegas: 'vegas',
  tcp_veno: 'veno',
  tcp_westwood: 'westwood',
  tcp_yeah: 'yeah',
};

/** The inode/dentry slab objects the mm accounts, if it exposes its slab rows. */
interface SlabView {
  slabCaches?(): readonly { name: string }[];
  slabRowOf?(c: { name: string }): { active: number };
}

function slabActive(k: Kernel, pred: (name: string) => boolean): number | undefined {
  const mm = k.mm as unknown as SlabView;
  if (typeof mm.slabCaches !== 'function' || typeof mm.slabRowOf !== 'function') return undefined;
  let n = 0;
  let any = false;
  for (const c of mm.slabCaches()) {
    if (!pred(c.name)) continue;
    n += mm.slabRowOf(c).active;
    any = true;
  }
  return any ? n : undefined;
}

function openFiles(k: Kernel): number {
  let n = 0;
  const s = k.sched as unknown as { fds?(pid: number): unknown[] };
  if (typeof s.fds !== 'function') return 0;
  for (const t of k.sched.tasks()) {
    if (t.pid !== t.tgid) continue;
    try {
      n += s.fds(t.pid).length;
    } catch {
      // exited
    }
  }
  return n;
}

/** Parses "1,3-5" (bitmap_parselist); EINVAL on syntax or a bit >= nbits. */
export function parseList(s: string, nbits: number): number[] {
  const out = new Set<number>();
  const t = s.trim();
  if (!t) return [];
  for (const part of t.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new KernelError('EINVAL');
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (a > b || b >= nbits) throw new KernelError('EINVAL');
    for (let i = a; i <= b; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** "%*pbl": ranges of set bits. */
export function formatList(bits: readonly number[]): string {
  const out: string[] = [];
  let i = 0;
  const b = [...bits].sort((x, y) => x - y);
  while (i < b.length) {
    let j = i;
    while (j + 1 < b.length && b[j + 1] === b[j] + 1) j++;
    out.push(i === j ? String(b[i]) : `${b[i]}-${b[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** "%*pb": a hex bitmap in 32-bit groups, most significant first. */
function formatMask(bits: readonly number[], nbits: number): string {
  const words = Math.max(1, Math.ceil(nbits / 32));
  const groups: string[] = [];
  for (let w = words - 1; w >= 0; w--) {
    let v = 0;
    for (const b of bits) if (b >= w * 32 && b < w * 32 + 32) v |= 1 << (b - w * 32);
    const width = w === words - 1 ? Math.ceil((nbits - w * 32) / 4) : 8;
    groups.push((v >>> 0).toString(16).padStart(width, '0'));
  }
  return groups.join(',');
}

/** A number written to a custom int knob, via the proc_dointvec parser (one value). */
function oneInt(data: string): number {
  const r = writeVec(data, 1, (x: PNum) => toInt(x));
  if (r.err || r.values.length === 0) throw new KernelError('EINVAL');
  return r.values[0];
}

/** What a custom knob shows; undefined: show the stored value. */
export function customRead(k: Kernel, sys: Sysctl, r: KnobRef, ctx?: FsCtx): string | undefined {
  void ctx;
  switch (r.path) {
    case 'fs/file-nr': {
      // get_nr_files() reads the percpu counter without the per-CPU deltas (batch 32 per CPU)
      const n = openFiles(k);
      const shown = n < 32 * k.config.cpus ? 0 : n;
      return `${shown}\t0\t${sys.value('fs/file-max')}`;
    }
    case 'fs/dentry-state': {
      const d = slabActive(k, (n) => n === 'dentry') ?? 14533;
      const unused = Math.floor(d * 0.108);
      return `${d}\t${unused}\t45\t0\t${Math.floor(d / 7000)}\t0`;
    }
    case 'fs/inode-nr':
    case 'fs/inode-state': {
      const n = slabActive(k, (x) => x.endsWith('inode_cache') || x === 'inode_cache') ?? 14567;
      return r.path === 'fs/inode-nr' ? `${n}\t0` : `${n}\t0\t0\t0\t0\t0\t0`;
    }
    case 'kernel/auto_msgmni':
      return '0';
    case 'kernel/random/boot_id':
      return sys.bootId;
    case 'kernel/random/uuid':
      return sys.nextUuid();
    case 'kernel/tainted':
      return String(sys.tainted());
    case 'kernel/cad_pid':
      return sys.internal('kernel/cad_pid') ?? '1';
    case 'kernel/osrelease':
    case 'crypto/fips_version':
      return KERNEL_RELEASE;
    case 'vm/stat_refresh':
      return '';
    case 'net/ipv4/tcp_available_congestion_control':
      return availableCc(k).join(' ');
    case 'net/ipv4/tcp_allowed_congestion_control': {
      const set = sys.internal(r.path) ?? 'reno cubic';
      const avail = availableCc(k);
      return avail.filter((a) => set.split(' ').includes(a)).join(' ');
    }
  }
  return undefined;
}

function availableCc(k: Kernel): string[] {
  const out = [...BUILTIN_CC];
  const loaded = [...(k.modules?.list() ?? [])].reverse();
  for (const m of loaded) if (CC_MODULES[m.name]) out.push(CC_MODULES[m.name]);
  return out;
}

/** Handles a write to a custom knob; false: the generic handler applies. */
export function customWrite(k: Kernel, sys: Sysctl, r: KnobRef, data: string, ctx?: FsCtx): boolean {
  const root = !ctx || ctx.uid === 0;
  const p = r.path;
  const key = p.replace(/^net\/(ipv[46])\/(conf|neigh)\/[^/]+\//, 'net/$1/$2/*/');
  if (p.startsWith('net/netfilter/nf_log/')) {
    // nf_log_proc_dostring(): NONE unbinds; other loggers need nf_log_syslog
    const name = data.replace(/\n$/, '');
    if (name !== 'NONE' && !k.modules?.isLoaded('nf_log_syslog')) throw new KernelError('ENOENT');
    sys.commit(r, name);
    return true;
  }
  switch (key) {
    case 'fs/pipe-max-size': {
      // proc_dopipe_max_size(): round_pipe_size(), 0 (past 2 GiB) is EINVAL
      const v = writeUint(data, (x) => {
        if (x > BigInt(UINT_MAX) || x > 1n << 31n) return 'EINVAL';
        const n = Number(x);
        return n < 4096 ? 4096 : 2 ** Math.ceil(Math.log2(n));
      });
      sys.commit(r, String(v));
      return true;
    }
    case 'kernel/auto_msgmni': {
      // proc_ipc_auto_msgmni(): 0..1 into a dummy, "has no effect"
      const v = oneInt(data);
      if (v < 0 || v > 1) throw new KernelError('EINVAL');
      return true;
    }
    case 'kernel/cad_pid': {
      const pid = oneInt(data);
      if (!k.sched.task(pid)) throw new KernelError('ESRCH');
      sys.setInternal('kernel/cad_pid', String(pid));
      return true;
    }
    case 'kernel/nmi_watchdog':
      // proc_nmi_watchdog(): no perf NMI watchdog in the guest: -ENOTSUPP
      throw new KernelError('EOPNOTSUPP', 'Unknown error 524');
    case 'kernel/ns_last_pid': {
      if (!root) throw new KernelError('EPERM');
      const max = Number(sys.value('kernel/pid_max'));
      sys.parseAndCommit(r, data, { min: 0, max: max - 1 });
      return true;
    }
    case 'kernel/threads-max':
      sys.parseAndCommit(r, data, { min: 20, max: 0x3fffffff });
      return true;
    case 'kernel/printk_devkmsg': {
      // devkmsg_sysctl_set_loglvl(): the whole write must be one of the words and a newline
      const m = /^(on|off|ratelimit)/.exec(data);
      if (!m || m[1].length + 1 !== data.length) throw new KernelError('EINVAL');
      sys.commit(r, m[1]);
      return true;
    }
    case 'kernel/sched_rt_period_us':
    case 'kernel/sched_rt_runtime_us': {
      const v = oneInt(data);
      const period = p.endsWith('period_us') ? v : Number(sys.value('kernel/sched_rt_period_us'));
      const runtime = p.endsWith('runtime_us') ? v : Number(sys.value('kernel/sched_rt_runtime_us'));
      // sched_rt_global_validate()
      if (period <= 0 || (runtime !== -1 && (runtime < 0 || runtime > period))) throw new KernelError('EINVAL');
      sys.commit(r, String(v));
      return true;
    }
    case 'kernel/seccomp/actions_logged': {
      // seccomp_actions_logged_handler(): names of loggable actions (not "allow")
      const words = data.replace(/\n$/, '').split(' ').filter(Boolean);
      for (const w of words) if (!SECCOMP_ACTIONS.includes(w) || w === 'allow') throw new KernelError('EINVAL');
      sys.commit(r, SECCOMP_ACTIONS.filter((a) => words.includes(a)).join(' '));
      return true;
    }
    case 'kernel/sem': {
      // proc_ipc_sem_dointvec(): semmni (the 4th) must stay within IPCMNI, else it is restored
      const before = (sys.internal(r.store) ?? '').split(' ');
      sys.parseAndCommit(r, data);
      const now = (sys.internal(r.store) ?? '').split(' ');
      const semmni = Number(now[3]);
      if (semmni < 0 || semmni > 32768) {
        now[3] = before[3];
        sys.commit(r, now.join(' '));
        throw new KernelError('EINVAL');
      }
      return true;
    }
    case 'kernel/tainted': {
      // proc_taint(): bits are only added
      if (!root) throw new KernelError('EPERM');
      const res = writeVec(data, 1, (x: PNum) => (x.neg ? 'EINVAL' : x.val));
      if (res.err || !res.values.length) throw new KernelError('EINVAL');
      const v = res.values[0];
      for (let i = 0; i < TAINT_FLAGS_COUNT; i++) if ((v >> BigInt(i)) & 1n) sys.addTaint(i);
      return true;
    }
    case 'kernel/unprivileged_bpf_disabled': {
      if (!root) throw new KernelError('EPERM');
      const cur = Number(sys.value(p));
      const res = writeVec(data, 1, (x: PNum) => {
        const v = toInt(x);
        return v === 'EINVAL' || v < 0 || v > 2 ? 'EINVAL' : v;
      });
      if (res.err || !res.values.length) throw new KernelError('EINVAL');
      if (cur === 1 && res.values[0] !== 1) throw new KernelError('EPERM');
      sys.commit(r, String(res.values[0]));
      return true;
    }
    case 'kernel/usermodehelper/bset':
    case 'kernel/usermodehelper/inheritable': {
      // proc_cap_handler(): capabilities can only be dropped
      if (!root) throw new KernelError('EPERM');
      const cur = (sys.internal(r.store) ?? '4294967295 511').split(' ').map(Number);
      const res = writeVec(data, 2, (x: PNum) => (x.neg ? 'EINVAL' : Number(x.val & 0xffffffffn)));
      if (res.err || !res.values.length) throw new KernelError('EINVAL');
      const next = cur.map((c, i) => (res.values[i] === undefined ? c : (c & res.values[i]) >>> 0));
      sys.commit(r, next.join(' '));
      return true;
    }
    case 'kernel/watchdog_cpumask': {
      const line = data.replace(/\n$/, '');
      sys.commit(r, formatList(parseList(line, k.config.cpus)));
      return true;
    }
    case 'kernel/yama/ptrace_scope': {
      const cur = Number(sys.value(p));
      sys.parseAndCommit(r, data, { min: cur === 3 ? 3 : 0, max: 3 });
      return true;
    }
    case 'vm/compact_memory':
      // sysctl_compaction_handler(): only "1"
      if (oneInt(data) !== 1) throw new KernelError('EINVAL');
      return true;
    case 'vm/stat_refresh':
      return true;
    case 'vm/lowmem_reserve_ratio': {
      sys.parseAndCommit(r, data);
      const v = (sys.internal(r.store) ?? '').split(' ').map((x) => (Number(x) < 1 ? 0 : Number(x)));
      sys.commit(r, v.join(' '));
      return true;
    }
    case 'vm/numa_zonelist_order':
      // __parse_numa_zonelist_order(): only the historic "default"/"node" spellings, no change
      if (!/^[dDnN]/.test(data)) throw new KernelError('EINVAL');
      return true;
    case 'vm/percpu_pagelist_high_fraction': {
      const v = oneInt(data);
      if (v < 0 || (v !== 0 && v < 8)) throw new KernelError('EINVAL');
      sys.commit(r, String(v));
      return true;
    }
    case 'net/core/default_qdisc': {
      const name = data.replace(/\n.*$/s, '').slice(0, 15);
      const mod = `sch_${name}`;
      if (!BUILTIN_QDISCS.includes(name)) {
        try {
          k.modules?.requestModule(mod);
        } catch {
          // request_module failures only mean "not found"
        }
        if (!k.modules?.isLoaded(mod)) throw new KernelError('ENOENT');
      }
      sys.commit(r, name);
      return true;
    }
    case 'net/core/flow_limit_cpu_bitmap': {
      const hex = data.trim().replace(/,/g, '');
      if (!/^[0-9a-fA-F]+$/.test(hex)) throw new KernelError('EINVAL');
      const v = BigInt('0x' + hex);
      const bits: number[] = [];
      for (let i = 0; i < k.config.cpus; i++) if ((v >> BigInt(i)) & 1n) bits.push(i);
      sys.commit(r, formatMask(bits, k.config.cpus));
      return true;
    }
    case 'net/core/flow_limit_table_len': {
      const v = oneInt(data);
      if (v <= 0 || (v & (v - 1)) !== 0) throw new KernelError('EINVAL');
      sys.commit(r, String(v));
      return true;
    }
    case 'net/core/rps_sock_flow_entries': {
      const v = oneInt(data);
      const u = v >>> 0;
      if (u > 1 << 29) throw new KernelError('EINVAL');
      sys.commit(r, String(u === 0 ? 0 : 2 ** Math.ceil(Math.log2(u))));
      return true;
    }
    case 'net/ipv4/ip_local_port_range': {
      const res = writeVec(data, 2, (x: PNum) => {
        const v = toInt(x);
        return v === 'EINVAL' || v < 1 || v > 65535 ? 'EINVAL' : v;
      });
      if (res.err || res.values.length === 0) throw new KernelError('EINVAL');
      const cur = (sys.internal(r.store) ?? '32768 60999').split(' ').map(Number);
      const next = cur.map((c, i) => res.values[i] ?? c);
      const unpriv = Number(sys.value('net/ipv4/ip_unprivileged_port_start'));
      if (next[1] < next[0] || next[0] < unpriv) throw new KernelError('EINVAL');
      sys.commit(r, next.join(' '));
      return true;
    }
    case 'net/ipv4/ip_unprivileged_port_start': {
      const v = oneInt(data);
      if (v < 0 || v > 65535) throw new KernelError('EINVAL');
      const low = Number(sys.value('net/ipv4/ip_local_port_range').split('\t')[0]);
      if (low < v) throw new KernelError('EINVAL');
      sys.commit(r, String(v));
      return true;
    }
    case 'net/ipv4/ip_local_reserved_ports':
    case 'net/ipv6/icmp/ratemask': {
      const nbits = p.endsWith('ratemask') ? 256 : 65536;
      sys.commit(r, formatList(parseList(data.replace(/\n$/, ''), nbits)));
      return true;
    }
    case 'net/ipv4/ping_group_range': {
      const res = writeVec(data, 2, (x: PNum) => (x.neg || x.val > 4294967294n ? 'EINVAL' : Number(x.val)));
      if (res.err || res.values.length === 0) throw new KernelError('EINVAL');
      const cur = (sys.internal(r.store) ?? '1 0').split(' ').map(Number);
      let next = cur.map((c, i) => res.values[i] ?? c);
      if (next[1] < next[0]) next = [1, 0];
      sys.commit(r, next.join(' '));
      return true;
    }
    case 'net/ipv4/route/flush':
      return true;
    case 'net/ipv6/route/flush':
      oneInt(data);
      return true;
    case 'net/ipv4/tcp_allowed_congestion_control': {
      const names = data.replace(/\n$/, '').split(/\s+/).filter(Boolean);
      const avail = availableCc(k);
      for (const n of names) if (!avail.includes(n)) throw new KernelError('ENOENT');
      sys.commit(r, names.join(' '));
      return true;
    }
    case 'net/ipv4/tcp_congestion_control': {
      const name = data.replace(/\n.*$/s, '').trim();
      let avail = availableCc(k);
      if (!avail.includes(name)) {
        // tcp_ca_find_autoload(): request_module("tcp_%s")
        try {
          k.modules?.requestModule(`tcp_${name}`);
        } catch {
          // not found
        }
        avail = availableCc(k);
        if (!avail.includes(name)) throw new KernelError('ENOENT');
      }
      sys.commit(r, name);
      const allowed = (sys.internal('net/ipv4/tcp_allowed_congestion_control') ?? 'reno cubic').split(' ');
      if (!allowed.includes(name)) sys.setInternal('net/ipv4/tcp_allowed_congestion_control', [...allowed, name].join(' '));
      return true;
    }
    case 'net/ipv4/tcp_fastopen_key': {
      const m = /^([0-9a-fA-F]{1,8})-([0-9a-fA-F]{1,8})-([0-9a-fA-F]{1,8})-([0-9a-fA-F]{1,8})(?:,.*)?\s*$/s.exec(data);
      if (!m) throw new KernelError('EINVAL');
      sys.commit(
        r,
        m
          .slice(1, 5)
          .map((x) => x.toLowerCase().padStart(8, '0'))
          .join('-'),
      );
      return true;
    }
    case 'net/ipv4/ip_forward':
      return customWrite(
        k,
        sys,
        { ...r, path: 'net/ipv4/conf/all/forwarding', knob: { t: 'custom' }, store: 'net/ipv4/conf/all/forwarding' },
        data,
        ctx,
      );
    case 'net/ipv4/conf/*/forwarding':
    case 'net/ipv6/conf/*/forwarding':
    case 'net/ipv6/conf/*/disable_ipv6':
    case 'net/ipv6/conf/*/ignore_routes_with_linkdown': {
      if (!root) throw new KernelError('EPERM');
      const v = sys.parseAndCommit(r, data);
      const [fam, , dev, name] = p.split('/').slice(1);
      void fam;
      if (dev === 'all') {
        // inet_forward_change() / addrconf_fixup_forwarding(): all -> default and every device
        const parent = p.split('/').slice(0, 3).join('/');
        sys.setInternal(`${parent}/default/${name}`, v);
        for (const d of k.devices.netdevs()) sys.setInternal(`${parent}/${d.name}/${name}`, v);
      }
      return true;
    }
    case 'net/ipv6/conf/*/addr_gen_mode': {
      const v = oneInt(data);
      if (v < 0 || v > 3) throw new KernelError('EINVAL');
      sys.commit(r, String(v));
      return true;
    }
    case 'net/ipv6/conf/*/disable_policy':
      sys.parseAndCommit(r, data);
      return true;
    case 'net/ipv6/conf/*/mtu': {
      const nd = r.dev ? k.devices.netdev(r.dev) : undefined;
      sys.parseAndCommit(r, data, { min: 1280, max: nd ? k.devices.mtu(nd) : INT_MAX });
      return true;
    }
    case 'net/ipv6/conf/*/stable_secret': {
      const dev = p.split('/')[3];
      if (dev === 'all') throw new KernelError('EIO');
      const addr = parseIn6(data.replace(/\n$/, ''));
      if (!addr) throw new KernelError('EIO');
      sys.setInternal(p, addr);
      const parent = 'net/ipv6/conf';
      if (dev === 'default') {
        sys.setInternal(`${parent}/default/addr_gen_mode`, '2');
        for (const d of k.devices.netdevs()) sys.setInternal(`${parent}/${d.name}/addr_gen_mode`, '2');
      } else sys.setInternal(`${parent}/${dev}/addr_gen_mode`, '2');
      return true;
    }
  }
  return false;
}

/** in6_pton() of a full or "::"-compressed address, as %pI6 prints it (8 groups of 4 digits). */
function parseIn6(s: string): string | undefined {
  if (!/^[0-9a-fA-F:]+$/.test(s)) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  if (fill < 0 || (halves.length === 1 && head.length !== 8)) return undefined;
  const groups = [...head, ...new Array(fill).fill('0'), ...tail];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => g.toLowerCase().padStart(4, '0')).join(':');
}

export { cpuList };
