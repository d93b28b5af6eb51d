#!/bin/bash
# The ca/issue/csr/audit CLI beyond test_foundation.sh: chains, list/show, profiles, refusals that
# leave the database unchanged, usage errors, and `audit verify` catching a hand-edited row.
. "$(dirname "$0")/lib.sh"
S=$T/state
H() { "$HSMCA_BIN" "$@" --state "$S"; }

step "init, root, two-level chain"
hsmca_init "$S"
H ca create-root --name "CLI Root" --key ec-256 --days 30 >/dev/null
H ca create-intermediate --parent cli-root --name "CLI Issuing 1" --days 9999 >/dev/null
H ca list | grep -Eq "^cli-issuing-1 +intermediate +rsa-2048 .* cli-root +CLI Issuing 1$" || { H ca list; fail "list lacks the intermediate"; }
H ca show cli-issuing-1 | grep -q "^parent: *cli-root$" || fail "show does not name the parent"
H ca show cli-issuing-1 --chain >"$T/chain.pem"
[ "$(grep -c 'BEGIN CERTIFICATE' "$T/chain.pem")" = 2 ] || fail "chain is not 2 certificates"
H ca show cli-root --pem >"$T/root.pem"
H ca show cli-issuing-1 --pem >"$T/inter.pem"
openssl verify -CAfile "$T/root.pem" "$T/inter.pem" >/dev/null || fail "intermediate does not verify"
# Clipped to the root's 30 days although 9999 were asked.
[ "$(openssl x509 -in "$T/inter.pem" -noout -enddate)" = "$(openssl x509 -in "$T/root.pem" -noout -enddate)" ] \
	|| fail "intermediate outlives its root"
openssl x509 -in "$T/inter.pem" -noout -text | grep -q "CA:TRUE, pathlen:0" || fail "intermediate lacks pathlen 0"

step "profiles"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$T/k" -subj "/CN=host.example.test" \
	-outform DER -out "$T/host.der" 2>/dev/null
H issue --ca cli-issuing-1 --csr "$T/host.der" --days 7 >"$T/host.pem"   # DER input, default profile server
openssl verify -CAfile "$T/root.pem" -untrusted "$T/inter.pem" "$T/host.pem" >/dev/null || fail "leaf does not verify"
openssl x509 -in "$T/host.pem" -noout -text | grep -q "DNS:host.example.test" || fail "CN was not copied to a DNS SAN"
openssl x509 -in "$T/host.pem" -noout -text | grep -q "OCSP - URI:http://localhost:8080/ocsp/cli-issuing-1" || fail "no OCSP URL"
H issue --ca cli-root --csr "$T/host.der" --profile subca >"$T/sub.pem"
openssl x509 -in "$T/sub.pem" -noout -text | grep -q "CA:TRUE, pathlen:0" || fail "subca profile is not a CA"

step "refusals leave the database unchanged"
expect_fail_unchanged "$S" "already exists" H ca create-root --name "CLI Root"
expect_fail_unchanged "$S" "already exists" H ca create-root --name "cli root"
expect_fail_unchanged "$S" "unknown CA 'nope'" H ca create-intermediate --parent nope --name "Orphan"
expect_fail_unchanged "$S" "pathlen 0" H ca create-intermediate --parent cli-issuing-1 --name "Too Deep"
expect_fail_unchanged "$S" "pathlen 0" H issue --ca cli-issuing-1 --csr "$T/host.der" --profile subca
expect_fail_unchanged "$S" "unknown profile" H issue --ca cli-issuing-1 --csr "$T/host.der" --profile web
expect_fail_unchanged "$S" "cannot open" H issue --ca cli-issuing-1 --csr "$T/does-not-exist"
expect_fail_unchanged "$S" "key spec|rsa-2048" H ca create-root --name "Weird" --key dsa-1024
expect_fail_unchanged "$S" "not a CA" H ca import --name "Leaf As CA" --cert "$T/host.pem" --key "$T/k"
expect_fail_unchanged "$S" "usage" H ca create-root
expect_fail_unchanged "$S" "usage|unknown" H ca frobnicate
expect_fail_unchanged "$S" "unknown CA" H ca show nope --pem
H csr --key-label dup-label --key ec-256 --subject "CN=dup.example.test" >/dev/null
expect_fail_unchanged "$S" "already on the token" H csr --key-label dup-label --key ec-256 --subject "CN=x"

step "audit verify catches an edited row"
H audit verify | grep -qx OK || fail "audit verify does not say OK"
id=$(sqlite3 "$S/hsmca.db" "SELECT min(id) FROM audit WHERE event='ca.created'")
sqlite3 "$S/hsmca.db" "UPDATE audit SET actor='mallory' WHERE id=$id"
err=$(H audit verify 2>&1) && fail "audit verify accepted an edited row"
grep -q "broken at row $id" <<<"$err" || fail "audit verify does not name row $id: $err"
echo "PASS"
