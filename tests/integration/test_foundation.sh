#!/bin/bash
# Issue #2 end to end with the CLI: init, root (ec-384) -> intermediate (rsa-2048) -> server leaf
# from an openssl CSR, chain and extension checks, key attributes on the token, PKCS#12 import,
# HSM-made CSR, and every bad input leaving the database unchanged.
. "$(dirname "$0")/lib.sh"
S=$T/state
H() { "$HSMCA_BIN" "$@" --state "$S"; }

step "init"
hsmca_init "$S"
[ "$(stat -c %a "$S/pin")" = 600 ] || fail "pin file is not 0600"
pkcs11 "$S" -O >/dev/null || fail "pkcs11-tool cannot list the token objects with the stored PIN"
H ca list | grep -q . || fail "init made no CA"
expect_fail_unchanged "$S" "already initiali[sz]ed" "$HSMCA_BIN" init --state "$S"

step "root ec-384 -> intermediate rsa-2048 -> server leaf"
H ca create-root --name "Test Root" --key ec-384 --days 3650 >/dev/null
H ca create-intermediate --parent test-root --name "Test Inter" --key rsa-2048 --days 1825 >/dev/null
H ca show test-root --pem >"$T/root.pem"
H ca show test-inter --pem >"$T/inter.pem"
openssl x509 -in "$T/root.pem" -noout -text | grep -q "ASN1 OID: secp384r1" || fail "root is not P-384"
openssl x509 -in "$T/inter.pem" -noout -text | grep -q "Public-Key: (2048 bit)" || fail "intermediate is not RSA-2048"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/leaf.key" -subj "/CN=www.example.test" \
	-addext "subjectAltName=DNS:www.example.test,DNS:api.example.test,IP:192.0.2.7" -out "$T/leaf.csr" 2>/dev/null
H issue --ca test-inter --csr "$T/leaf.csr" --profile server --days 90 >"$T/leaf.pem"
openssl verify -CAfile "$T/root.pem" -untrusted "$T/inter.pem" "$T/leaf.pem" || fail "chain does not verify"
txt=$(openssl x509 -in "$T/leaf.pem" -noout -text)
for want in "Subject Key Identifier" "Authority Key Identifier" "CRL Distribution Points" \
	"/crl/test-inter.crl" "CA Issuers - URI:.*/ca/test-inter.crt" "DNS:www.example.test" \
	"DNS:api.example.test" "IP Address:192.0.2.7" "TLS Web Server Authentication"; do
	grep -Eq "$want" <<<"$txt" || fail "leaf lacks $want"
done
serial=$(openssl x509 -in "$T/leaf.pem" -noout -serial | cut -d= -f2)
[ ${#serial} -ge 30 ] || fail "serial $serial is not ~16 random bytes"
[ "$(sqlite3 "$S/hsmca.db" "SELECT count(*) FROM certificates WHERE serial='$serial'")" = 1 ] || fail "leaf not in the inventory"
[ "$(sqlite3 "$S/hsmca.db" "SELECT status FROM orders ORDER BY id DESC LIMIT 1")" = complete ] || fail "order not complete"

step "every CA private key is sensitive and never extractable"
objs=$(pkcs11 "$S" -O)
n_priv=$(echo "$objs" | grep -c "^Private Key Object")
[ "$n_priv" -ge 4 ] || fail "expected at least 4 CA keys on the token, saw $n_priv"
n_good=$(echo "$objs" | grep -c "Access: *sensitive, always sensitive, never extractable")
[ "$n_good" -ge 4 ] || { echo "$objs"; fail "CA keys are not all sensitive and never extractable"; }

step "import a PKCS#12 CA and issue from it"
openssl req -x509 -newkey rsa:3072 -nodes -keyout "$T/ext.key" -subj "/CN=External CA" -days 1000 \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$T/ext.pem" 2>/dev/null
echo "p12-secret" >"$T/p12.pass"
openssl pkcs12 -export -inkey "$T/ext.key" -in "$T/ext.pem" -passout file:"$T/p12.pass" -out "$T/ext.p12"
H ca import --name "External" --cert "$T/ext.pem" --pkcs12 "$T/ext.p12" --password-file "$T/p12.pass" >/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/c.key" -subj "/CN=client one" -out "$T/c.csr" 2>/dev/null
H issue --ca external --csr "$T/c.csr" --profile client >"$T/c.pem"
openssl verify -CAfile "$T/ext.pem" "$T/c.pem" || fail "leaf of the imported CA does not verify"
openssl x509 -in "$T/c.pem" -noout -text | grep -q "TLS Web Client Authentication" || fail "client profile lacks clientAuth"

step "HSM-made CSR"
H csr --key-label web-1 --key ec-256 --subject "CN=web-1.example.test" --san DNS:web-1.example.test --san IP:10.0.0.1 >"$T/hsm.csr"
openssl req -in "$T/hsm.csr" -verify -noout || fail "HSM CSR does not verify"
openssl req -in "$T/hsm.csr" -noout -text | grep -q "DNS:web-1.example.test" || fail "HSM CSR lacks its SAN"
pkcs11 "$S" -O | grep -q "label: *web-1" || fail "the CSR's key is not on the token"

step "bad input: clear error, unchanged database"
head -c 700 /dev/urandom >"$T/garbage.csr"
expect_fail_unchanged "$S" "CSR" H issue --ca test-inter --csr "$T/garbage.csr"
openssl req -in "$T/leaf.csr" -outform DER -out "$T/leaf.der"
python3 - "$T/leaf.der" "$T/broken.der" <<'PY'
import sys
d = bytearray(open(sys.argv[1], 'rb').read()); d[-5] ^= 0x40
open(sys.argv[2], 'wb').write(d)
PY
expect_fail_unchanged "$S" "signature" H issue --ca test-inter --csr "$T/broken.der"
openssl req -new -newkey rsa:1024 -nodes -keyout "$T/weak.key" -subj "/CN=weak" -out "$T/weak.csr" 2>/dev/null
expect_fail_unchanged "$S" "1024|too (small|short|weak)" H issue --ca test-inter --csr "$T/weak.csr"
expect_fail_unchanged "$S" "no-such-ca|unknown CA|not found" H issue --ca no-such-ca --csr "$T/leaf.csr"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/other.key" -subj "/CN=Other" -days 10 \
	-addext "basicConstraints=critical,CA:TRUE" -out "$T/other.pem" 2>/dev/null
expect_fail_unchanged "$S" "does not match|mismatch" H ca import --name "Mismatch" --cert "$T/other.pem" --key "$T/ext.key"
cp "$S/pin" "$T/pin.good"
printf 'wrong-pin-0000' >"$S/pin"
expect_fail_unchanged "$S" "PIN|login" H issue --ca test-inter --csr "$T/leaf.csr"
cp "$T/pin.good" "$S/pin"
H issue --ca test-inter --csr "$T/leaf.csr" >/dev/null || fail "issuing after restoring the PIN failed"

step "audit chain verifies"
H audit verify || fail "audit chain does not verify"
echo "PASS"
