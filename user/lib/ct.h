/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Walking the conntrack LRU map from user space: listing, counting,
 * flushing, purging a deleted backend's flows and idle expiry all visit
 * every entry the same way, in batches (one syscall per few thousand flows).
 */
#ifndef XLB_CT_H
#define XLB_CT_H

#include <stdbool.h>
#include "xlb_abi.h"

/* Return true to delete the entry. */
typedef bool (*ct_visit_fn)(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg);

/* Visits every entry; counts visited and deleted ones (either may be NULL). 0 or -errno. */
int ct_walk(int ct_fd, ct_visit_fn fn, void *arg, __u64 *visited, __u64 *deleted);

#endif
