// SPDX-License-Identifier: GPL-2.0
/*
 * Packet tests of session sync's events (bpf/lib/conntrack.h): with
 * config.sync_report set, a flow is reported once when it enters conntrack
 * (direct insert, or promotion from the young table) and once when a
 * tracked flow turns CLOSING; never for a young flow, never per packet,
 * and nothing at all with sync off (the control). The last case times a
 * new flow (one SYN, direct insert) with sync off and on, in-kernel
 * (BPF_PROG_TEST_RUN's duration, repeat 1), and prints the figures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fixture.h"
#include "check.h"
#include "xlb.skel.h"

#define VIP		"192.0.2.110"
#define VIP_ID		3
#define BE_ID		7
#define BE_ADDR		"10.99.0.17"
#define TABLE		1021
#define EV_MAX		64
#define COST_FLOWS	20000	/* new flows timed per setting */
#define COST_ROUNDS	5	/* off and on alternate, so drift hits both */

static struct xlb_bpf *skel;
static int prog, ct_fd, young_fd, config_fd;
static struct ring_buffer *rb;
static struct xlb_sync_event evs[EV_MAX];
static size_t nev;
static __u8 frame[PKT_MAX];
static struct fx_run run;

static int on_event(void *ctx, void *data, size_t len)
{
	if (len == sizeof(evs[0]) && nev < EV_MAX)
		memcpy(&evs[nev], data, len);
	nev++;
	return 0;
}

/* The events written since the last call. */
static size_t drain(void)
{
	nev = 0;
	ring_buffer__consume(rb);
	return nev;
}

static void set_config(__u32 promote_after, __u32 sync)
{
	struct xlb_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(config_fd, &zero, &cfg))
		fx_die("config lookup: %s", strerror(errno));
	cfg.ct_promote_after = promote_after;
	cfg.sync_report = sync;
	if (bpf_map_update_elem(config_fd, &zero, &cfg, BPF_ANY))
		fx_die("config update: %s", strerror(errno));
}

static void clear(int fd)
{
	struct xlb_flow_key k;

	while (!bpf_map_get_next_key(fd, NULL, &k))
		bpf_map_delete_elem(fd, &k);
}

static void reset(__u32 promote_after, __u32 sync)
{
	clear(ct_fd);
	clear(young_fd);
	set_config(promote_after, sync);
	drain();
}

struct flow {
	char src[32];
	struct pkt_spec spec;
};

static void flow_init(struct flow *f, __u32 n)
{
	snprintf(f->src, sizeof(f->src), "100.64.%u.%u", (n >> 8) & 0xff, n & 0xff);
	f->spec = (struct pkt_spec){ .family = 4, .src = f->src, .dst = VIP,
				     .proto = IPPROTO_TCP, .sport = 1024 + (n >> 16),
				     .dport = 80, .frag = PKT_DF };
}

static size_t frame_of(struct flow *f, __u8 flags)
{
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = fx_mac_client };
	__u8 ip[PKT_MAX];

	f->spec.tcp_flags = flags;
	return pkt_frame(&l2, PKT_ETH_P_IP, ip, pkt_ip(&f->spec, ip), frame);
}

static void send_pkt(struct flow *f, __u8 flags)
{
	size_t len = frame_of(f, flags);
	int err = fx_run(prog, fx_ifindex_a, frame, len, &run);

	if (err)
		t_fail("bpf_prog_test_run: %s", strerror(-err));
	else if (run.ret != XDP_TX)
		t_fail("XDP action: expected XDP_TX, got %d", run.ret);
}

/* Event 0 is of @type for flow @f, with the backend and VIP ids. */
static void expect_event(const struct flow *f, __u32 type)
{
	__u32 src[4];

	pkt_addr(4, f->src, src);
	EXPECT_EQ("event type", type, evs[0].type);
	EXPECT_EQ("event client", src[0], evs[0].key.src[0]);
	EXPECT_EQ("event client port", htons(f->spec.sport), evs[0].key.sport);
	EXPECT_EQ("event backend", BE_ID, evs[0].backend_id);
	EXPECT_EQ("event vip", VIP_ID, evs[0].vip_id);
}

static void sync_off_reports_nothing(void)
{
	struct flow f;

	reset(1, 0);
	flow_init(&f, 1);
	send_pkt(&f, PKT_SYN);
	send_pkt(&f, PKT_ACK);
	send_pkt(&f, PKT_FIN | PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_EQ("events with sync off", 0, drain());
}

static void direct_insert_reported_once(void)
{
	struct flow f;

	reset(1, 1);
	flow_init(&f, 2);
	send_pkt(&f, PKT_SYN);
	RETURN_IF_FAILED();
	EXPECT_EQ("events after the SYN", 1, drain());
	expect_event(&f, XLB_SYNC_EV_NEW);
	for (int i = 0; i < 10; i++)
		send_pkt(&f, PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_EQ("events of a tracked flow's packets", 0, drain());
}

static void promotion_reported_young_flow_not(void)
{
	struct flow f;

	reset(4, 1);
	flow_init(&f, 3);
	send_pkt(&f, PKT_SYN);
	send_pkt(&f, PKT_ACK);
	send_pkt(&f, PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_EQ("events of a young flow", 0, drain());
	send_pkt(&f, PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_EQ("events at the promotion", 1, drain());
	expect_event(&f, XLB_SYNC_EV_NEW);
	send_pkt(&f, PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_EQ("events after it", 0, drain());
	/* A young flow that closes is not reported: no peer has it. */
	flow_init(&f, 4);
	send_pkt(&f, PKT_SYN);
	send_pkt(&f, PKT_FIN | PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_EQ("events of a young flow closing", 0, drain());
}

static void closing_reported_once(void)
{
	struct flow f;

	reset(1, 1);
	flow_init(&f, 5);
	send_pkt(&f, PKT_SYN);
	RETURN_IF_FAILED();
	drain();
	send_pkt(&f, PKT_FIN | PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_EQ("events at the FIN", 1, drain());
	expect_event(&f, XLB_SYNC_EV_CLOSING);
	EXPECT_TRUE("closing flag in the event", evs[0].flow_flags & XLB_FLOW_F_CLOSING);
	send_pkt(&f, PKT_FIN | PKT_ACK);
	send_pkt(&f, PKT_RST);
	RETURN_IF_FAILED();
	EXPECT_EQ("events of a closing flow's packets", 0, drain());
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* Median in-kernel ns of COST_FLOWS new flows (SYN, direct insert), from flow @first. */
static __u32 new_flow_ns(__u32 first, __u32 *dur)
{
	struct xdp_md ctx = { .ingress_ifindex = fx_ifindex_a };
	struct flow f;

	for (__u32 i = 0; i < COST_FLOWS; i++) {
		size_t len;

		flow_init(&f, first + i);
		len = frame_of(&f, PKT_SYN);
		ctx.data_end = len;
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = len,
			    .data_out = run.out, .data_size_out = sizeof(run.out),
			    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = 1);
		if (bpf_prog_test_run_opts(prog, &opts) || opts.retval != XDP_TX) {
			t_fail("new flow %u: test run failed or not XDP_TX", i);
			return 0;
		}
		dur[i] = opts.duration;
		if (!(i % 1024))
			drain();	/* the agent's part: the ring never fills */
	}
	qsort(dur, COST_FLOWS, sizeof(*dur), cmp_u32);
	return dur[COST_FLOWS / 2];
}

static void sync_cost_of_a_new_flow(void)
{
	__u32 *dur = calloc(COST_FLOWS, sizeof(*dur)), off[COST_ROUNDS], on[COST_ROUNDS];
	__u64 seq = 10000;
	__u32 sum_off = 0, sum_on = 0;

	if (!dur) {
		t_skip("out of memory");
		return;
	}
	for (int r = 0; r < COST_ROUNDS; r++) {
		reset(1, 0);
		off[r] = new_flow_ns(seq, dur);
		seq += COST_FLOWS;
		reset(1, 1);
		on[r] = new_flow_ns(seq, dur);
		seq += COST_FLOWS;
		if (t_failed())
			break;
		sum_off += off[r];
		sum_on += on[r];
	}
	free(dur);
	RETURN_IF_FAILED();
	printf("INFO new flow (SYN, direct insert), median ns over %d flows, %d rounds: "
	       "sync off %u, sync on %u (+%d)\n", COST_FLOWS, COST_ROUNDS,
	       sum_off / COST_ROUNDS, sum_on / COST_ROUNDS,
	       (int)(sum_on / COST_ROUNDS) - (int)(sum_off / COST_ROUNDS));
}

static void setup(void)
{
	__u32 ids[] = { BE_ID };

	fx_net_setup();
	skel = fx_xlb_load();
	prog = bpf_program__fd(skel->progs.xlb_balance);
	ct_fd = bpf_map__fd(skel->maps.conntrack);
	young_fd = bpf_map__fd(skel->maps.ct_new);
	config_fd = bpf_map__fd(skel->maps.config);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.sync_events), on_event, NULL, NULL);
	if (!rb)
		fx_die("ring buffer: %s", strerror(errno));
	fx_config(skel, FX_SRC4, NULL);
	fx_vip(skel, 4, VIP, 80, IPPROTO_TCP, VIP_ID, TABLE, XLB_SCHED_MAGLEV, 0);
	fx_backend(skel, BE_ID, 4, BE_ADDR, 1, XLB_BE_F_USED, VIP_ID);
	fx_table(skel, VIP_ID, TABLE, ids, 1);
}

static const struct t_case cases[] = {
	T_CASE(sync_off_reports_nothing),
	T_CASE(direct_insert_reported_once),
	T_CASE(promotion_reported_young_flow_not),
	T_CASE(closing_reported_once),
	T_CASE(sync_cost_of_a_new_flow),
};

int main(int argc, char **argv)
{
	setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
