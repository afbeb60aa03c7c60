// SPDX-License-Identifier: GPL-2.0
/*
 * Maglev and smooth-WRR table builders (see maglev.h). Weights follow the
 * usual weighted Maglev: backends take turns filling their preferred slots,
 * and a backend of weight w gets w/max_weight of a turn per round, so slot
 * counts are proportional to weights while each backend keeps its own
 * permutation (what limits disruption when the set changes).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "maglev.h"
#include "xlb_abi.h"

bool maglev_is_prime(__u32 n)
{
	if (n < 2)
		return false;
	for (__u32 d = 2; (__u64)d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

/* FNV-1a over the address, then a murmur finaliser: cheap and well mixed. */
static __u64 addr_hash(const struct maglev_backend *b, __u64 seed)
{
	const unsigned char *p = (const unsigned char *)b->addr;
	__u64 h = 0xcbf29ce484222325ULL ^ seed;

	for (size_t i = 0; i < sizeof(b->addr); i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= b->family;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static int backend_cmp(const void *a, const void *b)
{
	const struct maglev_backend *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* The weighted backends, sorted by address so the result ignores input order. */
static struct maglev_backend *live_sorted(const struct maglev_backend *backends, size_t n,
					  size_t *live)
{
	struct maglev_backend *v = calloc(n ? n : 1, sizeof(*v));

	*live = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (backends[i].weight)
			v[(*live)++] = backends[i];
	qsort(v, *live, sizeof(*v), backend_cmp);
	return v;
}

static void fill_none(__u32 *table, __u32 size)
{
	for (__u32 i = 0; i < size; i++)
		table[i] = XLB_BACKEND_NONE;
}

int maglev_build(const struct maglev_backend *backends, size_t n, __u32 size, __u32 *table)
{
	struct perm { __u64 offset, skip, next, credit; } *perm;
	struct maglev_backend *v;
	__u32 max_weight = 0, filled = 0;
	size_t live;

	if (!maglev_is_prime(size))
		return -EINVAL;
	v = live_sorted(backends, n, &live);
	if (!v)
		return -ENOMEM;
	fill_none(table, size);
	if (!live) {
		free(v);
		return 0;
	}
	perm = calloc(live, sizeof(*perm));
	if (!perm) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < live; i++) {
		perm[i].offset = addr_hash(&v[i], 0x6d61676c6576ULL) % size;
		perm[i].skip = addr_hash(&v[i], 0x736b6970ULL) % (size - 1) + 1;
		if (v[i].weight > max_weight)
			max_weight = v[i].weight;
	}
	while (filled < size) {
		for (size_t i = 0; i < live && filled < size; i++) {
			perm[i].credit += v[i].weight;
			while (perm[i].credit >= max_weight && filled < size) {
				__u64 slot;

				perm[i].credit -= max_weight;
				do {
					slot = (perm[i].offset + perm[i].next * perm[i].skip) % size;
					perm[i].next++;
				} while (table[slot] != XLB_BACKEND_NONE);
				table[slot] = v[i].id;
				filled++;
			}
		}
	}
	free(perm);
	free(v);
	return 0;
}

int wrr_build(const struct maglev_backend *backends, size_t n, __u32 size, __u32 *table)
{
	struct maglev_backend *v;
	__s64 *current, total = 0;
	size_t live;

	if (!size)
		return -EINVAL;
	v = live_sorted(backends, n, &live);
	if (!v)
		return -ENOMEM;
	if (!live) {
		fill_none(table, size);
		free(v);
		return 0;
	}
	current = calloc(live, sizeof(*current));
	if (!current) {
		free(v);
		return -ENOMEM;
	}
	for (size_t i = 0; i < live; i++)
		total += v[i].weight;
	for (__u32 s = 0; s < size; s++) {
		size_t best = 0;

		for (size_t i = 0; i < live; i++) {
			current[i] += v[i].weight;
			if (current[i] > current[best])
				best = i;
		}
		current[best] -= total;
		table[s] = v[best].id;
	}
	free(current);
	free(v);
	return 0;
}
