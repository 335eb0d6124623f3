/**
 * The bpftrace tools (tools/*.bt of bpftrace 0.17) as programs for this
 * engine. Headers and output lines follow the 0.17 tools; where a 0.17 tool
 * needs kernel memory or C headers the model does not have, the program reads
 * the same facts from tracepoint fields instead (noted per tool).
 */
export const BCC_TOOLS: Readonly<Record<string, string>> = {
  execsnoop: `BEGIN
{
	printf("%-10s %-5s %s\\n", "TIME(ms)", "PID", "ARGS");
}

tracepoint:syscalls:sys_enter_exec*
{
	printf("%-10u %-5d ", elapsed / 1e6, pid);
	join(args->argv);
}
`,
  opensnoop: `BEGIN
{
	printf("Tracing open syscalls... Hit Ctrl-C to end.\\n");
	printf("%-6s %-16s %4s %3s %s\\n", "PID", "COMM", "FD", "ERR", "PATH");
}

tracepoint:syscalls:sys_enter_open,
tracepoint:syscalls:sys_enter_openat
{
	@filename[tid] = args->filename;
}

tracepoint:syscalls:sys_exit_open,
tracepoint:syscalls:sys_exit_openat
/@filename[tid]/
{
	$ret = args->ret;
	$fd = $ret >= 0 ? $ret : -1;
	$errno = $ret >= 0 ? 0 : - $ret;

	printf("%-6d %-16s %4d %3d %s\\n", pid, comm, $fd, $errno,
	    str(@filename[tid]));
	delete(@filename[tid]);
}

END
{
	clear(@filename);
}
`,
  killsnoop: `BEGIN
{
	printf("Tracing kill() signals... Hit Ctrl-C to end.\\n");
	printf("%-9s %-6s %-16s %-4s %-6s %s\\n", "TIME", "PID", "COMM", "SIG",
	    "TPID", "RESULT");
}

tracepoint:syscalls:sys_enter_kill
{
	@tpid[tid] = args->pid;
	@tsig[tid] = args->sig;
}

tracepoint:syscalls:sys_exit_kill
/@tpid[tid]/
{
	time("%H:%M:%S  ");
	printf("%-6d %-16s %-4d %-6d %d\\n", pid, comm, @tsig[tid], @tpid[tid],
	    args->ret);
	delete(@tpid[tid]);
	delete(@tsig[tid]);
}
`,
  vfsstat: `BEGIN
{
	printf("Tracing key VFS calls... Hit Ctrl-C to end.\\n");
}

kprobe:vfs_read*,
kprobe:vfs_write*,
kprobe:vfs_fsync,
kprobe:vfs_open,
kprobe:vfs_create
{
	@[func] = count();
}

interval:s:1
{
	time();
	print(@);
	clear(@);
}

END
{
	clear(@);
}
`,
  syscount: `BEGIN
{
	printf("Counting syscalls... Hit Ctrl-C to end.\\n");
}

tracepoint:raw_syscalls:sys_enter
{
	@syscall[args->id] = count();
	@process[comm] = count();
}

END
{
	printf("\\nTop 10 syscalls IDs:\\n");
	print(@syscall, 10);
	clear(@syscall);

	printf("\\nTop 10 processes:\\n");
	print(@process, 10);
	clear(@process);
}
`,
  // TASK_RUNNING (linux/sched.h) is 0
  runqlat: `BEGIN
{
	printf("Tracing CPU scheduler... Hit Ctrl-C to end.\\n");
}

tracepoint:sched:sched_wakeup,
tracepoint:sched:sched_wakeup_new
{
	@qtime[args->pid] = nsecs;
}

tracepoint:sched:sched_switch
{
	if (args->prev_state == 0) {
		@qtime[args->prev_pid] = nsecs;
	}

	$ns = @qtime[args->next_pid];
	if ($ns) {
		@usecs = hist((nsecs - $ns) / 1000);
	}
	delete(@qtime[args->next_pid]);
}

END
{
	clear(@qtime);
}
`,
  // blk_account_io_start/done are inlined in this 6.1 build: the block tracepoints mark issue and completion
  biolatency: `BEGIN
{
	printf("Tracing block device I/O... Hit Ctrl-C to end.\\n");
}

tracepoint:block:block_rq_issue
{
	@start[args->dev, args->sector] = nsecs;
}

tracepoint:block:block_rq_complete
/@start[args->dev, args->sector]/
{
	@usecs = hist((nsecs - @start[args->dev, args->sector]) / 1000);
	delete(@start[args->dev, args->sector]);
}

END
{
	clear(@start);
}
`,
  // struct sock is not modelled: addresses and ports come from the probe's arguments when the model passes them
  tcpconnect: `BEGIN
{
  printf("Tracing tcp connections. Hit Ctrl-C to end.\\n");
  printf("%-8s %-8s %-16s ", "TIME", "PID", "COMM");
  printf("%-39s %-6s %-39s %-6s\\n", "SADDR", "SPORT", "DADDR", "DPORT");
}

kprobe:tcp_connect
{
  time("%H:%M:%S ");
  printf("%-8d %-16s ", pid, comm);
  printf("%-39s %-6d %-39s %-6d\\n", ntop(arg1), arg2, ntop(arg3), arg4);
}
`,
  bashreadline: `BEGIN
{
	printf("Tracing bash commands... Hit Ctrl-C to end.\\n");
	printf("%-9s %-6s %s\\n", "TIME", "PID", "COMMAND");
}

uretprobe:/bin/bash:readline
{
	time("%H:%M:%S  ");
	printf("%-6d %s\\n", pid, str(retval));
}
`,
};
