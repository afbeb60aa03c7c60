// SPDX-License-Identifier: GPL-2.0
/* The unit tests' harness (see check.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check.h"

enum { T_RUNNING, T_FAILED, T_SKIPPED };

static int t_state;
static char t_msg[512];

static void t_record(int state, const char *fmt, va_list ap)
{
	if (t_state != T_RUNNING)
		return;
	t_state = state;
	vsnprintf(t_msg, sizeof(t_msg), fmt, ap);
}

void t_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t_record(T_FAILED, fmt, ap);
	va_end(ap);
}

void t_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t_record(T_SKIPPED, fmt, ap);
	va_end(ap);
}

int t_failed(void)
{
	return t_state != T_RUNNING;
}

long long t_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int t_main(int argc, char **argv, const struct t_case *cases, size_t n)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;

	for (size_t i = 0; i < n; i++) {
		if (filter && !strstr(cases[i].name, filter))
			continue;
		t_state = T_RUNNING;
		t_msg[0] = '\0';
		cases[i].fn();
		switch (t_state) {
		case T_RUNNING:
			printf("PASS %s\n", cases[i].name);
			passed++;
			break;
		case T_FAILED:
			printf("FAIL %s: %s\n", cases[i].name, t_msg);
			failed++;
			break;
		default:
			printf("SKIP %s: %s\n", cases[i].name, t_msg);
			break;
		}
		fflush(stdout);
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
