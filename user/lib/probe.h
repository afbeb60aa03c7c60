/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Health probes of backends, all run at once on one epoll set, so hundreds
 * of targets take about one timeout and a slow or hanging target never
 * delays the others. The agent calls probe_run() once per round with every
 * backend due for a check.
 *
 * TCP: a non-blocking connect succeeds -> ok, then the socket is closed.
 * HTTP and HTTPS (libcurl's multi interface, its sockets on the same epoll
 * set): "GET PATH HTTP/1.0" with Host and "Connection: close". The status
 * must be in [status_lo, status_hi] (default 200-399); without expect_body
 * the verdict comes with the status line and nothing more is read, with it
 * the body (its first PROBE_BODY_MAX bytes) must contain that string.
 * HTTPS verifies the certificate chain and the name (host, else the
 * address) unless insecure. Anything else (another status, not an HTTP
 * status line, a TLS failure, reset, EOF or timeout) -> not ok.
 */
#ifndef XLB_PROBE_H
#define XLB_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PROBE_TIMEOUT_DEFAULT_MS 1000	/* used when a target's timeout_ms is 0 */
#define PROBE_STATUS_LO_DEFAULT	 200	/* used when status_lo and status_hi are 0 */
#define PROBE_STATUS_HI_DEFAULT	 399
#define PROBE_BODY_MAX		 65536	/* body bytes searched for expect_body */
#define PROBE_WHY_LEN		 64

enum probe_kind {
	PROBE_TCP,
	PROBE_HTTP,
	PROBE_HTTPS,
};

/* Filled by the caller. */
struct probe_target {
	__u8 family;		/* XLB_AF_INET or XLB_AF_INET6 (bpf/xlb_abi.h) */
	__u32 addr[4];		/* network order, IPv4 in word 0 */
	__u16 port;		/* host order */
	enum probe_kind kind;
	const char *path;	/* HTTP request path, starting with '/' (NULL: "/") */
	/*
	 * A DNS name: the Host header verbatim and, for HTTPS, the TLS server
	 * name (SNI) and the name the certificate must carry. NULL: the
	 * address (Host with ":port" unless the scheme's default).
	 */
	const char *host;
	const char *ca_file;	/* HTTPS: trust only these CAs (PEM; NULL: the system's) */
	bool insecure;		/* HTTPS: no certificate or name verification */
	__u16 status_lo;	/* accepted status range (both 0: the default) */
	__u16 status_hi;
	const char *expect_body; /* NULL or "": the status alone decides */
	unsigned timeout_ms;	/* from the probe's start to its verdict (0: the default) */
	void *user;		/* the caller's cookie, untouched */
};

struct probe_result {
	bool ok;
	/*
	 * Microseconds from the probe's start to the connect (TCP) or to the
	 * complete status line (HTTP, HTTPS) when ok; to the failure otherwise.
	 */
	unsigned rt_us;
	/*
	 * Why not ok, for logs: "connect refused", "connect timeout", "timeout"
	 * (connected, no verdict in time), "http 500", "bad response", "body
	 * mismatch", "connection reset", "closed before status", "host
	 * unreachable", "tls: certificate has expired", "tls: self-signed
	 * certificate", "tls: name mismatch", "tls handshake failed", "bad
	 * target", "connect: <strerror>", ... Empty when ok.
	 */
	char why[PROBE_WHY_LEN];
};

/*
 * Runs every probe at once; returns when each has its verdict, so within
 * about the longest timeout. results[i] belongs to targets[i]. If the
 * process runs out of file descriptors, the remaining probes start as
 * earlier ones finish (each still gets its full timeout), so the run can
 * then take longer. Returns 0, or -errno for a setup failure (epoll,
 * memory, libcurl), in which case results are not filled.
 */
int probe_run(const struct probe_target *targets, struct probe_result *results, size_t n);

#endif
