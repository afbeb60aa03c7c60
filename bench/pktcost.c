// SPDX-License-Identifier: GPL-2.0
/*
 * Per-packet cost (issue 6, part 1). Loads xlb's balancer and the two floor
 * programs in this process, configures xlb through its map fds, and times
 * single BPF_PROG_TEST_RUN calls (repeat = 1: the kernel's repeat loop
 * would re-run on the frame the previous run already encapsulated) with
 * ingress_ifindex set to the bench veth, whose gateway is a permanent
 * neighbour, so bpf_fib_lookup succeeds and every VIP packet is really
 * encapsulated (the action is checked on every call).
 *
 * A group is one load of xlb with one configuration. Each repetition of a
 * group times floor (b), floor (a) and every case, `calls` calls each, and
 * keeps each one's interquartile mean (bench_midmean_u32()); a figure is
 * the median (min, max) of those over the repetitions, and its ratio is
 * taken per repetition against floor (b) of the same repetition. Writes one JSON document to stdout.
 *
 * With --katran DIR, both builds of Katran's balancer found there (katran.h)
 * run beside xlb: the base table's non-VIP, tracked and new-flow cases and
 * the flows curve are timed on each, right after xlb, in the same
 * repetition, on the same frames (the same random flows, the same new
 * tuples: each program has its own flow table). The process is pinned to one
 * CPU, because Katran keeps one LRU per CPU, and the tracked flows are in the
 * LRU of that CPU, as RSS would keep them. A build that is not there is
 * written as null.
 *
 * Where the time goes (issue 12; the VM has no PMU to sample): the base
 * group also times its tracked IPv4 flow and its new SYN on copies of xlb
 * that return XDP_TX right after one step (rodata xlb_bench_stop of the
 * bench-only build of bpf/xlb.bpf.c, bpf/lib/stop.h), the same frames in
 * the same repetitions: a step's cost is the difference between two stops.
 *
 * xlb's conntrack is a set-associative flow table (bpf/lib/conntrack.h),
 * which evicts before it is full (a bucket's ways can fill while others
 * are empty): each group sizes it at the power of two that holds twice its
 * tracked flows and the new flows its cases insert, fills it through its
 * mapping (user/lib/flowtable.h: memory writes, no syscall a flow), and
 * its hit case only sends the tracked flows that are still there after the
 * fill (how many the fill evicted is written beside). Katran's LRUs and
 * floor (c)'s keep the sizes an LRU needs: the tracked flows x 1.25 and
 * the same new-flow room. A curve point also gives the memory of xlb's
 * conntrack and of Katran's LRU (fdinfo's memlock) per tracked flow.
 *
 * Run inside the namespace bench/run.sh makes: nsenter --net=... pktcost.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchlib.h"
#include "katran.h"
#include "xlb.skel.h"
#include "xlb_stops.skel.h"
#include "floor_pass.skel.h"
#include "floor_tx.skel.h"
#include "floor_ct.skel.h"
#include "flowtable.h"
#include "lib/stop.h"

#define BACKENDS_DEFAULT	10
#define CLIENT_PORT_BITS	14		/* flow j: client j >> 14, port 1024 + low bits */
#define CLIENT_PORT_BASE	1024
#define NEW_CLIENT_BASE		(1u << 20)	/* new flows' clients never meet tracked ones */
#define SYNC_DRAIN_EVERY	1024		/* calls between two reads of the sync ring */
#define SPREAD_FLOWS		100000		/* tracked flows the VIP and backend curves spread over */
#define VIP_TABLE_SMALL		1021		/* table of each VIP in the VIP curve (prime) */
#define DPORT_HTTP		80
#define DPORT_DNS		53
#define DPORT_OTHER		8080
#define DPORT_NAT		81		/* the NAT VIP: VIP 0's address, this port */
#define NAT_SNAT_PORT		2000		/* the pre-made NAT flow's SNAT port */
#define NAT_SNAT_ADDR		0x0ac80001	/* 10.200.0.1 (the balancer's veth) and the next 7 */
/* VIP tables inserted per batch: their fds stay open until then (a 20k fd limit here). */
#define VIP_CHUNK		4096
#define PIN_CPU			0	/* the CPU every test run runs on */
#define INSERT_SAMPLES		1000	/* new flows looked up afterwards in Katran's LRU */
#define CT_SLACK		1024	/* conntrack room beyond the inserts: fixed flows, free lists */

enum kind {
	K_FIXED,	/* the same frame every call */
	K_TRACKED,	/* a random one of `flows` pre-tracked flows over `vips` VIPs */
	K_NEW,		/* a 5-tuple never seen before, every call */
};

/*
 * P_XLB_NOHOOKS: the same program and maps with the trace hooks compiled
 * out (rodata xlb_trace_hooks = 0): what `xlb trace`'s hooks cost while no
 * trace runs is the difference. P_XLB_STOP: the same again, told to return
 * XDP_TX after step ccase.stop (rodata xlb_bench_stop, lib/stop.h): where
 * the time goes is the difference between two stops.
 */
enum prog { P_XLB, P_FLOOR_A, P_FLOOR_B, P_FLOOR_C, P_XLB_NOHOOKS, P_XLB_STOP };

struct ccase {
	const char *name;
	enum prog prog;
	enum kind kind;
	struct bench_flow flow;		/* K_FIXED: the frame; others: the template */
	int expect;			/* XDP action every call must return */
	double *rep_ns;			/* per repetition: interquartile mean ns */
	__u64 misses;			/* K_TRACKED: calls that were new flows after all */
	int katran;			/* also timed on each Katran build */
	int sync;			/* with config.sync_report on (xlb sync set) */
	int nat;			/* a NAT case: the frame leaves rewritten, not longer */
	enum xlb_stop stop;		/* P_XLB_STOP: the step it stops after */
	int own_ct;			/* P_XLB_STOP: on the copy with a conntrack of its own */
	struct {
		double *rep_ns;
		__u64 misses;		/* Katran's LRU misses over all its calls */
		__u64 sampled, inserted; /* K_NEW: sampled new flows found in its LRU */
	} kat[KATRAN_BUILDS];
};

struct group {
	const char *name;
	const char *dim;		/* the curve it belongs to, "" for the base table */
	double x;			/* its value on that curve */
	__u32 vips, be_per_vip, table_size, flows;
	__u64 ct_size;			/* xlb's conntrack entries: a power of two */
	__u64 lru_size;			/* Katran's LRUs' and floor (c)'s entries */
	__u32 *present;			/* a curve's tracked flows in conntrack after the fill */
	__u32 npresent;
	__u64 ct_evicted;		/* ct_events "evicted" over the timed calls */
	long long ct_bytes, lru_bytes;	/* memlock: xlb's conntrack, Katran's LRU of PIN_CPU */
	int katran;			/* its Katran cases run too */
	int stops;			/* a base group: its stop cases run too */
	struct ccase cases[32];
	int ncases;
	double setup_s, fill_s;		/* fill_s: of that, xlb's conntrack fill and its check */
};

static struct {
	int calls, reps, quick, ifindex;
	struct floor_pass_bpf *fa;
	struct floor_tx_bpf *fb;
	struct floor_ct_bpf *fc;	/* per base group: its LRU sized like Katran's */
	struct xlb_bpf *nohooks;	/* per base group: xlb without trace hooks, xlb's maps */
	/*
	 * Per base group with stops: xlb stopped after each step ([..][0]:
	 * not stopped), sharing every map ([0][..]) or all but conntrack
	 * ([1][..]). NULL where no case needs that copy.
	 */
	struct xlb_stops_bpf *stopped[2][XLB_STOP_COUNT];
	struct ring_buffer *sync_rb;	/* per base group: the sync events' consumer (the agent's part) */
	__u64 sync_events;		/* events it consumed */
	__u64 rng, new_seq;
	__u32 *samples;
	int first_group;
	const char *katran_dir;
	struct katran *kat[KATRAN_BUILDS];	/* NULL: that build is not measured */
} g;

static __u64 rnd(void)
{
	g.rng ^= g.rng << 13;
	g.rng ^= g.rng >> 7;
	g.rng ^= g.rng << 17;
	return g.rng;
}

/* Tracked flow j of a curve: its client, port and VIP (IPv4 TCP to port 80). */
static void tracked_flow(__u32 j, __u32 vips, struct bench_flow *f)
{
	memset(f, 0, sizeof(*f));
	f->family = XLB_AF_INET;
	f->proto = IPPROTO_TCP;
	f->tcp_flags = BENCH_TCP_ACK;
	bench_client4(j >> CLIENT_PORT_BITS, f->src);
	f->sport = CLIENT_PORT_BASE + (j & ((1u << CLIENT_PORT_BITS) - 1));
	bench_vip4(j % vips, f->dst);
	f->dport = DPORT_HTTP;
}

static void new_flow_at(__u64 k, struct bench_flow *f, __u32 vips)
{
	bench_client4(NEW_CLIENT_BASE + (k >> CLIENT_PORT_BITS), f->src);
	f->sport = CLIENT_PORT_BASE + (k & ((1u << CLIENT_PORT_BITS) - 1));
	bench_vip4(k % vips, f->dst);
}

static void new_flow(struct bench_flow *f, __u32 vips)
{
	new_flow_at(g.new_seq++, f, vips);
}

/* VIPs a case's new flows are spread over: the base table's others are of other kinds. */
static __u32 new_flow_vips(const struct group *gr)
{
	return *gr->dim ? gr->vips : 1;
}

static int prog_fd(struct xlb_bpf *skel, const struct ccase *c)
{
	switch (c->prog) {
	case P_FLOOR_A:
		return bpf_program__fd(g.fa->progs.floor_pass);
	case P_FLOOR_B:
		return bpf_program__fd(g.fb->progs.floor_tx);
	case P_FLOOR_C:
		return bpf_program__fd(g.fc->progs.floor_ct_tx);
	case P_XLB_NOHOOKS:
		return bpf_program__fd(g.nohooks->progs.xlb_balance);
	case P_XLB_STOP:
		return bpf_program__fd(g.stopped[c->own_ct][c->stop]->progs.xlb_balance);
	default:
		return bpf_program__fd(skel->progs.xlb_balance);
	}
}

static __u64 new_flows_total(struct xlb_bpf *skel, __u32 vips)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xlb_counters *c = calloc(ncpu, sizeof(*c));
	__u64 sum = 0;

	for (__u32 v = 0; v < vips; v++) {
		if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.vip_stats), &v, c))
			continue;
		for (int i = 0; i < ncpu; i++)
			sum += c[i].new_flows;
	}
	free(c);
	return sum;
}

/* Times g.calls calls of @fd on @c's frames; returns the mean of their middle half (ns). */
static double time_calls(int fd, struct group *gr, struct ccase *c, const char *who)
{
	unsigned char frame[BENCH_FRAME_MAX];
	struct bench_flow f = c->flow;
	size_t len = bench_frame(&f, frame);
	int act, n = 0;

	for (int i = 0; i < g.calls; i++) {
		long ns;

		if (c->kind == K_TRACKED) {
			tracked_flow(gr->present[rnd() % gr->npresent], gr->vips, &f);
			len = bench_frame(&f, frame);
		} else if (c->kind == K_NEW) {
			new_flow(&f, new_flow_vips(gr));
			len = bench_frame(&f, frame);
		}
		ns = bench_run_once(fd, g.ifindex, frame, len, &act, NULL);
		/* As the agent would, outside the timed run: the ring never fills. */
		if (c->sync && !(i % SYNC_DRAIN_EVERY))
			ring_buffer__consume(g.sync_rb);
		if (ns < 0)
			bench_die("%s/%s (%s): test run failed: %s", gr->name, c->name, who,
				  strerror(errno));
		if (act != c->expect)
			bench_die("%s/%s (%s): action %d, expected %d", gr->name, c->name, who, act,
				  c->expect);
		g.samples[n++] = ns;
	}
	return bench_midmean_u32(g.samples, n);
}

/* Session sync's reporting (config.sync_report) on or off. */
static void set_sync(struct xlb_bpf *skel, int on)
{
	struct xlb_config cfg;
	__u32 zero = 0;
	int fd = bpf_map__fd(skel->maps.config);

	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		bench_die("config: %s", strerror(errno));
	cfg.sync_report = on;
	if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
		bench_die("config: %s", strerror(errno));
}

static int count_sync_event(void *ctx, void *data, size_t size)
{
	g.sync_events++;
	return 0;
}

static double time_case(struct xlb_bpf *skel, struct group *gr, struct ccase *c)
{
	__u64 before = 0;
	double ns;

	if (c->kind == K_TRACKED)
		before = new_flows_total(skel, gr->vips);
	if (c->sync)
		set_sync(skel, 1);
	ns = time_calls(prog_fd(skel, c), gr, c, "xlb");
	if (c->sync) {
		set_sync(skel, 0);
		ring_buffer__consume(g.sync_rb);
	}
	if (c->kind == K_TRACKED)
		c->misses += new_flows_total(skel, gr->vips) - before;
	return ns;
}

/* How many of the new flows from sequence number @first on Katran has in its LRU. */
static void sample_inserted(struct katran *k, struct group *gr, struct ccase *c, int b,
			    __u64 first)
{
	__u64 step = g.calls > INSERT_SAMPLES ? g.calls / INSERT_SAMPLES : 1;
	struct katran_flow_key key;
	struct bench_flow f = c->flow;

	for (__u64 i = 0; i < (__u64)g.calls; i += step) {
		new_flow_at(first + i, &f, new_flow_vips(gr));
		katran_flow_key(&f, &key);
		c->kat[b].sampled++;
		c->kat[b].inserted += katran_is_tracked(k, PIN_CPU, &key);
	}
}

static double time_katran(struct group *gr, struct ccase *c, int b)
{
	struct katran *k = g.kat[b];
	__u64 before, first = g.new_seq;
	double ns;

	if (c->kind == K_FIXED && c->expect == XDP_TX) {
		/* One tracked flow: in the LRU whatever the new flows evicted before. */
		struct katran_flow_key key;

		katran_flow_key(&c->flow, &key);
		katran_track(k, PIN_CPU, &key, 1);
	}
	before = katran_lru_misses(k);
	ns = time_calls(katran_prog_fd(k), gr, c, katran_key[b]);
	c->kat[b].misses += katran_lru_misses(k) - before;
	if (c->kind == K_NEW)
		sample_inserted(k, gr, c, b, first);
	return ns;
}

/*
 * One repetition of case @c: xlb, then each Katran build on the same frames
 * (the random generator and the new-flow counter rewound for each).
 */
static void time_rep(struct xlb_bpf *skel, struct group *gr, struct ccase *c, int r)
{
	__u64 rng = g.rng, seq = g.new_seq;

	c->rep_ns[r] = time_case(skel, gr, c);
	if (!c->katran)
		return;
	for (int b = 0; b < KATRAN_BUILDS; b++) {
		if (!g.kat[b])
			continue;
		g.rng = rng;
		g.new_seq = seq;
		c->kat[b].rep_ns[r] = time_katran(gr, c, b);
	}
}

static void add_case(struct group *gr, const char *name, enum prog p, enum kind k,
		     const struct bench_flow *f, int expect)
{
	struct ccase *c;

	if (gr->ncases == sizeof(gr->cases) / sizeof(gr->cases[0]))
		bench_die("%s: more than %d cases", gr->name, gr->ncases);
	c = &gr->cases[gr->ncases++];

	c->name = name;
	c->prog = p;
	c->kind = k;
	c->flow = *f;
	c->expect = expect;
	c->rep_ns = calloc(g.reps, sizeof(double));
	for (int b = 0; b < KATRAN_BUILDS; b++)
		c->kat[b].rep_ns = calloc(g.reps, sizeof(double));
}

/* The last case added also runs on Katran, if its group does. */
static void katran_too(struct group *gr)
{
	gr->cases[gr->ncases - 1].katran = gr->katran;
}

static struct bench_flow flow4(__u32 vip, __u8 proto, __u16 dport, __u8 flags)
{
	struct bench_flow f = { .family = XLB_AF_INET, .proto = proto, .tcp_flags = flags,
				.sport = CLIENT_PORT_BASE, .dport = dport };

	bench_client4(0, f.src);
	bench_vip4(vip, f.dst);
	return f;
}

static struct bench_flow flow6(__u32 vip)
{
	struct bench_flow f = { .family = XLB_AF_INET6, .proto = IPPROTO_TCP,
				.tcp_flags = BENCH_TCP_ACK, .sport = CLIENT_PORT_BASE,
				.dport = DPORT_HTTP };

	bench_client6(0, f.src);
	bench_vip6(vip, f.dst);
	return f;
}

static void vip_key4(__u32 i, __u8 proto, __u16 port, struct xlb_vip_key *k)
{
	memset(k, 0, sizeof(*k));
	bench_vip4(i, k->addr);
	k->port = htons(port);
	k->proto = proto;
	k->family = XLB_AF_INET;
}

static void must(int err, const char *what)
{
	if (err)
		bench_die("%s: %s", what, strerror(err < 0 ? -err : err));
}

/* The base table: one VIP of each kind, 10 backends each, default table sizes. */
static void base_vips(struct xlb_bpf *skel)
{
	struct xlb_vip_key k;
	__u32 n = BACKENDS_DEFAULT;

	vip_key4(0, IPPROTO_TCP, DPORT_HTTP, &k);
	must(bench_xlb_vip(skel, &k, 0, XLB_TABLE_SIZE_DEFAULT, XLB_AF_INET, 0, n, NULL), "vip 0");
	memset(&k, 0, sizeof(k));
	bench_vip6(0, k.addr);
	k.port = htons(DPORT_HTTP);
	k.proto = IPPROTO_TCP;
	k.family = XLB_AF_INET6;
	must(bench_xlb_vip(skel, &k, 1, XLB_TABLE_SIZE_DEFAULT, XLB_AF_INET6, n, n, NULL), "vip 1");
	vip_key4(1, IPPROTO_TCP, DPORT_HTTP, &k);
	must(bench_xlb_vip(skel, &k, 2, XLB_TABLE_SIZE_DEFAULT, XLB_AF_INET6, 2 * n, n, NULL), "vip 2");
	vip_key4(2, IPPROTO_UDP, DPORT_DNS, &k);
	must(bench_xlb_vip(skel, &k, 3, XLB_TABLE_SIZE_DEFAULT, XLB_AF_INET, 3 * n, n, NULL), "vip 3");
	vip_key4(3, IPPROTO_TCP, 0, &k);
	must(bench_xlb_vip(skel, &k, 4, XLB_TABLE_SIZE_DEFAULT, XLB_AF_INET, 4 * n, n, NULL), "vip 4");
}

/*
 * Whether a new flow stopped at @st (XLB_STOP_NONE: not stopped) is
 * inserted into conntrack: the stops before the backend never get there.
 */
static int stop_inserts(enum xlb_stop st)
{
	return st == XLB_STOP_NONE || st >= XLB_STOP_BACKEND;
}

/* Whether case @c's calls put new flows into xlb's main conntrack. */
static int inserts_flows(const struct ccase *c)
{
	if (c->kind != K_NEW || c->nat)
		return 0;
	if (c->prog == P_XLB_STOP)
		return !c->own_ct && stop_inserts(c->stop);
	return c->prog == P_XLB || c->prog == P_XLB_NOHOOKS;
}

/* Case @name_stopN: @name's frames on the copy of xlb stopped after step @st. */
static void add_stop(struct group *gr, const char *name, enum xlb_stop st, enum kind k,
		     const struct bench_flow *f)
{
	char *n;

	if (asprintf(&n, "%s_stop%d", name, st) < 0)
		bench_die("case name: %s", strerror(errno));
	add_case(gr, n, P_XLB_STOP, k, f, XDP_TX);
	gr->cases[gr->ncases - 1].stop = st;
	gr->cases[gr->ncases - 1].own_ct = k == K_NEW && stop_inserts(st);
}

/*
 * Case @name stopped after each step in turn (P_XLB_STOP), on the same
 * frames: named @name_stop1 ..., then its whole program again on a copy
 * like theirs (@name_stop0: XLB_STOP_NONE), so that the last step is taken
 * between neighbours too. A new flow's stops that insert, and its whole
 * program, run on copies with a conntrack of their own (load_copies()).
 */
static void add_stops(struct group *gr, const char *name, enum kind k, const struct bench_flow *f)
{
	for (int st = XLB_STOP_PARSE; st < XLB_STOP_COUNT; st++)
		add_stop(gr, name, st, k, f);
	add_stop(gr, name, XLB_STOP_NONE, k, f);
}

/* The base table's cases (added before xlb is loaded: they size its conntrack). */
static void base_cases(struct group *gr)
{
	struct bench_flow f;

	f = flow4(200, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_ACK);
	add_case(gr, "non_vip", P_XLB, K_FIXED, &f, XDP_PASS);
	katran_too(gr);
	f = flow4(0, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_ACK);
	add_case(gr, "tcp4_tracked", P_XLB, K_FIXED, &f, XDP_TX);
	katran_too(gr);
	f = flow6(0);
	add_case(gr, "tcp6_tracked", P_XLB, K_FIXED, &f, XDP_TX);
	f = flow4(1, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_ACK);
	add_case(gr, "4in6_tracked", P_XLB, K_FIXED, &f, XDP_TX);
	f = flow4(2, IPPROTO_UDP, DPORT_DNS, 0);
	add_case(gr, "udp_tracked", P_XLB, K_FIXED, &f, XDP_TX);
	f = flow4(3, IPPROTO_TCP, DPORT_OTHER, BENCH_TCP_ACK);
	add_case(gr, "allports_tracked", P_XLB, K_FIXED, &f, XDP_TX);
	f = flow4(0, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_SYN);
	add_case(gr, "new_syn", P_XLB, K_NEW, &f, XDP_TX);
	katran_too(gr);
	f.tcp_flags = BENCH_TCP_ACK;
	add_case(gr, "new_nonsyn", P_XLB, K_NEW, &f, XDP_TX);
	katran_too(gr);
	/* new_syn with session sync reporting each flow that enters conntrack. */
	f.tcp_flags = BENCH_TCP_SYN;
	add_case(gr, "new_syn_sync", P_XLB, K_NEW, &f, XDP_TX);
	gr->cases[gr->ncases - 1].sync = 1;
	/* The same as non_vip and tcp4_tracked, the trace hooks compiled out. */
	f = flow4(200, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_ACK);
	add_case(gr, "non_vip_nohooks", P_XLB_NOHOOKS, K_FIXED, &f, XDP_PASS);
	f = flow4(0, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_ACK);
	add_case(gr, "tcp4_tracked_nohooks", P_XLB_NOHOOKS, K_FIXED, &f, XDP_TX);
	/* Floor (c), the LRU alone: the same frames as tcp4_tracked and new_syn. */
	f = flow4(0, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_ACK);
	add_case(gr, "floor_c_tracked", P_FLOOR_C, K_FIXED, &f, XDP_TX);
	f.tcp_flags = BENCH_TCP_SYN;
	add_case(gr, "floor_c_new", P_FLOOR_C, K_NEW, &f, XDP_TX);
	/* Last, so that the cases above run as they did before there were stops. */
	if (!gr->stops)
		return;
	f = flow4(0, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_ACK);
	add_stops(gr, "tcp4_tracked", K_FIXED, &f);
	f.tcp_flags = BENCH_TCP_SYN;
	add_stops(gr, "new_syn", K_NEW, &f);
}

/*
 * Whether case @c's output must be longer than its input: xlb's encap
 * cases, not those stopped before the outer headers are written.
 */
static int sends_encapsulated(const struct ccase *c)
{
	if (c->expect != XDP_TX || c->nat)
		return 0;
	if (c->prog == P_XLB_STOP)
		return c->stop == XLB_STOP_NONE || c->stop >= XLB_STOP_ENCAP;
	return c->prog == P_XLB || c->prog == P_XLB_NOHOOKS;
}

/*
 * A base group's tables: their default size, or room for every new flow
 * its cases insert (calls x reps each) if that is more, so that no case
 * runs against a full table: as many entries in an LRU (Katran's,
 * floor (c)'s) and in xlb's flow table, rounded up to a power of two
 * (less memory than the LRU's: 64 bytes an entry against about 120).
 */
static void base_sizes(struct group *gr)
{
	__u64 n = CT_SLACK;

	for (int i = 0; i < gr->ncases; i++)
		if (inserts_flows(&gr->cases[i]))
			n += (__u64)g.calls * g.reps;
	gr->lru_size = n > XLB_CT_SIZE ? n : XLB_CT_SIZE;
	gr->ct_size = flowtable_size_for(gr->lru_size);
}

/* ct_events' count of @ev, summed over CPUs. */
static __u64 ct_event_total(struct xlb_bpf *skel, enum xlb_ct_event ev)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xlb_ct_events *e = calloc(ncpu, sizeof(*e));
	__u32 zero = 0;
	__u64 sum = 0;

	if (!e || bpf_map_lookup_elem(bpf_map__fd(skel->maps.ct_events), &zero, e))
		bench_die("ct_events: %s", strerror(errno));
	for (int i = 0; i < ncpu; i++)
		sum += e[i].count[ev];
	free(e);
	return sum;
}

/*
 * The NAT group's snat entry: every SNAT address there may be, the default
 * ports, NAT VIPs present. The new-flow case inserts calls x reps flows over
 * 10 backends: with one address, the (address, port, backend) tuples would
 * be 78 % taken by the end, and 16 tries would start to fail (as they
 * should); with 8, a tenth of that.
 */
static void nat_snat(struct xlb_bpf *skel)
{
	struct xlb_snat s = { .n4 = XLB_SNAT_ADDRS_MAX, .port_lo = XLB_SNAT_PORT_LO,
			      .port_hi = XLB_SNAT_PORT_HI, .nat_vips = 1 };
	__u32 zero = 0;

	for (int i = 0; i < XLB_SNAT_ADDRS_MAX; i++)
		s.addr4[i] = htonl(NAT_SNAT_ADDR + i);
	s.cpu_slice = (XLB_SNAT_PORT_HI - XLB_SNAT_PORT_LO + 1) / libbpf_num_possible_cpus();
	must(bpf_map_update_elem(bpf_map__fd(skel->maps.snat), &zero, &s, BPF_ANY), "snat");
	/* The VIP filter's word for it, as the control plane keeps it: NAT answers are looked at. */
	{
		struct xlb_vip_filter f = {};
		int fd = bpf_map__fd(skel->maps.vip_filter);

		bpf_map_lookup_elem(fd, &zero, &f);
		f.nat = 1;
		must(bpf_map_update_elem(fd, &zero, &f, BPF_ANY), "vip_filter");
	}
}

/*
 * One NAT flow made by hand, as the data path would (both directions):
 * client 0:CLIENT_PORT_BASE -> VIP 0:DPORT_NAT on backend @be_id, SNAT port
 * NAT_SNAT_PORT. *@reply gets the backend's answer of it.
 */
static void nat_flow(struct xlb_bpf *skel, __u32 vip_id, __u32 be_id, struct bench_flow *reply)
{
	struct bench_flow f = flow4(0, IPPROTO_TCP, DPORT_NAT, BENCH_TCP_ACK);
	int fd = bpf_map__fd(skel->maps.nat_flows);
	struct xlb_nat_flow fwd = { .flow = { .backend_id = be_id, .vip_id = vip_id } }, rev;
	struct xlb_flow_key key, rkey;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	fwd.flow.last_seen_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	fwd.to.src[0] = htonl(NAT_SNAT_ADDR);
	bench_backend4(be_id, fwd.to.dst);
	fwd.to.sport = htons(NAT_SNAT_PORT);
	fwd.to.dport = htons(DPORT_NAT);
	bench_flow_key(&f, &key);
	rev = fwd;
	rev.flow.flags = XLB_FLOW_F_NAT_REPLY;
	memcpy(rev.to.src, key.dst, sizeof(rev.to.src));
	memcpy(rev.to.dst, key.src, sizeof(rev.to.dst));
	rev.to.sport = key.dport;
	rev.to.dport = key.sport;
	xlb_nat_twin_key(&key, &fwd, &rkey);
	must(bpf_map_update_elem(fd, &key, &fwd, BPF_ANY), "nat flow");
	must(bpf_map_update_elem(fd, &rkey, &rev, BPF_ANY), "nat reply flow");

	*reply = (struct bench_flow){ .family = XLB_AF_INET, .proto = IPPROTO_TCP,
				      .tcp_flags = BENCH_TCP_ACK, .sport = DPORT_NAT,
				      .dport = NAT_SNAT_PORT };
	bench_backend4(be_id, reply->src);
	reply->dst[0] = htonl(NAT_SNAT_ADDR);
}

/*
 * Full NAT (--forward nat): a NAT VIP of 10 backends beside an encap VIP of
 * 10 on the same address. Its tracked packet, the backend's answer and a
 * new flow (SYN, a SNAT port reserved and both directions inserted), next
 * to the encap VIP's tracked packet and a non-VIP packet with the NAT
 * answer check on (nat_vips > 0), against the floors of the same group.
 */
static void setup_nat(struct xlb_bpf *skel, struct group *gr)
{
	int vfd = bpf_map__fd(skel->maps.vips);
	struct bench_flow f, reply;
	struct xlb_vip_key k;
	struct xlb_vip v;
	__u32 n = BACKENDS_DEFAULT;

	vip_key4(0, IPPROTO_TCP, DPORT_HTTP, &k);
	must(bench_xlb_vip(skel, &k, 0, XLB_TABLE_SIZE_DEFAULT, XLB_AF_INET, 0, n, NULL), "vip 0");
	vip_key4(0, IPPROTO_TCP, DPORT_NAT, &k);
	must(bench_xlb_vip(skel, &k, 1, XLB_TABLE_SIZE_DEFAULT, XLB_AF_INET, n, n, NULL), "nat vip");
	must(bpf_map_lookup_elem(vfd, &k, &v), "nat vip");
	v.flags |= XLB_VIP_F_NAT;
	must(bpf_map_update_elem(vfd, &k, &v, BPF_ANY), "nat vip");
	nat_snat(skel);
	nat_flow(skel, 1, n, &reply);

	f = flow4(200, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_ACK);
	add_case(gr, "non_vip_nat_on", P_XLB, K_FIXED, &f, XDP_PASS);
	f = flow4(0, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_ACK);
	add_case(gr, "encap_tracked", P_XLB, K_FIXED, &f, XDP_TX);
	f = flow4(0, IPPROTO_TCP, DPORT_NAT, BENCH_TCP_ACK);
	add_case(gr, "nat_tracked", P_XLB, K_FIXED, &f, XDP_TX);
	gr->cases[gr->ncases - 1].nat = 1;
	add_case(gr, "nat_reply", P_XLB, K_FIXED, &reply, XDP_TX);
	gr->cases[gr->ncases - 1].nat = 1;
	f.tcp_flags = BENCH_TCP_SYN;
	add_case(gr, "nat_new_syn", P_XLB, K_NEW, &f, XDP_TX);
	gr->cases[gr->ncases - 1].nat = 1;
	f = flow4(0, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_SYN);
	add_case(gr, "encap_new_syn", P_XLB, K_NEW, &f, XDP_TX);
}

/*
 * A curve's tracked flows, each on a backend of its VIP as the data path
 * would have put it, written into xlb's conntrack through its mapping;
 * then the ones still there (a later flow of the fill may have taken a
 * full bucket's way) into gr->present, which the hit case samples.
 */
static void fill_curve(struct xlb_bpf *skel, struct group *gr)
{
	double t0 = bench_now();
	struct xlb_flow_key key;
	struct flowtable t;
	struct bench_flow f;
	struct timespec ts;
	__u64 now;

	must(flowtable_open(bpf_map__fd(skel->maps.conntrack), &t), "map conntrack");
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	for (__u32 j = 0; j < gr->flows; j++) {
		__u32 v = j % gr->vips;
		struct xlb_flow fl = { .vip_id = v, .backend_id = v * gr->be_per_vip +
						      j % gr->be_per_vip, .last_seen_ns = now };

		tracked_flow(j, gr->vips, &f);
		bench_flow_key(&f, &key);
		flowtable_write(flowtable_way(&t, &key), &key, &fl);
	}
	gr->present = malloc((size_t)gr->flows * sizeof(*gr->present));
	if (!gr->present)
		bench_die("out of memory");
	for (__u32 j = 0; j < gr->flows; j++) {
		tracked_flow(j, gr->vips, &f);
		bench_flow_key(&f, &key);
		if (flowtable_find(&t, &key))
			gr->present[gr->npresent++] = j;
	}
	flowtable_close(&t);
	gr->fill_s = bench_now() - t0;
	if (!gr->npresent)
		bench_die("%s: no tracked flow left in conntrack after the fill", gr->dim);
}

/* Curves: gr->vips VIPs of gr->be_per_vip backends, gr->flows tracked flows over them. */
static void setup_curve(struct xlb_bpf *skel, struct group *gr)
{
	struct bench_flow f;
	__u32 *ids = calloc(VIP_CHUNK, sizeof(*ids));
	int *inners = calloc(VIP_CHUNK, sizeof(*inners));
	struct xlb_vip_key *vkeys = calloc(VIP_CHUNK, sizeof(*vkeys));
	struct xlb_vip *vvals = calloc(VIP_CHUNK, sizeof(*vvals));
	__u32 c = 0;

	for (__u32 v = 0; v < gr->vips; v++) {
		vip_key4(v, IPPROTO_TCP, DPORT_HTTP, &vkeys[c]);
		ids[c] = v;
		vvals[c] = (struct xlb_vip){ .id = v, .table_size = gr->table_size,
					     .sched = XLB_SCHED_MAGLEV };
		must(bench_xlb_vip(skel, &vkeys[c], v, gr->table_size, XLB_AF_INET,
				   v * gr->be_per_vip, gr->be_per_vip, &inners[c]), "curve vip");
		if (++c < VIP_CHUNK && v + 1 < gr->vips)
			continue;
		must(bench_xlb_commit(skel, c, ids, inners, vkeys, vvals), "commit vips");
		while (c)
			close(inners[--c]);
	}
	free(ids);
	free(inners);
	free(vkeys);
	free(vvals);
	fill_curve(skel, gr);

	tracked_flow(0, gr->vips, &f);
	add_case(gr, "hit", P_XLB, K_TRACKED, &f, XDP_TX);
	katran_too(gr);
	f.tcp_flags = BENCH_TCP_SYN;
	add_case(gr, "miss_syn", P_XLB, K_NEW, &f, XDP_TX);
	katran_too(gr);
	f.tcp_flags = BENCH_TCP_ACK;
	add_case(gr, "miss_nonsyn", P_XLB, K_NEW, &f, XDP_TX);
	katran_too(gr);
}

/*
 * Katran's side of a group: fresh LRUs of gr->lru_size entries, and
 * for a curve its tracked flows (the same ones, on real 1 + j % 10) in the
 * LRU of the CPU the test runs run on.
 */
static void setup_katran(struct group *gr)
{
	struct katran_flow_key *keys = NULL;
	struct bench_flow f;

	if (!gr->katran)
		return;
	if (*gr->dim) {
		keys = calloc(gr->flows, sizeof(*keys));
		for (__u32 j = 0; j < gr->flows; j++) {
			tracked_flow(j, gr->vips, &f);
			katran_flow_key(&f, &keys[j]);
		}
	}
	for (int b = 0; b < KATRAN_BUILDS; b++) {
		if (!g.kat[b])
			continue;
		katran_lrus(g.kat[b], gr->lru_size);
		if (keys)
			katran_track(g.kat[b], PIN_CPU, keys, gr->flows);
		if (gr->lru_bytes <= 0)
			gr->lru_bytes = katran_lru_memlock(g.kat[b], PIN_CPU);
	}
	free(keys);
}

static struct xlb_bpf *load_xlb(struct group *gr)
{
	struct xlb_bpf *skel = xlb_bpf__open();
	__u32 be = gr->vips * gr->be_per_vip;
	int idx = -1;

	if (!skel)
		bench_die("open xlb skeleton: %s", strerror(errno));
	bpf_map__set_max_entries(skel->maps.conntrack, gr->ct_size);
	/* Room for every new NAT flow (two entries each) the NAT group's runs insert. */
	bpf_map__set_max_entries(skel->maps.nat_flows, 2ULL * g.calls * g.reps + 1024);
	if (gr->vips > XLB_MAX_VIPS) {
		bpf_map__set_max_entries(skel->maps.vips, gr->vips);
		bpf_map__set_max_entries(skel->maps.tables, gr->vips);
		bpf_map__set_max_entries(skel->maps.vip_stats, gr->vips);
		bpf_map__set_max_entries(skel->maps.vip_config, gr->vips);
		/* The VIP index's inner map, sized for them (its template, before load). */
		idx = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_vip_index", sizeof(__u32),
				     sizeof(struct xlb_vip_bucket), xlb_vip_buckets_for(gr->vips), NULL);
		if (idx < 0 || bpf_map__set_inner_map_fd(skel->maps.vip_index, idx))
			bench_die("vip index template: %s", strerror(errno));
	}
	if (be > XLB_MAX_BACKENDS) {
		bpf_map__set_max_entries(skel->maps.backends, be);
		bpf_map__set_max_entries(skel->maps.backend_stats, be);
		bpf_map__set_max_entries(skel->maps.backend_active, be);
		bpf_map__set_max_entries(skel->maps.health, be);
	}
	if (xlb_bpf__load(skel))
		bench_die("load xlb: %s", strerror(errno));
	if (idx >= 0)
		close(idx);
	must(bench_xlb_sources(skel), "config");
	return skel;
}

/*
 * xlb again with rodata @ro (trace hooks, a stop), sharing every map of
 * @skel, so its configuration: the same program, one setting changed.
 * With @own_ct, all but conntrack: it gets one of its own, empty, for
 * calls x reps new flows.
 */
/*
 * Before @obj is loaded: every map of it shares @skel's, but its own
 * rodata and friends, and its conntrack when @own_ct is set (@ct: that map).
 */
static void share_maps(struct bpf_object *obj, struct bpf_map *ct, struct xlb_bpf *skel,
		       int own_ct)
{
	struct bpf_map *m;

	bpf_object__for_each_map(m, obj) {
		struct bpf_map *o;

		if (strchr(bpf_map__name(m), '.'))
			continue;	/* .rodata and friends: each program's own */
		if (own_ct && m == ct) {
			bpf_map__set_max_entries(m, flowtable_size_for((__u64)g.calls * g.reps +
									  CT_SLACK));
			continue;
		}
		o = bpf_object__find_map_by_name(skel->obj, bpf_map__name(m));
		if (!o || bpf_map__reuse_fd(m, bpf_map__fd(o)))
			bench_die("share map %s: %s", bpf_map__name(m), strerror(errno));
	}
}

/* xlb again with rodata @ro, sharing @skel's maps. */
static struct xlb_bpf *load_xlb_copy(struct xlb_bpf *skel, const struct xlb_bpf__rodata *ro,
				     const char *what)
{
	struct xlb_bpf *n = xlb_bpf__open();

	if (!n)
		bench_die("open xlb skeleton: %s", strerror(errno));
	*n->rodata = *ro;
	share_maps(n->obj, n->maps.conntrack, skel, 0);
	if (xlb_bpf__load(n))
		bench_die("load xlb %s: %s", what, strerror(errno));
	return n;
}

/* The bench-only build of xlb stopped after step @stop, @skel's settings and maps. */
static struct xlb_stops_bpf *load_xlb_stopped(struct xlb_bpf *skel, enum xlb_stop stop,
					      int own_ct)
{
	struct xlb_stops_bpf *n = xlb_stops_bpf__open();

	if (!n)
		bench_die("open xlb_stops skeleton: %s", strerror(errno));
	n->rodata->xlb_encap = skel->rodata->xlb_encap;
	n->rodata->xlb_gue_port = skel->rodata->xlb_gue_port;
	n->rodata->xlb_trace_hooks = skel->rodata->xlb_trace_hooks;
	n->rodata->xlb_bench_stop = stop;
	share_maps(n->obj, n->maps.conntrack, skel, own_ct);
	if (xlb_stops_bpf__load(n))
		bench_die("load xlb stopped after step %d: %s", stop, strerror(errno));
	return n;
}

/*
 * The base group's copies of xlb: without trace hooks, and those its stop
 * cases run on. A tracked flow's stops share the main conntrack, so they
 * find the flow where the whole program does (its way in the bucket is a
 * cost too). A new flow's stops that insert have a conntrack each: as full
 * as each other's at each repetition, and none adds to the main table.
 */
static void load_copies(struct xlb_bpf *skel, const struct group *gr)
{
	struct xlb_bpf__rodata ro = *skel->rodata;

	ro.xlb_trace_hooks = 0;
	g.nohooks = load_xlb_copy(skel, &ro, "without trace hooks");
	for (int i = 0; i < gr->ncases; i++) {
		const struct ccase *c = &gr->cases[i];

		if (c->prog != P_XLB_STOP || g.stopped[c->own_ct][c->stop])
			continue;
		g.stopped[c->own_ct][c->stop] = load_xlb_stopped(skel, c->stop, c->own_ct);
	}
}

static void print_stat(const char *key, double *v, int n)
{
	double *tmp = malloc(n * sizeof(*tmp));
	struct bench_stat s;

	memcpy(tmp, v, n * sizeof(*tmp));
	s = bench_summary(tmp, n);
	printf("\"%s\":{\"med\":%.2f,\"min\":%.2f,\"max\":%.2f}", key, s.med, s.min, s.max);
	free(tmp);
}

/* Each repetition's figure, in order: differences between cases are taken per repetition. */
static void print_reps(const double *v)
{
	printf(",\"rep_ns\":[");
	for (int r = 0; r < g.reps; r++)
		printf("%s%.1f", r ? "," : "", v[r]);
	putchar(']');
}

/* Katran's warm-up call: the right action and, when it sends, an encapsulated frame. */
static void katran_warm(struct group *gr, struct ccase *c, const unsigned char *frame, size_t len)
{
	for (int b = 0; b < KATRAN_BUILDS; b++) {
		size_t out;
		int act;

		if (!g.kat[b])
			continue;
		if (bench_run_once(katran_prog_fd(g.kat[b]), g.ifindex, frame, len, &act, &out) < 0)
			bench_die("%s/%s (%s): warm-up run failed", gr->name, c->name, katran_key[b]);
		if (act != c->expect)
			bench_die("%s/%s (%s): action %d, expected %d", gr->name, c->name,
				  katran_key[b], act, c->expect);
		if (c->expect == XDP_TX && out <= len)
			bench_die("%s/%s (%s): sent %zu bytes for %zu: not encapsulated", gr->name,
				  c->name, katran_key[b], out, len);
	}
}

/* A figure of bytes, or null where it was not measured. */
static void print_bytes(const char *key, long long bytes, __u32 flows)
{
	if (bytes <= 0) {
		printf(",\"%s\":null,\"%s_per_flow\":null", key, key);
		return;
	}
	printf(",\"%s\":%lld,\"%s_per_flow\":%.1f", key, bytes, key, (double)bytes / flows);
}

/* A curve point's memory: xlb's conntrack and Katran's LRU of PIN_CPU, per tracked flow. */
static void print_memory(const struct group *gr)
{
	printf(",\"memory\":{\"katran_lrus\":%d", libbpf_num_possible_cpus());
	print_bytes("xlb_conntrack_bytes", gr->ct_bytes, gr->flows);
	print_bytes("katran_lru_bytes", gr->lru_bytes, gr->flows);
	putchar('}');
}

/* Katran's figures of case @c as JSON: per build an object, or null if not measured. */
static void print_katran(struct group *gr, struct ccase *c)
{
	double *ratio = calloc(g.reps, sizeof(double)), *net = calloc(g.reps, sizeof(double));

	printf(",\"katran\":{");
	for (int b = 0; b < KATRAN_BUILDS; b++) {
		int nnet = 0;

		printf("%s\"%s\":", b ? "," : "", katran_key[b]);
		if (!g.kat[b]) {
			printf("null");
			continue;
		}
		for (int r = 0; r < g.reps; r++) {
			double fb = gr->cases[0].rep_ns[r], k = c->kat[b].rep_ns[r];

			ratio[r] = k / fb;
			/* xlb over Katran, each net of floor (b); no figure where Katran is at the floor */
			if (k > fb)
				net[nnet++] = (c->rep_ns[r] - fb) / (k - fb);
		}
		putchar('{');
		print_stat("ns", c->kat[b].rep_ns, g.reps);
		putchar(',');
		print_stat("ratio_b", ratio, g.reps);
		if (nnet) {
			putchar(',');
			print_stat("net", net, nnet);
		} else {
			printf(",\"net\":null");
		}
		printf(",\"lru_misses\":%llu,\"calls\":%llu", (unsigned long long)c->kat[b].misses,
		       (unsigned long long)g.calls * g.reps);
		if (c->kind == K_NEW)
			printf(",\"inserted\":%.4f",
			       (double)c->kat[b].inserted / c->kat[b].sampled);
		putchar('}');
	}
	putchar('}');
	free(ratio);
	free(net);
}

enum group_kind { G_CURVE, G_BASE, G_NAT };

/*
 * After the warm-up: every fixed flow xlb forwards by conntrack (not NAT,
 * whose flows live in nat_flows) is in it, so its case times a hit.
 */
static void check_tracked(struct xlb_bpf *skel, const struct group *gr)
{
	struct xlb_flow_key key;
	struct flowtable t;

	must(flowtable_open(bpf_map__fd(skel->maps.conntrack), &t), "map conntrack");
	for (int i = 0; i < gr->ncases; i++) {
		const struct ccase *c = &gr->cases[i];

		if (c->kind != K_FIXED || c->expect != XDP_TX || c->nat ||
		    (c->prog != P_XLB && c->prog != P_XLB_NOHOOKS))
			continue;
		bench_flow_key(&c->flow, &key);
		if (!flowtable_find(&t, &key))
			bench_die("%s/%s: its flow is not in conntrack after the warm-up", gr->name,
				  c->name);
	}
	flowtable_close(&t);
}

static void run_group(struct group *gr, enum group_kind kind)
{
	struct bench_flow fl = flow4(0, IPPROTO_TCP, DPORT_HTTP, BENCH_TCP_ACK);
	double t0 = bench_now(), *ratio = calloc(g.reps, sizeof(double));
	struct xlb_bpf *skel;
	__u64 evicted;

	add_case(gr, "floor_b", P_FLOOR_B, K_FIXED, &fl, XDP_TX);
	add_case(gr, "floor_a", P_FLOOR_A, K_FIXED, &fl, XDP_PASS);
	if (kind == G_BASE) {
		base_cases(gr);
		base_sizes(gr);
	}
	if (!gr->ct_size)
		gr->ct_size = XLB_CT_SIZE;
	if (!gr->lru_size)
		gr->lru_size = gr->ct_size;
	skel = load_xlb(gr);
	if (kind == G_NAT) {
		setup_nat(skel, gr);
	} else if (kind == G_BASE) {
		g.fc = floor_ct_bpf__open();
		if (!g.fc)
			bench_die("open floor (c): %s", strerror(errno));
		bpf_map__set_max_entries(g.fc->maps.floor_ct, gr->lru_size);
		if (floor_ct_bpf__load(g.fc))
			bench_die("load floor (c): %s", strerror(errno));
		base_vips(skel);
		load_copies(skel, gr);
		g.sync_rb = ring_buffer__new(bpf_map__fd(skel->maps.sync_events),
					     count_sync_event, NULL, NULL);
		if (!g.sync_rb)
			bench_die("sync ring buffer: %s", strerror(errno));
	} else {
		setup_curve(skel, gr);
	}
	setup_katran(gr);
	gr->ct_bytes = bench_map_memlock(bpf_map__fd(skel->maps.conntrack));
	gr->setup_s = bench_now() - t0;
	if (*gr->dim)
		fprintf(stderr, "pktcost: %s %g: set up in %.1f s; conntrack %llu entries, filled "
			"in %.2f s, the fill evicted %u of %u tracked flows\n", gr->dim, gr->x,
			gr->setup_s, (unsigned long long)gr->ct_size, gr->fill_s,
			gr->flows - gr->npresent, gr->flows);
	else
		fprintf(stderr, "pktcost: %s: set up in %.1f s\n", gr->name, gr->setup_s);

	/*
	 * One untimed pass: tracks the fixed flows, warms every path, and
	 * proves that what xlb sends is really encapsulated.
	 */
	for (int i = 0; i < gr->ncases; i++) {
		struct ccase *c = &gr->cases[i];
		unsigned char frame[BENCH_FRAME_MAX];
		size_t len = bench_frame(&c->flow, frame), out;
		int act;

		if (c->kind != K_FIXED)
			continue;
		if (bench_run_once(prog_fd(skel, c), g.ifindex, frame, len, &act, &out) < 0)
			bench_die("%s/%s: warm-up run failed", gr->name, c->name);
		if (sends_encapsulated(c) && out <= len)
			bench_die("%s/%s: sent %zu bytes for %zu: not encapsulated", gr->name,
				  c->name, out, len);
		if (c->katran)
			katran_warm(gr, c, frame, len);
	}
	check_tracked(skel, gr);
	evicted = ct_event_total(skel, XLB_CT_EV_EVICTED);
	for (int r = 0; r < g.reps; r++)
		for (int i = 0; i < gr->ncases; i++)
			time_rep(skel, gr, &gr->cases[i], r);
	gr->ct_evicted = ct_event_total(skel, XLB_CT_EV_EVICTED) - evicted;

	printf("%s{\"group\":\"%s\",\"dim\":\"%s\",\"x\":%g,\"vips\":%u,\"backends_per_vip\":%u,"
	       "\"table_size\":%u,\"tracked_flows\":%u,\"conntrack_size\":%llu,\"lru_size\":%llu,"
	       "\"fill_evicted\":%u,\"ct_evicted\":%llu,\"setup_s\":%.2f,\"fill_s\":%.2f",
	       g.first_group ? "" : ",", gr->name, gr->dim, gr->x, gr->vips,
	       gr->be_per_vip, gr->table_size, gr->flows, (unsigned long long)gr->ct_size,
	       (unsigned long long)gr->lru_size, gr->present ? gr->flows - gr->npresent : 0,
	       (unsigned long long)gr->ct_evicted, gr->setup_s, gr->fill_s);
	if (*gr->dim)
		print_memory(gr);
	printf(",\"cases\":[");
	g.first_group = 0;
	for (int i = 0; i < gr->ncases; i++) {
		struct ccase *c = &gr->cases[i];

		for (int r = 0; r < g.reps; r++)
			ratio[r] = c->rep_ns[r] / gr->cases[0].rep_ns[r];
		printf("%s{\"name\":\"%s\",", i ? "," : "", c->name);
		print_stat("ns", c->rep_ns, g.reps);
		putchar(',');
		print_stat("ratio_b", ratio, g.reps);
		printf(",\"tracked_misses\":%llu", (unsigned long long)c->misses);
		print_reps(c->rep_ns);
		if (c->katran)
			print_katran(gr, c);
		putchar('}');
	}
	printf("]}\n");
	fflush(stdout);
	xlb_bpf__destroy(skel);
	floor_ct_bpf__destroy(g.fc);
	g.fc = NULL;
	xlb_bpf__destroy(g.nohooks);
	g.nohooks = NULL;
	for (int own = 0; own < 2; own++) {
		for (int st = 0; st < XLB_STOP_COUNT; st++) {
			xlb_stops_bpf__destroy(g.stopped[own][st]);
			g.stopped[own][st] = NULL;
		}
	}
	ring_buffer__free(g.sync_rb);
	g.sync_rb = NULL;
	free(gr->present);
	free(ratio);
}

static void curve(const char *dim, double x, __u32 vips, __u32 bpv, __u32 table, __u32 flows)
{
	struct group gr = { .name = "curve", .dim = dim, .x = x, .vips = vips,
			    .be_per_vip = bpv, .table_size = table, .flows = flows,
			    .katran = !strcmp(dim, "flows") };
	/* Room for the tracked flows and for every new flow the miss cases insert. */
	__u64 inserts = 2ULL * g.calls * g.reps + CT_SLACK;

	gr.lru_size = flows + flows / 4 + inserts;
	gr.ct_size = flowtable_size_for(gr.lru_size);	/* as many entries as Katran's LRU */
	run_group(&gr, G_CURVE);
}

/* Both Katran builds from --katran DIR, each configured like xlb's VIP 0. */
static void open_katran(void)
{
	unsigned char gw[6];
	__u32 vip[4];

	if (!g.katran_dir) {
		fprintf(stderr, "pktcost: no --katran: Katran not measured\n");
		return;
	}
	bench_if_mac(BENCH_PEER, gw);	/* the gateway's MAC: the peer's */
	bench_vip4(0, vip);
	for (int b = 0; b < KATRAN_BUILDS; b++) {
		g.kat[b] = katran_open(g.katran_dir, b, gw);
		if (!g.kat[b]) {
			fprintf(stderr, "pktcost: no %s/%s: Katran %s not measured\n", g.katran_dir,
				katran_file[b], katran_key[b]);
			continue;
		}
		katran_service(g.kat[b], vip, DPORT_HTTP, BACKENDS_DEFAULT);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "calls", required_argument, NULL, 'c' },
		{ "reps", required_argument, NULL, 'r' },
		{ "only", required_argument, NULL, 'o' },
		{ "katran", required_argument, NULL, 'k' },
		{},
	};
	struct group base = { .name = "base", .dim = "", .vips = 5,
			      .be_per_vip = BACKENDS_DEFAULT, .table_size = XLB_TABLE_SIZE_DEFAULT,
			      .katran = 1, .stops = 1 };
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
			g.katran_dir = optarg;
			break;
		default:
			fprintf(stderr, "usage: pktcost [--quick] [--calls N] [--reps N] "
				"[--only base|nat|vips|backends|flows] [--katran DIR]\n");
			return 2;
		}
	}
	if (g.calls < 1 || g.reps < 1)
		bench_die("--calls and --reps must be positive");
	g.ifindex = if_nametoindex(BENCH_IFACE);
	if (!g.ifindex)
		bench_die("no interface %s: run inside the bench namespace (bench/run.sh)",
			  BENCH_IFACE);
	g.samples = calloc(g.calls, sizeof(*g.samples));
	bench_pin(PIN_CPU);
	open_katran();
	g.fa = floor_pass_bpf__open_and_load();
	g.fb = floor_tx_bpf__open_and_load();
	if (!g.fa || !g.fb)
		bench_die("load floors: %s", strerror(errno));
	g.first_group = 1;

	printf("{\"calls\":%d,\"reps\":%d,\"quick\":%s,\"cpu\":%d,\"katran\":{", g.calls,
	       g.reps, g.quick ? "true" : "false", PIN_CPU);
	for (int b = 0; b < KATRAN_BUILDS; b++)
		printf("%s\"%s\":%s", b ? "," : "", katran_key[b], g.kat[b] ? "true" : "false");
	printf("},\"groups\":[\n");
	if (!*only || !strcmp(only, "base"))
		run_group(&base, G_BASE);
	if (!*only || !strcmp(only, "nat")) {
		struct group nat = { .name = "nat", .dim = "", .vips = 2,
				     .be_per_vip = BACKENDS_DEFAULT,
				     .table_size = XLB_TABLE_SIZE_DEFAULT };

		run_group(&nat, G_NAT);
	}
	if (!*only || !strcmp(only, "vips")) {
		curve("vips", 1, 1, BACKENDS_DEFAULT, VIP_TABLE_SMALL, SPREAD_FLOWS);
		curve("vips", 1000, 1000, BACKENDS_DEFAULT, VIP_TABLE_SMALL, SPREAD_FLOWS);
		/* 100k VIPs take ~15 s to set up: more than the quick run can spend. */
		if (!g.quick)
			curve("vips", 100000, 100000, BACKENDS_DEFAULT, VIP_TABLE_SMALL,
			      SPREAD_FLOWS);
	}
	if (!*only || !strcmp(only, "backends")) {
		curve("backends", 10, 1, 10, XLB_TABLE_SIZE_DEFAULT, SPREAD_FLOWS);
		curve("backends", 1000, 1, 1000, XLB_TABLE_SIZE_DEFAULT, SPREAD_FLOWS);
	}
	if (!*only || !strcmp(only, "flows")) {
		curve("flows", 1000, 1, BACKENDS_DEFAULT, XLB_TABLE_SIZE_DEFAULT, 1000);
		curve("flows", 100000, 1, BACKENDS_DEFAULT, XLB_TABLE_SIZE_DEFAULT, 100000);
		curve("flows", 1000000, 1, BACKENDS_DEFAULT, XLB_TABLE_SIZE_DEFAULT, 1000000);
		if (!g.quick)
			curve("flows", 10000000, 1, BACKENDS_DEFAULT, XLB_TABLE_SIZE_DEFAULT,
			      10000000);
	}
	printf("]}\n");
	floor_pass_bpf__destroy(g.fa);
	floor_tx_bpf__destroy(g.fb);
	for (int b = 0; b < KATRAN_BUILDS; b++)
		katran_close(g.kat[b]);
	return 0;
}
