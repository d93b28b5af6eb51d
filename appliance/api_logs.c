/*
 * api_logs.c: GET /api/v1/logs/login-attempts — every login attempt, newest first (admin and
 * auditor). Filter: username=; paging: limit=, after= (the "next" of the previous page).
 * May call: auth.h, db_login_attempts.h.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "db_login_attempts.h"
#include "err.h"

int
api_logs_login_attempts(struct req *req, struct resp *resp)
{
	struct db_login_attempt *v = NULL;
	const char *username = req_query(req, "username");
	size_t n = 0, i;
	int64_t after;
	int limit, rc;
	json_t *items;

	if ((rc = auth_check(&req->actor, AUTH_READ)) != 0 || (rc = req_page(req, 100, 1000, &limit, &after)) != 0)
		return rc;
	if (username != NULL && strlen(username) > 64)
		return err_set(HSMCA_E_INVALID, "query parameter 'username' is longer than 64 bytes");
	if ((rc = db_login_attempts_list(req->db, after, username, limit, &v, &n)) != 0)
		return rc;
	items = json_array();
	for (i = 0; i < n && items != NULL; i++)
		json_array_append_new(items, json_pack("{s:I,s:o,s:s,s:o,s:b,s:s,s:s}", "id", (json_int_t)v[i].id,
		    "at", api_time_json(v[i].at), "username", v[i].username,
		    "ip", v[i].ip[0] != '\0' ? json_string(v[i].ip) : json_null(), "success", v[i].success,
		    "result", v[i].success ? "success" : "failure", "reason", v[i].reason));
	rc = api_list_resp(resp, items, n == (size_t)limit ? v[n - 1].id : 0);
	free(v);
	return rc;
}
