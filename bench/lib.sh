# SPDX-License-Identifier: GPL-2.0
# Sourced by the bench scripts: timing and JSON helpers.

# Milliseconds the command took (its output goes to /dev/null); fails with it.
bench_ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >/dev/null || return 1
	t1=$(date +%s%N)
	awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f\n", ns / 1e6 }'
}

# {"med":..,"min":..,"max":..} of the numbers given.
bench_stat() {
	python3 -c 'import sys, statistics as s
v = sorted(float(x) for x in sys.argv[1:])
print("{\"med\":%.4g,\"min\":%.4g,\"max\":%.4g,\"n\":%d}" % (s.median(v), v[0], v[-1], len(v)))' "$@"
}

bench_log() {
	echo "bench: $*" >&2
}
