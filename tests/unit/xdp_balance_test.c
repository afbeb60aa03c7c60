// SPDX-License-Identifier: GPL-2.0
/*
 * Packet tests of the balancer's forwarding path: VIP matching, the three
 * encapsulations, conntrack, schedulers, backend state, FIB outcomes and
 * counters. Each case builds a frame, runs xlb_balance once with
 * BPF_PROG_TEST_RUN as if it arrived on link A, and checks the action, the
 * reason counted and every byte that matters.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "robust.h"
#include "ct.h"
#include "vipindex.h"
#include "xlb.skel.h"

#define DSCP_AF41_ECT0	0x8a	/* a DSCP with an ECN codepoint: both must be copied */
#define CLIENT4		"198.51.100.7"
#define CLIENT6		"2001:db8:c::7"
#define N_FLOWS		64

static __u8 in[PKT_MAX];
static struct fx_run run;
static __u64 before[XLB_REASON_MAX];

static struct pkt_spec tcp4(const char *dst, __u16 sport, __u16 dport, __u8 flags)
{
	return (struct pkt_spec){ .family = 4, .src = CLIENT4, .dst = dst,
				  .proto = IPPROTO_TCP, .sport = sport, .dport = dport,
				  .tcp_flags = flags, .tos = DSCP_AF41_ECT0, .frag = PKT_DF,
				  .payload = 100 };
}

static struct pkt_spec tcp6(const char *dst, __u16 sport, __u16 dport, __u8 flags)
{
	return (struct pkt_spec){ .family = 6, .src = CLIENT6, .dst = dst,
				  .proto = IPPROTO_TCP, .sport = sport, .dport = dport,
				  .tcp_flags = flags, .tos = DSCP_AF41_ECT0,
				  .flow_label = 0x12345, .payload = 100 };
}

/*
 * Send @s (tagged if @vlan) and check it was forwarded with XDP_TX to
 * @be (or, if @be is 0, to whatever the VIP's table predicts).
 */
static void expect_fwd(const struct pkt_spec *s, int vlan, __u16 tci, __u32 vip, __u32 be)
{
	size_t len = bal_frame(s, vlan, tci, in);
	struct want_encap w = { .in = in, .in_len = len, .smac = fx_mac_a,
				.vlan = vlan, .tci = tci };

	w.be = be ? be : bal_predict(vip, s, 0);
	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	EXPECT_EQ("backend (by outer daddr)", w.be, encap_backend(&run, vlan));
	check_encap(&w, &run);
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, XLB_FWD_TX);
}

/* Send @s and check it was passed or dropped untouched, counting @reason. */
static void expect_verdict(const struct pkt_spec *s, int action, int reason)
{
	size_t len = bal_frame(s, 0, 0, in);

	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	check_untouched(in, len, &run, action);
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, reason);
}

static __u64 vip_counter(__u32 vip, size_t off)
{
	return fx_percpu_u64(bpf_map__fd(bal->maps.vip_stats), vip,
			     sizeof(struct xlb_counters), off);
}

static __u64 be_counter(__u32 be, size_t off)
{
	return fx_percpu_u64(bpf_map__fd(bal->maps.backend_stats), be,
			     sizeof(struct xlb_counters), off);
}

static __u64 be_active(__u32 be)
{
	__u64 v = 0;

	bpf_map_lookup_elem(bpf_map__fd(bal->maps.backend_active), &be, &v);
	return v;
}

static void xdp_encap_ipv4_in_ipv4_tcp_syn(void)
{
	struct pkt_spec s = tcp4("192.0.2.10", 40001, 80, PKT_SYN);
	__u32 be = bal_predict(VIP_TCP4, &s, 0);
	__u64 pk = vip_counter(VIP_TCP4, offsetof(struct xlb_counters, packets));
	__u64 by = vip_counter(VIP_TCP4, offsetof(struct xlb_counters, bytes));
	__u64 nf = vip_counter(VIP_TCP4, offsetof(struct xlb_counters, new_flows));
	__u64 bpk = be_counter(be, offsetof(struct xlb_counters, packets));
	__u64 act = be_active(be);

	EXPECT_TRUE("VIP table predicts a backend", be == 1 || be == 2);
	expect_fwd(&s, 0, 0, VIP_TCP4, be);
	RETURN_IF_FAILED();
	EXPECT_EQ("vip_stats packets +1", pk + 1,
		  vip_counter(VIP_TCP4, offsetof(struct xlb_counters, packets)));
	EXPECT_EQ("vip_stats bytes + frame", by + bal_frame(&s, 0, 0, in),
		  vip_counter(VIP_TCP4, offsetof(struct xlb_counters, bytes)));
	EXPECT_EQ("vip_stats new_flows +1", nf + 1,
		  vip_counter(VIP_TCP4, offsetof(struct xlb_counters, new_flows)));
	EXPECT_EQ("backend_stats packets +1", bpk + 1,
		  be_counter(be, offsetof(struct xlb_counters, packets)));
	/* maglev does not read active flows: the agent recounts them, the packet does not. */
	EXPECT_EQ("backend_active unchanged (maglev)", act, be_active(be));
}

/* The destination MAC of a frame the program forwarded (no VLAN). */
static int out_dmac_is(const __u8 mac[6])
{
	return run.out_len >= 6 && !memcmp(run.out, mac, 6);
}

/* Send @s and check it went out with XDP_TX to backend @be, whatever its MAC. */
static void send_to(const struct pkt_spec *s, __u32 be)
{
	size_t len = bal_frame(s, 0, 0, in);

	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	EXPECT_EQ("backend (by outer daddr)", be, encap_backend(&run, 0));
}

static void set_neigh(const char *addr, const __u8 mac[6])
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd),
		 "ip neigh replace %s lladdr %02x:%02x:%02x:%02x:%02x:%02x dev %s nud permanent",
		 addr, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], FX_IF_A);
	if (system(cmd))
		t_fail("%s failed", cmd);
}

/* Longer than XLB_NEXTHOP_TTL_NS, with room for the coarse clock's tick. */
#define NEXTHOP_EXPIRED_US	(XLB_NEXTHOP_TTL_NS / 1000 + 50 * 1000)

/*
 * The next-hop cache: the FIB's answer for a backend is reused for up to
 * XLB_NEXTHOP_TTL_NS, so a changed neighbour is followed after that long
 * (and, within it, the cached answer is what the packet gets).
 */
static void xdp_fib_nexthop_cache_follows_neighbour(void)
{
	struct pkt_spec s = tcp4("192.0.2.10", 40777, 80, PKT_SYN);
	__u32 be = bal_predict(VIP_TCP4, &s, 0);
	__u8 old_mac[6], new_mac[6];
	const char *addr = bal_be[be].addr;

	fx_be_mac(bal_be[be].mac_last, old_mac);
	fx_be_mac(0x77, new_mac);
	expect_fwd(&s, 0, 0, VIP_TCP4, be);
	RETURN_IF_FAILED();
	EXPECT_TRUE("first packet to the neighbour's MAC", out_dmac_is(old_mac));
	set_neigh(addr, new_mac);
	RETURN_IF_FAILED();
	send_to(&s, be);
	if (!t_failed() && !out_dmac_is(old_mac))
		t_fail("within the TTL: expected the cached MAC");
	usleep(NEXTHOP_EXPIRED_US);
	if (!t_failed())
		send_to(&s, be);
	if (!t_failed() && !out_dmac_is(new_mac))
		t_fail("after the TTL: expected the new neighbour MAC");
	set_neigh(addr, old_mac);
	usleep(NEXTHOP_EXPIRED_US);
}

/* A backend slot given to another address never uses the old address's next hop. */
static void xdp_fib_nexthop_cache_not_inherited_by_reused_slot(void)
{
	struct pkt_spec s = { .family = 4, .src = CLIENT4, .dst = "192.0.2.10",
			      .proto = IPPROTO_UDP, .sport = 40778, .dport = 53, .payload = 40 };
	__u8 mac[6];

	expect_fwd(&s, 0, 0, VIP_UDP4, 3);
	RETURN_IF_FAILED();
	/* slot 3 now holds backend 4's address: same VIP, no wait */
	fx_backend(bal, 3, 4, bal_be[4].addr, 1, XLB_BE_F_USED, VIP_UDP4);
	s.sport = 40779;
	send_to(&s, 4);
	fx_be_mac(bal_be[4].mac_last, mac);
	EXPECT_TRUE("the new address's MAC at once", out_dmac_is(mac));
	fx_backend(bal, 3, 4, bal_be[3].addr, 1, XLB_BE_F_USED, VIP_UDP4);
}

/*
 * lc: a new flow adds 1 to its backend's active flows, and a backend with
 * many active flows loses the choice to one with none, except where both
 * choices of a flow land on it (the second choice reads up to 4 slots).
 */
static void xdp_sched_lc_avoids_loaded_backend(void)
{
	const int flows = 40;
	__u32 loaded = 16, idle = 17, key = loaded;
	__u64 many = 1000, zero = 0, idle_before;
	int on_idle = 0;

	if (bpf_map_update_elem(bpf_map__fd(bal->maps.backend_active), &key, &many, BPF_ANY))
		t_fail("set backend_active: %s", strerror(errno));
	key = idle;
	if (bpf_map_update_elem(bpf_map__fd(bal->maps.backend_active), &key, &zero, BPF_ANY))
		t_fail("set backend_active: %s", strerror(errno));
	RETURN_IF_FAILED();
	idle_before = be_active(idle);
	for (int i = 0; i < flows; i++) {
		struct pkt_spec s = tcp4("192.0.2.92", 42000 + i, 80, PKT_SYN);
		size_t len = bal_frame(&s, 0, 0, in);
		__u32 be;

		bal_send(fx_ifindex_a, in, len, &run, before);
		RETURN_IF_FAILED();
		EXPECT_EQ("XDP action", XDP_TX, run.ret);
		be = encap_backend(&run, 0);
		EXPECT_TRUE("an lc backend", be == loaded || be == idle);
		on_idle += be == idle;
	}
	printf("# lc: %d of %d new flows avoided the loaded backend\n", on_idle, flows);
	EXPECT_TRUE("at least 90% of new flows on the idle backend", on_idle * 10 >= flows * 9);
	EXPECT_EQ("backend_active of the idle backend +1 per flow it got", idle_before + on_idle,
		  be_active(idle));
	EXPECT_EQ("backend_active of the loaded backend + its flows", many + flows - on_idle,
		  be_active(loaded));
}

/* Many flows: the program's pick is the table slot user space predicts. */
static void xdp_sched_maglev_matches_table(void)
{
	int seen[3] = {};

	for (int i = 0; i < N_FLOWS; i++) {
		struct pkt_spec s = tcp4("192.0.2.10", 41000 + i, 80, PKT_SYN);
		__u32 be = bal_predict(VIP_TCP4, &s, 0);

		expect_fwd(&s, 0, 0, VIP_TCP4, be);
		RETURN_IF_FAILED();
		seen[be]++;
	}
	EXPECT_TRUE("both backends get flows", seen[1] && seen[2]);
}

/*
 * A tracked flow keeps its backend when the table changes under it, while
 * a new flow follows the new table.
 */
static void xdp_conntrack_ipv4_established_keeps_backend(void)
{
	struct pkt_spec syn = tcp4("192.0.2.10", 40002, 80, PKT_SYN);
	struct pkt_spec ack = tcp4("192.0.2.10", 40002, 80, PKT_ACK);
	struct pkt_spec other = tcp4("192.0.2.10", 40003, 80, PKT_SYN);
	__u32 be = bal_predict(VIP_TCP4, &syn, 0), alt = be == 1 ? 2 : 1;
	__u32 ids[] = { 1, 2 };
	__u64 nf;

	expect_fwd(&syn, 0, 0, VIP_TCP4, be);
	RETURN_IF_FAILED();
	fx_table_fill(bal, VIP_TCP4, BAL_TABLE, alt);
	nf = vip_counter(VIP_TCP4, offsetof(struct xlb_counters, new_flows));
	expect_fwd(&ack, 0, 0, VIP_TCP4, be);
	if (!t_failed())
		expect_fwd(&other, 0, 0, VIP_TCP4, alt);
	fx_table(bal, VIP_TCP4, BAL_TABLE, ids, 2);
	RETURN_IF_FAILED();
	EXPECT_EQ("vip_stats new_flows (the ACK is not new)", nf + 1,
		  vip_counter(VIP_TCP4, offsetof(struct xlb_counters, new_flows)));
}

/* Any packet of an untracked flow, not only a SYN, is hashed and tracked. */
static void xdp_conntrack_midstream_ack_tracked(void)
{
	struct pkt_spec ack = tcp4("192.0.2.10", 40004, 80, PKT_ACK);
	struct xlb_flow_key k = bal_key(&ack);
	struct xlb_flow f;

	expect_fwd(&ack, 0, 0, VIP_TCP4, 0);
	RETURN_IF_FAILED();
	EXPECT_EQ("conntrack entry exists", 0,
		  ct_find(bpf_map__fd(bal->maps.conntrack), &k, &f));
	EXPECT_EQ("conntrack backend", bal_predict(VIP_TCP4, &ack, 0), f.backend_id);
	EXPECT_EQ("conntrack vip", VIP_TCP4, f.vip_id);
	EXPECT_EQ("conntrack flags", 0, f.flags);
}

static void xdp_conntrack_fin_marks_closing(void)
{
	struct pkt_spec syn = tcp4("192.0.2.10", 40005, 80, PKT_SYN);
	struct pkt_spec fin = tcp4("192.0.2.10", 40005, 80, PKT_FIN | PKT_ACK);
	struct xlb_flow_key k = bal_key(&syn);
	struct xlb_flow f;
	int fd = bpf_map__fd(bal->maps.conntrack);

	expect_fwd(&syn, 0, 0, VIP_TCP4, 0);
	RETURN_IF_FAILED();
	EXPECT_EQ("conntrack entry after SYN", 0, ct_find(fd, &k, &f));
	EXPECT_EQ("flags after SYN", 0, f.flags);
	expect_fwd(&fin, 0, 0, VIP_TCP4, f.backend_id);
	RETURN_IF_FAILED();
	EXPECT_EQ("conntrack entry after FIN", 0, ct_find(fd, &k, &f));
	EXPECT_EQ("flags after FIN", XLB_FLOW_F_CLOSING, f.flags);
}

static void xdp_encap_ipv4_in_ipv4_udp(void)
{
	struct pkt_spec s = { .family = 4, .src = CLIENT4, .dst = "192.0.2.10",
			      .proto = IPPROTO_UDP, .sport = 5353, .dport = 53, .payload = 40 };

	expect_fwd(&s, 0, 0, VIP_UDP4, 3);
}

static void xdp_encap_ipv6_in_ipv6_tcp_syn(void)
{
	struct pkt_spec s = tcp6("2001:db8::10", 40001, 80, PKT_SYN);

	expect_fwd(&s, 0, 0, VIP_TCP6, 5);
}

static void xdp_conntrack_ipv6_established_keeps_backend(void)
{
	struct pkt_spec syn = tcp6("2001:db8::10", 40002, 80, PKT_SYN);
	struct pkt_spec ack = tcp6("2001:db8::10", 40002, 80, PKT_ACK);
	struct pkt_spec other = tcp6("2001:db8::10", 40003, 80, PKT_SYN);
	__u32 ids[] = { 5 };

	expect_fwd(&syn, 0, 0, VIP_TCP6, 5);
	RETURN_IF_FAILED();
	/* An empty table drops new flows: only conntrack can forward the ACK. */
	fx_table_fill(bal, VIP_TCP6, BAL_TABLE, XLB_BACKEND_NONE);
	expect_fwd(&ack, 0, 0, VIP_TCP6, 5);
	if (!t_failed())
		expect_verdict(&other, XDP_DROP, XLB_DROP_NO_BACKEND);
	fx_table(bal, VIP_TCP6, BAL_TABLE, ids, 1);
}

static void xdp_encap_ipv6_in_ipv6_udp(void)
{
	struct pkt_spec s = { .family = 6, .src = CLIENT6, .dst = "2001:db8::10",
			      .proto = IPPROTO_UDP, .sport = 5353, .dport = 80, .payload = 30 };

	/* No UDP VIP on that address: UDP to a TCP VIP's address is dropped, not passed. */
	expect_verdict(&s, XDP_DROP, XLB_DROP_VIP_PORT);
}

static void xdp_encap_ipv4_in_ipv6(void)
{
	struct pkt_spec s = tcp4("192.0.2.30", 40001, 80, PKT_SYN);

	expect_fwd(&s, 0, 0, VIP_4IN6, 6);
}

static void xdp_encap_ipv6_in_ipv4_refused(void)
{
	struct pkt_spec s = tcp6("2001:db8::20", 40001, 80, PKT_SYN);

	expect_verdict(&s, XDP_DROP, XLB_DROP_NO_SOURCE);
}

static void xdp_encap_no_source_dropped(void)
{
	struct pkt_spec s = tcp6("2001:db8::10", 40010, 80, PKT_SYN);

	fx_config(bal, FX_SRC4, NULL);
	expect_verdict(&s, XDP_DROP, XLB_DROP_NO_SOURCE);
	fx_config(bal, FX_SRC4, FX_SRC6);
}

/*
 * A tagged packet goes out as the untagged one would: the FIB routed the
 * backend via the ingress device itself, whose own network is untagged
 * (the ingress tag would put it in the client's VLAN, where the backend is
 * not). The control is that very untagged packet's output.
 */
static void expect_tag_dropped(const struct pkt_spec *s, __u16 tci, __u32 be)
{
	__u8 ref[PKT_MAX];
	size_t ref_len = bal_frame(s, 0, 0, ref), len = bal_frame(s, 1, tci, in);
	struct want_encap w = { .in = ref, .in_len = ref_len, .be = be, .smac = fx_mac_a };

	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	EXPECT_EQ("backend (by outer daddr)", be, encap_backend(&run, 0));
	check_encap(&w, &run);
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, XLB_FWD_TX);
}

static void xdp_encap_vlan_tag_follows_egress(void)
{
	struct pkt_spec s = tcp4("192.0.2.10", 40020, 80, PKT_SYN);
	struct pkt_spec s6 = tcp6("2001:db8::10", 40020, 80, PKT_SYN);

	expect_tag_dropped(&s, 0x2064, bal_predict(VIP_TCP4, &s, 0));
	RETURN_IF_FAILED();
	expect_tag_dropped(&s6, 0x0ffe, 5);
}

static void xdp_encap_ipv4_options(void)
{
	struct pkt_spec s = tcp4("192.0.2.10", 40030, 80, PKT_SYN);

	s.opt_len = 12;	/* IHL 8 */
	expect_fwd(&s, 0, 0, VIP_TCP4, 0);
	RETURN_IF_FAILED();
	s.opt_len = 40;	/* IHL 15, the most there is */
	s.sport++;
	expect_fwd(&s, 0, 0, VIP_TCP4, 0);
}

/*
 * Ethernet padding after a short packet is cut before encapsulating: the
 * outer frame is L2 + outer header + the declared IP length, and nothing
 * rides in the tunnel after the inner packet.
 */
static void xdp_encap_ipv4_padding_trimmed(void)
{
	struct pkt_spec s = { .family = 4, .src = CLIENT4, .dst = "192.0.2.10",
			      .proto = IPPROTO_UDP, .sport = 5354, .dport = 53, .payload = 2 };
	size_t len = bal_frame(&s, 0, 0, in), padded = 60;
	struct want_encap w = { .in = in, .in_len = len, .be = 3, .smac = fx_mac_a };

	memset(in + len, 0xee, padded - len);
	bal_send(fx_ifindex_a, in, padded, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_TX, run.ret);
	check_encap(&w, &run);	/* frame length: the unpadded frame + outer header */
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, XLB_FWD_TX);
}

static void xdp_vip_miss_passed_untouched(void)
{
	struct pkt_spec s = tcp4("192.0.2.99", 40001, 80, PKT_SYN);
	struct pkt_spec s6 = tcp6("2001:db8::99", 40001, 80, PKT_SYN);

	expect_verdict(&s, XDP_PASS, XLB_PASS_NOT_VIP);
	RETURN_IF_FAILED();
	expect_verdict(&s6, XDP_PASS, XLB_PASS_NOT_VIP);
}

/* VIP_TCP4's key (192.0.2.10/tcp) on @port. */
static struct xlb_vip_key vip_tcp4_key(__u16 port)
{
	struct xlb_vip_key k = { .port = htons(port), .proto = IPPROTO_TCP, .family = 4 };

	pkt_addr(4, "192.0.2.10", k.addr);
	return k;
}

/*
 * Where a key of @keys sits in @b (of @nb buckets): the way of one of its
 * two buckets that holds it, as the program looks (vip.h); -1 if none.
 */
static int index_slot_of(const struct xlb_vip_bucket *b, __u32 nb, const struct xlb_vip_key *k)
{
	__u64 h = xlb_vip_hash64(k);

	for (int c = 0; c < 2; c++) {
		__u32 i = xlb_vip_bucket_of(h, c, nb);

		for (int w = 0; w < XLB_VIP_WAYS && b[i].way[w].key.family; w++)
			if (xlb_vip_key_eq(&b[i].way[w].key, k))
				return (int)(i * XLB_VIP_WAYS + w);
	}
	return -1;
}

/*
 * As many VIPs as the vips hash holds (XLB_MAX_VIPS) all find a way, each
 * its own, in one of its two buckets, where the program's lookup finds it.
 * The control: four times as many keys as the ways can hold are refused
 * (-ENOSPC), not placed over each other.
 */
static void vip_index_places_the_most_vips_each_in_its_own_way(void)
{
	struct xlb_vip_bucket *b = calloc(XLB_VIP_BUCKETS, sizeof(*b));
	struct xlb_vip_key *k = calloc(4 * XLB_MAX_VIPS, sizeof(*k));
	struct xlb_vip *v = calloc(4 * XLB_MAX_VIPS, sizeof(*v));
	char *seen = calloc(XLB_VIP_BUCKETS * XLB_VIP_WAYS, 1);
	int bad = 0, dup = 0;

	if (!b || !k || !v || !seen) {
		t_fail("out of memory");
		goto out;
	}
	for (__u32 i = 0; i < 4 * XLB_MAX_VIPS; i++) {
		k[i] = vip_tcp4_key(1 + i % 60000);
		k[i].addr[0] += htonl(i / 60000);
		v[i].id = i;
	}
	EXPECT_EQ("placed", 0, vip_index_place(b, XLB_VIP_BUCKETS, k, v, XLB_MAX_VIPS));
	for (__u32 i = 0; i < XLB_MAX_VIPS && !t_failed(); i++) {
		int at = index_slot_of(b, XLB_VIP_BUCKETS, &k[i]);

		if (at < 0 || b[at / XLB_VIP_WAYS].way[at % XLB_VIP_WAYS].vip.id != i)
			bad++;
		else if (seen[at]++)
			dup++;
	}
	EXPECT_EQ("keys not found with their own VIP", 0, bad);
	EXPECT_EQ("ways given twice", 0, dup);
	memset(b, 0, XLB_VIP_BUCKETS * sizeof(*b));
	EXPECT_EQ("four times the ways: refused", -ENOSPC,
		  vip_index_place(b, XLB_VIP_BUCKETS / 4, k, v, 4 * XLB_MAX_VIPS));
out:
	free(b);
	free(k);
	free(v);
	free(seen);
}

/*
 * The data plane finds VIPs in the index, not in the vips hash: a VIP
 * deleted from the hash is still balanced until the index is rebuilt, and
 * not after (its address has other VIPs: dropped as a VIP port). Written
 * back and rebuilt, it is balanced again.
 */
static void xdp_vip_found_through_the_index_not_the_hash(void)
{
	struct pkt_spec s = tcp4("192.0.2.10", 40001, 80, PKT_SYN);
	struct xlb_vip_key k = vip_tcp4_key(80);
	int fd = bpf_map__fd(bal->maps.vips);
	struct xlb_vip v;

	EXPECT_EQ("VIP in the hash", 0, bpf_map_lookup_elem(fd, &k, &v));
	RETURN_IF_FAILED();
	expect_fwd(&s, 0, 0, VIP_TCP4, 0);
	RETURN_IF_FAILED();
	EXPECT_EQ("deleted from the hash", 0, bpf_map_delete_elem(fd, &k));
	expect_fwd(&s, 0, 0, VIP_TCP4, 0);
	if (!t_failed()) {
		fx_vip_index(bal);
		expect_verdict(&s, XDP_DROP, XLB_DROP_VIP_PORT);
	}
	bpf_map_update_elem(fd, &k, &v, BPF_ANY);
	fx_vip_index(bal);
	if (!t_failed())
		expect_fwd(&s, 0, 0, VIP_TCP4, 0);
}

/*
 * With the vips hash full (XLB_MAX_VIPS: VIP_TCP4's address on thousands
 * of ports more, each VIP_TCP4's), every one is balanced through the index
 * built from it; a port none has stays a VIP port drop (the control). The
 * extra VIPs go after.
 */
static void xdp_vip_index_finds_every_vip_of_a_full_vips_hash(void)
{
	int fd = bpf_map__fd(bal->maps.vips), added = 0, fwd = 0, tried = 0;
	struct xlb_vip_key k = vip_tcp4_key(80);
	struct pkt_spec s = tcp4("192.0.2.10", 40001, 80, PKT_SYN);
	struct xlb_vip v;
	size_t len;

	EXPECT_EQ("VIP_TCP4", 0, bpf_map_lookup_elem(fd, &k, &v));
	RETURN_IF_FAILED();
	for (__u16 port = 20000; port < 30000; port++) {
		k = vip_tcp4_key(port);
		if (bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST))
			break;		/* full */
		added++;
	}
	EXPECT_TRUE("the hash filled up", added > XLB_MAX_VIPS / 2 && added < 10000);
	fx_vip_index(bal);
	for (int i = 0; i < added && !t_failed(); i++) {
		s.dport = 20000 + i;
		s.sport = 40000 + i % 20000;
		len = bal_frame(&s, 0, 0, in);
		bal_send(fx_ifindex_a, in, len, &run, before);
		tried++;
		fwd += run.ret == XDP_TX;
	}
	EXPECT_EQ("every VIP of the full hash balanced", tried, fwd);
	s.dport = 20000 + added;
	if (!t_failed())
		expect_verdict(&s, XDP_DROP, XLB_DROP_VIP_PORT);
	for (int i = 0; i < added; i++) {
		k = vip_tcp4_key(20000 + i);
		bpf_map_delete_elem(fd, &k);
	}
	fx_vip_index(bal);
}

/* The filter's entry as it is, and written back as @f. */
static struct xlb_vip_filter vip_filter_get(void)
{
	struct xlb_vip_filter f = {};
	__u32 zero = 0;

	bpf_map_lookup_elem(bpf_map__fd(bal->maps.vip_filter), &zero, &f);
	return f;
}

static void vip_filter_put(const struct xlb_vip_filter *f)
{
	__u32 zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(bal->maps.vip_filter), &zero, f, BPF_ANY))
		t_fail("vip_filter update: %s", strerror(errno));
}

/*
 * The VIP address filter is what the data plane reads first: with the
 * VIP's bit cleared (a filter that would be wrong), its packet is not
 * balanced but passed as for no VIP, and not dropped as for a VIP address
 * either (vip_addrs is not read). Unarmed, the same filter is ignored.
 * The fixture's filter (armed, every VIP's bit set: bal_vip_addrs_sync())
 * is the control: every other case of this file is balanced through it.
 */
static void xdp_vip_filter_rules_out_an_address_whose_bit_is_clear(void)
{
	struct pkt_spec s = tcp4("192.0.2.10", 40001, 80, PKT_SYN);
	struct pkt_spec port = tcp4("192.0.2.10", 40001, 81, PKT_SYN);
	struct xlb_vip_filter saved = vip_filter_get(), f = saved;
	__u32 a[4] = {}, bit;

	EXPECT_EQ("fixture's filter armed", 1, saved.armed);
	pkt_addr(4, s.dst, a);
	bit = xlb_vip_filter_bit(a);
	EXPECT_EQ("VIP's bit set", 1, (int)((saved.bits[bit / 64] >> (bit % 64)) & 1));
	RETURN_IF_FAILED();
	expect_fwd(&s, 0, 0, VIP_TCP4, 0);
	RETURN_IF_FAILED();
	f.bits[bit / 64] &= ~(1ULL << (bit % 64));
	vip_filter_put(&f);
	expect_verdict(&s, XDP_PASS, XLB_PASS_NOT_VIP);
	if (!t_failed())
		expect_verdict(&port, XDP_PASS, XLB_PASS_NOT_VIP);
	f.armed = 0;
	vip_filter_put(&f);
	if (!t_failed())
		expect_fwd(&s, 0, 0, VIP_TCP4, 0);
	if (!t_failed())
		expect_verdict(&port, XDP_DROP, XLB_DROP_VIP_PORT);
	vip_filter_put(&saved);
}

/*
 * A VIP address on a port (or protocol) no VIP has: the kernel does not own
 * the address and would route it back, so it is dropped (the control is
 * xdp_vip_miss_passed_untouched: an address no VIP uses is passed).
 */
static void xdp_vip_wrong_port(void)
{
	struct pkt_spec s = tcp4("192.0.2.10", 40001, 81, PKT_SYN);

	expect_verdict(&s, XDP_DROP, XLB_DROP_VIP_PORT);
}

static void xdp_vip_wrong_proto(void)
{
	struct pkt_spec s = { .family = 4, .src = CLIENT4, .dst = "192.0.2.10",
			      .proto = IPPROTO_UDP, .sport = 5353, .dport = 80, .payload = 8 };

	expect_verdict(&s, XDP_DROP, XLB_DROP_VIP_PORT);
}

static void xdp_vip_all_ports(void)
{
	struct pkt_spec s = tcp4("192.0.2.20", 40001, 8080, PKT_SYN);
	struct pkt_spec s2 = tcp4("192.0.2.20", 40001, 22, PKT_SYN);
	struct pkt_spec u = { .family = 4, .src = CLIENT4, .dst = "192.0.2.20",
			      .proto = IPPROTO_UDP, .sport = 5353, .dport = 8080 };

	expect_fwd(&s, 0, 0, VIP_ALLPORTS4, 4);
	RETURN_IF_FAILED();
	expect_fwd(&s2, 0, 0, VIP_ALLPORTS4, 4);
	RETURN_IF_FAILED();
	/* The all-ports VIP is per protocol: UDP to its address has no VIP. */
	expect_verdict(&u, XDP_DROP, XLB_DROP_VIP_PORT);
}

static void xdp_sched_empty_table_drops(void)
{
	struct pkt_spec s = tcp4("192.0.2.40", 40001, 80, PKT_SYN);

	expect_verdict(&s, XDP_DROP, XLB_DROP_NO_BACKEND);
}

static void xdp_sched_no_table_drops(void)
{
	struct pkt_spec s = tcp4("192.0.2.90", 40001, 80, PKT_SYN);

	expect_verdict(&s, XDP_DROP, XLB_DROP_NO_BACKEND);
}

static void xdp_sched_all_down_drops(void)
{
	struct pkt_spec s = tcp4("192.0.2.91", 40001, 80, PKT_SYN);

	expect_verdict(&s, XDP_DROP, XLB_DROP_NO_BACKEND);
}

/*
 * Unresolved next hop: dropped, not passed. The kernel would route the VIP
 * packet by its VIP (back to the router), never to the backend, so passing
 * it resolved nothing; the managed neighbour entry does that.
 */
static void xdp_fib_no_neigh_ipv4_dropped(void)
{
	struct pkt_spec s = tcp4("192.0.2.60", 40001, 80, PKT_SYN);

	expect_verdict(&s, XDP_DROP, XLB_DROP_NO_NEIGH);
}

static void xdp_fib_no_neigh_ipv6_dropped(void)
{
	struct pkt_spec s = tcp6("2001:db8::60", 40001, 80, PKT_SYN);

	expect_verdict(&s, XDP_DROP, XLB_DROP_NO_NEIGH);
}

/* A backend behind another interface: redirect, with that interface's MAC. */
static void xdp_fwd_redirect_other_interface(void)
{
	struct pkt_spec s = tcp4("192.0.2.70", 40001, 80, PKT_SYN);
	size_t len = bal_frame(&s, 0, 0, in);
	struct want_encap w = { .in = in, .in_len = len, .be = 10, .smac = fx_mac_b };

	bal_send(fx_ifindex_a, in, len, &run, before);
	RETURN_IF_FAILED();
	EXPECT_EQ("XDP action", XDP_REDIRECT, run.ret);
	check_encap(&w, &run);
	RETURN_IF_FAILED();
	fx_expect_reason(bal_reasons, before, XLB_FWD_REDIRECT);
}

/* Drained: tracked flows stay, new flows avoid it (the CLI leaves it out of the table). */
static void xdp_sched_drained_backend_keeps_tracked_flows(void)
{
	__u32 both[] = { 13, 14 }, live[] = { 14 }, first[N_FLOWS];
	struct pkt_spec f[N_FLOWS];
	__u32 on13 = 0;

	for (int i = 0; i < N_FLOWS; i++) {
		f[i] = tcp4("192.0.2.80", 42000 + i, 80, PKT_SYN);
		expect_fwd(&f[i], 0, 0, VIP_DRAIN, 0);
		RETURN_IF_FAILED();
		first[i] = encap_backend(&run, 0);
		on13 += first[i] == 13;
	}
	EXPECT_TRUE("some flows on the backend to drain", on13 > 0);
	fx_backend(bal, 13, 4, "10.99.0.15", 1, XLB_BE_F_USED | XLB_BE_F_DRAINED, VIP_DRAIN);
	fx_table(bal, VIP_DRAIN, BAL_TABLE, live, 1);
	for (int i = 0; i < N_FLOWS && !t_failed(); i++) {
		struct pkt_spec ack = f[i], nw = f[i];

		ack.tcp_flags = PKT_ACK;
		expect_fwd(&ack, 0, 0, VIP_DRAIN, first[i]);
		if (t_failed())
			break;
		nw.sport += N_FLOWS;
		expect_fwd(&nw, 0, 0, VIP_DRAIN, 14);
	}
	fx_backend(bal, 13, 4, "10.99.0.15", 1, XLB_BE_F_USED, VIP_DRAIN);
	fx_table(bal, VIP_DRAIN, BAL_TABLE, both, 2);
}

/* DOWN under --down-flows move: tracked flows of a failed backend move to a live one. */
static void xdp_sched_down_backend_flows_rehash(void)
{
	__u32 both[] = { 13, 14 }, live[] = { 14 };
	struct pkt_spec s;
	int i;

	fx_vip(bal, 4, "192.0.2.80", 80, IPPROTO_TCP, VIP_DRAIN, BAL_TABLE, 0,
	       XLB_VIP_F_DOWN_MOVE);

	for (i = 0; i < N_FLOWS; i++) {
		s = tcp4("192.0.2.80", 43000 + i, 80, PKT_SYN);
		if (bal_predict(VIP_DRAIN, &s, 0) == 13)
			break;
	}
	EXPECT_TRUE("a flow hashing to backend 13", i < N_FLOWS);
	expect_fwd(&s, 0, 0, VIP_DRAIN, 13);
	RETURN_IF_FAILED();
	fx_backend(bal, 13, 4, "10.99.0.15", 1, XLB_BE_F_USED | XLB_BE_F_DOWN, VIP_DRAIN);
	fx_table(bal, VIP_DRAIN, BAL_TABLE, live, 1);
	s.tcp_flags = PKT_ACK;
	expect_fwd(&s, 0, 0, VIP_DRAIN, 14);
	fx_backend(bal, 13, 4, "10.99.0.15", 1, XLB_BE_F_USED, VIP_DRAIN);
	fx_table(bal, VIP_DRAIN, BAL_TABLE, both, 2);
	fx_vip(bal, 4, "192.0.2.80", 80, IPPROTO_TCP, VIP_DRAIN, BAL_TABLE, 0, 0);
}

/* sh: every port of a client lands on one backend; clients still spread. */
static void xdp_sched_sh_client_affinity(void)
{
	int seen[9] = {};
	char client[32];

	for (int c = 1; c <= 32 && !t_failed(); c++) {
		struct pkt_spec a, b;
		__u32 be;

		snprintf(client, sizeof(client), "198.51.100.%d", c);
		a = tcp4("192.0.2.50", 44000, 80, PKT_SYN);
		a.src = client;
		b = a;
		b.sport = 55000 + c;
		be = bal_predict(VIP_SH, &a, 1);
		expect_fwd(&a, 0, 0, VIP_SH, be);
		if (!t_failed())
			expect_fwd(&b, 0, 0, VIP_SH, be);
		if (be < 9)
			seen[be]++;
	}
	RETURN_IF_FAILED();
	EXPECT_TRUE("clients spread over both backends", seen[7] && seen[8]);
}

static const struct t_case cases[] = {
	T_CASE(xdp_encap_ipv4_in_ipv4_tcp_syn),
	T_CASE(xdp_sched_maglev_matches_table),
	T_CASE(xdp_sched_lc_avoids_loaded_backend),
	T_CASE(xdp_fib_nexthop_cache_follows_neighbour),
	T_CASE(xdp_fib_nexthop_cache_not_inherited_by_reused_slot),
	T_CASE(xdp_conntrack_ipv4_established_keeps_backend),
	T_CASE(xdp_conntrack_midstream_ack_tracked),
	T_CASE(xdp_conntrack_fin_marks_closing),
	T_CASE(xdp_encap_ipv4_in_ipv4_udp),
	T_CASE(xdp_encap_ipv6_in_ipv6_tcp_syn),
	T_CASE(xdp_conntrack_ipv6_established_keeps_backend),
	T_CASE(xdp_encap_ipv6_in_ipv6_udp),
	T_CASE(xdp_encap_ipv4_in_ipv6),
	T_CASE(xdp_encap_ipv6_in_ipv4_refused),
	T_CASE(xdp_encap_no_source_dropped),
	T_CASE(xdp_encap_vlan_tag_follows_egress),
	T_CASE(xdp_encap_ipv4_options),
	T_CASE(xdp_encap_ipv4_padding_trimmed),
	T_CASE(xdp_vip_miss_passed_untouched),
	T_CASE(xdp_vip_wrong_port),
	T_CASE(xdp_vip_wrong_proto),
	T_CASE(xdp_vip_all_ports),
	T_CASE(xdp_sched_empty_table_drops),
	T_CASE(xdp_sched_no_table_drops),
	T_CASE(xdp_sched_all_down_drops),
	T_CASE(xdp_fib_no_neigh_ipv4_dropped),
	T_CASE(xdp_fib_no_neigh_ipv6_dropped),
	T_CASE(xdp_fwd_redirect_other_interface),
	T_CASE(xdp_sched_drained_backend_keeps_tracked_flows),
	T_CASE(xdp_sched_down_backend_flows_rehash),
	T_CASE(xdp_sched_sh_client_affinity),
	T_CASE(xdp_vip_filter_rules_out_an_address_whose_bit_is_clear),
	T_CASE(vip_index_places_the_most_vips_each_in_its_own_way),
	T_CASE(xdp_vip_found_through_the_index_not_the_hash),
	T_CASE(xdp_vip_index_finds_every_vip_of_a_full_vips_hash),
};

int main(int argc, char **argv)
{
	bal_setup();
	bal_vip_addrs_sync();
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
