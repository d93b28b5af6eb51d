#!/bin/bash
# test_crl_cli.sh: `hsmca revoke` (code shown on stderr, typed on stdin) and `hsmca crl` on a
# fresh state: a wrong code changes nothing; the right one revokes; `openssl crl -verify` accepts
# the CRL and `openssl verify -crl_check` rejects the revoked leaf while accepting the other;
# revoking twice is refused; the CRL number grows.
source "$HSMCA_SRC/tests/integration/lib.sh"
S=$T/state
H() { "$HSMCA_BIN" "$@" --state "$S"; }

usage=$("$HSMCA_BIN" help 2>&1 || true)
grep -q ' revoke ' <<<"$usage" || fail "hsmca has no 'revoke' command (main.c must dispatch cli_revoke/cli_crl)"

step "state, CAs and two leaves"
mkdir -p "$S"
"$HSMCA_BIN" init --state "$S" >/dev/null
H ca create-root --name "CLI Root" --key ec-256 >/dev/null
H ca create-intermediate --parent cli-root --name "CLI Inter" --key rsa-2048 >/dev/null
H ca show cli-root --pem >"$T/root.pem"
H ca show cli-inter --pem >"$T/inter.pem"
cat "$T/inter.pem" "$T/root.pem" >"$T/chain.pem"
for n in good bad; do
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$n.key" \
		-subj "/CN=$n.example" -out "$T/$n.csr" 2>/dev/null
	H issue --ca cli-inter --csr "$T/$n.csr" >"$T/$n.pem"
done
serial=$(openssl x509 -in "$T/bad.pem" -noout -serial | cut -d= -f2)

step "wrong code: refused, nothing changes"
before=$(row_counts "$S")
rc=0
echo 000000x | H revoke --serial "$serial" --reason keyCompromise >/dev/null 2>"$T/err" || rc=$?
[ $rc -eq 1 ] || fail "wrong code: exit $rc"
grep -q "wrong revocation code" "$T/err" || fail "wrong code: $(cat "$T/err")"
[ "$(sqlite3 "$S/hsmca.db" "SELECT count(*) FROM certificates WHERE revoked_at IS NOT NULL")" = 0 ] ||
	fail "a wrong code revoked something"

step "right code: revoked, CRL published"
coproc REV { H revoke --serial "$serial" --reason keyCompromise 2>&1; }
pid=$REV_PID
# Duplicate the pipes: bash drops REV and REV_PID as soon as the coprocess exits.
exec {rin}<&"${REV[0]}" {rout}>&"${REV[1]}"
code=""
while IFS= read -r -t 30 line <&"$rin"; do
	case $line in "Confirmation code: "*) code=${line#Confirmation code: }; code=${code%% *}; break ;; esac
done
[[ $code =~ ^[0-9]{6}$ ]] || fail "no six-digit code shown"
echo "$code" >&"$rout"
exec {rout}>&-
out=$(cat <&"$rin")
exec {rin}<&-
wait "$pid" || fail "revoke failed: $out"
grep -q "revoked $serial (keyCompromise)" <<<"$out" || fail "revoke output: $out"
grep -q "/crl/cli-inter.crl" <<<"$out" || fail "revoke does not say where the CRL is: $out"

step "hsmca crl --out, openssl crl -verify, openssl verify -crl_check"
H crl --ca cli-inter --out "$T/inter.crl" | tee "$T/crl.out"
n1=$(openssl crl -inform DER -in "$T/inter.crl" -noout -crlnumber | cut -d= -f2)
openssl crl -inform DER -in "$T/inter.crl" -noout -verify -CAfile "$T/chain.pem" 2>&1 | grep -q "verify OK" ||
	fail "openssl crl -verify refused the CRL"
openssl crl -inform DER -in "$T/inter.crl" -out "$T/inter.crl.pem"
openssl crl -in "$T/inter.crl.pem" -noout -text | grep -q "Key Compromise" || fail "reason missing"
if openssl verify -crl_check -CAfile "$T/chain.pem" -CRLfile "$T/inter.crl.pem" "$T/bad.pem" >"$T/v" 2>&1; then
	fail "openssl verify -crl_check accepted the revoked leaf"
fi
grep -q "certificate revoked" "$T/v" || fail "unexpected verify output: $(cat "$T/v")"
openssl verify -crl_check -CAfile "$T/chain.pem" -CRLfile "$T/inter.crl.pem" "$T/good.pem" >/dev/null ||
	fail "openssl verify -crl_check refused the good leaf"

step "permanent: second revocation refused; CRL number grows"
expect_fail_unchanged "$S" "already revoked" H revoke --serial "$serial"
H crl --ca cli-inter --out "$T/inter2.crl" >/dev/null
n2=$(openssl crl -inform DER -in "$T/inter2.crl" -noout -crlnumber | cut -d= -f2)
# openssl prints crlNumber=0x03: a C-style hex literal for shell arithmetic
[[ $n1 =~ ^0x[0-9A-Fa-f]+$ && $n2 =~ ^0x[0-9A-Fa-f]+$ ]] || fail "unreadable CRL numbers: $n1 $n2"
(( n2 > n1 )) || fail "CRL number did not grow: $n1 -> $n2"
expect_fail_unchanged "$S" "unknown CA|no-such" H crl --ca no-such
echo "ok"
