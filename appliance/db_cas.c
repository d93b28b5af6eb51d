/*
 * db_cas.c: SQL for the cas table (see db_cas.h). Prepared statements with bound parameters only.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_cas.h"
#include "err.h"

#define CA_COLUMNS "id, name, slug, parent_id, kind, subject, cert_der, fingerprint_sha256, keyref, " \
	"key_spec, not_before, not_after, status, crl_number, created_at"

void
db_ca_free(struct db_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->name);
	free(ca->slug);
	free(ca->kind);
	free(ca->subject);
	buf_free(&ca->cert_der);
	free(ca->fingerprint_sha256);
	free(ca->keyref);
	free(ca->key_spec);
	free(ca->status);
	free(ca);
}

void
db_ca_list_free(struct db_ca **cas, size_t n)
{
	size_t i;

	if (cas == NULL)
		return;
	for (i = 0; i < n; i++)
		db_ca_free(cas[i]);
	free(cas);
}

static int
db_ca_from_row(sqlite3_stmt *st, struct db_ca **out)
{
	struct db_ca *ca;
	int rc = HSMCA_E_NOMEM;

	*out = NULL;
	ca = calloc(1, sizeof(*ca));
	if (ca == NULL)
		return HSMCA_E_NOMEM;
	ca->id = sqlite3_column_int64(st, 0);
	ca->parent_id = sqlite3_column_int64(st, 3);
	ca->not_before_ms = sqlite3_column_int64(st, 10);
	ca->not_after_ms = sqlite3_column_int64(st, 11);
	ca->crl_number = sqlite3_column_int64(st, 13);
	ca->created_at_ms = sqlite3_column_int64(st, 14);
	if (db_col_strdup(st, 1, &ca->name) != 0 || db_col_strdup(st, 2, &ca->slug) != 0 ||
	    db_col_strdup(st, 4, &ca->kind) != 0 || db_col_strdup(st, 5, &ca->subject) != 0 ||
	    db_col_strdup(st, 7, &ca->fingerprint_sha256) != 0 || db_col_strdup(st, 8, &ca->keyref) != 0 ||
	    db_col_strdup(st, 9, &ca->key_spec) != 0 || db_col_strdup(st, 12, &ca->status) != 0)
		goto out;
	if (buf_set(&ca->cert_der, sqlite3_column_blob(st, 6), (size_t)sqlite3_column_bytes(st, 6)) != 0)
		goto out;
	*out = ca;
	ca = NULL;
	rc = 0;
out:
	db_ca_free(ca);
	return rc;
}

int
db_cas_insert(struct db *db, const struct db_ca *ca, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*id = 0;
	rc = db_prepare(db, "INSERT INTO cas (name, slug, parent_id, kind, subject, cert_der, "
	    "fingerprint_sha256, keyref, key_spec, not_before, not_after, status, crl_number, created_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_text(st, 1, ca->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ca->slug, -1, SQLITE_STATIC);
	if (ca->parent_id > 0)
		sqlite3_bind_int64(st, 3, ca->parent_id);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_text(st, 4, ca->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, ca->subject, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 6, ca->cert_der.data, (int)ca->cert_der.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, ca->fingerprint_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, ca->keyref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, ca->key_spec, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, ca->not_before_ms);
	sqlite3_bind_int64(st, 11, ca->not_after_ms);
	sqlite3_bind_text(st, 12, ca->status != NULL ? ca->status : "active", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 13, ca->crl_number);
	sqlite3_bind_int64(st, 14, db_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, "insert CA");
		goto out;
	}
	*id = sqlite3_last_insert_rowid(db_handle(db));
	rc = 0;
out:
	sqlite3_finalize(st);
	return rc;
}

static int
db_cas_get_one(struct db *db, sqlite3_stmt *st, struct db_ca **out)
{
	int step = sqlite3_step(st);

	if (step == SQLITE_ROW)
		return db_ca_from_row(st, out);
	if (step == SQLITE_DONE)
		return HSMCA_E_NOTFOUND;
	return db_fail(db, "read CA");
}

int
db_cas_get_by_slug(struct db *db, const char *slug, struct db_ca **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, "SELECT " CA_COLUMNS " FROM cas WHERE slug = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_text(st, 1, slug, -1, SQLITE_STATIC);
	rc = db_cas_get_one(db, st, out);
	if (rc == HSMCA_E_NOTFOUND)
		err_set(rc, "unknown CA '%s'", slug);
	sqlite3_finalize(st);
	return rc;
}

int
db_cas_get_by_id(struct db *db, int64_t id, struct db_ca **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, "SELECT " CA_COLUMNS " FROM cas WHERE id = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = db_cas_get_one(db, st, out);
	if (rc == HSMCA_E_NOTFOUND)
		err_set(rc, "unknown CA id %lld", (long long)id);
	sqlite3_finalize(st);
	return rc;
}

int
db_cas_exists(struct db *db, const char *name, const char *slug, int *exists)
{
	sqlite3_stmt *st = NULL;
	int rc, step;

	*exists = 0;
	rc = db_prepare(db, "SELECT 1 FROM cas WHERE name = ?1 OR slug = ?2 LIMIT 1", &st);
	if (rc != 0)
		return rc;
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (slug != NULL)
		sqlite3_bind_text(st, 2, slug, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*exists = 1;
	else if (step != SQLITE_DONE)
		rc = db_fail(db, "look up CA");
	sqlite3_finalize(st);
	return rc;
}

int
db_cas_list(struct db *db, struct db_ca ***cas, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct db_ca **list = NULL, **grown, *ca = NULL;
	size_t count = 0;
	int rc, step;

	*cas = NULL;
	*n = 0;
	if ((rc = db_prepare(db, "SELECT " CA_COLUMNS " FROM cas ORDER BY id", &st)) != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = db_ca_from_row(st, &ca)) != 0)
			goto out;
		grown = realloc(list, (count + 1) * sizeof(*list));
		if (grown == NULL) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		list = grown;
		list[count++] = ca;
		ca = NULL;
	}
	if (step != SQLITE_DONE) {
		rc = db_fail(db, "list CAs");
		goto out;
	}
	*cas = list;
	*n = count;
	list = NULL;
	count = 0;
	rc = 0;
out:
	db_ca_free(ca);
	db_ca_list_free(list, count);
	sqlite3_finalize(st);
	return rc;
}
