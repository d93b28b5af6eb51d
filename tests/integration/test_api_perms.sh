#!/bin/bash
# Issue #3, the permission matrix of the CA resources against the real daemon, as a table:
# role x team membership x CA x action -> expected HTTP status, every cell tested, and every
# refused cell (403) leaves every table's row count unchanged. Lists are also checked for what
# they show: an operator sees only the CAs (and their certificates and orders) of their teams.
#
# Actors: admin; op_a (operator, team "ta" granted CA perm-a); op_b (operator, team "tb" granted
# perm-b); op_none (operator in no team); aud (auditor).
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

step "set-up: two CAs, two teams, four more users, one certificate per CA"
api POST /api/v1/cas '{"name":"Perm A","key":"ec-256"}' "$ADMIN"; expect 201; CA_A=$(jget 'j["id"]')
api POST /api/v1/cas '{"name":"Perm B","key":"ec-256"}' "$ADMIN"; expect 201; CA_B=$(jget 'j["id"]')
declare -A TOK UID_OF
TOK[admin]=$ADMIN
for u in op_a:operator op_b:operator op_none:operator aud:auditor; do
	api POST /api/v1/users "{\"username\":\"${u%%:*}\",\"role\":\"${u##*:}\",\"password\":\"${u%%:*}-pass-1\"}" "$ADMIN"
	expect 201
	UID_OF[${u%%:*}]=$(jget 'j["id"]')
	login "${u%%:*}" "${u%%:*}-pass-1"
	TOK[${u%%:*}]=$TOKEN_OUT
done
for t in ta:op_a:$CA_A tb:op_b:$CA_B; do
	IFS=: read -r team user ca <<<"$t"
	api POST /api/v1/teams "{\"name\":\"$team\"}" "$ADMIN"; expect 201; tid=$(jget 'j["id"]')
	api PUT "/api/v1/teams/$tid/members/${UID_OF[$user]}" "" "$ADMIN"; expect 204
	api PUT "/api/v1/teams/$tid/cas/$ca" "" "$ADMIN"; expect 204
done
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null -out "$T/p.csr" \
	-subj "/CN=perm.example.test" 2>/dev/null
CSR=$(python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1]).read()))' "$T/p.csr")
declare -A CERT ORDER SLUG
SLUG[A]=perm-a; SLUG[B]=perm-b
for c in A B; do
	api POST /api/v1/certificates "{\"ca\":\"${SLUG[$c]}\",\"csr\":$CSR}" "$ADMIN"; expect 201
	CERT[$c]=$(jget 'j["id"]'); ORDER[$c]=$(jget 'j["order_id"]')
done
declare -A CA_ID=([A]=$CA_A [B]=$CA_B [-]=0)
SLUG[-]=none; CERT[-]=0; ORDER[-]=0
KEYREF=$(db "SELECT keyref FROM cas WHERE id=$CA_A")

# act ACTION CA TOKEN: one request; STATUS and BODY are set.
act() {
	local a=$1 c=$2 tok=$3 id=${CA_ID[$2]} slug=${SLUG[$2]}
	case $a in
	ca_list) api GET /api/v1/cas "" "$tok" ;;
	ca_show) api GET "/api/v1/cas/$id" "" "$tok" ;;
	ca_cert) api GET "/api/v1/cas/$id/certificate" "" "$tok" ;;
	ca_chain) api GET "/api/v1/cas/$id/chain" "" "$tok" ;;
	ca_create) api POST /api/v1/cas "{\"name\":\"Made $RANDOM$RANDOM\",\"key\":\"ec-256\"}" "$tok" ;;
	ca_import) api POST /api/v1/cas/import '{"name":"imp","certificate":"x","key":"y"}' "$tok" ;;
	ca_patch) api PATCH "/api/v1/cas/$id" '{"crl_validity_days":5}' "$tok" ;;
	ca_delete) api DELETE "/api/v1/cas/$DELETABLE" "" "$tok" ;;
	ca_key) api GET "/api/v1/cas/$id/private-key" "" "$tok" ;;
	issue_csr) api POST /api/v1/certificates "{\"ca\":\"$slug\",\"csr\":$CSR}" "$tok" ;;
	issue_key) api POST /api/v1/certificates "{\"ca\":\"$slug\",\"key\":\"ec-256\",\"subject\":\"CN=k.example.test\"}" "$tok" ;;
	cert_list) api GET "/api/v1/certificates?ca=$slug" "" "$tok" ;;
	cert_show) api GET "/api/v1/certificates/${CERT[$c]}" "" "$tok" ;;
	cert_pem) api GET "/api/v1/certificates/${CERT[$c]}/pem" "" "$tok" ;;
	order_list) api GET "/api/v1/orders?ca=$slug" "" "$tok" ;;
	order_show) api GET "/api/v1/orders/${ORDER[$c]}" "" "$tok" ;;
	key_list) api GET /api/v1/keys "" "$tok" ;;
	key_gen) api POST /api/v1/keys "{\"key\":\"ec-256\",\"label\":\"k$RANDOM\"}" "$tok" ;;
	csr_make) api POST /api/v1/csr "{\"keyref\":\"$KEYREF\",\"subject\":\"CN=x\"}" "$tok" ;;
	audit_list) api GET /api/v1/audit "" "$tok" ;;
	*) fail "unknown action $a" ;;
	esac
}

# The matrix. Columns: action, CA, then the expected status for admin, op_a (team ta -> A),
# op_b (team tb -> B), op_none (no team), aud (auditor). "-" in the CA column: not CA-bound.
# ca_delete runs admin last (the admin cell deletes a throwaway CA made for it).
MATRIX="
ca_list     -  200 200 200 200 200
ca_show     A  200 200 403 403 200
ca_show     B  200 403 200 403 200
ca_cert     A  200 200 403 403 200
ca_chain    B  200 403 200 403 200
ca_create   -  201 403 403 403 403
ca_import   -  400 403 403 403 403
ca_patch    A  200 403 403 403 403
ca_patch    B  200 403 403 403 403
ca_key      A  409 403 403 403 403
issue_csr   A  201 201 403 403 403
issue_csr   B  201 403 201 403 403
issue_key   A  201 201 403 403 403
issue_key   B  201 403 201 403 403
cert_list   A  200 200 403 403 200
cert_list   B  200 403 200 403 200
cert_show   A  200 200 403 403 200
cert_show   B  200 403 200 403 200
cert_pem    A  200 200 403 403 200
cert_pem    B  200 403 200 403 200
order_list  A  200 200 403 403 200
order_show  A  200 200 403 403 200
order_show  B  200 403 200 403 200
key_list    -  200 403 403 403 200
key_gen     -  201 403 403 403 403
csr_make    -  200 403 403 403 403
audit_list  -  200 403 403 403 200
ca_delete   -  200 403 403 403 403
"
ACTORS=(admin op_a op_b op_none aud)
api POST /api/v1/cas '{"name":"Perm Deletable","key":"ec-256"}' "$ADMIN"; expect 201
DELETABLE=$(jget 'j["id"]')

step "the matrix"
cells=0
while read -r action ca s_admin s_op_a s_op_b s_op_none s_aud; do
	[ -n "$action" ] || continue
	want=("$s_admin" "$s_op_a" "$s_op_b" "$s_op_none" "$s_aud")
	order=(1 2 3 4 0)   # admin last, so its writes (a delete) do not change the others' cells
	for k in "${order[@]}"; do
		who=${ACTORS[$k]}
		before=$(req_counts)
		act "$action" "$ca" "${TOK[$who]}"
		[ "$STATUS" = "${want[$k]}" ] || fail "$action on CA $ca as $who: expected ${want[$k]}, got $STATUS: $BODY"
		expect "$STATUS"
		if [ "$STATUS" = 403 ]; then
			[ "$(jget 'j["error"]["code"]')" = forbidden ] || fail "$action/$ca/$who: 403 code: $BODY"
			[ "$(req_counts)" = "$before" ] || fail "$action on CA $ca as $who: refused but rows changed"
		fi
		cells=$((cells + 1))
	done
done <<<"$MATRIX"
echo "$cells cells checked"

step "what the lists show"
# visible ACTOR PATH PYEXPR WANT
visible() {
	api GET "$2" "" "${TOK[$1]}"
	expect 200
	[ "$(jget "$3")" = "$4" ] || fail "$1 $2: expected $4: $BODY"
}
SLUGS='sorted(c["slug"] for c in j["items"] if c["slug"].startswith("perm-"))'
visible admin /api/v1/cas "$SLUGS" '["perm-a", "perm-b"]'
visible aud /api/v1/cas "$SLUGS" '["perm-a", "perm-b"]'
visible op_a /api/v1/cas "$SLUGS" '["perm-a"]'
visible op_b /api/v1/cas "$SLUGS" '["perm-b"]'
visible op_a /api/v1/cas 'len(j["items"])' 1
visible op_none /api/v1/cas 'len(j["items"])' 0
CAS='sorted(set(c["ca"] for c in j["items"]))'
visible op_a '/api/v1/certificates?limit=500' "$CAS" '["perm-a"]'
visible op_b '/api/v1/certificates?limit=500' "$CAS" '["perm-b"]'
visible op_none /api/v1/certificates 'len(j["items"])' 0
visible aud '/api/v1/certificates?limit=500' '"perm-a" in '"$CAS"' and "perm-b" in '"$CAS"'' true
visible op_a '/api/v1/orders?limit=500' "$CAS" '["perm-a"]'
visible op_none /api/v1/orders 'len(j["items"])' 0
visible op_a '/api/v1/certificates?q=perm.example.test' 'len(j["items"])' 3

step "a team losing its CA loses access at once"
TA=$(db "SELECT id FROM teams WHERE name='ta'")
api DELETE "/api/v1/teams/$TA/cas/$CA_A" "" "$ADMIN"; expect 204
act issue_csr A "${TOK[op_a]}"; expect 403 forbidden
act cert_show A "${TOK[op_a]}"; expect 403
visible op_a /api/v1/cas 'len(j["items"])' 0
echo PASS
