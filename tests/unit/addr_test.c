// SPDX-License-Identifier: GPL-2.0
/*
 * Backend addresses as users write them (user/lib/addr.c): ADDR, ADDR4:PORT,
 * [ADDR6]:PORT, where a bare IPv6 address never has a port (its colons are
 * the address's), and every malformed form is refused with a reason. What
 * backend_addr_fmt() prints (list, save) parses back to the same backend:
 * save and restore depend on it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "check.h"

struct good {
	const char *in;
	__u8 family;
	const char *addr;	/* as addr_fmt() prints it */
	__u16 port;
};

static const struct good goods[] = {
	{ "10.0.0.1", XLB_AF_INET, "10.0.0.1", 0 },
	{ "10.0.0.1:8080", XLB_AF_INET, "10.0.0.1", 8080 },
	{ "10.0.0.1:1", XLB_AF_INET, "10.0.0.1", 1 },
	{ "10.0.0.1:65535", XLB_AF_INET, "10.0.0.1", 65535 },
	{ "fd00::1", XLB_AF_INET6, "fd00::1", 0 },
	{ "fd00::1:80", XLB_AF_INET6, "fd00::1:80", 0 },	/* bare: all address */
	{ "[fd00::1]", XLB_AF_INET6, "fd00::1", 0 },
	{ "[fd00::1]:8443", XLB_AF_INET6, "fd00::1", 8443 },
	{ "[::ffff:10.0.0.1]:80", XLB_AF_INET6, "::ffff:10.0.0.1", 80 },
};

static const char *const bads[] = {
	"", ":80", "10.0.0.1:", "10.0.0.1:0", "10.0.0.1:65536", "10.0.0.1:-1", "10.0.0.1:+80",
	"10.0.0.1:8x", "10.0.0.1: 80", "10.0.0.999:80", "10.0.0:80", "0.0.0.0:80", "[10.0.0.1]:80",
	"[fd00::1", "[fd00::1]8080", "[fd00::1]:", "[fd00::1]:0", "[fd00::1]:99999", "[]:80",
	"[::]:80", "::", "[fd00::1]:80:81", "host.example:80",
	"[fd00:0000:0000:0000:0000:0000:0000:0001%eth0-and-a-zone-name-that-is-long]:80",
};

static void test_addr_port_parse_accepts(void)
{
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		const struct good *g = &goods[i];
		char got[XLB_ADDR_STRLEN], what[96];
		const char *why = NULL;
		struct xlb_addr a;
		__u16 port = 1234;

		snprintf(what, sizeof(what), "addr_port_parse(\"%s\")", g->in);
		if (!addr_port_parse(g->in, &a, &port, &why)) {
			t_fail("%s: refused: %s", what, why);
			return;
		}
		addr_fmt(a.a, a.family, got, sizeof(got));
		if (strcmp(got, g->addr)) {
			t_fail("%s: address: expected %s, got %s", what, g->addr, got);
			return;
		}
		EXPECT_EQ(what, g->family, a.family);
		EXPECT_EQ(what, g->port, port);
	}
}

static void test_addr_port_parse_refuses_with_reason(void)
{
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		const char *why = NULL;
		struct xlb_addr a;
		__u16 port = 1234;

		if (addr_port_parse(bads[i], &a, &port, &why)) {
			t_fail("addr_port_parse(\"%s\"): accepted (port %u)", bads[i], port);
			return;
		}
		if (!why || !why[0]) {
			t_fail("addr_port_parse(\"%s\"): refused without a reason", bads[i]);
			return;
		}
	}
	/* Control: the parser does accept some input at all. */
	{
		const char *why;
		struct xlb_addr a;
		__u16 port;

		EXPECT_TRUE("control 10.0.0.1:80", addr_port_parse("10.0.0.1:80", &a, &port, &why));
	}
}

/* Every backend list and save print parses back to itself (restore). */
static void test_backend_addr_fmt_round_trips(void)
{
	for (size_t i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		struct xlb_backend be = {}, back = {};
		char shown[XLB_VIP_STRLEN], what[96];
		const char *why = NULL;
		struct xlb_addr a;
		__u16 port;

		addr_port_parse(goods[i].in, &a, &port, &why);
		memcpy(be.addr, a.a, sizeof(be.addr));
		be.family = a.family;
		be.port = htons(port);
		backend_addr_fmt(&be, shown, sizeof(shown));
		snprintf(what, sizeof(what), "\"%s\" printed as \"%s\"", goods[i].in, shown);
		if (!addr_port_parse(shown, &a, &port, &why)) {
			t_fail("%s: refused: %s", what, why);
			return;
		}
		memcpy(back.addr, a.a, sizeof(back.addr));
		back.family = a.family;
		back.port = htons(port);
		EXPECT_TRUE(what, !memcmp(&be, &back, sizeof(be)));
		EXPECT_EQ(what, port != 0, strchr(shown, ']') || (be.family == XLB_AF_INET &&
								   strchr(shown, ':')));
	}
}

int main(int argc, char **argv)
{
	static const struct t_case cases[] = {
		T_CASE(test_addr_port_parse_accepts),
		T_CASE(test_addr_port_parse_refuses_with_reason),
		T_CASE(test_backend_addr_fmt_round_trips),
	};

	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
