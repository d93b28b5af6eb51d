/*
 * db_certs.h: the certificates table (the inventory).
 *
 * A certificate's status is never stored: db_cert_status() derives it from revoked_at and
 * not_after when read. Ownership: struct db_cert results are owned by the caller (db_cert_free).
 */
#ifndef HSMCA_DB_CERTS_H
#define HSMCA_DB_CERTS_H

#include <stdint.h>

#include "buf.h"

struct db;

struct db_cert {
	int64_t id;
	int64_t ca_id;              /* 0: none (discovered, issuer not here) */
	char *serial;               /* uppercase hex, no colons */
	char *subject;              /* RFC 2253 */
	char *issuer;               /* RFC 2253 */
	char *common_name;          /* may be NULL */
	char *sans;                 /* JSON array text: ["DNS:x","IP:y"] */
	int64_t not_before_ms;
	int64_t not_after_ms;
	char *key_algorithm;        /* "rsa-2048", "ec-256", ... */
	char *digest;               /* "sha256", ... */
	char *fingerprint_sha256;   /* lowercase hex */
	char *source;               /* "managed", "discovered" */
	char *profile;              /* "server", "client", "subca"; may be NULL */
	int64_t revoked_at_ms;      /* 0: not revoked */
	int revocation_reason;      /* RFC 5280 CRLReason, meaningful when revoked */
	char *keyref;               /* may be NULL */
	int64_t order_id;           /* 0: none */
	char *tags;                 /* JSON array text */
	struct buf der;
	int64_t created_at_ms;
	int64_t ca_key_gen;         /* generation of the CA key that signed it (db_cas.h key_gen);
	                               on insert, 0 means the CA's current one */
};

void db_cert_free(struct db_cert *cert);

/* "revoked" when revoked_at is set, else "expired" when not_after <= now_ms, else "active". */
const char *db_cert_status(const struct db_cert *cert, int64_t now_ms);

/* Inserts cert (id and created_at are ignored and set here; NULL sans/tags become "[]").
 * HSMCA_E_EXISTS when the serial or fingerprint is taken. */
int db_certs_insert(struct db *db, const struct db_cert *cert, int64_t *id);

/* *exists = 1 when a certificate with this serial (uppercase hex) is stored. */
int db_certs_serial_exists(struct db *db, const char *serial, int *exists);

/* HSMCA_E_NOTFOUND when there is none. */
int db_certs_get_by_serial(struct db *db, const char *serial, struct db_cert **out);
int db_certs_get_by_id(struct db *db, int64_t id, struct db_cert **out);

#endif
