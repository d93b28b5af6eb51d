#!/bin/bash
# Issue #4 two-step revocation over REST against the real daemon: POST .../revocation gives a
# six-digit code (201, hashed in the database, audited); a wrong code is 422 and changes nothing
# but its try counter; an expired code is 422; five wrong tries void the code; a code only works
# for the user and the certificate it was made for; the right code revokes once (200, reason,
# CRL published at once or, in a burst, within crl_batch_seconds + 1 s) and a second revocation is 409; roles and teams decide who may ask;
# reasons are checked; bad input leaves every row count unchanged.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
S=$T/state

hsmca_init "$S"
serve_start "$S"
login admin "$(cat "$S.admin-password")"
ADMIN=$TOKEN_OUT

step "a CA, an operator in a team granted it, an operator outside, an auditor"
api POST /api/v1/cas '{"name":"Rev Root","key":"ec-256"}' "$ADMIN"
expect 201
CA_ID=$(jget 'j["id"]')
api POST /api/v1/cas '{"name":"Other Root","key":"ec-256"}' "$ADMIN"
expect 201
OTHER_CA=$(jget 'j["id"]')
mkuser() {
	api POST /api/v1/users "{\"username\":\"$1\",\"role\":\"$2\",\"password\":\"$1-password-1\",\"must_change_password\":false}" "$ADMIN"
	expect 201
	jget 'j["id"]'
}
OPA_ID=$(mkuser opa operator)
OPB_ID=$(mkuser opb operator)
AUD_ID=$(mkuser aud auditor)
api POST /api/v1/teams '{"name":"pki"}' "$ADMIN"
expect 201
TEAM=$(jget 'j["id"]')
api PUT "/api/v1/teams/$TEAM/members/$OPA_ID" "" "$ADMIN"
expect 204
api PUT "/api/v1/teams/$TEAM/cas/$CA_ID" "" "$ADMIN"
expect 204
login opa opa-password-1
OPA=$TOKEN_OUT
login opb opb-password-1
OPB=$TOKEN_OUT
login aud aud-password-1
AUD=$TOKEN_OUT

# leaf NAME [CA]: issues a certificate from an openssl CSR; prints its id.
leaf() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$1.key" -out "$T/$1.csr" \
		-subj "/CN=$1.example.test" 2>/dev/null
	api POST /api/v1/certificates "$(python3 -c 'import json,sys; print(json.dumps({"ca":sys.argv[2],"csr":open(sys.argv[1]).read()}))' \
		"$T/$1.csr" "${2:-rev-root}")" "$ADMIN"
	expect 201
	jget 'j["certificate"]' | sed '/^$/d' >"$T/$1.pem"
	jget 'j["id"]'
}
C1=$(leaf one)
C2=$(leaf two)
C3=$(leaf three)
C4=$(leaf four other-root)
revoked() { db "SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL"; }
# on_crl ID: waits (bounded: 8 s) until the public CRL of rev-root lists certificate ID. A
# revocation publishes at once, or, when the CA's newest CRL is younger than crl_batch_seconds
# (2), leaves the CA due for the scheduler (1 s tick): burst batching, issue #4.
on_crl() {
	local want i
	want=$(db "SELECT serial FROM certificates WHERE id=$1" | tr a-f A-F | sed 's/^0*//')
	[ -n "$want" ] || return 1
	for i in $(seq 1 40); do
		if curl -s -o "$T/rev.crl" "$HTTP_URL/crl/rev-root.crl" &&
			openssl crl -inform DER -in "$T/rev.crl" -noout -text 2>/dev/null |
			sed -n 's/.*Serial Number: *//p' | tr a-f A-F | sed 's/^0*//' | grep -qx "$want"; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

step "request a code: 201, six digits, five minutes, stored hashed, audited"
api POST "/api/v1/certificates/$C1/revocation" "" "$OPA"
expect 201
CODE=$(jget 'j["code"]')
[[ $CODE =~ ^[0-9]{6}$ ]] || fail "code is not six digits: $BODY"
EXP=$(jget 'j["expires_at"]')
left=$(( $(date -u -d "$EXP" +%s) - $(date -u +%s) ))
[ "$left" -ge 280 ] && [ "$left" -le 301 ] || fail "code expiry is not five minutes away: $EXP ($left s)"
[ "$(db "SELECT count(*) FROM revocation_codes WHERE code_hash LIKE '%$CODE%'")" = 0 ] || fail "code stored in clear"
[ "$(db "SELECT count(*) FROM audit WHERE event='certificate.revoke.requested'")" = 1 ] || fail "no requested audit row"
if grep -q "$CODE" "$T/serve.log"; then fail "the code is in the log"; fi
if db "SELECT details FROM audit" | grep -q "$CODE"; then fail "the code is in the audit trail"; fi

step "wrong code: 422, nothing revoked, only the try counter moves"
WRONG=$(printf '%06d' $(( (10#$CODE + 1) % 1000000 )))
before=$(row_counts "$S")
api POST "/api/v1/certificates/$C1/revoke" "{\"code\":\"$WRONG\",\"reason\":\"keyCompromise\"}" "$OPA"
expect 422 policy_refused
grep -q "4 tries left" <<<"$BODY" || fail "no tries-left hint: $BODY"
[ "$(row_counts "$S")" = "$before" ] || fail "rows changed after a wrong code"
[ "$(revoked)" = 0 ] || fail "a wrong code revoked"
[ "$(db "SELECT attempts FROM revocation_codes WHERE certificate_id=$C1")" = 1 ] || fail "try not counted"

step "bound to its user and certificate"
api POST "/api/v1/certificates/$C1/revoke" "{\"code\":\"$CODE\"}" "$ADMIN"
expect 422 policy_refused
api POST "/api/v1/certificates/$C2/revoke" "{\"code\":\"$CODE\"}" "$OPA"
expect 422 policy_refused
[ "$(revoked)" = 0 ] || fail "a code worked for another user or certificate"

step "permissions: outsider operator and auditor are refused, unknown ids are 404"
for t in "$OPB" "$AUD"; do
	api POST "/api/v1/certificates/$C1/revocation" "" "$t"
	expect 403 forbidden
	api POST "/api/v1/certificates/$C1/revoke" "{\"code\":\"$CODE\"}" "$t"
	expect 403 forbidden
done
api POST "/api/v1/certificates/$C4/revocation" "" "$OPA"
expect 403 forbidden
api POST /api/v1/certificates/$C1/revocation ""
expect 401
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$HTTP_URL/api/v1/certificates/$C1/revocation")" = 404 ] ||
	fail "revocation must not be on plain HTTP"

step "reasons: unknown reason is 400 and does not use a try"
api POST "/api/v1/certificates/$C1/revoke" "{\"code\":\"$CODE\",\"reason\":\"keycompromise\"}" "$OPA"
expect 400 invalid_request
api POST "/api/v1/certificates/$C1/revoke" "{\"code\":\"$CODE\",\"reason\":\"removeFromCRL\"}" "$OPA"
expect 400 invalid_request
[ "$(db "SELECT attempts FROM revocation_codes WHERE certificate_id=$C1 AND user_id=$OPA_ID")" = 1 ] ||
	fail "a bad reason used a try"

step "right code: 200, revoked with its reason, CRL published, audited"
api POST "/api/v1/certificates/$C1/revoke" "{\"code\":\"$CODE\",\"reason\":\"keyCompromise\"}" "$OPA"
expect 200
[ "$(jget 'j["reason"]')" = keyCompromise ] && [ "$(jget 'j["status"]')" = revoked ] || fail "answer: $BODY"
# crl_number: the new CRL's number when published at once, null when batched (then on_crl).
[ -n "$(jget 'j["revoked_at"]')" ] && [ "$(jget 'j["crl_number"] is None or j["crl_number"] >= 1')" = true ] ||
	fail "answer: $BODY"
on_crl "$C1" || fail "certificate $C1 is not on the CRL 8 s after its revocation"
api GET "/api/v1/certificates/$C1" "" "$OPA"
[ "$(jget 'j["status"]')" = revoked ] || fail "status not revoked at once: $BODY"
[ "$(db "SELECT revocation_reason FROM certificates WHERE id=$C1")" = 1 ] || fail "reason not stored"
[ "$(db "SELECT count(*) FROM audit WHERE event='certificate.revoke.confirmed' AND details LIKE '%keyCompromise%'")" = 1 ] ||
	fail "no confirmed audit row with the reason"
[ "$(db "SELECT count(*) FROM audit WHERE event='crl.published'")" -ge 1 ] || fail "no crl.published row"

step "works once; a revoked certificate is 409 for both steps"
api POST "/api/v1/certificates/$C1/revoke" "{\"code\":\"$CODE\",\"reason\":\"keyCompromise\"}" "$OPA"
expect 409 conflict
api POST "/api/v1/certificates/$C1/revocation" "" "$ADMIN"
expect 409 conflict

step "expired code: 422"
api POST "/api/v1/certificates/$C2/revocation" "" "$ADMIN"
expect 201
CODE2=$(jget 'j["code"]')
db "UPDATE revocation_codes SET expires_at = $(( $(date +%s) - 1 ))000 WHERE certificate_id=$C2"
api POST "/api/v1/certificates/$C2/revoke" "{\"code\":\"$CODE2\"}" "$ADMIN"
expect 422 policy_refused
[ "$(revoked)" = 1 ] || fail "an expired code revoked"

step "five wrong tries void the code; a new code works"
api POST "/api/v1/certificates/$C2/revocation" "" "$ADMIN"
expect 201
CODE3=$(jget 'j["code"]')
WRONG=$(printf '%06d' $(( (10#$CODE3 + 7) % 1000000 )))
for i in 1 2 3 4 5; do
	api POST "/api/v1/certificates/$C2/revoke" "{\"code\":\"$WRONG\"}" "$ADMIN"
	expect 422 policy_refused
done
grep -q "now void" <<<"$BODY" || fail "fifth try does not say the code is void: $BODY"
api POST "/api/v1/certificates/$C2/revoke" "{\"code\":\"$CODE3\"}" "$ADMIN"
expect 422 policy_refused
[ "$(revoked)" = 1 ] || fail "a voided code revoked"
api POST "/api/v1/certificates/$C2/revocation" "" "$ADMIN"
expect 201
CODE4=$(jget 'j["code"]')
api POST "/api/v1/certificates/$C2/revoke" "{\"code\":\"$CODE4\",\"reason\":\"superseded\"}" "$ADMIN"
expect 200
[ "$(jget 'j["reason"]')" = superseded ] || fail "reason: $BODY"

step "a newer code replaces the older one; reason defaults to unspecified"
api POST "/api/v1/certificates/$C3/revocation" "" "$OPA"
OLD=$(jget 'j["code"]')
api POST "/api/v1/certificates/$C3/revocation" "" "$OPA"
NEW=$(jget 'j["code"]')
if [ "$OLD" != "$NEW" ]; then
	api POST "/api/v1/certificates/$C3/revoke" "{\"code\":\"$OLD\"}" "$OPA"
	expect 422
fi
api POST "/api/v1/certificates/$C3/revoke" "{\"code\":\"$NEW\"}" "$OPA"
expect 200
[ "$(jget 'j["reason"]')" = unspecified ] || fail "default reason: $BODY"

step "bad input: 4xx, error shape, no row count changes"
# The last revocation's CRL must be out first, or the scheduler's batched publish would change
# the counts under a comparison.
on_crl "$C3" || fail "certificate $C3 is not on the CRL 8 s after its revocation"
# The scheduler prunes spent and expired codes at start and then once a minute; a prune inside
# one of the row-count comparisons below would fail it on a slow machine. Restart first: the
# prune at start runs (checked here), and the comparisons fit in the minute before the next one.
serve_stop
serve_start "$S"
spent() { db "SELECT count(*) FROM revocation_codes WHERE used_at IS NOT NULL OR expires_at < $(date +%s)000"; }
for i in $(seq 1 50); do
	[ "$(spent)" = 0 ] && break
	sleep 0.1
done
[ "$(spent)" = 0 ] || fail "spent/expired codes not pruned at start: $(db "SELECT * FROM revocation_codes")"
C5=$(leaf five)
api POST "/api/v1/certificates/$C5/revocation" "" "$ADMIN"
expect 201
bad() {
	local before after
	before=$(row_counts "$S")
	api "$1" "$2" "$3" "$ADMIN"
	expect "$4" "${5:-}"
	after=$(row_counts "$S")
	[ "$before" = "$after" ] || fail "rows changed after $1 $2 ${3:0:80}: $before -> $after"
}
for body in '' '{' '[]' 'null' '{"code":123456}' '{"code":"12345"}' '{"code":"1234567"}' '{"code":"12345a"}' \
	'{"code":"１２３４５６"}' '{"code":"123456","reason":7}' '{"code":"123456","extra":1}' \
	'{"code":"123456","code":"123456"}' '{"reason":"keyCompromise"}' '{"code":"123456","reason":"x\u0000"}' \
	"{\"code\":\"1' OR '1'='1\"}"; do
	bad POST "/api/v1/certificates/$C5/revoke" "$body" 400
done
[ "$(db "SELECT attempts FROM revocation_codes WHERE certificate_id=$C5")" = 0 ] || fail "malformed input used a try"
python3 -c 'import json; print(json.dumps({"code":"123456","reason":"A"*2000000}))' >"$T/big"
bad POST "/api/v1/certificates/$C5/revoke" "@$T/big" 413 too_large
for p in 999999 0 -1 abc '..%2f..%2fetc%2fpasswd' '1;DROP%20TABLE%20certificates' '%27%20OR%201=1'; do
	bad POST "/api/v1/certificates/$p/revocation" "" 404
	bad POST "/api/v1/certificates/$p/revoke" '{"code":"123456"}' 404
done
# %00 is never decoded (it would cut the path short): "1%00" names no certificate.
bad POST "/api/v1/certificates/1%00/revocation" "" 404
[ "$(revoked)" = 3 ] || fail "revoked count"

step "scheduler prunes expired codes (at start) and the daemon stops cleanly"
serve_stop
n_before=$(db "SELECT count(*) FROM revocation_codes")
serve_start "$S"
for i in $(seq 1 50); do
	[ "$(db "SELECT count(*) FROM revocation_codes")" -lt "$n_before" ] && break
	sleep 0.1
done
[ "$(db "SELECT count(*) FROM revocation_codes WHERE used_at IS NULL AND expires_at > $(date +%s)000")" = 1 ] ||
	fail "the live code was pruned"
[ "$(db "SELECT count(*) FROM revocation_codes")" = 1 ] || fail "spent/expired codes not pruned: $(db "SELECT * FROM revocation_codes")"
serve_stop
grep -q "serve.stopped" "$T/serve.log" || fail "no clean stop"
"$HSMCA_BIN" audit verify --state "$S" >/dev/null || fail "audit chain does not verify"
echo PASS
