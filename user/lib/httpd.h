/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's Prometheus endpoint, served by libmicrohttpd from its own
 * internal epoll thread: httpd_open() starts it, httpd_close() stops it, and
 * in between every scrape calls @render in that thread. The agent's loop
 * never waits for a client, and a client never waits for the agent's loop.
 *
 * One request per connection, closed after the response. Whatever a client
 * sends or fails to send costs bounded memory and time: a request head
 * larger than req_max gets 431 (libmicrohttpd's per-connection memory pool),
 * a connection idle for timeout_s is closed, and at max_conns the oldest
 * connection is dropped for the new one, so idle or slow clients cannot lock
 * a scraper out.
 */
#ifndef XLB_HTTPD_H
#define XLB_HTTPD_H

#include <stddef.h>
#include <linux/types.h>

#include "strbuf.h"

#define HTTPD_MAX_CONNS_DEFAULT		64
#define HTTPD_REQ_MAX_DEFAULT		8192	/* request line + headers, bytes */
#define HTTPD_TIMEOUT_S_DEFAULT		5	/* without a byte either way, seconds */
#define HTTPD_METRICS_PATH		"/metrics"
#define HTTPD_METRICS_TYPE		"text/plain; version=0.0.4; charset=utf-8"

struct httpd;

/* Zero fields take the defaults above. */
struct httpd_limits {
	unsigned max_conns;
	unsigned req_max;
	unsigned timeout_s;
};

/*
 * @render is called, in the server's thread, for GET (or HEAD) /metrics,
 * with or without a query string, and appends the exposition text to @out.
 * If it leaves out->failed set the client gets a 500. Other paths: 404;
 * other methods: 405; malformed requests (HTTP/0.9, 2.0, garbage): 400.
 */
typedef void (*httpd_render_fn)(struct strbuf *out, void *arg);

/*
 * Listens on "ADDR:PORT": "127.0.0.1:9810", "[::1]:9810", "0.0.0.0:9810",
 * "[::]:9810" (port 0: any free port, see httpd_port) and starts serving.
 * @limits may be NULL. Returns NULL with errno set and a one-line message in
 * errbuf, e.g. "cannot listen on 127.0.0.1:9810: Address already in use".
 */
struct httpd *httpd_open(const char *listen_spec, const struct httpd_limits *limits,
			 httpd_render_fn render, void *arg, char *errbuf, size_t errlen);
/* The port actually listened on (host order). */
__u16 httpd_port(const struct httpd *h);
/* Stops the server thread, closes the listener and every connection. NULL is fine. */
void httpd_close(struct httpd *h);

#endif
