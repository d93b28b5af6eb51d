/*
 * db_users.c: SQL for the users table (see db_users.h).
 *
 * May call: sqlite3, db.h, err.h. Must never: hash or check passwords (passwd.c does), decide
 * policy (auth.c does).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "db.h"
#include "db_users.h"
#include "err.h"

#define USER_COLS "id, username, email, role, password_hash, enabled, must_change_password, " \
	"failed_logins, locked, totp_secret_enc, totp_enabled, last_login_at, last_login_ip, " \
	"created_at, updated_at"

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s != NULL ? strdup((const char *)s) : NULL;
}

void
db_user_free(struct db_user *u)
{
	if (u == NULL)
		return;
	free(u->username);
	free(u->email);
	free(u->role);
	if (u->password_hash != NULL)
		OPENSSL_clear_free(u->password_hash, strlen(u->password_hash));
	if (u->totp_secret != NULL)
		OPENSSL_clear_free(u->totp_secret, u->totp_secret_len);
	free(u->last_login_ip);
	free(u);
}

static int
user_from_row(sqlite3_stmt *st, struct db_user **out)
{
	struct db_user *u;
	const void *blob;
	int n;

	*out = NULL;
	u = calloc(1, sizeof(*u));
	if (u == NULL)
		return HSMCA_E_NOMEM;
	u->id = sqlite3_column_int64(st, 0);
	u->username = col_dup(st, 1);
	u->email = col_dup(st, 2);
	u->role = col_dup(st, 3);
	u->password_hash = col_dup(st, 4);
	u->enabled = sqlite3_column_int(st, 5);
	u->must_change_password = sqlite3_column_int(st, 6);
	u->failed_logins = sqlite3_column_int(st, 7);
	u->locked = sqlite3_column_int(st, 8);
	blob = sqlite3_column_blob(st, 9);
	n = sqlite3_column_bytes(st, 9);
	if (blob != NULL && n > 0) {
		u->totp_secret = malloc((size_t)n);
		if (u->totp_secret == NULL)
			goto nomem;
		memcpy(u->totp_secret, blob, (size_t)n);
		u->totp_secret_len = (size_t)n;
	}
	u->totp_enabled = sqlite3_column_int(st, 10);
	u->last_login_at = sqlite3_column_int64(st, 11);
	u->last_login_ip = col_dup(st, 12);
	u->created_at = sqlite3_column_int64(st, 13);
	u->updated_at = sqlite3_column_int64(st, 14);
	if (u->username == NULL || u->role == NULL ||
	    (sqlite3_column_type(st, 2) != SQLITE_NULL && u->email == NULL) ||
	    (sqlite3_column_type(st, 4) != SQLITE_NULL && u->password_hash == NULL) ||
	    (sqlite3_column_type(st, 12) != SQLITE_NULL && u->last_login_ip == NULL))
		goto nomem;
	*out = u;
	return 0;
nomem:
	db_user_free(u);
	return HSMCA_E_NOMEM;
}

/* Runs a prepared statement that must change exactly one row; HSMCA_E_NOTFOUND when none. */
static int
step_one_change(struct db *db, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(db, what);
	if (sqlite3_changes(db_handle(db)) == 0)
		return err_set(HSMCA_E_NOTFOUND, "no such user");
	return 0;
}

int
db_users_create(struct db *db, const char *username, const char *email, const char *role,
    const char *password_hash, int must_change_password, int64_t *id_out)
{
	sqlite3_stmt *st = NULL;
	int rc = HSMCA_E_INTERNAL;

	if (id_out != NULL)
		*id_out = 0;
	if (strlen(username) > DB_USERS_NAME_MAX || (email != NULL && strlen(email) > DB_USERS_EMAIL_MAX))
		return err_set(HSMCA_E_INVALID, "username or email too long");
	if (db_prepare(db, "INSERT INTO users (username, email, role, password_hash, "
	    "must_change_password, created_at) VALUES (?, ?, ?, ?, ?, ?)", &st) != 0) {
		rc = db_fail(db, "prepare insert user");
		goto out;
	}
	sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
	if (email != NULL && email[0] != '\0')
		sqlite3_bind_text(st, 2, email, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, role, -1, SQLITE_STATIC);
	if (password_hash != NULL)
		sqlite3_bind_text(st, 4, password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, must_change_password ? 1 : 0);
	sqlite3_bind_int64(st, 6, db_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		rc = db_fail(db, "insert user");
		if (rc == HSMCA_E_EXISTS)
			err_set(rc, "a user named '%s' already exists", username);
		goto out;
	}
	if (id_out != NULL)
		*id_out = sqlite3_last_insert_rowid(db_handle(db));
	rc = 0;
out:
	db_finalize(db, st);
	return rc;
}

static int
get_where(struct db *db, const char *sql, int64_t id, const char *name, struct db_user **out)
{
	sqlite3_stmt *st = NULL;
	int rc = HSMCA_E_INTERNAL, s;

	*out = NULL;
	if (db_prepare(db, sql, &st) != 0) {
		rc = db_fail(db, "prepare select user");
		goto out;
	}
	if (name != NULL)
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, id);
	s = sqlite3_step(st);
	if (s == SQLITE_DONE) {
		rc = err_set(HSMCA_E_NOTFOUND, "no such user");
		goto out;
	}
	if (s != SQLITE_ROW) {
		rc = db_fail(db, "select user");
		goto out;
	}
	rc = user_from_row(st, out);
out:
	db_finalize(db, st);
	return rc;
}

int
db_users_get(struct db *db, int64_t id, struct db_user **out)
{
	return get_where(db, "SELECT " USER_COLS " FROM users WHERE id = ?", id, NULL, out);
}

int
db_users_get_by_name(struct db *db, const char *username, struct db_user **out)
{
	return get_where(db, "SELECT " USER_COLS " FROM users WHERE username = ?", 0, username, out);
}

void
db_users_list_free(struct db_user **users, size_t n)
{
	size_t i;

	if (users == NULL)
		return;
	for (i = 0; i < n; i++)
		db_user_free(users[i]);
	free(users);
}

int
db_users_list(struct db *db, int64_t after_id, int limit, struct db_user ***out, size_t *n_out)
{
	sqlite3_stmt *st = NULL;
	struct db_user **v = NULL;
	size_t n = 0;
	int rc = HSMCA_E_INTERNAL, s;

	*out = NULL;
	*n_out = 0;
	if (limit < 1 || limit > 1000)
		return err_set(HSMCA_E_INVALID, "limit must be 1..1000");
	v = calloc((size_t)limit, sizeof(*v));
	if (v == NULL)
		return HSMCA_E_NOMEM;
	if (db_prepare(db, "SELECT " USER_COLS " FROM users WHERE id > ? "
	    "ORDER BY id LIMIT ?", &st) != 0) {
		rc = db_fail(db, "prepare list users");
		goto out;
	}
	sqlite3_bind_int64(st, 1, after_id);
	sqlite3_bind_int(st, 2, limit);
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		if ((rc = user_from_row(st, &v[n])) != 0)
			goto out;
		n++;
	}
	if (s != SQLITE_DONE) {
		rc = db_fail(db, "list users");
		goto out;
	}
	*out = v;
	*n_out = n;
	v = NULL;
	rc = 0;
out:
	db_users_list_free(v, n);
	db_finalize(db, st);
	return rc;
}

int
db_users_update(struct db *db, int64_t id, const char *email, const char *role, int enabled)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (email != NULL && strlen(email) > DB_USERS_EMAIL_MAX)
		return err_set(HSMCA_E_INVALID, "email too long");
	/* One statement for every combination: ?N IS NULL keeps the column. */
	if (db_prepare(db, "UPDATE users SET "
	    "email = CASE WHEN ?1 IS NULL THEN email WHEN ?1 = '' THEN NULL ELSE ?1 END, "
	    "role = COALESCE(?2, role), enabled = COALESCE(?3, enabled), updated_at = ?4 "
	    "WHERE id = ?5", &st) != 0)
		return db_fail(db, "prepare update user");
	if (email != NULL)
		sqlite3_bind_text(st, 1, email, -1, SQLITE_STATIC);
	if (role != NULL)
		sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
	if (enabled >= 0)
		sqlite3_bind_int(st, 3, enabled ? 1 : 0);
	sqlite3_bind_int64(st, 4, db_now_ms());
	sqlite3_bind_int64(st, 5, id);
	rc = step_one_change(db, st, "update user");
	db_finalize(db, st);
	return rc;
}

int
db_users_set_password(struct db *db, int64_t id, const char *password_hash, int must_change_password)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, "UPDATE users SET password_hash = ?, "
	    "must_change_password = ?, updated_at = ? WHERE id = ?", &st) != 0)
		return db_fail(db, "prepare set password");
	sqlite3_bind_text(st, 1, password_hash, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, must_change_password ? 1 : 0);
	sqlite3_bind_int64(st, 3, db_now_ms());
	sqlite3_bind_int64(st, 4, id);
	rc = step_one_change(db, st, "set password");
	db_finalize(db, st);
	return rc;
}

int
db_users_login_succeeded(struct db *db, int64_t id, const char *ip, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, "UPDATE users SET failed_logins = 0, last_login_at = ?, "
	    "last_login_ip = ? WHERE id = ?", &st) != 0)
		return db_fail(db, "prepare record login");
	sqlite3_bind_int64(st, 1, now_ms);
	if (ip != NULL)
		sqlite3_bind_text(st, 2, ip, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, id);
	rc = step_one_change(db, st, "record login");
	db_finalize(db, st);
	return rc;
}

int
db_users_login_failed(struct db *db, int64_t id, int max_failures, int *locked_out)
{
	sqlite3_stmt *st = NULL;
	int rc = HSMCA_E_INTERNAL;

	if (locked_out != NULL)
		*locked_out = 0;
	/* Increment and lock in one statement so two concurrent failures cannot both read the old
	 * count and skip the lock. */
	if (db_prepare(db, "UPDATE users SET failed_logins = failed_logins + 1, "
	    "locked = CASE WHEN failed_logins + 1 >= ?1 THEN 1 ELSE locked END WHERE id = ?2 "
	    "RETURNING locked", &st) != 0)
		return db_fail(db, "prepare record failed login");
	sqlite3_bind_int(st, 1, max_failures);
	sqlite3_bind_int64(st, 2, id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (locked_out != NULL)
			*locked_out = sqlite3_column_int(st, 0);
		rc = 0;
		break;
	case SQLITE_DONE:
		rc = err_set(HSMCA_E_NOTFOUND, "no such user");
		break;
	default:
		rc = db_fail(db, "record failed login");
		break;
	}
	/* RETURNING: the change is only complete once the statement has run to its end. */
	if (rc == 0 && sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "record failed login");
	db_finalize(db, st);
	return rc;
}

int
db_users_reset_login_attempts(struct db *db, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, "UPDATE users SET failed_logins = 0, locked = 0, "
	    "updated_at = ? WHERE id = ?", &st) != 0)
		return db_fail(db, "prepare reset login attempts");
	sqlite3_bind_int64(st, 1, db_now_ms());
	sqlite3_bind_int64(st, 2, id);
	rc = step_one_change(db, st, "reset login attempts");
	db_finalize(db, st);
	return rc;
}

int
db_users_totp_step_use(struct db *db, int64_t id, int64_t step)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* One conditional UPDATE, so two logins racing with the same code cannot both win. */
	if (db_prepare(db, "UPDATE users SET totp_last_step = ? WHERE id = ? AND "
	    "totp_last_step < ?", &st) != 0)
		return db_fail(db, "prepare totp step");
	sqlite3_bind_int64(st, 1, step);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_int64(st, 3, step);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = db_fail(db, "totp step");
	else
		rc = sqlite3_changes(db_handle(db)) == 1 ? 0 :
		    err_set(HSMCA_E_AUTH, "this two-factor code was already used; wait for the next one");
	db_finalize(db, st);
	return rc;
}

int
db_users_set_totp(struct db *db, int64_t id, const unsigned char *secret, size_t secret_len,
    int enabled)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, "UPDATE users SET totp_secret_enc = ?, totp_enabled = ?, "
	    "updated_at = ? WHERE id = ?", &st) != 0)
		return db_fail(db, "prepare set totp");
	if (secret != NULL)
		sqlite3_bind_blob(st, 1, secret, (int)secret_len, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, secret != NULL && enabled ? 1 : 0);
	sqlite3_bind_int64(st, 3, db_now_ms());
	sqlite3_bind_int64(st, 4, id);
	rc = step_one_change(db, st, "set totp");
	db_finalize(db, st);
	return rc;
}

int
db_users_delete(struct db *db, int64_t id)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (db_prepare(db, "DELETE FROM users WHERE id = ?", &st) != 0)
		return db_fail(db, "prepare delete user");
	sqlite3_bind_int64(st, 1, id);
	rc = step_one_change(db, st, "delete user");
	db_finalize(db, st);
	return rc;
}

static int
count(struct db *db, const char *sql, int64_t *n_out)
{
	sqlite3_stmt *st = NULL;
	int rc = 0;

	*n_out = 0;
	if (db_prepare(db, sql, &st) != 0)
		return db_fail(db, "prepare count users");
	if (sqlite3_step(st) == SQLITE_ROW)
		*n_out = sqlite3_column_int64(st, 0);
	else
		rc = db_fail(db, "count users");
	db_finalize(db, st);
	return rc;
}

int
db_users_count_enabled_admins(struct db *db, int64_t *n_out)
{
	return count(db, "SELECT count(*) FROM users WHERE role = 'admin' AND enabled = 1", n_out);
}

int
db_users_count(struct db *db, int64_t *n_out)
{
	return count(db, "SELECT count(*) FROM users", n_out);
}
