// SPDX-License-Identifier: GPL-2.0
/*
 * Keeping every backend's next hop resolved (see model.h): bpf_fib_lookup
 * answers NO_NEIGH until the kernel has a neighbour entry, and the packets
 * of an unresolved backend go to the kernel meanwhile. Apart from commit.c
 * because it is not part of a commit: it writes no map, only asks the
 * kernel, and a failure is a warning, never a reason to undo the change.
 */
#include <errno.h>
#include <string.h>

#include "model.h"
#include "nl.h"
#include "util.h"

static const char *neigh_error(int err)
{
	switch (err) {
	case -ENETUNREACH:
	case -EHOSTUNREACH:
		return "no route to it";
	case -ENOBUFS:
		return "the kernel's neighbour table is full (see net.ipv4.neigh.default.gc_thresh3)";
	default:
		return strerror(-err);
	}
}

void model_ensure_neighbours(const struct model *m, const struct model *old)
{
	char first[XLB_ADDR_STRLEN] = "";
	int first_err = 0;
	size_t failed = 0;

	for (size_t i = 0; i < m->nbes; i++) {
		const struct xlb_backend *be = &m->bes[i].be;
		const struct m_backend *o = old ? model_backend_by_id(old, m->bes[i].id) : NULL;
		int err;

		if (o && o->be.vip_id == be->vip_id)
			continue;
		err = nl_neigh_ensure(be->family, be->addr, NULL);
		if (!err)
			continue;
		if (!failed++) {
			addr_fmt(be->addr, be->family, first, sizeof(first));
			first_err = err;
		}
	}
	/* One line, not one per backend: a restore may add thousands. */
	if (failed == 1)
		xlb_warn("backend %s cannot be kept resolved (%s): its packets go to the kernel",
			 first, neigh_error(first_err));
	else if (failed)
		xlb_warn("%zu backends cannot be kept resolved, the first %s (%s): their packets go "
			 "to the kernel", failed, first, neigh_error(first_err));
}
