/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's side of session sync (agent_sync.c): it reads the flows the
 * data plane reports (ring buffer sync_events), sends them to every peer of
 * `xlb sync set` in authenticated, acknowledged UDP messages, inserts the
 * peers' flows into the local conntrack, and at start asks every peer for a
 * full copy before BGP announces this instance. One descriptor (an epoll
 * set of its own) joins the agent's loop.
 */
#ifndef XLB_AGENT_SYNC_H
#define XLB_AGENT_SYNC_H

#include <stdbool.h>
#include "agent.h"

#define AGENT_SYNC_TIMER_MS	20	/* retransmissions, late acks, counters */
#define AGENT_SYNC_RTO_MS	200	/* a message unacknowledged this long is sent again */
#define AGENT_SYNC_TRIES	25	/* ... this many times (5 s), then its flows are lost */
#define AGENT_SYNC_WINDOW	128	/* messages in flight per peer */
#define AGENT_SYNC_QUEUE_MAX	(1u << 18)	/* flows waiting per peer; more are lost */
#define AGENT_SYNC_HOLD_MS	5000	/* BGP waits at most this long for the full copies */
#define AGENT_SYNC_RX_BUDGET	512	/* datagrams read per wake-up */
#define AGENT_SYNC_REFRESH_DIV	3	/* own live flows are sent again every timeout / 3 */

/* Sets up (whether or not sync is set); the descriptor for the agent's epoll, or -1. */
int agent_sync_open(struct agent *a);
/* Its descriptor is readable. */
void agent_sync_service(struct agent *a);
/* Once a second: follows the setting and the key file. */
void agent_sync_tick(struct agent *a);
/* False while this instance waits for its peers' full copies: BGP holds its announcement. */
bool agent_sync_ready(const struct agent *a);
void agent_sync_close(struct agent *a);

#endif
