/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VIP's table as the data plane reads it: an array map of 64-byte lines
 * (struct xlb_table_line: the owners, then the previous owners and when
 * they changed, then a tail that sums those up), built from and read back
 * into struct xlb_slot, one per slot (owner, previous owner, when it
 * changed), created with the flags of the prototype in bpf/lib/maps.h (an
 * inner map must match them) and filled through mmap, which is what makes
 * building thousands of tables cheap. The control plane, the packet tests and the benchmarks all make
 * their tables here.
 *
 * A rebuilt table remembers, per slot, who owned it before (table_chain()):
 * for the VIP's chain window after a change, the old owner is the second
 * hop of the slot's untracked flows (GUE), since their connections may
 * still live there.
 */
#ifndef XLB_TABLE_H
#define XLB_TABLE_H

#include <stdbool.h>
#include <linux/types.h>
#include "xlb_abi.h"

/* A new table map holding slots[0..size). Returns its fd, or -errno. */
int table_map_new_slots(const struct xlb_slot *slots, __u32 size);
/* The tail line of slots[0..size): how many have a previous owner, the latest change. */
struct xlb_table_tail table_tail(const struct xlb_slot *slots, __u32 size);
/* The same with owners only (no previous owners): tests and benchmarks. */
int table_map_new(const __u32 *owners, __u32 size);
/* Read the table map @fd of @size slots into @slots. 0 or -errno. */
int table_map_read(int fd, struct xlb_slot *slots, __u32 size);
/*
 * The current table of @vip_id in the `tables` map @tables_fd into @slots
 * (which must hold @size). 0, -ENOENT if it has none, or -errno; a table
 * of another size (a reused VIP id) counts as none.
 */
int table_read(int tables_fd, __u32 vip_id, struct xlb_slot *slots, __u32 size);

/*
 * Give the table of @vip_id (of @size slots) a tail line if an older xlb
 * made it without one: the same slots in a new map, swapped in. 1 if it
 * did, 0 if there was nothing to do (no table, or one of this layout or of
 * another size), or -errno.
 */
int table_add_tail(int tables_fd, __u32 vip_id, __u32 size);

/*
 * Slots for the new owners @owners[0..size) over the table @old (NULL:
 * none): a slot whose owner changes gets prev = the old owner and
 * changed_s = @now_s; one whose owner stays keeps its prev and time. A prev
 * for which @keep(prev, @arg) is false (a deleted backend) is cleared, as
 * is a prev equal to the owner; a slot without prev has changed_s 0.
 */
void table_chain(struct xlb_slot *out, const __u32 *owners, const struct xlb_slot *old,
		 __u32 size, __u32 now_s, bool (*keep)(__u32 id, void *arg), void *arg);

/* CLOCK_MONOTONIC in seconds: the clock of struct xlb_slot.changed_s. */
__u32 table_now_s(void);

#endif
