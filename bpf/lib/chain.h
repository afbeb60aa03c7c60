/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Second chance at the backend. After a backend set changes, the balancer's
 * table may send an established flow to a backend that never saw it; with
 * GUE it names, in a hop list, the backends that may own the flow (the new
 * slot owner first, then the previous one). A backend that holds no socket
 * for a non-SYN TCP segment sends the copy on to the next hop instead of
 * answering it with a reset; the one that holds the socket delivers it.
 *
 * Owned: bpf_skc_lookup_tcp finds an established, request or time-wait
 * socket for the inner tuple, or a listener for which the segment is a
 * valid SYN cookie ACK (the connection exists only in the cookie). A SYN,
 * UDP and ICMP are delivered where they land: a new flow belongs to
 * whoever the balancer picked. The exception is an ICMP error quoting a
 * TCP segment from the VIP (path MTU, unreachable): it is the flow's, and
 * follows the chain like the flow's segments if no connection owns it.
 * The last hop, a next hop that is this host, and a next hop the FIB has
 * no route to, deliver too (the kernel then answers as it would without a
 * chain); `next` only grows and is bounded by count <= XLB_GUE_HOPS_MAX,
 * so a copy cannot loop.
 *
 * Sending on rewrites the outer destination to hop[next + 1], increments
 * `next` and updates the outer IPv4 header checksum and a non-zero UDP
 * checksum incrementally; the outer source stays the balancer's, so the
 * next hop's --from filter accepts it. If the interface forwards, the FIB
 * routes it (XDP_TX or redirect; an unresolved neighbour: the kernel routes
 * the rewritten packet). If it does not (FWD_DISABLED, a backend's
 * default), it goes back to the L2 neighbour it came from, a router or the
 * balancer, which routes it on.
 */
#ifndef XLB_CHAIN_H
#define XLB_CHAIN_H

#include "consts.h"
#include "decap.h"

/* RFC 1624 update of @check for 32-bit words @old[0..@n) now @new, and a 16-bit one. */
static __always_inline __u16 xlb_chain_csum(__u16 check, const __u32 *old, const __u32 *new,
					    int n, __u16 old16, __u16 new16)
{
	__u64 sum = (__u16)~check;

#pragma unroll
	for (int i = 0; i < n; i++) {
		sum += (__u32)~old[i];
		sum += new[i];
	}
	sum += (__u16)~old16;
	sum += new16;
	return xlb_csum_fold(sum);
}

/* A UDP checksum that computes to 0 is sent as all ones (RFC 768); 0 means none. */
static __always_inline void xlb_chain_udp_csum(struct udphdr *uh, const __u32 *old,
					       const __u32 *new, int n, __u16 old16, __u16 new16)
{
	if (!uh->check)
		return;
	uh->check = xlb_chain_csum(uh->check, old, new, n, old16, new16);
	if (!uh->check)
		uh->check = 0xffff;
}

/* The first bytes of the TCP header an ICMP error quotes. */
struct xlb_chain_ports {
	__be16 source;
	__be16 dest;
};

/* ICMPv6 errors: destination unreachable .. parameter problem (RFC 4443). */
static __always_inline int xlb_icmp_is_error(__u8 family, __u8 type)
{
	if (family == XLB_AF_INET)
		return type == XLB_ICMP_DEST_UNREACH || type == XLB_ICMP_TIME_EXCEEDED;
	return type >= XLB_ICMP6_ERR_MIN && type <= XLB_ICMP6_ERR_MAX;
}

/*
 * The flow of an ICMP error at @icmp (@len bytes) that quotes a TCP
 * segment this host sent (from the VIP to the client): the quote reversed
 * is the flow as the client's segments carry it. XLB_DECAP_OK (deliver)
 * for any other ICMP, or a quote too short to name the flow.
 */
static __always_inline int xlb_icmp_flow(void *icmp, void *data_end, __u32 len, __u8 family,
					 struct bpf_sock_tuple *t, __u32 *tlen)
{
	struct xlb_icmphdr *ih = icmp;
	struct xlb_chain_ports *qp;
	struct ipv6hdr *q6;
	struct iphdr *q;

	if ((void *)(ih + 1) > data_end || !xlb_icmp_is_error(family, ih->type))
		return XLB_DECAP_OK;
	q = (void *)(ih + 1);
	q6 = (void *)(ih + 1);
	if (family == XLB_AF_INET) {
		if ((void *)(q + 1) > data_end || q->protocol != IPPROTO_TCP ||
		    q->ihl < XLB_IPV4_IHL_MIN || (q->frag_off & bpf_htons(XLB_IP_OFFSET)))
			return XLB_DECAP_OK;
		qp = (void *)q + q->ihl * 4;
		if ((void *)(qp + 1) > data_end ||
		    sizeof(*ih) + q->ihl * 4 + sizeof(*qp) > len)
			return XLB_DECAP_OK;
		t->ipv4.saddr = q->daddr;
		t->ipv4.daddr = q->saddr;
		t->ipv4.sport = qp->dest;
		t->ipv4.dport = qp->source;
		*tlen = sizeof(t->ipv4);
		return XLB_CONTINUE;
	}
	qp = (void *)(q6 + 1);
	if ((void *)(qp + 1) > data_end || q6->nexthdr != IPPROTO_TCP ||
	    sizeof(*ih) + sizeof(*q6) + sizeof(*qp) > len)
		return XLB_DECAP_OK;
	__builtin_memcpy(t->ipv6.saddr, &q6->daddr, sizeof(t->ipv6.saddr));
	__builtin_memcpy(t->ipv6.daddr, &q6->saddr, sizeof(t->ipv6.daddr));
	t->ipv6.sport = qp->dest;
	t->ipv6.dport = qp->source;
	*tlen = sizeof(t->ipv6);
	return XLB_CONTINUE;
}

/* The flow of the TCP segment @th in the inner packet @inner. */
static __always_inline void xlb_tcp_flow(void *inner, const struct xlb_outer *out,
					 struct tcphdr *th, struct bpf_sock_tuple *t, __u32 *tlen)
{
	struct ipv6hdr *ip6 = inner;
	struct iphdr *ip = inner;

	if (out->inner == IPPROTO_IPIP) {
		t->ipv4.saddr = ip->saddr;
		t->ipv4.daddr = ip->daddr;
		t->ipv4.sport = th->source;
		t->ipv4.dport = th->dest;
		*tlen = sizeof(t->ipv4);
		return;
	}
	__builtin_memcpy(t->ipv6.saddr, &ip6->saddr, sizeof(t->ipv6.saddr));
	__builtin_memcpy(t->ipv6.daddr, &ip6->daddr, sizeof(t->ipv6.daddr));
	t->ipv6.sport = th->source;
	t->ipv6.dport = th->dest;
	*tlen = sizeof(t->ipv6);
}

/*
 * The TCP flow the inner packet belongs to, in @t: its own (*@th set) or,
 * for an ICMP error, the quoted one's (*@th NULL). XLB_DECAP_OK if the
 * packet is delivered where it landed (not TCP, a SYN, a fragment, other
 * ICMP), XLB_DECAP_MALFORMED if it is a TCP segment whose header is cut.
 */
static __always_inline int xlb_inner_flow(void *inner, void *data_end, const struct xlb_outer *out,
					  struct bpf_sock_tuple *t, __u32 *tlen,
					  struct tcphdr **th)
{
	struct ipv6hdr *ip6 = inner;
	struct iphdr *ip = inner;
	__u32 off;
	__u8 proto;

	if (out->inner == IPPROTO_IPIP) {
		if ((void *)(ip + 1) > data_end ||
		    (ip->frag_off & bpf_htons(XLB_IP_MF | XLB_IP_OFFSET)))
			return XLB_DECAP_OK;
		if (ip->ihl < XLB_IPV4_IHL_MIN)
			return XLB_DECAP_MALFORMED;
		off = ip->ihl * 4;
		proto = ip->protocol;
	} else {
		if ((void *)(ip6 + 1) > data_end)
			return XLB_DECAP_OK;
		off = sizeof(*ip6);
		proto = ip6->nexthdr;
	}
	if (off > out->payload)
		return XLB_DECAP_MALFORMED;
	if (proto == IPPROTO_ICMP && out->inner == IPPROTO_IPIP)
		return xlb_icmp_flow(inner + off, data_end, out->payload - off, XLB_AF_INET, t,
				     tlen);
	if (proto == IPPROTO_ICMPV6 && out->inner == IPPROTO_IPV6)
		return xlb_icmp_flow(inner + off, data_end, out->payload - off, XLB_AF_INET6, t,
				     tlen);
	if (proto != IPPROTO_TCP)
		return XLB_DECAP_OK;
	*th = inner + off;
	if ((void *)(*th + 1) > data_end || off + sizeof(**th) > out->payload)
		return XLB_DECAP_MALFORMED;
	/* A new flow belongs to whoever the balancer picked. */
	if ((*th)->syn && !(*th)->ack)
		return XLB_DECAP_OK;
	xlb_tcp_flow(inner, out, *th, t, tlen);
	return XLB_CONTINUE;
}

/*
 * A listener owns a segment @th only if it is the ACK of a SYN cookie it
 * sent; an ICMP error (@th NULL) only ever belongs to a connection.
 */
static __always_inline int xlb_listener_owns(struct bpf_sock *sk, void *inner, void *data_end,
					     const struct xlb_outer *out, struct tcphdr *th)
{
	struct ipv6hdr *ip6 = inner;
	struct iphdr *ip = inner;

	if (!th || (void *)(th + 1) > data_end)
		return 0;
	if (out->inner == IPPROTO_IPIP) {
		if ((void *)(ip + 1) > data_end)
			return 0;
		return bpf_tcp_check_syncookie(sk, ip, sizeof(*ip), th, sizeof(*th)) == 0;
	}
	if ((void *)(ip6 + 1) > data_end)
		return 0;
	return bpf_tcp_check_syncookie(sk, ip6, sizeof(*ip6), th, sizeof(*th)) == 0;
}

/* This host holds a socket that owns the flow @t (the segment @th, if it is one). */
static __always_inline int xlb_owned(struct xdp_md *ctx, void *inner, void *data_end,
				     const struct xlb_outer *out, struct bpf_sock_tuple *t,
				     __u32 tlen, struct tcphdr *th)
{
	struct bpf_sock *sk = bpf_skc_lookup_tcp(ctx, t, tlen, BPF_F_CURRENT_NETNS, 0);
	int owned;

	if (!sk)
		return 0;
	owned = sk->state != BPF_TCP_LISTEN ||
		xlb_listener_owns(sk, inner, data_end, out, th);
	bpf_sk_release(sk);
	return owned;
}

/* The FIB answers that let the copy go on; anything else delivers it here. */
static __always_inline int xlb_chain_goes(int rc)
{
	return rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_FWD_DISABLED ||
	       rc == BPF_FIB_LKUP_RET_NO_NEIGH;
}

/* Send the rewritten copy as the FIB said (@rc one of xlb_chain_goes). */
static __always_inline int xlb_chain_send(struct xdp_md *ctx, struct ethhdr *eth,
					  const struct bpf_fib_lookup *fib, int rc)
{
	__u8 mac[ETH_ALEN];

	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH)
		return XLB_DECAP_CHAIN_KERNEL;
	if (rc == BPF_FIB_LKUP_RET_FWD_DISABLED) {
		__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
		__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
		__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);
		return XLB_DECAP_CHAIN_BOUNCE;
	}
	__builtin_memcpy(eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib->smac, ETH_ALEN);
	if (fib->ifindex == ctx->ingress_ifindex)
		return XLB_DECAP_CHAIN_TX;
	bpf_redirect(fib->ifindex, 0);
	return XLB_DECAP_CHAIN_REDIRECT;
}

static __always_inline int xlb_chain4(struct xdp_md *ctx, struct ethhdr *eth, struct iphdr *ip,
				      void *data_end, const struct xlb_outer *out)
{
	struct udphdr *uh = (void *)ip + out->ip_len;
	struct xlb_gue_hops4 *h = (void *)(uh + 1) + sizeof(struct xlb_gue_hdr);
	struct bpf_fib_lookup fib = {};
	__u32 to = out->next + 1, old;
	__u16 old16;
	__be32 dst;
	int rc;

	if ((void *)(ip + 1) > data_end || (void *)(h + 1) > data_end || to >= XLB_GUE_HOPS_MAX)
		return XLB_DECAP_MALFORMED;
	dst = h->hop[to];
	if (xlb_decap_addr_is_ours(XLB_AF_INET, &dst, sizeof(dst)))
		return XLB_DECAP_SELF_HOP;
	fib.family = XLB_FIB_AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = IPPROTO_UDP;
	fib.sport = uh->source;
	fib.dport = uh->dest;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ifindex = ctx->ingress_ifindex;
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = dst;
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (!xlb_chain_goes(rc))
		return XLB_DECAP_NO_ROUTE;
	old = ip->daddr;
	old16 = *(__u16 *)&h->next;
	ip->daddr = dst;
	h->next++;
	ip->check = xlb_chain_csum(ip->check, &old, &dst, 1, 0, 0);
	xlb_chain_udp_csum(uh, &old, &dst, 1, old16, *(__u16 *)&h->next);
	return xlb_chain_send(ctx, eth, &fib, rc);
}

static __always_inline int xlb_chain6(struct xdp_md *ctx, struct ethhdr *eth,
				      struct ipv6hdr *ip6, void *data_end,
				      const struct xlb_outer *out)
{
	struct udphdr *uh = (void *)(ip6 + 1);
	struct xlb_gue_hops6 *h = (void *)(uh + 1) + sizeof(struct xlb_gue_hdr);
	struct bpf_fib_lookup fib = {};
	__u32 to = out->next + 1, old[4], dst[4];
	__u16 old16;
	int rc;

	if ((void *)(h + 1) > data_end || to >= XLB_GUE_HOPS_MAX)
		return XLB_DECAP_MALFORMED;
	__builtin_memcpy(dst, h->hop[to], sizeof(dst));
	if (xlb_decap_addr_is_ours(XLB_AF_INET6, dst, sizeof(dst)))
		return XLB_DECAP_SELF_HOP;
	fib.family = XLB_FIB_AF_INET6;
	fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(~(0xfu << XLB_IPV6_VERSION_SHIFT));
	fib.l4_protocol = IPPROTO_UDP;
	fib.sport = uh->source;
	fib.dport = uh->dest;
	fib.tot_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	fib.ifindex = ctx->ingress_ifindex;
	__builtin_memcpy(fib.ipv6_src, &ip6->saddr, sizeof(fib.ipv6_src));
	__builtin_memcpy(fib.ipv6_dst, dst, sizeof(fib.ipv6_dst));
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (!xlb_chain_goes(rc))
		return XLB_DECAP_NO_ROUTE;
	__builtin_memcpy(old, &ip6->daddr, sizeof(old));
	old16 = *(__u16 *)&h->next;
	__builtin_memcpy(&ip6->daddr, dst, sizeof(dst));
	h->next++;
	xlb_chain_udp_csum(uh, old, dst, 4, old16, *(__u16 *)&h->next);
	return xlb_chain_send(ctx, eth, &fib, rc);
}

/*
 * What becomes of a GUE packet with a hop list, whose outer header starts
 * at @l3 and inner one at @inner: a reason xlb_decap_delivers() accepts, or
 * the chain's (the copy was sent on) or a drop.
 */
static __always_inline int xlb_second_chance(struct xdp_md *ctx, struct ethhdr *eth, void *l3,
					     void *inner, void *data_end,
					     const struct xlb_outer *out)
{
	struct bpf_sock_tuple t = {};
	struct tcphdr *th = NULL;
	__u32 tlen = 0;
	int ret = xlb_inner_flow(inner, data_end, out, &t, &tlen, &th);

	if (ret != XLB_CONTINUE)
		return ret;
	if (out->next + 1 >= out->count)
		return XLB_DECAP_LAST_HOP;
	if (xlb_owned(ctx, inner, data_end, out, &t, tlen, th))
		return XLB_DECAP_OWNED;
	if (out->family == XLB_AF_INET)
		return xlb_chain4(ctx, eth, l3, data_end, out);
	return xlb_chain6(ctx, eth, l3, data_end, out);
}

#endif /* XLB_CHAIN_H */
