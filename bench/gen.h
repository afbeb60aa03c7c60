/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live-rate generator's flow numbering (gen.bpf.c), here so that
 * liverate can name the flows it sends: frame c of a new-flow run has TCP
 * source port c's low GEN_PORT_BITS bits and IPv4 source address
 * (GEN_NET + cpu).x.y.z from the next 24, so 2^40 frames pass before a
 * 5-tuple repeats.
 */
#ifndef XLB_BENCH_GEN_H
#define XLB_BENCH_GEN_H

#define GEN_PORT_BITS	16
#define GEN_ADDR_MASK	0xffffff
#define GEN_NET		10

#endif
