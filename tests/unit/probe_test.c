// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of user/lib/probe.c against real servers on 127.0.0.1 and ::1 (the
 * runner's private namespace): TCP, HTTP and HTTPS verdicts, reasons,
 * timeouts, and that many probes with one hanging target take one timeout,
 * not the sum. Each plain server is a thread answering connections in one
 * fixed way; each TLS server is `openssl s_server -WWW` with a certificate
 * made by `openssl` in a temporary directory (a test CA's, an expired one,
 * a self-signed one), so verification is tested against real chains.
 */
#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xlb_abi.h"
#include "probe.h"
#include "check.h"

#define TIMEOUT_MS	300
#define SLACK_MS	250	/* scheduling noise allowed over a timeout */
#define MAX_HELD	512
#define SRV_READ_MS	2000

enum srv_mode {
	SRV_LISTEN,	/* never accepts: the kernel completes handshakes */
	SRV_REPLY,	/* reads the request head, sends reply, closes */
	SRV_SPLIT,	/* as REPLY, the reply in two writes 50 ms apart */
	SRV_RESET,	/* reads the request head, closes with RST */
	SRV_EOF,	/* reads the request head, closes without a word */
	SRV_HANG,	/* accepts and holds the connection, silent */
};

struct server {
	int lfd;
	int stopfd;
	__u16 port;
	__u8 family;
	enum srv_mode mode;
	const char *reply;
	pthread_t th;
	pid_t pid;		/* server_fork: the child serving, else 0 */
	int held[MAX_HELD];
	int nheld;
	int served;
	char last_req[1024];
};

/* Reads until the end of the request head (or 2 s): the probe's request. */
static void read_head(struct server *s, int fd)
{
	size_t len = 0;
	ssize_t n;

	while (len < sizeof(s->last_req) - 1 && !strstr(s->last_req, "\r\n\r\n")) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, SRV_READ_MS) <= 0)
			return;
		n = recv(fd, s->last_req + len, sizeof(s->last_req) - 1 - len, 0);
		if (n <= 0)
			return;
		len += n;
		s->last_req[len] = '\0';
	}
}

static void serve_one(struct server *s, int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	size_t half;

	s->served++;
	if (s->mode == SRV_HANG && s->nheld < MAX_HELD) {
		s->held[s->nheld++] = fd;
		return;
	}
	s->last_req[0] = '\0';
	read_head(s, fd);
	switch (s->mode) {
	case SRV_REPLY:
		send(fd, s->reply, strlen(s->reply), MSG_NOSIGNAL);
		break;
	case SRV_SPLIT:
		half = strlen(s->reply) / 2;
		send(fd, s->reply, half, MSG_NOSIGNAL);
		usleep(50000);
		send(fd, s->reply + half, strlen(s->reply) - half, MSG_NOSIGNAL);
		break;
	case SRV_RESET:
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		break;
	default:
		break;
	}
	close(fd);
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	struct pollfd p[2] = { { .fd = s->stopfd, .events = POLLIN }, { .fd = s->lfd, .events = POLLIN } };
	int fd;

	for (;;) {
		if (poll(p, s->mode == SRV_LISTEN ? 1 : 2, -1) < 0)
			continue;
		if (p[0].revents)
			break;
		fd = accept(s->lfd, NULL, NULL);
		if (fd >= 0)
			serve_one(s, fd);
	}
	return NULL;
}

static void loopback(__u8 family, struct sockaddr_storage *ss, socklen_t *len, __u16 port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == XLB_AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	}
}

/* A bound, listening loopback socket on a free port; returns fd, port in *port. */
static int listen_loopback(__u8 family, int backlog, __u16 *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	loopback(family, &ss, &len, 0);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || listen(fd, backlog) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		perror("listen_loopback");
		exit(1);
	}
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);	/* same offset in sin6 */
	return fd;
}

static struct server *server_start(__u8 family, enum srv_mode mode, const char *reply)
{
	struct server *s = calloc(1, sizeof(*s));

	s->family = family;
	s->mode = mode;
	s->reply = reply;
	s->lfd = listen_loopback(family, 1024, &s->port);
	s->stopfd = eventfd(0, EFD_CLOEXEC);
	pthread_create(&s->th, NULL, server_main, s);
	return s;
}

/* As server_start, the server in a child process: it has descriptors of its own. */
static struct server *server_fork(__u8 family, enum srv_mode mode, const char *reply)
{
	struct server *s = calloc(1, sizeof(*s));

	s->family = family;
	s->mode = mode;
	s->reply = reply;
	s->lfd = listen_loopback(family, 1024, &s->port);
	s->stopfd = eventfd(0, EFD_CLOEXEC);
	s->pid = fork();
	if (s->pid == 0) {
		server_main(s);
		_exit(0);
	}
	close(s->lfd);
	return s;
}

static void server_stop(struct server *s)
{
	__u64 one = 1;
	int i;

	if (write(s->stopfd, &one, sizeof(one)) != sizeof(one))
		perror("eventfd");
	if (s->pid > 0) {
		waitpid(s->pid, NULL, 0);
		close(s->stopfd);
		free(s);
		return;
	}
	pthread_join(s->th, NULL);
	for (i = 0; i < s->nheld; i++)
		close(s->held[i]);
	close(s->lfd);
	close(s->stopfd);
	free(s);
}

/* A port nobody listens on: bound once, then released. */
static __u16 closed_port(__u8 family)
{
	__u16 port;
	int fd = listen_loopback(family, 1, &port);

	close(fd);
	return port;
}

static struct probe_target target(__u8 family, __u16 port, enum probe_kind kind, const char *path)
{
	struct probe_target t = {
		.family = family, .port = port, .kind = kind, .path = path, .timeout_ms = TIMEOUT_MS,
	};

	if (family == XLB_AF_INET)
		t.addr[0] = htonl(INADDR_LOOPBACK);
	else
		memcpy(t.addr, &in6addr_loopback, sizeof(t.addr));
	return t;
}

/* Runs one probe, checks verdict and reason; returns elapsed ms or -1 after t_fail(). */
static long long expect_one(struct probe_target t, bool ok, const char *why)
{
	struct probe_result r;
	long long t0 = t_now_ms(), el;
	int err;

	err = probe_run(&t, &r, 1);
	el = t_now_ms() - t0;
	if (err) {
		t_fail("expected probe_run 0, got %d", err);
		return -1;
	}
	if (r.ok != ok || strcmp(r.why, why)) {
		t_fail("expected ok=%d why=\"%s\", got ok=%d why=\"%s\"", ok, why, r.ok, r.why);
		return -1;
	}
	if (r.rt_us > el * 1000 + 1000) {
		t_fail("expected rt_us <= elapsed %lld ms, got %u us", el, r.rt_us);
		return -1;
	}
	return el;
}

/* As expect_one() for a failing probe that must take one timeout, give or take noise. */
static void expect_timeout(struct probe_target t, const char *why)
{
	long long el = expect_one(t, false, why);

	if (el >= 0 && (el < TIMEOUT_MS || el > TIMEOUT_MS + SLACK_MS))
		t_fail("expected %d..%d ms, got %lld ms", TIMEOUT_MS, TIMEOUT_MS + SLACK_MS, el);
}

static void tcp_ok(__u8 family)
{
	struct server *s = server_start(family, SRV_LISTEN, NULL);

	expect_one(target(family, s->port, PROBE_TCP, NULL), true, "");
	server_stop(s);
}

static void probe_tcp_listening_ok(void)
{
	tcp_ok(XLB_AF_INET);
}

static void probe_tcp_listening_ok_ipv6(void)
{
	tcp_ok(XLB_AF_INET6);
}

static void tcp_refused(__u8 family)
{
	expect_one(target(family, closed_port(family), PROBE_TCP, NULL), false, "connect refused");
}

static void probe_tcp_closed_refused(void)
{
	tcp_refused(XLB_AF_INET);
}

static void probe_tcp_closed_refused_ipv6(void)
{
	tcp_refused(XLB_AF_INET6);
}

/*
 * A listener whose accept queue is full drops SYNs, so a connect hangs:
 * backlog 0 admits one connection, a second filler overflows it.
 */
static void syn_dropped(enum probe_kind kind)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int lfd, fillers[3], i;
	__u16 port;

	lfd = listen_loopback(XLB_AF_INET, 0, &port);
	loopback(XLB_AF_INET, &ss, &len, port);
	for (i = 0; i < 3; i++) {
		fillers[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fillers[i], (struct sockaddr *)&ss, len);
	}
	usleep(50000);
	expect_timeout(target(XLB_AF_INET, port, kind, NULL), "connect timeout");
	for (i = 0; i < 3; i++)
		close(fillers[i]);
	close(lfd);
}

static void probe_tcp_syn_dropped_timeout(void)
{
	syn_dropped(PROBE_TCP);
}

static void probe_http_syn_dropped_connect_timeout(void)
{
	syn_dropped(PROBE_HTTP);
}

static void probe_https_syn_dropped_connect_timeout(void)
{
	syn_dropped(PROBE_HTTPS);
}

/* One HTTP probe of "/healthz" against a server answering in @mode with @reply. */
static void http(__u8 family, enum srv_mode mode, const char *reply, bool ok, const char *why)
{
	struct server *s = server_start(family, mode, reply);

	expect_one(target(family, s->port, PROBE_HTTP, "/healthz"), ok, why);
	server_stop(s);
}

static void probe_http_200_ok(void)
{
	http(XLB_AF_INET, SRV_REPLY, "HTTP/1.0 200 OK\r\n\r\nfine\n", true, "");
}

static void probe_http_200_ok_ipv6(void)
{
	http(XLB_AF_INET6, SRV_REPLY, "HTTP/1.1 200 OK\r\n\r\n", true, "");
}

static void probe_http_302_ok(void)
{
	http(XLB_AF_INET, SRV_REPLY, "HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n", true, "");
}

static void probe_http_status_line_split_ok(void)
{
	http(XLB_AF_INET, SRV_SPLIT, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true, "");
}

static void probe_http_500_not_ok(void)
{
	http(XLB_AF_INET, SRV_REPLY, "HTTP/1.1 500 Internal\r\n\r\n", false, "http 500");
}

static void probe_http_404_not_ok(void)
{
	http(XLB_AF_INET, SRV_REPLY, "HTTP/1.0 404 Not Found\r\n\r\n", false, "http 404");
}

static void probe_http_garbage_not_ok(void)
{
	http(XLB_AF_INET, SRV_REPLY, "SSH-2.0-OpenSSH_9.2\r\n", false, "bad response");
}

static void probe_http_bad_status_code_not_ok(void)
{
	http(XLB_AF_INET, SRV_REPLY, "HTTP/1.1 2x0 OK\r\n\r\n", false, "bad response");
}

static void probe_http_reset_not_ok(void)
{
	http(XLB_AF_INET, SRV_RESET, NULL, false, "connection reset");
}

static void probe_http_eof_not_ok(void)
{
	http(XLB_AF_INET, SRV_EOF, NULL, false, "closed before status");
}

static void probe_http_never_accepted_timeout(void)
{
	http(XLB_AF_INET6, SRV_LISTEN, NULL, false, "timeout");
}

static void probe_http_accept_hang_timeout(void)
{
	struct server *s = server_start(XLB_AF_INET, SRV_HANG, NULL);

	expect_timeout(target(XLB_AF_INET, s->port, PROBE_HTTP, "/"), "timeout");
	server_stop(s);
}

/* The request on the wire: request line, Host with the port, Connection: close. */
static void expect_request(const char *req, const char *want_host)
{
	static const char want_line[] = "GET /check?x=1 HTTP/1.0\r\n";

	if (strncmp(req, want_line, strlen(want_line))) {
		t_fail("expected request line \"GET /check?x=1 HTTP/1.0\", got \"%.40s\"", req);
		return;
	}
	if (!strstr(req, want_host)) {
		t_fail("expected \"%s\" in the request, got \"%s\"", want_host + 2, req);
		return;
	}
	if (!strstr(req, "\r\nConnection: close\r\n"))
		t_fail("expected Connection: close, got \"%s\"", req);
}

static void http_request(__u8 family, const char *host)
{
	struct server *s = server_start(family, SRV_REPLY, "HTTP/1.1 204 No Content\r\n\r\n");
	struct probe_target t = target(family, s->port, PROBE_HTTP, "/check?x=1");
	char want_host[128];

	t.host = host;
	if (host)
		snprintf(want_host, sizeof(want_host), "\r\nHost: %s\r\n", host);
	else
		snprintf(want_host, sizeof(want_host), family == XLB_AF_INET ?
			 "\r\nHost: 127.0.0.1:%u\r\n" : "\r\nHost: [::1]:%u\r\n", s->port);
	if (expect_one(t, true, "") >= 0)
		expect_request(s->last_req, want_host);
	server_stop(s);
}

static void probe_http_request_format(void)
{
	http_request(XLB_AF_INET, NULL);
}

static void probe_http_request_format_ipv6(void)
{
	http_request(XLB_AF_INET6, NULL);
}

static void probe_http_request_host_header(void)
{
	http_request(XLB_AF_INET, "www.example.test");
}

static void probe_http_request_host_header_ipv6(void)
{
	http_request(XLB_AF_INET6, "www.example.test");
}

static void probe_http_path_injection_refused(void)
{
	struct server *s = server_start(XLB_AF_INET, SRV_REPLY, "HTTP/1.0 200 OK\r\n\r\n");
	struct probe_target t = target(XLB_AF_INET, s->port, PROBE_HTTP, "/x HTTP/1.0\r\nEvil: 1");

	if (expect_one(t, false, "bad target") >= 0) {
		usleep(20000);
		if (s->served)
			t_fail("expected no connection to the server, got %d", s->served);
	}
	server_stop(s);
}

/* ---- status range and body ---- */

static void http_expect(const char *reply, __u16 lo, __u16 hi, const char *body, enum srv_mode mode,
			bool ok, const char *why)
{
	struct server *s = server_start(XLB_AF_INET, mode, reply);
	struct probe_target t = target(XLB_AF_INET, s->port, PROBE_HTTP, "/");

	t.status_lo = lo;
	t.status_hi = hi;
	t.expect_body = body;
	expect_one(t, ok, why);
	server_stop(s);
}

static void probe_http_status_out_of_range_not_ok(void)
{
	http_expect("HTTP/1.0 200 OK\r\n\r\n", 300, 399, NULL, SRV_REPLY, false, "http 200");
}

static void probe_http_status_in_range_ok(void)
{
	http_expect("HTTP/1.0 503 Busy\r\n\r\n", 500, 503, NULL, SRV_REPLY, true, "");
}

/* An interim 100 response, then the real one: the final status counts. */
static void probe_http_interim_100_then_500_not_ok(void)
{
	http_expect("HTTP/1.1 100 Continue\r\nX-A: b\r\n\r\nHTTP/1.1 500 Oops\r\n\r\n", 0, 0, NULL,
		    SRV_REPLY, false, "http 500");
}

static void probe_http_interim_100_then_200_ok(void)
{
	http_expect("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", 0, 0, NULL, SRV_REPLY,
		    true, "");
}

static void probe_http_body_found_ok(void)
{
	http_expect("HTTP/1.0 200 OK\r\n\r\nstatus=green\n", 0, 0, "green", SRV_REPLY, true, "");
}

static void probe_http_body_missing_not_ok(void)
{
	http_expect("HTTP/1.0 200 OK\r\n\r\nstatus=red\n", 0, 0, "green", SRV_REPLY, false,
		    "body mismatch");
}

/* The reply comes in two writes 50 ms apart, split in the middle of the string. */
static void probe_http_body_split_ok(void)
{
	static const char reply[] = "HTTP/1.0 200 OK\r\n\r\naaaaaaaaagreenbbbbbbbbbbbbbbbbbbbbbbbbbbb";

	if (strstr(reply, "green") - reply >= (long)strlen(reply) / 2 ||
	    strstr(reply, "green") - reply + 5 <= (long)strlen(reply) / 2) {
		t_fail("expected the string across the split");
		return;
	}
	http_expect(reply, 0, 0, "green", SRV_SPLIT, true, "");
}

/* The status decides the body check: a 500 with the string in it is not ok. */
static void probe_http_body_bad_status_not_ok(void)
{
	http_expect("HTTP/1.0 500 Oops\r\n\r\ngreen\n", 0, 0, "green", SRV_REPLY, false, "http 500");
}

/* ---- HTTPS against openssl s_server ---- */

#define TLS_NAME	"b.xlb.test"
#define TLS_BODY	"ok-tls"
#define TLS_READY_MS	5000
#define TLS_KEY		"-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

static char tls_dir[64];

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/*
 * Once per run: a CA, a server key with a certificate from it for TLS_NAME
 * and the loopback addresses (good.pem), the same expired (expired.pem), a
 * self-signed one (self.pem), and the file s_server -WWW serves.
 */
static bool tls_files(void)
{
	static int made;	/* 0: not yet, 1: ok, -1: failed */

	if (made)
		return made > 0;
	made = -1;
	snprintf(tls_dir, sizeof(tls_dir), "/tmp/xlb-probe-test.XXXXXX");
	if (!mkdtemp(tls_dir))
		return false;
	if (sh("(cd %s && printf 'subjectAltName=DNS:%s,IP:127.0.0.1,IP:::1\\n' >ext && "
	       "printf '%s\\n' >health && "
	       "openssl req -x509 " TLS_KEY " -keyout ca.key -out ca.pem -days 2 -subj /CN=xlb-test-ca && "
	       "openssl req " TLS_KEY " -keyout srv.key -out srv.csr -subj /CN=%s && "
	       "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	       "-out good.pem -days 2 -extfile ext && "
	       "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
	       "-out expired.pem -days -1 -extfile ext && "
	       "openssl req -x509 " TLS_KEY " -keyout self.key -out self.pem -days 2 -subj /CN=%s "
	       "-addext subjectAltName=DNS:%s,IP:127.0.0.1) >/dev/null 2>&1",
	       tls_dir, TLS_NAME, TLS_BODY, TLS_NAME, TLS_NAME, TLS_NAME))
		fprintf(stderr, "probe_test: openssl could not make the test certificates\n");
	else
		made = 1;
	return made > 0;
}

static void tls_files_remove(void)
{
	if (tls_dir[0])
		sh("rm -rf %s", tls_dir);
}

struct tls_server {
	pid_t pid;
	__u16 port;
};

/* Connects until the server accepts (bounded): it is ready. */
static bool port_ready(__u16 port)
{
	struct sockaddr_storage ss;
	long long end = t_now_ms() + TLS_READY_MS;
	socklen_t len;

	loopback(XLB_AF_INET, &ss, &len, port);
	while (t_now_ms() < end) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok = connect(fd, (struct sockaddr *)&ss, len) == 0;

		close(fd);
		if (ok)
			return true;
		usleep(20000);
	}
	return false;
}

/* `openssl s_server -WWW` on 127.0.0.1 with @cert (and its key), serving tls_dir. */
static bool tls_start(struct tls_server *ts, const char *cert, const char *key)
{
	char accept[32], certp[128], keyp[128];

	if (!tls_files()) {
		t_fail("expected the test certificates (openssl), got a failure");
		return false;
	}
	ts->port = closed_port(XLB_AF_INET);
	snprintf(accept, sizeof(accept), "127.0.0.1:%u", ts->port);
	snprintf(certp, sizeof(certp), "%s/%s", tls_dir, cert);
	snprintf(keyp, sizeof(keyp), "%s/%s", tls_dir, key);
	ts->pid = fork();
	if (ts->pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (chdir(tls_dir) == 0)
			execlp("openssl", "openssl", "s_server", "-quiet", "-accept", accept,
			       "-cert", certp, "-key", keyp, "-WWW", (char *)NULL);
		_exit(127);
	}
	if (ts->pid < 0 || !port_ready(ts->port)) {
		t_fail("expected openssl s_server on %s, got none", accept);
		return false;
	}
	return true;
}

static void tls_stop(struct tls_server *ts)
{
	if (ts->pid > 0) {
		kill(ts->pid, SIGTERM);
		waitpid(ts->pid, NULL, 0);
	}
}

/* One HTTPS probe of /health on a server with @cert; @host NULL: the address. */
static void https(const char *cert, const char *key, const char *host, bool with_ca, bool insecure,
		  const char *body, bool ok, const char *why)
{
	struct tls_server ts = { 0 };
	struct probe_target t;
	char ca[128];

	if (!tls_start(&ts, cert, key)) {
		tls_stop(&ts);
		return;
	}
	snprintf(ca, sizeof(ca), "%s/ca.pem", tls_dir);
	t = target(XLB_AF_INET, ts.port, PROBE_HTTPS, "/health");
	t.host = host;
	t.ca_file = with_ca ? ca : NULL;
	t.insecure = insecure;
	t.expect_body = body;
	expect_one(t, ok, why);
	tls_stop(&ts);
}

static void probe_https_trusted_ok(void)
{
	https("good.pem", "srv.key", TLS_NAME, true, false, NULL, true, "");
}

static void probe_https_address_name_ok(void)
{
	https("good.pem", "srv.key", NULL, true, false, NULL, true, "");
}

static void probe_https_body_ok(void)
{
	https("good.pem", "srv.key", TLS_NAME, true, false, TLS_BODY, true, "");
}

static void probe_https_body_mismatch(void)
{
	https("good.pem", "srv.key", TLS_NAME, true, false, "not-there", false, "body mismatch");
}

static void probe_https_name_mismatch_refused(void)
{
	https("good.pem", "srv.key", "other.xlb.test", true, false, NULL, false, "tls: name mismatch");
}

/* The system's trust store does not know the test CA: its certificate is refused too. */
static void probe_https_unknown_ca_refused(void)
{
	https("good.pem", "srv.key", TLS_NAME, false, false, NULL, false,
	      "tls: unable to get local issuer certificate");
}

static void probe_https_self_signed_refused(void)
{
	https("self.pem", "self.key", TLS_NAME, false, false, NULL, false,
	      "tls: self-signed certificate");
}

static void probe_https_self_signed_insecure_ok(void)
{
	https("self.pem", "self.key", TLS_NAME, false, true, NULL, true, "");
}

static void probe_https_expired_refused(void)
{
	https("expired.pem", "srv.key", TLS_NAME, true, false, NULL, false,
	      "tls: certificate has expired");
}

static void probe_https_expired_insecure_ok(void)
{
	https("expired.pem", "srv.key", TLS_NAME, true, true, NULL, true, "");
}

/* A server that accepts and never says a word: the handshake times out. */
static void probe_https_hang_timeout(void)
{
	struct server *s = server_start(XLB_AF_INET, SRV_HANG, NULL);

	expect_timeout(target(XLB_AF_INET, s->port, PROBE_HTTPS, "/"), "timeout");
	server_stop(s);
}

/* A host that would end the URL early is refused before any connection. */
static void probe_https_bad_host_refused(void)
{
	struct server *s = server_start(XLB_AF_INET, SRV_REPLY, "HTTP/1.0 200 OK\r\n\r\n");
	struct probe_target t = target(XLB_AF_INET, s->port, PROBE_HTTP, "/");

	t.host = "evil.test/x?";
	if (expect_one(t, false, "bad target") >= 0) {
		usleep(20000);
		if (s->served)
			t_fail("expected no connection to the server, got %d", s->served);
	}
	server_stop(s);
}

#define MIX_N		200
#define MIX_HANG	137

/* Every verdict as wanted, about one timeout in all, healthy probes well under it. */
static void expect_mix(int err, long long el, const struct probe_result *r, const bool *want_ok,
		       const char *const *want)
{
	unsigned max_ok_rt = 0;
	int i;

	if (err) {
		t_fail("expected probe_run 0, got %d", err);
		return;
	}
	for (i = 0; i < MIX_N; i++) {
		if (r[i].ok != want_ok[i] || strcmp(r[i].why, want[i])) {
			t_fail("expected probe %d ok=%d why=\"%s\", got ok=%d why=\"%s\"", i,
			       want_ok[i], want[i], r[i].ok, r[i].why);
			return;
		}
		if (r[i].ok && r[i].rt_us > max_ok_rt)
			max_ok_rt = r[i].rt_us;
	}
	if (el < TIMEOUT_MS || el > TIMEOUT_MS + SLACK_MS) {
		t_fail("expected %d..%d ms in all, got %lld ms", TIMEOUT_MS, TIMEOUT_MS + SLACK_MS, el);
		return;
	}
	if (max_ok_rt > TIMEOUT_MS * 1000 / 2) {
		t_fail("expected healthy probes under %d us, got %u us", TIMEOUT_MS * 1000 / 2,
		       max_ok_rt);
		return;
	}
	printf("     %d probes in %lld ms, slowest healthy %u us\n", MIX_N, el, max_ok_rt);
}

/* 200 probes, one to a hanging server: about one timeout in all, the others unaffected. */
static void probe_200_concurrent_one_hangs(void)
{
	struct server *lst, *ok200, *e500, *r302, *hang;
	struct probe_target t[MIX_N];
	struct probe_result r[MIX_N];
	const char *want[MIX_N];
	bool want_ok[MIX_N];
	__u16 closed;
	long long t0, el;
	int i, err;

	lst = server_start(XLB_AF_INET, SRV_LISTEN, NULL);
	ok200 = server_start(XLB_AF_INET, SRV_REPLY, "HTTP/1.0 200 OK\r\n\r\nok\n");
	e500 = server_start(XLB_AF_INET6, SRV_REPLY, "HTTP/1.1 500 Oops\r\n\r\n");
	r302 = server_start(XLB_AF_INET6, SRV_REPLY, "HTTP/1.1 302 Found\r\nLocation: /\r\n\r\n");
	hang = server_start(XLB_AF_INET, SRV_HANG, NULL);
	closed = closed_port(XLB_AF_INET);
	for (i = 0; i < MIX_N; i++) {
		switch (i % 5) {
		case 0: t[i] = target(XLB_AF_INET, lst->port, PROBE_TCP, NULL);
			want_ok[i] = true; want[i] = ""; break;
		case 1: t[i] = target(XLB_AF_INET, ok200->port, PROBE_HTTP, "/");
			want_ok[i] = true; want[i] = ""; break;
		case 2: t[i] = target(XLB_AF_INET, closed, PROBE_TCP, NULL);
			want_ok[i] = false; want[i] = "connect refused"; break;
		case 3: t[i] = target(XLB_AF_INET6, e500->port, PROBE_HTTP, "/");
			want_ok[i] = false; want[i] = "http 500"; break;
		default: t[i] = target(XLB_AF_INET6, r302->port, PROBE_HTTP, "/");
			want_ok[i] = true; want[i] = ""; break;
		}
	}
	t[MIX_HANG] = target(XLB_AF_INET, hang->port, PROBE_HTTP, "/");
	want_ok[MIX_HANG] = false;
	want[MIX_HANG] = "timeout";

	t0 = t_now_ms();
	err = probe_run(t, r, MIX_N);
	el = t_now_ms() - t0;
	expect_mix(err, el, r, want_ok, want);
	server_stop(lst);
	server_stop(ok200);
	server_stop(e500);
	server_stop(r302);
	server_stop(hang);
}

#define FDLIM_PROBES	150
#define FDLIM_SPARE	24

/* With too few descriptors for all probes at once, the rest wait their turn and pass. */
static void fd_limit(enum probe_kind kind)
{
	struct probe_target t[FDLIM_PROBES];
	struct probe_result r[FDLIM_PROBES];
	struct rlimit old, lim;
	struct server *s;
	int i, nok = 0, err, probe_fd;

	s = kind == PROBE_TCP ? server_start(XLB_AF_INET, SRV_LISTEN, NULL) :
				server_fork(XLB_AF_INET, SRV_REPLY, "HTTP/1.0 200 OK\r\n\r\n");
	for (i = 0; i < FDLIM_PROBES; i++)
		t[i] = target(XLB_AF_INET, s->port, kind, "/");
	getrlimit(RLIMIT_NOFILE, &old);
	probe_fd = dup(0);	/* the lowest free descriptor: how many are open */
	close(probe_fd);
	lim = old;
	lim.rlim_cur = probe_fd + FDLIM_SPARE;
	setrlimit(RLIMIT_NOFILE, &lim);
	err = probe_run(t, r, FDLIM_PROBES);
	setrlimit(RLIMIT_NOFILE, &old);
	for (i = 0; i < FDLIM_PROBES; i++)
		nok += r[i].ok;
	if (err)
		t_fail("expected probe_run 0, got %d", err);
	else if (nok != FDLIM_PROBES)
		t_fail("expected %d ok with %d spare descriptors, got %d (first why \"%s\")",
		       FDLIM_PROBES, FDLIM_SPARE, nok, r[0].ok ? r[FDLIM_PROBES - 1].why : r[0].why);
	server_stop(s);
}

static void probe_fd_limit_defers(void)
{
	fd_limit(PROBE_TCP);
}

static void probe_fd_limit_defers_http(void)
{
	fd_limit(PROBE_HTTP);
}

static const struct t_case cases[] = {
	T_CASE(probe_tcp_listening_ok),
	T_CASE(probe_tcp_listening_ok_ipv6),
	T_CASE(probe_tcp_closed_refused),
	T_CASE(probe_tcp_closed_refused_ipv6),
	T_CASE(probe_tcp_syn_dropped_timeout),
	T_CASE(probe_http_syn_dropped_connect_timeout),
	T_CASE(probe_https_syn_dropped_connect_timeout),
	T_CASE(probe_http_200_ok),
	T_CASE(probe_http_200_ok_ipv6),
	T_CASE(probe_http_302_ok),
	T_CASE(probe_http_status_line_split_ok),
	T_CASE(probe_http_500_not_ok),
	T_CASE(probe_http_404_not_ok),
	T_CASE(probe_http_garbage_not_ok),
	T_CASE(probe_http_bad_status_code_not_ok),
	T_CASE(probe_http_reset_not_ok),
	T_CASE(probe_http_eof_not_ok),
	T_CASE(probe_http_never_accepted_timeout),
	T_CASE(probe_http_accept_hang_timeout),
	T_CASE(probe_http_request_format),
	T_CASE(probe_http_request_format_ipv6),
	T_CASE(probe_http_request_host_header),
	T_CASE(probe_http_request_host_header_ipv6),
	T_CASE(probe_http_path_injection_refused),
	T_CASE(probe_http_status_out_of_range_not_ok),
	T_CASE(probe_http_status_in_range_ok),
	T_CASE(probe_http_interim_100_then_500_not_ok),
	T_CASE(probe_http_interim_100_then_200_ok),
	T_CASE(probe_http_body_found_ok),
	T_CASE(probe_http_body_missing_not_ok),
	T_CASE(probe_http_body_split_ok),
	T_CASE(probe_http_body_bad_status_not_ok),
	T_CASE(probe_https_trusted_ok),
	T_CASE(probe_https_address_name_ok),
	T_CASE(probe_https_body_ok),
	T_CASE(probe_https_body_mismatch),
	T_CASE(probe_https_name_mismatch_refused),
	T_CASE(probe_https_unknown_ca_refused),
	T_CASE(probe_https_self_signed_refused),
	T_CASE(probe_https_self_signed_insecure_ok),
	T_CASE(probe_https_expired_refused),
	T_CASE(probe_https_expired_insecure_ok),
	T_CASE(probe_https_hang_timeout),
	T_CASE(probe_https_bad_host_refused),
	T_CASE(probe_200_concurrent_one_hangs),
	T_CASE(probe_fd_limit_defers),
	T_CASE(probe_fd_limit_defers_http),
};

int main(int argc, char **argv)
{
	int ret = t_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));

	tls_files_remove();
	return ret;
}
