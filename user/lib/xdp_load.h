/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Attaching and detaching our XDP programs through libxdp, so they share
 * an interface with other XDP programs. Attaching where an older copy of
 * the same program runs adds the new one first and then removes the old:
 * the interface is never without it, and the pinned maps (hence every
 * tracked flow) carry over.
 */
#ifndef XLB_XDP_LOAD_H
#define XLB_XDP_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

/* Pin every map of @obj under @dir (created if needed): reused when already pinned. */
int obj_pin_maps(struct bpf_object *obj, const char *dir);
/*
 * Load @obj and attach its program @prog_name to @ifindex in @mode,
 * replacing older copies. On failure a one-line reason goes to @why.
 */
int xdp_attach_replace(struct bpf_object *obj, const char *prog_name, int ifindex,
		       enum xdp_attach_mode mode, char *why, size_t whylen);
/*
 * Run on @to the very program named @prog_name that runs on @from (the same
 * maps), in @mode, replacing an older copy there. On failure a one-line
 * reason goes to @why.
 */
int xdp_attach_same(int from, int to, const char *prog_name, enum xdp_attach_mode mode,
		    char *why, size_t whylen);
/* Detach every program named @prog_name from @ifindex; returns how many, or -errno. */
int xdp_detach_named(int ifindex, const char *prog_name);
/* The mode our program runs in on @ifindex, or XDP_MODE_UNSPEC if it is not there. */
enum xdp_attach_mode xdp_mode_of(int ifindex, const char *prog_name);
const char *xdp_mode_name(enum xdp_attach_mode mode);
/* Quiet libbpf and libxdp unless XLB_DEBUG is set: we print our own one-line errors. */
void bpf_libs_quiet(void);

#endif
