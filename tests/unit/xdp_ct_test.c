// SPDX-License-Identifier: GPL-2.0
/*
 * Packet tests of conntrack admission (bpf/lib/conntrack.h): a new flow is
 * young (ct_new) until it has carried config.ct_promote_after packets, then
 * lives in conntrack; a flood of short flows therefore never evicts an
 * established idle flow, which the same flood does with single-stage
 * admission (the control case); the per-CPU insert budget stops inserts and
 * counts them; every ct_events counter moves by exactly what happened.
 *
 * The balancer is loaded here, not by fx_xlb_load(): the flood cases need a
 * conntrack small enough to fill (CT_MAIN entries), and their own VIPs:
 *   VIP_WRR    192.0.2.100:80/tcp wrr over BE 1, 2, 3 (10.99.0.11..13), the
 *              table 1, 2, 3 so consecutive picks always differ: a flow that
 *              loses its entry visibly moves
 *   VIP_MAGLEV 192.0.2.101:80/tcp maglev over BE 4, 5 (10.99.0.14, .15)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fixture.h"
#include "check.h"
#include "table.h"
#include "ct.h"
#include "flowtable.h"
#include "xlb.skel.h"

#define CT_MAIN		1024	/* conntrack entries: a flood fills it many times */
#define CT_YOUNG	XLB_CT_NEW_SIZE(CT_MAIN)
#define VIP_WRR		1
#define VIP_MAGLEV	2
#define WRR_BACKENDS	3
#define MAGLEV_TABLE	1021
#define PROMOTE_AFTER	4	/* the default: the flood's SYN, ACK, ACK stays young */
#define IDLE_FLOWS	20	/* established flows that go idle during a flood */
#define FLOOD_FLOWS	(8 * CT_MAIN)
#define BUDGET_RATE	5
#define BUDGET_FLOWS	8
#define BUDGET_TRIES	3	/* a burst that straddles a second is run again */
#define UNTRACKED_FLOWS	10
#define BE_ADDR_FMT	"10.99.0.%u"
#define BE_FIRST_BYTE	10	/* backend id N is 10.99.0.(10 + N) */
#define ICMP_ROUTER	"203.0.113.1"
#define ICMP_FRAG_TYPE	3	/* destination unreachable, */
#define ICMP_FRAG_CODE	4	/* fragmentation needed */
#define ICMP_MTU	1400
#define CLOCK_TRIES	20	/* a jiffy (1 to 10 ms) may pass between two syscalls */

static struct xlb_bpf *skel;
static int prog, ct_fd, young_fd, events_fd, config_fd;
static __u8 frame[PKT_MAX];
static struct fx_run run;

/* A TCP packet of flow @n of client range @net (192.0.2.@vip as the VIP). */
struct flow {
	char src[32];
	struct pkt_spec spec;
};

static void flow_init(struct flow *f, __u32 net, __u32 n, const char *vip)
{
	snprintf(f->src, sizeof(f->src), "100.%u.%u.%u", net, (n >> 8) & 0xff, n & 0xff);
	f->spec = (struct pkt_spec){ .family = 4, .src = f->src, .dst = vip,
				     .proto = IPPROTO_TCP, .sport = 1024 + (n >> 16),
				     .dport = 80, .frag = PKT_DF };
}

static struct xlb_flow_key flow_key(const struct flow *f)
{
	struct xlb_flow_key k = { .sport = htons(f->spec.sport), .dport = htons(f->spec.dport),
				  .proto = IPPROTO_TCP, .family = XLB_AF_INET };

	pkt_addr(4, f->spec.src, k.src);
	pkt_addr(4, f->spec.dst, k.dst);
	return k;
}

/* Send one packet of @f with @flags; the backend id it was sent to, or 0. */
static __u32 send_pkt(struct flow *f, __u8 flags)
{
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = fx_mac_client };
	__u8 ip[PKT_MAX];
	size_t len;
	int err;

	f->spec.tcp_flags = flags;
	len = pkt_frame(&l2, PKT_ETH_P_IP, ip, pkt_ip(&f->spec, ip), frame);
	err = fx_run(prog, fx_ifindex_a, frame, len, &run);
	if (err) {
		t_fail("bpf_prog_test_run: %s", strerror(-err));
		return 0;
	}
	if (run.ret != XDP_TX) {
		t_fail("XDP action: expected XDP_TX, got %d", run.ret);
		return 0;
	}
	/* outer IPv4 destination, last byte */
	return run.out[PKT_ETH_LEN + 19] - BE_FIRST_BYTE;
}

/* The entry of @f in @fd; false if there is none. */
static bool entry(int fd, const struct flow *f, struct xlb_flow *out)
{
	struct xlb_flow_key k = flow_key(f);

	return ct_find(fd, &k, out) == 0;
}

static void set_admission(__u32 promote_after, __u32 insert_rate)
{
	struct xlb_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(config_fd, &zero, &cfg))
		fx_die("config lookup: %s", strerror(errno));
	cfg.ct_promote_after = promote_after;
	cfg.ct_insert_rate = insert_rate;
	if (bpf_map_update_elem(config_fd, &zero, &cfg, BPF_ANY))
		fx_die("config update: %s", strerror(errno));
}

static void clear(int fd)
{
	if (ct_clear(fd))
		fx_die("clear conntrack: %s", strerror(errno));
}

/* Every case starts from empty tables and the default admission. */
static void reset(void)
{
	clear(ct_fd);
	clear(young_fd);
	set_admission(PROMOTE_AFTER, 0);
}

static void events(__u64 ev[XLB_CT_EV_MAX])
{
	for (int e = 0; e < XLB_CT_EV_MAX; e++)
		ev[e] = fx_percpu_u64(events_fd, 0, sizeof(struct xlb_ct_events),
				      offsetof(struct xlb_ct_events, count) + e * sizeof(__u64));
}

/* Check that since @before each counter moved by exactly @want. */
static void expect_events(const __u64 before[XLB_CT_EV_MAX], const __u64 want[XLB_CT_EV_MAX])
{
	static const char *const names[XLB_CT_EV_MAX] = XLB_CT_EVENT_NAMES;
	__u64 now[XLB_CT_EV_MAX];

	events(now);
	for (int e = 0; e < XLB_CT_EV_MAX; e++)
		if (now[e] - before[e] != want[e]) {
			t_fail("ct_events %s: expected +%llu, got +%llu", names[e],
			       (unsigned long long)want[e],
			       (unsigned long long)(now[e] - before[e]));
			return;
		}
}

/* A new flow's first packet makes it young: in ct_new with one packet, not in conntrack. */
static void ct_new_flow_lands_in_young_table(void)
{
	__u64 before[XLB_CT_EV_MAX], want[XLB_CT_EV_MAX] = { [XLB_CT_EV_ADMITTED] = 1 };
	struct xlb_flow fl;
	struct flow f;
	__u32 be;

	reset();
	flow_init(&f, 1, 1, "192.0.2.100");
	events(before);
	be = send_pkt(&f, PKT_SYN);
	RETURN_IF_FAILED();
	EXPECT_TRUE("flow in ct_new", entry(young_fd, &f, &fl));
	EXPECT_EQ("young backend", be, fl.backend_id);
	EXPECT_EQ("young vip", VIP_WRR, fl.vip_id);
	EXPECT_EQ("young packets", 1, fl.young_pkts);
	EXPECT_TRUE("flow not in conntrack", !entry(ct_fd, &f, &fl));
	expect_events(before, want);
}

/*
 * Packets 2 .. N-1 keep the flow young (and on its backend, which under wrr
 * a lost entry would change); packet N moves it to conntrack; later
 * packets are conntrack hits that count nothing.
 */
static void ct_promoted_after_n_packets(void)
{
	__u64 before[XLB_CT_EV_MAX], want[XLB_CT_EV_MAX] = { [XLB_CT_EV_ADMITTED] = 1 };
	struct xlb_flow fl;
	struct flow f;
	__u32 be;

	reset();
	flow_init(&f, 1, 2, "192.0.2.100");
	events(before);
	be = send_pkt(&f, PKT_SYN);
	for (__u32 n = 2; n < PROMOTE_AFTER && !t_failed(); n++) {
		EXPECT_EQ("young flow's backend", be, send_pkt(&f, PKT_ACK));
		EXPECT_TRUE("still young", entry(young_fd, &f, &fl));
		EXPECT_EQ("young packets", n, fl.young_pkts);
		EXPECT_TRUE("not yet in conntrack", !entry(ct_fd, &f, &fl));
	}
	RETURN_IF_FAILED();
	expect_events(before, want);
	RETURN_IF_FAILED();
	EXPECT_EQ("backend at promotion", be, send_pkt(&f, PKT_ACK));
	EXPECT_TRUE("promoted to conntrack", entry(ct_fd, &f, &fl));
	EXPECT_EQ("promoted backend", be, fl.backend_id);
	EXPECT_EQ("promoted vip", VIP_WRR, fl.vip_id);
	EXPECT_EQ("packet count cleared", 0, fl.young_pkts);
	EXPECT_TRUE("gone from ct_new", !entry(young_fd, &f, &fl));
	want[XLB_CT_EV_PROMOTED] = 1;
	expect_events(before, want);
	RETURN_IF_FAILED();
	EXPECT_EQ("backend after promotion", be, send_pkt(&f, PKT_ACK));
	expect_events(before, want);
}

/* promote_after 1 (and 0) is single-stage: straight into conntrack, counted as direct. */
static void ct_promote_after_one_is_direct(void)
{
	__u64 before[XLB_CT_EV_MAX], want[XLB_CT_EV_MAX] = { [XLB_CT_EV_DIRECT] = 2 };
	struct xlb_flow fl;
	struct flow f[2];

	reset();
	events(before);
	for (__u32 i = 0; i < 2; i++) {
		set_admission(i, 0);
		flow_init(&f[i], 1, 3 + i, "192.0.2.100");
		EXPECT_EQ("backend of the next packet", send_pkt(&f[i], PKT_SYN),
			  send_pkt(&f[i], PKT_ACK));
		EXPECT_TRUE("in conntrack at once", entry(ct_fd, &f[i], &fl));
		EXPECT_EQ("no packet count in conntrack", 0, fl.young_pkts);
		EXPECT_TRUE("never young", !entry(young_fd, &f[i], &fl));
	}
	expect_events(before, want);
}

/* A FIN before promotion: the flow ends young and never takes a conntrack slot. */
static void ct_closing_young_flow_not_promoted(void)
{
	struct xlb_flow fl;
	struct flow f;

	reset();
	flow_init(&f, 1, 5, "192.0.2.100");
	send_pkt(&f, PKT_SYN);
	send_pkt(&f, PKT_ACK | PKT_FIN);
	for (__u32 n = 2; n < 2 * PROMOTE_AFTER && !t_failed(); n++)
		send_pkt(&f, PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_TRUE("closing flow still young", entry(young_fd, &f, &fl));
	EXPECT_TRUE("closing flag", fl.flags & XLB_FLOW_F_CLOSING);
	EXPECT_TRUE("not in conntrack", !entry(ct_fd, &f, &fl));
}

/*
 * IDLE_FLOWS established flows, then FLOOD_FLOWS spoofed SYN, ACK, ACK
 * flows (8 times the conntrack size). Returns how many of the idle flows
 * lost their conntrack entry or, on their next packet, their backend.
 */
static __u32 flood_breaks(__u32 promote_after)
{
	struct flow idle[IDLE_FLOWS], f;
	__u32 be[IDLE_FLOWS], broken = 0;
	struct xlb_flow fl;

	reset();
	set_admission(promote_after, 0);
	for (__u32 i = 0; i < IDLE_FLOWS; i++) {
		flow_init(&idle[i], 2, i, "192.0.2.100");
		be[i] = send_pkt(&idle[i], PKT_SYN);
		for (__u32 n = 1; n < PROMOTE_AFTER; n++)
			send_pkt(&idle[i], PKT_ACK);
		if (!entry(ct_fd, &idle[i], &fl))
			t_fail("idle flow %u not established before the flood", i);
	}
	for (__u32 i = 0; i < FLOOD_FLOWS && !t_failed(); i++) {
		flow_init(&f, 3, i, "192.0.2.100");
		send_pkt(&f, PKT_SYN);
		send_pkt(&f, PKT_ACK);
		send_pkt(&f, PKT_ACK);
	}
	for (__u32 i = 0; i < IDLE_FLOWS && !t_failed(); i++)
		if (!entry(ct_fd, &idle[i], &fl) || send_pkt(&idle[i], PKT_ACK) != be[i])
			broken++;
	return broken;
}

static void ct_flood_never_evicts_promoted_idle_flow(void)
{
	__u64 before[XLB_CT_EV_MAX], want[XLB_CT_EV_MAX] = {
		[XLB_CT_EV_ADMITTED] = IDLE_FLOWS + FLOOD_FLOWS,
		[XLB_CT_EV_PROMOTED] = IDLE_FLOWS,
	};
	__u32 broken;

	events(before);
	broken = flood_breaks(PROMOTE_AFTER);
	RETURN_IF_FAILED();
	EXPECT_EQ("idle flows broken by the flood", 0, broken);
	expect_events(before, want);
}

/* The control: the same flood with single-stage admission evicts idle flows. */
static void ct_control_single_stage_flood_evicts_idle_flows(void)
{
	__u32 broken = flood_breaks(1);

	RETURN_IF_FAILED();
	printf("# single-stage control: %u of %u idle flows broken by %u flows in a %u-entry"
	       " conntrack\n", broken, IDLE_FLOWS, FLOOD_FLOWS, CT_MAIN);
	EXPECT_TRUE("the flood breaks idle flows without two stages", broken > 0);
}

static __u64 coarse_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ts.tv_sec;
}

/* Forget every CPU's budget window (counts kept): the next new flow opens a window. */
static void budget_forget(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xlb_ct_events *v = calloc(ncpu, sizeof(*v));
	__u32 zero = 0;

	if (!v || bpf_map_lookup_elem(events_fd, &zero, v))
		fx_die("ct_events lookup: %s", strerror(errno));
	for (int c = 0; c < ncpu; c++)
		v[c].budget_sec = v[c].budget_used = 0;
	if (bpf_map_update_elem(events_fd, &zero, v, BPF_ANY))
		fx_die("ct_events update: %s", strerror(errno));
	free(v);
}

/*
 * With a budget of BUDGET_RATE new flows a second (per CPU: the test stays
 * on one), BUDGET_FLOWS new flows in one second: the first BUDGET_RATE are
 * tracked, the rest are forwarded untracked and counted; the next packet of
 * one of those (maglev) finds the same backend from the table.
 */
static void ct_insert_budget_stops_inserts(void)
{
	__u64 before[XLB_CT_EV_MAX], want[XLB_CT_EV_MAX] = {
		[XLB_CT_EV_ADMITTED] = BUDGET_RATE,
		[XLB_CT_EV_OVER_BUDGET] = BUDGET_FLOWS - BUDGET_RATE,
	};
	struct flow f[BUDGET_FLOWS];
	__u32 be[BUDGET_FLOWS];
	struct xlb_flow fl;
	cpu_set_t cpus, old;
	int tries = 0;
	__u64 sec;

	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		fx_die("sched_setaffinity: %s", strerror(errno));
	do {
		reset();
		set_admission(PROMOTE_AFTER, BUDGET_RATE);
		budget_forget();
		events(before);
		sec = coarse_sec();
		for (__u32 i = 0; i < BUDGET_FLOWS; i++) {
			flow_init(&f[i], 4 + tries, i, "192.0.2.101");
			be[i] = send_pkt(&f[i], PKT_SYN);
		}
	} while (!t_failed() && coarse_sec() != sec && ++tries < BUDGET_TRIES);
	sched_setaffinity(0, sizeof(old), &old);
	RETURN_IF_FAILED();
	EXPECT_TRUE("a burst within one second", tries < BUDGET_TRIES);
	expect_events(before, want);
	for (__u32 i = 0; i < BUDGET_FLOWS && !t_failed(); i++) {
		EXPECT_EQ("tracked (young) within the budget", i < BUDGET_RATE,
			  entry(young_fd, &f[i], &fl));
		EXPECT_TRUE("never in conntrack", !entry(ct_fd, &f[i], &fl));
	}
	RETURN_IF_FAILED();
	set_admission(PROMOTE_AFTER, 0);
	EXPECT_EQ("untracked maglev flow keeps its backend", be[BUDGET_FLOWS - 1],
		  send_pkt(&f[BUDGET_FLOWS - 1], PKT_ACK));
}

/*
 * Why a bare SYN must be tracked (docs/DESIGN.md): on a wrr VIP an
 * untracked flow's next packet is a new pick, another backend. Measured
 * with the budget exhausted (nothing is tracked): every one of
 * UNTRACKED_FLOWS handshakes moves between its SYN and its ACK.
 */
static void ct_untracked_syn_moves_on_wrr(void)
{
	__u32 moved = 0, cpu = sched_getcpu();
	cpu_set_t cpus, old;
	struct flow f;

	reset();
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&cpus);
	CPU_SET(cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	set_admission(PROMOTE_AFTER, 1);
	budget_forget();
	flow_init(&f, 5, 0, "192.0.2.100");
	send_pkt(&f, PKT_SYN);	/* the one flow this second's budget tracks */
	for (__u32 i = 1; i <= UNTRACKED_FLOWS && !t_failed(); i++) {
		flow_init(&f, 5, i, "192.0.2.100");
		if (send_pkt(&f, PKT_SYN) != send_pkt(&f, PKT_ACK))
			moved++;
	}
	sched_setaffinity(0, sizeof(old), &old);
	RETURN_IF_FAILED();
	printf("# untracked SYN on wrr: %u of %u flows moved to another backend on their ACK\n",
	       moved, UNTRACKED_FLOWS);
	/* At most a window change lets a flow or two be tracked after all. */
	EXPECT_TRUE("untracked wrr flows move", moved >= UNTRACKED_FLOWS - 2);
}

/* The wrr VIP's table: the sequence @a, @b, @c (XLB_BACKEND_NONE: an empty slot). */
static void wrr_table(__u32 a, __u32 b, __u32 c)
{
	__u32 slots[WRR_BACKENDS] = { a, b, c }, vip = VIP_WRR;
	int fd = table_map_new(slots, WRR_BACKENDS);

	if (fd < 0 || bpf_map_update_elem(bpf_map__fd(skel->maps.tables), &vip, &fd, BPF_ANY))
		fx_die("wrr table: %s", strerror(fd < 0 ? -fd : errno));
	close(fd);
}

static void set_backend(__u32 id, __u8 flags)
{
	char addr[32];

	snprintf(addr, sizeof(addr), BE_ADDR_FMT, BE_FIRST_BYTE + id);
	fx_backend(skel, id, 4, addr, 1, flags, VIP_WRR);
}

/*
 * An ICMP error about a young flow follows the flow (the table is empty, so
 * only ct_new knows the backend) and neither counts a packet nor promotes.
 */
static void ct_icmp_error_follows_young_flow(void)
{
	__u64 before[XLB_CT_EV_MAX], want[XLB_CT_EV_MAX] = {};
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = fx_mac_client };
	struct pkt_spec reply;
	__u8 q[PKT_MAX], ip[PKT_MAX];
	struct xlb_flow fl;
	struct flow f;
	size_t len;
	__u32 be;

	reset();
	flow_init(&f, 1, 6, "192.0.2.100");
	be = send_pkt(&f, PKT_SYN);
	RETURN_IF_FAILED();
	reply = (struct pkt_spec){ .family = 4, .src = "192.0.2.100", .dst = f.src,
				   .proto = IPPROTO_TCP, .sport = 80, .dport = f.spec.sport,
				   .tcp_flags = PKT_ACK, .frag = PKT_DF, .payload = 1400 };
	pkt_ip(&reply, q);
	len = pkt_icmp4_err(ICMP_ROUTER, "192.0.2.100", ICMP_FRAG_TYPE, ICMP_FRAG_CODE,
			    ICMP_MTU, q, PKT_IP4_LEN + PKT_TCP_LEN, ip);
	len = pkt_frame(&l2, PKT_ETH_P_IP, ip, len, frame);
	wrr_table(XLB_BACKEND_NONE, XLB_BACKEND_NONE, XLB_BACKEND_NONE);
	events(before);
	fx_run(prog, fx_ifindex_a, frame, len, &run);
	wrr_table(1, 2, 3);
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	EXPECT_EQ("ICMP error's backend", be, run.out[PKT_ETH_LEN + 19] - BE_FIRST_BYTE);
	EXPECT_TRUE("flow still young", entry(young_fd, &f, &fl));
	EXPECT_EQ("young packets (the error is not one)", 1, fl.young_pkts);
	expect_events(before, want);
}

/*
 * An established flow whose backend goes DOWN (--down-flows move) is picked again and young
 * again; its promotion overwrites the stale conntrack entry, so it stays on
 * the new backend when the old one comes back.
 */
static void ct_stale_entry_replaced_by_promotion(void)
{
	__u64 before[XLB_CT_EV_MAX], want[XLB_CT_EV_MAX] = {
		[XLB_CT_EV_ADMITTED] = 1, [XLB_CT_EV_PROMOTED] = 1,
	};
	struct xlb_flow fl;
	struct flow f;
	__u32 old, moved;

	reset();
	flow_init(&f, 1, 7, "192.0.2.100");
	old = send_pkt(&f, PKT_SYN);
	for (__u32 n = 1; n < PROMOTE_AFTER; n++)
		send_pkt(&f, PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_TRUE("established", entry(ct_fd, &f, &fl));
	/* what the control plane does for a DOWN backend: flag it, table without it */
	set_backend(old, XLB_BE_F_USED | XLB_BE_F_DOWN);
	wrr_table(old % WRR_BACKENDS + 1, old % WRR_BACKENDS + 1, old % WRR_BACKENDS + 1);
	events(before);
	moved = send_pkt(&f, PKT_ACK);
	EXPECT_EQ("re-picked backend", old % WRR_BACKENDS + 1, moved);
	EXPECT_TRUE("young again", entry(young_fd, &f, &fl));
	EXPECT_EQ("young backend", moved, fl.backend_id);
	for (__u32 n = 1; n < PROMOTE_AFTER && !t_failed(); n++)
		EXPECT_EQ("young flow's backend", moved, send_pkt(&f, PKT_ACK));
	set_backend(old, XLB_BE_F_USED);
	wrr_table(1, 2, 3);
	RETURN_IF_FAILED();
	EXPECT_TRUE("promoted", entry(ct_fd, &f, &fl));
	EXPECT_EQ("conntrack entry overwritten", moved, fl.backend_id);
	EXPECT_TRUE("gone from ct_new", !entry(young_fd, &f, &fl));
	EXPECT_EQ("stays on the new backend when the old one is back", moved,
		  send_pkt(&f, PKT_ACK));
	expect_events(before, want);
}

/*
 * With promotion off (promote-after 0 or 1) the data plane does not read
 * ct_new: a young flow whose table slot changed would move to the table's
 * new backend (the control, flow a). So the commit that turns promotion
 * off moves every young flow to conntrack first (ct_young_promote(), as
 * user/lib/commit.c calls it): flow b keeps its backend.
 */
static void ct_young_flows_kept_when_promotion_turns_off(void)
{
	struct flow a, b;
	__u32 be_a, be_b, other = 1;
	struct xlb_flow e;

	reset();
	flow_init(&a, 6, 1, "192.0.2.100");
	flow_init(&b, 6, 2, "192.0.2.100");
	be_a = send_pkt(&a, PKT_SYN);
	be_b = send_pkt(&b, PKT_SYN);
	RETURN_IF_FAILED();
	EXPECT_TRUE("a is young", entry(young_fd, &a, &e) && !entry(ct_fd, &a, &e));
	while (other == be_a || other == be_b)
		other++;
	wrr_table(other, other, other);
	EXPECT_EQ("young a keeps its backend while promotion is on", be_a, send_pkt(&a, PKT_ACK));
	set_admission(1, 0);
	EXPECT_EQ("control: young a moves to the table's backend", other, send_pkt(&a, PKT_ACK));
	EXPECT_EQ("move the young flows", 0, ct_young_promote(young_fd, ct_fd));
	EXPECT_TRUE("b in conntrack, not young", entry(ct_fd, &b, &e) && !e.young_pkts &&
		    !entry(young_fd, &b, &e));
	EXPECT_EQ("b keeps its backend", be_b, send_pkt(&b, PKT_ACK));
	EXPECT_EQ("a keeps the one it moved to", other, send_pkt(&a, PKT_ACK));
	wrr_table(1, 2, 3);
	reset();
}

/* Flows of client range 4 whose keys share flow @f[0]'s conntrack bucket, into @f[0..n). */
static void same_bucket(struct flow *f, __u32 n)
{
	struct xlb_flow_key k __attribute__((aligned(8)));
	__u32 bucket = 0, found = 0;

	for (__u32 i = 0; found < n && i < 1u << 16; i++) {
		flow_init(&f[found], 4, i, "192.0.2.100");
		k = flow_key(&f[found]);
		if (!found)
			bucket = xlb_ct_bucket((__u32)xlb_ct_hash64(&k), CT_MAIN);
		if (xlb_ct_bucket((__u32)xlb_ct_hash64(&k), CT_MAIN) == bucket)
			found++;
	}
	if (found < n)
		fx_die("no %u flows share a conntrack bucket", n);
}

/*
 * XLB_CT_WAYS flows that share a bucket all stay tracked (the control: a
 * table of one way a bucket would keep one); one more takes the way of the
 * least recently seen, which is counted as evicted, and only that one is
 * lost. A flow user space stores (ct_store(), as session sync does) is the
 * one the data plane then finds.
 */
static void ct_full_bucket_evicts_its_least_recently_seen_flow(void)
{
	__u64 before[XLB_CT_EV_MAX], want[XLB_CT_EV_MAX] = {
		[XLB_CT_EV_DIRECT] = 1, [XLB_CT_EV_EVICTED] = 1,
	};
	struct flow f[XLB_CT_WAYS + 1];
	struct xlb_flow_key k;
	struct xlb_flow fl;
	__u32 be[XLB_CT_WAYS], oldest = 2;

	reset();
	set_admission(1, 0);
	same_bucket(f, XLB_CT_WAYS + 1);
	for (__u32 i = 0; i < XLB_CT_WAYS; i++)
		be[i] = send_pkt(&f[i], PKT_SYN);
	for (__u32 i = 0; i < XLB_CT_WAYS; i++)
		EXPECT_TRUE("every way of the bucket holds a flow", entry(ct_fd, &f[i], &fl));
	RETURN_IF_FAILED();
	/* Make one flow, not the first way's, the least recently seen. */
	k = flow_key(&f[oldest]);
	entry(ct_fd, &f[oldest], &fl);
	fl.last_seen_ns = 1;
	EXPECT_EQ("age a flow", 0, ct_store(ct_fd, &k, &fl, BPF_EXIST));
	events(before);
	send_pkt(&f[XLB_CT_WAYS], PKT_SYN);
	expect_events(before, want);
	EXPECT_TRUE("the new flow is tracked", entry(ct_fd, &f[XLB_CT_WAYS], &fl));
	EXPECT_TRUE("the least recently seen flow is not", !entry(ct_fd, &f[oldest], &fl));
	for (__u32 i = 0; i < XLB_CT_WAYS; i++)
		if (i != oldest && !entry(ct_fd, &f[i], &fl))
			t_fail("flow %u of the bucket lost its entry", i);
	RETURN_IF_FAILED();
	/* Stored back by user space on another backend: the data plane follows it. */
	fl = (struct xlb_flow){ .backend_id = be[oldest] % WRR_BACKENDS + 1, .vip_id = VIP_WRR,
				.last_seen_ns = 2 };
	EXPECT_EQ("store from user space", 0, ct_store(ct_fd, &k, &fl, BPF_NOEXIST));
	EXPECT_EQ("the stored backend", fl.backend_id, send_pkt(&f[oldest], PKT_ACK));
	EXPECT_EQ("stored twice", -EEXIST, ct_store(ct_fd, &k, &fl, BPF_NOEXIST));
	EXPECT_EQ("removed", 0, ct_remove(ct_fd, &k));
	EXPECT_TRUE("gone", !entry(ct_fd, &f[oldest], &fl));
	reset();
}

static bool count_key(const struct xlb_flow_key *k, const struct xlb_flow *f, void *arg)
{
	struct { struct xlb_flow_key k; __u32 n; } *c = arg;

	c->n += !memcmp(k, &c->k, sizeof(*k));
	return false;
}

/*
 * A stale entry (its backend gone) in a later way than a free one is
 * rewritten in place when its flow is picked again: a bucket never holds a
 * key twice (the free way would otherwise take a second copy).
 */
static void ct_stale_entry_rewritten_in_its_own_way(void)
{
	struct { struct xlb_flow_key k; __u32 n; } c = { .n = 0 };
	struct flow f[2];
	struct xlb_flow_key k0;
	struct xlb_flow fl;
	__u32 be;

	reset();
	set_admission(1, 0);
	same_bucket(f, 2);
	send_pkt(&f[0], PKT_SYN);
	send_pkt(&f[1], PKT_SYN);
	k0 = flow_key(&f[0]);
	c.k = flow_key(&f[1]);
	EXPECT_EQ("free the first way", 0, ct_remove(ct_fd, &k0));
	EXPECT_TRUE("second flow tracked", entry(ct_fd, &f[1], &fl));
	RETURN_IF_FAILED();
	fl.backend_id = XLB_MAX_BACKENDS - 1;	/* no such backend: stale */
	EXPECT_EQ("make it stale", 0, ct_store(ct_fd, &c.k, &fl, BPF_EXIST));
	be = send_pkt(&f[1], PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_EQ("walk", 0, ct_walk(ct_fd, count_key, &c, NULL, NULL));
	EXPECT_EQ("copies of the flow in its bucket", 1, c.n);
	EXPECT_TRUE("tracked", entry(ct_fd, &f[1], &fl));
	EXPECT_EQ("on the backend it was sent to", be, fl.backend_id);
	reset();
}

/*
 * A way torn by two writers (one flow's key beside another backend than
 * its check word names) is a miss: the flow is picked again and its way
 * rewritten whole. The control: the same way with its check intact sends
 * the flow to the backend it names.
 */
static void ct_torn_way_reads_as_a_miss(void)
{
	struct { struct xlb_flow_key k; __u32 n; } c = { .n = 0 };
	struct xlb_ct_entry *e;
	struct flowtable t;
	struct xlb_flow fl;
	struct flow f;
	__u32 be, other;

	reset();
	set_admission(1, 0);
	/* The maglev VIP (backends 4 and 5): a flow's pick is its hash's, every time. */
	flow_init(&f, 5, 1, "192.0.2.101");
	be = send_pkt(&f, PKT_SYN);
	c.k = flow_key(&f);
	other = be == 4 ? 5 : 4;
	EXPECT_EQ("map the table", 0, flowtable_open(ct_fd, &t));
	RETURN_IF_FAILED();
	e = flowtable_find(&t, &c.k);
	EXPECT_TRUE("tracked", e != NULL);
	if (e) {
		fl = e->flow;
		fl.backend_id = other;
		flowtable_write(e, &c.k, &fl);
		EXPECT_EQ("control: an intact way is followed", other, send_pkt(&f, PKT_ACK));
		fl.backend_id = be;
		flowtable_write(e, &c.k, &fl);
		e->flow.backend_id = other;	/* torn: the check names the pick */
		EXPECT_EQ("torn: picked again", be, send_pkt(&f, PKT_ACK));
		EXPECT_TRUE("rewritten whole", flowtable_entry_ok(e) && e->flow.backend_id == be);
	}
	flowtable_close(&t);
	EXPECT_EQ("walk", 0, ct_walk(ct_fd, count_key, &c, NULL, NULL));
	EXPECT_EQ("copies of the flow", 1, c.n);
	reset();
}

/* Every CPU's clock_cache entry set to @c. */
static void clock_set_all(struct xlb_clock c)
{
	int fd = bpf_map__fd(skel->maps.clock_cache), n = libbpf_num_possible_cpus();
	struct xlb_clock *v = calloc(n, sizeof(*v));
	__u32 zero = 0;

	for (int i = 0; v && i < n; i++)
		v[i] = c;
	if (!v || bpf_map_update_elem(fd, &zero, v, BPF_ANY))
		t_fail("clock_cache update: %s", strerror(errno));
	free(v);
}

/* The latest clock_cache entry of any CPU (the highest jiffy). */
static struct xlb_clock clock_latest(void)
{
	int fd = bpf_map__fd(skel->maps.clock_cache), n = libbpf_num_possible_cpus();
	struct xlb_clock *v = calloc(n, sizeof(*v)), best = { 0, 0 };
	__u32 zero = 0;

	if (v && !bpf_map_lookup_elem(fd, &zero, v))
		for (int i = 0; i < n; i++)
			if (v[i].jiffies > best.jiffies)
				best = v[i];
	free(v);
	return best;
}

/*
 * The program reads the coarse clock only when the jiffy has changed since
 * this CPU last did (xlb_clock_now()): within a jiffy, a new flow is
 * stamped with the cached reading (set here to one the clock cannot give:
 * one ns before the real one; a jiffy may pass between the write and the
 * packet, so it is tried a few times). The control: an entry of another
 * jiffy is read again, and the flow gets the real clock.
 */
static void ct_clock_read_again_only_when_the_jiffy_changes(void)
{
	struct xlb_clock cur, fake;
	struct xlb_flow fl = {};
	struct flow f;
	bool cached = false;

	reset();
	set_admission(1, 0);
	flow_init(&f, 6, 1, "192.0.2.101");
	send_pkt(&f, PKT_SYN);
	cur = clock_latest();
	EXPECT_TRUE("a CPU read the clock", cur.jiffies && cur.ns);
	RETURN_IF_FAILED();
	for (__u32 i = 0; i < CLOCK_TRIES && !cached && !t_failed(); i++) {
		cur = clock_latest();
		fake = (struct xlb_clock){ .jiffies = cur.jiffies, .ns = cur.ns - 1 };
		clock_set_all(fake);
		flow_init(&f, 6, 2 + i, "192.0.2.101");
		send_pkt(&f, PKT_SYN);
		cached = entry(ct_fd, &f, &fl) && fl.last_seen_ns == fake.ns;
	}
	EXPECT_TRUE("within a jiffy, the cached reading stamps the flow", cached);
	cur = clock_latest();
	clock_set_all((struct xlb_clock){ .jiffies = cur.jiffies - 1, .ns = 1 });
	flow_init(&f, 6, 2 + CLOCK_TRIES, "192.0.2.101");
	send_pkt(&f, PKT_SYN);
	EXPECT_TRUE("control: another jiffy's entry is read again",
		    entry(ct_fd, &f, &fl) && fl.last_seen_ns >= cur.ns);
	EXPECT_TRUE("and rewritten", clock_latest().ns >= cur.ns);
	reset();
}

static void setup(void)
{
	__u32 mag[] = { 4, 5 };
	char addr[32];

	fx_net_setup();
	skel = xlb_bpf__open();
	if (!skel)
		fx_die("open xlb skeleton: %s", strerror(errno));
	if (bpf_map__set_max_entries(skel->maps.conntrack, CT_MAIN) ||
	    bpf_map__set_max_entries(skel->maps.ct_new, CT_YOUNG))
		fx_die("resize conntrack maps");
	if (xlb_bpf__load(skel))
		fx_die("load xlb skeleton (verifier?): %s", strerror(errno));
	prog = bpf_program__fd(skel->progs.xlb_balance);
	ct_fd = bpf_map__fd(skel->maps.conntrack);
	young_fd = bpf_map__fd(skel->maps.ct_new);
	events_fd = bpf_map__fd(skel->maps.ct_events);
	config_fd = bpf_map__fd(skel->maps.config);
	fx_config(skel, FX_SRC4, NULL);
	/* --down-flows move: ct_stale_entry_replaced_by_promotion takes a backend DOWN */
	fx_vip(skel, 4, "192.0.2.100", 80, IPPROTO_TCP, VIP_WRR, WRR_BACKENDS, XLB_SCHED_WRR,
	       XLB_VIP_F_DOWN_MOVE);
	fx_vip(skel, 4, "192.0.2.101", 80, IPPROTO_TCP, VIP_MAGLEV, MAGLEV_TABLE,
	       XLB_SCHED_MAGLEV, 0);
	for (__u32 id = 1; id <= 5; id++) {
		snprintf(addr, sizeof(addr), BE_ADDR_FMT, BE_FIRST_BYTE + id);
		fx_backend(skel, id, 4, addr, 1, XLB_BE_F_USED,
			   id <= WRR_BACKENDS ? VIP_WRR : VIP_MAGLEV);
	}
	wrr_table(1, 2, 3);
	fx_table(skel, VIP_MAGLEV, MAGLEV_TABLE, mag, 2);
}

static const struct t_case cases[] = {
	T_CASE(ct_new_flow_lands_in_young_table),
	T_CASE(ct_promoted_after_n_packets),
	T_CASE(ct_promote_after_one_is_direct),
	T_CASE(ct_closing_young_flow_not_promoted),
	T_CASE(ct_icmp_error_follows_young_flow),
	T_CASE(ct_stale_entry_replaced_by_promotion),
	T_CASE(ct_flood_never_evicts_promoted_idle_flow),
	T_CASE(ct_control_single_stage_flood_evicts_idle_flows),
	T_CASE(ct_insert_budget_stops_inserts),
	T_CASE(ct_untracked_syn_moves_on_wrr),
	T_CASE(ct_young_flows_kept_when_promotion_turns_off),
	T_CASE(ct_full_bucket_evicts_its_least_recently_seen_flow),
	T_CASE(ct_stale_entry_rewritten_in_its_own_way),
	T_CASE(ct_torn_way_reads_as_a_miss),
	T_CASE(ct_clock_read_again_only_when_the_jiffy_changes),
};

int main(int argc, char **argv)
{
	setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
