// SPDX-License-Identifier: GPL-2.0
/*
 * Floor (c) of the benchmarks: floor (b) plus the connection tracking any
 * balancer with flow affinity needs, and nothing else. It looks up the
 * 5-tuple (xlb's 40-byte key) in an LRU hash of xlb's default size and
 * inserts it on a miss. Timed like xlb on the same frames, it shows how
 * much of xlb's new-flow cost is the LRU map itself on this machine.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_CT_SIZE);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_flow);
} floor_ct SEC(".maps");

SEC("xdp")
int floor_ct_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct xlb_flow_key key = {};
	struct xlb_flow flow = {};
	unsigned char mac[ETH_ALEN];
	struct tcphdr *tcp;

	if ((void *)(ip + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_TCP || ip->ihl != 5)
		return XDP_PASS;
	tcp = (void *)(ip + 1);
	if ((void *)(tcp + 1) > data_end)
		return XDP_DROP;
	key.src[0] = ip->saddr;
	key.dst[0] = ip->daddr;
	key.sport = tcp->source;
	key.dport = tcp->dest;
	key.proto = IPPROTO_TCP;
	key.family = XLB_AF_INET;
	if (!bpf_map_lookup_elem(&floor_ct, &key)) {
		flow.last_seen_ns = bpf_ktime_get_coarse_ns();
		bpf_map_update_elem(&floor_ct, &key, &flow, BPF_ANY);
	}
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
