# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The configuration side of NAT mode (docs/xlb.8: vip --forward, backend
# ADDR:PORT): what list and list --json show, that save and restore give
# back the same NAT VIPs and remapped backends, that every bad combination
# (NAT without conntrack, a remapped port on an encap or all-ports VIP,
# another family behind a NAT VIP, going back to encap with remapped
# backends, a port that is not the backend's) is one line and an exit status
# and changes nothing, and that the agent probes a NAT backend on its own
# port. No NAT packet is sent: these tests hold whatever the data plane does.

NC_CHECK=(--check tcp --interval 500ms --timeout 300ms --rise 2 --fall 2)
NC_NOPORT=9000		# nothing listens there on the backends (topo.sh: 80 and 8080)

# The configuration every test starts from:
#   N4  IPv4 NAT VIP: b1 on 8080, b2 on the VIP's port
#   N6  IPv6 NAT VIP: b1 on 8443
#   E   IPv4 encap VIP: b1
#   A   IPv4 encap VIP of every port: b2
nat_setup() {
	topo_setup 2 1
	N4="$VIP4:80/tcp"
	N6="[$VIP6]:80/tcp"
	E="${TOPO_VIPS4[1]}:80/tcp"
	A="${TOPO_VIPS4[2]}:0/tcp"
	B1=$(topo_addr4 b1)
	B2=$(topo_addr4 b2)
	B16=$(topo_addr6 b1)
	B26=$(topo_addr6 b2)
	xlb_lb vip add "$N4" --forward nat
	xlb_lb backend add "$N4" "$B1:8080"
	xlb_lb backend add "$N4" "$B2" --weight 3
	xlb_lb vip add "$N6" --sched wrr --forward nat
	xlb_lb backend add "$N6" "[$B16]:8443"
	xlb_lb vip add "$E"
	xlb_lb backend add "$E" "$B1"
	xlb_lb vip add "$A"
	xlb_lb backend add "$A" "$B2"
}

nat_bad() {
	local want=$1 needle=$2
	shift 2
	expect_rejected "$want" "$needle" list_config xlb_lb "$@"
}

# jq over `xlb list --json`: the VIP $v's object as .
vip_json() {
	list_json | jq -c --arg v "$1" ".vips[] | select(.vip == \$v) | $2"
}

test_nat_cli_list_shows_forward_and_backend_ports() {
	local text
	nat_setup
	assert_eq "forward of $N4" '"nat"' "$(vip_json "$N4" .forward)"
	assert_eq "forward of $N6" '"nat"' "$(vip_json "$N6" .forward)"
	assert_eq "forward of $E" '"encap"' "$(vip_json "$E" .forward)"
	assert_eq "forward of $A" '"encap"' "$(vip_json "$A" .forward)"
	assert_eq "backends of $N4 (addr, port)" "[[\"$B1\",8080],[\"$B2\",null]]" \
		"$(vip_json "$N4" '[.backends[] | [.addr, .port]] | sort')"
	assert_eq "backend of $N4 on the VIP's port: no port key" '[false]' \
		"$(vip_json "$N4" "[.backends[] | select(.addr == \"$B2\") | has(\"port\")]")"
	assert_eq "backend of $N6" "[[\"$B16\",8443]]" "$(vip_json "$N6" '[.backends[] | [.addr, .port]]')"
	assert_eq "backend of $E has no port key" '[false]' "$(vip_json "$E" '[.backends[] | has("port")]')"

	text=$(xlb_lb list)
	echo "$text"
	grep -q "^  $N4 .*  forward nat" <<<"$text" || fail "xlb list: expected \"forward nat\" on $N4's line"
	grep -q "^  \[$VIP6\]:80/tcp .*  forward nat" <<<"$text" ||
		fail "xlb list: expected \"forward nat\" on $N6's line"
	if grep -E "^  ($E|$A) " <<<"$text" | grep -q forward; then
		fail "xlb list: an encap VIP's line names its forwarding: $(grep -E "^  ($E|$A) " <<<"$text")"
	fi
	grep -q "^    $B1:8080 " <<<"$text" || fail "xlb list: expected backend line \"$B1:8080\""
	grep -q "^    \[$B16\]:8443 " <<<"$text" || fail "xlb list: expected backend line \"[$B16]:8443\""
	grep -q "^    $B2 " <<<"$text" || fail "xlb list: expected backend line \"$B2\" (no port)"

	# A port equal to the VIP's is no remap: accepted for encap, stored as none.
	xlb_lb backend add "$E" "$B2:80"
	assert_eq "backends of $E after adding $B2:80" "[[\"$B1\",null],[\"$B2\",null]]" \
		"$(vip_json "$E" '[.backends[] | [.addr, .port]] | sort')"
	# Control: the refusal of a remap on an encap VIP is the forwarding's.
	nat_bad 1 "$(topo_addr4 b3):8080" backend add "$E" "$(topo_addr4 b3):8080"
	xlb_lb vip set "$E" --forward nat
	xlb_lb backend add "$E" "$(topo_addr4 b3):8080"
	assert_eq "port of the remapped backend of $E once NAT" '[8080]' \
		"$(vip_json "$E" "[.backends[] | select(.addr == \"$(topo_addr4 b3)\") | .port]")"
	# And back: encap once no backend is remapped.
	nat_bad 1 "$(topo_addr4 b3):8080" vip set "$E" --forward encap
	xlb_lb backend del "$E" "$(topo_addr4 b3):8080"
	xlb_lb vip set "$E" --forward encap
	assert_eq "forward of $E after going back" '"encap"' "$(vip_json "$E" .forward)"
}

test_nat_cli_rejects_bad_forward_and_port_input() {
	local new="${TOPO_VIPS4[3]}:80/tcp"
	nat_setup
	# --forward itself.
	nat_bad 2 "dnat" vip add "$new" --forward dnat
	nat_bad 2 "--forward" vip add "$new" --forward
	nat_bad 2 "NAT" vip set "$E" --forward NAT
	# NAT needs conntrack, in either order and either verb.
	nat_bad 2 "--conntrack off" vip add "$new" --forward nat --conntrack off
	nat_bad 2 "--conntrack off" vip add "$new" --conntrack off --sched sh --forward nat
	nat_bad 2 "--conntrack off" vip set "$N4" --conntrack off --sched maglev
	# Back to encap while a backend is remapped; NAT with another family behind.
	nat_bad 1 "$B1:8080" vip set "$N4" --forward encap
	xlb_lb backend add "$E" "$B26"
	nat_bad 1 "$B26" vip set "$E" --forward nat
	# Malformed ports and brackets.
	nat_bad 2 "$B2:0" backend add "$N4" "$B2:0"
	nat_bad 2 "$B2:65536" backend add "$N4" "$B2:65536"
	nat_bad 2 "$B2:" backend add "$N4" "$B2:"
	nat_bad 2 "$B2:x" backend add "$N4" "$B2:x"
	nat_bad 2 "[$B2]:8080" backend add "$N4" "[$B2]:8080"
	nat_bad 2 "[$B26]8080" backend add "$N6" "[$B26]8080"
	nat_bad 2 "[$B26:8080" backend add "$N6" "[$B26:8080"
	nat_bad 2 "[$B26]:99999" backend add "$N6" "[$B26]:99999"
	# A remap the VIP cannot do, a family NAT cannot change, one backend per address.
	nat_bad 1 "$B2:8080" backend add "$E" "$B2:8080"
	nat_bad 1 "$B1:8080" backend add "$A" "$B1:8080"
	nat_bad 1 "$B1:80" backend add "$A" "$B1:80"
	nat_bad 1 "$B26" backend add "$N4" "$B26"
	nat_bad 1 "[$B26]:8080" backend add "$N4" "[$B26]:8080"
	nat_bad 1 "$B2" backend add "$N6" "$B2"
	nat_bad 1 "$B1:8081" backend add "$N4" "$B1:8081"
	nat_bad 1 "$B1" backend add "$N4" "$B1"
	# The other verbs: a port given must be the backend's.
	nat_bad 1 "$B1:8081" backend drain "$N4" "$B1:8081"
	nat_bad 1 "$B1:80" backend del "$N4" "$B1:80"
	nat_bad 1 "$B2:8080" backend weight "$N4" "$B2:8080" 2
	nat_bad 1 "[$B16]:80" backend set "$N6" "[$B16]:80" --backup
	nat_bad 1 "$B2:80" backend undrain "$A" "$B2:80"
	nat_bad 2 "$B1:0" backend drain "$N4" "$B1:0"
	# restore: the file's VIP line decides, and a remap under encap fails the whole file.
	xlb_lb save | sed "s|^\(xlb vip add $N4 .*\) --forward nat|\1|" >"$TMP/encap.conf"
	grep -q "^xlb backend add $N4 $B1:8080 " "$TMP/encap.conf" ||
		fail "save: expected the remapped backend line, got: $(cat "$TMP/encap.conf")"
	nat_bad 1 "$B1:8080" restore "$TMP/encap.conf"
	xlb_lb save | sed "s|^\(xlb vip add $N4 .*\)|\1 --conntrack off|" >"$TMP/noct.conf"
	nat_bad 2 "--conntrack off" restore "$TMP/noct.conf"

	# Control: the same verbs with the backend's own port, or none, are accepted.
	xlb_lb backend drain "$N4" "$B1:8080"
	xlb_lb backend undrain "$N4" "$B1"
	xlb_lb backend weight "$N4" "$B2:80" 2
	xlb_lb backend set "$N6" "[$B16]:8443" --backup
	xlb_lb backend undrain "$A" "$B2"
	assert_eq "weight of $B2 in $N4 set by $B2:80" '[2]' \
		"$(vip_json "$N4" "[.backends[] | select(.addr == \"$B2\") | .weight]")"
	assert_eq "role of [$B16]:8443 in $N6" '["backup"]' "$(vip_json "$N6" '[.backends[].role]')"
}

# save writes --forward nat for NAT VIPs only and every remapped backend as
# ADDR:PORT; restore gives the same configuration back on a fresh instance,
# and over a live one that differs in exactly those settings.
test_nat_cli_save_restore_round_trip() {
	local conf before after
	nat_setup
	xlb_lb backend drain "$N4" "$B1:8080"
	before=$(list_config)
	conf=$TMP/xlb.conf
	xlb_lb save >"$conf"
	cat "$conf"
	grep -q "^xlb vip add $N4 .* --forward nat" "$conf" || fail "save: expected --forward nat for $N4"
	grep -F "xlb vip add $N6 " "$conf" | grep -q -- "--forward nat" ||
		fail "save: expected --forward nat for $N6"
	if grep -E "^xlb vip add ($E|$A) " "$conf" | grep -q -- --forward; then
		fail "save: an encap VIP's line has --forward: $(grep -E "^xlb vip add ($E|$A) " "$conf")"
	fi
	grep -qx "xlb backend add $N4 $B1:8080 --weight 1" "$conf" || fail "save: expected $B1:8080 in $N4"
	grep -qx "xlb backend drain $N4 $B1:8080" "$conf" || fail "save: expected the drain of $B1:8080"
	grep -qx "xlb backend add $N4 $B2 --weight 3" "$conf" || fail "save: expected $B2 without a port"
	grep -qxF "xlb backend add $N6 [$B16]:8443 --weight 1" "$conf" ||
		fail "save: expected [$B16]:8443 in $N6"

	xlb_lb detach "$P-lb"
	xlb_lb attach "$P-lb"
	assert_eq "VIPs after detach and attach" 0 "$(list_json | jq '.vips | length')"
	xlb_lb restore "$conf"
	after=$(list_config)
	[ "$before" = "$after" ] || fail "configuration after restore: expected $before, got $after"

	# Over a live configuration that differs in the port, the forwarding and the drain.
	xlb_lb backend del "$N4" "$B1:8080"
	xlb_lb backend add "$N4" "$B1:9090"
	xlb_lb vip set "$E" --forward nat
	xlb_lb backend add "$E" "$B2:8080"
	xlb_lb backend del "$N6" "[$B16]:8443"
	xlb_lb vip set "$N6" --forward encap
	[ "$(list_config)" != "$before" ] || fail "control: the live changes changed nothing"
	xlb_lb restore "$conf"
	after=$(list_config)
	[ "$before" = "$after" ] || fail "configuration after restore over a live one: expected $before, got $after"
}

# The agent probes a NAT backend on its own port: on a VIP whose port nothing
# listens on, the backend remapped to 8080 (where its server listens) comes
# up, and the one on the VIP's port (the control) goes down.
test_nat_cli_health_probes_the_backend_port() {
	local v="$VIP4:$NC_NOPORT/tcp" log
	nat_setup
	xlb_lb vip add "$v" --forward nat "${NC_CHECK[@]}"
	xlb_lb backend add "$v" "$B1:8080"
	xlb_lb backend add "$v" "$B2"
	log=$TMP/agent.log
	bg lb "$log" "$XLB" -i "$P-lb" agent
	wait_for 10 "$B1:8080 up" nc_health_is "$v" "$B1" up
	wait_for 10 "$B2 (port $NC_NOPORT) down" nc_health_is "$v" "$B2" down
	xlb_lb list
}

nc_health_is() {
	[ "$(vip_json "$1" ".backends[] | select(.addr == \"$2\") | .health")" = "\"$3\"" ]
}

# COMPREPLY of scripts/xlb.bash-completion for WORDS... in the balancer's namespace.
nc_complete() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	in_ns lb bash --norc --noprofile -c 'source "$1"; shift; COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _xlb; printf "%s\n" "${COMPREPLY[@]}" | sort' \
		_ "$LIB_TOP/scripts/xlb.bash-completion" "$XLB" -i "$P-lb" "$@" | xargs
}

# The completion offers backends as the verbs take them (ADDR:PORT when
# remapped), bare addresses where only an address goes, and --forward's values.
test_nat_cli_completion_offers_ports_and_forward() {
	nat_setup
	assert_eq "xlb backend drain $N4 <TAB>" "$B1:8080 $B2" "$(nc_complete backend drain "$N4" "")"
	assert_eq "xlb backend del $N6 <TAB>" "[$B16]:8443" "$(nc_complete backend del "$N6" "")"
	assert_eq "xlb conntrack flush $N4 --backend <TAB>" "$B1 $B2" \
		"$(nc_complete conntrack flush "$N4" --backend "")"
	assert_eq "xlb conntrack flush $N6 --backend <TAB>" "$B16" \
		"$(nc_complete conntrack flush "$N6" --backend "")"
	assert_eq "xlb vip set $E --forward <TAB>" "encap nat" "$(nc_complete vip set "$E" --forward "")"
	# What it offers is accepted as typed.
	xlb_lb backend drain "$N4" "$(nc_complete backend drain "$N4" "$B1")"
	assert_eq "drained by the completed $B1:8080" '[true]' \
		"$(vip_json "$N4" "[.backends[] | select(.addr == \"$B1\") | .drained]")"
}
