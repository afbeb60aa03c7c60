/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vlan_ifs, the 802.1Q VLAN devices of the host (ifindex → lower device,
 * VLAN id), read from the kernel. The FIB names a VLAN device when a
 * backend's route uses one, and XDP cannot transmit on it: the balancer
 * sends on the lower device with the tag instead (bpf/lib/fib.h).
 */
#ifndef XLB_VLANIFS_H
#define XLB_VLANIFS_H

#include "inst.h"

/*
 * Make the vlan_ifs map @fd hold exactly this network namespace's 802.1Q
 * VLAN devices whose lower device is in the same namespace (802.1ad ones
 * are left out: the balancer writes 802.1Q tags only). 0, or -1 with errno.
 */
int vlan_ifs_reconcile(int fd);

/*
 * The same for instance @in's pinned vlan_ifs (none, pinned by an older
 * xlb: left alone). Called by every commit, so `xlb attach IFACE` again
 * picks up VLAN devices created since.
 */
int vlan_ifs_sync(const struct xlb_inst *in);

#endif
