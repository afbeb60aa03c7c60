/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Walking the conntrack maps from user space: listing, counting,
 * flushing, purging a deleted backend's flows and idle expiry all visit
 * every entry the same way: a scan of the mapped flow table
 * (user/lib/flowtable.h; each table mapped once a process). An older
 * instance's LRU hashes are not read (-EINVAL): attach refuses them. An
 * instance tracks flows in two tables (docs/DESIGN.md, "Conntrack
 * admission"): conntrack, and the young flows' ct_new, whose entries are the
 * ones with young_pkts > 0. ct_walk_both() visits both; ct_events_sum() reads
 * the admission counters.
 */
#ifndef XLB_CT_H
#define XLB_CT_H

#include <stdbool.h>
#include "xlb_abi.h"
#include "inst.h"

/* Pin names of the young table and of the admission counters (bpf/lib/maps.h). */
#define CT_YOUNG_MAP	"ct_new"
#define CT_EVENTS_MAP	"ct_events"

/*
 * One flow of either table (conntrack, ct_new), by key, as
 * bpf_map_lookup_elem(), _update_elem() (flags BPF_ANY, BPF_NOEXIST,
 * BPF_EXIST) and _delete_elem() would do on a hash. 0 or -errno (-ENOENT,
 * -EEXIST). A flow stored takes the way the data plane would give it.
 */
int ct_find(int fd, const struct xlb_flow_key *k, struct xlb_flow *f);
int ct_store(int fd, const struct xlb_flow_key *k, const struct xlb_flow *f, __u64 flags);
int ct_remove(int fd, const struct xlb_flow_key *k);

/* Forgets every flow of @fd (either table). 0 or -errno. */
int ct_clear(int fd);

/* Return true to delete the entry. */
typedef bool (*ct_visit_fn)(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg);

/* Visits every entry; counts visited and deleted ones (either may be NULL). 0 or -errno. */
int ct_walk(int ct_fd, ct_visit_fn fn, void *arg, __u64 *visited, __u64 *deleted);
/* ct_walk() over conntrack, then ct_new, of @in; the counts add up. 0 or -errno. */
int ct_walk_both(const struct xlb_inst *in, ct_visit_fn fn, void *arg, __u64 *visited,
		 __u64 *deleted);
/*
 * Moves every young flow of @in into conntrack (one already there keeps its
 * entry) and out of ct_new: the data plane stops reading ct_new once
 * promotion is off (config.ct_promote_after <= 1), and a young flow must not
 * lose its backend then. 0 or -errno; none when there is no ct_new.
 */
int ct_young_promote_all(const struct xlb_inst *in);
/* The same between the open maps @young (ct_new) and @ct (conntrack). */
int ct_young_promote(int young, int ct);
/* A pinned map of @in beside those inst_open() opens, or -errno. */
int ct_pin_open(const struct xlb_inst *in, const char *name);
/*
 * NAT flows (nat_flows, struct xlb_nat_flow): two entries a flow, one a
 * direction, each finding the other with xlb_nat_twin_key(). A plain hash:
 * an entry stays until it is deleted, so the visitor deletes what it must
 * itself, in pair order (nat_pair_delete()).
 */
#define NAT_FLOWS_MAP	"nat_flows"

/* @fd is the open nat_flows map. */
typedef void (*nat_visit_fn)(int fd, const struct xlb_flow_key *k, const struct xlb_nat_flow *f,
			     void *arg);

/* Visits every nat_flows entry of @in (none when it has no such map). 0 or -errno. */
int nat_walk(const struct xlb_inst *in, nat_visit_fn fn, void *arg, __u64 *visited);
/* @k's twin key into @tk and, if there is one, its entry into @tf. */
bool nat_twin(int fd, const struct xlb_flow_key *k, const struct xlb_nat_flow *f,
	      struct xlb_flow_key *tk, struct xlb_nat_flow *tf);
/* Deletes @k, then its twin (the SNAT port's reservation); returns how many went. */
int nat_pair_delete(int fd, const struct xlb_flow_key *k, const struct xlb_nat_flow *f);
/* ct_events summed over CPUs, by enum xlb_ct_event. 0 or -errno. */
int ct_events_sum(const struct xlb_inst *in, __u64 sum[XLB_CT_EV_MAX]);

#endif
