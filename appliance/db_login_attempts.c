/*
 * db_login_attempts.c: SQL for the login_attempts table (see db_login_attempts.h).
 * May call: sqlite3, db.h, err.h. Must never: store a password, even a wrong one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db.h"
#include "db_login_attempts.h"
#include "err.h"

int
db_login_attempts_add(struct db *db, const char *username, const char *ip, int success,
    const char *reason)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;
	size_t ul = strlen(username);

	if (db_prepare(db, "INSERT INTO login_attempts (at, username, ip, result, "
	    "reason) VALUES (?, ?, ?, ?, ?)", &st) != 0)
		return db_fail(db, "prepare insert login attempt");
	sqlite3_bind_int64(st, 1, db_now_ms());
	sqlite3_bind_text(st, 2, username, ul > 64 ? 64 : (int)ul, SQLITE_STATIC);
	if (ip != NULL)
		sqlite3_bind_text(st, 3, ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, success ? "success" : "failure", -1, SQLITE_STATIC);
	if (reason != NULL)
		sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "insert login attempt");
	db_finalize(db, st);
	return rc;
}

int
db_login_attempts_list(struct db *db, int64_t before_id, const char *username, int limit,
    struct db_login_attempt **out, size_t *n_out)
{
	sqlite3_stmt *st = NULL;
	struct db_login_attempt *v = NULL, *a;
	const unsigned char *s;
	size_t n = 0;
	int rc = 0, r;

	*out = NULL;
	*n_out = 0;
	if (limit < 1 || limit > 1000)
		return err_set(HSMCA_E_INVALID, "limit must be 1..1000");
	v = calloc((size_t)limit, sizeof(*v));
	if (v == NULL)
		return HSMCA_E_NOMEM;
	if (db_prepare(db, "SELECT id, at, username, ip, result, reason FROM "
	    "login_attempts WHERE (?1 = 0 OR id < ?1) AND (?2 IS NULL OR username = ?2) "
	    "ORDER BY id DESC LIMIT ?3", &st) != 0) {
		rc = db_fail(db, "prepare list login attempts");
		goto out;
	}
	sqlite3_bind_int64(st, 1, before_id);
	if (username != NULL)
		sqlite3_bind_text(st, 2, username, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, limit);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		a = &v[n++];
		a->id = sqlite3_column_int64(st, 0);
		a->at = sqlite3_column_int64(st, 1);
		s = sqlite3_column_text(st, 2);
		snprintf(a->username, sizeof(a->username), "%s", s != NULL ? (const char *)s : "");
		s = sqlite3_column_text(st, 3);
		snprintf(a->ip, sizeof(a->ip), "%s", s != NULL ? (const char *)s : "");
		s = sqlite3_column_text(st, 4);
		a->success = s != NULL && strcmp((const char *)s, "success") == 0;
		s = sqlite3_column_text(st, 5);
		snprintf(a->reason, sizeof(a->reason), "%s", s != NULL ? (const char *)s : "");
	}
	if (r != SQLITE_DONE) {
		rc = db_fail(db, "list login attempts");
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
