// SPDX-License-Identifier: GPL-2.0
/*
 * Floor (b) of the benchmarks: the least a forwarding XDP program does.
 * It parses Ethernet, IPv4 or IPv6, and TCP or UDP with the bounds checks the
 * verifier asks for, swaps the MACs and sends the frame back with XDP_TX.
 * xlb's per-packet cost and live rate are reported as ratios to this.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int floor_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char mac[ETH_ALEN];
	void *l4;
	__u8 proto;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);

		if ((void *)(ip + 1) > data_end || ip->ihl < 5)
			return XDP_DROP;
		proto = ip->protocol;
		l4 = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return XDP_PASS;
	}
	if (proto == IPPROTO_TCP) {
		if (l4 + sizeof(struct tcphdr) > data_end)
			return XDP_DROP;
	} else if (proto == IPPROTO_UDP) {
		if (l4 + sizeof(struct udphdr) > data_end)
			return XDP_DROP;
	} else {
		return XDP_PASS;
	}
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
