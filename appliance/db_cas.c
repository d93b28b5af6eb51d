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
	"key_spec, not_before, not_after, status, crl_number, created_at, key_gen"

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
	ca->key_gen = sqlite3_column_int64(st, 15);
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
	db_finalize(db, st);
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
	db_finalize(db, st);
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
	db_finalize(db, st);
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
	db_finalize(db, st);
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
	db_finalize(db, st);
	return rc;
}

/* ---------------------------------------------------------------- rollover (migration 4) */

#define NEXT_COLUMNS "ca_id, cert_der, serial, fingerprint_sha256, keyref, key_spec, not_before, " \
	"not_after, ra_keyref, ra_cert_der, created_by, created_at"

void
db_ca_next_free(struct db_ca_next *n)
{
	if (n == NULL)
		return;
	buf_free(&n->cert_der);
	free(n->serial);
	free(n->fingerprint_sha256);
	free(n->keyref);
	free(n->key_spec);
	free(n->ra_keyref);
	buf_free(&n->ra_cert_der);
	free(n->created_by);
	free(n);
}

int
db_cas_next_insert(struct db *db, const struct db_ca_next *next)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = db_prepare(db, "INSERT INTO ca_next (" NEXT_COLUMNS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, next->ca_id);
	sqlite3_bind_blob(st, 2, next->cert_der.data, (int)next->cert_der.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, next->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, next->fingerprint_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, next->keyref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, next->key_spec, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, next->not_before_ms);
	sqlite3_bind_int64(st, 8, next->not_after_ms);
	sqlite3_bind_text(st, 9, next->ra_keyref, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 10, next->ra_cert_der.data, (int)next->ra_cert_der.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 11, next->created_by, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, db_now_ms());
	return db_step_done(db, st, "insert next CA certificate");
}

int
db_cas_next_get(struct db *db, int64_t ca_id, struct db_ca_next **out)
{
	sqlite3_stmt *st = NULL;
	struct db_ca_next *n = NULL;
	int rc, step;

	*out = NULL;
	if ((rc = db_prepare(db, "SELECT " NEXT_COLUMNS " FROM ca_next WHERE ca_id = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = err_set(HSMCA_E_NOTFOUND, "CA id %lld has no pending rollover", (long long)ca_id);
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = db_fail(db, "read next CA certificate");
		goto out;
	}
	rc = HSMCA_E_NOMEM;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		goto out;
	n->ca_id = sqlite3_column_int64(st, 0);
	n->not_before_ms = sqlite3_column_int64(st, 6);
	n->not_after_ms = sqlite3_column_int64(st, 7);
	n->created_at_ms = sqlite3_column_int64(st, 11);
	if (buf_set(&n->cert_der, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1)) != 0 ||
	    db_col_strdup(st, 2, &n->serial) != 0 || db_col_strdup(st, 3, &n->fingerprint_sha256) != 0 ||
	    db_col_strdup(st, 4, &n->keyref) != 0 || db_col_strdup(st, 5, &n->key_spec) != 0 ||
	    db_col_strdup(st, 8, &n->ra_keyref) != 0 ||
	    buf_set(&n->ra_cert_der, sqlite3_column_blob(st, 9), (size_t)sqlite3_column_bytes(st, 9)) != 0 ||
	    db_col_strdup(st, 10, &n->created_by) != 0)
		goto out;
	*out = n;
	n = NULL;
	rc = 0;
out:
	db_ca_next_free(n);
	db_finalize(db, st);
	return rc;
}

int
db_cas_next_delete(struct db *db, int64_t ca_id, const char *fingerprint)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "DELETE FROM ca_next WHERE ca_id = ?1 AND fingerprint_sha256 = ?2", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_text(st, 2, fingerprint, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "delete next CA certificate");
	else if (sqlite3_changes(db_handle(db)) == 0)
		rc = err_set(HSMCA_E_NOTFOUND, "CA id %lld has no such pending rollover", (long long)ca_id);
	db_finalize(db, st);
	return rc;
}

/* Runs st (bound by the caller) and requires it to change exactly one row; else err_code. */
static int
db_cas_step_one(struct db *db, sqlite3_stmt *st, const char *what, int err_code, const char *why)
{
	int rc = 0;

	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, what);
	else if (sqlite3_changes(db_handle(db)) != 1)
		rc = err_set(err_code, "%s", why);
	db_finalize(db, st);
	return rc;
}

int
db_cas_next_activate(struct db *db, const struct db_ca *ca, const struct db_ca_next *next, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* The RA columns come from scep_cas as they are now (NULL when the CA never had an RA). */
	rc = db_prepare(db, "INSERT INTO ca_cert_history (ca_id, cert_der, fingerprint_sha256, keyref, key_spec, "
	    "not_before, not_after, ra_keyref, ra_cert_der, retired_at, key_gen) "
	    "SELECT c.id, c.cert_der, c.fingerprint_sha256, c.keyref, c.key_spec, c.not_before, c.not_after, "
	    "s.ra_keyref, s.ra_cert_der, ?2, c.key_gen FROM cas c LEFT JOIN scep_cas s ON s.ca_id = c.id "
	    "WHERE c.id = ?1 AND c.fingerprint_sha256 = ?3", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca->id);
	sqlite3_bind_int64(st, 2, now_ms);
	sqlite3_bind_text(st, 3, ca->fingerprint_sha256, -1, SQLITE_STATIC);
	if ((rc = db_cas_step_one(db, st, "retire CA certificate", HSMCA_E_CONFLICT,
	    "the CA's certificate changed meanwhile")) != 0)
		return rc;

	rc = db_prepare(db, "UPDATE cas SET cert_der = ?3, fingerprint_sha256 = ?4, keyref = ?5, key_spec = ?6, "
	    "not_before = ?7, not_after = ?8, key_gen = key_gen + 1 WHERE id = ?1 AND fingerprint_sha256 = ?2", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca->id);
	sqlite3_bind_text(st, 2, ca->fingerprint_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, next->cert_der.data, (int)next->cert_der.len, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, next->fingerprint_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, next->keyref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, next->key_spec, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, next->not_before_ms);
	sqlite3_bind_int64(st, 8, next->not_after_ms);
	if ((rc = db_cas_step_one(db, st, "activate next CA certificate", HSMCA_E_CONFLICT,
	    "the CA's certificate changed meanwhile")) != 0)
		return rc;

	/* A CA without a scep_cas row has the defaults (db_scep.h); the row made here keeps them. */
	rc = db_prepare(db, "INSERT INTO scep_cas (ca_id, ra_keyref, ra_cert_der, ra_created_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (ca_id) DO UPDATE SET ra_keyref = excluded.ra_keyref, "
	    "ra_cert_der = excluded.ra_cert_der, ra_created_at = excluded.ra_created_at, "
	    "updated_at = excluded.updated_at", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca->id);
	sqlite3_bind_text(st, 2, next->ra_keyref, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, next->ra_cert_der.data, (int)next->ra_cert_der.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, now_ms);
	if ((rc = db_step_done(db, st, "switch SCEP RA")) != 0)
		return rc;
	return db_cas_next_delete(db, ca->id, next->fingerprint_sha256);
}

void
db_ca_history_list_free(struct db_ca_history *h, size_t n)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < n; i++) {
		buf_free(&h[i].cert_der);
		free(h[i].fingerprint_sha256);
		free(h[i].keyref);
		free(h[i].key_spec);
	}
	free(h);
}

int
db_cas_history_list(struct db *db, int64_t ca_id, struct db_ca_history **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct db_ca_history *list = NULL, *grown, *h;
	size_t count = 0;
	int rc, step;

	*out = NULL;
	*n = 0;
	rc = db_prepare(db, "SELECT id, cert_der, fingerprint_sha256, keyref, key_spec, not_before, not_after, "
	    "retired_at, key_gen FROM ca_cert_history WHERE ca_id = ?1 ORDER BY id DESC", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if ((grown = realloc(list, (count + 1) * sizeof(*list))) == NULL) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		list = grown;
		h = &list[count++];
		memset(h, 0, sizeof(*h));
		h->id = sqlite3_column_int64(st, 0);
		h->not_before_ms = sqlite3_column_int64(st, 5);
		h->not_after_ms = sqlite3_column_int64(st, 6);
		h->retired_at_ms = sqlite3_column_int64(st, 7);
		h->key_gen = sqlite3_column_int64(st, 8);
		if (buf_set(&h->cert_der, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1)) != 0 ||
		    db_col_strdup(st, 2, &h->fingerprint_sha256) != 0 || db_col_strdup(st, 3, &h->keyref) != 0 ||
		    db_col_strdup(st, 4, &h->key_spec) != 0) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
	}
	if (step != SQLITE_DONE) {
		rc = db_fail(db, "list CA certificate history");
		goto out;
	}
	*out = list;
	*n = count;
	list = NULL;
	count = 0;
	rc = 0;
out:
	db_ca_history_list_free(list, count);
	db_finalize(db, st);
	return rc;
}
