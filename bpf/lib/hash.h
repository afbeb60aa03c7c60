/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flow hash: the kernel's jhash2 (Bob Jenkins' lookup3, as in
 * include/linux/jhash.h) over 32-bit words, with a fixed seed so every
 * instance agrees. The flow hash covers ten words, in this order:
 *   src[0..3], dst[0..3], (sport << 16) | dport, proto
 * with addresses and ports as they sit in the packet (network order, read
 * as host words). `sh` hashes src[0..3] only. User space that wants to
 * predict a slot must hash exactly this (see xlb_flow_hash()).
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include "consts.h"

#define XLB_JHASH_INITVAL	0xdeadbeefu
#define XLB_FLOW_HASH_WORDS	10
#define XLB_ADDR_WORDS		4

static __always_inline __u32 xlb_rol32(__u32 word, unsigned int shift)
{
	return (word << shift) | (word >> ((-shift) & 31));
}

#define __xlb_jhash_mix(a, b, c)			\
	do {						\
		a -= c; a ^= xlb_rol32(c, 4);  c += b;	\
		b -= a; b ^= xlb_rol32(a, 6);  a += c;	\
		c -= b; c ^= xlb_rol32(b, 8);  b += a;	\
		a -= c; a ^= xlb_rol32(c, 16); c += b;	\
		b -= a; b ^= xlb_rol32(a, 19); a += c;	\
		c -= b; c ^= xlb_rol32(b, 4);  b += a;	\
	} while (0)

#define __xlb_jhash_final(a, b, c)			\
	do {						\
		c ^= b; c -= xlb_rol32(b, 14);		\
		a ^= c; a -= xlb_rol32(c, 11);		\
		b ^= a; b -= xlb_rol32(a, 25);		\
		c ^= b; c -= xlb_rol32(b, 16);		\
		a ^= c; a -= xlb_rol32(c, 4);		\
		b ^= a; b -= xlb_rol32(a, 14);		\
		c ^= b; c -= xlb_rol32(b, 24);		\
	} while (0)

/* jhash2(): @len is a compile-time constant at every call, so this unrolls. */
static __always_inline __u32 xlb_jhash2(const __u32 *k, __u32 len, __u32 seed)
{
	__u32 a, b, c;

	a = b = c = XLB_JHASH_INITVAL + (len << 2) + seed;
#pragma unroll
	while (len > 3) {
		a += k[0];
		b += k[1];
		c += k[2];
		__xlb_jhash_mix(a, b, c);
		len -= 3;
		k += 3;
	}
	switch (len) {
	case 3:
		c += k[2];
		/* fallthrough */
	case 2:
		b += k[1];
		/* fallthrough */
	case 1:
		a += k[0];
		__xlb_jhash_final(a, b, c);
		break;
	default:
		break;
	}
	return c;
}

static __always_inline __u32 xlb_flow_hash(const struct xlb_flow_key *key, __u32 seed)
{
	__u32 words[XLB_FLOW_HASH_WORDS];

	__builtin_memcpy(&words[0], key->src, sizeof(key->src));
	__builtin_memcpy(&words[XLB_ADDR_WORDS], key->dst, sizeof(key->dst));
	words[2 * XLB_ADDR_WORDS] = ((__u32)key->sport << 16) | key->dport;
	words[2 * XLB_ADDR_WORDS + 1] = key->proto;
	return xlb_jhash2(words, XLB_FLOW_HASH_WORDS, seed);
}

static __always_inline __u32 xlb_client_hash(const struct xlb_flow_key *key)
{
	return xlb_jhash2(key->src, XLB_ADDR_WORDS, XLB_HASH_SEED);
}

#endif /* XLB_HASH_H */
