// SPDX-License-Identifier: GPL-2.0
/*
 * xlb agent: the health thread. Each backend is probed every interval of its
 * VIP (TCP connect, or HTTP or HTTPS GET PATH with the status in the expected
 * range and, if asked, a string in the body, on the backend's address and port:
 * the VIP's, or a NAT backend's own); all probes that are due run together in
 * one round (lib/probe.h). After every probe the backend's entry in the pinned
 * health map is rewritten, so a restarted agent continues every streak where
 * the last one stopped and never flaps a backend. `fall` failures in a row mark
 * the backend DOWN, `rise` passes clear it; the response time of passing probes
 * feeds an EWMA that lrt reads from backends.rt_us. All changes of a round go
 * in one locked commit, like any CLI command, and only when a flag flips or an
 * EWMA moved by more than AGENT_RT_CHANGE_PCT.
 *
 * A VIP with port 0 (every port) has no port to check, and `--check none`
 * asks for no check: their backends are never marked down (a DOWN flag left
 * from an earlier check is cleared) and their health stays "unknown".
 *
 * A VIP switching to its backups (no usable primary) or back is logged with
 * the reason, whichever commit caused it (the agent's or the CLI's).
 */
#include <errno.h>
#include <poll.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "model.h"
#include "probe.h"
#include "util.h"

#define AGENT_RT_EWMA_DIV	4	/* weight of a new sample: 1/4 */
#define AGENT_RT_CHANGE_PCT	10	/* rewrite rt_us when the EWMA moved more than this */
#define AGENT_RT_CHANGE_MIN_US	20	/* ... and by at least this much (noise on fast links) */
#define AGENT_MIN_SLEEP_MS	10
#define NS_PER_MS		1000000ULL

/* What the thread remembers per backend id (all of it also derivable from the maps). */
struct be_seen {
	bool used;
	__u32 vip_id;
	__u32 addr[4];
	__u8 family;
	__u8 flags;
	__u16 weight;
	__u64 next_due_ms;	/* monotonic */
	__u32 ewma_us;		/* 0: start from backends.rt_us */
};

/* One backend's pending change for the round's commit. */
struct be_change {
	__u32 id;
	__u32 vip_id;
	__u32 addr[4];
	__u8 family;
	bool set_down;		/* desired XLB_BE_F_DOWN */
	bool flip;		/* the flag must change */
	__u32 rt_us;		/* 0: leave it */
	char why[PROBE_WHY_LEN];
	__u16 streak;
};

static struct be_seen seen[XLB_MAX_BACKENDS];

static bool same_backend(const struct be_seen *s, const struct m_backend *b)
{
	return s->used && s->vip_id == b->be.vip_id && s->family == b->be.family &&
	       !memcmp(s->addr, b->be.addr, sizeof(s->addr));
}

static void be_name(const struct model *m, __u32 vip_id, const __u32 addr[4], __u8 family,
		    char *buf, size_t len)
{
	char a[XLB_ADDR_STRLEN], v[XLB_VIP_STRLEN] = "?";
	const struct m_vip *vip = model_vip_by_id(m, vip_id);

	if (vip)
		vip_fmt(&vip->key, v, sizeof(v));
	addr_fmt(addr, family, a, sizeof(a));
	snprintf(buf, len, "backend %s of %s", a, v);
}

/* Events the CLI caused, seen when the configuration is re-read. */
static void log_config_changes(const struct model *m, bool first)
{
	static bool now_used[XLB_MAX_BACKENDS];
	char name[XLB_ADDR_STRLEN + XLB_VIP_STRLEN + 16];

	memset(now_used, 0, sizeof(now_used));
	for (size_t i = 0; i < m->nbes; i++) {
		const struct m_backend *b = &m->bes[i];
		struct be_seen *s = &seen[b->id];
		__u8 cli_flags = b->be.flags & ~XLB_BE_F_DOWN;

		now_used[b->id] = true;
		be_name(m, b->be.vip_id, b->be.addr, b->be.family, name, sizeof(name));
		if (!same_backend(s, b)) {
			if (!first)
				agent_log("%s: added (weight %u)", name, b->be.weight);
			memset(s, 0, sizeof(*s));
			s->used = true;
			s->vip_id = b->be.vip_id;
			memcpy(s->addr, b->be.addr, sizeof(s->addr));
			s->family = b->be.family;
			s->weight = b->be.weight;
			s->flags = cli_flags;
			continue;
		}
		if (s->weight != b->be.weight)
			agent_log("%s: weight %u -> %u", name, s->weight, b->be.weight);
		if ((s->flags ^ cli_flags) & XLB_BE_F_DRAINED)
			agent_log("%s: %s", name, cli_flags & XLB_BE_F_DRAINED ? "drained" : "undrained");
		s->weight = b->be.weight;
		s->flags = cli_flags;
	}
	for (__u32 id = 0; id < XLB_MAX_BACKENDS; id++) {
		if (!seen[id].used || now_used[id])
			continue;
		be_name(m, seen[id].vip_id, seen[id].addr, seen[id].family, name, sizeof(name));
		agent_log("%s: removed", name);
		seen[id].used = false;
	}
}

/* A string setting of vip_config, or NULL if empty (or, from a damaged map, unterminated). */
static const char *cfg_str(const char *field, size_t size)
{
	return field[0] && memchr(field, '\0', size) ? field : NULL;
}

/* The probe of backend @b as its VIP's check settings say (the strings stay in @v). */
static void probe_target_of(const struct m_vip *v, const struct m_backend *b,
			    struct probe_target *t)
{
	const struct xlb_vip_config *c = &v->cfg;
	bool http = c->check == XLB_CHECK_HTTP || c->check == XLB_CHECK_HTTPS;

	memcpy(t->addr, b->be.addr, sizeof(t->addr));
	t->family = b->be.family;
	t->port = ntohs(b->be.port ? b->be.port : v->key.port);
	t->kind = c->check == XLB_CHECK_HTTPS ? PROBE_HTTPS :
		  c->check == XLB_CHECK_HTTP ? PROBE_HTTP : PROBE_TCP;
	t->timeout_ms = c->timeout_ms;
	if (!http)
		return;
	t->path = cfg_str(c->path, sizeof(c->path));
	t->host = cfg_str(c->host, sizeof(c->host));
	t->expect_body = cfg_str(c->body, sizeof(c->body));
	t->status_lo = c->status_lo;
	t->status_hi = c->status_hi;
	if (c->check != XLB_CHECK_HTTPS)
		return;
	t->ca_file = cfg_str(c->ca, sizeof(c->ca));
	t->insecure = c->check_flags & XLB_CHECK_F_INSECURE;
}

static bool checked(const struct m_vip *v)
{
	return v && v->cfg.check != XLB_CHECK_NONE && v->key.port != 0;
}

/* The health map entry after one probe; the new state follows rise/fall. */
static void health_step(struct xlb_health *h, const struct probe_result *r,
			const struct xlb_vip_config *cfg)
{
	bool ok = r->ok;

	if (h->last_probe_ns && !!h->last_ok == ok && h->streak)
		h->streak += h->streak < 0xffff;
	else
		h->streak = 1;
	h->last_ok = ok;
	h->last_probe_ns = now_real_ns();
	h->last_rt_us = r->rt_us;
	if (ok && h->state != XLB_HEALTH_UP && h->streak >= (cfg->rise ? cfg->rise : 1))
		h->state = XLB_HEALTH_UP;
	else if (!ok && h->state != XLB_HEALTH_DOWN && h->streak >= (cfg->fall ? cfg->fall : 1))
		h->state = XLB_HEALTH_DOWN;
}

static bool rt_moved(__u32 cur, __u32 ewma)
{
	__u32 d = cur > ewma ? cur - ewma : ewma - cur;

	if (!cur)
		return true;
	return d >= AGENT_RT_CHANGE_MIN_US && (__u64)d * 100 > (__u64)cur * AGENT_RT_CHANGE_PCT;
}

static struct m_backend *find_change(const struct model *m, const struct be_change *c)
{
	for (size_t i = 0; i < m->nbes; i++) {
		struct m_backend *b = &m->bes[i];

		if (b->id == c->id && b->be.vip_id == c->vip_id && b->be.family == c->family &&
		    !memcmp(b->be.addr, c->addr, sizeof(c->addr)))
			return b;
	}
	return NULL;
}

static void log_vip_states(const struct model *old, const struct model *new)
{
	char vip[XLB_VIP_STRLEN];

	for (size_t i = 0; i < new->nvips; i++) {
		const struct m_vip *v = &new->vips[i];
		const struct m_vip *o = model_vip_by_id(old, v->v.id);
		bool was = o && (o->v.flags & XLB_VIP_F_ALL_DOWN);
		bool is = v->v.flags & XLB_VIP_F_ALL_DOWN;

		if (was == is)
			continue;
		vip_fmt(&v->key, vip, sizeof(vip));
		agent_log("vip %s: %s", vip, !is ? "has a live backend again" :
				 v->v.flags & XLB_VIP_F_ALL_DOWN_DROP ?
				 "every backend is down, its packets are dropped (--all-down drop)" :
				 "every backend is down, failing open to all of them (--all-down open)");
	}
}

/* What the thread last saw of each VIP id: whether it ran on its backups. */
struct vip_seen {
	bool known;
	bool on_backup;
	struct xlb_vip_key key;
};

static struct vip_seen vips_seen[XLB_MAX_VIPS];

#define AGENT_WHY_MAX	4	/* primaries named in a reason; more are counted */

/* Why no primary of @v is usable: each one's state, or that there is none. */
static void no_primary_why(const struct model *m, const struct m_vip *v, char *buf, size_t len)
{
	char a[XLB_ADDR_STRLEN];
	size_t n = 0, off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < m->nbes; i++) {
		const struct xlb_backend *be = &m->bes[i].be;
		const char *why;

		if (be->vip_id != v->v.id || backend_is_backup(be))
			continue;
		if (n++ >= AGENT_WHY_MAX)
			continue;
		why = be->flags & XLB_BE_F_DOWN ? "down" : be->flags & XLB_BE_F_DRAINED ? "drained" :
		      !be->weight ? "weight 0" : "usable";
		addr_fmt(be->addr, be->family, a, sizeof(a));
		off += snprintf(buf + off, off < len ? len - off : 0, "%s%s %s", n > 1 ? ", " : "",
				a, why);
	}
	if (!n)
		snprintf(buf, len, "none configured");
	else if (n > AGENT_WHY_MAX && off < len)
		snprintf(buf + off, len - off, " and %zu more", n - AGENT_WHY_MAX);
}

/* The first usable primary of @v (its address in @buf), false if none. */
static bool usable_primary(const struct model *m, const struct m_vip *v, char *buf, size_t len)
{
	for (size_t i = 0; i < m->nbes; i++) {
		const struct xlb_backend *be = &m->bes[i].be;

		if (be->vip_id == v->v.id && !backend_is_backup(be) && backend_eligible(be)) {
			addr_fmt(be->addr, be->family, buf, len);
			return true;
		}
	}
	return false;
}

static void log_backup_switches(const struct model *m)
{
	char vip[XLB_VIP_STRLEN], why[AGENT_WHY_MAX * (XLB_ADDR_STRLEN + 16) + 32];

	for (size_t i = 0; i < m->nvips; i++) {
		const struct m_vip *v = &m->vips[i];
		struct vip_seen *s = &vips_seen[v->v.id % XLB_MAX_VIPS];
		bool is = v->v.flags & XLB_VIP_F_ON_BACKUP;
		bool same = s->known && !memcmp(&s->key, &v->key, sizeof(s->key));
		bool was = same && s->on_backup;

		s->known = true;
		s->key = v->key;
		s->on_backup = is;
		if (was == is)	/* a VIP first seen is logged only if on its backups */
			continue;
		vip_fmt(&v->key, vip, sizeof(vip));
		if (is) {
			no_primary_why(m, v, why, sizeof(why));
			agent_log("vip %s: no usable primary (%s): running on its backups", vip, why);
		} else if (usable_primary(m, v, why, sizeof(why))) {
			agent_log("vip %s: primary %s usable again: back on the primaries", vip, why);
		} else {
			agent_log("vip %s: no usable backup either: back on the primaries", vip);
		}
	}
}

/* Lock, load, edit a copy, commit, unlock: as run_edit() does for the CLI. */
static void commit_changes(struct agent *a, struct be_change *ch, size_t n)
{
	char name[XLB_ADDR_STRLEN + XLB_VIP_STRLEN + 16];
	struct model old, new;
	struct xlb_inst lin;
	bool any = false;

	if (inst_open(a->iface, true, &lin))
		return;
	if (model_load(&lin, &old) || model_copy(&old, &new)) {
		agent_log("cannot read the configuration of %s", a->iface);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct m_backend *b = find_change(&new, &ch[i]);
		__u8 flags;

		ch[i].flip = false;
		if (!b)
			continue;	/* deleted or replaced meanwhile */
		flags = ch[i].set_down ? b->be.flags | XLB_BE_F_DOWN : b->be.flags & ~XLB_BE_F_DOWN;
		ch[i].flip = flags != b->be.flags;
		b->be.flags = flags;
		if (ch[i].rt_us && b->be.rt_us != ch[i].rt_us)
			b->be.rt_us = ch[i].rt_us;
		any |= ch[i].flip || ch[i].rt_us;
	}
	if (any && model_commit(&lin, &old, &new) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (!ch[i].flip)
				continue;
			be_name(&new, ch[i].vip_id, ch[i].addr, ch[i].family, name, sizeof(name));
			if (ch[i].set_down)
				agent_log("%s: down (%s; %u failed checks)", name, ch[i].why,
					  ch[i].streak);
			else
				agent_log("%s: up (%u passed checks)", name, ch[i].streak);
		}
		log_vip_states(&old, &new);
		log_backup_switches(&new);
	}
	model_free(&new);
out:
	model_free(&old);
	inst_close(&lin);
}

/* Backends of unchecked VIPs: never down, health unknown. */
static size_t unchecked(struct agent *a, const struct m_backend *b, struct be_change *ch)
{
	struct xlb_health h = {};
	int hfd = a->in.fd[XLB_M_HEALTH];

	if (!bpf_map_lookup_elem(hfd, &b->id, &h) && h.state != XLB_HEALTH_UNKNOWN) {
		h.state = XLB_HEALTH_UNKNOWN;
		h.streak = 0;
		bpf_map_update_elem(hfd, &b->id, &h, BPF_ANY);
	}
	if (!(b->be.flags & XLB_BE_F_DOWN))
		return 0;
	memset(ch, 0, sizeof(*ch));
	ch->id = b->id;
	ch->vip_id = b->be.vip_id;
	memcpy(ch->addr, b->be.addr, sizeof(ch->addr));
	ch->family = b->be.family;
	snprintf(ch->why, sizeof(ch->why), "checks off");
	return 1;
}

/* Applies one probe's result; returns 1 if @ch now holds a change to commit. */
static size_t probe_done(struct agent *a, const struct model *m, const struct m_backend *b,
			 const struct probe_result *r, struct be_change *ch)
{
	const struct m_vip *v = model_vip_by_id(m, b->be.vip_id);
	struct be_seen *s = &seen[b->id];
	struct xlb_health h = {};
	int hfd = a->in.fd[XLB_M_HEALTH];
	bool want_down;

	bpf_map_lookup_elem(hfd, &b->id, &h);
	health_step(&h, r, &v->cfg);
	bpf_map_update_elem(hfd, &b->id, &h, BPF_ANY);

	memset(ch, 0, sizeof(*ch));
	ch->id = b->id;
	ch->vip_id = b->be.vip_id;
	memcpy(ch->addr, b->be.addr, sizeof(ch->addr));
	ch->family = b->be.family;
	ch->streak = h.streak;
	snprintf(ch->why, sizeof(ch->why), "%s", r->why);
	want_down = h.state == XLB_HEALTH_DOWN;
	ch->set_down = want_down;
	if (r->ok) {
		__u32 rt = r->rt_us ? r->rt_us : 1;

		if (!s->ewma_us)
			s->ewma_us = b->be.rt_us ? b->be.rt_us : rt;
		else
			s->ewma_us = (__u32)((__s64)s->ewma_us +
					     ((__s64)rt - (__s64)s->ewma_us) / AGENT_RT_EWMA_DIV);
		if (!s->ewma_us)
			s->ewma_us = 1;
		if (rt_moved(b->be.rt_us, s->ewma_us))
			ch->rt_us = s->ewma_us;
	}
	return want_down != !!(b->be.flags & XLB_BE_F_DOWN) || ch->rt_us;
}

/* One pass: probe what is due, commit what changed. Returns ms until the next due probe. */
static __u64 health_pass(struct agent *a, bool first)
{
	struct probe_target *t = NULL;
	struct probe_result *r = NULL;
	struct m_backend **tb = NULL;
	struct be_change *ch = NULL;
	__u64 now = now_mono_ns() / NS_PER_MS, next = now + AGENT_IDLE_POLL_MS;
	size_t nt = 0, nch = 0;
	struct model m;

	if (model_load(&a->in, &m)) {
		agent_log("cannot read the configuration of %s", a->iface);
		model_free(&m);
		return AGENT_IDLE_POLL_MS;
	}
	log_config_changes(&m, first);
	log_backup_switches(&m);
	t = calloc(m.nbes + 1, sizeof(*t));
	r = calloc(m.nbes + 1, sizeof(*r));
	tb = calloc(m.nbes + 1, sizeof(*tb));
	ch = calloc(m.nbes + 1, sizeof(*ch));
	if (!t || !r || !tb || !ch)
		goto out;
	for (size_t i = 0; i < m.nbes; i++) {
		struct m_backend *b = &m.bes[i];
		const struct m_vip *v = model_vip_by_id(&m, b->be.vip_id);
		struct be_seen *s = &seen[b->id];

		if (!v)
			continue;
		if (!checked(v)) {
			nch += unchecked(a, b, &ch[nch]);
			continue;
		}
		if (s->next_due_ms > now) {
			if (s->next_due_ms < next)
				next = s->next_due_ms;
			continue;
		}
		probe_target_of(v, b, &t[nt]);
		tb[nt++] = b;
	}
	if (nt) {
		int err = probe_run(t, r, nt);

		if (err) {
			agent_log("probes failed to start: %s", strerror(-err));
			goto out;
		}
		for (size_t i = 0; i < nt; i++) {
			struct m_backend *b = tb[i];
			const struct m_vip *v = model_vip_by_id(&m, b->be.vip_id);
			__u64 due = now + v->cfg.interval_ms;

			seen[b->id].next_due_ms = due;
			if (due < next)
				next = due;
			nch += probe_done(a, &m, b, &r[i], &ch[nch]);
		}
	}
	if (nch && !atomic_load(&a->stop))
		commit_changes(a, ch, nch);
out:
	free(t);
	free(r);
	free(tb);
	free(ch);
	model_free(&m);
	now = now_mono_ns() / NS_PER_MS;
	return next > now ? next - now : 0;
}

void *agent_health_main(void *arg)
{
	struct agent *a = arg;
	bool first = true;

	while (!atomic_load(&a->stop)) {
		__u64 wait = health_pass(a, first);
		struct pollfd p = { .fd = a->wake_fd, .events = POLLIN };

		first = false;
		if (wait < AGENT_MIN_SLEEP_MS)
			wait = AGENT_MIN_SLEEP_MS;
		if (wait > AGENT_IDLE_POLL_MS)
			wait = AGENT_IDLE_POLL_MS;
		poll(&p, 1, (int)wait);
	}
	return NULL;
}
