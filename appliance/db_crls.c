/*
 * db_crls.c: SQL for CRL publication (see db_crls.h).
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_crls.h"
#include "err.h"

#define CRL_COLUMNS "id, ca_id, number, this_update, next_update, entry_count, created_at, key_gen"

void
db_crl_free(struct db_crl *c)
{
	if (c == NULL)
		return;
	buf_free(&c->der);
	free(c);
}

void
db_crl_list_free(struct db_crl **c, size_t n)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < n; i++)
		db_crl_free(c[i]);
	free(c);
}

int
db_crls_read_begin(struct db *db)
{
	if (sqlite3_exec(db_handle(db), "BEGIN DEFERRED", NULL, NULL, NULL) != SQLITE_OK)
		return db_fail(db, "begin read transaction");
	return 0;
}

int
db_crls_ca_state(struct db *db, int64_t ca_id, struct db_crls_ca_state *out)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	memset(out, 0, sizeof(*out));
	if ((rc = db_prepare(db, "SELECT crl_number, crl_next_update, crl_validity_days FROM cas "
	    "WHERE id = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		out->crl_number = sqlite3_column_int64(st, 0);
		out->has_due = sqlite3_column_type(st, 1) != SQLITE_NULL;
		out->due_ms = out->has_due ? sqlite3_column_int64(st, 1) : 0;
		out->validity_days = sqlite3_column_type(st, 2) != SQLITE_NULL ? sqlite3_column_int(st, 2) : 0;
		rc = 0;
	} else if (s == SQLITE_DONE) {
		rc = err_set(HSMCA_E_NOTFOUND, "unknown CA id %lld", (long long)ca_id);
	} else {
		rc = db_fail(db, "read CA CRL state");
	}
	db_finalize(db, st);
	return rc;
}

int
db_crls_revoked_stats(struct db *db, int64_t ca_id, int64_t key_gen, uint64_t *n, size_t *max_serial_hex,
    uint64_t *n_with_reason)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*n = 0;
	*max_serial_hex = 0;
	*n_with_reason = 0;
	if ((rc = db_prepare(db, "SELECT count(*), coalesce(max(length(serial)), 0), "
	    "coalesce(sum(CASE WHEN revocation_reason IS NOT NULL AND revocation_reason <> 0 THEN 1 "
	    "ELSE 0 END), 0) FROM certificates WHERE ca_id = ?1 AND revoked_at IS NOT NULL AND ca_key_gen = ?2",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_int64(st, 2, key_gen);
	if (sqlite3_step(st) != SQLITE_ROW) {
		rc = db_fail(db, "count revoked certificates");
	} else {
		*n = (uint64_t)sqlite3_column_int64(st, 0);
		*max_serial_hex = (size_t)sqlite3_column_int64(st, 1);
		*n_with_reason = (uint64_t)sqlite3_column_int64(st, 2);
	}
	db_finalize(db, st);
	return rc;
}

int
db_crls_revoked_walk(struct db *db, int64_t ca_id, int64_t key_gen,
    int (*cb)(const char *serial_hex, int64_t revoked_at_ms, int reason, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	if ((rc = db_prepare(db, "SELECT serial, revoked_at, coalesce(revocation_reason, 0) FROM certificates "
	    "WHERE ca_id = ?1 AND revoked_at IS NOT NULL AND ca_key_gen = ?2 ORDER BY revoked_at, id", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_int64(st, 2, key_gen);
	rc = 0;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *serial = (const char *)sqlite3_column_text(st, 0);

		if (serial == NULL) {
			rc = err_set(HSMCA_E_DB, "a revoked certificate of CA %lld has no serial", (long long)ca_id);
			break;
		}
		if ((rc = cb(serial, sqlite3_column_int64(st, 1), sqlite3_column_int(st, 2), arg)) != 0)
			break;
	}
	if (rc == 0 && s != SQLITE_DONE)
		rc = db_fail(db, "read revoked certificates");
	db_finalize(db, st);
	return rc;
}

int
db_crls_gen_live(struct db *db, int64_t ca_id, int64_t key_gen, int64_t now_ms, int *live)
{
	sqlite3_stmt *st = NULL;
	int rc, s;

	*live = 0;
	if ((rc = db_prepare(db, "SELECT 1 FROM certificates WHERE ca_id = ?1 AND ca_key_gen = ?2 AND "
	    "not_after > ?3 LIMIT 1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_int64(st, 2, key_gen);
	sqlite3_bind_int64(st, 3, now_ms);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		*live = 1;
	else if (s != SQLITE_DONE)
		rc = db_fail(db, "look for unexpired certificates of a key generation");
	db_finalize(db, st);
	return rc;
}

/* db_crls_store's due time: set only if it still holds what the build read. */
static int
store_due(struct db *db, int64_t ca_id, int64_t seen_due_ms, int seen_has_due, int64_t next_due_ms, int *still_due)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "UPDATE cas SET crl_next_update = ?3 WHERE id = ?1 AND crl_next_update IS ?2",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	if (seen_has_due)
		sqlite3_bind_int64(st, 2, seen_due_ms);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, next_due_ms);
	if ((rc = db_step_done(db, st, "set CRL due time")) != 0)
		return rc;
	*still_due = sqlite3_changes(db_handle(db)) != 1;
	return 0;
}

int
db_crls_store(struct db *db, int64_t expected_number, const struct db_crl *crl, int set_due,
    int64_t seen_due_ms, int seen_has_due, int64_t next_due_ms, int64_t *id, int *still_due)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*id = 0;
	*still_due = 1;
	if (crl->number != expected_number + 1)
		return err_set(HSMCA_E_INTERNAL, "CRL number %lld does not follow %lld", (long long)crl->number,
		    (long long)expected_number);
	/* Compare-and-set: two publishers that read the same number cannot both store. */
	if ((rc = db_prepare(db, "UPDATE cas SET crl_number = ?3 WHERE id = ?1 AND crl_number = ?2", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, crl->ca_id);
	sqlite3_bind_int64(st, 2, expected_number);
	sqlite3_bind_int64(st, 3, crl->number);
	if ((rc = db_step_done(db, st, "bump CRL number")) != 0)
		return rc;
	if (sqlite3_changes(db_handle(db)) != 1)
		return err_set(HSMCA_E_CONFLICT, "another CRL was published for this CA meanwhile");

	if ((rc = db_prepare(db, "INSERT INTO crls (ca_id, number, this_update, next_update, entry_count, "
	    "der, created_at, key_gen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, crl->ca_id);
	sqlite3_bind_int64(st, 2, crl->number);
	sqlite3_bind_int64(st, 3, crl->this_update_ms);
	sqlite3_bind_int64(st, 4, crl->next_update_ms);
	sqlite3_bind_int64(st, 5, crl->entry_count);
	sqlite3_bind_blob64(st, 6, crl->der.data, crl->der.len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, db_now_ms());
	sqlite3_bind_int64(st, 8, crl->key_gen > 0 ? crl->key_gen : 1);
	if ((rc = db_step_done(db, st, "insert CRL")) != 0)
		return rc;
	*id = sqlite3_last_insert_rowid(db_handle(db));

	if (set_due && (rc = store_due(db, crl->ca_id, seen_due_ms, seen_has_due, next_due_ms, still_due)) != 0)
		return rc;

	/* Numbers are shared by the generations: keep the newest DB_CRLS_KEEP_DER of this one. */
	if ((rc = db_prepare(db, "UPDATE crls SET der = x'' WHERE ca_id = ?1 AND key_gen = ?2 AND length(der) > 0 "
	    "AND number < (SELECT number FROM crls WHERE ca_id = ?1 AND key_gen = ?2 ORDER BY number DESC "
	    "LIMIT 1 OFFSET ?3)", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, crl->ca_id);
	sqlite3_bind_int64(st, 2, crl->key_gen > 0 ? crl->key_gen : 1);
	sqlite3_bind_int(st, 3, DB_CRLS_KEEP_DER - 1);
	return db_step_done(db, st, "prune old CRL DERs");
}

static int
crl_row(sqlite3_stmt *st, int with_der, struct db_crl **out)
{
	struct db_crl *c;
	int rc;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return HSMCA_E_NOMEM;
	c->id = sqlite3_column_int64(st, 0);
	c->ca_id = sqlite3_column_int64(st, 1);
	c->number = sqlite3_column_int64(st, 2);
	c->this_update_ms = sqlite3_column_int64(st, 3);
	c->next_update_ms = sqlite3_column_int64(st, 4);
	c->entry_count = sqlite3_column_int64(st, 5);
	c->created_at_ms = sqlite3_column_int64(st, 6);
	c->key_gen = sqlite3_column_int64(st, 7);
	if (with_der && sqlite3_column_bytes(st, 8) > 0) {
		const void *d = sqlite3_column_blob(st, 8);

		if (d == NULL || (rc = buf_set(&c->der, d, (size_t)sqlite3_column_bytes(st, 8))) != 0) {
			db_crl_free(c);
			return HSMCA_E_NOMEM;
		}
	}
	*out = c;
	return 0;
}

static int
get_one(struct db *db, sqlite3_stmt *st, int with_der, struct db_crl **out)
{
	int s = sqlite3_step(st), rc;

	if (s == SQLITE_ROW)
		rc = crl_row(st, with_der, out);
	else if (s == SQLITE_DONE)
		rc = HSMCA_E_NOTFOUND;
	else
		rc = db_fail(db, "read CRL");
	db_finalize(db, st);
	return rc;
}

/* key_gen 0: the CA's current generation. */
int
db_crls_latest_gen(struct db *db, int64_t ca_id, int64_t key_gen, int with_der, struct db_crl **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, with_der ? "SELECT " CRL_COLUMNS ", der FROM crls WHERE ca_id = ?1 AND key_gen = "
	    "coalesce(?2, (SELECT key_gen FROM cas WHERE id = ?1)) ORDER BY number DESC LIMIT 1" :
	    "SELECT " CRL_COLUMNS " FROM crls WHERE ca_id = ?1 AND key_gen = "
	    "coalesce(?2, (SELECT key_gen FROM cas WHERE id = ?1)) ORDER BY number DESC LIMIT 1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	if (key_gen > 0)
		sqlite3_bind_int64(st, 2, key_gen);
	else
		sqlite3_bind_null(st, 2);
	rc = get_one(db, st, with_der, out);
	if (rc == HSMCA_E_NOTFOUND)
		err_set(rc, "no CRL has been published for this CA yet");
	return rc;
}

int
db_crls_latest(struct db *db, int64_t ca_id, int with_der, struct db_crl **out)
{
	return db_crls_latest_gen(db, ca_id, 0, with_der, out);
}

int
db_crls_get(struct db *db, int64_t id, int with_der, struct db_crl **out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_prepare(db, with_der ? "SELECT " CRL_COLUMNS ", der FROM crls WHERE id = ?1" :
	    "SELECT " CRL_COLUMNS " FROM crls WHERE id = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	rc = get_one(db, st, with_der, out);
	if (rc == HSMCA_E_NOTFOUND)
		err_set(rc, "unknown CRL id %lld", (long long)id);
	return rc;
}

int
db_crls_list(struct db *db, int64_t ca_id, int64_t before_number, int limit, struct db_crl ***out,
    size_t *n)
{
	sqlite3_stmt *st = NULL;
	struct db_crl **arr = NULL;
	size_t cnt = 0;
	int rc, s;

	*out = NULL;
	*n = 0;
	if (limit <= 0 || limit > 1000)
		return err_set(HSMCA_E_INVALID, "limit must be 1 to 1000");
	if ((arr = calloc((size_t)limit, sizeof(*arr))) == NULL)
		return HSMCA_E_NOMEM;
	if ((rc = db_prepare(db, "SELECT " CRL_COLUMNS " FROM crls WHERE ca_id = ?1 AND (?2 = 0 OR number < ?2) "
	    "ORDER BY number DESC LIMIT ?3", &st)) != 0)
		goto out;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_int64(st, 2, before_number);
	sqlite3_bind_int(st, 3, limit);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = crl_row(st, 0, &arr[cnt])) != 0)
			goto out;
		cnt++;
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "list CRLs");
		goto out;
	}
	*out = arr;
	*n = cnt;
	arr = NULL;
	rc = 0;
out:
	db_finalize(db, st);
	db_crl_list_free(arr, cnt);
	return rc;
}

int
db_crls_due(struct db *db, int64_t now_ms, int64_t **ids, size_t *n)
{
	sqlite3_stmt *st = NULL;
	int64_t *arr = NULL, *na;
	size_t cnt = 0, cap = 0;
	int rc, s;

	*ids = NULL;
	*n = 0;
	if ((rc = db_prepare(db, "SELECT id FROM cas WHERE status <> 'retired' AND "
	    "(crl_next_update IS NULL OR crl_next_update <= ?1) ORDER BY id", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, now_ms);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			if ((na = realloc(arr, cap * sizeof(*arr))) == NULL) {
				rc = HSMCA_E_NOMEM;
				goto out;
			}
			arr = na;
		}
		arr[cnt++] = sqlite3_column_int64(st, 0);
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "list CAs with a due CRL");
		goto out;
	}
	*ids = arr;
	*n = cnt;
	arr = NULL;
	rc = 0;
out:
	db_finalize(db, st);
	free(arr);
	return rc;
}
