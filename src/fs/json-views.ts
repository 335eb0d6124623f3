/**
 * Typed JSON forms of the structured pseudo files, parsed from the text the
 * kernel model rendered, so JSON and text can never disagree. Documented in
 * the OpenAPI description of the read routes.
 */
type Json = unknown;

const STAT_CPU_FIELDS = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'guest', 'guestNice'] as const;

/** proc(5) field names of /proc/<pid>/stat, in order. */
const PID_STAT_FIELDS = [
  'pid', 'comm', 'state', 'ppid', 'pgrp', 'session', 'ttyNr', 'tpgid', 'flags', 'minflt', 'cminflt', 'majflt', 'cmajflt',
  'utime', 'stime', 'cutime', 'cstime', 'priority', 'nice', 'numThreads', 'itrealvalue', 'starttime', 'vsize', 'rss',
  'rsslim', 'startcode', 'endcode', 'startstack', 'kstkesp', 'kstkeip', 'signal', 'blocked', 'sigignore', 'sigcatch',
  'wchan', 'nswap', 'cnswap', 'exitSignal', 'processor', 'rtPriority', 'policy', 'delayacctBlkioTicks', 'guestTime',
  'cguestTime', 'startData', 'endData', 'startBrk', 'argStart', 'argEnd', 'envStart', 'envEnd', 'exitCode',
] as const;

const num = (s: string): number | string => (/^-?\d+(\.\d+)?$/.test(s) && Number.isSafeInteger(Math.trunc(Number(s))) ? Number(s) : s);

export function jsonView(path: string, text: string): Json | undefined {
  const rel = path.startsWith('/proc/') ? path.slice('/proc/'.length) : undefined;
  if (rel === undefined) return undefined;
  if (rel === 'meminfo') return keyValueKb(text);
  if (rel === 'loadavg') return loadavg(text);
  if (rel === 'uptime') {
    const [up, idle] = text.trim().split(/\s+/).map(Number);
    return { uptimeSeconds: up, idleSeconds: idle };
  }
  if (rel === 'vmstat') return spaceKeyValue(text);
  if (rel === 'stat') return stat(text);
  if (rel === 'interrupts' || rel === 'softirqs') return interrupts(text);
  if (rel === 'buddyinfo') return buddyinfo(text);
  const pid = /^(\d+|self)\/(status|stat)$/.exec(rel);
  if (pid) return pid[2] === 'status' ? status(text) : pidStat(text);
  if (rel.startsWith('sys/')) {
    const v = text.replace(/\n$/, '');
    if (/^-?\d+$/.test(v)) return { value: num(v) };
    if (/^-?\d+([ \t]+-?\d+)+$/.test(v)) return { value: v.split(/\s+/).map(num) };
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

function spaceKeyValue(text: string): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.split(' ');
    if (k && v !== undefined) out[k] = num(v);
  }
  return out;
}

function loadavg(text: string): Json {
  const [a1, a5, a15, rt, last] = text.trim().split(/\s+/);
  const [running, total] = (rt ?? '0/0').split('/').map(Number);
  return { load1: Number(a1), load5: Number(a5), load15: Number(a15), running, total, lastPid: Number(last) };
}

function stat(text: string): Json {
  const cpus: Record<string, Record<string, number>> = {};
  const out: Record<string, unknown> = { cpus };
  for (const line of text.split('\n')) {
    const parts = line.trim().split(/\s+/);
    const key = parts[0];
    if (!key) continue;
    if (/^cpu\d*$/.test(key)) {
      const o: Record<string, number> = {};
      STAT_CPU_FIELDS.forEach((f, i) => (o[f] = Number(parts[i + 1] ?? 0)));
      if (key === 'cpu') out.cpu = o;
      else cpus[key] = o;
    } else if (key === 'intr' || key === 'softirq') {
      out[key] = { total: Number(parts[1]), counts: parts.slice(2).map(Number) };
    } else out[key] = Number(parts[1]);
  }
  return out;
}

function interrupts(text: string): Json {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const cpus = (lines[0] ?? '').trim().split(/\s+/);
  const rows = lines.slice(1).map((l) => {
    const m = /^\s*([^:]+):(.*)$/.exec(l);
    if (!m) return { irq: l.trim(), counts: [], description: '' };
    const rest = m[2].trim().split(/\s+/);
    const counts = rest.slice(0, cpus.length).filter((x) => /^\d+$/.test(x)).map(Number);
    return { irq: m[1].trim(), counts, description: rest.slice(counts.length).join(' ') };
  });
  return { cpus, rows };
}

function buddyinfo(text: string): Json {
  return text
    .split('\n')
    .filter((l) => l.startsWith('Node'))
    .map((l) => {
      const m = /^Node (\d+), zone\s+(\S+)\s+(.*)$/.exec(l);
      return m ? { node: Number(m[1]), zone: m[2], freeBlocksByOrder: m[3].trim().split(/\s+/).map(Number) } : { raw: l };
    });
}

function status(text: string): Json {
  const out: Record<string, unknown> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const k = line.slice(0, i);
    const v = line.slice(i + 1).trim();
    const kb = /^(\d+) kB$/.exec(v);
    out[k] = kb ? Number(kb[1]) : /^-?\d+$/.test(v) ? num(v) : v;
  }
  return out;
}

function pidStat(text: string): Json {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < 0) return undefined;
  const fields = [text.slice(0, open).trim(), text.slice(open + 1, close), ...text.slice(close + 1).trim().split(/\s+/)];
  const out: Record<string, number | string> = {};
  PID_STAT_FIELDS.forEach((f, i) => {
    if (fields[i] !== undefined) out[f] = f === 'comm' || f === 'state' ? fields[i] : num(fields[i]);
  });
  return out;
}
