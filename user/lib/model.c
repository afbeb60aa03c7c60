// SPDX-License-Identifier: GPL-2.0
/* Loading, editing and committing an instance's configuration (see model.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "model.h"
#include "maglev.h"
#include "table.h"
#include "ct.h"
#include "nl.h"
#include "util.h"

#define BITS_WORDS(n) (((n) + 63) / 64)

/* ---- loading ---- */

static int load_backends(const struct xlb_inst *in, struct model *m)
{
	struct xlb_backend *vals = calloc(XLB_MAX_BACKENDS, sizeof(*vals));
	__u32 *keys = calloc(XLB_MAX_BACKENDS, sizeof(*keys));
	__u32 count = XLB_MAX_BACKENDS, out_batch;
	int err = 0;

	m->bes = calloc(1, sizeof(*m->bes));
	if (!vals || !keys || !m->bes) {
		err = -ENOMEM;
		goto out;
	}
	/* One syscall for the whole array: this runs for every command. */
	if (bpf_map_lookup_batch(in->fd[XLB_M_BACKENDS], NULL, &out_batch, keys, vals, &count,
				 NULL) && errno != ENOENT) {
		err = -errno;
		goto out;
	}
	for (__u32 i = 0; i < count; i++) {
		struct m_backend *nb;

		if (!(vals[i].flags & XLB_BE_F_USED))
			continue;
		nb = realloc(m->bes, (m->nbes + 1) * sizeof(*nb));
		if (!nb) {
			err = -ENOMEM;
			goto out;
		}
		m->bes = nb;
		memset(&m->bes[m->nbes], 0, sizeof(*nb));
		m->bes[m->nbes].id = keys[i];
		m->bes[m->nbes].be = vals[i];
		m->nbes++;
	}
out:
	free(vals);
	free(keys);
	return err;
}

int model_load(const struct xlb_inst *in, struct model *m)
{
	struct xlb_vip_key key, next, *prev = NULL;
	__u32 zero = 0;
	int err;

	memset(m, 0, sizeof(*m));
	m->vips = calloc(1, sizeof(*m->vips));
	if (!m->vips)
		return -ENOMEM;
	while (bpf_map_get_next_key(in->fd[XLB_M_VIPS], prev, &next) == 0) {
		struct m_vip *nv = realloc(m->vips, (m->nvips + 1) * sizeof(*nv)), *v;

		if (!nv)
			return -ENOMEM;
		m->vips = nv;
		v = &m->vips[m->nvips];
		memset(v, 0, sizeof(*v));
		v->key = next;
		if (bpf_map_lookup_elem(in->fd[XLB_M_VIPS], &next, &v->v))
			continue;	/* deleted under us: not part of the state */
		bpf_map_lookup_elem(in->fd[XLB_M_VIP_CONFIG], &v->v.id, &v->cfg);
		m->nvips++;
		key = next;
		prev = &key;
	}
	err = load_backends(in, m);
	if (err)
		return err;
	bpf_map_lookup_elem(in->fd[XLB_M_CONFIG], &zero, &m->config);
	bpf_map_lookup_elem(in->fd[XLB_M_CTL], &zero, &m->ctl);
	return 0;
}

static int vip_by_id(const void *a, const void *b)
{
	const struct m_vip *x = a, *y = b;

	return x->v.id < y->v.id ? -1 : x->v.id > y->v.id;
}

int model_open(const char *iface, bool lock, struct xlb_inst *in, struct model *m)
{
	memset(m, 0, sizeof(*m));
	if (inst_open(iface, lock, in))
		return -1;
	if (model_load(in, m)) {
		xlb_err("cannot read the configuration of %s", in->iface);
		model_close(in, m);
		return -1;
	}
	qsort(m->vips, m->nvips, sizeof(*m->vips), vip_by_id);
	return 0;
}

void model_close(struct xlb_inst *in, struct model *m)
{
	model_free(m);
	inst_close(in);
}

int model_copy(const struct model *src, struct model *dst)
{
	*dst = *src;
	dst->vips = malloc((src->nvips + 1) * sizeof(*dst->vips));
	dst->bes = malloc((src->nbes + 1) * sizeof(*dst->bes));
	if (!dst->vips || !dst->bes)
		return -ENOMEM;
	memcpy(dst->vips, src->vips, src->nvips * sizeof(*dst->vips));
	memcpy(dst->bes, src->bes, src->nbes * sizeof(*dst->bes));
	return 0;
}

void model_free(struct model *m)
{
	free(m->vips);
	free(m->bes);
	m->vips = NULL;
	m->bes = NULL;
	m->nvips = m->nbes = 0;
}

/* ---- queries and edits ---- */

struct m_vip *model_vip(const struct model *m, const struct xlb_vip_key *k)
{
	for (size_t i = 0; i < m->nvips; i++)
		if (!memcmp(&m->vips[i].key, k, sizeof(*k)))
			return &m->vips[i];
	return NULL;
}

struct m_vip *model_vip_by_id(const struct model *m, __u32 id)
{
	for (size_t i = 0; i < m->nvips; i++)
		if (m->vips[i].v.id == id)
			return &m->vips[i];
	return NULL;
}

struct m_backend *model_backend(const struct model *m, __u32 vip_id, const struct xlb_addr *a)
{
	for (size_t i = 0; i < m->nbes; i++) {
		const struct xlb_backend *be = &m->bes[i].be;

		if (be->vip_id == vip_id && be->family == a->family &&
		    !memcmp(be->addr, a->a, sizeof(be->addr)))
			return &m->bes[i];
	}
	return NULL;
}

static struct m_backend *backend_by_id(const struct model *m, __u32 id)
{
	for (size_t i = 0; i < m->nbes; i++)
		if (m->bes[i].id == id)
			return &m->bes[i];
	return NULL;
}

struct m_vip *model_vip_add(struct model *m, const struct xlb_vip_key *k)
{
	__u64 used[BITS_WORDS(XLB_MAX_VIPS)] = {};
	struct m_vip *nv, *v;
	__u32 id;

	for (size_t i = 0; i < m->nvips; i++)
		used[m->vips[i].v.id / 64] |= 1ULL << (m->vips[i].v.id % 64);
	for (id = 0; id < XLB_MAX_VIPS; id++)
		if (!(used[id / 64] & (1ULL << (id % 64))))
			break;
	if (id == XLB_MAX_VIPS) {
		xlb_err("no room for another VIP (at most %d)", XLB_MAX_VIPS);
		return NULL;
	}
	nv = realloc(m->vips, (m->nvips + 1) * sizeof(*nv));
	if (!nv) {
		xlb_err("out of memory");
		return NULL;
	}
	m->vips = nv;
	v = &m->vips[m->nvips++];
	memset(v, 0, sizeof(*v));
	v->key = *k;
	v->seen = true;
	v->v.id = id;
	vip_defaults(v);
	return v;
}

void vip_defaults(struct m_vip *v)
{
	v->v.table_size = XLB_TABLE_SIZE_DEFAULT;
	v->v.sched = XLB_SCHED_MAGLEV;
	v->v.flags &= ~XLB_VIP_F_NO_CT;
	v->v.chain_window_s = XLB_CHAIN_WINDOW_DEFAULT_S;
	memset(&v->cfg, 0, sizeof(v->cfg));
	v->cfg.check = v->key.proto == IPPROTO_UDP ? XLB_CHECK_NONE : XLB_CHECK_TCP;
	v->cfg.interval_ms = 2000;
	v->cfg.timeout_ms = 1000;
	v->cfg.rise = 2;
	v->cfg.fall = 3;
}

struct m_backend *model_backend_add(struct model *m, __u32 vip_id, const struct xlb_addr *a)
{
	static __u64 used[BITS_WORDS(XLB_MAX_BACKENDS)];
	struct m_backend *nb, *b;
	__u32 id = XLB_BACKEND_NONE;

	memset(used, 0, sizeof(used));
	for (size_t i = 0; i < m->nbes; i++)
		used[m->bes[i].id / 64] |= 1ULL << (m->bes[i].id % 64);
	/* Round robin from the cursor: a freed slot is reused as late as possible. */
	for (__u32 n = 0; n < XLB_MAX_BACKENDS; n++) {
		__u32 cand = (m->ctl.next_backend_id + n) % XLB_MAX_BACKENDS;

		if (!(used[cand / 64] & (1ULL << (cand % 64)))) {
			id = cand;
			break;
		}
	}
	if (id == XLB_BACKEND_NONE) {
		xlb_err("no room for another backend (at most %d)", XLB_MAX_BACKENDS);
		return NULL;
	}
	nb = realloc(m->bes, (m->nbes + 1) * sizeof(*nb));
	if (!nb) {
		xlb_err("out of memory");
		return NULL;
	}
	m->bes = nb;
	b = &m->bes[m->nbes++];
	memset(b, 0, sizeof(*b));
	b->id = id;
	b->seen = true;
	memcpy(b->be.addr, a->a, sizeof(b->be.addr));
	b->be.family = a->family;
	b->be.flags = XLB_BE_F_USED;
	b->be.weight = 1;
	b->be.vip_id = vip_id;
	m->ctl.next_backend_id = (id + 1) % XLB_MAX_BACKENDS;
	return b;
}

void model_backend_del(struct model *m, struct m_backend *b)
{
	size_t i = b - m->bes;

	memmove(b, b + 1, (m->nbes - i - 1) * sizeof(*b));
	m->nbes--;
}

void model_vip_del(struct model *m, struct m_vip *v)
{
	size_t i = v - m->vips;
	__u32 id = v->v.id;

	for (size_t j = m->nbes; j-- > 0;)
		if (m->bes[j].be.vip_id == id)
			model_backend_del(m, &m->bes[j]);
	memmove(v, v + 1, (m->nvips - i - 1) * sizeof(*v));
	m->nvips--;
}

void model_drop_unseen(struct model *m)
{
	for (size_t j = m->nbes; j-- > 0;)
		if (!m->bes[j].seen)
			model_backend_del(m, &m->bes[j]);
	for (size_t i = m->nvips; i-- > 0;)
		if (!m->vips[i].seen)
			model_vip_del(m, &m->vips[i]);
}

bool backend_eligible(const struct xlb_backend *be)
{
	return (be->flags & (XLB_BE_F_USED | XLB_BE_F_DRAINED | XLB_BE_F_DOWN)) == XLB_BE_F_USED &&
	       be->weight;
}

const char *vip_state(const struct model *m, const struct m_vip *v)
{
	bool any = false;

	if (v->v.flags & XLB_VIP_F_ALL_DOWN)
		return "all_down";
	for (size_t i = 0; i < m->nbes && !any; i++)
		any = m->bes[i].be.vip_id == v->v.id && backend_eligible(&m->bes[i].be);
	return any ? "ok" : "empty";
}

/*
 * Derived state: a VIP whose every backend is down drops instead of looking
 * further; the data plane looks for all-ports VIPs only if there is one.
 */
static void model_finalize(struct model *m)
{
	m->config.all_ports_addrs = 0;
	for (size_t i = 0; i < m->nvips; i++)
		if (!m->vips[i].key.port)
			m->config.all_ports_addrs |= 1ULL << xlb_all_ports_bit(m->vips[i].key.addr);
	for (size_t i = 0; i < m->nvips; i++) {
		struct m_vip *v = &m->vips[i];
		size_t n = 0, down = 0;

		for (size_t j = 0; j < m->nbes; j++) {
			if (m->bes[j].be.vip_id != v->v.id)
				continue;
			n++;
			down += !!(m->bes[j].be.flags & XLB_BE_F_DOWN);
		}
		if (n && down == n)
			v->v.flags |= XLB_VIP_F_ALL_DOWN;
		else
			v->v.flags &= ~XLB_VIP_F_ALL_DOWN;
	}
}

/* ---- committing ---- */

/* The table's inputs, in id order: what decides whether it must be rebuilt. */
static size_t table_inputs(const struct model *m, const struct m_vip *v,
			   struct maglev_backend *out)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nbes; i++) {
		const struct m_backend *b = &m->bes[i];

		if (b->be.vip_id != v->v.id)
			continue;
		if (out) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].id = b->id;
			memcpy(out[n].addr, b->be.addr, sizeof(out[n].addr));
			out[n].family = b->be.family;
			out[n].weight = backend_eligible(&b->be) ? b->be.weight : 0;
		}
		n++;
	}
	return n;
}

static bool table_changed(const struct model *om, const struct m_vip *ov,
			  const struct model *nm, const struct m_vip *nv)
{
	size_t on = table_inputs(om, ov, NULL), nn = table_inputs(nm, nv, NULL);
	struct maglev_backend *a, *b;
	bool changed = true;

	if (on != nn || ov->v.table_size != nv->v.table_size ||
	    (ov->v.sched == XLB_SCHED_WRR) != (nv->v.sched == XLB_SCHED_WRR))
		return true;
	a = calloc(on + 1, sizeof(*a));
	b = calloc(nn + 1, sizeof(*b));
	if (a && b) {
		table_inputs(om, ov, a);
		table_inputs(nm, nv, b);
		changed = memcmp(a, b, on * sizeof(*a)) != 0;
	}
	free(a);
	free(b);
	return changed;
}

/* Backend ids of one VIP, for table_chain(): a deleted backend is never a previous owner. */
struct vip_bes {
	__u64 bits[BITS_WORDS(XLB_MAX_BACKENDS)];
};

static bool vip_bes_has(__u32 id, void *arg)
{
	const struct vip_bes *b = arg;

	return id < XLB_MAX_BACKENDS && (b->bits[id / 64] & (1ULL << (id % 64)));
}

/*
 * The slots of @v's new table: owners from the builder, previous owners
 * carried over from the table in place (@ov, the VIP as the old model has
 * it, NULL if new). WRR tables have none: their slots are a sequence, not
 * where a flow lives.
 */
static int table_slots(const struct xlb_inst *in, const struct m_vip *ov, const struct model *m,
		       const struct m_vip *v, const __u32 *owners, struct xlb_slot *slots)
{
	__u32 size = v->v.table_size;
	struct xlb_slot *old = NULL;
	struct vip_bes *bes = calloc(1, sizeof(*bes));

	if (!bes)
		return -ENOMEM;
	for (size_t i = 0; i < m->nbes; i++)
		if (m->bes[i].be.vip_id == v->v.id)
			bes->bits[m->bes[i].id / 64] |= 1ULL << (m->bes[i].id % 64);
	if (v->v.sched != XLB_SCHED_WRR && ov && ov->v.sched != XLB_SCHED_WRR &&
	    ov->v.id == v->v.id && ov->v.table_size == size) {
		old = malloc(size * sizeof(*old));
		if (old && table_read(in->fd[XLB_M_TABLES], v->v.id, old, size)) {
			free(old);
			old = NULL;
		}
	}
	table_chain(slots, owners, old, size, table_now_s(), vip_bes_has, bes);
	free(old);
	free(bes);
	return 0;
}

/* Build the VIP's table into a new map. Returns its fd or -errno. */
static int table_build(const struct xlb_inst *in, const struct m_vip *ov, const struct model *m,
		       const struct m_vip *v)
{
	__u32 size = v->v.table_size, *table = malloc(size * sizeof(*table));
	struct xlb_slot *slots = malloc(size * sizeof(*slots));
	size_t n = table_inputs(m, v, NULL);
	struct maglev_backend *in_be = calloc(n + 1, sizeof(*in_be));
	int fd = -ENOMEM;

	if (in_be && table && slots) {
		table_inputs(m, v, in_be);
		fd = v->v.sched == XLB_SCHED_WRR ? wrr_build(in_be, n, size, table)
						 : maglev_build(in_be, n, size, table);
		if (!fd)
			fd = table_slots(in, ov, m, v, table, slots);
		if (!fd)
			fd = table_map_new_slots(slots, size);
	}
	free(table);
	free(slots);
	free(in_be);
	return fd;
}

/*
 * Tables waiting to be swapped in. Every update of a map of maps waits for
 * an RCU grace period (about 10 ms), so they go in one batched update, in
 * chunks that keep the number of open map fds small.
 */
#define TABLE_BATCH 256

struct table_batch {
	__u32 ids[TABLE_BATCH];
	int fds[TABLE_BATCH];
	__u32 n;
};

static void tables_discard(struct table_batch *tb)
{
	for (__u32 i = 0; i < tb->n; i++)
		close(tb->fds[i]);
	tb->n = 0;
}

static int tables_flush(const struct xlb_inst *in, struct table_batch *tb)
{
	__u32 count = tb->n;
	int err = 0;

	if (tb->n && bpf_map_update_batch(in->fd[XLB_M_TABLES], tb->ids, tb->fds, &count, NULL))
		err = -errno;
	tables_discard(tb);
	return err;
}

static int tables_add(const struct xlb_inst *in, struct table_batch *tb, const struct m_vip *ov,
		      const struct model *m, const struct m_vip *v)
{
	int fd = table_build(in, ov, m, v);

	if (fd < 0)
		return fd;
	tb->ids[tb->n] = v->v.id;
	tb->fds[tb->n++] = fd;
	return tb->n == TABLE_BATCH ? tables_flush(in, tb) : 0;
}

static void zero_percpu(int fd, __u32 key, size_t value_size)
{
	int ncpu = libbpf_num_possible_cpus();
	void *zero;

	if (ncpu <= 0)
		return;
	zero = calloc(ncpu, value_size);
	if (zero)
		bpf_map_update_elem(fd, &key, zero, BPF_ANY);
	free(zero);
}

struct purge {
	__u64 vips[BITS_WORDS(XLB_MAX_VIPS)];
	__u64 bes[BITS_WORDS(XLB_MAX_BACKENDS)];
	bool any;
};

static bool bit(const __u64 *set, __u32 i, __u32 max)
{
	return i < max && (set[i / 64] & (1ULL << (i % 64)));
}

static bool purge_visit(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	const struct purge *p = arg;

	return bit(p->vips, f->vip_id, XLB_MAX_VIPS) ||
	       bit(p->bes, f->backend_id, XLB_MAX_BACKENDS);
}

#define TRY(expr)						\
	do {							\
		if (expr) {					\
			err = -errno;				\
			what = #expr;				\
			goto fail;				\
		}						\
	} while (0)

static int apply(const struct xlb_inst *in, const struct model *old, const struct model *new,
		 const char **whatp)
{
	struct purge *p = calloc(1, sizeof(*p));
	struct table_batch *tb = calloc(1, sizeof(*tb));
	const char *what = "";
	__u32 zero = 0;
	__u64 zero64 = 0;
	int err = 0;

	if (!p || !tb) {
		free(p);
		free(tb);
		return -ENOMEM;
	}
	/* 1. Backend slots: new ones start from zeroed counters. */
	for (size_t i = 0; i < new->nbes; i++) {
		const struct m_backend *b = &new->bes[i];
		const struct m_backend *o = backend_by_id(old, b->id);
		struct xlb_health h = {};

		if (o && !memcmp(&o->be, &b->be, sizeof(b->be)))
			continue;
		if (!o || o->be.vip_id != b->be.vip_id) {
			zero_percpu(in->fd[XLB_M_BACKEND_STATS], b->id, sizeof(struct xlb_counters));
			TRY(bpf_map_update_elem(in->fd[XLB_M_BACKEND_ACTIVE], &b->id, &zero64, BPF_ANY));
			TRY(bpf_map_update_elem(in->fd[XLB_M_HEALTH], &b->id, &h, BPF_ANY));
		}
		TRY(bpf_map_update_elem(in->fd[XLB_M_BACKENDS], &b->id, &b->be, BPF_ANY));
	}
	/* 2. Tables, all of them before any VIP that uses one. */
	for (size_t i = 0; i < new->nvips; i++) {
		const struct m_vip *v = &new->vips[i];
		const struct m_vip *o = model_vip(old, &v->key);

		if (o && o->v.id == v->v.id && !table_changed(old, o, new, v))
			continue;
		err = tables_add(in, tb, o, new, v);
		if (err) {
			what = "table";
			goto fail;
		}
	}
	err = tables_flush(in, tb);
	if (err) {
		what = "tables";
		goto fail;
	}
	/* 3. VIP settings, then the VIPs themselves. */
	for (size_t i = 0; i < new->nvips; i++) {
		const struct m_vip *v = &new->vips[i];
		const struct m_vip *o = model_vip(old, &v->key);

		if (!o || o->v.id != v->v.id) {
			zero_percpu(in->fd[XLB_M_VIP_STATS], v->v.id, sizeof(struct xlb_counters));
			TRY(bpf_map_update_elem(in->fd[XLB_M_VIP_CONFIG], &v->v.id, &v->cfg, BPF_ANY));
			TRY(bpf_map_update_elem(in->fd[XLB_M_VIPS], &v->key, &v->v, BPF_ANY));
			continue;
		}
		if (memcmp(&o->v, &v->v, sizeof(v->v)))
			TRY(bpf_map_update_elem(in->fd[XLB_M_VIPS], &v->key, &v->v, BPF_ANY));
		if (memcmp(&o->cfg, &v->cfg, sizeof(v->cfg)))
			TRY(bpf_map_update_elem(in->fd[XLB_M_VIP_CONFIG], &v->v.id, &v->cfg, BPF_ANY));
	}
	/* 4. Removed VIPs: stop matching first, then free the table. */
	for (size_t i = 0; i < old->nvips; i++) {
		const struct m_vip *o = &old->vips[i];
		const struct m_vip *v = model_vip(new, &o->key);
		struct xlb_vip_config cfg = {};

		if (v && v->v.id == o->v.id)
			continue;
		if (!v)
			bpf_map_delete_elem(in->fd[XLB_M_VIPS], &o->key);
		if (!model_vip_by_id(new, o->v.id)) {
			bpf_map_delete_elem(in->fd[XLB_M_TABLES], &o->v.id);
			bpf_map_update_elem(in->fd[XLB_M_VIP_CONFIG], &o->v.id, &cfg, BPF_ANY);
		}
		p->vips[o->v.id / 64] |= 1ULL << (o->v.id % 64);
		p->any = true;
	}
	/* 5. Removed backends: the tables no longer name them; free the slot. */
	for (size_t i = 0; i < old->nbes; i++) {
		const struct m_backend *o = &old->bes[i];
		const struct m_backend *b = backend_by_id(new, o->id);
		struct xlb_backend none = {};

		if (b && b->be.vip_id == o->be.vip_id)
			continue;
		if (!b)
			TRY(bpf_map_update_elem(in->fd[XLB_M_BACKENDS], &o->id, &none, BPF_ANY));
		p->bes[o->id / 64] |= 1ULL << (o->id % 64);
		p->any = true;
	}
	TRY(bpf_map_update_elem(in->fd[XLB_M_CTL], &zero, &new->ctl, BPF_ANY));
	TRY(bpf_map_update_elem(in->fd[XLB_M_CONFIG], &zero, &new->config, BPF_ANY));
	/* 6. Their tracked flows re-hash to live backends on their next packet. */
	if (p->any)
		ct_walk_both(in, purge_visit, p, NULL, NULL);
	free(p);
	free(tb);
	return 0;
fail:
	tables_discard(tb);
	free(p);
	free(tb);
	*whatp = what;
	return err;
}

int model_commit(const struct xlb_inst *in, const struct model *old, struct model *new)
{
	const char *what = "", *ignored;
	int err;

	model_finalize(new);
	err = apply(in, old, new, &what);
	if (!err) {
		model_ensure_neighbours(new, old);
		return 0;
	}
	xlb_err("updating the maps of %s failed (%s): %s; change undone", in->iface, what,
		strerror(-err));
	apply(in, new, old, &ignored);
	return -1;
}

static const char *neigh_error(int err)
{
	switch (err) {
	case -ENETUNREACH:
	case -EHOSTUNREACH:
		return "no route to it";
	case -ENOBUFS:
		return "the kernel's neighbour table is full (see net.ipv4.neigh.default.gc_thresh3)";
	default:
		return strerror(-err);
	}
}

void model_ensure_neighbours(const struct model *m, const struct model *old)
{
	char first[XLB_ADDR_STRLEN] = "";
	int first_err = 0;
	size_t failed = 0;

	for (size_t i = 0; i < m->nbes; i++) {
		const struct xlb_backend *be = &m->bes[i].be;
		const struct m_backend *o = old ? backend_by_id(old, m->bes[i].id) : NULL;
		int err;

		if (o && o->be.vip_id == be->vip_id)
			continue;
		err = nl_neigh_ensure(be->family, be->addr, NULL);
		if (!err)
			continue;
		if (!failed++) {
			addr_fmt(be->addr, be->family, first, sizeof(first));
			first_err = err;
		}
	}
	/* One line, not one per backend: a restore may add thousands. */
	if (failed == 1)
		xlb_warn("backend %s cannot be kept resolved (%s): its packets go to the kernel",
			 first, neigh_error(first_err));
	else if (failed)
		xlb_warn("%zu backends cannot be kept resolved, the first %s (%s): their packets go "
			 "to the kernel", failed, first, neigh_error(first_err));
}
