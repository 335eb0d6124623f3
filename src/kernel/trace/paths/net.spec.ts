/**
 * The ICMP echo paths over lo that ping drives: the tree functions, the
 * function tracer and the net/napi/skb events, and silence when nothing
 * observes the kernel.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { boot, rd, wr } from '../testing';
import { Userspace } from '../../userspace/runtime';
import type { Kernel } from '../../kernel';
import type { CallNode } from '../callpath';
import { allNetTrees } from './net';

const REF = join(__dirname, '../../../../../shared/reference/linux-6.1/tracefs');
const run = (us: Userspace, command: string): void => {
  expect(us.exec({ command, cwd: '/' }, true).runToEnd().exitCode).toBe(0);
};
const lines = (t: string): string[] => t.split('\n').filter((l) => l && !l.startsWith('#'));
const CTX = /^\s*(.+)-(\d+)\s+\[(\d{3})\] (.{5})\s+(\d+\.\d{6}): (.*)$/;
/** the pid ping ran as (from its exec event) */
const pingPid = (k: Kernel): number => {
  const l = lines(rd(k, 'trace')).find((x) => x.includes('sched_process_exec: filename=/usr/bin/ping'))!;
  return Number(/ pid=(\d+)/.exec(l)![1]);
};

describe('net path tables', () => {
  it('name only available_filter_functions', () => {
    const avail = new Set(
      readFileSync(join(REF, 'available_filter_functions'), 'utf8')
        .split('\n')
        .map((l) => l.split(' [')[0]),
    );
    const bad = new Set<string>();
    const walk = (n: CallNode): void => {
      if (!avail.has(n.fn)) bad.add(n.fn);
      n.kids.forEach(walk);
    };
    allNetTrees().forEach(walk);
    expect([...bad]).toEqual([]);
  });
});

describe('ping over lo, traced', () => {
  it('function tracer on loopback_xmit: request (task) and reply (softirq) of each echo, as ping', () => {
    const k = boot();
    const us = new Userspace(k);
    wr(k, 'events/sched/sched_process_exec/enable', '1');
    wr(k, 'set_ftrace_filter', 'loopback_xmit');
    wr(k, 'current_tracer', 'function');
    run(us, 'ping -c 2 127.0.0.1');
    const pid = pingPid(k);
    const fn = lines(rd(k, 'trace'))
      .map((l) => CTX.exec(l)!)
      .filter((m) => !m[6].startsWith('sched_'));
    expect(fn.map((m) => [m[1].trim(), Number(m[2]), m[4], m[6]])).toEqual([
      ['ping', pid, '.....', 'loopback_xmit <-dev_hard_start_xmit'],
      ['ping', pid, '..s1.', 'loopback_xmit <-dev_hard_start_xmit'],
      ['ping', pid, '.....', 'loopback_xmit <-dev_hard_start_xmit'],
      ['ping', pid, '..s1.', 'loopback_xmit <-dev_hard_start_xmit'],
    ]);
    // a second apart (the interval), each pair within microseconds
    const ts = fn.map((m) => Number(m[5]));
    expect(ts[1] - ts[0]).toBeLessThan(0.0001);
    expect(ts[2] - ts[0]).toBeGreaterThanOrEqual(1);
  });

  it('events: net_dev_xmit per packet; the whole echo in order inside sendto', () => {
    const k = boot();
    const us = new Userspace(k);
    wr(k, 'events/sched/sched_process_exec/enable', '1');
    wr(k, 'events/net/net_dev_xmit/enable', '1');
    run(us, 'ping -c 2 127.0.0.1');
    const pid = pingPid(k);
    const xmit = lines(rd(k, 'trace')).filter((l) => l.includes('net_dev_xmit'));
    expect(xmit.length).toBe(4);
    for (const l of xmit) {
      const m = CTX.exec(l)!;
      expect([m[1].trim(), Number(m[2])]).toEqual(['ping', pid]);
      expect(m[6]).toMatch(/^net_dev_xmit: dev=lo skbaddr=00000000[0-9a-f]{8} len=98 rc=0$/);
    }

    wr(k, 'trace', '');
    wr(k, 'set_event', 'net:net_dev_queue net:net_dev_start_xmit net:net_dev_xmit net:netif_rx net:netif_receive_skb napi:napi_poll skb:consume_skb syscalls:sys_enter_sendto syscalls:sys_exit_sendto');
    run(us, 'ping -c 1 127.0.0.1');
    const ev = lines(rd(k, 'trace')).map((l) => CTX.exec(l)!);
    const names = ev.map((m) => /^(\w+)/.exec(m[6])![1]);
    expect(names).toEqual([
      'sys_sendto',
      'net_dev_queue',
      'net_dev_start_xmit',
      'netif_rx',
      'net_dev_xmit',
      'netif_receive_skb',
      'net_dev_queue',
      'net_dev_start_xmit',
      'netif_rx',
      'net_dev_xmit',
      'consume_skb',
      'netif_receive_skb',
      'consume_skb',
      'napi_poll',
      'sys_sendto',
      'consume_skb',
    ]);
    expect(ev[14][6]).toBe('sys_sendto -> 0x40');
    const ts = ev.map((m) => Number(m[5]));
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    // the softirq part runs with its flags; the request and the reply are different skbs
    expect(ev.slice(5, 14).every((m) => m[4] === '..s1.')).toBe(true);
    const skb = (i: number): string => /skbaddr=(\w+)/.exec(ev[i][6])![1];
    expect(skb(1)).toBe(skb(5));
    expect(skb(6)).toBe(skb(11));
    expect(skb(10)).toBe(skb(1));
    expect(skb(1)).not.toBe(skb(6));
    expect(ev[3][6]).toBe(`netif_rx: dev=lo skbaddr=${skb(1)} len=84`);
    expect(ev[13][6]).toMatch(/^napi_poll: napi poll on napi struct 00000000[0-9a-f]{8} for device \(no_device\) work 2 budget 64$/);
  });

  it('function entries nest in the system calls: sendto, its transmit, the softirq, then recvmsg', () => {
    const k = boot();
    const us = new Userspace(k);
    wr(k, 'set_ftrace_filter', '__x64_sys_sendto __sys_sendto loopback_xmit net_rx_action icmp_rcv ping_rcv __x64_sys_recvmsg ping_recvmsg');
    wr(k, 'current_tracer', 'function');
    run(us, 'ping -c 1 127.0.0.1');
    const fn = lines(rd(k, 'trace')).map((l) => CTX.exec(l)![6]);
    expect(fn).toEqual([
      '__x64_sys_sendto <-do_syscall_64',
      '__sys_sendto <-__x64_sys_sendto',
      'loopback_xmit <-dev_hard_start_xmit',
      'net_rx_action <-__do_softirq',
      'icmp_rcv <-ip_protocol_deliver_rcu',
      'loopback_xmit <-dev_hard_start_xmit',
      'icmp_rcv <-ip_protocol_deliver_rcu',
      'ping_rcv <-icmp_rcv',
      '__x64_sys_recvmsg <-do_syscall_64',
      'ping_recvmsg <-inet_recvmsg',
      '__x64_sys_recvmsg <-do_syscall_64',
    ]);
  });

  it('emits nothing while nothing observes the kernel, and walks no path', () => {
    const k = boot();
    const us = new Userspace(k);
    const walks = jest.spyOn(k.trace, 'kernelPath');
    const tps = jest.spyOn(k.trace, 'tracepoint');
    run(us, 'ping -c 2 -i 0.2 127.0.0.1');
    expect(walks).not.toHaveBeenCalled();
    expect(tps).not.toHaveBeenCalled();
    wr(k, 'current_tracer', 'function');
    wr(k, 'current_tracer', 'nop');
    expect(lines(rd(k, 'trace'))).toEqual([]);
    expect(rd(k, 'per_cpu/cpu0/stats')).toMatch(/^entries: 0$/m);
    expect(rd(k, 'per_cpu/cpu1/stats')).toMatch(/^entries: 0$/m);
  });
});
