/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every part of the CLI shares: the one-line error format, exit codes,
 * and strict number and duration parsing (a typo must be an error, never a
 * silently different value).
 */
#ifndef XLB_UTIL_H
#define XLB_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define XLB_EXIT_OK	0
#define XLB_EXIT_FAIL	1	/* the operation failed */
#define XLB_EXIT_USAGE	2	/* the command line is wrong */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* "xlb: <message>" on stderr: lower case, names the bad thing, no full stop. */
void xlb_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Context put before every later error ("line 3"), or NULL for none. */
void xlb_err_context(const char *ctx);
/* The same, for a problem that does not stop the command. */
void xlb_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Whole decimal number in [min, max]; false on anything else. */
bool parse_u32(const char *s, __u32 min, __u32 max, __u32 *out);
/* "2s", "500ms", "1.5s", "2" (seconds) -> milliseconds in [min_ms, max_ms]. */
bool parse_duration_ms(const char *s, __u32 min_ms, __u32 max_ms, __u32 *out);

/* Monotonic and wall-clock time in nanoseconds. */
__u64 now_mono_ns(void);
__u64 now_real_ns(void);

/* The value of the flag at argv[*i] (moving *i past it), or NULL after printing a usage error. */
const char *next_arg(int *i, int argc, char **argv, const char *flag);

#endif
