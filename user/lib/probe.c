// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrent non-blocking health probes: see probe.h. Every probe is a small
 * state machine (connecting -> sending -> reading) driven by one epoll set;
 * epoll_wait sleeps until the next event or the nearest deadline.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "xlb_abi.h"
#include "probe.h"

#define PROBE_EPOLL_BATCH	64
#define HTTP_DEFAULT_PORT	80
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_USEC		1000ULL

enum probe_phase {
	PH_WAITING,		/* not started yet (no descriptor available) */
	PH_CONNECTING,
	PH_SENDING,
	PH_READING,
	PH_DONE,
};

struct probe_state {
	int fd;
	enum probe_phase phase;
	__u64 start_ns;
	__u64 deadline_ns;
	char *req;
	size_t req_len;
	size_t req_off;
	char resp[PROBE_STATUS_LINE_MAX];
	size_t resp_len;
};

struct probe_run {
	const struct probe_target *t;
	struct probe_result *r;
	struct probe_state *st;
	size_t n;
	size_t next;		/* first target not started yet */
	size_t active;		/* probes holding a socket */
	int ep;
};

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void finish(struct probe_run *pr, size_t i, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void finish(struct probe_run *pr, size_t i, bool ok, const char *fmt, ...)
{
	struct probe_state *s = &pr->st[i];
	struct probe_result *r = &pr->r[i];
	__u64 rt = (now_ns() - s->start_ns) / NSEC_PER_USEC;
	va_list ap;

	r->ok = ok;
	r->rt_us = rt > (unsigned)-1 ? (unsigned)-1 : (unsigned)rt;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	if (s->fd >= 0) {
		close(s->fd);	/* also leaves the epoll set */
		s->fd = -1;
		pr->active--;
	}
	free(s->req);
	s->req = NULL;
	s->phase = PH_DONE;
}

static void fail_errno(struct probe_run *pr, size_t i, const char *what, int err)
{
	switch (err) {
	case ECONNREFUSED:
		finish(pr, i, false, "%s refused", what);
		break;
	case ECONNRESET:
	case EPIPE:
		finish(pr, i, false, "connection reset");
		break;
	case ETIMEDOUT:
		finish(pr, i, false, "%s timeout", what);
		break;
	case EHOSTUNREACH:
		finish(pr, i, false, "host unreachable");
		break;
	case ENETUNREACH:
		finish(pr, i, false, "network unreachable");
		break;
	default:
		finish(pr, i, false, "%s: %s", what, strerror(err));
	}
}

/* Path and Host go into the request verbatim: refuse what would split it. */
static bool http_token_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static int build_request(const struct probe_target *t, struct probe_state *s)
{
	const char *path = t->path ? t->path : "/";
	char addr[INET6_ADDRSTRLEN], host[INET6_ADDRSTRLEN + 8];
	int n;

	if (path[0] != '/' || !http_token_ok(path))
		return -EINVAL;
	if (t->host) {
		if (!t->host[0] || !http_token_ok(t->host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%s", t->host);
		if (strlen(t->host) >= sizeof(host))
			return -EINVAL;
	} else {
		inet_ntop(t->family == XLB_AF_INET ? AF_INET : AF_INET6, t->addr, addr, sizeof(addr));
		snprintf(host, sizeof(host), t->family == XLB_AF_INET ? "%s" : "[%s]", addr);
		if (t->port != HTTP_DEFAULT_PORT)
			snprintf(host + strlen(host), sizeof(host) - strlen(host), ":%u", t->port);
	}
	n = asprintf(&s->req, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n"
		     "User-Agent: xlb-agent\r\nAccept: */*\r\n\r\n", path, host);
	if (n < 0) {
		s->req = NULL;
		return -ENOMEM;
	}
	s->req_len = n;
	return 0;
}

static void watch(struct probe_run *pr, size_t i, __u32 events)
{
	struct epoll_event ev = { .events = events, .data.u64 = i };

	if (epoll_ctl(pr->ep, EPOLL_CTL_MOD, pr->st[i].fd, &ev))
		fail_errno(pr, i, "epoll", errno);
}

static void do_send(struct probe_run *pr, size_t i)
{
	struct probe_state *s = &pr->st[i];
	ssize_t n;

	while (s->req_off < s->req_len) {
		n = send(s->fd, s->req + s->req_off, s->req_len - s->req_off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;	/* still EPOLLOUT */
			fail_errno(pr, i, "send", errno);
			return;
		}
		s->req_off += n;
	}
	s->phase = PH_READING;
	watch(pr, i, EPOLLIN);
}

static void connected(struct probe_run *pr, size_t i)
{
	struct probe_state *s = &pr->st[i];

	if (pr->t[i].kind == PROBE_TCP) {
		finish(pr, i, true, "%s", "");
		return;
	}
	s->phase = PH_SENDING;
	do_send(pr, i);
}

/* Judges the status line once complete: "HTTP/d.d ddd" then SP, CR or LF. */
static void check_status(struct probe_run *pr, size_t i)
{
	static const char proto[] = "HTTP/";
	struct probe_state *s = &pr->st[i];
	const char *p = s->resp;
	size_t plen = sizeof(proto) - 1;
	int code;

	if (memcmp(p, proto, s->resp_len < plen ? s->resp_len : plen)) {
		finish(pr, i, false, "bad response");
		return;
	}
	if (!memchr(p, '\n', s->resp_len)) {
		if (s->resp_len == sizeof(s->resp))
			finish(pr, i, false, "bad response");
		return;	/* wait for the rest of the line */
	}
	p += plen;
	if (s->resp_len < plen + 8 || p[0] < '0' || p[0] > '9' || p[1] != '.' ||
	    p[2] < '0' || p[2] > '9' || p[3] != ' ' ||
	    p[4] < '1' || p[4] > '5' || p[5] < '0' || p[5] > '9' || p[6] < '0' || p[6] > '9' ||
	    (p[7] != ' ' && p[7] != '\r' && p[7] != '\n')) {
		finish(pr, i, false, "bad response");
		return;
	}
	code = (p[4] - '0') * 100 + (p[5] - '0') * 10 + (p[6] - '0');
	if (code >= 200 && code < 400)
		finish(pr, i, true, "%s", "");
	else
		finish(pr, i, false, "http %d", code);
}

static void do_read(struct probe_run *pr, size_t i)
{
	struct probe_state *s = &pr->st[i];
	ssize_t n;

	for (;;) {
		n = recv(s->fd, s->resp + s->resp_len, sizeof(s->resp) - s->resp_len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				fail_errno(pr, i, "recv", errno);
			return;
		}
		if (n == 0) {
			finish(pr, i, false, s->resp_len ? "bad response" : "closed before status");
			return;
		}
		s->resp_len += n;
		check_status(pr, i);
		if (s->phase == PH_DONE)
			return;
	}
}

static void on_event(struct probe_run *pr, size_t i, __u32 events)
{
	struct probe_state *s = &pr->st[i];
	socklen_t len = sizeof(int);
	int err = 0;

	switch (s->phase) {
	case PH_CONNECTING:
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len))
			err = errno;
		if (err) {
			fail_errno(pr, i, "connect", err);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		connected(pr, i);
		return;
	case PH_SENDING:
		do_send(pr, i);
		return;
	case PH_READING:
		do_read(pr, i);
		return;
	default:
		return;	/* a stale event of a probe finished in this batch */
	}
}

static int to_sockaddr(const struct probe_target *t, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (t->family == XLB_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->port);
		sin->sin_addr.s_addr = t->addr[0];
		*len = sizeof(*sin);
		return 0;
	}
	if (t->family == XLB_AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(t->port);
		memcpy(&sin6->sin6_addr, t->addr, sizeof(sin6->sin6_addr));
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

/*
 * Starts probe i. Returns -EMFILE when out of descriptors (the probe stays
 * waiting), else 0 (started, or finished with its verdict).
 */
static int start(struct probe_run *pr, size_t i)
{
	const struct probe_target *t = &pr->t[i];
	struct probe_state *s = &pr->st[i];
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = i };
	unsigned timeout = t->timeout_ms ? t->timeout_ms : PROBE_TIMEOUT_DEFAULT_MS;
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	s->start_ns = now_ns();
	s->deadline_ns = s->start_ns + timeout * NSEC_PER_MSEC;
	if (to_sockaddr(t, &ss, &len) || t->port == 0 ||
	    (t->kind != PROBE_TCP && t->kind != PROBE_HTTP)) {
		finish(pr, i, false, "bad target");
		return 0;
	}
	if (t->kind == PROBE_HTTP && build_request(t, s)) {
		finish(pr, i, false, "bad target");
		return 0;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		if ((errno == EMFILE || errno == ENFILE) && pr->active > 0)
			return -EMFILE;
		fail_errno(pr, i, "socket", errno);
		return 0;
	}
	s->fd = fd;
	pr->active++;
	if (epoll_ctl(pr->ep, EPOLL_CTL_ADD, fd, &ev)) {
		if ((errno == ENOMEM || errno == ENOSPC) && pr->active > 1) {
			close(fd);
			s->fd = -1;
			pr->active--;
			free(s->req);
			s->req = NULL;
			return -EMFILE;
		}
		fail_errno(pr, i, "epoll", errno);
		return 0;
	}
	s->phase = PH_CONNECTING;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		connected(pr, i);
	else if (errno != EINPROGRESS)
		fail_errno(pr, i, "connect", errno);
	return 0;
}

static void start_waiting(struct probe_run *pr)
{
	while (pr->next < pr->n) {
		if (start(pr, pr->next))
			return;
		pr->next++;
	}
}

/* Fails every overdue probe; returns the epoll timeout until the next deadline. */
static int expire(struct probe_run *pr)
{
	__u64 now = now_ns(), min = 0;
	size_t i;

	for (i = 0; i < pr->next; i++) {
		struct probe_state *s = &pr->st[i];

		if (s->phase == PH_DONE || s->phase == PH_WAITING)
			continue;
		if (s->deadline_ns <= now) {
			finish(pr, i, false, s->phase == PH_CONNECTING ? "connect timeout" : "timeout");
			continue;
		}
		if (!min || s->deadline_ns < min)
			min = s->deadline_ns;
	}
	if (!min)
		return 0;
	return (min - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
}

int probe_run(const struct probe_target *targets, struct probe_result *results, size_t n)
{
	struct epoll_event evs[PROBE_EPOLL_BATCH];
	struct probe_run pr = { .t = targets, .r = results, .n = n };
	int k, nev, timeout, err = 0;
	size_t i;

	if (!n)
		return 0;
	pr.st = calloc(n, sizeof(*pr.st));
	if (!pr.st)
		return -ENOMEM;
	pr.ep = epoll_create1(EPOLL_CLOEXEC);
	if (pr.ep < 0) {
		err = -errno;
		free(pr.st);
		return err;
	}
	for (i = 0; i < n; i++) {
		pr.st[i].fd = -1;
		memset(&results[i], 0, sizeof(results[i]));
	}

	for (;;) {
		start_waiting(&pr);
		timeout = expire(&pr);
		if (pr.next < pr.n)
			start_waiting(&pr);	/* expiry freed descriptors */
		if (!pr.active && pr.next == pr.n)
			break;
		nev = epoll_wait(pr.ep, evs, PROBE_EPOLL_BATCH, timeout);
		if (nev < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		for (k = 0; k < nev; k++)
			on_event(&pr, evs[k].data.u64, evs[k].events);
	}

	for (i = 0; i < n; i++) {
		if (pr.st[i].fd >= 0)
			close(pr.st[i].fd);
		free(pr.st[i].req);
	}
	close(pr.ep);
	free(pr.st);
	return err;
}
