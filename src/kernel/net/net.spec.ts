/**
 * The network model: /proc/net/dev and /proc/net/snmp against the Linux 6.1
 * references, lo's counters after pings, and snapshots.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { Kernel } from '../kernel';
import { boot } from '../trace/testing';
import { Userspace } from '../userspace/runtime';

const REF = join(__dirname, '../../../../shared/reference/linux-6.1');
const ref = (p: string): string => readFileSync(join(REF, p), 'utf8');
const proc = (k: Kernel, p: string): string => k.vfs.readFile(k.rootCtx(), p);
const run = (us: Userspace, command: string): { stdout: string; exitCode: number } => us.exec({ command, cwd: '/' }, true).runToEnd();

/** a /proc/net/dev line's fields and the column each ends at */
const cols = (line: string): { v: string; end: number }[] => [...line.matchAll(/\S+/g)].map((m) => ({ v: m[0], end: m.index + m[0].length }));
const devLine = (k: Kernel, dev: string): number[] => {
  const l = proc(k, '/proc/net/dev')
    .split('\n')
    .find((x) => x.trim().startsWith(`${dev}:`))!;
  return l.split(':')[1].trim().split(/\s+/).map(Number);
};
const snmp = (k: Kernel, tag: string): Record<string, number> => {
  const ls = proc(k, '/proc/net/snmp')
    .split('\n')
    .filter((l) => l.startsWith(`${tag}: `));
  const names = ls[0].split(' ').slice(1);
  const vals = ls[1].split(' ').slice(1).map(Number);
  return Object.fromEntries(names.map((n, i) => [n, vals[i]]));
};

describe('/proc/net/dev', () => {
  it('has the reference header and its column layout', () => {
    const k = boot();
    const mine = proc(k, '/proc/net/dev').split('\n');
    const theirs = ref('proc/net/dev').split('\n');
    expect(mine.slice(0, 2)).toEqual(theirs.slice(0, 2));
    // every interface line ends its fields where the reference's lo line does
    const want = cols(theirs[2]).map((c) => c.end);
    const lines = mine.slice(2).filter(Boolean);
    expect(lines.map((l) => l.split(':')[0].trim())).toEqual(k.devices.netdevs().map((d) => d.name));
    for (const l of lines) expect(cols(l).map((c) => c.end)).toEqual(want);
    expect(lines[0]).toBe(theirs[2]);
  });

  it('keeps the columns right-aligned as counters grow, and matches sysfs statistics', () => {
    const k = boot();
    k.devices.netTraffic('lo', { txPackets: 12345, txBytes: 9876543 });
    const line = proc(k, '/proc/net/dev')
      .split('\n')
      .find((l) => l.includes('lo:'))!;
    expect(line).toBe('    lo: 9876543   12345    0    0    0     0          0         0  9876543   12345    0    0    0     0       0          0');
    for (const [f, i] of [
      ['rx_bytes', 0],
      ['rx_packets', 1],
      ['tx_bytes', 8],
      ['tx_packets', 9],
    ] as const) {
      expect(Number(proc(k, `/sys/class/net/lo/statistics/${f}`))).toBe(devLine(k, 'lo')[i]);
    }
  });
});

describe('/proc/net/snmp', () => {
  it('is the reference file on a fresh machine', () => {
    expect(proc(boot(), '/proc/net/snmp')).toBe(ref('proc/net/snmp'));
  });
});

describe('ping over lo', () => {
  it('adds the real byte counts: 84 per echo datagram (lo counts after eth_type_trans), request and reply both ways', () => {
    const k = boot();
    const us = new Userspace(k);
    const before = devLine(k, 'lo');
    expect(run(us, 'ping -c 3 -i 0.2 127.0.0.1').exitCode).toBe(0);
    const after = devLine(k, 'lo');
    // rx bytes, rx packets, tx bytes, tx packets
    expect([after[0] - before[0], after[1] - before[1], after[8] - before[8], after[9] - before[9]]).toEqual([3 * 2 * 84, 6, 3 * 2 * 84, 6]);
    run(us, 'ping -c 1 -s 1000 localhost');
    expect(devLine(k, 'lo')[0] - after[0]).toBe(2 * 1028);
    expect(Number(proc(k, '/sys/class/net/lo/statistics/tx_bytes'))).toBe(3 * 2 * 84 + 2 * 1028);
    // eth0 is untouched
    expect(k.devices.getState().traffic.eth0).toBeUndefined();
    const icmp = snmp(k, 'Icmp');
    expect([icmp.InMsgs, icmp.OutMsgs, icmp.InEchos, icmp.InEchoReps, icmp.OutEchos, icmp.OutEchoReps]).toEqual([8, 8, 4, 4, 4, 4]);
    expect(snmp(k, 'IcmpMsg')).toEqual({ InType0: 4, InType8: 4, OutType0: 4, OutType8: 4 });
    const ip = snmp(k, 'Ip');
    expect([ip.InReceives, ip.InDelivers, ip.OutRequests, ip.OutNoRoutes]).toEqual([8, 8, 8, 0]);
  });

  it('counts an unroutable destination as Ip OutNoRoutes and sends nothing', () => {
    const k = boot();
    const us = new Userspace(k);
    expect(run(us, 'ping -c 1 192.0.2.1').exitCode).toBe(2);
    expect(snmp(k, 'Ip').OutNoRoutes).toBe(1);
    expect(devLine(k, 'lo')[9]).toBe(0);
  });

  it('keeps interface and SNMP counters across a snapshot', () => {
    const k = boot();
    const us = new Userspace(k);
    run(us, 'ping -c 2 -i 0.5 127.0.0.1');
    const k2 = Kernel.fromState(JSON.parse(JSON.stringify(k.getState())));
    expect(proc(k2, '/proc/net/snmp')).toBe(proc(k, '/proc/net/snmp'));
    expect(devLine(k2, 'lo')).toEqual(devLine(k, 'lo'));
    expect(devLine(k2, 'lo')[0]).toBe(2 * 2 * 84);
    expect(k2.net.getState()).toEqual(k.net.getState());
  });
});
