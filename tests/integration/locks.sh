# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The instance lock and the agent's pid file are root's alone (0600): a user
# who could open them could flock them and freeze every change and every
# agent. A change waits a bounded time for a lock held by someone else, then
# fails with one line naming the holder's pid.

lock_file() {
	echo "/run/xlb/$P-lb.lock"
}

test_lock_file_is_private_even_if_it_was_not() {
	local f
	topo_setup 1 1
	f=$(lock_file)
	xlb_lb vip add "$VIP4:80/tcp"
	assert_eq "mode of $f" 600 "$(stat -c %a "$f")"
	# An older xlb left it world-readable: the next change repairs that.
	chmod 0644 "$f"
	# The control: while it is 0644, an unprivileged user can lock it.
	in_ns lb setpriv --reuid=65534 --regid=65534 --clear-groups flock -n "$f" true ||
		fail "control: nobody could not lock a 0644 $f"
	xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 b1)"
	assert_eq "mode of $f after a change" 600 "$(stat -c %a "$f")"
	if in_ns lb setpriv --reuid=65534 --regid=65534 --clear-groups flock -n "$f" true 2>/dev/null; then
		fail "nobody could lock $f"
	fi
}

test_agent_pid_file_is_private() {
	local f="/run/xlb/$P-lb.agent"
	topo_setup 1 1
	# Empty: a file left by an earlier agent of a recycled prefix holds a pid
	# already, and the wait below would not wait for this agent.
	: >"$f" && chmod 0644 "$f"
	bg lb "$TMP/agent.log" "$XLB" agent -i "$P-lb" --metrics 127.0.0.1:0
	wait_for 5 "agent pid in $f" grep -q "[0-9]" "$f"
	assert_eq "mode of $f" 600 "$(stat -c %a "$f")"
}

test_change_gives_up_on_a_held_lock_naming_the_holder() {
	local f err rc=0 t0 took holder
	topo_setup 1 1
	f=$(lock_file)
	xlb_lb vip add "$VIP4:80/tcp"
	bg lb "$TMP/flock.out" flock -o "$f" sleep 60
	holder=$BG_PID
	wait_for 5 "the lock held by pid $holder" grep -q " $holder " /proc/locks
	t0=$(date +%s%N)
	err=$(xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 b1)" 2>&1 >/dev/null) || rc=$?
	took=$((($(date +%s%N) - t0) / 1000000))
	echo "exit $rc after ${took} ms: $err"
	assert_eq "exit status" 1 "$rc"
	assert_eq "stderr lines" 1 "$(printf '%s\n' "$err" | wc -l)"
	[[ "$err" == *"pid $holder"* ]] || fail "message: expected it to name pid $holder, got \"$err\""
	assert_range "ms waited" 9000 20000 "$took"
	assert_eq "backends after the failed change" 0 \
		"$(xlb_lb list --json | jq '[.vips[].backends[]] | length')"
	kill "$holder"
	wait "$holder" 2>/dev/null || true
	xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 b1)" || fail "change after the lock was released"
}
