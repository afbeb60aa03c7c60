// SPDX-License-Identifier: GPL-2.0
/*
 * xlb_pass: an XDP program that passes every packet. xlb attach puts it on
 * the peer of a veth it balances on, when that peer runs no XDP program:
 * the kernel schedules a veth peer's NAPI for XDP_TX frames only if the
 * peer runs XDP (veth_xdp_flush), so without one the balancer's forwarded
 * frames would sit in the peer's ring. It does nothing else, costs nothing
 * and is removed again by xlb detach.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xlb_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
