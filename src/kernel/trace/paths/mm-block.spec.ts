/**
 * Page-fault and block-request paths driven by the model: stress-ng's
 * anonymous faults, dd on the disk's device node, sync writeback.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { boot, rd, wr } from '../testing';
import { Userspace } from '../../userspace/runtime';
import { Kernel } from '../../kernel';
import { NOT_TRACEABLE, type CallNode } from '../callpath';
import { FAULT_TRACE_CAP, UNTRACED, allMmBlockTrees } from './mm-block';

const REF = join(__dirname, '../../../../../shared/reference/linux-6.1/tracefs');
const ref = (p: string): string => readFileSync(join(REF, p), 'utf8');

const run = (k: Kernel, us: Userspace, command: string): string => {
  const o = us.exec({ command, cwd: '/' }, true).runToEnd();
  expect(o.exitCode).toBe(0);
  return o.stdout;
};
const lines = (t: string): string[] => t.split('\n').filter((l) => l && !l.startsWith('#'));
const CTX = /^\s*(.+)-(\d+)\s+\[(\d{3})\] (.{5})\s+(\d+\.\d{6}): (.*)$/;
const disk = (k: Kernel, name: string): number[] => {
  const l = rd(k, '../../../proc/diskstats')
    .split('\n')
    .find((x) => x.trim().split(/\s+/)[2] === name);
  return l!.trim().split(/\s+/).slice(3).map(Number);
};

describe('mm/block path tables', () => {
  it('name only available_filter_functions, besides the documented untraced frames', () => {
    const avail = new Set(
      ref('available_filter_functions')
        .split('\n')
        .map((l) => l.split(' [')[0]),
    );
    const bad = new Set<string>();
    const walk = (n: CallNode): void => {
      if (!avail.has(n.fn) && !NOT_TRACEABLE.includes(n.fn) && !UNTRACED.includes(n.fn)) bad.add(n.fn);
      n.kids.forEach(walk);
    };
    allMmBlockTrees().forEach(walk);
    expect([...bad]).toEqual([]);
    // the untraced frames really are missing from the list (else they should be traced)
    expect(UNTRACED.filter((f) => avail.has(f))).toEqual([]);
  });
});

describe('page faults', () => {
  it('function tracer on handle_mm_fault: the stress-ng --vm worker’s faults, capped per fault-in', () => {
    const k = boot();
    const us = new Userspace(k);
    wr(k, 'current_tracer', 'function');
    wr(k, 'set_ftrace_filter', 'handle_mm_fault');
    const before = Number(/pgfault (\d+)/.exec(rd(k, '../../../proc/vmstat'))![1]);
    run(k, us, 'stress-ng --vm 1 --vm-bytes 1M --timeout 1');
    const after = Number(/pgfault (\d+)/.exec(rd(k, '../../../proc/vmstat'))![1]);
    const ls = lines(rd(k, 'trace'));
    expect(ls.length).toBeGreaterThan(0);
    const pids = new Set<number>();
    for (const l of ls) {
      const m = CTX.exec(l)!;
      expect(m).not.toBeNull();
      expect(m[6]).toBe('handle_mm_fault <-do_user_addr_fault');
      expect(m[1].trim()).toMatch(/^stress-ng/);
      pids.add(Number(m[2]));
    }
    // only the vm worker faults (not the parent)
    expect(pids.size).toBe(1);
    // every fault is counted even though at most FAULT_TRACE_CAP per fault-in are traced
    expect(after - before).toBeGreaterThanOrEqual(ls.length);
    expect(after - before).toBeGreaterThan(FAULT_TRACE_CAP);
  });

  it('function_graph: the nested anonymous fault path', () => {
    const k = boot();
    const us = new Userspace(k);
    wr(k, 'current_tracer', 'function_graph');
    wr(k, 'set_graph_function', 'handle_mm_fault');
    run(k, us, 'stress-ng --vm 1 --vm-bytes 1M --timeout 1');
    const body = rd(k, 'trace')
      .split('\n')
      .filter((l) => /^ \d\)/.test(l) && !l.includes('=>') && !l.includes('---'))
      .map((l) => l.replace(/^ \d\)\s+(\+ |! )?[\d.]* ?(us)?\s*\|/, '|'));
    const i = body.findIndex((l) => l === '|  handle_mm_fault() {');
    expect(i).toBeGreaterThanOrEqual(0);
    const first = body.slice(i, body.indexOf('|  }', i) + 1).join('\n');
    // one fault nested whole (the next one starts after it returned)
    expect(first.match(/handle_mm_fault\(\) \{/g)).toHaveLength(2);
    expect(first).toContain('|    __handle_mm_fault() {');
    expect(first).toContain('|      vma_alloc_folio() {');
    expect(first).toContain('|            get_page_from_freelist() {');
    expect(first).toContain('|      page_add_new_anon_rmap() {');
    expect(first).toMatch(/\|\s+folio_add_lru\(\);/);
  });

  it('exceptions:page_fault_user and kmem:mm_page_alloc events in the reference line shape', () => {
    const k = boot();
    const us = new Userspace(k);
    wr(k, 'events/exceptions/page_fault_user/enable', '1');
    wr(k, 'events/kmem/mm_page_alloc/enable', '1');
    run(k, us, 'stress-ng --vm 1 --vm-bytes 1M --timeout 1');
    const ls = lines(rd(k, 'trace'));
    const pf = ls.filter((l) => l.includes(' page_fault_user: '));
    const pa = ls.filter((l) => l.includes(' mm_page_alloc: '));
    expect(pf.length).toBeGreaterThan(0);
    // one folio per fault, plus the page table of the new mapping
    expect(pa.length).toBe(pf.length + 1);
    expect(pa.filter((l) => l.endsWith('migratetype=0 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO'))).toHaveLength(1);
    const theirs = ref('trace_event_sched_switch').split('\n').find((l) => CTX.test(l))!;
    for (const l of pf) {
      const m = CTX.exec(l)!;
      expect(m[4]).toBe('.....');
      expect(m[6]).toMatch(/^page_fault_user: address=0x[0-9a-f]+ ip=0x[0-9a-f]+ error_code=0x6$/);
      expect(l.indexOf(' [')).toBe(theirs.indexOf(' ['));
    }
    expect(pa.find((l) => l.includes('migratetype=1'))).toMatch(/mm_page_alloc: page=[0-9a-f]{16} pfn=0x[0-9a-f]+ order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE\|__GFP_ZERO$/);
    // consecutive pages of the mapping
    const addrs = pf.map((l) => parseInt(/address=0x([0-9a-f]+)/.exec(l)![1], 16));
    expect(addrs[1] - addrs[0]).toBe(4096);
  });
});

describe('block requests', () => {
  it('sync after writing the disk node: block_rq_issue/complete sectors match /proc/diskstats', () => {
    const k = boot();
    const us = new Userspace(k);
    run(k, us, 'dd if=/dev/zero of=/dev/vda1 bs=4k count=10 status=none');
    const d0 = disk(k, 'vda');
    const p0 = disk(k, 'vda1');
    wr(k, 'events/block/enable', '1');
    run(k, us, 'sync');
    const d1 = disk(k, 'vda');
    const p1 = disk(k, 'vda1');
    // one write request of 80 sectors (10 merged 4 KiB bios) on the partition and its disk
    expect(d1[4] - d0[4]).toBe(1);
    expect(d1[5] - d0[5]).toBe(9);
    expect(d1[6] - d0[6]).toBe(80);
    expect(p1[6] - p0[6]).toBe(80);
    const ls = lines(rd(k, 'trace'));
    const issue = ls.filter((l) => l.includes(' block_rq_issue: '));
    const done = ls.filter((l) => l.includes(' block_rq_complete: '));
    expect(issue).toHaveLength(1);
    expect(done).toHaveLength(1);
    const mi = CTX.exec(issue[0])!;
    expect(mi[1].trim()).toBe('sync');
    expect(mi[6]).toBe('block_rq_issue: 254,0 WS 40960 () 2048 + 80 [sync]');
    const mc = CTX.exec(done[0])!;
    expect(mc[4]).toBe('d.h1.');
    expect(mc[6]).toBe('block_rq_complete: 254,0 WS () 2048 + 80 [0]');
    expect(Number(mc[5])).toBeGreaterThan(Number(mi[5]));
    const sectors = issue.reduce((a, l) => a + Number(/\+ (\d+) \[/.exec(l)![1]), 0);
    expect(sectors).toBe(d1[6] - d0[6]);
    expect(ls.filter((l) => l.includes(' block_bio_backmerge: '))).toHaveLength(9);
    expect(ls.some((l) => l.includes('block_bio_remap: 254,0 WS 2048 + 8 <- (254,1) 0'))).toBe(true);
    // bio events come first, in submission order, then the request's insert/issue
    const order = ls.map((l) => CTX.exec(l)![6].split(':')[0]).filter((e) => e !== 'block_bio_backmerge');
    expect(order.slice(0, 3)).toEqual(['block_bio_remap', 'block_bio_queue', 'block_getrq']);
    expect(order.slice(-2)).toEqual(['block_rq_issue', 'block_rq_complete']);
    // written back: a second sync has nothing to do
    run(k, us, 'sync');
    expect(disk(k, 'vda')[4]).toBe(d1[4]);
  });

  it('dd from the disk node reads through the page cache: readahead once, then hits', () => {
    const k = boot();
    const us = new Userspace(k);
    wr(k, 'events/block/block_rq_issue/enable', '1');
    wr(k, 'events/block/block_rq_complete/enable', '1');
    wr(k, 'current_tracer', 'function');
    wr(k, 'set_ftrace_filter', 'blk_mq_start_request blk_update_request');
    run(k, us, 'dd if=/dev/vda of=/dev/null bs=4k count=3 status=none');
    expect(disk(k, 'vda').slice(0, 3)).toEqual([1, 0, 256]);
    const ls = lines(rd(k, 'trace'));
    expect(ls.filter((l) => l.includes('block_rq_issue: 254,0 RA 131072 () 0 + 256 [dd]'))).toHaveLength(1);
    expect(ls.filter((l) => l.includes('blk_mq_start_request <-virtio_queue_rq'))).toHaveLength(1);
    expect(ls.filter((l) => / d\.h1\. .*blk_update_request <-blk_mq_end_request/.test(l))).toHaveLength(1);
    run(k, us, 'dd if=/dev/vda of=/dev/null bs=4k count=3 status=none');
    expect(disk(k, 'vda').slice(0, 3)).toEqual([1, 0, 256]);
  });

  it('with an elevator the request is inserted, then dispatched by the hardware queue run', () => {
    const k = boot();
    const us = new Userspace(k);
    run(k, us, 'echo mq-deadline > /sys/block/vda/queue/scheduler');
    wr(k, 'events/block/block_rq_insert/enable', '1');
    wr(k, 'events/block/block_rq_issue/enable', '1');
    wr(k, 'current_tracer', 'function');
    wr(k, 'set_ftrace_filter', 'blk_mq_sched_insert_requests blk_mq_start_request');
    run(k, us, 'dd if=/dev/vda1 of=/dev/null bs=4k count=1 status=none');
    const ls = lines(rd(k, 'trace')).map((l) => CTX.exec(l)![6]);
    expect(ls).toEqual([
      'blk_mq_sched_insert_requests <-blk_mq_flush_plug_list',
      'block_rq_insert: 254,0 RA 131072 () 2048 + 256 [dd]',
      'blk_mq_start_request <-virtio_queue_rq',
      'block_rq_issue: 254,0 RA 131072 () 2048 + 256 [dd]',
    ]);
    expect(disk(k, 'vda1').slice(0, 3)).toEqual([1, 0, 256]);
  });

  it('dd conv=fsync on the node writes back and flushes the disk', () => {
    const k = boot();
    const us = new Userspace(k);
    wr(k, 'events/block/block_rq_issue/enable', '1');
    run(k, us, 'dd if=/dev/zero of=/dev/vda bs=4k count=2 seek=1 conv=fsync status=none');
    const d = disk(k, 'vda');
    expect([d[4], d[6], d[15]]).toEqual([1, 16, 1]);
    const ls = lines(rd(k, 'trace')).map((l) => CTX.exec(l)![6]);
    expect(ls).toEqual(['block_rq_issue: 254,0 WS 8192 () 8 + 16 [dd]', 'block_rq_issue: 254,0 FF 0 () 0 + 0 [dd]']);
  });

  it('written device pages are Dirty in meminfo/vmstat until sync writes them out (pgpgout)', () => {
    const k = boot();
    const us = new Userspace(k);
    const mi = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(rd(k, '../../../proc/meminfo'))![1]);
    const vm = (key: string): number => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(rd(k, '../../../proc/vmstat'))![1]);
    const out0 = vm('pgpgout');
    run(k, us, 'dd if=/dev/zero of=/dev/vda1 bs=4k count=10 status=none');
    expect(mi('Dirty')).toBe(40);
    expect(vm('nr_dirty')).toBe(10);
    run(k, us, 'sync');
    expect(mi('Dirty')).toBe(0);
    expect(vm('nr_dirty')).toBe(0);
    expect(vm('pgpgout') - out0).toBe(40);
  });

  it('a biolatency-style bpftrace program sees each read request once, ~1 ms each', () => {
    const k = boot();
    const us = new Userspace(k);
    const prog =
      'tracepoint:block:block_rq_issue { @s[args->dev, args->sector] = nsecs; } ' +
      'tracepoint:block:block_rq_complete /@s[args->dev, args->sector]/ { @usecs = hist((nsecs - @s[args->dev, args->sector]) / 1000); delete(@s[args->dev, args->sector]); } ' +
      'END { clear(@s); }';
    const out = run(k, us, `bpftrace -e '${prog}' -c 'dd if=/dev/vda of=/dev/null bs=1M count=2 status=none'`);
    // 2 MiB in 128 KiB readahead windows: 16 requests of 256 sectors, 0.1 ms + 4 us/sector each
    expect(out).toMatch(/@usecs: \n\[1K, 2K\)\s+16 \|@+\|\n/);
    expect(disk(k, 'vda').slice(0, 3)).toEqual([16, 0, 4096]);
  });

  it('the block device page cache survives a snapshot: dirty pages restored, written back by sync', () => {
    const k = boot();
    run(k, new Userspace(k), 'dd if=/dev/zero of=/dev/vda1 bs=4k count=3 status=none');
    const k2 = Kernel.fromState(JSON.parse(JSON.stringify(k.getState())) as ReturnType<Kernel['getState']>);
    expect(k2.devices.bdevDirtyBytes()).toBe(12288);
    run(k2, new Userspace(k2), 'sync');
    expect(k2.devices.bdevDirtyBytes()).toBe(0);
    expect(disk(k2, 'vda1').slice(4, 7)).toEqual([1, 2, 24]);
  });

  it('nothing is emitted while tracing is off, but the I/O is still accounted', () => {
    const k = boot();
    const us = new Userspace(k);
    run(k, us, 'dd if=/dev/zero of=/dev/vda1 bs=4k count=4 status=none; sync; dd if=/dev/vda of=/dev/null bs=4k count=1 status=none; stress-ng --vm 1 --vm-bytes 1M --timeout 1');
    expect(lines(rd(k, 'trace'))).toEqual([]);
    expect(rd(k, 'trace')).toContain('entries-in-buffer/entries-written: 0/0');
    const d = disk(k, 'vda');
    expect([d[0], d[4], d[6]]).toEqual([1, 1, 32]);
  });
});
