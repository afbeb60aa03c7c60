// SPDX-License-Identifier: GPL-2.0
/* Host settings the balancer needs (see host.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "util.h"

/* Reads a 0/1 sysctl file: 0, 1, or -errno. */
static int sysctl_get(const char *path)
{
	char c = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), n;

	if (fd < 0)
		return -errno;
	n = read(fd, &c, 1);
	close(fd);
	if (n != 1)
		return -EIO;
	return c == '1';
}

static int sysctl_set_one(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "1\n", 2) != 2)
		err = -errno;
	close(fd);
	return err;
}

int host_forwarding_ensure(const char *iface)
{
	static const char *const fam[] = { "ipv4", "ipv6" };
	char path[2][128];
	const char *done[2];
	int n = 0, v, err;

	for (int i = 0; i < 2; i++) {
		snprintf(path[i], sizeof(path[i]), "/proc/sys/net/%s/conf/%s/forwarding", fam[i],
			 iface);
		v = sysctl_get(path[i]);
		/* No IPv6 on this host or interface: nothing to route there. */
		if (v == -ENOENT && i == 1)
			continue;
		if (v < 0) {
			xlb_err("cannot read %s: %s", path[i], strerror(-v));
			return -1;
		}
		if (v)
			continue;
		err = sysctl_set_one(path[i]);
		if (err) {
			xlb_err("forwarding is off on %s and turning it on failed (%s: %s): the "
				"FIB routes nothing for it", iface, path[i], strerror(-err));
			return -1;
		}
		done[n++] = fam[i];
	}
	if (n == 2)
		xlb_warn("turned IPv4 and IPv6 forwarding on for %s: the balancer's FIB lookups "
			 "need it", iface);
	else if (n == 1)
		xlb_warn("turned %s forwarding on for %s: the balancer's FIB lookups need it",
			 strcmp(done[0], "ipv4") ? "IPv6" : "IPv4", iface);
	return 0;
}

int host_accept_local_ensure(const char *iface)
{
	char path[128];
	int v, err;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local", iface);
	v = sysctl_get(path);
	if (v < 0) {
		xlb_err("cannot read %s: %s", path, strerror(-v));
		return -1;
	}
	if (v)
		return 0;
	err = sysctl_set_one(path);
	if (err) {
		xlb_err("cannot turn accept_local on for %s (%s: %s)", iface, path, strerror(-err));
		return -1;
	}
	xlb_warn("turned accept_local on for %s: on one L2 segment, backends hand second-chance "
		 "copies (source: this balancer) back through it", iface);
	return 0;
}
