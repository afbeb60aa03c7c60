/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A balancer on a veth (containers, test namespaces) needs two things of the
 * veth's peer that a NIC does not: an XDP program on it (the kernel wakes a
 * veth peer for XDP_TX frames only if the peer runs XDP, so forwarded frames
 * would stall), and tx checksumming off (frames from a local sender cross a
 * veth with their TCP/UDP checksum unfinished, CHECKSUM_PARTIAL, and XDP
 * forwards them so: the backend drops them as corrupt). xlb attach fixes
 * what it can reach — the peer in this network namespace or in a named one
 * (/run/netns) — and says what it did in one line, or names what the peer
 * needs when it cannot find it.
 */
#ifndef XLB_VETH_H
#define XLB_VETH_H

/* After attaching to @iface: fix its veth peer if it is one. Never fails the attach. */
void veth_peer_fix(const char *iface, int ifindex);
/* After detaching from @iface: take xlb_pass off its veth peer again. */
void veth_peer_release(const char *iface, int ifindex);

#endif
