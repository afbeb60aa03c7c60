/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The configuration of one instance as a plain in-memory model. Every
 * change works the same way: load the model from the pinned maps, apply
 * the verb(s) to a copy (all validation happens here, nothing is written),
 * then commit the difference in an order a packet can never catch half
 * done: new backend slots before the tables that name them, a new table
 * before the VIP that uses it, a VIP removed before its table, tables
 * swapped before a removed backend's slot is cleared.
 *
 * A commit is also crash-safe: it is journalled and recorded in the pinned
 * ctl entry before the first write, and a process that loads the model
 * after a commit was killed half way finishes it first (commit.c).
 *
 * The files: model.c (load, copy, queries, edits), table_build.c (a VIP's
 * table from the model), commit.c (writing the maps, the crash record and
 * the repair), neigh.c (keeping backends' next hops resolved).
 */
#ifndef XLB_MODEL_H
#define XLB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include "xlb_abi.h"
#include "addr.h"
#include "inst.h"

struct m_vip {
	struct xlb_vip_key key;
	struct xlb_vip v;
	struct xlb_vip_config cfg;
	bool seen;		/* restore: named by the file being applied */
};

struct m_backend {
	__u32 id;
	struct xlb_backend be;
	bool seen;
};

struct model {
	struct m_vip *vips;
	size_t nvips;
	struct m_backend *bes;
	size_t nbes;
	struct xlb_config config;
	struct xlb_ctl ctl;
	/*
	 * restore: a VIP or backend that exists but is not yet `seen` is
	 * re-declared by an add (keeping its id, so its flows stay), and one
	 * never seen is removed at the end.
	 */
	bool restoring;
};

#define BITS_WORDS(n) (((n) + 63) / 64)

/*
 * The model the maps of @in hold. If the ctl entry records an interrupted
 * commit and no other process holds the instance's lock, the commit is
 * finished first (commit_repair()), so what is loaded is one whole
 * configuration. 0 or -errno.
 */
int model_load(const struct xlb_inst *in, struct model *m);
/* The maps as they are, never repairing: commit.c's and model_load()'s. */
int model_load_maps(const struct xlb_inst *in, struct model *m);
/*
 * inst_open() then model_load(), VIPs in id order (the order a hash map
 * hands them out is no order at all). Prints one line and returns -1 on
 * failure, with nothing left open.
 */
int model_open(const char *iface, bool lock, struct xlb_inst *in, struct model *m);
/* model_free() and inst_close(). */
void model_close(struct xlb_inst *in, struct model *m);
int model_copy(const struct model *src, struct model *dst);
void model_free(struct model *m);

struct m_vip *model_vip(const struct model *m, const struct xlb_vip_key *k);
struct m_vip *model_vip_by_id(const struct model *m, __u32 id);
struct m_backend *model_backend(const struct model *m, __u32 vip_id, const struct xlb_addr *a);
struct m_backend *model_backend_by_id(const struct model *m, __u32 id);
/*
 * A new VIP's settings: maglev, the default table size, conntrack on,
 * encap forwarding (not NAT), a chain window of XLB_CHAIN_WINDOW_DEFAULT_S, and health checks
 * every 2 s (timeout 1 s, rise 2, fall 3) by TCP connect to the VIP's port,
 * except for UDP VIPs: a UDP service need not listen on TCP, and checking
 * it that way would take every backend down. They default to no check.
 */
void vip_defaults(struct m_vip *v);
/* Adds with a free id and defaults; NULL (message printed) when full. */
struct m_vip *model_vip_add(struct model *m, const struct xlb_vip_key *k);
struct m_backend *model_backend_add(struct model *m, __u32 vip_id, const struct xlb_addr *a);
/* Removes the VIP and every backend of it. */
void model_vip_del(struct model *m, struct m_vip *v);
void model_backend_del(struct model *m, struct m_backend *b);
/* restore: drop what the file did not name. */
void model_drop_unseen(struct model *m);

/* Backends of a VIP that could take new flows (used, not drained, not down, weight > 0). */
bool backend_eligible(const struct xlb_backend *be);
/* XLB_BE_F_BACKUP: in the table only while no primary is eligible. */
bool backend_is_backup(const struct xlb_backend *be);
/*
 * No backend of @v is eligible, every one of the table's role is DOWN, and
 * its policy is --all-down open: its table is built from all of that role
 * as if none were down (model_finalize() sets XLB_VIP_F_ALL_DOWN).
 */
bool vip_fails_open(const struct m_vip *v);
/*
 * Whether @be (of @v) has its weight in @v's table: of the table's role
 * (backups while XLB_VIP_F_ON_BACKUP, else primaries) and eligible, or not
 * drained when failing open.
 */
bool backend_in_table(const struct m_vip *v, const struct xlb_backend *be);
/*
 * Derived state, before a commit: per VIP, XLB_VIP_F_ON_BACKUP when no
 * primary is eligible and a backup is (or there are only backups), and
 * XLB_VIP_F_ALL_DOWN when nothing is eligible and every backend of the
 * table's role is DOWN. The order: usable primaries, else usable backups,
 * else every primary (fail open on the primaries, not the backups). Also
 * the all-ports addresses the data plane looks up twice.
 */
void model_finalize(struct model *m);
/* "ok", "empty" (no backend takes new flows) or "all_down". */
const char *vip_state(const struct model *m, const struct m_vip *v);

/*
 * commit.c. Write @new over what @old loaded; the caller holds the
 * instance's lock. SIGINT, SIGTERM, SIGHUP and SIGQUIT wait until it is
 * done. Prints one line and returns -1 on failure, after putting @old back
 * as well as it can.
 */
int model_commit(const struct xlb_inst *in, const struct model *old, struct model *new);
/* The ctl entry records a commit that has begun and not ended. */
bool commit_interrupted(const struct xlb_ctl *ctl);
/*
 * Finish an interrupted commit, if the instance's lock is ours or free:
 * the maps are made to hold exactly the configuration the commit's journal
 * names (or, without one, the VIPs the vips map holds, rebuilt and cleared
 * of orphans). Idempotent: a crash during repair is repaired again.
 * 1 if repaired, 0 if nothing to do (or another process holds the lock),
 * -1 (message printed) on failure.
 */
int commit_repair(const struct xlb_inst *in);

/*
 * neigh.c. Keep the kernel resolving each backend's next hop (bpf_fib_lookup needs
 * it): every backend of @m, or with @old only those @old did not have.
 */
void model_ensure_neighbours(const struct model *m, const struct model *old);

#endif
