// SPDX-License-Identifier: GPL-2.0
/*
 * xlb vip add|set|del: VIPs, their scheduler and health-check settings.
 * A VIP's table size is fixed when it is created (the inner map's size);
 * the rest can change live with `vip set`.
 *
 * --conntrack off makes a VIP stateless: every packet goes by the table and
 * the GUE hop list, so it needs a scheduler whose pick is a function of the
 * packet (maglev, sh) and an instance attached with --encap gue.
 * --chain-window is how long a slot's previous owner stays a hop; it only
 * matters to maglev and sh (wrr, lc and lrt picks are not the flow's slot).
 * --down-flows and --all-down are the DOWN policy (bpf/xlb_abi.h): whether
 * a DOWN backend keeps its tracked flows, and whether a VIP whose every
 * backend is DOWN fails open (to all of them) or drops.
 */
#include <stdio.h>
#include <string.h>

#include "xlb.h"
#include "maglev.h"
#include "util.h"

const char vip_usage[] =
	"usage: xlb vip add VIP [--sched maglev|sh|wrr|lc|lrt] [--table-size N] [--conntrack on|off]\n"
	"                       [--chain-window DURATION] [CHECK...]\n"
	"       xlb vip set VIP [--sched ...] [--conntrack on|off] [--chain-window 240s] [CHECK...]\n"
	"       xlb vip del VIP\n"
	"CHECK: --check tcp|http:PATH|none --interval 2s --timeout 1s --rise 2 --fall 3\n"
	"       (defaults; a UDP VIP's default check is none: a UDP service need not listen on TCP)\n"
	"--table-size: a prime up to 65537 (default 65537); fixed once the VIP exists\n"
	"--conntrack off: stateless (maglev or sh, attach --encap gue); default on\n"
	"--chain-window: 0s to 3600s, whole seconds (default 240s; 0 = no second hop)\n"
	"--down-flows: a DOWN backend's tracked flows stay (default) or move; new flows never go\n"
	"--all-down: every backend DOWN: open (default: to all of them, as if none were) or drop\n";

#define CHAIN_WINDOW_MAX_MS	(3600 * 1000)

static const char *const sched_names[XLB_SCHED_MAX] = {
	[XLB_SCHED_MAGLEV] = "maglev",
	[XLB_SCHED_SH] = "sh",
	[XLB_SCHED_WRR] = "wrr",
	[XLB_SCHED_LC] = "lc",
	[XLB_SCHED_LRT] = "lrt",
};

const char *sched_name(__u8 s)
{
	return s < XLB_SCHED_MAX ? sched_names[s] : "?";
}

const char *down_flows_name(__u8 vip_flags)
{
	return vip_flags & XLB_VIP_F_DOWN_MOVE ? "move" : "stay";
}

const char *all_down_name(__u8 vip_flags)
{
	return vip_flags & XLB_VIP_F_ALL_DOWN_DROP ? "drop" : "open";
}

const char *check_name(__u8 c)
{
	return c == XLB_CHECK_HTTP ? "http" : c == XLB_CHECK_NONE ? "none" : "tcp";
}

struct m_vip *vip_arg(struct model *m, const char *s)
{
	struct xlb_vip_key k;
	const char *why;
	struct m_vip *v;

	if (!vip_parse(s, &k, &why)) {
		xlb_err("invalid VIP \"%s\": %s", s, why);
		return NULL;
	}
	v = model_vip(m, &k);
	/* restore: what the file has not declared does not exist yet. */
	if (v && m->restoring && !v->seen)
		v = NULL;
	if (!v)
		xlb_err("unknown VIP \"%s\"", s);
	return v;
}

static bool parse_check(const char *s, struct xlb_vip_config *cfg)
{
	if (!strcmp(s, "tcp")) {
		cfg->check = XLB_CHECK_TCP;
	} else if (!strcmp(s, "none")) {
		cfg->check = XLB_CHECK_NONE;
	} else if (!strncmp(s, "http:", 5)) {
		const char *path = s + 5;

		if (path[0] != '/' || strlen(path) >= XLB_CHECK_PATH_LEN)
			return false;
		for (const char *c = path; *c; c++)
			if (*c <= ' ' || *c > '~')
				return false;
		cfg->check = XLB_CHECK_HTTP;
		memset(cfg->path, 0, sizeof(cfg->path));
		strcpy(cfg->path, path);
		return true;
	} else {
		return false;
	}
	memset(cfg->path, 0, sizeof(cfg->path));
	return true;
}

static bool parse_chain_window(const char *s, __u32 *out)
{
	__u32 ms;

	if (!parse_duration_ms(s, 0, CHAIN_WINDOW_MAX_MS, &ms) || ms % 1000)
		return false;
	*out = ms / 1000;
	return true;
}

/* A flag set by one word of a pair and cleared by the other (the default). */
static bool parse_flag(const char *s, const char *off, const char *on, __u8 bit, __u8 *flags)
{
	if (!strcmp(s, off))
		*flags &= ~bit;
	else if (!strcmp(s, on))
		*flags |= bit;
	else
		return false;
	return true;
}

static bool parse_conntrack(const char *s, __u8 *flags)
{
	if (!strcmp(s, "on"))
		*flags &= ~XLB_VIP_F_NO_CT;
	else if (!strcmp(s, "off"))
		*flags |= XLB_VIP_F_NO_CT;
	else
		return false;
	return true;
}

/* A stateless VIP needs maglev or sh and a GUE instance. */
static int check_stateless(const struct model *m, const struct xlb_vip *v, const char *vip)
{
	if (!(v->flags & XLB_VIP_F_NO_CT))
		return XLB_EXIT_OK;
	if (v->sched != XLB_SCHED_MAGLEV && v->sched != XLB_SCHED_SH) {
		xlb_err("--conntrack off needs --sched maglev or sh, not %s (VIP %s)",
			sched_name(v->sched), vip);
		return XLB_EXIT_USAGE;
	}
	if (m->ctl.encap != XLB_ENCAP_GUE) {
		xlb_err("--conntrack off needs the instance attached with --encap gue (VIP %s)", vip);
		return XLB_EXIT_FAIL;
	}
	return XLB_EXIT_OK;
}

/* Options of add (with @creating) and set, applied to @v. */
static int vip_options(const struct model *m, struct m_vip *v, bool creating, int argc,
		       char **argv)
{
	struct xlb_vip_config cfg = v->cfg;
	struct xlb_vip nv = v->v;
	__u32 val;
	int ret;

	for (int i = 2; i < argc; i++) {
		const char *flag = argv[i], *arg = next_arg(&i, argc, argv, flag);
		bool ok = true;

		if (!arg)
			return XLB_EXIT_USAGE;
		if (!strcmp(flag, "--sched")) {
			ok = false;
			for (__u8 s = 0; s < XLB_SCHED_MAX; s++) {
				if (!strcmp(arg, sched_names[s])) {
					nv.sched = s;
					ok = true;
				}
			}
		} else if (!strcmp(flag, "--table-size") && creating) {
			ok = parse_u32(arg, 2, XLB_TABLE_SIZE_MAX, &val) && maglev_is_prime(val);
			if (ok)
				nv.table_size = val;
		} else if (!strcmp(flag, "--conntrack")) {
			ok = parse_conntrack(arg, &nv.flags);
		} else if (!strcmp(flag, "--chain-window")) {
			ok = parse_chain_window(arg, &nv.chain_window_s);
		} else if (!strcmp(flag, "--down-flows")) {
			ok = parse_flag(arg, "stay", "move", XLB_VIP_F_DOWN_MOVE, &nv.flags);
		} else if (!strcmp(flag, "--all-down")) {
			ok = parse_flag(arg, "open", "drop", XLB_VIP_F_ALL_DOWN_DROP, &nv.flags);
		} else if (!strcmp(flag, "--check")) {
			ok = parse_check(arg, &cfg);
		} else if (!strcmp(flag, "--interval")) {
			ok = parse_duration_ms(arg, 100, 3600 * 1000, &cfg.interval_ms);
		} else if (!strcmp(flag, "--timeout")) {
			ok = parse_duration_ms(arg, 10, 60 * 1000, &cfg.timeout_ms);
		} else if (!strcmp(flag, "--rise") || !strcmp(flag, "--fall")) {
			ok = parse_u32(arg, 1, 100, &val);
			if (ok && flag[2] == 'r')
				cfg.rise = val;
			else if (ok)
				cfg.fall = val;
		} else {
			xlb_err("unknown option \"%s\" for vip %s", flag, argv[0]);
			return XLB_EXIT_USAGE;
		}
		if (!ok) {
			xlb_err("invalid %s \"%s\"%s", flag, arg,
				!strcmp(flag, "--table-size") ? ": must be a prime from 2 to 65537" :
				!strcmp(flag, "--sched") ? ": must be maglev, sh, wrr, lc or lrt" :
				!strcmp(flag, "--check") ? ": must be tcp, none or http:/PATH" :
				!strcmp(flag, "--conntrack") ? ": must be on or off" :
				!strcmp(flag, "--down-flows") ? ": must be stay or move" :
				!strcmp(flag, "--all-down") ? ": must be open or drop" :
				!strcmp(flag, "--chain-window") ?
					": must be 0s to 3600s in whole seconds" :
				!strcmp(flag, "--interval") ? ": must be 100ms to 3600s" :
				!strcmp(flag, "--timeout") ? ": must be 10ms to 60s" : ": must be 1 to 100");
			return XLB_EXIT_USAGE;
		}
	}
	if (cfg.timeout_ms > cfg.interval_ms) {
		xlb_err("invalid --timeout %ums: longer than the interval (%ums)", cfg.timeout_ms,
			cfg.interval_ms);
		return XLB_EXIT_USAGE;
	}
	ret = check_stateless(m, &nv, argv[1]);
	if (ret)
		return ret;
	v->v = nv;
	v->cfg = cfg;
	return XLB_EXIT_OK;
}

static int vip_add(struct model *m, int argc, char **argv)
{
	struct xlb_vip_key k;
	const char *why;
	struct m_vip *v;

	if (argc < 2) {
		xlb_err("vip add needs a VIP");
		return XLB_EXIT_USAGE;
	}
	if (!vip_parse(argv[1], &k, &why)) {
		xlb_err("invalid VIP \"%s\": %s", argv[1], why);
		return XLB_EXIT_USAGE;
	}
	v = model_vip(m, &k);
	if (v && !(m->restoring && !v->seen)) {
		xlb_err("VIP \"%s\" already exists", argv[1]);
		return XLB_EXIT_FAIL;
	}
	if (v) {
		/* restore re-declares it: same id, settings from the file alone. */
		struct m_vip fresh = *v;
		__u32 id = v->v.id, size = v->v.table_size;
		int ret;

		vip_defaults(&fresh);
		ret = vip_options(m, &fresh, true, argc, argv);
		if (ret)
			return ret;
		if (fresh.v.table_size != size) {
			xlb_err("VIP \"%s\" exists with table size %u, not %u: delete it first",
				argv[1], size, fresh.v.table_size);
			return XLB_EXIT_FAIL;
		}
		fresh.v.id = id;
		fresh.seen = true;
		*v = fresh;
		return XLB_EXIT_OK;
	}
	v = model_vip_add(m, &k);
	if (!v)
		return XLB_EXIT_FAIL;
	return vip_options(m, v, true, argc, argv);
}

static int vip_set(struct model *m, int argc, char **argv)
{
	struct m_vip *v;

	if (argc < 2) {
		xlb_err("vip set needs a VIP");
		return XLB_EXIT_USAGE;
	}
	v = vip_arg(m, argv[1]);
	if (!v)
		return XLB_EXIT_FAIL;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--table-size")) {
			xlb_err("--table-size is fixed once the VIP exists: delete and add it again");
			return XLB_EXIT_USAGE;
		}
	}
	return vip_options(m, v, false, argc, argv);
}

static int vip_del(struct model *m, int argc, char **argv)
{
	struct m_vip *v;

	if (argc != 2) {
		xlb_err("vip del takes exactly one VIP");
		return XLB_EXIT_USAGE;
	}
	v = vip_arg(m, argv[1]);
	if (!v)
		return XLB_EXIT_FAIL;
	model_vip_del(m, v);
	return XLB_EXIT_OK;
}

void vip_save_line(const struct m_vip *v, char *buf, size_t len)
{
	char vip[XLB_VIP_STRLEN], check[XLB_CHECK_PATH_LEN + 8];

	vip_fmt(&v->key, vip, sizeof(vip));
	if (v->cfg.check == XLB_CHECK_HTTP)
		snprintf(check, sizeof(check), "http:%s", v->cfg.path);
	else
		snprintf(check, sizeof(check), "%s", check_name(v->cfg.check));
	snprintf(buf, len,
		 "xlb vip add %s --sched %s --table-size %u --conntrack %s --chain-window %us "
		 "--down-flows %s --all-down %s "
		 "--check %s --interval %ums --timeout %ums --rise %u --fall %u",
		 vip, sched_name(v->v.sched), v->v.table_size,
		 v->v.flags & XLB_VIP_F_NO_CT ? "off" : "on", v->v.chain_window_s,
		 down_flows_name(v->v.flags), all_down_name(v->v.flags), check,
		 v->cfg.interval_ms, v->cfg.timeout_ms, v->cfg.rise, v->cfg.fall);
}

const struct verb vip_verbs[] = {
	{ "add", vip_add },
	{ "set", vip_set },
	{ "del", vip_del },
	{ NULL },
};
