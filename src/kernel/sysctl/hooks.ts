/**
 * Where /proc/sys values come from the machine rather than the reference:
 * boot-time defaults computed from the configuration (memory-sized tables,
 * CPU masks, the hostname), and knobs owned by other subsystems, read and
 * written through their hooks when they provide them (guarded: a subsystem
 * without the hook leaves the knob stored here).
 */
import type { Kernel } from '../kernel';
import { FREED_AFTER_MEMINIT_K, largeSystemHash, memoryLayout, type MemoryLayout } from '../printk/boot-layout';
import { PAGE_SIZE } from '../types';
import type { KnobRef, Sysctl } from './sysctl';

export interface Binding {
  /** the internal value now (undefined: use the stored one) */
  get?(): string | undefined;
  /** applies a validated value; throws the subsystem's errno */
  set?(internal: string): void;
  /** the subsystem keeps the value: do not store it here too */
  only?: boolean;
}

interface MmHooks {
  getVmTunable?(name: string): number;
  setVmTunable?(name: string, value: string | number, pid?: number): void;
}
interface PrintkHooks {
  getConsoleLevels?(): number[];
  setConsoleLevels?(v: readonly number[]): void;
}
interface SchedHooks {
  getPidMax?(): number;
  setPidMax?(n: number): void;
  getLastPid?(): number;
  setLastPid?(n: number): void;
  getThreadsMax?(): number;
  setThreadsMax?(n: number): void;
  readonly tunables?: Readonly<Record<string, unknown>>;
  setTunable?(name: string, value: number | string | boolean): void;
}

/** vm.* knobs the mm keeps (its VM_TUNABLES). */
const MM_KNOBS = new Set([
  'swappiness',
  'overcommit_memory',
  'overcommit_ratio',
  'overcommit_kbytes',
  'min_free_kbytes',
  'panic_on_oom',
  'drop_caches',
  'oom_kill_allocating_task',
  'oom_dump_tasks',
  'watermark_scale_factor',
  'admin_reserve_kbytes',
  'user_reserve_kbytes',
]);

/** kernel.sched_* knobs and the sched tunable behind each. */
const SCHED_KNOBS: Record<string, string> = {
  'kernel/sched_rt_period_us': 'rtPeriodUs',
  'kernel/sched_rt_runtime_us': 'rtRuntimeUs',
  'kernel/sched_rr_timeslice_ms': 'rrTimesliceMs',
  'kernel/sched_child_runs_first': 'childRunsFirst',
  'kernel/sched_schedstats': 'schedstats',
};

const first = (s: string): number => Number(s.split(/\s+/)[0]);

/** The live binding of a knob to its owning subsystem, if any. */
export function liveBinding(k: Kernel, r: KnobRef, sys?: Sysctl): Binding | undefined {
  const path = r.path;
  if (path.startsWith('vm/')) {
    const name = path.slice(3);
    const mm = k.mm as unknown as MmHooks;
    if (MM_KNOBS.has(name) && typeof mm.getVmTunable === 'function' && typeof mm.setVmTunable === 'function') {
      return {
        get: () => (name === 'drop_caches' ? undefined : String(mm.getVmTunable?.(name))),
        set: (v) => mm.setVmTunable?.(name, first(v)),
        only: true,
      };
    }
    return dirtyBinding(path, sys);
  }
  switch (path) {
    case 'kernel/printk': {
      const p = k.printk as unknown as PrintkHooks;
      if (typeof p.getConsoleLevels !== 'function' || typeof p.setConsoleLevels !== 'function') return undefined;
      return {
        get: () => p.getConsoleLevels?.().join(' '),
        set: (v) => p.setConsoleLevels?.(v.split(/\s+/).map(Number)),
        only: true,
      };
    }
    case 'kernel/pid_max':
      return schedPair(k, 'getPidMax', 'setPidMax');
    case 'kernel/ns_last_pid':
      return schedPair(k, 'getLastPid', 'setLastPid');
    case 'kernel/threads-max':
      return schedPair(k, 'getThreadsMax', 'setThreadsMax');
  }
  const tun = SCHED_KNOBS[path];
  if (tun) {
    const s = k.sched as unknown as SchedHooks;
    if (!s.tunables || typeof s.setTunable !== 'function' || !(tun in s.tunables)) return undefined;
    return {
      get: () => String(Number(s.tunables?.[tun])),
      set: (v) => s.setTunable?.(tun, first(v)),
      only: true,
    };
  }
  return undefined;
}

function schedPair(
  k: Kernel,
  get: 'getPidMax' | 'getLastPid' | 'getThreadsMax',
  set: 'setPidMax' | 'setLastPid' | 'setThreadsMax',
): Binding | undefined {
  const s = k.sched as unknown as SchedHooks;
  if (typeof s[get] !== 'function' || typeof s[set] !== 'function') return undefined;
  return { get: () => String(s[get]?.()), set: (v) => s[set]?.(first(v)), only: true };
}

/** vm.dirty_bytes and vm.dirty_ratio (and the background pair) exclude each other. */
function dirtyBinding(path: string, sys?: Sysctl): Binding | undefined {
  const other: Record<string, string> = {
    'vm/dirty_bytes': 'vm/dirty_ratio',
    'vm/dirty_ratio': 'vm/dirty_bytes',
    'vm/dirty_background_bytes': 'vm/dirty_background_ratio',
    'vm/dirty_background_ratio': 'vm/dirty_background_bytes',
  };
  const o = other[path];
  if (!o || !sys) return undefined;
  return { set: () => sys.setInternal(o, '0') };
}

// ---------------------------------------------------------------- boot-time defaults

/** Memory facts of a configuration the boot-time sizing uses (pages). */
export interface MemFacts {
  layout: MemoryLayout;
  /** totalram_pages() at mem_init, before the init memory and initrd were freed */
  early: number;
  /** nr_free_buffer_pages() when the network stack initialised */
  freeBuffer: number;
}

const FACTS = new Map<string, MemFacts>();

/** Shared per (memory, cpus) configuration: pure functions of it. */
export function memFacts(memoryMb: number, cpus: number): MemFacts {
  const key = `${memoryMb}/${cpus}`;
  let f = FACTS.get(key);
  if (!f) {
    const layout = memoryLayout(memoryMb, cpus);
    const early = Math.floor((layout.memTotalK - FREED_AFTER_MEMINIT_K) / 4);
    // pages allocated between mem_init and inet_init on the reference boot
    f = { layout, early, freeBuffer: Math.max(0, early - 995) };
    if (FACTS.size > 64) FACTS.clear();
    FACTS.set(key, f);
  }
  return f;
}

const NS_KNOBS = ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'time', 'user', 'uts'].map((n) => `user/max_${n}_namespaces`);

/** A boot-time default of this machine (internal units), or undefined for the reference's. */
export function bootDefault(k: Kernel, path: string): string | undefined {
  switch (path) {
    case 'kernel/hostname':
      return k.config.hostname;
    case 'kernel/watchdog_cpumask':
      return cpuList(k.config.cpus);
    case 'kernel/pid_max':
      // pid_idr_init(): PIDS_PER_CPU_DEFAULT * possible CPUs, at least 32768
      return String(Math.max(32768, 1024 * k.config.cpus));
  }
  if (!/^(fs|user|net\/ipv4)\//.test(path) && path !== 'kernel/threads-max') return undefined;
  const m = memFacts(k.config.memoryMb, k.config.cpus);
  const threads = Math.min(0x3fffffff, Math.max(20, Math.floor(m.early / 32)));
  if (NS_KNOBS.includes(path)) return String(Math.floor(threads / 2));
  const ehash = largeSystemHash(m.layout, { bucket: 8, scale: 17, high: 512 * 1024 }).entries;
  const limit16 = Math.max(128, Math.floor(m.freeBuffer / 16));
  const limit8 = Math.max(128, Math.floor(m.freeBuffer / 8));
  const share = m.freeBuffer * (PAGE_SIZE / 128);
  switch (path) {
    case 'kernel/threads-max':
      return String(threads);
    case 'fs/file-max': {
      // files_maxfiles_init(): 10% of memory after the early reservations (1.5x what boot used)
      const n = Math.floor(((m.early - 1197) * 4) / 10);
      return String(Math.max(8192, n));
    }
    case 'fs/epoll/max_user_watches':
      // 4% of low memory in epitem+eppoll_entry units (184 bytes)
      return String(Math.floor((Math.floor((m.early + 9) / 25) * PAGE_SIZE) / 184));
    case 'net/ipv4/tcp_mem': {
      const a = Math.floor(limit16 / 4) * 3;
      return `${a} ${limit16} ${a * 2}`;
    }
    case 'net/ipv4/udp_mem': {
      const a = Math.floor(limit8 / 4) * 3;
      return `${a} ${limit8} ${a * 2}`;
    }
    case 'net/ipv4/tcp_wmem':
      return `4096 16384 ${Math.max(64 * 1024, Math.min(4 * 1024 * 1024, share))}`;
    case 'net/ipv4/tcp_rmem':
      return `4096 131072 ${Math.max(131072, Math.min(6 * 1024 * 1024, share))}`;
    case 'net/ipv4/tcp_max_orphans':
    case 'net/ipv4/tcp_max_tw_buckets':
      return String(ehash / 2);
    case 'net/ipv4/tcp_max_syn_backlog':
      return String(Math.max(128, ehash / 128));
    case 'net/ipv4/tcp_ehash_entries':
      return String(ehash);
    case 'net/ipv4/inet_peer_threshold':
      // 1% of memory in inet_peer units (192 bytes), clamped
      return String(Math.min(65536 + 128, Math.max(4096, Math.floor(((m.early + 9) * PAGE_SIZE) / 19200))));
  }
  return undefined;
}

/** "%*pbl" of CPUs 0..n-1. */
export function cpuList(n: number): string {
  return n <= 0 ? '' : n === 1 ? '0' : `0-${n - 1}`;
}
