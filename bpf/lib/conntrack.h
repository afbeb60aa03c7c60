/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 3a: connection tracking. A flow keeps its backend while the backend
 * is configured for this VIP and not DOWN; anything else is a miss, so a
 * slot that was freed and reused never receives an old flow. The entry is
 * written only when it must change (new flow, FIN/RST, SYN reusing a
 * closing tuple) or its timestamp is XLB_FLOW_TOUCH_NS old: a per-packet
 * write would bounce the cache line between CPUs.
 *
 * Timestamps use the coarse monotonic clock: same epoch as CLOCK_MONOTONIC
 * (what user space expires against), a tick of error, and cheaper.
 */
#ifndef XLB_CONNTRACK_H
#define XLB_CONNTRACK_H

#include "maps.h"
#include "pkt.h"

static __always_inline int xlb_backend_usable(const struct xlb_backend *be, __u32 vip_id)
{
	return (be->flags & (XLB_BE_F_USED | XLB_BE_F_DOWN)) == XLB_BE_F_USED &&
	       be->vip_id == vip_id;
}

static __always_inline void xlb_ct_touch(struct xlb_flow *flow, const struct xlb_pkt *pkt)
{
	__u64 now = bpf_ktime_get_coarse_ns();

	if (now - flow->last_seen_ns >= XLB_FLOW_TOUCH_NS)
		flow->last_seen_ns = now;
	if (pkt->tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST)) {
		if (!(flow->flags & XLB_FLOW_F_CLOSING))
			flow->flags |= XLB_FLOW_F_CLOSING;
	} else if ((pkt->tcp_flags & (XLB_TCP_SYN | XLB_TCP_ACK)) == XLB_TCP_SYN &&
		   (flow->flags & XLB_FLOW_F_CLOSING)) {
		/* A new connection reuses the tuple: give it the normal timeout. */
		flow->flags &= ~XLB_FLOW_F_CLOSING;
	}
}

/*
 * The backend of a tracked flow of @vip_id, or NULL (miss or stale entry).
 * ICMP errors read the entry but do not refresh it: they are not traffic
 * of the flow.
 */
static __always_inline struct xlb_backend *xlb_ct_lookup(const struct xlb_pkt *pkt,
							 __u32 vip_id, __u32 *be_id)
{
	struct xlb_flow *flow = bpf_map_lookup_elem(&conntrack, &pkt->key);
	struct xlb_backend *be;
	__u32 id;

	if (!flow || flow->vip_id != vip_id)
		return NULL;
	id = flow->backend_id;
	be = bpf_map_lookup_elem(&backends, &id);
	if (!be || !xlb_backend_usable(be, vip_id))
		return NULL;
	if (!pkt->icmp_err)
		xlb_ct_touch(flow, pkt);
	*be_id = id;
	return be;
}

static __always_inline void xlb_ct_insert(const struct xlb_pkt *pkt, __u32 vip_id, __u32 be_id)
{
	struct xlb_flow flow = {
		.backend_id = be_id,
		.vip_id = vip_id,
		.last_seen_ns = bpf_ktime_get_coarse_ns(),
	};

	if (pkt->tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST))
		flow.flags = XLB_FLOW_F_CLOSING;
	bpf_map_update_elem(&conntrack, &pkt->key, &flow, BPF_ANY);
}

#endif /* XLB_CONNTRACK_H */
