import type { Loc } from './ast';

export interface Diagnostic {
  severity: 'ERROR' | 'WARNING';
  message: string;
  /** absent for unlocated messages (`ERROR: msg`) */
  loc?: Loc;
}

/** Renders diagnostics exactly as bpftrace 0.17's log.cpp: `stdin:L:C-C: ERROR: msg`, source line, underline. */
export function formatDiagnostic(d: Diagnostic, source: string, file = 'stdin'): string {
  if (!d.loc) return `${d.severity}: ${d.message}\n`;
  const { line, col, endCol, endLine } = d.loc;
  let out = `${file}:${line}:${col}-${endCol}: ${d.severity}: ${d.message}\n`;
  const lines = source.split('\n');
  const text = lines[line - 1] ?? '';
  out += text + '\n';
  const width = endLine === line ? Math.max(0, endCol - col) : Math.max(0, text.length - col + 1);
  out += width > 0 ? ' '.repeat(Math.max(0, col - 1)) + '~'.repeat(width) + '\n' : '\n';
  return out;
}

export function formatDiagnostics(ds: Diagnostic[], source: string, file = 'stdin'): string {
  return ds.map((d) => formatDiagnostic(d, source, file)).join('');
}
