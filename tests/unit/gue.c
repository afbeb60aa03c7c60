// SPDX-License-Identifier: GPL-2.0
/* GUE frames and namespace chores for the decap packet tests (see gue.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "gue.h"
#include "pkt.h"
#include "check.h"

#define GTEST_TTL		64
#define GTEST_GUE_LEN		4
#define GTEST_IPPROTO_IPV6	41

size_t gtest_udp_off(int family)
{
	return family == 4 ? PKT_IP4_LEN : PKT_IP6_LEN;
}

size_t gtest_gue_off(int family)
{
	return gtest_udp_off(family) + PKT_UDP_LEN;
}

size_t gtest_hops_off(int family)
{
	return gtest_gue_off(family) + GTEST_GUE_LEN;
}

void gtest_ip4_fix(__u8 *ip)
{
	put16(ip + 10, 0);
	put16(ip + 10, pkt_fold(pkt_sum(ip, PKT_IP4_LEN, 0)));
}

/* @str at @p, 4 or 16 bytes (pkt_addr writes 16 whatever the family). */
static void addr_put(int family, const char *str, __u8 *p)
{
	__u32 a[4];

	pkt_addr(family, str, a);
	memcpy(p, a, family == 4 ? 4 : 16);
}

/* The hop list at @p; returns its length (0 without one). */
static size_t hops_write(int family, const struct gtest_hops *h, __u8 *p)
{
	size_t alen = family == 4 ? 4 : 16;
	size_t len = 4 + XLB_GUE_HOPS_MAX * alen;

	if (!h || !h->count)
		return 0;
	memset(p, 0, len);
	put16(p, XLB_GUE_HOPS_TYPE);
	p[2] = h->next;
	p[3] = h->count;
	for (int i = 0; i < XLB_GUE_HOPS_MAX; i++)
		if (h->hop[i])
			addr_put(family, h->hop[i], p + 4 + i * alen);
	return len;
}

size_t gtest_gue(int family, const char *src, const char *dst, __u8 tos, __u16 dport,
		 const struct gtest_hops *h, const void *inner, size_t n, __u8 *out)
{
	size_t ip_len = gtest_udp_off(family), hl;
	__u8 *udp = out + ip_len, *gue = udp + PKT_UDP_LEN;
	size_t ulen;

	hl = hops_write(family, h, gue + GTEST_GUE_LEN);
	ulen = PKT_UDP_LEN + GTEST_GUE_LEN + hl + n;
	gue[0] = hl / 4;
	gue[1] = (((const __u8 *)inner)[0] >> 4) == 4 ? IPPROTO_IPIP : GTEST_IPPROTO_IPV6;
	put16(gue + 2, 0);
	memcpy(gue + GTEST_GUE_LEN + hl, inner, n);
	put16(udp, GTEST_SPORT);
	put16(udp + 2, dport);
	put16(udp + 4, ulen);
	put16(udp + 6, 0);
	memset(out, 0, ip_len);
	if (family == 4) {
		out[0] = 4 << 4 | PKT_IP4_LEN / 4;
		out[1] = tos;
		put16(out + 2, ip_len + ulen);
		put16(out + 6, PKT_DF);
		out[8] = GTEST_TTL;
		out[9] = IPPROTO_UDP;
		addr_put(4, src, out + 12);
		addr_put(4, dst, out + 16);
		gtest_ip4_fix(out);
	} else {
		__u16 ck;

		put32(out, 6u << 28 | (__u32)tos << 20);
		put16(out + 4, ulen);
		out[6] = IPPROTO_UDP;
		out[7] = GTEST_TTL;
		addr_put(6, src, out + 8);
		addr_put(6, dst, out + 24);
		ck = pkt_fold(pkt_sum(udp, ulen,
				      pkt_pseudo6(out + 8, out + 24, ulen, IPPROTO_UDP)));
		put16(udp + 6, ck ? ck : 0xffff);
	}
	return ip_len + ulen;
}

int gtest_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0) {
		t_fail("command failed: %s", cmd);
		return -1;
	}
	return 0;
}

int gtest_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(val, f) < 0 || fclose(f)) {
		t_fail("cannot write %s", path);
		return -1;
	}
	return 0;
}

static socklen_t sockaddr_of(int family, const char *addr, __u16 port,
			     struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (family == 4) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s4->sin_addr);
		return sizeof(*s4);
	}
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(port);
	inet_pton(AF_INET6, addr, &s6->sin6_addr);
	return sizeof(*s6);
}

void gtest_close(int fds[3])
{
	for (int i = 0; i < 3; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int gtest_tcp(int family, const char *vip, __u16 port, const char *client, __u16 cport,
	      int fds[3])
{
	int af = family == 4 ? AF_INET : AF_INET6, one = 1;
	struct sockaddr_storage ss;
	socklen_t len;

	fds[0] = fds[1] = fds[2] = -1;
	fds[0] = socket(af, SOCK_STREAM, 0);
	len = sockaddr_of(family, vip, port, &ss);
	if (fds[0] < 0 || setsockopt(fds[0], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fds[0], (struct sockaddr *)&ss, len) || listen(fds[0], 4))
		goto fail;
	if (!cport)
		return 0;
	fds[1] = socket(af, SOCK_STREAM, 0);
	len = sockaddr_of(family, client, cport, &ss);
	if (fds[1] < 0 || setsockopt(fds[1], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fds[1], (struct sockaddr *)&ss, len))
		goto fail;
	len = sockaddr_of(family, vip, port, &ss);
	if (connect(fds[1], (struct sockaddr *)&ss, len))
		goto fail;
	fds[2] = accept(fds[0], NULL, NULL);
	if (fds[2] < 0)
		goto fail;
	return 0;
fail:
	t_fail("TCP %s:%u <- %s:%u: %s", vip, port, client ? client : "-", cport,
	       strerror(errno));
	gtest_close(fds);
	return -1;
}

int gtest_key_set(int fd, int family, const char *addr, int add)
{
	struct xlb_decap_key k = { .family = family };
	__u8 one = 1;

	pkt_addr(family, addr, k.addr);
	if (add ? bpf_map_update_elem(fd, &k, &one, BPF_ANY) : bpf_map_delete_elem(fd, &k)) {
		t_fail("decap key %s: %s", addr, strerror(errno));
		return -1;
	}
	return 0;
}

int gtest_from_add(int fd4, int fd6, const char *prefix)
{
	char buf[64], *slash;
	int family, err;
	__u32 a[4];
	__u8 one = 1;

	snprintf(buf, sizeof(buf), "%s", prefix);
	slash = strchr(buf, '/');
	if (!slash) {
		t_fail("prefix %s has no length", prefix);
		return -1;
	}
	*slash = 0;
	family = strchr(buf, ':') ? 6 : 4;
	pkt_addr(family, buf, a);
	if (family == 4) {
		struct xlb_lpm4_key k = { .prefixlen = atoi(slash + 1), .addr = a[0] };

		err = bpf_map_update_elem(fd4, &k, &one, BPF_ANY);
	} else {
		struct xlb_lpm6_key k = { .prefixlen = atoi(slash + 1) };

		memcpy(k.addr, a, sizeof(k.addr));
		err = bpf_map_update_elem(fd6, &k, &one, BPF_ANY);
	}
	if (err) {
		t_fail("decap_from %s: %s", prefix, strerror(errno));
		return -1;
	}
	return 0;
}
