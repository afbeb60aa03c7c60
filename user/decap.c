// SPDX-License-Identifier: GPL-2.0
/*
 * xlb decap attach|detach IFACE, on a backend host: the decap program strips
 * the balancer's outer header from packets to this interface's addresses
 * (learnt at attach), so a host with the VIP on lo serves it with no ipip
 * module. Its maps are pinned under /sys/fs/bpf/xlb/decap/IFACE/.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xlb.h"
#include "decap.skel.h"
#include "xdp_load.h"
#include "nl.h"
#include "util.h"

#define DECAP_PROG_NAME "xlb_decap"

const char decap_usage[] =
	"usage: xlb decap attach IFACE [--mode native|generic]\n"
	"       xlb decap detach IFACE\n";

/* The interface's addresses, as of now, are the tunnels' endpoints. */
static int learn_addrs(int map_fd, int ifindex, const char *iface)
{
	__u32 addrs[XLB_MAX_DECAP_ADDRS][4];
	__u8 fam[XLB_MAX_DECAP_ADDRS], one = 1;
	int n = nl_iface_all_addrs(ifindex, addrs, fam, XLB_MAX_DECAP_ADDRS);

	if (n < 0) {
		xlb_err("cannot read the addresses of %s: %s", iface, strerror(-n));
		return -1;
	}
	if (n == 0)
		xlb_warn("%s has no address yet: nothing will be decapsulated", iface);
	for (int i = 0; i < n; i++) {
		struct xlb_decap_key k = { .family = fam[i] };

		memcpy(k.addr, addrs[i], sizeof(k.addr));
		if (bpf_map_update_elem(map_fd, &k, &one, BPF_ANY)) {
			xlb_err("cannot add a decap address: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int decap_attach(int argc, char **argv)
{
	enum xdp_attach_mode mode = XDP_MODE_NATIVE;
	struct decap_bpf *skel = NULL;
	char dir[128], why[256];
	int ifindex, lock, err, ret = XLB_EXIT_FAIL;

	if (argc == 4 && !strcmp(argv[2], "--mode") && !strcmp(argv[3], "generic"))
		mode = XDP_MODE_SKB;
	else if (argc != 2 && !(argc == 4 && !strcmp(argv[2], "--mode") && !strcmp(argv[3], "native"))) {
		xlb_err("usage: xlb decap attach IFACE [--mode native|generic]");
		return XLB_EXIT_USAGE;
	}
	if (need_root() || bpffs_ensure(true))
		return XLB_EXIT_FAIL;
	ifindex = if_nametoindex(argv[1]);
	if (!ifindex) {
		xlb_err("no interface \"%s\"", argv[1]);
		return XLB_EXIT_FAIL;
	}
	snprintf(dir, sizeof(dir), "decap-%s", argv[1]);
	lock = inst_lock(dir);
	if (lock < 0)
		return XLB_EXIT_FAIL;
	bpf_libs_quiet();
	pin_dir(XLB_DECAP_PIN_ROOT, argv[1], dir, sizeof(dir));
	skel = decap_bpf__open();
	if (!skel || (err = obj_pin_maps(skel->obj, dir))) {
		xlb_err("cannot prepare the decap program in %s", dir);
		goto out;
	}
	err = xdp_attach_replace(skel->obj, DECAP_PROG_NAME, ifindex, mode, why, sizeof(why));
	if (err) {
		xlb_err("%s: decap attach failed: %s", argv[1], why);
		goto out;
	}
	if (learn_addrs(bpf_map__fd(skel->maps.decap_addrs), ifindex, argv[1]))
		goto out;
	printf("decap attached to %s in %s mode\n", argv[1], xdp_mode_name(mode));
	ret = XLB_EXIT_OK;
out:
	decap_bpf__destroy(skel);
	close(lock);
	return ret;
}

static int decap_detach(int argc, char **argv)
{
	char dir[128];
	int ifindex, n = 0;
	bool pinned;

	if (argc != 2) {
		xlb_err("usage: xlb decap detach IFACE");
		return XLB_EXIT_USAGE;
	}
	if (need_root() || bpffs_ensure(false))
		return XLB_EXIT_FAIL;
	bpf_libs_quiet();
	pin_dir(XLB_DECAP_PIN_ROOT, argv[1], dir, sizeof(dir));
	pinned = access(dir, F_OK) == 0;
	ifindex = if_nametoindex(argv[1]);
	if (ifindex)
		n = xdp_detach_named(ifindex, DECAP_PROG_NAME);
	if (!pinned && n <= 0) {
		xlb_err("decap is not attached to \"%s\"", argv[1]);
		return XLB_EXIT_FAIL;
	}
	pin_dir_remove(dir);
	printf("decap detached from %s\n", argv[1]);
	return XLB_EXIT_OK;
}

const struct verb decap_verbs[] = {
	{ "attach", NULL, decap_attach },
	{ "detach", NULL, decap_detach },
	{ NULL },
};
