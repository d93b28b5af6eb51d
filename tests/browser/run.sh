#!/bin/bash
# run.sh: the console's browser test. Installs what is missing (Debian's chromium through apt,
# playwright-core through npm into tests/browser/node_modules), initialises a fresh state folder,
# starts the real daemon on free 127.0.0.1 ports, runs console.test.mjs, keeps a screenshot of
# every section, stops the daemon.
# Env: HSMCA_BIN (default: build/hsmca), HSMCA_SRC, HSMCA_TEST_TMP (default: the current folder);
# screenshots land in $HSMCA_TEST_TMP/browser-screenshots. Exit 77 (with a message) only when the
# npm registry cannot be reached.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=${HSMCA_SRC:-$(cd "$here/../.." && pwd)}
bin=${HSMCA_BIN:-$src/build/hsmca}
tmp=${HSMCA_TEST_TMP:-$PWD}
cannot() { echo "browser test cannot run: $*" >&2; exit 1; }
# Only a registry we cannot reach is a skip (exit 77, reported by ctest as not run): everything
# else the test needs is installed by scripts/setup.sh, so its absence is a failure.
unreachable() { echo "browser test SKIPPED: $*" >&2; exit 77; }

[ -x "$bin" ] || cannot "no hsmca binary at $bin (set HSMCA_BIN)"
if [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "installing chromium (apt)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1; } ||
			cannot "apt-get install chromium failed"
	else
		cannot "/usr/bin/chromium is missing (apt-get install chromium)"
	fi
fi
command -v node >/dev/null && command -v npm >/dev/null || cannot "node and npm are needed (apt-get install nodejs npm)"
if [ ! -d "$here/node_modules/playwright-core" ]; then
	echo "installing playwright-core (npm)"
	# npm trusts only its own CA list; use the system store, which carries the CAs this machine's
	# network needs (Debian's ca-certificates bundle).
	npm_ca=()
	[ -f /etc/ssl/certs/ca-certificates.crt ] && npm_ca=(--cafile=/etc/ssl/certs/ca-certificates.crt)
	(cd "$here" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund "${npm_ca[@]}"; else npm install --no-audit --no-fund "${npm_ca[@]}"; fi) \
		>"$tmp/npm-install.log" 2>&1 || { tail -20 "$tmp/npm-install.log" >&2
		if grep -qE 'SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT|CERT_' "$tmp/npm-install.log"; then
			unreachable "the npm registry is not reachable from this machine, so playwright-core cannot be installed"
		fi
		cannot "npm could not install playwright-core"; }
fi

mkdir -p "$tmp"
T=$(mktemp -d "$tmp/browser.XXXXXX")
state=$T/state
pid=
cleanup() {
	local rc=$?
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
	fi
	if [ $rc -eq 0 ] && [ "${KEEP_TMP:-0}" != 1 ]; then rm -rf "$T"; else echo "(test files kept in $T; daemon log $T/serve.log)"; fi
}
trap cleanup EXIT
unset SOFTHSM2_CONF HSMCA_STATE HSMCA_PIN

out=$("$bin" init --state "$state") || { echo "$out"; exit 1; }
admin_pass=$(echo "$out" | sed -n 's/^admin password: //p')
[ -n "$admin_pass" ] || { echo "init printed no admin password"; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
http_port=$(free_port)
https_port=$(free_port)
while [ "$https_port" = "$http_port" ]; do https_port=$(free_port); done
HSMCA_WEB_ROOT=${HSMCA_WEB_ROOT:-$src/web} "$bin" serve --state "$state" --http "127.0.0.1:$http_port" \
	--https "127.0.0.1:$https_port" >>"$T/serve.log" 2>&1 &
pid=$!
for i in $(seq 1 150); do
	curl -s -o /dev/null "http://127.0.0.1:$http_port/healthz" && break
	kill -0 "$pid" 2>/dev/null || { cat "$T/serve.log"; echo "serve exited at start"; exit 1; }
	[ "$i" = 150 ] && { cat "$T/serve.log"; echo "serve not ready after 15 s"; exit 1; }
	sleep 0.1
done

shots=$tmp/browser-screenshots
rm -rf "$shots"
mkdir -p "$shots"
rc=0
URL=https://127.0.0.1:$https_port HTTP_URL=http://127.0.0.1:$http_port ADMIN_PASS=$admin_pass SHOTS=$shots \
	TMPDIR_TEST=$T STATE=$state NODE_EXTRA_CA_CERTS=$state/tls/ca.pem node "$here/console.test.mjs" || rc=$?
# Stop the daemon here so a sanitizer build reports leaks and errors into its log before we read it.
kill -TERM "$pid"
for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
wait "$pid" 2>/dev/null || true
pid=
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$T/serve.log"; then
	grep -E -A20 "AddressSanitizer|LeakSanitizer|runtime error:" "$T/serve.log" | head -60
	echo "FAIL: the daemon reported sanitizer errors during the browser test"
	rc=1
fi
exit $rc
