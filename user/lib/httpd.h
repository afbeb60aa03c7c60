/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny HTTP/1.0 and 1.1 server for the agent's Prometheus endpoint, driven
 * from the agent's own epoll loop: httpd_fd() is one pollable descriptor
 * (an epoll set holding the listener, the clients and a deadline timer), and
 * httpd_service() does whatever is ready without ever blocking.
 *
 * One request per connection, closed after the response. Whatever a client
 * sends or fails to send costs bounded memory and time: requests larger than
 * req_max get 431, a connection not done within timeout_ms is closed, and at
 * max_conns the oldest connection is dropped for the new one, so idle or slow
 * clients cannot lock a scraper out.
 */
#ifndef XLB_HTTPD_H
#define XLB_HTTPD_H

#include <stddef.h>
#include <linux/types.h>

#include "strbuf.h"

#define HTTPD_MAX_CONNS_DEFAULT		64
#define HTTPD_REQ_MAX_DEFAULT		8192	/* request line + headers, bytes */
#define HTTPD_TIMEOUT_MS_DEFAULT	5000	/* accept to last byte of the response */
#define HTTPD_METRICS_PATH		"/metrics"
#define HTTPD_METRICS_TYPE		"text/plain; version=0.0.4; charset=utf-8"

struct httpd;

/* Zero fields take the defaults above. */
struct httpd_limits {
	unsigned max_conns;
	unsigned req_max;
	unsigned timeout_ms;
};

/*
 * @render is called for GET (or HEAD) /metrics, with or without a query
 * string, and appends the exposition text to @out. If it leaves out->failed
 * set the client gets a 500. Other paths: 404; other methods: 405;
 * malformed requests: 400.
 */
typedef void (*httpd_render_fn)(struct strbuf *out, void *arg);

/*
 * Listens on "ADDR:PORT": "127.0.0.1:9810", "[::1]:9810", "0.0.0.0:9810",
 * "[::]:9810" (port 0: any free port, see httpd_port). @limits may be NULL.
 * Returns NULL with errno set and a one-line message in errbuf, e.g.
 * "cannot listen on 127.0.0.1:9810: Address already in use".
 */
struct httpd *httpd_open(const char *listen_spec, const struct httpd_limits *limits,
			 char *errbuf, size_t errlen);
/* Readable when httpd_service() has work (EPOLLIN in the caller's epoll). */
int httpd_fd(const struct httpd *h);
/* The port actually listened on (host order). */
__u16 httpd_port(const struct httpd *h);
/* Accepts, reads, replies and expires what is ready; never blocks. */
void httpd_service(struct httpd *h, httpd_render_fn render, void *arg);
/* Closes the listener and every connection. NULL is fine. */
void httpd_close(struct httpd *h);

#endif
