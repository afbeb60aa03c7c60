/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The xlb CLI: `xlb [-i IFACE] [--json] OBJECT VERB ...`, one file per
 * object, each with a table of verbs as bpftool has. Verbs that change the
 * configuration are "edits" of the in-memory model (lib/model.h), so the
 * CLI and `xlb restore` run exactly the same code for each line.
 */
#ifndef XLB_CLI_H
#define XLB_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include "model.h"

struct xlb_opts {
	const char *iface;	/* -i: which instance */
	bool json;		/* --json */
};
extern struct xlb_opts opts;

/* Changes @m (already loaded); prints its own error; returns XLB_EXIT_*. */
typedef int (*edit_fn)(struct model *m, int argc, char **argv);

struct verb {
	const char *name;
	edit_fn edit;				/* a change, committed by run_edit() */
	int (*run)(int argc, char **argv);	/* anything else */
};

/* argv[0] is the verb. Runs it, or prints the object's usage. */
int verb_select(const struct verb *verbs, const char *object, const char *usage,
		int argc, char **argv);
/* Lock, load, edit a copy, commit: the life of every change. */
int run_edit(edit_fn fn, int argc, char **argv);
/* The edit for "OBJECT VERB" (restore), or NULL. */
edit_fn edit_lookup(const char *object, const char *verb);
bool is_help(const char *arg);

extern const struct verb vip_verbs[], backend_verbs[], conntrack_verbs[], decap_verbs[];
extern const char vip_usage[], backend_usage[], conntrack_usage[], decap_usage[];
extern const struct verb bgp_verbs[];
extern const char bgp_usage[];
/* save: the `xlb bgp set` line, if BGP is set; restore: write what the file declared. */
void bgp_save_lines(FILE *f);
int bgp_restore_apply(void);

int do_attach(int argc, char **argv);
int do_detach(int argc, char **argv);
int do_list(int argc, char **argv);
int do_stats(int argc, char **argv);
int do_save(int argc, char **argv);
int do_restore(int argc, char **argv);
int do_agent(int argc, char **argv);
int do_trace(int argc, char **argv);

/* Shared by vip and backend: parse a VIP argument and find it. */
struct m_vip *vip_arg(struct model *m, const char *s);
/* "ipip" or "gue" (enum xlb_encap). */
const char *encap_name(__u32 encap);
/* --down-flows stay|move and --all-down open|drop of a VIP's flags. */
const char *down_flows_name(__u8 vip_flags);
const char *all_down_name(__u8 vip_flags);
const char *forward_name(__u8 vip_flags);	/* "encap" or "nat" */
/* Writes the `xlb vip add` options of @v (save). */
void vip_save_line(const struct m_vip *v, char *buf, size_t len);

#endif
