/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The unit tests' tiny harness: a case is a function that returns on its
 * first failed expectation, after t_fail() has recorded what was expected
 * and what came back. t_main() runs the cases whose name contains the
 * optional filter argument and prints "PASS name" / "FAIL name: ..." /
 * "SKIP name: ..." per case and a final "N passed, N failed" line.
 */
#ifndef XLB_TEST_CHECK_H
#define XLB_TEST_CHECK_H

#include <stddef.h>

struct t_case {
	const char *name;
	void (*fn)(void);
};

/* Record a failure (first one wins) or a skip of the running case. */
void t_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void t_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int t_failed(void);

/* Milliseconds on the monotonic clock, for timing a case's steps. */
long long t_now_ms(void);

/* Run @cases (filtered by argv[1]); the exit status is non-zero if any failed. */
int t_main(int argc, char **argv, const struct t_case *cases, size_t n);

#define T_CASE(fn) { #fn, fn }

/* Compare two integers; on mismatch record "what: expected E, got G" and return. */
#define EXPECT_EQ(what, exp, got)						\
	do {									\
		long long _e = (long long)(exp), _g = (long long)(got);		\
		if (_e != _g) {							\
			t_fail("%s: expected %lld (0x%llx), got %lld (0x%llx)",	\
			       what, _e, (unsigned long long)_e, _g,		\
			       (unsigned long long)_g);				\
			return;							\
		}								\
	} while (0)

#define EXPECT_TRUE(what, cond)							\
	do {									\
		if (!(cond)) {							\
			t_fail("%s: expected true, got false", what);		\
			return;							\
		}								\
	} while (0)

/* A helper that recorded a failure itself: stop the case. */
#define RETURN_IF_FAILED()							\
	do {									\
		if (t_failed())							\
			return;							\
	} while (0)

#endif /* XLB_TEST_CHECK_H */
