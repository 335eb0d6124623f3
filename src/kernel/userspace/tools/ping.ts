import type { Syscalls } from '../../syscalls/syscalls';
import { KernelError } from '../../errors';
import { ShellAbort } from '../../shell/io';
import { traceRecvmsg, traceSendto } from '../../trace/paths/net';
import type { Co, ToolCtx, ToolSpec } from '../types';
import { kernelOf } from './common';

/**
 * ping (iputils-ping 20221126): ICMP echoes over a ping socket
 * (SOCK_DGRAM, IPPROTO_ICMP). Local destinations (127.0.0.0/8, names from
 * /etc/hosts) go over lo through the kernel model (counters, paths,
 * events); the machine has no route anywhere else.
 */
const AF_INET = 2;
const SOCK_DGRAM = 2;
const IPPROTO_ICMP = 1;
const MSG_DONTWAIT = 0x40;

function parseIp(s: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const b = m.slice(1).map(Number);
  return b.every((x) => x <= 255) ? b : undefined;
}

/** triptime (µs) as ping prints it */
function fmtTime(us: number): string {
  if (us >= 100000 - 50) return `${Math.floor((us + 500) / 1000)}`;
  if (us >= 10000 - 5) return `${Math.floor((us + 50) / 1000)}.${Math.floor(((us + 50) % 1000) / 100)}`;
  if (us >= 1000) return `${Math.floor((us + 5) / 1000)}.${String(Math.floor(((us + 5) % 1000) / 10)).padStart(2, '0')}`;
  return `${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, '0')}`;
}
const ms3 = (us: number): string => `${Math.floor(us / 1000)}.${String(us % 1000).padStart(3, '0')}`;

const mix = (x: number): number => {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
};

const ping = function* (ctx: ToolCtx): Co<number> {
  const err = (m: string): void => ctx.stderr.write(`ping: ${m}\n`);
  const k = kernelOf(ctx);
  const sys = (ctx.host as { sys?: Syscalls }).sys;
  if (!k || !sys) {
    err('the kernel is not reachable from this shell');
    return 2;
  }
  let count = Infinity;
  let interval = 1;
  let size = 56;
  let quiet = false;
  let numeric = false;
  let dest: string | undefined;
  const args = ctx.argv.slice(1);
  const num = (v: string | undefined, lo: number, hi: number, float = false, hiText = String(hi)): number | undefined => {
    const n = v !== undefined && (float ? /^\d*\.?\d+$/.test(v) : /^\d+$/.test(v)) ? Number(v) : NaN;
    if (!Number.isFinite(n)) {
      err(`invalid argument: '${v ?? ''}'`);
      return undefined;
    }
    if (n < lo || n > hi) {
      err(`invalid argument: '${v}': out of range: ${lo} <= value <= ${hiText}`);
      return undefined;
    }
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const m = /^-([ciWs])(.*)$/.exec(a);
    if (m) {
      const v = m[2] || args[++i];
      if (m[1] === 'c') {
        const n = num(v, 1, Number.MAX_SAFE_INTEGER, false, '9223372036854775807');
        if (n === undefined) return 1;
        count = n;
      } else if (m[1] === 's') {
        const n = num(v, 0, 65507);
        if (n === undefined) return 1;
        size = n;
      } else if (m[1] === 'i') {
        const n = num(v, 0, 2147483, true);
        if (n === undefined) return 1;
        if (n < 0.002 && ctx.host.uid !== 0) {
          err('cannot flood, minimal interval for user must be >= 2 ms, use -i 0.002 (or higher)');
          return 1;
        }
        interval = n;
      } else if (num(v, 0, 2147483, true) === undefined) return 1;
    } else if (a === '-q') quiet = true;
    else if (a === '-n') numeric = true;
    else if (a === '-4') continue;
    else if (a.startsWith('-') && a !== '-') {
      err(`invalid option -- '${a.slice(1, 2)}'`);
      return 2;
    } else dest = a;
  }
  if (dest === undefined) {
    err('usage error: Destination address required');
    return 1;
  }
  // resolution: numeric, else /etc/hosts (no DNS server reachable)
  let ip = parseIp(dest);
  let name: string | undefined;
  let hosts = '';
  try {
    hosts = ctx.host.readFile(ctx.pid, '/etc/hosts', '/');
  } catch {
    // no hosts file
  }
  const table = hosts
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim().split(/\s+/))
    .filter((f) => f.length >= 2 && parseIp(f[0]));
  if (!ip) {
    const hit = table.find((f) => f.slice(1).includes(dest as string));
    if (!hit) {
      err(`${dest}: Temporary failure in name resolution`);
      return 2;
    }
    ip = parseIp(hit[0]) as number[];
    name = hit[1];
  }
  const addr = ip.join('.');
  const pid = ctx.pid;
  const fd = k.sched.openFd(pid, `socket:[${20000 + k.net.allocIdent()}]`, 2);
  sys.record(pid, 'socket', [AF_INET, SOCK_DGRAM, IPPROTO_ICMP], fd);
  // the route probe: a UDP socket connected to the destination
  const probe = fd + 1;
  sys.record(pid, 'socket', [AF_INET, SOCK_DGRAM, 0], probe);
  if (ip[0] !== 127) {
    const e = k.net.noRoute();
    sys.record(pid, 'connect', [probe, 0x7ffc0000a000, 16], -e.errno);
    err(`connect: ${e.message}`);
    k.sched.closeFd(pid, fd);
    return 2;
  }
  sys.record(pid, 'connect', [probe, 0x7ffc0000a000, 16], 0);
  sys.record(pid, 'getsockname', [probe, 0x7ffc0000a000, 0x7ffc0000a010], 0);
  sys.record(pid, 'close', [probe], 0);
  sys.record(pid, 'setsockopt', [fd, 0, 11, 0x7ffc0000a020, 4], 0);
  sys.record(pid, 'setsockopt', [fd, 1, 29, 0x7ffc0000a020, 4], 0);
  const who = name && !numeric ? `${name} (${addr})` : addr;
  ctx.stdout.write(`PING ${name ? dest : addr} (${addr}) ${size}(${size + 28}) bytes of data.\n`);
  const rtts: number[] = [];
  let sent = 0;
  let start = 0;
  let last = 0;
  const summary = (): number => {
    const elapsed = Math.floor((last - start + 500_000) / 1_000_000);
    const loss = sent ? Math.floor(((sent - rtts.length) * 100) / sent) : 0;
    ctx.stdout.write(`\n--- ${name ? dest : addr} ping statistics ---\n${sent} packets transmitted, ${rtts.length} received, ${loss}% packet loss, time ${elapsed}ms\n`);
    if (rtts.length && size >= 16) {
      const n = rtts.length;
      const sum = rtts.reduce((s, x) => s + x, 0);
      const sum2 = rtts.reduce((s, x) => s + x * x, 0);
      const avg = Math.floor(sum / n);
      const mdev = Math.floor(Math.sqrt(Math.max(0, Math.floor(sum2 / n) - avg * avg)));
      ctx.stdout.write(`rtt min/avg/max/mdev = ${ms3(Math.min(...rtts))}/${ms3(avg)}/${ms3(Math.max(...rtts))}/${ms3(mdev)} ms\n`);
    }
    k.sched.closeFd(pid, fd);
    sys.record(pid, 'close', [fd], 0);
    return rtts.length ? 0 : 1;
  };
  try {
    for (let seq = 1; seq <= count; seq++) {
      ctx.tick();
      let ipLen: number;
      try {
        ipLen = k.net.loopbackEcho(size).ipLen;
      } catch (e) {
        if (!(e instanceof KernelError)) throw e;
        sys.record(pid, 'sendto', [fd, 0x5600000a0000, size + 8, 0, 0x7ffc0000a000, 16], -e.errno);
        err(`sendmsg: ${e.message}`);
        sent++;
        last = sys.nextNs;
        if (seq < count) yield* ctx.sleepUntil(Math.round(last + interval * 1e9));
        continue;
      }
      const echo = { pid, seq, ipLen };
      const s = traceSendto(k, sys, echo, [fd, 0x5600000a0000, size + 8, 0, 0x7ffc0000a000, 16], size + 8);
      if (seq === 1) start = s.start;
      sent++;
      const r = traceRecvmsg(k, sys, echo, [fd, 0x7ffc0000a100, 0], size + 8);
      sys.record(pid, 'recvmsg', [fd, 0x7ffc0000a100, MSG_DONTWAIT], -11);
      // SO_TIMESTAMP: the reply's arrival (netif_rx) minus the send time written into the payload
      const us = Math.max(1, Math.round((s.rxAt - s.start) / 1000) + 8 + (mix(pid * 131 + seq) % 12));
      rtts.push(us);
      last = r.end;
      if (!quiet) {
        const t = size >= 16 ? ` time=${fmtTime(us)} ms` : '';
        ctx.stdout.write(`${size + 8} bytes from ${who}: icmp_seq=${seq} ttl=64${t}\n`);
      }
      if (seq < count) {
        // the next echo: interval after this one's send, plus the wakeup latency of ping's poll()
        const wake = 400_000 + (mix(pid * 7 + seq) % 900_000);
        yield* ctx.sleepUntil(Math.round(s.start + interval * 1e9 + wake));
      }
    }
  } catch (e) {
    if (e instanceof ShellAbort && e.reason === 'interrupt') {
      last = Math.max(last, ctx.host.now());
      return summary();
    }
    throw e;
  }
  return summary();
};

export const PING_TOOLS: readonly ToolSpec[] = [{ name: 'ping', run: ping }];
