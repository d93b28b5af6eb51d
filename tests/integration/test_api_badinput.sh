#!/bin/bash
# Issue #3, bad input against the real daemon: invalid JSON, wrong types, missing and unknown
# fields, oversized bodies (413 before parsing, Content-Length and chunked), unknown ids, path
# traversal in ids, SQL metacharacters and NUL bytes in string fields. Each answer is a clear 4xx
# with the error shape, and no table's row count changes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
S=$T/state
# A small JSON cap keeps the oversized cases quick.
export HSMCA_MAX_JSON_BODY_BYTES=65536

hsmca_init "$S"
serve_start "$S"
login admin "$(cat "$S.admin-password")"
ADMIN=$TOKEN_OUT
api POST /api/v1/users '{"username":"olivia","role":"operator","password":"olivia-pass-1"}' "$ADMIN"
expect 201
OLIVIA_ID=$(jget 'j["id"]')

# bad METHOD PATH BODY STATUS [CODE]: refused with STATUS and no row count changed.
bad() {
	local before after
	before=$(row_counts "$S")
	api "$1" "$2" "$3" "$ADMIN"
	expect "$4" "${5:-}"
	after=$(row_counts "$S")
	[ "$before" = "$after" ] || fail "rows changed after $1 $2 $3: $before -> $after"
	echo "refused as expected ($STATUS): $(jget 'j["error"]["message"]')"
}

step "invalid JSON"
for body in '{' '{"username":"a",}' '[]' '"x"' '42' 'null' '{"username":"a"} trailing' "{'username':'a'}" \
	'{"username":"a","username":"b","role":"operator"}'; do
	bad POST /api/v1/users "$body" 400 invalid_request
done
printf '{"username":"a\xff\xfe","role":"operator"}' >"$T/utf8"
bad POST /api/v1/users "@$T/utf8" 400
printf '{"username":"nul\0byte","role":"operator"}' >"$T/rawnul"
bad POST /api/v1/users "@$T/rawnul" 400
bad POST /api/v1/users '' 400

step "wrong types, missing and unknown fields"
bad POST /api/v1/users '{"username":5,"role":"operator"}' 400
bad POST /api/v1/users '{"username":["a"],"role":"operator"}' 400
bad POST /api/v1/users '{"username":"a","role":7}' 400
bad POST /api/v1/users '{"username":"a","role":"root"}' 400
bad POST /api/v1/users '{"username":"a","role":"operator","must_change_password":"yes"}' 400
bad POST /api/v1/users '{"role":"operator"}' 400
bad POST /api/v1/users '{"username":"a"}' 400
bad POST /api/v1/users '{"username":"a","role":"operator","is_admin":true}' 400
bad POST /api/v1/users '{"username":"a","role":"operator","password":"short"}' 422 policy_refused
bad POST "/api/v1/users/$OLIVIA_ID/tokens" '{"validity_days":"30"}' 400
bad POST "/api/v1/users/$OLIVIA_ID/tokens" '{"validity_days":30.5}' 400
bad POST "/api/v1/users/$OLIVIA_ID/tokens" '{"validity_days":0}' 400
bad POST "/api/v1/users/$OLIVIA_ID/tokens" '{"validity_days":100000}' 400
bad POST "/api/v1/users/$OLIVIA_ID/tokens" '{}' 400
bad PATCH "/api/v1/users/$OLIVIA_ID" '{"enabled":"false"}' 400
bad PATCH "/api/v1/users/$OLIVIA_ID" '{"email":"not-an-email"}' 400
bad POST /api/v1/teams '{"name":""}' 400
bad POST /api/v1/auth/login '{"username":"admin"}' 400
bad POST /api/v1/auth/login '{"username":"admin","password":12345678}' 400

step "SQL metacharacters and NUL bytes in every string field"
for v in "x' OR '1'='1" "x'; DROP TABLE users; --" 'x"; DELETE FROM audit; --' 'x\u0000y' 'a%00b' '../../etc/passwd' 'x\ny'; do
	bad POST /api/v1/users "{\"username\":\"$v\",\"role\":\"operator\"}" 400
	bad POST /api/v1/users "{\"username\":\"ok1\",\"role\":\"$v\"}" 400
	bad PATCH "/api/v1/users/$OLIVIA_ID" "{\"role\":\"$v\"}" 400
	bad POST "/api/v1/users/$OLIVIA_ID/tokens" "{\"validity_days\":1,\"name\":\"$v\u0000\"}" 400
done
bad POST /api/v1/users '{"username":"ok1","role":"operator","email":"x'"'"' OR '"'"'1'"'"'='"'"'1@x"}' 400
bad POST /api/v1/users '{"username":"ok1","role":"operator","email":"a\u0000@x"}' 400
bad POST /api/v1/users '{"username":"ok1","role":"operator","password":"pass\u0000word-1"}' 400
bad POST /api/v1/teams '{"name":"t\u0000x"}' 400
bad POST /api/v1/teams '{"name":"t","description":"d\u0000x"}' 400
# Login: metacharacters are just a wrong username (the attempt is recorded, so counts change).
api POST /api/v1/auth/login "{\"username\":\"admin' --\",\"password\":\"x' OR '1'='1\"}"
expect 401 invalid_credentials
api POST /api/v1/auth/login '{"username":"admin\u0000","password":"x"}'
expect 400
# Where metacharacters are legal data, they are stored as data.
api POST /api/v1/teams "{\"name\":\"t'); DROP TABLE users; --\",\"description\":\"\\\"; DELETE FROM audit;\"}" "$ADMIN"
expect 201
[ "$(jget 'j["name"]')" = "t'); DROP TABLE users; --" ] || fail "team name not kept verbatim: $BODY"
[ "$(db "SELECT count(*) FROM users")" -ge 2 ] || fail "users table damaged"

step "unknown ids and path traversal in ids"
for id in 999999 0 -1 abc 1.5 1e3 "1%20OR%201=1" "1'" "..%2F..%2Fetc%2Fpasswd" "%2e%2e" 99999999999999999999999; do
	bad GET "/api/v1/users/$id" '' 404 not_found
	bad PATCH "/api/v1/users/$id" '{"enabled":true}' 404
	bad DELETE "/api/v1/users/$id/tokens/1" '' 404
	bad GET "/api/v1/teams/$id" '' 404
done
bad GET "/api/v1/users/../users" '' 404
bad DELETE "/api/v1/users/$OLIVIA_ID/tokens/999999" '' 404
bad GET /api/v1/nope '' 404 not_found
bad PUT /api/v1/users '' 405 method_not_allowed
bad GET '/api/v1/users?limit=0' '' 400
bad GET '/api/v1/users?limit=abc' '' 400
bad GET '/api/v1/users?after=-5' '' 400

step "oversized bodies: 413 before anything is parsed"
python3 -c 'import json; print(json.dumps({"username":"big","role":"operator","email":"a@"+"b"*70000}))' >"$T/big.json"
bad POST /api/v1/users "@$T/big.json" 413 too_large
head -c 20000 /dev/zero | tr '\0' 'a' | sed 's/^/{"username":"/; s/$/","password":"x"}/' >"$T/biglogin.json"
before=$(row_counts "$S")
api POST /api/v1/auth/login "@$T/biglogin.json"
expect 413 too_large
[ "$before" = "$(row_counts "$S")" ] || fail "an oversized login was recorded"
# Chunked upload without Content-Length: counted as it arrives.
before=$(row_counts "$S")
code=$(curl -s --cacert "$CACERT" -o "$T/body" -w '%{http_code}' -H "Authorization: Bearer $ADMIN" \
	-H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary "@$T/big.json" \
	"$HTTPS_URL/api/v1/users") || true
[ "$code" = 413 ] || fail "chunked oversized body: HTTP $code $(cat "$T/body")"
[ "$before" = "$(row_counts "$S")" ] || fail "rows changed after a chunked oversized body"
# A huge header block is refused by the HTTP layer itself.
code=$(curl -s --cacert "$CACERT" -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" \
	"$HTTPS_URL/api/v1/auth/me") || true
[ "${code:0:1}" = 4 ] || [ "$code" = 000 ] || fail "huge header: HTTP $code"

step "the daemon is still healthy"
api GET /api/v1/auth/me "" "$ADMIN"
expect 200
[ "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/healthz")" = 200 ] || fail "unhealthy after bad input"
echo PASS
