// SPDX-License-Identifier: GPL-2.0
/*
 * nameclient: opens N short TCP connections (or sends N UDP datagrams, each
 * from a socket of its own, so from N source ports) to ADDR PORT, reads the
 * name of the backend namesrv that answered each, and prints how many
 * answers each name gave, one "NAME COUNT" line per name, sorted, then
 * "failed COUNT" if any attempt got no answer. Bounded: each attempt by -w,
 * all of them together by -T. Exit 0 if every attempt was answered, 1 if
 * not, 2 on bad usage.
 *   -u        UDP instead of TCP
 *   -n N      attempts (default 100)
 *   -b ADDR   bind this source address
 *   -s PORT   bind this source port: every attempt is the same flow (TCP
 *             ones end with a reset, so the port is free again at once)
 *   -w MS     per-attempt timeout (default 2000)
 *   -T SEC    total time bound (default 60)
 *   -v        print each attempt's answer ("NAME" or "failed: why")
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tool.h"

#define MAX_NAMES	64
#define NAME_LEN	64

static struct { char name[NAME_LEN]; int count; } names[MAX_NAMES];
static int nnames;

static void count_name(const char *n)
{
	int i;

	for (i = 0; i < nnames; i++) {
		if (!strcmp(names[i].name, n)) {
			names[i].count++;
			return;
		}
	}
	if (nnames == MAX_NAMES)
		return;
	snprintf(names[nnames].name, NAME_LEN, "%s", n);
	names[nnames++].count = 1;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int resolve(const char *addr, const char *port, int type, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = type, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai;

	if (getaddrinfo(addr, port, &hints, &ai))
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* Waits until fd is ready for @events or @deadline (ms) passes. */
static int wait_fd(int fd, short events, long long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long long left = deadline - now_ms();

	if (left <= 0)
		return 0;
	return poll(&p, 1, left) > 0;
}

/* Reads the first line the server sends into @out; 0 on success. */
static int read_line(int fd, char *out, size_t len, long long deadline, int whole)
{
	size_t got = 0;
	ssize_t r;
	char *nl;

	for (;;) {
		if (!wait_fd(fd, POLLIN, deadline)) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = recv(fd, out + got, len - 1 - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		got += r;
		out[got] = 0;
		nl = strchr(out, '\n');
		/* A TCP answer is complete at EOF; a datagram at its end. */
		if (!whole || r == 0 || got == len - 1) {
			if (!nl) {
				errno = EPROTO;
				return -1;
			}
			*nl = 0;
			return 0;
		}
	}
}

static int attempt(int type, const struct sockaddr_storage *dst, socklen_t dlen,
		   const struct sockaddr_storage *src, socklen_t slen, int wait_ms, int fixed_port,
		   char *name, size_t nlen)
{
	long long deadline = now_ms() + wait_ms;
	int fd, one = 1, err = 0;
	socklen_t elen = sizeof(err);

	fd = socket(dst->ss_family, type | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (slen && bind(fd, (const void *)src, slen))
		goto fail;
	if (connect(fd, (const void *)dst, dlen) && errno != EINPROGRESS)
		goto fail;
	if (type == SOCK_STREAM) {
		if (!wait_fd(fd, POLLOUT, deadline)) {
			errno = ETIMEDOUT;
			goto fail;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
		if (err) {
			errno = err;
			goto fail;
		}
		if (fixed_port) {
			/* Read the name, then reset: no TIME_WAIT holds the port. */
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };

			if (read_line(fd, name, nlen, deadline, 0))
				goto fail;
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		} else {
			shutdown(fd, SHUT_WR);
			if (read_line(fd, name, nlen, deadline, 1))
				goto fail;
		}
	} else {
		if (send(fd, "?\n", 2, 0) != 2 || read_line(fd, name, nlen, deadline, 0))
			goto fail;
	}
	close(fd);
	return 0;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

int main(int argc, char **argv)
{
	int type = SOCK_STREAM, n = 100, wait_ms = 2000, total_s = 60, verbose = 0;
	const char *bind_addr = NULL, *bind_port = NULL;
	struct sockaddr_storage dst, src;
	socklen_t dlen, slen = 0;
	long long end;
	int opt, i, failed = 0, done = 0;
	char name[NAME_LEN];

	while ((opt = getopt(argc, argv, "un:b:s:w:T:v")) != -1) {
		switch (opt) {
		case 'u': type = SOCK_DGRAM; break;
		case 'n': n = atoi(optarg); break;
		case 'b': bind_addr = optarg; break;
		case 's': bind_port = optarg; break;
		case 'w': wait_ms = atoi(optarg); break;
		case 'T': total_s = atoi(optarg); break;
		case 'v': verbose = 1; break;
		default: return 2;
		}
	}
	if (argc - optind != 2 || n <= 0 || wait_ms <= 0 || total_s <= 0) {
		fprintf(stderr, "usage: nameclient [-u] [-n N] [-b ADDR] [-s PORT] [-w MS] [-T SEC] [-v] ADDR PORT\n");
		return 2;
	}
	if (resolve(argv[optind], argv[optind + 1], type, &dst, &dlen)) {
		fprintf(stderr, "nameclient: bad address %s port %s\n", argv[optind], argv[optind + 1]);
		return 2;
	}
	if (bind_addr || bind_port) {
		const char *a = bind_addr ? bind_addr : (dst.ss_family == AF_INET ? "0.0.0.0" : "::");

		if (resolve(a, bind_port ? bind_port : "0", type, &src, &slen) ||
		    src.ss_family != dst.ss_family) {
			fprintf(stderr, "nameclient: bad source %s\n", a);
			return 2;
		}
	}

	end = now_ms() + total_s * 1000LL;
	for (i = 0; i < n && now_ms() < end; i++, done++) {
		int w = wait_ms;

		if (end - now_ms() < w)
			w = end - now_ms();
		if (attempt(type, &dst, dlen, &src, slen, w, bind_port != NULL, name, sizeof(name))) {
			failed++;
			if (verbose)
				printf("failed: %s\n", strerror(errno));
			continue;
		}
		if (verbose)
			printf("%s\n", name);
		count_name(name);
	}
	failed += n - done;
	qsort(names, nnames, sizeof(names[0]), cmp_name);
	for (i = 0; i < nnames; i++)
		printf("%s %d\n", names[i].name, names[i].count);
	if (failed)
		printf("failed %d\n", failed);
	return failed ? 1 : 0;
}
