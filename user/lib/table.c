// SPDX-License-Identifier: GPL-2.0
/* Creating and filling a VIP's table map (see table.h). */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "table.h"

/* An array map keeps each value at an 8-byte stride. */
#define TABLE_STRIDE_WORDS 2

int table_map_new(const __u32 *slots, __u32 size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	long page = sysconf(_SC_PAGESIZE);
	size_t len = ((size_t)size * TABLE_STRIDE_WORDS * sizeof(__u32) + page - 1) / page * page;
	__u32 *map;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_table", sizeof(__u32), sizeof(__u32), size,
			    &opts);
	if (fd < 0)
		return -errno;
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		close(fd);
		return err;
	}
	for (__u32 i = 0; i < size; i++)
		map[i * TABLE_STRIDE_WORDS] = slots[i];
	munmap(map, len);
	return fd;
}
