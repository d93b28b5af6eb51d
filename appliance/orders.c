/*
 * orders.c: order state transitions around an issuance (see orders.h).
 * May call: db_orders.h. Must never: sign, or hold a transaction across signing.
 */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "db_orders.h"
#include "err.h"
#include "orders.h"

int
orders_open(struct db *db, const char *type, int64_t ca_id, const char *common_name,
    const char *requested_by, const char *params_json, int64_t *order_id)
{
	*order_id = 0;
	if (db_in_transaction(db))
		return err_set(HSMCA_E_INTERNAL, "orders: an order must be committed on its own before signing");
	/* Autocommit: the INSERT is its own durable transaction. */
	return db_orders_insert(db, type, "processing", ca_id, common_name, requested_by, params_json,
	    order_id);
}

int
orders_open_in(struct db *db, const char *type, int64_t ca_id, const char *common_name,
    const char *requested_by, const char *params_json, int64_t *order_id)
{
	*order_id = 0;
	if (!db_in_transaction(db))
		return err_set(HSMCA_E_INTERNAL, "orders: orders_open_in needs the caller's transaction");
	return db_orders_insert(db, type, "processing", ca_id, common_name, requested_by, params_json,
	    order_id);
}

int
orders_complete(struct db *db, int64_t order_id, int64_t certificate_id)
{
	if (!db_in_transaction(db))
		return err_set(HSMCA_E_INTERNAL, "orders: completion must share the certificate's transaction");
	return db_orders_complete(db, order_id, certificate_id);
}

int
orders_fail(struct db *db, int64_t order_id, const char *error)
{
	char saved[512];
	int rc;

	/* Keep the caller's detail: the order's own failure must not overwrite the reason the
	 * user needs to see. */
	snprintf(saved, sizeof(saved), "%s", err_msg(HSMCA_E_INTERNAL));
	db_rollback(db);
	rc = db_orders_fail(db, order_id, error);
	err_set(HSMCA_E_INTERNAL, "%s", saved);
	return rc;
}
