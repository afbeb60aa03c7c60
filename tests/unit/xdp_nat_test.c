// SPDX-License-Identifier: GPL-2.0
/*
 * Packet tests of full NAT (bpf/lib/nat.h; the rules are NAT-SPEC's). A
 * client's packet to a NAT VIP must leave as SNAT:sport -> BACKEND:bport
 * with its TTL lowered and every checksum valid, leave two nat_flows
 * entries that name each other, and the backend's answer must come back
 * as VIP:vport -> client:cport. ICMP errors follow the flow both ways,
 * SNAT ports are never shared and run out visibly, and what NAT does not
 * rewrite is dropped and counted. Expected packets are built from scratch
 * by pkt.h with the tuple the flow should have (so their checksums are
 * computed, never copied from the program's output), and compared byte
 * for byte with the output; checksum fields are checked by residue.
 *
 * The balancer is loaded here (a nat_flows small enough for drop_nat_full
 * to fill) and published as balance.h's `bal`, so its helpers apply.
 * Besides fx_net_setup()'s topology: SNAT addresses 10.99.0.1, .2 and
 * fd00:99::1, ::2 on link A; the clients' router 10.99.0.3 / fd00:99::3
 * on link A (MAC fx_mac_client) for 198.51.100.0/24 and 2001:db8:c::/64;
 * 203.0.113.0/24 is behind link B, via 10.98.0.21.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "robust.h"
#include "ct.h"
#include "xlb.skel.h"

#define CT_SIZE		4096
#define NAT_SIZE	256	/* nat_flows entries: drop_nat_full fills it */
#define TABLE		BAL_TABLE	/* so bal_predict() predicts our VIPs too */
#define PORT_LO		30000
#define PORT_HI		30999
#define EXH_LO		31000
#define EXH_PORTS	8
#define TTL_IN		64	/* pkt.h's default */
#define DSCP_ECT0	0x8a
#define LABEL_IN	0x12345
#define PAYLOAD		100
#define BIG_PAYLOAD	1400	/* what a quoted packet carried */
#define CLIENT_NET4	"198.51.100.0/24"
#define CLIENT_NET6	"2001:db8:c::/64"
#define CLIENT_NET_B	"203.0.113.0/24"
#define ROUTER4		"10.99.0.3"
#define ROUTER6		"fd00:99::3"
#define ROUTER_B	"10.98.0.21"
#define ROUTER_B_LAST	21
#define ERR_SRC_CLIENT4	"198.51.100.1"	/* a router on the clients' side */
#define ERR_SRC_CLIENT6	"2001:db8:c::1"
#define ERR_SRC_BE4	"10.99.0.9"	/* a router on the backends' side */
#define ERR_SRC_BE6	"fd00:99::9"
#define ICMP_DEST_UNREACH	3
#define ICMP_FRAG_NEEDED	4
#define ICMP6_PKT_TOO_BIG	2
#define PATH_MTU4	1300
#define IPV6_MIN_MTU	1280
#define ICMP4_QUOTE	(PKT_IP4_LEN + 8)
#define ICMP6_QUOTE	(IPV6_MIN_MTU - PKT_IP6_LEN - PKT_ICMP_LEN)
#define STAMP_SLACK_NS	(50ULL * 1000 * 1000)	/* the coarse clock's tick, generously */

static const char *const snat4[] = { "10.99.0.1", "10.99.0.2" };
static const char *const snat6[] = { "fd00:99::1", "fd00:99::2" };
#define SNAT_N		2

/* NAT VIPs (ids), each with the cases that use it. */
enum {
	V_TCP4 = 1,	/* 192.0.2.10:80/tcp -> BE 1, 2 (no port): most cases */
	V_REMAP4,	/* 192.0.2.11:80/tcp -> BE 3 :8080: remap, ICMP */
	V_UDP4,		/* 192.0.2.10:53/udp -> BE 4 (no port) */
	V_TCP6,		/* [2001:db8::10]:80/tcp -> BE 5 (no port) */
	V_UDP6,		/* [2001:db8::10]:53/udp -> BE 6 :5353 */
	V_REMAP6,	/* [2001:db8::11]:80/tcp -> BE 8 :8080: ICMPv6 */
	V_EXH,		/* 192.0.2.12:80/tcp -> BE 7 only: port exhaustion */
	V_LINKB4,	/* 192.0.2.13:80/tcp -> BE 9 (10.98.0.21, link B, MTU FX_MTU_B) */
	V_ALL4,		/* 192.0.2.14:0/tcp (all ports) -> BE 10 (no port) */
	V_COUNT,
};

struct nat_vip {
	int family;
	const char *addr;
	__u16 port;
	__u8 proto;
};

static const struct nat_vip vips[V_COUNT] = {
	[V_TCP4]   = { 4, "192.0.2.10", 80, IPPROTO_TCP },
	[V_REMAP4] = { 4, "192.0.2.11", 80, IPPROTO_TCP },
	[V_UDP4]   = { 4, "192.0.2.10", 53, IPPROTO_UDP },
	[V_TCP6]   = { 6, "2001:db8::10", 80, IPPROTO_TCP },
	[V_UDP6]   = { 6, "2001:db8::10", 53, IPPROTO_UDP },
	[V_REMAP6] = { 6, "2001:db8::11", 80, IPPROTO_TCP },
	[V_EXH]    = { 4, "192.0.2.12", 80, IPPROTO_TCP },
	[V_LINKB4] = { 4, "192.0.2.13", 80, IPPROTO_TCP },
	[V_ALL4]   = { 4, "192.0.2.14", 0, IPPROTO_TCP },
};

struct nat_be {
	const char *addr;
	__u8 mac_last;
	__u16 port;		/* struct xlb_backend.port, host order; 0 = the VIP's */
	__u32 vip;
};

#define BE_COUNT 11
static const struct nat_be bes[BE_COUNT] = {
	[1] = { "10.99.0.11", 11, 0, V_TCP4 },
	[2] = { "10.99.0.12", 12, 0, V_TCP4 },
	[3] = { "10.99.0.13", 13, 8080, V_REMAP4 },
	[4] = { "10.99.0.14", 14, 0, V_UDP4 },
	[5] = { "fd00:99::15", 15, 0, V_TCP6 },
	[6] = { "fd00:99::16", 16, 5353, V_UDP6 },
	[7] = { "10.99.0.17", 17, 0, V_EXH },
	[8] = { "fd00:99::18", 18, 8080, V_REMAP6 },
	[9] = { "10.98.0.21", 21, 0, V_LINKB4 },
	[10] = { "10.99.0.19", 19, 0, V_ALL4 },
};

/* One client flow: where it comes from, and how. */
struct row {
	__u32 vip;
	const char *client;
	__u16 cport;
	int csum0;	/* IPv4 UDP sent (both ways) with checksum 0 */
	int link_b;	/* the client is behind link B: both ways are redirects */
	int opts;	/* IPv4 option bytes in the client's packets */
	__u16 dport;	/* an all-ports VIP's: the port the client chose */
};

/* The port @r's client sends to. */
static __u16 vport(const struct row *r)
{
	return vips[r->vip].port ? vips[r->vip].port : r->dport;
}

/* What a NAT flow leaves with, learnt from its first packet. */
struct natted {
	const struct row *r;
	__u32 be;
	const char *snat;	/* the SNAT address it got (one of snat4/snat6) */
	__u16 sport, bport;	/* host order */
	__u64 t0;		/* before its first packet (coarse clock) */
};

static int nat_fd, cur_n4, cur_n6;
static __u16 cur_lo, cur_hi;
static __u8 frame_in[PKT_MAX];
static struct fx_run run;
static __u64 before[XLB_REASON_MAX];

static void shell(const char *cmd)
{
	if (system(cmd))
		fx_die("command failed: %s", cmd);
}

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The snat map: the first @n4 / @n6 addresses, ports @lo..@hi, as attach writes it. */
static void snat_set(int n4, int n6, __u16 lo, __u16 hi)
{
	struct xlb_snat sn = { .n4 = n4, .n6 = n6, .port_lo = lo, .port_hi = hi,
			       .nat_vips = V_COUNT - 1 };
	int ncpu = libbpf_num_possible_cpus();
	__u32 a[4], zero = 0;

	for (int i = 0; i < n4; i++) {
		pkt_addr(4, snat4[i], a);
		sn.addr4[i] = a[0];
	}
	for (int i = 0; i < n6; i++)
		pkt_addr(6, snat6[i], sn.addr6[i]);
	sn.cpu_slice = (hi - lo + 1) / (ncpu > 0 ? ncpu : 1);
	if (!sn.cpu_slice)
		sn.cpu_slice = 1;
	if (bpf_map_update_elem(bpf_map__fd(bal->maps.snat), &zero, &sn, BPF_ANY))
		fx_die("snat update: %s", strerror(errno));
	cur_n4 = n4;
	cur_n6 = n6;
	cur_lo = lo;
	cur_hi = hi;
}

static void snat_default(void)
{
	snat_set(SNAT_N, SNAT_N, PORT_LO, PORT_HI);
}

static void vip_flags(__u32 vip, __u8 flags)
{
	const struct nat_vip *v = &vips[vip];

	fx_vip(bal, v->family, v->addr, v->port, v->proto, vip, TABLE, XLB_SCHED_MAGLEV, flags);
}

static void backend_set(__u32 id)
{
	const struct nat_be *b = &bes[id];
	struct xlb_backend v = { .family = vips[b->vip].family, .flags = XLB_BE_F_USED,
				 .weight = 1, .vip_id = b->vip, .port = htons(b->port) };

	pkt_addr(v.family, b->addr, v.addr);
	if (bpf_map_update_elem(bpf_map__fd(bal->maps.backends), &id, &v, BPF_ANY))
		fx_die("backend %u update: %s", id, strerror(errno));
}

static void nat_clear(void)
{
	struct xlb_flow_key k;

	while (!bpf_map_get_next_key(nat_fd, NULL, &k))
		if (bpf_map_delete_elem(nat_fd, &k))
			fx_die("nat_flows clear: %s", strerror(errno));
}

static int nat_count(void)
{
	struct xlb_flow_key k, next;
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(nat_fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

static int nat_entry(const struct xlb_flow_key *k, struct xlb_nat_flow *f)
{
	return bpf_map_lookup_elem(nat_fd, k, f) == 0;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fx_die("sched_setaffinity(%d): %s", cpu, strerror(errno));
}

static void unpin(void)
{
	cpu_set_t set;
	int ncpu = libbpf_num_possible_cpus();

	CPU_ZERO(&set);
	for (int c = 0; c < ncpu; c++)
		CPU_SET(c, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Check that since bal_send() each reason moved by its count in @want, the rest not at all. */
static void expect_reasons(const int *want, int n)
{
	__u64 now[XLB_REASON_MAX];

	fx_reasons(bal_reasons, now);
	for (int r = 0; r < XLB_REASON_MAX; r++) {
		__u64 w = 0, d = now[r] - before[r];

		for (int i = 0; i < n; i++)
			w += want[i] == r;
		if (d != w) {
			t_fail("reason %s counted %llu times, expected %llu", fx_reason_names[r],
			       (unsigned long long)d, (unsigned long long)w);
			return;
		}
	}
}

static void expect_reason(int reason)
{
	expect_reasons(&reason, 1);
}

/* Frame @ip from @smac to @dmac, run it as received on @ifindex. */
static size_t send_ip(const __u8 *dmac, const __u8 *smac, __u32 ifindex, const __u8 *ip,
		      size_t len)
{
	struct pkt_l2 l2 = { .dmac = dmac, .smac = smac };
	size_t flen = pkt_frame(&l2, (ip[0] >> 4) == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6, ip, len,
				frame_in);

	bal_send(ifindex, frame_in, flen, &run, before);
	return flen;
}

static size_t l4_off(const __u8 *ip)
{
	return (ip[0] >> 4) == 4 ? (ip[0] & 0xf) * 4 : PKT_IP6_LEN;
}

/* The offset of the TCP/UDP checksum in IP packet @ip. */
static size_t l4_csum_off(const __u8 *ip, __u8 proto)
{
	return l4_off(ip) + (proto == IPPROTO_TCP ? 16 : 6);
}

/* The TCP/UDP checksum of IP packet @ip computed from scratch (its field read as 0). */
static __u16 l4_csum(const __u8 *ip, size_t len)
{
	int v4 = (ip[0] >> 4) == 4;
	__u8 proto = v4 ? ip[9] : ip[6], tmp[PKT_MAX];
	size_t l4 = l4_off(ip), ck = l4_csum_off(ip, proto);
	__u32 sum;

	memcpy(tmp, ip, len);
	put16(tmp + ck, 0);
	if (v4)
		sum = pkt_sum(tmp + 12, 8, 0) + proto + (len - l4);
	else
		sum = pkt_pseudo6(tmp + 8, tmp + 24, len - l4, proto);
	return pkt_fold(pkt_sum(tmp + l4, len - l4, sum));
}

/* @s as an IP packet; a UDP checksum zeroed if @csum0. */
static size_t build(const struct pkt_spec *s, int csum0, __u8 *ip)
{
	size_t len = pkt_ip(s, ip);

	if (csum0 && s->proto == IPPROTO_UDP)
		put16(ip + l4_csum_off(ip, IPPROTO_UDP), 0);
	return len;
}

static const char *field(int v4, size_t off, int icmp)
{
	static const char *const f4[PKT_IP4_LEN] = {
		"version/IHL", "tos", "tot_len", "tot_len", "id", "id", "frag_off", "frag_off",
		"ttl", "protocol", "IP checksum", "IP checksum", "saddr", "saddr", "saddr",
		"saddr", "daddr", "daddr", "daddr", "daddr" };

	if (v4 && off < PKT_IP4_LEN)
		return f4[off];
	if (!v4 && off < PKT_IP6_LEN)
		return off < 4 ? "version/class/label" : off < 6 ? "payload_len" :
		       off == 6 ? "next header" : off == 7 ? "hop limit" :
		       off < 24 ? "saddr" : "daddr";
	off -= v4 ? PKT_IP4_LEN : PKT_IP6_LEN;
	if (icmp)
		return off < PKT_ICMP_LEN ? "ICMP header" : "quoted packet";
	return off < 2 ? "source port" : off < 4 ? "destination port" : "L4 header/payload";
}

/*
 * @got equals @want byte for byte, except the 16-bit fields at @skip
 * (checksums, checked by residue by the caller). Records the first
 * difference and what field it is in.
 */
static void expect_bytes(const char *what, const __u8 *got, const __u8 *want, size_t len,
			 const size_t *skip, int nskip, int icmp)
{
	__u8 tmp[PKT_MAX];

	memcpy(tmp, got, len);
	for (int i = 0; i < nskip; i++)
		memcpy(tmp + skip[i], want + skip[i], 2);
	for (size_t i = 0; i < len; i++)
		if (tmp[i] != want[i]) {
			t_fail("%s: byte %zu (%s): expected 0x%02x, got 0x%02x", what, i,
			       field((want[0] >> 4) == 4, i, icmp), want[i], tmp[i]);
			return;
		}
}

/*
 * IP packet @got (TCP or UDP, no options) is @want: every field, the IP
 * header checksum and the L4 checksum valid from scratch; a UDP checksum
 * is 0 exactly when @want's is.
 */
static void check_ip(const char *what, const __u8 *got, const __u8 *want, size_t len)
{
	int v4 = (want[0] >> 4) == 4;
	__u8 proto = v4 ? want[9] : want[6];
	size_t ck = l4_csum_off(want, proto), skip[2] = { ck, 10 };
	__u16 c = get16(got + ck);

	if (v4)
		EXPECT_EQ("IP header checksum residue", 0,
			  pkt_fold(pkt_sum(got, (got[0] & 0xf) * 4, 0)));
	if (proto == IPPROTO_UDP && !get16(want + ck)) {
		EXPECT_EQ("UDP checksum (0: none, kept)", 0, c);
	} else {
		EXPECT_TRUE("L4 checksum valid (recomputed)",
			    c == l4_csum(got, len) || (c == 0xffff && !l4_csum(got, len)));
		if (proto == IPPROTO_UDP)
			EXPECT_TRUE("UDP checksum not 0 (0 would mean none)", c != 0);
	}
	expect_bytes(what, got, want, len, skip, v4 ? 2 : 1, 0);
}

static void check_l2(const __u8 *dmac, const __u8 *smac, int family)
{
	EXPECT_TRUE("dst MAC = next hop's", !memcmp(run.out, dmac, 6));
	EXPECT_TRUE("src MAC = egress interface's", !memcmp(run.out + 6, smac, 6));
	EXPECT_EQ("ethertype", family == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6, get16(run.out + 12));
}

/* The packet of @r's client (flags for TCP). */
static struct pkt_spec client_spec(const struct row *r, __u8 flags)
{
	const struct nat_vip *v = &vips[r->vip];

	return (struct pkt_spec){ .family = v->family, .src = r->client, .dst = v->addr,
				  .proto = v->proto, .sport = r->cport, .dport = vport(r),
				  .tcp_flags = flags, .tos = DSCP_ECT0,
				  .frag = v->family == 4 ? PKT_DF : 0, .payload = PAYLOAD,
				  .flow_label = LABEL_IN, .opt_len = r->opts };
}

static struct xlb_flow_key client_key(const struct row *r)
{
	struct pkt_spec s = client_spec(r, 0);

	return bal_key(&s);
}

/* The key the backend's packets of @n arrive with: BACKEND:bport -> SNAT:sport. */
static struct xlb_flow_key backend_key(const struct natted *n)
{
	const struct nat_vip *v = &vips[n->r->vip];
	struct xlb_flow_key k = { .sport = htons(n->bport), .dport = htons(n->sport),
				  .proto = v->proto, .family = v->family };

	pkt_addr(v->family, bes[n->be].addr, k.src);
	pkt_addr(v->family, n->snat, k.dst);
	return k;
}

/* Which configured SNAT address @a (16 bytes) is, or NULL. */
static const char *snat_of(int family, const __u8 *a)
{
	int n = family == 4 ? cur_n4 : cur_n6;
	__u32 w[4] = {};

	for (int i = 0; i < n; i++) {
		pkt_addr(family, family == 4 ? snat4[i] : snat6[i], w);
		if (!memcmp(a, w, family == 4 ? 4 : 16))
			return family == 4 ? snat4[i] : snat6[i];
	}
	return NULL;
}

/*
 * Send @r's client packet (@flags) and check it left NATed: to the backend
 * the table predicts, from a SNAT address and a port of the range; @first
 * learns those into @n, later packets must reuse them.
 */
static void nat_forward(const struct row *r, __u8 flags, struct natted *n, int first)
{
	const struct nat_vip *v = &vips[r->vip];
	struct pkt_spec s = client_spec(r, flags), o;
	const __u8 *oip = run.out + PKT_ETH_LEN;
	int fwd = r->link_b ? XLB_FWD_REDIRECT : XLB_FWD_TX;
	__u8 ip[PKT_MAX], want[PKT_MAX], mac[6], rmac[6];
	size_t len = build(&s, r->csum0, ip), a = v->family == 4 ? 12 : 8;
	const char *snat;
	__u16 sport;

	fx_be_mac(ROUTER_B_LAST, rmac);
	if (first) {
		*n = (struct natted){ .r = r, .be = bal_predict(r->vip, &s, 0),
				      .t0 = clock_ns(CLOCK_MONOTONIC_COARSE) };
		n->bport = bes[n->be].port ? bes[n->be].port : vport(r);
	}
	send_ip(r->link_b ? fx_mac_b : fx_mac_a, r->link_b ? rmac : fx_mac_client,
		r->link_b ? fx_ifindex_b : fx_ifindex_a, ip, len);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", r->link_b ? XDP_REDIRECT : XDP_TX, run.ret);
	expect_reason(fwd);
	RETURN_IF_FAILED();
	EXPECT_EQ("frame length", PKT_ETH_LEN + len, run.out_len);
	snat = snat_of(v->family, oip + a);
	sport = get16(oip + l4_off(oip));
	EXPECT_TRUE("source address is a SNAT address of the family", snat != NULL);
	EXPECT_TRUE("source port within [port_lo, port_hi]", sport >= cur_lo && sport <= cur_hi);
	if (first) {
		n->snat = snat;
		n->sport = sport;
	} else {
		EXPECT_TRUE("same SNAT address as the flow's first packet", snat == n->snat);
		EXPECT_EQ("same SNAT port as the flow's first packet", n->sport, sport);
	}
	fx_be_mac(bes[n->be].mac_last, mac);
	check_l2(mac, fx_mac_a, v->family);
	RETURN_IF_FAILED();
	o = s;
	o.src = n->snat;
	o.dst = bes[n->be].addr;
	o.sport = n->sport;
	o.dport = n->bport;
	o.ttl = TTL_IN - 1;
	build(&o, r->csum0, want);
	check_ip("forwarded packet", oip, want, len);
}

/* The backend answers @n (@flags): it must reach the client as VIP:vport -> client:cport. */
static void nat_return(const struct natted *n, __u8 flags)
{
	const struct row *r = n->r;
	const struct nat_vip *v = &vips[r->vip];
	struct pkt_spec b = { .family = v->family, .src = bes[n->be].addr, .dst = n->snat,
			      .proto = v->proto, .sport = n->bport, .dport = n->sport,
			      .tcp_flags = flags, .tos = DSCP_ECT0,
			      .frag = v->family == 4 ? PKT_DF : 0, .payload = PAYLOAD / 2,
			      .flow_label = LABEL_IN + 1 }, o;
	int want_r[2] = { r->link_b ? XLB_FWD_REDIRECT : XLB_FWD_TX, XLB_FWD_NAT_REPLY };
	__u8 ip[PKT_MAX], want[PKT_MAX], mac[6], rmac[6];
	size_t len = build(&b, r->csum0, ip);

	fx_be_mac(bes[n->be].mac_last, mac);
	fx_be_mac(ROUTER_B_LAST, rmac);
	send_ip(fx_mac_a, mac, fx_ifindex_a, ip, len);
	RETURN_IF_FAILED();
	EXPECT_EQ("return: XDP action", r->link_b ? XDP_REDIRECT : XDP_TX, run.ret);
	expect_reasons(want_r, 2);
	RETURN_IF_FAILED();
	EXPECT_EQ("return: frame length", PKT_ETH_LEN + len, run.out_len);
	check_l2(r->link_b ? rmac : fx_mac_client, r->link_b ? fx_mac_b : fx_mac_a, v->family);
	RETURN_IF_FAILED();
	o = b;
	o.src = v->addr;
	o.dst = r->client;
	o.sport = vport(r);
	o.dport = r->cport;
	o.ttl = TTL_IN - 1;
	build(&o, r->csum0, want);
	check_ip("returned packet", run.out + PKT_ETH_LEN, want, len);
}

static void check_stamp(const char *what, __u64 t0, __u64 stamp)
{
	if (stamp + STAMP_SLACK_NS < t0 || stamp > clock_ns(CLOCK_MONOTONIC))
		t_fail("%s last_seen_ns %llu not between the first packet (%llu) and now", what,
		       (unsigned long long)stamp, (unsigned long long)t0);
}

/*
 * Both entries of @n: the client's (flags @cflags) says where its packets
 * go, the backend's (XLB_FLOW_F_NAT_REPLY | @bflags) where the answers go,
 * each the other's twin. Not in conntrack or ct_new.
 */
static void check_entries(const struct natted *n, __u32 cflags, __u32 bflags)
{
	const struct nat_vip *v = &vips[n->r->vip];
	struct xlb_flow_key ck = client_key(n->r), bk = backend_key(n), twin;
	struct xlb_nat_flow cf, bf;
	struct xlb_flow fl;
	__u32 snat[4], be[4], vip[4], client[4];

	pkt_addr(v->family, n->snat, snat);
	pkt_addr(v->family, bes[n->be].addr, be);
	pkt_addr(v->family, v->addr, vip);
	pkt_addr(v->family, n->r->client, client);
	EXPECT_TRUE("client-direction entry (client -> VIP) in nat_flows", nat_entry(&ck, &cf));
	EXPECT_EQ("client entry backend_id", n->be, cf.flow.backend_id);
	EXPECT_EQ("client entry vip_id", n->r->vip, cf.flow.vip_id);
	EXPECT_EQ("client entry flags", cflags, cf.flow.flags);
	EXPECT_TRUE("client entry to.src = the SNAT address", !memcmp(cf.to.src, snat, 16));
	EXPECT_TRUE("client entry to.dst = the backend", !memcmp(cf.to.dst, be, 16));
	EXPECT_EQ("client entry to.sport = the SNAT port", n->sport, ntohs(cf.to.sport));
	EXPECT_EQ("client entry to.dport = the backend port", n->bport, ntohs(cf.to.dport));
	check_stamp("client entry", n->t0, cf.flow.last_seen_ns);
	EXPECT_TRUE("backend-direction entry (backend -> SNAT) in nat_flows", nat_entry(&bk, &bf));
	EXPECT_EQ("backend entry backend_id", n->be, bf.flow.backend_id);
	EXPECT_EQ("backend entry vip_id", n->r->vip, bf.flow.vip_id);
	EXPECT_EQ("backend entry flags", XLB_FLOW_F_NAT_REPLY | bflags, bf.flow.flags);
	EXPECT_TRUE("backend entry to.src = the VIP", !memcmp(bf.to.src, vip, 16));
	EXPECT_TRUE("backend entry to.dst = the client", !memcmp(bf.to.dst, client, 16));
	EXPECT_EQ("backend entry to.sport = the VIP port", vport(n->r), ntohs(bf.to.sport));
	EXPECT_EQ("backend entry to.dport = the client port", n->r->cport, ntohs(bf.to.dport));
	check_stamp("backend entry", n->t0, bf.flow.last_seen_ns);
	RETURN_IF_FAILED();
	xlb_nat_twin_key(&ck, &cf, &twin);
	EXPECT_TRUE("client entry's twin key = the backend entry's key",
		    !memcmp(&twin, &bk, sizeof(twin)));
	xlb_nat_twin_key(&bk, &bf, &twin);
	EXPECT_TRUE("backend entry's twin key = the client entry's key",
		    !memcmp(&twin, &ck, sizeof(twin)));
	EXPECT_TRUE("not in conntrack",
		    ct_find(bpf_map__fd(bal->maps.conntrack), &ck, &fl) != 0);
	EXPECT_TRUE("not in ct_new",
		    ct_find(bpf_map__fd(bal->maps.ct_new), &ck, &fl) != 0);
}

/* A flow's life: first packet, its entries, a second packet, the backend's answer. */
static void nat_row(const struct row *r)
{
	struct natted n;

	nat_clear();
	nat_forward(r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	check_entries(&n, 0, 0);
	RETURN_IF_FAILED();
	EXPECT_EQ("nat_flows entries after the first packet", 2, nat_count());
	nat_forward(r, PKT_ACK, &n, 0);
	RETURN_IF_FAILED();
	nat_return(&n, PKT_SYN | PKT_ACK);
	RETURN_IF_FAILED();
	EXPECT_EQ("nat_flows entries after the answer", 2, nat_count());
}

static const struct row row_tcp4 = { V_TCP4, "198.51.100.7", 40001 };
static const struct row row_remap4 = { V_REMAP4, "198.51.100.7", 40002 };
static const struct row row_udp4_csum0 = { V_UDP4, "198.51.100.7", 40003, 1 };
static const struct row row_udp4 = { V_UDP4, "198.51.100.7", 40004 };
static const struct row row_tcp6 = { V_TCP6, "2001:db8:c::7", 40005 };
static const struct row row_udp6_remap = { V_UDP6, "2001:db8:c::7", 40006 };
static const struct row row_tcp4_link_b = { V_TCP4, "203.0.113.7", 40007, 0, 1 };
static const struct row row_tcp4_options = { V_TCP4, "198.51.100.7", 40020, 0, 0, 8 };
static const struct row row_all_ports4 = { V_ALL4, "198.51.100.7", 40025, 0, 0, 0, 443 };

static void nat_tcp4_forward_and_return(void) { nat_row(&row_tcp4); }
static void nat_tcp4_port_remap(void) { nat_row(&row_remap4); }
static void nat_udp4_zero_checksum_stays_zero(void) { nat_row(&row_udp4_csum0); }
static void nat_udp4_checksum_rewritten(void) { nat_row(&row_udp4); }
static void nat_tcp6_forward_and_return(void) { nat_row(&row_tcp6); }
static void nat_udp6_port_remap(void) { nat_row(&row_udp6_remap); }
static void nat_tcp4_two_interfaces_redirected(void) { nat_row(&row_tcp4_link_b); }
static void nat_tcp4_ip_options(void) { nat_row(&row_tcp4_options); }
static void nat_tcp4_all_ports_vip_keeps_port(void) { nat_row(&row_all_ports4); }

/* Two clients with the same port: two pairs of entries, two distinct leaving tuples. */
static void nat_two_flows_two_pairs(void)
{
	struct row r[2] = { { V_TCP4, "198.51.100.7", 40008 }, { V_TCP4, "198.51.100.8", 40008 } };
	struct natted n[2];

	nat_clear();
	for (int i = 0; i < 2 && !t_failed(); i++) {
		nat_forward(&r[i], PKT_SYN, &n[i], 1);
		if (!t_failed())
			check_entries(&n[i], 0, 0);
	}
	RETURN_IF_FAILED();
	EXPECT_EQ("nat_flows entries", 4, nat_count());
	EXPECT_TRUE("distinct leaving tuples", n[0].snat != n[1].snat || n[0].sport != n[1].sport ||
						n[0].be != n[1].be);
}

/* A backend-side packet to a SNAT address and port with no flow: the host's, untouched. */
static void nat_return_without_flow_passed(void)
{
	struct pkt_spec b = { .family = 4, .src = bes[1].addr, .dst = snat4[0],
			      .proto = IPPROTO_TCP, .sport = 80, .dport = PORT_LO + 500,
			      .tcp_flags = PKT_SYN | PKT_ACK, .frag = PKT_DF, .payload = 10 };
	__u8 ip[PKT_MAX], mac[6];
	size_t len;

	nat_clear();
	fx_be_mac(bes[1].mac_last, mac);
	len = send_ip(fx_mac_a, mac, fx_ifindex_a, ip, pkt_ip(&b, ip));
	RETURN_IF_FAILED();
	check_untouched(frame_in, len, &run, XDP_PASS);
	RETURN_IF_FAILED();
	expect_reason(XLB_PASS_NAT_NO_FLOW);
	RETURN_IF_FAILED();
	b.family = 6;
	b.src = bes[5].addr;
	b.dst = snat6[1];
	b.frag = 0;
	len = send_ip(fx_mac_a, mac, fx_ifindex_a, ip, pkt_ip(&b, ip));
	RETURN_IF_FAILED();
	check_untouched(frame_in, len, &run, XDP_PASS);
	RETURN_IF_FAILED();
	expect_reason(XLB_PASS_NAT_NO_FLOW);
	EXPECT_EQ("nat_flows entries", 0, nat_count());
}

/* FIN from each side marks that side's own entry CLOSING. */
static void nat_fin_marks_each_direction_closing(void)
{
	static const struct row r = { V_TCP4, "198.51.100.9", 40009 };
	struct natted n;

	nat_clear();
	nat_forward(&r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	nat_forward(&r, PKT_FIN | PKT_ACK, &n, 0);
	RETURN_IF_FAILED();
	check_entries(&n, XLB_FLOW_F_CLOSING, 0);
	RETURN_IF_FAILED();
	nat_return(&n, PKT_FIN | PKT_ACK);
	RETURN_IF_FAILED();
	check_entries(&n, XLB_FLOW_F_CLOSING, XLB_FLOW_F_CLOSING);
}

/* Set the last_seen_ns of entry @k to @ns. */
static void stamp_set(const struct xlb_flow_key *k, __u64 ns)
{
	struct xlb_nat_flow f;

	if (!nat_entry(k, &f))
		fx_die("stamp_set: no entry");
	f.flow.last_seen_ns = ns;
	if (bpf_map_update_elem(nat_fd, k, &f, BPF_EXIST))
		fx_die("stamp_set: %s", strerror(errno));
}

static __u64 stamp_of(const struct xlb_flow_key *k)
{
	struct xlb_nat_flow f;

	return nat_entry(k, &f) ? f.flow.last_seen_ns : 0;
}

/*
 * Each direction's packets refresh their own entry's last_seen_ns, once
 * it is XLB_FLOW_TOUCH_NS old, and only then (so a busy flow does not
 * write its entry on every packet).
 */
static void nat_last_seen_refreshed_per_direction(void)
{
	static const struct row r = { V_TCP4, "198.51.100.22", 40026 };
	struct xlb_flow_key ck = client_key(&r), bk;
	__u64 old, t0, recent;
	struct natted n;

	nat_clear();
	nat_forward(&r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	bk = backend_key(&n);
	t0 = clock_ns(CLOCK_MONOTONIC_COARSE);
	old = t0 - 2 * XLB_FLOW_TOUCH_NS;
	stamp_set(&ck, old);
	stamp_set(&bk, old);
	nat_forward(&r, PKT_ACK, &n, 0);
	RETURN_IF_FAILED();
	check_stamp("client entry after a client packet", t0, stamp_of(&ck));
	EXPECT_EQ("backend entry untouched by a client packet", old, stamp_of(&bk));
	nat_return(&n, PKT_ACK);
	RETURN_IF_FAILED();
	check_stamp("backend entry after an answer", t0, stamp_of(&bk));
	RETURN_IF_FAILED();
	recent = clock_ns(CLOCK_MONOTONIC_COARSE) - XLB_FLOW_TOUCH_NS / 2;
	stamp_set(&ck, recent);
	nat_forward(&r, PKT_ACK, &n, 0);
	RETURN_IF_FAILED();
	EXPECT_EQ("client entry younger than XLB_FLOW_TOUCH_NS: not rewritten", recent,
		  stamp_of(&ck));
	nat_clear();
}

/*
 * A UDP checksum that computes to 0 is sent as 0xffff (RFC 768; over IPv6
 * a 0 is invalid): the flow's second packet is given a payload that makes
 * the rewritten packet's checksum exactly that.
 */
static void udp_csum_ffff(const struct row *r)
{
	struct pkt_spec s = client_spec(r, 0), o;
	__u8 ip[PKT_MAX], want[PKT_MAX];
	size_t len, pay;
	struct natted n;
	__u32 w;

	nat_clear();
	nat_forward(r, 0, &n, 1);
	RETURN_IF_FAILED();
	o = s;
	o.src = n.snat;
	o.dst = bes[n.be].addr;
	o.sport = n.sport;
	o.dport = n.bport;
	o.ttl = TTL_IN - 1;
	len = pkt_ip(&s, ip);
	pkt_ip(&o, want);
	pay = len - 2;	/* the payload's last two bytes */
	for (w = 0; w <= 0xffff; w++) {
		put16(want + pay, w);
		put16(ip + pay, w);
		if (!l4_csum(want, len) && l4_csum(ip, len))
			break;
	}
	EXPECT_TRUE("a payload whose rewritten checksum is 0", w <= 0xffff);
	put16(ip + l4_csum_off(ip, IPPROTO_UDP), l4_csum(ip, len));
	put16(want + l4_csum_off(want, IPPROTO_UDP), 0xffff);
	send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip, len);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	expect_reason(XLB_FWD_TX);
	RETURN_IF_FAILED();
	EXPECT_EQ("UDP checksum computing to 0 is sent as 0xffff", 0xffff,
		  get16(run.out + PKT_ETH_LEN + l4_csum_off(want, IPPROTO_UDP)));
	check_ip("forwarded packet", run.out + PKT_ETH_LEN, want, len);
}

static void nat_udp4_checksum_computing_to_zero_sent_as_ffff(void)
{
	static const struct row r = { V_UDP4, "198.51.100.10", 40011 };

	udp_csum_ffff(&r);
}

static void nat_udp6_checksum_computing_to_zero_sent_as_ffff(void)
{
	static const struct row r = { V_UDP6, "2001:db8:c::10", 40012 };

	udp_csum_ffff(&r);
}

/* The quote of an ICMP error: the first @qlen bytes of the TCP packet @q (of 1400 bytes). */
static size_t icmp_err(int family, const char *src, const char *dst, const struct pkt_spec *q,
		       __u8 *out)
{
	__u8 qb[PKT_MAX];

	pkt_ip(q, qb);
	if (family == 4)
		return pkt_icmp4_err(src, dst, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, PATH_MTU4,
				     qb, ICMP4_QUOTE, out);
	return pkt_icmp6_err(src, dst, ICMP6_PKT_TOO_BIG, 0, IPV6_MIN_MTU, qb, ICMP6_QUOTE, out);
}

/*
 * ICMP error @got (no options) is @want but for its outer TTL (@want's
 * minus one): outer, ICMP and quoted IPv4 checksums valid, every other
 * byte as expected, the quoted L4 checksum included (adjusted for the
 * rewritten quote as if the whole packet had been rewritten).
 */
static void check_icmp(const __u8 *got, __u8 *want, size_t len)
{
	int v4 = (want[0] >> 4) == 4;
	size_t ih = v4 ? PKT_IP4_LEN : PKT_IP6_LEN, q = ih + PKT_ICMP_LEN;
	size_t skip[3] = { ih + 2, 10, q + 10 };
	__u32 sum;

	if (v4) {
		want[8]--;
		EXPECT_EQ("outer IP checksum residue", 0, pkt_fold(pkt_sum(got, PKT_IP4_LEN, 0)));
		EXPECT_EQ("ICMP checksum residue", 0, pkt_fold(pkt_sum(got + ih, len - ih, 0)));
		EXPECT_EQ("quoted IP checksum residue", 0,
			  pkt_fold(pkt_sum(got + q, PKT_IP4_LEN, 0)));
	} else {
		want[7]--;
		sum = pkt_pseudo6(got + 8, got + 24, len - ih, IPPROTO_ICMPV6);
		EXPECT_EQ("ICMPv6 checksum residue", 0, pkt_fold(pkt_sum(got + ih, len - ih, sum)));
	}
	expect_bytes("ICMP error", got, want, len, skip, v4 ? 3 : 1, 1);
}

/* The flow an ICMP case is about: TCP to a remapping VIP of @family, or UDP. */
static const struct row *icmp_row(int family, __u8 proto, int n)
{
	static const struct row tcp[2][2] = {
		{ { V_REMAP4, "198.51.100.11", 40013 }, { V_REMAP4, "198.51.100.12", 40014 } },
		{ { V_REMAP6, "2001:db8:c::11", 40013 }, { V_REMAP6, "2001:db8:c::12", 40014 } },
	};
	static const struct row udp[2][2] = {
		{ { V_UDP4, "198.51.100.11", 40013 }, { V_UDP4, "198.51.100.12", 40014 } },
		{ { V_UDP6, "2001:db8:c::11", 40013 }, { V_UDP6, "2001:db8:c::12", 40014 } },
	};

	return proto == IPPROTO_TCP ? &tcp[family == 6][n] : &udp[family == 6][n];
}

/*
 * (a) A router on the client's side cannot forward the backend's answer
 * (VIP:vport -> client:cport): the error goes to the backend, from the
 * SNAT address, quoting BACKEND:bport -> SNAT:sport.
 */
static void icmp_from_client_side(int family, __u8 proto)
{
	const struct row *r = icmp_row(family, proto, 0);
	const struct nat_vip *v = &vips[r->vip];
	struct pkt_spec q = { .family = family, .src = v->addr, .dst = r->client,
			      .proto = proto, .sport = v->port, .dport = r->cport,
			      .tcp_flags = PKT_ACK, .frag = family == 4 ? PKT_DF : 0,
			      .payload = BIG_PAYLOAD };
	__u8 ip[PKT_MAX], want[PKT_MAX], mac[6];
	struct natted n;
	size_t len;

	nat_clear();
	nat_forward(r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	len = icmp_err(family, family == 4 ? ERR_SRC_CLIENT4 : ERR_SRC_CLIENT6, v->addr, &q, ip);
	q.src = bes[n.be].addr;
	q.dst = n.snat;
	q.sport = n.bport;
	q.dport = n.sport;
	icmp_err(family, n.snat, bes[n.be].addr, &q, want);
	send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip, len);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	expect_reason(XLB_FWD_TX);
	RETURN_IF_FAILED();
	EXPECT_EQ("frame length", PKT_ETH_LEN + len, run.out_len);
	fx_be_mac(bes[n.be].mac_last, mac);
	check_l2(mac, fx_mac_a, family);
	RETURN_IF_FAILED();
	check_icmp(run.out + PKT_ETH_LEN, want, len);
	RETURN_IF_FAILED();
	EXPECT_EQ("nat_flows entries (an error starts nothing)", 2, nat_count());
}

/*
 * (b) A router on the backends' side cannot forward our packet (SNAT:sport
 * -> BACKEND:bport): the error goes to the client, from the VIP, quoting
 * what the client sent, client:cport -> VIP:vport.
 */
static void icmp_from_backend_side(int family, __u8 proto)
{
	const struct row *r = icmp_row(family, proto, 1);
	const struct nat_vip *v = &vips[r->vip];
	int want_r[2] = { XLB_FWD_TX, XLB_FWD_NAT_REPLY };
	__u8 ip[PKT_MAX], want[PKT_MAX], mac[6];
	struct pkt_spec q;
	struct natted n;
	size_t len;

	nat_clear();
	nat_forward(r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	q = (struct pkt_spec){ .family = family, .src = n.snat, .dst = bes[n.be].addr,
			       .proto = proto, .sport = n.sport, .dport = n.bport,
			       .tcp_flags = PKT_ACK, .frag = family == 4 ? PKT_DF : 0,
			       .payload = BIG_PAYLOAD, .ttl = TTL_IN - 1 };
	len = icmp_err(family, family == 4 ? ERR_SRC_BE4 : ERR_SRC_BE6, n.snat, &q, ip);
	q.src = r->client;
	q.dst = v->addr;
	q.sport = r->cport;
	q.dport = v->port;
	icmp_err(family, v->addr, r->client, &q, want);
	fx_be_mac(bes[n.be].mac_last, mac);
	send_ip(fx_mac_a, mac, fx_ifindex_a, ip, len);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	expect_reasons(want_r, 2);
	RETURN_IF_FAILED();
	EXPECT_EQ("frame length", PKT_ETH_LEN + len, run.out_len);
	check_l2(fx_mac_client, fx_mac_a, family);
	RETURN_IF_FAILED();
	check_icmp(run.out + PKT_ETH_LEN, want, len);
	RETURN_IF_FAILED();
	EXPECT_EQ("nat_flows entries (an error starts nothing)", 2, nat_count());
}

static void nat_icmp4_frag_needed_from_client_side(void)
{
	icmp_from_client_side(4, IPPROTO_TCP);
}

static void nat_icmp4_frag_needed_from_backend_side(void)
{
	icmp_from_backend_side(4, IPPROTO_TCP);
}

static void nat_icmp6_too_big_from_client_side(void)
{
	icmp_from_client_side(6, IPPROTO_TCP);
}

static void nat_icmp6_too_big_from_backend_side(void)
{
	icmp_from_backend_side(6, IPPROTO_TCP);
}

/* The same with UDP quotes: 8 quoted bytes reach the UDP checksum, which must follow. */
static void nat_icmp4_udp_quote_both_sides(void)
{
	icmp_from_client_side(4, IPPROTO_UDP);
	RETURN_IF_FAILED();
	icmp_from_backend_side(4, IPPROTO_UDP);
}

static void nat_icmp6_udp_quote_both_sides(void)
{
	icmp_from_client_side(6, IPPROTO_UDP);
	RETURN_IF_FAILED();
	icmp_from_backend_side(6, IPPROTO_UDP);
}

/*
 * An ICMP error about no NAT flow: from the client side (to the VIP) it
 * starts none and is dropped (the VIP is not the host's); from the
 * backend side (to a SNAT address) it is the host's, passed untouched.
 */
static void nat_icmp_error_without_flow(void)
{
	const struct row *r = icmp_row(4, IPPROTO_TCP, 0);
	const struct nat_vip *v = &vips[r->vip];
	struct pkt_spec q = { .family = 4, .src = v->addr, .dst = r->client,
			      .proto = IPPROTO_TCP, .sport = v->port, .dport = r->cport,
			      .tcp_flags = PKT_ACK, .frag = PKT_DF, .payload = BIG_PAYLOAD };
	__u8 ip[PKT_MAX], mac[6];
	size_t len;

	nat_clear();
	send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip,
		icmp_err(4, ERR_SRC_CLIENT4, v->addr, &q, ip));
	RETURN_IF_FAILED();
	EXPECT_EQ("client side: XDP action", XDP_DROP, run.ret);
	expect_reason(XLB_DROP_VIP_ICMP);
	RETURN_IF_FAILED();
	EXPECT_EQ("client side: nat_flows entries", 0, nat_count());
	q = (struct pkt_spec){ .family = 4, .src = snat4[0], .dst = bes[3].addr,
			       .proto = IPPROTO_TCP, .sport = PORT_LO + 7, .dport = 8080,
			       .tcp_flags = PKT_ACK, .frag = PKT_DF, .payload = BIG_PAYLOAD };
	fx_be_mac(bes[3].mac_last, mac);
	len = send_ip(fx_mac_a, mac, fx_ifindex_a, ip, icmp_err(4, ERR_SRC_BE4, snat4[0], &q, ip));
	RETURN_IF_FAILED();
	check_untouched(frame_in, len, &run, XDP_PASS);
	RETURN_IF_FAILED();
	expect_reason(XLB_PASS_NAT_NO_FLOW);
}

/* Every client-direction entry's leaving tuple differs from every other's, and has a twin. */
static void expect_unique_tuples(void)
{
	struct xlb_nat_to seen[NAT_SIZE];
	struct xlb_flow_key k, next, twin;
	struct xlb_nat_flow f, tf;
	void *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(nat_fd, prev, &next)) {
		k = next;
		prev = &k;
		if (!nat_entry(&k, &f) || (f.flow.flags & XLB_FLOW_F_NAT_REPLY))
			continue;
		f.to.pad = 0;
		for (int i = 0; i < n; i++)
			if (!memcmp(&seen[i], &f.to, sizeof(f.to))) {
				t_fail("two flows leave with SNAT port %u to the same backend",
				       ntohs(f.to.sport));
				return;
			}
		xlb_nat_twin_key(&k, &f, &twin);
		EXPECT_TRUE("every client entry has its backend twin", nat_entry(&twin, &tf));
		if (n < NAT_SIZE)
			seen[n++] = f.to;
	}
}

/*
 * A range of EXH_PORTS ports and one backend: EXH_PORTS flows get distinct
 * ports (three quarters from one CPU, the rest from another, so CPUs search
 * into each other's slices), the next is dropped and counted and inserts
 * nothing, an existing flow still passes; once one pair is removed (as the
 * agent does, backend entry last) the next flow gets its port: the drop
 * was the exhaustion (the control).
 */
static void nat_snat_port_exhaustion(void)
{
	static struct row r[EXH_PORTS + 1];
	static char clients[EXH_PORTS + 1][32];
	struct natted n[EXH_PORTS + 1];
	int ncpu = libbpf_num_possible_cpus(), cpu0 = sched_getcpu();
	int cpu1 = ncpu > 1 ? (cpu0 + 1) % ncpu : cpu0;
	struct xlb_flow_key k, bk;
	struct xlb_nat_flow f;

	nat_clear();
	snat_set(1, 1, EXH_LO, EXH_LO + EXH_PORTS - 1);
	for (int i = 0; i <= EXH_PORTS; i++) {
		snprintf(clients[i], sizeof(clients[i]), "198.51.100.%d", 100 + i);
		r[i] = (struct row){ V_EXH, clients[i], 42000 };
	}
	for (int i = 0; i < EXH_PORTS && !t_failed(); i++) {
		pin(i < EXH_PORTS * 3 / 4 ? cpu0 : cpu1);
		nat_forward(&r[i], PKT_SYN, &n[i], 1);
		for (int j = 0; j < i && !t_failed(); j++)
			if (n[j].sport == n[i].sport)
				t_fail("flows %d and %d share SNAT port %u", j, i, n[i].sport);
	}
	pin(cpu0);
	if (!t_failed()) {
		EXPECT_EQ("nat_flows entries: two per flow", 2 * EXH_PORTS, nat_count());
		expect_unique_tuples();
	}
	if (!t_failed()) {
		__u8 ip[PKT_MAX];
		struct pkt_spec s = client_spec(&r[EXH_PORTS], PKT_SYN);

		send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip, pkt_ip(&s, ip));
		if (!t_failed() && run.ret != XDP_DROP)
			t_fail("flow %d of a %d-port range: expected XDP_DROP, got %d",
			       EXH_PORTS + 1, EXH_PORTS, run.ret);
		if (!t_failed())
			expect_reason(XLB_DROP_SNAT_EXHAUSTED);
		k = client_key(&r[EXH_PORTS]);
		if (!t_failed() && nat_entry(&k, &f))
			t_fail("the dropped flow has a client entry");
		if (!t_failed() && nat_count() != 2 * EXH_PORTS)
			t_fail("nat_flows entries after the drop: expected %d, got %d",
			       2 * EXH_PORTS, nat_count());
	}
	if (!t_failed())
		nat_forward(&r[0], PKT_ACK, &n[0], 0);
	if (!t_failed()) {
		k = client_key(&r[0]);
		bk = backend_key(&n[0]);
		bpf_map_delete_elem(nat_fd, &k);
		bpf_map_delete_elem(nat_fd, &bk);
		nat_forward(&r[EXH_PORTS], PKT_SYN, &n[EXH_PORTS], 1);
		if (!t_failed() && n[EXH_PORTS].sport != n[0].sport)
			t_fail("after a pair's removal: expected its port %u, got %u",
			       n[0].sport, n[EXH_PORTS].sport);
	}
	unpin();
	snat_default();
}

/* Fill nat_flows with @n entries no packet will ever match. */
static void nat_fill(int n)
{
	struct xlb_flow_key k = { .proto = IPPROTO_TCP, .family = 4 };
	struct xlb_nat_flow f = { .flow = { .backend_id = 1, .vip_id = V_TCP4 } };

	for (int i = 0; i < n; i++) {
		k.src[0] = htonl(0x0a4d0000 + i);	/* 10.77.x.y */
		if (bpf_map_update_elem(nat_fd, &k, &f, BPF_NOEXIST))
			fx_die("nat_flows fill %d: %s", i, strerror(errno));
	}
}

/*
 * A full nat_flows drops a new flow (drop_nat_full), and one with room for
 * only one of its two entries too, leaving no half flow (a backend entry
 * with no client entry would hold its port for ever). The control: room
 * for two, the flow passes.
 */
static void nat_table_full_dropped(void)
{
	static const struct row r = { V_TCP4, "198.51.100.13", 40015 };
	struct pkt_spec s = client_spec(&r, PKT_SYN);
	struct xlb_flow_key k = client_key(&r);
	struct xlb_nat_flow f;
	__u8 ip[PKT_MAX];
	struct natted n;

	for (int room = 0; room <= 1 && !t_failed(); room++) {
		nat_clear();
		nat_fill(NAT_SIZE - room);
		send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip, pkt_ip(&s, ip));
		RETURN_IF_FAILED();
		if (run.ret != XDP_DROP)
			t_fail("room for %d entries: expected XDP_DROP, got %d", room, run.ret);
		RETURN_IF_FAILED();
		expect_reason(XLB_DROP_NAT_FULL);
		RETURN_IF_FAILED();
		EXPECT_TRUE("no client entry", !nat_entry(&k, &f));
		if (nat_count() != NAT_SIZE - room)
			t_fail("room for %d entries: %d entries after the drop, expected %d (no half"
			       " flow)", room, nat_count(), NAT_SIZE - room);
	}
	RETURN_IF_FAILED();
	nat_clear();
	nat_fill(NAT_SIZE - 2);
	nat_forward(&r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	check_entries(&n, 0, 0);
	nat_clear();
}

/*
 * @ip (@len), sent on link A from @smac, is too big for its route (link B,
 * MTU FX_MTU_B): answered with frag-needed from @from to @to carrying the
 * route MTU itself (NAT adds no header), quoting the packet, back to @smac.
 */
static void expect_frag_needed(const __u8 *ip, size_t len, const __u8 *smac, const char *from,
			       const char *to)
{
	const __u8 *o = run.out + PKT_ETH_LEN, *icmp = o + PKT_IP4_LEN;
	__u32 a[4], b[4];

	pkt_addr(4, from, a);
	pkt_addr(4, to, b);
	send_ip(fx_mac_a, smac, fx_ifindex_a, ip, len);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	expect_reason(XLB_TX_TOO_BIG);
	RETURN_IF_FAILED();
	EXPECT_EQ("reply length", PKT_ETH_LEN + PKT_IP4_LEN + PKT_ICMP_LEN + ICMP4_QUOTE,
		  run.out_len);
	check_l2(smac, fx_mac_a, 4);
	RETURN_IF_FAILED();
	EXPECT_EQ("IP checksum residue", 0, pkt_fold(pkt_sum(o, PKT_IP4_LEN, 0)));
	EXPECT_EQ("protocol", IPPROTO_ICMP, o[9]);
	EXPECT_TRUE("saddr", !memcmp(o + 12, a, 4));
	EXPECT_TRUE("daddr", !memcmp(o + 16, b, 4));
	EXPECT_EQ("ICMP type", ICMP_DEST_UNREACH, icmp[0]);
	EXPECT_EQ("ICMP code", ICMP_FRAG_NEEDED, icmp[1]);
	EXPECT_EQ("ICMP next-hop MTU (the route's: no header added)", FX_MTU_B, get16(icmp + 6));
	EXPECT_EQ("ICMP checksum residue", 0,
		  pkt_fold(pkt_sum(icmp, PKT_ICMP_LEN + ICMP4_QUOTE, 0)));
	EXPECT_TRUE("quote = the packet's header + 8 bytes", !memcmp(icmp + PKT_ICMP_LEN, ip,
								      ICMP4_QUOTE));
}

/*
 * Too big for the route, both ways: a client's packet to a backend behind
 * link B, and a backend's answer to a client behind link B. The sender
 * learns the MTU from the address it sent to (VIP, SNAT address). The
 * control: one byte less fits (forwarded).
 */
static void nat_too_big_both_ways_frag_needed(void)
{
	static const struct row r = { V_LINKB4, "198.51.100.20", 40023 };
	struct pkt_spec s = client_spec(&r, PKT_ACK), b;
	__u8 ip[PKT_MAX], mac[6];
	struct natted n;

	nat_clear();
	s.payload = FX_MTU_B - PKT_IP4_LEN - PKT_TCP_LEN + 1;
	expect_frag_needed(ip, pkt_ip(&s, ip), fx_mac_client, vips[V_LINKB4].addr, r.client);
	RETURN_IF_FAILED();
	s.payload--;
	send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip, pkt_ip(&s, ip));
	RETURN_IF_FAILED();
	EXPECT_EQ("exactly the MTU: XDP action", XDP_REDIRECT, run.ret);
	expect_reason(XLB_FWD_REDIRECT);
	RETURN_IF_FAILED();
	nat_clear();
	nat_forward(&row_tcp4_link_b, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	b = (struct pkt_spec){ .family = 4, .src = bes[n.be].addr, .dst = n.snat,
			       .proto = IPPROTO_TCP, .sport = n.bport, .dport = n.sport,
			       .tcp_flags = PKT_ACK, .frag = PKT_DF,
			       .payload = FX_MTU_B - PKT_IP4_LEN - PKT_TCP_LEN + 1 };
	fx_be_mac(bes[n.be].mac_last, mac);
	expect_frag_needed(ip, pkt_ip(&b, ip), mac, n.snat, bes[n.be].addr);
	nat_clear();
}

/* Bytes after the IP packet (Ethernet padding) are not sent on. */
static void nat_trailing_bytes_trimmed(void)
{
	static const struct row r = { V_TCP4, "198.51.100.21", 40024 };
	struct pkt_spec s = client_spec(&r, PKT_SYN), o;
	__u8 ip[PKT_MAX], want[PKT_MAX];
	struct natted n;
	size_t len;

	nat_clear();
	nat_forward(&r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	s.payload = 0;
	s.tcp_flags = PKT_ACK;
	len = pkt_ip(&s, ip);
	memset(ip + len, 0xee, 6);	/* a 54-byte frame padded to 60 */
	send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip, len + 6);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	expect_reason(XLB_FWD_TX);
	RETURN_IF_FAILED();
	EXPECT_EQ("frame length (padding cut)", PKT_ETH_LEN + len, run.out_len);
	o = s;
	o.src = n.snat;
	o.dst = bes[n.be].addr;
	o.sport = n.sport;
	o.dport = n.bport;
	o.ttl = TTL_IN - 1;
	pkt_ip(&o, want);
	check_ip("forwarded packet", run.out + PKT_ETH_LEN, want, len);
	nat_clear();
}

/* Send @ip (@len) from the client and expect it dropped for @reason, nothing inserted. */
static void expect_drop(const __u8 *ip, size_t len, int reason)
{
	send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip, len);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_DROP, run.ret);
	expect_reason(reason);
	RETURN_IF_FAILED();
	EXPECT_EQ("nat_flows entries after the drop", 0, nat_count());
}

/* Send a client packet of @r with TTL / hop limit 1: dropped, drop_ttl. */
static void ttl_one(const struct row *r)
{
	struct pkt_spec s = client_spec(r, PKT_SYN);
	__u8 ip[PKT_MAX];

	s.ttl = 1;
	send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip, pkt_ip(&s, ip));
	RETURN_IF_FAILED();
	EXPECT_EQ("TTL 1: XDP action", XDP_DROP, run.ret);
	expect_reason(XLB_DROP_TTL);
	RETURN_IF_FAILED();
	/* A packet that cannot leave reserves no SNAT port. */
	EXPECT_EQ("TTL 1: nat_flows entries left by the dropped packet", 0, nat_count());
}

/* TTL / hop limit 1 would leave as 0: dropped. The control: 2 leaves as 1. */
static void nat_ttl_one_dropped(void)
{
	static const struct row r4 = { V_TCP4, "198.51.100.14", 40016 };
	static const struct row r6 = { V_TCP6, "2001:db8:c::14", 40016 };
	struct pkt_spec s = client_spec(&r4, PKT_SYN);
	__u8 ip[PKT_MAX];

	nat_clear();
	ttl_one(&r4);
	RETURN_IF_FAILED();
	nat_clear();
	ttl_one(&r6);
	RETURN_IF_FAILED();
	nat_clear();
	s = client_spec(&r4, PKT_SYN);
	s.ttl = 2;
	send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip, pkt_ip(&s, ip));
	RETURN_IF_FAILED();
	EXPECT_EQ("TTL 2: XDP action", XDP_TX, run.ret);
	EXPECT_EQ("TTL 2 leaves as 1", 1, run.out[PKT_ETH_LEN + 8]);
	nat_clear();
}

/* What NAT cannot rewrite: an IPv4 first fragment, IPv6 with an extension header. */
static void nat_fragment_and_ext_header_unsupported(void)
{
	static const struct row r4 = { V_TCP4, "198.51.100.15", 40017 };
	static const struct row r6 = { V_TCP6, "2001:db8:c::15", 40017 };
	struct pkt_spec s = client_spec(&r4, PKT_SYN);
	const __u8 dest[] = { EXT_DEST };
	__u8 ip[PKT_MAX];
	size_t len;

	nat_clear();
	s.frag = PKT_MF;
	expect_drop(ip, pkt_ip(&s, ip), XLB_DROP_NAT_UNSUPP);
	RETURN_IF_FAILED();
	s = client_spec(&r6, PKT_SYN);
	len = ext6_frame(&s, dest, 1, NULL, frame_in);
	bal_send(fx_ifindex_a, frame_in, len, &run, before);
	RETURN_IF_FAILED();
	memcpy(ip, frame_in, len);
	check_untouched(ip, len, &run, XDP_DROP);
	RETURN_IF_FAILED();
	expect_reason(XLB_DROP_NAT_UNSUPP);
	EXPECT_EQ("nat_flows entries after the drop", 0, nat_count());
}

/* No SNAT address of the packet's family: dropped (the other family still works). */
static void nat_no_snat_address_dropped(void)
{
	static const struct row r4 = { V_TCP4, "198.51.100.16", 40018 };
	static const struct row r6 = { V_TCP6, "2001:db8:c::16", 40018 };
	struct pkt_spec s4 = client_spec(&r4, PKT_SYN), s6 = client_spec(&r6, PKT_SYN);
	__u8 ip[PKT_MAX];
	struct natted n;

	nat_clear();
	snat_set(0, SNAT_N, PORT_LO, PORT_HI);
	expect_drop(ip, pkt_ip(&s4, ip), XLB_DROP_NO_SNAT);
	if (!t_failed())
		nat_forward(&r6, PKT_SYN, &n, 1);
	nat_clear();
	snat_set(SNAT_N, 0, PORT_LO, PORT_HI);
	if (!t_failed())
		expect_drop(ip, pkt_ip(&s6, ip), XLB_DROP_NO_SNAT);
	if (!t_failed())
		nat_forward(&r4, PKT_SYN, &n, 1);
	nat_clear();
	snat_default();
}

/* The backend's SYN-ACK of NAT flow @n, sent; the frame's length. */
static size_t send_synack(const struct natted *n)
{
	struct pkt_spec b = { .family = 4, .src = bes[n->be].addr, .dst = n->snat,
			      .proto = IPPROTO_TCP, .sport = n->bport, .dport = n->sport,
			      .tcp_flags = PKT_SYN | PKT_ACK, .frag = PKT_DF };
	__u8 ip[PKT_MAX], mac[6];

	fx_be_mac(bes[n->be].mac_last, mac);
	return send_ip(fx_mac_a, mac, fx_ifindex_a, ip, pkt_ip(&b, ip));
}

/*
 * That answer (@len bytes) was passed untouched as for no VIP; sent again
 * with the setting put back, it is rewritten to the client (the control).
 */
static void expect_passed_then_rewritten(const struct natted *n, size_t len)
{
	RETURN_IF_FAILED();
	check_untouched(frame_in, len, &run, XDP_PASS);
	RETURN_IF_FAILED();
	expect_reason(XLB_PASS_NOT_VIP);
	RETURN_IF_FAILED();
	nat_return(n, PKT_SYN | PKT_ACK);
	nat_clear();
}

/*
 * snat.nat_vips 0 (no NAT VIP configured): a packet for no VIP is not
 * looked at as a NAT answer, even one that has a flow (the control: with
 * nat_vips back, the same answer is rewritten).
 */
static void nat_answer_path_gated_by_nat_vips(void)
{
	static const struct row r = { V_TCP4, "198.51.100.18", 40021 };
	struct xlb_snat sn;
	struct natted n;
	__u32 zero = 0;
	int fd = bpf_map__fd(bal->maps.snat);
	size_t len;

	nat_clear();
	nat_forward(&r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	if (bpf_map_lookup_elem(fd, &zero, &sn))
		fx_die("snat lookup: %s", strerror(errno));
	sn.nat_vips = 0;
	bpf_map_update_elem(fd, &zero, &sn, BPF_ANY);
	len = send_synack(&n);
	snat_default();
	expect_passed_then_rewritten(&n, len);
}

/*
 * The VIP filter's nat word: with it 0 (the instance has no NAT VIP) a
 * packet whose destination the filter rules out is passed at once, a NAT
 * answer with a flow included; with it 1, as the commit keeps it while NAT
 * VIPs exist, the same answer is rewritten (the control). The SNAT address
 * is no VIP address: its bit is clear.
 */
static void nat_answer_path_gated_by_the_vip_filter(void)
{
	static const struct row r = { V_TCP4, "198.51.100.23", 40026 };
	int fd = bpf_map__fd(bal->maps.vip_filter);
	struct xlb_vip_filter f, saved;
	struct natted n;
	__u32 zero = 0, a[4] = {}, bit;
	size_t len;

	nat_clear();
	nat_forward(&r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	if (bpf_map_lookup_elem(fd, &zero, &saved))
		fx_die("vip_filter lookup: %s", strerror(errno));
	EXPECT_TRUE("armed, nat on (the fixture has NAT VIPs)", saved.armed && saved.nat);
	pkt_addr(4, n.snat, a);
	bit = xlb_vip_filter_bit(a);
	EXPECT_TRUE("the SNAT address's bit is clear",
		    !((saved.bits[bit / 64] >> (bit % 64)) & 1));
	RETURN_IF_FAILED();
	f = saved;
	f.nat = 0;
	bpf_map_update_elem(fd, &zero, &f, BPF_ANY);
	len = send_synack(&n);
	bpf_map_update_elem(fd, &zero, &saved, BPF_ANY);
	expect_passed_then_rewritten(&n, len);
}

/*
 * A flow whose backend is deleted is forgotten (both halves) and picks
 * again: its next packet leaves for the other backend with a fresh pair.
 */
static void nat_backend_gone_flow_repicked(void)
{
	static const struct row r = { V_TCP4, "198.51.100.19", 40022 };
	struct xlb_backend gone = {};
	struct xlb_flow_key old_bk;
	struct xlb_nat_flow f;
	struct natted n;
	__u32 ids[] = { 1, 2 }, old, other;
	int be_fd = bpf_map__fd(bal->maps.backends);

	nat_clear();
	nat_forward(&r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	old = n.be;
	other = old == 1 ? 2 : 1;
	old_bk = backend_key(&n);
	bpf_map_update_elem(be_fd, &old, &gone, BPF_ANY);	/* what a delete leaves */
	fx_table_fill(bal, V_TCP4, TABLE, other);
	nat_forward(&r, PKT_ACK, &n, 1);
	backend_set(old);
	fx_table(bal, V_TCP4, TABLE, ids, 2);
	RETURN_IF_FAILED();
	EXPECT_EQ("the flow's new backend", other, n.be);
	EXPECT_TRUE("the old backend's entry is gone", !nat_entry(&old_bk, &f));
	check_entries(&n, 0, 0);
	RETURN_IF_FAILED();
	EXPECT_EQ("nat_flows entries: the new pair only", 2, nat_count());
	nat_clear();
}

/*
 * The control of every case above: the same packet to the same VIP without
 * XLB_VIP_F_NAT is encapsulated (IPIP from config.src4, the inner packet
 * untouched) and leaves no NAT entry; with the flag back, it is NATed.
 */
static void nat_control_encap_vip_not_natted(void)
{
	static const struct row r = { V_TCP4, "198.51.100.17", 40019 };
	struct pkt_spec s = client_spec(&r, PKT_SYN);
	struct xlb_flow_key k = client_key(&r);
	__u32 be = bal_predict(V_TCP4, &s, 0), src[4], dst[4];
	const __u8 *o = run.out + PKT_ETH_LEN;
	__u8 ip[PKT_MAX];
	struct natted n;
	size_t len = pkt_ip(&s, ip);

	nat_clear();
	vip_flags(V_TCP4, 0);
	send_ip(fx_mac_a, fx_mac_client, fx_ifindex_a, ip, len);
	vip_flags(V_TCP4, XLB_VIP_F_NAT);
	ct_remove(bpf_map__fd(bal->maps.conntrack), &k);
	ct_remove(bpf_map__fd(bal->maps.ct_new), &k);
	RETURN_IF_FAILED();
	EXPECT_EQ("encap VIP: XDP action", XDP_TX, run.ret);
	expect_reason(XLB_FWD_TX);
	RETURN_IF_FAILED();
	pkt_addr(4, FX_SRC4, src);
	pkt_addr(4, bes[be].addr, dst);
	EXPECT_EQ("encap VIP: frame length (one outer header more)",
		  PKT_ETH_LEN + PKT_IP4_LEN + len, run.out_len);
	EXPECT_EQ("encap VIP: outer protocol IPIP", IPPROTO_IPIP, o[9]);
	EXPECT_TRUE("encap VIP: outer saddr = config.src4", !memcmp(o + 12, src, 4));
	EXPECT_TRUE("encap VIP: outer daddr = the backend", !memcmp(o + 16, dst, 4));
	EXPECT_TRUE("encap VIP: inner packet untouched", !memcmp(o + PKT_IP4_LEN, ip, len));
	EXPECT_EQ("encap VIP: nat_flows entries", 0, nat_count());
	nat_forward(&r, PKT_SYN, &n, 1);
	RETURN_IF_FAILED();
	check_entries(&n, 0, 0);
	nat_clear();
}

static void setup(void)
{
	char cmd[256];

	fx_net_setup();
	shell("ip addr add 10.99.0.2/24 dev " FX_IF_A);
	shell("ip addr add fd00:99::2/64 dev " FX_IF_A " nodad");
	snprintf(cmd, sizeof(cmd), "ip neigh replace %s lladdr %02x:%02x:%02x:%02x:%02x:%02x"
		 " dev %s nud permanent", ROUTER4, fx_mac_client[0], fx_mac_client[1],
		 fx_mac_client[2], fx_mac_client[3], fx_mac_client[4], fx_mac_client[5], FX_IF_A);
	shell(cmd);
	snprintf(cmd, sizeof(cmd), "ip neigh replace %s lladdr %02x:%02x:%02x:%02x:%02x:%02x"
		 " dev %s nud permanent", ROUTER6, fx_mac_client[0], fx_mac_client[1],
		 fx_mac_client[2], fx_mac_client[3], fx_mac_client[4], fx_mac_client[5], FX_IF_A);
	shell(cmd);
	shell("ip route add " CLIENT_NET4 " via " ROUTER4);
	shell("ip -6 route add " CLIENT_NET6 " via " ROUTER6);
	shell("ip route add " CLIENT_NET_B " via " ROUTER_B);

	bal = xlb_bpf__open();
	if (!bal)
		fx_die("open xlb skeleton: %s", strerror(errno));
	bal->rodata->xlb_encap = XLB_ENCAP_IPIP;
	if (bpf_map__set_max_entries(bal->maps.conntrack, CT_SIZE) ||
	    bpf_map__set_max_entries(bal->maps.nat_flows, NAT_SIZE))
		fx_die("resize maps");
	if (xlb_bpf__load(bal))
		fx_die("load xlb skeleton (verifier?): %s", strerror(errno));
	bal_prog = bpf_program__fd(bal->progs.xlb_balance);
	bal_reasons = bpf_map__fd(bal->maps.reasons);
	nat_fd = bpf_map__fd(bal->maps.nat_flows);
	fx_config(bal, FX_SRC4, FX_SRC6);
	for (__u32 v = 1; v < V_COUNT; v++) {
		__u32 ids[BE_COUNT];
		size_t n = 0;

		vip_flags(v, XLB_VIP_F_NAT);
		for (__u32 b = 1; b < BE_COUNT; b++)
			if (bes[b].vip == v) {
				backend_set(b);
				ids[n++] = b;
			}
		fx_table(bal, v, TABLE, ids, n);
	}
	snat_default();
	bal_vip_addrs_sync();
}

static const struct t_case cases[] = {
	T_CASE(nat_tcp4_forward_and_return),
	T_CASE(nat_tcp4_port_remap),
	T_CASE(nat_udp4_zero_checksum_stays_zero),
	T_CASE(nat_udp4_checksum_rewritten),
	T_CASE(nat_tcp6_forward_and_return),
	T_CASE(nat_udp6_port_remap),
	T_CASE(nat_tcp4_two_interfaces_redirected),
	T_CASE(nat_tcp4_ip_options),
	T_CASE(nat_tcp4_all_ports_vip_keeps_port),
	T_CASE(nat_two_flows_two_pairs),
	T_CASE(nat_return_without_flow_passed),
	T_CASE(nat_fin_marks_each_direction_closing),
	T_CASE(nat_last_seen_refreshed_per_direction),
	T_CASE(nat_udp4_checksum_computing_to_zero_sent_as_ffff),
	T_CASE(nat_udp6_checksum_computing_to_zero_sent_as_ffff),
	T_CASE(nat_icmp4_frag_needed_from_client_side),
	T_CASE(nat_icmp4_frag_needed_from_backend_side),
	T_CASE(nat_icmp6_too_big_from_client_side),
	T_CASE(nat_icmp6_too_big_from_backend_side),
	T_CASE(nat_icmp4_udp_quote_both_sides),
	T_CASE(nat_icmp6_udp_quote_both_sides),
	T_CASE(nat_icmp_error_without_flow),
	T_CASE(nat_too_big_both_ways_frag_needed),
	T_CASE(nat_trailing_bytes_trimmed),
	T_CASE(nat_snat_port_exhaustion),
	T_CASE(nat_table_full_dropped),
	T_CASE(nat_ttl_one_dropped),
	T_CASE(nat_fragment_and_ext_header_unsupported),
	T_CASE(nat_no_snat_address_dropped),
	T_CASE(nat_answer_path_gated_by_nat_vips),
	T_CASE(nat_answer_path_gated_by_the_vip_filter),
	T_CASE(nat_backend_gone_flow_repicked),
	T_CASE(nat_control_encap_vip_not_natted),
};

int main(int argc, char **argv)
{
	setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
