# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Backup backends (xlb backend add VIP ADDR --backup, backend set --backup|--primary)
# with the agent deciding DOWN. The primary's probes are made to fail by a
# firewall rule on it that drops the balancer's probes alone (as in
# down_policy.sh), so its server lives on while the agent sees it dead.
#   - while the primary is up no new flow reaches the backup (the control);
#     once the agent takes it DOWN new connections reach the backup within the
#     check's time; back UP, new connections go to the primary again while a
#     stream opened on the backup stays intact.
#   - the CLI: roles in list and save, restore keeps them, bad input refused.

# shellcheck source=tests/streams.sh
source "$LIB_TOP/tests/streams.sh"

BK_INTERVAL_MS=300
BK_FALL=2
BK_RISE=1
BK_CHECK=(--check tcp --interval "${BK_INTERVAL_MS}ms" --timeout 200ms --fall "$BK_FALL" --rise "$BK_RISE")
BK_METRICS=127.0.0.1:9813
# The switch is due within fall (or rise) intervals, one commit, and a second of slack.
BK_SWITCH_S=$(((BK_FALL * BK_INTERVAL_MS + 999) / 1000 + 1))

bk_agent_start() {
	BK_AGENT_LOG=$TMP/agent.log
	bg lb "$BK_AGENT_LOG" "$XLB" -i "$P-lb" agent --metrics "$BK_METRICS"
	wait_for 5 "agent metrics endpoint" bk_scrape
}

bk_scrape() {
	in_ns lb curl -sf --max-time 2 "http://$BK_METRICS/metrics"
}

# bk_block ROLE / bk_unblock ROLE: drop / pass the balancer's probes to port 80.
bk_block() {
	in_ns "$1" nft -f - <<-EOF
	table inet xlbbk {
		chain in {
			type filter hook input priority 0;
			ip saddr $(topo_addr4 lb) tcp dport 80 drop
		}
	}
	EOF
}

bk_unblock() {
	in_ns "$1" nft delete table inet xlbbk
}

bk_vip_field() {
	list_json | jq -r --arg v "$1" ".vips[] | select(.vip == \$v) | .$2"
}

bk_on_backup_is() {
	[ "$(bk_vip_field "$1" on_backup)" = "$2" ]
}

bk_health_is() {
	[ "$(list_json | jq -r --arg v "$1" --arg a "$2" \
		'.vips[] | select(.vip == $v) | .backends[] | select(.addr == $a) | .health')" = "$3" ]
}

# bk_all_to NAME: 20 new TCP flows from c1, every one answered by NAME.
bk_all_to() {
	local out
	out=$(names c1 -n 20 -w 300 -T 5 "$VIP4" 80) || return 1
	[ "$(count_of "$out" "$1")" = 20 ]
}

bk_metric() {
	bk_scrape | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

test_backup_takes_over_when_the_primary_is_down_and_hands_back() {
	local vip="$VIP4:80/tcp" t0 took sb
	topo_setup 2 1
	xlb_lb vip add "$vip" "${BK_CHECK[@]}"
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	xlb_lb backend add "$vip" "$(topo_addr4 b2)" --backup
	bk_agent_start
	wait_for 5 "b1 up" bk_health_is "$vip" "$(topo_addr4 b1)" up
	wait_for 5 "b2 up" bk_health_is "$vip" "$(topo_addr4 b2)" up
	# The control: the backup is up and takes nothing while the primary can.
	assert_eq "on_backup with b1 up" false "$(bk_vip_field "$vip" on_backup)"
	bk_all_to b1 || fail "with b1 up: new flows did not all go to b1"
	assert_eq "xlb_vip_on_backup with b1 up" 0 "$(bk_metric "xlb_vip_on_backup{vip=\"$vip\"}")"

	t0=$SECONDS
	bk_block b1
	wait_for "$BK_SWITCH_S" "VIP on its backups" bk_on_backup_is "$vip" true
	wait_for 3 "new flows on the backup b2" bk_all_to b2
	took=$((SECONDS - t0))
	echo "b1 DOWN: new flows on the backup b2 after ${took}s (bound $((BK_SWITCH_S + 3))s)"
	echo "--- xlb list"
	xlb_lb list
	grep -q "no usable primary ($(topo_addr4 b1) down): running on its backups" "$BK_AGENT_LOG" ||
		fail "agent log: no switch to the backups: $(cat "$BK_AGENT_LOG")"
	assert_eq "xlb_vip_on_backup on backups" 1 "$(bk_metric "xlb_vip_on_backup{vip=\"$vip\"}")"
	assert_eq "xlb_backend_backup of b2" 1 \
		"$(bk_metric "xlb_backend_backup{vip=\"$vip\",backend=\"$(topo_addr4 b2)\"}")"

	# A stream on the backup, then the primary back.
	streams_start 1 "$VIP4" 80
	sb=$(streams_backend 0)
	assert_eq "the stream's backend while on backups" b2 "$sb"
	bk_unblock b1
	wait_for "$BK_SWITCH_S" "VIP back on the primaries" bk_on_backup_is "$vip" false
	wait_for 3 "new flows on b1 again" bk_all_to b1
	grep -q "primary $(topo_addr4 b1) usable again: back on the primaries" "$BK_AGENT_LOG" ||
		fail "agent log: no switch back: $(cat "$BK_AGENT_LOG")"
	sleep 1	# the stream runs on after the switch (a duration, not a condition)
	assert_eq "streams ended before their stop" 0 "$(streams_ended)"
	streams_stop
	streams_report
	assert_eq "the stream on the backup through the switch back" 1 "$(streams_intact)"
	echo "--- agent log"
	cat "$BK_AGENT_LOG"
}

bk_save() {
	xlb_lb save
}

bk_role() {
	list_json | jq -r --arg v "$1" --arg a "$2" \
		'.vips[] | select(.vip == $v) | .backends[] | select(.addr == $a) | .role'
}

test_backup_cli_roles_save_restore_and_bad_input() {
	local vip="$VIP4:80/tcp" a1 a2 conf before after
	topo_setup 2 1
	a1=$(topo_addr4 b1)
	a2=$(topo_addr4 b2)
	xlb_lb vip add "$vip" --check none
	xlb_lb backend add "$vip" "$a1" --weight 2
	xlb_lb backend add "$vip" "$a2" --backup --weight 3
	assert_eq "role of b1" primary "$(bk_role "$vip" "$a1")"
	assert_eq "role of b2" backup "$(bk_role "$vip" "$a2")"
	assert_eq "on_backup, b1 usable" false "$(bk_vip_field "$vip" on_backup)"
	xlb_lb list | grep -q "$a2 .* backup " || fail "list text: no backup role: $(xlb_lb list)"
	# Drained, the primary is unusable: the VIP runs on the backup (no agent needed).
	xlb_lb backend drain "$vip" "$a1"
	assert_eq "on_backup, b1 drained" true "$(bk_vip_field "$vip" on_backup)"
	xlb_lb list | grep -q "on backups" || fail "list text: no \"on backups\": $(xlb_lb list)"
	bk_all_to b2 || fail "b1 drained: new flows did not all go to the backup b2"
	xlb_lb backend undrain "$vip" "$a1"
	bk_all_to b1 || fail "b1 undrained: new flows did not all go to b1"

	expect_rejected 1 "192.0.2.99" bk_save xlb_lb backend add 192.0.2.99:80/tcp "$a2" --backup
	expect_rejected 2 "--backup" bk_save xlb_lb backend add "$vip" 10.0.0.77 --backup --backup
	expect_rejected 2 "--primary" bk_save xlb_lb backend add "$vip" 10.0.0.77 --backup --primary
	expect_rejected 2 "--primary" bk_save xlb_lb backend set "$vip" "$a1" --primary --backup
	expect_rejected 1 "10.0.0.77" bk_save xlb_lb backend set "$vip" 10.0.0.77 --backup
	expect_rejected 2 "--backup" bk_save xlb_lb backend set "$vip" "$a1"
	expect_rejected 2 "--sideways" bk_save xlb_lb backend set "$vip" "$a1" --sideways

	conf=$TMP/xlb.conf
	xlb_lb save >"$conf"
	grep -qx "xlb backend add $vip $a2 --weight 3 --backup" "$conf" || fail "save: $(cat "$conf")"
	grep -qx "xlb backend add $vip $a1 --weight 2" "$conf" || fail "save: $(cat "$conf")"
	before=$(list_config)
	xlb_lb backend set "$vip" "$a2" --primary
	xlb_lb backend set "$vip" "$a1" --backup
	assert_eq "role of b2 after set --primary" primary "$(bk_role "$vip" "$a2")"
	assert_eq "role of b1 after set --backup" backup "$(bk_role "$vip" "$a1")"
	bk_all_to b2 || fail "roles swapped: new flows did not all go to b2"
	xlb_lb restore "$conf"
	after=$(list_config)
	[ "$before" = "$after" ] || fail "after restore: expected $before, got $after"
	assert_eq "role of b2 after restore" backup "$(bk_role "$vip" "$a2")"
}
