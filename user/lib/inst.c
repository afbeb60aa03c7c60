// SPDX-License-Identifier: GPL-2.0
/* Finding, opening and locking a balancer instance's pinned maps (see inst.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>

#include "xlb_abi.h"
#include "inst.h"
#include "util.h"

const char *const xlb_map_names[XLB_M_COUNT] = {
	[XLB_M_VIPS] = "vips",
	[XLB_M_TABLES] = "tables",
	[XLB_M_BACKENDS] = "backends",
	[XLB_M_BACKEND_ACTIVE] = "backend_active",
	[XLB_M_CONNTRACK] = "conntrack",
	[XLB_M_CONFIG] = "config",
	[XLB_M_VIP_STATS] = "vip_stats",
	[XLB_M_BACKEND_STATS] = "backend_stats",
	[XLB_M_REASONS] = "reasons",
	[XLB_M_VIP_CONFIG] = "vip_config",
	[XLB_M_CTL] = "ctl",
	[XLB_M_HEALTH] = "health",
};

int need_root(void)
{
	if (geteuid() != 0) {
		xlb_err("permission denied: xlb must run as root");
		return -1;
	}
	return 0;
}

/*
 * xlb's pin directory must be root's alone: /sys/fs/bpf is often
 * world-writable (mode 1777), so another user could have made it first and
 * would then own every map xlb pins there. With @create, make it (0700).
 */
static int pin_root_check(bool create)
{
	struct stat st;
	int missing = lstat(XLB_PIN_ROOT, &st) ? errno : 0;

	if (missing == ENOENT && !create)
		return 0;
	if (missing == ENOENT && mkdir(XLB_PIN_ROOT, 0700) && errno != EEXIST) {
		xlb_err("cannot create %s: %s", XLB_PIN_ROOT, strerror(errno));
		return -1;
	}
	if (missing && lstat(XLB_PIN_ROOT, &st)) {
		xlb_err("cannot read %s: %s", XLB_PIN_ROOT, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0777) != 0700) {
		xlb_err("%s must be a directory of root's with mode 0700, not %s of uid %u with "
			"mode %04o: remove it or fix it", XLB_PIN_ROOT,
			S_ISDIR(st.st_mode) ? "a directory" : "a non-directory",
			(unsigned int)st.st_uid, (unsigned int)(st.st_mode & 07777));
		return -1;
	}
	return 0;
}

int bpffs_ensure(bool mount_it)
{
	struct statfs st;

	if (statfs(XLB_BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return pin_root_check(mount_it);
	if (!mount_it) {
		xlb_err("no bpffs mounted at %s: nothing can be attached", XLB_BPFFS);
		return -1;
	}
	/* Ours alone: nobody else has a reason to pin anything here. */
	if (mount("bpf", XLB_BPFFS, "bpf", 0, "mode=0700")) {
		xlb_err("no bpffs at %s and mounting one failed: %s", XLB_BPFFS, strerror(errno));
		return -1;
	}
	return pin_root_check(true);
}

void pin_dir(const char *root, const char *iface, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", root, iface);
}

static bool is_instance(const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s/vips", XLB_PIN_ROOT, name);
	if (stat(path, &st))
		return false;
	snprintf(path, sizeof(path), "%s/%s", XLB_PIN_ROOT, name);
	return !pin_dir_owned(path, name, true);
}

int inst_pick(const char *iface, char *name, size_t len)
{
	struct dirent *de;
	int found = 0;
	DIR *d;

	if (need_root() || bpffs_ensure(false))
		return -1;
	if (iface) {
		char dir[256];

		pin_dir(XLB_PIN_ROOT, iface, dir, sizeof(dir));
		if (!is_instance(iface)) {
			if (!pin_dir_owned(dir, iface, false))
				xlb_err("interface \"%s\" is not attached (no %s)", iface, dir);
			return -1;
		}
		snprintf(name, len, "%s", iface);
		return 0;
	}
	d = opendir(XLB_PIN_ROOT);
	/* Pins are machine-wide; only interfaces of this network namespace count. */
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !is_instance(de->d_name) || !if_nametoindex(de->d_name))
			continue;
		if (found++) {
			closedir(d);
			xlb_err("several interfaces are attached: pick one with -i IFACE");
			return -1;
		}
		snprintf(name, len, "%s", de->d_name);
	}
	if (d)
		closedir(d);
	if (!found) {
		xlb_err("no interface is attached (xlb attach IFACE)");
		return -1;
	}
	return 0;
}

/*
 * The pid holding a flock on the file open as @fd, from /proc/locks (the
 * holder need not be xlb: any process that can open the file can lock it),
 * or 0 if none is listed.
 */
static long lock_holder(int fd)
{
	char line[256], id[64];
	unsigned int maj, min;
	unsigned long ino;
	struct stat st;
	long pid = 0, p;
	FILE *f;

	if (fstat(fd, &st) || !(f = fopen("/proc/locks", "re")))
		return 0;
	while (!pid && fgets(line, sizeof(line), f)) {
		/* "1: FLOCK  ADVISORY  WRITE 1234 00:1a:5678 0 EOF"; "->" marks waiters. */
		if (strstr(line, "->") || !strstr(line, "FLOCK"))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %ld %63s", &p, id) != 2 ||
		    sscanf(id, "%x:%x:%lu", &maj, &min, &ino) != 3)
			continue;
		if (ino == st.st_ino && maj == major(st.st_dev) && min == minor(st.st_dev))
			pid = p;
	}
	fclose(f);
	return pid;
}

int inst_pin_dir(const char *iface, char *dir, size_t len)
{
	char name[IF_NAMESIZE];

	if (inst_pick(iface, name, sizeof(name)))
		return -1;
	pin_dir(XLB_PIN_ROOT, name, dir, len);
	return 0;
}

int inst_lock(const char *iface)
{
	char path[128];
	int fd, tries;

	mkdir(XLB_LOCK_DIR, 0755);
	snprintf(path, sizeof(path), "%s/%s.lock", XLB_LOCK_DIR, iface);
	/*
	 * 0600, also when an older xlb made it 0644: a user who can open the
	 * file can flock it and stop every change.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fchmod(fd, 0600)) {
		xlb_err("cannot open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (tries = 0; flock(fd, LOCK_EX | LOCK_NB); tries++) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			xlb_err("cannot lock %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (tries == XLB_LOCK_WAIT_MS / XLB_LOCK_POLL_MS) {
			long pid = lock_holder(fd);

			if (pid)
				xlb_err("%s is locked by pid %ld: gave up after %d s", path, pid,
					XLB_LOCK_WAIT_MS / 1000);
			else
				xlb_err("%s is locked by another process: gave up after %d s", path,
					XLB_LOCK_WAIT_MS / 1000);
			close(fd);
			return -1;
		}
		usleep(XLB_LOCK_POLL_MS * 1000);
	}
	return fd;
}

int inst_lock_try(const char *iface)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s.lock", XLB_LOCK_DIR, iface);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

__u64 netns_cookie_self(void)
{
	__u64 cookie = 0;
	socklen_t len = sizeof(cookie);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd >= 0) {
		if (getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len))
			cookie = 0;
		close(fd);
	}
	return cookie;
}

/*
 * The namespace cookie at @off in the value (@size bytes) of the one-entry
 * array pinned as @dir/@map; 0 if there is none (nothing pinned, or pinned
 * by an xlb that did not record it).
 */
static __u64 pinned_cookie(const char *dir, const char *map, size_t size, size_t off)
{
	char path[256];
	__u8 val[64] = {};
	__u32 zero = 0;
	__u64 cookie = 0;
	int fd;

	if (size > sizeof(val) || off + sizeof(cookie) > size)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, map);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	if (!bpf_map_lookup_elem(fd, &zero, val))
		memcpy(&cookie, val + off, sizeof(cookie));
	close(fd);
	return cookie;
}

int pin_dir_owned_by(const char *dir, const char *map, size_t size, size_t off,
		     const char *what, bool quiet)
{
	__u64 cookie = pinned_cookie(dir, map, size, off);

	if (!cookie || cookie == netns_cookie_self())
		return 0;
	if (!quiet)
		xlb_err("%s is attached in another network namespace (its pins are %s): run xlb "
			"there, or remove %s if that namespace is gone", what, dir, dir);
	return -1;
}

int pin_dir_owned(const char *dir, const char *iface, bool quiet)
{
	return pin_dir_owned_by(dir, xlb_map_names[XLB_M_CTL], sizeof(struct xlb_ctl),
				offsetof(struct xlb_ctl, netns_cookie), iface, quiet);
}

int inst_open(const char *iface, bool lock, struct xlb_inst *in)
{
	char path[256];

	memset(in, 0, sizeof(*in));
	in->lock_fd = -1;
	for (int i = 0; i < XLB_M_COUNT; i++)
		in->fd[i] = -1;
	if (inst_pick(iface, in->iface, sizeof(in->iface)))
		return -1;
	pin_dir(XLB_PIN_ROOT, in->iface, in->dir, sizeof(in->dir));
	if (lock && (in->lock_fd = inst_lock(in->iface)) < 0)
		return -1;
	for (int i = 0; i < XLB_M_COUNT; i++) {
		snprintf(path, sizeof(path), "%s/%s", in->dir, xlb_map_names[i]);
		in->fd[i] = bpf_obj_get(path);
		if (in->fd[i] < 0) {
			xlb_err("cannot open pinned map %s: %s (attach again to repair)", path,
				strerror(errno));
			inst_close(in);
			return -1;
		}
	}
	if (pin_dir_owned(in->dir, in->iface, false)) {
		inst_close(in);
		return -1;
	}
	return 0;
}

void inst_close(struct xlb_inst *in)
{
	for (int i = 0; i < XLB_M_COUNT; i++)
		if (in->fd[i] >= 0)
			close(in->fd[i]);
	if (in->lock_fd >= 0)
		close(in->lock_fd);
	in->lock_fd = -1;
}

int pin_dir_remove(const char *dir)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	if (rmdir(dir))
		return -errno;
	/* Only empty ones go: another instance's pins keep theirs. */
	rmdir(XLB_DECAP_PIN_ROOT);
	rmdir(XLB_PIN_ROOT);
	return 0;
}
