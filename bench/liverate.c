// SPDX-License-Identifier: GPL-2.0
/*
 * Live packet rate (issue 6, part 2). In the bench namespace, the program
 * under test is attached (native XDP) to xlbb-b; a sink that counts and
 * drops is attached to its peer xlbb-a. The generator (gen.bpf.c) runs
 * with BPF_F_TEST_XDP_LIVE_FRAMES on xlbb-a: each frame leaves xlbb-a with
 * XDP_TX, is handled by the program on xlbb-b, which sends it back
 * (xlb: encapsulated to a backend via the permanent gateway neighbour;
 * Katran: encapsulated to the MAC in its ctl_array, the peer's; floor (b):
 * MACs swapped), and the sink counts it. Rate = frames the sink counted /
 * wall time. Everything runs on one CPU in softirq, so the rate is that of
 * the whole chain (generator + veth + program + sink); the report also
 * gives the per-frame difference, which is the program's own.
 *
 * Cases: one tracked flow; 100,000 tracked flows in turn (the working set
 * of a busy balancer, without the syscall between packets that pktcost
 * has); and a new flow every frame (source address and port from a
 * counter). Each repetition measures every program back to back for each
 * case. Before each measurement of the 100,000 flows, each program sees an
 * untimed pass of each flow once, because the new-flow case of the
 * repetition before evicted them (the same pass for every program: how a
 * flow table was filled changes how its entries lie in memory, and so what
 * a pass over them in order costs); the flows each program still had to
 * insert while timed are counted. The one tracked flow is written into
 * Katran's LRUs before its case: Katran as shipped may still be in flood
 * mode from the new-flow case and would not insert it.
 *
 * xlb's conntrack (a set-associative flow table) has the default size an
 * instance gets, which holds twice the 100,000 flows; the new-flow case
 * overflows it on purpose. After xlb's untimed pass of the 100,000 flows,
 * the ones it did not keep (a bucket of its table holding five or more of
 * them: a later one took the way of an earlier one) are counted
 * (xlb_prepass_absent): their packets miss while timed, as in any table
 * of that shape.
 *
 * With --katran DIR, both builds of Katran's balancer (katran.h) are
 * measured the same way, attached to the same veth in turn, with LRUs as
 * large as xlb's conntrack. Its ctl_array holds the peer's MAC as the
 * default router's, so it needs no neighbour and no FIB lookup. A build
 * that is not there is written as null. Writes one JSON document to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchlib.h"
#include "flowtable.h"
#include "gen.h"
#include "katran.h"
#include "xlb.skel.h"
#include "floor_tx.skel.h"
#include "sink.skel.h"
#include "gen.skel.h"

#define BACKENDS		10
#define DPORT_HTTP		80
#define CLIENT_PORT		1024
#define SETTLE_US		20000	/* let the last softirq run before reading the sink */
#define SPREAD_FLOWS		100000
#define PIN_CPU			0	/* generator, veth and programs: all on this CPU */
#define MAX_REPS		16

enum lcase { C_TRACKED, C_SPREAD, C_NEW, NCASES };
static const char *const case_name[NCASES] = { "tracked", "tracked_spread", "new_flows" };

/* The programs measured: floor (b), xlb, then each Katran build. */
enum { PR_FLOOR, PR_XLB, PR_KATRAN, NPROGS = PR_KATRAN + KATRAN_BUILDS };

struct result {
	double pps[MAX_REPS], delivered[MAX_REPS];
	__u64 misses;		/* flows the program inserted while timed on tracked traffic */
};

static struct {
	int ifa, ifb, reps;
	__u32 frames;
	int sink_fd;
	const char *katran_dir;
	struct xlb_bpf *xlb;
	struct floor_tx_bpf *floor;
	struct katran *kat[KATRAN_BUILDS];	/* NULL: that build is not measured */
	struct gen_bpf *gen[NCASES];
	struct katran_flow_key tracked;		/* the flow of C_TRACKED */
	struct bench_flow tmpl;			/* the frame the generator rewrites */
	struct flowtable ct;			/* xlb's conntrack, mapped */
	__u64 prepass_absent;			/* spread flows not in it after its pass */
	struct result res[NCASES][NPROGS];
} g;

static __u64 sink_total(void)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 v[ncpu], sum = 0;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(g.sink_fd, &zero, v))
		bench_die("read sink count: %s", strerror(errno));
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

static void attach(int ifindex, int prog_fd)
{
	if (bpf_xdp_attach(ifindex, prog_fd, XDP_FLAGS_DRV_MODE, NULL))
		bench_die("attach XDP to ifindex %d: %s", ifindex, strerror(errno));
}

/* Frames per second the sink saw while @gen_fd sent g.frames frames. */
static double measure(int gen_fd, const unsigned char *frame, size_t len, double *delivered)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = g.ifa };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame, .data_size_in = len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = g.frames, .flags = BPF_F_TEST_XDP_LIVE_FRAMES);
	__u64 before = sink_total(), got;
	double t0, t;

	t0 = bench_now();
	if (bpf_prog_test_run_opts(gen_fd, &opts))
		bench_die("live frames run: %s", strerror(errno));
	t = bench_now() - t0;
	usleep(SETTLE_US);
	got = sink_total() - before;
	*delivered = (double)got / g.frames;
	return got / t;
}

static struct gen_bpf *load_gen(int new_flows, __u32 flow_mod)
{
	struct gen_bpf *gen = gen_bpf__open();

	if (!gen)
		bench_die("open generator: %s", strerror(errno));
	gen->rodata->new_flows = new_flows;
	gen->rodata->flow_mod = flow_mod;
	if (gen_bpf__load(gen))
		bench_die("load generator: %s", strerror(errno));
	return gen;
}

static void print_stat(const char *key, const double *v, int n)
{
	double tmp[n];
	struct bench_stat s;

	memcpy(tmp, v, sizeof(tmp));
	s = bench_summary(tmp, n);
	printf("\"%s\":{\"med\":%.4g,\"min\":%.4g,\"max\":%.4g}", key, s.med, s.min, s.max);
}

static int prog_fd(int p)
{
	if (p == PR_FLOOR)
		return bpf_program__fd(g.floor->progs.floor_tx);
	if (p == PR_XLB)
		return bpf_program__fd(g.xlb->progs.xlb_balance);
	return katran_prog_fd(g.kat[p - PR_KATRAN]);
}

static int measured(int p)
{
	return p < PR_KATRAN || g.kat[p - PR_KATRAN];
}

/* New flows xlb has counted on VIP 0. */
static __u64 xlb_new_flows(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xlb_counters c[ncpu];
	__u64 sum = 0;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(g.xlb->maps.vip_stats), &zero, c))
		bench_die("read xlb's counters: %s", strerror(errno));
	for (int i = 0; i < ncpu; i++)
		sum += c[i].new_flows;
	return sum;
}

/* Flows program @p has had to look up in vain so far (floor: none). */
static __u64 misses(int p)
{
	if (p == PR_XLB)
		return xlb_new_flows();
	if (p >= PR_KATRAN)
		return katran_lru_misses(g.kat[p - PR_KATRAN]);
	return 0;
}

/* The conntrack key of the generator's flow @c (gen.h; it runs on PIN_CPU). */
static void gen_key(__u32 c, struct xlb_flow_key *k)
{
	struct bench_flow f = g.tmpl;

	f.sport = (__u16)c;
	f.src[0] = htonl(((GEN_NET + PIN_CPU) << 24) | ((c >> GEN_PORT_BITS) & GEN_ADDR_MASK));
	bench_flow_key(&f, k);
}

/* How many of the spread flows are not in xlb's conntrack. */
static __u32 spread_absent(void)
{
	struct xlb_flow_key k;
	__u32 n = 0;

	for (__u32 c = 0; c < SPREAD_FLOWS; c++) {
		gen_key(c, &k);
		n += !flowtable_find(&g.ct, &k);
	}
	return n;
}

/* Every program's flow table holds case @c's tracked flows before it is timed. */
static void track(enum lcase c, const unsigned char *frame, size_t len)
{
	__u32 frames = g.frames;
	double x;

	for (int p = PR_XLB; p < NPROGS; p++) {
		if (!measured(p))
			continue;
		if (c == C_SPREAD) {
			attach(g.ifb, prog_fd(p));
			g.frames = SPREAD_FLOWS;	/* each flow once */
			measure(bpf_program__fd(g.gen[C_SPREAD]->progs.gen), frame, len, &x);
			g.frames = frames;
			if (p == PR_XLB)
				g.prepass_absent += spread_absent();
		} else if (c == C_TRACKED && p >= PR_KATRAN) {
			katran_track(g.kat[p - PR_KATRAN], -1, &g.tracked, 1);
		}
	}
}

static void run_rep(int r, const unsigned char *frame, size_t len)
{
	for (int c = 0; c < NCASES; c++) {
		int fd = bpf_program__fd(g.gen[c]->progs.gen);

		track(c, frame, len);
		for (int p = 0; p < NPROGS; p++) {
			struct result *res = &g.res[c][p];
			__u64 before;

			if (!measured(p))
				continue;
			attach(g.ifb, prog_fd(p));
			before = misses(p);
			res->pps[r] = measure(fd, frame, len, &res->delivered[r]);
			if (c != C_NEW)
				res->misses += misses(p) - before;
		}
	}
}

/* Katran build @b's figures of case @c, or null. */
static void print_katran(int c, int b)
{
	const struct result *k = &g.res[c][PR_KATRAN + b], *fl = &g.res[c][PR_FLOOR],
			    *x = &g.res[c][PR_XLB];
	double ratio[MAX_REPS], over[MAX_REPS], extra[MAX_REPS];

	printf("%s\"%s\":", b ? "," : "", katran_key[b]);
	if (!g.kat[b]) {
		printf("null");
		return;
	}
	for (int r = 0; r < g.reps; r++) {
		ratio[r] = k->pps[r] / fl->pps[r];
		over[r] = x->pps[r] / k->pps[r];
		extra[r] = 1e9 / k->pps[r] - 1e9 / fl->pps[r];
	}
	putchar('{');
	print_stat("pps", k->pps, g.reps);
	putchar(',');
	print_stat("ratio", ratio, g.reps);
	putchar(',');
	print_stat("xlb_over_katran", over, g.reps);
	putchar(',');
	print_stat("extra_ns", extra, g.reps);
	putchar(',');
	print_stat("delivered", k->delivered, g.reps);
	if (c != C_NEW)
		printf(",\"misses\":%llu", (unsigned long long)k->misses);
	putchar('}');
}

static void print_case(int c)
{
	const struct result *fl = &g.res[c][PR_FLOOR], *x = &g.res[c][PR_XLB];
	double ratio[MAX_REPS], extra[MAX_REPS];

	for (int r = 0; r < g.reps; r++) {
		ratio[r] = x->pps[r] / fl->pps[r];
		extra[r] = 1e9 / x->pps[r] - 1e9 / fl->pps[r];
	}
	printf("%s{\"name\":\"%s\",", c ? "," : "", case_name[c]);
	print_stat("floor_pps", fl->pps, g.reps);
	putchar(',');
	print_stat("xlb_pps", x->pps, g.reps);
	putchar(',');
	print_stat("ratio", ratio, g.reps);
	putchar(',');
	print_stat("extra_ns", extra, g.reps);
	putchar(',');
	print_stat("floor_delivered", fl->delivered, g.reps);
	putchar(',');
	print_stat("xlb_delivered", x->delivered, g.reps);
	if (c != C_NEW)
		printf(",\"xlb_misses\":%llu", (unsigned long long)x->misses);
	if (c == C_SPREAD)
		printf(",\"xlb_prepass_absent\":%llu", (unsigned long long)g.prepass_absent);
	printf(",\"katran\":{");
	for (int b = 0; b < KATRAN_BUILDS; b++)
		print_katran(c, b);
	printf("}}");
}

static void load_programs(void)
{
	struct xlb_vip_key k = { .port = htons(DPORT_HTTP), .proto = IPPROTO_TCP,
				 .family = XLB_AF_INET };

	g.floor = floor_tx_bpf__open_and_load();
	g.xlb = xlb_bpf__open();
	if (!g.floor || !g.xlb)
		bench_die("load programs: %s", strerror(errno));
	/* Twice the spread flows, at least the default (XLB_CT_SIZE, Katran's LRUs' size). */
	bpf_map__set_max_entries(g.xlb->maps.conntrack, flowtable_size_for(
		2 * SPREAD_FLOWS > XLB_CT_SIZE ? 2 * SPREAD_FLOWS : XLB_CT_SIZE));
	if (xlb_bpf__load(g.xlb))
		bench_die("load xlb: %s", strerror(errno));
	if (flowtable_open(bpf_map__fd(g.xlb->maps.conntrack), &g.ct))
		bench_die("map conntrack: %s", strerror(errno));
	if (bench_xlb_sources(g.xlb))
		bench_die("xlb config: %s", strerror(errno));
	bench_vip4(0, k.addr);
	if (bench_xlb_vip(g.xlb, &k, 0, XLB_TABLE_SIZE_DEFAULT, XLB_AF_INET, 0, BACKENDS, NULL))
		bench_die("xlb vip: %s", strerror(errno));
	g.gen[C_TRACKED] = load_gen(0, 0);
	g.gen[C_SPREAD] = load_gen(1, SPREAD_FLOWS);
	g.gen[C_NEW] = load_gen(1, 0);
}

/* Both Katran builds, configured like xlb's VIP, LRUs as large as xlb's conntrack. */
static void load_katran(void)
{
	unsigned char gw[6];
	__u32 vip[4];

	if (!g.katran_dir) {
		fprintf(stderr, "liverate: no --katran: Katran not measured\n");
		return;
	}
	bench_if_mac(BENCH_PEER, gw);
	bench_vip4(0, vip);
	for (int b = 0; b < KATRAN_BUILDS; b++) {
		g.kat[b] = katran_open(g.katran_dir, b, gw);
		if (!g.kat[b]) {
			fprintf(stderr, "liverate: no %s/%s: Katran %s not measured\n",
				g.katran_dir, katran_file[b], katran_key[b]);
			continue;
		}
		katran_service(g.kat[b], vip, DPORT_HTTP, BACKENDS);
		katran_lrus(g.kat[b], XLB_CT_SIZE);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "frames", required_argument, NULL, 'f' },
		{ "reps", required_argument, NULL, 'r' },
		{ "katran", required_argument, NULL, 'k' },
		{},
	};
	struct bench_flow f = { .family = XLB_AF_INET, .proto = IPPROTO_TCP,
				.tcp_flags = BENCH_TCP_ACK, .sport = CLIENT_PORT,
				.dport = DPORT_HTTP };
	unsigned char frame[BENCH_FRAME_MAX];
	struct sink_bpf *sink;
	size_t len;
	int opt;

	g.frames = 2000000;
	g.reps = 5;
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			g.frames = 300000;
			break;
		case 'f':
			g.frames = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			g.reps = atoi(optarg);
			break;
		case 'k':
			g.katran_dir = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: liverate [--quick] [--frames N] [--reps N] [--katran DIR]\n");
			return 2;
		}
	}
	if (g.reps < 1 || g.reps > MAX_REPS || !g.frames)
		bench_die("--reps must be 1..%d and --frames positive", MAX_REPS);
	g.ifa = if_nametoindex(BENCH_PEER);
	g.ifb = if_nametoindex(BENCH_IFACE);
	if (!g.ifa || !g.ifb)
		bench_die("no %s/%s: run inside the bench namespace (bench/run.sh)", BENCH_PEER,
			  BENCH_IFACE);
	/* One CPU for the whole chain, so every program is measured alike. */
	bench_pin(PIN_CPU);

	sink = sink_bpf__open_and_load();
	if (!sink)
		bench_die("load sink: %s", strerror(errno));
	g.sink_fd = bpf_map__fd(sink->maps.sink_count);
	load_programs();
	load_katran();
	bench_client4(0, f.src);
	bench_vip4(0, f.dst);
	g.tmpl = f;
	len = bench_frame(&f, frame);
	katran_flow_key(&f, &g.tracked);
	attach(g.ifa, bpf_program__fd(sink->progs.sink));

	for (int r = 0; r < g.reps; r++)
		run_rep(r, frame, len);
	if (g.prepass_absent)
		fprintf(stderr, "liverate: xlb's untimed pass left %llu of %d x %d spread flows "
			"out of its conntrack\n", (unsigned long long)g.prepass_absent, g.reps,
			SPREAD_FLOWS);
	bpf_xdp_detach(g.ifb, XDP_FLAGS_DRV_MODE, NULL);
	bpf_xdp_detach(g.ifa, XDP_FLAGS_DRV_MODE, NULL);

	printf("{\"frames\":%u,\"reps\":%d,\"cpu\":%d,\"katran\":{", g.frames, g.reps, PIN_CPU);
	for (int b = 0; b < KATRAN_BUILDS; b++)
		printf("%s\"%s\":%s", b ? "," : "", katran_key[b], g.kat[b] ? "true" : "false");
	printf("},\"cases\":[");
	for (int c = 0; c < NCASES; c++)
		print_case(c);
	printf("]}\n");
	for (int c = 0; c < NCASES; c++)
		gen_bpf__destroy(g.gen[c]);
	for (int b = 0; b < KATRAN_BUILDS; b++)
		katran_close(g.kat[b]);
	flowtable_close(&g.ct);
	xlb_bpf__destroy(g.xlb);
	sink_bpf__destroy(sink);
	floor_tx_bpf__destroy(g.floor);
	return 0;
}
