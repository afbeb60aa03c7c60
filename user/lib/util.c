// SPDX-License-Identifier: GPL-2.0
/* Error printing and strict parsing shared by every xlb command (see util.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static const char *err_ctx;

void xlb_err_context(const char *ctx)
{
	err_ctx = ctx;
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	fprintf(stderr, "xlb: %s%s%s", err_ctx ? err_ctx : "", err_ctx ? ": " : "", prefix);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void xlb_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("", fmt, ap);
	va_end(ap);
}

void xlb_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("warning: ", fmt, ap);
	va_end(ap);
}

bool parse_u32(const char *s, __u32 min, __u32 max, __u32 *out)
{
	unsigned long long v;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

bool parse_duration_ms(const char *s, __u32 min_ms, __u32 max_ms, __u32 *out)
{
	double v, scale = 1000;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s)
		return false;
	if (!strcmp(end, "ms"))
		scale = 1;
	else if (strcmp(end, "s") && *end)
		return false;
	v *= scale;
	if (v != v || v < min_ms || v > max_ms)
		return false;
	*out = (__u32)v;
	return true;
}

static __u64 now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

__u64 now_mono_ns(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

__u64 now_real_ns(void)
{
	return now_ns(CLOCK_REALTIME);
}

const char *next_arg(int *i, int argc, char **argv, const char *flag)
{
	if (*i + 1 >= argc) {
		xlb_err("%s needs a value", flag);
		return NULL;
	}
	return argv[++*i];
}
