// SPDX-License-Identifier: GPL-2.0
/*
 * idlestreams: N long-lived TCP connections to a namesrv that carry data,
 * then go idle (no packet at all) until told to go on, then carry data
 * again: the test of a conntrack entry that must survive while its flow is
 * silent. A connection whose tracked backend was lost lands on another
 * backend after the pause, which answers with a reset.
 *
 * Phases, each printed when done:
 *   "stream I backend NAME"  per connection, when the server greeted it
 *   "idle N"                 every connection sent -B bytes and the peer
 *                            acknowledged all of them (send queue empty)
 *   on SIGUSR1: -B more bytes each, then shutdown and the server's count;
 *                            the streams resume in the reverse order of their
 *                            opening, so that under a round-robin scheduler a
 *                            stream that lost its entry is not picked again
 *                            for its old backend just because the rotation
 *                            came round in the same order;
 *   "result I ok|fail backend NAME sent N acked N reset 0|1 [error WHY]"
 *   "streams N ok N broken N"
 * Bounded: connecting and each final count by -w, the whole run by -d
 * (also the longest it stays idle). Exit 0 if every stream is ok, 1 if not,
 * 2 on bad usage.
 *   -n N      connections (default 20, at most MAX_STREAMS)
 *   -B BYTES  bytes per connection per phase (default 65536)
 *   -w MS     per-step timeout (default 5000)
 *   -d SEC    bound of the whole run (default 60)
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <unistd.h>

#include "tool.h"

#define MAX_STREAMS	256
#define CHUNK		4096
#define TICK_MS		10

struct stream {
	int fd;
	char backend[128];
	long long sent, acked;
	int reset;
	const char *error;
};

static struct stream st[MAX_STREAMS];
static volatile sig_atomic_t go;

static void on_go(int sig)
{
	(void)sig;
	go = 1;
}

static int is_reset(int err)
{
	return err == ECONNRESET || err == EPIPE || err == ECONNABORTED;
}

static void failed(struct stream *s, const char *why, int err)
{
	if (s->error)
		return;
	s->reset = is_reset(err);
	s->error = why ? why : strerror(err);
}

/* Reads a line (the greeting or the count) into @buf by @deadline; 0 or -1. */
static int read_line(struct stream *s, char *buf, size_t len, long long deadline)
{
	size_t got = 0;
	ssize_t r;

	while (got < len - 1 && !memchr(buf, '\n', got)) {
		struct pollfd p = { .fd = s->fd, .events = POLLIN };
		long long left = deadline - now_ms();

		if (left <= 0 || poll(&p, 1, left) <= 0) {
			failed(s, "timed out", ETIMEDOUT);
			return -1;
		}
		r = recv(s->fd, buf + got, len - 1 - got, MSG_DONTWAIT);
		if (r < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (r <= 0) {
			failed(s, r ? NULL : "closed by the server", errno);
			return -1;
		}
		got += r;
		buf[got] = 0;
	}
	buf[got] = 0;
	return memchr(buf, '\n', got) ? 0 : -1;
}

static int open_stream(struct stream *s, const struct addrinfo *ai, long long wait_ms)
{
	char line[128], *nl;
	struct pollfd p;
	int err = 0;
	socklen_t elen = sizeof(err);

	s->acked = -1;
	s->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (s->fd < 0) {
		failed(s, NULL, errno);
		return -1;
	}
	if (connect(s->fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
		failed(s, NULL, errno);
		return -1;
	}
	p = (struct pollfd){ .fd = s->fd, .events = POLLOUT };
	if (poll(&p, 1, wait_ms) <= 0) {
		failed(s, "connect timed out", ETIMEDOUT);
		return -1;
	}
	getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err) {
		failed(s, NULL, err);
		return -1;
	}
	if (read_line(s, line, sizeof(line), now_ms() + wait_ms))
		return -1;
	nl = strchr(line, '\n');
	*nl = 0;
	snprintf(s->backend, sizeof(s->backend), "%s", line);
	return 0;
}

/*
 * Queue @bytes more on every live stream, as fast as the windows allow,
 * starting with the last one if @reverse.
 */
static void send_all(int n, long long bytes, long long deadline, int reverse)
{
	static char buf[CHUNK];
	long long want[MAX_STREAMS];
	int busy = 1;

	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < n; i++)
		want[i] = st[i].sent + bytes;
	while (busy && !stop && now_ms() < deadline) {
		busy = 0;
		for (int k = 0; k < n; k++) {
			int i = reverse ? n - 1 - k : k;
			struct stream *s = &st[i];
			long long left = want[i] - s->sent;
			ssize_t w;

			if (s->error || left <= 0)
				continue;
			w = send(s->fd, buf, left < CHUNK ? left : CHUNK,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w > 0)
				s->sent += w;
			else if (w < 0 && errno != EAGAIN && errno != EINTR)
				failed(s, NULL, errno);
			busy |= !s->error && s->sent < want[i];
		}
		if (busy)
			poll(NULL, 0, 1);
	}
}

/* Until every live stream's send queue is empty (all acknowledged); 0 on success. */
static int drain_all(int n, long long deadline)
{
	for (;;) {
		int queued = 0, left;

		for (int i = 0; i < n; i++) {
			struct stream *s = &st[i];
			int err = 0;
			socklen_t elen = sizeof(err);

			if (s->error)
				continue;
			getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
			if (err) {
				failed(s, NULL, err);
				continue;
			}
			if (ioctl(s->fd, SIOCOUTQ, &left) == 0 && left > 0)
				queued++;
		}
		if (!queued)
			return 0;
		if (stop || now_ms() >= deadline)
			return -1;
		poll(NULL, 0, TICK_MS);
	}
}

static void finish(struct stream *s, long long wait_ms)
{
	char line[64];

	if (s->error)
		return;
	shutdown(s->fd, SHUT_WR);
	if (read_line(s, line, sizeof(line), now_ms() + wait_ms) == 0)
		s->acked = atoll(line);
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct sigaction sa = { .sa_handler = on_stop_signal }, sg = { .sa_handler = on_go };
	long long bytes = 65536, wait_ms = 5000, dur_s = 60, end;
	int opt, n = 20, ok = 0;
	struct addrinfo *ai;

	while ((opt = getopt(argc, argv, "n:B:w:d:")) != -1) {
		switch (opt) {
		case 'n': n = atoi(optarg); break;
		case 'B': bytes = atoll(optarg); break;
		case 'w': wait_ms = atoll(optarg); break;
		case 'd': dur_s = atoll(optarg); break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || n <= 0 || n > MAX_STREAMS || bytes <= 0 || wait_ms <= 0 ||
	    dur_s <= 0 || getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai)) {
		fprintf(stderr,
			"usage: idlestreams [-n N] [-B BYTES] [-w MS] [-d SEC] ADDR PORT\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sg, NULL);
	end = now_ms() + dur_s * 1000;

	for (int i = 0; i < n; i++) {
		if (open_stream(&st[i], ai, wait_ms) == 0)
			printf("stream %d backend %s\n", i, st[i].backend);
	}
	send_all(n, bytes, end, 0);
	if (drain_all(n, now_ms() + wait_ms) == 0)
		printf("idle %d\n", n);
	while (!go && !stop && now_ms() < end)
		poll(NULL, 0, TICK_MS);
	send_all(n, bytes, now_ms() + wait_ms, 1);
	drain_all(n, now_ms() + wait_ms);
	for (int i = 0; i < n; i++)
		finish(&st[i], wait_ms);
	for (int i = 0; i < n; i++) {
		struct stream *s = &st[i];
		int good = !s->error && s->acked == s->sent;

		if (!s->error && !good)
			s->error = "byte count mismatch";
		ok += good;
		printf("result %d %s backend %s sent %lld acked %lld reset %d%s%s\n", i,
		       good ? "ok" : "fail", s->backend[0] ? s->backend : "-", s->sent, s->acked,
		       s->reset, s->error ? " error " : "", s->error ? s->error : "");
		if (s->fd > 0)
			close(s->fd);
	}
	printf("streams %d ok %d broken %d\n", n, ok, n - ok);
	return ok == n ? 0 : 1;
}
