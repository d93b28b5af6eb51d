/*
 * db_orders_query.c: SQL for the order lists of the REST API (see db_orders_query.h). One fixed
 * statement; optional filters are "(?N IS NULL OR ...)".
 */
#include <stdlib.h>

#include <sqlite3.h>

#include "db.h"
#include "db_orders_query.h"
#include "err.h"

int
db_orders_query_ids(struct db *db, const struct db_orders_filter *f, int64_t before_id, int limit,
    int64_t **ids, size_t *n)
{
	static const char sql[] =
	    "SELECT id FROM orders WHERE "
	    "(?1 IS NULL OR status = ?1) AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR ca_id = ?3) AND "
	    "(?4 IS NULL OR requested_by = ?4) AND "
	    "(?5 IS NULL OR ca_id IN (SELECT tc.ca_id FROM team_cas tc JOIN team_members tm "
	    " ON tm.team_id = tc.team_id WHERE tm.user_id = ?5)) AND "
	    "(?6 IS NULL OR id < ?6) ORDER BY id DESC LIMIT ?7";
	sqlite3_stmt *st = NULL;
	int64_t *out = NULL;
	size_t cnt = 0;
	int rc, step;

	*ids = NULL;
	*n = 0;
	if (limit <= 0)
		return 0;
	if ((out = calloc((size_t)limit, sizeof(*out))) == NULL)
		return HSMCA_E_NOMEM;
	if ((rc = db_prepare(db, sql, &st)) != 0)
		goto out;
	if (f->status != NULL)
		sqlite3_bind_text(st, 1, f->status, -1, SQLITE_STATIC);
	if (f->type != NULL)
		sqlite3_bind_text(st, 2, f->type, -1, SQLITE_STATIC);
	if (f->ca_id > 0)
		sqlite3_bind_int64(st, 3, f->ca_id);
	if (f->requested_by != NULL)
		sqlite3_bind_text(st, 4, f->requested_by, -1, SQLITE_STATIC);
	if (f->visible_to_user > 0)
		sqlite3_bind_int64(st, 5, f->visible_to_user);
	if (before_id > 0)
		sqlite3_bind_int64(st, 6, before_id);
	sqlite3_bind_int(st, 7, limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && cnt < (size_t)limit)
		out[cnt++] = sqlite3_column_int64(st, 0);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = db_fail(db, "list orders");
		goto out;
	}
	*ids = out;
	out = NULL;
	*n = cnt;
	rc = 0;
out:
	db_finalize(db, st);
	free(out);
	return rc;
}
