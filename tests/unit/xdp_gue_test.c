// SPDX-License-Identifier: GPL-2.0
/*
 * Packet tests of GUE encapsulation (attach --encap gue) and its hop list:
 * every outer field of 4-in-4, 6-in-6 and 4-in-6 (UDP ports, length and
 * checksum rules, GUE header, hop list), when a table slot's previous owner
 * becomes the second hop and when it must not, what is tracked, stateless
 * VIPs, and the MTU with GUE's overhead. The balancer is loaded with a GUE
 * port other than the default, so the port on the wire can only come from
 * the loader's setting. Frames are checked byte by byte against what the
 * RFC layouts and xlb_abi.h say, never against what the program did.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "flowhash.h"
#include "ct.h"
#include "table.h"
#include "xlb.skel.h"

#define GUE_PORT	6081	/* not XLB_GUE_PORT_DEFAULT: proves the rodata setting is used */
#define CLIENT4		"198.51.100.9"
#define CLIENT6		"2001:db8:c::9"
#define DSCP_ECT1	0x29	/* DSCP 10, ECN ECT(1) */
#define WINDOW_S	240
#define GUE_SIZE	11	/* a prime: these tests fill every slot alike */
#define HOPS_TYPE	0x786c
#define OUTER_TTL	64
#define GUE_HDR_LEN	4
#define HOPS4_LEN	12
#define HOPS6_LEN	36
#define SPORT_MIN	49152
#define SPORT_MASK	0x3fff
#define LABEL_MASK	0xfffff

/* VIPs and backends of these tests, beside balance.c's (ids from 40). */
enum {
	G_VIP4 = 40,	/* 192.0.2.140:80/tcp -> 40, 41 (IPv4) */
	G_VIP6,		/* [2001:db8::140]:80/tcp -> 42, 43 (IPv6) */
	G_VIP46,	/* 192.0.2.141:80/tcp -> 44, 45 (IPv6) */
	G_VIP_MIX,	/* 192.0.2.142:80/tcp -> 46 (IPv4), 47 (IPv6) */
	G_VIP_NOCT,	/* 192.0.2.143:80/tcp, stateless -> 48, 49 */
	G_VIP6U,	/* [2001:db8::140]:53/udp -> 50, 51 (IPv6) */
	G_VIP46U,	/* 192.0.2.141:53/udp -> 52, 53 (IPv6) */
	G_VIPB,		/* 192.0.2.144:80/tcp -> 54 (10.98.0.21, link B, MTU 1400) */
	G_VIP_END,
};

struct g_be {
	int family;
	const char *addr;
	__u8 mac_last;
	__u32 vip;
};

static const struct g_be g_be[] = {
	[40] = { 4, "10.99.0.11", 11, G_VIP4 },
	[41] = { 4, "10.99.0.12", 12, G_VIP4 },
	[42] = { 6, "fd00:99::11", 11, G_VIP6 },
	[43] = { 6, "fd00:99::12", 12, G_VIP6 },
	[44] = { 6, "fd00:99::13", 13, G_VIP46 },
	[45] = { 6, "fd00:99::14", 14, G_VIP46 },
	[46] = { 4, "10.99.0.13", 13, G_VIP_MIX },
	[47] = { 6, "fd00:99::15", 15, G_VIP_MIX },
	[48] = { 4, "10.99.0.14", 14, G_VIP_NOCT },
	[49] = { 4, "10.99.0.15", 15, G_VIP_NOCT },
	[50] = { 6, "fd00:99::16", 16, G_VIP6U },
	[51] = { 6, "fd00:99::17", 17, G_VIP6U },
	[52] = { 6, "fd00:99::18", 18, G_VIP46U },
	[53] = { 6, "fd00:99::19", 19, G_VIP46U },
	[54] = { 4, "10.98.0.21", 21, G_VIPB },
};
#define G_BE_FIRST	40
#define G_BE_END	55

struct g_vip {
	int family;
	const char *addr;
	__u16 port;
	__u8 proto;
	__u8 flags;
};

static const struct g_vip g_vips[] = {
	[G_VIP4]	= { 4, "192.0.2.140", 80, IPPROTO_TCP },
	[G_VIP6]	= { 6, "2001:db8::140", 80, IPPROTO_TCP },
	[G_VIP46]	= { 4, "192.0.2.141", 80, IPPROTO_TCP },
	[G_VIP_MIX]	= { 4, "192.0.2.142", 80, IPPROTO_TCP },
	[G_VIP_NOCT]	= { 4, "192.0.2.143", 80, IPPROTO_TCP, XLB_VIP_F_NO_CT },
	[G_VIP6U]	= { 6, "2001:db8::140", 53, IPPROTO_UDP },
	[G_VIP46U]	= { 4, "192.0.2.141", 53, IPPROTO_UDP },
	[G_VIPB]	= { 4, "192.0.2.144", 80, IPPROTO_TCP },
};

static __u8 in[PKT_MAX];
static struct fx_run run;
static __u64 before[XLB_REASON_MAX];

static __u32 now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void g_setup(void)
{
	for (__u32 v = G_VIP4; v < G_VIP_END; v++) {
		const struct g_vip *p = &g_vips[v];

		fx_vip(bal, p->family, p->addr, p->port, p->proto, v, GUE_SIZE, XLB_SCHED_MAGLEV,
		       p->flags);
		fx_vip_window(bal, p->family, p->addr, p->port, p->proto, WINDOW_S);
	}
	for (__u32 b = G_BE_FIRST; b < G_BE_END; b++)
		fx_backend(bal, b, g_be[b].family, g_be[b].addr, 1, XLB_BE_F_USED, g_be[b].vip);
}

/* Every slot of @vip owned by @id; @prev (or XLB_BACKEND_NONE) owned it until @ago s ago. */
static void g_table(__u32 vip, __u32 id, __u32 prev, __u32 ago)
{
	fx_table_slots(bal, vip, GUE_SIZE, id, prev, now_s() - ago);
}

static struct pkt_spec tcp4(const char *dst, __u16 sport, __u8 flags)
{
	return (struct pkt_spec){ .family = 4, .src = CLIENT4, .dst = dst, .proto = IPPROTO_TCP,
				  .sport = sport, .dport = 80, .tcp_flags = flags,
				  .tos = DSCP_ECT1, .frag = PKT_DF, .payload = 101 };
}

static struct pkt_spec tcp6(const char *dst, __u16 sport, __u8 flags)
{
	return (struct pkt_spec){ .family = 6, .src = CLIENT6, .dst = dst, .proto = IPPROTO_TCP,
				  .sport = sport, .dport = 80, .tcp_flags = flags,
				  .tos = DSCP_ECT1, .flow_label = 0xabcde, .payload = 77 };
}

static struct pkt_spec udp(int family, const char *dst, __u16 sport)
{
	return (struct pkt_spec){ .family = family, .src = family == 4 ? CLIENT4 : CLIENT6,
				  .dst = dst, .proto = IPPROTO_UDP, .sport = sport, .dport = 53,
				  .tos = DSCP_ECT1, .payload = 33 };
}

/* What a GUE frame must be: to backend @be, second hop @second (0: none). */
struct want_gue {
	const struct pkt_spec *s;	/* the inner packet's spec (its flow key) */
	size_t in_len;			/* the frame sent, in[] */
	__u32 be, second;
};

static void check_outer_ip4(const __u8 *o, const __u8 *inner, size_t inner_len, __u32 be)
{
	__u32 src[4], dst[4];

	pkt_addr(4, FX_SRC4, src);
	pkt_addr(4, g_be[be].addr, dst);
	EXPECT_EQ("outer version/IHL", 0x45, o[0]);
	EXPECT_EQ("outer tos (inner DSCP+ECN)", inner[1], o[1]);
	EXPECT_EQ("outer tot_len", inner_len + XLB_GUE4_LEN, get16(o + 2));
	EXPECT_EQ("outer id", 0, get16(o + 4));
	EXPECT_EQ("outer frag_off (DF)", PKT_DF, get16(o + 6));
	EXPECT_EQ("outer ttl", OUTER_TTL, o[8]);
	EXPECT_EQ("outer protocol (UDP)", IPPROTO_UDP, o[9]);
	EXPECT_EQ("outer checksum residue", 0, pkt_fold(pkt_sum(o, PKT_IP4_LEN, 0)));
	EXPECT_TRUE("outer saddr = src4", !memcmp(o + 12, src, 4));
	EXPECT_TRUE("outer daddr = backend", !memcmp(o + 16, dst, 4));
}

static void check_outer_ip6(const __u8 *o, const __u8 *inner, size_t inner_len, __u32 be,
			    const struct xlb_flow_key *k)
{
	__u8 tclass = (inner[0] >> 4) == 4 ? inner[1] : (get16(inner) >> 4) & 0xff;
	__u32 src[4], dst[4], w = get32(o);

	pkt_addr(6, FX_SRC6, src);
	pkt_addr(6, g_be[be].addr, dst);
	EXPECT_EQ("outer version", 6, w >> 28);
	EXPECT_EQ("outer traffic class (inner DSCP+ECN)", tclass, (w >> 20) & 0xff);
	EXPECT_EQ("outer flow label (flow hash)", fh_flow_hash(k) & LABEL_MASK, w & LABEL_MASK);
	EXPECT_EQ("outer payload_len", inner_len + XLB_GUE6_LEN - PKT_IP6_LEN, get16(o + 4));
	EXPECT_EQ("outer next header (UDP)", IPPROTO_UDP, o[6]);
	EXPECT_EQ("outer hop limit", OUTER_TTL, o[7]);
	EXPECT_TRUE("outer saddr = src6", !memcmp(o + 8, src, 16));
	EXPECT_TRUE("outer daddr = backend", !memcmp(o + 24, dst, 16));
}

/* UDP, GUE header and hop list at @u; @ip the outer IP header (for the checksum). */
static void check_udp_gue(const __u8 *ip, const __u8 *u, size_t inner_len, int inner_family,
			  const struct want_gue *w, const struct xlb_flow_key *k)
{
	int outer6 = g_be[w->be].family == 6;
	size_t alen = outer6 ? 16 : 4, hops = outer6 ? HOPS6_LEN : HOPS4_LEN;
	size_t udp_len = PKT_UDP_LEN + GUE_HDR_LEN + hops + inner_len;
	const __u8 *g = u + PKT_UDP_LEN, *h = g + GUE_HDR_LEN;
	__u32 a0[4], a1[4] = {};
	__u16 ck = get16(u + 6);

	pkt_addr(g_be[w->be].family, g_be[w->be].addr, a0);
	if (w->second)
		pkt_addr(g_be[w->second].family, g_be[w->second].addr, a1);
	EXPECT_EQ("UDP source port (flow hash, ephemeral)",
		  SPORT_MIN | (fh_flow_hash(k) & SPORT_MASK), get16(u));
	EXPECT_EQ("UDP destination port (--gue-port)", GUE_PORT, get16(u + 2));
	EXPECT_EQ("UDP length", udp_len, get16(u + 4));
	if (!outer6) {
		EXPECT_EQ("UDP checksum over IPv4", 0, ck);
	} else {
		EXPECT_TRUE("UDP checksum over IPv6 present", ck != 0);
		EXPECT_EQ("UDP checksum over IPv6 residue", 0,
			  pkt_fold(pkt_sum(u, udp_len, pkt_pseudo6(ip + 8, ip + 24, udp_len,
								   IPPROTO_UDP))));
	}
	EXPECT_EQ("GUE version/C/hlen", hops / 4, g[0]);
	EXPECT_EQ("GUE proto", inner_family == 4 ? IPPROTO_IPIP : IPPROTO_IPV6, g[1]);
	EXPECT_EQ("GUE flags", 0, get16(g + 2));
	EXPECT_EQ("hop list type", HOPS_TYPE, get16(h));
	EXPECT_EQ("hop list next", 0, h[2]);
	EXPECT_EQ("hop list count", w->second ? 2 : 1, h[3]);
	EXPECT_TRUE("hop[0] = the backend", !memcmp(h + 4, a0, alen));
	EXPECT_TRUE("hop[1] = the previous owner (or zero)", !memcmp(h + 4 + alen, a1, alen));
}

/* Send in[] and check every byte of the GUE frame that comes back. */
static void expect_gue(const struct want_gue *w)
{
	struct xlb_flow_key k = bal_key(w->s);
	int outer6 = g_be[w->be].family == 6;
	size_t overhead = outer6 ? XLB_GUE6_LEN : XLB_GUE4_LEN;
	const __u8 *inner = in + PKT_ETH_LEN, *o = run.out + PKT_ETH_LEN;
	size_t inner_len;
	__u8 mac[6];

	bal_send(fx_ifindex_a, in, w->in_len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	inner_len = (inner[0] >> 4) == 4 ? get16(inner + 2) : PKT_IP6_LEN + get16(inner + 4);
	fx_be_mac(g_be[w->be].mac_last, mac);
	EXPECT_EQ("frame length", w->in_len + overhead, run.out_len);
	EXPECT_TRUE("dst MAC = backend's neighbour entry", !memcmp(run.out, mac, 6));
	EXPECT_TRUE("src MAC = egress interface", !memcmp(run.out + 6, fx_mac_a, 6));
	EXPECT_EQ("outer ethertype", outer6 ? PKT_ETH_P_IPV6 : PKT_ETH_P_IP, get16(run.out + 12));
	if (outer6)
		check_outer_ip6(o, inner, inner_len, w->be, &k);
	else
		check_outer_ip4(o, inner, inner_len, w->be);
	RETURN_IF_FAILED();
	check_udp_gue(o, o + (outer6 ? PKT_IP6_LEN : PKT_IP4_LEN), inner_len, w->s->family, w, &k);
	RETURN_IF_FAILED();
	EXPECT_TRUE("inner packet byte-identical",
		    !memcmp(o + overhead, inner, w->in_len - PKT_ETH_LEN));
	fx_expect_reason(bal_reasons, before, XLB_FWD_TX);
}

/* Build @s into in[] and expect it sent to @be with second hop @second. */
static void send_gue(const struct pkt_spec *s, __u32 be, __u32 second)
{
	struct want_gue w = { .s = s, .be = be, .second = second };

	w.in_len = bal_frame(s, 0, 0, in);
	expect_gue(&w);
}

static int tracked(const struct pkt_spec *s, struct xlb_flow *f)
{
	struct xlb_flow_key k = bal_key(s);

	return !ct_find(bpf_map__fd(bal->maps.conntrack), &k, f);
}

static void untrack(const struct pkt_spec *s)
{
	struct xlb_flow_key k = bal_key(s);

	ct_remove(bpf_map__fd(bal->maps.conntrack), &k);
}

static void set_backend_flags(__u32 id, __u8 flags)
{
	fx_backend(bal, id, g_be[id].family, g_be[id].addr, 1, flags, g_be[id].vip);
}

/* 4-in-4: one hop without a recent change, two with one; a SYN is tracked either way. */
static void gue_4in4_hop_list(void)
{
	struct pkt_spec a = tcp4("192.0.2.140", 30001, PKT_SYN);
	struct pkt_spec b = tcp4("192.0.2.140", 30002, PKT_SYN);
	struct xlb_flow f;

	g_table(G_VIP4, 40, XLB_BACKEND_NONE, 0);
	send_gue(&a, 40, 0);
	RETURN_IF_FAILED();
	EXPECT_TRUE("SYN tracked", tracked(&a, &f) && f.backend_id == 40);
	g_table(G_VIP4, 40, 41, 5);
	send_gue(&b, 40, 41);
	RETURN_IF_FAILED();
	EXPECT_TRUE("SYN with a second hop tracked", tracked(&b, &f) && f.backend_id == 40);
	/* an inner IPv4 header with options is carried byte for byte too */
	b.sport = 30003;
	b.opt_len = 8;
	send_gue(&b, 40, 41);
}

static void gue_6in6_hop_list(void)
{
	struct pkt_spec a = tcp6("2001:db8::140", 30011, PKT_SYN);
	struct pkt_spec b = tcp6("2001:db8::140", 30012, PKT_SYN);

	g_table(G_VIP6, 43, XLB_BACKEND_NONE, 0);
	send_gue(&a, 43, 0);
	RETURN_IF_FAILED();
	g_table(G_VIP6, 43, 42, 5);
	send_gue(&b, 43, 42);
}

static void gue_4in6_hop_list(void)
{
	struct pkt_spec a = tcp4("192.0.2.141", 30021, PKT_SYN);
	struct pkt_spec b = tcp4("192.0.2.141", 30022, PKT_SYN | PKT_ACK);

	g_table(G_VIP46, 44, XLB_BACKEND_NONE, 0);
	send_gue(&a, 44, 0);
	RETURN_IF_FAILED();
	g_table(G_VIP46, 44, 45, 5);
	send_gue(&b, 44, 45);
}

/* The IPv6 outer checksum from inner UDP's checksum, odd lengths included. */
static void gue_udp_inner_checksum_over_ipv6(void)
{
	struct pkt_spec s6 = udp(6, "2001:db8::140", 30031);
	struct pkt_spec s4 = udp(4, "192.0.2.141", 30032);

	g_table(G_VIP6U, 50, 51, 5);
	g_table(G_VIP46U, 52, 53, 5);
	send_gue(&s6, 50, 51);
	RETURN_IF_FAILED();
	s6.sport++;
	s6.payload = 0;
	send_gue(&s6, 50, 51);
	RETURN_IF_FAILED();
	send_gue(&s4, 52, 53);
}

/*
 * An inner IPv4 UDP datagram without a checksum leaves nothing to derive
 * the outer one from: over IPv6 it goes with checksum 0 (RFC 6935).
 */
static void gue_udp_inner_no_checksum_over_ipv6(void)
{
	struct pkt_spec s = udp(4, "192.0.2.141", 30033);
	size_t len = bal_frame(&s, 0, 0, in);
	size_t inner_off = PKT_ETH_LEN + XLB_GUE6_LEN;

	put16(in + PKT_ETH_LEN + PKT_IP4_LEN + 6, 0);
	g_table(G_VIP46U, 52, XLB_BACKEND_NONE, 0);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	EXPECT_EQ("outer UDP checksum", 0, get16(run.out + PKT_ETH_LEN + PKT_IP6_LEN + 6));
	EXPECT_TRUE("inner byte-identical", !memcmp(run.out + inner_off, in + PKT_ETH_LEN,
						    len - PKT_ETH_LEN));
}

/*
 * An ICMP error about a backend's reply travels as its flow; the outer
 * checksum comes from ICMP's own (ICMPv4: no pseudo-header; ICMPv6: one).
 */
static void gue_icmp_error_checksum_over_ipv6(void)
{
	struct pkt_spec flow6 = tcp6("2001:db8::140", 30101, PKT_ACK), rep6 = flow6;
	struct pkt_spec flow4 = tcp4("192.0.2.141", 30102, PKT_ACK), rep4 = flow4;
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = fx_mac_client };
	__u8 quote[PKT_MAX], l3[PKT_MAX];
	struct want_gue w = { .s = &flow6, .be = 43 };
	size_t qlen, len;

	rep6.src = flow6.dst;
	rep6.dst = flow6.src;
	rep6.sport = flow6.dport;
	rep6.dport = flow6.sport;
	qlen = pkt_ip(&rep6, quote);
	/* To the VIP: the source of the packet it quotes. */
	len = pkt_icmp6_err("2001:db8:f::1", rep6.src, 2, 0, 1300, quote, qlen, l3);
	w.in_len = pkt_frame(&l2, PKT_ETH_P_IPV6, l3, len, in);
	g_table(G_VIP6, 43, XLB_BACKEND_NONE, 0);
	expect_gue(&w);
	RETURN_IF_FAILED();

	rep4.src = flow4.dst;
	rep4.dst = flow4.src;
	rep4.sport = flow4.dport;
	rep4.dport = flow4.sport;
	qlen = pkt_ip(&rep4, quote);
	len = pkt_icmp4_err("203.0.113.1", rep4.src, 3, 4, 1300, quote, PKT_IP4_LEN + 8, l3);
	w = (struct want_gue){ .s = &flow4, .be = 44 };
	w.in_len = pkt_frame(&l2, PKT_ETH_P_IP, l3, len, in);
	g_table(G_VIP46, 44, XLB_BACKEND_NONE, 0);
	expect_gue(&w);
}

/* The previous owner is a hop for chain_window_s after the change, then not; 0 disables. */
static void gue_chain_window_expiry(void)
{
	struct pkt_spec s = tcp4("192.0.2.140", 30041, PKT_SYN);

	g_table(G_VIP4, 40, 41, WINDOW_S - 2);
	send_gue(&s, 40, 41);
	RETURN_IF_FAILED();
	untrack(&s);
	g_table(G_VIP4, 40, 41, WINDOW_S + 2);
	send_gue(&s, 40, 0);
	RETURN_IF_FAILED();
	untrack(&s);
	g_table(G_VIP4, 40, 41, 1);
	fx_vip_window(bal, 4, "192.0.2.140", 80, IPPROTO_TCP, 0);
	send_gue(&s, 40, 0);
	fx_vip_window(bal, 4, "192.0.2.140", 80, IPPROTO_TCP, WINDOW_S);
	untrack(&s);
}

/* The table map @vip uses now (an fd to close), or -1 after failing the test. */
static int g_table_fd(__u32 vip)
{
	__u32 inner_id;
	int fd = -1;

	if (!bpf_map_lookup_elem(bpf_map__fd(bal->maps.tables), &vip, &inner_id))
		fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		t_fail("table of vip %u: %s", vip, strerror(errno));
	return fd;
}

/* Overwrite the tail line of @vip's table with @prevs slots changed @ago s ago. */
static void g_tail(__u32 vip, __u32 prevs, __u32 ago)
{
	struct xlb_table_line l = { .tail = { .prevs = prevs, .prev_changed_s = now_s() - ago } };
	__u32 line = xlb_table_tail_line(GUE_SIZE);
	int fd = g_table_fd(vip);

	if (fd >= 0 && bpf_map_update_elem(fd, &line, &l, BPF_EXIST))
		t_fail("tail of vip %u: %s", vip, strerror(errno));
	if (fd >= 0)
		close(fd);
}

/*
 * An older xlb's table for @vip (no tail line) whose every slot is owned by
 * @id, previously by @prev until @ago s ago.
 */
static void g_table_without_tail(__u32 vip, __u32 id, __u32 prev, __u32 ago)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	__u32 lines = xlb_table_tail_line(GUE_SIZE), owners = xlb_table_owner_lines(GUE_SIZE);
	struct xlb_table_line l;
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_table", sizeof(__u32), sizeof(l), lines, &opts);
	if (fd < 0) {
		t_fail("create table: %s", strerror(errno));
		return;
	}
	for (__u32 i = 0; i < lines; i++) {
		memset(&l, 0, sizeof(l));
		for (__u32 k = 0; k < XLB_TABLE_LINE_OWNERS && i < owners; k++)
			l.owner[k] = id;
		for (__u32 k = 0; k < XLB_TABLE_LINE_PREVS && i >= owners; k++)
			l.prev[k] = (struct xlb_slot_prev){ prev, now_s() - ago };
		if (bpf_map_update_elem(fd, &i, &l, BPF_ANY))
			t_fail("line %u: %s", i, strerror(errno));
	}
	if (bpf_map_update_elem(bpf_map__fd(bal->maps.tables), &vip, &fd, BPF_ANY))
		t_fail("swap table of vip %u: %s", vip, strerror(errno));
	close(fd);
}

/*
 * A pick reads a slot's previous owner only while the table's tail line
 * has a change younger than the chain window: a tail that says "no prev"
 * or "every change is old" hides the young prev of every slot (the reads
 * it saves), though the slots themselves were not touched. The control:
 * the table as built, whose tail is right, chains. A table without a tail
 * (an older xlb's) reads every slot's prev as before; it is not read back
 * as this layout, and table_add_tail() (what attach does over an older
 * instance) gives it a tail and keeps its slots.
 */
static void gue_slot_prev_read_only_while_the_table_tail_has_a_young_change(void)
{
	struct pkt_spec s = tcp4("192.0.2.140", 30071, PKT_SYN);
	int tables = bpf_map__fd(bal->maps.tables);
	struct xlb_slot slots[GUE_SIZE];
	int err;

	g_table(G_VIP4, 40, 41, 5);
	send_gue(&s, 40, 41);
	untrack(&s);
	g_tail(G_VIP4, 0, 5);
	if (!t_failed())
		send_gue(&s, 40, 0);
	untrack(&s);
	g_tail(G_VIP4, GUE_SIZE, WINDOW_S + 2);
	if (!t_failed())
		send_gue(&s, 40, 0);
	untrack(&s);
	g_tail(G_VIP4, GUE_SIZE, WINDOW_S - 2);
	if (!t_failed())
		send_gue(&s, 40, 41);
	untrack(&s);
	g_table_without_tail(G_VIP4, 40, 41, 5);
	if (!t_failed())
		send_gue(&s, 40, 41);
	untrack(&s);
	EXPECT_EQ("an older table is not this layout", -ENOENT,
		  table_read(tables, G_VIP4, slots, GUE_SIZE));
	EXPECT_EQ("a tail added", 1, table_add_tail(tables, G_VIP4, GUE_SIZE));
	err = table_read(tables, G_VIP4, slots, GUE_SIZE);
	EXPECT_EQ("then it reads back", 0, err);
	EXPECT_TRUE("its slots as they were", !err && slots[GUE_SIZE - 1].backend == 40 &&
						slots[GUE_SIZE - 1].prev == 41);
	EXPECT_EQ("a table with a tail is left alone", 0, table_add_tail(tables, G_VIP4, GUE_SIZE));
	g_tail(G_VIP4, 0, 5);
	if (!t_failed())
		send_gue(&s, 40, 0);	/* the tail is read again */
	untrack(&s);
	g_table(G_VIP4, 40, XLB_BACKEND_NONE, 0);
}

/* DOWN, deleted, foreign or other-family previous owners are never a hop; drained is. */
static void gue_prev_down_deleted_foreign_never_hop(void)
{
	struct pkt_spec s = tcp4("192.0.2.140", 30051, PKT_SYN);
	struct pkt_spec m = tcp4("192.0.2.142", 30052, PKT_SYN);
	struct xlb_backend none = {};
	__u32 id = 41;

	g_table(G_VIP4, 40, 41, 5);
	set_backend_flags(41, XLB_BE_F_USED | XLB_BE_F_DOWN);
	send_gue(&s, 40, 0);
	untrack(&s);
	set_backend_flags(41, XLB_BE_F_USED | XLB_BE_F_DRAINED);
	if (!t_failed())
		send_gue(&s, 40, 41);
	untrack(&s);
	if (bpf_map_update_elem(bpf_map__fd(bal->maps.backends), &id, &none, BPF_ANY))
		t_fail("clear backend 41: %s", strerror(errno));
	if (!t_failed())
		send_gue(&s, 40, 0);
	untrack(&s);
	/* backend 48 belongs to another VIP */
	g_table(G_VIP4, 40, 48, 5);
	if (!t_failed())
		send_gue(&s, 40, 0);
	untrack(&s);
	set_backend_flags(41, XLB_BE_F_USED);
	g_table(G_VIP4, 40, 41, 5);
	/* 46 is IPv4, 47 IPv6: hops are of one family */
	g_table(G_VIP_MIX, 46, 47, 5);
	if (!t_failed())
		send_gue(&m, 46, 0);
	untrack(&m);
}

/* A tracked flow's hop list is its backend alone, whatever the table says now. */
static void gue_tracked_flow_one_hop(void)
{
	struct pkt_spec syn = tcp4("192.0.2.140", 30061, PKT_SYN);
	struct pkt_spec ack = tcp4("192.0.2.140", 30061, PKT_ACK);

	g_table(G_VIP4, 40, XLB_BACKEND_NONE, 0);
	send_gue(&syn, 40, 0);
	RETURN_IF_FAILED();
	/* the slot moves to 41, previously 40: an untracked flow would get both */
	g_table(G_VIP4, 41, 40, 5);
	send_gue(&ack, 40, 0);
	untrack(&syn);
}

/*
 * An untracked non-SYN with a second hop is forwarded but not tracked (its
 * next packets need the second hop too); the control cases, a SYN and a
 * non-SYN without a second hop, are tracked.
 */
static void gue_untracked_nonsyn_with_prev_not_tracked(void)
{
	struct pkt_spec ack = tcp4("192.0.2.140", 30071, PKT_ACK);
	struct pkt_spec syn = tcp4("192.0.2.140", 30072, PKT_SYN);
	struct pkt_spec lone = tcp4("192.0.2.140", 30073, PKT_ACK);
	__u64 nf = fx_percpu_u64(bpf_map__fd(bal->maps.vip_stats), G_VIP4,
				 sizeof(struct xlb_counters),
				 offsetof(struct xlb_counters, new_flows));
	struct xlb_flow f;

	g_table(G_VIP4, 40, 41, 5);
	send_gue(&ack, 40, 41);
	RETURN_IF_FAILED();
	EXPECT_TRUE("non-SYN with a second hop not tracked", !tracked(&ack, &f));
	send_gue(&ack, 40, 41);
	RETURN_IF_FAILED();
	EXPECT_TRUE("nor on its next packet", !tracked(&ack, &f));
	send_gue(&syn, 40, 41);
	RETURN_IF_FAILED();
	EXPECT_TRUE("SYN tracked", tracked(&syn, &f));
	EXPECT_EQ("new_flows: the SYN only", nf + 1,
		  fx_percpu_u64(bpf_map__fd(bal->maps.vip_stats), G_VIP4,
				sizeof(struct xlb_counters),
				offsetof(struct xlb_counters, new_flows)));
	g_table(G_VIP4, 40, XLB_BACKEND_NONE, 0);
	send_gue(&lone, 40, 0);
	RETURN_IF_FAILED();
	EXPECT_TRUE("non-SYN without a second hop tracked", tracked(&lone, &f));
	untrack(&syn);
	untrack(&lone);
}

/*
 * Stateless VIP: no conntrack insert, and no lookup either: a planted
 * entry naming the other backend is ignored (the control case, the same
 * entry on a tracked VIP, is obeyed).
 */
static void gue_stateless_vip_no_lookup_no_insert(void)
{
	struct pkt_spec s = tcp4("192.0.2.143", 30081, PKT_SYN);
	struct pkt_spec t = tcp4("192.0.2.140", 30082, PKT_ACK);
	struct xlb_flow planted = { .backend_id = 49, .vip_id = G_VIP_NOCT };
	struct xlb_flow_key k = bal_key(&s);
	int ct = bpf_map__fd(bal->maps.conntrack);
	struct xlb_flow f;

	g_table(G_VIP_NOCT, 48, 49, 5);
	send_gue(&s, 48, 49);
	RETURN_IF_FAILED();
	EXPECT_TRUE("stateless SYN not tracked", !tracked(&s, &f));
	s.tcp_flags = PKT_ACK;
	send_gue(&s, 48, 49);
	RETURN_IF_FAILED();
	EXPECT_TRUE("stateless ACK not tracked", !tracked(&s, &f));
	planted.last_seen_ns = 0;
	EXPECT_EQ("plant entry", 0, ct_store(ct, &k, &planted, BPF_ANY));
	send_gue(&s, 48, 49);
	untrack(&s);
	RETURN_IF_FAILED();
	/* control: a tracked VIP follows a planted entry */
	k = bal_key(&t);
	planted.backend_id = 41;
	planted.vip_id = G_VIP4;
	g_table(G_VIP4, 40, XLB_BACKEND_NONE, 0);
	EXPECT_EQ("plant entry", 0, ct_store(ct, &k, &planted, BPF_ANY));
	send_gue(&t, 41, 0);
	untrack(&t);
}

/* The MTU check counts GUE's overhead: a packet IPIP would fit gets "fragmentation needed". */
static void gue_frag_needed_counts_gue_overhead(void)
{
	struct pkt_spec s = tcp4("192.0.2.144", 30091, PKT_ACK);
	size_t len;

	/* inner 1357 bytes: 1377 with IPIP fits link B's 1400, 1401 with GUE does not */
	s.payload = FX_MTU_B - XLB_GUE4_LEN + 1 - PKT_IP4_LEN - PKT_TCP_LEN;
	len = bal_frame(&s, 0, 0, in);
	g_table(G_VIPB, 54, XLB_BACKEND_NONE, 0);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	fx_expect_reason(bal_reasons, before, XLB_TX_TOO_BIG);
	RETURN_IF_FAILED();
	EXPECT_EQ("ICMP type", 3, run.out[PKT_ETH_LEN + PKT_IP4_LEN]);
	EXPECT_EQ("ICMP code", 4, run.out[PKT_ETH_LEN + PKT_IP4_LEN + 1]);
	EXPECT_EQ("next-hop MTU = route MTU - GUE overhead", FX_MTU_B - XLB_GUE4_LEN,
		  get16(run.out + PKT_ETH_LEN + PKT_IP4_LEN + 6));
	/* one byte less fits, and is redirected to link B */
	s.payload--;
	s.sport++;
	len = bal_frame(&s, 0, 0, in);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action (fits)", XDP_REDIRECT, run.ret);
	EXPECT_EQ("outer tot_len", FX_MTU_B, get16(run.out + PKT_ETH_LEN + 2));
	untrack(&s);
}

/* The outer UDP source port spreads flows, and stays in the ephemeral range. */
static void gue_source_port_spreads_flows(void)
{
	int distinct = 0, ports[16] = {};

	g_table(G_VIP4, 40, XLB_BACKEND_NONE, 0);
	for (int i = 0; i < 16; i++) {
		struct pkt_spec s = tcp4("192.0.2.140", 31000 + i, PKT_SYN);

		send_gue(&s, 40, 0);	/* checks the port against the flow hash */
		RETURN_IF_FAILED();
		ports[i] = get16(run.out + PKT_ETH_LEN + PKT_IP4_LEN);
		EXPECT_TRUE("source port >= 49152", ports[i] >= SPORT_MIN);
		distinct += 1;
		for (int j = 0; j < i; j++)
			if (ports[j] == ports[i]) {
				distinct--;
				break;
			}
		untrack(&s);
	}
	EXPECT_TRUE("at least 12 of 16 flows on distinct ports", distinct >= 12);
}

static const struct t_case cases[] = {
	T_CASE(gue_4in4_hop_list),
	T_CASE(gue_6in6_hop_list),
	T_CASE(gue_4in6_hop_list),
	T_CASE(gue_udp_inner_checksum_over_ipv6),
	T_CASE(gue_udp_inner_no_checksum_over_ipv6),
	T_CASE(gue_icmp_error_checksum_over_ipv6),
	T_CASE(gue_chain_window_expiry),
	T_CASE(gue_slot_prev_read_only_while_the_table_tail_has_a_young_change),
	T_CASE(gue_prev_down_deleted_foreign_never_hop),
	T_CASE(gue_tracked_flow_one_hop),
	T_CASE(gue_untracked_nonsyn_with_prev_not_tracked),
	T_CASE(gue_stateless_vip_no_lookup_no_insert),
	T_CASE(gue_frag_needed_counts_gue_overhead),
	T_CASE(gue_source_port_spreads_flows),
};

int main(int argc, char **argv)
{
	bal_setup_encap(XLB_ENCAP_GUE, GUE_PORT);
	g_setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
