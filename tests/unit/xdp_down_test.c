// SPDX-License-Identifier: GPL-2.0
/*
 * Packet tests of the DOWN policy (struct xlb_vip flags, set by
 * `xlb vip add|set --down-flows stay|move --all-down open|drop`). Why a
 * file of its own: each case runs the same sequence under both settings of
 * one flag, so the default's outcome is shown against the control's.
 *   --down-flows stay (default): a tracked flow stays on its backend when
 *     that goes DOWN (counted fwd_down_stay); move: it re-hashes.
 *   --all-down open (default): a VIP whose every backend is DOWN forwards
 *     by a table of all of them (counted fwd_fail_open); drop: it drops.
 * The maps are set as the control plane sets them: a DOWN backend flagged
 * and left out of the table, or with every backend DOWN and failing open,
 * XLB_VIP_F_ALL_DOWN set and a table of all of them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "ct.h"
#include "xlb.skel.h"

#define CLIENT4		"198.51.100.9"
#define VIP_ADDR	"192.0.2.80"	/* VIP_DRAIN: backends 13 (10.99.0.15) and 14 (.16) */
#define N_FLOWS		64

static __u8 in[PKT_MAX];
static struct fx_run run;
static __u64 before[XLB_REASON_MAX];

static struct pkt_spec tcp(__u16 sport, __u8 flags)
{
	return (struct pkt_spec){ .family = 4, .src = CLIENT4, .dst = VIP_ADDR,
				  .proto = IPPROTO_TCP, .sport = sport, .dport = 80,
				  .tcp_flags = flags, .frag = PKT_DF, .payload = 40 };
}

static void set_vip_flags(__u8 flags)
{
	fx_vip(bal, 4, VIP_ADDR, 80, IPPROTO_TCP, VIP_DRAIN, BAL_TABLE, 0, flags);
}

static void set_be(__u32 id, __u8 flags)
{
	fx_backend(bal, id, 4, bal_be[id].addr, 1, flags, VIP_DRAIN);
}

/* Forget every tracked flow, young or not: each case starts untracked. */
static void flush_ct(void)
{
	if (ct_clear(bpf_map__fd(bal->maps.conntrack)) || ct_clear(bpf_map__fd(bal->maps.ct_new)))
		fx_die("flush conntrack");
}

/* Back to the shared configuration: both up, both in the table, default flags. */
static void restore_vip(void)
{
	__u32 both[] = { 13, 14 };

	set_be(13, XLB_BE_F_USED);
	set_be(14, XLB_BE_F_USED);
	fx_table(bal, VIP_DRAIN, BAL_TABLE, both, 2);
	set_vip_flags(0);
	flush_ct();
}

/*
 * Send @s; the backend it went to (0 if not forwarded). Checks XDP_TX and
 * that fwd_tx and only the reasons in @extra (a reason or -1) were counted.
 */
static __u32 send_fwd(const struct pkt_spec *s, int extra)
{
	size_t len = bal_frame(s, 0, 0, in);
	__u64 now[XLB_REASON_MAX];

	bal_send(fx_ifindex_a, in, len, &run, before);
	if (t_failed())
		return 0;
	if (run.ret != XDP_TX)
		t_fail("XDP action %d, expected XDP_TX", run.ret);
	fx_reasons(bal_reasons, now);
	for (int r = 0; r < XLB_REASON_MAX && !t_failed(); r++) {
		__u64 want = r == XLB_FWD_TX || r == extra;

		if (now[r] - before[r] != want)
			t_fail("reason %s counted %llu times, expected %llu", fx_reason_names[r],
			       (unsigned long long)(now[r] - before[r]), (unsigned long long)want);
	}
	return run.ret == XDP_TX ? encap_backend(&run, 0) : 0;
}

/* A client port whose flow the two-backend table sends to @be. */
static __u16 port_to(__u32 be)
{
	for (__u16 p = 0; p < N_FLOWS; p++) {
		struct pkt_spec s = tcp(41000 + p, PKT_SYN);

		if (bal_predict(VIP_DRAIN, &s, 0) == be)
			return 41000 + p;
	}
	t_fail("no flow of %d tries hashes to backend %u", N_FLOWS, be);
	return 0;
}

/* A tracked flow on 13, then 13 DOWN (flagged, table of 14 only); its next packet's backend. */
static __u32 flow_after_down(__u8 vip_flags, int extra)
{
	__u32 live[] = { 14 };
	struct pkt_spec s;
	__u16 port;
	__u32 be;

	restore_vip();
	set_vip_flags(vip_flags);
	port = port_to(13);
	if (t_failed())
		return 0;
	s = tcp(port, PKT_SYN);
	if (send_fwd(&s, -1) != 13)
		t_fail("the SYN did not go to backend 13");
	set_be(13, XLB_BE_F_USED | XLB_BE_F_DOWN);
	fx_table(bal, VIP_DRAIN, BAL_TABLE, live, 1);
	s.tcp_flags = PKT_ACK;
	be = send_fwd(&s, extra);
	/* New flows never go to the DOWN backend, whatever the policy. */
	s = tcp(port + 1000, PKT_SYN);
	if (send_fwd(&s, -1) != 14)
		t_fail("a new flow did not go to the live backend 14");
	return be;
}

static void xdp_down_default_tracked_flow_stays(void)
{
	EXPECT_EQ("established flow's backend after DOWN", 13,
		  flow_after_down(0, XLB_FWD_DOWN_STAY));
	restore_vip();
}

static void xdp_down_move_tracked_flow_rehashes(void)
{
	EXPECT_EQ("established flow's backend after DOWN", 14,
		  flow_after_down(XLB_VIP_F_DOWN_MOVE, -1));
	restore_vip();
}

/* Every backend DOWN, failing open as the control plane sets it: flag and a table of all. */
static void all_down(__u8 policy)
{
	restore_vip();
	set_be(13, XLB_BE_F_USED | XLB_BE_F_DOWN);
	set_be(14, XLB_BE_F_USED | XLB_BE_F_DOWN);
	set_vip_flags(XLB_VIP_F_ALL_DOWN | policy);
}

static void xdp_down_all_down_default_fails_open(void)
{
	struct pkt_spec s = tcp(port_to(14), PKT_SYN);
	__u32 be;

	all_down(0);
	be = send_fwd(&s, XLB_FWD_FAIL_OPEN);
	EXPECT_EQ("new flow by the fail-open table", bal_predict(VIP_DRAIN, &s, 0), be);
	/* Its next packet is tracked there, DOWN as it is, under move as well. */
	set_vip_flags(XLB_VIP_F_ALL_DOWN | XLB_VIP_F_DOWN_MOVE);
	s.tcp_flags = PKT_ACK;
	EXPECT_EQ("tracked flow while failing open", be, send_fwd(&s, XLB_FWD_FAIL_OPEN));
	restore_vip();
}

static void xdp_down_all_down_drop_drops(void)
{
	struct pkt_spec s = tcp(port_to(14), PKT_SYN);
	size_t len;

	all_down(XLB_VIP_F_ALL_DOWN_DROP);
	len = bal_frame(&s, 0, 0, in);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	check_untouched(in, len, &run, XDP_DROP);
	fx_expect_reason(bal_reasons, before, XLB_DROP_NO_BACKEND);
	restore_vip();
}

/* The policy bits alone change nothing while every backend is up. */
static void xdp_down_policy_idle_when_up(void)
{
	struct pkt_spec s = tcp(port_to(13), PKT_SYN);

	restore_vip();
	set_vip_flags(XLB_VIP_F_DOWN_MOVE | XLB_VIP_F_ALL_DOWN_DROP);
	EXPECT_EQ("backend", 13, send_fwd(&s, -1));
	restore_vip();
}

static const struct t_case cases[] = {
	T_CASE(xdp_down_default_tracked_flow_stays),
	T_CASE(xdp_down_move_tracked_flow_rehashes),
	T_CASE(xdp_down_all_down_default_fails_open),
	T_CASE(xdp_down_all_down_drop_drops),
	T_CASE(xdp_down_policy_idle_when_up),
};

int main(int argc, char **argv)
{
	bal_setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
