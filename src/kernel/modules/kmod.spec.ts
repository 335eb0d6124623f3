import * as fs from 'fs';
import * as path from 'path';
import { Kernel } from '../kernel';
import { insmod, lsmod, modinfo, modprobe, rmmod } from './kmod';
import { renderProcModules } from './views';

const REF = path.resolve(__dirname, '../../../../shared/reference/linux-6.1/modules');
const ref = (f: string): string => fs.readFileSync(path.join(REF, f), 'utf8');
const boot = (seed = 'kmod'): Kernel => Kernel.boot({ cpus: 2, memoryMb: 512, seed, hostname: 'kernelab' });
const dmesgSince = (k: Kernel, seq: number): string =>
  k.printk
    .since(seq)
    .map((r) => `${r.text}\n`)
    .join('');
const stripTs = (s: string): string => s.replace(/^\[[ \d.]+\] /gm, '');
const read = (k: Kernel, p: string, uid = 0): string => k.vfs.readFile({ ...k.rootCtx(), uid }, p);
const EXT4 = '/lib/modules/6.1.0-56-amd64/kernel/fs/ext4/ext4.ko';

describe('the reference session, byte for byte', () => {
  it('modprobe -v, lsmod after each, the error sequence with its dmesg, lsmod 7 and 8, mounts and lsmod 9', () => {
    const k = boot();
    expect(modprobe(k, ['--show-depends', 'btrfs']).stdout).toBe(ref('modprobe_show_depends_btrfs.txt'));
    ['ext4', 'nvme', 'btrfs', 'loop', 'dummy', 'vfat'].forEach((m, i) => {
      expect(modprobe(k, ['-v', m])).toEqual({ stdout: ref(`modprobe_${i + 1}_${m}.txt`), stderr: '', exitCode: 0 });
      expect(lsmod(k).stdout).toBe(ref(`lsmod_${i + 1}_after_${m}.txt`));
    });
    const seq = k.printk.nextSeq;
    expect(modprobe(k, ['nosuchmodule']).stderr).toBe(ref('modprobe_nonexistent.txt'));
    expect(modprobe(k, ['-v', 'ext4']).stdout).toBe(ref('modprobe_v_already_loaded.txt'));
    expect(insmod(k, [EXT4]).stderr).toBe(ref('insmod_already_loaded.txt'));
    expect(rmmod(k, ['jbd2']).stderr).toBe(ref('rmmod_inuse_jbd2.txt'));
    expect(rmmod(k, ['-v', 'ext4']).exitCode + rmmod(k, ['-v', 'jbd2']).exitCode).toBe(0);
    expect(insmod(k, [EXT4]).stderr).toBe(ref('insmod_unknown_symbols_ext4.txt'));
    expect(rmmod(k, ['fat']).stderr).toBe(ref('rmmod_inuse_fat.txt'));
    expect(rmmod(k, ['nvme_core']).stderr).toBe(ref('rmmod_inuse_nvme_core.txt'));
    expect(rmmod(k, ['nosuchmodule']).stderr).toBe(ref('rmmod_notloaded.txt'));
    expect(modprobe(k, ['-r', 'nosuchmodule']).stderr).toBe(ref('modprobe_r_nonloaded.txt'));
    expect(modprobe(k, ['-v', 'ext4']).stdout).toBe(ref('modprobe_ext4_again.txt'));
    expect(rmmod(k, ['-v', 'dummy']).exitCode).toBe(0);
    expect(modprobe(k, ['-r', '-v', 'vfat']).stdout).toBe(ref('modprobe_r_vfat.txt'));
    expect(lsmod(k).stdout).toBe(ref('lsmod_7_after_removals.txt'));
    expect(modprobe(k, ['-v', 'dummy', 'numdummies=2']).stdout).toBe(ref('modprobe_dummy_params.txt'));
    expect(modprobe(k, ['-v', 'vfat']).stdout).toBe(ref('modprobe_vfat_again.txt'));
    // the 54 "Unknown symbol" lines, in the kernel's order
    expect(dmesgSince(k, seq)).toBe(stripTs(ref('dmesg_errors_and_removals.txt')));
    expect(lsmod(k).stdout).toBe(ref('lsmod_8_final.txt'));

    // mounts pin their modules (fs, NLS, crc32c transforms, the nvme disk)
    const m0 = k.printk.nextSeq;
    k.mount({ path: '/mnt/ext4', source: '/dev/nvme0n1p1', fstype: 'ext4', options: 'rw,relatime', fs: 'tmp' });
    k.mount({ path: '/mnt/vfat', source: '/dev/nvme0n1p2', fstype: 'vfat', options: 'rw,relatime', fs: 'run' });
    expect(dmesgSince(k, m0)).toBe(stripTs(ref('dmesg_mounts.txt')));
    expect(rmmod(k, ['ext4'])).toEqual({ stdout: '', stderr: ref('rmmod_inuse_ext4_mounted.txt'), exitCode: 1 });
    expect(lsmod(k).stdout).toBe(ref('lsmod_9_with_mounts.txt'));
    // a remount takes no new references and prints nothing
    const m1 = k.printk.nextSeq;
    k.mount({ path: '/mnt/ext4', source: '/dev/nvme0n1p1', fstype: 'ext4', options: 'ro,relatime', fs: 'tmp' });
    expect(dmesgSince(k, m1)).toBe('');
    expect(lsmod(k).stdout).toBe(ref('lsmod_9_with_mounts.txt'));
    k.umount('/mnt/vfat');
    k.umount('/mnt/ext4');
    expect(lsmod(k).stdout.replace(/^nls_\w+ .*\n/gm, '')).toBe(ref('lsmod_8_final.txt'));
    expect(rmmod(k, ['ext4']).exitCode).toBe(0);
  });
});

describe('modprobe.d', () => {
  const conf = (k: Kernel, name: string, text: string): void =>
    k.vfs.writeFile(k.rootCtx(), `/etc/modprobe.d/${name}`, text, { create: true });

  it('options, aliases, blacklist, softdep, install and remove lines', () => {
    const k = boot();
    conf(
      k,
      'lab.conf',
      [
        '# lab settings',
        'options loop max_loop=4 \\',
        '  max_part=2',
        'options dummy numdummies=3',
        'alias mynet dummy',
        'blacklist vfat',
        'softdep loop pre: crc16 post: mbcache',
        'install xfs /bin/false',
        'install nls_utf8 /bin/true',
        'remove loop /bin/true',
        '',
      ].join('\n'),
    );
    conf(k, 'README', 'options loop max_loop=99\n');
    // config options first, then the command line's, on the insmod line
    expect(modprobe(k, ['-v', 'loop', 'hw_queue_depth=64']).stdout).toBe(
      [
        'insmod /lib/modules/6.1.0-56-amd64/kernel/lib/crc16.ko ',
        'insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/block/loop.ko max_loop=4 max_part=2 hw_queue_depth=64',
        'insmod /lib/modules/6.1.0-56-amd64/kernel/fs/mbcache.ko ',
        '',
      ].join('\n'),
    );
    expect(k.modules.find('loop')?.params).toEqual({ max_loop: '4', max_part: '2', hw_queue_depth: '64' });
    expect(read(k, '/sys/module/loop/parameters/max_loop')).toBe('4\n');
    expect(k.vfs.readdir(k.rootCtx(), '/dev').filter((e) => /^loop\d$/.test(e.name)).length).toBeLessThanOrEqual(8);
    // an alias of the config
    expect(modprobe(k, ['-v', 'mynet']).stdout).toBe('insmod /lib/modules/6.1.0-56-amd64/kernel/drivers/net/dummy.ko numdummies=3\n');
    expect(k.modules.find('dummy')?.params.numdummies).toBe('3');
    // blacklist: ignored through an alias, loaded by its own name
    expect(modprobe(k, ['fs-vfat'])).toEqual({ stdout: '', stderr: '', exitCode: 0 });
    expect(k.modules.isLoaded('vfat')).toBe(false);
    expect(modprobe(k, ['-b', 'vfat']).exitCode).toBe(0);
    expect(k.modules.isLoaded('vfat')).toBe(false);
    expect(modprobe(k, ['vfat']).exitCode).toBe(0);
    expect(k.modules.isLoaded('vfat')).toBe(true);
    // install commands
    expect(modprobe(k, ['-v', 'nls_utf8'])).toEqual({ stdout: 'install /bin/true \n', stderr: '', exitCode: 0 });
    expect(k.modules.isLoaded('nls_utf8')).toBe(false);
    const x = modprobe(k, ['xfs']);
    expect(x.exitCode).toBe(1);
    expect(x.stderr).toBe(
      "modprobe: ERROR: Error running install command '/bin/false' for module xfs: retcode 1\nmodprobe: ERROR: could not insert 'xfs': Invalid argument\n",
    );
    expect(modprobe(k, ['-i', 'xfs']).exitCode).toBe(0);
    expect(k.modules.isLoaded('xfs')).toBe(true);
    // remove command: the module stays
    // post softdeps first, the module (its remove command), then its pre softdeps
    expect(modprobe(k, ['-r', '-v', 'loop'])).toEqual({
      stdout: 'rmmod mbcache\nremove /bin/true\nrmmod crc16\n',
      stderr: '',
      exitCode: 0,
    });
    expect(k.modules.isLoaded('loop')).toBe(true);
    expect(modprobe(k, ['-r', '-i', 'loop']).exitCode).toBe(0);
    expect(k.modules.isLoaded('loop')).toBe(false);
  });

  it('a config softdep earlier in name order wins over modules.softdep; --first-time; -a', () => {
    const k = boot();
    conf(k, 'btrfs.conf', 'softdep btrfs pre: crc16\n');
    const out = modprobe(k, ['--show-depends', 'btrfs']).stdout;
    expect(out).toContain('kernel/lib/crc16.ko');
    expect(out).not.toContain('blake2b_generic');
    conf(k, 'zz.conf', 'softdep ext4 pre: crc16\n');
    expect(modprobe(k, ['--show-depends', 'ext4']).stdout).toBe(ref('modprobe_show_depends_ext4.txt'));
    expect(modprobe(k, ['-a', 'loop', 'dummy']).exitCode).toBe(0);
    expect(['loop', 'dummy'].every((m) => k.modules.isLoaded(m))).toBe(true);
    expect(modprobe(k, ['--first-time', 'loop'])).toEqual({
      stdout: '',
      stderr: "modprobe: ERROR: could not insert 'loop': Module already in kernel\n",
      exitCode: 1,
    });
    expect(modprobe(k, ['loop', 'max_loop=x']).exitCode).toBe(0);
  });

  it('invalid parameter values fail the load like parse_args()', () => {
    const k = boot();
    const seq = k.printk.nextSeq;
    expect(modprobe(k, ['loop', 'max_part=lots'])).toEqual({
      stdout: '',
      stderr: "modprobe: ERROR: could not insert 'loop': Invalid argument\n",
      exitCode: 1,
    });
    expect(dmesgSince(k, seq)).toBe("loop: 'lots' invalid for parameter 'max_part'\n");
    expect(insmod(k, ['/lib/modules/6.1.0-56-amd64/kernel/drivers/block/loop.ko', 'max_part']).stderr).toBe(
      'insmod: ERROR: could not insert module /lib/modules/6.1.0-56-amd64/kernel/drivers/block/loop.ko: Invalid parameters\n',
    );
    expect(k.modules.isLoaded('loop')).toBe(false);
  });
});

describe('effects of loaded modules', () => {
  it('/proc/kallsyms gains and loses module symbols; vmallocinfo and meminfo account module memory', () => {
    const k = boot();
    const before = read(k, '/proc/kallsyms');
    const vmBefore = read(k, '/proc/vmallocinfo');
    expect(before).not.toContain('\t[');
    modprobe(k, ['vfat']);
    const after = read(k, '/proc/kallsyms');
    expect(after.startsWith(before)).toBe(true);
    const modLines = after.slice(before.length).split('\n').filter(Boolean);
    expect(modLines.every((l) => /^ffffffffc0[0-9a-f]{6} [trdbTD] \S+\t\[(vfat|fat)\]$/.test(l))).toBe(true);
    expect(modLines.findIndex((l) => l.endsWith('[fat]'))).toBeGreaterThan(modLines.findIndex((l) => l.endsWith('[vfat]')));
    const thisModule = modLines.find((l) => / d __this_module\t\[vfat\]$/.test(l)) as string;
    const sectionAddr = read(k, '/sys/module/vfat/sections/.gnu.linkonce.this_module').trim();
    expect(`0x${thisModule.split(' ')[0]}`).toBe(sectionAddr);
    expect(modLines.some((l) => / T fat_\w+\t\[fat\]$/.test(l))).toBe(true);
    expect(read(k, '/proc/kallsyms', 1000).slice(before.length)).toMatch(/^0000000000000000 r _note_10\t\[vfat\]\n/);
    expect(read(k, '/proc/vmallocinfo').split('load_module').length).toBe(vmBefore.split('load_module').length + 2);
    rmmod(k, ['vfat', 'fat']);
    expect(read(k, '/proc/kallsyms')).toBe(before);
  });

  it('/proc/filesystems, /dev/loop*, /sys/block/loop*, dummy0 follow the modules', () => {
    const k = boot();
    expect(read(k, '/proc/filesystems')).not.toContain('\text4\n');
    modprobe(k, ['ext4']);
    expect(read(k, '/proc/filesystems')).toContain('\text4\n');
    modprobe(k, ['loop']);
    expect(k.vfs.readdir(k.rootCtx(), '/sys/block').map((e) => e.name)).toEqual(expect.arrayContaining(['loop0', 'loop7']));
    // devtmpfs nodes as the reference's ls -l /dev shows them
    const devs = (): string[] =>
      k.vfs
        .readdir(k.rootCtx(), '/dev')
        .filter((e) => /^(loop|nvme|ng0|btrfs)/.test(e.name))
        .map((e) => {
          const n = k.vfs.resolve(k.rootCtx(), `/dev/${e.name}`).node as {
            mode: number;
            dev?: { kind: string; major: number; minor: number };
          };
          return `${n.dev?.kind}${n.mode.toString(8)} ${n.dev?.major}, ${n.dev?.minor} ${e.name}`;
        })
        .sort();
    modprobe(k, ['nvme']);
    modprobe(k, ['btrfs']);
    const theirs = ref('blkid_like_ls_dev.txt')
      .split('\n')
      .map((l) => /^([cb])rw------- .*?(\d+),\s+(\d+) \w+ \d+ [\d:]+ ((loop|nvme|ng0|btrfs)\S*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => `${m[1]}600 ${m[2]}, ${m[3]} ${m[4]}`)
      .sort();
    expect(devs()).toEqual(theirs);
    modprobe(k, ['dummy']);
    expect(k.vfs.readdir(k.rootCtx(), '/sys/class/net').map((e) => e.name)).toContain('dummy0');
    rmmod(k, ['dummy', 'loop']);
    expect(devs().filter((d) => d.includes('loop'))).toEqual([]);
    expect(k.vfs.readdir(k.rootCtx(), '/sys/class/net').map((e) => e.name)).not.toContain('dummy0');
    expect(k.vfs.readdir(k.rootCtx(), '/sys/block').map((e) => e.name)).not.toContain('loop0');
  });

  it('/sys/module lists built-ins and loaded modules; notes hold the ELF notes; tree parameters are read-only', () => {
    const k = boot();
    modprobe(k, ['loop']);
    const top = k.vfs.readdir(k.rootCtx(), '/sys/module').map((e) => e.name);
    expect(top).toEqual(expect.arrayContaining(['loop', 'printk', '8250']));
    expect(
      k.vfs
        .readdir(k.rootCtx(), '/sys/module/loop/notes')
        .map((e) => e.name)
        .sort(),
    ).toEqual(['.note.Linux', '.note.gnu.build-id']);
    expect(read(k, '/sys/module/loop/notes/.note.gnu.build-id')).toHaveLength(36);
    expect(read(k, '/sys/module/loop/notes/.note.Linux')).toHaveLength(60);
    expect(() => k.vfs.writeFile(k.rootCtx(), '/sys/module/loop/parameters/max_loop', '4\n')).toThrow(
      expect.objectContaining({ code: 'EACCES' }),
    );
    expect(read(k, '/sys/module/printk/parameters/time')).toBe('Y\n');
    // built-in parameters: 0644 ones take root's writes (parsed like param_set_bool), read-only ones refuse
    const w = (p: string, v: string, uid = 0): string | undefined => {
      try {
        k.vfs.writeFile({ ...k.rootCtx(), uid }, p, v);
        return undefined;
      } catch (e) {
        return (e as { code?: string }).code;
      }
    };
    expect(w('/sys/module/printk/parameters/time', 'N\n')).toBeUndefined();
    expect(read(k, '/sys/module/printk/parameters/time')).toBe('N\n');
    expect(w('/sys/module/printk/parameters/time', 'maybe\n')).toBe('EINVAL');
    expect(w('/sys/module/printk/parameters/time', 'Y\n', 1000)).toBe('EACCES');
    expect(w('/sys/module/workqueue/parameters/power_efficient', 'Y\n')).toBe('EACCES');
    expect(read(k, '/sys/module/workqueue/parameters/power_efficient')).toBe('N\n');
    expect(modinfo(k, ['-F', 'filename', 'loop']).stdout).toBe('/lib/modules/6.1.0-56-amd64/kernel/drivers/block/loop.ko\n');
    expect(renderProcModules(k, k.rootCtx())).toMatch(/^loop 32768 0 - Live /);
  });
});
