/**
 * What the syscall layer (src/kernel/syscalls) reports about each system
 * call a userspace task makes, after it ran. The tracing code turns it into
 * everything a real kernel would show for that call: raw_syscalls and
 * syscalls:sys_enter_<name>/sys_exit_<name> events, the function call path
 * (entry_SYSCALL_64 -> do_syscall_64 -> __x64_sys_<name> -> ... -> the
 * filesystem's handler) for the function and function_graph tracers, and
 * kprobe/tracepoint firings on the probe bus.
 */
export interface SyscallRecord {
  /** syscall name without prefix: read, write, openat, close, mmap, clone, execve, exit_group, wait4, nanosleep, ... */
  name: string;
  /** x86_64 syscall number */
  nr: number;
  /** the six argument registers as the task passed them (pointers as fake user addresses) */
  args: readonly number[];
  /** return value (negative errno on failure) */
  ret: number;
  /** path argument, for syscalls that take one (openat, execve, stat, unlink, ...) */
  path?: string;
  /** filesystem type of the file operated on (proc, sysfs, tmpfs, ext4, devtmpfs, tracefs, ...) */
  fstype?: string;
  /** bytes moved (read/write) */
  bytes?: number;
  /** virtual ns when the call entered and how long it took */
  startNs: number;
  durNs: number;
}
