/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A balancer instance: the xlb program attached to one interface and its
 * maps pinned under /sys/fs/bpf/xlb/IFACE/. Every command opens the pins;
 * nothing else holds state. Changes are serialised by a lock file per
 * instance under /run/xlb (bpffs cannot hold regular files).
 */
#ifndef XLB_INST_H
#define XLB_INST_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define XLB_BPFFS		"/sys/fs/bpf"
#define XLB_PIN_ROOT		XLB_BPFFS "/xlb"
#define XLB_DECAP_PIN_ROOT	XLB_PIN_ROOT "/decap"
#define XLB_LOCK_DIR		"/run/xlb"
/* A change waits this long for the instance's lock, then fails naming the holder. */
#define XLB_LOCK_WAIT_MS	10000
#define XLB_LOCK_POLL_MS	50

/* The balancer's maps, by the names bpf/lib/maps.h gives them. */
enum xlb_map {
	XLB_M_VIPS,
	XLB_M_TABLES,
	XLB_M_BACKENDS,
	XLB_M_BACKEND_ACTIVE,
	XLB_M_CONNTRACK,
	XLB_M_CONFIG,
	XLB_M_VIP_STATS,
	XLB_M_BACKEND_STATS,
	XLB_M_REASONS,
	XLB_M_VIP_CONFIG,
	XLB_M_CTL,
	XLB_M_HEALTH,
	XLB_M_COUNT,
};

extern const char *const xlb_map_names[XLB_M_COUNT];

struct xlb_inst {
	char iface[IF_NAMESIZE];
	char dir[128];		/* pin directory */
	int fd[XLB_M_COUNT];
	int lock_fd;		/* -1 when not locked */
};

/* Checks that print their own one-line error and return -1. */
int need_root(void);
/* bpffs at /sys/fs/bpf; with @mount_it, mount one if there is none (attach). */
int bpffs_ensure(bool mount_it);

/*
 * The instance @iface, or with NULL the only attached one (-i picks when
 * there are several). Fills @name. Prints an error and returns -1 if none.
 */
int inst_pick(const char *iface, char *name, size_t len);
/* The pin directory of the instance @iface (or the only one: inst_pick()); -1 with an error. */
int inst_pin_dir(const char *iface, char *dir, size_t len);
/* Open every pinned map; with @lock, first take the instance's lock. */
int inst_open(const char *iface, bool lock, struct xlb_inst *in);
void inst_close(struct xlb_inst *in);
/* The lock alone (attach and detach take it before the pins exist). */
int inst_lock(const char *iface);
/* The lock if it is free now (no waiting, no message), else -1. */
int inst_lock_try(const char *iface);
void pin_dir(const char *root, const char *iface, char *buf, size_t len);
/* This process's network namespace cookie (SO_NETNS_COOKIE), 0 if unknown. */
__u64 netns_cookie_self(void);
/*
 * 0 if the instance pinned in @dir is this namespace's (or records none);
 * -1, with a one-line error naming @iface unless @quiet, if another's.
 */
int pin_dir_owned(const char *dir, const char *iface, bool quiet);
/* The same for any pinned one-entry array with the cookie at @off of its @size-byte value. */
int pin_dir_owned_by(const char *dir, const char *map, size_t size, size_t off,
		     const char *what, bool quiet);
/* Remove a pin directory and the pins in it, and xlb's directories above it once empty. */
int pin_dir_remove(const char *dir);

#endif
