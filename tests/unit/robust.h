/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the tests of packets the balancer cannot balance share: vip_addrs
 * filled from the loaded VIPs by the control plane's own code
 * (user/lib/vipaddrs.c), and IPv6 packets with extension headers, built
 * byte by byte like pkt.h's.
 */
#ifndef XLB_TEST_ROBUST_H
#define XLB_TEST_ROBUST_H

#include <stddef.h>
#include <linux/types.h>

#include "pkt.h"

/* Make bal's vip_addrs the set of its VIPs' addresses, as a commit does. */
void bal_vip_addrs_sync(void);

/* IPv6 next header values of the extension headers the tests build. */
#define EXT_HOP		0
#define EXT_ROUTING	43
#define EXT_FRAGMENT	44
#define EXT_AH		51
#define EXT_DEST	60
#define EXT_HDR_LEN	8	/* every header built here: the smallest there is */

/* An IPv6 fragment header's fields (host order), for ext6_frame()'s EXT_FRAGMENT. */
struct ext6_frag {
	__u16 offset;		/* in 8-byte units */
	int more;		/* M flag */
	__u32 id;
};

/*
 * The IPv6 packet of @s with the @n extension headers @types (8 bytes each)
 * between the fixed header and the upper layer, as a frame from the client
 * to link A (tagged if @vlan); returns the frame length. The upper layer is
 * pkt_ip()'s, checksum included (extension headers are not in it).
 */
size_t ext6_frame(const struct pkt_spec *s, const __u8 *types, int n,
		  const struct ext6_frag *frag, __u8 *out);

#endif
