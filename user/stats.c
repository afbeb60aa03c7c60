// SPDX-License-Identifier: GPL-2.0
/*
 * xlb stats: packets, bytes and new flows per VIP and backend, every
 * reason a packet left the fast path, and what conntrack admission did
 * (flows admitted young, promoted, tracked at once, over the insert
 * budget). With --watch N, per-second rates over each N-second interval
 * (--count bounds the number of intervals).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xlb.h"
#include "ct.h"
#include "out.h"
#include "percpu.h"
#include "util.h"

static const char *const reason_names[XLB_REASON_MAX] = XLB_REASON_NAMES;
static const char *const ct_event_names[XLB_CT_EV_MAX] = XLB_CT_EVENT_NAMES;

struct snapshot {
	struct xlb_counters *vip;	/* by model index */
	struct xlb_counters *be;
	__u64 reasons[XLB_REASON_MAX];
	__u64 ct[XLB_CT_EV_MAX];	/* by enum xlb_ct_event */
};

static void take(const struct xlb_inst *in, const struct model *m, struct snapshot *s)
{
	for (size_t i = 0; i < m->nvips; i++)
		percpu_counters(in->fd[XLB_M_VIP_STATS], m->vips[i].v.id, &s->vip[i]);
	for (size_t i = 0; i < m->nbes; i++)
		percpu_counters(in->fd[XLB_M_BACKEND_STATS], m->bes[i].id, &s->be[i]);
	for (__u32 r = 0; r < XLB_BALANCER_REASONS; r++)
		s->reasons[r] = percpu_u64(in->fd[XLB_M_REASONS], r);
	ct_events_sum(in, s->ct);	/* zeros if unreadable, as the others */
}

/* A list of counters, or with @prev their rates; text as "  name value" lines. */
static void print_list(const char *const *names, const __u64 *v, const __u64 *prev, __u32 n,
		       double secs)
{
	for (__u32 i = 0; i < n; i++) {
		__u64 x = prev ? (v[i] - prev[i]) / secs : v[i];

		if (!out_is_json())
			printf("  %-20s %llu\n", names[i], (unsigned long long)x);
		else
			out_u64(names[i], NULL, x);
	}
}

static void print_ct(const struct model *m, const struct snapshot *s,
		     const struct snapshot *prev, double secs)
{
	out_obj_open(prev ? "conntrack_per_s" : "conntrack");
	out_u64("promote_after", "conntrack admission (promote after %llu packets",
		m->config.ct_promote_after);
	out_u64("insert_rate", ", insert budget %llu flows/s per CPU, 0 = none)",
		m->config.ct_insert_rate);
	out_text("%s:\n", prev ? " per second" : "");
	print_list(ct_event_names, s->ct, prev ? prev->ct : NULL, XLB_CT_EV_MAX, secs);
	out_obj_close();
}

/* The counters, or with @prev their rate per second over @secs. */
static void print_counters(const struct xlb_counters *c, const struct xlb_counters *prev,
			   double secs)
{
	if (!prev) {
		out_u64("packets", " %14llu", c->packets);
		out_u64("bytes", " %16llu", c->bytes);
		out_u64("new_flows", " %12llu", c->new_flows);
		return;
	}
	out_u64("packets_per_s", " %14llu", (c->packets - prev->packets) / secs);
	out_u64("bytes_per_s", " %16llu", (c->bytes - prev->bytes) / secs);
	out_u64("new_flows_per_s", " %12llu", (c->new_flows - prev->new_flows) / secs);
}

static void print(const struct xlb_inst *in, const struct model *m, const struct snapshot *s,
		  const struct snapshot *prev, double secs)
{
	char name[XLB_VIP_STRLEN];

	out_obj_open(NULL);
	out_str("iface", "%s", in->iface);
	if (prev) {
		out_u64("interval_ms", NULL, secs * 1000);
		out_text("  (per second)\n%-40s %14s %16s %12s\n", "", "packets/s", "bytes/s",
			 "new flows/s");
	} else {
		out_text("\n%-40s %14s %16s %12s\n", "", "packets", "bytes", "new flows");
	}
	out_arr_open("vips");
	for (size_t i = 0; i < m->nvips; i++) {
		vip_fmt(&m->vips[i].key, name, sizeof(name));
		out_obj_open(NULL);
		out_str("vip", "%-40s", name);
		print_counters(&s->vip[i], prev ? &prev->vip[i] : NULL, secs);
		out_text("\n");
		out_arr_open("backends");
		for (size_t j = 0; j < m->nbes; j++) {
			if (m->bes[j].be.vip_id != m->vips[i].v.id)
				continue;
			addr_fmt(m->bes[j].be.addr, m->bes[j].be.family, name, sizeof(name));
			out_obj_open(NULL);
			out_str("addr", "  %-38s", name);
			print_counters(&s->be[j], prev ? &prev->be[j] : NULL, secs);
			out_text("\n");
			out_obj_close();
		}
		out_arr_close();
		out_obj_close();
	}
	out_arr_close();
	out_obj_open(prev ? "reasons_per_s" : "reasons");
	out_text("packets by reason%s:\n", prev ? " per second" : "");
	print_list(reason_names, s->reasons, prev ? prev->reasons : NULL, XLB_BALANCER_REASONS,
		   secs);
	out_obj_close();
	print_ct(m, s, prev, secs);
	out_obj_close();
	out_done();
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int do_stats(int argc, char **argv)
{
	struct snapshot s[2] = {};
	__u32 watch = 0, count = 0;
	struct xlb_inst in;
	struct model m;
	const char *v;

	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			puts("usage: xlb stats [--json] [--watch SECONDS [--count N]]");
			return XLB_EXIT_OK;
		} else if (!strcmp(argv[i], "--watch")) {
			if (!(v = next_arg(&i, argc, argv, "--watch")))
				return XLB_EXIT_USAGE;
			if (!parse_u32(v, 1, 3600, &watch)) {
				xlb_err("invalid --watch \"%s\": must be 1 to 3600 seconds", v);
				return XLB_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--count")) {
			if (!(v = next_arg(&i, argc, argv, "--count")))
				return XLB_EXIT_USAGE;
			if (!parse_u32(v, 1, 1000000, &count)) {
				xlb_err("invalid --count \"%s\"", v);
				return XLB_EXIT_USAGE;
			}
		} else {
			xlb_err("unexpected argument \"%s\"", argv[i]);
			return XLB_EXIT_USAGE;
		}
	}
	if (model_open(opts.iface, false, &in, &m))
		return XLB_EXIT_FAIL;
	for (int k = 0; k < 2; k++) {
		s[k].vip = calloc(m.nvips + 1, sizeof(*s[k].vip));
		s[k].be = calloc(m.nbes + 1, sizeof(*s[k].be));
	}
	take(&in, &m, &s[0]);
	if (!watch) {
		print(&in, &m, &s[0], NULL, 0);
	} else {
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		for (__u32 n = 0, cur = 0; !stop && (!count || n < count); n++) {
			__u64 t0 = now_mono_ns();

			sleep(watch);
			if (stop)
				break;
			take(&in, &m, &s[!cur]);
			print(&in, &m, &s[!cur], &s[cur], (now_mono_ns() - t0) / 1e9);
			cur = !cur;
		}
	}
	for (int k = 0; k < 2; k++) {
		free(s[k].vip);
		free(s[k].be);
	}
	model_close(&in, &m);
	return XLB_EXIT_OK;
}
