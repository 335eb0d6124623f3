import type { Kernel } from '../kernel';
import { type DirTable, pfile } from '../fs/vnode';

/** The one console of the machine: the 8250 UART ttyS0 (console=ttyS0), tty major 4, minor 64. */
const CONSOLES = [{ name: 'ttyS', index: 0, read: false, write: true, unblank: false, flags: 'EC p a', major: 4, minor: 64 }] as const;

/** /proc/consoles (show_console_dev): name+index padded to 20, R/W/U, the flag letters, the tty device. */
export function renderConsoles(): string {
  return CONSOLES.map(
    (c) =>
      `${`${c.name}${c.index}`.padEnd(20)} ${c.read ? 'R' : '-'}${c.write ? 'W' : '-'}${c.unblank ? 'U' : '-'} (${c.flags}) ${String(c.major).padStart(4)}:${c.minor}\n`,
  ).join('');
}

/** /proc entries owned by the printk subsystem (merged into the procfs table). */
export function printkProcEntries(_k: Kernel): DirTable {
  return {
    consoles: pfile(renderConsoles),
  };
}
