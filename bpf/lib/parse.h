/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 1 of the packet path: parse Ethernet, one optional 802.1Q tag, IPv4
 * or IPv6 and the L4 header into a struct xlb_pkt, validating every length
 * on the way, since a malformed packet must never be forwarded. ICMP errors
 * are handed to icmp.h, which fills the flow key from the embedded header.
 */
#ifndef XLB_PARSE_H
#define XLB_PARSE_H

#include "consts.h"
#include "pkt.h"
#include "l2.h"
#include "icmp.h"

/*
 * TCP or UDP ports at @l4, which has @l4_len bytes inside the IP packet
 * (already known to lie inside the frame).
 */
static __always_inline int xlb_parse_l4(void *l4, void *data_end, __u32 l4_len,
					struct xlb_pkt *pkt)
{
	struct udphdr *udp = l4;	/* ports sit at the same place in TCP */
	struct tcphdr *tcp = l4;

	switch (pkt->key.proto) {
	case IPPROTO_TCP:
		if ((void *)(tcp + 1) > data_end || l4_len < sizeof(*tcp))
			return XLB_DROP_MALFORMED;
		if (tcp->doff < XLB_TCP_DOFF_MIN || tcp->doff * 4 > l4_len)
			return XLB_DROP_MALFORMED;
		pkt->tcp_flags = ((__u8 *)tcp)[XLB_TCP_FLAGS_OFF];
		break;
	case IPPROTO_UDP:
		if ((void *)(udp + 1) > data_end || l4_len < sizeof(*udp))
			return XLB_DROP_MALFORMED;
		break;
	default:
		return XLB_PASS_PROTO;
	}
	pkt->key.sport = udp->source;
	pkt->key.dport = udp->dest;
	return XLB_CONTINUE;
}

static __always_inline int xlb_parse_ipv4(void *data, void *data_end, struct xlb_pkt *pkt)
{
	struct iphdr *ip = data + pkt->l3_off;
	__u32 hlen, tot;

	if ((void *)(ip + 1) > data_end)
		return XLB_DROP_MALFORMED;
	if (ip->version != XLB_IPV4_VERSION || ip->ihl < XLB_IPV4_IHL_MIN)
		return XLB_DROP_MALFORMED;
	hlen = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen || pkt->l3_off + tot > pkt->frame_len)
		return XLB_DROP_MALFORMED;
	if (ip->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET))
		return XLB_PASS_FRAGMENT;

	pkt->ip_len = tot;
	pkt->ihl = ip->ihl;
	pkt->tos = ip->tos;
	pkt->df = !!(ip->frag_off & bpf_htons(XLB_IP_DF));
	pkt->key.family = XLB_AF_INET;
	pkt->key.proto = ip->protocol;
	pkt->key.src[0] = ip->saddr;
	pkt->key.dst[0] = ip->daddr;

	if (ip->protocol == IPPROTO_ICMP)
		return xlb_parse_icmp4((void *)ip + hlen, data_end, tot - hlen, pkt);
	return xlb_parse_l4((void *)ip + hlen, data_end, tot - hlen, pkt);
}

static __always_inline int xlb_parse_ipv6(void *data, void *data_end, struct xlb_pkt *pkt)
{
	struct ipv6hdr *ip6 = data + pkt->l3_off;
	__u32 plen;

	if ((void *)(ip6 + 1) > data_end)
		return XLB_DROP_MALFORMED;
	if (ip6->version != XLB_IPV6_VERSION)
		return XLB_DROP_MALFORMED;
	plen = bpf_ntohs(ip6->payload_len);
	if (pkt->l3_off + sizeof(*ip6) + plen > pkt->frame_len)
		return XLB_DROP_MALFORMED;

	pkt->ip_len = sizeof(*ip6) + plen;
	pkt->tos = (ip6->priority << 4) | (ip6->flow_lbl[0] >> 4);
	pkt->key.family = XLB_AF_INET6;
	pkt->key.proto = ip6->nexthdr;
	__builtin_memcpy(pkt->key.src, &ip6->saddr, sizeof(pkt->key.src));
	__builtin_memcpy(pkt->key.dst, &ip6->daddr, sizeof(pkt->key.dst));

	/* Any other next header, extension headers included, is the kernel's. */
	if (ip6->nexthdr == IPPROTO_ICMPV6)
		return xlb_parse_icmp6(ip6 + 1, data_end, plen, pkt);
	return xlb_parse_l4(ip6 + 1, data_end, plen, pkt);
}

static __always_inline int xlb_parse(struct xdp_md *ctx, struct xlb_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct xlb_vlan_hdr *vh;
	__be16 proto;

	pkt->frame_len = data_end - data;
	pkt->l3_off = sizeof(*eth);
	if ((void *)(eth + 1) > data_end)
		return XLB_PASS_NOT_IP;
	proto = eth->h_proto;
	if (proto == bpf_htons(XLB_ETH_P_8021Q)) {
		vh = (void *)(eth + 1);
		if ((void *)(vh + 1) > data_end)
			return XLB_PASS_NOT_IP;
		proto = vh->proto;
		pkt->vlan = 1;
		pkt->vlan_tci = vh->tci;
		pkt->l3_off += sizeof(*vh);
	}

	if (proto == bpf_htons(ETH_P_IP))
		return xlb_parse_ipv4(data, data_end, pkt);
	if (proto == bpf_htons(ETH_P_IPV6))
		return xlb_parse_ipv6(data, data_end, pkt);
	return XLB_PASS_NOT_IP;
}

#endif /* XLB_PARSE_H */
