/*
 * test_ocsp.c: the OCSP responder with a real token and database. Requests made by OpenSSL
 * (SHA-1 and SHA-256 CertIDs, nonce), responses checked with OCSP_basic_verify against the CA
 * certificate, OCSP_check_nonce and OCSP_resp_find_status, and by `openssl ocsp -respin`; good,
 * revoked (time and reason) and unknown; unknown CA -> unauthorized; malformed, truncated,
 * bit-flipped and trailing-byte requests -> malformedRequest, never a crash. After a rollover, each
 * key answers (and signs) for the certificates it issued only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "ocsp.h"
#include "revoke_testutil.h"

static struct ca_fx fx;
static struct db_ca *ca, *other;
static EVP_PKEY *key;
static struct issue_result good, bad, foreign;
static X509 *ca_x, *other_x, *good_x, *bad_x, *foreign_x;

static X509 *
cert_of(const struct buf *der)
{
	const unsigned char *p = der->data;

	return d2i_X509(NULL, &p, (long)der->len);
}

static int
group_setup(void **state)
{
	struct ca_create_req r = { .name = "OCSP CA", .key_spec = "rsa-2048", .pathlen = -1 };
	struct ca_create_req o = { .name = "Other CA", .key_spec = "ec-256", .pathlen = -1 };

	(void)state;
	if (ca_fx_open(&fx) != 0 || ca_create_root(fx.ctx, &r, &ca) != 0 || ca_create_root(fx.ctx, &o, &other) != 0) {
		fprintf(stderr, "setup: %s\n", err_msg(-1));
		return -1;
	}
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rv_issue(&fx, "ocsp-ca", key, "good.example", &good);
	rv_issue(&fx, "ocsp-ca", key, "bad.example", &bad);
	rv_issue(&fx, "other-ca", key, "foreign.example", &foreign);
	if (rv_revoke(&fx, bad.certificate_id, REVOKE_REASON_KEY_COMPROMISE, NULL) != 0)
		return -1;
	ca_x = cert_of(&ca->cert_der);
	other_x = cert_of(&other->cert_der);
	good_x = cert_of(&good.cert_der);
	bad_x = cert_of(&bad.cert_der);
	foreign_x = cert_of(&foreign.cert_der);
	return key != NULL && ca_x != NULL && good_x != NULL && bad_x != NULL && foreign_x != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	X509_free(ca_x);
	X509_free(other_x);
	X509_free(good_x);
	X509_free(bad_x);
	X509_free(foreign_x);
	issue_result_free(&good);
	issue_result_free(&bad);
	issue_result_free(&foreign);
	EVP_PKEY_free(key);
	db_ca_free(ca);
	db_ca_free(other);
	ca_fx_close(&fx);
	return 0;
}

static OCSP_RESPONSE *
respond(const char *slug, const unsigned char *der, size_t len, int want_status)
{
	struct buf resp = { 0 };
	const unsigned char *p;
	OCSP_RESPONSE *r;

	assert_int_equal(ocsp_respond(fx.ctx, slug, der, len, &resp), 0);
	p = resp.data;
	r = d2i_OCSP_RESPONSE(NULL, &p, (long)resp.len);
	assert_non_null(r);
	assert_ptr_equal(p, resp.data + resp.len);
	assert_int_equal(OCSP_response_status(r), want_status);
	buf_free(&resp);
	return r;
}

static unsigned char *
request_der(OCSP_REQUEST *req, int *len)
{
	unsigned char *der = NULL;

	*len = i2d_OCSP_REQUEST(req, &der);
	assert_true(*len > 0);
	return der;
}

static void
test_statuses(void **state)
{
	const EVP_MD *mds[2] = { EVP_sha1(), EVP_sha256() };
	int m;

	(void)state;
	for (m = 0; m < 2; m++) {
		OCSP_REQUEST *req = OCSP_REQUEST_new();
		OCSP_CERTID *id_good = OCSP_cert_to_id(mds[m], good_x, ca_x);
		OCSP_CERTID *id_bad = OCSP_cert_to_id(mds[m], bad_x, ca_x);
		OCSP_CERTID *id_unknown = OCSP_cert_id_new(mds[m], X509_get_subject_name(ca_x),
		    X509_get0_pubkey_bitstr(ca_x), X509_get_serialNumber(foreign_x));   /* serial not ours */
		OCSP_CERTID *id_wrong_issuer = OCSP_cert_to_id(mds[m], good_x, other_x);
		OCSP_RESPONSE *resp;
		OCSP_BASICRESP *bs;
		STACK_OF(X509) *certs = sk_X509_new_null();
		X509_STORE *store = X509_STORE_new();
		ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
		unsigned char *der;
		int len, status, reason;

		OCSP_request_add0_id(req, OCSP_CERTID_dup(id_good));
		OCSP_request_add0_id(req, OCSP_CERTID_dup(id_bad));
		OCSP_request_add0_id(req, OCSP_CERTID_dup(id_unknown));
		assert_int_equal(OCSP_request_add1_nonce(req, NULL, 16), 1);
		der = request_der(req, &len);
		resp = respond("ocsp-ca", der, (size_t)len, OCSP_RESPONSE_STATUS_SUCCESSFUL);
		bs = OCSP_response_get1_basic(resp);
		assert_non_null(bs);
		assert_int_equal(OCSP_check_nonce(req, bs), 1);
		sk_X509_push(certs, ca_x);
		X509_STORE_add_cert(store, ca_x);
		assert_int_equal(OCSP_basic_verify(bs, certs, store, 0), 1);
		/* and it does not verify against another CA */
		{
			STACK_OF(X509) *oc = sk_X509_new_null();
			X509_STORE *os = X509_STORE_new();

			sk_X509_push(oc, other_x);
			X509_STORE_add_cert(os, other_x);
			assert_int_not_equal(OCSP_basic_verify(bs, oc, os, OCSP_NOCHAIN), 1);
			sk_X509_free(oc);
			X509_STORE_free(os);
			ERR_clear_error();
		}
		assert_int_equal(OCSP_resp_count(bs), 3);
		assert_int_equal(OCSP_resp_find_status(bs, id_good, &status, &reason, &rev, &thisupd, &nextupd), 1);
		assert_int_equal(status, V_OCSP_CERTSTATUS_GOOD);
		assert_null(nextupd);
		assert_int_equal(OCSP_check_validity(thisupd, nextupd, 300, -1), 1);
		assert_int_equal(OCSP_resp_find_status(bs, id_bad, &status, &reason, &rev, &thisupd, &nextupd), 1);
		assert_int_equal(status, V_OCSP_CERTSTATUS_REVOKED);
		assert_int_equal(reason, REVOKE_REASON_KEY_COMPROMISE);
		assert_non_null(rev);
		assert_true(ASN1_TIME_cmp_time_t(rev, time(NULL) + 5) < 0);
		assert_true(ASN1_TIME_cmp_time_t(rev, time(NULL) - 600) > 0);
		assert_int_equal(OCSP_resp_find_status(bs, id_unknown, &status, &reason, &rev, &thisupd, &nextupd), 1);
		assert_int_equal(status, V_OCSP_CERTSTATUS_UNKNOWN);
		/* A CertID naming another issuer, alone in its request (OpenSSL's verifier refuses
		 * responses mixing issuers): unknown, and still signed by this CA. */
		{
			OCSP_REQUEST *req2 = OCSP_REQUEST_new();
			OCSP_RESPONSE *resp2;
			OCSP_BASICRESP *bs2;
			unsigned char *der2;
			int len2;

			OCSP_request_add0_id(req2, OCSP_CERTID_dup(id_wrong_issuer));
			der2 = request_der(req2, &len2);
			resp2 = respond("ocsp-ca", der2, (size_t)len2, OCSP_RESPONSE_STATUS_SUCCESSFUL);
			assert_non_null(bs2 = OCSP_response_get1_basic(resp2));
			assert_int_equal(OCSP_check_nonce(req2, bs2), 2);   /* no nonce asked, none sent */
			assert_int_equal(OCSP_basic_verify(bs2, certs, store, OCSP_NOCHECKS), 1);
			assert_int_equal(OCSP_resp_find_status(bs2, id_wrong_issuer, &status, &reason, &rev, &thisupd,
			    &nextupd), 1);
			assert_int_equal(status, V_OCSP_CERTSTATUS_UNKNOWN);
			OCSP_BASICRESP_free(bs2);
			OCSP_RESPONSE_free(resp2);
			OPENSSL_free(der2);
			OCSP_REQUEST_free(req2);
		}

		if (m == 1) {
			/* `openssl ocsp` reads the same answer. */
			char reqp[400], respp[400], cap[400], cmd[2000];
			struct buf rd = { 0 };
			unsigned char *rder = NULL;
			int rl = i2d_OCSP_RESPONSE(resp, &rder);

			rv_write(&fx, "req.der", der, (size_t)len, reqp, sizeof(reqp));
			rv_write(&fx, "resp.der", rder, (size_t)rl, respp, sizeof(respp));
			snprintf(cap, sizeof(cap), "%s/ocsp-ca.pem", fx.dir);
			rv_append_pem(&ca->cert_der, cap);
			(void)rd;
			snprintf(cmd, sizeof(cmd), "openssl ocsp -reqin %s -respin %s -CAfile %s 2>&1 | "
			    "grep -q 'Response verify OK'", reqp, respp, cap);
			assert_int_equal(system(cmd), 0);
			snprintf(cmd, sizeof(cmd), "openssl ocsp -respin %s -CAfile %s -VAfile %s -resp_text 2>&1 | "
			    "grep -q 'Revocation Reason: keyCompromise'", respp, cap, cap);
			assert_int_equal(system(cmd), 0);
			OPENSSL_free(rder);
		}
		sk_X509_free(certs);
		X509_STORE_free(store);
		OCSP_BASICRESP_free(bs);
		OCSP_RESPONSE_free(resp);
		OPENSSL_free(der);
		OCSP_CERTID_free(id_good);
		OCSP_CERTID_free(id_bad);
		OCSP_CERTID_free(id_unknown);
		OCSP_CERTID_free(id_wrong_issuer);
		OCSP_REQUEST_free(req);
	}
}

/* One CertID of cert under issuer, answered by the "roll-ca" responder; the status, and whether
 * the response verifies with signer alone as the trusted responder certificate. */
static int
rolled_status(X509 *cert, X509 *issuer, X509 *signer, int *verifies)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), cert, issuer);
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509_STORE *store = X509_STORE_new();
	OCSP_RESPONSE *resp;
	OCSP_BASICRESP *bs;
	unsigned char *der;
	int len, status = -1, reason;

	OCSP_request_add0_id(req, OCSP_CERTID_dup(id));
	der = request_der(req, &len);
	resp = respond("roll-ca", der, (size_t)len, OCSP_RESPONSE_STATUS_SUCCESSFUL);
	assert_non_null(bs = OCSP_response_get1_basic(resp));
	sk_X509_push(certs, signer);
	X509_STORE_add_cert(store, signer);
	*verifies = OCSP_basic_verify(bs, certs, store, OCSP_NOCHAIN | OCSP_NOEXPLICIT) == 1;
	ERR_clear_error();
	assert_int_equal(OCSP_resp_find_status(bs, id, &status, &reason, NULL, NULL, NULL), 1);
	sk_X509_free(certs);
	X509_STORE_free(store);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	OPENSSL_free(der);
	OCSP_CERTID_free(id);
	OCSP_REQUEST_free(req);
	return status;
}

/* After a rollover, a certificate issued under the old key is answered by the old key (RFC 6960
 * 4.2.2.2: the issuer signs), one issued under the new key by the new one, and neither key
 * answers for the other's certificates. */
static void
test_rolled_over_key(void **state)
{
	struct ca_create_req r = { .name = "Roll CA", .key_spec = "ec-256", .pathlen = -1 };
	struct db_ca *roll = NULL, *rolled = NULL;
	struct issue_result old_leaf, new_leaf;
	X509 *old_ca, *new_ca, *old_x, *new_x;
	int ok;

	(void)state;
	assert_int_equal(ca_create_root(fx.ctx, &r, &roll), 0);
	rv_issue(&fx, "roll-ca", key, "old.example", &old_leaf);
	rv_roll(&fx, roll, &rolled);
	assert_int_equal(rolled->key_gen, 2);
	rv_issue(&fx, "roll-ca", key, "new.example", &new_leaf);
	old_ca = cert_of(&roll->cert_der);
	new_ca = cert_of(&rolled->cert_der);
	old_x = cert_of(&old_leaf.cert_der);
	new_x = cert_of(&new_leaf.cert_der);

	assert_int_equal(rolled_status(old_x, old_ca, old_ca, &ok), V_OCSP_CERTSTATUS_GOOD);
	assert_true(ok);
	assert_int_equal(rolled_status(old_x, old_ca, new_ca, &ok), V_OCSP_CERTSTATUS_GOOD);
	assert_false(ok);   /* signed by the old key, not the new one */
	assert_int_equal(rolled_status(new_x, new_ca, new_ca, &ok), V_OCSP_CERTSTATUS_GOOD);
	assert_true(ok);
	/* A serial asked under the other key's certificate is not that key's: unknown. */
	assert_int_equal(rolled_status(old_x, new_ca, new_ca, &ok), V_OCSP_CERTSTATUS_UNKNOWN);
	assert_true(ok);
	assert_int_equal(rolled_status(new_x, old_ca, old_ca, &ok), V_OCSP_CERTSTATUS_UNKNOWN);
	assert_true(ok);
	assert_int_equal(rv_revoke(&fx, old_leaf.certificate_id, REVOKE_REASON_SUPERSEDED, NULL), 0);
	assert_int_equal(rolled_status(old_x, old_ca, old_ca, &ok), V_OCSP_CERTSTATUS_REVOKED);
	assert_true(ok);
	assert_int_equal(rolled_status(new_x, new_ca, new_ca, &ok), V_OCSP_CERTSTATUS_GOOD);

	X509_free(old_ca);
	X509_free(new_ca);
	X509_free(old_x);
	X509_free(new_x);
	issue_result_free(&old_leaf);
	issue_result_free(&new_leaf);
	db_ca_free(rolled);
	db_ca_free(roll);
}

static void
test_errors_and_mutations(void **state)
{
	OCSP_REQUEST *req = OCSP_REQUEST_new();
	OCSP_RESPONSE *resp;
	unsigned char *der, *m;
	struct buf out = { 0 }, dec = { 0 };
	int len, i, bit;
	char b64[4096];

	(void)state;
	OCSP_request_add0_id(req, OCSP_cert_to_id(NULL, good_x, ca_x));
	OCSP_request_add1_nonce(req, NULL, 8);
	der = request_der(req, &len);
	/* unknown CA */
	OCSP_RESPONSE_free(respond("no-such-ca", der, (size_t)len, OCSP_RESPONSE_STATUS_UNAUTHORIZED));
	/* garbage, empty, trailing bytes */
	OCSP_RESPONSE_free(respond("ocsp-ca", (const unsigned char *)"hello", 5, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST));
	OCSP_RESPONSE_free(respond("ocsp-ca", der, 0, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST));
	m = malloc((size_t)len + 1);
	memcpy(m, der, (size_t)len);
	m[len] = 0;
	OCSP_RESPONSE_free(respond("ocsp-ca", m, (size_t)len + 1, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST));
	/* every truncation is malformed; every bit flip gets some well-formed OCSPResponse */
	for (i = 1; i < len; i++)
		OCSP_RESPONSE_free(respond("ocsp-ca", der, (size_t)i, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST));
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 8; bit += 3) {
			const unsigned char *p;
			OCSP_RESPONSE *r;

			memcpy(m, der, (size_t)len);
			m[i] ^= (unsigned char)(1 << bit);
			assert_int_equal(ocsp_respond(fx.ctx, "ocsp-ca", m, (size_t)len, &out), 0);
			p = out.data;
			r = d2i_OCSP_RESPONSE(NULL, &p, (long)out.len);
			assert_non_null(r);
			OCSP_RESPONSE_free(r);
			buf_free(&out);
		}
	}
	/* too many CertIDs */
	{
		OCSP_REQUEST *big = OCSP_REQUEST_new();
		unsigned char *bd;
		int bl;

		for (i = 0; i < OCSP_MAX_CERTIDS + 1; i++)
			OCSP_request_add0_id(big, OCSP_cert_to_id(NULL, good_x, ca_x));
		bd = request_der(big, &bl);
		OCSP_RESPONSE_free(respond("ocsp-ca", bd, (size_t)bl, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST));
		OPENSSL_free(bd);
		OCSP_REQUEST_free(big);
	}
	/* GET form */
	assert_true(EVP_EncodeBlock((unsigned char *)b64, der, len) > 0);
	assert_int_equal(ocsp_get_decode(b64, &dec), 0);
	assert_int_equal(dec.len, (size_t)len);
	assert_memory_equal(dec.data, der, dec.len);
	resp = respond("ocsp-ca", dec.data, dec.len, OCSP_RESPONSE_STATUS_SUCCESSFUL);
	OCSP_RESPONSE_free(resp);
	buf_free(&dec);
	assert_int_equal(ocsp_get_decode("abc", &dec), HSMCA_E_INVALID);
	assert_int_equal(ocsp_get_decode("ab!d", &dec), HSMCA_E_INVALID);
	free(m);
	OPENSSL_free(der);
	OCSP_REQUEST_free(req);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statuses),
		cmocka_unit_test(test_errors_and_mutations),
		cmocka_unit_test(test_rolled_over_key),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
