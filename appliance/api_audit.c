/*
 * api_audit.c: GET /api/v1/audit — the audit trail with filters (event or event prefix, actor,
 * object, since/until) and keyset pagination. Admins and auditors only.
 * May call: db_audit_query.h, auth.h. Must never: write to the audit table.
 */
#include <string.h>

#include "api.h"
#include "api_resources.h"
#include "auth.h"
#include "db_audit_query.h"
#include "err.h"

/* A filter string of 1..max printable characters. */
static int
text_param(struct req *req, const char *name, size_t max, const char **out)
{
	const char *v = req_query(req, name);
	size_t i, n;

	*out = NULL;
	if (v == NULL)
		return 0;
	n = strlen(v);
	if (n == 0 || n > max)
		return err_set(HSMCA_E_INVALID, "query parameter '%s' must have 1 to %zu characters", name, max);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return err_set(HSMCA_E_INVALID, "query parameter '%s' has a control character", name);
	*out = v;
	return 0;
}

int
api_audit_list(struct req *req, struct resp *resp)
{
	struct db_audit_filter f;
	struct db_audit_item *rows = NULL;
	size_t n = 0, i;
	int64_t after;
	json_t *items = NULL, *det, *o;
	int limit, rc;

	memset(&f, 0, sizeof(f));
	if ((rc = auth_check(&req->actor, AUTH_READ)) != 0 || (rc = req_page(req, 100, 1000, &limit, &after)) != 0)
		return rc;
	if ((rc = text_param(req, "event", 128, &f.event)) != 0 || (rc = text_param(req, "actor", 128, &f.actor)) != 0 ||
	    (rc = text_param(req, "object", 256, &f.object)) != 0 ||
	    (rc = api_query_time("since", req_query(req, "since"), &f.since_ms)) != 0 ||
	    (rc = api_query_time("until", req_query(req, "until"), &f.until_ms)) != 0)
		return rc;
	if ((rc = db_audit_query_list(req->db, &f, after, limit + 1, &rows, &n)) != 0)
		return rc;
	if ((items = json_array()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	/* One row more than asked says whether a next page exists. */
	for (i = 0; i < n && i < (size_t)limit; i++) {
		det = rows[i].details != NULL ? json_loads(rows[i].details, 0, NULL) : NULL;
		o = json_pack("{s:I,s:o,s:s,s:o,s:s,s:o,s:o,s:s}", "id", (json_int_t)rows[i].id,
		    "at", api_time_json(rows[i].at_ms), "actor", rows[i].actor, "ip", api_str_or_null(rows[i].ip),
		    "event", rows[i].event, "object", api_str_or_null(rows[i].object),
		    "details", det != NULL ? det : json_object(), "hash", rows[i].hash);
		if (json_array_append_new(items, o) != 0) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
	}
	rc = api_list_resp(resp, items, n > (size_t)limit ? rows[limit - 1].id : 0);
	items = NULL;
out:
	json_decref(items);
	db_audit_items_free(rows, n);
	return rc;
}
