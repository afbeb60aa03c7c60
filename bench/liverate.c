// SPDX-License-Identifier: GPL-2.0
/*
 * Live packet rate (issue 6, part 2). In the bench namespace, the program
 * under test is attached (native XDP) to xlbb-b; a sink that counts and
 * drops is attached to its peer xlbb-a. The generator (gen.bpf.c) runs
 * with BPF_F_TEST_XDP_LIVE_FRAMES on xlbb-a: each frame leaves xlbb-a with
 * XDP_TX, is handled by the program on xlbb-b, which sends it back
 * (xlb: encapsulated to a backend via the permanent gateway neighbour;
 * floor (b): MACs swapped), and the sink counts it. Rate = frames the sink
 * counted / wall time. Everything runs on one CPU in softirq, so the rate
 * is that of the whole chain (generator + veth + program + sink); the
 * report also gives the per-frame difference, which is the program's own.
 *
 * Cases: one tracked flow; 100,000 tracked flows in turn (tracked by an
 * untimed pass first: the working set of a busy balancer, without the
 * syscall between packets that pktcost has); and a new flow every frame
 * (source address and port from a counter). Each repetition measures
 * floor and xlb back to back for each. Writes one JSON document to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchlib.h"
#include "xlb.skel.h"
#include "floor_tx.skel.h"
#include "sink.skel.h"
#include "gen.skel.h"

#define BACKENDS		10
#define DPORT_HTTP		80
#define CLIENT_PORT		1024
#define SETTLE_US		20000	/* let the last softirq run before reading the sink */
#define SPREAD_FLOWS		100000
#define NCASES			3

static struct {
	int ifa, ifb, reps;
	__u32 frames;
	int sink_fd;
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

static void print_stat(const char *key, double *v, int n)
{
	double tmp[n];
	struct bench_stat s;

	memcpy(tmp, v, sizeof(tmp));
	s = bench_summary(tmp, n);
	printf("\"%s\":{\"med\":%.4g,\"min\":%.4g,\"max\":%.4g}", key, s.med, s.min, s.max);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "frames", required_argument, NULL, 'f' },
		{ "reps", required_argument, NULL, 'r' },
		{},
	};
	const char *cases[NCASES] = { "tracked", "tracked_spread", "new_flows" };
	struct bench_flow f = { .family = XLB_AF_INET, .proto = IPPROTO_TCP,
				.tcp_flags = BENCH_TCP_ACK, .sport = CLIENT_PORT,
				.dport = DPORT_HTTP };
	double pps[NCASES][2][16], dlv[NCASES][2][16], extra[NCASES][16], ratio[NCASES][16], x;
	unsigned char frame[BENCH_FRAME_MAX];
	struct gen_bpf *gen[NCASES];
	struct floor_tx_bpf *floor;
	struct sink_bpf *sink;
	struct xlb_bpf *xlb;
	struct xlb_vip_key k = { .port = htons(DPORT_HTTP), .proto = IPPROTO_TCP,
				 .family = XLB_AF_INET };
	cpu_set_t cpus;
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
		default:
			fprintf(stderr, "usage: liverate [--quick] [--frames N] [--reps N]\n");
			return 2;
		}
	}
	if (g.reps < 1 || g.reps > 16 || !g.frames)
		bench_die("--reps must be 1..16 and --frames positive");
	g.ifa = if_nametoindex(BENCH_PEER);
	g.ifb = if_nametoindex(BENCH_IFACE);
	if (!g.ifa || !g.ifb)
		bench_die("no %s/%s: run inside the bench namespace (bench/run.sh)", BENCH_PEER,
			  BENCH_IFACE);
	/* One CPU for the whole chain, so both programs are measured alike. */
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	floor = floor_tx_bpf__open_and_load();
	sink = sink_bpf__open_and_load();
	xlb = xlb_bpf__open_and_load();
	if (!floor || !sink || !xlb)
		bench_die("load programs: %s", strerror(errno));
	g.sink_fd = bpf_map__fd(sink->maps.sink_count);
	if (bench_xlb_sources(xlb))
		bench_die("xlb config: %s", strerror(errno));
	bench_vip4(0, k.addr);
	if (bench_xlb_vip(xlb, &k, 0, XLB_TABLE_SIZE_DEFAULT, XLB_AF_INET, 0, BACKENDS, NULL))
		bench_die("xlb vip: %s", strerror(errno));
	gen[0] = load_gen(0, 0);
	gen[1] = load_gen(1, SPREAD_FLOWS);
	gen[2] = load_gen(1, 0);
	bench_client4(0, f.src);
	bench_vip4(0, f.dst);
	len = bench_frame(&f, frame);
	attach(g.ifa, bpf_program__fd(sink->progs.sink));
	/* Untimed: xlb tracks the spread flows before they are measured as tracked. */
	{
		__u32 frames = g.frames;

		attach(g.ifb, bpf_program__fd(xlb->progs.xlb_balance));
		g.frames = SPREAD_FLOWS;
		measure(bpf_program__fd(gen[1]->progs.gen), frame, len, &x);
		g.frames = frames;
	}

	for (int r = 0; r < g.reps; r++) {
		for (int c = 0; c < NCASES; c++) {
			int fd = bpf_program__fd(gen[c]->progs.gen);

			attach(g.ifb, bpf_program__fd(floor->progs.floor_tx));
			pps[c][0][r] = measure(fd, frame, len, &dlv[c][0][r]);
			attach(g.ifb, bpf_program__fd(xlb->progs.xlb_balance));
			pps[c][1][r] = measure(fd, frame, len, &dlv[c][1][r]);
			ratio[c][r] = pps[c][1][r] / pps[c][0][r];
			extra[c][r] = 1e9 / pps[c][1][r] - 1e9 / pps[c][0][r];
		}
	}
	bpf_xdp_detach(g.ifb, XDP_FLAGS_DRV_MODE, NULL);
	bpf_xdp_detach(g.ifa, XDP_FLAGS_DRV_MODE, NULL);
	if (getenv("BENCH_DEBUG")) {
		int ncpu = libbpf_num_possible_cpus();
		__u64 v[ncpu];

		for (__u32 i = 0; i < XLB_REASON_MAX; i++) {
			__u64 sum = 0;

			if (bpf_map_lookup_elem(bpf_map__fd(xlb->maps.reasons), &i, v))
				continue;
			for (int c = 0; c < ncpu; c++)
				sum += v[c];
			fprintf(stderr, "reason %u: %llu\n", i, (unsigned long long)sum);
		}
	}

	printf("{\"frames\":%u,\"reps\":%d,\"cases\":[", g.frames, g.reps);
	for (int c = 0; c < NCASES; c++) {
		printf("%s{\"name\":\"%s\",", c ? "," : "", cases[c]);
		print_stat("floor_pps", pps[c][0], g.reps);
		putchar(',');
		print_stat("xlb_pps", pps[c][1], g.reps);
		putchar(',');
		print_stat("ratio", ratio[c], g.reps);
		putchar(',');
		print_stat("extra_ns", extra[c], g.reps);
		putchar(',');
		print_stat("floor_delivered", dlv[c][0], g.reps);
		putchar(',');
		print_stat("xlb_delivered", dlv[c][1], g.reps);
		putchar('}');
	}
	printf("]}\n");
	for (int c = 0; c < NCASES; c++)
		gen_bpf__destroy(gen[c]);
	xlb_bpf__destroy(xlb);
	sink_bpf__destroy(sink);
	floor_tx_bpf__destroy(floor);
	return 0;
}
