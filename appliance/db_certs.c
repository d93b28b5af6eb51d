/*
 * db_certs.c: SQL for the certificates table (see db_certs.h).
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_certs.h"
#include "err.h"

#define CERT_COLUMNS "id, ca_id, serial, subject, issuer, common_name, sans, not_before, not_after, " \
	"key_algorithm, digest, fingerprint_sha256, source, profile, revoked_at, revocation_reason, " \
	"keyref, order_id, tags, der, created_at, ca_key_gen"

void
db_cert_free(struct db_cert *c)
{
	if (c == NULL)
		return;
	free(c->serial);
	free(c->subject);
	free(c->issuer);
	free(c->common_name);
	free(c->sans);
	free(c->key_algorithm);
	free(c->digest);
	free(c->fingerprint_sha256);
	free(c->source);
	free(c->profile);
	free(c->keyref);
	free(c->tags);
	buf_free(&c->der);
	free(c);
}

const char *
db_cert_status(const struct db_cert *cert, int64_t now_ms)
{
	if (cert->revoked_at_ms != 0)
		return "revoked";
	if (cert->not_after_ms <= now_ms)
		return "expired";
	return "active";
}

static void
bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_id_or_null(sqlite3_stmt *st, int i, int64_t id)
{
	if (id > 0)
		sqlite3_bind_int64(st, i, id);
	else
		sqlite3_bind_null(st, i);
}

int
db_certs_insert(struct db *db, const struct db_cert *c, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*id = 0;
	rc = db_prepare(db, "INSERT INTO certificates (ca_id, serial, subject, issuer, common_name, sans, "
	    "not_before, not_after, key_algorithm, digest, fingerprint_sha256, source, profile, revoked_at, "
	    "revocation_reason, keyref, order_id, tags, der, created_at, ca_key_gen) VALUES (?1, ?2, ?3, ?4, "
	    "?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, "
	    "coalesce(?21, (SELECT key_gen FROM cas WHERE id = ?1), 1))", &st);
	if (rc != 0)
		return rc;
	bind_id_or_null(st, 1, c->ca_id);
	sqlite3_bind_text(st, 2, c->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->subject, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->issuer, -1, SQLITE_STATIC);
	bind_text_or_null(st, 5, c->common_name);
	sqlite3_bind_text(st, 6, c->sans != NULL ? c->sans : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, c->not_before_ms);
	sqlite3_bind_int64(st, 8, c->not_after_ms);
	sqlite3_bind_text(st, 9, c->key_algorithm, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, c->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, c->fingerprint_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, c->source != NULL ? c->source : "managed", -1, SQLITE_STATIC);
	bind_text_or_null(st, 13, c->profile);
	if (c->revoked_at_ms != 0) {
		sqlite3_bind_int64(st, 14, c->revoked_at_ms);
		sqlite3_bind_int(st, 15, c->revocation_reason);
	} else {
		sqlite3_bind_null(st, 14);
		sqlite3_bind_null(st, 15);
	}
	bind_text_or_null(st, 16, c->keyref);
	bind_id_or_null(st, 17, c->order_id);
	sqlite3_bind_text(st, 18, c->tags != NULL ? c->tags : "[]", -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 19, c->der.data, (int)c->der.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 20, db_now_ms());
	bind_id_or_null(st, 21, c->ca_key_gen);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, "insert certificate");
		goto out;
	}
	*id = sqlite3_last_insert_rowid(db_handle(db));
	rc = 0;
out:
	db_finalize(db, st);
	return rc;
}

int
db_certs_serial_exists(struct db *db, const char *serial, int *exists)
{
	sqlite3_stmt *st = NULL;
	int rc, step;

	*exists = 0;
	if ((rc = db_prepare(db, "SELECT 1 FROM certificates WHERE serial = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*exists = 1;
	else if (step != SQLITE_DONE)
		rc = db_fail(db, "look up serial");
	db_finalize(db, st);
	return rc;
}

static int
db_cert_from_row(sqlite3_stmt *st, struct db_cert **out)
{
	struct db_cert *c;
	int rc = HSMCA_E_NOMEM;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return HSMCA_E_NOMEM;
	c->id = sqlite3_column_int64(st, 0);
	c->ca_id = sqlite3_column_int64(st, 1);
	c->not_before_ms = sqlite3_column_int64(st, 7);
	c->not_after_ms = sqlite3_column_int64(st, 8);
	c->revoked_at_ms = sqlite3_column_int64(st, 14);
	c->revocation_reason = sqlite3_column_int(st, 15);
	c->order_id = sqlite3_column_int64(st, 17);
	c->created_at_ms = sqlite3_column_int64(st, 20);
	c->ca_key_gen = sqlite3_column_int64(st, 21);
	if (db_col_strdup(st, 2, &c->serial) != 0 || db_col_strdup(st, 3, &c->subject) != 0 ||
	    db_col_strdup(st, 4, &c->issuer) != 0 || db_col_strdup(st, 5, &c->common_name) != 0 ||
	    db_col_strdup(st, 6, &c->sans) != 0 || db_col_strdup(st, 9, &c->key_algorithm) != 0 ||
	    db_col_strdup(st, 10, &c->digest) != 0 || db_col_strdup(st, 11, &c->fingerprint_sha256) != 0 ||
	    db_col_strdup(st, 12, &c->source) != 0 || db_col_strdup(st, 13, &c->profile) != 0 ||
	    db_col_strdup(st, 16, &c->keyref) != 0 || db_col_strdup(st, 18, &c->tags) != 0)
		goto out;
	if (buf_set(&c->der, sqlite3_column_blob(st, 19), (size_t)sqlite3_column_bytes(st, 19)) != 0)
		goto out;
	*out = c;
	c = NULL;
	rc = 0;
out:
	db_cert_free(c);
	return rc;
}

static int
db_certs_get_one(struct db *db, sqlite3_stmt *st, struct db_cert **out)
{
	int step = sqlite3_step(st);

	if (step == SQLITE_ROW)
		return db_cert_from_row(st, out);
	if (step == SQLITE_DONE)
		return HSMCA_E_NOTFOUND;
	return db_fail(db, "read certificate");
}

int
db_certs_get_by_serial(struct db *db, const char *serial, struct db_cert **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, "SELECT " CERT_COLUMNS " FROM certificates WHERE serial = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, serial, -1, SQLITE_STATIC);
	rc = db_certs_get_one(db, st, out);
	if (rc == HSMCA_E_NOTFOUND)
		err_set(rc, "unknown certificate serial %s", serial);
	db_finalize(db, st);
	return rc;
}

int
db_certs_get_by_id(struct db *db, int64_t id, struct db_cert **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, "SELECT " CERT_COLUMNS " FROM certificates WHERE id = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_certs_get_one(db, st, out);
	if (rc == HSMCA_E_NOTFOUND)
		err_set(rc, "unknown certificate id %lld", (long long)id);
	db_finalize(db, st);
	return rc;
}
