/**
 * debugfs sched/: the scheduler's tunables and the sched/debug dump
 * (kernel/sched/debug.c), which moved here from /proc/sched_debug in 5.13.
 */
import { KernelError } from '../errors';
import type { DirTable, FsCtx } from '../fs/vnode';
import { pdir, pfile } from '../fs/vnode';
import type { Kernel } from '../kernel';
import { KERNEL_RELEASE, KERNEL_VERSION_STRING, TICK_NSEC } from '../types';
import { padL } from '../util/format';
import { splitNs } from './fmt';
import { INITIAL_JIFFIES, type Tunables } from './sched';
import { NICE_0_LOAD, type Task, isRt, prioOf, weightOf } from './task';

/** kernel/sched/features.h of 6.1.y, in bit order. */
export const SCHED_FEATURES: readonly string[] = [
  'GENTLE_FAIR_SLEEPERS',
  'START_DEBIT',
  'NEXT_BUDDY',
  'LAST_BUDDY',
  'CACHE_HOT_BUDDY',
  'WAKEUP_PREEMPTION',
  'HRTICK',
  'HRTICK_DL',
  'DOUBLE_TICK',
  'NONTASK_CAPACITY',
  'TTWU_QUEUE',
  'SIS_PROP',
  'SIS_UTIL',
  'WARN_DOUBLE_CLOCK',
  'RT_PUSH_IPI',
  'RT_RUNTIME_SHARE',
  'LB_MIN',
  'ATTACH_AGE_LOAD',
  'WA_IDLE',
  'WA_WEIGHT',
  'WA_BIAS',
  'UTIL_EST',
  'UTIL_EST_FASTUP',
  'LATENCY_WARN',
  'ALT_PERIOD',
  'BASE_SLICE',
  'HZ_BW',
];

const SCALING_NAMES = ['none', 'logarithmic', 'linear'];

/** The TSC frequency the boot log reported ("tsc: Detected 2596.117 MHz processor"), kHz. */
export function cpuKhz(k: Kernel): number {
  for (const r of k.printk.records()) {
    const m = /^tsc: Detected (\d+)\.(\d{3}) MHz processor/.exec(r.text);
    if (m) return Number(m[1]) * 1000 + Number(m[2]);
  }
  return 2596117;
}

export function jiffies(now: number): number {
  return INITIAL_JIFFIES + Math.floor(now / TICK_NSEC);
}

function u32File(get: () => number, set: (v: number) => void): ReturnType<typeof pfile> {
  return pfile(() => `${get()}\n`, {
    mode: 0o644,
    write: (_ctx: FsCtx, data: string) => {
      const v = data.trim();
      if (!/^\d+$/.test(v)) throw new KernelError('EINVAL');
      set(Number(v));
    },
  });
}

export function schedDebugfsEntries(k: Kernel): DirTable {
  const tun = (): Readonly<Tunables> => k.sched.tunables;
  const set = (name: keyof Tunables) => (v: number) => k.sched.setTunable(name, v);
  const domains = (): DirTable => {
    const t: DirTable = {};
    const n = k.config.cpus;
    for (let c = 0; c < n; c++) {
      t[`cpu${c}`] = () =>
        pdir(
          n > 1
            ? {
                domain0: pdir({
                  busy_factor: pfile(() => '16\n', { mode: 0o644, write: () => undefined }),
                  cache_nice_tries: pfile(() => '1\n', { mode: 0o644, write: () => undefined }),
                  flags: pfile(() => 'SD_BALANCE_NEWIDLE SD_BALANCE_EXEC SD_BALANCE_FORK SD_WAKE_AFFINE SD_SHARE_PKG_RESOURCES SD_PREFER_SIBLING \n'),
                  imbalance_pct: pfile(() => '117\n', { mode: 0o644, write: () => undefined }),
                  max_interval: pfile(() => `${4 * n}\n`, { mode: 0o644, write: () => undefined }),
                  max_newidle_lb_cost: pfile(() => '0\n', { mode: 0o644, write: () => undefined }),
                  min_interval: pfile(() => `${n}\n`, { mode: 0o644, write: () => undefined }),
                  name: pfile(() => 'MC\n'),
                }),
              }
            : {},
          { mode: 0o755 },
        );
    }
    return t;
  };
  return {
    debug: pfile(() => renderSchedDebug(k)),
    domains: () => pdir(domains(), { mode: 0o755 }),
    features: pfile(() => renderFeatures(tun().features), {
      mode: 0o644,
      write: (_ctx, data) => {
        const name = data.trim();
        const neg = name.startsWith('NO_');
        const i = SCHED_FEATURES.indexOf(neg ? name.slice(3) : name);
        if (i < 0) throw new KernelError('EINVAL');
        const bit = 2 ** i;
        const cur = tun().features;
        const has = Math.floor(cur / bit) % 2 === 1;
        k.sched.setTunable('features', neg ? (has ? cur - bit : cur) : has ? cur : cur + bit);
      },
    }),
    idle_min_granularity_ns: u32File(() => tun().idleMinGranNs, set('idleMinGranNs')),
    latency_ns: u32File(() => tun().latencyNs, set('latencyNs')),
    latency_warn_ms: u32File(() => tun().latencyWarnMs, set('latencyWarnMs')),
    latency_warn_once: u32File(() => tun().latencyWarnOnce, set('latencyWarnOnce')),
    migration_cost_ns: u32File(() => tun().migrationCostNs, set('migrationCostNs')),
    min_granularity_ns: u32File(() => tun().minGranNs, set('minGranNs')),
    nr_migrate: u32File(() => tun().nrMigrate, set('nrMigrate')),
    numa_balancing: pdir(
      {
        scan_delay_ms: u32File(() => 1000, () => undefined),
        scan_period_max_ms: u32File(() => 60000, () => undefined),
        scan_period_min_ms: u32File(() => 1000, () => undefined),
        scan_size_mb: u32File(() => 256, () => undefined),
      },
      { mode: 0o755 },
    ),
    preempt: pfile(
      () =>
        (['none', 'voluntary', 'full'] as const).map((m) => (m === tun().preempt ? `(${m})` : m)).join(' ') + '\n',
      {
        mode: 0o644,
        write: (_ctx, data) => k.sched.setTunable('preempt', data.trim()),
      },
    ),
    tunable_scaling: u32File(() => tun().scaling, (v) => {
      if (v > 2) throw new KernelError('EINVAL');
      k.sched.setTunable('scaling', v);
    }),
    verbose: pfile(() => (tun().verbose ? 'Y\n' : 'N\n'), {
      mode: 0o644,
      write: (_ctx, data) => {
        const v = data.trim();
        if (!/^(y|Y|1|n|N|0|on|off)$/.test(v)) throw new KernelError('EINVAL');
        k.sched.setTunable('verbose', /^(y|Y|1|on)$/.test(v));
      },
    }),
    wakeup_granularity_ns: u32File(() => tun().wakeupGranNs, set('wakeupGranNs')),
  };
}

export function renderFeatures(mask: number): string {
  return SCHED_FEATURES.map((name, i) => (Math.floor(mask / 2 ** i) % 2 === 1 ? name : `NO_${name}`)).join(' ') + ' \n';
}

const P40 = (name: string, v: string | number): string => `${name.padEnd(40, ' ')}: ${v}\n`;
const SP40 = (name: string, v: string | number): string => `  .${name.padEnd(40, ' ')}: ${v}\n`;
const P30 = (name: string, v: string | number): string => `  .${name.padEnd(30, ' ')}: ${v}\n`;

/** The state letter of a task for the scheduler dumps. */
function stateChar(k: Kernel, t: Task): string {
  return k.sched.displayState(t);
}

/** One row of "runnable tasks:" (print_task). */
export function renderTaskRow(k: Kernel, t: Task, current: boolean): string {
  const x = k.sched.taskTimes(t.pid);
  const head = current ? '>R' : ` ${stateChar(k, t)}`;
  return (
    `${head} ${padL(t.comm, 15)} ${padL(t.pid, 5)} ${splitNs(x.vrt, 9)} ${padL(x.nv + x.niv, 9)} ${padL(prioOf(t), 5)} ` +
    `${splitNs(0, 9)} ${splitNs(x.sum, 9)} ${splitNs(0, 9)} ${splitNs(0, 9)} 0 0 /\n`
  );
}

export function renderSchedDebug(k: Kernel, opts: { header?: boolean } = {}): string {
  const s = k.sched;
  const now = k.now;
  const tun = s.tunables;
  let out = '';
  if (opts.header !== false) {
    out += `Sched Debug Version: v0.11, ${KERNEL_RELEASE} ${KERNEL_VERSION_STRING.split(' ')[0]}\n`;
    out += P40('ktime', splitNs(now));
    out += P40('sched_clk', splitNs(now));
    out += P40('cpu_clk', splitNs(now));
    out += P40('jiffies', jiffies(now));
    out += P40('sched_clock_stable()', 1);
    out += '\n';
    out += 'sysctl_sched\n';
    out += SP40('sysctl_sched_latency', splitNs(tun.latencyNs));
    out += SP40('sysctl_sched_min_granularity', splitNs(tun.minGranNs));
    out += SP40('sysctl_sched_idle_min_granularity', splitNs(tun.idleMinGranNs));
    out += SP40('sysctl_sched_wakeup_granularity', splitNs(tun.wakeupGranNs));
    out += SP40('sysctl_sched_child_runs_first', tun.childRunsFirst);
    out += SP40('sysctl_sched_features', tun.features);
    out += SP40('sysctl_sched_tunable_scaling', `${tun.scaling} (${SCALING_NAMES[tun.scaling]})`);
    out += '\n';
  }
  const khz = cpuKhz(k);
  const tasks = s.allTasks();
  const min0 = s.minVruntime(0);
  for (let c = 0; c < s.cpuCount(); c++) {
    const rq = s.runqueue(c).map((pid) => s.taskInfo(pid)).filter((t): t is Task => !!t);
    const curr = s.curr(c);
    const cfs = rq.filter((t) => !isRt(t));
    const rt = rq.filter(isRt);
    const minV = s.minVruntime(c);
    const queued = cfs.filter((t) => t.pid !== curr).map((t) => s.taskTimes(t.pid).vrt);
    const leftV = queued.length ? Math.min(...queued) : -1;
    const rightV = queued.length ? Math.max(...queued) : -1;
    const load = cfs.reduce((a, t) => a + weightOf(t) * NICE_0_LOAD, 0);
    const util = Math.min(1024, cfs.reduce((a, t) => a + s.taskTimes(t.pid).util, 0));
    const j = jiffies(now);
    out += `cpu#${c}, ${Math.floor(khz / 1000)}.${String(khz % 1000).padStart(3, '0')} MHz\n`;
    out += P30('nr_running', rq.length);
    out += P30('nr_switches', s.cpuSwitches(c));
    out += P30('nr_uninterruptible', s.nrUninterruptibleOn(c));
    out += P30('next_balance', splitNs(j + 1 + (c % 4)));
    out += P30('curr->pid', curr);
    out += P30('clock', splitNs(now));
    out += P30('clock_task', splitNs(now));
    out += P30('avg_idle', rq.length ? 500000 + ((c * 7919 + j) % 1500000) : 1000000);
    out += P30('max_idle_balance_cost', 500000);
    out += '\n';
    out += `cfs_rq[${c}]:/\n`;
    out += P30('exec_clock', splitNs(0));
    out += P30('MIN_vruntime', splitNs(leftV));
    out += P30('min_vruntime', splitNs(minV));
    out += P30('max_vruntime', splitNs(rightV));
    out += P30('spread', splitNs(queued.length ? rightV - leftV : 0));
    out += P30('spread0', splitNs(minV - min0));
    out += P30('nr_spread_over', 0);
    out += P30('nr_running', cfs.length);
    out += P30('h_nr_running', cfs.length);
    out += P30('idle_nr_running', cfs.filter((t) => t.policy === 5).length);
    out += P30('idle_h_nr_running', cfs.filter((t) => t.policy === 5).length);
    out += P30('load', load);
    out += P30('load_avg', Math.min(load >> 10, util));
    out += P30('runnable_avg', util);
    out += P30('util_avg', util);
    out += P30('util_est_enqueued', 0);
    out += P30('removed.load_avg', 0);
    out += P30('removed.util_avg', 0);
    out += P30('removed.runnable_avg', 0);
    out += P30('tg_load_avg_contrib', 0);
    out += P30('tg_load_avg', 0);
    out += P30('throttled', 0);
    out += P30('throttle_count', 0);
    out += '\n';
    out += `rt_rq[${c}]:\n`;
    out += P30('rt_nr_running', rt.length);
    out += P30('rt_nr_migratory', rt.filter((t) => t.allowed === null || t.allowed.length > 1).length);
    out += P30('rt_throttled', 0);
    out += P30('rt_time', splitNs(0));
    out += P30('rt_runtime', splitNs(tun.rtRuntimeUs < 0 ? -1 : tun.rtRuntimeUs * 1000));
    out += '\n';
    out += `dl_rq[${c}]:\n`;
    out += P30('dl_nr_running', 0);
    out += P30('dl_nr_migratory', 0);
    out += P30('dl_bw->bw', tun.rtRuntimeUs < 0 ? -1 : Math.floor((tun.rtRuntimeUs * 1048576) / tun.rtPeriodUs));
    out += P30('dl_bw->total_bw', 0);
    out += '\n';
    out += 'runnable tasks:\n';
    out += ' S            task   PID         tree-key  switches  prio     wait-time             sum-exec        sum-sleep\n';
    out += '-------------------------------------------------------------------------------------------------------------\n';
    for (const t of tasks) if (t.cpu === c) out += renderTaskRow(k, t, t.pid === curr);
    out += '\n';
  }
  return out;
}
