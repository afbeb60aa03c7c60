/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xlb agent internals. The agent is three threads that share nothing but
 * the pinned maps (and a stop request, and the conntrack walk's results):
 *  - the health thread (agent_health.c) probes backends in rounds and, when
 *    a backend's state or response time changes, commits the change as any
 *    CLI command does: lock, load, edit a copy, commit, unlock;
 *  - the main thread (agent.c) owns the epoll loop: signals and the
 *    conntrack expiry and recount (agent_ct.c) once a second;
 *  - the metrics HTTP server (lib/httpd.h) renders each scrape in its own
 *    thread (agent_metrics.c).
 * A probe round blocks for up to the longest check timeout; in its own
 * thread it never delays a scrape or the conntrack walk, and a scrape
 * never waits for a walk.
 */
#ifndef XLB_AGENT_H
#define XLB_AGENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <linux/types.h>

#include "inst.h"
#include "strbuf.h"

#define AGENT_METRICS_DEFAULT	"127.0.0.1:9810"
#define AGENT_CT_PERIOD_MS	1000	/* conntrack expiry and active-flow recount */
#define AGENT_IDLE_POLL_MS	200	/* the health thread re-reads the config at least this often */

/* Results of the last conntrack walk, for the metrics (read by the server's thread). */
struct agent_ct_stats {
	_Atomic __u64 entries;		/* visited (before expiry) */
	_Atomic __u64 expired_total;	/* deleted for idleness since the agent started */
	_Atomic __u64 walks_total;
	_Atomic __u64 last_walk_us;
};

struct agent {
	struct xlb_inst in;	/* unlocked map fds, for reads and the agent's own maps */
	const char *iface;	/* the instance name (in.iface) */
	atomic_bool stop;
	int wake_fd;		/* eventfd: wakes the health thread to stop */
	struct agent_ct_stats ct;
};

/* One line on stderr with a timestamp: the agent's event log. */
void agent_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The health thread: returns when a->stop is set. */
void *agent_health_main(void *arg);

/* Deletes idle-expired flows, recounts backend_active. */
void agent_ct_walk(struct agent *a);

/* httpd_render_fn for /metrics, in the server's thread: @arg is the struct agent. */
void agent_metrics_render(struct strbuf *out, void *arg);

#endif
