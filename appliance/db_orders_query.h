/*
 * db_orders_query.h: reading the orders table for the REST lists (filters, keyset pagination).
 * Rows are read back with db_orders_get() (db_orders.h).
 */
#ifndef HSMCA_DB_ORDERS_QUERY_H
#define HSMCA_DB_ORDERS_QUERY_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* NULL / 0: no filter; strings borrowed for the call. */
struct db_orders_filter {
	const char *status;            /* "pending" | "processing" | "complete" | "failed" */
	const char *type;              /* "local" | "csr" | "scep" | "renewal" */
	int64_t ca_id;
	const char *requested_by;      /* exact label, "user:alice" */
	int64_t visible_to_user;       /* > 0: only orders on CAs granted to this user's teams */
};

/* Ids of matching orders, newest first, id < before_id when before_id > 0, at most limit.
 * *ids malloc'd, caller free()s. */
int db_orders_query_ids(struct db *db, const struct db_orders_filter *f, int64_t before_id, int limit,
    int64_t **ids, size_t *n);

#endif
