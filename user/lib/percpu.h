/* SPDX-License-Identifier: GPL-2.0 */
/* Reading the data plane's per-CPU counters: one value per possible CPU, summed. */
#ifndef XLB_PERCPU_H
#define XLB_PERCPU_H

#include "xlb_abi.h"

/* Sum of struct xlb_counters over CPUs at @key (zero if unreadable). */
void percpu_counters(int fd, __u32 key, struct xlb_counters *sum);
/* Sum of a __u64 per-CPU value at @key. */
__u64 percpu_u64(int fd, __u32 key);

#endif
