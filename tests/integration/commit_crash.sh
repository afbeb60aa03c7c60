# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Crash-safe commits (user/lib/commit.c). A `restore` of a sizeable file is
# killed with SIGKILL at many points of its commit; after each kill the maps
# must hold the old or the new configuration exactly, once any command ran:
# `xlb save` (the model), and the tables, backend slots and vip_config read
# raw by build/tools/mapcheck (which also reports orphans and slots of
# another VIP's backends). The control: before that command, what the kill
# left is read with the repair disabled (XLB_TEST_NO_REPAIR, the test's
# alone), and at least one kill point must show a state that is neither.
# Then SIGINT and SIGTERM during a commit are deferred: it completes.

CC_VIPS=200		# VIPs per file, 5 backends each: a restore of ~0.5 s
CC_KILLS=15		# SIGKILL points over one restore's duration, denser early (parsing)
CC_SIGS=4		# SIGINT/SIGTERM points

# The old file: VIPs 10.201.0.N:80 with backends 198.18.N.1-5.
cc_old_file() {
	local i j
	for ((i = 1; i <= CC_VIPS; i++)); do
		echo "xlb vip add 10.201.$((i / 250)).$((i % 250 + 1)):80/tcp --check none --table-size 16381"
		for j in 1 2 3 4 5; do
			echo "xlb backend add 10.201.$((i / 250)).$((i % 250 + 1)):80/tcp 198.18.$i.$j"
		done
	done
	echo "# end of xlb configuration"
}

# The new file: the first half of the VIPs kept with backends 3-7 (two gone,
# two new, weights changed), the second half gone, as many new VIPs.
cc_new_file() {
	local i j v
	for ((i = 1; i <= CC_VIPS / 2; i++)); do
		v="10.201.$((i / 250)).$((i % 250 + 1)):80/tcp"
		echo "xlb vip add $v --check none --sched maglev --table-size 16381"
		for j in 3 4 5 6 7; do
			echo "xlb backend add $v 198.18.$i.$j --weight $((j % 3 + 1))"
		done
	done
	for ((i = 1; i <= CC_VIPS / 2; i++)); do
		v="10.202.$((i / 250)).$((i % 250 + 1)):80/tcp"
		echo "xlb vip add $v --check none --table-size 16381"
		for j in 1 2 3 4 5; do
			echo "xlb backend add $v 198.19.$i.$j"
		done
	done
	echo "# end of xlb configuration"
}

# xlb in the balancer's namespace with the repair off (reading only).
cc_raw() {
	in_ns lb env XLB_TEST_NO_REPAIR=1 timeout 30 "$XLB" -i "$P-lb" "$@"
}

# The state as "SAVE-LINES-SORTED" + mapcheck, without repairing anything.
cc_state() {
	cc_raw save 2>/dev/null | grep -v '^#' | sort
	echo "--- maps"
	"$XLB_TOOLS/mapcheck" "/sys/fs/bpf/xlb/$P-lb"
}

# old, new or neither: the state compared with the two references.
cc_classify() {
	local s
	s=$(cc_state)
	if [ "$s" = "$CC_OLD" ]; then echo old
	elif [ "$s" = "$CC_NEW" ]; then echo new
	else echo neither
	fi
}

# A restore in the background; $! is xlb itself (nsenter execs it), so signals reach it.
cc_bg_restore() {
	nsenter --net="/run/netns/$P-lb" "$XLB" -i "$P-lb" restore "$1" >/dev/null 2>&1 &
}

cc_restore() {
	xlb_lb restore "$1" >/dev/null 2>&1 || fail "restore of $1 failed"
}

# ms since the epoch
cc_ms() {
	date +%s%3N
}

test_commit_crash_kill_leaves_old_or_new() {
	local old new t0 dur i d pid raw fixed errs n_neither=0 n_old=0 n_new=0 log="" sig
	[ -x "$XLB_TOOLS/mapcheck" ] || fail "$XLB_TOOLS/mapcheck not built (make)"
	topo_setup 1 1
	old=$TMP/old.conf
	new=$TMP/new.conf
	cc_old_file >"$old"
	cc_new_file >"$new"

	cc_restore "$old"
	CC_OLD=$(cc_state)
	t0=$(cc_ms)
	cc_restore "$new"
	dur=$(($(cc_ms) - t0))
	CC_NEW=$(cc_state)
	echo "restore old -> new took ${dur}ms; $(echo "$CC_NEW" | grep -c '^vip') VIPs after"
	! echo "$CC_OLD$CC_NEW" | grep -q ERROR || fail "a clean restore left errors: $(echo "$CC_OLD$CC_NEW" | grep ERROR | head -3)"
	[ "$CC_OLD" != "$CC_NEW" ] || fail "the two configurations look the same"

	for ((i = 1; i <= CC_KILLS; i++)); do
		cc_restore "$old"
		assert_eq "state before kill $i" old "$(cc_classify)"
		d=$((dur * i * i / ((CC_KILLS + 1) * (CC_KILLS + 1))))
		cc_bg_restore "$new"
		pid=$!
		sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		raw=$(cc_classify)
		errs=$("$XLB_TOOLS/mapcheck" "/sys/fs/bpf/xlb/$P-lb" | grep -c ERROR || true)
		xlb_lb list --json >/dev/null 2>"$TMP/repair.err" || fail "list after kill $i: $(cat "$TMP/repair.err")"
		fixed=$(cc_classify)
		log+="kill $i at ${d}ms: left $raw ($errs mapcheck errors), after a command $fixed$(grep -q interrupted "$TMP/repair.err" && echo ' (repaired)' || true)"$'\n'
		[ "$raw" = neither ] && n_neither=$((n_neither + 1))
		[ "$fixed" = old ] && n_old=$((n_old + 1))
		[ "$fixed" = new ] && n_new=$((n_new + 1))
		if [ "$fixed" = neither ]; then
			echo "$log"
			echo "$CC_NEW" >"$TMP/new.state"
			cc_state >"$TMP/now.state"
			diff "$TMP/new.state" "$TMP/now.state" | head -20
			fail "kill $i at ${d}ms: the maps hold neither the old nor the new configuration after a command"
		fi
	done
	echo -n "$log"
	echo "$CC_KILLS kills: $n_old old, $n_new new after a command; $n_neither left neither before it (control)"
	[ "$n_neither" -ge 1 ] || fail "control: no kill point left a half-done commit (kills too early or too late?)"

	# The agent repairs too: a kill mid-commit, then the agent starts.
	cc_restore "$old"
	cc_bg_restore "$new"
	pid=$!
	sleep "$(printf '%d.%03d' $((dur / 2000)) $((dur / 2 % 1000)))"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	raw=$(cc_classify)
	bg lb "$TMP/agent.log" "$XLB" -i "$P-lb" agent --metrics 127.0.0.1:9811
	wait_for 10 "the agent's repair" bash -c "grep -q interrupted '$TMP/agent.log'" ||
		[ "$raw" != neither ] || fail "agent: no repair: $(cat "$TMP/agent.log")"
	fixed=$(cc_classify)
	echo "kill before the agent starts: left $raw, after the agent started $fixed"
	[ "$fixed" != neither ] || fail "the agent left neither configuration"
	kill -TERM "$BG_PID"
	wait "$BG_PID" 2>/dev/null || true

	# Journal lost: the repair keeps the VIPs the maps hold, rebuilt, orphans cleared.
	cc_restore "$old"
	cc_bg_restore "$new"
	pid=$!
	sleep "$(printf '%d.%03d' $((dur / 2000)) $((dur / 2 % 1000)))"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	rm -f "/run/xlb/$P-lb.commit"
	raw=$("$XLB_TOOLS/mapcheck" "/sys/fs/bpf/xlb/$P-lb" | grep -c ERROR || true)
	xlb_lb list --json >/dev/null 2>"$TMP/repair.err"
	grep -q "no journal" "$TMP/repair.err" || fail "no-journal repair: $(cat "$TMP/repair.err")"
	fixed=$("$XLB_TOOLS/mapcheck" "/sys/fs/bpf/xlb/$P-lb" | grep -c ERROR || true)
	echo "journal lost: $raw error lines left by the kill, $fixed after the repair ($(cc_classify))"
	assert_eq "mapcheck errors after a repair without journal" 0 "$fixed"

	# SIGINT and SIGTERM during a commit wait for it: the new configuration, always.
	for ((i = 1; i <= CC_SIGS; i++)); do
		cc_restore "$old"
		sig=INT
		[ $((i % 2)) = 0 ] && sig=TERM
		d=$((dur * (i + 1) / (CC_SIGS + 2)))
		cc_bg_restore "$new"
		pid=$!
		sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
		kill -"$sig" "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		raw=$(cc_classify)
		echo "SIG$sig at ${d}ms: $raw (no command run since)"
		[ "$raw" != neither ] || fail "SIG$sig at ${d}ms left a half-done commit"
	done
}
