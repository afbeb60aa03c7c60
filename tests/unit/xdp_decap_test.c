// SPDX-License-Identifier: GPL-2.0
/*
 * Packet tests of the backend-side decap program: tunnel packets to one of
 * the host's decap addresses come out as the client's packet (same link
 * header, VLAN tag kept, inner bytes identical, ECN CE carried); anything
 * else passes untouched; a tunnel packet with a broken inner header is
 * dropped. The last case feeds the balancer's own output to it.
 */
#include <netinet/in.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "decap.skel.h"

#define DECAP4		"10.99.0.17"	/* backend 1 of the balancer config */
#define DECAP6		"fd00:99::15"	/* backend 5 */
#define OTHER4		"10.99.0.12"
#define OTHER6		"fd00:99::12"
#define ECN_MASK	0x03
#define ECN_ECT0	0x02
#define ECN_CE		0x03
#define IPPROTO_IPV6_	41

static struct decap_bpf *dc;
static int dc_prog, dc_reasons;
static __u8 in[PKT_MAX], want[PKT_MAX], l3[PKT_MAX], inner[PKT_MAX];
static struct fx_run run;
static __u64 before[XLB_REASON_MAX];
static const __u8 peer_mac[6] = { 0x02, 0, 0, 0, 0x0a, 0x01 };

static void decap_setup(void)
{
	const char *addrs[][2] = { { "4", DECAP4 }, { "6", DECAP6 } };
	__u8 one = 1;

	dc = decap_bpf__open_and_load();
	if (!dc)
		fx_die("load decap skeleton");
	dc_prog = bpf_program__fd(dc->progs.xlb_decap);
	dc_reasons = bpf_map__fd(dc->maps.reasons);
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct xlb_decap_key k = { .family = addrs[i][0][0] - '0' };

		pkt_addr(k.family, addrs[i][1], k.addr);
		if (bpf_map_update_elem(bpf_map__fd(dc->maps.decap_addrs), &k, &one, BPF_ANY))
			fx_die("decap_addrs update");
	}
}

static size_t inner4(__u8 tos)
{
	struct pkt_spec s = { .family = 4, .src = "198.51.100.40", .dst = "192.0.2.10",
			      .proto = IPPROTO_TCP, .sport = 48000, .dport = 80,
			      .tcp_flags = PKT_SYN, .tos = tos, .frag = PKT_DF, .payload = 64 };

	return pkt_ip(&s, inner);
}

static size_t inner6(__u8 tclass)
{
	struct pkt_spec s = { .family = 6, .src = "2001:db8:c::40", .dst = "2001:db8::10",
			      .proto = IPPROTO_UDP, .sport = 48000, .dport = 53,
			      .tos = tclass, .flow_label = 0xabcde, .payload = 64 };

	return pkt_ip(&s, inner);
}

static struct pkt_l2 link(int vlan)
{
	return (struct pkt_l2){ .dmac = fx_mac_a, .smac = peer_mac, .vlan = vlan, .tci = 42 };
}

/* in[] = link + outer IPv4 (+ @opts option bytes) to @dst around inner[0..n). */
static size_t tunnel4(const char *dst, __u8 tos, int opts, size_t n, int vlan)
{
	struct pkt_l2 l2 = link(vlan);
	size_t len = pkt_outer4(FX_SRC4, dst, tos, opts, inner, n, l3);

	return pkt_frame(&l2, PKT_ETH_P_IP, l3, len, in);
}

static size_t tunnel6(const char *dst, __u8 tclass, __u8 nexthdr, size_t n, int vlan)
{
	struct pkt_l2 l2 = link(vlan);
	size_t len = pkt_outer6(FX_SRC6, dst, tclass, nexthdr, inner, n, l3);

	return pkt_frame(&l2, PKT_ETH_P_IPV6, l3, len, in);
}

/* want[] = the same link header in front of inner[0..n). */
static size_t stripped(size_t n, int vlan)
{
	struct pkt_l2 l2 = link(vlan);

	return pkt_frame(&l2, (inner[0] >> 4) == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6,
			 inner, n, want);
}

static void dc_send(size_t len)
{
	int err;

	fx_reasons(dc_reasons, before);
	err = fx_run(dc_prog, fx_ifindex_a, in, len, &run);
	if (err)
		t_fail("bpf_prog_test_run: %s", strerror(-err));
}

static void expect_stripped(size_t in_len, size_t want_len)
{
	dc_send(in_len);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_PASS, run.ret);
	EXPECT_EQ("frame length", want_len, run.out_len);
	EXPECT_TRUE("link header kept, outer header gone, inner identical",
		    !memcmp(run.out, want, want_len));
	fx_expect_reason(dc_reasons, before, XLB_DECAP_OK);
}

static void expect_untouched(size_t len, int action, int reason)
{
	dc_send(len);
	RETURN_IF_FAILED();
	check_untouched(in, len, &run, action);
	RETURN_IF_FAILED();
	fx_expect_reason(dc_reasons, before, reason);
}

static void xdp_decap_ipip_stripped(void)
{
	size_t n = inner4(0x28);

	expect_stripped(tunnel4(DECAP4, 0x28, 0, n, 0), stripped(n, 0));
}

static void xdp_decap_ipv6_in_ipv6_stripped(void)
{
	size_t n = inner6(0x28);

	expect_stripped(tunnel6(DECAP6, 0x28, IPPROTO_IPV6_, n, 0), stripped(n, 0));
}

static void xdp_decap_ipv4_in_ipv6_stripped(void)
{
	size_t n = inner4(0);

	expect_stripped(tunnel6(DECAP6, 0, IPPROTO_IPIP, n, 0), stripped(n, 0));
}

static void xdp_decap_vlan_kept(void)
{
	size_t n = inner4(0);

	expect_stripped(tunnel4(DECAP4, 0, 0, n, 1), stripped(n, 1));
	RETURN_IF_FAILED();
	n = inner6(0);
	expect_stripped(tunnel6(DECAP6, 0, IPPROTO_IPV6_, n, 1), stripped(n, 1));
}

static void xdp_decap_outer_ipv4_options_stripped(void)
{
	size_t n = inner4(0);

	expect_stripped(tunnel4(DECAP4, 0, 8, n, 0), stripped(n, 0));
}

/* RFC 6040: CE on the outer header reaches an ECN-capable inner one. */
static void xdp_decap_ecn_ce_propagated(void)
{
	size_t n = inner4(ECN_ECT0), len = tunnel4(DECAP4, ECN_CE, 0, n, 0);
	__u8 *ip;

	stripped(n, 0);
	ip = want + PKT_ETH_LEN;
	ip[1] |= ECN_CE;
	put16(ip + 10, 0);
	put16(ip + 10, pkt_fold(pkt_sum(ip, PKT_IP4_LEN, 0)));
	expect_stripped(len, PKT_ETH_LEN + n);
	RETURN_IF_FAILED();
	n = inner6(ECN_ECT0);
	len = tunnel6(DECAP6, ECN_CE, IPPROTO_IPV6_, n, 0);
	stripped(n, 0);
	want[PKT_ETH_LEN + 1] |= ECN_CE << 4;
	expect_stripped(len, PKT_ETH_LEN + n);
}

/* ... but a not-ECT inner packet is left as it is (it could not carry CE). */
static void xdp_decap_ecn_not_ect_unchanged(void)
{
	size_t n = inner4(0);

	expect_stripped(tunnel4(DECAP4, ECN_CE, 0, n, 0), stripped(n, 0));
}

static void xdp_decap_foreign_address_passed(void)
{
	size_t n = inner4(0);

	expect_untouched(tunnel4(OTHER4, 0, 0, n, 0), XDP_PASS, XLB_DECAP_PASS);
	RETURN_IF_FAILED();
	n = inner6(0);
	expect_untouched(tunnel6(OTHER6, 0, IPPROTO_IPV6_, n, 0), XDP_PASS, XLB_DECAP_PASS);
}

static void xdp_decap_plain_passed(void)
{
	struct pkt_spec s4 = { .family = 4, .src = "198.51.100.41", .dst = DECAP4,
			       .proto = IPPROTO_TCP, .sport = 48001, .dport = 22,
			       .tcp_flags = PKT_SYN };
	struct pkt_spec s6 = { .family = 6, .src = "2001:db8:c::41", .dst = DECAP6,
			       .proto = IPPROTO_UDP, .sport = 48001, .dport = 53 };
	struct pkt_l2 l2 = link(0);
	size_t len;

	len = pkt_frame(&l2, PKT_ETH_P_IP, l3, pkt_ip(&s4, l3), in);
	expect_untouched(len, XDP_PASS, XLB_DECAP_PASS);
	RETURN_IF_FAILED();
	len = pkt_frame(&l2, PKT_ETH_P_IPV6, l3, pkt_ip(&s6, l3), in);
	expect_untouched(len, XDP_PASS, XLB_DECAP_PASS);
	RETURN_IF_FAILED();
	put16(in + 12, PKT_ETH_P_ARP);
	expect_untouched(len, XDP_PASS, XLB_DECAP_PASS);
}

static void xdp_decap_outer_fragment_passed(void)
{
	size_t n = inner4(0), len = tunnel4(DECAP4, 0, 0, n, 0);
	__u8 *ip = in + PKT_ETH_LEN;

	put16(ip + 6, PKT_MF);
	put16(ip + 10, 0);
	put16(ip + 10, pkt_fold(pkt_sum(ip, PKT_IP4_LEN, 0)));
	expect_untouched(len, XDP_PASS, XLB_DECAP_PASS);
}

static void xdp_decap_truncated_inner_dropped(void)
{
	size_t n = inner4(0);

	/* The outer header announces (and the frame holds) 10 bytes of a 20-byte header. */
	expect_untouched(tunnel4(DECAP4, 0, 0, PKT_IP4_LEN / 2, 0), XDP_DROP,
			 XLB_DECAP_MALFORMED);
	RETURN_IF_FAILED();
	n = inner6(0);
	expect_untouched(tunnel6(DECAP6, 0, IPPROTO_IPV6_, PKT_IP6_LEN - 1, 0), XDP_DROP,
			 XLB_DECAP_MALFORMED);
	RETURN_IF_FAILED();
	/* Whole frame, but the outer length says the inner header is cut. */
	n = inner4(0);
	tunnel4(DECAP4, 0, 0, n, 0);
	put16(in + PKT_ETH_LEN + 2, PKT_IP4_LEN + PKT_IP4_LEN - 1);
	put16(in + PKT_ETH_LEN + 10, 0);
	put16(in + PKT_ETH_LEN + 10, pkt_fold(pkt_sum(in + PKT_ETH_LEN, PKT_IP4_LEN, 0)));
	expect_untouched(PKT_ETH_LEN + PKT_IP4_LEN + n, XDP_DROP, XLB_DECAP_MALFORMED);
}

static void xdp_decap_outer_bad_checksum_dropped(void)
{
	size_t n = inner4(0), len = tunnel4(DECAP4, 0, 0, n, 0);

	in[PKT_ETH_LEN + 10] ^= 0x01;
	expect_untouched(len, XDP_DROP, XLB_DECAP_MALFORMED);
	RETURN_IF_FAILED();
	/* with options: the checksum covers them too */
	len = tunnel4(DECAP4, 0, 8, n, 0);
	in[PKT_ETH_LEN + PKT_IP4_LEN + 4] ^= 0x10;
	expect_untouched(len, XDP_DROP, XLB_DECAP_MALFORMED);
}

static void xdp_decap_outer_length_beyond_frame_dropped(void)
{
	size_t n = inner4(0), len = tunnel4(DECAP4, 0, 0, n, 0);
	__u8 *ip = in + PKT_ETH_LEN;

	/* The outer header claims 8 bytes more than the frame holds (checksum still valid). */
	put16(ip + 2, PKT_IP4_LEN + n + 8);
	put16(ip + 10, 0);
	put16(ip + 10, pkt_fold(pkt_sum(ip, PKT_IP4_LEN, 0)));
	expect_untouched(len, XDP_DROP, XLB_DECAP_MALFORMED);
	RETURN_IF_FAILED();
	n = inner6(0);
	len = tunnel6(DECAP6, 0, IPPROTO_IPV6_, n, 0);
	put16(in + PKT_ETH_LEN + 4, n + 8);
	expect_untouched(len, XDP_DROP, XLB_DECAP_MALFORMED);
}

static void xdp_decap_inner_family_mismatch_dropped(void)
{
	size_t n = inner6(0);

	/* protocol 4 (IPv4) announced, an IPv6 header inside */
	expect_untouched(tunnel4(DECAP4, 0, 0, n, 0), XDP_DROP, XLB_DECAP_MALFORMED);
}

/* The balancer's output, decapsulated, is the client's packet again. */
static void xdp_decap_balancer_roundtrip(void)
{
	struct pkt_spec s = { .family = 6, .src = "2001:db8:c::42", .dst = "2001:db8::10",
			      .proto = IPPROTO_TCP, .sport = 48002, .dport = 80,
			      .tcp_flags = PKT_SYN, .tos = 0x2a, .payload = 300 };
	size_t len = bal_frame(&s, 1, 9, want);
	struct fx_run br;
	__u64 bb[XLB_REASON_MAX];

	bal_send(fx_ifindex_a, want, len, &br, bb);
	RETURN_IF_FAILED();
	EXPECT_EQ("balancer action", XDP_TX, br.ret);
	EXPECT_EQ("balancer backend", 5, encap_backend(&br, 1));
	memcpy(in, br.out, br.out_len);
	dc_send(br.out_len);
	RETURN_IF_FAILED();
	EXPECT_EQ("decap action", XDP_PASS, run.ret);
	EXPECT_EQ("frame length", len, run.out_len);
	EXPECT_TRUE("VLAN tag and client packet as sent",
		    !memcmp(run.out + 12, want + 12, len - 12));
	fx_expect_reason(dc_reasons, before, XLB_DECAP_OK);
}

static const struct t_case cases[] = {
	T_CASE(xdp_decap_ipip_stripped),
	T_CASE(xdp_decap_ipv6_in_ipv6_stripped),
	T_CASE(xdp_decap_ipv4_in_ipv6_stripped),
	T_CASE(xdp_decap_vlan_kept),
	T_CASE(xdp_decap_outer_ipv4_options_stripped),
	T_CASE(xdp_decap_ecn_ce_propagated),
	T_CASE(xdp_decap_ecn_not_ect_unchanged),
	T_CASE(xdp_decap_foreign_address_passed),
	T_CASE(xdp_decap_plain_passed),
	T_CASE(xdp_decap_outer_fragment_passed),
	T_CASE(xdp_decap_truncated_inner_dropped),
	T_CASE(xdp_decap_outer_bad_checksum_dropped),
	T_CASE(xdp_decap_outer_length_beyond_frame_dropped),
	T_CASE(xdp_decap_inner_family_mismatch_dropped),
	T_CASE(xdp_decap_balancer_roundtrip),
};

int main(int argc, char **argv)
{
	bal_setup();
	decap_setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
