// SPDX-License-Identifier: GPL-2.0
/* Batched walk over the conntrack map (see ct.h). */
#include <errno.h>
#include <stdlib.h>
#include <bpf/bpf.h>

#include "ct.h"

#define CT_BATCH 4096

int ct_walk(int ct_fd, ct_visit_fn fn, void *arg, __u64 *visited, __u64 *deleted)
{
	struct xlb_flow_key *keys = calloc(CT_BATCH, sizeof(*keys));
	struct xlb_flow_key *del = calloc(CT_BATCH, sizeof(*del));
	struct xlb_flow *vals = calloc(CT_BATCH, sizeof(*vals));
	__u64 nvisit = 0, ndel = 0;
	__u32 token = 0, count, ndel_batch;
	bool first = true, last = false;
	int err = 0;

	if (!keys || !del || !vals) {
		err = -ENOMEM;
		goto out;
	}
	while (!last) {
		count = CT_BATCH;
		if (bpf_map_lookup_batch(ct_fd, first ? NULL : &token, &token, keys, vals,
					 &count, NULL)) {
			if (errno != ENOENT) {
				err = -errno;
				goto out;
			}
			last = true;	/* the final, possibly partial, batch */
		}
		first = false;
		ndel_batch = 0;
		for (__u32 i = 0; i < count; i++) {
			nvisit++;
			if (fn && fn(&keys[i], &vals[i], arg))
				del[ndel_batch++] = keys[i];
		}
		/* Already visited buckets: deleting there does not disturb the walk. */
		for (__u32 i = 0; i < ndel_batch; i++)
			if (!bpf_map_delete_elem(ct_fd, &del[i]))
				ndel++;
	}
out:
	if (visited)
		*visited = nvisit;
	if (deleted)
		*deleted = ndel;
	free(keys);
	free(del);
	free(vals);
	return err;
}
