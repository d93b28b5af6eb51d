#!/bin/bash
# CA certificate rollover (issue #6 GetNextCACert): REST start / show / cancel / activate with
# permissions, 404s and 409, the SCEP side (GetCACaps lists GetNextCACert only while a rollover is
# pending; GetNextCACert is a SignedData by the CURRENT RA holding the next RA and CA certificates,
# checked with openssl cms / pkcs7), keys on and off the token, an intermediate and a root, then
# activation: a sceppeer enrollment chains to the NEW CA certificate, not the old one; the new
# certificate names the key generation in its CDP/AIA (<slug>.g2); each key keeps its CRL at the
# URL its certificates carry (openssl crl / verify -crl_check) and OCSP answers old-key
# certificates signed by the OLD key (good, then revoked). After the root's activation the
# intermediate's GetCACert chain still verifies; deleting a CA with a pending rollover takes its
# next keys off the token.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
S=$T/state
"$HSMCA_SHARED/peers/setup.sh" >/dev/null
PEERS=${PEERS_BIN:-/tmp/hsmca-peers/bin}

hsmca_init "$S"
serve_start "$S"
login admin "$(cat "$S.admin-password")"
ADMIN=$TOKEN_OUT
CA=demo-issuing-ca
ROOT=demo-root-ca
CA_ID=$(db "SELECT id FROM cas WHERE slug='$CA'")
ROOT_ID=$(db "SELECT id FROM cas WHERE slug='$ROOT'")
URL=$HTTP_URL/scep/$CA

caps() { curl -s "$1?operation=GetCACaps"; }
# scep_get URL OP OUT: HTTP status of a SCEP GET; body in OUT, content type in OUT.ct
scep_get() {
	curl -s -o "$3" -w '%{http_code} %{content_type}' "$1?operation=$2" >"$3.st"
	cut -d' ' -f2 "$3.st" >"$3.ct"
	cut -d' ' -f1 "$3.st"
}
token_labels() { pkcs11 "$S" -O --type privkey | sed -n 's/^ *label: *//p' | sort; }
spki() { openssl x509 -in "$1" -noout -pubkey; }
fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'; }
# split_pem IN PREFIX: PREFIX0.pem, PREFIX1.pem, ... in order
split_pem() {
	awk -v p="$2" -v n=0 '/BEGIN CERT/{f=p n ".pem"; n++} f{print >f} /END CERT/{f=""}' "$1"
}
audit_count() { db "SELECT count(*) FROM audit WHERE event='$1' AND object='$2'"; }

step "no rollover: GetCACaps without GetNextCACert, GetNextCACert 404"
caps "$URL" | grep -qx POSTPKIOperation || fail "caps: $(caps "$URL")"
caps "$URL" | grep -q GetNextCACert && fail "GetNextCACert listed without a rollover"
[ "$(scep_get "$URL" GetNextCACert "$T/none")" = 404 ] || fail "GetNextCACert without rollover"
api GET "/api/v1/cas/$CA_ID" "" "$ADMIN"
expect 200
[ "$(jget 'j["next"]')" = "" ] || fail "next before any rollover: $BODY"
# The current chain as a client pinned it (RA, CA, root) before anything changes.
[ "$(scep_get "$URL" GetCACert "$T/cacert.der")" = 200 ] || fail "GetCACert"
openssl pkcs7 -inform DER -in "$T/cacert.der" -print_certs >"$T/cur.pem"
split_pem "$T/cur.pem" "$T/cur"
[ -s "$T/cur2.pem" ] || fail "GetCACert has no root"
OLD_FP=$(db "SELECT fingerprint_sha256 FROM cas WHERE id=$CA_ID")
[ "$(fp "$T/cur1.pem")" = "$OLD_FP" ] || fail "GetCACert's CA is not the CA"

step "permissions, unknown id, bad bodies: refused, nothing changed"
api POST /api/v1/users '{"username":"olga","role":"operator","password":"olga-pass-12"}' "$ADMIN"
expect 201
login olga olga-pass-12
OP=$TOKEN_OUT
api POST /api/v1/users '{"username":"audrey","role":"auditor","password":"audrey-pass-1"}' "$ADMIN"
expect 201
login audrey audrey-pass-1
AUD=$TOKEN_OUT
before=$(row_counts "$S"); keys_before=$(token_labels)
for tok in "$OP" "$AUD"; do
	api POST "/api/v1/cas/$CA_ID/rollover" "" "$tok"; expect 403 forbidden
	api POST "/api/v1/cas/$CA_ID/rollover/activate" "" "$tok"; expect 403 forbidden
	api DELETE "/api/v1/cas/$CA_ID/rollover" "" "$tok"; expect 403 forbidden
done
api POST "/api/v1/cas/$CA_ID/rollover" "" ""; expect 401
api POST /api/v1/cas/999999/rollover "" "$ADMIN"; expect 404 not_found
api POST /api/v1/cas/999999/rollover/activate "" "$ADMIN"; expect 404 not_found
api DELETE /api/v1/cas/999999/rollover "" "$ADMIN"; expect 404 not_found
api POST "/api/v1/cas/$CA_ID/rollover/activate" "" "$ADMIN"; expect 404 not_found
api DELETE "/api/v1/cas/$CA_ID/rollover" "" "$ADMIN"; expect 404 not_found
api POST "/api/v1/cas/$CA_ID/rollover" '{"key":"dsa-1024"}' "$ADMIN"; expect 400
api POST "/api/v1/cas/$CA_ID/rollover" '{"days":0}' "$ADMIN"; expect 400
api POST "/api/v1/cas/$CA_ID/rollover" '{"days":"10"}' "$ADMIN"; expect 400
api POST "/api/v1/cas/$CA_ID/rollover" '{"extra":1}' "$ADMIN"; expect 400
api POST "/api/v1/cas/$CA_ID/rollover" '[1]' "$ADMIN"; expect 400
[ "$(row_counts "$S")" = "$before" ] || fail "rows changed by refused requests: $before -> $(row_counts "$S")"
[ "$(token_labels)" = "$keys_before" ] || fail "token keys changed by refused requests"

step "start a rollover of the intermediate: new key on the token, same subject"
api POST "/api/v1/cas/$CA_ID/rollover" "" "$ADMIN"
expect 201
NEXT_SERIAL=$(jget 'j["next"]["serial"]')
NEXT_FP=$(jget 'j["next"]["fingerprint_sha256"]')
[ "$(jget 'j["next"]["key"]')" = rsa-2048 ] || fail "default key type: $BODY"
jget 'j["next"]["certificate"]' >"$T/next-api.pem"
[ -n "$NEXT_SERIAL" ] && [ "$NEXT_FP" != "$OLD_FP" ] || fail "start: $BODY"
# subject and issuer as the certificate says (a rollover keeps the subject)
[ "$(jget 'j["next"]["subject"]')" = "$(openssl x509 -in "$T/next-api.pem" -noout -subject -nameopt RFC2253 | sed 's/^subject=//')" ] &&
	[ "$(jget 'j["next"]["issuer"]')" = "$(openssl x509 -in "$T/next-api.pem" -noout -issuer -nameopt RFC2253 | sed 's/^issuer=//')" ] ||
	fail "next subject/issuer: $BODY"
token_labels | grep -qx "ca-$CA-next" || fail "no next CA key on the token: $(token_labels)"
token_labels | grep -qx "ra-$CA-next" || fail "no next RA key on the token"
pkcs11 "$S" -O --type privkey | grep -A8 "label: *ca-$CA-next" | grep -q "never extractable" ||
	fail "next CA key is extractable"
api GET "/api/v1/cas/$CA_ID" "" "$ADMIN"
expect 200
[ "$(jget 'j["next"]["serial"]')" = "$NEXT_SERIAL" ] && [ -n "$(jget 'j["next"]["valid_to"]')" ] ||
	fail "GET /cas/{id} shows no next: $BODY"
[ "$(jget 'j["fingerprint_sha256"]')" = "$OLD_FP" ] || fail "the CA changed before activation"
api GET "/api/v1/cas/$CA_ID/rollover" "" "$AUD"
expect 200
[ "$(jget 'j["next"]["serial"]')" = "$NEXT_SERIAL" ] && [ "$(jget 'len(j["history"])')" = 0 ] || fail "$BODY"
[ "$(audit_count ca.rollover.created "$CA")" = 1 ] || fail "no audit row ca.rollover.created"
# The parent keeps the next intermediate certificate in its inventory.
[ "$(db "SELECT profile FROM certificates WHERE serial='$NEXT_SERIAL'")" = subca ] || fail "next cert not in parent's inventory"

step "a second rollover while one is pending: 409, nothing made"
keys_before=$(token_labels)
api POST "/api/v1/cas/$CA_ID/rollover" '{"days":30}' "$ADMIN"
expect 409 conflict
[ "$(token_labels)" = "$keys_before" ] || fail "the refused rollover left keys on the token"

step "SCEP: GetCACaps lists GetNextCACert; GetNextCACert signed by the current RA"
caps "$URL" | grep -qx GetNextCACert || fail "GetNextCACert not listed: $(caps "$URL")"
caps "$HTTP_URL/scep/$ROOT" | grep -q GetNextCACert && fail "the root lists GetNextCACert without a rollover"
[ "$(scep_get "$URL/pkiclient.exe" GetNextCACert "$T/next.der")" = 200 ] || fail "GetNextCACert: $(cat "$T/next.der")"
[ "$(cat "$T/next.der.ct")" = application/x-x509-next-ca-cert ] || fail "content type $(cat "$T/next.der.ct")"
# Verified against the root a client already trusts; the signer must be the current RA.
openssl cms -verify -inform DER -in "$T/next.der" -CAfile "$T/cur2.pem" -binary -out "$T/inner.der" \
	-signer "$T/signer.pem" 2>"$T/verify.err" || fail "GetNextCACert does not verify: $(cat "$T/verify.err")"
[ "$(fp "$T/signer.pem")" = "$(fp "$T/cur0.pem")" ] || fail "GetNextCACert not signed by the current RA"
openssl pkcs7 -inform DER -in "$T/inner.der" -print_certs >"$T/next.pem" || fail "content is not a PKCS#7"
split_pem "$T/next.pem" "$T/nx"
[ -s "$T/nx2.pem" ] && [ ! -e "$T/nx3.pem" ] || fail "expected next RA, next CA, root: $(grep -c BEGIN "$T/next.pem")"
[ "$(fp "$T/nx1.pem")" = "$NEXT_FP" ] && [ "$(fp "$T/nx1.pem")" = "$(fp "$T/next-api.pem")" ] ||
	fail "GetNextCACert's CA is not the next certificate"
[ "$(fp "$T/nx2.pem")" = "$(fp "$T/cur2.pem")" ] || fail "GetNextCACert's chain does not end at the root"
[ "$(openssl x509 -in "$T/nx1.pem" -noout -subject -nameopt RFC2253)" = \
  "$(openssl x509 -in "$T/cur1.pem" -noout -subject -nameopt RFC2253)" ] || fail "next CA subject differs"
[ "$(spki "$T/nx1.pem")" != "$(spki "$T/cur1.pem")" ] || fail "next CA has the old key"
openssl verify -CAfile "$T/cur2.pem" "$T/nx1.pem" >/dev/null || fail "next CA does not chain to the root"
openssl verify -CAfile "$T/cur2.pem" -untrusted "$T/nx1.pem" "$T/nx0.pem" >/dev/null || fail "next RA does not chain to the next CA"
openssl verify -CAfile "$T/cur2.pem" -untrusted "$T/cur1.pem" "$T/nx0.pem" >/dev/null 2>&1 && fail "next RA verifies with the OLD CA"
openssl x509 -in "$T/nx0.pem" -noout -ext keyUsage | grep -q "Key Encipherment" || fail "next RA keyUsage"

step "cancel: 404 again, keys gone from the token, next certificate revoked at the parent"
api DELETE "/api/v1/cas/$CA_ID/rollover" "" "$ADMIN"
expect 200
[ "$(jget 'j["cancelled"]')" = true ] || fail "$BODY"
[ "$(scep_get "$URL" GetNextCACert "$T/none")" = 404 ] || fail "GetNextCACert after cancel"
caps "$URL" | grep -q GetNextCACert && fail "GetNextCACert still listed after cancel"
token_labels | grep -q -- "-next$" && fail "cancel left keys on the token: $(token_labels)"
[ "$(db "SELECT revocation_reason FROM certificates WHERE serial='$NEXT_SERIAL' AND revoked_at IS NOT NULL")" = 5 ] ||
	fail "cancelled next certificate not revoked (cessationOfOperation)"
api GET "/api/v1/cas/$CA_ID" "" "$ADMIN"
[ "$(jget 'j["next"]')" = "" ] || fail "next after cancel: $BODY"
api DELETE "/api/v1/cas/$CA_ID/rollover" "" "$ADMIN"; expect 404
[ "$(audit_count ca.rollover.cancelled "$CA")" = 1 ] || fail "no audit row ca.rollover.cancelled"

step "a root (EC P-384): self-signed next certificate with another key type, then cancel"
api POST "/api/v1/cas/$ROOT_ID/rollover" '{"key":"ec-256","days":400}' "$ADMIN"
expect 201
[ "$(jget 'j["next"]["key"]')" = ec-256 ] || fail "$BODY"
caps "$HTTP_URL/scep/$ROOT" | grep -qx GetNextCACert || fail "root: GetNextCACert not listed"
[ "$(scep_get "$HTTP_URL/scep/$ROOT" GetNextCACert "$T/rnext.der")" = 200 ] || fail "root GetNextCACert"
openssl cms -verify -inform DER -in "$T/rnext.der" -CAfile "$T/cur2.pem" -binary -out "$T/rinner.der" 2>"$T/verify.err" ||
	fail "root GetNextCACert does not verify with the current root: $(cat "$T/verify.err")"
openssl pkcs7 -inform DER -in "$T/rinner.der" -print_certs >"$T/rnext.pem"
split_pem "$T/rnext.pem" "$T/rn"
[ -s "$T/rn1.pem" ] && [ ! -e "$T/rn2.pem" ] || fail "root: expected next RA and next root"
openssl verify -CAfile "$T/rn1.pem" "$T/rn1.pem" >/dev/null || fail "next root is not self-signed"
openssl verify -CAfile "$T/rn1.pem" "$T/rn0.pem" >/dev/null || fail "next root RA"
openssl x509 -in "$T/rn1.pem" -noout -text | grep -q "NIST CURVE: P-256" || fail "next root key type"
api DELETE "/api/v1/cas/$ROOT_ID/rollover" "" "$ADMIN"
expect 200
token_labels | grep -q -- "-next$" && fail "root cancel left keys"

step "issue under the old key, then roll over again and activate"
api POST /api/v1/scep-auth "{\"name\":\"roll\",\"ca\":\"$CA\",\"one_time\":false}" "$ADMIN"
expect 201
SECRET=$(jget 'j["secret"]')
"$PEERS/sceppeer" enroll -url "$URL" -cn before-roll -challenge "$SECRET" -out "$T/before.pem" || fail "enroll before"
openssl verify -CAfile "$T/cur2.pem" -untrusted "$T/cur1.pem" "$T/before.pem" >/dev/null || fail "old cert chain"
BEFORE_ID=$(db "SELECT id FROM certificates WHERE common_name='before-roll'")
api POST "/api/v1/cas/$CA_ID/rollover" '{"days":400}' "$ADMIN"
expect 201
NEXT_FP=$(jget 'j["next"]["fingerprint_sha256"]')
jget 'j["next"]["certificate"]' >"$T/new-ca.pem"
api POST "/api/v1/cas/$CA_ID/rollover/activate" "" "$ADMIN"
expect 200
[ "$(jget 'j["fingerprint_sha256"]')" = "$NEXT_FP" ] || fail "activate: $BODY"
[ "$(audit_count ca.rollover.activated "$CA")" = 1 ] || fail "no audit row ca.rollover.activated"
api GET "/api/v1/cas/$CA_ID" "" "$ADMIN"
[ "$(jget 'j["fingerprint_sha256"]')" = "$NEXT_FP" ] && [ "$(jget 'j["next"]')" = "" ] &&
	[ "$(jget 'j["key_generation"]')" = 2 ] && jget 'j["certificate_url"]' | grep -q "/ca/$CA.g2.crt$" ||
	fail "CA after activation: $BODY"
api GET "/api/v1/cas/$CA_ID/rollover" "" "$ADMIN"
[ "$(jget 'len(j["history"])')" = 1 ] && [ "$(jget 'j["history"][0]["fingerprint_sha256"]')" = "$OLD_FP" ] &&
	[ "$(jget 'j["history"][0]["key_generation"]')" = 1 ] ||
	fail "old certificate not in the history: $BODY"
api POST "/api/v1/cas/$CA_ID/rollover/activate" "" "$ADMIN"; expect 404
# The certificate issued under the old key is still there.
api GET "/api/v1/certificates/$BEFORE_ID" "" "$ADMIN"
expect 200
caps "$URL" | grep -q GetNextCACert && fail "GetNextCACert listed after activation"

step "after activation: GetCACert has the new CA; a new enrollment chains to it, not to the old one"
[ "$(scep_get "$URL" GetCACert "$T/cacert2.der")" = 200 ] || fail "GetCACert after activation"
openssl pkcs7 -inform DER -in "$T/cacert2.der" -print_certs >"$T/new.pem"
split_pem "$T/new.pem" "$T/new"
[ "$(fp "$T/new1.pem")" = "$NEXT_FP" ] || fail "GetCACert still has the old CA"
[ "$(fp "$T/new0.pem")" = "$(fp "$T/nx0.pem")" ] && fail "GetCACert has the cancelled RA"
openssl verify -CAfile "$T/cur2.pem" -untrusted "$T/new1.pem" "$T/new0.pem" >/dev/null || fail "new RA chain"
rm -rf "$T/after"
"$HSMCA_SHARED/peers/enroll.sh" sceppeer "$URL" "$SECRET" after-roll "$T/after" >/dev/null || fail "enroll after activation"
openssl verify -CAfile "$T/cur2.pem" -untrusted "$T/new-ca.pem" "$T/after/cert.pem" >/dev/null ||
	fail "the new certificate does not chain to the NEW CA certificate"
openssl verify -CAfile "$T/cur2.pem" -untrusted "$T/cur1.pem" "$T/after/cert.pem" >/dev/null 2>&1 &&
	fail "the new certificate verifies with the OLD CA key"

step "after activation: certificate URLs name the key generation; the CA certificates behind them"
openssl x509 -in "$T/after/cert.pem" -noout -ext crlDistributionPoints,authorityInfoAccess >"$T/after.ext"
grep -q "URI:.*/crl/$CA.g2.crl" "$T/after.ext" && grep -q "CA Issuers - URI:.*/ca/$CA.g2.crt" "$T/after.ext" &&
	grep -q "OCSP - URI:.*/ocsp/$CA\$" "$T/after.ext" || fail "new certificate URLs: $(cat "$T/after.ext")"
openssl x509 -in "$T/before.pem" -noout -ext crlDistributionPoints | grep -q "URI:.*/crl/$CA.crl" ||
	fail "old certificate CDP"
curl -s -o "$T/g2.crt" "$HTTP_URL/ca/$CA.g2.crt"
[ "$(fp "$T/g2.crt")" = "$NEXT_FP" ] || fail "/ca/$CA.g2.crt is not the new CA certificate"
curl -s -o "$T/g1.crt" "$HTTP_URL/ca/$CA.crt"
[ "$(fp "$T/g1.crt")" = "$OLD_FP" ] || fail "/ca/$CA.crt is not the first CA certificate (the AIA of old certificates)"
for p in "$CA.g3" "$CA.g1" "$CA.g02" "$CA.g" "$CA.x2"; do
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/ca/$p.crt")" = 404 ] || fail "/ca/$p.crt is not 404"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/crl/$p.crl")" = 404 ] || fail "/crl/$p.crl is not 404"
done

# verify_crl LEAF CA CRL: openssl verify -crl_check of LEAF under the root, CA and CRL (DER)
verify_crl() {
	openssl crl -inform DER -in "$3" -out "$3.pem"
	openssl verify -crl_check -CAfile "$T/cur2.pem" -untrusted "$2" -CRLfile "$3.pem" "$1" 2>&1
}
ocsp_old() {
	openssl ocsp -issuer "$T/cur1.pem" -cert "$T/before.pem" -url "$HTTP_URL/ocsp/$CA" -VAfile "$T/cur1.pem" \
		-resp_text 2>&1
}

step "after activation: each key's CRL at its own URL, signed by that key, listing what it issued"
api POST "/api/v1/cas/$CA_ID/crl" "" "$ADMIN"
expect 201
[ "$(jget 'j["key_generation"]')" = 2 ] || fail "publish answer: $BODY"
curl -s -o "$T/crl-g2.der" "$HTTP_URL/crl/$CA.g2.crl"
openssl crl -inform DER -in "$T/crl-g2.der" -CAfile "$T/new-ca.pem" -noout 2>&1 | grep -q "verify OK" ||
	fail "the .g2 CRL is not signed by the new key"
verify_crl "$T/after/cert.pem" "$T/new-ca.pem" "$T/crl-g2.der" | grep -q ": OK" ||
	fail "crl_check of the new certificate: $(verify_crl "$T/after/cert.pem" "$T/new-ca.pem" "$T/crl-g2.der")"
curl -s -o "$T/crl-g1.der" "$HTTP_URL/crl/$CA.crl"
openssl crl -inform DER -in "$T/crl-g1.der" -CAfile "$T/cur1.pem" -noout 2>&1 | grep -q "verify OK" ||
	fail "the CRL at the old URL is not signed by the old key"
verify_crl "$T/before.pem" "$T/cur1.pem" "$T/crl-g1.der" | grep -q ": OK" ||
	fail "crl_check of the old certificate: $(verify_crl "$T/before.pem" "$T/cur1.pem" "$T/crl-g1.der")"
G1_NUM=$(openssl crl -inform DER -in "$T/crl-g1.der" -noout -crlnumber | sed 's/.*=//')
ocsp_old >"$T/o1" || fail "openssl ocsp (old certificate): $(cat "$T/o1")"
grep -q "before.pem: good" "$T/o1" && grep -q "Response verify OK" "$T/o1" || fail "OCSP old certificate: $(cat "$T/o1")"
openssl ocsp -issuer "$T/new-ca.pem" -cert "$T/after/cert.pem" -url "$HTTP_URL/ocsp/$CA" -VAfile "$T/new-ca.pem" \
	>"$T/o2" 2>&1 && grep -q "cert.pem: good" "$T/o2" && grep -q "Response verify OK" "$T/o2" ||
	fail "OCSP new certificate: $(cat "$T/o2")"
# Asked with the wrong issuer, neither key answers for the other's certificate.
openssl ocsp -issuer "$T/new-ca.pem" -cert "$T/before.pem" -url "$HTTP_URL/ocsp/$CA" -VAfile "$T/new-ca.pem" \
	2>&1 | grep -q "before.pem: unknown" || fail "old certificate under the new issuer is not unknown"

step "revoking an old-key certificate: the old key's CRL and OCSP say so, the new key's CRL does not list it"
BEFORE_SERIAL=$(db "SELECT serial FROM certificates WHERE id=$BEFORE_ID")
api POST "/api/v1/certificates/$BEFORE_ID/revocation" "" "$ADMIN"
expect 201
CODE=$(jget 'j["code"]')
api POST "/api/v1/certificates/$BEFORE_ID/revoke" "{\"code\":\"$CODE\",\"reason\":\"keyCompromise\"}" "$ADMIN"
expect 200
# Published at once or batched (crl_batch_seconds): wait, bounded, for the old URL to list it.
for i in $(seq 1 40); do
	curl -s -o "$T/crl-g1.der" "$HTTP_URL/crl/$CA.crl" &&
		openssl crl -inform DER -in "$T/crl-g1.der" -noout -text 2>/dev/null | grep -q "Serial Number: $BEFORE_SERIAL" && break
	sleep 0.2
done
openssl crl -inform DER -in "$T/crl-g1.der" -noout -text | grep -q "Serial Number: $BEFORE_SERIAL" ||
	fail "the old key's CRL does not list the revoked certificate"
openssl crl -inform DER -in "$T/crl-g1.der" -CAfile "$T/cur1.pem" -noout 2>&1 | grep -q "verify OK" ||
	fail "the old key's new CRL is not signed by the old key"
[ "$(openssl crl -inform DER -in "$T/crl-g1.der" -noout -crlnumber | sed 's/.*=//')" != "$G1_NUM" ] || fail "CRL number"
verify_crl "$T/before.pem" "$T/cur1.pem" "$T/crl-g1.der" >"$T/v1" && fail "crl_check accepted the revoked old certificate"
grep -q "certificate revoked" "$T/v1" || fail "crl_check of the revoked old certificate: $(cat "$T/v1")"
ocsp_old >"$T/o3" || fail "openssl ocsp (revoked): $(cat "$T/o3")"
grep -q "before.pem: revoked" "$T/o3" && grep -q "Response verify OK" "$T/o3" || fail "OCSP after revocation: $(cat "$T/o3")"
curl -s -o "$T/crl-g2.der" "$HTTP_URL/crl/$CA.g2.crl"
openssl crl -inform DER -in "$T/crl-g2.der" -noout -text | grep -q "Serial Number: $BEFORE_SERIAL" &&
	fail "the new key's CRL lists a certificate of the old key"
verify_crl "$T/after/cert.pem" "$T/new-ca.pem" "$T/crl-g2.der" | grep -q ": OK" || fail "new certificate after revocation"
# Each generation's CRL numbers increase (one sequence per CA).
db "SELECT key_gen, number FROM crls WHERE ca_id=$CA_ID ORDER BY id" | awk -F'|' '
	{ if ($1 in last && $2 <= last[$1]) bad = 1; last[$1] = $2 } END { exit bad }' || fail "CRL numbers not increasing"
# A retired key with an unexpired certificate but no stored CRL (pruned, or a restored backup):
# its URL makes one on request, signed by the old key, as SCEP GetCRL does; no 404.
db "DELETE FROM crls WHERE ca_id=$CA_ID AND key_gen=1"
[ "$(curl -s -o "$T/crl-g1b.der" -w '%{http_code}' "$HTTP_URL/crl/$CA.crl")" = 200 ] ||
	fail "the old key's CRL URL without a stored CRL: $(cat "$T/crl-g1b.der")"
openssl crl -inform DER -in "$T/crl-g1b.der" -CAfile "$T/cur1.pem" -noout 2>&1 | grep -q "verify OK" ||
	fail "the old key's remade CRL is not signed by the old key"
openssl crl -inform DER -in "$T/crl-g1b.der" -noout -text | grep -q "Serial Number: $BEFORE_SERIAL" ||
	fail "the old key's remade CRL does not list the revoked old certificate"
[ "$(db "SELECT count(*) FROM crls WHERE ca_id=$CA_ID AND key_gen=1")" = 1 ] || fail "not exactly one old-key CRL made"

step "CLI: hsmca ca rollover / cancel-rollover / activate-rollover (daemon stopped)"
serve_stop
"$HSMCA_BIN" ca rollover --state "$S" --days 100 "$ROOT" | grep -q "next certificate of CA '$ROOT'" || fail "cli rollover"
expect_fail_unchanged "$S" "pending rollover" "$HSMCA_BIN" ca rollover --state "$S" "$ROOT"
"$HSMCA_BIN" ca cancel-rollover --state "$S" "$ROOT" | grep -q cancelled || fail "cli cancel"
expect_fail_unchanged "$S" "no pending rollover" "$HSMCA_BIN" ca activate-rollover --state "$S" "$ROOT"
expect_fail_unchanged "$S" "unknown CA" "$HSMCA_BIN" ca rollover --state "$S" no-such-ca
"$HSMCA_BIN" ca rollover --state "$S" --key rsa-3072 "$ROOT" >/dev/null || fail "cli rollover 2"
"$HSMCA_BIN" ca activate-rollover --state "$S" "$ROOT" | grep -q "new key" || fail "cli activate"
[ "$(db "SELECT key_spec FROM cas WHERE id=$ROOT_ID")" = rsa-3072 ] || fail "root key after cli activation"
[ "$(db "SELECT actor FROM audit WHERE event='ca.rollover.activated' AND object='$ROOT'")" = cli ] || fail "cli audit actor"

step "after the ROOT's activation: the intermediate's chain pairs it with the root key that signed it"
serve_start "$S"
URL=$HTTP_URL/scep/$CA
login admin "$(cat "$S.admin-password")"
ADMIN=$TOKEN_OUT
[ "$(scep_get "$URL" GetCACert "$T/cacert3.der")" = 200 ] || fail "GetCACert after the root's activation"
openssl pkcs7 -inform DER -in "$T/cacert3.der" -print_certs >"$T/c3.pem"
split_pem "$T/c3.pem" "$T/c3"
[ "$(fp "$T/c32.pem")" = "$(fp "$T/cur2.pem")" ] || fail "GetCACert's root is not the root key that signed the intermediate"
openssl verify -CAfile "$T/c32.pem" -untrusted "$T/c31.pem" "$T/c30.pem" >/dev/null ||
	fail "GetCACert chain does not verify after the root's activation"
api GET "/api/v1/cas/$CA_ID/chain" "" "$ADMIN"
expect 200
printf '%s' "$BODY" >"$T/chain-api.pem"
split_pem "$T/chain-api.pem" "$T/ch"
[ "$(fp "$T/ch1.pem")" = "$(fp "$T/cur2.pem")" ] || fail "chain download: root"
openssl verify -CAfile "$T/ch1.pem" "$T/ch0.pem" >/dev/null || fail "chain download does not verify"
# The new root certificate is served under its own name, the first one under the plain name.
curl -s -o "$T/root-g2.crt" "$HTTP_URL/ca/$ROOT.g2.crt"
[ "$(fp "$T/root-g2.crt")" = "$(db "SELECT fingerprint_sha256 FROM cas WHERE id=$ROOT_ID")" ] || fail "/ca/$ROOT.g2.crt"

step "deleting a CA with a pending rollover deletes its next keys too"
api POST /api/v1/cas '{"name":"Doomed Root","key":"ec-256","days":100}' "$ADMIN"
expect 201
DOOMED=$(jget 'j["id"]')
api POST "/api/v1/cas/$DOOMED/rollover" "" "$ADMIN"
expect 201
token_labels | grep -qx "ca-doomed-root-next" && token_labels | grep -qx "ra-doomed-root-next" || fail "no next keys"
api DELETE "/api/v1/cas/$DOOMED" "" "$ADMIN"
expect 200
token_labels | grep -q "doomed-root-next" && fail "the deleted CA's next keys stay on the token: $(token_labels)"
token_labels | grep -qx "ca-doomed-root" || fail "the CA key went without delete_key=true"
echo "PASS"
