/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 2: which VIP a packet is for. The exact (address, port, protocol)
 * VIP wins over the address's all-ports VIP (port 0), which is looked for
 * only when the address may have one (struct xlb_config.all_ports_addrs):
 * most traffic a balancer sees is not for a VIP, and a second hash lookup
 * is a third of its cost.
 */
#ifndef XLB_VIP_H
#define XLB_VIP_H

#include "maps.h"
#include "pkt.h"

static __always_inline struct xlb_vip *xlb_vip_lookup(const struct xlb_pkt *pkt,
						      __u64 all_ports_addrs)
{
	struct xlb_vip_key vk = {};
	struct xlb_vip *vip;

	__builtin_memcpy(vk.addr, pkt->key.dst, sizeof(vk.addr));
	vk.port = pkt->key.dport;
	vk.proto = pkt->key.proto;
	vk.family = pkt->key.family;
	vip = bpf_map_lookup_elem(&vips, &vk);
	if (vip || !(all_ports_addrs & (1ULL << xlb_all_ports_bit(pkt->key.dst))))
		return vip;
	vk.port = 0;
	return bpf_map_lookup_elem(&vips, &vk);
}

#endif /* XLB_VIP_H */
