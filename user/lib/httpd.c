// SPDX-License-Identifier: GPL-2.0
/*
 * The metrics endpoint on libmicrohttpd: see httpd.h. We open the listening
 * socket ourselves (so a bad address or a port in use gets a precise error)
 * and hand it to a daemon running its own epoll thread. libmicrohttpd does
 * the HTTP: parsing, the size cap of a request head (its memory pool), idle
 * timeouts and non-blocking writes to slow readers. What it lacks is a way
 * to make room for a new client when every slot is held, so the connection
 * notifications keep the open connections in accept order, and past
 * max_conns the oldest socket is shut down, which libmicrohttpd then sees as
 * a hang-up and closes. Every callback runs in the daemon's one thread: the
 * list needs no lock.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "httpd.h"

#define HTTPD_BACKLOG		128
/*
 * Slots over max_conns libmicrohttpd may hold: connections just evicted
 * (shut down, closed on its next loop turn) while a burst is accepted.
 */
#define HTTPD_EVICT_SLACK	16

struct httpd_conn {
	int fd;
	bool evicted;
	struct httpd_conn *prev, *next;
};

struct httpd {
	struct MHD_Daemon *d;
	__u16 port;
	struct httpd_limits lim;
	httpd_render_fn render;
	void *arg;
	struct httpd_conn *oldest, *newest;
	unsigned live;		/* open and not evicted */
};

/* "ADDR:PORT" or "[ADDR6]:PORT" into a socket address. */
static int parse_spec(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *colon, *h = spec;
	size_t hlen;
	char *end;
	unsigned long port;

	colon = strrchr(spec, ':');
	if (!colon || !colon[1])
		return -EINVAL;
	hlen = colon - spec;
	if (spec[0] == '[') {
		if (hlen < 2 || spec[hlen - 1] != ']')
			return -EINVAL;
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (*end || errno || port > 65535 || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;

	memset(ss, 0, sizeof(*ss));
	if (spec[0] != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	}
	return 0;
}

/* Returns the listening socket, or -errno with the message in errbuf. */
static int open_listener(struct httpd *h, const char *spec, char *errbuf, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, err;

	if (parse_spec(spec, &ss, &len)) {
		snprintf(errbuf, errlen, "invalid listen address \"%s\": expected ADDR:PORT or [ADDR6]:PORT",
			 spec);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* A restarted agent must not wait for the old sockets' TIME_WAIT. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, HTTPD_BACKLOG))
		goto fail;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		goto fail;
	h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	snprintf(errbuf, errlen, "cannot listen on %s: %s", spec, strerror(err));
	return -err;
}

/* Past max_conns: shut the oldest live connection down to make room. */
static void evict_oldest(struct httpd *h)
{
	struct httpd_conn *c;

	for (c = h->oldest; c && c->evicted; c = c->next)
		;
	if (!c)
		return;
	shutdown(c->fd, SHUT_RDWR);
	c->evicted = true;
	h->live--;
}

static void on_conn_started(struct httpd *h, struct MHD_Connection *mc, void **ctx)
{
	const union MHD_ConnectionInfo *ci;
	struct httpd_conn *c;

	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	c = calloc(1, sizeof(*c));
	*ctx = c;
	if (!c || !ci)
		return;
	c->fd = ci->connect_fd;
	c->prev = h->newest;
	if (h->newest)
		h->newest->next = c;
	else
		h->oldest = c;
	h->newest = c;
	if (++h->live > h->lim.max_conns)
		evict_oldest(h);
}

static void on_conn_closed(struct httpd *h, struct httpd_conn *c)
{
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else if (h->oldest == c)
		h->oldest = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else if (h->newest == c)
		h->newest = c->prev;
	if (!c->evicted)
		h->live--;
	free(c);
}

static void on_conn(void *cls, struct MHD_Connection *mc, void **ctx,
		    enum MHD_ConnectionNotificationCode what)
{
	if (what == MHD_CONNECTION_NOTIFY_STARTED)
		on_conn_started(cls, mc, ctx);
	else if (what == MHD_CONNECTION_NOTIFY_CLOSED)
		on_conn_closed(cls, *ctx);
}

/* Queues the response; a NULL body means the status text. @body is freed by the response. */
static enum MHD_Result reply(struct MHD_Connection *mc, unsigned status, char *body, size_t len)
{
	static const char text_type[] = "text/plain; charset=utf-8";
	struct MHD_Response *r;
	const char *text;
	enum MHD_Result ret;

	if (body) {
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	} else {
		text = status == MHD_HTTP_BAD_REQUEST ? "Bad Request\n" :
		       status == MHD_HTTP_NOT_FOUND ? "Not Found\n" :
		       status == MHD_HTTP_METHOD_NOT_ALLOWED ? "Method Not Allowed\n" :
		       "Internal Server Error\n";
		r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
	}
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, body ? HTTPD_METRICS_TYPE : text_type);
	/* One request per connection: nothing lingers between scrapes. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(mc, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mc, const char *url,
				  const char *method, const char *version,
				  const char *upload, size_t *upload_len, void **req_ctx)
{
	struct httpd *h = cls;
	struct strbuf body = STRBUF_INIT;

	if (strcmp(version, MHD_HTTP_VERSION_1_0) && strcmp(version, MHD_HTTP_VERSION_1_1))
		return reply(mc, MHD_HTTP_BAD_REQUEST, NULL, 0);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(mc, MHD_HTTP_METHOD_NOT_ALLOWED, NULL, 0);
	if (strcmp(url, HTTPD_METRICS_PATH))
		return reply(mc, MHD_HTTP_NOT_FOUND, NULL, 0);
	h->render(&body, h->arg);
	if (body.failed) {
		strbuf_free(&body);
		return reply(mc, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, 0);
	}
	if (!body.buf && strbuf_add(&body, "", 0))
		return reply(mc, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, 0);
	return reply(mc, MHD_HTTP_OK, body.buf, body.len);
}

struct httpd *httpd_open(const char *listen_spec, const struct httpd_limits *limits,
			 httpd_render_fn render, void *arg, char *errbuf, size_t errlen)
{
	struct httpd *h;
	int fd, err;

	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(errbuf, errlen, "cannot listen on %s: %s", listen_spec, strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	if (limits)
		h->lim = *limits;
	if (!h->lim.max_conns)
		h->lim.max_conns = HTTPD_MAX_CONNS_DEFAULT;
	if (!h->lim.req_max)
		h->lim.req_max = HTTPD_REQ_MAX_DEFAULT;
	if (!h->lim.timeout_s)
		h->lim.timeout_s = HTTPD_TIMEOUT_S_DEFAULT;
	h->render = render;
	h->arg = arg;

	fd = open_listener(h, listen_spec, errbuf, errlen);
	if (fd < 0) {
		free(h);
		errno = -fd;
		return NULL;
	}
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
				on_request, h,
				MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
				MHD_OPTION_CONNECTION_LIMIT, h->lim.max_conns + HTTPD_EVICT_SLACK,
				MHD_OPTION_CONNECTION_TIMEOUT, h->lim.timeout_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)h->lim.req_max,
				MHD_OPTION_NOTIFY_CONNECTION, on_conn, h,
				MHD_OPTION_END);
	if (!h->d) {
		err = errno ? errno : ENOMEM;
		snprintf(errbuf, errlen, "cannot listen on %s: cannot start the HTTP server: %s",
			 listen_spec, strerror(err));
		free(h);
		errno = err;
		return NULL;
	}
	return h;
}

__u16 httpd_port(const struct httpd *h)
{
	return h->port;
}

void httpd_close(struct httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
