import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { Kernel } from '../kernel';
import type { KernelConfig } from '../types';
import { type DmesgOptions, dmesgCommand, followDmesg, isDmesgArgError, parseDmesgArgs } from './dmesg';
import { parseKmsg } from './kmsg';

const REF = path.resolve(__dirname, '../../../../shared/reference/linux-6.1');
const ref = (f: string): string => fs.readFileSync(path.join(REF, f), 'utf8');
const cfg = (over: Partial<KernelConfig> = {}): KernelConfig => ({ cpus: 2, memoryMb: 512, seed: 'printk', hostname: 'kernelab', ...over });
const BOOT_MS = Date.UTC(2026, 0, 1);
const bootK = (over: Partial<KernelConfig> = {}): Kernel => Kernel.boot(cfg(over), { bootEpochMs: BOOT_MS });
const user = (k: Kernel) => ({ k, pid: 1000, uid: 1000, gid: 1000 });
const dmesg = (k: Kernel, ...argv: string[]) => dmesgCommand(k, argv);
const opts = (argv: string[]): DmesgOptions => {
  const o = parseDmesgArgs(argv);
  if (isDmesgArgError(o)) throw new Error(o.error);
  return o;
};

describe('printk in the kernel', () => {
  it('boots with the boot log and hands over when /init starts', () => {
    const k = bootK();
    const recs = k.printk.records();
    expect(recs[0].text).toMatch(/^Linux version 6\.1\.0-56-amd64 /);
    expect(recs[recs.length - 1].text).toBe('    TERM=linux');
    expect(k.now).toBe(recs[recs.length - 1].tsNs);
    expect(k.now).toBeGreaterThan(3e9);
    expect(recs.some((r) => r.text === 'smp: Brought up 1 node, 2 CPUs')).toBe(true);
  });

  it('exposes /dev/kmsg as the character device 1:11 of devtmpfs', () => {
    const k = bootK();
    const ent = k.vfs.readdir(k.rootCtx(), '/dev').find((e) => e.name === 'kmsg');
    expect(ent).toMatchObject({ type: 'file', mode: 0o644 });
    const node = k.vfs.resolve(k.rootCtx(), '/dev/kmsg').node;
    expect(node.type === 'file' && node.dev).toEqual({ kind: 'c', major: 1, minor: 11 });
    const text = k.vfs.readFile(k.rootCtx(), '/dev/kmsg');
    // /dev/kmsg has microseconds
    expect(parseKmsg(text)).toEqual(k.printk.records().map((r) => ({ ...r, tsNs: Math.floor(r.tsNs / 1000) * 1000 })));
    expect(text.split('\n')[0]).toMatch(/^5,0,0,-;Linux version /);
  });

  it('logs writes to /dev/kmsg through the VFS like devkmsg_write', () => {
    const k = bootK();
    k.advance(68_000_000_000);
    k.vfs.writeFile(k.rootCtx(), '/dev/kmsg', '<5>kref: hello from userspace via /dev/kmsg\n');
    k.advance(1_609_000);
    k.vfs.writeFile(k.rootCtx(), '/dev/kmsg', 'no level prefix line\n');
    const last = k.printk.records().slice(-2);
    expect(last.map((r) => [(r.facility << 3) | r.level, r.text])).toEqual([
      [13, 'kref: hello from userspace via /dev/kmsg'],
      [12, 'no level prefix line'],
    ]);
    // the shape of the reference's dmesg -f user and dmesg -x for them
    const fu = dmesg(k, '-f', 'user').stdout.split('\n');
    expect(fu.length).toBe(ref('dmesg/dmesg_facility_user.txt').split('\n').length);
    fu.slice(0, 2).forEach((l, i) => expect(l.replace(/^\[ *[\d.]+\] /, '')).toBe(ref('dmesg/dmesg_facility_user.txt').split('\n')[i].replace(/^\[ *[\d.]+\] /, '')));
    expect(dmesg(k, '-x').stdout).toMatch(/\nuser {2}:notice: \[ *\d+\.\d{6}\] kref: hello from userspace via \/dev\/kmsg\nuser {2}:warn {2}: \[/);
    // and on the console, whose tail keeps the boot too
    expect(k.printk.consoleTail(2).map((l) => l.replace(/^\[ *[\d.]+\] /, ''))).toEqual(['kref: hello from userspace via /dev/kmsg', 'no level prefix line']);
  });

  it('keeps /dev/kmsg to root: dmesg_restrict for readers, the 0644 mode for writers', () => {
    const k = bootK();
    expect(() => k.vfs.readFile(user(k), '/dev/kmsg')).toThrow(expect.objectContaining({ code: 'EPERM' }));
    expect(() => k.vfs.writeFile(user(k), '/dev/kmsg', 'x')).toThrow(expect.objectContaining({ code: 'EACCES' }));
    expect(dmesgCommand(k, [], user(k))).toEqual({ stdout: '', stderr: 'dmesg: read kernel buffer failed: Operation not permitted\n', exitCode: 1, options: expect.anything() });
    expect(dmesgCommand(k, ['-C'], user(k)).stderr).toBe('dmesg: clear kernel buffer failed: Operation not permitted\n');
  });

  it('runs dmesg -c, -C and -n against the machine', () => {
    const k = bootK();
    const all = dmesg(k, '-c');
    expect(all.exitCode).toBe(0);
    expect(all.stdout.split('\n').length).toBe(382);
    expect(dmesg(k).stdout).toBe('');
    k.printk.log(6, 'after clear');
    expect(dmesg(k, '-t').stdout).toBe('after clear\n');
    expect(dmesg(k, '-C').exitCode).toBe(0);
    expect(dmesg(k).stdout).toBe('');
    expect(dmesg(k, '-n', '3').exitCode).toBe(0);
    expect(k.printk.getConsoleLevels()).toEqual([3, 4, 1, 7]);
    expect(dmesg(k, '-D').exitCode).toBe(0);
    expect(k.printk.consoleLoglevel).toBe(1);
    dmesg(k, '-E');
    expect(k.printk.consoleLoglevel).toBe(3);
    expect(dmesg(k, '-l', 'foo')).toEqual({ stdout: '', stderr: "dmesg: unknown level 'foo'\n", exitCode: 1 });
    expect(dmesg(k, '-F', '/nope').stderr).toBe('dmesg: cannot open /nope: No such file or directory\n');
  });

  it('follows new records with -w, and only new ones with -W', () => {
    const k = bootK();
    const seen: string[] = [];
    const stop = followDmesg(k, opts(['-w', '-x']), (t) => seen.push(t));
    expect(seen.length).toBe(1);
    expect(seen[0].split('\n').length).toBe(382);
    const only: string[] = [];
    const stop2 = followDmesg(k, opts(['-W', '-t']), (t) => only.push(t));
    k.vfs.writeFile(k.rootCtx(), '/dev/kmsg', '<11>late');
    stop();
    k.printk.log(6, 'later');
    stop2();
    k.printk.log(6, 'unseen');
    expect(seen[1]).toMatch(/^user {2}:err {3}: \[ *\d+\.\d{6}\] late\n$/);
    expect(seen.length).toBe(2);
    expect(only).toEqual(['late\n', 'later\n']);
  });

  it('renders dmesg -T from the boot epoch in UTC', () => {
    const k = bootK();
    const first = dmesg(k, '-T').stdout.split('\n')[0];
    expect(first).toBe(`[Thu Jan  1 00:00:00 2026] ${k.printk.records()[0].text}`);
  });

  it('serves /proc/consoles', () => {
    expect(bootK().vfs.readFile(bootK().rootCtx(), '/proc/consoles')).toBe(ref('proc/consoles'));
  });

  it('boots the same log for the same seed, another for another seed', () => {
    expect(bootK().printk.getState()).toEqual(bootK().printk.getState());
    expect(bootK({ seed: 'other' }).printk.getState()).not.toEqual(bootK().printk.getState());
  });

  it('restores a snapshot to identical renders (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 40 }).map((s) => ({ w: s })), fc.nat(5_000_000_000).map((n) => ({ t: n })), fc.constant({ clear: true })), { maxLength: 12 }),
        (ops) => {
          const a = bootK();
          for (const op of ops) {
            if ('w' in op) a.vfs.writeFile(a.rootCtx(), '/dev/kmsg', op.w);
            else if ('t' in op) a.advance(op.t);
            else a.printk.clear();
          }
          const b = Kernel.fromState(JSON.parse(JSON.stringify(a.getState())));
          for (const argv of [[], ['-x'], ['-r'], ['-J'], ['-T']]) expect(dmesg(b, ...argv).stdout).toBe(dmesg(a, ...argv).stdout);
          expect(b.vfs.readFile(b.rootCtx(), '/dev/kmsg')).toBe(a.vfs.readFile(a.rootCtx(), '/dev/kmsg'));
          expect(b.printk.consoleTail()).toEqual(a.printk.consoleTail());
          // and the restored machine's /dev/kmsg still works
          b.vfs.writeFile(b.rootCtx(), '/dev/kmsg', '<3>after restore');
          expect(b.printk.records().at(-1)).toMatchObject({ level: 3, facility: 1, text: 'after restore' });
        },
      ),
      { numRuns: 15 },
    );
  });

  it('gives the same records whether time moves in one step or two', () => {
    const a = bootK();
    const b = bootK();
    a.advanceTo(a.now + 9_000_000_000);
    b.advanceTo(b.now + 4_000_000_000);
    b.advanceTo(b.now + 5_000_000_000);
    a.vfs.writeFile(a.rootCtx(), '/dev/kmsg', 'x');
    b.vfs.writeFile(b.rootCtx(), '/dev/kmsg', 'x');
    expect(b.printk.getState()).toEqual(a.printk.getState());
  });
});
