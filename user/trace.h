/* SPDX-License-Identifier: GPL-2.0 */
/* xlb trace and xlb decap trace share one engine (trace.c). */
#ifndef XLB_TRACE_CLI_H
#define XLB_TRACE_CLI_H

#include <stdbool.h>
#include "model.h"

struct trace_args {
	const char *vip;		/* balancer: only this VIP */
	struct xlb_addr backend;	/* family 0: any */
	int reason;			/* -1: any */
	__u64 count;			/* 0: no limit */
	__u32 duration_ms;		/* 0: no limit */
	const char *pcap;
};

/* Options of either trace (@decap: no VIP, no --backend); XLB_EXIT_*. */
int trace_parse(int argc, char **argv, bool decap, struct trace_args *a);
/*
 * Trace the programs whose maps are pinned in @dir until --count, --duration
 * or a signal; @m names VIPs and backends (NULL for decap), @vip_id filters
 * (XLB_VIP_NONE: every VIP). XLB_EXIT_*.
 */
int trace_main(const char *dir, const struct model *m, __u32 vip_id, const struct trace_args *a);

#endif
