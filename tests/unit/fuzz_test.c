// SPDX-License-Identifier: GPL-2.0
/*
 * Hostile frames through both XDP programs, every output judged by an
 * oracle.
 *
 * Why: the other packet tests check the cases someone thought of, but the
 * data path's promises are about every frame: a malformed packet is never
 * forwarded, a forwarded one is the client's packet byte for byte inside a
 * well-formed tunnel, every run counts exactly one reason. So frames are
 * generated, starting from valid ones (TCP/UDP to the test VIPs of
 * balance.h, ICMP errors quoting VIP flows; FUZZ_NAT_PCT of them for NAT:
 * TCP/UDP to NAT VIPs, the backends' answers to the SNAT tuples of flows
 * the fuzzer made, ICMP errors about either direction; for decap IPIP,
 * 6-in-6, 4-in-6 and GUE with and without a hop list) and mutated:
 * truncated, lengths that lie (tot_len, IHL, payload_len, doff, UDP
 * length, GUE fields, a UDP checksum of 0), IPv4
 * options, IPv6 extension headers, fragments, one or two VLAN tags, flipped
 * and appended bytes. A fixed sweep comes first: each template truncated
 * at every length, and each length field set to every value around the
 * truth. Every run is judged against fuzz.h's reference model, which reads
 * the wire formats and nothing of the BPF code:
 *   1 a forwarded frame (TX/REDIRECT) is one outer IPv4/IPv6 header, valid
 *     checksum, length = frame - L2, to a backend of the packet's VIP, and
 *     the input's IP packet (its declared length) byte for byte; the decap
 *     program gives exactly that IP packet back;
 *   2 a malformed (or unbalanced: not a VIP's, an ICMP error not addressed
 *     to the quoted VIP, ...) input is never TX/REDIRECT;
 *   3 a too-big reply has valid IP and ICMP checksums and lengths, quotes
 *     the input, and goes back to the client;
 *   4 decap strips only valid tunnel packets from --from to a local address,
 *     into a valid inner packet whose length is the frame's; it sends on
 *     (TX/REDIRECT/kernel) only a valid GUE copy that is not at its last
 *     hop, rewritten to the next hop with valid checksums, nothing else
 *     changed;
 *   5 each run counts exactly one reason, of that program, whose action is
 *     the one returned (and a NAT answer sent on fwd_nat_reply besides);
 *   6 a packet that is not malformed is never dropped as malformed, one the
 *     balancer does not handle is passed unless it is for a VIP address
 *     (the balancer's kernel would route it back: dropped; neighbour
 *     discovery excepted), and a passed frame is untouched. Fragments and
 *     IPv6 extension headers, whose fate depends on what came before
 *     (lib/frag.h), are held to rules 5 and 6's last part only: their
 *     exact cases are tests/unit/xdp_robust_test.c's;
 *   7 NAT: a packet for a NAT VIP leaves as its flow's SNAT:port ->
 *     backend:port (learnt from nat_flows the first time, and checked then:
 *     a SNAT address and a port of the range, a backend of the VIP and its
 *     port, the backend's direction leading back, no SNAT tuple given
 *     twice), an answer to the flow as VIP -> client; the input's IP packet
 *     otherwise byte for byte (trimmed), TTL / hop limit one less, each
 *     checksum (IPv4 header, TCP/UDP, and for an ICMP error the ICMP one,
 *     the quote's header and TCP/UDP) recomputed from the bytes with the
 *     input's residue (valid if it was; UDP 0 over IPv4 stays 0); an answer
 *     to a flow is never passed; fragments and extension headers to a NAT
 *     VIP's address are dropped, as drop_nat_unsupported when their TCP/UDP
 *     header for the NAT VIP is whole; conntrack never holds a NAT flow.
 * One PRNG stream per packet, from (seed, case, index): a violation is
 * replayed alone with XLB_FUZZ_SEED and XLB_FUZZ_INDEX, or from its hex
 * dump with XLB_FUZZ_HEX (a NAT frame built from a learnt flow only in the
 * whole run: alone, only the templates' flows exist, and their SNAT ports
 * depend on the CPU). XLB_FUZZ_COUNT sets the packets (default 200000,
 * 45% to the balancer with IPIP, 30% with GUE (attach --encap gue), 25% to
 * decap); XLB_FUZZ_VERBOSE=1 prints
 * the count of every reference class. A violation is counted by kind (the
 * check that failed) and each kind printed once, with its smallest frame.
 * Round trips go through a second decap instance that owns every backend
 * address; the fuzzed one owns four, so the others are next hops of GUE
 * chains. BPF_PROG_TEST_RUN runs with repeat 1: a repeat re-runs the already
 * modified packet. Frames under 14 bytes are not run: test_run refuses them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fuzz.h"
#include "flowhash.h"
#include "gue.h"
#include "ct.h"
#include "xlb.skel.h"
#include "vipaddrs.h"
#include "decap.skel.h"

#define FUZZ_COUNT_DEFAULT	200000
#define FUZZ_BAL_PCT		45	/* shares of the packets: the IPIP balancer case, */
#define FUZZ_GUE_PCT		30	/* the GUE one, and the rest for decap */
#define FUZZ_FRAME_MAX		3500	/* test_run: a page less XDP head- and tailroom */
#define FUZZ_PAYLOAD_MAX	(FUZZ_FRAME_MAX - 200)
#define FUZZ_BUDGET_EVERY	256	/* packets between refills of the ICMP reply budget */
#define FUZZ_WHY_MAX		96	/* reference classes counted */
#define FUZZ_KINDS_MAX		24	/* violation kinds kept, each with its smallest frame */
#define FUZZ_INDEX_NONE		(~0ULL)
#define ACTS			(XDP_REDIRECT + 1)

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#define ECN_CE			0x03
#define FLOW_LABEL_MASK		0xfffff
#define IPV6_MIN_MTU		1280
#define ICMP6_QUOTE_MAX		(IPV6_MIN_MTU - PKT_IP6_LEN - PKT_ICMP_LEN)
#define ICMP_FRAG_NEEDED	4
#define ICMP6_PKT_TOO_BIG	2
#define ICMP_QUOTE_L4		8	/* bytes after the header an ICMP error quotes */
#define IPOPT_NOP		1
#define IPOPT_RR		7
#define IPOPT_RA		148
#define IP4_OPT_WORDS		10
#define PORT_EPHEMERAL		1024
#define TCPOPT_NOP		1

/* splitmix64 (Steele, Lea, Flood): tiny, and every 64-bit seed gives a good stream. */
#define SPLITMIX_GAMMA		0x9e3779b97f4a7c15ULL
#define SPLITMIX_M1		0xbf58476d1ce4e5b9ULL
#define SPLITMIX_M2		0x94d049bb133111ebULL
#define INDEX_MIX		0xd1b54a32d192ed03ULL

/* Test addresses: the VIPs and backends of balance.h, the fixture's source addresses. */
#define VIP4		"192.0.2.10"	/* :80/tcp, :53/udp */
#define VIP4_ALL	"192.0.2.20"	/* all ports, tcp */
#define VIP4_IN6	"192.0.2.30"	/* :80/tcp over IPv6 */
#define VIP6		"2001:db8::10"	/* :80/tcp */
#define VIP6_LINKB	"2001:db8::70"	/* :80/tcp, backend on link B */
#define CLIENT4		"198.51.100.7"
#define CLIENT6		"2001:db8:c::7"
#define ROUTER4		"203.0.113.1"
#define ROUTER6		"2001:db8:f::1"
#define DECAP4		"10.99.0.17"	/* backend 1 */
#define DECAP4_UDP	"10.99.0.13"	/* backend 3 */
#define DECAP6		"fd00:99::15"	/* backend 5 */
#define DECAP6_4IN6	"fd00:99::16"	/* backend 6 */

/*
 * NAT (nat_setup()): NAT VIPs of their own addresses, their backends (some
 * with a port of their own, two on link B), SNAT addresses and ports as
 * attach writes them, and a route to the clients through their router on
 * link A (MAC fx_mac_client), where the answers go.
 */
#define FUZZ_NAT_PCT	15		/* of the generated balancer frames: NAT's */
#define NVIP4		"192.0.2.100"	/* :80/tcp, :53/udp */
#define NVIP4_ALL	"192.0.2.101"	/* all ports, tcp */
#define NVIP6		"2001:db8::100"	/* :80/tcp, :53/udp */
#define SNAT_PORT_LO	20000
#define SNAT_PORT_HI	29999
#define SNAT_PORT_SLACK	50		/* answers to ports around the range, too */
#define CLIENT_GW4	"10.99.0.3"
#define CLIENT_GW6	"fd00:99::3"
#define CLIENT_NET4	"198.51.100.0/22"	/* client_addr()'s */
#define CLIENT_NET6	"2001:db8:c::/64"
#define BE_ROUTER4	"10.99.0.9"	/* a router on the backends' side: their ICMP errors */
#define BE_ROUTER6	"fd00:99::9"
#define NAT_FLOWS_MAX	16384		/* flows the model holds; then it and nat_flows are emptied */
#define NAT_SLOTS	(4 * NAT_FLOWS_MAX)	/* open addressing, a power of 2 */
#define FNV_OFFSET	2166136261u
#define FNV_PRIME	16777619u
#define TCP_CSUM_OFF	16
#define UDP_CSUM_OFF	6

enum { NV_TCP4 = VIP_COUNT, NV_UDP4, NV_TCP6, NV_UDP6, NV_ALL4, NV_END };

struct nat_vip {
	int family;
	const char *addr;
	__u16 port;
	__u8 proto;
};

static const struct nat_vip nat_vips[NV_END] = {
	[NV_TCP4] = { 4, NVIP4, 80, IPPROTO_TCP },
	[NV_UDP4] = { 4, NVIP4, 53, IPPROTO_UDP },
	[NV_TCP6] = { 6, NVIP6, 80, IPPROTO_TCP },
	[NV_UDP6] = { 6, NVIP6, 53, IPPROTO_UDP },
	[NV_ALL4] = { 4, NVIP4_ALL, 0, IPPROTO_TCP },
};

/* A NAT backend: id, address, neighbour MAC's last byte, port (host order, 0: the VIP's). */
struct nat_be {
	__u32 id;
	int family;
	const char *addr;
	__u8 mac_last;
	__u16 port;
	__u32 vip;
	int link_b;
};

static const struct nat_be nat_bes[] = {
	{ BAL_BE_COUNT + 0, 4, "10.99.0.11", 11, 8080, NV_TCP4, 0 },
	{ BAL_BE_COUNT + 1, 4, "10.99.0.12", 12, 0, NV_TCP4, 0 },
	{ BAL_BE_COUNT + 2, 4, "10.98.0.21", 21, 0, NV_TCP4, 1 },
	{ BAL_BE_COUNT + 3, 4, "10.99.0.13", 13, 5353, NV_UDP4, 0 },
	{ BAL_BE_COUNT + 4, 4, "10.99.0.14", 14, 0, NV_UDP4, 0 },
	{ BAL_BE_COUNT + 5, 6, "fd00:99::15", 15, 8080, NV_TCP6, 0 },
	{ BAL_BE_COUNT + 6, 6, "fd00:98::21", 21, 0, NV_TCP6, 1 },
	{ BAL_BE_COUNT + 7, 6, "fd00:99::16", 16, 5353, NV_UDP6, 0 },
	{ BAL_BE_COUNT + 8, 4, "10.99.0.17", 17, 0, NV_ALL4, 0 },
};

static const char *const snat4[] = { "10.99.0.1", "10.99.0.2" };
static const char *const snat6[] = { "fd00:99::1", "fd00:99::2" };

enum fuzz_rule {
	RULE_NONE,
	RULE_FORWARD,		/* 1: a well-formed tunnel of the input, decap undoes it */
	RULE_NEVER_FWD,		/* 2: malformed or unbalanced input never TX/REDIRECT */
	RULE_ICMP_REPLY,	/* 3: too-big replies valid */
	RULE_DECAP,		/* 4: decap strips only valid tunnels into valid packets */
	RULE_REASON,		/* 5: one reason per run, of this program, as the action */
	RULE_VERDICT,		/* 6: no false malformed drops; not ours: passed untouched */
	RULE_NAT,		/* 7: NAT rewrites to the flow's tuple, checksums kept, state sane */
	RULE_MAX,
};

static const char *const rule_names[RULE_MAX] = {
	[RULE_FORWARD]	  = "forwarded packet well-formed, encap+decap identity",
	[RULE_NEVER_FWD]  = "malformed/unbalanced input never forwarded",
	[RULE_ICMP_REPLY] = "too-big reply valid",
	[RULE_DECAP]	  = "decap delivers/chains only valid tunnels, into valid packets",
	[RULE_REASON]	  = "exactly one reason, matching the action",
	[RULE_VERDICT]	  = "no false drop, unhandled frames passed untouched",
	[RULE_NAT]	  = "NAT: the flow's tuple, one hop older, checksums kept",
};

static const char *const act_names[ACTS] = { "aborted", "drop", "pass", "tx", "redirect" };
static const char *const class_names[REF_CLASSES] = { "ok", "other", "malformed", "refused",
						       "lenient" };

struct ref_vip ref_vips[FZ_VIPS_MAX];
int ref_nvips;
struct ref_be ref_bes[BAL_BE_COUNT];
struct ref_snat ref_snat;

static __u64 fz_seed, fz_count = FUZZ_COUNT_DEFAULT, fz_index = FUZZ_INDEX_NONE;
static int fz_gue;		/* the balancer under test encapsulates in GUE */
static int fz_verbose;
static __u8 fz_hex[PKT_MAX];
static size_t fz_hex_len;

/* ---- PRNG ---- */

struct rng {
	__u64 s;
};

static __u64 rng_next(struct rng *r)
{
	__u64 z = (r->s += SPLITMIX_GAMMA);

	z = (z ^ (z >> 30)) * SPLITMIX_M1;
	z = (z ^ (z >> 27)) * SPLITMIX_M2;
	return z ^ (z >> 31);
}

static __u32 rnd(struct rng *r, __u32 n)
{
	return n ? (__u32)(rng_next(r) % n) : 0;
}

static int chance(struct rng *r, int pct)
{
	return (int)rnd(r, 100) < pct;
}

static struct rng rng_for(int cs, __u64 index)
{
	struct rng r = { fz_seed ^ ((__u64)cs << 56) ^ (index * INDEX_MIX) };

	rng_next(&r);
	return r;
}

/* ---- Programs, counters, one run ---- */

struct prog {
	int fd, reasons;
	__u64 last[XLB_REASON_MAX];
};

/* The fuzzed decap instance, and the one the round trip uses (it owns every backend). */
static struct prog p_bal, p_dc, p_rt;
static struct ref_decap_cfg cfg_dc, cfg_rt;

/* Every reason counter, summed over CPUs, in one batch lookup. */
static void reasons_read(int fd, __u64 sum[XLB_REASON_MAX])
{
	static __u64 *vals;
	static int ncpu;
	__u32 keys[XLB_REASON_MAX], count = XLB_REASON_MAX, out_batch;

	if (!vals) {
		ncpu = libbpf_num_possible_cpus();
		vals = calloc((size_t)XLB_REASON_MAX * ncpu, sizeof(*vals));
		if (!vals)
			fx_die("out of memory");
	}
	if (bpf_map_lookup_batch(fd, NULL, &out_batch, keys, vals, &count, NULL) &&
	    errno != ENOENT)
		fx_die("reasons batch lookup: %s", strerror(errno));
	if (count != XLB_REASON_MAX)
		fx_die("reasons batch lookup: %u of %d entries", count, XLB_REASON_MAX);
	memset(sum, 0, XLB_REASON_MAX * sizeof(*sum));
	for (__u32 i = 0; i < count; i++)
		for (int c = 0; c < ncpu; c++)
			sum[keys[i]] += vals[i * ncpu + c];
}

/* One run of a program on a frame: what came back, and which reasons moved. */
struct shot {
	const __u8 *in;
	size_t len;
	int err;
	struct fx_run run;
	__u64 delta[XLB_REASON_MAX];
	__u64 counted;		/* reasons counted in all */
	int reason;		/* the reason counted, if exactly one */
};

static void shoot(struct prog *p, const __u8 *in, size_t len, struct shot *s)
{
	__u64 now[XLB_REASON_MAX];

	s->in = in;
	s->len = len;
	s->err = fx_run(p->fd, fx_ifindex_a, in, len, &s->run);
	reasons_read(p->reasons, now);
	s->counted = 0;
	s->reason = -1;
	for (int r = 0; r < XLB_REASON_MAX; r++) {
		s->delta[r] = now[r] - p->last[r];
		p->last[r] = now[r];
		s->counted += s->delta[r];
		if (s->delta[r] && r != XLB_FWD_NAT_REPLY)	/* not an exit: counted besides */
			s->reason = r;
	}
}

/* A full ICMP reply budget on every CPU (a zero stamp refills it). */
static void budget_refill(void)
{
	static struct xlb_icmp_bucket *zero;
	__u32 key = 0;

	if (!zero)
		zero = calloc(libbpf_num_possible_cpus(), sizeof(*zero));
	if (!zero || bpf_map_update_elem(bpf_map__fd(bal->maps.icmp_budget), &key, zero, BPF_ANY))
		fx_die("cannot refill icmp_budget");
}

/* ---- The oracle ---- */

struct judge {
	int rule;		/* the first rule broken, RULE_NONE if none */
	const char *kind;	/* its check (the message's format): one kind of violation */
	const char *detail;	/* and the reference's class, where the check names it */
	char msg[384];
};

static int viol(struct judge *j, int rule, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int viol(struct judge *j, int rule, const char *fmt, ...)
{
	va_list ap;

	if (j->rule)
		return 1;
	j->rule = rule;
	j->kind = fmt;
	va_start(ap, fmt);
	vsnprintf(j->msg, sizeof(j->msg), fmt, ap);
	va_end(ap);
	return 1;
}

#define JCHECK(j, rule, cond, ...)						\
	do {									\
		if (!(cond))							\
			return viol(j, rule, __VA_ARGS__);			\
	} while (0)

/* A check whose kind of violation depends on the reference's class @why. */
#define JCHECK_WHY(j, rule, why, cond, ...)					\
	do {									\
		if (!(cond)) {							\
			viol(j, rule, __VA_ARGS__);				\
			(j)->detail = why;					\
			return 1;						\
		}								\
	} while (0)

static const char *act_name(int act)
{
	return act >= 0 && act < ACTS ? act_names[act] : "unknown";
}

/* What each reason means for the frame, from the enum's own definitions. */
static int reason_action(int reason)
{
	switch (reason) {
	case XLB_FWD_TX:
	case XLB_TX_TOO_BIG:
		return XDP_TX;
	case XLB_FWD_REDIRECT:
		return XDP_REDIRECT;
	case XLB_PASS_NOT_IP:
	case XLB_PASS_NOT_VIP:
	case XLB_PASS_PROTO:
	case XLB_PASS_FRAGMENT:
	case XLB_PASS_ICMP_NOT_VIP:
	case XLB_PASS_NAT_NO_FLOW:
	case XLB_DECAP_OK:
	case XLB_DECAP_PASS:
	case XLB_DECAP_OWNED:
	case XLB_DECAP_LAST_HOP:
	case XLB_DECAP_SELF_HOP:
	case XLB_DECAP_NO_ROUTE:
	case XLB_DECAP_CHAIN_KERNEL:
		return XDP_PASS;
	case XLB_DECAP_CHAIN_TX:
	case XLB_DECAP_CHAIN_BOUNCE:
		return XDP_TX;
	case XLB_DECAP_CHAIN_REDIRECT:
		return XDP_REDIRECT;
	default:
		return XDP_DROP;
	}
}

/* Decap reasons after which the inner packet goes up the stack. */
static int decap_delivers(int reason)
{
	return reason == XLB_DECAP_OK || reason == XLB_DECAP_OWNED ||
	       reason == XLB_DECAP_LAST_HOP || reason == XLB_DECAP_SELF_HOP ||
	       reason == XLB_DECAP_NO_ROUTE;
}

/* ... and after which the rewritten copy goes on to its next hop. */
static int decap_chains(int reason)
{
	return reason == XLB_DECAP_CHAIN_TX || reason == XLB_DECAP_CHAIN_REDIRECT ||
	       reason == XLB_DECAP_CHAIN_BOUNCE || reason == XLB_DECAP_CHAIN_KERNEL;
}

static int untouched(const struct shot *s)
{
	return s->run.out_len == s->len && !memcmp(s->run.out, s->in, s->len);
}

static size_t first_diff(const __u8 *a, const __u8 *b, size_t n)
{
	size_t i = 0;

	while (i < n && a[i] == b[i])
		i++;
	return i;
}

/* Rule 5, for the program whose reasons are [lo, hi). */
static int judge_reason(const struct shot *s, struct judge *j, int lo, int hi)
{
	JCHECK(j, RULE_REASON, !s->err, "BPF_PROG_TEST_RUN failed: %s", strerror(-s->err));
	JCHECK(j, RULE_REASON, s->counted - s->delta[XLB_FWD_NAT_REPLY] == 1,
	       "%llu reasons counted for one packet", (unsigned long long)s->counted);
	JCHECK(j, RULE_REASON, s->delta[XLB_FWD_NAT_REPLY] <= 1 && (!s->delta[XLB_FWD_NAT_REPLY] ||
	       s->reason == XLB_FWD_TX || s->reason == XLB_FWD_REDIRECT),
	       "fwd_nat_reply counted %llu times, besides %s",
	       (unsigned long long)s->delta[XLB_FWD_NAT_REPLY], fx_reason_names[s->reason]);
	JCHECK(j, RULE_REASON, s->reason >= lo && s->reason < hi,
	       "reason %s is the other program's", fx_reason_names[s->reason]);
	JCHECK(j, RULE_REASON, reason_action(s->reason) == s->run.ret,
	       "reason %s counted, but the action is %s", fx_reason_names[s->reason],
	       act_name(s->run.ret));
	return 0;
}

static __u8 tclass_of(const __u8 *ip, int family)
{
	return family == 4 ? ip[1] : (get16(ip) >> 4) & 0xff;
}

static int judge_outer4(const __u8 *o, size_t n, const __u8 *inner, const struct ref *ref,
			struct judge *j)
{
	__u32 src[4];

	pkt_addr(4, FX_SRC4, src);
	JCHECK(j, RULE_FORWARD, o[0] == 0x45, "outer version/IHL 0x%02x", o[0]);
	JCHECK(j, RULE_FORWARD, ref_csum_ok(o, PKT_IP4_LEN), "outer IPv4 checksum invalid");
	JCHECK(j, RULE_FORWARD, get16(o + 2) == n,
	       "outer tot_len %u, but the frame holds %zu bytes after L2", get16(o + 2), n);
	JCHECK(j, RULE_FORWARD, (get16(o + 6) & ~PKT_DF) == 0 && (get16(o + 6) & PKT_DF),
	       "outer frag_off 0x%04x (want DF, not a fragment)", get16(o + 6));
	JCHECK(j, RULE_FORWARD, o[8], "outer TTL 0");
	JCHECK(j, RULE_FORWARD, o[9] == (fz_gue ? IPPROTO_UDP : IPPROTO_IPIP),
	       "outer protocol %u", o[9]);
	JCHECK(j, RULE_FORWARD, ref->family == 4, "an IPv6 packet inside IPv4");
	JCHECK(j, RULE_FORWARD, o[1] == tclass_of(inner, 4),
	       "outer TOS 0x%02x, inner DSCP/ECN 0x%02x", o[1], tclass_of(inner, 4));
	JCHECK(j, RULE_FORWARD, !memcmp(o + 12, src, 4), "outer source is not " FX_SRC4);
	return 0;
}

static int judge_outer6(const __u8 *o, size_t n, const __u8 *inner, const struct ref *ref,
			struct judge *j)
{
	__u32 src[4], w, label = fh_flow_hash(&ref->key) & FLOW_LABEL_MASK;

	pkt_addr(6, FX_SRC6, src);
	JCHECK(j, RULE_FORWARD, n >= PKT_IP6_LEN, "outer IPv6 header cut: %zu bytes", n);
	w = get32(o);
	JCHECK(j, RULE_FORWARD, (w >> 28) == 6, "outer version %u", w >> 28);
	JCHECK(j, RULE_FORWARD, (size_t)PKT_IP6_LEN + get16(o + 4) == n,
	       "outer payload_len %u, but the frame holds %zu bytes after the outer header",
	       get16(o + 4), n - PKT_IP6_LEN);
	JCHECK(j, RULE_FORWARD, o[6] == (fz_gue ? IPPROTO_UDP :
					 ref->family == 4 ? IPPROTO_IPIP : IPPROTO_IPV6),
	       "outer next header %u for an IPv%d packet", o[6], ref->family);
	JCHECK(j, RULE_FORWARD, o[7], "outer hop limit 0");
	JCHECK(j, RULE_FORWARD, ((w >> 20) & 0xff) == tclass_of(inner, ref->family),
	       "outer traffic class 0x%02x, inner DSCP/ECN 0x%02x", (w >> 20) & 0xff,
	       tclass_of(inner, ref->family));
	JCHECK(j, RULE_FORWARD, (w & FLOW_LABEL_MASK) == label,
	       "outer flow label 0x%05x, the flow's hash gives 0x%05x", w & FLOW_LABEL_MASK, label);
	JCHECK(j, RULE_FORWARD, !memcmp(o + 8, src, 16), "outer source is not " FX_SRC6);
	return 0;
}

static int ref_backend_at(int family, const __u8 *addr)
{
	for (int b = 1; b < BAL_BE_COUNT; b++)
		if (ref_bes[b].family == family &&
		    !memcmp(ref_bes[b].addr, addr, family == 4 ? 4 : 16))
			return b;
	return -1;
}

/*
 * The link header of a forwarded frame: the egress's, and the fixture has
 * no VLAN device (vlan_ifs is empty), so never a tag, whatever came in.
 */
#define FZ_OUT_L2	PKT_ETH_LEN

/* The outer destination is a backend of the packet's VIP, reached as the fixture routes it. */
static int judge_backend(const struct shot *s, const struct ref *ref, int family,
			 struct judge *j)
{
	const __u8 *o = s->run.out, *ip = o + FZ_OUT_L2;
	int b = ref_backend_at(family, family == 4 ? ip + 16 : ip + 24);
	__u8 mac[6];

	JCHECK(j, RULE_FORWARD, b > 0, "outer destination is no backend");
	JCHECK(j, RULE_FORWARD, bal_be[b].vip == ref->vip->vip.id,
	       "sent to backend %d of VIP %u; the packet is for VIP %u", b, bal_be[b].vip,
	       ref->vip->vip.id);
	JCHECK(j, RULE_FORWARD, !(ref->vip->vip.flags & XLB_VIP_F_ALL_DOWN),
	       "forwarded to VIP %u, whose backends are all down", ref->vip->vip.id);
	fx_be_mac(bal_be[b].mac_last, mac);
	JCHECK(j, RULE_FORWARD, !memcmp(o, mac, 6), "destination MAC is not backend %d's", b);
	JCHECK(j, RULE_FORWARD, !memcmp(o + 6, ref_bes[b].link_b ? fx_mac_b : fx_mac_a, 6),
	       "source MAC is not the egress interface's");
	JCHECK(j, RULE_FORWARD, s->run.ret == (ref_bes[b].link_b ? XDP_REDIRECT : XDP_TX),
	       "%s for backend %d on link %c", act_name(s->run.ret), b,
	       ref_bes[b].link_b ? 'B' : 'A');
	return 0;
}

struct tally;
static struct tally *rt_tally;
static void tally_add(struct tally *t, const struct shot *s, int cls, const char *why);
static int judge_decap(const struct ref_decap_cfg *c, const struct shot *s, struct dref *d,
		       struct judge *j);

/* Rule 1's last part: the backend's decap program gives the client's packet back. */
static int judge_roundtrip(const struct shot *s, const struct ref *ref, struct judge *j)
{
	size_t want = FZ_OUT_L2 + ref->ip_len;
	struct dref d;
	struct shot r;
	int bad;

	shoot(&p_rt, s->run.out, s->run.out_len, &r);
	bad = judge_decap(&cfg_rt, &r, &d, j);
	tally_add(rt_tally, &r, d.cls, d.why);
	if (bad)
		return 1;
	JCHECK(j, RULE_FORWARD, decap_delivers(r.reason),
	       "decap did not strip the balancer's output (%s: %s)",
	       fx_reason_names[r.reason], d.why);
	JCHECK(j, RULE_FORWARD, r.run.out_len == want &&
	       !memcmp(r.run.out + FZ_OUT_L2 - 2, s->in + ref->l2 - 2, ref->ip_len + 2),
	       "decap(encap(x)) is not x: %u bytes back for %zu, first difference at %zu",
	       r.run.out_len, want,
	       first_diff(r.run.out + FZ_OUT_L2 - 2, s->in + ref->l2 - 2, ref->ip_len + 2));
	return 0;
}

/*
 * The input's own checksums (IPv4 header, TCP/UDP/ICMP/ICMPv6 over its
 * declared length) hold; *@none: it is UDP without a checksum.
 */
static int inner_csums_ok(const __u8 *ip, size_t len, int family, int *none)
{
	size_t hlen = family == 4 ? (ip[0] & 0xf) * 4 : PKT_IP6_LEN, n = len - hlen;
	__u8 proto = family == 4 ? ip[9] : ip[6];
	const __u8 *l4 = ip + hlen;
	__u32 sum;

	*none = proto == IPPROTO_UDP && n >= PKT_UDP_LEN && !get16(l4 + 6);
	if (family == 4 && !ref_csum_ok(ip, hlen))
		return 0;
	if (*none)
		return 1;
	if (family == 4 && proto == IPPROTO_ICMP)
		sum = 0;
	else if (family == 4)
		sum = pkt_sum(ip + 12, 8, 0) + proto + n;
	else
		sum = pkt_pseudo6(ip + 8, ip + 24, n, proto);
	return pkt_fold(pkt_sum(l4, n, sum)) == 0;
}

/*
 * GUE after the outer header at @o (@hlen bytes, @n in all): UDP from the
 * flow's port to the GUE port, its length the outer payload, its checksum 0
 * over IPv4 and valid over IPv6 whenever the input's own checksums are (0
 * for an inner UDP datagram without one); GUE version 0, the inner family,
 * no flags; a hop list starting at hop 0, the outer destination, and, if a
 * second hop, another backend of the VIP. Returns the bytes it covers in
 * *@over.
 */
static int judge_gue(const __u8 *o, size_t hlen, size_t n, const __u8 *inner,
		     const struct ref *ref, int family, size_t *over, struct judge *j)
{
	const __u8 *u = o + hlen, *g = u + PKT_UDP_LEN, *h = g + FZ_GUE_LEN;
	const __u8 *dst = family == 4 ? o + 16 : o + 24;
	size_t alen = family == 4 ? 4 : 16, hops = FZ_HOPS_LEN(family);
	__u16 sport = XLB_GUE_SPORT_MIN | (fh_flow_hash(&ref->key) & XLB_GUE_SPORT_MASK);
	static const __u8 zero16[16];
	int none, second;

	*over = hlen + PKT_UDP_LEN + FZ_GUE_LEN + hops;
	JCHECK(j, RULE_FORWARD, n >= *over, "GUE headers cut: %zu bytes", n);
	JCHECK(j, RULE_FORWARD, get16(u) == sport && get16(u + 2) == XLB_GUE_PORT_DEFAULT,
	       "UDP ports %u -> %u, want %u (flow hash) -> %u", get16(u), get16(u + 2), sport,
	       XLB_GUE_PORT_DEFAULT);
	JCHECK(j, RULE_FORWARD, get16(u + 4) == n - hlen, "UDP length %u, the outer payload %zu",
	       get16(u + 4), n - hlen);
	if (family == 4)
		JCHECK(j, RULE_FORWARD, !get16(u + 6), "UDP checksum over IPv4 is not 0");
	else if (!inner_csums_ok(inner, ref->ip_len, ref->family, &none) || none)
		JCHECK(j, RULE_FORWARD, !none || !get16(u + 6),
		       "UDP checksum of a tunnelled datagram without one is not 0");
	else
		JCHECK(j, RULE_FORWARD, get16(u + 6) &&
		       pkt_fold(pkt_sum(u, n - hlen, pkt_pseudo6(o + 8, o + 24, n - hlen,
								 IPPROTO_UDP))) == 0,
		       "UDP checksum over IPv6 invalid, the inner packet's are valid");
	JCHECK(j, RULE_FORWARD, g[0] == hops / 4 && get16(g + 2) == 0 &&
	       g[1] == (ref->family == 4 ? IPPROTO_IPIP : IPPROTO_IPV6),
	       "GUE header %02x%02x%04x", g[0], g[1], get16(g + 2));
	second = h[3] == 2 ? ref_backend_at(family, h + 4 + alen) : 0;
	JCHECK(j, RULE_FORWARD, get16(h) == XLB_GUE_HOPS_TYPE && h[2] == 0 &&
	       (h[3] == 1 || h[3] == 2) && !memcmp(h + 4, dst, alen),
	       "hop list: type 0x%04x next %u count %u, hop 0 %s the outer destination",
	       get16(h), h[2], h[3], memcmp(h + 4, dst, alen) ? "is not" : "is");
	JCHECK(j, RULE_FORWARD, h[3] == 2 ? second > 0 && bal_be[second].vip == ref->vip->vip.id &&
	       memcmp(h + 4, h + 4 + alen, alen) : !memcmp(h + 4 + alen, zero16, alen),
	       "second hop is not another backend of the VIP (or not zero without one)");
	return 0;
}

static int judge_forward(const struct shot *s, const struct ref *ref, struct judge *j)
{
	const __u8 *o = s->run.out, *in = s->in + ref->l2;
	size_t olen = s->run.out_len, l2 = FZ_OUT_L2, hlen;
	__u16 etype;
	int family;

	JCHECK(j, RULE_FORWARD, olen >= l2 + PKT_IP4_LEN, "forwarded frame of %zu bytes", olen);
	JCHECK(j, RULE_FORWARD, get16(o + 12) != PKT_ETH_P_8021Q,
	       "an 802.1Q tag on an egress that is no VLAN device");
	etype = get16(o + l2 - 2);
	if (etype == PKT_ETH_P_IP) {
		family = 4;
		hlen = PKT_IP4_LEN;
		if (judge_outer4(o + l2, olen - l2, in, ref, j))
			return 1;
	} else if (etype == PKT_ETH_P_IPV6) {
		family = 6;
		hlen = PKT_IP6_LEN;
		if (judge_outer6(o + l2, olen - l2, in, ref, j))
			return 1;
	} else {
		return viol(j, RULE_FORWARD, "outer ethertype 0x%04x", etype);
	}
	if (judge_backend(s, ref, family, j))
		return 1;
	if (fz_gue && judge_gue(o + l2, hlen, olen - l2, in, ref, family, &hlen, j))
		return 1;
	JCHECK(j, RULE_FORWARD, olen - l2 - hlen == ref->ip_len,
	       "the tunnel carries %zu bytes; the input's IP packet has %zu", olen - l2 - hlen,
	       ref->ip_len);
	JCHECK(j, RULE_FORWARD, !memcmp(o + l2 + hlen, in, ref->ip_len),
	       "inner packet differs from the input's at byte %zu",
	       first_diff(o + l2 + hlen, in, ref->ip_len));
	return judge_roundtrip(s, ref, j);
}

/* ---- NAT: the flows the fuzzer made, and the rewrite's judge ---- */

static __u16 etype_of(int family);

/*
 * The model of NAT flows: each learnt from nat_flows the first time a
 * packet for a NAT VIP finds its flow there, checked then against the
 * configuration (a SNAT address and port, a backend of the VIP and its
 * port, the backend's direction leading back to the client, no SNAT
 * tuple given twice), and from then on the tuple every packet of the
 * flow, and every answer to it, must be rewritten to.
 */
static struct {
	struct ref_nat flow[NAT_FLOWS_MAX];
	int n;
	__u32 by_key[NAT_SLOTS], by_rkey[NAT_SLOTS];	/* index + 1; 0: free */
	__u64 learnt, flushes, fwd, icmp_fwd, answers, icmp_answers, lenient, plain, unsupp;
} nm;
static int nat_fd;

static __u32 key_hash(const struct xlb_flow_key *k)
{
	const __u8 *p = (const __u8 *)k;
	__u32 h = FNV_OFFSET;

	for (size_t i = 0; i < sizeof(*k); i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h & (NAT_SLOTS - 1);
}

static const struct ref_nat *nat_find(const struct xlb_flow_key *k, int by_rkey)
{
	const __u32 *idx = by_rkey ? nm.by_rkey : nm.by_key;

	for (__u32 h = key_hash(k); idx[h]; h = (h + 1) & (NAT_SLOTS - 1)) {
		const struct ref_nat *f = &nm.flow[idx[h] - 1];

		if (!memcmp(by_rkey ? &f->rkey : &f->key, k, sizeof(*k)))
			return f;
	}
	return NULL;
}

static void nat_index(__u32 *idx, const struct xlb_flow_key *k, int i)
{
	__u32 h = key_hash(k);

	while (idx[h])
		h = (h + 1) & (NAT_SLOTS - 1);
	idx[h] = i + 1;
}

const struct ref_nat *ref_nat_answer(const struct xlb_flow_key *k)
{
	return nat_find(k, 1);
}

static void nat_model_reset(void)
{
	nm.n = 0;
	memset(nm.by_key, 0, sizeof(nm.by_key));
	memset(nm.by_rkey, 0, sizeof(nm.by_rkey));
}

/* Empty nat_flows and the model: the keys first, then each deleted (no agent expires them here). */
static void nat_flush(void)
{
	static struct xlb_flow_key keys[2 * NAT_FLOWS_MAX + XLB_NAT_SIZE_MIN];
	struct xlb_flow_key *prev = NULL;
	size_t n = 0;

	while (n < ARRAY_SIZE(keys) && !bpf_map_get_next_key(nat_fd, prev, &keys[n]))
		prev = &keys[n++];
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(nat_fd, &keys[i]);
	nat_model_reset();
	nm.flushes++;
}

static const struct nat_be *nat_be_of(__u32 vip, const __u32 *addr)
{
	for (size_t i = 0; i < ARRAY_SIZE(nat_bes); i++) {
		__u32 a[4];

		pkt_addr(nat_bes[i].family, nat_bes[i].addr, a);
		if (nat_bes[i].vip == vip && !memcmp(a, addr, sizeof(a)))
			return &nat_bes[i];
	}
	return NULL;
}

static const struct nat_be *nat_be_id(__u32 id)
{
	for (size_t i = 0; i < ARRAY_SIZE(nat_bes); i++)
		if (nat_bes[i].id == id)
			return &nat_bes[i];
	return NULL;
}

static int snat_has(const struct xlb_flow_key *k)
{
	struct xlb_flow_key d = *k;

	return ref_is_snat_dst(&d);
}

static const char *addr_text(int family, const __u32 *a, char *buf)
{
	return inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf, FZ_ADDR_TEXT);
}

/* Learn the flow of @ref (a packet for a NAT VIP) from nat_flows, if it is new there. */
static int nat_learn(const struct ref *ref, struct judge *j)
{
	const struct xlb_flow_key *k = &ref->key;
	struct xlb_flow_key rk, out = { .proto = k->proto, .family = k->family }, at;
	struct xlb_nat_flow f, tw;
	const struct nat_be *be;
	char a[FZ_ADDR_TEXT];
	struct ref_nat *n;

	if (nat_find(k, 0) || bpf_map_lookup_elem(nat_fd, k, &f))
		return 0;
	xlb_nat_twin_key(k, &f, &rk);
	memcpy(out.src, f.to.src, sizeof(out.src));
	memcpy(out.dst, f.to.dst, sizeof(out.dst));
	out.sport = f.to.sport;
	out.dport = f.to.dport;
	JCHECK(j, RULE_NAT, !(f.flow.flags & XLB_FLOW_F_NAT_REPLY) &&
	       f.flow.vip_id == ref->vip->vip.id,
	       "nat_flows: a client's entry has flags 0x%x and VIP %u; its packets are for VIP %u",
	       f.flow.flags, f.flow.vip_id, ref->vip->vip.id);
	at = out;
	memcpy(at.dst, out.src, sizeof(at.dst));
	at.dport = out.sport;
	JCHECK(j, RULE_NAT, snat_has(&at), "nat_flows: a flow leaves from %s:%u, no SNAT address "
	       "and port", addr_text(k->family, out.src, a), ntohs(out.sport));
	be = nat_be_of(ref->vip->vip.id, out.dst);
	JCHECK(j, RULE_NAT, be && be->id == f.flow.backend_id &&
	       out.dport == (be->port ? htons(be->port) : k->dport),
	       "nat_flows: a flow of VIP %u leaves to %s:%u (backend %u), not a backend of it and "
	       "its port", ref->vip->vip.id, addr_text(k->family, out.dst, a), ntohs(out.dport),
	       f.flow.backend_id);
	JCHECK(j, RULE_NAT, !bpf_map_lookup_elem(nat_fd, &rk, &tw) &&
	       (tw.flow.flags & XLB_FLOW_F_NAT_REPLY) && tw.flow.backend_id == be->id,
	       "nat_flows: a client's flow has no backend's direction (or one of another backend)");
	JCHECK(j, RULE_NAT, tw.to.sport == k->dport && tw.to.dport == k->sport &&
	       !memcmp(tw.to.src, k->dst, sizeof(k->dst)) &&
	       !memcmp(tw.to.dst, k->src, sizeof(k->src)),
	       "nat_flows: the backend's direction does not lead back to VIP -> client");
	JCHECK(j, RULE_NAT, !nat_find(&rk, 1), "SNAT tuple %s:%u -> backend handed to two flows",
	       addr_text(k->family, out.src, a), ntohs(out.sport));
	if (nm.n == NAT_FLOWS_MAX)
		return 0;
	n = &nm.flow[nm.n];
	*n = (struct ref_nat){ .key = *k, .out = out, .rkey = rk, .vip_id = f.flow.vip_id,
			       .be_id = f.flow.backend_id };
	nat_index(nm.by_key, &n->key, nm.n);
	nat_index(nm.by_rkey, &n->rkey, nm.n);
	nm.n++;
	nm.learnt++;
	return 0;
}

/* What a NAT packet must leave with: the outer header's addresses and ports. */
struct nat_to {
	__u32 src[4], dst[4];
	__be16 sport, dport;
};

static void nat_to_of(const struct ref_nat *f, int kind, struct nat_to *to)
{
	const struct xlb_flow_key *k = kind == REF_NAT_ANSWER ? &f->key : &f->out;

	/* a client's packet leaves as the flow's out; an answer as its key reversed */
	if (kind == REF_NAT_ANSWER) {
		memcpy(to->src, k->dst, sizeof(to->src));
		memcpy(to->dst, k->src, sizeof(to->dst));
		to->sport = k->dport;
		to->dport = k->sport;
		return;
	}
	memcpy(to->src, k->src, sizeof(to->src));
	memcpy(to->dst, k->dst, sizeof(to->dst));
	to->sport = k->sport;
	to->dport = k->dport;
}

static size_t ip_hlen(const __u8 *ip, int family)
{
	return family == 4 ? (size_t)(ip[0] & 0xf) * 4 : PKT_IP6_LEN;
}

/*
 * The input's IP packet as NAT must send it, but for its checksums: @to's
 * addresses, one hop older, and @to's ports; an ICMP error's quote becomes
 * a packet of the other direction (@to reversed).
 */
static void nat_want(const __u8 *in, const struct ref *ref, const struct nat_to *to, __u8 *w)
{
	size_t alen = ref->family == 4 ? 4 : 16, so = ref->family == 4 ? 12 : 8;
	size_t hlen = ip_hlen(in, ref->family), qh;
	__u8 *q;

	memcpy(w, in, ref->ip_len);
	memcpy(w + so, to->src, alen);
	memcpy(w + so + alen, to->dst, alen);
	w[ref->family == 4 ? 8 : 7]--;
	if (!ref->icmp_err) {
		memcpy(w + hlen, &to->sport, 2);
		memcpy(w + hlen + 2, &to->dport, 2);
		return;
	}
	q = w + hlen + PKT_ICMP_LEN;
	qh = ip_hlen(q, ref->family);
	memcpy(q + so, to->dst, alen);
	memcpy(q + so + alen, to->src, alen);
	memcpy(q + qh, &to->dport, 2);
	memcpy(q + qh + 2, &to->sport, 2);
}

/* The checksum fields of a NAT packet (offsets from the IP header), 0-terminated. */
static void nat_csum_offs(const __u8 *in, const struct ref *ref, size_t offs[5])
{
	size_t hlen = ip_hlen(in, ref->family), q, qh, l4, k = 0;

	if (ref->family == 4)
		offs[k++] = 10;
	if (!ref->icmp_err) {
		offs[k++] = hlen + (ref->key.proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF);
		offs[k] = 0;
		return;
	}
	offs[k++] = hlen + 2;
	q = hlen + PKT_ICMP_LEN;
	qh = ip_hlen(in + q, ref->family);
	if (ref->family == 4)
		offs[k++] = q + 10;
	l4 = q + qh + (ref->key.proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF);
	if (l4 + 2 <= ref->ip_len)
		offs[k++] = l4;
	offs[k] = 0;
}

/* One's complement residue of @n bytes and @sum: 0 for a valid checksum (-0 is +0). */
static __u16 residue(const __u8 *p, size_t n, __u32 sum)
{
	__u16 r = pkt_fold(pkt_sum(p, n, sum));

	return r == 0xffff ? 0 : r;
}

/* The pseudo-header of the IP header at @ip for @proto over @len bytes. */
static __u32 pseudo(const __u8 *ip, int family, __u8 proto, __u32 len)
{
	if (family == 4)
		return pkt_sum(ip + 12, 8, 0) + proto + (len & 0xffff);
	return pkt_pseudo6(ip + 8, ip + 24, len & 0xffff, proto);
}

/*
 * A TCP/UDP checksum over @n bytes at @l4 (of the IP header @ip) must keep
 * its residue: valid if it was, wrong by as much if it was not (an update,
 * never a recomputation that would launder a corrupt packet). A UDP
 * checksum 0 over IPv4 (none) stays 0; a non-zero one never becomes 0.
 */
static int judge_nat_l4csum(const __u8 *ip_in, const __u8 *ip_out, size_t l4, size_t n,
			    const struct ref *ref, const char *what, struct judge *j)
{
	const __u8 *a = ip_in + l4, *b = ip_out + l4;
	__u8 proto = ref->key.proto;
	size_t off = proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF;
	__u32 plen = proto == IPPROTO_UDP ? get16(a + 4) : n;
	__u16 ra, rb;

	if (proto == IPPROTO_UDP && ref->family == 4 && !get16(a + off)) {
		JCHECK(j, RULE_NAT, !get16(b + off), "%s UDP checksum 0 (none) over IPv4 became 0x%04x",
		       what, get16(b + off));
		return 0;
	}
	JCHECK(j, RULE_NAT, proto != IPPROTO_UDP || get16(b + off),
	       "%s UDP checksum sent as 0 (none)", what);
	ra = residue(a, n, pseudo(ip_in, ref->family, proto, plen));
	rb = residue(b, n, pseudo(ip_out, ref->family, proto, plen));
	JCHECK(j, RULE_NAT, ra == rb, "%s %s checksum not kept: residue 0x%04x, the input's 0x%04x",
	       what, proto == IPPROTO_TCP ? "TCP" : "UDP", rb, ra);
	return 0;
}

/* Every checksum of a NAT rewrite, recomputed from the bytes: each keeps the input's residue. */
static int judge_nat_csums(const __u8 *in, const __u8 *out, const struct ref *ref,
			   struct judge *j)
{
	size_t hlen = ip_hlen(in, ref->family), n = ref->ip_len - hlen, qh, qn, plen;
	const __u8 *qi = in + hlen + PKT_ICMP_LEN, *qo = out + hlen + PKT_ICMP_LEN;
	__u32 si = 0, so = 0;

	if (ref->family == 4)
		JCHECK(j, RULE_NAT, residue(in, hlen, 0) == residue(out, hlen, 0),
		       "IPv4 header checksum not kept: residue 0x%04x, the input's 0x%04x",
		       residue(out, hlen, 0), residue(in, hlen, 0));
	if (!ref->icmp_err) {
		plen = ref->key.proto == IPPROTO_UDP ? get16(in + hlen + 4) : n;
		return judge_nat_l4csum(in, out, hlen, plen, ref, "the", j);
	}
	if (ref->family == 6) {
		si = pseudo(in, 6, IPPROTO_ICMPV6, n);
		so = pseudo(out, 6, IPPROTO_ICMPV6, n);
	}
	JCHECK(j, RULE_NAT, residue(in + hlen, n, si) == residue(out + hlen, n, so),
	       "ICMP checksum not kept: residue 0x%04x, the input's 0x%04x",
	       residue(out + hlen, n, so), residue(in + hlen, n, si));
	qh = ip_hlen(qi, ref->family);
	qn = n - PKT_ICMP_LEN;
	if (ref->family == 4)
		JCHECK(j, RULE_NAT, residue(qi, qh, 0) == residue(qo, qh, 0),
		       "quoted IPv4 header checksum not kept");
	/* The quoted L4 checksum, when the quote holds it: over what is quoted (the rest is equal). */
	if (qh + (ref->key.proto == IPPROTO_TCP ? TCP_CSUM_OFF : UDP_CSUM_OFF) + 2 > qn)
		return 0;
	return judge_nat_l4csum(qi, qo, qh, qn - qh, ref, "the quoted", j);
}

/* The link header and action: to the backend (or the clients' router), from the egress. */
static int judge_nat_l2(const struct shot *s, const struct ref *ref, const struct ref_nat *f,
			struct judge *j)
{
	const struct nat_be *be = ref->nat == REF_NAT_FWD ? nat_be_id(f->be_id) : NULL;
	const char *to = be ? "backend" : "clients' router";
	const __u8 *o = s->run.out;
	int link_b = be && be->link_b;
	__u8 mac[6];

	if (be)
		fx_be_mac(be->mac_last, mac);
	else
		memcpy(mac, fx_mac_client, sizeof(mac));
	JCHECK(j, RULE_NAT, s->run.out_len >= FZ_OUT_L2 &&
	       get16(o + 12) == etype_of(ref->family),
	       "NAT output of %u bytes, ethertype 0x%04x for an IPv%d packet", s->run.out_len,
	       s->run.out_len >= FZ_OUT_L2 ? get16(o + 12) : 0, ref->family);
	JCHECK(j, RULE_NAT, !memcmp(o, mac, 6), "NAT destination MAC is not the %s's", to);
	JCHECK(j, RULE_NAT, !memcmp(o + 6, link_b ? fx_mac_b : fx_mac_a, 6),
	       "NAT source MAC is not the egress interface's");
	JCHECK(j, RULE_NAT, s->run.ret == (link_b ? XDP_REDIRECT : XDP_TX),
	       "%s to a NAT %s on link %c", act_name(s->run.ret), to, link_b ? 'B' : 'A');
	JCHECK(j, RULE_NAT, s->delta[XLB_FWD_NAT_REPLY] == (ref->nat == REF_NAT_ANSWER),
	       "fwd_nat_reply counted %llu times for a NAT %s",
	       (unsigned long long)s->delta[XLB_FWD_NAT_REPLY],
	       ref->nat == REF_NAT_ANSWER ? "answer" : "client's packet");
	return 0;
}

/*
 * Rule 7 for a forwarded NAT packet: the flow's tuple (learnt for a
 * client's packet, the client's reversed for an answer), exactly the
 * input's IP packet otherwise (trimmed: no padding), one hop older, and
 * every checksum kept.
 */
static int judge_nat(const struct shot *s, const struct ref *ref, struct judge *j)
{
	const __u8 *in = s->in + ref->l2, *ip = s->run.out + FZ_OUT_L2;
	const struct ref_nat *f = ref->nat == REF_NAT_ANSWER ? ref->flow : nat_find(&ref->key, 0);
	static __u8 want[PKT_MAX];
	size_t offs[5], d;
	struct nat_to to;

	JCHECK(j, RULE_NAT, f, "forwarded by NAT, but nat_flows has no flow for it");
	if (judge_nat_l2(s, ref, f, j))
		return 1;
	JCHECK(j, RULE_NAT, s->run.out_len == FZ_OUT_L2 + ref->ip_len,
	       "NAT output of %u bytes; Ethernet + the input's IP packet are %zu",
	       s->run.out_len, FZ_OUT_L2 + ref->ip_len);
	JCHECK(j, RULE_NAT, in[ref->family == 4 ? 8 : 7] > 1, "forwarded with TTL/hop limit %u",
	       in[ref->family == 4 ? 8 : 7]);
	nat_to_of(f, ref->nat, &to);
	nat_want(in, ref, &to, want);
	nat_csum_offs(in, ref, offs);
	for (int i = 0; offs[i]; i++)
		memcpy(want + offs[i], ip + offs[i], 2);
	d = first_diff(ip, want, ref->ip_len);
	JCHECK(j, RULE_NAT, d == ref->ip_len,
	       "NAT output differs from the flow's rewrite at IP byte %zu: 0x%02x, want 0x%02x", d,
	       d < ref->ip_len ? ip[d] : 0, d < ref->ip_len ? want[d] : 0);
	if (judge_nat_csums(in, ip, ref, j))
		return 1;
	if (ref->nat == REF_NAT_ANSWER && ref->icmp_err)
		nm.icmp_answers++;
	else if (ref->nat == REF_NAT_ANSWER)
		nm.answers++;
	else if (ref->icmp_err)
		nm.icmp_fwd++;
	else
		nm.fwd++;
	return 0;
}

static int judge_too_big4(const __u8 *ip, size_t n, const __u8 *in, const struct ref *ref,
			  struct judge *j)
{
	const __u8 *icmp = ip + PKT_IP4_LEN;
	size_t quote = (in[0] & 0xf) * 4 + ICMP_QUOTE_L4;

	JCHECK(j, RULE_ICMP_REPLY, ref->df, "answered a packet without DF");
	JCHECK(j, RULE_ICMP_REPLY, n >= PKT_IP4_LEN + PKT_ICMP_LEN, "reply of %zu bytes", n);
	JCHECK(j, RULE_ICMP_REPLY, ip[0] == 0x45, "reply version/IHL 0x%02x", ip[0]);
	JCHECK(j, RULE_ICMP_REPLY, ref_csum_ok(ip, PKT_IP4_LEN), "reply IPv4 checksum invalid");
	JCHECK(j, RULE_ICMP_REPLY, get16(ip + 2) == n,
	       "reply tot_len %u, the frame holds %zu after L2", get16(ip + 2), n);
	JCHECK(j, RULE_ICMP_REPLY, !(get16(ip + 6) & (FZ_IP_MF | FZ_IP_OFFSET)),
	       "reply is a fragment");
	JCHECK(j, RULE_ICMP_REPLY, ip[8] && ip[9] == IPPROTO_ICMP, "reply TTL %u protocol %u",
	       ip[8], ip[9]);
	JCHECK(j, RULE_ICMP_REPLY, !memcmp(ip + 12, in + 16, 4) && !memcmp(ip + 16, in + 12, 4),
	       "reply addresses are not VIP -> client");
	JCHECK(j, RULE_ICMP_REPLY, icmp[0] == FZ_ICMP_DEST_UNREACH && icmp[1] == ICMP_FRAG_NEEDED,
	       "ICMP type %u code %u", icmp[0], icmp[1]);
	JCHECK(j, RULE_ICMP_REPLY, ref_csum_ok(icmp, n - PKT_IP4_LEN), "ICMP checksum invalid");
	JCHECK(j, RULE_ICMP_REPLY, n - PKT_IP4_LEN - PKT_ICMP_LEN == quote && quote <= ref->ip_len,
	       "quote of %zu bytes, the header + 8 are %zu", n - PKT_IP4_LEN - PKT_ICMP_LEN, quote);
	JCHECK(j, RULE_ICMP_REPLY, !memcmp(icmp + PKT_ICMP_LEN, in, quote),
	       "quote differs from the packet");
	JCHECK(j, RULE_ICMP_REPLY, get16(icmp + 6) && get16(icmp + 6) < ref->ip_len,
	       "advertised MTU %u for a packet of %zu bytes", get16(icmp + 6), ref->ip_len);
	return 0;
}

static int judge_too_big6(const __u8 *ip, size_t n, const __u8 *in, const struct ref *ref,
			  struct judge *j)
{
	const __u8 *icmp = ip + PKT_IP6_LEN;
	size_t plen, quote = ref->ip_len < ICMP6_QUOTE_MAX ? ref->ip_len : ICMP6_QUOTE_MAX;
	__u32 mtu;

	JCHECK(j, RULE_ICMP_REPLY, n >= PKT_IP6_LEN + PKT_ICMP_LEN, "reply of %zu bytes", n);
	plen = get16(ip + 4);
	JCHECK(j, RULE_ICMP_REPLY, (ip[0] >> 4) == 6, "reply version %u", ip[0] >> 4);
	JCHECK(j, RULE_ICMP_REPLY, PKT_IP6_LEN + plen == n,
	       "reply payload_len %zu, the frame holds %zu after the header", plen,
	       n - PKT_IP6_LEN);
	JCHECK(j, RULE_ICMP_REPLY, ip[6] == IPPROTO_ICMPV6 && ip[7], "reply next header %u",
	       ip[6]);
	JCHECK(j, RULE_ICMP_REPLY, !memcmp(ip + 8, in + 24, 16) && !memcmp(ip + 24, in + 8, 16),
	       "reply addresses are not VIP -> client");
	JCHECK(j, RULE_ICMP_REPLY, icmp[0] == ICMP6_PKT_TOO_BIG && icmp[1] == 0,
	       "ICMPv6 type %u code %u", icmp[0], icmp[1]);
	JCHECK(j, RULE_ICMP_REPLY,
	       pkt_fold(pkt_sum(icmp, plen, pkt_pseudo6(ip + 8, ip + 24, plen, IPPROTO_ICMPV6)))
	       == 0, "ICMPv6 checksum invalid");
	JCHECK(j, RULE_ICMP_REPLY, plen - PKT_ICMP_LEN == quote,
	       "quote of %zu bytes, want %zu (as much as fits in 1280)", plen - PKT_ICMP_LEN,
	       quote);
	JCHECK(j, RULE_ICMP_REPLY, !memcmp(icmp + PKT_ICMP_LEN, in, quote),
	       "quote differs from the packet");
	mtu = get32(icmp + 4);
	JCHECK(j, RULE_ICMP_REPLY,
	       mtu >= IPV6_MIN_MTU && (mtu < ref->ip_len || mtu == IPV6_MIN_MTU),
	       "advertised MTU %u for a packet of %zu bytes", mtu, ref->ip_len);
	return 0;
}

/* Rule 3: the reply goes back where the packet came from, in its VLAN. */
static int judge_too_big(const struct shot *s, const struct ref *ref, struct judge *j)
{
	const __u8 *o = s->run.out, *in = s->in;
	size_t olen = s->run.out_len, l2 = ref->l2;

	JCHECK(j, RULE_ICMP_REPLY, !ref->icmp_err, "answered an ICMP error with an ICMP error");
	JCHECK(j, RULE_ICMP_REPLY, olen > l2, "reply of %zu bytes", olen);
	JCHECK(j, RULE_ICMP_REPLY, !memcmp(o, in + 6, 6) && !memcmp(o + 6, in, 6),
	       "reply MACs are not the request's, swapped");
	if (l2 > PKT_ETH_LEN)
		JCHECK(j, RULE_ICMP_REPLY, !memcmp(o + 12, in + 12, PKT_VLAN_LEN),
		       "802.1Q tag not kept");
	JCHECK(j, RULE_ICMP_REPLY,
	       get16(o + l2 - 2) == (ref->family == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6),
	       "reply ethertype 0x%04x", get16(o + l2 - 2));
	if (ref->family == 4)
		return judge_too_big4(o + l2, olen - l2, in + l2, ref, j);
	return judge_too_big6(o + l2, olen - l2, in + l2, ref, j);
}

static int judge_balancer(const struct shot *s, struct ref *ref, struct judge *j)
{
	int act = s->run.ret, plain;

	ref_balancer(s->in, s->len, ref);
	if (judge_reason(s, j, 0, XLB_BALANCER_REASONS))
		return 1;
	JCHECK(j, RULE_REASON, !s->delta[XLB_FWD_NAT_REPLY] || ref->nat == REF_NAT_ANSWER,
	       "fwd_nat_reply counted for what is no NAT answer (%s)", ref->why);
	if (ref->cls == REF_OK && ref->nat == REF_NAT_FWD && nat_learn(ref, j))
		return 1;
	if (ref->cls == REF_LENIENT) {
		JCHECK(j, RULE_VERDICT, act != XDP_PASS || untouched(s), "passed, but modified");
		/* NAT rewrites no fragment and no extension header chain: dropped, never sent on */
		plain = ref_nat_unsupp(s->in, s->len, ref) != NULL;
		if (ref->nat_addr) {
			nm.lenient++;
			nm.plain += plain;
			nm.unsupp += s->reason == XLB_DROP_NAT_UNSUPP;
		}
		JCHECK_WHY(j, RULE_NAT, ref->why, !ref->nat_addr || act == XDP_DROP,
			   "%s to a NAT VIP's address, %s (not dropped)", ref->why, act_name(act));
		JCHECK_WHY(j, RULE_NAT, ref->why, !plain || s->reason == XLB_DROP_NAT_UNSUPP,
			   "%s with a whole TCP/UDP header for a NAT VIP: %s, not drop_nat_unsupported",
			   ref->why, fx_reason_names[s->reason]);
		return 0;
	}
	if (act == XDP_TX || act == XDP_REDIRECT) {
		JCHECK_WHY(j, RULE_NEVER_FWD, ref->why, ref->cls == REF_OK,
			   "%s input answered %s: %s",
		       class_names[ref->cls], act_name(act), ref->why);
		if (s->reason == XLB_TX_TOO_BIG)
			return judge_too_big(s, ref, j);
		if (ref->nat)
			return judge_nat(s, ref, j);
		return judge_forward(s, ref, j);
	}
	JCHECK_WHY(j, RULE_NAT, ref->why, ref->nat != REF_NAT_ANSWER || act != XDP_PASS,
		   "an answer to a NAT flow passed to the kernel (%s)", fx_reason_names[s->reason]);
	JCHECK_WHY(j, RULE_VERDICT, ref->why,
		   s->reason != XLB_DROP_MALFORMED || ref->cls == REF_MALFORMED,
	       "dropped as malformed, but it is well-formed (%s)", ref->why);
	/*
	 * Not for the balancer: the kernel's, unless it is for a VIP address,
	 * which the balancer's kernel would route back to the router (ND is
	 * link-local and the exception).
	 */
	JCHECK_WHY(j, RULE_VERDICT, ref->why, ref->cls != REF_OTHER ||
		   act == (ref->vip_addr && !ref->nd ? XDP_DROP : XDP_PASS),
	       "not for the balancer (%s%s), but %s", ref->why,
	       ref->vip_addr ? ", to a VIP address" : "", act_name(act));
	JCHECK(j, RULE_VERDICT, act != XDP_PASS || untouched(s), "passed, but modified");
	return 0;
}

static int inner_len_of(const __u8 *q, int family)
{
	return family == 4 ? get16(q + 2) : PKT_IP6_LEN + get16(q + 4);
}

/*
 * The inner bytes must be the input's, but for the one change RFC 6040
 * allows: CE on the outer header marks an ECN-capable inner one. An IPv4
 * header's one's complement sum (checksum included) must be what it was:
 * a correct incremental update keeps it (0x0000 and 0xffff being one value).
 */
static int judge_inner_bytes(const __u8 *q, const __u8 *orig, size_t n,
			     const struct dref *d, struct judge *j)
{
	static __u8 want[PKT_MAX];
	size_t hlen;
	__u32 a, b;

	memcpy(want, orig, n);
	if (d->outer_ecn == ECN_CE && d->inner_family == 4 && (want[1] & ECN_CE))
		want[1] |= ECN_CE;
	if (d->outer_ecn == ECN_CE && d->inner_family == 6 && ((want[1] >> 4) & ECN_CE))
		want[1] |= ECN_CE << 4;
	if (d->inner_family == 6) {
		JCHECK(j, RULE_DECAP, !memcmp(q, want, n), "inner bytes differ at %zu",
		       first_diff(q, want, n));
		return 0;
	}
	JCHECK(j, RULE_DECAP, !memcmp(q, want, 10) && !memcmp(q + 12, want + 12, n - 12),
	       "inner bytes differ at %zu", first_diff(q, want, n));
	hlen = (q[0] & 0xf) * 4;
	a = pkt_fold(pkt_sum(q, hlen, 0));
	b = pkt_fold(pkt_sum(orig, hlen, 0));
	JCHECK(j, RULE_DECAP, (a == 0xffff ? 0 : a) == (b == 0xffff ? 0 : b),
	       "inner IPv4 checksum not updated with the ECN mark");
	return 0;
}

/* Rule 4 for a stripped frame: the link header kept, then a valid inner packet, all of it. */
static int judge_stripped(const struct shot *s, const struct dref *d, struct judge *j)
{
	const __u8 *o = s->run.out, *q;
	size_t olen = s->run.out_len, l2 = d->l2, n, ilen;

	JCHECK(j, RULE_DECAP, olen >= l2 && !memcmp(o, s->in, l2 - 2),
	       "link header (MACs, 802.1Q tag) not kept");
	JCHECK(j, RULE_DECAP,
	       get16(o + l2 - 2) == (d->inner_family == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6),
	       "ethertype 0x%04x for an IPv%d inner packet", get16(o + l2 - 2), d->inner_family);
	q = o + l2;
	n = olen - l2;
	/* The outer header goes, and whatever followed the inner packet (rule: ilen == n below). */
	JCHECK(j, RULE_DECAP, n <= s->len - l2 - d->outer_len,
	       "stripped %zu bytes, the outer header has %zu", s->len - olen, d->outer_len);
	JCHECK(j, RULE_DECAP, n >= (d->inner_family == 4 ? PKT_IP4_LEN : PKT_IP6_LEN),
	       "inner header cut: %zu bytes after L2", n);
	JCHECK(j, RULE_DECAP, (q[0] >> 4) == d->inner_family, "inner version %u", q[0] >> 4);
	if (d->inner_family == 4)
		JCHECK(j, RULE_DECAP, (q[0] & 0xf) >= FZ_IHL_MIN &&
		       (size_t)(q[0] & 0xf) * 4 <= get16(q + 2),
		       "inner IHL %u, tot_len %u", q[0] & 0xf, get16(q + 2));
	ilen = inner_len_of(q, d->inner_family);
	JCHECK(j, RULE_DECAP, ilen == n,
	       "the inner packet says %zu bytes, the frame holds %zu after L2", ilen, n);
	return judge_inner_bytes(q, s->in + l2 + d->outer_len, n, d, j);
}

/* A UDP checksum over the pseudo-header of the IP header at @ip (@hlen bytes) holds. */
static int udp_csum_ok(const __u8 *ip, size_t hlen, int family)
{
	const __u8 *u = ip + hlen;
	__u32 ulen = get16(u + 4), sum;

	if (family == 4)
		sum = pkt_sum(ip + 12, 8, 0) + IPPROTO_UDP + ulen;
	else
		sum = pkt_pseudo6(ip + 8, ip + 24, ulen, IPPROTO_UDP);
	return pkt_fold(pkt_sum(u, ulen, sum)) == 0;
}

/* The fixture's neighbour MAC of a hop: its last byte, as written (::21 is 21). */
static __u8 hop_mac_last(const __u8 *hop, int family)
{
	__u8 b = family == 4 ? hop[3] : hop[15];

	return family == 4 ? b : (b >> 4) * 10 + (b & 0xf);
}

static int judge_chain_l2(const struct shot *s, const struct dref *d, const __u8 *to,
			  int family, struct judge *j)
{
	const __u8 *o = s->run.out, *in = s->in;
	int link_b = family == 4 ? to[0] == 10 && to[1] == 98 : to[2] == 0 && to[3] == 0x98;
	__u8 mac[6];

	JCHECK(j, RULE_DECAP, !memcmp(o + 12, in + 12, d->l2 - 12),
	       "802.1Q tag or ethertype not kept");
	if (s->reason == XLB_DECAP_CHAIN_KERNEL) {
		JCHECK(j, RULE_DECAP, !memcmp(o, in, 12), "MACs changed for the kernel to route");
		return 0;
	}
	if (s->reason == XLB_DECAP_CHAIN_BOUNCE) {
		JCHECK(j, RULE_DECAP, !memcmp(o, in + 6, 6) && !memcmp(o + 6, in, 6),
		       "bounced, but not back to the L2 neighbour");
		return 0;
	}
	fx_be_mac(hop_mac_last(to, family), mac);
	JCHECK(j, RULE_DECAP, s->reason == (link_b ? XLB_DECAP_CHAIN_REDIRECT : XLB_DECAP_CHAIN_TX),
	       "%s to a next hop on link %c", fx_reason_names[s->reason], link_b ? 'B' : 'A');
	JCHECK(j, RULE_DECAP, !memcmp(o, mac, 6) && !memcmp(o + 6, link_b ? fx_mac_b : fx_mac_a, 6),
	       "MACs are not the next hop's and the egress interface's");
	return 0;
}

/*
 * A copy sent on: the input frame with the outer destination hop[next + 1]
 * and next + 1, the IPv4 checksum valid, a UDP checksum kept valid (or 0 if
 * it was), nothing else changed but the MACs.
 */
static int judge_chained(const struct ref_decap_cfg *c, const struct shot *s,
			 const struct dref *d, struct judge *j)
{
	static __u8 want[PKT_MAX];
	const __u8 *in = s->in, *o = s->run.out, *ip = o + d->l2, *to;
	int family = get16(in + d->l2 - 2) == PKT_ETH_P_IP ? 4 : 6;
	size_t alen = family == 4 ? 4 : 16, l2 = d->l2, ck = l2 + d->ip_len + 6;
	size_t hops = l2 + d->ip_len + PKT_UDP_LEN + FZ_GUE_LEN;

	JCHECK(j, RULE_DECAP, d->gue && d->hops && d->next + 1 < d->count,
	       "sent on a copy at its last hop (next %d of %d hops)", d->next, d->count);
	to = d->hop[d->next + 1];
	JCHECK(j, RULE_DECAP, !ref_addr_in(c->ours, c->nours, family, to),
	       "sent on to a next hop that is this host");
	JCHECK(j, RULE_DECAP, s->run.out_len == s->len, "sent on %u bytes of a %zu-byte frame",
	       s->run.out_len, s->len);
	if (judge_chain_l2(s, d, to, family, j))
		return 1;
	memcpy(want, in, s->len);
	memcpy(want + l2 + (family == 4 ? 16 : 24), to, alen);
	want[hops + 2]++;
	memcpy(want, o, 12);
	if (family == 4)
		memcpy(want + l2 + 10, o + l2 + 10, 2);
	memcpy(want + ck, o + ck, 2);
	JCHECK(j, RULE_DECAP, !memcmp(o, want, s->len),
	       "the copy sent on differs from the input at %zu (not destination, next, checksums)",
	       first_diff(o, want, s->len));
	JCHECK(j, RULE_DECAP, family == 6 || ref_csum_ok(ip, d->ip_len),
	       "outer IPv4 checksum invalid after the rewrite");
	if (family == 4 && !get16(in + ck)) {
		JCHECK(j, RULE_DECAP, !get16(o + ck), "UDP checksum 0 (none) became %u",
		       get16(o + ck));
		return 0;
	}
	JCHECK(j, RULE_DECAP, get16(o + ck) && (!udp_csum_ok(in + l2, d->ip_len, family) ||
						 udp_csum_ok(ip, d->ip_len, family)),
	       "UDP checksum not kept valid by the rewrite");
	return 0;
}

/* The delivery reasons say where the copy stood in its chain. */
static int judge_delivery(const struct ref_decap_cfg *c, const struct shot *s,
			  const struct dref *d, struct judge *j)
{
	int family = get16(s->in + d->l2 - 2) == PKT_ETH_P_IP ? 4 : 6;

	switch (s->reason) {
	case XLB_DECAP_LAST_HOP:
		JCHECK(j, RULE_DECAP, d->hops && d->next + 1 == d->count,
		       "decap_last_hop for hop %d of %d", d->next, d->count);
		break;
	case XLB_DECAP_SELF_HOP:
		JCHECK(j, RULE_DECAP, d->hops && d->next + 1 < d->count &&
		       ref_addr_in(c->ours, c->nours, family, d->hop[d->next + 1]),
		       "decap_self_hop, but the next hop is not this host");
		break;
	case XLB_DECAP_NO_ROUTE:
	case XLB_DECAP_OWNED:
		JCHECK(j, RULE_DECAP, d->hops, "%s without a hop list", fx_reason_names[s->reason]);
		break;
	}
	return judge_stripped(s, d, j);
}

static int judge_decap(const struct ref_decap_cfg *c, const struct shot *s, struct dref *d,
		       struct judge *j)
{
	int act = s->run.ret;

	ref_decap(c, s->in, s->len, d);
	if (judge_reason(s, j, XLB_DECAP_OK, XLB_REASON_MAX))
		return 1;
	if (decap_delivers(s->reason)) {
		JCHECK_WHY(j, RULE_DECAP, d->why, d->cls == REF_OK, "delivered a %s packet: %s",
			   class_names[d->cls], d->why);
		return judge_delivery(c, s, d, j);
	}
	if (decap_chains(s->reason)) {
		JCHECK_WHY(j, RULE_DECAP, d->why, d->cls == REF_OK, "sent on a %s packet: %s",
			   class_names[d->cls], d->why);
		return judge_chained(c, s, d, j);
	}
	JCHECK(j, RULE_DECAP, act == XDP_PASS || act == XDP_DROP, "decap answered %s",
	       act_name(act));
	JCHECK(j, RULE_VERDICT, act != XDP_PASS || untouched(s), "passed, but modified");
	JCHECK_WHY(j, RULE_VERDICT, d->why, d->cls != REF_OK || (d->inner_bad && act == XDP_DROP),
		   "a valid tunnel packet for this host was not delivered (%s)",
		   fx_reason_names[s->reason]);
	JCHECK_WHY(j, RULE_VERDICT, d->why, d->cls != REF_OTHER || act == XDP_PASS,
		   "no tunnel for this host (%s), but dropped", d->why);
	JCHECK_WHY(j, RULE_VERDICT, d->why, s->reason != XLB_DECAP_MALFORMED ||
		   d->cls == REF_MALFORMED || d->inner_bad,
		   "dropped as malformed, but it is not (%s)", d->why);
	return 0;
}

/* ---- Counts ---- */

struct why_count {
	const char *why;
	int cls;
	__u64 n, act[ACTS];
};

/* One kind of violation: how often, and its smallest input, to reproduce it with. */
struct kind {
	struct judge j;
	__u64 n, first, index;
	int act, reason;
	size_t len, out_len;
	__u8 in[FUZZ_FRAME_MAX], out[PKT_MAX];
};

struct tally {
	const char *name;
	__u64 runs, act[ACTS], reason[XLB_REASON_MAX], cls[REF_CLASSES];
	__u64 viol[RULE_MAX], violations;
	struct why_count why[FUZZ_WHY_MAX];
	int nwhy;
	struct kind *kinds;
	int nkinds;
};

static struct kind bal_kinds[FUZZ_KINDS_MAX], dc_kinds[FUZZ_KINDS_MAX];
static struct kind gue_kinds[FUZZ_KINDS_MAX];
static struct tally t_bal = { .name = "balancer", .kinds = bal_kinds },
		    t_rt = { .name = "decap (round trip)" },
		    t_dc = { .name = "decap", .kinds = dc_kinds },
		    t_gue = { .name = "balancer (GUE)", .kinds = gue_kinds },
		    t_rt_gue = { .name = "decap (GUE round trip)" };

static void tally_add(struct tally *t, const struct shot *s, int cls, const char *why)
{
	int act = s->run.ret >= 0 && s->run.ret < ACTS ? s->run.ret : XDP_ABORTED, w;

	t->runs++;
	t->act[act]++;
	t->cls[cls]++;
	for (int r = 0; r < XLB_REASON_MAX; r++)
		t->reason[r] += s->delta[r];
	for (w = 0; w < t->nwhy && t->why[w].why != why; w++)
		;
	if (w == t->nwhy) {
		if (w == FUZZ_WHY_MAX)
			return;
		t->why[t->nwhy++] = (struct why_count){ .why = why, .cls = cls };
	}
	t->why[w].n++;
	t->why[w].act[act]++;
}

static void print_acts(const __u64 act[ACTS])
{
	for (int a = 0; a < ACTS; a++)
		if (act[a])
			printf(" %s %llu", act_names[a], (unsigned long long)act[a]);
}

static void tally_print(const struct tally *t)
{
	printf("    %s: %llu runs;", t->name, (unsigned long long)t->runs);
	print_acts(t->act);
	printf("\n      reasons:");
	for (int r = 0; r < XLB_REASON_MAX; r++)
		if (t->reason[r])
			printf(" %s %llu", fx_reason_names[r], (unsigned long long)t->reason[r]);
	printf("\n      reference: ok %llu, other %llu, malformed %llu\n",
	       (unsigned long long)t->cls[REF_OK], (unsigned long long)t->cls[REF_OTHER],
	       (unsigned long long)t->cls[REF_MALFORMED]);
	for (int w = 0; fz_verbose && w < t->nwhy; w++) {
		printf("        %-9s %-46s %10llu:", class_names[t->why[w].cls], t->why[w].why,
		       (unsigned long long)t->why[w].n);
		print_acts(t->why[w].act);
		printf("\n");
	}
}

static void hexdump(const char *what, const __u8 *p, size_t len)
{
	printf("      %s (%zu bytes):\n", what, len);
	for (size_t i = 0; i < len; i += 32) {
		printf("        ");
		for (size_t k = i; k < i + 32 && k < len; k++)
			printf("%02x", p[k]);
		printf("\n");
	}
}

/* ---- The generator ---- */

/* An L3 packet being built, with what the mutations need to find their fields. */
struct gen {
	struct rng r;
	__u8 l3[PKT_MAX];
	size_t len;
	int family;		/* the IP version the packet was built as (0: not IP) */
	size_t l4;		/* offset of the TCP/UDP header, 0 if none */
	size_t quote;		/* offset of an ICMP error's quoted header, 0 if none */
	__u8 proto;
	__u16 etype;
};

struct target {
	int family;
	char dst[FZ_ADDR_TEXT];
	__u16 port;
	__u8 proto;
};

static __u16 etype_of(int family)
{
	return family == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6;
}

/*
 * A VIP's (address, port, protocol), of @family if not 0, a NAT VIP if @nat;
 * 1 in 10 made no VIP's.
 */
static void pick_target_of(struct rng *r, int family, int nat, struct target *t)
{
	const struct ref_vip *v;

	do
		v = &ref_vips[rnd(r, ref_nvips)];
	while ((family && v->key.family != family) || !(v->vip.flags & XLB_VIP_F_NAT) != !nat);
	t->family = v->key.family;
	strcpy(t->dst, v->text);
	t->port = ntohs(v->key.port) ? ntohs(v->key.port) : 1 + rnd(r, 0xffff);
	t->proto = v->key.proto;
	switch (rnd(r, 30)) {
	case 0:
		t->port ^= 1 + rnd(r, 0xfffe);
		break;
	case 1:
		t->proto = t->proto == IPPROTO_TCP ? IPPROTO_UDP : IPPROTO_TCP;
		break;
	case 2:
		snprintf(t->dst, sizeof(t->dst),
			 t->family == 4 ? "203.0.113.%u" : "2001:db8:ff::%x", rnd(r, 256));
		break;
	}
}

static void pick_target(struct rng *r, int family, struct target *t)
{
	pick_target_of(r, family, 0, t);
}

static void client_addr(struct rng *r, int family, char *buf)
{
	if (family == 4)
		snprintf(buf, FZ_ADDR_TEXT, "198.51.%u.%u", 100 + rnd(r, 4), rnd(r, 256));
	else
		snprintf(buf, FZ_ADDR_TEXT, "2001:db8:c::%x:%x", rnd(r, 0x10000), rnd(r, 0x10000));
}

static int payload_len(struct rng *r)
{
	switch (rnd(r, 10)) {
	case 0:
	case 1:
		return 1200 + rnd(r, FUZZ_PAYLOAD_MAX - 1200);	/* too big for a route */
	case 2:
	case 3:
		return rnd(r, 1500);
	default:
		return rnd(r, 64);
	}
}

static __u8 tcp_flags(struct rng *r)
{
	static const __u8 f[] = { PKT_SYN, PKT_ACK, PKT_SYN | PKT_ACK, PKT_FIN | PKT_ACK,
				  PKT_RST, PKT_ACK | 0x08 };

	return chance(r, 85) ? f[rnd(r, ARRAY_SIZE(f))] : rnd(r, 256);
}

static void reseal4(__u8 *ip, size_t len)
{
	size_t hlen = (ip[0] & 0xf) * 4;

	if (len < PKT_IP4_LEN)
		return;
	if (hlen < PKT_IP4_LEN)
		hlen = PKT_IP4_LEN;
	if (hlen > len)
		hlen = len;
	put16(ip + 10, 0);
	put16(ip + 10, pkt_fold(pkt_sum(ip, hlen, 0)));
}

/* IPv4 options: NOPs, router alerts, record routes, and now and then garbage. */
static void ip_options(struct rng *r, __u8 *p, size_t n)
{
	size_t i = 0, room, k;

	while (i < n) {
		room = n - i;
		switch (rnd(r, 5)) {
		case 0:
			if (room >= 4) {
				p[i] = IPOPT_RA;
				p[i + 1] = 4;
				p[i + 2] = p[i + 3] = 0;
				i += 4;
				break;
			}
			/* fallthrough */
		case 1:
			p[i++] = IPOPT_NOP;
			break;
		case 2:
			k = room >= 7 ? 1 + rnd(r, (room - 3) / 4) : 0;
			if (!k) {
				p[i++] = 0;
				break;
			}
			p[i] = IPOPT_RR;
			p[i + 1] = 3 + 4 * k;
			p[i + 2] = 4;
			memset(p + i + 3, 0, 4 * k);
			i += 3 + 4 * k;
			break;
		default:
			p[i++] = rnd(r, 256);
			break;
		}
	}
}

/* doff beyond 5, the room taken from the payload: NOPs, MSS, and garbage. */
static void tcp_options(struct gen *g)
{
	__u8 *tcp = g->l3 + g->l4;
	size_t room = (g->len - g->l4 - PKT_TCP_LEN) / 4, words;

	if (!room)
		return;
	words = 1 + rnd(&g->r, room < IP4_OPT_WORDS ? room : IP4_OPT_WORDS);
	tcp[12] = (FZ_TCP_DOFF_MIN + words) << 4 | (tcp[12] & 0xf);
	for (size_t i = 0; i < words * 4; i++)
		tcp[PKT_TCP_LEN + i] = chance(&g->r, 70) ? TCPOPT_NOP : rnd(&g->r, 256);
}

/* A TCP/UDP packet from @src:@sport to @t, of the shapes clients and backends send. */
static void gen_flow_to(struct gen *g, const struct target *t, const char *src, __u16 sport)
{
	struct rng *r = &g->r;
	struct pkt_spec s = {};

	s.family = t->family;
	s.src = src;
	s.dst = t->dst;
	s.proto = t->proto;
	s.sport = sport;
	s.dport = t->port;
	s.tcp_flags = tcp_flags(r);
	s.tos = rnd(r, 256);
	s.frag = chance(r, 70) ? PKT_DF : 0;
	if (t->family == 4 && chance(r, 15))
		s.opt_len = 4 * (1 + rnd(r, IP4_OPT_WORDS));
	s.payload = payload_len(r);
	s.flow_label = rnd(r, FLOW_LABEL_MASK + 1);
	s.ttl = 1 + rnd(r, 255);
	g->len = pkt_ip(&s, g->l3);
	g->family = t->family;
	g->etype = etype_of(t->family);
	g->l4 = t->family == 4 ? PKT_IP4_LEN + s.opt_len : PKT_IP6_LEN;
	g->proto = t->proto;
	if (s.opt_len && chance(r, 50)) {
		ip_options(r, g->l3 + PKT_IP4_LEN, s.opt_len);
		reseal4(g->l3, g->len);
	}
	if (t->proto == IPPROTO_TCP && chance(r, 15))
		tcp_options(g);
	/* none (legal over IPv4 only): NAT must keep it none */
	if (t->proto == IPPROTO_UDP && chance(r, 15) && g->l4 + PKT_UDP_LEN <= g->len)
		put16(g->l3 + g->l4 + UDP_CSUM_OFF, 0);
}

static void gen_flow(struct gen *g, int family)
{
	char src[FZ_ADDR_TEXT];
	struct target t;

	pick_target(&g->r, family, &t);
	client_addr(&g->r, t.family, src);
	gen_flow_to(g, &t, src, PORT_EPHEMERAL + rnd(&g->r, 0x10000 - PORT_EPHEMERAL));
}

/* The quoted packet: a VIP's reply to a client, cut as routers cut it (or shorter). */
static size_t quote_len(struct rng *r, size_t hq, size_t full)
{
	size_t n;

	switch (rnd(r, 10)) {
	case 0:
		n = rnd(r, hq + ICMP_QUOTE_L4);
		break;
	case 1:
	case 2:
		n = full;
		break;
	case 3:
	case 4:
		n = hq + ICMP_QUOTE_L4 + rnd(r, full);
		break;
	default:
		n = hq + ICMP_QUOTE_L4;
		break;
	}
	return n < full ? n : full;
}

/*
 * An ICMP error from @from about the packet @q0 (its family, protocol,
 * addresses and ports), addressed to that packet's source.
 */
static void gen_icmp_err_about(struct gen *g, const char *from, const struct pkt_spec *q0)
{
	struct rng *r = &g->r;
	struct pkt_spec s = *q0;
	__u8 q[PKT_MAX], type, code;
	size_t qfull, hq, qlen;
	int family = q0->family;

	s.proto = chance(r, 92) ? q0->proto : (chance(r, 50) ? IPPROTO_ICMP : rnd(r, 256));
	s.tcp_flags = PKT_ACK;
	s.frag = chance(r, 90) ? PKT_DF : rnd(r, 0x10000);
	s.opt_len = family == 4 && chance(r, 10) ? 4 * (1 + rnd(r, IP4_OPT_WORDS)) : 0;
	s.payload = rnd(r, 1400);
	qfull = pkt_ip(&s, q);
	hq = family == 4 ? PKT_IP4_LEN + s.opt_len : PKT_IP6_LEN;
	if (s.proto == IPPROTO_UDP && chance(r, 15))
		put16(q + hq + UDP_CSUM_OFF, 0);	/* a datagram without a checksum */
	qlen = quote_len(r, hq, qfull);
	g->family = family;
	g->etype = etype_of(family);
	g->quote = (family == 4 ? PKT_IP4_LEN : PKT_IP6_LEN) + PKT_ICMP_LEN;
	if (family == 4) {
		type = chance(r, 75) ? FZ_ICMP_DEST_UNREACH : FZ_ICMP_TIME_EXCEEDED;
		code = type == FZ_ICMP_DEST_UNREACH && chance(r, 50) ? ICMP_FRAG_NEEDED :
								       rnd(r, 16);
		if (chance(r, 5))
			type = rnd(r, 256);
		g->len = pkt_icmp4_err(from, q0->src, type, code, 576 + rnd(r, 1000), q, qlen,
				       g->l3);
		return;
	}
	type = chance(r, 95) ? FZ_ICMP6_ERR_MIN + rnd(r, FZ_ICMP6_ERR_MAX) : rnd(r, 256);
	g->len = pkt_icmp6_err(from, q0->src, type, rnd(r, 4), 1280 + rnd(r, 300), q, qlen,
			       g->l3);
}

/* An ICMP error about a VIP's reply to a client, from a router on the way. */
static void gen_icmp_err(struct gen *g)
{
	struct rng *r = &g->r;
	struct pkt_spec s = {};
	char client[FZ_ADDR_TEXT];
	struct target t;

	pick_target(r, chance(r, 50) ? 4 : 6, &t);
	client_addr(r, t.family, client);
	s.family = t.family;
	s.src = t.dst;
	s.dst = client;
	s.proto = t.proto;
	s.sport = t.port;
	s.dport = PORT_EPHEMERAL + rnd(r, 0x10000 - PORT_EPHEMERAL);
	gen_icmp_err_about(g, t.family == 4 ? ROUTER4 : ROUTER6, &s);
}

/* Non-error ICMP to a VIP address: echo, redirects, neighbour discovery. */
static void gen_icmp_info(struct gen *g)
{
	static const __u8 t4[] = { 0, 5, 8, 13 }, t6[] = { 128, 129, 133, 135, 136 };
	struct rng *r = &g->r;
	char client[FZ_ADDR_TEXT];
	__u8 body[64];
	struct target t;

	pick_target(r, chance(r, 50) ? 4 : 6, &t);
	client_addr(r, t.family, client);
	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = rnd(r, 256);
	g->family = t.family;
	g->etype = etype_of(t.family);
	if (t.family == 4)
		g->len = pkt_icmp4_err(client, t.dst, t4[rnd(r, sizeof(t4))], 0, 0, body,
				       rnd(r, sizeof(body)), g->l3);
	else
		g->len = pkt_icmp6_err(client, t.dst, t6[rnd(r, sizeof(t6))], 0, 0, body,
				       rnd(r, sizeof(body)), g->l3);
}

/* Another protocol to a VIP address: tunnels, GRE, ESP, SCTP, anything. */
static void gen_other_proto(struct gen *g)
{
	static const __u8 protos[] = { IPPROTO_IPIP, IPPROTO_IPV6, 47, 50, 132 };
	struct rng *r = &g->r;
	struct pkt_spec s = {};
	char src[FZ_ADDR_TEXT];
	struct target t;

	pick_target(r, 0, &t);
	client_addr(r, t.family, src);
	s.family = t.family;
	s.src = src;
	s.dst = t.dst;
	s.proto = chance(r, 70) ? protos[rnd(r, sizeof(protos))] : rnd(r, 256);
	if (s.proto == IPPROTO_TCP || s.proto == IPPROTO_UDP)
		s.proto = IPPROTO_IPIP;
	s.payload = rnd(r, 200);
	s.frag = PKT_DF;
	g->len = pkt_ip(&s, g->l3);
	g->family = t.family;
	g->etype = etype_of(t.family);
}

/* 1 to 3 IPv6 extension headers in front of whatever follows the fixed header. */
static void ext6_insert(struct gen *g, int with_frag)
{
	static const __u8 kinds[] = { 60, 43, 44 };
	struct rng *r = &g->r;
	__u8 ext[64] = {}, types[3];
	size_t n = 1 + rnd(r, 3), off = 0, sz;

	if (g->family != 6 || g->len < PKT_IP6_LEN || g->len + sizeof(ext) > FUZZ_FRAME_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		types[i] = i == 0 && chance(r, 40) ? 0 : kinds[rnd(r, sizeof(kinds))];
	if (with_frag)
		types[n - 1] = 44;
	for (size_t i = 0; i < n; i++) {
		__u8 *h = ext + off;

		h[0] = i + 1 < n ? types[i + 1] : g->l3[6];
		sz = 8;
		if (types[i] == 44) {
			put16(h + 2, rnd(r, 0x2000) << 3 | rnd(r, 2));	/* offset, M */
			put32(h + 4, rng_next(r));
		} else if (types[i] == 43) {
			h[2] = rnd(r, 5);		/* routing type; segments left 0 */
		} else {
			sz = chance(r, 50) ? 8 : 16;
			h[1] = sz / 8 - 1;
			h[2] = 1;			/* PadN over the rest */
			h[3] = sz - 4;
		}
		off += sz;
	}
	memmove(g->l3 + PKT_IP6_LEN + off, g->l3 + PKT_IP6_LEN, g->len - PKT_IP6_LEN);
	memcpy(g->l3 + PKT_IP6_LEN, ext, off);
	g->l3[6] = types[0];
	put16(g->l3 + 4, get16(g->l3 + 4) + off);
	g->len += off;
	if (g->l4)
		g->l4 += off;
}

static void gen_not_ip(struct gen *g)
{
	static const __u16 etypes[] = { PKT_ETH_P_ARP, 0x88cc, 0x8863, 0x0842 };
	struct rng *r = &g->r;

	g->len = chance(r, 50) ? 28 : rnd(r, 100);
	for (size_t i = 0; i < g->len; i++)
		g->l3[i] = rnd(r, 256);
	g->etype = chance(r, 70) ? etypes[rnd(r, ARRAY_SIZE(etypes))] : rnd(r, 0x10000);
}

/* Random bytes announced as IP, the version nibble right half the time. */
static void gen_garbage_ip(struct gen *g)
{
	struct rng *r = &g->r;
	int family = chance(r, 50) ? 4 : 6;

	g->len = rnd(r, 120);
	for (size_t i = 0; i < g->len; i++)
		g->l3[i] = rnd(r, 256);
	if (g->len && chance(r, 50))
		g->l3[0] = family << 4 | (g->l3[0] & 0xf);
	g->etype = etype_of(family);
}

/* A flow the fuzzer made (NULL if none yet, e.g. when one packet is replayed alone). */
static const struct ref_nat *nat_pick(struct rng *r)
{
	return nm.n ? &nm.flow[rnd(r, nm.n)] : NULL;
}

/* A NAT VIP's client: one of a known flow now and then, or anyone. */
static void gen_nat_flow(struct gen *g)
{
	const struct ref_nat *f = chance(&g->r, 30) ? nat_pick(&g->r) : NULL;
	char src[FZ_ADDR_TEXT];
	struct target t;
	__u16 sport;

	if (f) {
		t.family = f->key.family;
		addr_text(t.family, f->key.dst, t.dst);
		addr_text(t.family, f->key.src, src);
		t.port = ntohs(f->key.dport);
		t.proto = f->key.proto;
		sport = ntohs(f->key.sport);
	} else {
		pick_target_of(&g->r, chance(&g->r, 50) ? 4 : 6, 1, &t);
		client_addr(&g->r, t.family, src);
		sport = PORT_EPHEMERAL + rnd(&g->r, 0x10000 - PORT_EPHEMERAL);
	}
	gen_flow_to(g, &t, src, sport);
	if (chance(&g->r, 8))
		ext6_insert(g, 0);
}

/* The packet a flow's backend sends, or a stranger's to a SNAT port around the range. */
static void nat_answer_spec(struct rng *r, struct pkt_spec *s, char *src, char *dst)
{
	const struct ref_nat *f = nat_pick(r);
	const struct nat_be *be = &nat_bes[rnd(r, ARRAY_SIZE(nat_bes))];

	if (f) {
		s->family = f->key.family;
		addr_text(s->family, f->out.dst, src);
		addr_text(s->family, f->out.src, dst);
		s->sport = ntohs(f->out.dport);
		s->dport = ntohs(f->out.sport);
		s->proto = f->key.proto;
	} else {
		s->family = be->family;
		strcpy(src, be->addr);
		strcpy(dst, be->family == 4 ? snat4[rnd(r, ARRAY_SIZE(snat4))] :
					      snat6[rnd(r, ARRAY_SIZE(snat6))]);
		s->sport = be->port ? be->port : 80;
		s->dport = SNAT_PORT_LO - SNAT_PORT_SLACK +
			   rnd(r, SNAT_PORT_HI - SNAT_PORT_LO + 2 * SNAT_PORT_SLACK);
		s->proto = nat_vips[be->vip].proto;
	}
	s->src = src;
	s->dst = dst;
}

/* A backend's answer to the SNAT tuple of a flow. */
static void gen_nat_answer(struct gen *g)
{
	struct pkt_spec s = {};
	char src[FZ_ADDR_TEXT], dst[FZ_ADDR_TEXT];
	struct target t;

	nat_answer_spec(&g->r, &s, src, dst);
	t.family = s.family;
	strcpy(t.dst, dst);
	t.port = s.dport;
	t.proto = s.proto;
	gen_flow_to(g, &t, src, s.sport);
}

/* An ICMP error about a flow's packet: to the client (from its side) or to the backend. */
static void gen_nat_icmp_err(struct gen *g, int answer)
{
	const struct ref_nat *f = nat_pick(&g->r);
	char a[FZ_ADDR_TEXT], b[FZ_ADDR_TEXT];
	struct pkt_spec s = {};
	struct target t;

	if (answer) {
		/* the packet quoted is the flow's, SNAT -> backend: the answer's reversed */
		nat_answer_spec(&g->r, &s, b, a);
		s.sport ^= s.dport;
		s.dport ^= s.sport;
		s.sport ^= s.dport;
		s.src = a;
		s.dst = b;
		gen_icmp_err_about(g, s.family == 4 ? BE_ROUTER4 : BE_ROUTER6, &s);
		return;
	}
	if (f) {
		s.family = f->key.family;
		addr_text(s.family, f->key.dst, a);
		addr_text(s.family, f->key.src, b);
		s.sport = ntohs(f->key.dport);
		s.dport = ntohs(f->key.sport);
		s.proto = f->key.proto;
	} else {
		pick_target_of(&g->r, chance(&g->r, 50) ? 4 : 6, 1, &t);
		s.family = t.family;
		strcpy(a, t.dst);
		client_addr(&g->r, t.family, b);
		s.sport = t.port;
		s.dport = PORT_EPHEMERAL + rnd(&g->r, 0x10000 - PORT_EPHEMERAL);
		s.proto = t.proto;
	}
	s.src = a;
	s.dst = b;
	gen_icmp_err_about(g, s.family == 4 ? ROUTER4 : ROUTER6, &s);
}

/* NAT's share: clients' packets, answers, and ICMP errors about either. */
static void gen_nat(struct gen *g)
{
	__u32 k = rnd(&g->r, 100);

	if (k < 40)
		gen_nat_flow(g);
	else if (k < 55)
		gen_nat_icmp_err(g, 0);
	else if (k < 85)
		gen_nat_answer(g);
	else
		gen_nat_icmp_err(g, 1);
}

static void gen_l3(struct gen *g)
{
	__u32 k = rnd(&g->r, 100);

	g->l4 = g->quote = 0;
	g->family = 0;
	if (k < FUZZ_NAT_PCT) {
		gen_nat(g);
		return;
	}
	k = (k - FUZZ_NAT_PCT) * 100 / (100 - FUZZ_NAT_PCT);
	if (k < 58) {
		gen_flow(g, 0);
	} else if (k < 73) {
		gen_icmp_err(g);
	} else if (k < 80) {
		gen_flow(g, 6);
		ext6_insert(g, 0);
	} else if (k < 85) {
		gen_other_proto(g);
	} else if (k < 90) {
		gen_icmp_info(g);
	} else if (k < 94) {
		gen_not_ip(g);
	} else {
		gen_garbage_ip(g);
	}
}

/* A length field's lie: around the truth, around the minimum, or anything. */
static __u16 lie(struct rng *r, __u32 cur, __u32 min)
{
	switch (rnd(r, 8)) {
	case 0:
		return 0;
	case 1:
		return min ? min - 1 : 1;
	case 2:
		return min;
	case 3:
		return cur - 1;
	case 4:
		return cur + 1;
	case 5:
		return cur + 1 + rnd(r, 64);
	case 6:
		return rnd(r, cur + 1);
	default:
		return rnd(r, 0x10000);
	}
}

static int is4(const struct gen *g)
{
	return g->family == 4 && g->len >= PKT_IP4_LEN;
}

static int is6(const struct gen *g)
{
	return g->family == 6 && g->len >= PKT_IP6_LEN;
}

static void mut_ip_len(struct gen *g)
{
	__u8 *p = g->l3;

	if (is4(g)) {
		put16(p + 2, lie(&g->r, get16(p + 2), (p[0] & 0xf) * 4));
		if (chance(&g->r, 60))
			reseal4(p, g->len);
	} else if (is6(g)) {
		put16(p + 4, lie(&g->r, get16(p + 4), 0));
	}
}

static void mut_ihl(struct gen *g)
{
	if (!is4(g))
		return;
	g->l3[0] = 0x40 | rnd(&g->r, 16);
	if (chance(&g->r, 50))
		reseal4(g->l3, g->len);
}

static void mut_version(struct gen *g)
{
	if (g->len)
		g->l3[0] = rnd(&g->r, 16) << 4 | (g->l3[0] & 0xf);
}

static void mut_l4_len(struct gen *g)
{
	__u8 *l4 = g->l3 + g->l4;

	if (!g->l4 || g->l4 + PKT_UDP_LEN > g->len)
		return;
	if (g->proto == IPPROTO_TCP && g->l4 + PKT_TCP_LEN <= g->len)
		l4[12] = rnd(&g->r, 16) << 4 | (l4[12] & 0xf);
	else if (g->proto == IPPROTO_UDP)
		put16(l4 + 4, lie(&g->r, get16(l4 + 4), PKT_UDP_LEN));
}

static void mut_frag(struct gen *g)
{
	__u16 frag;

	if (is6(g)) {
		ext6_insert(g, 1);
		return;
	}
	if (!is4(g))
		return;
	frag = get16(g->l3 + 6);
	switch (rnd(&g->r, 3)) {
	case 0:
		frag |= FZ_IP_MF;
		break;
	case 1:
		frag = (frag & ~FZ_IP_OFFSET) | (1 + rnd(&g->r, FZ_IP_OFFSET));
		break;
	default:
		frag = FZ_IP_MF | rnd(&g->r, FZ_IP_OFFSET + 1);
		break;
	}
	put16(g->l3 + 6, frag);
	if (chance(&g->r, 80))
		reseal4(g->l3, g->len);
}

/* Options into an option-less IPv4 header, its lengths kept true. */
static void mut_options(struct gen *g)
{
	size_t words = 1 + rnd(&g->r, IP4_OPT_WORDS), add = 4 * words;
	__u8 *p = g->l3;

	if (!is4(g) || (p[0] & 0xf) != FZ_IHL_MIN || g->len + add > FUZZ_PAYLOAD_MAX)
		return;
	memmove(p + PKT_IP4_LEN + add, p + PKT_IP4_LEN, g->len - PKT_IP4_LEN);
	ip_options(&g->r, p + PKT_IP4_LEN, add);
	p[0] = 0x40 | (FZ_IHL_MIN + words);
	put16(p + 2, get16(p + 2) + add);
	g->len += add;
	if (g->l4)
		g->l4 += add;
	if (g->quote)
		g->quote += add;
	reseal4(p, g->len);
}

static void mut_flip(struct gen *g)
{
	int n = 1 + rnd(&g->r, 4);

	while (g->len && n--)
		g->l3[rnd(&g->r, g->len)] ^= 1 + rnd(&g->r, 255);
}

static void mut_proto(struct gen *g)
{
	if (is4(g)) {
		g->l3[9] = rnd(&g->r, 256);
		if (chance(&g->r, 50))
			reseal4(g->l3, g->len);
	} else if (is6(g)) {
		g->l3[6] = rnd(&g->r, 256);
	}
}

/* The quoted header of an ICMP error: its version/IHL, protocol or fragment field. */
static void mut_quote(struct gen *g)
{
	__u8 *q = g->l3 + g->quote;

	if (!g->quote || g->quote + PKT_IP4_LEN > g->len)
		return;
	switch (rnd(&g->r, 3)) {
	case 0:
		q[0] = rnd(&g->r, 256);
		break;
	case 1:
		q[g->family == 4 ? 9 : 6] = rnd(&g->r, 256);
		break;
	default:
		put16(q + 6, rnd(&g->r, 0x10000));
		break;
	}
}

static void (*const mutations[])(struct gen *) = {
	mut_ip_len, mut_ip_len, mut_ihl, mut_version, mut_l4_len, mut_l4_len, mut_frag,
	mut_options, mut_flip, mut_flip, mut_proto, mut_quote,
};

static void mutate_l3(struct gen *g, int pct_intact)
{
	int n = chance(&g->r, pct_intact) ? 0 : 1 + rnd(&g->r, 3);

	while (n--)
		mutations[rnd(&g->r, ARRAY_SIZE(mutations))](g);
}

/*
 * The frame: Ethernet, no tag, one, or two (802.1ad outside or 802.1Q
 * twice), the ethertype now and then wrong; then truncated, padded with
 * random bytes, or flipped in its link header.
 */
static size_t wrap(struct gen *g, __u8 *f, const __u8 *dmac, const __u8 *smac)
{
	struct rng *r = &g->r;
	size_t off = 12, len, add;
	int tags = chance(r, 75) ? 0 : chance(r, 70) ? 1 : 2;
	__u16 etype = g->etype;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	for (int i = 0; i < tags; i++, off += PKT_VLAN_LEN) {
		put16(f + off, i == 0 && tags == 2 && chance(r, 50) ? FZ_ETH_P_8021AD :
			       PKT_ETH_P_8021Q);
		put16(f + off + 2, rnd(r, 0x10000));
	}
	if (chance(r, 3))
		etype = chance(r, 50) ? etype ^ PKT_ETH_P_IP ^ PKT_ETH_P_IPV6 : rnd(r, 0x10000);
	put16(f + off, etype);
	off += 2;
	len = off + g->len;
	if (len > FUZZ_FRAME_MAX)
		len = FUZZ_FRAME_MAX;
	memcpy(f + off, g->l3, len - off);
	if (chance(r, 15) && len > PKT_ETH_LEN)
		len = PKT_ETH_LEN + rnd(r, len - PKT_ETH_LEN);
	if (chance(r, 10)) {
		add = 1 + rnd(r, chance(r, 80) ? 64 : 800);
		for (; add-- && len < FUZZ_FRAME_MAX; len++)
			f[len] = rnd(r, 256);
	}
	if (chance(r, 3))
		f[rnd(r, off)] ^= 1 + rnd(r, 255);
	return len;
}

/* ---- Sweeps: every truncation, every value of each length field ---- */

enum { SW_TRUNC, SW_IP_LEN, SW_IHL, SW_SUB, SW_KINDS };

/* A template frame and where its fields are. */
struct tmpl {
	__u8 f[PKT_MAX];
	size_t len;
	size_t ip;		/* the IP header the length and IHL sweeps set */
	size_t sub;		/* TCP/UDP (balancer) or inner IP (decap) header, 0: none */
	__u8 sub_kind;		/* IPPROTO_TCP, IPPROTO_UDP, or 4 / 6: an inner IP header */
	size_t n[SW_KINDS];	/* values each sweep takes */
};

#define TMPLS_MAX	20
static struct tmpl bal_tmpls[TMPLS_MAX], dc_tmpls[TMPLS_MAX];
static int bal_ntmpl, dc_ntmpl;

/*
 * The NAT templates, from bal_tmpls[nat_tmpl] on: clients' packets to the
 * NAT VIPs and ICMP errors about them, then the backends' answers to the
 * flows the first ones made (built again for each balancer instance, from
 * the tuples these flows got: nat_tmpls_answers()).
 */
enum {
	NT_TCP4, NT_UDP4, NT_TCP6, NT_UDP6, NT_ALL4, NT_ICMP4, NT_ICMP6,
	NT_ANS_TCP4, NT_ANS_UDP6, NT_ANS_ICMP4, NT_COUNT,
};
static int nat_tmpl;
static __u64 bal_nsweep, dc_nsweep;
static const __u8 peer_mac[6] = { 0x02, 0, 0, 0, 0x0a, 0x01 };

static void tmpl_count(struct tmpl *t)
{
	const __u8 *ip = t->f + t->ip;

	t->n[SW_TRUNC] = t->len - PKT_ETH_LEN + 1;
	t->n[SW_IP_LEN] = t->len - t->ip + 9;
	t->n[SW_IHL] = (ip[0] >> 4) == 4 ? 16 : 0;
	t->n[SW_SUB] = !t->sub ? 0 : t->sub_kind == IPPROTO_TCP ? 16 : t->len - t->sub + 9;
}

static __u64 tmpl_total(const struct tmpl *t, int n)
{
	__u64 sum = 0;

	for (int i = 0; i < n; i++)
		for (int k = 0; k < SW_KINDS; k++)
			sum += t[i].n[k];
	return sum;
}

static void tmpl_put(struct tmpl *t, const __u8 *l3, size_t len, __u16 etype, int vlan,
		     const __u8 *smac)
{
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = smac, .vlan = vlan, .tci = 5 };

	t->len = pkt_frame(&l2, etype, l3, len, t->f);
	t->ip = PKT_ETH_LEN + (vlan ? PKT_VLAN_LEN : 0);
}

static struct tmpl *tmpl_add(struct tmpl *set, int *n, const __u8 *l3, size_t len,
			     __u16 etype, int vlan, const __u8 *smac)
{
	struct tmpl *t = &set[(*n)++];

	tmpl_put(t, l3, len, etype, vlan, smac);
	return t;
}

static size_t tmpl_l3(int family, const char *dst, __u8 proto, __u16 dport, int opt,
		      __u8 *out)
{
	struct pkt_spec s = { .family = family, .src = family == 4 ? CLIENT4 : CLIENT6,
			      .dst = dst, .proto = proto, .sport = 40000, .dport = dport,
			      .tcp_flags = PKT_SYN, .frag = PKT_DF, .opt_len = opt,
			      .payload = 8 };

	return pkt_ip(&s, out);
}

static void bal_tmpl_flow(int family, const char *dst, __u8 proto, __u16 dport, int opt,
			  int vlan)
{
	__u8 l3[PKT_MAX];
	size_t len = tmpl_l3(family, dst, proto, dport, opt, l3);
	struct tmpl *t = tmpl_add(bal_tmpls, &bal_ntmpl, l3, len, etype_of(family), vlan,
				  fx_mac_client);

	t->sub = t->ip + (family == 4 ? PKT_IP4_LEN + opt : PKT_IP6_LEN);
	t->sub_kind = proto;
}

static void bal_tmpl_icmp_of(int family, const char *vip4, const char *vip6)
{
	struct pkt_spec s = { .family = family, .src = family == 4 ? vip4 : vip6,
			      .dst = family == 4 ? CLIENT4 : CLIENT6, .proto = IPPROTO_TCP,
			      .sport = 80, .dport = 40000, .tcp_flags = PKT_ACK, .payload = 100 };
	__u8 q[PKT_MAX], l3[PKT_MAX];
	size_t len;

	pkt_ip(&s, q);
	if (family == 4)
		len = pkt_icmp4_err(ROUTER4, vip4, FZ_ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400,
				    q, PKT_IP4_LEN + ICMP_QUOTE_L4, l3);
	else
		len = pkt_icmp6_err(ROUTER6, vip6, ICMP6_PKT_TOO_BIG, 0, 1400, q,
				    PKT_IP6_LEN + ICMP_QUOTE_L4, l3);
	tmpl_add(bal_tmpls, &bal_ntmpl, l3, len, etype_of(family), 0, fx_mac_client);
}

static void bal_tmpl_icmp(int family)
{
	bal_tmpl_icmp_of(family, VIP4, VIP6);
}

/* The flow template @nt made: shot once, learnt (a setup failure if it made none). */
static const struct ref_nat *nat_tmpl_flow(int nt)
{
	const struct tmpl *t = &bal_tmpls[nat_tmpl + nt];
	const struct ref_nat *f;
	struct judge j = {};
	struct ref ref;
	struct shot s;

	shoot(&p_bal, t->f, t->len, &s);
	ref_balancer(t->f, t->len, &ref);
	if (ref.nat != REF_NAT_FWD || nat_learn(&ref, &j) || !(f = nat_find(&ref.key, 0)))
		fx_die("NAT template %d made no flow (%s, %s; %s)", nt, ref.why,
		       s.reason >= 0 ? fx_reason_names[s.reason] : "no reason",
		       j.rule ? j.msg : "nothing in nat_flows");
	return f;
}

/* A backend's answer to flow @f: TCP/UDP, or an ICMP error about the flow's packet to it. */
static void nat_tmpl_answer(int nt, const struct ref_nat *f, int icmp)
{
	struct tmpl *t = &bal_tmpls[nat_tmpl + nt];
	char be[FZ_ADDR_TEXT], sn[FZ_ADDR_TEXT];
	struct pkt_spec sp = { .family = f->key.family, .src = be, .dst = sn,
			       .proto = f->key.proto, .sport = ntohs(f->out.dport),
			       .dport = ntohs(f->out.sport), .tcp_flags = PKT_ACK, .frag = PKT_DF,
			       .payload = 8 };
	__u8 q[PKT_MAX], l3[PKT_MAX];
	size_t len;

	addr_text(sp.family, f->out.dst, be);
	addr_text(sp.family, f->out.src, sn);
	if (!icmp) {
		len = pkt_ip(&sp, l3);
		tmpl_put(t, l3, len, etype_of(sp.family), 0, fx_mac_client);
		t->sub = t->ip + (sp.family == 4 ? PKT_IP4_LEN : PKT_IP6_LEN);
		t->sub_kind = sp.proto;
		return;
	}
	/* the quoted packet is the flow's own, SNAT -> backend */
	sp = (struct pkt_spec){ .family = 4, .src = sn, .dst = be, .proto = f->key.proto,
				.sport = ntohs(f->out.sport), .dport = ntohs(f->out.dport),
				.tcp_flags = PKT_ACK, .payload = 100 };
	pkt_ip(&sp, q);
	len = pkt_icmp4_err(BE_ROUTER4, sn, FZ_ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400, q,
			    PKT_IP4_LEN + ICMP_QUOTE_L4, l3);
	tmpl_put(t, l3, len, PKT_ETH_P_IP, 0, fx_mac_client);
	t->sub = 0;
}

/* The answers' templates, to the flows the clients' templates make in this instance. */
static void nat_tmpls_answers(void)
{
	const struct ref_nat *tcp4 = nat_tmpl_flow(NT_TCP4), *udp6 = nat_tmpl_flow(NT_UDP6);

	nat_tmpl_flow(NT_UDP4);
	nat_tmpl_flow(NT_TCP6);
	nat_tmpl_flow(NT_ALL4);
	nat_tmpl_answer(NT_ANS_TCP4, tcp4, 0);
	nat_tmpl_answer(NT_ANS_UDP6, udp6, 0);
	nat_tmpl_answer(NT_ANS_ICMP4, tcp4, 1);
	for (int nt = NT_ANS_TCP4; nt < NT_COUNT; nt++)
		tmpl_count(&bal_tmpls[nat_tmpl + nt]);
}

/* The NAT templates (the answers' built by nat_tmpls_answers(), once the flows exist). */
static void nat_tmpls_setup(void)
{
	nat_tmpl = bal_ntmpl;
	bal_tmpl_flow(4, NVIP4, IPPROTO_TCP, 80, 0, 0);
	bal_tmpl_flow(4, NVIP4, IPPROTO_UDP, 53, 0, 0);
	bal_tmpl_flow(6, NVIP6, IPPROTO_TCP, 80, 0, 0);
	bal_tmpl_flow(6, NVIP6, IPPROTO_UDP, 53, 0, 1);
	bal_tmpl_flow(4, NVIP4_ALL, IPPROTO_TCP, 8443, 8, 0);
	bal_tmpl_icmp_of(4, NVIP4, NVIP6);
	bal_tmpl_icmp_of(6, NVIP4, NVIP6);
	bal_ntmpl = nat_tmpl + NT_COUNT;
	nat_tmpls_answers();
}

static void dc_tmpl(int outer, const char *dst, int inner, __u8 proto, int opt, int vlan)
{
	__u8 in[PKT_MAX], l3[PKT_MAX];
	size_t n = tmpl_l3(inner, inner == 4 ? VIP4 : VIP6, proto, proto == IPPROTO_UDP ? 53 : 80,
			   0, in), len;
	struct tmpl *t;

	if (outer == 4)
		len = pkt_outer4(FX_SRC4, dst, 0, opt, in, n, l3);
	else
		len = pkt_outer6(FX_SRC6, dst, 0, inner == 4 ? IPPROTO_IPIP : IPPROTO_IPV6, in, n,
				 l3);
	t = tmpl_add(dc_tmpls, &dc_ntmpl, l3, len, etype_of(outer), vlan, peer_mac);
	t->sub = t->ip + (outer == 4 ? PKT_IP4_LEN + opt : PKT_IP6_LEN);
	t->sub_kind = inner;
}

/* GUE around a TCP ACK (a segment a chain sends on), with a hop list of two or none. */
static void dc_tmpl_gue(int outer, const char *dst, const char *next, int inner)
{
	struct pkt_spec sp = { .family = inner, .src = inner == 4 ? CLIENT4 : CLIENT6,
			       .dst = inner == 4 ? VIP4 : VIP6, .proto = IPPROTO_TCP,
			       .sport = 40000, .dport = 80, .tcp_flags = PKT_ACK, .payload = 8 };
	struct gtest_hops h = { .count = next ? 2 : 0, .hop = { dst, next } };
	__u8 in[PKT_MAX], l3[PKT_MAX];
	size_t n = pkt_ip(&sp, in), len;
	struct tmpl *t;

	len = gtest_gue(outer, outer == 4 ? FX_SRC4 : FX_SRC6, dst, 0, XLB_GUE_PORT_DEFAULT, &h,
			in, n, l3);
	t = tmpl_add(dc_tmpls, &dc_ntmpl, l3, len, etype_of(outer), 0, peer_mac);
	t->sub = t->ip + gtest_hops_off(outer) + (next ? FZ_HOPS_LEN(outer) : 0);
	t->sub_kind = inner;
}

static void sweeps_setup(void)
{
	bal_tmpl_flow(4, VIP4, IPPROTO_TCP, 80, 0, 0);
	bal_tmpl_flow(4, VIP4, IPPROTO_UDP, 53, 0, 0);
	bal_tmpl_flow(4, VIP4_ALL, IPPROTO_TCP, 8080, 8, 0);
	bal_tmpl_flow(6, VIP6, IPPROTO_TCP, 80, 0, 0);
	bal_tmpl_flow(4, VIP4_IN6, IPPROTO_TCP, 80, 0, 1);
	bal_tmpl_flow(6, VIP6_LINKB, IPPROTO_TCP, 80, 0, 1);
	bal_tmpl_icmp(4);
	bal_tmpl_icmp(6);
	nat_tmpls_setup();
	dc_tmpl(4, DECAP4, 4, IPPROTO_TCP, 0, 0);
	dc_tmpl(6, DECAP6, 6, IPPROTO_TCP, 0, 0);
	dc_tmpl(6, DECAP6_4IN6, 4, IPPROTO_TCP, 0, 1);
	dc_tmpl(4, DECAP4_UDP, 4, IPPROTO_UDP, 8, 1);
	dc_tmpl_gue(4, DECAP4, "10.99.0.11", 4);
	dc_tmpl_gue(6, DECAP6, NULL, 6);
	dc_tmpl_gue(6, DECAP6_4IN6, "fd00:98::21", 4);
	for (int i = 0; i < bal_ntmpl; i++)
		tmpl_count(&bal_tmpls[i]);
	for (int i = 0; i < dc_ntmpl; i++)
		tmpl_count(&dc_tmpls[i]);
	bal_nsweep = tmpl_total(bal_tmpls, bal_ntmpl);
	dc_nsweep = tmpl_total(dc_tmpls, dc_ntmpl);
}

/* Set the length field of the IP header at @ip to @v (IPv4: resealed). */
static void set_ip_len(__u8 *ip, size_t avail, __u32 v)
{
	if ((ip[0] >> 4) == 4) {
		put16(ip + 2, v);
		reseal4(ip, avail);
	} else {
		put16(ip + 4, v);
	}
}

static size_t sweep_apply(const struct tmpl *t, int kind, __u32 v, __u8 *f)
{
	__u8 *ip = f + t->ip, *sub = f + t->sub;

	memcpy(f, t->f, t->len);
	switch (kind) {
	case SW_TRUNC:
		return PKT_ETH_LEN + v;
	case SW_IP_LEN:
		set_ip_len(ip, t->len - t->ip, v);
		break;
	case SW_IHL:
		ip[0] = 0x40 | v;
		reseal4(ip, t->len - t->ip);
		break;
	default:
		if (t->sub_kind == IPPROTO_TCP)
			sub[12] = v << 4 | (sub[12] & 0xf);
		else if (t->sub_kind == IPPROTO_UDP)
			put16(sub + 4, v);
		else
			set_ip_len(sub, t->len - t->sub, v);
		break;
	}
	return t->len;
}

static size_t sweep_frame(const struct tmpl *set, int n, __u64 idx, __u8 *f)
{
	for (int i = 0; i < n; i++)
		for (int k = 0; k < SW_KINDS; k++) {
			if (idx < set[i].n[k])
				return sweep_apply(&set[i], k, idx, f);
			idx -= set[i].n[k];
		}
	return 0;
}

/* ---- Frames by index ---- */

enum { CASE_BAL = 1, CASE_DC, CASE_GUE };

static size_t bal_frame_at(__u64 index, __u8 *f)
{
	static struct gen g;

	if (index < bal_nsweep)
		return sweep_frame(bal_tmpls, bal_ntmpl, index, f);
	g.r = rng_for(fz_gue ? CASE_GUE : CASE_BAL, index);
	gen_l3(&g);
	mutate_l3(&g, 35);
	return wrap(&g, f, chance(&g.r, 98) ? fx_mac_a : fx_mac_b, fx_mac_client);
}

/*
 * The fuzzed decap instance owns these addresses; the others are next hops
 * it can send a GUE copy on to: a neighbour on link A (XDP_TX), one on link
 * B (redirect), one with no neighbour (the kernel), one with no route.
 */
static const char *const dc_ours[][2] = {
	{ "4", DECAP4 }, { "4", DECAP4_UDP }, { "6", DECAP6 }, { "6", DECAP6_4IN6 },
};
static const char *const dc_hops4[] = { "10.99.0.11", "10.98.0.21", "10.99.0.50",
					"203.0.113.9" };
static const char *const dc_hops6[] = { "fd00:99::11", "fd00:98::21", "fd00:99::50",
					"2001:db8:ff::9" };
#define DC_FOREIGN_SRC4	"10.99.0.2"
#define DC_FOREIGN_SRC6	"fd00:99::2"

static const char *decap_dst(struct rng *r, int family)
{
	size_t i;

	if (chance(r, 10))
		return family == 4 ? dc_hops4[rnd(r, ARRAY_SIZE(dc_hops4))] :
				     dc_hops6[rnd(r, ARRAY_SIZE(dc_hops6))];
	do
		i = rnd(r, ARRAY_SIZE(dc_ours));
	while (dc_ours[i][0][0] - '0' != family);
	return dc_ours[i][1];
}

/* A hop list naming @dst at a random place, the other hop ours or one to send on to. */
static void gue_hops(struct rng *r, int family, const char *dst, struct gtest_hops *h)
{
	memset(h, 0, sizeof(*h));
	if (chance(r, 35))
		return;
	h->count = 1 + rnd(r, XLB_GUE_HOPS_MAX);
	h->next = rnd(r, h->count);
	h->hop[h->next] = dst;
	if (h->count == XLB_GUE_HOPS_MAX)
		h->hop[1 - h->next] = chance(r, 75) ?
			(family == 4 ? dc_hops4 : dc_hops6)[rnd(r, ARRAY_SIZE(dc_hops4))] :
			decap_dst(r, family);
}

/* GUE's own lies: header bits, protocol, UDP length and port, the hop list, checksums. */
static void mutate_gue(struct gen *o, size_t ip_len)
{
	struct rng *r = &o->r;
	__u8 *u = o->l3 + ip_len, *g = u + PKT_UDP_LEN, *h = g + FZ_GUE_LEN;
	size_t have = o->len - ip_len;

	if (chance(r, 60) || have < PKT_UDP_LEN + FZ_GUE_LEN)
		return;
	switch (rnd(r, 9)) {
	case 0:
		g[0] ^= 1 << rnd(r, 8);			/* version, C, hlen */
		break;
	case 1:
		g[1] = chance(r, 50) ? g[1] ^ IPPROTO_IPIP ^ IPPROTO_IPV6 : rnd(r, 256);
		break;
	case 2:
		put16(g + 2, 1 + rnd(r, 0xffff));	/* flags */
		break;
	case 3:
		put16(u + 4, lie(r, get16(u + 4), PKT_UDP_LEN + FZ_GUE_LEN));
		break;
	case 4:
		put16(u + 2, rnd(r, 0x10000));		/* another port */
		break;
	case 5:
		put16(u + 6, rnd(r, 0x10000));		/* UDP checksum */
		break;
	default:	/* the hop list: type, next, count, a hop */
		if (have >= PKT_UDP_LEN + FZ_GUE_LEN + 8)
			h[rnd(r, 8)] ^= 1 + rnd(r, 255);
		break;
	}
}

/* The outer header's own lies, on top of the inner packet's. */
static void mutate_outer(struct gen *o, size_t hlen)
{
	struct rng *r = &o->r;
	__u8 *p = o->l3;
	int n = chance(r, 50) ? 0 : 1 + rnd(r, 2);

	while (n--) {
		switch (rnd(r, 7)) {
		case 0:
			mut_ip_len(o);
			break;
		case 1:
			mut_ihl(o);
			break;
		case 2:
			if (o->family == 4)
				p[10] ^= 1 + rnd(r, 255);	/* checksum */
			break;
		case 3:
			mut_frag(o);
			break;
		case 4:
			mut_proto(o);
			break;
		case 5:	/* the inner length, resealed */
			if (o->len >= hlen + PKT_IP4_LEN)
				set_ip_len(p + hlen, o->len - hlen, lie(r, inner_len_of(p + hlen,
						(p[hlen] >> 4) == 4 ? 4 : 6), 0));
			break;
		default:
			p[rnd(r, hlen)] ^= 1 + rnd(r, 255);
			break;
		}
	}
}

/* The outer headers around g->l3: IPIP (IPv4 or IPv6 outer) or GUE. */
static size_t dc_outer(struct gen *in, struct gen *o)
{
	struct rng *r = &o->r;
	int gue = chance(r, 45), opt = 0;
	const char *src, *dst;
	struct gtest_hops h;
	__u8 tos, nh;

	o->family = chance(r, 50) ? 4 : 6;
	o->etype = etype_of(o->family);
	o->l4 = o->quote = 0;
	dst = decap_dst(r, o->family);
	src = o->family == 4 ? (chance(r, 92) ? FX_SRC4 : DC_FOREIGN_SRC4) :
			       (chance(r, 92) ? FX_SRC6 : DC_FOREIGN_SRC6);
	tos = rnd(r, 256) | (chance(r, 25) ? ECN_CE : 0);
	if (gue) {
		gue_hops(r, o->family, dst, &h);
		o->len = gtest_gue(o->family, src, dst, tos,
				   chance(r, 97) ? XLB_GUE_PORT_DEFAULT : rnd(r, 0x10000), &h,
				   in->l3, in->len, o->l3);
		mutate_gue(o, o->family == 4 ? PKT_IP4_LEN : PKT_IP6_LEN);
		return o->family == 4 ? PKT_IP4_LEN : PKT_IP6_LEN;
	}
	if (o->family == 4) {
		opt = chance(r, 20) ? 4 * (1 + rnd(r, IP4_OPT_WORDS)) : 0;
		o->len = pkt_outer4(src, dst, tos, opt, in->l3, in->len, o->l3);
		return PKT_IP4_LEN + opt;
	}
	nh = in->family == 4 ? IPPROTO_IPIP : IPPROTO_IPV6;
	if (chance(r, 10))
		nh = chance(r, 50) ? nh ^ IPPROTO_IPIP ^ IPPROTO_IPV6 : rnd(r, 256);
	o->len = pkt_outer6(src, dst, tos, nh, in->l3, in->len, o->l3);
	return PKT_IP6_LEN;
}

static size_t dc_frame_at(__u64 index, __u8 *f)
{
	static struct gen in, o;

	if (index < dc_nsweep)
		return sweep_frame(dc_tmpls, dc_ntmpl, index, f);
	in.r = rng_for(CASE_DC, index);
	gen_l3(&in);
	mutate_l3(&in, 70);
	if (chance(&in.r, 8))
		in.len = rnd(&in.r, in.len + 1);
	if (!in.len)
		in.l3[0] = 0;
	o.r = in.r;
	mutate_outer(&o, dc_outer(&in, &o));
	return wrap(&o, f, fx_mac_a, peer_mac);
}

/* ---- Cases ---- */

struct fuzz_case {
	int id;
	struct prog *prog;
	struct tally *tally;
	__u64 count;
	size_t (*frame_at)(__u64 index, __u8 *f);
	int (*judge)(const struct shot *s, struct tally *t, struct judge *j);
};

static int bal_judge(const struct shot *s, struct tally *t, struct judge *j)
{
	struct ref ref;
	int bad = judge_balancer(s, &ref, j);

	tally_add(t, s, ref.cls, ref.why);
	return bad;
}

static int dc_judge(const struct shot *s, struct tally *t, struct judge *j)
{
	struct dref d;
	int bad = judge_decap(&cfg_dc, s, &d, j);

	tally_add(t, s, d.cls, d.why);
	return bad;
}

static void report(const char *name, const struct kind *k)
{
	const char *reason = k->reason >= 0 ? fx_reason_names[k->reason] : "none";

	printf("    VIOLATION rule %d (%s), %llu times, first at packet %llu; the smallest:\n",
	       k->j.rule, rule_names[k->j.rule], (unsigned long long)k->n,
	       (unsigned long long)k->first);
	printf("      %s\n", k->j.msg);
	printf("      replay: XLB_FUZZ_SEED=0x%016llx XLB_FUZZ_INDEX=%llu build/fuzz_test %s\n",
	       (unsigned long long)fz_seed, (unsigned long long)k->index, name);
	printf("      verdict %s, reason %s\n", act_name(k->act), reason);
	hexdump("in", k->in, k->len);
	if (k->act != XDP_DROP && (k->out_len != k->len || memcmp(k->in, k->out, k->len)))
		hexdump("out", k->out, k->out_len);
}

/* Count a violation under its kind, keeping the kind's smallest frame. */
static void record(struct tally *t, __u64 index, const struct shot *s, const struct judge *j)
{
	struct kind *k;
	int i;

	t->viol[j->rule]++;
	t->violations++;
	for (i = 0; i < t->nkinds; i++)
		if (t->kinds[i].j.rule == j->rule && t->kinds[i].j.kind == j->kind &&
		    t->kinds[i].j.detail == j->detail)
			break;
	if (i == FUZZ_KINDS_MAX)
		return;
	k = &t->kinds[i];
	if (i == t->nkinds) {
		t->nkinds++;
		k->first = index;
	} else if (s->len >= k->len) {
		k->n++;
		return;
	}
	k->n++;
	k->j = *j;
	k->index = index;
	k->act = s->run.ret;
	k->reason = s->reason;
	k->len = s->len;
	k->out_len = s->run.out_len;
	memcpy(k->in, s->in, s->len);
	memcpy(k->out, s->run.out, s->run.out_len);
}

static void nat_print(void)
{
	printf("    NAT: %llu flows learnt, %llu flushes; rewrites judged: %llu clients' packets, "
	       "%llu answers, %llu ICMP errors to backends, %llu to clients; %llu fragments or "
	       "extension headers to NAT VIPs, %llu for a plain NAT VIP port, %llu "
	       "drop_nat_unsupported\n",
	       (unsigned long long)nm.learnt, (unsigned long long)nm.flushes,
	       (unsigned long long)nm.fwd, (unsigned long long)nm.answers,
	       (unsigned long long)nm.icmp_fwd, (unsigned long long)nm.icmp_answers,
	       (unsigned long long)nm.lenient, (unsigned long long)nm.plain,
	       (unsigned long long)nm.unsupp);
}

static bool nat_ct_visit(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	if (f->vip_id >= NV_TCP4 && f->vip_id < NV_END && !*(bool *)arg) {
		t_fail("conntrack or ct_new holds a flow of NAT VIP %u", f->vip_id);
		*(bool *)arg = true;
	}
	return false;
}

/* NAT flows live in nat_flows only: conntrack and ct_new never hold one of a NAT VIP. */
static void nat_ct_check(void)
{
	bool failed = false;

	ct_walk(bpf_map__fd(bal->maps.conntrack), nat_ct_visit, &failed, NULL, NULL);
	ct_walk(bpf_map__fd(bal->maps.ct_new), nat_ct_visit, &failed, NULL, NULL);
}

static void fuzz_run(const struct fuzz_case *c, const char *name)
{
	static __u8 f[PKT_MAX];
	struct tally *t = c->tally;
	__u64 n = fz_hex_len ? 1 : c->count, first = FUZZ_INDEX_NONE;
	long long t0 = t_now_ms();
	struct judge keep = {};

	nm.learnt = nm.flushes = nm.fwd = nm.icmp_fwd = nm.answers = nm.icmp_answers = 0;
	nm.lenient = nm.plain = nm.unsupp = 0;
	for (__u64 i = 0; i < n; i++) {
		struct judge j = {};
		struct shot s;
		size_t len;

		if (fz_index != FUZZ_INDEX_NONE && i != fz_index)
			continue;
		if (nm.n >= NAT_FLOWS_MAX - 1)
			nat_flush();
		if (fz_hex_len)
			memcpy(f, fz_hex, len = fz_hex_len);
		else
			len = c->frame_at(i, f);
		if (i % FUZZ_BUDGET_EVERY == 0)
			budget_refill();
		shoot(c->prog, f, len, &s);
		if (!c->judge(&s, t, &j))
			continue;
		record(t, i, &s, &j);
		if (first == FUZZ_INDEX_NONE) {
			first = i;
			keep = j;
		}
	}
	printf("    %s: %llu packets (%llu of them sweeps) in %.1f s, seed 0x%016llx\n", name,
	       (unsigned long long)n,
	       (unsigned long long)(c->id != CASE_DC ? bal_nsweep : dc_nsweep),
	       (t_now_ms() - t0) / 1000.0, (unsigned long long)fz_seed);
	tally_print(t);
	if (c->id != CASE_DC) {
		tally_print(rt_tally);
		nat_print();
		nat_ct_check();
	}
	if (!t->violations)
		return;
	printf("      violations:");
	for (int r = 1; r < RULE_MAX; r++)
		if (t->viol[r])
			printf(" rule %d: %llu", r, (unsigned long long)t->viol[r]);
	printf("\n");
	for (int k = 0; k < t->nkinds; k++)
		report(name, &t->kinds[k]);
	t_fail("%llu violations of %d kinds; first, packet %llu: rule %d: %s",
	       (unsigned long long)t->violations, t->nkinds, (unsigned long long)first, keep.rule,
	       keep.msg);
}

static __u64 bal_count(void)
{
	return fz_count * FUZZ_BAL_PCT / 100;
}

static __u64 gue_count(void)
{
	return fz_count * FUZZ_GUE_PCT / 100;
}

static void fuzz_balancer(void)
{
	struct fuzz_case c = { CASE_BAL, &p_bal, &t_bal, bal_count(), bal_frame_at, bal_judge };

	fuzz_run(&c, "fuzz_balancer");
}

static void fuzz_decap(void)
{
	struct fuzz_case c = { CASE_DC, &p_dc, &t_dc, fz_count - bal_count() - gue_count(),
			       dc_frame_at, dc_judge };

	fuzz_run(&c, "fuzz_decap");
}

/* ---- The control: the oracle catches what it is there to catch ---- */

static void expect_rule(const char *what, int want, const struct judge *j)
{
	if (j->rule != want)
		t_fail("%s: expected rule %d, the oracle said %d (%s)", what, want, j->rule,
		       j->rule ? j->msg : "no violation");
}

static int bal_check(const struct shot *s, struct judge *j)
{
	struct ref ref;

	memset(j, 0, sizeof(*j));
	return judge_balancer(s, &ref, j);
}

static int dc_check(const struct shot *s, struct judge *j)
{
	struct dref d;

	memset(j, 0, sizeof(*j));
	return judge_decap(&cfg_dc, s, &d, j);
}

/* Forwarded frames: the intact one passes, each corruption of it is caught. */
static void oracle_forward(void)
{
	static struct shot s, x;
	static __u8 in[PKT_MAX], bad[PKT_MAX];
	const struct tmpl *t = &bal_tmpls[0];	/* TCP to VIP4:80 */
	struct judge j;
	size_t l2 = PKT_ETH_LEN;

	memcpy(in, t->f, t->len);
	shoot(&p_bal, in, t->len, &s);
	bal_check(&s, &j);
	expect_rule("intact frame forwarded", RULE_NONE, &j);
	RETURN_IF_FAILED();
	x = s;
	x.run.out[l2 + 10] ^= 0x01;
	bal_check(&x, &j);
	expect_rule("outer checksum broken", RULE_FORWARD, &j);
	x = s;
	memset(x.run.out + x.run.out_len, 0, 6);
	x.run.out_len += 6;
	bal_check(&x, &j);
	expect_rule("6 bytes after the outer packet", RULE_FORWARD, &j);
	x = s;
	x.run.out[x.run.out_len - 1] ^= 0x01;
	bal_check(&x, &j);
	expect_rule("inner byte changed", RULE_FORWARD, &j);
	/* the same output for a malformed input: TCP doff beyond the IP length */
	memcpy(bad, in, t->len);
	bad[t->sub + 12] = 0xf0 | (bad[t->sub + 12] & 0xf);
	x = s;
	x.in = bad;
	bal_check(&x, &j);
	expect_rule("malformed input forwarded", RULE_NEVER_FWD, &j);
	x = s;
	x.delta[XLB_FWD_TX]++;
	x.counted++;
	bal_check(&x, &j);
	expect_rule("two reasons counted", RULE_REASON, &j);
	x = s;
	x.run.ret = XDP_PASS;
	bal_check(&x, &j);
	expect_rule("fwd_tx counted, XDP_PASS returned", RULE_REASON, &j);
}

/* Passed frames must be untouched; malformed drops must be of malformed frames. */
static void oracle_verdicts(void)
{
	static struct shot s, x;
	static __u8 in[PKT_MAX];
	const struct tmpl *t = &bal_tmpls[0];
	struct judge j;

	memcpy(in, t->f, t->len);
	/* An address no VIP has (to a VIP's address, a port without VIP is dropped). */
	in[t->ip + 19] ^= 0x40;
	shoot(&p_bal, in, t->len, &s);
	bal_check(&s, &j);
	expect_rule("frame to no VIP passed", RULE_NONE, &j);
	RETURN_IF_FAILED();
	x = s;
	x.run.out[t->len - 1] ^= 0x01;
	bal_check(&x, &j);
	expect_rule("passed frame modified", RULE_VERDICT, &j);
	x = s;
	x.run.ret = XDP_DROP;
	x.delta[XLB_PASS_NOT_VIP] = 0;
	x.delta[XLB_DROP_MALFORMED] = 1;
	x.reason = XLB_DROP_MALFORMED;
	bal_check(&x, &j);
	expect_rule("well-formed frame dropped as malformed", RULE_VERDICT, &j);
}

/* A too-big reply: the real one passes, a broken checksum is caught. */
static void oracle_too_big(void)
{
	static struct shot s, x;
	static __u8 in[PKT_MAX], l3[PKT_MAX];
	struct pkt_spec sp = { .family = 4, .src = CLIENT4, .dst = "192.0.2.70",
			       .proto = IPPROTO_TCP, .sport = 40001, .dport = 80,
			       .tcp_flags = PKT_ACK, .frag = PKT_DF, .payload = 1400 };
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = fx_mac_client };
	size_t len = pkt_frame(&l2, PKT_ETH_P_IP, l3, pkt_ip(&sp, l3), in);
	struct judge j;

	budget_refill();
	shoot(&p_bal, in, len, &s);
	EXPECT_EQ("reason of a 1440-byte DF packet to link B", XLB_TX_TOO_BIG, s.reason);
	bal_check(&s, &j);
	expect_rule("too-big reply", RULE_NONE, &j);
	RETURN_IF_FAILED();
	x = s;
	x.run.out[PKT_ETH_LEN + PKT_IP4_LEN + 2] ^= 0x01;
	bal_check(&x, &j);
	expect_rule("ICMP checksum broken", RULE_ICMP_REPLY, &j);
}

static void oracle_decap(void)
{
	static struct shot s, x;
	static __u8 in[PKT_MAX];
	const struct tmpl *t = &dc_tmpls[0];	/* IPIP to DECAP4 */
	struct judge j;

	memcpy(in, t->f, t->len);
	shoot(&p_dc, in, t->len, &s);
	dc_check(&s, &j);
	expect_rule("tunnel packet stripped", RULE_NONE, &j);
	RETURN_IF_FAILED();
	x = s;
	put16(x.run.out + PKT_ETH_LEN + 2, get16(x.run.out + PKT_ETH_LEN + 2) + 1);
	dc_check(&x, &j);
	expect_rule("inner tot_len off by one after the strip", RULE_DECAP, &j);
	x = s;
	x.run.ret = XDP_TX;
	x.delta[XLB_DECAP_OK] = 0;
	x.delta[XLB_DROP_MALFORMED] = 1;
	x.reason = XLB_DROP_MALFORMED;
	dc_check(&x, &j);
	expect_rule("balancer reason counted by decap", RULE_REASON, &j);
	/* the same strip, of a frame whose outer checksum is broken */
	x = s;
	in[t->ip + 10] ^= 0x01;
	dc_check(&x, &j);
	memcpy(in, t->f, t->len);
	expect_rule("malformed tunnel packet stripped", RULE_DECAP, &j);
}

/* A GUE copy sent on to its next hop: the real one passes, a wrong rewrite is caught. */
static void oracle_chain(void)
{
	static struct shot s, x;
	static __u8 in[PKT_MAX];
	const struct tmpl *t = &dc_tmpls[4];	/* GUE to DECAP4, next hop 10.99.0.11 */
	struct judge j;

	memcpy(in, t->f, t->len);
	shoot(&p_dc, in, t->len, &s);
	EXPECT_EQ("reason of a TCP ACK with a next hop on link A", XLB_DECAP_CHAIN_TX, s.reason);
	dc_check(&s, &j);
	expect_rule("copy sent on", RULE_NONE, &j);
	RETURN_IF_FAILED();
	x = s;
	x.run.out[t->ip + PKT_IP4_LEN + PKT_UDP_LEN + FZ_GUE_LEN + 2]++;	/* next */
	dc_check(&x, &j);
	expect_rule("next incremented twice", RULE_DECAP, &j);
	x = s;
	x.run.out[t->ip + 19] ^= 0x01;		/* outer destination */
	dc_check(&x, &j);
	expect_rule("sent to another next hop", RULE_DECAP, &j);
	x = s;
	x.run.out[t->ip + 10] ^= 0x01;
	dc_check(&x, &j);
	expect_rule("outer checksum broken by the rewrite", RULE_DECAP, &j);
}

static void expect_fwd(const char *what, const struct shot *s)
{
	if (s->run.ret != XDP_TX && s->run.ret != XDP_REDIRECT)
		t_fail("%s: not forwarded (%s, %s)", what, act_name(s->run.ret),
		       s->reason >= 0 ? fx_reason_names[s->reason] : "no reason");
}

/* NAT: the real rewrites pass; a checksum, port, hop count, length or counter wrong is caught. */
static void oracle_nat(void)
{
	static struct shot s, x;
	static __u8 in[PKT_MAX], bad[PKT_MAX];
	const struct tmpl *t = &bal_tmpls[nat_tmpl + NT_TCP4];
	const struct tmpl *a = &bal_tmpls[nat_tmpl + NT_ANS_TCP4];
	size_t ip = PKT_ETH_LEN, l4 = PKT_ETH_LEN + PKT_IP4_LEN;
	struct judge j;

	memcpy(in, t->f, t->len);
	shoot(&p_bal, in, t->len, &s);
	expect_fwd("NAT client's packet", &s);
	bal_check(&s, &j);
	expect_rule("NAT client's packet", RULE_NONE, &j);
	RETURN_IF_FAILED();
	x = s;
	x.run.out[l4 + TCP_CSUM_OFF] ^= 0x01;
	bal_check(&x, &j);
	expect_rule("NAT TCP checksum broken", RULE_NAT, &j);
	x = s;
	x.run.out[ip + 8]++;
	bal_check(&x, &j);
	expect_rule("NAT TTL not lowered", RULE_NAT, &j);
	x = s;
	put16(x.run.out + l4, SNAT_PORT_HI + 1);
	bal_check(&x, &j);
	expect_rule("NAT source port out of the range", RULE_NAT, &j);
	x = s;
	memset(x.run.out + x.run.out_len, 0, 4);
	x.run.out_len += 4;
	bal_check(&x, &j);
	expect_rule("NAT output with 4 bytes of padding", RULE_NAT, &j);
	x = s;
	x.delta[XLB_FWD_NAT_REPLY]++;
	x.counted++;
	bal_check(&x, &j);
	expect_rule("fwd_nat_reply for a client's packet", RULE_REASON, &j);
	memcpy(bad, in, t->len);
	bad[t->sub + 12] = 0xf0 | (bad[t->sub + 12] & 0xf);
	x = s;
	x.in = bad;
	bal_check(&x, &j);
	expect_rule("malformed input NAT-forwarded", RULE_NEVER_FWD, &j);

	memcpy(in, a->f, a->len);
	shoot(&p_bal, in, a->len, &s);
	expect_fwd("NAT answer", &s);
	bal_check(&s, &j);
	expect_rule("NAT answer", RULE_NONE, &j);
	RETURN_IF_FAILED();
	x = s;
	x.run.out[l4 + 3] ^= 0x01;
	bal_check(&x, &j);
	expect_rule("NAT answer to another client port", RULE_NAT, &j);
	x = s;
	x.run.out[ip + 10] ^= 0x01;
	bal_check(&x, &j);
	expect_rule("NAT answer's IPv4 checksum broken", RULE_NAT, &j);
	x = s;
	x.delta[XLB_FWD_NAT_REPLY] = 0;
	x.counted--;
	bal_check(&x, &j);
	expect_rule("NAT answer without fwd_nat_reply", RULE_NAT, &j);
}

static void fuzz_oracle_catches_violations(void)
{
	oracle_forward();
	RETURN_IF_FAILED();
	oracle_verdicts();
	RETURN_IF_FAILED();
	oracle_too_big();
	RETURN_IF_FAILED();
	oracle_decap();
	RETURN_IF_FAILED();
	oracle_chain();
	RETURN_IF_FAILED();
	oracle_nat();
}

/* The control for GUE: the real tunnel passes, a wrong UDP checksum or hop list is caught. */
static void oracle_gue(void)
{
	static struct shot s, x;
	static __u8 in[PKT_MAX];
	const struct tmpl *t = &bal_tmpls[3];	/* TCP to VIP6: GUE over IPv6 */
	size_t udp = PKT_ETH_LEN + PKT_IP6_LEN, hops = udp + PKT_UDP_LEN + FZ_GUE_LEN;
	struct judge j;

	memcpy(in, t->f, t->len);
	shoot(&p_bal, in, t->len, &s);
	bal_check(&s, &j);
	expect_rule("GUE tunnel", RULE_NONE, &j);
	RETURN_IF_FAILED();
	x = s;
	x.run.out[udp + 7] ^= 0x01;
	bal_check(&x, &j);
	expect_rule("UDP checksum broken", RULE_FORWARD, &j);
	x = s;
	x.run.out[hops + 3] = 2;	/* a second hop that is zero */
	bal_check(&x, &j);
	expect_rule("hop count 2, no second hop", RULE_FORWARD, &j);
}

static void vip_addrs_fill(void);
static void nat_setup(void);

/*
 * The balancer again, loaded with attach --encap gue, in a fresh fixture
 * namespace: last, since it replaces the IPIP instance the other cases use.
 */
static void fuzz_balancer_gue(void)
{
	struct fuzz_case c = { CASE_GUE, &p_bal, &t_gue, gue_count(), bal_frame_at, bal_judge };

	bal_setup_encap(XLB_ENCAP_GUE, XLB_GUE_PORT_DEFAULT);
	nat_setup();
	vip_addrs_fill();
	p_bal.fd = bal_prog;
	p_bal.reasons = bal_reasons;
	reasons_read(p_bal.reasons, p_bal.last);
	nat_tmpls_answers();
	fz_gue = 1;
	rt_tally = &t_rt_gue;
	oracle_gue();
	RETURN_IF_FAILED();
	fuzz_run(&c, "fuzz_balancer_gue");
}

/* ---- Setup ---- */

static void nat_sh(const char *cmd)
{
	if (system(cmd))
		fx_die("command failed: %s", cmd);
}

/* The route to the clients: the answers' way out, through their router on link A. */
static void nat_routes(void)
{
	const __u8 *m = fx_mac_client;
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "ip neigh replace " CLIENT_GW4 " lladdr %02x:%02x:%02x:%02x:%02x:%02x dev " FX_IF_A
		 " nud permanent && ip route replace " CLIENT_NET4 " via " CLIENT_GW4
		 " && ip -6 neigh replace " CLIENT_GW6 " lladdr %02x:%02x:%02x:%02x:%02x:%02x dev "
		 FX_IF_A " nud permanent && ip -6 route replace " CLIENT_NET6 " via " CLIENT_GW6,
		 m[0], m[1], m[2], m[3], m[4], m[5], m[0], m[1], m[2], m[3], m[4], m[5]);
	nat_sh(cmd);
}

/* The snat entry as attach writes it, and the reference's copy. */
static void nat_snat(void)
{
	struct xlb_snat sn = { .n4 = ARRAY_SIZE(snat4), .n6 = ARRAY_SIZE(snat6),
			       .port_lo = SNAT_PORT_LO, .port_hi = SNAT_PORT_HI,
			       .nat_vips = NV_END - NV_TCP4 };
	int ncpu = libbpf_num_possible_cpus();
	__u32 zero = 0, a[4];

	for (size_t i = 0; i < ARRAY_SIZE(snat4); i++) {
		pkt_addr(4, snat4[i], a);
		sn.addr4[i] = a[0];
	}
	for (size_t i = 0; i < ARRAY_SIZE(snat6); i++)
		pkt_addr(6, snat6[i], sn.addr6[i]);
	sn.cpu_slice = (SNAT_PORT_HI - SNAT_PORT_LO + 1) / (ncpu > 0 ? ncpu : 1);
	if (!sn.cpu_slice)
		sn.cpu_slice = 1;
	if (bpf_map_update_elem(bpf_map__fd(bal->maps.snat), &zero, &sn, BPF_ANY))
		fx_die("snat update: %s", strerror(errno));
	memcpy(ref_snat.addr4, sn.addr4, sizeof(sn.addr4));
	memcpy(ref_snat.addr6, sn.addr6, sizeof(sn.addr6));
	ref_snat.n4 = sn.n4;
	ref_snat.n6 = sn.n6;
	ref_snat.lo = sn.port_lo;
	ref_snat.hi = sn.port_hi;
}

/* The NAT VIPs and backends (nat_vips, nat_bes) into the balancer loaded last. */
static void nat_setup(void)
{
	int fd = bpf_map__fd(bal->maps.backends);

	nat_routes();
	for (__u32 v = NV_TCP4; v < NV_END; v++) {
		const struct nat_vip *nv = &nat_vips[v];
		__u32 ids[ARRAY_SIZE(nat_bes)];
		size_t n = 0;

		fx_vip(bal, nv->family, nv->addr, nv->port, nv->proto, v, BAL_TABLE,
		       XLB_SCHED_MAGLEV, XLB_VIP_F_NAT);
		for (size_t i = 0; i < ARRAY_SIZE(nat_bes); i++) {
			const struct nat_be *b = &nat_bes[i];
			struct xlb_backend be = { .family = b->family, .flags = XLB_BE_F_USED,
						  .weight = 1, .vip_id = v, .port = htons(b->port) };

			if (b->vip != v)
				continue;
			pkt_addr(b->family, b->addr, be.addr);
			if (bpf_map_update_elem(fd, &b->id, &be, BPF_ANY))
				fx_die("NAT backend %u update: %s", b->id, strerror(errno));
			ids[n++] = b->id;
		}
		fx_table(bal, v, BAL_TABLE, ids, n);
	}
	nat_snat();
	nat_fd = bpf_map__fd(bal->maps.nat_flows);
	nat_model_reset();
}

static int vip_cmp(const void *a, const void *b)
{
	const struct ref_vip *x = a, *y = b;

	return (x->vip.id > y->vip.id) - (x->vip.id < y->vip.id);
}

/* The VIP addresses and filter, as the control plane derives them (user/lib/vipaddrs.c). */
static void vip_addrs_fill(void)
{
	for (int i = 0; i < ref_nvips; i++) {
		struct xlb_vip_addr a = { .family = ref_vips[i].key.family };
		__u32 one = 1;

		memcpy(a.addr, ref_vips[i].key.addr, sizeof(a.addr));
		if (bpf_map_update_elem(bpf_map__fd(bal->maps.vip_addrs), &a, &one, BPF_ANY))
			fx_die("vip_addrs update: %s", strerror(errno));
	}
	/* And the VIP filter, armed: every frame's verdict goes through it. */
	if (vip_filter_reconcile(bpf_map__fd(bal->maps.vip_filter), bpf_map__fd(bal->maps.vips),
				 NULL, 0, true))
		fx_die("vip_filter: %s", strerror(errno));
}

/* The reference's VIPs: the configuration as loaded, in a fixed order (by id). */
static void ref_setup(void)
{
	int fd = bpf_map__fd(bal->maps.vips);
	struct xlb_vip_key k, *prev = NULL;
	__u32 b4[4], b6[4];

	while (ref_nvips < FZ_VIPS_MAX && !bpf_map_get_next_key(fd, prev, &k)) {
		struct ref_vip *v = &ref_vips[ref_nvips++];

		v->key = k;
		if (bpf_map_lookup_elem(fd, &k, &v->vip))
			fx_die("vips lookup: %s", strerror(errno));
		inet_ntop(k.family == 4 ? AF_INET : AF_INET6, k.addr, v->text, sizeof(v->text));
		prev = &v->key;
	}
	qsort(ref_vips, ref_nvips, sizeof(ref_vips[0]), vip_cmp);
	vip_addrs_fill();
	/* link B's subnets, as fixture.h draws them */
	pkt_addr(4, "10.98.0.0", b4);
	pkt_addr(6, "fd00:98::", b6);
	for (int b = 1; b < BAL_BE_COUNT; b++) {
		struct ref_be *r = &ref_bes[b];

		r->family = bal_be[b].family;
		pkt_addr(r->family, bal_be[b].addr, r->addr);
		r->link_b = r->family == 4 ? !memcmp(r->addr, b4, 3) : !memcmp(r->addr, b6, 8);
	}
}

static void cfg_add(struct ref_addr *set, int *n, int family, const char *addr)
{
	if (*n == FZ_ADDRS_MAX)
		fx_die("reference: more than %d addresses", FZ_ADDRS_MAX);
	set[*n].family = family;
	pkt_addr(family, addr, set[(*n)++].addr);
}

/*
 * A decap instance as `xlb decap attach` would set it up: tunnel
 * destinations @ours (every backend when NULL), --from the balancer's two
 * source addresses, and the VIPs as the host's local addresses. The
 * reference @c gets the same configuration.
 */
static void decap_instance(struct prog *p, struct ref_decap_cfg *c,
			   const char *const (*ours)[2], size_t nours)
{
	struct decap_bpf *d = decap_bpf__open_and_load();
	int fd4, fd6, local;

	if (!d)
		fx_die("load decap skeleton");
	p->fd = bpf_program__fd(d->progs.xlb_decap);
	p->reasons = bpf_map__fd(d->maps.reasons);
	fd4 = bpf_map__fd(d->maps.decap_from4);
	fd6 = bpf_map__fd(d->maps.decap_from6);
	local = bpf_map__fd(d->maps.decap_local);
	c->gue_port = XLB_GUE_PORT_DEFAULT;
	for (size_t i = 0; ours && i < nours; i++)
		cfg_add(c->ours, &c->nours, ours[i][0][0] - '0', ours[i][1]);
	for (int b = 1; !ours && b < BAL_BE_COUNT; b++)
		cfg_add(c->ours, &c->nours, bal_be[b].family, bal_be[b].addr);
	for (int i = 0; i < c->nours; i++) {
		struct xlb_decap_key k = { .family = c->ours[i].family };
		__u8 one = 1;

		memcpy(k.addr, c->ours[i].addr, sizeof(k.addr));
		if (bpf_map_update_elem(bpf_map__fd(d->maps.decap_addrs), &k, &one, BPF_ANY))
			fx_die("decap_addrs update: %s", strerror(errno));
	}
	if (gtest_from_add(fd4, fd6, FX_SRC4 "/32") || gtest_from_add(fd4, fd6, FX_SRC6 "/128"))
		fx_die("decap --from");
	cfg_add(c->from, &c->nfrom, 4, FX_SRC4);
	cfg_add(c->from, &c->nfrom, 6, FX_SRC6);
	for (int v = 0; v < ref_nvips; v++) {
		if (gtest_key_set(local, ref_vips[v].key.family, ref_vips[v].text, 1))
			fx_die("decap_local update");
		if (!ref_addr_in(c->local, c->nlocal, ref_vips[v].key.family,
				 (const __u8 *)ref_vips[v].key.addr))
			cfg_add(c->local, &c->nlocal, ref_vips[v].key.family, ref_vips[v].text);
	}
	reasons_read(p->reasons, p->last);
}

static void decap_setup(void)
{
	decap_instance(&p_dc, &cfg_dc, dc_ours, ARRAY_SIZE(dc_ours));
	decap_instance(&p_rt, &cfg_rt, NULL, 0);
}

static __u64 env_u64(const char *name, __u64 dflt)
{
	const char *v = getenv(name);
	char *end;
	__u64 x;

	if (!v || !*v)
		return dflt;
	errno = 0;
	x = strtoull(v, &end, 0);
	if (errno || *end) {
		fprintf(stderr, "fuzz_test: bad %s: %s\n", name, v);
		exit(2);
	}
	return x;
}

static void hex_option(void)
{
	const char *h = getenv("XLB_FUZZ_HEX");
	unsigned int byte;

	if (!h || !*h)
		return;
	for (; h[0] && h[1] && fz_hex_len < FUZZ_FRAME_MAX; h += 2) {
		if (sscanf(h, "%2x", &byte) != 1) {
			fprintf(stderr, "fuzz_test: bad XLB_FUZZ_HEX at \"%.8s\"\n", h);
			exit(2);
		}
		fz_hex[fz_hex_len++] = byte;
	}
	if (*h || fz_hex_len < PKT_ETH_LEN) {
		fprintf(stderr, "fuzz_test: XLB_FUZZ_HEX wants an even count of hex digits, "
				"28 or more\n");
		exit(2);
	}
}

static void options(void)
{
	__u64 seed;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (__u64)t_now_ms() * SPLITMIX_GAMMA;
	fz_seed = env_u64("XLB_FUZZ_SEED", seed);
	fz_count = env_u64("XLB_FUZZ_COUNT", FUZZ_COUNT_DEFAULT);
	fz_index = env_u64("XLB_FUZZ_INDEX", FUZZ_INDEX_NONE);
	fz_verbose = env_u64("XLB_FUZZ_VERBOSE", 0) != 0;
	hex_option();
}

static const struct t_case cases[] = {
	T_CASE(fuzz_oracle_catches_violations),
	T_CASE(fuzz_balancer),
	T_CASE(fuzz_decap),
	T_CASE(fuzz_balancer_gue),
};

int main(int argc, char **argv)
{
	options();
	printf("fuzz: seed 0x%016llx, %llu packets (XLB_FUZZ_SEED, XLB_FUZZ_COUNT)\n",
	       (unsigned long long)fz_seed, (unsigned long long)fz_count);
	fflush(stdout);
	bal_setup();
	nat_setup();
	p_bal.fd = bal_prog;
	p_bal.reasons = bal_reasons;
	reasons_read(p_bal.reasons, p_bal.last);
	rt_tally = &t_rt;
	ref_setup();
	decap_setup();
	sweeps_setup();
	return t_main(argc, argv, cases, ARRAY_SIZE(cases));
}
