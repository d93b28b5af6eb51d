#!/bin/bash
# crl_run.sh BUILD_DIR [KEY] [SIZES]: CRL generation time and peak RSS, hsmca (streaming encoder,
# signed on the SoftHSM token) next to plain OpenSSL (X509_CRL, software key of the same type),
# measured in the same run. Defaults: rsa-2048, 10000,100000,1000000.
set -euo pipefail
build=${1:?usage: crl_run.sh BUILD_DIR [KEY] [SIZES]}
key=${2:-rsa-2048}
sizes=${3:-10000,100000,1000000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crl_bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
out=$tmp/results
mkdir "$tmp/state"
"$build/bench/crl_bench" --dir "$tmp/state" --key "$key" --sizes "$sizes" >>"$out" 2>"$tmp/err" ||
	{ cat "$tmp/err" >&2; exit 1; }
IFS=, read -ra ns <<<"$sizes"
for n in "${ns[@]}"; do
	"$build/bench/crl_plain" --key "$key" --entries "$n" >>"$out"
done
printf '%-8s %-9s %9s %9s %13s %12s %11s\n' impl key entries seconds peak_rss_MB over_base_MB crl_MB
sort -t= -k4 -n "$out" | awk '{
	for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "%-8s %-9s %9d %9.3f %13.1f %12.1f %11.1f\n", v["impl"], v["key"], v["entries"], v["seconds"],
	    v["peak_rss_kb"] / 1024, (v["peak_rss_kb"] - v["base_rss_kb"]) / 1024, v["crl_bytes"] / 1048576
}' | sort -k3,3n -k1,1
