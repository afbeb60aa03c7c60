// SPDX-License-Identifier: GPL-2.0
/*
 * Tiny HTTP server for the metrics endpoint: see httpd.h. Everything hangs on
 * one internal epoll set (level-triggered) whose descriptor the caller polls;
 * a timerfd in that set fires at the nearest connection deadline so expiry
 * happens even when no client does anything. Events carry a slot index and a
 * generation, so an event for a connection closed earlier in the same batch
 * never acts on the slot's next connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "httpd.h"

#define HTTPD_BACKLOG		128
#define HTTPD_EPOLL_BATCH	64
#define HTTPD_PAUSE_MS		100	/* listener rest after running out of descriptors */
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_SEC		1000000000ULL
#define EV_LISTEN		((__u64)-1)
#define EV_TIMER		((__u64)-2)

struct httpd_conn {
	int fd;			/* -1: free slot */
	__u32 gen;
	__u64 accepted_ns;
	__u64 deadline_ns;
	char *req;		/* lim.req_max bytes */
	size_t req_len;
	struct strbuf resp;
	size_t resp_off;
	bool writing;
};

struct httpd {
	int lfd;
	int ep;
	int tfd;
	__u16 port;
	struct httpd_limits lim;
	struct httpd_conn *conns;
	unsigned nconns;
	__u64 paused_until_ns;	/* 0: the listener is in the epoll set */
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static __u64 ev_data(const struct httpd *h, const struct httpd_conn *c)
{
	return (__u64)c->gen << 32 | (__u32)(c - h->conns);
}

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

static int open_listener(struct httpd *h, const char *spec, char *errbuf, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, err;

	if (parse_spec(spec, &ss, &len)) {
		snprintf(errbuf, errlen, "invalid listen address \"%s\": expected ADDR:PORT or [ADDR6]:PORT",
			 spec);
		return -EINVAL;
	}
	h->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->lfd < 0)
		goto fail;
	/* A restarted agent must not wait for the old sockets' TIME_WAIT. */
	setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(h->lfd, (struct sockaddr *)&ss, len) || listen(h->lfd, HTTPD_BACKLOG))
		goto fail;
	len = sizeof(ss);
	if (getsockname(h->lfd, (struct sockaddr *)&ss, &len))
		goto fail;
	h->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						: ((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
fail:
	err = errno;
	snprintf(errbuf, errlen, "cannot listen on %s: %s", spec, strerror(err));
	return -err;
}

struct httpd *httpd_open(const char *listen_spec, const struct httpd_limits *limits,
			 char *errbuf, size_t errlen)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct httpd *h;
	unsigned i;
	int err;

	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(errbuf, errlen, "cannot listen on %s: %s", listen_spec, strerror(ENOMEM));
		errno = ENOMEM;
		return NULL;
	}
	h->lfd = h->ep = h->tfd = -1;
	if (limits)
		h->lim = *limits;
	if (!h->lim.max_conns)
		h->lim.max_conns = HTTPD_MAX_CONNS_DEFAULT;
	if (!h->lim.req_max)
		h->lim.req_max = HTTPD_REQ_MAX_DEFAULT;
	if (!h->lim.timeout_ms)
		h->lim.timeout_ms = HTTPD_TIMEOUT_MS_DEFAULT;

	err = open_listener(h, listen_spec, errbuf, errlen);
	if (err)
		goto fail_quiet;
	h->conns = calloc(h->lim.max_conns, sizeof(*h->conns));
	if (!h->conns)
		goto fail;
	for (i = 0; i < h->lim.max_conns; i++)
		h->conns[i].fd = -1;
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	h->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (h->ep < 0 || h->tfd < 0)
		goto fail;
	ev.data.u64 = EV_LISTEN;
	if (epoll_ctl(h->ep, EPOLL_CTL_ADD, h->lfd, &ev))
		goto fail;
	ev.data.u64 = EV_TIMER;
	if (epoll_ctl(h->ep, EPOLL_CTL_ADD, h->tfd, &ev))
		goto fail;
	return h;
fail:
	err = h->conns ? -errno : -ENOMEM;
	snprintf(errbuf, errlen, "cannot listen on %s: %s", listen_spec, strerror(-err));
fail_quiet:
	httpd_close(h);
	errno = -err;
	return NULL;
}

int httpd_fd(const struct httpd *h)
{
	return h->ep;
}

__u16 httpd_port(const struct httpd *h)
{
	return h->port;
}

static void conn_close(struct httpd *h, struct httpd_conn *c)
{
	close(c->fd);
	c->fd = -1;
	c->gen++;
	free(c->req);
	c->req = NULL;
	strbuf_free(&c->resp);
	h->nconns--;
}

/* Out of descriptors: rest the listener so a full accept queue does not spin the caller. */
static void pause_listener(struct httpd *h)
{
	if (h->paused_until_ns)
		return;
	epoll_ctl(h->ep, EPOLL_CTL_DEL, h->lfd, NULL);
	h->paused_until_ns = now_ns() + HTTPD_PAUSE_MS * NSEC_PER_MSEC;
}

static void resume_listener(struct httpd *h)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_LISTEN };

	if (!h->paused_until_ns)
		return;
	if (epoll_ctl(h->ep, EPOLL_CTL_ADD, h->lfd, &ev) == 0)
		h->paused_until_ns = 0;
}

static struct httpd_conn *free_slot(struct httpd *h)
{
	struct httpd_conn *oldest = NULL;
	unsigned i;

	for (i = 0; i < h->lim.max_conns; i++) {
		struct httpd_conn *c = &h->conns[i];

		if (c->fd < 0)
			return c;
		if (!oldest || c->accepted_ns < oldest->accepted_ns)
			oldest = c;
	}
	/* Full: the oldest has had the longest chance; a new scraper must get in. */
	conn_close(h, oldest);
	return oldest;
}

static void do_accept(struct httpd *h)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct httpd_conn *c;
	unsigned k;
	int fd;

	/* Bounded per call: level-triggered epoll reports the rest next time. */
	for (k = 0; k < h->lim.max_conns; k++) {
		fd = accept4(h->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				pause_listener(h);
			return;	/* EAGAIN, or an aborted connection: nothing to do */
		}
		c = free_slot(h);
		c->req = malloc(h->lim.req_max);
		if (!c->req) {
			close(fd);
			return;
		}
		c->fd = fd;
		c->req_len = 0;
		c->resp_off = 0;
		c->writing = false;
		strbuf_init(&c->resp);
		c->accepted_ns = now_ns();
		c->deadline_ns = c->accepted_ns + h->lim.timeout_ms * NSEC_PER_MSEC;
		h->nconns++;
		ev.data.u64 = ev_data(h, c);
		if (epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev))
			conn_close(h, c);
	}
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 431: return "Request Header Fields Too Large";
	default:  return "Internal Server Error";
	}
}

/* Builds the whole response in c->resp; a body of NULL means the status text. */
static void respond(struct httpd_conn *c, int status, const char *type, const char *body,
		    size_t body_len, bool head)
{
	char text[64];

	if (!body) {
		snprintf(text, sizeof(text), "%s\n", reason_phrase(status));
		body = text;
		body_len = strlen(text);
		type = "text/plain; charset=utf-8";
	}
	strbuf_printf(&c->resp, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		      "Connection: close\r\n%s\r\n", status, reason_phrase(status), type, body_len,
		      status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head)
		strbuf_add(&c->resp, body, body_len);
}

/* "METHOD SP TARGET SP HTTP/1.x" -> status and response in c->resp. */
static void handle_request(struct httpd_conn *c, httpd_render_fn render, void *arg)
{
	struct strbuf body = STRBUF_INIT;
	char *line = c->req, *eol, *sp1, *sp2, *q;
	size_t plen;
	bool head;

	eol = memchr(line, '\n', c->req_len);
	*eol = '\0';
	if (eol > line && eol[-1] == '\r')
		eol[-1] = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp2 == sp1 + 1 ||
	    (strcmp(sp2 + 1, "HTTP/1.0") && strcmp(sp2 + 1, "HTTP/1.1"))) {
		respond(c, 400, NULL, NULL, 0, false);
		return;
	}
	*sp1 = '\0';
	head = !strcmp(line, "HEAD");
	if (!head && strcmp(line, "GET")) {
		respond(c, 405, NULL, NULL, 0, false);
		return;
	}
	q = memchr(sp1 + 1, '?', sp2 - sp1 - 1);
	plen = (q ? q : sp2) - (sp1 + 1);
	if (plen != strlen(HTTPD_METRICS_PATH) || memcmp(sp1 + 1, HTTPD_METRICS_PATH, plen)) {
		respond(c, 404, NULL, NULL, 0, head);
		return;
	}
	if (render)
		render(&body, arg);
	if (body.failed)
		respond(c, 500, NULL, NULL, 0, head);
	else
		respond(c, 200, HTTPD_METRICS_TYPE, strbuf_str(&body), body.len, head);
	strbuf_free(&body);
}

/* The end of the request head: an empty line (CRLF CRLF, or bare LF LF). */
static bool head_complete(const struct httpd_conn *c)
{
	return memmem(c->req, c->req_len, "\r\n\r\n", 4) || memmem(c->req, c->req_len, "\n\n", 2);
}

static void do_write(struct httpd *h, struct httpd_conn *c)
{
	ssize_t n;

	while (c->resp_off < c->resp.len) {
		n = send(c->fd, c->resp.buf + c->resp_off, c->resp.len - c->resp_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				conn_close(h, c);
			return;
		}
		c->resp_off += n;
	}
	shutdown(c->fd, SHUT_WR);
	conn_close(h, c);
}

static void start_response(struct httpd *h, struct httpd_conn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = ev_data(h, c) };

	if (c->resp.failed) {
		conn_close(h, c);
		return;
	}
	c->writing = true;
	if (epoll_ctl(h->ep, EPOLL_CTL_MOD, c->fd, &ev)) {
		conn_close(h, c);
		return;
	}
	do_write(h, c);
}

static void do_read(struct httpd *h, struct httpd_conn *c, httpd_render_fn render, void *arg)
{
	ssize_t n;

	for (;;) {
		if (c->req_len == h->lim.req_max) {
			respond(c, 431, NULL, NULL, 0, false);
			start_response(h, c);
			return;
		}
		n = recv(c->fd, c->req + c->req_len, h->lim.req_max - c->req_len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				conn_close(h, c);
			return;
		}
		if (n == 0) {	/* gone before a full request: nobody to answer */
			conn_close(h, c);
			return;
		}
		c->req_len += n;
		if (head_complete(c)) {
			handle_request(c, render, arg);
			start_response(h, c);
			return;
		}
	}
}

/* Closes overdue connections, resumes a rested listener, arms the timer for what is next. */
static void expire(struct httpd *h)
{
	struct itimerspec its = { 0 };
	__u64 now = now_ns(), next = 0;
	unsigned i;
	__u64 buf;

	while (read(h->tfd, &buf, sizeof(buf)) > 0)
		;
	if (h->paused_until_ns && h->paused_until_ns <= now)
		resume_listener(h);
	if (h->paused_until_ns)
		next = h->paused_until_ns;
	for (i = 0; i < h->lim.max_conns; i++) {
		struct httpd_conn *c = &h->conns[i];

		if (c->fd < 0)
			continue;
		if (c->deadline_ns <= now) {
			conn_close(h, c);
			continue;
		}
		if (!next || c->deadline_ns < next)
			next = c->deadline_ns;
	}
	if (next) {
		its.it_value.tv_sec = next / NSEC_PER_SEC;
		its.it_value.tv_nsec = next % NSEC_PER_SEC;
	}
	timerfd_settime(h->tfd, next ? TFD_TIMER_ABSTIME : 0, &its, NULL);
}

void httpd_service(struct httpd *h, httpd_render_fn render, void *arg)
{
	struct epoll_event evs[HTTPD_EPOLL_BATCH];
	struct httpd_conn *c;
	__u32 idx;
	int k, n;

	n = epoll_wait(h->ep, evs, HTTPD_EPOLL_BATCH, 0);
	for (k = 0; k < n; k++) {
		__u64 d = evs[k].data.u64;

		if (d == EV_LISTEN) {
			do_accept(h);
			continue;
		}
		if (d == EV_TIMER)
			continue;	/* expire() below */
		idx = (__u32)d;
		if (idx >= h->lim.max_conns)
			continue;
		c = &h->conns[idx];
		if (c->fd < 0 || c->gen != (__u32)(d >> 32))
			continue;	/* closed earlier in this batch */
		if (c->writing)
			do_write(h, c);
		else
			do_read(h, c, render, arg);
	}
	expire(h);
}

void httpd_close(struct httpd *h)
{
	unsigned i;

	if (!h)
		return;
	for (i = 0; h->conns && i < h->lim.max_conns; i++)
		if (h->conns[i].fd >= 0)
			conn_close(h, &h->conns[i]);
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->ep >= 0)
		close(h->ep);
	if (h->tfd >= 0)
		close(h->tfd);
	free(h->conns);
	free(h);
}
