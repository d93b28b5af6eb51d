/*
 * db_audit.h: the audit table's SQL. audit.c computes the hash chain; this file only stores
 * and reads rows.
 */
#ifndef HSMCA_DB_AUDIT_H
#define HSMCA_DB_AUDIT_H

#include <stdint.h>

struct db;

#define DB_AUDIT_HASH_HEX 65   /* 64 hex digits and a NUL */

/* One row. Strings are borrowed (from the caller on insert; valid during the callback on walk). */
struct db_audit_row {
	int64_t id;
	int64_t at_ms;
	const char *actor;
	const char *ip;        /* may be NULL */
	const char *event;
	const char *object;    /* may be NULL */
	const char *details;   /* JSON text */
	const char *prev_hash;
	const char *hash;
};

/* The newest row's id and hash; id 0 and an empty hash when the table is empty. */
int db_audit_last(struct db *db, int64_t *id, char hash[DB_AUDIT_HASH_HEX]);

/* Inserts row with its explicit id. */
int db_audit_insert(struct db *db, const struct db_audit_row *row);

/* Calls cb for each row in id order; a non-zero return from cb stops the walk and is returned. */
int db_audit_walk(struct db *db, int (*cb)(const struct db_audit_row *row, void *arg), void *arg);

#endif
