// SPDX-License-Identifier: GPL-2.0
/* Summing per-CPU map values (see percpu.h). */
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "percpu.h"

void percpu_counters(int fd, __u32 key, struct xlb_counters *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct xlb_counters *v = ncpu > 0 ? calloc(ncpu, sizeof(*v)) : NULL;

	memset(sum, 0, sizeof(*sum));
	if (v && !bpf_map_lookup_elem(fd, &key, v)) {
		for (int i = 0; i < ncpu; i++) {
			sum->packets += v[i].packets;
			sum->bytes += v[i].bytes;
			sum->new_flows += v[i].new_flows;
		}
	}
	free(v);
}

__u64 percpu_u64(int fd, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *v = ncpu > 0 ? calloc(ncpu, sizeof(*v)) : NULL, sum = 0;

	if (v && !bpf_map_lookup_elem(fd, &key, v))
		for (int i = 0; i < ncpu; i++)
			sum += v[i];
	free(v);
	return sum;
}
