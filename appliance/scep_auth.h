/*
 * scep_auth.h: SCEP authentication entries (the seed product's "SCEP authentication" page).
 *
 * An entry belongs to one CA and has a name and a secret. A client presents it either as the
 * CSR's challengePassword (the secret alone) or as HTTP Basic credentials (name, secret) on the
 * SCEP URL. Secrets are 32 characters of base64url (192 random bits), shown once at creation and
 * stored only as "sha256$<16-byte salt hex>$<SHA-256(salt || secret) hex>". A salted fast hash
 * is enough for a random 192-bit secret (nobody enumerates 2^192 candidates; scrypt's cost would
 * only slow every enrollment); the salt keeps equal secrets from having equal rows. Comparisons
 * are constant-time (CRYPTO_memcmp). Secrets are never logged and are wiped when freed.
 *
 * Thread safety: functions use the caller's struct db; no shared state.
 */
#ifndef HSMCA_SCEP_AUTH_H
#define HSMCA_SCEP_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define SCEP_AUTH_SECRET_LEN 32      /* characters of a generated secret */
#define SCEP_AUTH_HASH_MAX 160       /* "sha256$" + 32 + "$" + 64 + NUL, with room */
#define SCEP_AUTH_NAME_MAX 64

/* Hashes secret (len bytes) with a fresh random salt into out. */
int scep_auth_hash(const uint8_t *secret, size_t len, char out[SCEP_AUTH_HASH_MAX]);

/* 1 when secret matches the stored hash, 0 otherwise (also for a malformed hash). Constant time
 * in the secret's content. */
int scep_auth_verify(const char *stored_hash, const uint8_t *secret, size_t len);

/* Names: 1..SCEP_AUTH_NAME_MAX of [A-Za-z0-9._@-] (they travel as HTTP Basic user names, so no
 * ':' and nothing a log line or URL would need to escape). HSMCA_E_INVALID otherwise. */
int scep_auth_check_name(const char *name);

/*
 * Creates an entry for ca_id with a fresh secret, and its audit row "scep_auth.created" (actor,
 * ip), in one transaction. expires_at_ms 0: never. *secret: the secret in clear, shown once;
 * caller frees with scep_auth_secret_free(). HSMCA_E_EXISTS for a name the CA already uses.
 */
int scep_auth_create(struct db *db, const char *name, int64_t ca_id, int reusable, int64_t expires_at_ms,
    const char *actor, const char *ip, char **secret, int64_t *id);

/* Wipes and frees a secret. NULL is a no-op. */
void scep_auth_secret_free(char *secret);

/*
 * Finds the enabled entry of ca_id whose secret is challenge. *auth_id = its id. HSMCA_E_AUTH
 * (detail without the secret) when none matches. Does not count a use: scep_auth_use does.
 */
int scep_auth_match_challenge(struct db *db, int64_t ca_id, const uint8_t *challenge, size_t len,
    int64_t *auth_id);

/* HTTP Basic: the entry named name of ca_id, enabled, with this secret. HSMCA_E_AUTH when the
 * name is unknown, the entry disabled or the secret wrong (the caller answers 401). */
int scep_auth_match_basic(struct db *db, int64_t ca_id, const char *name, const uint8_t *secret, size_t len,
    int64_t *auth_id);

/* Counts one use of the entry now: HSMCA_E_AUTH when it is expired, disabled or a one-time entry
 * already used (the caller answers FAILURE badRequest). */
int scep_auth_use(struct db *db, int64_t auth_id);

/* Gives the use back after the issuance it authorised failed (best effort). */
void scep_auth_unuse(struct db *db, int64_t auth_id);

#endif
