/* test_issue.c: issue.c with a real SoftHSM token and database: root (ec-384) -> intermediate
 * (rsa-2048) -> server/client/subca leaves; chain verification, extensions, validity clipping,
 * serials, the order and audit rows, refusals that change nothing, and a token failure that
 * leaves a failed order and no certificate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "audit.h"
#include "ca.h"
#include "ca_testutil.h"
#include "db_certs.h"
#include "db_orders.h"
#include "issue.h"
#include "x509_build.h"

static struct ca_fx fx;
static struct db_ca *root, *inter;
static EVP_PKEY *rsa_key, *ec_key;

static int
group_setup(void **state)
{
	struct ca_create_req r = { .name = "Test Root", .key_spec = "ec-384", .pathlen = -1 };
	struct ca_create_req i = { .name = "Test Inter", .key_spec = "rsa-2048", .days = 400,
		.parent_slug = "test-root", .pathlen = -1 };

	(void)state;
	if (ca_fx_open(&fx) != 0 || ca_create_root(fx.ctx, &r, &root) != 0 ||
	    ca_create_intermediate(fx.ctx, &i, &inter) != 0) {
		fprintf(stderr, "setup: %s\n", err_msg(-1));
		return -1;
	}
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return rsa_key != NULL && ec_key != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	db_ca_free(inter);
	db_ca_free(root);
	ca_fx_close(&fx);
	return 0;
}

static unsigned char *
make_csr(EVP_PKEY *key, const char *cn, const char *san, int *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts;
	unsigned char *der = NULL;

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, key);
	if (san != NULL) {
		exts = sk_X509_EXTENSION_new_null();
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, san));
		X509_REQ_add_extensions(req, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	assert_true(X509_REQ_sign(req, key, EVP_sha256()) > 0);
	*len = i2d_X509_REQ(req, &der);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return der;
}

static int
do_issue(const char *ca, EVP_PKEY *key, const char *cn, const char *san, enum issue_profile p, int days,
    struct issue_result *res)
{
	struct issue_req req;
	unsigned char *der;
	int len, rc;

	der = make_csr(key, cn, san, &len);
	memset(&req, 0, sizeof(req));
	req.ca_slug = ca;
	req.csr_der = der;
	req.csr_len = (size_t)len;
	req.profile = p;
	req.days = days;
	req.requested_by = "test";
	rc = issue_from_csr(fx.ctx, &req, res);
	OPENSSL_free(der);
	return rc;
}

static X509 *
parse(const struct buf *der)
{
	X509 *x = NULL;

	assert_int_equal(x509b_parse_cert(der->data, der->len, &x), 0);
	return x;
}

static char *
ext_text(X509 *x, int nid)
{
	BIO *bio = BIO_new(BIO_s_mem());
	BUF_MEM *mem;
	char *s;
	int idx = X509_get_ext_by_NID(x, nid, -1);

	if (idx < 0) {
		BIO_free(bio);
		return strdup("");
	}
	X509V3_EXT_print(bio, X509_get_ext(x, idx), 0, 0);
	BIO_get_mem_ptr(bio, &mem);
	s = strndup(mem->data, mem->length);
	BIO_free(bio);
	return s;
}

static void
assert_ext(X509 *x, int nid, const char *want)
{
	char *t = ext_text(x, nid);

	if (strstr(t, want) == NULL)
		fail_msg("%s lacks '%s': %s", OBJ_nid2sn(nid), want, t);
	free(t);
}

static void
verify_chain(X509 *leaf)
{
	X509 *r = NULL, *i = NULL;
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	STACK_OF(X509) *untrusted = sk_X509_new_null();

	assert_int_equal(x509b_parse_cert(root->cert_der.data, root->cert_der.len, &r), 0);
	assert_int_equal(x509b_parse_cert(inter->cert_der.data, inter->cert_der.len, &i), 0);
	X509_STORE_add_cert(store, r);
	sk_X509_push(untrusted, i);
	assert_int_equal(X509_STORE_CTX_init(sctx, store, leaf, untrusted), 1);
	if (X509_verify_cert(sctx) != 1)
		fail_msg("chain does not verify: %s", X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx)));
	X509_STORE_CTX_free(sctx);
	X509_STORE_free(store);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(r);
}

static void
test_server_leaf(void **state)
{
	struct issue_result res;
	struct db_cert *row = NULL;
	struct db_order *order = NULL;
	X509 *x;
	char hex[64], fpr[X509B_SHA256_HEX];
	int64_t nb, bad = -1, now = (int64_t)time(NULL);

	(void)state;
	if (do_issue("test-inter", rsa_key, "www.example.test",
	    "DNS:www.example.test,DNS:api.example.test,IP:192.0.2.7", ISSUE_PROFILE_SERVER, 90, &res) != 0)
		fail_msg("issue: %s", err_msg(-1));
	x = parse(&res.cert_der);
	verify_chain(x);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_ext(x, NID_authority_key_identifier, "");
	{
		X509 *ix = parse(&inter->cert_der);

		assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x), X509_get0_subject_key_id(ix)), 0);
		X509_free(ix);
	}
	assert_ext(x, NID_crl_distribution_points, "URI:http://localhost:8080/crl/test-inter.crl");
	assert_ext(x, NID_info_access, "CA Issuers - URI:http://localhost:8080/ca/test-inter.crt");
	assert_ext(x, NID_info_access, "OCSP - URI:http://localhost:8080/ocsp/test-inter");
	assert_ext(x, NID_subject_alt_name, "DNS:www.example.test, DNS:api.example.test, IP Address:192.0.2.7");
	assert_ext(x, NID_ext_key_usage, "TLS Web Server Authentication");
	assert_ext(x, NID_key_usage, "Digital Signature, Key Encipherment");
	assert_ext(x, NID_basic_constraints, "CA:FALSE");
	/* Validity: now - 5 min .. + 90 days. */
	assert_int_equal(x509b_time_ms(X509_get0_notBefore(x), &nb), 0);
	assert_true(nb / 1000 >= now - 300 - 5 && nb / 1000 <= now - 300 + 5);
	/* Serial: 16 bytes, positive, stored as uppercase hex. */
	assert_int_equal(x509b_serial_hex(X509_get0_serialNumber(x), hex, sizeof(hex)), 0);
	assert_int_equal(strlen(hex), 32);
	assert_string_equal(hex, res.serial);
	assert_int_equal(db_certs_get_by_serial(fx.ctx->db, res.serial, &row), 0);
	assert_int_equal(row->id, res.certificate_id);
	assert_int_equal(row->ca_id, inter->id);
	assert_string_equal(row->subject, "CN=www.example.test");
	assert_string_equal(row->common_name, "www.example.test");
	assert_string_equal(row->sans, "[\"DNS:www.example.test\",\"DNS:api.example.test\",\"IP:192.0.2.7\"]");
	assert_string_equal(row->key_algorithm, "rsa-2048");
	assert_string_equal(row->digest, "sha256");
	assert_string_equal(row->source, "managed");
	assert_string_equal(row->profile, "server");
	assert_int_equal(row->order_id, res.order_id);
	assert_int_equal(x509b_sha256_hex(res.cert_der.data, res.cert_der.len, fpr), 0);
	assert_string_equal(row->fingerprint_sha256, fpr);
	assert_int_equal(row->der.len, res.cert_der.len);
	assert_string_equal(db_cert_status(row, db_now_ms()), "active");
	assert_int_equal(db_orders_get(fx.ctx->db, res.order_id, &order), 0);
	assert_string_equal(order->status, "complete");
	assert_string_equal(order->type, "csr");
	assert_string_equal(order->requested_by, "test");
	assert_int_equal(order->certificate_id, res.certificate_id);
	assert_non_null(strstr(order->params, "\"profile\":\"server\""));
	assert_int_equal(audit_verify(fx.ctx->db, &bad), 0);
	assert_int_equal(bad, 0);
	db_order_free(order);
	db_cert_free(row);
	X509_free(x);
	issue_result_free(&res);
}

static void
test_ec_client_and_cn_san(void **state)
{
	struct issue_result res;
	X509 *x;

	(void)state;
	assert_int_equal(do_issue("test-inter", ec_key, "client one", "email:c@example.test", ISSUE_PROFILE_CLIENT, 0, &res), 0);
	x = parse(&res.cert_der);
	verify_chain(x);
	assert_ext(x, NID_ext_key_usage, "TLS Web Client Authentication");
	{
		char *ku = ext_text(x, NID_key_usage);

		assert_string_equal(ku, "Digital Signature");   /* no keyEncipherment for EC */
		free(ku);
	}
	X509_free(x);
	issue_result_free(&res);

	/* No SAN, host-like CN: the CN becomes a DNS SAN. */
	assert_int_equal(do_issue("test-inter", ec_key, "cn-only.example.test", NULL, ISSUE_PROFILE_SERVER, 30, &res), 0);
	x = parse(&res.cert_der);
	assert_ext(x, NID_subject_alt_name, "DNS:cn-only.example.test");
	X509_free(x);
	issue_result_free(&res);
}

static void
test_validity_clipped(void **state)
{
	struct issue_result res;
	int64_t na;
	X509 *x;

	(void)state;
	/* The intermediate lives 400 days; ask for 3650. */
	assert_int_equal(do_issue("test-inter", ec_key, "long.example.test", NULL, ISSUE_PROFILE_SERVER, 3650, &res), 0);
	x = parse(&res.cert_der);
	assert_int_equal(x509b_time_ms(X509_get0_notAfter(x), &na), 0);
	assert_int_equal(na, inter->not_after_ms);
	verify_chain(x);
	X509_free(x);
	issue_result_free(&res);
}

static void
test_subca(void **state)
{
	struct issue_result res;
	struct db_cert *row = NULL;
	int64_t ms;
	X509 *x;

	(void)state;
	assert_int_equal(do_issue("test-root", ec_key, "Sub CA", NULL, ISSUE_PROFILE_SUBCA, 100, &res), 0);
	x = parse(&res.cert_der);
	assert_int_equal(X509_check_ca(x), 1);
	/* The stored row, read from the TBS that was built: the P-384 root signs with SHA-384. */
	assert_int_equal(db_certs_get_by_id(fx.ctx->db, res.certificate_id, &row), 0);
	assert_string_equal(row->digest, "sha384");
	assert_string_equal(row->issuer, "CN=Test Root");
	assert_int_equal(x509b_time_ms(X509_get0_notBefore(x), &ms), 0);
	assert_int_equal(row->not_before_ms, ms);
	assert_int_equal(x509b_time_ms(X509_get0_notAfter(x), &ms), 0);
	assert_int_equal(row->not_after_ms, ms);
	db_cert_free(row);
	assert_int_equal(X509_get_pathlen(x), 0);
	assert_ext(x, NID_key_usage, "Certificate Sign, CRL Sign");
	assert_int_equal(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
	X509_free(x);
	issue_result_free(&res);
}

static void
test_unique_serials(void **state)
{
	struct issue_result res;
	char serials[20][X509B_SERIAL_HEX];
	int i, k;

	(void)state;
	for (i = 0; i < 20; i++) {
		assert_int_equal(do_issue("test-inter", ec_key, "many.example.test", NULL, ISSUE_PROFILE_SERVER, 1, &res), 0);
		memcpy(serials[i], res.serial, sizeof(serials[i]));
		assert_int_equal(strlen(serials[i]), 32);
		assert_true(strchr("01234567", serials[i][0]) != NULL);   /* top bit clear */
		assert_false(serials[i][0] == '0' && serials[i][1] == '0');   /* first byte non-zero */
		for (k = 0; k < i; k++)
			assert_string_not_equal(serials[i], serials[k]);
		issue_result_free(&res);
	}
}

static void
expect_unchanged(int rc, int want, const char *words, const char *before)
{
	char after[256];

	if (rc != want)
		fail_msg("rc %d (%s), wanted %d", rc, err_msg(rc), want);
	if (strstr(err_msg(rc), words) == NULL)
		fail_msg("detail '%s' lacks '%s'", err_msg(rc), words);
	ca_fx_counts(&fx, after, sizeof(after));
	assert_string_equal(before, after);
}

static void
test_refusals_change_nothing(void **state)
{
	struct issue_result res;
	struct issue_req req;
	EVP_PKEY *weak = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	unsigned char *der;
	char before[256];
	int len;

	(void)state;
	ca_fx_counts(&fx, before, sizeof(before));
	err_clear();
	expect_unchanged(do_issue("no-such-ca", ec_key, "x.example.test", NULL, ISSUE_PROFILE_SERVER, 1, &res),
	    HSMCA_E_NOTFOUND, "no-such-ca", before);
	expect_unchanged(do_issue("test-inter", weak, "x.example.test", NULL, ISSUE_PROFILE_SERVER, 1, &res),
	    HSMCA_E_POLICY, "1024", before);
	expect_unchanged(do_issue("test-inter", ec_key, "client one", NULL, ISSUE_PROFILE_SERVER, 1, &res),
	    HSMCA_E_POLICY, "server certificate needs", before);
	expect_unchanged(do_issue("test-inter", ec_key, "x", "email:a@b.test", ISSUE_PROFILE_SERVER, 1, &res),
	    HSMCA_E_POLICY, "DNS and IP", before);
	expect_unchanged(do_issue("test-inter", ec_key, "Sub", NULL, ISSUE_PROFILE_SUBCA, 1, &res),
	    HSMCA_E_POLICY, "pathlen 0", before);
	expect_unchanged(do_issue("test-inter", ec_key, "x.example.test", NULL, ISSUE_PROFILE_SERVER, 99999, &res),
	    HSMCA_E_INVALID, "days", before);

	der = make_csr(ec_key, "x.example.test", NULL, &len);
	der[len - 3] ^= 0x01;
	memset(&req, 0, sizeof(req));
	req.ca_slug = "test-inter";
	req.csr_der = der;
	req.csr_len = (size_t)len;
	expect_unchanged(issue_from_csr(fx.ctx, &req, &res), HSMCA_E_INVALID, "signature", before);
	req.csr_len = 10;
	expect_unchanged(issue_from_csr(fx.ctx, &req, &res), HSMCA_E_INVALID, "CSR", before);
	OPENSSL_free(der);
	EVP_PKEY_free(weak);
}

static void
test_token_key(void **state)
{
	struct issue_key_req req;
	struct issue_result res;
	struct db_cert *row = NULL;
	const char *sans[] = { "DNS:gen.example.test", "IP:10.0.0.9" };
	int exportable = -1;
	size_t keys;
	X509 *x;

	(void)state;
	keys = ca_fx_token_keys(&fx);
	memset(&req, 0, sizeof(req));
	req.ca_slug = "test-inter";
	req.key_spec = "ec-256";
	req.key_label = "endpoint-1";
	req.subject = "CN=gen.example.test";
	req.sans = sans;
	req.n_sans = 2;
	req.profile = ISSUE_PROFILE_SERVER;
	req.days = 30;
	if (issue_with_token_key(fx.ctx, &req, &res) != 0)
		fail_msg("issue_with_token_key: %s", err_msg(-1));
	assert_non_null(res.keyref);
	assert_int_equal(tok_key_is_exportable(fx.ctx->tok, res.keyref, &exportable), 0);
	assert_int_equal(exportable, 1);
	assert_int_equal(db_certs_get_by_serial(fx.ctx->db, res.serial, &row), 0);
	assert_string_equal(row->keyref, res.keyref);
	assert_string_equal(row->key_algorithm, "ec-256");
	x = parse(&res.cert_der);
	verify_chain(x);
	assert_ext(x, NID_subject_alt_name, "DNS:gen.example.test, IP Address:10.0.0.9");
	assert_int_equal(ca_fx_token_keys(&fx), keys + 1);
	X509_free(x);
	db_cert_free(row);
	issue_result_free(&res);

	/* Unknown CA: no key is left behind. */
	req.ca_slug = "no-such-ca";
	assert_int_equal(issue_with_token_key(fx.ctx, &req, &res), HSMCA_E_NOTFOUND);
	/* A subject the policy refuses (no host name for a server): the new key is deleted. */
	req.ca_slug = "test-inter";
	req.subject = "CN=not a host";
	req.sans = NULL;
	req.n_sans = 0;
	assert_int_equal(issue_with_token_key(fx.ctx, &req, &res), HSMCA_E_POLICY);
	assert_int_equal(ca_fx_token_keys(&fx), keys + 1);
}

/* x509b_new_cert_spki copies a CSR's key into exactly the TBS x509b_new_cert would build from
 * the decoded key (RSA and EC), and that TBS, signed by the token, passes x509b_check_signed;
 * a changed TBS, signature, algorithm, trailing byte or another key does not. */
static void
test_spki_copy_and_check_signed(void **state)
{
	EVP_PKEY *keys[2] = { rsa_key, ec_key };
	ASN1_INTEGER *sn = NULL;
	X509_REQ *req;
	X509 *a = NULL, *b = NULL, *ca_x = NULL;
	struct buf tbs_a = { 0 }, tbs_b = { 0 }, der = { 0 }, other = { 0 }, bad = { 0 };
	const unsigned char *p;
	unsigned char *csr;
	char hex[X509B_SERIAL_HEX], digest[32];
	int i, len;

	(void)state;
	assert_int_equal(ca_cert_get(inter, &ca_x), 0);
	for (i = 0; i < 2; i++) {
		csr = make_csr(keys[i], "spki.example.test", NULL, &len);
		p = csr;
		req = d2i_X509_REQ(NULL, &p, len);
		assert_non_null(req);
		assert_int_equal(x509b_random_serial(&sn, hex), 0);
		assert_int_equal(x509b_new_cert(sn, X509_REQ_get_subject_name(req), X509_get_subject_name(ca_x), 1000,
		    2000, X509_REQ_get0_pubkey(req), &a), 0);
		assert_int_equal(x509b_new_cert_spki(sn, X509_REQ_get_subject_name(req), X509_get_subject_name(ca_x),
		    1000, 2000, X509_REQ_get_X509_PUBKEY(req), &b), 0);
		assert_int_equal(x509b_add_ski(b), 0);
		assert_int_equal(x509b_add_ski(a), 0);
		assert_int_equal(x509b_tbs_der(a, inter->key_spec, &tbs_a), 0);
		assert_int_equal(x509b_tbs_der(b, inter->key_spec, &tbs_b), 0);
		assert_int_equal(tbs_a.len, tbs_b.len);
		assert_memory_equal(tbs_a.data, tbs_b.data, tbs_a.len);

		assert_int_equal(tok_sign_certificate(fx.ctx->tok, inter->keyref, tbs_b.data, tbs_b.len, &der), 0);
		assert_int_equal(x509b_check_signed(der.data, der.len, &tbs_b, X509_get0_pubkey(ca_x), digest,
		    sizeof(digest)), 0);
		assert_string_equal(digest, "sha256");
		/* another TBS (the other key's) */
		if (i == 1)
			assert_int_equal(x509b_check_signed(der.data, der.len, &other, X509_get0_pubkey(ca_x), digest,
			    sizeof(digest)), HSMCA_E_INVALID);
		/* another issuer key */
		assert_int_equal(x509b_check_signed(der.data, der.len, &tbs_b, ec_key, digest, sizeof(digest)),
		    HSMCA_E_INVALID);
		/* a flipped signature bit, then a trailing byte */
		assert_int_equal(buf_set(&bad, der.data, der.len), 0);
		bad.data[bad.len - 5] ^= 0x01;
		assert_int_equal(x509b_check_signed(bad.data, bad.len, &tbs_b, X509_get0_pubkey(ca_x), digest,
		    sizeof(digest)), HSMCA_E_INVALID);
		buf_free(&bad);
		bad.data = malloc(der.len + 1);
		assert_non_null(bad.data);
		memcpy(bad.data, der.data, der.len);
		bad.data[der.len] = 0;
		bad.len = der.len + 1;
		assert_int_equal(x509b_check_signed(bad.data, bad.len, &tbs_b, X509_get0_pubkey(ca_x), digest,
		    sizeof(digest)), HSMCA_E_INVALID);
		/* truncated */
		assert_int_equal(x509b_check_signed(der.data, der.len - 1, &tbs_b, X509_get0_pubkey(ca_x), digest,
		    sizeof(digest)), HSMCA_E_INVALID);
		buf_free(&bad);
		buf_free(&other);
		other = tbs_b;
		tbs_b.data = NULL;
		tbs_b.len = 0;
		buf_free(&tbs_a);
		buf_free(&der);
		X509_free(a);
		X509_free(b);
		ASN1_INTEGER_free(sn);
		X509_REQ_free(req);
		OPENSSL_free(csr);
		a = b = NULL;
		sn = NULL;
	}
	buf_free(&other);
	X509_free(ca_x);
}

/* ca_cert_get hands out one shared X509 per certificate, keyed by its bytes: a CA row whose
 * certificate changed (rollover, re-import) gets the new one at once; garbage is refused. */
static void
test_ca_cert_cache(void **state)
{
	struct db_ca changed;
	X509 *x1 = NULL, *x2 = NULL, *x3 = NULL, *want = NULL;
	uint8_t junk[3] = { 0x30, 0x01, 0x00 };

	(void)state;
	assert_int_equal(ca_cert_get(inter, &x1), 0);
	assert_int_equal(ca_cert_get(inter, &x2), 0);
	assert_ptr_equal(x1, x2);
	/* Same CA id, other certificate: the root's. */
	changed = *inter;
	changed.cert_der = root->cert_der;
	assert_int_equal(ca_cert_get(&changed, &x3), 0);
	assert_ptr_not_equal(x3, x1);
	assert_int_equal(x509b_parse_cert(root->cert_der.data, root->cert_der.len, &want), 0);
	assert_int_equal(X509_cmp(x3, want), 0);
	assert_int_equal(X509_cmp(x1, want) == 0, 0);
	/* The old reference stays valid after its slot was replaced. */
	assert_non_null(X509_get_subject_name(x1));
	changed.cert_der.data = junk;
	changed.cert_der.len = sizeof(junk);
	X509_free(x2);
	x2 = NULL;
	assert_int_equal(ca_cert_get(&changed, &x2), HSMCA_E_INVALID);
	assert_null(x2);
	X509_free(want);
	X509_free(x3);
	X509_free(x1);
}

/* Last: destroys a CA key. A signing failure leaves a failed order with the error and no
 * certificate row. */
static void
test_token_failure_fails_order(void **state)
{
	struct ca_create_req r = { .name = "Doomed", .key_spec = "ec-256", .pathlen = -1 };
	struct db_ca *doomed = NULL;
	struct db_order *order = NULL;
	struct issue_result res;
	sqlite3_stmt *st = NULL;
	char before[256], after[256];
	int64_t order_id, bad = -1;

	(void)state;
	assert_int_equal(ca_create_root(fx.ctx, &r, &doomed), 0);
	assert_int_equal(tok_delete_key(fx.ctx->tok, doomed->keyref), 0);
	ca_fx_counts(&fx, before, sizeof(before));
	assert_int_not_equal(do_issue("doomed", ec_key, "x.example.test", NULL, ISSUE_PROFILE_SERVER, 1, &res), 0);
	assert_null(res.cert_der.data);
	ca_fx_counts(&fx, after, sizeof(after));
	assert_string_not_equal(before, after);   /* one more order, nothing else */
	assert_int_equal(sqlite3_prepare_v2(db_handle(fx.ctx->db), "SELECT max(id) FROM orders", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	order_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	assert_int_equal(db_orders_get(fx.ctx->db, order_id, &order), 0);
	assert_string_equal(order->status, "failed");
	assert_non_null(order->error);
	assert_true(strlen(order->error) > 0);
	assert_int_equal(order->certificate_id, 0);
	assert_true(order->finished_at_ms >= order->started_at_ms);
	assert_int_equal(audit_verify(fx.ctx->db, &bad), 0);
	assert_int_equal(bad, 0);
	db_order_free(order);
	db_ca_free(doomed);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server_leaf),
		cmocka_unit_test(test_ec_client_and_cn_san),
		cmocka_unit_test(test_validity_clipped),
		cmocka_unit_test(test_subca),
		cmocka_unit_test(test_unique_serials),
		cmocka_unit_test(test_refusals_change_nothing),
		cmocka_unit_test(test_token_key),
		cmocka_unit_test(test_spki_copy_and_check_signed),
		cmocka_unit_test(test_ca_cert_cache),
		cmocka_unit_test(test_token_failure_fails_order),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
