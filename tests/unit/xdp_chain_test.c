// SPDX-License-Identifier: GPL-2.0
/*
 * Packet tests of the second chance at the backend (bpf/lib/chain.h): a
 * GUE copy of a TCP segment this host holds no socket for goes on to the
 * next hop of its hop list (outer destination rewritten, next incremented,
 * checksums valid: the expected frame is built from scratch with the new
 * destination and compared byte for byte), routed by the FIB or, with
 * forwarding off, bounced to the neighbour it came from; a copy this host
 * owns (a real established socket in the test's namespace), a SYN, UDP,
 * the last hop, a next hop that is this host and one with no route are
 * delivered. The listener alone is the control case: it exists for every
 * chained segment here, and does not own an ACK that is no SYN cookie; the
 * ACK of a real cookie it sent (tcp_syncookies 2, the connection then
 * dropped without a trace) it does own. ICMP errors about a TCP flow follow
 * the flow.
 *
 * Link A of the fixture is the backend's interface; 10.99.0.17 and .18
 * (fd00:99::17, ::18) are this host's decap addresses, 10.99.0.12
 * (fd00:99::12) the next backend, a neighbour with fx_be_mac(12); one
 * case's next backend is behind link B (10.98.0.21, fd00:98::21).
 */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fixture.h"
#include "check.h"
#include "gue.h"
#include "decap.skel.h"

#define BAL4		"10.99.0.2"	/* the balancer: in --from 10.99.0.0/30 */
#define BAL6		"fd00:99::2"
#define SELF4		"10.99.0.17"	/* this host's decap addresses */
#define SELF4B		"10.99.0.18"
#define SELF6		"fd00:99::17"
#define SELF6B		"fd00:99::18"
#define NEXT4		"10.99.0.12"	/* the next backend */
#define NEXT6		"fd00:99::12"
#define NEXT_MAC	12
#define NONEIGH4	"10.99.0.50"	/* on link A, no neighbour entry */
#define NOROUTE4	"203.0.113.5"	/* no route at all */
#define VIP4		"192.0.2.10"	/* on lo, with a listener on port 80 */
#define VIP6		"2001:db8::10"
#define CLIENT4		"198.51.100.40"
#define CLIENT6		"2001:db8:c::40"
#define VIP_PORT	80
#define CPORT		48000		/* no connection from here: only the listener */
#define CPORT_EST	48100		/* a connection the cases make */

static struct decap_bpf *dc;
static int dc_prog, dc_reasons, dc_addrs;
static int listen4[3] = { -1, -1, -1 }, listen6[3] = { -1, -1, -1 };
static __u8 in[PKT_MAX], want[PKT_MAX], l3[PKT_MAX], inner[PKT_MAX];
static struct fx_run run;
static __u64 before[XLB_REASON_MAX];
static const __u8 peer_mac[6] = { 0x02, 0, 0, 0, 0x0a, 0x02 };	/* the balancer's */

static void chain_setup(void)
{
	const char *self[][2] = { { "4", SELF4 }, { "4", SELF4B }, { "6", SELF6 },
				  { "6", SELF6B } };
	int local = -1;

	dc = decap_bpf__open_and_load();
	if (!dc)
		fx_die("load decap skeleton");
	dc_prog = bpf_program__fd(dc->progs.xlb_decap);
	dc_reasons = bpf_map__fd(dc->maps.reasons);
	dc_addrs = bpf_map__fd(dc->maps.decap_addrs);
	local = bpf_map__fd(dc->maps.decap_local);
	for (size_t i = 0; i < sizeof(self) / sizeof(self[0]); i++)
		if (gtest_key_set(dc_addrs, self[i][0][0] - '0', self[i][1], 1))
			fx_die("decap_addrs");
	if (gtest_key_set(local, 4, VIP4, 1) || gtest_key_set(local, 6, VIP6, 1) ||
	    gtest_from_add(bpf_map__fd(dc->maps.decap_from4), bpf_map__fd(dc->maps.decap_from6),
			   "10.99.0.0/30") ||
	    gtest_from_add(bpf_map__fd(dc->maps.decap_from4), bpf_map__fd(dc->maps.decap_from6),
			   BAL6 "/128"))
		fx_die("decap maps");
	/* The VIPs, and the clients (for real connections), on lo as on a backend. */
	if (gtest_sh("ip addr add " VIP4 "/32 dev lo && ip addr add " CLIENT4 "/32 dev lo") ||
	    gtest_sh("ip addr add " VIP6 "/128 dev lo nodad && "
		     "ip addr add " CLIENT6 "/128 dev lo nodad"))
		fx_die("addresses on lo");
	if (gtest_tcp(4, VIP4, VIP_PORT, NULL, 0, listen4) ||
	    gtest_tcp(6, VIP6, VIP_PORT, NULL, 0, listen6))
		fx_die("listeners on the VIPs");
}

/* inner[] = client -> VIP:@dport TCP segment with @flags from @cport (or UDP with @udp). */
static size_t inner_pkt_to(int family, __u8 flags, __u16 cport, __u16 dport, int udp)
{
	struct pkt_spec s = { .family = family, .src = family == 4 ? CLIENT4 : CLIENT6,
			      .dst = family == 4 ? VIP4 : VIP6,
			      .proto = udp ? IPPROTO_UDP : IPPROTO_TCP, .sport = cport,
			      .dport = dport, .tcp_flags = flags, .payload = 32 };

	if (family == 4)
		s.frag = PKT_DF;
	return pkt_ip(&s, inner);
}

static size_t inner_pkt(int family, __u8 flags, __u16 cport, int udp)
{
	return inner_pkt_to(family, flags, cport, VIP_PORT, udp);
}

/* @out = frame from @smac to @dmac of GUE from @src to @dst with hops @h around inner[0..n). */
static size_t gue_frame(int family, const char *src, const char *dst, const struct gtest_hops *h,
			size_t n, const __u8 *dmac, const __u8 *smac, __u8 *out)
{
	struct pkt_l2 l2 = { .dmac = dmac, .smac = smac };
	size_t len = gtest_gue(family, src, dst, 0, XLB_GUE_PORT_DEFAULT, h, inner, n, l3);

	return pkt_frame(&l2, family == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6, l3, len, out);
}

/* in[] = the balancer's copy to this host (hop 0 of @h). */
static size_t gue_in(int family, const struct gtest_hops *h, size_t n)
{
	return gue_frame(family, family == 4 ? BAL4 : BAL6, h->hop[h->next], h, n, fx_mac_a,
			 peer_mac, in);
}

static void send_in(size_t len)
{
	int err;

	fx_reasons(dc_reasons, before);
	err = fx_run(dc_prog, fx_ifindex_a, in, len, &run);
	if (err)
		t_fail("bpf_prog_test_run: %s", strerror(-err));
}

/* The program returned @action with want[0..len) and counted @reason. */
static void expect_out(size_t in_len, int action, size_t len, int reason)
{
	send_in(in_len);
	RETURN_IF_FAILED();
	fx_expect_reason(dc_reasons, before, reason);
	EXPECT_EQ("XDP action", action, run.ret);
	EXPECT_EQ("frame length", len, run.out_len);
	EXPECT_TRUE("frame as expected, byte for byte", !memcmp(run.out, want, len));
	fx_expect_reason(dc_reasons, before, reason);
}

/* Delivered: the same link header in front of inner[0..n). */
static void expect_delivered(size_t in_len, size_t n, int reason)
{
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = peer_mac };
	size_t len = pkt_frame(&l2, (inner[0] >> 4) == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6, inner,
			       n, want);

	expect_out(in_len, XDP_PASS, len, reason);
}

/* Chained to @to: the copy with outer destination @to and next + 1, MACs given. */
static void expect_chained(int family, struct gtest_hops h, size_t n, const char *to,
			   const __u8 *dmac, const __u8 *smac, int action, int reason)
{
	size_t in_len = gue_in(family, &h, n), len;

	h.next++;
	len = gue_frame(family, family == 4 ? BAL4 : BAL6, to, &h, n, dmac, smac, want);
	expect_out(in_len, action, len, reason);
}

static void expect_chained_tx(int family, int inner_family)
{
	struct gtest_hops h = { .count = 2 };
	__u8 mac[6];
	size_t n = inner_pkt(inner_family, PKT_ACK, CPORT, 0);

	h.hop[0] = family == 4 ? SELF4 : SELF6;
	h.hop[1] = family == 4 ? NEXT4 : NEXT6;
	fx_be_mac(NEXT_MAC, mac);
	expect_chained(family, h, n, h.hop[1], mac, fx_mac_a, XDP_TX, XLB_DECAP_CHAIN_TX);
}

static void chain_no_socket_chained4(void)
{
	expect_chained_tx(4, 4);
}

static void chain_no_socket_chained6(void)
{
	expect_chained_tx(6, 6);
}

static void chain_no_socket_chained_4in6(void)
{
	expect_chained_tx(6, 4);
}

/* The chained copy passes every check at the next hop, which delivers it (last hop). */
static void chain_copy_delivered_at_next_hop(void)
{
	size_t n = inner_pkt(4, PKT_ACK, CPORT, 0);

	expect_chained_tx(4, 4);
	RETURN_IF_FAILED();
	memcpy(in, run.out, run.out_len);
	memcpy(in, fx_mac_a, 6);
	memcpy(in + 6, peer_mac, 6);
	if (gtest_key_set(dc_addrs, 4, NEXT4, 1))
		return;
	expect_delivered(run.out_len, n, XLB_DECAP_LAST_HOP);
	gtest_key_set(dc_addrs, 4, NEXT4, 0);
}

/* A real connection in this namespace: the lookup finds it, the copy is ours. */
static void expect_owned(int family, int inner_family)
{
	struct gtest_hops h = { .count = 2 };
	int fds[3];
	size_t n, len;

	h.hop[0] = family == 4 ? SELF4 : SELF6;
	h.hop[1] = family == 4 ? NEXT4 : NEXT6;
	if (gtest_tcp(inner_family, inner_family == 4 ? VIP4 : VIP6, VIP_PORT + 1,
		      inner_family == 4 ? CLIENT4 : CLIENT6, CPORT_EST, fds))
		return;
	/* port 81: the listener of every other case holds port 80 */
	n = inner_pkt_to(inner_family, PKT_ACK, CPORT_EST, VIP_PORT + 1, 0);
	len = gue_in(family, &h, n);
	expect_delivered(len, n, XLB_DECAP_OWNED);
	if (!t_failed()) {
		/* control: the next client port has no connection, only the listener */
		n = inner_pkt_to(inner_family, PKT_ACK, CPORT_EST + 1, VIP_PORT + 1, 0);
		send_in(gue_in(family, &h, n));
		if (!t_failed())
			fx_expect_reason(dc_reasons, before, XLB_DECAP_CHAIN_TX);
	}
	gtest_close(fds);
}

static void chain_established_delivered4(void)
{
	expect_owned(4, 4);
}

static void chain_established_delivered6(void)
{
	expect_owned(6, 6);
}

static void chain_established_delivered_4in6(void)
{
	expect_owned(6, 4);
}

static void chain_syn_delivered(void)
{
	struct gtest_hops h = { .count = 2, .hop = { SELF4, NEXT4 } };
	size_t n = inner_pkt(4, PKT_SYN, CPORT, 0);

	expect_delivered(gue_in(4, &h, n), n, XLB_DECAP_OK);
	RETURN_IF_FAILED();
	/* control: the same flow's ACK is chained */
	n = inner_pkt(4, PKT_ACK, CPORT, 0);
	send_in(gue_in(4, &h, n));
	RETURN_IF_FAILED();
	fx_expect_reason(dc_reasons, before, XLB_DECAP_CHAIN_TX);
}

static void chain_udp_delivered(void)
{
	struct gtest_hops h = { .count = 2, .hop = { SELF6, NEXT6 } };
	size_t n = inner_pkt(6, 0, CPORT, 1);

	expect_delivered(gue_in(6, &h, n), n, XLB_DECAP_OK);
}

static void chain_last_hop_delivered(void)
{
	struct gtest_hops h = { .count = 2, .next = 1, .hop = { NEXT4, SELF4 } };
	size_t n = inner_pkt(4, PKT_ACK, CPORT, 0);

	expect_delivered(gue_in(4, &h, n), n, XLB_DECAP_LAST_HOP);
	RETURN_IF_FAILED();
	h = (struct gtest_hops){ .count = 1, .hop = { SELF6 } };
	n = inner_pkt(6, PKT_ACK, CPORT, 0);
	expect_delivered(gue_in(6, &h, n), n, XLB_DECAP_LAST_HOP);
}

static void chain_self_next_hop_delivered(void)
{
	struct gtest_hops h = { .count = 2, .hop = { SELF4, SELF4B } };
	size_t n = inner_pkt(4, PKT_ACK, CPORT, 0);

	expect_delivered(gue_in(4, &h, n), n, XLB_DECAP_SELF_HOP);
	RETURN_IF_FAILED();
	h = (struct gtest_hops){ .count = 2, .hop = { SELF6, SELF6B } };
	n = inner_pkt(6, PKT_ACK, CPORT, 0);
	expect_delivered(gue_in(6, &h, n), n, XLB_DECAP_SELF_HOP);
}

static void chain_no_route_delivered(void)
{
	struct gtest_hops h = { .count = 2, .hop = { SELF4, NOROUTE4 } };
	size_t n = inner_pkt(4, PKT_ACK, CPORT, 0);

	expect_delivered(gue_in(4, &h, n), n, XLB_DECAP_NO_ROUTE);
}

/* Next hop not resolved yet: the rewritten copy goes to the kernel, which resolves and routes. */
static void chain_no_neigh_to_kernel(void)
{
	struct gtest_hops h = { .count = 2, .hop = { SELF4, NONEIGH4 } };
	size_t n = inner_pkt(4, PKT_ACK, CPORT, 0);

	expect_chained(4, h, n, NONEIGH4, fx_mac_a, peer_mac, XDP_PASS, XLB_DECAP_CHAIN_KERNEL);
}

/* A next hop behind another interface (link B): new MACs, redirected there. */
static void chain_other_link_redirected(void)
{
	struct gtest_hops h = { .count = 2, .hop = { SELF4, "10.98.0.21" } };
	size_t n = inner_pkt(4, PKT_ACK, CPORT, 0);
	__u8 mac[6];

	fx_be_mac(21, mac);
	expect_chained(4, h, n, h.hop[1], mac, fx_mac_b, XDP_REDIRECT,
		       XLB_DECAP_CHAIN_REDIRECT);
	RETURN_IF_FAILED();
	h = (struct gtest_hops){ .count = 2, .hop = { SELF6, "fd00:98::21" } };
	n = inner_pkt(6, PKT_ACK, CPORT, 0);
	expect_chained(6, h, n, h.hop[1], mac, fx_mac_b, XDP_REDIRECT,
		       XLB_DECAP_CHAIN_REDIRECT);
}

static int forwarding(const char *val)
{
	return gtest_sysctl("/proc/sys/net/ipv4/conf/" FX_IF_A "/forwarding", val) ||
	       gtest_sysctl("/proc/sys/net/ipv6/conf/" FX_IF_A "/forwarding", val);
}

/* A backend that does not forward sends the copy back to the neighbour it came from. */
static void chain_forwarding_off_bounced(void)
{
	struct gtest_hops h4 = { .count = 2, .hop = { SELF4, NEXT4 } };
	struct gtest_hops h6 = { .count = 2, .hop = { SELF6, NEXT6 } };
	size_t n;

	if (forwarding("0"))
		return;
	n = inner_pkt(4, PKT_ACK, CPORT, 0);
	expect_chained(4, h4, n, NEXT4, peer_mac, fx_mac_a, XDP_TX, XLB_DECAP_CHAIN_BOUNCE);
	if (!t_failed()) {
		n = inner_pkt(6, PKT_ACK, CPORT, 0);
		expect_chained(6, h6, n, NEXT6, peer_mac, fx_mac_a, XDP_TX,
			       XLB_DECAP_CHAIN_BOUNCE);
	}
	forwarding("1");
}

#define ROUTER4		"10.99.0.77"	/* where an ICMP error comes from */
#define ROUTER6		"fd00:99::77"
#define ICMP_FRAG_NEEDED	3, 4	/* type, code */
#define ICMP6_TOO_BIG		2, 0
#define ICMP_ECHO		8, 0
#define QUOTE_MTU	1400

/*
 * inner[] = an ICMP error (or echo: @type, @code) to the VIP from a router,
 * quoting the VIP's segment to the client port @cport, server port @port.
 */
static size_t inner_icmp(int family, __u8 type, __u8 code, __u16 cport, __u16 port)
{
	struct pkt_spec s = { .family = family, .src = family == 4 ? VIP4 : VIP6,
			      .dst = family == 4 ? CLIENT4 : CLIENT6, .proto = IPPROTO_TCP,
			      .sport = port, .dport = cport, .tcp_flags = PKT_ACK,
			      .payload = 1300 };
	__u8 quote[PKT_MAX];
	size_t q = pkt_ip(&s, quote);

	if (family == 4)
		return pkt_icmp4_err(ROUTER4, VIP4, type, code, QUOTE_MTU, quote,
				     PKT_IP4_LEN + 8, inner);
	return pkt_icmp6_err(ROUTER6, VIP6, type, code, QUOTE_MTU, quote, q > 1000 ? 1000 : q,
			     inner);
}

/* An ICMP error about a flow no connection here owns follows the chain ... */
static void chain_icmp_error_unowned_chained(void)
{
	struct gtest_hops h = { .count = 2, .hop = { SELF4, NEXT4 } };
	size_t n = inner_icmp(4, ICMP_FRAG_NEEDED, CPORT, VIP_PORT);
	__u8 mac[6];

	fx_be_mac(NEXT_MAC, mac);
	expect_chained(4, h, n, NEXT4, mac, fx_mac_a, XDP_TX, XLB_DECAP_CHAIN_TX);
	RETURN_IF_FAILED();
	h = (struct gtest_hops){ .count = 2, .hop = { SELF6, NEXT6 } };
	n = inner_icmp(6, ICMP6_TOO_BIG, CPORT, VIP_PORT);
	expect_chained(6, h, n, NEXT6, mac, fx_mac_a, XDP_TX, XLB_DECAP_CHAIN_TX);
}

/* ... one about a connection of this host is delivered ... */
static void chain_icmp_error_owned_delivered(void)
{
	for (int family = 4; family <= 6; family += 2) {
		struct gtest_hops h = { .count = 2, .hop = { family == 4 ? SELF4 : SELF6,
							     family == 4 ? NEXT4 : NEXT6 } };
		int fds[3];
		size_t n;

		if (gtest_tcp(family, family == 4 ? VIP4 : VIP6, VIP_PORT + 2,
			      family == 4 ? CLIENT4 : CLIENT6, CPORT_EST + 2, fds))
			return;
		if (family == 4)
			n = inner_icmp(4, ICMP_FRAG_NEEDED, CPORT_EST + 2, VIP_PORT + 2);
		else
			n = inner_icmp(6, ICMP6_TOO_BIG, CPORT_EST + 2, VIP_PORT + 2);
		expect_delivered(gue_in(family, &h, n), n, XLB_DECAP_OWNED);
		gtest_close(fds);
		RETURN_IF_FAILED();
	}
}

/* ... and other ICMP is delivered on the first hop. */
static void chain_icmp_echo_delivered(void)
{
	struct gtest_hops h = { .count = 2, .hop = { SELF4, NEXT4 } };
	size_t n = inner_icmp(4, ICMP_ECHO, CPORT, VIP_PORT);

	expect_delivered(gue_in(4, &h, n), n, XLB_DECAP_OK);
}

#define SYNCOOKIES	"/proc/sys/net/ipv4/tcp_syncookies"
#define TCP_SEQ_OFF	4
#define TCP_ACK_OFF	8

/* The next sequence number of @fd's send (@queue TCP_SEND_QUEUE) or receive queue. */
static int queue_seq(int fd, int queue, __u32 *seq)
{
	socklen_t len = sizeof(*seq);

	if (setsockopt(fd, SOL_TCP, TCP_REPAIR_QUEUE, &queue, sizeof(queue)) ||
	    getsockopt(fd, SOL_TCP, TCP_QUEUE_SEQ, seq, &len)) {
		t_fail("TCP_QUEUE_SEQ: %m");
		return -1;
	}
	return 0;
}

/*
 * A connection made through a SYN cookie (tcp_syncookies 2: always), then
 * dropped on both sides without a trace (RST; the client in repair mode):
 * only the listener is left, and the client's ACK of the cookie, which
 * @seq/@ack return, is still one the listener would accept.
 */
static int cookie_ack(int fds[3], __u16 port, __u16 cport, __u32 *seq, __u32 *ack)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int on = 1, err;

	if (gtest_sysctl(SYNCOOKIES, "2"))
		return -1;
	err = gtest_tcp(4, VIP4, port, CLIENT4, cport, fds);
	gtest_sysctl(SYNCOOKIES, "1");
	if (err)
		return -1;
	if (setsockopt(fds[1], SOL_TCP, TCP_REPAIR, &on, sizeof(on))) {
		t_fail("TCP_REPAIR: %m");
		return -1;
	}
	if (queue_seq(fds[1], TCP_SEND_QUEUE, seq) || queue_seq(fds[1], TCP_RECV_QUEUE, ack))
		return -1;
	setsockopt(fds[2], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fds[2]);
	close(fds[1]);
	fds[1] = fds[2] = -1;
	return 0;
}

/* A listener owns the ACK of its SYN cookie (the connection lives in the cookie) ... */
static void chain_syncookie_ack_delivered(void)
{
	struct gtest_hops h = { .count = 2, .hop = { SELF4, NEXT4 } };
	__u16 port = VIP_PORT + 3, cport = CPORT_EST + 3;
	int fds[3] = { -1, -1, -1 };
	__u32 seq, ack;
	size_t n;

	if (cookie_ack(fds, port, cport, &seq, &ack))
		goto out;
	n = inner_pkt_to(4, PKT_ACK, cport, port, 0);
	put32(inner + PKT_IP4_LEN + TCP_SEQ_OFF, seq);
	put32(inner + PKT_IP4_LEN + TCP_ACK_OFF, ack);
	expect_delivered(gue_in(4, &h, n), n, XLB_DECAP_OWNED);
	if (t_failed())
		goto out;
	/* ... but not an ACK of anything else (control: the cookie off by one) */
	put32(inner + PKT_IP4_LEN + TCP_ACK_OFF, ack + 1);
	send_in(gue_in(4, &h, n));
	if (!t_failed())
		fx_expect_reason(dc_reasons, before, XLB_DECAP_CHAIN_TX);
out:
	gtest_close(fds);
}

static const struct t_case cases[] = {
	T_CASE(chain_no_socket_chained4),
	T_CASE(chain_no_socket_chained6),
	T_CASE(chain_no_socket_chained_4in6),
	T_CASE(chain_copy_delivered_at_next_hop),
	T_CASE(chain_established_delivered4),
	T_CASE(chain_established_delivered6),
	T_CASE(chain_established_delivered_4in6),
	T_CASE(chain_syn_delivered),
	T_CASE(chain_udp_delivered),
	T_CASE(chain_last_hop_delivered),
	T_CASE(chain_self_next_hop_delivered),
	T_CASE(chain_no_route_delivered),
	T_CASE(chain_no_neigh_to_kernel),
	T_CASE(chain_other_link_redirected),
	T_CASE(chain_forwarding_off_bounced),
	T_CASE(chain_icmp_error_unowned_chained),
	T_CASE(chain_icmp_error_owned_delivered),
	T_CASE(chain_icmp_echo_delivered),
	T_CASE(chain_syncookie_ack_delivered),
};

int main(int argc, char **argv)
{
	fx_net_setup();
	chain_setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
