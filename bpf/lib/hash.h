/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The flow hash and sh's client hash: xlb_key_hash() (the ABI header's
 * multiply-xorshift over the key's 64-bit words, src[0..3], dst[0..3],
 * ports, proto and family, as they sit in the packet), with fixed seeds
 * so every instance agrees. `sh` hashes the source address only (the
 * first two words). User space that wants to predict a slot must hash
 * exactly this (tests/unit/flowhash.c compiles this file).
 */
#ifndef XLB_HASH_H
#define XLB_HASH_H

#include "consts.h"

#define XLB_SRC_WORDS		2	/* src[0..3]: the key's first two 64-bit words */

static __always_inline __u32 xlb_flow_hash(const struct xlb_flow_key *key, __u32 seed)
{
	return xlb_key_hash(key, XLB_KEY_WORDS, seed);
}

static __always_inline __u32 xlb_client_hash(const struct xlb_flow_key *key)
{
	return xlb_key_hash(key, XLB_SRC_WORDS, XLB_HASH_SEED);
}

#endif /* XLB_HASH_H */
