/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every packet test needs around BPF_PROG_TEST_RUN: a private network
 * namespace with real interfaces, addresses, routes and permanent neighbour
 * entries (so bpf_fib_lookup answers as in production), the balancer's
 * maps filled as the CLI would fill them, one call to run a program on a
 * frame as if it arrived on an interface, and the per-CPU counters summed.
 *
 * Topology (created by fx_net_setup() in a namespace of its own):
 *   link A: FX_IF_A (fx_mac_a) 10.99.0.1/24 fd00:99::1/64, MTU 1500;
 *           backends 10.99.0.N / fd00:99::N, N = 11..19, with neighbour MAC
 *           fx_be_mac(N) (N as written in the address, e.g. 15 for ::15);
 *           10.99.0.50 / fd00:99::50 have no neighbour entry
 *   link B: FX_IF_B (fx_mac_b) 10.98.0.1/24 fd00:98::1/64, MTU FX_MTU_B;
 *           backends 10.98.0.21 / fd00:98::21 (MAC fx_be_mac(21))
 */
#ifndef XLB_TEST_FIXTURE_H
#define XLB_TEST_FIXTURE_H

#include <linux/types.h>
#include <stddef.h>

#include "xlb_abi.h"
#include "pkt.h"

struct xlb_bpf;

#define FX_IF_A		"xlbt0"
#define FX_IF_B		"xlbt2"
#define FX_MTU_B	1400
#define FX_SRC4		"10.99.0.1"
#define FX_SRC6		"fd00:99::1"
#define FX_BE_FIRST	11
#define FX_BE_LAST	21

extern const __u8 fx_mac_a[6], fx_mac_b[6], fx_mac_client[6];
extern __u32 fx_ifindex_a, fx_ifindex_b;

/* The neighbour MAC of backend address ...::n / x.x.x.n (n = last byte). */
void fx_be_mac(__u8 last, __u8 mac[6]);

/* Enter a fresh network namespace and build the topology. Exits on failure. */
void fx_net_setup(void);

/* Print a failed "setup" case and the summary line, and exit. */
void fx_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

struct fx_run {
	int ret;		/* XDP action */
	__u8 out[PKT_MAX];
	__u32 out_len;
};

/* Run @prog_fd once on @in as received on @ifindex. 0, or -errno of test_run. */
int fx_run(int prog_fd, __u32 ifindex, const void *in, size_t len, struct fx_run *r);

/* Sum over CPUs of the __u64 at @off in the value of per-CPU map @fd at @key. */
__u64 fx_percpu_u64(int fd, __u32 key, size_t value_size, size_t off);

/* Every reason counter of a `reasons` map. */
void fx_reasons(int fd, __u64 snap[XLB_REASON_MAX]);
/*
 * Check that since @before exactly one packet was counted, under @reason;
 * records a failure (t_fail) otherwise.
 */
void fx_expect_reason(int fd, const __u64 before[XLB_REASON_MAX], int reason);
extern const char *const fx_reason_names[XLB_REASON_MAX];

/* The balancer, loaded (not attached), with a small conntrack map. Exits on failure. */
struct xlb_bpf *fx_xlb_load(void);
/* The same with the loader's encapsulation settings (attach --encap, --gue-port). */
struct xlb_bpf *fx_xlb_load_encap(__u32 encap, __u16 gue_port);
void fx_config(struct xlb_bpf *s, const char *src4, const char *src6);
void fx_vip(struct xlb_bpf *s, int family, const char *addr, __u16 port, __u8 proto,
	    __u32 id, __u32 table_size, __u8 sched, __u8 flags);
/* Rebuild the VIP index from the vips hash, as a commit does (fx_vip() and fx_vip_window() do). */
void fx_vip_index(struct xlb_bpf *s);
/* Set the chain window (struct xlb_vip.chain_window_s) of an existing VIP. */
void fx_vip_window(struct xlb_bpf *s, int family, const char *addr, __u16 port, __u8 proto,
		   __u32 window_s);
void fx_backend(struct xlb_bpf *s, __u32 id, int family, const char *addr, __u16 weight,
		__u8 flags, __u32 vip_id);
/* A new Maglev table of @size slots over backends @ids (as in `backends`), swapped in. */
void fx_table(struct xlb_bpf *s, __u32 vip_id, __u32 size, const __u32 *ids, size_t n);
/* A new table with every slot @id (XLB_BACKEND_NONE: empty), swapped in. */
void fx_table_fill(struct xlb_bpf *s, __u32 vip_id, __u32 size, __u32 id);

/* What slot @slot of @vip_id's current table holds (XLB_BACKEND_NONE if nothing). */
__u32 fx_slot(struct xlb_bpf *s, __u32 vip_id, __u32 slot);
/* The whole slot: owner, previous owner, time of the change. */
struct xlb_slot fx_slot_get(struct xlb_bpf *s, __u32 vip_id, __u32 slot);
/* A new table whose every slot is owned by @id, previously by @prev since @changed_s. */
void fx_table_slots(struct xlb_bpf *s, __u32 vip_id, __u32 size, __u32 id, __u32 prev,
		    __u32 changed_s);

#endif /* XLB_TEST_FIXTURE_H */
