import { ToolTable, type ToolSpec } from '../types';
import { AWK_TOOLS } from './awk';
import { BPFTRACE_TOOLS } from './bpftrace';
import { FILE_TOOLS } from './files';
import { GREP_TOOLS } from './grep';
import { PROCPS_TOOLS } from './procps';
import { SED_TOOLS } from './sed';
import { STRESS_TOOLS } from './stress';
import { SYS_TOOLS } from './sys';
import { TEXT_TOOLS } from './text';
import { TRACECMD_TOOLS } from './tracecmd';
import { PERF_TOOLS } from './perf';
import { UTIL_LINUX_TOOLS } from './utillinux';
import { KMOD_TOOLS } from './kmod';
import { PING_TOOLS } from './ping';

/**
 * The tool table: name -> implementation. Each machine's shell gets its own
 * table (no module-level mutable state); subsystems add their tools with
 * `table.register({ name, dir, run })` (ps, free, dmesg, sysctl... belong to
 * the subsystems that feed them).
 */
export const CORE_TOOLS: readonly ToolSpec[] = [...TEXT_TOOLS, ...FILE_TOOLS, ...SYS_TOOLS, ...GREP_TOOLS, ...SED_TOOLS, ...AWK_TOOLS, ...BPFTRACE_TOOLS, ...PROCPS_TOOLS, ...TRACECMD_TOOLS, ...PERF_TOOLS, ...UTIL_LINUX_TOOLS, ...STRESS_TOOLS, ...KMOD_TOOLS, ...PING_TOOLS];

export function defaultToolTable(extra: readonly ToolSpec[] = []): ToolTable {
  return new ToolTable().registerAll(CORE_TOOLS).registerAll(extra);
}

export { ToolTable };
export type { ToolSpec };
