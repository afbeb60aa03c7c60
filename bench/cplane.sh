# SPDX-License-Identifier: GPL-2.0
# Sourced by bench/run.sh: control-plane times and memory (issue 6, part 4),
# through the real CLI on an instance attached to the bench veth. Writes
# bench/results/cplane.json. Needs bench/netns.sh and bench/lib.sh.
#   maglev      table build times (build/bench/cpbench)
#   backend_add `xlb backend add` on a VIP that has 1,000 backends (whole process)
#   restore     `xlb restore` of 1,000 VIPs x 10 backends, into a fresh instance
#   list        `xlb list --json` with 100,000 tracked flows
#   memory      every pinned map's declared sizes and memlock (bpftool), and
#               one VIP table's

CP_IF=xlbb-b
CP_PIN=/sys/fs/bpf/xlb/$CP_IF
CP_VIP=10.100.0.1:80/tcp

cp_xlb() {
	nsenter --net=/run/netns/"$BENCH_NS" timeout 300 "$XLB" -i "$CP_IF" "$@"
}

cp_attach() {
	cp_xlb attach "$CP_IF" --source 10.200.0.1 --source fd00:200::1 >/dev/null
}

cp_detach() {
	cp_xlb detach "$CP_IF" >/dev/null 2>&1
	rm -rf "$CP_PIN"
}

# One VIP with N backends in 10.128.0.0/16, as a restore file.
cp_file_one_vip() {
	python3 -c 'import sys
n = int(sys.argv[1]); print("xlb vip add 10.100.0.1:80/tcp")
for i in range(n):
	print("xlb backend add 10.100.0.1:80/tcp 10.128.%d.%d" % ((i + 1) >> 8, (i + 1) & 255))
print("# end of xlb configuration")' "$1"
}

# V VIPs 10.100.x.y of B backends each, all backend addresses distinct.
cp_file_many() {
	python3 -c 'import sys
v, b = int(sys.argv[1]), int(sys.argv[2]); n = 0
for i in range(v):
	vip = "10.100.%d.%d:80/tcp" % ((i + 1) >> 8, (i + 1) & 255)
	print("xlb vip add " + vip)
	for j in range(b):
		n += 1
		print("xlb backend add %s 10.%d.%d.%d" % (vip, 128 + (n >> 16), (n >> 8) & 255, n & 255))
print("# end of xlb configuration")' "$1" "$2"
}

cp_memory() {
	local m first=1
	echo "["
	for m in vips tables backends backend_active conntrack config vip_stats backend_stats \
		 reasons vip_config ctl health; do
		[ -e "$CP_PIN/$m" ] || continue
		[ $first = 1 ] || echo ","
		first=0
		bpftool -j map show pinned "$CP_PIN/$m"
	done
	echo "]"
}

# memlock of the one xlb_table map that exists (the instance has one VIP).
cp_table_memlock() {
	bpftool -j map show | python3 -c 'import json, sys
t = [m for m in json.load(sys.stdin) if m.get("name") == "xlb_table"]
print(json.dumps({"count": len(t), "bytes_memlock": t[0]["bytes_memlock"] if t else 0,
                  "max_entries": t[0]["max_entries"] if t else 0}))'
}

bench_cplane() {
	local reps=$1 out=$2 tmp add=() lst=() rst=() r t one mem table flows
	tmp=$(mktemp -d)
	bench_log "control plane: maglev builds"
	"$BENCH_BIN/cpbench" "$reps" >"$tmp/maglev.json" || return 1

	cp_detach
	cp_attach || return 1
	mem=$(cp_memory)
	cp_file_one_vip 1000 >"$tmp/one.conf"
	one=$(bench_ms cp_xlb restore "$tmp/one.conf") || return 1
	table=$(cp_table_memlock)
	bench_log "control plane: backend add at 1,000 backends"
	for r in $(seq 1 "$reps"); do
		t=$(bench_ms cp_xlb backend add "$CP_VIP" 10.129.0.$r) || return 1
		add+=("$t")
		cp_xlb backend del "$CP_VIP" 10.129.0.$r >/dev/null || return 1
	done
	bench_log "control plane: list --json with 100k tracked flows"
	"$BENCH_BIN/cpbench" ctfill "$CP_PIN/conntrack" 100000 0 0 || return 1
	flows=$(cp_xlb conntrack count --json 2>/dev/null || echo '{"count":null}')
	for r in $(seq 1 "$reps"); do
		t=$(bench_ms cp_xlb list --json) || return 1
		lst+=("$t")
	done
	cp_xlb list --json >"$tmp/list.json"
	cp_detach

	bench_log "control plane: restore of 1,000 VIPs x 10 backends"
	cp_file_many 1000 10 >"$tmp/many.conf"
	for r in $(seq 1 "$reps"); do
		cp_attach || return 1
		t=$(bench_ms cp_xlb restore "$tmp/many.conf") || { cp_detach; return 1; }
		rst+=("$t")
		cp_detach
	done

	{
		printf '{"reps":%s,"maglev":%s,' "$reps" "$(cat "$tmp/maglev.json")"
		printf '"restore_1vip_1000be_ms":%s,' "$one"
		printf '"backend_add_1000_ms":%s,' "$(bench_stat "${add[@]}")"
		printf '"list_json_100k_ms":%s,"list_flows":%s,"list_bytes":%s,' \
			"$(bench_stat "${lst[@]}")" "$flows" "$(wc -c <"$tmp/list.json")"
		printf '"restore_1000x10_ms":%s,' "$(bench_stat "${rst[@]}")"
		printf '"table":%s,"maps":%s}\n' "$table" "$mem"
	} >"$out"
	rm -rf "$tmp"
}
