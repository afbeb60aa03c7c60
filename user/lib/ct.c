// SPDX-License-Identifier: GPL-2.0
/* The conntrack flow tables' flows and walks, NAT flows, and the admission counters (see ct.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "ct.h"
#include "flowtable.h"

#define CT_BATCH 4096

/*
 * The flow tables this process has mapped, by map id (never reused while
 * the kernel runs): a mapping installs every page of the table at once, so
 * each table is mapped once, not once a flow (the agent applies a peer's
 * whole copy flow by flow).
 */
#define CT_MAPPED 4
static struct {
	__u32 id;
	struct flowtable t;
} ct_mapped[CT_MAPPED];
static unsigned int ct_mapped_next;

/* The flow table @fd, mapped: 0, or -errno (-EINVAL: not a flow table of this layout). */
static int ct_table(int fd, struct flowtable **t)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	unsigned int i;
	int err;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	for (i = 0; i < CT_MAPPED; i++)
		if (ct_mapped[i].t.e && ct_mapped[i].id == info.id) {
			*t = &ct_mapped[i].t;
			return 0;
		}
	i = ct_mapped_next++ % CT_MAPPED;
	flowtable_close(&ct_mapped[i].t);
	err = flowtable_open(fd, &ct_mapped[i].t);
	if (err)
		return err;
	ct_mapped[i].id = info.id;
	*t = &ct_mapped[i].t;
	return 0;
}

/* The walk: a scan of the mapped ways. */
int ct_walk(int ct_fd, ct_visit_fn fn, void *arg, __u64 *visited, __u64 *deleted)
{
	struct xlb_ct_entry e, *w;
	struct flowtable *t;
	__u64 nv = 0, nd = 0;
	int err = ct_table(ct_fd, &t);

	for (__u32 i = 0; !err && i < t->size; i++) {
		w = &t->e[i];
		if (!w->key.family)
			continue;
		e = *w;		/* a copy: the data plane may rewrite the way meanwhile */
		if (!flowtable_entry_ok(&e))
			continue;	/* freed meanwhile, or torn: not a flow */
		nv++;
		/* Cleared only if the way still holds the flow the visitor saw. */
		if (fn && fn(&e.key, &e.flow, arg) && !memcmp(&w->key, &e.key, sizeof(e.key))) {
			flowtable_clear(w);
			nd++;
		}
	}
	if (visited)
		*visited = nv;
	if (deleted)
		*deleted = nd;
	return err;
}

/* @k's way in the flow table @fd into @e: 0, -ENOENT, or -errno. */
static int ct_way_of(int fd, const struct xlb_flow_key *k, struct xlb_ct_entry **e)
{
	struct flowtable *t;
	int err = ct_table(fd, &t);

	if (err)
		return err;
	*e = flowtable_find(t, k);
	return *e ? 0 : -ENOENT;
}

int ct_find(int fd, const struct xlb_flow_key *k, struct xlb_flow *f)
{
	struct xlb_ct_entry *e;
	int err = ct_way_of(fd, k, &e);

	if (!err)
		*f = e->flow;
	return err;
}

int ct_store(int fd, const struct xlb_flow_key *k, const struct xlb_flow *f, __u64 flags)
{
	struct xlb_ct_entry *e;
	struct flowtable *t;
	bool there;
	int err = ct_table(fd, &t);

	if (err)
		return err;
	e = flowtable_way(t, k);
	there = flowtable_find(t, k) == e;
	if (there && flags == BPF_NOEXIST)
		return -EEXIST;
	if (!there && flags == BPF_EXIST)
		return -ENOENT;
	flowtable_write(e, k, f);
	return 0;
}

int ct_remove(int fd, const struct xlb_flow_key *k)
{
	struct xlb_ct_entry *e;
	int err = ct_way_of(fd, k, &e);

	if (!err)
		flowtable_clear(e);
	return err;
}

static bool clear_visit(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	return true;
}

int ct_clear(int fd)
{
	return ct_walk(fd, clear_visit, NULL, NULL, NULL);
}


int ct_pin_open(const struct xlb_inst *in, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", in->dir, name);
	fd = bpf_obj_get(path);
	return fd < 0 ? -errno : fd;
}

int ct_walk_both(const struct xlb_inst *in, ct_visit_fn fn, void *arg, __u64 *visited,
		 __u64 *deleted)
{
	__u64 v[2] = {}, d[2] = {};
	int young = ct_pin_open(in, CT_YOUNG_MAP), err;

	if (young < 0)
		return young;
	err = ct_walk(in->fd[XLB_M_CONNTRACK], fn, arg, &v[0], &d[0]);
	if (!err)
		err = ct_walk(young, fn, arg, &v[1], &d[1]);
	close(young);
	if (visited)
		*visited = v[0] + v[1];
	if (deleted)
		*deleted = d[0] + d[1];
	return err;
}

static bool promote_visit(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	struct xlb_flow flow = *f;
	int err;

	flow.young_pkts = 0;
	/* EEXIST: the flow is in conntrack already (promoted by its own packet). */
	err = ct_store(*(int *)arg, k, &flow, BPF_NOEXIST);
	if (err && err != -EEXIST)
		return false;	/* left young, as the data plane leaves a failed promotion */
	return true;
}

int ct_young_promote(int young, int ct)
{
	return ct_walk(young, promote_visit, &ct, NULL, NULL);
}

int ct_young_promote_all(const struct xlb_inst *in)
{
	int young = ct_pin_open(in, CT_YOUNG_MAP), err;

	if (young < 0)
		return young == -ENOENT ? 0 : young;
	err = ct_young_promote(young, in->fd[XLB_M_CONNTRACK]);
	close(young);
	return err;
}

int ct_events_sum(const struct xlb_inst *in, __u64 sum[XLB_CT_EV_MAX])
{
	int ncpu = libbpf_num_possible_cpus(), fd, err = 0;
	struct xlb_ct_events *v;
	__u32 zero = 0;

	for (int e = 0; e < XLB_CT_EV_MAX; e++)
		sum[e] = 0;
	if (ncpu <= 0)
		return ncpu ? ncpu : -EINVAL;
	fd = ct_pin_open(in, CT_EVENTS_MAP);
	if (fd < 0)
		return fd;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		err = -ENOMEM;
	else if (bpf_map_lookup_elem(fd, &zero, v))
		err = -errno;
	for (int c = 0; !err && c < ncpu; c++)
		for (int e = 0; e < XLB_CT_EV_MAX; e++)
			sum[e] += v[c].count[e];
	free(v);
	close(fd);
	return err;
}

int nat_walk(const struct xlb_inst *in, nat_visit_fn fn, void *arg, __u64 *visited)
{
	struct xlb_flow_key *keys = calloc(CT_BATCH, sizeof(*keys));
	struct xlb_nat_flow *vals = calloc(CT_BATCH, sizeof(*vals));
	int fd = ct_pin_open(in, NAT_FLOWS_MAP), err = 0;
	__u32 token = 0, count;
	bool first = true, last = false;
	__u64 n = 0;

	if (fd == -ENOENT)
		fd = -1;	/* an instance attached before NAT: no NAT flows */
	else if (fd < 0)
		err = fd;
	else if (!keys || !vals)
		err = -ENOMEM;
	while (fd >= 0 && !err && !last) {
		count = CT_BATCH;
		if (bpf_map_lookup_batch(fd, first ? NULL : &token, &token, keys, vals, &count,
					 NULL)) {
			if (errno != ENOENT) {
				err = -errno;
				break;
			}
			last = true;
		}
		first = false;
		for (__u32 i = 0; i < count; i++, n++)
			fn(fd, &keys[i], &vals[i], arg);
	}
	if (fd >= 0)
		close(fd);
	if (visited)
		*visited = n;
	free(keys);
	free(vals);
	return err;
}

bool nat_twin(int fd, const struct xlb_flow_key *k, const struct xlb_nat_flow *f,
	      struct xlb_flow_key *tk, struct xlb_nat_flow *tf)
{
	xlb_nat_twin_key(k, f, tk);
	return !bpf_map_lookup_elem(fd, tk, tf);
}

int nat_pair_delete(int fd, const struct xlb_flow_key *k, const struct xlb_nat_flow *f)
{
	struct xlb_flow_key tk;
	int n = !bpf_map_delete_elem(fd, k);

	/* The backend's entry reserves the SNAT port: it goes last. */
	xlb_nat_twin_key(k, f, &tk);
	return n + !bpf_map_delete_elem(fd, &tk);
}
