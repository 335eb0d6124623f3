/**
 * The kernel log side of memory trouble: show_mem() (sysrq-m, the OOM
 * report's Mem-Info block) and the OOM killer's report (dump_header,
 * dump_tasks, the oom-kill summary and the "Killed process" line), in the
 * formats of mm/oom_kill.c and mm/page_alloc.c of Linux 6.1.
 */
import type { Kernel } from '../kernel';
import { KERNEL_RELEASE, KERNEL_VERSION_STRING } from '../types';
import { MIGRATE_TYPES, MIGRATETYPE_LETTERS } from './buddy';
import { MAX_ORDER } from './layout';
import type { AllocCtx, MemStats, Mm, TaskMem } from './mm';

export interface OomVictimInfo {
  pid: number;
  comm: string;
  uid: number;
  oomScoreAdj: number;
  mem: TaskMem;
  message: string;
}

const HARDWARE = 'QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014';

/** "6.1.0-56-amd64 #1  Debian 6.1.192-2" as dump_stack() prints the build. */
function buildTag(): string {
  const ver = KERNEL_VERSION_STRING.split(' ')[0];
  const deb = /Debian (\S+)/.exec(KERNEL_VERSION_STRING)?.[1];
  return `${KERNEL_RELEASE} ${ver}${deb ? `  Debian ${deb}` : ''}`;
}

const FAULT_TRACE = [
  'dump_stack_lvl+0x44/0x5c',
  'dump_header+0x4a/0x211',
  'oom_kill_process.cold+0xb/0x10',
  'out_of_memory+0x1fd/0x4c0',
  '__alloc_pages_slowpath.constprop.0+0xc24/0xd90',
  '__alloc_pages+0x30b/0x330',
  '__folio_alloc+0x16/0x50',
  'vma_alloc_folio+0x286/0x360',
  '__handle_mm_fault+0x86b/0xeb0',
  'handle_mm_fault+0xdb/0x2d0',
  'do_user_addr_fault+0x1b8/0x690',
  'exc_page_fault+0x70/0x170',
  'asm_exc_page_fault+0x22/0x30',
];

const KERNEL_TRACE = [
  'dump_stack_lvl+0x44/0x5c',
  'dump_header+0x4a/0x211',
  'oom_kill_process.cold+0xb/0x10',
  'out_of_memory+0x1fd/0x4c0',
  '__alloc_pages_slowpath.constprop.0+0xc24/0xd90',
  '__alloc_pages+0x30b/0x330',
  'folio_alloc+0x17/0x50',
  'shmem_alloc_folio+0x3e/0x60',
  'shmem_alloc_and_acct_folio+0x98/0x250',
  'shmem_get_folio_gfp+0x1f5/0x720',
  'shmem_write_begin+0x5f/0xd0',
  'generic_perform_write+0xd4/0x210',
  '__generic_file_write_iter+0xf1/0x180',
  'generic_file_write_iter+0x5d/0xc0',
  'vfs_write+0x236/0x3f0',
  'ksys_write+0x6b/0xf0',
  'do_syscall_64+0x5d/0xb0',
  'entry_SYSCALL_64_after_hwframe+0x6e/0xd8',
];

const kb = (pages: number): number => pages * 4;

/** Lines of show_mem(): Mem-Info, node and zone lines, free areas, swap and page totals. */
export function showMemLines(st: MemStats, cpu: number): string[] {
  const out: string[] = [];
  out.push('Mem-Info:');
  out.push(
    `active_anon:${st.activeAnon} inactive_anon:${st.inactiveAnon} isolated_anon:0\n` +
      ` active_file:${st.activeFile} inactive_file:${st.inactiveFile} isolated_file:0\n` +
      ` unevictable:0 dirty:0 writeback:0\n` +
      ` slab_reclaimable:${st.slabR} slab_unreclaimable:${st.slabU}\n` +
      ` mapped:${st.mapped} shmem:${st.shmem} pagetables:${st.pageTables}\n` +
      ` sec_pagetables:0 bounce:0\n` +
      ` kernel_misc_reclaimable:0\n` +
      ` free:${st.free} free_pcp:${st.pcp} free_cma:0`,
  );
  out.push(
    `Node 0 active_anon:${kb(st.activeAnon)}kB inactive_anon:${kb(st.inactiveAnon)}kB active_file:${kb(st.activeFile)}kB ` +
      `inactive_file:${kb(st.inactiveFile)}kB unevictable:0kB isolated(anon):0kB isolated(file):0kB mapped:${kb(st.mapped)}kB ` +
      `dirty:0kB writeback:0kB shmem:${kb(st.shmem)}kB shmem_thp: 0kB shmem_pmdmapped: 0kB anon_thp: 0kB writeback_tmp:0kB ` +
      `kernel_stack:${st.kernelStackKb}kB pagetables:${kb(st.pageTables)}kB sec_pagetables:0kB all_unreclaimable? no`,
  );
  for (const z of st.zones) {
    if (!z.populated) continue;
    const pcp = z.pcp.reduce((a, b) => a + b, 0);
    out.push(
      `Node 0 ${z.name} free:${kb(z.free)}kB boost:0kB min:${kb(z.min)}kB low:${kb(z.low)}kB high:${kb(z.high)}kB ` +
        `reserved_highatomic:0KB active_anon:${kb(z.activeAnon)}kB inactive_anon:${kb(z.inactiveAnon)}kB ` +
        `active_file:${kb(z.activeFile)}kB inactive_file:${kb(z.inactiveFile)}kB unevictable:0kB writepending:0kB ` +
        `present:${kb(z.present)}kB managed:${kb(z.managed)}kB mlocked:0kB bounce:0kB free_pcp:${kb(pcp)}kB ` +
        `local_pcp:${kb(z.pcp[cpu] ?? 0)}kB free_cma:0kB`,
    );
    out.push(`lowmem_reserve[]: ${z.reserve.join(' ')}`);
  }
  for (const z of st.zones) {
    if (!z.populated) continue;
    let line = `Node 0 ${z.name}: `;
    let total = 0;
    for (let o = 0; o < MAX_ORDER; o++) {
      let nr = 0;
      let types = '';
      for (let mt = 0; mt < MIGRATE_TYPES; mt++) {
        const c = z.area.free[mt][o];
        nr += c;
        if (c) types += MIGRATETYPE_LETTERS[mt];
      }
      total += nr << o;
      line += `${nr}*${4 << o}kB `;
      if (nr) line += `(${types}) `;
    }
    out.push(`${line}= ${kb(total)}kB`);
  }
  out.push('Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=1048576kB');
  out.push('Node 0 hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=2048kB');
  out.push(`${st.file + st.buffers + st.shmem + st.swapCached} total pagecache pages`);
  out.push(`${st.swapCached} pages in swap cache`);
  out.push(`Free swap  = ${kb(st.swapFree)}kB`);
  out.push(`Total swap = ${kb(st.swapTotal)}kB`);
  out.push(`${st.present} pages RAM`);
  out.push('0 pages HighMem/MovableOnly');
  out.push(`${st.reserved} pages reserved`);
  out.push('0 pages hwpoisoned');
  return out;
}

/**
 * The OOM report to the kernel log (dump_header and, with a victim, the kill
 * lines); with `showOnly` just show_mem() as sysrq-m prints it.
 */
export function oomReport(
  k: Kernel,
  mm: Mm,
  st: MemStats,
  ctx: AllocCtx,
  victim: OomVictimInfo | undefined,
  mode: 'full' | 'ratelimited' | 'show' = 'full',
): void {
  const t0 = k.now;
  let i = 0;
  const log = (level: number, text: string): void => {
    // one printk with embedded newlines: dmesg indents its continuation lines
    k.printk.log(level, text, { tsNs: t0 + i++ * 1000, oneRecord: text.includes('\n') });
  };
  const cur = ctx.pid !== undefined ? k.sched?.task(ctx.pid) : undefined;
  const cpu = cur?.cpu ?? 0;
  if (mode === 'show') {
    for (const l of showMemLines(st, cpu)) log(4, l);
    return;
  }
  const comm = cur?.comm ?? 'kworker/u4:1';
  if (mode === 'ratelimited') {
    // dump_header() is ratelimited (10 per 5 s); the kill line is not
    if (victim) logKill(log, victim);
    return;
  }
  log(4, `${comm} invoked oom-killer: gfp_mask=${ctx.gfp}, order=${ctx.order ?? 0}, oom_score_adj=${cur?.oomScoreAdj ?? 0}`);
  log(4, `CPU: ${cpu} PID: ${ctx.pid ?? 0} Comm: ${comm.slice(0, 20)} Not tainted ${buildTag()}`);
  log(4, `Hardware name: ${HARDWARE}`);
  log(4, 'Call Trace:');
  log(4, ' <TASK>');
  const user = ctx.pid !== undefined && !!mm.space(ctx.pid);
  for (const f of user && ctx.gfp.includes('MOVABLE') ? FAULT_TRACE : KERNEL_TRACE) log(4, ` ${f}`);
  if (user) {
    const sp = mm.space(ctx.pid as number);
    const rip = (sp?.layout.exeBase ?? 0x555555554000) + 0x2f6f5;
    log(4, `RIP: 0033:0x${rip.toString(16)}`);
    log(4, `RSP: 002b:${((sp?.layout.stackEnd ?? 0x7ffd00000000) - 0x1a0).toString(16).padStart(16, '0')} EFLAGS: 00010206`);
  }
  log(4, ' </TASK>');
  for (const l of showMemLines(st, cpu)) log(4, l);
  const nrLru = st.activeAnon + st.inactiveAnon + st.activeFile + st.inactiveFile;
  if (st.slabU > nrLru) {
    log(6, 'Unreclaimable slab info:');
    log(6, 'Name                      Used          Total');
    for (const c of mm.slabCaches()) {
      if (c.reclaimable) continue;
      const row = mm.slabRowOf(c);
      if (row.num > 0)
        log(
          6,
          `${c.name.padEnd(17)} ${String(Math.floor((row.active * c.objsize) / 1024)).padStart(10)}KB ${String(Math.floor((row.num * c.objsize) / 1024)).padStart(10)}KB`,
        );
    }
  }
  if (mm.getVmTunable('oom_dump_tasks')) {
    log(6, 'Tasks state (memory values in pages):');
    log(6, '[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name');
    const tasks = k.sched ? [...k.sched.tasks()].sort((a, b) => a.pid - b.pid) : [];
    for (const t of tasks) {
      if (t.kthread || t.pid === 1 || t.tgid !== t.pid) continue;
      const m = mm.taskMem(t.pid);
      if (!m) continue;
      const rss = m.rssAnonPages + m.rssFilePages + m.rssShmemPages;
      log(
        6,
        `[${String(t.pid).padStart(7)}] ${String(t.uid).padStart(5)} ${String(t.tgid).padStart(5)} ${String(m.vmPages).padStart(8)} ` +
          `${String(rss).padStart(8)} ${String(m.pteBytes).padStart(8)} ${String(m.swapPages).padStart(8)}         ${String(t.oomScoreAdj).padStart(5)} ${t.comm}`,
      );
    }
  }
  if (!victim) return;
  log(
    6,
    `oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=${victim.comm},pid=${victim.pid},uid=${victim.uid}`,
  );
  logKill(log, victim);
}

function logKill(log: (level: number, text: string) => void, victim: OomVictimInfo): void {
  const m = victim.mem;
  log(
    3,
    `${victim.message}: Killed process ${victim.pid} (${victim.comm}) total-vm:${kb(m.vmPages)}kB, anon-rss:${kb(m.rssAnonPages)}kB, ` +
      `file-rss:${kb(m.rssFilePages)}kB, shmem-rss:${kb(m.rssShmemPages)}kB, UID:${victim.uid} pgtables:${m.pteBytes >> 10}kB oom_score_adj:${victim.oomScoreAdj}`,
  );
}
