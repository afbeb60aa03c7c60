# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this
#
# The namespace topology of full NAT (`xlb vip add ... --forward nat`), for
# tests/integration/nat.sh and bench/nat.sh. Sourced after scripts/topo.sh,
# whose helpers (topo_in, topo_xlb, topo_backends, topo_server_stop, the
# prefix rules) it uses; its own functions are named topo_nat_*.
#
# Why another topology: in scripts/topo.sh every backend sits on the clients'
# segment, carries the VIPs on lo and runs xlb's decap program, so it can
# answer a client directly (DSR). Full NAT exists for backends that can do
# none of that. Here the backends run nothing of ours, have no VIP, and have
# no route to the clients: their only routes are their own subnet and a
# default route to a gateway that does not exist. They reach the balancer's
# SNAT address only because it is on their subnet, so any answer a client gets
# came back through the balancer's NAT.
#
#       PREFIX-br (bridge PREFIX-br)               PREFIX-bn (bridge PREFIX-bn)
#    +-----------+-----------+                +-------------+-------------+--
#  PREFIX-c1p  PREFIX-c2p  PREFIX-lbp      PREFIX-lb2p    PREFIX-b1p    PREFIX-b2p
#    |           |           |                |             |             |
#  PREFIX-c1   PREFIX-c2   PREFIX-lb ===== PREFIX-lb2     PREFIX-b1     PREFIX-b2
#  client      client      balancer namespace PREFIX-lb    backend       backend
#                          (two interfaces)
#
# Address plan:
#   client segment   10.200.0.0/24        fd00:200::/64     (as scripts/topo.sh)
#     balancer lb    10.200.0.2           fd00:200::2
#     client K       10.200.0.(10+K)      fd00:200::(10+K)  route the VIP nets via lb
#   backend segment  10.201.0.0/24        fd00:201::/64
#     balancer lb2   10.201.0.2           fd00:201::2       the SNAT addresses
#     backend K      10.201.0.(100+K)     fd00:201::(100+K) default via .1 / ::1,
#                                                           which nobody has
#   VIPs             TOPO_VIPS4 / TOPO_VIPS6 (scripts/topo.sh), on no host at all
# Each backend runs a namesrv named "bK" on TOPO_NAT_PORTS (8080 only: a VIP
# on port 80 reaches it only through a backend port, `ADDR:8080`).
#
# veth: the balancer's bridge-side ends (PREFIX-lbp, PREFIX-lb2p) have GRO on
# and tx checksumming off, as PREFIX-lbp in scripts/topo.sh and for the same
# reasons (a local sender's checksums are only partial on a veth; XDP passes
# them on as they are). Their XDP program (the kernel wakes a veth peer for
# XDP_TX and redirected frames only if it runs XDP) is not set here: xlb
# attach, and xlb attach --peer-of for PREFIX-lb2, put xlb's pass program on
# the peer of the interface they attach to. The kernel paths the benchmark
# compares (nftables, HAProxy) need none of it.
# The balancer forwards, and has resolved neighbour entries for every backend
# and client before topo_nat_up returns (bpf_fib_lookup answers NO_NEIGH
# until then).
#
# Functions (non-zero with a "topo: ..." line on stderr on failure):
#   topo_nat_up PREFIX [BACKENDS=3] [CLIENTS=2]   build it, start the servers
#   topo_nat_attach PREFIX [ATTACH-ARGS...]       xlb attach PREFIX-lb with the
#                             SNAT addresses of lb2 (and ATTACH-ARGS), then xlb
#                             attach PREFIX-lb2 --peer-of PREFIX-lb
#   topo_nat_detach PREFIX                        xlb detach PREFIX-lb (and its peer)
#   topo_nat_down PREFIX                          tear down (safe twice, or half built)
#   topo_nat_addr4 ROLE / topo_nat_addr6 ROLE     lb, lb2, cK, bK
#   topo_nat_server_start PREFIX ROLE [PORT...]   namesrv on PORTs (TOPO_NAT_PORTS)
# Variables: TOPO_NAT_SNAT_PORTS (the --snat-ports of topo_nat_attach: clear
# of the balancer's own ephemeral ports, so its own connections never meet a
# NAT flow), TOPO_NAT_GW4/6 (the backends' missing gateway).

TOPO_NAT_NET4=10.201.0
TOPO_NAT_NET6=fd00:201:
TOPO_NAT_PORTS=(8080)
TOPO_NAT_SNAT_PORTS=20000-29999
TOPO_NAT_GW4=$TOPO_NAT_NET4.1
TOPO_NAT_GW6=${TOPO_NAT_NET6}:1

topo_nat_addr4() {
	case $1 in
	lb2) echo "$TOPO_NAT_NET4.2" ;;
	b[0-9]*) echo "$TOPO_NAT_NET4.$((100 + ${1#b}))" ;;
	*) topo_addr4 "$1" ;;
	esac
}

topo_nat_addr6() {
	case $1 in
	lb2) echo "${TOPO_NAT_NET6}:2" ;;
	b[0-9]*) echo "${TOPO_NAT_NET6}:$((100 + ${1#b}))" ;;
	*) topo_addr6 "$1" ;;
	esac
}

# A veth pair: IFACE in namespace NS, IFACEp on the bridge in BRNS; addresses
# A4/24 and A6/64 on IFACE.
_topo_nat_link() {
	local ns=$1 ifc=$2 brns=$3 a4=$4 a6=$5 gro=$6
	_topo ip link add "$ifc" netns "$ns" type veth peer name "${ifc}p" netns "$brns" || return 1
	_topo ip -n "$brns" link set "${ifc}p" master "$brns" up || return 1
	if [ "$gro" = gro ]; then
		_topo nsenter --net="/run/netns/$brns" ethtool -K "${ifc}p" gro on >/dev/null || return 1
	fi
	_topo ip -n "$ns" addr add "$a4/24" dev "$ifc" || return 1
	_topo ip -n "$ns" addr add "$a6/64" dev "$ifc" nodad || return 1
	_topo ip -n "$ns" link set "$ifc" up
}

# A bridge in namespace NS named NS. Where br_netfilter is loaded (it is
# per namespace), bridged frames would go through the firewall hooks too:
# a cost on every frame of every way the benchmark compares, for no rule.
_topo_nat_bridge() {
	local ns=$1
	_topo_ns "$ns" || return 1
	_topo ip -n "$ns" link add "$ns" type bridge mcast_snooping 0 || return 1
	if [ -e /proc/sys/net/bridge ]; then
		nsenter --net="/run/netns/$ns" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
			net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 ||
			return 1
	fi
	_topo ip -n "$ns" link set "$ns" up
}

topo_nat_server_start() {
	local p=$1 role=$2 port args=()
	shift 2
	[ $# -gt 0 ] || set -- "${TOPO_NAT_PORTS[@]}"
	for port in "$@"; do args+=(-p "$port"); done
	# nsenter execs the server: $! is the server itself (signals reach it).
	nsenter --net="/run/netns/$p-$role" "$XLB_TOOLS/namesrv" -n "$role" "${args[@]}" \
		>>"$TOPO_RUN_BASE/$p/$role.log" 2>&1 &
	echo $! >"$TOPO_RUN_BASE/$p/$role.pid"
}

# Bounded: until ROLE's server answers the balancer on the backend segment
# (which leaves the balancer with its neighbour entry), both families.
_topo_nat_warm() {
	local p=$1 role=$2 port=${TOPO_NAT_PORTS[0]} i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		if topo_in "$p" lb "$XLB_TOOLS/nameclient" -u -n 1 -w 300 -T 1 \
			"$(topo_nat_addr4 "$role")" "$port" >/dev/null &&
		   topo_in "$p" lb "$XLB_TOOLS/nameclient" -u -n 1 -w 300 -T 1 \
			"$(topo_nat_addr6 "$role")" "$port" >/dev/null; then
			return 0
		fi
	done
	echo "topo: backend $role does not answer on the backend segment" >&2
	return 1
}

# The balancer's neighbour entry of a client: the client sends it one
# datagram (nobody listens; the port unreachable error it gets back needs
# the entry). Bounded, until the entry is there, both families.
_topo_nat_warm_client() {
	local p=$1 role=$2 i a n
	for i in 1 2 3 4 5 6 7 8 9 10; do
		topo_in "$p" "$role" "$XLB_TOOLS/nameclient" -u -n 1 -w 100 -T 1 \
			"$(topo_addr4 lb)" 9 >/dev/null 2>&1
		topo_in "$p" "$role" "$XLB_TOOLS/nameclient" -u -n 1 -w 100 -T 1 \
			"$(topo_addr6 lb)" 9 >/dev/null 2>&1
		n=0
		for a in "$(topo_addr4 "$role")" "$(topo_addr6 "$role")"; do
			ip -n "$p-lb" neigh show "$a" dev "$p-lb" | grep -q lladdr && n=$((n + 1))
		done
		[ $n = 2 ] && return 0
	done
	echo "topo: no neighbour entry of client $role on the balancer" >&2
	return 1
}

topo_nat_up() {
	local p=$1 nb=${2:-3} nc=${3:-2} i ns v

	if ! [[ $p =~ ^[a-z0-9]+$ ]] || [ ${#p} -gt "$TOPO_MAX_PREFIX" ]; then
		echo "topo: prefix \"$p\" must be 1..$TOPO_MAX_PREFIX lower-case letters or digits" >&2
		return 1
	fi
	if [ -e "/run/netns/$p-br" ] || [ -e "/run/netns/$p-bn" ]; then
		echo "topo: topology $p exists already" >&2
		return 1
	fi
	for v in "$XLB_TOOLS/namesrv" "$XLB_TOOLS/nameclient"; do
		[ -x "$v" ] || { echo "topo: $v missing (make)" >&2; return 1; }
	done
	mkdir -p "$TOPO_RUN_BASE/$p" || return 1
	_topo_nat_bridge "$p-br" || return 1
	_topo_nat_bridge "$p-bn" || return 1

	ns=$p-lb
	_topo_ns "$ns" || return 1
	_topo_nat_link "$ns" "$p-lb" "$p-br" "$(topo_addr4 lb)" "$(topo_addr6 lb)" gro || return 1
	_topo_nat_link "$ns" "$p-lb2" "$p-bn" "$(topo_nat_addr4 lb2)" "$(topo_nat_addr6 lb2)" gro ||
		return 1
	for v in "$p-lbp:$p-br" "$p-lb2p:$p-bn"; do
		_topo nsenter --net="/run/netns/${v#*:}" ethtool -K "${v%:*}" tx off >/dev/null ||
			return 1
	done
	topo_in "$p" lb sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1

	for i in $(seq 1 "$nc"); do
		ns=$p-c$i
		_topo_ns "$ns" || return 1
		_topo_nat_link "$ns" "$ns" "$p-br" "$(topo_addr4 "c$i")" "$(topo_addr6 "c$i")" nogro ||
			return 1
		_topo ip -n "$ns" route add "$TOPO_VIP_NET4" via "$(topo_addr4 lb)" || return 1
		_topo ip -n "$ns" -6 route add "$TOPO_VIP_NET6" via "$(topo_addr6 lb)" || return 1
	done

	for i in $(seq 1 "$nb"); do
		ns=$p-b$i
		_topo_ns "$ns" || return 1
		_topo_nat_link "$ns" "$ns" "$p-bn" "$(topo_nat_addr4 "b$i")" "$(topo_nat_addr6 "b$i")" gro ||
			return 1
		_topo ip -n "$ns" route add default via "$TOPO_NAT_GW4" || return 1
		_topo ip -n "$ns" -6 route add default via "$TOPO_NAT_GW6" || return 1
		topo_nat_server_start "$p" "b$i" || return 1
	done
	for i in $(seq 1 "$nb"); do
		_topo_nat_warm "$p" "b$i" || return 1
	done
	for i in $(seq 1 "$nc"); do
		_topo_nat_warm_client "$p" "c$i" || return 1
	done
}

topo_nat_attach() {
	local p=$1
	shift
	_topo topo_xlb "$p" attach "$p-lb" --snat "$(topo_nat_addr4 lb2)" \
		--snat "$(topo_nat_addr6 lb2)" --snat-ports "$TOPO_NAT_SNAT_PORTS" "$@" || return 1
	_topo topo_xlb "$p" attach "$p-lb2" --peer-of "$p-lb"
}

topo_nat_detach() {
	topo_xlb "$1" detach "$1-lb"
}

topo_nat_down() {
	local p=$1
	[ -n "$p" ] || return 0
	if [ -e "/run/netns/$p-lb" ]; then
		topo_xlb "$p" detach "$p-lb2" >/dev/null 2>&1
		topo_xlb "$p" detach "$p-lb" >/dev/null 2>&1
	fi
	# topo_down stops the servers, kills what is left in our namespaces,
	# deletes them and the pins of PREFIX-lb.
	topo_down "$p"
	rm -rf "/sys/fs/bpf/xlb/$p-lb2" 2>/dev/null
	return 0
}
