/*
 * api_tokens.c: /api/v1/users/{id}/tokens — API tokens. A user manages their own; an admin
 * anyone's; an auditor may list anyone's. The token is in the creation answer only.
 * May call: auth.h, db_tokens.h, db_users.h, audit.h, json_in.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "db_tokens.h"
#include "db_users.h"
#include "err.h"
#include "json_in.h"
#include "passwd.h"

/* The {id} user, when the caller may act on their tokens (self always; others: admin for
 * changes, admin or auditor for reading). */
static int
owner(struct req *req, enum auth_action action, int64_t *user_id)
{
	struct db_user *u = NULL;
	int rc;

	if ((rc = req_param_id(req, "id", user_id)) != 0)
		return rc;
	if (*user_id != req->actor.user_id && (rc = auth_check(&req->actor, action)) != 0)
		return rc;
	rc = db_users_get(req->db, *user_id, &u);
	db_user_free(u);
	return rc;
}

static json_t *
token_json(const struct db_token *t)
{
	return json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:b}", "id", (json_int_t)t->id, "name", t->name,
	    "prefix", t->prefix, "created_at", api_time_json(t->created_at),
	    "expires_at", api_time_json(t->expires_at), "last_used_at", api_time_json(t->last_used_at),
	    "expired", t->expires_at != 0 && t->expires_at <= db_now_ms());
}

int
api_tokens_list(struct req *req, struct resp *resp)
{
	struct db_token *toks = NULL;
	size_t n = 0, i;
	int64_t uid, after;
	int limit, rc;
	json_t *items;

	if ((rc = owner(req, AUTH_READ, &uid)) != 0 || (rc = req_page(req, 50, 500, &limit, &after)) != 0)
		return rc;
	if ((rc = db_tokens_list(req->db, uid, after, limit, &toks, &n)) != 0)
		return rc;
	items = json_array();
	for (i = 0; i < n && items != NULL; i++)
		json_array_append_new(items, token_json(&toks[i]));
	rc = api_list_resp(resp, items, n == (size_t)limit ? toks[n - 1].id : 0);
	free(toks);
	return rc;
}

int
api_tokens_create(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "validity_days", "name", NULL };
	const char *name;
	char *token = NULL, prefix[24];
	json_t *body = NULL;
	int64_t uid, days, tid = 0;
	int rc;

	if ((rc = owner(req, AUTH_MANAGE, &uid)) != 0 || (rc = api_body(req, keys, &body)) != 0)
		return rc;
	if ((rc = json_in_int(body, "validity_days", 1, 1, 3650, 0, &days)) != 0 ||
	    (rc = json_in_str(body, "name", 0, 1, 64, 0, &name)) != 0)
		goto out;
	if (name == NULL)
		name = "api";
	if ((rc = auth_token_create(req->db, api_actor(req), req->peer_ip, uid, name, (int)days, &token,
	    &tid)) != 0)
		goto out;
	snprintf(prefix, sizeof(prefix), "%.15s", token);
	rc = resp_json(resp, 201, json_pack("{s:I,s:s,s:s,s:s,s:o}", "id", (json_int_t)tid, "token", token,
	    "name", name, "prefix", prefix, "expires_at", api_time_json(db_now_ms() + days * 86400000)));
out:
	passwd_free(token);
	json_decref(body);
	return rc;
}

int
api_tokens_delete(struct req *req, struct resp *resp)
{
	char det[64];
	int64_t uid, tid;
	int rc;

	if ((rc = owner(req, AUTH_MANAGE, &uid)) != 0 || (rc = req_param_id(req, "token_id", &tid)) != 0)
		return rc;
	snprintf(det, sizeof(det), "{\"token_id\":%lld}", (long long)tid);
	if ((rc = db_begin(req->db)) != 0)
		return rc;
	if ((rc = db_tokens_delete(req->db, uid, tid)) != 0 ||
	    (rc = audit_write(req->db, api_actor(req), req->peer_ip, "api_token.deleted", NULL, det)) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		return rc;
	}
	return resp_bytes(resp, 204, NULL, "", 0);
}
