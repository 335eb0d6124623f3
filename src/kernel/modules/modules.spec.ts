import * as fs from 'fs';
import * as path from 'path';
import { Kernel } from '../kernel';
import { insmod, lsmod, modinfo, modprobe, probeList, rmmod } from './kmod';
import { registry, resolveName } from './registry';
import { TAINT } from './taint';
import { moduleSysfsDir, renderProcModules } from './views';
import type { DirNode, FileNode, FsCtx, LinkNode } from '../fs/vnode';

const REF = path.resolve(__dirname, '../../../../shared/reference/linux-6.1/modules');
const ref = (f: string): string => fs.readFileSync(path.join(REF, f), 'utf8');
const refRc = (f: string): number => Number(/exit status: (\d+)/.exec(ref(`${f}.rc`))?.[1]);
const boot = (seed = 'mods'): Kernel => Kernel.boot({ cpus: 2, memoryMb: 512, seed, hostname: 'kernelab' });
const root = (k: Kernel): FsCtx => k.rootCtx();
const dmesgSince = (k: Kernel, seq: number): string[] => k.printk.since(seq).map((r) => r.text);

/** the reference session: ext4, nvme, btrfs, loop, dummy, vfat */
function referenceSession(k: Kernel): void {
  for (const m of ['ext4', 'nvme', 'btrfs', 'loop', 'dummy', 'vfat']) expect(modprobe(k, ['-v', m]).exitCode).toBe(0);
}

describe('module registry', () => {
  it('holds the 4023 modules of the tree, the built-ins, aliases and softdeps', () => {
    const reg = registry();
    expect(reg.modules).toHaveLength(4023);
    expect(reg.builtins.has('8250')).toBe(true);
    expect(reg.builtins.has('printk')).toBe(true);
    expect(resolveName('fs-ext4')).toEqual([{ kind: 'module', name: 'ext4' }]);
    expect(resolveName('crypto-crc32c').map((m) => m.name)).toEqual(['crc32c_intel', 'crc32c_generic']);
    expect(resolveName('char-major-10-237')).toEqual([{ kind: 'module', name: 'loop' }]);
    expect(resolveName('char-major-4-64')).toEqual([{ kind: 'builtin', name: '8250' }]);
    expect(reg.byName.get('ext4')?.softdeps).toEqual(['pre: crypto-crc32c']);
    expect(reg.byName.get('nvme')?.depends).toEqual(['nvme_core']);
    expect(resolveName('nosuchmodule')).toEqual([]);
  });

  it('keeps the data file compact', () => {
    expect(fs.statSync(path.resolve(__dirname, '../data/modules/modules.json')).size).toBeLessThan(1_600_000);
  });
});

describe('modprobe', () => {
  it.each([
    ['ext4', 'modprobe_show_depends_ext4.txt'],
    ['nvme', 'modprobe_show_depends_nvme.txt'],
    ['vfat', 'modprobe_show_depends_vfat.txt'],
    ['btrfs', 'modprobe_show_depends_btrfs.txt'],
  ])('--show-depends %s matches kmod byte for byte', (name, file) => {
    const k = boot();
    const r = modprobe(k, ['--show-depends', name]);
    expect(r).toEqual({ stdout: ref(file), stderr: '', exitCode: refRc(file) });
    expect(k.modules.list()).toHaveLength(0);
  });

  it('-v loads the reference session in kmod order with the reference lsmod', () => {
    const k = boot();
    const seq: [string, string, string][] = [
      ['ext4', 'modprobe_1_ext4.txt', 'lsmod_1_after_ext4.txt'],
      ['nvme', 'modprobe_2_nvme.txt', 'lsmod_2_after_nvme.txt'],
    ];
    expect(lsmod(k).stdout).toBe(ref('lsmod_0_initial.txt'));
    for (const [m, out, ls] of seq) {
      expect(modprobe(k, ['-v', m])).toEqual({ stdout: ref(out), stderr: '', exitCode: 0 });
      expect(lsmod(k).stdout).toBe(ref(ls));
    }
    expect(modprobe(k, ['-v', 'btrfs']).stdout).toBe(ref('modprobe_3_btrfs.txt'));
    expect(lsmod(k).stdout).toBe(ref('lsmod_3_after_btrfs.txt'));
    for (const [i, m] of [
      [4, 'loop'],
      [5, 'dummy'],
      [6, 'vfat'],
    ] as const) {
      expect(modprobe(k, ['-v', m]).stdout).toBe(ref(`modprobe_${i}_${m}.txt`));
      expect(lsmod(k).stdout).toBe(ref(`lsmod_${i}_after_${m}.txt`));
    }
  });

  it('already loaded: silent; with params: appended to the target; unknown: FATAL', () => {
    const k = boot();
    modprobe(k, ['ext4']);
    expect(modprobe(k, ['-v', 'ext4'])).toEqual({ stdout: ref('modprobe_v_already_loaded.txt'), stderr: '', exitCode: 0 });
    expect(modprobe(k, ['-v', 'dummy', 'numdummies=2'])).toEqual({ stdout: ref('modprobe_dummy_params.txt'), stderr: '', exitCode: 0 });
    expect(k.modules.find('dummy')?.params.numdummies).toBe('2');
    expect(modprobe(k, ['nosuchmodule'])).toEqual({
      stdout: '',
      stderr: ref('modprobe_nonexistent.txt'),
      exitCode: refRc('modprobe_nonexistent.txt'),
    });
    expect(modprobe(k, ['-q', 'nosuchmodule'])).toEqual({ stdout: '', stderr: '', exitCode: 1 });
    expect(modprobe(k, ['fs-vfat']).exitCode).toBe(0);
    expect(k.modules.isLoaded('vfat')).toBe(true);
    expect(modprobe(k, ['-n', '-v', 'loop'])).toEqual({
      stdout: `insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/block/loop.ko \n`,
      stderr: '',
      exitCode: 0,
    });
    expect(k.modules.isLoaded('loop')).toBe(false);
    expect(modprobe(k, ['printk'])).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    expect(modprobe(k, ['--show-depends', 'printk']).stdout).toBe('builtin printk\n');
  });

  it('-r removes the module and its unused dependencies; errors as kmod prints them', () => {
    const k = boot();
    referenceSession(k);
    expect(modprobe(k, ['-r', '-v', 'vfat'])).toEqual({ stdout: ref('modprobe_r_vfat.txt'), stderr: '', exitCode: 0 });
    expect(modprobe(k, ['-rv', 'nosuchmodule'])).toEqual({
      stdout: '',
      stderr: ref('modprobe_r_nonloaded.txt'),
      exitCode: refRc('modprobe_r_nonloaded.txt'),
    });
    // not loaded: nothing to do (kmod 30), unless --first-time
    expect(modprobe(k, ['-r', 'fat'])).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    expect(modprobe(k, ['-r', '--first-time', 'fat'])).toEqual({
      stdout: '',
      stderr: 'modprobe: FATAL: Module fat is not in kernel.\n',
      exitCode: 1,
    });
    expect(modprobe(k, ['-r', 'jbd2'])).toEqual({ stdout: '', stderr: 'modprobe: FATAL: Module jbd2 is in use.\n', exitCode: 1 });
    expect(modprobe(k, ['-r', 'printk']).stderr).toBe('modprobe: FATAL: Module printk is builtin.\n');
    expect(modprobe(k, ['-v', 'vfat'])).toEqual({ stdout: ref('modprobe_vfat_again.txt'), stderr: '', exitCode: 0 });
    // ext4's dependencies go with it; crc32c stays (used through libcrc32c's transform)
    expect(modprobe(k, ['-r', 'ext4']).exitCode).toBe(0);
    expect(['ext4', 'jbd2', 'mbcache', 'crc16'].filter((m) => k.modules.isLoaded(m))).toEqual([]);
    expect(k.modules.isLoaded('crc32c_intel')).toBe(true);
  });

  it('keeps kmod duplicates in the probe list (softdep providers re-listing their deps)', () => {
    const names = probeList('nvme').map((p) => p.name);
    expect(names.filter((n) => n === 'crct10dif_common')).toHaveLength(3);
  });
});

describe('rmmod and insmod', () => {
  it('prints the reference errors with their exit status', () => {
    const k = boot();
    referenceSession(k);
    const cases: [string[], string][] = [
      [['nosuchmodule'], 'rmmod_notloaded.txt'],
      [['jbd2'], 'rmmod_inuse_jbd2.txt'],
      [['nvme_core'], 'rmmod_inuse_nvme_core.txt'],
      [['fat'], 'rmmod_inuse_fat.txt'],
    ];
    for (const [argv, file] of cases) expect(rmmod(k, argv)).toEqual({ stdout: '', stderr: ref(file), exitCode: refRc(file) });
    expect(rmmod(k, ['dummy'])).toEqual({ stdout: ref('rmmod_dummy_ok.txt'), stderr: '', exitCode: refRc('rmmod_dummy_ok.txt') });
    // a mounted filesystem / an open device holds a reference without being a holder
    expect(k.modules.get('ext4')).toBe(true);
    expect(rmmod(k, ['ext4'])).toEqual({ stdout: '', stderr: ref('rmmod_inuse_ext4_mounted.txt'), exitCode: 1 });
    expect(k.modules.get('loop')).toBe(true);
    expect(rmmod(k, ['loop']).stderr).toBe(ref('rmmod_inuse_loop_has_users.txt'));
    expect(rmmod(k, ['printk']).stderr).toBe('rmmod: ERROR: Module printk is builtin.\n');
  });

  it('rmmod -f unloads a module with users and taints the kernel; holders still block it', () => {
    const k = boot();
    modprobe(k, ['ext4']);
    k.modules.get('ext4');
    expect(rmmod(k, ['-f', 'jbd2'])).toEqual({
      stdout: '',
      stderr: 'rmmod: ERROR: could not remove module jbd2: Resource temporarily unavailable\n',
      exitCode: 1,
    });
    expect(k.modules.taintMask).toBe(0);
    expect(rmmod(k, ['-f', 'ext4']).exitCode).toBe(0);
    expect(k.modules.taintMask & (1 << TAINT.FORCED_RMMOD)).toBeTruthy();
    expect(rmmod(k, ['-v', 'jbd2'])).toEqual({ stdout: ref('rmmod_v_ext4_then_jbd2.txt'), stderr: '', exitCode: 0 });
  });

  it('staging and forced loads taint the module and the kernel; rmmod takes a path', () => {
    const k = boot();
    const seq = k.printk.nextSeq;
    expect(modprobe(k, ['qlge']).exitCode).toBe(0);
    expect(dmesgSince(k, seq)).toContain('qlge: module is from the staging directory, the quality is unknown, you have been warned.');
    expect(renderProcModules(k, root(k))).toMatch(/^qlge \d+ 0 - Live 0xffffffffc0[0-9a-f]{6} \(C\)\n$/);
    expect(((moduleSysfsDir(k).lookup(root(k), 'qlge') as DirNode).lookup(root(k), 'taint') as FileNode).read(root(k))).toBe('C\n');
    expect(k.modules.taintMask).toBe(1 << TAINT.CRAP);
    expect(insmod(k, ['-f', '/lib/modules/6.1.0-56-amd64/kernel/drivers/block/loop.ko', 'max_loop=4']).exitCode).toBe(0);
    expect(k.modules.find('loop')?.params.max_loop).toBe('4');
    expect(renderProcModules(k, root(k)).split('\n')[0]).toMatch(/ \(F\)$/);
    expect(rmmod(k, ['/lib/modules/6.1.0-56-amd64/kernel/drivers/block/loop.ko', 'qlge'])).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    expect(k.modules.list()).toHaveLength(0);
  });

  it('insmod: File exists; missing dependencies => Unknown symbol lines in dmesg', () => {
    const k = boot();
    referenceSession(k);
    const ext4 = '/lib/modules/6.1.0-56-amd64/kernel/fs/ext4/ext4.ko';
    expect(insmod(k, [ext4])).toEqual({
      stdout: '',
      stderr: ref('insmod_already_loaded.txt'),
      exitCode: refRc('insmod_already_loaded.txt'),
    });
    expect(rmmod(k, ['ext4', 'jbd2']).exitCode).toBe(0);
    const seq = k.printk.nextSeq;
    expect(insmod(k, [ext4])).toEqual({
      stdout: '',
      stderr: ref('insmod_unknown_symbols_ext4.txt'),
      exitCode: refRc('insmod_unknown_symbols_ext4.txt'),
    });
    const theirs = new Set(
      ref('dmesg_errors_and_removals.txt')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.replace(/^\[[ \d.]+\] /, '')),
    );
    const ours = dmesgSince(k, seq);
    expect(ours).toHaveLength(54);
    for (const l of ours) expect(theirs.has(l)).toBe(true);
    expect(modprobe(k, ['-v', 'ext4'])).toEqual({ stdout: ref('modprobe_ext4_again.txt'), stderr: '', exitCode: 0 });
    expect(insmod(k, ['/tmp/nothere.ko']).stderr).toBe('insmod: ERROR: could not load module /tmp/nothere.ko: No such file or directory\n');
    expect(insmod(k, [])).toEqual({ stdout: '', stderr: 'insmod: ERROR: missing filename.\n', exitCode: 1 });
  });
});

describe('modinfo', () => {
  const files = fs
    .readdirSync(REF)
    .filter((f) => /^modinfo_[a-z0-9_]+\.txt$/.test(f) && !f.startsWith('modinfo_F_') && !f.startsWith('modinfo_builtin'));
  it.each(files)('%s byte for byte', (file) => {
    const name = /^modinfo_(.*)\.txt$/.exec(file)?.[1] as string;
    expect(modinfo(boot(), [name])).toEqual({ stdout: ref(file), stderr: '', exitCode: refRc(file) });
  });

  it('-F fields, built-ins, aliases and unknown names', () => {
    const k = boot();
    expect(modinfo(k, ['-F', 'depends', 'ext4']).stdout).toBe(ref('modinfo_F_depends_ext4.txt'));
    expect(modinfo(k, ['-F', 'parm', 'loop']).stdout).toBe(ref('modinfo_F_parm_loop.txt'));
    expect(modinfo(k, ['8250'])).toEqual({ stdout: ref('modinfo_builtin_8250.txt'), stderr: '', exitCode: 0 });
    expect(modinfo(k, ['-F', 'filename', 'fs-ext4']).stdout).toBe('/lib/modules/6.1.0-56-amd64/kernel/fs/ext4/ext4.ko\n');
    expect(modinfo(k, ['nosuch'])).toEqual({ stdout: '', stderr: 'modinfo: ERROR: Module nosuch not found.\n', exitCode: 1 });
    // a module without reference text: same shape, a 512-byte signature
    const xfs = modinfo(k, ['xfs']).stdout;
    expect(xfs).toMatch(/^filename: {7}\/lib\/modules\/6\.1\.0-56-amd64\/kernel\/fs\/xfs\/xfs\.ko\n/);
    expect(xfs).toContain('alias:          fs-xfs\n');
    expect(xfs.split('signature:')[1].match(/[0-9A-F]{2}/g)).toHaveLength(512);
  });
});

describe('views', () => {
  it('/proc/modules has the reference fields after the reference session', () => {
    const k = boot();
    referenceSession(k);
    const ours = renderProcModules(k, root(k)).split('\n').filter(Boolean);
    const theirs = ref('proc_modules_after_all.txt').split('\n').filter(Boolean);
    const grammar = /^\w+ \d+ \d+ (-|(\w+,)+) Live 0xffffffffc0[0-9a-f]{6}$/;
    for (const l of ours) expect(l).toMatch(grammar);
    const fields = (l: string): string => l.split(' ').slice(0, 4).join(' ');
    expect(ours.map(fields).sort()).toEqual(theirs.map(fields).sort());
    // distinct, non-overlapping load addresses
    const spans = k.modules
      .list()
      .map((m) => [m.base, m.base + m.size] as const)
      .sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) expect(spans[i][0]).toBeGreaterThan(spans[i - 1][1]);
    expect(renderProcModules(k, { ...root(k), uid: 1000 })).toContain('Live 0x0000000000000000');
  });

  it('/sys/module/<m> has the reference attributes', () => {
    const k = boot();
    referenceSession(k);
    const ctx = root(k);
    const dir = moduleSysfsDir(k);
    const sub = (d: DirNode, n: string): DirNode => d.lookup(ctx, n) as DirNode;
    const read = (d: DirNode, n: string): string => (d.lookup(ctx, n) as FileNode).read(ctx);
    const jbd2 = sub(dir, 'jbd2');
    expect(read(jbd2, 'coresize')).toBe('167936\n');
    expect(read(jbd2, 'refcnt')).toBe('1\n');
    expect(read(jbd2, 'initstate')).toBe('live\n');
    expect(read(jbd2, 'initsize')).toBe('0\n');
    expect(read(jbd2, 'taint')).toBe('\n');
    expect((sub(jbd2, 'holders').lookup(ctx, 'ext4') as LinkNode).target(ctx)).toBe('../../ext4');
    const top = ref('sys_module_jbd2_find.txt')
      .split('\n')
      .filter((l) => /^\/sys\/module\/jbd2\/[^/]+$/.test(l))
      .map((l) => l.split('/').pop());
    expect(jbd2.list(ctx).sort()).toEqual([...top].sort());
    const sections = sub(jbd2, 'sections');
    for (const s of ['.text', '.data', '.bss', '.rodata']) expect(read(sections, s)).toMatch(/^0xffffffffc0[0-9a-f]{6}\n$/);
    expect(read(sections, '.text')).toBe(
      `0x${
        renderProcModules(k, ctx)
          .split('\n')
          .find((l) => l.startsWith('jbd2 '))
          ?.split(' 0x')[1]
      }\n`,
    );
    const loopParams = sub(sub(dir, 'loop'), 'parameters');
    const vals =
      loopParams
        .list(ctx)
        .sort()
        .map((p) => `${p}=${read(loopParams, p).trim()}`)
        .join('\n') + '\n';
    expect(vals).toBe(ref('sys_module_loop_parameters.txt'));
    expect(sub(dir, 'dummy').list(ctx)).not.toContain('parameters');
    expect(dir.list(ctx).sort()).toEqual(
      k.modules
        .list()
        .map((m) => m.name)
        .sort(),
    );
    expect(dir.lookup(ctx, 'xfs')).toBeUndefined();
    // modes and stat sizes as ls -lR shows them
    const lsl = (d: DirNode, n: string): string => {
      const e = d.lookup(ctx, n) as FileNode | DirNode;
      return `${e.type}:${e.mode.toString(8)}:${e.type === 'file' ? e.size?.(ctx) : 0}`;
    };
    const loop = sub(dir, 'loop');
    expect(['coresize', 'holders', 'parameters', 'sections', 'uevent'].map((n) => lsl(loop, n))).toEqual([
      'file:444:4096',
      'dir:755:0',
      'dir:755:0',
      'dir:755:0',
      'file:200:4096',
    ]);
    expect(lsl(sub(loop, 'sections'), '.text')).toBe('file:400:19');
    expect(lsl(sub(loop, 'parameters'), 'max_loop')).toBe('file:444:4096');
  });

  it('/proc/modules is mounted in procfs', () => {
    const k = boot();
    modprobe(k, ['loop']);
    const procRoot = k.vfs.list().find((m) => m.path === '/proc')?.root as DirNode;
    expect((procRoot.lookup(root(k), 'modules') as FileNode).read(root(k))).toMatch(/^loop 32768 0 - Live 0xffffffffc0[0-9a-f]{6}\n$/);
  });
});

describe('effects, hooks and snapshots', () => {
  it('prints the init messages of the reference dmesg', () => {
    const k = boot();
    let seq = k.printk.nextSeq;
    modprobe(k, ['btrfs']);
    const b = dmesgSince(k, seq);
    const theirs = ref('dmesg_modprobe_3_btrfs.txt')
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/^\[[ \d.]+\] /, ''));
    expect(b).toHaveLength(theirs.length);
    const shape = (l: string): string => l.replace(/\d+/g, 'N');
    expect(b.map(shape)).toEqual(theirs.map(shape));
    seq = k.printk.nextSeq;
    modprobe(k, ['loop']);
    expect(dmesgSince(k, seq)).toEqual(['loop: module loaded']);
    seq = k.printk.nextSeq;
    modprobe(k, ['ext4']);
    expect(dmesgSince(k, seq)).toEqual([]);
    seq = k.printk.nextSeq;
    modprobe(k, ['dummy', 'bogus=1']);
    expect(dmesgSince(k, seq)).toEqual(["dummy: unknown parameter 'bogus' ignored"]);
  });

  it('runs onLoad/onUnload hooks and the optional vmalloc accounting hook', () => {
    const k = boot();
    const events: string[] = [];
    const areas: string[] = [];
    const mm = k.mm as unknown as { vmallocAdd: (caller: string, bytes: number) => number };
    const real = mm.vmallocAdd.bind(k.mm);
    mm.vmallocAdd = (caller: string, bytes: number): number => {
      areas.push(`${caller} ${bytes}`);
      return real(caller, bytes);
    };
    const off = k.modules.onLoad((m) => events.push(`load ${m.name} ${m.state}`));
    k.modules.onUnload((m) => events.push(`unload ${m.name}`));
    modprobe(k, ['vfat']);
    rmmod(k, ['vfat']);
    off();
    modprobe(k, ['loop']);
    expect(events).toEqual(['load fat live', 'load vfat live', 'unload vfat']);
    expect(areas).toEqual(['load_module+0xbb7/0x21a0 90112', 'load_module+0xbb7/0x21a0 24576', 'load_module+0xbb7/0x21a0 32768']);
  });

  it('snapshot -> restore renders identically; same seed => same output', () => {
    const a = boot('seed-1');
    referenceSession(a);
    const b = Kernel.fromState(JSON.parse(JSON.stringify(a.getState())));
    expect(renderProcModules(b, root(b))).toBe(renderProcModules(a, root(a)));
    expect(lsmod(b).stdout).toBe(lsmod(a).stdout);
    modprobe(a, ['xfs']);
    modprobe(b, ['xfs']);
    expect(renderProcModules(b, root(b))).toBe(renderProcModules(a, root(a)));
    const c = boot('seed-1');
    referenceSession(c);
    modprobe(c, ['xfs']);
    expect(renderProcModules(c, root(c))).toBe(renderProcModules(a, root(a)));
    const d = boot('seed-2');
    referenceSession(d);
    expect(renderProcModules(d, root(d))).not.toBe(renderProcModules(c, root(c)));
  });
});

describe('performance', () => {
  it('modprobe btrfs with its chain in <= 1 ms, lsmod of 100 modules in <= 100 us', () => {
    registry();
    const times: number[] = [];
    for (let i = 0; i < 21; i++) {
      const k = boot();
      // the module subsystem's own cost: the mm's vmalloc accounting (its syncDerived) is timed in mm's tests
      (k.mm as unknown as Record<string, unknown>).vmallocAdd = undefined;
      const t0 = performance.now();
      modprobe(k, ['btrfs']);
      times.push(performance.now() - t0);
      expect(k.modules.isLoaded('btrfs')).toBe(true);
    }
    // median: the first runs include JIT warm-up
    expect(times.sort((a, b) => a - b)[10]).toBeLessThanOrEqual(1);
    const k = boot();
    for (const m of registry()
      .modules.filter((x) => x.depLine.length === 0)
      .slice(0, 100))
      k.modules.load(m.name);
    expect(k.modules.list()).toHaveLength(100);
    for (let i = 0; i < 50; i++) lsmod(k);
    const n = 200;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) lsmod(k);
    expect(((performance.now() - t0) / n) * 1000).toBeLessThanOrEqual(100);
    // and uncached (after a change): a fresh render each time
    const fresh: number[] = [];
    for (let i = 0; i < 500; i++) {
      k.modules.get(k.modules.list()[0].name);
      lsmod(k);
    }
    for (let i = 0; i < 101; i++) {
      expect(k.modules.get(k.modules.list()[0].name)).toBe(true);
      const t1 = performance.now();
      lsmod(k);
      fresh.push((performance.now() - t1) * 1000);
    }
    expect(fresh.sort((a, b) => a - b)[50]).toBeLessThanOrEqual(100);
  });
});
