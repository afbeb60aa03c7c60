# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The systemd units' commands, run as systemd would run them at boot (this
# machine's PID 1 is not systemd, so the units cannot be started for real;
# tests/integration/docs.sh checks their syntax with systemd-analyze verify):
# after a detach (the state after a reboot: bpffs empty), the ExecStart lines
# of xlb-restore@IFACE, from the unit make install writes, with %i the
# balancer's interface and the options of its IFACE.env, bring back the saved
# configuration and the attach options; then xlb-agent@IFACE's ExecStart runs
# the agent of that instance. /etc/xlb is the test's scratch copy.

# Runs the ExecStart (or, with KEY, another Exec) lines of UNIT for instance
# IFACE in the balancer's namespace: %i is IFACE, /etc/xlb/ is ETC, $VARS come
# from ETC/IFACE.env, split on whitespace as systemd does.
unit_exec() {
	local unit=$1 iface=$2 etc=$3 key=${4:-ExecStart} line
	grep "^$key=" "$unit" | while read -r line; do
		line=${line#"$key="}
		line=${line//%i/$iface}
		line=${line//\/etc\/xlb\//$etc/}
		echo "$key: $line"
		# shellcheck disable=SC1090,SC2086
		(set -a; [ -f "$etc/$iface.env" ] && source "$etc/$iface.env"; eval "set -- $line"
		 in_ns lb timeout "$TOPO_XLB_TIMEOUT" "$@") || exit 1
	done
}

test_units_restore_at_boot_then_agent() {
	local d etc before after got sub agent rc
	topo_setup 2 1
	d=$(scratch_dir) || fail "no scratch directory"
	SCRATCH_DIRS+=("$d")
	etc=$d/etc
	mkdir -p "$etc"
	make -s --no-print-directory install PREFIX="$d/usr" UNITDIR="$d/units" >/dev/null
	xlb_lb detach "$P-lb"
	# The attach options the saved file cannot hold, and a configuration.
	echo 'XLB_ATTACH_ARGS="--encap gue --gue-port 6081"' >"$etc/$P-lb.env"
	echo "XLB_AGENT_ARGS=\"--metrics 127.0.0.1:9811\"" >>"$etc/$P-lb.env"
	xlb_lb attach "$P-lb" --encap gue --gue-port 6081
	xlb_lb vip add "$VIP4:80/tcp" --sched sh
	xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 b1)" --weight 3
	xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 b2)"
	xlb_lb backend drain "$VIP4:80/tcp" "$(topo_addr4 b2)"
	xlb_lb save >"$etc/$P-lb.conf"
	before=$(list_config)

	# A reboot: nothing attached, nothing pinned.
	xlb_lb detach "$P-lb"
	[ ! -e "/sys/fs/bpf/xlb/$P-lb" ] || fail "pins of $P-lb left after detach"
	grep -qx "ConditionPathExists=/etc/xlb/%i.conf" "$d/units/xlb-restore@.service" ||
		fail "xlb-restore@.service: expected ConditionPathExists=/etc/xlb/%i.conf"
	unit_exec "$d/units/xlb-restore@.service" "$P-lb" "$etc" || fail "xlb-restore@$P-lb: ExecStart failed"
	after=$(list_config)
	assert_eq "configuration after the restore unit" "$before" "$after"
	got=$(list_json | jq -r '"\(.encap) \(.gue_port)"')
	assert_eq "attach options from $P-lb.env" "gue 6081" "$got"
	# Reload: the file applied again changes nothing.
	unit_exec "$d/units/xlb-restore@.service" "$P-lb" "$etc" ExecReload || fail "xlb-restore@$P-lb: ExecReload failed"
	assert_eq "configuration after reload" "$before" "$(list_config)"

	# The agent's unit: its ExecStart runs the agent of this instance, with
	# the --metrics of the env file; SIGTERM (systemctl stop) ends it with 0,
	# which Restart=on-failure does not restart.
	(unit_exec "$d/units/xlb-agent@.service" "$P-lb" "$etc" >"$d/agent.log" 2>&1) &
	sub=$!
	BG_PIDS+=("$sub")
	wait_for 10 "the agent of xlb-agent@$P-lb started" grep -q "started on $P-lb" "$d/agent.log"
	agent=$(sed -n 's/.*started on [^,]*, pid \([0-9]*\).*/\1/p' "$d/agent.log")
	[ -n "$agent" ] || fail "no agent pid in: $(cat "$d/agent.log")"
	BG_PIDS+=("$agent")
	wait_for 10 "the agent's metrics on 127.0.0.1:9811" in_ns lb curl -sf --max-time 2 http://127.0.0.1:9811/metrics
	kill -TERM "$agent"
	rc=0
	wait "$sub" || rc=$?
	assert_eq "exit status of the agent's ExecStart after SIGTERM ($(tail -1 "$d/agent.log"))" 0 "$rc"
}
