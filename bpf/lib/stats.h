/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-VIP and per-backend counters (vip_stats, backend_stats): per-CPU, so
 * plain increments; user space sums the CPUs.
 */
#ifndef XLB_STATS_H
#define XLB_STATS_H

#include "maps.h"

static __always_inline struct xlb_counters *xlb_backend_counters(__u32 be_id)
{
	return bpf_map_lookup_elem(&backend_stats, &be_id);
}

/* A flow was (re)assigned to @be_id of a VIP scheduled by @sched. */
static __always_inline void xlb_count_new_flow(struct xlb_counters *vcnt, __u32 be_id,
					       __u8 sched)
{
	struct xlb_counters *bcnt = xlb_backend_counters(be_id);
	__u64 *active;

	if (vcnt)
		vcnt->new_flows++;
	if (bcnt)
		bcnt->new_flows++;
	/*
	 * Only lc and lrt read active flows between the agent's recounts (it
	 * recounts every backend from conntrack): spare the others the atomic,
	 * which is shared by every CPU.
	 */
	if (sched != XLB_SCHED_LC && sched != XLB_SCHED_LRT)
		return;
	active = bpf_map_lookup_elem(&backend_active, &be_id);
	if (active)
		__sync_fetch_and_add(active, 1);
}

/* A packet of @bytes (the frame as received) was forwarded to @be_id. */
static __always_inline void xlb_count_fwd(struct xlb_counters *vcnt, __u32 be_id, __u32 bytes)
{
	struct xlb_counters *bcnt = xlb_backend_counters(be_id);

	if (vcnt) {
		vcnt->packets++;
		vcnt->bytes += bytes;
	}
	if (bcnt) {
		bcnt->packets++;
		bcnt->bytes += bytes;
	}
}

#endif /* XLB_STATS_H */
