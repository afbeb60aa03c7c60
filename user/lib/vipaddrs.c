// SPDX-License-Identifier: GPL-2.0
/*
 * Deriving vip_addrs from the VIPs (see vipaddrs.h). The map is rebuilt
 * from the whole model at every commit rather than patched by a diff of
 * the old and new models: a commit touches at most XLB_MAX_VIPS entries,
 * and a map that was missing or stale (an upgrade from an xlb without it;
 * the attach commit then fills it) is corrected by the same code path that
 * keeps it right. The VIP address filter is derived the same way, and
 * from the vips map too, so that it is never missing a live VIP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "vipaddrs.h"
#include "vipindex.h"
#include "model.h"

struct addr_count {
	struct xlb_vip_addr key;
	__u32 count;
};

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xlb_vip_addr));
}

/* The distinct addresses of @keys with their counts, sorted; -1 (ENOMEM). */
static int addr_counts(const struct xlb_vip_key *keys, size_t n, struct addr_count **out,
		       size_t *nout)
{
	struct addr_count *a = calloc(n ? n : 1, sizeof(*a));
	size_t u = 0;

	if (!a)
		return -1;
	for (size_t i = 0; i < n; i++) {
		memcpy(a[i].key.addr, keys[i].addr, sizeof(a[i].key.addr));
		a[i].key.family = keys[i].family;
		a[i].count = 1;
	}
	qsort(a, n, sizeof(*a), addr_cmp);
	for (size_t i = 0; i < n; i++) {
		if (u && !addr_cmp(&a[u - 1].key, &a[i].key))
			a[u - 1].count++;
		else
			a[u++] = a[i];
	}
	*out = a;
	*nout = u;
	return 0;
}

/* Delete every entry of @fd that is not among the @n sorted @want. */
static int delete_unwanted(int fd, const struct addr_count *want, size_t n)
{
	struct xlb_vip_addr cur, next, *gone = NULL;
	size_t ngone = 0, cap = 0;
	void *prev = NULL;
	int err = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		cur = next;
		prev = &cur;
		if (bsearch(&cur, want, n, sizeof(*want), addr_cmp))
			continue;
		if (ngone == cap) {
			void *g = realloc(gone, (cap = cap ? 2 * cap : 16) * sizeof(*gone));

			if (!g) {
				free(gone);
				errno = ENOMEM;
				return -1;
			}
			gone = g;
		}
		gone[ngone++] = cur;
	}
	/* After the walk: deleting during it could restart it from the top. */
	for (size_t i = 0; i < ngone && !err; i++)
		if (bpf_map_delete_elem(fd, &gone[i]) && errno != ENOENT)
			err = -1;
	free(gone);
	return err;
}

int vip_addrs_reconcile(int fd, const struct xlb_vip_key *keys, size_t n)
{
	struct addr_count *want;
	size_t nwant;
	__u32 cur;
	int err = 0;

	if (addr_counts(keys, n, &want, &nwant)) {
		errno = ENOMEM;
		return -1;
	}
	/* Additions first: an address about to be added is never missing. */
	for (size_t i = 0; i < nwant && !err; i++) {
		if (!bpf_map_lookup_elem(fd, &want[i].key, &cur) && cur == want[i].count)
			continue;
		if (bpf_map_update_elem(fd, &want[i].key, &want[i].count, BPF_ANY))
			err = -1;
	}
	if (!err)
		err = delete_unwanted(fd, want, nwant);
	free(want);
	return err;
}

/* Pinned map @name of @in: its fd, or -1 with errno (ENOENT: pinned by an xlb without it). */
static int pin_open(const struct xlb_inst *in, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", in->dir, name);
	return bpf_obj_get(path);
}

int vip_index_sync(const struct xlb_inst *in)
{
	int fd = pin_open(in, "vip_index"), err;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	err = vip_index_build(in->fd[XLB_M_VIPS], fd);
	close(fd);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

/* @m's VIP keys (@m NULL: none) in a new array of *@n; NULL with errno ENOMEM. */
static struct xlb_vip_key *model_keys(const struct model *m, size_t *n)
{
	struct xlb_vip_key *keys;

	*n = m ? m->nvips : 0;
	keys = calloc(*n ? *n : 1, sizeof(*keys));
	if (!keys) {
		errno = ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < *n; i++)
		keys[i] = m->vips[i].key;
	return keys;
}

int vip_addrs_sync(const struct xlb_inst *in, const struct model *m)
{
	int fd = pin_open(in, "vip_addrs"), err;
	struct xlb_vip_key *keys;
	size_t n;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;	/* pinned by an xlb without the map */
	keys = model_keys(m, &n);
	err = keys ? vip_addrs_reconcile(fd, keys, n) : -1;
	close(fd);
	free(keys);
	return err;
}

int nat_vips_sync(const struct xlb_inst *in, const struct model *m)
{
	struct xlb_snat s;
	__u32 zero = 0, n = 0;
	int fd, err = 0;

	for (size_t i = 0; i < m->nvips; i++)
		n += !!(m->vips[i].v.flags & XLB_VIP_F_NAT);
	fd = pin_open(in, "snat");
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (bpf_map_lookup_elem(fd, &zero, &s))
		err = -1;
	else if (s.nat_vips != n) {
		s.nat_vips = n > 0xffff ? 0xffff : n;
		err = bpf_map_update_elem(fd, &zero, &s, BPF_ANY);
	}
	close(fd);
	return err ? -1 : 0;
}

void vip_filter_set(struct xlb_vip_filter *f, const __u32 addr[4])
{
	__u32 bit = xlb_vip_filter_bit(addr);

	f->bits[bit / 64] |= 1ULL << (bit % 64);
}

int vip_filter_reconcile(int fd, int vips_fd, const struct xlb_vip_key *keys, size_t n,
			 bool nat)
{
	struct xlb_vip_filter want = { .armed = 1, .nat = nat }, cur;
	struct xlb_vip_key k, next;
	void *prev = NULL;
	__u32 zero = 0;

	for (size_t i = 0; i < n; i++)
		vip_filter_set(&want, keys[i].addr);
	while (vips_fd >= 0 && !bpf_map_get_next_key(vips_fd, prev, &next)) {
		k = next;
		prev = &k;
		vip_filter_set(&want, k.addr);
	}
	if (bpf_map_lookup_elem(fd, &zero, &cur))
		return -1;
	if (!memcmp(&cur, &want, sizeof(want)))
		return 0;
	if (!cur.armed) {
		want.armed = 0;
		if (bpf_map_update_elem(fd, &zero, &want, BPF_ANY))
			return -1;
		want.armed = 1;
	}
	return bpf_map_update_elem(fd, &zero, &want, BPF_ANY) ? -1 : 0;
}

/* Whether the instance's snat entry counts NAT VIPs (no such map: it has no NAT). */
static bool snat_has_vips(const struct xlb_inst *in)
{
	int fd = pin_open(in, "snat");
	struct xlb_snat s;
	__u32 zero = 0;
	bool has;

	if (fd < 0)
		return false;
	has = bpf_map_lookup_elem(fd, &zero, &s) || s.nat_vips;	/* unreadable: assume so */
	close(fd);
	return has;
}

int vip_filter_sync(const struct xlb_inst *in, const struct model *m)
{
	int fd = pin_open(in, "vip_filter"), err;
	struct xlb_vip_key *keys;
	bool nat;
	size_t n;

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;	/* pinned by an xlb without the filter */
	nat = snat_has_vips(in);
	for (size_t i = 0; m && i < m->nvips; i++)
		nat |= !!(m->vips[i].v.flags & XLB_VIP_F_NAT);
	keys = model_keys(m, &n);
	err = keys ? vip_filter_reconcile(fd, in->fd[XLB_M_VIPS], keys, n, nat) : -1;
	close(fd);
	free(keys);
	return err;
}
