# lib.sh: shared helpers for integration tests (source it). Each test gets its own temp folder
# under $HSMCA_TEST_TMP, removed on exit unless KEEP_TMP=1.
set -euo pipefail
# `CMD | grep -q PATTERN` under pipefail fails now and then although PATTERN is there: grep -q
# exits at its first match, and CMD (openssl printing a certificate, say) dies of SIGPIPE on its
# next write. This grep drops -q and reads its whole input into /dev/null instead: the same
# answer, without the race. Plain grep calls pass through unchanged.
grep() {
	local arg quiet=0 opts=1
	local -a args=()
	for arg in "$@"; do
		# options come first; "--" or the pattern ends them
		[[ $arg == -- || $arg != -* ]] && opts=0
		if [ "$opts" = 1 ] && [[ $arg =~ ^-[A-Za-z]*q[A-Za-z]*$ ]]; then
			quiet=1
			arg=${arg//q/}
			[ "$arg" = - ] && continue
		fi
		args+=("$arg")
	done
	if [ "$quiet" = 1 ]; then
		command grep "${args[@]}" >/dev/null
	else
		command grep "${args[@]}"
	fi
}
: "${HSMCA_BIN:?run through ctest (HSMCA_BIN is the hsmca binary)}"
: "${HSMCA_TEST_TMP:=/tmp}"
mkdir -p "$HSMCA_TEST_TMP"
T=$(mktemp -d "$HSMCA_TEST_TMP/$(basename "$0" .sh).XXXXXX")
unset SOFTHSM2_CONF HSMCA_STATE HSMCA_PIN
export HSMCA_SHARED=${HSMCA_SHARED:-$HSMCA_SRC/../shared}
_cleanup_fns=()
_on_exit() {
	local rc=$? f
	for f in "${_cleanup_fns[@]}"; do $f || true; done
	if [ $rc -eq 0 ] && [ "${KEEP_TMP:-0}" != 1 ]; then rm -rf "$T"; else echo "(test files kept in $T)"; fi
}
trap _on_exit EXIT
at_exit() { _cleanup_fns+=("$1"); }

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# hsmca_init DIR: initialises a state folder; the admin password lands in DIR.admin-password.
hsmca_init() {
	local dir=$1 out
	out=$("$HSMCA_BIN" init --state "$dir") || fail "init failed for $dir"
	echo "$out" | sed -n 's/^admin password: //p' >"$dir.admin-password"
	[ -s "$dir.admin-password" ] || fail "init printed no 'admin password:' line"
}

# pkcs11 DIR ARGS...: pkcs11-tool on the state's own token.
pkcs11() {
	local dir=$1; shift
	SOFTHSM2_CONF=$dir/softhsm2.conf pkcs11-tool --module /usr/lib/softhsm/libsofthsm2.so \
		--login --pin "$(cat "$dir/pin")" "$@" 2>/dev/null
}

# row_counts DIR: one line with the row count of every table, to compare before and after.
row_counts() {
	local db=$1/hsmca.db q
	# One sqlite3 run: the schema writes the counting query for every table.
	q=$(sqlite3 "$db" "SELECT 'SELECT ' || group_concat('''' || name || '='' || (SELECT count(*) FROM \"' || name || '\")', ' || '' '' || ') FROM (SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name)")
	sqlite3 "$db" "$q"
}

# expect_fail_unchanged DIR PATTERN CMD...: CMD must fail, print PATTERN (extended regex) on
# stderr as one line, and leave every table's row count as it was.
expect_fail_unchanged() {
	local dir=$1 pattern=$2; shift 2
	local before after err rc=0
	before=$(row_counts "$dir")
	err=$("$@" 2>&1 >/dev/null) || rc=$?
	[ $rc -ne 0 ] || fail "expected failure: $*"
	grep -Eqi -- "$pattern" <<<"$err" || fail "error for '$*' does not say /$pattern/: $err"
	[ "$(echo "$err" | wc -l)" -le 2 ] || fail "error for '$*' is not one line: $err"
	after=$(row_counts "$dir")
	[ "$before" = "$after" ] || fail "rows changed after failed '$*': $before -> $after"
	echo "refused as expected: $err"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
