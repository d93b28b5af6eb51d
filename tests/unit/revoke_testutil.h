/*
 * revoke_testutil.h: helpers for test_revoke.c, test_crl.c, test_ocsp.c and test_pfx.c on top of
 * ca_testutil.h (real SoftHSM token, real database): issue a leaf from a software-key CSR, add a
 * user row, count rows, revoke through the two-step flow, write files for the openssl CLI.
 */
#ifndef HSMCA_REVOKE_TESTUTIL_H
#define HSMCA_REVOKE_TESTUTIL_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca.h"
#include "ca_rollover.h"
#include "ca_testutil.h"
#include "issue.h"
#include "revoke.h"
#include "x509_build.h"

/* Not every test uses every helper. */
#define RV_UNUSED __attribute__((unused))

RV_UNUSED static unsigned char *
rv_csr(EVP_PKEY *key, const char *cn, int *len)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = X509_NAME_new();
	unsigned char *der = NULL;

	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_REQ_set_subject_name(req, name);
	X509_REQ_set_pubkey(req, key);
	if (X509_REQ_sign(req, key, EVP_sha256()) <= 0)
		abort();
	*len = i2d_X509_REQ(req, &der);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return der;
}

/* Issues a server certificate for cn from ca_slug; aborts on failure (test set-up). */
RV_UNUSED static void
rv_issue(struct ca_fx *fx, const char *ca_slug, EVP_PKEY *key, const char *cn, struct issue_result *res)
{
	struct issue_req req;
	unsigned char *der;
	int len;

	der = rv_csr(key, cn, &len);
	memset(&req, 0, sizeof(req));
	req.ca_slug = ca_slug;
	req.csr_der = der;
	req.csr_len = (size_t)len;
	req.profile = ISSUE_PROFILE_SERVER;
	req.days = 30;
	req.requested_by = "test";
	if (issue_from_csr(fx->ctx, &req, res) != 0) {
		fprintf(stderr, "issue %s: %s\n", cn, err_msg(-1));
		abort();
	}
	OPENSSL_free(der);
}

RV_UNUSED static int64_t
rv_int(struct ca_fx *fx, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v;

	if (sqlite3_prepare_v2(db_handle(fx->ctx->db), sql, -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db_handle(fx->ctx->db)));
		abort();
	}
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

RV_UNUSED static void
rv_exec(struct ca_fx *fx, const char *sql)
{
	if (sqlite3_exec(db_handle(fx->ctx->db), sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db_handle(fx->ctx->db)));
		abort();
	}
}

RV_UNUSED static int64_t
rv_user(struct ca_fx *fx, const char *name)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "INSERT INTO users (username, role, created_at) VALUES ('%s', 'admin', 0)", name);
	rv_exec(fx, sql);
	return (int64_t)sqlite3_last_insert_rowid(db_handle(fx->ctx->db));
}

/* Both steps with the right code. */
RV_UNUSED static int
rv_revoke(struct ca_fx *fx, int64_t cert_id, int reason, int64_t *crl_number)
{
	char code[REVOKE_CODE_DIGITS + 1];
	int64_t exp;
	int rc;

	if ((rc = revoke_request(fx->ctx, cert_id, 0, "test", NULL, code, &exp)) != 0)
		return rc;
	return revoke_confirm(fx->ctx, cert_id, 0, "test", NULL, code, reason, crl_number);
}

RV_UNUSED static void
rv_write(struct ca_fx *fx, const char *name, const void *data, size_t len, char *path, size_t pathsz)
{
	FILE *f;

	snprintf(path, pathsz, "%s/%s", fx->dir, name);
	if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		abort();
}

/* PEM of a DER certificate appended to the file at path. */
RV_UNUSED static void
rv_append_pem(const struct buf *der, const char *path)
{
	const unsigned char *p = der->data;
	X509 *x = d2i_X509(NULL, &p, (long)der->len);
	FILE *f = fopen(path, "a");

	if (x == NULL || f == NULL || !PEM_write_X509(f, x))
		abort();
	fclose(f);
	X509_free(x);
}

/* Rolls ca over to a new key of the same type and activates it (ca_rollover.h); *now gets the CA
 * as it is afterwards (db_ca_free). Aborts on failure (test set-up). */
RV_UNUSED static void
rv_roll(struct ca_fx *fx, const struct db_ca *ca, struct db_ca **now)
{
	struct ca_rollover_req req = { .days = 100, .actor = "test" };

	if (ca_rollover_start(fx->ctx, ca, &req, NULL) != 0 || ca_rollover_activate(fx->ctx, ca, "test", NULL, now) != 0) {
		fprintf(stderr, "rollover of %s: %s\n", ca->slug, err_msg(-1));
		abort();
	}
}

/* ca_testutil.h's helper that these tests do not need, referenced so -Wunused-function stays
 * quiet. */
RV_UNUSED static void
rv_unused_(void)
{
	(void)ca_fx_token_keys;
	(void)ca_fx_counts;
}

#endif
