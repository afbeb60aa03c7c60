// SPDX-License-Identifier: GPL-2.0
/*
 * xlb: the balancer's XDP program. A VIP packet is parsed, matched to its
 * VIP, given a backend (the tracked one, or the scheduler's pick), routed
 * with the kernel FIB and sent out encapsulated, or rewritten by full NAT
 * for a --forward nat VIP (xlb_forward() is the one place that chooses),
 * without leaving the driver. A NAT backend's answer comes back here too
 * and is rewritten back to the client. Everything else goes to the kernel
 * untouched, unless it is for a VIP address (the kernel does not own
 * those: they are dropped), and every exit counts its reason. Each step
 * lives in bpf/lib/; docs/DESIGN.md describes the path.
 */
#include "lib/consts.h"
#include "lib/reasons.h"
#include "lib/maps.h"
#include "lib/pkt.h"
#include "lib/parse.h"
#include "lib/frag.h"
#include "lib/vip.h"
#include "lib/conntrack.h"
#include "lib/sched.h"
#include "lib/fib.h"
#include "lib/encap.h"
#include "lib/icmp.h"
#include "lib/stats.h"
#include "lib/gue.h"
#include "lib/nat.h"
#include "lib/stop.h"

/*
 * The encapsulation, set by the loader from xlb_ctl (attach --encap,
 * --gue-port) and frozen at load: the verifier knows the value, so the
 * other encapsulation's code is removed from the program (xlb_balance()).
 */
const volatile __u32 xlb_encap = XLB_ENCAP_IPIP;
const volatile __u16 xlb_gue_port = XLB_GUE_PORT_DEFAULT;	/* host order */

/*
 * For the benchmark only (bench/pktcost, lib/stop.h): bench/bench.mk builds
 * this file a second time with XLB_BENCH_STOPS, whose program returns
 * XDP_TX right after step xlb_bench_stop, so that a step's cost is the
 * difference of two stops. The xlb that is installed and loaded is built
 * without it: XLB_STOP() is nothing there, not an instruction (a rodata test
 * would leave its read in every packet's path). A stop is not a real exit:
 * it counts no reason, and the frame it sends is not a finished one.
 */
#ifdef XLB_BENCH_STOPS
const volatile __u8 xlb_bench_stop = XLB_STOP_NONE;

/*
 * A stopped packet's XDP_TX, read back from xlb_bench_stop (volatile: read
 * again): a plain XDP_TX would let the compiler share the real exits' return
 * block, and a stop at XLB_STOP_NONE would then cost more than its test.
 */
#define XLB_STOP(step)							\
	do {								\
		if (xlb_bench_stop == (step))				\
			return xlb_bench_stop - (step) + XDP_TX;	\
	} while (0)
#else
#define XLB_STOP(step) do { } while (0)
#endif

/*
 * Whether a new pick is tracked. GUE: an untracked non-SYN TCP packet with
 * a second hop is not, or its next packets would be sent to one backend
 * only and lose the second chance; a stateless VIP tracks nothing.
 */
static __always_inline int xlb_admit(const struct xlb_pkt *pkt, int stateless,
				     const struct xlb_backend *second)
{
	if (stateless)
		return 0;
	return !second || pkt->key.proto != IPPROTO_TCP || (pkt->tcp_flags & XLB_TCP_SYN);
}

/*
 * The backend for this packet: the tracked one, or a new pick that is then
 * tracked. NULL when the VIP has no backend to offer. With @gue, *@second
 * may get the GUE hop list's second entry (xlb_gue_second_hop()).
 */
static __always_inline struct xlb_backend *xlb_backend_for(struct xlb_pkt *pkt,
							   const struct xlb_vip *vip,
							   struct xlb_counters *vcnt,
							   __u32 *be_id, int gue,
							   struct xlb_backend **second)
{
	int stateless = gue && (vip->flags & XLB_VIP_F_NO_CT);
	const struct xlb_slot_prev *slot = NULL;
	__u32 vip_id = vip->id, id;
	struct xlb_backend *be;

	if (!stateless) {
		be = xlb_ct_lookup(pkt, vip, be_id);
		if (be) {
			xlb_trace_backend(pkt->trace, *be_id, XLB_TRACE_F_TRACKED);
			return be;
		}
	}

	id = xlb_pick(pkt, vip, vcnt, gue, &slot);
	if (id == XLB_BACKEND_NONE)
		return NULL;
	be = bpf_map_lookup_elem(&backends, &id);
	/*
	 * The table is the truth for new flows (a DOWN backend in it is about
	 * to be replaced), but never send to a free or foreign slot.
	 */
	if (!be || !(be->flags & XLB_BE_F_USED) || be->vip_id != vip_id)
		return NULL;
	if (gue && slot)
		*second = xlb_gue_second_hop(pkt, slot, vip, id, be);
	/* An ICMP error only follows its flow; it does not start one. */
	if (!pkt->icmp_err && xlb_admit(pkt, stateless, *second)) {
		xlb_ct_insert(pkt, vip_id, id);
		xlb_count_new_flow(vcnt, id, vip->sched);
	} else if (stateless && !pkt->icmp_err &&
		   (pkt->tcp_flags & (XLB_TCP_SYN | XLB_TCP_ACK)) == XLB_TCP_SYN) {
		/* Untracked, a stateless VIP's new flows are its SYNs. */
		xlb_count_new_flow(vcnt, id, vip->sched);
	}
	xlb_trace_backend(pkt->trace, id, XLB_TRACE_F_NEW);
	*be_id = id;
	return be;
}

/* The outer source for @be's family, or NULL (none configured, or IPv6 in IPv4). */
static __always_inline const __u32 *xlb_outer_source(const struct xlb_pkt *pkt,
						     const struct xlb_config *cfg,
						     const struct xlb_backend *be)
{
	if (be->family == XLB_AF_INET) {
		if (pkt->key.family != XLB_AF_INET || !cfg->src4)
			return NULL;
		return &cfg->src4;
	}
	if (!(cfg->src6[0] | cfg->src6[1] | cfg->src6[2] | cfg->src6[3]))
		return NULL;
	return cfg->src6;
}

/* Put the outer headers on: IPIP (encap.h) or GUE (gue.h), by the instance's setting. */
static __always_inline int xlb_encap_pkt(struct xdp_md *ctx, struct xlb_pkt *pkt, int gue,
					 const __u32 *saddr, const struct xlb_backend *be,
					 const struct xlb_backend *second, __u32 label,
					 const struct bpf_fib_lookup *fib)
{
	__be16 port;

	if (!gue) {
		if (be->family == XLB_AF_INET)
			return xlb_encap4(ctx, pkt, saddr[0], be->addr[0], fib);
		return xlb_encap6(ctx, pkt, saddr, be->addr, label, fib);
	}
	port = bpf_htons(xlb_gue_port);	/* read here: IPIP packets never load it */
	if (be->family == XLB_AF_INET)
		return xlb_gue4(ctx, pkt, saddr[0], be->addr[0], second ? second->addr[0] : 0,
				port, fib);
	return xlb_gue6(ctx, pkt, saddr, be->addr, second ? second->addr : NULL, label, port,
			fib);
}

/*
 * A VIP packet's way out when its VIP encapsulates (DSR): backend, outer
 * source, route, outer headers, send. The final XDP action.
 */
static __always_inline int xlb_encap_forward(struct xdp_md *ctx, __u32 ifindex, struct xlb_pkt *pkt,
					     const struct xlb_config *cfg, const struct xlb_vip *vip,
					     struct xlb_counters *vcnt, const int gue)
{
	struct xlb_backend *be, *second = NULL;
	struct bpf_fib_lookup fib = {};
	__u32 be_id, overhead, label = 0;
	const __u32 *saddr;
	int ret;

	be = xlb_backend_for(pkt, vip, vcnt, &be_id, gue, &second);
	if (!be)
		return xlb_verdict_of(pkt->trace, XLB_DROP_NO_BACKEND);
	XLB_STOP(XLB_STOP_BACKEND);
	saddr = xlb_outer_source(pkt, cfg, be);
	if (!saddr)
		return xlb_verdict_of(pkt->trace, XLB_DROP_NO_SOURCE);

	if (be->family == XLB_AF_INET) {
		overhead = gue ? XLB_GUE4_LEN : XLB_ENCAP4_LEN;
	} else {
		overhead = gue ? XLB_GUE6_LEN : XLB_ENCAP6_LEN;
		/* From the flow hash: ECMP fabrics spread flows but keep each on one path. */
		label = xlb_pkt_hash(pkt) & XLB_FLOW_LABEL_MASK;
	}
	ret = xlb_nexthop(ctx, ifindex, pkt, be_id, be->family, saddr, be->addr, label,
			  pkt->ip_len + overhead, &fib);
	XLB_STOP(XLB_STOP_NEXTHOP);
	switch (ret) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		if (pkt->key.family == XLB_AF_INET)
			ret = xlb_icmp4_too_big(ctx, pkt, fib.mtu_result - overhead);
		else
			ret = xlb_icmp6_too_big(ctx, pkt, fib.mtu_result - overhead);
		return xlb_verdict_of(pkt->trace, ret);
	default:
		return xlb_verdict_of(pkt->trace, xlb_fib_drop_reason(ret));
	}

	if (xlb_egress_frame(ctx, pkt, &fib))
		return xlb_verdict_of(pkt->trace, XLB_DROP_ENCAP);
	ret = xlb_encap_pkt(ctx, pkt, gue, saddr, be, second, label, &fib);
	if (ret != XLB_CONTINUE)
		return xlb_verdict_of(pkt->trace, ret);
	/* Only a first fragment that goes out places the rest: the backend reassembles. */
	if (pkt->frag == XLB_FRAG_FIRST)
		xlb_frag_remember(pkt);
	XLB_STOP(XLB_STOP_ENCAP);

	if (fib.ifindex == ifindex) {
		xlb_count_fwd(vcnt, be_id, pkt->frame_len);
		xlb_count_down(vip, be);
		return xlb_verdict_of(pkt->trace, XLB_FWD_TX);
	}
	/*
	 * bpf_redirect() only records the target: XDP_REDIRECT, or XDP_ABORTED
	 * for bad flags. Whether the device then transmits (ndo_xdp_xmit) is
	 * known to the kernel alone, which reports a failure in its
	 * xdp:xdp_redirect_err tracepoint, not to the program.
	 */
	ret = bpf_redirect(fib.ifindex, 0);
	if (ret != XDP_REDIRECT)
		return xlb_verdict_of(pkt->trace, XLB_DROP_REDIRECT);
	xlb_count_fwd(vcnt, be_id, pkt->frame_len);
	xlb_count_down(vip, be);
	return xlb_verdict_of(pkt->trace, XLB_FWD_REDIRECT);
}

/*
 * The one place a VIP's forwarding mode is chosen: full NAT (nat.h) or
 * encapsulation (above, IPIP or GUE by the instance's rodata).
 */
static __always_inline int xlb_forward(struct xdp_md *ctx, __u32 ifindex, struct xlb_pkt *pkt,
				       const struct xlb_config *cfg, const struct xlb_vip *vip,
				       struct xlb_counters *vcnt, const int gue)
{
	if (vip->flags & XLB_VIP_F_NAT)
		return xlb_verdict_of(pkt->trace, xlb_nat_forward(ctx, ifindex, pkt, vip, vcnt));
	return xlb_encap_forward(ctx, ifindex, pkt, cfg, vip, vcnt, gue);
}

/*
 * The packet path, for one encapsulation: @gue is a constant at each of the
 * two calls below, so each copy is compiled for its mode alone, and the
 * verifier drops the copy the rodata does not choose. A packet for no VIP
 * may still be a NAT flow's answer (xlb_nat_reply()).
 */
static __always_inline int xlb_balance_as(struct xdp_md *ctx, const int gue)
{
	/* Read once: the compiler may otherwise keep a ctx pointer the verifier refuses. */
	__u32 ifindex = ctx->ingress_ifindex;
	struct xlb_pkt pkt = {};
	struct xlb_config *cfg = NULL;
	struct xlb_counters *vcnt;
	struct xlb_vip *vip = NULL, vip_copy;
	__u32 zero = 0;
	int ret;

	pkt.trace = xlb_trace_begin(ctx);
	ret = xlb_parse(ctx, &pkt);
	if (ret != XLB_CONTINUE)
		return xlb_verdict_of(pkt.trace, xlb_unbalanced(&pkt, ret));
	XLB_STOP(XLB_STOP_PARSE);

	/* The VIP filter first (vip.h): most packets are for no VIP address. */
	if (xlb_maybe_vip_addr(&pkt)) {
		cfg = bpf_map_lookup_elem(&config, &zero);
		if (!cfg)
			return xlb_verdict_of(pkt.trace, XLB_PASS_NOT_VIP);	/* cannot happen */
		vip = xlb_vip_lookup(&pkt, cfg->all_ports_addrs, &vip_copy);
	}
	if (!vip) {
		ret = xlb_nat_reply(ctx, ifindex, &pkt);
		if (ret != XLB_CONTINUE)
			return xlb_verdict_of(pkt.trace, ret);
		ret = pkt.icmp_err ? XLB_PASS_ICMP_NOT_VIP : XLB_PASS_NOT_VIP;
		return xlb_verdict_of(pkt.trace, xlb_unbalanced(&pkt, ret));
	}
	if ((vip->flags & XLB_VIP_F_DROPPING) == XLB_VIP_F_DROPPING)
		return xlb_verdict_of(pkt.trace, XLB_DROP_NO_BACKEND);
	vcnt = bpf_map_lookup_elem(&vip_stats, &vip->id);
	xlb_trace_vip(pkt.trace, vip->id);
	XLB_STOP(XLB_STOP_VIP);
	return xlb_forward(ctx, ifindex, &pkt, cfg, vip, vcnt, gue);
}

SEC("xdp")
int xlb_balance(struct xdp_md *ctx)
{
	if (xlb_encap == XLB_ENCAP_GUE)
		return xlb_balance_as(ctx, 1);
	return xlb_balance_as(ctx, 0);
}

char LICENSE[] SEC("license") = "GPL";
