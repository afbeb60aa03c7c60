/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VIP's table as the data plane reads it: an array map of backend ids,
 * created with the flags of the prototype in bpf/lib/maps.h (an inner map
 * must match them) and filled through mmap, which is what makes building
 * thousands of tables cheap. The control plane, the packet tests and the
 * benchmarks all make their tables here.
 */
#ifndef XLB_TABLE_H
#define XLB_TABLE_H

#include <linux/types.h>

/* A new table map holding slots[0..size). Returns its fd, or -errno. */
int table_map_new(const __u32 *slots, __u32 size);

#endif
