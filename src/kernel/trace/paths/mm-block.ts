/**
 * Kernel paths outside system calls that the memory and block models drive:
 * anonymous user page faults (Mm.anonFault) and block requests (the block
 * device page cache of Devices: readahead, writeback, flushes, completion
 * interrupts). Each emits, only while something observes the kernel
 * (k.trace.observed), the function / function_graph lines and probe firings
 * of its call tree (Trace.kernelPath) and its static tracepoints
 * (Trace.tracepoint) at the times the tree reaches the functions firing them.
 *
 * Trees use the syntax of callpath.ts. Functions that are not in
 * available_filter_functions may appear as untraced frames (UNTRACED below):
 * the x86 fault entry code (noinstr / not traceable) and the virtio-blk and
 * virtio-ring driver functions of the machine's disk (traceable on a machine
 * that loads virtio_blk, but the reference machine's list has none of them,
 * so they are never traced here; they still name their callees' parent).
 */
import type { Kernel } from '../../kernel';
import { type CallNode, UNIT_NS, indent, namedTree } from '../callpath';
import type { EventFields } from '../filter';

/** Untraced frames the trees name on purpose (see the header). */
export const UNTRACED: readonly string[] = [
  'asm_exc_page_fault',
  'exc_page_fault',
  'do_user_addr_fault',
  'virtio_queue_rq',
  'virtblk_add_req',
  'virtqueue_notify',
  'vring_interrupt',
  'virtblk_done',
  'virtblk_request_done',
  'common_interrupt',
];

// ---------------------------------------------------------------- page faults

/**
 * An anonymous write fault on a not-present page (do_anonymous_page, inlined
 * into __handle_mm_fault on 6.1): `first` adds what the first touch of a new
 * mapping does (its anon_vma, a page table, a per-cpu list refill).
 */
const FAULT = (first: boolean): string => `
asm_exc_page_fault 1
  exc_page_fault 1
    do_user_addr_fault 2
      lock_mm_and_find_vma 1
        down_read_trylock 1
        find_vma 2
      handle_mm_fault 2
        __rcu_read_lock 1
        mem_cgroup_from_task 1
        __count_memcg_events 1
          cgroup_rstat_updated 1
        __rcu_read_unlock 1
        __handle_mm_fault 3${
          first
            ? `
          __pte_alloc 1
            pte_alloc_one 2
              alloc_pages 1
                __alloc_pages 2
                  get_page_from_freelist 3
            _raw_spin_lock 1
            pmd_install 1
          __anon_vma_prepare 3`
            : ''
        }
          vma_alloc_folio 2
            __get_vma_policy 1
            policy_nodemask 1
            policy_node 1
            __folio_alloc 1
              __alloc_pages 2
                should_fail_alloc_page 1
                get_page_from_freelist 5${
                  first
                    ? `
                  rmqueue_bulk 4`
                    : ''
                }
          __mem_cgroup_charge 2
            get_mem_cgroup_from_mm 1
            charge_memcg 2
              try_charge_memcg 2
                page_counter_try_charge 1
              memcg_check_events 1
          _raw_spin_lock 1
          page_add_new_anon_rmap 2
            __mod_lruvec_page_state 1
              __mod_lruvec_state 1
                __mod_node_page_state 1
                __mod_memcg_lruvec_state 1
          lru_cache_add_inactive_or_unevictable 1
            lru_cache_add 1
              folio_add_lru 2
      up_read 1`;

/**
 * Fault paths emitted per Mm.anonFault() call, at most: a call faulting in N
 * pages stands for N faults (pgfault, the task's minflt and perf's
 * page-faults count all N), but only the first FAULT_TRACE_CAP of them are
 * emitted as paths and events, so a 256 MiB stress-ng --vm does not write
 * 65536 fault paths per touch of its mapping.
 */
export const FAULT_TRACE_CAP = 32;

/** X86_PF_WRITE | X86_PF_USER: a user write to a not-present page */
const PF_USER_WRITE = 0x6;
/** GFP_HIGHUSER_MOVABLE | __GFP_ZERO (vma_alloc_zeroed_movable_folio) */
const GFP_HIGHUSER_MOVABLE_ZERO = 0x100dca;
const MIGRATE_MOVABLE = 1;
/** GFP_KERNEL_ACCOUNT | __GFP_ZERO: a user page table (pte_alloc_one) */
const GFP_PGTABLE_USER = 0x400dc0;
/** user time between two faults of a sequential touch (writing one 4 KiB page) */
const TOUCH_NS = 600;

/** Entry offset (ns from the root's entry) and duration of the first `fn` in a tree walked at UNIT_NS. */
export function span(root: CallNode, fn: string): [number, number] | undefined {
  const find = (n: CallNode, t: number): [number, number] | undefined => {
    if (n.fn === fn) return [t, n.total * UNIT_NS];
    let cur = t + (n.self * UNIT_NS) / 2;
    for (const k of n.kids) {
      const r = find(k, cur);
      if (r) return r;
      cur += k.total * UNIT_NS;
    }
    return undefined;
  };
  return find(root, 0);
}

/** Time of entering (or leaving, `end`) the first `fn` of `tree` walked from `t0` in `took` ns. */
function timesIn(tree: CallNode, t0: number, took: number): (fn: string, end?: boolean) => number {
  const scale = tree.total ? took / (tree.total * UNIT_NS) : 1;
  return (fn, end = false) => {
    const s = span(tree, fn);
    return t0 + (s ? s[0] + (end ? s[1] : 0) : 0) * scale;
  };
}

export interface AnonFaults {
  pid: number;
  /** pages faulted in */
  pages: number;
  /** user address of the first page */
  addr: number;
  /** user instruction pointer of the touching code */
  ip: number;
  /** the first page of a new mapping (needs an anon_vma and a page table) */
  fresh: boolean;
  /** pfn range the pages come from (the zone allocated from) */
  startPfn: number;
  spanned: number;
}

const mix = (x: number): number => {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
};

/** The page faults of an anonFault() call: paths, exceptions:page_fault_user and kmem:mm_page_alloc. */
export function traceAnonFaults(k: Kernel, f: AnonFaults): void {
  if (!k.trace.observed || f.pages <= 0) return;
  const n = Math.min(f.pages, FAULT_TRACE_CAP);
  let t = k.now;
  const cpu = k.sched.task(f.pid)?.cpu;
  for (let i = 0; i < n; i++) {
    const tree = namedTree(i === 0 && f.fresh ? 'fault-first' : 'fault', FAULT(i === 0 && f.fresh));
    const addr = f.addr + i * 4096;
    // the walk first: with the function tracers on it takes longer (their cost), the events scale along
    const took = k.trace.kernelPath(f.pid, tree, '', { atNs: t, cpu }) || tree.total * UNIT_NS;
    const at = timesIn(tree, t, took);
    k.trace.tracepoint(
      f.pid,
      'exceptions',
      'page_fault_user',
      { address: addr, ip: f.ip, error_code: PF_USER_WRITE },
      { atNs: at('exc_page_fault') + 50, cpu },
    );
    const pfn = f.startPfn + (mix(addr / 4096 + f.pid * 7919) % Math.max(1, f.spanned));
    // trace_mm_page_alloc() at the end of __alloc_pages() under vma_alloc_folio() (the folio, not the page table)
    const inner = at('vma_alloc_folio', true) - 2 * UNIT_NS;
    k.trace.tracepoint(
      f.pid,
      'kmem',
      'mm_page_alloc',
      { pfn, order: 0, gfp_flags: GFP_HIGHUSER_MOVABLE_ZERO, migratetype: MIGRATE_MOVABLE },
      { atNs: inner, cpu },
    );
    if (i === 0 && f.fresh) {
      // the page table page of a new mapping (GFP_PGTABLE_USER, unmovable)
      const ptPfn = f.startPfn + (mix(addr / 2097152 + f.pid * 104729) % Math.max(1, f.spanned));
      k.trace.tracepoint(
        f.pid,
        'kmem',
        'mm_page_alloc',
        { pfn: ptPfn, order: 0, gfp_flags: GFP_PGTABLE_USER, migratetype: 0 },
        { atNs: at('pte_alloc_one', true) - UNIT_NS, cpu },
      );
    }
    t += took + TOUCH_NS;
  }
}

// ---------------------------------------------------------------- block requests

/**
 * submit_bio() down to blk-mq: blk_mq_submit_bio (own cost `cost`) runs `tail`
 * (allocate a request and plug it, merge into a plugged one, or issue at once).
 * The preflush bio of blkdev_issue_flush() skips the cgroup accounting.
 */
const SUBMIT_BIO = (tail: string, cost = 4, cgroup = true): string => `
submit_bio 1
  submit_bio_noacct 2
    submit_bio_noacct_nocheck 2${cgroup ? '\n      blk_cgroup_bio_start 1' : ''}
      __submit_bio 1
        blk_mq_submit_bio ${cost}
${indent(tail, 10)}`;
/** a new request for the bio */
const ALLOC_RQ = `
__blk_mq_alloc_requests 3
  blk_mq_get_tag 2`;
const PLUG_RQ = `${ALLOC_RQ}
blk_add_rq_to_plug 1`;
/** blk_finish_plug(): the plugged requests go to the driver (ISSUE, filled in by withIssue) */
const FLUSH_PLUG = `
blk_finish_plug 1
  __blk_flush_plug 1
    blk_mq_flush_plug_list 2
      ISSUE`;

/** Readahead of a block device node: read_pages() builds one bio per request and submits it under a plug. */
const READAHEAD = `
page_cache_sync_ra 1
  page_cache_ra_unbounded 3
    filemap_alloc_folio 2
      folio_alloc 1
        __alloc_pages 2
          get_page_from_freelist 3
    filemap_add_folio 3
    read_pages 2
      blk_start_plug 1
      blkdev_readahead 1
        mpage_readahead 3
          do_mpage_readpage 3
            bio_alloc_bioset 2
${indent(SUBMIT_BIO(PLUG_RQ), 10)}
${indent(FLUSH_PLUG, 6)}`;

/** The dispatch of plugged requests: straight to the driver without an elevator, through it with one. */
const VIRTIO_QUEUE_RQ = `
virtio_queue_rq 3
  blk_mq_start_request 2
  virtblk_add_req 4
  virtqueue_notify 2`;
const ISSUE_DIRECT = `
__blk_mq_try_issue_directly 2
${indent(VIRTIO_QUEUE_RQ, 2)}`;
const ISSUE_SCHED = `
blk_mq_sched_insert_requests 3
  blk_mq_run_hw_queue 1
    __blk_mq_run_hw_queue 1
      blk_mq_sched_dispatch_requests 1
        __blk_mq_sched_dispatch_requests 2
          blk_mq_do_dispatch_sched 3
            blk_mq_dispatch_rq_list 2
${indent(VIRTIO_QUEUE_RQ, 14)}`;

/** One 4 KiB block written back through its buffer_head: its bio, submitted with `submit` as blk-mq's part. */
const WRITEPAGE = (submit: string): string => `
__writepage 1
  block_write_full_page 1
    __block_write_full_page 4
      mark_buffer_async_write 1
      __folio_start_writeback 2
      submit_bh 1
        submit_bh_wbc 2
          bio_alloc_bioset 2
${indent(submit, 10)}
      folio_unlock 1`;

/** Writeback of a dirty block device range (sync_bdevs / blkdev_fsync): one buffer_head bio per 4 KiB block, the first opening the request. */
const WRITEBACK = `
__filemap_fdatawrite_range 1
  filemap_fdatawrite_wbc 1
    do_writepages 2
      blkdev_writepages 1
        generic_writepages 1
          blk_start_plug 1
          write_cache_pages 4
${indent(WRITEPAGE(SUBMIT_BIO(PLUG_RQ)), 12)}
${indent(FLUSH_PLUG, 10)}`;

/** A further 4 KiB block of the same request: its bio merges into the plugged request. */
const WRITEBACK_MERGE = WRITEPAGE(
  SUBMIT_BIO(
    `
blk_attempt_plug_merge 2
  bio_attempt_back_merge 2
    ll_back_merge_fn 1`,
    3,
  ),
);

/** blkdev_fsync()'s cache flush: an empty preflush bio, waited for, issued at once. */
const FLUSH = `
blkdev_issue_flush 1
  submit_bio_wait 1
${indent(SUBMIT_BIO(`${ALLOC_RQ}\nISSUE`, 4, false), 4)}`;

/** The virtio-blk completion interrupt (hard irq): the request ends and its bios complete. */
const COMPLETE = (end: string): string => `
handle_edge_irq 1
  handle_irq_event 1
    __handle_irq_event_percpu 1
      vring_interrupt 2
        virtblk_done 2
          _raw_spin_lock_irqsave 1
          blk_mq_complete_request 1
            blk_mq_complete_request_remote 1
            virtblk_request_done 1
              blk_mq_end_request 1
                blk_update_request 3
${indent(end, 18)}
                blk_mq_free_request 1
                  __blk_mq_free_request 1
          _raw_spin_unlock_irqrestore 1`;
const END_READ = `
bio_endio 1
  mpage_end_io 3
    folio_unlock 1`;
const END_WRITE = `
bio_endio 1
  end_bio_bh_io_sync 1
    end_buffer_async_write 2
      folio_end_writeback 2
        folio_wake_bit 1`;
const END_FLUSH = `
bio_endio 1`;

const withIssue = (text: string, sched: boolean): string => {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim() === 'ISSUE');
  if (i < 0) return text;
  const ind = lines[i].length - lines[i].trimStart().length;
  const sub = (sched ? ISSUE_SCHED : ISSUE_DIRECT)
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => ' '.repeat(ind) + l);
  return [...lines.slice(0, i), ...sub, ...lines.slice(i + 1)].join('\n');
};

export type BlockTreeKind = 'readahead' | 'writeback' | 'merge' | 'flush' | 'complete-read' | 'complete-write' | 'complete-flush';

/** The call tree of one block activity (`sched`: the queue has an elevator). */
export function blockTree(kind: BlockTreeKind, sched = false): CallNode {
  const key = `blk-${kind}${sched ? '-sched' : ''}`;
  switch (kind) {
    case 'readahead':
      return namedTree(key, withIssue(READAHEAD, sched));
    case 'writeback':
      return namedTree(key, withIssue(WRITEBACK, sched));
    case 'merge':
      return namedTree(key, WRITEBACK_MERGE);
    case 'flush':
      return namedTree(key, withIssue(FLUSH, sched));
    case 'complete-read':
      return namedTree(key, COMPLETE(END_READ));
    case 'complete-write':
      return namedTree(key, COMPLETE(END_WRITE));
    case 'complete-flush':
      return namedTree(key, COMPLETE(END_FLUSH));
  }
}

/** Every tree of this file (for the available_filter_functions check). */
export function allMmBlockTrees(): CallNode[] {
  const out: CallNode[] = [namedTree('fault-first', FAULT(true)), namedTree('fault', FAULT(false))];
  for (const k of ['readahead', 'writeback', 'merge', 'flush', 'complete-read', 'complete-write', 'complete-flush'] as const) {
    out.push(blockTree(k, false), blockTree(k, true));
  }
  return out;
}

/** One block request as the block layer sees it (sectors relative to the disk). */
export interface BlockRq {
  /** the disk's major and minor */
  major: number;
  minor: number;
  /** the partition the I/O was submitted to (remapped to the disk), if any */
  part?: { minor: number; start: number };
  /** blk_fill_rwbs(): 'RA' readahead, 'WS' sync writeback, 'FF' a flush */
  rwbs: string;
  sector: number;
  sectors: number;
  /** 4 KiB bios merged into the request (writeback), 1 otherwise */
  bios: number;
  /** the elevator is not 'none' (requests are inserted, then dispatched) */
  sched: boolean;
  /** the caller of the submitting tree's root, when not the default (sync(2)'s writeback: filemap_fdatawrite) */
  caller?: string;
}

const devt = (major: number, minor: number): number => major * 2 ** 20 + minor;

/**
 * Emits the submission of `rq` by task `pid` from `atNs` (its path and the
 * block_bio_remap / block_bio_queue / block_getrq / block_bio_backmerge /
 * block_rq_insert / block_rq_issue events) and returns the time the request
 * is issued to the device. Reads submit from readahead (page_cache_sync_ra
 * under filemap_get_pages), writes from writeback (__filemap_fdatawrite_range),
 * flushes from blkdev_fsync.
 */
export function traceBlockSubmit(k: Kernel, pid: number, rq: BlockRq, atNs: number, cpu?: number): number {
  const write = rq.rwbs.includes('W') && rq.rwbs !== 'FF';
  const flush = rq.rwbs === 'FF';
  const tree = blockTree(flush ? 'flush' : write ? 'writeback' : 'readahead', rq.sched);
  const parent = rq.caller ?? (flush ? 'blkdev_fsync' : write ? 'file_write_and_wait_range' : 'filemap_get_pages');
  const dev = devt(rq.major, rq.minor);
  const comm = k.sched.task(pid)?.comm ?? '';
  const o = { cpu };
  const took = k.trace.kernelPath(pid, tree, parent, { atNs, cpu }) || tree.total * UNIT_NS;
  const at = timesIn(tree, atNs, took);
  const bioBytes = write ? 8 : rq.sectors;
  const bio = (sector: number, sectors: number): EventFields => ({ dev, sector, nr_sector: sectors, rwbs: flush ? 'FWS' : rq.rwbs, comm });
  const first = flush ? 0 : bioBytes;
  if (!flush) {
    if (rq.part) {
      k.trace.tracepoint(
        pid,
        'block',
        'block_bio_remap',
        {
          dev,
          sector: rq.sector,
          nr_sector: first,
          old_dev: devt(rq.major, rq.part.minor),
          old_sector: rq.sector - rq.part.start,
          rwbs: rq.rwbs,
        },
        { ...o, atNs: at('submit_bio_noacct') + 40 },
      );
    }
  }
  k.trace.tracepoint(pid, 'block', 'block_bio_queue', bio(flush ? 0 : rq.sector, first), {
    ...o,
    atNs: at('submit_bio_noacct_nocheck') + 40,
  });
  k.trace.tracepoint(pid, 'block', 'block_getrq', bio(flush ? 0 : rq.sector, first), { ...o, atNs: at('__blk_mq_alloc_requests', true) });
  let t = atNs + took;
  if (write && rq.bios > 1) {
    // the request's later blocks: pages written in order, each bio back-merged into the plugged request
    // (their paths run inside write_cache_pages, before the plug is flushed: emitted after it here, in time order)
    const m = blockTree('merge');
    const from = at('submit_bh', true);
    const step = Math.max(2, Math.floor((at('blk_finish_plug') - from) / rq.bios));
    for (let b = 1; b < rq.bios; b++) {
      const s = rq.sector + b * 8;
      const tb = from + b * step;
      k.trace.tracepoint(pid, 'block', 'block_bio_queue', bio(s, 8), { ...o, atNs: tb });
      k.trace.tracepoint(pid, 'block', 'block_bio_backmerge', bio(s, 8), { ...o, atNs: tb + 1 });
    }
    // the merge path itself once per request (its timing overlaps the tree above)
    t += k.trace.kernelPath(pid, m, 'write_cache_pages', { atNs: t, cpu }) || m.total * UNIT_NS;
  }
  const rqf: EventFields = {
    dev,
    sector: flush ? 0 : rq.sector,
    nr_sector: flush ? 0 : rq.sectors,
    bytes: flush ? 0 : rq.sectors * 512,
    rwbs: rq.rwbs,
    comm,
    cmd: '',
  };
  if (rq.sched) k.trace.tracepoint(pid, 'block', 'block_rq_insert', rqf, { ...o, atNs: at('blk_mq_sched_insert_requests') + 40 });
  const issued = at('blk_mq_start_request') + 40;
  k.trace.tracepoint(pid, 'block', 'block_rq_issue', rqf, { ...o, atNs: issued });
  return Math.max(issued, t);
}

/** Emits the completion interrupt of `rq` on `cpu` at `atNs` (the idle task's context): its path and block_rq_complete. */
export function traceBlockComplete(k: Kernel, rq: BlockRq, atNs: number, cpu: number): void {
  const flush = rq.rwbs === 'FF';
  const tree = blockTree(flush ? 'complete-flush' : rq.rwbs.includes('W') ? 'complete-write' : 'complete-read');
  const flags = 'd.h1.';
  // handle_irq_event(): the request queue's interrupt line, around its handler (vring_interrupt)
  const line = k.sched.blockIrq(cpu);
  if (line) k.trace.tracepoint(0, 'irq', 'irq_handler_entry', { irq: line.irq, name: line.name }, { cpu, atNs, flags });
  const took = k.trace.kernelPath(0, tree, 'common_interrupt', { cpu, atNs, flags }) || tree.total * UNIT_NS;
  if (line) k.trace.tracepoint(0, 'irq', 'irq_handler_exit', { irq: line.irq, ret: 1 }, { cpu, atNs: atNs + took - 100, flags });
  const at = timesIn(tree, atNs, took);
  k.trace.tracepoint(
    0,
    'block',
    'block_rq_complete',
    { dev: devt(rq.major, rq.minor), sector: flush ? 0 : rq.sector, nr_sector: flush ? 0 : rq.sectors, error: 0, rwbs: rq.rwbs, cmd: '' },
    { cpu, atNs: at('blk_update_request') + 40, flags },
  );
}
