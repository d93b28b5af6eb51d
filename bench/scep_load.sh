#!/bin/bash
# scep_load.sh [BUILD_DIR] [-n N] [-p P] [-r R]: SCEP enrollment throughput (issue #6 "Speed").
# In one run: `sceppeer load -n N -p P` against an RSA-2048 CA of hsmca (CA and RA keys on the
# SoftHSM token) and against micromdm's reference scepserver (software RSA-2048 key in a file),
# R rounds each, alternating which server goes first, then the raw token RSA-2048 signature rate
# (tok_speed, 2 threads). Prints each round, the medians, the token rate and the ratios, and the
# CPU time each server process spent per enrollment (steadier than the rates when other work
# shares the machine). Each hsmca enrollment costs three token RSA operations (envelope
# decryption and CertRep signature by the RA, certificate signature by the CA). The client runs
# on the same machine and spends more CPU per enrollment than either server (four RSA private
# operations in Go), so it bounds both rates; its CPU per enrollment is printed too.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${1:-$here/../build}
shift || true
N=300 P=2 R=3
while [ $# -gt 0 ]; do
	case $1 in
	-n) N=$2; shift 2 ;;
	-p) P=$2; shift 2 ;;
	-r) R=$2; shift 2 ;;
	*) echo "usage: scep_load.sh [BUILD_DIR] [-n N] [-p P] [-r R]" >&2; exit 2 ;;
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
HSMCA_PID=$!
pids+=($HSMCA_PID)
wait_http "http://127.0.0.1:$HP/healthz"
TOKEN=$(curl -s --cacert "$S/tls/ca.pem" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" "https://127.0.0.1:$TP/api/v1/auth/login" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
SECRET=$(curl -s --cacert "$S/tls/ca.pem" -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d '{"name":"bench","ca":"bench-rsa","one_time":false}' "https://127.0.0.1:$TP/api/v1/scep-auth" |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
HSMCA_URL=http://127.0.0.1:$HP/scep/bench-rsa

# --- micromdm's reference server, software RSA-2048 key. Its file depot checks every new
# subject against its whole index, so it slows down as it fills up (measured: 150/s on a fresh
# depot, 80/s two rounds later). To compare with its best, every round starts it on a fresh
# depot (and warms it up), while hsmca keeps one database for the whole run.
REF_PID=
ref_fresh() {
	local d=$T/depot.$1
	if [ -n "$REF_PID" ]; then
		kill "$REF_PID" 2>/dev/null || true; wait "$REF_PID" 2>/dev/null || true
	fi
	"$PEERS/scepserver" ca -init -depot "$d" -keySize 2048 >/dev/null 2>&1
	touch "$d/index.txt"
	MP=$(port)
	"$PEERS/scepserver" -depot "$d" -port "$MP" -challenge bench-secret >>"$T/scepserver.log" 2>&1 &
	REF_PID=$!
	pids+=($REF_PID)
	wait_http "http://127.0.0.1:$MP/scep?operation=GetCACaps"
	REF_URL=http://127.0.0.1:$MP/scep
	load warm-ref "$REF_URL" bench-secret "$REF_PID" 30
}

# One load against one server; appends "rate failed server_cpu_s client_cpu_s" to
# $T/<name>.rounds. sceppeer load exits 1 when any enrollment failed; the rate counts successes
# only, and the failures are reported. micromdm's depot refuses a subject it has issued before,
# so every load gets its own CN prefix; sceppeer's workers can still pick the same name now and
# then (it numbers names without a lock), which costs micromdm a few failures per run.
load() {
	local name=$1 url=$2 secret=$3 pid=$4 n=$5 c0 c1 TIMEFORMAT='client_cpu_s: %U %S'
	c0=$(cpu_s "$pid")
	LOADS=$((LOADS + 1))
	{ time "$PEERS/sceppeer" load -url "$url" -challenge "$secret" -n "$n" -p "$P" -cn "bench-$LOADS" >"$T/$name.out" \
		2>>"$T/$name.err" || true; } 2>"$T/$name.time"
	c1=$(cpu_s "$pid")
	echo "$(num enrollments/s <"$T/$name.out")" \
		"$(sed -n 's/.*failed: \([0-9]*\).*/\1/p' "$T/$name.out")" \
		"$(python3 -c "print($c1 - $c0)")" \
		"$(awk '/client_cpu_s/ { print $2 + $3 }' "$T/$name.time")" >>"$T/$name.rounds"
}
LOADS=0
"$PEERS/sceppeer" caps -url "$HSMCA_URL" >/dev/null   # makes the RA
# Warm-up (first connections, caches, the RA's first use), not counted.
load warm-hsmca "$HSMCA_URL" "$SECRET" "$HSMCA_PID" 30
for r in $(seq 1 "$R"); do
	ref_fresh "$r"
	if [ $((r % 2)) -eq 1 ]; then
		load hsmca "$HSMCA_URL" "$SECRET" "$HSMCA_PID" "$N"
		load ref "$REF_URL" bench-secret "$REF_PID" "$N"
	else
		load ref "$REF_URL" bench-secret "$REF_PID" "$N"
		load hsmca "$HSMCA_URL" "$SECRET" "$HSMCA_PID" "$N"
	fi
done
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
pids=()

# --- raw token rate, same token software, same run
TOK_RATE=$(HSMCA_PIN= "$TOKSPEED" --state "$S" --key rsa-2048 --threads 2 --seconds 3 | num token_signatures_per_s)

python3 - "$T" "$TOK_RATE" "$N" "$P" "$R" <<'PY'
import statistics, sys
t, tok, n, p, r = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]

def rounds(name):
    rows = []
    for line in open(f"{t}/{name}.rounds"):
        rate, failed, scpu, ccpu = line.split()
        ok = max(n - int(failed), 1)
        rows.append((float(rate), int(failed), 1000 * float(scpu) / ok, 1000 * float(ccpu) / ok))
    return rows

def med(rows, k):
    return statistics.median(x[k] for x in rows)

h, ref = rounds("hsmca"), rounds("ref")
print(f"SCEP load: sceppeer load -n {n} -p {p}, {r} rounds, alternating which server goes first")
for i, (a, b) in enumerate(zip(h, ref), 1):
    print(f"  round {i}: hsmca {a[0]:.1f}/s ({a[2]:.2f} ms CPU, failed {a[1]})   "
          f"micromdm {b[0]:.1f}/s ({b[2]:.2f} ms CPU, failed {b[1]})   ratio {a[0] / b[0]:.2f}")
hr, rr = med(h, 0), med(ref, 0)
print(f"hsmca enrollments/s, median (RSA-2048 CA and RA on the token):  {hr:.1f}  (failed: {sum(x[1] for x in h)})")
print(f"micromdm scepserver enrollments/s, median (software RSA-2048):  {rr:.1f}  (failed: {sum(x[1] for x in ref)})")
print(f"token RSA-2048 signatures/s (tok_speed, 2 threads):             {tok:.1f}")
print(f"ratio hsmca / reference (medians):                               {hr / rr:.2f}")
print(f"ratio hsmca enrollments / token signatures:                      {hr / tok:.3f} "
      f"(3 token RSA operations per enrollment: ideal {1 / 3:.3f})")
# CPU per enrollment of each server process (the token works inside hsmca's process) and of the client.
print(f"hsmca CPU ms per enrollment, median (user+system, token included): {med(h, 2):.2f}")
print(f"micromdm CPU ms per enrollment, median (user+system):              {med(ref, 2):.2f}")
print(f"ratio micromdm CPU / hsmca CPU per enrollment:                     {med(ref, 2) / med(h, 2):.2f}")
print(f"client CPU ms per enrollment, median (against hsmca / micromdm):   {med(h, 3):.2f} / {med(ref, 3):.2f}")
# What each server could sustain on one core of its own, from its CPU per enrollment: the
# measured rates above are bounded by the client when it shares a small machine with the server.
print(f"server capacity per core (1000 / CPU ms): hsmca {1000 / med(h, 2):.0f}/s, micromdm {1000 / med(ref, 2):.0f}/s, "
      f"ratio {med(ref, 2) / med(h, 2):.2f}")
PY
