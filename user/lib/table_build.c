// SPDX-License-Identifier: GPL-2.0
/*
 * Building a VIP's table from the model (see table_build.h): why this is
 * apart from commit.c is that it is the one costly step of a commit (a
 * Maglev table is 65537 slots), and the only one that reads the data
 * plane's current state (the table in place, for previous owners).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "table_build.h"
#include "maglev.h"
#include "table.h"

size_t table_inputs(const struct model *m, const struct m_vip *v,
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
			out[n].weight = backend_in_table(v, &b->be) ? b->be.weight : 0;
		}
		n++;
	}
	return n;
}

bool table_changed(const struct model *om, const struct m_vip *ov,
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

void tables_discard(struct table_batch *tb)
{
	for (__u32 i = 0; i < tb->n; i++)
		close(tb->fds[i]);
	tb->n = 0;
}

int tables_flush(const struct xlb_inst *in, struct table_batch *tb)
{
	__u32 count = tb->n;
	int err = 0;

	if (tb->n && bpf_map_update_batch(in->fd[XLB_M_TABLES], tb->ids, tb->fds, &count, NULL))
		err = -errno;
	tables_discard(tb);
	return err;
}

int tables_add(const struct xlb_inst *in, struct table_batch *tb, const struct m_vip *ov,
	       const struct model *m, const struct m_vip *v)
{
	int fd = table_build(in, ov, m, v);

	if (fd < 0)
		return fd;
	tb->ids[tb->n] = v->v.id;
	tb->fds[tb->n++] = fd;
	return tb->n == TABLE_BATCH ? tables_flush(in, tb) : 0;
}
