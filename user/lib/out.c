// SPDX-License-Identifier: GPL-2.0
/* Text or JSON output from one code path (see out.h). */
#include <stdarg.h>
#include <string.h>

#include "out.h"

#define OUT_DEPTH_MAX 16

static struct {
	bool json;
	FILE *f;
	int depth;
	bool first[OUT_DEPTH_MAX];	/* nothing written yet at this level */
} o = { .f = NULL };

void out_init(bool json, FILE *f)
{
	memset(&o, 0, sizeof(o));
	o.json = json;
	o.f = f;
	o.first[0] = true;
}

bool out_is_json(void)
{
	return o.json;
}

static void json_string(const char *s)
{
	fputc('"', o.f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(o.f, "\\%c", c);
		else if (c < 0x20)
			fprintf(o.f, "\\u%04x", c);
		else
			fputc(c, o.f);
	}
	fputc('"', o.f);
}

/* Comma and key before a JSON value. */
static void json_key(const char *key)
{
	if (!o.first[o.depth])
		fputc(',', o.f);
	o.first[o.depth] = false;
	if (key) {
		json_string(key);
		fputc(':', o.f);
	}
}

static void open_(const char *key, char c)
{
	if (!o.json)
		return;
	json_key(key);
	fputc(c, o.f);
	if (o.depth < OUT_DEPTH_MAX - 1)
		o.depth++;
	o.first[o.depth] = true;
}

static void close_(char c)
{
	if (!o.json)
		return;
	fputc(c, o.f);
	if (o.depth > 0)
		o.depth--;
}

void out_obj_open(const char *key) { open_(key, '{'); }
void out_obj_close(void) { close_('}'); }
void out_arr_open(const char *key) { open_(key, '['); }
void out_arr_close(void) { close_(']'); }

void out_str(const char *key, const char *fmt, const char *v)
{
	if (o.json) {
		json_key(key);
		json_string(v);
	} else if (fmt) {
		fprintf(o.f, fmt, v);
	}
}

void out_u64(const char *key, const char *fmt, __u64 v)
{
	if (o.json) {
		json_key(key);
		fprintf(o.f, "%llu", (unsigned long long)v);
	} else if (fmt) {
		fprintf(o.f, fmt, (unsigned long long)v);
	}
}

void out_bool(const char *key, const char *fmt, bool v)
{
	if (o.json) {
		json_key(key);
		fputs(v ? "true" : "false", o.f);
	} else if (fmt) {
		fprintf(o.f, fmt, v ? "yes" : "no");
	}
}

void out_null(const char *key, const char *fmt)
{
	if (o.json) {
		json_key(key);
		fputs("null", o.f);
	} else if (fmt) {
		fputs(fmt, o.f);
	}
}

void out_text(const char *fmt, ...)
{
	va_list ap;

	if (o.json)
		return;
	va_start(ap, fmt);
	vfprintf(o.f, fmt, ap);
	va_end(ap);
}

void out_done(void)
{
	if (o.json)
		fputc('\n', o.f);
	fflush(o.f);
}
