/**
 * procps tools on a booted machine. Where this machine has the real
 * procps-ng (Debian 12: 4.0.2) and may create a mount namespace, the real
 * tool is run on the simulated machine's own /proc files (bind-mounted over
 * /proc inside `unshare -m`) and the outputs are compared byte for byte.
 */
import { spawnSync } from 'child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import type { Kernel } from '../../kernel';
import { bootShell } from '../../shell/testing';
import { createShell } from '../../shell/index';

function boot(): ReturnType<typeof bootShell> {
  return bootShell();
}

function run(sh: ReturnType<typeof bootShell>['shell'], script: string): { stdout: string; stderr: string; status: number } {
  const r = sh.exec(script);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function read(k: Kernel, path: string): string {
  return k.vfs.readFile(k.rootCtx(), path, '/');
}

function meminfo(k: Kernel): Record<string, number> {
  return parseMeminfo(read(k, '/proc/meminfo'));
}

function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of text.split('\n')) {
    const m = /^([^:]+):\s*(\d+)/.exec(l);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

const canNs = ((): boolean => {
  if (process.platform !== 'linux') return false;
  const r = spawnSync('unshare', ['-m', 'sh', '-c', 'mount --bind /tmp /mnt && ps -V && free -V && vmstat -V && sysctl -V'], { encoding: 'utf8' });
  return r.status === 0 && /procps-ng 4\.0\.2/.test(r.stdout);
})();

/**
 * Runs `script` with the real procps tools while the given files replace
 * theirs: `proc` (a whole /proc tree, path -> content) is mounted over
 * /proc; `files` are bind-mounted one by one.
 */
function realWith(script: string, files: Record<string, string>, proc?: Record<string, string>): { stdout: string; stderr: string; status: number } {
  const dir = mkdtempSync(join(tmpdir(), 'procps-'));
  try {
    let mounts = '';
    Object.entries(files).forEach(([path, data], i) => {
      const f = join(dir, `f${i}`);
      writeFileSync(f, data);
      mounts += `mount --bind ${f} ${path} && `;
    });
    if (proc) {
      for (const [rel, data] of Object.entries(proc)) {
        const p = join(dir, 'proc', rel);
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, data);
        // /proc/<pid> belongs to the task's euid (top reads the owner)
        const m = /^(\d+)\/status$/.exec(rel);
        const ids = m ? /^Uid:\s+\d+\s+(\d+)[\s\S]*^Gid:\s+\d+\s+(\d+)/m.exec(data) : null;
        if (m && ids) chownSync(dirname(p), Number(ids[1]), Number(ids[2]));
      }
      // a tmpfs lists entries in creation order: create them as /proc lists them (pids ascending)
      const src = join(dir, 'proc');
      const t = join(dir, 't');
      mkdirSync(t);
      mounts += `mount -t tmpfs none ${t} && for e in $(ls ${src} | sort -rn); do cp -a ${src}/$e ${t}/; done && mount --bind ${t} /proc && exec `;
    }
    // in a new pid namespace the tool is pid 1 and finds itself in the fake tree
    const r = spawnSync('unshare', proc ? ['-m', '-p', '-f', 'sh', '-c', `${mounts}${script}`] : ['-m', 'sh', '-c', `${mounts}${script}`], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', TZ: 'UTC' } });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** the sim's /proc files a real procps tool reads (pid dirs included) */
function procTree(k: Kernel): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of ['meminfo', 'stat', 'uptime', 'loadavg', 'vmstat', 'sys/kernel/pid_max', 'sys/kernel/osrelease', 'version', 'diskstats']) out[f] = read(k, `/proc/${f}`);
  for (const e of k.vfs.readdir(k.rootCtx(), '/proc', '/')) {
    if (!/^\d+$/.test(e.name)) continue;
    for (const f of ['stat', 'status', 'cmdline', 'wchan', 'statm', 'environ']) {
      try {
        out[`${e.name}/${f}`] = read(k, `/proc/${e.name}/${f}`);
      } catch {
        // kernel threads have no environ for others
      }
    }
  }
  for (const f of ['stat', 'status']) out[`self/${f}`] = out[`1/${f}`];
  return out;
}

const itReal = canNs ? it : it.skip;

describe('free', () => {
  it('computes the procps 4 figures from /proc/meminfo', () => {
    const { shell } = boot();
    const r = run(shell, 'cat /proc/meminfo >/dev/null; cat /proc/meminfo; echo ===; free');
    expect(r.status).toBe(0);
    const [mi, out] = r.stdout.split('===\n');
    const m = parseMeminfo(mi);
    const lines = out.split('\n');
    expect(lines[0]).toBe('               total        used        free      shared  buff/cache   available');
    const mem = lines[1].split(/\s+/);
    expect(mem[0]).toBe('Mem:');
    const [total, used, free, shared, bc, avail] = mem.slice(1).map(Number);
    expect(total).toBe(m.MemTotal);
    expect(free).toBe(m.MemFree);
    expect(shared).toBe(m.Shmem);
    expect(bc).toBe(m.Buffers + m.Cached + m.SReclaimable);
    expect(avail).toBe(m.MemAvailable);
    // procps-ng 4.0.2 (Debian 12): used = total - available
    expect(used).toBe(m.MemTotal - m.MemAvailable);
    expect(lines[2]).toMatch(/^Swap: +\d+ +\d+ +\d+$/);
    expect(lines[2].length).toBe(44);
  });

  it('scales with -b -m -g and splits buffers/cache with -w, totals with -t', () => {
    const { shell, k } = boot();
    const m = meminfo(k);
    const b = run(shell, 'free -b').stdout.split('\n')[1].split(/\s+/);
    expect(Number(b[1])).toBe(m.MemTotal * 1024);
    const mb = run(shell, 'free -m').stdout.split('\n')[1].split(/\s+/);
    expect(Number(mb[1])).toBe(Math.floor(m.MemTotal / 1024));
    const wide = run(shell, 'free -w').stdout.split('\n');
    expect(wide[0]).toBe('               total        used        free      shared     buffers       cache   available');
    const wv = wide[1].split(/\s+/).map(Number);
    expect(wv[5]).toBe(m.Buffers);
    expect(wv[6]).toBe(m.Cached + m.SReclaimable);
    const t = run(shell, 'free -t').stdout.split('\n');
    expect(t[3]).toMatch(/^Total:/);
    expect(Number(t[3].split(/\s+/)[1])).toBe(m.MemTotal + m.SwapTotal);
  });

  it('repeats with -s/-c in virtual time, blocks separated by a blank line', () => {
    const { shell, k } = boot();
    const t0 = k.now;
    const r = run(shell, 'free -s 2 -c 3');
    expect(r.stdout.split('total        used').length - 1).toBe(3);
    expect(r.stdout).toMatch(/Swap:.*\n\n {15}total/);
    expect(r.stdout.endsWith('\n\n')).toBe(false);
    expect(k.now - t0).toBeGreaterThanOrEqual(4e9);
  });

  it('rejects bad options with the usage', () => {
    const { shell } = boot();
    const r = run(shell, 'free -x; echo $?');
    expect(r.stderr).toMatch(/^free: invalid option -- 'x'\n\nUsage:\n free \[options\]/);
    expect(r.stdout).toBe('1\n');
  });

  itReal('prints what the real free prints for the same /proc/meminfo', () => {
    const { shell } = boot();
    for (const opts of ['', '-b', '-k', '-m', '-g', '-h', '-w', '-t', '--si', '-h --si', '-w -h -t', '--mega', '-l']) {
      const [mi, sim] = run(shell, `cat /proc/meminfo >/dev/null; cat /proc/meminfo; echo ===; free ${opts}`).stdout.split('===\n');
      const real = realWith(`free ${opts}`, { '/proc/meminfo': mi });
      expect({ opts, out: sim }).toEqual({ opts, out: real.stdout });
    }
  });
});

describe('uptime and w', () => {
  it('prints time, up, users and load average from /proc', () => {
    const { shell, k } = boot();
    k.advanceTo(k.now + 3 * 3600e9 + 125e9);
    const r = run(shell, 'uptime');
    const la = read(k, '/proc/loadavg').split(' ');
    expect(r.stdout).toBe(` 03:02:0${r.stdout[8]} up  3:02,  0 user,  load average: ${la[0]}, ${la[1]}, ${la[2]}\n`);
    expect(r.stdout).toMatch(/^ 03:02:0[5-9] /);
    expect(run(shell, 'uptime -p').stdout).toBe('up 3 hours, 2 minutes\n');
    expect(run(shell, 'uptime -s').stdout).toBe('2026-01-01 00:00:00\n');
    const w = run(shell, 'w').stdout.split('\n');
    expect(w[0]).toBe(r.stdout.trimEnd());
    expect(w[1]).toBe('USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT');
  });

  it('counts minutes and days like procps', () => {
    const { shell, k } = boot();
    k.advanceTo(8 * 86400e9 + 60e9);
    expect(run(shell, 'uptime').stdout).toMatch(/^ 00:01:\d\d up 8 days, 1 min,/);
    expect(run(shell, 'uptime -p').stdout).toBe('up 1 week, 1 day, 1 minute\n');
  });

  itReal('uptime -p agrees with the real tool on the same /proc/uptime', () => {
    const { shell, k } = boot();
    k.advanceTo(k.now + 90061e9);
    const real = realWith('uptime -p', { '/proc/uptime': read(k, '/proc/uptime') });
    expect(run(shell, 'uptime -p').stdout).toBe(real.stdout);
  });
});

describe('ps', () => {
  it('lists every /proc pid with -e, in pid order, with the default columns', () => {
    const { shell, k } = boot();
    const r = run(shell, 'ps -e');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('  PID TTY          TIME CMD');
    const pids = lines.slice(1).map((l) => Number(l.trim().split(/\s+/)[0]));
    const procPids = k.vfs
      .readdir(k.rootCtx(), '/proc', '/')
      .map((e) => e.name)
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
    // the tree read after the run lacks only ps itself (a task while it ran)
    expect(pids.filter((p) => procPids.includes(p))).toEqual(procPids);
    expect(pids.filter((p) => !procPids.includes(p)).length).toBeLessThanOrEqual(1);
    expect(lines[1]).toMatch(/^ {4}1 \? {8}00:00:00 systemd$/);
  });

  it('ps aux agrees with /proc/<pid>/status (RSS, VSZ, %MEM) and shows kernel threads in brackets', () => {
    const { shell, k } = boot();
    const r = run(shell, 'ps aux');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('USER       PID %CPU %MEM    VSZ   RSS TTY      STAT START   TIME COMMAND');
    const total = meminfo(k).MemTotal;
    const row1 = lines.find((l) => /^root +1 /.test(l)) as string;
    const f = row1.split(/\s+/);
    const status = read(k, '/proc/1/status');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(status)?.[1]);
    expect(Number(f[4])).toBe(kb('VmSize'));
    expect(Number(f[5])).toBe(kb('VmRSS'));
    const pm = Math.floor((kb('VmRSS') * 1000) / total);
    expect(f[3]).toBe(`${Math.floor(pm / 10)}.${pm % 10}`);
    expect(f.slice(10).join(' ')).toBe(read(k, '/proc/1/cmdline').split('\0').filter(Boolean).join(' '));
    expect(lines.find((l) => /^root +2 /.test(l))).toMatch(/ 0 +0 \? +S +00:00 +0:00 \[kthreadd\]$/);
  });

  it('ps -ef, -l and -o with headers, widths and ordering', () => {
    const { shell } = boot();
    const ef = run(shell, 'ps -ef').stdout.split('\n');
    expect(ef[0]).toBe('UID          PID    PPID  C STIME TTY          TIME CMD'.replace('PID    PPID', 'PID  PPID').replace('UID          PID', 'UID        PID'));
    expect(ef[1]).toMatch(/^root {9}1 {5}0 {2}0 00:00 \? {8}00:00:00 \/sbin\/init$/);
    const l = run(shell, 'ps -el').stdout.split('\n');
    expect(l[0]).toBe('F S   UID   PID  PPID  C PRI  NI ADDR SZ WCHAN  TTY          TIME CMD');
    expect(l.find((x) => /migration\/0$/.test(x))).toMatch(/^1 S +0 +\d+ +2 +0 -40 +- - +0 /);
    const o = run(shell, 'ps -o pid,ppid,comm,ni,cls,rtprio,nlwp -p 1,16');
    expect(o.stdout).toBe('  PID  PPID COMMAND          NI CLS RTPRIO NLWP\n    1     0 systemd           0  TS      -    1\n   16     2 migration/0       -  FF     99    1\n');
    const named = run(shell, 'ps -o pid=,comm=Name -p 1');
    expect(named.stdout).toBe('      Name\n    1 systemd\n');
    expect(run(shell, 'ps -o pid=X,comm= -p 1').stdout).toBe('    X \n    1 systemd\n');
    const sorted = run(shell, 'ps -e -o pid --sort=-pid --no-headers').stdout.trim().split(/\s+/).map(Number);
    expect(sorted).toEqual([...sorted].sort((a, b) => b - a));
    expect(run(shell, 'ps -C cron -o pid=,args=').stdout).toBe('  334 /usr/sbin/cron -f\n');
    expect(run(shell, 'ps -u daemon -o pid=; echo $?').stdout).toBe('1\n');
  });

  it('formats start times and elapsed times from btime and /proc/uptime', () => {
    const { shell, k } = boot();
    k.advanceTo(2 * 86400e9 + 3 * 3600e9);
    const r = run(shell, 'ps -o stime=,start_time=,start=,lstart=,etime=,etimes=,time=,bsdtime= -p 1');
    const m = /^Jan01 Jan01 {3}Jan {2}1 Thu Jan {2}1 00:00:00 2026 {2}2-03:00:0\d {2}18360\d 00:00:(\d\d) +0:(\d\d)\n$/.exec(r.stdout) as RegExpExecArray;
    expect(m).not.toBeNull();
    expect(m[1]).toBe(m[2]);
    k.advanceTo(k.now + 400 * 86400e9);
    expect(run(shell, 'ps -o stime= -p 1').stdout).toBe(' 2026\n');
    const fresh = boot();
    fresh.k.advanceTo(fresh.k.now + 5e9);
    expect(run(fresh.shell, 'ps -o stime=,start= -p 1').stdout).toBe('00:00 00:00:00\n');
  });

  it('cuts lines at COLUMNS (132 with w, none with ww)', () => {
    const { shell } = boot();
    expect(run(shell, 'COLUMNS=30 ps -o pid,args -p 335').stdout).toBe('  PID COMMAND\n  335 /usr/bin/dbus-daemon --s\n');
    const w = run(shell, 'COLUMNS=30 ps -w -o pid,args -p 335 | tail -1').stdout;
    expect(w).toBe('  335 /usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only\n');
    expect(run(shell, 'COLUMNS=30 ps -ww -o pid,args -p 335 | tail -1').stdout).toBe(w);
  });

  it('absorbs column overflow like procps (comm:5, user:3)', () => {
    const { shell } = boot();
    expect(run(shell, 'ps -o comm:5,pid:2,ppid -p 1').stdout).toBe('COMMAND PID PPID\nsyste  1     0\n');
    expect(run(shell, 'ps -o pid,user:3,vsz:3,rss -p 1').stdout).toMatch(/^ {2}PID USER VSZ {2}RSS\n {4}1 ro\+ \d+ \d+\n$/);
  });

  it('prints a forest with -H and f', () => {
    const { shell } = boot();
    const h = run(shell, 'ps -eH -o pid,comm').stdout.split('\n');
    expect(h).toContain('  200   systemd-journal');
    const f = run(shell, 'ps axf -o pid,args').stdout.split('\n');
    expect(f[1]).toBe('    2 [kthreadd]');
    expect(f[2]).toMatch(/^ +\d+ {2}\\_ \[/);
    expect(f).toContain('  334 /usr/sbin/cron -f');
    expect(run(shell, 'ps f -p 1').stdout.split('\n')[0]).toBe('  PID TTY      STAT   TIME COMMAND');
    expect(run(shell, 'ps --forest -p 1').stdout.split('\n')[0]).toBe('  PID TTY          TIME CMD');
  });

  it('errors like procps on an unknown format specifier', () => {
    const { shell } = boot();
    const r = run(shell, 'ps -o bogus; echo $?');
    expect(r.stderr).toMatch(/^error: unknown user-defined format specifier "bogus"\n\nUsage:\n ps \[options\]/);
    expect(r.stdout).toBe('1\n');
  });

  itReal('prints what the real ps prints for the same /proc (part 1)', () => {
    const { shell, k } = boot();
    k.advanceTo(k.now + 3723e9);
    const tree = procTree(k);
    const fmts = [
      '-e',
      '-e -o pid,ppid,uid,user,group,comm,args,%cpu,%mem,vsz,rss,sz,tty,stat,ni,pri,psr,cls,rtprio,etime,etimes,nlwp,lwp,wchan,time,f,s,c,pgid,sid,tpgid',
      // STIME/START need the real clock: the formats are compared without them
      '-el',
      '-e -o f,s,user,pid,ppid,c,pri,ni,addr,sz,wchan,tty,time,cmd',
      '-e -o uid,pid,ppid,c,sz,rss,psr,tty,time,args',
      'ax',
      '-e -o pid,comm:5,user:3,vsz:3,rss,args:12,stat',
      '-p 1,16,334 -o pid,args --sort=-pid',
      '-e -o pid,ppid,args --forest',
      '-eH -o pid,comm',
      '-C cron,agetty -o pid=,comm=',
      '-eL',
      '-ejH',
    ];
    for (const f of fmts) {
      const lastPid = Number(read(k, '/proc/loadavg').trim().split(' ')[4]);
      const sim = run(shell, `ps ${f}`);
      // the simulated ps saw itself (a new task); the tree, taken before, did not
      const isSelf = (l: string): boolean => /\bps\b/.test(l) && l.trim().split(/\s+/).some((t) => Number(t) > lastPid);
      const simOut = sim.stdout
        .split('\n')
        .filter((l) => !isSelf(l))
        .join('\n');
      const real = realWith(`ps ${f}`, { '/etc/passwd': read(k, '/etc/passwd'), '/etc/group': read(k, '/etc/group') }, tree);
      expect({ f, out: simOut, status: sim.status, err: sim.stderr }).toEqual({ f, out: real.stdout, status: real.status, err: real.stderr });
    }
  });

  itReal('prints what the real ps prints for the same /proc (part 2)', () => {
    const { shell, k } = boot();
    k.advanceTo(k.now + 3723e9);
    const tree = procTree(k);
    const fmts = [
      'axj',
      'axl',
      'axv',
      '-e --sort=-rss,pid -o pid,rss,vsz,comm',
      '-e -o pid,stat,wchan:20,cmd:30,ni',
      '-U root -o pid,ruser,ruid,comm --no-headers',
      '-u 997,100 -o pid,user,uid,group',
      '-p 1',
      '-p 99999',
      '-o bogus',
      '-e -o pid,tty,tpgid,pgid,sess,stat,comm --sort=tty',
      'x -o pid,stat,args',
      '-d -o pid,comm',
      '-a',
      '-t ttyS0 -o pid,tty,args',
    ];
    for (const f of fmts) {
      const lastPid = Number(read(k, '/proc/loadavg').trim().split(' ')[4]);
      const sim = run(shell, `ps ${f}`);
      // the simulated ps saw itself (a new task); the tree, taken before, did not
      const isSelf = (l: string): boolean => /\bps\b/.test(l) && l.trim().split(/\s+/).some((t) => Number(t) > lastPid);
      const simOut = sim.stdout
        .split('\n')
        .filter((l) => !isSelf(l))
        .join('\n');
      const real = realWith(`ps ${f}`, { '/etc/passwd': read(k, '/etc/passwd'), '/etc/group': read(k, '/etc/group') }, tree);
      expect({ f, out: simOut, status: sim.status, err: sim.stderr }).toEqual({ f, out: real.stdout, status: real.status, err: real.stderr });
    }
  });
});

describe('top', () => {
  it('prints the summary and task list in batch mode, frames in virtual time', () => {
    const { shell, k } = boot();
    const m = meminfo(k);
    const t0 = k.now;
    const r = run(shell, 'top -b -n 2 -d 5');
    expect(k.now - t0).toBeGreaterThanOrEqual(5e9);
    const frames = r.stdout.split('\n\ntop - ');
    expect(frames.length).toBe(2);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^top - \d\d:\d\d:\d\d up \d+ min, {2}0 user, {2}load average: [\d.]+, [\d.]+, [\d.]+$/);
    const nproc = k.vfs.readdir(k.rootCtx(), '/proc', '/').filter((e) => /^\d+$/.test(e.name)).length;
    const t = /^Tasks: +(\d+) total, +(\d+) running, +(\d+) sleeping, +0 stopped, +0 zombie$/.exec(lines[1]) as RegExpExecArray;
    expect(Number(t[1])).toBeGreaterThanOrEqual(nproc);
    expect(Number(t[2]) + Number(t[3])).toBe(Number(t[1]));
    expect(lines[2]).toMatch(/^%Cpu\(s\): *[\d.]+ us, *[\d.]+ sy, *[\d.]+ ni, *[\d.]+ id, *[\d.]+ wa, *[\d.]+ hi, *[\d.]+ si, *[\d.]+ st $/);
    const mem = /^MiB Mem : +([\d.]+) total, +([\d.]+) free, +([\d.]+) used, +([\d.]+) buff\/cache {5}$/.exec(lines[3]) as RegExpExecArray;
    const avail = Number(/([\d.]+) avail Mem $/.exec(lines[4])?.[1]);
    expect(Math.abs(Number(mem[3]) - (Number(mem[1]) - avail))).toBeLessThanOrEqual(0.1);
    expect(mem[4]).toBe(((m.Buffers + m.Cached + m.SReclaimable) / 1024).toFixed(1));
    expect(lines[3]).toMatch(/^MiB Mem : +[\d.]+ total, +[\d.]+ free, +[\d.]+ used, +[\d.]+ buff\/cache {5}$/);
    expect(lines[3].startsWith(`MiB Mem :${(m.MemTotal / 1024).toFixed(1).padStart(9)} total,`)).toBe(true);
    expect(lines[4]).toMatch(/^MiB Swap: +0\.0 total, +0\.0 free, +0\.0 used\. +[\d.]+ avail Mem $/);
    expect(lines[5]).toBe('');
    expect(lines[6]).toBe('  PID USER      PR  NI    VIRT    RES    SHR S  %CPU  %MEM     TIME+ COMMAND');
    expect(lines.find((l) => / systemd$/.test(l))).toMatch(/^ {4}1 root {6}20 {3}0 +\d+ +\d+ +\d+ S +[\d.]+ +[\d.]+ +\d+:\d\d\.\d\d systemd$/);
    expect(lines.every((l) => l.length <= 80)).toBe(true);
  });

  itReal('task rows agree with the real top on the same /proc (%CPU and %MEM aside)', () => {
    const { shell, k } = boot();
    k.advanceTo(k.now + 600e9);
    const tree = procTree(k);
    const etc = { '/etc/passwd': read(k, '/etc/passwd'), '/etc/group': read(k, '/etc/group') };
    for (const cmd of ['top -b -n 1', 'top -b -n 1 -w 120', 'top -b -n 1 -p 1,334']) {
      const lastPid = Number(read(k, '/proc/loadavg').trim().split(' ')[4]);
      const sim = run(shell, cmd).stdout.split('\n');
      const real = realWith(cmd, etc, tree).stdout.split('\n');
      // outside a real procfs the real top prints "?" for %CPU/%MEM and no summary: rows only, in pid order
      const body = (l: string[]): string[] =>
        l
          .filter((x) => /^ *\d+ /.test(x))
          .filter((x) => !(/ (top|bash)\+?$/.test(x) && x.trim().split(/\s+/).some((t) => Number(t) > lastPid)))
          .map((x) => x.replace(/^(.* [RSDIZTt]) +\S+ +\S+ (.*)$/, '$1 X X $2'))
          .sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
      expect({ cmd, out: body(sim) }).toEqual({ cmd, out: body(real) });
    }
  });

  it('limits to -p pids; needs -b or a terminal', () => {
    const { shell } = boot();
    const nb = run(shell, 'top -n 1; echo $?');
    expect(nb.stderr).toBe('top: failed tty get\n');
    expect(nb.stdout).toBe('1\n');
    const r = run(shell, 'top -b -n 1 -p 1');
    expect(r.stdout.split('\n')[1]).toBe('Tasks:   1 total,   0 running,   1 sleeping,   0 stopped,   0 zombie');
    expect(r.stdout.trimEnd().split('\n').length).toBe(8);
  });
});

describe('vmstat', () => {
  it('prints the header and a since-boot line; delay/count sleep in virtual time', () => {
    const { shell, k } = boot();
    const r = run(shell, 'vmstat');
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----');
    expect(lines[1]).toBe(' r  b   swpd   free   buff  cache   si   so    bi    bo   in   cs us sy id wa st');
    const v = lines[2].trim().split(/\s+/).map(Number);
    const m = meminfo(k);
    expect(v[3]).toBe(m.MemFree);
    expect(v[4]).toBe(m.Buffers);
    expect(v[5]).toBe(m.Cached + m.SReclaimable);
    const t0 = k.now;
    const r2 = run(shell, 'vmstat 2 3');
    expect(r2.stdout.trimEnd().split('\n').length).toBe(5);
    expect(k.now - t0).toBeGreaterThanOrEqual(4e9);
    expect(run(shell, 'vmstat 0 1').stderr).toBe('vmstat: delay must be positive integer\n');
  });

  itReal('vmstat, vmstat -s and -w agree with the real tool on the same /proc', () => {
    const { shell, k } = boot();
    k.advanceTo(k.now + 100e9);
    // Active/Inactive move with the reading process itself: -a and -s are compared without them
    const noActive = (t: string, opts: string): string => (opts.startsWith('-a') ? t.split('\n').slice(0, 2).join('\n') : t.replace(/^.*active memory\n/gm, ''));
    for (const opts of ['', '-s', '-w', '-a', '-a -w', '-S M', '-f', '-w -S k', '-d']) {
      const [mi, sim] = run(shell, `cat /proc/meminfo >/dev/null; cat /proc/meminfo; echo ===; vmstat ${opts}`).stdout.split('===\n');
      const files = { '/proc/meminfo': mi, '/proc/stat': read(k, '/proc/stat'), '/proc/vmstat': read(k, '/proc/vmstat'), '/proc/diskstats': read(k, '/proc/diskstats') };
      const real = realWith(`vmstat ${opts}`, files);
      expect({ opts, out: noActive(sim, opts) }).toEqual({ opts, out: noActive(real.stdout, opts) });
    }
  });
});

describe('pgrep, pkill, pidof', () => {
  it('matches process names, full command lines, users and parents', () => {
    const { shell } = boot();
    expect(run(shell, 'pgrep cron').stdout).toBe('334\n');
    expect(run(shell, 'pgrep -l agetty').stdout).toBe('344 agetty\n345 agetty\n');
    expect(run(shell, 'pgrep -a -f "cron -f"').stdout).toBe('334 /usr/sbin/cron -f\n');
    expect(run(shell, 'pgrep -c -x agetty').stdout).toBe('2\n');
    expect(run(shell, 'pgrep -n agetty').stdout).toBe('345\n');
    expect(run(shell, 'pgrep -o agetty').stdout).toBe('344\n');
    expect(run(shell, 'pgrep -x cro; echo $?').stdout).toBe('1\n');
    expect(run(shell, 'pgrep -d, -P 1 -x agetty').stdout).toBe('344,345\n');
    expect(run(shell, 'pgrep -u daemon; echo $?').stdout).toBe('1\n');
    const r = run(shell, 'pgrep; echo $?');
    expect(r.stderr).toBe("pgrep: no matching criteria specified\nTry `pgrep --help' for more information.\n");
    expect(r.stdout).toBe('2\n');
  });

  it('pkill sends the signal to the matches', () => {
    const { shell, k } = boot();
    expect(run(shell, 'pkill -e -KILL cron; echo $?').stdout).toBe('cron killed (pid 334)\n0\n');
    expect(k.sched.task(334)?.state ?? 'gone').not.toBe('S');
    expect(run(shell, 'pgrep cron; echo $?').stdout).toBe('1\n');
    expect(run(shell, 'pkill --signal TERM nothing-here; echo $?').stdout).toBe('1\n');
  });

  itReal('pgrep and pidof agree with the real tools on the same /proc', () => {
    const { shell, k } = boot();
    const tree = procTree(k);
    const etc = { '/etc/passwd': read(k, '/etc/passwd'), '/etc/group': read(k, '/etc/group') };
    // the real tool is pid 1 of its namespace and leaves itself (the tree's pid 1) out: patterns avoid pid 1
    for (const cmd of ['pgrep cron', 'pgrep -l agetty', 'pgrep -a agetty', 'pgrep -f "cron -f"', 'pgrep -c -x agetty', 'pgrep -n agetty', 'pgrep -o agetty', 'pgrep -x cro', 'pgrep -d, -P 1 -x agetty', 'pgrep -l -u daemon', 'pgrep -l "^k.*d$"', 'pgrep -a -f sshd', 'pgrep -l -v -P 2,0', 'pgrep', 'pgrep -l -t ttyS0', 'pidof agetty', 'pidof -s agetty', 'pidof cron agetty', 'pidof nope']) {
      const sim = run(shell, cmd);
      const real = realWith(cmd, etc, tree);
      expect({ cmd, ...sim }).toEqual({ cmd, ...real });
    }
  });

  it('pidof prints pids in descending order', () => {
    const { shell } = boot();
    expect(run(shell, 'pidof agetty').stdout).toBe('345 344\n');
    expect(run(shell, 'pidof -s agetty').stdout).toBe('345\n');
    expect(run(shell, 'pidof cron agetty').stdout).toBe('334 345 344\n');
    expect(run(shell, 'pidof nope; echo $?').stdout).toBe('1\n');
  });
});

describe('sysctl', () => {
  it('reads dotted and slash names, -n, -N, -e and directories', () => {
    const { shell, k } = boot();
    expect(run(shell, 'sysctl kernel.ostype kernel/hostname').stdout).toBe('kernel.ostype = Linux\nkernel.hostname = vm\n');
    expect(run(shell, 'sysctl -n kernel.ostype').stdout).toBe('Linux\n');
    expect(run(shell, 'sysctl -N kernel.ostype').stdout).toBe('kernel.ostype\n');
    expect(run(shell, 'sysctl kernel.sem').stdout).toBe(`kernel.sem = ${read(k, '/proc/sys/kernel/sem').trimEnd()}\n`);
    const r = run(shell, 'sysctl foo.bar; echo $?');
    expect(r.stderr).toBe('sysctl: cannot stat /proc/sys/foo/bar: No such file or directory\n');
    expect(r.stdout).toBe('1\n');
    expect(run(shell, 'sysctl -e foo.bar; echo $?').stdout).toBe('0\n');
    const dir = run(shell, 'sysctl vm').stdout.split('\n');
    expect(dir).toContain(`vm.swappiness = ${read(k, '/proc/sys/vm/swappiness').trim()}`);
    expect(dir.every((l) => l === '' || l.startsWith('vm.'))).toBe(true);
  });

  it('writes /proc/sys with -w and NAME=VALUE, with procps error texts', () => {
    const { shell, k } = boot();
    expect(run(shell, 'sysctl -w vm.swappiness=10').stdout).toBe('vm.swappiness = 10\n');
    expect(read(k, '/proc/sys/vm/swappiness')).toBe('10\n');
    expect(run(shell, 'sysctl vm/swappiness=20 ; cat /proc/sys/vm/swappiness').stdout).toBe('vm.swappiness = 20\n20\n');
    expect(run(shell, 'sysctl -q vm.swappiness=30').stdout).toBe('');
    let r = run(shell, 'sysctl -w vm.swappiness=abc; echo $?');
    expect(r.stderr).toBe('sysctl: setting key "vm.swappiness": Invalid argument\n');
    expect(r.stdout).toBe('1\n');
    r = run(shell, 'sysctl -w kernel.osrelease=x; echo $?');
    expect(r.stderr).toBe('sysctl: setting key "kernel.osrelease": Invalid argument\n');
    expect(r.stdout).toBe('0\n');
    r = run(shell, 'sysctl -w foo.bar=1; echo $?');
    expect(r.stderr).toBe('sysctl: cannot stat /proc/sys/foo/bar: No such file or directory\n');
    expect(r.stdout).toBe('1\n');
    r = run(shell, 'sysctl -w kernel.hostname; echo $?');
    expect(r.stderr).toBe('sysctl: command line(0): invalid syntax, continuing...\n');
    expect(r.stdout).toBe('1\n');
    r = run(shell, 'sysctl -n; echo $?');
    expect(r.stderr).toBe("sysctl: no variables specified\nTry `sysctl --help' for more information.\n");
    expect(r.stdout).toBe('1\n');
    r = run(shell, 'sysctl; echo $?');
    expect(r.stderr).toMatch(/^\nUsage:\n sysctl \[options\] \[variable\[=value\] \.\.\.\]\n/);
  });

  it('loads a file with -p', () => {
    const { shell, k } = boot();
    const r = run(shell, 'printf "# c\\nvm.swappiness = 42\\n\\nkernel.nope = 1\\n-kernel.gone = 2\\nbad line\\n" > /tmp/s.conf; sysctl -p /tmp/s.conf; echo $?; sysctl -p /nonexist; echo $?');
    expect(read(k, '/proc/sys/vm/swappiness')).toBe('42\n');
    expect(r.stdout).toBe('vm.swappiness = 42\n1\n1\n');
    expect(r.stderr).toBe('sysctl: cannot stat /proc/sys/kernel/nope: No such file or directory\nsysctl: /tmp/s.conf(6): invalid syntax, continuing...\nsysctl: cannot open "/nonexist": No such file or directory\n');
  });

  it('refuses writes to a non-root user', () => {
    const { k } = boot();
    const { shell } = createShell(k, { cwd: '/tmp', host: { uid: 1000, gid: 1000 } });
    const r = run(shell, 'sysctl -w vm.swappiness=5; echo $?');
    expect(r.stderr).toBe('sysctl: permission denied on key "vm.swappiness"\n');
    expect(r.stdout).toBe('1\n');
  });

  itReal('sysctl reads, writes and errors agree with the real sysctl on the same /proc/sys', () => {
    const { shell, k } = boot();
    // the simulated /proc/sys as files with their modes
    // a tmpfs: "." and ".." come first and entries are listed in (reverse) creation order,
    // so the tree is created to list in procfs's sorted order
    const dir = mkdtempSync(join('/dev/shm', 'procps-sys-'));
    try {
      const walk = (rel: string): void => {
        const ents = k.vfs.readdir(k.rootCtx(), `/proc/sys${rel}`, '/').filter((e) => e.name !== '.' && e.name !== '..');
        for (const e of ents.sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0))) {
          const r = `${rel}/${e.name}`;
          const st = k.vfs.resolve(k.rootCtx(), `/proc/sys${r}`, { cwd: '/' }).node;
          if (e.type === 'dir') {
            mkdirSync(join(dir, r));
            walk(r);
            continue;
          }
          let data = '';
          try {
            data = read(k, `/proc/sys${r}`);
          } catch {
            data = '';
          }
          writeFileSync(join(dir, r), data);
          chmodSync(join(dir, r), st.mode & 0o777);
        }
      };
      walk('');
      const realRun = (script: string): { stdout: string; stderr: string; status: number } => {
        const r = spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind ${dir} /proc/sys && ${script}`], { encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' } });
        return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
      };
      for (const cmd of ['sysctl -a', 'sysctl -a -N', 'sysctl vm', 'sysctl -N net.ipv4', 'sysctl kernel', 'sysctl -n vm', 'sysctl -n kernel.ostype kernel.hostname', 'sysctl kernel/ostype kernel.sem', 'sysctl foo.bar', 'sysctl -e foo.bar', 'sysctl -w foo.bar=1', 'sysctl -w kernel.hostname', 'sysctl -N kernel.osrelease', 'sysctl', 'sysctl -n', 'sysctl -r "^kernel[.]o" -a', 'sysctl -b kernel.ostype', 'sysctl -w vm.swappiness=7 kernel.ostype', 'sysctl -q -w vm.swappiness=8', 'sysctl -N -r swap vm']) {
        // values that move while the commands run (the tree was copied before)
        const norm = (r: { stdout: string; stderr: string; status: number }): { stdout: string; stderr: string; status: number } => ({
          ...r,
          stdout: r.stdout.replace(/^((fs\.(file-nr|inode-nr|inode-state|dentry-state)|kernel\.(ns_last_pid|random\.uuid)) = ).*$/gm, '$1X'),
        });
        const sim = norm(run(shell, cmd));
        const real = norm(realRun(cmd));
        expect({ cmd, ...sim }).toEqual({ cmd, ...real });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('watch', () => {
  it('prints the header and runs the command every interval in virtual time', () => {
    const { shell, k } = boot();
    const t0 = k.now;
    const r = run(shell, 'watch -q 3 -n 1.5 echo hi');
    const frames = r.stdout.split('\n\n\n');
    expect(r.stdout.match(/^Every 1\.5s: echo hi {2,}vm: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d 2026\n\nhi\n/)).not.toBeNull();
    expect(r.stdout.split('Every 1.5s').length - 1).toBe(4);
    expect(frames.length).toBeGreaterThan(0);
    expect(r.stdout.split('\n')[0].length).toBe(80);
    expect(k.now - t0).toBeGreaterThanOrEqual(3e9);
    expect(run(shell, 'watch -t -q 1 echo x').stdout).toBe('x\n\nx\n');
    expect(run(shell, 'watch -t -g -n 1 date +%s').stdout).toMatch(/^\d+\n\n\d+\n$/);
  });

  it('runs until the step budget stops it', () => {
    const { shell } = bootShell({ limits: { maxSteps: 400 } });
    const r = run(shell, 'watch -n 1 true');
    expect(r.status).not.toBe(0);
    expect(r.stdout.split('Every 1.0s').length).toBeGreaterThan(3);
  });
});
