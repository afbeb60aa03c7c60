/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 5, GUE (attach --encap gue): the outer IP header, a UDP header to
 * the GUE port and a GUE header whose private data is a hop list (the wire
 * format is xlb_abi.h's, above struct xlb_gue_hdr). The hop list is what
 * IPIP cannot carry: the backend that owned the flow's table slot until a
 * recent change, so a backend that holds no socket for a mid-connection
 * packet can pass it on instead of resetting the connection (Beamer's
 * daisy chaining).
 *
 * Outer fields are those of IPIP (encap.h: DSCP/ECN copied, TTL 64, IPv4
 * DF, IPv6 flow label from the flow hash). The UDP source port comes from
 * the flow hash too, in the ephemeral range, so ECMP and RSS spread flows
 * and keep each on one path. The UDP checksum is 0 over IPv4 ("none",
 * RFC 768) and valid over IPv6, where plain UDP may not omit it; it
 * is derived from the inner packet's own valid checksums rather than summed
 * over the payload (xlb_gue_inner_sum()), so its cost does not grow with
 * the packet: a few words of headers, one bpf_csum_diff over our 80 bytes.
 */
#ifndef XLB_GUE_H
#define XLB_GUE_H

#include "consts.h"
#include "pkt.h"
#include "l2.h"
#include "csum.h"
#include "maps.h"
#include "encap.h"	/* the outer IPv4 and IPv6 headers */

#define XLB_UDP_CSUM_ALL_ONES	0xffff	/* a computed 0 is sent as all ones (RFC 768) */

/* Everything in front of the inner packet, for each outer family. */
struct xlb_gue4_outer {
	struct iphdr ip;
	struct udphdr udp;
	struct xlb_gue_hdr gue;
	struct xlb_gue_hops4 hops;
};

struct xlb_gue6_outer {
	struct ipv6hdr ip6;
	struct udphdr udp;
	struct xlb_gue_hdr gue;
	struct xlb_gue_hops6 hops;
};

_Static_assert(sizeof(struct xlb_gue4_outer) == XLB_GUE4_LEN, "GUE4 outer layout");
_Static_assert(sizeof(struct xlb_gue6_outer) == XLB_GUE6_LEN, "GUE6 outer layout");

/* The outer UDP source port: from the flow hash, 49152..65535, never 0. */
static __always_inline __be16 xlb_gue_sport(struct xlb_pkt *pkt)
{
	return bpf_htons(XLB_GUE_SPORT_MIN | (xlb_pkt_hash(pkt) & XLB_GUE_SPORT_MASK));
}

/*
 * The second hop of an untracked flow whose pick came from table slot
 * @slot: its previous owner, while the change is younger than the VIP's
 * chain window, and only if that backend is still configured for this VIP,
 * not DOWN (drained is fine: it still serves its own connections) and of
 * the first hop's family (hops are of the outer family). NULL otherwise.
 */
static __always_inline struct xlb_backend *xlb_gue_second_hop(struct xlb_pkt *pkt,
							       const struct xlb_slot_prev *slot,
							       const struct xlb_vip *vip,
							       __u32 first_id,
							       const struct xlb_backend *first)
{
	__u32 prev = slot->prev, window = vip->chain_window_s;
	struct xlb_backend *be;

	if (prev == XLB_BACKEND_NONE || prev == first_id || !window)
		return NULL;
	/* A change stamped in the second the coarse clock has not reached yet is young. */
	if (xlb_pkt_now(pkt) >= ((__u64)slot->changed_s + window) * XLB_NSEC_PER_SEC)
		return NULL;
	be = bpf_map_lookup_elem(&backends, &prev);
	if (!be || (be->flags & (XLB_BE_F_USED | XLB_BE_F_DOWN)) != XLB_BE_F_USED ||
	    be->vip_id != vip->id || be->family != first->family)
		return NULL;
	return be;
}

/*
 * Whether a UDP datagram at @l4 has no checksum (0): then its payload's sum
 * is unknown. Other protocols always carry one.
 */
static __always_inline int xlb_l4_no_csum(void *l4, void *data_end, __u8 proto)
{
	struct udphdr *udp = l4;

	if (proto != IPPROTO_UDP)
		return 0;
	return (void *)(udp + 1) > data_end || !udp->check;
}

/*
 * The ones'-complement sum of the whole inner packet, folded to 16 bits,
 * from the fact that its checksums are valid, so no byte of the payload is
 * read: an IPv4 header with its checksum sums to zero; a TCP, UDP or ICMPv6
 * segment with its checksum sums to minus its pseudo-header (ICMPv4 to
 * zero: it has none); of an IPv6 header only the first 8 bytes are not in
 * the pseudo-header. Exact whenever the inner checksums are valid (a packet
 * whose are not fails the outer check too, and would have been dropped at
 * the backend anyway). Returns -1 when there is nothing to start from: a
 * UDP datagram without a checksum.
 */
static __always_inline int xlb_gue_inner_sum(void *data, void *data_end,
					     const struct xlb_pkt *pkt, __u32 *sum)
{
	struct iphdr *ip = data + pkt->l3_off;
	struct ipv6hdr *ip6 = data + pkt->l3_off;
	__u32 hlen, l4len;
	__u64 acc = 0;
	__u8 proto;

	/* A fragment, or L4 behind IPv6 extension headers: its checksum covers other bytes. */
	if (pkt->l4_opaque)
		return -1;
	if (pkt->key.family == XLB_AF_INET) {
		if ((void *)(ip + 1) > data_end)
			return -1;
		proto = ip->protocol;
		hlen = (pkt->ihl & 0xf) * 4;
		l4len = pkt->ip_len - hlen;
		if (xlb_l4_no_csum((void *)ip + hlen, data_end, proto))
			return -1;
		if (proto != IPPROTO_ICMP)
			acc = xlb_csum_fold((__u64)ip->saddr + ip->daddr + bpf_htons(proto) +
					    bpf_htons(l4len));
	} else {
		if ((void *)(ip6 + 1) > data_end)
			return -1;
		proto = ip6->nexthdr;
		if (xlb_l4_no_csum(ip6 + 1, data_end, proto))
			return -1;
		acc = (__u64)*(__u32 *)ip6 + ((__u16 *)ip6)[3] + (__u16)~bpf_htons(proto);
	}
	*sum = (__u16)~xlb_csum_fold(acc);
	return 0;
}

static __always_inline void xlb_gue_hdr_set(struct xlb_gue_hdr *gue, __u32 hops_len,
					    const struct xlb_pkt *pkt)
{
	gue->hlen = (hops_len / 4) & XLB_GUE_HLEN_MASK;
	gue->proto = pkt->key.family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	gue->flags = 0;
}

/* GUE over IPv4 to @daddr, @second the hop list's second entry (0: none). */
static __always_inline int xlb_gue4(struct xdp_md *ctx, struct xlb_pkt *pkt, __be32 saddr,
				    __be32 daddr, __be32 second, __be16 port,
				    const struct bpf_fib_lookup *fib)
{
	__be16 sport = xlb_gue_sport(pkt);
	struct xlb_gue4_outer *o;
	void *data, *data_end;

	if (bpf_xdp_adjust_head(ctx, -XLB_GUE4_LEN))
		return XLB_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xlb_write_l2(data, data_end, pkt->vlan, pkt->vlan_tci, fib->dmac, fib->smac,
			 bpf_htons(ETH_P_IP)))
		return XLB_DROP_ENCAP;
	o = data + pkt->l3_off;
	if ((void *)(o + 1) > data_end)
		return XLB_DROP_ENCAP;

	xlb_outer4_fill(&o->ip, pkt, saddr, daddr, IPPROTO_UDP, pkt->ip_len + XLB_GUE4_LEN);

	o->udp.source = sport;
	o->udp.dest = port;
	o->udp.len = bpf_htons(pkt->ip_len + XLB_GUE4_LEN - (int)sizeof(struct iphdr));
	o->udp.check = 0;
	xlb_gue_hdr_set(&o->gue, sizeof(o->hops), pkt);
	o->hops.type = bpf_htons(XLB_GUE_HOPS_TYPE);
	o->hops.next = 0;
	o->hops.count = second ? 2 : 1;
	o->hops.hop[0] = daddr;
	o->hops.hop[1] = second;
	return XLB_CONTINUE;
}

/*
 * GUE over IPv6 to @daddr, @second the hop list's second entry (NULL:
 * none), flow label @label. The UDP checksum: see xlb_gue_inner_sum(); an
 * inner UDP datagram without a checksum leaves nothing to derive it from,
 * and its outer checksum is 0 (RFC 6935 allows it for tunnels).
 */
static __always_inline int xlb_gue6(struct xdp_md *ctx, struct xlb_pkt *pkt,
				    const __u32 *saddr, const __u32 *daddr,
				    const __u32 *second, __u32 label, __be16 port,
				    const struct bpf_fib_lookup *fib)
{
	__u32 udp_len = pkt->ip_len + XLB_GUE6_LEN - (int)sizeof(struct ipv6hdr), inner = 0;
	__be16 sport = xlb_gue_sport(pkt);
	struct xlb_gue6_outer *o;
	void *data, *data_end;
	int have_sum;
	__s64 acc;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	have_sum = !xlb_gue_inner_sum(data, data_end, pkt, &inner);
	if (bpf_xdp_adjust_head(ctx, -XLB_GUE6_LEN))
		return XLB_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xlb_write_l2(data, data_end, pkt->vlan, pkt->vlan_tci, fib->dmac, fib->smac,
			 bpf_htons(ETH_P_IPV6)))
		return XLB_DROP_ENCAP;
	o = data + pkt->l3_off;
	if ((void *)(o + 1) > data_end)
		return XLB_DROP_ENCAP;

	xlb_outer6_fill(&o->ip6, pkt, saddr, daddr, label, IPPROTO_UDP, udp_len);

	o->udp.source = sport;
	o->udp.dest = port;
	o->udp.len = bpf_htons(udp_len);
	o->udp.check = 0;
	xlb_gue_hdr_set(&o->gue, sizeof(o->hops), pkt);
	o->hops.type = bpf_htons(XLB_GUE_HOPS_TYPE);
	o->hops.next = 0;
	o->hops.count = second ? 2 : 1;
	__builtin_memcpy(o->hops.hop[0], daddr, sizeof(o->hops.hop[0]));
	if (second)
		__builtin_memcpy(o->hops.hop[1], second, sizeof(o->hops.hop[1]));
	else
		__builtin_memset(o->hops.hop[1], 0, sizeof(o->hops.hop[1]));
	if (!have_sum)
		return XLB_CONTINUE;

	/* Pseudo-header addresses through the hop list: 80 contiguous bytes. */
	acc = bpf_csum_diff(NULL, 0, (__be32 *)&o->ip6.saddr,
			    sizeof(struct xlb_gue6_outer) -
				__builtin_offsetof(struct xlb_gue6_outer, ip6.saddr),
			    inner);
	if (acc < 0)
		return XLB_DROP_ENCAP;
	acc += bpf_htons(udp_len) + bpf_htons(IPPROTO_UDP);
	o->udp.check = xlb_csum_fold(acc) ?: XLB_UDP_CSUM_ALL_ONES;
	return XLB_CONTINUE;
}

#endif /* XLB_GUE_H */
