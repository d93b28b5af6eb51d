/*
 * db_tokens.c: SQL for the api_tokens table (see db_tokens.h).
 * May call: sqlite3, db.h, err.h. Must never: see a token, only its hash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_tokens.h"
#include "err.h"

#define TOKEN_COLS "id, name, prefix, user_id, created_at, expires_at, last_used_at, revoked_at"

static void
from_row(sqlite3_stmt *st, struct db_token *t)
{
	const unsigned char *s;

	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	s = sqlite3_column_text(st, 1);
	snprintf(t->name, sizeof(t->name), "%s", s != NULL ? (const char *)s : "");
	s = sqlite3_column_text(st, 2);
	snprintf(t->prefix, sizeof(t->prefix), "%s", s != NULL ? (const char *)s : "");
	t->user_id = sqlite3_column_int64(st, 3);
	t->created_at = sqlite3_column_int64(st, 4);
	t->expires_at = sqlite3_column_int64(st, 5);
	t->last_used_at = sqlite3_column_int64(st, 6);
	t->revoked_at = sqlite3_column_int64(st, 7);
}

int
db_tokens_create(struct db *db, const char *name, const char *token_hash, const char *prefix,
    int64_t user_id, int64_t expires_at, int64_t *id_out)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	*id_out = 0;
	if (strlen(name) > 64)
		return err_set(HSMCA_E_INVALID, "token name longer than 64 bytes");
	if (db_prepare(db, "INSERT INTO api_tokens (name, token_hash, prefix, user_id, "
	    "created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)", &st) != 0)
		return db_fail(db, "prepare insert api token");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, token_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, prefix, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, user_id);
	sqlite3_bind_int64(st, 5, db_now_ms());
	if (expires_at > 0)
		sqlite3_bind_int64(st, 6, expires_at);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "insert api token");
	else
		*id_out = sqlite3_last_insert_rowid(db_handle(db));
	db_finalize(db, st);
	return rc;
}

int
db_tokens_find(struct db *db, const char *token_hash, struct db_token *out)
{
	sqlite3_stmt *st = NULL;
	int rc = 0, s;

	memset(out, 0, sizeof(*out));
	if (db_prepare(db, "SELECT " TOKEN_COLS " FROM api_tokens WHERE token_hash = ?", &st) != 0)
		return db_fail(db, "prepare find api token");
	sqlite3_bind_text(st, 1, token_hash, -1, SQLITE_STATIC);
	s = sqlite3_step(st);
	if (s == SQLITE_ROW)
		from_row(st, out);
	else if (s == SQLITE_DONE)
		rc = err_set(HSMCA_E_NOTFOUND, "no such token");
	else
		rc = db_fail(db, "find api token");
	db_finalize(db, st);
	return rc;
}

int
db_tokens_list(struct db *db, int64_t user_id, int64_t after_id, int limit, struct db_token **out,
    size_t *n_out)
{
	sqlite3_stmt *st = NULL;
	struct db_token *v = NULL;
	size_t n = 0;
	int rc = 0, s;

	*out = NULL;
	*n_out = 0;
	if (limit < 1 || limit > 1000)
		return err_set(HSMCA_E_INVALID, "limit must be 1..1000");
	v = calloc((size_t)limit, sizeof(*v));
	if (v == NULL)
		return HSMCA_E_NOMEM;
	if (db_prepare(db, "SELECT " TOKEN_COLS " FROM api_tokens WHERE user_id = ? "
	    "AND id > ? ORDER BY id LIMIT ?", &st) != 0) {
		rc = db_fail(db, "prepare list api tokens");
		goto out;
	}
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, after_id);
	sqlite3_bind_int(st, 3, limit);
	while ((s = sqlite3_step(st)) == SQLITE_ROW)
		from_row(st, &v[n++]);
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "list api tokens");
		goto out;
	}
	*out = v;
	*n_out = n;
	v = NULL;
out:
	free(v);
	db_finalize(db, st);
	return rc;
}

int
db_tokens_delete(struct db *db, int64_t user_id, int64_t token_id)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (db_prepare(db, "DELETE FROM api_tokens WHERE id = ? AND user_id = ?", &st) != 0)
		return db_fail(db, "prepare delete api token");
	sqlite3_bind_int64(st, 1, token_id);
	sqlite3_bind_int64(st, 2, user_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "delete api token");
	else if (sqlite3_changes(db_handle(db)) == 0)
		rc = err_set(HSMCA_E_NOTFOUND, "this user has no token with that id");
	db_finalize(db, st);
	return rc;
}

int
db_tokens_touch(struct db *db, int64_t id, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	if (db_prepare(db, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", &st) != 0)
		return db_fail(db, "prepare touch api token");
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, id);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "touch api token");
	db_finalize(db, st);
	return rc;
}
