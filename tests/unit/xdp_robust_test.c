// SPDX-License-Identifier: GPL-2.0
/*
 * Packets the balancer could not balance before, or forwarded wrong:
 * fragments (the first balanced, the later ones following it to the same
 * backend, those without a first dropped), IPv6 extension headers (the
 * common ones skipped, the rest dropped), VIP packets the FIB cannot route
 * (dropped by the FIB's reason, never passed to a kernel that would route
 * them back), bytes after the IP packet (cut before encapsulating) and
 * 802.1Q tags (the outer frame is the egress device's, untagged). Each
 * case sends frames with BPF_PROG_TEST_RUN as if they arrived on link A
 * and has its control: the same packet where the feature does not apply.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "robust.h"
#include "vlanifs.h"
#include "vipaddrs.h"
#include "xlb.skel.h"

#define CLIENT4		"198.51.100.60"
#define CLIENT6		"2001:db8:c::60"
#define VIP4		"192.0.2.10"	/* VIP_TCP4: backends 1 and 2 */
#define VIP6		"2001:db8::10"	/* VIP_TCP6: backend 5 */
#define NOT_VIP4	"192.0.2.99"
#define NOT_VIP6	"2001:db8::99"
#define FRAG_LATER	100		/* a later fragment's offset, 8-byte units */
#define FRAG_ID		0x4242
#define ETH_FRAME_MAX	1514		/* a full untagged Ethernet frame */
#define NS_PER_S	1000000000ULL
#define FRAG_TTL_S	5		/* XLB_FRAG_TTL_NS */

/* VIPs and backends of the FIB cases, after balance.h's. */
#define FIB_VIP_FIRST	40
#define FIB_BE_FIRST	40

/*
 * This kernel has no 802.1Q module, so no VLAN device can be made: link B
 * stands in for one, with vlan_ifs saying it is VLAN 100 on link A. The
 * FIB answers for it exactly as for a VLAN device (its ifindex, its MAC).
 */
#define VLAN_VID	100
#define VLAN_BE_ID	10		/* VIP_LINKB4's backend, 10.98.0.21 */
#define VLAN_VIP	"192.0.2.70"

static __u8 in[PKT_MAX];
static struct fx_run run;
static __u64 before[XLB_REASON_MAX];

static struct pkt_spec tcp4(const char *dst, __u16 sport, __u16 frag)
{
	return (struct pkt_spec){ .family = 4, .src = CLIENT4, .dst = dst,
				  .proto = IPPROTO_TCP, .sport = sport, .dport = 80,
				  .tcp_flags = PKT_SYN, .frag = frag, .payload = 64 };
}

static struct pkt_spec tcp6(const char *dst, __u16 sport)
{
	return (struct pkt_spec){ .family = 6, .src = CLIENT6, .dst = dst,
				  .proto = IPPROTO_TCP, .sport = sport, .dport = 80,
				  .tcp_flags = PKT_SYN, .payload = 64 };
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0)
		fx_die("command failed: %s", cmd);
}

/* Give the IPv4 packet of frame @f a new identification, checksum resealed. */
static void set_id4(__u8 *f, __u16 id)
{
	__u8 *ip = f + PKT_ETH_LEN;

	put16(ip + 4, id);
	put16(ip + 10, 0);
	put16(ip + 10, pkt_fold(pkt_sum(ip, (ip[0] & 0xf) * 4, 0)));
}

/* Send in[0..len) and expect it encapsulated to @be (XDP_TX, link A). */
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

/* A source port of CLIENT4 whose flow the VIP_TCP4 table gives another backend than @be. */
static __u16 port_elsewhere(__u32 be, __u16 from)
{
	for (__u16 p = from; p < from + 1000; p++) {
		struct pkt_spec s = tcp4(VIP4, p, 0);

		if (bal_predict(VIP_TCP4, &s, 0) != be)
			return p;
	}
	t_fail("no port of another backend");
	return 0;
}

/*
 * The first fragment is balanced; the later ones, whose bytes where the
 * ports would be say another flow (one the table sends elsewhere), follow
 * it. The control: the same later fragment with another datagram id has no
 * first, and is dropped.
 */
static void xdp_frag4_later_fragments_follow_first(void)
{
	struct pkt_spec first = tcp4(VIP4, 47000, PKT_MF), later;
	__u32 be = bal_predict(VIP_TCP4, &first, 0);
	struct xlb_flow_key k = bal_key(&first);
	size_t len;

	later = tcp4(VIP4, port_elsewhere(be, 47001), PKT_MF | FRAG_LATER);
	RETURN_IF_FAILED();
	len = bal_frame(&first, 0, 0, in);
	set_id4(in, FRAG_ID);
	expect_fwd(len, be, &k);
	RETURN_IF_FAILED();
	len = bal_frame(&later, 0, 0, in);
	set_id4(in, FRAG_ID);
	expect_fwd(len, be, &k);		/* a middle fragment */
	RETURN_IF_FAILED();
	later.frag = 2 * FRAG_LATER;
	len = bal_frame(&later, 0, 0, in);
	set_id4(in, FRAG_ID);
	expect_fwd(len, be, &k);		/* the last one */
	RETURN_IF_FAILED();
	set_id4(in, FRAG_ID + 1);
	expect_untouched(len, XDP_DROP, XLB_DROP_FRAGMENT);
}

/*
 * A first fragment that cannot go out (too big for link B once
 * encapsulated, and fragments carry no DF: dropped) places nothing: its
 * later fragments are dropped too, rather than sent to a backend that
 * could never reassemble them. The control: a first fragment that fits,
 * to the same VIP, places its later one.
 */
static void xdp_frag4_dropped_first_places_nothing(void)
{
	struct pkt_spec first = tcp4("192.0.2.70", 47050, PKT_MF), later;
	size_t len;

	/* fits link B, but not once encapsulated */
	first.payload = FX_MTU_B - PKT_IP4_LEN - PKT_TCP_LEN;
	later = first;
	later.frag = FRAG_LATER;
	later.payload = 8;
	len = bal_frame(&first, 0, 0, in);
	set_id4(in, FRAG_ID + 2);
	expect_untouched(len, XDP_DROP, XLB_DROP_TOO_BIG);
	RETURN_IF_FAILED();
	len = bal_frame(&later, 0, 0, in);
	set_id4(in, FRAG_ID + 2);
	expect_untouched(len, XDP_DROP, XLB_DROP_FRAGMENT);
	RETURN_IF_FAILED();
	first.payload = 64;
	len = bal_frame(&first, 0, 0, in);
	set_id4(in, FRAG_ID + 3);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("control: first fragment that fits", XDP_REDIRECT, run.ret);
	len = bal_frame(&later, 0, 0, in);
	set_id4(in, FRAG_ID + 3);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("control: its later fragment", XDP_REDIRECT, run.ret);
	fx_expect_reason(bal_reasons, before, XLB_FWD_REDIRECT);
}

/* The coarse monotonic clock bpf_ktime_get_coarse_ns() reads. */
static __u64 coarse_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * NS_PER_S + ts.tv_nsec;
}

/*
 * A first fragment seen longer ago than the TTL no longer places its later
 * fragments (the entry is aged by hand, no sleeping); the control is the
 * same entry, fresh.
 */
static void xdp_frag4_expired_first_dropped(void)
{
	struct pkt_spec later = tcp4(VIP4, 47100, FRAG_LATER);
	struct xlb_frag_key k = { .id = FRAG_ID, .proto = IPPROTO_TCP, .family = 4 };
	struct xlb_frag f = { .sport = htons(47100), .dport = htons(80),
			      .proto = IPPROTO_TCP };
	struct xlb_flow_key fk = bal_key(&later);
	int fd = bpf_map__fd(bal->maps.frags);
	size_t len = bal_frame(&later, 0, 0, in);

	set_id4(in, FRAG_ID);
	pkt_addr(4, CLIENT4, k.src);
	pkt_addr(4, VIP4, k.dst);
	f.stamp_ns = coarse_now_ns() - (FRAG_TTL_S + 1) * NS_PER_S;
	EXPECT_EQ("frags update", 0, bpf_map_update_elem(fd, &k, &f, BPF_ANY));
	expect_untouched(len, XDP_DROP, XLB_DROP_FRAGMENT);
	RETURN_IF_FAILED();
	f.stamp_ns = coarse_now_ns();
	EXPECT_EQ("frags update", 0, bpf_map_update_elem(fd, &k, &f, BPF_ANY));
	expect_fwd(len, bal_predict(VIP_TCP4, &later, 0), &fk);
}

/* IPv6: the fragment header's id ties the fragments; the outer flow label is the first's flow. */
static void xdp_frag6_later_fragments_follow_first(void)
{
	const __u8 fh[] = { EXT_FRAGMENT };
	struct ext6_frag frag = { .offset = 0, .more = 1, .id = 0x10203040 };
	struct pkt_spec first = tcp6(VIP6, 47200), later = tcp6(VIP6, 47201);
	struct xlb_flow_key k = bal_key(&first);
	size_t len;

	later.proto = IPPROTO_UDP;	/* what the bytes say does not matter: the first does */
	len = ext6_frame(&first, fh, 1, &frag, in);
	expect_fwd(len, 5, &k);
	RETURN_IF_FAILED();
	frag.offset = FRAG_LATER;
	frag.more = 0;
	len = ext6_frame(&later, fh, 1, &frag, in);
	expect_fwd(len, 5, &k);
	RETURN_IF_FAILED();
	frag.id++;
	len = ext6_frame(&later, fh, 1, &frag, in);
	expect_untouched(len, XDP_DROP, XLB_DROP_FRAGMENT);
	RETURN_IF_FAILED();
	later.dst = NOT_VIP6;		/* the control: the host's, passed */
	len = ext6_frame(&later, fh, 1, &frag, in);
	expect_untouched(len, XDP_PASS, XLB_PASS_FRAGMENT);
}

/* Hop-by-hop, routing, destination options, an atomic fragment: skipped, balanced. */
static void xdp_ipv6_ext_headers_balanced(void)
{
	const __u8 two[] = { EXT_HOP, EXT_DEST };
	const __u8 four[] = { EXT_HOP, EXT_DEST, EXT_ROUTING, EXT_FRAGMENT };
	struct ext6_frag atomic = { .id = 7 };
	struct pkt_spec s = tcp6(VIP6, 47300);
	struct xlb_flow_key k = bal_key(&s);

	expect_fwd(ext6_frame(&s, two, 2, NULL, in), 5, &k);
	RETURN_IF_FAILED();
	expect_fwd(ext6_frame(&s, four, 4, &atomic, in), 5, &k);
}

/*
 * AH, a chain longer than the bound, hop-by-hop not first: not balanced,
 * dropped for a VIP, passed for the host (the control).
 */
static void xdp_ipv6_ext_headers_not_skipped_dropped(void)
{
	const __u8 ah[] = { EXT_HOP, EXT_AH };
	const __u8 five[] = { EXT_HOP, EXT_DEST, EXT_ROUTING, EXT_DEST, EXT_DEST };
	const __u8 late_hop[] = { EXT_DEST, EXT_HOP };
	struct pkt_spec s = tcp6(VIP6, 47400);

	expect_untouched(ext6_frame(&s, ah, 2, NULL, in), XDP_DROP, XLB_DROP_VIP_PROTO);
	RETURN_IF_FAILED();
	expect_untouched(ext6_frame(&s, five, 5, NULL, in), XDP_DROP, XLB_DROP_VIP_PROTO);
	RETURN_IF_FAILED();
	expect_untouched(ext6_frame(&s, late_hop, 2, NULL, in), XDP_DROP, XLB_DROP_VIP_PROTO);
	RETURN_IF_FAILED();
	s.dst = NOT_VIP6;
	expect_untouched(ext6_frame(&s, ah, 2, NULL, in), XDP_PASS, XLB_PASS_PROTO);
}

struct fib_case {
	const char *route;	/* set up before, NULL for none */
	int family;
	const char *vip, *backend;
	int reason;
};

/* Each VIP's one backend sits behind a route the FIB refuses to forward through. */
static const struct fib_case fib_cases[] = {
	{ "ip route add blackhole 10.97.0.1/32", 4, "192.0.2.141", "10.97.0.1",
	  XLB_DROP_FIB_BLACKHOLE },
	{ "ip route add unreachable 10.97.0.2/32", 4, "192.0.2.142", "10.97.0.2",
	  XLB_DROP_FIB_UNREACHABLE },
	{ "ip route add prohibit 10.97.0.3/32", 4, "192.0.2.143", "10.97.0.3",
	  XLB_DROP_FIB_PROHIBIT },
	{ NULL, 4, "192.0.2.144", "10.99.0.1", XLB_DROP_FIB_NOT_FWDED },	/* our own */
	{ "ip route add 10.97.0.5/32 encap ip id 1 dst 10.99.0.11 dev " FX_IF_A, 4,
	  "192.0.2.145", "10.97.0.5", XLB_DROP_FIB_UNSUPP_LWT },
	{ "ip -6 route add blackhole fd00:97::1/128", 6, "2001:db8::146", "fd00:97::1",
	  XLB_DROP_FIB_BLACKHOLE },
	{ "ip -6 route add unreachable fd00:97::2/128", 6, "2001:db8::147", "fd00:97::2",
	  XLB_DROP_FIB_UNREACHABLE },
};
#define N_FIB_CASES	(sizeof(fib_cases) / sizeof(fib_cases[0]))
#define FWD_OFF_VIP	(FIB_VIP_FIRST + N_FIB_CASES)	/* forwarding off on link A */

static void fib_setup(void)
{
	for (__u32 i = 0; i <= N_FIB_CASES; i++) {
		const struct fib_case *c = &fib_cases[i < N_FIB_CASES ? i : 0];
		__u32 id = FIB_VIP_FIRST + i, be = FIB_BE_FIRST + i;

		if (i == N_FIB_CASES) {	/* a resolved backend, asked with forwarding off */
			fx_vip(bal, 4, "192.0.2.148", 80, IPPROTO_TCP, id, BAL_TABLE, 0, 0);
			fx_backend(bal, be, 4, "10.99.0.11", 1, XLB_BE_F_USED, id);
			fx_table_fill(bal, id, BAL_TABLE, be);
			break;
		}
		if (c->route)
			sh(c->route);
		fx_vip(bal, c->family, c->vip, 80, IPPROTO_TCP, id, BAL_TABLE, 0, 0);
		fx_backend(bal, be, c->family, c->backend, 1, XLB_BE_F_USED, id);
		fx_table_fill(bal, id, BAL_TABLE, be);
	}
}

static size_t fib_frame(int family, const char *vip, __u16 sport)
{
	struct pkt_spec s = family == 4 ? tcp4(vip, sport, PKT_DF) : tcp6(vip, sport);

	return bal_frame(&s, 0, 0, in);
}

/*
 * Every refusal of the FIB is a drop counted by its answer, not a pass.
 * The control: the first VIP, once its backend is one the FIB routes (a
 * new backend slot, so no cached answer helps), forwards.
 */
static void xdp_fib_failures_dropped_by_reason(void)
{
	__u32 good = FIB_BE_FIRST + N_FIB_CASES + 1;

	for (__u32 i = 0; i < N_FIB_CASES && !t_failed(); i++) {
		const struct fib_case *c = &fib_cases[i];

		expect_untouched(fib_frame(c->family, c->vip, 47500), XDP_DROP, c->reason);
		if (t_failed())
			printf("# case %s via %s\n", c->vip, c->backend);
	}
	RETURN_IF_FAILED();
	sh("sysctl -qw net.ipv4.conf." FX_IF_A ".forwarding=0");
	expect_untouched(fib_frame(4, "192.0.2.148", 47500), XDP_DROP,
			 XLB_DROP_FIB_FWD_DISABLED);
	sh("sysctl -qw net.ipv4.conf." FX_IF_A ".forwarding=1");
	RETURN_IF_FAILED();
	fx_backend(bal, good, 4, "10.99.0.11", 1, XLB_BE_F_USED, FIB_VIP_FIRST);
	fx_table_fill(bal, FIB_VIP_FIRST, BAL_TABLE, good);
	/* A new flow: conntrack keeps the refused one on its backend. */
	bal_send(fx_ifindex_a, in, fib_frame(4, fib_cases[0].vip, 47501), &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("control: XDP action", XDP_TX, run.ret);
	fx_expect_reason(bal_reasons, before, XLB_FWD_TX);
}

/*
 * Bytes after the IP packet are cut: a full-size frame holding a 40-byte
 * IPv4 packet leaves as Ethernet + outer header + 40 bytes, exactly what
 * the unpadded frame gives (the control); IPv6 and a tagged frame too.
 */
static void xdp_trailing_bytes_trimmed(void)
{
	struct pkt_spec u = { .family = 4, .src = CLIENT4, .dst = VIP4, .proto = IPPROTO_UDP,
			      .sport = 5400, .dport = 53, .payload = 12 };
	struct pkt_spec s6 = tcp6(VIP6, 47600);
	struct xlb_flow_key k6 = bal_key(&s6);
	__u8 ref[PKT_MAX];
	size_t len, ref_len;

	len = bal_frame(&u, 0, 0, in);
	EXPECT_EQ("IPv4 total length", 40, get16(in + PKT_ETH_LEN + 2));
	memset(in + len, 0xee, ETH_FRAME_MAX - len);
	bal_send(fx_ifindex_a, in, ETH_FRAME_MAX, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	EXPECT_EQ("frame length: L2 + outer + IP length", PKT_ETH_LEN + PKT_IP4_LEN + 40,
		  run.out_len);
	{
		struct want_encap w = { .in = in, .in_len = len, .be = 3, .smac = fx_mac_a };

		check_encap(&w, &run);
	}
	RETURN_IF_FAILED();

	len = bal_frame(&s6, 0, 0, in);
	memset(in + len, 0xee, ETH_FRAME_MAX - len);
	bal_send(fx_ifindex_a, in, ETH_FRAME_MAX, &run, before);
	RETURN_IF_FAILED();
	{
		struct want_encap w = { .in = in, .in_len = len, .be = 5, .smac = fx_mac_a,
					.key = &k6 };

		EXPECT_EQ("IPv6 frame length", len + PKT_IP6_LEN, run.out_len);
		check_encap(&w, &run);
	}
	RETURN_IF_FAILED();

	/* Tagged and padded: the output of the untagged, unpadded frame. */
	ref_len = bal_frame(&u, 0, 0, ref);
	len = bal_frame(&u, 1, 0x64, in);
	memset(in + len, 0xee, ETH_FRAME_MAX - len);
	bal_send(fx_ifindex_a, in, ETH_FRAME_MAX, &run, before);
	RETURN_IF_FAILED();
	{
		struct want_encap w = { .in = ref, .in_len = ref_len, .be = 3, .smac = fx_mac_a };

		EXPECT_EQ("XDP action (tagged)", XDP_TX, run.ret);
		check_encap(&w, &run);
	}
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, XLB_FWD_TX);
}

/*
 * A tagged packet whose backend is behind another device is redirected
 * there untagged, with that device's MAC: the ingress VLAN means nothing
 * on link B. The control: the untagged packet's output, byte for byte.
 */
static void xdp_vlan_tagged_redirected_untagged(void)
{
	struct pkt_spec s = tcp4("192.0.2.70", 47700, PKT_DF);
	__u8 ref[PKT_MAX];
	size_t ref_len = bal_frame(&s, 0, 0, ref), len = bal_frame(&s, 1, 0x0123, in);
	struct want_encap w = { .in = ref, .in_len = ref_len, .be = 10, .smac = fx_mac_b };

	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_REDIRECT, run.ret);
	check_encap(&w, &run);
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, XLB_FWD_REDIRECT);
}

/* Forget backend @id's cached FIB answer, so the next packet asks the FIB. */
static void nexthop_forget(__u32 id)
{
	struct xlb_nexthop none = {};

	if (bpf_map_update_elem(bpf_map__fd(bal->maps.nexthops), &id, &none, BPF_ANY))
		t_fail("nexthops update");
}

/*
 * What must leave for the VLAN backend: the packet with its outer header,
 * tagged VLAN_VID, with the VLAN device's MAC and the backend's.
 */
static void check_vlan_out(const struct pkt_spec *s)
{
	__u8 ref[PKT_MAX], be_mac[6];
	size_t ref_len = bal_frame(s, 1, VLAN_VID, ref);
	const __u8 *o = run.out;
	__u32 be[4];

	fx_be_mac(21, be_mac);
	pkt_addr(4, "10.98.0.21", be);
	EXPECT_EQ("frame length", ref_len + PKT_IP4_LEN, run.out_len);
	EXPECT_TRUE("dst MAC = backend's neighbour", !memcmp(o, be_mac, 6));
	EXPECT_TRUE("src MAC = the VLAN device's", !memcmp(o + 6, fx_mac_b, 6));
	EXPECT_EQ("ethertype 802.1Q", PKT_ETH_P_8021Q, get16(o + 12));
	EXPECT_EQ("TCI = the egress VLAN", VLAN_VID, get16(o + 14));
	EXPECT_EQ("outer ethertype IPv4", PKT_ETH_P_IP, get16(o + 16));
	o += PKT_ETH_LEN + PKT_VLAN_LEN;
	EXPECT_EQ("outer protocol IPIP", IPPROTO_IPIP, o[9]);
	EXPECT_TRUE("outer daddr = backend", !memcmp(o + 16, be, 4));
	EXPECT_TRUE("inner packet byte-identical",
		    !memcmp(o + PKT_IP4_LEN, ref + PKT_ETH_LEN + PKT_VLAN_LEN,
			    ref_len - PKT_ETH_LEN - PKT_VLAN_LEN));
}

/*
 * A backend behind a VLAN device of the ingress device: sent with XDP_TX
 * on the ingress device tagged with that VLAN, whether the packet came
 * untagged, in another VLAN or in that one. The control: without the
 * device in vlan_ifs, the program can only redirect, untagged, to the
 * device the FIB named (xdp_vlan_tagged_redirected_untagged), which for a
 * real VLAN device XDP cannot transmit on in native mode.
 */
static void xdp_vlan_egress_vlan_device_tagged(void)
{
	const __u16 tags[] = { 0, 7, VLAN_VID };
	struct xlb_vlan_if v = { .lower_ifindex = fx_ifindex_a, .vid = VLAN_VID };
	int fd = bpf_map__fd(bal->maps.vlan_ifs);
	__u32 key = fx_ifindex_b;

	EXPECT_EQ("vlan_ifs update", 0, bpf_map_update_elem(fd, &key, &v, BPF_ANY));
	for (int i = 0; i < 3; i++) {
		struct pkt_spec s = tcp4(VLAN_VIP, 47800 + i, PKT_DF);
		size_t len = bal_frame(&s, !!tags[i], tags[i], in);

		nexthop_forget(VLAN_BE_ID);
		bal_send(fx_ifindex_a, in, len, &run, before);
		RETURN_IF_FAILED();
		EXPECT_EQ("XDP action", XDP_TX, run.ret);
		check_vlan_out(&s);
		RETURN_IF_FAILED();
		fx_expect_reason(bal_reasons, before, XLB_FWD_TX);
		RETURN_IF_FAILED();
		/* and again from the cached answer */
		bal_send(fx_ifindex_a, in, len, &run, before);
		RETURN_IF_FAILED();
		EXPECT_EQ("XDP action (cached)", XDP_TX, run.ret);
		check_vlan_out(&s);
		RETURN_IF_FAILED();
	}
	bpf_map_delete_elem(fd, &key);
	nexthop_forget(VLAN_BE_ID);
}

/*
 * The control plane's view: the namespace's VLAN devices, nothing else; a
 * stale entry goes. (No VLAN device can be made on this kernel: the dump
 * finds none.)
 */
static void xdp_vlan_ifs_reconcile_drops_stale(void)
{
	int fd = bpf_map__fd(bal->maps.vlan_ifs);
	struct xlb_vlan_if v = { .lower_ifindex = 1, .vid = 9 };
	__u32 key = 12345, next;

	EXPECT_EQ("stale entry", 0, bpf_map_update_elem(fd, &key, &v, BPF_ANY));
	EXPECT_EQ("vlan_ifs_reconcile", 0, vlan_ifs_reconcile(fd));
	EXPECT_TRUE("no entry left", bpf_map_get_next_key(fd, NULL, &next) != 0);
}

static __u32 addr_count(int fd, int family, const char *addr)
{
	struct xlb_vip_addr k = { .family = family };
	__u32 n = 0;

	pkt_addr(family, addr, k.addr);
	bpf_map_lookup_elem(fd, &k, &n);
	return n;
}

/*
 * The control plane's derivation: one entry per address with the number of
 * VIPs on it, whatever protocol or port; an address no VIP uses any more
 * (or a stale entry) goes. The balancer's own set is put back after.
 */
static void xdp_vip_addrs_reconcile_counts(void)
{
	struct xlb_vip_key k[3] = {
		{ .port = htons(80), .proto = IPPROTO_TCP, .family = 4 },
		{ .port = htons(53), .proto = IPPROTO_UDP, .family = 4 },
		{ .port = htons(80), .proto = IPPROTO_TCP, .family = 6 },
	};
	struct xlb_vip_addr stale = { .addr = { 1 }, .family = 4 }, next;
	int fd = bpf_map__fd(bal->maps.vip_addrs);
	__u32 one = 1;
	int n = 0;

	pkt_addr(4, "203.0.113.5", k[0].addr);
	pkt_addr(4, "203.0.113.5", k[1].addr);
	pkt_addr(6, "2001:db8::5", k[2].addr);
	EXPECT_EQ("stale entry", 0, bpf_map_update_elem(fd, &stale, &one, BPF_ANY));
	EXPECT_EQ("reconcile", 0, vip_addrs_reconcile(fd, k, 3));
	EXPECT_EQ("two VIPs on the IPv4 address", 2, addr_count(fd, 4, "203.0.113.5"));
	EXPECT_EQ("one on the IPv6 address", 1, addr_count(fd, 6, "2001:db8::5"));
	for (void *prev = NULL; !bpf_map_get_next_key(fd, prev, &next); prev = &stale) {
		stale = next;
		n++;
	}
	EXPECT_EQ("entries", 2, n);
	EXPECT_EQ("reconcile", 0, vip_addrs_reconcile(fd, k + 1, 1));
	EXPECT_EQ("one VIP left on the IPv4 address", 1, addr_count(fd, 4, "203.0.113.5"));
	EXPECT_EQ("IPv6 address gone", 0, addr_count(fd, 6, "2001:db8::5"));
	EXPECT_EQ("old VIP address gone", 0, addr_count(fd, 4, VIP4));
	bal_vip_addrs_sync();
	EXPECT_EQ("restored", 2, addr_count(fd, 4, VIP4));	/* VIP_TCP4, VIP_UDP4 */
}

static int filter_has(const struct xlb_vip_filter *f, int family, const char *addr)
{
	__u32 a[4] = {}, bit;

	pkt_addr(family, addr, a);
	bit = xlb_vip_filter_bit(a);
	return (f->bits[bit / 64] >> (bit % 64)) & 1;
}

static int filter_bits(const struct xlb_vip_filter *f)
{
	int n = 0;

	for (size_t i = 0; i < sizeof(f->bits) / sizeof(f->bits[0]); i++)
		n += __builtin_popcountll(f->bits[i]);
	return n;
}

/*
 * The VIP address filter the commit writes: armed, a bit for each address
 * of the model it is given and of every VIP the vips map still holds (so a
 * VIP is covered before it is written and until it is deleted), and no
 * other bit. The fixture's filter is put back after.
 */
static void xdp_vip_filter_reconcile_covers_model_and_vips_map(void)
{
	struct xlb_vip_key k = { .port = htons(80), .proto = IPPROTO_TCP, .family = 6 };
	int fd = bpf_map__fd(bal->maps.vip_filter), vips = bpf_map__fd(bal->maps.vips);
	struct xlb_vip_filter f, none = {};
	__u32 zero = 0;
	int map_bits;

	pkt_addr(6, "2001:db8::5", k.addr);
	EXPECT_EQ("empty, unarmed", 0, bpf_map_update_elem(fd, &zero, &none, BPF_ANY));
	EXPECT_EQ("reconcile, map only", 0, vip_filter_reconcile(fd, vips, NULL, 0, false));
	EXPECT_EQ("read", 0, bpf_map_lookup_elem(fd, &zero, &f));
	EXPECT_EQ("armed", 1, f.armed);
	EXPECT_TRUE("the map's VIP address", filter_has(&f, 4, VIP4));
	EXPECT_TRUE("not the model's yet", !filter_has(&f, 6, "2001:db8::5"));
	map_bits = filter_bits(&f);
	EXPECT_TRUE("some bits, not all", map_bits > 0 && map_bits < 64);
	EXPECT_EQ("reconcile, model and map", 0, vip_filter_reconcile(fd, vips, &k, 1, false));
	EXPECT_EQ("read", 0, bpf_map_lookup_elem(fd, &zero, &f));
	EXPECT_TRUE("the model's address", filter_has(&f, 6, "2001:db8::5"));
	EXPECT_TRUE("and still the map's", filter_has(&f, 4, VIP4));
	EXPECT_EQ("one bit more", map_bits + 1, filter_bits(&f));
	EXPECT_EQ("reconcile, model only", 0, vip_filter_reconcile(fd, -1, &k, 1, true));
	EXPECT_EQ("read", 0, bpf_map_lookup_elem(fd, &zero, &f));
	EXPECT_EQ("only the model's bit", 1, filter_bits(&f));
	EXPECT_EQ("nat as asked", 1, f.nat);
	EXPECT_TRUE("the map's VIP gone", !filter_has(&f, 4, VIP4));
	bal_vip_addrs_sync();
}

/* A GUE instance of its own (the encapsulation is fixed at load): one IPv6 UDP VIP. */
static struct xlb_bpf *gue;

#define GUE_VIP_ID	1
#define GUE_BE_ID	1
#define GUE_UDP_CSUM	(PKT_ETH_LEN + PKT_IP6_LEN + 6)

static void gue_setup(void)
{
	gue = fx_xlb_load_encap(XLB_ENCAP_GUE, XLB_GUE_PORT_DEFAULT);
	fx_config(gue, FX_SRC4, FX_SRC6);
	fx_vip(gue, 6, VIP6, 53, IPPROTO_UDP, GUE_VIP_ID, BAL_TABLE, 0, 0);
	fx_backend(gue, GUE_BE_ID, 6, "fd00:99::15", 1, XLB_BE_F_USED, GUE_VIP_ID);
	fx_table_fill(gue, GUE_VIP_ID, BAL_TABLE, GUE_BE_ID);
}

/* Run the GUE instance on in[0..len), expect XDP_TX; the outer UDP checksum field. */
static __u16 gue_send(size_t len)
{
	int err = fx_run(bpf_program__fd(gue->progs.xlb_balance), fx_ifindex_a, in, len, &run);

	if (err)
		t_fail("bpf_prog_test_run: %s", strerror(-err));
	else if (run.ret != XDP_TX)
		t_fail("XDP action: expected XDP_TX, got %d", run.ret);
	return get16(run.out + GUE_UDP_CSUM);
}

/*
 * GUE over IPv6 derives the outer UDP checksum from the inner L4 checksum,
 * which for a fragment, or behind extension headers, covers other bytes:
 * such a packet gets 0 (no checksum, RFC 6935), never a wrong one. The
 * control: the unfragmented datagram's outer checksum is there and right.
 */
static void xdp_gue6_fragment_outer_checksum_zero(void)
{
	const __u8 fh[] = { EXT_FRAGMENT }, hop[] = { EXT_HOP };
	struct ext6_frag frag = { .offset = 0, .more = 1, .id = 0x5151 };
	struct pkt_spec u = { .family = 6, .src = CLIENT6, .dst = VIP6, .proto = IPPROTO_UDP,
			      .sport = 5500, .dport = 53, .payload = 40 };
	size_t len = ext6_frame(&u, NULL, 0, NULL, in), udp_len;
	const __u8 *o6 = run.out + PKT_ETH_LEN;
	__u16 csum = gue_send(len);

	RETURN_IF_FAILED();
	udp_len = get16(o6 + 4);
	EXPECT_TRUE("control: outer checksum present", csum != 0);
	EXPECT_EQ("control: outer checksum verifies", 0,
		  pkt_fold(pkt_sum(o6 + PKT_IP6_LEN, udp_len,
				   pkt_pseudo6(o6 + 8, o6 + 24, udp_len, IPPROTO_UDP))));
	EXPECT_EQ("first fragment: outer checksum", 0, gue_send(ext6_frame(&u, fh, 1, &frag, in)));
	RETURN_IF_FAILED();
	EXPECT_EQ("hop-by-hop: outer checksum", 0, gue_send(ext6_frame(&u, hop, 1, NULL, in)));
}

static const struct t_case cases[] = {
	T_CASE(xdp_frag4_later_fragments_follow_first),
	T_CASE(xdp_frag4_expired_first_dropped),
	T_CASE(xdp_frag4_dropped_first_places_nothing),
	T_CASE(xdp_frag6_later_fragments_follow_first),
	T_CASE(xdp_ipv6_ext_headers_balanced),
	T_CASE(xdp_ipv6_ext_headers_not_skipped_dropped),
	T_CASE(xdp_fib_failures_dropped_by_reason),
	T_CASE(xdp_trailing_bytes_trimmed),
	T_CASE(xdp_vlan_tagged_redirected_untagged),
	T_CASE(xdp_vlan_ifs_reconcile_drops_stale),
	T_CASE(xdp_vip_addrs_reconcile_counts),
	T_CASE(xdp_vip_filter_reconcile_covers_model_and_vips_map),
	T_CASE(xdp_vlan_egress_vlan_device_tagged),
	T_CASE(xdp_gue6_fragment_outer_checksum_zero),
};

int main(int argc, char **argv)
{
	bal_setup();
	fib_setup();
	bal_vip_addrs_sync();
	gue_setup();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
