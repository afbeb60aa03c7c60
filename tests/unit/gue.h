/* SPDX-License-Identifier: GPL-2.0 */
/*
 * GUE frames for the decap program's packet tests, written byte by byte
 * from the layout the comment above struct xlb_gue_hdr (xlb_abi.h) gives,
 * not from the BPF code under test: outer IPv4/IPv6, UDP to the GUE port
 * (checksum 0 over IPv4, valid over IPv6), the GUE header, an optional hop
 * list, the inner packet. A chained copy's expected bytes are built the same
 * way with the next destination, so comparing frames checks every field
 * and checksum the program rewrote. Plus the namespace chores those tests
 * need (addresses on lo, real TCP sockets for the socket lookup).
 * Everything here is named gtest_*: these files are linked into every unit
 * test program.
 */
#ifndef XLB_TEST_GUE_H
#define XLB_TEST_GUE_H

#include <stddef.h>
#include <linux/types.h>

#include "xlb_abi.h"

#define GTEST_SPORT	0xc001	/* outer UDP source port (the flow hash, for the balancer) */

/* The hop list of a GUE packet; count 0 means none (GUE hlen 0). */
struct gtest_hops {
	int count;
	int next;
	const char *hop[XLB_GUE_HOPS_MAX];
};

/*
 * Outer header of @family from @src to @dst, UDP to @dport, GUE and @h
 * around @inner[0..@n) (an IPv4 or IPv6 packet, by its version nibble).
 * Writes the L3 packet to @out; returns its length.
 */
size_t gtest_gue(int family, const char *src, const char *dst, __u8 tos, __u16 dport,
		 const struct gtest_hops *h, const void *inner, size_t n, __u8 *out);

/* Offsets in such an L3 packet: UDP header, GUE header, hop list. */
size_t gtest_udp_off(int family);
size_t gtest_gue_off(int family);
size_t gtest_hops_off(int family);

/* Recompute the IPv4 header checksum of @ip (option-less), after a test changed it. */
void gtest_ip4_fix(__u8 *ip);

/* Run a shell command; the case fails (t_fail) if it does. 0 on success. */
int gtest_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Write @val to the sysctl file @path; 0 on success, t_fail otherwise. */
int gtest_sysctl(const char *path, const char *val);

/*
 * A TCP listener on @vip:@port and, with @cport, a connection to it from
 * @client:@cport, accepted: fds[0] listener, fds[1] client, fds[2] accepted
 * (-1 when not made). 0 on success; -1 with t_fail. gtest_close() undoes it.
 */
int gtest_tcp(int family, const char *vip, __u16 port, const char *client, __u16 cport,
	      int fds[3]);
void gtest_close(int fds[3]);

/*
 * The decap program's maps as `xlb decap attach` fills them: @addr into a
 * hash of struct xlb_decap_key (decap_addrs, decap_local), or removed; a
 * prefix ("10.99.0.0/30", "fd00:99::2/128") into decap_from4/decap_from6.
 * 0, or -1 with t_fail.
 */
int gtest_key_set(int fd, int family, const char *addr, int add);
int gtest_from_add(int fd4, int fd6, const char *prefix);

#endif /* XLB_TEST_GUE_H */
