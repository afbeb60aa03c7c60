/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GUE as the balancer sends it (the comment above struct xlb_gue_hdr in
 * xlb_abi.h): UDP to the GUE port, a 4-byte GUE header, an optional hop
 * list of a fixed size per outer family, then the client's packet. Every
 * field that says how long something is, or where this copy stands in the
 * chain, is checked against the others and against the outer header here,
 * once: a packet whose GUE lies is dropped, never delivered or forwarded,
 * and the later steps (lib/chain.h) trust what this step recorded.
 */
#ifndef XLB_GUE_PARSE_H
#define XLB_GUE_PARSE_H

#include "consts.h"

#define XLB_GUE_WORD		4
#define XLB_GUE_HOPS4_WORDS	((int)sizeof(struct xlb_gue_hops4) / XLB_GUE_WORD)
#define XLB_GUE_HOPS6_WORDS	((int)sizeof(struct xlb_gue_hops6) / XLB_GUE_WORD)
/* UDP + GUE header: what comes before the hop list. */
#define XLB_GUE_BASE_LEN	((int)(sizeof(struct udphdr) + sizeof(struct xlb_gue_hdr)))

/* A UDP header to the GUE port starts at @udp (any other UDP is not ours). */
static __always_inline int xlb_gue_port_is(void *udp, void *data_end)
{
	struct udphdr *uh = udp;

	return (void *)(uh + 1) <= data_end && uh->dest == decap_gue_port;
}

/* hop[@i] of an IPv4 hop list is @addr. */
static __always_inline int xlb_hop4_is(const struct xlb_gue_hops4 *h, __u8 i, __be32 addr)
{
	return i == 0 ? h->hop[0] == addr : h->hop[1] == addr;
}

static __always_inline int xlb_hop6_is(const struct xlb_gue_hops6 *h, __u8 i, const __u32 *addr)
{
	const __u32 *hop = i == 0 ? h->hop[0] : h->hop[1];

	return hop[0] == addr[0] && hop[1] == addr[1] && hop[2] == addr[2] && hop[3] == addr[3];
}

_Static_assert(XLB_GUE_HOPS_MAX == 2, "xlb_hop4_is/xlb_hop6_is name each hop");

/*
 * The hop list at @hops (of out->family's size) for a copy addressed to
 * @daddr: its type, a count of 1..XLB_GUE_HOPS_MAX, a next below it, and
 * hop[next] the outer destination. Fills next and count.
 */
static __always_inline int xlb_gue_hops(void *hops, void *data_end, struct xlb_outer *out,
					const __u32 *daddr)
{
	struct xlb_gue_hops4 *h4 = hops;
	struct xlb_gue_hops6 *h6 = hops;

	if (out->family == XLB_AF_INET) {
		if ((void *)(h4 + 1) > data_end || h4->type != bpf_htons(XLB_GUE_HOPS_TYPE))
			return XLB_DECAP_BAD_GUE;
		out->next = h4->next;
		out->count = h4->count;
	} else {
		if ((void *)(h6 + 1) > data_end || h6->type != bpf_htons(XLB_GUE_HOPS_TYPE))
			return XLB_DECAP_BAD_GUE;
		out->next = h6->next;
		out->count = h6->count;
	}
	if (out->count < 1 || out->count > XLB_GUE_HOPS_MAX || out->next >= out->count)
		return XLB_DECAP_BAD_GUE;
	if (out->family == XLB_AF_INET ? !xlb_hop4_is(h4, out->next, daddr[0])
				       : !xlb_hop6_is(h6, out->next, daddr))
		return XLB_DECAP_BAD_GUE;
	out->hops = 1;
	return XLB_CONTINUE;
}

/*
 * The GUE packet at @udp (UDP header to the GUE port, in an outer header
 * of family out->family whose payload length is out->payload): its UDP
 * length must be that payload, its GUE header version 0, no control, no
 * flags, a known inner protocol, and a private-data length of 0 (no hop
 * list) or exactly the hop list of the outer family. Adds what it covers
 * to out->len and leaves in out->payload the inner packet's length.
 */
static __always_inline int xlb_gue_parse(void *udp, void *data_end, struct xlb_outer *out,
					 const __u32 *daddr)
{
	struct udphdr *uh = udp;
	struct xlb_gue_hdr *gue = (void *)(uh + 1);
	__u32 ulen = bpf_ntohs(uh->len), hlen, want, over;
	int ret;

	if ((void *)(gue + 1) > data_end || ulen != out->payload || ulen < XLB_GUE_BASE_LEN)
		return XLB_DECAP_BAD_GUE;
	if ((gue->hlen & XLB_GUE_VER_C_MASK) || gue->flags ||
	    (gue->proto != IPPROTO_IPIP && gue->proto != IPPROTO_IPV6))
		return XLB_DECAP_BAD_GUE;
	hlen = gue->hlen & XLB_GUE_HLEN_MASK;
	out->inner = gue->proto;
	out->hops = 0;
	want = out->family == XLB_AF_INET ? XLB_GUE_HOPS4_WORDS : XLB_GUE_HOPS6_WORDS;
	if (hlen) {
		if (hlen != want)
			return XLB_DECAP_BAD_GUE;
		ret = xlb_gue_hops(gue + 1, data_end, out, daddr);
		if (ret != XLB_CONTINUE)
			return ret;
	}
	over = XLB_GUE_BASE_LEN + hlen * XLB_GUE_WORD;
	if (ulen < over)
		return XLB_DECAP_BAD_GUE;
	out->len += over;
	out->payload = ulen - over;
	return XLB_CONTINUE;
}

#endif /* XLB_GUE_PARSE_H */
