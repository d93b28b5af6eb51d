/*
 * db_cas_query.c: SQL for the REST API's CA changes (see db_cas_query.h).
 */
#include <stddef.h>

#include <sqlite3.h>

#include "db.h"
#include "db_cas_query.h"
#include "err.h"

int
db_cas_query_settings(struct db *db, int64_t id, struct db_ca_settings *out)
{
	sqlite3_stmt *st = NULL;
	int rc, step;

	out->crl_validity_days = 0;
	out->scep_enabled = 0;
	if ((rc = db_prepare(db, "SELECT coalesce(crl_validity_days, 0), scep_enabled FROM cas WHERE id = ?1",
	    &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		out->crl_validity_days = sqlite3_column_int(st, 0);
		out->scep_enabled = sqlite3_column_int(st, 1);
	} else if (step == SQLITE_DONE) {
		rc = err_set(HSMCA_E_NOTFOUND, "no CA has id %lld", (long long)id);
	} else {
		rc = db_fail(db, "read CA settings");
	}
	db_finalize(db, st);
	return rc;
}

int
db_cas_query_update(struct db *db, int64_t id, const char *name, const char *status, int crl_validity_days)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = db_prepare(db, "UPDATE cas SET name = coalesce(?2, name), status = coalesce(?3, status), "
	    "crl_validity_days = CASE WHEN ?4 IS NULL THEN crl_validity_days WHEN ?4 = 0 THEN NULL ELSE ?4 END "
	    "WHERE id = ?1", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (name != NULL)
		sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (status != NULL)
		sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	if (crl_validity_days >= 0)
		sqlite3_bind_int(st, 4, crl_validity_days);
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, "update CA");
		if (rc == HSMCA_E_EXISTS && name != NULL)
			rc = err_set(HSMCA_E_EXISTS, "a CA named '%s' already exists", name);
	} else if (sqlite3_changes(db_handle(db)) == 0) {
		rc = err_set(HSMCA_E_NOTFOUND, "no CA has id %lld", (long long)id);
	}
	db_finalize(db, st);
	return rc;
}

int
db_cas_query_count_children(struct db *db, int64_t id, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*n = 0;
	if ((rc = db_prepare(db, "SELECT count(*) FROM cas WHERE parent_id = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		rc = db_fail(db, "count child CAs");
	db_finalize(db, st);
	return rc;
}

/* The statements of a delete, in order: detach what the inventory keeps, drop what only means
 * something with the CA, then the row itself. */
static const char *const delete_sql[] = {
	"UPDATE certificates SET ca_id = NULL WHERE ca_id = ?1",
	"UPDATE orders SET ca_id = NULL WHERE ca_id = ?1",
	"UPDATE scep_logs SET ca_id = NULL WHERE ca_id = ?1",
	"DELETE FROM scep_auth WHERE ca_id = ?1",
	"DELETE FROM crls WHERE ca_id = ?1",
	"DELETE FROM team_cas WHERE ca_id = ?1",
	"DELETE FROM cas WHERE id = ?1",
};

int
db_cas_query_delete(struct db *db, int64_t id)
{
	sqlite3_stmt *st = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(delete_sql) / sizeof(delete_sql[0]); i++) {
		if ((rc = db_prepare(db, delete_sql[i], &st)) != 0)
			return rc;
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) != SQLITE_DONE) {
			if (sqlite3_extended_errcode(db_handle(db)) == SQLITE_CONSTRAINT_FOREIGNKEY)
				rc = err_set(HSMCA_E_CONFLICT, "other records still refer to this CA");
			else
				rc = db_fail(db, "delete CA");
			db_finalize(db, st);
			return rc;
		}
		if (i + 1 == sizeof(delete_sql) / sizeof(delete_sql[0]) && sqlite3_changes(db_handle(db)) == 0)
			rc = err_set(HSMCA_E_NOTFOUND, "no CA has id %lld", (long long)id);
		db_finalize(db, st);
		st = NULL;
	}
	return rc;
}
