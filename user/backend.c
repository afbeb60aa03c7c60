// SPDX-License-Identifier: GPL-2.0
/*
 * xlb backend add|weight|drain|undrain|set|del VIP ADDR. An IPv4 VIP takes IPv4
 * backends (IPIP) and IPv6 ones (4-in-6); an IPv6 VIP only IPv6 backends.
 * Drained backends get no new flows but keep their tracked ones; deleted
 * ones lose their tracked flows to live backends (model_commit). A backend
 * is a primary or a backup (--backup, XLB_BE_F_BACKUP): backups are in the
 * table only while no primary is usable (model_finalize()).
 *
 * ADDR may carry a port (ADDR4:PORT, [ADDR6]:PORT): the port the backend
 * listens on, struct xlb_backend.port, 0 meaning the VIP's. Only a NAT VIP
 * (--forward nat) rewrites the destination port, so only its backends may
 * have another; and NAT keeps the family, so its backends are of the VIP's.
 * A VIP of every port (port 0) forwards each packet to its own port: its
 * backends have none. There is one backend per address and VIP, so the
 * other verbs find it by its address; a port given to them must be the
 * backend's.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "xlb.h"
#include "util.h"

const char backend_usage[] =
	"usage: xlb backend add VIP ADDR [--weight N] [--backup|--primary]   (N 1..1000, default 1)\n"
	"       xlb backend set VIP ADDR --backup|--primary\n"
	"       xlb backend weight VIP ADDR N\n"
	"       xlb backend drain|undrain|del VIP ADDR\n"
	"ADDR: IPv4, IPv6, ADDR4:PORT or [ADDR6]:PORT; a port other than the VIP's needs a NAT VIP\n";

static bool parse_weight(const char *s, __u16 *w)
{
	__u32 v;

	if (!parse_u32(s, 1, XLB_WEIGHT_MAX, &v)) {
		xlb_err("invalid weight \"%s\": must be 1 to %d", s, XLB_WEIGHT_MAX);
		return false;
	}
	*w = v;
	return true;
}

/*
 * VIP and ADDR[:PORT] of argv[1], argv[2]: the VIP must exist; *b is the
 * backend of that address or NULL; *port the port given (host order) or 0.
 */
static int vip_and_addr(struct model *m, int argc, char **argv, int nargs, struct m_vip **v,
			struct xlb_addr *a, __u16 *port, struct m_backend **b)
{
	const char *why;

	if (argc < 3) {
		xlb_err("backend %s needs a VIP and a backend address", argv[0]);
		return XLB_EXIT_USAGE;
	}
	if (argc > nargs) {
		xlb_err("unexpected argument \"%s\"", argv[nargs]);
		return XLB_EXIT_USAGE;
	}
	if (!addr_port_parse(argv[2], a, port, &why)) {
		xlb_err("invalid backend address \"%s\": %s", argv[2], why);
		return XLB_EXIT_USAGE;
	}
	*v = vip_arg(m, argv[1]);
	if (!*v)
		return XLB_EXIT_FAIL;
	*b = model_backend(m, (*v)->v.id, a);
	return XLB_EXIT_OK;
}

/* The role options of add and set: at most one of --backup, --primary. */
struct be_opts {
	__u16 weight;
	bool weight_set;
	int backup;		/* -1: not given, 0: --primary, 1: --backup */
};

static bool parse_role(const char *arg, struct be_opts *o)
{
	int want = !strcmp(arg, "--backup");

	if (o->backup == want) {
		xlb_err("%s given twice", arg);
		return false;
	}
	if (o->backup >= 0) {
		xlb_err("--backup and --primary together: a backend has one role");
		return false;
	}
	o->backup = want;
	return true;
}

/* argv[3..] of add (@weight_ok) or set. */
static int parse_be_opts(int argc, char **argv, bool weight_ok, struct be_opts *o)
{
	const char *verb = weight_ok ? "add VIP ADDR [--weight N] [--backup|--primary]" :
				       "set VIP ADDR --backup|--primary";

	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--backup") || !strcmp(argv[i], "--primary")) {
			if (!parse_role(argv[i], o))
				return XLB_EXIT_USAGE;
		} else if (weight_ok && !strcmp(argv[i], "--weight")) {
			if (o->weight_set) {
				xlb_err("--weight given twice");
				return XLB_EXIT_USAGE;
			}
			if (i + 1 == argc) {
				xlb_err("--weight needs a value (1 to %d)", XLB_WEIGHT_MAX);
				return XLB_EXIT_USAGE;
			}
			if (!parse_weight(argv[++i], &o->weight))
				return XLB_EXIT_USAGE;
			o->weight_set = true;
		} else {
			xlb_err("unexpected argument \"%s\" (backend %s)", argv[i], verb);
			return XLB_EXIT_USAGE;
		}
	}
	return XLB_EXIT_OK;
}

/*
 * The port a new backend @arg of @v is stored with: 0 for none or the VIP's
 * own, else @port in network order if @v can forward to it.
 */
static int new_backend_port(const struct m_vip *v, __u16 port, const char *arg,
			    const char *vip, __be16 *out)
{
	*out = 0;
	if (port && !v->key.port) {
		xlb_err("backend %s: VIP %s is of every port, its backends take each packet's port",
			arg, vip);
		return XLB_EXIT_FAIL;
	}
	if (!port || port == ntohs(v->key.port))
		return XLB_EXIT_OK;
	if (!(v->v.flags & XLB_VIP_F_NAT)) {
		xlb_err("backend %s: port %u is not VIP %s's, and encap forwarding cannot remap ports "
			"(vip set --forward nat)", arg, port, vip);
		return XLB_EXIT_FAIL;
	}
	*out = htons(port);
	return XLB_EXIT_OK;
}

/* The families a VIP takes: IPv4 VIPs IPv6 backends too (4-in-6), but not NAT ones. */
static int check_family(const struct m_vip *v, const struct xlb_addr *a, const char *arg,
			const char *vip)
{
	if (v->key.family == XLB_AF_INET6 && a->family == XLB_AF_INET) {
		xlb_err("backend %s is IPv4 but VIP %s is IPv6: IPv6 cannot be carried in IPv4",
			arg, vip);
		return XLB_EXIT_FAIL;
	}
	if ((v->v.flags & XLB_VIP_F_NAT) && a->family != v->key.family) {
		xlb_err("backend %s is IPv%d but NAT VIP %s is IPv%d: NAT keeps the family",
			arg, a->family, vip, v->key.family);
		return XLB_EXIT_FAIL;
	}
	return XLB_EXIT_OK;
}

static void set_role(struct m_backend *b, bool backup)
{
	if (backup)
		b->be.flags |= XLB_BE_F_BACKUP;
	else
		b->be.flags &= ~XLB_BE_F_BACKUP;
}

static int backend_add(struct model *m, int argc, char **argv)
{
	struct be_opts o = { .weight = 1, .backup = -1 };
	struct xlb_addr a;
	struct m_backend *b;
	struct m_vip *v;
	__be16 bport;
	__u16 port;
	int ret = parse_be_opts(argc, argv, true, &o);

	if (ret)
		return ret;
	argc = argc > 3 ? 3 : argc;
	ret = vip_and_addr(m, argc, argv, 3, &v, &a, &port, &b);
	if (!ret)
		ret = check_family(v, &a, argv[2], argv[1]);
	if (!ret)
		ret = new_backend_port(v, port, argv[2], argv[1], &bport);
	if (ret)
		return ret;
	if (b && !(m->restoring && !b->seen)) {
		xlb_err("backend %s already exists in %s", argv[2], argv[1]);
		return XLB_EXIT_FAIL;
	}
	if (!b) {
		b = model_backend_add(m, v->v.id, &a);
		if (!b)
			return XLB_EXIT_FAIL;
	}
	/* restore re-declares an existing one: the file says all but health. */
	b->seen = true;
	b->be.weight = o.weight;
	b->be.port = bport;
	b->be.flags &= ~XLB_BE_F_DRAINED;
	set_role(b, o.backup == 1);
	if (a.family == XLB_AF_INET ? !m->config.src4 : addr_is_zero(m->config.src6))
		xlb_warn("no IPv%d source address configured: packets to %s are dropped until "
			 "`xlb attach IFACE --source ADDR`", a.family, argv[2]);
	return XLB_EXIT_OK;
}

static int backend_existing(struct model *m, int argc, char **argv, int nargs,
			    struct m_backend **b)
{
	struct xlb_addr a;
	struct m_vip *v;
	__u16 port, own;
	int ret = vip_and_addr(m, argc, argv, nargs, &v, &a, &port, b);

	if (ret)
		return ret;
	if (*b && m->restoring && !(*b)->seen)
		*b = NULL;
	if (!*b) {
		xlb_err("unknown backend %s in %s", argv[2], argv[1]);
		return XLB_EXIT_FAIL;
	}
	own = (*b)->be.port ? ntohs((*b)->be.port) : ntohs(v->key.port);
	if (port && port != own) {
		if (own)
			xlb_err("unknown backend %s in %s: that address is on port %u", argv[2],
				argv[1], own);
		else
			xlb_err("unknown backend %s in %s: VIP of every port, its backends have none",
				argv[2], argv[1]);
		return XLB_EXIT_FAIL;
	}
	return XLB_EXIT_OK;
}

static int backend_weight(struct model *m, int argc, char **argv)
{
	struct m_backend *b;
	__u16 w;
	int ret;

	if (argc != 4) {
		xlb_err("usage: xlb backend weight VIP ADDR N");
		return XLB_EXIT_USAGE;
	}
	if (!parse_weight(argv[3], &w))
		return XLB_EXIT_USAGE;
	ret = backend_existing(m, argc, argv, 4, &b);
	if (ret)
		return ret;
	b->be.weight = w;
	return XLB_EXIT_OK;
}

static int backend_flag(struct model *m, int argc, char **argv, bool drain)
{
	struct m_backend *b;
	int ret = backend_existing(m, argc, argv, 3, &b);

	if (ret)
		return ret;
	if (drain)
		b->be.flags |= XLB_BE_F_DRAINED;
	else
		b->be.flags &= ~XLB_BE_F_DRAINED;
	return XLB_EXIT_OK;
}

static int backend_drain(struct model *m, int argc, char **argv)
{
	return backend_flag(m, argc, argv, true);
}

static int backend_undrain(struct model *m, int argc, char **argv)
{
	return backend_flag(m, argc, argv, false);
}

static int backend_set(struct model *m, int argc, char **argv)
{
	struct be_opts o = { .backup = -1 };
	struct m_backend *b;
	int ret = parse_be_opts(argc, argv, false, &o);

	if (ret)
		return ret;
	if (o.backup < 0) {
		xlb_err("backend set needs --backup or --primary");
		return XLB_EXIT_USAGE;
	}
	ret = backend_existing(m, argc > 3 ? 3 : argc, argv, 3, &b);
	if (ret)
		return ret;
	set_role(b, o.backup);
	return XLB_EXIT_OK;
}

static int backend_del(struct model *m, int argc, char **argv)
{
	struct m_backend *b;
	int ret = backend_existing(m, argc, argv, 3, &b);

	if (ret)
		return ret;
	model_backend_del(m, b);
	return XLB_EXIT_OK;
}

const struct verb backend_verbs[] = {
	{ "add", backend_add },
	{ "weight", backend_weight },
	{ "drain", backend_drain },
	{ "undrain", backend_undrain },
	{ "set", backend_set },
	{ "del", backend_del },
	{ NULL },
};
