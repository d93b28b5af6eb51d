/*
 * db_cas.h: the cas table (certificate authorities of this appliance).
 *
 * Rows come back as struct db_ca, which every CA operation (ca.h, issue.h) uses as its record.
 * Ownership: each struct db_ca returned is owned by the caller; free with db_ca_free().
 */
#ifndef HSMCA_DB_CAS_H
#define HSMCA_DB_CAS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct db;

struct db_ca {
	int64_t id;
	char *name;
	char *slug;
	int64_t parent_id;        /* 0: none (a root, or an imported CA whose issuer is not here) */
	char *kind;               /* "root", "intermediate", "imported" */
	char *subject;            /* RFC 2253 */
	struct buf cert_der;
	char *fingerprint_sha256; /* lowercase hex */
	char *keyref;             /* pkcs11: URI of the CA private key */
	char *key_spec;           /* "ec-384", "rsa-2048", ... */
	int64_t not_before_ms;
	int64_t not_after_ms;
	char *status;             /* "active", "disabled", "retired" */
	int64_t crl_number;
	int64_t created_at_ms;
	int64_t key_gen;          /* generation of keyref: 1, then + 1 per activated rollover */
};

void db_ca_free(struct db_ca *ca);
void db_ca_list_free(struct db_ca **cas, size_t n);

/* Inserts ca (id and created_at are ignored and set here). *id gets the new row id.
 * HSMCA_E_EXISTS when the name, slug or fingerprint is taken. */
int db_cas_insert(struct db *db, const struct db_ca *ca, int64_t *id);

/* HSMCA_E_NOTFOUND (detail names the slug or id) when there is no such CA. */
int db_cas_get_by_slug(struct db *db, const char *slug, struct db_ca **out);
int db_cas_get_by_id(struct db *db, int64_t id, struct db_ca **out);

/* Whether a CA with this name or slug exists (1/0 in *exists); name or slug may be NULL. */
int db_cas_exists(struct db *db, const char *name, const char *slug, int *exists);

/* All CAs ordered by id. *cas is an array of n pointers; free with db_ca_list_free(). */
int db_cas_list(struct db *db, struct db_ca ***cas, size_t *n);

/* --- rollover (db.c migration 4; ca_rollover.h): the pending next certificate, the history --- */

struct db_ca_next {
	int64_t ca_id;
	struct buf cert_der;      /* the next CA certificate: same subject, new key */
	char *serial;             /* uppercase hex */
	char *fingerprint_sha256;
	char *keyref;             /* its token key */
	char *key_spec;
	int64_t not_before_ms;
	int64_t not_after_ms;
	char *ra_keyref;          /* the next SCEP RA, issued by the next key */
	struct buf ra_cert_der;
	char *created_by;
	int64_t created_at_ms;
};

void db_ca_next_free(struct db_ca_next *n);

/* Inserts next (created_at is set here). HSMCA_E_EXISTS when the CA has a pending one already. */
int db_cas_next_insert(struct db *db, const struct db_ca_next *next);

/* The CA's pending next certificate; HSMCA_E_NOTFOUND when there is none. */
int db_cas_next_get(struct db *db, int64_t ca_id, struct db_ca_next **out);

/* Deletes the pending next certificate of ca_id if it is still the one with this fingerprint;
 * HSMCA_E_NOTFOUND when it is not there (cancelled or activated meanwhile). */
int db_cas_next_delete(struct db *db, int64_t ca_id, const char *fingerprint);

/*
 * Makes next the CA's current certificate, key and SCEP RA, in the caller's transaction: the
 * previous certificate, key and RA go to ca_cert_history (retired at now_ms), the cas row takes
 * next's certificate, key, fingerprint and validity (only if it still holds ca's fingerprint:
 * HSMCA_E_CONFLICT when another activation won) and the next key generation (the history row
 * keeps the old one), scep_cas takes the next RA, and the ca_next row is deleted
 * (HSMCA_E_NOTFOUND when it is gone).
 */
int db_cas_next_activate(struct db *db, const struct db_ca *ca, const struct db_ca_next *next, int64_t now_ms);

struct db_ca_history {
	int64_t id;
	struct buf cert_der;
	char *fingerprint_sha256;
	char *keyref;
	char *key_spec;
	int64_t not_before_ms;
	int64_t not_after_ms;
	int64_t retired_at_ms;
	int64_t key_gen;          /* the generation this key had while it was current */
};

void db_ca_history_list_free(struct db_ca_history *h, size_t n);

/* The CA's retired certificates, newest first; *out is an array of *n entries. */
int db_cas_history_list(struct db *db, int64_t ca_id, struct db_ca_history **out, size_t *n);

#endif
