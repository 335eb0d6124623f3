import { Kernel } from '../kernel';
import { TaskDeath, type FaultSite, type LabBehaviour } from '../faults/contract';
import { insmod, lsmod, modinfo, modprobe, rmmod } from './kmod';
import { validateLabManifest } from './lab';
import { renderProcModules } from './views';

const boot = (seed = 'lab'): Kernel => Kernel.boot({ cpus: 2, memoryMb: 512, seed, hostname: 'kernelab' });
const dmesgSince = (k: Kernel, seq: number): string[] => k.printk.since(seq).map((r) => r.text);
const read = (k: Kernel, p: string, uid = 0): string => k.vfs.readFile({ ...k.rootCtx(), uid, pid: 42 }, p);
const write = (k: Kernel, p: string, data: string, uid = 0): void => k.vfs.writeFile({ ...k.rootCtx(), uid, pid: 42 }, p, data);
const code = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).name;
  }
  return undefined;
};

const MANIFEST = {
  name: 'labmod',
  version: '1.2',
  license: 'GPL',
  description: 'Kernelab exercise module',
  author: 'Kernelab <labs@kernelab.dev>',
  parameters: [
    { name: 'threshold', type: 'int', default: 10, perm: '0644', description: 'Alert threshold' },
    { name: 'verbose', type: 'bool', default: false, perm: '0444' },
    { name: 'secret', type: 'charp', perm: 0 },
  ],
  exportedSymbols: ['labmod_register', 'labmod_unregister'],
  initMessages: [{ level: 'info', text: 'labmod: loaded, threshold=10' }],
  exitMessages: ['labmod: unloaded'],
  files: [
    { path: '/proc/labmod/stats', counter: 'reads' },
    { path: '/proc/labmod/banner', content: 'hello from labmod\n' },
    { path: '/sys/kernel/labmod/threshold', param: 'threshold', mode: '0644' },
    { path: '/sys/module/labmod/events', counter: 'events', increment: 'write', mode: '0200' },
  ],
  behaviours: [] as unknown[],
};

/** A fault machinery stand-in recording what the module triggers (k.faults may not exist yet). */
function spyFaults(k: Kernel, onRun?: (b: LabBehaviour, s: FaultSite) => void): [LabBehaviour, FaultSite][] {
  const calls: [LabBehaviour, FaultSite][] = [];
  (k as unknown as { faults: unknown }).faults = {
    runBehaviour: (b: LabBehaviour, s: FaultSite) => {
      calls.push([b, s]);
      onRun?.(b, s);
    },
  };
  return calls;
}

describe('validateLabManifest', () => {
  it('fills defaults and normalises perms, levels and defaults', () => {
    const v = validateLabManifest(MANIFEST);
    if (!v.ok) throw new Error(v.errors.join('\n'));
    const m = v.manifest;
    expect(m.parameters).toEqual([
      { name: 'threshold', type: 'int', default: '10', perm: 0o644, description: 'Alert threshold' },
      { name: 'verbose', type: 'bool', default: 'N', perm: 0o444, description: '' },
      { name: 'secret', type: 'charp', default: '(null)', perm: 0, description: '' },
    ]);
    expect(m.initMessages).toEqual([{ level: 6, text: 'labmod: loaded, threshold=10' }]);
    expect(m.exitMessages).toEqual([{ level: 6, text: 'labmod: unloaded' }]);
    expect(m.author).toEqual(['Kernelab <labs@kernelab.dev>']);
    expect(m.files[0]).toEqual({ fs: 'procfs', path: '/proc/labmod/stats', mode: 0o444, counter: 'reads', increment: 'read' });
    expect(m.files[3]).toMatchObject({ fs: 'sysfs', mode: 0o200, increment: 'write' });
    expect(validateLabManifest({ name: 'tiny', license: 'GPL' })).toMatchObject({
      ok: true,
      manifest: { parameters: [], files: [], behaviours: [] },
    });
  });

  it('reports every problem with the field it concerns', () => {
    const v = validateLabManifest({
      name: 'ext4',
      colour: 'blue',
      parameters: [
        { name: 'n', type: 'float' },
        { name: 'm', type: 'int', default: 'ten', perm: '0666' },
        { name: 'b', type: 'bool', perm: '0604' },
      ],
      depends: ['printk', 'labmod'],
      initMessages: [{ level: 9, text: 'x' }],
      files: [
        { path: '/etc/passwd', content: 'x' },
        { path: '/proc/x', content: 'a', counter: 'c' },
        { path: '/sys/module/other/x', content: 'a' },
      ],
      behaviours: [
        { kind: 'leak', pagesPerSecond: 0 },
        { kind: 'oops', on: 'load' },
        { kind: 'warn', on: { read: '/proc/nothere' } },
        { kind: 'hung-task', on: { everyMs: 1 } },
        { kind: 'lock-inversion', on: 'load', locks: ['a', 'a'] },
      ],
    });
    expect(v.ok).toBe(false);
    const errors = v.ok ? [] : v.errors;
    expect(errors).toEqual([
      'colour: unknown field (known: name, version, license, description, author, parameters, depends, exportedSymbols, initMessages, exitMessages, files, behaviours)',
      `name: "ext4" is a module of the kernel's tree`,
      'license: required (e.g. "GPL"; a non-GPL-compatible license taints the kernel P)',
      'parameters[0].type: must be one of int, uint, long, ulong, short, ushort, byte, hexint, bool, invbool, charp',
      'parameters[1].default: "ten" is not a valid int',
      'parameters[1].perm: 0666 must not be writable by others',
      'parameters[2].perm: 0604 readable by group/others but not by the owner (user >= group >= other)',
      'depends[0]: "printk" is built into the kernel; only loadable modules can be dependencies',
      'initMessages[0].level: must be 0..7 or one of emerg, alert, crit, err, warning, notice, info, debug',
      'files[0].path: "/etc/passwd" must be below /proc or /sys',
      'files[1]: exactly one of content, param, counter',
      'files[2].path: "/sys/module/other/x" must be below /sys/kernel/ or /sys/module/ext4/',
      'behaviours[0].pagesPerSecond: must be an integer from 1 to 65536',
      'behaviours[1].kind: must be one of leak, null-deref, bug, warn, use-after-free, out-of-bounds, lock-inversion, sleep-in-atomic, hung-task, panic',
      "behaviours[2].on: read must name the path of one of the module's files",
      'behaviours[3].on: everyMs must be an integer from 10 to 86400000',
      'behaviours[4].locks: must be two different lock names (C identifiers)',
    ]);
    expect(validateLabManifest([])).toEqual({ ok: false, errors: ['manifest: must be a JSON object'] });
    expect(validateLabManifest({ name: '9lives', license: 'GPL' })).toMatchObject({
      ok: false,
      errors: [expect.stringMatching(/^name: "9lives" must be a C identifier/)],
    });
  });
});

describe('lab modules in a machine', () => {
  it('load: O and E taints with 6.1 messages, init lines, lsmod, /proc/modules, modinfo, sysctl tainted', () => {
    const k = boot();
    k.modules.registerLab(MANIFEST);
    const seq = k.printk.nextSeq;
    expect(modprobe(k, ['-v', 'labmod'])).toEqual({
      stdout: 'insmod /lib/modules/6.1.0-56-amd64/extra/labmod.ko \n',
      stderr: '',
      exitCode: 0,
    });
    expect(dmesgSince(k, seq)).toEqual([
      'labmod: loading out-of-tree module taints kernel.',
      'labmod: module verification failed: signature and/or required key missing - tainting kernel',
      'labmod: loaded, threshold=10',
    ]);
    expect(k.printk.since(seq).map((r) => r.level)).toEqual([4, 5, 6]);
    expect(lsmod(k).stdout).toBe('Module                  Size  Used by\nlabmod                 20480  0\n');
    expect(renderProcModules(k, k.rootCtx())).toMatch(/^labmod 20480 0 - Live 0xffffffffc0[0-9a-f]{6} \(OE\)\n$/);
    expect(read(k, '/sys/module/labmod/taint')).toBe('OE\n');
    expect(read(k, '/proc/sys/kernel/tainted')).toBe(`${(1 << 12) | (1 << 13)}\n`);
    expect(read(k, '/sys/module/labmod/version')).toBe('1.2\n');
    expect(read(k, '/sys/module/labmod/srcversion')).toMatch(/^[0-9A-F]{23}\n$/);
    const info = modinfo(k, ['labmod']).stdout;
    expect(info).toMatch(
      /^filename: {7}\/lib\/modules\/6\.1\.0-56-amd64\/extra\/labmod\.ko\nversion: {8}1\.2\ndescription: {4}Kernelab exercise module\nauthor: {9}Kernelab <labs@kernelab\.dev>\nlicense: {8}GPL\nsrcversion: {5}[0-9A-F]{23}\ndepends: {8}\nretpoline: {6}Y\nname: {11}labmod\nvermagic: {7}6\.1\.0-56-amd64 SMP preempt mod_unload modversions \nparm: {11}threshold:Alert threshold \(int\)\nparm: {11}verbose:bool\nparm: {11}secret:charp\n$/,
    );
    // a second out-of-tree load prints neither message again (already tainted O, notice printed once)
    k.modules.registerLab({ name: 'other', license: 'GPL', initMessages: ['other: hi'] });
    const s2 = k.printk.nextSeq;
    expect(insmod(k, ['/root/other.ko']).exitCode).toBe(0);
    expect(dmesgSince(k, s2)).toEqual(['other: hi']);
    expect(rmmod(k, ['other', 'labmod']).exitCode).toBe(0);
    expect(k.modules.lastUnloaded).toBe('labmod(OE)');
    expect(read(k, '/proc/sys/kernel/tainted')).toBe(`${(1 << 12) | (1 << 13)}\n`);
  });

  it('a proprietary license taints P and disables lock debugging', () => {
    const k = boot();
    k.modules.registerLab({ name: 'blob', license: 'Proprietary' });
    const seq = k.printk.nextSeq;
    modprobe(k, ['blob']);
    expect(dmesgSince(k, seq)).toEqual([
      'blob: loading out-of-tree module taints kernel.',
      "blob: module license 'Proprietary' taints kernel.",
      'Disabling lock debugging due to kernel taint',
      'blob: module verification failed: signature and/or required key missing - tainting kernel',
    ]);
    expect(read(k, '/sys/module/blob/taint')).toBe('POE\n');
  });

  it('files: counters, fixed text, parameters (0644 writable by root, EINVAL on bad values), removed at exit', () => {
    const k = boot();
    k.modules.registerLab(MANIFEST);
    expect(modprobe(k, ['labmod', 'threshold=25', 'verbose=1']).exitCode).toBe(0);
    expect(k.vfs.readdir(k.rootCtx(), '/proc/labmod').map((e) => e.name)).toEqual(['stats', 'banner']);
    expect(read(k, '/proc/labmod/stats')).toBe('1\n');
    expect(read(k, '/proc/labmod/stats')).toBe('2\n');
    expect(read(k, '/proc/labmod/banner')).toBe('hello from labmod\n');
    expect(read(k, '/sys/kernel/labmod/threshold')).toBe('25\n');
    expect(read(k, '/sys/module/labmod/parameters/verbose')).toBe('Y\n');
    expect(
      k.vfs
        .readdir(k.rootCtx(), '/sys/module/labmod/parameters')
        .map((e) => e.name)
        .sort(),
    ).toEqual(['threshold', 'verbose']);
    expect(k.vfs.readdir(k.rootCtx(), '/sys/module/labmod/parameters').find((e) => e.name === 'threshold')?.mode).toBe(0o644);
    write(k, '/sys/module/labmod/parameters/threshold', '0x20\n');
    expect(read(k, '/sys/kernel/labmod/threshold')).toBe('32\n');
    write(k, '/sys/kernel/labmod/threshold', '-7');
    expect(read(k, '/sys/module/labmod/parameters/threshold')).toBe('-7\n');
    expect(code(() => write(k, '/sys/module/labmod/parameters/threshold', 'lots'))).toBe('EINVAL');
    expect(code(() => write(k, '/sys/module/labmod/parameters/threshold', '99999999999'))).toBe('EINVAL');
    expect(code(() => write(k, '/sys/module/labmod/parameters/verbose', 'N'))).toBe('EACCES');
    expect(code(() => write(k, '/sys/module/labmod/parameters/threshold', '1', 1000))).toBe('EACCES');
    write(k, '/sys/module/labmod/events', 'x');
    write(k, '/sys/module/labmod/events', 'y');
    expect(k.modules.labCounter('labmod', 'events')).toBe(2);
    expect(rmmod(k, ['labmod']).exitCode).toBe(0);
    expect(code(() => read(k, '/proc/labmod/stats'))).toBe('ENOENT');
    expect(code(() => read(k, '/sys/kernel/labmod/threshold'))).toBe('ENOENT');
    expect(k.vfs.readdir(k.rootCtx(), '/proc').map((e) => e.name)).not.toContain('labmod');
    // counters start again at the next load
    modprobe(k, ['labmod']);
    expect(read(k, '/proc/labmod/stats')).toBe('1\n');
  });

  it('dependencies: modprobe loads the chain, the lab module holds its dependency, symbols missing => Unknown symbol', () => {
    const k = boot();
    k.modules.registerLab({ name: 'labcore', license: 'GPL', exportedSymbols: ['labcore_get'], depends: ['crc16'] });
    k.modules.registerLab({ name: 'labuser', license: 'GPL', depends: ['labcore'] });
    expect(modprobe(k, ['--show-depends', 'labuser']).stdout).toBe(
      [
        'insmod /lib/modules/6.1.0-56-amd64/kernel/lib/crc16.ko ',
        'insmod /lib/modules/6.1.0-56-amd64/extra/labcore.ko ',
        'insmod /lib/modules/6.1.0-56-amd64/extra/labuser.ko ',
        '',
      ].join('\n'),
    );
    const seq = k.printk.nextSeq;
    expect(insmod(k, ['labuser.ko']).stderr).toBe('insmod: ERROR: could not insert module labuser.ko: Unknown symbol in module\n');
    expect(dmesgSince(k, seq).slice(-1)).toEqual(['labuser: Unknown symbol labcore_get (err -2)']);
    expect(modprobe(k, ['labuser']).exitCode).toBe(0);
    expect(rmmod(k, ['labcore']).stderr).toBe('rmmod: ERROR: Module labcore is in use by: labuser\n');
    expect(code(() => k.modules.unregisterLab('labcore'))).toBe('EBUSY');
    // kmod 30 walks the dependencies in modules.dep-reversed order and removes those unused at that moment:
    // crc16 is still held by labcore when its turn comes
    expect(modprobe(k, ['-r', '-v', 'labuser']).stdout).toBe('rmmod labuser\nrmmod labcore\n');
    expect(k.modules.list().map((m) => m.name)).toEqual(['crc16']);
    expect(code(() => k.modules.registerLab({ name: 'labcore', license: 'GPL', depends: ['labuser'] }))).toBe('ELOOP');
    expect(code(() => k.modules.registerLab({ name: 'x', license: 'GPL', depends: ['nosuch'] }))).toBe('ENOENT');
    expect(code(() => k.modules.registerLab({ name: 'x' }))).toBe('EINVAL');
  });

  it('a file that exists already fails the init (ENOMEM for procfs, EEXIST for sysfs)', () => {
    const k = boot();
    k.modules.registerLab({ name: 'clash', license: 'GPL', files: [{ path: '/proc/meminfo', content: 'x' }] });
    const seq = k.printk.nextSeq;
    expect(modprobe(k, ['clash'])).toEqual({
      stdout: '',
      stderr: "modprobe: ERROR: could not insert 'clash': Cannot allocate memory\n",
      exitCode: 1,
    });
    expect(dmesgSince(k, seq).pop()).toBe("proc_dir_entry '/proc/meminfo' already registered");
    expect(k.modules.isLoaded('clash')).toBe(false);
    k.modules.registerLab({
      name: 'clash2',
      license: 'GPL',
      files: [{ path: '/sys/kernel/mm/transparent_hugepage/enabled', content: 'x' }],
    });
    expect(insmod(k, ['clash2.ko']).stderr).toBe('insmod: ERROR: could not insert module clash2.ko: File exists\n');
    expect(dmesgSince(k, seq).pop()).toBe("sysfs: cannot create duplicate filename '/kernel/mm/transparent_hugepage/enabled'");
  });

  it('behaviours run through k.faults at their trigger points with the fault site', () => {
    const k = boot();
    const calls = spyFaults(k);
    k.modules.registerLab({
      ...MANIFEST,
      behaviours: [
        { kind: 'warn', on: 'load' },
        { kind: 'null-deref', on: { read: '/proc/labmod/stats' } },
        { kind: 'out-of-bounds', on: { write: '/sys/kernel/labmod/threshold' }, objectSize: 64, offset: 64 },
        { kind: 'lock-inversion', on: { everyMs: 500 }, locks: ['a_lock', 'b_lock'] },
        { kind: 'bug', on: 'unload' },
      ],
    });
    modprobe(k, ['labmod'], { pid: 77 });
    expect(calls).toEqual([
      [
        { kind: 'warn', on: 'load' },
        { module: 'labmod', fn: 'labmod_init', pid: 77 },
      ],
    ]);
    read(k, '/proc/labmod/stats');
    expect(calls[1]).toEqual([
      { kind: 'null-deref', on: { read: '/proc/labmod/stats' } },
      { module: 'labmod', fn: 'labmod_read', pid: 42 },
    ]);
    read(k, '/proc/labmod/banner');
    expect(calls).toHaveLength(2);
    write(k, '/sys/kernel/labmod/threshold', '3');
    expect(calls[2][1]).toEqual({ module: 'labmod', fn: 'labmod_write', pid: 42 });
    expect(calls[2][0]).toMatchObject({ kind: 'out-of-bounds', objectSize: 64, offset: 64 });
    k.advance(1_600_000_000);
    expect(calls.slice(3).map(([b, s]) => `${b.kind}@${s.fn}/${s.pid}`)).toEqual([
      'lock-inversion@labmod_timer_fn/0',
      'lock-inversion@labmod_timer_fn/0',
      'lock-inversion@labmod_timer_fn/0',
    ]);
    rmmod(k, ['labmod'], { pid: 78 });
    expect(calls[6]).toEqual([
      { kind: 'bug', on: 'unload' },
      { module: 'labmod', fn: 'labmod_exit', pid: 78 },
    ]);
    k.advance(2_000_000_000);
    expect(calls).toHaveLength(7);
  });

  it('a task killed inside module_init leaves the module Loading with a reference (the krefcrash reference)', () => {
    const k = boot();
    spyFaults(k, (b) => {
      if (b.kind === 'null-deref') throw new TaskDeath(9, 'oops in init');
    });
    k.modules.registerLab({
      name: 'krefcrash',
      license: 'GPL',
      initMessages: ['krefcrash: loading, mode=oops'],
      behaviours: [{ kind: 'null-deref', on: 'load' }],
    });
    expect(() => insmod(k, ['/root/krefcrash.ko'])).toThrow(TaskDeath);
    expect(renderProcModules(k, k.rootCtx())).toMatch(/^krefcrash 28672 1 - Loading 0xffffffffc0[0-9a-f]{6} \(OE\+\)\n$/);
    expect(lsmod(k).stdout).toBe('Module                  Size  Used by\nkrefcrash              16384  1\n');
    expect(read(k, '/sys/module/krefcrash/initstate')).toBe('coming\n');
    expect(rmmod(k, ['krefcrash'])).toEqual({ stdout: '', stderr: 'rmmod: ERROR: Module krefcrash is in use\n', exitCode: 1 });
    expect(rmmod(k, ['-f', 'krefcrash']).stderr).toBe('rmmod: ERROR: could not remove module krefcrash: Device or resource busy\n');
  });

  it('leak: pages per second of virtual time into kmalloc-4k while loaded; never freed, not even by rmmod', () => {
    const k = boot();
    const slabKb = (): number => Number(/^SUnreclaim:\s+(\d+) kB$/m.exec(read(k, '/proc/meminfo'))?.[1]);
    k.modules.registerLab({ name: 'leaky', license: 'GPL', behaviours: [{ kind: 'leak', pagesPerSecond: 256 }] });
    modprobe(k, ['leaky']);
    const before = slabKb();
    k.advance(4_500_000_000);
    expect(k.modules.leakedPages('leaky')).toBe(4 * 256);
    expect(slabKb() - before).toBeGreaterThanOrEqual(4 * 256 * 4 - 64);
    const snap = Kernel.fromState(JSON.parse(JSON.stringify(k.getState())));
    rmmod(k, ['leaky']);
    k.advance(3_000_000_000);
    expect(k.modules.leakedPages('leaky')).toBe(4 * 256);
    expect(slabKb() - before).toBeGreaterThanOrEqual(4 * 256 * 4 - 64);
    // the snapshot keeps the registration, the loaded module and its running leak
    snap.advance(1_000_000_000);
    expect(snap.modules.leakedPages('leaky')).toBe(5 * 256);
    expect(snap.modules.labs().map((l) => l.name)).toEqual(['leaky']);
    expect(lsmod(snap).stdout).toContain('leaky');
  });
});
