// SPDX-License-Identifier: GPL-2.0
/* Batched walks over the conntrack maps, and the admission counters (see ct.h). */
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

static int ct_hash_walk(int ct_fd, ct_visit_fn fn, void *arg, __u64 *visited, __u64 *deleted);

/* The flow table's walk: a scan of the mapped ways. */
static void table_walk(const struct flowtable *t, ct_visit_fn fn, void *arg, __u64 *visited,
		       __u64 *deleted)
{
	struct xlb_ct_entry e;

	for (__u32 i = 0; i < t->size; i++) {
		if (!t->e[i].key.family)
			continue;
		e = t->e[i];	/* a copy: the data plane may rewrite the way meanwhile */
		if (!flowtable_entry_ok(&e))
			continue;	/* freed meanwhile, or torn: not a flow */
		e.flow.check = 0;	/* read as young_pkts: conntrack flows are not young */
		(*visited)++;
		/* Cleared only if the way still holds the flow the visitor saw. */
		if (fn && fn(&e.key, &e.flow, arg) && !memcmp(&t->e[i].key, &e.key, sizeof(e.key))) {
			flowtable_clear(&t->e[i]);
			(*deleted)++;
		}
	}
}

int ct_walk(int ct_fd, ct_visit_fn fn, void *arg, __u64 *visited, __u64 *deleted)
{
	struct flowtable t;
	__u64 nv = 0, nd = 0;
	int err = flowtable_open(ct_fd, &t);

	if (err != -EINVAL) {
		if (!err)
			table_walk(&t, fn, arg, &nv, &nd);
		flowtable_close(&t);
		if (visited)
			*visited = nv;
		if (deleted)
			*deleted = nd;
		return err;
	}
	return ct_hash_walk(ct_fd, fn, arg, visited, deleted);
}

int ct_find(int fd, const struct xlb_flow_key *k, struct xlb_flow *f)
{
	struct xlb_ct_entry *e;
	struct flowtable t;
	int err = flowtable_open(fd, &t);

	if (err == -EINVAL)
		return bpf_map_lookup_elem(fd, k, f) ? -errno : 0;
	if (err)
		return err;
	e = flowtable_find(&t, k);
	if (e) {
		*f = e->flow;
		f->check = 0;
	}
	flowtable_close(&t);
	return e ? 0 : -ENOENT;
}

int ct_store(int fd, const struct xlb_flow_key *k, const struct xlb_flow *f, __u64 flags)
{
	struct xlb_ct_entry *e;
	struct flowtable t;
	bool there;
	int err = flowtable_open(fd, &t);

	if (err == -EINVAL)
		return bpf_map_update_elem(fd, k, f, flags) ? -errno : 0;
	if (err)
		return err;
	e = flowtable_way(&t, k);
	there = !memcmp(&e->key, k, sizeof(*k)) && flowtable_entry_ok(e);
	if (there && flags == BPF_NOEXIST)
		err = -EEXIST;
	else if (!there && flags == BPF_EXIST)
		err = -ENOENT;
	else
		flowtable_write(e, k, f);
	flowtable_close(&t);
	return err;
}

int ct_remove(int fd, const struct xlb_flow_key *k)
{
	struct xlb_ct_entry *e;
	struct flowtable t;
	int err = flowtable_open(fd, &t);

	if (err == -EINVAL)
		return bpf_map_delete_elem(fd, k) ? -errno : 0;
	if (err)
		return err;
	e = flowtable_find(&t, k);
	if (e)
		flowtable_clear(e);
	flowtable_close(&t);
	return e ? 0 : -ENOENT;
}

static bool clear_visit(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	return true;
}

int ct_clear(int fd)
{
	return ct_walk(fd, clear_visit, NULL, NULL, NULL);
}

/* A hash map's walk (ct_new), in batches. */
static int ct_hash_walk(int ct_fd, ct_visit_fn fn, void *arg, __u64 *visited, __u64 *deleted)
{
	struct xlb_flow_key *keys = calloc(CT_BATCH, sizeof(*keys));
	struct xlb_flow_key *del = calloc(CT_BATCH, sizeof(*del));
	struct xlb_flow *vals = calloc(CT_BATCH, sizeof(*vals));
	__u64 nvisit = 0, ndel = 0;
	__u32 token = 0, count, ndel_batch;
	bool first = true, last = false;
	int err = 0;

	if (!keys || !del || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!last) {
		count = CT_BATCH;
		if (bpf_map_lookup_batch(ct_fd, first ? NULL : &token, &token, keys, vals,
					 &count, NULL)) {
			if (errno != ENOENT) {
				err = -errno;
				goto out;
			}
			last = true;	/* the final, possibly partial, batch */
		}
		first = false;
		ndel_batch = 0;
		for (__u32 i = 0; i < count; i++) {
			nvisit++;
			if (fn && fn(&keys[i], &vals[i], arg))
				del[ndel_batch++] = keys[i];
		}
		/* Already visited buckets: deleting there does not disturb the walk. */
		for (__u32 i = 0; i < ndel_batch; i++)
			if (!bpf_map_delete_elem(ct_fd, &del[i]))
				ndel++;
	}
out:
	if (visited)
		*visited = nvisit;
	if (deleted)
		*deleted = ndel;
	free(keys);
	free(del);
	free(vals);
	return err;
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
