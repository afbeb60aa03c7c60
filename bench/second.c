// SPDX-License-Identifier: GPL-2.0
/*
 * Per-packet cost of the second chance and of stateless mode (issue 9),
 * timed like bench/pktcost (single BPF_PROG_TEST_RUN calls, repeat 1, on
 * the bench veth whose gateway is a permanent neighbour; every call's
 * action checked) and reported, per repetition, as ratios to floor (b) of
 * the same repetition. Groups, each one load of the programs it measures:
 *
 *   encap      xlb loaded twice, IPIP and GUE (the rodata xlb_encap), the
 *              same VIPs and the same frames: non-VIP, tracked, new SYN and
 *              new bare ACK over IPv4 and IPv6 outer; GUE alone: an
 *              untracked ACK whose slot has a recent previous owner (two
 *              hops), stateless VIPs (XLB_VIP_F_NO_CT) with one and two hops.
 *   stateless  a curve over distinct flows (the x points of pktcost's flows
 *              curve): a random one of N flows again, and a new flow, on a
 *              stateless GUE VIP.
 *   decap      the backend's program: a non-tunnel packet, the IPIP strip,
 *              the GUE strip (last hop: no socket lookup), a GUE copy owned
 *              by a real accepted TCP socket in this namespace (socket
 *              lookup, delivered), and chain hops (no socket: rewritten,
 *              routed, XDP_TX), over IPv4 and IPv6 outer.
 *   flood      conntrack admission: a hit in the main table, a hit in the
 *              young table ct_new, a promotion, and new flows tracked at
 *              once, admitted young, under and over the insert budget.
 *
 * The flood group's conntrack and ct_new (set-associative flow tables,
 * which evict before they are full) each hold twice its pools and the new
 * flows its cases insert; its pools are written through the tables'
 * mappings (user/lib/flowtable.h), and a pool flow the write itself
 * evicted is counted beside its case (pool_evicted).
 *
 * Every case says what the program must have done on each call (an XDP
 * action, and the admission event or decap reason it counts), and the
 * counts are written beside the figures, so a case that measured another
 * path shows it. Writes one JSON document to stdout; run inside the
 * namespace bench/run.sh makes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchlib.h"
#include "table.h"
#include "maglev.h"
#include "xlb.skel.h"
#include "decap.skel.h"
#include "floor_pass.skel.h"
#include "floor_tx.skel.h"
#include "flowtable.h"

#define BACKENDS		10
#define CLIENT_PORT_BITS	14
#define CLIENT_PORT_BASE	1024
#define NEW_CLIENT_BASE		(1u << 20)	/* new flows never meet pooled ones */
#define POOL_MAIN_BASE		(1u << 16)	/* flow index ranges of the flood pools */
#define POOL_YOUNG_BASE		(2u << 16)
#define POOL_PROMO_BASE		(3u << 16)
#define CT_BATCH		65536
#define CT_ROOM			2		/* conntrack entries a flow it must hold */
#define CT_SLACK		1024		/* and room for the fixed flows */
#define DPORT_HTTP		80
#define PIN_CPU			0
#define NON_VIP			200		/* bench_vip4(200): no VIP there */
#define CHAIN_WINDOW_S		XLB_CHAIN_WINDOW_DEFAULT_S
#define FRAME_CAP		(BENCH_FRAME_MAX + 2 * sizeof(struct ipv6hdr))
#define WARM_CALLS		(XLB_CT_PROMOTE_AFTER_DEFAULT + 2) /* a fixed flow ends in conntrack */
#define MAX_CASES		32
#define SMALL_TABLE		1021		/* the table of the stateless control VIP (prime) */
#define ROUNDS			10		/* turns over the cases per repetition */

/* The decap side: its addresses, the balancer's, the inner VIP and client (on lo). */
#define DC_SELF4	"10.200.0.1"	/* the bench veth's: this host's decap addresses */
#define DC_SELF6	"fd00:200::1"
#define DC_BAL4		"10.200.0.2"	/* the gateway plays the balancer (--from) */
#define DC_BAL6		"fd00:200::2"
#define DC_NEXT4	"10.128.0.5"	/* the next hop: a backend behind the gateway */
#define DC_NEXT6	"fd00:201::5"
#define DC_VIP4		"192.0.2.10"
#define DC_CLIENT4	"198.51.100.40"
#define DC_PORT_LISTEN	80		/* a listener, as on a real backend */
#define DC_PORT_NONE	81		/* no socket at all */
#define DC_CPORT_EST	48100		/* the accepted connection's client port */
#define DC_CPORT_OTHER	48000		/* no connection from here */

enum kind {
	K_FIXED,	/* the same frame every call */
	K_RANDOM,	/* a random one of `pool` flows (from flow index `base`) */
	K_SEQ,		/* flow base + call number: each call of a repetition a different one */
	K_NEW,		/* a 5-tuple never seen before */
};

struct scase {
	const char *name;
	int fd;				/* the program */
	enum kind kind;
	struct bench_flow flow;		/* the template (K_FIXED: the flow) */
	unsigned char frame[FRAME_CAP];	/* K_FIXED with a prebuilt (tunnel) frame */
	size_t frame_len;
	__u32 pool, base;
	int expect;			/* XDP action of every call */
	int hops;			/* GUE over IPv4 outer: hop count the output must carry */
	struct xlb_bpf *skel;		/* xlb cases: its config and ct_events */
	int cfg_set;			/* set config's admission fields before each repetition */
	__u32 promote_after, insert_rate;
	int ev;				/* ct event every call must count, -1 none */
	/* untimed, before each slice of calls: makes the pool flows @from..@from+@n ready */
	void (*prep)(struct scase *c, __u32 from, __u32 n);
	int reason_fd, reason;		/* decap: the reason every call must count */
	double *rep_ns;
	__u32 *samples;			/* this repetition's calls, ns */
	__u64 events[XLB_CT_EV_MAX];	/* ct_events deltas over all timed calls */
	__u64 reason_count;
	__u64 calls;
	__u64 pool_evicted;		/* pool flows not in their table right after their write */
};

struct sgroup {
	const char *name, *dim;
	double x;
	int rounds;			/* each repetition in this many turns over the cases */
	int shuffle;			/* each turn in a new order (not with pooled cases) */
	struct scase cases[MAX_CASES];
	int n;
};

static struct {
	int calls, reps, quick, ifindex;
	__u64 rng, new_seq;
	struct floor_pass_bpf *fa;
	struct floor_tx_bpf *fb;
	struct flowtable ct;		/* the flood group's conntrack, mapped */
	struct flowtable young;		/* and its ct_new */
	int first;
} g;

static __u64 rnd(void)
{
	g.rng ^= g.rng << 13;
	g.rng ^= g.rng >> 7;
	g.rng ^= g.rng << 17;
	return g.rng;
}

static void must(int err, const char *what)
{
	if (err)
		bench_die("%s: %s", what, strerror(err < 0 ? -err : errno));
}

/* Flow @j of IPv4 VIP @vip (or IPv6 VIP with @v6): client j >> 14, port 1024 + low bits. */
static void flow_at(__u64 j, int v6, __u32 vip, __u8 flags, struct bench_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->family = v6 ? XLB_AF_INET6 : XLB_AF_INET;
	f->proto = IPPROTO_TCP;
	f->tcp_flags = flags;
	if (v6) {
		bench_client6(j >> CLIENT_PORT_BITS, f->src);
		bench_vip6(vip, f->dst);
	} else {
		bench_client4(j >> CLIENT_PORT_BITS, f->src);
		bench_vip4(vip, f->dst);
	}
	f->sport = CLIENT_PORT_BASE + (j & ((1u << CLIENT_PORT_BITS) - 1));
	f->dport = DPORT_HTTP;
}

/* The template's VIP and family with flow index @j. */
static void flow_like(const struct bench_flow *t, __u64 j, struct bench_flow *f)
{
	__u32 dst[4];

	memcpy(dst, t->dst, sizeof(dst));
	flow_at(j, t->family == XLB_AF_INET6, 0, t->tcp_flags, f);
	memcpy(f->dst, dst, sizeof(dst));
}

static size_t case_frame(struct scase *c, __u64 i, unsigned char *buf)
{
	struct bench_flow f;

	switch (c->kind) {
	case K_FIXED:
		if (c->frame_len) {
			memcpy(buf, c->frame, c->frame_len);
			return c->frame_len;
		}
		return bench_frame(&c->flow, buf);
	case K_RANDOM:
		flow_like(&c->flow, c->base + rnd() % c->pool, &f);
		break;
	case K_SEQ:
		flow_like(&c->flow, c->base + i % c->pool, &f);
		break;
	default:
		flow_like(&c->flow, ((__u64)NEW_CLIENT_BASE << CLIENT_PORT_BITS) + g.new_seq++, &f);
		break;
	}
	return bench_frame(&f, buf);
}

static void ct_events_sum(struct xlb_bpf *skel, __u64 *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xlb_ct_events *ev = calloc(ncpu, sizeof(*ev));
	__u32 zero = 0;

	memset(out, 0, XLB_CT_EV_MAX * sizeof(*out));
	if (!ev || bpf_map_lookup_elem(bpf_map__fd(skel->maps.ct_events), &zero, ev))
		bench_die("ct_events: %s", strerror(errno));
	for (int i = 0; i < ncpu; i++)
		for (int e = 0; e < XLB_CT_EV_MAX; e++)
			out[e] += ev[i].count[e];
	free(ev);
}

static __u64 reason_sum(int fd, __u32 reason)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = calloc(ncpu, sizeof(*v)), sum = 0;

	if (!v || bpf_map_lookup_elem(fd, &reason, v))
		bench_die("reasons: %s", strerror(errno));
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	free(v);
	return sum;
}

/* The admission settings of @c's instance (the rest of config kept). */
static void case_config(struct scase *c)
{
	int fd = bpf_map__fd(c->skel->maps.config);
	struct xlb_config cfg;
	__u32 zero = 0;

	must(bpf_map_lookup_elem(fd, &zero, &cfg), "config");
	cfg.ct_promote_after = c->promote_after;
	cfg.ct_insert_rate = c->insert_rate;
	must(bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY), "config");
}

/* A GUE frame over IPv4 outer carries @hops hops (count at its fixed offset). */
static int gue4_hops(const unsigned char *out, size_t len)
{
	size_t off = ETH_HLEN + sizeof(struct iphdr) + sizeof(struct udphdr) +
		     sizeof(struct xlb_gue_hdr) + offsetof(struct xlb_gue_hops4, count);

	return len > off ? out[off] : -1;
}

/*
 * Calls @from..@from+@n of this repetition of @c (its settings first),
 * their ns into c->samples.
 */
static void time_calls(struct sgroup *gr, struct scase *c, int from, int n)
{
	unsigned char frame[FRAME_CAP];
	__u64 ev0[XLB_CT_EV_MAX], ev1[XLB_CT_EV_MAX], r0 = 0;
	int act;

	if (c->cfg_set)
		case_config(c);
	if (c->skel)
		ct_events_sum(c->skel, ev0);
	if (c->reason_fd >= 0)
		r0 = reason_sum(c->reason_fd, c->reason);
	for (int i = from; i < from + n; i++) {
		size_t len = case_frame(c, i, frame);
		long ns = bench_run_once(c->fd, g.ifindex, frame, len, &act, NULL);

		if (ns < 0)
			bench_die("%s/%s: test run failed: %s", gr->name, c->name, strerror(errno));
		if (act != c->expect)
			bench_die("%s/%s: action %d, expected %d", gr->name, c->name, act, c->expect);
		c->samples[i] = ns;
	}
	c->calls += n;
	if (c->skel) {
		ct_events_sum(c->skel, ev1);
		for (int e = 0; e < XLB_CT_EV_MAX; e++)
			c->events[e] += ev1[e] - ev0[e];
	}
	if (c->reason_fd >= 0)
		c->reason_count += reason_sum(c->reason_fd, c->reason) - r0;
}

/*
 * Repetition @r of the group: in gr->rounds turns, each a slice of every
 * case's calls, so that a burst of other work on the machine falls on all
 * cases alike; then each case's interquartile mean over its calls. With
 * gr->shuffle each turn takes the cases in a new random order, so no case
 * always runs after the same one (which would leave it the same caches). A pooled
 * case's flows are written a turn before their slice, so that they are not
 * still in the cache from being written; the order of those groups stays
 * fixed, so that a whole turn lies in between.
 */
static void time_rep(struct sgroup *gr, int r)
{
	int chunk = g.calls / gr->rounds, order[MAX_CASES];

	for (int i = 0; i < gr->n; i++) {
		order[i] = i;
		if (gr->cases[i].prep)
			gr->cases[i].prep(&gr->cases[i], 0, chunk);
	}
	for (int k = 0; k < gr->rounds; k++) {
		int from = k * chunk, n = k + 1 == gr->rounds ? g.calls - from : chunk;

		/* A case's cost depends on what ran before it (the caches): a new order each turn. */
		for (int i = gr->n - 1; gr->shuffle && i > 0; i--) {
			int j = rnd() % (i + 1), t = order[i];

			order[i] = order[j];
			order[j] = t;
		}
		for (int i = 0; i < gr->n; i++) {
			struct scase *c = &gr->cases[order[i]];
			int next = from + n, nn = k + 2 == gr->rounds ? g.calls - next : chunk;

			time_calls(gr, c, from, n);
			/* The next slice's flows, a whole turn of other cases before they are used. */
			if (c->prep && k + 1 < gr->rounds)
				c->prep(c, next, nn);
		}
	}
	for (int i = 0; i < gr->n; i++)
		gr->cases[i].rep_ns[r] = bench_midmean_u32(gr->cases[i].samples, g.calls);
}

static struct scase *add(struct sgroup *gr, const char *name, int fd, enum kind k,
			 const struct bench_flow *f, int expect)
{
	struct scase *c;

	if (gr->n == MAX_CASES)
		bench_die("%s: too many cases", gr->name);
	c = &gr->cases[gr->n++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->fd = fd;
	c->kind = k;
	if (f)
		c->flow = *f;
	c->expect = expect;
	c->ev = -1;
	c->reason_fd = -1;
	c->rep_ns = calloc(g.reps, sizeof(double));
	c->samples = calloc(g.calls, sizeof(*c->samples));
	if (!c->rep_ns || !c->samples)
		bench_die("out of memory");
	return c;
}

/* An xlb case: its instance, and the admission event each call must count (-1: none). */
static struct scase *add_xlb(struct sgroup *gr, const char *name, struct xlb_bpf *skel,
			     enum kind k, const struct bench_flow *f, int expect, int ev)
{
	struct scase *c = add(gr, name, bpf_program__fd(skel->progs.xlb_balance), k, f, expect);

	c->skel = skel;
	c->ev = ev;
	return c;
}

static void add_floors(struct sgroup *gr)
{
	struct bench_flow f;

	flow_at(0, 0, 0, BENCH_TCP_ACK, &f);
	add(gr, "floor_b", bpf_program__fd(g.fb->progs.floor_tx), K_FIXED, &f, XDP_TX);
	add(gr, "floor_a", bpf_program__fd(g.fa->progs.floor_pass), K_FIXED, &f, XDP_PASS);
}

/* ---- xlb set-up ---- */

/* xlb with @encap and, unless 0, a conntrack of @ct_size entries (a power of two). */
/* xlb with @encap; conntrack and ct_new of @ct_size entries each, unless 0 (the defaults). */
static struct xlb_bpf *load_xlb(__u32 encap, __u32 ct_size)
{
	struct xlb_bpf *skel = xlb_bpf__open();
	struct xlb_config cfg;
	__u32 zero = 0;

	if (!skel)
		bench_die("open xlb skeleton: %s", strerror(errno));
	if (ct_size) {
		bpf_map__set_max_entries(skel->maps.conntrack, ct_size);
		bpf_map__set_max_entries(skel->maps.ct_new, ct_size);
	}
	skel->rodata->xlb_encap = encap;
	skel->rodata->xlb_gue_port = XLB_GUE_PORT_DEFAULT;
	if (xlb_bpf__load(skel))
		bench_die("load xlb (%s): %s", encap == XLB_ENCAP_GUE ? "gue" : "ipip",
			  strerror(errno));
	must(bench_xlb_sources(skel), "sources");
	/* What `xlb attach` writes: the production admission defaults. */
	must(bpf_map_lookup_elem(bpf_map__fd(skel->maps.config), &zero, &cfg), "config");
	cfg.ct_promote_after = XLB_CT_PROMOTE_AFTER_DEFAULT;
	cfg.ct_insert_rate = 0;
	must(bpf_map_update_elem(bpf_map__fd(skel->maps.config), &zero, &cfg, BPF_ANY), "config");
	return skel;
}

/*
 * VIP @id at @key: @n backends from @first of @family, a Maglev table of
 * @size slots;
 * with @prev every slot's previous owner is another of its backends,
 * changed now (so within the chain window); @flags the VIP's.
 */
static void vip_add_sized(struct xlb_bpf *skel, const struct xlb_vip_key *key, __u32 id,
			  __u8 family, __u32 first, __u32 n, int prev, __u8 flags, __u32 size)
{
	struct xlb_vip vip = { .id = id, .table_size = size, .sched = XLB_SCHED_MAGLEV,
			       .flags = flags, .chain_window_s = CHAIN_WINDOW_S };
	__u32 now = table_now_s();
	struct maglev_backend *mb = calloc(n, sizeof(*mb));
	struct xlb_slot *slots = calloc(size, sizeof(*slots));
	__u32 *owners = calloc(size, sizeof(*owners));
	int inner;

	if (!mb || !slots || !owners)
		bench_die("out of memory");
	for (__u32 i = 0; i < n; i++) {
		struct xlb_backend be = { .family = family, .flags = XLB_BE_F_USED, .weight = 1,
					  .vip_id = id };
		__u32 bid = first + i;

		if (family == XLB_AF_INET)
			bench_backend4(bid, be.addr);
		else
			bench_backend6(bid, be.addr);
		must(bpf_map_update_elem(bpf_map__fd(skel->maps.backends), &bid, &be, BPF_ANY),
		     "backend");
		mb[i] = (struct maglev_backend){ .id = bid, .family = family, .weight = 1 };
		memcpy(mb[i].addr, be.addr, sizeof(be.addr));
	}
	must(maglev_build(mb, n, size, owners), "maglev");
	for (__u32 s = 0; s < size; s++) {
		slots[s] = (struct xlb_slot){ .backend = owners[s], .prev = XLB_BACKEND_NONE };
		if (prev) {
			slots[s].prev = first + (owners[s] - first + 1) % n;
			slots[s].changed_s = now;
		}
	}
	inner = table_map_new_slots(slots, size);
	if (inner < 0)
		bench_die("table: %s", strerror(-inner));
	must(bpf_map_update_elem(bpf_map__fd(skel->maps.tables), &id, &inner, BPF_ANY), "tables");
	close(inner);
	must(bench_xlb_filter_add(skel, key, 1), "vip_filter");
	must(bpf_map_update_elem(bpf_map__fd(skel->maps.vips), key, &vip, BPF_ANY), "vips");
	must(bench_xlb_index(skel), "vip_index");
	free(mb);
	free(slots);
	free(owners);
}

/* The same with the default table size. */
static void vip_add(struct xlb_bpf *skel, const struct xlb_vip_key *key, __u32 id, __u8 family,
		    __u32 first, __u32 n, int prev, __u8 flags)
{
	vip_add_sized(skel, key, id, family, first, n, prev, flags, XLB_TABLE_SIZE_DEFAULT);
}

static void key_of(int v6, __u32 vip, struct xlb_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	if (v6)
		bench_vip6(vip, k->addr);
	else
		bench_vip4(vip, k->addr);
	k->port = htons(DPORT_HTTP);
	k->proto = IPPROTO_TCP;
	k->family = v6 ? XLB_AF_INET6 : XLB_AF_INET;
}

/* The encap group's VIPs (the same in both instances): see setup_encap(). */
enum {
	EV_V4,		/* bench_vip4(0): 10 IPv4 backends */
	EV_V4_PREV,	/* bench_vip4(1): slots with a recent previous owner */
	EV_NOCT,	/* bench_vip4(2): stateless */
	EV_NOCT_PREV,	/* bench_vip4(3): stateless, previous owners */
	EV_V4_COUNT,
};

static void encap_vips(struct xlb_bpf *skel)
{
	static const struct { int prev; __u8 flags; } v4[EV_V4_COUNT] = {
		[EV_V4] = { 0, 0 }, [EV_V4_PREV] = { 1, 0 },
		[EV_NOCT] = { 0, XLB_VIP_F_NO_CT }, [EV_NOCT_PREV] = { 1, XLB_VIP_F_NO_CT },
	};
	struct xlb_vip_key k;
	__u32 i;

	for (i = 0; i < EV_V4_COUNT; i++) {
		key_of(0, i, &k);
		vip_add(skel, &k, i, XLB_AF_INET, i * BACKENDS, BACKENDS, v4[i].prev, v4[i].flags);
	}
	key_of(1, 0, &k);	/* IPv6 VIP, IPv6 backends */
	vip_add(skel, &k, i, XLB_AF_INET6, i * BACKENDS, BACKENDS, 0, 0);
}

static void setup_encap(struct sgroup *gr, struct xlb_bpf *ipip, struct xlb_bpf *gue)
{
	struct xlb_bpf *sk[2] = { ipip, gue };
	static const char *const names[2][6] = {
		{ "ipip_non_vip", "ipip_tracked4", "ipip_tracked6", "ipip_new_syn4",
		  "ipip_new_ack4", "ipip_new_syn6" },
		{ "gue_non_vip", "gue_tracked4", "gue_tracked6", "gue_new_syn4", "gue_new_ack4",
		  "gue_new_syn6" },
	};
	static const char *const ack6[2] = { "ipip_new_ack6", "gue_new_ack6" };
	struct bench_flow f;
	struct scase *c;

	encap_vips(ipip);
	encap_vips(gue);
	for (int e = 0; e < 2; e++) {
		flow_at(0, 0, NON_VIP, BENCH_TCP_ACK, &f);
		add_xlb(gr, names[e][0], sk[e], K_FIXED, &f, XDP_PASS, -1);
		flow_at(0, 0, EV_V4, BENCH_TCP_ACK, &f);
		add_xlb(gr, names[e][1], sk[e], K_FIXED, &f, XDP_TX, -1)->hops = e;
		flow_at(0, 1, 0, BENCH_TCP_ACK, &f);
		add_xlb(gr, names[e][2], sk[e], K_FIXED, &f, XDP_TX, -1);
		flow_at(0, 0, EV_V4, BENCH_TCP_SYN, &f);
		add_xlb(gr, names[e][3], sk[e], K_NEW, &f, XDP_TX, XLB_CT_EV_ADMITTED);
		f.tcp_flags = BENCH_TCP_ACK;
		add_xlb(gr, names[e][4], sk[e], K_NEW, &f, XDP_TX, XLB_CT_EV_ADMITTED)->hops = e;
		flow_at(0, 1, 0, BENCH_TCP_SYN, &f);
		add_xlb(gr, names[e][5], sk[e], K_NEW, &f, XDP_TX, XLB_CT_EV_ADMITTED);
		f.tcp_flags = BENCH_TCP_ACK;
		add_xlb(gr, ack6[e], sk[e], K_NEW, &f, XDP_TX, XLB_CT_EV_ADMITTED);
	}
	/* An untracked ACK whose slot changed owner recently: two hops, not tracked. */
	flow_at(0, 0, EV_V4_PREV, BENCH_TCP_ACK, &f);
	c = add_xlb(gr, "gue_2hop_new_ack4", gue, K_NEW, &f, XDP_TX, -1);
	c->hops = 2;
	c = add_xlb(gr, "gue_2hop_same_ack4", gue, K_FIXED, &f, XDP_TX, -1);
	c->hops = 2;
	/* Stateless: no conntrack lookup or insert; one hop, then two. */
	flow_at(0, 0, EV_NOCT, BENCH_TCP_ACK, &f);
	add_xlb(gr, "nct_same_ack4", gue, K_FIXED, &f, XDP_TX, -1)->hops = 1;
	add_xlb(gr, "nct_new_ack4", gue, K_NEW, &f, XDP_TX, -1)->hops = 1;
	f.tcp_flags = BENCH_TCP_SYN;
	add_xlb(gr, "nct_new_syn4", gue, K_NEW, &f, XDP_TX, -1)->hops = 1;
	flow_at(0, 0, EV_NOCT_PREV, BENCH_TCP_ACK, &f);
	add_xlb(gr, "nct_2hop_same_ack4", gue, K_FIXED, &f, XDP_TX, -1)->hops = 2;
	add_xlb(gr, "nct_2hop_new_ack4", gue, K_NEW, &f, XDP_TX, -1)->hops = 2;
}

/* ---- the flood group: conntrack admission ---- */

/* Pool flow @j of @c: its key and its flow on a backend of VIP 0, @young_pkts seen. */
static void pool_flow(const struct scase *c, __u32 j, __u32 young_pkts, __u64 now,
		      struct xlb_flow_key *key, struct xlb_flow *fl)
{
	struct bench_flow f;

	flow_like(&c->flow, c->base + j, &f);
	bench_flow_key(&f, key);
	*fl = (struct xlb_flow){ .vip_id = 0, .backend_id = j % BACKENDS, .last_seen_ns = now,
				 .young_pkts = young_pkts };
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Pool flows @from..@from+@n of @c into conntrack, through its mapping;
 * then counts those a later one of them took the way of (none, unless
 * five of them share a bucket).
 */
static void pool_main(struct scase *c, __u32 from, __u32 n)
{
	__u64 now = now_ns();
	struct xlb_flow_key key;
	struct xlb_flow fl;

	for (__u32 j = from; j < from + n; j++) {
		pool_flow(c, j, 0, now, &key, &fl);
		flowtable_write(flowtable_way(&g.ct, &key), &key, &fl);
	}
	for (__u32 j = from; j < from + n; j++) {
		pool_flow(c, j, 0, now, &key, &fl);
		c->pool_evicted += !flowtable_find(&g.ct, &key);
	}
}

/* The same into ct_new, @young_pkts packets seen. */
static void pool_young(struct scase *c, __u32 young_pkts, __u32 from, __u32 n)
{
	__u64 now = now_ns();
	struct xlb_flow_key key;
	struct xlb_flow fl;

	for (__u32 j = from; j < from + n; j++) {
		pool_flow(c, j, young_pkts, now, &key, &fl);
		flowtable_write(flowtable_way(&g.young, &key), &key, &fl);
	}
	for (__u32 j = from; j < from + n; j++) {
		pool_flow(c, j, young_pkts, now, &key, &fl);
		c->pool_evicted += !flowtable_find(&g.young, &key);
	}
}

/* Tracked in conntrack (again: another case's inserts may have evicted some). */
static void prep_main(struct scase *c, __u32 from, __u32 n)
{
	pool_main(c, from, n);
}

/* Young flows that have carried one packet: each call is a young hit. */
static void prep_young(struct scase *c, __u32 from, __u32 n)
{
	pool_young(c, 1, from, n);
}

/* Young flows one packet short of promotion, none in conntrack: each call promotes one. */
static void prep_promote(struct scase *c, __u32 from, __u32 n)
{
	struct xlb_flow_key key;
	struct xlb_flow fl;

	for (__u32 j = from; j < from + n; j++) {
		struct xlb_ct_entry *e;

		pool_flow(c, j, 0, 0, &key, &fl);
		e = flowtable_find(&g.ct, &key);	/* absent the first time */
		if (e)
			flowtable_clear(e);
	}
	pool_young(c, c->promote_after - 1, from, n);
}

/* A flood case: its admission settings, set before each repetition (0, 0: at once, no cap). */
static struct scase *add_flood(struct sgroup *gr, const char *name, struct xlb_bpf *skel,
			       enum kind k, const struct bench_flow *f, int ev, __u32 promote,
			       __u32 rate)
{
	struct scase *c = add_xlb(gr, name, skel, k, f, XDP_TX, ev);

	c->cfg_set = 1;
	c->promote_after = promote;
	c->insert_rate = rate;
	return c;
}

/* A flood case over a pool of g.calls flows from flow index @base: one per call. */
static void pooled(struct scase *c, __u32 base, void (*prep)(struct scase *, __u32, __u32))
{
	c->pool = g.calls;
	c->base = base;
	c->prep = prep;
}

static void setup_flood(struct sgroup *gr, struct xlb_bpf *skel)
{
	const __u32 dflt = XLB_CT_PROMOTE_AFTER_DEFAULT;
	struct xlb_vip_key k;
	struct bench_flow f;

	key_of(0, 0, &k);
	vip_add(skel, &k, 0, XLB_AF_INET, 0, BACKENDS, 0, 0);
	flow_at(0, 0, 0, BENCH_TCP_ACK, &f);
	add_flood(gr, "main_hit_same", skel, K_FIXED, &f, -1, dflt, 0);
	pooled(add_flood(gr, "main_hit_seq", skel, K_SEQ, &f, -1, dflt, 0), POOL_MAIN_BASE,
	       prep_main);
	pooled(add_flood(gr, "young_hit_seq", skel, K_SEQ, &f, -1, dflt, 0), POOL_YOUNG_BASE,
	       prep_young);
	pooled(add_flood(gr, "promote_seq", skel, K_SEQ, &f, XLB_CT_EV_PROMOTED, dflt, 0),
	       POOL_PROMO_BASE, prep_promote);
	f.tcp_flags = BENCH_TCP_SYN;
	add_flood(gr, "new_direct", skel, K_NEW, &f, XLB_CT_EV_DIRECT, 0, 0);
	add_flood(gr, "new_young", skel, K_NEW, &f, XLB_CT_EV_ADMITTED, dflt, 0);
	add_flood(gr, "new_under_budget", skel, K_NEW, &f, XLB_CT_EV_ADMITTED, dflt,
		  XLB_CT_INSERT_RATE_MAX);
	add_flood(gr, "new_over_budget", skel, K_NEW, &f, XLB_CT_EV_OVER_BUDGET, dflt, 1);
}

/* ---- the decap group ---- */

static void sh(const char *cmd)
{
	if (system(cmd))
		bench_die("command failed: %s", cmd);
}

static void addr_of(int family, const char *s, __u32 *a)
{
	memset(a, 0, 16);
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, s, a) != 1)
		bench_die("bad address %s", s);
}

static void decap_key(int fd, int family, const char *addr)
{
	struct xlb_decap_key k = { .family = family == 4 ? XLB_AF_INET : XLB_AF_INET6 };
	__u8 one = 1;

	addr_of(family, addr, k.addr);
	must(bpf_map_update_elem(fd, &k, &one, BPF_ANY), "decap key");
}

static __u16 csum16(const void *p, size_t len)
{
	const __u16 *w = p;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/*
 * The balancer's copy of @inner (an Ethernet frame from bench_frame) to
 * this host: IPIP (@gue 0) or GUE with @count hops (hop[0] us, hop[1]
 * @next), over IPv4 or IPv6 outer (@family 4 or 6). Written to c->frame.
 */
static void tunnel_frame(struct scase *c, int family, int gue, int count, const char *next)
{
	unsigned char inner[BENCH_FRAME_MAX], *p = c->frame;
	size_t ilen = bench_frame(&c->flow, inner) - ETH_HLEN, hl, ulen;
	__u8 iproto = c->flow.family == XLB_AF_INET ? IPPROTO_IPIP : IPPROTO_IPV6;
	struct xlb_gue_hdr gh = { .proto = iproto };
	__u32 self[4], bal[4], hop1[4] = {};

	addr_of(family, family == 4 ? DC_SELF4 : DC_SELF6, self);
	addr_of(family, family == 4 ? DC_BAL4 : DC_BAL6, bal);
	if (next)
		addr_of(family, next, hop1);
	memset(c->frame, 0, sizeof(c->frame));
	memcpy(p, inner, ETH_HLEN);		/* the same link header */
	hl = family == 4 ? sizeof(struct iphdr) : sizeof(struct ipv6hdr);
	ulen = gue ? sizeof(struct udphdr) + sizeof(gh) +
		     (family == 4 ? sizeof(struct xlb_gue_hops4) : sizeof(struct xlb_gue_hops6))
		   : 0;
	p += ETH_HLEN;
	if (family == 4) {
		struct iphdr *ip = (void *)p;

		((struct ethhdr *)c->frame)->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = 5;
		ip->tot_len = htons(hl + ulen + ilen);
		ip->ttl = 64;
		ip->frag_off = htons(0x4000);
		ip->protocol = gue ? IPPROTO_UDP : iproto;
		ip->saddr = bal[0];
		ip->daddr = self[0];
		ip->check = csum16(ip, sizeof(*ip));
	} else {
		struct ipv6hdr *ip6 = (void *)p;

		((struct ethhdr *)c->frame)->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->payload_len = htons(ulen + ilen);
		ip6->nexthdr = gue ? IPPROTO_UDP : iproto;
		ip6->hop_limit = 64;
		memcpy(&ip6->saddr, bal, 16);
		memcpy(&ip6->daddr, self, 16);
	}
	p += hl;
	if (gue) {
		struct udphdr *uh = (void *)p;

		uh->source = htons(XLB_GUE_SPORT_MIN);
		uh->dest = htons(XLB_GUE_PORT_DEFAULT);
		uh->len = htons(ulen + ilen);
		uh->check = 0;		/* no checksum: the decap program does not verify it */
		p += sizeof(*uh);
		if (family == 4) {
			struct xlb_gue_hops4 h = { .type = htons(XLB_GUE_HOPS_TYPE), .count = count };

			gh.hlen = sizeof(h) / 4;
			h.hop[0] = self[0];
			h.hop[1] = hop1[0];
			memcpy(p, &gh, sizeof(gh));
			memcpy(p + sizeof(gh), &h, sizeof(h));
			p += sizeof(gh) + sizeof(h);
		} else {
			struct xlb_gue_hops6 h = { .type = htons(XLB_GUE_HOPS_TYPE), .count = count };

			gh.hlen = sizeof(h) / 4;
			memcpy(h.hop[0], self, 16);
			memcpy(h.hop[1], hop1, 16);
			memcpy(p, &gh, sizeof(gh));
			memcpy(p + sizeof(gh), &h, sizeof(h));
			p += sizeof(gh) + sizeof(h);
		}
	}
	memcpy(p, inner + ETH_HLEN, ilen);
	c->frame_len = p + ilen - c->frame;
}

/* A listener on the inner VIP and a connection accepted from the client port: fds[3]. */
static void tcp_connection(int fds[3])
{
	struct sockaddr_in vip = { .sin_family = AF_INET, .sin_port = htons(DC_PORT_LISTEN) };
	struct sockaddr_in cl = { .sin_family = AF_INET, .sin_port = htons(DC_CPORT_EST) };
	int one = 1;

	inet_pton(AF_INET, DC_VIP4, &vip.sin_addr);
	inet_pton(AF_INET, DC_CLIENT4, &cl.sin_addr);
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	fds[1] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[0] < 0 || fds[1] < 0 ||
	    setsockopt(fds[0], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fds[0], (struct sockaddr *)&vip, sizeof(vip)) || listen(fds[0], 4) ||
	    bind(fds[1], (struct sockaddr *)&cl, sizeof(cl)) ||
	    connect(fds[1], (struct sockaddr *)&vip, sizeof(vip)))
		bench_die("TCP connection %s -> %s: %s", DC_CLIENT4, DC_VIP4, strerror(errno));
	fds[2] = accept(fds[0], NULL, NULL);
	if (fds[2] < 0)
		bench_die("accept: %s", strerror(errno));
}

static struct decap_bpf *load_decap(void)
{
	struct decap_bpf *dc = decap_bpf__open_and_load();
	struct xlb_lpm4_key k4 = { .prefixlen = 32 };
	struct xlb_lpm6_key k6 = { .prefixlen = 128 };
	__u8 one = 1;

	if (!dc)
		bench_die("load decap: %s", strerror(errno));
	decap_key(bpf_map__fd(dc->maps.decap_addrs), 4, DC_SELF4);
	decap_key(bpf_map__fd(dc->maps.decap_addrs), 6, DC_SELF6);
	decap_key(bpf_map__fd(dc->maps.decap_local), 4, DC_VIP4);
	addr_of(4, DC_BAL4, &k4.addr);
	addr_of(6, DC_BAL6, k6.addr);
	must(bpf_map_update_elem(bpf_map__fd(dc->maps.decap_from4), &k4, &one, BPF_ANY), "from4");
	must(bpf_map_update_elem(bpf_map__fd(dc->maps.decap_from6), &k6, &one, BPF_ANY), "from6");
	return dc;
}

static struct scase *add_decap(struct sgroup *gr, struct decap_bpf *dc, const char *name,
			       __u16 cport, __u16 dport, int expect, int reason)
{
	struct bench_flow f = { .family = XLB_AF_INET, .proto = IPPROTO_TCP,
				.tcp_flags = BENCH_TCP_ACK, .sport = cport, .dport = dport };
	struct scase *c;

	addr_of(4, DC_CLIENT4, f.src);
	addr_of(4, DC_VIP4, f.dst);
	c = add(gr, name, bpf_program__fd(dc->progs.xlb_decap), K_FIXED, &f, expect);
	c->reason_fd = bpf_map__fd(dc->maps.reasons);
	c->reason = reason;
	return c;
}

static void setup_decap(struct sgroup *gr, struct decap_bpf *dc)
{
	add_decap(gr, dc, "not_tunnel", DC_CPORT_OTHER, DC_PORT_LISTEN, XDP_PASS, XLB_DECAP_PASS);
	tunnel_frame(add_decap(gr, dc, "ipip4_strip", DC_CPORT_OTHER, DC_PORT_LISTEN, XDP_PASS,
			       XLB_DECAP_OK), 4, 0, 0, NULL);
	tunnel_frame(add_decap(gr, dc, "gue4_last_hop", DC_CPORT_OTHER, DC_PORT_LISTEN, XDP_PASS,
			       XLB_DECAP_LAST_HOP), 4, 1, 1, NULL);
	tunnel_frame(add_decap(gr, dc, "gue4_owned", DC_CPORT_EST, DC_PORT_LISTEN, XDP_PASS,
			       XLB_DECAP_OWNED), 4, 1, 2, DC_NEXT4);
	tunnel_frame(add_decap(gr, dc, "gue4_chain_listener", DC_CPORT_OTHER, DC_PORT_LISTEN,
			       XDP_TX, XLB_DECAP_CHAIN_TX), 4, 1, 2, DC_NEXT4);
	tunnel_frame(add_decap(gr, dc, "gue4_chain_nosock", DC_CPORT_OTHER, DC_PORT_NONE, XDP_TX,
			       XLB_DECAP_CHAIN_TX), 4, 1, 2, DC_NEXT4);
	tunnel_frame(add_decap(gr, dc, "ipip6_strip", DC_CPORT_OTHER, DC_PORT_LISTEN, XDP_PASS,
			       XLB_DECAP_OK), 6, 0, 0, NULL);
	tunnel_frame(add_decap(gr, dc, "gue6_last_hop", DC_CPORT_OTHER, DC_PORT_LISTEN, XDP_PASS,
			       XLB_DECAP_LAST_HOP), 6, 1, 1, NULL);
	tunnel_frame(add_decap(gr, dc, "gue6_owned", DC_CPORT_EST, DC_PORT_LISTEN, XDP_PASS,
			       XLB_DECAP_OWNED), 6, 1, 2, DC_NEXT6);
	tunnel_frame(add_decap(gr, dc, "gue6_chain_listener", DC_CPORT_OTHER, DC_PORT_LISTEN,
			       XDP_TX, XLB_DECAP_CHAIN_TX), 6, 1, 2, DC_NEXT6);
}

/* ---- running and printing ---- */

static void print_stat(const char *key, double *v, int n)
{
	double *tmp = malloc(n * sizeof(*tmp));
	struct bench_stat s;

	memcpy(tmp, v, n * sizeof(*tmp));
	s = bench_summary(tmp, n);
	printf("\"%s\":{\"med\":%.2f,\"min\":%.2f,\"max\":%.2f}", key, s.med, s.min, s.max);
	free(tmp);
}

/*
 * Untimed: a fixed frame WARM_CALLS times (its flow ends in conntrack),
 * any other case once; the action, that xlb encapsulated, and the hop
 * count checked.
 */
static void warm(struct sgroup *gr, struct scase *c)
{
	unsigned char frame[FRAME_CAP], out[FRAME_CAP];
	int calls = c->kind == K_FIXED ? WARM_CALLS : 1;
	size_t len, olen;

	if (c->cfg_set)
		case_config(c);
	len = case_frame(c, 0, frame);
	for (int i = 0; i < calls; i++) {
		struct xdp_md ctx = { .data_end = len, .ingress_ifindex = g.ifindex };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
			    .data_out = out, .data_size_out = sizeof(out), .ctx_in = &ctx,
			    .ctx_size_in = sizeof(ctx), .repeat = 1);

		if (bpf_prog_test_run_opts(c->fd, &o))
			bench_die("%s/%s: warm-up failed: %s", gr->name, c->name, strerror(errno));
		olen = o.data_size_out;
		if ((int)o.retval != c->expect)
			bench_die("%s/%s: warm-up action %d, expected %d", gr->name, c->name,
				  o.retval, c->expect);
		if (c->skel && c->expect == XDP_TX && olen <= len)
			bench_die("%s/%s: sent %zu bytes for %zu: not encapsulated", gr->name,
				  c->name, olen, len);
		if (c->hops && gue4_hops(out, olen) != c->hops)
			bench_die("%s/%s: %d hops, expected %d", gr->name, c->name,
				  gue4_hops(out, olen), c->hops);
	}
}

static void run_group(struct sgroup *gr, double setup_s)
{
	static const char *const ev_names[XLB_CT_EV_MAX] = XLB_CT_EVENT_NAMES;
	static const char *const reason_names[XLB_REASON_MAX] = XLB_REASON_NAMES;
	double *ratio = calloc(g.reps, sizeof(double)), *ratio_a = calloc(g.reps, sizeof(double));

	for (int i = 0; i < gr->n; i++) {
		warm(gr, &gr->cases[i]);
	}
	if (gr->rounds < 1)
		gr->rounds = 1;
	for (int r = 0; r < g.reps; r++)
		time_rep(gr, r);

	printf("%s{\"group\":\"%s\",\"dim\":\"%s\",\"x\":%g,\"setup_s\":%.2f,\"cases\":[",
	       g.first ? "" : ",", gr->name, gr->dim, gr->x, setup_s);
	g.first = 0;
	for (int i = 0; i < gr->n; i++) {
		struct scase *c = &gr->cases[i];

		for (int r = 0; r < g.reps; r++) {
			ratio[r] = c->rep_ns[r] / gr->cases[0].rep_ns[r];
			ratio_a[r] = c->rep_ns[r] / gr->cases[1].rep_ns[r];
		}
		printf("%s{\"name\":\"%s\",", i ? "," : "", c->name);
		print_stat("ns", c->rep_ns, g.reps);
		putchar(',');
		print_stat("ratio_b", ratio, g.reps);
		putchar(',');
		print_stat("ratio_a", ratio_a, g.reps);
		printf(",\"calls\":%llu", (unsigned long long)c->calls);
		if (c->kind == K_RANDOM)
			printf(",\"flows\":%u", c->pool);
		if (c->prep == prep_main)
			printf(",\"pool_evicted\":%llu", (unsigned long long)c->pool_evicted);
		if (c->hops)
			printf(",\"hops\":%d", c->hops);
		if (c->skel) {
			printf(",\"events\":{");
			for (int e = 0; e < XLB_CT_EV_MAX; e++)
				printf("%s\"%s\":%llu", e ? "," : "", ev_names[e],
				       (unsigned long long)c->events[e]);
			printf("}");
			if (c->ev >= 0)
				printf(",\"expect_event\":\"%s\"", ev_names[c->ev]);
		}
		if (c->reason_fd >= 0)
			printf(",\"expect_reason\":\"%s\",\"reason_count\":%llu",
			       reason_names[c->reason], (unsigned long long)c->reason_count);
		putchar('}');
	}
	printf("]}\n");
	fflush(stdout);
	for (int i = 0; i < gr->n; i++) {
		free(gr->cases[i].rep_ns);
		free(gr->cases[i].samples);
	}
	free(ratio);
	free(ratio_a);
}

static void group_encap(void)
{
	struct sgroup *gr = calloc(1, sizeof(*gr));
	double t0 = bench_now();
	struct xlb_bpf *ipip = load_xlb(XLB_ENCAP_IPIP, 0),
		       *gue = load_xlb(XLB_ENCAP_GUE, 0);

	gr->name = "encap";
	gr->dim = "";
	gr->rounds = ROUNDS;
	gr->shuffle = 1;
	add_floors(gr);
	setup_encap(gr, ipip, gue);
	fprintf(stderr, "second: encap: set up in %.1f s\n", bench_now() - t0);
	run_group(gr, bench_now() - t0);
	xlb_bpf__destroy(ipip);
	xlb_bpf__destroy(gue);
	free(gr);
}

/*
 * The stateless curve: one instance (a stateless VIP keeps nothing per
 * flow, so the number of flows is only that of the tuples sent), every x
 * point a case of the same repetitions: a random one of N flows per call,
 * beside one flow again and again and a new flow every call.
 */
static void group_stateless(void)
{
	static const __u32 curve[] = { 1000, 100000, 1000000, 10000000 };
	static const char *const names[] = { "hit_1k", "hit_100k", "hit_1m", "hit_10m" };
	struct sgroup *gr = calloc(1, sizeof(*gr));
	double t0 = bench_now();
	struct xlb_bpf *gue = load_xlb(XLB_ENCAP_GUE, 0);
	struct xlb_vip_key k;
	struct bench_flow f;
	struct scase *c;

	gr->name = "stateless";
	gr->dim = "flows";
	gr->rounds = ROUNDS;
	gr->shuffle = 1;
	add_floors(gr);
	key_of(0, 0, &k);
	vip_add(gue, &k, 0, XLB_AF_INET, 0, BACKENDS, 0, XLB_VIP_F_NO_CT);
	flow_at(0, 0, NON_VIP, BENCH_TCP_ACK, &f);
	add_xlb(gr, "non_vip", gue, K_FIXED, &f, XDP_PASS, -1);
	flow_at(0, 0, 0, BENCH_TCP_ACK, &f);
	add_xlb(gr, "same", gue, K_FIXED, &f, XDP_TX, -1)->hops = 1;
	for (size_t i = 0; i < sizeof(curve) / sizeof(curve[0]); i++) {
		if (g.quick && curve[i] > 1000000)
			continue;	/* the quick run's curve ends at 1 M, as pktcost's */
		c = add_xlb(gr, names[i], gue, K_RANDOM, &f, XDP_TX, -1);
		c->pool = curve[i];
		c->hops = 1;
	}
	add_xlb(gr, "new_ack", gue, K_NEW, &f, XDP_TX, -1)->hops = 1;
	f.tcp_flags = BENCH_TCP_SYN;
	add_xlb(gr, "new_syn", gue, K_NEW, &f, XDP_TX, -1)->hops = 1;
	/*
	 * The control of the table's share: the same at the ends of the curve
	 * on a stateless VIP whose table has 1,021 slots (16 kB, not 1 MB).
	 */
	key_of(0, 1, &k);
	vip_add_sized(gue, &k, 1, XLB_AF_INET, BACKENDS, BACKENDS, 0, XLB_VIP_F_NO_CT,
		      SMALL_TABLE);
	flow_at(0, 0, 1, BENCH_TCP_ACK, &f);
	c = add_xlb(gr, "small_hit_1k", gue, K_RANDOM, &f, XDP_TX, -1);
	c->pool = curve[0];
	c->hops = 1;
	c = add_xlb(gr, "small_hit_max", gue, K_RANDOM, &f, XDP_TX, -1);
	c->pool = g.quick ? curve[2] : curve[3];
	c->hops = 1;
	add_xlb(gr, "small_new_ack", gue, K_NEW, &f, XDP_TX, -1)->hops = 1;
	fprintf(stderr, "second: stateless: set up in %.1f s\n", bench_now() - t0);
	run_group(gr, bench_now() - t0);
	xlb_bpf__destroy(gue);
	free(gr);
}

static void group_flood(void)
{
	struct sgroup *gr = calloc(1, sizeof(*gr));
	double t0 = bench_now();
	/* Twice its pools (main, promoted) and the direct case's new flows (g.calls a rep). */
	struct xlb_bpf *skel = load_xlb(XLB_ENCAP_IPIP, flowtable_size_for(
		CT_ROOM * ((__u64)g.calls * (g.reps + 2) + CT_SLACK)));

	if (flowtable_open(bpf_map__fd(skel->maps.conntrack), &g.ct) ||
	    flowtable_open(bpf_map__fd(skel->maps.ct_new), &g.young))
		bench_die("map conntrack: %s", strerror(errno));
	gr->name = "flood";
	gr->dim = "";
	gr->rounds = ROUNDS;	/* each pool case makes its slice ready before it */
	add_floors(gr);
	setup_flood(gr, skel);
	fprintf(stderr, "second: flood: set up in %.1f s\n", bench_now() - t0);
	run_group(gr, bench_now() - t0);
	flowtable_close(&g.ct);
	flowtable_close(&g.young);
	xlb_bpf__destroy(skel);
	free(gr);
}

static void group_decap(void)
{
	struct sgroup *gr = calloc(1, sizeof(*gr));
	double t0 = bench_now();
	struct decap_bpf *dc;
	int fds[3];

	/* The inner VIP and client on lo, as on a backend (this namespace is bench/run.sh's). */
	sh("ip addr add " DC_VIP4 "/32 dev lo && ip addr add " DC_CLIENT4 "/32 dev lo");
	tcp_connection(fds);
	dc = load_decap();
	gr->name = "decap";
	gr->dim = "";
	gr->rounds = ROUNDS;
	gr->shuffle = 1;
	add_floors(gr);
	setup_decap(gr, dc);
	fprintf(stderr, "second: decap: set up in %.1f s\n", bench_now() - t0);
	run_group(gr, bench_now() - t0);
	decap_bpf__destroy(dc);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	free(gr);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "calls", required_argument, NULL, 'c' },
		{ "reps", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ "katran", required_argument, NULL, 'k' },	/* run.sh passes it to all: unused */
		{},
	};
	const char *only = "";
	int opt;

	g.calls = 100000;
	g.reps = 5;
	g.rng = 0x9e3779b97f4a7c15ULL;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			g.quick = 1;
			g.calls = 10000;
			break;
		case 'c':
			g.calls = atoi(optarg);
			break;
		case 'r':
			g.reps = atoi(optarg);
			break;
		case 'o':
			only = optarg;
			break;
		case 'k':
			break;
		default:
			fprintf(stderr, "usage: second [--quick] [--calls N] [--reps N] "
				"[--only encap|stateless|decap|flood]\n");
			return 2;
		}
	}
	if (g.calls < 1 || g.reps < 1)
		bench_die("--calls and --reps must be positive");
	g.ifindex = if_nametoindex(BENCH_IFACE);
	if (!g.ifindex)
		bench_die("no interface %s: run inside the bench namespace (bench/run.sh)",
			  BENCH_IFACE);
	bench_pin(PIN_CPU);
	g.fa = floor_pass_bpf__open_and_load();
	g.fb = floor_tx_bpf__open_and_load();
	if (!g.fa || !g.fb)
		bench_die("load floors: %s", strerror(errno));
	g.first = 1;
	printf("{\"calls\":%d,\"reps\":%d,\"quick\":%s,\"cpu\":%d,\"promote_after\":%d,"
	       "\"chain_window_s\":%d,\"groups\":[\n", g.calls, g.reps,
	       g.quick ? "true" : "false", PIN_CPU, XLB_CT_PROMOTE_AFTER_DEFAULT, CHAIN_WINDOW_S);
	if (!*only || !strcmp(only, "encap"))
		group_encap();
	if (!*only || !strcmp(only, "stateless"))
		group_stateless();
	if (!*only || !strcmp(only, "decap"))
		group_decap();
	if (!*only || !strcmp(only, "flood"))
		group_flood();
	printf("]}\n");
	floor_pass_bpf__destroy(g.fa);
	floor_tx_bpf__destroy(g.fb);
	return 0;
}
