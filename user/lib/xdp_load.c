// SPDX-License-Identifier: GPL-2.0
/* libxdp attach / replace / detach for xlb's programs (see xdp_load.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>

#include "xdp_load.h"
#include "veth.h"

#define MAX_OLD 8

static int print_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return getenv("XLB_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

static int xdp_print_quiet(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	return getenv("XLB_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

void bpf_libs_quiet(void)
{
	libbpf_set_print(print_quiet);
	libxdp_set_print(xdp_print_quiet);
}

static int mkdir_p(const char *dir)
{
	char buf[256], *p;

	snprintf(buf, sizeof(buf), "%s", dir);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0700) && errno != EEXIST ? -errno : 0;
}

int obj_pin_maps(struct bpf_object *obj, const char *dir)
{
	char path[512];
	struct bpf_map *map;
	int err = mkdir_p(dir);

	if (err)
		return err;
	bpf_object__for_each_map(map, obj) {
		/* .rodata/.bss and friends are the program's own, not state. */
		if (strchr(bpf_map__name(map), '.'))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(map));
		err = bpf_map__set_pin_path(map, path);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Ids of the programs named @name on @ifindex, the mode they run in, and
 * whether they run alone (legacy: libxdp could not use its dispatcher).
 */
static int find_named_mp(int ifindex, const char *name, __u32 *ids, int max,
			 enum xdp_attach_mode *mode, bool *legacy)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p;
	int n = 0;

	if (!mp || libxdp_get_error(mp))
		return 0;
	if (mode)
		*mode = xdp_multiprog__attach_mode(mp);
	if (legacy)
		*legacy = xdp_multiprog__is_legacy(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && !strcmp(xdp_program__name(p), name) && n < max)
			ids[n++] = xdp_program__id(p);
	} else {
		for (p = xdp_multiprog__next_prog(NULL, mp); p; p = xdp_multiprog__next_prog(p, mp))
			if (!strcmp(xdp_program__name(p), name) && n < max)
				ids[n++] = xdp_program__id(p);
	}
	xdp_multiprog__close(mp);
	return n;
}

static int find_named(int ifindex, const char *name, __u32 *ids, int max,
		      enum xdp_attach_mode *mode)
{
	return find_named_mp(ifindex, name, ids, max, mode, NULL);
}

/*
 * Where libxdp runs our program alone (this kernel refuses its dispatcher's
 * freplace check), libxdp cannot add a second one; the kernel can still swap
 * the program atomically (XDP_FLAGS_REPLACE names the one it replaces).
 */
static int replace_legacy(struct bpf_object *obj, const char *prog_name, int ifindex,
			  enum xdp_attach_mode mode, __u32 old_id, char *why, size_t whylen)
{
	struct bpf_program *prog;
	int err, old_fd, flags = XDP_FLAGS_REPLACE;

	flags |= mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	err = bpf_object__load(obj);
	if (err) {
		snprintf(why, whylen, "cannot load the program: %s", strerror(-err));
		return err;
	}
	prog = bpf_object__find_program_by_name(obj, prog_name);
	old_fd = bpf_prog_get_fd_by_id(old_id);
	if (!prog || old_fd < 0) {
		snprintf(why, whylen, "cannot find the program to replace");
		return -ENOENT;
	}
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);
	err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), flags, &opts);
	close(old_fd);
	if (err)
		snprintf(why, whylen, "replacing the running program failed: %s", strerror(-err));
	return err;
}

enum xdp_attach_mode xdp_mode_of(int ifindex, const char *prog_name)
{
	enum xdp_attach_mode mode = XDP_MODE_UNSPEC;
	__u32 id;

	if (find_named(ifindex, prog_name, &id, 1, &mode) < 1)
		return XDP_MODE_UNSPEC;
	return mode;
}

const char *xdp_mode_name(enum xdp_attach_mode mode)
{
	switch (mode) {
	case XDP_MODE_NATIVE:
		return "native";
	case XDP_MODE_SKB:
		return "generic";
	case XDP_MODE_HW:
		return "offload";
	default:
		return "unspec";
	}
}

static int detach_ids(int ifindex, const __u32 *ids, int n, enum xdp_attach_mode mode)
{
	int done = 0;

	for (int i = 0; i < n; i++) {
		struct xdp_program *p = xdp_program__from_id(ids[i]);

		if (!p || libxdp_get_error(p))
			continue;
		if (!xdp_program__detach(p, ifindex, mode, 0))
			done++;
		xdp_program__close(p);
	}
	return done;
}

int xdp_attach_replace(struct bpf_object *obj, const char *prog_name, int ifindex,
		       enum xdp_attach_mode mode, char *why, size_t whylen)
{
	enum xdp_attach_mode old_mode = XDP_MODE_UNSPEC;
	__u32 old[MAX_OLD];
	struct xdp_program *prog;
	int nold, err;
	char msg[128];

	bool legacy = false;

	nold = find_named_mp(ifindex, prog_name, old, MAX_OLD, &old_mode, &legacy);
	if (nold && old_mode != mode) {
		snprintf(why, whylen, "already attached in %s mode; detach first to change mode",
			 xdp_mode_name(old_mode));
		return -EEXIST;
	}
	if (nold && legacy)
		return replace_legacy(obj, prog_name, ifindex, mode, old[0], why, whylen);
	prog = xdp_program__from_bpf_obj(obj, "xdp");
	err = libxdp_get_error(prog);
	if (err) {
		libxdp_strerror(err, msg, sizeof(msg));
		snprintf(why, whylen, "cannot open the program: %s", msg);
		return err;
	}
	/*
	 * The pass program xlb attach puts on a veth peer (veth.h) only holds
	 * the place of an XDP program: a real one replaces it.
	 */
	if (!nold)
		xdp_detach_named(ifindex, XLB_PASS_PROG_NAME);
	err = xdp_program__attach(prog, ifindex, mode, 0);
	if (err) {
		libxdp_strerror(err, msg, sizeof(msg));
		snprintf(why, whylen, "%s", msg);
		/* libxdp does not own an object it did not open: leave it to the caller. */
		return err;
	}
	if (nold)
		detach_ids(ifindex, old, nold, mode);
	return 0;
}

int xdp_detach_named(int ifindex, const char *prog_name)
{
	enum xdp_attach_mode mode = XDP_MODE_UNSPEC;
	__u32 ids[MAX_OLD];
	int n = find_named(ifindex, prog_name, ids, MAX_OLD, &mode);

	return n ? detach_ids(ifindex, ids, n, mode) : 0;
}

/* Legacy (no dispatcher) on @to: swap @old_id for @fd atomically, or attach it. */
static int attach_fd_legacy(int to, int fd, enum xdp_attach_mode mode, __u32 old_id)
{
	int flags = mode == XDP_MODE_SKB ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	int old_fd = -1, err;

	if (old_id) {
		old_fd = bpf_prog_get_fd_by_id(old_id);
		if (old_fd < 0)
			return -errno;
		flags |= XDP_FLAGS_REPLACE;
	} else {
		flags |= XDP_FLAGS_UPDATE_IF_NOEXIST;
	}
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts, .old_prog_fd = old_fd);
	err = bpf_xdp_attach(to, fd, flags, old_id ? &opts : NULL);
	if (old_fd >= 0)
		close(old_fd);
	return err;
}

int xdp_attach_same(int from, int to, const char *prog_name, enum xdp_attach_mode mode,
		    char *why, size_t whylen)
{
	enum xdp_attach_mode old_mode = XDP_MODE_UNSPEC;
	struct xdp_program *prog;
	__u32 id, old[MAX_OLD];
	bool legacy = false;
	int nold, fd, err;
	char msg[128];

	if (find_named(from, prog_name, &id, 1, NULL) < 1) {
		snprintf(why, whylen, "no %s program to share", prog_name);
		return -ENOENT;
	}
	nold = find_named_mp(to, prog_name, old, MAX_OLD, &old_mode, &legacy);
	if (nold == 1 && old[0] == id)
		return 0;
	if (nold && old_mode != mode) {
		snprintf(why, whylen, "already attached in %s mode", xdp_mode_name(old_mode));
		return -EEXIST;
	}
	if (!nold)
		xdp_detach_named(to, XLB_PASS_PROG_NAME);
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0) {
		snprintf(why, whylen, "cannot open program %u: %s", id, strerror(errno));
		return -errno;
	}
	if (nold && legacy) {
		err = attach_fd_legacy(to, fd, mode, old[0]);
		goto out;
	}
	prog = xdp_program__from_id(id);
	err = libxdp_get_error(prog);
	if (!err) {
		err = xdp_program__attach(prog, to, mode, 0);
		xdp_program__close(prog);
	}
	/* libxdp cannot put a loaded program into a second dispatcher everywhere. */
	if (err && !nold)
		err = attach_fd_legacy(to, fd, mode, 0);
	if (!err && nold)
		detach_ids(to, old, nold, mode);
out:
	if (err) {
		libxdp_strerror(err, msg, sizeof(msg));
		snprintf(why, whylen, "%s", msg);
	}
	close(fd);
	return err;
}
