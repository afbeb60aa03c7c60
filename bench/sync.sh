#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/sync.sh: figures of session sync (xlb sync) on a two-instance tier of
# scripts/cluster.sh, printed as "figure: value" lines and, with SYNC_JSON=FILE
# (bench/run.sh's section "sync"), as one JSON document. It measures, it does
# not judge; run as root after make:
#   bench/sync.sh [FLOWS]        (default 50000)
# 1. events: FLOWS spoofed three-packet flows (tests/tools/synflood) into lb1,
#    conntrack --promote-after 1 so each enters conntrack on its SYN; the time
#    from the first packet until lb2 has applied all of them, and the rate
#    the flood reached lb1 at (the flood, not sync, may be the bound).
# 2. full copy: lb2's conntrack flushed and its agent restarted: the time
#    from its start until it has every flow of lb1 (DUMP_REQ, lb1's walk,
#    the messages, the acks, the inserts): flows per second one agent sends
#    and one receives.
# 3. latency (measured first, on idle tables): single flows into lb1, the
#    time until lb2's applied counter moves (polled: a bound, not exact).
# Every loop is bounded; the tier is torn down however the script ends.
set -uo pipefail

TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 1
XLB=${XLB:-$TOP/build/xlb}
XLB_TOOLS=${XLB_TOOLS:-$TOP/build/tools}
# shellcheck source=scripts/cluster.sh
source "$TOP/scripts/cluster.sh"

P=xlbbsync
FLOWS=${1:-50000}
RATE=${RATE:-60000}		# packets per second of the flood
LAT_FLOWS=20
KEY=$(mktemp /tmp/xlb-syncbench.XXXXXX)
SYNC_JSON=${SYNC_JSON:-}
lat_med=null lat_max=null got=0 t_flood=null tot=null t_rest=null n1=0 t_dump=null
VIP=$CLUSTER_VIP4
SVC="$VIP:$CLUSTER_PORT/tcp"

cleanup() {
	trap - EXIT INT TERM
	cluster_down "$P"
	rm -f "$KEY"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ms() { echo $(($(date +%s%N) / 1000000)); }

ct_count() { cluster_xlb "$P" "$1" conntrack count --json | jq .count; }

applied() { cluster_xlb "$P" "$1" sync show --json | jq '[.peers[].applied] | add // 0'; }

# Balancer K's applied counter of its peer 0, straight from the pinned
# sync_stats map (struct xlb_sync_stats: applied is the u64 at byte 40).
applied_fast() {
	local hex
	hex=$(bpftool -j map lookup pinned "/sys/fs/bpf/xlb/$P-lb$1/sync_stats" key 0 0 0 0 |
		jq -r '.value[40:48] | reverse | map(.[2:]) | join("")') || return 1
	echo $((16#${hex:-0}))
}

# K N SECS: waits until balancer K tracks N flows; prints the ms it took, or "timeout".
wait_count() {
	local k=$1 n=$2 secs=$3 t0 end
	t0=$(ms)
	end=$((t0 + secs * 1000))
	while [ "$(ct_count "$k")" -lt "$n" ]; do
		[ "$(ms)" -lt "$end" ] || { echo timeout; return 1; }
		sleep 0.01
	done
	echo $(($(ms) - t0))
}

flood() {
	local mac
	mac=$(ip -n "$P-lb1" -j link show "$P-lb1" | jq -r '.[0].address')
	topo_in "$P" rt "$XLB_TOOLS/synflood" -i "$P-rt" -m "$mac" -s "10.250.0.0/16" \
		-n "$1" -r "$RATE" -T 60 -S "$2" "$VIP" "$CLUSTER_PORT"
}

head -c 64 /dev/urandom >"$KEY" && chmod 0600 "$KEY"
cluster_up "$P" 2 3 >/dev/null 2>&1 || { echo "syncbench: cluster failed" >&2; exit 1; }
cluster_vip_add "$P" "$SVC" --sched maglev >/dev/null || exit 1
cluster_xlb "$P" 1 sync set --peer "$(cluster_addr4 lb2)" --key "$KEY" || exit 1
cluster_xlb "$P" 2 sync set --peer "$(cluster_addr4 lb1)" --key "$KEY" || exit 1
for k in 1 2; do
	cluster_xlb "$P" "$k" conntrack set --promote-after 1 --tcp-timeout 3600s >/dev/null || exit 1
	cluster_agent_start "$P" "$k"
done
sleep 2		# both agents up and past their start

# 3. latency of single flows, on an idle pair (first: empty tables poll fast)
lat=()
for i in $(seq 1 "$LAT_FLOWS"); do
	before=$(applied_fast 2)
	flood 1 $((1000 + i)) >/dev/null
	t0=$(ms)
	for ((j = 0; j < 500; j++)); do
		[ "$(applied_fast 2)" -gt "$before" ] && break
	done
	lat+=("$(($(ms) - t0))")
done
t0=$(ms)
for j in 1 2 3 4 5 6 7 8 9 10; do applied_fast 2 >/dev/null; done
poll=$((($(ms) - t0) / 10))
read -r lat_med lat_max < <(printf '%s\n' "${lat[@]}" | sort -n |
	awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)], a[NR] }')
echo "latency (synflood's exit -> lb2's applied counter moved; one poll takes ${poll} ms): median $lat_med ms, max $lat_max ms over ${#lat[@]} flows"

# 1. events
t0=$(ms)
out=$(flood "$FLOWS" 1) || echo "syncbench: flood: $out" >&2
t_flood=$(($(ms) - t0))
got=$(ct_count 1)
t_rest=$(wait_count 2 "$got" 60)
echo "flows tracked on lb1: $got of $FLOWS sent ($out)"
echo "flood into lb1: ${t_flood} ms, $((got * 1000 / (t_flood > 0 ? t_flood : 1))) flows/s"
if [ "$t_rest" != timeout ]; then
	tot=$((t_flood + t_rest))
	echo "events: lb2 had all $got flows ${tot} ms after the first packet (${t_rest} ms after the flood ended): $((got * 1000 / tot)) flows/s end to end"
else
	echo "events: lb2 did not get all $got flows within 60 s (has $(ct_count 2))"
	t_rest=null
fi

# 2. full copy
cluster_agent_stop "$P" 2 TERM
cluster_xlb "$P" 2 conntrack flush >/dev/null
n1=$(ct_count 1)
t0=$(ms)
cluster_agent_start "$P" 2
t_dump=$(wait_count 2 "$n1" 60)
if [ "$t_dump" != timeout ]; then
	echo "full copy: $n1 flows from lb1 in lb2's conntrack ${t_dump} ms after its agent started: $((n1 * 1000 / (t_dump > 0 ? t_dump : 1))) flows/s"
else
	echo "full copy: lb2 has $(ct_count 2) of $n1 after 60 s"
	t_dump=null
fi
grep "sync:" "$TOPO_RUN_BASE/$P/lb2.agent.log" | tail -3
grep "asked for a full copy" "$TOPO_RUN_BASE/$P/lb1.agent.log" | tail -1

cluster_xlb "$P" 1 sync show
cluster_xlb "$P" 2 sync show

if [ -n "$SYNC_JSON" ]; then
	printf '{"flows":%s,"latency_median_ms":%s,"latency_max_ms":%s,"poll_ms":%s,' \
		"$got" "$lat_med" "$lat_max" "$poll" >"$SYNC_JSON"
	printf '"flood_ms":%s,"events_all_ms":%s,"events_after_flood_ms":%s,' \
		"$t_flood" "${tot:-null}" "$t_rest" >>"$SYNC_JSON"
	printf '"dump_flows":%s,"dump_ms":%s}\n' "$n1" "$t_dump" >>"$SYNC_JSON"
fi
