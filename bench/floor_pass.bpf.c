// SPDX-License-Identifier: GPL-2.0
/*
 * Floor (a) of the benchmarks: the cost of running any XDP program at all.
 * bench/pktcost times it the same way as xlb's balancer.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int floor_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
