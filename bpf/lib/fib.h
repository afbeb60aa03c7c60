/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 4: route the outer packet before touching anything. The kernel's FIB
 * gives the egress interface and both MACs, and, because tot_len is the
 * outer length, checks it against the route MTU (FRAG_NEEDED, with the MTU
 * in mtu_result). Every other failure is a drop with the FIB's answer as
 * its reason (xlb_fib_drop_reason()): the packet is a VIP's, and the
 * kernel, which does not own the VIP, could only route it back where it
 * came from. NO_NEIGH too: passing the packet would not make the kernel
 * resolve the backend (it routes the VIP, not the backend); the managed
 * neighbour entries the control plane keeps for every backend do that,
 * so NO_NEIGH only lasts from a backend's addition to its first
 * resolution, or while the backend does not answer ARP/ND at all.
 *
 * The lookup is half of a tracked packet's cost (IPv6 more), and its answer
 * for one backend rarely changes: the answer is kept per backend in
 * `nexthops` and asked again after XLB_NEXTHOP_TTL_NS, so a neighbour or
 * route change takes effect within that time. The MTU check stays exact:
 * an entry only serves packets no longer than the longest its route has
 * accepted; a longer one asks the FIB, which answers FRAG_NEEDED if it
 * must. The first hop of an ECMP route is then chosen per backend, not per
 * flow; the outer IPv6 flow label still spreads flows beyond it.
 */
#ifndef XLB_FIB_H
#define XLB_FIB_H

#include "consts.h"
#include "pkt.h"
#include "maps.h"
#include "l2.h"

#define XLB_IP_LEN_MAX		0xffff

/*
 * Look up, as if it arrived on @ifindex, the route to @daddr (an IPv4
 * address in word 0, or IPv6) from @saddr for an outer packet of
 * @outer_len bytes, IPv6 ones with flow label @label. Returns a
 * BPF_FIB_LKUP_RET_* code, or -1 if the outer packet could not exist.
 */
static __always_inline int xlb_fib_lookup(struct xdp_md *ctx, __u32 ifindex,
					  struct xlb_pkt *pkt, __u8 family,
					  const __u32 *saddr, const __u32 *daddr, __u32 label,
					  __u32 outer_len, struct bpf_fib_lookup *fib)
{
	if (outer_len > XLB_IP_LEN_MAX)
		return -1;
	fib->ifindex = ifindex;
	fib->tot_len = outer_len;
	if (family == XLB_AF_INET) {
		fib->family = XLB_FIB_AF_INET;
		fib->tos = pkt->tos;
		fib->l4_protocol = IPPROTO_IPIP;
		fib->ipv4_src = saddr[0];
		fib->ipv4_dst = daddr[0];
	} else {
		fib->family = XLB_FIB_AF_INET6;
		fib->flowinfo = bpf_htonl(((__u32)pkt->tos << XLB_IPV6_TCLASS_SHIFT) |
					  label);
		fib->l4_protocol = pkt->key.family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
		__builtin_memcpy(fib->ipv6_src, saddr, sizeof(fib->ipv6_src));
		__builtin_memcpy(fib->ipv6_dst, daddr, sizeof(fib->ipv6_dst));
	}
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

static __always_inline int xlb_nexthop_fresh(const struct xlb_nexthop *nh, const __u32 *daddr,
					     __u32 outer_len, __u64 now)
{
	return now - nh->stamp_ns < XLB_NEXTHOP_TTL_NS && outer_len <= nh->max_len &&
	       !((nh->addr[0] ^ daddr[0]) | (nh->addr[1] ^ daddr[1]) |
		 (nh->addr[2] ^ daddr[2]) | (nh->addr[3] ^ daddr[3]));
}

/*
 * Where the FIB's answer is sent from: a VLAN device (vlan_ifs) is its
 * lower device with its tag, since XDP cannot transmit on a VLAN device;
 * any other device as it is, untagged. The tag travels in the answer's
 * h_vlan_proto / h_vlan_TCI (0: untagged), which the kernel does not fill.
 * One lookup per FIB answer, none per packet: the result is cached.
 */
static __always_inline void xlb_fib_egress(struct bpf_fib_lookup *fib)
{
	__u32 ifindex = fib->ifindex;
	struct xlb_vlan_if *v = bpf_map_lookup_elem(&vlan_ifs, &ifindex);

	fib->h_vlan_proto = 0;
	fib->h_vlan_TCI = 0;
	if (!v)
		return;
	fib->ifindex = v->lower_ifindex;
	fib->h_vlan_proto = bpf_htons(XLB_ETH_P_8021Q);
	fib->h_vlan_TCI = bpf_htons(v->vid & XLB_VLAN_VID_MASK);
}

/*
 * xlb_fib_lookup() for backend @be_id, answered from `nexthops` when it
 * can be. On success fib->ifindex (the device to send on), the egress tag
 * (xlb_fib_egress()), dmac and smac are set either way.
 */
static __always_inline int xlb_nexthop(struct xdp_md *ctx, __u32 ifindex, struct xlb_pkt *pkt,
				       __u32 be_id, __u8 family, const __u32 *saddr,
				       const __u32 *daddr, __u32 label, __u32 outer_len,
				       struct bpf_fib_lookup *fib)
{
	struct xlb_nexthop *nh = bpf_map_lookup_elem(&nexthops, &be_id);
	__u64 now = xlb_pkt_now(pkt);
	int ret;

	if (nh && xlb_nexthop_fresh(nh, daddr, outer_len, now)) {
		fib->ifindex = nh->ifindex;
		fib->h_vlan_proto = nh->vlan ? bpf_htons(XLB_ETH_P_8021Q) : 0;
		fib->h_vlan_TCI = nh->vlan_tci;
		__builtin_memcpy(fib->dmac, nh->dmac, ETH_ALEN);
		__builtin_memcpy(fib->smac, nh->smac, ETH_ALEN);
		return BPF_FIB_LKUP_RET_SUCCESS;
	}
	ret = xlb_fib_lookup(ctx, ifindex, pkt, family, saddr, daddr, label, outer_len, fib);
	if (ret != BPF_FIB_LKUP_RET_SUCCESS)
		return ret;
	xlb_fib_egress(fib);
	if (!nh)
		return ret;
	/* A fresh entry for the same route keeps what it knew of the MTU. */
	if (xlb_nexthop_fresh(nh, daddr, 0, now) && nh->ifindex == fib->ifindex &&
	    nh->vlan == !!fib->h_vlan_proto && nh->vlan_tci == fib->h_vlan_TCI &&
	    nh->max_len > outer_len)
		outer_len = nh->max_len;
	__builtin_memcpy(nh->addr, daddr, sizeof(nh->addr));
	nh->ifindex = fib->ifindex;
	nh->vlan = !!fib->h_vlan_proto;
	nh->vlan_tci = fib->h_vlan_TCI;
	nh->max_len = outer_len;
	__builtin_memcpy(nh->dmac, fib->dmac, ETH_ALEN);
	__builtin_memcpy(nh->smac, fib->smac, ETH_ALEN);
	nh->stamp_ns = now;
	return ret;
}

/* The drop reason of a failed lookup (FRAG_NEEDED aside: icmp.h answers it). */
static __always_inline int xlb_fib_drop_reason(int ret)
{
	switch (ret) {
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		return XLB_DROP_NO_NEIGH;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
		return XLB_DROP_FIB_BLACKHOLE;
	case BPF_FIB_LKUP_RET_UNREACHABLE:
		return XLB_DROP_FIB_UNREACHABLE;
	case BPF_FIB_LKUP_RET_PROHIBIT:
		return XLB_DROP_FIB_PROHIBIT;
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		return XLB_DROP_FIB_NOT_FWDED;
	case BPF_FIB_LKUP_RET_FWD_DISABLED:
		return XLB_DROP_FIB_FWD_DISABLED;
	case BPF_FIB_LKUP_RET_UNSUPP_LWT:
		return XLB_DROP_FIB_UNSUPP_LWT;
	default:	/* NO_SRC_ADDR (never asked for), -1 (outer > 64 KiB), new codes */
		return XLB_DROP_FIB_OTHER;
	}
}

#endif /* XLB_FIB_H */
