// SPDX-License-Identifier: GPL-2.0
/*
 * The model's own life: loading it from the pinned maps, copying, freeing,
 * finding VIPs and backends, and the edits every verb is made of. Nothing
 * here writes a map, except that loading first lets commit.c repair a
 * commit a crash interrupted (the model is read from maps that hold one
 * configuration, never half of two). Writing is commit.c's, tables are
 * table_build.c's, neighbours neigh.c's.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "model.h"
#include "util.h"

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

int model_load_maps(const struct xlb_inst *in, struct model *m)
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

int model_load(const struct xlb_inst *in, struct model *m)
{
	int err = model_load_maps(in, m);

	if (err || !commit_interrupted(&m->ctl))
		return err;
	/* Repaired (or another process is committing): read what the maps hold now. */
	if (commit_repair(in) > 0) {
		model_free(m);
		err = model_load_maps(in, m);
	}
	return err;
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

struct m_backend *model_backend_by_id(const struct model *m, __u32 id)
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
	v->v.flags &= ~(XLB_VIP_F_NO_CT | XLB_VIP_F_NAT | XLB_VIP_F_DOWN_MOVE |
			XLB_VIP_F_ALL_DOWN_DROP);
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

bool backend_is_backup(const struct xlb_backend *be)
{
	return be->flags & XLB_BE_F_BACKUP;
}

bool vip_fails_open(const struct m_vip *v)
{
	return (v->v.flags & (XLB_VIP_F_ALL_DOWN | XLB_VIP_F_ALL_DOWN_DROP)) == XLB_VIP_F_ALL_DOWN;
}

bool backend_in_table(const struct m_vip *v, const struct xlb_backend *be)
{
	/* The table is of one role: the backups while ON_BACKUP, else the primaries. */
	if (backend_is_backup(be) != !!(v->v.flags & XLB_VIP_F_ON_BACKUP))
		return false;
	if (vip_fails_open(v))	/* as if none were down */
		return (be->flags & (XLB_BE_F_USED | XLB_BE_F_DRAINED)) == XLB_BE_F_USED &&
		       be->weight;
	return backend_eligible(be);
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

/* A VIP's backends counted by role: configured, usable, DOWN. */
struct role_count {
	size_t n, usable, down;
};

static void count_roles(const struct model *m, const struct m_vip *v, struct role_count rc[2])
{
	memset(rc, 0, 2 * sizeof(*rc));
	for (size_t j = 0; j < m->nbes; j++) {
		const struct xlb_backend *be = &m->bes[j].be;
		struct role_count *r = &rc[backend_is_backup(be)];

		if (be->vip_id != v->v.id)
			continue;
		r->n++;
		r->usable += backend_eligible(be);
		r->down += !!(be->flags & XLB_BE_F_DOWN);
	}
}

/*
 * The table's role and the fail-open state: usable primaries, else usable
 * backups (ON_BACKUP), else every primary if all of them are DOWN
 * (ALL_DOWN; the backups when there is no primary at all).
 */
static void vip_finalize(const struct model *m, struct m_vip *v)
{
	struct role_count rc[2], *set;
	bool on_backup;

	count_roles(m, v, rc);
	on_backup = !rc[0].usable && (rc[1].usable || (!rc[0].n && rc[1].n));
	set = &rc[on_backup];
	v->v.flags &= ~(XLB_VIP_F_ON_BACKUP | XLB_VIP_F_ALL_DOWN);
	if (on_backup)
		v->v.flags |= XLB_VIP_F_ON_BACKUP;
	if (!rc[0].usable && !rc[1].usable && set->n && set->down == set->n)
		v->v.flags |= XLB_VIP_F_ALL_DOWN;
}

void model_finalize(struct model *m)
{
	m->config.all_ports_addrs = 0;
	for (size_t i = 0; i < m->nvips; i++)
		if (!m->vips[i].key.port)
			m->config.all_ports_addrs |= 1ULL << xlb_all_ports_bit(m->vips[i].key.addr);
	for (size_t i = 0; i < m->nvips; i++)
		vip_finalize(m, &m->vips[i]);
}
