/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the test tools (each a one-file program) share: a monotonic clock
 * in milliseconds for their time bounds, and a stop flag set by SIGINT or
 * SIGTERM so every traffic loop ends when asked.
 */
#ifndef XLB_TOOL_H
#define XLB_TOOL_H

#include <signal.h>
#include <time.h>

static volatile sig_atomic_t stop;

static inline void on_stop_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

#endif
