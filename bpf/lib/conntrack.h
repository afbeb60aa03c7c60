/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 3a: connection tracking. A flow keeps its backend while the backend
 * is configured for this VIP, DOWN or not, unless the VIP says
 * --down-flows move (XLB_VIP_F_DOWN_MOVE: a DOWN backend is then a miss,
 * and the flow re-hashes; a VIP failing open keeps its flows either way);
 * anything else is a miss, so a slot that was freed and reused never
 * receives an old flow. The entry is written only when it must change
 * (new flow, FIN/RST, SYN reusing a closing tuple) or its timestamp is
 * XLB_FLOW_TOUCH_NS old: a per-packet write would bounce the cache line
 * between CPUs.
 *
 * Admission has two stages, so that a flood of short flows cannot evict
 * established ones. A new flow goes into the young table ct_new and moves
 * ("promotion": insert into conntrack, delete from ct_new) once it has
 * carried config.ct_promote_after packets (0 or 1: straight into
 * conntrack; ct_new is then not read at all, so a new flow costs one
 * lookup that misses, not two, and the commit that turns promotion off
 * moves the young flows to conntrack: user/lib/ct.c). conntrack then only
 * ever receives flows that lasted, and its evictions (a full bucket's
 * least recently seen way) only make them compete among themselves; short
 * flows evict each other in ct_new. A tracked hit in conntrack costs one
 * lookup, as before; a young flow one more, plus the write of its packet
 * count.
 * config.ct_insert_rate caps the new flows tracked per CPU per second (0:
 * no cap, Katran's budget); past it a flow is forwarded untracked and its
 * next packet picks again (the same backend under maglev and sh). Every
 * admission event is counted in ct_events.
 *
 * Session sync: with config.sync_report set (xlb sync set), a flow that
 * enters conntrack (direct insert or promotion) and a conntrack flow that
 * turns CLOSING are written to the ring buffer sync_events for the agent,
 * which tells the other instances (docs/SCALE-OUT.md). Those are events a
 * flow has once or twice, never a per-packet cost; young flows are not
 * reported (a flow that never lasted needs no copy elsewhere).
 *
 * The table (struct xlb_ct_entry, xlb_abi.h) is set-associative: an
 * array of one-cache-line ways, XLB_CT_WAYS to a bucket, the bucket named
 * by the flow hash (xlb_ct_hash64(), a few multiplies), which a packet
 * computes once for conntrack and the scheduler. A lookup hashes once and
 * reads at most one bucket (its ways are adjacent lines); an insert
 * overwrites the bucket's least recently seen way (a free one first):
 * no allocation, no lock, no LRU list, and an eviction is counted
 * (ct_events "evicted") rather than hidden. Writers on two CPUs may race on
 * one way; a reader then sees a stale or torn entry at worst, and a torn
 * entry is a miss: each way carries a check word binding its backend and
 * VIP to its key (xlb_ct_check()), so one flow's key beside another's
 * backend fails it, and the flow is picked again (the same backend, under
 * maglev and sh) and rewritten in that way. The flow is written before
 * its key, so a reader that matches a new key finds its flow. ct_new is a
 * flow table of the same layout and code (the functions take the table).
 *
 * Timestamps use the coarse monotonic clock: same epoch as CLOCK_MONOTONIC
 * (what user space expires against), a tick of error, and cheaper.
 */
#ifndef XLB_CONNTRACK_H
#define XLB_CONNTRACK_H

#include "maps.h"
#include "pkt.h"
#include "reasons.h"

#define XLB_NS_PER_SEC	1000000000ULL

/* The DOWN policy, from the VIP's flags read once: whether DOWN is a miss. */
static __always_inline __u8 xlb_down_miss(const struct xlb_vip *vip)
{
	return (vip->flags & (XLB_VIP_F_DOWN_MOVE | XLB_VIP_F_ALL_DOWN)) == XLB_VIP_F_DOWN_MOVE ?
	       XLB_BE_F_DOWN : 0;
}

static __always_inline int xlb_backend_usable(const struct xlb_backend *be,
					      const struct xlb_vip *vip)
{
	return (be->flags & (XLB_BE_F_USED | xlb_down_miss(vip))) == XLB_BE_F_USED &&
	       be->vip_id == vip->id;
}

/*
 * A forwarded packet that went to a DOWN backend: fwd_fail_open when its
 * VIP fails open, else fwd_down_stay (a tracked flow kept). Counted besides
 * the forwarding reason.
 */
static __always_inline void xlb_count_down(const struct xlb_vip *vip, const struct xlb_backend *be)
{
	if (vip->flags & XLB_VIP_F_ALL_DOWN)
		xlb_count_reason(XLB_FWD_FAIL_OPEN);
	else if (be->flags & XLB_BE_F_DOWN)
		xlb_count_reason(XLB_FWD_DOWN_STAY);
}

/* The admission settings (an array's entry 0: the verifier inlines the lookup). */
static __always_inline const struct xlb_config *xlb_ct_config(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config, &zero);
}

static __always_inline struct xlb_ct_events *xlb_ct_events(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&ct_events, &zero);
}

static __always_inline void xlb_ct_count(struct xlb_ct_events *ev, enum xlb_ct_event e)
{
	if (ev)
		ev->count[e]++;
}

/* One sync event for the agent, when sync is on; a full ring is counted, not waited for. */
static __always_inline void xlb_sync_report(const struct xlb_config *cfg,
					    const struct xlb_flow_key *key,
					    const struct xlb_flow *flow, __u32 type)
{
	struct xlb_sync_event *e;

	if (!cfg || !cfg->sync_report)
		return;
	e = bpf_ringbuf_reserve(&sync_events, sizeof(*e), 0);
	if (!e) {
		xlb_ct_count(xlb_ct_events(), XLB_CT_EV_SYNC_LOST);
		return;
	}
	e->key = *key;
	e->backend_id = flow->backend_id;
	e->vip_id = flow->vip_id;
	e->type = type;
	e->flow_flags = flow->flags;
	bpf_ringbuf_submit(e, 0);
}

/* Refreshes @flow for @pkt; 1 when this packet turned it CLOSING. */
static __always_inline int xlb_ct_touch(struct xlb_flow *flow, struct xlb_pkt *pkt)
{
	__u64 now = xlb_pkt_now(pkt);

	if (now - flow->last_seen_ns >= XLB_FLOW_TOUCH_NS)
		flow->last_seen_ns = now;
	if (pkt->tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST)) {
		if (!(flow->flags & XLB_FLOW_F_CLOSING)) {
			flow->flags |= XLB_FLOW_F_CLOSING;
			return 1;
		}
	} else if ((pkt->tcp_flags & (XLB_TCP_SYN | XLB_TCP_ACK)) == XLB_TCP_SYN &&
		   (flow->flags & XLB_FLOW_F_CLOSING)) {
		/* A new connection reuses the tuple: give it the normal timeout. */
		flow->flags &= ~XLB_FLOW_F_CLOSING;
	}
	return 0;
}

/* The usable backend an entry of either table names for @vip, or NULL. */
static __always_inline struct xlb_backend *xlb_ct_backend(const struct xlb_flow *flow,
							  const struct xlb_vip *vip, __u32 *be_id)
{
	struct xlb_backend *be;
	__u32 id;

	if (flow->vip_id != vip->id)
		return NULL;
	id = flow->backend_id;
	be = bpf_map_lookup_elem(&backends, &id);
	if (!be || !xlb_backend_usable(be, vip))
		return NULL;
	*be_id = id;
	return be;
}

static __always_inline int xlb_ct_key_eq(const struct xlb_flow_key *a,
					 const struct xlb_flow_key *b)
{
	const xlb_key_word *x = (const xlb_key_word *)a, *y = (const xlb_key_word *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]));
}

/*
 * Way @w of the bucket starting at @first of the flow table @tbl (conntrack
 * or ct_new), or NULL (a table smaller than a bucket).
 */
static __always_inline struct xlb_ct_entry *xlb_ct_way_at(void *tbl, __u32 first, __u32 w)
{
	__u32 idx = first + w;

	return bpf_map_lookup_elem(tbl, &idx);
}

static __always_inline __u32 xlb_ct_first(void *tbl, __u32 hash)
{
	return xlb_ct_bucket(hash, ((struct bpf_map___xlb *)tbl)->max_entries);
}

/*
 * The way of the bucket at @first holding @pkt's key, or NULL. With
 * @victim (a constant at each call: without it, this is only the lookup, and
 * the compiler drops the rest) it also notes the way a new entry would take:
 * the least recently seen (a free way's last_seen_ns is 0), the first of
 * equals.
 */
static __always_inline struct xlb_ct_entry *xlb_ct_scan(void *tbl, const struct xlb_pkt *pkt,
							__u32 first, struct xlb_ct_entry **victim)
{
	struct xlb_ct_entry *e;
	__u64 oldest = ~0ULL;

#pragma unroll
	for (int w = 0; w < XLB_CT_WAYS; w++) {
		e = xlb_ct_way_at(tbl, first, w);
		if (!e)
			return NULL;	/* a table smaller than a bucket: no victim either */
		if (xlb_ct_key_eq(&e->key, &pkt->key))
			return e;
		if (victim && e->flow.last_seen_ns < oldest) {
			oldest = e->flow.last_seen_ns;
			*victim = e;
		}
	}
	return NULL;
}

/*
 * @pkt's flow's way in @tbl, or NULL: its key, and a check word that holds
 * (a torn way is a miss). Nothing else: a hit reads no more than it must,
 * and the choice of a way for a new entry waits for an insert.
 */
static __always_inline struct xlb_ct_entry *xlb_ct_find(void *tbl, struct xlb_pkt *pkt)
{
	__u64 hash = xlb_pkt_hash64(pkt);
	struct xlb_ct_entry *e = xlb_ct_scan(tbl, pkt, xlb_ct_first(tbl, (__u32)hash), NULL);

	return e && e->flow.check == xlb_ct_check(hash, e->flow.backend_id, e->flow.vip_id) ?
	       e : NULL;
}

/*
 * The way a new entry of @pkt's flow takes: the one holding its key (a
 * stale or torn entry is rewritten in place, so a bucket never holds a key
 * twice), else xlb_ct_scan()'s victim. The ways were just read by
 * xlb_ct_find(): cached.
 */
static __always_inline struct xlb_ct_entry *xlb_ct_victim(void *tbl, const struct xlb_pkt *pkt,
							  __u64 hash)
{
	struct xlb_ct_entry *victim = NULL;
	struct xlb_ct_entry *e = xlb_ct_scan(tbl, pkt, xlb_ct_first(tbl, (__u32)hash), &victim);

	return e ? e : victim;
}

/*
 * Writes @flow into the way xlb_ct_victim() gives @pkt's flow in @tbl: the
 * flow and its check word first, then the key. Taking a way from another
 * flow counts in @ev (NULL: not counted, ct_new's own business). 0, or -1.
 */
static __always_inline int xlb_ct_store(void *tbl, struct xlb_pkt *pkt, const struct xlb_flow *flow,
					struct xlb_ct_events *ev)
{
	__u64 hash = xlb_pkt_hash64(pkt);
	struct xlb_ct_entry *e = xlb_ct_victim(tbl, pkt, hash);

	if (!e)
		return -1;
	if (ev && e->key.family && !xlb_ct_key_eq(&e->key, &pkt->key))
		xlb_ct_count(ev, XLB_CT_EV_EVICTED);
	e->flow = *flow;
	e->flow.check = xlb_ct_check(hash, flow->backend_id, flow->vip_id);
	asm volatile("" ::: "memory");
	e->key = pkt->key;
	return 0;
}

/* Frees way @e, key first (a reader that still matches it finds the flow). */
static __always_inline void xlb_ct_clear(struct xlb_ct_entry *e)
{
	__builtin_memset(&e->key, 0, sizeof(e->key));
	asm volatile("" ::: "memory");
	__builtin_memset(&e->flow, 0, sizeof(e->flow));
}

/* Move the young flow of way @young (of ct_new) that has carried enough packets to conntrack. */
static __always_inline void xlb_ct_promote(struct xlb_pkt *pkt, struct xlb_ct_entry *young,
					   const struct xlb_config *cfg)
{
	struct xlb_ct_events *ev = xlb_ct_events();
	struct xlb_flow flow = young->flow;

	flow.young_pkts = 0;
	if (xlb_ct_store(&conntrack, pkt, &flow, ev)) {
		xlb_ct_count(ev, XLB_CT_EV_INSERT_FAILED);
		return;		/* stays young; the next packet tries again */
	}
	xlb_ct_clear(young);
	xlb_ct_count(ev, XLB_CT_EV_PROMOTED);
	xlb_sync_report(cfg, &pkt->key, &flow, XLB_SYNC_EV_NEW);
}

/*
 * The young table's part of a lookup. A closing flow is never promoted:
 * it is about to end, and would only take an established flow's place.
 */
static __always_inline struct xlb_backend *xlb_ct_young(struct xlb_pkt *pkt,
							const struct xlb_vip *vip, __u32 *be_id)
{
	const struct xlb_config *cfg = xlb_ct_config();
	struct xlb_ct_entry *e;
	struct xlb_flow *flow;
	struct xlb_backend *be;

	if (cfg && cfg->ct_promote_after <= 1)
		return NULL;
	e = xlb_ct_find(&ct_new, pkt);
	if (!e)
		return NULL;
	flow = &e->flow;
	be = xlb_ct_backend(flow, vip, be_id);
	if (!be || pkt->icmp_err)
		return be;
	xlb_ct_touch(flow, pkt);
	if (flow->young_pkts < XLB_YOUNG_PKTS_MAX)
		flow->young_pkts++;
	if (cfg && flow->young_pkts >= cfg->ct_promote_after &&
	    !(flow->flags & XLB_FLOW_F_CLOSING))
		xlb_ct_promote(pkt, e, cfg);
	return be;
}

/*
 * The backend of a tracked flow of @vip, or NULL (miss or stale entry).
 * conntrack first: an established flow costs one lookup. A stale entry
 * there (backend gone, or DOWN under --down-flows move) is left for the
 * flow's promotion to overwrite, so a re-picked flow is young again. ICMP errors read the
 * entry but do not refresh or count it: they are not traffic of the flow.
 */
static __always_inline struct xlb_backend *xlb_ct_lookup(struct xlb_pkt *pkt,
							 const struct xlb_vip *vip, __u32 *be_id)
{
	struct xlb_ct_entry *e = xlb_ct_find(&conntrack, pkt);
	struct xlb_flow *flow;
	struct xlb_backend *be;

	if (e) {
		flow = &e->flow;
		be = xlb_ct_backend(flow, vip, be_id);
		if (be) {
			if (!pkt->icmp_err && xlb_ct_touch(flow, pkt))
				xlb_sync_report(xlb_ct_config(), &pkt->key, flow,
						XLB_SYNC_EV_CLOSING);
			return be;
		}
	}
	return xlb_ct_young(pkt, vip, be_id);
}

/* Room for one more new flow in this CPU's budget of @rate a second; uses it. */
static __always_inline int xlb_ct_budget(struct xlb_ct_events *ev, __u32 rate, struct xlb_pkt *pkt)
{
	__u64 sec = xlb_pkt_now(pkt) / XLB_NS_PER_SEC;

	if (ev->budget_sec != sec) {
		ev->budget_sec = sec;
		ev->budget_used = 0;
	}
	if (ev->budget_used >= rate)
		return 0;
	ev->budget_used++;
	return 1;
}

/* Track a new flow: young (ct_new), or at once in conntrack when promote_after <= 1. */
static __always_inline void xlb_ct_insert(struct xlb_pkt *pkt, __u32 vip_id, __u32 be_id)
{
	const struct xlb_config *cfg = xlb_ct_config();
	struct xlb_ct_events *ev = xlb_ct_events();
	struct xlb_flow flow = {
		.backend_id = be_id,
		.vip_id = vip_id,
		.last_seen_ns = xlb_pkt_now(pkt),
	};
	int err;

	if (!cfg || !ev)
		return;		/* cannot happen: arrays have entry 0 */
	if (cfg->ct_insert_rate && !xlb_ct_budget(ev, cfg->ct_insert_rate, pkt)) {
		xlb_ct_count(ev, XLB_CT_EV_OVER_BUDGET);
		return;
	}
	if (pkt->tcp_flags & (XLB_TCP_FIN | XLB_TCP_RST))
		flow.flags = XLB_FLOW_F_CLOSING;
	if (cfg->ct_promote_after <= 1) {
		err = xlb_ct_store(&conntrack, pkt, &flow, ev);
		xlb_ct_count(ev, err ? XLB_CT_EV_INSERT_FAILED : XLB_CT_EV_DIRECT);
		if (!err)
			xlb_sync_report(cfg, &pkt->key, &flow, XLB_SYNC_EV_NEW);
		return;
	}
	flow.young_pkts = 1;
	err = xlb_ct_store(&ct_new, pkt, &flow, NULL);
	xlb_ct_count(ev, err ? XLB_CT_EV_INSERT_FAILED : XLB_CT_EV_ADMITTED);
}

#endif /* XLB_CONNTRACK_H */
