/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Session sync between the instances of a tier, the parts the CLI (sync.c)
 * and the agent (agent_sync.c) share: the setting, kept in a pinned map
 * "sync" of the instance (struct xlb_sync_config, created by the first
 * `xlb sync set`, removed by detach with the other pins), and the agent's
 * counters in "sync_stats" beside it. docs/SCALE-OUT.md says how it works.
 */
#ifndef XLB_SYNC_H
#define XLB_SYNC_H

#include <stdio.h>
#include "xlb.h"

#define SYNC_MAP_NAME		"sync"
#define SYNC_STATS_MAP_NAME	"sync_stats"
#define SYNC_STATS_ENTRIES	(XLB_SYNC_PEERS_MAX + 1)	/* the peers, then "others" */

/* The setting of the instance in pin directory @dir: zeroed when none. 0, or -1. */
int sync_read(const char *dir, struct xlb_sync_config *c);

extern const struct verb sync_verbs[];
extern const char sync_usage[];
/* save: the `xlb sync set` line, if sync is set; restore: write what the file declared. */
void sync_save_lines(FILE *f);
int sync_restore_apply(void);

#endif
