/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The backend side of xlb's tunnels: recognise an outer IPv4 or IPv6 header
 * addressed to one of this host's decap addresses that carries the client's
 * packet directly (IPv4 protocol 4, IPv6 next header 41 or 4) or in GUE (UDP
 * to the GUE port, lib/gue.h); refuse it unless it came from a balancer (its
 * outer source in the --from prefixes) and is for this host (its inner
 * destination a local address, the VIP on lo); and strip it, so the kernel
 * sees the client's packet to the VIP and answers it directly.
 *
 * "Local" is a map the CLI fills at attach with every address of the
 * namespace, not bpf_fib_lookup: on a host that does not forward (a
 * backend's default) the FIB helper answers FWD_DISABLED before it looks at
 * the route, so it cannot tell a local destination from a foreign one.
 */
#ifndef XLB_DECAP_H
#define XLB_DECAP_H

#include "consts.h"
#include "l2.h"
#include "csum.h"
#include "reasons.h"

#define XLB_ECN_MASK		0x03
#define XLB_ECN_CE		0x03
/* IPv6: the traffic class's ECN bits sit in the top nibble of flow_lbl[0]. */
#define XLB_IPV6_ECN_SHIFT	4
#define XLB_IPV4_ADDR_BITS	32
#define XLB_IPV6_ADDR_BITS	128

/* The UDP port GUE arrives on, network order: set by the loader (decap attach --gue-port). */
const volatile __be16 decap_gue_port = bpf_htons(XLB_GUE_PORT_DEFAULT);

/* This interface's addresses: the tunnels' outer destinations. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_DECAP_ADDRS);
	__type(key, struct xlb_decap_key);
	__type(value, __u8);
} decap_addrs SEC(".maps");

/* Every address of the host (namespace): an inner destination must be one. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_LOCAL_ADDRS);
	__type(key, struct xlb_decap_key);
	__type(value, __u8);
} decap_local SEC(".maps");

/* The balancers' source prefixes (--from), one trie per family. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XLB_MAX_DECAP_FROM);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xlb_lpm4_key);
	__type(value, __u8);
} decap_from4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XLB_MAX_DECAP_FROM);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xlb_lpm6_key);
	__type(value, __u8);
} decap_from6 SEC(".maps");

/* The CLI's own state of this instance (GUE port, mode); never read here. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_decap_ctl);
} decap_ctl SEC(".maps");

/* What decap_outer found: how much to strip and what comes after it. */
struct xlb_outer {
	__u32 payload;		/* bytes of the inner packet, as the outer headers say */
	__u8 len;		/* bytes to strip: outer IP (+ UDP, GUE, hops); a byte keeps bounds tight */
	__u8 ip_len;		/* outer IP header bytes */
	__u8 inner;		/* IPPROTO_IPIP or IPPROTO_IPV6 */
	__u8 ecn;		/* the outer header's ECN bits */
	__u8 family;		/* the outer header's, XLB_AF_* */
	__u8 hops;		/* a GUE hop list follows the GUE header */
	__u8 next;		/* hop list: the index of this copy's hop */
	__u8 count;		/* hop list: valid hops */
};

/* Count @reason and return its action: every exit of the decap program comes here. */
static __always_inline int xlb_decap_verdict(int reason)
{
	xlb_count_reason(reason);
	switch (reason) {
	case XLB_DECAP_FOREIGN_SRC:
	case XLB_DECAP_FOREIGN_DST:
	case XLB_DECAP_BAD_GUE:
		return XDP_DROP;
	case XLB_DECAP_CHAIN_TX:
	case XLB_DECAP_CHAIN_BOUNCE:
		return XDP_TX;
	case XLB_DECAP_CHAIN_REDIRECT:
		return XDP_REDIRECT;
	default:
		return xlb_reason_action(reason);
	}
}

/* The reasons after which the packet is stripped and goes up the stack. */
static __always_inline int xlb_decap_delivers(int reason)
{
	return reason == XLB_DECAP_OK || reason == XLB_DECAP_OWNED ||
	       reason == XLB_DECAP_LAST_HOP || reason == XLB_DECAP_SELF_HOP ||
	       reason == XLB_DECAP_NO_ROUTE;
}

static __always_inline int xlb_addr_in(void *map, __u8 family, const void *addr, __u32 size)
{
	struct xlb_decap_key key = {};

	key.family = family;
	__builtin_memcpy(key.addr, addr, size);
	return bpf_map_lookup_elem(map, &key) != NULL;
}

static __always_inline int xlb_decap_addr_is_ours(__u8 family, const void *addr, __u32 size)
{
	return xlb_addr_in(&decap_addrs, family, addr, size);
}

static __always_inline int xlb_from4_ok(__be32 saddr)
{
	struct xlb_lpm4_key key = { .prefixlen = XLB_IPV4_ADDR_BITS, .addr = saddr };

	return bpf_map_lookup_elem(&decap_from4, &key) != NULL;
}

static __always_inline int xlb_from6_ok(const struct in6_addr *saddr)
{
	struct xlb_lpm6_key key = { .prefixlen = XLB_IPV6_ADDR_BITS };

	__builtin_memcpy(key.addr, saddr, sizeof(key.addr));
	return bpf_map_lookup_elem(&decap_from6, &key) != NULL;
}

#include "gue_parse.h"

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
 * corrupt or claims more bytes than the frame holds; XLB_DECAP_FOREIGN_SRC
 * if it is ours but not from a balancer; XLB_DECAP_BAD_GUE if its GUE lies.
 */
static __always_inline int xlb_decap_outer4(struct iphdr *ip, void *data_end,
					    struct xlb_outer *out)
{
	void *l4;

	if ((void *)(ip + 1) > data_end || ip->version != XLB_IPV4_VERSION ||
	    ip->ihl < XLB_IPV4_IHL_MIN ||
	    (ip->protocol != IPPROTO_IPIP && ip->protocol != IPPROTO_UDP))
		return XLB_DECAP_PASS;
	/* Fragments of a tunnel packet are the kernel's to reassemble (or drop). */
	if (ip->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET))
		return XLB_DECAP_PASS;
	out->ip_len = ip->ihl * 4;
	l4 = (void *)ip + out->ip_len;
	if (ip->protocol == IPPROTO_UDP && !xlb_gue_port_is(l4, data_end))
		return XLB_DECAP_PASS;
	if (!xlb_decap_addr_is_ours(XLB_AF_INET, &ip->daddr, sizeof(ip->daddr)))
		return XLB_DECAP_PASS;
	if ((void *)ip + bpf_ntohs(ip->tot_len) > data_end || !xlb_outer4_csum_ok(ip, data_end))
		return XLB_DECAP_MALFORMED;
	if (!xlb_from4_ok(ip->saddr))
		return XLB_DECAP_FOREIGN_SRC;
	out->family = XLB_AF_INET;
	out->len = out->ip_len;
	out->payload = bpf_ntohs(ip->tot_len);
	out->payload = out->payload > out->len ? out->payload - out->len : 0;
	out->ecn = ip->tos & XLB_ECN_MASK;
	if (ip->protocol == IPPROTO_IPIP) {
		out->inner = IPPROTO_IPIP;
		return XLB_CONTINUE;
	}
	return xlb_gue_parse(l4, data_end, out, &ip->daddr);
}

static __always_inline int xlb_decap_outer6(struct ipv6hdr *ip6, void *data_end,
					    struct xlb_outer *out)
{
	__u8 nh;

	if ((void *)(ip6 + 1) > data_end || ip6->version != XLB_IPV6_VERSION)
		return XLB_DECAP_PASS;
	nh = ip6->nexthdr;
	if (nh != IPPROTO_IPIP && nh != IPPROTO_IPV6 && nh != IPPROTO_UDP)
		return XLB_DECAP_PASS;
	if (nh == IPPROTO_UDP && !xlb_gue_port_is(ip6 + 1, data_end))
		return XLB_DECAP_PASS;
	if (!xlb_decap_addr_is_ours(XLB_AF_INET6, &ip6->daddr, sizeof(ip6->daddr)))
		return XLB_DECAP_PASS;
	if ((void *)(ip6 + 1) + bpf_ntohs(ip6->payload_len) > data_end)
		return XLB_DECAP_MALFORMED;
	if (!xlb_from6_ok(&ip6->saddr))
		return XLB_DECAP_FOREIGN_SRC;
	out->family = XLB_AF_INET6;
	out->ip_len = sizeof(*ip6);
	out->len = sizeof(*ip6);
	out->payload = bpf_ntohs(ip6->payload_len);
	out->ecn = (ip6->flow_lbl[0] >> XLB_IPV6_ECN_SHIFT) & XLB_ECN_MASK;
	if (nh != IPPROTO_UDP) {
		out->inner = nh;
		return XLB_CONTINUE;
	}
	return xlb_gue_parse((void *)(ip6 + 1), data_end, out, (const __u32 *)&ip6->daddr);
}

/*
 * Check the inner header is whole and of the announced family, and that
 * it is addressed to this host. Returns the inner ethertype, or 0 with
 * *@reason set (malformed, or a foreign destination).
 */
static __always_inline __be16 xlb_decap_inner(void *inner, void *data_end,
					      const struct xlb_outer *out, int *reason)
{
	struct ipv6hdr *ip6 = inner;
	struct iphdr *ip = inner;

	*reason = XLB_DECAP_MALFORMED;
	if (out->inner == IPPROTO_IPIP) {
		if ((void *)(ip + 1) > data_end || out->payload < sizeof(*ip) ||
		    ip->version != XLB_IPV4_VERSION)
			return 0;
		*reason = XLB_DECAP_FOREIGN_DST;
		if (!xlb_addr_in(&decap_local, XLB_AF_INET, &ip->daddr, sizeof(ip->daddr)))
			return 0;
		return bpf_htons(ETH_P_IP);
	}
	if ((void *)(ip6 + 1) > data_end || out->payload < sizeof(*ip6) ||
	    ip6->version != XLB_IPV6_VERSION)
		return 0;
	*reason = XLB_DECAP_FOREIGN_DST;
	if (!xlb_addr_in(&decap_local, XLB_AF_INET6, &ip6->daddr, sizeof(ip6->daddr)))
		return 0;
	return bpf_htons(ETH_P_IPV6);
}

/*
 * Carry a congestion mark the outer header picked up on the way (RFC 6040:
 * CE outside, ECN-capable inside), just before the outer header goes.
 */
static __always_inline void xlb_decap_ecn(void *inner, void *data_end,
					  const struct xlb_outer *out)
{
	struct ipv6hdr *ip6 = inner;
	struct iphdr *ip = inner;
	__u16 old;

	if (out->ecn != XLB_ECN_CE)
		return;
	if (out->inner == IPPROTO_IPIP) {
		if ((void *)(ip + 1) > data_end || !(ip->tos & XLB_ECN_MASK))
			return;
		old = *(__u16 *)ip;
		ip->tos |= XLB_ECN_CE;
		ip->check = xlb_csum_replace16(ip->check, old, *(__u16 *)ip);
		return;
	}
	if ((void *)(ip6 + 1) > data_end)
		return;
	if ((ip6->flow_lbl[0] >> XLB_IPV6_ECN_SHIFT) & XLB_ECN_MASK)
		ip6->flow_lbl[0] |= XLB_ECN_CE << XLB_IPV6_ECN_SHIFT;
}

#endif /* XLB_DECAP_H */
