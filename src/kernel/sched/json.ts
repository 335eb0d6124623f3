/** JSON forms of the scheduler's views, for the REST API (same values as the files). */
import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import { clockT } from './fmt';
import { taskName } from './pid';
import { archIrqs, cpuStatNs, intrCounts, softirqTotals, uptimeNs } from './procfs';
import { SOFTIRQ_NAMES, type CpuTimes } from './sched';
import { POLICY_NAMES, prioOf } from './task';

export type CpuTimesJson = CpuTimes;

const ticks = (r: CpuTimesJson): CpuTimesJson => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, clockT(v)])) as unknown as CpuTimesJson;

/** /proc/stat: CPU times in USER_HZ ticks (as printed) and in ns. */
export function statJson(k: Kernel): {
  cpu: CpuTimesJson;
  cpus: CpuTimesJson[];
  cpuNs: CpuTimesJson;
  cpusNs: CpuTimesJson[];
  intr: number;
  ctxt: number;
  btime: number;
  processes: number;
  procsRunning: number;
  procsBlocked: number;
  softirq: Record<string, number>;
} {
  const { total, cpus } = cpuStatNs(k);
  let ctxt = 0;
  for (let c = 0; c < k.sched.cpuCount(); c++) ctxt += k.sched.cpuSwitches(c);
  const si = softirqTotals(k);
  return {
    cpu: ticks(total),
    cpus: cpus.map(ticks),
    cpuNs: total,
    cpusNs: cpus,
    intr: intrCounts(k).total,
    ctxt,
    btime: Math.floor(k.bootEpochMs / 1000),
    processes: k.sched.forks,
    procsRunning: k.sched.nrRunning(),
    procsBlocked: k.sched.nrIowait(),
    softirq: Object.fromEntries(SOFTIRQ_NAMES.map((n, i) => [n, si.perVec[i]])),
  };
}

export function loadavgJson(k: Kernel): { load1: number; load5: number; load15: number; running: number; total: number; lastPid: number } {
  const [a, b, c] = k.sched.avenrun.map((v) => Math.round((v / 2048) * 100) / 100);
  return { load1: a, load5: b, load15: c, running: k.sched.nrRunning(), total: k.sched.nrThreads(), lastPid: k.sched.getLastPid() };
}

export function uptimeJson(k: Kernel): { uptimeSec: number; idleSec: number; uptimeNs: number; idleNs: number } {
  const { up, idle } = uptimeNs(k);
  return { uptimeSec: Math.floor(up / 1e7) / 100, idleSec: Math.floor(idle / 1e7) / 100, uptimeNs: up, idleNs: idle };
}

export function interruptsJson(k: Kernel): {
  cpus: number;
  irqs: { irq: string; counts: number[]; chip?: string; hwirq?: string; trigger?: string; name: string }[];
  softirqs: Record<string, number[]>;
} {
  const irqs: { irq: string; counts: number[]; chip?: string; hwirq?: string; trigger?: string; name: string }[] = [];
  for (const l of k.sched.irqLines()) irqs.push({ irq: String(l.irq), counts: [...l.counts], chip: l.chip, hwirq: l.hwirq, trigger: l.trigger, name: l.name });
  for (const a of archIrqs(k)) irqs.push({ irq: a.name, counts: a.counts, name: a.desc });
  const si = softirqTotals(k);
  return {
    cpus: k.sched.cpuCount(),
    irqs,
    softirqs: Object.fromEntries(SOFTIRQ_NAMES.map((n, i) => [n, si.perCpu.map((v) => v[i])])),
  };
}

function taskOf(k: Kernel, pid: number) {
  const t = k.sched.taskInfo(pid);
  if (!t) throw new KernelError('ESRCH');
  return t;
}

/** /proc/<pid>/status as an object. */
export function pidStatusJson(k: Kernel, pid: number): Record<string, unknown> {
  const t = taskOf(k, pid);
  const p = k.sched.proc(t.tgid);
  const mem = t.kthread || t.state === 'Z' ? undefined : k.mm.taskMem(t.tgid);
  const x = k.sched.taskTimes(pid);
  return {
    name: taskName(t),
    state: k.sched.displayState(t),
    pid: t.pid,
    tgid: t.tgid,
    ppid: t.ppid,
    pgid: t.pgid,
    sid: t.sid,
    uid: [t.uid, t.euid, t.suid, t.fsuid],
    gid: [t.gid, t.egid, t.sgid, t.fsgid],
    groups: [...t.groups],
    kthread: t.kthread,
    threads: k.sched.threads(t.tgid).length,
    nice: t.nice,
    policy: POLICY_NAMES[t.policy] ?? String(t.policy),
    prio: prioOf(t),
    rtPriority: t.rtPrio,
    cpu: t.cpu,
    cpusAllowed: k.sched.affinity(pid),
    oomScoreAdj: t.oomScoreAdj,
    vmKb: mem
      ? {
          peak: mem.peakPages * 4,
          size: mem.vmPages * 4,
          hwm: mem.hwmPages * 4,
          rss: (mem.rssAnonPages + mem.rssFilePages + mem.rssShmemPages) * 4,
          rssAnon: mem.rssAnonPages * 4,
          rssFile: mem.rssFilePages * 4,
          rssShmem: mem.rssShmemPages * 4,
          data: mem.dataPages * 4,
          stack: mem.stackPages * 4,
          swap: mem.swapPages * 4,
        }
      : null,
    voluntaryCtxtSwitches: x.nv,
    nonvoluntaryCtxtSwitches: x.niv,
    cmdline: t.kthread || t.state === 'Z' ? [] : [...(p?.argv ?? [])],
    exe: t.kthread ? null : (p?.exe ?? null),
    cwd: p?.cwd ?? '/',
    cgroup: p?.cgroup ?? '/',
    fds: t.state === 'Z' ? 0 : Object.keys(p?.fds ?? {}).length,
  };
}

/** /proc/<pid>/stat as an object (times in ns and in ticks). */
export function pidStatJson(k: Kernel, pid: number): Record<string, unknown> {
  const t = taskOf(k, pid);
  const g = k.sched.groupTimes(t.tgid);
  const x = k.sched.taskTimes(pid);
  const mem = t.kthread || t.state === 'Z' ? undefined : k.mm.taskMem(t.tgid);
  return {
    pid: t.pid,
    comm: taskName(t),
    state: k.sched.displayState(t),
    ppid: t.ppid,
    pgrp: t.pgid,
    session: t.sid,
    flags: t.flags >>> 0,
    minflt: t.minflt,
    majflt: t.majflt,
    utime: clockT(g.ut),
    stime: clockT(g.st),
    cutime: clockT(t.cutime),
    cstime: clockT(t.cstime),
    utimeNs: g.ut,
    stimeNs: g.st,
    sumExecNs: x.sum,
    priority: prioOf(t) - 100,
    nice: t.nice,
    numThreads: k.sched.threads(t.tgid).length,
    starttime: clockT(t.startNs),
    startNs: t.startNs,
    vsize: mem ? mem.vmPages * 4096 : 0,
    rss: mem ? mem.rssAnonPages + mem.rssFilePages + mem.rssShmemPages : 0,
    processor: t.cpu,
    rtPriority: t.rtPrio,
    policy: t.policy,
    exitCode: t.state === 'Z' ? t.exitCode : 0,
  };
}
