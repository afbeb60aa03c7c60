// SPDX-License-Identifier: GPL-2.0
/*
 * xlb trace [VIP] [--backend ADDR] [--reason R] [--count N] [--duration D]
 *           [--pcap FILE]
 * xlb decap trace IFACE [--reason R] [--count N] [--duration D] [--pcap FILE]
 *
 * What the data plane decided for each packet, one line each: time,
 * 5-tuple, VIP, backend and how it was chosen (tracked or new), and the
 * reason the packet left the program (forwarded, dropped because..., passed
 * because...). Drops are invisible to tcpdump; this is where they show.
 * With --pcap the packets, as they arrived (before any rewriting), go to a
 * pcapng file with the verdict as each packet's comment.
 *
 * The programs produce events only while a trace runs (trace_ctl counts the
 * running traces; bpf/lib/trace.h), and this side filters them. A trace
 * that is SIGKILLed leaves its count behind: events keep flowing into the
 * ring buffer (nobody reads them, nothing else changes) until the next
 * trace of that instance ends, which puts the count back to its own start.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "xlb.h"
#include "trace.h"
#include "out.h"
#include "pcapng.h"
#include "util.h"

#define TRACE_POLL_MS		100
#define ETH_HLEN_		14
#define VLAN_HLEN_		4
#define ETH_P_IP_		0x0800
#define ETH_P_IPV6_		0x86dd
#define ETH_P_8021Q_		0x8100

static const char *const reason_names[XLB_REASON_MAX] = XLB_REASON_NAMES;
static volatile sig_atomic_t trace_stop;

struct trace_run {
	const struct trace_args *a;
	const struct model *m;		/* balancer: names of VIPs and backends */
	__u32 vip_id;			/* XLB_VIP_NONE: any */
	FILE *pcap;
	__s64 mono_to_real;		/* add to a monotonic time for the wall clock */
	__u64 matched;
	int err;
};

static void on_signal(int sig)
{
	trace_stop = 1;
}

static int reason_by_name(const char *s)
{
	for (int r = 0; r < XLB_REASON_MAX; r++)
		if (reason_names[r] && !strcmp(reason_names[r], s))
			return r;
	return -1;
}

int trace_parse(int argc, char **argv, bool decap, struct trace_args *a)
{
	const char *v, *why;

	memset(a, 0, sizeof(*a));
	a->reason = -1;
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--backend") && !decap) {
			if (!(v = next_arg(&i, argc, argv, "--backend")))
				return XLB_EXIT_USAGE;
			if (!addr_parse(v, &a->backend, &why)) {
				xlb_err("invalid --backend \"%s\": %s", v, why);
				return XLB_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--reason")) {
			if (!(v = next_arg(&i, argc, argv, "--reason")))
				return XLB_EXIT_USAGE;
			a->reason = reason_by_name(v);
			if (a->reason < 0) {
				xlb_err("invalid --reason \"%s\": not a reason xlb stats lists", v);
				return XLB_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--count")) {
			__u32 n;

			if (!(v = next_arg(&i, argc, argv, "--count")))
				return XLB_EXIT_USAGE;
			if (!parse_u32(v, 1, 0xffffffffu, &n)) {
				xlb_err("invalid --count \"%s\": must be 1 or more", v);
				return XLB_EXIT_USAGE;
			}
			a->count = n;
		} else if (!strcmp(argv[i], "--duration")) {
			if (!(v = next_arg(&i, argc, argv, "--duration")))
				return XLB_EXIT_USAGE;
			if (!parse_duration_ms(v, 1, 86400000, &a->duration_ms)) {
				xlb_err("invalid --duration \"%s\": must be 1ms to 24h", v);
				return XLB_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "--pcap")) {
			if (!(a->pcap = next_arg(&i, argc, argv, "--pcap")))
				return XLB_EXIT_USAGE;
		} else if (argv[i][0] != '-' && !decap && !a->vip) {
			a->vip = argv[i];
		} else {
			xlb_err("unexpected argument \"%s\" (xlb %strace --help)", argv[i],
				decap ? "decap " : "");
			return XLB_EXIT_USAGE;
		}
	}
	return XLB_EXIT_OK;
}

/* "SRC:SPORT > DST:DPORT PROTO [FLAGS]" of the frame in @p, as far as it goes. */
static void describe(const __u8 *p, __u32 len, char *buf, size_t blen)
{
	__u32 off = ETH_HLEN_, a4[4] = {}, b4[4] = {};
	char s[XLB_VIP_STRLEN], d[XLB_VIP_STRLEN], fl[8] = "";
	__u16 type, sport = 0, dport = 0;
	__u8 proto, family, *l4;
	__u32 l4off;

	if (len < ETH_HLEN_) {
		snprintf(buf, blen, "(%u bytes)", len);
		return;
	}
	type = p[12] << 8 | p[13];
	if (type == ETH_P_8021Q_ && len >= ETH_HLEN_ + VLAN_HLEN_) {
		type = p[16] << 8 | p[17];
		off += VLAN_HLEN_;
	}
	if (type == ETH_P_IP_ && len >= off + 20) {
		family = XLB_AF_INET;
		memcpy(a4, p + off + 12, 4);
		memcpy(b4, p + off + 16, 4);
		proto = p[off + 9];
		l4off = off + (p[off] & 0xf) * 4;
	} else if (type == ETH_P_IPV6_ && len >= off + 40) {
		family = XLB_AF_INET6;
		memcpy(a4, p + off + 8, 16);
		memcpy(b4, p + off + 24, 16);
		proto = p[off + 6];
		l4off = off + 40;
	} else {
		snprintf(buf, blen, "ethertype 0x%04x", type);
		return;
	}
	l4 = (__u8 *)p + l4off;
	if ((proto == IPPROTO_TCP || proto == IPPROTO_UDP) && len >= l4off + 4) {
		sport = l4[0] << 8 | l4[1];
		dport = l4[2] << 8 | l4[3];
	}
	if (proto == IPPROTO_TCP && len >= l4off + 14) {
		size_t n = 0;

		if (l4[13] & 0x02)
			fl[n++] = 'S';
		if (l4[13] & 0x01)
			fl[n++] = 'F';
		if (l4[13] & 0x04)
			fl[n++] = 'R';
		if (l4[13] & 0x08)
			fl[n++] = 'P';
		if (l4[13] & 0x10)
			fl[n++] = '.';
		fl[n] = 0;
	}
	addr_port_fmt(a4, family, htons(sport), s, sizeof(s));
	addr_port_fmt(b4, family, htons(dport), d, sizeof(d));
	if (proto == IPPROTO_TCP)
		snprintf(buf, blen, "%s > %s tcp [%s]", s, d, fl);
	else if (proto == IPPROTO_UDP)
		snprintf(buf, blen, "%s > %s udp", s, d);
	else {
		addr_fmt(a4, family, s, sizeof(s));
		addr_fmt(b4, family, d, sizeof(d));
		snprintf(buf, blen, "%s > %s proto %u", s, d, proto);
	}
}

static const struct m_backend *backend_of(const struct model *m, __u32 id)
{
	for (size_t i = 0; m && i < m->nbes; i++)
		if (m->bes[i].id == id)
			return &m->bes[i];
	return NULL;
}

static bool wanted(const struct trace_run *r, const struct xlb_trace_event *ev)
{
	const struct m_backend *b;

	if (ev->reason >= XLB_REASON_MAX)
		return false;
	if (r->vip_id != XLB_VIP_NONE && ev->vip_id != r->vip_id)
		return false;
	if (r->a->reason >= 0 && (int)ev->reason != r->a->reason)
		return false;
	if (r->a->backend.family) {
		b = backend_of(r->m, ev->backend_id);
		if (!b || b->be.family != r->a->backend.family ||
		    memcmp(b->be.addr, r->a->backend.a, sizeof(b->be.addr)))
			return false;
	}
	return true;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct trace_run *r = ctx;
	const struct xlb_trace_event *ev = data;
	char what[160], vip[XLB_VIP_STRLEN] = "-", be[XLB_ADDR_STRLEN] = "-", when[40];
	char comment[256];
	const struct m_backend *b;
	const struct m_vip *v;
	const char *how;
	__u64 real;
	time_t sec;
	struct tm tm;

	if (size < sizeof(*ev) || !wanted(r, ev) || (r->a->count && r->matched >= r->a->count))
		return 0;
	r->matched++;
	describe(ev->data, ev->snap_len, what, sizeof(what));
	v = r->m && ev->vip_id != XLB_VIP_NONE ? model_vip_by_id(r->m, ev->vip_id) : NULL;
	if (v)
		vip_fmt(&v->key, vip, sizeof(vip));
	b = ev->backend_id != XLB_BACKEND_NONE ? backend_of(r->m, ev->backend_id) : NULL;
	if (b)
		addr_fmt(b->be.addr, b->be.family, be, sizeof(be));
	how = ev->flags & XLB_TRACE_F_TRACKED ? "tracked" : ev->flags & XLB_TRACE_F_NEW ? "new" : "-";
	real = ev->ts_ns + r->mono_to_real;
	sec = real / 1000000000ULL;
	gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (out_is_json()) {
		printf("{\"time_ns\":%llu,\"packet\":\"%s\",\"len\":%u,\"vip\":\"%s\","
		       "\"backend\":\"%s\",\"how\":\"%s\",\"reason\":\"%s\"}\n",
		       (unsigned long long)real, what, ev->frame_len, vip, be, how,
		       reason_names[ev->reason]);
	} else {
		printf("%s.%06llu %s len %u vip %s backend %s %s %s\n", when,
		       (unsigned long long)(real % 1000000000ULL) / 1000, what, ev->frame_len, vip,
		       be, how, reason_names[ev->reason]);
	}
	fflush(stdout);
	if (r->pcap) {
		snprintf(comment, sizeof(comment), "xlb: %s vip %s backend %s %s",
			 reason_names[ev->reason], vip, be, how);
		if (pcapng_packet(r->pcap, real, ev->data, ev->snap_len, ev->frame_len, comment))
			r->err = -EIO;
	}
	return 0;
}

static int pin_get(const char *dir, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0)
		xlb_err("cannot open %s: %s (an instance attached by an older xlb: attach it "
			"again to trace it)", path, strerror(errno));
	return fd;
}

/* Events lost so far (the ring buffer was full), over every CPU. */
static __u64 trace_lost(int cpu_fd)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xlb_trace_cpu *t;
	__u32 zero = 0;
	__u64 lost = 0;

	if (ncpu <= 0 || !(t = calloc(ncpu, sizeof(*t))))
		return 0;
	if (!bpf_map_lookup_elem(cpu_fd, &zero, t))
		for (int i = 0; i < ncpu; i++)
			lost += t[i].lost;
	free(t);
	return lost;
}

/* trace_ctl += @delta (the count of running traces); the old count. */
static __u32 trace_count(int ctl_fd, int delta)
{
	__u32 zero = 0, n = 0, m;

	bpf_map_lookup_elem(ctl_fd, &zero, &n);
	m = delta < 0 && n == 0 ? 0 : n + delta;
	bpf_map_update_elem(ctl_fd, &zero, &m, BPF_ANY);
	return n;
}

static __s64 mono_to_real(void)
{
	struct timespec m, r;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	return ((__s64)r.tv_sec - m.tv_sec) * 1000000000LL + (r.tv_nsec - m.tv_nsec);
}

int trace_main(const char *dir, const struct model *m, __u32 vip_id, const struct trace_args *a)
{
	struct trace_run r = { .a = a, .m = m, .vip_id = vip_id, .mono_to_real = mono_to_real() };
	int ctl_fd = -1, ev_fd = -1, cpu_fd = -1, ret = XLB_EXIT_FAIL;
	struct ring_buffer *rb = NULL;
	__u64 lost0, lost, t0 = now_mono_ns();
	struct sigaction sa = { .sa_handler = on_signal };

	if ((ctl_fd = pin_get(dir, "trace_ctl")) < 0 || (ev_fd = pin_get(dir, "trace_events")) < 0 ||
	    (cpu_fd = pin_get(dir, "trace_cpu")) < 0)
		goto out;
	if (a->pcap && !(r.pcap = fopen(a->pcap, "wxe"))) {
		xlb_err("cannot create --pcap \"%s\": %s", a->pcap, strerror(errno));
		goto out;
	}
	if (r.pcap && pcapng_start(r.pcap, XLB_TRACE_SNAP)) {
		xlb_err("cannot write \"%s\"", a->pcap);
		goto out;
	}
	rb = ring_buffer__new(ev_fd, on_event, &r, NULL);
	if (!rb) {
		xlb_err("cannot read the trace ring buffer: %s", strerror(errno));
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	lost0 = trace_lost(cpu_fd);
	trace_count(ctl_fd, +1);
	fprintf(stderr, "xlb: tracing %s (Ctrl-C stops)\n", dir);
	ret = XLB_EXIT_OK;
	while (!trace_stop && !r.err && (!a->count || r.matched < a->count)) {
		if (a->duration_ms && now_mono_ns() - t0 >= (__u64)a->duration_ms * 1000000)
			break;
		if (ring_buffer__poll(rb, TRACE_POLL_MS) < 0 && errno != EINTR) {
			xlb_err("reading the trace ring buffer: %s", strerror(errno));
			ret = XLB_EXIT_FAIL;
			break;
		}
	}
	trace_count(ctl_fd, -1);
	/* What was already in the ring buffer when the count went down. */
	if (!r.err && (!a->count || r.matched < a->count))
		ring_buffer__consume(rb);
	lost = trace_lost(cpu_fd) - lost0;
	if (lost)
		xlb_warn("%llu events lost: the ring buffer was full (%d bytes)",
			 (unsigned long long)lost, XLB_TRACE_RING);
	if (r.err) {
		xlb_err("writing \"%s\" failed", a->pcap);
		ret = XLB_EXIT_FAIL;
	}
out:
	ring_buffer__free(rb);
	if (r.pcap && fclose(r.pcap) && ret == XLB_EXIT_OK) {
		xlb_err("writing \"%s\" failed: %s", a->pcap, strerror(errno));
		ret = XLB_EXIT_FAIL;
	}
	for (int *fd = (int[]){ ctl_fd, ev_fd, cpu_fd }, i = 0; i < 3; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	return ret;
}

static const char trace_usage[] =
	"usage: xlb trace [VIP] [--backend ADDR] [--reason REASON] [--count N] [--duration D]\n"
	"                 [--pcap FILE]\n"
	"  one line per packet the balancer handles: time, 5-tuple, VIP, backend (tracked or\n"
	"  new) and the reason it left the data plane (REASON: a name xlb stats lists);\n"
	"  --pcap writes the packets as they arrived, the verdict in each one's comment\n";

int do_trace(int argc, char **argv)
{
	struct trace_args a;
	struct xlb_vip_key k;
	struct xlb_inst in;
	struct model m;
	const char *why;
	__u32 vip_id = XLB_VIP_NONE;
	const struct m_vip *v;
	int ret;

	if (argc > 0 && is_help(argv[0])) {
		fputs(trace_usage, stdout);
		return XLB_EXIT_OK;
	}
	ret = trace_parse(argc, argv, false, &a);
	if (ret != XLB_EXIT_OK)
		return ret;
	if (a.vip && !vip_parse(a.vip, &k, &why)) {
		xlb_err("invalid VIP \"%s\": %s", a.vip, why);
		return XLB_EXIT_USAGE;
	}
	if (model_open(opts.iface, false, &in, &m))
		return XLB_EXIT_FAIL;
	if (a.vip) {
		v = model_vip(&m, &k);
		if (!v) {
			xlb_err("no VIP %s on %s", a.vip, in.iface);
			model_close(&in, &m);
			return XLB_EXIT_FAIL;
		}
		vip_id = v->v.id;
	}
	ret = trace_main(in.dir, &m, vip_id, &a);
	model_close(&in, &m);
	return ret;
}
