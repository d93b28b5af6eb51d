#!/bin/bash
# Issue #4 "Download PFX" against the real daemon: for a certificate whose key the appliance made
# on the token (POST /api/v1/certificates with "key"), POST .../pfx returns a random password and
# a PKCS#12 that `openssl pkcs12 -info` and Java's keytool open: key matching the certificate,
# friendly name = common name, the chain to the root, AES-256-CBC/PBKDF2 by default and
# 3DES/SHA-1 with "legacy": true. A CSR-issued certificate is 409; so is a revoked one; auditors
# and operators outside the CA's teams are 403; the password is never stored or logged; each
# export is audited; bad input changes no row.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
S=$T/state
command -v keytool >/dev/null || fail "keytool missing: apt-get install -y default-jre-headless (scripts/setup.sh)"

hsmca_init "$S"
serve_start "$S"
login admin "$(cat "$S.admin-password")"
ADMIN=$TOKEN_OUT

step "CAs, a team operator, an outsider, an auditor"
api POST /api/v1/cas '{"name":"Pfx Root","key":"ec-384"}' "$ADMIN"
expect 201
api POST /api/v1/cas '{"name":"Pfx Issuing","key":"rsa-2048","parent":"pfx-root","days":700}' "$ADMIN"
expect 201
INT_ID=$(jget 'j["id"]')
api GET "/api/v1/cas/$INT_ID/chain" "" "$ADMIN"
printf '%s\n' "$BODY" >"$T/chain.pem"
openssl x509 -in "$T/chain.pem" -out "$T/int.pem"
awk '/BEGIN/{n++} n==2' "$T/chain.pem" >"$T/root.pem"
mkuser() {
	api POST /api/v1/users "{\"username\":\"$1\",\"role\":\"$2\",\"password\":\"$1-password-1\",\"must_change_password\":false}" "$ADMIN"
	expect 201
	jget 'j["id"]'
}
OP_ID=$(mkuser op operator)
mkuser out operator >/dev/null
mkuser aud auditor >/dev/null
api POST /api/v1/teams '{"name":"pfx"}' "$ADMIN"
TEAM=$(jget 'j["id"]')
api PUT "/api/v1/teams/$TEAM/members/$OP_ID" "" "$ADMIN"
expect 204
api PUT "/api/v1/teams/$TEAM/cas/$INT_ID" "" "$ADMIN"
expect 204
login op op-password-1
OP=$TOKEN_OUT
login out out-password-1
OUT=$TOKEN_OUT
login aud aud-password-1
AUD=$TOKEN_OUT

step "server-side key generation (contract body), RSA and EC"
api POST /api/v1/certificates '{"ca":"pfx-issuing","key":"rsa-2048","subject":"CN=pfx1.example.test","sans":["DNS:pfx1.example.test"]}' "$ADMIN"
expect 201
RSA_ID=$(jget 'j["id"]')
jget 'j["certificate"]' | sed '/^$/d' >"$T/rsa.pem"
api POST /api/v1/certificates '{"ca":"pfx-issuing","key":"ec-256","subject":"CN=pfx2.example.test"}' "$ADMIN"
expect 201
EC_ID=$(jget 'j["id"]')
jget 'j["certificate"]' | sed '/^$/d' >"$T/ec.pem"

# export ID TOKEN NAME [BODY]: POST .../pfx; writes $T/NAME.pfx and $T/NAME.pw.
export_pfx() {
	api POST "/api/v1/certificates/$1/pfx" "${4:-}" "$2"
	expect 200
	jget 'j["password"]' >"$T/$3.pw"
	jget 'j["pfx"]' | base64 -d >"$T/$3.pfx"
}
# check_pfx NAME CERTPEM CN: openssl and keytool open it; key, chain and friendly name are right.
check_pfx() {
	local pw
	pw=$(cat "$T/$1.pw")
	[ ${#pw} -ge 16 ] || fail "password shorter than 16: ${#pw}"
	openssl pkcs12 -in "$T/$1.pfx" -info -passin "pass:$pw" -nodes >"$T/$1.txt" 2>"$T/$1.info" ||
		fail "openssl pkcs12 -info cannot open $1: $(cat "$T/$1.info")"
	grep -q "friendlyName: $3" "$T/$1.txt" || fail "friendly name is not $3: $(grep friendlyName "$T/$1.txt")"
	[ "$(grep -c 'BEGIN CERTIFICATE' "$T/$1.txt")" = 3 ] || fail "$1: leaf and chain expected (3 certificates)"
	grep -q 'BEGIN PRIVATE KEY' "$T/$1.txt" || fail "$1: no private key"
	openssl pkcs12 -in "$T/$1.pfx" -passin "pass:$pw" -nocerts -nodes 2>/dev/null | openssl pkey -pubout >"$T/$1.pub"
	openssl x509 -in "$2" -noout -pubkey >"$T/$1.certpub"
	cmp -s "$T/$1.pub" "$T/$1.certpub" || fail "$1: the key does not match the certificate"
	openssl pkcs12 -in "$T/$1.pfx" -passin "pass:$pw" -clcerts -nokeys 2>/dev/null | openssl x509 >"$T/$1.leaf"
	cmp -s "$T/$1.leaf" <(openssl x509 -in "$2") || fail "$1: wrong leaf certificate"
	keytool -list -v -storetype PKCS12 -keystore "$T/$1.pfx" -storepass "$pw" >"$T/$1.kt" 2>&1 ||
		fail "keytool cannot open $1: $(cat "$T/$1.kt")"
	grep -q "PrivateKeyEntry" "$T/$1.kt" && grep -q "Alias name: $3" "$T/$1.kt" || fail "keytool: $(cat "$T/$1.kt")"
	grep -q "Certificate chain length: 3" "$T/$1.kt" || fail "keytool chain: $(grep -i chain "$T/$1.kt")"
}

step "default export: AES-256-CBC, PBKDF2-SHA256; openssl and keytool open it"
export_pfx "$RSA_ID" "$ADMIN" rsa
check_pfx rsa "$T/rsa.pem" pfx1.example.test
grep -q "AES-256-CBC" "$T/rsa.info" && grep -q "PBKDF2" "$T/rsa.info" || fail "not AES/PBKDF2: $(cat "$T/rsa.info")"
grep -q "MAC: sha256" "$T/rsa.info" || fail "MAC not SHA-256: $(cat "$T/rsa.info")"
export_pfx "$EC_ID" "$OP" ec '{}'
check_pfx ec "$T/ec.pem" pfx2.example.test

step "legacy: 3DES/SHA-1 (old Windows); keytool opens it too"
export_pfx "$RSA_ID" "$ADMIN" legacy '{"legacy":true}'
check_pfx legacy "$T/rsa.pem" pfx1.example.test
grep -qi "3DES\|TripleDES\|des-ede3" "$T/legacy.info" || fail "legacy is not 3DES: $(cat "$T/legacy.info")"
grep -q "MAC: sha1" "$T/legacy.info" || fail "legacy MAC not SHA-1: $(cat "$T/legacy.info")"
export_pfx "$RSA_ID" "$ADMIN" nolegacy '{"legacy":false}'
grep -q "AES-256-CBC" <(openssl pkcs12 -in "$T/nolegacy.pfx" -info -passin "pass:$(cat "$T/nolegacy.pw")" -nodes 2>&1 >/dev/null) ||
	fail "legacy:false is not AES"

step "passwords: random per export, never stored, never logged; exports audited"
[ "$(cat "$T/rsa.pw")" != "$(cat "$T/legacy.pw")" ] || fail "same password twice"
for f in rsa ec legacy nolegacy; do
	pw=$(cat "$T/$f.pw")
	if grep -q -- "$pw" "$T/serve.log"; then fail "a PFX password is in the log"; fi
	if sqlite3 "$S/hsmca.db" .dump | grep -q -- "$pw"; then fail "a PFX password is in the database"; fi
done
[ "$(db "SELECT count(*) FROM audit WHERE event='certificate.download_pfx.success'")" = 4 ] || fail "audit rows"
[ "$(db "SELECT count(*) FROM audit WHERE event='certificate.download_pfx.success' AND actor='user:op'")" = 1 ] ||
	fail "audit actor"

step "409: CSR-issued certificate (key never held); revoked certificate"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -out "$T/csr.csr" \
	-subj "/CN=csr.example.test" 2>/dev/null
api POST /api/v1/certificates "$(python3 -c 'import json,sys; print(json.dumps({"ca":"pfx-issuing","csr":open(sys.argv[1]).read()}))' "$T/csr.csr")" "$ADMIN"
expect 201
CSR_ID=$(jget 'j["id"]')
# Row counts without revocation_codes: the scheduler prunes used and expired revocation codes
# at moments of its own, and a PFX export never touches that table.
counts_but_codes() { row_counts "$S" | sed 's/revocation_codes=[0-9]* *//'; }
before=$(counts_but_codes)
api POST "/api/v1/certificates/$CSR_ID/pfx" "" "$ADMIN"
expect 409 conflict
grep -q "never held" <<<"$BODY" || fail "409 does not explain: $BODY"
[ "$(counts_but_codes)" = "$before" ] || fail "rows changed after a refused export"
api POST "/api/v1/certificates/$EC_ID/revocation" "" "$ADMIN"
expect 201
api POST "/api/v1/certificates/$EC_ID/revoke" "{\"code\":\"$(jget 'j["code"]')\",\"reason\":\"keyCompromise\"}" "$ADMIN"
expect 200
api POST "/api/v1/certificates/$EC_ID/pfx" "" "$ADMIN"
expect 409 conflict

step "permissions and bad input: 4xx, no row changes"
bad() {
	local before after
	before=$(counts_but_codes)
	api POST "$1" "$2" "$3"
	# An unexpected success carries a password: do not print it.
	[ "$STATUS" != 200 ] || fail "POST $1 ${2:0:60} unexpectedly exported a PFX"
	expect "$4" "${5:-}"
	after=$(counts_but_codes)
	[ "$before" = "$after" ] || fail "rows changed after POST $1 ${2:0:60}: $before -> $after"
	if [ "$4" != 200 ] && grep -q '"password"' <<<"$BODY"; then fail "a refusal carries a password"; fi
}
bad "/api/v1/certificates/$RSA_ID/pfx" "" "$AUD" 403 forbidden
bad "/api/v1/certificates/$RSA_ID/pfx" "" "$OUT" 403 forbidden
bad "/api/v1/certificates/$RSA_ID/pfx" "" "" 401
for body in '{' '[]' 'null' '{"legacy":"yes"}' '{"legacy":1}' '{"legacy":true,"legacy":false}' '{"password":"mine"}'; do
	bad "/api/v1/certificates/$RSA_ID/pfx" "$body" "$ADMIN" 400 invalid_request
done
for p in 999999 0 -1 abc '..%2f..%2fetc%2fpasswd' '1;DROP%20TABLE%20certificates' '%27%20OR%201=1'; do
	bad "/api/v1/certificates/$p/pfx" "" "$ADMIN" 404 not_found
done
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HTTP_URL/api/v1/certificates/$RSA_ID/pfx")" = 404 ] ||
	fail "PFX must not be on plain HTTP"
serve_stop
"$HSMCA_BIN" audit verify --state "$S" >/dev/null || fail "audit chain does not verify"
echo PASS
