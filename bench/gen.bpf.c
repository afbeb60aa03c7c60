// SPDX-License-Identifier: GPL-2.0
/*
 * Live-rate generator, run with BPF_F_TEST_XDP_LIVE_FRAMES: every run sends
 * the test frame out of the veth (XDP_TX), into the program under test on
 * the peer. With new_flows set it first rewrites the IPv4 source address and
 * TCP source port from a per-CPU counter, so every frame is a flow the
 * balancer has never seen (checksums are left stale: nothing on the path
 * checks them, and the sink drops the frames).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "gen.h"

volatile const __u32 new_flows;
/* With new_flows: cycle through this many flows (0: never repeat one). */
volatile const __u32 flow_mod;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_count SEC(".maps");

/* The counter's low bits go to the port, the next ones to the address (gen.h). */
SEC("xdp")
int gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);
	__u32 zero = 0;
	__u64 *n, c;

	if ((void *)(tcp + 1) > data_end)
		return XDP_DROP;
	eth->h_proto = bpf_htons(ETH_P_IP);
	if (!new_flows)
		return XDP_TX;
	n = bpf_map_lookup_elem(&gen_count, &zero);
	if (!n)
		return XDP_TX;
	c = (*n)++;
	if (flow_mod)
		c %= flow_mod;
	tcp->source = bpf_htons((__u16)c);
	ip->saddr = bpf_htonl(((GEN_NET + bpf_get_smp_processor_id()) << 24) |
			      ((__u32)(c >> GEN_PORT_BITS) & GEN_ADDR_MASK));
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
