import { Kernel } from '../kernel';
import type { KernelDebugConfig } from '../types';
import { createShell } from './index';
import type { ShellLimits } from './shell';
import type { Shell } from './shell';
import type { KernelShellHost } from './host';

/**
 * Test helpers (used by the specs; pure like the rest of the kernel):
 * a booted machine with a shell whose cwd is a fresh work directory.
 */
export interface SimRun {
  stdout: string;
  stderr: string;
  status: number;
}

export const TEST_BOOT_EPOCH_MS = Date.UTC(2026, 0, 1, 0, 0, 0);

export function bootShell(
  opts: { files?: Record<string, string>; cwd?: string; limits?: Partial<ShellLimits>; mode?: 'c' | 'interactive'; hostname?: string; debug?: KernelDebugConfig } = {},
): {
  k: Kernel;
  shell: Shell;
  host: KernelShellHost;
} {
  const k = Kernel.boot({ cpus: 2, memoryMb: 512, seed: 'test', hostname: opts.hostname ?? 'vm', debug: opts.debug }, { bootEpochMs: TEST_BOOT_EPOCH_MS });
  const cwd = opts.cwd ?? '/tmp/w';
  const ctx = k.rootCtx();
  const mkdirp = (dir: string): void => {
    let cur = '';
    for (const p of dir.split('/').filter(Boolean)) {
      cur += '/' + p;
      try {
        k.vfs.resolve(ctx, cur);
      } catch {
        const r = k.vfs.resolveParent(ctx, cur);
        r.dir.mkdir?.(ctx, r.name, 0o755);
      }
    }
  };
  mkdirp(cwd);
  for (const [name, data] of Object.entries(opts.files ?? {})) {
    const path = name.startsWith('/') ? name : `${cwd}/${name}`;
    mkdirp(path.slice(0, path.lastIndexOf('/')));
    k.vfs.writeFile(ctx, path, data);
  }
  const { shell, host } = createShell(k, { cwd, limits: opts.limits, mode: opts.mode });
  return { k, shell, host };
}

/** Runs a script in a fresh machine (cwd /tmp/w holding `files`). */
export function sim(script: string, files: Record<string, string> = {}, limits?: Partial<ShellLimits>): SimRun {
  const { shell } = bootShell({ files, limits });
  const r = shell.exec(script);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}
