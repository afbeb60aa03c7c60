/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Full NAT, the other way a VIP forwards (XLB_VIP_F_NAT, chosen in
 * xlb_forward()): for backends that run nothing of ours. A client's packet
 * to VIP:vport leaves as SNAT:sport -> BACKEND:bport, so the backend
 * answers the balancer with no route or address of ours on it, and the
 * answer leaves as VIP:vport -> CLIENT:cport. Both directions are entries
 * of nat_flows, keyed as their packets arrive, each holding what its
 * packets leave with (struct xlb_nat_flow): one lookup per packet, either
 * way, and the rewrite needs nothing else.
 *
 * A new flow takes its SNAT port without a lock: each CPU searches its own
 * part of the range from a per-CPU cursor, and the backend's direction is
 * inserted with BPF_NOEXIST before anything else, which is the port's
 * reservation. A tuple is never handed out twice, whatever the CPUs do;
 * when XLB_SNAT_TRIES ports are taken the packet is dropped and counted.
 *
 * Checksums are updated, never recomputed (RFC 1624): the sum of what
 * changed (addresses, ports, TTL) is added to each checksum that covers it.
 * An ICMP error about a NAT flow is rewritten like the flow's packets,
 * and so is the header it quotes (with the quote's own checksums, and the
 * ICMP checksum over all of it), so path MTU discovery works both ways.
 * What the rewrite cannot reach in bounded work (fragments, IPv6 extension
 * headers) is dropped and counted, never sent half rewritten.
 */
#ifndef XLB_NAT_H
#define XLB_NAT_H

#include "consts.h"
#include "pkt.h"
#include "maps.h"
#include "csum.h"
#include "fib.h"
#include "encap.h"
#include "icmp.h"
#include "stats.h"
#include "sched.h"
#include "conntrack.h"
#include "trace.h"

#define XLB_NAT_EEXIST		17	/* -EEXIST from a BPF_NOEXIST update */
#define XLB_TCP_CSUM_OFF	16
#define XLB_UDP_CSUM_OFF	6
#define XLB_IPV4_HLEN_MAX	60

/* Ones-complement sum of what changes when @n words @from become @to. */
static __always_inline __u64 xlb_sum_change(const __u32 *from, const __u32 *to, int n)
{
	__u64 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 4; i++) {
		if (i < n)
			sum += (__u32)~from[i] + (__u64)to[i];
	}
	return sum;
}

static __always_inline __u64 xlb_sum_change16(__u16 from, __u16 to)
{
	return (__u16)~from + (__u64)to;
}

/* @check (as stored) after a change of sum @diff in what it covers. */
static __always_inline __u16 xlb_csum_apply(__u16 check, __u64 diff)
{
	return xlb_csum_fold((__u16)~check + diff);
}

static __always_inline const struct xlb_snat *xlb_snat_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&snat, &zero);
}

/*
 * The outer IP header becomes @to's addresses, one hop older. *@pseudo gets
 * the change of the pseudo-header (addresses), which every L4 checksum
 * over it (TCP, UDP, ICMPv6) must take.
 */
static __always_inline int xlb_nat_l3(void *data, void *data_end, const struct xlb_pkt *pkt,
				      const struct xlb_nat_to *to, __u64 *pseudo)
{
	struct ipv6hdr *ip6 = data + pkt->l3_off;
	struct iphdr *ip = data + pkt->l3_off;
	__u16 old_ttl, new_ttl;
	__u64 diff;

	if (pkt->key.family == XLB_AF_INET) {
		if ((void *)(ip + 1) > data_end)
			return XLB_DROP_MALFORMED;
		if (ip->ttl <= 1)
			return XLB_DROP_TTL;
		diff = xlb_sum_change((__u32 *)&ip->saddr, to->src, 1) +
		       xlb_sum_change((__u32 *)&ip->daddr, to->dst, 1);
		*pseudo = diff;
		old_ttl = *(__u16 *)&ip->ttl;
		ip->ttl--;
		new_ttl = *(__u16 *)&ip->ttl;
		ip->saddr = to->src[0];
		ip->daddr = to->dst[0];
		ip->check = xlb_csum_apply(ip->check, diff + xlb_sum_change16(old_ttl, new_ttl));
		return XLB_CONTINUE;
	}
	if ((void *)(ip6 + 1) > data_end)
		return XLB_DROP_MALFORMED;
	if (ip6->hop_limit <= 1)
		return XLB_DROP_TTL;
	*pseudo = xlb_sum_change(ip6->saddr.in6_u.u6_addr32, to->src, 4) +
		  xlb_sum_change(ip6->daddr.in6_u.u6_addr32, to->dst, 4);
	ip6->hop_limit--;
	__builtin_memcpy(&ip6->saddr, to->src, sizeof(ip6->saddr));
	__builtin_memcpy(&ip6->daddr, to->dst, sizeof(ip6->daddr));
	return XLB_CONTINUE;
}

/* The L4 header's offset from the frame's start (fixed headers only: l4_opaque is refused). */
static __always_inline __u32 xlb_nat_l4_off(const struct xlb_pkt *pkt)
{
	if (pkt->key.family == XLB_AF_INET)
		return pkt->l3_off + ((pkt->ihl * 4) & XLB_IPV4_HLEN_MAX);
	return pkt->l3_off + sizeof(struct ipv6hdr);
}

/*
 * Update a TCP or UDP checksum at @csum by @diff. A UDP checksum of 0 over
 * IPv4 means "none" and stays so; a computed 0 is sent as 0xffff (RFC 768).
 */
static __always_inline __u16 xlb_nat_l4_csum(__u16 *csum, __u8 proto, __u8 family, __u64 diff)
{
	__u16 old = *csum, new;

	if (proto == IPPROTO_UDP && !old && family == XLB_AF_INET)
		return 0;
	new = xlb_csum_apply(old, diff);
	if (proto == IPPROTO_UDP && !new)
		new = 0xffff;
	*csum = new;
	return new;
}

/* Ports and checksum of a TCP/UDP packet (after xlb_nat_l3()). */
static __always_inline int xlb_nat_l4(void *data, void *data_end, const struct xlb_pkt *pkt,
				      const struct xlb_nat_to *to, __u64 pseudo)
{
	struct udphdr *l4 = data + xlb_nat_l4_off(pkt);	/* ports at the same place in TCP */
	__u32 csum_off = pkt->key.proto == IPPROTO_TCP ? XLB_TCP_CSUM_OFF : XLB_UDP_CSUM_OFF;
	__u16 *csum = (void *)l4 + csum_off;
	__u64 diff;

	if ((void *)l4 + sizeof(struct tcphdr) > data_end && pkt->key.proto == IPPROTO_TCP)
		return XLB_DROP_MALFORMED;
	if ((void *)(l4 + 1) > data_end || (void *)(csum + 1) > data_end)
		return XLB_DROP_MALFORMED;
	diff = pseudo + xlb_sum_change16(l4->source, to->sport) +
	       xlb_sum_change16(l4->dest, to->dport);
	l4->source = to->sport;
	l4->dest = to->dport;
	xlb_nat_l4_csum(csum, pkt->key.proto, pkt->key.family, diff);
	return XLB_CONTINUE;
}

/*
 * The header an ICMP error quotes is a packet of the flow's other
 * direction: it becomes what that direction's packets leave with, which is
 * @to reversed. Its IPv4 checksum, its L4 checksum when quoted, and the
 * ICMP checksum (over the quote, and for ICMPv6 the outer pseudo-header
 * @pseudo) take the change.
 */
static __always_inline int xlb_nat_quote(void *data, void *data_end, const struct xlb_pkt *pkt,
					 const struct xlb_nat_to *to, __u64 pseudo)
{
	struct xlb_icmphdr *icmp = data + xlb_nat_l4_off(pkt);
	struct xlb_quoted_ports *qp;
	__u64 addrs, ports, icmp_diff;
	__u16 *l4_csum, old;
	__u32 qlen, csum_off;
	struct ipv6hdr *in6;
	struct iphdr *in;

	if ((void *)(icmp + 1) > data_end)
		return XLB_DROP_MALFORMED;
	/* Keep this checked pointer: re-derived at the end, the verifier would not know its bounds. */
	asm volatile("" : "+r"(icmp));
	if (pkt->key.family == XLB_AF_INET) {
		in = (void *)(icmp + 1);
		if ((void *)(in + 1) > data_end)
			return XLB_DROP_MALFORMED;
		qlen = (in->ihl * 4) & XLB_IPV4_HLEN_MAX;
		addrs = xlb_sum_change((__u32 *)&in->saddr, to->dst, 1) +
			xlb_sum_change((__u32 *)&in->daddr, to->src, 1);
		in->saddr = to->dst[0];
		in->daddr = to->src[0];
		old = in->check;
		in->check = xlb_csum_apply(old, addrs);
		icmp_diff = addrs + xlb_sum_change16(old, in->check);
		qp = (void *)in + qlen;
	} else {
		in6 = (void *)(icmp + 1);
		if ((void *)(in6 + 1) > data_end)
			return XLB_DROP_MALFORMED;
		addrs = xlb_sum_change(in6->saddr.in6_u.u6_addr32, to->dst, 4) +
			xlb_sum_change(in6->daddr.in6_u.u6_addr32, to->src, 4);
		__builtin_memcpy(&in6->saddr, to->dst, sizeof(in6->saddr));
		__builtin_memcpy(&in6->daddr, to->src, sizeof(in6->daddr));
		icmp_diff = pseudo + addrs;
		qp = (void *)(in6 + 1);
	}
	if ((void *)(qp + 1) > data_end)
		return XLB_DROP_MALFORMED;
	ports = xlb_sum_change16(qp->source, to->dport) + xlb_sum_change16(qp->dest, to->sport);
	qp->source = to->dport;
	qp->dest = to->sport;
	icmp_diff += ports;
	/* The quoted L4 checksum, when the quote reaches it (8 bytes are the minimum). */
	csum_off = pkt->key.proto == IPPROTO_TCP ? XLB_TCP_CSUM_OFF : XLB_UDP_CSUM_OFF;
	l4_csum = (void *)qp + csum_off;
	if ((void *)(l4_csum + 1) <= data_end) {
		old = *l4_csum;
		icmp_diff += xlb_sum_change16(old, xlb_nat_l4_csum(l4_csum, pkt->key.proto,
								    pkt->key.family, addrs + ports));
	}
	icmp->checksum = xlb_csum_apply(icmp->checksum, icmp_diff);
	return XLB_CONTINUE;
}

/* The whole rewrite of a packet (or an ICMP error about it) already routed. */
static __always_inline int xlb_nat_rewrite(struct xdp_md *ctx, const struct xlb_pkt *pkt,
					   const struct xlb_nat_to *to)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 pseudo = 0;
	int ret;

	ret = xlb_nat_l3(data, data_end, pkt, to, &pseudo);
	if (ret != XLB_CONTINUE)
		return ret;
	if (pkt->icmp_err)
		return xlb_nat_quote(data, data_end, pkt, to, pseudo);
	return xlb_nat_l4(data, data_end, pkt, to, pseudo);
}

/*
 * Route to @to's destination, rewrite, put the egress's Ethernet header
 * on and send. @be_id: the forward direction, whose route is cached per
 * backend (fib.h); XLB_BACKEND_NONE: an answer, to a client, asked of the
 * FIB. Too big for the route: the sender gets frag-needed / packet too
 * big from the address it sent to (icmp.h), as from any router.
 */
static __always_inline int xlb_nat_send(struct xdp_md *ctx, __u32 ifindex, struct xlb_pkt *pkt,
					const struct xlb_nat_to *to, __u32 be_id)
{
	struct bpf_fib_lookup fib = {};
	void *data, *data_end;
	__be16 proto;
	int ret;

	if (be_id != XLB_BACKEND_NONE) {
		ret = xlb_nexthop(ctx, ifindex, pkt, be_id, pkt->key.family, to->src, to->dst, 0,
				  pkt->ip_len, &fib);
	} else {
		ret = xlb_fib_lookup(ctx, ifindex, pkt, pkt->key.family, to->src, to->dst, 0,
				     pkt->ip_len, &fib);
		if (ret == BPF_FIB_LKUP_RET_SUCCESS)
			xlb_fib_egress(&fib);
	}
	switch (ret) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		if (pkt->key.family == XLB_AF_INET)
			return xlb_icmp4_too_big(ctx, pkt, fib.mtu_result);
		return xlb_icmp6_too_big(ctx, pkt, fib.mtu_result);
	default:
		return xlb_fib_drop_reason(ret);
	}
	if (xlb_egress_frame(ctx, pkt, &fib))
		return XLB_DROP_ENCAP;
	ret = xlb_nat_rewrite(ctx, pkt, to);
	if (ret != XLB_CONTINUE)
		return ret;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	proto = bpf_htons(pkt->key.family == XLB_AF_INET ? ETH_P_IP : ETH_P_IPV6);
	if (xlb_write_l2(data, data_end, pkt->vlan, pkt->vlan_tci, fib.dmac, fib.smac, proto))
		return XLB_DROP_ENCAP;
	if (fib.ifindex == ifindex)
		return XLB_FWD_TX;
	/* Only XDP_REDIRECT or XDP_ABORTED (bad flags): see xlb_encap_forward(). */
	if (bpf_redirect(fib.ifindex, 0) != XDP_REDIRECT)
		return XLB_DROP_REDIRECT;
	return XLB_FWD_REDIRECT;
}

/* The SNAT address of a new flow: one of the family's, by the flow's hash. */
static __always_inline const __u32 *xlb_snat_addr(struct xlb_pkt *pkt, const struct xlb_snat *s)
{
	__u32 i;

	if (pkt->key.family == XLB_AF_INET) {
		if (!s->n4)
			return NULL;
		i = (xlb_pkt_hash(pkt) % s->n4) & (XLB_SNAT_ADDRS_MAX - 1);
		return &s->addr4[i];
	}
	if (!s->n6)
		return NULL;
	i = (xlb_pkt_hash(pkt) % s->n6) & (XLB_SNAT_ADDRS_MAX - 1);
	return s->addr6[i];
}

/*
 * Reserve a SNAT port for the backend's direction @rkey (its dport is the
 * port) holding @rflow: at most XLB_SNAT_TRIES NOEXIST inserts, starting
 * where this CPU's cursor points in its part of the range.
 */
static __always_inline int xlb_snat_reserve(const struct xlb_snat *s, struct xlb_flow_key *rkey,
					    const struct xlb_nat_flow *rflow)
{
	__u32 zero = 0, lo = s->port_lo, range, start, i;
	__u32 *cursor = bpf_map_lookup_elem(&snat_cursor, &zero);
	long err;

	if (!cursor || !lo || s->port_hi < lo)
		return XLB_DROP_SNAT_EXHAUSTED;
	range = (__u32)s->port_hi - lo + 1;
	start = bpf_get_smp_processor_id() * s->cpu_slice;
	for (i = 0; i < XLB_SNAT_TRIES; i++) {
		rkey->dport = bpf_htons((__u16)(lo + (start + *cursor) % range));
		*cursor += 1;
		err = bpf_map_update_elem(&nat_flows, rkey, rflow, BPF_NOEXIST);
		if (!err)
			return XLB_CONTINUE;
		if (err != -XLB_NAT_EEXIST)
			return XLB_DROP_NAT_FULL;
	}
	return XLB_DROP_SNAT_EXHAUSTED;
}

/* The flow another CPU inserted while this one was reserving a port for it. */
static __always_inline int xlb_nat_raced(const struct xlb_pkt *pkt, struct xlb_nat_to *to,
					 __u32 *be_id)
{
	struct xlb_nat_flow *f = bpf_map_lookup_elem(&nat_flows, &pkt->key);

	if (!f)
		return XLB_DROP_NAT_FULL;	/* and gone again: let the next packet try */
	*to = f->to;
	*be_id = f->flow.backend_id;
	return XLB_CONTINUE;
}

/*
 * A new NAT flow of @vip: pick a backend, reserve its SNAT tuple, insert
 * both directions. On success *@to is what the client's packets leave with.
 */
static __always_inline int xlb_nat_new(struct xlb_pkt *pkt, const struct xlb_vip *vip,
				       struct xlb_counters *vcnt, struct xlb_nat_to *to,
				       __u32 *be_id)
{
	const struct xlb_snat *s = xlb_snat_config();
	const struct xlb_slot_prev *slot = NULL;
	struct xlb_nat_flow rflow = {}, flow = {};
	struct xlb_flow_key rkey = {};
	const struct xlb_backend *be;
	const __u32 *saddr;
	__u32 id;
	long err;
	int ret;

	id = xlb_pick(pkt, vip, vcnt, 0, &slot);
	if (id == XLB_BACKEND_NONE)
		return XLB_DROP_NO_BACKEND;
	be = bpf_map_lookup_elem(&backends, &id);
	if (!be || !(be->flags & XLB_BE_F_USED) || be->vip_id != vip->id ||
	    be->family != pkt->key.family)
		return XLB_DROP_NO_BACKEND;
	if (!s)
		return XLB_DROP_NO_SNAT;
	saddr = xlb_snat_addr(pkt, s);
	if (!saddr)
		return XLB_DROP_NO_SNAT;

	/* The backend's direction: BACKEND:bport -> SNAT:port, leaving as VIP -> client. */
	__builtin_memcpy(rkey.src, be->addr, sizeof(rkey.src));
	if (pkt->key.family == XLB_AF_INET)
		rkey.dst[0] = saddr[0];
	else
		__builtin_memcpy(rkey.dst, saddr, sizeof(rkey.dst));
	rkey.sport = be->port ? be->port : pkt->key.dport;
	rkey.proto = pkt->key.proto;
	rkey.family = pkt->key.family;
	rflow.flow.backend_id = id;
	rflow.flow.vip_id = vip->id;
	rflow.flow.last_seen_ns = xlb_pkt_now(pkt);
	rflow.flow.flags = XLB_FLOW_F_NAT_REPLY;
	__builtin_memcpy(rflow.to.src, pkt->key.dst, sizeof(rflow.to.src));
	__builtin_memcpy(rflow.to.dst, pkt->key.src, sizeof(rflow.to.dst));
	rflow.to.sport = pkt->key.dport;
	rflow.to.dport = pkt->key.sport;
	ret = xlb_snat_reserve(s, &rkey, &rflow);
	if (ret != XLB_CONTINUE)
		return ret;

	/* The client's direction: what its packets leave with is the reply's key, reversed. */
	flow.flow = rflow.flow;
	if (pkt->tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST))
		flow.flow.flags = XLB_FLOW_F_CLOSING;
	else
		flow.flow.flags = 0;
	__builtin_memcpy(flow.to.src, rkey.dst, sizeof(flow.to.src));
	__builtin_memcpy(flow.to.dst, rkey.src, sizeof(flow.to.dst));
	flow.to.sport = rkey.dport;
	flow.to.dport = rkey.sport;
	err = bpf_map_update_elem(&nat_flows, &pkt->key, &flow, BPF_NOEXIST);
	if (err) {
		bpf_map_delete_elem(&nat_flows, &rkey);
		if (err != -XLB_NAT_EEXIST)
			return XLB_DROP_NAT_FULL;
		/* Another CPU inserted this flow meanwhile: its copy wins. */
		return xlb_nat_raced(pkt, to, be_id);
	}
	xlb_count_new_flow(vcnt, id, vip->sched);
	*to = flow.to;
	*be_id = id;
	return XLB_CONTINUE;
}

/* The packet could not leave (TTL / hop limit 1 or 0): it must not reserve a SNAT port. */
static __always_inline int xlb_nat_ttl_expired(struct xdp_md *ctx, const struct xlb_pkt *pkt)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6 = data + pkt->l3_off;
	struct iphdr *ip = data + pkt->l3_off;

	if (pkt->key.family == XLB_AF_INET)
		return (void *)(ip + 1) > data_end || ip->ttl <= 1;
	return (void *)(ip6 + 1) > data_end || ip6->hop_limit <= 1;
}

/* Remove both halves of a NAT flow (@key, @f), e.g. when its backend is gone. */
static __always_inline void xlb_nat_forget(const struct xlb_flow_key *key,
					   const struct xlb_nat_flow *f)
{
	struct xlb_flow_key twin;

	xlb_nat_twin_key(key, f, &twin);
	bpf_map_delete_elem(&nat_flows, key);
	bpf_map_delete_elem(&nat_flows, &twin);
}

/*
 * A packet of a NAT VIP. A tracked flow whose backend is no longer usable
 * (deleted, or DOWN under --down-flows move) is forgotten and picks again,
 * as a conntrack miss would. An ICMP error never starts a flow.
 */
static __always_inline int xlb_nat_forward(struct xdp_md *ctx, __u32 ifindex, struct xlb_pkt *pkt,
					   const struct xlb_vip *vip, struct xlb_counters *vcnt)
{
	struct xlb_backend *be = NULL;
	struct xlb_nat_flow *f;
	struct xlb_nat_to to;
	__u32 be_id = XLB_BACKEND_NONE;
	int ret;

	if (pkt->l4_opaque)
		return XLB_DROP_NAT_UNSUPP;
	f = bpf_map_lookup_elem(&nat_flows, &pkt->key);
	if (f) {
		be = xlb_ct_backend(&f->flow, vip, &be_id);
		if (!be && !pkt->icmp_err) {
			xlb_nat_forget(&pkt->key, f);
			f = NULL;
		}
	}
	if (f && be) {
		if (!pkt->icmp_err)
			xlb_ct_touch(&f->flow, pkt);
		to = f->to;
		xlb_trace_backend(pkt->trace, be_id, XLB_TRACE_F_TRACKED);
	} else {
		if (pkt->icmp_err)
			return XLB_DROP_VIP_ICMP;
		if (xlb_nat_ttl_expired(ctx, pkt))
			return XLB_DROP_TTL;
		ret = xlb_nat_new(pkt, vip, vcnt, &to, &be_id);
		if (ret != XLB_CONTINUE)
			return ret;
		be = bpf_map_lookup_elem(&backends, &be_id);
		xlb_trace_backend(pkt->trace, be_id, XLB_TRACE_F_NEW);
	}
	ret = xlb_nat_send(ctx, ifindex, pkt, &to, be_id);
	if (ret == XLB_FWD_TX || ret == XLB_FWD_REDIRECT) {
		xlb_count_fwd(vcnt, be_id, pkt->frame_len);
		if (be)
			xlb_count_down(vip, be);
	}
	return ret;
}

/* Whether @pkt is addressed to one of the SNAT addresses, in the SNAT port range. */
static __always_inline int xlb_is_snat_dst(const struct xlb_pkt *pkt, const struct xlb_snat *s)
{
	__u16 port = bpf_ntohs(pkt->key.dport);
	const __u32 *a = pkt->key.dst;
	int i;

	if (port < s->port_lo || port > s->port_hi)
		return 0;
#pragma unroll
	for (i = 0; i < XLB_SNAT_ADDRS_MAX; i++) {
		if (pkt->key.family == XLB_AF_INET) {
			if (i < s->n4 && s->addr4[i] == a[0])
				return 1;
		} else if (i < s->n6 && !((s->addr6[i][0] ^ a[0]) | (s->addr6[i][1] ^ a[1]) |
					  (s->addr6[i][2] ^ a[2]) | (s->addr6[i][3] ^ a[3]))) {
			return 1;
		}
	}
	return 0;
}

/*
 * A packet that matched no VIP may be a NAT backend's answer (or an ICMP
 * error about a NAT flow's packet to it): addressed to a SNAT address and
 * port. With its flow, it is rewritten back to VIP -> client and routed;
 * without one it is the host's own (XDP_PASS, pass_nat_no_flow), untouched.
 * XLB_CONTINUE: not for a SNAT address at all.
 */
static __always_inline int xlb_nat_reply(struct xdp_md *ctx, __u32 ifindex, struct xlb_pkt *pkt)
{
	const struct xlb_snat *s;
	struct xlb_nat_flow *f;
	struct xlb_nat_to to;
	int ret;

	if (pkt->no_nat)
		return XLB_CONTINUE;	/* the VIP filter knows there is no NAT VIP (vip.h) */
	s = xlb_snat_config();
	if (!s || !s->nat_vips || !xlb_is_snat_dst(pkt, s))
		return XLB_CONTINUE;
	if (pkt->l4_opaque)
		return XLB_PASS_NAT_NO_FLOW;
	f = bpf_map_lookup_elem(&nat_flows, &pkt->key);
	if (!f || !(f->flow.flags & XLB_FLOW_F_NAT_REPLY))
		return XLB_PASS_NAT_NO_FLOW;
	if (!pkt->icmp_err)
		xlb_ct_touch(&f->flow, pkt);
	to = f->to;
	xlb_trace_backend(pkt->trace, f->flow.backend_id, XLB_TRACE_F_TRACKED);
	ret = xlb_nat_send(ctx, ifindex, pkt, &to, XLB_BACKEND_NONE);
	if (ret == XLB_FWD_TX || ret == XLB_FWD_REDIRECT)
		xlb_count_reason(XLB_FWD_NAT_REPLY);
	return ret;
}

#endif /* XLB_NAT_H */
