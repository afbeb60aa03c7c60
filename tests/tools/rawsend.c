// SPDX-License-Identifier: GPL-2.0
/*
 * rawsend: send one Ethernet frame, given in hex, out of an interface
 * (AF_PACKET), as it is: for tests that need a frame no socket would build,
 * e.g. a malformed header. Usage: rawsend -i IFACE HEX. Exit 0 if sent.
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <unistd.h>

#define FRAME_MAX	2048

int main(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	unsigned char f[FRAME_MAX];
	size_t n = 0, len;
	const char *hex;
	int fd;

	if (argc != 4 || strcmp(argv[1], "-i")) {
		fprintf(stderr, "usage: rawsend -i IFACE HEX\n");
		return 2;
	}
	hex = argv[3];
	len = strlen(hex);
	if (len % 2 || len / 2 > FRAME_MAX || len < 2 * ETH_HLEN) {
		fprintf(stderr, "rawsend: a frame of %d to %d bytes in hex, please\n", ETH_HLEN,
			FRAME_MAX);
		return 2;
	}
	for (; n < len / 2; n++)
		if (sscanf(hex + 2 * n, "%2hhx", &f[n]) != 1) {
			fprintf(stderr, "rawsend: not hex at byte %zu\n", n);
			return 2;
		}
	sll.sll_ifindex = if_nametoindex(argv[2]);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "rawsend: no interface %s\n", argv[2]);
		return 1;
	}
	memcpy(sll.sll_addr, f, ETH_ALEN);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 || sendto(fd, f, n, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)n) {
		fprintf(stderr, "rawsend: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}
