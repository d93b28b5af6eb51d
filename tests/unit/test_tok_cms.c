/*
 * test_tok_cms.c: CMS on a real SoftHSM token (temp dir, SOFTHSM2_CONF): every fixture's
 * envelope opened with the fixture CA key imported into the token (single DES included), and
 * CertReps signed with a token RA key, verified as certmonger does (PKCS7_verify with the
 * GetCACert certificates as trust) and with CMS_verify, and opened by the requester.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "err.h"
#include "scep_msg.h"
#include "scep_reply.h"
#include "scep_testutil.h"
#include "tok.h"
#include "tok_cms.h"
#include "tok_internal.h"

struct fx {
	char dir[256];
	struct tok *tok;
	OSSL_LIB_CTX *legacy;
	struct scept_pki pki;
	X509 *fixture_ca;
	char *ca_ref, *ra_ref;
	struct buf fixture_ca_der, ra_der, ca_der;
};

static char *
import_key(struct tok *tok, EVP_PKEY *key, const char *label)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem, *ref = NULL;
	long n;

	assert_int_equal(PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL), 1);
	n = BIO_get_mem_data(bio, &pem);
	if (tok_import_key_pem(tok, (const uint8_t *)pem, (size_t)n, label, &ref) != 0)
		fail_msg("tok_import_key_pem: %s", err_msg(-1));
	BIO_free(bio);
	return ref;
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("HSMCA_TEST_TMP");
	struct tok_config cfg = { 0 };
	char pin[400];
	EVP_PKEY *ca_key;

	if (tmp == NULL)
		tmp = "/tmp";
	(void)mkdir(tmp, 0700);
	snprintf(f->dir, sizeof(f->dir), "%s/test_tok_cms.XXXXXX", tmp);
	assert_non_null(mkdtemp(f->dir));
	if (tok_softhsm_create(f->dir, "scep") != 0)
		fail_msg("tok_softhsm_create: %s", err_msg(-1));
	snprintf(pin, sizeof(pin), "%s/pin", f->dir);
	cfg.token_label = "scep";
	cfg.pin_file = pin;
	if (tok_open(&cfg, &f->tok) != 0)
		fail_msg("tok_open: %s", err_msg(-1));
	f->legacy = scept_legacy_ctx();
	scept_pki_new(&f->pki);
	ca_key = scept_load_key("ca.key");
	f->fixture_ca = scept_load_cert("ca.pem");
	f->ca_ref = import_key(f->tok, ca_key, "fixture-ca");
	f->ra_ref = import_key(f->tok, f->pki.ra_key, "ra");
	EVP_PKEY_free(ca_key);
	scept_der(f->fixture_ca, &f->fixture_ca_der);
	scept_der(f->pki.ra_cert, &f->ra_der);
	scept_der(f->pki.ca_cert, &f->ca_der);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[300];

	buf_free(&f->fixture_ca_der);
	buf_free(&f->ra_der);
	buf_free(&f->ca_der);
	free(f->ca_ref);
	free(f->ra_ref);
	X509_free(f->fixture_ca);
	scept_pki_free(&f->pki);
	scept_legacy_free(f->legacy);
	tok_close(f->tok);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Every capture parses with its envelope opened on the token. */
static void
test_fixtures_on_token(void **state)
{
	struct fx *f = *state;
	struct tok_cms_key k = { f->tok, f->ca_ref, &f->fixture_ca_der, NULL, 0 };
	struct scep_keyops ops = { tok_cms_decrypt_cb, &k };
	size_t i;

	for (i = 0; i < SCEPT_N_FIXTURES; i++) {
		struct buf der = { 0 };
		struct scep_msg *msg = NULL;
		int rc;

		scept_load(scept_fixtures[i].file, &der);
		rc = scep_msg_parse(der.data, der.len, &ops, 0, 0, &msg);
		if (rc != 0)
			fail_msg("%s: %s", scept_fixtures[i].file, err_msg(rc));
		assert_string_equal(msg->cipher, scept_fixtures[i].cipher);
		assert_int_equal(msg->challenge_len, strlen("fixture-secret"));
		assert_memory_equal(msg->challenge, "fixture-secret", msg->challenge_len);
		scep_msg_free(msg);
		buf_free(&der);
	}
}

/* The token refuses envelopes for another certificate and keys that do not match the cert. */
static void
test_decrypt_refusals(void **state)
{
	struct fx *f = *state;
	struct buf der = { 0 }, content = { 0 };
	struct scep_msg *msg = NULL;
	struct tok_cms_key wrong_cert = { f->tok, f->ca_ref, &f->ra_der, NULL, 0 };
	struct tok_cms_key not_for_ra = { f->tok, f->ra_ref, &f->ra_der, NULL, 0 };
	struct scep_keyops ops = { tok_cms_decrypt_cb, &wrong_cert };
	uint8_t junk[64] = { 0x30, 0x3e };

	scept_load("sscep-3des-sha256-post.der", &der);
	assert_int_equal(scep_msg_parse(der.data, der.len, &ops, 0, 0, &msg), HSMCA_E_INVALID);
	assert_int_equal(msg->fail, SCEP_FAIL_BADMESSAGECHECK);
	scep_msg_free(msg);
	ops.arg = &not_for_ra;
	assert_int_equal(scep_msg_parse(der.data, der.len, &ops, 0, 0, &msg), HSMCA_E_INVALID);
	assert_int_equal(msg->fail, SCEP_FAIL_BADMESSAGECHECK);
	scep_msg_free(msg);
	assert_int_equal(tok_decrypt_cms(f->tok, f->ra_ref, &f->ra_der, junk, sizeof(junk), &content),
	    HSMCA_E_INVALID);
	assert_null(content.data);
	assert_int_equal(tok_decrypt_cms(f->tok, f->ra_ref, &f->ra_der, NULL, 0, &content), HSMCA_E_INVALID);
	buf_free(&der);
}

/* Enrollment through the token end to end: the client encrypts to the RA certificate, the RA key
 * on the token opens it and signs the CertRep, the client verifies and opens the reply. */
static void
test_certrep_signed_on_token(void **state)
{
	struct fx *f = *state;
	struct tok_cms_key ra = { f->tok, f->ra_ref, &f->ra_der, &f->ca_der, 1 };
	struct scep_keyops keyops = { tok_cms_decrypt_cb, &ra };
	struct scep_signops signops = { tok_cms_sign_cb, &ra };
	EVP_PKEY *ckey = scept_rsa(2048);
	X509 *ccert = scept_cert("token-client", ckey, NULL, NULL, 0, NULL);
	X509 *issued = scept_cert("token-client", ckey, f->pki.ca_cert, f->pki.ca_key, 0, "digitalSignature");
	EVP_CIPHER *des = EVP_CIPHER_fetch(f->legacy, "DES-CBC", NULL);
	const EVP_CIPHER *ciphers[] = { EVP_aes_256_cbc(), des };
	struct buf csr = { 0 }, req_der = { 0 }, cert = { 0 }, rep = { 0 };
	struct scept_certrep got;
	size_t i;

	scept_der(issued, &cert);
	assert_int_equal(scept_csr(ckey, "token-client", "pw", V_ASN1_UTF8STRING, &csr), 0);
	for (i = 0; i < 2; i++) {
		struct scept_req r = { .msg_type = "19", .txid = "4711", .nonce_len = 16,
		    .cipher = ciphers[i], .md = EVP_sha256(), .ctx = f->legacy };
		struct scep_msg *req = NULL;

		assert_int_equal(scept_build(&r, ckey, ccert, f->pki.ra_cert, csr.data, csr.len, &req_der), 0);
		if (scep_msg_parse(req_der.data, req_der.len, &keyops, 0, 0, &req) != 0)
			fail_msg("parse: %s", err_msg(-1));
		if (scep_reply_success(req, &cert, 1, NULL, &signops, &rep) != 0)
			fail_msg("reply: %s", err_msg(-1));
		scept_check_certrep(&rep, &f->pki, req, ckey, ccert, f->legacy, &got);
		assert_string_equal(got.status, "0");
		assert_string_equal(got.cipher, req->cipher);
		assert_int_equal(got.cert0.len, cert.len);
		assert_memory_equal(got.cert0.data, cert.data, cert.len);
		scept_certrep_free(&got);
		buf_free(&rep);

		assert_int_equal(scep_reply_failure(req, SCEP_FAIL_BADREQUEST, &signops, &rep), 0);
		scept_check_certrep(&rep, &f->pki, req, NULL, NULL, NULL, &got);
		assert_string_equal(got.status, "2");
		assert_string_equal(got.fail_info, "2");
		scept_certrep_free(&got);
		buf_free(&rep);
		buf_free(&req_der);
		scep_msg_free(req);
	}
	buf_free(&csr);
	buf_free(&cert);
	EVP_CIPHER_free(des);
	X509_free(issued);
	X509_free(ccert);
	EVP_PKEY_free(ckey);
}

/* tok_sign_cms argument checks: digest list, key/certificate match, garbage certificates. */
static void
test_sign_refusals(void **state)
{
	struct fx *f = *state;
	struct buf out = { 0 }, bad = { 0 };
	static const uint8_t content[] = "x";

	assert_int_equal(tok_sign_cms(f->tok, f->ra_ref, &f->ra_der, NULL, 0, content, 1, NULL, 0,
	    "md5", &out), HSMCA_E_INVALID);
	/* The fixture CA key with the RA certificate: refused, nothing signed. */
	assert_int_equal(tok_sign_cms(f->tok, f->ca_ref, &f->ra_der, NULL, 0, content, 1, NULL, 0,
	    "sha256", &out), HSMCA_E_INVALID);
	assert_null(out.data);
	buf_set(&bad, f->ra_der.data, f->ra_der.len - 1);
	assert_int_equal(tok_sign_cms(f->tok, f->ra_ref, &bad, NULL, 0, content, 1, NULL, 0,
	    "sha256", &out), HSMCA_E_INVALID);
	assert_int_equal(tok_sign_cms(f->tok, f->ra_ref, &f->ra_der, &bad, 1, content, 1, NULL, 0,
	    "sha256", &out), HSMCA_E_INVALID);
	/* And the good call works, verifiable with CMS_verify against the RA certificate. */
	assert_int_equal(tok_sign_cms(f->tok, f->ra_ref, &f->ra_der, &f->ca_der, 1, content, 1, NULL, 0,
	    "sha512", &out), 0);
	{
		const unsigned char *p = out.data;
		CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)out.len);
		X509_STORE *store = X509_STORE_new();
		BIO *o = BIO_new(BIO_s_mem());
		char *d;

		X509_STORE_add_cert(store, f->pki.root_cert);
		assert_non_null(cms);
		assert_int_equal(CMS_verify(cms, NULL, store, NULL, o, CMS_BINARY), 1);
		assert_int_equal(BIO_get_mem_data(o, &d), 1);
		assert_int_equal(d[0], 'x');
		BIO_free(o);
		X509_STORE_free(store);
		CMS_ContentInfo_free(cms);
	}
	buf_free(&out);
	buf_free(&bad);
}

/* More distinct certificates than tok_certs.c keeps (32), so some are evicted while in use. */
#define CACHE_CERTS 40
#define CACHE_THREADS 4

struct cache_run {
	struct buf *der;
	int id, bad;
};

/* Each thread asks for every certificate several times, in its own order. */
static void *
cache_worker(void *arg)
{
	struct cache_run *run = arg;
	unsigned char *back = NULL;
	int i, n;

	for (i = 0; i < 5 * CACHE_CERTS; i++) {
		const struct buf *d = &run->der[(i * 7 + run->id * 13) % CACHE_CERTS];
		X509 *x = tok_cert_get(d->data, d->len, TOK_CMS_MAX_CONTENT);

		n = x != NULL ? i2d_X509(x, &back) : -1;
		if (n != (int)d->len || memcmp(back, d->data, d->len) != 0)
			run->bad++;
		OPENSSL_free(back);
		back = NULL;
		X509_free(x);
	}
	return NULL;
}

/* tok_certs.c: one decoded X509 per distinct DER, shared; bad DER refused; eviction leaves the
 * references callers hold valid; concurrent use gives the right certificate every time. */
static void
test_cert_cache(void **state)
{
	struct fx *f = *state;
	struct buf der[CACHE_CERTS];
	X509 *held[CACHE_CERTS], *x, *again;
	EVP_PKEY *key = scept_ec();
	struct cache_run runs[CACHE_THREADS];
	pthread_t th[CACHE_THREADS];
	uint8_t *longer;
	char cn[32];
	int i;

	x = tok_cert_get(f->ra_der.data, f->ra_der.len, TOK_CMS_MAX_CONTENT);
	again = tok_cert_get(f->ra_der.data, f->ra_der.len, TOK_CMS_MAX_CONTENT);
	assert_non_null(x);
	assert_ptr_equal(x, again);
	assert_int_equal(X509_cmp(x, f->pki.ra_cert), 0);
	X509_free(again);
	X509_free(x);
	/* Truncated, trailing byte, empty, over the caller's bound. */
	assert_null(tok_cert_get(f->ra_der.data, f->ra_der.len - 1, TOK_CMS_MAX_CONTENT));
	longer = malloc(f->ra_der.len + 1);
	assert_non_null(longer);
	memcpy(longer, f->ra_der.data, f->ra_der.len);
	longer[f->ra_der.len] = 0;
	assert_null(tok_cert_get(longer, f->ra_der.len + 1, TOK_CMS_MAX_CONTENT));
	free(longer);
	assert_null(tok_cert_get(NULL, 0, TOK_CMS_MAX_CONTENT));
	assert_null(tok_cert_get(f->ra_der.data, f->ra_der.len, f->ra_der.len - 1));

	for (i = 0; i < CACHE_CERTS; i++) {
		snprintf(cn, sizeof(cn), "cache-%d", i);
		x = scept_cert(cn, key, NULL, NULL, 0, "digitalSignature");
		memset(&der[i], 0, sizeof(der[i]));
		scept_der(x, &der[i]);
		X509_free(x);
		held[i] = tok_cert_get(der[i].data, der[i].len, TOK_CMS_MAX_CONTENT);
		assert_non_null(held[i]);
	}
	/* The first ones were evicted by now: what the caller holds is still whole. */
	for (i = 0; i < CACHE_CERTS; i++) {
		unsigned char *back = NULL;
		int n = i2d_X509(held[i], &back);

		assert_int_equal(n, (int)der[i].len);
		assert_memory_equal(back, der[i].data, der[i].len);
		OPENSSL_free(back);
		X509_free(held[i]);
	}
	for (i = 0; i < CACHE_THREADS; i++) {
		runs[i] = (struct cache_run){ der, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, cache_worker, &runs[i]), 0);
	}
	for (i = 0; i < CACHE_THREADS; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(runs[i].bad, 0);
	}
	for (i = 0; i < CACHE_CERTS; i++)
		buf_free(&der[i]);
	EVP_PKEY_free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures_on_token),
		cmocka_unit_test(test_decrypt_refusals),
		cmocka_unit_test(test_certrep_signed_on_token),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_cert_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
