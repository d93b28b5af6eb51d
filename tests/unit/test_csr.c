/* test_csr.c: csr.c, the PKCS#10 parser and policy, on CSRs made here with OpenSSL, plus
 * deterministic mutations (truncation at every length, every single-bit flip, trailing bytes)
 * and hand-made SubjectPublicKeyInfos (csr.c builds the public key itself). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
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

/* The key csr_parse builds is the one in the request, and the request's SubjectPublicKeyInfo is
 * left as sent (scep.c hashes it, issue.c copies it). X509_REQ_get0_pubkey answering NULL is what
 * shows the OpenSSL 3.0 decoder was skipped (see csr.c). */
static void
test_key_as_sent(void **state)
{
	EVP_PKEY *keys[2];
	struct csr *csr = NULL;
	unsigned char *der, *spki = NULL, *sent = NULL;
	int len, spki_len, sent_len, i;

	(void)state;
	keys[0] = rsa2048;
	keys[1] = p256;
	for (i = 0; i < 2; i++) {
		der = make_csr(keys[i], "k.example.test", NULL, NULL, &len);
		assert_int_equal(csr_parse(der, (size_t)len, &csr), 0);
		assert_non_null(csr->pkey);
		assert_int_equal(EVP_PKEY_eq(csr->pkey, keys[i]), 1);
		assert_null(X509_REQ_get0_pubkey(csr->req));
		spki_len = i2d_X509_PUBKEY(X509_REQ_get_X509_PUBKEY(csr->req), &spki);
		sent_len = i2d_PUBKEY(keys[i], &sent);
		assert_true(spki_len > 0);
		assert_int_equal(spki_len, sent_len);
		assert_memory_equal(spki, sent, (size_t)sent_len);
		OPENSSL_free(spki);
		OPENSSL_free(sent);
		spki = sent = NULL;
		csr_free(csr);
		csr = NULL;
		OPENSSL_free(der);
	}
}

/* One DER TLV (definite length up to 65535) at out; returns its size. */
static size_t
der_tlv(unsigned char *out, unsigned char tag, const unsigned char *content, size_t n)
{
	size_t h = 0;

	assert_true(n < 65536);
	out[h++] = tag;
	if (n < 128) {
		out[h++] = (unsigned char)n;
	} else if (n < 256) {
		out[h++] = 0x81;
		out[h++] = (unsigned char)n;
	} else {
		out[h++] = 0x82;
		out[h++] = (unsigned char)(n >> 8);
		out[h++] = (unsigned char)n;
	}
	memmove(out + h, content, n);
	return h + n;
}

/* RSAPublicKey { n, e } with the INTEGERs' contents exactly as given (so they can be wrong). */
static size_t
der_rsa_pub(unsigned char *out, const unsigned char *n, size_t n_len, const unsigned char *e, size_t e_len)
{
	unsigned char body[4200];
	size_t len;

	assert_true(n_len + e_len + 8 <= sizeof(body));
	len = der_tlv(body, 0x02, n, n_len);
	len += der_tlv(body + len, 0x02, e, e_len);
	return der_tlv(out, 0x30, body, len);
}

/* A CSR whose SubjectPublicKeyInfo is algorithm nid with parameters (ptype, pval; pval is taken)
 * and key bits key[0..key_len), signed by signer: PKCS#1 v1.5 or, with pss, RSASSA-PSS. */
static unsigned char *
make_csr_spki(EVP_PKEY *signer, int nid, int ptype, void *pval, const unsigned char *key, size_t key_len,
    int pss, int *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *bits, *der = NULL;

	assert_non_null(req);
	assert_non_null(md);
	bits = OPENSSL_malloc(key_len + 1);
	assert_non_null(bits);
	memcpy(bits, key, key_len);
	assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)"spki.example.test", -1, -1, 0), 1);
	assert_int_equal(X509_REQ_set_subject_name(req, name), 1);
	assert_int_equal(X509_PUBKEY_set0_param(X509_REQ_get_X509_PUBKEY(req), OBJ_nid2obj(nid), ptype, pval, bits,
	    (int)key_len), 1);
	assert_int_equal(EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, signer), 1);
	if (pss) {
		assert_true(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) > 0);
	}
	assert_true(X509_REQ_sign_ctx(req, md) > 0);
	*len = i2d_X509_REQ(req, &der);
	assert_true(*len > 0);
	EVP_MD_CTX_free(md);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return der;
}

static void
expect_spki_refused(EVP_PKEY *signer, int nid, int ptype, void *pval, const unsigned char *key, size_t key_len,
    int code, const char *words)
{
	unsigned char *der;
	int len;

	der = make_csr_spki(signer, nid, ptype, pval, key, key_len, 0, &len);
	expect_refused(der, (size_t)len, code, words);
	OPENSSL_free(der);
}

/* The big-endian magnitude of rsa2048's parameter p ("n" or "e") at out; returns its size. */
static size_t
rsa_param(const char *p, unsigned char *out, size_t max)
{
	BIGNUM *bn = NULL;
	int n;

	assert_int_equal(EVP_PKEY_get_bn_param(rsa2048, p, &bn), 1);
	assert_true((size_t)BN_num_bytes(bn) <= max);
	n = BN_bn2bin(bn, out);
	BN_free(bn);
	return (size_t)n;
}

/* A CSR with public key (n, 1) whose signature is the padded digest itself: with e = 1 that
 * "verifies" without any private key, so proof of possession would mean nothing. */
static unsigned char *
make_csr_e1_forged(const unsigned char *n, size_t n_len, int *len)
{
	static const unsigned char sha256_info[] = {
		0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
		0x00, 0x04, 0x20,
	};
	unsigned char spki[600], em[256], digest[32], *tbs = NULL, *csr, *der = NULL;
	const unsigned char *p;
	const unsigned char one = 1;
	ASN1_BIT_STRING *sig;
	X509_REQ *req;
	int tbs_len;

	csr = make_csr_spki(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki, der_rsa_pub(spki, n, n_len, &one, 1), 0, len);
	p = csr;
	req = d2i_X509_REQ(NULL, &p, *len);
	assert_non_null(req);
	tbs_len = i2d_re_X509_REQ_tbs(req, &tbs);
	assert_true(tbs_len > 0);
	assert_int_equal(EVP_Digest(tbs, (size_t)tbs_len, digest, NULL, EVP_sha256(), NULL), 1);
	/* EMSA-PKCS1-v1_5 (RFC 8017 9.2): 00 01 FF.. 00 DigestInfo */
	memset(em, 0xff, sizeof(em));
	em[0] = 0x00;
	em[1] = 0x01;
	em[sizeof(em) - sizeof(sha256_info) - sizeof(digest) - 1] = 0x00;
	memcpy(em + sizeof(em) - sizeof(sha256_info) - sizeof(digest), sha256_info, sizeof(sha256_info));
	memcpy(em + sizeof(em) - sizeof(digest), digest, sizeof(digest));
	sig = ASN1_BIT_STRING_new();
	assert_non_null(sig);
	assert_int_equal(ASN1_BIT_STRING_set(sig, em, (int)sizeof(em)), 1);
	sig->flags = ASN1_STRING_FLAG_BITS_LEFT;   /* all 2048 bits count */
	X509_REQ_set0_signature(req, sig);
	*len = i2d_X509_REQ(req, &der);
	assert_true(*len > 0);
	OPENSSL_free(tbs);
	OPENSSL_free(csr);
	X509_REQ_free(req);
	return der;
}

static void
test_rsa_key_encoding(void **state)
{
	unsigned char n[600], e[8], other[600], spki[600], *der;
	static unsigned char big[2049], big_spki[2100];
	size_t n_len, e_len, len;
	const unsigned char one = 1, four = 4, neg[] = { 0x80, 0x01 }, pad[] = { 0x00, 0x01, 0x00, 0x01 };
	int der_len;

	(void)state;
	/* n as a DER INTEGER: a 00 in front of the top bit that a 2048-bit modulus always has. */
	n[0] = 0x00;
	n_len = 1 + rsa_param(OSSL_PKEY_PARAM_RSA_N, n + 1, sizeof(n) - 1);
	e_len = rsa_param(OSSL_PKEY_PARAM_RSA_E, e, sizeof(e));
	assert_int_equal(n_len, 257);

	/* As OpenSSL writes it, and with the parameters left out: both taken. */
	len = der_rsa_pub(spki, n, n_len, e, e_len);
	der = make_csr_spki(rsa2048, NID_rsaEncryption, V_ASN1_UNDEF, NULL, spki, len, 0, &der_len);
	{
		struct csr *csr = NULL;

		assert_int_equal(csr_parse(der, (size_t)der_len, &csr), 0);
		assert_string_equal(csr->key_algorithm, "rsa-2048");
		assert_int_equal(EVP_PKEY_eq(csr->pkey, rsa2048), 1);
		csr_free(csr);
	}
	OPENSSL_free(der);

	/* The modulus: negative (no 00 in front), zero-padded, even, too large. */
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki, der_rsa_pub(spki, n + 1, n_len - 1, e, e_len),
	    HSMCA_E_INVALID, "RSA modulus is negative");
	memcpy(other + 1, n, n_len);
	other[0] = 0x00;
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki, der_rsa_pub(spki, other, n_len + 1, e, e_len),
	    HSMCA_E_INVALID, "public key cannot be decoded");
	memcpy(other, n, n_len);
	other[n_len - 1] ^= 1;
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki, der_rsa_pub(spki, other, n_len, e, e_len),
	    HSMCA_E_INVALID, "RSA modulus is even");
	memset(big, 0x5b, sizeof(big));   /* 16,391 bits, odd */
	len = der_rsa_pub(big_spki, big, sizeof(big), e, e_len);
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, big_spki, len,
	    HSMCA_E_POLICY, "RSA key of 16391 bits is too large (maximum 8192)");

	/* The exponent: 1, even, negative, 2,047 bits. */
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki, der_rsa_pub(spki, n, n_len, &one, 1),
	    HSMCA_E_INVALID, "RSA public exponent");
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki, der_rsa_pub(spki, n, n_len, &four, 1),
	    HSMCA_E_INVALID, "RSA public exponent");
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki, der_rsa_pub(spki, n, n_len, neg, sizeof(neg)),
	    HSMCA_E_INVALID, "RSA public exponent");
	memcpy(other, n + 1, n_len - 1);
	other[0] &= 0x7f;
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki, der_rsa_pub(spki, n, n_len, other, n_len - 1),
	    HSMCA_E_INVALID, "RSA public exponent");
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki, der_rsa_pub(spki, n, n_len, pad, sizeof(pad)),
	    HSMCA_E_INVALID, "public key cannot be decoded");

	/* e = 1 with a signature anyone could make: verifies, refused for the key. */
	der = make_csr_e1_forged(n, n_len, &der_len);
	expect_refused(der, (size_t)der_len, HSMCA_E_INVALID, "RSA public exponent");
	OPENSSL_free(der);

	/* Not an RSAPublicKey, or one with bytes after it, or nothing at all. */
	len = der_rsa_pub(spki, n, n_len, e, e_len);
	spki[len] = 0x00;
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki, len + 1, HSMCA_E_INVALID, "public key cannot be decoded");
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, spki + 4, len - 4, HSMCA_E_INVALID, "public key cannot be decoded");
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, (const unsigned char *)"\x30\x03\x02\x01", 4,
	    HSMCA_E_INVALID, "public key cannot be decoded");
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, (const unsigned char *)"garbage!", 8,
	    HSMCA_E_INVALID, "public key cannot be decoded");
	expect_spki_refused(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, (const unsigned char *)"", 0,
	    HSMCA_E_INVALID, "public key cannot be decoded");
}

/* An rsaEncryption key may sign its request with RSASSA-PSS (OpenSSL and csr.c always took it). */
static void
test_rsa_pss_signature(void **state)
{
	struct csr *csr = NULL;
	unsigned char *der, *spki = NULL;
	int len, spki_len;

	(void)state;
	spki_len = i2d_PUBKEY(rsa2048, &spki);
	assert_true(spki_len > 0);
	{
		const unsigned char *p = spki;
		X509_PUBKEY *xpk = d2i_X509_PUBKEY(NULL, &p, spki_len);
		const unsigned char *bits;
		int nbits;

		assert_non_null(xpk);
		assert_int_equal(X509_PUBKEY_get0_param(NULL, &bits, &nbits, NULL, xpk), 1);
		der = make_csr_spki(rsa2048, NID_rsaEncryption, V_ASN1_NULL, NULL, bits, (size_t)nbits, 1, &len);
		X509_PUBKEY_free(xpk);
	}
	assert_int_equal(csr_parse(der, (size_t)len, &csr), 0);
	assert_string_equal(csr->key_algorithm, "rsa-2048");
	{
		const X509_ALGOR *sig_alg;
		const ASN1_OBJECT *oid;

		X509_REQ_get0_signature(csr->req, NULL, &sig_alg);
		X509_ALGOR_get0(&oid, NULL, NULL, sig_alg);
		assert_int_equal(OBJ_obj2nid(oid), NID_rsassaPss);
	}
	csr_free(csr);
	der[len - 3] ^= 0x10;
	expect_refused(der, (size_t)len, HSMCA_E_INVALID, "signature does not verify");
	OPENSSL_free(der);
	OPENSSL_free(spki);
}

static void
test_ec_key_encoding(void **state)
{
	unsigned char point[65], other[66];
	size_t point_len = 0;
	EVP_PKEY *explicit_key;
	struct csr *csr = NULL;
	unsigned char *der;
	int len;

	(void)state;
	assert_int_equal(EVP_PKEY_get_octet_string_param(p256, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &point_len), 1);
	assert_int_equal(point_len, 65);
	assert_int_equal(point[0], 0x04);

	/* The compressed form of the same point: taken, as OpenSSL always did. */
	memcpy(other, point, 33);
	other[0] = (unsigned char)(0x02 | (point[64] & 1));
	der = make_csr_spki(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), other, 33, 0, &len);
	assert_int_equal(csr_parse(der, (size_t)len, &csr), 0);
	assert_string_equal(csr->key_algorithm, "ec-256");
	assert_int_equal(EVP_PKEY_eq(csr->pkey, p256), 1);
	csr_free(csr);
	OPENSSL_free(der);

	/* A point off the curve (y changed), the point at infinity, a byte too many, too few. */
	memcpy(other, point, point_len);
	other[64] ^= 0x01;
	expect_spki_refused(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), other, 65,
	    HSMCA_E_INVALID, "public key cannot be decoded");
	other[0] = 0x00;
	expect_spki_refused(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), other, 1,
	    HSMCA_E_INVALID, "CSR");
	memcpy(other, point, point_len);
	other[65] = 0x00;
	expect_spki_refused(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), other, 66,
	    HSMCA_E_INVALID, "public key cannot be decoded");
	expect_spki_refused(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), point, 64,
	    HSMCA_E_INVALID, "public key cannot be decoded");
	expect_spki_refused(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1),
	    (const unsigned char *)"", 0, HSMCA_E_INVALID, "public key cannot be decoded");

	/* The curve: a P-256 point said to be on P-384, no parameters, NULL, an unknown OID, SM2. */
	expect_spki_refused(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(NID_secp384r1), point, 65,
	    HSMCA_E_INVALID, "public key cannot be decoded");
	expect_spki_refused(p256, NID_X9_62_id_ecPublicKey, V_ASN1_UNDEF, NULL, point, 65,
	    HSMCA_E_INVALID, "public key cannot be decoded");
	expect_spki_refused(p256, NID_X9_62_id_ecPublicKey, V_ASN1_NULL, NULL, point, 65,
	    HSMCA_E_INVALID, "public key cannot be decoded");
	expect_spki_refused(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_txt2obj("1.3.6.1.4.1.99999.1", 1), point, 65,
	    HSMCA_E_INVALID, "public key cannot be decoded");
	expect_spki_refused(p256, NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT, OBJ_nid2obj(NID_sm2), point, 65,
	    HSMCA_E_POLICY, "this key type is not supported");

	/* P-256 spelled out as explicit parameters: refused (the certificate could not carry them). */
	explicit_key = EVP_PKEY_dup(p256);
	assert_non_null(explicit_key);
	assert_int_equal(EVP_PKEY_set_utf8_string_param(explicit_key, OSSL_PKEY_PARAM_EC_ENCODING,
	    OSSL_PKEY_EC_ENCODING_EXPLICIT), 1);
	der = make_csr(explicit_key, "explicit", NULL, NULL, &len);
	expect_refused(der, (size_t)len, HSMCA_E_POLICY, "explicit curve parameters");
	OPENSSL_free(der);
	EVP_PKEY_free(explicit_key);
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
		cmocka_unit_test(test_key_as_sent),
		cmocka_unit_test(test_rsa_key_encoding),
		cmocka_unit_test(test_rsa_pss_signature),
		cmocka_unit_test(test_ec_key_encoding),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
