/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Addresses and VIPs as users write them and as the maps hold them: four
 * 32-bit words in network order, IPv4 in word 0. A VIP is ADDR:PORT/PROTO,
 * IPv6 as [ADDR]:PORT/PROTO, port 0 meaning every port of the address. A
 * backend is ADDR or ADDR:PORT (NAT VIPs may remap the port), IPv6 as
 * [ADDR]:PORT.
 */
#ifndef XLB_ADDR_H
#define XLB_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include "xlb_abi.h"

#define XLB_ADDR_STRLEN	48	/* an IPv6 address in text, with room */
#define XLB_VIP_STRLEN	64	/* [IPv6]:65535/tcp */

struct xlb_addr {
	__u32 a[4];
	__u8 family;		/* enum xlb_family */
};

/* A bare IPv4 or IPv6 address. false with a reason in @why on error. */
bool addr_parse(const char *s, struct xlb_addr *out, const char **why);
/*
 * A bare address or one with a port: ADDR4:PORT, [ADDR6]:PORT ([ADDR6] and
 * a bare IPv6 address have none). *port in host order, 0 if none given.
 */
bool addr_port_parse(const char *s, struct xlb_addr *out, __u16 *port, const char **why);
bool vip_parse(const char *s, struct xlb_vip_key *out, const char **why);

void addr_fmt(const __u32 a[4], __u8 family, char *buf, size_t len);
/* ADDR:PORT with brackets for IPv6; port in network order. */
void addr_port_fmt(const __u32 a[4], __u8 family, __be16 port, char *buf, size_t len);
/* A backend as users write it: ADDR, or ADDR:PORT when it has its own port. */
void backend_addr_fmt(const struct xlb_backend *be, char *buf, size_t len);
void vip_fmt(const struct xlb_vip_key *k, char *buf, size_t len);
const char *proto_name(__u8 proto);
bool addr_is_zero(const __u32 a[4]);

#endif
