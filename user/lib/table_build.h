/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A VIP's table from the model: its inputs (the VIP's backends and their
 * weights in the table), whether a change needs a new table, and building
 * it into a new map with the slots' previous owners carried over. Tables
 * go in batches: every update of the map of maps waits for an RCU grace
 * period, so thousands of them must not be swapped one by one. table.c is
 * the level below: one table map, created, filled and read.
 */
#ifndef XLB_TABLE_BUILD_H
#define XLB_TABLE_BUILD_H

#include <stdbool.h>
#include "model.h"

struct maglev_backend;

/*
 * The table's inputs, in id order: every backend of @v with its weight in
 * the table (0 if left out: backend_in_table()), what decides whether it
 * must be rebuilt. Fills @out (unless NULL); returns the count.
 */
size_t table_inputs(const struct model *m, const struct m_vip *v, struct maglev_backend *out);

/* Whether @nv (of @nm) needs another table than @ov (of @om) has. */
bool table_changed(const struct model *om, const struct m_vip *ov,
		   const struct model *nm, const struct m_vip *nv);

/* Tables built and waiting to be swapped in, in chunks that keep few map fds open. */
#define TABLE_BATCH 256

struct table_batch {
	__u32 ids[TABLE_BATCH];
	int fds[TABLE_BATCH];
	__u32 n;
};

/*
 * Build @v's table (of @m) into a new map and queue it, flushing a full
 * batch; @ov is the VIP as the maps hold it (NULL if new), whose table in
 * place gives the slots' previous owners. 0 or -errno.
 */
int tables_add(const struct xlb_inst *in, struct table_batch *tb, const struct m_vip *ov,
	       const struct model *m, const struct m_vip *v);
/* Swap every queued table in with one batched update. 0 or -errno. */
int tables_flush(const struct xlb_inst *in, struct table_batch *tb);
/* Close the queued tables' fds without swapping them in. */
void tables_discard(struct table_batch *tb);

#endif
