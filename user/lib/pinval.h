/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Settings that no BPF program reads but that belong to an instance (xlb
 * bgp, xlb sync): one value in an ARRAY map that user space creates and
 * pins next to the program's maps, so it lives and goes with them (detach
 * removes the directory) and survives every process.
 */
#ifndef XLB_PINVAL_H
#define XLB_PINVAL_H

#include <stddef.h>

/* @val (@size bytes) from @dir/@pin: 0 (zeroed when nothing is pinned there), or -1. */
int pinval_read(const char *dir, const char *pin, void *val, size_t size);
/*
 * @val to @dir/@pin, creating and pinning the map (named @map_name) if need
 * be. Prints a one-line error and returns -1 on failure.
 */
int pinval_write(const char *dir, const char *pin, const char *map_name, const void *val,
		 size_t size);

#endif
