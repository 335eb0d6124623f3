/**
 * The x86_64 system calls the model knows the arguments of (SYSCALL_DEFINE
 * declarations of Linux 6.1): the fields of syscalls:sys_enter_<name>.
 */
export const SYSCALL_ARGS: Record<string, readonly string[]> = {
  read: ['unsigned int fd', 'char * buf', 'size_t count'],
  write: ['unsigned int fd', 'const char * buf', 'size_t count'],
  open: ['const char * filename', 'int flags', 'umode_t mode'],
  openat: ['int dfd', 'const char * filename', 'int flags', 'umode_t mode'],
  close: ['unsigned int fd'],
  newstat: ['const char * filename', 'struct stat * statbuf'],
  newfstat: ['unsigned int fd', 'struct stat * statbuf'],
  newfstatat: ['int dfd', 'const char * filename', 'struct stat * statbuf', 'int flag'],
  lseek: ['unsigned int fd', 'off_t offset', 'unsigned int whence'],
  mmap: ['unsigned long addr', 'unsigned long len', 'unsigned long prot', 'unsigned long flags', 'unsigned long fd', 'unsigned long off'],
  mprotect: ['unsigned long start', 'size_t len', 'unsigned long prot'],
  munmap: ['unsigned long addr', 'size_t len'],
  brk: ['unsigned long brk'],
  rt_sigaction: ['int sig', 'const struct sigaction * act', 'struct sigaction * oact', 'size_t sigsetsize'],
  rt_sigprocmask: ['int how', 'sigset_t * nset', 'sigset_t * oset', 'size_t sigsetsize'],
  ioctl: ['unsigned int fd', 'unsigned int cmd', 'unsigned long arg'],
  pread64: ['unsigned int fd', 'char * buf', 'size_t count', 'loff_t pos'],
  pwrite64: ['unsigned int fd', 'const char * buf', 'size_t count', 'loff_t pos'],
  access: ['const char * filename', 'int mode'],
  pipe2: ['int * fildes', 'int flags'],
  dup: ['unsigned int fildes'],
  dup2: ['unsigned int oldfd', 'unsigned int newfd'],
  dup3: ['unsigned int oldfd', 'unsigned int newfd', 'int flags'],
  nanosleep: ['struct __kernel_timespec * rqtp', 'struct __kernel_timespec * rmtp'],
  clock_nanosleep: ['const clockid_t which_clock', 'int flags', 'const struct __kernel_timespec * rqtp', 'struct __kernel_timespec * rmtp'],
  getpid: [],
  socket: ['int family', 'int type', 'int protocol'],
  connect: ['int fd', 'struct sockaddr * uservaddr', 'int addrlen'],
  getsockname: ['int fd', 'struct sockaddr * usockaddr', 'int * usockaddr_len'],
  sendto: ['int fd', 'void * buff', 'size_t len', 'unsigned int flags', 'struct sockaddr * addr', 'int addr_len'],
  recvmsg: ['int fd', 'struct user_msghdr * msg', 'unsigned int flags'],
  setsockopt: ['int fd', 'int level', 'int optname', 'char * optval', 'int optlen'],
  getppid: [],
  clone: ['unsigned long clone_flags', 'unsigned long newsp', 'int * parent_tidptr', 'int * child_tidptr', 'unsigned long tls'],
  fork: [],
  vfork: [],
  execve: ['const char * filename', 'const char *const * argv', 'const char *const * envp'],
  exit: ['int error_code'],
  exit_group: ['int error_code'],
  wait4: ['pid_t upid', 'int * stat_addr', 'int options', 'struct rusage * ru'],
  kill: ['pid_t pid', 'int sig'],
  uname: ['struct new_utsname * name'],
  fcntl: ['unsigned int fd', 'unsigned int cmd', 'unsigned long arg'],
  getdents64: ['unsigned int fd', 'struct linux_dirent64 * dirent', 'unsigned int count'],
  getcwd: ['char * buf', 'unsigned long size'],
  chdir: ['const char * filename'],
  mkdirat: ['int dfd', 'const char * pathname', 'umode_t mode'],
  unlinkat: ['int dfd', 'const char * pathname', 'int flag'],
  finit_module: ['int fd', 'const char * uargs', 'int flags'],
  init_module: ['void * umod', 'unsigned long len', 'const char * uargs'],
  delete_module: ['const char * name_user', 'unsigned int flags'],
  setpgid: ['pid_t pid', 'pid_t pgid'],
  setsid: [],
  sched_yield: [],
};

/** Argument field names of a syscall's sys_enter event ([] when unknown). */
export function syscallArgNames(name: string): readonly string[] {
  const a = SYSCALL_ARGS[name];
  if (!a) return [];
  return a.map((d) => /([A-Za-z_][A-Za-z0-9_]*)$/.exec(d)?.[1] ?? d);
}
