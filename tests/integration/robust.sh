# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# A VIP packet the balancer cannot balance is dropped, never passed: the
# balancer's kernel does not own the VIP and routes it back to the router,
# which sends it to the balancer again, until its TTL runs out. Here c1 is
# that router (the balancer's default route; the VIP prefix routed to the
# balancer, as on every client). The control is an address of the VIP
# prefix that no VIP uses: passed, it loops, and c1 forwards it again and
# again; to a VIP address on a port without a VIP, or to a VIP whose
# backend does not answer ARP (NO_NEIGH), nothing is forwarded.

# IPv4 datagrams c1 forwarded so far.
c1_forwarded() {
	in_ns c1 awk '/^Ip: [0-9]/ { print $7 }' /proc/net/snmp
}

reason_of() {
	xlb_lb stats --json | jq ".reasons.$1"
}

# True once c1 has forwarded at least $1 datagrams.
c1_forwarded_at_least() {
	[ "$(c1_forwarded)" -ge "$1" ]
}

reason_above() {
	[ "$(reason_of "$1")" -gt "$2" ]
}

send_udp() {
	in_ns c2 bash -c "echo loop > /dev/udp/$1/$2"
}

test_vip_packet_dropped_not_looped() {
	local vip="$VIP4:80/udp" other=10.200.100.9 fw before drops
	topo_setup 1 2
	xlb_lb vip add "$vip"
	xlb_lb backend add "$vip" "$(topo_addr4 b1)"
	in_ns c1 sysctl -qw net.ipv4.ip_forward=1
	in_ns lb ip route add default via "$(topo_addr4 c1)"

	# A VIP address, a port without a VIP: dropped at the balancer, counted.
	fw=$(c1_forwarded)
	drops=$(reason_of drop_vip_port)
	send_udp "$VIP4" 9999
	wait_for 5 "drop_vip_port counted" reason_above drop_vip_port "$drops"
	before=$(c1_forwarded)
	echo "VIP address, no VIP on the port: c1 forwarded $((before - fw)) times"
	assert_eq "datagrams c1 forwarded for the VIP address" "$fw" "$before"

	# A backend nobody answers ARP for: NO_NEIGH, dropped (passing it resolves nothing).
	xlb_lb vip add "${TOPO_VIPS4[1]}:80/udp"
	xlb_lb backend add "${TOPO_VIPS4[1]}:80/udp" 10.200.0.199 2>/dev/null
	drops=$(reason_of drop_no_neigh)
	send_udp "${TOPO_VIPS4[1]}" 80
	wait_for 5 "drop_no_neigh counted" reason_above drop_no_neigh "$drops"
	assert_eq "datagrams c1 forwarded for the unresolved backend" "$before" "$(c1_forwarded)"

	# The control: an address no VIP uses is the kernel's, which routes it round.
	send_udp "$other" 9999
	wait_for 5 "the control's loop through c1" c1_forwarded_at_least $((before + 10))
	echo "not a VIP address (passed): c1 forwarded $(($(c1_forwarded) - before)) times"
}
