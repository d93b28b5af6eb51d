/*
 * revoke.h: revoking a certificate in two steps, with a six-digit confirmation code.
 *
 * Step 1, revoke_request: a fresh random code, valid REVOKE_CODE_TTL_MS, bound to the certificate
 * and the user who asked (only its salted hash is stored), audit "certificate.revoke.requested".
 * Step 2, revoke_confirm: the same user sends the code and a reason; the certificate row gets
 * revoked_at and the reason, the code is spent, the CA's CRL is marked due and an audit row
 * "certificate.revoke.confirmed" is written, all in one transaction; then the CRL is published.
 *
 * What protects the code: it has only 10^6 values (~20 bits), so its stored hash does not: anyone
 * who reads the database can try all 10^6 codes against a salted SHA-256 in well under a second.
 * The hash only keeps live codes out of plain sight (backups, support dumps). The protection is
 * online: REVOKE_MAX_ATTEMPTS wrong tries void the code (a guesser wins with probability
 * 5 / 10^6), it expires after five minutes, works once, and only for its user and certificate.
 * The code is a deliberate second step against accidents and forged requests; the right to revoke
 * itself is the caller's permission check (HTTP layer: role and team of the CA).
 *
 * user_id 0 is the local CLI (no user row). Secrets: the code is never logged or put in a detail.
 */
#ifndef HSMCA_REVOKE_H
#define HSMCA_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include "ctx.h"

#define REVOKE_CODE_DIGITS 6
#define REVOKE_CODE_TTL_MS (5 * 60 * 1000)
#define REVOKE_MAX_ATTEMPTS 5
/* "v1$" + 32 hex salt + "$" + 64 hex SHA-256 + NUL */
#define REVOKE_HASH_LEN (3 + 32 + 1 + 64 + 1)

/* The reasons an operator may choose (RFC 5280 CRLReason values). */
#define REVOKE_REASON_UNSPECIFIED 0
#define REVOKE_REASON_KEY_COMPROMISE 1
#define REVOKE_REASON_CA_COMPROMISE 2
#define REVOKE_REASON_AFFILIATION_CHANGED 3
#define REVOKE_REASON_SUPERSEDED 4
#define REVOKE_REASON_CESSATION_OF_OPERATION 5

/* "keyCompromise", "cACompromise", "affiliationChanged", "superseded", "cessationOfOperation",
 * "unspecified" (also for NULL or "") -> value. HSMCA_E_INVALID listing the names otherwise
 * (exact, case-sensitive: these are RFC 5280's names). */
int revoke_reason_parse(const char *name, int *reason);

/* RFC 5280 name of any CRLReason value 0..10 (for display of stored rows); "unknown" otherwise. */
const char *revoke_reason_name(int reason);

/* A uniformly random six-digit code ("000000".."999999"): RAND_bytes with rejection sampling, so
 * no code is likelier than another. */
int revoke_code_new(char code[REVOKE_CODE_DIGITS + 1]);

/* "v1$<salt hex>$<SHA-256(salt || code) hex>" with a fresh 16-byte salt. */
int revoke_code_hash(const char *code, char out[REVOKE_HASH_LEN]);

/* 1 when code matches stored (constant-time comparison), 0 when not or when stored is malformed. */
int revoke_code_check(const char *code, const char *stored);

/*
 * Step 1. code_out gets the code (show it once; wipe it after), *expires_ms its expiry.
 * actor/ip: audit fields ("user:alice", "cli"). Any earlier live code of this user for this
 * certificate stops working. HSMCA_E_NOTFOUND (no such certificate), HSMCA_E_CONFLICT (already
 * revoked, or not issued by a CA of this appliance).
 */
int revoke_request(struct hsmca_ctx *ctx, int64_t cert_id, int64_t user_id, const char *actor,
    const char *ip, char code_out[REVOKE_CODE_DIGITS + 1], int64_t *expires_ms);

/*
 * Step 2. HSMCA_E_POLICY when there is no live code or the code is wrong (the only change is the
 * try counter; the detail says how many tries are left); HSMCA_E_CONFLICT when already revoked;
 * HSMCA_E_INVALID for a reason outside the six. On success the revocation is committed; the CRL
 * is then published at once unless the CA's newest CRL is younger than crl_batch_seconds (a burst:
 * the CA stays due and the scheduler publishes within the window), or the publish fails (the CA
 * stays due for crl_publish_due). The revocation stands either way: *crl_number, if not NULL, is
 * 0 when nothing was published now, else the new CRL's number.
 */
int revoke_confirm(struct hsmca_ctx *ctx, int64_t cert_id, int64_t user_id, const char *actor,
    const char *ip, const char *code, int reason, int64_t *crl_number);

#endif
