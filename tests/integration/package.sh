# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The Debian package, built from this tree with the standard tools
# (dpkg-buildpackage, debhelper) in a scratch copy, so that nothing, not even
# the ../xlb_*.deb the tools write beside the tree, is left behind. It is
# unpacked with dpkg -x into a scratch root (the machine's dpkg database is not
# touched) and the installed binary must answer --help and --version, hold the
# man page, completion and units that make install writes, and balance: it
# attaches to a topology's balancer and decaps on its backend (topo_setup with
# XLB set to it), and a flow to a VIP is answered.

# Seconds the package build may take: it compiles the BPF programs and the
# CLI once (about 15 s on an idle 2-core machine).
PKG_BUILD_TIMEOUT=300

test_package_build_install_attach() {
	local d src root deb start secs want got status_before status_after
	command -v dpkg-buildpackage >/dev/null || skip "no dpkg-buildpackage (Debian package dpkg-dev)"
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces, XDP)"
	trap lib_cleanup EXIT
	d=$(scratch_dir) || fail "no scratch directory"
	SCRATCH_DIRS+=("$d")
	src=$d/src/xlb
	root=$d/root
	mkdir -p "$src" "$root"
	status_before=$(git status --porcelain 2>/dev/null || true)
	tar -C "$LIB_TOP" --exclude=./build --exclude='./build.*' --exclude=./.git -cf - . |
		tar -C "$src" -xf - || fail "cannot copy the tree to $src"

	start=$SECONDS
	# Not the suite's make: its jobserver and level mean nothing to this build.
	if ! (cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
		DEB_BUILD_OPTIONS="nocheck noautodbgsym parallel=2" \
		timeout "$PKG_BUILD_TIMEOUT" dpkg-buildpackage -us -uc -b >"$d/build.log" 2>&1); then
		tail -20 "$d/build.log" >&2
		fail "dpkg-buildpackage -us -uc -b failed (log above; scripts/deps.sh installs what it needs)"
	fi
	secs=$((SECONDS - start))
	echo "dpkg-buildpackage: ${secs}s"
	deb=$(echo "$d"/src/xlb_*.deb)
	[ -f "$deb" ] || fail "no ../xlb_*.deb after the build: $(ls "$d/src")"
	echo "built ${deb##*/}: $(dpkg-deb -f "$deb" Depends)"

	assert_eq "package version" "$(cat "$LIB_TOP/VERSION")" "$(dpkg-deb -f "$deb" Version)"
	assert_eq "Recommends" "bird2" "$(dpkg-deb -f "$deb" Recommends)"
	got=$(dpkg-deb -f "$deb" Depends)
	for want in libbpf1 libxdp1 libc6; do
		[[ "$got" == *"$want"* ]] || fail "Depends: expected $want (from the libraries xlb links), got: $got"
	done

	dpkg -x "$deb" "$root"
	XLB=$root/usr/sbin/xlb
	[ -x "$XLB" ] || fail "no /usr/sbin/xlb in the package: $(dpkg-deb -c "$deb")"
	"$XLB" --help | grep -q "^usage: xlb " || fail "installed xlb --help: expected a usage line"
	assert_eq "installed xlb --version" "xlb $(cat "$LIB_TOP/VERSION")" "$("$XLB" --version)"
	zcat "$root/usr/share/man/man8/xlb.8.gz" | cmp -s - "$LIB_TOP/docs/xlb.8" ||
		fail "packaged man page differs from docs/xlb.8"
	cmp -s "$root/usr/share/bash-completion/completions/xlb" "$LIB_TOP/scripts/xlb.bash-completion" ||
		fail "packaged completion differs from scripts/xlb.bash-completion"
	for u in xlb-agent@.service xlb-restore@.service; do
		grep -q "^ExecStart=/usr/sbin/xlb " "$root/lib/systemd/system/$u" ||
			fail "packaged $u: expected ExecStart=/usr/sbin/xlb ..., got: $(grep ^ExecStart "$root/lib/systemd/system/$u")"
	done
	[ -d "$root/etc/xlb" ] || fail "packaged /etc/xlb missing"

	# The installed binary on the data path: attach, decap, one answered flow.
	topo_setup 1 1
	xlb_lb vip add "$VIP4:80/tcp"
	xlb_lb backend add "$VIP4:80/tcp" "$(topo_addr4 b1)"
	vip_ready c1 "$VIP4" 80
	got=$(names c1 -n 5 -T 5 "$VIP4" 80)
	assert_eq "flows answered by b1 through the packaged xlb" 5 "$(count_of "$got" b1)"
	# ... and counted by the balancer (the flows went through XDP, not around it).
	got=$(xlb_lb stats --json | jq '.vips[0].backends[0].new_flows')
	assert_range "new flows of b1 counted by the packaged xlb" 6 1000 "$got"

	status_after=$(git status --porcelain 2>/dev/null || true)
	assert_eq "the tree after the package build (git status)" "$status_before" "$status_after"
	echo "package test: build ${secs}s, total $((SECONDS - start))s"
}
