/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's BGP speaker (agent_bgp.c): a BIRD 2 daemon the agent runs and
 * supervises for its instance, announcing the VIP addresses that have a
 * usable backend while `xlb bgp set` says to. Driven from the agent's 1 s
 * timer; everything it keeps is derived again from the maps each tick.
 */
#ifndef XLB_AGENT_BGP_H
#define XLB_AGENT_BGP_H

#include <stdbool.h>
#include "agent.h"

#define AGENT_DRAIN_DEFAULT_MS	5000	/* --drain-time */
#define AGENT_DRAIN_MAX_MS	3600000

/* --drain-time D at argv[*i]: 1 taken, 0 not this option, -1 bad (message printed). */
int agent_bgp_option(int *i, int argc, char **argv);
/* Once a second: follows the settings and the VIPs' state. */
void agent_bgp_tick(const struct agent *a);
/*
 * The agent is stopping: withdraw every VIP; with @drain (a signal, not a
 * detach) keep forwarding for the drain time (a signal on @sig_fd ends it
 * early); then stop BIRD.
 */
void agent_bgp_stop(const struct agent *a, int sig_fd, bool drain);

#endif
