#!/bin/bash
# Console first-paint benchmark (issue #5: "first paint of any section under 200 ms on loopback
# with 10,000 certificates in the inventory").
#
#   bench/console_paint.sh [BUILD_DIR]      (default: build)
#
# Makes a throwaway state (hsmca init: its own SoftHSM token and database), issues 50 real
# certificates from openssl CSRs with `hsmca issue` (EC and RSA keys, several validities), then
# replicates them in SQLite up to 10,000 rows with fresh serials, fingerprints, common names and
# SANs, spread validity (some expired, some expiring soon), ~5% revoked and ~10% discovered; the
# DER stays that of a real certificate (the list view reads columns). Publishes a CRL, starts
# `hsmca serve` on free loopback ports, measures each section's REST call with curl (keep-alive,
# median of 5: the machine's own reference), then console_paint.mjs logs in through the console in
# headless Chromium and times every section to its painted table (median of 5 in-app navigations
# and of 5 full page loads). Prints a table. Not a test: numbers depend on the machine.
# Env: CERTS (default 10000), RUNS (default 5), KEEP_TMP=1 keeps the work folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
BUILD=$(cd "${1:-$src/build}" && pwd)
HSMCA=$BUILD/hsmca
CERTS=${CERTS:-10000}
RUNS=${RUNS:-5}
REAL=50
[ -x "$HSMCA" ] || { echo "no hsmca binary at $HSMCA" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "/usr/bin/chromium is missing (apt-get install chromium)" >&2; exit 1; }
[ -d "$src/tests/browser/node_modules/playwright-core" ] ||
	{ echo "playwright-core is missing: run tests/browser/run.sh once (it installs it)" >&2; exit 1; }
for t in sqlite3 openssl curl node python3; do command -v $t >/dev/null || { echo "$t is needed" >&2; exit 1; }; done

W=$(mktemp -d "${TMPDIR:-/tmp}/console_paint.XXXXXX")
S=$W/state
PID=
cleanup() {
	local rc=$?
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID"
		for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
		kill -0 "$PID" 2>/dev/null && kill -KILL "$PID"
		wait "$PID" 2>/dev/null || true
	fi
	if [ "${KEEP_TMP:-0}" = 1 ] || [ $rc -ne 0 ]; then echo "(work folder kept: $W)"; else rm -rf "$W"; fi
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

unset SOFTHSM2_CONF HSMCA_STATE HSMCA_PIN
"$HSMCA" init --state "$S" >"$W/init.out"
PW=$(sed -n 's/^admin password: //p' "$W/init.out")
[ -n "$PW" ] || { cat "$W/init.out"; echo "init printed no admin password" >&2; exit 1; }

# --- 50 real certificates through the CLI, from openssl CSRs ---
t0=$(date +%s.%N)
depts=(web mail vpn api db iot lab)
days=(30 90 365 398 825)
mkdir -p "$W/csr"
for i in $(seq 1 $REAL); do
	cn=$(printf 'real-%02d.%s.bench.example' "$i" "${depts[i % 7]}")
	if [ $((i % 5)) = 0 ]; then key=(-newkey rsa:2048); else key=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); fi
	openssl req -new "${key[@]}" -nodes -keyout "$W/csr/$i.key" -subj "/O=Bench/CN=$cn" \
		-addext "subjectAltName=DNS:$cn,DNS:www.$cn" -out "$W/csr/$i.csr" 2>/dev/null
	"$HSMCA" issue --state "$S" --ca demo-issuing-ca --csr "$W/csr/$i.csr" --days "${days[i % 5]}" >/dev/null
done
t1=$(date +%s.%N)

# --- replicate to $CERTS rows in SQLite (the daemon is not running yet) ---
have=$(sqlite3 "$S/hsmca.db" "SELECT count(*) FROM certificates")
N=$((CERTS - have))
[ $N -gt 0 ] || N=0
now_ms=$(($(date +%s) * 1000))
day=86400000
sqlite3 "$S/hsmca.db" <<SQL
.timeout 5000
BEGIN;
WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < $N),
tpl AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, * FROM certificates WHERE common_name LIKE 'real-%.bench.example'),
gen AS (
  SELECT n, t.*,
    printf('host-%05d.%s.bench.example', n, CASE n % 7 WHEN 0 THEN 'web' WHEN 1 THEN 'mail' WHEN 2 THEN 'vpn'
      WHEN 3 THEN 'api' WHEN 4 THEN 'db' WHEN 5 THEN 'iot' ELSE 'lab' END) AS cn,
    n % 10 = 7 AS disc,
    $now_ms - (n % 800) * $day - (n * 7919 % 86400) * 1000 AS nb,
    (CASE n % 4 WHEN 0 THEN 90 WHEN 1 THEN 365 WHEN 2 THEN 398 ELSE 825 END) * $day AS life
  FROM seq JOIN tpl t ON t.k = n % (SELECT count(*) FROM tpl))
INSERT INTO certificates (ca_id, serial, subject, issuer, common_name, sans, not_before, not_after,
  key_algorithm, digest, fingerprint_sha256, source, profile, revoked_at, revocation_reason, keyref,
  order_id, tags, der, created_at)
SELECT CASE WHEN disc THEN NULL ELSE ca_id END,
  upper(hex(randomblob(16))),
  'CN=' || cn || ',O=Bench',
  CASE WHEN disc THEN 'CN=Partner Issuing CA,O=Partner' ELSE issuer END,
  cn,
  json_array('DNS:' || cn, 'DNS:www.' || cn) ,
  nb, nb + life, key_algorithm, digest, lower(hex(randomblob(32))),
  CASE WHEN disc THEN 'discovered' ELSE 'managed' END,
  CASE WHEN disc THEN NULL ELSE profile END,
  CASE WHEN NOT disc AND n % 20 = 3 THEN min($now_ms - $day, nb + life / 3) END,
  CASE WHEN NOT disc AND n % 20 = 3 THEN CASE n % 3 WHEN 0 THEN 1 WHEN 1 THEN 4 ELSE 5 END END,
  NULL, NULL, '[]', der, nb + 60000
FROM gen;
COMMIT;
SQL
t2=$(date +%s.%N)
"$HSMCA" crl --state "$S" --ca demo-issuing-ca >/dev/null
sqlite3 "$S/hsmca.db" "SELECT 'inventory: ' || count(*) || ' certificates (' || sum(source='discovered') || ' discovered, '
  || sum(revoked_at IS NOT NULL) || ' revoked, ' || sum(revoked_at IS NULL AND not_after < $now_ms) || ' expired, '
  || sum(revoked_at IS NULL AND not_after >= $now_ms AND not_after < $now_ms + 30 * $day) || ' expiring within 30 days)'
  FROM certificates"
python3 -c "import sys; a,b,c=map(float,sys.argv[1:]); print(f'seeded: {$REAL} issued through hsmca issue in {b-a:.1f} s, replicated in SQLite in {c-b:.1f} s')" "$t0" "$t1" "$t2"

# --- the daemon ---
HTTP_PORT=$(free_port)
HTTPS_PORT=$(free_port)
while [ "$HTTPS_PORT" = "$HTTP_PORT" ]; do HTTPS_PORT=$(free_port); done
HSMCA_WEB_ROOT=${HSMCA_WEB_ROOT:-$src/web} "$HSMCA" serve --state "$S" --http "127.0.0.1:$HTTP_PORT" \
	--https "127.0.0.1:$HTTPS_PORT" >"$W/serve.log" 2>&1 &
PID=$!
for i in $(seq 1 150); do
	curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" && break
	kill -0 "$PID" 2>/dev/null || { cat "$W/serve.log"; echo "serve exited at start" >&2; exit 1; }
	[ "$i" = 150 ] && { cat "$W/serve.log"; echo "serve not ready after 15 s" >&2; exit 1; }
	sleep 0.1
done
URL=https://127.0.0.1:$HTTPS_PORT
CA=$S/tls/ca.pem
TOKEN=$(curl -sS -f --cacert "$CA" -H 'Content-Type: application/json' \
	--data-binary "{\"username\":\"admin\",\"password\":\"$PW\"}" "$URL/api/v1/auth/login" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
ISSUING_ID=$(curl -sS -f --cacert "$CA" -H "Authorization: Bearer $TOKEN" "$URL/api/v1/cas?limit=200" |
	python3 -c 'import json,sys; print([c["id"] for c in json.load(sys.stdin)["items"] if c["slug"]=="demo-issuing-ca"][0])')

# Targets: name | console hash | the REST call that section's table waits for (the largest one
# where it makes several: Certificates first reads /cas, then the certificate page).
TARGETS="CAs|cas|/cas?limit=50
Certificates|certificates|/certificates?limit=50
Certificates status=revoked|certificates?status=revoked|/certificates?status=revoked&limit=50
Certificates expiring<=30d|certificates?expiring_within_days=30|/certificates?expiring_within_days=30&limit=50
Certificates source=discovered|certificates?source=discovered|/certificates?source=discovered&limit=50
Certificates CA=issuing|certificates?ca=$ISSUING_ID|/certificates?ca=$ISSUING_ID&limit=50
Certificates q=host-0421|certificates?q=host-0421|/certificates?q=host-0421&limit=50
CRLs|crls|/cas/$ISSUING_ID/crls?limit=50
Orders|orders|/orders?limit=50
Logs (login attempts)|logs?tab=login|/logs/login-attempts?limit=50
Logs (SCEP)|logs?tab=scep|/logs/scep?limit=50
Audit|audit|/audit?limit=50
Users|users|/users?limit=50
Teams|teams|/teams?limit=50
SCEP authentication|scep-auth|/scep-auth?limit=50"

# curl reference: one keep-alive connection, a warm-up request, then RUNS timed ones; median.
api_ms() {
	local args=() i
	for i in $(seq 0 "$RUNS"); do args+=(-o /dev/null "$URL/api/v1$1"); done
	curl -sS -f --cacert "$CA" -H "Authorization: Bearer $TOKEN" -w '%{http_code} %{time_total}\n' "${args[@]}" |
		tail -n +2 | python3 -c '
import sys, statistics
rows = [l.split() for l in sys.stdin if l.strip()]
bad = [r[0] for r in rows if r[0] != "200"]
print("HTTP" + bad[0] if bad else "%.1f" % (statistics.median(float(r[1]) for r in rows) * 1000))'
}
printf '%s\n' "$TARGETS" >"$W/targets.txt"
: >"$W/api.txt"
while IFS='|' read -r name hash path; do
	echo "$name|$(api_ms "$path")|$path" >>"$W/api.txt"
done <"$W/targets.txt"

# The browser part prints the table (and fails on a section that never paints).
# Chromium trusts the appliance's TLS key the way an administrator's browser does once the
# appliance CA is installed (a certificate error changes how Chromium opens connections: it
# waits before opening more than one, which is not what an administrator sees).
SPKI=$(openssl x509 -in "$S/tls/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der |
	openssl dgst -sha256 -binary | base64)
URL=$URL ADMIN_PASS=$PW RUNS=$RUNS TARGETS_FILE=$W/targets.txt API_FILE=$W/api.txt SRC=$src SPKI=$SPKI \
	NODE_EXTRA_CA_CERTS=$CA node "$here/console_paint.mjs"
if grep -qE "AddressSanitizer|LeakSanitizer|runtime error:" "$W/serve.log"; then
	grep -E -A20 "AddressSanitizer|LeakSanitizer|runtime error:" "$W/serve.log" | head -40
	echo "the daemon reported sanitizer errors" >&2
	exit 1
fi
