/*
 * test_scep_reply.c: CertRep SUCCESS / FAILURE / PENDING and GetCACaps / GetCACert bodies,
 * checked the way clients check them: OpenSSL PKCS7_verify with the GetCACert certificates as
 * trust store (certmonger), CMS_verify, the SCEP attributes, and the SUCCESS envelope opened
 * with the requester's key. The signer here is a software key behind the scep_signops callback;
 * test_tok_cms signs the same replies on a SoftHSM token.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/pkcs7.h>

#include "err.h"
#include "scep_caps.h"
#include "scep_msg.h"
#include "scep_reply.h"
#include "scep_testutil.h"

struct sw_signer {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) *extra;
};

/* struct scep_signops in software: the same CMS shape tok_sign_cms produces. */
static int
sw_sign(void *arg, const uint8_t *content, size_t len, const struct tok_cms_attr *attrs,
    size_t n_attrs, const char *digest, struct buf *out)
{
	struct sw_signer *s = arg;
	const unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
	CMS_ContentInfo *cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	CMS_SignerInfo *si = CMS_add1_signer(cms, s->cert, s->key, EVP_get_digestbyname(digest), flags);
	int k;

	for (k = 0; k < sk_X509_num(s->extra); k++)
		CMS_add1_cert(cms, sk_X509_value(s->extra, k));
	BIO *in = BIO_new_mem_buf(len ? (const void *)content : "", (int)len);
	unsigned char *der = NULL;
	size_t i;
	int n, rc = -1;

	for (i = 0; i < n_attrs; i++)
		CMS_signed_add1_attr_by_txt(si, attrs[i].oid, attrs[i].type, attrs[i].data, (int)attrs[i].len);
	if (CMS_final(cms, in, NULL, CMS_BINARY) == 1 && (n = i2d_CMS_ContentInfo(cms, &der)) > 0)
		rc = buf_set(out, der, (size_t)n);
	OPENSSL_free(der);
	BIO_free(in);
	CMS_ContentInfo_free(cms);
	return rc;
}

struct fx {
	OSSL_LIB_CTX *legacy;
	struct scept_pki pki;
	struct sw_signer ra;
	struct scept_sw_key ra_dec;
	struct scep_signops signops;
	struct scep_keyops keyops;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->legacy = scept_legacy_ctx();
	scept_pki_new(&f->pki);
	f->ra.key = f->pki.ra_key;
	f->ra.cert = f->pki.ra_cert;
	f->ra.extra = sk_X509_new_null();
	sk_X509_push(f->ra.extra, f->pki.ca_cert);
	f->signops.sign = sw_sign;
	f->signops.arg = &f->ra;
	f->ra_dec.key = f->pki.ra_key;
	f->ra_dec.cert = f->pki.ra_cert;
	f->ra_dec.ctx = f->legacy;
	f->keyops.decrypt = scept_sw_decrypt;
	f->keyops.arg = &f->ra_dec;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	sk_X509_free(f->ra.extra);
	scept_pki_free(&f->pki);
	scept_legacy_free(f->legacy);
	free(f);
	return 0;
}

/* A request from a fresh client, parsed as the server would (decrypted with the RA key). */
static struct scep_msg *
client_request(struct fx *f, const EVP_CIPHER *cipher, const EVP_MD *md, EVP_PKEY **ckey, X509 **ccert)
{
	struct scept_req r = { .msg_type = "19", .txid = "dGhlIHRyYW5zYWN0aW9u", .nonce_len = 16,
	    .md = md, .cipher = cipher, .ctx = f->legacy };
	struct buf csr = { 0 }, der = { 0 };
	struct scep_msg *msg = NULL;

	*ckey = scept_rsa(2048);
	*ccert = scept_cert("client", *ckey, NULL, NULL, 0, NULL);
	assert_int_equal(scept_csr(*ckey, "client", "pw", V_ASN1_PRINTABLESTRING, &csr), 0);
	assert_int_equal(scept_build(&r, *ckey, *ccert, f->pki.ra_cert, csr.data, csr.len, &der), 0);
	if (scep_msg_parse(der.data, der.len, &f->keyops, 0, 0, &msg) != 0)
		fail_msg("parse: %s", err_msg(HSMCA_E_INVALID));
	buf_free(&csr);
	buf_free(&der);
	return msg;
}

static void
test_success_each_cipher(void **state)
{
	struct fx *f = *state;
	const struct {
		const EVP_CIPHER *(*cipher)(void);
		const char *name;
		const EVP_MD *(*md)(void);
	} cases[] = {
		{ EVP_aes_128_cbc, "aes-128-cbc", EVP_sha256 },
		{ EVP_aes_256_cbc, "aes-256-cbc", EVP_sha512 },
		{ EVP_des_ede3_cbc, "des-ede3-cbc", EVP_sha1 },
		{ NULL, "des-cbc", EVP_sha1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EVP_PKEY *ckey;
		X509 *ccert, *issued;
		EVP_CIPHER *des = NULL;
		struct scep_msg *req;
		struct buf cert = { 0 }, rep = { 0 };
		struct scept_certrep got;

		if (cases[i].cipher == NULL)
			des = EVP_CIPHER_fetch(f->legacy, "DES-CBC", NULL);
		req = client_request(f, des != NULL ? des : cases[i].cipher(), cases[i].md(), &ckey, &ccert);
		assert_string_equal(req->cipher, cases[i].name);
		assert_string_equal(scep_reply_cipher(req), cases[i].name);
		issued = scept_cert("client", ckey, f->pki.ca_cert, f->pki.ca_key, 0, "digitalSignature");
		scept_der(issued, &cert);
		assert_int_equal(scep_reply_success(req, &cert, 1, NULL, &f->signops, &rep), 0);

		scept_check_certrep(&rep, &f->pki, req, ckey, ccert, f->legacy, &got);
		assert_string_equal(got.status, "0");
		assert_string_equal(got.fail_info, "");
		assert_string_equal(got.cipher, cases[i].name);
		assert_string_equal(got.digest, EVP_MD_get0_name(cases[i].md()));
		assert_int_equal(got.n_certs, 1);
		assert_int_equal(got.cert0.len, cert.len);
		assert_memory_equal(got.cert0.data, cert.data, cert.len);
		scept_certrep_free(&got);

		buf_free(&rep);
		buf_free(&cert);
		X509_free(issued);
		X509_free(ccert);
		EVP_PKEY_free(ckey);
		EVP_CIPHER_free(des);
		scep_msg_free(req);
	}
}

static void
test_failure_pending(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *ckey;
	X509 *ccert;
	struct scep_msg *req = client_request(f, EVP_aes_128_cbc(), EVP_sha256(), &ckey, &ccert);
	struct buf rep = { 0 };
	struct scept_certrep got;
	enum scep_fail fi;

	for (fi = SCEP_FAIL_BADALG; fi < SCEP_FAIL__MAX; fi++) {
		char want[4];

		assert_int_equal(scep_reply_failure(req, fi, &f->signops, &rep), 0);
		scept_check_certrep(&rep, &f->pki, req, NULL, NULL, NULL, &got);
		snprintf(want, sizeof(want), "%d", (int)fi);
		assert_string_equal(got.status, "2");
		assert_string_equal(got.fail_info, want);
		assert_int_equal(got.content_len, 0);
		scept_certrep_free(&got);
		buf_free(&rep);
	}
	assert_int_equal(scep_reply_failure(req, SCEP_FAIL__MAX, &f->signops, &rep), HSMCA_E_INVALID);
	assert_null(rep.data);

	assert_int_equal(scep_reply_pending(req, &f->signops, &rep), 0);
	scept_check_certrep(&rep, &f->pki, req, NULL, NULL, NULL, &got);
	assert_string_equal(got.status, "3");
	assert_string_equal(got.fail_info, "");
	scept_certrep_free(&got);
	buf_free(&rep);

	/* A request that failed after its transactionID and nonce were read can be answered; one
	 * that failed before cannot. */
	req->replyable = 0;
	assert_int_equal(scep_reply_failure(req, SCEP_FAIL_BADREQUEST, &f->signops, &rep), HSMCA_E_INVALID);
	assert_null(rep.data);
	X509_free(ccert);
	EVP_PKEY_free(ckey);
	scep_msg_free(req);
}

/* A failed parse (bad signature) is answered FAILURE badMessageCheck with the digest defaulted. */
static void
test_failure_for_bad_message(void **state)
{
	struct fx *f = *state;
	struct buf der = { 0 }, rep = { 0 };
	struct scep_msg *msg = NULL;
	struct scept_certrep got;

	scept_load("sscep-aes-sha512-post.der", &der);
	der.data[der.len - 10] ^= 0x40;    /* inside the signature value */
	assert_int_equal(scep_msg_parse(der.data, der.len, &f->keyops, 0, 0, &msg), HSMCA_E_INVALID);
	assert_int_equal(msg->fail, SCEP_FAIL_BADMESSAGECHECK);
	assert_true(msg->replyable);
	assert_int_equal(scep_reply_failure(msg, msg->fail, &f->signops, &rep), 0);
	scept_check_certrep(&rep, &f->pki, msg, NULL, NULL, NULL, &got);
	assert_string_equal(got.fail_info, "1");
	assert_string_equal(got.digest, "SHA512");
	scept_certrep_free(&got);
	/* SUCCESS needs a fully parsed request. */
	buf_free(&msg->signer_cert);
	assert_int_equal(scep_reply_success(msg, NULL, 0, NULL, &f->signops, &rep), HSMCA_E_INVALID);
	buf_free(&rep);
	buf_free(&der);
	scep_msg_free(msg);
}

/* GetCRL answers with a CRL in the degenerate PKCS#7. */
static void
test_success_crl(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *ckey;
	X509 *ccert;
	struct scep_msg *req = client_request(f, EVP_aes_256_cbc(), EVP_sha256(), &ckey, &ccert);
	X509_CRL *crl = X509_CRL_new();
	unsigned char *der = NULL;
	struct buf crl_der = { 0 }, rep = { 0 };
	struct scept_certrep got;
	int n;

	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(f->pki.ca_cert));
	ASN1_TIME *t = ASN1_TIME_set(NULL, time(NULL));
	X509_CRL_set1_lastUpdate(crl, t);
	X509_CRL_sign(crl, f->pki.ca_key, EVP_sha256());
	n = i2d_X509_CRL(crl, &der);
	buf_set(&crl_der, der, (size_t)n);
	if (scep_reply_success(req, NULL, 0, &crl_der, &f->signops, &rep) != 0)
		fail_msg("%s", err_msg(-1));
	scept_check_certrep(&rep, &f->pki, req, ckey, ccert, f->legacy, &got);
	assert_int_equal(got.n_certs, 0);
	assert_int_equal(got.n_crls, 1);
	scept_certrep_free(&got);
	ASN1_TIME_free(t);
	OPENSSL_free(der);
	X509_CRL_free(crl);
	buf_free(&crl_der);
	buf_free(&rep);
	X509_free(ccert);
	EVP_PKEY_free(ckey);
	scep_msg_free(req);
}

/* What i2d_PKCS7 writes for a degenerate SignedData (id-data without eContent) of certs and crl:
 * scep_certs_only writes it by hand and must give the same bytes. */
static void
openssl_certs_only(X509 *const *certs, size_t n, X509_CRL *crl, struct buf *out)
{
	PKCS7 *p7 = PKCS7_new();
	unsigned char *der = NULL;
	int len;

	assert_non_null(p7);
	assert_true(PKCS7_set_type(p7, NID_pkcs7_signed));
	p7->d.sign->contents->type = OBJ_nid2obj(NID_pkcs7_data);
	for (size_t i = 0; i < n; i++)
		assert_true(PKCS7_add_certificate(p7, certs[i]));
	if (crl != NULL)
		assert_true(PKCS7_add_crl(p7, crl));
	len = i2d_PKCS7(p7, &der);
	assert_true(len > 0);
	assert_int_equal(buf_set(out, der, (size_t)len), 0);
	OPENSSL_free(der);
	PKCS7_free(p7);
}

static void
test_certs_only_bytes(void **state)
{
	struct fx *f = *state;
	X509 *three[3] = { f->pki.ra_cert, f->pki.ca_cert, f->pki.root_cert };
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, time(NULL));
	struct buf der[3] = { { 0 }, { 0 }, { 0 } }, crl_der = { 0 }, got = { 0 }, want = { 0 };
	unsigned char *c = NULL;
	int n;

	for (int i = 0; i < 3; i++)
		scept_der(three[i], &der[i]);
	X509_CRL_set_version(crl, 1);
	X509_CRL_set_issuer_name(crl, X509_get_subject_name(f->pki.ca_cert));
	X509_CRL_set1_lastUpdate(crl, t);
	assert_true(X509_CRL_sign(crl, f->pki.ca_key, EVP_sha256()) > 0);
	n = i2d_X509_CRL(crl, &c);
	assert_int_equal(buf_set(&crl_der, c, (size_t)n), 0);
	/* 1 and 3 certificates, certificates and a CRL, a CRL alone. */
	for (size_t k = 0; k < 4; k++) {
		size_t nc = k == 0 ? 1 : k == 1 ? 3 : k == 2 ? 2 : 0;
		X509_CRL *with = k >= 2 ? crl : NULL;

		openssl_certs_only(three, nc, with, &want);
		assert_int_equal(scep_certs_only(der, nc, with != NULL ? &crl_der : NULL, &got), 0);
		assert_int_equal(got.len, want.len);
		assert_memory_equal(got.data, want.data, want.len);
		buf_free(&got);
		buf_free(&want);
	}
	/* Not one DER SEQUENCE: refused, nothing out. */
	der[1].len++;
	assert_int_equal(scep_certs_only(der, 3, NULL, &got), HSMCA_E_INVALID);
	der[1].len -= 2;
	assert_int_equal(scep_certs_only(der, 3, NULL, &got), HSMCA_E_INVALID);
	der[1].len++;
	der[1].data[0] = 0x31;
	assert_int_equal(scep_certs_only(der, 3, NULL, &got), HSMCA_E_INVALID);
	crl_der.len--;
	assert_int_equal(scep_certs_only(der, 1, &crl_der, &got), HSMCA_E_INVALID);
	assert_int_equal(scep_certs_only(der, 0, NULL, &got), HSMCA_E_INVALID);
	assert_null(got.data);
	for (int i = 0; i < 3; i++)
		buf_free(&der[i]);
	buf_free(&crl_der);
	OPENSSL_free(c);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
}

static void
test_caps_and_cacert(void **state)
{
	struct fx *f = *state;
	struct buf out = { 0 }, ra = { 0 }, chain[2] = { { 0 }, { 0 } };
	const char *ct;
	PKCS7 *p7;
	const unsigned char *p;

	assert_int_equal(scep_caps_text(0, &out), 0);
	assert_string_equal((char *)out.data, "POSTPKIOperation\nSHA-256\nSHA-512\nAES\nSCEPStandard\n");
	assert_int_equal(scep_caps_text(SCEP_CAPS_RENEWAL | SCEP_CAPS_GETNEXTCACERT, &out), 0);
	assert_non_null(strstr((char *)out.data, "\nRenewal\n"));
	assert_non_null(strstr((char *)out.data, "\nGetNextCACert\n"));
	buf_free(&out);

	scept_der(f->pki.ra_cert, &ra);
	scept_der(f->pki.ca_cert, &chain[0]);
	scept_der(f->pki.root_cert, &chain[1]);
	assert_int_equal(scep_cacert_body(&ra, chain, 2, &out, &ct), 0);
	assert_string_equal(ct, "application/x-x509-ca-ra-cert");
	p = out.data;
	p7 = d2i_PKCS7(NULL, &p, (long)out.len);
	assert_non_null(p7);
	assert_true(PKCS7_type_is_signed(p7));
	assert_int_equal(sk_PKCS7_SIGNER_INFO_num(p7->d.sign->signer_info), 0);
	assert_true(PKCS7_get_detached(p7));     /* eContent absent: degenerate */
	assert_int_equal(sk_X509_num(p7->d.sign->cert), 3);
	assert_int_equal(X509_cmp(sk_X509_value(p7->d.sign->cert, 0), f->pki.ra_cert), 0);
	assert_int_equal(X509_cmp(sk_X509_value(p7->d.sign->cert, 1), f->pki.ca_cert), 0);
	assert_int_equal(X509_cmp(sk_X509_value(p7->d.sign->cert, 2), f->pki.root_cert), 0);
	PKCS7_free(p7);
	/* Without an RA: the CA certificate itself. */
	assert_int_equal(scep_cacert_body(NULL, chain, 2, &out, &ct), 0);
	assert_string_equal(ct, "application/x-x509-ca-cert");
	assert_int_equal(out.len, chain[0].len);
	assert_memory_equal(out.data, chain[0].data, out.len);
	/* Garbage in, no body out. */
	chain[0].len--;
	assert_int_equal(scep_cacert_body(&ra, chain, 2, &out, &ct), HSMCA_E_INVALID);
	assert_null(out.data);
	assert_null(ct);
	assert_int_equal(scep_cacert_body(&ra, chain, 0, &out, &ct), HSMCA_E_INVALID);
	buf_free(&ra);
	buf_free(&chain[0]);
	buf_free(&chain[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_caps_and_cacert),
		cmocka_unit_test(test_certs_only_bytes),
		cmocka_unit_test(test_success_each_cipher),
		cmocka_unit_test(test_success_crl),
		cmocka_unit_test(test_failure_pending),
		cmocka_unit_test(test_failure_for_bad_message),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
