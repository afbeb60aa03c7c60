/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output of read commands, text for people or (--json) one JSON document,
 * from the same calls, as iproute2's print_*(PRINT_ANY, ...) does: each
 * call names the JSON key and gives the text format, so the two outputs
 * never disagree. A NULL text format prints nothing in text mode.
 */
#ifndef XLB_OUT_H
#define XLB_OUT_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>

void out_init(bool json, FILE *f);
bool out_is_json(void);

/* Objects and arrays: @key is NULL inside arrays and at the top. */
void out_obj_open(const char *key);
void out_obj_close(void);
void out_arr_open(const char *key);
void out_arr_close(void);

void out_str(const char *key, const char *fmt, const char *v);
void out_u64(const char *key, const char *fmt, __u64 v);
void out_bool(const char *key, const char *fmt, bool v);
void out_null(const char *key, const char *fmt);
/* Text only (headers, newlines). */
void out_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Ends the document (a newline after the JSON). */
void out_done(void);

#endif
