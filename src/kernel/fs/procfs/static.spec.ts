import * as fs from 'fs';
import * as path from 'path';
import { Kernel } from '../../kernel';
import { modprobe } from '../../modules/kmod';
import type { FsCtx } from '../vnode';

const REF = path.resolve(__dirname, '../../../../../shared/reference/linux-6.1/proc');
const ref = (f: string): string => fs.readFileSync(path.join(REF, f), 'utf8');

const boot = (over: Partial<{ cpus: number; memoryMb: number; seed: string }> = {}): Kernel =>
  Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'static', hostname: 'qemu-kref', ...over }, { bootEpochMs: 0 });
const root = (k: Kernel): FsCtx => k.rootCtx();
const user = (k: Kernel): FsCtx => ({ k, pid: 1, uid: 1000, gid: 1000 });
const read = (k: Kernel, f: string, ctx = root(k)): string => k.vfs.readFile(ctx, `/proc/${f}`);

function loadReferenceModules(k: Kernel): void {
  for (const m of [['ext4'], ['nvme'], ['btrfs'], ['loop'], ['dummy', 'numdummies=2'], ['vfat']]) expect(modprobe(k, m).exitCode).toBe(0);
}

describe('/proc/cpuinfo', () => {
  it('has the reference fields, spacing and order for each CPU', () => {
    const k = boot();
    const ours = read(k, 'cpuinfo').split('\n');
    const theirs = ref('cpuinfo').split('\n');
    expect(ours.length).toBe(theirs.length);
    ours.forEach((l, i) => {
      if (/^(cpu MHz|bogomips)/.test(l)) expect(l.replace(/\d+\.\d+$/, 'X')).toBe(theirs[i].replace(/\d+\.\d+$/, 'X'));
      else expect(l).toBe(theirs[i]);
    });
  });

  it('agrees with the boot log (TSC frequency, BogoMIPS) and scales with the CPU count', () => {
    const k = boot({ cpus: 4, seed: 'tsc' });
    const text = read(k, 'cpuinfo');
    const dmesg = k.printk.records().map((r) => r.text);
    const tsc = dmesg.find((t) => t.startsWith('tsc: Detected')) as string;
    const mhz = (/cpu MHz\t\t: (\S+)/.exec(text) as RegExpExecArray)[1];
    expect(tsc).toBe(`tsc: Detected ${mhz} MHz processor`);
    const cal = dmesg.find((t) => t.startsWith('Calibrating delay loop')) as string;
    const bogo = (/bogomips\t: (\S+)/.exec(text) as RegExpExecArray)[1];
    expect(cal).toContain(` ${bogo} BogoMIPS`);
    expect(text.match(/^processor\t: \d+$/gm)).toEqual(['processor\t: 0', 'processor\t: 1', 'processor\t: 2', 'processor\t: 3']);
    expect(text.match(/^siblings\t: 4$/gm)?.length).toBe(4);
    expect(text.match(/^apicid\t\t: 3$/gm)?.length).toBe(1);
  });
});

describe('kernel build facts', () => {
  it('version and cmdline are the reference ones', () => {
    const k = boot();
    expect(read(k, 'version')).toBe(ref('version'));
    // without the capture's panic=-1: a Kernelab machine stays crashed after a panic until rebooted
    expect(read(k, 'cmdline')).toBe(ref('cmdline').replace(' panic=-1', ''));
    expect(read(k, 'execdomains')).toBe(ref('execdomains'));
    expect(read(k, 'dma')).toBe(ref('dma'));
    expect(read(k, 'key-users')).toBe(ref('key-users'));
    expect(read(k, 'locks')).toBe(ref('locks'));
  });
});

describe('registrations of drivers and modules', () => {
  it('filesystems, devices and misc equal the reference once its modules are loaded', () => {
    const k = boot();
    const base = read(k, 'filesystems');
    expect(base).not.toContain('ext4');
    // the reference machine's final load history: btrfs registered before ext4 came back
    for (const m of [['nvme'], ['btrfs'], ['loop'], ['ext4'], ['dummy', 'numdummies=2'], ['vfat']]) expect(modprobe(k, m).exitCode).toBe(0);
    expect(read(k, 'filesystems')).toBe(ref('filesystems'));
    expect(read(k, 'devices')).toBe(ref('devices').replace('259 blkext', '254 virtblk\n259 blkext'));
    expect(read(k, 'misc')).toBe(ref('misc'));
    k.devices.registerFilesystem('myfs', true);
    expect(read(k, 'filesystems').endsWith('nodev\tmyfs\n')).toBe(true);
  });

  it('crypto lists the loaded modules providers first, then the built-in ones', () => {
    const k = boot();
    expect(read(k, 'crypto')).not.toContain('blake2b');
    loadReferenceModules(k);
    const ours = read(k, 'crypto').split('\n\n').filter(Boolean);
    const theirs = ref('crypto').split('\n\n').filter(Boolean);
    expect(ours.map((b) => b.split('\n')[1]).sort()).toEqual(theirs.map((b) => b.split('\n')[1]).sort());
    expect(ours.filter((b) => b.includes('module       : kernel'))).toEqual(theirs.filter((b) => b.includes('module       : kernel')));
  });

  it('cgroups lists the controllers on the unified hierarchy', () => {
    const k = boot();
    const ours = read(k, 'cgroups').split('\n');
    const theirs = ref('cgroups').split('\n');
    expect(ours.map((l) => l.split('\t')[0])).toEqual(theirs.map((l) => l.split('\t')[0]));
    for (const l of ours.slice(1).filter(Boolean)) expect(l).toMatch(/^\w+\t0\t\d+\t1$/);
  });
});

describe('block device tables', () => {
  it('partitions and diskstats have the kernel layout, from the block model', () => {
    const k = boot();
    loadReferenceModules(k);
    const parts = read(k, 'partitions');
    expect(parts).toBe(
      'major minor  #blocks  name\n\n 254        0    8388608 vda\n 254        1    8387584 vda1\n' +
        ref('partitions').split('\n').slice(2).join('\n'),
    );
    const ds = read(k, 'diskstats').split('\n').filter(Boolean);
    const refDs = ref('diskstats').split('\n').filter(Boolean);
    expect(ds.slice(-8)).toEqual(refDs.slice(-8));
    for (const l of ds) expect(l).toMatch(/^ {0,3}\d+ {1,7}\d+ \S+( \d+){17}$/);
    k.devices.blockIo('nvme0n1p1', 'r', 22, { ms: 6 });
    expect(read(k, 'diskstats')).toContain(' 259       1 nvme0n1p1 1 0 22 6 0 0 0 0 0 6 6 0 0 0 0 0 0\n');
  });
});

describe('/proc/kallsyms', () => {
  it('has the reference symbols and columns at this boot s KASLR base', () => {
    const k = boot();
    const lines = read(k, 'kallsyms').split('\n').filter(Boolean);
    const theirs = ref('kallsyms_head2000').split('\n').filter(Boolean);
    const base = (ls: string[]): bigint => BigInt('0x' + (ls.find((l) => l.endsWith(' _text')) as string).split(' ')[0]);
    const rel = (l: string, b: bigint): string => {
      const [a, t, n] = l.split(' ');
      return t === 'A' ? l : `${(BigInt('0x' + a) - b).toString(16)} ${t} ${n}`;
    };
    const bo = base(lines);
    const bt = base(theirs);
    expect(lines.slice(0, 2000).map((l) => rel(l, bo))).toEqual(theirs.map((l) => rel(l, bt)));
    expect(bo % 0x200000n).toBe(0n);
    expect(lines.filter((l) => !/^[0-9a-f]{16} [ATtWDdBbRr] \S+$/.test(l))).toEqual([]);
    expect(lines.length).toBeGreaterThan(30000);
    expect(base(read(boot({ seed: 'other' }), 'kallsyms').split('\n'))).not.toBe(bo);
  });

  it('hides addresses from unprivileged readers and with kptr_restrict=2', () => {
    const k = boot();
    const u = read(k, 'kallsyms', user(k)).split('\n');
    expect(u[383]).toBe('0000000000000000 T startup_64');
    k.vfs.writeFile(root(k), '/proc/sys/kernel/kptr_restrict', '2');
    expect(read(k, 'kallsyms').split('\n')[383]).toBe('0000000000000000 T startup_64');
  });
});

describe('/proc/iomem and /proc/ioports', () => {
  it('lay out the i440fx machine sized to its memory', () => {
    const k = boot();
    const ours = read(k, 'iomem').split('\n');
    const theirs = ref('iomem').split('\n');
    const strip = (ls: string[]): string[] => ls.filter((l) => !/Kernel|0000:00:0[34]|nvme|virtio|febf|fe00/.test(l));
    expect(strip(ours)).toEqual(strip(theirs));
    expect(ours).toContain('  fe000000-fe003fff : 0000:00:03.0');
    const big = read(boot({ memoryMb: 6144 }), 'iomem');
    expect(big).toContain('00100000-bffd4fff : System RAM');
    expect(big).toContain('100000000-1bfffffff : System RAM');
    expect(big).toContain('1c0000000-23fffffff : PCI Bus 0000:00');
    const hidden = read(k, 'iomem', user(k)).split('\n')[0];
    expect(hidden).toBe('00000000-00000000 : Reserved');
    const io = read(k, 'ioports').split('\n');
    expect(io.filter((l) => !/c0[0-9a-f]{2}-/.test(l))).toEqual(
      ref('ioports')
        .split('\n')
        .filter((l) => !/c0[0-9a-f]{2}-/.test(l)),
    );
    expect(read(k, 'ioports', user(k)).split('\n')[0]).toBe('0000-0000 : PCI Bus 0000:00');
  });
});
