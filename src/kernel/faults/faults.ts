/**
 * Kernel faults: oopses (page faults, BUG()), WARN(), panics, the KASAN,
 * lockdep, atomic-sleep and hung-task detectors, and the kdump-style crash
 * records the service keeps of them. Formats are those of Linux 6.1 as the
 * reference machine printed them (reference/linux-6.1/oops).
 *
 * What happens to the machine:
 *  - an oops prints its report, taints D, kills the task (TaskDeath: SIGKILL
 *    for a page fault, SIGSEGV for BUG(), as do_kern_addr_fault/die do) and
 *    the machine keeps running; kernel.panic_on_oops turns it into a panic.
 *  - WARN() taints W and returns; kernel.panic_on_warn turns it into a panic.
 *  - a panic marks the machine crashed (assertAlive() then throws EIO) and,
 *    with kernel.panic != 0, sets rebootAtNs (now + N s, or now when N < 0,
 *    the reference's panic=-1): the machine layer boots a fresh kernel then,
 *    carrying the crash records over (takeCrashRecords/restoreCrashRecords).
 *
 * Debug options (KernelConfig.debug):
 *  - kasan: use-after-free / out-of-bounds accesses print a KASAN report and
 *    taint B; the task carries on (KASAN reports, it does not kill). Without
 *    KASAN, like a production kernel, the access silently reads or corrupts
 *    memory: nothing is logged, the task carries on (counted in
 *    silentCorruptions()).
 *  - lockdep: lock-inversion prints the circular-dependency splat (once: lockdep
 *    turns itself off after the first report, and on an oops/KASAN taint);
 *    sleep-in-atomic prints "sleeping function called from invalid context"
 *    (CONFIG_DEBUG_ATOMIC_SLEEP). Without it, lock inversion in one task goes
 *    unnoticed and sleep-in-atomic gives the always-on "scheduling while atomic".
 *  - hungTaskTimeoutSecs: the initial kernel.hung_task_timeout_secs.
 */
import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import { type LogRecord } from '../printk/printk';
import { printkTime } from '../util/format';
import { Rng, type RngState } from '../util/rng';
import { type BehaviourTrigger, type FaultSite, type FaultTrigger, type LabBehaviour, TaskDeath } from './contract';
import {
  type AddressSpace,
  HARDWARE_NAME,
  TAINT_BIT,
  codeLine,
  controlRegs,
  cpuLine,
  fileOpFrames,
  h16,
  hashStr,
  initArea,
  kernelOffsetLine,
  kernelRegs,
  moduleSym,
  modulesLinkedIn,
  newAddressSpace,
  printTainted,
  symStr,
  syscallNoise,
  taintLetters,
  userAnchors,
  userRegs,
  versionShort,
  moduleBase,
  MODULES_VADDR,
  type FaultInsn,
  type ModSym,
} from './report';
import { KERNEL_RELEASE } from '../types';
import { handleSysrq, type SysrqOptions } from './sysrq';
import { showTask } from '../sched/sysrq';

export const SIGKILL = 9;
export const SIGSEGV = 11;

export type CrashType = 'NULL-PTR-DEREF' | 'BUG' | 'WARNING' | 'KASAN' | 'LOCKDEP' | 'ATOMIC-SLEEP' | 'HANG' | 'PANIC' | 'OOM';

/** One kernel report (kdump-style record): a panic (crashes()) or a report the machine survived (reports()). */
export interface CrashRecord {
  /** sequence number, unique across reboots of one machine */
  id: number;
  /** syzkaller-style title, e.g. "BUG: kernel NULL pointer dereference in labmod_read" */
  title: string;
  type: CrashType;
  /** the first interesting frame (the buggy function) */
  frame: string;
  /** the module the buggy function belongs to, if any */
  module?: string;
  /** the full report as dmesg shows it ("[    4.116091] BUG: ...") */
  report: string;
  /** taint letters at the end of the report ("DOE"; "G" when clean) */
  taint: string;
  /** did the machine panic? */
  panic: boolean;
  /** the last lines of the kernel log when the record was made */
  dmesgTail: string[];
  tasks: { pid: number; comm: string; state: string }[];
  /** virtual ns since boot */
  timeNs: number;
  /** wall clock, ms since the epoch */
  wallMs: number;
  /** which boot of the machine it happened in (0 = first) */
  boot: number;
}

/** What the machine layer carries over a reboot. */
export interface CrashCarry {
  crashes: CrashRecord[];
  reports: CrashRecord[];
  nextId: number;
  /** boots so far (the new kernel is boot number `boots`) */
  boots: number;
}

interface HungTask {
  pid: number;
  comm: string;
  ppid: number;
  cpu: number;
  since: number;
  module: string;
  fn: string;
  /** the syscall context frames below the module function */
  ctx: string[];
  user: boolean;
  orig: number;
}

export interface FaultsState {
  crashed: boolean;
  panicMessage?: string;
  /** virtual time at which the machine layer must reboot (panic with kernel.panic != 0, sysrq-b) */
  rebootAtNs?: number;
  /** why: 'panic' | 'sysrq' (emergency_restart) | 'poweroff' (sysrq-o: stop, do not boot) */
  rebootReason?: 'panic' | 'sysrq' | 'poweroff';
  /** die_counter: "[#N]" of the next oops is dieCounter + 1 */
  dieCounter: number;
  /** register lines of the first oops (the executive summary reprints them) */
  summary?: string[];
  /** the CR2 its dump showed (hex) */
  summaryCr2?: string;
  /** "name(OE)" of the last module unloaded */
  lastUnloaded?: string;
  rng: RngState;
  as: AddressSpace;
  nextId: number;
  boots: number;
  crashes: CrashRecord[];
  reports: CrashRecord[];
  hung: HungTask[];
  /** pending khungtaskd check */
  hungCheckAt?: number;
  /** lockdep turned itself off (debug_locks_off) */
  lockdepOff: boolean;
  silent: number;
  /** timestamp of the last report line (reports do not overlap) */
  lastTs: number;
}

/**
 * Thrown (as a TaskDeath, so callers unaware of it still end the syscall)
 * when a behaviour leaves the calling task blocked for good in D state (a
 * hung task): the task did not die; it never returns from the kernel. A
 * syscall layer that knows it should keep the command hanging (it cannot be
 * killed); the model keeps the task in its hung list (sysrq-w, the hung
 * task detector).
 */
export class TaskBlocked extends TaskDeath {
  constructor(readonly pid: number) {
    super(SIGKILL, 'task blocked in uninterruptible sleep');
    this.name = 'TaskBlocked';
  }
}

/** The running context of a fault: which task, which CPU, the frames that called the buggy function. */
interface FaultCtx {
  pid: number;
  comm: string;
  cpu: number;
  /** frames below the faulting function, outermost last (without user regs) */
  frames: string[];
  /** the task came from user space through a syscall (user regs end the trace) */
  user: boolean;
  orig: number;
  /** "Workqueue: events fn [mod]" for a work item */
  wq?: string;
  /** a timer callback: softirq on the interrupted idle task (in_interrupt()) */
  irq?: boolean;
}

/** Records kept per machine (oldest dropped first). */
export const MAX_REPORTS = 100;
export const MAX_CRASHES = 50;

const CUT_HERE = '------------[ cut here ]------------';
const END_TRACE = '---[ end trace 0000000000000000 ]---';
const KASAN_LINE = '==================================================================';
const PANIC_PREFIX = 'Kernel panic - not syncing: ';
/** printk levels */
const EMERG = 0;
const ALERT = 1;
const CRIT = 2;
const ERR = 3;
const WARNING = 4;
const INFO = 6;

export interface PanicOptions {
  /** frames under panic() in its dump_stack (callers of panic) */
  frames?: string[];
  pid?: number;
  cpu?: number;
  user?: { orig: number };
  /** the report this panic ends (its title/type/frame/text start the crash record) */
  origin?: { title: string; type: CrashType; frame: string; module?: string; seq: number };
  /** the "Kernel panic - not syncing" line was already logged (sched's init death) */
  headerLogged?: boolean;
  /** panicking from an interrupt on the idle task */
  irq?: boolean;
  /** printk seq where the crash record's report starts (e.g. the "sysrq: Trigger a crash" line) */
  startSeq?: number;
  type?: CrashType;
  frame?: string;
}

export class Faults implements FaultTrigger {
  private s: FaultsState;
  private rng: Rng;

  constructor(private readonly k: Kernel) {
    const rng = new Rng(`${k.config.seed}\u0000faults`);
    this.rng = rng;
    this.s = {
      crashed: false,
      dieCounter: 0,
      rng: rng.getState(),
      as: newAddressSpace(rng),
      nextId: 1,
      boots: 0,
      crashes: [],
      reports: [],
      hung: [],
      lockdepOff: false,
      silent: 0,
      lastTs: 0,
    };
    const dbg = k.config.debug;
    if (dbg?.hungTaskTimeoutSecs !== undefined) {
      const n = dbg.hungTaskTimeoutSecs;
      if (!Number.isInteger(n) || n < 0 || n > 86400 * 365)
        throw new KernelError('EINVAL', 'debug.hungTaskTimeoutSecs must be an integer >= 0');
      k.sysctl.write('kernel/hung_task_timeout_secs', String(n));
    }
    k.onTimer('faults.hung', () => this.hungCheck());
    this.armHung();
    // panics raised elsewhere (the OOM killer with vm.panic_on_oom, the death of init)
    k.events.on('panic', ({ message }) => {
      if (this.s.crashed) return;
      if (message.startsWith(PANIC_PREFIX)) {
        this.panic(message.slice(PANIC_PREFIX.length), {
          headerLogged: true,
          frames: [
            'do_exit.cold+0x14/0x9f',
            'do_group_exit+0x2d/0x80',
            '__x64_sys_exit_group+0x14/0x20',
            'do_syscall_64+0x5d/0xb0',
            'entry_SYSCALL_64_after_hwframe+0x6e/0xd8',
          ],
          pid: 1,
          frame: 'do_exit',
        });
      } else {
        const oom = /memory/i.test(message);
        this.panic(message, {
          type: oom ? 'OOM' : 'PANIC',
          frame: oom ? 'out_of_memory' : 'panic',
          frames: oom
            ? ['out_of_memory.cold+0x2f/0x7e', '__alloc_pages_slowpath.constprop.0+0xc24/0xd90', '__alloc_pages+0x30b/0x330']
            : [],
        });
      }
    });
    k.modules.onUnload((m) => {
      const t = k.modules.taintString(m);
      this.s.lastUnloaded = `${m.name}${t ? `(${t})` : ''}`;
    });
  }

  // ---------------------------------------------------------------- machine state

  /** The machine panicked: nothing runs any more until the machine layer reboots it. */
  get crashed(): boolean {
    return this.s.crashed;
  }

  /** The panic message ("sysrq triggered crash"), when crashed. */
  get panicMessage(): string | undefined {
    return this.s.panicMessage;
  }

  /**
   * Virtual time at which the machine layer must reboot (boot a fresh kernel
   * and restoreCrashRecords() into it): set by a panic when kernel.panic != 0
   * (now + N s; now for N < 0) and by sysrq-b. Undefined: stay as is.
   */
  get rebootAtNs(): number | undefined {
    return this.s.rebootAtNs;
  }

  /** Why rebootAtNs is set; 'poweroff' (sysrq-o) means stop the machine instead. */
  get rebootReason(): FaultsState['rebootReason'] {
    return this.s.rebootReason;
  }

  /** Throws EIO once the machine has crashed (or is resetting): every syscall/entry point calls it. */
  assertAlive(): void {
    if (this.s.crashed) throw new KernelError('EIO', 'machine has crashed');
    if (this.s.rebootReason) throw new KernelError('EIO', 'machine is restarting');
  }

  /** Panics so far (kdump records), oldest first, including those of earlier boots carried over. */
  crashes(): readonly CrashRecord[] {
    return this.s.crashes;
  }

  /** Reports the machine survived (oops, WARN, KASAN, lockdep, hung task), oldest first. */
  reports(): readonly CrashRecord[] {
    return this.s.reports;
  }

  /** One record by id (crash or report). */
  record(id: number): CrashRecord | undefined {
    return this.s.crashes.find((c) => c.id === id) ?? this.s.reports.find((c) => c.id === id);
  }

  /** Memory-safety bugs that went unnoticed (KASAN off). */
  silentCorruptions(): number {
    return this.s.silent;
  }

  /** Tasks a behaviour left blocked in D state. */
  hungTasks(): readonly { pid: number; comm: string; sinceNs: number; fn: string; module: string }[] {
    return this.s.hung.map((h) => ({ pid: h.pid, comm: h.comm, sinceNs: h.since, fn: h.fn, module: h.module }));
  }

  /** which boot of the machine this kernel is (0 = the first) */
  get boot(): number {
    return this.s.boots;
  }

  /** The records to carry over a reboot. */
  takeCrashRecords(): CrashCarry {
    return clone({ crashes: this.s.crashes, reports: this.s.reports, nextId: this.s.nextId, boots: this.s.boots });
  }

  /** Into a freshly booted kernel: the records of the previous boots (this boot is number `boots + 1`). */
  restoreCrashRecords(c: CrashCarry): void {
    this.s.crashes = clone(c.crashes);
    this.s.reports = clone(c.reports);
    this.s.nextId = Math.max(this.s.nextId, c.nextId);
    this.s.boots = c.boots + 1;
  }

  // ---------------------------------------------------------------- behaviours

  runBehaviour(b: LabBehaviour, site: FaultSite): void {
    this.assertAlive();
    if (b.kind === 'leak') return;
    const ctx = this.faultCtx(site, b.on);
    switch (b.kind) {
      case 'null-deref':
        return this.pageFaultOops(site, ctx, 0n, true);
      case 'bug':
        return this.bugOops(site, ctx);
      case 'warn':
        return this.warn(site, ctx);
      case 'use-after-free':
      case 'out-of-bounds':
        return this.memoryBug(b, site, ctx);
      case 'lock-inversion':
        return this.lockInversion(site, ctx, b.locks);
      case 'sleep-in-atomic':
        return this.sleepInAtomic(site, ctx);
      case 'hung-task':
        // blocking in a timer callback is sleeping in atomic (softirq) context
        if (ctx.irq) return this.sleepInAtomic(site, ctx);
        return this.hang(site, ctx);
      case 'panic': {
        const sym = moduleSym(this.k, site.module, site.fn);
        this.panic(b.message ?? `${site.module}: fatal error`, {
          frames: [symStr(sym), ...ctx.frames],
          pid: ctx.pid,
          cpu: ctx.cpu,
          user: ctx.user ? { orig: ctx.orig } : undefined,
          irq: ctx.irq,
          frame: site.fn,
          type: 'PANIC',
        });
        throw new TaskDeath(SIGKILL, 'kernel panic');
      }
    }
  }

  private faultCtx(site: FaultSite, on: BehaviourTrigger): FaultCtx {
    const t = this.k.sched.task(site.pid);
    const r = this.rng;
    const mod = site.module;
    const noise = (): string[] => syscallNoise(r);
    if (on === 'load') {
      const frames: string[] = [];
      if (site.fn !== `${mod}_init`) frames.push(symStr(moduleSym(this.k, mod, `${mod}_init`, site.fn)));
      frames.push(
        `? 0x${initArea(this.k, mod).toString(16)}`,
        'do_one_initcall+0x59/0x220',
        'do_init_module+0x4a/0x1f0',
        '__do_sys_finit_module+0xac/0x120',
        'do_syscall_64+0x5d/0xb0',
        ...noise(),
        'entry_SYSCALL_64_after_hwframe+0x6e/0xd8',
      );
      return { pid: site.pid, comm: t?.comm ?? 'insmod', cpu: t?.cpu ?? 0, frames, user: true, orig: 0x139 };
    }
    if (on === 'unload') {
      const frames: string[] = [];
      if (site.fn !== `${mod}_exit`) frames.push(symStr(moduleSym(this.k, mod, `${mod}_exit`, site.fn)));
      frames.push(
        '__do_sys_delete_module.constprop.0+0x178/0x280',
        'do_syscall_64+0x5d/0xb0',
        ...noise(),
        'entry_SYSCALL_64_after_hwframe+0x6e/0xd8',
      );
      return { pid: site.pid, comm: t?.comm ?? 'rmmod', cpu: t?.cpu ?? 0, frames, user: true, orig: 0xb0 };
    }
    if ('everyMs' in on && (!t || site.pid === 0)) {
      // a timer_list callback: TIMER_SOFTIRQ on the CPU's idle task
      const frames = [
        'call_timer_fn+0x27/0x130',
        '__run_timers+0x221/0x2b0',
        'run_timer_softirq+0x1d/0x40',
        'handle_softirqs+0xd7/0x280',
        '__irq_exit_rcu+0xcd/0x120',
        'sysvec_apic_timer_interrupt+0x71/0x90',
      ];
      return { pid: 0, comm: 'swapper/0', cpu: 0, frames, user: false, orig: 0, irq: true };
    }
    if ('everyMs' in on) {
      const frames = [
        'process_one_work+0x1c7/0x380',
        'worker_thread+0x4d/0x380',
        '? rescuer_thread+0x3a0/0x3a0',
        'kthread+0xda/0x100',
        '? kthread_complete_and_exit+0x20/0x20',
        'ret_from_fork+0x22/0x30',
      ];
      const sym = moduleSym(this.k, mod, site.fn);
      return {
        pid: site.pid,
        comm: t?.comm ?? 'kworker/0:1',
        cpu: t?.cpu ?? 0,
        frames,
        user: false,
        orig: 0,
        wq: `events ${site.fn} [${sym.module}]`,
      };
    }
    const write = 'write' in on;
    const path = write ? (on as { write: string }).write : (on as { read: string }).read;
    const frames = [...fileOpFrames(path, write), 'do_syscall_64+0x5d/0xb0', ...noise(), 'entry_SYSCALL_64_after_hwframe+0x6e/0xd8'];
    return { pid: site.pid, comm: t?.comm ?? (write ? 'sh' : 'cat'), cpu: t?.cpu ?? 0, frames, user: true, orig: write ? 1 : 0 };
  }

  // ---------------------------------------------------------------- printing

  /** A report being printed: lines go to the log as they come; the record is cut from the log afterwards. */
  private begin(): { log: (level: number, text: string) => void; seq: number } {
    const seq = this.k.printk.nextSeq;
    const log = (level: number, text: string): void => {
      const ts = Math.max(this.k.now, this.s.lastTs + 1000);
      this.s.lastTs = ts;
      this.k.printk.log(level, text, { tsNs: ts, oneRecord: text.includes('\n') });
    };
    return { log, seq };
  }

  private taint(): number {
    return this.k.sysctl.tainted();
  }

  private addTaint(bit: number, lockdepUnreliable: boolean, log: (level: number, text: string) => void): void {
    this.k.sysctl.addTaint(bit);
    // add_taint(.., LOCKDEP_NOW_UNRELIABLE): lockdep gives up
    if (lockdepUnreliable && this.lockdepOn()) {
      log(WARNING, 'Disabling lock debugging due to kernel taint');
      this.s.lockdepOff = true;
    }
  }

  private lockdepOn(): boolean {
    return !!this.k.config.debug?.lockdep && !this.s.lockdepOff;
  }

  private sysctlInt(path: string, dflt: number): number {
    try {
      const v = Number(this.k.sysctl.value(path).split(/\s+/)[0]);
      return Number.isFinite(v) ? v : dflt;
    } catch {
      return dflt;
    }
  }

  /** CPU/Hardware name(/Workqueue) lines of dump_stack_print_info. */
  private header(ctx: { cpu: number; pid: number; comm: string; wq?: string }, log: (l: number, t: string) => void, level = WARNING): void {
    log(level, cpuLine(ctx.cpu, ctx.pid, ctx.comm, this.taint()));
    log(level, `Hardware name: ${HARDWARE_NAME}`);
    if (ctx.wq) log(level, `Workqueue: ${ctx.wq}`);
  }

  /** The trace body: " <TASK>", frames, user registers, " </TASK>". */
  private trace(ctx: FaultCtx, frames: string[], log: (l: number, t: string) => void, level = WARNING): void {
    log(level, 'Call Trace:');
    log(level, ctx.irq ? ' <IRQ>' : ' <TASK>');
    for (const f of frames) log(level, ` ${f}`);
    if (ctx.irq) for (const l of this.idleTail(ctx.cpu)) log(level, l);
    if (ctx.user) for (const l of userRegs(this.k, ctx.pid, ctx.orig)) log(level, l);
    log(level, ' </TASK>');
  }

  /** The interrupted idle task under an interrupt's frames: " </IRQ>", " <TASK>", its registers and stack. */
  private idleTail(cpu: number): string[] {
    const r = new Rng(`${this.k.config.seed}\u0000idle\u0000${cpu}`);
    const sym: ModSym = { module: '', fn: 'native_safe_halt', off: 0xb, size: 0x10, addr: 0n };
    const regs = kernelRegs(this.k, r, this.s.as, 'native_safe_halt+0xb/0x10', codeLine(sym, 'call'));
    return [
      ' </IRQ>',
      ' <TASK>',
      ' asm_sysvec_apic_timer_interrupt+0x16/0x20',
      regs.rip,
      regs.code,
      ...regs.lines,
      ' default_idle+0x9/0x20',
      ' default_idle_call+0x2c/0xe0',
      ' do_idle+0x226/0x2b0',
      ' cpu_startup_entry+0x19/0x20',
      ...(cpu === 0
        ? [' rest_init+0xcb/0xd0', ' arch_call_rest_init+0xa/0x14', ' start_kernel+0x6c3/0x6ec']
        : [' start_secondary+0x128/0x160']),
      ' secondary_startup_64_no_verify+0xe5/0xeb',
    ];
  }

  /**
   * show_regs() of a kernel-mode fault at `sym`: header, registers, trace.
   * Returns the register lines and the CR2 the dump showed (the Code: dump
   * faults, and sets CR2, when the 42 bytes before RIP are not mapped).
   */
  private showRegs(
    ctx: FaultCtx,
    sym: ModSym,
    insn: FaultInsn,
    cr2: bigint,
    log: (l: number, t: string) => void,
    regOpts: { rax?: bigint } = {},
  ): { lines: string[]; cr2: bigint } {
    this.header(ctx, log);
    const codeStart = sym.addr + BigInt(sym.off) - 0x2an;
    const unmapped = codeStart < moduleBase(this.k, sym.module);
    const code = unmapped ? `Code: Unable to access opcode bytes at 0x${codeStart.toString(16)}.` : codeLine(sym, insn);
    const shownCr2 = unmapped ? codeStart : cr2;
    const regs = kernelRegs(this.k, this.rng, this.s.as, symStr(sym), code, regOpts);
    const lines = [regs.rip, regs.code, ...regs.lines];
    const ctl = controlRegs(this.k, this.s.as, ctx.pid, ctx.cpu, shownCr2, ctx.user);
    for (const l of [...lines, ...ctl]) log(WARNING, l);
    this.trace(ctx, ctx.frames, log);
    return { lines, cr2: shownCr2 };
  }

  /** The lines of the log since `seq`, dmesg style. */
  private linesSince(seq: number): string[] {
    return this.k.printk.since(seq).flatMap(fmtRecord);
  }

  private dmesgTail(n = 100): string[] {
    const out = this.k.printk.records().flatMap(fmtRecord);
    return out.slice(Math.max(0, out.length - n));
  }

  private makeRecord(seq: number, title: string, type: CrashType, frame: string, module: string | undefined, panic: boolean): CrashRecord {
    const k = this.k;
    const tasks = k.sched.allTasks().map((t) => ({ pid: t.pid, comm: t.comm, state: k.sched.displayState(t) }));
    const rec: CrashRecord = {
      id: this.s.nextId++,
      title,
      type,
      frame,
      report: this.linesSince(seq).join('\n') + '\n',
      taint: taintLetters(this.taint()),
      panic,
      dmesgTail: this.dmesgTail(),
      tasks,
      timeNs: k.now,
      wallMs: k.bootEpochMs + Math.floor(k.now / 1e6),
      boot: this.s.boots,
    };
    if (module) rec.module = module;
    return rec;
  }

  /** Keeps the newest `max` records (the snapshot stays bounded). */
  private pushRecord(list: CrashRecord[], rec: CrashRecord, max: number): void {
    list.push(rec);
    if (list.length > max) list.splice(0, list.length - max);
  }

  private saveRng(): void {
    this.s.rng = this.rng.getState();
  }

  // ---------------------------------------------------------------- oops

  /** page_fault_oops(): "BUG: kernel NULL pointer dereference" (or "unable to handle page fault"), then die. */
  private pageFaultOops(site: FaultSite, ctx: FaultCtx, addr: bigint, write: boolean): void {
    const { log, seq } = this.begin();
    const sym = moduleSym(this.k, site.module, site.fn);
    if (addr < 0x1000n) log(ALERT, `BUG: kernel NULL pointer dereference, address: ${h16(addr)}`);
    else log(ALERT, `BUG: unable to handle page fault for address: ${h16(addr)}`);
    log(ALERT, `#PF: supervisor ${write ? 'write' : 'read'} access in kernel mode`);
    const err = write ? 0x0002 : 0x0000;
    log(ALERT, `#PF: error_code(0x${err.toString(16).padStart(4, '0')}) - not-present page`);
    log(INFO, 'PGD 0 P4D 0 ');
    const title =
      addr < 0x1000n ? `BUG: kernel NULL pointer dereference in ${site.fn}` : `BUG: unable to handle kernel paging request in ${site.fn}`;
    this.die(`Oops: ${err.toString(16).padStart(4, '0')}`, site, ctx, sym, write ? 'store' : 'load', addr, log, seq, {
      title,
      type: 'NULL-PTR-DEREF',
      signal: SIGKILL,
      cr2Line: true,
      regs: { rax: addr },
    });
  }

  /** BUG(): "kernel BUG at file:line!", "invalid opcode: 0000", then die with SIGSEGV. */
  private bugOops(site: FaultSite, ctx: FaultCtx): void {
    const { log, seq } = this.begin();
    const sym = moduleSym(this.k, site.module, site.fn);
    log(WARNING, CUT_HERE);
    log(CRIT, `kernel BUG at ${srcFile(site)}:${srcLine(site)}!`);
    this.die('invalid opcode: 0000', site, ctx, sym, 'ud2', undefined, log, seq, {
      title: `kernel BUG in ${site.fn}`,
      type: 'BUG',
      signal: SIGSEGV,
      cr2Line: false,
    });
  }

  /** __die() + oops_end(): the common tail of every oops. Throws TaskDeath (or panics). */
  private die(
    what: string,
    site: FaultSite,
    ctx: FaultCtx,
    sym: ModSym,
    insn: FaultInsn,
    cr2: bigint | undefined,
    log: (l: number, t: string) => void,
    seq: number,
    o: { title: string; type: CrashType; signal: number; cr2Line: boolean; regs?: { rax?: bigint } },
  ): never {
    const n = ++this.s.dieCounter;
    log(WARNING, `${what} [#${n}] PREEMPT SMP NOPTI`);
    const shown = this.showRegs(ctx, sym, insn, cr2 ?? userAnchors(this.k, ctx.pid).heap + 0xb50n, log, o.regs);
    if (n === 1) {
      this.s.summary = shown.lines;
      this.s.summaryCr2 = shown.cr2.toString(16);
    }
    log(WARNING, modulesLinkedIn(this.k, this.s.lastUnloaded));
    if (o.cr2Line && cr2 !== undefined) log(WARNING, `CR2: ${h16(cr2)}`);
    // oops_end(): taint D, the end marker, the executive summary (the first oops' registers)
    this.addTaint(TAINT_BIT.DIE, true, log);
    log(WARNING, END_TRACE);
    for (const l of this.s.summary ?? shown.lines) log(WARNING, l);
    const sumCr2 = this.s.summaryCr2 !== undefined ? BigInt('0x' + this.s.summaryCr2) : shown.cr2;
    for (const l of controlRegs(this.k, this.s.as, ctx.pid, ctx.cpu, sumCr2, ctx.user)) log(WARNING, l);
    const origin = { title: o.title, type: o.type, frame: site.fn, module: site.module, seq };
    if (ctx.irq || this.sysctlInt('kernel/panic_on_oops', 0)) {
      this.panic(ctx.irq ? 'Fatal exception in interrupt' : 'Fatal exception', { origin, pid: ctx.pid, cpu: ctx.cpu });
      this.saveRng();
      throw new TaskDeath(SIGKILL, 'kernel panic');
    }
    // make_task_dead()
    if (o.signal === SIGKILL) log(INFO, `note: ${ctx.comm.slice(0, 15)}[${ctx.pid}] exited with irqs disabled`);
    this.pushRecord(this.s.reports, this.makeRecord(seq, o.title, o.type, site.fn, site.module, false), MAX_REPORTS);
    this.saveRng();
    throw new TaskDeath(o.signal, o.title);
  }

  // ---------------------------------------------------------------- WARN

  /** WARN_ON() at the site (with `message`: WARN(1, message)). Taints W; panic_on_warn panics. */
  private warn(site: FaultSite, ctx: FaultCtx, message?: string): void {
    const { log, seq } = this.begin();
    const sym = moduleSym(this.k, site.module, site.fn);
    log(WARNING, CUT_HERE);
    if (message) log(WARNING, message);
    log(WARNING, `WARNING: CPU: ${ctx.cpu} PID: ${ctx.pid} at ${srcFile(site)}:${srcLine(site)} ${symStr(sym)}`);
    log(WARNING, modulesLinkedIn(this.k, this.s.lastUnloaded));
    const userCr2 = 0x5556ef820b50n + BigInt(hashStr(`${ctx.pid}`) % 0x1000) * 0x1000n;
    this.showRegs(ctx, sym, 'ud2', userCr2, log);
    const title = `WARNING in ${site.fn}`;
    this.checkPanicOnWarn('kernel', ctx, { title, type: 'WARNING', frame: site.fn, module: site.module, seq });
    log(WARNING, END_TRACE);
    this.addTaint(TAINT_BIT.WARN, false, log);
    this.pushRecord(this.s.reports, this.makeRecord(seq, title, 'WARNING', site.fn, site.module, false), MAX_REPORTS);
    this.saveRng();
  }

  /** check_panic_on_warn(origin) */
  private checkPanicOnWarn(origin: string, ctx: FaultCtx, o: NonNullable<PanicOptions['origin']>): void {
    if (!this.sysctlInt('kernel/panic_on_warn', 0)) return;
    const sym = moduleSym(this.k, o.module ?? 'kernel', o.frame);
    this.panic(`${origin}: panic_on_warn set ...`, {
      origin: o,
      pid: ctx.pid,
      cpu: ctx.cpu,
      irq: ctx.irq,
      user: ctx.user ? { orig: ctx.orig } : undefined,
      frames: [
        'check_panic_on_warn.cold+0x14/0x1b',
        '__warn+0x9c/0x120',
        `? ${symStr(sym)}`,
        'report_bug+0xe6/0x170',
        'handle_bug+0x41/0x70',
        'exc_invalid_op+0x13/0x60',
        'asm_exc_invalid_op+0x16/0x20',
        symStr(sym),
        ...ctx.frames,
      ],
    });
    this.saveRng();
    throw new TaskDeath(SIGKILL, 'kernel panic');
  }

  // ---------------------------------------------------------------- panic

  /**
   * panic(): "Kernel panic - not syncing: MSG", the stack (unless an oops
   * already tainted D), the KASLR offset and the reboot policy of
   * kernel.panic. Records the crash and marks the machine crashed. Does not
   * throw: callers in a task context throw TaskDeath themselves.
   */
  panic(message: string, o: PanicOptions = {}): void {
    if (this.s.crashed) return;
    const msg = message.replace(/\n$/, '');
    const { log, seq } = this.begin();
    // the init-death header was logged by the scheduler just before
    const start = o.origin?.seq ?? o.startSeq ?? (o.headerLogged ? Math.max(this.k.printk.firstSeq, seq - 1) : seq);
    if (!o.headerLogged) log(EMERG, `${PANIC_PREFIX}${msg}`);
    if (!(this.taint() & (1 << TAINT_BIT.DIE))) {
      const pid = o.pid ?? 0;
      const t = this.k.sched.task(pid);
      const comm = t?.comm ?? (pid === 0 ? 'swapper/0' : 'kworker/0:1');
      const cpu = o.cpu ?? t?.cpu ?? 0;
      const ctx: FaultCtx = {
        pid,
        comm: pid === 0 ? `swapper/${cpu}` : comm,
        cpu,
        frames: [],
        user: !!o.user,
        orig: o.user?.orig ?? 0,
        irq: o.irq,
      };
      this.header(ctx, log);
      this.trace(ctx, ['dump_stack_lvl+0x44/0x5c', 'panic+0x118/0x2f4', ...(o.frames ?? [])], log);
    }
    log(EMERG, kernelOffsetLine(this.k));
    const timeout = this.sysctlInt('kernel/panic', 0);
    if (timeout > 0) log(EMERG, `Rebooting in ${timeout} seconds..`);
    if (timeout === 0) log(EMERG, `---[ end ${PANIC_PREFIX}${msg} ]---`);
    this.s.crashed = true;
    this.s.panicMessage = msg;
    if (timeout !== 0) {
      this.s.rebootAtNs = this.k.now + Math.max(0, timeout) * 1e9;
      this.s.rebootReason = 'panic';
    }
    const oom = /^(Out of memory|System is deadlocked on memory)/.test(msg);
    const title = o.origin?.title ?? (oom ? `kernel panic: ${msg}` : `kernel panic: ${msg}`);
    const type = o.origin?.type ?? o.type ?? (oom ? 'OOM' : 'PANIC');
    const frame = o.origin?.frame ?? o.frame ?? 'panic';
    this.pushRecord(this.s.crashes, this.makeRecord(start, title, type, frame, o.origin?.module, true), MAX_CRASHES);
    this.saveRng();
    this.k.events.emit('panic', { message: msg });
  }

  // ---------------------------------------------------------------- KASAN

  private memoryBug(b: Extract<LabBehaviour, { kind: 'use-after-free' | 'out-of-bounds' }>, site: FaultSite, ctx: FaultCtx): void {
    if (!this.k.config.debug?.kasan) {
      // a production kernel: the access reads freed memory / scribbles past the object, unnoticed
      this.s.silent++;
      return;
    }
    const uaf = b.kind === 'use-after-free';
    const objSize = Math.max(1, Math.min(b.objectSize ?? (uaf ? 64 : 32), 8192));
    const cache = kmallocCache(objSize);
    const offset = uaf ? Math.min(8, Math.max(0, objSize - 8)) : ((b as { offset?: number }).offset ?? objSize);
    const accessSize = uaf ? 8 : 1;
    const r = this.rng;
    const { log, seq } = this.begin();
    const sym = moduleSym(this.k, site.module, site.fn);
    const stride = cache + kasanRedzone(cache);
    const perSlab = Math.max(1, Math.floor((4096 * (cache > 512 ? 8 : 1)) / stride));
    const slot = r.int(0, Math.max(0, perSlab - 2));
    const po = BigInt('0x' + this.s.as.pageOffset);
    const pfn = r.int(0x1000, Math.floor((this.k.config.memoryMb * 256) / 2));
    const slab = po + BigInt(pfn) * 0x1000n;
    const obj = slab + BigInt(slot * stride);
    const addr = obj + BigInt(offset);
    const kind = uaf ? 'use-after-free' : 'slab-out-of-bounds';
    const rw = uaf ? 'Read' : 'Write';
    log(ERR, KASAN_LINE);
    log(ERR, `BUG: KASAN: ${kind} in ${symStr(sym)}`);
    log(ERR, `${rw} of size ${accessSize} at addr ${h16(addr)} by task ${ctx.comm}/${ctx.pid}`);
    log(ERR, '');
    this.header(ctx, log);
    this.trace(
      ctx,
      ['dump_stack_lvl+0x44/0x5c', 'print_report+0x184/0x4be', 'kasan_report+0xc9/0x100', `? ${symStr(sym)}`, symStr(sym), ...ctx.frames],
      log,
    );
    log(ERR, '');
    const callers = ctx.frames.filter((f) => !f.startsWith('? '));
    const allocSym = symStr(sym, Math.max(1, sym.off - 0x20));
    log(ERR, `Allocated by task ${ctx.pid}:`);
    for (const f of ['kasan_save_stack+0x22/0x50', 'kasan_set_track+0x25/0x30', '__kasan_kmalloc+0x7f/0x90', allocSym, ...callers])
      log(ERR, ` ${f}`);
    log(ERR, '');
    if (uaf) {
      log(ERR, `Freed by task ${ctx.pid}:`);
      const freeSym = symStr(sym, Math.max(1, sym.off - 0x8));
      for (const f of [
        'kasan_save_stack+0x22/0x50',
        'kasan_set_track+0x25/0x30',
        'kasan_save_free_info+0x2e/0x50',
        '____kasan_slab_free+0x174/0x1e0',
        '__kmem_cache_free+0xc5/0x2c0',
        freeSym,
        ...callers,
      ])
        log(ERR, ` ${f}`);
      log(ERR, '');
    }
    log(ERR, `The buggy address belongs to the object at ${h16(obj)}`);
    log(ERR, ` which belongs to the cache kmalloc-${cache} of size ${cache}`);
    const rel =
      offset < 0
        ? `${-offset} bytes to the left of`
        : offset >= objSize
          ? `${offset - objSize} bytes to the right of`
          : `${offset} bytes inside of`;
    log(ERR, `The buggy address is located ${rel}`);
    log(ERR, ` ${objSize}-byte region [${h16(obj)}, ${h16(obj + BigInt(objSize))})`);
    log(ERR, '');
    log(ERR, 'The buggy address belongs to the physical page:');
    const hashed = '00000000' + (hashStr(`page:${pfn}`) >>> 0).toString(16).padStart(8, '0');
    log(WARNING, `page:${hashed} refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x${pfn.toString(16)}`);
    log(WARNING, 'flags: 0x100000000000200(slab|node=0|zone=1)');
    const vmemmap = BigInt('0x' + this.s.as.vmemmap);
    log(
      WARNING,
      `raw: 0100000000000200 ${h16(vmemmap + BigInt(pfn + 0x40) * 64n)} dead000000000122 ${h16(po + 0x1041500n + BigInt(hashStr(`cache${cache}`) % 16) * 0x100n)}`,
    );
    log(
      WARNING,
      `raw: 0000000000000000 ${h16((BigInt(perSlab) << 16n) | BigInt(perSlab) | 0x80000000n)} 00000001ffffffff 0000000000000000`,
    );
    log(WARNING, 'page dumped because: kasan: bad access detected');
    log(ERR, '');
    log(ERR, 'Memory state around the buggy address:');
    const shadow = (a: bigint): string => {
      const rel2 = Number(a - slab);
      if (rel2 < 0 || rel2 >= 4096 * (cache > 512 ? 8 : 1)) return 'fc';
      const s2 = Math.floor(rel2 / stride);
      const within = rel2 - s2 * stride;
      if (within >= cache || s2 >= perSlab) return 'fc';
      if (s2 === slot) {
        if (uaf) return within === 0 ? 'fa' : 'fb';
        return granule(within, objSize);
      }
      const h = hashStr(`slot:${pfn}:${s2}`);
      if (h % 3 === 0) return within === 0 ? 'fa' : 'fb';
      return granule(within, Math.max(1, cache - (h % Math.max(1, cache / 2))));
    };
    const row = addr & ~0x7fn;
    for (let i = -2; i <= 2; i++) {
      const ra = row + BigInt(i * 0x80);
      const bytes: string[] = [];
      for (let g = 0; g < 16; g++) bytes.push(shadow(ra + BigInt(g * 8)));
      log(ERR, `${i === 0 ? '>' : ' '}${h16(ra)}: ${bytes.join(' ')}`);
      if (i === 0) {
        const idx = Number((addr - row) / 8n);
        log(ERR, `${' '.repeat(19 + idx * 3)}^`);
      }
    }
    log(ERR, KASAN_LINE);
    this.addTaint(TAINT_BIT.BAD_PAGE, true, log);
    const title = `KASAN: ${kind} ${rw} in ${site.fn}`;
    this.checkPanicOnWarn('KASAN', ctx, { title, type: 'KASAN', frame: site.fn, module: site.module, seq });
    this.pushRecord(this.s.reports, this.makeRecord(seq, title, 'KASAN', site.fn, site.module, false), MAX_REPORTS);
    this.saveRng();
  }

  // ---------------------------------------------------------------- lockdep

  private lockAddr(site: FaultSite, lock: string): string {
    const m = this.k.modules.find(site.module);
    const base = MODULES_VADDR + BigInt(m ? m.base : 0x600000);
    return h16(base + 0x2000n + BigInt(hashStr(lock) % 0x100) * 0x10n);
  }

  private lockInversion(site: FaultSite, ctx: FaultCtx, locks: [string, string]): void {
    if (!this.lockdepOn()) return; // one task taking A->B then B->A does not deadlock: unnoticed
    const [a, b] = locks;
    const { log, seq } = this.begin();
    const sym = moduleSym(this.k, site.module, site.fn);
    const cls = (l: string): string => `(${l}){+.+.}-{3:3}`;
    const at = (off: number): string => `at: ${symStr(sym, off)}`;
    const offB = Math.max(1, sym.off - 0x14);
    const offA = sym.off;
    const task = `${ctx.comm}/${ctx.pid}`;
    const callers = ctx.frames.filter((f) => !f.startsWith('? '));
    log(WARNING, '');
    log(WARNING, '======================================================');
    log(WARNING, 'WARNING: possible circular locking dependency detected');
    log(WARNING, `${KERNEL_RELEASE} ${versionShort()} ${printTainted(this.taint())}`);
    log(WARNING, '------------------------------------------------------');
    log(WARNING, `${task} is trying to acquire lock:`);
    log(WARNING, `${this.lockAddr(site, a)} ${cls(a)}, ${at(offA)}`);
    log(WARNING, '');
    log(WARNING, 'but task is already holding lock:');
    log(WARNING, `${this.lockAddr(site, b)} ${cls(b)}, ${at(offB)}`);
    log(WARNING, '');
    log(WARNING, 'which lock already depends on the new lock.');
    log(WARNING, '');
    log(WARNING, '');
    log(WARNING, 'the existing dependency chain (in reverse order) is:');
    log(WARNING, '');
    const other = moduleSym(this.k, site.module, `${site.module}_init`, 'lockdep');
    log(WARNING, `-> #1 ${cls(b)}:`);
    for (const f of [
      '__mutex_lock+0x8c/0x8e0',
      `${site.fn}+0x${Math.max(1, sym.off - 0x40).toString(16)}/0x${sym.size.toString(16)} [${site.module}]`,
      symStr(other),
      'do_one_initcall+0x59/0x220',
      'do_init_module+0x4a/0x1f0',
      '__do_sys_finit_module+0xac/0x120',
      'do_syscall_64+0x5d/0xb0',
      'entry_SYSCALL_64_after_hwframe+0x6e/0xd8',
    ])
      log(WARNING, `       ${f}`);
    log(WARNING, '');
    log(WARNING, `-> #0 ${cls(a)}:`);
    for (const f of ['__lock_acquire+0x1164/0x1f20', 'lock_acquire+0xd3/0x2f0', '__mutex_lock+0x8c/0x8e0', symStr(sym), ...callers])
      log(WARNING, `       ${f}`);
    log(WARNING, '');
    log(WARNING, 'other info that might help us debug this:');
    log(WARNING, '');
    log(WARNING, ' Possible unsafe locking scenario:');
    log(WARNING, '');
    log(WARNING, '       CPU0                    CPU1');
    log(WARNING, '       ----                    ----');
    log(WARNING, `  lock(${b});`);
    log(WARNING, `                               lock(${a});`);
    log(WARNING, `                               lock(${b});`);
    log(WARNING, `  lock(${a});`);
    log(WARNING, '');
    log(WARNING, ' *** DEADLOCK ***');
    log(WARNING, '');
    log(WARNING, `1 lock held by ${task}:`);
    log(WARNING, ` #0: ${this.lockAddr(site, b)} ${cls(b)}, ${at(offB)}`);
    log(WARNING, '');
    log(WARNING, 'stack backtrace:');
    this.header(ctx, log);
    this.trace(
      ctx,
      [
        'dump_stack_lvl+0x5b/0x77',
        'check_noncircular+0xfe/0x110',
        '__lock_acquire+0x1164/0x1f20',
        'lock_acquire+0xd3/0x2f0',
        '? ' + symStr(sym),
        '__mutex_lock+0x8c/0x8e0',
        '? ' + symStr(sym),
        symStr(sym),
        ...ctx.frames,
      ],
      log,
    );
    this.s.lockdepOff = true; // debug_locks_off(): one splat per boot
    this.pushRecord(
      this.s.reports,
      this.makeRecord(seq, `possible deadlock in ${site.fn}`, 'LOCKDEP', site.fn, site.module, false),
      MAX_REPORTS,
    );
    this.saveRng();
  }

  /** A sleeping call (mutex_lock, msleep) under a spinlock. */
  private sleepInAtomic(site: FaultSite, ctx: FaultCtx): void {
    const { log, seq } = this.begin();
    const sym = moduleSym(this.k, site.module, site.fn);
    const lockOff = Math.max(1, sym.off - 0x18);
    const lockIp = sym.addr + BigInt(lockOff);
    let title: string;
    if (this.k.config.debug?.lockdep) {
      // CONFIG_DEBUG_ATOMIC_SLEEP: __might_resched()
      log(ERR, 'BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580');
      log(ERR, `in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: ${ctx.pid}, name: ${ctx.comm}`);
      log(ERR, `preempt_count: ${ctx.irq ? '101' : '1'}, expected: 0`);
      log(ERR, 'RCU nest depth: 0, expected: 0');
      log(WARNING, `1 lock held by ${ctx.comm}/${ctx.pid}:`);
      log(WARNING, ` #0: ${this.lockAddr(site, `${site.module}_lock`)} (${site.module}_lock){+.+.}-{2:2}, at: ${symStr(sym, lockOff)}`);
      log(ERR, 'Preemption disabled at:');
      log(ERR, `[<${h16(lockIp)}>] ${symStr(sym, lockOff)}`);
      this.header(ctx, log);
      this.trace(
        ctx,
        [
          'dump_stack_lvl+0x5b/0x77',
          '__might_resched.cold+0xcc/0xdf',
          '__mutex_lock+0x4f/0x8e0',
          '? ' + symStr(sym),
          symStr(sym),
          ...ctx.frames,
        ],
        log,
      );
      title = `BUG: sleeping function called from invalid context in ${site.fn}`;
    } else {
      // __schedule_bug(): the sleep really schedules with the spinlock held
      log(ERR, `BUG: scheduling while atomic: ${ctx.comm}/${ctx.pid}/0x${ctx.irq ? '00000101' : '00000002'}`);
      log(WARNING, modulesLinkedIn(this.k, this.s.lastUnloaded));
      this.header(ctx, log);
      this.trace(
        ctx,
        [
          'dump_stack_lvl+0x44/0x5c',
          '__schedule_bug.cold+0x47/0x53',
          '__schedule+0x6f5/0xa00',
          'schedule+0x5a/0xd0',
          'schedule_hrtimeout_range_clock+0xa0/0x120',
          '? hrtimer_init_sleeper+0x80/0x80',
          'usleep_range_state+0x62/0x90',
          symStr(sym),
          ...ctx.frames,
        ],
        log,
      );
      title = `BUG: scheduling while atomic in ${site.fn}`;
    }
    this.addTaint(TAINT_BIT.WARN, false, log);
    this.pushRecord(this.s.reports, this.makeRecord(seq, title, 'ATOMIC-SLEEP', site.fn, site.module, false), MAX_REPORTS);
    this.saveRng();
  }

  // ---------------------------------------------------------------- hung tasks

  private hang(site: FaultSite, ctx: FaultCtx): never {
    const t = this.k.sched.task(site.pid);
    if (t && t.state !== 'Z' && t.state !== 'X') {
      try {
        this.k.sched.setTaskState(site.pid, 'D');
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
      }
    }
    const sym = moduleSym(this.k, site.module, site.fn);
    this.s.hung.push({
      pid: ctx.pid,
      comm: ctx.comm,
      ppid: t?.ppid ?? 1,
      cpu: ctx.cpu,
      since: this.k.now,
      module: site.module,
      fn: site.fn,
      ctx: [symStr(sym), ...ctx.frames],
      user: ctx.user,
      orig: ctx.orig,
    });
    this.armHung();
    this.saveRng();
    throw new TaskBlocked(ctx.pid);
  }

  /** khungtaskd's next wake-up (every hung_task_check_interval_secs, else hung_task_timeout_secs). */
  private armHung(): void {
    if (this.s.hungCheckAt !== undefined || this.s.crashed) return;
    const timeout = this.sysctlInt('kernel/hung_task_timeout_secs', 120);
    const interval = this.sysctlInt('kernel/hung_task_check_interval_secs', 0) || timeout || 120;
    const step = interval * 1e9;
    const at = (Math.floor(this.k.now / step) + 1) * step;
    this.s.hungCheckAt = at;
    this.k.timers.add(at, 'faults.hung');
  }

  /** check_hung_uninterruptible_tasks() */
  private hungCheck(): void {
    this.s.hungCheckAt = undefined;
    if (this.s.crashed) return;
    // a task that left (the machine layer reaped it) is no longer watched
    this.s.hung = this.s.hung.filter((h) => {
      const t = this.k.sched.task(h.pid);
      return !t || (t.state !== 'Z' && t.state !== 'X');
    });
    const timeout = this.sysctlInt('kernel/hung_task_timeout_secs', 120);
    if (timeout > 0) {
      let panicNow = false;
      let origin: PanicOptions['origin'];
      for (const h of this.hungCandidates()) {
        const blocked = this.k.now - h.since;
        if (blocked < timeout * 1e9) continue;
        const warnings = this.sysctlInt('kernel/hung_task_warnings', 10);
        if (warnings === 0) continue;
        if (warnings > 0) this.k.sysctl.write('kernel/hung_task_warnings', String(warnings - 1));
        const { log, seq } = this.begin();
        log(ERR, `INFO: task ${h.comm.slice(0, 15)}:${h.pid} blocked for more than ${Math.floor(blocked / 1e9)} seconds.`);
        log(ERR, `      ${printTainted(this.taint())} ${KERNEL_RELEASE} ${versionShort()}`);
        log(ERR, '"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.');
        for (const l of h.lines) log(INFO, l);
        const title = `INFO: task hung in ${h.fn}`;
        if (this.sysctlInt('kernel/hung_task_panic', 0)) {
          panicNow = true;
          origin ??= { title, type: 'HANG', frame: h.fn, module: h.module, seq };
        } else {
          this.pushRecord(this.s.reports, this.makeRecord(seq, title, 'HANG', h.fn, h.module, false), MAX_REPORTS);
        }
      }
      if (panicNow) {
        const kh = this.k.sched.allTasks().find((t) => t.comm === 'khungtaskd');
        this.panic('hung_task: blocked tasks', {
          origin,
          pid: kh?.pid ?? 0,
          cpu: kh?.cpu ?? 0,
          frames: [
            'watchdog.cold+0x1ed/0x2a2',
            '? proc_dohung_task_timeout_secs+0x40/0x40',
            'kthread+0xda/0x100',
            '? kthread_complete_and_exit+0x20/0x20',
            'ret_from_fork+0x22/0x30',
          ],
        });
        return;
      }
    }
    this.armHung();
  }

  /**
   * Every task in D state and since when: the ones a behaviour blocked, and
   * the scheduler's tasks in a long uninterruptible sleep (a block/io step).
   */
  private hungCandidates(): { pid: number; comm: string; since: number; fn: string; module?: string; lines: string[] }[] {
    const out: { pid: number; comm: string; since: number; fn: string; module?: string; lines: string[] }[] = this.s.hung.map((h) => ({
      pid: h.pid,
      comm: h.comm,
      since: h.since,
      fn: h.fn,
      module: h.module,
      lines: this.blockedTaskLines(h),
    }));
    const mine = new Set(out.map((h) => h.pid));
    for (const t of this.k.sched.allTasks()) {
      if (mine.has(t.pid) || t.state !== 'D' || !t.prog) continue;
      const st = t.prog.steps[t.prog.pc];
      if (!st || (st.op !== 'block' && st.op !== 'io') || !(t.prog.until > 0)) continue;
      const lines = showTask(this.k, t);
      const fn = (lines.find((l) => /^ [a-z_]\w*\+0x/.test(l) && !/^ (__schedule|schedule|io_schedule)\w*\+/.test(l)) ?? ' schedule+')
        .trim()
        .replace(/\+.*$/, '');
      out.push({ pid: t.pid, comm: t.comm, since: t.prog.until - st.ns, fn, lines });
    }
    return out;
  }

  /** sched_show_task() of a hung task: its header and where it sleeps (in the module). */
  private blockedTaskLines(h: HungTask): string[] {
    const flags = h.user ? 0x00004002 : 0x00004000;
    const out = [
      `task:${h.comm.slice(0, 15).padEnd(15)} state:D stack:${'0'.padEnd(5)} pid:${String(h.pid).padEnd(5)} ppid:${String(h.ppid).padEnd(6)} flags:0x${flags.toString(16).padStart(8, '0')}`,
      'Call Trace:',
      ' <TASK>',
      ' __schedule+0x34d/0xa00',
      ' schedule+0x5a/0xd0',
      ' schedule_preempt_disabled+0x11/0x20',
      ' __mutex_lock.constprop.0+0x399/0x700',
      ...h.ctx.map((f) => ` ${f}`),
    ];
    if (h.user) out.push(...userRegs(this.k, h.pid, h.orig));
    out.push(' </TASK>');
    return out;
  }

  /** Lines of every hung task for sysrq-w (show_state_filter(TASK_UNINTERRUPTIBLE)); pids listed. */
  hungTaskDump(): { pid: number; lines: string[] }[] {
    return this.s.hung.map((h) => ({ pid: h.pid, lines: this.blockedTaskLines(h) }));
  }

  // ---------------------------------------------------------------- sysrq

  /**
   * A SysRq key. Default: the keyboard/serial-break path, which honours
   * kernel.sysrq ("This sysrq operation is disabled."); /proc/sysrq-trigger
   * passes {checkMask: false, pid}. 'c' panics (and throws TaskDeath when a
   * task wrote it); 'b'/'o' set rebootAtNs/rebootReason for the machine layer.
   */
  sysrq(key: string, opts: SysrqOptions = {}): void {
    handleSysrq(this.k, this, key, opts);
  }

  /** sysrq-b / sysrq-o: emergency_restart() / kernel_power_off() (the machine layer acts on it). */
  requestReboot(reason: 'sysrq' | 'poweroff'): void {
    this.s.rebootReason = reason;
    this.s.rebootAtNs = this.k.now;
  }

  /** Per-report log helper for sysrq and others in this directory. */
  logger(): { log: (level: number, text: string) => void; seq: number } {
    return this.begin();
  }

  get addressSpace(): AddressSpace {
    return this.s.as;
  }

  // ---------------------------------------------------------------- snapshots

  getState(): FaultsState {
    this.saveRng();
    return clone(this.s);
  }

  setState(s: FaultsState | undefined): void {
    if (s) {
      this.s = clone(s);
      this.rng.setState(this.s.rng);
    }
    // the timer queue came from the snapshot: khungtaskd must be in it (older snapshots lack it)
    const pending = this.k.timers.getState().heap.some((t) => t.kind === 'faults.hung');
    if (!pending) {
      this.s.hungCheckAt = undefined;
      this.armHung();
    }
  }
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function fmtRecord(r: LogRecord): string[] {
  const ts = `[${printkTime(r.tsNs)}] `;
  return r.text.split('\n').map((l, i) => (i === 0 ? ts + l : ' '.repeat(ts.length) + l));
}

/** The module's source file as BUG()/WARN() print it (an out-of-tree build directory). */
function srcFile(site: FaultSite): string {
  return `/build/${site.module}/${site.module}.c`;
}

function srcLine(site: FaultSite): number {
  return 12 + (hashStr(`${site.module}:${site.fn}:line`) % 180);
}

/** kmalloc_index(): the kmalloc-N cache of a request. */
export function kmallocCache(size: number): number {
  if (size <= 8) return 8;
  if (size > 64 && size <= 96) return 96;
  if (size > 128 && size <= 192) return 192;
  let n = 16;
  while (n < size) n *= 2;
  return n;
}

/** optimal_redzone() of generic KASAN. */
function kasanRedzone(size: number): number {
  if (size <= 64 - 16) return 16;
  if (size <= 128 - 32) return 32;
  if (size <= 512 - 64) return 64;
  if (size <= 4096 - 128) return 128;
  return 256;
}

/** The shadow byte of the granule at `within` of an object with `size` usable bytes. */
function granule(within: number, size: number): string {
  if (within + 8 <= size) return '00';
  if (within < size) return (size - within).toString(16).padStart(2, '0');
  return 'fc';
}
