# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# `xlb save`, `detach`, `attach`, `restore` gives back the same configuration
# and sends the same flow to the same backend (the table depends only on the
# configuration, and detach forgets every tracked flow).

FLOW_PORT_BASE=41000
FLOWS=24

# Prints "SPORT=BACKEND" for FLOWS fixed flows of PROTO to ADDR PORT from c1.
flow_map() {
	local proto=$1 addr=$2 port=$3 flag=() i out
	[ "$proto" = udp ] && flag=(-u)
	for ((i = 0; i < FLOWS; i++)); do
		out=$(names c1 "${flag[@]}" -s $((FLOW_PORT_BASE + i)) -n 1 -T 5 "$addr" "$port") ||
			fail "$proto flow from port $((FLOW_PORT_BASE + i)): no answer: $out"
		echo -n "$((FLOW_PORT_BASE + i))=${out%% *} "
	done
}

test_save_detach_attach_restore_same_config_and_flows() {
	local conf before after tcp1 udp1 tcp2 udp2 i

	topo_setup 4 1
	xlb_lb vip add "$VIP4:80/tcp"
	for i in 1 2 3 4; do
		xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 "b$i")" --weight "$i"
	done
	xlb_lb backend drain "$VIP4:80/tcp" "$(topo_addr4 b4)"
	xlb_lb vip add "[$VIP6]:80/udp" --table-size 1021
	for i in 1 2 3; do
		xlb_lb backend add "[$VIP6]:80/udp" "$(topo_addr6 "b$i")"
	done
	xlb_lb vip add "${TOPO_VIPS4[1]}:0/tcp" --sched sh
	xlb_lb backend add "${TOPO_VIPS4[1]}:0/tcp" "$(topo_addr6 b2)" --weight 7

	before=$(list_config)
	tcp1=$(flow_map tcp "$VIP4" 80)
	udp1=$(flow_map udp "$VIP6" 80)
	echo "tcp flows: $tcp1"
	echo "udp flows: $udp1"
	conf=$TMP/xlb.conf
	xlb_lb save >"$conf"
	echo "saved: $(wc -l <"$conf") lines"
	# One xlb command per line (comments allowed).
	if grep -v '^#' "$conf" | grep -v '^xlb ' | grep -q .; then
		fail "save: expected only \"xlb ...\" lines, got: $(grep -v '^#' "$conf" | grep -v '^xlb ')"
	fi
	grep -q "^xlb backend drain $VIP4:80/tcp $(topo_addr4 b4)\$" "$conf" ||
		fail "save: expected the drain of b4, got: $(cat "$conf")"

	xlb_lb detach "$P-lb"
	[ ! -e "/sys/fs/bpf/xlb/$P-lb" ] || fail "pins of $P-lb left after detach: $(ls "/sys/fs/bpf/xlb/$P-lb")"
	xlb_lb attach "$P-lb"
	xlb_lb restore "$conf"
	after=$(list_config)
	[ "$before" = "$after" ] || fail "configuration after restore: expected $before, got $after"
	tcp2=$(flow_map tcp "$VIP4" 80)
	udp2=$(flow_map udp "$VIP6" 80)
	assert_eq "tcp flow -> backend after restore" "$tcp1" "$tcp2"
	assert_eq "udp flow -> backend after restore" "$udp1" "$udp2"

	# The same from standard input.
	xlb_lb detach "$P-lb"
	xlb_lb attach "$P-lb"
	xlb_lb restore - <"$conf"
	after=$(list_config)
	[ "$before" = "$after" ] || fail "configuration after restore -: expected $before, got $after"
	assert_eq "tcp flow -> backend after restore -" "$tcp1" "$(flow_map tcp "$VIP4" 80)"
}

# A truncated file is the whole configuration minus what it lost: restoring
# it would delete that. save ends every file with a marker, and restore
# refuses a file without it, one that cannot be read to its end, or a
# command after the marker; --check validates without changing anything.
test_restore_refuses_truncated_unreadable_or_overlong_files() {
	local conf cut before err rc i out cutat
	topo_setup 3 1
	conf=$TMP/xlb.conf
	cut=$TMP/cut.conf
	xlb_lb vip add "$VIP4:80/tcp"
	for i in 1 2 3; do
		xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 "b$i")"
	done
	xlb_lb save >"$conf"
	assert_eq "last line of a saved file" "# end of xlb configuration" "$(tail -n 1 "$conf")"
	before=$(list_json)

	# The control: the file as saved, minus its last backend line, is a valid
	# configuration that restore would apply (it would delete b3)...
	grep -v "$(topo_addr4 b3)" "$conf" >"$cut"
	out=$(xlb_lb restore --check "$cut") || fail "restore --check of the cut file with its marker"
	echo "$out"
	[[ "$out" == *"ok, 1 VIPs and 2 backends"* ]] || fail "restore --check: expected 1 VIP and 2 backends, got: $out"
	assert_eq "list after restore --check" "$before" "$(list_json)"
	# ... so a file cut anywhere before its marker must be refused.
	for cutat in 1 2 3 4; do
		head -n "$cutat" "$conf" >"$cut"
		rc=0
		err=$(xlb_lb restore "$cut" 2>&1 >/dev/null) || rc=$?
		echo "cut after $cutat lines: exit $rc: $err"
		assert_eq "exit of a file cut after $cutat lines" 1 "$rc"
		[[ "$err" == *"does not end with"* ]] || fail "cut file: expected it to name the end marker, got: $err"
		assert_eq "list after a refused restore" "$before" "$(list_json)"
	done
	# Cut in the middle of a line.
	head -c "$(($(wc -c <"$conf") - 40))" "$conf" >"$cut"
	rc=0
	xlb_lb restore "$cut" 2>/dev/null || rc=$?
	assert_eq "exit of a file cut mid-line" 1 "$rc"
	assert_eq "list after a refused restore" "$before" "$(list_json)"
	# A read error is not an end of file (a directory reads as EISDIR).
	rc=0
	err=$(xlb_lb restore "$TMP" 2>&1 >/dev/null) || rc=$?
	echo "directory: exit $rc: $err"
	assert_eq "exit of an unreadable file" 1 "$rc"
	[[ "$err" == *"cannot read"* ]] || fail "unreadable file: expected \"cannot read\", got: $err"
	# A command after the marker.
	{ cat "$conf"; echo "xlb backend del $VIP4:80/tcp $(topo_addr4 b1)"; } >"$cut"
	rc=0
	err=$(xlb_lb restore "$cut" 2>&1 >/dev/null) || rc=$?
	assert_eq "exit of a file with a command after its marker" 2 "$rc"
	[[ "$err" == *"after the end marker"* ]] || fail "expected \"after the end marker\", got: $err"
	assert_eq "list after a refused restore" "$before" "$(list_json)"
	# The whole file restores.
	xlb_lb restore "$conf" || fail "restore of the saved file"
	assert_eq "list after restoring the saved file" "$before" "$(list_json)"
}
