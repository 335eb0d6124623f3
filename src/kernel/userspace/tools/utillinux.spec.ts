import { spawnSync } from 'child_process';
import { dmesgCommand } from '../../printk/dmesg';
import { Kernel } from '../../kernel';
import { createShell } from '../../shell';
import { bootShell, TEST_BOOT_EPOCH_MS } from '../../shell/testing';
import { cpulistCreate, cpulistParse, cpumaskCreate, cpumaskParse, sizeToHuman } from './utillinux/common';
import { fmtG, humanSI, parseDdNumber, xferStats } from './utillinux/dd';

/** util-linux style tools on a booted machine, compared with the real tools of this machine where they exist. */

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', LANG: 'C', TZ: 'UTC', HOME: '/root' };
function real(script: string): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', env: ENV, timeout: 20000 });
  // this machine's shell environment may add noise of its own (pyenv shims)
  const stderr = r.stderr
    .split('\n')
    .filter((l) => !/pyenv/.test(l))
    .join('\n');
  return { stdout: r.stdout, stderr, status: r.status ?? -1 };
}
const have = (tool: string): boolean => spawnSync('bash', ['-c', `command -v ${tool}`]).status === 0;
const itIf = (cond: boolean): jest.It => (cond ? it : it.skip);

/** dd's statistics line with the (machine-dependent) seconds and rate masked */
const maskStats = (s: string): string => s.replace(/copied, [0-9.e+-]+ s, [0-9.]+ [kMGT]?B\/s/g, 'copied, T s, R/s');

describe('helpers', () => {
  it('cpulist and cpumask as lib/cpuset.c prints them', () => {
    expect(cpulistCreate([0, 1])).toBe('0,1');
    expect(cpulistCreate([0, 1, 2, 3, 5])).toBe('0-3,5');
    expect(cpulistCreate([1])).toBe('1');
    expect(cpulistParse('0-3,5')).toEqual([0, 1, 2, 3, 5]);
    expect(cpulistParse('0-6:2')).toEqual([0, 2, 4, 6]);
    expect(cpulistParse('x')).toBeNull();
    expect(cpumaskParse('0x3')).toEqual([0, 1]);
    expect(cpumaskParse('a')).toEqual([1, 3]);
    expect(cpumaskParse('zz')).toBeNull();
    expect(cpumaskCreate([0, 1])).toBe('3');
    expect(cpumaskCreate([4])).toBe('10');
  });

  it('size_to_human_string', () => {
    expect(sizeToHuman(0)).toBe('0B');
    expect(sizeToHuman(8 * 2 ** 30)).toBe('8G');
    expect(sizeToHuman(8387584 * 1024)).toBe('8G');
    expect(sizeToHuman(1.5 * 2 ** 30)).toBe('1.5G');
    expect(sizeToHuman(512 * 1024 * 1024)).toBe('512M');
    expect(sizeToHuman(64 * 1024, true)).toBe('64 KiB');
    expect(sizeToHuman(16 * 2 ** 20, true)).toBe('16 MiB');
  });

  it("gnulib human_readable as dd uses it, and printf's %g", () => {
    expect(humanSI(10485760, 1000)).toBe('10 MB');
    expect(humanSI(10485760, 1024)).toBe('10 MiB');
    expect(humanSI(1048576, 1000)).toBe('1.0 MB');
    expect(humanSI(1048576, 1024)).toBe('1.0 MiB');
    expect(humanSI(3072, 1000)).toBe('3.1 kB');
    expect(humanSI(3072, 1024)).toBe('3.0 KiB');
    expect(humanSI(1000, 1000)).toBe('1.0 kB');
    expect(humanSI(999, 1000)).toBe('999 B');
    expect(humanSI(999_600, 1000)).toBe('1.0 MB');
    expect(humanSI(0, 1000, 1e9, 53369)).toBe('0.0 kB');
    expect(humanSI(1, 1000, 1e9, 20661)).toBe('48.4 kB');
    expect(humanSI(11, 1000, 1e9, 43575)).toBe('252 kB');
    expect(humanSI(10485760, 1000, 1e9, 1001190)).toBe('10.5 GB');
    expect(fmtG(4.3575e-5)).toBe('4.3575e-05');
    expect(fmtG(0.00100119)).toBe('0.00100119');
    expect(fmtG(1.234567)).toBe('1.23457');
    expect(fmtG(12)).toBe('12');
    expect(xferStats(1, 20661)).toBe('1 byte copied, 2.0661e-05 s, 48.4 kB/s');
    expect(xferStats(1000, 27842)).toBe('1000 bytes (1.0 kB) copied, 2.7842e-05 s, 35.9 MB/s');
    expect(parseDdNumber('1M')).toBe(1 << 20);
    expect(parseDdNumber('2x512')).toBe(1024);
    expect(parseDdNumber('1kB')).toBe(1000);
    expect(parseDdNumber('4b')).toBe(2048);
    expect(parseDdNumber('abc')).toBeNull();
  });
});

describe('dmesg', () => {
  it('prints the ring as the dmesg library renders it, and filters levels', () => {
    const { k, shell } = bootShell();
    k.printk.log(3, 'kernelab: an error line');
    const want = dmesgCommand(k, []).stdout;
    const r = shell.exec('dmesg');
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(want);
    expect(shell.exec('dmesg -l err').stdout).toMatch(/^\[ *\d+\.\d{6}\] kernelab: an error line\n$/m);
    expect(shell.exec('dmesg -x | tail -1').stdout).toMatch(/^kern {2}:err {3}: \[ *\d+\.\d+\] kernelab: an error line\n$/);
    expect(shell.exec('dmesg -r | tail -1').stdout).toMatch(/^<3>\[ *\d+\.\d+\] kernelab: an error line\n$/);
    expect(shell.exec('dmesg -T | tail -1').stdout).toMatch(/^\[Thu Jan {2}1 00:00:\d\d 2026\] kernelab: an error line\n$/);
    expect(shell.exec('dmesg --bogus').status).toBe(1);
  });

  it('-C clears the buffer (root), -c prints then clears, -n sets the console level', () => {
    const { k, shell } = bootShell();
    expect(shell.exec('dmesg -c | wc -l').stdout.trim()).not.toBe('0');
    expect(shell.exec('dmesg').stdout).toBe('');
    k.printk.log(6, 'after clear');
    expect(shell.exec('dmesg').stdout).toMatch(/after clear\n$/);
    expect(shell.exec('dmesg -C; dmesg | wc -l').stdout).toBe('0\n');
    expect(shell.exec('dmesg -n 3; echo $?').stdout).toBe('0\n');
    expect(k.printk.consoleLoglevel).toBe(3);
  });

  it('-w follows new records in virtual time until interrupted', () => {
    const { k, shell } = bootShell();
    const ex = shell.start('dmesg -w');
    ex.pump(20);
    const t0 = k.now;
    k.printk.log(4, 'first follow record');
    ex.pump(20);
    expect(k.now).toBeGreaterThan(t0);
    k.printk.log(4, 'second follow record');
    ex.pump(20);
    expect(ex.done).toBe(false);
    shell.interrupt();
    const r = ex.finish();
    expect(r.status).toBe(130);
    const lines = r.stdout.split('\n');
    const i1 = lines.findIndex((l) => l.endsWith('first follow record'));
    const i2 = lines.findIndex((l) => l.endsWith('second follow record'));
    expect(i1).toBeGreaterThan(10); // after the backlog
    expect(i2).toBe(i1 + 1);
    // unsubscribed: later records are not printed anywhere
    expect(k.printk.events.listenerCount('record')).toBe(0);
  });

  it('-w into a pipe prints the ring and ends (pipeline stages run one after the other)', () => {
    const { k, shell } = bootShell();
    const t0 = k.now;
    const r = shell.exec('dmesg -w | head -2');
    expect(r.stdout).toBe(shell.exec('dmesg | head -2').stdout);
    expect(k.now - t0).toBeLessThan(1e9);
  });

  it('-w > file in the background follows while the shell goes on', () => {
    const { k, shell } = bootShell();
    k.printk.log(6, 'before the follow');
    const r = shell.exec('dmesg -W > /tmp/follow & sleep 1; echo "<4>from userspace" > /dev/kmsg; sleep 1; cat /tmp/follow; kill %1');
    // -W starts at the end of the ring: only the new record (an empty record from the echo's separate newline write aside)
    expect(r.stdout.split('\n').filter((l) => l.trim())).toEqual([expect.stringMatching(/^\[ *\d+\.\d{6}\] from userspace$/)]);
    expect(k.printk.events.listenerCount('record')).toBe(0);
  });
});

describe('lscpu', () => {
  it('prints /proc/cpuinfo and sysfs in the flat layout (not a terminal)', () => {
    const { shell } = bootShell();
    const r = shell.exec('lscpu');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const col = lines[0].indexOf('x86_64');
    const labels = lines.map((l) => l.slice(0, col).trimEnd());
    // every value starts in the column after the longest label
    expect(col).toBe(Math.max(...labels.map((l) => l.length)) + 1);
    const get = (label: string): string | undefined => lines.find((l) => l.startsWith(label + ':'))?.slice(col);
    expect(get('CPU(s)')).toBe('2');
    expect(get('On-line CPU(s) list')).toBe('0,1');
    expect(get('Model name')).toBe('QEMU TCG CPU version 2.5+');
    expect(get('CPU family')).toBe('15');
    expect(get('Model')).toBe('107');
    expect(get('Core(s) per socket')).toBe('2');
    expect(get('Socket(s)')).toBe('1');
    expect(get('Address sizes')).toBe('40 bits physical, 48 bits virtual');
    expect(get('L1d cache')).toBe('128 KiB (2 instances)');
    expect(get('L3 cache')).toBe('16 MiB (1 instance)');
    expect(get('Vulnerability Spectre v2')).toBe('Mitigation; Retpolines; STIBP disabled; RSB filling; PBRSB-eIBRS Not affected; BHI Not affected');
    expect(get('Vulnerability Spec store bypass')).toBe('Vulnerable');
  });

  itIf(have('lscpu'))('uses the field order and names of util-linux 2.38 lscpu', () => {
    const { shell } = bootShell();
    const ours = shell.exec('lscpu').stdout.split('\n').map((l) => l.split(':')[0]);
    const theirs = real('lscpu').stdout.split('\n').map((l) => l.split(':')[0]);
    const common = theirs.filter((l) => ours.includes(l) && l !== '');
    expect(common.length).toBeGreaterThan(20);
    expect(ours.filter((l) => common.includes(l))).toEqual(common);
  });

  itIf(have('lscpu'))('prints -J as util-linux 2.38 does', () => {
    const { shell } = bootShell();
    const ours = shell.exec('lscpu -J').stdout;
    const parsed = JSON.parse(ours) as { lscpu: { field: string; data: string }[] };
    expect(parsed.lscpu[4]).toEqual({ field: 'CPU(s):', data: '2' });
    expect(ours.split('\n').slice(0, 9)).toEqual(real('lscpu -J').stdout.split('\n').slice(0, 9));
  });

  it('prints the hierarchic layout with --hierarchic', () => {
    const { shell } = bootShell();
    const out = shell.exec('lscpu --hierarchic=always').stdout;
    expect(out).toMatch(/^Architecture: +x86_64\n {2}CPU op-mode\(s\): +32-bit, 64-bit\n/);
    expect(out).toMatch(/\nCaches \(sum of all\): +\n {2}L1d: +128 KiB \(2 instances\)\n/);
    expect(out).toMatch(/\n {4}CPU family: +15\n/);
  });
});

describe('lsblk', () => {
  it('lists /sys/block with its partitions', () => {
    const { shell } = bootShell();
    expect(shell.exec('lsblk').stdout).toBe('NAME   MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS\nvda    254:0    0   8G  0 disk \n`-vda1 254:1    0   8G  0 part \n');
    expect(shell.exec('LANG=C.UTF-8 lsblk -o NAME,SIZE').stdout).toBe('NAME   SIZE\nvda      8G\n└─vda1   8G\n');
    expect(shell.exec('lsblk -d -n -b -o NAME,SIZE,TYPE').stdout).toBe('vda 8589934592 disk\n');
    expect(shell.exec('lsblk -l').stdout.split('\n')[2]).toBe('vda1 254:1    0   8G  0 part ');
  });

  itIf(have('lsblk'))('has the header and column layout of util-linux 2.38 lsblk', () => {
    const r = real('lsblk');
    const { shell } = bootShell();
    const ours = shell.exec('lsblk').stdout.split('\n');
    expect(ours[0].split(/\s+/)).toEqual(r.stdout.split('\n')[0].split(/\s+/));
    // MAJ:MIN is "%3u:%-3u", RM/RO right-aligned, TYPE padded even when MOUNTPOINTS is empty
    const row = r.stdout.split('\n').find((l) => /^\S+ +\d+:\d+ +[01] +\S+ +[01] disk/.test(l));
    if (row) expect(row).toMatch(/^\S+ +\d{1,3}:\d+ {0,2} {1,2}[01] /);
    expect(ours[1]).toMatch(/^vda {4}254:0 {4}0 {3}8G {2}0 disk $/);
  });
});

describe('mount and umount', () => {
  it('lists the mount table as "src on dir type fs (opts)"', () => {
    const { shell } = bootShell();
    const mounts = shell.exec('cat /proc/self/mounts').stdout;
    const want = mounts
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const f = l.split(' ');
        return `${f[0]} on ${f[1]} type ${f[2]} (${f[3]})\n`;
      })
      .join('');
    expect(shell.exec('mount').stdout).toBe(want);
    expect(shell.exec('mount -t proc').stdout).toBe('proc on /proc type proc (rw,relatime)\n');
  });

  it('real mount(8) prints /proc/self/mounts in the same layout', () => {
    const r = real(`diff <(mount) <(awk '{print $1" on "$2" type "$3" ("$4")"}' /proc/self/mounts) && echo same`);
    if (r.status === 0) expect(r.stdout).toBe('same\n');
  });

  it('mounts a tmpfs, refuses to unmount it while busy, unmounts it', () => {
    const { k, shell } = bootShell();
    let r = shell.exec('mkdir -p /mnt/t && mount -t tmpfs -o size=10m,mode=755 none /mnt/t; echo $?; grep /mnt/t /proc/mounts; echo data > /mnt/t/f; cat /mnt/t/f');
    expect(r.stdout).toBe('0\nnone /mnt/t tmpfs rw,relatime,size=10240k,mode=755,inode64 0 0\ndata\n');
    expect(k.vfs.list().some((m) => m.path === '/mnt/t' && m.fstype === 'tmpfs')).toBe(true);
    // a distinct filesystem: /tmp does not see the file
    expect(shell.exec('ls /tmp/f 2>&1').stdout).toMatch(/No such file/);
    r = shell.exec('cd /mnt/t && umount /mnt/t; echo $?');
    expect(r.stderr).toBe('umount: /mnt/t: target is busy.\n');
    expect(r.stdout).toBe('32\n');
    r = shell.exec('cd / && umount /mnt/t; echo $?; ls /mnt/t; grep -c /mnt/t /proc/mounts');
    expect(r.stdout).toBe('0\n0\n');
    expect(shell.exec('umount /mnt/t').stderr).toBe('umount: /mnt/t: not mounted.\n');
    // a new mount is a fresh, empty filesystem
    expect(shell.exec('mount -t tmpfs none /mnt/t && ls -a /mnt/t && stat -c %a /mnt/t').stdout).toBe('.\n..\n1777\n');
  });

  it('a mounted tmpfs survives a snapshot round trip; ro mounts refuse writes', () => {
    const { k, shell } = bootShell();
    shell.exec('mkdir -p /mnt/t /mnt/r && mount -t tmpfs none /mnt/t && echo kept > /mnt/t/f && mount -t tmpfs -o ro none /mnt/r');
    expect(shell.exec('echo x > /mnt/r/g').stderr).toMatch(/Read-only file system/);
    const k2 = Kernel.fromState(k.getState(), { bootEpochMs: k.bootEpochMs });
    expect(k2.vfs.readFile(k2.rootCtx(), '/mnt/t/f')).toBe('kept\n');
    expect(k2.vfs.list().find((m) => m.path === '/mnt/t')?.fstype).toBe('tmpfs');
    // a distinct instance per mount
    expect(() => k2.vfs.readFile(k2.rootCtx(), '/mnt/r/f')).toThrow();
  });

  it('needs root', () => {
    const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'u', hostname: 'vm' }, { bootEpochMs: TEST_BOOT_EPOCH_MS });
    const { shell } = createShell(k, { cwd: '/tmp', host: { uid: 1000, gid: 1000 } });
    let r = shell.exec('mount -t tmpfs none /tmp');
    expect([r.stderr, r.status]).toEqual(['mount: only root can use "--types" option (effective UID is 1000)\n', 1]);
    r = shell.exec('umount /tmp');
    expect([r.stderr, r.status]).toEqual(['umount: /tmp: must be superuser to unmount.\n', 32]);
    r = shell.exec('dmesg -C');
    expect([r.stderr, r.status]).toEqual(['dmesg: clear kernel buffer failed: Operation not permitted\n', 1]);
    r = shell.exec('renice -n -5 -p $$');
    expect(r.stderr).toMatch(/^renice: failed to set priority for \d+ \(process ID\): Permission denied\n$/);
    r = shell.exec('nice -n -5 nice');
    expect([r.stdout, r.stderr]).toEqual(['0\n', 'nice: cannot set niceness: Permission denied\n']);
    r = shell.exec('chrt -f -p 10 $$');
    expect(r.stderr).toMatch(/^chrt: failed to set pid \d+'s policy: Operation not permitted\n$/);
  });

  it('mounts proc elsewhere and remounts read-only', () => {
    const { shell } = bootShell();
    const r = shell.exec('mkdir /p2 && mount -t proc proc /p2 && cat /p2/sys/kernel/ostype && mount -o remount,ro /p2 && grep " /p2 " /proc/mounts');
    expect(r.stdout).toBe('Linux\nproc /p2 proc ro,relatime 0 0\n');
  });

  it('prints mount and umount errors as util-linux 2.38', () => {
    const { shell } = bootShell();
    const hint = '       dmesg(1) may have more information after failed mount system call.\n';
    let r = shell.exec('mount -t tmpfs none /nonexist');
    expect([r.stderr, r.status]).toEqual([`mount: /nonexist: mount point does not exist.\n${hint}`, 32]);
    r = shell.exec('mkdir -p /mnt/x; mount -t foo none /mnt/x');
    expect([r.stderr, r.status]).toEqual([`mount: /mnt/x: unknown filesystem type 'foo'.\n${hint}`, 32]);
    r = shell.exec('umount /nonexist');
    expect([r.stderr, r.status]).toEqual(['umount: /nonexist: no mount point specified.\n', 32]);
    r = shell.exec('umount /');
    expect([r.stderr, r.status]).toEqual(['umount: /: target is busy.\n', 32]);
    r = shell.exec('mkdir -p /mnt/y; umount /mnt/y');
    expect([r.stderr, r.status]).toEqual(['umount: /mnt/y: not mounted.\n', 32]);
    r = shell.exec('umount /sys');
    expect([r.stderr, r.status]).toEqual(['umount: /sys: target is busy.\n', 32]);
  });

  itIf(have('umount'))('error texts match the real umount', () => {
    const r = real('umount /nonexist-kernelab');
    expect(r.stderr).toBe('umount: /nonexist-kernelab: no mount point specified.\n');
    const { shell } = bootShell();
    expect(shell.exec('umount /nonexist-kernelab').stderr).toBe(r.stderr);
  });
});

describe('taskset, chrt, renice, nice', () => {
  it('taskset reads and sets affinity through k.sched', () => {
    const { k, shell } = bootShell();
    const pid = k.sched.spawn(1, { argv: ['sleep', '100'], path: '/usr/bin/sleep' });
    let r = shell.exec(`taskset -p ${pid}; taskset -cp ${pid}; taskset -cp 1 ${pid}; taskset -p ${pid}`);
    expect(r.stdout).toBe(`pid ${pid}'s current affinity mask: 3\npid ${pid}'s current affinity list: 0,1\npid ${pid}'s current affinity list: 0,1\npid ${pid}'s new affinity list: 1\npid ${pid}'s current affinity mask: 2\n`);
    expect(k.sched.affinity(pid)).toEqual([1]);
    expect(shell.exec(`grep Cpus_allowed_list /proc/${pid}/status`).stdout).toBe('Cpus_allowed_list:\t1\n');
    r = shell.exec(`taskset -p 1 ${pid}; taskset -p 4 ${pid}; echo $?`);
    expect(r.stdout).toBe(`pid ${pid}'s current affinity mask: 2\npid ${pid}'s new affinity mask: 1\npid ${pid}'s current affinity mask: 1\n1\n`);
    expect(r.stderr).toBe(`taskset: failed to set pid ${pid}'s affinity: Invalid argument\n`);
  });

  it('taskset MASK cmd runs the command on those CPUs', () => {
    const { shell } = bootShell();
    const r = shell.exec('taskset 2 grep Cpus_allowed_list /proc/self/status; taskset -c 0 grep Cpus_allowed_list /proc/self/status');
    expect(r.stdout).toBe('Cpus_allowed_list:\t1\nCpus_allowed_list:\t0\n');
  });

  it('chrt shows and sets the policy', () => {
    const { k, shell } = bootShell();
    const pid = k.sched.spawn(1, { argv: ['sleep', '100'], path: '/usr/bin/sleep' });
    const r = shell.exec(`chrt -p ${pid}; chrt -f -p 10 ${pid}; chrt -p ${pid}; chrt -o -p 0 ${pid}; chrt -p ${pid} | head -1; chrt -f -p 0 ${pid}; echo $?`);
    expect(r.stdout).toBe(
      `pid ${pid}'s current scheduling policy: SCHED_OTHER\npid ${pid}'s current scheduling priority: 0\n` +
        `pid ${pid}'s current scheduling policy: SCHED_FIFO\npid ${pid}'s current scheduling priority: 10\n` +
        `pid ${pid}'s current scheduling policy: SCHED_OTHER\n1\n`,
    );
    expect(r.stderr).toBe('chrt: unsupported priority value for the policy: 0: see --max for valid range\n');
    expect(shell.exec('chrt -r 5 grep -E "^(policy|prio) " /proc/self/sched').stdout).toMatch(/policy +: +2\nprio +: +94\n/);
  });

  it('renice and nice change niceness', () => {
    const { k, shell } = bootShell();
    const pid = k.sched.spawn(1, { argv: ['sleep', '100'], path: '/usr/bin/sleep' });
    expect(shell.exec(`renice -n 7 -p ${pid}; renice 3 ${pid}`).stdout).toBe(`${pid} (process ID) old priority 0, new priority 7\n${pid} (process ID) old priority 7, new priority 3\n`);
    expect(k.sched.taskInfo(pid)?.nice).toBe(3);
    expect(shell.exec(`cut -d' ' -f19 /proc/${pid}/stat`).stdout).toBe('3\n');
    expect(shell.exec('nice; nice -n 5 nice; nice nice; nice -n 30 nice; nice -n 3 nice -n 4 nice').stdout).toBe('0\n5\n10\n19\n7\n');
    expect(shell.exec('nice -n 5 cut -d" " -f19 /proc/self/stat').stdout).toBe('5\n');
    const e = shell.exec('nice -n 5');
    expect([e.stderr, e.status]).toEqual(["nice: a command must be given with an adjustment\nTry 'nice --help' for more information.\n", 125]);
  });

  it('renice -g and -u, taskset -a', () => {
    const { k, shell } = bootShell();
    const a = k.sched.spawn(1, { argv: ['sleep', '100'], path: '/usr/bin/sleep', uid: 1000, setsid: true });
    const b = k.sched.spawn(a, { argv: ['sleep', '100'], path: '/usr/bin/sleep', uid: 1000 });
    const th = k.sched.clone(a, { comm: 'worker' });
    expect(shell.exec(`renice -n 4 -g ${a}`).stdout).toBe(`${a} (process group ID) old priority 0, new priority 4\n`);
    expect([k.sched.taskInfo(a)?.nice, k.sched.taskInfo(b)?.nice]).toEqual([4, 4]);
    expect(shell.exec('renice -n 6 -u 1000').stdout).toBe('1000 (user ID) old priority 4, new priority 6\n');
    expect(k.sched.taskInfo(b)?.nice).toBe(6);
    expect(shell.exec(`taskset -a -cp 0 ${a}`).stdout).toBe(
      `pid ${a}'s current affinity list: 0,1\npid ${a}'s new affinity list: 0\npid ${th}'s current affinity list: 0,1\npid ${th}'s new affinity list: 0\n`,
    );
    expect(k.sched.affinity(th)).toEqual([0]);
    expect(k.sched.affinity(b)).toEqual([0, 1]);
  });

  itIf(have('taskset') && have('chrt') && have('renice'))('messages match the real schedutils', () => {
    const { shell } = bootShell();
    for (const cmd of ['chrt -m', 'taskset -p 99999999', 'taskset -cp 99999999', 'chrt -p 99999999', 'renice -n 1 -p 99999999', 'taskset', 'chrt', 'renice', 'taskset -p zz 1', 'taskset -cp x 1']) {
      const a = shell.exec(cmd);
      const b = real(cmd);
      expect({ cmd, out: a.stdout, err: a.stderr, st: a.status }).toEqual({ cmd, out: b.stdout, err: b.stderr, st: b.status });
    }
  });
});

describe('dd', () => {
  it('copies /dev/zero with the three summary lines, time from the virtual clock', () => {
    const { k, shell } = bootShell();
    const t0 = k.now;
    const r = shell.exec('dd if=/dev/zero of=/dev/null bs=1M count=10');
    expect(r.status).toBe(0);
    const m = /^10\+0 records in\n10\+0 records out\n10485760 bytes \(10 MB, 10 MiB\) copied, ([0-9.e-]+) s, ([0-9.]+) GB\/s\n$/.exec(r.stderr);
    expect(m).not.toBeNull();
    const secs = Number(m![1]);
    expect(secs).toBeGreaterThan(0);
    expect(k.now - t0).toBeGreaterThanOrEqual(Math.floor(secs * 1e9) - 1000);
    // the rate is bytes over the reported time
    expect(Number(m![2])).toBeCloseTo(10485760 / secs / 1e9, 0);
  });

  it('status=progress prints a line per virtual second before the summary', () => {
    const { k, shell } = bootShell();
    const t0 = k.now;
    const r = shell.exec('dd if=/dev/zero of=/dev/null bs=1M count=30000 status=progress');
    const parts = r.stderr.split('\r').filter(Boolean);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(parts[0]).toMatch(/^\d+ bytes \(\d+(\.\d)? GB, \d+(\.\d)? GiB\) copied, 1 s, \d+(\.\d)? GB\/s$/);
    expect(parts[parts.length - 1]).toMatch(/\n30000\+0 records in\n30000\+0 records out\n31457280000 bytes \(31 GB, 29 GiB\) copied, 3\.\d+ s, \d+(\.\d)? GB\/s\n$/);
    expect(k.now - t0).toBeGreaterThan(3e9);
  });

  it('writes files, honours skip/seek/count/conv=notrunc and reads stdin', () => {
    const { shell } = bootShell({ files: { 'in.txt': 'abcdefghijklmnop' } });
    expect(shell.exec('dd if=/dev/zero of=z bs=1k count=3 status=none; wc -c < z').stdout).toBe('3072\n');
    expect(shell.exec('dd if=in.txt of=out bs=4 skip=1 count=2 status=none; cat out').stdout).toBe('efghijkl');
    expect(shell.exec('cp in.txt c; printf XY | dd of=c bs=1 seek=3 conv=notrunc status=none; cat c').stdout).toBe('abcXYfghijklmnop');
    expect(shell.exec('cp in.txt d; printf XY | dd of=d bs=1 seek=3 status=none; cat d').stdout).toBe('abcXY');
    expect(shell.exec('dd if=/dev/urandom of=r bs=16 count=2 status=none; wc -c < r').stdout).toBe('32\n');
    const r = shell.exec("printf 'hello world' | dd bs=4");
    expect(r.stdout).toBe('hello world');
    expect(maskStats(r.stderr)).toBe('2+1 records in\n2+1 records out\n11 bytes copied, T s, R/s\n');
    expect(shell.exec('dd if=in.txt of=e ibs=3 obs=5 status=noxfer').stderr).toBe('5+1 records in\n3+1 records out\n');
  });

  it('caps what one dd materialises (files are strings in the machine state)', () => {
    const { shell } = bootShell();
    const r = shell.exec('dd if=/dev/urandom of=/tmp/big bs=1M count=40; echo $?; wc -c < /tmp/big');
    expect(r.stderr).toMatch(/^dd: error writing '\/tmp\/big': File too large\n33\+0 records in\n32\+0 records out\n33554432 bytes \(34 MB, 32 MiB\) copied, /);
    expect(r.stdout).toBe('1\n33554432\n');
  });

  it('writes to /proc/sys files without truncating them first', () => {
    const { shell } = bootShell();
    expect(shell.exec('echo 61 | dd of=/proc/sys/vm/swappiness status=none; cat /proc/sys/vm/swappiness').stdout).toBe('61\n');
    expect(shell.exec('echo 2 | dd of=/proc/sys/vm/swappiness status=none conv=notrunc; cat /proc/sys/vm/swappiness').stdout).toBe('2\n');
  });

  it('fails like dd: /dev/full, a missing input, bad operands, a full filesystem', () => {
    const { shell } = bootShell();
    let r = shell.exec('dd if=/dev/zero of=/dev/full bs=1 count=1');
    expect(r.status).toBe(1);
    expect(maskStats(r.stderr)).toBe("dd: error writing '/dev/full': No space left on device\n1+0 records in\n0+0 records out\n0 bytes copied, T s, R/s\n");
    expect(r.stderr).toMatch(/ 0\.0 kB\/s\n$/);
    r = shell.exec('dd if=/nope of=/dev/null');
    expect([r.stderr, r.status]).toEqual(["dd: failed to open '/nope': No such file or directory\n", 1]);
    r = shell.exec('dd foo=1');
    expect([r.stderr, r.status]).toEqual(["dd: unrecognized operand 'foo=1'\nTry 'dd --help' for more information.\n", 1]);
    r = shell.exec('dd bs=abc');
    expect([r.stderr, r.status]).toEqual(["dd: invalid number: 'abc'\n", 1]);
    r = shell.exec('mkdir -p /mnt/s && mount -t tmpfs -o size=64k none /mnt/s && dd if=/dev/zero of=/mnt/s/f bs=16k count=8; echo $?; wc -c < /mnt/s/f');
    expect(r.stderr).toMatch(/^dd: error writing '\/mnt\/s\/f': No space left on device\n8\+0 records in\n4\+0 records out\n/);
    expect(r.stdout).toBe('1\n65536\n');
  });

  itIf(have('dd'))('prints what coreutils dd prints (times and rates masked)', () => {
    const { shell } = bootShell();
    for (const cmd of [
      'dd if=/dev/zero of=/dev/null bs=1M count=10',
      'dd if=/dev/zero of=/dev/null bs=1 count=1',
      'dd if=/dev/zero of=/dev/null bs=1000 count=1',
      'dd if=/dev/zero of=/dev/null count=3 status=noxfer',
      'dd if=/dev/zero of=/dev/null count=3 status=none',
      'dd if=/dev/zero of=/dev/null bs=1k count=1000',
      "printf 'hello world' | dd bs=4 skip=1 count=1",
      'dd if=/dev/zero of=/dev/full bs=1 count=1',
      'dd if=/nope-kernelab of=/dev/null',
      'dd foo=1',
      'dd bs=abc',
    ]) {
      const a = shell.exec(cmd);
      const b = real(cmd);
      expect({ cmd, out: a.stdout, err: maskStats(a.stderr), st: a.status }).toEqual({ cmd, out: b.stdout, err: maskStats(b.stderr), st: b.status });
    }
  });
});

describe('sync, sh -c, bash -c', () => {
  it('sync succeeds; sh -c and bash -c run a command string', () => {
    const { shell } = bootShell();
    expect(shell.exec('sync; echo $?').stdout).toBe('0\n');
    expect(shell.exec('sync /nope').stderr).toBe("sync: error opening '/nope': No such file or directory\n");
    expect(shell.exec(`sh -c 'echo "$0 $1"' a b; bash -c 'exit 3'; echo $?`).stdout).toBe('a b\n3\n');
  });
});
