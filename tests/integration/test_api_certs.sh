#!/bin/bash
# Issue #3 Resources, certificates and orders over REST against the real daemon: issue from an
# openssl CSR under a REST-made intermediate and verify the chain with openssl; server-side key
# generation (key exportable on the token); detail fields; PEM download; audit events; list
# filters (source, status, ca, expiring_within_days, q, tag) and keyset pagination; orders list
# and detail (a failed order shows its error and request); bad input of every class leaves every
# row count unchanged; a CA whose key was deleted from the token by hand refuses issuance and CRL
# publication with 409 naming it (not a retryable 503) and SCEP with a FAILURE CertRep logged with
# that reason, issues nothing, fails the order with that reason, issues again once the key is
# restored, while another CA on the token still issues.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
S=$T/state
# Row counts that only requests change: background jobs (the CRL scheduler publishes a first CRL
# for a new CA, audited as actor "system") are left out so they cannot race a comparison.
req_counts() {
	row_counts "$S" | sed -E 's/(^| )(crls|audit)=[0-9]+//g'
	db "SELECT 'audit=' || count(*) FROM audit WHERE actor <> 'system'"
}
export HSMCA_MAX_JSON_BODY_BYTES=262144

hsmca_init "$S"
serve_start "$S"
login admin "$(cat "$S.admin-password")"
ADMIN=$TOKEN_OUT

api POST /api/v1/cas '{"name":"Certs Root","key":"ec-384"}' "$ADMIN"
expect 201
api POST /api/v1/cas '{"name":"Certs Issuing","key":"rsa-2048","parent":"certs-root","days":700}' "$ADMIN"
expect 201
INT_ID=$(jget 'j["id"]')
api GET /api/v1/cas/$INT_ID/chain "" "$ADMIN"
printf '%s\n' "$BODY" >"$T/chain.pem"
openssl x509 -in "$T/chain.pem" -out "$T/int.pem"
awk '/BEGIN/{n++} n==2' "$T/chain.pem" >"$T/root.pem"

# csr_body CSRFILE CA [EXTRA-JSON]: the POST body for a CSR.
csr_body() {
	python3 -c 'import json,sys
d={"ca":sys.argv[2],"csr":open(sys.argv[1]).read(),"profile":"server"}
d.update(json.loads(sys.argv[3]))
print(json.dumps(d))' "$1" "$2" "${3:-{\}}"
}

step "issue from an openssl CSR; openssl verifies the chain"
openssl req -new -newkey rsa:2048 -nodes -keyout "$T/web.key" -out "$T/web.csr" -subj "/CN=web1.example.test" \
	-addext "subjectAltName=DNS:web1.example.test,DNS:www.example.test,IP:192.0.2.7" 2>/dev/null
api POST /api/v1/certificates "$(csr_body "$T/web.csr" certs-issuing '{"days":90,"tags":["web","prod"]}')" "$ADMIN"
expect 201
WEB_ID=$(jget 'j["id"]')
SERIAL=$(jget 'j["serial"]')
jget 'j["certificate"]' | sed '/^$/d' >"$T/web.pem"
openssl verify -CAfile "$T/root.pem" -untrusted "$T/int.pem" "$T/web.pem" >/dev/null || fail "chain does not verify"
[ "$(openssl x509 -in "$T/web.pem" -noout -serial | sed 's/serial=//')" = "$SERIAL" ] || fail "serial differs"
jget 'j["chain"]' >"$T/full.pem"
[ "$(grep -c 'BEGIN CERTIFICATE' "$T/full.pem")" = 3 ] || fail "chain in the answer: $(cat "$T/full.pem")"
[ "$(jget 'j["tags"]')" = '["web", "prod"]' ] || fail "tags: $BODY"

step "detail fields"
api GET "/api/v1/certificates/$WEB_ID" "" "$ADMIN"
expect 200
for f in common_name sans issuer algorithm digest valid_from valid_to days_until_expiry status source \
	fingerprint_sha256 serial ca key_on_token profile tags; do
	[ "$(jget "'$f' in j")" = true ] || fail "detail lacks $f: $BODY"
done
[ "$(jget 'j["common_name"]')" = web1.example.test ] && [ "$(jget 'j["algorithm"]')" = rsa-2048 ] &&
	[ "$(jget 'j["digest"]')" = sha256 ] && [ "$(jget 'j["status"]')" = active ] &&
	[ "$(jget 'j["source"]')" = managed ] && [ "$(jget 'j["ca"]')" = certs-issuing ] &&
	[ "$(jget 'j["key_on_token"]')" = false ] && [ "$(jget 'j["profile"]')" = server ] &&
	[ "$(jget 'j["issuer"]')" = "CN=Certs Issuing" ] || fail "detail values: $BODY"
[ "$(jget 'j["days_until_expiry"]')" = 89 ] || [ "$(jget 'j["days_until_expiry"]')" = 90 ] || fail "days: $BODY"
[ "$(jget '"DNS:www.example.test" in j["sans"] and "IP:192.0.2.7" in j["sans"]')" = true ] || fail "sans: $BODY"
FP=$(openssl x509 -in "$T/web.pem" -outform DER | sha256sum | cut -d' ' -f1)
[ "$(jget 'j["fingerprint_sha256"]')" = "$FP" ] || fail "fingerprint: $BODY"
[ "$(jget 'j["valid_to"]')" = "$(date -u -d "$(openssl x509 -in "$T/web.pem" -noout -enddate | sed 's/.*=//')" +%Y-%m-%dT%H:%M:%SZ)" ] ||
	fail "valid_to: $BODY"
api GET "/api/v1/certificates/$WEB_ID/pem" "" "$ADMIN"
expect 200
cmp <(printf '%s\n' "$BODY") "$T/web.pem" || fail "pem download differs"
api GET "/api/v1/certificates/$WEB_ID/pem?chain=true" "" "$ADMIN"
[ "$(printf '%s\n' "$BODY" | grep -c 'BEGIN CERTIFICATE')" = 3 ] || fail "pem with chain"
[ "$(db "SELECT count(*) FROM audit WHERE event='certificate.view.accessed' AND object='$SERIAL'")" = 1 ] ||
	fail "no view audit row"
[ "$(db "SELECT count(*) FROM audit WHERE event='certificate.download.success' AND object='$SERIAL'")" = 2 ] ||
	fail "no download audit rows"
[ "$(db "SELECT count(*) FROM audit WHERE event='certificate.request_csr.submitted' AND object='$SERIAL'")" = 1 ] ||
	fail "no request audit row"

step "server-side key generation: exportable key on the token"
api POST /api/v1/certificates '{"ca":"certs-issuing","key":"ec-256","subject":"CN=gen.example.test","sans":["DNS:gen.example.test"],"profile":"client","tags":["gen"]}' "$ADMIN"
expect 201
GEN_ID=$(jget 'j["id"]')
[ "$(jget 'j["key_on_token"]')" = true ] && [ "$(jget 'j["algorithm"]')" = ec-256 ] && [ "$(jget 'j["profile"]')" = client ] ||
	fail "generated: $BODY"
jget 'j["certificate"]' >"$T/gen.pem"
openssl verify -CAfile "$T/root.pem" -untrusted "$T/int.pem" "$T/gen.pem" >/dev/null || fail "generated cert does not verify"
KEYREF=$(db "SELECT keyref FROM certificates WHERE id=$GEN_ID")
api GET /api/v1/keys "" "$ADMIN"
[ "$(jget "[k['exportable'] for k in j['items'] if k['keyref']=='$KEYREF']")" = '[true]' ] || fail "key not exportable on the token: $BODY"
[ "$(db "SELECT count(*) FROM audit WHERE event='certificate.request_automated.submitted'")" = 1 ] || fail "no automated audit"
api POST /api/v1/certificates '{"ca":"certs-issuing","key":"ec-256"}' "$ADMIN"
expect 400

step "more certificates for the lists"
for i in $(seq 1 6); do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -out "$T/n$i.csr" \
		-subj "/CN=node$i.internal.test" 2>/dev/null
	api POST /api/v1/certificates "$(csr_body "$T/n$i.csr" certs-root "{\"days\":$((i * 10)),\"tags\":[\"batch\"]}")" "$ADMIN"
	expect 201
done
# "ca" as a string is a slug; a number is an id.
api POST /api/v1/certificates "$(csr_body "$T/n1.csr" "$INT_ID")" "$ADMIN"
expect 404
api POST /api/v1/certificates "$(python3 -c 'import json,sys; print(json.dumps({"ca":'"$INT_ID"',"csr":open(sys.argv[1]).read()}))' "$T/n1.csr")" "$ADMIN"
expect 201
# Derived status: one revoked and one expired row, changed by hand (no revocation API here).
db "UPDATE certificates SET revoked_at = $(date +%s)000, revocation_reason = 1 WHERE common_name='node2.internal.test'"
db "UPDATE certificates SET not_after = 1000 WHERE common_name='node3.internal.test'"

step "list filters"
# The two intermediates' own certificates (init's demo CA and certs-issuing, profile subca) and the
# appliance's own TLS certificate are in the inventory too: 9 issued here + 3.
# lcount QUERY WANT: the list with QUERY has WANT items.
lcount() {
	api GET "/api/v1/certificates?$1" "" "$ADMIN"
	expect 200
	[ "$(jget 'len(j["items"])')" = "$2" ] || fail "list ?$1: expected $2 items: $BODY"
}
lcount 'limit=500' 12
lcount 'q=web1' 1
lcount 'q=WWW.EXAMPLE' 1
lcount 'q=internal.test' 7
lcount 'q=%25' 0
lcount 'tag=batch' 6
lcount 'tag=bat' 0
lcount 'status=revoked' 1
lcount 'status=expired' 1
lcount 'status=active' 10
lcount 'ca=certs-root' 7
lcount "ca=$INT_ID" 3
lcount 'expiring_within_days=35' 1
lcount 'source=managed&tag=batch&status=active' 4
lcount 'source=discovered' 0
for q in 'status=valid' 'source=x' 'expiring_within_days=-1' 'expiring_within_days=abc' 'limit=0' 'limit=501' \
	'after=x'; do
	api GET "/api/v1/certificates?$q" "" "$ADMIN"
	expect 400
done
api GET '/api/v1/certificates?ca=nope' "" "$ADMIN"
expect 404

step "keyset pagination: pages of 4, no duplicates, newest first"
seen=""
next=""
pages=0
while :; do
	api GET "/api/v1/certificates?limit=4${next:+&after=$next}" "" "$ADMIN"
	expect 200
	seen="$seen $(jget '" ".join(str(i["id"]) for i in j["items"])')"
	next=$(jget 'j["next"]')
	pages=$((pages + 1))
	[ -n "$next" ] || break
	[ $pages -lt 10 ] || fail "pagination does not end"
done
ids=$(echo $seen)
[ "$(echo "$ids" | wc -w)" = 12 ] && [ "$(echo "$ids" | tr ' ' '\n' | sort -u | wc -l)" = 12 ] || fail "pages: $ids"
[ "$(echo "$ids" | tr ' ' '\n')" = "$(echo "$ids" | tr ' ' '\n' | sort -rn)" ] || fail "not newest first: $ids"
[ $pages = 3 ] || fail "expected 3 pages, got $pages"

step "orders: list, detail, failed order with error and parameters"
api GET /api/v1/orders "" "$ADMIN"
expect 200
[ "$(jget 'len(j["items"])')" = 10 ] || fail "orders (9 here + the TLS certificate of init): $BODY"
[ "$(jget 'j["items"][0]["status"]')" = complete ] || fail "order status: $BODY"
ORDER_ID=$(db "SELECT order_id FROM certificates WHERE id=$WEB_ID")
api GET "/api/v1/orders/$ORDER_ID" "" "$ADMIN"
expect 200
[ "$(jget 'j["type"]')" = csr ] && [ "$(jget 'j["common_name"]')" = web1.example.test ] &&
	[ "$(jget 'j["requested_by"]')" = user:admin ] && [ "$(jget 'j["certificate_id"]')" = "$WEB_ID" ] &&
	[ "$(jget 'j["duration_ms"] >= 0')" = true ] && [ "$(jget 'j["params"]["profile"]')" = server ] &&
	[ "$(jget 'j["ca"]')" = certs-issuing ] || fail "order detail: $BODY"
api GET '/api/v1/orders?type=local' "" "$ADMIN"
[ "$(jget 'len(j["items"])')" = 1 ] || fail "orders type: $BODY"
# A failed order as issue.c leaves it when the token fails mid-way (not reachable from outside).
db "INSERT INTO orders (type, status, ca_id, common_name, requested_by, params, error, created_at, started_at, finished_at) VALUES ('csr','failed',$INT_ID,'broken.example.test','user:admin','{\"ca\":\"certs-issuing\",\"profile\":\"server\",\"days\":30}','token: signing failed',1,2,5)"
api GET '/api/v1/orders?status=failed' "" "$ADMIN"
expect 200
[ "$(jget 'j["items"][0]["error"]')" = "token: signing failed" ] && [ "$(jget 'j["items"][0]["params"]["days"]')" = 30 ] &&
	[ "$(jget 'j["items"][0]["duration_ms"]')" = 3 ] || fail "failed order: $BODY"
api GET '/api/v1/orders?status=done' "" "$ADMIN"
expect 400
api GET /api/v1/orders/999999 "" "$ADMIN"
expect 404

step "bad input: 4xx with the error shape, no row count changes"
N_CERTS=$(db "SELECT count(*) FROM certificates")
api GET /api/v1/keys "" "$ADMIN"
N_KEYS=$(jget 'len(j["items"])')
bad() {
	local before after
	before=$(req_counts)
	api "$1" "$2" "$3" "$ADMIN"
	expect "$4" "${5:-}"
	after=$(req_counts)
	[ "$before" = "$after" ] || fail "rows changed after $1 $2 ${3:0:80}: $before -> $after"
}
# bad_4xx: as bad, for input the CA core judges (malformed 400 or refused by policy 422).
bad_4xx() {
	local before
	before=$(req_counts)
	api "$1" "$2" "$3" "$ADMIN"
	[ "$STATUS" = 400 ] || [ "$STATUS" = 422 ] || fail "$1 $2 ${3:0:80}: expected 400 or 422, got $STATUS: $BODY"
	expect "$STATUS"
	[ "$before" = "$(req_counts)" ] || fail "rows changed after $1 $2 ${3:0:80}"
}
CSR=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$T/n1.csr")
for body in '{' '[]' 'null' '{"ca":"certs-root",}' "{\"ca\":\"certs-root\",\"csr\":$CSR,\"csr\":$CSR}"; do
	bad POST /api/v1/certificates "$body" 400 invalid_request
done
bad POST /api/v1/certificates '' 400
printf '{"ca":"certs-root","csr":"nul\0byte"}' >"$T/nul"
bad POST /api/v1/certificates "@$T/nul" 400
bad POST /api/v1/certificates "{\"ca\":\"certs-root\",\"csr\":$CSR,\"profile\":\"server\\u0000\"}" 400
bad POST /api/v1/certificates "{\"ca\":7.5,\"csr\":$CSR}" 400
bad POST /api/v1/certificates "{\"ca\":\"certs-root\",\"csr\":42}" 400
bad POST /api/v1/certificates "{\"ca\":\"certs-root\",\"csr\":$CSR,\"days\":\"30\"}" 400
bad POST /api/v1/certificates "{\"ca\":\"certs-root\",\"csr\":$CSR,\"days\":0}" 400
bad POST /api/v1/certificates "{\"ca\":\"certs-root\",\"csr\":$CSR,\"tags\":\"web\"}" 400
bad POST /api/v1/certificates "{\"ca\":\"certs-root\",\"csr\":$CSR,\"tags\":[1]}" 400
bad POST /api/v1/certificates "{\"ca\":\"certs-root\",\"csr\":$CSR,\"profile\":\"admin\"}" 400
bad POST /api/v1/certificates "{\"ca\":\"certs-root\",\"csr\":$CSR,\"is_admin\":true}" 400
bad POST /api/v1/certificates "{\"csr\":$CSR}" 400
bad POST /api/v1/certificates '{"ca":"certs-root"}' 400
bad POST /api/v1/certificates "{\"ca\":\"certs-root\",\"csr\":$CSR,\"key\":\"ec-256\"}" 400
bad POST /api/v1/certificates '{"ca":"certs-root","csr":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"}' 400
bad POST /api/v1/certificates "{\"ca\":\"x' OR 1=1; DROP TABLE certificates; --\",\"csr\":$CSR}" 404
bad POST /api/v1/certificates "{\"ca\":\"../../etc/passwd\",\"csr\":$CSR}" 404
bad POST /api/v1/certificates "{\"ca\":999999,\"csr\":$CSR}" 404
bad POST /api/v1/certificates '{"ca":"certs-root","key":"ec-256","subject":"CN=a\u0000b"}' 400
bad_4xx POST /api/v1/certificates '{"ca":"certs-root","key":"ec-256","subject":"CN=x","sans":["DNS:a b"]}' 
bad_4xx POST /api/v1/certificates "{\"ca\":\"certs-root\",\"key\":\"ec-256\",\"subject\":\"CN=x'); DELETE FROM certificates; --\"}"
python3 -c 'import json; print(json.dumps({"ca":"certs-root","csr":"A"*300000}))' >"$T/big"
bad POST /api/v1/certificates "@$T/big" 413 too_large
openssl req -new -newkey rsa:1024 -nodes -keyout /dev/null -out "$T/weak.csr" -subj "/CN=weak.test" 2>/dev/null
bad POST /api/v1/certificates "$(csr_body "$T/weak.csr" certs-root)" 422 policy_refused
for p in 999999 0 -1 abc '..%2f..%2fetc%2fpasswd' '..' '1x' '1;DROP%20TABLE%20certificates' '%27%20OR%201=1'; do
	bad GET "/api/v1/certificates/$p" "" 404
	bad GET "/api/v1/certificates/$p/pem" "" 404
	bad GET "/api/v1/orders/$p" "" 404
	bad GET "/api/v1/cas/$p" "" 404
	bad PATCH "/api/v1/cas/$p" '{"name":"x"}' 404
	bad DELETE "/api/v1/cas/$p" "" 404
done
bad GET "/api/v1/certificates?q=%27%20OR%201=1--" "" 200
[ "$(jget 'len(j["items"])')" = 0 ] || fail "SQL in q matched: $BODY"
bad PATCH "/api/v1/cas/$INT_ID" "{\"name\":\"x'); DROP TABLE cas; --\",\"status\":7}" 400
bad PATCH "/api/v1/cas/$INT_ID" '{"name":"a\u0000b"}' 400
bad POST /api/v1/cas '{"name":"n","key":"ec-384","days":"10"}' 400
bad POST /api/v1/cas '{"name":"","key":"ec-384"}' 400
bad POST /api/v1/cas '{"key":"ec-384"}' 400
bad POST /api/v1/cas "{\"name\":\"x\",\"parent\":\"certs-root'; --\"}" 404
bad POST /api/v1/cas/import '{"name":"i","certificate":"junk","key":"junk"}' 400
bad POST /api/v1/cas/import '{"name":"i","pkcs12":"!!!notbase64"}' 400
bad POST /api/v1/keys '{"key":"ec-256"}' 400
bad POST /api/v1/keys '{"key":"ec-999","label":"x"}' 400
bad POST /api/v1/csr '{"keyref":"pkcs11:object=nope;type=private","subject":"CN=x"}' 404
bad POST /api/v1/csr '{"keyref":"/etc/passwd","subject":"CN=x"}' 400
[ "$(db "SELECT count(*) FROM certificates")" = "$N_CERTS" ] || fail "certificates table changed"
api GET /api/v1/keys "" "$ADMIN"
[ "$(jget 'len(j["items"])')" = "$N_KEYS" ] || fail "a refused request left a key on the token: $BODY"

step "a CA key deleted from the token behind the appliance's back: 409 naming the CA, nothing issued"
# SCEP needs the CA's RA, which the CA key signs when GetCACert first asks: made while it is there.
"$HSMCA_SHARED/peers/setup.sh" >/dev/null
PEERS=${PEERS_BIN:-/tmp/hsmca-peers/bin}
api POST /api/v1/scep-auth '{"name":"lost","ca":"certs-issuing","one_time":false}' "$ADMIN"
expect 201
SCEP_SECRET=$(jget 'j["secret"]')
"$PEERS/sceppeer" getca -url "$HTTP_URL/scep/certs-issuing" -out "$T/issuing-getca.pem" || fail "GetCACert"
api GET /api/v1/keys "" "$ADMIN"
N_KEYS=$(jget 'len(j["items"])')
# certs-issuing has signed already, so the daemon holds its key: the first request meets that
# stale key, the second finds none. Neither is the token's fault, so neither may be a 503.
# key_id KEYREF: the CKA_ID of a pkcs11: URI in hex, as pkcs11-tool --id takes it.
key_id() {
	python3 -c 'import re, sys, urllib.parse
print(urllib.parse.unquote_to_bytes(re.search(r"id=([^;]*)", sys.argv[1]).group(1)).hex())' "$1"
}
KEY_ID=$(key_id "$(db "SELECT keyref FROM cas WHERE id=$INT_ID")")
pkcs11 "$S" --delete-object --type privkey --id "$KEY_ID" >/dev/null || fail "pkcs11-tool could not delete the CA key"
pkcs11 "$S" --list-objects --type privkey | grep -q "ca-certs-issuing" && fail "the CA key is still on the token"
PIN=$(cat "$S/pin")
# key_gone WHAT: the last answer is 409 conflict whose message names certs-issuing and its key.
key_gone() {
	expect 409 conflict
	local msg
	msg=$(jget 'j["error"]["message"]')
	case "$msg" in
	"CA 'certs-issuing': its private key ("*"object=ca-certs-issuing"*") is not on the token; restore the key or delete the CA.") ;;
	*) fail "$1: unclear refusal: $BODY" ;;
	esac
	case "$msg" in *"$PIN"*) fail "$1: the answer holds the PIN" ;; esac
}
N_CERTS=$(db "SELECT count(*) FROM certificates")
N_CRLS=$(db "SELECT count(*) FROM crls WHERE ca_id=$INT_ID")
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -out "$T/lost.csr" \
	-subj "/CN=lost.example.test" 2>/dev/null
for i in 1 2; do
	api POST /api/v1/certificates "$(csr_body "$T/lost.csr" certs-issuing)" "$ADMIN"
	key_gone "issuance $i"
done
# Server-side key generation: the same refusal, and the endpoint key made for it is gone again.
api POST /api/v1/certificates '{"ca":"certs-issuing","key":"ec-256","subject":"CN=lost-gen.example.test"}' "$ADMIN"
key_gone "issuance with a token key"
# SCEP: a FAILURE CertRep (signed by the RA, whose key is still there), the reason in the log row.
out=$("$PEERS/sceppeer" enroll -url "$HTTP_URL/scep/certs-issuing" -cn lost-scep.example.test \
	-challenge "$SCEP_SECRET" -out "$T/lost-scep.pem" 2>&1) && fail "SCEP enrolled without the CA key"
grep -q "FAILURE failInfo=badRequest" <<<"$out" || fail "SCEP answer: $out"
[ "$(db "SELECT count(*) FROM scep_logs WHERE message_type='PKCSReq' AND result='failure' AND fail_info='badRequest' AND details LIKE '%CA ''certs-issuing'': its private key (%) is not on the token%'")" = 1 ] ||
	fail "SCEP log: $(db "SELECT result, fail_info, details FROM scep_logs ORDER BY id DESC LIMIT 1")"
[ "$(db "SELECT count(*) FROM certificates")" = "$N_CERTS" ] || fail "a certificate was stored without the CA key"
[ "$(db "SELECT count(*) FROM orders WHERE common_name IN ('lost.example.test','lost-gen.example.test','lost-scep.example.test') AND status='failed' AND error LIKE 'CA ''certs-issuing'': its private key (%) is not on the token; restore the key or delete the CA'")" = 4 ] ||
	fail "orders: $(db "SELECT status, error FROM orders WHERE common_name LIKE 'lost%'")"
api GET /api/v1/keys "" "$ADMIN"
[ "$(jget 'len(j["items"])')" = $((N_KEYS - 1)) ] || fail "keys on the token (the CA key gone, nothing left behind): $BODY"
api GET '/api/v1/orders?status=failed&type=local&limit=1' "" "$ADMIN"
[ "$(jget 'j["items"][0]["common_name"]')" = lost-gen.example.test ] &&
	[ "$(jget '"its private key" in j["items"][0]["error"]')" = true ] || fail "failed order over REST: $BODY"
api POST "/api/v1/cas/$INT_ID/crl" "" "$ADMIN"
key_gone "CRL publication"
[ "$(db "SELECT count(*) FROM crls WHERE ca_id=$INT_ID")" = "$N_CRLS" ] || fail "a CRL was stored without the CA key"
grep -qF "$PIN" "$T/serve.log" && fail "the PIN is in the log"

step "the key restored under the same id: issuance works again, without a restart"
# A created CA's key never leaves the token, so the restore is played with an imported one.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/imp.key" -out "$T/imp.crt" -subj "/CN=Certs Imported" \
	-days 30 -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
api POST /api/v1/cas/import "$(python3 -c 'import json, sys
print(json.dumps({"name": "Certs Imported", "certificate": open(sys.argv[1]).read(), "key": open(sys.argv[2]).read()}))' \
	"$T/imp.crt" "$T/imp.key")" "$ADMIN"
expect 201
IMP_KEY_ID=$(key_id "$(jget 'j["keyref"]')")
api POST /api/v1/certificates "$(csr_body "$T/lost.csr" certs-imported)" "$ADMIN"
expect 201
pkcs11 "$S" --delete-object --type privkey --id "$IMP_KEY_ID" >/dev/null || fail "pkcs11-tool could not delete the key"
api POST /api/v1/certificates "$(csr_body "$T/lost.csr" certs-imported)" "$ADMIN"
expect 409 conflict
openssl pkcs8 -topk8 -nocrypt -in "$T/imp.key" -outform DER -out "$T/imp.der"
pkcs11 "$S" --write-object "$T/imp.der" --type privkey --id "$IMP_KEY_ID" --label ca-certs-imported --usage-sign \
	--sensitive >/dev/null || fail "pkcs11-tool could not restore the key"
api POST /api/v1/certificates "$(csr_body "$T/lost.csr" certs-imported)" "$ADMIN"
expect 201
jget 'j["certificate"]' | sed '/^$/d' >"$T/imp-leaf.pem"
openssl verify -CAfile "$T/imp.crt" "$T/imp-leaf.pem" >/dev/null || fail "the restored key's certificate does not verify"

step "another CA on the same token still issues"
api POST /api/v1/certificates "$(csr_body "$T/lost.csr" certs-root)" "$ADMIN"
expect 201
jget 'j["certificate"]' | sed '/^$/d' >"$T/lost-root.pem"
openssl verify -CAfile "$T/root.pem" "$T/lost-root.pem" >/dev/null || fail "certs-root's certificate does not verify"
serve_stop
expect_fail_unchanged "$S" "^hsmca: CA 'certs-issuing': its private key \(.*\) is not on the token" \
	"$HSMCA_BIN" crl --state "$S" --ca certs-issuing
"$HSMCA_BIN" audit verify --state "$S" >/dev/null || fail "audit chain does not verify"
echo PASS
