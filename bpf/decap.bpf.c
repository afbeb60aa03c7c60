// SPDX-License-Identifier: GPL-2.0
/*
 * xlb decap: the XDP program on a backend's interface. Packets the balancer
 * tunnelled (IPIP or GUE) to one of this host's decap addresses, from one of
 * the balancers' prefixes (--from) and for a local address, lose their outer
 * header and go up the stack as the client sent them; a GUE copy of a TCP
 * flow this host holds no socket for goes on to the next hop of its hop list
 * (lib/chain.h); everything else passes untouched. Needs no ipip or fou
 * module; a packet that is not a tunnel packet costs at most one hash lookup
 * (IPIP, or UDP to the GUE port, for another address), most of them none.
 */
#include "lib/consts.h"
#include "lib/reasons.h"
#include "lib/l2.h"
#include "lib/decap.h"
#include "lib/chain.h"

SEC("xdp")
int xlb_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u8 smac[ETH_ALEN], dmac[ETH_ALEN];
	struct xlb_outer out = {};
	struct xlb_vlan_hdr *vh;
	void *inner;
	__be16 proto, tci = 0;
	__u8 l3_off, vlan = 0;
	int ret;

	if ((void *)(eth + 1) > data_end)
		return xlb_decap_verdict(XLB_DECAP_PASS);
	l3_off = sizeof(*eth);
	proto = eth->h_proto;
	if (proto == bpf_htons(XLB_ETH_P_8021Q)) {
		vh = (void *)(eth + 1);
		if ((void *)(vh + 1) > data_end)
			return xlb_decap_verdict(XLB_DECAP_PASS);
		vlan = 1;
		tci = vh->tci;
		proto = vh->proto;
		l3_off += sizeof(*vh);
	}

	if (proto == bpf_htons(ETH_P_IP))
		ret = xlb_decap_outer4(data + l3_off, data_end, &out);
	else if (proto == bpf_htons(ETH_P_IPV6))
		ret = xlb_decap_outer6(data + l3_off, data_end, &out);
	else
		ret = XLB_DECAP_PASS;
	if (ret != XLB_CONTINUE)
		return xlb_decap_verdict(ret);

	inner = data + l3_off + out.len;
	proto = xlb_decap_inner(inner, data_end, &out, &ret);
	if (!proto)
		return xlb_decap_verdict(ret);
	ret = XLB_DECAP_OK;
	if (out.hops) {
		ret = xlb_second_chance(ctx, eth, data + l3_off, inner, data_end, &out);
		if (!xlb_decap_delivers(ret))
			return xlb_decap_verdict(ret);
	}
	xlb_decap_ecn(inner, data_end, &out);

	/* The link header moves forward over the outer one; it is never longer, so no overlap. */
	__builtin_memcpy(dmac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(smac, eth->h_source, ETH_ALEN);
	if (xlb_write_l2(data + out.len, data_end, vlan, tci, dmac, smac, proto))
		return xlb_decap_verdict(XLB_DECAP_MALFORMED);
	if (bpf_xdp_adjust_head(ctx, out.len))
		return xlb_decap_verdict(XLB_DECAP_MALFORMED);
	return xlb_decap_verdict(ret);
}

char LICENSE[] SEC("license") = "GPL";
