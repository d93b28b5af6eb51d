#!/bin/bash
# Issue #6 REST side: SCEP authentication entries (secret once, one-time, disabled, HTTP Basic with
# 401 for unknown/disabled credentials), per-CA settings with manual approval (PENDING, approve,
# reject), SCEP logs with filters and "Show content", permissions (auditor reads only), and bad
# HTTP input (unknown CA, unknown operation, garbage and oversized messages -> 4xx, nothing issued).
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
CA_ID=$(db "SELECT id FROM cas WHERE slug='$CA'")
URL=$HTTP_URL/scep/$CA
certs() { db "SELECT count(*) FROM certificates"; }

step "create entries: secret shown once, never listed"
api POST /api/v1/scep-auth "{\"name\":\"once\",\"ca\":\"$CA\",\"one_time\":true}" "$ADMIN"
expect 201
ONCE=$(jget 'j["secret"]'); ONCE_ID=$(jget 'j["id"]')
[ ${#ONCE} -ge 20 ] && [ "$(jget 'j["one_time"]')" = true ] || fail "create: $BODY"
api POST /api/v1/scep-auth "{\"name\":\"once\",\"ca\":\"$CA\"}" "$ADMIN"
expect 409
api POST /api/v1/scep-auth "{\"name\":\"x\",\"ca\":\"no-such-ca\"}" "$ADMIN"
expect 400
api POST /api/v1/scep-auth "{\"name\":\"bad name:\",\"ca\":\"$CA\"}" "$ADMIN"
expect 400
api POST /api/v1/scep-auth "{\"name\":\"x\",\"ca\":\"$CA\",\"extra\":1}" "$ADMIN"
expect 400
api POST /api/v1/scep-auth "{\"name\":\"basic\",\"ca\":\"$CA\",\"one_time\":false,\"expires_at\":\"2099-01-01T00:00:00Z\"}" "$ADMIN"
expect 201
BASIC=$(jget 'j["secret"]'); BASIC_ID=$(jget 'j["id"]')
api GET /api/v1/scep-auth "" "$ADMIN"
expect 200
[ "$(jget 'len(j["items"])')" = 2 ] && ! grep -q "$ONCE" <<<"$BODY" && ! grep -qi '"secret' <<<"$BODY" || fail "list: $BODY"
[ "$(db "SELECT count(*) FROM scep_auth WHERE secret_hash LIKE '%$ONCE%'")" = 0 ] || fail "secret stored in clear"

step "one-time challenge: first use works, second is refused"
"$PEERS/sceppeer" enroll -url "$URL" -cn once-1 -challenge "$ONCE" -out "$T/once1.pem" || fail "one-time first use"
n=$(certs)
out=$("$PEERS/sceppeer" enroll -url "$URL" -cn once-2 -challenge "$ONCE" 2>&1) && fail "one-time secret reused"
grep -q badRequest <<<"$out" || fail "$out"
[ "$(certs)" = "$n" ] || fail "issued on a used one-time secret"
api GET "/api/v1/scep-auth/$ONCE_ID" "" "$ADMIN"
expect 200
[ "$(jget 'j["state"]')" = used ] && [ "$(jget 'j["use_count"]')" = 1 ] || fail "state: $BODY"

step "HTTP Basic credentials (name, secret) instead of a challenge"
BURL=http://basic:$BASIC@127.0.0.1:$HTTP_PORT/scep/$CA
"$PEERS/sceppeer" enroll -url "$BURL" -cn basic-1 -out "$T/basic1.pem" || fail "basic enrollment"
st=$(curl -s -o /dev/null -w '%{http_code}' -u "basic:wrong-secret-wrong-secret" "$URL?operation=GetCACaps")
[ "$st" = 401 ] || fail "wrong Basic secret: $st"
st=$(curl -s -o /dev/null -w '%{http_code}' -u "nobody:$BASIC" "$URL?operation=GetCACaps")
[ "$st" = 401 ] || fail "unknown Basic user: $st"
curl -s -D - -o /dev/null -u "nobody:x" "$URL?operation=GetCACaps" | grep -qi '^WWW-Authenticate: Basic' || fail "no WWW-Authenticate"

step "disable: Basic gives 401, the challenge FAILURE"
api PATCH "/api/v1/scep-auth/$BASIC_ID" '{"enabled":false}' "$ADMIN"
expect 200
[ "$(jget 'j["enabled"]')" = false ] || fail "$BODY"
st=$(curl -s -o /dev/null -w '%{http_code}' -u "basic:$BASIC" "$URL?operation=GetCACaps")
[ "$st" = 401 ] || fail "disabled Basic credentials: $st"
n=$(certs)
out=$("$PEERS/sceppeer" enroll -url "$URL" -cn dis-1 -challenge "$BASIC" 2>&1) && fail "disabled secret accepted"
grep -q badRequest <<<"$out" || fail "$out"
[ "$(certs)" = "$n" ] || fail "issued on a disabled secret"
api PATCH "/api/v1/scep-auth/$BASIC_ID" '{"enabled":true}' "$ADMIN"
expect 200

step "permissions: auditor reads, cannot create or change"
api POST /api/v1/users '{"username":"audrey","role":"auditor","password":"audrey-pass-1"}' "$ADMIN"
expect 201
login audrey audrey-pass-1
AUD=$TOKEN_OUT
api GET /api/v1/scep-auth "" "$AUD"
expect 200
api POST /api/v1/scep-auth "{\"name\":\"aud\",\"ca\":\"$CA\"}" "$AUD"
expect 403
api PATCH "/api/v1/scep-auth/$BASIC_ID" '{"enabled":false}' "$AUD"
expect 403
api PATCH "/api/v1/cas/$CA_ID/scep" '{"approval":"manual"}' "$AUD"
expect 403
api GET /api/v1/logs/scep "" "$AUD"
expect 200
api GET /api/v1/scep-auth "" ""
expect 401

step "manual approval: PENDING, approve, reject"
api PATCH "/api/v1/cas/$CA_ID/scep" '{"approval":"manual"}' "$ADMIN"
expect 200
[ "$(jget 'j["approval"]')" = manual ] && [ "$(jget 'j["enabled"]')" = true ] && [ -n "$(jget 'j["ra"]["subject"]')" ] || fail "$BODY"
n=$(certs)
out=$("$PEERS/sceppeer" enroll -url "$URL" -cn manual-1 -challenge "$BASIC" 2>&1) && fail "manual mode issued at once"
grep -q PENDING <<<"$out" || fail "expected PENDING: $out"
out=$("$PEERS/sceppeer" enroll -url "$URL" -cn manual-2 -challenge "$BASIC" 2>&1) && fail "manual mode issued at once"
[ "$(certs)" = "$n" ] || fail "issued while pending"
api GET "/api/v1/scep-requests?status=pending" "" "$ADMIN"
expect 200
[ "$(jget 'len(j["items"])')" = 2 ] || fail "pending list: $BODY"
R1=$(jget 'j["items"][0]["id"]'); R2=$(jget 'j["items"][1]["id"]')
api POST "/api/v1/scep-requests/$R1/approve" "" "$AUD"
expect 403
api POST "/api/v1/scep-requests/$R1/approve" "" "$ADMIN"
expect 200
[ "$(jget 'j["status"]')" = issued ] && [ -n "$(jget 'j["certificate_id"]')" ] || fail "approve: $BODY"
[ "$(certs)" = $((n + 1)) ] || fail "approval issued nothing"
[ "$(db "SELECT common_name FROM certificates ORDER BY id DESC LIMIT 1")" = manual-1 ] || fail "wrong certificate approved"
api POST "/api/v1/scep-requests/$R1/approve" "" "$ADMIN"
expect 409
# A reason is optional, a short line of text, and only for a rejection.
for body in '{' '[]' '{"reason":123}' '{"reason":""}' '{"why":"x"}' "{\"reason\":\"$(printf 'x%.0s' $(seq 1 201))\"}"; do
	api POST "/api/v1/scep-requests/$R2/reject" "$body" "$ADMIN"
	expect 400 invalid_request
done
api POST "/api/v1/scep-requests/$R2/approve" '{"reason":"fine"}' "$ADMIN"
expect 400 invalid_request
[ "$(db "SELECT status FROM scep_transactions WHERE id=$R2")" = pending ] || fail "a refused decision changed the request"
api POST "/api/v1/scep-requests/$R2/reject" '{"reason":"unknown device, not in the inventory"}' "$ADMIN"
expect 200
[ "$(jget 'j["status"]')" = rejected ] || fail "reject: $BODY"
[ "$(db "SELECT error FROM scep_transactions WHERE id=$R2")" = \
	"rejected by an administrator: unknown device, not in the inventory" ] || fail "rejection reason not kept"
db "SELECT details FROM audit WHERE event='scep.request.rejected' ORDER BY id DESC LIMIT 1" |
	grep -q '"reason":"unknown device, not in the inventory"' || fail "rejection reason not in the audit row"
[ "$(certs)" = $((n + 1)) ] || fail "rejection issued"
api PATCH "/api/v1/cas/$CA_ID/scep" '{"approval":"auto","enabled":false}' "$ADMIN"
expect 200
st=$(curl -s -o /dev/null -w '%{http_code}' "$URL?operation=GetCACaps")
[ "$st" = 404 ] || fail "disabled SCEP answered $st"
api PATCH "/api/v1/cas/$CA_ID/scep" '{"enabled":true}' "$ADMIN"
expect 200

step "bad HTTP input: 4xx, nothing issued"
n=$(certs)
st=$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/scep/no-such-ca?operation=GetCACaps"); [ "$st" = 404 ] || fail "unknown CA: $st"
st=$(curl -s -o /dev/null -w '%{http_code}' "$URL?operation=Frobnicate"); [ "$st" = 400 ] || fail "unknown operation: $st"
st=$(curl -s -o /dev/null -w '%{http_code}' "$URL"); [ "$st" = 400 ] || fail "no operation: $st"
st=$(curl -s -o /dev/null -w '%{http_code}' "$URL?operation=GetNextCACert"); [ "$st" = 404 ] || fail "GetNextCACert: $st"
st=$(curl -s -o /dev/null -w '%{http_code}' "$URL?operation=PKIOperation&message=%21%21notbase64"); [ "$st" = 400 ] || fail "bad base64: $st"
st=$(curl -s -o /dev/null -w '%{http_code}' "$URL?operation=PKIOperation&message=MIIBIjANBgkq"); [ "$st" = 400 ] || fail "truncated: $st"
head -c 3000 /dev/urandom >"$T/garbage"
st=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/garbage" -H 'Content-Type: application/x-pki-message' "$URL?operation=PKIOperation"); [ "$st" = 400 ] || fail "garbage POST: $st"
head -c 300000 /dev/zero >"$T/big"
st=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/big" "$URL?operation=PKIOperation"); [ "$st" = 413 ] || fail "oversized POST: $st"
for q in "" "&message=CAIdentifier" "&message=0" "&message=1"; do
	st=$(curl -s -o "$T/cacert" -w '%{http_code}' "$URL/pkiclient.exe?operation=GetCACert$q"); [ "$st" = 200 ] || fail "GetCACert$q: $st"
done
openssl pkcs7 -inform DER -in "$T/cacert" -print_certs | grep -c "subject=" | grep -qx 3 || fail "GetCACert body"
[ "$(certs)" = "$n" ] || fail "bad input issued something"

step "logs: filters, per CA, show content"
api GET "/api/v1/logs/scep?result=failure" "" "$ADMIN"
expect 200
[ "$(jget 'len(j["items"])')" -ge 4 ] || fail "failure logs: $BODY"
api GET "/api/v1/cas/$CA_ID/scep-logs?message_type=PKCSReq&limit=2" "" "$ADMIN"
expect 200
[ "$(jget 'len(j["items"])')" = 2 ] && [ -n "$(jget 'j["next"]')" ] || fail "per-CA logs: $BODY"
ID=$(jget 'j["items"][0]["id"]')
api GET "/api/v1/logs/scep/$ID" "" "$AUD"
expect 200
[ "$(jget 'j["content"]["csr"]["has_challenge"]')" = true ] && [ -n "$(jget 'j["request_der_base64"]')" ] || fail "show content: $BODY"
grep -q "$BASIC" <<<"$BODY" && fail "a secret in the log content"
api GET "/api/v1/logs/scep/999999" "" "$ADMIN"
expect 404

step "delete an entry"
api DELETE "/api/v1/scep-auth/$ONCE_ID" "" "$ADMIN"
expect 204
api GET "/api/v1/scep-auth/$ONCE_ID" "" "$ADMIN"
expect 404
grep -q "$BASIC" "$T/serve.log" && fail "a secret is in the daemon log"
echo "ok"
