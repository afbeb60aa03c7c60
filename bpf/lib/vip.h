/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 2: which VIP a packet is for. The exact (address, port, protocol)
 * VIP wins over the address's all-ports VIP (port 0), which is looked for
 * only when the address may have one (struct xlb_config.all_ports_addrs):
 * most traffic a balancer sees is not for a VIP, and a second hash lookup
 * is a third of its cost.
 *
 * A packet xlb does not balance (another protocol, a fragment it cannot
 * place, ICMP that is no error about a VIP flow, a port with no VIP) is
 * the kernel's only if its destination is not a VIP address: the
 * balancer's kernel does not own VIP addresses and would route such a
 * packet straight back to the router, until its TTL runs out. Only these
 * packets look up `vip_addrs`, so the balanced path never pays for it.
 *
 * Before any of that (xlb.bpf.c asks it first), the VIP address filter
 * (struct xlb_vip_filter): a packet whose destination it rules out is for
 * no VIP address, so it is neither looked up in `vips` nor in `vip_addrs`,
 * nor (while the instance has no NAT VIP) as a NAT answer; it costs one
 * bit of an array the verifier inlines.
 */
#ifndef XLB_VIP_H
#define XLB_VIP_H

#include "maps.h"
#include "pkt.h"

/*
 * 0 when the armed VIP filter rules @pkt's destination out as a VIP
 * address; remembered in the packet, so its exit does not ask again.
 */
static __always_inline int xlb_maybe_vip_addr(struct xlb_pkt *pkt)
{
	__u32 zero = 0, bit = xlb_vip_filter_bit(pkt->key.dst);
	const struct xlb_vip_filter *f = bpf_map_lookup_elem(&vip_filter, &zero);

	if (!f || !f->armed || ((f->bits[bit / 64] >> (bit % 64)) & 1))
		return 1;
	pkt->not_vip_addr = 1;
	pkt->no_nat = !f->nat;
	return 0;
}

/*
 * @vk's VIP in the index @idx (xlb_abi.h), copied to *@out: one of two
 * buckets, the first free way ending a bucket's keys. A copy, not a pointer
 * into the bucket: each way would be another pointer for the verifier,
 * which would then check the rest of the program once for each.
 */
static __always_inline int xlb_vip_find(void *idx, const struct xlb_vip_key *vk,
					struct xlb_vip *out)
{
	__u32 i, buckets = ((struct bpf_map___xlb *)idx)->max_entries;
	__u64 hash = xlb_vip_hash64(vk);
	struct xlb_vip_bucket *b;

#pragma unroll
	for (int c = 0; c < 2; c++) {
		i = xlb_vip_bucket_of(hash, c, buckets);
		b = bpf_map_lookup_elem(idx, &i);
		if (!b)
			return 0;
#pragma unroll
		for (int w = 0; w < XLB_VIP_WAYS; w++) {
			if (!b->way[w].key.family)
				break;
			if (xlb_vip_key_eq(&b->way[w].key, vk)) {
				*out = b->way[w].vip;
				return 1;
			}
		}
	}
	return 0;
}

/* @pkt's VIP, copied to *@out: the exact one, else the address's all-ports VIP. */
static __always_inline struct xlb_vip *xlb_vip_lookup(const struct xlb_pkt *pkt,
						      __u64 all_ports_addrs, struct xlb_vip *out)
{
	struct xlb_vip_key vk = {};
	__u32 zero = 0;
	void *idx = bpf_map_lookup_elem(&vip_index, &zero);

	if (!idx)
		return NULL;	/* no index swapped in yet: no VIP */
	__builtin_memcpy(vk.addr, pkt->key.dst, sizeof(vk.addr));
	vk.port = pkt->key.dport;
	vk.proto = pkt->key.proto;
	vk.family = pkt->key.family;
	if (xlb_vip_find(idx, &vk, out))
		return out;
	if (!(all_ports_addrs & (1ULL << xlb_all_ports_bit(pkt->key.dst))))
		return NULL;
	vk.port = 0;
	return xlb_vip_find(idx, &vk, out) ? out : NULL;
}

static __always_inline int xlb_is_vip_addr(struct xlb_pkt *pkt)
{
	struct xlb_vip_addr k = {};

	if (pkt->not_vip_addr || !xlb_maybe_vip_addr(pkt))
		return 0;
	__builtin_memcpy(k.addr, pkt->key.dst, sizeof(k.addr));
	k.family = pkt->key.family;
	return bpf_map_lookup_elem(&vip_addrs, &k) != NULL;
}

/*
 * The verdict of a packet that will not be balanced for pass reason
 * @reason: that reason, or its drop counterpart if the packet is for a VIP
 * address (for an ICMP error, the address of the packet it quotes).
 */
static __always_inline int xlb_unbalanced(struct xlb_pkt *pkt, int reason)
{
	int drop;

	switch (reason) {
	case XLB_PASS_NOT_VIP:
		drop = XLB_DROP_VIP_PORT;
		break;
	case XLB_PASS_PROTO:
		drop = XLB_DROP_VIP_PROTO;
		break;
	case XLB_PASS_ICMP_NOT_VIP:
		if (pkt->nd)
			return reason;	/* link-local: never routed back (parse.h) */
		drop = XLB_DROP_VIP_ICMP;
		break;
	case XLB_PASS_FRAGMENT:
		drop = XLB_DROP_FRAGMENT;
		break;
	default:
		return reason;
	}
	return xlb_is_vip_addr(pkt) ? drop : reason;
}

#endif /* XLB_VIP_H */
