# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# xlb's pins live in /sys/fs/bpf/xlb, and /sys/fs/bpf is often world-writable
# (1777): a directory another user made first, or one others may write, would
# let them own or swap the maps xlb trusts, so it is refused. Where no bpffs is
# mounted, attach mounts one (mode 0700) and makes the directory 0700. Each
# case runs in a private mount namespace with a bpffs of its own, so the
# machine's pins are never touched.

# in_bpffs SETUP: run the shell code SETUP in the balancer's network namespace
# and a private mount namespace whose /sys/fs/bpf is a fresh, empty bpffs
# ("none": no bpffs at all). $X is xlb, $I a spare interface.
in_bpffs() {
	local fs=$1 code=$2
	in_ns lb env X="$XLB" I="$P-t0" FS="$fs" unshare --mount --propagation private sh -c '
		umount /sys/fs/bpf 2>/dev/null
		[ "$FS" = none ] || mount -t bpf bpf /sys/fs/bpf || exit 99
		'"$code"
}

bpffs_setup() {
	topo_setup 1 1
	in_ns lb ip link add "$P-t0" type veth peer name "$P-t1"
	in_ns lb ip link set "$P-t0" up
	in_ns lb ip link set "$P-t1" up
	in_ns lb ip addr add 10.201.0.1/24 dev "$P-t0"
}

# expect_refused SETUP: after SETUP, attach and list fail with one line naming 0700.
expect_refused() {
	local out rc=0
	out=$(in_bpffs fresh "$1"'
		"$X" attach "$I" 2>&1; echo "attach=$?"
		"$X" -i "$I" list 2>&1; echo "list=$?"') || rc=$?
	echo "$out"
	assert_eq "shell status" 0 "$rc"
	echo "$out" | grep -q "^attach=1$" || fail "attach: expected exit 1"
	echo "$out" | grep -q "^list=1$" || fail "list: expected exit 1"
	[ "$(echo "$out" | grep -c "must be a directory of root's with mode 0700")" = 2 ] ||
		fail "expected both to name the 0700 rule"
}

test_pin_directory_of_another_user_is_refused() {
	bpffs_setup
	expect_refused 'mkdir -m 0700 /sys/fs/bpf/xlb && chown 65534 /sys/fs/bpf/xlb;'
}

test_pin_directory_others_may_write_is_refused() {
	bpffs_setup
	expect_refused 'mkdir -m 0777 /sys/fs/bpf/xlb;'
	expect_refused 'mkdir -m 0755 /sys/fs/bpf/xlb;'
	expect_refused 'ln -s /tmp /sys/fs/bpf/xlb;'
}

# The control: root's own 0700 directory is accepted (list then fails only
# because nothing is attached).
test_pin_directory_of_root_0700_is_accepted() {
	local out
	bpffs_setup
	out=$(in_bpffs fresh 'mkdir -m 0700 /sys/fs/bpf/xlb; "$X" -i "$I" list 2>&1; echo "list=$?"')
	echo "$out"
	echo "$out" | grep -q "is not attached" || fail "expected \"not attached\", got: $out"
}

test_attach_without_bpffs_mounts_a_private_one() {
	local out
	bpffs_setup
	out=$(in_bpffs none '"$X" attach "$I" >/dev/null 2>&1; echo "attach=$?"
		stat -c "%a %U %n" /sys/fs/bpf /sys/fs/bpf/xlb
		"$X" detach "$I" >/dev/null 2>&1; echo "detach=$?"')
	echo "$out"
	echo "$out" | grep -q "^attach=0$" || fail "attach without bpffs failed"
	echo "$out" | grep -Eq "^1?700 root /sys/fs/bpf$" || fail "mounted bpffs: expected mode (1)700"
	echo "$out" | grep -q "^700 root /sys/fs/bpf/xlb$" || fail "pin directory: expected mode 700"
	echo "$out" | grep -q "^detach=0$" || fail "detach failed"
}
