/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The conntrack flow table as the data plane reads it (struct xlb_ct_entry
 * in xlb_abi.h, bpf/lib/conntrack.h): an mmapable array of one-line ways,
 * XLB_CT_WAYS to a bucket, the bucket named by the flow hash. This file is
 * the only user-space code that knows that layout: it maps the table into
 * memory, finds a flow's way, and writes or clears one way the way the
 * data plane does (flow and its check word before key; key before flow
 * when clearing), so a reader on another CPU never matches a key whose
 * flow is not yet there, and a way torn by two writers fails its check.
 * Everything else goes through user/lib/ct.h.
 */
#ifndef XLB_FLOWTABLE_H
#define XLB_FLOWTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "xlb_abi.h"

struct flowtable {
	struct xlb_ct_entry *e;		/* the mapped entries */
	__u32 size;			/* entries: a power of two */
	size_t len;			/* bytes mapped */
};

/*
 * Whether @fd is a flow table of this layout, from its info alone (no
 * mapping): 0 and its entries in @size (may be NULL); -EINVAL when it is
 * not (an older xlb's LRU hash); or -errno.
 */
int flowtable_check(int fd, __u32 *size);
/* Maps the flow table @fd (which flowtable_check() accepts). 0 or -errno. */
int flowtable_open(int fd, struct flowtable *t);
void flowtable_close(struct flowtable *t);
/* Whether way @e holds a flow whose check word (xlb_ct_check()) holds: not free, not torn. */
bool flowtable_entry_ok(const struct xlb_ct_entry *e);
/* The way holding @k (its check holding), or NULL. */
struct xlb_ct_entry *flowtable_find(const struct flowtable *t, const struct xlb_flow_key *k);
/* The way @k would be written to: its own, else its bucket's least recently seen. */
struct xlb_ct_entry *flowtable_way(const struct flowtable *t, const struct xlb_flow_key *k);
/* The same over a table image in memory of @size entries (benchmarks fill one so). */
struct xlb_ct_entry *flowtable_way_in(struct xlb_ct_entry *e, __u32 size,
				      const struct xlb_flow_key *k);
/* Writes @k's flow @f (its check word computed here) into way @e, flow first. */
void flowtable_write(struct xlb_ct_entry *e, const struct xlb_flow_key *k,
		     const struct xlb_flow *f);
/* Frees way @e, key first. */
void flowtable_clear(struct xlb_ct_entry *e);
/* A table's size for a request of @flows entries: the next power of two, at least the minimum. */
__u32 flowtable_size_for(__u64 flows);

#endif
