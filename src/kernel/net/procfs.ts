/**
 * /proc/net (the files of the machine's one network namespace) rendered from
 * the network model: dev (dev_seq_show) and snmp (snmp_seq_show_ipstats,
 * icmp_put, icmpmsg_put, then the Tcp/Udp/UdpLite tables).
 */
import type { Kernel } from '../kernel';
import { type DirTable, pdir, pfile } from '../fs/vnode';
import { ICMP_ECHO, ICMP_ECHOREPLY, IP_MIB } from './net';

const w = (n: number, width: number): string => String(n).padStart(width, ' ');

/** /proc/net/dev: one line per interface in ifindex order. */
export function renderNetDev(k: Kernel): string {
  let out =
    'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
  for (const d of k.devices.netdevs()) {
    const s = k.devices.netStats(d.name);
    const cols = [
      [s.rx_bytes, 7],
      [s.rx_packets, 7],
      [s.rx_errors, 4],
      [s.rx_dropped + s.rx_missed_errors, 4],
      [s.rx_fifo_errors, 4],
      [s.rx_length_errors + s.rx_over_errors + s.rx_crc_errors + s.rx_frame_errors, 5],
      [s.rx_compressed, 10],
      [s.multicast, 9],
      [s.tx_bytes, 8],
      [s.tx_packets, 7],
      [s.tx_errors, 4],
      [s.tx_dropped, 4],
      [s.tx_fifo_errors, 4],
      [s.collisions, 5],
      [s.tx_carrier_errors + s.tx_aborted_errors + s.tx_window_errors + s.tx_heartbeat_errors, 7],
      [s.tx_compressed, 10],
    ] as const;
    out += `${d.name.padStart(6, ' ')}: ${cols.map(([v, n]) => w(v, n)).join(' ')}\n`;
  }
  return out;
}

/** The Icmp columns backed by IcmpMsg types (icmpmibmap order), In then Out. */
const ICMP_TYPES: readonly [string, number][] = [
  ['DestUnreachs', 3],
  ['TimeExcds', 11],
  ['ParmProbs', 12],
  ['SrcQuenchs', 4],
  ['Redirects', 5],
  ['Echos', ICMP_ECHO],
  ['EchoReps', ICMP_ECHOREPLY],
  ['Timestamps', 13],
  ['TimestampReps', 14],
  ['AddrMasks', 17],
  ['AddrMaskReps', 18],
];

function sysctlNum(k: Kernel, path: string, dflt: number): number {
  try {
    const v = Number(k.sysctl.get(path));
    return Number.isFinite(v) ? v : dflt;
  } catch {
    return dflt;
  }
}

/** /proc/net/snmp */
export function renderSnmp(k: Kernel): string {
  const n = k.net;
  const forwarding = sysctlNum(k, 'net/ipv4/ip_forward', 0) ? 1 : 2;
  const ttl = sysctlNum(k, 'net/ipv4/ip_default_ttl', 64);
  const pair = (tag: string, names: string[], vals: (number | string)[]): string => `${tag}: ${names.join(' ')}\n${tag}: ${vals.join(' ')}\n`;
  let out = pair('Ip', ['Forwarding', 'DefaultTTL', ...IP_MIB], [forwarding, ttl, ...IP_MIB.map((m) => n.ip(m))]);
  const icmpNames = [
    'InMsgs',
    'InErrors',
    'InCsumErrors',
    ...ICMP_TYPES.map(([t]) => `In${t}`),
    'OutMsgs',
    'OutErrors',
    'OutRateLimitGlobal',
    'OutRateLimitHost',
    ...ICMP_TYPES.map(([t]) => `Out${t}`),
  ];
  const icmpVals = [
    n.icmp('InMsgs'),
    n.icmp('InErrors'),
    n.icmp('InCsumErrors'),
    ...ICMP_TYPES.map(([, t]) => n.icmpMsg('in', t)),
    n.icmp('OutMsgs'),
    n.icmp('OutErrors'),
    n.icmp('OutRateLimitGlobal'),
    n.icmp('OutRateLimitHost'),
    ...ICMP_TYPES.map(([, t]) => n.icmpMsg('out', t)),
  ];
  out += pair('Icmp', icmpNames, icmpVals);
  // icmpmsg_put: the non-zero per-type counters, PERLINE (16) to a line pair
  const msgs = n.icmpMsgs();
  for (let i = 0; i < msgs.length; i += 16) {
    const chunk = msgs.slice(i, i + 16);
    out += pair(
      'IcmpMsg',
      chunk.map((m) => m.name),
      chunk.map((m) => m.value),
    );
  }
  out += pair('Tcp', ['RtoAlgorithm', 'RtoMin', 'RtoMax', 'MaxConn', 'ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab', 'InSegs', 'OutSegs', 'RetransSegs', 'InErrs', 'OutRsts', 'InCsumErrors'], [1, 200, 120000, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const udp = ['InDatagrams', 'NoPorts', 'InErrors', 'OutDatagrams', 'RcvbufErrors', 'SndbufErrors', 'InCsumErrors', 'IgnoredMulti', 'MemErrors'];
  out += pair('Udp', udp, udp.map(() => 0));
  out += pair('UdpLite', udp, udp.map(() => 0));
  return out;
}

export function netProcEntries(k: Kernel): DirTable {
  return {
    net: pdir({
      dev: pfile(() => renderNetDev(k)),
      snmp: pfile(() => renderSnmp(k)),
    }),
  };
}
