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
 *
 * --forward is how packets reach the backends: encap (IPIP or GUE, the
 * backend answers the client directly) or nat (full NAT, XLB_VIP_F_NAT:
 * the backend runs nothing of ours and may listen on another port). NAT
 * needs conntrack, keeps the family, and a VIP only goes back to encap
 * once no backend has a port of its own (encap cannot remap it).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xlb.h"
#include "maglev.h"
#include "util.h"

const char vip_usage[] =
	"usage: xlb vip add VIP [--sched maglev|sh|wrr|lc|lrt] [--table-size N] [--conntrack on|off]\n"
	"                       [--forward encap|nat] [--chain-window DURATION] [CHECK...]\n"
	"       xlb vip set VIP [--sched ...] [--conntrack on|off] [--forward encap|nat]\n"
	"                       [--chain-window 240s] [CHECK...]\n"
	"       xlb vip del VIP\n"
	"CHECK: --check tcp|http:PATH|https:PATH|none --interval 2s --timeout 1s --rise 2 --fall 3\n"
	"       (defaults; a UDP VIP's default check is none: a UDP service need not listen on TCP)\n"
	"       http(s): --expect-status 200-399 [--expect-body STRING] [--check-host NAME]\n"
	"       https:   [--check-ca FILE] [--check-insecure]; --check resets these to the defaults\n"
	"--table-size: a prime up to 65537 (default 65537); fixed once the VIP exists\n"
	"--conntrack off: stateless (maglev or sh, attach --encap gue); default on\n"
	"--forward: encap (default; the instance's --encap) or nat: full NAT, needs conntrack, backends\n"
	"           of the VIP's family on its port or their own (backend add VIP ADDR:PORT)\n"
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

const char *forward_name(__u8 vip_flags)
{
	return vip_flags & XLB_VIP_F_NAT ? "nat" : "encap";
}

const char *all_down_name(__u8 vip_flags)
{
	return vip_flags & XLB_VIP_F_ALL_DOWN_DROP ? "drop" : "open";
}

const char *check_name(__u8 c)
{
	return c == XLB_CHECK_HTTP ? "http" : c == XLB_CHECK_HTTPS ? "https" :
	       c == XLB_CHECK_NONE ? "none" : "tcp";
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

static bool is_http(__u8 check)
{
	return check == XLB_CHECK_HTTP || check == XLB_CHECK_HTTPS;
}

/* A new check type starts from the defaults of everything that depends on it. */
static void check_reset(struct xlb_vip_config *cfg, __u8 check)
{
	cfg->check = check;
	memset(cfg->path, 0, sizeof(cfg->path));
	cfg->status_lo = cfg->status_hi = 0;
	cfg->check_flags = 0;
	memset(cfg->host, 0, sizeof(cfg->host));
	memset(cfg->body, 0, sizeof(cfg->body));
	memset(cfg->ca, 0, sizeof(cfg->ca));
}

/* Printable, no spaces: what save writes must read back as one word. */
static bool word_ok(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

static bool parse_check(const char *s, struct xlb_vip_config *cfg)
{
	const char *path = NULL;
	__u8 check;

	if (!strcmp(s, "tcp")) {
		check = XLB_CHECK_TCP;
	} else if (!strcmp(s, "none")) {
		check = XLB_CHECK_NONE;
	} else if (!strncmp(s, "http:", 5) || !strncmp(s, "https:", 6)) {
		check = s[4] == ':' ? XLB_CHECK_HTTP : XLB_CHECK_HTTPS;
		path = strchr(s, ':') + 1;
		if (path[0] != '/' || strlen(path) >= XLB_CHECK_PATH_LEN || !word_ok(path))
			return false;
	} else {
		return false;
	}
	check_reset(cfg, check);
	if (path)
		strcpy(cfg->path, path);
	return true;
}

/* The HTTP(S) options of one command, applied after --check whatever their order. */
struct http_opts {
	const char *status, *body, *host, *ca;
	bool insecure;
};

static const char **http_opt(struct http_opts *o, const char *flag)
{
	return !strcmp(flag, "--expect-status") ? &o->status :
	       !strcmp(flag, "--expect-body") ? &o->body :
	       !strcmp(flag, "--check-host") ? &o->host :
	       !strcmp(flag, "--check-ca") ? &o->ca : NULL;
}

#define HTTP_STATUS_MIN	100
#define HTTP_STATUS_MAX	599

static bool parse_status(const char *s, struct xlb_vip_config *cfg)
{
	char lo[sizeof("599")], *dash = strchr(s, '-');
	__u32 l, h;

	if (!dash || (size_t)(dash - s) >= sizeof(lo))
		return false;
	memcpy(lo, s, dash - s);
	lo[dash - s] = '\0';
	if (!parse_u32(lo, HTTP_STATUS_MIN, HTTP_STATUS_MAX, &l) ||
	    !parse_u32(dash + 1, HTTP_STATUS_MIN, HTTP_STATUS_MAX, &h) || l > h)
		return false;
	cfg->status_lo = l;
	cfg->status_hi = h;
	return true;
}

static bool host_ok(const char *h)
{
	if (!h[0] || strlen(h) >= XLB_CHECK_HOST_LEN || h[0] == '-' || h[0] == '.')
		return false;
	for (; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || *h == '-' || *h == '.' || *h == '_'))
			return false;
	return true;
}

/* Copies @s into a field of @size: "" clears it. */
static void set_str(char *field, size_t size, const char *s)
{
	memset(field, 0, size);
	snprintf(field, size, "%s", s);
}

static int bad_opt(const char *flag, const char *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad_opt(const char *flag, const char *arg, const char *fmt, ...)
{
	char why[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (arg)
		xlb_err("invalid %s \"%s\": %s", flag, arg, why);
	else
		xlb_err("invalid %s: %s", flag, why);
	return XLB_EXIT_USAGE;
}

static int http_opts_apply(const struct http_opts *o, struct xlb_vip_config *cfg)
{
	bool http = is_http(cfg->check), https = cfg->check == XLB_CHECK_HTTPS;
	const char *only = "only for http: and https: checks", *only_tls = "only for https: checks";

	if (o->status && !http)
		return bad_opt("--expect-status", o->status, "%s", only);
	if (o->status && !parse_status(o->status, cfg))
		return bad_opt("--expect-status", o->status, "must be LO-HI with %d <= LO <= HI <= %d",
			       HTTP_STATUS_MIN, HTTP_STATUS_MAX);
	if (o->body && !http)
		return bad_opt("--expect-body", o->body, "%s", only);
	if (o->body && strlen(o->body) >= XLB_CHECK_BODY_LEN)
		return bad_opt("--expect-body", o->body, "longer than %d characters",
			       XLB_CHECK_BODY_LEN - 1);
	if (o->body && !word_ok(o->body))
		return bad_opt("--expect-body", o->body, "must be printable characters without spaces");
	if (o->host && !http)
		return bad_opt("--check-host", o->host, "%s", only);
	if (o->host && o->host[0] && !host_ok(o->host))
		return bad_opt("--check-host", o->host, "must be a DNS name of up to %d characters",
			       XLB_CHECK_HOST_LEN - 1);
	if (o->ca && !https)
		return bad_opt("--check-ca", o->ca, "%s", only_tls);
	if (o->ca && o->ca[0] && (o->ca[0] != '/' || strlen(o->ca) >= XLB_CHECK_CA_LEN ||
				  !word_ok(o->ca)))
		return bad_opt("--check-ca", o->ca, "must be an absolute path of up to %d characters, without spaces",
			       XLB_CHECK_CA_LEN - 1);
	if (o->ca && o->ca[0] && access(o->ca, R_OK))
		return bad_opt("--check-ca", o->ca, "%s", strerror(errno));
	if (o->insecure && !https)
		return bad_opt("--check-insecure", NULL, "%s", only_tls);
	if (o->body)
		set_str(cfg->body, sizeof(cfg->body), o->body);
	if (o->host)
		set_str(cfg->host, sizeof(cfg->host), o->host);
	if (o->ca)
		set_str(cfg->ca, sizeof(cfg->ca), o->ca);
	if (o->insecure)
		cfg->check_flags |= XLB_CHECK_F_INSECURE;
	return XLB_EXIT_OK;
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

/*
 * A NAT VIP tracks every flow and keeps the family; an encap VIP forwards
 * to its backends' addresses on its own port. The backends of @id in @m
 * as they are (restore: those the file has declared so far).
 */
static int check_forward(const struct model *m, __u32 id, const struct xlb_vip_key *k,
			 const struct xlb_vip *v, const char *vip)
{
	bool nat = v->flags & XLB_VIP_F_NAT;
	char be[XLB_VIP_STRLEN];

	if (nat && (v->flags & XLB_VIP_F_NO_CT)) {
		xlb_err("--forward nat needs conntrack: not with --conntrack off (VIP %s)", vip);
		return XLB_EXIT_USAGE;
	}
	for (size_t i = 0; i < m->nbes; i++) {
		const struct m_backend *b = &m->bes[i];

		if (b->be.vip_id != id || (m->restoring && !b->seen))
			continue;
		backend_addr_fmt(&b->be, be, sizeof(be));
		if (nat && b->be.family != k->family) {
			xlb_err("--forward nat keeps the family: backend %s of VIP %s is IPv%d",
				be, vip, b->be.family);
			return XLB_EXIT_FAIL;
		}
		if (!nat && b->be.port) {
			xlb_err("--forward encap cannot remap ports: backend %s of VIP %s is not on "
				"port %u", be, vip, ntohs(k->port));
			return XLB_EXIT_FAIL;
		}
	}
	return XLB_EXIT_OK;
}

/* Options of add (with @creating) and set, applied to @v. */
static int vip_options(const struct model *m, struct m_vip *v, bool creating, int argc,
		       char **argv)
{
	struct xlb_vip_config cfg = v->cfg;
	struct http_opts ho = {};
	const char **hslot;
	struct xlb_vip nv = v->v;
	__u32 val;
	int ret;

	for (int i = 2; i < argc; i++) {
		const char *flag = argv[i], *arg;
		bool ok = true;

		if (!strcmp(flag, "--check-insecure")) {	/* the one option without a value */
			ho.insecure = true;
			continue;
		}
		arg = next_arg(&i, argc, argv, flag);
		if (!arg)
			return XLB_EXIT_USAGE;
		hslot = http_opt(&ho, flag);
		if (hslot) {
			*hslot = arg;
		} else if (!strcmp(flag, "--sched")) {
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
		} else if (!strcmp(flag, "--forward")) {
			ok = parse_flag(arg, "encap", "nat", XLB_VIP_F_NAT, &nv.flags);
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
				!strcmp(flag, "--check") ? ": must be tcp, none, http:/PATH or https:/PATH" :
				!strcmp(flag, "--conntrack") ? ": must be on or off" :
				!strcmp(flag, "--forward") ? ": must be encap or nat" :
				!strcmp(flag, "--down-flows") ? ": must be stay or move" :
				!strcmp(flag, "--all-down") ? ": must be open or drop" :
				!strcmp(flag, "--chain-window") ?
					": must be 0s to 3600s in whole seconds" :
				!strcmp(flag, "--interval") ? ": must be 100ms to 3600s" :
				!strcmp(flag, "--timeout") ? ": must be 10ms to 60s" : ": must be 1 to 100");
			return XLB_EXIT_USAGE;
		}
	}
	if (http_opts_apply(&ho, &cfg))
		return XLB_EXIT_USAGE;
	if (cfg.timeout_ms > cfg.interval_ms) {
		xlb_err("invalid --timeout %ums: longer than the interval (%ums)", cfg.timeout_ms,
			cfg.interval_ms);
		return XLB_EXIT_USAGE;
	}
	ret = check_forward(m, v->v.id, &v->key, &nv, argv[1]);
	if (!ret)
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

/* The HTTP(S) options of a save line, appended to @buf. */
static void http_save_opts(const struct xlb_vip_config *cfg, char *buf, size_t len)
{
	size_t n = strlen(buf);

	if (!is_http(cfg->check))
		return;
	n += snprintf(buf + n, n < len ? len - n : 0, " --expect-status %u-%u",
		      cfg->status_hi ? cfg->status_lo : XLB_CHECK_STATUS_LO,
		      cfg->status_hi ? cfg->status_hi : XLB_CHECK_STATUS_HI);
	if (cfg->host[0])
		n += snprintf(buf + n, n < len ? len - n : 0, " --check-host %s", cfg->host);
	if (cfg->body[0])
		n += snprintf(buf + n, n < len ? len - n : 0, " --expect-body %s", cfg->body);
	if (cfg->ca[0])
		n += snprintf(buf + n, n < len ? len - n : 0, " --check-ca %s", cfg->ca);
	if (cfg->check_flags & XLB_CHECK_F_INSECURE)
		snprintf(buf + n, n < len ? len - n : 0, " --check-insecure");
}

void vip_save_line(const struct m_vip *v, char *buf, size_t len)
{
	char vip[XLB_VIP_STRLEN], check[XLB_CHECK_PATH_LEN + 8];

	vip_fmt(&v->key, vip, sizeof(vip));
	if (is_http(v->cfg.check))
		snprintf(check, sizeof(check), "%s:%s", check_name(v->cfg.check), v->cfg.path);
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
	if (v->v.flags & XLB_VIP_F_NAT) {
		size_t n = strlen(buf);

		snprintf(buf + n, n < len ? len - n : 0, " --forward nat");
	}
	http_save_opts(&v->cfg, buf, len);
}

const struct verb vip_verbs[] = {
	{ "add", vip_add },
	{ "set", vip_set },
	{ "del", vip_del },
	{ NULL },
};
