/*
 * api_health.c: GET /healthz (token reachable, database writable) and GET /metrics.
 * May call: tok.h (tok_ping only), db.h, metrics.h. Must never: require authentication (load
 * balancers and Prometheus call these) or reveal anything beyond up/down.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "db.h"
#include "err.h"
#include "log.h"
#include "metrics.h"
#include "tok.h"

int
api_healthz(struct req *req, struct resp *resp)
{
	const char *tok_state = "ok", *db_state = "ok";
	int ok = 1;

	if (req->tok == NULL || tok_ping(req->tok) != 0) {
		tok_state = "unavailable";
		ok = 0;
		log_msg(LOGL_ERROR, "health", "token.unreachable", "%s", req->tok == NULL ? "no token open" :
		    err_msg(HSMCA_E_TOKEN));
	}
	/* BEGIN IMMEDIATE takes the write lock: a read-only file, a full lock table or a wedged
	 * writer fails it. Nothing is written, so health checks cost no fsync. */
	if (db_begin(req->db) != 0) {
		db_state = "unwritable";
		ok = 0;
		log_msg(LOGL_ERROR, "health", "database.unwritable", "%s", err_msg(HSMCA_E_DB));
	} else {
		db_rollback(req->db);
	}
	err_clear();
	return resp_json(resp, ok ? 200 : 503, json_pack("{s:s,s:s,s:s}", "status", ok ? "ok" : "degraded",
	    "token", tok_state, "database", db_state));
}

int
api_metrics(struct req *req, struct resp *resp)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	(void)req;
	if ((rc = metrics_render(&text, &len)) != 0)
		return rc;
	rc = resp_bytes(resp, 200, "text/plain; version=0.0.4", text, len);
	free(text);
	return rc;
}
