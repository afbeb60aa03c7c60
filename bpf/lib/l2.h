/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The link-layer header we put in front of a packet whose head moved
 * (encapsulation, ICMP replies, decapsulation): Ethernet and, if asked, an
 * 802.1Q tag. A reply to the sender (ICMP) keeps the ingress tag: it goes
 * back out where the packet came from. A balanced packet does not
 * (encap.h): its egress is what the FIB chose, and the FIB, asked for the
 * ingress device, answers with the device a backend's route uses, which is
 * either that device itself (the backend is on its untagged network) or
 * another one, a VLAN device included. XDP cannot transmit on a VLAN
 * device nor tell that an ifindex is one, so the outer frame is always
 * untagged, sent with XDP_TX when the egress is the ingress device and
 * redirected otherwise (docs/DESIGN.md: a redirect to a VLAN device works
 * in generic mode only).
 */
#ifndef XLB_L2_H
#define XLB_L2_H

#include "consts.h"

#define XLB_ETH_P_8021Q		0x8100

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
