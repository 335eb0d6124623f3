/**
 * The IPv4 network stack's counters (the SNMP MIBs of /proc/net/snmp) and
 * the loopback delivery of ICMP echoes. Interface counters (rtnl_link_stats64:
 * /proc/net/dev, /sys/class/net/<dev>/statistics) live in Devices, the one
 * store of interface state; this model adds its traffic there.
 */
import { KernelError } from '../errors';
import type { Kernel } from '../kernel';

/** Ip: columns of /proc/net/snmp after Forwarding and DefaultTTL (snmp4_ipstats_list) */
export const IP_MIB = [
  'InReceives',
  'InHdrErrors',
  'InAddrErrors',
  'ForwDatagrams',
  'InUnknownProtos',
  'InDiscards',
  'InDelivers',
  'OutRequests',
  'OutDiscards',
  'OutNoRoutes',
  'ReasmTimeout',
  'ReasmReqds',
  'ReasmOKs',
  'ReasmFails',
  'FragOKs',
  'FragFails',
  'FragCreates',
] as const;
export type IpMib = (typeof IP_MIB)[number];

/** Icmp: the counters kept outside the per-type IcmpMsg table */
export const ICMP_MIB = ['InMsgs', 'InErrors', 'InCsumErrors', 'OutMsgs', 'OutErrors', 'OutRateLimitGlobal', 'OutRateLimitHost'] as const;
export type IcmpMib = (typeof ICMP_MIB)[number];

export const ICMP_ECHOREPLY = 0;
export const ICMP_ECHO = 8;
export const ETH_HLEN = 14;
export const IP_HLEN = 20;
export const ICMP_HLEN = 8;

export interface NetState {
  ip: Partial<Record<IpMib, number>>;
  icmp: Partial<Record<IcmpMib, number>>;
  /** IcmpMsg: per-type counters, "in:<type>" / "out:<type>" */
  icmpMsg: Record<string, number>;
  /** next ICMP echo identifier of a ping socket (its "port") */
  nextIdent?: number;
}

/** One ICMP echo exchanged on lo: what the transmit and receive paths need to know. */
export interface EchoResult {
  /** bytes of the IP datagram (what lo counts: loopback_xmit measures after eth_type_trans) */
  ipLen: number;
}

export class Net {
  private s: NetState = { ip: {}, icmp: {}, icmpMsg: {} };

  constructor(private readonly k: Kernel) {}

  ip(m: IpMib): number {
    return this.s.ip[m] ?? 0;
  }

  icmp(m: IcmpMib): number {
    return this.s.icmp[m] ?? 0;
  }

  /** IcmpMsg counter of ICMP `type`, received (`in`) or sent */
  icmpMsg(dir: 'in' | 'out', type: number): number {
    return this.s.icmpMsg[`${dir}:${type}`] ?? 0;
  }

  /** IcmpMsg counters that are not zero, In types first, each ascending (icmpmsg_put order) */
  icmpMsgs(): { name: string; value: number }[] {
    const out: { name: string; value: number; key: number }[] = [];
    for (const [k, v] of Object.entries(this.s.icmpMsg)) {
      if (!v) continue;
      const [dir, t] = k.split(':');
      out.push({ name: `${dir === 'in' ? 'In' : 'Out'}Type${t}`, value: v, key: (dir === 'in' ? 0 : 256) + Number(t) });
    }
    return out.sort((a, b) => a.key - b.key).map(({ name, value }) => ({ name, value }));
  }

  private inc<T extends string>(tbl: Partial<Record<T, number>>, m: T, n = 1): void {
    tbl[m] = (tbl[m] ?? 0) + n;
  }

  /** A new ping socket's echo identifier (inet_sk(sk)->inet_num: ping_get_port from the group's range) */
  allocIdent(): number {
    const id = this.s.nextIdent ?? 1;
    this.s.nextIdent = id >= 0xffff ? 1 : id + 1;
    return id;
  }

  /** A route lookup found nothing (ip_route_output_flow: -ENETUNREACH): Ip OutNoRoutes. */
  noRoute(): KernelError {
    this.inc(this.s.ip, 'OutNoRoutes');
    return new KernelError('ENETUNREACH');
  }

  /**
   * An ICMP echo request of `payload` data bytes sent by a ping socket to a
   * local address and the kernel's echo reply (icmp_echo), both over lo:
   * the interface, Ip and Icmp counters of the two datagrams.
   */
  loopbackEcho(payload: number): EchoResult {
    if (!Number.isInteger(payload) || payload < 0 || payload > 65507) throw new KernelError('EMSGSIZE');
    const lo = this.k.devices.netdev('lo');
    if (!lo || !this.k.devices.isUp(lo)) throw this.noRoute();
    const ipLen = payload + ICMP_HLEN + IP_HLEN;
    for (const type of [ICMP_ECHO, ICMP_ECHOREPLY]) {
      // ip_local_out / ip_finish_output2: OutRequests; icmp_out_count: OutMsgs, OutType
      this.inc(this.s.ip, 'OutRequests');
      this.inc(this.s.icmp, 'OutMsgs');
      this.inc(this.s.icmpMsg, `out:${type}`);
      // loopback_xmit: tx and rx of lo count skb->len after eth_type_trans pulled the MAC header
      this.k.devices.netTraffic('lo', { txPackets: 1, txBytes: ipLen });
      // ip_rcv, ip_local_deliver_finish, icmp_rcv
      this.inc(this.s.ip, 'InReceives');
      this.inc(this.s.ip, 'InDelivers');
      this.inc(this.s.icmp, 'InMsgs');
      this.inc(this.s.icmpMsg, `in:${type}`);
    }
    return { ipLen };
  }

  getState(): NetState {
    return JSON.parse(JSON.stringify(this.s)) as NetState;
  }

  setState(s: NetState | undefined): void {
    this.s = s ? (JSON.parse(JSON.stringify(s)) as NetState) : { ip: {}, icmp: {}, icmpMsg: {} };
  }
}
