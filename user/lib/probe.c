// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrent non-blocking health probes: see probe.h. One epoll set carries
 * both kinds: a TCP probe is our own non-blocking connect (its index in the
 * event data), an HTTP(S) probe is a libcurl easy handle in one multi handle
 * whose sockets libcurl hands us (CURLMOPT_SOCKETFUNCTION, tagged event
 * data) and whose timer is folded into epoll_wait's timeout. libcurl does
 * HTTP, TLS and the per-transfer timeout; we only judge: the status line
 * decides at once in the header callback (which then stops the transfer)
 * unless a body string is expected, which the write callback looks for.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>

#include "xlb_abi.h"
#include "probe.h"

#define PROBE_EPOLL_BATCH	64
#define NSEC_PER_MSEC		1000000ULL
#define NSEC_PER_USEC		1000ULL
#define EV_CURL			(1ULL << 63)	/* event data: a libcurl socket, not a probe index */
#define URL_MAX			512
#define HDR_MAX			(XLB_CHECK_HOST_LEN + 16)
#define TLS_PROBLEM		"SSL certificate problem: "

enum probe_phase {
	PH_WAITING,		/* not started yet (no descriptor available) */
	PH_CONNECTING,		/* TCP */
	PH_CURL,		/* HTTP(S): in the multi handle */
	PH_DONE,
};

struct probe_state {
	const struct probe_target *t;
	int fd;
	enum probe_phase phase;
	__u64 start_ns;
	__u64 deadline_ns;
	/* HTTP(S) */
	CURL *easy;
	struct curl_slist *hdrs;
	struct curl_slist *connect_to;
	int open_errno;		/* socket() failed for libcurl with this */
	bool tcp_connected;	/* seen as libcurl closed the socket */
	bool status_seen;
	bool decided;		/* a callback gave the verdict and stopped the transfer */
	bool ok;
	unsigned rt_us;		/* at the status line */
	char why[PROBE_WHY_LEN];
	char *body;		/* PROBE_BODY_MAX bytes, only with expect_body */
	size_t body_len;
	char err[CURL_ERROR_SIZE];
};

struct probe_run {
	const struct probe_target *t;
	struct probe_result *r;
	struct probe_state *st;
	size_t n;
	size_t next;		/* first target not started yet */
	size_t active;		/* probes holding a socket or a transfer */
	size_t *again;		/* HTTP(S) probes that ran out of descriptors, to restart */
	size_t nagain;
	bool freed;		/* a probe finished since the last restart attempt */
	int ep;
	CURLM *multi;
	__u64 curl_due_ns;	/* libcurl's timer, 0: not armed */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_res;

static void curl_init(void)
{
	curl_init_res = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static unsigned since_us(const struct probe_state *s)
{
	__u64 rt = (now_ns() - s->start_ns) / NSEC_PER_USEC;

	return rt > (unsigned)-1 ? (unsigned)-1 : (unsigned)rt;
}

static void curl_release(struct probe_run *pr, struct probe_state *s)
{
	if (s->easy) {
		curl_multi_remove_handle(pr->multi, s->easy);
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->hdrs);
	curl_slist_free_all(s->connect_to);
	s->hdrs = s->connect_to = NULL;
	free(s->body);
	s->body = NULL;
}

static void finish(struct probe_run *pr, size_t i, bool ok, unsigned rt_us, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void finish(struct probe_run *pr, size_t i, bool ok, unsigned rt_us, const char *fmt, ...)
{
	struct probe_state *s = &pr->st[i];
	struct probe_result *r = &pr->r[i];
	va_list ap;

	r->ok = ok;
	r->rt_us = rt_us;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	if (s->fd >= 0) {
		close(s->fd);	/* also leaves the epoll set */
		s->fd = -1;
	}
	curl_release(pr, s);
	if (s->phase == PH_CONNECTING || s->phase == PH_CURL) {
		pr->active--;
		pr->freed = true;
	}
	s->phase = PH_DONE;
}

static void fail_errno(struct probe_run *pr, size_t i, const char *what, int err)
{
	unsigned rt = since_us(&pr->st[i]);

	switch (err) {
	case ECONNREFUSED:
		finish(pr, i, false, rt, "%s refused", what);
		break;
	case ECONNRESET:
	case EPIPE:
		finish(pr, i, false, rt, "connection reset");
		break;
	case ETIMEDOUT:
		finish(pr, i, false, rt, "%s timeout", what);
		break;
	case EHOSTUNREACH:
		finish(pr, i, false, rt, "host unreachable");
		break;
	case ENETUNREACH:
		finish(pr, i, false, rt, "network unreachable");
		break;
	default:
		finish(pr, i, false, rt, "%s: %s", what, strerror(err));
	}
}

/* ---- TCP: our own non-blocking connect ---- */

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

static void on_tcp_event(struct probe_run *pr, size_t i)
{
	struct probe_state *s = &pr->st[i];
	socklen_t len = sizeof(int);
	int err = 0;

	if (s->phase != PH_CONNECTING)
		return;	/* a stale event of a probe finished in this batch */
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err)
		fail_errno(pr, i, "connect", err);
	else
		finish(pr, i, true, since_us(s), "%s", "");
}

/* Returns -EMFILE when out of descriptors (the probe stays waiting), else 0. */
static int tcp_start(struct probe_run *pr, size_t i)
{
	struct probe_state *s = &pr->st[i];
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = i };
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int fd;

	to_sockaddr(s->t, &ss, &len);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		if ((errno == EMFILE || errno == ENFILE) && pr->active > 0)
			return -EMFILE;
		fail_errno(pr, i, "socket", errno);
		return 0;
	}
	if (epoll_ctl(pr->ep, EPOLL_CTL_ADD, fd, &ev)) {
		int err = errno;

		close(fd);
		if ((err == ENOMEM || err == ENOSPC) && pr->active > 0)
			return -EMFILE;
		fail_errno(pr, i, "epoll", err);
		return 0;
	}
	s->fd = fd;
	s->phase = PH_CONNECTING;
	pr->active++;
	if (connect(fd, (struct sockaddr *)&ss, len) == 0)
		finish(pr, i, true, since_us(s), "%s", "");
	else if (errno != EINPROGRESS)
		fail_errno(pr, i, "connect", errno);
	return 0;
}

/* ---- HTTP(S): libcurl ---- */

/* Path and Host go into the request verbatim: refuse what would split it. */
static bool http_token_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

/* A DNS name: it is also the URL's host, so nothing that could end it. */
static bool host_ok(const char *h)
{
	if (!h[0] || strlen(h) >= XLB_CHECK_HOST_LEN)
		return false;
	for (; *h; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		      (*h >= '0' && *h <= '9') || *h == '-' || *h == '.' || *h == '_'))
			return false;
	return true;
}

static void decide(struct probe_state *s, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void decide(struct probe_state *s, bool ok, const char *fmt, ...)
{
	va_list ap;

	s->decided = true;
	s->ok = ok;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
}

/* "HTTP/x[.y] DDD" -> DDD, or -1. */
static int status_code(const char *line, size_t len)
{
	const char *sp = memchr(line, ' ', len);
	size_t off;

	if (len < 5 || memcmp(line, "HTTP/", 5) || !sp)
		return -1;
	off = sp + 1 - line;
	if (off + 3 > len || sp[1] < '1' || sp[1] > '5' || sp[2] < '0' || sp[2] > '9' ||
	    sp[3] < '0' || sp[3] > '9')
		return -1;
	return (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
}

/* Each header line; the first final status line gives or prepares the verdict. */
static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct probe_state *s = arg;
	const struct probe_target *t = s->t;
	unsigned lo = t->status_lo, hi = t->status_hi;
	size_t len = size * n;
	int code;

	if (s->status_seen || s->decided)
		return len;
	code = status_code(buf, len);
	if (code < 200)
		return len;	/* 1xx or its header lines: the final status line follows */
	if (!lo && !hi) {
		lo = PROBE_STATUS_LO_DEFAULT;
		hi = PROBE_STATUS_HI_DEFAULT;
	}
	s->status_seen = true;
	s->rt_us = since_us(s);
	if ((unsigned)code < lo || (unsigned)code > hi) {
		decide(s, false, "http %d", code);
		return 0;
	}
	if (!s->body) {
		decide(s, true, "%s", "");
		return 0;	/* nothing more to read: stop the transfer */
	}
	return len;
}

/* Body bytes: looks for expect_body in the first PROBE_BODY_MAX of them. */
static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct probe_state *s = arg;
	size_t len = size * n, nlen, take, from;

	if (s->decided || !s->body)
		return 0;
	nlen = strlen(s->t->expect_body);
	take = len < PROBE_BODY_MAX - s->body_len ? len : PROBE_BODY_MAX - s->body_len;
	from = s->body_len >= nlen ? s->body_len - nlen + 1 : 0;
	memcpy(s->body + s->body_len, buf, take);
	s->body_len += take;
	if (memmem(s->body + from, s->body_len - from, s->t->expect_body, nlen)) {
		decide(s, true, "%s", "");
		return 0;
	}
	if (s->body_len == PROBE_BODY_MAX) {
		decide(s, false, "body mismatch");
		return 0;
	}
	return len;
}

static void addr_literal(const struct probe_target *t, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(t->family == XLB_AF_INET ? AF_INET : AF_INET6, t->addr, a, sizeof(a));
	snprintf(buf, len, t->family == XLB_AF_INET ? "%s" : "[%s]", a);
}

/* libcurl opens a probe's socket: remember why it could not (out of descriptors?). */
static curl_socket_t on_curl_open(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct probe_state *s = arg;
	int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);

	if (fd < 0)
		s->open_errno = errno;
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

/* libcurl closes a probe's socket: was it connected (for "timeout" or "connect timeout")? */
static int on_curl_close(void *arg, curl_socket_t fd)
{
	struct probe_state *s = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	s->tcp_connected |= getpeername(fd, (struct sockaddr *)&ss, &len) == 0;
	return close(fd);
}

/* The request: URL on the address, or on the name with the connection pinned to the address. */
static int curl_setup(struct probe_state *s, CURL *e, unsigned timeout_ms)
{
	const struct probe_target *t = s->t;
	bool tls = t->kind == PROBE_HTTPS;
	char addr[INET6_ADDRSTRLEN + 2], url[URL_MAX], hdr[HDR_MAX], to[HDR_MAX + sizeof(addr)];

	addr_literal(t, addr, sizeof(addr));
	if ((size_t)snprintf(url, sizeof(url), "%s://%s:%u%s", tls ? "https" : "http",
			     t->host ? t->host : addr, t->port, t->path ? t->path : "/") >= sizeof(url))
		return -EINVAL;
	if (!(s->hdrs = curl_slist_append(NULL, "Connection: close")))
		return -ENOMEM;
	if (t->host) {
		struct curl_slist *l;

		snprintf(hdr, sizeof(hdr), "Host: %s", t->host);
		if (!(l = curl_slist_append(s->hdrs, hdr)))
			return -ENOMEM;
		s->hdrs = l;
		snprintf(to, sizeof(to), "%s:%u:%s:%u", t->host, t->port, addr, t->port);
		if (!(s->connect_to = curl_slist_append(NULL, to)))
			return -ENOMEM;
	}
	if (t->expect_body && t->expect_body[0] && !(s->body = malloc(PROBE_BODY_MAX)))
		return -ENOMEM;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_PROXY, "");	/* never a proxy from the environment */
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_0);
	/* No ALPN: "http/1.0" is in no server's list, and some refuse the handshake then. */
	curl_easy_setopt(e, CURLOPT_SSL_ENABLE_ALPN, 0L);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->hdrs);
	curl_easy_setopt(e, CURLOPT_CONNECT_TO, s->connect_to);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "xlb-agent");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	/* Each probe a new connection and a full handshake: nothing is taken on trust. */
	curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, t->insecure ? 0L : 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, t->insecure ? 0L : 2L);
	if (t->ca_file && t->ca_file[0]) {
		curl_easy_setopt(e, CURLOPT_CAINFO, t->ca_file);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->err);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_curl_open);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, s);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_curl_close);
	curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, s);
	return 0;
}

static int http_start(struct probe_run *pr, size_t i, unsigned timeout_ms)
{
	struct probe_state *s = &pr->st[i];
	const struct probe_target *t = s->t;
	const char *path = t->path ? t->path : "/";
	CURL *e;
	int err;

	if (path[0] != '/' || !http_token_ok(path) || (t->host && !host_ok(t->host))) {
		finish(pr, i, false, 0, "bad target");
		return 0;
	}
	s->tcp_connected = s->status_seen = s->decided = false;
	s->open_errno = 0;
	s->body_len = 0;
	s->err[0] = '\0';
	e = curl_easy_init();
	if (!e) {
		finish(pr, i, false, 0, "curl: out of memory");
		return 0;
	}
	s->easy = e;
	err = curl_setup(s, e, timeout_ms);
	if (!err && curl_multi_add_handle(pr->multi, e) != CURLM_OK)
		err = -ENOMEM;
	if (err) {
		finish(pr, i, false, 0, "%s", err == -EINVAL ? "bad target" : "curl: out of memory");
		return 0;
	}
	s->phase = PH_CURL;
	pr->active++;
	return 0;
}

/* A TLS verification failure, in OpenSSL's words ("tls: certificate has expired"). */
static void tls_why(struct probe_run *pr, size_t i, unsigned rt)
{
	struct probe_state *s = &pr->st[i];
	long vr = 0;

	curl_easy_getinfo(s->easy, CURLINFO_SSL_VERIFYRESULT, &vr);
	if (!strncmp(s->err, TLS_PROBLEM, strlen(TLS_PROBLEM)))
		finish(pr, i, false, rt, "tls: %s", s->err + strlen(TLS_PROBLEM));
	else if (strstr(s->err, "subject name"))
		finish(pr, i, false, rt, "tls: name mismatch");
	else
		finish(pr, i, false, rt, "tls: certificate verify failed (%ld)", vr);
}

/* Out of descriptors while others hold some: start again once one finished. */
static bool out_of_fds(struct probe_run *pr, size_t i)
{
	struct probe_state *s = &pr->st[i];

	if ((s->open_errno != EMFILE && s->open_errno != ENFILE) || pr->active < 2)
		return false;
	curl_release(pr, s);
	s->phase = PH_WAITING;
	pr->active--;
	pr->again[pr->nagain++] = i;
	return true;
}

/* A transfer ended: the verdict a callback gave, else libcurl's error. */
static void http_done(struct probe_run *pr, size_t i, CURLcode res)
{
	struct probe_state *s = &pr->st[i];
	unsigned rt = since_us(s);
	long oserr = 0;

	if (s->decided) {
		finish(pr, i, s->ok, s->ok ? s->rt_us : rt, "%s", s->why);
		return;
	}
	curl_easy_getinfo(s->easy, CURLINFO_OS_ERRNO, &oserr);
	switch (res) {
	case CURLE_OK:	/* the whole body, without the string */
		finish(pr, i, false, rt, "%s", s->status_seen ? "body mismatch" : "bad response");
		break;
	case CURLE_COULDNT_CONNECT:
		if (out_of_fds(pr, i))
			break;
		if (s->open_errno)
			fail_errno(pr, i, "socket", s->open_errno);
		else
			fail_errno(pr, i, "connect", oserr ? (int)oserr : ECONNREFUSED);
		break;
	case CURLE_OPERATION_TIMEDOUT:
		finish(pr, i, false, rt, s->tcp_connected ? "timeout" : "connect timeout");
		break;
	case CURLE_GOT_NOTHING:
		finish(pr, i, false, rt, "closed before status");
		break;
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		if (oserr)
			fail_errno(pr, i, res == CURLE_RECV_ERROR ? "recv" : "send", oserr);
		else
			finish(pr, i, false, rt, "bad response");
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		tls_why(pr, i, rt);
		break;
	case CURLE_SSL_CONNECT_ERROR:
		if (oserr == ECONNRESET || oserr == EPIPE)
			finish(pr, i, false, rt, "connection reset");
		else
			finish(pr, i, false, rt, "tls handshake failed");
		break;
	case CURLE_SSL_CACERT_BADFILE:
		finish(pr, i, false, rt, "tls: cannot read the CA file");
		break;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP_RETURNED_ERROR:
		finish(pr, i, false, rt, "bad response");
		break;
	default:
		finish(pr, i, false, rt, "curl: %s", curl_easy_strerror(res));
	}
}

static void collect_done(struct probe_run *pr)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(pr->multi, &left))) {
		struct probe_state *s = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		http_done(pr, s - pr->st, msg->data.result);
	}
}

/* libcurl: watch @fd for what it needs (or no more). */
static int on_curl_socket(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct probe_run *pr = arg;
	struct epoll_event ev = { .data.u64 = EV_CURL | (__u32)fd };

	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(pr->ep, EPOLL_CTL_DEL, fd, NULL);	/* may be closed already */
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(pr->ep, EPOLL_CTL_MOD, fd, &ev) && errno == ENOENT)
		epoll_ctl(pr->ep, EPOLL_CTL_ADD, fd, &ev);
	return 0;
}

/* libcurl: call back in @ms (-1: no timer). */
static int on_curl_timer(CURLM *m, long ms, void *arg)
{
	struct probe_run *pr = arg;

	pr->curl_due_ns = ms < 0 ? 0 : now_ns() + (__u64)ms * NSEC_PER_MSEC;
	return 0;
}

static void curl_event(struct probe_run *pr, curl_socket_t fd, __u32 events)
{
	int mask = 0, running;

	/* Errors and hang-ups: let libcurl read or write and see for itself. */
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		mask |= CURL_CSELECT_IN;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		mask |= CURL_CSELECT_OUT;
	curl_multi_socket_action(pr->multi, fd, mask, &running);
}

static void curl_timer_due(struct probe_run *pr)
{
	int running;

	if (!pr->curl_due_ns || pr->curl_due_ns > now_ns())
		return;
	pr->curl_due_ns = 0;
	curl_multi_socket_action(pr->multi, CURL_SOCKET_TIMEOUT, 0, &running);
}

/* ---- the run ---- */

/* Starts probe i. Returns -EMFILE when out of descriptors (the probe stays waiting), else 0. */
static int start(struct probe_run *pr, size_t i)
{
	struct probe_state *s = &pr->st[i];
	const struct probe_target *t = s->t;
	unsigned timeout = t->timeout_ms ? t->timeout_ms : PROBE_TIMEOUT_DEFAULT_MS;
	struct sockaddr_storage ss;
	socklen_t len;

	s->start_ns = now_ns();
	s->deadline_ns = s->start_ns + timeout * NSEC_PER_MSEC;
	if (to_sockaddr(t, &ss, &len) || t->port == 0 ||
	    (t->kind != PROBE_TCP && t->kind != PROBE_HTTP && t->kind != PROBE_HTTPS)) {
		finish(pr, i, false, 0, "bad target");
		return 0;
	}
	return t->kind == PROBE_TCP ? tcp_start(pr, i) : http_start(pr, i, timeout);
}

static void start_waiting(struct probe_run *pr)
{
	/* Probes that ran out of descriptors go first, once another one freed some. */
	if (pr->freed) {
		size_t again = pr->nagain;

		pr->freed = false;
		pr->nagain = 0;
		for (size_t k = 0; k < again; k++)
			start(pr, pr->again[k]);
	}
	while (pr->next < pr->n) {
		if (start(pr, pr->next))
			return;
		pr->next++;
	}
}

/* Fails every overdue TCP probe; returns the epoll timeout (ms, -1: none) to the next deadline. */
static int expire(struct probe_run *pr)
{
	__u64 now = now_ns(), min = pr->curl_due_ns;
	size_t i;

	for (i = 0; i < pr->next; i++) {
		struct probe_state *s = &pr->st[i];

		if (s->phase != PH_CONNECTING)
			continue;	/* libcurl keeps the time of its own transfers */
		if (s->deadline_ns <= now) {
			finish(pr, i, false, since_us(s), "connect timeout");
			continue;
		}
		if (!min || s->deadline_ns < min)
			min = s->deadline_ns;
	}
	if (!min)
		return -1;
	return min <= now ? 0 : (min - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
}

static int run_open(struct probe_run *pr)
{
	pthread_once(&curl_once, curl_init);
	if (curl_init_res != CURLE_OK)
		return -ENOMEM;
	pr->st = calloc(pr->n, sizeof(*pr->st));
	pr->again = calloc(pr->n, sizeof(*pr->again));
	if (!pr->st || !pr->again)
		return -ENOMEM;
	pr->ep = epoll_create1(EPOLL_CLOEXEC);
	if (pr->ep < 0)
		return -errno;
	pr->multi = curl_multi_init();
	if (!pr->multi)
		return -ENOMEM;
	curl_multi_setopt(pr->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(pr->multi, CURLMOPT_SOCKETDATA, pr);
	curl_multi_setopt(pr->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(pr->multi, CURLMOPT_TIMERDATA, pr);
	for (size_t i = 0; i < pr->n; i++) {
		pr->st[i].t = &pr->t[i];
		pr->st[i].fd = -1;
		memset(&pr->r[i], 0, sizeof(pr->r[i]));
	}
	return 0;
}

static void run_close(struct probe_run *pr)
{
	for (size_t i = 0; pr->st && i < pr->n; i++) {
		if (pr->st[i].fd >= 0)
			close(pr->st[i].fd);
		curl_release(pr, &pr->st[i]);
	}
	if (pr->multi)
		curl_multi_cleanup(pr->multi);
	if (pr->ep >= 0)
		close(pr->ep);
	free(pr->st);
	free(pr->again);
}

int probe_run(const struct probe_target *targets, struct probe_result *results, size_t n)
{
	struct epoll_event evs[PROBE_EPOLL_BATCH];
	struct probe_run pr = { .t = targets, .r = results, .n = n, .ep = -1 };
	int k, nev, timeout, err;

	if (!n)
		return 0;
	err = run_open(&pr);
	while (!err) {
		start_waiting(&pr);
		curl_timer_due(&pr);
		collect_done(&pr);
		timeout = expire(&pr);
		if (pr.next < pr.n || pr.nagain)
			start_waiting(&pr);	/* finished probes freed descriptors */
		if (!pr.active && pr.next == pr.n && !pr.nagain)
			break;
		nev = epoll_wait(pr.ep, evs, PROBE_EPOLL_BATCH, timeout);
		if (nev < 0) {
			if (errno != EINTR)
				err = -errno;
			continue;
		}
		for (k = 0; k < nev; k++) {
			__u64 d = evs[k].data.u64;

			if (d & EV_CURL)
				curl_event(&pr, (curl_socket_t)(__u32)d, evs[k].events);
			else
				on_tcp_event(&pr, d);
		}
		collect_done(&pr);
	}
	run_close(&pr);
	return err;
}
