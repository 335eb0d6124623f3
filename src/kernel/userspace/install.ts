import type { Kernel } from '../kernel';
import { TOOL_MAGIC } from '../shell/host';
import type { ToolTable } from './types';

/**
 * Installs the userspace into a machine's root filesystem: an executable
 * stub per tool (/usr/bin/NAME, mode 0755, "\x7fELF kernelab-tool NAME")
 * that the shell's exec recognises, /bin -> usr/bin style links where the
 * directories are empty, and the /dev nodes every shell needs (/dev/null,
 * /dev/zero, /dev/full, /dev/random, /dev/urandom, /dev/tty) and the boot
 * disk's block device nodes (/dev/vda, /dev/vda1).
 *
 * Idempotent: existing files are left alone. Hook for the fs owner: the
 * rootfs builder could call this at boot instead of the shell host.
 */
export function installUserspace(k: Kernel, tools: ToolTable): void {
  const root = k.memFs('rootfs');
  const ctx = k.rootCtx(0);
  const exists = (p: string): boolean => {
    try {
      k.vfs.resolve(ctx, p, { follow: false });
      return true;
    } catch {
      return false;
    }
  };
  if (root) {
    for (const t of tools.list()) {
      const dir = (t.dir ?? '/usr/bin').replace(/^\/+/, '');
      const path = `/${dir}/${t.name}`;
      if (!exists(path)) root.writeFile(`${dir}/${t.name}`, `${TOOL_MAGIC}${t.name}\n`, 0o755);
    }
    if (!exists('/usr/bin/bash')) root.writeFile('usr/bin/bash', `${TOOL_MAGIC}bash\n`, 0o755);
    // sh is bash here; with merged /usr (/bin -> usr/bin) the link lives in /usr/bin
    if (!exists('/usr/bin/sh')) root.addSymlink('usr/bin/sh', 'bash');
    for (const [p, target] of [
      ['bin/bash', '/usr/bin/bash'],
      ['bin/sh', '/usr/bin/bash'],
    ] as const) {
      if (!exists('/' + p)) root.addSymlink(p, target);
    }
  }
  const dev = k.memFs('devtmpfs');
  if (dev) {
    const nodes: [string, number, number, number][] = [
      ['null', 1, 3, 0o666],
      ['zero', 1, 5, 0o666],
      ['full', 1, 7, 0o666],
      ['random', 1, 8, 0o666],
      ['urandom', 1, 9, 0o666],
      ['tty', 5, 0, 0o666],
    ];
    for (const [name, major, minor, mode] of nodes) {
      if (!exists(`/dev/${name}`)) dev.addDevice(name, 'c', major, minor, mode);
    }
    // the boot disk and its partitions (devtmpfs creates a node per registered block device)
    for (const [name, minor] of [['vda', 0], ['vda1', 1]] as const) {
      if (!exists(`/dev/${name}`)) dev.addDevice(name, 'b', 254, minor, 0o660);
    }
  }
}
