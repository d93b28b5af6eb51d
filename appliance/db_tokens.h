/*
 * db_tokens.h: API tokens (the api_tokens table). Found by the SHA-256 of the token; the token
 * itself is never stored. Conventions as in db_users.h.
 */
#ifndef HSMCA_DB_TOKENS_H
#define HSMCA_DB_TOKENS_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct db_token {
	int64_t id;
	char name[65];
	char prefix[24];          /* the first characters of the token, to recognise it in a list */
	int64_t user_id;
	int64_t created_at;
	int64_t expires_at;       /* 0: never (not offered by the API) */
	int64_t last_used_at;     /* 0: never */
	int64_t revoked_at;       /* 0: not revoked */
};

int db_tokens_create(struct db *db, const char *name, const char *token_hash, const char *prefix,
    int64_t user_id, int64_t expires_at, int64_t *id_out);
/* HSMCA_E_NOTFOUND when no token has this hash. */
int db_tokens_find(struct db *db, const char *token_hash, struct db_token *out);
/* Tokens of user_id with id > after_id, id order, at most limit. *out malloc'd array, free(). */
int db_tokens_list(struct db *db, int64_t user_id, int64_t after_id, int limit, struct db_token **out,
    size_t *n_out);
/* Deletes token_id if it belongs to user_id; HSMCA_E_NOTFOUND otherwise. */
int db_tokens_delete(struct db *db, int64_t user_id, int64_t token_id);
int db_tokens_touch(struct db *db, int64_t id, int64_t now_ms);

#endif
