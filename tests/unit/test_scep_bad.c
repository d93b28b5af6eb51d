/*
 * test_scep_bad.c: scep_handle() (the whole SCEP exchange without HTTP) on a real token and
 * database, with messages hand-built by a client made of plain OpenSSL: one good enrollment as
 * the positive control, then every failure path of issue #6 — garbage, truncated at many lengths,
 * oversized, envelope for the wrong recipient, bad signature, unknown message type, a
 * transactionID replayed with another key, bad and missing challenges — each answered with a
 * FAILURE CertRep or a 4xx, never a crash, and nothing issued. Also GetCRL, GetCert, and CertPoll
 * after a manual approval. An enrollment's commits: two, naming each other; and a failing
 * certificate commit that leaves a consistent store. Last, GetCRL after a CA key rollover: the CRL
 * of the key that issued the certificate named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "scep_testutil.h"
#include "ca_testutil.h"
#include "revoke_testutil.h"
#include "ca.h"
#include "db_certs.h"
#include "db_scep.h"
#include "scep.h"
#include "scep_auth.h"
#include "scep_caps.h"

static struct ca_fx fx;
static struct db_ca *ca;
static X509 *ra_cert, *ca_cert;
static char *secret;
static OSSL_LIB_CTX *legacy;

static int
setup(void **state)
{
	struct ca_create_req req;
	struct db_scep_ca s;
	struct scep_request r;
	struct scep_response out;
	int64_t id;
	const unsigned char *p;

	(void)state;
	(void)ca_fx_token_keys;
	(void)ca_fx_counts;
	if (ca_fx_open(&fx) != 0)
		return -1;
	memset(&req, 0, sizeof(req));
	req.name = "Bad Test CA";
	req.key_spec = "rsa-2048";
	req.pathlen = -1;
	if (ca_create_root(fx.ctx, &req, &ca) != 0)
		return -1;
	/* The first SCEP request makes the RA. */
	memset(&r, 0, sizeof(r));
	r.ca_slug = ca->slug;
	r.operation = "GetCACert";
	r.peer = "127.0.0.1";
	if (scep_handle(fx.ctx, &r, &out) != 0 || out.status != 200)
		return -1;
	scep_response_clear(&out);
	if (db_scep_ca_get(fx.ctx->db, ca->id, &s) != 0 || s.ra_cert_der.len == 0)
		return -1;
	p = s.ra_cert_der.data;
	ra_cert = d2i_X509(NULL, &p, (long)s.ra_cert_der.len);
	db_scep_ca_clear(&s);
	p = ca->cert_der.data;
	ca_cert = d2i_X509(NULL, &p, (long)ca->cert_der.len);
	if (scep_auth_create(fx.ctx->db, "dev", ca->id, 1, 0, NULL, NULL, &secret, &id) != 0)
		return -1;
	legacy = scept_legacy_ctx();
	return ra_cert != NULL && ca_cert != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	scep_auth_secret_free(secret);
	X509_free(ra_cert);
	X509_free(ca_cert);
	db_ca_free(ca);
	scept_legacy_free(legacy);
	ca_fx_close(&fx);
	return 0;
}

/* One integer from SQL on the test's connection. */
static int64_t
sql_int(const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(db_handle(fx.ctx->db), sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int64_t
n_certs(void)
{
	return sql_int("SELECT count(*) FROM certificates");
}

static void
post(const struct buf *der, struct scep_response *out)
{
	struct scep_request r;

	memset(&r, 0, sizeof(r));
	r.ca_slug = ca->slug;
	r.operation = "PKIOperation";
	r.is_post = 1;
	r.body = der->data;
	r.body_len = der->len;
	r.peer = "192.0.2.7";
	assert_int_equal(scep_handle(fx.ctx, &r, out), 0);
}

/* What the client reads from a CertRep: status, failInfo, certificates and CRLs in the envelope
 * (opened with the client's key), after checking the RA signature with PKCS7_verify. */
struct rep {
	char status[4], fail[4];
	int n_certs, n_crls;
	X509_CRL *crl;            /* the first CRL of a SUCCESS, or NULL; the caller frees it */
};

static void
read_rep(const struct scep_response *out, EVP_PKEY *key, X509 *cert, struct rep *got)
{
	const unsigned char *p = out->body.data;
	PKCS7 *p7;
	PKCS7_SIGNER_INFO *si;
	X509_STORE *store = X509_STORE_new();
	BIO *content = BIO_new(BIO_s_mem());
	char *data;
	long n;

	memset(got, 0, sizeof(*got));
	assert_int_equal(out->status, 200);
	assert_string_equal(out->content_type, SCEP_CT_PKI_MESSAGE);
	p7 = d2i_PKCS7(NULL, &p, (long)out->body.len);
	assert_non_null(p7);
	X509_STORE_add_cert(store, ca_cert);
	X509_STORE_add_cert(store, ra_cert);
	if (PKCS7_verify(p7, NULL, store, NULL, content, 0) != 1) {
		ERR_print_errors_fp(stderr);
		fail_msg("CertRep does not verify");
	}
	si = sk_PKCS7_SIGNER_INFO_value(p7->d.sign->signer_info, 0);
	scept_copy_attr(got->status, sizeof(got->status), scept_attr(si->auth_attr, SCEPT_OID_PKI_STATUS,
	    V_ASN1_PRINTABLESTRING));
	scept_copy_attr(got->fail, sizeof(got->fail), scept_attr(si->auth_attr, SCEPT_OID_FAIL_INFO,
	    V_ASN1_PRINTABLESTRING));
	n = BIO_get_mem_data(content, &data);
	if (strcmp(got->status, "0") == 0 && key != NULL) {
		CMS_ContentInfo *env = CMS_ContentInfo_new_ex(legacy, NULL);
		BIO *plain = BIO_new(BIO_s_mem());
		const unsigned char *q = (const unsigned char *)data;
		PKCS7 *deg;
		char *pd;
		long pn;

		assert_non_null(d2i_CMS_ContentInfo(&env, &q, n));
		assert_int_equal(CMS_decrypt(env, key, cert, NULL, plain, CMS_BINARY), 1);
		pn = BIO_get_mem_data(plain, &pd);
		q = (const unsigned char *)pd;
		deg = d2i_PKCS7(NULL, &q, pn);
		assert_non_null(deg);
		got->n_certs = deg->d.sign->cert != NULL ? sk_X509_num(deg->d.sign->cert) : 0;
		got->n_crls = deg->d.sign->crl != NULL ? sk_X509_CRL_num(deg->d.sign->crl) : 0;
		if (got->n_crls > 0) {
			got->crl = sk_X509_CRL_value(deg->d.sign->crl, 0);
			X509_CRL_up_ref(got->crl);
		}
		PKCS7_free(deg);
		BIO_free(plain);
		CMS_ContentInfo_free(env);
	}
	BIO_free(content);
	X509_STORE_free(store);
	PKCS7_free(p7);
}

/* A client: key, self-signed certificate, a PKCSReq for cn with challenge. */
struct client {
	EVP_PKEY *key;
	X509 *cert;
	struct buf csr, msg;
};

static void
client_new(struct client *c, const char *cn, const char *challenge, const char *txid, const char *type,
    X509 *recipient)
{
	struct scept_req r;

	memset(c, 0, sizeof(*c));
	c->key = scept_rsa(2048);
	c->cert = scept_cert(cn, c->key, NULL, NULL, 0, NULL);
	assert_int_equal(scept_csr(c->key, cn, challenge, V_ASN1_PRINTABLESTRING, &c->csr), 0);
	memset(&r, 0, sizeof(r));
	r.msg_type = type != NULL ? type : "19";
	r.txid = txid;
	r.nonce_len = 16;
	assert_int_equal(scept_build(&r, c->key, c->cert, recipient != NULL ? recipient : ra_cert, c->csr.data,
	    c->csr.len, &c->msg), 0);
}

static void
client_free(struct client *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->cert);
	buf_free(&c->csr);
	buf_free(&c->msg);
}

static void
expect_failure(const struct buf *msg, EVP_PKEY *key, X509 *cert, const char *fail)
{
	struct scep_response out;
	struct rep got;
	int64_t before = n_certs();

	post(msg, &out);
	read_rep(&out, key, cert, &got);
	assert_string_equal(got.status, "2");
	assert_string_equal(got.fail, fail);
	assert_int_equal(n_certs(), before);
	scep_response_clear(&out);
}

static void
test_good_enrollment(void **state)
{
	struct client c;
	struct scep_response out;
	struct rep got;
	int64_t before = n_certs();

	(void)state;
	client_new(&c, "good-client", secret, "tx-good", NULL, NULL);
	post(&c.msg, &out);
	read_rep(&out, c.key, c.cert, &got);
	assert_string_equal(got.status, "0");
	assert_int_equal(got.n_certs, 1);
	assert_int_equal(n_certs(), before + 1);
	scep_response_clear(&out);
	/* The same transaction and key again (micromdm derives the transactionID from the key):
	 * a new request, served. */
	client_free(&c);
}

static int
count_commit(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* An enrollment issued at once costs two commits: the SCEP transaction, the challenge use and the
 * order before signing; then the certificate, its order "complete", the audit row, the SCEP
 * transaction "issued" and the log row, all naming each other. */
static void
test_enroll_two_commits(void **state)
{
	struct client c;
	struct scep_response out;
	struct rep got;
	int commits = 0;

	(void)state;
	client_new(&c, "two-commits", secret, "tx-two-commits", NULL, NULL);
	sqlite3_commit_hook(db_handle(fx.ctx->db), count_commit, &commits);
	post(&c.msg, &out);
	sqlite3_commit_hook(db_handle(fx.ctx->db), NULL, NULL);
	read_rep(&out, c.key, c.cert, &got);
	assert_string_equal(got.status, "0");
	assert_int_equal(commits, 2);
	assert_int_equal(sql_int("SELECT count(*) FROM scep_transactions t JOIN certificates c ON c.id = t.certificate_id "
	    "JOIN orders o ON o.id = t.order_id AND o.certificate_id = c.id "
	    "WHERE t.transaction_id = 'tx-two-commits' AND t.status = 'issued' AND o.status = 'complete' "
	    "AND o.type = 'scep' AND c.common_name = 'two-commits'"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM scep_logs l JOIN scep_transactions t ON t.order_id = l.order_id "
	    "WHERE l.transaction_id = 'tx-two-commits' AND l.result = 'success' AND l.http_status = 200 "
	    "AND l.details LIKE '%\"serial\"%'"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM audit a JOIN certificates c ON c.serial = a.object "
	    "WHERE c.common_name = 'two-commits' AND a.event = 'certificate.request_scep.submitted'"), 1);
	scep_response_clear(&out);
	client_free(&c);
}

/* The certificate's commit fails (here: its log row is refused by a trigger): nothing issued, the
 * order and the SCEP transaction "failed", the one-time challenge usable again, the exchange
 * logged as a FAILURE; the same challenge then enrolls. */
static void
test_enroll_store_fails(void **state)
{
	struct client c, again;
	struct scep_response out;
	struct rep got;
	char *once = NULL, *msg = NULL;
	int64_t before = n_certs(), auth_id;

	(void)state;
	assert_int_equal(scep_auth_create(fx.ctx->db, "once", ca->id, 0, 0, NULL, NULL, &once, &auth_id), 0);
	assert_int_equal(sqlite3_exec(db_handle(fx.ctx->db), "CREATE TEMP TRIGGER refuse_log BEFORE INSERT ON "
	    "main.scep_logs WHEN NEW.transaction_id = 'tx-store-fails' AND NEW.result = 'success' "
	    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END", NULL, NULL, &msg), SQLITE_OK);
	client_new(&c, "store-fails", once, "tx-store-fails", NULL, NULL);
	post(&c.msg, &out);
	read_rep(&out, c.key, c.cert, &got);
	assert_string_equal(got.status, "2");
	assert_string_equal(got.fail, "2");
	scep_response_clear(&out);
	assert_int_equal(n_certs(), before);
	assert_int_equal(sql_int("SELECT count(*) FROM orders WHERE common_name = 'store-fails' AND status = 'failed' "
	    "AND certificate_id IS NULL"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM orders WHERE common_name = 'store-fails' AND status <> 'failed'"), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM scep_transactions WHERE transaction_id = 'tx-store-fails' "
	    "AND status = 'failed' AND certificate_id IS NULL"), 1);
	assert_int_equal(sql_int("SELECT count(*) FROM scep_logs WHERE transaction_id = 'tx-store-fails' "
	    "AND result = 'failure' AND fail_info = 'badRequest'"), 1);
	assert_int_equal(sqlite3_exec(db_handle(fx.ctx->db), "DROP TRIGGER refuse_log", NULL, NULL, &msg), SQLITE_OK);
	client_new(&again, "store-fails", once, "tx-store-fails-2", NULL, NULL);
	post(&again.msg, &out);
	read_rep(&out, again.key, again.cert, &got);
	assert_string_equal(got.status, "0");
	assert_int_equal(n_certs(), before + 1);
	scep_response_clear(&out);
	client_free(&again);
	client_free(&c);
	scep_auth_secret_free(once);
}

static void
test_envelope_to_ca(void **state)
{
	struct client c;
	struct scep_response out;
	struct rep got;

	(void)state;
	/* An RSA CA also opens envelopes addressed to its own certificate. */
	client_new(&c, "to-ca", secret, "tx-to-ca", NULL, ca_cert);
	post(&c.msg, &out);
	read_rep(&out, c.key, c.cert, &got);
	assert_string_equal(got.status, "0");
	scep_response_clear(&out);
	client_free(&c);
}

static void
test_garbage_truncated_oversized(void **state)
{
	struct client c;
	struct scep_response out;
	struct buf b = { 0 };
	int64_t before;
	size_t cut;
	uint8_t junk[2048];

	(void)state;
	client_new(&c, "trunc", secret, "tx-trunc", NULL, NULL);
	before = n_certs();
	RAND_bytes(junk, sizeof(junk));
	assert_int_equal(buf_set(&b, junk, sizeof(junk)), 0);
	post(&b, &out);
	assert_int_equal(out.status, 400);
	scep_response_clear(&out);
	buf_free(&b);
	assert_int_equal(buf_set(&b, "", 0), 0);
	post(&b, &out);
	assert_int_equal(out.status, 400);
	scep_response_clear(&out);
	buf_free(&b);
	/* Truncated at many lengths: never a SUCCESS, never a certificate. */
	for (cut = 1; cut < c.msg.len; cut += c.msg.len / 23 + 1) {
		b.data = c.msg.data;
		b.len = cut;
		post(&b, &out);
		assert_true(out.status == 400 || out.status == 200);
		if (out.status == 200) {
			struct rep got;

			read_rep(&out, NULL, NULL, &got);
			assert_string_equal(got.status, "2");
		}
		scep_response_clear(&out);
	}
	b.data = NULL;            /* borrowed c.msg above */
	b.len = 0;
	/* Appended bytes */
	assert_int_equal(buf_set(&b, c.msg.data, c.msg.len + 0), 0);
	{
		uint8_t *grown = realloc(b.data, b.len + 3);

		assert_non_null(grown);
		memcpy(grown + b.len, "\0\0\0", 3);
		b.data = grown;
		b.len += 3;
	}
	post(&b, &out);
	assert_int_equal(out.status, 400);
	scep_response_clear(&out);
	buf_free(&b);
	/* Oversized: refused before parsing. */
	b.len = fx.ctx->cfg.max_scep_body_bytes + 1;
	b.data = calloc(1, b.len);
	assert_non_null(b.data);
	post(&b, &out);
	assert_int_equal(out.status, 413);
	scep_response_clear(&out);
	buf_free(&b);
	assert_int_equal(n_certs(), before);
	client_free(&c);
}

static void
test_wrong_recipient_bad_signature(void **state)
{
	struct client c;
	EVP_PKEY *other_key = scept_rsa(2048);
	X509 *other = scept_cert("someone else", other_key, NULL, NULL, 0, "keyEncipherment");

	(void)state;
	client_new(&c, "wrong-recipient", secret, "tx-wrong-recipient", NULL, other);
	expect_failure(&c.msg, c.key, c.cert, "1");          /* badMessageCheck */
	client_free(&c);

	client_new(&c, "bad-sig", secret, "tx-bad-sig", NULL, NULL);
	c.msg.data[c.msg.len - 1] ^= 0x01;                    /* last byte of the signature */
	expect_failure(&c.msg, c.key, c.cert, "1");
	client_free(&c);
	X509_free(other);
	EVP_PKEY_free(other_key);
}

static void
test_unknown_type_and_challenges(void **state)
{
	struct client c;

	(void)state;
	client_new(&c, "unknown-type", secret, "tx-unknown", "99", NULL);
	expect_failure(&c.msg, c.key, c.cert, "2");          /* badRequest */
	client_free(&c);
	client_new(&c, "bad-challenge", "not-the-secret", "tx-bad-ch", NULL, NULL);
	expect_failure(&c.msg, c.key, c.cert, "2");
	client_free(&c);
	client_new(&c, "no-challenge", NULL, "tx-no-ch", NULL, NULL);
	expect_failure(&c.msg, c.key, c.cert, "2");
	client_free(&c);
	/* a RenewalReq signed by a self-signed certificate is not a renewal */
	client_new(&c, "fake-renewal", NULL, "tx-fake-renew", "17", NULL);
	expect_failure(&c.msg, c.key, c.cert, "2");
	client_free(&c);
}

static void
test_replay_other_key(void **state)
{
	struct client a, b;
	struct scep_response out;
	struct rep got;

	(void)state;
	client_new(&a, "replay-a", secret, "tx-replayed", NULL, NULL);
	post(&a.msg, &out);
	read_rep(&out, a.key, a.cert, &got);
	assert_string_equal(got.status, "0");
	scep_response_clear(&out);
	/* Same transactionID, another key: refused, nothing issued. */
	client_new(&b, "replay-b", secret, "tx-replayed", NULL, NULL);
	expect_failure(&b.msg, b.key, b.cert, "2");
	client_free(&a);
	client_free(&b);
}

/* DER SEQUENCE { a, b } */
static void
seq2(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, struct buf *out)
{
	size_t n = alen + blen, hl = n < 128 ? 2 : n < 256 ? 3 : 4;
	uint8_t *d = malloc(hl + n);

	assert_non_null(d);
	d[0] = 0x30;
	if (n < 128) {
		d[1] = (uint8_t)n;
	} else if (n < 256) {
		d[1] = 0x81;
		d[2] = (uint8_t)n;
	} else {
		d[1] = 0x82;
		d[2] = (uint8_t)(n >> 8);
		d[3] = (uint8_t)n;
	}
	memcpy(d + hl, a, alen);
	memcpy(d + hl + alen, b, blen);
	out->data = d;
	out->len = hl + n;
}

static void
name_der(const X509_NAME *name, struct buf *out)
{
	unsigned char *der = NULL;
	int n = i2d_X509_NAME(name, &der);

	assert_true(n > 0);
	assert_int_equal(buf_set(out, der, (size_t)n), 0);
	OPENSSL_free(der);
}

/* IssuerAndSerialNumber (RFC 8894 §3.3.4), the content of GetCRL and GetCert. */
static void
issuer_and_serial(const X509_NAME *issuer, const ASN1_INTEGER *serial, struct buf *out)
{
	struct buf name = { 0 };
	unsigned char *der = NULL;
	int n = i2d_ASN1_INTEGER(serial, &der);

	assert_true(n > 0);
	name_der(issuer, &name);
	seq2(name.data, name.len, der, (size_t)n, out);
	OPENSSL_free(der);
	buf_free(&name);
}

/* A GetCRL/GetCert/CertPoll message from client c with inner content. */
static void
build_inner(struct client *c, const char *type, const char *txid, const struct buf *inner, struct buf *out)
{
	struct scept_req r;

	memset(&r, 0, sizeof(r));
	r.msg_type = type;
	r.txid = txid;
	r.nonce_len = 16;
	assert_int_equal(scept_build(&r, c->key, c->cert, ra_cert, inner->data, inner->len, out), 0);
}

static void
test_getcrl_getcert(void **state)
{
	struct client c;
	struct buf inner = { 0 }, msg = { 0 };
	struct scep_response out;
	struct rep got;

	(void)state;
	client_new(&c, "crl-reader", secret, "tx-crl", NULL, NULL);
	issuer_and_serial(X509_get_subject_name(ca_cert), X509_get0_serialNumber(ca_cert), &inner);
	build_inner(&c, "22", "tx-getcrl", &inner, &msg);
	post(&msg, &out);
	read_rep(&out, c.key, c.cert, &got);
	assert_string_equal(got.status, "0");
	assert_int_equal(got.n_crls, 1);
	X509_CRL_free(got.crl);
	scep_response_clear(&out);
	buf_free(&msg);
	/* GetCert of a serial this CA never issued: badCertId */
	build_inner(&c, "21", "tx-getcert", &inner, &msg);
	post(&msg, &out);
	read_rep(&out, c.key, c.cert, &got);
	assert_string_equal(got.status, "2");
	assert_string_equal(got.fail, "4");
	scep_response_clear(&out);
	buf_free(&msg);
	buf_free(&inner);
	client_free(&c);
}

static void
test_manual_approval_certpoll(void **state)
{
	struct client c;
	struct buf issuer = { 0 }, subject = { 0 }, inner = { 0 }, poll = { 0 };
	struct scep_response out;
	struct rep got;
	struct db_scep_tx *tx = NULL;
	int64_t before, cert_id = 0;

	(void)state;
	assert_int_equal(db_scep_ca_set(fx.ctx->db, ca->id, -1, "manual"), 0);
	client_new(&c, "manual-client", secret, "tx-manual", NULL, NULL);
	before = n_certs();
	post(&c.msg, &out);
	read_rep(&out, c.key, c.cert, &got);
	assert_string_equal(got.status, "3");                /* PENDING */
	scep_response_clear(&out);
	assert_int_equal(n_certs(), before);
	/* CertPoll while pending: PENDING */
	name_der(X509_get_subject_name(ca_cert), &issuer);
	name_der(X509_get_subject_name(c.cert), &subject);
	seq2(issuer.data, issuer.len, subject.data, subject.len, &inner);
	build_inner(&c, "20", "tx-manual", &inner, &poll);
	post(&poll, &out);
	read_rep(&out, c.key, c.cert, &got);
	assert_string_equal(got.status, "3");
	scep_response_clear(&out);
	/* approve, then CertPoll: the certificate */
	assert_int_equal(db_scep_tx_get(fx.ctx->db, ca->id, "tx-manual", 0, &tx), 0);
	assert_int_equal(scep_decide(fx.ctx, tx->id, 1, NULL, "user:test", &cert_id), 0);
	assert_true(cert_id > 0);
	assert_int_equal(scep_decide(fx.ctx, tx->id, 1, NULL, "user:test", &cert_id), HSMCA_E_CONFLICT);
	assert_int_equal(n_certs(), before + 1);
	post(&poll, &out);
	read_rep(&out, c.key, c.cert, &got);
	assert_string_equal(got.status, "0");
	assert_int_equal(got.n_certs, 1);
	scep_response_clear(&out);
	/* a CertPoll for that transaction signed by another key: refused */
	{
		struct client o;
		struct buf m = { 0 };

		client_new(&o, "manual-client", secret, "tx-other", NULL, NULL);
		build_inner(&o, "20", "tx-manual", &inner, &m);
		expect_failure(&m, o.key, o.cert, "2");
		buf_free(&m);
		client_free(&o);
	}
	assert_int_equal(db_scep_ca_set(fx.ctx->db, ca->id, -1, "auto"), 0);
	db_scep_tx_free(tx);
	buf_free(&poll);
	buf_free(&inner);
	buf_free(&issuer);
	buf_free(&subject);
	client_free(&c);
}

/* crl is signed by signer's key and names it (AKI keyid = signer's SKI); serial is listed or not. */
static void
expect_crl(X509_CRL *crl, X509 *signer, const ASN1_INTEGER *serial, int listed)
{
	AUTHORITY_KEYID *aki;
	X509_REVOKED *entry = NULL;

	assert_non_null(crl);
	assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(signer)), 1);
	aki = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, NULL, NULL);
	assert_non_null(aki);
	assert_non_null(aki->keyid);
	assert_non_null(X509_get0_subject_key_id(signer));
	assert_int_equal(ASN1_OCTET_STRING_cmp(aki->keyid, X509_get0_subject_key_id(signer)), 0);
	assert_int_equal(X509_CRL_get0_by_serial(crl, &entry, serial) == 1, listed);
	AUTHORITY_KEYID_free(aki);
}

/* A GetCRL from c naming issuer and serial; *got as read_rep leaves it. */
static void
getcrl(struct client *c, const X509_NAME *issuer, const ASN1_INTEGER *serial, const char *txid, struct rep *got)
{
	struct buf inner = { 0 }, msg = { 0 };
	struct scep_response out;

	issuer_and_serial(issuer, serial, &inner);
	build_inner(c, "22", txid, &inner, &msg);
	post(&msg, &out);
	read_rep(&out, c->key, c->cert, got);
	scep_response_clear(&out);
	buf_free(&msg);
	buf_free(&inner);
}

static X509 *
cert_of(const struct buf *der)
{
	X509 *x = NULL;

	assert_int_equal(x509b_parse_cert(der->data, der->len, &x), 0);
	return x;
}

static void
expect_key_gen(int64_t cert_id, int64_t gen)
{
	struct db_cert *row = NULL;

	assert_int_equal(db_certs_get_by_id(fx.ctx->db, cert_id, &row), 0);
	assert_int_equal(row->ca_key_gen, gen);
	db_cert_free(row);
}

/*
 * GetCRL after a CA key rollover (issue #6, RFC 8894 §3.3.4). Naming a certificate of the old key:
 * the old key's CRL (signed by it, its AKI) listing that certificate, revoked; also when none of
 * the old key's CRLs is stored (one is published for it). Naming one of the new key, or a serial
 * the CA never issued: the new key's CRL. Naming another issuer, or an old key whose certificates
 * have all expired and which has no CRL left: badCertId. One log row each.
 * Runs last: it rolls the fixture's CA over (ca, ca_cert and ra_cert change).
 */
static void
test_getcrl_after_rollover(void **state)
{
	struct client c;
	struct issue_result old_leaf, new_leaf;
	struct db_scep_ca s;
	struct db_ca *rolled = NULL;
	EVP_PKEY *key = scept_ec();
	X509 *old_ca = ca_cert, *old_x, *new_x;
	const ASN1_INTEGER *old_serial;
	ASN1_INTEGER *never = ASN1_INTEGER_new();
	struct rep got;
	char sql[160];

	(void)state;
	/* The revocation publishes at once, not batched behind the earlier tests' CRLs. */
	fx.ctx->cfg.crl_batch_seconds = 0;
	rv_issue(&fx, ca->slug, key, "old-key-leaf", &old_leaf);
	assert_int_equal(rv_revoke(&fx, old_leaf.certificate_id, 1, NULL), 0);
	rv_roll(&fx, ca, &rolled);
	db_ca_free(ca);
	ca = rolled;
	ca_cert = cert_of(&ca->cert_der);
	assert_int_equal(db_scep_ca_get(fx.ctx->db, ca->id, &s), 0);
	X509_free(ra_cert);
	ra_cert = cert_of(&s.ra_cert_der);
	db_scep_ca_clear(&s);
	rv_issue(&fx, ca->slug, key, "new-key-leaf", &new_leaf);
	old_x = cert_of(&old_leaf.cert_der);
	new_x = cert_of(&new_leaf.cert_der);
	old_serial = X509_get0_serialNumber(old_x);
	expect_key_gen(old_leaf.certificate_id, 1);
	expect_key_gen(new_leaf.certificate_id, 2);

	client_new(&c, "crl-after-roll", secret, "tx-crl-roll", NULL, NULL);
	getcrl(&c, X509_get_issuer_name(old_x), old_serial, "tx-crl-old", &got);
	assert_string_equal(got.status, "0");
	expect_crl(got.crl, old_ca, old_serial, 1);
	X509_CRL_free(got.crl);
	snprintf(sql, sizeof(sql), "DELETE FROM crls WHERE ca_id = %lld AND key_gen = 1", (long long)ca->id);
	rv_exec(&fx, sql);
	getcrl(&c, X509_get_issuer_name(old_x), old_serial, "tx-crl-old-none", &got);
	assert_string_equal(got.status, "0");
	expect_crl(got.crl, old_ca, old_serial, 1);
	X509_CRL_free(got.crl);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM crls WHERE ca_id = %lld AND key_gen = 1", (long long)ca->id);
	assert_int_equal(sql_int(sql), 1);

	getcrl(&c, X509_get_issuer_name(new_x), X509_get0_serialNumber(new_x), "tx-crl-new", &got);
	assert_string_equal(got.status, "0");
	expect_crl(got.crl, ca_cert, old_serial, 0);
	X509_CRL_free(got.crl);
	assert_int_equal(ASN1_INTEGER_set(never, 0x7eadbeef), 1);
	getcrl(&c, X509_get_subject_name(ca_cert), never, "tx-crl-never", &got);
	assert_string_equal(got.status, "0");
	expect_crl(got.crl, ca_cert, old_serial, 0);
	X509_CRL_free(got.crl);

	getcrl(&c, X509_get_subject_name(c.cert), old_serial, "tx-crl-other", &got);
	assert_string_equal(got.status, "2");
	assert_string_equal(got.fail, "4");               /* badCertId */
	assert_null(got.crl);
	/* Everything the old key issued has expired and its CRLs are gone: it gets no new CRL (no
	 * signature per request), and the client is told so. */
	snprintf(sql, sizeof(sql), "UPDATE certificates SET not_after = 0 WHERE ca_id = %lld AND ca_key_gen = 1",
	    (long long)ca->id);
	rv_exec(&fx, sql);
	snprintf(sql, sizeof(sql), "DELETE FROM crls WHERE ca_id = %lld AND key_gen = 1", (long long)ca->id);
	rv_exec(&fx, sql);
	getcrl(&c, X509_get_issuer_name(old_x), old_serial, "tx-crl-old-expired", &got);
	assert_string_equal(got.status, "2");
	assert_string_equal(got.fail, "4");
	assert_null(got.crl);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM crls WHERE ca_id = %lld AND key_gen = 1", (long long)ca->id);
	assert_int_equal(sql_int(sql), 0);
	assert_int_equal(sql_int("SELECT count(*) FROM scep_logs WHERE message_type = 'GetCRL' AND "
	    "transaction_id LIKE 'tx-crl-%'"), 6);
	assert_int_equal(sql_int("SELECT count(*) FROM orders WHERE type = 'scep' AND common_name = 'crl-after-roll'"),
	    0);

	X509_free(old_ca);
	X509_free(old_x);
	X509_free(new_x);
	ASN1_INTEGER_free(never);
	issue_result_free(&old_leaf);
	issue_result_free(&new_leaf);
	EVP_PKEY_free(key);
	client_free(&c);
}

static void
test_http_level(void **state)
{
	struct scep_request r;
	struct scep_response out;
	struct buf b = { 0 };

	(void)state;
	memset(&r, 0, sizeof(r));
	r.ca_slug = "no-such-ca";
	r.operation = "GetCACaps";
	assert_int_equal(scep_handle(fx.ctx, &r, &out), 0);
	assert_int_equal(out.status, 404);
	scep_response_clear(&out);
	r.ca_slug = ca->slug;
	r.operation = "PKIOperation";
	r.message = "%%%not base64";
	assert_int_equal(scep_handle(fx.ctx, &r, &out), 0);
	assert_int_equal(out.status, 400);
	scep_response_clear(&out);
	r.message = NULL;
	assert_int_equal(scep_handle(fx.ctx, &r, &out), 0);
	assert_int_equal(out.status, 400);
	scep_response_clear(&out);
	r.operation = "GetCACaps";
	r.basic_user = "nobody";
	r.basic_secret = (const uint8_t *)"x";
	r.basic_secret_len = 1;
	assert_int_equal(scep_handle(fx.ctx, &r, &out), 0);
	assert_int_equal(out.status, 401);
	assert_true(out.www_authenticate);
	scep_response_clear(&out);
	/* base64 as clients send it: '+' as ' ', base64url, no padding, line breaks */
	assert_int_equal(scep_b64_decode("+/8=", 100, &b), 0);
	assert_int_equal(b.len, 2);
	buf_free(&b);
	assert_int_equal(scep_b64_decode(" _8", 100, &b), 0);
	assert_int_equal(b.len, 2);
	assert_int_equal(b.data[0], 0xfb);
	buf_free(&b);
	assert_int_equal(scep_b64_decode("AAAA\nAAAA", 100, &b), 0);
	assert_int_equal(b.len, 6);
	buf_free(&b);
	assert_int_equal(scep_b64_decode("AAAAAAAAAAAA", 4, &b), HSMCA_E_TOOLARGE);
	assert_int_equal(scep_b64_decode("A", 100, &b), HSMCA_E_INVALID);
	assert_int_equal(scep_b64_decode("AA==AA", 100, &b), HSMCA_E_INVALID);
	assert_int_equal(scep_b64_decode("", 100, &b), HSMCA_E_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_enrollment),
		cmocka_unit_test(test_enroll_two_commits),
		cmocka_unit_test(test_enroll_store_fails),
		cmocka_unit_test(test_envelope_to_ca),
		cmocka_unit_test(test_garbage_truncated_oversized),
		cmocka_unit_test(test_wrong_recipient_bad_signature),
		cmocka_unit_test(test_unknown_type_and_challenges),
		cmocka_unit_test(test_replay_other_key),
		cmocka_unit_test(test_getcrl_getcert),
		cmocka_unit_test(test_manual_approval_certpoll),
		cmocka_unit_test(test_http_level),
		cmocka_unit_test(test_getcrl_after_rollover),   /* last: rolls the CA over */
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
