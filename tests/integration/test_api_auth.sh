#!/bin/bash
# Issue #3, users and authentication against the real daemon: login, must-change, lockout and
# reset, TOTP with codes computed here, API tokens (bearer, expired, disabled user, deleted),
# teams, login-attempt log, health and metrics, secrets never in the log, graceful stop.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
S=$T/state
export HSMCA_LOGIN_MAX_FAILURES=3

step "init and serve"
hsmca_init "$S"
ADMIN_PW=$(cat "$S.admin-password")
serve_start "$S"

step "health and metrics on plain HTTP"
[ "$(curl -s -o "$T/h" -w '%{http_code}' "$HTTP_URL/healthz")" = 200 ] || fail "healthz: $(cat "$T/h")"
grep -q '"token":"ok"' "$T/h" && grep -q '"database":"ok"' "$T/h" || fail "healthz body: $(cat "$T/h")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$HTTP_URL/api/v1/users")" = 404 ] || fail "the API must not be on plain HTTP"

step "login as the init admin"
api POST /api/v1/auth/login '{"username":"admin","password":"wrong-password"}'
expect 401 invalid_credentials
login admin "$ADMIN_PW"
ADMIN=$TOKEN_OUT
[[ $ADMIN == hsmca_st_* ]] || fail "session token has no type prefix: $ADMIN"
api GET /api/v1/auth/me "" "$ADMIN"
expect 200
[ "$(jget 'j["username"]')" = admin ] && [ "$(jget 'j["role"]')" = admin ] || fail "me: $BODY"
api GET /api/v1/users "" "$ADMIN"
expect 200
[ "$(jget 'j["items"][0]["id"]')" -ge 1 ] || fail "users list has no id: $BODY"
[ "$(jget '"password_hash" in j["items"][0] or "totp_secret" in j["items"][0]')" = false ] || fail "users list leaks secrets"
api GET /api/v1/users ""
expect 401 unauthenticated
api GET /api/v1/users "" "hsmca_st_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
expect 401

step "create users: chosen password, generated password (shown once, must change)"
api POST /api/v1/users '{"username":"olivia","role":"operator","email":"olivia@example.test","password":"olivia-pass-1"}' "$ADMIN"
expect 201
OLIVIA_ID=$(jget 'j["id"]')
[ "$(jget '"password" in j')" = false ] || fail "a chosen password was echoed"
api POST /api/v1/users '{"username":"gen","role":"auditor"}' "$ADMIN"
expect 201
GEN_ID=$(jget 'j["id"]')
GEN_PW=$(jget 'j["password"]')
[ ${#GEN_PW} -ge 20 ] || fail "generated password too short: $GEN_PW"
[ "$(jget 'j["must_change_password"]')" = true ] || fail "generated password must be changed"
api POST /api/v1/users '{"username":"olivia","role":"operator"}' "$ADMIN"
expect 409 already_exists
login gen "$GEN_PW"
GEN=$TOKEN_OUT
api GET /api/v1/users "" "$GEN"
expect 403 forbidden
api GET /api/v1/auth/me "" "$GEN"
expect 200
api POST /api/v1/auth/password "{\"current_password\":\"nope-nope\",\"new_password\":\"gen-new-pass-1\"}" "$GEN"
expect 400 invalid_request
# A wrong current password is bad input: the session stays valid.
api GET /api/v1/auth/me "" "$GEN"
expect 200
api POST /api/v1/auth/password "{\"current_password\":\"$GEN_PW\",\"new_password\":\"short\"}" "$GEN"
expect 422 policy_refused
api POST /api/v1/auth/password "{\"current_password\":\"$GEN_PW\",\"new_password\":\"gen-new-pass-1\"}" "$GEN"
expect 204
api GET /api/v1/users "" "$GEN"
expect 200
api POST /api/v1/users '{"username":"x","role":"admin"}' "$GEN"
expect 403 forbidden

step "lockout after 3 failures, refused even with the right password, admin reset"
login olivia olivia-pass-1
for i in 1 2 3; do
	api POST /api/v1/auth/login '{"username":"olivia","password":"bad-guess-000"}'
	expect 401
done
api POST /api/v1/auth/login '{"username":"olivia","password":"olivia-pass-1"}'
expect 403 account_locked
[ "$(db "SELECT locked FROM users WHERE username='olivia'")" = 1 ] || fail "olivia not locked"
api POST "/api/v1/users/$OLIVIA_ID/reset-login-attempts" "" "$GEN"
expect 403
api POST "/api/v1/users/$OLIVIA_ID/reset-login-attempts" "" "$ADMIN"
expect 200
[ "$(jget 'j["locked"]')" = false ] || fail "reset did not unlock: $BODY"
login olivia olivia-pass-1
OLIVIA=$TOKEN_OUT
api GET /api/v1/logs/login-attempts?username=olivia "" "$ADMIN"
expect 200
[ "$(jget 'len(j["items"])')" -ge 6 ] || fail "login attempts missing: $BODY"
[ "$(jget 'j["items"][0]["result"]')" = success ] || fail "newest attempt should be the success: $BODY"
[ "$(jget 'sum(1 for a in j["items"] if a["reason"]=="bad_password")')" = 3 ] || fail "bad passwords not recorded"
[ "$(jget 'sum(1 for a in j["items"] if a["reason"]=="locked")')" = 1 ] || fail "locked attempt not recorded"
api GET /api/v1/logs/login-attempts "" "$OLIVIA"
expect 403
n=$(db "SELECT count(*) FROM login_attempts WHERE username='nobody'")
api POST /api/v1/auth/login '{"username":"nobody","password":"whatever-1"}'
expect 401 invalid_credentials
[ "$(db "SELECT count(*) FROM login_attempts WHERE username='nobody'")" = $((n + 1)) ] || fail "unknown-user attempt not recorded"

step "disabled account: 403 at login, its sessions end"
api PATCH "/api/v1/users/$GEN_ID" '{"enabled":false}' "$ADMIN"
expect 200
api POST /api/v1/auth/login '{"username":"gen","password":"gen-new-pass-1"}'
expect 403 account_disabled
grep -qi disabled <<<"$BODY" || fail "no 'disabled' in the message: $BODY"
api GET /api/v1/auth/me "" "$GEN"
expect 401
api PATCH "/api/v1/users/$GEN_ID" '{"enabled":true}' "$ADMIN"
expect 200

step "TOTP: enrol with a code computed here, then login needs it"
totp() {
	python3 - "$1" "${2:-0}" <<'PY'
import base64, hmac, struct, sys, time
key = base64.b32decode(sys.argv[1] + "=" * (-len(sys.argv[1]) % 8))
c = int(time.time()) // 30 + int(sys.argv[2])
h = hmac.new(key, struct.pack(">Q", c), "sha1").digest()
o = h[-1] & 15
print("%06d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 1000000))
PY
}
# Codes for the step before/after are only meaningful away from a step boundary: wait until the
# current 30 s step has at least 8 s left, so computing a code and using it land in one step.
totp_settle() {
	while [ $(( $(date +%s) % 30 )) -gt 21 ]; do sleep 1; done
}
api POST /api/v1/auth/totp/enroll "" "$OLIVIA"
expect 200
SECRET=$(jget 'j["secret"]')
URI=$(jget 'j["otpauth_uri"]')
[[ $URI == otpauth://totp/hsmca:olivia\?secret=$SECRET\&* ]] || fail "bad otpauth URI: $URI"
totp_settle
api POST /api/v1/auth/totp/confirm '{"code":"000000"}' "$OLIVIA"
[ "$STATUS" = 400 ] || [ "$(totp "$SECRET")" = 000000 ] || fail "a wrong code confirmed enrolment"
CONFIRM_CODE=$(totp "$SECRET")
api POST /api/v1/auth/totp/confirm "{\"code\":\"$CONFIRM_CODE\"}" "$OLIVIA"
expect 200
api POST /api/v1/auth/login '{"username":"olivia","password":"olivia-pass-1"}'
expect 401 totp_required
totp_settle
api POST /api/v1/auth/login "{\"username\":\"olivia\",\"password\":\"olivia-pass-1\",\"totp\":\"$(totp "$SECRET" 3)\"}"
expect 401 invalid_totp
# Each time step is accepted once and only moving forward (RFC 6238 §5.2): the code that
# confirmed enrolment, a replayed code and an older one are refused; the next step (one step of
# clock skew) is accepted. The ±1 window itself is covered by test_totp.
login_totp() {
	api POST /api/v1/auth/login "{\"username\":\"olivia\",\"password\":\"olivia-pass-1\",\"totp\":\"$1\"}"
}
totp_settle
login_totp "$CONFIRM_CODE"
expect 401 invalid_totp
NEXT_CODE=$(totp "$SECRET" 1)
login olivia olivia-pass-1 "$NEXT_CODE"
login_totp "$NEXT_CODE"
expect 401 invalid_totp
login_totp "$(totp "$SECRET" -1)"
expect 401 invalid_totp
OLIVIA=$TOKEN_OUT
api POST /api/v1/auth/totp/enroll "" "$OLIVIA"
expect 409 conflict
api POST "/api/v1/users/$OLIVIA_ID/reset-totp" "" "$ADMIN"
expect 200
[ "$(jget 'j["totp_enabled"]')" = false ] || fail "reset-totp: $BODY"
login olivia olivia-pass-1
OLIVIA=$TOKEN_OUT

step "API tokens: bearer works, listed without secret, expired/disabled/deleted fail"
api POST "/api/v1/users/$OLIVIA_ID/tokens" '{"validity_days":30,"name":"ci"}' "$OLIVIA"
expect 201
TOK=$(jget 'j["token"]')
TOK_ID=$(jget 'j["id"]')
[[ $TOK == hsmca_at_* ]] || fail "API token has no type prefix: $TOK"
api GET /api/v1/auth/me "" "$TOK"
expect 200
[ "$(jget 'j["username"]')" = olivia ] && [ "$(jget 'j["auth"]')" = api_token ] || fail "token is not olivia's: $BODY"
api GET /api/v1/users "" "$TOK"
expect 403
api GET "/api/v1/users/$OLIVIA_ID/tokens" "" "$OLIVIA"
expect 200
grep -q "${TOK:15}" <<<"$BODY" && fail "token listing shows the secret"
[ "$(jget 'j["items"][0]["id"]')" = "$TOK_ID" ] || fail "token not listed: $BODY"
[ "$(db "SELECT count(*) FROM api_tokens WHERE token_hash LIKE '%${TOK:9:20}%'")" = 0 ] || fail "token stored in clear"
api POST "/api/v1/users/1/tokens" '{"validity_days":1}' "$OLIVIA"
expect 403
# Expired: the same token with its expiry moved into the past.
db "UPDATE api_tokens SET expires_at = expires_at - 31*86400000 WHERE id = $TOK_ID"
api GET /api/v1/auth/me "" "$TOK"
expect 401
db "UPDATE api_tokens SET expires_at = expires_at + 31*86400000 WHERE id = $TOK_ID"
api GET /api/v1/auth/me "" "$TOK"
expect 200
# Disabled user: stops at once, works again when re-enabled.
api PATCH "/api/v1/users/$OLIVIA_ID" '{"enabled":false}' "$ADMIN"
expect 200
api GET /api/v1/auth/me "" "$TOK"
expect 403
api PATCH "/api/v1/users/$OLIVIA_ID" '{"enabled":true}' "$ADMIN"
expect 200
api GET /api/v1/auth/me "" "$TOK"
expect 200
# Disabling ended olivia's sessions (tokens only pause): log in again.
api GET /api/v1/auth/me "" "$OLIVIA"
expect 401
login olivia olivia-pass-1
OLIVIA=$TOKEN_OUT
# Deleted.
api DELETE "/api/v1/users/$OLIVIA_ID/tokens/$TOK_ID" "" "$ADMIN"
expect 204
api GET /api/v1/auth/me "" "$TOK"
expect 401
api DELETE "/api/v1/users/$OLIVIA_ID/tokens/$TOK_ID" "" "$ADMIN"
expect 404 not_found
# The CLI's token works the same way.
CLI_TOK=$("$HSMCA_BIN" token create --state "$S" --username admin --days 1)
api GET /api/v1/users "" "$CLI_TOK"
expect 200

step "teams: create, members, CAs, operator's view"
api POST /api/v1/teams '{"name":"web","description":"web servers"}' "$ADMIN"
expect 201
TEAM=$(jget 'j["id"]')
api PUT "/api/v1/teams/$TEAM/members/$OLIVIA_ID" "" "$ADMIN"
expect 204
api PUT "/api/v1/teams/$TEAM/members/$OLIVIA_ID" "" "$ADMIN"
expect 204
CA_ID=$(db "SELECT id FROM cas ORDER BY id LIMIT 1")
api PUT "/api/v1/teams/$TEAM/cas/$CA_ID" "" "$ADMIN"
expect 204
api PUT "/api/v1/teams/$TEAM/cas/999999" "" "$ADMIN"
expect 404
api PUT "/api/v1/teams/$TEAM/members/999999" "" "$ADMIN"
expect 404
api GET "/api/v1/teams/$TEAM" "" "$ADMIN"
expect 200
[ "$(jget 'j["members"][0]["username"]')" = olivia ] && [ "$(jget 'j["cas"][0]["id"]')" = "$CA_ID" ] || fail "team: $BODY"
api GET /api/v1/auth/me "" "$OLIVIA"
expect 200
[ "$(jget 'j["teams"][0]["name"]')" = web ] || fail "me has no team: $BODY"
api PUT "/api/v1/teams/$TEAM/members/$GEN_ID" "" "$OLIVIA"
expect 403
api POST /api/v1/teams '{"name":"web"}' "$ADMIN"
expect 409
api DELETE "/api/v1/teams/$TEAM/members/$OLIVIA_ID" "" "$ADMIN"
expect 204
api DELETE "/api/v1/teams/$TEAM" "" "$ADMIN"
expect 204
api GET "/api/v1/teams/$TEAM" "" "$ADMIN"
expect 404

step "the last admin cannot be removed; users can be deleted"
api DELETE /api/v1/users/1 "" "$ADMIN"
expect 409
api PATCH /api/v1/users/1 '{"role":"operator"}' "$ADMIN"
expect 409
api DELETE "/api/v1/users/$GEN_ID" "" "$ADMIN"
expect 204
api GET "/api/v1/users/$GEN_ID" "" "$ADMIN"
expect 404

step "logout ends the session"
api POST /api/v1/auth/logout "" "$OLIVIA"
expect 204
api GET /api/v1/auth/me "" "$OLIVIA"
expect 401

step "audit rows for the changes"
for ev in user.created user.login.succeeded user.login.failed user.login_attempts.reset user.totp.enrolled \
	user.totp.reset api_token.created api_token.deleted team.created team.member.added team.ca.granted \
	user.deleted user.updated user.password.changed user.logout.succeeded; do
	[ "$(db "SELECT count(*) FROM audit WHERE event='$ev'")" -ge 1 ] || fail "no audit row for $ev"
done

step "metrics count requests by route and status"
curl -s "$HTTP_URL/metrics" >"$T/metrics"
grep -q 'hsmca_http_requests_total{route="POST /api/v1/auth/login",status="200"}' "$T/metrics" || fail "metrics: $(head -20 "$T/metrics")"
grep -q 'hsmca_token_sign_seconds_bucket{le="+Inf"}' "$T/metrics" || fail "no signing histogram"

step "console cookie: HttpOnly session cookie, CSRF header required for writes"
hdrs=$(curl -s --cacert "$CACERT" -D - -o "$T/login.json" -H 'Content-Type: application/json' \
	--data-binary "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$HTTPS_URL/api/v1/auth/login")
echo "$hdrs" | grep -i '^set-cookie: hsmca_session=hsmca_st_' | grep -i httponly | grep -i secure |
	grep -qi 'samesite=strict' || fail "no HttpOnly/Secure/SameSite=Strict session cookie: $hdrs"
COOKIE=$(echo "$hdrs" | sed -n 's/^[Ss]et-[Cc]ookie: \(hsmca_session=[^;]*\).*/\1/p')
CSRF=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["csrf_token"])' "$T/login.json")
ck() { curl -s --cacert "$CACERT" -o /dev/null -w '%{http_code}' -b "$COOKIE" "$@"; }
[ "$(ck "$HTTPS_URL/api/v1/auth/me")" = 200 ] || fail "cookie GET refused"
[ "$(ck -X POST "$HTTPS_URL/api/v1/auth/logout")" = 403 ] || fail "cookie POST without CSRF header accepted"
[ "$(ck -X POST -H "X-CSRF-Token: wrong" "$HTTPS_URL/api/v1/auth/logout")" = 403 ] || fail "wrong CSRF accepted"
[ "$(ck -X POST -H "X-CSRF-Token: $CSRF" "$HTTPS_URL/api/v1/auth/logout")" = 204 ] || fail "cookie logout refused"
[ "$(ck "$HTTPS_URL/api/v1/auth/me")" = 401 ] || fail "cookie still valid after logout"

step "restart with totp_required: only enrolment is open until TOTP is set up"
serve_stop
HSMCA_TOTP_REQUIRED=1 serve_start "$S"
login admin "$ADMIN_PW"
ADMIN=$TOKEN_OUT
[ "$(jget 'j["totp_enrollment_required"]')" = true ] || fail "enrolment not required: $BODY"
api GET /api/v1/users "" "$ADMIN"
expect 403 forbidden
api POST /api/v1/auth/totp/enroll "" "$ADMIN"
expect 200
ASECRET=$(jget 'j["secret"]')
totp_settle
api POST /api/v1/auth/totp/confirm "{\"code\":\"$(totp "$ASECRET")\"}" "$ADMIN"
expect 200
api GET /api/v1/users "" "$ADMIN"
expect 200
# API tokens are for automation: totp_required does not gate them.
api GET /api/v1/users "" "$CLI_TOK"
expect 200

step "graceful stop; no secret in the log"
serve_stop
grep -q 'event=serve.stopped' "$T/serve.log" || fail "no clean stop in the log"
for secret in "$ADMIN_PW" olivia-pass-1 gen-new-pass-1 "$ADMIN" "$TOK" "$CLI_TOK" "$SECRET" "$ASECRET" "$CSRF" "${COOKIE#*=}"; do
	grep -qF -- "$secret" "$T/serve.log" && fail "a secret is in the log"
done
grep -q 'event=request .*path=/api/v1/users status=200 duration_ms=[0-9]* actor=user:admin' "$T/serve.log" ||
	fail "request log line missing: $(tail -3 "$T/serve.log")"
echo PASS
