// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input to the balancer: truncated and inconsistent headers, fragments
 * and protocols it does not balance. Every one is addressed to a live VIP,
 * so only the parser stands between it and a backend; each must come back
 * untouched, dropped (a VIP packet xlb cannot balance is never passed: the
 * kernel would route it back), with exactly its reason counted. The same
 * packet to an address no VIP uses is the control: passed, as before.
 */
#include <netinet/in.h>
#include <string.h>

#include "balance.h"
#include "robust.h"

#define CLIENT4		"198.51.100.9"
#define CLIENT6		"2001:db8:c::9"
#define VIP4		"192.0.2.10"
#define VIP6		"2001:db8::10"
#define NOT_VIP4	"192.0.2.99"	/* no VIP uses it */
#define NOT_VIP6	"2001:db8::99"
#define LONE_CLIENT4	"198.51.100.77"	/* sends later fragments only */
#define IPPROTO_SCTP_	132
#define IPPROTO_HOPOPTS_ 0
#define FRAG_OFFSET_8B	100	/* a fragment offset, in 8-byte units */

static __u8 in[PKT_MAX];
static struct fx_run run;
static __u64 before[XLB_REASON_MAX];

static struct pkt_spec tcp4(void)
{
	return (struct pkt_spec){ .family = 4, .src = CLIENT4, .dst = VIP4,
				  .proto = IPPROTO_TCP, .sport = 45000, .dport = 80,
				  .tcp_flags = PKT_SYN, .payload = 20 };
}

static struct pkt_spec tcp6(void)
{
	return (struct pkt_spec){ .family = 6, .src = CLIENT6, .dst = VIP6,
				  .proto = IPPROTO_TCP, .sport = 45000, .dport = 80,
				  .tcp_flags = PKT_SYN, .payload = 20 };
}

/* Run the first @len bytes of in[] and expect them back untouched with @reason. */
static void expect(size_t len, int action, int reason)
{
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	check_untouched(in, len, &run, action);
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, reason);
}

/* Reseal the IPv4 header checksum after a field was changed on purpose. */
static void reseal4(__u8 *ip)
{
	size_t hlen = (ip[0] & 0xf) * 4;

	put16(ip + 10, 0);
	put16(ip + 10, pkt_fold(pkt_sum(ip, hlen < PKT_IP4_LEN ? PKT_IP4_LEN : hlen, 0)));
}

/* The control: the frame the other cases break is forwarded when intact. */
static void xdp_parse_intact_forwarded(void)
{
	struct pkt_spec s = tcp4();
	size_t len = bal_frame(&s, 0, 0, in);

	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	fx_expect_reason(bal_reasons, before, XLB_FWD_TX);
}

static void xdp_parse_not_ip(void)
{
	struct pkt_spec s = tcp4();
	size_t len = bal_frame(&s, 0, 0, in);

	put16(in + 12, PKT_ETH_P_ARP);
	expect(len, XDP_PASS, XLB_PASS_NOT_IP);
}

/* BPF_PROG_TEST_RUN refuses frames under 14 bytes; a cut 802.1Q tag is the shortest cut. */
static void xdp_parse_truncated_vlan_tag(void)
{
	struct pkt_spec s = tcp4();

	bal_frame(&s, 1, 100, in);
	expect(PKT_ETH_LEN + 2, XDP_PASS, XLB_PASS_NOT_IP);
}

static void xdp_parse_truncated_ipv4(void)
{
	struct pkt_spec s = tcp4();

	bal_frame(&s, 0, 0, in);
	expect(PKT_ETH_LEN + PKT_IP4_LEN - 1, XDP_DROP, XLB_DROP_MALFORMED);
	RETURN_IF_FAILED();
	expect(PKT_ETH_LEN, XDP_DROP, XLB_DROP_MALFORMED);
}

static void xdp_parse_truncated_ipv6(void)
{
	struct pkt_spec s = tcp6();

	bal_frame(&s, 0, 0, in);
	expect(PKT_ETH_LEN + PKT_IP6_LEN - 1, XDP_DROP, XLB_DROP_MALFORMED);
}

/* The frame ends inside the TCP header; tot_len agrees with the frame. */
static void xdp_parse_truncated_tcp(void)
{
	struct pkt_spec s = tcp4();
	size_t cut = PKT_ETH_LEN + PKT_IP4_LEN + PKT_TCP_LEN - 1;

	bal_frame(&s, 0, 0, in);
	put16(in + PKT_ETH_LEN + 2, PKT_IP4_LEN + PKT_TCP_LEN - 1);
	reseal4(in + PKT_ETH_LEN);
	expect(cut, XDP_DROP, XLB_DROP_MALFORMED);
}

/* The frame holds a whole TCP header but the IP length ends before it does. */
static void xdp_parse_tcp_beyond_ip_length(void)
{
	struct pkt_spec s = tcp4();
	size_t len = bal_frame(&s, 0, 0, in);

	put16(in + PKT_ETH_LEN + 2, PKT_IP4_LEN + PKT_TCP_LEN - 4);
	reseal4(in + PKT_ETH_LEN);
	expect(len, XDP_DROP, XLB_DROP_MALFORMED);
}

static void xdp_parse_truncated_udp6(void)
{
	struct pkt_spec s = { .family = 6, .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_UDP,
			      .sport = 5353, .dport = 53 };
	size_t len;

	bal_frame(&s, 0, 0, in);
	put16(in + PKT_ETH_LEN + 4, PKT_UDP_LEN - 2);
	len = PKT_ETH_LEN + PKT_IP6_LEN + PKT_UDP_LEN - 2;
	expect(len, XDP_DROP, XLB_DROP_MALFORMED);
}

static void xdp_parse_tcp_bad_doff(void)
{
	struct pkt_spec s = tcp4();
	size_t len = bal_frame(&s, 0, 0, in);
	__u8 *doff = in + PKT_ETH_LEN + PKT_IP4_LEN + 12;

	*doff = 4 << 4;		/* shorter than the fixed header */
	expect(len, XDP_DROP, XLB_DROP_MALFORMED);
	RETURN_IF_FAILED();
	*doff = 15 << 4;	/* 60 bytes, more than the 40 the packet has */
	expect(len, XDP_DROP, XLB_DROP_MALFORMED);
}

static void xdp_parse_bad_ihl(void)
{
	struct pkt_spec s = tcp4();
	size_t len = bal_frame(&s, 0, 0, in);
	__u8 *ip = in + PKT_ETH_LEN;

	ip[0] = 0x44;		/* IHL 4: shorter than the fixed header */
	reseal4(ip);
	expect(len, XDP_DROP, XLB_DROP_MALFORMED);
	RETURN_IF_FAILED();
	s.payload = 0;		/* IHL 15 (60 bytes) in a 40-byte packet */
	len = bal_frame(&s, 0, 0, in);
	ip[0] = 0x4f;
	reseal4(ip);
	expect(len + 20, XDP_DROP, XLB_DROP_MALFORMED);
}

static void xdp_parse_bad_version(void)
{
	struct pkt_spec s = tcp4();
	size_t len = bal_frame(&s, 0, 0, in);

	in[PKT_ETH_LEN] = 0x65;		/* version 6 behind an IPv4 ethertype */
	expect(len, XDP_DROP, XLB_DROP_MALFORMED);
}

static void xdp_parse_bad_total_length(void)
{
	struct pkt_spec s = tcp4();
	size_t len = bal_frame(&s, 0, 0, in);
	__u8 *ip = in + PKT_ETH_LEN;

	put16(ip + 2, len - PKT_ETH_LEN + 1);	/* one byte beyond the frame */
	reseal4(ip);
	expect(len, XDP_DROP, XLB_DROP_MALFORMED);
	RETURN_IF_FAILED();
	put16(ip + 2, PKT_IP4_LEN - 1);		/* shorter than the header */
	reseal4(ip);
	expect(len, XDP_DROP, XLB_DROP_MALFORMED);
}

static void xdp_parse_bad_ipv6_payload_length(void)
{
	struct pkt_spec s = tcp6();
	size_t len = bal_frame(&s, 0, 0, in);

	put16(in + PKT_ETH_LEN + 4, len - PKT_ETH_LEN - PKT_IP6_LEN + 1);
	expect(len, XDP_DROP, XLB_DROP_MALFORMED);
}

/* A first fragment carries the ports: balanced like any packet (xdp_robust_test: the rest). */
static void xdp_parse_fragment_first(void)
{
	struct pkt_spec s = tcp4();
	size_t len;

	s.frag = PKT_MF;
	len = bal_frame(&s, 0, 0, in);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	fx_expect_reason(bal_reasons, before, XLB_FWD_TX);
}

/* Later fragments whose first one was never seen: nothing says where they go. */
static void xdp_parse_fragment_non_first(void)
{
	struct pkt_spec s = tcp4();
	size_t len;

	s.src = LONE_CLIENT4;
	s.frag = FRAG_OFFSET_8B;		/* the last fragment: offset, no MF */
	len = bal_frame(&s, 0, 0, in);
	expect(len, XDP_DROP, XLB_DROP_FRAGMENT);
	RETURN_IF_FAILED();
	s.frag = PKT_MF | FRAG_OFFSET_8B;	/* a middle one */
	len = bal_frame(&s, 0, 0, in);
	expect(len, XDP_DROP, XLB_DROP_FRAGMENT);
	RETURN_IF_FAILED();
	s.dst = NOT_VIP4;			/* the control: the host's, passed */
	len = bal_frame(&s, 0, 0, in);
	expect(len, XDP_PASS, XLB_PASS_FRAGMENT);
}

static void xdp_parse_other_protocol(void)
{
	struct pkt_spec s = tcp4();
	size_t len;

	s.proto = IPPROTO_SCTP_;
	len = bal_frame(&s, 0, 0, in);
	expect(len, XDP_DROP, XLB_DROP_VIP_PROTO);
	RETURN_IF_FAILED();
	s.dst = NOT_VIP4;
	len = bal_frame(&s, 0, 0, in);
	expect(len, XDP_PASS, XLB_PASS_PROTO);
}

/* AH is not skipped (xdp_robust_test: the headers that are). */
static void xdp_parse_ipv6_extension_header(void)
{
	struct pkt_spec s = tcp6();
	const __u8 ah[] = { EXT_AH };
	size_t len;

	len = ext6_frame(&s, ah, 1, NULL, in);
	expect(len, XDP_DROP, XLB_DROP_VIP_PROTO);
	RETURN_IF_FAILED();
	s.dst = NOT_VIP6;
	len = ext6_frame(&s, ah, 1, NULL, in);
	expect(len, XDP_PASS, XLB_PASS_PROTO);
}

/* A hop-by-hop header longer than the packet. */
static void xdp_parse_ipv6_extension_header_truncated(void)
{
	struct pkt_spec s = tcp6();
	const __u8 hop[] = { EXT_HOP };
	size_t len = ext6_frame(&s, hop, 1, NULL, in);

	in[PKT_ETH_LEN + PKT_IP6_LEN + 1] = 200;	/* 1608 bytes */
	expect(len, XDP_DROP, XLB_DROP_MALFORMED);
}

static const struct t_case cases[] = {
	T_CASE(xdp_parse_intact_forwarded),
	T_CASE(xdp_parse_not_ip),
	T_CASE(xdp_parse_truncated_vlan_tag),
	T_CASE(xdp_parse_truncated_ipv4),
	T_CASE(xdp_parse_truncated_ipv6),
	T_CASE(xdp_parse_truncated_tcp),
	T_CASE(xdp_parse_tcp_beyond_ip_length),
	T_CASE(xdp_parse_truncated_udp6),
	T_CASE(xdp_parse_tcp_bad_doff),
	T_CASE(xdp_parse_bad_ihl),
	T_CASE(xdp_parse_bad_version),
	T_CASE(xdp_parse_bad_total_length),
	T_CASE(xdp_parse_bad_ipv6_payload_length),
	T_CASE(xdp_parse_fragment_first),
	T_CASE(xdp_parse_fragment_non_first),
	T_CASE(xdp_parse_other_protocol),
	T_CASE(xdp_parse_ipv6_extension_header),
	T_CASE(xdp_parse_ipv6_extension_header_truncated),
};

int main(int argc, char **argv)
{
	bal_setup();
	bal_vip_addrs_sync();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
