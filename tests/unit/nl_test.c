// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the rtnetlink helpers (user/lib/nl.c) against the real kernel: a
 * veth pair whose peer lives in a namespace of its own (xlbnl-PID, deleted
 * at exit), addresses and routes set with `ip`, and neighbour entries read
 * back with `ip neigh show` so the check does not go through the code under
 * test. The test sends no traffic itself: a managed entry must get resolved
 * by the kernel alone.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "nl.h"
#include "xlb_abi.h"

#define DEV		"xnl0"
#define PEER		"xnl1"
#define DEV_MAC		"02:58:4c:00:00:01"
#define PEER_MAC	"02:58:4c:00:00:02"
#define PERM_MAC	"02:58:4c:00:00:03"
#define RESOLVE_MS	2000
#define POLL_MS		20

/* Record a failure and end the case. */
#define FAIL(...)				\
	do {					\
		t_fail(__VA_ARGS__);		\
		return;				\
	} while (0)

static char peer_ns[32];
static int dev_ifindex;

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	if (rc)
		fprintf(stderr, "nl_test: command failed (%d): %s\n", rc, cmd);
	return rc;
}

static void cleanup(void)
{
	if (system("ip link del " DEV " 2>/dev/null")) {
		/* Already gone with the peer namespace: nothing to do. */
	}
	if (peer_ns[0]) {
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", peer_ns);
		if (system(cmd))
			fprintf(stderr, "nl_test: could not delete namespace %s\n", peer_ns);
		peer_ns[0] = 0;
	}
}

static void on_signal(int sig)
{
	exit(128 + sig);
}

static int setup(void)
{
	snprintf(peer_ns, sizeof(peer_ns), "xlbnl-%d", (int)getpid());
	atexit(cleanup);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* DAD off on both ends: a tentative link-local address sends no NS. */
	if (sh("ip netns add %s", peer_ns) ||
	    sh("ip link add " DEV " address " DEV_MAC " type veth peer name " PEER
	       " address " PEER_MAC) ||
	    sh("ip link set " PEER " netns %s", peer_ns) ||
	    sh("sysctl -qw net.ipv6.conf." DEV ".accept_dad=0") ||
	    sh("nsenter --net=/run/netns/%s sysctl -qw net.ipv6.conf." PEER ".accept_dad=0", peer_ns) ||
	    sh("ip addr add 10.99.0.1/24 dev " DEV) ||
	    sh("ip addr add 10.99.1.1/24 dev " DEV) ||
	    sh("ip addr add 169.254.9.1/16 dev " DEV " scope link") ||
	    sh("ip addr add 10.99.5.5/32 dev " DEV " scope host") ||
	    sh("ip -6 addr add fd00:99::1/64 dev " DEV " nodad") ||
	    sh("ip link set " DEV " up") ||
	    sh("ip -n %s addr add 10.99.0.2/24 dev " PEER, peer_ns) ||
	    sh("ip -n %s -6 addr add fd00:99::2/64 dev " PEER " nodad", peer_ns) ||
	    sh("ip -n %s link set " PEER " up", peer_ns) ||
	    sh("ip -n %s link set lo up", peer_ns))
		return -1;
	dev_ifindex = if_nametoindex(DEV);
	return dev_ifindex ? 0 : -1;
}

static void addr_of(const char *s, __u8 *family, __u32 a[4])
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET, s, a) == 1) {
		*family = XLB_AF_INET;
	} else if (inet_pton(AF_INET6, s, a) == 1) {
		*family = XLB_AF_INET6;
	} else {
		fprintf(stderr, "nl_test: bad address %s\n", s);
		exit(2);
	}
}

static const char *addr_str(__u8 family, const __u32 *a)
{
	static char buf[4][INET6_ADDRSTRLEN];
	static int i;
	char *b = buf[i++ % 4];

	inet_ntop(family == XLB_AF_INET ? AF_INET : AF_INET6, a, b, INET6_ADDRSTRLEN);
	return b;
}

/* The `ip neigh show` line of @addr on DEV ("" when there is none). */
static void neigh_line(const char *addr, char *out, size_t size)
{
	char cmd[128];
	FILE *f;

	out[0] = 0;
	snprintf(cmd, sizeof(cmd), "ip neigh show to %s dev " DEV, addr);
	f = popen(cmd, "r");
	if (!f)
		return;
	if (!fgets(out, size, f))
		out[0] = 0;
	out[strcspn(out, "\n")] = 0;
	for (size_t n = strlen(out); n && out[n - 1] == ' '; n--)
		out[n - 1] = 0;
	pclose(f);
}

static int word(const char *line, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = line; (p = strstr(p, w)); p += n)
		if ((p == line || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return 1;
	return 0;
}

static int resolved(const char *line, const char *mac)
{
	char want[64];

	snprintf(want, sizeof(want), "lladdr %s ", mac);
	return strstr(line, want) && (word(line, "REACHABLE") || word(line, "STALE") ||
				      word(line, "DELAY") || word(line, "PROBE"));
}

/* Polls until @addr's entry is managed and resolved to @mac; 0 or -1 (t_fail). */
static int wait_managed(const char *addr, const char *mac)
{
	long long start = t_now_ms();
	char line[256];

	for (;;) {
		neigh_line(addr, line, sizeof(line));
		if (resolved(line, mac) && word(line, "managed"))
			return 0;
		if (t_now_ms() - start > RESOLVE_MS) {
			t_fail("%s: expected a managed entry resolved to %s within %d ms, got \"%s\"",
			       addr, mac, RESOLVE_MS, line);
			return -1;
		}
		usleep(POLL_MS * 1000);
	}
}

static void nl_iface_addrs_first_global(void)
{
	__u32 a4 = 0xdeadbeef, a6[4] = { 1, 2, 3, 4 }, w4[4], w6[4];
	__u8 f;

	addr_of("10.99.0.1", &f, w4);
	addr_of("fd00:99::1", &f, w6);
	EXPECT_EQ("nl_iface_addrs", 0, nl_iface_addrs(dev_ifindex, &a4, a6));
	if (a4 != w4[0])
		FAIL("ipv4: expected 10.99.0.1, got %s", addr_str(XLB_AF_INET, &a4));
	if (memcmp(a6, w6, 16))
		FAIL("ipv6: expected fd00:99::1, got %s", addr_str(XLB_AF_INET6, a6));
}

static void nl_iface_addrs_none(void)
{
	__u32 a4 = 1, a6[4] = { 1 };

	/* lo holds host-scope addresses only. */
	EXPECT_EQ("lo", -ENOENT, nl_iface_addrs(if_nametoindex("lo"), &a4, a6));
	EXPECT_EQ("no such ifindex", -ENODEV, nl_iface_addrs(0x7ffffff0, &a4, a6));
}

static void nl_iface_all_addrs_scopes(void)
{
	static const char *want[] = { "10.99.0.1", "10.99.1.1", "169.254.9.1", "fd00:99::1" };
	__u32 addrs[8][4];
	__u8 fams[8];
	int n = nl_iface_all_addrs(dev_ifindex, addrs, fams, 8);

	if (n != 4) {
		char got[256] = "";

		for (int i = 0; i < n && i < 8; i++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got), " %s",
				 addr_str(fams[i], addrs[i]));
		FAIL("expected 4 addresses (no host scope, no fe80::), got %d:%s", n, got);
	}
	for (size_t w = 0; w < 4; w++) {
		__u32 a[4];
		__u8 f;
		int found = 0;

		addr_of(want[w], &f, a);
		for (int i = 0; i < n; i++)
			found |= fams[i] == f && !memcmp(addrs[i], a, 16);
		if (!found)
			FAIL("expected %s among the addresses, not found", want[w]);
	}
	EXPECT_EQ("max 2", 2, nl_iface_all_addrs(dev_ifindex, addrs, fams, 2));
}

/* ensure on an on-link neighbour: managed, resolved with no traffic, idempotent. */
static void check_ensure_onlink(const char *addr)
{
	__u32 a[4];
	__u8 f;
	int oif = -1;

	addr_of(addr, &f, a);
	EXPECT_EQ("nl_neigh_ensure", 0, nl_neigh_ensure(f, a, &oif));
	EXPECT_EQ("oif", dev_ifindex, oif);
	if (wait_managed(addr, PEER_MAC))
		return;
	EXPECT_EQ("nl_neigh_ensure again", 0, nl_neigh_ensure(f, a, NULL));
	wait_managed(addr, PEER_MAC);
}

static void nl_neigh_ensure_ipv4_resolves(void)
{
	check_ensure_onlink("10.99.0.2");
}

static void nl_neigh_ensure_ipv6_resolves(void)
{
	check_ensure_onlink("fd00:99::2");
}

/*
 * An entry xlb did not make (permanent, or ordinary in state @nud) is
 * neither changed by ensure nor removed by release; `ip neigh` shows it as
 * @shown before and after.
 */
static void check_entry_kept(const char *addr, const char *nud, const char *shown)
{
	char line[256], want[128];
	__u32 a[4];
	__u8 f;

	addr_of(addr, &f, a);
	if (sh("ip neigh replace %s lladdr " PERM_MAC " dev " DEV " nud %s", addr, nud))
		FAIL("could not add the %s entry", nud);
	snprintf(want, sizeof(want), "%s lladdr " PERM_MAC " %s", addr, shown);
	EXPECT_EQ("nl_neigh_ensure", 0, nl_neigh_ensure(f, a, NULL));
	neigh_line(addr, line, sizeof(line));
	if (strcmp(line, want))
		FAIL("after ensure: expected \"%s\", got \"%s\"", want, line);
	EXPECT_EQ("nl_neigh_release", 0, nl_neigh_release(f, a));
	neigh_line(addr, line, sizeof(line));
	if (strcmp(line, want))
		FAIL("after release: expected \"%s\", got \"%s\"", want, line);
	sh("ip neigh del %s dev " DEV, addr);
}

static void nl_neigh_permanent_untouched_ipv4(void)
{
	check_entry_kept("10.99.0.3", "permanent", "PERMANENT");
}

static void nl_neigh_permanent_untouched_ipv6(void)
{
	check_entry_kept("fd00:99::3", "permanent", "PERMANENT");
}

/* An ordinary (non-managed) entry is left alone too. */
static void nl_neigh_ordinary_untouched(void)
{
	check_entry_kept("10.99.0.4", "stale", "STALE");
}

static void check_release_managed(const char *addr)
{
	char line[256];
	__u32 a[4];
	__u8 f;

	addr_of(addr, &f, a);
	EXPECT_EQ("nl_neigh_ensure", 0, nl_neigh_ensure(f, a, NULL));
	if (wait_managed(addr, PEER_MAC))
		return;
	EXPECT_EQ("nl_neigh_release", 0, nl_neigh_release(f, a));
	neigh_line(addr, line, sizeof(line));
	if (line[0])
		FAIL("after release: expected no entry, got \"%s\"", line);
	EXPECT_EQ("nl_neigh_release of a missing entry", 0, nl_neigh_release(f, a));
}

static void nl_neigh_release_managed_ipv4(void)
{
	check_release_managed("10.99.0.2");
}

static void nl_neigh_release_managed_ipv6(void)
{
	check_release_managed("fd00:99::2");
}

/* Behind a gateway the managed entry is the gateway's, not the destination's. */
static void check_gateway(const char *prefix, const char *gw, const char *dst)
{
	char line[256];
	__u32 a[4];
	__u8 f;
	int oif = -1;

	addr_of(dst, &f, a);
	if (sh("ip route replace %s via %s dev " DEV, prefix, gw))
		FAIL("could not add route %s via %s", prefix, gw);
	nl_neigh_release(f, a);		/* start from no gateway entry */
	neigh_line(gw, line, sizeof(line));
	if (line[0])
		FAIL("before: expected no entry for %s, got \"%s\"", gw, line);
	EXPECT_EQ("nl_neigh_ensure", 0, nl_neigh_ensure(f, a, &oif));
	EXPECT_EQ("oif", dev_ifindex, oif);
	if (wait_managed(gw, PEER_MAC))
		return;
	neigh_line(dst, line, sizeof(line));
	if (line[0])
		FAIL("expected no entry for the destination %s, got \"%s\"", dst, line);
	EXPECT_EQ("nl_neigh_release", 0, nl_neigh_release(f, a));
	neigh_line(gw, line, sizeof(line));
	if (line[0])
		FAIL("after release: expected no entry for %s, got \"%s\"", gw, line);
	sh("ip route del %s", prefix);
}

static void nl_neigh_ensure_gateway_ipv4(void)
{
	check_gateway("198.51.100.0/24", "10.99.0.2", "198.51.100.7");
}

static void nl_neigh_ensure_gateway_ipv6(void)
{
	check_gateway("fd00:aa::/64", "fd00:99::2", "fd00:aa::7");
}

static void nl_neigh_ensure_no_route(void)
{
	__u32 a[4];
	__u8 f;
	int oif = -1;
	int err;

	/* The namespace has no default route. */
	addr_of("203.0.113.1", &f, a);
	err = nl_neigh_ensure(f, a, &oif);
	if (err != -ENETUNREACH)
		FAIL("ipv4: expected %d (ENETUNREACH), got %d (%s)", -ENETUNREACH, err,
			      strerror(-err));
	addr_of("2001:db8::1", &f, a);
	err = nl_neigh_ensure(f, a, &oif);
	if (err != -ENETUNREACH)
		FAIL("ipv6: expected %d (ENETUNREACH), got %d (%s)", -ENETUNREACH, err,
			      strerror(-err));
	EXPECT_EQ("oif untouched", -1, oif);
	EXPECT_EQ("bad family", -EAFNOSUPPORT, nl_neigh_ensure(5, a, NULL));
}

static const struct t_case cases[] = {
	T_CASE(nl_iface_addrs_first_global),
	T_CASE(nl_iface_addrs_none),
	T_CASE(nl_iface_all_addrs_scopes),
	T_CASE(nl_neigh_ensure_ipv4_resolves),
	T_CASE(nl_neigh_ensure_ipv6_resolves),
	T_CASE(nl_neigh_permanent_untouched_ipv4),
	T_CASE(nl_neigh_permanent_untouched_ipv6),
	T_CASE(nl_neigh_ordinary_untouched),
	T_CASE(nl_neigh_release_managed_ipv4),
	T_CASE(nl_neigh_release_managed_ipv6),
	T_CASE(nl_neigh_ensure_gateway_ipv4),
	T_CASE(nl_neigh_ensure_gateway_ipv6),
	T_CASE(nl_neigh_ensure_no_route),
};

int main(int argc, char **argv)
{
	if (setup()) {
		printf("FAIL nl_setup: expected the veth pair and peer namespace, got a command failure\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
