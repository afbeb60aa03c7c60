/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the data plane decided, packet by packet, for `xlb trace` and
 * `xlb decap trace`: drops are invisible to tcpdump, and an operator must
 * be able to see why a flow went where it went. Off unless a trace runs:
 * then every packet costs one inlined array read (trace_ctl) at its start
 * and one at its exit, nothing else (the notes in between test a byte of
 * the packet's own state). While one runs, the start copies the
 * frame's first bytes (before anything rewrites them) into this CPU's
 * xlb_trace_cpu, the path notes the VIP and the backend, and the exit
 * sends the whole event through the ring buffer trace_events; user space
 * filters. An XDP program runs to its end on one CPU, so a per-CPU slot is
 * the packet's own.
 */
#ifndef XLB_TRACE_H
#define XLB_TRACE_H

#include "consts.h"

/*
 * Whether the hooks are in the program at all; set by the loader, frozen
 * at load (the verifier removes them when 0). xlb loads them always: 0 is
 * for the benchmark that measures what they cost when no trace runs.
 */
const volatile __u8 xlb_trace_hooks = 1;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);	/* how many traces run */
} trace_ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_trace_cpu);
} trace_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XLB_TRACE_RING);
} trace_events SEC(".maps");

static __always_inline int xlb_tracing(void)
{
	__u32 zero = 0, *n;

	if (!xlb_trace_hooks)
		return 0;
	n = bpf_map_lookup_elem(&trace_ctl, &zero);
	return n && *n;
}

static __always_inline struct xlb_trace_cpu *xlb_trace_slot(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&trace_cpu, &zero);
}

/*
 * At the start of a packet: take its first bytes while they are the
 * client's. 1 if the packet is traced: the path then notes what it decides
 * without asking trace_ctl again.
 */
static __always_inline int xlb_trace_begin(struct xdp_md *ctx)
{
	struct xlb_trace_cpu *t;
	__u32 len;
	__u64 snap;	/* 64 bits: a 32-bit copy would be checked instead of it */

	if (!xlb_tracing() || !(t = xlb_trace_slot()))
		return 0;
	len = ctx->data_end - ctx->data;
	t->ev.frame_len = len;
	t->ev.snap_len = 0;
	/*
	 * The verifier checks the register passed to the helper; the barriers
	 * keep the compiler from merging the two tests into one on a copy.
	 */
	snap = len < XLB_TRACE_SNAP ? len : XLB_TRACE_SNAP;
	asm volatile("" : "+r"(snap));
	if (snap > 0) {
		asm volatile("" : "+r"(snap));
		if (snap <= XLB_TRACE_SNAP && !bpf_xdp_load_bytes(ctx, 0, t->ev.data, snap))
			t->ev.snap_len = snap;
	}
	t->ev.ifindex = ctx->ingress_ifindex;
	t->ev.vip_id = XLB_VIP_NONE;
	t->ev.backend_id = XLB_BACKEND_NONE;
	t->ev.flags = 0;
	t->armed = 1;
	return 1;
}

/* The VIP a packet matched, if it is traced (@traced: xlb_trace_begin()'s answer). */
static __always_inline void xlb_trace_vip(int traced, __u32 vip_id)
{
	struct xlb_trace_cpu *t;

	if (traced && (t = xlb_trace_slot()) && t->armed)
		t->ev.vip_id = vip_id;
}

/* The backend it got, and how (XLB_TRACE_F_TRACKED or XLB_TRACE_F_NEW). */
static __always_inline void xlb_trace_backend(int traced, __u32 be_id, __u8 how)
{
	struct xlb_trace_cpu *t;

	if (traced && (t = xlb_trace_slot()) && t->armed) {
		t->ev.backend_id = be_id;
		t->ev.flags = how;
	}
}

/* At the exit: the event goes out with its reason. */
static __always_inline void xlb_trace_end(__u32 reason)
{
	struct xlb_trace_cpu *t;
	struct xlb_trace_event *ev;

	if (!xlb_tracing() || !(t = xlb_trace_slot()) || !t->armed)
		return;
	t->armed = 0;
	t->ev.reason = reason;
	t->ev.ts_ns = bpf_ktime_get_ns();
	ev = bpf_ringbuf_reserve(&trace_events, sizeof(*ev), 0);
	if (!ev) {
		t->lost++;
		return;
	}
	__builtin_memcpy(ev, &t->ev, sizeof(*ev));
	bpf_ringbuf_submit(ev, 0);
}

#endif /* XLB_TRACE_H */
