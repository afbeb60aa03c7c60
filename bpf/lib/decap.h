/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The backend side of xlb's tunnels: recognise an outer IPv4 (protocol 4)
 * or IPv6 (next header 41 or 4) header addressed to one of this host's
 * decap addresses, and strip it, so the kernel sees the client's packet to
 * the VIP (configured on lo) and answers it directly.
 */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include "consts.h"
#include "l2.h"
#include "csum.h"

#define XLB_ECN_MASK		0x03
#define XLB_ECN_CE		0x03
/* IPv6: the traffic class's ECN bits sit in the top nibble of flow_lbl[0]. */
#define XLB_IPV6_ECN_SHIFT	4

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_DECAP_ADDRS);
	__type(key, struct xlb_decap_key);
	__type(value, __u8);
} decap_addrs SEC(".maps");

/* What decap_outer found: how much to strip and what comes after it. */
struct xlb_outer {
	__u32 payload;		/* bytes the outer header says follow it */
	__u8 len;		/* outer IP header bytes; a byte keeps the verifier's bounds tight */
	__u8 inner;		/* IPPROTO_IPIP or IPPROTO_IPV6 */
	__u8 ecn;		/* the outer header's ECN bits */
};

static __always_inline int xlb_decap_addr_is_ours(__u8 family, const void *addr, __u32 size)
{
	struct xlb_decap_key key = {};

	key.family = family;
	__builtin_memcpy(key.addr, addr, size);
	return bpf_map_lookup_elem(&decap_addrs, &key) != NULL;
}

/*
 * The outer IPv4 header's checksum, options included, is valid. Stripping
 * the header loses the only evidence of a corrupted one, so check it here.
 */
static __always_inline int xlb_outer4_csum_ok(struct iphdr *ip, void *data_end)
{
	__u16 *w = (__u16 *)ip;
	__u32 words = ip->ihl * 2;
	__u64 sum = 0;

	/* A constant trip count, so it unrolls; each word proves its own bound. */
#pragma unroll
	for (int i = 0; i < XLB_IPV4_HDR_MAX / 2; i++) {
		if (i < words) {
			if ((void *)(w + i + 1) > data_end)
				return 0;
			sum += w[i];
		}
	}
	return xlb_csum_fold(sum) == 0;
}

/*
 * XLB_CONTINUE if @ip is a tunnel packet for this host; XLB_DECAP_PASS if
 * it is not; XLB_DECAP_MALFORMED if it is ours but its outer header is
 * corrupt or claims more bytes than the frame holds.
 */
static __always_inline int xlb_decap_outer4(struct iphdr *ip, void *data_end,
					    struct xlb_outer *out)
{
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_IPIP ||
	    ip->version != XLB_IPV4_VERSION || ip->ihl < XLB_IPV4_IHL_MIN)
		return XLB_DECAP_PASS;
	/* Fragments of a tunnel packet are the kernel's to reassemble (or drop). */
	if (ip->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET))
		return XLB_DECAP_PASS;
	if (!xlb_decap_addr_is_ours(XLB_AF_INET, &ip->daddr, sizeof(ip->daddr)))
		return XLB_DECAP_PASS;
	if ((void *)ip + bpf_ntohs(ip->tot_len) > data_end || !xlb_outer4_csum_ok(ip, data_end))
		return XLB_DECAP_MALFORMED;
	out->len = ip->ihl * 4;
	out->payload = bpf_ntohs(ip->tot_len);
	out->payload = out->payload > out->len ? out->payload - out->len : 0;
	out->inner = IPPROTO_IPIP;
	out->ecn = ip->tos & XLB_ECN_MASK;
	return XLB_CONTINUE;
}

static __always_inline int xlb_decap_outer6(struct ipv6hdr *ip6, void *data_end,
					    struct xlb_outer *out)
{
	if ((void *)(ip6 + 1) > data_end || ip6->version != XLB_IPV6_VERSION ||
	    (ip6->nexthdr != IPPROTO_IPIP && ip6->nexthdr != IPPROTO_IPV6))
		return XLB_DECAP_PASS;
	if (!xlb_decap_addr_is_ours(XLB_AF_INET6, &ip6->daddr, sizeof(ip6->daddr)))
		return XLB_DECAP_PASS;
	if ((void *)(ip6 + 1) + bpf_ntohs(ip6->payload_len) > data_end)
		return XLB_DECAP_MALFORMED;
	out->len = sizeof(*ip6);
	out->payload = bpf_ntohs(ip6->payload_len);
	out->inner = ip6->nexthdr;
	out->ecn = (ip6->flow_lbl[0] >> XLB_IPV6_ECN_SHIFT) & XLB_ECN_MASK;
	return XLB_CONTINUE;
}

/*
 * Check the inner header is whole and of the announced family, and carry
 * a congestion mark the outer header picked up on the way (RFC 6040: CE
 * outside, ECN-capable inside). Returns the inner ethertype, or 0 if the
 * packet is malformed.
 */
static __always_inline __be16 xlb_decap_inner(void *inner, void *data_end,
					      const struct xlb_outer *out)
{
	struct ipv6hdr *ip6 = inner;
	struct iphdr *ip = inner;
	__u16 old;

	if (out->inner == IPPROTO_IPIP) {
		if ((void *)(ip + 1) > data_end || out->payload < sizeof(*ip) ||
		    ip->version != XLB_IPV4_VERSION)
			return 0;
		if (out->ecn == XLB_ECN_CE && (ip->tos & XLB_ECN_MASK)) {
			old = *(__u16 *)ip;
			ip->tos |= XLB_ECN_CE;
			ip->check = xlb_csum_replace16(ip->check, old, *(__u16 *)ip);
		}
		return bpf_htons(ETH_P_IP);
	}
	if ((void *)(ip6 + 1) > data_end || out->payload < sizeof(*ip6) ||
	    ip6->version != XLB_IPV6_VERSION)
		return 0;
	if (out->ecn == XLB_ECN_CE && ((ip6->flow_lbl[0] >> XLB_IPV6_ECN_SHIFT) & XLB_ECN_MASK))
		ip6->flow_lbl[0] |= XLB_ECN_CE << XLB_IPV6_ECN_SHIFT;
	return bpf_htons(ETH_P_IPV6);
}

#endif /* XLB_DECAP_H */
