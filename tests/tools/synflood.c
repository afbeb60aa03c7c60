// SPDX-License-Identifier: GPL-2.0
/*
 * synflood: the short-flow flood of the conntrack admission test. Sends
 * -n spoofed TCP flows of three packets each (SYN, bare ACK, bare ACK) to
 * DST:PORT, from random addresses inside -s NET/PREFIX and random ports, as
 * raw Ethernet frames (AF_PACKET) out of -i IFACE to the MAC -m (the
 * balancer's), so no route or neighbour for the spoofed sources is needed:
 * the frames only have to reach the balancer. Checksums are valid, so the
 * backends treat them as real segments (and answer into the void).
 * Bounded in count (-n) and time (-T); paced at -r packets per second so
 * the veth rings in between do not drop the flood. Prints
 *   "sent FLOWS flows PACKETS packets in MS ms"
 * Exit 0 if every packet was sent, 1 if not, 2 on bad usage.
 *   -r PPS    packets per second (default 100000)
 *   -T SEC    time bound (default 20)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <unistd.h>

#include "tool.h"

#define ETH_LEN		14
#define IP4_LEN		20
#define TCP_LEN		20
#define FRAME_LEN	(ETH_LEN + IP4_LEN + TCP_LEN)
#define TCP_SYN		0x02
#define TCP_ACK		0x10
#define PKTS_PER_FLOW	3
#define BATCH		32	/* packets between two looks at the clock */
#define OUTER_TTL	64
#define IP_DF		0x4000
#define TCP_WINDOW	65535
#define PORT_MIN	1024

static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static unsigned int rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 16;
}

static unsigned int sum16(const void *p, size_t len, unsigned int sum)
{
	const unsigned char *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += b[len - 1] << 8;
	return sum;
}

static unsigned short fold(unsigned int sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum & 0xffff;
}

static void put16(unsigned char *p, unsigned int v)
{
	p[0] = v >> 8;
	p[1] = v;
}

/* One frame of a flow from @src:@sport with @flags and sequence @seq. */
static void frame(unsigned char *f, const unsigned char *dmac, const unsigned char *smac,
		  struct in_addr src, struct in_addr dst, unsigned int sport, unsigned int dport,
		  unsigned char flags, unsigned int seq)
{
	unsigned char *ip = f + ETH_LEN, *tcp = ip + IP4_LEN;
	unsigned int sum;

	memset(f, 0, FRAME_LEN);
	memcpy(f, dmac, ETH_ALEN);
	memcpy(f + ETH_ALEN, smac, ETH_ALEN);
	put16(f + 2 * ETH_ALEN, ETH_P_IP);
	ip[0] = 0x45;
	put16(ip + 2, IP4_LEN + TCP_LEN);
	put16(ip + 6, IP_DF);
	ip[8] = OUTER_TTL;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &src, 4);
	memcpy(ip + 16, &dst, 4);
	put16(ip + 10, fold(sum16(ip, IP4_LEN, 0)));
	put16(tcp, sport);
	put16(tcp + 2, dport);
	put16(tcp + 4, seq >> 16);
	put16(tcp + 6, seq);
	if (flags & TCP_ACK)
		put16(tcp + 10, 1);	/* any ack number: the peer never answered */
	tcp[12] = (TCP_LEN / 4) << 4;
	tcp[13] = flags;
	put16(tcp + 14, TCP_WINDOW);
	sum = sum16(ip + 12, 8, IPPROTO_TCP + TCP_LEN);
	put16(tcp + 16, fold(sum16(tcp, TCP_LEN, sum)));
}

static int parse_mac(const char *s, unsigned char *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
		      &mac[4], &mac[5]) == 6 ? 0 : -1;
}

int main(int argc, char **argv)
{
	const char *ifname = NULL, *net = NULL, *mac = NULL;
	long long flows = 0, pps = 100000, max_s = 20, start, deadline, sent = 0, total;
	unsigned char dmac[ETH_ALEN], smac[ETH_ALEN], f[FRAME_LEN];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_halen = ETH_ALEN };
	struct in_addr base, dst, src;
	unsigned int prefix = 0, dport, mask;
	struct ifreq ifr = {};
	char netbuf[64], *slash = NULL;
	int opt, fd;

	while ((opt = getopt(argc, argv, "i:m:s:n:r:T:")) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'm': mac = optarg; break;
		case 's': net = optarg; break;
		case 'n': flows = atoll(optarg); break;
		case 'r': pps = atoll(optarg); break;
		case 'T': max_s = atoll(optarg); break;
		default: return 2;
		}
	}
	if (net) {
		snprintf(netbuf, sizeof(netbuf), "%s", net);
		slash = strchr(netbuf, '/');
		if (slash) {
			*slash = 0;
			prefix = atoi(slash + 1);
		}
	}
	if (argc - optind != 2 || !ifname || !mac || !net || !slash || prefix < 8 ||
	    prefix > 30 || flows <= 0 || pps <= 0 || max_s <= 0 || parse_mac(mac, dmac) ||
	    !inet_pton(AF_INET, netbuf, &base) || !inet_pton(AF_INET, argv[optind], &dst) ||
	    (dport = atoi(argv[optind + 1])) == 0 || dport > 65535) {
		fprintf(stderr, "usage: synflood -i IFACE -m DSTMAC -s NET/PREFIX -n FLOWS "
			"[-r PPS] [-T SEC] DST PORT\n");
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0);	/* protocol 0: send only */
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "synflood: %s: %s\n", ifname, strerror(errno));
		return 1;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	sll.sll_ifindex = if_nametoindex(ifname);
	memcpy(sll.sll_addr, dmac, ETH_ALEN);
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
	mask = prefix ? ~0u << (32 - prefix) : 0;
	total = flows * PKTS_PER_FLOW;
	start = now_ms();
	deadline = start + max_s * 1000;
	for (long long i = 0; i < flows && !stop; i++) {
		unsigned int host = rnd() & ~mask, sport = PORT_MIN + rnd() % (65536 - PORT_MIN);
		unsigned int seq = rnd();
		static const unsigned char flags[PKTS_PER_FLOW] = { TCP_SYN, TCP_ACK, TCP_ACK };

		/* never the network or broadcast address of the range */
		if (host == 0 || host == ~mask)
			host = 1;
		src.s_addr = htonl((ntohl(base.s_addr) & mask) | host);
		for (int k = 0; k < PKTS_PER_FLOW; k++) {
			frame(f, dmac, smac, src, dst, sport, dport, flags[k], seq + (k > 0));
			if (sendto(fd, f, FRAME_LEN, 0, (struct sockaddr *)&sll, sizeof(sll)) !=
			    FRAME_LEN) {
				if (errno == ENOBUFS || errno == EAGAIN) {
					k--;	/* the device queue is full: again */
					poll(NULL, 0, 1);
					if (now_ms() < deadline)
						continue;
				}
				goto out;
			}
			sent++;
		}
		/* Pacing: at most pps; every BATCH packets wait for the schedule. */
		if (sent % BATCH < PKTS_PER_FLOW) {
			long long due = start + sent * 1000 / pps;

			while (now_ms() < due && !stop)
				poll(NULL, 0, 1);
		}
		if (now_ms() >= deadline)
			break;
	}
out:
	printf("sent %lld flows %lld packets in %lld ms\n", sent / PKTS_PER_FLOW, sent,
	       now_ms() - start);
	close(fd);
	return sent == total ? 0 : 1;
}
