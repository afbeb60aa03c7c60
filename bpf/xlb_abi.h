/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xlb ABI: every map key and value, and every enum, shared by the BPF
 * programs (bpf/) and the control plane (user/). Pinned maps outlive the
 * programs and processes that created them, so a layout change here must
 * fail the build (the _Static_asserts) rather than silently corrupt a map.
 *
 * Addresses are stored as four 32-bit words in network byte order; an IPv4
 * address uses word 0 and leaves words 1..3 zero. Ports are network order.
 */
#ifndef XLB_ABI_H
#define XLB_ABI_H

#ifdef __BPF__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <assert.h>
#endif

/* Sizes: defaults, overridable at attach time where noted. */
#define XLB_MAX_VIPS		4096	/* vips, tables, vip_stats, vip_config */
#define XLB_MAX_BACKENDS	65536	/* backends, backend_stats, backend_active */
#define XLB_CT_SIZE		(1 << 20) /* conntrack entries (a power of two); --conntrack-size */
#define XLB_TABLE_SIZE_DEFAULT	65537	/* Maglev table slots: a prime */
#define XLB_TABLE_SIZE_MAX	65537	/* largest table a VIP may ask for */
#define XLB_MAX_DECAP_ADDRS	64	/* addresses one decap instance answers for */
#define XLB_WEIGHT_MAX		1000

/* A flow's conntrack entry is rewritten at most this often (its last_seen). */
#define XLB_FLOW_TOUCH_NS	(1000ULL * 1000 * 1000)

/* Backend ids are indexes into the backends array; this one means "none". */
#define XLB_BACKEND_NONE	0xffffffffu

enum xlb_family {
	XLB_AF_INET	= 4,
	XLB_AF_INET6	= 6,
};

/* Per-VIP scheduler: how a new (untracked) flow picks its backend. */
enum xlb_sched {
	XLB_SCHED_MAGLEV = 0,	/* hash of the 5-tuple into the Maglev table */
	XLB_SCHED_SH	 = 1,	/* hash of the client address only (affinity) */
	XLB_SCHED_WRR	 = 2,	/* per-CPU counter into a smooth-WRR sequence table */
	XLB_SCHED_LC	 = 3,	/* power of two choices on active flows / weight */
	XLB_SCHED_LRT	 = 4,	/* power of two choices on response time, then active */
	XLB_SCHED_MAX,
};

/* struct xlb_vip.flags */
#define XLB_VIP_F_ALL_DOWN	(1u << 0) /* derived: every backend is DOWN (see the policy below) */
#define XLB_VIP_F_NO_CT		(1u << 1) /* --conntrack off: stateless, table + hop list only */
#define XLB_VIP_F_DOWN_MOVE	(1u << 2) /* --down-flows move: a DOWN backend's tracked flows re-hash */
#define XLB_VIP_F_ALL_DOWN_DROP	(1u << 3) /* --all-down drop: ALL_DOWN drops every packet */
#define XLB_VIP_F_ON_BACKUP	(1u << 4) /* derived: the table is of backups (no usable primary); BPF ignores it */
/*
 * --forward nat: full NAT (bpf/lib/nat.h) instead of encapsulation. The
 * only forwarding choice a VIP makes; xlb_forward() in bpf/xlb.bpf.c is
 * the one place that reads it. Needs conntrack (never with NO_CT).
 */
#define XLB_VIP_F_NAT		(1u << 5)
/*
 * The DOWN policy. By default (neither bit) a tracked flow stays on its
 * backend when that goes DOWN (new flows never pick it: the table leaves it
 * out), and a VIP whose every backend is DOWN fails open: its table is built
 * from all of them as if none were, and their tracked flows stay. Both
 * ALL_DOWN and ALL_DOWN_DROP set: the data plane drops (XLB_DROP_NO_BACKEND).
 */
#define XLB_VIP_F_DROPPING	(XLB_VIP_F_ALL_DOWN | XLB_VIP_F_ALL_DOWN_DROP)

/* struct xlb_backend.flags */
#define XLB_BE_F_USED		(1u << 0) /* slot holds a configured backend */
#define XLB_BE_F_DRAINED	(1u << 1) /* no new flows; tracked flows stay */
#define XLB_BE_F_DOWN		(1u << 2) /* failed health checks: no new flows (XLB_VIP_F_DOWN_MOVE) */
/*
 * --backup: in its VIP's table only while no primary is usable (the control
 * plane builds the table; BPF never reads this bit). A backup out of the
 * table is USED and not DOWN, so its tracked flows stay on it.
 */
#define XLB_BE_F_BACKUP		(1u << 3)

/* struct xlb_flow.flags */
#define XLB_FLOW_F_CLOSING	(1u << 0) /* FIN or RST seen: short idle timeout */
#define XLB_FLOW_F_SYNCED	(1u << 1) /* inserted by the agent from a peer's sync message */
#define XLB_FLOW_F_NAT_REPLY	(1u << 2) /* nat_flows: the backend's direction (key: backend -> SNAT) */

/* Key of the vips hash. Port 0 is the "all ports" VIP of that address. */
struct xlb_vip_key {
	__u32 addr[4];
	__be16 port;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;		/* enum xlb_family */
};

/* Value of the vips hash: what the hot path needs, nothing more. */
struct xlb_vip {
	__u32 id;		/* index into tables, vip_stats, vip_config */
	__u32 table_size;	/* slots in this VIP's table (Maglev prime or WRR length) */
	__u8 sched;		/* enum xlb_sched */
	__u8 flags;		/* XLB_VIP_F_* */
	__u16 pad;
	__u32 chain_window_s;	/* --chain-window: a slot's previous owner is a hop this long; 0 = never */
};

/* Default of --chain-window (Beamer's daisy-chaining timeout). */
#define XLB_CHAIN_WINDOW_DEFAULT_S	240

/* Forwarding encapsulation of an instance (attach --encap), struct xlb_ctl.encap. */
enum xlb_encap {
	XLB_ENCAP_IPIP = 0,	/* IPv4-in-IPv4, IPv6-in-IPv6, IPv4-in-IPv6 (today's default) */
	XLB_ENCAP_GUE  = 1,	/* GUE over UDP with a hop list: second chance at the backend */
};

#define XLB_GUE_PORT_DEFAULT	6080

/*
 * GUE as xlb sends it (draft-ietf-intarea-gue, variant 0), after the outer
 * IPv4/IPv6 header and a UDP header to the GUE port (source port from the
 * flow hash; checksum 0 over IPv4, valid over IPv6):
 *
 *   struct xlb_gue_hdr   4 bytes: version 0, C 0, hlen = words of private
 *                        data, proto = the inner packet (IPPROTO_IPIP for
 *                        IPv4, IPPROTO_IPV6 for IPv6), flags 0 (no extensions)
 *   struct xlb_gue_hops4 (IPv4 outer, hlen 3) or xlb_gue_hops6 (IPv6 outer,
 *                        hlen 9): the private data, a hop list
 *   the inner packet, byte for byte as the client sent it
 *
 * The hop list names the backends, in order, that may own the flow: hop[0]
 * is the first outer destination; `next` is the index of the hop this copy
 * is addressed to (its outer destination); `count` (1..XLB_GUE_HOPS_MAX)
 * says how many entries are valid (the rest are zero, the size is fixed per
 * outer family so the overhead is a constant). Hops are of the outer family.
 * A decap program that holds no socket for a non-SYN TCP packet rewrites the
 * outer destination to hop[next + 1], increments `next` and sends it on; the
 * last hop always delivers. A GUE packet with hlen 0 has no hop list and is
 * delivered.
 */
#define XLB_GUE_HOPS_MAX	2
#define XLB_GUE_HOPS_TYPE	0x786c	/* "xl": private data is an xlb hop list */

/* struct xlb_gue_hdr.hlen: version (2 bits) and C (1 bit) above the 5-bit length. */
#define XLB_GUE_HLEN_MASK	0x1f
#define XLB_GUE_VER_C_MASK	0xe0

struct xlb_gue_hdr {
	__u8 hlen;		/* version (2 bits) 0, C (1 bit) 0, hlen (5 bits) */
	__u8 proto;		/* IPPROTO_IPIP or IPPROTO_IPV6 */
	__be16 flags;		/* 0 */
};

struct xlb_gue_hops4 {
	__be16 type;		/* XLB_GUE_HOPS_TYPE */
	__u8 next;
	__u8 count;
	__be32 hop[XLB_GUE_HOPS_MAX];
};

struct xlb_gue_hops6 {
	__be16 type;		/* XLB_GUE_HOPS_TYPE */
	__u8 next;
	__u8 count;
	__u32 hop[XLB_GUE_HOPS_MAX][4];
};

/* GUE overhead in front of the inner packet, outer IP header included. */
#define XLB_GUE4_LEN	(20 + 8 + (int)sizeof(struct xlb_gue_hdr) + (int)sizeof(struct xlb_gue_hops4))
#define XLB_GUE6_LEN	(40 + 8 + (int)sizeof(struct xlb_gue_hdr) + (int)sizeof(struct xlb_gue_hops6))

/* Outer UDP source ports of GUE: from the flow hash, in the ephemeral range (never 0). */
#define XLB_GUE_SPORT_MIN	49152
#define XLB_GUE_SPORT_MASK	0x3fff	/* 16384 ports: 49152..65535 */

/*
 * One slot of a VIP's table, as the control plane builds it. `prev` is the
 * slot's owner before its last change and `changed_s` when that was
 * (CLOCK_MONOTONIC seconds, the epoch of bpf_ktime_get_coarse_ns): for
 * `chain_window_s` after a change, an untracked flow of the slot gets
 * `prev` as the second hop of its GUE hop list, since it may still be one
 * of prev's connections. XLB_BACKEND_NONE when there is none (always so in
 * WRR tables).
 */
struct xlb_slot {
	__u32 backend;		/* new flows go here; XLB_BACKEND_NONE = empty slot */
	__u32 prev;		/* owner before the last change, or XLB_BACKEND_NONE */
	__u32 changed_s;	/* when the owner last changed */
};

/*
 * A table in memory (the inner arrays of `tables`, user/lib/table.c):
 * 64-byte lines, the owners first, 16 a line (slot s: line s / 16), then
 * the previous owners with their change times, 8 a line (slot s: line
 * xlb_table_owner_lines(size) + s / 8), then one tail line. A new flow's
 * pick reads one owner, from a table a quarter of the size whole slots
 * would make (65,537 slots: 256 KiB), so it stays in the cache; only GUE's
 * second chance reads the previous owner, after the pick, and only while
 * the tail says some slot's change is younger than the VIP's chain window:
 * a table at rest costs a GUE pick its owner line and the tail, which every
 * pick of the VIP shares, not a second random line (768 KiB, not 256 KiB,
 * to keep in the cache).
 */
#define XLB_TABLE_LINE_OWNERS	16
#define XLB_TABLE_LINE_PREVS	8

struct xlb_slot_prev {
	__u32 prev;
	__u32 changed_s;
};

/* What a pick needs to know of the whole table: when its youngest change was. */
struct xlb_table_tail {
	__u32 prevs;		/* slots with a previous owner; 0: no second hop anywhere */
	__u32 prev_changed_s;	/* the latest changed_s of those slots */
	__u32 pad[14];
};

struct xlb_table_line {
	union {
		__u32 owner[XLB_TABLE_LINE_OWNERS];
		struct xlb_slot_prev prev[XLB_TABLE_LINE_PREVS];
		struct xlb_table_tail tail;
	};
};

static inline __u32 xlb_table_owner_lines(__u32 size)
{
	return (size + XLB_TABLE_LINE_OWNERS - 1) / XLB_TABLE_LINE_OWNERS;
}

/* The line of slot @slot's previous owner, in a table of @size slots. */
static inline __u32 xlb_table_prev_line(__u32 size, __u32 slot)
{
	return xlb_table_owner_lines(size) + slot / XLB_TABLE_LINE_PREVS;
}

/* The tail line of a table of @size slots, after its previous owners. */
static inline __u32 xlb_table_tail_line(__u32 size)
{
	return xlb_table_owner_lines(size) + (size + XLB_TABLE_LINE_PREVS - 1) / XLB_TABLE_LINE_PREVS;
}

/*
 * Entries of the array map of a table of @size slots. A table made by an
 * older xlb has no tail line (one entry fewer): the data plane then reads
 * every slot's previous owner, and attach gives it one (table_add_tail()).
 */
static inline __u32 xlb_table_lines(__u32 size)
{
	return xlb_table_tail_line(size) + 1;
}

/* Value of the backends array, indexed by backend id. A backend belongs to one VIP. */
struct xlb_backend {
	__u32 addr[4];
	__u8 family;		/* enum xlb_family */
	__u8 flags;		/* XLB_BE_F_* */
	__u16 weight;		/* 1..XLB_WEIGHT_MAX */
	__u32 vip_id;
	__u32 rt_us;		/* probe response time EWMA (lrt), 0 = unknown */
	/*
	 * NAT VIPs: the destination port the backend listens on (network
	 * order); 0 = the VIP's port (always 0 for encap VIPs, which cannot
	 * remap, and for all-ports VIPs, whose packets keep their port).
	 */
	__be16 port;
	__u16 pad;
};

/* A tracked flow's key: the client's 5-tuple as it arrived. */
struct xlb_flow_key {
	__u32 src[4];
	__u32 dst[4];
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u16 pad;
};

/* A flow's state, in a way of conntrack or ct_new (struct xlb_ct_entry), and in nat_flows. */
struct xlb_flow {
	__u32 backend_id;
	__u32 vip_id;
	__u64 last_seen_ns;	/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u16 flags;		/* XLB_FLOW_F_* */
	__u16 young_pkts;	/* ct_new: packets seen while young (saturating); 0 in conntrack */
	__u32 check;		/* in a flow table's way: xlb_ct_check() */
};

/*
 * The conntrack flow table (bpf/lib/conntrack.h, docs/DESIGN.md
 * "Connection tracking"): an array of entries, one cache line each, in
 * buckets of XLB_CT_WAYS consecutive entries. A flow lives in the bucket
 * the low half of its xlb_ct_hash64() names, in any of its ways; a new
 * flow takes the way least recently seen (a free way has last_seen_ns 0).
 * A free way is all zero (key.family 0); a used one's flow.check is
 * xlb_ct_check() of its key, backend and VIP. The table's size is a power
 * of two. ct_new has the same layout. User space reads and writes them
 * through user/lib/flowtable.c, behind user/lib/ct.c.
 */
#define XLB_CT_WAYS		4
#define XLB_CT_SIZE_MIN		1024

struct xlb_ct_entry {
	struct xlb_flow_key key;
	struct xlb_flow flow;
};

/*
 * The key hash, every hash of the data plane: multiply-xorshift over a
 * key's five 64-bit words from @seed. Its users: the flow hash (the
 * conntrack bucket and check, xlb_ct_hash64(); through bpf/lib/hash.h the
 * maglev slot, the lc/lrt choices, the GUE source port and IPv6 flow
 * label) and sh's client hash. Chosen over jhash,
 * which BPF (having no rotate instruction) ran at several times the cost:
 * measured, a conntrack lookup took 34 ns with it, 15 with this. @k must
 * be 8-byte aligned (the packet's key is; user space copies); its words
 * are read through a may_alias type, so that a strict-aliasing compiler
 * cannot read them before the key is written.
 */
typedef __u64 __attribute__((may_alias)) xlb_key_word;

#define XLB_KEY_WORDS		5
#define XLB_HASH_MUL		0x9e3779b97f4a7c15ULL	/* 2^64 / the golden ratio */
#define XLB_HASH_FMIX		0xbf58476d1ce4e5b9ULL	/* splitmix64's finalizer */

static inline __u64 xlb_hash_step(__u64 h, __u64 w)
{
	h = (h ^ w) * XLB_HASH_MUL;
	return h ^ (h >> 32);
}

/* splitmix64's finalizer: a multiply alone leaves high input bits out of low output ones */
static inline __u64 xlb_hash_fmix(__u64 h)
{
	h ^= h >> 30;
	h *= XLB_HASH_FMIX;
	h ^= h >> 31;
	return h;
}

/* The first @n (a constant: the calls unroll) words of @k, from @seed; all 64 bits. */
static inline __u64 xlb_key_hash64(const struct xlb_flow_key *k, int n, __u32 seed)
{
	const xlb_key_word *w = (const xlb_key_word *)k;
	__u64 h = seed;

	for (int i = 0; i < n; i++)
		h = xlb_hash_step(h, w[i]);
	return xlb_hash_fmix(h);
}

/* Its low half: the hash every user but conntrack's check word takes. */
static inline __u32 xlb_key_hash(const struct xlb_flow_key *k, int n, __u32 seed)
{
	return (__u32)xlb_key_hash64(k, n, seed);
}

/*
 * The seeds, fixed, not random, so that every balancer instance (and a
 * restarted one) sends an untracked flow to the same slot and finds the
 * same conntrack bucket; the second gives lc/lrt an independent choice.
 */
#define XLB_HASH_SEED		0x786c6231u	/* "xlb1" */
#define XLB_HASH_SEED2		0x786c6232u	/* "xlb2" */

/*
 * The conntrack hash: the flow hash itself, so a packet computes one. Its
 * low half names the bucket; its high half, which the bucket does not fix,
 * goes into the check word.
 */
static inline __u64 xlb_ct_hash64(const struct xlb_flow_key *k)
{
	return xlb_key_hash64(k, XLB_KEY_WORDS, XLB_HASH_SEED);
}

/*
 * Value of the per-CPU clock_cache (bpf/lib/pkt.h, xlb_clock_now()): a
 * CPU's last reading of the coarse clock, and the jiffy it read it in.
 */
struct xlb_clock {
	__u64 jiffies;
	__u64 ns;
};

/*
 * The VIP index (map vip_index, bpf/lib/vip.h): what the data plane finds
 * a packet's VIP in, where a BPF hash of the vips (jhash, a helper, a
 * bucket list) was a third of a tracked packet's cost. It is an array of
 * XLB_VIP_BUCKETS buckets of XLB_VIP_WAYS slots; a VIP key has two
 * candidate buckets, the halves of xlb_vip_hash64(), and sits in one of
 * them, in the first free way (a free way's key has family 0, and no later
 * way of its bucket is used). A lookup reads at most two buckets and
 * compares at most eight keys: no loop over VIPs, no helper call but the
 * array's, which the verifier inlines. The `vips` hash stays the control
 * plane's record: user/lib/vipindex.c builds a whole new index from it and
 * swaps it into vip_index's one entry (an array of maps), so a packet
 * sees the old index or the new one, never one half written. With at most
 * XLB_MAX_VIPS keys in four times as many ways, a key placed in the less
 * full of its buckets finds a free way (balanced allocation: the fullest
 * bucket holds about log log n keys); the build fails cleanly otherwise.
 */
struct xlb_vip_slot {
	struct xlb_vip_key key;		/* family 0: a free way */
	__u32 pad;
	struct xlb_vip vip;
};

#define XLB_VIP_WAYS		4
#define XLB_VIP_BUCKETS		XLB_MAX_VIPS	/* xlb_vip_buckets_for(XLB_MAX_VIPS) */

struct xlb_vip_bucket {
	struct xlb_vip_slot way[XLB_VIP_WAYS];
};

typedef __u32 __attribute__((may_alias)) xlb_vip_word;

/* The hash of a VIP key (20 bytes, 4-byte aligned): its low half names one bucket, its high half the other. */
static inline __u64 xlb_vip_hash64(const struct xlb_vip_key *k)
{
	const xlb_vip_word *w = (const xlb_vip_word *)k;
	__u64 h = XLB_HASH_SEED;

	h = xlb_hash_step(h, w[0] | (__u64)w[1] << 32);
	h = xlb_hash_step(h, w[2] | (__u64)w[3] << 32);
	h = xlb_hash_step(h, w[4]);
	return xlb_hash_fmix(h);
}

/*
 * The buckets of an index for a vips hash of @max_vips entries: the power
 * of two at or above it (the program reads the count from its inner map;
 * a benchmark that raises the VIP limit raises this with it).
 */
static inline __u32 xlb_vip_buckets_for(__u32 max_vips)
{
	__u32 n = 1;

	while (n < max_vips)
		n <<= 1;
	return n;
}

/* Candidate bucket @choice (0 or 1), of @buckets (a power of two), of a key of hash @hash. */
static inline __u32 xlb_vip_bucket_of(__u64 hash, int choice, __u32 buckets)
{
	return (__u32)(choice ? hash >> 32 : hash) & (buckets - 1);
}

static inline int xlb_vip_key_eq(const struct xlb_vip_key *a, const struct xlb_vip_key *b)
{
	const xlb_vip_word *x = (const xlb_vip_word *)a, *y = (const xlb_vip_word *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) | (x[4] ^ y[4]));
}

/*
 * A conntrack way's check word: binds its flow's backend and VIP to its
 * key (through the high half of the key's xlb_ct_hash64(): two keys of one
 * bucket share low bits of the hash, not those). Two writers racing on one
 * way can leave one flow's key beside the other's backend; the check then
 * fails and the way reads as a miss, and the flow is picked and written
 * again.
 */
static inline __u32 xlb_ct_check(__u64 hash64, __u32 backend_id, __u32 vip_id)
{
	return (__u32)(hash64 >> 32) ^ (backend_id * 0x9e3779b1u) ^ (vip_id * 0x85ebca6bu);
}

/* The first way of the bucket of a flow hashing to @hash, in a table of @size entries. */
static inline __u32 xlb_ct_bucket(__u32 hash, __u32 size)
{
	return (hash * XLB_CT_WAYS) & (size - 1);
}

/*
 * Full NAT (bpf/lib/nat.h, docs/DESIGN.md "NAT"). A NAT flow is two
 * entries of the nat_flows hash, one per direction, each keyed by the
 * tuple its packets arrive with and saying what they leave with:
 *
 *   client's direction  key CLIENT:cport -> VIP:vport
 *                       to  SNAT:sport   -> BACKEND:bport
 *   backend's direction key BACKEND:bport -> SNAT:sport   (XLB_FLOW_F_NAT_REPLY)
 *                       to  VIP:vport    -> CLIENT:cport
 *
 * Each entry's twin is its `to` reversed (xlb_nat_twin_key()), so either
 * finds the other. The backend's entry is inserted first with
 * BPF_NOEXIST: it is the SNAT port's reservation, and no two flows can
 * ever leave with the same tuple. A plain hash, not an LRU: an evicted
 * half would free a port its twin still uses. The agent expires a pair when
 * both halves are idle past the conntrack timeouts (flow.last_seen_ns,
 * flow.flags CLOSING as in conntrack); a full table drops new flows
 * (drop_nat_full). Same family on both sides.
 */
struct xlb_nat_to {
	__u32 src[4];
	__u32 dst[4];
	__be16 sport;
	__be16 dport;
	__u32 pad;
};

struct xlb_nat_flow {
	struct xlb_flow flow;	/* backend_id, vip_id, last_seen_ns, flags (CLOSING, NAT_REPLY) */
	struct xlb_nat_to to;
};

/* The key of @f's twin, whose packets arrive as @f's leave, reversed. */
static inline void xlb_nat_twin_key(const struct xlb_flow_key *k, const struct xlb_nat_flow *f,
				    struct xlb_flow_key *twin)
{
	int i;

	for (i = 0; i < 4; i++) {
		twin->src[i] = f->to.dst[i];
		twin->dst[i] = f->to.src[i];
	}
	twin->sport = f->to.dport;
	twin->dport = f->to.sport;
	twin->proto = k->proto;
	twin->family = k->family;
	twin->pad = 0;
}

/* nat_flows entries (two per flow); attach --nat-size. */
#define XLB_NAT_SIZE_DEFAULT	(1 << 17)
#define XLB_NAT_SIZE_MIN	64

/*
 * The one entry of the snat array (attach --snat, --snat-ports): the
 * source addresses NAT flows leave with, chosen per flow by its hash, and
 * the port range. A CPU searches from its own part of the range
 * (cpu * cpu_slice): CPUs do not contend for ports, no lock is taken, and
 * the NOEXIST insert settles any overlap. At most XLB_SNAT_TRIES ports are
 * tried for one new flow; then it is dropped (drop_snat_exhausted).
 */
#define XLB_SNAT_ADDRS_MAX	8
#define XLB_SNAT_PORT_LO	1024
#define XLB_SNAT_PORT_HI	65535
#define XLB_SNAT_TRIES		16

struct xlb_snat {
	__u32 addr4[XLB_SNAT_ADDRS_MAX];
	__u32 addr6[XLB_SNAT_ADDRS_MAX][4];
	__u8 n4;		/* valid entries of addr4 (0: no IPv4 NAT) */
	__u8 n6;
	__u16 port_lo;		/* host order, inclusive */
	__u16 port_hi;
	/*
	 * NAT VIPs configured, kept by the control plane's commit (attach
	 * leaves it as it is): while 0, a packet for no VIP is never looked
	 * at as a NAT answer, so an instance without NAT pays nothing for it.
	 */
	__u16 nat_vips;
	__u32 cpu_slice;	/* (port_hi - port_lo + 1) / possible CPUs, at least 1 */
};

/* The one entry of the config array: this instance's outer source addresses. */
struct xlb_config {
	__u32 src4;		/* 0 = none: IPv4-outer encapsulation is refused */
	__u32 src6[4];		/* all zero = none */
	__u32 sync_report;	/* 1: report flows entering conntrack and closing (xlb sync set) */
	/*
	 * Bit xlb_all_ports_bit(addr) is set for the address of every
	 * all-ports (port 0) VIP, so a packet to any other address skips that
	 * second VIP lookup (with k such VIPs, all but about k/64 of them do).
	 * Derived by the control plane.
	 */
	__u64 all_ports_addrs;
	/*
	 * Conntrack admission (xlb conntrack set): a new flow is promoted to
	 * the main table after this many packets (0 or 1: at once), and at
	 * most this many flows per second per CPU are admitted (0: no limit).
	 */
	__u32 ct_promote_after;
	__u32 ct_insert_rate;
};

/* The all_ports_addrs bit of an address (BPF and user space must agree). */
static inline __u32 xlb_all_ports_bit(const __u32 addr[4])
{
	__u32 h = addr[0] ^ addr[1] ^ addr[2] ^ addr[3];

	h ^= h >> 16;
	h ^= h >> 8;
	return h & 63;
}

/*
 * Conntrack admission (bpf/lib/conntrack.h, docs/DESIGN.md): a new flow is
 * tracked in the young table ct_new and moves to conntrack after
 * config.ct_promote_after packets, so only flows that lasted compete for
 * the main table. ct_new has XLB_CT_NEW_SIZE(conntrack size) entries.
 */
#define XLB_CT_NEW_DIV			8
#define XLB_CT_NEW_MIN			1024
#define XLB_CT_NEW_SIZE(ct)		((ct) / XLB_CT_NEW_DIV > XLB_CT_NEW_MIN ? \
					 (ct) / XLB_CT_NEW_DIV : XLB_CT_NEW_MIN)
#define XLB_CT_PROMOTE_AFTER_DEFAULT	4	/* a SYN, ACK, ACK flood stays young */
#define XLB_CT_PROMOTE_AFTER_MAX	1000
#define XLB_YOUNG_PKTS_MAX		0xffff	/* young_pkts stops there (a closing young flow) */
#define XLB_CT_INSERT_RATE_MAX		100000000	/* per CPU per second */

/* What conntrack admission did, counted per CPU in ct_events. */
enum xlb_ct_event {
	XLB_CT_EV_ADMITTED = 0,	/* new flow tracked in ct_new */
	XLB_CT_EV_PROMOTED,	/* young flow moved to conntrack after ct_promote_after packets */
	XLB_CT_EV_DIRECT,	/* new flow tracked in conntrack at once (ct_promote_after 0 or 1) */
	XLB_CT_EV_OVER_BUDGET,	/* new flow not tracked: ct_insert_rate reached on this CPU */
	XLB_CT_EV_INSERT_FAILED,/* a conntrack or ct_new update failed (flow not tracked there) */
	XLB_CT_EV_SYNC_LOST,	/* a sync event not reported: the sync_events ring was full */
	XLB_CT_EV_EVICTED,	/* a flow entering conntrack took the way of one seen recently */
	XLB_CT_EV_MAX,
};

#define XLB_CT_EVENT_NAMES {					\
	[XLB_CT_EV_ADMITTED]	  = "admitted",			\
	[XLB_CT_EV_PROMOTED]	  = "promoted",			\
	[XLB_CT_EV_DIRECT]	  = "direct",			\
	[XLB_CT_EV_OVER_BUDGET]	  = "over_budget",		\
	[XLB_CT_EV_INSERT_FAILED] = "insert_failed",		\
	[XLB_CT_EV_SYNC_LOST]	  = "sync_lost",		\
	[XLB_CT_EV_EVICTED]	  = "evicted",			\
}

/* Room for events appended later without changing the pinned map's layout. */
#define XLB_CT_EV_SLOTS		8

/* The one entry of the per-CPU ct_events array: counters and the insert budget. */
struct xlb_ct_events {
	__u64 count[XLB_CT_EV_SLOTS];	/* by enum xlb_ct_event */
	__u64 budget_sec;	/* coarse monotonic second budget_used counts in */
	__u64 budget_used;	/* new flows tracked in that second on this CPU */
};

/*
 * The one entry of the ctl array: the control plane's own state of an
 * instance, kept with the maps so that no process holds it. Never read by BPF.
 */
struct xlb_ctl {
	__u32 next_backend_id;	/* where the search for a free backend slot starts */
	__u32 ct_timeout_tcp_s;	/* idle timeout of an established TCP flow */
	__u32 ct_timeout_fin_s;	/* idle timeout of a TCP flow after FIN or RST */
	__u32 ct_timeout_udp_s;	/* idle timeout of a UDP flow */
	__u32 xdp_mode;		/* enum xdp_attach_mode the program was attached with */
	__u32 encap;		/* enum xlb_encap (attach --encap), kept across upgrade-attach */
	__u32 gue_port;		/* attach --gue-port (host order), XLB_GUE_PORT_DEFAULT */
	/*
	 * The commit record (user/lib/commit.c): odd while a commit of the
	 * maps runs, written first; even once it is done, written last. Odd
	 * with the instance's lock free means the commit was interrupted.
	 */
	__u32 commit_gen;
	/*
	 * The network namespace (SO_NETNS_COOKIE) whose interface this
	 * instance is attached to: pins are machine-wide, interface names are
	 * not, so a command in another namespace must not use or remove them.
	 * 0: not recorded yet (an older xlb attached it).
	 */
	__u64 netns_cookie;
};

/* Defaults of struct xlb_ctl's timeouts (those of Linux IPVS). */
#define XLB_CT_TIMEOUT_TCP_S	900
#define XLB_CT_TIMEOUT_FIN_S	120
#define XLB_CT_TIMEOUT_UDP_S	300

/* struct xlb_health.state */
enum xlb_health_state {
	XLB_HEALTH_UNKNOWN = 0,	/* never probed (or checks are off) */
	XLB_HEALTH_UP,
	XLB_HEALTH_DOWN,
};

/*
 * The agent's view of one backend, indexed by backend id; kept in a pinned
 * map so that a restarted agent carries on. Never read by BPF.
 */
struct xlb_health {
	__u64 last_probe_ns;	/* CLOCK_REALTIME when the last probe ended, 0 = never */
	__u32 last_rt_us;	/* that probe's response time */
	__u16 streak;		/* consecutive probes with the result last_ok */
	__u8 last_ok;
	__u8 state;		/* enum xlb_health_state */
};

/*
 * Value of the nexthops array, indexed by backend id: the last answer of
 * the kernel's FIB for that backend, so most packets skip bpf_fib_lookup.
 * Written by BPF only; user space never needs it.
 */
struct xlb_nexthop {
	__u32 addr[4];		/* the backend address the answer is for (slots are reused) */
	__u64 stamp_ns;		/* when the FIB answered (coarse monotonic) */
	__u32 ifindex;		/* egress interface */
	__u16 max_len;		/* longest outer packet the route has accepted */
	__u8 dmac[6];
	__u8 smac[6];
	__be16 vlan_tci;	/* with vlan: the 802.1Q tag of the egress VLAN */
	__u8 vlan;		/* ifindex is a VLAN device's lower device: send tagged */
	__u8 pad[3];
};

/* A cached next hop is asked of the FIB again after this long. */
#define XLB_NEXTHOP_TTL_NS	(100ULL * 1000 * 1000)

/* Per-CPU counters, per VIP (vip_stats) and per backend (backend_stats). */
struct xlb_counters {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
	__u64 rr;		/* vip_stats: next WRR slot on this CPU; backend_stats: unused */
};

/*
 * Reasons a packet leaves the fast path. Every XDP_PASS that is not a
 * balanced packet, and every XDP_DROP, counts exactly one of these in
 * reason_stats (a per-CPU array indexed by this enum).
 */
enum xlb_reason {
	XLB_FWD_TX = 0,		/* forwarded with XDP_TX */
	XLB_FWD_REDIRECT,	/* forwarded with bpf_redirect */
	XLB_PASS_NOT_IP,	/* not IPv4/IPv6 (ARP, LLDP, ...) */
	XLB_PASS_NOT_VIP,	/* IP, no VIP matches and not a VIP address */
	XLB_PASS_PROTO,		/* no VIP address: protocol or IPv6 header not balanced */
	XLB_PASS_FRAGMENT,	/* no VIP address: later fragment, first not balanced */
	XLB_PASS_ICMP_NOT_VIP,	/* no VIP address: ICMP, no error about a VIP flow */
	XLB_DROP_MALFORMED,	/* truncated or inconsistent headers */
	XLB_DROP_NO_BACKEND,	/* VIP with an empty table, or every backend down (--all-down drop) */
	XLB_DROP_NO_SOURCE,	/* no outer source address for the backend's family */
	XLB_DROP_ENCAP,		/* headroom or tail adjustment failed */
	XLB_TX_TOO_BIG,		/* answered the client with frag-needed / packet-too-big */
	XLB_DROP_TOO_BIG,	/* too big for the route and no reply allowed (no DF, an ICMP error) */
	XLB_DROP_ICMP_LIMIT,	/* too big, and this CPU's ICMP reply budget is spent */
	/*
	 * VIP packets xlb cannot balance. The balancer's kernel does not own
	 * the VIP addresses (vip_addrs): it would route them straight back to
	 * the router, so they are dropped, never passed. Keep them
	 * contiguous: bpf/lib/reasons.h takes them as one range.
	 */
	XLB_DROP_VIP_PORT,	/* TCP/UDP to a VIP address, no VIP on that port */
	XLB_DROP_VIP_PROTO,	/* other protocol (AH, ESP, ...) to a VIP address */
	XLB_DROP_VIP_ICMP,	/* ICMP to a VIP address, no error about a VIP flow (echo...) */
	XLB_DROP_FRAGMENT,	/* later fragment to a VIP address, no first seen */
	XLB_DROP_NO_NEIGH,	/* FIB: backend's neighbour unresolved (no ARP/ND answer yet) */
	XLB_DROP_FIB_BLACKHOLE,	/* FIB: blackhole route to the backend */
	XLB_DROP_FIB_UNREACHABLE, /* FIB: unreachable route to the backend */
	XLB_DROP_FIB_PROHIBIT,	/* FIB: prohibit route to the backend */
	XLB_DROP_FIB_NOT_FWDED,	/* FIB: no forwarding route (backend address local, ...) */
	XLB_DROP_FIB_FWD_DISABLED, /* FIB: forwarding is off on the ingress interface */
	XLB_DROP_FIB_UNSUPP_LWT, /* FIB: route with a lightweight tunnel encap XDP cannot do */
	XLB_DROP_FIB_OTHER,	/* FIB: any other failure (outer length > 64 KiB, ...) */
	XLB_DROP_REDIRECT,	/* bpf_redirect refused the egress (not XDP_REDIRECT) */
	XLB_DROP_SNAT_EXHAUSTED, /* NAT: no free SNAT port in XLB_SNAT_TRIES tries */
	XLB_DROP_NAT_FULL,	/* NAT: nat_flows is full (the agent expires idle flows) */
	XLB_DROP_NO_SNAT,	/* NAT: no SNAT address of the packet's family */
	XLB_DROP_NAT_UNSUPP,	/* NAT: fragment or IPv6 extension header (not rewritten) */
	XLB_DROP_TTL,		/* NAT: TTL / hop limit would reach 0 */
	XLB_PASS_NAT_NO_FLOW,	/* to a SNAT address and port, no NAT flow: the kernel's */
	/*
	 * Not exits: counted besides fwd_tx or fwd_redirect for a packet
	 * forwarded to a DOWN backend, because its flow was tracked there
	 * (--down-flows stay), or by a VIP failing open (every backend DOWN).
	 */
	XLB_FWD_DOWN_STAY,	/* forwarded to a DOWN backend: a tracked flow stays */
	XLB_FWD_FAIL_OPEN,	/* forwarded by a VIP whose every backend is DOWN (--all-down open) */
	XLB_FWD_NAT_REPLY,	/* forwarded: a NAT backend's answer, rewritten back to the client */
	XLB_DECAP_OK,		/* decap program: stripped an outer header */
	XLB_DECAP_PASS,		/* decap program: not for us, passed untouched */
	XLB_DECAP_MALFORMED,	/* decap program: truncated outer/inner header, dropped */
	XLB_DECAP_FOREIGN_SRC,	/* decap: tunnel packet from outside --from, dropped */
	XLB_DECAP_FOREIGN_DST,	/* decap: inner destination not local to this host, dropped */
	XLB_DECAP_BAD_GUE,	/* decap: GUE header, hop list or UDP length lies, dropped */
	XLB_DECAP_OWNED,	/* decap: GUE TCP with a local socket, delivered */
	XLB_DECAP_LAST_HOP,	/* decap: GUE TCP, no socket, last hop: delivered */
	XLB_DECAP_SELF_HOP,	/* decap: GUE TCP, no socket, next hop is this host: delivered */
	XLB_DECAP_NO_ROUTE,	/* decap: GUE TCP, no socket, no route to the next hop: delivered */
	XLB_DECAP_CHAIN_TX,	/* decap: chained to the next hop, FIB route on the same link */
	XLB_DECAP_CHAIN_REDIRECT, /* decap: chained to the next hop, FIB route on another link */
	XLB_DECAP_CHAIN_BOUNCE,	/* decap: chained, forwarding off: back to the L2 neighbour */
	XLB_DECAP_CHAIN_KERNEL,	/* decap: chained, next hop unresolved: the kernel routes it */
	XLB_REASON_MAX,
};

/* The balancer counts the reasons below this one; the decap program the rest. */
#define XLB_BALANCER_REASONS	XLB_DECAP_OK

#define XLB_REASON_NAMES {					\
	[XLB_FWD_TX]		 = "fwd_tx",			\
	[XLB_FWD_REDIRECT]	 = "fwd_redirect",		\
	[XLB_PASS_NOT_IP]	 = "pass_not_ip",		\
	[XLB_PASS_NOT_VIP]	 = "pass_not_vip",		\
	[XLB_PASS_PROTO]	 = "pass_proto",		\
	[XLB_PASS_FRAGMENT]	 = "pass_fragment",		\
	[XLB_PASS_ICMP_NOT_VIP]	 = "pass_icmp_not_vip",		\
	[XLB_DROP_MALFORMED]	 = "drop_malformed",		\
	[XLB_DROP_NO_BACKEND]	 = "drop_no_backend",		\
	[XLB_DROP_NO_SOURCE]	 = "drop_no_source",		\
	[XLB_DROP_ENCAP]	 = "drop_encap",		\
	[XLB_TX_TOO_BIG]	 = "tx_too_big",		\
	[XLB_DROP_TOO_BIG]	 = "drop_too_big",		\
	[XLB_DROP_ICMP_LIMIT]	 = "drop_icmp_limit",	\
	[XLB_DROP_VIP_PORT]	 = "drop_vip_port",		\
	[XLB_DROP_VIP_PROTO]	 = "drop_vip_proto",		\
	[XLB_DROP_VIP_ICMP]	 = "drop_vip_icmp",		\
	[XLB_DROP_FRAGMENT]	 = "drop_fragment",		\
	[XLB_DROP_NO_NEIGH]	 = "drop_no_neigh",		\
	[XLB_DROP_FIB_BLACKHOLE] = "drop_fib_blackhole",	\
	[XLB_DROP_FIB_UNREACHABLE] = "drop_fib_unreachable",	\
	[XLB_DROP_FIB_PROHIBIT]	 = "drop_fib_prohibit",		\
	[XLB_DROP_FIB_NOT_FWDED] = "drop_fib_not_fwded",	\
	[XLB_DROP_FIB_FWD_DISABLED] = "drop_fib_fwd_disabled",	\
	[XLB_DROP_FIB_UNSUPP_LWT] = "drop_fib_unsupp_lwt",	\
	[XLB_DROP_FIB_OTHER]	 = "drop_fib_other",		\
	[XLB_DROP_REDIRECT]	 = "drop_redirect",		\
	[XLB_DROP_SNAT_EXHAUSTED] = "drop_snat_exhausted",	\
	[XLB_DROP_NAT_FULL]	 = "drop_nat_full",		\
	[XLB_DROP_NO_SNAT]	 = "drop_no_snat",		\
	[XLB_DROP_NAT_UNSUPP]	 = "drop_nat_unsupported",	\
	[XLB_DROP_TTL]		 = "drop_ttl",			\
	[XLB_PASS_NAT_NO_FLOW]	 = "pass_nat_no_flow",		\
	[XLB_FWD_DOWN_STAY]	 = "fwd_down_stay",		\
	[XLB_FWD_FAIL_OPEN]	 = "fwd_fail_open",		\
	[XLB_FWD_NAT_REPLY]	 = "fwd_nat_reply",		\
	[XLB_DECAP_OK]		 = "decap_ok",			\
	[XLB_DECAP_PASS]	 = "decap_pass",		\
	[XLB_DECAP_MALFORMED]	 = "decap_malformed",		\
	[XLB_DECAP_FOREIGN_SRC]	 = "decap_foreign_src",		\
	[XLB_DECAP_FOREIGN_DST]	 = "decap_foreign_dst",		\
	[XLB_DECAP_BAD_GUE]	 = "decap_bad_gue",		\
	[XLB_DECAP_OWNED]	 = "decap_owned",		\
	[XLB_DECAP_LAST_HOP]	 = "decap_last_hop",		\
	[XLB_DECAP_SELF_HOP]	 = "decap_self_hop",		\
	[XLB_DECAP_NO_ROUTE]	 = "decap_no_route",		\
	[XLB_DECAP_CHAIN_TX]	 = "decap_chain_tx",		\
	[XLB_DECAP_CHAIN_REDIRECT] = "decap_chain_redirect",	\
	[XLB_DECAP_CHAIN_BOUNCE] = "decap_chain_bounce",	\
	[XLB_DECAP_CHAIN_KERNEL] = "decap_chain_kernel",	\
}

/*
 * Value of the per-CPU icmp_budget array (one entry): a token bucket for the
 * "too big" replies, XLB_ICMP_RATE_PER_S a second with bursts of up to
 * XLB_ICMP_BURST per CPU (Linux's icmp_msgs_per_sec and icmp_msgs_burst).
 * The replies go to addresses a packet claims as its source, possibly
 * spoofed: without a cap, xlb would reflect any flood at its victim.
 */
#define XLB_ICMP_RATE_PER_S	1000
#define XLB_ICMP_BURST		50

struct xlb_icmp_bucket {
	__u64 stamp_ns;		/* coarse monotonic time of the last refill */
	__u32 tokens;
	__u32 pad;
};

/*
 * xlb trace / xlb decap trace: one event per packet while a trace runs
 * (trace_ctl[0] > 0), through the ring buffer trace_events. The packet's
 * first XLB_TRACE_SNAP bytes are taken before anything rewrites it.
 */
#define XLB_TRACE_SNAP		128
#define XLB_TRACE_RING		(1 << 22)	/* bytes of trace_events */
#define XLB_VIP_NONE		0xffffffffu

/* struct xlb_trace_event.flags */
#define XLB_TRACE_F_TRACKED	(1u << 0)	/* the flow's backend came from conntrack */
#define XLB_TRACE_F_NEW		(1u << 1)	/* a new pick (tracked from now on, or stateless) */

struct xlb_trace_event {
	__u64 ts_ns;		/* CLOCK_MONOTONIC */
	__u32 reason;		/* enum xlb_reason of the exit */
	__u32 vip_id;		/* XLB_VIP_NONE before a VIP matched */
	__u32 backend_id;	/* XLB_BACKEND_NONE before a backend was chosen */
	__u32 ifindex;		/* where it arrived */
	__u16 frame_len;	/* bytes of the frame as received */
	__u8 snap_len;		/* bytes of data[] that are the frame's */
	__u8 flags;		/* XLB_TRACE_F_* */
	__u32 pad;
	__u8 data[XLB_TRACE_SNAP];
};

/* Per-CPU state of a packet being traced: the event it will become. */
struct xlb_trace_cpu {
	struct xlb_trace_event ev;
	__u64 lost;		/* events the ring buffer had no room for */
	__u32 armed;		/* 1 between the packet's start and its exit */
	__u32 pad;
};

/* Health checks (agent): kept per VIP in the vip_config array, never read by BPF. */
enum xlb_check {
	XLB_CHECK_TCP = 0,
	XLB_CHECK_HTTP,
	XLB_CHECK_NONE,
	XLB_CHECK_HTTPS,
};

#define XLB_CHECK_PATH_LEN	64
#define XLB_CHECK_HOST_LEN	128
#define XLB_CHECK_BODY_LEN	64
#define XLB_CHECK_CA_LEN	128
#define XLB_CHECK_STATUS_LO	200	/* accepted status range when status_lo/hi are 0 */
#define XLB_CHECK_STATUS_HI	399

/* struct xlb_vip_config.check_flags */
#define XLB_CHECK_F_INSECURE	(1u << 0) /* HTTPS: no certificate verification */

/* Strings are NUL terminated; "" is the default. */
struct xlb_vip_config {
	__u8 check;		/* enum xlb_check */
	__u8 rise;
	__u8 fall;
	__u8 pad;
	__u32 interval_ms;
	__u32 timeout_ms;
	__u32 pad2;
	char path[XLB_CHECK_PATH_LEN];	/* HTTP(S) check path */
	/* HTTP(S) only, from here on. */
	__u16 status_lo;	/* accepted status range (both 0: STATUS_LO..STATUS_HI) */
	__u16 status_hi;
	__u8 check_flags;	/* XLB_CHECK_F_* */
	__u8 pad3[3];
	char host[XLB_CHECK_HOST_LEN];	/* Host header, TLS name (SNI, verified); "": address */
	char body[XLB_CHECK_BODY_LEN];	/* a string the body must contain; "": status only */
	char ca[XLB_CHECK_CA_LEN];	/* HTTPS: trust only this PEM CA file; "": the system's */
};

/*
 * Key of vip_addrs: every address some VIP uses (any port, protocol), the
 * value the number of VIPs on it. Derived by the control plane
 * (user/lib/vipaddrs.c); read by BPF only for packets it would otherwise
 * pass, to tell a VIP packet it cannot balance (dropped) from the host's.
 */
struct xlb_vip_addr {
	__u32 addr[4];
	__u8 family;		/* enum xlb_family */
	__u8 pad[3];
};

/*
 * The VIP address filter (vip_filter's one entry): bit
 * xlb_vip_filter_bit(addr) is set for every address some VIP uses, so a
 * packet whose destination's bit is clear is for no VIP address and skips
 * the VIP lookups and the vip_addrs lookup: most of what a balancer
 * receives is not for a VIP, and those lookups were most of its cost
 * (bpf/lib/vip.h). The control plane derives it (user/lib/vipaddrs.c) and
 * keeps it a superset of the vips map at every moment: a VIP's bit is set
 * before the VIP is written, cleared after it is deleted. Read only while
 * @armed: a map that an upgrade-attach has just created is all zero until
 * that attach's commit fills it, and must not hide the VIPs meanwhile.
 * With k VIP addresses a non-VIP packet does the lookups anyway about
 * k / XLB_VIP_FILTER_BITS of the time. @nat says whether the instance has
 * NAT VIPs (set before the first is written, cleared after snat.nat_vips
 * is 0): only then may a packet the filter rules out be a NAT answer, to
 * look up (bpf/lib/nat.h); without, it is passed at once.
 */
#define XLB_VIP_FILTER_SHIFT	12
#define XLB_VIP_FILTER_BITS	(1u << XLB_VIP_FILTER_SHIFT)

struct xlb_vip_filter {
	__u32 armed;		/* 1: bits[] covers every VIP address */
	__u32 nat;		/* 1: NAT VIPs may exist, so may NAT answers */
	__u64 bits[XLB_VIP_FILTER_BITS / 64];
};

/* An address's bit in the VIP filter (BPF and user space must agree). */
static inline __u32 xlb_vip_filter_bit(const __u32 addr[4])
{
	__u32 h = addr[0] ^ addr[1] ^ addr[2] ^ addr[3];

	return (h * 0x9e3779b1u) >> (32 - XLB_VIP_FILTER_SHIFT);
}

/*
 * The frags LRU (bpf/lib/frag.h): a first fragment's protocol and ports,
 * for the later fragments of its datagram, for XLB_FRAG_TTL_NS.
 */
#define XLB_FRAG_SIZE		8192
#define XLB_FRAG_TTL_NS		(5ULL * 1000 * 1000 * 1000)

struct xlb_frag_key {
	__u32 src[4];
	__u32 dst[4];
	__u32 id;		/* IPv4 identification (16 bits), IPv6 fragment id */
	__u8 proto;
	__u8 family;
	__u16 pad;
};

struct xlb_frag {
	__u64 stamp_ns;		/* when the first fragment was seen (coarse monotonic) */
	__be16 sport;
	__be16 dport;
	__u8 proto;		/* the upper-layer protocol */
	__u8 pad[3];
};

/*
 * Value of vlan_ifs, keyed by the ifindex of an 802.1Q VLAN device: its
 * lower device and VLAN id. XDP cannot transmit on a VLAN device, and the
 * FIB names the VLAN device when a backend's route uses one: the balancer
 * then sends on the lower device with this tag (bpf/lib/fib.h). Derived
 * by the control plane from the kernel's links (user/lib/vlanifs.c).
 */
#define XLB_MAX_VLAN_IFS	4096

struct xlb_vlan_if {
	__u32 lower_ifindex;
	__u16 vid;		/* host order, 1..4094 */
	__u16 pad;
};

/* Key of the decap program's local-address hash. */
struct xlb_decap_key {
	__u32 addr[4];
	__u8 family;
	__u8 pad[3];
};

/*
 * Keys of the decap program's LPM tries decap_from4 / decap_from6: the
 * prefixes a tunnel packet's outer source must be in (decap attach --from).
 */
#define XLB_MAX_DECAP_FROM	256	/* prefixes per family */
#define XLB_MAX_LOCAL_ADDRS	1024	/* decap_local: every address of the host */

struct xlb_lpm4_key {
	__u32 prefixlen;
	__u32 addr;
};

struct xlb_lpm6_key {
	__u32 prefixlen;
	__u32 addr[4];
};

/* The one entry of the decap program's ctl array: the CLI's state, never read by BPF. */
struct xlb_decap_ctl {
	__u32 gue_port;		/* decap attach --gue-port (host order) */
	__u32 xdp_mode;		/* enum xdp_attach_mode it was attached with */
	__u64 netns_cookie;	/* the attaching namespace, as struct xlb_ctl's */
};

/*
 * BGP announcement settings of one instance (xlb bgp set): the one value of
 * an ARRAY map that user space creates and pins as "bgp" next to the
 * program's maps; no BPF program reads it. The agent announces the VIPs
 * through BIRD with these. asn 0: not configured.
 */
#define XLB_BGP_PEERS_MAX	8

struct xlb_bgp_peer {
	__u32 addr[4];		/* network order, IPv4 in word 0 */
	__u32 asn;
	__u8 family;		/* enum xlb_family */
	__u8 pad[3];
};

struct xlb_bgp_config {
	__u32 asn;		/* local AS; 0: BGP not configured */
	__u32 router_id;	/* network order; 0: BIRD picks one */
	__u32 hold_time_s;	/* 3..65535 */
	__u32 next_hop[4];	/* next_hop_family 0: next hop self */
	__u8 next_hop_family;
	__u8 npeers;
	__u8 pad[2];
	struct xlb_bgp_peer peers[XLB_BGP_PEERS_MAX];
};

/*
 * Session sync between instances (xlb sync, docs/SCALE-OUT.md). With
 * config.sync_report set, the data plane writes one struct xlb_sync_event
 * to the ring buffer sync_events when a flow enters conntrack (direct
 * insert or promotion from ct_new) and when a tracked flow turns CLOSING;
 * the agent sends them to its peers by address, never by slot id.
 */
#define XLB_SYNC_RING_SIZE	(1u << 20)	/* bytes: about 16k events */

enum xlb_sync_ev {
	XLB_SYNC_EV_NEW = 1,	/* entered conntrack */
	XLB_SYNC_EV_CLOSING,	/* saw FIN or RST */
};

struct xlb_sync_event {
	struct xlb_flow_key key;
	__u32 backend_id;
	__u32 vip_id;
	__u32 type;		/* enum xlb_sync_ev */
	__u32 flow_flags;	/* XLB_FLOW_F_* */
};

/*
 * The settings of xlb sync set: the one value of an ARRAY map "sync" that
 * user space creates and pins next to the program's maps (as "bgp"); no
 * BPF program reads it. The shared secret stays in key_path; the agent
 * reads it at start and when the file changes. enabled 0: not configured.
 */
#define XLB_SYNC_PEERS_MAX	16
#define XLB_SYNC_KEY_PATH_LEN	128
#define XLB_SYNC_PORT_DEFAULT	8848

struct xlb_sync_peer {
	__u32 addr[4];		/* network order, IPv4 in word 0 */
	__u8 family;		/* enum xlb_family */
	__u8 pad[3];
};

struct xlb_sync_config {
	__u32 enabled;
	__u16 port;		/* host order */
	__u8 npeers;
	__u8 pad;
	struct xlb_sync_peer peers[XLB_SYNC_PEERS_MAX];
	char key_path[XLB_SYNC_KEY_PATH_LEN];	/* absolute, NUL terminated */
};

/*
 * What the agent did per peer, in an ARRAY map "sync_stats" it creates
 * beside "sync" (entry i: peer i of the setting; entry XLB_SYNC_PEERS_MAX:
 * messages from addresses that are no peer). Counts since the agent started.
 */
struct xlb_sync_stats {
	__u32 addr[4];
	__u8 family;
	__u8 dump_done;		/* this peer's full copy arrived after our request */
	__u8 pad[2];
	__u32 pad2;
	__u64 sent;		/* flows sent (first transmissions) */
	__u64 received;		/* flows in messages that verified */
	__u64 applied;		/* inserted into the local conntrack */
	__u64 skipped;		/* not inserted: known locally, or no such VIP/backend here */
	__u64 refused;		/* messages dropped: bad HMAC, malformed */
	__u64 lost;		/* flows given up: never acknowledged, or the queue was full */
	__u64 last_contact_s;	/* CLOCK_REALTIME of the last verified message, 0 = never */
};

_Static_assert(sizeof(struct xlb_sync_event) == 56, "xlb_sync_event layout");
_Static_assert(sizeof(struct xlb_sync_peer) == 20, "xlb_sync_peer layout");
_Static_assert(sizeof(struct xlb_sync_config) == 8 + 20 * XLB_SYNC_PEERS_MAX + XLB_SYNC_KEY_PATH_LEN,
	       "xlb_sync_config layout");
_Static_assert(sizeof(struct xlb_sync_stats) == 80, "xlb_sync_stats layout");
_Static_assert(sizeof(struct xlb_vip_key) == 20, "xlb_vip_key layout");
_Static_assert(sizeof(struct xlb_vip) == 16, "xlb_vip layout");
_Static_assert(sizeof(struct xlb_vip_slot) == 40, "xlb_vip_slot layout");
_Static_assert(sizeof(struct xlb_clock) == 16, "xlb_clock layout");
_Static_assert((XLB_VIP_BUCKETS & (XLB_VIP_BUCKETS - 1)) == 0 &&
	       XLB_VIP_BUCKETS * XLB_VIP_WAYS >= 4 * XLB_MAX_VIPS,
	       "the VIP index: a power of two of buckets, ways for four times the VIPs");
_Static_assert(sizeof(struct xlb_backend) == 32, "xlb_backend layout");
_Static_assert(sizeof(struct xlb_flow_key) == 40, "xlb_flow_key layout");
_Static_assert(sizeof(struct xlb_flow) == 24, "xlb_flow layout");
_Static_assert(sizeof(struct xlb_ct_entry) == 64, "a conntrack way is one cache line");
_Static_assert((XLB_CT_SIZE & (XLB_CT_SIZE - 1)) == 0 && XLB_CT_SIZE >= XLB_CT_SIZE_MIN,
	       "the conntrack table's size is a power of two");
_Static_assert(sizeof(struct xlb_nat_to) == 40, "xlb_nat_to layout");
_Static_assert(sizeof(struct xlb_nat_flow) == 64, "xlb_nat_flow layout");
_Static_assert(sizeof(struct xlb_snat) == 32 + 128 + 12, "xlb_snat layout");
_Static_assert(sizeof(struct xlb_config) == 40, "xlb_config layout");
_Static_assert(sizeof(struct xlb_gue_hdr) == 4, "xlb_gue_hdr layout");
_Static_assert(sizeof(struct xlb_gue_hops4) == 12, "xlb_gue_hops4 layout");
_Static_assert(sizeof(struct xlb_gue_hops6) == 36, "xlb_gue_hops6 layout");
_Static_assert(sizeof(struct xlb_slot) == 12, "xlb_slot layout");
_Static_assert(sizeof(struct xlb_table_line) == 64, "xlb_table_line: one cache line");
_Static_assert(sizeof(struct xlb_table_tail) == sizeof(struct xlb_table_line), "xlb_table_tail: a line");
_Static_assert(XLB_GUE4_LEN == 44 && XLB_GUE6_LEN == 88, "GUE overhead");
_Static_assert(sizeof(struct xlb_ctl) == 40, "xlb_ctl layout");
_Static_assert(sizeof(struct xlb_ct_events) == 80, "xlb_ct_events layout");
_Static_assert(XLB_CT_EV_MAX <= XLB_CT_EV_SLOTS, "xlb_ct_events slots");
_Static_assert(sizeof(struct xlb_health) == 16, "xlb_health layout");
_Static_assert(sizeof(struct xlb_nexthop) == 48, "xlb_nexthop layout");
_Static_assert(sizeof(struct xlb_counters) == 32, "xlb_counters layout");
_Static_assert(sizeof(struct xlb_vip_config) == 408, "xlb_vip_config layout");
_Static_assert(sizeof(struct xlb_vip_addr) == 20, "xlb_vip_addr layout");
_Static_assert(sizeof(struct xlb_vip_filter) == 8 + XLB_VIP_FILTER_BITS / 8, "xlb_vip_filter layout");
_Static_assert(sizeof(struct xlb_vlan_if) == 8, "xlb_vlan_if layout");
_Static_assert(sizeof(struct xlb_frag_key) == 40, "xlb_frag_key layout");
_Static_assert(sizeof(struct xlb_frag) == 16, "xlb_frag layout");
_Static_assert(sizeof(struct xlb_decap_key) == 20, "xlb_decap_key layout");
_Static_assert(sizeof(struct xlb_icmp_bucket) == 16, "xlb_icmp_bucket layout");
_Static_assert(sizeof(struct xlb_trace_event) == 32 + XLB_TRACE_SNAP, "xlb_trace_event layout");
_Static_assert(sizeof(struct xlb_trace_cpu) == sizeof(struct xlb_trace_event) + 16,
	       "xlb_trace_cpu layout");
_Static_assert(sizeof(struct xlb_lpm4_key) == 8, "xlb_lpm4_key layout");
_Static_assert(sizeof(struct xlb_lpm6_key) == 20, "xlb_lpm6_key layout");
_Static_assert(sizeof(struct xlb_decap_ctl) == 16, "xlb_decap_ctl layout");
_Static_assert(sizeof(struct xlb_bgp_peer) == 24, "xlb_bgp_peer layout");
_Static_assert(sizeof(struct xlb_bgp_config) == 32 + 24 * XLB_BGP_PEERS_MAX, "xlb_bgp_config layout");

#endif /* XLB_ABI_H */
