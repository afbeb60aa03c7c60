// SPDX-License-Identifier: GPL-2.0
/*
 * Committing a model to the maps (see model.h), in named phases whose
 * order a packet can never catch half done. Why the commit record and the
 * journal: a commit is thousands of map updates, and a process killed
 * between two of them (SIGKILL, a crash, the OOM killer) left backend slots
 * written and tables never rebuilt; later commands compare models, not
 * maps, so nothing mended it, and a new VIP could adopt the orphaned
 * backends of a VIP id that never reached `vips`.
 *
 * So a commit first writes its target (the new model) to a journal file
 * beside the instance's lock, then marks the pinned ctl entry "commit of
 * generation N running" (commit_gen odd), writes the maps, and marks it
 * done (commit_gen even) last. The signals a user sends (SIGINT, SIGTERM,
 * SIGHUP, SIGQUIT) wait until then. A process that finds the mark set while
 * the lock is free knows the commit died: it rolls forward to the journal's
 * target with a forced apply, which makes every map hold exactly that
 * configuration whatever state the dead commit left (every table rebuilt,
 * every slot and VIP written, anything the target lacks cleared: orphaned
 * backend slots, tables and vip_config of unused ids, flows naming them).
 * Without a journal (lost, or of another generation) the target is what the
 * vips and backends maps say, less backends of no VIP. A forced apply is
 * idempotent, so a crash during repair is repaired again.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "model.h"
#include "table_build.h"
#include "ct.h"
#include "util.h"
#include "vipaddrs.h"
#include "vlanifs.h"

/*
 * Test-only: the integration test commit_crash.sh sets it to show what an
 * interrupted commit leaves when nothing repairs it (the control case).
 */
#define COMMIT_NO_REPAIR_ENV	"XLB_TEST_NO_REPAIR"

/* ---- the phases ---- */

struct purge {
	__u64 vips[BITS_WORDS(XLB_MAX_VIPS)];
	__u64 bes[BITS_WORDS(XLB_MAX_BACKENDS)];
	/* forced: the VIP id of each backend slot of the target, or XLB_BACKEND_NONE */
	__u32 *owner;
	bool any;
};

struct commit {
	const struct xlb_inst *in;
	const struct model *old;	/* what the maps hold (forced: as loaded, maybe half done) */
	const struct model *new;	/* what they must hold */
	bool force;			/* rewrite everything, clear what @new lacks */
	struct purge *p;
	struct table_batch *tb;
	const char *what;		/* the failed step, for the message */
};

static void bit_set(__u64 *set, __u32 i)
{
	set[i / 64] |= 1ULL << (i % 64);
}

static bool bit(const __u64 *set, __u32 i, __u32 max)
{
	return i < max && (set[i / 64] & (1ULL << (i % 64)));
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

#define TRY(c, expr)						\
	do {							\
		if (expr) {					\
			(c)->what = #expr;			\
			return -errno;				\
		}						\
	} while (0)

/* 1. Backend slots: new ones start from zeroed counters. */
static int phase_backends(struct commit *c)
{
	const struct xlb_inst *in = c->in;
	__u64 zero64 = 0;

	for (size_t i = 0; i < c->new->nbes; i++) {
		const struct m_backend *b = &c->new->bes[i];
		const struct m_backend *o = model_backend_by_id(c->old, b->id);
		struct xlb_health h = {};

		if (!c->force && o && !memcmp(&o->be, &b->be, sizeof(b->be)))
			continue;
		if (!o || o->be.vip_id != b->be.vip_id) {
			zero_percpu(in->fd[XLB_M_BACKEND_STATS], b->id, sizeof(struct xlb_counters));
			TRY(c, bpf_map_update_elem(in->fd[XLB_M_BACKEND_ACTIVE], &b->id, &zero64,
						   BPF_ANY));
			TRY(c, bpf_map_update_elem(in->fd[XLB_M_HEALTH], &b->id, &h, BPF_ANY));
		}
		TRY(c, bpf_map_update_elem(in->fd[XLB_M_BACKENDS], &b->id, &b->be, BPF_ANY));
	}
	return 0;
}

/* 2. Tables, all of them before any VIP that uses one. */
static int phase_tables(struct commit *c)
{
	int err;

	for (size_t i = 0; i < c->new->nvips; i++) {
		const struct m_vip *v = &c->new->vips[i];
		const struct m_vip *o = model_vip(c->old, &v->key);

		if (!c->force && o && o->v.id == v->v.id && !table_changed(c->old, o, c->new, v))
			continue;
		err = tables_add(c->in, c->tb, o, c->new, v);
		if (err) {
			c->what = "table";
			return err;
		}
	}
	err = tables_flush(c->in, c->tb);
	if (err)
		c->what = "tables";
	return err;
}

/* 3. VIP settings, then the VIPs themselves. */
static int phase_vips(struct commit *c)
{
	const struct xlb_inst *in = c->in;
	bool written = false;	/* vips changed: the VIP index is rebuilt */

	/* The filter first: it must cover a VIP before the VIP is there. */
	TRY(c, vip_filter_sync(in, c->new));
	for (size_t i = 0; i < c->new->nvips; i++) {
		const struct m_vip *v = &c->new->vips[i];
		const struct m_vip *o = model_vip(c->old, &v->key);

		if (!o || o->v.id != v->v.id) {
			zero_percpu(in->fd[XLB_M_VIP_STATS], v->v.id, sizeof(struct xlb_counters));
			TRY(c, bpf_map_update_elem(in->fd[XLB_M_VIP_CONFIG], &v->v.id, &v->cfg,
						   BPF_ANY));
			TRY(c, bpf_map_update_elem(in->fd[XLB_M_VIPS], &v->key, &v->v, BPF_ANY));
			written = true;
			continue;
		}
		if (c->force || memcmp(&o->v, &v->v, sizeof(v->v))) {
			TRY(c, bpf_map_update_elem(in->fd[XLB_M_VIPS], &v->key, &v->v, BPF_ANY));
			written = true;
		}
		if (c->force || memcmp(&o->cfg, &v->cfg, sizeof(v->cfg)))
			TRY(c, bpf_map_update_elem(in->fd[XLB_M_VIP_CONFIG], &v->v.id, &v->cfg,
						   BPF_ANY));
	}
	/* What the data plane finds VIPs in: the new ones only now, the removed ones still. */
	if (written || c->force)
		TRY(c, vip_index_sync(in));
	/* Derived from the whole model each time, so a repair rebuilds them too. */
	TRY(c, vip_addrs_sync(in, c->new));
	TRY(c, nat_vips_sync(in, c->new));
	TRY(c, vlan_ifs_sync(in));
	return 0;
}

/* Forced: the table and settings of every id no VIP of the target has. */
static void clear_unused_ids(struct commit *c)
{
	const struct xlb_inst *in = c->in;
	struct xlb_vip_config cfg, none = {};
	__u32 inner;

	for (__u32 id = 0; id < XLB_MAX_VIPS; id++) {
		if (model_vip_by_id(c->new, id))
			continue;
		/* Looked up first: each delete of a map of maps waits for RCU. */
		if (!bpf_map_lookup_elem(in->fd[XLB_M_TABLES], &id, &inner))
			bpf_map_delete_elem(in->fd[XLB_M_TABLES], &id);
		if (!bpf_map_lookup_elem(in->fd[XLB_M_VIP_CONFIG], &id, &cfg) &&
		    memcmp(&cfg, &none, sizeof(cfg)))
			bpf_map_update_elem(in->fd[XLB_M_VIP_CONFIG], &id, &none, BPF_ANY);
	}
}

/* The VIP of @c's old model at @i if the target drops it or gives its key another id. */
static const struct m_vip *removed_vip(const struct commit *c, size_t i)
{
	const struct m_vip *o = &c->old->vips[i];
	const struct m_vip *v = model_vip(c->new, &o->key);

	return v && v->v.id == o->v.id ? NULL : o;
}

/* 4. Removed VIPs: stop matching first (vips, then the index), then free the table. */
static int phase_removed_vips(struct commit *c)
{
	const struct xlb_inst *in = c->in;
	const struct m_vip *o;
	bool written = false;

	for (size_t i = 0; i < c->old->nvips; i++)
		if ((o = removed_vip(c, i)) && !model_vip(c->new, &o->key)) {
			bpf_map_delete_elem(in->fd[XLB_M_VIPS], &o->key);
			written = true;
		}
	if (written || c->force)
		TRY(c, vip_index_sync(in));
	for (size_t i = 0; i < c->old->nvips; i++) {
		struct xlb_vip_config cfg = {};

		if (!(o = removed_vip(c, i)))
			continue;
		if (!model_vip_by_id(c->new, o->v.id)) {
			bpf_map_delete_elem(in->fd[XLB_M_TABLES], &o->v.id);
			bpf_map_update_elem(in->fd[XLB_M_VIP_CONFIG], &o->v.id, &cfg, BPF_ANY);
		}
		bit_set(c->p->vips, o->v.id);
		c->p->any = true;
	}
	if (c->force)
		clear_unused_ids(c);
	/* Only now may the filter forget the deleted VIPs. */
	TRY(c, vip_filter_sync(in, NULL));
	return 0;
}

/* 5. Removed backends: the tables no longer name them; free the slot. */
static int phase_removed_backends(struct commit *c)
{
	for (size_t i = 0; i < c->old->nbes; i++) {
		const struct m_backend *o = &c->old->bes[i];
		const struct m_backend *b = model_backend_by_id(c->new, o->id);
		struct xlb_backend none = {};

		if (b && b->be.vip_id == o->be.vip_id)
			continue;
		if (!b)
			TRY(c, bpf_map_update_elem(c->in->fd[XLB_M_BACKENDS], &o->id, &none,
						   BPF_ANY));
		bit_set(c->p->bes, o->id);
		c->p->any = true;
	}
	return 0;
}

static bool purge_visit(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	const struct purge *p = arg;

	if (bit(p->vips, f->vip_id, XLB_MAX_VIPS) || bit(p->bes, f->backend_id, XLB_MAX_BACKENDS))
		return true;
	/* forced: a flow the target has no such backend for is stale, whatever left it */
	return p->owner && (f->backend_id >= XLB_MAX_BACKENDS ||
			    p->owner[f->backend_id] != f->vip_id);
}

/* 6. Their tracked flows re-hash to live backends on their next packet. */
static void phase_purge(struct commit *c)
{
	if (c->force) {
		c->p->owner = malloc(XLB_MAX_BACKENDS * sizeof(*c->p->owner));
		if (c->p->owner) {
			memset(c->p->owner, 0xff, XLB_MAX_BACKENDS * sizeof(*c->p->owner));
			for (size_t i = 0; i < c->new->nbes; i++)
				c->p->owner[c->new->bes[i].id] = c->new->bes[i].be.vip_id;
			c->p->any = true;
		}
	}
	if (c->p->any)
		ct_walk_both(c->in, purge_visit, c->p, NULL, NULL);
	free(c->p->owner);
	c->p->owner = NULL;
}

/* Every phase, in order; the ctl entry (the commit record) is the caller's. */
static int apply(const struct xlb_inst *in, const struct model *old, const struct model *new,
		 bool force, const char **whatp)
{
	struct commit c = { .in = in, .old = old, .new = new, .force = force, .what = "" };
	__u32 zero = 0;
	int err = -ENOMEM;

	c.p = calloc(1, sizeof(*c.p));
	c.tb = calloc(1, sizeof(*c.tb));
	if (c.p && c.tb) {
		err = phase_backends(&c);
		if (!err)
			err = phase_tables(&c);
		if (!err)
			err = phase_vips(&c);
		if (!err)
			err = phase_removed_vips(&c);
		if (!err)
			err = phase_removed_backends(&c);
		if (!err && bpf_map_update_elem(in->fd[XLB_M_CONFIG], &zero, &new->config, BPF_ANY)) {
			err = -errno;
			c.what = "config";
		}
		/*
		 * Promotion off: the data plane no longer reads ct_new, so its young
		 * flows move to conntrack now. A packet of one that arrives between
		 * the config write and the move is picked by the table again (the
		 * same backend, unless the table changed in those milliseconds).
		 */
		if (!err && new->config.ct_promote_after <= 1 &&
		    (force || old->config.ct_promote_after > 1) && ct_young_promote_all(in))
			xlb_warn("young flows not all moved to conntrack: %s (they pick again)",
				 strerror(errno));
		if (!err)
			phase_purge(&c);
		else
			tables_discard(c.tb);
	}
	free(c.p);
	free(c.tb);
	*whatp = c.what;
	return err;
}

/* ---- the commit record and the journal ---- */

bool commit_interrupted(const struct xlb_ctl *ctl)
{
	return ctl->commit_gen & 1;
}

static int record_write(const struct xlb_inst *in, const struct xlb_ctl *ctl, __u32 gen)
{
	struct xlb_ctl c = *ctl;
	__u32 zero = 0;

	c.commit_gen = gen;
	return bpf_map_update_elem(in->fd[XLB_M_CTL], &zero, &c, BPF_ANY) ? -errno : 0;
}

#define JOURNAL_MAGIC	"xlbjrnl1"

struct journal_head {
	char magic[8];
	__u32 gen;		/* the running commit's commit_gen (odd) */
	__u32 nvips;
	__u32 nbes;
	__u32 vip_size;		/* sizeof(struct m_vip) and m_backend of the writer */
	__u32 be_size;
	__u32 pad;
	struct xlb_config config;
	struct xlb_ctl ctl;
};

static void journal_path(const struct xlb_inst *in, char *buf, size_t len, bool tmp)
{
	snprintf(buf, len, "%s/%s.commit%s", XLB_LOCK_DIR, in->iface, tmp ? ".tmp" : "");
}

/* FNV-1a: a truncated or mixed journal must not be taken for a target. */
static __u64 fnv(__u64 h, const void *p, size_t n)
{
	const __u8 *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

#define FNV_INIT	0xcbf29ce484222325ULL

static int journal_write(const struct xlb_inst *in, const struct model *m, __u32 gen)
{
	struct journal_head h = {
		.gen = gen, .nvips = m->nvips, .nbes = m->nbes, .vip_size = sizeof(*m->vips),
		.be_size = sizeof(*m->bes), .config = m->config, .ctl = m->ctl,
	};
	char tmp[192], path[192];
	__u64 sum;
	FILE *f;
	int err = 0;

	memcpy(h.magic, JOURNAL_MAGIC, sizeof(h.magic));
	sum = fnv(FNV_INIT, &h, sizeof(h));
	sum = fnv(sum, m->vips, m->nvips * sizeof(*m->vips));
	sum = fnv(sum, m->bes, m->nbes * sizeof(*m->bes));
	journal_path(in, tmp, sizeof(tmp), true);
	journal_path(in, path, sizeof(path), false);
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	if (fwrite(&h, sizeof(h), 1, f) != 1 ||
	    fwrite(m->vips, sizeof(*m->vips), m->nvips, f) != m->nvips ||
	    fwrite(m->bes, sizeof(*m->bes), m->nbes, f) != m->nbes ||
	    fwrite(&sum, sizeof(sum), 1, f) != 1)
		err = -EIO;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static void journal_remove(const struct xlb_inst *in)
{
	char path[192];

	journal_path(in, path, sizeof(path), false);
	unlink(path);
}

/* The target the commit of generation @gen journalled, into @m. 0 or -errno. */
static int journal_read(const struct xlb_inst *in, __u32 gen, struct model *m)
{
	struct journal_head h;
	char path[192];
	__u64 sum, want;
	int err = -EINVAL;
	FILE *f;

	memset(m, 0, sizeof(*m));
	journal_path(in, path, sizeof(path), false);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fread(&h, sizeof(h), 1, f) != 1 || memcmp(h.magic, JOURNAL_MAGIC, sizeof(h.magic)) ||
	    h.gen != gen || h.vip_size != sizeof(*m->vips) || h.be_size != sizeof(*m->bes) ||
	    h.nvips > XLB_MAX_VIPS || h.nbes > XLB_MAX_BACKENDS)
		goto out;
	m->vips = calloc(h.nvips + 1, sizeof(*m->vips));
	m->bes = calloc(h.nbes + 1, sizeof(*m->bes));
	if (!m->vips || !m->bes) {
		err = -ENOMEM;
		goto out;
	}
	if (fread(m->vips, sizeof(*m->vips), h.nvips, f) != h.nvips ||
	    fread(m->bes, sizeof(*m->bes), h.nbes, f) != h.nbes || fread(&want, sizeof(want), 1, f) != 1)
		goto out;
	sum = fnv(fnv(fnv(FNV_INIT, &h, sizeof(h)), m->vips, h.nvips * sizeof(*m->vips)), m->bes,
		  h.nbes * sizeof(*m->bes));
	if (sum != want)
		goto out;
	m->nvips = h.nvips;
	m->nbes = h.nbes;
	m->config = h.config;
	m->ctl = h.ctl;
	err = 0;
out:
	fclose(f);
	if (err)
		model_free(m);
	return err;
}

/* ---- commit and repair ---- */

/* The signals a user sends wait while the maps are written (a commit or a repair). */
static void signals_defer(sigset_t *saved)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGHUP);
	sigaddset(&s, SIGQUIT);
	pthread_sigmask(SIG_BLOCK, &s, saved);
}

static void signals_restore(const sigset_t *saved)
{
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

int model_commit(const struct xlb_inst *in, const struct model *old, struct model *new)
{
	/* Found interrupted (and not repaired): the maps are not what @old says. */
	bool force = commit_interrupted(&old->ctl);
	__u32 running = old->ctl.commit_gen | 1;
	const char *what = "", *ignored;
	sigset_t saved;
	int err;

	model_finalize(new);
	new->ctl.commit_gen = running + 1;
	signals_defer(&saved);
	err = journal_write(in, new, running);
	if (err) {
		xlb_err("cannot write the commit journal of %s in %s: %s; nothing changed", in->iface,
			XLB_LOCK_DIR, strerror(-err));
		goto out;
	}
	err = record_write(in, &old->ctl, running);
	if (err) {
		what = "ctl";
		goto undo;
	}
	err = apply(in, old, new, force, &what);
	if (!err)
		err = record_write(in, &new->ctl, new->ctl.commit_gen);
	if (!err) {
		journal_remove(in);
		signals_restore(&saved);
		model_ensure_neighbours(new, old);
		return 0;
	}
undo:
	xlb_err("updating the maps of %s failed (%s): %s; change undone", in->iface, what,
		strerror(-err));
	/*
	 * Forced: which writes happened is unknown. The journal names @old
	 * first, so a crash while undoing ends at @old too (if it cannot be
	 * rewritten, a repair finishes @new instead: still one of the two).
	 */
	journal_write(in, old, running);
	apply(in, new, old, true, &ignored);
	if (!record_write(in, &old->ctl, new->ctl.commit_gen))
		journal_remove(in);
	err = -1;
out:
	signals_restore(&saved);
	return err ? -1 : 0;
}

/* No journal: the VIPs the vips map has, with their backends; slots of no VIP go. */
static int target_from_maps(const struct model *cur, struct model *t)
{
	if (model_copy(cur, t))
		return -ENOMEM;
	for (size_t j = t->nbes; j-- > 0;)
		if (!model_vip_by_id(t, t->bes[j].be.vip_id))
			model_backend_del(t, &t->bes[j]);
	return 0;
}

static int repair_locked(const struct xlb_inst *in)
{
	struct model cur, target = {};
	const char *what = "";
	bool journalled;
	__u32 gen;
	int err;

	err = model_load_maps(in, &cur);
	if (err || !commit_interrupted(&cur.ctl)) {
		model_free(&cur);
		return err ? -1 : 0;	/* finished meanwhile */
	}
	gen = cur.ctl.commit_gen;
	journalled = !journal_read(in, gen, &target);
	if (!journalled && target_from_maps(&cur, &target)) {
		model_free(&cur);
		return -1;
	}
	model_finalize(&target);
	target.ctl.commit_gen = gen + 1;
	err = apply(in, &cur, &target, true, &what);
	if (!err)
		err = record_write(in, &target.ctl, gen + 1);
	if (!err) {
		journal_remove(in);
		model_ensure_neighbours(&target, NULL);
		xlb_warn("%s: a commit was interrupted; %s", in->iface,
			 journalled ? "finished it from its journal"
				    : "no journal of it: kept the VIPs the maps hold, rebuilt");
	} else {
		xlb_err("%s: repairing an interrupted commit failed (%s): %s", in->iface, what,
			strerror(-err));
	}
	model_free(&cur);
	model_free(&target);
	return err ? -1 : 1;
}

int commit_repair(const struct xlb_inst *in)
{
	int lock = -1, ret;
	sigset_t saved;

	if (getenv(COMMIT_NO_REPAIR_ENV))
		return 0;
	/* Without the lock, the record may be a live commit's: only a free lock says it died. */
	if (in->lock_fd < 0) {
		lock = inst_lock_try(in->iface);
		if (lock < 0)
			return 0;
	}
	signals_defer(&saved);
	ret = repair_locked(in);
	signals_restore(&saved);
	if (lock >= 0)
		close(lock);
	return ret;
}
