// SPDX-License-Identifier: GPL-2.0
/*
 * Packet tests of the backend-side decap program: tunnel packets (IPIP and
 * GUE) to one of the host's decap addresses come out as the client's packet
 * (same link header, VLAN tag kept, inner bytes identical, ECN CE carried);
 * anything else passes untouched; a tunnel packet with a broken inner
 * header, a GUE header or hop list that lies, a source outside --from or an
 * inner destination that is not local is dropped, each counted by its
 * reason. One case feeds the balancer's own output to it. The second chance
 * (GUE hop lists of TCP flows) is xdp_chain_test's.
 */
#include <netinet/in.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "gue.h"
#include "decap.skel.h"

#define DECAP4		"10.99.0.17"	/* backend 1 of the balancer config */
#define DECAP6		"fd00:99::15"	/* backend 5 */
#define OTHER4		"10.99.0.12"
#define OTHER6		"fd00:99::12"
#define ECN_MASK	0x03
#define ECN_ECT0	0x02
#define ECN_CE		0x03
#define IPPROTO_IPV6_	41
#define FOREIGN4	"10.99.0.13"	/* outside --from */
#define FOREIGN6	"fd00:99::13"
#define GUE_PORT	XLB_GUE_PORT_DEFAULT
#define GUE_PORT_ALT	7000

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
	/* what decap attach --from FX_SRC4 --from FX_SRC6/128 and the VIPs on lo give */
	if (gtest_from_add(bpf_map__fd(dc->maps.decap_from4), bpf_map__fd(dc->maps.decap_from6),
			   FX_SRC4 "/32") ||
	    gtest_from_add(bpf_map__fd(dc->maps.decap_from4), bpf_map__fd(dc->maps.decap_from6),
			   FX_SRC6 "/128") ||
	    gtest_key_set(bpf_map__fd(dc->maps.decap_local), 4, "192.0.2.10", 1) ||
	    gtest_key_set(bpf_map__fd(dc->maps.decap_local), 6, "2001:db8::10", 1))
		fx_die("decap maps");
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

/* in[] = link + GUE from @src to @dst (port @port, hops @h) around inner[0..n). */
static size_t gue_from(int family, const char *src, const char *dst, __u16 port,
		       const struct gtest_hops *h, size_t n, int vlan)
{
	struct pkt_l2 l2 = link(vlan);
	size_t len = gtest_gue(family, src, dst, 0, port, h, inner, n, l3);

	return pkt_frame(&l2, family == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6, l3, len, in);
}

static size_t gue(int family, const struct gtest_hops *h, size_t n)
{
	return gue_from(family, family == 4 ? FX_SRC4 : FX_SRC6, family == 4 ? DECAP4 : DECAP6,
			GUE_PORT, h, n, 0);
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

static const struct gtest_hops no_hops;
static const struct gtest_hops one_hop4 = { .count = 1, .hop = { DECAP4 } };
static const struct gtest_hops one_hop6 = { .count = 1, .hop = { DECAP6 } };

static void xdp_decap_gue_4in4_stripped(void)
{
	size_t n = inner4(0x28);

	expect_stripped(gue(4, &no_hops, n), stripped(n, 0));
	RETURN_IF_FAILED();
	expect_stripped(gue(4, &one_hop4, n), stripped(n, 0));
}

static void xdp_decap_gue_6in6_stripped(void)
{
	size_t n = inner6(0x28);

	expect_stripped(gue(6, &no_hops, n), stripped(n, 0));
	RETURN_IF_FAILED();
	expect_stripped(gue(6, &one_hop6, n), stripped(n, 0));
}

static void xdp_decap_gue_4in6_stripped(void)
{
	size_t n = inner4(0);

	expect_stripped(gue(6, &no_hops, n), stripped(n, 0));
	RETURN_IF_FAILED();
	expect_stripped(gue(6, &one_hop6, n), stripped(n, 0));
}

static void xdp_decap_gue_vlan_kept(void)
{
	size_t n = inner4(0);

	expect_stripped(gue_from(4, FX_SRC4, DECAP4, GUE_PORT, &one_hop4, n, 1), stripped(n, 1));
}

static void xdp_decap_gue_ecn_ce_propagated(void)
{
	size_t n = inner6(ECN_ECT0), len;

	len = gue(6, &one_hop6, n);
	in[PKT_ETH_LEN + 1] |= ECN_CE << 4;	/* outer traffic class CE: no checksum covers it */
	stripped(n, 0);
	want[PKT_ETH_LEN + 1] |= ECN_CE << 4;
	expect_stripped(len, PKT_ETH_LEN + n);
}

/* UDP to another port, or GUE to an address that is not ours: not a tunnel of ours. */
static void xdp_decap_gue_other_port_passed(void)
{
	size_t n = inner4(0);

	expect_untouched(gue_from(4, FX_SRC4, DECAP4, GUE_PORT + 1, &one_hop4, n, 0), XDP_PASS,
			 XLB_DECAP_PASS);
	RETURN_IF_FAILED();
	expect_untouched(gue_from(6, FX_SRC6, OTHER6, GUE_PORT, &no_hops, n, 0), XDP_PASS,
			 XLB_DECAP_PASS);
}

/* The loader's --gue-port is the one port: the default one is then ordinary UDP. */
static void xdp_decap_gue_port_setting(void)
{
	struct decap_bpf *alt = decap_bpf__open();
	int prog, save = dc_prog, save_r = dc_reasons;
	size_t n = inner4(0), len;

	if (!alt) {
		t_fail("open decap skeleton");
		return;
	}
	alt->rodata->decap_gue_port = htons(GUE_PORT_ALT);
	if (decap_bpf__load(alt)) {
		t_fail("load decap skeleton with another port");
		decap_bpf__destroy(alt);
		return;
	}
	prog = bpf_program__fd(alt->progs.xlb_decap);
	gtest_key_set(bpf_map__fd(alt->maps.decap_addrs), 4, DECAP4, 1);
	gtest_key_set(bpf_map__fd(alt->maps.decap_local), 4, "192.0.2.10", 1);
	gtest_from_add(bpf_map__fd(alt->maps.decap_from4), bpf_map__fd(alt->maps.decap_from6),
		       FX_SRC4 "/32");
	dc_prog = prog;
	dc_reasons = bpf_map__fd(alt->maps.reasons);
	if (!t_failed()) {
		len = gue_from(4, FX_SRC4, DECAP4, GUE_PORT_ALT, &one_hop4, n, 0);
		expect_stripped(len, stripped(n, 0));
	}
	if (!t_failed())
		expect_untouched(gue(4, &one_hop4, n), XDP_PASS, XLB_DECAP_PASS);
	dc_prog = save;
	dc_reasons = save_r;
	decap_bpf__destroy(alt);
}

/* A tunnel packet from outside --from: IPIP and GUE, both families. */
static void xdp_decap_foreign_source_dropped(void)
{
	struct pkt_l2 l2 = link(0);
	size_t n = inner4(0), len;

	len = pkt_outer4(FOREIGN4, DECAP4, 0, 0, inner, n, l3);
	len = pkt_frame(&l2, PKT_ETH_P_IP, l3, len, in);
	expect_untouched(len, XDP_DROP, XLB_DECAP_FOREIGN_SRC);
	RETURN_IF_FAILED();
	expect_untouched(gue_from(4, FOREIGN4, DECAP4, GUE_PORT, &one_hop4, n, 0), XDP_DROP,
			 XLB_DECAP_FOREIGN_SRC);
	RETURN_IF_FAILED();
	n = inner6(0);
	len = pkt_frame(&l2, PKT_ETH_P_IPV6, l3,
			pkt_outer6(FOREIGN6, DECAP6, 0, IPPROTO_IPV6_, inner, n, l3), in);
	expect_untouched(len, XDP_DROP, XLB_DECAP_FOREIGN_SRC);
	RETURN_IF_FAILED();
	expect_untouched(gue_from(6, FOREIGN6, DECAP6, GUE_PORT, &no_hops, n, 0), XDP_DROP,
			 XLB_DECAP_FOREIGN_SRC);
}

/* The inner packet is for an address this host does not have: not a VIP of ours. */
static void xdp_decap_foreign_inner_dst_dropped(void)
{
	struct pkt_spec s4 = { .family = 4, .src = "198.51.100.40", .dst = "192.0.2.99",
			       .proto = IPPROTO_TCP, .sport = 48000, .dport = 80,
			       .tcp_flags = PKT_SYN };
	struct pkt_spec s6 = { .family = 6, .src = "2001:db8:c::40", .dst = "2001:db8::99",
			       .proto = IPPROTO_UDP, .sport = 48000, .dport = 53 };
	size_t n = pkt_ip(&s4, inner);

	expect_untouched(tunnel4(DECAP4, 0, 0, n, 0), XDP_DROP, XLB_DECAP_FOREIGN_DST);
	RETURN_IF_FAILED();
	expect_untouched(gue(4, &one_hop4, n), XDP_DROP, XLB_DECAP_FOREIGN_DST);
	RETURN_IF_FAILED();
	n = pkt_ip(&s6, inner);
	expect_untouched(tunnel6(DECAP6, 0, IPPROTO_IPV6_, n, 0), XDP_DROP, XLB_DECAP_FOREIGN_DST);
	RETURN_IF_FAILED();
	expect_untouched(gue(6, &one_hop6, n), XDP_DROP, XLB_DECAP_FOREIGN_DST);
}

/* Set the outer length fields to say the L3 packet is @l3_len bytes. */
static void outer_len(int family, size_t l3_len)
{
	__u8 *ip = in + PKT_ETH_LEN;

	if (family == 4) {
		put16(ip + 2, l3_len);
		gtest_ip4_fix(ip);
	} else {
		put16(ip + 4, l3_len - PKT_IP6_LEN);
	}
}

/* The frame ends inside the GUE header, and every length says so. */
static void xdp_decap_gue_truncated_dropped(void)
{
	for (int family = 4; family <= 6; family += 2) {
		size_t n = inner4(0), cut;

		gue(family, family == 4 ? &one_hop4 : &one_hop6, n);
		/* GUE header cut in half; then the hop list cut in half */
		for (int k = 0; k < 2; k++) {
			cut = k == 0 ? gtest_gue_off(family) + 2 : gtest_hops_off(family) + 6;
			outer_len(family, cut);
			put16(in + PKT_ETH_LEN + gtest_udp_off(family) + 4,
			      cut - gtest_udp_off(family));
			expect_untouched(PKT_ETH_LEN + cut, XDP_DROP, XLB_DECAP_BAD_GUE);
			RETURN_IF_FAILED();
		}
	}
}

/* The UDP length is not what the outer header says (longer, shorter). */
static void xdp_decap_gue_udp_length_lies_dropped(void)
{
	for (int family = 4; family <= 6; family += 2) {
		size_t n = inner4(0), len = gue(family, &no_hops, n);
		__u8 *ulen = in + PKT_ETH_LEN + gtest_udp_off(family) + 4;
		__u16 real = get16(ulen);

		put16(ulen, real + 4);
		expect_untouched(len, XDP_DROP, XLB_DECAP_BAD_GUE);
		RETURN_IF_FAILED();
		put16(ulen, real - 4);
		expect_untouched(len, XDP_DROP, XLB_DECAP_BAD_GUE);
		RETURN_IF_FAILED();
	}
}

/* One lie in a GUE header or hop list: byte @off (from the GUE header) becomes @val. */
struct gue_lie {
	const char *what;
	int family;
	int off;
	__u8 val;
};

static const struct gue_lie gue_lies[] = {
	{ "version 1", 4, 0, 0x40 | 3 },
	{ "control bit", 6, 0, 0x20 | 9 },
	{ "flags", 4, 2, 0x80 },
	{ "inner protocol UDP", 4, 1, IPPROTO_UDP },
	{ "hlen of IPv6 hops over IPv4", 4, 0, 9 },
	{ "hlen of IPv4 hops over IPv6", 6, 0, 3 },
	{ "hlen 5", 4, 0, 5 },
	{ "hop list type", 4, 4, 0x00 },
	{ "count 0", 4, 7, 0 },
	{ "count 3", 6, 7, XLB_GUE_HOPS_MAX + 1 },
	{ "next = count", 4, 6, 1 },
	{ "next beyond", 6, 6, 0xff },
	{ "hop[next] not the outer destination", 4, 8 + 3, 0x99 },
	{ "hop[next] not the outer destination", 6, 8 + 15, 0x99 },
};

static void xdp_decap_gue_lies_dropped(void)
{
	for (size_t i = 0; i < sizeof(gue_lies) / sizeof(gue_lies[0]); i++) {
		const struct gue_lie *l = &gue_lies[i];
		const struct gtest_hops *h = l->family == 4 ? &one_hop4 : &one_hop6;
		size_t n = inner4(0), len = gue(l->family, h, n);

		in[PKT_ETH_LEN + gtest_gue_off(l->family) + l->off] = l->val;
		dc_send(len);
		RETURN_IF_FAILED();
		if (run.ret != XDP_DROP) {
			t_fail("%s (IPv%d): action %d, expected XDP_DROP", l->what, l->family,
			       run.ret);
			return;
		}
		fx_expect_reason(dc_reasons, before, XLB_DECAP_BAD_GUE);
		RETURN_IF_FAILED();
	}
	/* control: the same packets without a lie are delivered */
	expect_stripped(gue(4, &one_hop4, inner4(0)), stripped(inner4(0), 0));
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
	T_CASE(xdp_decap_gue_4in4_stripped),
	T_CASE(xdp_decap_gue_6in6_stripped),
	T_CASE(xdp_decap_gue_4in6_stripped),
	T_CASE(xdp_decap_gue_vlan_kept),
	T_CASE(xdp_decap_gue_ecn_ce_propagated),
	T_CASE(xdp_decap_gue_other_port_passed),
	T_CASE(xdp_decap_gue_port_setting),
	T_CASE(xdp_decap_foreign_source_dropped),
	T_CASE(xdp_decap_foreign_inner_dst_dropped),
	T_CASE(xdp_decap_gue_truncated_dropped),
	T_CASE(xdp_decap_gue_udp_length_lies_dropped),
	T_CASE(xdp_decap_gue_lies_dropped),
};

int main(int argc, char **argv)
{
	bal_setup();
	decap_setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
