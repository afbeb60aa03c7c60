# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# bpf_fib_lookup routes only for an interface that forwards; on a host as
# Debian ships it (forwarding off) every VIP packet would fail the lookup.
# attach turns forwarding on for its interface and says so in one line.

fwd_off() {
	in_ns lb sysctl -qw "net.ipv4.conf.$P-lb.forwarding=0" "net.ipv6.conf.$P-lb.forwarding=0"
}

fwd_of() {
	in_ns lb cat "/proc/sys/net/$1/conf/$P-lb/forwarding"
}

test_attach_turns_forwarding_on_and_says_so() {
	local vip="$VIP4:80/tcp" out err before after
	topo_setup 2 1
	xlb_lb vip add "$vip"
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	vip_ready c1 "$VIP4" 80
	# The control: with forwarding off, the FIB refuses and nothing is answered.
	fwd_off
	sleep 0.2	# the next-hop cache asks the FIB again after 100 ms
	before=$(xlb_lb stats --json | jq '.reasons.drop_fib_fwd_disabled')
	out=$(names c1 -n 5 -w 200 -T 2 "$VIP4" 80 || true)
	after=$(xlb_lb stats --json | jq '.reasons.drop_fib_fwd_disabled')
	echo "forwarding off: answers: ${out:-none}; drop_fib_fwd_disabled $before -> $after"
	assert_eq "flows answered with forwarding off" 0 "$(count_of "$out" b1)"
	[ "$after" -gt "$before" ] || fail "drop_fib_fwd_disabled did not count the refused packets"

	err=$(xlb_lb attach "$P-lb" 2>&1 >/dev/null) || fail "attach failed: $err"
	echo "attach said: $err"
	assert_eq "attach's lines on stderr" 1 "$(printf '%s\n' "$err" | wc -l)"
	[[ "$err" == *"forwarding on for $P-lb"* ]] || fail "attach did not say it turned forwarding on: $err"
	assert_eq "IPv4 forwarding" 1 "$(fwd_of ipv4)"
	assert_eq "IPv6 forwarding" 1 "$(fwd_of ipv6)"
	vip_ready c1 "$VIP4" 80
	# Already on: nothing to say.
	err=$(xlb_lb attach "$P-lb" 2>&1 >/dev/null)
	assert_eq "attach's stderr with forwarding on" "" "$err"
}
