/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The fuzz test's reference model: what a frame is, read straight from the
 * RFC layouts, with no knowledge of the BPF code. fuzz_test.c judges every
 * verdict of the two programs against it, so it must be written from the
 * wire formats alone: if it asked the programs what "malformed" means, a
 * parser bug would agree with itself.
 *
 * Balancer view (ref_balancer): a frame is MALFORMED when a length it
 * carries is inconsistent (IPv4 IHL < 5 or beyond the frame, tot_len below
 * the header or beyond the frame; IPv6 payload_len beyond the frame; a TCP
 * header or doff beyond the IP length, doff < 5; a UDP header beyond the IP
 * length, UDP length < 8 or beyond the IP length; an ICMP header, or an
 * error's quote of IP header + 8 bytes, beyond the IP length), OTHER when
 * it is whole but not something xlb balances (not IP, a second VLAN tag, a
 * fragment, another protocol or an IPv6 extension header, an ICMP message
 * that is no error, is not addressed to the quoted packet's source (RFC
 * 792, 4443) or quotes no TCP/UDP first fragment, or no VIP of the
 * configuration matches), and OK when it is a VIP flow packet. Trailing
 * bytes after the IP length are Ethernet padding: legal, not malformed.
 * Checksums of the client's headers and option contents are the backend's
 * business and are not judged.
 *
 * NAT (a VIP with XLB_VIP_F_NAT): its packets are OK as any VIP's, marked
 * REF_NAT_FWD. A packet for no VIP whose destination is a SNAT address
 * (ref_snat) and whose destination port is in the SNAT range is a NAT
 * answer: OK (REF_NAT_ANSWER) when it belongs to a flow the fuzzer made
 * (ref_nat_answer(), from the tuples it learnt), else OTHER (the host's
 * own traffic). An ICMP error is judged by the packet it quotes, as ever.
 *
 * Decap view (ref_decap, for one decap configuration): OTHER when the
 * frame is not a tunnel packet for this host (not IPv4 protocol 4 / IPv6
 * next header 4 or 41 / UDP to the GUE port, an outer fragment, a foreign
 * destination, an outer header too broken to say), MALFORMED when it is one
 * but the outer header lies (length beyond the frame, bad IPv4 checksum,
 * tot_len below IHL), its GUE lies (the wire format above struct
 * xlb_gue_hdr in xlb_abi.h: UDP length = outer payload, version 0, no
 * control bit or flags, inner protocol 4 or 41, private data none or the
 * outer family's hop list, whose type, count 1..2, next < count and
 * hop[next] = outer destination hold), or the inner header is cut, of the
 * other family, or claims more bytes than the outer payload; REFUSED when
 * it is whole but from a source outside --from or for an inner
 * destination that is not local.
 */
#ifndef XLB_TEST_FUZZ_H
#define XLB_TEST_FUZZ_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "balance.h"

#define FZ_IP_MF		0x2000
#define FZ_IP_OFFSET		0x1fff
#define FZ_IHL_MIN		5
#define FZ_TCP_DOFF_MIN		5
#define FZ_ICMP_DEST_UNREACH	3
#define FZ_ICMP_TIME_EXCEEDED	11
#define FZ_ICMP6_ERR_MIN	1
#define FZ_ICMP6_ERR_MAX	4
#define FZ_ICMP6_ND_FIRST	133	/* router solicitation ... */
#define FZ_ICMP6_ND_LAST	137	/* ... redirect */
#define FZ_ETH_P_8021AD		0x88a8
#define FZ_VIPS_MAX		64
#define FZ_ADDRS_MAX		32
#define FZ_ADDR_TEXT		INET6_ADDRSTRLEN
#define FZ_GUE_LEN		4
#define FZ_GUE_VER_C		0xe0
#define FZ_GUE_HLEN		0x1f
#define FZ_HOPS_LEN(f)		((f) == 4 ? (int)sizeof(struct xlb_gue_hops4) :	\
				 (int)sizeof(struct xlb_gue_hops6))

/* What NAT makes of a packet the reference calls OK. */
enum ref_nat_kind {
	REF_NAT_NONE,		/* not NAT's: an encap VIP's */
	REF_NAT_FWD,		/* for a NAT VIP: leaves as SNAT -> backend */
	REF_NAT_ANSWER,		/* a NAT backend's answer: leaves as VIP -> client */
};

enum ref_class {
	REF_OK,			/* balancer: a VIP flow packet; decap: a tunnel for us */
	REF_OTHER,		/* whole, but not for this program to handle */
	REF_MALFORMED,		/* lengths that lie or headers that are cut */
	REF_REFUSED,		/* decap: whole, for us, but from or to the wrong place */
	/*
	 * Balancer: a fragment or an IPv6 packet with extension headers. What
	 * becomes of it depends on the fragments seen before (lib/frag.h) and
	 * on a header walk the exact packet tests cover (xdp_robust_test);
	 * here it is only held to the rules every packet keeps (one reason
	 * that fits the action; a passed frame untouched).
	 */
	REF_LENIENT,
	REF_CLASSES,
};

/* A VIP of the loaded configuration (read back from the vips map, sorted by id). */
struct ref_vip {
	struct xlb_vip_key key;
	struct xlb_vip vip;
	char text[FZ_ADDR_TEXT];
};

/* A backend of balance.c's table, its address parsed. */
struct ref_be {
	__u32 addr[4];
	int family;
	int link_b;		/* on link B (FX_IF_B), so reached by redirect */
};

/* The SNAT side of the configuration, as the snat map holds it (struct xlb_snat). */
struct ref_snat {
	__u32 addr4[XLB_SNAT_ADDRS_MAX];
	__u32 addr6[XLB_SNAT_ADDRS_MAX][4];
	int n4, n6;
	__u16 lo, hi;		/* host order, inclusive */
};

/* A NAT flow the fuzzer made: the client's tuple, and the one its packets leave with. */
struct ref_nat {
	struct xlb_flow_key key;	/* CLIENT:cport -> VIP:vport */
	struct xlb_flow_key out;	/* SNAT:sport -> BACKEND:bport */
	struct xlb_flow_key rkey;	/* the backend's answers: BACKEND:bport -> SNAT:sport */
	__u32 vip_id, be_id;
};

extern struct ref_snat ref_snat;
/* The flow whose backend's answers arrive as @k, NULL if the fuzzer made none (fuzz_test.c). */
const struct ref_nat *ref_nat_answer(const struct xlb_flow_key *k);

extern struct ref_vip ref_vips[FZ_VIPS_MAX];
extern int ref_nvips;
extern struct ref_be ref_bes[BAL_BE_COUNT];

/* What the balancer should see in a frame. */
struct ref {
	int cls;
	const char *why;	/* the class in words, for counts and reports */
	size_t l2;		/* link header bytes: Ethernet and one optional tag */
	size_t ip_len;		/* declared IP length: tot_len, or 40 + payload_len */
	int family;		/* 4 or 6 */
	int df, icmp_err;
	int nd;			/* ICMPv6 neighbour discovery: link-local, always the kernel's */
	struct xlb_flow_key key;	/* the client's direction of the flow */
	const struct ref_vip *vip;
	int vip_addr;		/* the destination is a VIP's address: never passed */
	int nat_addr;		/* ... and a NAT VIP's */
	int nat;		/* enum ref_nat_kind, for an OK packet */
	const struct ref_nat *flow;	/* REF_NAT_ANSWER: the flow it answers */
};

/* One decap instance's configuration, as the reference sees it. */
struct ref_addr {
	int family;
	__u32 addr[4];
};

struct ref_decap_cfg {
	struct ref_addr ours[FZ_ADDRS_MAX];	/* decap_addrs: tunnels' destinations */
	struct ref_addr from[FZ_ADDRS_MAX];	/* --from, as single addresses */
	struct ref_addr local[FZ_ADDRS_MAX];	/* decap_local: inner destinations */
	int nours, nfrom, nlocal;
	__u16 gue_port;
};

/* What the decap program should see in a frame. */
struct dref {
	int cls;
	const char *why;
	size_t l2;
	size_t ip_len;		/* outer IP header bytes */
	size_t outer_len;	/* bytes to strip: outer IP, and UDP + GUE + hop list */
	size_t payload;		/* bytes the outer headers say the inner packet has */
	int inner_family;	/* the family the outer headers announce */
	__u8 outer_ecn;
	int gue, hops;		/* GUE; with a hop list */
	int next, count;
	const __u8 *hop[XLB_GUE_HOPS_MAX];
	int inner_bad;		/* the inner packet is malformed, as the balancer reads it */
};

static inline int ref_set(int *cls, const char **why, int c, const char *w)
{
	*cls = c;
	*why = w;
	return c;
}

#define REF(r, c, w)	ref_set(&(r)->cls, &(r)->why, (c), (w))

/* Ethernet and at most one 802.1Q tag; -1 if the frame has no Ethernet header. */
static inline int ref_l2(const __u8 *f, size_t len, size_t *l2, __u16 *etype)
{
	if (len < PKT_ETH_LEN)
		return -1;
	*l2 = PKT_ETH_LEN;
	*etype = get16(f + 12);
	if (*etype == PKT_ETH_P_8021Q) {
		if (len < PKT_ETH_LEN + PKT_VLAN_LEN)
			return -1;
		*etype = get16(f + 16);
		*l2 += PKT_VLAN_LEN;
	}
	return 0;
}

static inline int ref_is_ext6(__u8 nh)
{
	/* hop-by-hop, routing, fragment, ESP, AH, destination, mobility, HIP, shim6, tests */
	static const __u8 ext[] = { 0, 43, 44, 50, 51, 60, 135, 139, 140, 253, 254 };

	for (size_t i = 0; i < sizeof(ext); i++)
		if (ext[i] == nh)
			return 1;
	return 0;
}

static inline void ref_ports(struct ref *r, const __u8 *sport, const __u8 *dport)
{
	memcpy(&r->key.sport, sport, 2);
	memcpy(&r->key.dport, dport, 2);
}

/* TCP or UDP of @n bytes (the IP length's share) at @l4. */
static inline int ref_l4(struct ref *r, const __u8 *l4, size_t n, __u8 proto)
{
	__u16 ulen;

	r->key.proto = proto;
	switch (proto) {
	case IPPROTO_TCP:
		if (n < PKT_TCP_LEN)
			return REF(r, REF_MALFORMED, "TCP header beyond the IP length");
		if ((l4[12] >> 4) < FZ_TCP_DOFF_MIN)
			return REF(r, REF_MALFORMED, "TCP doff below 5");
		if ((size_t)(l4[12] >> 4) * 4 > n)
			return REF(r, REF_MALFORMED, "TCP doff beyond the IP length");
		ref_ports(r, l4, l4 + 2);
		return REF(r, REF_OK, "VIP TCP packet");
	case IPPROTO_UDP:
		if (n < PKT_UDP_LEN)
			return REF(r, REF_MALFORMED, "UDP header beyond the IP length");
		ulen = get16(l4 + 4);
		if (ulen < PKT_UDP_LEN)
			return REF(r, REF_MALFORMED, "UDP length below its header");
		if (ulen > n)
			return REF(r, REF_MALFORMED, "UDP length beyond the IP length");
		ref_ports(r, l4, l4 + 2);
		return REF(r, REF_OK, "VIP UDP packet");
	default:
		if (r->family == 6 && ref_is_ext6(proto))
			return REF(r, REF_LENIENT, "IPv6 extension header");
		return REF(r, REF_OTHER, "protocol not balanced");
	}
}

static inline int ref_quoted_proto(struct ref *r, __u8 proto)
{
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return REF(r, REF_OTHER, "ICMP error quoting a protocol not balanced");
	r->key.proto = proto;
	r->icmp_err = 1;
	return REF(r, REF_OK, "ICMP error about a VIP flow");
}

/*
 * An ICMP error quotes the header a VIP sent (VIP -> client); the flow key
 * is the client's direction, so source and destination swap back.
 */
static inline int ref_icmp4(struct ref *r, const __u8 *l4, size_t n)
{
	const __u8 *q = l4 + PKT_ICMP_LEN;
	size_t qn, qh;

	if (n < PKT_ICMP_LEN)
		return REF(r, REF_MALFORMED, "ICMP header beyond the IP length");
	if (l4[0] != FZ_ICMP_DEST_UNREACH && l4[0] != FZ_ICMP_TIME_EXCEEDED)
		return REF(r, REF_OTHER, "ICMP message that is no error");
	qn = n - PKT_ICMP_LEN;
	if (qn < PKT_IP4_LEN)
		return REF(r, REF_MALFORMED, "ICMP quote shorter than an IPv4 header");
	if ((q[0] >> 4) != 4 || (q[0] & 0xf) < FZ_IHL_MIN)
		return REF(r, REF_MALFORMED, "ICMP quote is no IPv4 header");
	qh = (q[0] & 0xf) * 4;
	if (qn < qh + PKT_UDP_LEN)
		return REF(r, REF_MALFORMED, "ICMP quote shorter than its header + 8");
	if (get16(q + 6) & FZ_IP_OFFSET)
		return REF(r, REF_OTHER, "ICMP error quoting a non-first fragment");
	/* An error goes to the offending packet's source (RFC 792): the quote's. */
	if (memcmp(r->key.dst, q + 12, 4))
		return REF(r, REF_OTHER, "ICMP error not to the quoted source");
	memcpy(r->key.src, q + 16, 4);
	memcpy(r->key.dst, q + 12, 4);
	ref_ports(r, q + qh + 2, q + qh);
	return ref_quoted_proto(r, q[9]);
}

static inline int ref_icmp6(struct ref *r, const __u8 *l4, size_t n)
{
	const __u8 *q = l4 + PKT_ICMP_LEN;

	if (n < PKT_ICMP_LEN)
		return REF(r, REF_MALFORMED, "ICMPv6 header beyond the IP length");
	if (l4[0] < FZ_ICMP6_ERR_MIN || l4[0] > FZ_ICMP6_ERR_MAX) {
		r->nd = l4[0] >= FZ_ICMP6_ND_FIRST && l4[0] <= FZ_ICMP6_ND_LAST;
		return REF(r, REF_OTHER, "ICMPv6 message that is no error");
	}
	if (n - PKT_ICMP_LEN < PKT_IP6_LEN + PKT_UDP_LEN)
		return REF(r, REF_MALFORMED, "ICMPv6 quote shorter than its header + 8");
	if ((q[0] >> 4) != 6)
		return REF(r, REF_MALFORMED, "ICMPv6 quote is no IPv6 header");
	if (memcmp(r->key.dst, q + 8, 16))
		return REF(r, REF_OTHER, "ICMPv6 error not to the quoted source");
	memcpy(r->key.src, q + 24, 16);
	memcpy(r->key.dst, q + 8, 16);
	ref_ports(r, q + PKT_IP6_LEN + 2, q + PKT_IP6_LEN);
	return ref_quoted_proto(r, q[6]);
}

static inline int ref_ipv4(struct ref *r, const __u8 *p, size_t n)
{
	size_t hlen, tot;

	r->family = 4;
	if (n < PKT_IP4_LEN)
		return REF(r, REF_MALFORMED, "IPv4 header beyond the frame");
	if ((p[0] >> 4) != 4)
		return REF(r, REF_MALFORMED, "IPv4 ethertype, other version");
	if ((p[0] & 0xf) < FZ_IHL_MIN)
		return REF(r, REF_MALFORMED, "IPv4 IHL below 5");
	hlen = (p[0] & 0xf) * 4;
	tot = get16(p + 2);
	if (hlen > n)
		return REF(r, REF_MALFORMED, "IPv4 IHL beyond the frame");
	if (tot < hlen)
		return REF(r, REF_MALFORMED, "IPv4 tot_len below IHL");
	if (tot > n)
		return REF(r, REF_MALFORMED, "IPv4 tot_len beyond the frame");
	r->key.family = 4;
	memcpy(r->key.src, p + 12, 4);
	memcpy(r->key.dst, p + 16, 4);
	if (get16(p + 6) & (FZ_IP_MF | FZ_IP_OFFSET))
		return REF(r, REF_LENIENT, "IPv4 fragment");
	r->ip_len = tot;
	r->df = !!(get16(p + 6) & PKT_DF);
	if (p[9] == IPPROTO_ICMP)
		return ref_icmp4(r, p + hlen, tot - hlen);
	return ref_l4(r, p + hlen, tot - hlen, p[9]);
}

static inline int ref_ipv6(struct ref *r, const __u8 *p, size_t n)
{
	size_t plen;

	r->family = 6;
	if (n < PKT_IP6_LEN)
		return REF(r, REF_MALFORMED, "IPv6 header beyond the frame");
	if ((p[0] >> 4) != 6)
		return REF(r, REF_MALFORMED, "IPv6 ethertype, other version");
	plen = get16(p + 4);
	if (PKT_IP6_LEN + plen > n)
		return REF(r, REF_MALFORMED, "IPv6 payload_len beyond the frame");
	r->ip_len = PKT_IP6_LEN + plen;
	r->key.family = 6;
	memcpy(r->key.src, p + 8, 16);
	memcpy(r->key.dst, p + 24, 16);
	if (p[6] == IPPROTO_ICMPV6)
		return ref_icmp6(r, p + PKT_IP6_LEN, plen);
	return ref_l4(r, p + PKT_IP6_LEN, plen, p[6]);
}

static inline const struct ref_vip *ref_vip_find(const struct xlb_flow_key *k, __be16 port)
{
	for (int i = 0; i < ref_nvips; i++) {
		const struct xlb_vip_key *v = &ref_vips[i].key;

		if (v->family == k->family && v->proto == k->proto && v->port == port &&
		    !memcmp(v->addr, k->dst, sizeof(v->addr)))
			return &ref_vips[i];
	}
	return NULL;
}

/* The destination is the address of a VIP (with all of @flags, if not 0). */
static inline int ref_is_vip_addr(const struct xlb_flow_key *k, __u32 flags)
{
	for (int i = 0; i < ref_nvips; i++)
		if (k->family && ref_vips[i].key.family == k->family &&
		    (ref_vips[i].vip.flags & flags) == flags &&
		    !memcmp(ref_vips[i].key.addr, k->dst, sizeof(k->dst)))
			return 1;
	return 0;
}

/* The destination is a SNAT address, its port in the SNAT range. */
static inline int ref_is_snat_dst(const struct xlb_flow_key *k)
{
	__u16 port = ntohs(k->dport);

	if (port < ref_snat.lo || port > ref_snat.hi)
		return 0;
	for (int i = 0; k->family == 4 && i < ref_snat.n4; i++)
		if (ref_snat.addr4[i] == k->dst[0])
			return 1;
	for (int i = 0; k->family == 6 && i < ref_snat.n6; i++)
		if (!memcmp(ref_snat.addr6[i], k->dst, sizeof(k->dst)))
			return 1;
	return 0;
}

/* A packet for no VIP: a NAT answer, if it is addressed to a SNAT port. */
static inline int ref_answer(struct ref *r)
{
	if (!ref_is_snat_dst(&r->key))
		return REF(r, REF_OTHER, r->icmp_err ? "ICMP error about no VIP" : "not a VIP");
	r->flow = ref_nat_answer(&r->key);
	if (!r->flow)
		return REF(r, REF_OTHER, r->icmp_err ? "ICMP error to a SNAT port, no NAT flow" :
						       "to a SNAT port, no NAT flow");
	r->nat = REF_NAT_ANSWER;
	return REF(r, REF_OK, r->icmp_err ? "ICMP error about a NAT answer" : "NAT answer");
}

/* The exact (address, port, protocol) VIP, else the address's all-ports one. */
static inline const struct ref_vip *ref_vip_lookup(const struct xlb_flow_key *k)
{
	const struct ref_vip *v = ref_vip_find(k, k->dport);

	return v ? v : ref_vip_find(k, 0);
}

/*
 * A fragment or an extension header chain NAT cannot rewrite, but whose
 * VIP is plain to see: an IPv4 first fragment, or IPv6 with hop-by-hop,
 * destination options or a first fragment header before it, whose TCP/UDP
 * header is whole and for a NAT VIP (address, port, protocol). It must be
 * dropped as drop_nat_unsupported (NAT-SPEC). Returns the VIP or NULL.
 */
static inline const struct ref_vip *ref_nat_unsupp(const __u8 *f, size_t len,
						  const struct ref *r)
{
	const __u8 *p = f + r->l2, *h;
	size_t n = len - r->l2, plen, off;
	struct ref l4 = *r;
	__u8 nh;

	if (r->cls != REF_LENIENT || !r->nat_addr)
		return NULL;
	if (r->family == 4) {
		if (get16(p + 6) & FZ_IP_OFFSET)
			return NULL;
		off = (p[0] & 0xf) * 4;
		plen = get16(p + 2);
		nh = p[9];
	} else {
		plen = PKT_IP6_LEN + get16(p + 4);
		nh = p[6];
		for (off = PKT_IP6_LEN; nh == 0 || nh == 60 || nh == 44;) {
			h = p + off;
			if (off + 8 > plen)
				return NULL;
			if (nh == 44 && (get16(h + 2) >> 3))
				return NULL;	/* a later fragment */
			off += nh == 44 ? 8 : (size_t)(h[1] + 1) * 8;
			nh = h[0];
		}
	}
	if (plen > n || off > plen)
		return NULL;
	if (ref_l4(&l4, p + off, plen - off, nh) != REF_OK)
		return NULL;
	l4.vip = ref_vip_lookup(&l4.key);
	return l4.vip && (l4.vip->vip.flags & XLB_VIP_F_NAT) ? l4.vip : NULL;
}

static inline int ref_balancer(const __u8 *f, size_t len, struct ref *r)
{
	__u16 etype;

	memset(r, 0, sizeof(*r));
	if (ref_l2(f, len, &r->l2, &etype))
		return REF(r, REF_OTHER, "no Ethernet header");
	if (etype == PKT_ETH_P_IP)
		ref_ipv4(r, f + r->l2, len - r->l2);
	else if (etype == PKT_ETH_P_IPV6)
		ref_ipv6(r, f + r->l2, len - r->l2);
	else if (etype == PKT_ETH_P_8021Q || etype == FZ_ETH_P_8021AD)
		return REF(r, REF_OTHER, "second VLAN tag");
	else
		return REF(r, REF_OTHER, "not IP");
	/* The address the packet goes to (an error's: that of the packet it quotes, the same). */
	r->vip_addr = ref_is_vip_addr(&r->key, 0);
	r->nat_addr = ref_is_vip_addr(&r->key, XLB_VIP_F_NAT);
	if (r->cls != REF_OK)
		return r->cls;
	r->vip = ref_vip_lookup(&r->key);
	if (!r->vip)
		return ref_answer(r);
	if (!(r->vip->vip.flags & XLB_VIP_F_NAT))
		return REF_OK;
	r->nat = REF_NAT_FWD;
	if (r->icmp_err)
		return REF(r, REF_OK, "ICMP error about a NAT flow");
	return REF(r, REF_OK, r->key.proto == IPPROTO_TCP ? "NAT VIP TCP packet" :
							    "NAT VIP UDP packet");
}

static inline int ref_addr_in(const struct ref_addr *set, int n, int family, const __u8 *a)
{
	for (int i = 0; i < n; i++)
		if (set[i].family == family && !memcmp(set[i].addr, a, family == 4 ? 4 : 16))
			return 1;
	return 0;
}

/* The one's complement sum of @len bytes is all ones: a valid IPv4 header checksum. */
static inline int ref_csum_ok(const __u8 *p, size_t len)
{
	return pkt_fold(pkt_sum(p, len, 0)) == 0;
}

/* UDP to the GUE port, whose header is in the frame (@n bytes from @udp). */
static inline int ref_is_gue(const struct ref_decap_cfg *c, const __u8 *udp, size_t n)
{
	return n >= PKT_UDP_LEN && get16(udp + 2) == c->gue_port;
}

static inline int ref_outer4(const struct ref_decap_cfg *c, struct dref *d, const __u8 *p,
			     size_t n)
{
	size_t hlen, tot;

	if (n < PKT_IP4_LEN || (p[0] >> 4) != 4 || (p[0] & 0xf) < FZ_IHL_MIN)
		return REF(d, REF_OTHER, "no IPv4 header");
	if (p[9] != IPPROTO_IPIP && p[9] != IPPROTO_UDP)
		return REF(d, REF_OTHER, "IPv4, not a tunnel");
	if (get16(p + 6) & (FZ_IP_MF | FZ_IP_OFFSET))
		return REF(d, REF_OTHER, "outer IPv4 fragment");
	hlen = (p[0] & 0xf) * 4;
	if (p[9] == IPPROTO_UDP && (hlen > n || !ref_is_gue(c, p + hlen, n - hlen)))
		return REF(d, REF_OTHER, "IPv4 UDP, not GUE");
	if (!ref_addr_in(c->ours, c->nours, 4, p + 16))
		return REF(d, REF_OTHER, "tunnel to a foreign address");
	tot = get16(p + 2);
	if (hlen > n || tot > n)
		return REF(d, REF_MALFORMED, "outer IPv4 length beyond the frame");
	if (!ref_csum_ok(p, hlen))
		return REF(d, REF_MALFORMED, "outer IPv4 checksum invalid");
	if (!ref_addr_in(c->from, c->nfrom, 4, p + 12))
		return REF(d, REF_REFUSED, "outer source outside --from");
	if (tot < hlen)
		return REF(d, REF_MALFORMED, "outer IPv4 tot_len below IHL");
	d->ip_len = d->outer_len = hlen;
	d->payload = tot - hlen;
	d->inner_family = 4;
	d->gue = p[9] == IPPROTO_UDP;
	d->outer_ecn = p[1] & 0x3;
	return REF(d, REF_OK, "IPIP packet for us");
}

static inline int ref_outer6(const struct ref_decap_cfg *c, struct dref *d, const __u8 *p,
			     size_t n)
{
	size_t plen;

	if (n < PKT_IP6_LEN || (p[0] >> 4) != 6)
		return REF(d, REF_OTHER, "no IPv6 header");
	if (p[6] != IPPROTO_IPIP && p[6] != IPPROTO_IPV6 && p[6] != IPPROTO_UDP)
		return REF(d, REF_OTHER, "IPv6, not a tunnel");
	if (p[6] == IPPROTO_UDP && !ref_is_gue(c, p + PKT_IP6_LEN, n - PKT_IP6_LEN))
		return REF(d, REF_OTHER, "IPv6 UDP, not GUE");
	if (!ref_addr_in(c->ours, c->nours, 6, p + 24))
		return REF(d, REF_OTHER, "tunnel to a foreign address");
	plen = get16(p + 4);
	if (PKT_IP6_LEN + plen > n)
		return REF(d, REF_MALFORMED, "outer IPv6 payload_len beyond the frame");
	if (!ref_addr_in(c->from, c->nfrom, 6, p + 8))
		return REF(d, REF_REFUSED, "outer source outside --from");
	d->ip_len = d->outer_len = PKT_IP6_LEN;
	d->payload = plen;
	d->inner_family = p[6] == IPPROTO_IPIP ? 4 : 6;
	d->gue = p[6] == IPPROTO_UDP;
	d->outer_ecn = (get16(p) >> 4) & 0x3;
	return REF(d, REF_OK, "IPIP packet for us");
}

/* The hop list at @h of a GUE copy addressed to @daddr. */
static inline int ref_hops(struct dref *d, int family, const __u8 *h, const __u8 *daddr)
{
	size_t alen = family == 4 ? 4 : 16;

	if (get16(h) != XLB_GUE_HOPS_TYPE)
		return REF(d, REF_MALFORMED, "GUE hop list of another type");
	d->next = h[2];
	d->count = h[3];
	if (d->count < 1 || d->count > XLB_GUE_HOPS_MAX || d->next >= d->count)
		return REF(d, REF_MALFORMED, "GUE hop count/next out of range");
	for (int i = 0; i < XLB_GUE_HOPS_MAX; i++)
		d->hop[i] = h + 4 + i * alen;
	if (memcmp(d->hop[d->next], daddr, alen))
		return REF(d, REF_MALFORMED, "GUE hop[next] is not the outer destination");
	d->hops = 1;
	return REF_OK;
}

/* GUE after the outer header at @p, whose payload d->payload is in the frame. */
static inline int ref_gue(struct dref *d, int family, const __u8 *p)
{
	const __u8 *u = p + d->ip_len, *g = u + PKT_UDP_LEN;
	size_t over, hlen;

	if (d->payload < PKT_UDP_LEN + FZ_GUE_LEN || get16(u + 4) != d->payload)
		return REF(d, REF_MALFORMED, "UDP length is not the outer payload, or too short");
	if ((g[0] & FZ_GUE_VER_C) || get16(g + 2))
		return REF(d, REF_MALFORMED, "GUE version, control bit or flags set");
	if (g[1] != IPPROTO_IPIP && g[1] != IPPROTO_IPV6)
		return REF(d, REF_MALFORMED, "GUE inner protocol neither 4 nor 41");
	hlen = (g[0] & FZ_GUE_HLEN) * 4;
	if (hlen && (int)hlen != FZ_HOPS_LEN(family))
		return REF(d, REF_MALFORMED, "GUE private data is no hop list");
	over = PKT_UDP_LEN + FZ_GUE_LEN + hlen;
	if (over > d->payload)
		return REF(d, REF_MALFORMED, "GUE hop list beyond the UDP length");
	if (hlen && ref_hops(d, family, g + FZ_GUE_LEN, family == 4 ? p + 16 : p + 24))
		return d->cls;
	d->inner_family = g[1] == IPPROTO_IPIP ? 4 : 6;
	d->outer_len += over;
	d->payload -= over;
	return REF(d, REF_OK, d->hops ? "GUE packet with hops for us" : "GUE packet for us");
}

/* The inner header, of @n bytes the outer one says it carries. */
static inline int ref_inner(struct dref *d, const __u8 *q, size_t n)
{
	size_t hlen, tot;

	if (d->inner_family == 4) {
		if (n < PKT_IP4_LEN)
			return REF(d, REF_MALFORMED, "inner IPv4 header beyond the outer payload");
		if ((q[0] >> 4) != 4)
			return REF(d, REF_MALFORMED, "inner version is not the announced IPv4");
		hlen = (q[0] & 0xf) * 4;
		tot = get16(q + 2);
		if (hlen < FZ_IHL_MIN * 4)
			return REF(d, REF_MALFORMED, "inner IPv4 IHL below 5");
		if (hlen > n || tot < hlen)
			return REF(d, REF_MALFORMED, "inner IPv4 IHL beyond tot_len or payload");
		if (tot > n)
			return REF(d, REF_MALFORMED, "inner IPv4 tot_len beyond the outer payload");
		return REF_OK;
	}
	if (n < PKT_IP6_LEN)
		return REF(d, REF_MALFORMED, "inner IPv6 header beyond the outer payload");
	if ((q[0] >> 4) != 6)
		return REF(d, REF_MALFORMED, "inner version is not the announced IPv6");
	if ((size_t)PKT_IP6_LEN + get16(q + 4) > n)
		return REF(d, REF_MALFORMED, "inner IPv6 payload_len beyond the outer payload");
	return REF_OK;
}

static inline int ref_decap(const struct ref_decap_cfg *c, const __u8 *f, size_t len,
			    struct dref *d)
{
	const __u8 *p, *q;
	struct ref inner;
	__u16 etype;
	int family;

	memset(d, 0, sizeof(*d));
	if (ref_l2(f, len, &d->l2, &etype))
		return REF(d, REF_OTHER, "no Ethernet header");
	p = f + d->l2;
	if (etype == PKT_ETH_P_IP) {
		family = 4;
		ref_outer4(c, d, p, len - d->l2);
	} else if (etype == PKT_ETH_P_IPV6) {
		family = 6;
		ref_outer6(c, d, p, len - d->l2);
	} else {
		return REF(d, REF_OTHER, "not IP");
	}
	if (d->cls != REF_OK || (d->gue && ref_gue(d, family, p)))
		return d->cls;
	q = p + d->outer_len;
	if (ref_inner(d, q, d->payload))
		return d->cls;
	if (!ref_addr_in(c->local, c->nlocal, d->inner_family,
			 q + (d->inner_family == 4 ? 16 : 24)))
		return REF(d, REF_REFUSED, "inner destination not local");
	memset(&inner, 0, sizeof(inner));
	if (d->inner_family == 4)
		ref_ipv4(&inner, q, d->payload);
	else
		ref_ipv6(&inner, q, d->payload);
	d->inner_bad = inner.cls == REF_MALFORMED;
	return REF_OK;
}

#endif /* XLB_TEST_FUZZ_H */
