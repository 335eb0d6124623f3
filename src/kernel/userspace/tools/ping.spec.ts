/** ping (iputils-ping 20221126): output, options and exit codes. */
import { boot } from '../../trace/testing';
import { bootShell } from '../../shell/testing';
import { Userspace } from '../runtime';

const run = (us: Userspace, command: string): { stdout: string; stderr: string; exitCode: number } => {
  const o = us.exec({ command, cwd: '/' }, true).runToEnd();
  return { stdout: o.stdout, stderr: o.stderr, exitCode: o.exitCode };
};
const REPLY = (from: string, seq: number, bytes = 64): RegExp => new RegExp(`^${bytes} bytes from ${from.replace(/[().]/g, '\\$&')}: icmp_seq=${seq} ttl=64 time=0\\.\\d{3} ms$`);

describe('ping', () => {
  it('pings 127.0.0.1 -c 2: header, replies, statistics; 1 s apart in virtual time', () => {
    const k = boot();
    const us = new Userspace(k);
    const t0 = k.now;
    const o = run(us, 'ping -c 2 127.0.0.1');
    expect(o.exitCode).toBe(0);
    expect(o.stderr).toBe('');
    const l = o.stdout.split('\n');
    expect(l[0]).toBe('PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.');
    expect(l[1]).toMatch(REPLY('127.0.0.1', 1));
    expect(l[2]).toMatch(REPLY('127.0.0.1', 2));
    expect(l[3]).toBe('');
    expect(l[4]).toBe('--- 127.0.0.1 ping statistics ---');
    expect(l[5]).toMatch(/^2 packets transmitted, 2 received, 0% packet loss, time 100\dms$/);
    const m = /^rtt min\/avg\/max\/mdev = (\d+\.\d{3})\/(\d+\.\d{3})\/(\d+\.\d{3})\/(\d+\.\d{3}) ms$/.exec(l[6])!;
    expect(m).not.toBeNull();
    const times = [l[1], l[2]].map((x) => Number(/time=([\d.]+)/.exec(x)![1]));
    expect(Number(m[1])).toBe(Math.min(...times));
    expect(Number(m[3])).toBe(Math.max(...times));
    expect(l.length).toBe(8);
    expect(l[7]).toBe('');
    // the interval passed in virtual time
    expect(k.now - t0).toBeGreaterThanOrEqual(1e9);
  });

  it('names: localhost and the hostname resolve through /etc/hosts; -q and -s', () => {
    const k = boot();
    const us = new Userspace(k);
    const a = run(us, 'ping -c 1 localhost').stdout.split('\n');
    expect(a[0]).toBe('PING localhost (127.0.0.1) 56(84) bytes of data.');
    expect(a[1]).toMatch(REPLY('localhost (127.0.0.1)', 1));
    expect(a[3]).toBe('--- localhost ping statistics ---');
    expect(a[4]).toBe('1 packets transmitted, 1 received, 0% packet loss, time 0ms');
    const n = run(us, 'ping -4 -n -c 1 localhost').stdout.split('\n');
    expect(n[0]).toBe('PING localhost (127.0.0.1) 56(84) bytes of data.');
    expect(n[1]).toMatch(REPLY('127.0.0.1', 1));
    const b = run(us, 'ping -q -c 3 -i 0.2 -s 100 kernelab').stdout.split('\n');
    expect(b[0]).toBe('PING kernelab (127.0.1.1) 100(128) bytes of data.');
    expect(b[1]).toBe('');
    expect(b[2]).toBe('--- kernelab ping statistics ---');
    expect(b[3]).toMatch(/^3 packets transmitted, 3 received, 0% packet loss, time 40\dms$/);
    expect(b[4]).toMatch(/^rtt min\/avg\/max\/mdev = /);
    const c = run(us, 'ping -c 1 -s 8 127.0.0.2').stdout.split('\n');
    // no room for a timestamp in the payload: no time=, no rtt line
    expect(c[1]).toBe('16 bytes from 127.0.0.2: icmp_seq=1 ttl=64');
    expect(c.slice(2, 5)).toEqual(['', '--- 127.0.0.2 ping statistics ---', '1 packets transmitted, 1 received, 0% packet loss, time 0ms']);
    expect(c.length).toBe(6);
  });

  it('runs until Ctrl-C without -c, then prints the statistics and exits 0', () => {
    const { shell } = bootShell();
    const ex = shell.start('ping 127.0.0.1');
    expect(ex.pump(50)).toBe('running');
    shell.interrupt();
    expect(ex.pump()).toBe('done');
    const out = ex
      .takeOutput()
      .map((c) => c.text)
      .join('');
    const l = out.split('\n');
    const replies = l.filter((x) => / icmp_seq=\d+ ttl=64 time=/.test(x)).length;
    expect(replies).toBeGreaterThan(0);
    expect(out).toContain(`\n--- 127.0.0.1 ping statistics ---\n${replies} packets transmitted, ${replies} received, 0% packet loss, time `);
    expect(out).toMatch(/\nrtt min\/avg\/max\/mdev = [\d./]+ ms\n$/);
    expect(ex.status).toBe(0);
  });

  it('fails like a machine with no route, and on bad usage', () => {
    const k = boot();
    const us = new Userspace(k);
    expect(run(us, 'ping -c 1 8.8.8.8')).toEqual({ stdout: '', stderr: 'ping: connect: Network is unreachable\n', exitCode: 2 });
    expect(run(us, 'ping -c 1 example.org')).toEqual({ stdout: '', stderr: 'ping: example.org: Temporary failure in name resolution\n', exitCode: 2 });
    expect(run(us, 'ping')).toMatchObject({ stderr: 'ping: usage error: Destination address required\n', exitCode: 1 });
    expect(run(us, 'ping -c x 127.0.0.1')).toMatchObject({ stderr: "ping: invalid argument: 'x'\n", exitCode: 1 });
    expect(run(us, 'ping -c 1 -W 1 127.0.0.1').exitCode).toBe(0);
  });
});
