/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A pcapng writer of the little that `xlb trace --pcap` needs: one section,
 * one Ethernet interface, and enhanced packet blocks each with a comment
 * (the data plane's verdict), which tcpdump, tshark and Wireshark read. The
 * format (draft-ietf-opsawg-pcapng) is a few fixed blocks: simpler to write
 * than to take a dependency for.
 */
#ifndef XLB_PCAPNG_H
#define XLB_PCAPNG_H

#include <stdio.h>
#include <linux/types.h>

/* Writes the section and interface headers; 0 or -errno. */
int pcapng_start(FILE *f, __u32 snaplen);
/* One packet: @caplen bytes of @data of a frame of @origlen, at @ts_ns (realtime). */
int pcapng_packet(FILE *f, __u64 ts_ns, const void *data, __u32 caplen, __u32 origlen,
		  const char *comment);

#endif
