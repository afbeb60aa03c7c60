/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ICMP, both directions.
 *
 * In: an ICMP error (IPv4 destination unreachable or time exceeded, ICMPv6
 * types 1-4) about a packet a backend sent from a VIP must reach that
 * backend, e.g. so its TCP learns the path MTU. The error quotes the
 * offending header; reversing that quote gives the flow key as the client's
 * packets carry it, and the packet is then balanced like one of them.
 *
 * Out: a VIP packet that would not fit the route once encapsulated is
 * answered with "fragmentation needed" / "packet too big" carrying the MTU
 * left after our outer header, so the client lowers its segment size. The
 * replies are capped per CPU (icmp_budget), and a too-big packet that gets
 * no reply is dropped, never passed: the kernel does not own the VIP and
 * would route it straight back.
 */
#ifndef XLB_ICMP_H
#define XLB_ICMP_H

#include "consts.h"
#include "pkt.h"
#include "l2.h"
#include "csum.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_icmp_bucket);
} icmp_budget SEC(".maps");

#define XLB_ICMP_TOKEN_NS	(1000ULL * 1000 * 1000 / XLB_ICMP_RATE_PER_S)

/* May this CPU send one more reply? Takes a token if so. */
static __always_inline int xlb_icmp_allow(void)
{
	struct xlb_icmp_bucket *b;
	__u64 now, add;
	__u32 zero = 0;

	b = bpf_map_lookup_elem(&icmp_budget, &zero);
	if (!b)
		return 0;
	now = bpf_ktime_get_coarse_ns();
	add = (now - b->stamp_ns) / XLB_ICMP_TOKEN_NS;
	if (add) {
		b->tokens = add >= XLB_ICMP_BURST || b->tokens + add >= XLB_ICMP_BURST ?
			    XLB_ICMP_BURST : b->tokens + add;
		b->stamp_ns = now;
	}
	if (!b->tokens)
		return 0;
	b->tokens--;
	return 1;
}

/* Ports of the quoted L4 header: the first 4 of its 8 quoted bytes, as in TCP and UDP. */
struct xlb_quoted_ports {
	__be16 source;
	__be16 dest;
	__u32 rest;
};

static __always_inline int xlb_quoted_proto_ok(__u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP;
}

/* Turn the quoted packet's ports into the flow key of the client's direction. */
static __always_inline void xlb_key_from_quote(struct xlb_pkt *pkt, __u8 proto,
					       const struct xlb_quoted_ports *qp)
{
	pkt->key.proto = proto;
	pkt->key.sport = qp->dest;
	pkt->key.dport = qp->source;
	pkt->icmp_err = 1;
}

static __always_inline int xlb_parse_icmp4(void *l4, void *data_end, __u32 l4_len,
					   struct xlb_pkt *pkt)
{
	struct xlb_icmphdr *icmp = l4;
	struct xlb_quoted_ports *qp;
	struct iphdr *in;
	__u32 hlen;

	if ((void *)(icmp + 1) > data_end || l4_len < sizeof(*icmp))
		return XLB_DROP_MALFORMED;
	if (icmp->type != XLB_ICMP_DEST_UNREACH && icmp->type != XLB_ICMP_TIME_EXCEEDED)
		return XLB_PASS_ICMP_NOT_VIP;

	in = (void *)(icmp + 1);
	if ((void *)(in + 1) > data_end || l4_len < sizeof(*icmp) + sizeof(*in))
		return XLB_DROP_MALFORMED;
	if (in->version != XLB_IPV4_VERSION || in->ihl < XLB_IPV4_IHL_MIN)
		return XLB_DROP_MALFORMED;
	hlen = in->ihl * 4;
	qp = (void *)in + hlen;
	if ((void *)(qp + 1) > data_end || l4_len < sizeof(*icmp) + hlen + sizeof(*qp))
		return XLB_DROP_MALFORMED;
	/* A non-first fragment quotes no ports: it cannot be matched to a flow. */
	if (in->frag_off & bpf_htons(XLB_IP_OFFSET) || !xlb_quoted_proto_ok(in->protocol))
		return XLB_PASS_ICMP_NOT_VIP;

	pkt->key.src[0] = in->daddr;
	pkt->key.dst[0] = in->saddr;
	xlb_key_from_quote(pkt, in->protocol, qp);
	return XLB_CONTINUE;
}

static __always_inline int xlb_parse_icmp6(void *l4, void *data_end, __u32 l4_len,
					   struct xlb_pkt *pkt)
{
	struct icmp6hdr *icmp = l4;
	struct xlb_quoted_ports *qp;
	struct ipv6hdr *in;

	if ((void *)(icmp + 1) > data_end || l4_len < sizeof(*icmp))
		return XLB_DROP_MALFORMED;
	/* Neighbour discovery, echo, ... are informational: the kernel's. */
	if (icmp->icmp6_type < XLB_ICMP6_ERR_MIN || icmp->icmp6_type > XLB_ICMP6_ERR_MAX)
		return XLB_PASS_ICMP_NOT_VIP;

	in = (void *)(icmp + 1);
	qp = (void *)(in + 1);
	if ((void *)(qp + 1) > data_end || l4_len < sizeof(*icmp) + sizeof(*in) + sizeof(*qp))
		return XLB_DROP_MALFORMED;
	if (in->version != XLB_IPV6_VERSION)
		return XLB_DROP_MALFORMED;
	/* We never balance packets with extension headers, so no VIP sent one. */
	if (!xlb_quoted_proto_ok(in->nexthdr))
		return XLB_PASS_ICMP_NOT_VIP;

	__builtin_memcpy(pkt->key.src, &in->daddr, sizeof(pkt->key.src));
	__builtin_memcpy(pkt->key.dst, &in->saddr, sizeof(pkt->key.dst));
	xlb_key_from_quote(pkt, in->nexthdr, qp);
	return XLB_CONTINUE;
}

/*
 * Shrink the frame to @keep bytes, then open @room bytes at its front.
 * Returns 0, or -1 once the packet may already be modified.
 */
static __always_inline int xlb_reshape(struct xdp_md *ctx, __u32 keep, int room)
{
	int delta = (int)keep - (int)(ctx->data_end - ctx->data);

	if (delta < 0 && bpf_xdp_adjust_tail(ctx, delta))
		return -1;
	return bpf_xdp_adjust_head(ctx, -room) ? -1 : 0;
}

/*
 * IPv4 "fragmentation needed" to the client, in place of the packet.
 *
 * Only for DF packets: without DF the sender expects routers to fragment,
 * which XDP cannot do, so such a packet is dropped (drop_too_big), as is a
 * too-big ICMP error (no errors about errors, RFC 1122 3.2.2).
 * The quote is the offending IP header, options included, and 8 bytes
 * after it (RFC 792). Its checksum is taken before the head moves, bounded
 * by the largest possible quote: a frame shorter than that cannot have been
 * too big for a sane route (it would take a route MTU under 88 bytes).
 */
static __always_inline int xlb_icmp4_too_big(struct xdp_md *ctx, const struct xlb_pkt *pkt,
					     __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int room = sizeof(struct iphdr) + sizeof(struct xlb_icmphdr);
	struct ethhdr *eth = data;
	struct xlb_icmphdr *icmp;
	__u8 smac[ETH_ALEN], dmac[ETH_ALEN];
	__be32 client, vip;
	struct iphdr *ip;
	__u32 quote_len;
	__u64 sum;

	if (!pkt->df || pkt->icmp_err)
		return XLB_DROP_TOO_BIG;
	ip = data + pkt->l3_off;
	if ((void *)(eth + 1) > data_end || (void *)ip + XLB_ICMP4_QUOTE_MAX > data_end)
		return XLB_DROP_TOO_BIG;
	if (!xlb_icmp_allow())
		return XLB_DROP_ICMP_LIMIT;
	quote_len = (pkt->ihl & 0xf) * 4 + XLB_ICMP_QUOTE_L4;
	sum = bpf_csum_diff(NULL, 0, (__be32 *)ip, quote_len, 0);
	client = ip->saddr;
	vip = ip->daddr;
	__builtin_memcpy(dmac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(smac, eth->h_dest, ETH_ALEN);

	if (xlb_reshape(ctx, pkt->l3_off + quote_len, room))
		return XLB_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xlb_write_l2(data, data_end, pkt->vlan, pkt->vlan_tci, dmac, smac,
			 bpf_htons(ETH_P_IP)))
		return XLB_DROP_ENCAP;
	ip = data + pkt->l3_off;
	icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) > data_end)
		return XLB_DROP_ENCAP;

	ip->version = XLB_IPV4_VERSION;
	ip->ihl = XLB_IPV4_IHL_MIN;
	ip->tos = XLB_ICMP_TOS;
	ip->tot_len = bpf_htons(room + quote_len);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = XLB_ICMP_TTL;
	ip->protocol = IPPROTO_ICMP;
	ip->check = 0;
	ip->saddr = vip;
	ip->daddr = client;
	ip->check = xlb_ipv4_csum(ip);

	icmp->type = XLB_ICMP_FRAG_NEEDED_TYPE;
	icmp->code = XLB_ICMP_FRAG_NEEDED_CODE;
	icmp->checksum = 0;
	icmp->unused = 0;
	icmp->mtu = bpf_htons(mtu);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)icmp, sizeof(*icmp), sum);
	icmp->checksum = xlb_csum_fold(sum);
	return XLB_TX_TOO_BIG;
}

/* The IPv6 pseudo-header and ICMPv6 header, summed together for the checksum. */
struct xlb_icmp6_pseudo {
	struct in6_addr saddr;
	struct in6_addr daddr;
	__be32 len;
	__u8 zero[3];
	__u8 nexthdr;
	struct icmp6hdr icmp;
};

/*
 * ICMPv6 "packet too big" to the client, in place of the packet. The quote
 * is always XLB_ICMP6_QUOTE_LEN bytes (see consts.h); a frame shorter than
 * that cannot be too big for an IPv6 route, and is dropped rather than
 * trusted. The MTU advertised is never below IPv6's minimum
 * (RFC 8200 5): a route that cannot carry 1280 bytes plus our overhead is a
 * configuration error, not something to tell the client.
 */
static __always_inline int xlb_icmp6_too_big(struct xdp_md *ctx, const struct xlb_pkt *pkt,
					     __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	int room = sizeof(struct ipv6hdr) + sizeof(struct icmp6hdr);
	struct xlb_icmp6_pseudo ph = {};
	struct ethhdr *eth = data;
	__u8 smac[ETH_ALEN], dmac[ETH_ALEN];
	struct ipv6hdr *ip6;
	void *quote;
	__u64 sum;

	if (pkt->icmp_err)
		return XLB_DROP_TOO_BIG;
	ip6 = data + pkt->l3_off;
	quote = ip6;
	if ((void *)(eth + 1) > data_end || quote + XLB_ICMP6_QUOTE_LEN > data_end)
		return XLB_DROP_TOO_BIG;
	if (!xlb_icmp_allow())
		return XLB_DROP_ICMP_LIMIT;
	if (mtu < XLB_IPV6_MIN_MTU)
		mtu = XLB_IPV6_MIN_MTU;
	sum = bpf_csum_diff(NULL, 0, quote, XLB_CSUM_CHUNK, 0);
	sum = bpf_csum_diff(NULL, 0, quote + XLB_CSUM_CHUNK, XLB_CSUM_CHUNK, sum);
	sum = bpf_csum_diff(NULL, 0, quote + 2 * XLB_CSUM_CHUNK, XLB_ICMP6_QUOTE_TAIL, sum);
	ph.saddr = ip6->daddr;
	ph.daddr = ip6->saddr;
	__builtin_memcpy(dmac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(smac, eth->h_dest, ETH_ALEN);

	ph.len = bpf_htonl(sizeof(struct icmp6hdr) + XLB_ICMP6_QUOTE_LEN);
	ph.nexthdr = IPPROTO_ICMPV6;
	ph.icmp.icmp6_type = XLB_ICMP6_PKT_TOO_BIG;
	ph.icmp.icmp6_mtu = bpf_htonl(mtu);
	sum = bpf_csum_diff(NULL, 0, (__be32 *)&ph, sizeof(ph), sum);
	ph.icmp.icmp6_cksum = xlb_csum_fold(sum);

	if (xlb_reshape(ctx, pkt->l3_off + XLB_ICMP6_QUOTE_LEN, room))
		return XLB_DROP_ENCAP;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (xlb_write_l2(data, data_end, pkt->vlan, pkt->vlan_tci, dmac, smac,
			 bpf_htons(ETH_P_IPV6)))
		return XLB_DROP_ENCAP;
	ip6 = data + pkt->l3_off;
	if ((void *)(ip6 + 1) + sizeof(struct icmp6hdr) > data_end)
		return XLB_DROP_ENCAP;

	*(__be32 *)ip6 = bpf_htonl(XLB_IPV6_VERSION << XLB_IPV6_VERSION_SHIFT);
	ip6->payload_len = bpf_htons(sizeof(struct icmp6hdr) + XLB_ICMP6_QUOTE_LEN);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = XLB_ICMP_TTL;
	ip6->saddr = ph.saddr;
	ip6->daddr = ph.daddr;
	__builtin_memcpy(ip6 + 1, &ph.icmp, sizeof(ph.icmp));
	return XLB_TX_TOO_BIG;
}

#endif /* XLB_ICMP_H */
