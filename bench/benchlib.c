// SPDX-License-Identifier: GPL-2.0
/*
 * Shared helpers of the data-plane benchmarks; see benchlib.h. The VIP
 * set-up writes the maps the way user/ does (backends, then the table as a
 * new inner map swapped into `tables`, then the VIP), so the programs under
 * test run on the same state a real instance has.
 */
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchlib.h"
#include "maglev.h"
#include "table.h"
#include "vipindex.h"
#include "vipaddrs.h"
#include "xlb.skel.h"

#define BENCH_PAYLOAD	16	/* bytes after the L4 header: a small request */
#define BENCH_TTL	64

static const unsigned char mac_dst[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x0b };
static const unsigned char mac_src[ETH_ALEN] = { 0x02, 0, 0, 0, 0, 0x0a };

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

long long bench_map_memlock(int fd)
{
	char path[64], line[128];
	long long bytes = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %lld", &bytes) == 1)
			break;
	fclose(f);
	return bytes;
}

void bench_if_mac(const char *ifname, unsigned char *mac)
{
	struct ifreq ifr = {};
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr))
		bench_die("MAC address of %s: %s", ifname, strerror(errno));
	memcpy(mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	close(s);
}

void bench_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		bench_die("pin to CPU %d: %s", cpu, strerror(errno));
}

static __u16 csum_fold(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static __u16 ip_csum(const void *p, size_t len)
{
	const __u16 *w = p;
	__u32 sum = 0;

	for (; len > 1; len -= 2)
		sum += *w++;
	return csum_fold(sum);
}

size_t bench_frame(const struct bench_flow *f, unsigned char *buf)
{
	size_t l4len = (f->proto == IPPROTO_TCP ? sizeof(struct tcphdr) : sizeof(struct udphdr)) +
		       BENCH_PAYLOAD;
	struct ethhdr *eth = (void *)buf;
	unsigned char *l4;
	size_t len;

	memset(buf, 0, BENCH_FRAME_MAX);
	memcpy(eth->h_dest, mac_dst, ETH_ALEN);
	memcpy(eth->h_source, mac_src, ETH_ALEN);
	if (f->family == XLB_AF_INET) {
		struct iphdr *ip = (void *)(eth + 1);

		eth->h_proto = htons(ETH_P_IP);
		ip->version = 4;
		ip->ihl = sizeof(*ip) / 4;
		ip->tot_len = htons(sizeof(*ip) + l4len);
		ip->ttl = BENCH_TTL;
		ip->protocol = f->proto;
		ip->saddr = f->src[0];
		ip->daddr = f->dst[0];
		ip->check = ip_csum(ip, sizeof(*ip));
		l4 = (unsigned char *)(ip + 1);
	} else {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		eth->h_proto = htons(ETH_P_IPV6);
		ip6->version = 6;
		ip6->payload_len = htons(l4len);
		ip6->nexthdr = f->proto;
		ip6->hop_limit = BENCH_TTL;
		memcpy(&ip6->saddr, f->src, sizeof(ip6->saddr));
		memcpy(&ip6->daddr, f->dst, sizeof(ip6->daddr));
		l4 = (unsigned char *)(ip6 + 1);
	}
	if (f->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)l4;

		tcp->source = htons(f->sport);
		tcp->dest = htons(f->dport);
		tcp->doff = sizeof(*tcp) / 4;
		l4[BENCH_TCP_FLAGS_OFF] = f->tcp_flags;
		tcp->window = htons(0xffff);
	} else {
		struct udphdr *udp = (void *)l4;

		udp->source = htons(f->sport);
		udp->dest = htons(f->dport);
		udp->len = htons(l4len);
	}
	len = l4 + l4len - buf;
	return len;
}

void bench_flow_key(const struct bench_flow *f, struct xlb_flow_key *key)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->src, f->src, sizeof(key->src));
	memcpy(key->dst, f->dst, sizeof(key->dst));
	key->sport = htons(f->sport);
	key->dport = htons(f->dport);
	key->proto = f->proto;
	key->family = f->family;
}

static void addr4(__u32 *addr, __u32 net, __u32 i)
{
	memset(addr, 0, 4 * sizeof(*addr));
	addr[0] = htonl(net + i);
}

static void addr6(__u32 *addr, __u32 net, __u32 i)
{
	addr[0] = htonl(0xfd000000 | net);	/* fd00:NET::/64 */
	addr[1] = 0;
	addr[2] = 0;
	addr[3] = htonl(i);
}

/* Offsets keep the .0 of each network unused. */
void bench_client4(__u32 i, __u32 *a)  { addr4(a, 0x0b000001, i); }	/* 11.0.0.1 + i */
void bench_vip4(__u32 i, __u32 *a)     { addr4(a, 0x0a640001, i); }	/* 10.100.0.1 + i */
void bench_backend4(__u32 i, __u32 *a) { addr4(a, 0x0a800001, i); }	/* 10.128.0.1 + i */
void bench_client6(__u32 i, __u32 *a)  { addr6(a, 0x50, i + 1); }	/* fd00:50:: */
void bench_vip6(__u32 i, __u32 *a)     { addr6(a, 0x100, i + 1); }	/* fd00:100:: */
void bench_backend6(__u32 i, __u32 *a) { addr6(a, 0x201, i + 1); }	/* fd00:201:: */

int bench_xlb_sources(struct xlb_bpf *skel)
{
	struct xlb_config cfg = {};
	__u32 zero = 0, src6[4];

	/* keep the all-ports bits bench_xlb_vip() derived */
	bpf_map_lookup_elem(bpf_map__fd(skel->maps.config), &zero, &cfg);
	cfg.src4 = htonl(0x0ac80001);		/* 10.200.0.1 */
	addr6(src6, 0x200, 1);			/* fd00:200::1 */
	memcpy(cfg.src6, src6, sizeof(src6));
	return bpf_map_update_elem(bpf_map__fd(skel->maps.config), &zero, &cfg, BPF_ANY);
}

int bench_xlb_filter_add(struct xlb_bpf *skel, const struct xlb_vip_key *keys, __u32 n)
{
	struct xlb_vip_filter f = {};
	int fd = bpf_map__fd(skel->maps.vip_filter);
	__u32 zero = 0;

	bpf_map_lookup_elem(fd, &zero, &f);
	for (__u32 i = 0; i < n; i++)
		vip_filter_set(&f, keys[i].addr);
	f.armed = 1;
	/* bench_xlb_vip() makes encap VIPs; the NAT group sets the flag itself (pktcost). */
	return bpf_map_update_elem(fd, &zero, &f, BPF_ANY);
}

int bench_xlb_vip(struct xlb_bpf *skel, const struct xlb_vip_key *key, __u32 vip_id,
		  __u32 table_size, __u8 be_family, __u32 first_be, __u32 n, int *inner_out)
{
	struct maglev_backend *mb = calloc(n, sizeof(*mb));
	__u32 *table = calloc(table_size, sizeof(*table));
	struct xlb_vip vip = { .id = vip_id, .table_size = table_size, .sched = XLB_SCHED_MAGLEV };
	__u32 i;
	int err = -ENOMEM, inner = -1;

	if (!mb || !table)
		goto out;
	for (i = 0; i < n; i++) {
		struct xlb_backend be = { .family = be_family, .flags = XLB_BE_F_USED,
					  .weight = 1, .vip_id = vip_id };
		__u32 id = first_be + i;

		if (be_family == XLB_AF_INET)
			bench_backend4(id, be.addr);
		else
			bench_backend6(id, be.addr);
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.backends), &id, &be, BPF_ANY);
		if (err)
			goto out;
		mb[i].id = id;
		memcpy(mb[i].addr, be.addr, sizeof(be.addr));
		mb[i].family = be_family;
		mb[i].weight = 1;
	}
	err = maglev_build(mb, n, table_size, table);
	if (err)
		goto out;
	inner = table_map_new(table, table_size);
	if (inner < 0) {
		err = inner;
		goto out;
	}
	if (inner_out) {
		*inner_out = inner;
		inner = -1;
		goto out;
	}
	if (!err)
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.tables), &vip_id, &inner, BPF_ANY);
	if (!err && !key->port) {
		/* what the control plane derives for an all-ports VIP */
		struct xlb_config cfg = {};
		__u32 zero = 0;

		bpf_map_lookup_elem(bpf_map__fd(skel->maps.config), &zero, &cfg);
		cfg.all_ports_addrs |= 1ULL << xlb_all_ports_bit(key->addr);
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.config), &zero, &cfg, BPF_ANY);
	}
	if (!err)
		err = bench_xlb_filter_add(skel, key, 1);
	if (!err)
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.vips), key, &vip, BPF_ANY);
	if (!err)
		err = bench_xlb_index(skel);
out:
	if (inner >= 0)
		close(inner);
	free(mb);
	free(table);
	return err;
}

int bench_xlb_index(struct xlb_bpf *skel)
{
	int err = vip_index_build(bpf_map__fd(skel->maps.vips), bpf_map__fd(skel->maps.vip_index));

	if (err)
		errno = -err;
	return err ? -1 : 0;
}

int bench_xlb_commit(struct xlb_bpf *skel, __u32 count, __u32 *ids, int *inners,
		     struct xlb_vip_key *keys, struct xlb_vip *vips)
{
	__u32 n = count;
	int err;

	err = bpf_map_update_batch(bpf_map__fd(skel->maps.tables), ids, inners, &n, NULL);
	if (err)
		return err;
	err = bench_xlb_filter_add(skel, keys, count);
	if (err)
		return err;
	n = count;
	err = bpf_map_update_batch(bpf_map__fd(skel->maps.vips), keys, vips, &n, NULL);
	return err ? err : bench_xlb_index(skel);
}

long bench_run_once(int prog_fd, int ifindex, const unsigned char *frame, size_t len, int *act,
		    size_t *out_len)
{
	unsigned char out[BENCH_FRAME_MAX + 2 * sizeof(struct ipv6hdr)];
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = frame, .data_size_in = len,
		    .data_out = out, .data_size_out = sizeof(out),
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx),
		    .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -1;
	*act = opts.retval;
	if (out_len)
		*out_len = opts.data_size_out;
	return opts.duration;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

struct bench_stat bench_summary(double *v, size_t n)
{
	struct bench_stat s = { 0, 0, 0 };

	if (!n)
		return s;
	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

double bench_midmean_u32(__u32 *v, size_t n)
{
	size_t lo = n / 4, hi = n - n / 4;
	double sum = 0;

	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (size_t i = lo; i < hi; i++)
		sum += v[i];
	return sum / (hi - lo);
}
