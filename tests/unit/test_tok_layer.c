/*
 * test_tok_layer.c: the token layer (pkcs11/) against a real SoftHSM token in a temp folder:
 * login and PIN handling, key generation with its attribute policy, certificate/CRL/data/CSR
 * signing, import, PKCS#12 export, sealing, deletion, and signing from several threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "err.h"
#include "tok.h"

static char dir[256];
static struct tok *tok;

static struct tok_config
cfg_with(const char *pin_file, const char *pin_env)
{
	struct tok_config c;

	memset(&c, 0, sizeof(c));
	c.token_label = "hsmca";
	c.pin_file = pin_file;
	c.pin_env = pin_env;
	c.pool_size = 4;
	return c;
}

static int
setup_token(void **state)
{
	const char *tmp = getenv("HSMCA_TEST_TMP");

	(void)state;
	if (tmp == NULL)
		tmp = "/tmp";
	(void)mkdir(tmp, 0700);
	snprintf(dir, sizeof(dir), "%s/test_tok.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		return -1;
	return tok_softhsm_create(dir, "hsmca");
}

static int
teardown_token(void **state)
{
	char cmd[400];

	(void)state;
	tok_close(tok);
	tok = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
open_token(void)
{
	char pin[300];
	struct tok_config c;

	if (tok != NULL)
		return;
	snprintf(pin, sizeof(pin), "%s/pin", dir);
	c = cfg_with(pin, NULL);
	assert_int_equal(tok_open(&c, &tok), 0);
}

/* Runs first: a failed open must leave the module usable for the next one. */
static void
test_pin_handling(void **state)
{
	char path[300];
	struct tok_config c;
	struct tok *t = NULL;
	FILE *f;

	(void)state;
	setenv("TEST_WRONG_PIN", "not-the-pin-0000", 1);
	c = cfg_with(NULL, "TEST_WRONG_PIN");
	assert_int_equal(tok_open(&c, &t), HSMCA_E_PIN);
	assert_null(t);
	unsetenv("TEST_NO_PIN");
	c = cfg_with(NULL, "TEST_NO_PIN");
	assert_int_equal(tok_open(&c, &t), HSMCA_E_PIN);
	/* A PIN file readable by others is refused before it is read. */
	snprintf(path, sizeof(path), "%s/pin-open", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("whatever", f);
	fclose(f);
	chmod(path, 0644);
	c = cfg_with(path, NULL);
	err_clear();
	assert_int_equal(tok_open(&c, &t), HSMCA_E_PIN);
	assert_non_null(strstr(err_msg(HSMCA_E_PIN), "readable by group or others"));
	/* An unknown token label. */
	snprintf(path, sizeof(path), "%s/pin", dir);
	c = cfg_with(path, NULL);
	c.token_label = "no-such-token";
	assert_int_equal(tok_open(&c, &t), HSMCA_E_TOKEN);
	open_token();
	assert_int_equal(tok_ping(tok), 0);
	assert_string_equal(tok_label(tok), "hsmca");
}

/* A minimal TBSCertificate for pub, self-issued, through OpenSSL: the signature algorithm field
 * is a placeholder that tok_sign_certificate must replace. */
static void
make_tbs(EVP_PKEY *pub, struct buf *tbs)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_ALGOR *alg;
	unsigned char *der = NULL;
	int len;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 42);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"tok test", -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, pub);
	alg = (X509_ALGOR *)X509_get0_tbs_sigalg(x);
	X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256WithRSAEncryption), V_ASN1_NULL, NULL);
	len = i2d_re_X509_tbs(x, &der);
	assert_true(len > 0);
	assert_int_equal(buf_set(tbs, der, (size_t)len), 0);
	OPENSSL_free(der);
	X509_NAME_free(n);
	X509_free(x);
}

static EVP_PKEY *
pub_of(const char *keyref)
{
	struct buf spki = { 0 };
	const unsigned char *p;
	EVP_PKEY *pk;

	assert_int_equal(tok_public_key(tok, keyref, &spki), 0);
	p = spki.data;
	pk = d2i_PUBKEY(NULL, &p, (long)spki.len);
	assert_non_null(pk);
	buf_free(&spki);
	return pk;
}

static void
sign_and_verify(const char *keyref, struct buf *cert_out)
{
	struct buf tbs = { 0 }, cert = { 0 };
	EVP_PKEY *pub = pub_of(keyref);
	const unsigned char *p;
	X509 *x;

	make_tbs(pub, &tbs);
	assert_int_equal(tok_sign_certificate(tok, keyref, tbs.data, tbs.len, &cert), 0);
	p = cert.data;
	x = d2i_X509(NULL, &p, (long)cert.len);
	assert_non_null(x);
	assert_int_equal(X509_verify(x, pub), 1);
	X509_free(x);
	EVP_PKEY_free(pub);
	buf_free(&tbs);
	if (cert_out != NULL)
		*cert_out = cert;
	else
		buf_free(&cert);
}

static const struct tok_key_info *
find_key(const struct tok_key_info *keys, size_t n, const char *keyref)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(keys[i].keyref, keyref) == 0)
			return &keys[i];
	return NULL;
}

static void
test_generate_every_spec(void **state)
{
	struct tok_key_info *keys = NULL;
	const struct tok_key_info *k;
	char *refs[TOK_KEY__MAX] = { 0 }, label[32];
	enum tok_key_spec spec, got;
	size_t n;
	int exportable;

	(void)state;
	open_token();
	for (spec = 0; spec < TOK_KEY__MAX; spec++) {
		snprintf(label, sizeof(label), "gen-%s", tok_key_spec_name(spec));
		assert_int_equal(tok_generate_key(tok, spec, label, 0, &refs[spec]), 0);
		assert_int_equal(strncmp(refs[spec], "pkcs11:token=hsmca;id=", 22), 0);
		assert_int_equal(tok_key_spec_of(tok, refs[spec], &got), 0);
		assert_int_equal(got, spec);
		assert_int_equal(tok_key_is_exportable(tok, refs[spec], &exportable), 0);
		assert_int_equal(exportable, 0);
		sign_and_verify(refs[spec], NULL);
	}
	assert_int_equal(tok_list_keys(tok, &keys, &n), 0);
	for (spec = 0; spec < TOK_KEY__MAX; spec++) {
		k = find_key(keys, n, refs[spec]);
		assert_non_null(k);
		/* The CA key policy, read back from the token. */
		assert_int_equal(k->sensitive, 1);
		assert_int_equal(k->exportable, 0);
		assert_string_equal(k->spec, tok_key_spec_name(spec));
		free(refs[spec]);
	}
	tok_key_list_free(keys, n);
}

static void
test_bad_requests(void **state)
{
	static const uint8_t garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x01, 0xff };
	struct buf out = { 0 }, sig = { 0 }, alg = { 0 };
	char *ref = NULL;
	enum tok_key_spec spec;

	(void)state;
	open_token();
	assert_int_equal(tok_key_spec_parse("rsa-1024", &spec), HSMCA_E_INVALID);
	assert_int_equal(tok_generate_key(tok, TOK_KEY__MAX, "x", 0, &ref), HSMCA_E_INVALID);
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_256, "", 0, &ref), HSMCA_E_INVALID);
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_256, "bad-tbs", 0, &ref), 0);
	assert_int_equal(tok_sign_certificate(tok, ref, garbage, sizeof(garbage), &out), HSMCA_E_INVALID);
	assert_int_equal(tok_sign_certificate(tok, ref, garbage, 5, &out), HSMCA_E_INVALID);
	assert_int_equal(tok_sign_crl(tok, ref, garbage, 5, &out), HSMCA_E_INVALID);
	assert_null(out.data);
	assert_int_equal(tok_sign_data(tok, "pkcs11:token=hsmca;id=%01%02", garbage, 3, &sig, &alg), HSMCA_E_NOTFOUND);
	assert_int_equal(tok_sign_data(tok, "pkcs11:token=other;id=%01", garbage, 3, &sig, &alg), HSMCA_E_NOTFOUND);
	assert_int_equal(tok_sign_data(tok, "not a uri", garbage, 3, &sig, &alg), HSMCA_E_INVALID);
	assert_int_equal(tok_delete_key(tok, ref), 0);
	assert_int_equal(tok_delete_key(tok, ref), HSMCA_E_NOTFOUND);
	assert_int_equal(tok_sign_data(tok, ref, garbage, 3, &sig, &alg), HSMCA_E_NOTFOUND);
	free(ref);
}

static void
test_csr(void **state)
{
	const char *sans[] = { "DNS:web-1.example.test", "IP:10.0.0.1", "IP:2001:db8::1" };
	struct buf csr = { 0 };
	const unsigned char *p;
	X509_REQ *req;
	EVP_PKEY *pub;
	char *ref = NULL;

	(void)state;
	open_token();
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_384, "csr-key", 0, &ref), 0);
	assert_int_equal(tok_make_csr(tok, ref, "CN=web-1.example.test,O=Example", sans, 3, &csr), 0);
	p = csr.data;
	req = d2i_X509_REQ(NULL, &p, (long)csr.len);
	assert_non_null(req);
	pub = X509_REQ_get0_pubkey(req);
	assert_int_equal(X509_REQ_verify(req, pub), 1);
	X509_REQ_free(req);
	buf_free(&csr);
	assert_int_equal(tok_make_csr(tok, ref, "/CN=slash-form", NULL, 0, &csr), 0);
	buf_free(&csr);
	assert_int_equal(tok_make_csr(tok, ref, "no equals sign", NULL, 0, &csr), HSMCA_E_INVALID);
	sans[0] = "mail:x";
	assert_int_equal(tok_make_csr(tok, ref, "CN=x", sans, 1, &csr), HSMCA_E_INVALID);
	tok_delete_key(tok, ref);
	free(ref);
}

static void
pem_of(EVP_PKEY *pk, struct buf *out)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *m;

	assert_true(PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL));
	BIO_get_mem_ptr(b, &m);
	assert_int_equal(buf_set(out, m->data, m->length), 0);
	BIO_free(b);
}

static void
test_import(void **state)
{
	struct buf pem = { 0 }, spki = { 0 };
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-384"), *weak = EVP_RSA_gen(1024);
	unsigned char *der = NULL, *mine = NULL;
	char *ref = NULL;
	PKCS12 *p12;
	int len, mine_len, exportable;
	struct tok_key_info *keys = NULL;
	size_t n;

	(void)state;
	open_token();
	/* PEM RSA: the token's public key is the file's. */
	pem_of(rsa, &pem);
	assert_int_equal(tok_import_key_pem(tok, pem.data, pem.len, "imported-rsa", &ref), 0);
	assert_int_equal(tok_public_key(tok, ref, &spki), 0);
	mine_len = i2d_PUBKEY(rsa, &mine);
	assert_int_equal((size_t)mine_len, spki.len);
	assert_memory_equal(mine, spki.data, spki.len);
	assert_int_equal(tok_key_is_exportable(tok, ref, &exportable), 0);
	assert_int_equal(exportable, 0);
	sign_and_verify(ref, NULL);
	assert_int_equal(tok_list_keys(tok, &keys, &n), 0);
	assert_int_equal(find_key(keys, n, ref)->sensitive, 1);
	tok_key_list_free(keys, n);
	free(ref);
	buf_free(&pem);
	buf_free(&spki);
	OPENSSL_free(mine);
	/* PKCS#12 EC. */
	p12 = PKCS12_create("p12-pass", "ext", ec, NULL, NULL, 0, 0, 0, 0, 0);
	assert_non_null(p12);
	len = i2d_PKCS12(p12, &der);
	assert_int_equal(tok_import_key_pkcs12(tok, der, (size_t)len, "wrong", "imported-ec", &ref), HSMCA_E_INVALID);
	assert_int_equal(tok_import_key_pkcs12(tok, der, (size_t)len, "p12-pass", "imported-ec", &ref), 0);
	sign_and_verify(ref, NULL);
	free(ref);
	/* Refusals. */
	pem_of(weak, &pem);
	assert_int_equal(tok_import_key_pem(tok, pem.data, pem.len, "weak", &ref), HSMCA_E_POLICY);
	assert_int_equal(tok_import_key_pem(tok, (const uint8_t *)"garbage", 7, "g", &ref), HSMCA_E_INVALID);
	buf_free(&pem);
	OPENSSL_free(der);
	PKCS12_free(p12);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(weak);
}

static void
test_export(void **state)
{
	struct buf cert = { 0 }, pfx = { 0 };
	char *ca_ref = NULL, *leaf_ref = NULL;
	const unsigned char *p;
	EVP_PKEY *pk = NULL, *pub;
	X509 *x = NULL;
	PKCS12 *p12;
	int legacy, exportable;

	(void)state;
	open_token();
	assert_int_equal(tok_generate_key(tok, TOK_KEY_RSA_2048, "ca-no-export", 0, &ca_ref), 0);
	sign_and_verify(ca_ref, &cert);
	err_clear();
	assert_int_equal(tok_export_pkcs12(tok, ca_ref, &cert, NULL, 0, "ca", "a-long-password", 0, &pfx),
	    HSMCA_E_CONFLICT);
	assert_non_null(strstr(err_msg(HSMCA_E_CONFLICT), "non-extractable in token hsmca"));
	buf_free(&cert);
	for (legacy = 0; legacy <= 1; legacy++) {
		assert_int_equal(tok_generate_key(tok, legacy ? TOK_KEY_EC_256 : TOK_KEY_RSA_2048, "leaf", 1, &leaf_ref), 0);
		assert_int_equal(tok_key_is_exportable(tok, leaf_ref, &exportable), 0);
		assert_int_equal(exportable, 1);
		sign_and_verify(leaf_ref, &cert);
		/* The wrong certificate for this key is refused. */
		assert_int_equal(tok_export_pkcs12(tok, ca_ref, &cert, NULL, 0, "x", "a-long-password", 0, &pfx),
		    HSMCA_E_CONFLICT);
		assert_int_equal(tok_export_pkcs12(tok, leaf_ref, &cert, NULL, 0, "leaf", "short", legacy, &pfx),
		    HSMCA_E_INVALID);
		assert_int_equal(tok_export_pkcs12(tok, leaf_ref, &cert, NULL, 0, "leaf", "a-long-password", legacy, &pfx), 0);
		p = pfx.data;
		p12 = d2i_PKCS12(NULL, &p, (long)pfx.len);
		assert_non_null(p12);
		assert_int_equal(PKCS12_verify_mac(p12, "a-long-password", -1), 1);
		assert_int_equal(PKCS12_parse(p12, "a-long-password", &pk, &x, NULL), 1);
		pub = pub_of(leaf_ref);
		assert_int_equal(EVP_PKEY_eq(pk, pub), 1);
		EVP_PKEY_free(pub);
		EVP_PKEY_free(pk);
		X509_free(x);
		PKCS12_free(p12);
		buf_free(&pfx);
		buf_free(&cert);
		free(leaf_ref);
	}
	free(ca_ref);
}

static void
test_seal(void **state)
{
	static const uint8_t secret[20] = "0123456789abcdefghij";
	struct buf sealed = { 0 }, plain = { 0 };

	(void)state;
	open_token();
	assert_int_equal(tok_seal(tok, "totp:user:1", secret, sizeof(secret), &sealed), 0);
	assert_true(sealed.len > sizeof(secret));
	assert_null(memmem(sealed.data, sealed.len, secret, 8));
	assert_int_equal(tok_unseal(tok, "totp:user:1", sealed.data, sealed.len, &plain), 0);
	assert_int_equal(plain.len, sizeof(secret));
	assert_memory_equal(plain.data, secret, sizeof(secret));
	buf_free(&plain);
	/* Another row's aad, a flipped byte, a truncation: all refused. */
	assert_int_equal(tok_unseal(tok, "totp:user:2", sealed.data, sealed.len, &plain), HSMCA_E_INVALID);
	sealed.data[sealed.len - 1] ^= 1;
	assert_int_equal(tok_unseal(tok, "totp:user:1", sealed.data, sealed.len, &plain), HSMCA_E_INVALID);
	assert_int_equal(tok_unseal(tok, "totp:user:1", sealed.data, 10, &plain), HSMCA_E_INVALID);
	buf_free(&sealed);
	assert_int_equal(tok_seal(tok, "x", secret, 0, &sealed), HSMCA_E_INVALID);
	assert_null(sealed.data);
}

struct signer {
	const char *keyref;
	int failures;
};

static void *
sign_many(void *arg)
{
	struct signer *s = arg;
	struct buf sig = { 0 }, alg = { 0 };
	unsigned char msg[32];
	int i;

	for (i = 0; i < 50; i++) {
		memset(msg, i, sizeof(msg));
		if (tok_sign_data(tok, s->keyref, msg, sizeof(msg), &sig, &alg) != 0)
			s->failures++;
		buf_free(&sig);
		buf_free(&alg);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	char *refs[2] = { NULL, NULL };
	struct signer s[4];
	pthread_t t[4];
	int i;

	(void)state;
	open_token();
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_256, "thread-ec", 0, &refs[0]), 0);
	assert_int_equal(tok_generate_key(tok, TOK_KEY_RSA_2048, "thread-rsa", 0, &refs[1]), 0);
	for (i = 0; i < 4; i++) {
		s[i].keyref = refs[i % 2];
		s[i].failures = 0;
		assert_int_equal(pthread_create(&t[i], NULL, sign_many, &s[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(s[i].failures, 0);
	}
	free(refs[0]);
	free(refs[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pin_handling),
		cmocka_unit_test(test_generate_every_spec),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_seal),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, setup_token, teardown_token);
}
