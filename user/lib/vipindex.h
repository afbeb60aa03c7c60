/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VIP index (xlb_abi.h, struct xlb_vip_bucket): the data plane's view
 * of the vips hash, in a layout it reads without a hash map's helper.
 * Built whole and swapped in at once, never edited in place.
 */
#ifndef XLB_VIPINDEX_H
#define XLB_VIPINDEX_H

#include <stddef.h>
#include "xlb_abi.h"

/*
 * Places @n VIPs (@keys, @vips) in @buckets (@nbuckets, a power of two,
 * zeroed by the caller): each in the less full of its two buckets. 0, or
 * -ENOSPC when a key's two buckets are both full (not seen with @n up to
 * @nbuckets: the ways have room for four times as many).
 */
int vip_index_place(struct xlb_vip_bucket *buckets, __u32 nbuckets,
		    const struct xlb_vip_key *keys, const struct xlb_vip *vips, size_t n);

/*
 * Builds an index of every VIP the vips hash @vips_fd holds, with
 * xlb_vip_buckets_for() its size buckets, and swaps it into entry 0 of the
 * array of maps @index_fd (vip_index), whose inner map must have that
 * size: a packet sees the old index or the new one. 0, or a negative errno with nothing
 * changed.
 */
int vip_index_build(int vips_fd, int index_fd);

#endif /* XLB_VIPINDEX_H */
