// SPDX-License-Identifier: GPL-2.0
/*
 * xlb attach / detach: put the balancer on an interface with its maps pinned
 * under /sys/fs/bpf/xlb/IFACE/, or take it off and remove them. Attaching an
 * attached interface upgrades the program in place and keeps every map, so
 * configuration and tracked flows survive.
 *
 * The encapsulation (--encap ipip|gue, --gue-port) is the program's own
 * read-only data, set here before load and kept in `ctl`: an upgrade
 * without --encap loads the new program with the instance's choice, one
 * with it switches (the maps stay).
 *
 * Full NAT (user/nat_attach.c): --snat / --snat-ports write the snat map
 * (only what is given changes), --nat-size sizes nat_flows like
 * --conntrack-size sizes conntrack, and --peer-of runs an instance's
 * program on a second interface.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xlb.h"
#include "host.h"
#include "veth.h"
#include "xlb.skel.h"
#include "xdp_load.h"
#include "table.h"
#include "flowtable.h"
#include "ct.h"
#include "nl.h"
#include "nat.h"
#include "util.h"

#define XLB_PROG_NAME "xlb_balance"
#define ATTACH_USAGE "xlb attach IFACE [--mode native|generic] [--source ADDR ...] " \
	"[--conntrack-size N] [--encap ipip|gue] [--gue-port N] [--snat ADDR ...] " \
	"[--snat-ports LO-HI] [--nat-size N] | xlb attach IFACE2 --peer-of IFACE1 [--mode M]"
#define ENCAP_KEEP	(-1)
#define NAT_SIZE_MAX	(1u << 28)

struct attach_args {
	const char *iface;
	enum xdp_attach_mode mode;	/* UNSPEC: keep the current one, else native */
	struct xlb_addr src4, src6;	/* --source, family 0 when not given */
	__u32 ct_size;			/* 0: keep the current one, else the default */
	int encap;			/* enum xlb_encap, ENCAP_KEEP: the current one */
	__u32 gue_port;			/* 0: the current one, else the default */
	struct snat_args snat;		/* --snat, --snat-ports: what changes */
	__u32 nat_size;			/* 0: keep the current one, else the default */
	const char *peer_of;		/* --peer-of IFACE1 */
};

const char *encap_name(__u32 encap)
{
	return encap == XLB_ENCAP_GUE ? "gue" : "ipip";
}

/* --snat, --snat-ports, --nat-size, --peer-of: 1 if argv[*i] was one, 0 if not, -1 on error. */
static int parse_attach_nat(int *i, int argc, char **argv, struct attach_args *a)
{
	const char *flag = argv[*i], *v;

	if (strcmp(flag, "--snat") && strcmp(flag, "--snat-ports") && strcmp(flag, "--nat-size") &&
	    strcmp(flag, "--peer-of"))
		return 0;
	if (!(v = next_arg(i, argc, argv, flag)))
		return -1;
	if (!strcmp(flag, "--snat"))
		return snat_parse_addr(v, &a->snat) ? -1 : 1;
	if (!strcmp(flag, "--snat-ports"))
		return snat_parse_ports(v, &a->snat) ? -1 : 1;
	if (!strcmp(flag, "--peer-of")) {
		a->peer_of = v;
		return 1;
	}
	if (!parse_u32(v, XLB_NAT_SIZE_MIN, NAT_SIZE_MAX, &a->nat_size)) {
		xlb_err("invalid --nat-size \"%s\": must be %u to %u", v, XLB_NAT_SIZE_MIN,
			NAT_SIZE_MAX);
		return -1;
	}
	return 1;
}

/* --peer-of shares the instance's program: nothing of its own but --mode. */
static int check_peer_of(const struct attach_args *a)
{
	if (!strcmp(a->peer_of, a->iface)) {
		xlb_err("--peer-of %s: an interface cannot be its own peer", a->peer_of);
		return -1;
	}
	if (a->src4.family || a->src6.family || a->ct_size || a->encap != ENCAP_KEEP ||
	    a->gue_port || a->snat.addrs_set || a->snat.ports_set || a->nat_size) {
		xlb_err("--peer-of %s takes no option but --mode: the instance's settings apply",
			a->peer_of);
		return -1;
	}
	return 0;
}

static int parse_attach(int argc, char **argv, struct attach_args *a)
{
	struct xlb_addr addr;
	const char *why, *v;
	int nat;

	memset(a, 0, sizeof(*a));
	a->encap = ENCAP_KEEP;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--mode")) {
			if (!(v = next_arg(&i, argc, argv, "--mode")))
				return -1;
			if (!strcmp(v, "native")) {
				a->mode = XDP_MODE_NATIVE;
			} else if (!strcmp(v, "generic")) {
				a->mode = XDP_MODE_SKB;
			} else {
				xlb_err("invalid --mode \"%s\": must be native or generic", v);
				return -1;
			}
		} else if (!strcmp(argv[i], "--source")) {
			if (!(v = next_arg(&i, argc, argv, "--source")))
				return -1;
			if (!addr_parse(v, &addr, &why)) {
				xlb_err("invalid --source \"%s\": %s", v, why);
				return -1;
			}
			if ((addr.family == XLB_AF_INET ? &a->src4 : &a->src6)->family) {
				xlb_err("--source \"%s\": one address per family", v);
				return -1;
			}
			*(addr.family == XLB_AF_INET ? &a->src4 : &a->src6) = addr;
		} else if (!strcmp(argv[i], "--conntrack-size")) {
			if (!(v = next_arg(&i, argc, argv, "--conntrack-size")))
				return -1;
			if (!parse_u32(v, 1024, 1u << 28, &a->ct_size)) {
				xlb_err("invalid --conntrack-size \"%s\": must be 1024 to 268435456", v);
				return -1;
			}
		} else if (!strcmp(argv[i], "--encap")) {
			if (!(v = next_arg(&i, argc, argv, "--encap")))
				return -1;
			if (!strcmp(v, "ipip")) {
				a->encap = XLB_ENCAP_IPIP;
			} else if (!strcmp(v, "gue")) {
				a->encap = XLB_ENCAP_GUE;
			} else {
				xlb_err("invalid --encap \"%s\": must be ipip or gue", v);
				return -1;
			}
		} else if (!strcmp(argv[i], "--gue-port")) {
			if (!(v = next_arg(&i, argc, argv, "--gue-port")))
				return -1;
			if (!parse_u32(v, 1, 65535, &a->gue_port)) {
				xlb_err("invalid --gue-port \"%s\": must be 1 to 65535", v);
				return -1;
			}
		} else if ((nat = parse_attach_nat(&i, argc, argv, a))) {
			if (nat < 0)
				return -1;
		} else if (argv[i][0] == '-' || a->iface) {
			xlb_err("unexpected argument \"%s\" (" ATTACH_USAGE ")", argv[i]);
			return -1;
		} else {
			a->iface = argv[i];
		}
	}
	if (!a->iface) {
		xlb_err("attach needs an interface");
		return -1;
	}
	if (a->gue_port && a->encap == XLB_ENCAP_IPIP) {
		xlb_err("--gue-port %u needs --encap gue", a->gue_port);
		return -1;
	}
	return a->peer_of ? check_peer_of(a) : 0;
}

/* The instance's ctl entry, zero when there is none yet. */
static void pinned_ctl(const char *dir, struct xlb_ctl *ctl)
{
	char path[256];
	__u32 zero = 0;
	int fd;

	memset(ctl, 0, sizeof(*ctl));
	snprintf(path, sizeof(path), "%s/ctl", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return;
	if (bpf_map_lookup_elem(fd, &zero, ctl))
		memset(ctl, 0, sizeof(*ctl));
	close(fd);
}

/* A stateless (--conntrack off) VIP of the pinned instance, formatted into @buf; false if none. */
static bool pinned_stateless_vip(const char *dir, char *buf, size_t len)
{
	struct xlb_vip_key key, *prev = NULL;
	struct xlb_vip v;
	char path[256];
	bool found = false;
	int fd;

	snprintf(path, sizeof(path), "%s/vips", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	while (!found && !bpf_map_get_next_key(fd, prev, &key)) {
		if (!bpf_map_lookup_elem(fd, &key, &v) && (v.flags & XLB_VIP_F_NO_CT)) {
			vip_fmt(&key, buf, len);
			found = true;
		}
		prev = &key;
	}
	close(fd);
	return found;
}

/*
 * Give every table of the pinned instance the tail line this build's
 * program reads (table_add_tail()): an older xlb made them without one, and
 * the program would then read every GUE pick's previous owner. Done before
 * the program is replaced; the old one reads a table with a tail the same.
 */
static int pinned_tables_add_tails(const char *dir)
{
	struct xlb_vip_key key, *prev = NULL;
	char path[256], name[XLB_VIP_STRLEN];
	int vips, tables, err = 0;
	struct xlb_vip v;

	snprintf(path, sizeof(path), "%s/vips", dir);
	vips = bpf_obj_get(path);
	snprintf(path, sizeof(path), "%s/tables", dir);
	tables = bpf_obj_get(path);
	while (vips >= 0 && tables >= 0 && !err && !bpf_map_get_next_key(vips, prev, &key)) {
		if (!bpf_map_lookup_elem(vips, &key, &v))
			err = table_add_tail(tables, v.id, v.table_size);
		err = err > 0 ? 0 : err;
		if (err) {
			vip_fmt(&key, name, sizeof(name));
			xlb_err("cannot give the table of VIP %s a tail line: %s", name,
				strerror(-err));
		}
		prev = &key;
	}
	if (vips >= 0)
		close(vips);
	if (tables >= 0)
		close(tables);
	return err;
}

/*
 * Whether the pinned `tables` map takes tables of this build's slot layout
 * (struct xlb_table_line): an instance attached by an older xlb has slots of
 * 4 or 12 bytes, and an upgrade in place would load but never take a new table. Probed at
 * the last VIP id (the one least likely to be in use): its table's value
 * size if it has one, else by putting a one-slot table there and removing
 * it (we hold the instance lock; no VIP names that id).
 */
static bool pinned_tables_compatible(const char *dir)
{
	struct bpf_map_info info = {};
	__u32 key = XLB_MAX_VIPS - 1, none = XLB_BACKEND_NONE, id, len = sizeof(info);
	char path[256];
	bool ok = true;
	int fd, inner;

	snprintf(path, sizeof(path), "%s/tables", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return true;	/* a fresh instance */
	if (!bpf_map_lookup_elem(fd, &key, &id)) {
		inner = bpf_map_get_fd_by_id(id);
		if (inner >= 0 && !bpf_obj_get_info_by_fd(inner, &info, &len))
			ok = info.value_size == sizeof(struct xlb_table_line);
		if (inner >= 0)
			close(inner);
	} else {
		inner = table_map_new(&none, 1);
		if (inner >= 0) {
			ok = !bpf_map_update_elem(fd, &key, &inner, BPF_ANY);
			if (ok)
				bpf_map_delete_elem(fd, &key);
			close(inner);
		}
	}
	close(fd);
	return ok;
}

/*
 * Whether the pinned flow table @name (conntrack, ct_new), if any, is this
 * build's (user/lib/flowtable.h): an instance attached by an older xlb
 * tracks flows in LRU hashes, which this program cannot read.
 */
static bool pinned_flowtable_compatible(const char *dir, const char *name)
{
	char path[256];
	int fd, err;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return true;	/* a fresh instance */
	err = flowtable_check(fd, NULL);
	close(fd);
	return err != -EINVAL;
}

/* Whether @dir has a pin @name. */
static bool pinned(const char *dir, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

/*
 * An instance with VIPs but no VIP index was attached by an xlb whose
 * program looked VIPs up in the vips hash: this program would find none
 * of them until a commit built the index, so it is not upgraded in place.
 * A fresh instance has neither.
 */
static bool pinned_vip_index_present(const char *dir)
{
	return pinned(dir, "vip_index") || !pinned(dir, "vips");
}

/*
 * The encapsulation and GUE port to load with: what was asked, else the
 * instance's. IPIP cannot serve a stateless VIP (no hop list). -1 after an
 * error line.
 */
static int resolve_encap(struct attach_args *a, const char *dir)
{
	char vip[XLB_VIP_STRLEN];
	struct xlb_ctl ctl;

	pinned_ctl(dir, &ctl);
	if (a->encap == ENCAP_KEEP)
		a->encap = ctl.encap == XLB_ENCAP_GUE ? XLB_ENCAP_GUE : XLB_ENCAP_IPIP;
	if (a->gue_port && a->encap == XLB_ENCAP_IPIP) {
		xlb_err("--gue-port %u needs --encap gue (%s is ipip)", a->gue_port, a->iface);
		return -1;
	}
	if (!a->gue_port)
		a->gue_port = ctl.gue_port ? ctl.gue_port : XLB_GUE_PORT_DEFAULT;
	if (a->encap == XLB_ENCAP_IPIP && ctl.encap == XLB_ENCAP_GUE &&
	    pinned_stateless_vip(dir, vip, sizeof(vip))) {
		xlb_err("--encap ipip: VIP %s has --conntrack off, which needs --encap gue", vip);
		return -1;
	}
	return 0;
}

/* max_entries of a pinned map, 0 if it is not there. */
static __u32 pinned_max_entries(const char *dir, const char *name)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.max_entries = 0;
	close(fd);
	return info.max_entries;
}

/* Sources and defaults after a (re)attach: only what the user asked changes. */
static int configure(const struct attach_args *a, int ifindex, enum xdp_attach_mode mode)
{
	__u32 src4 = 0, src6[4] = {};
	struct model old, new;
	struct xlb_inst in;
	int ret = -1;

	if (model_open(a->iface, false, &in, &old))
		return -1;
	if (model_copy(&old, &new))
		goto out;
	/*
	 * Each family on its own: --source of one family keeps the other's,
	 * and a family with none yet takes the interface's address.
	 */
	if ((!a->src4.family && !new.config.src4) ||
	    (!a->src6.family && addr_is_zero(new.config.src6)))
		nl_iface_addrs(ifindex, &src4, src6);
	if (a->src4.family)
		new.config.src4 = a->src4.a[0];
	else if (!new.config.src4)
		new.config.src4 = src4;
	if (a->src6.family)
		memcpy(new.config.src6, a->src6.a, sizeof(new.config.src6));
	else if (addr_is_zero(new.config.src6))
		memcpy(new.config.src6, src6, sizeof(src6));
	if (!new.ctl.ct_timeout_tcp_s) {
		new.ctl.ct_timeout_tcp_s = XLB_CT_TIMEOUT_TCP_S;
		new.ctl.ct_timeout_fin_s = XLB_CT_TIMEOUT_FIN_S;
		new.ctl.ct_timeout_udp_s = XLB_CT_TIMEOUT_UDP_S;
		new.config.ct_promote_after = XLB_CT_PROMOTE_AFTER_DEFAULT;
	}
	new.ctl.xdp_mode = mode;
	new.ctl.netns_cookie = netns_cookie_self();
	new.ctl.encap = a->encap;
	new.ctl.gue_port = a->gue_port;
	ret = model_commit(&in, &old, &new);
	if (!ret)
		model_ensure_neighbours(&new, NULL);
	if (!ret && !new.config.src4 && addr_is_zero(new.config.src6))
		xlb_warn("%s has no address to use as the tunnels' source: give --source ADDR",
			 a->iface);
	model_free(&new);
out:
	model_close(&in, &old);
	return ret;
}

int do_attach(int argc, char **argv)
{
	struct attach_args a;
	struct xlb_bpf *skel = NULL;
	enum xdp_attach_mode mode, cur;
	char dir[128], why[256], owner[IF_NAMESIZE + 1];
	__u32 cur_ct, cur_nat, ct_size = 0;
	int ifindex, lock, err, ret = XLB_EXIT_FAIL;
	bool upgrade;

	if (argc > 0 && is_help(argv[0])) {
		puts("usage: " ATTACH_USAGE);
		return XLB_EXIT_OK;
	}
	if (parse_attach(argc, argv, &a))
		return XLB_EXIT_USAGE;
	if (a.peer_of)
		return peer_attach(a.iface, a.peer_of, a.mode);
	if (need_root() || bpffs_ensure(true))
		return XLB_EXIT_FAIL;
	ifindex = if_nametoindex(a.iface);
	if (!ifindex) {
		xlb_err("no interface \"%s\"", a.iface);
		return XLB_EXIT_FAIL;
	}
	lock = inst_lock(a.iface);
	if (lock < 0)
		return XLB_EXIT_FAIL;
	bpf_libs_quiet();
	pin_dir(XLB_PIN_ROOT, a.iface, dir, sizeof(dir));
	/* Never load into, nor on failure remove, another namespace's pins. */
	if (pin_dir_owned(dir, a.iface, false))
		goto out;
	if (access(dir, F_OK) && peer_owner_find(a.iface, owner, sizeof(owner))) {
		xlb_err("%s already has xlb (a peer of %s): detach it first", a.iface, owner);
		goto out;
	}
	cur_ct = pinned_max_entries(dir, "conntrack");
	cur = xdp_mode_of(ifindex, XLB_PROG_NAME);
	upgrade = cur != XDP_MODE_UNSPEC;
	/* The flow table's buckets need a power of two: the size asked, rounded up. */
	if (a.ct_size)
		ct_size = flowtable_size_for(a.ct_size);
	if (cur_ct && ct_size && ct_size != cur_ct) {
		xlb_err("--conntrack-size %u (%u entries) differs from the attached instance's %u: "
			"detach first", a.ct_size, ct_size, cur_ct);
		goto out;
	}
	cur_nat = pinned_max_entries(dir, "nat_flows");
	if (cur_nat && a.nat_size && a.nat_size != cur_nat) {
		xlb_err("--nat-size %u differs from the attached instance's %u: detach first",
			a.nat_size, cur_nat);
		goto out;
	}
	mode = a.mode ? a.mode : upgrade ? cur : XDP_MODE_NATIVE;
	if (resolve_encap(&a, dir))
		goto out;
	if (!pinned_tables_compatible(dir) || !pinned_flowtable_compatible(dir, "conntrack") ||
	    !pinned_flowtable_compatible(dir, CT_YOUNG_MAP) || !pinned_vip_index_present(dir)) {
		xlb_err("%s was attached by an older xlb (another table layout): save, detach, "
			"attach and restore it", a.iface);
		goto out;
	}
	if (pinned_tables_add_tails(dir))
		goto out;

	skel = xlb_bpf__open();
	if (!skel) {
		xlb_err("cannot open the balancer program: %s", strerror(errno));
		goto out;
	}
	skel->rodata->xlb_encap = a.encap;
	skel->rodata->xlb_gue_port = a.gue_port;
	bpf_map__set_max_entries(skel->maps.conntrack,
				 ct_size ? ct_size : cur_ct ? cur_ct : XLB_CT_SIZE);
	bpf_map__set_max_entries(skel->maps.ct_new,
				 XLB_CT_NEW_SIZE(bpf_map__max_entries(skel->maps.conntrack)));
	bpf_map__set_max_entries(skel->maps.nat_flows,
				 a.nat_size ? a.nat_size : cur_nat ? cur_nat : XLB_NAT_SIZE_DEFAULT);
	err = obj_pin_maps(skel->obj, dir);
	if (err) {
		xlb_err("cannot use pin directory %s: %s", dir, strerror(-err));
		goto out;
	}
	err = xdp_attach_replace(skel->obj, XLB_PROG_NAME, ifindex, mode, why, sizeof(why));
	if (err) {
		if (mode == XDP_MODE_NATIVE && !a.mode && !upgrade)
			xlb_err("%s: native XDP attach failed (%s); if the driver lacks native XDP, "
				"use --mode generic", a.iface, why);
		else
			xlb_err("%s: attach failed: %s", a.iface, why);
		if (!upgrade)
			pin_dir_remove(dir);
		goto out;
	}
	if (configure(&a, ifindex, mode) || snat_apply(dir, ifindex, &a.snat) ||
	    host_forwarding_ensure(a.iface) ||
	    (a.encap == XLB_ENCAP_GUE && host_accept_local_ensure(a.iface)))
		goto out;
	veth_peer_fix(a.iface, ifindex);
	peers_follow(dir, ifindex, mode);
	printf("%s %s in %s mode, encap %s", upgrade ? "upgraded" : "attached", a.iface,
	       xdp_mode_name(mode), encap_name(a.encap));
	if (a.encap == XLB_ENCAP_GUE)
		printf(" (port %u)", a.gue_port);
	printf(", maps in %s\n", dir);
	ret = XLB_EXIT_OK;
out:
	xlb_bpf__destroy(skel);
	close(lock);
	return ret;
}

int do_detach(int argc, char **argv)
{
	struct model m = {};
	struct xlb_inst in;
	char dir[128], owner[IF_NAMESIZE + 1];
	int ifindex, lock, n = 0;
	bool pinned;

	if (argc != 1 || is_help(argv[0])) {
		if (argc == 1)
			puts("usage: xlb detach IFACE");
		else
			xlb_err("usage: xlb detach IFACE");
		return argc == 1 ? XLB_EXIT_OK : XLB_EXIT_USAGE;
	}
	if (need_root() || bpffs_ensure(false))
		return XLB_EXIT_FAIL;
	pin_dir(XLB_PIN_ROOT, argv[0], dir, sizeof(dir));
	/* A peer (attach --peer-of) has no pins of its own: its instance records it. */
	if (access(dir, F_OK) && peer_owner_find(argv[0], owner, sizeof(owner)))
		return peer_detach(argv[0], owner);
	lock = inst_lock(argv[0]);
	if (lock < 0)
		return XLB_EXIT_FAIL;
	bpf_libs_quiet();
	pinned = access(dir, F_OK) == 0;
	if (pinned && pin_dir_owned(dir, argv[0], false)) {
		close(lock);
		return XLB_EXIT_FAIL;
	}
	ifindex = if_nametoindex(argv[0]);
	if (ifindex)
		n = xdp_detach_named(ifindex, XLB_PROG_NAME);
	if (n > 0)
		veth_peer_release(argv[0], ifindex);
	if (!pinned && n <= 0) {
		xlb_err("interface \"%s\" is not attached", argv[0]);
		close(lock);
		return XLB_EXIT_FAIL;
	}
	/* The managed neighbour entries were ours: give them back. */
	if (pinned && !model_open(argv[0], false, &in, &m)) {
		for (size_t i = 0; i < m.nbes; i++)
			nl_neigh_release(m.bes[i].be.family, m.bes[i].be.addr);
		model_close(&in, &m);
	}
	if (pinned)
		peers_detach_all(dir);
	if (pinned && pin_dir_remove(dir))
		xlb_warn("could not remove every pin in %s", dir);
	printf("detached %s\n", argv[0]);
	close(lock);
	return XLB_EXIT_OK;
}
