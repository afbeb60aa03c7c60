# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Session sync (xlb sync, docs/SCALE-OUT.md) on the balancer tier of
# scripts/cluster.sh: three instances announce an `lc` VIP, whose picks
# depend on each instance's own flow counts, so a flow that ECMP moves to
# another instance keeps its backend only if that instance learnt it from
# the first (and, the control, breaks without sync). A message with the
# wrong key is refused and counted; an instance that comes back gets its
# peers' flows before the router sees it again. Plus the CLI of `xlb sync`
# on the single-balancer topology.

# shellcheck source=scripts/cluster.sh
source "$LIB_TOP/scripts/cluster.sh"
# shellcheck source=tests/streams.sh
source "$LIB_TOP/tests/streams.sh"

SY_PORT=8080
SY_VIP=$CLUSTER_VIP4
SY_SVC="$SY_VIP:$SY_PORT/tcp"
SY_ALL="$(cluster_addr4 lb1) $(cluster_addr4 lb2) $(cluster_addr4 lb3)"
SY_REST="$(cluster_addr4 lb2) $(cluster_addr4 lb3)"
SY_STREAMS=${SY_STREAMS:-100}
SY_TIMEOUT=10

# Torn down by tests/lib.sh's lib_cleanup, with the tier's own teardown.
LIB_TOPO_DOWN=cluster_down

# FILE [BYTES]: a key file of random bytes, mode 0600.
sy_key() {
	head -c "${2:-32}" /dev/urandom >"$1" && chmod 0600 "$1"
}

# Balancer K syncs with the two others, with key FILE.
sy_sync_set() {
	local k=$1 key=$2 j peers=()
	for j in 1 2 3; do
		[ "$j" = "$k" ] || peers+=(--peer "$(cluster_addr4 "lb$j")")
	done
	cluster_xlb "$P" "$k" sync set "${peers[@]}" --key "$key"
}

# The tier with SY_SVC (lc, every backend everywhere), BGP, and sync when $1 is "on".
sy_setup() {
	local k
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP)"
	command -v jq >/dev/null || skip "needs jq"
	command -v "$CLUSTER_BIRD" >/dev/null || skip "needs BIRD 2 (scripts/deps.sh installs bird2)"
	[ -x "$XLB" ] || fail "$XLB not built (make)"
	trap lib_cleanup EXIT
	trap 'exit 130' INT TERM HUP PIPE
	TMP=$(mktemp -d /tmp/xlb-test.XXXXXX)
	cluster_up "$P" 3 3 || fail "cluster $P could not be built"
	cluster_vip_add "$P" "$SY_SVC" --sched lc || fail "vip add"
	cluster_bgp_set "$P" || fail "bgp set"
	sy_key "$TMP/key"
	if [ "$1" = on ]; then
		for k in 1 2 3; do
			sy_sync_set "$k" "$TMP/key" || fail "sync set on lb$k"
		done
	fi
}

sy_agents_start() {
	local k
	for k in 1 2 3; do
		cluster_agent_start "$P" "$k" "$@"
	done
}

sy_hops() {
	cluster_router_nexthops "$P" "$SY_VIP" | tr '\n' ' ' | sed 's/ $//'
}

sy_hops_are() {
	[ "$(sy_hops)" = "$1" ]
}

sy_wait_hops() {
	poll_for "${3:-$SY_TIMEOUT}" "$2" sy_hops_are "$1" ||
		fail "$2: router's next hops: expected \"$1\", got \"$(sy_hops)\""
}

sy_new_flows() {
	cluster_xlb "$P" "$1" stats --json | jq "[.vips[] | select(.vip == \"$SY_SVC\") | .new_flows] | add // 0"
}

sy_ct_count() {
	cluster_xlb "$P" "$1" conntrack count --json | jq .count
}

# K FIELD: balancer K's FIELD counter of `sync show`, summed over its peers.
sy_stat() {
	cluster_xlb "$P" "$1" sync show --json | jq "[.peers[].$2] | add // 0"
}

# K PEER FIELD: the same for one peer.
sy_peer_stat() {
	cluster_xlb "$P" "$1" sync show --json |
		jq ".peers[] | select(.addr == \"$(cluster_addr4 "lb$2")\") | .$3"
}

# Every instance tracks at least N flows (its own and its peers').
sy_all_track() {
	local k
	for k in 1 2 3; do
		[ "$(sy_ct_count "$k")" -ge "$1" ] || return 1
	done
}

# Streams on every instance, then lb1 leaves (SIGTERM: withdraw, drain, exit).
# Prints the streams' report; the caller judges it.
sy_leave_with_streams() {
	local k n t0
	sy_agents_start --drain-time 2s
	sy_wait_hops "$SY_ALL" "three next hops"
	streams_start "$SY_STREAMS" "$SY_VIP" "$SY_PORT"
	for k in 1 2 3; do
		n=$(sy_new_flows "$k")
		echo "instance lb$k: $n streams"
		[ "$n" -gt 0 ] || fail "no stream passes lb$k: the test would prove nothing"
	done
	t0=$(date +%s%N)
	if [ "$1" = on ]; then
		# The copies: every instance ends up tracking every stream.
		wait_for 10 "every stream tracked on every instance" sy_all_track "$SY_STREAMS"
		echo "every stream on all three instances $((($(date +%s%N) - t0) / 1000000)) ms after the last greeting"
	fi
	kill -TERM "$(cluster_agent_pid "$P" 1)"
	sy_wait_hops "$SY_REST" "lb1 withdrawn on SIGTERM"
	cluster_agent_wait "$P" 1 || fail "lb1's agent did not end"
	# The moved streams run on lb2 and lb3 for a while.
	sleep 2
	streams_stop || true
	streams_report | tail -5
}

test_sync_lc_streams_keep_their_backend_when_an_instance_leaves() {
	local intact k
	sy_setup on
	sy_leave_with_streams on
	for k in 2 3; do
		cluster_xlb "$P" "$k" sync show
	done
	intact=$(streams_intact)
	assert_eq "intact streams after lb1 left (lc, synced)" "$SY_STREAMS" "$intact"
	for k in 2 3; do
		[ "$(sy_stat "$k" applied)" -gt 0 ] || fail "lb$k applied no synced flow"
		assert_eq "lb$k: messages refused" 0 "$(sy_stat "$k" refused)"
	done
}

# The control: the same without sync. lc picks differ between instances,
# so moved streams land on backends that never saw them and are reset.
test_sync_control_lc_without_sync_breaks_moved_streams() {
	local intact
	sy_setup off
	sy_leave_with_streams off
	intact=$(streams_intact)
	echo "without sync: $((SY_STREAMS - intact)) of $SY_STREAMS streams broke"
	[ "$intact" -lt "$SY_STREAMS" ] || fail "every stream survived without sync: the test proves nothing"
}

# lb3 has another key: what it receives from lb1 and lb2 is refused and
# counted, nothing of it is inserted; lb2, with the right key, takes lb1's.
test_sync_wrong_key_is_refused_and_counted() {
	local own3 ct3 refused
	SY_STREAMS=30
	sy_setup on
	sy_key "$TMP/other"
	sy_sync_set 3 "$TMP/other" || fail "sync set on lb3"
	sy_agents_start
	sy_wait_hops "$SY_ALL" "three next hops"
	streams_start "$SY_STREAMS" "$SY_VIP" "$SY_PORT"
	[ "$(sy_new_flows 1)" -gt 0 ] || fail "no stream passes lb1: the test would prove nothing"
	wait_for 10 "lb2 applies lb1's flows" sh -c "[ \"\$(nsenter --net=/run/netns/$P-lb2 $XLB -i $P-lb2 sync show --json | jq '.peers[] | select(.addr == \"$(cluster_addr4 lb1)\") | .applied')\" -gt 0 ]"
	wait_for 10 "lb3 refuses lb1's messages" sh -c "[ \"\$(nsenter --net=/run/netns/$P-lb3 $XLB -i $P-lb3 sync show --json | jq '.peers[] | select(.addr == \"$(cluster_addr4 lb1)\") | .refused')\" -gt 0 ]"
	cluster_xlb "$P" 3 sync show
	refused=$(sy_stat 3 refused)
	echo "lb3 refused $refused messages"
	assert_eq "lb3: flows received" 0 "$(sy_stat 3 received)"
	assert_eq "lb3: flows applied" 0 "$(sy_stat 3 applied)"
	# Nothing inserted: lb3 tracks exactly the streams that pass it.
	own3=$(sy_new_flows 3)
	ct3=$(sy_ct_count 3)
	assert_eq "lb3: tracked flows are its own" "$own3" "$ct3"
	[ "$(sy_ct_count 2)" -gt "$(sy_new_flows 2)" ] || fail "lb2 tracks only its own flows: the control failed"
	streams_stop || true
}

# lb1 leaves, loses its conntrack, and comes back: before the router has
# it as a next hop again it tracks every stream (its peers' full copies),
# and the streams that move back keep their backends.
test_sync_restarted_instance_gets_a_full_copy_before_it_is_announced() {
	local i hops count log n
	SY_STREAMS=40
	sy_setup on
	sy_agents_start --drain-time 1s
	sy_wait_hops "$SY_ALL" "three next hops"
	streams_start "$SY_STREAMS" "$SY_VIP" "$SY_PORT"
	wait_for 10 "every stream tracked on every instance" sy_all_track "$SY_STREAMS"
	kill -TERM "$(cluster_agent_pid "$P" 1)"
	sy_wait_hops "$SY_REST" "lb1 withdrawn on SIGTERM"
	cluster_agent_wait "$P" 1 || fail "lb1's agent did not end"
	cluster_xlb "$P" 1 conntrack flush >/dev/null
	assert_eq "lb1's flows after the flush" 0 "$(sy_ct_count 1)"
	cluster_agent_start "$P" 1 --drain-time 1s
	count=
	for ((i = 0; i < 300; i++)); do
		n=$(sy_ct_count 1)
		hops=$(sy_hops)
		if [ "$hops" = "$SY_ALL" ]; then
			count=$n
			break
		fi
		sleep 0.05
	done
	[ -n "$count" ] || fail "lb1 not announced again within 15 s: $(sy_hops)"
	echo "lb1 tracked $count flows when the router had it again"
	[ "$count" -ge "$SY_STREAMS" ] || fail "lb1 was announced with $count flows of $SY_STREAMS"
	log=$TOPO_RUN_BASE/$P/lb1.agent.log
	grep "sync:" "$log" | tail -4
	grep -q "full copies from all 2 peers" "$log" || fail "no full copy logged: $(tail -5 "$log")"
	sleep 2
	streams_stop || true
	streams_report | tail -3
	assert_eq "intact streams after lb1 came back" "$SY_STREAMS" "$(streams_intact)"
}

# ---- the CLI, on the single-balancer topology of tests/lib.sh ----

sy_expect_bad() {
	local want=$1 needle=$2 rc=0 err after
	shift 2
	err=$(xlb_lb "$@" 2>&1 >/dev/null) || rc=$?
	echo "xlb $*: exit $rc: $err"
	[[ "|$want|" == *"|$rc|"* ]] || fail "xlb $*: exit status: expected $want, got $rc"
	assert_eq "xlb $*: stderr lines" 1 "$(printf '%s\n' "$err" | wc -l)"
	[[ "$err" == "xlb: "* ]] || fail "xlb $*: message: expected \"xlb: ...\", got \"$err\""
	[[ "${err,,}" == *"${needle,,}"* ]] || fail "xlb $*: message: expected it to name \"$needle\", got \"$err\""
	after=$(list_json)
	[ "$after" = "$BASE" ] || fail "xlb $*: list --json changed: expected $BASE, got $after"
	after=$(xlb_lb sync show --json)
	[ "$after" = "$SYNC_BASE" ] || fail "xlb $*: sync show changed: expected $SYNC_BASE, got $after"
}

sy_bad_cases() {
	local k=$TMP/key ok peers=() i
	ok=(sync set --peer 10.200.0.1 --key "$k")
	sy_expect_bad 2 "--peer" sync set --key "$k"
	sy_expect_bad 2 "--key" sync set --peer 10.200.0.1
	sy_expect_bad 2 "10.200.0.300" sync set --peer 10.200.0.300 --key "$k"
	sy_expect_bad 2 "--peer" sync set --peer
	sy_expect_bad 2 "twice" "${ok[@]}" --peer 10.200.0.1
	for i in $(seq 1 17); do
		peers+=(--peer "10.200.1.$i")
	done
	sy_expect_bad 2 "at most" sync set "${peers[@]}" --key "$k"
	sy_expect_bad 2 "--port" "${ok[@]}" --port 0
	sy_expect_bad 2 "--port" "${ok[@]}" --port 65536
	sy_expect_bad 2 "--port" "${ok[@]}" --port http
	sy_expect_bad 2 "--key" "${ok[@]}" --key "$k"
	sy_expect_bad 2 "--key" sync set --peer 10.200.0.1 --key "$TMP/none"
	sy_expect_bad 2 "0600" sync set --peer 10.200.0.1 --key "$TMP/open"
	sy_expect_bad 2 "32 bytes" sync set --peer 10.200.0.1 --key "$TMP/short"
	sy_expect_bad 2 "--frob" "${ok[@]}" --frob 1
	sy_expect_bad 2 "stray" sync set --peer 10.200.0.1 stray --key "$k"
	sy_expect_bad 2 "frob" sync frob
	sy_expect_bad 2 "extra" sync show extra
	sy_expect_bad 2 "extra" sync del extra
}

test_sync_cli_rejects_bad_input() {
	topo_setup 1 1
	sy_key "$TMP/key"
	sy_key "$TMP/open" && chmod 0644 "$TMP/open"
	sy_key "$TMP/short" 31
	BASE=$(list_json)
	SYNC_BASE=$(xlb_lb sync show --json)
	assert_eq "sync configured at first" false "$(echo "$SYNC_BASE" | jq .configured)"
	sy_bad_cases
	sy_expect_bad 1 "not set" sync del
	# The same with a setting in place: a bad set keeps it exactly.
	xlb_lb sync set --peer 10.200.0.1 --peer fd00:200::1 --port 9000 --key "$TMP/key"
	SYNC_BASE=$(xlb_lb sync show --json)
	echo "$SYNC_BASE"
	assert_eq "peers" '["10.200.0.1","fd00:200::1"]' "$(echo "$SYNC_BASE" | jq -c '[.peers[].addr]')"
	assert_eq "port" 9000 "$(echo "$SYNC_BASE" | jq .port)"
	assert_eq "key" "\"$(realpath "$TMP/key")\"" "$(echo "$SYNC_BASE" | jq .key)"
	sy_bad_cases
	xlb_lb sync del
	SYNC_BASE=$(xlb_lb sync show --json)
	assert_eq "sync configured after del" false "$(echo "$SYNC_BASE" | jq .configured)"
	sy_expect_bad 1 "not set" sync del
}

test_sync_save_restore_and_detach() {
	local conf=$TMP/saved line key
	topo_setup 1 1
	sy_key "$TMP/key"
	key=$(realpath "$TMP/key")
	xlb_lb vip add "$VIP4:80/tcp"
	xlb_lb sync set --peer 10.200.0.1 --peer 10.200.0.3 --key "$TMP/key"
	xlb_lb save >"$conf"
	line=$(grep '^xlb sync ' "$conf")
	assert_eq "saved sync line" "xlb sync set --peer 10.200.0.1 --peer 10.200.0.3 --port 8848 --key $key" "$line"
	xlb_lb sync del
	xlb_lb restore "$conf"
	assert_eq "peers after restore" 2 "$(xlb_lb sync show --json | jq '.peers | length')"
	xlb_lb save | grep -qxF "$line" || fail "save after restore differs"
	# A bad line after a good sync line: nothing changes, sync included.
	xlb_lb sync del
	{ grep -v '^# end' "$conf"; echo "xlb vip add bogus"; tail -1 "$conf"; } >"$TMP/bad"
	xlb_lb restore "$TMP/bad" 2>/dev/null && fail "restore of a bad file succeeded"
	assert_eq "configured after a failed restore" false "$(xlb_lb sync show --json | jq .configured)"
	# A file without a sync line is a configuration without sync.
	xlb_lb restore "$conf"
	grep -v '^xlb sync ' "$conf" >"$TMP/nosync"
	xlb_lb restore "$TMP/nosync"
	assert_eq "configured after restoring a file without sync" false \
		"$(xlb_lb sync show --json | jq .configured)"
	# Detach takes the sync pin with the others.
	xlb_lb sync set --peer 10.200.0.1 --key "$TMP/key"
	[ -e "/sys/fs/bpf/xlb/$P-lb/sync" ] || fail "no sync pin"
	xlb_lb detach "$P-lb" >/dev/null
	[ ! -e "/sys/fs/bpf/xlb/$P-lb" ] || fail "pins left after detach: $(ls "/sys/fs/bpf/xlb/$P-lb")"
}

# Copies see no packet where they wait: with a 6 s TCP timeout, streams
# that run 10 s are still tracked everywhere (their owners refreshed the
# copies every 2 s), and survive their instance leaving after that.
test_sync_copies_of_live_flows_are_refreshed() {
	local k
	SY_STREAMS=20
	sy_setup on
	cluster_xlb_all "$P" conntrack set --tcp-timeout 6s >/dev/null || fail "conntrack set"
	sy_agents_start --drain-time 1s
	sy_wait_hops "$SY_ALL" "three next hops"
	streams_start "$SY_STREAMS" "$SY_VIP" "$SY_PORT"
	wait_for 10 "every stream tracked on every instance" sy_all_track "$SY_STREAMS"
	# Past the timeout: only refreshed copies are left.
	sleep 10
	for k in 1 2 3; do
		echo "lb$k tracks $(sy_ct_count "$k") flows after 10 s"
	done
	sy_all_track "$SY_STREAMS" || fail "copies expired although their streams live"
	kill -TERM "$(cluster_agent_pid "$P" 1)"
	sy_wait_hops "$SY_REST" "lb1 withdrawn on SIGTERM"
	cluster_agent_wait "$P" 1 || fail "lb1's agent did not end"
	sleep 2
	streams_stop || true
	streams_report | tail -3
	assert_eq "intact streams after lb1 left" "$SY_STREAMS" "$(streams_intact)"
}
