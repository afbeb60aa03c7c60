// SPDX-License-Identifier: GPL-2.0
/*
 * httpslow: a backend for the agent's tests that answers HTTP health checks
 * after a set delay, or fails them on purpose, and still names itself to
 * nameclient. On one TCP port (IPv4 and IPv6, every local address):
 *   - a request ("...\r\n\r\n") gets, -d MS after it arrived, the answer of
 *     the mode: ok "HTTP/1.0 200 OK" with NAME as body, 500 "HTTP/1.0 500",
 *     garbage (not an HTTP status line), reset (RST), hang (nothing, ever);
 *   - a client that shuts its side down without a request (nameclient) gets
 *     "NAME\n0\n" after the same delay, as from namesrv.
 * Usage: httpslow -n NAME -p PORT [-d MS] [-m ok|500|garbage|reset|hang]
 * SIGTERM/SIGINT exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define MAX_CONNS	1024
#define REQ_MAX		2048
#define BACKLOG		512

enum mode { M_OK, M_500, M_GARBAGE, M_RESET, M_HANG };

struct conn {
	int fd;
	size_t len;
	long long due_ms;	/* 0: still reading */
	int is_http;
	char req[REQ_MAX];
};

static struct conn conns[MAX_CONNS];
static struct pollfd pfd[MAX_CONNS + 1];
static const char *name;
static long delay_ms;
static enum mode mode;

static void conn_close(struct conn *c, int reset)
{
	if (reset) {
		struct linger l = { 1, 0 };

		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	}
	close(c->fd);
	c->fd = -1;
}

static void respond(struct conn *c)
{
	char buf[256];
	int n;

	if (!c->is_http) {
		n = snprintf(buf, sizeof(buf), "%s\n0\n", name);
	} else {
		switch (mode) {
		case M_RESET:
			conn_close(c, 1);
			return;
		case M_HANG:
			c->due_ms = -1;		/* never: the client times out */
			return;
		case M_GARBAGE:
			n = snprintf(buf, sizeof(buf), "\x01\x02 not http at all\r\n\r\n");
			break;
		case M_500:
			n = snprintf(buf, sizeof(buf), "HTTP/1.0 500 Internal Server Error\r\n"
				     "Content-Length: 0\r\n\r\n");
			break;
		default:
			n = snprintf(buf, sizeof(buf), "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n%s\n",
				     strlen(name) + 1, name);
		}
	}
	if (send(c->fd, buf, n, MSG_NOSIGNAL) < 0) {
		conn_close(c, 0);
		return;
	}
	conn_close(c, 0);
}

static void on_readable(struct conn *c)
{
	ssize_t n = recv(c->fd, c->req + c->len, sizeof(c->req) - 1 - c->len, 0);

	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			conn_close(c, 0);
		return;
	}
	if (n == 0) {
		/* EOF: a nameclient-style client, or a request cut short. */
		c->is_http = 0;
		c->due_ms = now_ms() + delay_ms;
		return;
	}
	c->len += n;
	c->req[c->len] = 0;
	if (strstr(c->req, "\r\n\r\n")) {
		c->is_http = 1;
		c->due_ms = now_ms() + delay_ms;
	} else if (c->len >= sizeof(c->req) - 1) {
		conn_close(c, 0);
	}
}

static int listen_on(int port)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0), zero = 0, one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, BACKLOG)) {
		close(fd);
		return -1;
	}
	return fd;
}

static int usage(void)
{
	fprintf(stderr, "usage: httpslow -n NAME -p PORT [-d MS] [-m ok|500|garbage|reset|hang]\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const char *const modes[] = { "ok", "500", "garbage", "reset", "hang" };
	int port = 0, opt, lfd;

	while ((opt = getopt(argc, argv, "n:p:d:m:")) != -1) {
		switch (opt) {
		case 'n': name = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'd': delay_ms = atol(optarg); break;
		case 'm':
			mode = (enum mode)-1;
			for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
				if (!strcmp(optarg, modes[i]))
					mode = (enum mode)i;
			if (mode == (enum mode)-1)
				return usage();
			break;
		default:
			return usage();
		}
	}
	if (!name || port <= 0 || port > 65535 || delay_ms < 0)
		return usage();
	signal(SIGTERM, on_stop_signal);
	signal(SIGINT, on_stop_signal);
	signal(SIGPIPE, SIG_IGN);
	lfd = listen_on(port);
	if (lfd < 0) {
		perror("httpslow: listen");
		return 1;
	}
	for (int i = 0; i < MAX_CONNS; i++)
		conns[i].fd = -1;
	while (!stop) {
		long long now = now_ms(), next = now + 1000;
		int timeout;

		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];

			pfd[i + 1] = (struct pollfd){ .fd = -1 };
			if (c->fd < 0)
				continue;
			if (c->due_ms > 0 && c->due_ms <= now)
				respond(c);
			if (c->fd < 0)
				continue;
			if (c->due_ms == 0)
				pfd[i + 1] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
			else if (c->due_ms > 0 && c->due_ms < next)
				next = c->due_ms;
		}
		timeout = next > now ? (int)(next - now) : 0;
		if (poll(pfd, MAX_CONNS + 1, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & POLLIN) {
			int fd;

			while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
				int i;

				for (i = 0; i < MAX_CONNS && conns[i].fd >= 0; i++)
					;
				if (i == MAX_CONNS) {
					close(fd);
					continue;
				}
				memset(&conns[i], 0, sizeof(conns[i]) - REQ_MAX);
				conns[i].fd = fd;
				conns[i].len = 0;
				conns[i].due_ms = 0;
			}
		}
		for (int i = 0; i < MAX_CONNS; i++)
			if (pfd[i + 1].fd >= 0 && (pfd[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
				on_readable(&conns[i]);
	}
	return 0;
}
