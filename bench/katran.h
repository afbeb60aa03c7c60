/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Katran's XDP balancer as a peer of the data-plane benchmarks (pktcost,
 * liverate). The two builds in $TOP/../shared/peers/katran (its README has
 * the map layouts) are opened with libbpf from their object files, no
 * skeleton, and configured through their map fds the way Katran's own
 * control plane would: one VIP in `vip_map`, its reals in `reals`, a
 * 65,537-slot ring in `ch_rings` (the same Maglev table xlb builds for the
 * same backends), the default router's MAC in `ctl_array`, and one LRU per
 * possible CPU in `lru_mapping`. A build whose object is absent is not
 * measured: the caller writes null, never a figure from elsewhere.
 *
 * The map layouts below are Katran's (balancer_structs.h), checked against
 * the objects' BTF by their sizes; all little-endian values, network-order
 * addresses and ports.
 */
#ifndef XLB_BENCH_KATRAN_H
#define XLB_BENCH_KATRAN_H

#include <linux/types.h>

#include "benchlib.h"

enum katran_build {
	KATRAN_EVERY_FLOW,	/* katran_balancer_noflood.bpf.o: inserts every new flow */
	KATRAN_AS_SHIPPED,	/* katran_balancer.bpf.o: flood mode above 125k new flows/s/CPU */
	KATRAN_BUILDS,
};

/* JSON key and object file of each build. */
extern const char *const katran_key[KATRAN_BUILDS];
extern const char *const katran_file[KATRAN_BUILDS];

/* Katran's flow_key: the LRU's key (40 bytes). */
struct katran_flow_key {
	__be32 src[4];
	__be32 dst[4];
	__u16 sport, dport;	/* network order: Katran's port16[0], port16[1] */
	__u8 proto;
	__u8 pad[3];
};

struct katran;

/*
 * Opens and loads build @b from @dir with the default router's MAC @gw.
 * Returns NULL when the object file does not exist (errno ENOENT): that
 * build is not measured. Any other failure ends the benchmark.
 */
struct katran *katran_open(const char *dir, enum katran_build b, const unsigned char *gw);
void katran_close(struct katran *k);
int katran_prog_fd(const struct katran *k);

/*
 * VIP 0 (vip_num 0) at IPv4 @vip, TCP port @port (host order), with @n reals
 * 1..n at bench_backend4(0..n-1): the backends xlb's VIP 0 has.
 */
void katran_service(struct katran *k, const __u32 *vip, __u16 port, __u32 n);

/* Fresh LRUs of @entries each, one per possible CPU, swapped into lru_mapping. */
void katran_lrus(struct katran *k, __u64 entries);

void katran_flow_key(const struct bench_flow *f, struct katran_flow_key *key);

/*
 * Inserts @n flows into the LRU of @cpu (-1: of every CPU) as tracked, on
 * real 1 + i % reals. Batched: @n may be millions.
 */
void katran_track(struct katran *k, int cpu, const struct katran_flow_key *keys, __u32 n);

/* The memory of @cpu's LRU (bench_map_memlock()), or -1. */
long long katran_lru_memlock(const struct katran *k, int cpu);

/* Whether @key is in the LRU of @cpu (a user-space lookup). */
int katran_is_tracked(struct katran *k, int cpu, const struct katran_flow_key *key);

/* Packets Katran routed by consistent hashing, LRU misses (stats[MAX_VIPS + LRU_CNTRS].v2). */
__u64 katran_lru_misses(struct katran *k);

#endif
