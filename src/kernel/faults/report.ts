/**
 * The pieces every x86_64 Linux 6.1 fault report is made of, in the formats
 * of arch/x86/kernel/dumpstack.c, process_64.c, kernel/panic.c and
 * lib/dump_stack.c: the taint string, the "CPU: .. PID: .." line, register
 * dumps (kernel and user mode), Code: bytes, call traces with module
 * symbols, "Modules linked in:". Values come from the model (tasks, loaded
 * modules, KASLR) and from the caller's seeded rng.
 */
import type { Kernel } from '../kernel';
import { KERNEL_RELEASE, KERNEL_VERSION_STRING } from '../types';
import type { Rng } from '../util/rng';

export const HARDWARE_NAME = 'QEMU Standard PC (i440FX + PIIX, 1996), BIOS 1.16.2-debian-1.16.2-1 04/01/2014';

/** taint_flags[] of 6.1 (TAINT_FLAGS_COUNT = 19): the letter of each set bit. */
export const TAINT_CHARS = 'PFSRMBUDAWCIOELKXTN';
export const TAINT_BIT = {
  PROPRIETARY_MODULE: 0,
  BAD_PAGE: 5,
  DIE: 7,
  WARN: 9,
  OOT_MODULE: 12,
  UNSIGNED_MODULE: 13,
} as const;

/** print_tainted(): "Not tainted" or "Tainted: G        W  OE     ". */
export function printTainted(mask: number): string {
  if (!mask) return 'Not tainted';
  let s = 'Tainted: ';
  for (let i = 0; i < TAINT_CHARS.length; i++) {
    const set = (mask >>> i) & 1;
    s += set ? TAINT_CHARS[i] : i === 0 ? 'G' : ' ';
  }
  return s;
}

/** The compact form of the taint (set letters only, "G" when clean), for crash records. */
export function taintLetters(mask: number): string {
  let s = '';
  for (let i = 0; i < TAINT_CHARS.length; i++) if ((mask >>> i) & 1) s += TAINT_CHARS[i];
  return s || 'G';
}

/** "#1": init_utsname()->version up to the first space. */
export function versionShort(): string {
  return KERNEL_VERSION_STRING.split(' ')[0];
}

/** "6.1.0-56-amd64 #1  Debian 6.1.192-2": what Debian's dump_stack_print_info prints after the taint. */
export function buildTag(): string {
  const deb = /Debian (\S+)/.exec(KERNEL_VERSION_STRING)?.[1];
  return `${KERNEL_RELEASE} ${versionShort()}${deb ? `  Debian ${deb}` : ''}`;
}

/** dump_stack_print_info(): "CPU: 1 PID: 120 Comm: insmod Tainted: ... 6.1.0-56-amd64 #1  Debian 6.1.192-2". */
export function cpuLine(cpu: number, pid: number, comm: string, taint: number): string {
  return `CPU: ${cpu} PID: ${pid} Comm: ${comm.slice(0, 20)} ${printTainted(taint)} ${buildTag()}`;
}

export const h16 = (v: bigint | number): string => BigInt.asUintN(64, BigInt(v)).toString(16).padStart(16, '0');

/** FNV-1a of a string: stable per-symbol values (sizes, offsets, code bytes). */
export function hashStr(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A small deterministic stream from a string (for symbol-stable bytes). */
function* byteStream(seed: string): Generator<number> {
  let h = hashStr(seed) || 1;
  for (;;) {
    h ^= h << 13;
    h >>>= 0;
    h ^= h >>> 17;
    h ^= h << 5;
    h >>>= 0;
    yield h & 0xff;
  }
}

/** Per-boot addresses of the randomised kernel regions (KASLR), as hex strings in the state. */
export interface AddressSpace {
  /** page_offset_base (direct map) */
  pageOffset: string;
  /** vmalloc_base (kernel stacks live there) */
  vmalloc: string;
  /** vmemmap_base (struct pages) */
  vmemmap: string;
}

export function newAddressSpace(r: Rng): AddressSpace {
  // randomize_memory(): 1 GiB (PUD) aligned regions
  const po = 0xffff888000000000n + BigInt(r.int(0, 0x7ff)) * 0x40000000n;
  const vm = 0xffffc90000000000n + BigInt(r.int(0, 0x3fff)) * 0x40000000n;
  const vmm = 0xffffea0000000000n + BigInt(r.int(0, 0x3f)) * 0x40000000n;
  return { pageOffset: po.toString(16), vmalloc: vm.toString(16), vmemmap: vmm.toString(16) };
}

export const MODULES_VADDR = 0xffffffffc0000000n;
export const TEXT_BASE = 0xffffffff81000000n;

/** The kernel image's load address this boot. */
export function kernelText(k: Kernel): bigint {
  return TEXT_BASE + BigInt(k.devices.boot.kaslr) * 0x200000n;
}

/** "Kernel Offset: 0x31a00000 from 0xffffffff81000000 (relocation range: ...)" */
export function kernelOffsetLine(k: Kernel): string {
  return `Kernel Offset: 0x${(BigInt(k.devices.boot.kaslr) * 0x200000n).toString(16)} from 0xffffffff81000000 (relocation range: 0xffffffff80000000-0xffffffffbfffffff)`;
}

/** A symbol of a module: its size and the offset the fault happens at. */
export interface ModSym {
  module: string;
  fn: string;
  off: number;
  size: number;
  /** absolute address of the symbol */
  addr: bigint;
}

/** Where `fn` of `module` lies and the offset of the faulting instruction (stable per symbol). */
export function moduleSym(k: Kernel, module: string, fn: string, salt = ''): ModSym {
  const base = moduleBase(k, module);
  const h = hashStr(`${module}:${fn}`);
  const init = /_init$/.test(fn);
  const size = init ? 0x1000 : 0x1c + (h % 0x1e4);
  const h2 = hashStr(`${module}:${fn}:${salt}`);
  const off = Math.min(size - 4, 0x10 + (h2 % Math.max(1, Math.min(size, 0xa0) - 0x10)));
  // the module's functions in .text order: the first one sits at the start of the core
  const addr = init ? initArea(k, module) : base + BigInt((h >>> 8) % 0x40) * 0x10n;
  return { module, fn, off, size, addr };
}

/** Where a module's core (its .text) starts. */
export function moduleBase(k: Kernel, module: string): bigint {
  const m = k.modules.find(module);
  return MODULES_VADDR + BigInt(m ? m.base : 0x600000);
}

/** The module's init area (freed after init; unwinders show it as "? 0xffffffffc05d4000"). */
export function initArea(k: Kernel, module: string): bigint {
  const m = k.modules.find(module);
  const base = moduleBase(k, module);
  const size = BigInt(m ? m.size : 0x4000);
  return ((base + size + 0x3fffn) & ~0xfffn) + 0x1000n;
}

/** "%pS" of a module symbol: "krefcrash_init+0x3f/0x1000 [krefcrash]". */
export function symStr(s: ModSym, off = s.off): string {
  return `${s.fn}+0x${off.toString(16)}/0x${s.size.toString(16)} [${s.module}]`;
}

/** The instruction at RIP of a fault, as the Code: line shows it. */
export type FaultInsn = 'ud2' | 'store' | 'load' | 'call';
const INSN: Record<FaultInsn, number[]> = {
  ud2: [0x0f, 0x0b],
  store: [0xc7, 0x00, 0x2a, 0x00, 0x00, 0x00],
  load: [0x48, 0x8b, 0x00],
  call: [0xe8, 0x6c, 0x3b, 0x8a, 0xf9],
};

/** "Code: 24 3e ... <0f> 0b eb 2f ..." (42 bytes before RIP, the instruction, 21 after). */
export function codeLine(sym: ModSym, insn: FaultInsn): string {
  const g = byteStream(`${sym.module}:${sym.fn}:code`);
  const before: string[] = [];
  for (let i = 0; i < 42; i++) before.push(hx(g.next().value as number));
  const ins = INSN[insn];
  const after: string[] = ins.slice(1).map(hx);
  while (after.length < 21) after.push(hx(g.next().value as number));
  return `Code: ${before.join(' ')} <${hx(ins[0])}> ${after.join(' ')}`;
}

const hx = (b: number): string => b.toString(16).padStart(2, '0');

/** The user-mode libc syscall instruction of the reference (GNU libc syscall(): `0f 05 <48> 3d 01 f0 ff ff`). */
const USER_CODE =
  'Code: 08 89 e8 5b 5d c3 66 2e 0f 1f 84 00 00 00 00 00 90 48 89 f8 48 89 f7 48 89 d6 48 89 ca 4d 89 c2 4d 89 c8 4c 8b 4c 24 08 0f 05 <48> 3d 01 f0 ff ff 73 01 c3 48 8b 0d a7 15 0d 00 f7 d8 64 89 01 48';

/** A task's user-mode address-space anchors (stable per process). */
export interface UserAnchors {
  libc: bigint;
  stack: bigint;
  heap: bigint;
}

export function userAnchors(k: Kernel, pid: number): UserAnchors {
  const t = k.sched.task(pid);
  const aslr = (t ? k.sched.proc(t.tgid)?.aslr : undefined) ?? hashStr(`${k.config.seed}:${pid}`);
  const r = aslr >>> 0;
  return {
    libc: 0x7f0000000000n + BigInt(r % 0xfffff) * 0x1000n,
    stack: 0x7ffc00000000n + BigInt((r >>> 3) % 0x3ffffff) * 0x10n,
    heap: 0x555500000000n + BigInt(r % 0xffffff) * 0x1000n,
  };
}

/** __show_regs() of a task in a syscall (the user half of a trace). */
export function userRegs(k: Kernel, pid: number, origRax: number, arg: { rdi?: number; rdx?: number } = {}): string[] {
  const a = userAnchors(k, pid);
  const rip = a.libc + 0xf7829n;
  const sp = a.stack;
  const buf = a.heap + 0x2a0n;
  return [
    `RIP: 0033:0x${rip.toString(16)}`,
    USER_CODE,
    `RSP: 002b:${h16(sp)} EFLAGS: 00000246 ORIG_RAX: ${h16(origRax)}`,
    `RAX: ffffffffffffffda RBX: ${h16(a.heap + 0x780n)} RCX: ${h16(rip)}`,
    `RDX: ${h16(arg.rdx ?? 0)} RSI: ${h16(buf)} RDI: ${h16(arg.rdi ?? 3)}`,
    `RBP: ${h16(buf)} R08: 0000000000000000 R09: 0000000000000000`,
    `R10: 0000000000000003 R11: 0000000000000246 R12: 0000000000000000`,
    `R13: 0000000000000000 R14: ${h16(a.heap + 0x420n)} R15: ${h16(buf)}`,
  ];
}

/** The general-purpose registers of a kernel-mode fault (RSP..R15), from the rng. */
export interface KernelRegs {
  rip: string;
  code: string;
  lines: string[];
}

export function kernelRegs(
  k: Kernel,
  r: Rng,
  as: AddressSpace,
  ripSym: string,
  code: string,
  opts: { rax?: bigint; rdi?: bigint; rsi?: bigint } = {},
): KernelRegs {
  const po = BigInt('0x' + as.pageOffset);
  const stackBase = BigInt('0x' + as.vmalloc) + BigInt(r.int(0x100, 0xfff)) * 0x4000n;
  const rsp = stackBase + 0x3000n + BigInt(r.int(0x20, 0x3f0)) * 0x8n;
  const obj = (): bigint => po + BigInt(r.int(0x1000, 0x1ffff)) * 0x10n + BigInt(r.int(0, 7)) * 0x1000000n;
  const rbx = obj();
  const text = kernelText(k);
  const lines = [
    `RSP: 0018:${h16(rsp)} EFLAGS: ${opts.rax !== undefined ? '00010246' : '00000246'}`,
    `RAX: ${h16(opts.rax ?? 0n)} RBX: ${h16(rbx)} RCX: c0000000ffffefff`,
    `RDX: 0000000000000000 RSI: ${h16(opts.rsi ?? MODULES_VADDR + BigInt(r.int(0x100000, 0x7fffff)))} RDI: ${h16(opts.rdi ?? rbx)}`,
    `RBP: ${h16(obj())} R08: 0000000000000000 R09: ${h16(rsp - 0x158n)}`,
    `R10: 0000000000000003 R11: ${h16(text + 0x3ad4448n)} R12: ${h16(rsp + 0x20n)}`,
    `R13: 0000000000000000 R14: 0000000000000000 R15: 0000000000000000`,
  ];
  return { rip: `RIP: 0010:${ripSym}`, code, lines };
}

/** FS/GS/CS/CR lines of __show_regs(SHOW_REGS_ALL) for the current task and CPU. */
export function controlRegs(k: Kernel, as: AddressSpace, pid: number, cpu: number, cr2: bigint, user: boolean): string[] {
  const po = BigInt('0x' + as.pageOffset);
  const memTop = BigInt(k.config.memoryMb) * 0x100000n;
  const gs = po + ((memTop - 0x1400000n) & ~0xfffffn) + BigInt(cpu) * 0x100000n;
  const fs = user ? userAnchors(k, pid).libc - 0x1027c0n + 0x40n : 0n;
  const cr3 = 0x11000000n + BigInt(hashStr(`cr3:${pid}`) % 0x1000) * 0x1000n;
  return [
    `FS:  ${h16(fs)}(0000) GS:${h16(gs)}(0000) knlGS:0000000000000000`,
    'CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033',
    `CR2: ${h16(cr2)} CR3: ${h16(cr3)} CR4: ${cpu === 0 ? '0000000000750ef0' : '0000000000750ee0'}`,
    'PKRU: 55555554',
  ];
}

/** print_modules(): "Modules linked in: a(OE+) b c [last unloaded: x(OE)]". */
export function modulesLinkedIn(k: Kernel, lastUnloaded?: string): string {
  let s = 'Modules linked in:';
  for (const m of k.modules.list()) {
    const t = k.modules.taintString(m);
    const st = m.state === 'going' ? '-' : m.state === 'coming' ? '+' : '';
    s += ` ${m.name}${t || st ? `(${t}${st})` : ''}`;
  }
  if (lastUnloaded) s += ` [last unloaded: ${lastUnloaded}]`;
  return s;
}

/** "? " frames the unwinder finds on the stack below do_syscall_64 (stale return addresses). */
const SYSCALL_NOISE = ['? exit_to_user_mode_prepare+0x44/0x240', '? syscall_exit_to_user_mode+0x1e/0x40', '? do_syscall_64+0x69/0xb0'];

export function syscallNoise(r: Rng): string[] {
  const n = r.int(0, 2);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(...SYSCALL_NOISE);
  if (r.int(0, 1)) out.push('? exit_to_user_mode_prepare+0x44/0x240');
  return out;
}

/** The kernel frames of the syscall path above a file read/write handler. */
export function fileOpFrames(path: string, write: boolean): string[] {
  if (path.startsWith('/sys/kernel/debug/')) {
    return write
      ? ['full_proxy_write+0x5c/0x80', 'vfs_write+0xc7/0x3f0', 'ksys_write+0x6b/0xf0']
      : ['full_proxy_read+0x5c/0x80', 'vfs_read+0xa8/0x2a0', 'ksys_read+0x6b/0xf0'];
  }
  if (path.startsWith('/sys/')) {
    return write
      ? ['kernfs_fop_write_iter+0x11c/0x1f0', 'vfs_write+0x2a8/0x3f0', 'ksys_write+0x6b/0xf0']
      : ['sysfs_kf_seq_show+0xa3/0x100', 'seq_read_iter+0x12f/0x4b0', 'vfs_read+0x202/0x2a0', 'ksys_read+0x6b/0xf0'];
  }
  return write
    ? ['proc_reg_write+0x56/0xa0', 'vfs_write+0xc7/0x3f0', 'ksys_write+0x6b/0xf0']
    : ['proc_reg_read+0x56/0xa0', 'vfs_read+0xa8/0x2a0', 'ksys_read+0x6b/0xf0'];
}
