// SPDX-License-Identifier: GPL-2.0
/* xlb agent: health checks, scheduling inputs, conntrack expiry, metrics (being written). */
#include "xlb.h"
#include "util.h"

int do_agent(int argc, char **argv)
{
	xlb_err("the agent is not built yet");
	return XLB_EXIT_FAIL;
}
