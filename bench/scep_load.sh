#!/bin/bash
# scep_load.sh [BUILD_DIR] [-n N] [-p P]: SCEP enrollment throughput (issue #6 "Speed").
# In one run: `sceppeer load -n N -p P` against an RSA-2048 CA of hsmca (CA and RA keys on the
# SoftHSM token) and against micromdm's reference scepserver (software RSA-2048 key in a file),
# then the raw token RSA-2048 signature rate (tok_speed, 2 threads). Prints both enrollments/s, the
# token rate and the ratios, and the CPU time each server process spent per enrollment (steadier
# than the rates when other work shares the machine). Each hsmca enrollment costs three token RSA
# operations (envelope decryption and CertRep signature by the RA, certificate signature by the CA).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$here/../build}
shift || true
N=200 P=2
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	-p) P=$2; shift 2 ;;
	*) echo "usage: scep_load.sh [BUILD_DIR] [-n N] [-p P]" >&2; exit 2 ;;
	esac
done
HSMCA=$BUILD/hsmca
TOKSPEED=$BUILD/bench/tok_speed
SHARED=${HSMCA_SHARED:-$here/../../shared}
"$SHARED/peers/setup.sh" >/dev/null
PEERS=${PEERS_BIN:-/tmp/hsmca-peers/bin}
T=$(mktemp -d /tmp/scep_load.XXXXXX)
pids=()
cleanup() { local p; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$T"; }
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
wait_http() { local i; for i in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "not up: $1" >&2; exit 1; }
num() { sed -n "s|^$1: *||p" | tail -1; }
# CPU seconds (user + system) a process has used so far: less sensitive than a rate to other
# work sharing the machine, so before/after comparisons can use it.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"; }

# --- hsmca: RSA-2048 CA on the token, one reusable SCEP secret
S=$T/state
"$HSMCA" init --state "$S" >"$T/init.txt"
ADMIN_PW=$(sed -n 's/^admin password: //p' "$T/init.txt")
"$HSMCA" ca create-root --state "$S" --name "Bench RSA" --key rsa-2048 >/dev/null
HP=$(port); TP=$(port)
"$HSMCA" serve --state "$S" --http 127.0.0.1:$HP --https 127.0.0.1:$TP >"$T/serve.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$HP/healthz"
TOKEN=$(curl -s --cacert "$S/tls/ca.pem" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" "https://127.0.0.1:$TP/api/v1/auth/login" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
SECRET=$(curl -s --cacert "$S/tls/ca.pem" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d '{"name":"bench","ca":"bench-rsa","one_time":false}' "https://127.0.0.1:$TP/api/v1/scep-auth" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
"$PEERS/sceppeer" caps -url "http://127.0.0.1:$HP/scep/bench-rsa" >/dev/null   # makes the RA
# sceppeer load exits 1 when any enrollment failed; the rate counts successes only, and the
# failures are reported (micromdm's server loses a few under parallel load).
C0=$(cpu_s "${pids[0]}")
"$PEERS/sceppeer" load -url "http://127.0.0.1:$HP/scep/bench-rsa" -challenge "$SECRET" -n "$N" -p "$P" >"$T/hsmca.out" 2>"$T/hsmca.err" || true
HSMCA_CPU=$(python3 -c "print($(cpu_s "${pids[0]}") - $C0)")
HSMCA_RATE=$(num enrollments/s <"$T/hsmca.out")
HSMCA_FAILED=$(sed -n 's/.*failed: \([0-9]*\).*/\1/p' "$T/hsmca.out")
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

# --- micromdm's reference server, software RSA-2048 key
D=$T/depot
"$PEERS/scepserver" ca -init -depot "$D" -keySize 2048 >/dev/null 2>&1
touch "$D/index.txt"
MP=$(port)
"$PEERS/scepserver" -depot "$D" -port "$MP" -challenge bench-secret >"$T/scepserver.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$MP/scep?operation=GetCACaps"
C0=$(cpu_s "${pids[0]}")
"$PEERS/sceppeer" load -url "http://127.0.0.1:$MP/scep" -challenge bench-secret -n "$N" -p "$P" >"$T/ref.out" 2>"$T/ref.err" || true
REF_CPU=$(python3 -c "print($(cpu_s "${pids[0]}") - $C0)")
REF_RATE=$(num enrollments/s <"$T/ref.out")
REF_FAILED=$(sed -n 's/.*failed: \([0-9]*\).*/\1/p' "$T/ref.out")
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()

# --- raw token rate, same token software, same run
TOK_RATE=$(HSMCA_PIN= "$TOKSPEED" --state "$S" --key rsa-2048 --threads 2 --seconds 3 | num token_signatures_per_s)

python3 - "$HSMCA_RATE" "$REF_RATE" "$TOK_RATE" "$N" "$P" "$HSMCA_FAILED" "$REF_FAILED" "$HSMCA_CPU" "$REF_CPU" <<'EOF'
import sys
h, r, t = (float(x) for x in sys.argv[1:4])
n, hf, rf = int(sys.argv[4]), int(sys.argv[6] or 0), int(sys.argv[7] or 0)
hc, rc = float(sys.argv[8]), float(sys.argv[9])
print(f"SCEP load: sceppeer load -n {sys.argv[4]} -p {sys.argv[5]}")
print(f"hsmca enrollments/s (RSA-2048 CA and RA on the token):   {h:.1f}  (failed: {sys.argv[6]})")
print(f"micromdm scepserver enrollments/s (software RSA-2048):   {r:.1f}  (failed: {sys.argv[7]})")
print(f"token RSA-2048 signatures/s (tok_speed, 2 threads):      {t:.1f}")
print(f"ratio hsmca / reference:                                  {h / r:.2f}")
print(f"ratio hsmca enrollments / token signatures:               {h / t:.3f} (3 token RSA operations per enrollment: ideal {1/3:.3f})")
# CPU per enrollment of each server process (the token works inside hsmca's process).
print(f"hsmca CPU ms per enrollment (user+system, token included): {1000 * hc / max(n - hf, 1):.2f}")
print(f"micromdm CPU ms per enrollment (user+system):              {1000 * rc / max(n - rf, 1):.2f}")
EOF
