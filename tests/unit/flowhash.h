/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The data plane's flow hash, for tests that predict where the program
 * sends a flow: flowhash.c compiles bpf/lib/hash.h itself (not a copy), so
 * a change there changes the prediction too.
 */
#ifndef XLB_TEST_FLOWHASH_H
#define XLB_TEST_FLOWHASH_H

#include "xlb_abi.h"

__u32 fh_flow_hash(const struct xlb_flow_key *key);	/* maglev, lc/lrt first choice */
__u32 fh_client_hash(const struct xlb_flow_key *key);	/* sh */

#endif /* XLB_TEST_FLOWHASH_H */
