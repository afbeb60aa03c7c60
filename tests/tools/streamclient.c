// SPDX-License-Identifier: GPL-2.0
/*
 * streamclient: one long-lived TCP connection to a namesrv, for the tests
 * that change backends while a flow is open. Prints "backend NAME" as soon
 * as the server greets it, then sends a steady byte stream for -d seconds
 * or until SIGTERM/SIGINT/SIGUSR1, shuts its side down and reads the byte
 * count the server received. Ends with one line:
 *   result ok|fail backend NAME sent N acked N reset 0|1 [error WHY]
 * "ok" means: no reset, no error, and acked == sent (no byte lost).
 *   -d SEC    duration (default 30, the upper bound even when signalled never)
 *   -r BPS    bytes per second (default 262144)
 *   -w MS     timeout for connecting and for the final count (default 5000)
 *   -b ADDR   bind this source address
 * Exit 0 if ok, 1 if not, 2 on bad usage.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define CHUNK		4096
#define TICK_MS		10


static int is_reset(int err)
{
	return err == ECONNRESET || err == EPIPE || err == ECONNABORTED;
}

/* Reads into buf until a newline, EOF or @deadline; returns bytes read or -1. */
static int read_until_nl(int fd, char *buf, size_t len, long long deadline)
{
	size_t got = 0;
	ssize_t r;

	while (got < len - 1 && !memchr(buf, '\n', got)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - now_ms();

		if (left <= 0 || poll(&p, 1, left) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = recv(fd, buf + got, len - 1 - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += r;
	}
	buf[got] = 0;
	return got;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct sigaction sa = { .sa_handler = on_stop_signal };
	long long dur_s = 30, rate = 262144, wait_ms = 5000, start, end, sent = 0, acked = -1;
	const char *bind_addr = NULL, *error = NULL;
	char backend[128] = "-", buf[CHUNK], line[128], *nl;
	struct addrinfo *ai, *bi;
	int opt, fd, reset = 0, err = 0, ok;
	socklen_t elen = sizeof(err);
	struct pollfd p;

	while ((opt = getopt(argc, argv, "d:r:w:b:")) != -1) {
		switch (opt) {
		case 'd': dur_s = atoll(optarg); break;
		case 'r': rate = atoll(optarg); break;
		case 'w': wait_ms = atoll(optarg); break;
		case 'b': bind_addr = optarg; break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || dur_s <= 0 || rate <= 0 || wait_ms <= 0 ||
	    getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai)) {
		fprintf(stderr, "usage: streamclient [-d SEC] [-r BPS] [-w MS] [-b ADDR] ADDR PORT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	memset(buf, 'x', sizeof(buf));

	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 1;
	if (bind_addr) {
		if (getaddrinfo(bind_addr, "0", &hints, &bi) || bind(fd, bi->ai_addr, bi->ai_addrlen)) {
			fprintf(stderr, "streamclient: cannot bind %s\n", bind_addr);
			return 2;
		}
	}
	start = now_ms();
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
		error = strerror(errno);
		goto out;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, wait_ms) <= 0) {
		error = "connect timed out";
		goto out;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err) {
		error = strerror(err);
		goto out;
	}
	if (read_until_nl(fd, line, sizeof(line), start + wait_ms) <= 0 || !(nl = strchr(line, '\n'))) {
		error = "no greeting";
		goto out;
	}
	*nl = 0;
	snprintf(backend, sizeof(backend), "%s", line);
	printf("backend %s\n", backend);

	start = now_ms();
	end = start + dur_s * 1000;
	while (!stop && now_ms() < end) {
		long long due = rate * (now_ms() - start) / 1000;
		ssize_t w = 0;
		char c;

		while (sent < due) {
			size_t n = due - sent < CHUNK ? due - sent : CHUNK;

			w = send(fd, buf, n, MSG_NOSIGNAL);
			if (w < 0)
				break;
			sent += w;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			reset = is_reset(errno);
			error = strerror(errno);
			goto out;
		}
		/* The server says nothing until we finish: anything readable is an end. */
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&p, 1, TICK_MS) > 0) {
			w = recv(fd, &c, 1, MSG_DONTWAIT);
			if (w < 0 && errno == EINTR)
				continue;
			reset = w < 0 && is_reset(errno);
			error = w < 0 ? strerror(errno) : "server closed early";
			goto out;
		}
	}

	/* Everything queued must drain before the count can match. */
	shutdown(fd, SHUT_WR);
	if (read_until_nl(fd, line, sizeof(line), now_ms() + wait_ms) <= 0) {
		reset = is_reset(errno);
		error = errno == ETIMEDOUT ? "no count from server" : strerror(errno);
		goto out;
	}
	acked = atoll(line);
out:
	ok = !error && !reset && acked == sent;
	if (!error && acked != sent)
		error = "byte count mismatch";
	printf("result %s backend %s sent %lld acked %lld reset %d%s%s\n", ok ? "ok" : "fail",
	       backend, sent, acked, reset, error ? " error " : "", error ? error : "");
	close(fd);
	return ok ? 0 : 1;
}
