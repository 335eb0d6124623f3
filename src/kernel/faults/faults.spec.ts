/**
 * Kernel faults against the Linux 6.1 reference (reference/linux-6.1/oops,
 * dmesg/sysrq_*): same lines in the same order, modulo addresses, values,
 * timestamps and the number of unreliable "? " frames.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { KernelError } from '../errors';
import { Kernel } from '../kernel';
import { modprobe } from '../modules/kmod';
import type { KernelConfig } from '../types';
import { TaskDeath, type FaultSite, type LabBehaviour } from './contract';
import { TaskBlocked } from './faults';
import { printTainted } from './report';

const REF = join(__dirname, '../../../../shared/reference/linux-6.1');
const ref = (p: string): string => readFileSync(join(REF, p), 'utf8');
const strip = (l: string): string => l.replace(/^\[\s*\d+\.\d+\] ?/, '');
const refLines = (p: string): string[] => ref(p).replace(/\n$/, '').split('\n').map(strip);

const cfg = (over: Partial<KernelConfig> = {}): KernelConfig => ({ cpus: 2, memoryMb: 512, seed: 'faults', hostname: 'kernelab', ...over });

/** A machine with the reference's modules loaded (ext4 and its dependencies) and a lab module stand-in (dummy). */
function machine(over: Partial<KernelConfig> = {}): { k: Kernel; insmod: number; cat: number } {
  const k = Kernel.boot(cfg(over));
  // as the reference machine was booted (panic=-1: reboot at once, no "end Kernel panic" line)
  k.sysctl.write('kernel/panic', '-1');
  modprobe(k, ['ext4']);
  modprobe(k, ['dummy']);
  const insmod = k.sched.spawn(1, { path: '/sbin/insmod', argv: ['insmod', 'dummy.ko'] });
  const cat = k.sched.spawn(1, { path: '/usr/bin/cat', argv: ['cat', '/proc/dummy'] });
  k.advance(1e9);
  return { k, insmod, cat };
}

/** Log lines since `seq`, without timestamps (continuation lines of one record split). */
function logSince(k: Kernel, seq: number): string[] {
  return k.printk.since(seq).flatMap((r) => r.text.split('\n'));
}

/** What a line is, values removed. Runs of call-trace frames collapse to one FRAMES token. */
function shape(lines: string[]): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    let l = raw
      .replace(/Not tainted|Tainted: [A-Z ]{19}/, 'TAINT')
      .replace(/Comm: \S+/, 'Comm: C')
      .replace(/by task \S+\/\d+/, 'by task T')
      .replace(
        /^Modules linked in:.*?( \[last unloaded: \S+\])?$/,
        (_m, last: string | undefined) => `Modules linked in: LIST${last ? ' LAST' : ''}`,
      )
      .replace(/^Code: .*$/, 'Code: BYTES')
      .replace(/[\w.]+\+0x[0-9a-f]+\/0x[0-9a-f]+ \[\w+\]/g, 'SYM')
      .replace(/ at \/\S+:\d+/, ' at FILE:N')
      .replace(/0x[0-9a-f]+/g, 'H')
      .replace(/[0-9a-f]{16}/g, 'X')
      .replace(/\d+/g, 'N');
    if (/^ (\? )?([\w.]+\+H\/H|SYM)$/.test(l) || /^ \? H$/.test(l)) l = 'FRAMES';
    if (l === 'FRAMES' && out[out.length - 1] === 'FRAMES') continue;
    out.push(l);
  }
  return out;
}

/** A module loaded and unloaded: "[last unloaded: loop]" as in the reference's later reports. */
function unloadOne(k: Kernel): void {
  modprobe(k, ['loop']);
  modprobe(k, ['-r', 'loop']);
}

const site = (pid: number, fn = 'dummy_do_oops'): FaultSite => ({ module: 'dummy', fn, pid });

function run(k: Kernel, b: LabBehaviour, s: FaultSite): unknown {
  try {
    k.faults.runBehaviour(b, s);
    return undefined;
  } catch (e) {
    return e;
  }
}

const TAINT_D = 1 << 7;
const TAINT_W = 1 << 9;
const TAINT_B = 1 << 5;

describe('oops reports match the reference', () => {
  it('WARN_ON(): cut here, WARNING, modules, registers, trace, end trace; taints W; the task lives', () => {
    const { k, insmod } = machine();
    const seq = k.printk.nextSeq;
    expect(run(k, { kind: 'warn', on: 'load' }, site(insmod, 'dummy_init'))).toBeUndefined();
    const ours = logSince(k, seq);
    const theirs = refLines('oops/dmesg_warn.txt');
    const from = theirs.indexOf('------------[ cut here ]------------');
    // WARN(1, "krefcrash: test warning\n") prints its message; WARN_ON() does not
    const ref2 = theirs.slice(from).filter((l) => l !== 'krefcrash: test warning');
    expect(shape(ours)).toEqual(shape(ref2));
    expect(ours).toContain('---[ end trace 0000000000000000 ]---');
    expect(ours.find((l) => l.startsWith('WARNING: CPU:'))).toMatch(
      /^WARNING: CPU: \d+ PID: \d+ at \/build\/dummy\/dummy\.c:\d+ dummy_init\+0x[0-9a-f]+\/0x1000 \[dummy\]$/,
    );
    expect(k.sysctl.tainted() & TAINT_W).toBeTruthy();
    expect(k.sysctl.tainted() & TAINT_D).toBeFalsy();
    expect(k.faults.reports().map((r) => [r.type, r.title])).toEqual([['WARNING', 'WARNING in dummy_init']]);
  });

  it('NULL pointer dereference: #PF lines, Oops [#1], CR2, executive summary; the task is killed (SIGKILL, "Killed")', () => {
    const { k, insmod } = machine();
    run(k, { kind: 'warn', on: 'load' }, site(insmod, 'dummy_init'));
    unloadOne(k);
    const seq = k.printk.nextSeq;
    const e = run(k, { kind: 'null-deref', on: 'load' }, site(insmod));
    expect(e).toBeInstanceOf(TaskDeath);
    expect((e as TaskDeath).signal).toBe(9); // reference: insmod "Killed", exit status 137
    const ours = logSince(k, seq);
    const theirs = refLines('oops/dmesg_oops.txt');
    const ref2 = theirs.slice(theirs.findIndex((l) => l.startsWith('BUG: kernel NULL')));
    expect(shape(ours)).toEqual(shape(ref2));
    expect(ours[0]).toBe('BUG: kernel NULL pointer dereference, address: 0000000000000000');
    expect(ours).toContain('Oops: 0002 [#1] PREEMPT SMP NOPTI');
    expect(ours).toContain('CR2: 0000000000000000');
    expect(ours.find((l) => l.startsWith('CPU:'))).toMatch(
      /^CPU: \d PID: \d+ Comm: insmod Tainted: G {8}W {10}6\.1\.0-56-amd64 #1 {2}Debian 6\.1\.192-2$/,
    );
    expect(ours.find((l) => l.startsWith('Modules linked in:'))).toMatch(
      /^Modules linked in: dummy ext4 crc16 mbcache jbd2 crc32c_\w+( crc32c_\w+)? \[last unloaded: loop\]$/,
    );
    expect(ours.find((l) => l.startsWith('RIP: 0010:'))).toMatch(/^RIP: 0010:dummy_do_oops\+0x[0-9a-f]+\/0x[0-9a-f]+ \[dummy\]$/);
    expect(ours.some((l) => /^ dummy_init\+0x[0-9a-f]+\/0x1000 \[dummy\]$/.test(l))).toBe(true);
    // the executive summary repeats the registers of the oops
    const rip = ours.filter((l) => l.startsWith('RIP: 0010:'));
    expect(rip).toHaveLength(2);
    expect(k.sysctl.tainted() & TAINT_D).toBeTruthy();
    expect(k.faults.crashed).toBe(false);
    const r = k.faults.reports().at(-1)!;
    expect(r).toMatchObject({
      type: 'NULL-PTR-DEREF',
      title: 'BUG: kernel NULL pointer dereference in dummy_do_oops',
      frame: 'dummy_do_oops',
      module: 'dummy',
      panic: false,
      taint: 'DW',
    });
    expect(r.report).toMatch(/^\[\s*\d+\.\d{6}\] BUG: kernel NULL pointer dereference/);
    expect(() => k.faults.assertAlive()).not.toThrow();
  });

  it('BUG(): kernel BUG at, invalid opcode [#2], the first oops in the summary; SIGSEGV', () => {
    const { k, insmod } = machine();
    run(k, { kind: 'warn', on: 'load' }, site(insmod, 'dummy_init'));
    unloadOne(k);
    run(k, { kind: 'null-deref', on: 'load' }, site(insmod));
    const seq = k.printk.nextSeq;
    const e = run(k, { kind: 'bug', on: 'load' }, site(insmod, 'dummy_init'));
    expect((e as TaskDeath).signal).toBe(11); // reference: insmod "Segmentation fault", 139
    const ours = logSince(k, seq);
    const theirs = refLines('oops/dmesg_bug.txt');
    expect(shape(ours)).toEqual(shape(theirs.slice(theirs.indexOf('------------[ cut here ]------------'))));
    expect(ours).toContain('invalid opcode: 0000 [#2] PREEMPT SMP NOPTI');
    expect(ours.find((l) => l.startsWith('kernel BUG at'))).toMatch(/^kernel BUG at \/build\/dummy\/dummy\.c:\d+!$/);
    expect(ours.find((l) => l.startsWith('CPU:'))).toContain('Tainted: G      D W');
    // the summary after the end marker shows the first oops' RIP, like the reference
    const after = ours.slice(ours.indexOf('---[ end trace 0000000000000000 ]---') + 1);
    expect(after[0]).toMatch(/^RIP: 0010:dummy_do_oops\+/);
    expect(k.faults.reports().at(-1)!.title).toBe('kernel BUG in dummy_init');
  });

  it('taint values follow the reference (W = 512, D = 128) and print_tainted pads all 19 flags', () => {
    expect(printTainted(0)).toBe('Not tainted');
    expect(printTainted(12800)).toBe('Tainted: G        W  OE     ');
    expect(printTainted(12928)).toBe('Tainted: G      D W  OE     ');
    const { k, insmod } = machine();
    const before = k.sysctl.tainted();
    run(k, { kind: 'warn', on: 'load' }, site(insmod, 'dummy_init'));
    expect(k.sysctl.tainted()).toBe(before | 512);
    run(k, { kind: 'null-deref', on: 'load' }, site(insmod));
    expect(k.sysctl.tainted()).toBe(before | 512 | 128);
    expect(k.vfs.readFile(k.rootCtx(), '/proc/sys/kernel/tainted')).toBe(`${before | 640}\n`);
  });

  it('read/write/unload/periodic contexts give their syscall or workqueue traces', () => {
    const { k, cat } = machine();
    let seq = k.printk.nextSeq;
    run(k, { kind: 'warn', on: { read: '/proc/dummy' } }, site(cat, 'dummy_read'));
    let ours = logSince(k, seq);
    expect(ours).toContain(' proc_reg_read+0x56/0xa0');
    expect(ours.find((l) => l.startsWith('RSP: 002b:'))).toMatch(/ORIG_RAX: 0000000000000000$/);
    seq = k.printk.nextSeq;
    run(k, { kind: 'warn', on: { write: '/sys/kernel/dummy/x' } }, site(cat, 'dummy_store'));
    ours = logSince(k, seq);
    expect(ours).toContain(' kernfs_fop_write_iter+0x11c/0x1f0');
    expect(ours.find((l) => l.startsWith('RSP: 002b:'))).toMatch(/ORIG_RAX: 0000000000000001$/);
    seq = k.printk.nextSeq;
    run(k, { kind: 'warn', on: { everyMs: 100 } }, site(cat, 'dummy_work'));
    ours = logSince(k, seq);
    expect(ours).toContain('Workqueue: events dummy_work [dummy]');
    expect(ours).toContain(' worker_thread+0x4d/0x380');
    expect(ours.some((l) => l.startsWith('RIP: 0033:'))).toBe(false);
    seq = k.printk.nextSeq;
    run(k, { kind: 'warn', on: 'unload' }, site(cat, 'dummy_cleanup'));
    ours = logSince(k, seq);
    expect(ours.some((l) => /^ dummy_exit\+0x[0-9a-f]+\/0x[0-9a-f]+ \[dummy\]$/.test(l))).toBe(true);
    expect(ours).toContain(' __do_sys_delete_module.constprop.0+0x178/0x280');
  });

  it('a timer callback (pid 0) runs in TIMER_SOFTIRQ on the idle task: <IRQ> frames, then the interrupted idle loop', () => {
    const { k } = machine();
    const seq = k.printk.nextSeq;
    expect(run(k, { kind: 'warn', on: { everyMs: 100 } }, site(0, 'dummy_timer_fn'))).toBeUndefined();
    const ours = logSince(k, seq);
    expect(ours.find((l) => l.startsWith('CPU:'))).toMatch(/^CPU: 0 PID: 0 Comm: swapper\/0 /);
    const open = ours.indexOf(' <IRQ>');
    expect(ours[open - 1]).toBe('Call Trace:');
    expect(ours.slice(open + 1, open + 3)).toEqual([' call_timer_fn+0x27/0x130', ' __run_timers+0x221/0x2b0']);
    const close = ours.indexOf(' </IRQ>');
    expect(ours.slice(close, close + 4)).toEqual([
      ' </IRQ>',
      ' <TASK>',
      ' asm_sysvec_apic_timer_interrupt+0x16/0x20',
      'RIP: 0010:native_safe_halt+0xb/0x10',
    ]);
    expect(ours).toContain(' do_idle+0x226/0x2b0');
    expect(ours.indexOf(' </TASK>')).toBeGreaterThan(close);
  });

  it('an oops in a timer callback is fatal: "Fatal exception in interrupt"', () => {
    const { k } = machine();
    k.sysctl.write('kernel/panic', '0');
    expect(run(k, { kind: 'null-deref', on: { everyMs: 100 } }, site(0, 'dummy_timer_fn'))).toBeInstanceOf(TaskDeath);
    expect(k.faults.crashed).toBe(true);
    const lines = k.faults.crashes()[0].report.split('\n').map(strip);
    expect(lines).toContain('Kernel panic - not syncing: Fatal exception in interrupt');
    expect(lines).not.toContain('note: swapper/0[0] exited with irqs disabled');
    expect(k.faults.crashes()[0]).toMatchObject({ type: 'NULL-PTR-DEREF', frame: 'dummy_timer_fn', panic: true });
  });

  it('is deterministic: the same seed and inputs give the same report', () => {
    const a = machine();
    const b = machine();
    run(a.k, { kind: 'null-deref', on: 'load' }, site(a.insmod));
    run(b.k, { kind: 'null-deref', on: 'load' }, site(b.insmod));
    expect(a.k.faults.reports()[0].report).toBe(b.k.faults.reports()[0].report);
  });
});

describe('panic', () => {
  it('sysrq c from /proc/sysrq-trigger prints the reference panic (clean kernel: with the stack)', () => {
    const { k } = machine();
    const sh = k.sched.spawn(1, { path: '/bin/sh', argv: ['sh'] });
    expect(k.sysctl.value('kernel/panic')).toBe('-1'); // machine() sets the reference's panic=-1
    const seq = k.printk.nextSeq;
    expect(() => k.vfs.writeFile(k.rootCtx(sh), '/proc/sysrq-trigger', 'c\n')).toThrow(TaskDeath);
    const ours = logSince(k, seq);
    const theirs = refLines('oops/panic_sysrq_c.txt');
    expect(shape(ours)).toEqual(shape(theirs));
    expect(ours.slice(0, 2)).toEqual(['sysrq: Trigger a crash', 'Kernel panic - not syncing: sysrq triggered crash']);
    expect(ours.at(-1)).toMatch(
      /^Kernel Offset: 0x[0-9a-f]+ from 0xffffffff81000000 \(relocation range: 0xffffffff80000000-0xffffffffbfffffff\)$/,
    );
    expect(k.faults.crashed).toBe(true);
    // panic=-1: reboot at once
    expect(k.faults.rebootAtNs).toBe(k.now);
    expect(k.faults.rebootReason).toBe('panic');
    const c = k.faults.crashes()[0];
    expect(c).toMatchObject({ type: 'PANIC', title: 'kernel panic: sysrq triggered crash', frame: 'sysrq_handle_crash', panic: true });
    expect(c.dmesgTail.at(-1)).toMatch(/Kernel Offset/);
    expect(c.report.split('\n').map(strip).slice(0, 2)).toEqual([
      'sysrq: Trigger a crash',
      'Kernel panic - not syncing: sysrq triggered crash',
    ]);
    expect(c.tasks.find((t) => t.pid === 1)).toBeDefined();
    let err: unknown;
    try {
      k.faults.assertAlive();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).message).toMatch(/machine has crashed/);
    expect(() => k.faults.sysrq('t')).toThrow(KernelError);
  });

  it('after an oops (tainted D) the panic skips the stack dump, like the reference', () => {
    const { k, insmod } = machine();
    run(k, { kind: 'null-deref', on: 'load' }, site(insmod));
    const seq = k.printk.nextSeq;
    k.faults.sysrq('c', { checkMask: false });
    expect(shape(logSince(k, seq))).toEqual(shape(refLines('oops/panic_sysrq_c_after_oops_tainted_D.txt')));
  });

  it('panic_on_oops turns the oops into "Fatal exception": crashed, one crash record with the oops', () => {
    const { k, insmod } = machine();
    k.sysctl.write('kernel/panic_on_oops', '1');
    k.sysctl.write('kernel/panic', '0');
    const e = run(k, { kind: 'null-deref', on: 'load' }, site(insmod));
    expect(e).toBeInstanceOf(TaskDeath);
    expect(k.faults.crashed).toBe(true);
    expect(k.faults.rebootAtNs).toBeUndefined();
    const c = k.faults.crashes();
    expect(c).toHaveLength(1);
    expect(c[0]).toMatchObject({ type: 'NULL-PTR-DEREF', title: 'BUG: kernel NULL pointer dereference in dummy_do_oops', panic: true });
    const lines = c[0].report.split('\n').map(strip);
    expect(lines[0]).toBe('BUG: kernel NULL pointer dereference, address: 0000000000000000');
    const p = lines.indexOf('Kernel panic - not syncing: Fatal exception');
    expect(p).toBeGreaterThan(lines.indexOf('---[ end trace 0000000000000000 ]---'));
    expect(lines[p + 1]).toMatch(/^Kernel Offset:/);
    expect(lines[p + 2]).toBe('---[ end Kernel panic - not syncing: Fatal exception ]---');
    expect(k.faults.reports()).toHaveLength(0);
    expect(() => k.faults.runBehaviour({ kind: 'warn', on: 'load' }, site(insmod))).toThrow(KernelError);
  });

  it('kernel.panic=N schedules the reboot N seconds of virtual time later', () => {
    const { k, insmod } = machine();
    k.sysctl.write('kernel/panic', '10');
    run(k, { kind: 'panic', on: 'load', message: 'dummy: giving up' }, site(insmod, 'dummy_init'));
    expect(k.faults.crashed).toBe(true);
    expect(k.faults.panicMessage).toBe('dummy: giving up');
    expect(k.faults.rebootAtNs).toBe(k.now + 10e9);
    const text = logSince(k, 0);
    expect(text).toContain('Rebooting in 10 seconds..');
    expect(text).not.toContain('---[ end Kernel panic - not syncing: dummy: giving up ]---');
    expect(k.faults.crashes()[0]).toMatchObject({ type: 'PANIC', frame: 'dummy_init', title: 'kernel panic: dummy: giving up' });
  });

  it('panic_on_warn panics after the WARNING', () => {
    const { k, insmod } = machine();
    k.sysctl.write('kernel/panic_on_warn', '1');
    expect(run(k, { kind: 'warn', on: 'load' }, site(insmod, 'dummy_init'))).toBeInstanceOf(TaskDeath);
    expect(k.faults.crashed).toBe(true);
    expect(k.faults.crashes()[0]).toMatchObject({ type: 'WARNING', title: 'WARNING in dummy_init' });
    expect(k.faults.crashes()[0].report).toContain('Kernel panic - not syncing: kernel: panic_on_warn set ...');
  });

  it('the OOM killer with vm.panic_on_oom (the kernel panic event) becomes an OOM crash record', () => {
    const { k } = machine();
    k.events.emit('panic', { message: 'Out of memory: system-wide panic_on_oom is enabled' });
    expect(k.faults.crashed).toBe(true);
    expect(k.faults.crashes()[0]).toMatchObject({ type: 'OOM', frame: 'out_of_memory' });
    expect(k.faults.crashes()[0].report).toContain('Kernel panic - not syncing: Out of memory: system-wide panic_on_oom is enabled');
  });

  it("the death of init (the scheduler's panic) becomes a crash record that starts with its header", () => {
    const { k } = machine();
    k.sched.exit(1, 0);
    expect(k.faults.crashed).toBe(true);
    const c = k.faults.crashes()[0];
    expect(c).toMatchObject({ type: 'PANIC', frame: 'do_exit', title: 'kernel panic: Attempted to kill init! exitcode=0x00000000' });
    const lines = c.report.split('\n').map(strip);
    expect(lines[0]).toBe('Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000000');
    expect(lines[1]).toMatch(/^CPU: \d PID: 1 Comm: \S+ Not tainted /);
  });

  it('keeps a bounded number of records', () => {
    const { k, cat } = machine();
    for (let i = 0; i < 105; i++) run(k, { kind: 'warn', on: { read: '/proc/dummy' } }, site(cat, 'dummy_read'));
    expect(k.faults.reports()).toHaveLength(100);
    expect(k.faults.reports()[0].id).toBe(6);
    expect(k.faults.record(105)?.title).toBe('WARNING in dummy_read');
  });

  it('crash records survive a reboot through takeCrashRecords/restoreCrashRecords', () => {
    const { k } = machine();
    k.faults.sysrq('c', { checkMask: false });
    const carry = k.faults.takeCrashRecords();
    const k2 = Kernel.boot(cfg());
    k2.faults.restoreCrashRecords(carry);
    expect(k2.faults.crashed).toBe(false);
    expect(k2.faults.crashes()).toEqual(k.faults.crashes());
    k2.faults.sysrq('c', { checkMask: false });
    const ids = k2.faults.crashes().map((c) => [c.id, c.boot]);
    expect(ids).toEqual([
      [1, 0],
      [2, 1],
    ]);
  });
});

describe('debug detectors', () => {
  it('KASAN use-after-free: report with allocation and free stacks and the shadow dump; taints B; the task carries on', () => {
    const { k, cat } = machine({ debug: { kasan: true } });
    const seq = k.printk.nextSeq;
    expect(run(k, { kind: 'use-after-free', on: { read: '/proc/dummy' }, objectSize: 64 }, site(cat, 'dummy_read'))).toBeUndefined();
    const ours = logSince(k, seq);
    expect(ours[0]).toBe('==================================================================');
    expect(ours[1]).toMatch(/^BUG: KASAN: use-after-free in dummy_read\+0x[0-9a-f]+\/0x[0-9a-f]+ \[dummy\]$/);
    expect(ours[2]).toMatch(/^Read of size 8 at addr ffff[0-9a-f]{12} by task cat\/\d+$/);
    const i = (s: string): number => ours.findIndex((l) => l.startsWith(s));
    expect(i('Allocated by task')).toBeGreaterThan(i('Call Trace:'));
    expect(i('Freed by task')).toBeGreaterThan(i('Allocated by task'));
    expect(ours).toContain(' which belongs to the cache kmalloc-64 of size 64');
    expect(ours).toContain('The buggy address is located 8 bytes inside of');
    expect(ours).toContain('Memory state around the buggy address:');
    const row = ours.findIndex((l) => l.startsWith('>'));
    expect(ours[row]).toMatch(/^>ffff[0-9a-f]{12}: ([0-9a-f]{2} ){15}[0-9a-f]{2}$/);
    // the caret sits under the shadow byte of the bad address: a freed granule
    const col = ours[row + 1].indexOf('^');
    expect(ours[row].slice(col, col + 2)).toBe('fb');
    expect(ours.at(-1)).toBe('==================================================================');
    expect(k.sysctl.tainted() & TAINT_B).toBeTruthy();
    expect(k.faults.reports()[0]).toMatchObject({ type: 'KASAN', title: 'KASAN: use-after-free Read in dummy_read' });
  });

  it('KASAN slab-out-of-bounds points at the redzone right of the object', () => {
    const { k, cat } = machine({ debug: { kasan: true } });
    const seq = k.printk.nextSeq;
    run(k, { kind: 'out-of-bounds', on: { write: '/proc/dummy' }, objectSize: 32 }, site(cat, 'dummy_write'));
    const ours = logSince(k, seq);
    expect(ours[1]).toMatch(/^BUG: KASAN: slab-out-of-bounds in dummy_write\+/);
    expect(ours).toContain('The buggy address is located 0 bytes to the right of');
    expect(ours.some((l) => /^ 32-byte region \[ffff[0-9a-f]{12}, ffff[0-9a-f]{12}\)$/.test(l))).toBe(true);
    expect(ours.some((l) => l.startsWith('Freed by task'))).toBe(false);
    const row = ours.findIndex((l) => l.startsWith('>'));
    const col = ours[row + 1].indexOf('^');
    expect(ours[row].slice(col, col + 2)).toBe('fc');
  });

  it('without KASAN the same bug corrupts silently', () => {
    const { k, cat } = machine();
    const seq = k.printk.nextSeq;
    expect(run(k, { kind: 'use-after-free', on: { read: '/proc/dummy' } }, site(cat, 'dummy_read'))).toBeUndefined();
    expect(logSince(k, seq)).toEqual([]);
    expect(k.faults.silentCorruptions()).toBe(1);
    expect(k.faults.reports()).toHaveLength(0);
  });

  it('lockdep: the circular dependency splat with both chains and the scenario table, once per boot', () => {
    const { k, cat } = machine({ debug: { lockdep: true } });
    const seq = k.printk.nextSeq;
    run(k, { kind: 'lock-inversion', on: { read: '/proc/dummy' }, locks: ['lock_a', 'lock_b'] }, site(cat, 'dummy_read'));
    const ours = logSince(k, seq);
    const at = (l: string): number => ours.indexOf(l);
    expect(ours.slice(0, 5)).toEqual([
      '',
      '======================================================',
      'WARNING: possible circular locking dependency detected',
      '6.1.0-56-amd64 #1 Not tainted',
      '------------------------------------------------------',
    ]);
    expect(ours[5]).toMatch(/^cat\/\d+ is trying to acquire lock:$/);
    expect(ours[6]).toMatch(/^ffffffffc[0-9a-f]{7} \(lock_a\)\{\+\.\+\.\}-\{3:3\}, at: dummy_read\+0x[0-9a-f]+\/0x[0-9a-f]+ \[dummy\]$/);
    expect(at('-> #1 (lock_b){+.+.}-{3:3}:')).toBeGreaterThan(at('the existing dependency chain (in reverse order) is:'));
    expect(at('-> #0 (lock_a){+.+.}-{3:3}:')).toBeGreaterThan(at('-> #1 (lock_b){+.+.}-{3:3}:'));
    const sc = at(' Possible unsafe locking scenario:');
    expect(ours.slice(sc + 2, sc + 8)).toEqual([
      '       CPU0                    CPU1',
      '       ----                    ----',
      '  lock(lock_b);',
      '                               lock(lock_a);',
      '                               lock(lock_b);',
      '  lock(lock_a);',
    ]);
    expect(ours).toContain(' *** DEADLOCK ***');
    expect(at('stack backtrace:')).toBeGreaterThan(sc);
    expect(k.faults.reports()[0]).toMatchObject({ type: 'LOCKDEP', title: 'possible deadlock in dummy_read' });
    const seq2 = k.printk.nextSeq;
    run(k, { kind: 'lock-inversion', on: { read: '/proc/dummy' }, locks: ['lock_a', 'lock_b'] }, site(cat, 'dummy_read'));
    expect(logSince(k, seq2)).toEqual([]);
  });

  it('lock inversion goes unnoticed without lockdep', () => {
    const { k, cat } = machine();
    const seq = k.printk.nextSeq;
    run(k, { kind: 'lock-inversion', on: { read: '/proc/dummy' }, locks: ['a', 'b'] }, site(cat, 'dummy_read'));
    expect(logSince(k, seq)).toEqual([]);
  });

  it('sleep in atomic: "sleeping function called from invalid context" with lockdep, "scheduling while atomic" without; taints W', () => {
    const dbg = machine({ debug: { lockdep: true } });
    let seq = dbg.k.printk.nextSeq;
    run(dbg.k, { kind: 'sleep-in-atomic', on: { read: '/proc/dummy' } }, site(dbg.cat, 'dummy_read'));
    let ours = logSince(dbg.k, seq);
    expect(ours[0]).toBe('BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580');
    expect(ours[1]).toMatch(/^in_atomic\(\): 1, irqs_disabled\(\): 0, non_block: 0, pid: \d+, name: cat$/);
    expect(ours).toContain('Preemption disabled at:');
    expect(dbg.k.sysctl.tainted() & TAINT_W).toBeTruthy();
    const prod = machine();
    seq = prod.k.printk.nextSeq;
    run(prod.k, { kind: 'sleep-in-atomic', on: { read: '/proc/dummy' } }, site(prod.cat, 'dummy_read'));
    ours = logSince(prod.k, seq);
    expect(ours[0]).toMatch(/^BUG: scheduling while atomic: cat\/\d+\/0x00000002$/);
    expect(ours[1]).toMatch(/^Modules linked in:/);
    expect(prod.k.faults.reports()[0].type).toBe('ATOMIC-SLEEP');
  });

  it('hung task: blocked in D, reported by khungtaskd after hung_task_timeout_secs of virtual time', () => {
    const { k, cat } = machine({ debug: { hungTaskTimeoutSecs: 30 } });
    expect(k.sysctl.value('kernel/hung_task_timeout_secs')).toBe('30');
    const e = run(k, { kind: 'hung-task', on: { read: '/proc/dummy' } }, site(cat, 'dummy_read'));
    expect(e).toBeInstanceOf(TaskBlocked);
    expect(k.sched.task(cat)!.state).toBe('D');
    const seq = k.printk.nextSeq;
    k.advance(20e9);
    expect(logSince(k, seq).some((l) => l.startsWith('INFO: task'))).toBe(false);
    k.advance(40e9);
    const ours = logSince(k, seq);
    const i = ours.findIndex((l) => l.startsWith('INFO: task'));
    expect(ours[i]).toMatch(new RegExp(`^INFO: task cat:${cat} blocked for more than (3\\d|4\\d|5\\d) seconds\\.$`));
    expect(ours[i + 1]).toBe('      Not tainted 6.1.0-56-amd64 #1');
    expect(ours[i + 2]).toBe('"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.');
    expect(ours[i + 3]).toMatch(new RegExp(`^task:cat +state:D stack:0 +pid:${cat} +ppid:1 +flags:0x00004002$`));
    expect(ours).toContain(' __mutex_lock.constprop.0+0x399/0x700');
    expect(ours.some((l) => /^ dummy_read\+0x[0-9a-f]+\/0x[0-9a-f]+ \[dummy\]$/.test(l))).toBe(true);
    expect(k.faults.reports()[0]).toMatchObject({ type: 'HANG', title: 'INFO: task hung in dummy_read' });
    expect(k.sysctl.value('kernel/hung_task_warnings')).toBe('9');
  });

  it('khungtaskd also reports a scheduler task in a long uninterruptible sleep (default 120 s)', () => {
    const { k } = machine();
    const dd = k.sched.spawn(1, { path: '/usr/bin/dd', argv: ['dd', 'if=/dev/sda'] });
    k.sched.setTaskState(dd, 'D');
    const seq = k.printk.nextSeq;
    k.advance(400e9);
    const ours = logSince(k, seq);
    const i = ours.findIndex((l) => l.startsWith(`INFO: task dd:${dd} `));
    // khungtaskd wakes every 120 s: the first report comes 120..240 s after the task blocked
    const secs = Number(/blocked for more than (\d+) seconds\.$/.exec(ours[i])?.[1]);
    expect(secs).toBeGreaterThanOrEqual(120);
    expect(secs).toBeLessThan(240);
    expect(ours[i + 3]).toMatch(new RegExp(`^task:dd +state:D stack:0 +pid:${dd} `));
    // reported again at every check while it stays blocked
    expect(ours.filter((l) => l.startsWith(`INFO: task dd:${dd} `)).length).toBeGreaterThanOrEqual(2);
    k.sysctl.write('kernel/hung_task_timeout_secs', '0');
    const seq2 = k.printk.nextSeq;
    k.advance(600e9);
    expect(logSince(k, seq2).some((l) => l.startsWith('INFO: task'))).toBe(false);
  });

  it('hung_task_panic panics on the report', () => {
    const { k, cat } = machine({ debug: { hungTaskTimeoutSecs: 10 } });
    k.sysctl.write('kernel/hung_task_panic', '1');
    run(k, { kind: 'hung-task', on: { read: '/proc/dummy' } }, site(cat, 'dummy_read'));
    k.advance(30e9);
    expect(k.faults.crashed).toBe(true);
    expect(k.faults.crashes()[0]).toMatchObject({ type: 'HANG', title: 'INFO: task hung in dummy_read' });
    expect(k.faults.crashes()[0].report).toContain('Kernel panic - not syncing: hung_task: blocked tasks');
  });
});

describe('sysrq', () => {
  it('the keyboard path honours kernel.sysrq (438 on the reference: dumps and signals masked); /proc/sysrq-trigger does not', () => {
    const { k } = machine();
    const sh = k.sched.spawn(1, { path: '/bin/sh', argv: ['sh'] });
    expect(k.sysctl.value('kernel/sysrq')).toBe('438');
    let seq = k.printk.nextSeq;
    k.faults.sysrq('c');
    expect(logSince(k, seq)).toEqual(['sysrq: This sysrq operation is disabled.']);
    expect(k.faults.crashed).toBe(false);
    seq = k.printk.nextSeq;
    k.faults.sysrq('s'); // SYNC is in 438
    expect(logSince(k, seq)).toEqual(['sysrq: Emergency Sync', 'Emergency Sync complete']);
    seq = k.printk.nextSeq;
    k.vfs.writeFile(k.rootCtx(sh), '/proc/sysrq-trigger', 'w\n');
    expect(logSince(k, seq)).toEqual(refLines('dmesg/sysrq_w_blocked.txt'));
    k.sysctl.write('kernel/sysrq', '1');
    seq = k.printk.nextSeq;
    k.faults.sysrq('w');
    expect(logSince(k, seq)).toEqual(['sysrq: Show Blocked State']);
    k.sysctl.write('kernel/sysrq', '0');
    seq = k.printk.nextSeq;
    k.faults.sysrq('s');
    expect(logSince(k, seq)).toEqual(['sysrq: This sysrq operation is disabled.']);
  });

  it('/proc/sysrq-trigger is root-only (0200)', () => {
    const { k } = machine();
    let err: unknown;
    try {
      k.vfs.writeFile({ ...k.rootCtx(), uid: 1000, gid: 1000 }, '/proc/sysrq-trigger', 'c');
    } catch (e) {
      err = e;
    }
    expect((err as KernelError).code).toBe('EACCES');
    expect(k.faults.crashed).toBe(false);
  });

  it('h (or any unbound key) prints the help line', () => {
    const { k } = machine();
    const seq = k.printk.nextSeq;
    k.vfs.writeFile(k.rootCtx(), '/proc/sysrq-trigger', 'h');
    expect(logSince(k, seq)).toEqual([
      'sysrq: HELP : loglevel(0-9) reboot(b) crash(c) terminate-all-tasks(e) memory-full-oom-kill(f) kill-all-tasks(i) thaw-filesystems(j) sak(k) show-backtrace-all-active-cpus(l) show-memory-usage(m) nice-all-RT-tasks(n) poweroff(o) show-registers(p) show-all-timers(q) unraw(r) sync(s) show-task-states(t) unmount(u) show-blocked-tasks(w) dump-ftrace-buffer(z) ',
    ]);
  });

  it('m prints "sysrq: Show Memory" and show_mem like the reference', () => {
    const { k } = machine();
    const seq = k.printk.nextSeq;
    k.vfs.writeFile(k.rootCtx(), '/proc/sysrq-trigger', 'm');
    const ours = logSince(k, seq);
    const theirs = refLines('dmesg/sysrq_m_show_memory.txt');
    const t2 = theirs.slice(theirs.indexOf('sysrq: Show Memory'));
    expect(ours[0]).toBe('sysrq: Show Memory');
    expect(ours[1]).toBe('Mem-Info:');
    expect(ours.length).toBe(t2.length);
    expect(ours.at(-1)).toBe('0 pages hwpoisoned');
  });

  it('t prints every task then the scheduler dump, like the reference', () => {
    const { k } = machine();
    const seq = k.printk.nextSeq;
    k.vfs.writeFile(k.rootCtx(), '/proc/sysrq-trigger', 't');
    const ours = logSince(k, seq);
    const theirs = refLines('dmesg/sysrq_t_show_tasks.txt');
    expect(ours[0]).toBe(theirs[0]);
    const head = /^task:.{15} state:[A-Z]( {2}running task {4})? stack:\d+ +pid:\d+ +ppid:\d+ +flags:0x[0-9a-f]{8}$/;
    expect(ours[1]).toMatch(head);
    expect(theirs[1]).toMatch(head);
    expect(ours.filter((l) => l.startsWith('task:'))).toHaveLength(k.sched.nrThreads());
    expect(ours.at(-1)).toBe('Showing busy workqueues and worker pools:');
    expect(theirs.at(-1)).toBe('Showing busy workqueues and worker pools:');
  });

  it('l prints the NMI backtrace of this CPU and the other CPUs, like the reference', () => {
    const { k } = machine();
    const sh = k.sched.spawn(1, { path: '/bin/sh', argv: ['sh'] });
    const seq = k.printk.nextSeq;
    k.vfs.writeFile(k.rootCtx(sh), '/proc/sysrq-trigger', 'l');
    const ours = logSince(k, seq);
    // the reference's last line is a timing artefact of qemu (NMI handler took too long)
    const theirs = refLines('dmesg/sysrq_l_backtrace_cpus.txt').filter((l) => !l.startsWith('INFO: NMI handler'));
    const cpu = k.sched.task(sh)!.cpu;
    const idle = k.sched.curr(1 - cpu) === 0;
    if (idle) expect(shape(ours)).toEqual(shape(theirs));
    expect(ours[1]).toBe(`NMI backtrace for cpu ${cpu}`);
    expect(ours).toContain(`Sending NMI from CPU ${cpu} to CPUs ${1 - cpu}:`);
  });

  it('w lists a hung task', () => {
    const { k, cat } = machine();
    run(k, { kind: 'hung-task', on: { read: '/proc/dummy' } }, site(cat, 'dummy_read'));
    const seq = k.printk.nextSeq;
    k.vfs.writeFile(k.rootCtx(), '/proc/sysrq-trigger', 'w');
    const ours = logSince(k, seq);
    expect(ours[0]).toBe('sysrq: Show Blocked State');
    expect(ours[1]).toMatch(new RegExp(`^task:cat +state:D stack:0 +pid:${cat} `));
  });

  it('e/i signal every process but init; b requests a reboot; only the first character counts', () => {
    const { k } = machine();
    const victim = k.sched.spawn(1, { path: '/usr/bin/sleep', argv: ['sleep', '1000'] });
    k.vfs.writeFile(k.rootCtx(), '/proc/sysrq-trigger', 'ixyz');
    expect(['Z', 'X', undefined]).toContain(k.sched.task(victim)?.state);
    expect(k.sched.task(1)).toBeDefined();
    expect(k.sched.task(1)!.state).not.toBe('Z');
    const seq = k.printk.nextSeq;
    k.faults.sysrq('b');
    expect(logSince(k, seq)).toEqual(['sysrq: Resetting']);
    expect(k.faults.rebootReason).toBe('sysrq');
    expect(k.faults.rebootAtNs).toBe(k.now);
    expect(k.faults.crashed).toBe(false);
    expect(() => k.faults.assertAlive()).toThrow(KernelError);
  });

  it('0-9 change the console loglevel', () => {
    const { k } = machine();
    const seq = k.printk.nextSeq;
    k.vfs.writeFile(k.rootCtx(), '/proc/sysrq-trigger', '3');
    expect(logSince(k, seq)).toEqual(['sysrq: Changing Loglevel', 'sysrq: Loglevel set to 3']);
    expect(k.printk.getConsoleLevels()[0]).toBe(3);
  });
});

describe('snapshots', () => {
  it('getState/setState round-trips the fault state (records, die counter, hung tasks, crashed)', () => {
    const { k, insmod, cat } = machine({ debug: { hungTaskTimeoutSecs: 30 } });
    run(k, { kind: 'null-deref', on: 'load' }, site(insmod));
    run(k, { kind: 'hung-task', on: { read: '/proc/dummy' } }, site(cat, 'dummy_read'));
    const s = k.getState();
    const k2 = Kernel.fromState(JSON.parse(JSON.stringify(s)));
    expect(k2.faults.reports()).toEqual(k.faults.reports());
    expect(k2.faults.getState()).toEqual(k.faults.getState());
    // the next oops is [#2] in both; the hung task is reported in both
    const seq1 = k.printk.nextSeq;
    const seq2 = k2.printk.nextSeq;
    run(k, { kind: 'bug', on: 'load' }, site(insmod, 'dummy_init'));
    run(k2, { kind: 'bug', on: 'load' }, site(insmod, 'dummy_init'));
    k.advance(60e9);
    k2.advance(60e9);
    expect(logSince(k2, seq2)).toEqual(logSince(k, seq1));
    expect(logSince(k2, seq2)).toContain('invalid opcode: 0000 [#2] PREEMPT SMP NOPTI');
    // an old snapshot without faults
    const old = JSON.parse(JSON.stringify(s));
    delete old.faults;
    const k3 = Kernel.fromState(old);
    expect(k3.faults.reports()).toEqual([]);
    expect(k3.faults.crashed).toBe(false);
  });

  it('a crashed machine stays crashed across a snapshot', () => {
    const { k } = machine();
    k.faults.sysrq('c', { checkMask: false });
    const k2 = Kernel.fromState(JSON.parse(JSON.stringify(k.getState())));
    expect(k2.faults.crashed).toBe(true);
    expect(() => k2.faults.assertAlive()).toThrow(KernelError);
  });
});
