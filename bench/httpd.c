// SPDX-License-Identifier: GPL-2.0
/*
 * The end-to-end benchmark's HTTP server: answers every request with a
 * short fixed response and closes, on one port, IPv4 and IPv6, from a
 * single epoll loop (cheap enough that the server is never what the
 * benchmark measures). Usage: httpd PORT.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define EVENTS		256
#define BACKLOG		4096
#define REQ_MAX		2048

static const char reply[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 3\r\nConnection: close\r\n\r\nok\n";

int main(int argc, char **argv)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	struct epoll_event ev, evs[EVENTS];
	int one = 1, zero = 0, lfd, ep;
	char buf[REQ_MAX];

	if (argc != 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) {
		fprintf(stderr, "usage: httpd PORT\n");
		return 2;
	}
	sa.sin6_port = htons(atoi(argv[1]));
	lfd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, BACKLOG)) {
		perror("httpd: listen");
		return 1;
	}
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	for (;;) {
		int n = epoll_wait(ep, evs, EVENTS, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd) {
				int c;

				while ((c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					ev.events = EPOLLIN;
					ev.data.fd = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
				}
				continue;
			}
			/* A short request arrives in one segment: answer it and close. */
			if (read(fd, buf, sizeof(buf)) > 0 &&
			    write(fd, reply, sizeof(reply) - 1) < 0)
				perror("httpd: write");
			close(fd);
		}
	}
}
