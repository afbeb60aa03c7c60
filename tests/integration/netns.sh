# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Pins are machine-wide, interface names are per network namespace: an
# instance records its namespace, and xlb in another namespace with an
# interface of the same name neither uses its maps nor, when its own attach
# fails or it detaches, removes them.

# A veth pair NAME/NAME-p in namespace ROLE, up.
twin_iface() {
	in_ns "$1" ip link add "$2" type veth peer name "$2p"
	in_ns "$1" ip link set "$2" up
	in_ns "$1" ip link set "$2p" up
	in_ns "$1" ip addr add 10.201.0.1/24 dev "$2"
}

test_same_interface_name_in_two_namespaces_never_shares_pins() {
	local ifc="$P-x" vip="10.201.9.1:80/tcp" err rc before
	topo_setup 1 2
	twin_iface c1 "$ifc"
	twin_iface c2 "$ifc"
	in_ns c1 "$XLB" attach "$ifc" >/dev/null || fail "attach in c1"
	in_ns c1 "$XLB" -i "$ifc" vip add "$vip"
	before=$(in_ns c1 "$XLB" -i "$ifc" list --json)

	rc=0
	err=$(in_ns c2 "$XLB" attach "$ifc" 2>&1 >/dev/null) || rc=$?
	echo "attach in c2: exit $rc: $err"
	assert_eq "attach of the same name in c2" 1 "$rc"
	[[ "$err" == *"another network namespace"* ]] || fail "expected \"another network namespace\", got: $err"
	rc=0
	err=$(in_ns c2 "$XLB" -i "$ifc" vip add 10.201.9.2:80/tcp 2>&1 >/dev/null) || rc=$?
	echo "vip add in c2: exit $rc: $err"
	assert_eq "a change from c2" 1 "$rc"
	rc=0
	err=$(in_ns c2 "$XLB" detach "$ifc" 2>&1 >/dev/null) || rc=$?
	echo "detach in c2: exit $rc: $err"
	assert_eq "detach from c2" 1 "$rc"
	# Without -i, c2 sees no instance of its own.
	rc=0
	in_ns c2 "$XLB" list >/dev/null 2>&1 || rc=$?
	assert_eq "list in c2 without -i" 1 "$rc"

	[ -e "/sys/fs/bpf/xlb/$ifc/vips" ] || fail "c1's pins are gone"
	assert_eq "c1's configuration" "$before" "$(in_ns c1 "$XLB" -i "$ifc" list --json)"
	in_ns c1 "$XLB" detach "$ifc" >/dev/null || fail "detach in c1"
	[ ! -e "/sys/fs/bpf/xlb/$ifc" ] || fail "c1's pins left after its detach"
}
