/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 5: put the outer IP header in front of the packet, with the link
 * header (and 802.1Q tag) moved to the new front and the FIB's MACs.
 * IPv4-in-IPv4, IPv4-in-IPv6, IPv6-in-IPv6; the outer header copies DSCP
 * and ECN from the inner one (RFC 6040 normal mode), has TTL/hop limit
 * XLB_OUTER_TTL, and for IPv4 sets DF: fragmenting the outer packet would
 * make every backend reassemble, and the FIB already checked the MTU.
 *
 * Before that, xlb_egress_frame() makes the frame exactly what is sent on:
 * bytes after the IP packet (Ethernet padding, or junk a sender appended)
 * are cut, or they would ride inside the tunnel after the inner packet,
 * and the 802.1Q tag becomes the egress's (l2.h, fib.h), whatever tag
 * the packet arrived with.
 */
#ifndef XLB_ENCAP_H
#define XLB_ENCAP_H

#include "consts.h"
#include "pkt.h"
#include "l2.h"
#include "csum.h"
#include "fib.h"

/*
 * Give the frame the egress's tag (@vlan, @tci) in place of the ingress
 * one: the same size, only the TCI changes; a tag to add or remove moves
 * the frame's start by 4 bytes, where the encapsulation then writes a
 * whole new Ethernet header.
 */
static __always_inline int xlb_vlan_retag(struct xdp_md *ctx, struct xlb_pkt *pkt, __u8 vlan,
					  __be16 tci)
{
	int delta = (int)sizeof(struct xlb_vlan_hdr);

	if (pkt->vlan != vlan) {
		if (bpf_xdp_adjust_head(ctx, vlan ? -delta : delta))
			return -1;
		pkt->l3_off += vlan ? delta : -delta;
		pkt->vlan = vlan;
	}
	pkt->vlan_tci = tci;
	return 0;
}

/* Trim trailing bytes, and tag the frame for its egress (@fib). 0, or -1 if it may be modified. */
static __always_inline int xlb_egress_frame(struct xdp_md *ctx, struct xlb_pkt *pkt,
					    const struct bpf_fib_lookup *fib)
{
	int extra = (int)pkt->frame_len - (int)pkt->l3_off - (int)pkt->ip_len;

	if (extra > 0 && bpf_xdp_adjust_tail(ctx, -extra))
		return -1;
	return xlb_vlan_retag(ctx, pkt, !!fib->h_vlan_proto, fib->h_vlan_TCI);
}

/*
 * The outer IPv4 header, shared by IPIP and GUE: DSCP/ECN of the inner
 * header, DF, TTL XLB_OUTER_TTL, protocol @proto, @tot_len bytes in all.
 */
static __always_inline void xlb_outer4_fill(struct iphdr *ip, const struct xlb_pkt *pkt,
					    __be32 saddr, __be32 daddr, __u8 proto, __u32 tot_len)
{
	ip->version = XLB_IPV4_VERSION;
	ip->ihl = XLB_IPV4_IHL_MIN;
	ip->tos = pkt->tos;
	ip->tot_len = bpf_htons(tot_len);
	ip->id = 0;
	ip->frag_off = bpf_htons(XLB_IP_DF);
	ip->ttl = XLB_OUTER_TTL;
	ip->protocol = proto;
	ip->check = 0;
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = xlb_ipv4_csum(ip);
}

/* The outer IPv6 header, shared by IPIP and GUE: flow label @label, next header @nexthdr. */
static __always_inline void xlb_outer6_fill(struct ipv6hdr *ip6, const struct xlb_pkt *pkt,
					    const __u32 *saddr, const __u32 *daddr, __u32 label,
					    __u8 nexthdr, __u32 payload_len)
{
	/* version, traffic class, flow label: one 32-bit word */
	*(__be32 *)ip6 = bpf_htonl(((__u32)XLB_IPV6_VERSION << XLB_IPV6_VERSION_SHIFT) |
				   ((__u32)pkt->tos << XLB_IPV6_TCLASS_SHIFT) | label);
	ip6->payload_len = bpf_htons(payload_len);
	ip6->nexthdr = nexthdr;
	ip6->hop_limit = XLB_OUTER_TTL;
	__builtin_memcpy(&ip6->saddr, saddr, sizeof(ip6->saddr));
	__builtin_memcpy(&ip6->daddr, daddr, sizeof(ip6->daddr));
}

static __always_inline int xlb_encap4(struct xdp_md *ctx, const struct xlb_pkt *pkt,
				      __be32 saddr, __be32 daddr,
				      const struct bpf_fib_lookup *fib)
{
	void *data, *data_end;
	struct iphdr *ip;

	if (bpf_xdp_adjust_head(ctx, -XLB_ENCAP4_LEN))
		return XLB_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xlb_write_l2(data, data_end, pkt->vlan, pkt->vlan_tci, fib->dmac, fib->smac,
			 bpf_htons(ETH_P_IP)))
		return XLB_DROP_ENCAP;
	ip = data + pkt->l3_off;
	if ((void *)(ip + 1) > data_end)
		return XLB_DROP_ENCAP;

	xlb_outer4_fill(ip, pkt, saddr, daddr, IPPROTO_IPIP, pkt->ip_len + XLB_ENCAP4_LEN);
	return XLB_CONTINUE;
}

static __always_inline int xlb_encap6(struct xdp_md *ctx, const struct xlb_pkt *pkt,
				      const __u32 *saddr, const __u32 *daddr, __u32 label,
				      const struct bpf_fib_lookup *fib)
{
	void *data, *data_end;
	struct ipv6hdr *ip6;

	if (bpf_xdp_adjust_head(ctx, -XLB_ENCAP6_LEN))
		return XLB_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xlb_write_l2(data, data_end, pkt->vlan, pkt->vlan_tci, fib->dmac, fib->smac,
			 bpf_htons(ETH_P_IPV6)))
		return XLB_DROP_ENCAP;
	ip6 = data + pkt->l3_off;
	if ((void *)(ip6 + 1) > data_end)
		return XLB_DROP_ENCAP;

	xlb_outer6_fill(ip6, pkt, saddr, daddr, label,
			pkt->key.family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6, pkt->ip_len);
	return XLB_CONTINUE;
}

#endif /* XLB_ENCAP_H */
