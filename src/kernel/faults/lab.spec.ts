/**
 * End to end with the module loader: the reference's krefcrash/krefbug session
 * (reference/linux-6.1/oops, tools/krefcrash.c) replayed with lab modules.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Kernel } from '../kernel';
import { insmod, lsmod, modprobe, rmmod } from '../modules/kmod';
import { TaskDeath } from './contract';

const REF = join(__dirname, '../../../../shared/reference/linux-6.1');
const refLines = (p: string): string[] =>
  readFileSync(join(REF, p), 'utf8')
    .replace(/\n$/, '')
    .split('\n')
    .map((l) => l.replace(/^\[\s*\d+\.\d+\] ?/, ''));

/** Values out; runs of frames collapse (their number depends on stale stack slots). */
function shape(lines: string[]): string[] {
  const out: string[] = [];
  for (const raw of lines) {
    let l = raw
      .replace(/^Code: .*$/, 'Code: BYTES')
      .replace(/ at \/\S+:\d+/, ' at FILE:N')
      .replace(/Comm: \S+/, 'Comm: C')
      // the reference faults in a helper (krefcrash_do_oops), the lab module in its init
      .replace(/^RIP: 0010:\w+\+/, 'RIP: 0010:SYM+')
      .replace(/0x[0-9a-f]+/g, 'H')
      .replace(/[0-9a-f]{16}/g, 'X')
      .replace(/\d+/g, 'N');
    if (/^ (\? )?[\w.]+\+H\/H( \[\w+\])?$/.test(l) || /^ \? H$/.test(l)) l = 'FRAMES';
    if (l === 'FRAMES' && out[out.length - 1] === 'FRAMES') continue;
    out.push(l);
  }
  return out;
}

const since = (k: Kernel, seq: number): string[] => k.printk.since(seq).flatMap((r) => r.text.split('\n'));

function status(f: () => unknown): number {
  try {
    f();
    return 0;
  } catch (e) {
    if (e instanceof TaskDeath) return 128 + e.signal;
    throw e;
  }
}

describe('the krefcrash session of the reference, with lab modules', () => {
  const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'kref', hostname: 'kernelab' });
  k.sysctl.write('kernel/panic', '-1'); // as the reference machine was booted
  modprobe(k, ['ext4']);
  const kref = (mode: string, name = 'krefcrash'): void => {
    k.modules.registerLab({
      name,
      license: 'GPL',
      author: 'kref',
      description: 'ground-truth capture: produce WARN/oops/BUG samples',
      initMessages: [`${name}: loading, mode=${mode}`],
      exitMessages: [`${name}: unloaded`],
      behaviours: [{ kind: mode === 'oops' ? 'null-deref' : mode, on: 'load' }],
    } as never);
  };

  it('insmod mode=warn: WARNING with the module (OE+) in "Modules linked in", exit 0, tainted 12800', () => {
    kref('warn');
    const seq = k.printk.nextSeq;
    expect(status(() => insmod(k, ['/root/krefcrash.ko', 'mode=warn']))).toBe(0);
    const ours = since(k, seq);
    const theirs = refLines('oops/dmesg_warn.txt');
    expect(ours.slice(0, 2)).toEqual(theirs.slice(0, 2));
    const cut = (a: string[]): string[] =>
      a.slice(a.indexOf('------------[ cut here ]------------')).filter((l) => l !== 'krefcrash: test warning');
    expect(shape(cut(ours))).toEqual(shape(cut(theirs)));
    expect(ours.find((l) => l.startsWith('Modules linked in:'))).toMatch(
      /^Modules linked in: krefcrash\(OE\+\) ext4 crc16 mbcache jbd2 crc32c_\w+/,
    );
    expect(k.sysctl.value('kernel/tainted')).toBe(refLines('oops/tainted_after_warn.txt')[0]);
    expect(rmmod(k, ['krefcrash']).exitCode).toBe(0);
  });

  it('insmod mode=oops: the oops with [last unloaded: krefcrash(OE)], "Killed" (137), tainted 12928, module stuck Loading', () => {
    kref('oops');
    const seq = k.printk.nextSeq;
    expect(status(() => insmod(k, ['/root/krefcrash.ko', 'mode=oops']))).toBe(137);
    const ours = since(k, seq);
    const theirs = refLines('oops/dmesg_oops.txt');
    const from = (a: string[]): string[] => a.slice(a.findIndex((l) => l.startsWith('BUG: kernel NULL')));
    expect(shape(from(ours))).toEqual(shape(from(theirs)));
    expect(ours.find((l) => l.startsWith('Modules linked in:'))).toMatch(
      /^Modules linked in: krefcrash\(OE\+\) ext4 .* \[last unloaded: krefcrash\(OE\)\]$/,
    );
    expect(k.sysctl.value('kernel/tainted')).toBe(refLines('oops/tainted_after_oops.txt')[0]);
    expect(lsmod(k).stdout).toMatch(/^krefcrash +\d+ +1$/m);
    expect(rmmod(k, ['krefcrash']).stderr).toBe(refLines('oops/rmmod_after_oops.txt')[0] + '\n');
  });

  it('insmod krefbug mode=bug: BUG with [#2] and the first oops in the summary, "Segmentation fault" (139)', () => {
    kref('bug', 'krefbug');
    const seq = k.printk.nextSeq;
    expect(status(() => insmod(k, ['/root/krefbug.ko', 'mode=bug']))).toBe(139);
    const ours = since(k, seq);
    const theirs = refLines('oops/dmesg_bug.txt');
    const from = (a: string[]): string[] => a.slice(a.indexOf('------------[ cut here ]------------'));
    expect(shape(from(ours))).toEqual(shape(from(theirs)));
    expect(ours).toContain('invalid opcode: 0000 [#2] PREEMPT SMP NOPTI');
    expect(ours.find((l) => l.startsWith('Modules linked in:'))).toMatch(
      /^Modules linked in: krefbug\(OE\+\) krefcrash\(OE\+\) ext4 .* \[last unloaded: krefcrash\(OE\)\]$/,
    );
    expect(k.sysctl.value('kernel/tainted')).toBe(refLines('oops/tainted_after_bug.txt')[0]);
    expect(k.faults.reports().map((r) => r.type)).toEqual(['WARNING', 'NULL-PTR-DEREF', 'BUG']);
  });

  it('then sysrq c: the short panic of a D-tainted kernel', () => {
    const seq = k.printk.nextSeq;
    expect(status(() => k.vfs.writeFile(k.rootCtx(1), '/proc/sysrq-trigger', 'c'))).toBe(137);
    expect(shape(since(k, seq))).toEqual(shape(refLines('oops/panic_sysrq_c_after_oops_tainted_D.txt')));
    expect(k.faults.crashes()).toHaveLength(1);
  });
});
