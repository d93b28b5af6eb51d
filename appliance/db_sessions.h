/*
 * db_sessions.h: login sessions. A session is found by the SHA-256 of its token (auth.c makes
 * and hashes tokens; the token itself is never stored). Conventions as in db_users.h.
 */
#ifndef HSMCA_DB_SESSIONS_H
#define HSMCA_DB_SESSIONS_H

#include <stdint.h>

struct db;

struct db_session {
	int64_t id;
	int64_t user_id;
	char csrf_hash[65];       /* "" when none */
	int64_t created_at;
	int64_t expires_at;
	int64_t last_seen_at;
	int totp_verified;
};

int db_sessions_create(struct db *db, const char *token_hash, const char *csrf_hash, int64_t user_id,
    int64_t expires_at, const char *ip, const char *user_agent, int totp_verified, int64_t *id_out);
/* HSMCA_E_NOTFOUND when no session has this hash (expiry is the caller's check). */
int db_sessions_find(struct db *db, const char *token_hash, struct db_session *out);
int db_sessions_touch(struct db *db, int64_t id, int64_t now_ms);
int db_sessions_delete(struct db *db, int64_t id);
/* Deletes every session of user_id except except_id (0: all). */
int db_sessions_delete_user(struct db *db, int64_t user_id, int64_t except_id);
/* Deletes sessions that expired before now_ms (scheduler). */
int db_sessions_prune(struct db *db, int64_t now_ms);

#endif
