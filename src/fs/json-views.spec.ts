import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { jsonView } from './json-views';

const ref = (p: string): string => readFileSync(path.join(__dirname, '../../../shared/reference/linux-6.1', p), 'utf8');

describe('JSON views of structured pseudo files', () => {
  it('parses meminfo into kB numbers keyed by field', () => {
    const j = jsonView('/proc/meminfo', ref('proc/meminfo')) as Record<string, number>;
    expect(j.MemTotal).toBe(468124);
    expect(j.HugePages_Total).toBe(0);
    expect(Object.keys(j)[0]).toBe('MemTotal');
  });
  it('parses stat with per-CPU lines that sum to the total', () => {
    const j = jsonView('/proc/stat', ref('proc/stat')) as { cpu: Record<string, number>; cpus: Record<string, Record<string, number>>; btime: number };
    expect(Object.keys(j.cpus)).toEqual(['cpu0', 'cpu1']);
    expect(j.cpus.cpu0.user + j.cpus.cpu1.user).toBe(j.cpu.user);
    expect(j.btime).toBeGreaterThan(1e9);
  });
  it('parses interrupts, buddyinfo, loadavg, pid stat and status', () => {
    const irq = jsonView('/proc/interrupts', ref('proc/interrupts')) as { cpus: string[]; rows: { irq: string; counts: number[] }[] };
    expect(irq.cpus).toEqual(['CPU0', 'CPU1']);
    expect(irq.rows[0]).toMatchObject({ irq: '0', counts: [85, 0] });
    const b = jsonView('/proc/buddyinfo', ref('proc/buddyinfo')) as { zone: string; freeBlocksByOrder: number[] }[];
    expect(b[0].zone).toBe('DMA');
    expect(b[0].freeBlocksByOrder).toHaveLength(11);
    expect(jsonView('/proc/loadavg', '0.08 0.02 0.01 1/62 594\n')).toEqual({ load1: 0.08, load5: 0.02, load15: 0.01, running: 1, total: 62, lastPid: 594 });
    const st = jsonView('/proc/self/stat', ref('proc/self/stat')) as Record<string, unknown>;
    expect(st).toMatchObject({ pid: 594, comm: 'cat', state: 'R', ppid: 1, nice: 0, numThreads: 1 });
    const s = jsonView('/proc/1/status', ref('proc/self/status')) as Record<string, unknown>;
    expect(s).toMatchObject({ Name: 'cat', Pid: 592, State: 'R (running)' });
  });
  it('types sysctl values and has no JSON form for other files', () => {
    expect(jsonView('/proc/sys/vm/swappiness', '60\n')).toEqual({ value: 60 });
    expect(jsonView('/proc/sys/kernel/printk', '7\t4\t1\t7\n')).toEqual({ value: [7, 4, 1, 7] });
    expect(jsonView('/proc/sys/kernel/ostype', 'Linux\n')).toEqual({ value: 'Linux' });
    expect(jsonView('/proc/version', 'Linux version\n')).toBeUndefined();
  });
});
