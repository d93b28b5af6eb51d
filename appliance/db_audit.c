/*
 * db_audit.c: SQL for the audit table (see db_audit.h).
 */
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_audit.h"
#include "err.h"

int
db_audit_last(struct db *db, int64_t *id, char hash[DB_AUDIT_HASH_HEX])
{
	sqlite3_stmt *st = NULL;
	const unsigned char *h;
	int rc, step;

	*id = 0;
	hash[0] = '\0';
	if ((rc = db_prepare(db, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1", &st)) != 0)
		return rc;
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		*id = sqlite3_column_int64(st, 0);
		h = sqlite3_column_text(st, 1);
		if (h == NULL || sqlite3_column_bytes(st, 1) != DB_AUDIT_HASH_HEX - 1)
			rc = err_set(HSMCA_E_DB, "audit row %lld has a malformed hash", (long long)*id);
		else
			memcpy(hash, h, DB_AUDIT_HASH_HEX);
	} else if (step != SQLITE_DONE) {
		rc = db_fail(db, "read last audit row");
	}
	db_finalize(db, st);
	return rc;
}

int
db_audit_insert(struct db *db, const struct db_audit_row *r)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = db_prepare(db, "INSERT INTO audit (id, at, actor, ip, event, object, details, prev_hash, hash) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int64(st, 2, r->at_ms);
	sqlite3_bind_text(st, 3, r->actor, -1, SQLITE_STATIC);
	if (r->ip != NULL)
		sqlite3_bind_text(st, 4, r->ip, -1, SQLITE_STATIC);
	if (r->object != NULL)
		sqlite3_bind_text(st, 6, r->object, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->details, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->prev_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "insert audit row");
	db_finalize(db, st);
	return rc;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int
db_audit_walk(struct db *db, int (*cb)(const struct db_audit_row *row, void *arg), void *arg)
{
	sqlite3_stmt *st = NULL;
	struct db_audit_row r;
	int rc, step;

	rc = db_prepare(db, "SELECT id, at, actor, ip, event, object, details, prev_hash, hash FROM audit "
	    "ORDER BY id", &st);
	if (rc != 0)
		return rc;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		r.id = sqlite3_column_int64(st, 0);
		r.at_ms = sqlite3_column_int64(st, 1);
		r.actor = col_text(st, 2);
		r.ip = col_text(st, 3);
		r.event = col_text(st, 4);
		r.object = col_text(st, 5);
		r.details = col_text(st, 6);
		r.prev_hash = col_text(st, 7);
		r.hash = col_text(st, 8);
		if ((rc = cb(&r, arg)) != 0)
			goto out;
	}
	if (step != SQLITE_DONE)
		rc = db_fail(db, "read audit rows");
out:
	db_finalize(db, st);
	return rc;
}
