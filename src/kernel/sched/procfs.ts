/**
 * /proc files of the scheduler: stat, loadavg, uptime, interrupts, softirqs,
 * schedstat, pressure/, self, thread-self and the /proc/<pid> directories.
 */
import type { DirNode, DirTable, FsCtx, VNode } from '../fs/vnode';
import { pdir, pfile, plink } from '../fs/vnode';
import type { Kernel } from '../kernel';
import { padL } from '../util/format';
import { bitmapHex, clockT, loadStr } from './fmt';
import { jiffies } from './debugfs';
import { pidDir } from './pid';
import { FIXED_1, PSI_CPU_FULL, PSI_CPU_SOME, PSI_IO_FULL, PSI_IO_SOME, PSI_MEM_FULL, PSI_MEM_SOME, SOFTIRQ_NAMES, type CpuTimes } from './sched';

/** /proc entries owned by the sched subsystem (merged into the procfs table). */
export function schedProcEntries(k: Kernel): DirTable {
  return {
    stat: pfile(() => renderProcStat(k)),
    loadavg: pfile(() => renderLoadavg(k)),
    uptime: pfile(() => renderUptime(k)),
    interrupts: pfile(() => renderInterrupts(k)),
    softirqs: pfile(() => renderSoftirqs(k)),
    schedstat: pfile(() => renderSchedstat(k)),
    pressure: pdir({
      cpu: pfile(() => renderPressure(k, 'cpu'), { mode: 0o644, write: () => undefined }),
      io: pfile(() => renderPressure(k, 'io'), { mode: 0o644, write: () => undefined }),
      memory: pfile(() => renderPressure(k, 'memory'), { mode: 0o644, write: () => undefined }),
    }),
    self: plink((ctx: FsCtx) => String(k.sched.task(ctx.pid)?.tgid ?? ctx.pid)),
    'thread-self': plink((ctx: FsCtx) => `${k.sched.task(ctx.pid)?.tgid ?? ctx.pid}/task/${ctx.pid}`),
  };
}

/**
 * The /proc root with a directory per process: lists thread-group leaders
 * (zombies included), and looks up any task id (threads too, as Linux does).
 */
export function procRootWithPids(k: Kernel, base: DirNode): DirNode {
  return {
    ...base,
    list: (ctx) => {
      const names = base.list(ctx);
      for (const t of k.sched.tasks()) if (t.pid === t.tgid) names.push(String(t.pid));
      return names;
    },
    lookup: (ctx, name): VNode | undefined => {
      if (/^[1-9]\d*$/.test(name)) {
        const pid = Number(name);
        if (k.sched.task(pid)) return pidDir(k, pid, false);
        return undefined;
      }
      return base.lookup(ctx, name);
    },
  };
}

export type CpuStatRow = CpuTimes;

const FIELDS: (keyof CpuStatRow)[] = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guestNice'];

/** Per-CPU times in ns and their sum (what the "cpu" line is made of). */
export function cpuStatNs(k: Kernel): { total: CpuStatRow; cpus: CpuStatRow[] } {
  const cpus: CpuStatRow[] = [];
  const total = Object.fromEntries(FIELDS.map((f) => [f, 0])) as unknown as CpuStatRow;
  for (let c = 0; c < k.sched.cpuCount(); c++) {
    const t = k.sched.cpuTimes(c);
    cpus.push({ ...t });
    for (const f of FIELDS) total[f] += t[f];
  }
  return { total, cpus };
}

/** Per-CPU counts of the x86 arch interrupt lines (NMI, LOC, ... PIW). */
export function archIrqs(k: Kernel): { name: string; desc: string; counts: number[] }[] {
  const n = k.sched.cpuCount();
  const z = (): number[] => new Array(n).fill(0);
  const loc: number[] = [];
  const res: number[] = [];
  const cal: number[] = [];
  const tlb: number[] = [];
  const mcp: number[] = [];
  for (let c = 0; c < n; c++) {
    const ipi = k.sched.cpuIpis(c);
    loc.push(k.sched.cpuLoc(c));
    res.push(ipi.res);
    cal.push(ipi.cal);
    tlb.push(ipi.tlb);
    mcp.push(ipi.mcp);
  }
  return [
    { name: 'NMI', desc: 'Non-maskable interrupts', counts: z() },
    { name: 'LOC', desc: 'Local timer interrupts', counts: loc },
    { name: 'SPU', desc: 'Spurious interrupts', counts: z() },
    { name: 'PMI', desc: 'Performance monitoring interrupts', counts: z() },
    { name: 'IWI', desc: 'IRQ work interrupts', counts: z() },
    { name: 'RTR', desc: 'APIC ICR read retries', counts: z() },
    { name: 'RES', desc: 'Rescheduling interrupts', counts: res },
    { name: 'CAL', desc: 'Function call interrupts', counts: cal },
    { name: 'TLB', desc: 'TLB shootdowns', counts: tlb },
    { name: 'TRM', desc: 'Thermal event interrupts', counts: z() },
    { name: 'THR', desc: 'Threshold APIC interrupts', counts: z() },
    { name: 'DFR', desc: 'Deferred Error APIC interrupts', counts: z() },
    { name: 'MCE', desc: 'Machine check exceptions', counts: z() },
    { name: 'MCP', desc: 'Machine check polls', counts: mcp },
  ];
}

const POSTED = [
  { name: 'PIN', desc: 'Posted-interrupt notification event' },
  { name: 'NPI', desc: 'Nested posted-interrupt event' },
  { name: 'PIW', desc: 'Posted-interrupt wakeup event' },
];

/** Per-IRQ totals indexed 0..nr_irqs-1 (the /proc/stat intr line) and their grand total. */
export function intrCounts(k: Kernel): { total: number; perIrq: number[] } {
  const perIrq = new Array<number>(k.sched.nrIrqs()).fill(0);
  let total = 0;
  for (const l of k.sched.irqLines()) {
    const sum = l.counts.reduce((a, b) => a + b, 0);
    if (l.irq < perIrq.length) perIrq[l.irq] += sum;
    total += sum;
  }
  for (const a of archIrqs(k)) total += a.counts.reduce((x, y) => x + y, 0);
  return { total, perIrq };
}

export function softirqTotals(k: Kernel): { total: number; perVec: number[]; perCpu: number[][] } {
  const perCpu: number[][] = [];
  const perVec = new Array<number>(SOFTIRQ_NAMES.length).fill(0);
  for (let c = 0; c < k.sched.cpuCount(); c++) {
    const v = k.sched.cpuSoftirqs(c);
    perCpu.push(v);
    v.forEach((x, i) => (perVec[i] += x));
  }
  return { total: perVec.reduce((a, b) => a + b, 0), perVec, perCpu };
}

export function renderProcStat(k: Kernel): string {
  const { total, cpus } = cpuStatNs(k);
  const line = (name: string, r: CpuStatRow): string => `${name}${FIELDS.map((f) => ` ${clockT(r[f])}`).join('')}\n`;
  let out = line('cpu ', total);
  cpus.forEach((r, c) => (out += line(`cpu${c}`, r)));
  const intr = intrCounts(k);
  out += `intr ${intr.total}${intr.perIrq.map((v) => ` ${v}`).join('')}\n`;
  let ctxt = 0;
  for (let c = 0; c < k.sched.cpuCount(); c++) ctxt += k.sched.cpuSwitches(c);
  out += `ctxt ${ctxt}\n`;
  out += `btime ${Math.floor(k.bootEpochMs / 1000)}\n`;
  out += `processes ${k.sched.forks}\n`;
  out += `procs_running ${k.sched.nrRunning()}\n`;
  out += `procs_blocked ${k.sched.nrIowait()}\n`;
  const si = softirqTotals(k);
  out += `softirq ${si.total}${si.perVec.map((v) => ` ${v}`).join('')}\n`;
  return out;
}

export function renderLoadavg(k: Kernel): string {
  const a = k.sched.avenrun.map((v) => loadStr(v, FIXED_1 / 200));
  return `${a.join(' ')} ${k.sched.nrRunning()}/${k.sched.nrThreads()} ${k.sched.getLastPid()}\n`;
}

/** Uptime and the sum of per-CPU idle time, ns. */
export function uptimeNs(k: Kernel): { up: number; idle: number } {
  let idle = 0;
  for (let c = 0; c < k.sched.cpuCount(); c++) idle += k.sched.cpuTimes(c).idle;
  return { up: k.now, idle };
}

export function renderUptime(k: Kernel): string {
  const { up, idle } = uptimeNs(k);
  const f = (ns: number): string => `${Math.floor(ns / 1e9)}.${String(Math.floor((ns % 1e9) / 1e7)).padStart(2, '0')}`;
  return `${f(up)} ${f(idle)}\n`;
}

export function renderInterrupts(k: Kernel): string {
  const n = k.sched.cpuCount();
  const prec = Math.max(3, String(k.sched.nrIrqs()).length);
  let out = ' '.repeat(prec + 8);
  for (let c = 0; c < n; c++) out += `CPU${String(c).padEnd(8)}`;
  out += '\n';
  for (const l of k.sched.irqLines()) {
    out += `${padL(l.irq, prec)}: `;
    for (let c = 0; c < n; c++) out += `${padL(l.counts[c] ?? 0, 10)} `;
    out += ` ${padL(l.chip, 8)} ${padL(l.hwirq, prec)}-${l.trigger.padEnd(8)}  ${l.name}\n`;
  }
  const row = (name: string, counts: number[], desc: string): string => `${padL(name, prec)}: ${counts.map((v) => `${padL(v, 10)} `).join('')}  ${desc}\n`;
  for (const a of archIrqs(k)) out += row(a.name, a.counts, a.desc);
  out += `${padL('ERR', prec)}: ${padL(0, 10)}\n`;
  out += `${padL('MIS', prec)}: ${padL(0, 10)}\n`;
  for (const p of POSTED) out += row(p.name, new Array(n).fill(0), p.desc);
  return out;
}

export function renderSoftirqs(k: Kernel): string {
  const n = k.sched.cpuCount();
  let out = ' '.repeat(20);
  for (let c = 0; c < n; c++) out += `CPU${String(c).padEnd(8)}`;
  out += '\n';
  const si = softirqTotals(k);
  SOFTIRQ_NAMES.forEach((name, i) => {
    out += `${padL(name, 12)}:`;
    for (let c = 0; c < n; c++) out += ` ${padL(si.perCpu[c][i], 10)}`;
    out += '\n';
  });
  return out;
}

export function renderSchedstat(k: Kernel): string {
  const n = k.sched.cpuCount();
  let out = `version 15\ntimestamp ${jiffies(k.now)}\n`;
  const all = Array.from({ length: n }, (_, i) => i);
  for (let c = 0; c < n; c++) {
    const si = k.sched.cpuSchedInfo(c);
    out += `cpu${c} 0 0 0 0 0 0 ${si.cpuTime} ${si.runDelay} ${si.pcount}\n`;
    if (n > 1) out += `domain0 ${bitmapHex(all, n)}${' 0'.repeat(36)}\n`;
  }
  return out;
}

export type PsiResource = 'cpu' | 'memory' | 'io';

export function pressureValues(k: Kernel, res: PsiResource): { some: { avg10: number; avg60: number; avg300: number; total: number }; full: { avg10: number; avg60: number; avg300: number; total: number } } {
  const v = k.sched.psiView();
  const idx = res === 'io' ? [PSI_IO_SOME, PSI_IO_FULL] : res === 'memory' ? [PSI_MEM_SOME, PSI_MEM_FULL] : [PSI_CPU_SOME, PSI_CPU_FULL];
  const one = (s: number, zero: boolean): { avg10: number; avg60: number; avg300: number; total: number } =>
    zero ? { avg10: 0, avg60: 0, avg300: 0, total: 0 } : { avg10: v.avg[s][0], avg60: v.avg[s][1], avg300: v.avg[s][2], total: Math.floor(v.total[s] / 1000) };
  // CPU full is undefined at the system level
  return { some: one(idx[0], false), full: one(idx[1], res === 'cpu') };
}

export function renderPressure(k: Kernel, res: PsiResource): string {
  const p = pressureValues(k, res);
  const line = (name: string, x: { avg10: number; avg60: number; avg300: number; total: number }): string =>
    `${name} avg10=${loadStr(x.avg10)} avg60=${loadStr(x.avg60)} avg300=${loadStr(x.avg300)} total=${x.total}\n`;
  return line('some', p.some) + line('full', p.full);
}
