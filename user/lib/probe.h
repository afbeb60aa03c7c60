/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Health probes of backends, all run at once with non-blocking sockets on
 * one epoll set, so hundreds of targets take about one timeout and a slow or
 * hanging target never delays the others. The agent calls probe_run() once
 * per round with every backend due for a check.
 *
 * TCP: the connect succeeds -> ok, then the socket is closed.
 * HTTP: "GET PATH HTTP/1.0" with Host and "Connection: close"; only the
 * status line is read: 2xx/3xx -> ok, anything else (another status, not an
 * HTTP status line, reset, EOF or timeout before the status line) -> not ok.
 */
#ifndef XLB_PROBE_H
#define XLB_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PROBE_TIMEOUT_DEFAULT_MS 1000	/* used when a target's timeout_ms is 0 */
#define PROBE_STATUS_LINE_MAX	 256	/* longer status line: "bad response" */
#define PROBE_WHY_LEN		 64

enum probe_kind {
	PROBE_TCP,
	PROBE_HTTP,
};

/* Filled by the caller. */
struct probe_target {
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 (bpf/xlb_abi.h) */
	__u32 addr[4];		/* network order, IPv4 in word 0 */
	__u16 port;		/* host order */
	enum probe_kind kind;
	const char *path;	/* HTTP request path, starting with '/' (NULL: "/") */
	const char *host;	/* HTTP Host header (NULL: the address, and ":port" unless 80) */
	unsigned timeout_ms;	/* from the probe's start to its verdict (0: the default) */
	void *user;		/* the caller's cookie, untouched */
};

struct probe_result {
	bool ok;
	/*
	 * Microseconds from the probe's start to the connect (TCP) or to the
	 * complete status line (HTTP) when ok; to the failure otherwise.
	 */
	unsigned rt_us;
	/*
	 * Why not ok, for logs: "connect refused", "connect timeout", "timeout"
	 * (connected, no status line in time), "http 500", "bad response",
	 * "connection reset", "closed before status", "host unreachable",
	 * "bad target", "connect: <strerror>", ... Empty when ok.
	 */
	char why[PROBE_WHY_LEN];
};

/*
 * Runs every probe at once; returns when each has its verdict, so within
 * about the longest timeout. results[i] belongs to targets[i]. If the
 * process runs out of file descriptors, the remaining probes start as
 * earlier ones finish (each still gets its full timeout), so the run can
 * then take longer. Returns 0, or -errno for a setup failure (epoll,
 * memory), in which case results are not filled.
 */
int probe_run(const struct probe_target *targets, struct probe_result *results, size_t n);

#endif
