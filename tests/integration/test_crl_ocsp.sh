#!/bin/bash
# Issue #4 CRL and OCSP against the real daemon: after a REST revocation, /crl/<slug>.crl on the
# plain listener passes `openssl crl -verify`, lists the serial with its reason, and makes
# `openssl verify -crl_check` reject the revoked leaf; ETag / Last-Modified give 304s; ?format=pem;
# on-demand publication and the history API ("Show CRL"); a CA's first CRL exists without any
# revocation. `openssl ocsp` reports good / revoked (with reason) / unknown with the nonce echoed,
# GET requests work, garbage gets malformedRequest, an unknown CA unauthorized.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
S=$T/state

hsmca_init "$S"
serve_start "$S"
login admin "$(cat "$S.admin-password")"
ADMIN=$TOKEN_OUT

step "root and intermediate CA over REST, two leaves"
api POST /api/v1/cas '{"name":"Pub Root","key":"ec-384"}' "$ADMIN"
expect 201
api POST /api/v1/cas '{"name":"Pub Issuing","key":"rsa-2048","parent":"pub-root","days":700}' "$ADMIN"
expect 201
INT_ID=$(jget 'j["id"]')
api GET "/api/v1/cas/$INT_ID/chain" "" "$ADMIN"
printf '%s\n' "$BODY" >"$T/chain.pem"
openssl x509 -in "$T/chain.pem" -out "$T/int.pem"
awk '/BEGIN/{n++} n==2' "$T/chain.pem" >"$T/root.pem"
leaf() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -out "$T/$1.csr" \
		-subj "/CN=$1.example.test" 2>/dev/null
	api POST /api/v1/certificates "$(python3 -c 'import json,sys; print(json.dumps({"ca":"pub-issuing","csr":open(sys.argv[1]).read()}))' \
		"$T/$1.csr")" "$ADMIN"
	expect 201
	jget 'j["certificate"]' | sed '/^$/d' >"$T/$1.pem"
	jget 'j["id"]'
}
GOOD=$(leaf good)
BAD=$(leaf bad)
BAD_SERIAL=$(openssl x509 -in "$T/bad.pem" -noout -serial | cut -d= -f2)
openssl x509 -in "$T/good.pem" -noout -ext crlDistributionPoints | grep -q "/crl/pub-issuing.crl" ||
	fail "leaf has no CDP pointing at /crl/pub-issuing.crl"

step "a CA's first CRL is there before any revocation (the scheduler publishes it)"
for i in $(seq 1 50); do
	[ "$(db "SELECT count(*) FROM crls c JOIN cas a ON a.id = c.ca_id WHERE a.slug = 'pub-root'")" -ge 1 ] && break
	sleep 0.1
done
[ "$(db "SELECT count(*) FROM crls c JOIN cas a ON a.id = c.ca_id WHERE a.slug = 'pub-root'")" -ge 1 ] ||
	fail "the scheduler did not publish the new CA's first CRL"
[ "$(curl -s -o "$T/first.crl" -w '%{http_code}' "$HTTP_URL/crl/pub-issuing.crl")" = 200 ] || fail "no first CRL"
openssl crl -inform DER -in "$T/first.crl" -noout -verify -CAfile "$T/chain.pem" 2>&1 | grep -q "verify OK" ||
	fail "first CRL does not verify"
openssl crl -inform DER -in "$T/first.crl" -noout -text | grep -q "No Revoked Certificates" || fail "first CRL not empty"

step "revoke over REST (keyCompromise)"
api POST "/api/v1/certificates/$BAD/revocation" "" "$ADMIN"
expect 201
CODE=$(jget 'j["code"]')
api POST "/api/v1/certificates/$BAD/revoke" "{\"code\":\"$CODE\",\"reason\":\"keyCompromise\"}" "$ADMIN"
expect 200
N_AFTER=$(jget 'j["crl_number"]')
# Published at once (crl_number), or batched because the CA's first CRL is younger than
# crl_batch_seconds (crl_number null; the scheduler publishes within that + 1 s): wait, bounded,
# until the served CRL lists the serial; the checks below then hold for either path.
for i in $(seq 1 40); do
	curl -s -o "$T/int.crl" "$HTTP_URL/crl/pub-issuing.crl" &&
		openssl crl -inform DER -in "$T/int.crl" -noout -text 2>/dev/null | grep -q "Serial Number: $BAD_SERIAL" && break
	sleep 0.2
done
[ -n "$N_AFTER" ] ||
	N_AFTER=$(db "SELECT max(c.number) FROM crls c JOIN cas a ON a.id = c.ca_id WHERE a.slug = 'pub-issuing'")

step "GET /crl/<slug>.crl: DER, verifies, lists the serial with its reason, crl_check rejects the leaf"
curl -s -D "$T/h1" -o "$T/int.crl" "$HTTP_URL/crl/pub-issuing.crl"
grep -qi '^content-type: application/pkix-crl' "$T/h1" || fail "content type: $(cat "$T/h1")"
openssl crl -inform DER -in "$T/int.crl" -noout -verify -CAfile "$T/chain.pem" 2>&1 | grep -q "verify OK" ||
	fail "openssl crl -verify refused the CRL"
openssl crl -inform DER -in "$T/int.crl" -out "$T/int.crl.pem"
openssl crl -in "$T/int.crl.pem" -noout -text >"$T/crl.txt"
grep -q "Serial Number: $BAD_SERIAL" "$T/crl.txt" || fail "serial $BAD_SERIAL not listed: $(cat "$T/crl.txt")"
grep -q "Key Compromise" "$T/crl.txt" || fail "reason not listed"
[ "$(openssl crl -in "$T/int.crl.pem" -noout -crlnumber | cut -d= -f2)" = "$(printf '0x%02X' "$N_AFTER")" ] ||
	fail "served CRL is not number $N_AFTER: $(openssl crl -in "$T/int.crl.pem" -noout -crlnumber)"
if openssl verify -crl_check -CAfile "$T/chain.pem" -CRLfile "$T/int.crl.pem" "$T/bad.pem" >"$T/v" 2>&1; then
	fail "openssl verify -crl_check accepted the revoked leaf"
fi
grep -q "certificate revoked" "$T/v" || fail "unexpected verify output: $(cat "$T/v")"
openssl verify -crl_check -CAfile "$T/chain.pem" -CRLfile "$T/int.crl.pem" "$T/good.pem" >/dev/null ||
	fail "openssl verify -crl_check refused the good leaf"
curl -s -o "$T/root.crl" "$HTTP_URL/crl/pub-root.crl"
openssl crl -inform DER -in "$T/root.crl" -noout -verify -CAfile "$T/root.pem" 2>&1 | grep -q "verify OK" ||
	fail "root CRL does not verify"

step "ETag and Last-Modified: 304 on a match, 200 otherwise; HEAD; ?format=pem"
ETAG=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$T/h1" | tr -d '\r')
LM=$(sed -n 's/^[Ll]ast-[Mm]odified: *//p' "$T/h1" | tr -d '\r')
[ "$ETAG" = "\"$INT_ID-$N_AFTER\"" ] || fail "ETag: $ETAG"
[ -n "$LM" ] || fail "no Last-Modified"
code() { curl -s -o "$T/out" -w '%{http_code}' "$@"; }
[ "$(code -H "If-None-Match: $ETAG" "$HTTP_URL/crl/pub-issuing.crl")" = 304 ] || fail "If-None-Match did not give 304"
[ ! -s "$T/out" ] || fail "304 with a body"
[ "$(code -H "If-None-Match: \"x\", W/$ETAG" "$HTTP_URL/crl/pub-issuing.crl")" = 304 ] || fail "weak/list If-None-Match"
[ "$(code -H 'If-None-Match: "1-1"' "$HTTP_URL/crl/pub-issuing.crl")" = 200 ] || fail "other ETag must give 200"
cmp "$T/out" "$T/int.crl" || fail "200 body differs"
[ "$(code -H "If-Modified-Since: $LM" "$HTTP_URL/crl/pub-issuing.crl")" = 304 ] || fail "If-Modified-Since did not give 304"
[ "$(code -H 'If-Modified-Since: Mon, 01 Jan 2001 00:00:00 GMT' "$HTTP_URL/crl/pub-issuing.crl")" = 200 ] ||
	fail "old If-Modified-Since must give 200"
[ "$(code -H 'If-Modified-Since: garbage' "$HTTP_URL/crl/pub-issuing.crl")" = 200 ] || fail "bad date must be ignored"
[ "$(code -I "$HTTP_URL/crl/pub-issuing.crl")" = 200 ] || fail "HEAD"
[ "$(code "$HTTP_URL/crl/pub-issuing.crl?format=pem")" = 200 ] || fail "pem"
cmp "$T/out" "$T/int.crl.pem" || fail "?format=pem differs from openssl's PEM of the DER"
for u in "crl/pub-issuing.crl?format=xml" "crl/no-such.crl" "crl/..%2fpub-issuing.crl" "crl/PUB-ISSUING.crl" \
	"crl/pub-issuing%00.crl" "crl/pub-issuing.crt"; do
	c=$(code "$HTTP_URL/$u")
	[ "${c:0:1}" = 4 ] || fail "$u gave $c"
done
[ "$(code "$HTTPS_URL/crl/pub-issuing.crl" --cacert "$CACERT")" = 404 ] || fail "CRL must be on plain HTTP only"

step "on-demand publication, history, Show CRL"
api POST "/api/v1/cas/$INT_ID/crl" "" "$ADMIN"
expect 201
N2=$(jget 'j["number"]')
[ "$N2" -gt "$N_AFTER" ] && [ "$(jget 'j["entries"]')" = 1 ] && [ "$(jget 'j["ca"]')" = pub-issuing ] || fail "publish: $BODY"
[ "$(code -H "If-None-Match: $ETAG" "$HTTP_URL/crl/pub-issuing.crl")" = 200 ] || fail "old ETag after a new CRL"
openssl crl -inform DER -in "$T/out" -noout -verify -CAfile "$T/chain.pem" 2>&1 | grep -q "verify OK" || fail "new CRL"
api POST "/api/v1/cas/$INT_ID/crl" '{"x":1}' "$ADMIN"
expect 400
api GET "/api/v1/cas/$INT_ID/crls?limit=2" "" "$ADMIN"
expect 200
[ "$(jget 'len(j["items"])')" = 2 ] && [ "$(jget 'j["items"][0]["number"]')" = "$N2" ] || fail "history: $BODY"
NEXT=$(jget 'j["next"]')
CRL_ID=$(jget 'j["items"][0]["id"]')
api GET "/api/v1/cas/$INT_ID/crls?limit=2&after=$NEXT" "" "$ADMIN"
expect 200
[ "$(jget 'all(i["number"] < '"$NEXT"' for i in j["items"])')" = true ] || fail "history page 2: $BODY"
api GET "/api/v1/crls/$CRL_ID" "" "$ADMIN"
expect 200
[ "$(jget 'j["issuer"]')" = "CN=Pub Issuing" ] && [ "$(jget 'j["number"]')" = "$N2" ] &&
	[ "$(jget 'j["revoked"][0]["serial"]')" = "$BAD_SERIAL" ] && [ "$(jget 'j["revoked"][0]["reason"]')" = keyCompromise ] &&
	[ -n "$(jget 'j["next_update"]')" ] && [ -n "$(jget 'j["revoked"][0]["revoked_at"]')" ] || fail "Show CRL: $BODY"
[ "$(db "SELECT count(*) FROM audit WHERE event='crl.published' AND actor='user:admin'")" -ge 1 ] || fail "audit"
api POST /api/v1/users '{"username":"aud","role":"auditor","password":"aud-password-1","must_change_password":false}' "$ADMIN"
expect 201
api POST /api/v1/users '{"username":"op","role":"operator","password":"op-password-1","must_change_password":false}' "$ADMIN"
expect 201
login aud aud-password-1
AUD=$TOKEN_OUT
login op op-password-1
OP=$TOKEN_OUT
api GET "/api/v1/crls/$CRL_ID" "" "$AUD"
expect 200
api POST "/api/v1/cas/$INT_ID/crl" "" "$AUD"
expect 403
api GET "/api/v1/crls/$CRL_ID" "" "$OP"
expect 403
api GET "/api/v1/cas/$INT_ID/crls" "" "$OP"
expect 403
for p in 999999 0 abc "1%27"; do
	api GET "/api/v1/crls/$p" "" "$ADMIN"
	expect 404
	api GET "/api/v1/cas/$p/crls" "" "$ADMIN"
	expect 404
	api POST "/api/v1/cas/$p/crl" "" "$ADMIN"
	expect 404
done

step "OCSP over POST with openssl ocsp: good, revoked (with reason), unknown; nonce echoed"
ocsp() { openssl ocsp -issuer "$T/int.pem" -url "$HTTP_URL/ocsp/pub-issuing" -CAfile "$T/chain.pem" -resp_text "$@" 2>&1; }
ocsp -cert "$T/good.pem" >"$T/o1" || fail "openssl ocsp failed: $(cat "$T/o1")"
grep -q "good.pem: good" "$T/o1" || fail "good: $(cat "$T/o1")"
grep -q "Response verify OK" "$T/o1" || fail "OCSP response does not verify: $(cat "$T/o1")"
grep -q "OCSP Nonce" "$T/o1" || fail "nonce not echoed: $(cat "$T/o1")"
if grep -qi "no nonce\|nonce verify error" "$T/o1"; then fail "nonce problem: $(cat "$T/o1")"; fi
ocsp -cert "$T/bad.pem" >"$T/o2" || fail "openssl ocsp failed: $(cat "$T/o2")"
grep -q "bad.pem: revoked" "$T/o2" || fail "revoked: $(cat "$T/o2")"
grep -q "Reason: keyCompromise" "$T/o2" || fail "reason: $(cat "$T/o2")"
ocsp -serial 0x0123456789ABCDEF >"$T/o3" || fail "openssl ocsp failed: $(cat "$T/o3")"
grep -q ": unknown" "$T/o3" || fail "unknown: $(cat "$T/o3")"
ocsp -cert "$T/good.pem" -cert "$T/bad.pem" >"$T/o4" || fail "two ids"
grep -q "good.pem: good" "$T/o4" && grep -q "bad.pem: revoked" "$T/o4" || fail "two ids: $(cat "$T/o4")"

step "OCSP over GET (RFC 6960 A.1, URL-encoded base64)"
openssl ocsp -issuer "$T/int.pem" -cert "$T/bad.pem" -no_nonce -reqout "$T/req.der" >/dev/null 2>&1
B64=$(python3 -c 'import base64,sys,urllib.parse; print(urllib.parse.quote(base64.b64encode(open(sys.argv[1],"rb").read()).decode(), safe=""))' "$T/req.der")
curl -s -D "$T/hg" -o "$T/get.der" "$HTTP_URL/ocsp/pub-issuing/$B64"
grep -qi '^content-type: application/ocsp-response' "$T/hg" || fail "GET content type: $(cat "$T/hg")"
openssl ocsp -respin "$T/get.der" -resp_text -noverify 2>&1 | grep -q "Cert Status: revoked" || fail "GET answer"
# Requests whose base64 has '/' in it (any number, doubled or at either end: the route takes
# the rest of the path), sent %2F-encoded and, every other one, raw as some clients do.
for i in $(seq 1 400); do
	openssl ocsp -issuer "$T/int.pem" -serial "0x$(printf '%04X' "$i")" -no_nonce -reqout "$T/r.der" >/dev/null 2>&1
	b=$(base64 -w0 "$T/r.der")
	case $b in */*) ;; *) continue ;; esac
	if [ $((i % 2)) = 0 ]; then
		q=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$b")
	else
		q=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/"))' "$b")
	fi
	curl -s -o "$T/r.resp" "$HTTP_URL/ocsp/pub-issuing/$q"
	openssl ocsp -respin "$T/r.resp" -resp_text -noverify 2>&1 | grep -q "Cert Status: unknown" ||
		fail "GET with '/' in the base64 ($b): $(openssl ocsp -respin "$T/r.resp" -resp_text -noverify 2>&1 | head -3)"
	slashes=$((${slashes:-0} + 1))
	[ "$slashes" -ge 8 ] && break
done
[ "${slashes:-0}" -ge 8 ] || fail "fewer than 8 requests with '/' in their base64 among 400"

step "OCSP errors: malformedRequest, unauthorized, 415, 413"
# openssl prints "Responder Error: malformedrequest (1)" for an unsuccessful response status.
status_of() { { openssl ocsp -respin "$1" -resp_text -noverify 2>&1 || true; } | sed -n 's/^Responder Error: //p'; }
post() { curl -s -o "$T/resp.der" -w '%{http_code}' -H 'Content-Type: application/ocsp-request' --data-binary "$@"; }
printf 'garbage' >"$T/garbage"
[ "$(post @"$T/garbage" "$HTTP_URL/ocsp/pub-issuing")" = 200 ] || fail "garbage status"
status_of "$T/resp.der" | grep -qi "^malformedrequest" || fail "garbage: $(status_of "$T/resp.der")"
head -c 20 "$T/req.der" >"$T/trunc"
post @"$T/trunc" "$HTTP_URL/ocsp/pub-issuing" >/dev/null
status_of "$T/resp.der" | grep -qi "^malformedrequest" || fail "truncated"
cat "$T/req.der" "$T/req.der" >"$T/twice"
post @"$T/twice" "$HTTP_URL/ocsp/pub-issuing" >/dev/null
status_of "$T/resp.der" | grep -qi "^malformedrequest" || fail "trailing bytes"
post @/dev/null "$HTTP_URL/ocsp/pub-issuing" >/dev/null
status_of "$T/resp.der" | grep -qi "^malformedrequest" || fail "empty"
post @"$T/req.der" "$HTTP_URL/ocsp/no-such-ca" >/dev/null
status_of "$T/resp.der" | grep -qi "^unauthorized" || fail "unknown CA: $(status_of "$T/resp.der")"
curl -s -o "$T/resp.der" "$HTTP_URL/ocsp/pub-issuing/!!!notbase64"
status_of "$T/resp.der" | grep -qi "^malformedrequest" || fail "GET garbage"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: text/plain' --data-binary @"$T/req.der" "$HTTP_URL/ocsp/pub-issuing")" = 415 ] ||
	fail "wrong content type"
head -c 20000 /dev/urandom >"$T/big"
[ "$(post @"$T/big" "$HTTP_URL/ocsp/pub-issuing")" = 413 ] || fail "oversized request"
kill -0 "$SERVE_PID" || fail "the daemon died"
serve_stop
"$HSMCA_BIN" audit verify --state "$S" >/dev/null || fail "audit chain does not verify"
echo PASS
