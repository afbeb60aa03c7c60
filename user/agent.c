// SPDX-License-Identifier: GPL-2.0
/*
 * xlb agent [-i IFACE] [--metrics ADDR:PORT]: the foreground daemon of one
 * balancer instance (agent.h says how it is split). It holds no state of its
 * own: configuration, health streaks, response times and flow counts all live
 * in the pinned maps, so a SIGKILL loses nothing and, while no agent runs, the
 * data plane keeps forwarding with the last state (fail static). One agent per
 * instance: a flock'd pid file under /run/xlb refuses a second one.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "xlb.h"
#include "agent.h"
#include "agent_bgp.h"
#include "agent_sync.h"
#include "httpd.h"
#include "util.h"

static const char agent_usage[] =
	"usage: xlb agent [-i IFACE] [--metrics ADDR:PORT] [--drain-time 5s]\n"
	"  health checks, conntrack expiry, active-flow counts and Prometheus metrics\n"
	"  for one attached interface; runs in the foreground until SIGTERM/SIGINT.\n"
	"  --metrics  where /metrics listens (default " AGENT_METRICS_DEFAULT ")\n"
	"  --drain-time  with BGP set (xlb bgp): how long to keep forwarding after\n"
	"             withdrawing the VIPs on SIGTERM/SIGINT (default 5s)\n";

void agent_log(const char *fmt, ...)
{
	char msg[512], when[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One write per line: two threads log. */
	fprintf(stderr, "%s.%03ldZ xlb agent: %s\n", when, ts.tv_nsec / 1000000, msg);
}

/*
 * The pid file, locked for the agent's life. Another agent's lock makes
 * this fail with its pid named; the lock goes with the process, however it
 * dies, so a stale file never blocks a restart.
 */
static int pidfile_take(const char *iface)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	mkdir(XLB_LOCK_DIR, 0755);
	snprintf(path, sizeof(path), "%s/%s.agent", XLB_LOCK_DIR, iface);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	/* 0600: whoever can open it can flock it and keep every agent from starting. */
	if (fd < 0 || fchmod(fd, 0600)) {
		xlb_err("cannot open %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		if (errno == EWOULDBLOCK || errno == EAGAIN || n > 0)
			xlb_err("an agent already runs for %s (pid %s, %s)", iface,
				buf[0] ? buf : "?", path);
		else
			xlb_err("cannot lock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", getpid());
	if (ftruncate(fd, 0) || pwrite(fd, buf, n, 0) != n) {
		xlb_err("cannot write %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int parse_args(int argc, char **argv, const char **iface, const char **listen)
{
	int r;

	for (int i = 0; i < argc; i++) {
		if (is_help(argv[i])) {
			fputs(agent_usage, stdout);
			return 1;
		} else if (!strcmp(argv[i], "-i")) {
			if (!(*iface = next_arg(&i, argc, argv, "-i")))
				return -1;
		} else if (!strcmp(argv[i], "--metrics")) {
			if (!(*listen = next_arg(&i, argc, argv, "--metrics")))
				return -1;
		} else if ((r = agent_bgp_option(&i, argc, argv))) {
			if (r < 0)
				return -1;
		} else {
			xlb_err("unexpected argument \"%s\" (xlb agent [-i IFACE] [--metrics ADDR:PORT] "
				"[--drain-time 5s])", argv[i]);
			return -1;
		}
	}
	return 0;
}

static int ep_add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int timer_open(unsigned ms)
{
	struct itimerspec its = {
		.it_value = { ms / 1000, (ms % 1000) * 1000000L },
		.it_interval = { ms / 1000, (ms % 1000) * 1000000L },
	};
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd >= 0 && timerfd_settime(fd, 0, &its, NULL)) {
		close(fd);
		return -1;
	}
	return fd;
}

static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

/*
 * The maps the agent opened are still the pinned ones. After a detach, or a
 * detach and a new attach (new maps under the same path), it must stop: its
 * service manager starts it again on whatever is attached now.
 */
static bool still_attached(const struct agent *a)
{
	char path[256];
	bool same;
	int fd;

	snprintf(path, sizeof(path), "%s/vips", a->in.dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return false;
	same = map_id(fd) == map_id(a->in.fd[XLB_M_VIPS]);
	close(fd);
	return same;
}

/* The main loop: signals, the conntrack period, session sync (/metrics has its own thread). */
static int agent_loop(struct agent *a, int sig_fd, int tick_fd, int sync_fd)
{
	struct epoll_event evs[8];
	int ep = epoll_create1(EPOLL_CLOEXEC), ret = XLB_EXIT_OK;

	if (ep < 0 || ep_add(ep, sig_fd) || ep_add(ep, tick_fd) || ep_add(ep, sync_fd)) {
		xlb_err("epoll: %s", strerror(errno));
		return XLB_EXIT_FAIL;
	}
	while (!atomic_load(&a->stop)) {
		int n = epoll_wait(ep, evs, ARRAY_SIZE(evs), -1);

		if (n < 0 && errno != EINTR) {
			agent_log("epoll_wait: %s", strerror(errno));
			ret = XLB_EXIT_FAIL;
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sig_fd) {
				struct signalfd_siginfo si;

				if (read(sig_fd, &si, sizeof(si)) == sizeof(si))
					agent_log("%s: stopping", strsignal(si.ssi_signo));
				atomic_store(&a->stop, true);
			} else if (fd == tick_fd) {
				__u64 ticks;

				if (read(tick_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					continue;
				if (!still_attached(a)) {
					agent_log("%s was detached (or attached anew): stopping", a->iface);
					atomic_store(&a->stop, true);
					ret = XLB_EXIT_FAIL;
					break;
				}
				agent_ct_walk(a);
				agent_sync_tick(a);
				agent_bgp_tick(a);
			} else if (fd == sync_fd) {
				agent_sync_service(a);
			}
		}
	}
	close(ep);
	return ret;
}

int do_agent(int argc, char **argv)
{
	const char *iface = opts.iface, *listen = AGENT_METRICS_DEFAULT;
	int pid_fd = -1, sig_fd = -1, tick_fd = -1, sync_fd = -1, ret = XLB_EXIT_FAIL, r;
	static struct agent a;
	struct httpd *h = NULL;
	char errbuf[256];
	sigset_t sigs;
	pthread_t th;
	__u64 one = 1;

	r = parse_args(argc, argv, &iface, &listen);
	if (r)
		return r > 0 ? XLB_EXIT_OK : XLB_EXIT_USAGE;
	if (inst_open(iface, false, &a.in))
		return XLB_EXIT_FAIL;
	a.iface = a.in.iface;
	a.wake_fd = -1;
	pid_fd = pidfile_take(a.iface);
	if (pid_fd < 0)
		goto out;
	/* Signals arrive on a descriptor, in the loop; the other threads inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_fd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	tick_fd = timer_open(AGENT_CT_PERIOD_MS);
	a.wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sig_fd < 0 || tick_fd < 0 || a.wake_fd < 0) {
		xlb_err("agent setup: %s", strerror(errno));
		goto out;
	}
	/* Its own thread from here on: one renders each scrape as it comes. */
	h = httpd_open(listen, NULL, agent_metrics_render, &a, errbuf, sizeof(errbuf));
	if (!h) {
		xlb_err("metrics: %s", errbuf);
		goto out;
	}
	agent_log("started on %s, pid %d, metrics on http://%s%s", a.iface, getpid(), listen,
		  HTTPD_METRICS_PATH);
	agent_ct_walk(&a);
	sync_fd = agent_sync_open(&a);
	agent_bgp_tick(&a);
	if ((errno = pthread_create(&th, NULL, agent_health_main, &a))) {
		xlb_err("cannot start the health thread: %s", strerror(errno));
		goto out;
	}
	ret = agent_loop(&a, sig_fd, tick_fd, sync_fd);
	agent_bgp_stop(&a, sig_fd, ret == XLB_EXIT_OK);
	atomic_store(&a.stop, true);
	if (write(a.wake_fd, &one, sizeof(one)) < 0)
		agent_log("cannot wake the health thread: %s", strerror(errno));
	pthread_join(th, NULL);
	agent_log("stopped; the data plane keeps the last state");
out:
	httpd_close(h);
	if (sig_fd >= 0)
		close(sig_fd);
	if (tick_fd >= 0)
		close(tick_fd);
	if (a.wake_fd >= 0)
		close(a.wake_fd);
	if (pid_fd >= 0)
		close(pid_fd);
	agent_sync_close(&a);
	inst_close(&a.in);
	return ret;
}
