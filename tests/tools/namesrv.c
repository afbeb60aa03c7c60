// SPDX-License-Identifier: GPL-2.0
/*
 * namesrv: the backend server of the integration tests and the demo. On
 * each port it serves TCP and UDP, IPv4 and IPv6, on every local address (the
 * VIPs sit on lo):
 *   TCP: sends "NAME\n" on accept, then counts every byte the client sends;
 *        when the client shuts down its side, sends "COUNT\n" and closes. A
 *        short client just shuts down at once and reads "NAME\n0\n"; a stream
 *        client learns how many of its bytes this backend received.
 *   UDP: answers each datagram with "NAME\n", from the address it was sent to
 *        (the VIP), so direct server return works.
 * SIGUSR1 prints the byte count of every open connection; SIGTERM exits.
 * Usage: namesrv -n NAME -p PORT [-p PORT ...]
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
#include <arpa/inet.h>
#include <unistd.h>

#define MAX_PORTS	8
#define MAX_CONNS	4096
#define LISTEN_BACKLOG	1024
#define SIGNAL_POLL_MS	100

enum kind { K_TCP_LISTEN, K_UDP4, K_UDP6, K_CONN };

struct ent {
	enum kind kind;
	unsigned long long bytes;
	char peer[INET6_ADDRSTRLEN + 8];
};

static const char *name;
static struct pollfd pfd[MAX_CONNS];
static struct ent ents[MAX_CONNS];
static int nfds;
static volatile sig_atomic_t want_dump, want_exit;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		want_dump = 1;
	else
		want_exit = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "namesrv: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int add_fd(int fd, enum kind kind)
{
	if (nfds == MAX_CONNS)
		return -1;
	pfd[nfds] = (struct pollfd){ .fd = fd, .events = POLLIN };
	ents[nfds] = (struct ent){ .kind = kind };
	return nfds++;
}

static void del_fd(int i)
{
	close(pfd[i].fd);
	nfds--;
	pfd[i] = pfd[nfds];
	ents[i] = ents[nfds];
}

static void open_port(int family, int type, int port)
{
	struct sockaddr_storage ss = {};
	int one = 1, fd;
	socklen_t len;

	fd = socket(family, type | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (void *)&ss;

		/* Separate IPv4 sockets: each family answers from its own pktinfo. */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
		if (type == SOCK_DGRAM)
			setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one));
	} else {
		struct sockaddr_in *s4 = (void *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		len = sizeof(*s4);
		if (type == SOCK_DGRAM)
			setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	}
	if (bind(fd, (void *)&ss, len))
		die("bind");
	if (type == SOCK_STREAM) {
		if (listen(fd, LISTEN_BACKLOG))
			die("listen");
		add_fd(fd, K_TCP_LISTEN);
	} else {
		add_fd(fd, family == AF_INET ? K_UDP4 : K_UDP6);
	}
}

static void peer_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(buf, len, "%s:%u", a, ntohs(s4->sin_port));
	} else {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	}
}

static void do_accept(int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char line[256];
	int fd, i, n;

	fd = accept4(lfd, (void *)&ss, &len, SOCK_NONBLOCK);
	if (fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%s\n", name);
	/* A fresh socket's send buffer always takes a few bytes. */
	if (write(fd, line, n) != n) {
		close(fd);
		return;
	}
	i = add_fd(fd, K_CONN);
	if (i < 0) {
		close(fd);
		return;
	}
	peer_str(&ss, ents[i].peer, sizeof(ents[i].peer));
}

/* Returns 1 when the connection is finished and was closed. */
static int do_conn(int i)
{
	char buf[65536], line[64];
	ssize_t r;
	int n;

	for (;;) {
		r = read(pfd[i].fd, buf, sizeof(buf));
		if (r > 0) {
			ents[i].bytes += r;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		break;
	}
	if (r == 0) {
		n = snprintf(line, sizeof(line), "%llu\n", ents[i].bytes);
		if (write(pfd[i].fd, line, n) != n)
			fprintf(stdout, "conn %s: count not sent: %s\n", ents[i].peer, strerror(errno));
	}
	if (r < 0 || ents[i].bytes)
		printf("conn %s bytes %llu end %s\n", ents[i].peer, ents[i].bytes,
		       r == 0 ? "eof" : strerror(errno));
	del_fd(i);
	return 1;
}

static void do_udp(int fd, int family)
{
	char buf[2048], cbuf[256], line[256];
	struct sockaddr_storage ss;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr mh = {
		.msg_name = &ss, .msg_namelen = sizeof(ss),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	char obuf[CMSG_SPACE(sizeof(struct in6_pktinfo))] = {};
	int n;

	if (recvmsg(fd, &mh, 0) < 0)
		return;
	n = snprintf(line, sizeof(line), "%s\n", name);
	iov = (struct iovec){ line, n };
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (family == AF_INET && c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi = *(struct in_pktinfo *)CMSG_DATA(c);
			struct cmsghdr *o = (void *)obuf;

			/* Answer from the VIP the datagram was sent to, on any interface. */
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			o->cmsg_level = IPPROTO_IP;
			o->cmsg_type = IP_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		} else if (family == AF_INET6 && c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO) {
			struct in6_pktinfo pi = *(struct in6_pktinfo *)CMSG_DATA(c);
			struct cmsghdr *o = (void *)obuf;

			pi.ipi6_ifindex = 0;
			o->cmsg_level = IPPROTO_IPV6;
			o->cmsg_type = IPV6_PKTINFO;
			o->cmsg_len = CMSG_LEN(sizeof(pi));
			memcpy(CMSG_DATA(o), &pi, sizeof(pi));
			mh.msg_controllen = CMSG_SPACE(sizeof(pi));
		}
	}
	mh.msg_control = obuf;
	if (sendmsg(fd, &mh, 0) < 0)
		fprintf(stdout, "udp reply failed: %s\n", strerror(errno));
}

static void dump(void)
{
	int i;

	for (i = 0; i < nfds; i++)
		if (ents[i].kind == K_CONN)
			printf("open %s bytes %llu\n", ents[i].peer, ents[i].bytes);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int ports[MAX_PORTS], nports = 0, opt, i;
	struct sigaction sa = { .sa_handler = on_signal };

	while ((opt = getopt(argc, argv, "n:p:")) != -1) {
		switch (opt) {
		case 'n':
			name = optarg;
			break;
		case 'p':
			if (nports == MAX_PORTS || atoi(optarg) <= 0 || atoi(optarg) > 65535) {
				fprintf(stderr, "namesrv: bad or too many ports\n");
				return 2;
			}
			ports[nports++] = atoi(optarg);
			break;
		default:
			return 2;
		}
	}
	if (!name || !nports) {
		fprintf(stderr, "usage: namesrv -n NAME -p PORT [-p PORT ...]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	for (i = 0; i < nports; i++) {
		open_port(AF_INET, SOCK_STREAM, ports[i]);
		open_port(AF_INET6, SOCK_STREAM, ports[i]);
		open_port(AF_INET, SOCK_DGRAM, ports[i]);
		open_port(AF_INET6, SOCK_DGRAM, ports[i]);
	}
	printf("namesrv %s listening\n", name);

	while (!want_exit) {
		/* Bounded: a SIGUSR1 that lands just before poll waits no longer than this. */
		if (poll(pfd, nfds, SIGNAL_POLL_MS) < 0 && errno != EINTR)
			die("poll");
		if (want_dump) {
			want_dump = 0;
			dump();
		}
		/* Backwards: del_fd moves the last entry into the freed slot. */
		for (i = nfds - 1; i >= 0; i--) {
			if (!pfd[i].revents)
				continue;
			pfd[i].revents = 0;
			switch (ents[i].kind) {
			case K_TCP_LISTEN:
				do_accept(pfd[i].fd);
				break;
			case K_UDP4:
				do_udp(pfd[i].fd, AF_INET);
				break;
			case K_UDP6:
				do_udp(pfd[i].fd, AF_INET6);
				break;
			case K_CONN:
				do_conn(i);
				break;
			}
		}
	}
	return 0;
}
