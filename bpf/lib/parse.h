/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 1 of the packet path: parse Ethernet, one optional 802.1Q tag, IPv4
 * or IPv6 (with up to XLB_IPV6_EXT_MAX hop-by-hop, routing, destination
 * options and fragment headers skipped) and the L4 header into a struct
 * xlb_pkt, validating every length on the way, since a malformed packet
 * must never be forwarded. ICMP errors are handed to icmp.h, which fills
 * the flow key from the embedded header; fragments to frag.h. What parsing
 * cannot balance it returns as a pass reason with the destination filled
 * in: xlb_unbalanced() (vip.h) then drops it if that is a VIP address.
 */
#ifndef XLB_PARSE_H
#define XLB_PARSE_H

#include "consts.h"
#include "pkt.h"
#include "l2.h"
#include "icmp.h"
#include "frag.h"

/*
 * IPv6 extension headers walked before giving up (hop-by-hop, routing,
 * destination options, fragment), and the most bytes of them: a bound the
 * verifier can see, far above what real traffic carries.
 */
#define XLB_IPV6_EXT_MAX	4
#define XLB_IPV6_EXT_LEN_MAX	512
#define XLB_IPV6_EXT_UNIT	8		/* hdrlen counts 8-byte units beyond the first */
#define XLB_IPV6_FRAG_OFFSET	0xfff8		/* fragment header: offset bits */
#define XLB_IPV6_FRAG_MF	0x0001
#define XLB_NEXTHDR_HOP		0
#define XLB_NEXTHDR_ROUTING	43
#define XLB_NEXTHDR_FRAGMENT	44
#define XLB_NEXTHDR_DEST	60
#define XLB_ICMP6_ND_FIRST	133		/* router solicitation ... */
#define XLB_ICMP6_ND_LAST	137		/* ... redirect (RFC 4861) */

/* The first 8 bytes of every header we skip; the fragment header is exactly this. */
struct xlb_ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;		/* not in the fragment header (reserved) */
	__be16 frag_off;	/* fragment header: offset << 3 | M */
	__be32 id;		/* fragment header: identification */
};

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
		/* A length under its header, or past the IP payload, lies. */
		if (bpf_ntohs(udp->len) < sizeof(*udp) || bpf_ntohs(udp->len) > l4_len)
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

	pkt->ip_len = tot;
	pkt->ihl = ip->ihl;
	pkt->tos = ip->tos;
	pkt->df = !!(ip->frag_off & bpf_htons(XLB_IP_DF));
	pkt->key.family = XLB_AF_INET;
	pkt->key.proto = ip->protocol;
	pkt->key.src[0] = ip->saddr;
	pkt->key.dst[0] = ip->daddr;

	if (ip->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET)) {
		pkt->frag_id = bpf_ntohs(ip->id);
		if (ip->protocol == IPPROTO_ICMP)
			return XLB_PASS_FRAGMENT;
		if (ip->frag_off & bpf_htons(XLB_IP_OFFSET))
			return xlb_frag_later(pkt);
		pkt->frag = XLB_FRAG_FIRST;
		pkt->l4_opaque = 1;
	}
	if (ip->protocol == IPPROTO_ICMP)
		return xlb_parse_icmp4((void *)ip + hlen, data_end, tot - hlen, pkt);
	return xlb_parse_l4((void *)ip + hlen, data_end, tot - hlen, pkt);
}

static __always_inline int xlb_ipv6_ext_hdr(__u8 nh)
{
	return nh == XLB_NEXTHDR_HOP || nh == XLB_NEXTHDR_ROUTING || nh == XLB_NEXTHDR_DEST ||
	       nh == XLB_NEXTHDR_FRAGMENT;
}

/*
 * A fragment header at @eh (its next header already in pkt->key.proto):
 * XLB_CONTINUE to go on parsing (an atomic fragment, RFC 6946, or a first
 * fragment), or the verdict of a fragment that cannot be parsed further.
 */
static __always_inline int xlb_ipv6_frag(const struct xlb_ipv6_ext *eh, struct xlb_pkt *pkt)
{
	if (!(eh->frag_off & bpf_htons(XLB_IPV6_FRAG_OFFSET | XLB_IPV6_FRAG_MF)))
		return XLB_CONTINUE;
	pkt->frag_id = bpf_ntohl(eh->id);
	if (pkt->key.proto == IPPROTO_ICMPV6)
		return XLB_PASS_FRAGMENT;
	if (eh->frag_off & bpf_htons(XLB_IPV6_FRAG_OFFSET))
		return xlb_frag_later(pkt);
	pkt->frag = XLB_FRAG_FIRST;
	return XLB_CONTINUE;
}

/*
 * Skip the extension headers after @ip6 (payload @plen bytes): at most
 * XLB_IPV6_EXT_MAX, hop-by-hop only first (RFC 8200 4.1). Leaves the
 * upper-layer protocol in pkt->key.proto and its offset from the end of
 * the fixed header in *@ext_len; a later fragment placed by frag.h stops
 * there with XLB_CONTINUE and pkt->frag set. Anything else (AH, ESP, no next header, an
 * unknown one, a longer chain) is XLB_PASS_PROTO.
 */
static __always_inline int xlb_ipv6_skip_ext(struct ipv6hdr *ip6, void *data_end, __u32 plen,
					     struct xlb_pkt *pkt, __u32 *ext_len)
{
	struct xlb_ipv6_ext *eh;
	__u32 len = 0;
	__u8 nh = ip6->nexthdr;
	int i, ret;

	for (i = 0; i < XLB_IPV6_EXT_MAX; i++) {
		if (!xlb_ipv6_ext_hdr(nh))
			break;
		if (len > plen)
			return XLB_DROP_MALFORMED;
		if ((nh == XLB_NEXTHDR_HOP && i) || len > XLB_IPV6_EXT_LEN_MAX)
			return XLB_PASS_PROTO;
		eh = (void *)(ip6 + 1) + len;
		if ((void *)(eh + 1) > data_end || len + sizeof(*eh) > plen)
			return XLB_DROP_MALFORMED;
		pkt->l4_opaque = 1;
		pkt->key.proto = eh->nexthdr;
		if (nh == XLB_NEXTHDR_FRAGMENT) {
			len += sizeof(*eh);
			ret = xlb_ipv6_frag(eh, pkt);
			/* A later fragment placed: nothing after this header is ours to read. */
			if (ret != XLB_CONTINUE || pkt->frag == XLB_FRAG_LATER)
				return ret;
		} else {
			len += (eh->hdrlen + 1) * XLB_IPV6_EXT_UNIT;
		}
		nh = eh->nexthdr;
	}
	if (len > plen)
		return XLB_DROP_MALFORMED;
	if (xlb_ipv6_ext_hdr(nh) || len > XLB_IPV6_EXT_LEN_MAX)
		return XLB_PASS_PROTO;
	pkt->key.proto = nh;
	*ext_len = len;
	return XLB_CONTINUE;
}

/*
 * Neighbour discovery is link-local (hop limit 255, never forwarded): the
 * kernel's even for a VIP address, where it cannot loop, and where dropping
 * it would break a setup that answers ND for its VIPs.
 */
static __always_inline __u8 xlb_icmp6_is_nd(void *l4, void *data_end)
{
	struct icmp6hdr *icmp = l4;

	if ((void *)(icmp + 1) > data_end)
		return 0;
	return icmp->icmp6_type >= XLB_ICMP6_ND_FIRST && icmp->icmp6_type <= XLB_ICMP6_ND_LAST;
}

static __always_inline int xlb_parse_ipv6(void *data, void *data_end, struct xlb_pkt *pkt)
{
	struct ipv6hdr *ip6 = data + pkt->l3_off;
	__u32 plen, ext_len = 0;
	void *l4;
	int ret;

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

	/* Most packets have no extension header: they skip the walk. */
	if (xlb_ipv6_ext_hdr(ip6->nexthdr)) {
		ret = xlb_ipv6_skip_ext(ip6, data_end, plen, pkt, &ext_len);
		if (ret != XLB_CONTINUE || pkt->frag == XLB_FRAG_LATER)
			return ret;
	}
	l4 = (void *)(ip6 + 1) + ext_len;
	if (pkt->key.proto == IPPROTO_ICMPV6) {
		pkt->nd = xlb_icmp6_is_nd(l4, data_end);
		return xlb_parse_icmp6(l4, data_end, plen - ext_len, pkt);
	}
	return xlb_parse_l4(l4, data_end, plen - ext_len, pkt);
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
