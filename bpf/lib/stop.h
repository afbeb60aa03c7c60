/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the time goes (issue 12): the machine that runs the benchmark has
 * no hardware PMU, so xlb's steps cannot be sampled. Instead bench/pktcost
 * loads extra copies of the balancer, each told by its rodata
 * (xlb_bench_stop in bpf/xlb.bpf.c) to return XDP_TX right after one step,
 * and times them on the same frames: a step's cost is the difference
 * between two stops. Plain numbers only, so that the benchmark (user space)
 * and the program share them; xlb's loader never sets a stop.
 */
#ifndef XLB_STOP_H
#define XLB_STOP_H

enum xlb_stop {
	XLB_STOP_NONE,		/* the whole program: what xlb always loads */
	XLB_STOP_PARSE,		/* after xlb_parse() succeeded */
	XLB_STOP_VIP,		/* after the VIP and its counters were found */
	XLB_STOP_BACKEND,	/* encap: after the backend (conntrack, or pick + insert) */
	XLB_STOP_NEXTHOP,	/* encap: after xlb_nexthop() */
	XLB_STOP_ENCAP,		/* encap: after the outer headers are written */
	XLB_STOP_COUNT		/* how many there are, XLB_STOP_NONE included */
};

#endif /* XLB_STOP_H */
