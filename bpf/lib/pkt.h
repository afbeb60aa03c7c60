/* SPDX-License-Identifier: GPL-2.0 */
/*
 * struct xlb_pkt: what parsing learnt about a packet, carried through the
 * rest of the path. It holds offsets and values, not pointers: later steps
 * move the packet head, and the verifier wants each step to prove its own
 * bounds anyway.
 */
#ifndef XLB_PKT_H
#define XLB_PKT_H

#include "consts.h"
#include "hash.h"
#include "maps.h"

struct xlb_pkt {
	/* The flow as the client's packets carry it; 8-aligned for conntrack.h's compare. */
	struct xlb_flow_key key __attribute__((aligned(8)));
	__u64 hash;			/* xlb_ct_hash64(key), once has_hash is set */
	__u32 frame_len;		/* bytes of the frame as received */
	__u16 ip_len;			/* inner L3 length: IPv4 tot_len, or 40 + IPv6 payload */
	__be16 vlan_tci;		/* the 802.1Q tag's TCI, if vlan */
	/*
	 * Ethernet (+ 802.1Q) header length. A byte on purpose: the verifier
	 * only trusts a bounds check on data + l3_off + N when the variable
	 * part is known to be small.
	 */
	__u8 l3_off;
	__u8 vlan;			/* an 802.1Q tag follows the Ethernet header */
	__u8 tos;			/* DSCP + ECN of the inner header */
	__u8 tcp_flags;			/* TCP: the flags byte (FIN, SYN, RST, ...) */
	__u8 icmp_err;			/* an ICMP error routed as its embedded flow */
	__u8 df;			/* IPv4: don't-fragment set */
	__u8 has_hash;
	__u8 ihl;			/* IPv4: header length in 32-bit words */
	__u8 frag;			/* enum xlb_frag_kind (frag.h) */
	/*
	 * The L4 checksum does not cover what follows the fixed IP header
	 * (a fragment, IPv6 extension headers): gue.h cannot derive a sum from it.
	 */
	__u8 l4_opaque;
	__u8 nd;			/* IPv6 neighbour discovery (link-local) */
	__u8 trace;			/* a trace runs: note the VIP and backend (trace.h) */
	__u8 not_vip_addr;		/* the VIP filter ruled the destination out (vip.h) */
	__u8 no_nat;			/* ... and said there is no NAT VIP: no NAT answer either */
	__u32 frag_id;			/* a fragment's IPv4/IPv6 identification */
	__u64 now;			/* xlb_pkt_now(), once read; 0 before */
};

/* TCP flag bits in the 14th byte of the header. */
#define XLB_TCP_FIN		0x01
#define XLB_TCP_SYN		0x02
#define XLB_TCP_RST		0x04
#define XLB_TCP_ACK		0x10
#define XLB_TCP_FLAGS_OFF	13

/* The flow hash, all 64 bits, computed at most once per packet and only when needed. */
static __always_inline __u64 xlb_pkt_hash64(struct xlb_pkt *pkt)
{
	if (!pkt->has_hash) {
		pkt->hash = xlb_ct_hash64(&pkt->key);
		pkt->has_hash = 1;
	}
	return pkt->hash;
}

/*
 * The coarse monotonic clock (CLOCK_MONOTONIC's epoch, what user space
 * expires flows against), without its helper on most packets: the call
 * measured about 20 ns on a VM, and a tracked packet asked it twice
 * (conntrack's touch, the next hop's freshness). The coarse clock moves
 * only at a tick, when jiffies does, and bpf_jiffies64() is inlined (a
 * load): a CPU reads the clock again only when the jiffy changed since it
 * last did. A reading that races the tick can be one tick behind for the
 * next one: two ticks of error at most, against timeouts of 100 ms and up.
 */
static __always_inline __u64 xlb_clock_now(void)
{
	__u32 zero = 0;
	struct xlb_clock *c = bpf_map_lookup_elem(&clock_cache, &zero);
	__u64 j = bpf_jiffies64();

	if (!c)
		return bpf_ktime_get_coarse_ns();	/* cannot happen: entry 0 exists */
	if (c->jiffies != j || !c->ns) {
		c->ns = bpf_ktime_get_coarse_ns();
		c->jiffies = j;
	}
	return c->ns;
}

/* xlb_clock_now(), once per packet. */
static __always_inline __u64 xlb_pkt_now(struct xlb_pkt *pkt)
{
	if (!pkt->now)
		pkt->now = xlb_clock_now();
	return pkt->now;
}

/* The flow hash: xlb_flow_hash(key, XLB_HASH_SEED), the low half. */
static __always_inline __u32 xlb_pkt_hash(struct xlb_pkt *pkt)
{
	return (__u32)xlb_pkt_hash64(pkt);
}

#endif /* XLB_PKT_H */
