/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Step 3b: pick a backend for a flow conntrack does not know, by the VIP's
 * scheduler (enum xlb_sched). Every scheduler is one or two slot reads in
 * the VIP's table, which user space fills so that each does the right thing:
 *   maglev  flow hash % table_size (weighted Maglev table)
 *   sh      hash of the client address only % table_size (client affinity)
 *   wrr     this CPU's rr counter % table_size (the table is the smooth WRR
 *           sequence, so the counter walks it)
 *   lc/lrt  two slots from two hashes, "power of two choices": fewer active
 *           flows per weight wins (lc); a clearly (XLB_LRT_SAME_PCT) lower
 *           probe response time wins, else active flows per weight (lrt; an
 *           unknown time, 0, defers to active flows so a new backend is not
 *           flooded).
 * ICMP errors are not flows: they hash like maglev (or sh) whatever the
 * scheduler, so they find a tracked flow's likely backend without moving
 * counters.
 */
#ifndef XLB_SCHED_H
#define XLB_SCHED_H

#include "maps.h"
#include "pkt.h"
#include "hash.h"

/* lrt: response times closer than this (percent of the slower) count as equal. */
#define XLB_LRT_SAME_PCT	20

/* Slots the second choice of lc/lrt reads at most. */
#define XLB_SECOND_CHOICE_TRIES	4

/* The owner of slot @slot: one 64-byte line of owners (struct xlb_table_line). */
static __always_inline __u32 xlb_table_get(void *table, __u32 slot)
{
	__u32 line = slot / XLB_TABLE_LINE_OWNERS;
	struct xlb_table_line *l = bpf_map_lookup_elem(table, &line);

	return l ? l->owner[slot % XLB_TABLE_LINE_OWNERS] : XLB_BACKEND_NONE;
}

/* Slot @slot's previous owner and its change time, in a table of @size slots. */
static __always_inline const struct xlb_slot_prev *xlb_table_prev(void *table, __u32 size,
								  __u32 slot)
{
	__u32 line = xlb_table_prev_line(size, slot);
	struct xlb_table_line *l = bpf_map_lookup_elem(table, &line);

	return l ? &l->prev[slot % XLB_TABLE_LINE_PREVS] : NULL;
}

/*
 * Whether some slot of the table may have a second hop now: its tail counts
 * the slots with a previous owner and has the latest change of them, so a
 * table at rest answers no from one line that every pick of the VIP
 * shares. A table without a tail (made by an older xlb) may.
 */
static __always_inline int xlb_table_may_chain(void *table, __u32 size,
					       const struct xlb_vip *vip, struct xlb_pkt *pkt)
{
	__u32 line = xlb_table_tail_line(size);
	struct xlb_table_line *l = bpf_map_lookup_elem(table, &line);

	if (!l)
		return 1;
	if (!l->tail.prevs || !vip->chain_window_s)
		return 0;
	return xlb_pkt_now(pkt) < ((__u64)l->tail.prev_changed_s + vip->chain_window_s) *
				  XLB_NSEC_PER_SEC;
}

/* Is @id1 the better of two candidates? Ties go to the first hash, so the pick is stable. */
static __always_inline int xlb_first_wins(__u32 id1, __u32 id2, __u8 sched)
{
	struct xlb_backend *b1 = bpf_map_lookup_elem(&backends, &id1);
	struct xlb_backend *b2 = bpf_map_lookup_elem(&backends, &id2);
	__u64 *a1 = bpf_map_lookup_elem(&backend_active, &id1);
	__u64 *a2 = bpf_map_lookup_elem(&backend_active, &id2);
	__u64 w1, w2;

	if (!b2 || !a2)
		return 1;
	if (!b1 || !a1)
		return 0;
	/*
	 * A clearly faster backend wins; response times within
	 * XLB_LRT_SAME_PCT % of each other are noise, and active flows decide.
	 */
	if (sched == XLB_SCHED_LRT && b1->rt_us && b2->rt_us) {
		if ((__u64)b1->rt_us * 100 < (__u64)b2->rt_us * (100 - XLB_LRT_SAME_PCT))
			return 1;
		if ((__u64)b2->rt_us * 100 < (__u64)b1->rt_us * (100 - XLB_LRT_SAME_PCT))
			return 0;
	}
	w1 = b1->weight ? b1->weight : 1;
	w2 = b2->weight ? b2->weight : 1;
	/* active1 / w1 <= active2 / w2, without dividing */
	return *a1 * w2 <= *a2 * w1;
}

/*
 * The second choice: the slot of a second hash, or, when that holds the same
 * backend as the first (1 in N with N backends), the next few slots. A fixed
 * number of slot reads, never a walk over backends; without it a loaded
 * backend would still get 1/N^2 of new flows.
 */
static __always_inline __u32 xlb_second_choice(void *table, __u32 size, __u32 id1, __u32 slot)
{
	__u32 id2 = XLB_BACKEND_NONE;

#pragma unroll
	for (int i = 0; i < XLB_SECOND_CHOICE_TRIES; i++) {
		id2 = xlb_table_get(table, slot);
		if (id2 != id1)
			break;
		slot = slot + 1 < size ? slot + 1 : 0;
	}
	return id2;
}

static __always_inline __u32 xlb_pick_two(void *table, __u32 size, __u8 sched, __u32 hash,
					  const struct xlb_pkt *pkt)
{
	__u32 id1 = xlb_table_get(table, hash % size);
	__u32 id2 = xlb_second_choice(table, size, id1,
				      xlb_flow_hash(&pkt->key, XLB_HASH_SEED2) % size);

	if (id2 == XLB_BACKEND_NONE || id2 == id1)
		return id1;
	if (id1 == XLB_BACKEND_NONE)
		return id2;
	return xlb_first_wins(id1, id2, sched) ? id1 : id2;
}

/*
 * The chosen backend id, or XLB_BACKEND_NONE (no table, empty slot). With
 * @want_slot (GUE: a hop list to fill), *@hashed is the previous owner of
 * the slot read when the pick is the flow's own slot (maglev, sh, ICMP
 * errors), if the table has a change young enough: only then does it say
 * where the flow may live. wrr, lc and lrt pick by counters and load, and
 * leave it NULL.
 */
static __always_inline __u32 xlb_pick(struct xlb_pkt *pkt, const struct xlb_vip *vip,
				      struct xlb_counters *vcnt, int want_slot,
				      const struct xlb_slot_prev **hashed)
{
	__u32 vip_id = vip->id, size = vip->table_size, slot, hash;
	__u8 sched = vip->sched;
	__u32 id;
	void *table;

	table = bpf_map_lookup_elem(&tables, &vip_id);
	if (!table || !size)
		return XLB_BACKEND_NONE;
	if (pkt->icmp_err && sched != XLB_SCHED_SH)
		sched = XLB_SCHED_MAGLEV;
	/* One inlined copy of the hash, whichever scheduler needs it. */
	if (sched != XLB_SCHED_WRR)
		hash = sched == XLB_SCHED_SH ? xlb_client_hash(&pkt->key) : xlb_pkt_hash(pkt);

	switch (sched) {
	case XLB_SCHED_WRR:
		if (!vcnt)
			return XLB_BACKEND_NONE;
		slot = vcnt->rr < size ? vcnt->rr : 0;
		vcnt->rr = slot + 1;
		return xlb_table_get(table, slot);
	case XLB_SCHED_LC:
	case XLB_SCHED_LRT:
		return xlb_pick_two(table, size, sched, hash, pkt);
	default:	/* maglev, sh */
		slot = hash % size;
		break;
	}
	id = xlb_table_get(table, slot);
	if (want_slot && id != XLB_BACKEND_NONE && xlb_table_may_chain(table, size, vip, pkt))
		*hashed = xlb_table_prev(table, size, slot);
	return id;
}

#endif /* XLB_SCHED_H */
