/*
 * db_audit_query.c: SQL for the audit list of the REST API (see db_audit_query.h). One fixed
 * statement; optional filters are "(?N IS NULL OR ...)". An event prefix is compared with
 * substr(), not LIKE, so '%' and '_' stay literal.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_audit_query.h"
#include "err.h"

void
db_audit_items_free(struct db_audit_item *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(items[i].actor);
		free(items[i].ip);
		free(items[i].event);
		free(items[i].object);
		free(items[i].details);
		free(items[i].hash);
	}
	free(items);
}

int
db_audit_query_list(struct db *db, const struct db_audit_filter *f, int64_t before_id, int limit,
    struct db_audit_item **items, size_t *n)
{
	static const char sql[] =
	    "SELECT id, at, actor, ip, event, object, details, hash FROM audit WHERE "
	    "(?1 IS NULL OR event = ?1) AND (?2 IS NULL OR substr(event, 1, length(?2)) = ?2) AND "
	    "(?3 IS NULL OR actor = ?3) AND (?4 IS NULL OR object = ?4) AND "
	    "(?5 IS NULL OR at >= ?5) AND (?6 IS NULL OR at < ?6) AND (?7 IS NULL OR id < ?7) "
	    "ORDER BY id DESC LIMIT ?8";
	struct db_audit_item *out = NULL, *it;
	sqlite3_stmt *st = NULL;
	size_t cnt = 0, elen;
	int rc, step = SQLITE_DONE;

	*items = NULL;
	*n = 0;
	if (limit <= 0)
		return 0;
	if ((out = calloc((size_t)limit, sizeof(*out))) == NULL)
		return HSMCA_E_NOMEM;
	if ((rc = db_prepare(db, sql, &st)) != 0)
		goto out;
	if (f->event != NULL) {
		elen = strlen(f->event);
		sqlite3_bind_text(st, elen > 0 && f->event[elen - 1] == '.' ? 2 : 1, f->event, -1, SQLITE_STATIC);
	}
	if (f->actor != NULL)
		sqlite3_bind_text(st, 3, f->actor, -1, SQLITE_STATIC);
	if (f->object != NULL)
		sqlite3_bind_text(st, 4, f->object, -1, SQLITE_STATIC);
	if (f->since_ms > 0)
		sqlite3_bind_int64(st, 5, f->since_ms);
	if (f->until_ms > 0)
		sqlite3_bind_int64(st, 6, f->until_ms);
	if (before_id > 0)
		sqlite3_bind_int64(st, 7, before_id);
	sqlite3_bind_int(st, 8, limit);
	while (cnt < (size_t)limit && (step = sqlite3_step(st)) == SQLITE_ROW) {
		it = &out[cnt++];
		it->id = sqlite3_column_int64(st, 0);
		it->at_ms = sqlite3_column_int64(st, 1);
		if (db_col_strdup(st, 2, &it->actor) != 0 || db_col_strdup(st, 3, &it->ip) != 0 ||
		    db_col_strdup(st, 4, &it->event) != 0 || db_col_strdup(st, 5, &it->object) != 0 ||
		    db_col_strdup(st, 6, &it->details) != 0 || db_col_strdup(st, 7, &it->hash) != 0) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
	}
	if (cnt < (size_t)limit && step != SQLITE_DONE) {
		rc = db_fail(db, "list audit rows");
		goto out;
	}
	*items = out;
	*n = cnt;
	out = NULL;
	rc = 0;
out:
	db_finalize(db, st);
	db_audit_items_free(out, cnt);
	return rc;
}
