/**
 * Typed JSON forms of structured pseudo files. Parsed from the rendered text
 * so JSON and text can never disagree.
 */
export function jsonView(path: string, text: string): unknown {
  const rel = path.replace(/^\/proc\//, '');
  if (rel === 'meminfo') return keyValueKb(text);
  if (rel === 'loadavg') {
    const [a1, a5, a15, rt, last] = text.trim().split(/\s+/);
    const [running, total] = rt.split('/').map(Number);
    return { load1: Number(a1), load5: Number(a5), load15: Number(a15), running, total, lastPid: Number(last) };
  }
  if (rel === 'uptime') {
    const [up, idle] = text.trim().split(/\s+/).map(Number);
    return { uptimeSeconds: up, idleSeconds: idle };
  }
  if (rel === 'vmstat') {
    const out: Record<string, number> = {};
    for (const line of text.split('\n')) {
      const [k, v] = line.split(' ');
      if (k && v !== undefined) out[k] = Number(v);
    }
    return out;
  }
  if (path.startsWith('/proc/sys/')) {
    const v = text.replace(/\n$/, '');
    if (/^-?\d+$/.test(v)) return { value: Number(v) };
    if (/^-?\d+(\s+-?\d+)+$/.test(v)) return { value: v.split(/\s+/).map(Number) };
    return { value: v };
  }
  return undefined;
}

function keyValueKb(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)(?: kB)?$/.exec(line);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}
