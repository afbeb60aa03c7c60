# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# HTTPS health checks with the agent and real TLS servers: `openssl s_server
# -WWW` in the backends' namespaces, with certificates `openssl` makes in the
# test's temp dir (a test CA and a certificate from it, the same expired, a
# self-signed one). A backend goes down and up with its server, on a wrong
# status and on a wrong body; untrusted and expired certificates are refused
# unless --check-insecure. And the options themselves: they round-trip
# through add, set, list and save/restore, and bad values are refused.

HH_PORT=8443
HH_NAME=b.xlb.test
# A TLS handshake with openssl s_server can take a few hundred ms on a busy
# machine: the timeout leaves room, so a refusal is never taken for a timeout.
HH_CHECK=(--interval 1s --timeout 900ms --fall 2 --rise 2)
HH_METRICS=127.0.0.1:9810

# The certificates in $TMP: ca.pem, good.pem/expired.pem (srv.key), self.pem (self.key).
hh_certs() {
	local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
	command -v openssl >/dev/null || skip "needs openssl"
	(
		cd "$TMP" || exit 1
		printf 'subjectAltName=DNS:%s\n' "$HH_NAME" >ext
		openssl req -x509 "${key[@]}" -keyout ca.key -out ca.pem -days 2 -subj /CN=xlb-test-ca &&
		openssl req "${key[@]}" -keyout srv.key -out srv.csr -subj "/CN=$HH_NAME" &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out good.pem -days 2 -extfile ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
			-out expired.pem -days -1 -extfile ext &&
		openssl req -x509 "${key[@]}" -keyout self.key -out self.pem -days 2 \
			-subj "/CN=$HH_NAME" -addext "subjectAltName=DNS:$HH_NAME"
	) >"$TMP/openssl.log" 2>&1 || fail "openssl: $(cat "$TMP/openssl.log")"
}

# hh_tls ROLE CERT KEY: an HTTPS server on HH_PORT in ROLE serving /health ("ok ROLE");
# sets HH_PID (bash execs openssl: the pid is the server's).
hh_tls() {
	local role=$1 dir=$TMP/www-$1
	mkdir -p "$dir"
	echo "ok $role" >"$dir/health"
	bg "$role" "$TMP/tls-$role.log" bash -c "cd $dir && exec openssl s_server -quiet -4 \
		-accept $HH_PORT -cert $TMP/$2 -key $TMP/$3 -WWW"
	HH_PID=$BG_PID
}

hh_scrape_ok() {
	in_ns lb curl -sf --max-time 2 "http://$HH_METRICS/metrics" >/dev/null
}

hh_agent_start() {
	HH_LOG=$TMP/agent.log
	bg lb "$HH_LOG" "$XLB" -i "$P-lb" agent
	wait_for 5 "agent metrics endpoint" hh_scrape_ok
}

# hh_health VIP ROLE STATE: `xlb list` shows that health for ROLE's backend of VIP.
hh_health() {
	[ "$(list_json | jq -r --arg v "$1" --arg a "$(topo_addr4 "$2")" \
		'.vips[] | select(.vip == $v) | .backends[] | select(.addr == $a) | .health')" = "$3" ]
}

# hh_wait VIP STATE ROLE...: every ROLE's backend reaches STATE within 5 s.
hh_wait() {
	local vip=$1 state=$2 role
	shift 2
	for role in "$@"; do
		wait_for 5 "$role $state" hh_health "$vip" "$role" "$state"
	done
}

# hh_logged ROLE WHY: the agent logged ROLE's backend down for WHY.
hh_logged() {
	poll_for 2 x grep -qF "backend $(topo_addr4 "$1") of $HH_VIP: down ($2;" "$HH_LOG" ||
		fail "agent log: expected $1 down for \"$2\", got: $(cat "$HH_LOG")"
}

# Up with a trusted certificate, down and up with its server, down on a
# status out of the range and on a body without the string, up again when
# the settings match; the other backend stays up while only b1 is stopped.
test_https_backend_up_down_wrong_status_wrong_body() {
	local i
	HH_VIP="$VIP4:$HH_PORT/tcp"
	topo_setup 2 1
	hh_certs
	hh_tls b1 good.pem srv.key
	local b1=$HH_PID
	hh_tls b2 good.pem srv.key
	xlb_lb vip add "$HH_VIP" --check https:/health --check-host "$HH_NAME" \
		--check-ca "$TMP/ca.pem" --expect-body ok "${HH_CHECK[@]}"
	for i in 1 2; do
		xlb_lb backend add "$HH_VIP" "$(topo_addr4 "b$i")"
	done
	hh_agent_start
	hh_wait "$HH_VIP" up b1 b2

	kill "$b1"
	hh_wait "$HH_VIP" down b1
	hh_logged b1 "connect refused"
	hh_health "$HH_VIP" b2 up || fail "b2: expected up while only b1 is stopped"
	hh_tls b1 good.pem srv.key
	hh_wait "$HH_VIP" up b1

	xlb_lb vip set "$HH_VIP" --expect-status 300-399
	hh_wait "$HH_VIP" down b1 b2
	hh_logged b2 "http 200"
	xlb_lb vip set "$HH_VIP" --expect-status 200-200
	hh_wait "$HH_VIP" up b1 b2

	xlb_lb vip set "$HH_VIP" --expect-body no-such-text
	hh_wait "$HH_VIP" down b1 b2
	hh_logged b1 "body mismatch"
	xlb_lb vip set "$HH_VIP" --expect-body "ok"
	hh_wait "$HH_VIP" up b1 b2
	echo "--- agent log"
	cat "$HH_LOG"
}

# b1 self-signed, b2 expired (from the trusted test CA), b3 good (the
# control): with the test CA trusted only b3 is up; --check-insecure takes
# b1 and b2 up; a --check without the CA (the system's trust store, which
# knows neither) takes all three down again, b3 included.
test_https_untrusted_and_expired_refused_unless_insecure() {
	HH_VIP="$VIP4:$HH_PORT/tcp"
	topo_setup 3 1
	hh_certs
	hh_tls b1 self.pem self.key
	hh_tls b2 expired.pem srv.key
	hh_tls b3 good.pem srv.key
	xlb_lb vip add "$HH_VIP" --check https:/health --check-host "$HH_NAME" \
		--check-ca "$TMP/ca.pem" "${HH_CHECK[@]}"
	for i in 1 2 3; do
		xlb_lb backend add "$HH_VIP" "$(topo_addr4 "b$i")"
	done
	hh_agent_start
	hh_wait "$HH_VIP" up b3
	hh_wait "$HH_VIP" down b1 b2
	hh_logged b1 "tls: self-signed certificate"
	hh_logged b2 "tls: certificate has expired"

	xlb_lb vip set "$HH_VIP" --check-insecure
	hh_wait "$HH_VIP" up b1 b2 b3
	[ "$(list_json | jq '.vips[0].check.insecure')" = true ] || fail "list: expected insecure"

	xlb_lb vip set "$HH_VIP" --check https:/health --check-host "$HH_NAME"
	hh_wait "$HH_VIP" down b1 b2 b3
	hh_logged b3 "tls: unable to get local issuer certificate"
	[ "$(list_json | jq '.vips[0].check.insecure')" = false ] ||
		fail "list: expected --check to reset --check-insecure"
	echo "--- agent log"
	cat "$HH_LOG"
}

# hh_bad STATUS NEEDLE ARGS: refused with one "xlb: " line naming NEEDLE, nothing changed.
hh_bad() {
	local want=$1 needle=$2 rc=0 err after
	shift 2
	err=$(xlb_lb "$@" 2>&1 >/dev/null) || rc=$?
	echo "xlb $*: exit $rc: $err"
	assert_eq "xlb $*: exit status" "$want" "$rc"
	assert_eq "xlb $*: stderr lines" 1 "$(printf '%s\n' "$err" | wc -l)"
	[[ "$err" == "xlb: "*"$needle"* ]] || fail "xlb $*: expected \"xlb: ...$needle...\", got \"$err\""
	after=$(list_json)
	[ "$after" = "$HH_BASE" ] || fail "xlb $*: list --json changed: expected $HH_BASE, got $after"
}

# The settings as `xlb list --json` shows them, add/set/save/restore keep
# them, --check resets them, and every bad value is refused with exit 2.
test_https_check_options_round_trip_and_bad_input_refused() {
	local v="$VIP4:443/tcp" w="$VIP4:80/tcp" got conf before long
	topo_setup 1 1
	hh_certs
	xlb_lb vip add "$v" --check https:/healthz --check-host www.xlb.test --check-ca "$TMP/ca.pem" \
		--expect-status 200-204 --expect-body alive --check-insecure
	xlb_lb vip add "$w" --check http:/ping
	got=$(list_json | jq -c --arg v "$v" '.vips[] | select(.vip == $v) | .check |
		[.type, .path, .status_lo, .status_hi, .host, .expect_body, .ca, .insecure]')
	assert_eq "list --json check of $v" \
		"[\"https\",\"/healthz\",200,204,\"www.xlb.test\",\"alive\",\"$TMP/ca.pem\",true]" "$got"
	got=$(list_json | jq -c --arg v "$w" '.vips[] | select(.vip == $v) | .check |
		[.type, .path, .status_lo, .status_hi, .host, .expect_body, .ca, .insecure]')
	assert_eq "list --json check of $w (defaults)" '["http","/ping",200,399,null,null,null,null]' "$got"
	xlb_lb list | grep -F "check https:/healthz" | grep -F "status 200-204 host www.xlb.test body alive" |
		grep -qF "insecure" || fail "list: expected the https settings, got: $(xlb_lb list)"

	# set changes one setting and keeps the others.
	xlb_lb vip set "$v" --expect-status 200-299
	got=$(list_json | jq -c --arg v "$v" '.vips[] | select(.vip == $v) | .check | [.status_hi, .host]')
	assert_eq "after set --expect-status" '[299,"www.xlb.test"]' "$got"

	# save, delete, restore: the same configuration.
	before=$(list_config)
	conf=$TMP/saved.conf
	xlb_lb save >"$conf"
	grep -F -- "--check https:/healthz" "$conf" | grep -F -- "--expect-status 200-299 --check-host www.xlb.test" |
		grep -F -- "--expect-body alive --check-ca $TMP/ca.pem --check-insecure" >/dev/null ||
		fail "save: expected the https settings, got: $(cat "$conf")"
	grep -F -- "--check http:/ping --" "$conf" | grep -qF -- "--expect-status 200-399" ||
		fail "save: expected the http defaults, got: $(cat "$conf")"
	xlb_lb vip del "$v"
	xlb_lb vip del "$w"
	xlb_lb restore "$conf"
	got=$(list_config)
	[ "$got" = "$before" ] || fail "restore: expected $before, got $got"

	# --check starts the check's settings afresh.
	xlb_lb vip set "$v" --check https:/other
	got=$(list_json | jq -c --arg v "$v" '.vips[] | select(.vip == $v) | .check |
		[.path, .status_lo, .status_hi, .host, .expect_body, .ca, .insecure]')
	assert_eq "after set --check" '["/other",200,399,null,null,null,false]' "$got"

	HH_BASE=$(list_json)
	long=$(printf 'x%.0s' $(seq 64))
	hh_bad 2 "--expect-status \"500-200\"" vip set "$v" --expect-status 500-200
	hh_bad 2 "--expect-status \"200\"" vip set "$v" --expect-status 200
	hh_bad 2 "--expect-status \"99-200\"" vip set "$v" --expect-status 99-200
	hh_bad 2 "--expect-status \"200-600\"" vip set "$v" --expect-status 200-600
	hh_bad 2 "--expect-body \"$long\": longer than 63" vip set "$v" --expect-body "$long"
	hh_bad 2 "--expect-body \"a b\"" vip set "$v" --expect-body "a b"
	hh_bad 2 "--check-host \"bad host\"" vip set "$v" --check-host "bad host"
	hh_bad 2 "--check-host \"x/y\"" vip set "$v" --check-host x/y
	hh_bad 2 "--check-ca \"ca.pem\": must be an absolute path" vip set "$v" --check-ca ca.pem
	hh_bad 2 "--check-ca \"$TMP/none.pem\": No such file" vip set "$v" --check-ca "$TMP/none.pem"
	hh_bad 2 "--check-host \"x.test\": only for http: and https:" vip set "$w" --check tcp --check-host x.test
	hh_bad 2 "--expect-status \"200-299\": only for http: and https:" vip add "$VIP4:81/tcp" --expect-status 200-299
	hh_bad 2 "--expect-body \"ok\": only for http: and https:" vip add "$VIP4:81/tcp" --check none --expect-body ok
	hh_bad 2 "--check-ca \"$TMP/ca.pem\": only for https:" vip set "$w" --check-ca "$TMP/ca.pem"
	hh_bad 2 "--check-insecure: only for https:" vip set "$w" --check-insecure
	hh_bad 2 "--check \"https:nopath\"" vip set "$v" --check https:nopath
	hh_bad 2 "--check \"https:\"" vip set "$v" --check https:
	hh_bad 2 "--expect-status needs a value" vip set "$v" --expect-status
}
