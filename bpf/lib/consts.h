/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Constants of the BPF data path that are not part of the user-space ABI
 * (those live in xlb_abi.h): protocol numbers, header sizes, the fixed hash
 * seeds, and the numbers RFCs fix for ICMP replies. Every program includes
 * this first, so no magic number needs to appear in the code itself.
 */
#ifndef XLB_CONSTS_H
#define XLB_CONSTS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xlb_abi.h"

/* A step of the packet path returns this to say "go on", or an enum xlb_reason. */
#define XLB_CONTINUE		(-1)

#define XLB_NSEC_PER_SEC	1000000000ULL

/* Address families as the kernel's bpf_fib_lookup wants them (AF_INET, AF_INET6). */
#define XLB_FIB_AF_INET		2
#define XLB_FIB_AF_INET6	10

/* IPv4 header fields. */
#define XLB_IPV4_IHL_MIN	5		/* 32-bit words in an option-less header */
#define XLB_IPV4_VERSION	4
#define XLB_IPV6_VERSION	6
#define XLB_IP_DF		0x4000		/* don't fragment */
#define XLB_IP_MF		0x2000		/* more fragments */
#define XLB_IP_OFFSET		0x1fff		/* fragment offset mask */
#define XLB_TCP_DOFF_MIN	5		/* 32-bit words in an option-less TCP header */

/* The outer header we add: fixed TTL, no options. */
#define XLB_OUTER_TTL		64
#define XLB_ENCAP4_LEN		((int)sizeof(struct iphdr))
#define XLB_ENCAP6_LEN		((int)sizeof(struct ipv6hdr))

/* IPv6 flow label: 20 bits; traffic class is split across the first two bytes. */
#define XLB_FLOW_LABEL_MASK	0xfffff
#define XLB_IPV6_TCLASS_SHIFT	20
#define XLB_IPV6_VERSION_SHIFT	28

/* The flow hash seeds, XLB_HASH_SEED and XLB_HASH_SEED2, are in xlb_abi.h. */

/*
 * The IPv4 ICMP header, as far as we use it. Not <linux/icmp.h>: it pulls in
 * glibc's socket headers, which do not build for the BPF target.
 */
struct xlb_icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 unused;
	__be16 mtu;		/* "fragmentation needed": next-hop MTU (RFC 1191) */
};

/* ICMP replies we generate. */
#define XLB_ICMP_TTL		64
#define XLB_ICMP_TOS		0xc0		/* IPTOS_PREC_INTERNETCONTROL, as Linux */
#define XLB_ICMP_FRAG_NEEDED_TYPE	3	/* destination unreachable ... */
#define XLB_ICMP_FRAG_NEEDED_CODE	4	/* ... fragmentation needed and DF set */
#define XLB_ICMP_DEST_UNREACH	3
#define XLB_ICMP_TIME_EXCEEDED	11
#define XLB_ICMP6_ERR_MIN	1		/* ICMPv6 errors: destination unreachable ... */
#define XLB_ICMP6_ERR_MAX	4		/* ... to parameter problem (RFC 4443) */
#define XLB_ICMP6_PKT_TOO_BIG	2
#define XLB_ICMP_HDR_LEN	8		/* ICMP and ICMPv6 headers alike */
#define XLB_ICMP_QUOTE_L4	8		/* bytes of the L4 header an error quotes */

/*
 * ICMPv6 errors quote as much of the packet as fits in the minimum IPv6 MTU
 * (RFC 4443 2.4(c)): 1280 - 40 - 8 bytes. A packet that was too big for a
 * route is always longer than that (an IPv6 route MTU is at least 1280), so
 * the quote has a constant size, which keeps the verifier and the checksum
 * simple. bpf_csum_diff takes at most 512 bytes a call: three calls.
 */
#define XLB_IPV6_MIN_MTU	1280
#define XLB_ICMP6_QUOTE_LEN	(XLB_IPV6_MIN_MTU - (int)sizeof(struct ipv6hdr) - XLB_ICMP_HDR_LEN)
#define XLB_CSUM_CHUNK		512
#define XLB_ICMP6_QUOTE_TAIL	(XLB_ICMP6_QUOTE_LEN - 2 * XLB_CSUM_CHUNK)

/* IPv4 errors quote the offending header (options included) and 8 bytes after it. */
#define XLB_IPV4_HDR_MAX	60
#define XLB_ICMP4_QUOTE_MAX	(XLB_IPV4_HDR_MAX + XLB_ICMP_QUOTE_L4)

#endif /* XLB_CONSTS_H */
