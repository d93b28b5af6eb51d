/*
 * db_login_attempts.h: every login attempt (time, username as typed, IP, result, reason).
 * Conventions as in db_users.h.
 */
#ifndef HSMCA_DB_LOGIN_ATTEMPTS_H
#define HSMCA_DB_LOGIN_ATTEMPTS_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct db_login_attempt {
	int64_t id;
	int64_t at;
	char username[65];
	char ip[64];
	int success;
	char reason[48];
};

/* username is what the client typed (cut to 64 bytes); reason a short snake_case code. */
int db_login_attempts_add(struct db *db, const char *username, const char *ip, int success,
    const char *reason);
/* Newest first: rows with id < before_id (0: from the newest), optionally only username (NULL:
 * all), at most limit. *out malloc'd array, free(). */
int db_login_attempts_list(struct db *db, int64_t before_id, const char *username, int limit,
    struct db_login_attempt **out, size_t *n_out);

#endif
