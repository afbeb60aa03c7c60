# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables for the scripts that source this
#
# A balancer tier behind a router, in namespaces: sourceable functions, the
# same conventions as scripts/topo.sh (which this sources: every name carries
# a PREFIX of at most 10 [a-z0-9], everything is torn down by cluster_down,
# xlb runs through nsenter). The router runs BIRD 2 and installs the VIP
# routes it learns by BGP from the balancers as ECMP routes (L4 hashing);
# each balancer runs xlb attached, its agent, and (started by the agent) its
# own BIRD announcing the VIPs; backends answer the clients directly (DSR),
# their default route is the router.
#
#   PREFIX-c1  PREFIX-c2        clients, 10.202.K.2/24, default via 10.202.K.1
#        |         |
#        PREFIX-rt               router: 10.202.K.1 to client K, 10.201.0.1 on the
#            |                   segment; BIRD AS 65000, one session per balancer
#        PREFIX-br (bridge)      the segment 10.201.0.0/24
#     +------+------+------+------+------+
#   lb1    lb2    lb3     b1     b2     b3    PREFIX-lbK 10.201.0.(10+K), AS 65001
#                                             PREFIX-bK  10.201.0.(100+K), VIPs on lo
#
# Functions (non-zero with a "cluster: ..." line on failure):
#   cluster_up PREFIX [LBS=3] [BACKENDS=3]   build it, start the router's BIRD and the
#                                            backends' servers, attach xlb everywhere
#   cluster_down PREFIX                      stop everything, remove everything; safe
#                                            on a half-built one and twice
#   cluster_xlb PREFIX K ARGS...             xlb -i PREFIX-lbK in balancer K's namespace
#   cluster_xlb_all PREFIX ARGS...           the same on every balancer (stops at the first error)
#   cluster_vip_add PREFIX VIP [ARGS...]     vip add VIP ARGS on every balancer, with every
#                                            backend (the same on all: maglev tables agree)
#   cluster_bgp_set PREFIX [ARGS...]         xlb bgp set towards the router on every balancer
#   cluster_agent_start PREFIX K [ARGS...]   start balancer K's agent (log lbK.agent.log)
#   cluster_agent_stop PREFIX K [SIGNAL]     signal it (TERM) and wait (bounded) for its end
#   cluster_agent_wait PREFIX K              wait (bounded) for its end
#   cluster_agent_pid / cluster_bird_pid PREFIX K
#   cluster_router_nexthops PREFIX ADDR      the router's next hops for ADDR/32, sorted
#   cluster_birdc PREFIX ROLE CMD...         birdc on the router (rt) or a balancer (lbK)
#   cluster_decap_attach PREFIX ROLE IFACE   xlb decap attach, with --from the segment when
#                                            this xlb knows the option
#   cluster_addr4 ROLE                       rt, lbK, bK, cK, rcK (the router's end to cK)
# Variables: CLUSTER_VIP4 (the first VIP), CLUSTER_HOLD (hold time, default 3s),
# CLUSTER_ASN_RT / CLUSTER_ASN_LB.

CLUSTER_TOP=${CLUSTER_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
# shellcheck source=scripts/topo.sh
source "$CLUSTER_TOP/scripts/topo.sh"

CLUSTER_NET4=10.201.0
CLUSTER_PREFIX4=10.201.0.0/24
CLUSTER_ASN_RT=65000
CLUSTER_ASN_LB=65001
CLUSTER_HOLD=${CLUSTER_HOLD:-3s}
CLUSTER_VIP4=${TOPO_VIPS4[0]}
CLUSTER_PORT=${TOPO_PORTS[0]}
CLUSTER_BIRD=${CLUSTER_BIRD:-bird}
CLUSTER_BIRDC=${CLUSTER_BIRDC:-birdc}
XLB_LOCK_DIR_CL=/run/xlb	# the agent's files (user/lib/inst.h XLB_LOCK_DIR)

cluster_addr4() {
	case $1 in
	rt) echo "$CLUSTER_NET4.1" ;;
	lb[0-9]) echo "$CLUSTER_NET4.$((10 + ${1#lb}))" ;;
	b[0-9]*) echo "$CLUSTER_NET4.$((100 + ${1#b}))" ;;
	c[0-9]) echo "10.202.${1#c}.2" ;;
	rc[0-9]) echo "10.202.${1#rc}.1" ;;
	*) echo "cluster: no address for role $1" >&2; return 1 ;;
	esac
}

_cl() {
	"$@" || { echo "cluster: failed: $*" >&2; return 1; }
}

_cluster_dir() {
	echo "$TOPO_RUN_BASE/$1"
}

cluster_lbs() {
	local f
	for f in /run/netns/"$1"-lb[0-9]; do
		[ -e "$f" ] && echo "${f##*/"$1"-}"
	done
}

cluster_xlb() {
	local p=$1 k=$2
	shift 2
	topo_in "$p" "lb$k" timeout "$TOPO_XLB_TIMEOUT" "$XLB" -i "$p-lb$k" "$@"
}

cluster_xlb_all() {
	local p=$1 lb
	shift
	for lb in $(cluster_lbs "$p"); do
		cluster_xlb "$p" "${lb#lb}" "$@" || return 1
	done
}

# Works before and after `xlb decap attach` learnt --from: tries with it first.
cluster_decap_attach() {
	local p=$1 role=$2 ifc=$3 out
	if out=$(topo_in "$p" "$role" "$XLB" decap attach "$ifc" --from "$CLUSTER_PREFIX4" 2>&1); then
		return 0
	fi
	# An xlb without --from refuses the option: the same without it.
	topo_in "$p" "$role" "$XLB" decap attach "$ifc" >/dev/null 2>&1 && return 0
	echo "cluster: failed: xlb decap attach $ifc: $out" >&2
	return 1
}

# A veth pair: ROLE's end PREFIX-ROLE (address ADDR/24) in namespace
# PREFIX-ROLE, the other end PREFIX-ROLEp in namespace PEERNS (on the bridge
# when PEERNS is PREFIX-br).
_cluster_link() {
	local p=$1 role=$2 addr=$3 peerns=$4 ifc="$1-$2"
	[ -e "/run/netns/$ifc" ] || _topo_ns "$ifc" || return 1
	_cl ip link add "$ifc" netns "$ifc" type veth peer name "${ifc}p" netns "$peerns" || return 1
	if [ "$peerns" = "$p-br" ]; then
		_cl ip -n "$peerns" link set "${ifc}p" master "$p-br" || return 1
	fi
	_cl ip -n "$peerns" link set "${ifc}p" up || return 1
	_cl ip -n "$ifc" addr add "$addr/24" dev "$ifc" || return 1
	_cl ip -n "$ifc" link set "$ifc" up
}

_cluster_router_conf() {
	local p=$1 lb dir
	dir=$(_cluster_dir "$p")
	cat <<EOF
log "$dir/rt.bird.log" all;
router id $(cluster_addr4 rt);
protocol device {
}
protocol kernel {
	ipv4 { import none; export all; };
	merge paths on;
}
template bgp lbs {
	local as $CLUSTER_ASN_RT;
	graceful restart off;
	connect delay time 1;
	connect retry time 2;
	error wait time 1, 10;
	ipv4 { import all; export none; };
}
EOF
	for lb in $(cluster_lbs "$p"); do
		echo "protocol bgp $lb from lbs { neighbor $(cluster_addr4 "$lb") as $CLUSTER_ASN_LB; }"
	done
}

_cluster_router() {
	local p=$1 nc=$2 i dir
	dir=$(_cluster_dir "$p")
	_topo_ns "$p-rt" || return 1
	_cl ip link add "$p-rt" netns "$p-rt" type veth peer name "$p-rtp" netns "$p-br" || return 1
	_cl ip -n "$p-br" link set "$p-rtp" master "$p-br" up || return 1
	_cl ip -n "$p-rt" addr add "$(cluster_addr4 rt)/24" dev "$p-rt" || return 1
	_cl ip -n "$p-rt" link set "$p-rt" up || return 1
	topo_in "$p" rt sysctl -qw net.ipv4.ip_forward=1 net.ipv4.fib_multipath_hash_policy=1 || return 1
	for i in $(seq 1 "$nc"); do
		_topo_ns "$p-c$i" || return 1
		# The client's link: PREFIX-cK in the client, PREFIX-rcK in the router.
		_cl ip link add "$p-c$i" netns "$p-c$i" type veth peer name "$p-rc$i" netns "$p-rt" || return 1
		_cl ip -n "$p-rt" addr add "$(cluster_addr4 "rc$i")/24" dev "$p-rc$i" || return 1
		_cl ip -n "$p-rt" link set "$p-rc$i" up || return 1
		_cl ip -n "$p-c$i" addr add "$(cluster_addr4 "c$i")/24" dev "$p-c$i" || return 1
		_cl ip -n "$p-c$i" link set "$p-c$i" up || return 1
		_cl ip -n "$p-c$i" route add default via "$(cluster_addr4 "rc$i")" || return 1
	done
}

_cluster_router_bird() {
	local p=$1 dir
	dir=$(_cluster_dir "$p")
	_cluster_router_conf "$p" >"$dir/rt.bird.conf" || return 1
	_cl topo_in "$p" rt "$CLUSTER_BIRD" -c "$dir/rt.bird.conf" -s "$dir/rt.bird.ctl" \
		-P "$dir/rt.bird.pid" || return 1
}

_cluster_backend() {
	local p=$1 role=$2 ns="$1-$2" v
	_cluster_link "$p" "$role" "$(cluster_addr4 "$role")" "$p-br" || return 1
	_cl nsenter --net="/run/netns/$p-br" ethtool -K "${ns}p" gro on >/dev/null || return 1
	topo_in "$p" "$role" sysctl -qw net.ipv4.conf.all.arp_ignore=1 \
		net.ipv4.conf.all.arp_announce=2 "net.ipv4.conf.$ns.rp_filter=0" \
		"net.ipv4.conf.$ns.arp_ignore=1" "net.ipv4.conf.$ns.arp_announce=2" || return 1
	_cl ip -n "$ns" route add default via "$(cluster_addr4 rt)" || return 1
	for v in "${TOPO_VIPS4[@]}"; do
		_cl ip -n "$ns" addr add "$v/32" dev lo || return 1
	done
	topo_server_start "$p" "$role"
}

_cluster_balancer() {
	local p=$1 role=$2 ns="$1-$2"
	_cluster_link "$p" "$role" "$(cluster_addr4 "$role")" "$p-br" || return 1
	# As topo.sh does for its balancer: GRO for the redirects, checksums
	# completed by the bridge (forwarded frames may still be CHECKSUM_PARTIAL).
	_cl nsenter --net="/run/netns/$p-br" ethtool -K "${ns}p" gro on tx off >/dev/null || return 1
	topo_in "$p" "$role" sysctl -qw net.ipv4.ip_forward=1 || return 1
}

# Bounded: until balancer ROLE hears backend B's server (resolving its neighbour).
_cluster_warm() {
	local p=$1 role=$2 b=$3 i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		topo_in "$p" "$role" "$XLB_TOOLS/nameclient" -u -n 1 -w 300 -T 1 \
			"$(cluster_addr4 "$b")" "$CLUSTER_PORT" >/dev/null && return 0
	done
	echo "cluster: backend $b does not answer balancer $role" >&2
	return 1
}

cluster_up() {
	local p=$1 nlb=${2:-3} nb=${3:-3} i b v dir
	if ! [[ $p =~ ^[a-z0-9]+$ ]] || [ ${#p} -gt $TOPO_MAX_PREFIX ]; then
		echo "cluster: prefix \"$p\" must be 1..$TOPO_MAX_PREFIX lower-case letters or digits" >&2
		return 1
	fi
	[ -e "/run/netns/$p-br" ] && { echo "cluster: topology $p exists already" >&2; return 1; }
	for v in "$XLB" "$XLB_TOOLS/namesrv" "$XLB_TOOLS/nameclient"; do
		[ -x "$v" ] || { echo "cluster: $v missing (make)" >&2; return 1; }
	done
	command -v "$CLUSTER_BIRD" >/dev/null || { echo "cluster: BIRD 2 (bird) is not installed" >&2; return 1; }
	dir=$(_cluster_dir "$p")
	mkdir -p "$dir" || return 1

	_topo_ns "$p-br" || return 1
	_cl ip -n "$p-br" link add "$p-br" type bridge mcast_snooping 0 || return 1
	_cl ip -n "$p-br" link set "$p-br" up || return 1
	_cluster_router "$p" 2 || return 1
	for i in $(seq 1 "$nlb"); do
		_cluster_balancer "$p" "lb$i" || return 1
	done
	for i in $(seq 1 "$nb"); do
		_cluster_backend "$p" "b$i" || return 1
	done
	_cluster_router_bird "$p" || return 1
	for i in $(seq 1 "$nlb"); do
		_cl cluster_xlb "$p" "$i" attach "$p-lb$i" >/dev/null || return 1
		# The NAPI kick for XDP_TX on veth (see scripts/topo.sh).
		cluster_decap_attach "$p" br "$p-lb${i}p" || return 1
		for b in $(topo_backends "$p"); do
			_cluster_warm "$p" "lb$i" "$b" || return 1
		done
	done
	for b in $(topo_backends "$p"); do
		cluster_decap_attach "$p" "$b" "$p-$b" || return 1
	done
}

cluster_vip_add() {
	local p=$1 vip=$2 b
	shift 2
	cluster_xlb_all "$p" vip add "$vip" "$@" || return 1
	for b in $(topo_backends "$p"); do
		cluster_xlb_all "$p" backend add "$vip" "$(cluster_addr4 "$b")" || return 1
	done
}

cluster_bgp_set() {
	local p=$1
	shift
	cluster_xlb_all "$p" bgp set --asn "$CLUSTER_ASN_LB" --peer "$(cluster_addr4 rt)" \
		--peer-asn "$CLUSTER_ASN_RT" --hold-time "$CLUSTER_HOLD" "$@"
}

cluster_agent_start() {
	local p=$1 k=$2 dir
	shift 2
	dir=$(_cluster_dir "$p")
	nsenter --net="/run/netns/$p-lb$k" "$XLB" agent -i "$p-lb$k" "$@" \
		>>"$dir/lb$k.agent.log" 2>&1 &
	echo $! >"$dir/lb$k.agent.pid"
	# Not a job of the caller's shell: its end (SIGKILL in tests) is no message there.
	disown $!
}

cluster_agent_pid() {
	cat "$(_cluster_dir "$1")/lb$2.agent.pid" 2>/dev/null
}

cluster_bird_pid() {
	cat "$XLB_LOCK_DIR_CL/$1-lb$2.bird.pid" 2>/dev/null
}

# Waits (30 s at most) until balancer K's agent is gone.
cluster_agent_wait() {
	local p=$1 k=$2 pid i
	pid=$(cluster_agent_pid "$p" "$k") || return 0
	for ((i = 0; i < 300; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && return 1
	rm -f "$(_cluster_dir "$p")/lb$k.agent.pid"
}

# Signals balancer K's agent (once: a second SIGTERM cuts its drain short) and waits.
cluster_agent_stop() {
	local p=$1 k=$2 sig=${3:-TERM} pid
	pid=$(cluster_agent_pid "$p" "$k") || return 0
	kill "-$sig" "$pid" 2>/dev/null
	cluster_agent_wait "$p" "$k"
}

cluster_birdc() {
	local p=$1 role=$2 sock
	shift 2
	if [ "$role" = rt ]; then
		sock=$(_cluster_dir "$p")/rt.bird.ctl
	else
		sock=$XLB_LOCK_DIR_CL/$p-$role.bird.ctl
	fi
	topo_in "$p" "$role" timeout 5 "$CLUSTER_BIRDC" -s "$sock" "$@"
}

# The router's next hops for ADDR/32 in its FIB, one per line, sorted.
cluster_router_nexthops() {
	ip -n "$1-rt" -4 route show "$2/32" 2>/dev/null |
		grep -oE 'via [0-9.]+' | awk '{ print $2 }' | sort
}

cluster_down() {
	local p=$1 lb k pid
	[ -n "$p" ] || return 0
	for lb in $(cluster_lbs "$p"); do
		k=${lb#lb}
		# SIGKILL: no drain; its bird follows it (parent-death signal).
		pid=$(cluster_agent_pid "$p" "$k") && kill -KILL "$pid" 2>/dev/null
		pid=$(cluster_bird_pid "$p" "$k") && kill -KILL "$pid" 2>/dev/null
		cluster_xlb "$p" "$k" detach "$p-$lb" >/dev/null 2>&1
		topo_in "$p" br timeout "$TOPO_XLB_TIMEOUT" "$XLB" decap detach "$p-${lb}p" >/dev/null 2>&1
	done
	topo_down "$p"
	rm -rf /sys/fs/bpf/xlb/"$p"-lb[0-9] 2>/dev/null
	rm -f "$XLB_LOCK_DIR_CL/$p"-lb[0-9].* "$XLB_LOCK_DIR_CL/decap-$p"-* 2>/dev/null
	rmdir /sys/fs/bpf/xlb/decap /sys/fs/bpf/xlb 2>/dev/null
	return 0
}
