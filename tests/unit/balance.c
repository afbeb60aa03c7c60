// SPDX-License-Identifier: GPL-2.0
/* The balancer tests' configuration and checks (see balance.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "balance.h"
#include "flowhash.h"
#include "xlb.skel.h"

#define BAL_OUTER_TTL	64
#define BAL_LABEL_MASK	0xfffff

struct xlb_bpf *bal;
int bal_prog, bal_reasons;

const struct bal_be bal_be[BAL_BE_COUNT] = {
	[1]  = { 4, "10.99.0.17", 17, VIP_TCP4 },
	[2]  = { 4, "10.99.0.18", 18, VIP_TCP4 },
	[3]  = { 4, "10.99.0.13", 13, VIP_UDP4 },
	[4]  = { 4, "10.99.0.14", 14, VIP_ALLPORTS4 },
	[5]  = { 6, "fd00:99::15", 15, VIP_TCP6 },
	[6]  = { 6, "fd00:99::16", 16, VIP_4IN6 },
	[7]  = { 4, "10.99.0.11", 11, VIP_SH },
	[8]  = { 4, "10.99.0.12", 12, VIP_SH },
	[9]  = { 4, "10.99.0.50", 0, VIP_NONEIGH4 },
	[10] = { 4, "10.98.0.21", 21, VIP_LINKB4 },
	[11] = { 6, "fd00:98::21", 21, VIP_LINKB6 },
	[12] = { 6, "fd00:99::50", 0, VIP_NONEIGH6 },
	[13] = { 4, "10.99.0.15", 15, VIP_DRAIN },
	[14] = { 4, "10.99.0.16", 16, VIP_DRAIN },
	[15] = { 4, "10.99.0.19", 19, VIP_6IN4 },
	[16] = { 4, "10.99.0.20", 20, VIP_LC },
	[17] = { 4, "10.99.0.21", 21, VIP_LC },
};

struct bal_vip {
	int family;
	const char *addr;
	__u16 port;
	__u8 proto;
	__u8 sched;
	__u8 flags;
};

static const struct bal_vip bal_vips[VIP_COUNT] = {
	[VIP_TCP4]	= { 4, "192.0.2.10", 80, IPPROTO_TCP },
	[VIP_UDP4]	= { 4, "192.0.2.10", 53, IPPROTO_UDP },
	[VIP_ALLPORTS4]	= { 4, "192.0.2.20", 0, IPPROTO_TCP },
	[VIP_TCP6]	= { 6, "2001:db8::10", 80, IPPROTO_TCP },
	[VIP_4IN6]	= { 4, "192.0.2.30", 80, IPPROTO_TCP },
	[VIP_EMPTY]	= { 4, "192.0.2.40", 80, IPPROTO_TCP },
	[VIP_SH]	= { 4, "192.0.2.50", 80, IPPROTO_TCP, XLB_SCHED_SH },
	[VIP_NONEIGH4]	= { 4, "192.0.2.60", 80, IPPROTO_TCP },
	[VIP_LINKB4]	= { 4, "192.0.2.70", 80, IPPROTO_TCP },
	[VIP_LINKB6]	= { 6, "2001:db8::70", 80, IPPROTO_TCP },
	[VIP_NONEIGH6]	= { 6, "2001:db8::60", 80, IPPROTO_TCP },
	[VIP_DRAIN]	= { 4, "192.0.2.80", 80, IPPROTO_TCP },
	[VIP_6IN4]	= { 6, "2001:db8::20", 80, IPPROTO_TCP },
	[VIP_NOTABLE]	= { 4, "192.0.2.90", 80, IPPROTO_TCP },
	[VIP_ALLDOWN]	= { 4, "192.0.2.91", 80, IPPROTO_TCP, 0, XLB_VIP_F_DROPPING },
	[VIP_LC]	= { 4, "192.0.2.92", 80, IPPROTO_TCP, XLB_SCHED_LC },
};

void bal_setup(void)
{
	bal_setup_encap(XLB_ENCAP_IPIP, XLB_GUE_PORT_DEFAULT);
}

void bal_setup_encap(__u32 encap, __u16 gue_port)
{
	fx_net_setup();
	bal = fx_xlb_load_encap(encap, gue_port);
	bal_prog = bpf_program__fd(bal->progs.xlb_balance);
	bal_reasons = bpf_map__fd(bal->maps.reasons);
	fx_config(bal, FX_SRC4, FX_SRC6);
	for (__u32 v = 1; v < VIP_COUNT; v++) {
		const struct bal_vip *p = &bal_vips[v];
		__u32 ids[BAL_BE_COUNT];
		size_t n = 0;

		fx_vip(bal, p->family, p->addr, p->port, p->proto, v, BAL_TABLE, p->sched,
		       p->flags);
		for (__u32 b = 1; b < BAL_BE_COUNT; b++) {
			if (bal_be[b].vip != v)
				continue;
			fx_backend(bal, b, bal_be[b].family, bal_be[b].addr, 1, XLB_BE_F_USED, v);
			ids[n++] = b;
		}
		if (v == VIP_NOTABLE)
			continue;
		fx_table(bal, v, BAL_TABLE, ids, n);
	}
}

size_t bal_frame(const struct pkt_spec *s, int vlan, __u16 tci, __u8 *out)
{
	struct pkt_l2 l2 = { .dmac = fx_mac_a, .smac = fx_mac_client, .vlan = vlan, .tci = tci };
	__u8 ip[PKT_MAX];
	size_t len = pkt_ip(s, ip);

	return pkt_frame(&l2, s->family == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6, ip, len, out);
}

void bal_send(__u32 ifindex, const void *in, size_t len, struct fx_run *r,
	      __u64 before[XLB_REASON_MAX])
{
	int err;

	fx_reasons(bal_reasons, before);
	err = fx_run(bal_prog, ifindex, in, len, r);
	if (err)
		t_fail("bpf_prog_test_run: %s", strerror(-err));
}

struct xlb_flow_key bal_key(const struct pkt_spec *s)
{
	struct xlb_flow_key k = { .sport = htons(s->sport), .dport = htons(s->dport),
				  .proto = s->proto, .family = s->family };

	pkt_addr(s->family, s->src, k.src);
	pkt_addr(s->family, s->dst, k.dst);
	return k;
}

__u32 bal_predict(__u32 vip_id, const struct pkt_spec *s, int sh)
{
	struct xlb_flow_key k = bal_key(s);
	__u32 h = sh ? fh_client_hash(&k) : fh_flow_hash(&k);

	return fx_slot(bal, vip_id, h % BAL_TABLE);
}

static size_t l2_len(int vlan)
{
	return PKT_ETH_LEN + (vlan ? PKT_VLAN_LEN : 0);
}

__u32 encap_backend(const struct fx_run *r, int vlan)
{
	const __u8 *ip = r->out + l2_len(vlan);
	__u32 a[4];

	for (__u32 b = 1; b < BAL_BE_COUNT; b++) {
		if (!bal_be[b].addr)
			continue;
		pkt_addr(bal_be[b].family, bal_be[b].addr, a);
		if (bal_be[b].family == 4 && (ip[0] >> 4) == 4 && !memcmp(ip + 16, a, 4))
			return b;
		if (bal_be[b].family == 6 && (ip[0] >> 4) == 6 && !memcmp(ip + 24, a, 16))
			return b;
	}
	return ~0u;
}

/* The inner packet's flow key as the program builds it (TCP/UDP only). */
static struct xlb_flow_key inner_key(const __u8 *ip)
{
	struct xlb_flow_key k = {};
	const __u8 *l4;

	if ((ip[0] >> 4) == 4) {
		k.family = 4;
		k.proto = ip[9];
		memcpy(k.src, ip + 12, 4);
		memcpy(k.dst, ip + 16, 4);
		l4 = ip + (ip[0] & 0xf) * 4;
	} else {
		k.family = 6;
		k.proto = ip[6];
		memcpy(k.src, ip + 8, 16);
		memcpy(k.dst, ip + 24, 16);
		l4 = ip + PKT_IP6_LEN;
	}
	memcpy(&k.sport, l4, 2);
	memcpy(&k.dport, l4 + 2, 2);
	return k;
}

static void check_outer4(const __u8 *o, const __u8 *inner, size_t inner_len,
			 const struct bal_be *be)
{
	__u32 src[4], dst[4];

	pkt_addr(4, FX_SRC4, src);
	pkt_addr(4, be->addr, dst);
	EXPECT_EQ("outer version/IHL", 0x45, o[0]);
	EXPECT_EQ("outer tos (inner DSCP+ECN)", inner[1], o[1]);
	EXPECT_EQ("outer tot_len", inner_len + PKT_IP4_LEN, get16(o + 2));
	EXPECT_EQ("outer frag_off (DF)", PKT_DF, get16(o + 6));
	EXPECT_EQ("outer ttl", BAL_OUTER_TTL, o[8]);
	EXPECT_EQ("outer protocol", IPPROTO_IPIP, o[9]);
	EXPECT_EQ("outer checksum residue", 0, pkt_fold(pkt_sum(o, PKT_IP4_LEN, 0)));
	EXPECT_EQ("outer saddr", ntohl(src[0]), get32(o + 12));
	EXPECT_EQ("outer daddr", ntohl(dst[0]), get32(o + 16));
}

static void check_outer6(const __u8 *o, const __u8 *inner, size_t inner_len,
			 const struct bal_be *be, const struct xlb_flow_key *key)
{
	struct xlb_flow_key k = key ? *key : inner_key(inner);
	__u8 tclass = (inner[0] >> 4) == 4 ? inner[1] : (get16(inner) >> 4) & 0xff;
	__u32 src[4], dst[4], w = get32(o);

	pkt_addr(6, FX_SRC6, src);
	pkt_addr(6, be->addr, dst);
	EXPECT_EQ("outer version", 6, w >> 28);
	EXPECT_EQ("outer traffic class (inner DSCP+ECN)", tclass, (w >> 20) & 0xff);
	EXPECT_EQ("outer flow label (flow hash)", fh_flow_hash(&k) & BAL_LABEL_MASK,
		  w & BAL_LABEL_MASK);
	EXPECT_EQ("outer payload_len", inner_len, get16(o + 4));
	EXPECT_EQ("outer next header", (inner[0] >> 4) == 4 ? IPPROTO_IPIP : IPPROTO_IPV6, o[6]);
	EXPECT_EQ("outer hop limit", BAL_OUTER_TTL, o[7]);
	EXPECT_TRUE("outer saddr = configured src6", !memcmp(o + 8, src, 16));
	EXPECT_TRUE("outer daddr = backend", !memcmp(o + 24, dst, 16));
}

void check_encap(const struct want_encap *w, const struct fx_run *r)
{
	const struct bal_be *be = &bal_be[w->be];
	size_t l2 = l2_len(w->vlan), outer = be->family == 4 ? PKT_IP4_LEN : PKT_IP6_LEN;
	const __u8 *inner = w->in + l2, *o = r->out + l2;
	size_t inner_len, frame_inner = w->in_len - l2;
	__u8 mac[6];

	inner_len = (inner[0] >> 4) == 4 ? get16(inner + 2) : PKT_IP6_LEN + get16(inner + 4);
	fx_be_mac(be->mac_last, mac);
	EXPECT_EQ("frame length", w->in_len + outer, r->out_len);
	EXPECT_TRUE("dst MAC = backend's neighbour entry", !memcmp(r->out, mac, 6));
	EXPECT_TRUE("src MAC = egress interface", !memcmp(r->out + 6, w->smac, 6));
	if (w->vlan) {
		EXPECT_EQ("ethertype (802.1Q kept)", PKT_ETH_P_8021Q, get16(r->out + 12));
		EXPECT_EQ("VLAN TCI kept", w->tci, get16(r->out + 14));
	}
	EXPECT_EQ("outer ethertype", be->family == 4 ? PKT_ETH_P_IP : PKT_ETH_P_IPV6,
		  get16(r->out + l2 - 2));
	if (be->family == 4)
		check_outer4(o, inner, inner_len, be);
	else
		check_outer6(o, inner, inner_len, be, w->key);
	RETURN_IF_FAILED();
	EXPECT_TRUE("inner packet byte-identical", !memcmp(o + outer, inner, frame_inner));
}

void check_untouched(const void *in, size_t len, const struct fx_run *r, int action)
{
	EXPECT_EQ("XDP action", action, r->ret);
	EXPECT_EQ("frame length", len, r->out_len);
	EXPECT_TRUE("frame untouched", !memcmp(in, r->out, len));
}
