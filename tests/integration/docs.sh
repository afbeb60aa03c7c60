# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# The man page (docs/xlb.8), the bash completion (scripts/xlb.bash-completion)
# and the help xlb prints never drift apart: every object, verb and option of
# `xlb --help`, `xlb OBJECT --help` and `xlb OBJECT VERB --help` must be in the
# man page (an object's verbs and options in its own section) and be offered
# by the completion. The grammar is read from the help text, not from a list
# kept here, so a new option fails these tests until both know it, and the
# failure names what is missing. Also: the version agrees everywhere, the
# systemd units pass `systemd-analyze verify`, and make install / uninstall
# install and remove exactly their files. No network, no root needed.

MAN_PAGE=docs/xlb.8
COMPLETION=scripts/xlb.bash-completion

# The grammar of xlb's help, one record a line:
#   obj OBJECT / verb OBJECT VERB / opt OBJECT VERB --OPTION
# OBJECT "-" is a global option (before the object on a usage line); VERB "-"
# is an object without verbs, "*" an option of the object's help that no
# usage line ties to a verb. A usage line is one with "xlb " on it: its first
# lowercase word is the object, the word after it (a|b|c) its verbs when it
# has any; a line starting with "[" continues the line before; any other line
# (CHECK: ..., --table-size: ...) speaks of the last object. Parenthesised
# text is left out: it is where the help refers to other commands
# ("(xlb vip --help)", "(..., attach --encap gue)").
help_grammar() {
	local obj verb
	{
		"$XLB" --help
		for obj in $("$XLB" --help | help_parse | awk '$1 == "obj" { print $2 }'); do
			"$XLB" "$obj" --help </dev/null
			for verb in $("$XLB" "$obj" --help </dev/null | help_parse |
					awk -v o="$obj" '$1 == "verb" && $2 == o { print $3 }'); do
				"$XLB" "$obj" "$verb" --help </dev/null 2>/dev/null
			done
		done
	} | help_parse | sort -u
}

help_parse() {
	awk '
	function opts(s, o, v,    m) {
		while (match(s, /--[a-z][a-z0-9-]*/)) {
			m = substr(s, RSTART, RLENGTH)
			sub(/-+$/, "", m)
			n = split(v, vs, "|")
			for (k = 1; k <= n; k++)
				print "opt", o, vs[k], m
			s = substr(s, RSTART + RLENGTH)
		}
	}
	{
		line = $0
		gsub(/\([^)]*\)/, "", line)
		if (match(line, /(^|[ \t])xlb( |$)/)) {
			rest = substr(line, RSTART + RLENGTH)
			n = split(rest, t, /[ \t]+/)
			obj = "-"; verbs = "-"; glob = ""; body = ""
			for (i = 1; i <= n; i++) {
				if (obj == "-" && t[i] ~ /^[a-z][a-z-]*$/) {
					obj = t[i]
					if (t[i + 1] ~ /^[a-z]+(\|[a-z]+)*$/) {
						verbs = t[i + 1]
						i++
					}
					continue
				}
				if (obj == "-")
					glob = glob " " t[i]
				else
					body = body " " t[i]
			}
			opts(glob, "-", "-")
			if (obj != "-") {
				print "obj", obj
				if (verbs != "-") {
					nv = split(verbs, vv, "|")
					for (k = 1; k <= nv; k++)
						print "verb", obj, vv[k]
				}
				opts(body, obj, verbs)
				last_obj = obj; last_verbs = verbs
			} else {
				last_obj = "-"; last_verbs = "-"
			}
		} else if (line ~ /^[ \t]*\[/) {
			opts(line, last_obj, last_verbs)
		} else if (last_obj != "") {
			opts(line, last_obj, last_verbs == "-" ? "-" : "*")
		}
	}'
}

# The man page's text without roff escapes: \- is -, font changes go.
man_text() {
	sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\(em/-/g' "$1"
}

# Lines of the man page's section ".SS OBJECT" (to the next .SS or .SH); with
# OBJECT "-", everything before the first .SS (synopsis, global options).
man_section() {
	man_text "$1" | awk -v o="$2" '
		o == "-" { if (/^\.SS/) exit; print; next }
		/^\.S[SH]/ { on = ($1 == ".SS" && $2 == o); next }
		on'
}

# "xlb OBJECT VERB" of a grammar record, as far as it has them.
where() {
	local w=xlb
	[ "$1" = - ] || w="$w $1"
	[ "$2" = - ] || [ "$2" = "*" ] || w="$w $2"
	echo "$w"
}

has_word() {
	grep -qE -- "(^|[^a-z0-9-])$2([^a-z0-9-]|\$)" <<<"$1"
}

# Prints one "man page: ..." line per object, verb or option of GRAMMAR that
# MANFILE lacks.
man_missing() {
	local grammar=$1 man=$2 kind obj verb opt sec name
	while read -r kind obj verb opt; do
		sec=$(man_section "$man" "$obj")
		case $kind in
		obj) [ -n "$sec" ] || echo "man page: no section \".SS $obj\" for xlb $obj" ;;
		verb) has_word "$sec" "$verb" || echo "man page: verb \"$verb\" not in section $obj" ;;
		opt)
			name=$obj
			[ "$obj" = - ] && name="synopsis or global options"
			has_word "$sec" "$opt" ||
				echo "man page: option $opt ($(where "$obj" "$verb")) not in section $name" ;;
		esac
	done <<<"$grammar"
}

# COMPREPLY of the completion in COMPFILE for the words WORDS... (the last one
# being completed), from a fresh shell as a user's would be.
complete_words() {
	local file=$1
	shift
	# shellcheck disable=SC2016
	bash --norc --noprofile -c 'source "$1"; shift; COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _xlb; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$file" "$XLB" "$@"
}

# Prints one "completion: ..." line per object, verb or option of GRAMMAR
# that COMPFILE does not offer where it belongs.
completion_missing() {
	local grammar=$1 file=$2 kind obj verb opt offered v
	while read -r kind obj verb opt; do
		case $kind in
		obj) grep -qx -- "$obj" <<<"$(complete_words "$file" "")" ||
			echo "completion: object $obj not offered after \"xlb \"" ;;
		verb) grep -qx -- "$verb" <<<"$(complete_words "$file" "$obj" "")" ||
			echo "completion: verb $verb not offered after \"xlb $obj \"" ;;
		opt)
			if [ "$obj" = - ]; then
				offered=$(complete_words "$file" --)
			elif [ "$verb" = - ]; then
				offered=$(complete_words "$file" "$obj" --)
			elif [ "$verb" = "*" ]; then
				offered=$(awk -v o="$obj" '$1 == "verb" && $2 == o { print $3 }' <<<"$grammar" |
					while read -r v; do complete_words "$file" "$obj" "$v" --; done)
			else
				offered=$(complete_words "$file" "$obj" "$verb" --)
			fi
			grep -qx -- "$opt" <<<"$offered" ||
				echo "completion: option $opt not offered after \"$(where "$obj" "$verb") --\"" ;;
		esac
	done <<<"$grammar"
}

# The parse is not empty, and reads what the help says (a control of the parser).
grammar_sane() {
	local g=$1 rec
	for rec in "obj vip" "verb backend drain" "opt vip add --sched" "opt - - --json" \
		   "opt attach - --mode" "opt vip * --check"; do
		grep -qxF -- "$rec" <<<"$g" || fail "help parse: expected \"$rec\" in: $g"
	done
}

test_docs_man_page_covers_help() {
	local g missing bad
	[ -x "$XLB" ] || fail "$XLB not built (make)"
	g=$(help_grammar)
	grammar_sane "$g"
	echo "help: $(grep -c '^obj' <<<"$g") objects, $(grep -c '^verb' <<<"$g") verbs, $(grep -c '^opt' <<<"$g") options"
	missing=$(man_missing "$g" "$MAN_PAGE")
	[ -z "$missing" ] || fail "$MAN_PAGE lacks $(wc -l <<<"$missing") items of xlb's help:
$missing"
	# Control: a page without --weight is caught, and the message names it.
	TMP=$(mktemp -d /tmp/xlb-docs.XXXXXX)
	trap 'rm -rf "$TMP"' EXIT
	bad=$TMP/xlb.8
	sed '/weight/d' "$MAN_PAGE" >"$bad"
	missing=$(man_missing "$g" "$bad")
	echo "control (--weight taken out): $missing"
	grep -q -- "--weight" <<<"$missing" || fail "a man page without --weight passed the check"
}

test_docs_completion_covers_help() {
	local g missing bad
	[ -x "$XLB" ] || fail "$XLB not built (make)"
	g=$(help_grammar)
	grammar_sane "$g"
	missing=$(completion_missing "$g" "$COMPLETION")
	[ -z "$missing" ] || fail "$COMPLETION lacks $(wc -l <<<"$missing") items of xlb's help:
$missing"
	TMP=$(mktemp -d /tmp/xlb-docs.XXXXXX)
	trap 'rm -rf "$TMP"' EXIT
	bad=$TMP/completion
	sed 's/--weight/--wieght/; s/undrain //' "$COMPLETION" >"$bad"
	missing=$(completion_missing "$g" "$bad")
	echo "control (--weight, undrain taken out): $missing"
	grep -q -- "--weight" <<<"$missing" || fail "a completion without --weight passed the check"
	grep -q -- "undrain" <<<"$missing" || fail "a completion without undrain passed the check"
}

# Live values: the completion offers the interfaces of this namespace.
test_docs_completion_values() {
	local out
	out=$(complete_words "$COMPLETION" attach "")
	grep -qx lo <<<"$out" || fail "xlb attach <TAB>: expected lo among the interfaces, got: $out"
	out=$(complete_words "$COMPLETION" vip add 192.0.2.1:80/tcp --sched "")
	assert_eq "xlb vip add VIP --sched <TAB>" "lc lrt maglev sh wrr" "$(sort <<<"$out" | xargs)"
	out=$(complete_words "$COMPLETION" vip add 192.0.2.1:80/tcp --sched sh --t)
	assert_eq "xlb vip add VIP --sched sh --t<TAB>" "--table-size --timeout" "$(sort <<<"$out" | xargs)"
}

test_docs_version_agrees() {
	local v deb bin th
	v=$(cat VERSION)
	[[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "VERSION: expected N.N.N, got \"$v\""
	if command -v dpkg-parsechangelog >/dev/null; then
		deb=$(dpkg-parsechangelog -S Version)
	else
		deb=$(sed -n '1s/^xlb (\([^)]*\)).*/\1/p' debian/changelog)
	fi
	assert_eq "debian/changelog version" "$v" "$deb"
	bin=$("$XLB" --version)
	assert_eq "xlb --version" "xlb $v" "$bin"
	th=$(sed -n 's/^\.TH XLB 8 "[^"]*" "\([^"]*\)".*/\1/p' "$MAN_PAGE")
	assert_eq "$MAN_PAGE .TH version" "xlb $v" "$th"
}

# The units as make install writes them, with xlb's real path: systemd-analyze
# verify checks the syntax, that ExecStart is executable and that the man page
# in Documentation= exists, and must print nothing. A broken copy must not pass.
test_docs_systemd_units_verify() {
	local d out u
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze (Debian package systemd)"
	TMP=$(mktemp -d /tmp/xlb-units.XXXXXX)
	trap 'rm -rf "$TMP"' EXIT
	d=$TMP
	make -s --no-print-directory install PREFIX="$d/usr" UNITDIR="$d/units" >/dev/null
	for u in "$d"/units/*.service; do
		out=$(MANPATH=$d/usr/share/man systemd-analyze verify "$u" 2>&1) ||
			fail "systemd-analyze verify ${u##*/}: $out"
		[ -z "$out" ] || fail "systemd-analyze verify ${u##*/}: expected no output, got: $out"
		echo "verified ${u##*/}: $(grep -c '^Exec' "$u") Exec lines, instance %i"
	done
	grep -qx "ExecStart=$d/usr/sbin/xlb agent -i %i \$XLB_AGENT_ARGS" "$d/units/xlb-agent@.service" ||
		fail "xlb-agent@.service: expected ExecStart of $d/usr/sbin/xlb agent -i %i, got: $(grep ^ExecStart "$d/units/xlb-agent@.service")"
	grep -qx "ConditionPathExists=/etc/xlb/%i.conf" "$d/units/xlb-restore@.service" ||
		fail "xlb-restore@.service: expected ConditionPathExists=/etc/xlb/%i.conf"
	sed 's/^Restart=on-failure/Restart=sometimes/' "$d/units/xlb-agent@.service" >"$d/units/broken@.service"
	out=$(MANPATH=$d/usr/share/man systemd-analyze verify "$d/units/broken@.service" 2>&1) || true
	echo "control (Restart=sometimes): $out"
	[ -n "$out" ] || fail "a unit with Restart=sometimes passed systemd-analyze verify silently"
}

# make install puts exactly the binary, the man page, the completion and the
# units under DESTDIR/PREFIX; make uninstall removes exactly those.
test_docs_install_uninstall() {
	local d got want
	TMP=$(mktemp -d /tmp/xlb-install.XXXXXX)
	trap 'rm -rf "$TMP"' EXIT
	d=$TMP/root
	make -s --no-print-directory install DESTDIR="$d" PREFIX=/opt/xlb >/dev/null
	got=$(cd "$d" && find . -type f | sort | xargs)
	want="./opt/xlb/lib/systemd/system/xlb-agent@.service ./opt/xlb/lib/systemd/system/xlb-restore@.service ./opt/xlb/sbin/xlb ./opt/xlb/share/bash-completion/completions/xlb ./opt/xlb/share/man/man8/xlb.8"
	assert_eq "files installed" "$want" "$got"
	cmp -s "$XLB" "$d/opt/xlb/sbin/xlb" || fail "installed xlb differs from $XLB"
	grep -q "^ExecStart=/opt/xlb/sbin/xlb " "$d/opt/xlb/lib/systemd/system/xlb-restore@.service" ||
		fail "xlb-restore@.service: ExecStart not under PREFIX /opt/xlb"
	touch "$d/opt/xlb/sbin/other"
	make -s --no-print-directory uninstall DESTDIR="$d" PREFIX=/opt/xlb >/dev/null
	got=$(cd "$d" && find . -type f | sort | xargs)
	assert_eq "files left after uninstall (only what it did not install)" "./opt/xlb/sbin/other" "$got"
}
