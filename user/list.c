// SPDX-License-Identifier: GPL-2.0
/*
 * xlb list: every VIP with its settings and state (and whether it runs on
 * its backups now), and every backend with its role (primary or backup),
 * weight, drain and health state, active flows and the agent's last probe.
 * The instance line names its encapsulation (attach --encap, --gue-port).
 * A NAT VIP says so (text: "forward nat", JSON "forward" for every VIP), and
 * a backend with a port of its own shows it (text ADDR:PORT, JSON "port").
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>

#include "xlb.h"
#include "nat.h"
#include "out.h"
#include "util.h"

const char *sched_name(__u8 s);
const char *check_name(__u8 c);

const char *health_name(const struct xlb_backend *be, const struct xlb_health *h)
{
	if (be->flags & XLB_BE_F_DOWN)
		return "down";
	return h->state == XLB_HEALTH_UP ? "up" : h->state == XLB_HEALTH_DOWN ? "down" : "unknown";
}

static void list_backend(const struct xlb_inst *in, const struct m_backend *b)
{
	char addr[XLB_ADDR_STRLEN], shown[XLB_VIP_STRLEN], when[32];
	struct xlb_health h = {};
	__u64 active = 0;

	bpf_map_lookup_elem(in->fd[XLB_M_BACKEND_ACTIVE], &b->id, &active);
	bpf_map_lookup_elem(in->fd[XLB_M_HEALTH], &b->id, &h);
	addr_fmt(b->be.addr, b->be.family, addr, sizeof(addr));
	backend_addr_fmt(&b->be, shown, sizeof(shown));
	out_obj_open(NULL);
	out_str("addr", NULL, addr);
	out_text("    %-24s", shown);
	if (b->be.port)
		out_u64("port", NULL, ntohs(b->be.port));
	out_u64("id", NULL, b->id);
	out_str("role", " %-7s", backend_is_backup(&b->be) ? "backup" : "primary");
	out_u64("weight", " weight %-4llu", b->be.weight);
	out_bool("drained", NULL, b->be.flags & XLB_BE_F_DRAINED);
	out_text(" %-7s", b->be.flags & XLB_BE_F_DRAINED ? "drained" : "active");
	out_str("health", " health %-7s", health_name(&b->be, &h));
	out_u64("active_flows", " flows %-6llu", active);
	if (h.last_probe_ns) {
		time_t t = h.last_probe_ns / 1000000000ULL;

		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
		out_str("last_probe", " probed %s", when);
	} else {
		out_null("last_probe", " probed never");
	}
	out_u64("rt_us", b->be.rt_us ? " rt %lluus" : NULL, b->be.rt_us);
	out_text("\n");
	out_obj_close();
}

/* The HTTP(S) settings in effect (status range with its default), then the rest. */
static void list_http_check(const struct xlb_vip_config *c)
{
	bool set = c->status_hi;

	out_u64("status_lo", " status %llu", set ? c->status_lo : XLB_CHECK_STATUS_LO);
	out_u64("status_hi", "-%llu", set ? c->status_hi : XLB_CHECK_STATUS_HI);
	if (c->host[0])
		out_str("host", " host %s", c->host);
	else
		out_null("host", NULL);
	if (c->body[0])
		out_str("expect_body", " body %s", c->body);
	else
		out_null("expect_body", NULL);
	if (c->check != XLB_CHECK_HTTPS)
		return;
	if (c->ca[0])
		out_str("ca", " ca %s", c->ca);
	else
		out_null("ca", NULL);
	out_bool("insecure", NULL, c->check_flags & XLB_CHECK_F_INSECURE);
	out_text("%s", c->check_flags & XLB_CHECK_F_INSECURE ? " insecure" : "");
}

static void list_check(const struct xlb_vip_config *c)
{
	bool http = c->check == XLB_CHECK_HTTP || c->check == XLB_CHECK_HTTPS;

	out_obj_open("check");
	out_str("type", "  check %s", check_name(c->check));
	out_str("path", http ? ":%s" : NULL, c->path);
	out_u64("interval_ms", " every %llums", c->interval_ms);
	out_u64("timeout_ms", " timeout %llums", c->timeout_ms);
	out_u64("rise", " rise %llu", c->rise);
	out_u64("fall", " fall %llu", c->fall);
	if (http)
		list_http_check(c);
	out_obj_close();
}

static void list_vip(const struct xlb_inst *in, const struct model *m, const struct m_vip *v)
{
	char vip[XLB_VIP_STRLEN];

	vip_fmt(&v->key, vip, sizeof(vip));
	out_obj_open(NULL);
	out_str("vip", "  %s", vip);
	out_u64("id", NULL, v->v.id);
	out_str("sched", "  sched %s", sched_name(v->v.sched));
	out_u64("table_size", "  table %llu", v->v.table_size);
	out_bool("conntrack", NULL, !(v->v.flags & XLB_VIP_F_NO_CT));
	out_text("%s", v->v.flags & XLB_VIP_F_NO_CT ? "  conntrack off" : "");
	out_str("forward", v->v.flags & XLB_VIP_F_NAT ? "  forward %s" : NULL,
		forward_name(v->v.flags));
	out_u64("chain_window_s", "  chain %llus", v->v.chain_window_s);
	out_str("down_flows", "  down-flows %s", down_flows_name(v->v.flags));
	out_str("all_down", "  all-down %s", all_down_name(v->v.flags));
	out_str("state", "  state %s", vip_state(m, v));
	out_bool("on_backup", NULL, v->v.flags & XLB_VIP_F_ON_BACKUP);
	out_text("%s", v->v.flags & XLB_VIP_F_ON_BACKUP ? "  on backups" : "");
	list_check(&v->cfg);
	out_text("\n");
	out_arr_open("backends");
	for (size_t i = 0; i < m->nbes; i++)
		if (m->bes[i].be.vip_id == v->v.id)
			list_backend(in, &m->bes[i]);
	out_arr_close();
	out_obj_close();
}

int do_list(int argc, char **argv)
{
	struct xlb_inst in;
	struct model m;

	if (argc > 0) {
		if (is_help(argv[0])) {
			puts("usage: xlb list [--json]");
			return XLB_EXIT_OK;
		}
		xlb_err("unexpected argument \"%s\" (xlb list [--json])", argv[0]);
		return XLB_EXIT_USAGE;
	}
	if (model_open(opts.iface, false, &in, &m))
		return XLB_EXIT_FAIL;
	out_obj_open(NULL);
	out_str("iface", "%s", in.iface);
	out_str("encap", "  encap %s", encap_name(m.ctl.encap));
	out_u64("gue_port", m.ctl.encap == XLB_ENCAP_GUE ? " port %llu" : NULL,
		m.ctl.gue_port ? m.ctl.gue_port : XLB_GUE_PORT_DEFAULT);
	nat_list_instance(in.dir);
	out_text("\n");
	out_arr_open("vips");
	for (size_t i = 0; i < m.nvips; i++)
		list_vip(&in, &m, &m.vips[i]);
	out_arr_close();
	out_obj_close();
	out_done();
	model_close(&in, &m);
	return XLB_EXIT_OK;
}
