// SPDX-License-Identifier: GPL-2.0
/*
 * xlb conntrack list|count|flush|set: the tracked flows of both tables
 * (conntrack and the young flows' ct_new, see docs/DESIGN.md "Conntrack
 * admission"), their idle timeouts (which the agent enforces; the flow
 * tables evict only from a full bucket) and the admission settings the data plane reads.
 *
 * NAT flows (nat_flows) are two entries, one a direction: list shows one row
 * a flow, from the client's entry, with both tuples (client -> VIP as it
 * arrives, SNAT -> backend as it leaves) and each direction's idle time;
 * flush deletes both entries, the backend's (the SNAT port) last.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "xlb.h"
#include "ct.h"
#include "out.h"
#include "util.h"

const char conntrack_usage[] =
	"usage: xlb conntrack list [--json] [VIP]\n"
	"       xlb conntrack count [--json]\n"
	"       xlb conntrack flush [VIP] [--backend ADDR]\n"
	"       xlb conntrack set [--tcp-timeout 900s] [--fin-timeout 120s] [--udp-timeout 300s]\n"
	"                         [--promote-after 4] [--insert-rate 0]\n";

struct ct_filter {
	const struct model *m;
	const struct m_vip *vip;	/* NULL: every VIP */
	struct xlb_addr backend;	/* family 0: every backend */
	__u64 now;			/* CLOCK_MONOTONIC ns, the clock of last_seen_ns */
	bool print;
	__u64 nat_flows;		/* NAT flows listed, counted or flushed */
};

static bool ct_match(const struct ct_filter *f, const struct xlb_flow *fl)
{
	const struct xlb_backend *be = NULL;

	if (f->vip && fl->vip_id != f->vip->v.id)
		return false;
	if (!f->backend.family)
		return true;
	for (size_t i = 0; i < f->m->nbes && !be; i++)
		if (f->m->bes[i].id == fl->backend_id)
			be = &f->m->bes[i].be;
	return be && be->family == f->backend.family &&
	       !memcmp(be->addr, f->backend.a, sizeof(be->addr));
}

static void ct_print(const struct ct_filter *f, const struct xlb_flow_key *k,
		     const struct xlb_flow *fl)
{
	char vip[XLB_VIP_STRLEN] = "?", client[XLB_VIP_STRLEN], backend[XLB_ADDR_STRLEN] = "?";
	const struct m_vip *v = model_vip_by_id(f->m, fl->vip_id);

	if (v)
		vip_fmt(&v->key, vip, sizeof(vip));
	for (size_t i = 0; i < f->m->nbes; i++)
		if (f->m->bes[i].id == fl->backend_id)
			addr_fmt(f->m->bes[i].be.addr, f->m->bes[i].be.family, backend,
				 sizeof(backend));
	addr_port_fmt(k->src, k->family, k->sport, client, sizeof(client));
	out_obj_open(NULL);
	out_str("vip", "%-30s", vip);
	out_str("client", " %-30s", client);
	out_str("backend", " -> %-24s", backend);
	out_str("proto", " %s", proto_name(k->proto));
	out_u64("idle_s", " idle %llus", f->now > fl->last_seen_ns ?
					     (f->now - fl->last_seen_ns) / 1000000000ULL : 0);
	out_bool("closing", NULL, fl->flags & XLB_FLOW_F_CLOSING);
	out_text("%s", fl->flags & XLB_FLOW_F_CLOSING ? " closing" : "");
	/* Only ct_new's entries count packets. */
	out_bool("young", NULL, fl->young_pkts);
	if (fl->young_pkts)
		out_u64("young_packets", " young %llu pkts", fl->young_pkts);
	out_bool("nat", NULL, false);
	out_text("\n");
	out_obj_close();
}

static __u64 idle_s(const struct ct_filter *f, const struct xlb_flow *fl)
{
	return f->now > fl->last_seen_ns ? (f->now - fl->last_seen_ns) / 1000000000ULL : 0;
}

/* One NAT flow from its client's entry @k, @nf; @reply is its twin, NULL if gone. */
static void nat_print(const struct ct_filter *f, const struct xlb_flow_key *k,
		      const struct xlb_nat_flow *nf, const struct xlb_nat_flow *reply)
{
	char vip[XLB_VIP_STRLEN] = "?", backend[XLB_ADDR_STRLEN] = "?", t[4][XLB_VIP_STRLEN];
	const struct m_vip *v = model_vip_by_id(f->m, nf->flow.vip_id);
	bool closing = nf->flow.flags & XLB_FLOW_F_CLOSING;

	if (v)
		vip_fmt(&v->key, vip, sizeof(vip));
	addr_fmt(nf->to.dst, k->family, backend, sizeof(backend));
	addr_port_fmt(k->src, k->family, k->sport, t[0], sizeof(t[0]));
	addr_port_fmt(k->dst, k->family, k->dport, t[1], sizeof(t[1]));
	addr_port_fmt(nf->to.src, k->family, nf->to.sport, t[2], sizeof(t[2]));
	addr_port_fmt(nf->to.dst, k->family, nf->to.dport, t[3], sizeof(t[3]));
	out_obj_open(NULL);
	out_str("proto", "%s", proto_name(k->proto));
	out_str("vip", NULL, vip);
	out_str("client", " %s", t[0]);
	out_str("dst", " -> %s", t[1]);
	out_str("nat_src", " nat %s", t[2]);
	out_str("nat_dst", " -> %s", t[3]);
	out_str("backend", " backend %s", backend);
	out_u64("idle_s", " idle %llus", idle_s(f, &nf->flow));
	if (reply)
		out_u64("reply_idle_s", " reply idle %llus", idle_s(f, &reply->flow));
	else
		out_null("reply_idle_s", " reply gone");
	closing = closing || (reply && (reply->flow.flags & XLB_FLOW_F_CLOSING));
	out_bool("closing", NULL, closing);
	out_text("%s", closing ? " closing" : "");
	out_bool("young", NULL, false);
	out_bool("nat", NULL, true);
	out_text("\n");
	out_obj_close();
}

/*
 * list: a row a client's entry. flush: both entries of a matching flow, and
 * a backend's entry whose client entry is gone.
 */
static void nat_visit(int fd, const struct xlb_flow_key *k, const struct xlb_nat_flow *nf,
		      void *arg)
{
	struct ct_filter *f = arg;
	struct xlb_flow_key tk;
	struct xlb_nat_flow tw;
	bool twin = nat_twin(fd, k, nf, &tk, &tw);

	if (!ct_match(f, &nf->flow))
		return;
	if (nf->flow.flags & XLB_FLOW_F_NAT_REPLY) {
		if (!twin && !f->print && !bpf_map_delete_elem(fd, k))
			f->nat_flows++;
		return;
	}
	if (f->print)
		nat_print(f, k, nf, twin ? &tw : NULL);
	else if (nat_pair_delete(fd, k, nf))
		f->nat_flows++;
}

static bool ct_visit(const struct xlb_flow_key *k, const struct xlb_flow *fl, void *arg)
{
	struct ct_filter *f = arg;

	if (!ct_match(f, fl))
		return false;
	if (f->print) {
		ct_print(f, k, fl);
		return false;
	}
	return true;	/* flush */
}

/* Open the instance, load the model and parse [VIP] [--backend ADDR]. */
static int ct_setup(int argc, char **argv, bool backend_ok, struct xlb_inst *in,
		    struct model *m, struct ct_filter *f)
{
	const char *why, *v;

	memset(f, 0, sizeof(*f));
	if (model_open(opts.iface, false, in, m))
		return XLB_EXIT_FAIL;
	f->m = m;
	f->now = now_mono_ns();
	for (int i = 1; i < argc; i++) {
		if (backend_ok && !strcmp(argv[i], "--backend")) {
			if (!(v = next_arg(&i, argc, argv, "--backend")))
				goto usage;
			if (!addr_parse(v, &f->backend, &why)) {
				xlb_err("invalid backend address \"%s\": %s", v, why);
				goto usage;
			}
		} else if (!f->vip && argv[i][0] != '-') {
			f->vip = vip_arg(m, argv[i]);
			if (!f->vip) {
				model_close(in, m);
				return XLB_EXIT_FAIL;
			}
		} else {
			xlb_err("unexpected argument \"%s\"", argv[i]);
			goto usage;
		}
	}
	return XLB_EXIT_OK;
usage:
	model_close(in, m);
	return XLB_EXIT_USAGE;
}

static int ct_list(int argc, char **argv)
{
	struct ct_filter f;
	struct xlb_inst in;
	struct model m;
	int ret = ct_setup(argc, argv, false, &in, &m, &f);

	if (ret)
		return ret;
	f.print = true;
	out_arr_open(NULL);
	if (ct_walk_both(&in, ct_visit, &f, NULL, NULL) || nat_walk(&in, nat_visit, &f, NULL))
		ret = XLB_EXIT_FAIL;
	out_arr_close();
	out_done();
	model_close(&in, &m);
	return ret;
}

/* Counts the young entries (young_pkts > 0) as it goes. */
static bool ct_count_visit(const struct xlb_flow_key *k, const struct xlb_flow *fl, void *arg)
{
	if (fl->young_pkts)
		++*(__u64 *)arg;
	return false;
}

/* NAT flows: their clients' entries. */
static void nat_count_visit(int fd, const struct xlb_flow_key *k, const struct xlb_nat_flow *nf,
			    void *arg)
{
	if (!(nf->flow.flags & XLB_FLOW_F_NAT_REPLY))
		++*(__u64 *)arg;
}

static int ct_count(int argc, char **argv)
{
	struct xlb_inst in;
	__u64 n = 0, young = 0, nat = 0;

	if (argc > 1) {
		xlb_err("unexpected argument \"%s\"", argv[1]);
		return XLB_EXIT_USAGE;
	}
	if (inst_open(opts.iface, false, &in))
		return XLB_EXIT_FAIL;
	if (ct_walk_both(&in, ct_count_visit, &young, &n, NULL) ||
	    nat_walk(&in, nat_count_visit, &nat, NULL)) {
		xlb_err("cannot read the conntrack maps of %s", in.iface);
		inst_close(&in);
		return XLB_EXIT_FAIL;
	}
	/* Text: the total alone, as before the young table existed. */
	out_obj_open(NULL);
	out_u64("count", "%llu\n", n);
	out_u64("young", NULL, young);
	out_u64("nat", NULL, nat);
	out_obj_close();
	out_done();
	inst_close(&in);
	return XLB_EXIT_OK;
}

static int ct_flush(int argc, char **argv)
{
	struct ct_filter f;
	struct xlb_inst in;
	struct model m;
	__u64 n = 0;
	int ret = ct_setup(argc, argv, true, &in, &m, &f);

	if (ret)
		return ret;
	if (ct_walk_both(&in, ct_visit, &f, NULL, &n) || nat_walk(&in, nat_visit, &f, NULL)) {
		xlb_err("cannot read the conntrack maps of %s", in.iface);
		ret = XLB_EXIT_FAIL;
	} else {
		printf("flushed %llu flows\n", (unsigned long long)(n + f.nat_flows));
	}
	model_close(&in, &m);
	return ret;
}

/* --promote-after / --insert-rate: a count into the data plane's config. */
static int ct_set_admission(struct xlb_config *cfg, const char *flag, const char *v)
{
	bool promote = !strcmp(flag, "--promote-after");
	__u32 max = promote ? XLB_CT_PROMOTE_AFTER_MAX : XLB_CT_INSERT_RATE_MAX;

	if (!parse_u32(v, 0, max, promote ? &cfg->ct_promote_after : &cfg->ct_insert_rate)) {
		xlb_err("invalid %s \"%s\": must be 0 to %u", flag, v, max);
		return XLB_EXIT_USAGE;
	}
	return XLB_EXIT_OK;
}

/* Every value is checked before any is kept: bad input changes nothing. */
static int ct_set(struct model *m, int argc, char **argv)
{
	struct xlb_config cfg = m->config;
	struct xlb_ctl ctl = m->ctl;

	for (int i = 1; i < argc; i++) {
		const char *flag = argv[i], *v = next_arg(&i, argc, argv, flag);
		__u32 ms, *dst;

		if (!v)
			return XLB_EXIT_USAGE;
		if (!strcmp(flag, "--promote-after") || !strcmp(flag, "--insert-rate")) {
			if (ct_set_admission(&cfg, flag, v))
				return XLB_EXIT_USAGE;
			continue;
		}
		if (!strcmp(flag, "--tcp-timeout"))
			dst = &ctl.ct_timeout_tcp_s;
		else if (!strcmp(flag, "--fin-timeout"))
			dst = &ctl.ct_timeout_fin_s;
		else if (!strcmp(flag, "--udp-timeout"))
			dst = &ctl.ct_timeout_udp_s;
		else {
			xlb_err("unknown option \"%s\" for conntrack set", flag);
			return XLB_EXIT_USAGE;
		}
		/* The data plane refreshes a flow's last_seen once per XLB_FLOW_TOUCH_NS. */
		if (!parse_duration_ms(v, 2 * XLB_FLOW_TOUCH_NS / 1000000, 7 * 24 * 3600 * 1000U,
				       &ms)) {
			xlb_err("invalid %s \"%s\": must be 2s to 7 days", flag, v);
			return XLB_EXIT_USAGE;
		}
		*dst = ms / 1000;
	}
	m->ctl = ctl;
	m->config = cfg;
	return XLB_EXIT_OK;
}

const struct verb conntrack_verbs[] = {
	{ "list", NULL, ct_list },
	{ "count", NULL, ct_count },
	{ "flush", NULL, ct_flush },
	{ "set", ct_set },
	{ NULL },
};
