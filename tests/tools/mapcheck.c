// SPDX-License-Identifier: GPL-2.0
/*
 * mapcheck: what an instance's pinned maps hold, as canonical text, for the
 * crash test (tests/integration/commit_crash.sh): two instances whose maps
 * hold the same configuration print the same text, whatever the backend
 * slot ids (they differ from run to run: slots are handed out round robin).
 * Why not `xlb save`: save prints the model (the vips and backends maps),
 * never the tables, and an interrupted commit leaves exactly that gap: new
 * backends in slots, old tables. This reads every map raw (bpf(2), no
 * libbpf, no xlb code: it must not share the bugs it looks for).
 *
 * Per VIP, sorted: its settings, its backends (address, weight, flags) and
 * its table as a count of slots per backend address plus a hash of the
 * whole sequence of addresses. Then one "ERROR ..." line for each of:
 * a VIP without a table, a slot naming a backend not of its VIP, a used
 * backend slot of no VIP, a table or non-zero vip_config of an unused VIP id.
 *
 * usage: mapcheck PIN_DIR      (e.g. /sys/fs/bpf/xlb/eth0); exit 0, 2 on bad usage,
 *                              1 if a map cannot be read
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "../../bpf/xlb_abi.h"

#define LINE_MAX_LEN	4096

static int sys_bpf(int cmd, union bpf_attr *a)
{
	return syscall(__NR_bpf, cmd, a, sizeof(*a));
}

static int obj_get(const char *dir, const char *name)
{
	char path[512];
	union bpf_attr a = {};
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	a.pathname = (__u64)(unsigned long)path;
	fd = sys_bpf(BPF_OBJ_GET, &a);
	if (fd < 0) {
		fprintf(stderr, "mapcheck: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	return fd;
}

static int lookup(int fd, const void *key, void *val)
{
	union bpf_attr a = {};

	a.map_fd = fd;
	a.key = (__u64)(unsigned long)key;
	a.value = (__u64)(unsigned long)val;
	return sys_bpf(BPF_MAP_LOOKUP_ELEM, &a);
}

static int next_key(int fd, const void *key, void *next)
{
	union bpf_attr a = {};

	a.map_fd = fd;
	a.key = (__u64)(unsigned long)key;
	a.next_key = (__u64)(unsigned long)next;
	return sys_bpf(BPF_MAP_GET_NEXT_KEY, &a);
}

static void addr_str(const __u32 *addr, __u8 family, char *buf, size_t len)
{
	if (!inet_ntop(family == XLB_AF_INET6 ? AF_INET6 : AF_INET, addr, buf, len))
		snprintf(buf, len, "?");
}

static struct xlb_backend *bes;	/* the backends array, XLB_MAX_BACKENDS */

struct vip {
	char name[80];
	struct xlb_vip v;
	char text[LINE_MAX_LEN * 4];
};

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct vip *)a)->name, ((const struct vip *)b)->name);
}

static __u64 fnv(__u64 h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/* Append to @v's text. */
static void put(struct vip *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct vip *v, const char *fmt, ...)
{
	size_t n = strlen(v->text);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->text + n, sizeof(v->text) - n, fmt, ap);
	va_end(ap);
}

struct count {
	__u32 id;
	__u32 n;
};

static int by_addr(const void *a, const void *b)
{
	const struct xlb_backend *x = &bes[((const struct count *)a)->id];
	const struct xlb_backend *y = &bes[((const struct count *)b)->id];

	return memcmp(x->addr, y->addr, sizeof(x->addr));
}

/* @v's backends by address, with weight and flags. */
static void list_backends(struct vip *v)
{
	struct count c[64];
	__u32 nc = 0;
	char addr[64];

	for (__u32 i = 0; i < XLB_MAX_BACKENDS && nc < 64; i++)
		if ((bes[i].flags & XLB_BE_F_USED) && bes[i].vip_id == v->v.id)
			c[nc++].id = i;
	qsort(c, nc, sizeof(*c), by_addr);
	for (__u32 k = 0; k < nc; k++) {
		const struct xlb_backend *b = &bes[c[k].id];

		addr_str(b->addr, b->family, addr, sizeof(addr));
		put(v, "  backend %s weight %u flags %u\n", addr, b->weight, b->flags);
	}
}

/* The table of @v: slots per backend address, the sequence's hash, foreign slots. */
static void read_table(int tables_fd, struct vip *v)
{
	union bpf_attr a = {};
	struct bpf_map_info info = {};
	struct count c[64] = {};
	__u32 inner, id = v->v.id, nc = 0, foreign = 0, empty = 0;
	__u64 h = 0xcbf29ce484222325ULL;
	char addr[64];
	unsigned char *map;
	size_t len;
	int fd;

	if (lookup(tables_fd, &id, &inner)) {
		put(v, "ERROR vip %s has no table\n", v->name);
		return;
	}
	a.map_id = inner;
	fd = sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = sizeof(info);
	a.info.info = (__u64)(unsigned long)&info;
	if (fd < 0 || sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a)) {
		put(v, "ERROR vip %s: table unreadable\n", v->name);
		return;
	}
	if (info.max_entries != xlb_table_lines(v->v.table_size) ||
	    info.value_size != sizeof(struct xlb_table_line)) {
		close(fd);
		put(v, "ERROR vip %s: table of %u lines of %u bytes for %u slots\n", v->name,
		    info.max_entries, info.value_size, v->v.table_size);
		return;
	}
	len = ((size_t)info.max_entries * sizeof(struct xlb_table_line) + 4095) / 4096 * 4096;
	map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (map == MAP_FAILED) {
		put(v, "ERROR vip %s: table not mappable\n", v->name);
		return;
	}
	for (__u32 i = 0; i < v->v.table_size; i++) {
		__u32 be = ((struct xlb_table_line *)map)[i / XLB_TABLE_LINE_OWNERS]
				   .owner[i % XLB_TABLE_LINE_OWNERS];
		__u32 k;

		if (be == XLB_BACKEND_NONE) {
			empty++;
			h = fnv(h, "-", 1);
			continue;
		}
		if (be >= XLB_MAX_BACKENDS || !(bes[be].flags & XLB_BE_F_USED) ||
		    bes[be].vip_id != v->v.id) {
			foreign++;
			continue;
		}
		h = fnv(h, bes[be].addr, sizeof(bes[be].addr));
		for (k = 0; k < nc && c[k].id != be; k++)
			;
		if (k == nc && nc < 64)
			c[nc++].id = be;
		if (k < 64)
			c[k].n++;
	}
	munmap(map, len);
	qsort(c, nc, sizeof(*c), by_addr);
	put(v, "  table size %u hash %016llx empty %u:", info.max_entries,
	    (unsigned long long)h, empty);
	for (__u32 k = 0; k < nc; k++) {
		addr_str(bes[c[k].id].addr, bes[c[k].id].family, addr, sizeof(addr));
		put(v, " %s=%u", addr, c[k].n);
	}
	put(v, "\n");
	if (foreign)
		put(v, "ERROR vip %s: %u slots name a backend not of this VIP\n", v->name, foreign);
}

int main(int argc, char **argv)
{
	int vips_fd, tables_fd, bes_fd, cfg_fd;
	static __u8 id_used[XLB_MAX_VIPS];
	struct xlb_vip_key key, *prev = NULL;
	struct vip *v = calloc(XLB_MAX_VIPS, sizeof(*v));
	__u32 nv = 0, inner;
	char addr[64];

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: mapcheck PIN_DIR\n");
		return 2;
	}
	bes = calloc(XLB_MAX_BACKENDS, sizeof(*bes));
	if (!v || !bes)
		return 1;
	vips_fd = obj_get(argv[1], "vips");
	tables_fd = obj_get(argv[1], "tables");
	bes_fd = obj_get(argv[1], "backends");
	cfg_fd = obj_get(argv[1], "vip_config");
	for (__u32 i = 0; i < XLB_MAX_BACKENDS; i++)
		if (lookup(bes_fd, &i, &bes[i]))
			return 1;
	while (nv < XLB_MAX_VIPS && !next_key(vips_fd, prev, &key)) {
		struct vip *p = &v[nv];

		if (!lookup(vips_fd, &key, &p->v)) {
			addr_str(key.addr, key.family, addr, sizeof(addr));
			snprintf(p->name, sizeof(p->name), "%s:%u/%s", addr, ntohs(key.port),
				 key.proto == 6 ? "tcp" : "udp");
			if (p->v.id < XLB_MAX_VIPS)
				id_used[p->v.id] = 1;
			nv++;
		}
		prev = &key;
	}
	for (__u32 i = 0; i < nv; i++) {
		struct xlb_vip_config cfg = {};

		lookup(cfg_fd, &v[i].v.id, &cfg);
		put(&v[i], "vip %s sched %u flags %u window %u cfg %016llx\n", v[i].name,
		    v[i].v.sched, v[i].v.flags, v[i].v.chain_window_s,
		    (unsigned long long)fnv(0xcbf29ce484222325ULL, &cfg, sizeof(cfg)));
		list_backends(&v[i]);
		read_table(tables_fd, &v[i]);
	}
	qsort(v, nv, sizeof(*v), by_name);
	for (__u32 i = 0; i < nv; i++)
		fputs(v[i].text, stdout);
	for (__u32 i = 0; i < XLB_MAX_BACKENDS; i++)
		if ((bes[i].flags & XLB_BE_F_USED) &&
		    (bes[i].vip_id >= XLB_MAX_VIPS || !id_used[bes[i].vip_id]))
			printf("ERROR orphan backend slot %u (vip id %u)\n", i, bes[i].vip_id);
	for (__u32 id = 0; id < XLB_MAX_VIPS; id++) {
		struct xlb_vip_config cfg = {}, none = {};

		if (id_used[id])
			continue;
		if (!lookup(tables_fd, &id, &inner))
			printf("ERROR orphan table of unused vip id %u\n", id);
		if (!lookup(cfg_fd, &id, &cfg) && memcmp(&cfg, &none, sizeof(cfg)))
			printf("ERROR orphan vip_config of unused vip id %u\n", id);
	}
	return 0;
}
