#!/usr/bin/env bash
# sluiced's command line without a lab: --check-config on good and bad files, exit statuses,
# the message naming the field.
set -u
B=${SLUICE_BUILD:?}
R=${SLUICE_ROOT:?}
S=$B/apps/sluiced/sluiced
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # name expected-status expected-substring command...
	local name=$1 want=$2 sub=$3
	shift 3
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" != "$want" ] || ! grep -qF -- "$sub" <<<"$out"; then
		echo "FAIL $name: status $st (want $want), output: $out"
		fail=1
	else
		echo "ok   $name"
	fi
}
check "lab.json is valid" 0 ": ok" "$S" --check-config "$R/config/lab.json"
check "example.json is valid" 0 ": ok" "$S" --check-config "$R/config/example.json"
check "lab-echo.json is valid" 0 ": ok" "$S" --check-config "$R/config/lab-echo.json"
sed 's#"198.18.0.2/24"#"198.18.0.x"#' "$R/config/lab.json" >"$tmp/bad.json"
check "bad address" 2 'ports[0].address: not an IPv4 address: "198.18.0.x"' "$S" --check-config "$tmp/bad.json"
check "bad address with --config" 2 'ports[0].address' "$S" --config "$tmp/bad.json"
check "missing file" 2 "No such file" "$S" --check-config "$tmp/none.json"
echo '{' >"$tmp/syntax.json"
check "syntax error" 2 "syntax.json" "$S" --check-config "$tmp/syntax.json"
check "no arguments" 2 "usage" "$S"
check "unknown option" 2 "usage" "$S" --frob
check "version" 0 "sluiced " "$S" --version
exit $fail
