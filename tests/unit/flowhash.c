// SPDX-License-Identifier: GPL-2.0
/*
 * bpf/lib/hash.h built for user space (see flowhash.h). Kept in a file of
 * its own: consts.h brings in bpf_helpers.h, whose helper declarations
 * clash with libbpf's user-space API.
 */
#pragma GCC diagnostic ignored "-Wunknown-pragmas"
#pragma GCC diagnostic ignored "-Wunused-variable"
#include "lib/consts.h"
#include "lib/hash.h"
#include "flowhash.h"

/* The data plane hashes an 8-byte aligned key; a caller's may be only 4. */
__u32 fh_flow_hash(const struct xlb_flow_key *key)
{
	struct xlb_flow_key k __attribute__((aligned(8))) = *key;

	return xlb_flow_hash(&k, XLB_HASH_SEED);
}

__u32 fh_client_hash(const struct xlb_flow_key *key)
{
	struct xlb_flow_key k __attribute__((aligned(8))) = *key;

	return xlb_client_hash(&k);
}
