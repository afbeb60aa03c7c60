// SPDX-License-Identifier: GPL-2.0
/* Packet builders for the packet-level tests (see pkt.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkt.h"

#define PKT_TTL_DEFAULT	64
#define PKT_IP4_IHL_MIN	5
#define PKT_TCP_DOFF	5
#define PKT_IPOPT_NOP	1
#define PKT_WINDOW	65535

void pkt_addr(int family, const char *str, __u32 addr[4])
{
	memset(addr, 0, 4 * sizeof(__u32));
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, str, addr) != 1) {
		fprintf(stderr, "pkt: bad address %s\n", str);
		exit(2);
	}
}

__u32 pkt_sum(const void *p, size_t len, __u32 sum)
{
	const __u8 *b = p;

	for (; len > 1; len -= 2, b += 2)
		sum += get16(b);
	if (len)
		sum += b[0] << 8;
	return sum;
}

__u16 pkt_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

__u32 pkt_pseudo6(const void *saddr, const void *daddr, __u32 len, __u8 nexthdr)
{
	__u32 sum = pkt_sum(saddr, 16, 0);

	sum = pkt_sum(daddr, 16, sum);
	sum += len >> 16;
	sum += len & 0xffff;
	sum += nexthdr;
	return sum;
}

/* The L4 part (header + payload) at @l4; returns its length. */
static size_t pkt_l4(const struct pkt_spec *s, __u8 *l4)
{
	size_t hlen = 0;

	switch (s->proto) {
	case IPPROTO_TCP:
		hlen = PKT_TCP_LEN;
		memset(l4, 0, hlen);
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, 1000);		/* seq */
		put32(l4 + 8, s->tcp_flags & PKT_ACK ? 2000 : 0);
		l4[12] = PKT_TCP_DOFF << 4;
		l4[13] = s->tcp_flags;
		put16(l4 + 14, PKT_WINDOW);
		break;
	case IPPROTO_UDP:
		hlen = PKT_UDP_LEN;
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, hlen + s->payload);
		put16(l4 + 6, 0);
		break;
	default:
		break;
	}
	for (int i = 0; i < s->payload; i++)
		l4[hlen + i] = (__u8)(i * 7 + 3);
	return hlen + s->payload;
}

size_t pkt_ip(const struct pkt_spec *s, __u8 *buf)
{
	__u8 ttl = s->ttl ? s->ttl : PKT_TTL_DEFAULT;
	size_t hlen, l4len;

	if (s->family == 4) {
		hlen = PKT_IP4_LEN + s->opt_len;
		memset(buf, 0, hlen);
		buf[0] = 4 << 4 | (hlen / 4);
		buf[1] = s->tos;
		put16(buf + 4, 0x1234);		/* id */
		put16(buf + 6, s->frag);
		buf[8] = ttl;
		buf[9] = s->proto;
		pkt_addr(4, s->src, (__u32 *)(buf + 12));
		pkt_addr(4, s->dst, (__u32 *)(buf + 16));
		/* NOPs, then an end-of-options byte: options the kernel would accept. */
		for (int i = 0; i < s->opt_len; i++)
			buf[PKT_IP4_LEN + i] = i == s->opt_len - 1 ? 0 : PKT_IPOPT_NOP;
		l4len = pkt_l4(s, buf + hlen);
		put16(buf + 2, hlen + l4len);
		put16(buf + 10, pkt_fold(pkt_sum(buf, hlen, 0)));
		if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP) {
			__u32 sum = pkt_sum(buf + 12, 8, 0) + s->proto + l4len;
			__u8 *ck = buf + hlen + (s->proto == IPPROTO_TCP ? 16 : 6);

			put16(ck, pkt_fold(pkt_sum(buf + hlen, l4len, sum)));
		}
		return hlen + l4len;
	}
	hlen = PKT_IP6_LEN;
	memset(buf, 0, hlen);
	put32(buf, 6u << 28 | (__u32)s->tos << 20 | (s->flow_label & 0xfffff));
	buf[6] = s->proto;
	buf[7] = ttl;
	pkt_addr(6, s->src, (__u32 *)(buf + 8));
	pkt_addr(6, s->dst, (__u32 *)(buf + 24));
	l4len = pkt_l4(s, buf + hlen);
	put16(buf + 4, l4len);
	if (s->proto == IPPROTO_TCP || s->proto == IPPROTO_UDP) {
		__u32 sum = pkt_pseudo6(buf + 8, buf + 24, l4len, s->proto);
		__u8 *ck = buf + hlen + (s->proto == IPPROTO_TCP ? 16 : 6);

		put16(ck, pkt_fold(pkt_sum(buf + hlen, l4len, sum)));
	}
	return hlen + l4len;
}

size_t pkt_frame(const struct pkt_l2 *l2, __u16 proto, const void *l3, size_t l3_len,
		 __u8 *out)
{
	size_t off = 12;

	memcpy(out, l2->dmac, 6);
	memcpy(out + 6, l2->smac, 6);
	if (l2->vlan) {
		put16(out + off, PKT_ETH_P_8021Q);
		put16(out + off + 2, l2->tci);
		off += PKT_VLAN_LEN;
	}
	put16(out + off, proto);
	off += 2;
	memcpy(out + off, l3, l3_len);
	return off + l3_len;
}

size_t pkt_outer4(const char *src, const char *dst, __u8 tos, __u8 ihl_opts,
		  const void *inner, size_t len, __u8 *out)
{
	size_t hlen = PKT_IP4_LEN + ihl_opts;

	memset(out, 0, hlen);
	out[0] = 4 << 4 | (hlen / 4);
	out[1] = tos;
	put16(out + 2, hlen + len);
	put16(out + 6, PKT_DF);
	out[8] = PKT_TTL_DEFAULT;
	out[9] = IPPROTO_IPIP;
	pkt_addr(4, src, (__u32 *)(out + 12));
	pkt_addr(4, dst, (__u32 *)(out + 16));
	for (int i = 0; i < ihl_opts; i++)
		out[PKT_IP4_LEN + i] = i == ihl_opts - 1 ? 0 : PKT_IPOPT_NOP;
	put16(out + 10, pkt_fold(pkt_sum(out, hlen, 0)));
	memcpy(out + hlen, inner, len);
	return hlen + len;
}

size_t pkt_outer6(const char *src, const char *dst, __u8 tclass, __u8 nexthdr,
		  const void *inner, size_t len, __u8 *out)
{
	memset(out, 0, PKT_IP6_LEN);
	put32(out, 6u << 28 | (__u32)tclass << 20);
	put16(out + 4, len);
	out[6] = nexthdr;
	out[7] = PKT_TTL_DEFAULT;
	pkt_addr(6, src, (__u32 *)(out + 8));
	pkt_addr(6, dst, (__u32 *)(out + 24));
	memcpy(out + PKT_IP6_LEN, inner, len);
	return PKT_IP6_LEN + len;
}

size_t pkt_icmp4_err(const char *src, const char *dst, __u8 type, __u8 code, __u16 mtu,
		     const void *quote, size_t qlen, __u8 *out)
{
	__u8 *icmp = out + PKT_IP4_LEN;
	size_t tot = PKT_IP4_LEN + PKT_ICMP_LEN + qlen;

	memset(out, 0, PKT_IP4_LEN + PKT_ICMP_LEN);
	out[0] = 4 << 4 | PKT_IP4_IHL_MIN;
	put16(out + 2, tot);
	out[8] = PKT_TTL_DEFAULT;
	out[9] = IPPROTO_ICMP;
	pkt_addr(4, src, (__u32 *)(out + 12));
	pkt_addr(4, dst, (__u32 *)(out + 16));
	put16(out + 10, pkt_fold(pkt_sum(out, PKT_IP4_LEN, 0)));
	icmp[0] = type;
	icmp[1] = code;
	put16(icmp + 6, mtu);
	memcpy(icmp + PKT_ICMP_LEN, quote, qlen);
	put16(icmp + 2, pkt_fold(pkt_sum(icmp, PKT_ICMP_LEN + qlen, 0)));
	return tot;
}

size_t pkt_icmp6_err(const char *src, const char *dst, __u8 type, __u8 code, __u32 mtu,
		     const void *quote, size_t qlen, __u8 *out)
{
	__u8 *icmp = out + PKT_IP6_LEN;
	size_t plen = PKT_ICMP_LEN + qlen;

	memset(out, 0, PKT_IP6_LEN + PKT_ICMP_LEN);
	put32(out, 6u << 28);
	put16(out + 4, plen);
	out[6] = IPPROTO_ICMPV6;
	out[7] = PKT_TTL_DEFAULT;
	pkt_addr(6, src, (__u32 *)(out + 8));
	pkt_addr(6, dst, (__u32 *)(out + 24));
	icmp[0] = type;
	icmp[1] = code;
	put32(icmp + 4, mtu);
	memcpy(icmp + PKT_ICMP_LEN, quote, qlen);
	put16(icmp + 2, pkt_fold(pkt_sum(icmp, plen,
					 pkt_pseudo6(out + 8, out + 24, plen, IPPROTO_ICMPV6))));
	return PKT_IP6_LEN + plen;
}
