// SPDX-License-Identifier: GPL-2.0
/*
 * xlb agent: the Prometheus text exposition served on /metrics. Every scrape
 * reads the pinned maps afresh (configuration, per-CPU counters, active
 * flows, health), so the values are the data plane's own, whoever changed
 * what since the last scrape. Names follow the Prometheus conventions:
 * xlb_ prefix, _total for counters, base units (seconds, bytes). It runs in
 * the HTTP server's thread: the maps are safe to read from any thread, and
 * the conntrack walk's results are atomics (agent.h).
 */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>

#include "agent.h"
#include "model.h"
#include "percpu.h"
#include "util.h"

struct metric {
	const char *name;
	const char *type;
	const char *help;
};

enum {
	M_VIP_PACKETS, M_VIP_BYTES, M_VIP_NEW_FLOWS, M_VIP_UP, M_VIP_BACKENDS, M_VIP_ON_BACKUP,
	M_BE_PACKETS, M_BE_BYTES, M_BE_NEW_FLOWS, M_BE_ACTIVE, M_BE_UP, M_BE_DRAINED,
	M_BE_WEIGHT, M_BE_RTT, M_BE_LAST_PROBE, M_BE_BACKUP,
	M_PACKETS, M_CT_ENTRIES, M_CT_EXPIRED, M_CT_WALK,
	M_COUNT,
};

static const struct metric metrics[M_COUNT] = {
	[M_VIP_PACKETS] = { "xlb_vip_packets_total", "counter", "Packets forwarded for the VIP." },
	[M_VIP_BYTES] = { "xlb_vip_bytes_total", "counter", "Bytes (inner frames) forwarded for the VIP." },
	[M_VIP_NEW_FLOWS] = { "xlb_vip_new_flows_total", "counter", "Flows the VIP's scheduler placed." },
	[M_VIP_UP] = { "xlb_vip_up", "gauge", "1 unless every backend of the VIP is down (then its packets are dropped)." },
	[M_VIP_BACKENDS] = { "xlb_vip_backends", "gauge", "Configured backends of the VIP." },
	[M_VIP_ON_BACKUP] = { "xlb_vip_on_backup", "gauge", "1 while no primary of the VIP is usable and it runs on its backups." },
	[M_BE_PACKETS] = { "xlb_backend_packets_total", "counter", "Packets forwarded to the backend." },
	[M_BE_BYTES] = { "xlb_backend_bytes_total", "counter", "Bytes (inner frames) forwarded to the backend." },
	[M_BE_NEW_FLOWS] = { "xlb_backend_new_flows_total", "counter", "Flows placed on the backend." },
	[M_BE_ACTIVE] = { "xlb_backend_active_flows", "gauge", "Tracked flows of the backend that are neither closing nor idle-expired." },
	[M_BE_UP] = { "xlb_backend_up", "gauge", "1 if the backend takes flows by health (up or not checked), 0 if health checks marked it down." },
	[M_BE_DRAINED] = { "xlb_backend_drained", "gauge", "1 if the backend is drained (no new flows)." },
	[M_BE_WEIGHT] = { "xlb_backend_weight", "gauge", "Configured weight of the backend." },
	[M_BE_RTT] = { "xlb_backend_probe_rtt_seconds", "gauge", "EWMA of the health probe response time (0 = unknown)." },
	[M_BE_LAST_PROBE] = { "xlb_backend_last_probe_timestamp_seconds", "gauge", "Unix time the last health probe ended (0 = never)." },
	[M_BE_BACKUP] = { "xlb_backend_backup", "gauge", "1 if the backend is a backup (in the table only while no primary is usable), 0 if a primary." },
	[M_PACKETS] = { "xlb_packets_total", "counter", "Packets by what the data plane did with them (fwd_*, pass_*, drop_*, ...)." },
	[M_CT_ENTRIES] = { "xlb_conntrack_entries", "gauge", "Conntrack entries at the agent's last walk." },
	[M_CT_EXPIRED] = { "xlb_conntrack_expired_total", "counter", "Conntrack entries this agent removed for idleness." },
	[M_CT_WALK] = { "xlb_conntrack_walk_seconds", "gauge", "Duration of the last conntrack walk." },
};

static const char *const reason_names[XLB_REASON_MAX] = XLB_REASON_NAMES;

static void head(struct strbuf *o, int m)
{
	strbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n", metrics[m].name, metrics[m].help,
		      metrics[m].name, metrics[m].type);
}

/* Per-VIP and per-backend values, gathered once so each metric is one block. */
struct vip_row {
	char vip[XLB_VIP_STRLEN];
	struct xlb_counters c;
	bool up;
	bool on_backup;
	__u64 nbes;
};

struct be_row {
	char vip[XLB_VIP_STRLEN];
	char addr[XLB_ADDR_STRLEN];
	struct xlb_counters c;
	__u64 active;
	struct xlb_health h;
	struct xlb_backend be;
};

static void vip_block(struct strbuf *o, int m, const struct vip_row *v, size_t n)
{
	head(o, m);
	for (size_t i = 0; i < n; i++) {
		__u64 val = m == M_VIP_PACKETS ? v[i].c.packets : m == M_VIP_BYTES ? v[i].c.bytes :
			    m == M_VIP_NEW_FLOWS ? v[i].c.new_flows : m == M_VIP_UP ? v[i].up :
			    m == M_VIP_ON_BACKUP ? v[i].on_backup : v[i].nbes;

		strbuf_printf(o, "%s{vip=\"%s\"} %llu\n", metrics[m].name, v[i].vip,
			      (unsigned long long)val);
	}
}

static void be_block(struct strbuf *o, int m, const struct be_row *b, size_t n)
{
	head(o, m);
	for (size_t i = 0; i < n; i++) {
		const struct be_row *r = &b[i];

		strbuf_printf(o, "%s{vip=\"%s\",backend=\"%s\"} ", metrics[m].name, r->vip, r->addr);
		switch (m) {
		case M_BE_RTT:
			strbuf_printf(o, "%.6f\n", r->be.rt_us / 1e6);
			break;
		case M_BE_LAST_PROBE:
			strbuf_printf(o, "%.3f\n", r->h.last_probe_ns / 1e9);
			break;
		default:
			strbuf_printf(o, "%llu\n", (unsigned long long)(
				m == M_BE_PACKETS ? r->c.packets : m == M_BE_BYTES ? r->c.bytes :
				m == M_BE_NEW_FLOWS ? r->c.new_flows : m == M_BE_ACTIVE ? r->active :
				m == M_BE_UP ? !(r->be.flags & XLB_BE_F_DOWN) :
				m == M_BE_DRAINED ? !!(r->be.flags & XLB_BE_F_DRAINED) :
				m == M_BE_BACKUP ? !!(r->be.flags & XLB_BE_F_BACKUP) :
				r->be.weight));
		}
	}
}

static int by_vip_id(const void *a, const void *b)
{
	const struct m_vip *x = a, *y = b;

	return x->v.id < y->v.id ? -1 : x->v.id > y->v.id;
}

void agent_metrics_render(struct strbuf *o, void *arg)
{
	struct agent *a = arg;
	struct vip_row *vr = NULL;
	struct be_row *br = NULL;
	struct model m;
	size_t nb = 0;

	if (model_load(&a->in, &m)) {
		o->failed = true;
		model_free(&m);
		return;
	}
	qsort(m.vips, m.nvips, sizeof(*m.vips), by_vip_id);
	vr = calloc(m.nvips + 1, sizeof(*vr));
	br = calloc(m.nbes + 1, sizeof(*br));
	if (!vr || !br) {
		o->failed = true;
		goto out;
	}
	for (size_t i = 0; i < m.nvips; i++) {
		const struct m_vip *v = &m.vips[i];

		vip_fmt(&v->key, vr[i].vip, sizeof(vr[i].vip));
		percpu_counters(a->in.fd[XLB_M_VIP_STATS], v->v.id, &vr[i].c);
		vr[i].up = !(v->v.flags & XLB_VIP_F_ALL_DOWN);
		vr[i].on_backup = v->v.flags & XLB_VIP_F_ON_BACKUP;
		/* Backends grouped by VIP, in VIP order. */
		for (size_t j = 0; j < m.nbes; j++) {
			const struct m_backend *b = &m.bes[j];
			struct be_row *r = &br[nb];

			if (b->be.vip_id != v->v.id)
				continue;
			vr[i].nbes++;
			memcpy(r->vip, vr[i].vip, sizeof(r->vip));
			addr_fmt(b->be.addr, b->be.family, r->addr, sizeof(r->addr));
			percpu_counters(a->in.fd[XLB_M_BACKEND_STATS], b->id, &r->c);
			bpf_map_lookup_elem(a->in.fd[XLB_M_BACKEND_ACTIVE], &b->id, &r->active);
			bpf_map_lookup_elem(a->in.fd[XLB_M_HEALTH], &b->id, &r->h);
			r->be = b->be;
			nb++;
		}
	}
	for (int k = M_VIP_PACKETS; k <= M_VIP_ON_BACKUP; k++)
		vip_block(o, k, vr, m.nvips);
	for (int k = M_BE_PACKETS; k <= M_BE_BACKUP; k++)
		be_block(o, k, br, nb);
	head(o, M_PACKETS);
	for (__u32 r = 0; r < XLB_BALANCER_REASONS; r++) {
		/* decap_* belong to the decap program's own map, never counted here. */
		if (!strncmp(reason_names[r], "decap_", 6))
			continue;
		strbuf_printf(o, "xlb_packets_total{reason=\"%s\"} %llu\n", reason_names[r],
			      (unsigned long long)percpu_u64(a->in.fd[XLB_M_REASONS], r));
	}
	head(o, M_CT_ENTRIES);
	strbuf_printf(o, "%s %llu\n", metrics[M_CT_ENTRIES].name,
		      (unsigned long long)a->ct.entries);
	head(o, M_CT_EXPIRED);
	strbuf_printf(o, "%s %llu\n", metrics[M_CT_EXPIRED].name,
		      (unsigned long long)a->ct.expired_total);
	head(o, M_CT_WALK);
	strbuf_printf(o, "%s %.6f\n", metrics[M_CT_WALK].name, a->ct.last_walk_us / 1e6);
out:
	free(vr);
	free(br);
	model_free(&m);
}
