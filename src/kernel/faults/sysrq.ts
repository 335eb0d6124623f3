/**
 * Magic SysRq (drivers/tty/sysrq.c of Linux 6.1): the key table, the
 * kernel.sysrq enable mask, and each handler's output as the reference
 * machine printed it (reference/linux-6.1/dmesg/sysrq_*, oops/panic_sysrq_c*).
 *
 * Two ways in, as in the kernel: /proc/sysrq-trigger (root; only the first
 * character counts; the kernel.sysrq mask is NOT checked, check_mask=false)
 * and the keyboard / serial break (Faults.sysrq(key), which checks the mask
 * and prints "This sysrq operation is disabled." for masked keys).
 * Task stacks for t/w come from src/kernel/sched/sysrq.ts (sched_show_task).
 */
import { KernelError } from '../errors';
import type { Kernel } from '../kernel';
import { type OomVictimInfo, oomReport } from '../mm/oom';
import { GFP_KERNEL } from '../mm/mm';
import { renderSchedDebug } from '../sched/debugfs';
import { showTask } from '../sched/sysrq';
import { SIG } from '../sched/task';
import { TaskDeath } from './contract';
import type { Faults } from './faults';
import { cpuLine, HARDWARE_NAME, syscallNoise, userRegs } from './report';
import { Rng } from '../util/rng';

/** SYSRQ_ENABLE_* bits of kernel.sysrq. */
export const SYSRQ_ENABLE = {
  LOG: 0x0002,
  KEYBOARD: 0x0004,
  DUMP: 0x0008,
  SYNC: 0x0010,
  REMOUNT: 0x0020,
  SIGNAL: 0x0040,
  BOOT: 0x0080,
  RTNICE: 0x0100,
} as const;

/** CONFIG_MAGIC_SYSRQ_DEFAULT_ENABLE of the reference kernel. */
export const SYSRQ_DEFAULT = 0x01b6;

interface SysrqOp {
  help: string;
  action: string;
  mask: number;
  /** only present on a lockdep kernel */
  lockdep?: boolean;
}

/** sysrq_key_table[] of 6.1 on the reference config ('0'-'9' share the loglevel op). */
const OPS: Readonly<Record<string, SysrqOp>> = {
  b: { help: 'reboot(b)', action: 'Resetting', mask: SYSRQ_ENABLE.BOOT },
  c: { help: 'crash(c)', action: 'Trigger a crash', mask: SYSRQ_ENABLE.DUMP },
  d: { help: 'show-all-locks(d)', action: 'Show Locks Held', mask: SYSRQ_ENABLE.DUMP, lockdep: true },
  e: { help: 'terminate-all-tasks(e)', action: 'Terminate All Tasks', mask: SYSRQ_ENABLE.SIGNAL },
  f: { help: 'memory-full-oom-kill(f)', action: 'Manual OOM execution', mask: SYSRQ_ENABLE.SIGNAL },
  i: { help: 'kill-all-tasks(i)', action: 'Kill All Tasks', mask: SYSRQ_ENABLE.SIGNAL },
  j: { help: 'thaw-filesystems(j)', action: 'Emergency Thaw of all frozen filesystems', mask: SYSRQ_ENABLE.SIGNAL },
  k: { help: 'sak(k)', action: 'SAK', mask: SYSRQ_ENABLE.KEYBOARD },
  l: { help: 'show-backtrace-all-active-cpus(l)', action: 'Show backtrace of all active CPUs', mask: SYSRQ_ENABLE.DUMP },
  m: { help: 'show-memory-usage(m)', action: 'Show Memory', mask: SYSRQ_ENABLE.DUMP },
  n: { help: 'nice-all-RT-tasks(n)', action: 'Nice All RT Tasks', mask: SYSRQ_ENABLE.RTNICE },
  o: { help: 'poweroff(o)', action: 'Power Off', mask: SYSRQ_ENABLE.BOOT },
  p: { help: 'show-registers(p)', action: 'Show Regs', mask: SYSRQ_ENABLE.DUMP },
  q: { help: 'show-all-timers(q)', action: 'Show clockevent devices & pending hrtimers (no others)', mask: SYSRQ_ENABLE.DUMP },
  r: { help: 'unraw(r)', action: 'Keyboard mode set to system default', mask: SYSRQ_ENABLE.KEYBOARD },
  s: { help: 'sync(s)', action: 'Emergency Sync', mask: SYSRQ_ENABLE.SYNC },
  t: { help: 'show-task-states(t)', action: 'Show State', mask: SYSRQ_ENABLE.DUMP },
  u: { help: 'unmount(u)', action: 'Emergency Remount R/O', mask: SYSRQ_ENABLE.REMOUNT },
  w: { help: 'show-blocked-tasks(w)', action: 'Show Blocked State', mask: SYSRQ_ENABLE.DUMP },
  z: { help: 'dump-ftrace-buffer(z)', action: 'Dump ftrace buffer', mask: SYSRQ_ENABLE.DUMP },
};

const LOGLEVEL_OP: SysrqOp = { help: 'loglevel(0-9)', action: 'Changing Loglevel', mask: SYSRQ_ENABLE.LOG };

const INFO = 6;
const WARNING = 4;

export interface SysrqOptions {
  /** check kernel.sysrq (keyboard, serial break); /proc/sysrq-trigger does not */
  checkMask?: boolean;
  /** the writing task (/proc/sysrq-trigger); absent: an interrupt on CPU 0 */
  pid?: number;
}

function opOf(k: Kernel, key: string): SysrqOp | undefined {
  if (key >= '0' && key <= '9') return LOGLEVEL_OP;
  const op = OPS[key];
  if (op?.lockdep && !k.config.debug?.lockdep) return undefined;
  return op;
}

/** The "HELP : " line: every op once, in key-table order. */
export function sysrqHelp(k: Kernel): string {
  let s = 'sysrq: HELP : ';
  s += `${LOGLEVEL_OP.help} `;
  for (const key of 'abcdefghijklmnopqrstuvwxyz') {
    const op = opOf(k, key);
    if (op) s += `${op.help} `;
  }
  return s;
}

/** sysrq_on_mask() */
function enabled(k: Kernel, mask: number): boolean {
  let v = SYSRQ_DEFAULT;
  try {
    v = Number(k.sysctl.value('kernel/sysrq'));
  } catch {
    // keep the default
  }
  return v === 1 || (v & mask) !== 0;
}

/** "0,2-3" (%*pbl) */
function cpuList(cpus: number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length;) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j] + 1) j++;
    out.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** __handle_sysrq(key, check_mask) */
export function handleSysrq(k: Kernel, f: Faults, key: string, opts: SysrqOptions = {}): void {
  f.assertAlive();
  const { log, seq } = f.logger();
  const op = opOf(k, key);
  if (!op) {
    log(INFO, sysrqHelp(k));
    return;
  }
  if (opts.checkMask !== false && !enabled(k, op.mask)) {
    log(INFO, 'sysrq: This sysrq operation is disabled.');
    return;
  }
  log(INFO, `sysrq: ${op.action}`);
  const pid = opts.pid ?? 0;
  const t = pid ? k.sched.task(pid) : undefined;
  const cpu = t?.cpu ?? 0;
  const comm = t?.comm ?? (pid ? 'sh' : `swapper/${cpu}`);
  const user = !!pid;
  const r = new Rng(`${k.config.seed}\u0000sysrq\u0000${k.now}\u0000${key}`);
  const below = user
    ? [
        'write_sysrq_trigger+0x24/0x40',
        'proc_reg_write+0x56/0xa0',
        'vfs_write+0xc7/0x3f0',
        'ksys_write+0x6b/0xf0',
        'do_syscall_64+0x5d/0xb0',
        ...syscallNoise(r),
        'entry_SYSCALL_64_after_hwframe+0x6e/0xd8',
      ]
    : [
        'serial8250_handle_irq+0x1a1/0x1d0',
        'serial8250_default_handle_irq+0x3d/0x80',
        'serial8250_interrupt+0x53/0xa0',
        '__handle_irq_event_percpu+0x46/0x190',
        'handle_irq_event+0x34/0x70',
        'handle_edge_irq+0x9f/0x240',
        '__common_interrupt+0x3c/0xa0',
        'common_interrupt+0x7b/0xa0',
        'asm_common_interrupt+0x22/0x40',
      ];
  const trace = (frames: string[], level = WARNING): void => {
    log(level, cpuLine(cpu, pid, comm, k.sysctl.tainted()));
    log(level, `Hardware name: ${HARDWARE_NAME}`);
    log(level, 'Call Trace:');
    log(level, ' <TASK>');
    for (const fr of [...frames, '__handle_sysrq.cold+0x44/0x11c', ...below]) log(level, ` ${fr}`);
    if (user) for (const l of userRegs(k, pid, 1, { rdi: 1, rdx: 2 })) log(level, l);
    log(level, ' </TASK>');
  };
  if (key >= '0' && key <= '9') {
    const lv = Number(key);
    const cur = k.printk.getConsoleLevels();
    log(INFO, `sysrq: Loglevel set to ${lv}`);
    k.printk.setConsoleLevels([lv, cur[1], cur[2], cur[3]]);
    return;
  }
  switch (key) {
    case 'b':
      f.requestReboot('sysrq');
      return;
    case 'o':
      f.requestReboot('poweroff');
      return;
    case 'c': {
      f.panic('sysrq triggered crash', {
        pid,
        cpu,
        user: user ? { orig: 1 } : undefined,
        frames: ['? _printk+0x68/0x83', 'sysrq_handle_crash+0x16/0x20', '__handle_sysrq.cold+0x44/0x11c', ...below],
        type: 'PANIC',
        frame: 'sysrq_handle_crash',
        startSeq: seq,
      });
      if (user) throw new TaskDeath(SIG.KILL, 'kernel panic');
      return;
    }
    case 'e':
    case 'i':
      sendSigAll(k, key === 'e' ? SIG.TERM : SIG.KILL);
      return;
    case 'f':
      manualOom(k, log);
      return;
    case 'l': {
      log(WARNING, `NMI backtrace for cpu ${cpu}`);
      trace([
        'dump_stack_lvl+0x44/0x5c',
        'nmi_cpu_backtrace.cold+0x32/0x79',
        '? lapic_can_unplug_cpu+0x70/0x70',
        'nmi_trigger_cpumask_backtrace+0xed/0x100',
      ]);
      const others = Array.from({ length: k.config.cpus }, (_, i) => i).filter((c) => c !== cpu);
      if (!others.length) return;
      log(INFO, `Sending NMI from CPU ${cpu} to CPUs ${cpuList(others)}:`);
      for (const c of others) {
        const cur = k.sched.curr(c);
        const ct = cur ? k.sched.task(cur) : undefined;
        if (!ct) {
          log(WARNING, `NMI backtrace for cpu ${c} skipped: idling at native_safe_halt+0xb/0x10`);
          continue;
        }
        log(WARNING, `NMI backtrace for cpu ${c}`);
        log(WARNING, cpuLine(c, ct.pid, ct.comm, k.sysctl.tainted()));
        log(WARNING, `Hardware name: ${HARDWARE_NAME}`);
        if (!ct.kthread) for (const l of userRegs(k, ct.pid, 0)) log(WARNING, l.replace(/ ORIG_RAX: [0-9a-f]+$/, ''));
      }
      return;
    }
    case 'm':
      k.mm.showMem();
      return;
    case 'n':
      for (const tk of k.sched.allTasks()) {
        if (tk.kthread || (tk.policy !== 1 && tk.policy !== 2)) continue;
        try {
          k.sched.setPolicy(tk.pid, 0);
        } catch (e) {
          if (!(e instanceof KernelError)) throw e;
        }
      }
      return;
    case 's':
      log(INFO, 'Emergency Sync complete');
      return;
    case 'u':
      log(INFO, 'Emergency Remount complete');
      return;
    case 't':
      showState(k, f, log, false);
      return;
    case 'w':
      showState(k, f, log, true);
      return;
    case 'd':
      log(WARNING, '');
      log(WARNING, 'Showing all locks held in the system:');
      log(WARNING, '');
      log(WARNING, '=============================================');
      log(WARNING, '');
      return;
    case 'z':
      log(WARNING, 'Dumping ftrace buffer:');
      log(WARNING, '   (ftrace buffer empty)');
      return;
    default:
      return;
  }
}

/** send_sig_all(): every user process but init. */
function sendSigAll(k: Kernel, sig: number): void {
  for (const t of [...k.sched.allTasks()]) {
    if (t.kthread || t.pid === 1 || t.pid !== t.tgid || t.state === 'Z') continue;
    try {
      k.sched.kill(t.pid, sig);
    } catch (e) {
      if (!(e instanceof KernelError)) throw e;
    }
  }
}

/** moom_callback(): out_of_memory() with order -1 from a kworker. */
function manualOom(k: Kernel, log: (level: number, text: string) => void): void {
  let victim: number | undefined;
  let best = 0;
  for (const t of [...k.sched.allTasks()].sort((a, b) => a.pid - b.pid)) {
    if (t.kthread || t.pid === 1 || t.pid !== t.tgid) continue;
    const score = k.mm.oomScore(t.pid);
    if (score > best && k.mm.taskMem(t.pid)) {
      best = score;
      victim = t.pid;
    }
  }
  if (victim === undefined) {
    log(INFO, 'OOM request ignored. No task eligible');
    return;
  }
  const t = k.sched.task(victim);
  const mem = k.mm.taskMem(victim);
  if (!t || !mem) return;
  const info: OomVictimInfo = {
    pid: victim,
    comm: t.comm,
    uid: t.uid,
    oomScoreAdj: t.oomScoreAdj,
    mem: { ...mem },
    message: 'Out of memory',
  };
  oomReport(k, k.mm, k.mm.stats(), { gfp: GFP_KERNEL, order: -1 }, info, 'full');
  try {
    k.sched.kill(victim, SIG.KILL);
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
  }
  log(INFO, `oom_reaper: reaped process ${victim} (${t.comm}), now anon-rss:0kB, file-rss:0kB, shmem-rss:${mem.rssShmemPages * 4}kB`);
}

/** show_state_filter(): every task (t) or the blocked ones (w), task lines at KERN_INFO. */
function showState(k: Kernel, f: Faults, log: (level: number, text: string) => void, blockedOnly: boolean): void {
  const hung = new Map(f.hungTaskDump().map((h) => [h.pid, h.lines]));
  for (const t of k.sched.allTasks()) {
    const h = hung.get(t.pid);
    if (h) {
      for (const l of h) log(INFO, l);
      hung.delete(t.pid);
      continue;
    }
    if (blockedOnly && k.sched.displayState(t) !== 'D') continue;
    for (const l of showTask(k, t)) log(INFO, l);
  }
  // hung tasks the scheduler does not know (the shell's own processes)
  for (const lines of hung.values()) for (const l of lines) log(INFO, l);
  if (blockedOnly) return;
  for (const l of renderSchedDebug(k).replace(/\n$/, '').split('\n')) log(WARNING, l);
  log(INFO, 'Showing busy workqueues and worker pools:');
}
