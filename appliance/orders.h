/*
 * orders.h: the life of an order around an issuance.
 *
 *   orders_open()      inserts the order as "processing" and commits it, BEFORE any signing, so
 *                      a crash while signing leaves a visible, unfinished order (orders_open_in:
 *                      the same inside the caller's transaction, committed before signing);
 *   orders_complete()  inside the caller's transaction, with the certificate row and audit row;
 *   orders_fail()      after the caller rolled back: the order becomes "failed" with the error.
 * "pending" is for orders that wait on something before processing (SCEP manual approval, a
 * later issue); synchronous issuance goes straight to "processing" (started_at = created_at).
 */
#ifndef HSMCA_ORDERS_H
#define HSMCA_ORDERS_H

#include <stdint.h>

struct db;

/* type: "local", "csr", "scep", "renewal". params_json: request parameters, never a secret
 * (NULL: "{}"). Must not be called inside a transaction (it commits on its own). */
int orders_open(struct db *db, const char *type, int64_t ca_id, const char *common_name,
    const char *requested_by, const char *params_json, int64_t *order_id);

/* The same row inside the caller's transaction, which the caller commits BEFORE any signing
 * (issue.h's staged issuance: SCEP records its transaction in that same commit). */
int orders_open_in(struct db *db, const char *type, int64_t ca_id, const char *common_name,
    const char *requested_by, const char *params_json, int64_t *order_id);

/* Marks the order complete with its certificate. Call inside the caller's transaction. */
int orders_complete(struct db *db, int64_t order_id, int64_t certificate_id);

/* Marks the order failed with error (one line; NULL: "failed"), in its own commit. Best effort:
 * a failure here is reported but the caller's original error is the one to return. */
int orders_fail(struct db *db, int64_t order_id, const char *error);

#endif
