/**
 * Task stacks: /proc/<pid>/stack and the sysrq-t "Show State" dump
 * (sched_show_task() for every task, then the scheduler debug dump).
 * Kernel-thread traces come from the reference kernel (data/sched-stacks.ts);
 * user tasks sleep in a handful of syscalls whose traces are listed here.
 */
import { KERNEL_STACKS_FALLBACK, USER_STACKS } from './stacks';
import { KTHREAD_STACKS } from '../data/sched-stacks';
import type { Kernel } from '../kernel';
import { renderSchedDebug } from './debugfs';
import { PF, type Task } from './task';

/** __sched functions: stack_trace_save_tsk() skips them for a sleeping task. */
const SCHED_FUNCS = new Set(['__schedule', 'schedule', 'schedule_timeout', 'schedule_hrtimeout_range_clock', 'io_schedule', 'do_nanosleep', 'schedule_preempt_disabled']);

/** The call-trace frames of a sleeping task (with the unreliable "? " ones). */
export function taskFrames(t: Task): readonly string[] {
  if (t.kthread) return KTHREAD_STACKS[t.wchan] ?? KERNEL_STACKS_FALLBACK[t.wchan] ?? KERNEL_STACKS_FALLBACK.kthread;
  return USER_STACKS[t.wchan] ?? USER_STACKS.do_wait;
}

/** /proc/<pid>/stack: reliable frames only, scheduler functions skipped; empty while running. */
export function renderTaskStack(k: Kernel, t: Task): string {
  if (t.state === 'Z' || k.sched.displayState(t) === 'R') return '';
  return taskFrames(t)
    .filter((f) => !f.startsWith('? ') && !SCHED_FUNCS.has(f.replace(/\+.*$/, '')))
    .map((f) => `[<0>] ${f}\n`)
    .join('');
}

const h16 = (v: number): string => Math.max(0, Math.floor(v)).toString(16).padStart(16, '0');

/** The user register block sched_show_task() prints for a task in a syscall. */
function userRegs(k: Kernel, t: Task): string[] {
  const p = k.sched.proc(t.tgid);
  const r = (p?.aslr ?? t.pid) >>> 0;
  const libc = 0x7f0000000000 + (r % 0xfffff) * 0x1000;
  const rip = libc + 0xe4a3d + ((t.pid * 0x40) % 0x4000);
  const sp = 0x7ffc00000000 + ((r >>> 3) % 0x3ffffff) * 0x10;
  const nr: Record<string, number> = { ep_poll: 232, do_sys_poll: 7, hrtimer_nanosleep: 230, do_wait: 61, wait_woken: 0, folio_wait_bit_common: 0 };
  const orig = nr[t.wchan] ?? 0;
  return [
    `RIP: 0033:0x${rip.toString(16)}`,
    `Code: Unable to access opcode bytes at 0x${(rip - 0x16).toString(16)}.`,
    `RSP: 002b:${h16(sp)} EFLAGS: 00000246 ORIG_RAX: ${h16(orig)}`,
    `RAX: ffffffffffffffda RBX: ${h16(sp + 0x90)} RCX: ${h16(rip)}`,
    `RDX: ${h16(t.wchan === 'ep_poll' ? 0x10 : 0)} RSI: ${h16(sp + 0x20)} RDI: ${h16(t.wchan === 'ep_poll' ? 4 : 0)}`,
    `RBP: ${h16(sp + 0x60)} R08: 0000000000000000 R09: ${h16(libc + 0x1d2a60)}`,
    `R10: ffffffffffffffff R11: 0000000000000246 R12: ${h16(sp + 0x30)}`,
    `R13: 0000000000000000 R14: ${h16(0x558000000000 + (r % 0xffffff) * 0x1000)} R15: 0000000000000001`,
  ];
}

/** sched_show_task() for one task. */
export function showTask(k: Kernel, t: Task): string[] {
  const s = k.sched;
  const state = s.displayState(t);
  const running = state === 'R';
  const ppid = t.ppid;
  const flags = t.kthread ? 0x4000 : 0;
  const out: string[] = [
    `task:${t.comm.slice(0, 15).padEnd(15)} state:${state}${running ? '  running task    ' : ''} stack:${'0'.padEnd(5)} pid:${String(t.pid).padEnd(5)} ppid:${String(ppid).padEnd(6)} flags:0x${flags.toString(16).padStart(8, '0')}`,
  ];
  if (t.flags & PF.WQ_WORKER && t.wq) out.push(`Workqueue:  0x0 (${t.wq})`);
  if (/^migration\/\d+$/.test(t.comm)) out.push('Stopper: 0x0 <- 0x0');
  if (t.state === 'Z') return out;
  out.push('Call Trace:', ' <TASK>');
  if (running && !t.kthread) {
    out.push(' ? exit_to_user_mode_prepare+0x44/0x240', ' ? irqentry_exit_to_user_mode+0x5/0x20', ' ? asm_sysvec_apic_timer_interrupt+0x16/0x20');
  } else {
    for (const f of taskFrames(t)) out.push(` ${f}`);
  }
  if (!t.kthread) out.push(...userRegs(k, t));
  out.push(' </TASK>');
  return out;
}

/**
 * The lines sysrq-t logs after "sysrq: Show State": every task, the scheduler
 * dump, and the (here always empty) busy workqueue list. Empty strings are the
 * blank lines the kernel prints inside the dump.
 */
export function renderShowTasks(k: Kernel): string[] {
  const out: string[] = [];
  for (const t of k.sched.allTasks()) out.push(...showTask(k, t));
  const dump = renderSchedDebug(k).replace(/\n$/, '').split('\n');
  out.push(...dump);
  out.push('Showing busy workqueues and worker pools:');
  return out;
}
