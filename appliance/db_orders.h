/*
 * db_orders.h: the orders table. Every issuance is an order: pending -> processing ->
 * complete | failed. Ownership: struct db_order results are owned by the caller (db_order_free).
 */
#ifndef HSMCA_DB_ORDERS_H
#define HSMCA_DB_ORDERS_H

#include <stdint.h>

struct db;

struct db_order {
	int64_t id;
	char *type;            /* "local", "csr", "scep", "renewal" */
	char *status;          /* "pending", "processing", "complete", "failed" */
	int64_t ca_id;         /* 0: none */
	char *common_name;     /* may be NULL */
	char *requested_by;
	char *params;          /* JSON text, never a secret */
	char *error;           /* may be NULL */
	int64_t certificate_id;/* 0: none */
	int64_t created_at_ms;
	int64_t started_at_ms; /* 0: not started */
	int64_t finished_at_ms;/* 0: not finished */
};

void db_order_free(struct db_order *o);

/* Inserts an order with status "pending" or "processing" (then started_at = created_at).
 * params NULL: "{}". */
int db_orders_insert(struct db *db, const char *type, const char *status, int64_t ca_id,
    const char *common_name, const char *requested_by, const char *params, int64_t *id);

/* processing -> complete with the certificate; finished_at = now. HSMCA_E_CONFLICT when the
 * order is not processing. */
int db_orders_complete(struct db *db, int64_t id, int64_t certificate_id);

/* pending|processing -> failed with the error text; finished_at = now. */
int db_orders_fail(struct db *db, int64_t id, const char *error);

int db_orders_get(struct db *db, int64_t id, struct db_order **out);

#endif
