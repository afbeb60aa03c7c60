// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of user/lib/httpd.c: the metrics endpoint answers scrapes with the
 * rendered text and the Prometheus content type, refuses everything else,
 * and keeps serving whatever garbage, oversized or slow clients do. The
 * server runs as the agent runs it: libmicrohttpd's own thread, from
 * httpd_open() to httpd_close(), calling render there. Clients are plain
 * blocking sockets with timeouts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpd.h"
#include "check.h"

#define CLIENT_TIMEOUT_MS	2000
#define RESP_MAX		(2 << 20)
#define SLOW_CLIENTS		50
#define OVER_CAP_CLIENTS	100
#define SHORT_TIMEOUT_S		1
#define SLACK_MS		250
#define BIG_BODY		(1 << 20)
#define REQ(lit)		lit, sizeof(lit) - 1	/* a literal request and its length (NULs included) */

/* Written by the server's thread, read by the test's. */
struct render_state {
	atomic_int calls;
	atomic_size_t pad;	/* extra body bytes, for a large response */
};

static void render(struct strbuf *out, void *arg)
{
	struct render_state *rs = arg;
	size_t i, pad = rs->pad;
	int calls = ++rs->calls;

	strbuf_printf(out, "# TYPE xlb_test_renders_total counter\nxlb_test_renders_total %d\n",
		      calls);
	for (i = 0; i < pad; i += 64)
		strbuf_printf(out, "# %061zu\n", i);
}

struct server {
	struct httpd *h;
	struct render_state rs;
	char spec[64];
};

static struct server *server_start(const char *spec, const struct httpd_limits *lim)
{
	struct server *s = calloc(1, sizeof(*s));
	char err[128];

	s->h = httpd_open(spec, lim, render, &s->rs, err, sizeof(err));
	if (!s->h) {
		printf("cannot start server: %s\n", err);
		exit(1);
	}
	snprintf(s->spec, sizeof(s->spec), "%s", spec);
	return s;
}

static void server_stop(struct server *s)
{
	httpd_close(s->h);
	free(s);
}

/* A connected blocking client socket with send/receive timeouts. */
static int client(struct server *s)
{
	struct timeval tv = { .tv_sec = CLIENT_TIMEOUT_MS / 1000,
			      .tv_usec = CLIENT_TIMEOUT_MS % 1000 * 1000 };
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd;

	if (s->spec[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(httpd_port(s->h));
		len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(httpd_port(s->h));
		len = sizeof(*sin);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads to EOF into buf (NUL-terminated); returns bytes, or -errno if none came. */
static ssize_t read_all(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf + len, cap - 1 - len, 0);
		if (n <= 0)
			break;
		len += n;
		if (len == cap - 1)
			break;
	}
	buf[len] = '\0';
	if (n < 0 && !len)
		return -errno;
	return len;
}

/* Sends req, reads the whole response into a static buffer. NULL: connect failed. */
static const char *request(struct server *s, const char *req, size_t len, ssize_t *got)
{
	static char buf[RESP_MAX];
	int fd = client(s);

	*got = -1;
	if (fd < 0)
		return NULL;
	send(fd, req, len, MSG_NOSIGNAL);
	*got = read_all(fd, buf, sizeof(buf));
	close(fd);
	return buf;
}

/* A real scrape: 200, Prometheus content type, Content-Length matching the rendered body. */
static bool scrape_ok(struct server *s)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: text/plain\r\n\r\n";
	char want[128], clen[64];
	const char *r, *body;
	int calls = s->rs.calls;
	ssize_t got;

	r = request(s, req, strlen(req), &got);
	if (!r || got <= 0) {
		t_fail("expected a scrape response, got %s",
		       !r ? "connect failure" : got == 0 ? "EOF" : strerror(-got));
		return false;
	}
	if (strncmp(r, "HTTP/1.1 200 OK\r\n", 17)) {
		t_fail("expected \"HTTP/1.1 200 OK\", got \"%.30s\"", r);
		return false;
	}
	if (!strstr(r, "\r\nContent-Type: " HTTPD_METRICS_TYPE "\r\n")) {
		t_fail("expected Content-Type %s, got \"%s\"", HTTPD_METRICS_TYPE, r);
		return false;
	}
	body = strstr(r, "\r\n\r\n");
	snprintf(want, sizeof(want), "# TYPE xlb_test_renders_total counter\nxlb_test_renders_total %d\n",
		 calls + 1);
	if (!body || strcmp(body + 4, want)) {
		t_fail("expected body \"%s\", got \"%s\"", want, body ? body + 4 : "(none)");
		return false;
	}
	snprintf(clen, sizeof(clen), "\r\nContent-Length: %zu\r\n", strlen(want));
	if (!strstr(r, clen)) {
		t_fail("expected \"%s\", got \"%s\"", clen + 2, r);
		return false;
	}
	return true;
}

/* Two scrapes in a row, each rendered afresh. */
static void scrape_twice(const char *spec)
{
	struct server *s = server_start(spec, NULL);

	if (scrape_ok(s))
		scrape_ok(s);
	server_stop(s);
}

static void httpd_metrics_200(void)
{
	scrape_twice("127.0.0.1:0");
}

static void httpd_metrics_200_ipv6(void)
{
	scrape_twice("[::1]:0");
}

/* Sends req; expects a response starting with want_status, then EOF; then a good scrape. */
static void expect_status(const char *req, size_t len, const char *want_status, int want_renders)
{
	struct server *s = server_start("127.0.0.1:0", NULL);
	const char *r;
	ssize_t got;

	r = request(s, req, len, &got);
	if (!r || got < 0)
		t_fail("expected \"%s\", got %s", want_status, r ? strerror(-got) : "connect failure");
	else if (strncmp(r, want_status, strlen(want_status)))
		t_fail("expected \"%s\", got \"%.40s\"", want_status, r);
	else if (s->rs.calls != want_renders)
		t_fail("expected %d render calls, got %d", want_renders, s->rs.calls);
	else
		scrape_ok(s);
	server_stop(s);
}

static void httpd_metrics_query_200(void)
{
	expect_status(REQ("GET /metrics?x=1 HTTP/1.0\r\n\r\n"), "HTTP/1.1 200 ", 1);
}

static void httpd_head_no_body(void)
{
	static const char req[] = "HEAD /metrics HTTP/1.0\r\n\r\n";
	struct server *s = server_start("127.0.0.1:0", NULL);
	const char *r;
	ssize_t got;

	r = request(s, req, strlen(req), &got);
	if (!r || got <= 0 || strncmp(r, "HTTP/1.1 200 OK\r\n", 17))
		t_fail("expected 200, got \"%.30s\"", r ? r : "(none)");
	else if (strcmp(strstr(r, "\r\n\r\n"), "\r\n\r\n"))
		t_fail("expected no body, got \"%s\"", strstr(r, "\r\n\r\n") + 4);
	server_stop(s);
}

static void httpd_root_404(void)
{
	expect_status(REQ("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), "HTTP/1.1 404 ", 0);
}

static void httpd_prefix_404(void)
{
	expect_status(REQ("GET /metricsx HTTP/1.0\n\n"), "HTTP/1.1 404 ", 0);
}

static void httpd_post_405(void)
{
	expect_status(REQ("POST /metrics HTTP/1.1\r\n\r\n"), "HTTP/1.1 405 ", 0);
}

/* Sends req; expects the connection closed without a byte and nothing rendered; then a good scrape. */
static void expect_closed(const char *req, size_t len)
{
	struct server *s = server_start("127.0.0.1:0", NULL);
	const char *r;
	ssize_t got;

	r = request(s, req, len, &got);
	if (!r || got != 0)
		t_fail("expected a close without an answer, got %s",
		       !r ? "connect failure" : got < 0 ? strerror(-got) : r);
	else if (s->rs.calls != 0)
		t_fail("expected no render call, got %d", s->rs.calls);
	else
		scrape_ok(s);
	server_stop(s);
}

/* A request line without a target (here a TLS hello): libmicrohttpd hangs up at once. */
static void httpd_garbage_closed(void)
{
	expect_closed(REQ("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"));
}

static void httpd_garbage_header_400(void)
{
	expect_status(REQ("GET /metrics HTTP/1.0\r\nno colon here\r\n\r\n"), "HTTP/1.1 400 ", 0);
}

static void httpd_http09_400(void)
{
	expect_status(REQ("GET /metrics\r\n\r\n"), "HTTP/1.1 400 ", 0);
}

static void httpd_http2_505(void)
{
	expect_status(REQ("GET /metrics HTTP/2.0\r\n\r\n"), "HTTP/1.1 505 ", 0);
}

static void httpd_oversized_431(void)
{
	static char big[HTTPD_REQ_MAX_DEFAULT * 2];

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX-Pad: ", 30);
	expect_status(big, sizeof(big), "HTTP/1.1 431 ", 0);
}

/* Garbage without an end of head, then a hang-up: the server drops it and goes on. */
static void httpd_garbage_hangup_keeps_serving(void)
{
	char junk[3000];
	struct server *s;
	size_t i;
	int fd;

	s = server_start("127.0.0.1:0", NULL);
	srand(5);
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = rand() % 256 ? rand() % 256 : 0;
	junk[0] = '\0';
	for (i = 0; i < sizeof(junk) - 1; i++)	/* no blank line: the server keeps waiting */
		if (junk[i] == '\n' && (junk[i + 1] == '\n' || junk[i + 1] == '\r'))
			junk[i] = 'x';
	fd = client(s);
	send(fd, junk, sizeof(junk), MSG_NOSIGNAL);
	close(fd);
	scrape_ok(s);
	server_stop(s);
}

/* A request arriving in pieces is still served. */
static void httpd_request_in_pieces(void)
{
	static const char *parts[] = { "GET /met", "rics HTTP/1.0\r\n", "Host: a\r\n", "\r\n" };
	static char buf[4096];
	struct server *s;
	size_t i;
	int fd;

	s = server_start("127.0.0.1:0", NULL);
	fd = client(s);
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		send(fd, parts[i], strlen(parts[i]), MSG_NOSIGNAL);
		usleep(30000);
	}
	read_all(fd, buf, sizeof(buf));
	if (strncmp(buf, "HTTP/1.1 200 OK\r\n", 17))
		t_fail("expected 200, got \"%.30s\"", buf);
	close(fd);
	server_stop(s);
}

/* Idle clients that connect and send nothing. */
static int open_idle(struct server *s, int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = client(s);
		if (fds[i] < 0)
			return i;
	}
	return n;
}

/* With @nslow clients connected and silent, a scrape is still answered at once. */
static void slow_clients(int nslow)
{
	struct httpd_limits lim = { .timeout_s = 10 };
	int fds[OVER_CAP_CLIENTS], n, i;
	struct server *s;
	long long t0, el;

	s = server_start("127.0.0.1:0", &lim);
	n = open_idle(s, fds, nslow);
	usleep(50000);	/* let the server accept them all first */
	t0 = t_now_ms();
	if (n != nslow)
		t_fail("expected %d idle clients connected, got %d", nslow, n);
	else if (scrape_ok(s) && (el = t_now_ms() - t0) > SLACK_MS)
		t_fail("expected a scrape under %d ms, got %lld ms", SLACK_MS, el);
	for (i = 0; i < n; i++)
		close(fds[i]);
	server_stop(s);
}

static void httpd_50_idle_clients_scrape_ok(void)
{
	slow_clients(SLOW_CLIENTS);
}

static void httpd_idle_clients_over_cap_scrape_ok(void)
{
	slow_clients(OVER_CAP_CLIENTS);
}

/* A client that sends nothing is closed at the deadline. */
static void httpd_idle_client_closed_at_deadline(void)
{
	struct httpd_limits lim = { .timeout_s = SHORT_TIMEOUT_S };
	const long long want_ms = SHORT_TIMEOUT_S * 1000;
	struct server *s;
	long long t0, el;
	char c;
	ssize_t n;
	int fd;

	s = server_start("127.0.0.1:0", &lim);
	t0 = t_now_ms();
	fd = client(s);
	n = recv(fd, &c, 1, 0);
	el = t_now_ms() - t0;
	if (n != 0)
		t_fail("expected EOF, got %zd (%s)", n, n < 0 ? strerror(errno) : "data");
	else if (el < want_ms - 10 || el > want_ms + SLACK_MS)
		t_fail("expected close after %lld..%lld ms, got %lld ms", want_ms,
		       want_ms + SLACK_MS, el);
	close(fd);
	server_stop(s);
}

/* A client that never reads a 1 MB response does not hold the server up. */
static void httpd_unread_response_no_stall(void)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct server *s;
	int fd;

	s = server_start("127.0.0.1:0", NULL);
	s->rs.pad = BIG_BODY;
	fd = client(s);
	send(fd, req, strlen(req), MSG_NOSIGNAL);
	usleep(100000);
	s->rs.pad = 0;
	if (s->rs.calls != 1)
		t_fail("expected the big response rendered once, got %d", s->rs.calls);
	else
		scrape_ok(s);
	close(fd);
	server_stop(s);
}

static void httpd_open_errors(void)
{
	static const char *bad[] = { "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000", "::1:80",
				     "[::1]80", "localhost:80", "[127.0.0.1]:80", "1.2.3.4.5:1" };
	struct httpd *h, *h2;
	char err[128], spec[64], want[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		errno = 0;
		h = httpd_open(bad[i], NULL, render, NULL, err, sizeof(err));
		if (h || errno != EINVAL || !strstr(err, bad[i])) {
			t_fail("expected NULL, EINVAL and a message naming \"%s\", got %p, %d, \"%s\"",
			       bad[i], (void *)h, errno, err);
			httpd_close(h);
			return;
		}
	}
	h = httpd_open("127.0.0.1:0", NULL, render, NULL, err, sizeof(err));
	if (!h) {
		t_fail("expected to listen on 127.0.0.1:0, got \"%s\"", err);
		return;
	}
	snprintf(spec, sizeof(spec), "127.0.0.1:%u", httpd_port(h));
	snprintf(want, sizeof(want), "cannot listen on %s: %s", spec, strerror(EADDRINUSE));
	h2 = httpd_open(spec, NULL, render, NULL, err, sizeof(err));
	if (h2 || errno != EADDRINUSE || strcmp(err, want))
		t_fail("expected NULL, EADDRINUSE, \"%s\", got %p, %d, \"%s\"", want, (void *)h2,
		       errno, err);
	httpd_close(h2);
	httpd_close(h);
}

/*
 * The agent's loop never waits for a client: it only starts and stops the
 * server, and stopping it with a silent client and an unread response held
 * open returns at once.
 */
static void httpd_close_never_blocks(void)
{
	static const char req[] = "GET /metrics HTTP/1.0\r\n\r\n";
	struct server *s = server_start("127.0.0.1:0", NULL);
	long long t0, el;
	int idle, unread;

	s->rs.pad = BIG_BODY;
	idle = client(s);	/* connected, never sends */
	unread = client(s);
	send(unread, req, strlen(req), MSG_NOSIGNAL);
	usleep(100000);
	t0 = t_now_ms();
	server_stop(s);
	el = t_now_ms() - t0;
	if (el > 50)
		t_fail("expected httpd_close with two clients held open under 50 ms, got %lld ms", el);
	close(idle);
	close(unread);
}

static const struct t_case cases[] = {
	T_CASE(httpd_metrics_200),
	T_CASE(httpd_metrics_200_ipv6),
	T_CASE(httpd_metrics_query_200),
	T_CASE(httpd_head_no_body),
	T_CASE(httpd_root_404),
	T_CASE(httpd_prefix_404),
	T_CASE(httpd_post_405),
	T_CASE(httpd_garbage_closed),
	T_CASE(httpd_garbage_header_400),
	T_CASE(httpd_http09_400),
	T_CASE(httpd_http2_505),
	T_CASE(httpd_oversized_431),
	T_CASE(httpd_garbage_hangup_keeps_serving),
	T_CASE(httpd_request_in_pieces),
	T_CASE(httpd_50_idle_clients_scrape_ok),
	T_CASE(httpd_idle_clients_over_cap_scrape_ok),
	T_CASE(httpd_idle_client_closed_at_deadline),
	T_CASE(httpd_unread_response_no_stall),
	T_CASE(httpd_open_errors),
	T_CASE(httpd_close_never_blocks),
};

int main(int argc, char **argv)
{
	return t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
