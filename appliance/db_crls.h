/*
 * db_crls.h: SQL for CRL publication: the crls table (history), the CA's CRL number and due
 * time in cas, and the streaming read of a CA's revoked certificates.
 *
 * Key generations (db.c migration 5, ca_rollover.h): each CRL belongs to one generation of its CA's
 * key (the key that signed it) and lists the revoked certificates that key issued; CRL numbers
 * come from the CA's one sequence (cas.crl_number), so each generation's numbers increase.
 *
 * Ownership: struct db_crl results are owned by the caller (db_crl_free / db_crl_list_free).
 */
#ifndef HSMCA_DB_CRLS_H
#define HSMCA_DB_CRLS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct db;

/* CRL DERs kept per CA; older rows keep their metadata (history) but an empty DER, because a
 * 1M-entry CRL is ~50 MB and one is made after every revocation. */
#define DB_CRLS_KEEP_DER 10

struct db_crl {
	int64_t id;
	int64_t ca_id;
	int64_t number;
	int64_t this_update_ms;
	int64_t next_update_ms;
	int64_t entry_count;
	int64_t created_at_ms;
	int64_t key_gen;         /* the CA key generation that signed it */
	struct buf der;          /* empty when not asked for, or pruned */
};

void db_crl_free(struct db_crl *c);
void db_crl_list_free(struct db_crl **c, size_t n);

/* Starts a read transaction (BEGIN DEFERRED; the first SELECT fixes the snapshot), so that the CA
 * state and every revoked row come from one consistent view. End with db_commit or db_rollback. */
int db_crls_read_begin(struct db *db);

/* The CA's CRL state: current number, due time (*has_due = 0 when NULL: never published) and the
 * CA's own validity override (0: use the configuration). */
struct db_crls_ca_state {
	int64_t crl_number;
	int64_t due_ms;
	int has_due;
	int validity_days;
};
int db_crls_ca_state(struct db *db, int64_t ca_id, struct db_crls_ca_state *out);

/* Sizing for the encoder: number of revoked certificates ca_id issued with key generation
 * key_gen, the longest serial (hex characters) and how many carry a reason other than
 * unspecified (0). */
int db_crls_revoked_stats(struct db *db, int64_t ca_id, int64_t key_gen, uint64_t *n, size_t *max_serial_hex,
    uint64_t *n_with_reason);

/* Calls cb for each revoked certificate ca_id issued with key generation key_gen, in
 * (revoked_at, id) order, which the index certificates(ca_id, revoked_at) yields without sorting
 * (rows of other generations are skipped on the way). serial is borrowed for the call. A non-zero
 * return from cb stops the walk and is returned. */
int db_crls_revoked_walk(struct db *db, int64_t ca_id, int64_t key_gen,
    int (*cb)(const char *serial_hex, int64_t revoked_at_ms, int reason, void *arg), void *arg);

/* Whether key generation key_gen of ca_id issued a certificate still unexpired at now_ms (its
 * CRL must then go on being published). */
int db_crls_gen_live(struct db *db, int64_t ca_id, int64_t key_gen, int64_t now_ms, int *live);

/*
 * Stores a new CRL in the caller's write transaction: bumps cas.crl_number from expected_number to
 * crl->number (which must be expected_number + 1; HSMCA_E_CONFLICT when another publisher got
 * there first), inserts the crls row (of generation crl->key_gen), and when set_due sets the due
 * time to next_due_ms only if it still holds the value read before the build (seen_due_ms /
 * seen_has_due; otherwise a revocation arrived meanwhile and the CA stays due); empties the DER
 * of the generation's rows older than its newest DB_CRLS_KEEP_DER. *id gets the new row id;
 * *still_due = 1 when the CA stays due (always when !set_due).
 */
int db_crls_store(struct db *db, int64_t expected_number, const struct db_crl *crl, int set_due,
    int64_t seen_due_ms, int seen_has_due, int64_t next_due_ms, int64_t *id, int *still_due);

/* The newest CRL of ca_id's CURRENT key generation (HSMCA_E_NOTFOUND when none), with its DER when
 * with_der. */
int db_crls_latest(struct db *db, int64_t ca_id, int with_der, struct db_crl **out);

/* The newest CRL of key generation key_gen of ca_id (HSMCA_E_NOTFOUND when none). */
int db_crls_latest_gen(struct db *db, int64_t ca_id, int64_t key_gen, int with_der, struct db_crl **out);

/* One CRL by id, with its DER when with_der (empty when pruned). */
int db_crls_get(struct db *db, int64_t id, int with_der, struct db_crl **out);

/* History of ca_id, newest first, without DER: numbers below before_number (0: from the newest),
 * at most limit rows. */
int db_crls_list(struct db *db, int64_t ca_id, int64_t before_number, int limit, struct db_crl ***out,
    size_t *n);

/* Ids of active or disabled CAs (not retired) whose CRL is due at now_ms (never published, marked
 * by a revocation, or past the refresh time). Caller frees *ids with free(). */
int db_crls_due(struct db *db, int64_t now_ms, int64_t **ids, size_t *n);

#endif
