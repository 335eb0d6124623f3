export type { AttachPoint, Expr, Loc, Probe, Program, Stmt } from './ast';
export { type Diagnostic, formatDiagnostic, formatDiagnostics } from './diagnostics';
export { type BpftraceResult, type BpftraceSession, listProbes, type RunOptions, runBpftrace, type TimerProbe } from './driver';
export { parse, type ParseResult } from './parser';
export { DEFAULT_LIMITS, type FiringContext, type Limits, type ProbeHost, strftime } from './runtime';
export { analyse, type ExpandedProbe, type SemanticOptions, type SemanticResult } from './semantic';
export { HW_EVENTS, KernelBpftraceRun, type KernelRunOptions, kernelProbeHost, kernelProbeList, listKernelProbes, resolveKernelProbes, SW_EVENTS } from './kernel-host';
export { activeRuns, type BpftraceRunHandle, getRun, listRunProbes, type MapSnapshot, type OutputChunk, runFor, type RunStatus, type StartRunOptions, startRun } from './service';
export { fireBashReadline } from './uprobes';
