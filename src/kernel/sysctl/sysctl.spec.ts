import * as fs from 'fs';
import * as path from 'path';
import fc from 'fast-check';
import { Kernel } from '../kernel';
import { isKernelError } from '../errors';
import type { FsCtx } from '../fs/vnode';
import { modprobe } from '../modules/kmod';
import { renderSysctlA, sysctlJson } from './procfs';
import { KNOBS, knobKey } from './knobs';
import { INT_MAX } from './parse';

const REF = path.resolve(__dirname, '../../../../shared/reference/linux-6.1/proc');
const ref = (f: string): string => fs.readFileSync(path.join(REF, f), 'utf8');

const boot = (over: Partial<{ cpus: number; memoryMb: number; seed: string; hostname: string }> = {}): Kernel =>
  Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'sysctl', hostname: 'qemu-kref', ...over }, { bootEpochMs: 0 });

const root = (k: Kernel): FsCtx => k.rootCtx();
const user = (k: Kernel): FsCtx => ({ k, pid: 1, uid: 1000, gid: 1000 });
const read = (k: Kernel, p: string, ctx = root(k)): string => k.vfs.readFile(ctx, `/proc/sys/${p}`);
const write = (k: Kernel, p: string, data: string, ctx = root(k)): void => k.vfs.writeFile(ctx, `/proc/sys/${p}`, data);
const errno = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    if (isKernelError(e)) return e.code;
    throw e;
  }
};

/** Reference paths mapped to this machine: dummy0 stands for eth0, dummy1 has no counterpart. */
function refEntries(): { path: string; value: string | null; err?: string }[] {
  const out: { path: string; value: string | null; err?: string }[] = [];
  for (const l of ref('sys_raw_values.txt').split('\n').filter(Boolean)) {
    const m = /^\/proc\/sys\/(\S+) (=|!!) ?(.*)$/.exec(l) as RegExpExecArray;
    if (m[1].includes('/dummy1/')) continue;
    const p = m[1].replace('/dummy0/', '/eth0/');
    out.push(m[2] === '=' ? { path: p, value: m[3] } : { path: p, value: null, err: /Permission denied/.test(m[3]) ? 'EACCES' : 'EIO' });
  }
  return out;
}

/** Knobs whose value is this machine's (or its subsystems' models), not the reference boot's. */
const MACHINE_VALUES = new Set([
  'fs/dentry-state',
  'fs/file-nr',
  'fs/inode-nr',
  'fs/inode-state',
  'kernel/ns_last_pid',
  'kernel/random/boot_id',
  'kernel/random/uuid',
  'kernel/threads-max',
  'vm/user_reserve_kbytes',
  'vm/min_free_kbytes',
  // a NOARP dummy device gets accept_dad -1; the virtio NIC keeps the default
  'net/ipv6/conf/eth0/accept_dad',
  // the reference booted with panic=-1 on its command line; Kernelab machines boot without it (0)
  'kernel/panic',
]);

describe('/proc/sys tree', () => {
  const k = boot();

  it('has exactly the reference set of knobs (eth0 for dummy0)', () => {
    const ours = k.sysctl.names().sort();
    const theirs = refEntries()
      .map((e) => e.path)
      .sort();
    expect(ours).toEqual(theirs);
    expect(theirs.length).toBe(1104 - 126);
  });

  it('lists every knob once the reference modules are loaded (dummy0, dummy1)', () => {
    const k2 = boot();
    expect(modprobe(k2, ['dummy', 'numdummies=2']).exitCode).toBe(0);
    const theirs = ref('sys_raw_values.txt')
      .split('\n')
      .filter(Boolean)
      .map((l) => (/^\/proc\/sys\/(\S+)/.exec(l) as RegExpExecArray)[1]);
    const ours = k2.sysctl.names().filter((p) => !p.includes('/eth0/'));
    expect(ours.sort()).toEqual(theirs.sort());
  });

  it('reads the reference defaults (values of this machine where the model owns them)', () => {
    for (const e of refEntries()) {
      let got: string;
      try {
        got = read(k, e.path).replace(/\n$/, '').replace(/\t/g, ' ');
      } catch (err) {
        expect(isKernelError(err) && err.code).toBe(e.err);
        continue;
      }
      expect(e.err).toBeUndefined();
      if (MACHINE_VALUES.has(e.path)) continue;
      expect(`${e.path} = ${got}`).toBe(`${e.path} = ${e.value}`);
    }
  });

  it('gives the files the modes of ls -lR /proc/sys', () => {
    let dir = '';
    let n = 0;
    for (const l of ref('sys_ls_lR').split('\n')) {
      if (l.endsWith(':')) {
        dir = l.slice(0, -1).replace(/^\/proc\/sys\/?/, '');
        continue;
      }
      const m = /^([-dlrwx]{10}) .* (\S+)$/.exec(l);
      if (!m || dir.includes('dummy1')) continue;
      const name = `${dir.replace('dummy0', 'eth0')}/${m[2] === 'dummy0' ? 'eth0' : m[2]}`.replace(/^\//, '');
      if (m[2] === 'dummy1') continue;
      const ent = k.vfs.readdir(root(k), `/proc/sys/${dir.replace('dummy0', 'eth0')}`).find((x) => x.name === name.split('/').pop());
      expect(ent).toBeDefined();
      const bits = (ent?.type === 'dir' ? 'd' : '-') + modeString(ent?.mode ?? 0);
      expect(`${name} ${bits}`).toBe(`${name} ${m[1]}`);
      n++;
    }
    expect(n).toBeGreaterThan(1000);
  });

  it('lists directories in the kernel order (sorted by name)', () => {
    const names = k.vfs.readdir(root(k), '/proc/sys/fs').map((e) => e.name);
    expect(names.slice(0, 4)).toEqual(['aio-max-nr', 'aio-nr', 'binfmt_misc', 'dentry-state']);
    expect(k.vfs.readdir(root(k), '/proc/sys').map((e) => e.name)).toEqual([
      'abi',
      'crypto',
      'debug',
      'dev',
      'fs',
      'kernel',
      'net',
      'user',
      'vm',
    ]);
  });

  it('takes the hostname and memory-sized defaults from the machine', () => {
    const big = boot({ memoryMb: 4096, cpus: 8, hostname: 'box' });
    expect(read(big, 'kernel/hostname')).toBe('box\n');
    expect(Number(read(big, 'fs/file-max'))).toBeGreaterThan(44559 * 7);
    expect(read(big, 'kernel/watchdog_cpumask')).toBe('0-7\n');
    const [lo, mid, hi] = read(big, 'net/ipv4/tcp_mem').trim().split('\t').map(Number);
    expect(lo).toBe(Math.floor(mid / 4) * 3);
    expect(hi).toBe(lo * 2);
    expect(mid).toBeGreaterThan(6975 * 7);
  });
});

function modeString(m: number): string {
  const r = 'rwxrwxrwx';
  let s = '';
  for (let i = 0; i < 9; i++) s += m & (1 << (8 - i)) ? r[i] : '-';
  return s;
}

describe('sysctl -a', () => {
  it('prints the reference keys in order, vectors tab separated, unreadable keys left out', () => {
    const k = boot();
    expect(modprobe(k, ['dummy', 'numdummies=2']).exitCode).toBe(0);
    const ours = renderSysctlA(k)
      .split('\n')
      .filter(Boolean)
      .filter((l) => !l.includes('.eth0.'));
    const theirs = ref('sys_sysctl_a').split('\n').filter(Boolean);
    expect(ours.map((l) => l.split(' = ')[0])).toEqual(theirs.map((l) => l.split(' = ')[0]));
    const shape = (l: string): string => l.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, 'U').replace(/-?\d+/g, 'N');
    const differ = ours.filter((l, i) => shape(l) !== shape(theirs[i]));
    expect(differ).toEqual(['kernel.hostname = qemu-kref'].filter((x) => !ours.includes(x)));
    expect(ours).toContain('kernel.printk = 7\t4\t1\t7');
  });

  it('names only (-N) include the unreadable but not the write-only or deprecated keys', () => {
    const k = boot();
    expect(modprobe(k, ['dummy', 'numdummies=2']).exitCode).toBe(0);
    const ours = renderSysctlA(k, { namesOnly: true })
      .split('\n')
      .filter((l) => l && !l.includes('.eth0.'));
    expect(ours).toEqual(ref('sys_sysctl_a_N').split('\n').filter(Boolean));
  });

  it('leaves out 0600 knobs for unprivileged readers', () => {
    const k = boot();
    const out = renderSysctlA(k, { ctx: user(k) });
    expect(out).not.toContain('kernel.cad_pid');
    expect(out).toContain('vm.swappiness = 60');
  });
});

describe('sysctl JSON', () => {
  const k = boot();
  it('types values: numbers, arrays for vectors, strings, null when unreadable', () => {
    const j = sysctlJson(k, 'vm');
    expect(j['vm.swappiness']).toBe(60);
    expect(j['vm.lowmem_reserve_ratio']).toEqual([256, 256, 32, 0, 0]);
    expect(j['vm.drop_caches']).toBeNull();
    expect(j['vm.numa_zonelist_order']).toBe('Node');
    expect(sysctlJson(k, 'kernel.shmmax')['kernel.shmmax']).toBe('18446744073692774399');
    expect(sysctlJson(k, 'kernel/printk')).toEqual({ 'kernel.printk': [7, 4, 1, 7] });
    expect(sysctlJson(k, 'kernel.seccomp')['kernel.seccomp.actions_logged']).toBe(
      'kill_process kill_thread trap errno user_notif trace log',
    );
    expect(errno(() => sysctlJson(k, 'no.such'))).toBe('ENOENT');
  });
});

describe('writes', () => {
  it('validates ranges like proc_dointvec_minmax and keeps the value on EINVAL', () => {
    const k = boot();
    write(k, 'vm/swappiness', '200\n');
    expect(read(k, 'vm/swappiness')).toBe('200\n');
    expect(errno(() => write(k, 'vm/swappiness', '201'))).toBe('EINVAL');
    expect(errno(() => write(k, 'vm/swappiness', '-1'))).toBe('EINVAL');
    expect(read(k, 'vm/swappiness')).toBe('200\n');
    expect(errno(() => write(k, 'kernel/pid_max', '300'))).toBe('EINVAL');
    write(k, 'kernel/pid_max', '4194304');
    expect(read(k, 'kernel/pid_max')).toBe('4194304\n');
    expect(errno(() => write(k, 'kernel/pid_max', '4194305'))).toBe('EINVAL');
    expect(errno(() => write(k, 'vm/overcommit_memory', '3'))).toBe('EINVAL');
    write(k, 'vm/overcommit_memory', '2');
    expect(read(k, 'vm/overcommit_memory')).toBe('2\n');
    write(k, 'kernel/panic', '-2147483648');
    expect(read(k, 'kernel/panic')).toBe('-2147483648\n');
    expect(errno(() => write(k, 'kernel/panic', '2147483648'))).toBe('EINVAL');
    write(k, 'kernel/sysrq', '1');
    expect(read(k, 'kernel/sysrq')).toBe('1\n');
  });

  it('parses like proc_get_long: whitespace, hex and octal, trailers, empty input', () => {
    const k = boot();
    write(k, 'vm/swappiness', '  0x10 \n');
    expect(read(k, 'vm/swappiness')).toBe('16\n');
    write(k, 'vm/swappiness', '010');
    expect(read(k, 'vm/swappiness')).toBe('8\n');
    for (const bad of ['', '\n', 'abc', '12abc', '1.5', '+5', '- 1', '99999999999999999999999']) {
      expect(errno(() => write(k, 'vm/swappiness', bad))).toBe('EINVAL');
    }
    expect(read(k, 'vm/swappiness')).toBe('8\n');
    // a second number beyond the vector is ignored
    write(k, 'vm/swappiness', '7 9');
    expect(read(k, 'vm/swappiness')).toBe('7\n');
  });

  it('writes vectors element by element (kernel.printk, partial and failing writes)', () => {
    const k = boot();
    write(k, 'kernel/printk', '3');
    expect(read(k, 'kernel/printk')).toBe('3\t4\t1\t7\n');
    write(k, 'kernel/printk', '8 5 2 6 9');
    expect(read(k, 'kernel/printk')).toBe('8\t5\t2\t6\n');
    expect(k.printk.getConsoleLevels()).toEqual([8, 5, 2, 6]);
    // the first value is stored before the second fails
    expect(errno(() => write(k, 'kernel/printk', '4 x'))).toBe('EINVAL');
    expect(read(k, 'kernel/printk')).toBe('4\t5\t2\t6\n');
    expect(errno(() => write(k, 'net/ipv4/ip_local_port_range', '60000 50000'))).toBe('EINVAL');
    write(k, 'net/ipv4/ip_local_port_range', '40000\t50000');
    expect(read(k, 'net/ipv4/ip_local_port_range')).toBe('40000\t50000\n');
  });

  it('rejects writes to read-only knobs with EACCES even for root, and reads of write-only ones', () => {
    const k = boot();
    expect(errno(() => write(k, 'kernel/osrelease', 'x'))).toBe('EACCES');
    expect(errno(() => write(k, 'fs/file-nr', '1'))).toBe('EACCES');
    expect(errno(() => read(k, 'vm/drop_caches'))).toBe('EACCES');
    expect(errno(() => read(k, 'net/ipv4/route/flush'))).toBe('EACCES');
    expect(errno(() => read(k, 'net/ipv6/conf/all/stable_secret'))).toBe('EIO');
    write(k, 'vm/drop_caches', '3');
    expect(errno(() => write(k, 'vm/drop_caches', '5'))).toBe('EINVAL');
    // 0600 and 0644 for an unprivileged user
    expect(errno(() => read(k, 'kernel/cad_pid', user(k)))).toBe('EACCES');
    expect(errno(() => write(k, 'vm/swappiness', '10', user(k)))).toBe('EACCES');
    expect(read(k, 'vm/swappiness', user(k))).toBe('60\n');
  });

  it('truncates strings at maxlen like proc_dostring; sethostname() refuses long names', () => {
    const k = boot();
    write(k, 'kernel/hostname', 'a'.repeat(70) + '\n');
    expect(read(k, 'kernel/hostname')).toBe('a'.repeat(64) + '\n');
    expect(k.sysctl.getHostname()).toBe('a'.repeat(64));
    write(k, 'kernel/hostname', 'web1\nignored');
    expect(k.sysctl.getHostname()).toBe('web1');
    expect(errno(() => k.sysctl.setHostname('b'.repeat(65)))).toBe('EINVAL');
    k.sysctl.setHostname('db');
    expect(read(k, 'kernel/hostname')).toBe('db\n');
  });

  it('converts jiffies knobs like the kernel (ms rounds up to a tick, USER_HZ loses odd values)', () => {
    const k = boot();
    write(k, 'net/ipv4/neigh/eth0/retrans_time_ms', '1001');
    expect(read(k, 'net/ipv4/neigh/eth0/retrans_time_ms')).toBe('1004\n');
    // shared data: retrans_time (USER_HZ) shows the same jiffies
    expect(read(k, 'net/ipv4/neigh/eth0/retrans_time')).toBe('100\n');
    write(k, 'net/ipv4/neigh/eth0/retrans_time', '51');
    expect(read(k, 'net/ipv4/neigh/eth0/retrans_time')).toBe('50\n');
    write(k, 'net/ipv6/neigh/default/base_reachable_time', '20');
    expect(read(k, 'net/ipv6/neigh/default/base_reachable_time_ms')).toBe('20000\n');
    // a device without its own value follows "default"
    expect(read(k, 'net/ipv6/neigh/eth0/base_reachable_time_ms')).toBe('20000\n');
    write(k, 'net/ipv4/neigh/lo/unres_qlen', '3');
    expect(read(k, 'net/ipv4/neigh/lo/unres_qlen_bytes')).toBe(`${3 * 2090}\n`);
    write(k, 'kernel/printk_ratelimit', '7');
    expect(read(k, 'kernel/printk_ratelimit')).toBe('7\n');
  });

  it('links shared and propagated knobs (ip_forward, conf.all, IPv6 MTU)', () => {
    const k = boot();
    write(k, 'net/ipv4/ip_forward', '1');
    expect(read(k, 'net/ipv4/conf/all/forwarding')).toBe('1\n');
    expect(read(k, 'net/ipv4/conf/eth0/forwarding')).toBe('1\n');
    expect(read(k, 'net/ipv4/conf/default/forwarding')).toBe('1\n');
    write(k, 'net/ipv4/conf/lo/forwarding', '0');
    expect(read(k, 'net/ipv4/ip_forward')).toBe('1\n');
    write(k, 'net/ipv6/conf/all/forwarding', '1');
    expect(read(k, 'net/ipv6/conf/eth0/forwarding')).toBe('1\n');
    expect(errno(() => write(k, 'net/ipv6/conf/eth0/mtu', '1501'))).toBe('EINVAL');
    write(k, 'net/ipv6/conf/eth0/mtu', '1400');
    expect(read(k, 'net/ipv6/conf/eth0/mtu')).toBe('1400\n');
    k.vfs.writeFile(root(k), '/sys/class/net/eth0/mtu', '9000');
    expect(read(k, 'net/ipv6/conf/eth0/mtu')).toBe('9000\n');
    write(k, 'net/ipv6/conf/default/stable_secret', '2001:db8::1');
    expect(read(k, 'net/ipv6/conf/default/stable_secret')).toBe('2001:0db8:0000:0000:0000:0000:0000:0001\n');
    expect(read(k, 'net/ipv6/conf/eth0/addr_gen_mode')).toBe('2\n');
    expect(errno(() => write(k, 'net/ipv6/conf/all/stable_secret', '::1'))).toBe('EIO');
    write(k, 'vm/dirty_bytes', '8192');
    expect(read(k, 'vm/dirty_ratio')).toBe('0\n');
    expect(errno(() => write(k, 'vm/dirty_bytes', '100'))).toBe('EINVAL');
  });

  it('follows the handlers of special knobs', () => {
    const k = boot();
    write(k, 'kernel/tainted', '4096');
    write(k, 'kernel/tainted', '1');
    expect(read(k, 'kernel/tainted')).toBe('4097\n');
    expect(errno(() => write(k, 'kernel/printk_devkmsg', 'on'))).toBe('EINVAL');
    write(k, 'kernel/printk_devkmsg', 'off\n');
    expect(read(k, 'kernel/printk_devkmsg')).toBe('off\n');
    expect(errno(() => write(k, 'kernel/seccomp/actions_logged', 'allow'))).toBe('EINVAL');
    write(k, 'kernel/seccomp/actions_logged', 'log trap');
    expect(read(k, 'kernel/seccomp/actions_logged')).toBe('trap log\n');
    write(k, 'kernel/unprivileged_bpf_disabled', '1');
    expect(errno(() => write(k, 'kernel/unprivileged_bpf_disabled', '0'))).toBe('EPERM');
    write(k, 'kernel/usermodehelper/bset', '4294967294 511');
    expect(read(k, 'kernel/usermodehelper/bset')).toBe('4294967294\t511\n');
    write(k, 'kernel/usermodehelper/bset', '4294967295 511');
    expect(read(k, 'kernel/usermodehelper/bset')).toBe('4294967294\t511\n');
    write(k, 'fs/pipe-max-size', '5000');
    expect(read(k, 'fs/pipe-max-size')).toBe('8192\n');
    write(k, 'kernel/random/write_wakeup_threshold', 'anything');
    expect(read(k, 'kernel/random/write_wakeup_threshold')).toBe('256\n');
    expect(read(k, 'kernel/random/uuid')).not.toBe(read(k, 'kernel/random/uuid'));
    expect(read(k, 'kernel/random/boot_id')).toBe(read(k, 'kernel/random/boot_id'));
    expect(errno(() => write(k, 'kernel/kexec_load_disabled', '0'))).toBe('EINVAL');
    write(k, 'kernel/yama/ptrace_scope', '3');
    expect(errno(() => write(k, 'kernel/yama/ptrace_scope', '1'))).toBe('EINVAL');
    expect(errno(() => write(k, 'net/core/default_qdisc', 'nosuchqdisc'))).toBe('ENOENT');
    write(k, 'net/core/default_qdisc', 'pfifo_fast');
    expect(read(k, 'net/core/default_qdisc')).toBe('pfifo_fast\n');
    write(k, 'kernel/watchdog_cpumask', '1');
    expect(read(k, 'kernel/watchdog_cpumask')).toBe('1\n');
    expect(errno(() => write(k, 'kernel/watchdog_cpumask', '2'))).toBe('EINVAL');
    expect(errno(() => write(k, 'net/ipv4/tcp_congestion_control', 'nosuch'))).toBe('ENOENT');
    write(k, 'net/ipv4/tcp_congestion_control', 'bbr');
    expect(read(k, 'net/ipv4/tcp_available_congestion_control')).toBe('reno cubic bbr\n');
    expect(read(k, 'net/ipv4/tcp_allowed_congestion_control')).toBe('reno cubic bbr\n');
    expect(errno(() => write(k, 'kernel/sched_rt_runtime_us', '1000001'))).toBe('EINVAL');
    write(k, 'kernel/sched_rt_runtime_us', '-1');
    expect(read(k, 'kernel/sched_rt_runtime_us')).toBe('-1\n');
  });

  it('reaches the owning subsystems through their hooks', () => {
    const k = boot();
    write(k, 'vm/swappiness', '10');
    expect(k.mm.getVmTunable('swappiness')).toBe(10);
    k.mm.setVmTunable('swappiness', 77);
    expect(read(k, 'vm/swappiness')).toBe('77\n');
    write(k, 'kernel/pid_max', '40000');
    expect(k.sched.getPidMax()).toBe(40000);
    expect(read(k, 'kernel/ns_last_pid')).toBe(`${k.sched.getLastPid()}\n`);
    expect(read(k, 'kernel/threads-max')).toBe(`${k.sched.getThreadsMax()}\n`);
    expect(errno(() => write(k, 'kernel/threads-max', '19'))).toBe('EINVAL');
  });
});

/** Knobs whose write-back of their own value fails or changes it, and why (each is the kernel's behaviour). */
const WRITE_BACK_EXCEPTIONS: Record<string, string> = {
  'kernel/kexec_load_disabled': 'one-way switch: only 1 is accepted',
  'kernel/modules_disabled': 'one-way switch: only 1 is accepted',
  'kernel/max_rcu_stall_to_panic': 'default 0 is below its minimum 1',
  'kernel/msg_next_id': 'default -1 is below its minimum 0',
  'kernel/sem_next_id': 'default -1 is below its minimum 0',
  'kernel/shm_next_id': 'default -1 is below its minimum 0',
  'kernel/nmi_watchdog': 'no NMI watchdog in the guest: -ENOTSUPP',
  'kernel/cad_pid': 'pid 1 must exist',
  'kernel/printk_devkmsg': 'the value is written without the newline it needs',
  'vm/compact_memory': 'write-only',
  'vm/drop_caches': 'write-only',
  'vm/stat_refresh': 'empty',
  'net/ipv4/route/flush': 'write-only',
  'net/ipv6/route/flush': 'write-only',
  'kernel/ns_last_pid': 'moves with forks',
  'kernel/random/uuid': 'fresh on each read',
  'vm/dirty_background_bytes': 'default 0 is below its minimum 1 (the ratio is in use)',
  'vm/dirty_bytes': 'default 0 is below its minimum 2 pages (the ratio is in use)',
};

describe('properties', () => {
  it('writing back the value read leaves it unchanged (every writable knob)', () => {
    const k = boot();
    for (const p of k.sysctl.names()) {
      const mode = k.sysctl.mode(p);
      if (!(mode & 0o200) || WRITE_BACK_EXCEPTIONS[p]) continue;
      if (/stable_secret$/.test(p)) continue;
      const before = read(k, p);
      const err = errno(() => write(k, p, before));
      expect(`${p}: ${err ?? 'ok'}`).toBe(`${p}: ok`);
      expect(`${p} = ${read(k, p)}`).toBe(`${p} = ${before}`);
    }
  });

  const ranged = Object.entries(KNOBS)
    .filter(([key, kn]) => !key.includes('*') && kn.t === 'int' && !kn.conv && !kn.data && kn.min !== undefined && kn.max !== undefined)
    .map(([key, kn]) => ({ key, min: Number(kn.min), max: Number(kn.max) }))
    .filter(({ key }) => !WRITE_BACK_EXCEPTIONS[key] && !['kernel/yama/ptrace_scope', 'net/ipv4/ip_local_port_range'].includes(key));

  it('writes within [min, max] round-trip; outside fail with EINVAL and change nothing', () => {
    const k = boot();
    const knobs = ranged.filter(({ key }) => k.sysctl.ref(key) && k.sysctl.mode(key) & 0o200);
    expect(knobs.length).toBeGreaterThan(60);
    fc.assert(
      fc.property(
        fc.constantFrom(...knobs),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        ({ key, min, max }, f, off) => {
          const before = read(k, key);
          const v = Math.floor(min + f * (max - min));
          write(k, key, `${v}\n`);
          expect(read(k, key)).toBe(`${v}\n`);
          const bad = f < 0.5 ? min - off : max + off;
          if (bad >= -2147483648 && bad <= INT_MAX) {
            expect(errno(() => write(k, key, String(bad)))).toBe('EINVAL');
            expect(read(k, key)).toBe(`${v}\n`);
          }
          write(k, key, before);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('malformed input fails with EINVAL and leaves numeric knobs unchanged', () => {
    const k = boot();
    const names = k.sysctl.names().filter((p) => {
      const r = k.sysctl.ref(p);
      return r && r.mode & 0o200 && r.mode & 0o400 && ['int', 'uint', 'u8', 'ulong'].includes(r.knob.t) && !WRITE_BACK_EXCEPTIONS[p];
    });
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.stringMatching(/^[a-zA-Z_.+][a-zA-Z0-9 ]{0,8}$/), (p, junk) => {
        const before = read(k, p);
        expect(errno(() => write(k, p, junk))).toBe('EINVAL');
        expect(read(k, p)).toBe(before);
      }),
      { numRuns: 300 },
    );
  });

  it('read-only knobs reject every write with EACCES', () => {
    const k = boot();
    const ro = k.sysctl.names().filter((p) => (k.sysctl.mode(p) & 0o222) === 0);
    expect(ro.length).toBeGreaterThan(40);
    fc.assert(
      fc.property(fc.constantFrom(...ro), fc.string({ maxLength: 12 }), (p, data) => {
        const before = p.includes('uuid') ? '' : read(k, p);
        expect(errno(() => write(k, p, data))).toBe('EACCES');
        if (before && !/(dentry|inode|file-nr)/.test(p)) expect(read(k, p)).toBe(before);
      }),
      { numRuns: 200 },
    );
  });

  it('USER_HZ knobs reach a fixpoint after one write-back', () => {
    const k = boot();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100000 }), (v) => {
        write(k, 'net/ipv4/neigh/default/proxy_delay', String(v));
        const r1 = read(k, 'net/ipv4/neigh/default/proxy_delay');
        write(k, 'net/ipv4/neigh/default/proxy_delay', r1);
        const r2 = read(k, 'net/ipv4/neigh/default/proxy_delay');
        write(k, 'net/ipv4/neigh/default/proxy_delay', r2);
        expect(read(k, 'net/ipv4/neigh/default/proxy_delay')).toBe(r2);
        expect(Number(r1)).toBeLessThanOrEqual(v);
      }),
    );
  });

  it('knob keys of the table exist in the tree', () => {
    const k = boot();
    const keys = new Set(k.sysctl.names().map(knobKey));
    const missing = Object.keys(KNOBS).filter((key) => !keys.has(key));
    expect(missing).toEqual([]);
  });
});

describe('snapshots', () => {
  it('snapshot -> restore gives identical renders and keeps written values', () => {
    const k = boot();
    write(k, 'vm/swappiness', '33');
    write(k, 'kernel/hostname', 'restored');
    write(k, 'net/ipv4/neigh/eth0/retrans_time_ms', '2000');
    write(k, 'kernel/tainted', '2');
    const st = JSON.parse(JSON.stringify(k.getState()));
    const k2 = Kernel.fromState(st);
    const omitUuid = (s: string): string => s.replace(/kernel\.random\.uuid = .*\n/, '');
    expect(omitUuid(renderSysctlA(k2))).toBe(omitUuid(renderSysctlA(k)));
    expect(read(k2, 'kernel/random/boot_id')).toBe(read(k, 'kernel/random/boot_id'));
    expect(read(k2, 'kernel/random/uuid')).toBe(read(k, 'kernel/random/uuid'));
  });

  it('stores only what changed', () => {
    const k = boot();
    expect(Object.keys(k.sysctl.getState().v)).toEqual([]);
    write(k, 'kernel/domainname', 'example');
    write(k, 'kernel/domainname', '(none)');
    expect(Object.keys(k.sysctl.getState().v)).toEqual([]);
    write(k, 'fs/lease-break-time', '10');
    expect(k.sysctl.getState().v).toEqual({ 'fs/lease-break-time': '10' });
  });

  it('is deterministic per seed', () => {
    const a = boot({ seed: 's1' });
    const b = boot({ seed: 's1' });
    const c = boot({ seed: 's2' });
    expect(read(a, 'kernel/random/boot_id')).toBe(read(b, 'kernel/random/boot_id'));
    expect(read(a, 'kernel/random/boot_id')).not.toBe(read(c, 'kernel/random/boot_id'));
    expect(read(a, 'kernel/random/boot_id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n$/);
  });
});
