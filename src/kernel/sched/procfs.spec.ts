/**
 * Golden-shape tests: every view has the fields, order, spacing and column
 * widths of the Linux 6.1 reference capture; only the values differ.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Kernel } from '../kernel';
import { cpuKhz, renderFeatures } from './debugfs';
import { interruptsJson, loadavgJson, pidStatJson, pidStatusJson, statJson, uptimeJson } from './json';
import { renderShowTasks } from './sysrq';

const REF = join(__dirname, '../../../../shared/reference/linux-6.1');
const ref = (p: string): string => readFileSync(join(REF, p), 'utf8');
/** numbers become N: free-format fields */
const loose = (l: string): string => l.replace(/-?\d+(\.\d+)?/g, 'N');
/** numbers with their padding become #s: fixed-width fields */
const wide = (l: string): string => l.replace(/ *-?\d+(\.\d+)?/g, (m) => '#'.repeat(m.length));
const lines = (s: string): string[] => s.replace(/\n$/, '').split('\n');

function machine(): { k: Kernel; cat: number; read: (p: string) => string } {
  const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'golden', hostname: 'kernelab' }, { bootEpochMs: Date.UTC(2026, 0, 1) });
  const s = k.sched;
  // a little history: a short-lived build, disk reads and a busy task
  s.spawn(1, { argv: ['/usr/bin/make'], program: [{ op: 'run', ns: 2e9, user: 0.8 }, { op: 'io', ns: 5e8, readBytes: 4 << 20 }, { op: 'exit', code: 0 }] });
  k.advance(10e9);
  const cat = s.spawn(1, {
    path: '/usr/bin/cat',
    argv: ['cat', '/proc/self/stat'],
    env: ['SHLVL=1', 'HOME=/', 'TERM=linux', 'PATH=/sbin:/usr/sbin:/bin:/usr/bin', 'PWD=/'],
    fds: [{ fd: 0, path: '/dev/console', flags: 0o2 }],
    program: [{ op: 'run', ns: -1 }],
  });
  s.setLimit(cat, 7, 1024, 4096);
  k.advance(10e9);
  return { k, cat, read: (p) => k.vfs.readFile(k.rootCtx(), p) };
}

const { k, cat, read } = machine();

describe('/proc system files', () => {
  it('stat', () => {
    const ours = lines(read('/proc/stat'));
    const theirs = lines(ref('proc/stat'));
    expect(ours.map((l) => l.split(' ')[0])).toEqual(theirs.map((l) => l.split(' ')[0]));
    ours.forEach((l, i) => {
      if (l.startsWith('intr ')) expect(l.split(' ').length).toBe(theirs[i].split(' ').length);
      else expect(loose(l)).toBe(loose(theirs[i]));
    });
  });

  it('loadavg and uptime', () => {
    expect(loose(read('/proc/loadavg'))).toBe(loose(ref('proc/loadavg')));
    expect(loose(read('/proc/uptime'))).toBe(loose(ref('proc/uptime')));
  });

  it('interrupts', () => {
    const ours = lines(read('/proc/interrupts'));
    // the reference machine booted from an NVMe disk, the sim from virtio's vda (virtio0 at the same PCI slot, 00:03.0):
    // its config vector, then one request queue per CPU, where the NVMe admin and I/O queues were
    const theirs = lines(ref('proc/interrupts')).map((l) => l.replace(/nvme0q0$/, 'virtio0-config').replace(/nvme0q(\d+)$/, (_m, q: string) => `virtio0-req.${Number(q) - 1}`));
    expect(ours[0]).toBe(theirs[0]);
    expect(ours.map(wide)).toEqual(theirs.map(wide));
  });

  it('softirqs', () => {
    expect(lines(read('/proc/softirqs')).map(wide)).toEqual(lines(ref('proc/softirqs')).map(wide));
  });

  it('schedstat', () => {
    expect(lines(read('/proc/schedstat')).map(loose)).toEqual(lines(ref('proc/schedstat')).map(loose));
  });

  it.each(['cpu', 'io', 'memory'])('pressure/%s', (r) => {
    expect(loose(read(`/proc/pressure/${r}`))).toBe(loose(ref(`proc/pressure/${r}`)));
  });

  it('has no /proc/sched_debug (moved to debugfs in 5.13)', () => {
    expect(() => read('/proc/sched_debug')).toThrow();
  });
});

describe('/proc/<pid>', () => {
  it('status', () => {
    const ours = lines(read(`/proc/${cat}/status`));
    const theirs = lines(ref('proc/self/status'));
    const shape = (l: string): string => l.replace(/ *-?\d+/g, 'N');
    expect(ours.map(shape)).toEqual(theirs.map(shape));
    // kB columns are 8 wide
    expect(ours.filter((l) => l.endsWith(' kB')).every((l) => /\t[ \d]{8} kB$/.test(l))).toBe(true);
  });

  it('status of pid 1 and of a kernel thread', () => {
    expect(lines(read('/proc/1/status')).map((l) => l.split(':')[0])).toEqual(lines(ref('proc/pid1/status')).map((l) => l.split(':')[0]));
    const kt = lines(read('/proc/2/status')).map((l) => l.split(':')[0]);
    expect(kt).not.toContain('VmRSS');
    expect(kt).not.toContain('THP_enabled');
    expect(kt).toContain('Threads');
  });

  it('stat', () => {
    const ours = read(`/proc/${cat}/stat`);
    expect(ours.split(' ')).toHaveLength(52);
    expect(loose(ours)).toBe(loose(ref('proc/self/stat')));
    expect(loose(read('/proc/1/stat')).replace('(systemd)', '(init)')).toBe(loose(ref('proc/pid1/stat')));
  });

  it('statm, io, cmdline, environ, cgroup, wchan', () => {
    expect(loose(read(`/proc/${cat}/statm`))).toBe(loose(ref('proc/self/statm')));
    expect(lines(read('/proc/1/io')).map(loose)).toEqual(lines(ref('proc/pid1/io')).map(loose));
    expect(read(`/proc/${cat}/cmdline`)).toBe(ref('proc/self/cmdline').replace('cmdline', 'stat'));
    expect(read(`/proc/${cat}/environ`)).toBe(ref('proc/self/environ'));
    expect(read(`/proc/${cat}/cgroup`)).toMatch(/^0::\/.*\n$/);
    expect(read(`/proc/${cat}/wchan`)).toBe(ref('proc/self/wchan'));
    expect(read('/proc/1/wchan')).toBe('ep_poll');
  });

  it('sched', () => {
    const ours = lines(read(`/proc/${cat}/sched`));
    const theirs = lines(ref('proc/self/sched'));
    expect(ours[0]).toMatch(/^cat \(\d+, #threads: 1\)$/);
    expect(ours.slice(1).map(wide)).toEqual(theirs.slice(1).map(wide));
  });

  it('limits', () => {
    expect(lines(read(`/proc/${cat}/limits`)).map(wide)).toEqual(lines(ref('proc/self/limits')).map(wide));
  });

  it('fdinfo, fd links and mountinfo', () => {
    expect(loose(read(`/proc/${cat}/fdinfo/0`))).toBe(loose(ref('proc/self/fdinfo_0')));
    const fd0 = k.vfs.resolve(k.rootCtx(), `/proc/${cat}/fd/0`, { follow: false }).node;
    expect(fd0.type === 'link' && fd0.target(k.rootCtx())).toBe('/dev/console');
    const shape = /^\d+ \d+ \d+:\d+ \/ \S+ [a-z,]+ - \S+ \S+ \S+$/;
    for (const l of lines(ref('proc/self/mountinfo'))) expect(l).toMatch(shape);
    for (const l of lines(read(`/proc/${cat}/mountinfo`))) expect(l).toMatch(shape);
    expect(lines(read(`/proc/${cat}/mountinfo`))[0]).toMatch(/^1 1 0:2 \/ \/ rw - rootfs rootfs rw,/);
  });

  it('personality, uid_map, timerslack, oom, sessionid, loginuid', () => {
    for (const f of ['personality', 'uid_map', 'gid_map', 'timerslack_ns', 'setgroups', 'oom_score_adj', 'oom_adj', 'sessionid', 'loginuid', 'cpuset']) {
      expect(read(`/proc/${cat}/${f}`)).toBe(ref(`proc/self/${f}`));
    }
    expect(loose(read(`/proc/${cat}/oom_score`))).toBe(loose(ref('proc/self/oom_score')));
  });

  it('stack of a sleeping kernel thread', () => {
    const kworker = k.sched.tasks().find((t) => t.comm === 'kworker/0:0')!;
    expect(read(`/proc/${kworker.pid}/stack`)).toBe('[<0>] worker_thread+0xaf/0x380\n[<0>] kthread+0xda/0x100\n[<0>] ret_from_fork+0x22/0x30\n');
    expect(read(`/proc/${cat}/syscall`)).toBe('running\n');
  });

  it('the directory has the entries of a 6.1 /proc/<pid>', () => {
    const names = k.vfs.readdir(k.rootCtx(), `/proc/${cat}`).map((e) => e.name);
    const theirs = lines(ref('proc/self/ls_self'))
      .slice(1)
      .map((l) => l.split(/\s+/)[8]);
    for (const n of names) expect(theirs).toContain(n);
    for (const n of ['status', 'stat', 'statm', 'maps', 'smaps_rollup', 'cmdline', 'comm', 'environ', 'limits', 'sched', 'io', 'fd', 'fdinfo', 'cgroup', 'mountinfo', 'task']) {
      expect(names).toContain(n);
    }
  });

  it('self and thread-self', () => {
    const ctx = { k, pid: cat, uid: 0, gid: 0 };
    expect(k.vfs.readFile(ctx, '/proc/self/comm')).toBe('cat\n');
    expect(k.vfs.readFile(ctx, '/proc/thread-self/comm')).toBe('cat\n');
    const self = k.vfs.resolve(ctx, '/proc/thread-self', { follow: false }).node;
    expect(self.type === 'link' && self.target(ctx)).toBe(`${cat}/task/${cat}`);
  });
});

describe('debugfs sched/', () => {
  it('lists the 6.1 files', () => {
    const theirs = lines(ref('debugfs/sched_ls'))
      .slice(1)
      .map((l) => l.split(/\s+/)[8]);
    expect(k.vfs.readdir(k.rootCtx(), '/sys/kernel/debug/sched').map((e) => e.name)).toEqual(theirs);
    expect(read('/sys/kernel/debug/sched/latency_ns')).toBe('12000000\n');
    expect(read('/sys/kernel/debug/sched/min_granularity_ns')).toBe('1500000\n');
    expect(read('/sys/kernel/debug/sched/preempt')).toBe('none (voluntary) full\n');
    expect(read('/proc/mounts')).toContain('debugfs /sys/kernel/debug debugfs rw,nosuid,nodev,noexec,relatime 0 0\n');
  });

  it('debug has the structure of sched_debug', () => {
    const isRow = (l: string): boolean => /^[ >][A-Z] [ \S]{15} +\d+ /.test(l);
    const ours = lines(read('/sys/kernel/debug/sched/debug'));
    const theirs = lines(ref('debugfs/sched_debug'));
    expect(ours.filter((l) => !isRow(l)).map(loose)).toEqual(theirs.filter((l) => !isRow(l)).map(loose));
    const refRow = theirs.find(isRow)!;
    const rows = ours.filter(isRow);
    expect(rows.length).toBe(k.sched.nrThreads());
    for (const r of rows) expect(wide(r.slice(18))).toBe(wide(refRow.slice(18)));
    expect(rows.filter((r) => r.startsWith('>R'))).toHaveLength(1);
    expect(ours).toContain(`  .sysctl_sched_features                   : ${125703739}`);
    expect(read('/sys/kernel/debug/sched/features')).toBe(renderFeatures(125703739));
    expect(ours[ours.findIndex((l) => l.startsWith('cpu#0'))]).toBe(`cpu#0, ${Math.floor(cpuKhz(k) / 1000)}.${String(cpuKhz(k) % 1000).padStart(3, '0')} MHz`);
  });

  it('tunables are writable', () => {
    k.vfs.writeFile(k.rootCtx(), '/sys/kernel/debug/sched/tunable_scaling', '0\n');
    expect(read('/sys/kernel/debug/sched/latency_ns')).toBe('6000000\n');
    k.vfs.writeFile(k.rootCtx(), '/sys/kernel/debug/sched/tunable_scaling', '1\n');
    k.vfs.writeFile(k.rootCtx(), '/sys/kernel/debug/sched/features', 'NO_HZ_BW');
    expect(read('/sys/kernel/debug/sched/features')).toMatch(/ NO_HZ_BW \n$/);
    k.vfs.writeFile(k.rootCtx(), '/sys/kernel/debug/sched/features', 'HZ_BW');
    expect(() => k.vfs.writeFile(k.rootCtx(), '/sys/kernel/debug/sched/features', 'BOGUS')).toThrow();
    expect(() => k.vfs.writeFile(k.rootCtx(), '/sys/kernel/debug/sched/latency_ns', 'x')).toThrow();
  });
});

describe('sysrq-t', () => {
  it('prints every task in the sched_show_task format, then the scheduler dump', () => {
    const out = renderShowTasks(k);
    const theirs = lines(ref('dmesg/sysrq_t_show_tasks.txt')).map((l) => l.replace(/^\[\s*\d+\.\d+\] ?/, ''));
    const head = /^task:.{15} state:[A-Z]( {2}running task {4})? stack:\d+ +pid:\d+ +ppid:\d+ +flags:0x[0-9a-f]{8}$/;
    for (const l of theirs.filter((x) => x.startsWith('task:'))) expect(l).toMatch(head);
    const heads = out.filter((x) => x.startsWith('task:'));
    expect(heads).toHaveLength(k.sched.nrThreads());
    for (const l of heads) expect(l).toMatch(head);
    expect(heads[0]).toMatch(/^task:systemd {9}state:S stack:0 {5}pid:1 {5}ppid:0 {6}flags:0x00000000$/);
    expect(out).toContain('Workqueue:  0x0 (events)');
    expect(out).toContain('Stopper: 0x0 <- 0x0');
    expect(out.filter((l) => l === ' <TASK>').length).toBe(out.filter((l) => l === ' </TASK>').length);
    expect(out).toContain('Sched Debug Version: v0.11, 6.1.0-56-amd64 #1');
    expect(out[out.length - 1]).toBe('Showing busy workqueues and worker pools:');
  });
});

describe('JSON forms', () => {
  it('match the rendered files', () => {
    const st = statJson(k);
    const first = lines(read('/proc/stat'))[0].split(/\s+/).slice(1).map(Number);
    expect([st.cpu.user, st.cpu.nice, st.cpu.system, st.cpu.idle]).toEqual(first.slice(0, 4));
    expect(read('/proc/stat')).toContain(`ctxt ${st.ctxt}\n`);
    const la = loadavgJson(k);
    expect(read('/proc/loadavg')).toMatch(new RegExp(` ${la.running}/${la.total} ${la.lastPid}\\n$`));
    expect(uptimeJson(k).uptimeNs).toBe(k.now);
    expect(interruptsJson(k).irqs.find((i) => i.irq === 'LOC')!.counts).toHaveLength(2);
    expect(pidStatusJson(k, cat)).toMatchObject({ name: 'cat', state: 'R', pid: cat, ppid: 1, threads: 1, cmdline: ['cat', '/proc/self/stat'] });
    expect(pidStatJson(k, cat)).toMatchObject({ pid: cat, comm: 'cat', state: 'R', utime: Number(read(`/proc/${cat}/stat`).split(' ')[13]) });
  });
});
