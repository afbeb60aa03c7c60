/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the data-plane benchmarks (pktcost, liverate): build
 * test frames, configure a freshly loaded xlb skeleton through its map fds
 * exactly as the CLI would (VIP, backends, Maglev table swapped into
 * `tables`), time one BPF_PROG_TEST_RUN, and summarise samples.
 *
 * Address plan inside the benchmark namespace (bench/run.sh makes it):
 * the balancer's veth has 10.200.0.1/24 and fd00:200::1/64, the gateway
 * 10.200.0.2 / fd00:200::2 is a permanent neighbour, and backends live
 * behind it in 10.128.0.0/9 and fd00:201::/64, so every backend resolves.
 */
#ifndef XLB_BENCHLIB_H
#define XLB_BENCHLIB_H

#include <stddef.h>
#include <stdio.h>
#include <linux/types.h>

#include "xlb_abi.h"

#define BENCH_IFACE	"xlbb-b"	/* the balancer's veth in the bench namespace */
#define BENCH_PEER	"xlbb-a"	/* the generator's side */
#define BENCH_FRAME_MAX	256

/* TCP flags byte: offset in the header, and the bits the cases set. */
#define BENCH_TCP_FLAGS_OFF	13
#define BENCH_TCP_SYN		0x02
#define BENCH_TCP_ACK		0x10

struct bench_flow {
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 tcp_flags;
	__u32 src[4], dst[4];	/* network order, IPv4 in word 0 */
	__u16 sport, dport;	/* host order */
};

/* Writes the frame for @f into @buf; returns its length. */
size_t bench_frame(const struct bench_flow *f, unsigned char *buf);
/* The conntrack key xlb's parser makes of @f. */
void bench_flow_key(const struct bench_flow *f, struct xlb_flow_key *key);

/* Addresses of the plan above: client i, VIP i, backend i. */
void bench_client4(__u32 i, __u32 *addr);
void bench_vip4(__u32 i, __u32 *addr);
void bench_backend4(__u32 i, __u32 *addr);
void bench_client6(__u32 i, __u32 *addr);
void bench_vip6(__u32 i, __u32 *addr);
void bench_backend6(__u32 i, __u32 *addr);

struct xlb_bpf;

/* Sets the outer sources 10.200.0.1 and fd00:200::1. */
int bench_xlb_sources(struct xlb_bpf *skel);

/*
 * Adds VIP @vip_id (@key) with backends ids first_be..first_be+n-1 of
 * family @be_family (backend addresses bench_backend*(first_be + i)), and
 * its Maglev table of @table_size slots. Returns 0 or -errno.
 *
 * With @inner set, only the backends and the filled table are made: the
 * table's fd goes to *inner and the caller inserts tables and VIPs in bulk
 * (bench_xlb_commit), because every single update of a map-in-map waits
 * for an RCU grace period (about 10 ms here), and a batch waits once.
 */
int bench_xlb_vip(struct xlb_bpf *skel, const struct xlb_vip_key *key, __u32 vip_id,
		  __u32 table_size, __u8 be_family, __u32 first_be, __u32 n, int *inner);
/* What the control plane derives: the VIP filter covers @keys' addresses, armed. */
int bench_xlb_filter_add(struct xlb_bpf *skel, const struct xlb_vip_key *keys, __u32 n);
/* The VIP index rebuilt from the vips hash, as a commit does (user/lib/vipindex.h). 0 or -1. */
int bench_xlb_index(struct xlb_bpf *skel);
int bench_xlb_commit(struct xlb_bpf *skel, __u32 count, __u32 *ids, int *inners,
		     struct xlb_vip_key *keys, struct xlb_vip *vips);

/*
 * One BPF_PROG_TEST_RUN of @prog_fd on @frame, repeat 1. Returns the
 * in-kernel duration in ns, or -1; *act gets the XDP action and, if
 * @out_len is set, *out_len the length of the frame the program left.
 */
long bench_run_once(int prog_fd, int ifindex, const unsigned char *frame, size_t len, int *act,
		    size_t *out_len);

/* Median, min, max of @n samples (sorts them). */
struct bench_stat {
	double med, min, max;
};
struct bench_stat bench_summary(double *v, size_t n);
/*
 * The mean of the middle half of @n samples (sorts them): the figure of one
 * repetition's calls. Like a median it ignores the calls an interrupt or
 * another task stretched; unlike one it is not a multiple of the clock's
 * tick (this VM's ktime ticks in 10 ns), since each call's reading is
 * rounded down or up by the tick's random phase, which the mean averages.
 */
double bench_midmean_u32(__u32 *v, size_t n);

/* The map @fd's memory as the kernel charges it (fdinfo's memlock), or -1. */
long long bench_map_memlock(int fd);

double bench_now(void);		/* CLOCK_MONOTONIC seconds */
/* The MAC address of interface @ifname (in this network namespace) into @mac[6]. */
void bench_if_mac(const char *ifname, unsigned char *mac);
/* Pins the calling thread to @cpu. */
void bench_pin(int cpu);
void bench_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
