// SPDX-License-Identifier: GPL-2.0
/*
 * Control-plane benchmark (issue 6, part 4): how long user/lib/maglev.c
 * takes to build one VIP's table (65,537 slots) for 10 to 10,000 backends
 * of mixed weights. The CLI rebuilds a VIP's whole table on every change,
 * so this bounds the latency of `xlb backend add`. Prints JSON.
 *
 * `cpbench ctfill PIN N VIP_ID BACKEND_ID` fills a pinned conntrack map
 * with N flows of 10.100.0.1:80/tcp (for timing `xlb list` over them),
 * written through the flow table's mapping (user/lib/flowtable.h), each
 * into the way the data plane would give it; a flow that a later one
 * evicted (its bucket full) is counted on stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "xlb_abi.h"
#include "flowtable.h"
#include "maglev.h"

#define REPS_MIN	5
#define WEIGHT_SPREAD	10	/* weights 1..10, cycling: a mixed set */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

#define FILL_VIP	0x0a640001	/* 10.100.0.1 */
#define FILL_CLIENT	0x0b000001	/* 11.0.0.1 + i / ports */
#define FILL_PORTS	50000
#define FILL_PORT_BASE	1024
#define HTTP_PORT	80

/* Fill flow @i: client FILL_CLIENT + i / FILL_PORTS, its port from the rest. */
static void fill_key(__u32 i, struct xlb_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	k->src[0] = htonl(FILL_CLIENT + i / FILL_PORTS);
	k->dst[0] = htonl(FILL_VIP);
	k->sport = htons(FILL_PORT_BASE + i % FILL_PORTS);
	k->dport = htons(HTTP_PORT);
	k->proto = IPPROTO_TCP;
	k->family = XLB_AF_INET;
}

static int ctfill(const char *pin, __u32 n, __u32 vip_id, __u32 be_id)
{
	int fd = bpf_obj_get(pin), err;
	struct xlb_flow_key k;
	struct flowtable t;
	struct timespec ts;
	struct xlb_flow f;
	__u32 lost = 0;

	if (fd < 0) {
		fprintf(stderr, "cpbench: open %s failed\n", pin);
		return 1;
	}
	err = flowtable_open(fd, &t);
	if (err) {
		fprintf(stderr, "cpbench: %s: not a flow table (%s)\n", pin, strerror(-err));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	f = (struct xlb_flow){ .backend_id = be_id, .vip_id = vip_id,
			       .last_seen_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec };
	for (__u32 i = 0; i < n; i++) {
		fill_key(i, &k);
		flowtable_write(flowtable_way(&t, &k), &k, &f);
	}
	for (__u32 i = 0; i < n; i++) {
		fill_key(i, &k);
		lost += !flowtable_find(&t, &k);
	}
	if (lost)
		fprintf(stderr, "cpbench: ctfill: %u of %u flows evicted by later ones\n", lost, n);
	flowtable_close(&t);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "ctfill"))
		return ctfill(argv[2], strtoul(argv[3], NULL, 0), strtoul(argv[4], NULL, 0),
			      strtoul(argv[5], NULL, 0));

	static const unsigned int sizes[] = { 10, 100, 1000, 10000 };
	__u32 *table = malloc(XLB_TABLE_SIZE_DEFAULT * sizeof(*table));
	int reps = argc > 1 ? atoi(argv[1]) : REPS_MIN;


	if (reps < 1 || !table) {
		fprintf(stderr, "usage: cpbench [REPS]\n");
		return 2;
	}
	printf("{\"table_size\":%u,\"reps\":%d,\"maglev\":[", XLB_TABLE_SIZE_DEFAULT, reps);
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct maglev_backend *b = calloc(sizes[s], sizeof(*b));
		double *ms = calloc(reps, sizeof(*ms));

		for (unsigned int i = 0; i < sizes[s]; i++) {
			b[i].id = i;
			b[i].family = XLB_AF_INET;
			b[i].addr[0] = htonl(0x0a800001 + i);	/* 10.128.0.1 + i */
			b[i].weight = 1 + i % WEIGHT_SPREAD;
		}
		for (int r = 0; r < reps; r++) {
			double t0 = now();

			if (maglev_build(b, sizes[s], XLB_TABLE_SIZE_DEFAULT, table)) {
				fprintf(stderr, "cpbench: maglev_build failed\n");
				return 1;
			}
			ms[r] = (now() - t0) * 1e3;
		}
		qsort(ms, reps, sizeof(*ms), cmp);
		printf("%s{\"backends\":%u,\"ms\":{\"med\":%.3f,\"min\":%.3f,\"max\":%.3f}}",
		       s ? "," : "", sizes[s], ms[reps / 2], ms[0], ms[reps - 1]);
		free(b);
		free(ms);
	}
	printf("]}\n");
	free(table);
	return 0;
}
