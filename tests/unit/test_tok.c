/*
 * test_tok.c: the token layer against a real SoftHSM token in a temp folder.
 *
 * One token per process (SoftHSM reads SOFTHSM2_CONF at C_Initialize): group setup makes it,
 * test_open opens it (after the refusals), the last test closes it and proves a second token can
 * be made and used in the same process afterwards.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "tok.h"
#include "tok_internal.h"
#include "tok_testutil.h"

static char dir[256];
static struct tok *tok;

static int
group_setup(void **state)
{
	const char *tmp = getenv("HSMCA_TEST_TMP");

	(void)state;
	if (tmp == NULL)
		tmp = "/tmp";
	(void)mkdir(tmp, 0700);
	snprintf(dir, sizeof(dir), "%s/tok.XXXXXX", tmp);
	if (mkdtemp(dir) == NULL)
		return -1;
	if (tok_softhsm_create(dir, TOK_TEST_LABEL) != 0) {
		fprintf(stderr, "tok_softhsm_create: %s\n", err_msg(-1));
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	(void)state;
	tok_test_cleanup(dir, tok);
	tok = NULL;
	return 0;
}

static void
pin_path(char *out, size_t n)
{
	snprintf(out, n, "%s/pin", dir);
}

/* --- software helpers --- */

static EVP_PKEY *
der_pubkey(const struct buf *spki)
{
	const uint8_t *p = spki->data;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)spki->len);

	assert_non_null(pk);
	assert_ptr_equal(p, spki->data + spki->len);
	return pk;
}

static EVP_PKEY *
token_pub(const char *keyref)
{
	struct buf spki = { 0 };
	EVP_PKEY *pk;

	assert_int_equal(tok_public_key(tok, keyref, &spki), 0);
	pk = der_pubkey(&spki);
	buf_free(&spki);
	return pk;
}

static EVP_PKEY *
soft_key(const char *alg, const char *param)
{
	EVP_PKEY *pk;

	if (strcmp(alg, "RSA") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)atoi(param));
	else
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", param);
	assert_non_null(pk);
	return pk;
}

/* A TBSCertificate for subject_key, pre-signed by a throwaway software key so it carries some
 * valid (but wrong) AlgorithmIdentifier that the token must replace. */
static void
make_tbs(EVP_PKEY *subject_key, struct buf *tbs)
{
	EVP_PKEY *junk = soft_key("EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	uint8_t *der = NULL;
	int len;

	assert_non_null(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"tok test", -1, -1, 0);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 0x1234567);
	X509_set_issuer_name(x, n);
	X509_set_subject_name(x, n);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, subject_key);
	assert_true(X509_sign(x, junk, EVP_sha512()) > 0);
	len = i2d_re_X509_tbs(x, &der);
	assert_true(len > 0);
	assert_int_equal(buf_set(tbs, der, (size_t)len), 0);
	OPENSSL_free(der);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(junk);
}

static void
make_crl_tbs(struct buf *tbs)
{
	EVP_PKEY *junk = soft_key("EC", "P-256");
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *r = X509_REVOKED_new();
	X509_NAME *n = X509_NAME_new();
	ASN1_TIME *t = ASN1_TIME_new();
	ASN1_INTEGER *serial = ASN1_INTEGER_new();
	uint8_t *der = NULL;
	int len;

	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"tok test CA", -1, -1, 0);
	X509_CRL_set_version(crl, X509_CRL_VERSION_2);
	X509_CRL_set_issuer_name(crl, n);
	X509_gmtime_adj(t, 0);
	X509_CRL_set1_lastUpdate(crl, t);
	X509_gmtime_adj(t, 86400);
	X509_CRL_set1_nextUpdate(crl, t);
	ASN1_INTEGER_set(serial, 42);
	X509_REVOKED_set_serialNumber(r, serial);
	X509_REVOKED_set_revocationDate(r, t);
	X509_CRL_add0_revoked(crl, r);
	assert_true(X509_CRL_sign(crl, junk, EVP_sha256()) > 0);
	len = i2d_re_X509_CRL_tbs(crl, &der);
	assert_true(len > 0);
	assert_int_equal(buf_set(tbs, der, (size_t)len), 0);
	OPENSSL_free(der);
	ASN1_INTEGER_free(serial);
	ASN1_TIME_free(t);
	X509_NAME_free(n);
	X509_CRL_free(crl);
	EVP_PKEY_free(junk);
}

/* tok_sign_certificate over tbs: one DER certificate whose signature by pub verifies, with the
 * wanted signature algorithm. */
static X509 *
sign_checked(const char *keyref, EVP_PKEY *pub, const uint8_t *tbs, size_t tbs_len, int want_sig_nid)
{
	struct buf cert = { 0 };
	const uint8_t *p;
	X509 *x;

	assert_int_equal(tok_sign_certificate(tok, keyref, tbs, tbs_len, &cert), 0);
	p = cert.data;
	x = d2i_X509(NULL, &p, (long)cert.len);
	assert_non_null(x);
	assert_ptr_equal(p, cert.data + cert.len);
	assert_int_equal(X509_verify(x, pub), 1);
	assert_int_equal(X509_get_signature_nid(x), want_sig_nid);
	buf_free(&cert);
	return x;
}

/* A TBS that already names the key's algorithm (x509_build.c's) is signed as it is, without a
 * decode: the certificate holds exactly those TBS bytes, then tok_sigalg's AlgorithmIdentifier
 * and a signature that verifies. */
static void
resign_final_tbs(const char *keyref, EVP_PKEY *pub, X509 *signed_once, int want_sig_nid)
{
	struct buf cert = { 0 }, alg = { 0 };
	uint8_t *tbs = NULL, *tbs2 = NULL, *alg_der = NULL, *longer;
	X509 *x;
	int len, len2, alg_len;

	len = i2d_re_X509_tbs(signed_once, &tbs);
	assert_true(len > 0);
	x = sign_checked(keyref, pub, tbs, (size_t)len, want_sig_nid);
	len2 = i2d_re_X509_tbs(x, &tbs2);
	assert_int_equal(len2, len);
	assert_memory_equal(tbs2, tbs, (size_t)len);
	assert_int_equal(tok_sigalg(tok, keyref, &alg), 0);
	alg_len = i2d_X509_ALGOR(X509_get0_tbs_sigalg(x), &alg_der);
	assert_int_equal((size_t)alg_len, alg.len);
	assert_memory_equal(alg_der, alg.data, alg.len);
	/* Truncations and a trailing byte are still refused on this path. */
	for (int i = 0; i < len; i += 9)
		assert_int_equal(tok_sign_certificate(tok, keyref, tbs, (size_t)i, &cert), HSMCA_E_INVALID);
	longer = OPENSSL_realloc(tbs, (size_t)len + 1);
	assert_non_null(longer);
	tbs = longer;
	tbs[len] = 0;
	assert_int_equal(tok_sign_certificate(tok, keyref, tbs, (size_t)len + 1, &cert), HSMCA_E_INVALID);
	assert_null(cert.data);
	OPENSSL_free(alg_der);
	OPENSSL_free(tbs2);
	OPENSSL_free(tbs);
	buf_free(&alg);
	buf_free(&cert);
	X509_free(x);
}

/* Signs a certificate for the key itself with keyref and checks it against tok_public_key. */
static X509 *
sign_and_verify(const char *keyref, int want_sig_nid)
{
	EVP_PKEY *pub = token_pub(keyref);
	struct buf tbs = { 0 };
	X509 *x;

	make_tbs(pub, &tbs);
	x = sign_checked(keyref, pub, tbs.data, tbs.len, want_sig_nid);
	resign_final_tbs(keyref, pub, x, want_sig_nid);
	buf_free(&tbs);
	EVP_PKEY_free(pub);
	return x;
}

static char *
pem_of(EVP_PKEY *pk, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	long n;

	assert_true(PEM_write_bio_PrivateKey(b, pk, NULL, NULL, 0, NULL, NULL));
	n = BIO_get_mem_data(b, &data);
	out = malloc((size_t)n);
	memcpy(out, data, (size_t)n);
	*len = (size_t)n;
	BIO_free(b);
	return out;
}

/* --- tests --- */

static void
test_open(void **state)
{
	struct tok_config cfg;
	struct tok *t2 = NULL;
	char pin[512], bad[512];
	struct buf pinbuf = { 0 };

	(void)state;
	pin_path(pin, sizeof(pin));
	memset(&cfg, 0, sizeof(cfg));
	cfg.token_label = TOK_TEST_LABEL;

	/* No PIN source at all. */
	assert_int_equal(tok_open(&cfg, &t2), HSMCA_E_PIN);
	assert_null(t2);

	/* The right PIN in a group-readable file is refused. */
	assert_int_equal(buf_read_file(pin, 1024, &pinbuf), 0);
	snprintf(bad, sizeof(bad), "%s/pin-0644", dir);
	assert_int_equal(buf_write_file(bad, pinbuf.data, pinbuf.len, 0644), 0);
	cfg.pin_file = bad;
	assert_int_equal(tok_open(&cfg, &t2), HSMCA_E_PIN);
	assert_non_null(strstr(err_msg(HSMCA_E_PIN), "readable by group or others"));
	assert_null(strstr(err_msg(HSMCA_E_PIN), (const char *)pinbuf.data));

	/* A wrong PIN through the environment: the token's own C_Login refuses it. */
	cfg.pin_file = NULL;
	cfg.pin_env = "HSMCA_TEST_PIN";
	setenv("HSMCA_TEST_PIN", "not-the-pin", 1);
	assert_int_equal(tok_open(&cfg, &t2), HSMCA_E_PIN);
	assert_null(t2);

	/* Unknown token label. */
	cfg.token_label = "no-such-token";
	setenv("HSMCA_TEST_PIN", (const char *)pinbuf.data, 1);
	assert_int_equal(tok_open(&cfg, &t2), HSMCA_E_TOKEN);

	/* The right PIN from the environment opens it ... */
	cfg.token_label = TOK_TEST_LABEL;
	assert_int_equal(tok_open(&cfg, &tok), 0);
	assert_string_equal(tok_label(tok), TOK_TEST_LABEL);
	assert_int_equal(tok_ping(tok), 0);

	/* ... and a second open shares the login but still checks the PIN itself. */
	setenv("HSMCA_TEST_PIN", "not-the-pin", 1);
	assert_int_equal(tok_open(&cfg, &t2), HSMCA_E_PIN);
	cfg.pin_env = NULL;
	cfg.pin_file = pin;
	assert_int_equal(tok_open(&cfg, &t2), 0);
	assert_ptr_equal(t2, tok);
	tok_close(t2);
	assert_int_equal(tok_ping(tok), 0);   /* still logged in after the second handle closed */
	unsetenv("HSMCA_TEST_PIN");
	buf_free(&pinbuf);
	tok_close(NULL);
}

static void
test_softhsm_refusals(void **state)
{
	char other[300];

	(void)state;
	assert_non_null(tok);
	/* dir already has a token. */
	assert_int_equal(tok_softhsm_create(dir, "x"), HSMCA_E_EXISTS);
	/* A token is open: SoftHSM could not switch to a new configuration. */
	snprintf(other, sizeof(other), "%s/second", dir);
	assert_int_equal(mkdir(other, 0700), 0);
	assert_int_equal(tok_softhsm_create(other, "x"), HSMCA_E_BUSY);
	/* The files are 0600 and the configuration points into the state folder. */
	{
		struct stat st;
		struct buf conf = { 0 };
		char p[400];

		snprintf(p, sizeof(p), "%s/pin", dir);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		snprintf(p, sizeof(p), "%s/so-pin", dir);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		snprintf(p, sizeof(p), "%s/tokens", dir);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0700);
		snprintf(p, sizeof(p), "%s/softhsm2.conf", dir);
		assert_int_equal(buf_read_file(p, 4096, &conf), 0);
		assert_non_null(strstr((char *)conf.data, "directories.tokendir = /"));
		assert_non_null(strstr((char *)conf.data, "/tokens\n"));
		assert_non_null(strstr((char *)conf.data, "objectstore.backend = file"));
		buf_free(&conf);
	}
}

static void
test_spec_names(void **state)
{
	enum tok_key_spec s;
	int i;

	(void)state;
	for (i = 0; i < TOK_KEY__MAX; i++) {
		assert_int_equal(tok_key_spec_parse(tok_key_spec_name((enum tok_key_spec)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_int_equal(tok_key_spec_parse("rsa-1024", &s), HSMCA_E_INVALID);
	assert_non_null(strstr(err_msg(HSMCA_E_INVALID), "ec-384"));
	assert_int_equal(tok_key_spec_parse(NULL, &s), HSMCA_E_INVALID);
	assert_string_equal(tok_key_spec_name(TOK_KEY__MAX), "unsupported");
}

static void
test_generate_and_sign_every_spec(void **state)
{
	static const int sig_nid[TOK_KEY__MAX] = {
		NID_sha256WithRSAEncryption, NID_sha256WithRSAEncryption, NID_sha256WithRSAEncryption,
		NID_ecdsa_with_SHA256, NID_ecdsa_with_SHA384,
	};
	struct buf tbs = { 0 }, crl = { 0 }, sig = { 0 }, alg = { 0 }, alg2 = { 0 };
	enum tok_key_spec spec;
	struct tok_key_attrs a;
	EVP_PKEY *pub;
	EVP_MD_CTX *md;
	X509_CRL *c;
	X509 *x;
	const uint8_t *p;
	char *keyref = NULL;
	int i;

	(void)state;
	assert_non_null(tok);
	make_crl_tbs(&tbs);
	for (i = 0; i < TOK_KEY__MAX; i++) {
		assert_int_equal(tok_generate_key(tok, (enum tok_key_spec)i, "CA key", 0, &keyref), 0);
		assert_non_null(strstr(keyref, "pkcs11:token=hsmca-test;id=%"));
		assert_non_null(strstr(keyref, ";object=CA%20key;type=private"));
		assert_int_equal(tok_key_spec_of(tok, keyref, &spec), 0);
		assert_int_equal(spec, i);

		/* The CA key policy as the token holds it. */
		assert_int_equal(tok_key_attrs(tok, keyref, &a), 0);
		assert_true(a.sensitive && a.private_ && a.token && a.sign);
		assert_false(a.extractable);
		assert_true(a.always_sensitive && a.never_extractable);
		assert_int_equal(a.decrypt, i <= TOK_KEY_RSA_4096);

		x = sign_and_verify(keyref, sig_nid[i]);
		X509_free(x);

		/* CRL. */
		pub = token_pub(keyref);
		assert_int_equal(tok_sign_crl(tok, keyref, tbs.data, tbs.len, &crl), 0);
		p = crl.data;
		c = d2i_X509_CRL(NULL, &p, (long)crl.len);
		assert_non_null(c);
		assert_int_equal(X509_CRL_verify(c, pub), 1);
		assert_int_equal(X509_CRL_get_signature_nid(c), sig_nid[i]);
		assert_int_equal(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(c)), 1);
		X509_CRL_free(c);
		buf_free(&crl);

		/* Raw data: the signature verifies and its AlgorithmIdentifier is tok_sigalg's. */
		assert_int_equal(tok_sign_data(tok, keyref, (const uint8_t *)"ocsp", 4, &sig, &alg), 0);
		assert_int_equal(tok_sigalg(tok, keyref, &alg2), 0);
		assert_int_equal(alg.len, alg2.len);
		assert_memory_equal(alg.data, alg2.data, alg.len);
		md = EVP_MD_CTX_new();
		assert_int_equal(EVP_DigestVerifyInit(md, NULL, i == TOK_KEY_EC_384 ? EVP_sha384() : EVP_sha256(),
		    NULL, pub), 1);
		assert_int_equal(EVP_DigestVerify(md, sig.data, sig.len, (const uint8_t *)"ocsp", 4), 1);
		EVP_MD_CTX_free(md);
		if (i >= TOK_KEY_EC_256)
			assert_int_equal(sig.data[0], 0x30);   /* DER ECDSA-Sig-Value, not r||s */
		buf_free(&sig);
		buf_free(&alg);
		buf_free(&alg2);
		EVP_PKEY_free(pub);
		free(keyref);
		keyref = NULL;
	}
	buf_free(&tbs);
}

/* pkcs11-tool, an independent reader, sees the same policy. */
static void
test_pkcs11_tool_view(void **state)
{
	struct buf pin = { 0 };
	char p[400], cmd[1200], line[512];
	char *keyref = NULL;
	FILE *f;
	int seen_never = 0, seen_label = 0;

	(void)state;
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_256, "tool-view", 0, &keyref), 0);
	snprintf(p, sizeof(p), "%s/pin", dir);
	assert_int_equal(buf_read_file(p, 1024, &pin), 0);
	/* Test only: the PIN on a command line is what hsmca itself never does. */
	snprintf(cmd, sizeof(cmd), "pkcs11-tool --module %s --login --pin '%s' -O --type privkey 2>/dev/null",
	    TOK_DEFAULT_MODULE, (const char *)pin.data);
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "tool-view") != NULL)
			seen_label = 1;
		if (seen_label && strstr(line, "sensitive, always sensitive, never extractable") != NULL)
			seen_never = 1;
	}
	assert_int_equal(pclose(f), 0);
	assert_true(seen_label);
	assert_true(seen_never);
	assert_int_equal(tok_delete_key(tok, keyref), 0);
	buf_free(&pin);
	free(keyref);
}

static void
test_csr(void **state)
{
	static const char *const sans[] = {
		"DNS:www.example.com", "IP:192.0.2.7", "IP:2001:db8::1", "email:ops@example.com",
		"URI:https://example.com/x",
	};
	struct buf csr = { 0 };
	const uint8_t *p;
	X509_REQ *req;
	EVP_PKEY *pub, *tpub;
	STACK_OF(X509_EXTENSION) *exts;
	GENERAL_NAMES *gens;
	char *keyref = NULL, cn[64];
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		assert_int_equal(tok_generate_key(tok, i == 0 ? TOK_KEY_RSA_2048 : TOK_KEY_EC_384, "csr", 1, &keyref), 0);
		assert_int_equal(tok_make_csr(tok, keyref, i == 0 ? "/CN=www.example.com/O=Example\\/Org" :
		    "CN=www.example.com, O=Example/Org", sans, 5, &csr), 0);
		p = csr.data;
		req = d2i_X509_REQ(NULL, &p, (long)csr.len);
		assert_non_null(req);
		pub = X509_REQ_get_pubkey(req);
		assert_int_equal(X509_REQ_verify(req, pub), 1);
		tpub = token_pub(keyref);
		assert_int_equal(EVP_PKEY_eq(pub, tpub), 1);
		assert_true(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof(cn)) > 0);
		assert_string_equal(cn, "www.example.com");
		assert_true(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_organizationName, cn, sizeof(cn)) > 0);
		assert_string_equal(cn, "Example/Org");
		exts = X509_REQ_get_extensions(req);
		gens = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
		assert_non_null(gens);
		assert_int_equal(sk_GENERAL_NAME_num(gens), 5);
		GENERAL_NAMES_free(gens);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
		EVP_PKEY_free(pub);
		EVP_PKEY_free(tpub);
		X509_REQ_free(req);
		buf_free(&csr);
		free(keyref);
		keyref = NULL;
	}
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_256, "csr-bad", 0, &keyref), 0);
	{
		const char *bad_san[] = { "DNS:ok", "IP:300.1.1.1" };
		const char *bad_type[] = { "x400:foo" };

		assert_int_equal(tok_make_csr(tok, keyref, "/CN=x", bad_san, 2, &csr), HSMCA_E_INVALID);
		assert_int_equal(tok_make_csr(tok, keyref, "/CN=x", bad_type, 1, &csr), HSMCA_E_INVALID);
		assert_int_equal(tok_make_csr(tok, keyref, "/XX=x", NULL, 0, &csr), HSMCA_E_INVALID);
		assert_int_equal(tok_make_csr(tok, keyref, "/CN", NULL, 0, &csr), HSMCA_E_INVALID);
		assert_int_equal(tok_make_csr(tok, keyref, "", NULL, 0, &csr), HSMCA_E_INVALID);
		assert_null(csr.data);
	}
	assert_int_equal(tok_delete_key(tok, keyref), 0);
	free(keyref);
}

static void
import_one(EVP_PKEY *sk, int via_p12, int want_nid)
{
	char *keyref = NULL, *pem;
	size_t pem_len;
	struct tok_key_attrs a;
	EVP_PKEY *pub;
	X509 *x;

	if (!via_p12) {
		pem = pem_of(sk, &pem_len);
		assert_int_equal(tok_import_key_pem(tok, (const uint8_t *)pem, pem_len, "imported", &keyref), 0);
		OPENSSL_clear_free(pem, pem_len);
	} else {
		PKCS12 *p12 = PKCS12_create("s3cret", "imp", sk, NULL, NULL, 0, 0, 0, 0, 0);
		uint8_t *der = NULL;
		int len;

		assert_non_null(p12);
		len = i2d_PKCS12(p12, &der);
		assert_true(len > 0);
		assert_int_equal(tok_import_key_pkcs12(tok, der, (size_t)len, "wrong", "imported", &keyref),
		    HSMCA_E_INVALID);
		assert_int_equal(tok_import_key_pkcs12(tok, der, (size_t)len, "s3cret", "imported", &keyref), 0);
		OPENSSL_free(der);
		PKCS12_free(p12);
	}
	/* Same public key, non-extractable, and it signs. */
	pub = token_pub(keyref);
	assert_int_equal(EVP_PKEY_eq(pub, sk), 1);
	assert_int_equal(tok_key_attrs(tok, keyref, &a), 0);
	assert_true(a.sensitive && a.private_ && !a.extractable);
	x = sign_and_verify(keyref, want_nid);
	assert_int_equal(X509_verify(x, sk), 1);
	X509_free(x);
	EVP_PKEY_free(pub);
	assert_int_equal(tok_delete_key(tok, keyref), 0);
	free(keyref);
}

static void
test_import(void **state)
{
	EVP_PKEY *rsa = soft_key("RSA", "2048"), *ec = soft_key("EC", "P-384"), *weak, *p521;
	char *keyref = NULL, *pem;
	size_t pem_len;
	BIO *b;
	long n;
	char *data;

	(void)state;
	import_one(rsa, 0, NID_sha256WithRSAEncryption);
	import_one(ec, 0, NID_ecdsa_with_SHA384);
	import_one(rsa, 1, NID_sha256WithRSAEncryption);
	import_one(ec, 1, NID_ecdsa_with_SHA384);

	/* Keys hsmca cannot use are refused by policy, with a reason. */
	weak = soft_key("RSA", "1024");
	pem = pem_of(weak, &pem_len);
	assert_int_equal(tok_import_key_pem(tok, (const uint8_t *)pem, pem_len, "weak", &keyref), HSMCA_E_POLICY);
	assert_non_null(strstr(err_msg(HSMCA_E_POLICY), "1024"));
	free(pem);
	p521 = soft_key("EC", "P-521");
	pem = pem_of(p521, &pem_len);
	assert_int_equal(tok_import_key_pem(tok, (const uint8_t *)pem, pem_len, "p521", &keyref), HSMCA_E_POLICY);
	assert_non_null(strstr(err_msg(HSMCA_E_POLICY), "P-256"));
	free(pem);

	/* Encrypted PEM is refused, not prompted for. */
	b = BIO_new(BIO_s_mem());
	assert_true(PEM_write_bio_PrivateKey(b, rsa, EVP_aes_128_cbc(), (unsigned char *)"pw", 2, NULL, NULL));
	n = BIO_get_mem_data(b, &data);
	assert_int_equal(tok_import_key_pem(tok, (const uint8_t *)data, (size_t)n, "enc", &keyref), HSMCA_E_INVALID);
	BIO_free(b);
	assert_int_equal(tok_import_key_pem(tok, (const uint8_t *)"garbage", 7, "g", &keyref), HSMCA_E_INVALID);
	assert_null(keyref);
	EVP_PKEY_free(weak);
	EVP_PKEY_free(p521);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
}

static void
check_export(enum tok_key_spec spec, int legacy)
{
	char *keyref = NULL, p[400], cmd[900], line[512];
	struct buf cert = { 0 }, pfx = { 0 }, chain[1] = { { 0 } };
	EVP_PKEY *pkey = NULL, *pub;
	X509 *x, *xc = NULL;
	STACK_OF(X509) *ca = NULL;
	PKCS12 *p12;
	const uint8_t *q;
	uint8_t *der = NULL;
	int len, mac_ok = 0, aes_ok = 0;
	FILE *f;

	assert_int_equal(tok_generate_key(tok, spec, "endpoint", 1, &keyref), 0);
	x = sign_and_verify(keyref, spec == TOK_KEY_EC_384 ? NID_ecdsa_with_SHA384 :
	    spec == TOK_KEY_EC_256 ? NID_ecdsa_with_SHA256 : NID_sha256WithRSAEncryption);
	len = i2d_X509(x, &der);
	assert_int_equal(buf_set(&cert, der, (size_t)len), 0);
	assert_int_equal(buf_set(&chain[0], der, (size_t)len), 0);
	OPENSSL_free(der);
	X509_free(x);
	assert_int_equal(tok_export_pkcs12(tok, keyref, &cert, chain, 1, "my endpoint", "pfx-pass", legacy, &pfx), 0);

	q = pfx.data;
	p12 = d2i_PKCS12(NULL, &q, (long)pfx.len);
	assert_non_null(p12);
	assert_int_equal(PKCS12_verify_mac(p12, "pfx-pass", -1), 1);
	assert_int_equal(PKCS12_parse(p12, "pfx-pass", &pkey, &xc, &ca), 1);
	pub = token_pub(keyref);
	assert_int_equal(EVP_PKEY_eq(pkey, pub), 1);
	assert_non_null(xc);
	assert_int_equal(sk_X509_num(ca), 1);
	PKCS12_free(p12);

	/* The openssl tool opens it and reports the algorithms we promise. */
	snprintf(p, sizeof(p), "%s/export.p12", dir);
	assert_int_equal(buf_write_file(p, pfx.data, pfx.len, 0600), 0);
	snprintf(cmd, sizeof(cmd), "PFXPASS=pfx-pass openssl pkcs12 -info -noout -in '%s' -passin env:PFXPASS%s 2>&1",
	    p, legacy ? " -legacy" : "");
	f = popen(cmd, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, legacy ? "MAC: sha1" : "MAC: sha256") != NULL)
			mac_ok = 1;
		if (strstr(line, legacy ? "pbeWithSHA1And3-KeyTripleDES-CBC" : "PBES2, PBKDF2, AES-256-CBC") != NULL)
			aes_ok = 1;
	}
	assert_int_equal(pclose(f), 0);
	assert_true(mac_ok);
	assert_true(aes_ok);
	remove(p);

	/* A certificate that is not the key's is refused. */
	{
		EVP_PKEY *other = soft_key("EC", "P-256");
		X509 *ox = X509_new();
		struct buf obuf = { 0 }, out = { 0 };

		X509_NAME *nm = X509_NAME_new();

		X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_UTF8, (const unsigned char *)"other", -1, -1, 0);
		ASN1_INTEGER_set(X509_get_serialNumber(ox), 7);
		X509_set_issuer_name(ox, nm);
		X509_set_subject_name(ox, nm);
		X509_gmtime_adj(X509_getm_notBefore(ox), 0);
		X509_gmtime_adj(X509_getm_notAfter(ox), 3600);
		X509_set_pubkey(ox, other);
		assert_true(X509_sign(ox, other, EVP_sha256()) > 0);
		X509_NAME_free(nm);
		der = NULL;
		len = i2d_X509(ox, &der);
		assert_int_equal(buf_set(&obuf, der, (size_t)len), 0);
		assert_int_equal(tok_export_pkcs12(tok, keyref, &obuf, NULL, 0, NULL, "long-enough", 0, &out), HSMCA_E_INVALID);
		if (strstr(err_msg(HSMCA_E_INVALID), "not the one of key") == NULL)
			fail_msg("detail: %s", err_msg(HSMCA_E_INVALID));
		/* A short password is a caller bug. */
		assert_int_equal(tok_export_pkcs12(tok, keyref, &cert, NULL, 0, NULL, "short", 0, &out), HSMCA_E_INVALID);
		OPENSSL_free(der);
		buf_free(&obuf);
		X509_free(ox);
		EVP_PKEY_free(other);
	}

	sk_X509_pop_free(ca, X509_free);
	X509_free(xc);
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(pub);
	buf_free(&pfx);
	buf_free(&cert);
	buf_free(&chain[0]);
	assert_int_equal(tok_delete_key(tok, keyref), 0);
	free(keyref);
}

static void
test_export(void **state)
{
	char *keyref = NULL;
	struct buf cert = { 0 }, pfx = { 0 };
	int exportable = -1;
	uint8_t *der = NULL;
	X509 *x;
	int len;

	(void)state;
	check_export(TOK_KEY_EC_256, 0);
	check_export(TOK_KEY_RSA_2048, 0);
	check_export(TOK_KEY_EC_384, 1);
	check_export(TOK_KEY_RSA_3072, 1);

	/* A non-extractable key is refused, whatever the certificate. */
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_256, "ca-no-export", 0, &keyref), 0);
	assert_int_equal(tok_key_is_exportable(tok, keyref, &exportable), 0);
	assert_int_equal(exportable, 0);
	x = sign_and_verify(keyref, NID_ecdsa_with_SHA256);
	len = i2d_X509(x, &der);
	assert_int_equal(buf_set(&cert, der, (size_t)len), 0);
	assert_int_equal(tok_export_pkcs12(tok, keyref, &cert, NULL, 0, "x", "long-enough", 0, &pfx), HSMCA_E_CONFLICT);
	assert_string_equal(err_msg(HSMCA_E_CONFLICT), "the key is held non-extractable in token " TOK_TEST_LABEL);
	assert_null(pfx.data);
	OPENSSL_free(der);
	X509_free(x);
	buf_free(&cert);
	assert_int_equal(tok_delete_key(tok, keyref), 0);
	free(keyref);
}

/* What tok_cms.c relies on: RSA PKCS#1 v1.5 decryption through libp11. */
static void
test_decrypt(void **state)
{
	char *keyref = NULL;
	EVP_PKEY *pub, *priv = NULL;
	EVP_PKEY_CTX *c;
	uint8_t ct[512], pt[512];
	size_t ctlen = sizeof(ct), ptlen = sizeof(pt);

	(void)state;
	assert_int_equal(tok_generate_key(tok, TOK_KEY_RSA_2048, "ra", 0, &keyref), 0);
	pub = token_pub(keyref);
	c = EVP_PKEY_CTX_new(pub, NULL);
	assert_int_equal(EVP_PKEY_encrypt_init(c), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0);
	assert_int_equal(EVP_PKEY_encrypt(c, ct, &ctlen, (const uint8_t *)"content key 32 bytes............", 32), 1);
	EVP_PKEY_CTX_free(c);
	assert_int_equal(tok_pkey_get(tok, keyref, &priv), 0);
	c = EVP_PKEY_CTX_new(priv, NULL);
	assert_int_equal(EVP_PKEY_decrypt_init(c), 1);
	assert_true(EVP_PKEY_CTX_set_rsa_padding(c, RSA_PKCS1_PADDING) > 0);
	assert_int_equal(EVP_PKEY_decrypt(c, pt, &ptlen, ct, ctlen), 1);
	assert_int_equal(ptlen, 32);
	assert_memory_equal(pt, "content key 32 bytes............", 32);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	free(keyref);
}

static void
test_errors(void **state)
{
	static const uint8_t garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	struct buf out = { 0 }, tbs = { 0 };
	enum tok_key_spec spec;
	char *keyref = NULL;
	EVP_PKEY *pk = NULL, *pub;
	uint8_t *long_tbs;
	const char *unknown = "pkcs11:token=hsmca-test;id=%de%ad%be%ef;type=private";

	(void)state;
	assert_int_equal(tok_sign_certificate(tok, unknown, garbage, sizeof(garbage), &out), HSMCA_E_INVALID);
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_256, "errs", 0, &keyref), 0);

	/* Unknown keys. */
	pub = token_pub(keyref);
	make_tbs(pub, &tbs);
	assert_int_equal(tok_sign_certificate(tok, unknown, tbs.data, tbs.len, &out), HSMCA_E_NOTFOUND);
	assert_int_equal(tok_public_key(tok, unknown, &out), HSMCA_E_NOTFOUND);
	assert_int_equal(tok_key_spec_of(tok, unknown, &spec), HSMCA_E_NOTFOUND);
	assert_int_equal(tok_delete_key(tok, unknown), HSMCA_E_NOTFOUND);
	assert_int_equal(tok_pkey_get(tok, unknown, &pk), HSMCA_E_NOTFOUND);
	/* Another token's key reference, and malformed ones. */
	assert_int_equal(tok_sign_certificate(tok, "pkcs11:token=other;id=%01", tbs.data, tbs.len, &out),
	    HSMCA_E_NOTFOUND);
	assert_int_equal(tok_sign_certificate(tok, "pkcs11:token=hsmca-test", tbs.data, tbs.len, &out), HSMCA_E_INVALID);
	assert_int_equal(tok_sign_certificate(tok, "file:///etc/passwd", tbs.data, tbs.len, &out), HSMCA_E_INVALID);
	assert_int_equal(tok_sign_certificate(tok, NULL, tbs.data, tbs.len, &out), HSMCA_E_INVALID);

	/* Garbage TBS: not DER, a valid SEQUENCE that is no TBSCertificate, trailing bytes, empty. */
	assert_int_equal(tok_sign_certificate(tok, keyref, (const uint8_t *)"hello", 5, &out), HSMCA_E_INVALID);
	assert_int_equal(tok_sign_certificate(tok, keyref, garbage, sizeof(garbage), &out), HSMCA_E_INVALID);
	assert_int_equal(tok_sign_crl(tok, keyref, garbage, sizeof(garbage), &out), HSMCA_E_INVALID);
	assert_int_equal(tok_sign_crl(tok, keyref, tbs.data, tbs.len, &out), HSMCA_E_INVALID);  /* cert TBS as CRL */
	assert_int_equal(tok_sign_certificate(tok, keyref, NULL, 0, &out), HSMCA_E_INVALID);
	long_tbs = malloc(tbs.len + 1);
	memcpy(long_tbs, tbs.data, tbs.len);
	long_tbs[tbs.len] = 0;
	assert_int_equal(tok_sign_certificate(tok, keyref, long_tbs, tbs.len + 1, &out), HSMCA_E_INVALID);
	assert_non_null(strstr(err_msg(HSMCA_E_INVALID), "after the SEQUENCE"));
	assert_int_equal(tok_sign_certificate(tok, keyref, long_tbs, tbs.len - 1, &out), HSMCA_E_INVALID);
	assert_null(out.data);
	/* Every truncation is refused cleanly. */
	for (size_t i = 0; i < tbs.len; i += 7)
		assert_int_equal(tok_sign_certificate(tok, keyref, tbs.data, i, &out), HSMCA_E_INVALID);
	free(long_tbs);
	assert_int_equal(tok_delete_key(tok, keyref), 0);
	free(keyref);
	keyref = NULL;

	/* Bad arguments to generation. */
	assert_int_equal(tok_generate_key(tok, TOK_KEY__MAX, "x", 0, &keyref), HSMCA_E_INVALID);
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_256, "", 0, &keyref), HSMCA_E_INVALID);
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_256, "a\nb", 0, &keyref), HSMCA_E_INVALID);
	assert_null(keyref);
	EVP_PKEY_free(pub);
	buf_free(&tbs);
}

static void
test_list_and_delete(void **state)
{
	struct tok_key_info *keys = NULL;
	size_t n = 0, n0, i;
	char *a = NULL, *b = NULL;
	EVP_PKEY *pk = NULL;
	struct buf tbs = { 0 }, out = { 0 };
	int found_a = 0, found_b = 0;

	(void)state;
	assert_int_equal(tok_list_keys(tok, &keys, &n0), 0);
	tok_key_list_free(keys, n0);
	assert_int_equal(tok_generate_key(tok, TOK_KEY_RSA_2048, "list-a", 0, &a), 0);
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_384, "list-b", 1, &b), 0);
	assert_int_equal(tok_list_keys(tok, &keys, &n), 0);
	assert_int_equal(n, n0 + 2);
	for (i = 0; i < n; i++) {
		if (strcmp(keys[i].keyref, a) == 0) {
			found_a = 1;
			assert_string_equal(keys[i].label, "list-a");
			assert_string_equal(keys[i].spec, "rsa-2048");
			assert_int_equal(keys[i].exportable, 0);
			assert_int_equal(keys[i].sensitive, 1);
		}
		if (strcmp(keys[i].keyref, b) == 0) {
			found_b = 1;
			assert_string_equal(keys[i].spec, "ec-384");
			assert_int_equal(keys[i].exportable, 1);
			assert_int_equal(keys[i].sensitive, 0);
		}
	}
	assert_true(found_a && found_b);
	tok_key_list_free(keys, n);

	/* Load a into the key cache, then delete it: it is gone for every operation. */
	assert_int_equal(tok_pkey_get(tok, a, &pk), 0);
	EVP_PKEY_free(pk);
	pk = NULL;
	assert_int_equal(tok_delete_key(tok, a), 0);
	assert_int_equal(tok_pkey_get(tok, a, &pk), HSMCA_E_NOTFOUND);
	make_crl_tbs(&tbs);
	assert_int_equal(tok_sign_crl(tok, a, tbs.data, tbs.len, &out), HSMCA_E_NOTFOUND);
	assert_int_equal(tok_public_key(tok, a, &out), HSMCA_E_NOTFOUND);
	assert_int_equal(tok_delete_key(tok, a), HSMCA_E_NOTFOUND);
	assert_int_equal(tok_list_keys(tok, &keys, &n), 0);
	assert_int_equal(n, n0 + 1);
	tok_key_list_free(keys, n);
	/* b still works. */
	assert_int_equal(tok_sign_crl(tok, b, tbs.data, tbs.len, &out), 0);
	buf_free(&out);
	buf_free(&tbs);
	assert_int_equal(tok_delete_key(tok, b), 0);
	free(a);
	free(b);
}

struct worker {
	const char *keyref;
	const struct buf *tbs;
	EVP_PKEY *pub;
	int ok;
};

static void *
sign_worker(void *arg)
{
	struct worker *w = arg;
	struct buf cert = { 0 };
	const uint8_t *p;
	X509 *x;
	int i;

	for (i = 0; i < 50; i++) {
		if (tok_sign_certificate(tok, w->keyref, w->tbs->data, w->tbs->len, &cert) != 0)
			continue;
		p = cert.data;
		x = d2i_X509(NULL, &p, (long)cert.len);
		if (x != NULL && X509_verify(x, w->pub) == 1)
			w->ok++;
		X509_free(x);
		buf_free(&cert);
	}
	return NULL;
}

/* 4 threads x 50 certificates on one CA key (RSA) and then one EC key. */
static void
test_concurrency(void **state)
{
	enum tok_key_spec specs[2] = { TOK_KEY_RSA_2048, TOK_KEY_EC_256 };
	struct worker w[4];
	pthread_t th[4];
	struct buf tbs = { 0 };
	EVP_PKEY *pub;
	char *keyref = NULL;
	int s, i;

	(void)state;
	for (s = 0; s < 2; s++) {
		assert_int_equal(tok_generate_key(tok, specs[s], "busy CA", 0, &keyref), 0);
		pub = token_pub(keyref);
		make_tbs(pub, &tbs);
		for (i = 0; i < 4; i++) {
			w[i].keyref = keyref;
			w[i].tbs = &tbs;
			w[i].pub = pub;
			w[i].ok = 0;
			assert_int_equal(pthread_create(&th[i], NULL, sign_worker, &w[i]), 0);
		}
		for (i = 0; i < 4; i++) {
			pthread_join(th[i], NULL);
			assert_int_equal(w[i].ok, 50);
		}
		buf_free(&tbs);
		EVP_PKEY_free(pub);
		free(keyref);
		keyref = NULL;
	}
}

struct keygen_worker {
	const struct buf *tbs;   /* any TBSCertificate: the worker's own key signs it */
	int made;
	int signed_ok;
};

/* Thread-safe (no cmocka asserts): signs tbs with keyref, true when the token's public key for
 * keyref verifies the result. */
static int
signs_and_verifies(const char *keyref, const struct buf *tbs)
{
	struct buf spki = { 0 }, cert = { 0 };
	const uint8_t *p;
	EVP_PKEY *pub = NULL;
	X509 *x = NULL;
	int ok = 0, rc;

	if ((rc = tok_public_key(tok, keyref, &spki)) != 0 ||
	    (rc = tok_sign_certificate(tok, keyref, tbs->data, tbs->len, &cert)) != 0) {
		fprintf(stderr, "sign: %s\n", err_msg(rc));
		goto out;
	}
	p = spki.data;
	pub = d2i_PUBKEY(NULL, &p, (long)spki.len);
	p = cert.data;
	x = d2i_X509(NULL, &p, (long)cert.len);
	ok = pub != NULL && x != NULL && X509_verify(x, pub) == 1;
out:
	X509_free(x);
	EVP_PKEY_free(pub);
	buf_free(&cert);
	buf_free(&spki);
	return ok;
}

/* Each thread makes keys (EC and RSA) and signs with each right away, the way concurrent REST
 * requests with server-side key generation do. */
static void *
keygen_worker(void *arg)
{
	struct keygen_worker *w = arg;
	char *keyref = NULL;
	int i;

	for (i = 0; i < 6; i++) {
		int rc = tok_generate_key(tok, i % 3 == 2 ? TOK_KEY_RSA_2048 : TOK_KEY_EC_256, "parallel", 1, &keyref);

		if (rc != 0) {
			fprintf(stderr, "keygen: %s\n", err_msg(rc));
			continue;
		}
		w->made++;
		if (signs_and_verifies(keyref, w->tbs))
			w->signed_ok++;
		if ((rc = tok_delete_key(tok, keyref)) != 0) {
			fprintf(stderr, "delete: %s\n", err_msg(rc));
			w->made--;
		}
		free(keyref);
		keyref = NULL;
	}
	return NULL;
}

/* 8 threads creating, using and destroying token objects at once: SoftHSM's file store is not
 * safe for that from several threads of one process (CKR_GENERAL_ERROR was seen); every call
 * must succeed. */
static void
test_concurrent_keygen(void **state)
{
	struct keygen_worker w[8];
	pthread_t th[8];
	struct buf tbs = { 0 };
	EVP_PKEY *any = soft_key("EC", "P-256");
	int i;

	(void)state;
	make_tbs(any, &tbs);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 8; i++) {
		w[i].tbs = &tbs;
		assert_int_equal(pthread_create(&th[i], NULL, keygen_worker, &w[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].made, 6);
		assert_int_equal(w[i].signed_ok, 6);
	}
	buf_free(&tbs);
	EVP_PKEY_free(any);
}

/* tok_seal.c (another file's code) runs on this layer's sessions and key_lock. */
static void
test_seal(void **state)
{
	struct buf sealed = { 0 }, plain = { 0 };

	(void)state;
	assert_int_equal(tok_seal(tok, "totp:user:1", (const uint8_t *)"JBSWY3DPEHPK3PXP", 16, &sealed), 0);
	assert_int_equal(tok_unseal(tok, "totp:user:1", sealed.data, sealed.len, &plain), 0);
	assert_int_equal(plain.len, 16);
	assert_memory_equal(plain.data, "JBSWY3DPEHPK3PXP", 16);
	buf_free(&plain);
	/* Refused. XXX: tok_seal.c promises HSMCA_E_INVALID, but SoftHSM 2.6.1 answers a GCM tag
	 * mismatch with CKR_GENERAL_ERROR, which tok_seal.c maps to HSMCA_E_TOKEN (reported to its
	 * owner); tighten to HSMCA_E_INVALID once it maps that. */
	assert_int_not_equal(tok_unseal(tok, "totp:user:2", sealed.data, sealed.len, &plain), 0);
	assert_null(plain.data);
	sealed.data[sealed.len - 1] ^= 1;
	assert_int_not_equal(tok_unseal(tok, "totp:user:1", sealed.data, sealed.len, &plain), 0);
	assert_null(plain.data);
	sealed.data[sealed.len - 1] ^= 1;
	/* The session that saw the failure is still good for the next caller. */
	assert_int_equal(tok_unseal(tok, "totp:user:1", sealed.data, sealed.len, &plain), 0);
	buf_free(&plain);
	buf_free(&sealed);
}

/* Last: close, then a second token in a new folder in the same process. */
static void
test_second_token(void **state)
{
	char dir2[256];
	struct tok *t2 = NULL;
	char *keyref = NULL;
	X509 *x;

	(void)state;
	tok_close(tok);
	tok = NULL;
	assert_int_equal(tok_test_token(dir2, sizeof(dir2), &t2), 0);
	assert_int_equal(tok_ping(t2), 0);
	tok = t2;
	assert_int_equal(tok_generate_key(tok, TOK_KEY_EC_256, "second", 0, &keyref), 0);
	x = sign_and_verify(keyref, NID_ecdsa_with_SHA256);
	X509_free(x);
	free(keyref);
	tok = NULL;
	tok_test_cleanup(dir2, t2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_softhsm_refusals),
		cmocka_unit_test(test_spec_names),
		cmocka_unit_test(test_generate_and_sign_every_spec),
		cmocka_unit_test(test_pkcs11_tool_view),
		cmocka_unit_test(test_csr),
		cmocka_unit_test(test_import),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_decrypt),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_list_and_delete),
		cmocka_unit_test(test_concurrency),
		cmocka_unit_test(test_concurrent_keygen),
		cmocka_unit_test(test_seal),
		cmocka_unit_test(test_second_token),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
