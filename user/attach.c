// SPDX-License-Identifier: GPL-2.0
/*
 * xlb attach / detach: put the balancer on an interface with its maps pinned
 * under /sys/fs/bpf/xlb/IFACE/, or take it off and remove them. Attaching an
 * attached interface upgrades the program in place and keeps every map, so
 * configuration and tracked flows survive.
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
#include "nl.h"
#include "util.h"

#define XLB_PROG_NAME "xlb_balance"

struct attach_args {
	const char *iface;
	enum xdp_attach_mode mode;	/* UNSPEC: keep the current one, else native */
	struct xlb_addr src4, src6;	/* --source, family 0 when not given */
	__u32 ct_size;			/* 0: keep the current one, else the default */
};

static int parse_attach(int argc, char **argv, struct attach_args *a)
{
	struct xlb_addr addr;
	const char *why, *v;

	memset(a, 0, sizeof(*a));
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
		} else if (argv[i][0] == '-' || a->iface) {
			xlb_err("unexpected argument \"%s\" (xlb attach IFACE [--mode native|generic] "
				"[--source ADDR ...] [--conntrack-size N])", argv[i]);
			return -1;
		} else {
			a->iface = argv[i];
		}
	}
	if (!a->iface) {
		xlb_err("attach needs an interface");
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
	char dir[128], why[256];
	__u32 cur_ct;
	int ifindex, lock, err, ret = XLB_EXIT_FAIL;
	bool upgrade;

	if (argc > 0 && is_help(argv[0])) {
		puts("usage: xlb attach IFACE [--mode native|generic] [--source ADDR ...] [--conntrack-size N]");
		return XLB_EXIT_OK;
	}
	if (parse_attach(argc, argv, &a))
		return XLB_EXIT_USAGE;
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
	cur_ct = pinned_max_entries(dir, "conntrack");
	cur = xdp_mode_of(ifindex, XLB_PROG_NAME);
	upgrade = cur != XDP_MODE_UNSPEC;
	if (cur_ct && a.ct_size && a.ct_size != cur_ct) {
		xlb_err("--conntrack-size %u differs from the attached instance's %u: detach first",
			a.ct_size, cur_ct);
		goto out;
	}
	mode = a.mode ? a.mode : upgrade ? cur : XDP_MODE_NATIVE;

	skel = xlb_bpf__open();
	if (!skel) {
		xlb_err("cannot open the balancer program: %s", strerror(errno));
		goto out;
	}
	bpf_map__set_max_entries(skel->maps.conntrack,
				 a.ct_size ? a.ct_size : cur_ct ? cur_ct : XLB_CT_SIZE);
	bpf_map__set_max_entries(skel->maps.ct_new,
				 XLB_CT_NEW_SIZE(bpf_map__max_entries(skel->maps.conntrack)));
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
	if (configure(&a, ifindex, mode) || host_forwarding_ensure(a.iface))
		goto out;
	veth_peer_fix(a.iface, ifindex);
	printf("%s %s in %s mode, maps in %s\n", upgrade ? "upgraded" : "attached", a.iface,
	       xdp_mode_name(mode), dir);
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
	char dir[128];
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
	lock = inst_lock(argv[0]);
	if (lock < 0)
		return XLB_EXIT_FAIL;
	bpf_libs_quiet();
	pin_dir(XLB_PIN_ROOT, argv[0], dir, sizeof(dir));
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
	if (pinned && pin_dir_remove(dir))
		xlb_warn("could not remove every pin in %s", dir);
	printf("detached %s\n", argv[0]);
	close(lock);
	return XLB_EXIT_OK;
}
