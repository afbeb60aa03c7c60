// SPDX-License-Identifier: GPL-2.0
/*
 * Katran as a benchmark peer; see katran.h. Everything here writes Katran's
 * maps through their fds; nothing of Katran's own code is built or copied,
 * only its map layouts are restated (from its README and BTF, checked by
 * size at open).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "katran.h"
#include "maglev.h"

#define KATRAN_RING_SIZE	65537	/* RING_SIZE: slots per VIP in ch_rings */
#define KATRAN_MAX_VIPS		512	/* MAX_VIPS: the global counters follow the VIPs' */
#define KATRAN_LRU_CNTRS	0	/* stats[MAX_VIPS + 0]: v1 packets, v2 LRU misses */
#define KATRAN_CTL_MAC		0	/* ctl_array key of the default router's MAC */
#define KATRAN_MAX_CPUS		128	/* lru_mapping entries */
#define KATRAN_BATCH		65536

const char *const katran_key[KATRAN_BUILDS] = { "every_flow", "as_shipped" };
const char *const katran_file[KATRAN_BUILDS] = { "katran_balancer_noflood.bpf.o",
						 "katran_balancer.bpf.o" };

struct katran_vip_key {		/* vip_definition */
	__be32 vip[4];
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct katran_vip_meta {	/* vip_meta */
	__u32 flags;
	__u32 vip_num;
};

struct katran_real {		/* real_definition */
	__be32 dst[4];
	__u8 flags;
	__u8 pad[3];
};

struct katran_ctl {		/* ctl_value */
	union {
		__u64 value;
		__u8 mac[6];
	};
};

struct katran_lru_val {		/* real_pos_lru */
	__u32 pos;
	__u32 pad;
	__u64 atime;
};

struct katran_stats {		/* lb_stats, per CPU */
	__u64 v1, v2;
};

_Static_assert(sizeof(struct katran_flow_key) == 40, "Katran's flow_key");
_Static_assert(sizeof(struct katran_vip_key) == 20, "Katran's vip_definition");
_Static_assert(sizeof(struct katran_vip_meta) == 8, "Katran's vip_meta");
_Static_assert(sizeof(struct katran_real) == 20, "Katran's real_definition");
_Static_assert(sizeof(struct katran_ctl) == 8, "Katran's ctl_value");
_Static_assert(sizeof(struct katran_lru_val) == 16, "Katran's real_pos_lru");
_Static_assert(sizeof(struct katran_stats) == 16, "Katran's lb_stats");

struct katran {
	struct bpf_object *obj;
	const char *name;
	int prog, vip_map, reals, ch_rings, ctl, lru_mapping, stats;
	int ncpu, *lru;			/* the LRU of each possible CPU */
	__u32 nreals;
};

static int map_fd(struct katran *k, const char *name, __u32 key, __u32 value)
{
	struct bpf_map *m = bpf_object__find_map_by_name(k->obj, name);

	if (!m)
		bench_die("katran %s: no map %s", k->name, name);
	if (bpf_map__key_size(m) != key || bpf_map__value_size(m) != value)
		bench_die("katran %s: map %s has key %u value %u, expected %u %u", k->name, name,
			  bpf_map__key_size(m), bpf_map__value_size(m), key, value);
	return bpf_map__fd(m);
}

static void check_lru_layout(struct katran *k)
{
	struct bpf_map *m = bpf_object__find_map_by_name(k->obj, "lru_mapping");
	struct bpf_map *inner = m ? bpf_map__inner_map(m) : NULL;

	if (!inner || bpf_map__key_size(inner) != sizeof(struct katran_flow_key) ||
	    bpf_map__value_size(inner) != sizeof(struct katran_lru_val) ||
	    bpf_map__type(inner) != BPF_MAP_TYPE_LRU_HASH)
		bench_die("katran %s: lru_mapping's inner map is not the LRU of its README",
			  k->name);
}

struct katran *katran_open(const char *dir, enum katran_build b, const unsigned char *gw)
{
	struct katran_ctl ctl = {};
	struct bpf_program *p;
	struct katran *k;
	char path[4096];
	__u32 key = KATRAN_CTL_MAC;

	snprintf(path, sizeof(path), "%s/%s", dir, katran_file[b]);
	if (access(path, R_OK)) {
		errno = ENOENT;
		return NULL;
	}
	k = calloc(1, sizeof(*k));
	k->name = katran_key[b];
	k->obj = bpf_object__open_file(path, NULL);
	if (!k->obj)
		bench_die("open %s: %s", path, strerror(errno));
	p = bpf_object__find_program_by_name(k->obj, "balancer_ingress");
	if (!p)
		bench_die("%s: no program balancer_ingress", path);
	check_lru_layout(k);	/* libbpf drops the inner map's template at load */
	if (bpf_object__load(k->obj))
		bench_die("load %s: %s", path, strerror(errno));
	k->prog = bpf_program__fd(p);
	k->vip_map = map_fd(k, "vip_map", sizeof(struct katran_vip_key),
			    sizeof(struct katran_vip_meta));
	k->reals = map_fd(k, "reals", sizeof(__u32), sizeof(struct katran_real));
	k->ch_rings = map_fd(k, "ch_rings", sizeof(__u32), sizeof(__u32));
	k->ctl = map_fd(k, "ctl_array", sizeof(__u32), sizeof(struct katran_ctl));
	k->lru_mapping = map_fd(k, "lru_mapping", sizeof(__u32), sizeof(__u32));
	k->stats = map_fd(k, "stats", sizeof(__u32), sizeof(struct katran_stats));
	k->ncpu = libbpf_num_possible_cpus();
	if (k->ncpu < 1 || k->ncpu > KATRAN_MAX_CPUS)
		bench_die("katran: %d possible CPUs, lru_mapping holds %d", k->ncpu,
			  KATRAN_MAX_CPUS);
	k->lru = malloc(k->ncpu * sizeof(*k->lru));
	for (int i = 0; i < k->ncpu; i++)
		k->lru[i] = -1;
	memcpy(ctl.mac, gw, sizeof(ctl.mac));
	if (bpf_map_update_elem(k->ctl, &key, &ctl, BPF_ANY))
		bench_die("katran %s: ctl_array: %s", k->name, strerror(errno));
	return k;
}

void katran_close(struct katran *k)
{
	if (!k)
		return;
	for (int i = 0; i < k->ncpu; i++)
		if (k->lru[i] >= 0)
			close(k->lru[i]);
	bpf_object__close(k->obj);
	free(k->lru);
	free(k);
}

int katran_prog_fd(const struct katran *k)
{
	return k->prog;
}

/* The ring: the Maglev table xlb builds for the same backends, holding real indices. */
static void fill_ring(struct katran *k, __u32 n)
{
	struct maglev_backend *mb = calloc(n, sizeof(*mb));
	__u32 *ring = calloc(KATRAN_RING_SIZE, sizeof(*ring));
	__u32 *keys = calloc(KATRAN_RING_SIZE, sizeof(*keys));
	__u32 count = KATRAN_RING_SIZE;

	for (__u32 i = 0; i < n; i++) {
		mb[i].id = i + 1;	/* real 0 is invalid in Katran */
		bench_backend4(i, mb[i].addr);
		mb[i].family = XLB_AF_INET;
		mb[i].weight = 1;
	}
	if (maglev_build(mb, n, KATRAN_RING_SIZE, ring))
		bench_die("katran: ring build failed");
	for (__u32 j = 0; j < KATRAN_RING_SIZE; j++)
		keys[j] = j;	/* vip_num 0 * RING_SIZE + j */
	if (bpf_map_update_batch(k->ch_rings, keys, ring, &count, NULL))
		bench_die("katran %s: ch_rings: %s", k->name, strerror(errno));
	free(mb);
	free(ring);
	free(keys);
}

void katran_service(struct katran *k, const __u32 *vip, __u16 port, __u32 n)
{
	struct katran_vip_key vk = { .port = htons(port), .proto = IPPROTO_TCP };
	struct katran_vip_meta vm = { .flags = 0, .vip_num = 0 };

	for (__u32 i = 0; i < n; i++) {
		struct katran_real r = {};
		__u32 idx = i + 1;

		bench_backend4(i, r.dst);
		if (bpf_map_update_elem(k->reals, &idx, &r, BPF_ANY))
			bench_die("katran %s: reals: %s", k->name, strerror(errno));
	}
	k->nreals = n;
	fill_ring(k, n);
	vk.vip[0] = vip[0];
	if (bpf_map_update_elem(k->vip_map, &vk, &vm, BPF_ANY))
		bench_die("katran %s: vip_map: %s", k->name, strerror(errno));
}

void katran_lrus(struct katran *k, __u64 entries)
{
	for (int cpu = 0; cpu < k->ncpu; cpu++) {
		int fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "katran_lru",
					sizeof(struct katran_flow_key),
					sizeof(struct katran_lru_val), entries, NULL);

		if (fd < 0)
			bench_die("katran %s: LRU of %llu entries: %s", k->name,
				  (unsigned long long)entries, strerror(errno));
		if (bpf_map_update_elem(k->lru_mapping, &cpu, &fd, BPF_ANY))
			bench_die("katran %s: lru_mapping[%d]: %s", k->name, cpu, strerror(errno));
		if (k->lru[cpu] >= 0)
			close(k->lru[cpu]);
		k->lru[cpu] = fd;
	}
}

void katran_flow_key(const struct bench_flow *f, struct katran_flow_key *key)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->src, f->src, sizeof(key->src));
	memcpy(key->dst, f->dst, sizeof(key->dst));
	key->sport = htons(f->sport);
	key->dport = htons(f->dport);
	key->proto = f->proto;
}

static void track_one_lru(struct katran *k, int fd, const struct katran_flow_key *keys, __u32 n)
{
	struct katran_lru_val *vals = calloc(KATRAN_BATCH, sizeof(*vals));

	for (__u32 done = 0; done < n;) {
		__u32 count = n - done < KATRAN_BATCH ? n - done : KATRAN_BATCH;

		for (__u32 i = 0; i < count; i++)
			vals[i].pos = 1 + (done + i) % k->nreals;
		if (bpf_map_update_batch(fd, keys + done, vals, &count, NULL))
			bench_die("katran %s: LRU batch: %s", k->name, strerror(errno));
		done += count;
	}
	free(vals);
}

void katran_track(struct katran *k, int cpu, const struct katran_flow_key *keys, __u32 n)
{
	for (int c = 0; c < k->ncpu; c++)
		if (cpu < 0 || c == cpu)
			track_one_lru(k, k->lru[c], keys, n);
}

long long katran_lru_memlock(const struct katran *k, int cpu)
{
	return k->lru[cpu] < 0 ? -1 : bench_map_memlock(k->lru[cpu]);
}

int katran_is_tracked(struct katran *k, int cpu, const struct katran_flow_key *key)
{
	struct katran_lru_val v;

	return !bpf_map_lookup_elem(k->lru[cpu], key, &v);
}

__u64 katran_lru_misses(struct katran *k)
{
	struct katran_stats *s = calloc(k->ncpu, sizeof(*s));
	__u32 key = KATRAN_MAX_VIPS + KATRAN_LRU_CNTRS;
	__u64 sum = 0;

	if (bpf_map_lookup_elem(k->stats, &key, s))
		bench_die("katran %s: stats: %s", k->name, strerror(errno));
	for (int i = 0; i < k->ncpu; i++)
		sum += s[i].v2;
	free(s);
	return sum;
}
