/*
 * db_users.h: the users table (local accounts). All SQL for users lives in db_users.c.
 *
 * Conventions of every db_<x> module: a struct db is one thread's connection; times are
 * milliseconds since the epoch (db_now_ms); strings are validated by the caller (auth.c,
 * api_users.c, cli_user.c) and only length-checked here; out-structs are malloc'd and freed with
 * the matching _free (NULL is a no-op). Errors: 0, HSMCA_E_NOTFOUND, HSMCA_E_EXISTS (UNIQUE
 * violation), HSMCA_E_DB/HSMCA_E_BUSY (detail set), HSMCA_E_NOMEM.
 */
#ifndef HSMCA_DB_USERS_H
#define HSMCA_DB_USERS_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define DB_USERS_NAME_MAX 64
#define DB_USERS_EMAIL_MAX 254

struct db_user {
	int64_t id;
	char *username;
	char *email;                 /* NULL when unset */
	char *role;                  /* "admin" | "operator" | "auditor" */
	char *password_hash;         /* passwd.h encoding; NULL when no password is set */
	int enabled;
	int must_change_password;
	int failed_logins;
	int locked;
	unsigned char *totp_secret;  /* raw TOTP key, totp_secret_len bytes; NULL when none */
	size_t totp_secret_len;
	int totp_enabled;            /* 0 with a secret: enrolment started, not confirmed */
	int64_t last_login_at;       /* 0 when never */
	char *last_login_ip;
	int64_t created_at;
	int64_t updated_at;          /* 0 when never */
};

/* Wipes the secrets and frees. NULL is a no-op. */
void db_user_free(struct db_user *u);

/* Inserts an enabled user. email may be NULL. HSMCA_E_EXISTS when the username is taken. */
int db_users_create(struct db *db, const char *username, const char *email, const char *role,
    const char *password_hash, int must_change_password, int64_t *id_out);

/* One user by id or by exact username. HSMCA_E_NOTFOUND when absent. */
int db_users_get(struct db *db, int64_t id, struct db_user **out);
int db_users_get_by_name(struct db *db, const char *username, struct db_user **out);

/* Keyset page: users with id > after_id in id order, at most limit (1..1000). *out is an array of
 * *n_out pointers; free with db_users_list_free(). */
int db_users_list(struct db *db, int64_t after_id, int limit, struct db_user ***out, size_t *n_out);
void db_users_list_free(struct db_user **users, size_t n);

/* Partial update: a NULL string / negative int leaves that column as it is. email "" clears it. */
int db_users_update(struct db *db, int64_t id, const char *email, const char *role, int enabled);

/* Sets the password hash and the force-change flag. */
int db_users_set_password(struct db *db, int64_t id, const char *password_hash,
    int must_change_password);

/* After a successful login: failed_logins = 0, last login time and IP. */
int db_users_login_succeeded(struct db *db, int64_t id, const char *ip, int64_t now_ms);

/* After a failed login: failed_logins + 1, and locked = 1 once it reaches max_failures.
 * *locked_out (may be NULL) tells whether the account is now locked. Atomic in one UPDATE. */
int db_users_login_failed(struct db *db, int64_t id, int max_failures, int *locked_out);

/* failed_logins = 0, locked = 0 (admin reset). */
int db_users_reset_login_attempts(struct db *db, int64_t id);

/* Stores (secret != NULL) or clears (secret == NULL) the TOTP key and the enabled flag. */
int db_users_set_totp(struct db *db, int64_t id, const unsigned char *secret, size_t secret_len,
    int enabled);

/* Records TOTP time step `step` as used: HSMCA_E_AUTH when it is not newer than the last one
 * accepted (a replayed code). */
int db_users_totp_step_use(struct db *db, int64_t id, int64_t step);

/* Deletes the user (sessions, tokens and memberships go with it by ON DELETE CASCADE). */
int db_users_delete(struct db *db, int64_t id);

/* Number of enabled admins, so the last one cannot be disabled, demoted or deleted. */
int db_users_count_enabled_admins(struct db *db, int64_t *n_out);

/* Total rows (for tests and /metrics). */
int db_users_count(struct db *db, int64_t *n_out);

#endif
