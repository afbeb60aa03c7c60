#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The one test runner. Runs the packet-level unit programs (build/*_test: each prints
# "PASS name" / "FAIL name: why" / "SKIP name: why" lines and ends with
# "N passed, N failed"), then every test_* function of tests/integration/*.sh, each in
# a subshell with its own cleanup trap (exit 0 pass, 77 skipped, anything else fail).
# Usage: tests/run.sh [unit|integration] [NAME-FILTER]
set -u
cd "$(dirname "$0")/.."
top=$PWD
what=${1:-all}
filter=${2:-}
passed=0 failed=0 skipped=0
failures=()

# Unit programs run inside a namespace of their own, so the interfaces, routes and
# neighbours a packet test sets up (for the FIB path) touch nothing of the host.
unit_ns=xlbu-$$
cleanup_unit_ns() { ip netns del "$unit_ns" 2>/dev/null || true; }
trap cleanup_unit_ns EXIT

run_unit() {
	local bin out line
	ip netns add "$unit_ns" || { failed=$((failed + 1)); failures+=("cannot create namespace $unit_ns"); return; }
	ip -n "$unit_ns" link set lo up
	for bin in build/*_test; do
		[ -x "$bin" ] || continue
		echo "== $bin"
		# nsenter, not ip netns exec: that remounts /sys and hides the host's bpffs.
		out=$(timeout 300 nsenter --net=/run/netns/"$unit_ns" "$bin" ${filter:+"$filter"} 2>&1)
		echo "$out" | grep -v '^PASS ' || true
		line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -1)
		if [ -z "$line" ]; then
			failed=$((failed + 1)); failures+=("$bin: no summary line")
			continue
		fi
		passed=$((passed + $(echo "$line" | awk '{print $1}')))
		failed=$((failed + $(echo "$line" | awk '{print $3}')))
		skipped=$((skipped + $(echo "$out" | grep -c '^SKIP ')))
		while read -r f; do failures+=("$bin: $f"); done < <(echo "$out" | grep '^FAIL ')
	done
	cleanup_unit_ns
}

run_integration() {
	local file fn rc start
	for file in tests/integration/*.sh; do
		[ -f "$file" ] || continue
		for fn in $(bash -c "source tests/lib.sh; source $file; declare -F" | awk '{print $3}' | grep '^test_'); do
			[ -n "$filter" ] && [[ "$fn" != *"$filter"* ]] && continue
			start=$SECONDS
			( cd "$top"; source tests/lib.sh; source "$file"; set -e; "$fn" ) 2>&1 | sed "s/^/    /"
			rc=${PIPESTATUS[0]}
			case $rc in
			0)  passed=$((passed + 1)); echo "PASS $fn ($((SECONDS - start))s)" ;;
			77) skipped=$((skipped + 1)); echo "SKIP $fn" ;;
			*)  failed=$((failed + 1)); failures+=("$fn (exit $rc)"); echo "FAIL $fn ($((SECONDS - start))s)" ;;
			esac
		done
	done
}

[ "$what" = all ] || [ "$what" = unit ] && run_unit
[ "$what" = all ] || [ "$what" = integration ] && run_integration

if [ ${#failures[@]} -gt 0 ]; then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
