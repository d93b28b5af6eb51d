/*
 * db_sessions.c: SQL for the sessions table (see db_sessions.h).
 * May call: sqlite3, db.h, err.h. Must never: see a session token, only its hash.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_sessions.h"
#include "err.h"

int
db_sessions_create(struct db *db, const char *token_hash, const char *csrf_hash, int64_t user_id,
    int64_t expires_at, const char *ip, const char *user_agent, int totp_verified, int64_t *id_out)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	int64_t now = db_now_ms();

	*id_out = 0;
	if (db_prepare(db, "INSERT INTO sessions (token_hash, csrf_hash, user_id, "
	    "created_at, expires_at, last_seen_at, ip, user_agent, totp_verified) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st) != 0)
		return db_fail(db, "prepare insert session");
	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	if (csrf_hash != NULL)
		sqlite3_bind_text(st, 2, csrf_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, user_id);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, expires_at);
	sqlite3_bind_int64(st, 6, now);
	if (ip != NULL)
		sqlite3_bind_text(st, 7, ip, -1, SQLITE_STATIC);
	/* The user agent is client-chosen: keep at most 200 bytes. */
	if (user_agent != NULL)
		sqlite3_bind_text(st, 8, user_agent, strlen(user_agent) > 200 ? 200 : (int)strlen(user_agent),
		    SQLITE_STATIC);
	sqlite3_bind_int(st, 9, totp_verified ? 1 : 0);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "insert session");
	else
		*id_out = sqlite3_last_insert_rowid(db_handle(db));
	db_finalize(db, st);
	return rc;
}

int
db_sessions_find(struct db *db, const char *token_hash, struct db_session *out)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *csrf;
	int rc = 0, s;

	memset(out, 0, sizeof(*out));
	if (db_prepare(db, "SELECT id, user_id, csrf_hash, created_at, expires_at, "
	    "last_seen_at, totp_verified FROM sessions WHERE token_hash = ?", &st) != 0)
		return db_fail(db, "prepare find session");
	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->user_id = sqlite3_column_int64(st, 1);
		csrf = sqlite3_column_text(st, 2);
		snprintf(out->csrf_hash, sizeof(out->csrf_hash), "%s", csrf != NULL ? (const char *)csrf : "");
		out->created_at = sqlite3_column_int64(st, 3);
		out->expires_at = sqlite3_column_int64(st, 4);
		out->last_seen_at = sqlite3_column_int64(st, 5);
		out->totp_verified = sqlite3_column_int(st, 6);
	} else if (s == SQLITE_DONE) {
		rc = err_set(HSMCA_E_NOTFOUND, "no such session");
	} else {
		rc = db_fail(db, "find session");
	}
	db_finalize(db, st);
	return rc;
}

static int
exec_ids(struct db *db, const char *sql, int64_t a, int64_t b, int nargs, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (db_prepare(db, sql, &st) != 0)
		return db_fail(db, what);
	sqlite3_bind_int64(st, 1, a);
	if (nargs > 1)
		sqlite3_bind_int64(st, 2, b);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, what);
	db_finalize(db, st);
	return rc;
}

int
db_sessions_touch(struct db *db, int64_t id, int64_t now_ms)
{
	return exec_ids(db, "UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1", id, now_ms, 2,
	    "touch session");
}

int
db_sessions_delete(struct db *db, int64_t id)
{
	return exec_ids(db, "DELETE FROM sessions WHERE id = ?", id, 0, 1, "delete session");
}

int
db_sessions_delete_user(struct db *db, int64_t user_id, int64_t except_id)
{
	return exec_ids(db, "DELETE FROM sessions WHERE user_id = ?1 AND id <> ?2", user_id, except_id, 2,
	    "delete user sessions");
}

int
db_sessions_prune(struct db *db, int64_t now_ms)
{
	return exec_ids(db, "DELETE FROM sessions WHERE expires_at < ?", now_ms, 0, 1, "prune sessions");
}
