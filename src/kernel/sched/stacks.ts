/**
 * Call traces of user tasks blocked in common syscalls, and of the kernel
 * threads the reference capture did not show, in 6.1 (Debian amd64) form.
 */
const SYSCALL_TAIL = ['do_syscall_64+0x5d/0xb0', 'entry_SYSCALL_64_after_hwframe+0x6e/0xd8'];
const KTHREAD_TAIL = ['kthread+0xda/0x100', '? kthread_complete_and_exit+0x20/0x20', 'ret_from_fork+0x22/0x30'];

export const USER_STACKS: Readonly<Record<string, readonly string[]>> = {
  ep_poll: [
    '__schedule+0x34d/0xa00',
    'schedule+0x5a/0xd0',
    'schedule_hrtimeout_range_clock+0xa0/0x120',
    '? __hrtimer_init+0x100/0x100',
    'ep_poll+0x2ea/0x350',
    '? ep_done_scan+0xd0/0xd0',
    'do_epoll_wait+0xdb/0x100',
    '__x64_sys_epoll_wait+0x6f/0x110',
    ...SYSCALL_TAIL,
  ],
  do_sys_poll: [
    '__schedule+0x34d/0xa00',
    'schedule+0x5a/0xd0',
    'schedule_hrtimeout_range_clock+0xa0/0x120',
    'do_sys_poll+0x3c9/0x5b0',
    '? __pollwait+0xe0/0xe0',
    '__x64_sys_poll+0xb5/0x150',
    ...SYSCALL_TAIL,
  ],
  hrtimer_nanosleep: [
    '__schedule+0x34d/0xa00',
    'schedule+0x5a/0xd0',
    'do_nanosleep+0x7d/0x180',
    'hrtimer_nanosleep+0xcc/0x1b0',
    '? __hrtimer_init+0x100/0x100',
    'common_nsleep+0x40/0x50',
    '__x64_sys_clock_nanosleep+0xbc/0x130',
    ...SYSCALL_TAIL,
  ],
  do_wait: [
    '__schedule+0x34d/0xa00',
    'schedule+0x5a/0xd0',
    'do_wait+0x160/0x2f0',
    'kernel_wait4+0xa6/0x140',
    '? task_stopped_code+0x70/0x70',
    '__do_sys_wait4+0x96/0xa0',
    ...SYSCALL_TAIL,
  ],
  wait_woken: [
    '__schedule+0x34d/0xa00',
    'schedule+0x5a/0xd0',
    'schedule_timeout+0x118/0x150',
    'wait_woken+0x50/0x70',
    'n_tty_read+0x5d6/0x6f0',
    '? remove_wait_queue+0x60/0x60',
    'tty_read+0x14a/0x260',
    'vfs_read+0xa5/0x310',
    'ksys_read+0x6b/0xf0',
    ...SYSCALL_TAIL,
  ],
  folio_wait_bit_common: [
    '__schedule+0x34d/0xa00',
    'schedule+0x5a/0xd0',
    'io_schedule+0x42/0x70',
    'folio_wait_bit_common+0x13d/0x350',
    '? filemap_invalidate_unlock_two+0x50/0x50',
    'filemap_get_pages+0x5e6/0x630',
    'filemap_read+0xda/0x340',
    'vfs_read+0x1f2/0x310',
    'ksys_read+0x6b/0xf0',
    ...SYSCALL_TAIL,
  ],
  schedule_timeout: [
    '__schedule+0x34d/0xa00',
    'schedule+0x5a/0xd0',
    'schedule_timeout+0x94/0x150',
    '? __bpf_trace_tick_stop+0x10/0x10',
    'msleep+0x29/0x40',
    ...SYSCALL_TAIL,
  ],
  do_signal_stop: [
    '__schedule+0x34d/0xa00',
    'schedule+0x5a/0xd0',
    'do_signal_stop+0x1b0/0x250',
    'get_signal+0x3c8/0x8a0',
    'arch_do_signal_or_restart+0x3a/0x210',
    'exit_to_user_mode_prepare+0x187/0x240',
    'syscall_exit_to_user_mode+0x17/0x40',
    'do_syscall_64+0x69/0xb0',
    'entry_SYSCALL_64_after_hwframe+0x6e/0xd8',
  ],
};

export const KERNEL_STACKS_FALLBACK: Readonly<Record<string, readonly string[]>> = {
  khugepaged: [
    '__schedule+0x34d/0xa00',
    'schedule+0x5a/0xd0',
    'schedule_timeout+0x94/0x150',
    '? __bpf_trace_tick_stop+0x10/0x10',
    'khugepaged+0x1e8/0x2600',
    '? cpuusage_read+0x10/0x10',
    '? hugepage_vma_revalidate+0xe0/0xe0',
    ...KTHREAD_TAIL,
  ],
  kthread: ['__schedule+0x34d/0xa00', 'schedule+0x5a/0xd0', ...KTHREAD_TAIL],
};
