/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The link-layer header we put in front of a packet whose head moved
 * (encapsulation, ICMP replies, decapsulation): Ethernet and, if asked, an
 * 802.1Q tag. A reply to the sender (ICMP) keeps the ingress tag: it goes
 * back out where the packet came from. A balanced packet does not: its
 * tag is the egress's (encap.h), the one of the VLAN device the FIB routes
 * the backend through (fib.h, vlan_ifs), or none when the route uses a
 * device itself, whatever tag the packet arrived with.
 */
#ifndef XLB_L2_H
#define XLB_L2_H

#include "consts.h"

#define XLB_ETH_P_8021Q		0x8100
#define XLB_VLAN_VID_MASK	0x0fff

/* The uapi has no struct for the 802.1Q tag. */
struct xlb_vlan_hdr {
	__be16 tci;
	__be16 proto;		/* ethertype of what follows the tag */
};

/*
 * Write Ethernet (+ tag) at the start of the packet, @proto being the
 * ethertype of the L3 header that follows. 0 on success, -1 if the frame
 * is too short (it never is after a successful head adjustment).
 */
static __always_inline int xlb_write_l2(void *data, void *data_end, __u8 vlan, __be16 tci,
					const __u8 *dmac, const __u8 *smac, __be16 proto)
{
	struct ethhdr *eth = data;
	struct xlb_vlan_hdr *vh = (void *)(eth + 1);

	if ((void *)(vh + 1) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
	if (vlan) {
		eth->h_proto = bpf_htons(XLB_ETH_P_8021Q);
		vh->tci = tci;
		vh->proto = proto;
	} else {
		eth->h_proto = proto;
	}
	return 0;
}

#endif /* XLB_L2_H */
