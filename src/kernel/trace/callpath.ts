/**
 * The kernel's call paths, as data: for each system call (and a few other
 * kernel activities) the tree of functions it runs, with relative costs.
 * Trace.syscall() walks these trees to emit function / function_graph
 * entries, kprobe / kretprobe firings and the events attached to nodes.
 *
 * Tree text: one function per line, indented two spaces per level, then its
 * self cost (relative units, ~150 ns each) and optional markers:
 *   ~        the node sleeps (schedule()): after its callees the task switches
 *            out, the call's time beyond its CPU cost passes, it is woken
 *            and switched back in
 *   !kmalloc / !kfree / !cache_alloc / !cache_free   emits that kmem event
 *   !dead    the task switches out for good (do_task_dead)
 *   @slot    (instead of a function) the filesystem-specific subtree `slot`
 * Functions missing from available_filter_functions (noinstr entry code such
 * as do_syscall_64) may appear: they are never traced but are the parents and
 * stack frames of their callees.
 */
import { isBuiltinFunction } from './data';

export interface CallNode {
  fn: string;
  /** own cost in units */
  self: number;
  /** subtree cost in units (self + children) */
  total: number;
  kids: CallNode[];
  /** absorbs sleeping time */
  sleep: boolean;
  /** the subtree contains a sleeping node */
  sleeps: boolean;
  /** kmem / sched side events emitted at entry */
  marks?: string[];
  /** in available_filter_functions */
  traceable: boolean;
}

/** Nanoseconds per cost unit when a call's duration is not known. */
export const UNIT_NS = 150;

const ENTRY = 'entry_SYSCALL_64_after_hwframe';
export const SYSCALL_WRAPPERS = [ENTRY, 'do_syscall_64'] as const;
/** Functions the tables name on purpose although they are not traceable (noinstr entry code, notrace tracing code). */
export const NOT_TRACEABLE: readonly string[] = [...SYSCALL_WRAPPERS, 'tracing_mark_write'];

const FDGET = `
__fdget_pos 1
  __fget_light 1`;

const PERM = `
rw_verify_area 1
  security_file_permission 1
    apparmor_file_permission 1
      aa_file_perm 2
        __rcu_read_lock 1
        __rcu_read_unlock 1
    bpf_lsm_file_permission 1`;

const SEQ = (show: string): string => `
seq_read_iter 3
  mutex_lock 1
    __cond_resched 1
  kvmalloc_node 1
    __kmalloc_node 2 !kmalloc
      kmalloc_slab 1
      __kmem_cache_alloc_node 2
        __cond_resched 1
        should_failslab 1
  single_start 1
  ${show}
  single_next 1
  single_stop 1
  __check_object_size 2
    check_stack_object 1
    is_vmalloc_addr 1
    __virt_addr_valid 1
    __check_heap_object 1
  mutex_unlock 1`;

/** A tree text shifted right by `n` spaces (blank lines dropped), to nest it under a node. */
export const indent = (s: string, n: number): string =>
  s
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

/** Filesystem subtrees (slots). Key: `<slot>.<fstype>`, falling back to `<slot>.default`. */
const SLOTS: Record<string, string> = {
  'read.proc': `
proc_reg_read_iter 2
${indent(SEQ(`version_proc_show 2
    seq_printf 6`), 2)}`,
  'read.sysfs': `
kernfs_fop_read_iter 2
${indent(SEQ(`kernfs_seq_show 2
    sysfs_kf_seq_show 3
      dev_attr_show 4`), 2)}`,
  'read.tracefs': `
seq_read 2
${indent(SEQ(`s_show 6`), 2)}`,
  'read.pipe': `
pipe_read 4
  mutex_lock 1
  _raw_spin_lock_irq 1
  mutex_unlock 1
  __wake_up 2`,
  'read.tty': `
tty_read 3
  tty_ldisc_ref_wait 1
  n_tty_read 6
    down_read 1
    up_read 1
  tty_ldisc_deref 1`,
  'read.default': `
shmem_file_read_iter 3
  shmem_get_folio_gfp 2
    __filemap_get_folio 3
      __rcu_read_lock 1
      __rcu_read_unlock 1
      __cond_resched 1
  folio_unlock 1
  PageHeadHuge 1
  folio_mark_accessed 1
  touch_atime 2
    atime_needs_update 2
      current_time 1
        ktime_get_coarse_real_ts64 1
    __mnt_want_write 1
    current_time 1
      ktime_get_coarse_real_ts64 1
    __mark_inode_dirty 1
    __mnt_drop_write 1`,
  'read.ext4': `
generic_file_read_iter 2
  filemap_read 8
    filemap_get_pages 3
      filemap_get_read_batch 2
        __rcu_read_lock 1
        __rcu_read_unlock 1
    folio_mark_accessed 1
    touch_atime 2
      atime_needs_update 2`,
  'write.proc': `
proc_reg_write 3
  proc_sys_write 6`,
  'write.sysfs': `
kernfs_fop_write_iter 3
  mutex_lock 1
  kernfs_get_active 1
  sysfs_kf_write 4
  kernfs_put_active 1
  mutex_unlock 1`,
  'write.tracefs': `
tracing_mark_write 6`,
  'write.pipe': `
pipe_write 5
  mutex_lock 1
  mutex_unlock 1
  __wake_up_sync_key 2`,
  'write.tty': `
tty_write 3
  file_tty_write.constprop.0 2
    tty_ldisc_ref_wait 1
    n_tty_write 8
      down_read 1
      process_echoes 1
      up_read 1
    tty_ldisc_deref 1`,
  'write.default': `
generic_file_write_iter 2
  down_write 1
  __generic_file_write_iter 2
    file_remove_privs 1
    file_update_time 1
  generic_perform_write 4
    shmem_write_begin 3
      shmem_get_folio_gfp 3
    shmem_write_end 2
      folio_mark_dirty 1
    balance_dirty_pages_ratelimited 1
  up_write 1`,
  'write.ext4': `
ext4_file_write_iter 2
  ext4_buffered_write_iter 2
  down_write 1
  generic_perform_write 6
    ext4_da_write_begin 4
    ext4_da_write_end 3
  up_write 1`,
  'open.proc': `
proc_reg_open 2
  single_open 2
    kmalloc_trace 2 !kmalloc`,
  'open.sysfs': `
kernfs_fop_open 4
  mutex_lock 1
  kmalloc_trace 2 !kmalloc
  seq_open 2
  mutex_unlock 1`,
  'open.default': ``,
  'open.ext4': `
ext4_file_open 2
  generic_file_open 1`,
};

// fsnotify_access/fsnotify_modify reach __fsnotify_parent only on a superblock
// with fsnotify watchers (inotify/fanotify marks): none are modelled, and the
// reference's 1200-line vfs_read graph never shows it.
const TREES: Record<string, string> = {
  read: `
__x64_sys_read 1
  ksys_read 2
${indent(FDGET, 4)}
    vfs_read 2
${indent(PERM, 6)}
      __get_task_ioprio 1
      @read`,
  pread64: `
__x64_sys_pread64 1
  __fget_light 1
  vfs_read 2
${indent(PERM, 4)}
    __get_task_ioprio 1
    @read`,
  write: `
__x64_sys_write 1
  ksys_write 2
${indent(FDGET, 4)}
    vfs_write 3
${indent(PERM, 6)}
      __get_task_ioprio 1
      @write`,
  openat: `
__x64_sys_openat 1
  do_sys_openat2 2
    getname 1
      getname_flags 2
        kmem_cache_alloc 2 !cache_alloc
          should_failslab 1
    get_unused_fd_flags 1
      alloc_fd 2
        _raw_spin_lock 1
        expand_files 1
    do_filp_open 1
      path_openat 4
        alloc_empty_file 2
          kmem_cache_alloc 2 !cache_alloc
          security_file_alloc 1
        path_init 2
        walk_component 4
          lookup_fast 3
          step_into 2
        may_open 2
          inode_permission 1
        vfs_open 1
          do_dentry_open 3
            path_get 1
            security_file_open 1
            @open
        terminate_walk 1
    fd_install 1
    putname 1
      kmem_cache_free 2 !cache_free`,
  close: `
__x64_sys_close 1
  close_fd 2
    _raw_spin_lock 1
    pick_file 1
    filp_close 2
      dnotify_flush 1
      locks_remove_posix 1
      fput 1
exit_to_user_mode_prepare 1
  task_work_run 1
    ____fput 1
      __fput 4
        locks_remove_file 1
        security_file_free 1
        dput 1
        mntput 1`,
  mmap: `
__x64_sys_mmap 1
  ksys_mmap_pgoff 1
    vm_mmap_pgoff 2
      security_mmap_file 1
      down_write_killable 1
      do_mmap 3
        get_unmapped_area 3
          arch_get_unmapped_area_topdown 2
            vm_unmapped_area 2
        mmap_region 6
          may_expand_vm 1
          vm_area_alloc 2
            kmem_cache_alloc 2 !cache_alloc
          vma_link 3
          perf_event_mmap 2
          vma_set_page_prot 1
      up_write 1`,
  munmap: `
__x64_sys_munmap 1
  __vm_munmap 2
    down_write_killable 1
    do_mas_munmap 6
      unmap_region 6
        lru_add_drain 1
        tlb_finish_mmu 2
      vm_area_free 1
        kmem_cache_free 1 !cache_free
    up_write 1`,
  brk: `
__x64_sys_brk 2
  down_write_killable 1
  do_brk_flags 3
  up_write 1`,
  clone: `
__x64_sys_clone 1
  kernel_clone 2
    copy_process 30
      kmem_cache_alloc_node 3 !cache_alloc
      arch_dup_task_struct 4
      copy_creds 3
      sched_fork 3
      dup_fd 5
      copy_fs_struct 2
      mm_alloc 4
      dup_mmap 40
        anon_vma_fork 4
        copy_page_range 8
      copy_thread 4
      alloc_pid 4
    wake_up_new_task 4
      select_task_rq_fair 2
      enqueue_task_fair 3
        update_curr 1
      check_preempt_curr 1`,
  execve: `
__x64_sys_execve 1
  getname 1
    getname_flags 2
      kmem_cache_alloc 2 !cache_alloc
  alloc_bprm 3
    kmalloc_trace 2 !kmalloc
    mm_alloc 4
  copy_string_kernel 2
  copy_strings.isra.0 4
  bprm_execve 3
    do_open_execat 5
      do_filp_open 3
        path_openat 5
    sched_exec 2
    security_bprm_creds_for_exec 1
    load_elf_binary 20
      begin_new_exec 12
        mmput 3
        __set_task_comm 1
        setup_new_exec 2
      setup_arg_pages 4
      elf_map 6
      start_thread 1
    free_bprm 2
      kfree 1 !kfree
  putname 1
    kmem_cache_free 1 !cache_free`,
  exit_group: `
__x64_sys_exit_group 1
  do_group_exit 2
    do_exit 10
      exit_signals 2
      exit_mm_release 1
      mmput 2
        exit_mmap 20
      acct_process 1
      taskstats_exit 2
      exit_files 2
        put_files_struct 4
          filp_close 2
      exit_fs 1
      exit_task_namespaces 1
      exit_thread 1
      perf_event_exit_task 2
      cgroup_exit 2
      do_task_dead 1 !dead`,
  exit: `
__x64_sys_exit 1
  do_exit 10
    exit_signals 2
    exit_files 2
    exit_fs 1
    cgroup_exit 2
    do_task_dead 1`,
  wait4: `
__x64_sys_wait4 1
  kernel_wait4 2
    do_wait 3
      add_wait_queue 1
      schedule 1 ~
        pick_next_task_fair 2
          update_curr 1
      remove_wait_queue 1
      wait_consider_task 3
        release_task 5
          free_pid 1
          put_task_struct_rcu_user 1`,
  nanosleep: `
__x64_sys_nanosleep 1
  get_timespec64 1
  hrtimer_nanosleep 2
    hrtimer_init_sleeper 1
    do_nanosleep 2
      hrtimer_start_range_ns 3
      schedule 1 ~
        pick_next_task_fair 2
          update_curr 1
      hrtimer_active 1`,
  clock_nanosleep: `
__x64_sys_clock_nanosleep 1
  get_timespec64 1
  common_nsleep 1
    hrtimer_nanosleep 2
      do_nanosleep 2
        hrtimer_start_range_ns 3
        schedule 1 ~
          pick_next_task_fair 2`,
  newfstatat: `
__x64_sys_newfstatat 1
  vfs_fstatat 2
    getname_flags 2
      kmem_cache_alloc 2 !cache_alloc
    vfs_statx 3
      filename_lookup 4
        path_lookupat 4
      vfs_getattr 2
      path_put 1
    putname 1
      kmem_cache_free 1 !cache_free
  cp_new_stat 2`,
  newfstat: `
__x64_sys_newfstat 1
  vfs_fstat 2
    __fdget_raw 1
    vfs_getattr 2
  cp_new_stat 2`,
  lseek: `
__x64_sys_lseek 1
  ksys_lseek 1
    __fdget_pos 1
    generic_file_llseek 2`,
  getdents64: `
__x64_sys_getdents64 1
  __fdget_pos 1
  iterate_dir 2
    security_file_permission 1
    down_read_killable 1
    dcache_readdir 8
    up_read 1`,
  ioctl: `
__x64_sys_ioctl 1
  __fget_light 1
  security_file_ioctl 1
  do_vfs_ioctl 2
  tty_ioctl 3`,
  pipe2: `
__x64_sys_pipe2 1
  do_pipe2 2
    create_pipe_files 6
      alloc_file_pseudo 3
    fd_install 1`,
  dup2: `
__x64_sys_dup2 2
  _raw_spin_lock 1
  do_dup2 2`,
  kill: `
__x64_sys_kill 1
  kill_something_info 2
    kill_pid_info 2
      group_send_sig_info 3
        do_send_sig_info 3`,
  finit_module: `
__x64_sys_finit_module 1
  kernel_read_file_from_fd 3
  load_module 60
    module_alloc 8
    do_init_module 12
      do_one_initcall 10`,
  delete_module: `
__x64_sys_delete_module 1
  free_module 20`,
  rt_sigaction: `
__x64_sys_rt_sigaction 2
  do_sigaction 2`,
  unlinkat: `
__x64_sys_unlinkat 1
  getname 1
  do_unlinkat 4
    vfs_unlink 4
  putname 1`,
  mkdirat: `
__x64_sys_mkdirat 1
  getname 1
  do_mkdirat 4
    filename_create 3
    vfs_mkdir 4
  putname 1`,
  chdir: `
__x64_sys_chdir 1
  user_path_at_empty 3
  set_fs_pwd 1`,
};

/** The default tree for a syscall without one: its __x64_sys_ wrapper. */
const GENERIC = (name: string): string => `
__x64_sys_${name} 3`;

/** The context switch path (schedule() out of a task). */
export const SCHEDULE_TREE = `
schedule 1
  rcu_note_context_switch 1
  _raw_spin_lock 1
  update_rq_clock 1
  dequeue_task_fair 3
    update_curr 1
  pick_next_task_fair 3
    update_curr 1
    pick_next_entity 1
  psi_task_switch 2
  finish_task_switch.isra.0 2`;

/** The local APIC timer interrupt (a tick). */
export const TIMER_TREE = `
__sysvec_apic_timer_interrupt 1
  hrtimer_interrupt 3
    _raw_spin_lock_irqsave 1
    ktime_get_update_offsets_now 1
    __hrtimer_run_queues 2
      tick_sched_timer 2
        ktime_get 1
        tick_sched_do_timer 1
        tick_sched_handle 1
          update_process_times 2
            account_process_tick 2
            hrtimer_run_queues 1
            raise_softirq 1
            rcu_sched_clock_irq 1
            scheduler_tick 4
              update_rq_clock 1
              task_tick_fair 3
                update_curr 1
              trigger_load_balance 1
            run_posix_cpu_timers 1
    hrtimer_update_next_event 1
    tick_program_event 1`;

/** memo of parsed trees (module-level const, filled on first use) */
const memo = new Map<string, CallNode>();

function parse(text: string, slots: (slot: string) => string): CallNode {
  const root: CallNode = { fn: ENTRY, self: 0, total: 0, kids: [], sleep: false, sleeps: false, traceable: false };
  const dsp: CallNode = { fn: 'do_syscall_64', self: 1, total: 0, kids: [], sleep: false, sleeps: false, traceable: false };
  root.kids.push(dsp);
  const stack: { node: CallNode; ind: number }[] = [
    { node: root, ind: -4 },
    { node: dsp, ind: -2 },
  ];
  const lines: { ind: number; body: string }[] = [];
  const push = (t: string, base: number): void => {
    for (const raw of t.split('\n')) {
      if (!raw.trim()) continue;
      const ind = base + (raw.length - raw.trimStart().length);
      const body = raw.trim();
      if (body.startsWith('@')) push(slots(body.slice(1)), ind);
      else lines.push({ ind, body });
    }
  };
  push(text, 0);
  for (const { ind, body } of lines) {
    const [fn, cost, ...marks] = body.split(/\s+/);
    const sleep = marks.includes('~');
    const ev = marks.filter((m) => m.startsWith('!')).map((m) => m.slice(1));
    const node: CallNode = { fn, self: Number(cost) || 0, total: 0, kids: [], sleep, sleeps: sleep, traceable: isBuiltinFunction(fn) };
    if (ev.length) node.marks = ev;
    while (stack.length > 1 && stack[stack.length - 1].ind >= ind) stack.pop();
    stack[stack.length - 1].node.kids.push(node);
    stack.push({ node, ind });
  }
  const fold = (n: CallNode): number => {
    let t = n.self;
    for (const c of n.kids) {
      t += fold(c);
      if (c.sleeps) n.sleeps = true;
    }
    n.total = t;
    return t;
  };
  fold(root);
  return root;
}

function slotFor(slot: string, fstype: string | undefined): string {
  const fs = fstype ?? 'default';
  const alias: Record<string, string> = { tmpfs: 'default', rootfs: 'default', devtmpfs: 'default', ramfs: 'default', devpts: 'tty', debugfs: 'tracefs', cgroup2: 'sysfs' };
  return SLOTS[`${slot}.${fs}`] ?? SLOTS[`${slot}.${alias[fs] ?? 'default'}`] ?? SLOTS[`${slot}.default`] ?? '';
}

/** The call tree of a syscall on a filesystem (root: the entry code). */
export function syscallTree(name: string, fstype?: string): CallNode {
  const key = `${name}|${fstype ?? ''}`;
  let t = memo.get(key);
  if (!t) {
    t = parse(TREES[name] ?? GENERIC(name), (s) => slotFor(s, fstype));
    memo.set(key, t);
  }
  return t;
}

/** A non-syscall tree (SCHEDULE_TREE, TIMER_TREE): its first node is the root. */
export function namedTree(key: string, text: string): CallNode {
  let t = memo.get(key);
  if (!t) {
    t = parse(text, () => '').kids[0].kids[0];
    memo.set(key, t);
  }
  return t;
}

/** Every function name the tables mention (for checks). */
export function allTreeFunctions(): string[] {
  const s = new Set<string>();
  const walk = (n: CallNode): void => {
    s.add(n.fn);
    n.kids.forEach(walk);
  };
  const fss = ['proc', 'sysfs', 'tracefs', 'pipe', 'tty', 'tmpfs', 'ext4'];
  for (const name of Object.keys(TREES)) for (const fs of fss) walk(syscallTree(name, fs));
  walk(namedTree('schedule', SCHEDULE_TREE));
  walk(namedTree('timer', TIMER_TREE));
  return [...s].sort();
}

export function syscallNames(): string[] {
  return Object.keys(TREES);
}
