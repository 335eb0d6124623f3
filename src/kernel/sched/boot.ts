/**
 * The tasks a freshly booted Debian 12 machine on linux-6.1 has: the kernel
 * threads in the order 6.1 creates them (per CPU where the kernel makes one per
 * CPU) and the systemd services of a minimal server install. PIDs have the
 * gaps real boots leave (short-lived boot workers, udev workers, generators).
 */
import { PF, SCHED_FIFO, SCHED_NORMAL } from './task';

const KT = PF.KTHREAD | PF.NOFREEZE | PF.FORKNOEXEC;
const PERCPU = KT | PF.NO_SETAFFINITY;
const WQ = KT | PF.WQ_WORKER | PF.NO_SETAFFINITY;
const FREEZABLE = PF.KTHREAD | PF.FORKNOEXEC;
const KSWAPD = PF.KTHREAD | PF.FORKNOEXEC | PF.MEMALLOC | PF.KSWAPD;

export interface BootKthread {
  kind: 'k';
  pid: number;
  /** full name (comm is its first 15 characters) */
  name: string;
  state: 'S' | 'I';
  flags: number;
  nice: number;
  policy: number;
  rtPrio: number;
  /** bound CPU, or the CPU an unbound thread last ran on */
  cpu: number;
  bound: boolean;
  wq?: string;
  wchan: string;
  /** background CPU use, parts per million of a CPU, and wakeups per second */
  ppm: number;
  hz: number;
}

export interface BootFd {
  fd: number;
  path: string;
  flags: number;
}

export interface BootDaemon {
  kind: 'u';
  pid: number;
  comm: string;
  exe: string;
  argv: string[];
  uid: number;
  gid: number;
  cgroup: string;
  tty: string | null;
  wchan: string;
  ppm: number;
  hz: number;
  /** user-mode fraction of its CPU time */
  user: number;
  /** anonymous pages resident at start */
  anonPages: number;
  sigIgn: number[];
  sigCgt: number[];
  sigBlk: number[];
  /** 'service' (systemd unit env and limits) or 'init' */
  env: 'init' | 'service' | 'getty';
  notify: boolean;
  fds: BootFd[];
  nofile: [number, number];
  oomScoreAdj: number;
}

export type BootTask = BootKthread | BootDaemon;

const RDONLY = 0o100000;
const WRONLY = 0o100001;
const RDWR = 0o100002;
const CLOEXEC = 0o2000000;

export function bootTaskTable(cpus: number, memoryMb: number): BootTask[] {
  const out: BootTask[] = [];
  let pid = 2;
  let cpuRr = 0;
  const nextUnboundCpu = (): number => cpuRr++ % cpus;
  const k = (name: string, o: Partial<Omit<BootKthread, 'kind' | 'pid' | 'name'>> = {}): void => {
    const bound = o.bound ?? false;
    out.push({
      kind: 'k',
      pid: pid++,
      name,
      state: o.state ?? 'S',
      flags: o.flags ?? KT,
      nice: o.nice ?? 0,
      policy: o.policy ?? SCHED_NORMAL,
      rtPrio: o.rtPrio ?? 0,
      cpu: o.cpu ?? (bound ? 0 : nextUnboundCpu()),
      bound,
      wq: o.wq,
      wchan: o.wchan ?? 'kthread',
      ppm: o.ppm ?? 0,
      hz: o.hz ?? 0,
    });
  };
  const rescuer = (name: string): void => k(name, { state: 'I', flags: WQ, nice: -20, wchan: 'rescuer_thread' });
  const worker = (name: string, cpu: number | null, wq: string | undefined, ppm: number, hz: number, high = false): void =>
    k(name, {
      state: 'I',
      flags: WQ,
      nice: high ? -20 : 0,
      cpu: cpu ?? undefined,
      bound: cpu !== null,
      wq,
      wchan: 'worker_thread',
      ppm,
      hz,
    });
  const unbound = `u${cpus * 2}`;
  const unboundHi = `u${cpus * 2 + 1}`;
  const skip = (n: number): void => {
    pid += n;
  };

  k('kthreadd', { wchan: 'kthreadd' });
  rescuer('rcu_gp');
  rescuer('rcu_par_gp');
  rescuer('slub_flushwq');
  rescuer('netns');
  worker('kworker/0:0', 0, 'events', 120, 4);
  worker('kworker/0:0H', 0, 'events_highpri', 2, 0.02, true);
  worker(`kworker/${unbound}:0`, null, 'events_unbound', 80, 2);
  rescuer('mm_percpu_wq');
  k('rcu_tasks_kthread', { state: 'I', wchan: 'rcu_tasks_one_gp' });
  k('rcu_tasks_rude_kthread', { state: 'I', wchan: 'rcu_tasks_one_gp' });
  k('rcu_tasks_trace_kthread', { state: 'I', wchan: 'rcu_tasks_one_gp' });
  k('ksoftirqd/0', { flags: PERCPU, cpu: 0, bound: true, wchan: 'smpboot_thread_fn', ppm: 30, hz: 0.5 });
  k('rcu_preempt', { state: 'I', cpu: 0, wchan: 'rcu_gp_fqs_loop', ppm: 250, hz: 6 });
  k('migration/0', { flags: PERCPU, policy: SCHED_FIFO, rtPrio: 99, cpu: 0, bound: true, wchan: 'smpboot_thread_fn', ppm: cpus > 1 ? 3 : 0, hz: cpus > 1 ? 0.05 : 0 });
  worker('kworker/0:1', 0, 'events', 60, 2);
  k('cpuhp/0', { flags: PERCPU, cpu: 0, bound: true, wchan: 'smpboot_thread_fn' });
  for (let c = 1; c < cpus; c++) {
    k(`cpuhp/${c}`, { flags: PERCPU, cpu: c, bound: true, wchan: 'smpboot_thread_fn' });
    k(`migration/${c}`, { flags: PERCPU, policy: SCHED_FIFO, rtPrio: 99, cpu: c, bound: true, wchan: 'smpboot_thread_fn', ppm: 3, hz: 0.05 });
    k(`ksoftirqd/${c}`, { flags: PERCPU, cpu: c, bound: true, wchan: 'smpboot_thread_fn', ppm: 30, hz: 0.5 });
    worker(`kworker/${c}:0`, c, c === 1 ? 'mm_percpu_wq' : 'events', 120, 4);
    worker(`kworker/${c}:0H`, c, 'events_highpri', 2, 0.02, true);
  }
  skip(1);
  k('kdevtmpfs', { wchan: 'devtmpfs_work_loop' });
  rescuer('inet_frag_wq');
  k('kauditd', { wchan: 'kauditd_thread' });
  k('khungtaskd', { wchan: 'watchdog', ppm: 1, hz: 1 / 120 });
  worker(`kworker/${unbound}:1`, null, 'events_unbound', 40, 1);
  k('oom_reaper', { wchan: 'oom_reaper' });
  rescuer('writeback');
  worker(`kworker/${unbound}:2`, null, 'flush-259:0', 30, 0.2);
  k('kcompactd0', { flags: FREEZABLE, wchan: 'kcompactd', ppm: 5, hz: 2 });
  k('ksmd', { flags: FREEZABLE, nice: 5, wchan: 'ksm_scan_thread' });
  // hugepage_init() leaves THP (and khugepaged) off below 512 MiB of RAM
  if (memoryMb > 512) k('khugepaged', { flags: FREEZABLE, nice: 19, wchan: 'khugepaged', ppm: 1, hz: 0.1 });
  for (let c = 1; c < cpus; c++) worker(`kworker/${c}:1`, c, 'events', 60, 2);
  rescuer('kintegrityd');
  rescuer('kblockd');
  rescuer('blkcg_punt_bio');
  rescuer('tpm_dev_wq');
  rescuer('edac-poller');
  rescuer('devfreq_wq');
  rescuer('quota_events_unbound');
  worker(`kworker/${cpus > 1 ? 1 : 0}:1H`, cpus > 1 ? 1 : 0, 'kblockd', 10, 0.3, true);
  k('kswapd0', { flags: KSWAPD, wchan: 'kswapd' });
  skip(5);
  rescuer('kthrotld');
  skip(1);
  rescuer('acpi_thermal_pm');
  worker('kworker/0:2', 0, 'events', 20, 0.5);
  rescuer('mld');
  rescuer('ipv6_addrconf');
  skip(4);
  rescuer('kstrp');
  skip(4);
  rescuer('zswap-shrink');
  worker(`kworker/${unboundHi}:0`, null, undefined, 0, 0, true);
  skip(40 + 3 * cpus);
  worker('kworker/0:1H', 0, 'kblockd', 10, 0.3, true);
  rescuer('nvme-wq');
  rescuer('nvme-reset-wq');
  rescuer('nvme-delete-wq');
  worker(`kworker/${unbound}:3`, null, 'events_unbound', 5, 0.1);
  skip(60);
  k('jbd2/nvme0n1p1-8', { wchan: 'kjournald2', ppm: 10, hz: 0.2 });
  rescuer('ext4-rsv-conversion');
  skip(20);

  // ---- userspace, started by systemd
  const d = (o: Omit<BootDaemon, 'kind' | 'pid'>): void => {
    out.push({ kind: 'u', pid: pid++, ...o });
  };
  const nullFds = (extra: BootFd[]): BootFd[] => [
    { fd: 0, path: '/dev/null', flags: RDONLY },
    { fd: 1, path: 'socket:', flags: RDWR },
    { fd: 2, path: 'socket:', flags: RDWR },
    ...extra,
  ];
  const SERVICE_NOFILE: [number, number] = [1024, 524288];
  d({
    comm: 'systemd-journal',
    exe: '/usr/lib/systemd/systemd-journald',
    argv: ['/lib/systemd/systemd-journald'],
    uid: 0,
    gid: 0,
    cgroup: '/system.slice/systemd-journald.service',
    tty: null,
    wchan: 'ep_poll',
    ppm: 40,
    hz: 0.2,
    user: 0.4,
    anonPages: 420,
    sigIgn: [13],
    sigCgt: [],
    sigBlk: [1, 2, 10, 12, 15, 17, 28],
    env: 'service',
    notify: true,
    fds: [
      { fd: 0, path: '/dev/null', flags: RDWR },
      { fd: 1, path: '/dev/null', flags: RDWR },
      { fd: 2, path: '/dev/null', flags: RDWR },
      { fd: 3, path: 'socket:', flags: RDWR | CLOEXEC },
      { fd: 4, path: 'anon_inode:[eventpoll]', flags: RDWR | CLOEXEC },
      { fd: 5, path: 'anon_inode:[signalfd]', flags: RDWR | CLOEXEC },
      { fd: 6, path: 'anon_inode:inotify', flags: RDONLY | CLOEXEC },
      { fd: 7, path: '/sys/fs/cgroup/system.slice/systemd-journald.service', flags: RDONLY | CLOEXEC },
      { fd: 8, path: 'anon_inode:[timerfd]', flags: RDWR | CLOEXEC },
      { fd: 9, path: '/dev/kmsg', flags: RDWR | CLOEXEC },
      { fd: 10, path: 'socket:', flags: RDWR | CLOEXEC },
      { fd: 11, path: 'socket:', flags: RDWR | CLOEXEC },
      { fd: 12, path: '/run/log/journal/system.journal', flags: RDWR | CLOEXEC },
    ],
    nofile: [524288, 524288],
    oomScoreAdj: -250,
  });
  skip(14);
  d({
    comm: 'systemd-udevd',
    exe: '/usr/lib/systemd/systemd-udevd',
    argv: ['/lib/systemd/systemd-udevd'],
    uid: 0,
    gid: 0,
    cgroup: '/system.slice/systemd-udevd.service/udev',
    tty: null,
    wchan: 'ep_poll',
    ppm: 0,
    hz: 0,
    user: 0.5,
    anonPages: 380,
    sigIgn: [13],
    sigCgt: [],
    sigBlk: [1, 2, 15, 17],
    env: 'service',
    notify: true,
    fds: nullFds([
      { fd: 3, path: 'socket:', flags: RDWR | CLOEXEC },
      { fd: 4, path: 'socket:', flags: RDWR | CLOEXEC },
      { fd: 5, path: 'anon_inode:[eventpoll]', flags: RDWR | CLOEXEC },
      { fd: 6, path: 'anon_inode:[signalfd]', flags: RDWR | CLOEXEC },
      { fd: 7, path: 'anon_inode:inotify', flags: RDONLY | CLOEXEC },
    ]),
    nofile: SERVICE_NOFILE,
    oomScoreAdj: -1000,
  });
  skip(95);
  d({
    comm: 'systemd-timesyn',
    exe: '/usr/lib/systemd/systemd-timesyncd',
    argv: ['/lib/systemd/systemd-timesyncd'],
    uid: 997,
    gid: 997,
    cgroup: '/system.slice/systemd-timesyncd.service',
    tty: null,
    wchan: 'ep_poll',
    ppm: 2,
    hz: 1 / 64,
    user: 0.3,
    anonPages: 220,
    sigIgn: [13],
    sigCgt: [],
    sigBlk: [2, 15, 17],
    env: 'service',
    notify: true,
    fds: nullFds([
      { fd: 3, path: 'socket:', flags: RDWR | CLOEXEC },
      { fd: 4, path: 'anon_inode:[eventpoll]', flags: RDWR | CLOEXEC },
      { fd: 5, path: 'anon_inode:[signalfd]', flags: RDWR | CLOEXEC },
      { fd: 6, path: 'anon_inode:[timerfd]', flags: RDWR | CLOEXEC },
    ]),
    nofile: SERVICE_NOFILE,
    oomScoreAdj: 0,
  });
  skip(22);
  d({
    comm: 'cron',
    exe: '/usr/sbin/cron',
    argv: ['/usr/sbin/cron', '-f'],
    uid: 0,
    gid: 0,
    cgroup: '/system.slice/cron.service',
    tty: null,
    wchan: 'hrtimer_nanosleep',
    ppm: 2,
    hz: 1 / 60,
    user: 0.2,
    anonPages: 90,
    sigIgn: [],
    sigCgt: [1, 15, 17],
    sigBlk: [],
    env: 'service',
    notify: false,
    fds: nullFds([{ fd: 3, path: '/run/crond.pid', flags: WRONLY }]),
    nofile: SERVICE_NOFILE,
    oomScoreAdj: 0,
  });
  d({
    comm: 'dbus-daemon',
    exe: '/usr/bin/dbus-daemon',
    argv: ['/usr/bin/dbus-daemon', '--system', '--address=systemd:', '--nofork', '--nopidfile', '--systemd-activation', '--syslog-only'],
    uid: 100,
    gid: 106,
    cgroup: '/system.slice/dbus.service',
    tty: null,
    wchan: 'ep_poll',
    ppm: 2,
    hz: 0.02,
    user: 0.5,
    anonPages: 150,
    sigIgn: [13],
    sigCgt: [1, 15],
    sigBlk: [],
    env: 'service',
    notify: false,
    fds: nullFds([
      { fd: 3, path: 'socket:', flags: RDWR | CLOEXEC },
      { fd: 4, path: 'anon_inode:[eventpoll]', flags: RDWR | CLOEXEC },
      { fd: 5, path: 'socket:', flags: RDWR | CLOEXEC },
      { fd: 6, path: 'anon_inode:inotify', flags: RDONLY | CLOEXEC },
      { fd: 7, path: 'socket:', flags: RDWR | CLOEXEC },
    ]),
    nofile: [16384, 16384],
    oomScoreAdj: -900,
  });
  skip(1);
  d({
    comm: 'systemd-logind',
    exe: '/usr/lib/systemd/systemd-logind',
    argv: ['/lib/systemd/systemd-logind'],
    uid: 0,
    gid: 0,
    cgroup: '/system.slice/systemd-logind.service',
    tty: null,
    wchan: 'ep_poll',
    ppm: 2,
    hz: 0.02,
    user: 0.4,
    anonPages: 200,
    sigIgn: [13],
    sigCgt: [],
    sigBlk: [2, 10, 12, 15, 17],
    env: 'service',
    notify: true,
    fds: nullFds([
      { fd: 3, path: 'socket:', flags: RDWR | CLOEXEC },
      { fd: 4, path: 'anon_inode:[eventpoll]', flags: RDWR | CLOEXEC },
      { fd: 5, path: 'anon_inode:[signalfd]', flags: RDWR | CLOEXEC },
      { fd: 6, path: 'socket:', flags: RDWR | CLOEXEC },
      { fd: 7, path: '/dev/tty0', flags: RDWR | CLOEXEC },
    ]),
    nofile: SERVICE_NOFILE,
    oomScoreAdj: 0,
  });
  skip(6);
  d({
    comm: 'agetty',
    exe: '/usr/sbin/agetty',
    argv: ['/sbin/agetty', '-o', '-p -- \\u', '--keep-baud', '115200,57600,38400,9600', '-', 'vt220'],
    uid: 0,
    gid: 0,
    cgroup: '/system.slice/system-serial\\x2dgetty.slice/serial-getty@ttyS0.service',
    tty: 'ttyS0',
    wchan: 'wait_woken',
    ppm: 0,
    hz: 0,
    user: 0.5,
    anonPages: 60,
    sigIgn: [],
    sigCgt: [],
    sigBlk: [],
    env: 'getty',
    notify: false,
    fds: [
      { fd: 0, path: '/dev/ttyS0', flags: RDWR },
      { fd: 1, path: '/dev/ttyS0', flags: RDWR },
      { fd: 2, path: '/dev/ttyS0', flags: RDWR },
    ],
    nofile: SERVICE_NOFILE,
    oomScoreAdj: 0,
  });
  d({
    comm: 'agetty',
    exe: '/usr/sbin/agetty',
    argv: ['/sbin/agetty', '-o', '-p -- \\u', '--noclear', '-', 'linux'],
    uid: 0,
    gid: 0,
    cgroup: '/system.slice/system-getty.slice/getty@tty1.service',
    tty: 'tty1',
    wchan: 'wait_woken',
    ppm: 0,
    hz: 0,
    user: 0.5,
    anonPages: 60,
    sigIgn: [],
    sigCgt: [],
    sigBlk: [],
    env: 'getty',
    notify: false,
    fds: [
      { fd: 0, path: '/dev/tty1', flags: RDWR },
      { fd: 1, path: '/dev/tty1', flags: RDWR },
      { fd: 2, path: '/dev/tty1', flags: RDWR },
    ],
    nofile: SERVICE_NOFILE,
    oomScoreAdj: 0,
  });
  skip(3);
  d({
    comm: 'sshd',
    exe: '/usr/sbin/sshd',
    argv: ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'],
    uid: 0,
    gid: 0,
    cgroup: '/system.slice/ssh.service',
    tty: null,
    wchan: 'do_sys_poll',
    ppm: 0,
    hz: 0,
    user: 0.5,
    anonPages: 170,
    sigIgn: [13],
    sigCgt: [1, 2, 3, 14, 15, 17],
    sigBlk: [],
    env: 'service',
    notify: true,
    fds: nullFds([
      { fd: 3, path: 'socket:', flags: RDWR },
      { fd: 4, path: 'socket:', flags: RDWR },
    ]),
    nofile: SERVICE_NOFILE,
    oomScoreAdj: -1000,
  });
  return out;
}

/** pid 1: systemd as Debian starts it. */
export const INIT_DAEMON: Omit<BootDaemon, 'kind' | 'pid'> = {
  comm: 'systemd',
  exe: '/usr/lib/systemd/systemd',
  argv: ['/sbin/init'],
  uid: 0,
  gid: 0,
  cgroup: '/init.scope',
  tty: null,
  wchan: 'ep_poll',
  ppm: 50,
  hz: 0.3,
  user: 0.3,
  anonPages: 900,
  sigIgn: [13],
  sigCgt: [3, 4, 6, 7, 8, 11, 33],
  sigBlk: [1, 2, 10, 12, 14, 15, 17, 20, 21, 22, 24, 26, 27, 28, 29, 30, 31, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 52, 53, 54, 55, 56, 58, 59, 60, 61, 63],
  env: 'init',
  notify: false,
  fds: [
    { fd: 0, path: '/dev/null', flags: RDWR },
    { fd: 1, path: '/dev/null', flags: RDWR },
    { fd: 2, path: '/dev/null', flags: RDWR },
    { fd: 3, path: '/dev/kmsg', flags: WRONLY | CLOEXEC },
    { fd: 4, path: 'anon_inode:[eventpoll]', flags: RDWR | CLOEXEC },
    { fd: 5, path: 'anon_inode:[signalfd]', flags: RDWR | CLOEXEC },
    { fd: 6, path: 'anon_inode:inotify', flags: RDONLY | CLOEXEC },
    { fd: 7, path: '/sys/fs/cgroup', flags: RDONLY | CLOEXEC },
    { fd: 8, path: 'anon_inode:[timerfd]', flags: RDWR | CLOEXEC },
    { fd: 9, path: 'anon_inode:[eventpoll]', flags: RDWR | CLOEXEC },
    { fd: 10, path: '/proc/1/mountinfo', flags: RDONLY | CLOEXEC },
    { fd: 11, path: 'anon_inode:inotify', flags: RDONLY | CLOEXEC },
    { fd: 12, path: '/usr/lib/x86_64-linux-gnu/systemd/libsystemd-shared-252.so', flags: RDONLY | CLOEXEC },
    { fd: 13, path: '/proc/swaps', flags: RDONLY | CLOEXEC },
    { fd: 14, path: 'socket:', flags: RDWR | CLOEXEC },
    { fd: 15, path: 'socket:', flags: RDWR | CLOEXEC },
    { fd: 16, path: 'socket:', flags: RDWR | CLOEXEC },
    { fd: 17, path: 'socket:', flags: RDWR | CLOEXEC },
    { fd: 18, path: 'anon_inode:[timerfd]', flags: RDWR | CLOEXEC },
  ],
  nofile: [1073741816, 1073741816],
  oomScoreAdj: 0,
};
