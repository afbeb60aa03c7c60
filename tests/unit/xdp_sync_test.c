// SPDX-License-Identifier: GPL-2.0
/*
 * Packet tests of session sync's events (bpf/lib/conntrack.h): with
 * config.sync_report set, a flow is reported once when it enters conntrack
 * (direct insert, or promotion from the young table) and once when a
 * tracked flow turns CLOSING; never for a young flow, never per packet,
 * and nothing at all with sync off (the control). What it costs a new
 * flow is measured by make bench (bench/pktcost's new_syn_sync), not here.
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
#include "ct.h"
#include "xlb.skel.h"

#define VIP		"192.0.2.110"
#define VIP_ID		3
#define BE_ID		7
#define BE_ADDR		"10.99.0.17"
#define TABLE		1021
#define EV_MAX		64

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
	if (ct_clear(fd))
		fx_die("clear conntrack: %s", strerror(errno));
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
};

int main(int argc, char **argv)
{
	setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
