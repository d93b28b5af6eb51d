#!/bin/bash
# Issue #3 Resources, CAs over REST against the real daemon: create a root (ec-384) and an
# intermediate (rsa-2048) under it, show, list, certificate/chain PEM (openssl verifies the chain
# and the public /ca/{slug}.crt DER), rename and settings, private key refused for a
# non-extractable key (and given for an exportable imported key), import from PEM, PKCS#12 and
# keyref, delete refused while live certificates exist, forced delete, token key deleted only on
# request; audit rows ca.created/ca.updated/ca.deleted.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
S=$T/state
# Row counts that only requests change: background jobs (the CRL scheduler publishes a first CRL
# for a new CA, audited as actor "system") are left out so they cannot race a comparison.
req_counts() {
	row_counts "$S" | sed -E 's/(^| )(crls|audit)=[0-9]+//g'
	db "SELECT 'audit=' || count(*) FROM audit WHERE actor <> 'system'"
}

hsmca_init "$S"
serve_start "$S"
login admin "$(cat "$S.admin-password")"
ADMIN=$TOKEN_OUT

step "create a root (ec-384) and an intermediate (rsa-2048)"
api POST /api/v1/cas '{"name":"Rest Root","key":"ec-384","days":3650}' "$ADMIN"
expect 201
ROOT_ID=$(jget 'j["id"]')
[ "$(jget 'j["slug"]')" = rest-root ] && [ "$(jget 'j["kind"]')" = root ] && [ "$(jget 'j["key"]')" = ec-384 ] ||
	fail "root: $BODY"
api POST /api/v1/cas '{"name":"Rest Issuing","key":"rsa-2048","days":1000,"parent":"rest-root"}' "$ADMIN"
expect 201
INT_ID=$(jget 'j["id"]')
[ "$(jget 'j["kind"]')" = intermediate ] && [ "$(jget 'j["parent"]')" = rest-root ] &&
	[ "$(jget 'j["parent_id"]')" = "$ROOT_ID" ] || fail "intermediate: $BODY"
api POST /api/v1/cas '{"name":"Rest Root","key":"ec-384"}' "$ADMIN"
expect 409

step "a new ec-384 CA is SCEP-enabled with its RSA RA at once (issue #6 contract)"
api GET "/api/v1/cas/$ROOT_ID" "" "$ADMIN"
expect 200
[ "$(jget 'j["scep_enabled"]')" = true ] || fail "scep_enabled of a new CA: $BODY"
# Made at creation, before any SCEP request (GetCACert would make it lazily): read the store first.
[ "$(db "SELECT count(*) FROM scep_cas WHERE ca_id = $ROOT_ID AND ra_keyref IS NOT NULL AND length(ra_cert_der) > 0")" = 1 ] ||
	fail "the ec-384 CA has no RA right after creation"
[ "$(db "SELECT count(*) FROM audit WHERE event = 'scep.ra.created' AND object IN ('rest-root', 'rest-issuing')")" = 2 ] ||
	fail "scep.ra.created not audited for both new CAs"
[ "$(curl -s -o "$T/cacert.p7" -w '%{http_code}' "$HTTP_URL/scep/rest-root?operation=GetCACert")" = 200 ] ||
	fail "GetCACert of the ec-384 CA"
openssl pkcs7 -inform DER -in "$T/cacert.p7" -print_certs -out "$T/cacert.pem" || fail "GetCACert is no PKCS#7"
# One file per certificate: the RSA RA (CN "<CA name> SCEP RA") and the P-384 CA must both be there.
awk '/BEGIN CERT/{n++} n{print > (dir "/gc" n ".pem")}' dir="$T" "$T/cacert.pem"
ra= ec=
for f in "$T"/gc[0-9]*.pem; do
	t=$(openssl x509 -in "$f" -noout -text) || fail "GetCACert: unreadable certificate"
	if grep -q 'Public Key Algorithm: rsaEncryption' <<<"$t" && grep -q 'Subject: CN *= *Rest Root SCEP RA' <<<"$t"; then
		ra=$f
	elif grep -q 'id-ecPublicKey' <<<"$t" && grep -q 'P-384' <<<"$t" && grep -q 'Subject: CN *= *Rest Root$' <<<"$t"; then
		ec=$f
	fi
done
[ -n "$ra" ] && [ -n "$ec" ] || fail "GetCACert of the ec-384 CA: want its RSA RA and the EC CA: $(grep -c 'BEGIN CERT' "$T/cacert.pem") certificates"
openssl verify -CAfile "$ec" "$ra" >/dev/null || fail "the RA certificate is not issued by the ec-384 CA"
api POST /api/v1/cas '{"name":"Orphan","parent":"no-such-ca"}' "$ADMIN"
expect 404
api POST /api/v1/cas '{"name":"Bad key","key":"dsa-1024"}' "$ADMIN"
expect 400
api POST /api/v1/cas '{"name":"Bad days","days":0}' "$ADMIN"
expect 400

step "show, list, certificate and chain; openssl verifies"
api GET "/api/v1/cas/$INT_ID" "" "$ADMIN"
expect 200
[ "$(jget 'j["slug"]')" = rest-issuing ] && [ "$(jget 'j["status"]')" = active ] || fail "show: $BODY"
api GET /api/v1/cas "" "$ADMIN"
expect 200
[ "$(jget 'sorted(c["slug"] for c in j["items"] if c["slug"].startswith("rest-"))')" = '["rest-issuing", "rest-root"]' ] ||
	fail "list: $BODY"
api GET "/api/v1/cas/$ROOT_ID/certificate" "" "$ADMIN"
expect 200
printf '%s\n' "$BODY" >"$T/root.pem"
api GET "/api/v1/cas/$INT_ID/chain" "" "$ADMIN"
expect 200
printf '%s\n' "$BODY" >"$T/chain.pem"
[ "$(grep -c 'BEGIN CERTIFICATE' "$T/chain.pem")" = 2 ] || fail "chain has not two certificates"
openssl x509 -in "$T/chain.pem" -out "$T/int.pem"
openssl verify -CAfile "$T/root.pem" "$T/int.pem" >/dev/null || fail "intermediate does not verify under the root"
openssl x509 -in "$T/root.pem" -noout -text | grep -q 'NIST CURVE: P-384' || fail "root is not P-384"
openssl x509 -in "$T/int.pem" -noout -text | grep -q 'Public-Key: (2048 bit)' || fail "intermediate is not RSA-2048"
curl -s -o "$T/int.der" -w '%{http_code}\n%{content_type}\n' "$HTTP_URL/ca/rest-issuing.crt" >"$T/h"
[ "$(sed -n 1p "$T/h")" = 200 ] && [ "$(sed -n 2p "$T/h")" = application/pkix-cert ] || fail "public DER: $(cat "$T/h")"
cmp <(openssl x509 -in "$T/int.der" -inform DER -outform PEM) "$T/int.pem" || fail "public DER differs"
[ "$(curl -s -o "$T/int2.pem" -w '%{http_code}' "$HTTP_URL/ca/rest-issuing.pem")" = 200 ] || fail "public PEM"
cmp "$T/int2.pem" "$T/int.pem" || fail "public PEM differs"
for p in /ca/nope.crt /ca/..%2f..%2fetc%2fpasswd.crt /ca/REST-ROOT.crt /ca/rest-root%00.crt; do
	[ "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$HTTP_URL$p")" = 404 ] || fail "public $p not 404"
done
[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" "$HTTPS_URL/ca/rest-root.crt")" = 404 ] ||
	fail "the public CA certificate belongs on plain HTTP"
api GET /api/v1/cas/999999 "" "$ADMIN"
expect 404 not_found
api GET /api/v1/cas/rest-root "" "$ADMIN"
expect 404

step "rename and settings; the slug stays"
api PATCH "/api/v1/cas/$INT_ID" '{"name":"Rest Issuing G1","crl_validity_days":3}' "$ADMIN"
expect 200
[ "$(jget 'j["name"]')" = "Rest Issuing G1" ] && [ "$(jget 'j["slug"]')" = rest-issuing ] &&
	[ "$(jget 'j["crl_validity_days"]')" = 3 ] || fail "patch: $BODY"
api PATCH "/api/v1/cas/$INT_ID" '{"name":"Rest Root"}' "$ADMIN"
expect 409
api PATCH "/api/v1/cas/$INT_ID" '{"status":"retired"}' "$ADMIN"
expect 400
api PATCH "/api/v1/cas/$INT_ID" '{"slug":"x"}' "$ADMIN"
expect 400

step "private key: refused for a non-extractable CA key"
api GET "/api/v1/cas/$ROOT_ID/private-key" "" "$ADMIN"
expect 409 conflict
LABEL=$(grep -E '^token_label' "$S/hsmca.conf" 2>/dev/null | sed 's/.*= *//' || true)
grep -q "non-extractable in token ${LABEL:-}" <<<"$BODY" || fail "409 message: $BODY"

step "import: PEM cert + key, PKCS#12, keyref (exportable) and its private key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/ext.key" -out "$T/ext.pem" \
	-subj "/CN=External Root" -days 30 -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
body=$(python3 -c 'import json,sys; print(json.dumps({"name":"External Root","certificate":open(sys.argv[1]).read(),"key":open(sys.argv[2]).read()}))' "$T/ext.pem" "$T/ext.key")
api POST /api/v1/cas/import "$body" "$ADMIN"
expect 201
EXT_ID=$(jget 'j["id"]')
[ "$(jget 'j["kind"]')" = imported ] || fail "import: $BODY"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/p12.key" -out "$T/p12.pem" -subj "/CN=P12 Root" -days 30 \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl pkcs12 -export -inkey "$T/p12.key" -in "$T/p12.pem" -out "$T/ca.p12" -passout pass:p12-pass-1
body=$(python3 -c 'import base64,json,sys; print(json.dumps({"name":"P12 Root","pkcs12":base64.b64encode(open(sys.argv[1],"rb").read()).decode(),"password":sys.argv[2]}))' "$T/ca.p12" p12-pass-1)
before=$(req_counts)
api POST /api/v1/cas/import "${body/p12-pass-1/wrong-pass}" "$ADMIN"
expect 400
[ "$(req_counts)" = "$before" ] || fail "rows changed after a bad PKCS#12 password"
api POST /api/v1/cas/import "$body" "$ADMIN"
expect 201
P12_ID=$(jget 'j["id"]')
openssl x509 -in "$T/p12.pem" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g' | tr A-F a-f >"$T/fp"
[ "$(jget 'j["fingerprint_sha256"]')" = "$(cat "$T/fp")" ] || fail "PKCS#12 import: wrong certificate"
api POST /api/v1/cas/import '{"name":"Nokey","certificate":"x"}' "$ADMIN"
expect 400
# An exportable key generated through /api/v1/keys, a CSR made by the token, signed as a CA by
# openssl, imported with its keyref: its private key can be read as PEM.
api POST /api/v1/keys '{"key":"ec-256","label":"exportable-ca","exportable":true}' "$ADMIN"
expect 201
KEYREF=$(jget 'j["keyref"]')
api POST /api/v1/csr "$(python3 -c 'import json,sys; print(json.dumps({"keyref":sys.argv[1],"subject":"CN=Exportable CA"}))' "$KEYREF")" "$ADMIN"
expect 200
jget 'j["csr"]' >"$T/exp.csr"
openssl req -in "$T/exp.csr" -verify -noout 2>/dev/null || fail "token CSR does not verify"
printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' >"$T/ext.cnf"
openssl x509 -req -in "$T/exp.csr" -CA "$T/ext.pem" -CAkey "$T/ext.key" -CAcreateserial -days 20 \
	-extfile "$T/ext.cnf" -out "$T/exp.pem" 2>/dev/null
body=$(python3 -c 'import json,sys; print(json.dumps({"name":"Exportable CA","certificate":open(sys.argv[1]).read(),"keyref":sys.argv[2]}))' "$T/exp.pem" "$KEYREF")
api POST /api/v1/cas/import "$body" "$ADMIN"
expect 201
EXP_ID=$(jget 'j["id"]')
[ "$(jget 'j["parent"]')" = external-root ] || fail "imported CA under an imported root has no parent: $BODY"
api GET "/api/v1/cas/$EXP_ID/private-key" "" "$ADMIN"
expect 200
printf '%s\n' "$BODY" >"$T/exp.key"
grep -q 'BEGIN PRIVATE KEY' "$T/exp.key" || fail "private key PEM: $BODY"
[ "$(openssl pkey -in "$T/exp.key" -pubout)" = "$(openssl x509 -in "$T/exp.pem" -noout -pubkey)" ] ||
	fail "exported key does not match the certificate"

step "delete: refused with live certificates, forced; key kept unless delete_key=true"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/leaf.key" -out "$T/leaf.csr" \
	-subj "/CN=leaf.example.test" 2>/dev/null
body=$(python3 -c 'import json,sys; print(json.dumps({"ca":"p12-root","csr":open(sys.argv[1]).read(),"profile":"server"}))' "$T/leaf.csr")
api POST /api/v1/certificates "$body" "$ADMIN"
expect 201
api DELETE "/api/v1/cas/$ROOT_ID" "" "$ADMIN"
expect 409
grep -qi subordinate <<<"$BODY" || fail "root delete should name its subordinate: $BODY"
before=$(req_counts)
api DELETE "/api/v1/cas/$P12_ID" "" "$ADMIN"
expect 409
grep -q "1 unexpired, unrevoked" <<<"$BODY" || fail "delete refusal: $BODY"
[ "$(req_counts)" = "$before" ] || fail "rows changed after a refused delete"
api DELETE "/api/v1/cas/$P12_ID?force=maybe" "" "$ADMIN"
expect 400
P12_KEYREF=$(db "SELECT keyref FROM cas WHERE id=$P12_ID")
api DELETE "/api/v1/cas/$P12_ID?force=true" "" "$ADMIN"
expect 200
[ "$(jget 'j["key_deleted"]')" = false ] || fail "key deleted without delete_key: $BODY"
[ "$(db "SELECT count(*) FROM cas WHERE id=$P12_ID")" = 0 ] || fail "CA row still there"
[ "$(db "SELECT count(*) FROM certificates WHERE ca_id IS NULL AND common_name='leaf.example.test'")" = 1 ] ||
	fail "the certificate should stay in the inventory"
api GET /api/v1/keys "" "$ADMIN"
expect 200
[ "$(jget "sum(1 for k in j['items'] if k['keyref']=='$P12_KEYREF')")" = 1 ] || fail "key gone without delete_key"
api GET "/api/v1/cas/$P12_ID" "" "$ADMIN"
expect 404
EXT_KEYREF=$(db "SELECT keyref FROM cas WHERE id=$EXT_ID")
api DELETE "/api/v1/cas/$EXP_ID?delete_key=true" "" "$ADMIN"
expect 200
[ "$(jget 'j["key_deleted"]')" = true ] || fail "delete_key: $BODY"
api GET /api/v1/keys "" "$ADMIN"
[ "$(jget "sum(1 for k in j['items'] if k['keyref']=='$KEYREF')")" = 0 ] || fail "key still on the token"
[ "$(jget "sum(1 for k in j['items'] if k['keyref']=='$EXT_KEYREF')")" = 1 ] || fail "another CA's key went too"

step "audit rows"
for ev in ca.created ca.updated ca.deleted ca.private_key.exported ca.key.deleted key.generated csr.generated; do
	[ "$(db "SELECT count(*) FROM audit WHERE event='$ev'")" -ge 1 ] || fail "no audit row for $ev"
done
api GET '/api/v1/audit?event=ca.&limit=2' "" "$ADMIN"
expect 200
[ "$(jget 'len(j["items"])')" = 2 ] && [ -n "$(jget 'j["next"]')" ] || fail "audit page: $BODY"
NEXT=$(jget 'j["next"]')
api GET "/api/v1/audit?event=ca.&limit=100&after=$NEXT" "" "$ADMIN"
expect 200
[ "$(jget 'all(i["event"].startswith("ca.") and i["id"] < int('"$NEXT"') for i in j["items"])')" = true ] ||
	fail "audit second page: $BODY"
api GET '/api/v1/audit?event=ca.deleted&actor=user:admin' "" "$ADMIN"
[ "$(jget 'len(j["items"])')" = 2 ] || fail "audit filter: $BODY"
api GET '/api/v1/audit?since=2000-01-01&until=2000-01-02' "" "$ADMIN"
[ "$(jget 'len(j["items"])')" = 0 ] || fail "audit time filter: $BODY"
api GET '/api/v1/audit?since=yesterday' "" "$ADMIN"
expect 400
serve_stop
"$HSMCA_BIN" audit verify --state "$S" >/dev/null || fail "audit chain does not verify"
echo PASS
