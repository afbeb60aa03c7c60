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

__u32 fh_flow_hash(const struct xlb_flow_key *key)
{
	return xlb_flow_hash(key, XLB_HASH_SEED);
}

__u32 fh_client_hash(const struct xlb_flow_key *key)
{
	return xlb_client_hash(key);
}
