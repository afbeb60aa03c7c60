/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fragments of VIP datagrams. Only the first fragment carries the L4
 * ports, so it is balanced like any packet and its ports are remembered in
 * `frags` for XLB_FRAG_TTL_NS under (family, protocol, id, source,
 * destination), as Cilium does; a later fragment takes the ports from
 * there, so it has the same flow key, hence the same backend (conntrack,
 * or the same table slot), and is forwarded. Reassembly is the backend's
 * job: the outer header is never fragmented (DF). A later fragment whose
 * first one was not seen (reordered, or older than the TTL) cannot be
 * placed: dropped if it is for a VIP address, passed otherwise (parse.h).
 * Fragmented ICMP is never balanced (an ICMP error is short, and nothing
 * else of ICMP is balanced): it is never remembered either.
 */
#ifndef XLB_FRAG_H
#define XLB_FRAG_H

#include "consts.h"
#include "pkt.h"
#include "maps.h"

enum xlb_frag_kind {
	XLB_FRAG_NONE = 0,
	XLB_FRAG_FIRST,		/* offset 0, more fragments follow: has the ports */
	XLB_FRAG_LATER,		/* offset > 0: ports from `frags` */
};

static __always_inline void xlb_frag_key(const struct xlb_pkt *pkt, struct xlb_frag_key *k)
{
	__builtin_memcpy(k->src, pkt->key.src, sizeof(k->src));
	__builtin_memcpy(k->dst, pkt->key.dst, sizeof(k->dst));
	k->id = pkt->frag_id;
	/*
	 * IPv6 identifies a datagram by addresses and id alone (RFC 8200 4.5),
	 * and extension headers may follow the fragment header, so a later
	 * fragment's next header need not be the first one's upper layer.
	 */
	k->proto = pkt->key.family == XLB_AF_INET ? pkt->key.proto : 0;
	k->family = pkt->key.family;
}

/* A later fragment: its protocol and ports from its first fragment, or XLB_PASS_FRAGMENT. */
static __always_inline int xlb_frag_later(struct xlb_pkt *pkt)
{
	struct xlb_frag_key k = {};
	struct xlb_frag *f;

	pkt->frag = XLB_FRAG_LATER;
	pkt->l4_opaque = 1;
	xlb_frag_key(pkt, &k);
	f = bpf_map_lookup_elem(&frags, &k);
	if (!f || bpf_ktime_get_coarse_ns() - f->stamp_ns >= XLB_FRAG_TTL_NS)
		return XLB_PASS_FRAGMENT;
	pkt->key.proto = f->proto;
	pkt->key.sport = f->sport;
	pkt->key.dport = f->dport;
	return XLB_CONTINUE;
}

/* A first fragment was balanced: remember its ports for the later ones. */
static __always_inline void xlb_frag_remember(const struct xlb_pkt *pkt)
{
	struct xlb_frag_key k = {};
	struct xlb_frag f = {};

	xlb_frag_key(pkt, &k);
	f.stamp_ns = bpf_ktime_get_coarse_ns();
	f.sport = pkt->key.sport;
	f.dport = pkt->key.dport;
	f.proto = pkt->key.proto;
	bpf_map_update_elem(&frags, &k, &f, BPF_ANY);
}

#endif /* XLB_FRAG_H */
