# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by bench/run.sh: full NAT end to end (issue 15). The topology of
# scripts/nat_topo.sh (sourced, not changed): one client, the balancer with
# two interfaces, one backend on its own segment with no route to the client,
# running bench/httpd (port 8000) and iperf3 (5201). Each repetition
# measures, back to back, the four ways to reach the backend:
#   ceiling  client to the backend's own address, routed by the balancer
#            namespace's kernel without any NAT (for it alone, the client
#            routes the backend segment and the backend the client segment
#            through the balancer): the same veths and bridges every other
#            way crosses, with the least work a hop can do
#   xdp_pass the ceiling with an XDP program that passes everything on both
#            of the balancer's interfaces (bench/floor_pass.bpf.c): what any
#            XDP program costs on a veth, before it does anything (the veth
#            turns every frame a local sender made into an XDP buffer, most
#            often by copying it into a page of its own: a real NIC's frames
#            are XDP buffers already); xlb's ratio to it is the NAT's own cost
#   xlb      the VIP through xlb --forward nat (XDP: rewrite, redirect between
#            the two interfaces, xlb attach --peer-of), VIP:80 -> backend:8000
#   nft      the VIP through nftables DNAT + masquerade (SNAT to a balancer
#            address) in the balancer namespace, the kernel's NAT
#   haproxy  the VIP through HAProxy mode tcp in the balancer namespace
# with wrk (short HTTP/1.0 requests, Connection: close: one connection per
# request: connections/s) and iperf3 (one bulk TCP stream each way: up,
# client to server, and down, server to client; both directions cross the
# balancer in every way, NAT has no direct return). One backend, as in
# bench/e2e.sh: every way has the same server capacity, and the ratio to the
# ceiling, measured in the same repetition, is the cost of the balancer.
# CPU: the whole machine's busy time per connection (/proc/stat), as e2e.sh.
# Writes bench/results/nat.json.
#
# Every way reaches the backend from addresses of its own (xlb: NAT_SNAT, four
# addresses for port room, nft: NAT_SRC_NFT, HAProxy: NAT_SRC_HAPROXY, the
# ceiling: the client's): the backend keeps each closed connection in
# TIME_WAIT, and a SYN of another way on such a tuple, with another
# timestamp clock, would be refused (see bench/e2e.sh). xlb is attached anew
# each repetition (detach removes its maps), so no repetition starts with the
# NAT flows of the one before; --nat-size holds a repetition's flows (two
# entries per connection, no agent expiring them).

# shellcheck source=../scripts/nat_topo.sh
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/nat_topo.sh"

NAT_P=xlbbn
# The ways measured (all four in make bench; fewer by hand, the ceiling first).
NAT_WAYS=${NAT_WAYS:-ceiling xdp_pass xlb nft haproxy}
NAT_HTTP=8000
NAT_BULK=5201
NAT_VPORT=80
NAT_CONNS=16
NAT_PIDS=()
NAT_SRC_NFT=10.201.0.3
NAT_SRC_HAPROXY=10.201.0.4
NAT_SNAT=(10.201.0.20 10.201.0.21 10.201.0.22 10.201.0.23)
NAT_SIZE=$((1 << 19))
NAT_HAPROXY_PID=/tmp/xlbbn-haproxy.pid
NAT_HAPROXY_CFG=/tmp/xlbbn-haproxy.cfg

nat_up() {
	local b1 i a
	topo_nat_up "$NAT_P" 1 1 || return 1
	nsenter --net="/run/netns/$NAT_P-b1" "$BENCH_BIN/httpd" $NAT_HTTP &
	NAT_PIDS+=($!)
	nsenter --net="/run/netns/$NAT_P-b1" iperf3 -s -p $NAT_BULK >/dev/null 2>&1 &
	NAT_PIDS+=($!)
	for a in $NAT_SRC_NFT $NAT_SRC_HAPROXY "${NAT_SNAT[@]}"; do
		ip -n "$NAT_P-lb" addr add "$a/24" dev "$NAT_P-lb2" || return 1
	done
	b1=$(topo_nat_addr4 b1)
	nat_answers lb "http://$b1:$NAT_HTTP/" "backend httpd"
}

# nat_answers ROLE URL WHAT: polls URL from ROLE's namespace, 50 tries over about 5 s.
nat_answers() {
	local i
	for i in $(seq 1 50); do
		topo_in "$NAT_P" "$1" curl -s -m 1 "$2" >/dev/null && return 0
		sleep 0.1
	done
	bench_log "nat: $3 does not answer"
	return 1
}

nat_down() {
	local p
	for p in "${NAT_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	NAT_PIDS=()
	if [ -f "$NAT_HAPROXY_PID" ]; then
		kill "$(cat "$NAT_HAPROXY_PID")" 2>/dev/null
		rm -f "$NAT_HAPROXY_PID"
	fi
	topo_nat_down "$NAT_P"
	rm -f "$NAT_HAPROXY_CFG"
}

# The ceiling's routes: each side reaches the other through the balancer.
nat_routes() {
	local op=$1
	ip -n "$NAT_P-c1" route "$op" "$TOPO_NAT_NET4.0/24" via "$(topo_addr4 lb)" &&
	ip -n "$NAT_P-b1" route "$op" "$TOPO_NET4.0/24" via "$(topo_nat_addr4 lb2)"
}

# The XDP pass program on (add) or off (del) both of the balancer's interfaces.
nat_xdp_pass() {
	local ifc
	for ifc in "$NAT_P-lb" "$NAT_P-lb2"; do
		if [ "$1" = add ]; then
			ip -n "$NAT_P-lb" link set dev "$ifc" xdpdrv \
				obj "$BENCH_BIN/floor_pass.bpf.o" sec xdp || return 1
		else
			ip -n "$NAT_P-lb" link set dev "$ifc" xdpdrv off
		fi
	done
}

nat_xlb_on() {
	local vip=$TOPO_VIP4 b1 a snat=()
	b1=$(topo_nat_addr4 b1)
	for a in "${NAT_SNAT[@]}"; do snat+=(--snat "$a"); done
	topo_xlb "$NAT_P" attach "$NAT_P-lb" "${snat[@]}" --nat-size $NAT_SIZE >/dev/null &&
	topo_xlb "$NAT_P" attach "$NAT_P-lb2" --peer-of "$NAT_P-lb" >/dev/null &&
	topo_xlb "$NAT_P" vip add "$vip:$NAT_VPORT/tcp" --forward nat --check none >/dev/null &&
	topo_xlb "$NAT_P" backend add "$vip:$NAT_VPORT/tcp" "$b1:$NAT_HTTP" >/dev/null &&
	# iperf3's control and data connections must meet the same server.
	topo_xlb "$NAT_P" vip add "$vip:$NAT_BULK/tcp" --forward nat --sched sh --check none \
		>/dev/null &&
	topo_xlb "$NAT_P" backend add "$vip:$NAT_BULK/tcp" "$b1" >/dev/null
}

nat_nft_on() {
	local vip=$TOPO_VIP4 b1
	b1=$(topo_nat_addr4 b1)
	topo_in "$NAT_P" lb nft -f - <<-NFT
	table ip xlbbnat {
		chain pre {
			type nat hook prerouting priority dstnat; policy accept;
			ip daddr $vip tcp dport $NAT_VPORT dnat to $b1:$NAT_HTTP
			ip daddr $vip tcp dport $NAT_BULK dnat to $b1:$NAT_BULK
		}
		chain post {
			type nat hook postrouting priority srcnat; policy accept;
			ct status dnat snat to $NAT_SRC_NFT
		}
	}
	NFT
}

nat_haproxy_on() {
	local vip=$TOPO_VIP4 b1 i
	b1=$(topo_nat_addr4 b1)
	topo_in "$NAT_P" lb ip addr add "$vip/32" dev lo || return 1
	cat >"$NAT_HAPROXY_CFG" <<-CFG
	global
		maxconn 8000
	defaults
		mode tcp
		timeout connect 5s
		timeout client 30s
		timeout server 30s
		source $NAT_SRC_HAPROXY
	frontend web
		bind $vip:$NAT_VPORT
		default_backend web
	backend web
		server b1 $b1:$NAT_HTTP
	frontend bulk
		bind $vip:$NAT_BULK
		default_backend bulk
	backend bulk
		server b1 $b1:$NAT_BULK
	CFG
	topo_in "$NAT_P" lb haproxy -D -p "$NAT_HAPROXY_PID" -f "$NAT_HAPROXY_CFG" || return 1
	nat_answers c1 "http://$vip:$NAT_VPORT/" HAProxy
}

nat_on() {
	case $1 in
	ceiling) nat_routes add ;;
	xdp_pass) nat_routes add && nat_xdp_pass add ;;
	xlb) nat_xlb_on ;;
	nft) nat_nft_on ;;
	haproxy) nat_haproxy_on ;;
	esac
}

nat_off() {
	case $1 in
	ceiling) nat_routes del ;;
	xdp_pass) nat_xdp_pass del; nat_routes del ;;
	xlb) topo_nat_detach "$NAT_P" >/dev/null ;;
	nft) topo_in "$NAT_P" lb nft delete table ip xlbbnat ;;
	haproxy)
		[ -f "$NAT_HAPROXY_PID" ] && kill "$(cat "$NAT_HAPROXY_PID")" 2>/dev/null
		rm -f "$NAT_HAPROXY_PID"
		sleep 0.3
		topo_in "$NAT_P" lb ip addr del "$TOPO_VIP4/32" dev lo
		;;
	esac
	return 0
}

# The address and ports a way's client talks to: "ADDR HTTP-PORT BULK-PORT".
nat_target() {
	if [ "$1" = ceiling ] || [ "$1" = xdp_pass ]; then
		echo "$(topo_nat_addr4 b1) $NAT_HTTP $NAT_BULK"
	else
		echo "$TOPO_VIP4 $NAT_VPORT $NAT_BULK"
	fi
}

# Prints "rps errors cpu_us_per_conn" for one wrk run.
nat_wrk() {
	local way=$1 dur=$2 t out b0 b1 rps req err
	read -ra t <<<"$(nat_target "$way")"
	b0=$(e2e_busy)
	out=$(topo_in "$NAT_P" c1 timeout $((dur + 10)) wrk -t1 -c$NAT_CONNS -d"${dur}s" \
		-s "$BENCH_DIR/http10.lua" "http://${t[0]}:${t[1]}/" 2>&1)
	b1=$(e2e_busy)
	rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	req=$(echo "$out" | awk '/requests in/ { print $1 }')
	err=$(echo "$out" | awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }
				 /Non-2xx/ { print $NF }' | awk '{ s += $1 } END { print s + 0 }')
	if [ -z "$rps" ] || [ -z "$req" ] || [ "$req" = 0 ]; then
		bench_log "nat: wrk through $way failed: $out"
		return 1
	fi
	awk -v rps="$rps" -v req="$req" -v err="$err" -v busy=$((b1 - b0)) -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%s %s %.2f\n", rps, err, busy * 1e6 / hz / req }'
}

# Gbit/s of one iperf3 stream; a third argument (-R) reverses it.
nat_iperf() {
	local way=$1 dur=$2 t
	read -ra t <<<"$(nat_target "$way")"
	topo_in "$NAT_P" c1 timeout $((dur + 10)) iperf3 -c "${t[0]}" -p "${t[2]}" -t "$dur" -J ${3:+"$3"} |
		python3 -c 'import json, sys
print("%.4f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

# The xlb reasons that are not forwarding, after a repetition: a way that
# drops is measured wrongly, not slowly, and the log says why.
nat_xlb_drops() {
	topo_xlb "$NAT_P" stats --json 2>/dev/null |
		jq -r '.reasons | to_entries[] | select(.value > 0 and (.key | startswith("drop")))
			| "\(.key)=\(.value)"' | tr '\n' ' '
}

bench_nat() {
	local reps=$1 dur=$2 out=$3 raw way r w g d drops
	raw=$(mktemp)
	nat_up || { nat_down; rm -f "$raw"; return 1; }
	for r in $(seq 1 "$reps"); do
		for way in $NAT_WAYS; do
			bench_log "nat: repetition $r: $way"
			nat_on "$way" || { nat_off "$way"; nat_down; rm -f "$raw"; return 1; }
			w=$(nat_wrk "$way" "$dur") || { nat_off "$way"; nat_down; rm -f "$raw"; return 1; }
			g=$(nat_iperf "$way" "$dur") || { bench_log "nat: iperf3 through $way failed"; g=0; }
			d=$(nat_iperf "$way" "$dur" -R) || { bench_log "nat: iperf3 -R through $way failed"; d=0; }
			if [ "$way" = xlb ]; then
				drops=$(nat_xlb_drops)
				[ -n "$drops" ] && bench_log "nat: xlb drops: $drops"
			fi
			echo "$way $r $w $g $d" >>"$raw"
			nat_off "$way"
		done
	done
	nat_down
	python3 - "$raw" "$reps" "$dur" "$NAT_CONNS" "$NAT_WAYS" >"$out" <<-'PY'
	import json, statistics, sys
	rows = [l.split() for l in open(sys.argv[1])]
	ways = sys.argv[5].split()
	keys = ["rps", "errors", "cpu_us_per_conn", "gbps", "gbps_down"]
	per = {w: {} for w in ways}
	for row in rows:
	    per[row[0]][int(row[1])] = dict(zip(keys, map(float, row[2:])))
	def stat(v):
	    return {"med": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}
	def ratio(w, r, k):
	    c = per["ceiling"][r][k]
	    return per[w][r][k] / c if c else 0
	res = {"reps": int(sys.argv[2]), "duration_s": float(sys.argv[3]),
	       "connections": int(sys.argv[4]), "ways": {}}
	for w in ways:
	    reps = sorted(per[w])
	    d = {k: stat([per[w][r][k] for r in reps]) for k in keys}
	    for k in ("rps", "gbps", "gbps_down"):
	        d[k + "_ratio"] = stat([ratio(w, r, k) for r in reps])
	    d["cpu_excess_us_per_conn"] = stat([per[w][r]["cpu_us_per_conn"] -
	                                        per["ceiling"][r]["cpu_us_per_conn"] for r in reps])
	    res["ways"][w] = d
	print(json.dumps(res))
	PY
	rm -f "$raw"
}

# Run alone (bench/nat.sh [REPS] [SECONDS] [OUT]): the same, without make bench.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	TOP=$(cd "$(dirname "$0")/.." && pwd)
	BUILD=${BUILD:-build}
	XLB=${XLB:-$TOP/$BUILD/xlb}
	XLB_TOOLS=${XLB_TOOLS:-$TOP/$BUILD/tools}
	BENCH_BIN=$TOP/$BUILD/bench
	BENCH_DIR=$TOP/bench
	source "$TOP/scripts/topo.sh"
	source "$BENCH_DIR/lib.sh"
	e2e_busy() {
		awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
	}
	trap 'nat_down >/dev/null 2>&1' EXIT
	trap 'exit 130' INT TERM HUP
	bench_nat "${1:-1}" "${2:-2}" "${3:-/dev/stdout}"
fi
