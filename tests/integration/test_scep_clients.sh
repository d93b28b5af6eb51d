#!/bin/bash
# Issue #6 "Real clients": sceppeer (micromdm's SCEP library) and certmonger (its daemon builds every
# message) enroll against an RSA-2048 root CA, an RSA-2048 intermediate CA and an EC P-384 CA (RSA
# RA) of the real daemon: a good challenge gives a certificate `openssl verify` accepts with the
# chain; a bad challenge is refused with nothing issued; renewal (sceppeer renew) works; each
# envelope cipher (des, aes128, aes256) works; every exchange is logged and every enrollment is an
# order of type scep.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/api_lib.sh"
S=$T/state
"$HSMCA_SHARED/peers/setup.sh" >/dev/null
PEERS=${PEERS_BIN:-/tmp/hsmca-peers/bin}
ENROLL=$HSMCA_SHARED/peers/enroll.sh

step "init, three CAs, serve"
hsmca_init "$S"
"$HSMCA_BIN" ca create-root --state "$S" --name "SCEP RSA Root" --key rsa-2048 >/dev/null
"$HSMCA_BIN" ca create-intermediate --state "$S" --parent scep-rsa-root --name "SCEP RSA Sub" --key rsa-2048 >/dev/null
"$HSMCA_BIN" ca create-root --state "$S" --name "SCEP EC" --key ec-384 >/dev/null
serve_start "$S"
login admin "$(cat "$S.admin-password")"
ADMIN=$TOKEN_OUT

# secret SLUG NAME: a reusable SCEP authentication entry; prints its secret.
secret() {
	api POST /api/v1/scep-auth "{\"name\":\"$2\",\"ca\":\"$1\",\"one_time\":false}" "$ADMIN"
	expect 201
	jget 'j["secret"]'
}
certs_of() { db "SELECT count(*) FROM certificates WHERE ca_id=(SELECT id FROM cas WHERE slug='$1')"; }

for slug in scep-rsa-root scep-rsa-sub scep-ec; do
	URL=$HTTP_URL/scep/$slug
	O=$T/$slug
	mkdir -p "$O"
	SECRET=$(secret "$slug" "peer-$slug")
	[ ${#SECRET} -ge 20 ] || fail "secret too short: $SECRET"

	step "$slug: GetCACaps and GetCACert (RA first, then the chain up to the root)"
	"$PEERS/sceppeer" caps -url "$URL" >"$O/caps"
	grep -qx "SCEPStandard" "$O/caps" && grep -qx "AES" "$O/caps" && grep -qx "Renewal" "$O/caps" || fail "caps: $(cat "$O/caps")"
	"$PEERS/sceppeer" getca -url "$URL" -out "$O/getca.pem"
	n=$(grep -c "BEGIN CERTIFICATE" "$O/getca.pem")
	want=2; [ $slug = scep-rsa-sub ] && want=3
	[ "$n" = "$want" ] || fail "$slug GetCACert has $n certificates, want $want"
	openssl x509 -in "$O/getca.pem" -noout -subject | grep -q "SCEP RA" || fail "RA certificate is not first"
	openssl x509 -in "$O/getca.pem" -noout -text | grep -A1 "Key Usage" | grep -q "Digital Signature, Key Encipherment" || fail "RA key usage"
	openssl x509 -in "$O/getca.pem" -noout -text | grep -q "Extended Key Usage" && fail "RA certificate has an EKU"
	# The chain: everything but the RA; the root is the last one.
	awk '/BEGIN CERT/{n++} n>1' "$O/getca.pem" >"$O/chain.pem"
	awk '/BEGIN CERT/{n++} n=='"$want"'' "$O/getca.pem" >"$O/root.pem"

	step "$slug: sceppeer enrollment with a good challenge"
	before=$(certs_of $slug)
	"$ENROLL" sceppeer "$URL" "$SECRET" "peer-$slug" "$O/good" >/dev/null || fail "$slug: sceppeer enrollment failed"
	openssl verify -CAfile "$O/root.pem" -untrusted "$O/chain.pem" "$O/good/cert.pem" || fail "$slug: verify"
	[ "$(certs_of $slug)" = $((before + 1)) ] || fail "$slug: not one new certificate"

	step "$slug: bad challenge refused, nothing issued"
	before=$(certs_of $slug)
	out=$("$ENROLL" sceppeer "$URL" "wrong-$SECRET" "bad-$slug" "$O/bad" 2>&1) && fail "$slug: bad challenge accepted"
	grep -q "FAILURE failInfo=badRequest" <<<"$out" || fail "$slug: bad challenge answer: $out"
	[ "$(certs_of $slug)" = "$before" ] || fail "$slug: a certificate was issued for a bad challenge"

	step "$slug: renewal (RenewalReq signed with the old certificate, no challenge)"
	"$PEERS/sceppeer" renew -url "$URL" -cn "peer-$slug" -cert "$O/good/cert.pem" -key "$O/good/key.pem" \
		-out "$O/renewed.pem" || fail "$slug: renewal failed"
	openssl verify -CAfile "$O/root.pem" -untrusted "$O/chain.pem" "$O/renewed.pem" >/dev/null || fail "$slug: renewed verify"
	[ "$(openssl x509 -in "$O/renewed.pem" -noout -serial)" != "$(openssl x509 -in "$O/good/cert.pem" -noout -serial)" ] || fail "renewal gave the old certificate"

	step "$slug: renewal with a certificate of another subject is refused"
	out=$("$PEERS/sceppeer" renew -url "$URL" -cn "someone-else" -cert "$O/good/cert.pem" -key "$O/good/key.pem" 2>&1) && fail "$slug: renewal for another subject accepted"
	grep -q "badRequest" <<<"$out" || fail "$slug: $out"

	for c in des aes128 aes256; do
		step "$slug: envelope cipher $c"
		"$PEERS/sceppeer" enroll -url "$URL" -cn "cipher-$c" -challenge "$SECRET" -cipher $c -out "$O/$c.pem" || fail "$slug: $c"
		openssl verify -CAfile "$O/root.pem" -untrusted "$O/chain.pem" "$O/$c.pem" >/dev/null || fail "$slug: $c verify"
	done

	step "$slug: certmonger enrollment (GET PKIOperation, verifies the RA-signed CertRep)"
	"$ENROLL" certmonger "$URL" "$SECRET" "cm-$slug" "$O/cm" >/dev/null || {
		tail -20 "$O/cm/certmonger.log" >&2; fail "$slug: certmonger enrollment failed"; }
	openssl verify -CAfile "$O/root.pem" -untrusted "$O/chain.pem" "$O/cm/cert.pem" || fail "$slug: certmonger verify"
done

step "certmonger with a bad challenge is refused"
out=$(timeout 150 "$ENROLL" certmonger "$HTTP_URL/scep/scep-ec" "not-the-secret" cm-bad "$T/cm-bad" 2>&1) && fail "certmonger bad challenge accepted"
[ -s "$T/cm-bad/cert.pem" ] && fail "certmonger got a certificate with a bad challenge"
[ "$(db "SELECT count(*) FROM certificates WHERE common_name='cm-bad'")" = 0 ] || fail "issued for a bad challenge"

step "logs and orders"
[ "$(db "SELECT count(*) FROM orders WHERE type='scep' AND status='complete'")" = 18 ] || fail "scep orders: $(db "SELECT type,status,count(*) FROM orders GROUP BY 1,2")"
[ "$(db "SELECT count(*) FROM scep_logs WHERE message_type='PKCSReq' AND result='failure' AND fail_info='badRequest'")" -ge 4 ] || fail "failures not logged"
[ "$(db "SELECT count(*) FROM scep_logs WHERE message_type='RenewalReq' AND result='success'")" = 3 ] || fail "renewals not logged"
api GET "/api/v1/logs/scep?message_type=PKCSReq&result=success&limit=5" "" "$ADMIN"
expect 200
[ "$(jget 'len(j["items"])')" = 5 ] || fail "log list: $BODY"
LOG_ID=$(jget 'j["items"][0]["id"]')
api GET "/api/v1/logs/scep/$LOG_ID" "" "$ADMIN"
expect 200
[ -n "$(jget 'j["content"]["csr"]["subject"]')" ] && [ -n "$(jget 'j["content"]["signer"]["subject"]')" ] || fail "show content: $BODY"
grep -q "$SECRET" "$T/serve.log" && fail "a SCEP secret is in the log"
echo "ok"
