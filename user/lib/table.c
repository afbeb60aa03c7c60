// SPDX-License-Identifier: GPL-2.0
/* Creating, filling and reading a VIP's table map (see table.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "table.h"

/* Bytes of a table map of @lines lines, in whole pages (what mmap takes). */
static size_t table_len(__u32 lines)
{
	long page = sysconf(_SC_PAGESIZE);

	return ((size_t)lines * sizeof(struct xlb_table_line) + page - 1) / page * page;
}

static struct xlb_table_line *table_map(int fd, __u32 lines, int prot)
{
	void *map = mmap(NULL, table_len(lines), prot, MAP_SHARED, fd, 0);

	return map == MAP_FAILED ? NULL : map;
}

/* Slot @i's previous owner in the lines @map of a table of @size slots. */
static struct xlb_slot_prev *line_prev(struct xlb_table_line *map, __u32 size, __u32 i)
{
	return &map[xlb_table_prev_line(size, i)].prev[i % XLB_TABLE_LINE_PREVS];
}

struct xlb_table_tail table_tail(const struct xlb_slot *slots, __u32 size)
{
	struct xlb_table_tail t = {};

	for (__u32 i = 0; i < size; i++) {
		if (slots[i].prev == XLB_BACKEND_NONE)
			continue;
		t.prevs++;
		if (slots[i].changed_s > t.prev_changed_s)
			t.prev_changed_s = slots[i].changed_s;
	}
	return t;
}

int table_map_new_slots(const struct xlb_slot *slots, __u32 size)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_INNER_MAP | BPF_F_MMAPABLE);
	struct xlb_table_line *map;
	int fd, err;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "xlb_table", sizeof(__u32),
			    sizeof(struct xlb_table_line), xlb_table_lines(size), &opts);
	if (fd < 0)
		return -errno;
	map = table_map(fd, xlb_table_lines(size), PROT_READ | PROT_WRITE);
	if (!map) {
		err = -errno;
		close(fd);
		return err;
	}
	/* A fresh array is all zero: the unused owners of the last line too. */
	for (__u32 i = 0; i < size; i++) {
		map[i / XLB_TABLE_LINE_OWNERS].owner[i % XLB_TABLE_LINE_OWNERS] = slots[i].backend;
		*line_prev(map, size, i) = (struct xlb_slot_prev){ slots[i].prev,
								   slots[i].changed_s };
	}
	map[xlb_table_tail_line(size)].tail = table_tail(slots, size);
	munmap(map, table_len(xlb_table_lines(size)));
	return fd;
}

int table_map_new(const __u32 *owners, __u32 size)
{
	struct xlb_slot *slots = malloc((size ? size : 1) * sizeof(*slots));
	int fd;

	if (!slots)
		return -ENOMEM;
	for (__u32 i = 0; i < size; i++)
		slots[i] = (struct xlb_slot){ .backend = owners[i], .prev = XLB_BACKEND_NONE };
	fd = table_map_new_slots(slots, size);
	free(slots);
	return fd;
}

/* The slots of the table map @fd of @lines lines (with a tail or, an older xlb's, without). */
static int map_read(int fd, __u32 lines, struct xlb_slot *slots, __u32 size)
{
	struct xlb_table_line *map = table_map(fd, lines, PROT_READ);

	if (!map)
		return -errno;
	for (__u32 i = 0; i < size; i++) {
		const struct xlb_slot_prev *p = line_prev(map, size, i);

		slots[i] = (struct xlb_slot){
			.backend = map[i / XLB_TABLE_LINE_OWNERS].owner[i % XLB_TABLE_LINE_OWNERS],
			.prev = p->prev, .changed_s = p->changed_s };
	}
	munmap(map, table_len(lines));
	return 0;
}

int table_map_read(int fd, struct xlb_slot *slots, __u32 size)
{
	return map_read(fd, xlb_table_lines(size), slots, size);
}

int table_read(int tables_fd, __u32 vip_id, struct xlb_slot *slots, __u32 size)
{
	struct bpf_map_info info = {};
	__u32 inner_id, len = sizeof(info);
	int fd, err;

	if (bpf_map_lookup_elem(tables_fd, &vip_id, &inner_id))
		return -ENOENT;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (!err && (info.max_entries != xlb_table_lines(size) ||
		     info.value_size != sizeof(struct xlb_table_line)))
		err = -ENOENT;
	if (!err)
		err = table_map_read(fd, slots, size);
	close(fd);
	return err;
}

int table_add_tail(int tables_fd, __u32 vip_id, __u32 size)
{
	struct bpf_map_info info = {};
	__u32 inner_id, len = sizeof(info);
	struct xlb_slot *slots;
	int fd, err, nfd;

	if (bpf_map_lookup_elem(tables_fd, &vip_id, &inner_id))
		return 0;
	fd = bpf_map_get_fd_by_id(inner_id);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (err || info.max_entries != xlb_table_tail_line(size) ||
	    info.value_size != sizeof(struct xlb_table_line)) {
		close(fd);
		return err;
	}
	slots = malloc(size * sizeof(*slots));
	err = slots ? map_read(fd, info.max_entries, slots, size) : -ENOMEM;
	close(fd);
	nfd = err ? err : table_map_new_slots(slots, size);
	free(slots);
	if (nfd < 0)
		return nfd;
	err = bpf_map_update_elem(tables_fd, &vip_id, &nfd, BPF_ANY) ? -errno : 1;
	close(nfd);
	return err;
}

void table_chain(struct xlb_slot *out, const __u32 *owners, const struct xlb_slot *old,
		 __u32 size, __u32 now_s, bool (*keep)(__u32 id, void *arg), void *arg)
{
	for (__u32 i = 0; i < size; i++) {
		struct xlb_slot s = { .backend = owners[i], .prev = XLB_BACKEND_NONE };

		if (old && old[i].backend != owners[i]) {
			s.prev = old[i].backend;
			s.changed_s = now_s;
		} else if (old) {
			s.prev = old[i].prev;
			s.changed_s = old[i].changed_s;
		}
		if (s.prev != XLB_BACKEND_NONE && (s.prev == s.backend || !keep(s.prev, arg)))
			s.prev = XLB_BACKEND_NONE;
		/* No previous owner (e.g. the slot was empty): nothing to time. */
		if (s.prev == XLB_BACKEND_NONE)
			s.changed_s = 0;
		out[i] = s;
	}
}

__u32 table_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}
