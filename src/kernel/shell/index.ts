import type { Kernel } from '../kernel';
import { installUserspace } from '../userspace/install';
import { defaultToolTable } from '../userspace/tools';
import type { ToolSpec } from '../userspace/types';
import { KernelShellHost, type KernelShellHostOptions } from './host';
import { Shell, type ShellOptions } from './shell';

export * from './ast';
export * from './host';
export { Parser, ShellSyntaxError, DEFAULT_PARSE_LIMITS, type ParseLimits } from './parser';
export * from './shell';
export { Tty, type TtyState } from './tty';

/**
 * A shell on a kernel: a KernelShellHost, the default tools (plus `extraTools`),
 * installed into the machine's filesystem.
 */
export function createShell(
  k: Kernel,
  opts: Partial<Omit<ShellOptions, 'host' | 'tools'>> & { host?: KernelShellHostOptions; extraTools?: ToolSpec[] } = {},
): { shell: Shell; host: KernelShellHost } {
  const host = new KernelShellHost(k, opts.host);
  const tools = defaultToolTable(opts.extraTools);
  installUserspace(k, tools);
  const shell = new Shell({ ...opts, host, tools });
  return { shell, host };
}
