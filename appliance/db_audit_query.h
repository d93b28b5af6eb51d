/*
 * db_audit_query.h: reading the audit table for GET /api/v1/audit (filters, keyset pagination).
 * db_audit.h stays the hash chain's own insert and walk.
 */
#ifndef HSMCA_DB_AUDIT_QUERY_H
#define HSMCA_DB_AUDIT_QUERY_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* NULL / 0: no filter; strings borrowed for the call. */
struct db_audit_filter {
	const char *event;             /* exact, or a prefix when it ends in '.' ("certificate.") */
	const char *actor;             /* exact ("user:alice") */
	const char *object;            /* exact */
	int64_t since_ms;              /* at >= since */
	int64_t until_ms;              /* at < until */
};

/* One row; every string owned (db_audit_items_free). */
struct db_audit_item {
	int64_t id;
	int64_t at_ms;
	char *actor;
	char *ip;                      /* may be NULL */
	char *event;
	char *object;                  /* may be NULL */
	char *details;                 /* JSON text */
	char *hash;
};

/* Matching rows, newest first, id < before_id when before_id > 0, at most limit.
 * Free with db_audit_items_free(*items, *n). */
int db_audit_query_list(struct db *db, const struct db_audit_filter *f, int64_t before_id, int limit,
    struct db_audit_item **items, size_t *n);
void db_audit_items_free(struct db_audit_item *items, size_t n);

#endif
