/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host must provide for the balancer to forward, checked and
 * fixed at attach: bpf_fib_lookup routes only for an interface that
 * forwards (it answers FWD_DISABLED otherwise, and every VIP packet would
 * be dropped), and Debian ships with forwarding off.
 */
#ifndef XLB_HOST_H
#define XLB_HOST_H

/*
 * Turn IPv4 and IPv6 forwarding on for @iface if they are off, saying so in
 * one line. Prints an error and returns -1 if that is not possible.
 */
int host_forwarding_ensure(const char *iface);

/*
 * GUE: a backend without a socket for a packet sends it on to the flow's
 * previous owner, back through the L2 neighbour it came from; on one
 * segment that is the balancer, whose kernel then forwards a packet that
 * carries the balancer's own address as its source, which IPv4 drops
 * unless accept_local is on. Turns it on for @iface, saying so in one line.
 */
int host_accept_local_ensure(const char *iface);

#endif
