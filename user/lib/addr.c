// SPDX-License-Identifier: GPL-2.0
/* Parsing and printing of addresses and VIPs (see addr.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "util.h"

bool addr_parse(const char *s, struct xlb_addr *out, const char **why)
{
	memset(out, 0, sizeof(*out));
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, out->a) != 1) {
			*why = "not an IPv6 address";
			return false;
		}
		out->family = XLB_AF_INET6;
	} else {
		if (inet_pton(AF_INET, s, out->a) != 1) {
			*why = "not an IP address";
			return false;
		}
		out->family = XLB_AF_INET;
	}
	if (addr_is_zero(out->a)) {
		*why = "unspecified address";
		return false;
	}
	return true;
}

/*
 * A backend: ADDR, ADDR4:PORT, [ADDR6]:PORT or [ADDR6]. A bare IPv6 address
 * has no port (its colons are the address's).
 */
bool addr_port_parse(const char *s, struct xlb_addr *out, __u16 *port, const char **why)
{
	char buf[XLB_ADDR_STRLEN + 16], *host = buf, *p = NULL, *end;
	__u32 v = 0;

	*port = 0;
	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(buf)) {
		*why = "too long";
		return false;
	}
	strcpy(buf, s);
	if (buf[0] == '[') {
		host = buf + 1;
		end = strchr(host, ']');
		if (!end || (end[1] && end[1] != ':')) {
			*why = "IPv6 with a port must be [ADDR]:PORT";
			return false;
		}
		*end = 0;
		if (end[1])
			p = end + 2;
		if (!strchr(host, ':')) {
			*why = "brackets are for IPv6 addresses";
			return false;
		}
	} else if ((end = strchr(buf, ':')) && !strchr(end + 1, ':')) {
		*end = 0;		/* one colon: IPv4:PORT */
		p = end + 1;
	}
	if (p && !parse_u32(p, 1, 65535, &v)) {
		*why = "port must be 1 to 65535";
		return false;
	}
	if (!addr_parse(host, out, why))
		return false;
	if (p)
		*port = v;
	return true;
}

bool vip_parse(const char *s, struct xlb_vip_key *out, const char **why)
{
	char buf[XLB_VIP_STRLEN + 16], *host, *port, *proto, *end;
	struct xlb_addr a;
	__u32 p;

	memset(out, 0, sizeof(*out));
	if (strlen(s) >= sizeof(buf)) {
		*why = "too long";
		return false;
	}
	strcpy(buf, s);
	proto = strrchr(buf, '/');
	if (!proto) {
		*why = "missing /PROTO (tcp or udp)";
		return false;
	}
	*proto++ = 0;
	if (!strcmp(proto, "tcp")) {
		out->proto = IPPROTO_TCP;
	} else if (!strcmp(proto, "udp")) {
		out->proto = IPPROTO_UDP;
	} else {
		*why = "protocol must be tcp or udp";
		return false;
	}
	if (buf[0] == '[') {
		host = buf + 1;
		end = strchr(host, ']');
		if (!end || end[1] != ':') {
			*why = "IPv6 VIP must be [ADDR]:PORT/PROTO";
			return false;
		}
		*end = 0;
		port = end + 2;
		if (!strchr(host, ':')) {
			*why = "brackets are for IPv6 addresses";
			return false;
		}
	} else {
		host = buf;
		port = strrchr(buf, ':');
		if (!port) {
			*why = "missing :PORT";
			return false;
		}
		*port++ = 0;
		if (strchr(host, ':')) {
			*why = "IPv6 VIP must be [ADDR]:PORT/PROTO";
			return false;
		}
	}
	if (!parse_u32(port, 0, 65535, &p)) {
		*why = "port out of range";
		return false;
	}
	if (!addr_parse(host, &a, why))
		return false;
	memcpy(out->addr, a.a, sizeof(out->addr));
	out->family = a.family;
	out->port = htons(p);
	return true;
}

bool addr_is_zero(const __u32 a[4])
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

void addr_fmt(const __u32 a[4], __u8 family, char *buf, size_t len)
{
	if (!inet_ntop(family == XLB_AF_INET6 ? AF_INET6 : AF_INET, a, buf, len))
		snprintf(buf, len, "?");
}

void addr_port_fmt(const __u32 a[4], __u8 family, __be16 port, char *buf, size_t len)
{
	char host[XLB_ADDR_STRLEN];

	addr_fmt(a, family, host, sizeof(host));
	if (family == XLB_AF_INET6)
		snprintf(buf, len, "[%s]:%u", host, ntohs(port));
	else
		snprintf(buf, len, "%s:%u", host, ntohs(port));
}

void backend_addr_fmt(const struct xlb_backend *be, char *buf, size_t len)
{
	if (be->port)
		addr_port_fmt(be->addr, be->family, be->port, buf, len);
	else
		addr_fmt(be->addr, be->family, buf, len);
}

const char *proto_name(__u8 proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : "?";
}

void vip_fmt(const struct xlb_vip_key *k, char *buf, size_t len)
{
	char hp[XLB_VIP_STRLEN];

	addr_port_fmt(k->addr, k->family, k->port, hp, sizeof(hp));
	snprintf(buf, len, "%s/%s", hp, proto_name(k->proto));
}
