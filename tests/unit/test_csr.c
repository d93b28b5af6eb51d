/* test_csr.c: csr.c, the PKCS#10 parser and policy, on CSRs made here with OpenSSL, plus
 * deterministic mutations (truncation at every length, every single-bit flip, trailing bytes). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "csr.h"
#include "err.h"

static EVP_PKEY *
keygen(const char *spec)
{
	if (strcmp(spec, "rsa-2048") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (strcmp(spec, "rsa-1024") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	if (strcmp(spec, "ed25519") == 0)
		return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return EVP_PKEY_Q_keygen(NULL, NULL, "EC", spec);
}

/* A DER CSR for key with subject CN=cn (NULL: empty subject), an optional SAN extension in
 * OpenSSL config syntax and an optional challengePassword. */
static unsigned char *
make_csr(EVP_PKEY *key, const char *cn, const char *san, const char *challenge, int *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext;
	unsigned char *der = NULL;

	assert_non_null(req);
	assert_int_equal(X509_REQ_set_version(req, X509_REQ_VERSION_1), 1);
	if (cn != NULL) {
		assert_int_equal(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"Example Org", -1, -1, 0), 1);
		assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0), 1);
	}
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_REQ_set_pubkey(req, key), 1);
	if (san != NULL) {
		exts = sk_X509_EXTENSION_new_null();
		ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san);
		assert_non_null(ext);
		sk_X509_EXTENSION_push(exts, ext);
		assert_int_equal(X509_REQ_add_extensions(req, exts), 1);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	if (challenge != NULL)
		assert_int_equal(X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword, MBSTRING_ASC,
		    (const unsigned char *)challenge, -1), 1);
	assert_true(X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? NULL : EVP_sha256()) > 0);
	*len = i2d_X509_REQ(req, &der);
	assert_true(*len > 0);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return der;
}

static EVP_PKEY *rsa2048, *p256;

static int
group_setup(void **state)
{
	(void)state;
	rsa2048 = keygen("rsa-2048");
	p256 = keygen("P-256");
	return rsa2048 != NULL && p256 != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa2048);
	EVP_PKEY_free(p256);
	return 0;
}

static void
test_good_rsa(void **state)
{
	struct csr *csr = NULL;
	unsigned char *der;
	int len;

	(void)state;
	der = make_csr(rsa2048, "www.example.test", "DNS:www.example.test,DNS:*.api.example.test,IP:192.0.2.7,IP:2001:db8::1", NULL, &len);
	assert_int_equal(csr_parse(der, (size_t)len, &csr), 0);
	assert_string_equal(csr->key_algorithm, "rsa-2048");
	assert_int_equal(csr->key_type, CSR_KEY_RSA);
	assert_string_equal(csr->common_name, "www.example.test");
	assert_string_equal(csr->subject, "CN=www.example.test,O=Example Org");
	assert_int_equal(sk_GENERAL_NAME_num(csr->sans), 4);
	assert_null(csr->challenge);
	csr_free(csr);
	OPENSSL_free(der);
}

static void
test_good_ec(void **state)
{
	struct csr *csr = NULL;
	EVP_PKEY *p384 = keygen("P-384");
	unsigned char *der;
	int len;

	(void)state;
	der = make_csr(p256, "client one", "email:a@example.test", "s3cret", &len);
	assert_int_equal(csr_parse(der, (size_t)len, &csr), 0);
	assert_string_equal(csr->key_algorithm, "ec-256");
	assert_int_equal(csr->key_type, CSR_KEY_EC);
	assert_string_equal(csr->challenge, "s3cret");
	assert_int_equal(sk_GENERAL_NAME_num(csr->sans), 1);
	csr_free(csr);
	OPENSSL_free(der);

	der = make_csr(p384, "x.example.test", NULL, NULL, &len);
	assert_int_equal(csr_parse(der, (size_t)len, &csr), 0);
	assert_string_equal(csr->key_algorithm, "ec-384");
	assert_int_equal(sk_GENERAL_NAME_num(csr->sans), 0);
	csr_free(csr);
	OPENSSL_free(der);
	EVP_PKEY_free(p384);
}

static void
expect_refused(const unsigned char *der, size_t len, int code, const char *words)
{
	struct csr *csr = NULL;
	int rc;

	err_clear();
	rc = csr_parse(der, len, &csr);
	assert_int_equal(rc, code);
	assert_null(csr);
	if (strstr(err_msg(rc), words) == NULL)
		fail_msg("detail '%s' lacks '%s'", err_msg(rc), words);
}

static void
test_weak_and_unsupported_keys(void **state)
{
	EVP_PKEY *k;
	unsigned char *der;
	int len;

	(void)state;
	k = keygen("rsa-1024");
	der = make_csr(k, "weak", NULL, NULL, &len);
	expect_refused(der, (size_t)len, HSMCA_E_POLICY, "RSA key of 1024 bits is too small");
	OPENSSL_free(der);
	EVP_PKEY_free(k);

	k = keygen("P-521");
	der = make_csr(k, "big", NULL, NULL, &len);
	expect_refused(der, (size_t)len, HSMCA_E_POLICY, "secp521r1");
	OPENSSL_free(der);
	EVP_PKEY_free(k);

	k = keygen("secp256k1");
	der = make_csr(k, "koblitz", NULL, NULL, &len);
	expect_refused(der, (size_t)len, HSMCA_E_POLICY, "secp256k1");
	OPENSSL_free(der);
	EVP_PKEY_free(k);

	k = keygen("ed25519");
	der = make_csr(k, "edwards", NULL, NULL, &len);
	expect_refused(der, (size_t)len, HSMCA_E_POLICY, "Ed25519");
	OPENSSL_free(der);
	EVP_PKEY_free(k);
}

static void
test_garbage_and_empty(void **state)
{
	unsigned char junk[700];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(i * 131 + 7);
	expect_refused(junk, sizeof(junk), HSMCA_E_INVALID, "CSR");
	expect_refused(junk, 0, HSMCA_E_INVALID, "empty");
	junk[0] = 0x30;
	junk[1] = 0x82;
	junk[2] = 0x02;
	junk[3] = 0xb8;
	expect_refused(junk, sizeof(junk), HSMCA_E_INVALID, "CSR");
}

static void
test_truncated_every_length(void **state)
{
	struct csr *csr = NULL;
	unsigned char *der;
	int len, i;

	(void)state;
	der = make_csr(p256, "t.example.test", "DNS:t.example.test", NULL, &len);
	for (i = 0; i < len; i++) {
		assert_int_not_equal(csr_parse(der, (size_t)i, &csr), 0);
		assert_null(csr);
	}
	assert_int_equal(csr_parse(der, (size_t)len, &csr), 0);
	csr_free(csr);
	OPENSSL_free(der);
}

static void
test_bit_flips(void **state)
{
	struct csr *csr = NULL;
	unsigned char *der, *copy;
	int len, i, bit, accepted = 0;

	(void)state;
	der = make_csr(p256, "f.example.test", "DNS:f.example.test,IP:10.0.0.1", NULL, &len);
	copy = malloc((size_t)len);
	assert_non_null(copy);
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(copy, der, (size_t)len);
			copy[i] ^= (unsigned char)(1u << bit);
			if (csr_parse(copy, (size_t)len, &csr) == 0) {
				/* Only an encoding-level change that leaves the signed bytes and the
				 * signature intact could pass; none should here. */
				accepted++;
				csr_free(csr);
				csr = NULL;
			}
		}
	}
	assert_int_equal(accepted, 0);
	free(copy);
	OPENSSL_free(der);
}

static void
test_broken_signature_and_trailing(void **state)
{
	unsigned char *der, *longer;
	int len;

	(void)state;
	der = make_csr(rsa2048, "s.example.test", NULL, NULL, &len);
	der[len - 5] ^= 0x40;
	expect_refused(der, (size_t)len, HSMCA_E_INVALID, "signature");
	der[len - 5] ^= 0x40;
	longer = malloc((size_t)len + 1);
	assert_non_null(longer);
	memcpy(longer, der, (size_t)len);
	longer[len] = 0;
	expect_refused(longer, (size_t)len + 1, HSMCA_E_INVALID, "trailing");
	free(longer);
	OPENSSL_free(der);
}

static void
test_san_policy(void **state)
{
	unsigned char *der;
	int len;

	(void)state;
	der = make_csr(p256, "x", "DNS:bad_name.example.test", NULL, &len);
	expect_refused(der, (size_t)len, HSMCA_E_POLICY, "bad_name.example.test");
	OPENSSL_free(der);
	der = make_csr(p256, "x", "DNS:*.com", NULL, &len);
	expect_refused(der, (size_t)len, HSMCA_E_POLICY, "not a valid host name");
	OPENSSL_free(der);
	der = make_csr(p256, "x", "RID:1.2.3.4", NULL, &len);
	expect_refused(der, (size_t)len, HSMCA_E_POLICY, "not supported");
	OPENSSL_free(der);
	der = make_csr(p256, NULL, NULL, NULL, &len);
	expect_refused(der, (size_t)len, HSMCA_E_POLICY, "neither a subject nor a subjectAltName");
	OPENSSL_free(der);
	der = make_csr(p256, NULL, "DNS:only-san.example.test", NULL, &len);
	{
		struct csr *csr = NULL;

		assert_int_equal(csr_parse(der, (size_t)len, &csr), 0);
		assert_null(csr->common_name);
		assert_string_equal(csr->subject, "");
		csr_free(csr);
	}
	OPENSSL_free(der);
}

static void
test_dns_names(void **state)
{
	static const struct { const char *name; int ok; } cases[] = {
		{ "example.test", 1 }, { "www.example.test", 1 }, { "*.example.test", 1 }, { "a-b.c", 1 },
		{ "localhost", 1 }, { "xn--bcher-kva.example", 1 },
		{ "", 0 }, { ".example", 0 }, { "example.", 0 }, { "a..b", 0 }, { "-a.b", 0 }, { "a-.b", 0 },
		{ "a_b.c", 0 }, { "*.com", 0 }, { "a.*.c", 0 }, { "**.a.b", 0 }, { "10.0.0.1", 0 },
		{ "client one", 0 }, { "a.b\n", 0 },
	};
	char label64[80];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (csr_dns_name_ok(cases[i].name, strlen(cases[i].name)) != cases[i].ok)
			fail_msg("csr_dns_name_ok(\"%s\") != %d", cases[i].name, cases[i].ok);
	memset(label64, 'a', 64);
	memcpy(label64 + 64, ".b", 3);
	assert_int_equal(csr_dns_name_ok(label64, strlen(label64)), 0);
	assert_int_equal(csr_dns_name_ok(label64 + 1, strlen(label64 + 1)), 1);
}

static void
test_pem_to_der(void **state)
{
	struct buf der = { 0 }, same = { 0 };
	unsigned char *raw;
	X509_REQ *req;
	const unsigned char *p;
	BIO *bio;
	BUF_MEM *mem;
	int len;

	(void)state;
	raw = make_csr(p256, "p.example.test", NULL, NULL, &len);
	p = raw;
	req = d2i_X509_REQ(NULL, &p, len);
	bio = BIO_new(BIO_s_mem());
	assert_int_equal(PEM_write_bio_X509_REQ(bio, req), 1);
	BIO_get_mem_ptr(bio, &mem);
	assert_int_equal(csr_to_der((const uint8_t *)mem->data, mem->length, &der), 0);
	assert_int_equal(der.len, (size_t)len);
	assert_memory_equal(der.data, raw, (size_t)len);
	assert_int_equal(csr_to_der(raw, (size_t)len, &same), 0);   /* DER passes through */
	assert_int_equal(same.len, (size_t)len);
	buf_free(&same);
	buf_free(&der);
	assert_int_equal(csr_to_der((const uint8_t *)"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	    58, &der), HSMCA_E_INVALID);
	assert_int_equal(csr_to_der((const uint8_t *)"-----BEGIN CERTIFICATE REQUEST-----\n!!\n", 39, &der), HSMCA_E_INVALID);
	BIO_free(bio);
	X509_REQ_free(req);
	OPENSSL_free(raw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_rsa),
		cmocka_unit_test(test_good_ec),
		cmocka_unit_test(test_weak_and_unsupported_keys),
		cmocka_unit_test(test_garbage_and_empty),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_broken_signature_and_trailing),
		cmocka_unit_test(test_san_policy),
		cmocka_unit_test(test_dns_names),
		cmocka_unit_test(test_pem_to_der),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
