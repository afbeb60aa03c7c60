/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Packet builders for the packet-level tests. Everything is written byte
 * by byte from the RFC layouts, independently of the BPF code under test,
 * so a test's expected frame is never derived from what the program did.
 */
#ifndef XLB_TEST_PKT_H
#define XLB_TEST_PKT_H

#include <stddef.h>
#include <linux/types.h>

#define PKT_MAX		4096	/* frames and outputs; XDP test_run stays under a page */
#define PKT_ETH_LEN	14
#define PKT_VLAN_LEN	4
#define PKT_IP4_LEN	20
#define PKT_IP6_LEN	40
#define PKT_TCP_LEN	20
#define PKT_UDP_LEN	8
#define PKT_ICMP_LEN	8
#define PKT_ETH_P_IP	0x0800
#define PKT_ETH_P_IPV6	0x86dd
#define PKT_ETH_P_ARP	0x0806
#define PKT_ETH_P_8021Q	0x8100

/* TCP flags */
#define PKT_FIN		0x01
#define PKT_SYN		0x02
#define PKT_RST		0x04
#define PKT_ACK		0x10

/* IPv4 frag_off bits (host order) */
#define PKT_DF		0x4000
#define PKT_MF		0x2000

/* One IP packet (IPv4 or IPv6) with a TCP, UDP or opaque L4 part. */
struct pkt_spec {
	int family;		/* 4 or 6 */
	const char *src, *dst;	/* textual addresses */
	__u8 proto;		/* IPPROTO_*: TCP and UDP get real headers, others a payload */
	__u16 sport, dport;	/* host order */
	__u8 tcp_flags;
	__u8 tos;		/* DSCP + ECN (IPv4 tos, IPv6 traffic class) */
	__u16 frag;		/* IPv4 frag_off as host-order bits: PKT_DF, PKT_MF, offset */
	int opt_len;		/* IPv4 option bytes, a multiple of 4 up to 40 */
	int payload;		/* bytes after the L4 header (a fixed pattern) */
	__u32 flow_label;	/* IPv6 */
	__u8 ttl;		/* 0 means 64 */
};

/* The link header of a frame. */
struct pkt_l2 {
	const __u8 *dmac, *smac;
	int vlan;		/* add an 802.1Q tag */
	__u16 tci;		/* host order */
};

/* Write the IP packet of @s to @buf; returns its length. Checksums are valid. */
size_t pkt_ip(const struct pkt_spec *s, __u8 *buf);

/* Ethernet (+ tag) of @l2 and ethertype @proto, then @l3; returns the frame length. */
size_t pkt_frame(const struct pkt_l2 *l2, __u16 proto, const void *l3, size_t l3_len,
		 __u8 *out);

/* An IPv4 (protocol 4) or IPv6 (next header 4 or 41) header around @inner. */
size_t pkt_outer4(const char *src, const char *dst, __u8 tos, __u8 ihl_opts,
		  const void *inner, size_t len, __u8 *out);
size_t pkt_outer6(const char *src, const char *dst, __u8 tclass, __u8 nexthdr,
		  const void *inner, size_t len, __u8 *out);

/* An ICMP / ICMPv6 error from @src to @dst quoting @quote. */
size_t pkt_icmp4_err(const char *src, const char *dst, __u8 type, __u8 code, __u16 mtu,
		     const void *quote, size_t qlen, __u8 *out);
size_t pkt_icmp6_err(const char *src, const char *dst, __u8 type, __u8 code, __u32 mtu,
		     const void *quote, size_t qlen, __u8 *out);

/* Parse @str (IPv4 or IPv6) into four network-order words, as xlb_abi.h stores them. */
void pkt_addr(int family, const char *str, __u32 addr[4]);

/* RFC 1071 sum of @len bytes read as big-endian words, added to @sum, not folded. */
__u32 pkt_sum(const void *p, size_t len, __u32 sum);
/* Fold and complement: the checksum value (host order) to store big-endian. */
__u16 pkt_fold(__u32 sum);
/* The transport checksum's IPv6 pseudo-header sum. */
__u32 pkt_pseudo6(const void *saddr, const void *daddr, __u32 len, __u8 nexthdr);

/* Big-endian accessors. */
static inline __u16 get16(const __u8 *p) { return (__u16)(p[0] << 8 | p[1]); }
static inline __u32 get32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}
static inline void put16(__u8 *p, __u16 v) { p[0] = v >> 8; p[1] = v; }
static inline void put32(__u8 *p, __u32 v)
{
	p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}

#endif /* XLB_TEST_PKT_H */
