// SPDX-License-Identifier: GPL-2.0
/* Helpers of the tests of packets the balancer cannot balance (see robust.h). */
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "robust.h"
#include "balance.h"
#include "vipaddrs.h"
#include "xlb.skel.h"

#define MAX_KEYS	256
#define OPT_PADN	1	/* the PadN option: fills an options header */
#define OPT_PADN_LEN	4	/* 8 - next header - length - PadN type - PadN length */
#define RT_SEGMENT	4	/* routing type: segment routing (RFC 8754) */

/* Whether the balancer's snat entry counts NAT VIPs, as the commit derives the filter's nat. */
static bool bal_has_nat(void)
{
	struct xlb_snat s = {};
	__u32 zero = 0;

	bpf_map_lookup_elem(bpf_map__fd(bal->maps.snat), &zero, &s);
	return s.nat_vips;
}

void bal_vip_addrs_sync(void)
{
	struct xlb_vip_key keys[MAX_KEYS], cur, next;
	int fd = bpf_map__fd(bal->maps.vips);
	void *prev = NULL;
	size_t n = 0;

	while (n < MAX_KEYS && !bpf_map_get_next_key(fd, prev, &next)) {
		cur = next;
		keys[n++] = cur;
		prev = &cur;
	}
	if (vip_addrs_reconcile(bpf_map__fd(bal->maps.vip_addrs), keys, n))
		fx_die("vip_addrs_reconcile failed");
	/* Armed, as every commit leaves it: the tests run with the filter on. */
	if (vip_filter_reconcile(bpf_map__fd(bal->maps.vip_filter), fd, NULL, 0, bal_has_nat()))
		fx_die("vip_filter_reconcile failed");
}

/* One 8-byte extension header of type @type at @h, followed by @next. */
static void ext_hdr(__u8 type, __u8 next, const struct ext6_frag *frag, __u8 *h)
{
	memset(h, 0, EXT_HDR_LEN);
	h[0] = next;
	switch (type) {
	case EXT_HOP:
	case EXT_DEST:
		h[2] = OPT_PADN;
		h[3] = OPT_PADN_LEN;
		break;
	case EXT_ROUTING:
		h[2] = RT_SEGMENT;	/* segments left 0: we are the end */
		break;
	case EXT_FRAGMENT:
		put16(h + 2, (__u16)(frag->offset << 3 | (frag->more ? 1 : 0)));
		put32(h + 4, frag->id);
		break;
	case EXT_AH:
		h[1] = EXT_HDR_LEN / 4 - 2;	/* AH length: 4-byte units minus 2 */
		break;
	}
}

size_t ext6_frame(const struct pkt_spec *s, const __u8 *types, int n,
		  const struct ext6_frag *frag, __u8 *out)
{
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = fx_mac_client };
	__u8 ip[PKT_MAX], ext[PKT_MAX];
	size_t len = pkt_ip(s, ip), l4 = len - PKT_IP6_LEN;
	__u8 upper = ip[6];

	for (int i = 0; i < n; i++)
		ext_hdr(types[i], i + 1 < n ? types[i + 1] : upper, frag,
			ext + i * EXT_HDR_LEN);
	memmove(ip + PKT_IP6_LEN + n * EXT_HDR_LEN, ip + PKT_IP6_LEN, l4);
	memcpy(ip + PKT_IP6_LEN, ext, n * EXT_HDR_LEN);
	if (n)
		ip[6] = types[0];
	put16(ip + 4, l4 + n * EXT_HDR_LEN);
	return pkt_frame(&l2, PKT_ETH_P_IPV6, ip, len + n * EXT_HDR_LEN, out);
}
