// SPDX-License-Identifier: GPL-2.0
/* One-value pinned maps of an instance's settings (see pinval.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "pinval.h"
#include "util.h"

int pinval_read(const char *dir, const char *pin, void *val, size_t size)
{
	char path[256];
	__u32 zero = 0;
	int fd, err;

	memset(val, 0, size);
	snprintf(path, sizeof(path), "%s/%s", dir, pin);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	err = bpf_map_lookup_elem(fd, &zero, val);
	close(fd);
	if (err)
		memset(val, 0, size);
	return err ? -1 : 0;
}

int pinval_write(const char *dir, const char *pin, const char *map_name, const void *val,
		 size_t size)
{
	char path[256];
	__u32 zero = 0;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, pin);
	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT) {
		fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, map_name, sizeof(__u32), size, 1, NULL);
		if (fd >= 0 && bpf_obj_pin(fd, path)) {
			err = -errno;
			close(fd);
			fd = -1;
		}
	}
	if (fd < 0) {
		xlb_err("cannot create the map %s: %s", path, strerror(err ? -err : errno));
		return -1;
	}
	if (bpf_map_update_elem(fd, &zero, val, BPF_ANY)) {
		xlb_err("cannot write the map %s: %s", path, strerror(errno));
		err = -1;
	}
	close(fd);
	return err ? -1 : 0;
}
