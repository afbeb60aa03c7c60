/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The per-CPU `reasons` counter array and the one function that ends a
 * packet's trip: it counts why the packet left the fast path (or how it was
 * forwarded) and turns that reason into the XDP action. Shared by the
 * balancer and the decap program, each of which has its own `reasons` map.
 */
#ifndef XLB_REASONS_H
#define XLB_REASONS_H

#include "consts.h"
#include "trace.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_REASON_MAX);
	__type(key, __u32);
	__type(value, __u64);
} reasons SEC(".maps");

static __always_inline void xlb_count_reason(__u32 reason)
{
	__u64 *cnt = bpf_map_lookup_elem(&reasons, &reason);

	if (cnt)
		*cnt += 1;
}

/* The XDP action a reason stands for; forwarding by redirect is done by the caller. */
static __always_inline int xlb_reason_action(int reason)
{
	switch (reason) {
	case XLB_FWD_TX:
	case XLB_TX_TOO_BIG:
		return XDP_TX;
	case XLB_FWD_REDIRECT:
		return XDP_REDIRECT;
	case XLB_DROP_MALFORMED:
	case XLB_DROP_NO_BACKEND:
	case XLB_DROP_NO_SOURCE:
	case XLB_DROP_ENCAP:
	case XLB_DROP_TOO_BIG:
	case XLB_DROP_ICMP_LIMIT:
	case XLB_DROP_VIP_PORT ... XLB_DROP_TTL:
	case XLB_DECAP_MALFORMED:
		return XDP_DROP;
	default:
		return XDP_PASS;
	}
}

/* Count @reason and return its action: every exit of both programs goes through here. */
static __always_inline int xlb_verdict(int reason)
{
	xlb_count_reason(reason);
	xlb_trace_end(reason);
	return xlb_reason_action(reason);
}

/*
 * xlb_verdict() for a packet that xlb_trace_begin() answered @traced for:
 * only a traced packet has an event to send, so an untraced one does not
 * ask trace_ctl again at its exit (a trace that starts meanwhile has not
 * armed this CPU's slot for it either).
 */
static __always_inline int xlb_verdict_of(int traced, int reason)
{
	xlb_count_reason(reason);
	if (traced)
		xlb_trace_end(reason);
	return xlb_reason_action(reason);
}

#endif /* XLB_REASONS_H */
