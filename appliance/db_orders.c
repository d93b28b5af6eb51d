/*
 * db_orders.c: SQL for the orders table (see db_orders.h).
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_orders.h"
#include "err.h"

void
db_order_free(struct db_order *o)
{
	if (o == NULL)
		return;
	free(o->type);
	free(o->status);
	free(o->common_name);
	free(o->requested_by);
	free(o->params);
	free(o->error);
	free(o);
}

int
db_orders_insert(struct db *db, const char *type, const char *status, int64_t ca_id,
    const char *common_name, const char *requested_by, const char *params, int64_t *id)
{
	sqlite3_stmt *st = NULL;
	int64_t now = db_now_ms();
	int rc;

	*id = 0;
	rc = db_prepare(db, "INSERT INTO orders (type, status, ca_id, common_name, requested_by, params, "
	    "created_at, started_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_text(st, 1, type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	if (ca_id > 0)
		sqlite3_bind_int64(st, 3, ca_id);
	else
		sqlite3_bind_null(st, 3);
	if (common_name != NULL)
		sqlite3_bind_text(st, 4, common_name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_text(st, 5, requested_by, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, params != NULL ? params : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	if (strcmp(status, "processing") == 0)
		sqlite3_bind_int64(st, 8, now);
	else
		sqlite3_bind_null(st, 8);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, "insert order");
		goto out;
	}
	*id = sqlite3_last_insert_rowid(db_handle(db));
	rc = 0;
out:
	db_finalize(db, st);
	return rc;
}

int
db_orders_complete(struct db *db, int64_t id, int64_t certificate_id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = db_prepare(db, "UPDATE orders SET status = 'complete', certificate_id = ?2, finished_at = ?3 "
	    "WHERE id = ?1 AND status = 'processing'", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, certificate_id);
	sqlite3_bind_int64(st, 3, db_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "complete order");
	else if (sqlite3_changes(db_handle(db)) != 1)
		rc = err_set(HSMCA_E_CONFLICT, "order %lld is not processing", (long long)id);
	db_finalize(db, st);
	return rc;
}

int
db_orders_fail(struct db *db, int64_t id, const char *error)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = db_prepare(db, "UPDATE orders SET status = 'failed', error = ?2, finished_at = ?3, "
	    "started_at = COALESCE(started_at, ?3) WHERE id = ?1 AND status IN ('pending','processing')", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, error != NULL ? error : "failed", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, db_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "fail order");
	else if (sqlite3_changes(db_handle(db)) != 1)
		rc = err_set(HSMCA_E_CONFLICT, "order %lld is already finished", (long long)id);
	db_finalize(db, st);
	return rc;
}

int
db_orders_get(struct db *db, int64_t id, struct db_order **out)
{
	sqlite3_stmt *st = NULL;
	struct db_order *o = NULL;
	int rc, step;

	*out = NULL;
	rc = db_prepare(db, "SELECT id, type, status, ca_id, common_name, requested_by, params, error, "
	    "certificate_id, created_at, started_at, finished_at FROM orders WHERE id = ?1", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_DONE) {
		rc = err_set(HSMCA_E_NOTFOUND, "unknown order %lld", (long long)id);
		goto out;
	}
	if (step != SQLITE_ROW) {
		rc = db_fail(db, "read order");
		goto out;
	}
	rc = HSMCA_E_NOMEM;
	if ((o = calloc(1, sizeof(*o))) == NULL)
		goto out;
	o->id = sqlite3_column_int64(st, 0);
	o->ca_id = sqlite3_column_int64(st, 3);
	o->certificate_id = sqlite3_column_int64(st, 8);
	o->created_at_ms = sqlite3_column_int64(st, 9);
	o->started_at_ms = sqlite3_column_int64(st, 10);
	o->finished_at_ms = sqlite3_column_int64(st, 11);
	if (db_col_strdup(st, 1, &o->type) != 0 || db_col_strdup(st, 2, &o->status) != 0 ||
	    db_col_strdup(st, 4, &o->common_name) != 0 || db_col_strdup(st, 5, &o->requested_by) != 0 ||
	    db_col_strdup(st, 6, &o->params) != 0 || db_col_strdup(st, 7, &o->error) != 0)
		goto out;
	*out = o;
	o = NULL;
	rc = 0;
out:
	db_order_free(o);
	db_finalize(db, st);
	return rc;
}
