/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 4: route the outer packet before touching anything. The kernel's FIB
 * gives the egress interface and both MACs, and, because tot_len is the
 * outer length, checks it against the route MTU (FRAG_NEEDED, with the MTU
 * in mtu_result). NO_NEIGH and every other failure leave the packet intact,
 * so it can still be passed to the kernel.
 */
#ifndef XLB_FIB_H
#define XLB_FIB_H

#include "consts.h"
#include "pkt.h"

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

#endif /* XLB_FIB_H */
