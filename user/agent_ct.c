// SPDX-License-Identifier: GPL-2.0
/*
 * xlb agent: conntrack expiry and the active-flow recount. The flow tables
 * only evict from a full bucket, and the data plane only ever adds 1 to backend_active,
 * so once a second one walk of both tables (conntrack and the young flows'
 * ct_new) deletes flows idle longer than their timeout (ctl: TCP, TCP after
 * FIN/RST, UDP) and counts, per backend, the flows that are neither closing
 * nor expired, nor on a backend they would leave (removed, or DOWN under
 * --down-flows move; the data plane's xlb_backend_usable()): that count
 * replaces backend_active, which lc and lrt compare. A live flow is in one
 * table only (a stale conntrack entry beside a re-picked young one names a
 * backend it would leave, so it is not counted). A flow created between the
 * walk and the write is missing from the count until the next walk, a
 * second later.
 *
 * NAT flows (nat_flows, a plain hash: nothing evicts them) are expired in
 * the same pass, a pair at a time: when both halves are idle past the
 * timeout (each direction refreshes its own entry; a FIN or RST marked in
 * either makes it the pair's FIN timeout: the connection is over) both go, the
 * client's entry first and the backend's, which reserves the SNAT port,
 * last, so a new flow never finds the port free while the old client entry
 * still sends there. A half whose twin is gone goes once it is idle itself
 * (the backend's entry alone is also the moment between the data plane's
 * two inserts, and it is fresh then). A NAT flow counts once, from its
 * client's entry, for backend_active, unless a half is closing.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "ct.h"
#include "util.h"

#define NS_PER_S	1000000000ULL

struct ct_pass {
	__u64 now;
	__u64 tcp_ns, fin_ns, udp_ns;
	__u64 *active;		/* XLB_MAX_BACKENDS counters */
	const struct xlb_backend *bes;	/* the backends array, or NULL */
	__u64 nat_deleted;	/* nat_flows entries deleted (two a flow) */
	__u8 down_miss[XLB_MAX_VIPS];	/* by VIP id: XLB_BE_F_DOWN if DOWN re-hashes its flows */
};

/*
 * A flow counts for its backend only where the data plane would still send
 * it: a freed or reused slot, or a DOWN one under --down-flows move (not
 * while the VIP fails open), re-hashes the flow on its next packet.
 */
static bool flow_on_backend(const struct ct_pass *p, const struct xlb_flow *f)
{
	const struct xlb_backend *be;
	__u8 down;

	if (f->backend_id >= XLB_MAX_BACKENDS)
		return false;
	if (!p->bes)
		return true;
	be = &p->bes[f->backend_id];
	down = f->vip_id < XLB_MAX_VIPS ? p->down_miss[f->vip_id] : XLB_BE_F_DOWN;
	return (be->flags & (XLB_BE_F_USED | down)) == XLB_BE_F_USED && be->vip_id == f->vip_id;
}

static bool ct_expire_visit(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	struct ct_pass *p = arg;
	__u64 idle = p->now > f->last_seen_ns ? p->now - f->last_seen_ns : 0;
	bool closing = f->flags & XLB_FLOW_F_CLOSING;
	__u64 limit;

	if (closing)
		limit = p->fin_ns;
	else
		limit = k->proto == IPPROTO_TCP ? p->tcp_ns : p->udp_ns;
	if (idle >= limit)
		return true;
	if (!closing && flow_on_backend(p, f))
		p->active[f->backend_id]++;
	return false;
}

/*
 * One half of a NAT flow idle past its timeout (as a conntrack entry would
 * be); @closing: a FIN or RST seen in either direction.
 */
static bool nat_half_idle(const struct ct_pass *p, const struct xlb_flow_key *k,
			  const struct xlb_flow *f, bool closing)
{
	__u64 idle = p->now > f->last_seen_ns ? p->now - f->last_seen_ns : 0;
	__u64 limit;

	if (closing)
		limit = p->fin_ns;
	else
		limit = k->proto == IPPROTO_TCP ? p->tcp_ns : p->udp_ns;
	return idle >= limit;
}

static void nat_expire_visit(int fd, const struct xlb_flow_key *k, const struct xlb_nat_flow *nf,
			     void *arg)
{
	struct ct_pass *p = arg;
	struct xlb_flow_key tk;
	struct xlb_nat_flow tw;
	bool twin = nat_twin(fd, k, nf, &tk, &tw);
	bool closing = (nf->flow.flags | (twin ? tw.flow.flags : 0)) & XLB_FLOW_F_CLOSING;

	if (nf->flow.flags & XLB_FLOW_F_NAT_REPLY) {
		/* Its client's entry decides for both; alone, its own idleness. */
		if (!twin && nat_half_idle(p, k, &nf->flow, closing))
			p->nat_deleted += !bpf_map_delete_elem(fd, k);
		return;
	}
	if (nat_half_idle(p, k, &nf->flow, closing) &&
	    (!twin || nat_half_idle(p, &tk, &tw.flow, closing))) {
		p->nat_deleted += nat_pair_delete(fd, k, nf);
		return;
	}
	if (!closing && flow_on_backend(p, &nf->flow))
		p->active[nf->flow.backend_id]++;
}

static __u64 timeout_ns(__u32 s, __u32 dflt)
{
	return (__u64)(s ? s : dflt) * NS_PER_S;
}

/* backend_active := the recount, writing only the slots that differ. */
static void active_store(struct agent *a, const __u64 *active)
{
	static __u64 cur[XLB_MAX_BACKENDS];
	static __u32 keys[XLB_MAX_BACKENDS];
	__u32 count = XLB_MAX_BACKENDS, out_batch;
	int fd = a->in.fd[XLB_M_BACKEND_ACTIVE];

	if (bpf_map_lookup_batch(fd, NULL, &out_batch, keys, cur, &count, NULL) &&
	    errno != ENOENT)
		return;
	for (__u32 i = 0; i < count; i++) {
		__u32 id = keys[i];

		if (id < XLB_MAX_BACKENDS && cur[i] != active[id])
			bpf_map_update_elem(fd, &id, &active[id], BPF_ANY);
	}
}

/* Each VIP's DOWN policy, as the data plane reads it from its flags. */
static void down_policy_read(struct agent *a, __u8 *down_miss)
{
	struct xlb_vip_key k, next, *prev = NULL;
	struct xlb_vip v;

	memset(down_miss, 0, XLB_MAX_VIPS);
	while (!bpf_map_get_next_key(a->in.fd[XLB_M_VIPS], prev, &next)) {
		k = next;
		prev = &k;
		if (bpf_map_lookup_elem(a->in.fd[XLB_M_VIPS], &k, &v) || v.id >= XLB_MAX_VIPS)
			continue;
		if ((v.flags & (XLB_VIP_F_DOWN_MOVE | XLB_VIP_F_ALL_DOWN)) == XLB_VIP_F_DOWN_MOVE)
			down_miss[v.id] = XLB_BE_F_DOWN;
	}
}

/* The whole backends array by id (one syscall); NULL if unreadable. */
static const struct xlb_backend *backends_read(struct agent *a)
{
	static struct xlb_backend bes[XLB_MAX_BACKENDS], vals[XLB_MAX_BACKENDS];
	static __u32 keys[XLB_MAX_BACKENDS];
	__u32 count = XLB_MAX_BACKENDS, out_batch;

	if (bpf_map_lookup_batch(a->in.fd[XLB_M_BACKENDS], NULL, &out_batch, keys, vals, &count,
				 NULL) && errno != ENOENT)
		return NULL;
	memset(bes, 0, sizeof(bes));
	for (__u32 i = 0; i < count; i++)
		if (keys[i] < XLB_MAX_BACKENDS)
			bes[keys[i]] = vals[i];
	return bes;
}

void agent_ct_walk(struct agent *a)
{
	static __u64 active[XLB_MAX_BACKENDS];
	static struct ct_pass p;
	struct xlb_ctl ctl = {};
	__u64 t0 = now_mono_ns(), visited = 0, deleted = 0, nat_visited = 0;
	const char *what = "conntrack";
	__u32 zero = 0;
	int err;

	bpf_map_lookup_elem(a->in.fd[XLB_M_CTL], &zero, &ctl);
	memset(active, 0, sizeof(active));
	p.active = active;
	p.bes = backends_read(a);
	down_policy_read(a, p.down_miss);
	p.tcp_ns = timeout_ns(ctl.ct_timeout_tcp_s, XLB_CT_TIMEOUT_TCP_S);
	p.fin_ns = timeout_ns(ctl.ct_timeout_fin_s, XLB_CT_TIMEOUT_FIN_S);
	p.udp_ns = timeout_ns(ctl.ct_timeout_udp_s, XLB_CT_TIMEOUT_UDP_S);
	p.now = t0;
	p.nat_deleted = 0;
	err = ct_walk_both(&a->in, ct_expire_visit, &p, &visited, &deleted);
	if (!err && (err = nat_walk(&a->in, nat_expire_visit, &p, &nat_visited)))
		what = "NAT flow";
	if (err) {
		/* A partial count would wrongly lower backends' loads: keep the old one. */
		agent_log("%s walk failed: %s", what, strerror(-err));
		return;
	}
	active_store(a, active);
	/* Metrics count entries: nat_flows' as conntrack's. */
	a->ct.entries = visited + nat_visited;
	a->ct.expired_total += deleted + p.nat_deleted;
	a->ct.walks_total++;
	a->ct.last_walk_us = (now_mono_ns() - t0) / 1000;
}
