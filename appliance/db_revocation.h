/*
 * db_revocation.h: SQL for revocation: the revocation_codes table, the revocation columns of
 * certificates, the "CRL due" mark on cas, and the status lookup OCSP answers from.
 *
 * Codes are stored only as the text revoke.c makes from a salted hash; this file never sees a
 * code. user_id 0 means "no user" (the local CLI) and is stored as NULL; lookups match it with
 * IS, so a CLI code can never be confirmed by an API user and the reverse.
 * Functions that change rows expect the caller's transaction (db_begin) when several changes must
 * commit together; they do not open one themselves.
 */
#ifndef HSMCA_DB_REVOCATION_H
#define HSMCA_DB_REVOCATION_H

#include <stdint.h>

struct db;

/* A live code: unused, not expired, fewer than max_attempts wrong tries. */
struct db_revocation_code {
	int64_t id;
	char *code_hash;          /* owned; free with db_revocation_code_clear() */
	int attempts;
	int64_t expires_at_ms;
};

void db_revocation_code_clear(struct db_revocation_code *c);

/* Inserts a code row for (cert_id, user_id) and first voids (expires now) every other live code of
 * that pair, so only the newest code works. */
int db_revocation_codes_insert(struct db *db, int64_t cert_id, int64_t user_id, const char *code_hash,
    int64_t created_ms, int64_t expires_ms, int64_t *id);

/* The newest live code of (cert_id, user_id) at now_ms; HSMCA_E_NOTFOUND when there is none. */
int db_revocation_codes_live(struct db *db, int64_t cert_id, int64_t user_id, int64_t now_ms,
    int max_attempts, struct db_revocation_code *out);

/* One more wrong try; *attempts gets the new count. */
int db_revocation_codes_fail(struct db *db, int64_t code_id, int *attempts);

/* Marks the code used (once: HSMCA_E_CONFLICT when it already was) and records the reason. */
int db_revocation_codes_use(struct db *db, int64_t code_id, int reason, int64_t now_ms);

/* Deletes codes that expired or were used before older_than_ms (the scheduler's pruning). */
int db_revocation_codes_prune(struct db *db, int64_t older_than_ms, int64_t *deleted);

/* Sets revoked_at and revocation_reason; HSMCA_E_CONFLICT when the certificate is already revoked,
 * HSMCA_E_NOTFOUND when there is no such row. */
int db_revocation_mark_revoked(struct db *db, int64_t cert_id, int64_t at_ms, int reason);

/*
 * Marks the CA's CRL as due now (cas.crl_next_update, which holds the time by which the next CRL
 * must be published). The value is always CHANGED, never just set: when it is already due it
 * moves one millisecond earlier. crl.c stores a new CRL and clears the mark only if the mark still
 * holds the value it read before streaming the entries, so a revocation that commits during a
 * CRL build keeps its CA due instead of being silently dropped.
 */
int db_revocation_mark_crl_due(struct db *db, int64_t ca_id, int64_t now_ms);

/* OCSP: the certificate with this serial (uppercase hex) issued by ca_id with the key of
 * generation key_gen (db_cas.h). *found = 0 when none; else *revoked_at_ms (0: not revoked) and
 * *reason. */
int db_revocation_status(struct db *db, int64_t ca_id, int64_t key_gen, const char *serial_hex, int *found,
    int64_t *revoked_at_ms, int *reason);

#endif
