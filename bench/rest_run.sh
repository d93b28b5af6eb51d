#!/bin/bash
# REST issuance benchmark (issue #3): certificates/s through POST /api/v1/certificates against
# the token's own signature rate for the same CA key, measured in the same run.
#
#   bench/rest_run.sh BUILD_DIR [CLIENTS] [SECONDS]
#
# Makes a throwaway state (hsmca init: its own SoftHSM token and database), starts `hsmca serve`
# on free loopback ports, creates a P-256 root and an RSA-2048 root over REST, pre-makes CSRs,
# then for each CA: rest_load (CLIENTS keep-alive HTTPS clients for SECONDS) while nothing else
# runs, then tok_speed on that CA's keyref (2 threads, the machine's cores) with the daemon idle.
# Prints a table, with the daemon's CPU time per certificate (user + system, token included).
# Not a test: numbers depend on the machine.
set -euo pipefail
BUILD=$(cd "${1:?usage: rest_run.sh BUILD_DIR [CLIENTS] [SECONDS]}" && pwd)
CLIENTS=${2:-8}
SECONDS_RUN=${3:-10}
TOK_THREADS=${TOK_THREADS:-2}
HSMCA=$BUILD/hsmca
REST_LOAD=${REST_LOAD:-$BUILD/bench/rest_load}
TOK_SPEED=$BUILD/bench/tok_speed
for b in "$HSMCA" "$REST_LOAD" "$TOK_SPEED"; do
	[ -x "$b" ] || { echo "missing $b (is bench/rest.cmake included from bench/CMakeLists.txt?)" >&2; exit 1; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/rest_bench.XXXXXX")
S=$W/state
PID=
cleanup() {
	[ -n "$PID" ] && kill -TERM "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

unset SOFTHSM2_CONF HSMCA_STATE HSMCA_PIN
"$HSMCA" init --state "$S" >"$W/init.out"
PW=$(sed -n 's/^admin password: //p' "$W/init.out")
HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
# Quiet request logging would be fairer to the daemon, but the default is what ships.
"$HSMCA" serve --state "$S" --http "127.0.0.1:$HTTP_PORT" --https "127.0.0.1:$HTTPS_PORT" >"$W/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 150); do
	curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" && break
	sleep 0.1
done
URL=https://127.0.0.1:$HTTPS_PORT
CA=$S/tls/ca.pem
# api METHOD PATH BODY [TOKEN]: prints the body; fails on a non-2xx answer.
api() {
	curl -sS -f --cacert "$CA" -X "$1" -H 'Content-Type: application/json' ${4:+-H "Authorization: Bearer $4"} \
		--data-binary "$3" "$URL$2"
}
TOKEN=$(api POST /api/v1/auth/login "{\"username\":\"admin\",\"password\":\"$PW\"}" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
# An API token outlives a session for long runs.
UID1=$(api GET /api/v1/auth/me "" "$TOKEN" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
TOKEN=$(api POST "/api/v1/users/$UID1/tokens" '{"validity_days":1,"name":"bench"}' "$TOKEN" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
api POST /api/v1/cas '{"name":"Bench P256","key":"ec-256"}' "$TOKEN" >/dev/null
api POST /api/v1/cas '{"name":"Bench RSA2048","key":"rsa-2048"}' "$TOKEN" >/dev/null

# Pre-made CSRs (P-256 subject keys: cheap to make, and the CA key is what is measured).
for i in $(seq 1 64); do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-subj "/CN=host$i.bench.test" -addext "subjectAltName=DNS:host$i.bench.test" 2>/dev/null
done >"$W/csrs.pem"

# CPU seconds (user + system) the daemon has used so far: the daemon's cost per certificate
# is steadier than the rate when other work shares the machine.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$PID/stat"; }
printf '%-14s %-9s %7s %8s %12s %8s %8s %14s %7s %9s\n' CA key clients errors certs/s p50_ms p99_ms token_sigs/s ratio cpu_ms/cert
for ca in bench-p256:ec-256 bench-rsa2048:rsa-2048; do
	slug=${ca%%:*}
	keyref=$(sqlite3 "$S/hsmca.db" "SELECT keyref FROM cas WHERE slug='$slug'")
	c0=$(cpu_s)
	out=$("$REST_LOAD" --port "$HTTPS_PORT" --token "$TOKEN" --ca "$slug" --csrs "$W/csrs.pem" --cafile "$CA" \
		--clients "$CLIENTS" --seconds "$SECONDS_RUN")
	c1=$(cpu_s)
	echo "$out" >>"$W/raw"
	rate=$(echo "$out" | sed -n 's/.*certificates_per_s: \([0-9.]*\).*/\1/p')
	errs=$(echo "$out" | sed -n 's/.* errors: \([0-9]*\).*/\1/p')
	p50=$(echo "$out" | sed -n 's/.*p50_ms: \([0-9.]*\).*/\1/p')
	p99=$(echo "$out" | sed -n 's/.*p99_ms: \([0-9.]*\).*/\1/p')
	# The token's rate for the same key, daemon idle (SoftHSM serves both processes).
	tok=$(SOFTHSM2_CONF=$S/softhsm2.conf "$TOK_SPEED" --state "$S" --keyref "$keyref" --threads "$TOK_THREADS" \
		--seconds "$SECONDS_RUN" | sed -n 's/^token_signatures_per_s: //p')
	ratio=$(python3 -c "print('%.3f' % ($rate / $tok))")
	certs=$(echo "$out" | sed -n 's/.* certificates: \([0-9]*\).*/\1/p')
	cpu=$(python3 -c "print('%.2f' % (1000 * ($c1 - $c0) / max($certs, 1)))")
	printf '%-14s %-9s %7s %8s %12s %8s %8s %14s %7s %9s\n' "$slug" "${ca##*:}" "$CLIENTS" "$errs" "$rate" "$p50" "$p99" "$tok" "$ratio" "$cpu"
done
echo "raw:"; sed 's/^/  /' "$W/raw"
echo "issued in total: $(sqlite3 "$S/hsmca.db" "SELECT count(*) FROM certificates WHERE ca_id IN (SELECT id FROM cas WHERE slug LIKE 'bench-%')")"
