// SPDX-License-Identifier: GPL-2.0
/*
 * Building the VIP index (see vipindex.h and xlb_abi.h). Why a new inner
 * map each time rather than edits in place: a VIP moved, added or removed
 * in place would leave a moment where a reader sees a slot half written,
 * or a key in neither of its buckets; an array of maps swaps the whole
 * index in one update, and the kernel frees the old one only after every
 * program that may still read it has returned (RCU). A commit is rare and
 * the index small (160 bytes a bucket, a bucket a VIP the vips hash has room for), so rebuilding it from the
 * vips hash each time costs nothing a packet sees, and a repair rebuilds it
 * like any other derived map.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "vipindex.h"

int vip_index_place(struct xlb_vip_bucket *buckets, __u32 nbuckets,
		    const struct xlb_vip_key *keys, const struct xlb_vip *vips, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		__u64 hash = xlb_vip_hash64(&keys[i]);
		__u32 a = xlb_vip_bucket_of(hash, 0, nbuckets);
		__u32 b = xlb_vip_bucket_of(hash, 1, nbuckets), used[2];
		struct xlb_vip_bucket *to;
		int w;

		for (int c = 0; c < 2; c++) {
			struct xlb_vip_bucket *bk = &buckets[c ? b : a];

			for (used[c] = 0; used[c] < XLB_VIP_WAYS && bk->way[used[c]].key.family;
			     used[c]++)
				;
		}
		to = &buckets[used[0] <= used[1] ? a : b];
		w = used[0] <= used[1] ? used[0] : used[1];
		if (w == XLB_VIP_WAYS)
			return -ENOSPC;
		to->way[w].key = keys[i];
		to->way[w].vip = vips[i];
	}
	return 0;
}

/* Every VIP of the vips hash @fd (of @max entries), in new arrays; their count, or a negative errno. */
static long vips_read(int fd, __u32 max, struct xlb_vip_key **keys, struct xlb_vip **vips)
{
	struct xlb_vip_key k, *prev = NULL;
	size_t n = 0;

	*keys = calloc(max, sizeof(**keys));
	*vips = calloc(max, sizeof(**vips));
	if (!*keys || !*vips)
		return -ENOMEM;
	while (n < max) {
		if (bpf_map_get_next_key(fd, prev, &k))
			return errno == ENOENT ? (long)n : -errno;
		/* A key deleted between the two calls is simply not there. */
		if (!bpf_map_lookup_elem(fd, &k, &(*vips)[n]))
			(*keys)[n++] = k;
		else if (errno != ENOENT)
			return -errno;
		prev = &k;
	}
	return n;
}

/* A new inner map holding @buckets (only the used ones are written: a new array is zero). */
static int index_map_new(const struct xlb_vip_bucket *buckets, __u32 nbuckets)
{
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_vip_index", sizeof(__u32),
				sizeof(struct xlb_vip_bucket), nbuckets, NULL);
	int err;

	if (fd < 0)
		return -errno;
	for (__u32 i = 0; i < nbuckets; i++) {
		if (!buckets[i].way[0].key.family)
			continue;
		if (bpf_map_update_elem(fd, &i, &buckets[i], BPF_ANY)) {
			err = -errno;
			close(fd);
			return err;
		}
	}
	return fd;
}

int vip_index_build(int vips_fd, int index_fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0, nbuckets;
	struct xlb_vip_bucket *buckets = NULL;
	struct xlb_vip_key *keys = NULL;
	struct xlb_vip *vips = NULL;
	int err = 0, fd = -1;
	long n = 0;

	if (bpf_obj_get_info_by_fd(vips_fd, &info, &len))
		return -errno;
	nbuckets = xlb_vip_buckets_for(info.max_entries);
	buckets = calloc(nbuckets, sizeof(*buckets));
	n = buckets ? vips_read(vips_fd, info.max_entries, &keys, &vips) : -ENOMEM;
	err = n < 0 ? (int)n : vip_index_place(buckets, nbuckets, keys, vips, n);
	if (!err) {
		fd = index_map_new(buckets, nbuckets);
		err = fd < 0 ? fd : 0;
	}
	/* EINVAL here: the program's index has another size than this vips hash asks for. */
	if (!err && bpf_map_update_elem(index_fd, &zero, &fd, BPF_ANY))
		err = -errno;
	if (fd >= 0)
		close(fd);
	free(buckets);
	free(keys);
	free(vips);
	return err;
}
