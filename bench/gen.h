/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live-rate generator's flow plan (gen.bpf.c), shared with liverate,
 * which puts the same flows into a peer's flow table: with new_flows, frame
 * number c (modulo flow_mod) has TCP source port c & 0xffff and IPv4 source
 * (GEN_NET + cpu).(c >> 16), cpu the one the generator runs on.
 */
#ifndef XLB_BENCH_GEN_H
#define XLB_BENCH_GEN_H

#define GEN_PORT_BITS	16
#define GEN_ADDR_MASK	0xffffff
#define GEN_NET		10

#endif
