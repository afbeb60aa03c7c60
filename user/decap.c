// SPDX-License-Identifier: GPL-2.0
/*
 * xlb decap attach|detach|show|stats, on a backend host: the decap program
 * strips the balancer's outer header (IPIP or GUE) from packets to this
 * interface's addresses and sends a GUE copy of a flow it holds no socket
 * for on to the next hop. It only accepts tunnel packets from the
 * balancers' prefixes (--from, required: a decap program that accepts
 * anyone's tunnel is an open door past every filter on the VIP) and for a
 * local address; both lists, and the interface's own addresses, are
 * written at attach, and attaching again rewrites them (adding before
 * removing, so no packet of a kept entry is refused meanwhile). Its maps
 * are pinned under /sys/fs/bpf/xlb/decap/IFACE/.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xlb.h"
#include "decap.skel.h"
#include "xdp_load.h"
#include "addr.h"
#include "nl.h"
#include "out.h"
#include "percpu.h"
#include "util.h"

#define DECAP_PROG_NAME "xlb_decap"
#define DECAP_KEY_MAX	32	/* bytes of the largest key of a decap map */
#define PORT_MAX	65535

const char decap_usage[] =
	"usage: xlb decap attach IFACE --from PREFIX [--from PREFIX ...] [--gue-port N]\n"
	"                        [--mode native|generic]\n"
	"       xlb decap detach IFACE\n"
	"       xlb decap show [IFACE] [--json]\n"
	"       xlb decap stats [IFACE] [--json]\n"
	"PREFIX: ADDR or ADDR/LEN, IPv4 or IPv6 (the balancers' source addresses)\n";

static const char *const reason_names[XLB_REASON_MAX] = XLB_REASON_NAMES;

/* The allowed sources of an attach, as the tries hold them. */
struct from_list {
	struct xlb_lpm4_key v4[XLB_MAX_DECAP_FROM];
	struct xlb_lpm6_key v6[XLB_MAX_DECAP_FROM];
	size_t n4, n6;
};

struct attach_args {
	const char *iface;
	enum xdp_attach_mode mode;
	__u32 gue_port;
	struct from_list from;
};

/* ADDR or ADDR/LEN with no host bits set; false with a reason in @why. */
static bool prefix_parse(const char *s, struct xlb_addr *a, __u32 *len, const char **why)
{
	char buf[XLB_ADDR_STRLEN + 8], *slash;
	__u32 bits, i;

	if (strlen(s) >= sizeof(buf)) {
		*why = "too long";
		return false;
	}
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = 0;
	memset(a, 0, sizeof(*a));
	a->family = strchr(buf, ':') ? XLB_AF_INET6 : XLB_AF_INET;
	if (inet_pton(a->family == XLB_AF_INET6 ? AF_INET6 : AF_INET, buf, a->a) != 1) {
		*why = "not an IPv4 or IPv6 address";
		return false;
	}
	bits = a->family == XLB_AF_INET6 ? 128 : 32;
	*len = bits;
	if (slash && !parse_u32(slash + 1, 0, bits, len)) {
		*why = a->family == XLB_AF_INET6 ? "prefix length must be 0 to 128"
						 : "prefix length must be 0 to 32";
		return false;
	}
	for (i = *len; i < bits; i++) {
		if (ntohl(a->a[i / 32]) & (1u << (31 - i % 32))) {
			*why = "host bits set beyond the prefix length";
			return false;
		}
	}
	return true;
}

static int from_add(struct from_list *f, const char *s)
{
	struct xlb_addr a;
	const char *why;
	__u32 len;

	if (!prefix_parse(s, &a, &len, &why)) {
		xlb_err("invalid --from \"%s\": %s", s, why);
		return -1;
	}
	if ((a.family == XLB_AF_INET ? f->n4 : f->n6) >= XLB_MAX_DECAP_FROM) {
		xlb_err("too many --from prefixes (at most %d per family)", XLB_MAX_DECAP_FROM);
		return -1;
	}
	if (a.family == XLB_AF_INET)
		f->v4[f->n4++] = (struct xlb_lpm4_key){ .prefixlen = len, .addr = a.a[0] };
	else {
		f->v6[f->n6].prefixlen = len;
		memcpy(f->v6[f->n6++].addr, a.a, sizeof(a.a));
	}
	return 0;
}

static int parse_attach(int argc, char **argv, struct attach_args *a)
{
	const char *v;

	a->mode = XDP_MODE_NATIVE;
	a->gue_port = XLB_GUE_PORT_DEFAULT;
	if (argc < 2 || argv[1][0] == '-') {
		xlb_err("usage: xlb decap attach IFACE --from PREFIX [--from PREFIX ...] "
			"[--gue-port N] [--mode native|generic]");
		return XLB_EXIT_USAGE;
	}
	a->iface = argv[1];
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--from")) {
			if (!(v = next_arg(&i, argc, argv, "--from")) || from_add(&a->from, v))
				return XLB_EXIT_USAGE;
		} else if (!strcmp(argv[i], "--gue-port")) {
			if (!(v = next_arg(&i, argc, argv, "--gue-port")))
				return XLB_EXIT_USAGE;
			if (!parse_u32(v, 1, PORT_MAX, &a->gue_port)) {
				xlb_err("invalid --gue-port \"%s\": must be 1 to %d", v, PORT_MAX);
				return XLB_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--mode")) {
			if (!(v = next_arg(&i, argc, argv, "--mode")))
				return XLB_EXIT_USAGE;
			if (!strcmp(v, "generic")) {
				a->mode = XDP_MODE_SKB;
			} else if (strcmp(v, "native")) {
				xlb_err("invalid --mode \"%s\": native or generic", v);
				return XLB_EXIT_USAGE;
			}
		} else {
			xlb_err("unexpected argument \"%s\" (xlb decap --help)", argv[i]);
			return XLB_EXIT_USAGE;
		}
	}
	if (!a->from.n4 && !a->from.n6) {
		xlb_err("decap attach needs --from PREFIX: the balancers' source addresses");
		return XLB_EXIT_USAGE;
	}
	return XLB_EXIT_OK;
}

static bool key_in(const void *keys, size_t n, size_t ksize, const void *key)
{
	for (size_t i = 0; i < n; i++)
		if (!memcmp((const __u8 *)keys + i * ksize, key, ksize))
			return true;
	return false;
}

/*
 * Make the keys of map @fd exactly @keys[0..n): add them all first, then
 * delete the ones no longer wanted, so a kept key is never missing.
 */
static int map_sync(int fd, const void *keys, size_t n, size_t ksize, size_t max)
{
	__u8 cur[DECAP_KEY_MAX], next[DECAP_KEY_MAX], one = 1, *stale;
	size_t nstale = 0;
	void *prev = NULL;
	int err = 0;

	for (size_t i = 0; i < n; i++)
		if (bpf_map_update_elem(fd, (const __u8 *)keys + i * ksize, &one, BPF_ANY))
			return -errno;
	stale = calloc(max, ksize);
	if (!stale)
		return -ENOMEM;
	while (nstale < max && !bpf_map_get_next_key(fd, prev, next)) {
		if (!key_in(keys, n, ksize, next))
			memcpy(stale + nstale++ * ksize, next, ksize);
		memcpy(cur, next, ksize);
		prev = cur;
	}
	for (size_t i = 0; i < nstale && !err; i++)
		if (bpf_map_delete_elem(fd, stale + i * ksize) && errno != ENOENT)
			err = -errno;
	free(stale);
	return err;
}

/* Addresses of @ifindex, or with 0 of every interface, as decap keys. */
static int addr_keys(int ifindex, struct xlb_decap_key *keys, int max)
{
	__u32 (*addrs)[4] = calloc(max, sizeof(*addrs));
	__u8 *fam = calloc(max, 1);
	struct if_nameindex *ifs = NULL;
	int n = 0, got;

	if (!addrs || !fam) {
		n = -ENOMEM;
		goto out;
	}
	if (ifindex) {
		n = nl_iface_all_addrs(ifindex, addrs, fam, max);
	} else {
		ifs = if_nameindex();
		if (!ifs) {
			n = -errno;
			goto out;
		}
		for (struct if_nameindex *i = ifs; i->if_index && n < max; i++) {
			got = nl_iface_all_addrs(i->if_index, addrs + n, fam + n, max - n);
			if (got > 0)
				n += got;
		}
	}
	for (int i = 0; i < n; i++) {
		memset(&keys[i], 0, sizeof(keys[i]));
		keys[i].family = fam[i];
		memcpy(keys[i].addr, addrs[i], sizeof(keys[i].addr));
	}
out:
	if (ifs)
		if_freenameindex(ifs);
	free(addrs);
	free(fam);
	return n;
}

/* The interface's addresses (tunnel endpoints) and the host's (inner destinations). */
static int learn_addrs(struct decap_bpf *skel, int ifindex, const char *iface)
{
	static struct xlb_decap_key own[XLB_MAX_DECAP_ADDRS], local[XLB_MAX_LOCAL_ADDRS];
	int n = addr_keys(ifindex, own, XLB_MAX_DECAP_ADDRS);
	int nl = addr_keys(0, local, XLB_MAX_LOCAL_ADDRS);
	int err;

	if (n < 0 || nl < 0) {
		xlb_err("cannot read the addresses of %s: %s", iface, strerror(-(n < 0 ? n : nl)));
		return -1;
	}
	if (n == 0)
		xlb_warn("%s has no address yet: nothing will be decapsulated", iface);
	err = map_sync(bpf_map__fd(skel->maps.decap_addrs), own, n, sizeof(own[0]),
		       XLB_MAX_DECAP_ADDRS);
	if (!err)
		err = map_sync(bpf_map__fd(skel->maps.decap_local), local, nl, sizeof(local[0]),
			       XLB_MAX_LOCAL_ADDRS);
	if (err) {
		xlb_err("cannot write the decap addresses: %s", strerror(-err));
		return -1;
	}
	return 0;
}

static int write_state(struct decap_bpf *skel, const struct attach_args *a)
{
	struct xlb_decap_ctl ctl = { .gue_port = a->gue_port, .xdp_mode = a->mode };
	__u32 zero = 0;
	int err;

	err = map_sync(bpf_map__fd(skel->maps.decap_from4), a->from.v4, a->from.n4,
		       sizeof(a->from.v4[0]), XLB_MAX_DECAP_FROM);
	if (!err)
		err = map_sync(bpf_map__fd(skel->maps.decap_from6), a->from.v6, a->from.n6,
			       sizeof(a->from.v6[0]), XLB_MAX_DECAP_FROM);
	if (!err && bpf_map_update_elem(bpf_map__fd(skel->maps.decap_ctl), &zero, &ctl, BPF_ANY))
		err = -errno;
	if (err)
		xlb_err("cannot write the decap settings: %s", strerror(-err));
	return err ? -1 : 0;
}

/*
 * A map pinned by an older decap whose layout is not this one's (a reason
 * added, a list grown) cannot be reused: say which, and what to do, rather
 * than let the load fail with EINVAL.
 */
static int pins_compatible(struct bpf_object *obj, const char *dir, const char *iface)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	struct bpf_map *map;
	char path[512];
	int fd, ok;

	bpf_object__for_each_map(map, obj) {
		if (strchr(bpf_map__name(map), '.'))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		fd = bpf_obj_get(path);
		if (fd < 0)
			continue;
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		ok = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
		     info.type == bpf_map__type(map) &&
		     info.key_size == bpf_map__key_size(map) &&
		     info.value_size == bpf_map__value_size(map) &&
		     info.max_entries == bpf_map__max_entries(map);
		close(fd);
		if (!ok) {
			xlb_err("%s: pinned map %s is an older decap's: xlb decap detach %s first",
				iface, path, iface);
			return -1;
		}
	}
	return 0;
}

static int decap_attach(int argc, char **argv)
{
	static struct attach_args a;
	struct decap_bpf *skel = NULL;
	char dir[128], why[256];
	int ifindex, lock, err, ret;

	memset(&a, 0, sizeof(a));
	ret = parse_attach(argc, argv, &a);
	if (ret != XLB_EXIT_OK)
		return ret;
	ret = XLB_EXIT_FAIL;
	if (need_root() || bpffs_ensure(true))
		return XLB_EXIT_FAIL;
	ifindex = if_nametoindex(a.iface);
	if (!ifindex) {
		xlb_err("no interface \"%s\"", a.iface);
		return XLB_EXIT_FAIL;
	}
	snprintf(dir, sizeof(dir), "decap-%s", a.iface);
	lock = inst_lock(dir);
	if (lock < 0)
		return XLB_EXIT_FAIL;
	bpf_libs_quiet();
	pin_dir(XLB_DECAP_PIN_ROOT, a.iface, dir, sizeof(dir));
	skel = decap_bpf__open();
	if (!skel || (err = obj_pin_maps(skel->obj, dir))) {
		xlb_err("cannot prepare the decap program in %s", dir);
		goto out;
	}
	if (pins_compatible(skel->obj, dir, a.iface))
		goto out;
	skel->rodata->decap_gue_port = htons(a.gue_port);
	err = xdp_attach_replace(skel->obj, DECAP_PROG_NAME, ifindex, a.mode, why, sizeof(why));
	if (err) {
		xlb_err("%s: decap attach failed: %s", a.iface, why);
		goto out;
	}
	if (write_state(skel, &a) || learn_addrs(skel, ifindex, a.iface))
		goto out;
	printf("decap attached to %s in %s mode, GUE port %u, tunnels from %zu prefix%s\n",
	       a.iface, xdp_mode_name(a.mode), a.gue_port, a.from.n4 + a.from.n6,
	       a.from.n4 + a.from.n6 == 1 ? "" : "es");
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

/* A pinned map of the decap instance in @dir, or -1 (with an error printed). */
static int pin_open(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		xlb_err("cannot open pinned map %s: %s (attach again to repair)", path,
			strerror(errno));
	return fd;
}

static void show_from(int fd4, int fd6)
{
	struct xlb_lpm6_key k6, *p6 = NULL;
	struct xlb_lpm4_key k4, *p4 = NULL;
	char buf[XLB_ADDR_STRLEN + 8];
	__u32 a[4];

	out_arr_open("from");
	out_text("  from:");
	while (!bpf_map_get_next_key(fd4, p4, &k4)) {
		memset(a, 0, sizeof(a));
		a[0] = k4.addr;
		addr_fmt(a, XLB_AF_INET, buf, sizeof(buf));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%u", k4.prefixlen);
		out_str(NULL, " %s", buf);
		p4 = &k4;
	}
	while (!bpf_map_get_next_key(fd6, p6, &k6)) {
		addr_fmt(k6.addr, XLB_AF_INET6, buf, sizeof(buf));
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%u", k6.prefixlen);
		out_str(NULL, " %s", buf);
		p6 = &k6;
	}
	out_text("\n");
	out_arr_close();
}

/* The addresses of hash @fd; with @list, each of them, else their count. */
static void show_addrs(int fd, const char *key, const char *label, bool list)
{
	struct xlb_decap_key k, *prev = NULL;
	char buf[XLB_ADDR_STRLEN];
	__u64 n = 0;

	if (list) {
		out_arr_open(key);
		out_text("  %s:", label);
	}
	while (!bpf_map_get_next_key(fd, prev, &k)) {
		if (list) {
			addr_fmt(k.addr, k.family, buf, sizeof(buf));
			out_str(NULL, " %s", buf);
		}
		n++;
		prev = &k;
	}
	if (list) {
		out_text("%s\n", n ? "" : " none");
		out_arr_close();
	} else {
		out_text("  %s: ", label);
		out_u64(key, "%llu\n", n);
	}
}

static void show_reasons(int fd)
{
	out_obj_open("reasons");
	out_text("  packets by reason:\n");
	for (__u32 r = XLB_BALANCER_REASONS; r < XLB_REASON_MAX; r++) {
		__u64 v = percpu_u64(fd, r);

		if (!out_is_json())
			printf("    %-22s %llu\n", reason_names[r], (unsigned long long)v);
		else
			out_u64(reason_names[r], NULL, v);
	}
	out_obj_close();
}

/* One instance: with @full, its settings and lists, else its counters only. */
static int show_one(const char *iface, const char *dir, bool full)
{
	const char *names[] = { "reasons", "decap_ctl", "decap_from4", "decap_from6",
				"decap_addrs", "decap_local" };
	int fd[ARRAY_SIZE(names)], ret = -1;
	struct xlb_decap_ctl ctl = {};
	size_t n = full ? ARRAY_SIZE(names) : 1, i;
	__u32 zero = 0;

	for (i = 0; i < n; i++)
		if ((fd[i] = pin_open(dir, names[i])) < 0)
			goto out;
	out_obj_open(NULL);
	out_str("iface", "decap on %s", iface);
	if (full) {
		bpf_map_lookup_elem(fd[1], &zero, &ctl);
		out_str("mode", " (%s mode)", xdp_mode_name(ctl.xdp_mode));
		out_u64("gue_port", ", GUE port %llu", ctl.gue_port);
	}
	out_text("\n");
	if (full) {
		show_from(fd[2], fd[3]);
		show_addrs(fd[4], "decap_addrs", "decap addresses", true);
		show_addrs(fd[5], "local_addrs", "local addresses (inner destinations)", false);
	}
	show_reasons(fd[0]);
	out_obj_close();
	ret = 0;
out:
	while (i-- > 0)
		close(fd[i]);
	return ret;
}

/*
 * Every decap instance whose interface exists in this namespace and runs
 * the program (pins are machine-wide: other namespaces' are left out), or
 * only @iface.
 */
static int show_all(int argc, char **argv, bool full)
{
	const char *only = NULL;
	char dir[256];
	struct dirent *e;
	int found = 0, ret = XLB_EXIT_OK, ifindex;
	DIR *d;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		xlb_err("usage: xlb decap %s [IFACE] [--json]", argv[0]);
		return XLB_EXIT_USAGE;
	}
	if (argc == 2)
		only = argv[1];
	if (need_root() || bpffs_ensure(false))
		return XLB_EXIT_FAIL;
	bpf_libs_quiet();
	if (only && (!(ifindex = if_nametoindex(only)) ||
		     xdp_mode_of(ifindex, DECAP_PROG_NAME) == XDP_MODE_UNSPEC)) {
		xlb_err("decap is not attached to \"%s\"", only);
		return XLB_EXIT_FAIL;
	}
	d = opendir(XLB_DECAP_PIN_ROOT);
	out_obj_open(NULL);
	out_arr_open("instances");
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.' || (only && strcmp(e->d_name, only)))
			continue;
		ifindex = if_nametoindex(e->d_name);
		if (!ifindex || xdp_mode_of(ifindex, DECAP_PROG_NAME) == XDP_MODE_UNSPEC)
			continue;
		pin_dir(XLB_DECAP_PIN_ROOT, e->d_name, dir, sizeof(dir));
		if (show_one(e->d_name, dir, full))
			ret = XLB_EXIT_FAIL;
		found++;
	}
	out_arr_close();
	out_obj_close();
	out_done();
	if (d)
		closedir(d);
	if (!found && !only && !out_is_json())
		printf("decap is attached to no interface of this namespace\n");
	return ret;
}

static int decap_show(int argc, char **argv)
{
	return show_all(argc, argv, true);
}

static int decap_stats(int argc, char **argv)
{
	return show_all(argc, argv, false);
}

const struct verb decap_verbs[] = {
	{ "attach", NULL, decap_attach },
	{ "detach", NULL, decap_detach },
	{ "show", NULL, decap_show },
	{ "stats", NULL, decap_stats },
	{ NULL },
};
