/*
 * db_scep.h: the SQL of SCEP: per-CA settings and RA (scep_cas), authentication entries
 * (scep_auth), transactions (scep_transactions: key binding, manual approval) and the exchange
 * log (scep_logs). Schema: db.c migrations 1 and 2.
 *
 * Ownership: every struct returned through a pointer is owned by the caller and freed with its
 * *_free function; list arrays with the matching *_list_free. Secrets: scep_auth rows hold only
 * the salted hash of a secret; nothing here ever sees a secret in clear.
 * Thread safety: as db.h (one connection per thread).
 */
#ifndef HSMCA_DB_SCEP_H
#define HSMCA_DB_SCEP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct db;

#define DB_SCEP_APPROVAL_MAX 8

/* --- scep_cas --- */

struct db_scep_ca {
	int64_t ca_id;
	int enabled;                          /* 1 when no row exists */
	char approval[DB_SCEP_APPROVAL_MAX];  /* "auto" (no row) or "manual" */
	char *ra_keyref;                      /* NULL until ra_ensure made it */
	struct buf ra_cert_der;               /* empty until then */
	char *profile;                        /* cas.scep_profile: "client", "server" */
	int validity_days;                    /* cas.scep_validity_days; 0: configuration default */
};

void db_scep_ca_clear(struct db_scep_ca *c);

/* Settings and RA of ca_id (defaults when the CA has no scep_cas row). HSMCA_E_NOTFOUND when the
 * CA itself does not exist. out is cleared on entry; free its fields with db_scep_ca_clear. */
int db_scep_ca_get(struct db *db, int64_t ca_id, struct db_scep_ca *out);

/* Upserts the settings; enabled < 0 or approval NULL keeps the current value. */
int db_scep_ca_set(struct db *db, int64_t ca_id, int enabled, const char *approval);

/* Stores the RA only when the CA has none yet (compare-and-set: two nodes or threads creating an
 * RA at once keep the first). *stored = 1 when this call stored it, 0 when one was there. */
int db_scep_ra_store(struct db *db, int64_t ca_id, const char *keyref, const uint8_t *cert_der,
    size_t cert_len, int *stored);

/* --- scep_auth --- */

struct db_scep_auth {
	int64_t id;
	char *name;
	int64_t ca_id;
	char *ca_slug;
	char *secret_hash;       /* "sha256$<salt hex>$<hash hex>" (scep_auth.c) */
	int enabled;
	int reusable;
	int64_t expires_at_ms;   /* 0: never */
	int64_t used_at_ms;      /* 0: never used */
	int64_t use_count;
	char *created_by;
	int64_t created_at_ms;
};

void db_scep_auth_free(struct db_scep_auth *a);
void db_scep_auth_list_free(struct db_scep_auth **a, size_t n);

/* HSMCA_E_EXISTS when the CA already has an entry with this name. */
int db_scep_auth_insert(struct db *db, const char *name, int64_t ca_id, const char *secret_hash,
    int reusable, int64_t expires_at_ms, const char *created_by, int64_t *id);
int db_scep_auth_get(struct db *db, int64_t id, struct db_scep_auth **out);
/* By CA and name (HTTP Basic user name). HSMCA_E_NOTFOUND when absent. */
int db_scep_auth_get_by_name(struct db *db, int64_t ca_id, const char *name, struct db_scep_auth **out);
/* Entries with id > after (ca_id 0: every CA), by id, at most limit. */
int db_scep_auth_list(struct db *db, int64_t ca_id, int64_t after, int limit, struct db_scep_auth ***out,
    size_t *n);
/* Every enabled entry of ca_id (the candidates a challengePassword is compared with). */
int db_scep_auth_candidates(struct db *db, int64_t ca_id, struct db_scep_auth ***out, size_t *n);
int db_scep_auth_set_enabled(struct db *db, int64_t id, int enabled);
int db_scep_auth_delete(struct db *db, int64_t id);
/* Counts one use, atomically and only while the entry is usable at now_ms (enabled, unexpired,
 * reusable or never used): *ok = 1 when it was, 0 when another request used it up first. */
int db_scep_auth_consume(struct db *db, int64_t id, int64_t now_ms, int *ok);
/* Gives a use back (the issuance it authorised failed). */
int db_scep_auth_unconsume(struct db *db, int64_t id);

/* --- scep_transactions --- */

struct db_scep_tx {
	int64_t id;
	int64_t ca_id;
	char *transaction_id;
	char *message_type;
	char *key_sha256;
	char *status;            /* processing, pending, issued, rejected, failed */
	char *peer;
	char *subject;
	struct buf request_der;  /* only when asked for */
	int64_t auth_id;
	int64_t order_id;
	int64_t certificate_id;
	char *error;
	char *decided_by;
	int64_t created_at_ms;
	int64_t updated_at_ms;
};

void db_scep_tx_free(struct db_scep_tx *t);
void db_scep_tx_list_free(struct db_scep_tx **t, size_t n);

/* HSMCA_E_NOTFOUND when absent. */
int db_scep_tx_get(struct db *db, int64_t ca_id, const char *transaction_id, int with_der,
    struct db_scep_tx **out);
int db_scep_tx_get_id(struct db *db, int64_t id, int with_der, struct db_scep_tx **out);

/*
 * Starts (or restarts) a transaction with the given status, bound to key_sha256. A row for the
 * same (CA, transactionID) is taken over only when it has the same key and is not pending; a
 * different key is HSMCA_E_CONFLICT (a replayed transactionID), a pending one HSMCA_E_BUSY.
 * request_der may be NULL. *id gets the row id.
 */
int db_scep_tx_begin(struct db *db, int64_t ca_id, const char *transaction_id, const char *message_type,
    const char *key_sha256, const char *status, const char *peer, const char *subject,
    const uint8_t *request_der, size_t request_len, int64_t auth_id, int64_t *id);

/* Moves a transaction from from_status to status with the given outcome fields (0/NULL: keep).
 * *changed = 1 when the row was in from_status (the compare-and-set an approval needs). */
int db_scep_tx_finish(struct db *db, int64_t id, const char *from_status, const char *status,
    int64_t order_id, int64_t certificate_id, const char *error, const char *decided_by, int *changed);

/* Transactions with id > after, optionally of one status and/or CA (NULL/0: any), by id. */
int db_scep_tx_list(struct db *db, const char *status, int64_t ca_id, int64_t after, int limit,
    struct db_scep_tx ***out, size_t *n);

/* --- scep_logs --- */

struct db_scep_log {
	int64_t id;
	int64_t at_ms;
	char *peer;
	int64_t ca_id;           /* 0: unknown CA */
	char *message_type;      /* "GetCACaps", "GetCACert", "PKCSReq", ..., "unknown" */
	char *transaction_id;
	char *result;            /* "success", "failure", "pending" */
	char *fail_info;         /* "badRequest", ... or NULL */
	int64_t order_id;
	int http_status;
	char *details;           /* JSON text: decoded request, reason */
	struct buf request_der;  /* only when asked for */
};

void db_scep_log_free(struct db_scep_log *l);
void db_scep_log_list_free(struct db_scep_log **l, size_t n);

/* Inserts row (id ignored; at_ms 0: now). NULL details: "{}". */
int db_scep_log_insert(struct db *db, const struct db_scep_log *row, int64_t *id);

struct db_scep_log_filter {
	int64_t ca_id;           /* 0: any */
	const char *message_type;
	const char *result;
	const char *transaction_id;
	int64_t since_ms, until_ms; /* 0: open */
	int64_t before;          /* keyset cursor: id < before (0: newest) */
	int limit;
};

/* Newest first, without request DER. */
int db_scep_log_list(struct db *db, const struct db_scep_log_filter *f, struct db_scep_log ***out,
    size_t *n);
int db_scep_log_get(struct db *db, int64_t id, int with_der, struct db_scep_log **out);

#endif
