# SPDX-License-Identifier: GPL-2.0
# Sourced by bench/run.sh: end to end against the peers (issue 6, part 3).
# The topology of scripts/topo.sh (sourced, not changed) with one client and
# one backend running bench/httpd (port 8000) and iperf3 (5201); each
# repetition measures, back to back, the four ways to reach the backend:
#   ceiling  client straight to the backend's own address
#   xlb      the VIP through xlb (DSR: IPIP to the backend, decap there)
#   nft      the VIP through nftables DNAT + masquerade in the balancer
#            namespace (jhash spread; NAT both ways: DNAT, then SNAT to a balancer address)
#   haproxy  the VIP through HAProxy mode tcp in the balancer namespace
# with wrk (short HTTP/1.0 requests, Connection: close: one connection per
# request) and iperf3 (one bulk TCP stream each way: up, client to server,
# through the balancer in every case; down, server to client, which DSR
# sends straight back). One backend on purpose: every
# way then has the same server capacity, and the ratio to the ceiling is
# the cost of the balancer alone. CPU: the whole machine's busy time (from
# /proc/stat) per connection, since the kernel's softirq work cannot be
# charged to one namespace; the balancer's share is the excess over the
# ceiling. Writes bench/results/e2e.json.
#
# nft and HAProxy each reach the backend from their own address of the
# balancer: the backend keeps every closed connection in TIME_WAIT, and a
# SYN from another way reusing such a tuple with an older timestamp would
# be refused and retried a second later (it cost HAProxy 80 % when both
# used the balancer's main address).

E2E_P=xlbbe
E2E_HTTP=8000
E2E_BULK=5201
E2E_CONNS=16
E2E_PIDS=()
E2E_SRC_NFT=10.200.0.3
E2E_SRC_HAPROXY=10.200.0.4

e2e_busy() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

e2e_up() {
	local b1 i
	topo_up "$E2E_P" 1 1 || return 1
	nsenter --net=/run/netns/$E2E_P-b1 "$BENCH_BIN/httpd" $E2E_HTTP &
	E2E_PIDS+=($!)
	nsenter --net=/run/netns/$E2E_P-b1 iperf3 -s -p $E2E_BULK >/dev/null 2>&1 &
	E2E_PIDS+=($!)
	b1=$(topo_addr4 b1)
	ip -n "$E2E_P-lb" addr add $E2E_SRC_NFT/24 dev "$E2E_P-lb" || return 1
	ip -n "$E2E_P-lb" addr add $E2E_SRC_HAPROXY/24 dev "$E2E_P-lb" || return 1
	for i in $(seq 1 50); do
		topo_in "$E2E_P" c1 curl -s -m 1 "http://$b1:$E2E_HTTP/" >/dev/null && return 0
		sleep 0.1
	done
	bench_log "e2e: backend httpd does not answer"
	return 1
}

e2e_down() {
	local p
	for p in "${E2E_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	E2E_PIDS=()
	topo_down "$E2E_P"
	rm -f "/tmp/xlbbe-haproxy.pid"
}

# Each way: set up, and undo.
e2e_on() {
	local b1 vip
	b1=$(topo_addr4 b1)
	vip=$TOPO_VIP4
	case $1 in
	ceiling) ;;
	xlb)
		topo_xlb_attach "$E2E_P" >/dev/null || return 1
		topo_xlb "$E2E_P" vip add "$vip:$E2E_HTTP/tcp" --check none >/dev/null || return 1
		topo_xlb "$E2E_P" backend add "$vip:$E2E_HTTP/tcp" "$b1" >/dev/null || return 1
		# iperf3's control and data connections must meet the same server.
		topo_xlb "$E2E_P" vip add "$vip:$E2E_BULK/tcp" --sched sh --check none >/dev/null || return 1
		topo_xlb "$E2E_P" backend add "$vip:$E2E_BULK/tcp" "$b1" >/dev/null || return 1
		;;
	nft)
		topo_in "$E2E_P" lb nft -f - <<-NFT || return 1
		table ip xlbbench {
			chain pre {
				type nat hook prerouting priority dstnat; policy accept;
				ip daddr $vip tcp dport $E2E_HTTP dnat to jhash ip saddr . tcp sport mod 1 map { 0 : $b1 }
				ip daddr $vip tcp dport $E2E_BULK dnat to jhash ip saddr mod 1 map { 0 : $b1 }
			}
			chain post {
				type nat hook postrouting priority srcnat; policy accept;
				ct status dnat snat to $E2E_SRC_NFT
			}
		}
		NFT
		;;
	haproxy)
		topo_in "$E2E_P" lb ip addr add "$vip/32" dev lo || return 1
		cat >/tmp/xlbbe-haproxy.cfg <<-CFG
		global
			maxconn 8000
		defaults
			mode tcp
			timeout connect 5s
			timeout client 30s
			timeout server 30s
			source $E2E_SRC_HAPROXY
		frontend web
			bind $vip:$E2E_HTTP
			default_backend web
		backend web
			balance roundrobin
			server b1 $b1:$E2E_HTTP
		frontend bulk
			bind $vip:$E2E_BULK
			default_backend bulk
		backend bulk
			balance source
			server b1 $b1:$E2E_BULK
		CFG
		topo_in "$E2E_P" lb haproxy -D -p /tmp/xlbbe-haproxy.pid -f /tmp/xlbbe-haproxy.cfg || return 1
		sleep 0.3
		;;
	esac
}

e2e_off() {
	case $1 in
	xlb)
		topo_xlb "$E2E_P" detach "$E2E_P-lb" >/dev/null
		topo_in "$E2E_P" br "$XLB" decap detach "$E2E_P-lbp" >/dev/null 2>&1
		topo_in "$E2E_P" b1 "$XLB" decap detach "$E2E_P-b1" >/dev/null 2>&1
		topo_in "$E2E_P" br "$XLB" decap detach "$E2E_P-b1p" >/dev/null 2>&1
		;;
	nft)
		topo_in "$E2E_P" lb nft delete table ip xlbbench
		;;
	haproxy)
		[ -f /tmp/xlbbe-haproxy.pid ] && kill "$(cat /tmp/xlbbe-haproxy.pid)" 2>/dev/null
		rm -f /tmp/xlbbe-haproxy.pid
		sleep 0.3
		topo_in "$E2E_P" lb ip addr del "$TOPO_VIP4/32" dev lo
		;;
	esac
	return 0
}

# Prints "rps errors cpu_us_per_conn proc_cpu_us_per_conn" for one wrk run.
e2e_wrk() {
	local way=$1 dur=$2 target out b0 b1 hz rps req err pcpu0=0 pcpu1=0 hpid=
	target=$TOPO_VIP4
	[ "$way" = ceiling ] && target=$(topo_addr4 b1)
	[ "$way" = haproxy ] && hpid=$(cat /tmp/xlbbe-haproxy.pid 2>/dev/null)
	[ -n "$hpid" ] && pcpu0=$(awk '{ print $14 + $15 }' /proc/"$hpid"/stat)
	b0=$(e2e_busy)
	out=$(topo_in "$E2E_P" c1 wrk -t1 -c$E2E_CONNS -d"${dur}s" -s "$BENCH_DIR/http10.lua" \
		"http://$target:$E2E_HTTP/" 2>&1)
	b1=$(e2e_busy)
	[ -n "$hpid" ] && pcpu1=$(awk '{ print $14 + $15 }' /proc/"$hpid"/stat)
	hz=$(getconf CLK_TCK)
	rps=$(echo "$out" | awk '/^Requests\/sec:/ { print $2 }')
	req=$(echo "$out" | awk '/requests in/ { print $1 }')
	err=$(echo "$out" | awk '/Socket errors:/ { gsub(/,/, ""); print $4 + $6 + $8 + $10 }
				 /Non-2xx/ { print $NF }' | awk '{ s += $1 } END { print s + 0 }')
	if [ -z "$rps" ] || [ -z "$req" ] || [ "$req" = 0 ]; then
		bench_log "e2e: wrk through $way failed: $out"
		return 1
	fi
	awk -v rps="$rps" -v req="$req" -v err="$err" -v busy=$((b1 - b0)) -v p=$((pcpu1 - pcpu0)) -v hz="$hz" \
		'BEGIN { printf "%s %s %.2f %.2f\n", rps, err, busy * 1e6 / hz / req, p * 1e6 / hz / req }'
}

# Gbit/s of one iperf3 stream; a third argument (-R) reverses it.
e2e_iperf() {
	local way=$1 dur=$2 target
	target=$TOPO_VIP4
	[ "$way" = ceiling ] && target=$(topo_addr4 b1)
	topo_in "$E2E_P" c1 timeout $((dur + 10)) iperf3 -c "$target" -p $E2E_BULK -t "$dur" -J ${3:-} |
		python3 -c 'import json, sys
print("%.4f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

bench_e2e() {
	local reps=$1 dur=$2 out=$3 raw way r w g d
	raw=$(mktemp)
	e2e_up || { e2e_down; rm -f "$raw"; return 1; }
	for r in $(seq 1 "$reps"); do
		for way in ceiling xlb nft haproxy; do
			bench_log "e2e: repetition $r: $way"
			e2e_on "$way" || { e2e_off "$way"; e2e_down; rm -f "$raw"; return 1; }
			w=$(e2e_wrk "$way" "$dur") || { e2e_off "$way"; e2e_down; rm -f "$raw"; return 1; }
			g=$(e2e_iperf "$way" "$dur") || { bench_log "e2e: iperf3 through $way failed"; g=0; }
			d=$(e2e_iperf "$way" "$dur" -R) || { bench_log "e2e: iperf3 -R through $way failed"; d=0; }
			echo "$way $r $w $g $d" >>"$raw"
			e2e_off "$way"
		done
	done
	e2e_down
	python3 - "$raw" "$reps" "$dur" "$E2E_CONNS" >"$out" <<-'PY'
	import json, statistics, sys
	rows = [l.split() for l in open(sys.argv[1])]
	ways = ["ceiling", "xlb", "nft", "haproxy"]
	keys = ["rps", "errors", "cpu_us_per_conn", "proc_cpu_us_per_conn", "gbps", "gbps_down"]
	per = {w: {} for w in ways}
	for row in rows:
	    per[row[0]][int(row[1])] = dict(zip(keys, map(float, row[2:])))
	def stat(v):
	    return {"med": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}
	res = {"reps": int(sys.argv[2]), "duration_s": float(sys.argv[3]),
	       "connections": int(sys.argv[4]), "ways": {}}
	for w in ways:
	    reps = sorted(per[w])
	    d = {k: stat([per[w][r][k] for r in reps]) for k in keys}
	    d["rps_ratio"] = stat([per[w][r]["rps"] / per["ceiling"][r]["rps"] for r in reps])
	    d["gbps_ratio"] = stat([per[w][r]["gbps"] / per["ceiling"][r]["gbps"]
	                            if per["ceiling"][r]["gbps"] else 0 for r in reps])
	    d["gbps_down_ratio"] = stat([per[w][r]["gbps_down"] / per["ceiling"][r]["gbps_down"]
	                                 if per["ceiling"][r]["gbps_down"] else 0 for r in reps])
	    d["cpu_excess_us_per_conn"] = stat([per[w][r]["cpu_us_per_conn"] -
	                                        per["ceiling"][r]["cpu_us_per_conn"] for r in reps])
	    res["ways"][w] = d
	print(json.dumps(res))
	PY
	rm -f "$raw"
}
