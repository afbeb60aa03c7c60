# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this
#
# The namespace topology of the integration tests, the demo and the benchmarks:
# sourceable functions that build it from nothing (`ip netns add`) and tear it
# down again. Every name carries a PREFIX, so several topologies (a test run,
# the demo, a benchmark) can exist at once without touching each other; the
# prefix must be unique on the machine, [a-z0-9], at most 10 characters, because
# interface names (<= 15) carry it too and xlb's pins under /sys/fs/bpf/xlb/
# are named after interfaces, and bpffs is shared by every namespace.
#
#                 PREFIX-br (namespace holding the bridge PREFIX-br)
#        +-------------+-------------+-------------+-- ...
#   PREFIX-c1p    PREFIX-lbp     PREFIX-b1p    PREFIX-b2p       bridge-side veth ends
#        |             |             |             |
#   PREFIX-c1      PREFIX-lb      PREFIX-b1     PREFIX-b2       namespaces (same name as
#   client         balancer       backend       backend         their one interface)
#
# Address plan (private ranges; every topology is its own L2 segment, so all
# topologies use the same plan):
#   segment      10.200.0.0/24            fd00:200::/64
#   balancer     10.200.0.2               fd00:200::2
#   client K     10.200.0.(10+K)          fd00:200::(10+K)    K = 1..9
#   backend K    10.200.0.(100+K)         fd00:200::(100+K)   K = 1..99
#   VIPs         10.200.100.1..8          fd00:200:100::1..8  on every backend's lo;
#                                                             clients route
#                                                             10.200.100.0/24 and
#                                                             fd00:200:100::/64 via
#                                                             the balancer
# Backends: arp_ignore=1 / arp_announce=2 (the VIPs on lo stay invisible on the
# segment), rp_filter off, and a namesrv (build/tools/namesrv) named "bK" on
# TOPO_PORTS (80 and 8080, TCP and UDP, IPv4 and IPv6). The balancer forwards
# (bpf_fib_lookup refuses to route for an interface that does not) and has its
# neighbour entries for every backend resolved before topo_up returns.
# The balancer's bridge-side end PREFIX-lbp carries two fixes that a real NIC
# does not need:
#  - tx checksumming off: a veth hands frames over with the TCP/UDP checksum
#    only partial (CHECKSUM_PARTIAL); XDP on the balancer forwards them as they
#    are, and the backend would drop them as corrupt (TcpInCsumErrors). With it
#    off, the bridge completes every checksum before the balancer sees it.
#  - an XDP program (topo_xlb_attach puts xlb's decap program there, which
#    passes everything not addressed to it; the interface has no address): the
#    balancer's XDP_TX frames land in this peer's ring, but the kernel (6.18,
#    veth_xdp_flush) only schedules the peer's NAPI if the peer runs XDP, so
#    with GRO alone they sit there until unrelated traffic comes by.
# The bridge-side ends of the backends have GRO on (NAPI), which is all a
# redirect (ndo_xdp_xmit with flush) needs; they run the decap program too,
# for the same reason as PREFIX-lbp: a backend's decap sends a GUE copy of a
# flow it does not own on to the next hop with XDP_TX (the second chance).
# Every decap attach names the balancer's addresses as --from.
#
# Functions (all return non-zero with a "topo: ..." line on stderr on failure):
#   topo_up PREFIX [BACKENDS=3] [CLIENTS=2]   build it and start the name servers
#   topo_xlb_attach PREFIX                    xlb attach on the balancer, xlb decap
#                                             attach --from the balancer on every
#                                             backend (and on PREFIX-lbp, PREFIX-bKp)
#   topo_decap_from                           those --from arguments
#   topo_down PREFIX                          detach xlb, stop servers, delete the
#                                             namespaces, remove the topology's pins;
#                                             safe to call twice or on a half-built one
#   topo_in PREFIX ROLE CMD...                run CMD in namespace PREFIX-ROLE
#                                             (ROLE: lb, br, c1.., b1..)
#   topo_xlb PREFIX ARGS...                   run xlb -i PREFIX-lb in the balancer's
#                                             namespace (killed after TOPO_XLB_TIMEOUT s)
#   topo_addr4 ROLE / topo_addr6 ROLE         a role's address (lb, cK, bK)
#   topo_backends PREFIX                      the backend roles: b1 b2 ...
#   topo_server_start PREFIX ROLE / topo_server_stop PREFIX ROLE
# Variables: XLB (default build/xlb), XLB_TOOLS (build/tools), TOPO_VIP4 and
# TOPO_VIP6 (the first VIP of each family), TOPO_VIPS4/TOPO_VIPS6 (arrays),
# TOPO_RUN_BASE/PREFIX/ (the servers' pid files and logs: bK.pid, bK.log;
# namesrv logs every connection that sent data, and on SIGUSR1 every open one).
# xlb runs in a namespace through nsenter, never `ip netns exec`: that remounts
# /sys and hides bpffs.

TOPO_TOP=${TOPO_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
XLB=${XLB:-$TOPO_TOP/build/xlb}
XLB_TOOLS=${XLB_TOOLS:-$TOPO_TOP/build/tools}
TOPO_RUN_BASE=${TOPO_RUN_BASE:-/tmp/xlb-topo}
TOPO_PORTS=(80 8080)
TOPO_NET4=10.200.0
TOPO_NET6=fd00:200:
TOPO_VIP_NET4=10.200.100.0/24
TOPO_VIP_NET6=fd00:200:100::/64
TOPO_VIPS4=(10.200.100.1 10.200.100.2 10.200.100.3 10.200.100.4
	    10.200.100.5 10.200.100.6 10.200.100.7 10.200.100.8)
TOPO_VIPS6=(fd00:200:100::1 fd00:200:100::2 fd00:200:100::3 fd00:200:100::4
	    fd00:200:100::5 fd00:200:100::6 fd00:200:100::7 fd00:200:100::8)
TOPO_VIP4=${TOPO_VIPS4[0]}
TOPO_VIP6=${TOPO_VIPS6[0]}
TOPO_MAX_PREFIX=10
TOPO_XLB_TIMEOUT=${TOPO_XLB_TIMEOUT:-30}

# The host number of a role on the segment, the same in both families.
topo_host() {
	case $1 in
	lb) echo 2 ;;
	c[0-9]) echo $((10 + ${1#c})) ;;
	b[0-9]*) echo $((100 + ${1#b})) ;;
	*) echo "topo: no address for role $1" >&2; return 1 ;;
	esac
}

topo_addr4() {
	local h
	h=$(topo_host "$1") || return 1
	echo "$TOPO_NET4.$h"
}

topo_addr6() {
	local h
	h=$(topo_host "$1") || return 1
	echo "${TOPO_NET6}:$h"
}

topo_in() {
	local p=$1 role=$2
	shift 2
	nsenter --net="/run/netns/$p-$role" "$@"
}

# Always with -i: pins are global, so other topologies' instances are visible.
# Bounded: a command stuck on the instance lock must not hang a test run.
topo_xlb() {
	local p=$1
	shift
	topo_in "$p" lb timeout "$TOPO_XLB_TIMEOUT" "$XLB" -i "$p-lb" "$@"
}

topo_backends() {
	local f
	for f in /run/netns/"$1"-b[0-9]*; do
		[ -e "$f" ] && echo "${f##*/"$1"-}"
	done | sort -V
}

_topo() {
	"$@" || { echo "topo: failed: $*" >&2; return 1; }
}

# Sysctls of a fresh namespace, before any interface exists in it, so that new
# interfaces inherit them from "default".
_topo_ns() {
	local ns=$1
	_topo ip netns add "$ns" || return 1
	ip -n "$ns" link set lo up
	nsenter --net="/run/netns/$ns" sh -c '
		sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
		sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
		sysctl -qw net.ipv6.conf.default.accept_ra=0' || return 1
}

# A veth pair: IFACE in namespace PREFIX-ROLE, IFACEp on the bridge.
_topo_link() {
	local p=$1 role=$2 gro=$3 ifc="$1-$2"
	_topo_ns "$ifc" || return 1
	_topo ip link add "$ifc" netns "$ifc" type veth peer name "${ifc}p" netns "$p-br" || return 1
	_topo ip -n "$p-br" link set "${ifc}p" master "$p-br" up || return 1
	if [ "$gro" = gro ]; then
		_topo nsenter --net="/run/netns/$p-br" ethtool -K "${ifc}p" gro on >/dev/null || return 1
	fi
	if [ "$role" = lb ]; then
		_topo nsenter --net="/run/netns/$p-br" ethtool -K "${ifc}p" tx off >/dev/null || return 1
	fi
	_topo ip -n "$ifc" addr add "$(topo_addr4 "$role")/24" dev "$ifc" || return 1
	_topo ip -n "$ifc" addr add "$(topo_addr6 "$role")/64" dev "$ifc" nodad || return 1
	_topo ip -n "$ifc" link set "$ifc" up
}

topo_server_start() {
	local p=$1 role=$2 port args=()
	for port in "${TOPO_PORTS[@]}"; do args+=(-p "$port"); done
	# nsenter itself, not topo_in: $! must be the server (nsenter execs it),
	# not a subshell, so that signals reach it.
	nsenter --net="/run/netns/$p-$role" "$XLB_TOOLS/namesrv" -n "$role" "${args[@]}" \
		>>"$TOPO_RUN_BASE/$p/$role.log" 2>&1 &
	echo $! >"$TOPO_RUN_BASE/$p/$role.pid"
}

topo_server_stop() {
	local pidf="$TOPO_RUN_BASE/$1/$2.pid"
	[ -f "$pidf" ] || return 0
	kill "$(cat "$pidf")" 2>/dev/null
	rm -f "$pidf"
}

# Waits (bounded) until ROLE's server answers on the segment, which also
# leaves the balancer with a resolved neighbour entry for it.
_topo_warm() {
	local p=$1 role=$2 i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		if topo_in "$p" lb "$XLB_TOOLS/nameclient" -u -n 1 -w 300 -T 1 "$(topo_addr4 "$role")" "${TOPO_PORTS[0]}" >/dev/null &&
		   topo_in "$p" lb "$XLB_TOOLS/nameclient" -u -n 1 -w 300 -T 1 "$(topo_addr6 "$role")" "${TOPO_PORTS[0]}" >/dev/null; then
			return 0
		fi
	done
	echo "topo: backend $role does not answer on the segment" >&2
	return 1
}

topo_up() {
	local p=$1 nb=${2:-3} nc=${3:-2} i ns v

	if ! [[ $p =~ ^[a-z0-9]+$ ]] || [ ${#p} -gt $TOPO_MAX_PREFIX ]; then
		echo "topo: prefix \"$p\" must be 1..$TOPO_MAX_PREFIX lower-case letters or digits" >&2
		return 1
	fi
	if [ -e "/run/netns/$p-br" ]; then
		echo "topo: topology $p exists already" >&2
		return 1
	fi
	for v in "$XLB_TOOLS/namesrv" "$XLB_TOOLS/nameclient"; do
		[ -x "$v" ] || { echo "topo: $v missing (make)" >&2; return 1; }
	done
	mkdir -p "$TOPO_RUN_BASE/$p" || return 1

	_topo_ns "$p-br" || return 1
	_topo ip -n "$p-br" link add "$p-br" type bridge mcast_snooping 0 || return 1
	_topo ip -n "$p-br" link set "$p-br" up || return 1

	_topo_link "$p" lb gro || return 1
	ns=$p-lb
	topo_in "$p" lb sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1

	for i in $(seq 1 "$nc"); do
		_topo_link "$p" "c$i" nogro || return 1
		_topo ip -n "$p-c$i" route add "$TOPO_VIP_NET4" via "$(topo_addr4 lb)" || return 1
		_topo ip -n "$p-c$i" -6 route add "$TOPO_VIP_NET6" via "$(topo_addr6 lb)" || return 1
	done

	for i in $(seq 1 "$nb"); do
		ns=$p-b$i
		_topo_link "$p" "b$i" gro || return 1
		topo_in "$p" "b$i" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
			net.ipv4.conf.all.arp_announce=2 "net.ipv4.conf.$ns.rp_filter=0" \
			"net.ipv4.conf.$ns.arp_ignore=1" "net.ipv4.conf.$ns.arp_announce=2" || return 1
		for v in "${TOPO_VIPS4[@]}"; do
			_topo ip -n "$ns" addr add "$v/32" dev lo || return 1
		done
		for v in "${TOPO_VIPS6[@]}"; do
			_topo ip -n "$ns" addr add "$v/128" dev lo nodad || return 1
		done
		topo_server_start "$p" "b$i" || return 1
	done
	for i in $(seq 1 "$nb"); do
		_topo_warm "$p" "b$i" || return 1
	done
}

# The balancer's source addresses: the only tunnel sources a backend's decap accepts.
topo_decap_from() {
	echo --from "$(topo_addr4 lb)" --from "$(topo_addr6 lb)"
}

topo_xlb_attach() {
	local p=$1 b out from
	read -ra from <<<"$(topo_decap_from)"
	# The NAPI kick for XDP_TX (see the top of this file); it warns that the
	# port has no address, which is the point. Before xlb attach, which would
	# otherwise put its own pass program there.
	out=$(topo_in "$p" br "$XLB" decap attach "$p-lbp" "${from[@]}" 2>&1) ||
		{ echo "topo: failed: xlb decap attach $p-lbp: $out" >&2; return 1; }
	_topo topo_xlb "$p" attach "$p-lb" || return 1
	for b in $(topo_backends "$p"); do
		_topo topo_in "$p" "$b" "$XLB" decap attach "$p-$b" "${from[@]}" || return 1
		# The same kick on the backend's bridge-side port, for the copies
		# the second chance sends on with XDP_TX.
		out=$(topo_in "$p" br "$XLB" decap attach "$p-${b}p" "${from[@]}" 2>&1) ||
			{ echo "topo: failed: xlb decap attach $p-${b}p: $out" >&2; return 1; }
	done
}

topo_down() {
	local p=$1 b ns pids
	[ -n "$p" ] || return 0
	if [ -e "/run/netns/$p-lb" ]; then
		topo_xlb "$p" detach "$p-lb" >/dev/null 2>&1
	fi
	if [ -e "/run/netns/$p-br" ]; then
		topo_in "$p" br timeout "$TOPO_XLB_TIMEOUT" "$XLB" decap detach "$p-lbp" >/dev/null 2>&1
	fi
	for b in $(topo_backends "$p"); do
		topo_in "$p" "$b" timeout "$TOPO_XLB_TIMEOUT" "$XLB" decap detach "$p-$b" >/dev/null 2>&1
		if [ -e "/run/netns/$p-br" ]; then
			topo_in "$p" br timeout "$TOPO_XLB_TIMEOUT" "$XLB" decap detach "$p-${b}p" \
				>/dev/null 2>&1
		fi
		topo_server_stop "$p" "$b"
	done
	for ns in /run/netns/"$p"-*; do
		[ -e "$ns" ] || continue
		# Anything still running in our namespace is ours (a server whose
		# pid file is gone, a client of a test that was interrupted).
		pids=$(ip netns pids "${ns##*/}" 2>/dev/null)
		# shellcheck disable=SC2086 # one pid per word
		[ -n "$pids" ] && kill $pids 2>/dev/null
		ip netns del "${ns##*/}"
	done
	# Last resort: pins outlive their interface and their namespace.
	rm -rf "/sys/fs/bpf/xlb/$p-lb" /sys/fs/bpf/xlb/decap/"$p"-* 2>/dev/null
	rm -rf "${TOPO_RUN_BASE:?}/$p"
	return 0
}
