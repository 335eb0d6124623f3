/**
 * The kernel paths of an ICMP echo over lo, as a ping socket (SOCK_DGRAM,
 * IPPROTO_ICMP) drives them: sendto() transmits the request in the task's
 * context down to loopback_xmit, which queues it on the CPU's backlog and
 * raises NET_RX; the softirq runs when ip_finish_output2 re-enables bottom
 * halves (still in the task: do_softirq) and delivers the request to
 * icmp_rcv, whose echo reply goes out over lo again and is delivered, in
 * the same backlog poll, to ping_rcv, which queues a clone on the socket.
 * recvmsg() then takes it from the socket queue.
 *
 * Emission (only while k.trace.observed): the trees are walked with
 * Trace.kernelPath inside the span of the system call's own record (its
 * __x64_sys_ wrapper), the softirq with its irq-info flags; the net, napi
 * and skb tracepoints fire at the times the walk reaches their functions.
 * Simplification: the softirq is walked after the transmit tree, as a
 * sibling of it rather than nested in __local_bh_enable_ip (the order and
 * times of the function entries are those of the nested call; under
 * function_graph its depth is not).
 */
import type { Kernel } from '../../kernel';
import type { Syscalls } from '../../syscalls/syscalls';
import { type CallNode, UNIT_NS, indent, namedTree } from '../callpath';

/** ip_push_pending_frames down to lo; `softirq`: the outer bh enable runs the pending NET_RX (task context). */
const XMIT = (ind: string, softirq: boolean): string =>
  `
ip_push_pending_frames 1
  __ip_make_skb 2
    __ip_select_ident 1
    icmp_out_count 1
  ip_send_skb 1
    ip_local_out 1
      __ip_local_out 1
      ip_output 1
        ip_finish_output 1
          __ip_finish_output 1
            ip_finish_output2 2
              __dev_queue_xmit 2
                validate_xmit_skb 2
                  netif_skb_features 1
                    passthru_features_check 1
                    skb_network_protocol 1
                dev_hard_start_xmit 1
                  loopback_xmit 2
                    sock_wfree 1
                    eth_type_trans 1
                    __netif_rx 1
                      netif_rx_internal 1
                        enqueue_to_backlog 2
                          __raise_softirq_irqoff 1
                __local_bh_enable_ip 1
              __local_bh_enable_ip 1${softirq ? '\n                do_softirq 1' : ''}`
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => ind + l)
    .join('\n');

const ROUTE = `
ip_route_output_flow 1
  ip_route_output_key_hash 1
    ip_route_output_key_hash_rcu 2
      fib_table_lookup 2`;

/** sendto() of an echo request on a ping socket (under __x64_sys_sendto). */
export const SENDTO_TREE = `
__sys_sendto 2
  sockfd_lookup_light 1
    __fget_light 1
  move_addr_to_kernel 1
  sock_sendmsg 1
    security_socket_sendmsg 1
    inet_sendmsg 1
      ping_v4_sendmsg 3
        ping_common_sendmsg 1
${indent(ROUTE, 8)}
        ip_append_data 1
          ip_setup_cork 1
          __ip_append_data 3
            sock_alloc_send_pskb 1
              alloc_skb_with_frags 1
                __alloc_skb 2
                  kmalloc_reserve 1
            skb_put 1
            ping_getfrag 2
${XMIT('        ', true)}`;

const CONSUME = `
consume_skb 1
  skb_release_head_state 1
  skb_release_data 1
  kfree_skbmem 1`;

const RCV = (icmp: string): string => `
__netif_receive_skb 1
  __netif_receive_skb_one_core 2
    ip_rcv 1
      ip_rcv_core 2
      ip_rcv_finish 1
        ip_local_deliver 1
          ip_local_deliver_finish 1
            ip_protocol_deliver_rcu 1
              icmp_rcv 2
${indent(icmp, 16)}
${indent(CONSUME, 16)}`;

const ECHO = `
icmp_echo 1
  icmp_reply 3
${indent(ROUTE, 4)}
    icmp_push_reply 1
      ip_append_data 1
        ip_setup_cork 1
        __ip_append_data 3
          sock_alloc_send_pskb 1
            alloc_skb_with_frags 1
              __alloc_skb 2
                kmalloc_reserve 1
          skb_put 1
          icmp_glue_bits 2
${XMIT('      ', false)}`;

const PING_RCV = `
ping_rcv 2
  ping_lookup 2
  skb_clone 1
  ping_queue_rcv_skb 1
    sock_queue_rcv_skb_reason 1
      sk_filter_trim_cap 1
        security_sock_rcv_skb 1
      __sock_queue_rcv_skb 2
        sock_def_readable 1`;

/** The NET_RX softirq of an echo over lo (under do_softirq): the request, then the reply, in one backlog poll. */
export const SOFTIRQ_TREE = `
__do_softirq 2
  net_rx_action 2
    __napi_poll 1
      process_backlog 2
${indent(RCV(ECHO), 8)}
${indent(RCV(PING_RCV), 8)}`;

/** recvmsg() of the echo reply from the ping socket (under __x64_sys_recvmsg). */
export const RECVMSG_TREE = `
__sys_recvmsg 1
  sockfd_lookup_light 1
    __fget_light 1
  ___sys_recvmsg 2
    ____sys_recvmsg 1
      sock_recvmsg 1
        security_socket_recvmsg 1
        inet_recvmsg 1
          ping_recvmsg 2
            skb_recv_datagram 1
              __skb_recv_datagram 1
                __skb_try_recv_datagram 2
            skb_copy_datagram_iter 1
              __skb_datagram_iter 3
            ip_cmsg_recv_offset 2
            skb_free_datagram 1
${indent(CONSUME, 14)}`;

export function netTrees(): { sendto: CallNode; softirq: CallNode; recvmsg: CallNode } {
  return {
    sendto: namedTree('net-sendto', SENDTO_TREE),
    softirq: namedTree('net-softirq', SOFTIRQ_TREE),
    recvmsg: namedTree('net-recvmsg', RECVMSG_TREE),
  };
}

/** Entry offsets (ns from the root's entry, walked at UNIT_NS) and durations of every `fn` of a tree, in walk order. */
export function spans(root: CallNode, fn: string): [number, number][] {
  const out: [number, number][] = [];
  const walk = (n: CallNode, t: number): void => {
    if (n.fn === fn) out.push([t, n.total * UNIT_NS]);
    let cur = t + (n.self * UNIT_NS) / 2;
    for (const k of n.kids) {
      walk(k, cur);
      cur += k.total * UNIT_NS;
    }
  };
  walk(root, 0);
  return out;
}

const countNodes = (n: CallNode): number => 1 + n.kids.reduce((s, k) => s + countNodes(k), 0);

/** Times in a tree walked from `t0` in `took` ns: entry (or exit) of the `nth` `fn`. */
function timesIn(tree: CallNode, t0: number, took: number): (fn: string, nth?: number, end?: boolean) => number {
  const scale = tree.total ? took / (tree.total * UNIT_NS) : 1;
  return (fn, nth = 0, end = false) => {
    const s = spans(tree, fn)[nth];
    return t0 + (s ? s[0] + (end ? s[1] : 0) : 0) * scale;
  };
}

const mix = (x: number): number => {
  let h = x >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x45d9f3b) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  return (h ^ (h >>> 15)) >>> 0;
};
/** a hashed kernel pointer as %p prints it (the low 32 bits of the hash) */
const ptr = (x: number): string => mix(x).toString(16).padStart(16, '0');

/** The untraced context the walks emit under: a call's span and the wrapper it runs in. */
interface CallSpan {
  /** where the kernel path starts */
  at: number;
  /** a bound of what the walks can take (tracers included) */
  bound: number;
}

/**
 * Where to put a kernel path of `planned` ns (walking `nodes` functions)
 * inside a system call starting at `t0`: the __x64_sys_ wrapper of the
 * call's own record spans at least its middle 56% (walk jitter and the
 * entry code's share), so the path starts 45% of its bound in.
 */
function placeIn(k: Kernel, t0: number, planned: number, nodes: number): CallSpan {
  // with a function tracer on: the function_graph tracer's entry+exit cost per node, with its jitter
  const bound = planned + (k.trace.functionsActive ? nodes * 230 : 0);
  return { at: t0 + Math.ceil(0.45 * bound), bound };
}

/** The record's duration so that the path [at, at+took] lies inside its wrapper's span. */
function callDur(t0: number, sp: CallSpan, took: number): number {
  return Math.ceil((sp.at - t0 + took) / 0.78) + 1;
}

export interface EchoTrace {
  /** task sending the echo */
  pid: number;
  /** ICMP sequence number (the skbs' identity) */
  seq: number;
  /** IP datagram length (what netif_rx and netif_receive_skb see); +14 on the transmit side */
  ipLen: number;
}

const ETH_HLEN = 14;
const NAPI_BUDGET = 64;

/** Planned (untraced) cost of the sendto path: its tree and the softirq. */
export function sendtoPlannedNs(): number {
  const t = netTrees();
  return (t.sendto.total + t.softirq.total) * UNIT_NS;
}

export function recvmsgPlannedNs(): number {
  return netTrees().recvmsg.total * UNIT_NS;
}

/** NET_RX_SOFTIRQ: the softirq vector of packet reception */
const NET_RX_SOFTIRQ = 3;

/**
 * sendto() of an echo request by `e.pid` on a ping socket, reported through
 * the syscall layer, with the transmit path, the NET_RX softirq that
 * delivers request and reply, and their events. Returns [start, end, reply
 * received] times of the call (ns).
 */
export function traceSendto(
  k: Kernel,
  sys: Syscalls,
  e: EchoTrace,
  args: number[],
  ret: number,
): { start: number; end: number; rxAt: number } {
  const t0 = sys.nextNs;
  const trees = netTrees();
  const planned = sendtoPlannedNs();
  const observed = k.trace.observed;
  const sp = placeIn(k, t0, planned, countNodes(trees.sendto) + countNodes(trees.softirq));
  const cpu = k.sched.task(e.pid)?.cpu;
  const tx = trees.sendto;
  const txTook = (observed && k.trace.kernelPath(e.pid, tx, '__x64_sys_sendto', { atNs: sp.at, cpu })) || tx.total * UNIT_NS;
  const at = timesIn(tx, sp.at, txTook);
  const sAt = at('do_softirq') + 40;
  const sirq = trees.softirq;
  const sTook = (observed && k.trace.kernelPath(e.pid, sirq, 'do_softirq', { atNs: sAt, cpu, flags: '..s1.' })) || sirq.total * UNIT_NS;
  const as = timesIn(sirq, sAt, sTook);
  // one NET_RX run delivers request and reply (traced or not, /proc/softirqs counts it)
  k.sched.countSoftirq(cpu ?? 0, NET_RX_SOFTIRQ);
  const req = ptr(e.pid * 65537 + e.seq * 4 + 1);
  const rep = ptr(e.pid * 65537 + e.seq * 4 + 2);
  const clone = ptr(e.pid * 65537 + e.seq * 4 + 3);
  if (observed) {
    const ev = (name: string, sys2: string, f: Record<string, string | number>, t: number, soft: boolean): void =>
      k.trace.tracepoint(e.pid, sys2, name, f, { atNs: t, cpu, flags: soft ? '..s1.' : '.....' });
    const xmit = (skb: string, tq: (fn: string, nth?: number, end?: boolean) => number, soft: boolean): void => {
      const len = e.ipLen + ETH_HLEN;
      ev('net_dev_queue', 'net', { dev: 'lo', skbaddr: skb, len }, tq('__dev_queue_xmit') + 30, soft);
      ev(
        'net_dev_start_xmit',
        'net',
        {
          dev: 'lo',
          queue_mapping: 0,
          skbaddr: skb,
          vlan_tagged: 0,
          vlan_proto: '0x0000',
          vlan_tci: '0x0000',
          protocol: '0x0800',
          ip_summed: 0,
          len,
          data_len: 0,
          network_offset: ETH_HLEN,
          transport_offset_valid: 1,
          transport_offset: ETH_HLEN + 20,
          tx_flags: 0,
          gso_size: 0,
          gso_segs: 0,
          gso_type: 0,
        },
        // xmit_one(): before the driver's ndo_start_xmit
        tq('dev_hard_start_xmit') + 10,
        soft,
      );
      ev('netif_rx', 'net', { dev: 'lo', skbaddr: skb, len: e.ipLen }, tq('netif_rx_internal') + 20, soft);
      ev('net_dev_xmit', 'net', { dev: 'lo', skbaddr: skb, len, rc: 0 }, tq('loopback_xmit', 0, true) + 10, soft);
    };
    xmit(req, at, false);
    // __raise_softirq_irqoff(NET_RX_SOFTIRQ) under enqueue_to_backlog's irq-off section; it runs at the bh enable
    k.trace.tracepoint(
      e.pid,
      'irq',
      'softirq_raise',
      { vec: NET_RX_SOFTIRQ },
      { atNs: at('__raise_softirq_irqoff') + 10, cpu, flags: 'd..1.' },
    );
    k.trace.tracepoint(e.pid, 'irq', 'softirq_entry', { vec: NET_RX_SOFTIRQ }, { atNs: sAt - 20, cpu, flags: '..s1.' });
    ev('netif_receive_skb', 'net', { dev: 'lo', skbaddr: req, len: e.ipLen }, as('__netif_receive_skb_one_core', 0) + 20, true);
    xmit(rep, as, true);
    ev('consume_skb', 'skb', { skbaddr: req }, as('consume_skb', 0) + 10, true);
    ev('netif_receive_skb', 'net', { dev: 'lo', skbaddr: rep, len: e.ipLen }, as('__netif_receive_skb_one_core', 1) + 20, true);
    ev('consume_skb', 'skb', { skbaddr: rep }, as('consume_skb', 1) + 10, true);
    const napi = ptr(0x6e617069 + (cpu ?? 0));
    ev('napi_poll', 'napi', { napi, dev_name: '(no_device)', work: 2, budget: NAPI_BUDGET }, as('process_backlog', 0, true) + 10, true);
    k.trace.tracepoint(e.pid, 'irq', 'softirq_exit', { vec: NET_RX_SOFTIRQ }, { atNs: sAt + sTook, cpu, flags: '..s1.' });
    void clone;
  }
  const took = sAt + sTook - sp.at;
  const durNs = callDur(t0, sp, took);
  sys.record(e.pid, 'sendto', args, ret, { durNs, bytes: ret > 0 ? ret : 0 });
  return { start: t0, end: Math.max(sys.nextNs, t0 + durNs), rxAt: as('netif_rx_internal') };
}

/** recvmsg() of the echo reply (the clone ping_rcv queued): its path and the clone's consume_skb. */
export function traceRecvmsg(k: Kernel, sys: Syscalls, e: EchoTrace, args: number[], ret: number): { start: number; end: number } {
  const t0 = sys.nextNs;
  const tree = netTrees().recvmsg;
  const observed = k.trace.observed;
  const sp = placeIn(k, t0, tree.total * UNIT_NS, countNodes(tree));
  const cpu = k.sched.task(e.pid)?.cpu;
  const took = (observed && k.trace.kernelPath(e.pid, tree, '__x64_sys_recvmsg', { atNs: sp.at, cpu })) || tree.total * UNIT_NS;
  if (observed) {
    const at = timesIn(tree, sp.at, took);
    k.trace.tracepoint(e.pid, 'skb', 'consume_skb', { skbaddr: ptr(e.pid * 65537 + e.seq * 4 + 3) }, { atNs: at('consume_skb') + 10, cpu });
  }
  const durNs = callDur(t0, sp, took);
  sys.record(e.pid, 'recvmsg', args, ret, { durNs, bytes: ret > 0 ? ret : 0 });
  return { start: t0, end: Math.max(sys.nextNs, t0 + durNs) };
}

/** Every tree of this file (for the available_filter_functions check). */
export function allNetTrees(): CallNode[] {
  const t = netTrees();
  return [t.sendto, t.softirq, t.recvmsg];
}
