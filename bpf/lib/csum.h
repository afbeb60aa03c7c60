/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internet checksums (RFC 1071) for the headers we write. Ones-complement
 * sums do not care about byte order as long as words are read and the
 * result stored the same way, so everything here works on raw words.
 */
#ifndef XLB_CSUM_H
#define XLB_CSUM_H

#include "consts.h"

/* Fold a 64-bit running sum (e.g. from bpf_csum_diff) into the 16-bit checksum. */
static __always_inline __u16 xlb_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Checksum of an option-less IPv4 header whose check field is zero. */
static __always_inline __u16 xlb_ipv4_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u64 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < (int)(sizeof(*ip) / sizeof(*w)); i++)
		sum += w[i];
	return xlb_csum_fold(sum);
}

/*
 * Incremental update (RFC 1624) of a checksum when one 16-bit word changes
 * from @old to @new: used by the decap program to propagate ECN CE.
 */
static __always_inline __u16 xlb_csum_replace16(__u16 check, __u16 old, __u16 new)
{
	__u64 sum = (__u16)~check;

	sum += (__u16)~old;
	sum += new;
	return xlb_csum_fold(sum);
}

#endif /* XLB_CSUM_H */
