/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lookup tables for a VIP, computed in user space and swapped into the data
 * plane whole: Maglev (NSDI'16) with weights, and the smooth weighted
 * round-robin sequence. Both depend only on the set of (address, weight)
 * pairs, never on backend ids or the order backends were added, so every
 * balancer instance computes the same table from the same configuration.
 */
#ifndef XLB_MAGLEV_H
#define XLB_MAGLEV_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct maglev_backend {
	__u32 id;		/* what the table slots hold */
	__u32 addr[4];		/* the backend's identity for hashing */
	__u8 family;
	__u16 weight;		/* 0: left out of the table */
};

bool maglev_is_prime(__u32 n);

/*
 * Fills table[0..size) with backend ids. size must be prime. With no backend
 * of non-zero weight every slot is XLB_BACKEND_NONE. Returns 0 or -errno.
 */
int maglev_build(const struct maglev_backend *backends, size_t n, __u32 size, __u32 *table);

/* Fills table[0..size) with the smooth WRR sequence (nginx's), repeated. */
int wrr_build(const struct maglev_backend *backends, size_t n, __u32 size, __u32 *table);

#endif
