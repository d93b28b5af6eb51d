/*
 * api_orders.c: /api/v1/orders — every issuance is an order (issue.h); list with filters and
 * keyset pagination, detail with duration and, for failed orders, the error and the original
 * request parameters (issue.c stores them without secrets).
 * May call: db_orders.h, db_orders_query.h, db_cas.h, auth.h. Must never: change an order.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_resources.h"
#include "auth.h"
#include "db.h"
#include "db_cas.h"
#include "db_orders.h"
#include "db_orders_query.h"
#include "err.h"

static json_t *
order_json(struct req *req, const struct db_order *o, int detail)
{
	struct db_ca *ca = NULL;
	json_t *j, *params;
	int64_t dur = -1;

	if (o->ca_id > 0 && db_cas_get_by_id(req->db, o->ca_id, &ca) != 0)
		ca = NULL;
	if (o->started_at_ms > 0 && o->finished_at_ms >= o->started_at_ms)
		dur = o->finished_at_ms - o->started_at_ms;
	j = json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o}",
	    "id", (json_int_t)o->id, "type", o->type, "status", o->status,
	    "ca", ca != NULL ? json_string(ca->slug) : json_null(),
	    "ca_id", o->ca_id > 0 ? json_integer(o->ca_id) : json_null(),
	    "common_name", api_str_or_null(o->common_name), "requested_by", o->requested_by,
	    "certificate_id", o->certificate_id > 0 ? json_integer(o->certificate_id) : json_null(),
	    "created_at", api_time_json(o->created_at_ms), "started_at", api_time_json(o->started_at_ms),
	    "finished_at", api_time_json(o->finished_at_ms),
	    "duration_ms", dur >= 0 ? json_integer(dur) : json_null(),
	    "error", api_str_or_null(o->error));
	/* The request parameters: always in the detail, and in the list for failed orders (what the
	 * console shows to retry one). */
	if (j != NULL && (detail || strcmp(o->status, "failed") == 0)) {
		params = o->params != NULL ? json_loads(o->params, 0, NULL) : NULL;
		json_object_set_new(j, "params", params != NULL ? params : json_object());
	}
	db_ca_free(ca);
	return j;
}

int
api_orders_list(struct req *req, struct resp *resp)
{
	static const char *const statuses[] = { "pending", "processing", "complete", "failed", NULL };
	static const char *const types[] = { "local", "csr", "scep", "renewal", NULL };
	struct db_orders_filter f;
	struct db_order *o = NULL;
	struct db_ca *ca = NULL;
	const char *const *e;
	const char *v;
	int64_t *ids = NULL, after, last = 0;
	size_t n = 0, i;
	json_t *items = NULL;
	int limit, rc;

	memset(&f, 0, sizeof(f));
	if ((rc = req_page(req, 50, 500, &limit, &after)) != 0)
		return rc;
	if ((f.status = req_query(req, "status")) != NULL) {
		for (e = statuses; *e != NULL && strcmp(*e, f.status) != 0; e++)
			;
		if (*e == NULL)
			return err_set(HSMCA_E_INVALID, "query parameter 'status' must be pending, processing, "
			    "complete or failed");
	}
	if ((f.type = req_query(req, "type")) != NULL) {
		for (e = types; *e != NULL && strcmp(*e, f.type) != 0; e++)
			;
		if (*e == NULL)
			return err_set(HSMCA_E_INVALID, "query parameter 'type' must be local, csr, scep or renewal");
	}
	if ((v = req_query(req, "requested_by")) != NULL) {
		if (strlen(v) == 0 || strlen(v) > 128)
			return err_set(HSMCA_E_INVALID, "query parameter 'requested_by' must have 1 to 128 characters");
		f.requested_by = v;
	}
	if ((v = req_query(req, "ca")) != NULL) {
		if ((rc = db_cas_get_by_slug(req->db, v, &ca)) != 0) {
			if (rc == HSMCA_E_NOTFOUND)
				err_set(rc, "unknown CA '%s'", v);
			return rc;
		}
		if ((rc = auth_check_ca(req->db, &req->actor, ca->id, AUTH_READ)) != 0)
			goto out;
		f.ca_id = ca->id;
	}
	if (!auth_reads_all(&req->actor))
		f.visible_to_user = req->actor.user_id;
	if ((rc = db_orders_query_ids(req->db, &f, after, limit + 1, &ids, &n)) != 0)
		goto out;
	if ((items = json_array()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	/* One row more than asked says whether a next page exists. */
	for (i = 0; i < n && i < (size_t)limit; i++) {
		if ((rc = db_orders_get(req->db, ids[i], &o)) != 0)
			goto out;
		if (json_array_append_new(items, order_json(req, o, 0)) != 0) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		last = o->id;
		db_order_free(o);
		o = NULL;
	}
	rc = api_list_resp(resp, items, n > (size_t)limit ? last : 0);
	items = NULL;
out:
	json_decref(items);
	db_order_free(o);
	db_ca_free(ca);
	free(ids);
	return rc;
}

int
api_orders_get(struct req *req, struct resp *resp)
{
	struct db_order *o = NULL;
	int64_t id;
	int rc;

	if ((rc = req_param_id(req, "id", &id)) != 0)
		return err_set(rc, "no order has id '%s'", req_param(req, "id") != NULL ? req_param(req, "id") : "");
	if ((rc = db_orders_get(req->db, id, &o)) != 0) {
		if (rc == HSMCA_E_NOTFOUND)
			err_set(rc, "no order has id %lld", (long long)id);
		return rc;
	}
	if (o->ca_id > 0)
		rc = auth_check_ca(req->db, &req->actor, o->ca_id, AUTH_READ);
	else if (!auth_reads_all(&req->actor))
		rc = err_set(HSMCA_E_PERM, "only administrators and auditors see orders without a CA");
	if (rc == 0)
		rc = resp_json(resp, 200, order_json(req, o, 1));
	db_order_free(o);
	return rc;
}
