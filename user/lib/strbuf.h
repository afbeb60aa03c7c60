/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A growable, always NUL-terminated string buffer. Used to build texts whose
 * size is not known in advance (the Prometheus exposition, HTTP responses).
 * An allocation failure is sticky (sb->failed): the caller can append freely
 * and check once at the end instead of after every call.
 */
#ifndef XLB_STRBUF_H
#define XLB_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;		/* NULL until the first append */
	size_t len;		/* bytes used, without the NUL */
	size_t cap;		/* bytes allocated */
	bool failed;		/* an append ran out of memory; contents are truncated */
};

#define STRBUF_INIT { 0 }

void strbuf_init(struct strbuf *sb);
/* Appends; 0 or -ENOMEM (and sb->failed set). */
int strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
int strbuf_add(struct strbuf *sb, const void *data, size_t n);
/* Empties the buffer (and clears failed) but keeps its memory. */
void strbuf_reset(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);

static inline const char *strbuf_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

#endif
