// SPDX-License-Identifier: GPL-2.0
/*
 * ICMP through the balancer, both ways. In: an error about a packet a
 * backend sent from a VIP goes to the backend that owns the flow. Out: a
 * VIP packet too big for the route once encapsulated is answered with
 * "fragmentation needed" / "packet too big", whose every field and checksum
 * is checked here.
 */
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "robust.h"
#include "ct.h"
#include "xlb.skel.h"

#define ROUTER4		"203.0.113.1"
#define ROUTER6		"2001:db8:f::1"
#define VIP4		"192.0.2.10"
#define VIP6		"2001:db8::10"
#define ICMP_DEST_UNREACH	3
#define ICMP_FRAG_NEEDED	4
#define ICMP_ECHO		8
#define ICMP6_ECHO		128
#define ICMP6_NEIGH_SOLICIT	135
#define ICMP6_PKT_TOO_BIG	2
#define ICMP_REPLY_TOS		0xc0	/* Linux: IPTOS_PREC_INTERNETCONTROL */
#define ICMP_REPLY_TTL		64
#define IPV6_MIN_MTU		1280
#define ICMP6_QUOTE		(IPV6_MIN_MTU - PKT_IP6_LEN - PKT_ICMP_LEN)
#define PATH_MTU		1300	/* what a router on the way back reports */

static __u8 in[PKT_MAX];
static struct fx_run run;
static __u64 before[XLB_REASON_MAX];

static size_t frame4(const void *l3, size_t len, int vlan)
{
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = fx_mac_client, .vlan = vlan,
			     .tci = 7 };

	return pkt_frame(&l2, PKT_ETH_P_IP, l3, len, in);
}

static size_t frame6(const void *l3, size_t len)
{
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = fx_mac_client };

	return pkt_frame(&l2, PKT_ETH_P_IPV6, l3, len, in);
}

/* Send the frame in[] and expect it forwarded with XDP_TX to @be. */
static void expect_fwd(size_t len, __u32 be, const struct xlb_flow_key *key)
{
	struct want_encap w = { .in = in, .in_len = len, .be = be, .smac = fx_mac_a,
				.key = key };

	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	EXPECT_EQ("backend (by outer daddr)", be, encap_backend(&run, 0));
	check_encap(&w, &run);
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, XLB_FWD_TX);
}

static void expect_untouched(size_t len, int action, int reason)
{
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	check_untouched(in, len, &run, action);
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, reason);
}

/* Start a tracked flow client:sport -> VIP4:80 and return its backend. */
static __u32 start_flow4(const char *client, __u16 sport)
{
	struct pkt_spec s = { .family = 4, .src = client, .dst = VIP4, .proto = IPPROTO_TCP,
			      .sport = sport, .dport = 80, .tcp_flags = PKT_SYN };
	size_t len = bal_frame(&s, 0, 0, in);

	bal_send(fx_ifindex_a, in, len, &run, before);
	if (run.ret != XDP_TX)
		t_fail("flow setup: expected XDP_TX, got %d", run.ret);
	return encap_backend(&run, 0);
}

/* The error a router sends when the backend's reply (VIP -> client) is too big. */
static size_t frag_needed_about(const char *client, __u16 cport, __u8 *l3)
{
	struct pkt_spec reply = { .family = 4, .src = VIP4, .dst = client,
				  .proto = IPPROTO_TCP, .sport = 80, .dport = cport,
				  .tcp_flags = PKT_ACK, .frag = PKT_DF, .payload = 1400 };
	__u8 q[PKT_MAX];

	pkt_ip(&reply, q);
	return pkt_icmp4_err(ROUTER4, VIP4, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, PATH_MTU,
			     q, PKT_IP4_LEN + 8, l3);
}

/* The error follows conntrack, not the table: the table is swapped first. */
static void xdp_icmp_frag_needed_tracked_flow(void)
{
	const char *client = "198.51.100.20";
	struct pkt_spec flow = { .family = 4, .src = client, .dst = VIP4,
				 .proto = IPPROTO_TCP, .sport = 46000, .dport = 80 };
	struct xlb_flow_key k = bal_key(&flow);
	__u32 be = start_flow4(client, 46000), alt = be == 1 ? 2 : 1, ids[] = { 1, 2 };
	__u8 l3[PKT_MAX];
	size_t len;

	RETURN_IF_FAILED();
	fx_table_fill(bal, VIP_TCP4, BAL_TABLE, alt);
	len = frame4(l3, frag_needed_about(client, 46000, l3), 0);
	expect_fwd(len, be, &k);
	fx_table(bal, VIP_TCP4, BAL_TABLE, ids, 2);
}

/* An error about an untracked flow hashes like that flow, and tracks nothing. */
static void xdp_icmp_frag_needed_untracked_flow(void)
{
	const char *client = "198.51.100.21";
	struct pkt_spec flow = { .family = 4, .src = client, .dst = VIP4,
				 .proto = IPPROTO_TCP, .sport = 46001, .dport = 80 };
	struct xlb_flow_key k = bal_key(&flow);
	struct xlb_flow f;
	__u8 l3[PKT_MAX];
	size_t len = frame4(l3, frag_needed_about(client, 46001, l3), 0);

	expect_fwd(len, bal_predict(VIP_TCP4, &flow, 0), &k);
	RETURN_IF_FAILED();
	EXPECT_TRUE("no conntrack entry for the flow",
		    ct_find(bpf_map__fd(bal->maps.conntrack), &k, &f) != 0);
}

static void xdp_icmp6_packet_too_big_tracked_flow(void)
{
	struct pkt_spec flow = { .family = 6, .src = "2001:db8:c::20", .dst = VIP6,
				 .proto = IPPROTO_TCP, .sport = 46002, .dport = 80,
				 .tcp_flags = PKT_SYN };
	struct pkt_spec reply = { .family = 6, .src = VIP6, .dst = "2001:db8:c::20",
				  .proto = IPPROTO_TCP, .sport = 80, .dport = 46002,
				  .tcp_flags = PKT_ACK, .payload = 1400 };
	struct xlb_flow_key k = bal_key(&flow);
	__u8 l3[PKT_MAX], q[PKT_MAX];
	__u32 ids[] = { 5 };
	size_t len = bal_frame(&flow, 0, 0, in);

	bal_send(fx_ifindex_a, in, len, &run, before);
	EXPECT_EQ("flow setup: XDP action", XDP_TX, run.ret);
	/* With an empty table only conntrack knows the backend. */
	fx_table_fill(bal, VIP_TCP6, BAL_TABLE, XLB_BACKEND_NONE);
	pkt_ip(&reply, q);
	len = frame6(l3, pkt_icmp6_err(ROUTER6, VIP6, ICMP6_PKT_TOO_BIG, 0, IPV6_MIN_MTU,
				       q, ICMP6_QUOTE, l3));
	expect_fwd(len, 5, &k);
	fx_table(bal, VIP_TCP6, BAL_TABLE, ids, 1);
}

static void xdp_icmp_error_not_vip_passed(void)
{
	struct pkt_spec other = { .family = 4, .src = "192.0.2.99", .dst = "198.51.100.22",
				  .proto = IPPROTO_TCP, .sport = 80, .dport = 46003 };
	__u8 l3[PKT_MAX], q[PKT_MAX];
	size_t len;

	pkt_ip(&other, q);
	len = frame4(l3, pkt_icmp4_err(ROUTER4, "192.0.2.99", ICMP_DEST_UNREACH,
				       ICMP_FRAG_NEEDED, PATH_MTU, q, PKT_IP4_LEN + 8, l3), 0);
	expect_untouched(len, XDP_PASS, XLB_PASS_ICMP_NOT_VIP);
}

/*
 * An error is addressed to the source of the packet it quotes: one that
 * quotes a VIP's packet but goes elsewhere is not about our flow (the
 * control: the same quote addressed to the VIP is forwarded, above).
 */
static void xdp_icmp_error_quoting_vip_to_other_address_passed(void)
{
	struct pkt_spec reply = { .family = 4, .src = VIP4, .dst = "198.51.100.24",
				  .proto = IPPROTO_TCP, .sport = 80, .dport = 46004,
				  .tcp_flags = PKT_ACK, .frag = PKT_DF };
	__u8 l3[PKT_MAX], q[PKT_MAX];
	size_t len;

	pkt_ip(&reply, q);
	len = frame4(l3, pkt_icmp4_err(ROUTER4, "203.0.113.50", ICMP_DEST_UNREACH,
				       ICMP_FRAG_NEEDED, PATH_MTU, q, PKT_IP4_LEN + 8, l3), 0);
	expect_untouched(len, XDP_PASS, XLB_PASS_ICMP_NOT_VIP);
}

/*
 * Echo to a VIP: the balancer's kernel does not own the VIP and would route
 * the request back to the router, so it is dropped. The control: echo to
 * an address no VIP uses is the kernel's, passed as ever.
 */
static void xdp_icmp_echo_to_vip_dropped(void)
{
	__u8 l3[PKT_MAX], data[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	size_t len;

	len = frame4(l3, pkt_icmp4_err("198.51.100.23", VIP4, ICMP_ECHO, 0, 1,
				       data, sizeof(data), l3), 0);
	expect_untouched(len, XDP_DROP, XLB_DROP_VIP_ICMP);
	RETURN_IF_FAILED();
	len = frame6(l3, pkt_icmp6_err("2001:db8:c::23", VIP6, ICMP6_ECHO, 0, 1,
				       data, sizeof(data), l3));
	expect_untouched(len, XDP_DROP, XLB_DROP_VIP_ICMP);
	RETURN_IF_FAILED();
	len = frame4(l3, pkt_icmp4_err("198.51.100.23", "192.0.2.99", ICMP_ECHO, 0, 1,
				       data, sizeof(data), l3), 0);
	expect_untouched(len, XDP_PASS, XLB_PASS_ICMP_NOT_VIP);
}

/*
 * Neighbour discovery to a VIP address is passed: it is link-local (never
 * routed, so it cannot loop), and a host that answers ND for its VIPs needs
 * it. The control is echo to the same address (above): dropped.
 */
static void xdp_icmp6_neighbour_solicitation_to_vip_passed(void)
{
	__u8 l3[PKT_MAX], target[16];
	size_t len;

	pkt_addr(6, VIP6, (__u32 *)target);
	len = frame6(l3, pkt_icmp6_err("fe80::1", VIP6, ICMP6_NEIGH_SOLICIT, 0, 0,
				       target, sizeof(target), l3));
	expect_untouched(len, XDP_PASS, XLB_PASS_ICMP_NOT_VIP);
}

/* An error to a VIP address about a port no VIP has: no backend owns it. */
static void xdp_icmp_error_vip_addr_other_port_dropped(void)
{
	struct pkt_spec other = { .family = 4, .src = VIP4, .dst = "198.51.100.22",
				  .proto = IPPROTO_TCP, .sport = 8081, .dport = 46003 };
	__u8 l3[PKT_MAX], q[PKT_MAX];
	size_t len;

	pkt_ip(&other, q);
	len = frame4(l3, pkt_icmp4_err(ROUTER4, VIP4, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED,
				       PATH_MTU, q, PKT_IP4_LEN + 8, l3), 0);
	expect_untouched(len, XDP_DROP, XLB_DROP_VIP_ICMP);
}

static void xdp_icmp_error_truncated_quote_dropped(void)
{
	__u8 l3[PKT_MAX];
	size_t len = frame4(l3, frag_needed_about("198.51.100.24", 46004, l3), 0);
	size_t cut = len - 1;	/* the quoted ports lose their last byte */

	put16(in + PKT_ETH_LEN + 2, cut - PKT_ETH_LEN);
	put16(in + PKT_ETH_LEN + 10, 0);
	put16(in + PKT_ETH_LEN + 10, pkt_fold(pkt_sum(in + PKT_ETH_LEN, PKT_IP4_LEN, 0)));
	expect_untouched(cut, XDP_DROP, XLB_DROP_MALFORMED);
}

/* An IPv4 DF packet too big for link B once encapsulated. */
static size_t too_big4(int df, int vlan, __u16 sport, int opt_len)
{
	struct pkt_spec s = { .family = 4, .src = "198.51.100.30", .dst = "192.0.2.70",
			      .proto = IPPROTO_TCP, .sport = sport, .dport = 80,
			      .tcp_flags = PKT_ACK, .frag = df ? PKT_DF : 0, .tos = 0x28,
			      .opt_len = opt_len };

	s.payload = FX_MTU_B - PKT_IP4_LEN - opt_len - PKT_TCP_LEN + 50;
	return bal_frame(&s, vlan, 7, in);
}

static void check_frag_needed(size_t in_len, int vlan, int opt_len)
{
	size_t l2 = PKT_ETH_LEN + (vlan ? PKT_VLAN_LEN : 0);
	size_t quote = PKT_IP4_LEN + opt_len + 8;
	const __u8 *ip = run.out + l2, *icmp = ip + PKT_IP4_LEN;
	__u32 vip[4], client[4];

	pkt_addr(4, "192.0.2.70", vip);
	pkt_addr(4, "198.51.100.30", client);
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	EXPECT_EQ("reply length", l2 + PKT_IP4_LEN + PKT_ICMP_LEN + quote, run.out_len);
	EXPECT_TRUE("dst MAC = the client's", !memcmp(run.out, fx_mac_client, 6));
	EXPECT_TRUE("src MAC = ours", !memcmp(run.out + 6, fx_mac_a, 6));
	if (vlan) {
		EXPECT_EQ("802.1Q kept", PKT_ETH_P_8021Q, get16(run.out + 12));
		EXPECT_EQ("TCI kept", 7, get16(run.out + 14));
	}
	EXPECT_EQ("ethertype", PKT_ETH_P_IP, get16(run.out + l2 - 2));
	EXPECT_EQ("version/IHL", 0x45, ip[0]);
	EXPECT_EQ("tos", ICMP_REPLY_TOS, ip[1]);
	EXPECT_EQ("tot_len", PKT_IP4_LEN + PKT_ICMP_LEN + quote, get16(ip + 2));
	EXPECT_EQ("frag_off", 0, get16(ip + 6));
	EXPECT_EQ("ttl", ICMP_REPLY_TTL, ip[8]);
	EXPECT_EQ("protocol", IPPROTO_ICMP, ip[9]);
	EXPECT_EQ("IP checksum residue", 0, pkt_fold(pkt_sum(ip, PKT_IP4_LEN, 0)));
	EXPECT_TRUE("saddr = the VIP", !memcmp(ip + 12, vip, 4));
	EXPECT_TRUE("daddr = the client", !memcmp(ip + 16, client, 4));
	EXPECT_EQ("ICMP type", ICMP_DEST_UNREACH, icmp[0]);
	EXPECT_EQ("ICMP code", ICMP_FRAG_NEEDED, icmp[1]);
	EXPECT_EQ("ICMP unused", 0, get16(icmp + 4));
	EXPECT_EQ("ICMP next-hop MTU (route MTU - outer header)", FX_MTU_B - PKT_IP4_LEN,
		  get16(icmp + 6));
	EXPECT_EQ("ICMP checksum residue", 0,
		  pkt_fold(pkt_sum(icmp, PKT_ICMP_LEN + quote, 0)));
	EXPECT_TRUE("quote = offending header + 8 bytes",
		    !memcmp(icmp + PKT_ICMP_LEN, in + l2, quote));
	(void)in_len;
}

static void xdp_too_big_ipv4_df_frag_needed(void)
{
	size_t len = too_big4(1, 0, 47000, 0);

	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	check_frag_needed(len, 0, 0);
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, XLB_TX_TOO_BIG);
}

static void xdp_too_big_ipv4_options_vlan_frag_needed(void)
{
	size_t len = too_big4(1, 1, 47001, 8);

	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	check_frag_needed(len, 1, 8);
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, XLB_TX_TOO_BIG);
}

/*
 * Without DF the sender expects fragmentation, which XDP cannot do; the
 * kernel does not own the VIP and would route it back: dropped, counted.
 */
static void xdp_too_big_ipv4_no_df_dropped(void)
{
	size_t len = too_big4(0, 0, 47002, 0);

	expect_untouched(len, XDP_DROP, XLB_DROP_TOO_BIG);
}

/* The MTU boundary: exactly the route MTU once encapsulated fits. */
static void xdp_too_big_ipv4_exact_fit_forwarded(void)
{
	struct pkt_spec s = { .family = 4, .src = "198.51.100.31", .dst = "192.0.2.70",
			      .proto = IPPROTO_TCP, .sport = 47003, .dport = 80,
			      .tcp_flags = PKT_ACK, .frag = PKT_DF };
	size_t len;

	s.payload = FX_MTU_B - 2 * PKT_IP4_LEN - PKT_TCP_LEN;
	len = bal_frame(&s, 0, 0, in);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action (fits)", XDP_REDIRECT, run.ret);
	fx_expect_reason(bal_reasons, before, XLB_FWD_REDIRECT);
	RETURN_IF_FAILED();
	s.payload++;
	len = bal_frame(&s, 0, 0, in);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action (one byte over)", XDP_TX, run.ret);
	fx_expect_reason(bal_reasons, before, XLB_TX_TOO_BIG);
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Refill this CPU's ICMP reply budget (a zero stamp is a full refill). */
static void icmp_budget_reset(void)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xlb_icmp_bucket zero[ncpu > 0 ? ncpu : 1];
	__u32 key = 0;

	memset(zero, 0, sizeof(zero));
	if (bpf_map_update_elem(bpf_map__fd(bal->maps.icmp_budget), &key, zero, BPF_ANY))
		t_fail("cannot reset icmp_budget");
}

/*
 * A flood of too-big packets (their sources may be spoofed) gets at most a
 * burst plus the refill rate of replies from one CPU; the rest are dropped
 * and counted. Pinned to one CPU: the budget is per CPU.
 */
static void xdp_too_big_replies_are_rate_limited_per_cpu(void)
{
	enum { N = 400 };
	size_t len = too_big4(1, 0, 47005, 0);
	__u64 t0, t1, limited0, limited1;
	unsigned int answered = 0, dropped = 0, bound;
	cpu_set_t one, saved;

	sched_getaffinity(0, sizeof(saved), &saved);
	CPU_ZERO(&one);
	CPU_SET(sched_getcpu(), &one);
	sched_setaffinity(0, sizeof(one), &one);
	icmp_budget_reset();
	limited0 = fx_percpu_u64(bal_reasons, XLB_DROP_ICMP_LIMIT, sizeof(__u64), 0);
	t0 = mono_ns();
	for (int i = 0; i < N; i++) {
		if (fx_run(bal_prog, fx_ifindex_a, in, len, &run))
			break;
		answered += run.ret == XDP_TX;
		dropped += run.ret == XDP_DROP;
	}
	t1 = mono_ns();
	limited1 = fx_percpu_u64(bal_reasons, XLB_DROP_ICMP_LIMIT, sizeof(__u64), 0);
	sched_setaffinity(0, sizeof(saved), &saved);
	icmp_budget_reset();

	/*
	 * The bucket refills by the coarse clock, a jiffy at a time: allow one
	 * jiffy's tokens (at HZ 100, the coarsest) beyond the elapsed time.
	 */
	bound = XLB_ICMP_BURST + (t1 - t0) / (1000000000ULL / XLB_ICMP_RATE_PER_S) +
		XLB_ICMP_RATE_PER_S / 100 + 1;
	printf("    %u of %u too-big packets answered in %llu us (bound %u), %u dropped\n",
	       answered, N, (unsigned long long)(t1 - t0) / 1000, bound, dropped);
	EXPECT_EQ("packets answered or dropped", N, answered + dropped);
	EXPECT_TRUE("replies within burst + rate", answered <= bound);
	EXPECT_TRUE("at least a burst answered", answered >= XLB_ICMP_BURST);
	EXPECT_EQ("drop_icmp_limit counts every suppressed reply", dropped, limited1 - limited0);
}

/*
 * A route whose MTU leaves less than 1280 bytes after our outer header: the
 * reply still says 1280, the least an IPv6 link may have. (The IPv6 FIB
 * uses a route's MTU only when it is locked.)
 */
static void xdp_too_big_ipv6_never_advertises_below_1280(void)
{
	struct pkt_spec s = { .family = 6, .src = "2001:db8:c::31", .dst = "2001:db8::70",
			      .proto = IPPROTO_TCP, .sport = 47006, .dport = 80,
			      .tcp_flags = PKT_ACK };
	size_t len;

	if (system("ip -6 route add fd00:98::21/128 dev " FX_IF_B " mtu lock 1300"))
		t_fail("cannot add the 1300-byte route");
	RETURN_IF_FAILED();
	/* The next-hop cache asks the FIB again after its TTL. */
	usleep(XLB_NEXTHOP_TTL_NS / 1000 + 50000);
	s.payload = 1300 - PKT_TCP_LEN;
	len = bal_frame(&s, 0, 0, in);
	bal_send(fx_ifindex_a, in, len, &run, before);
	if (system("ip -6 route del fd00:98::21/128 dev " FX_IF_B))
		t_fail("cannot remove the 1300-byte route");
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	EXPECT_EQ("ICMPv6 type", ICMP6_PKT_TOO_BIG, run.out[PKT_ETH_LEN + PKT_IP6_LEN]);
	EXPECT_EQ("ICMPv6 MTU (1300 - 40 would be 1260)", IPV6_MIN_MTU,
		  get32(run.out + PKT_ETH_LEN + PKT_IP6_LEN + 4));
	fx_expect_reason(bal_reasons, before, XLB_TX_TOO_BIG);
}

static void too_big6(int vlan)
{
	struct pkt_spec s = { .family = 6, .src = "2001:db8:c::30", .dst = "2001:db8::70",
			      .proto = IPPROTO_TCP, .sport = 47004, .dport = 80,
			      .tcp_flags = PKT_ACK, .tos = 0x28 };
	size_t l2 = PKT_ETH_LEN + (vlan ? PKT_VLAN_LEN : 0), len;
	const __u8 *ip6, *icmp;

	s.payload = FX_MTU_B - PKT_IP6_LEN - PKT_TCP_LEN + 60;
	len = bal_frame(&s, vlan, 7, in);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	ip6 = run.out + l2;
	icmp = ip6 + PKT_IP6_LEN;
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	EXPECT_EQ("reply length", l2 + IPV6_MIN_MTU, run.out_len);
	EXPECT_TRUE("dst MAC = the client's", !memcmp(run.out, fx_mac_client, 6));
	EXPECT_TRUE("src MAC = ours", !memcmp(run.out + 6, fx_mac_a, 6));
	if (vlan) {
		EXPECT_EQ("802.1Q kept", PKT_ETH_P_8021Q, get16(run.out + 12));
		EXPECT_EQ("TCI kept", 7, get16(run.out + 14));
	}
	EXPECT_EQ("ethertype", PKT_ETH_P_IPV6, get16(run.out + l2 - 2));
	EXPECT_EQ("version/class/label", 6u << 28, get32(ip6));
	EXPECT_EQ("payload_len", PKT_ICMP_LEN + ICMP6_QUOTE, get16(ip6 + 4));
	EXPECT_EQ("next header", IPPROTO_ICMPV6, ip6[6]);
	EXPECT_EQ("hop limit", ICMP_REPLY_TTL, ip6[7]);
	EXPECT_TRUE("saddr = the VIP", !memcmp(ip6 + 8, in + l2 + 24, 16));
	EXPECT_TRUE("daddr = the client", !memcmp(ip6 + 24, in + l2 + 8, 16));
	EXPECT_EQ("ICMPv6 type", ICMP6_PKT_TOO_BIG, icmp[0]);
	EXPECT_EQ("ICMPv6 code", 0, icmp[1]);
	EXPECT_EQ("ICMPv6 MTU (route MTU - outer header)", FX_MTU_B - PKT_IP6_LEN,
		  get32(icmp + 4));
	EXPECT_EQ("ICMPv6 checksum residue", 0,
		  pkt_fold(pkt_sum(icmp, PKT_ICMP_LEN + ICMP6_QUOTE,
				   pkt_pseudo6(ip6 + 8, ip6 + 24, PKT_ICMP_LEN + ICMP6_QUOTE,
					       IPPROTO_ICMPV6))));
	EXPECT_TRUE("quote = the packet's first bytes",
		    !memcmp(icmp + PKT_ICMP_LEN, in + l2, ICMP6_QUOTE));
	fx_expect_reason(bal_reasons, before, XLB_TX_TOO_BIG);
}

static void xdp_too_big_ipv6_packet_too_big(void)
{
	too_big6(0);
}

static void xdp_too_big_ipv6_vlan_packet_too_big(void)
{
	too_big6(1);
}

static const struct t_case cases[] = {
	T_CASE(xdp_icmp_frag_needed_tracked_flow),
	T_CASE(xdp_icmp_frag_needed_untracked_flow),
	T_CASE(xdp_icmp6_packet_too_big_tracked_flow),
	T_CASE(xdp_icmp_error_not_vip_passed),
	T_CASE(xdp_icmp_error_quoting_vip_to_other_address_passed),
	T_CASE(xdp_icmp_echo_to_vip_dropped),
	T_CASE(xdp_icmp6_neighbour_solicitation_to_vip_passed),
	T_CASE(xdp_icmp_error_vip_addr_other_port_dropped),
	T_CASE(xdp_icmp_error_truncated_quote_dropped),
	T_CASE(xdp_too_big_ipv4_df_frag_needed),
	T_CASE(xdp_too_big_ipv4_options_vlan_frag_needed),
	T_CASE(xdp_too_big_ipv4_no_df_dropped),
	T_CASE(xdp_too_big_ipv4_exact_fit_forwarded),
	T_CASE(xdp_too_big_ipv6_packet_too_big),
	T_CASE(xdp_too_big_ipv6_vlan_packet_too_big),
	T_CASE(xdp_too_big_ipv6_never_advertises_below_1280),
	T_CASE(xdp_too_big_replies_are_rate_limited_per_cpu),
};

int main(int argc, char **argv)
{
	bal_setup();
	bal_vip_addrs_sync();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
