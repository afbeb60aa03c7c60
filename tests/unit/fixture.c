// SPDX-License-Identifier: GPL-2.0
/* Test fixture: namespace topology, map setup, test_run (see fixture.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "fixture.h"
#include "check.h"
#include "maglev.h"
#include "table.h"
#include "vipindex.h"
#include "xlb.skel.h"

/* Conntrack size for tests: the production 1M entries only cost load time here. */
#define FX_CT_SIZE	65536

const __u8 fx_mac_a[6] = { 0x02, 0, 0, 0, 0x0a, 0x00 };
const __u8 fx_mac_b[6] = { 0x02, 0, 0, 0, 0x0b, 0x00 };
const __u8 fx_mac_client[6] = { 0x02, 0, 0, 0, 0xcc, 0x01 };
__u32 fx_ifindex_a, fx_ifindex_b;

const char *const fx_reason_names[XLB_REASON_MAX] = XLB_REASON_NAMES;

void fx_be_mac(__u8 last, __u8 mac[6])
{
	static const __u8 base[6] = { 0x02, 0, 0, 0, 0xbe, 0 };

	memcpy(mac, base, 6);
	mac[5] = last;
}

void fx_die(const char *fmt, ...)
{
	va_list ap;

	printf("FAIL setup: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n0 passed, 1 failed\n");
	exit(1);
}

static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fx_die("command failed: %s", cmd);
}

static void sysctl_set(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(val, f) < 0 || fclose(f))
		fx_die("cannot write %s", path);
}

static void mac_str(const __u8 *m, char *buf)
{
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static void neigh(const char *dev, const char *addr, __u8 last)
{
	char mac[18];
	__u8 m[6];

	fx_be_mac(last, m);
	mac_str(m, mac);
	sh("ip neigh replace %s lladdr %s dev %s nud permanent", addr, mac, dev);
}

void fx_net_setup(void)
{
	char ma[18], mb[18];

	/*
	 * A namespace of our own, whatever the caller did: the links below never
	 * touch the host, and vanish with the process. bpffs stays visible.
	 */
	if (unshare(CLONE_NEWNET))
		fx_die("unshare(CLONE_NEWNET): %s", strerror(errno));
	/* bpf_fib_lookup refuses to route for an interface that does not forward. */
	sysctl_set("/proc/sys/net/ipv4/ip_forward", "1");
	sysctl_set("/proc/sys/net/ipv6/conf/all/forwarding", "1");
	sysctl_set("/proc/sys/net/ipv6/conf/default/forwarding", "1");
	mac_str(fx_mac_a, ma);
	mac_str(fx_mac_b, mb);
	sh("ip link set lo up");
	sh("ip link add " FX_IF_A " address %s type veth peer name xlbt1", ma);
	sh("ip link add " FX_IF_B " address %s mtu %d type veth peer name xlbt3 mtu %d",
	   mb, FX_MTU_B, FX_MTU_B);
	sh("ip link set " FX_IF_A " up && ip link set xlbt1 up");
	sh("ip link set " FX_IF_B " up && ip link set xlbt3 up");
	sh("ip addr add 10.99.0.1/24 dev " FX_IF_A);
	sh("ip addr add fd00:99::1/64 dev " FX_IF_A " nodad");
	sh("ip addr add 10.98.0.1/24 dev " FX_IF_B);
	sh("ip addr add fd00:98::1/64 dev " FX_IF_B " nodad");
	for (int n = FX_BE_FIRST; n <= FX_BE_LAST; n++) {
		char a4[32], a6[32];

		snprintf(a4, sizeof(a4), "10.99.0.%d", n);
		snprintf(a6, sizeof(a6), "fd00:99::%d", n);
		neigh(FX_IF_A, a4, n);
		neigh(FX_IF_A, a6, n);
	}
	neigh(FX_IF_B, "10.98.0.21", 21);
	neigh(FX_IF_B, "fd00:98::21", 21);
	fx_ifindex_a = if_nametoindex(FX_IF_A);
	fx_ifindex_b = if_nametoindex(FX_IF_B);
	if (!fx_ifindex_a || !fx_ifindex_b)
		fx_die("test interfaces have no index");
}

int fx_run(int prog_fd, __u32 ifindex, const void *in, size_t len, struct fx_run *r)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		.data_in = in,
		.data_size_in = len,
		.data_out = r->out,
		.data_size_out = sizeof(r->out),
		.ctx_in = &ctx,
		.ctx_size_in = sizeof(ctx),
		.repeat = 1,
	);
	int err;

	memset(r->out, 0, sizeof(r->out));
	err = bpf_prog_test_run_opts(prog_fd, &opts);
	r->ret = opts.retval;
	r->out_len = opts.data_size_out;
	return err ? -errno : 0;
}

__u64 fx_percpu_u64(int fd, __u32 key, size_t value_size, size_t off)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t stride = (value_size + 7) & ~(size_t)7;
	__u8 *vals = calloc(ncpu, stride);
	__u64 sum = 0, v;

	if (!vals || bpf_map_lookup_elem(fd, &key, vals))
		fx_die("per-CPU map lookup: %s", strerror(errno));
	for (int c = 0; c < ncpu; c++) {
		memcpy(&v, vals + c * stride + off, sizeof(v));
		sum += v;
	}
	free(vals);
	return sum;
}

void fx_reasons(int fd, __u64 snap[XLB_REASON_MAX])
{
	for (__u32 r = 0; r < XLB_REASON_MAX; r++)
		snap[r] = fx_percpu_u64(fd, r, sizeof(__u64), 0);
}

void fx_expect_reason(int fd, const __u64 before[XLB_REASON_MAX], int reason)
{
	__u64 now[XLB_REASON_MAX];

	fx_reasons(fd, now);
	for (int r = 0; r < XLB_REASON_MAX; r++) {
		__u64 d = now[r] - before[r], want = r == reason;

		if (d != want) {
			t_fail("reason %s counted %llu times, expected %llu (wanted reason %s)",
			       fx_reason_names[r], (unsigned long long)d,
			       (unsigned long long)want, fx_reason_names[reason]);
			return;
		}
	}
}

struct xlb_bpf *fx_xlb_load(void)
{
	return fx_xlb_load_encap(XLB_ENCAP_IPIP, XLB_GUE_PORT_DEFAULT);
}

struct xlb_bpf *fx_xlb_load_encap(__u32 encap, __u16 gue_port)
{
	struct xlb_bpf *s = xlb_bpf__open();

	if (!s)
		fx_die("open xlb skeleton: %s", strerror(errno));
	s->rodata->xlb_encap = encap;
	s->rodata->xlb_gue_port = gue_port;
	if (bpf_map__set_max_entries(s->maps.conntrack, FX_CT_SIZE))
		fx_die("resize conntrack");
	if (xlb_bpf__load(s))
		fx_die("load xlb skeleton (verifier?): %s", strerror(errno));
	return s;
}

void fx_config(struct xlb_bpf *s, const char *src4, const char *src6)
{
	struct xlb_config cfg = {};
	__u32 zero = 0, a[4];

	/* keep the derived all-ports bits fx_vip() set */
	bpf_map_lookup_elem(bpf_map__fd(s->maps.config), &zero, &cfg);
	cfg.src4 = 0;
	memset(cfg.src6, 0, sizeof(cfg.src6));
	if (src4) {
		pkt_addr(4, src4, a);
		cfg.src4 = a[0];
	}
	if (src6)
		pkt_addr(6, src6, cfg.src6);
	if (bpf_map_update_elem(bpf_map__fd(s->maps.config), &zero, &cfg, BPF_ANY))
		fx_die("config update: %s", strerror(errno));
}

void fx_vip(struct xlb_bpf *s, int family, const char *addr, __u16 port, __u8 proto,
	    __u32 id, __u32 table_size, __u8 sched, __u8 flags)
{
	struct xlb_vip_key k = { .port = htons(port), .proto = proto, .family = family };
	struct xlb_vip v = { .id = id, .table_size = table_size, .sched = sched, .flags = flags };

	pkt_addr(family, addr, k.addr);
	if (!port) {
		/* what the control plane derives for an all-ports VIP */
		struct xlb_config cfg = {};
		__u32 zero = 0;

		bpf_map_lookup_elem(bpf_map__fd(s->maps.config), &zero, &cfg);
		cfg.all_ports_addrs |= 1ULL << xlb_all_ports_bit(k.addr);
		if (bpf_map_update_elem(bpf_map__fd(s->maps.config), &zero, &cfg, BPF_ANY))
			fx_die("config update: %s", strerror(errno));
	}
	if (bpf_map_update_elem(bpf_map__fd(s->maps.vips), &k, &v, BPF_ANY))
		fx_die("vip %s update: %s", addr, strerror(errno));
	fx_vip_index(s);
}

void fx_vip_index(struct xlb_bpf *s)
{
	int err = vip_index_build(bpf_map__fd(s->maps.vips), bpf_map__fd(s->maps.vip_index));

	if (err)
		fx_die("vip index: %s", strerror(-err));
}

void fx_vip_window(struct xlb_bpf *s, int family, const char *addr, __u16 port, __u8 proto,
		   __u32 window_s)
{
	struct xlb_vip_key k = { .port = htons(port), .proto = proto, .family = family };
	struct xlb_vip v;
	int fd = bpf_map__fd(s->maps.vips);

	pkt_addr(family, addr, k.addr);
	if (bpf_map_lookup_elem(fd, &k, &v))
		fx_die("vip %s lookup: %s", addr, strerror(errno));
	v.chain_window_s = window_s;
	if (bpf_map_update_elem(fd, &k, &v, BPF_ANY))
		fx_die("vip %s update: %s", addr, strerror(errno));
	fx_vip_index(s);
}

void fx_backend(struct xlb_bpf *s, __u32 id, int family, const char *addr, __u16 weight,
		__u8 flags, __u32 vip_id)
{
	struct xlb_backend b = { .family = family, .flags = flags, .weight = weight,
				 .vip_id = vip_id };

	pkt_addr(family, addr, b.addr);
	if (bpf_map_update_elem(bpf_map__fd(s->maps.backends), &id, &b, BPF_ANY))
		fx_die("backend %u update: %s", id, strerror(errno));
}

static void table_swap(struct xlb_bpf *s, __u32 vip_id, __u32 size, const __u32 *slots)
{
	int fd = table_map_new(slots, size);

	if (fd < 0)
		fx_die("create table: %s", strerror(-fd));
	if (bpf_map_update_elem(bpf_map__fd(s->maps.tables), &vip_id, &fd, BPF_ANY))
		fx_die("swap table of vip %u: %s", vip_id, strerror(errno));
	close(fd);
}

void fx_table(struct xlb_bpf *s, __u32 vip_id, __u32 size, const __u32 *ids, size_t n)
{
	struct maglev_backend *mb = calloc(n ? n : 1, sizeof(*mb));
	__u32 *slots = calloc(size, sizeof(*slots));

	if (!mb || !slots)
		fx_die("out of memory");
	for (size_t i = 0; i < n; i++) {
		struct xlb_backend b;

		if (bpf_map_lookup_elem(bpf_map__fd(s->maps.backends), &ids[i], &b))
			fx_die("backend %u lookup: %s", ids[i], strerror(errno));
		mb[i].id = ids[i];
		memcpy(mb[i].addr, b.addr, sizeof(b.addr));
		mb[i].family = b.family;
		mb[i].weight = b.weight;
	}
	if (maglev_build(mb, n, size, slots))
		fx_die("maglev_build(%u)", size);
	table_swap(s, vip_id, size, slots);
	free(mb);
	free(slots);
}

void fx_table_fill(struct xlb_bpf *s, __u32 vip_id, __u32 size, __u32 id)
{
	__u32 *slots = calloc(size, sizeof(*slots));

	if (!slots)
		fx_die("out of memory");
	for (__u32 i = 0; i < size; i++)
		slots[i] = id;
	table_swap(s, vip_id, size, slots);
	free(slots);
}

/*
 * Slot @slot of the table map @fd: its lines (struct xlb_table_line) give
 * the table's size back, since owner lines are a third of them, rounded
 * down (o owner lines, 2o - 1 or 2o of previous owners, one tail).
 */
static struct xlb_slot fx_slot_read(int fd, __u32 slot)
{
	struct xlb_slot v = { XLB_BACKEND_NONE, XLB_BACKEND_NONE, 0 };
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), line, owners;
	struct xlb_table_line l;

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return v;
	owners = info.max_entries / 3;
	line = slot / XLB_TABLE_LINE_OWNERS;
	if (bpf_map_lookup_elem(fd, &line, &l))
		return v;
	v.backend = l.owner[slot % XLB_TABLE_LINE_OWNERS];
	line = owners + slot / XLB_TABLE_LINE_PREVS;
	if (bpf_map_lookup_elem(fd, &line, &l))
		return v;
	v.prev = l.prev[slot % XLB_TABLE_LINE_PREVS].prev;
	v.changed_s = l.prev[slot % XLB_TABLE_LINE_PREVS].changed_s;
	return v;
}

struct xlb_slot fx_slot_get(struct xlb_bpf *s, __u32 vip_id, __u32 slot)
{
	struct xlb_slot v = { XLB_BACKEND_NONE, XLB_BACKEND_NONE, 0 };
	__u32 inner_id;
	int fd;

	if (bpf_map_lookup_elem(bpf_map__fd(s->maps.tables), &vip_id, &inner_id))
		return v;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		fx_die("table of vip %u: %s", vip_id, strerror(errno));
	v = fx_slot_read(fd, slot);
	close(fd);
	return v;
}

__u32 fx_slot(struct xlb_bpf *s, __u32 vip_id, __u32 slot)
{
	return fx_slot_get(s, vip_id, slot).backend;
}

void fx_table_slots(struct xlb_bpf *s, __u32 vip_id, __u32 size, __u32 id, __u32 prev,
		    __u32 changed_s)
{
	struct xlb_slot *slots = calloc(size, sizeof(*slots));
	int fd;

	if (!slots)
		fx_die("out of memory");
	for (__u32 i = 0; i < size; i++)
		slots[i] = (struct xlb_slot){ .backend = id, .prev = prev, .changed_s = changed_s };
	fd = table_map_new_slots(slots, size);
	if (fd < 0)
		fx_die("create table: %s", strerror(-fd));
	if (bpf_map_update_elem(bpf_map__fd(s->maps.tables), &vip_id, &fd, BPF_ANY))
		fx_die("swap table of vip %u: %s", vip_id, strerror(errno));
	close(fd);
	free(slots);
}
