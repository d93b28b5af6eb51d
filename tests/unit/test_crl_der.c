/*
 * test_crl_der.c: the streaming CRL encoder against OpenSSL's own parser and verifier.
 * A software CA (P-256 and RSA-2048) signs the TBS bytes crl_der produced; OpenSSL must parse the
 * result, re-encode it byte for byte (so it is DER, not just BER), verify the signature, read back
 * every field, and X509_verify_cert with X509_V_FLAG_CRL_CHECK must reject a revoked leaf.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crl_der.h"
#include "err.h"

struct swca {
	EVP_PKEY *key;
	X509 *cert;
	uint8_t *name;      /* issuer Name DER */
	int name_len;
	uint8_t *algid;     /* AlgorithmIdentifier DER */
	int algid_len;
};

static X509 *
make_cert(EVP_PKEY *key, EVP_PKEY *issuer_key, X509 *issuer, const char *cn, long serial, int ca)
{
	X509 *c = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	assert_non_null(c);
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), serial);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(c, n);
	X509_set_issuer_name(c, issuer != NULL ? X509_get_subject_name(issuer) : n);
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), 86400);
	X509_set_pubkey(c, key);
	X509V3_set_ctx(&v3, issuer != NULL ? issuer : c, c, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_key_identifier, "hash");
	X509_add_ext(c, ext, -1);
	X509_EXTENSION_free(ext);
	if (ca) {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
		X509_add_ext(c, ext, -1);
		X509_EXTENSION_free(ext);
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_key_usage, "critical,keyCertSign,cRLSign");
		X509_add_ext(c, ext, -1);
		X509_EXTENSION_free(ext);
	} else {
		ext = X509V3_EXT_conf_nid(NULL, &v3, NID_authority_key_identifier, "keyid");
		X509_add_ext(c, ext, -1);
		X509_EXTENSION_free(ext);
	}
	assert_true(X509_sign(c, issuer_key, EVP_sha256()) > 0);
	X509_NAME_free(n);
	return c;
}

static void
swca_make(struct swca *ca, int rsa)
{
	X509_ALGOR *alg;

	memset(ca, 0, sizeof(*ca));
	ca->key = rsa ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	assert_non_null(ca->key);
	ca->cert = make_cert(ca->key, ca->key, NULL, "Test CRL CA", 1, 1);
	ca->name_len = i2d_X509_NAME(X509_get_subject_name(ca->cert), &ca->name);
	assert_true(ca->name_len > 0);
	alg = X509_ALGOR_new();
	X509_ALGOR_set0(alg, OBJ_nid2obj(rsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256),
	    rsa ? V_ASN1_NULL : V_ASN1_UNDEF, NULL);
	ca->algid_len = i2d_X509_ALGOR(alg, &ca->algid);
	assert_true(ca->algid_len > 0);
	X509_ALGOR_free(alg);
}

static void
swca_free(struct swca *ca)
{
	EVP_PKEY_free(ca->key);
	X509_free(ca->cert);
	OPENSSL_free(ca->name);
	OPENSSL_free(ca->algid);
}

static void
params_of(const struct swca *ca, struct crl_der_params *p, int64_t now, uint64_t number)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca->cert);

	assert_non_null(ski);
	memset(p, 0, sizeof(*p));
	p->sigalg = ca->algid;
	p->sigalg_len = (size_t)ca->algid_len;
	p->issuer = ca->name;
	p->issuer_len = (size_t)ca->name_len;
	p->this_update = now;
	p->next_update = now + 7 * 86400;
	p->aki_keyid = ASN1_STRING_get0_data(ski);
	p->aki_keyid_len = (size_t)ASN1_STRING_length(ski);
	p->crl_number = number;
}

/* Signs the TBS with the software key and returns the CertificateList. */
static void
sign_finish(struct swca *ca, struct crl_der *w, struct buf *der)
{
	const uint8_t *tbs;
	size_t tbs_len, sig_len = 0;
	uint8_t *sig;
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	assert_int_equal(crl_der_tbs(w, &tbs, &tbs_len), 0);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ca->key), 1);
	assert_int_equal(EVP_DigestSign(md, NULL, &sig_len, tbs, tbs_len), 1);
	sig = malloc(sig_len);
	assert_int_equal(EVP_DigestSign(md, sig, &sig_len, tbs, tbs_len), 1);
	assert_int_equal(crl_der_finish(w, sig, sig_len, der), 0);
	free(sig);
	EVP_MD_CTX_free(md);
}

/* Parses with OpenSSL, checks DER round trip and signature. Caller frees. */
static X509_CRL *
parse_check(const struct swca *ca, const struct buf *der)
{
	const unsigned char *p = der->data;
	unsigned char *re = NULL;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)der->len);
	int relen;

	assert_non_null(crl);
	assert_ptr_equal(p, der->data + der->len);
	/* d2i keeps the original encoding for signature checks; re-encoding from fields proves DER */
	relen = i2d_re_X509_CRL_tbs(crl, NULL);
	assert_true(relen > 0);
	relen = i2d_X509_CRL(crl, &re);
	assert_int_equal((size_t)relen, der->len);
	assert_memory_equal(re, der->data, der->len);
	OPENSSL_free(re);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(ca->cert)), 1);
	assert_int_equal(X509_CRL_get_version(crl), X509_CRL_VERSION_2);
	assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(ca->cert)), 0);
	return crl;
}

static int
reason_of(X509_REVOKED *r)
{
	ASN1_ENUMERATED *e = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
	int v;

	if (e == NULL)
		return -1;
	v = (int)ASN1_ENUMERATED_get(e);
	ASN1_ENUMERATED_free(e);
	return v;
}

static void
check_exts(X509_CRL *crl, const struct swca *ca, long number)
{
	ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
	AUTHORITY_KEYID *akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);

	assert_non_null(num);
	assert_int_equal(ASN1_INTEGER_get(num), number);
	assert_non_null(akid);
	assert_non_null(akid->keyid);
	assert_int_equal(ASN1_OCTET_STRING_cmp(akid->keyid, X509_get0_subject_key_id(ca->cert)), 0);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(akid);
}

static void
test_empty_crl(void **state)
{
	struct swca ca;
	struct crl_der_params p;
	struct crl_der *w = NULL;
	struct buf der = { 0 };
	X509_CRL *crl;
	int64_t now = 1700000000;
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		swca_make(&ca, i);
		params_of(&ca, &p, now, 1);
		assert_int_equal(crl_der_begin(&p, 0, &w), 0);
		sign_finish(&ca, w, &der);
		crl = parse_check(&ca, &der);
		assert_null(X509_CRL_get_REVOKED(crl));
		check_exts(crl, &ca, 1);
		assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), (time_t)now), 0);
		assert_int_equal(ASN1_TIME_cmp_time_t(X509_CRL_get0_nextUpdate(crl), (time_t)now + 7 * 86400), 0);
		X509_CRL_free(crl);
		buf_free(&der);
		crl_der_free(w);
		swca_free(&ca);
	}
}

static void
test_entries(void **state)
{
	static const char *serials[] = { "01", "7F", "80", "00FF", "0123456789ABCDEF0123456789ABCDEF",
	    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "abc" };
	static const int reasons[] = { 0, 1, 2, 3, 4, 5, 9 };
	static const char *expect_hex[] = { "01", "7F", "80", "FF", "0123456789ABCDEF0123456789ABCDEF",
	    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "0ABC" };
	struct swca ca;
	struct crl_der_params p;
	struct crl_der *w = NULL;
	struct buf der = { 0 };
	X509_CRL *crl;
	STACK_OF(X509_REVOKED) *revs;
	int64_t now = 1700000000;
	size_t i, n = sizeof(serials) / sizeof(serials[0]);

	(void)state;
	swca_make(&ca, 0);
	params_of(&ca, &p, now, 4242);
	assert_int_equal(crl_der_begin(&p, crl_der_reserve_hint(n, 20, n), &w), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(crl_der_add_hex(w, serials[i], now - (int64_t)i * 3600, reasons[i]), 0);
	/* 2050 and later must be GeneralizedTime (RFC 5280 4.1.2.5). */
	assert_int_equal(crl_der_add_hex(w, "42", 2556144000LL, 1), 0);
	assert_int_equal(crl_der_count(w), n + 1);
	sign_finish(&ca, w, &der);
	crl = parse_check(&ca, &der);
	check_exts(crl, &ca, 4242);
	revs = X509_CRL_get_REVOKED(crl);
	assert_int_equal(sk_X509_REVOKED_num(revs), (int)n + 1);
	for (i = 0; i < n; i++) {
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, (int)i);
		BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), NULL);
		char *hex = BN_bn2hex(bn);
		BIGNUM *want = NULL;

		BN_hex2bn(&want, expect_hex[i]);
		assert_int_equal(BN_cmp(bn, want), 0);
		assert_false(BN_is_negative(bn));
		assert_int_equal(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(r),
		    (time_t)(now - (int64_t)i * 3600)), 0);
		assert_int_equal(reason_of(r), reasons[i] == 0 ? -1 : reasons[i]);
		OPENSSL_free(hex);
		BN_free(bn);
		BN_free(want);
	}
	{
		X509_REVOKED *r = sk_X509_REVOKED_value(revs, (int)n);

		assert_int_equal(ASN1_STRING_type(X509_REVOKED_get0_revocationDate(r)), V_ASN1_GENERALIZEDTIME);
		assert_int_equal(ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(r), (time_t)2556144000LL), 0);
	}
	X509_CRL_free(crl);
	buf_free(&der);
	crl_der_free(w);
	swca_free(&ca);
}

/* Many entries with no hint: the growth path, and lengths with 3-byte headers. */
static void
test_growth_many(void **state)
{
	struct swca ca;
	struct crl_der_params p;
	struct crl_der *w = NULL;
	struct buf der = { 0 };
	X509_CRL *crl;
	char hex[40];
	int64_t now = 1700000000;
	int i, n = 20000;

	(void)state;
	swca_make(&ca, 1);
	params_of(&ca, &p, now, 7);
	assert_int_equal(crl_der_begin(&p, 0, &w), 0);
	for (i = 0; i < n; i++) {
		snprintf(hex, sizeof(hex), "%08X%08X", (unsigned)i * 2654435761u, (unsigned)i + 1);
		assert_int_equal(crl_der_add_hex(w, hex, now - i, i % 6), 0);
	}
	sign_finish(&ca, w, &der);
	crl = parse_check(&ca, &der);
	assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), n);
	X509_CRL_free(crl);
	buf_free(&der);
	crl_der_free(w);
	swca_free(&ca);
}

/* X509_verify_cert with CRL checking rejects the revoked leaf and accepts the other one. */
static void
test_crl_check_rejects_revoked(void **state)
{
	struct swca ca;
	struct crl_der_params p;
	struct crl_der *w = NULL;
	struct buf der = { 0 };
	X509_CRL *crl;
	EVP_PKEY *lk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *revoked, *good;
	char hex[64];
	int64_t now = (int64_t)time(NULL);
	int i;

	(void)state;
	swca_make(&ca, 0);
	revoked = make_cert(lk, ca.key, ca.cert, "revoked.example", 0x1234567, 0);
	good = make_cert(lk, ca.key, ca.cert, "good.example", 0x7654321, 0);
	params_of(&ca, &p, now - 60, 3);
	assert_int_equal(crl_der_begin(&p, 0, &w), 0);
	assert_int_equal(crl_der_add_hex(w, "99", now - 100, 0), 0);
	snprintf(hex, sizeof(hex), "%X", 0x1234567);
	assert_int_equal(crl_der_add_hex(w, hex, now - 30, CRL_REASON_KEY_COMPROMISE), 0);
	sign_finish(&ca, w, &der);
	crl = parse_check(&ca, &der);
	for (i = 0; i < 2; i++) {
		X509_STORE *store = X509_STORE_new();
		X509_STORE_CTX *sc = X509_STORE_CTX_new();

		X509_STORE_add_cert(store, ca.cert);
		X509_STORE_add_crl(store, crl);
		X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
		assert_int_equal(X509_STORE_CTX_init(sc, store, i == 0 ? revoked : good, NULL), 1);
		if (i == 0) {
			assert_int_equal(X509_verify_cert(sc), 0);
			assert_int_equal(X509_STORE_CTX_get_error(sc), X509_V_ERR_CERT_REVOKED);
		} else {
			assert_int_equal(X509_verify_cert(sc), 1);
		}
		X509_STORE_CTX_free(sc);
		X509_STORE_free(store);
	}
	X509_CRL_free(crl);
	X509_free(revoked);
	X509_free(good);
	EVP_PKEY_free(lk);
	buf_free(&der);
	crl_der_free(w);
	swca_free(&ca);
}

static void
test_bad_input(void **state)
{
	struct swca ca;
	struct crl_der_params p, q;
	struct crl_der *w = NULL;
	uint8_t s21[21], zero[3] = { 0, 0, 0 }, out[21];
	const uint8_t *tbs;
	size_t tl, len;
	struct buf der = { 0 };

	(void)state;
	swca_make(&ca, 0);
	params_of(&ca, &p, 1700000000, 1);
	q = p;
	q.sigalg_len--;
	assert_int_equal(crl_der_begin(&q, 0, &w), HSMCA_E_INVALID);
	q = p;
	q.issuer = ca.algid;
	q.issuer_len = (size_t)ca.algid_len + 1;
	assert_int_equal(crl_der_begin(&q, 0, &w), HSMCA_E_INVALID);
	q = p;
	q.next_update = q.this_update;
	assert_int_equal(crl_der_begin(&q, 0, &w), HSMCA_E_INVALID);
	q = p;
	q.aki_keyid_len = 0;
	assert_int_equal(crl_der_begin(&q, 0, &w), HSMCA_E_INVALID);
	q = p;
	q.this_update = -700000000;   /* 1947 */
	assert_int_equal(crl_der_begin(&q, 0, &w), HSMCA_E_INVALID);
	assert_null(w);

	assert_int_equal(crl_der_begin(&p, 0, &w), 0);
	memset(s21, 0x11, sizeof(s21));
	assert_int_equal(crl_der_add(w, s21, 21, 1700000000, 0), HSMCA_E_INVALID);
	assert_int_equal(crl_der_add(w, s21, 20, 1700000000, 0), 0);
	assert_int_equal(crl_der_add(w, zero, 3, 1700000000, 0), HSMCA_E_INVALID);
	assert_int_equal(crl_der_add(w, s21, 1, 1700000000, 7), HSMCA_E_INVALID);
	assert_int_equal(crl_der_add(w, s21, 1, 1700000000, 11), HSMCA_E_INVALID);
	assert_int_equal(crl_der_add(w, s21, 1, 1700000000, -1), HSMCA_E_INVALID);
	assert_int_equal(crl_der_add_hex(w, "12G4", 1700000000, 0), HSMCA_E_INVALID);
	assert_int_equal(crl_der_add_hex(w, "", 1700000000, 0), HSMCA_E_INVALID);
	assert_int_equal(crl_der_add_hex(w, "000000000000000000000000000000000000000000001", 1700000000, 0), 0);
	assert_int_equal(crl_der_count(w), 2);
	assert_int_equal(crl_der_finish(w, zero, 1, &der), HSMCA_E_INTERNAL);
	assert_int_equal(crl_der_tbs(w, &tbs, &tl), 0);
	assert_int_equal(crl_der_tbs(w, &tbs, &tl), HSMCA_E_INTERNAL);
	assert_int_equal(crl_der_add(w, s21, 1, 1700000000, 0), HSMCA_E_INTERNAL);
	crl_der_free(w);

	assert_int_equal(crl_der_serial_from_hex("0001FF", out, &len), 0);
	assert_int_equal(len, 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(crl_der_serial_from_hex("123456789012345678901234567890123456789012", out, &len),
	    HSMCA_E_INVALID);
	assert_int_equal(crl_der_reserve_hint(UINT64_MAX / 2, 16, 0), CRL_DER_MAX_BYTES);
	assert_int_equal(crl_der_reserve_hint(10, 16, 10), 10 * (2 + 2 + 17 + 17) + 140);
	swca_free(&ca);
}

static void
test_hdr_and_time(void **state)
{
	uint8_t h[CRL_DER_HDR_MAX], t[17];
	size_t len;

	(void)state;
	assert_int_equal(crl_der_hdr(h, 0x30, 0x7f), 2);
	assert_int_equal(crl_der_hdr(h, 0x30, 0x80), 3);
	assert_int_equal(h[1], 0x81);
	assert_int_equal(crl_der_hdr(h, 0x30, 0x10000), 5);
	assert_int_equal(h[1], 0x83);
	assert_int_equal(crl_der_hdr(h, 0x30, 0x12345678), 6);
	assert_memory_equal(h + 1, "\x84\x12\x34\x56\x78", 5);
	assert_int_equal(crl_der_time(0, t, &len), 0);
	assert_int_equal(len, 15);
	assert_memory_equal(t, "\x17\x0d" "700101000000Z", 15);
	assert_int_equal(crl_der_time(2524607999LL, t, &len), 0);   /* 2049-12-31T23:59:59Z */
	assert_memory_equal(t, "\x17\x0d" "491231235959Z", 15);
	assert_int_equal(crl_der_time(2524608000LL, t, &len), 0);   /* 2050-01-01 */
	assert_int_equal(len, 17);
	assert_memory_equal(t, "\x18\x0f" "20500101000000Z", 17);
	assert_int_equal(crl_der_gentime(1700000000, t, &len), 0);
	assert_memory_equal(t, "\x18\x0f" "20231114221320Z", 17);
	assert_int_equal(crl_der_time(253402300800LL, t, &len), HSMCA_E_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_and_time),
		cmocka_unit_test(test_empty_crl),
		cmocka_unit_test(test_entries),
		cmocka_unit_test(test_growth_many),
		cmocka_unit_test(test_crl_check_rejects_revoked),
		cmocka_unit_test(test_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
