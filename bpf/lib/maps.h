/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The balancer's maps, as docs/DESIGN.md lists them. User space opens them
 * by name (it sets each map's pin path before load), so the names below are
 * part of the contract. No pinning attribute: the loader decides where an
 * instance's maps live (/sys/fs/bpf/xlb/IFACE/).
 */
#ifndef XLB_MAPS_H
#define XLB_MAPS_H

#include "consts.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_key);
	__type(value, struct xlb_vip);
} vips SEC(".maps");

/*
 * A map's size, read from the map itself (CO-RE): a flow table's, the VIP
 * index's; no setting to forget.
 */
struct bpf_map___xlb {
	__u32 max_entries;
} __attribute__((preserve_access_index));

/* Each CPU's last reading of the coarse clock (pkt.h). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_clock);
} clock_cache SEC(".maps");

/* The VIP index (xlb_abi.h): one inner array, swapped whole by user/lib/vipindex.c. */
struct xlb_vip_index {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_VIP_BUCKETS);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xlb_vip_bucket));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct xlb_vip_index);
} vip_index SEC(".maps");

/*
 * Prototype of a VIP's table. User space creates each real table with
 * exactly table_size entries; BPF_F_INNER_MAP lets those sizes differ from
 * this prototype's, and BPF_F_MMAPABLE lets user space fill a new table with
 * plain stores instead of one copy_from_user per slot. Its entries are
 * 64-byte lines of owners, then of previous owners (struct xlb_table_line).
 */
struct xlb_table {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_TABLE_SIZE_MAX);
	__uint(map_flags, BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	/* Sizes, not types: clang gives BTF no definition of a struct only an inner map names. */
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(struct xlb_table_line));
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__array(values, struct xlb_table);
} tables SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_backend);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, __u64);
} backend_active SEC(".maps");

/*
 * The flow table (struct xlb_ct_entry, bpf/lib/conntrack.h): an array, so
 * a lookup is inlined and an insert takes no lock and allocates nothing;
 * its size is a power of two, and the program reads it from the map.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_CT_SIZE);
	__type(key, __u32);
	__type(value, struct xlb_ct_entry);
	__uint(map_flags, BPF_F_MMAPABLE);	/* user/lib/flowtable.c maps it */
} conntrack SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_counters);
} vip_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_counters);
} backend_stats SEC(".maps");

/* Health-check settings: never read here, kept with the instance's other state. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, __u32);
	__type(value, struct xlb_vip_config);
} vip_config SEC(".maps");

/*
 * The FIB's last answer per backend (bpf/lib/fib.h). Shared, not per-CPU:
 * it is written at most once per XLB_NEXTHOP_TTL_NS per backend, and its
 * size must not grow with the number of CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_nexthop);
} nexthops SEC(".maps");

/* Control-plane state and the agent's health view: kept here so they are pinned with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_ctl);
} ctl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct xlb_health);
} health SEC(".maps");

/*
 * Conntrack admission (bpf/lib/conntrack.h): young flows, until they have
 * carried config.ct_promote_after packets; attach sizes it from conntrack
 * (XLB_CT_NEW_SIZE). A flow table like conntrack, of its own, so short
 * flows only evict each other.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XLB_CT_NEW_SIZE(XLB_CT_SIZE));
	__type(key, __u32);
	__type(value, struct xlb_ct_entry);
	__uint(map_flags, BPF_F_MMAPABLE);
} ct_new SEC(".maps");

/* Admission counters and the per-CPU insert budget (one entry). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_ct_events);
} ct_events SEC(".maps");

/*
 * Every VIP address (struct xlb_vip_addr → number of VIPs on it), kept by
 * the control plane (user/lib/vipaddrs.c). Looked up only by packets that
 * would otherwise be passed (vip.h, xlb_unbalanced()): the kernel does not
 * own these addresses, so such a packet is dropped instead.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VIPS);
	__type(key, struct xlb_vip_addr);
	__type(value, __u32);
} vip_addrs SEC(".maps");

/* The VIP address filter (struct xlb_vip_filter), kept by the control plane. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_vip_filter);
} vip_filter SEC(".maps");

/*
 * Fragments (bpf/lib/frag.h): the L4 protocol and ports of a datagram whose first
 * fragment was balanced, by (family, protocol, id, source, destination),
 * so its later fragments get the same flow key. Written and read by BPF
 * only (the tests age an entry by hand).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XLB_FRAG_SIZE);
	__type(key, struct xlb_frag_key);
	__type(value, struct xlb_frag);
} frags SEC(".maps");

/* VLAN devices (ifindex → lower device, VID), kept by the control plane (user/lib/vlanifs.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_MAX_VLAN_IFS);
	__type(key, __u32);
	__type(value, struct xlb_vlan_if);
} vlan_ifs SEC(".maps");

/* Session sync (bpf/lib/conntrack.h): flows entering conntrack and closing, for the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, XLB_SYNC_RING_SIZE);
} sync_events SEC(".maps");

/*
 * Full NAT (bpf/lib/nat.h): both directions of every NAT flow, keyed by
 * the tuple each direction arrives with. A hash, not an LRU (see
 * struct xlb_nat_flow); attach sizes it (--nat-size), the agent expires it.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XLB_NAT_SIZE_DEFAULT);
	__type(key, struct xlb_flow_key);
	__type(value, struct xlb_nat_flow);
} nat_flows SEC(".maps");

/* SNAT addresses and ports (one entry, attach --snat / --snat-ports). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xlb_snat);
} snat SEC(".maps");

/* Each CPU's next SNAT port offset within its part of the range. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} snat_cursor SEC(".maps");

#endif /* XLB_MAPS_H */
