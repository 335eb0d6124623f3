/**
 * Interrupts and softirqs of the model's devices: the disk's completion
 * interrupt and the NET_RX softirq of packets over lo, as trace events and in
 * /proc/interrupts and /proc/softirqs.
 */
import { boot, rd, wr } from './testing';
import { Userspace } from '../userspace/runtime';
import type { Kernel } from '../kernel';

const events = (k: Kernel): { comm: string; flags: string; body: string }[] =>
  rd(k, 'trace')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^\s*(.+)-\d+\s+\[\d{3}\] (.{5})\s+\d+\.\d{6}: (.*)$/.exec(l) as RegExpExecArray;
      return { comm: m[1].trim(), flags: m[2], body: m[3] };
    });

const irqCounts = (k: Kernel, name: string): number[] => {
  const l = rd(k, '../../../proc/interrupts')
    .split('\n')
    .find((x) => x.trim().endsWith(name)) as string;
  return l.trim().split(/\s+/).slice(1, 3).map(Number);
};

describe('interrupts and softirqs', () => {
  it("a disk request completes in its queue's interrupt: irq_handler_entry/exit around block_rq_complete, counted in /proc/interrupts", () => {
    const k = boot();
    const us = new Userspace(k);
    us.exec({ command: 'dd if=/dev/zero of=/dev/vda1 bs=4k count=4 2>/dev/null' }, true).runToEnd();
    const before = [irqCounts(k, 'virtio0-req.0'), irqCounts(k, 'virtio0-req.1')];
    wr(k, 'set_event', 'irq:irq_handler_entry irq:irq_handler_exit block:block_rq_complete');
    us.exec({ command: 'sync' }, true).runToEnd();
    const ev = events(k);
    expect(ev.map((e) => e.body.replace(/irq=\d+/, 'irq=N').replace(/req\.\d/, 'req.C').replace(/ \d+ \+ \d+/, ' S + N'))).toEqual([
      'irq_handler_entry: irq=N name=virtio0-req.C',
      'block_rq_complete: 254,0 WS () S + N [0]',
      'irq_handler_exit: irq=N ret=handled',
    ]);
    expect(ev.every((e) => e.comm === '<idle>' && e.flags === 'd.h1.')).toBe(true);
    const cpu = Number(/req\.(\d)/.exec(ev[0].body)![1]);
    const irq = Number(/irq=(\d+)/.exec(ev[0].body)![1]);
    expect(irq).toBe(25 + cpu);
    const after = [irqCounts(k, 'virtio0-req.0'), irqCounts(k, 'virtio0-req.1')];
    expect(after[cpu][cpu] - before[cpu][cpu]).toBe(1);
    expect(after[1 - cpu]).toEqual(before[1 - cpu]);
  });

  it('an echo over lo raises NET_RX and runs it: softirq events, /proc/softirqs counts one run per echo', () => {
    const k = boot();
    const us = new Userspace(k);
    const netRx = (): number => rd(k, '../../../proc/softirqs').split('\n').find((l) => l.includes('NET_RX:'))!.trim().split(/\s+/).slice(1).map(Number).reduce((a, b) => a + b, 0);
    const n0 = netRx();
    wr(k, 'set_event', 'irq:softirq_raise irq:softirq_entry irq:softirq_exit');
    us.exec({ command: 'ping -c 2 -i 0.2 127.0.0.1 > /dev/null' }, true).runToEnd();
    expect(netRx() - n0).toBe(2);
    const net = events(k).filter((e) => e.body.includes('NET_RX'));
    expect(net.map((e) => [e.comm, e.flags, e.body])).toEqual(
      [1, 2].flatMap(() => [
        ['ping', 'd..1.', 'softirq_raise: vec=3 [action=NET_RX]'],
        ['ping', '..s1.', 'softirq_entry: vec=3 [action=NET_RX]'],
        ['ping', '..s1.', 'softirq_exit: vec=3 [action=NET_RX]'],
      ]),
    );
  });
});
