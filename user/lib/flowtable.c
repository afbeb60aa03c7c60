// SPDX-License-Identifier: GPL-2.0
/* The conntrack flow table's layout, from user space (see flowtable.h). */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <bpf/bpf.h>

#include "flowtable.h"

#define barrier() __asm__ __volatile__("" ::: "memory")

int flowtable_check(int fd, __u32 *size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_ARRAY || info.value_size != sizeof(struct xlb_ct_entry) ||
	    !(info.map_flags & BPF_F_MMAPABLE) || info.max_entries < XLB_CT_WAYS ||
	    (info.max_entries & (info.max_entries - 1)))
		return -EINVAL;
	if (size)
		*size = info.max_entries;
	return 0;
}

int flowtable_open(int fd, struct flowtable *t)
{
	__u32 size;
	void *p;
	int err;

	memset(t, 0, sizeof(*t));
	err = flowtable_check(fd, &size);
	if (err)
		return err;
	t->len = (size_t)size * sizeof(struct xlb_ct_entry);
	p = mmap(NULL, t->len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	t->e = p;
	t->size = size;
	return 0;
}

void flowtable_close(struct flowtable *t)
{
	if (t->e)
		munmap(t->e, t->len);
	t->e = NULL;
}

static bool key_eq(const struct xlb_flow_key *a, const struct xlb_flow_key *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* xlb_ct_hash64() wants an 8-byte aligned key; a caller's may be only 4. */
static __u64 ct_hash(const struct xlb_flow_key *k)
{
	struct xlb_flow_key a __attribute__((aligned(8))) = *k;

	return xlb_ct_hash64(&a);
}

/* flowtable_way_in() with @k's hash @h already computed. */
static struct xlb_ct_entry *way_in(struct xlb_ct_entry *e, __u32 size,
				   const struct xlb_flow_key *k, __u64 h)
{
	struct xlb_ct_entry *b = e + xlb_ct_bucket((__u32)h, size);
	struct xlb_ct_entry *victim = b;

	for (int w = 0; w < XLB_CT_WAYS; w++) {
		if (key_eq(&b[w].key, k))
			return &b[w];
		/* As the data plane: the least recently seen, the first of equals. */
		if (b[w].flow.last_seen_ns < victim->flow.last_seen_ns)
			victim = &b[w];
	}
	return victim;
}

struct xlb_ct_entry *flowtable_way_in(struct xlb_ct_entry *e, __u32 size,
				      const struct xlb_flow_key *k)
{
	return way_in(e, size, k, ct_hash(k));
}

struct xlb_ct_entry *flowtable_way(const struct flowtable *t, const struct xlb_flow_key *k)
{
	return flowtable_way_in(t->e, t->size, k);
}

/* Whether way @e's check word holds for its key, whose hash is @h. */
static bool check_ok(const struct xlb_ct_entry *e, __u64 h)
{
	return e->flow.check == xlb_ct_check(h, e->flow.backend_id, e->flow.vip_id);
}

bool flowtable_entry_ok(const struct xlb_ct_entry *e)
{
	return e->key.family && check_ok(e, ct_hash(&e->key));
}

struct xlb_ct_entry *flowtable_find(const struct flowtable *t, const struct xlb_flow_key *k)
{
	__u64 h = ct_hash(k);
	struct xlb_ct_entry *e = way_in(t->e, t->size, k, h);

	return k->family && key_eq(&e->key, k) && check_ok(e, h) ? e : NULL;
}

void flowtable_write(struct xlb_ct_entry *e, const struct xlb_flow_key *k,
		     const struct xlb_flow *f)
{
	e->flow = *f;
	e->flow.check = xlb_ct_check(ct_hash(k), f->backend_id, f->vip_id);
	barrier();
	e->key = *k;
}

void flowtable_clear(struct xlb_ct_entry *e)
{
	memset(&e->key, 0, sizeof(e->key));
	barrier();
	memset(&e->flow, 0, sizeof(e->flow));
}

__u32 flowtable_size_for(__u64 flows)
{
	__u64 n = XLB_CT_SIZE_MIN;

	while (n < flows && n < (1ULL << 31))
		n <<= 1;
	return (__u32)n;
}
