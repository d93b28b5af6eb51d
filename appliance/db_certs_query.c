/*
 * db_certs_query.c: SQL for the certificate lists of the REST API (see db_certs_query.h).
 *
 * One fixed statement per query: each optional filter is written "(?N IS NULL OR ...)", so no
 * SQL text is ever assembled from input and the statement stays the same for every request.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_certs_query.h"
#include "err.h"

static void
bind_text_or_null(sqlite3_stmt *st, int i, const char *s)
{
	if (s != NULL)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void
bind_pos_or_null(sqlite3_stmt *st, int i, int64_t v)
{
	if (v > 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int
db_certs_query_ids(struct db *db, const struct db_certs_filter *f, int64_t before_id, int limit,
    int64_t **ids, size_t *n)
{
	/* Status is derived exactly as db_cert_status() does: revoked, else expired, else active.
	 * q compares lower-cased text with instr(), not LIKE, so '%' and '_' in a search are
	 * literal characters. */
	static const char sql[] =
	    "SELECT id FROM certificates WHERE "
	    "(?1 IS NULL OR source = ?1) AND "
	    "(?2 IS NULL OR (?2 = 'revoked' AND revoked_at IS NOT NULL) OR "
	    " (?2 = 'expired' AND revoked_at IS NULL AND not_after <= ?9) OR "
	    " (?2 = 'active' AND revoked_at IS NULL AND not_after > ?9)) AND "
	    "(?3 IS NULL OR ca_id = ?3) AND "
	    "(?4 IS NULL OR (revoked_at IS NULL AND not_after > ?9 AND not_after <= ?9 + ?4)) AND "
	    "(?5 IS NULL OR instr(lower(coalesce(common_name, '')), lower(?5)) > 0 "
	    " OR instr(lower(sans), lower(?5)) > 0) AND "
	    "(?6 IS NULL OR instr(tags, ?6) > 0) AND "
	    "(?7 IS NULL OR ca_id IN (SELECT tc.ca_id FROM team_cas tc JOIN team_members tm "
	    " ON tm.team_id = tc.team_id WHERE tm.user_id = ?7)) AND "
	    "(?8 IS NULL OR id < ?8) "
	    "ORDER BY id DESC LIMIT ?10";
	sqlite3_stmt *st = NULL;
	int64_t *out = NULL;
	size_t cnt = 0;
	int rc, step;

	*ids = NULL;
	*n = 0;
	if (limit <= 0)
		return 0;
	out = calloc((size_t)limit, sizeof(*out));
	if (out == NULL)
		return HSMCA_E_NOMEM;
	if ((rc = db_prepare(db, sql, &st)) != 0)
		goto out;
	bind_text_or_null(st, 1, f->source);
	bind_text_or_null(st, 2, f->status);
	bind_pos_or_null(st, 3, f->ca_id);
	if (f->expiring_within_ms >= 0)
		sqlite3_bind_int64(st, 4, f->expiring_within_ms);
	else
		sqlite3_bind_null(st, 4);
	bind_text_or_null(st, 5, f->q);
	bind_text_or_null(st, 6, f->tag_json);
	bind_pos_or_null(st, 7, f->visible_to_user);
	bind_pos_or_null(st, 8, before_id);
	sqlite3_bind_int64(st, 9, f->now_ms);
	sqlite3_bind_int(st, 10, limit);
	while ((step = sqlite3_step(st)) == SQLITE_ROW && cnt < (size_t)limit)
		out[cnt++] = sqlite3_column_int64(st, 0);
	if (step != SQLITE_ROW && step != SQLITE_DONE) {
		rc = db_fail(db, "list certificates");
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

int
db_certs_query_set_tags(struct db *db, int64_t id, const char *tags_json)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = db_prepare(db, "UPDATE certificates SET tags = ?2 WHERE id = ?1", &st)) != 0)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, tags_json, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "set certificate tags");
	else if (sqlite3_changes(db_handle(db)) == 0)
		rc = err_set(HSMCA_E_NOTFOUND, "unknown certificate id %lld", (long long)id);
	db_finalize(db, st);
	return rc;
}

int
db_certs_query_count_live(struct db *db, int64_t ca_id, int64_t now_ms, int64_t *n)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*n = 0;
	rc = db_prepare(db, "SELECT count(*) FROM certificates WHERE ca_id = ?1 AND revoked_at IS NULL "
	    "AND not_after > ?2", &st);
	if (rc != 0)
		return rc;
	sqlite3_bind_int64(st, 1, ca_id);
	sqlite3_bind_int64(st, 2, now_ms);
	if (sqlite3_step(st) == SQLITE_ROW)
		*n = sqlite3_column_int64(st, 0);
	else
		rc = db_fail(db, "count live certificates");
	db_finalize(db, st);
	return rc;
}
