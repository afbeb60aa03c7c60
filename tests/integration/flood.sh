# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Conntrack admission under a flood of short flows (docs/DESIGN.md,
# "Conntrack admission"): FLOOD_STREAMS TCP streams on a wrr VIP carry data
# and go idle, FLOOD_FLOWS spoofed three-packet flows (SYN, ACK, ACK) from
# random sources fill a FLOOD_CT_SIZE-entry conntrack many times over, then
# the streams carry data again. Under wrr a stream that lost its entry is
# picked anew, lands on another backend and is reset. With two-stage
# admission (the default) the flood stays in the young table and every
# stream survives; the control, single-stage admission (--promote-after 1),
# must break at least one.

FLOOD_CT_SIZE=4096
FLOOD_FLOWS=40000
FLOOD_STREAMS=20
FLOOD_PORT=8080
FLOOD_BYTES=65536	# each stream, before and after the flood
FLOOD_NET=10.200.128.0/17	# spoofed sources: never routed back, they only reach the balancer
FLOOD_PPS=100000
FLOOD_MAX_S=15		# bound of the flood
FLOOD_STREAMS_MAX_S=50	# bound of the streams' whole life
FLOOD_REACHED_PCT=90	# share of the flood's flows the balancer must have seen

# One admission counter (or setting) of `xlb stats --json`.
flood_ct() {
	xlb_lb stats --json | jq ".conntrack.$1"
}

# The streams' flows that conntrack holds established (not young).
flood_established() {
	xlb_lb conntrack list --json "$1" |
		jq --arg c "$(topo_addr4 c1):" '[.[] | select((.young | not) and (.client | startswith($c)))] | length'
}

# The flood, from one sender per CPU (each pinned, with its own share and
# sequence of flows): XDP on a veth runs on the sending CPU, and the kernel's
# LRU keeps a per-CPU list of fresh entries, so a flood from one CPU could
# leave entries made on another untouched, and the control would depend on
# where the scheduler happened to run the streams.
flood_send() {
	local mac=$1 ncpu cpu pids=() rc=0 out
	ncpu=$(nproc)
	for ((cpu = 0; cpu < ncpu; cpu++)); do
		in_ns c2 taskset -c "$cpu" "$XLB_TOOLS/synflood" -i "$P-c2" -m "$mac" -s "$FLOOD_NET" \
			-n $((FLOOD_FLOWS / ncpu)) -r $((FLOOD_PPS / ncpu)) -T "$FLOOD_MAX_S" -S "$cpu" \
			"$VIP4" "$FLOOD_PORT" >"$TMP/flood.$cpu" 2>&1 &
		pids+=($!)
	done
	for cpu in "${!pids[@]}"; do
		wait "${pids[cpu]}" || rc=$?
		echo "flood from CPU $cpu: $(cat "$TMP/flood.$cpu")"
	done
	[ "$rc" = 0 ] || fail "a flood sender failed"
}

# flood_run [PROMOTE_AFTER [SCHED ENCAP ADD]]: the whole scenario, on a SCHED
# (wrr) VIP of an instance attached with --encap ENCAP (ipip); with ADD=add,
# backend b4 joins the VIP while the streams are idle. Sets FLOOD_BROKEN
# (streams broken), FLOOD_KEPT (streams still tracked after the flood), FLOOD_ADMITTED (the flood's flows the balancer tracked,
# young or at once) and FLOOD_PROMOTED (flows promoted during the flood).
flood_run() {
	local promote=${1:-} sched=${2:-wrr} encap=${3:-ipip} add=${4:-}
	local vip="$VIP4:$FLOOD_PORT/tcp" mac out pid rc=0 i adm0 dir0 pro0 over0

	topo_setup 4 2
	# The conntrack size is fixed when the maps are made: attach afresh with it.
	xlb_lb detach "$P-lb" >/dev/null
	xlb_lb attach "$P-lb" --conntrack-size "$FLOOD_CT_SIZE" --encap "$encap" >/dev/null
	[ -z "$promote" ] || xlb_lb conntrack set --promote-after "$promote"
	echo "admission: promote after $(flood_ct promote_after) packets; $sched VIP, encap $encap"
	xlb_lb vip add "$vip" --sched "$sched"
	for i in 1 2 3; do
		xlb_lb backend add "$vip" "$(topo_addr4 "b$i")"
	done
	vip_ready c2 "$VIP4" "$FLOOD_PORT"

	bg c1 "$TMP/streams.out" "$XLB_TOOLS/idlestreams" -n "$FLOOD_STREAMS" -B "$FLOOD_BYTES" \
		-d "$FLOOD_STREAMS_MAX_S" "$VIP4" "$FLOOD_PORT"
	pid=$BG_PID
	wait_for 15 "streams carried data and went idle" grep -q '^idle ' "$TMP/streams.out"
	echo "streams per backend: $(awk '$1 == "stream" { print $4 }' "$TMP/streams.out" | sort | uniq -c | tr -s ' \n' ' ')"
	assert_eq "established streams before the flood" "$FLOOD_STREAMS" "$(flood_established "$vip")"

	adm0=$(flood_ct admitted) dir0=$(flood_ct direct) pro0=$(flood_ct promoted)
	over0=$(flood_ct over_budget)
	mac=$(ip -n "$P-lb" -j link show "$P-lb" | jq -r '.[0].address')
	flood_send "$mac"
	FLOOD_ADMITTED=$(($(flood_ct admitted) - adm0 + $(flood_ct direct) - dir0))
	FLOOD_PROMOTED=$(($(flood_ct promoted) - pro0))
	echo "flood flows tracked: $FLOOD_ADMITTED, promoted: $FLOOD_PROMOTED," \
		"over budget: $(($(flood_ct over_budget) - over0)); tracked now: $(xlb_lb conntrack count --json)"
	[ "$FLOOD_ADMITTED" -ge $((FLOOD_FLOWS * FLOOD_REACHED_PCT / 100)) ] ||
		fail "the balancer tracked $FLOOD_ADMITTED of the flood's $FLOOD_FLOWS flows: the flood did not reach it"
	FLOOD_KEPT=$(flood_established "$vip")
	echo "streams established after the flood: $FLOOD_KEPT"
	if [ "$add" = add ]; then
		xlb_lb backend add "$vip" "$(topo_addr4 b4)"
		echo "b4 added while the streams are idle"
	fi

	kill -USR1 "$pid"
	wait "$pid" || rc=$?
	grep '^result .* fail ' "$TMP/streams.out" || true
	out=$(grep '^streams ' "$TMP/streams.out") || fail "streams gave no summary: $(cat "$TMP/streams.out")"
	echo "$out"
	FLOOD_BROKEN=$(echo "$out" | awk '{ print $6 }')
	[ "$rc" = 0 ] || [ "$FLOOD_BROKEN" -gt 0 ] || fail "idlestreams exit $rc with no broken stream"
}

test_flood_keeps_idle_established_streams() {
	flood_run
	assert_eq "flows the flood got promoted" 0 "$FLOOD_PROMOTED"
	assert_eq "streams broken by the flood" 0 "$FLOOD_BROKEN"
}

# The control: single-stage admission, the same flood, at least one stream broken.
test_flood_single_stage_control_breaks_streams() {
	flood_run 1
	[ "$FLOOD_BROKEN" -gt 0 ] ||
		fail "single-stage control: expected the flood to break a stream, none broke"
}

# Second chance under the same flood: a maglev VIP over GUE, single-stage
# admission so that the flood does evict the idle streams' entries, and a
# backend added while they are idle, so that about a quarter of them now
# hash to b4: each moved stream's packets carry its old backend as a second
# hop, and b4, which has no socket for them, hands them on. Every stream
# survives.
test_flood_and_backend_add_gue_streams_survive() {
	flood_run 1 maglev gue add
	# The flood did take entries: what follows rests on the second chance.
	[ "$FLOOD_KEPT" -lt "$FLOOD_STREAMS" ] ||
		fail "the flood evicted no stream's entry: nothing left to prove"
	assert_eq "streams broken (flood, backend added, gue)" 0 "$FLOOD_BROKEN"
}

# The control: the same over IPIP breaks the streams that moved to b4.
test_flood_and_backend_add_ipip_control_breaks_streams() {
	flood_run 1 maglev ipip add
	[ "$FLOOD_BROKEN" -gt 0 ] ||
		fail "ipip control: expected the moved streams to break, none broke"
}

# adm_bad NEEDLE ARGS...: `xlb conntrack set ARGS` must exit 2 with one line
# "xlb: ..." naming NEEDLE and leave the saved configuration as it was.
adm_save() {
	xlb_lb save
}

adm_bad() {
	local needle=$1
	shift
	expect_rejected 2 "$needle" adm_save xlb_lb conntrack set "$@"
}

# Settings: the default, set, shown by stats, saved and restored, bad input
# refused whole; list/count/flush see the young table, which promotion off empties.
test_conntrack_admission_settings_cli() {
	local vip="$VIP4:80/udp" conf saved

	topo_setup 1 1
	assert_eq "default promote_after" 4 "$(flood_ct promote_after)"
	assert_eq "default insert_rate" 0 "$(flood_ct insert_rate)"
	xlb_lb conntrack set --promote-after 8 --insert-rate 1000
	assert_eq "promote_after" 8 "$(flood_ct promote_after)"
	assert_eq "insert_rate" 1000 "$(flood_ct insert_rate)"
	saved=$(xlb_lb save | grep '^xlb conntrack set ')
	[[ "$saved" == *" --promote-after 8 --insert-rate 1000" ]] || fail "save: got \"$saved\""

	adm_bad "--promote-after" --promote-after 1001
	adm_bad "--promote-after" --promote-after -1
	adm_bad "--insert-rate" --insert-rate 100000001
	adm_bad "--insert-rate" --insert-rate 5x
	adm_bad "--insert-rate" --insert-rate
	adm_bad "--promote-after" --tcp-timeout 60s --promote-after bogus
	adm_bad "--tcp-timeout" --promote-after 2 --tcp-timeout 1s

	conf=$TMP/saved.conf
	xlb_lb save >"$conf"
	xlb_lb conntrack set --promote-after 2 --insert-rate 0
	xlb_lb restore - <"$conf"
	assert_eq "promote_after after restore" 8 "$(flood_ct promote_after)"
	assert_eq "insert_rate after restore" 1000 "$(flood_ct insert_rate)"

	xlb_lb vip add "$vip"
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	vip_ready c1 -u "$VIP4" 80
	names c1 -u -n 3 -w 500 "$VIP4" 80 >/dev/null || fail "UDP flows"
	assert_eq "young flows (one datagram each)" 4 "$(xlb_lb conntrack count --json | jq .young)"
	assert_eq "listed young flows" 4 \
		"$(xlb_lb conntrack list --json | jq '[.[] | select(.young and .young_packets == 1)] | length')"
	assert_eq "admitted" 4 "$(flood_ct admitted)"
	# Promotion off: the data plane stops reading ct_new, so its flows move to conntrack.
	xlb_lb conntrack set --promote-after 1
	assert_eq "young flows after --promote-after 1" 0 "$(xlb_lb conntrack count --json | jq .young)"
	assert_eq "all in conntrack" 4 "$(xlb_lb conntrack count --json | jq .count)"
	xlb_lb conntrack flush >/dev/null
	assert_eq "tracked flows after flush" 0 "$(xlb_lb conntrack count --json | jq .count)"
}
