/*
 * api_teams.c: /api/v1/teams — teams, their members and the CAs granted to them. Admin
 * changes; admin and auditor read.
 * May call: auth.h, db_teams.h, audit.h, json_in.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "db_teams.h"
#include "err.h"
#include "json_in.h"

static json_t *
team_json(const struct db_team *t)
{
	return json_pack("{s:I,s:s,s:s,s:o}", "id", (json_int_t)t->id, "name", t->name,
	    "description", t->description, "created_at", api_time_json(t->created_at));
}

static json_t *
refs_json(const struct db_team_ref *r, size_t n, const char *name_key)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n && a != NULL; i++)
		json_array_append_new(a, json_pack("{s:I,s:s}", "id", (json_int_t)r[i].id, name_key, r[i].name));
	return a;
}

/* Runs one change and its audit row in a transaction. */
static int
audited(struct req *req, int rc_change, const char *event, const char *object, const char *det)
{
	int rc = rc_change;

	if (rc == 0)
		rc = audit_write(req->db, api_actor(req), req->peer_ip, event, object, det);
	if (rc == 0)
		rc = db_commit(req->db);
	if (rc != 0)
		db_rollback(req->db);
	return rc;
}

int
api_teams_list(struct req *req, struct resp *resp)
{
	struct db_team *v = NULL;
	size_t n = 0, i;
	int64_t after;
	int limit, rc;
	json_t *items;

	if ((rc = auth_check(&req->actor, AUTH_READ)) != 0 || (rc = req_page(req, 50, 500, &limit, &after)) != 0)
		return rc;
	if ((rc = db_teams_list(req->db, after, limit, &v, &n)) != 0)
		return rc;
	items = json_array();
	for (i = 0; i < n && items != NULL; i++)
		json_array_append_new(items, team_json(&v[i]));
	rc = api_list_resp(resp, items, n == (size_t)limit ? v[n - 1].id : 0);
	free(v);
	return rc;
}

static int
team_full(struct req *req, struct resp *resp, int64_t id, int status)
{
	struct db_team t;
	struct db_team_ref *members = NULL, *cas = NULL;
	size_t nm = 0, nc = 0;
	json_t *o;
	int rc;

	if ((rc = db_teams_get(req->db, id, &t)) != 0 || (rc = db_teams_members(req->db, id, &members, &nm)) != 0 ||
	    (rc = db_teams_cas(req->db, id, &cas, &nc)) != 0)
		goto out;
	o = team_json(&t);
	if (o != NULL) {
		json_object_set_new(o, "members", refs_json(members, nm, "username"));
		json_object_set_new(o, "cas", refs_json(cas, nc, "slug"));
	}
	rc = resp_json(resp, status, o);
out:
	free(members);
	free(cas);
	return rc;
}

int
api_teams_get(struct req *req, struct resp *resp)
{
	int64_t id;
	int rc;

	if ((rc = auth_check(&req->actor, AUTH_READ)) != 0 || (rc = req_param_id(req, "id", &id)) != 0)
		return rc;
	return team_full(req, resp, id, 200);
}

int
api_teams_create(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "name", "description", NULL };
	const char *name, *desc;
	json_t *body = NULL;
	int64_t id = 0;
	int rc;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = api_body(req, keys, &body)) != 0)
		return rc;
	if ((rc = json_in_str(body, "name", 1, 1, DB_TEAMS_NAME_MAX, 0, &name)) != 0 ||
	    (rc = json_in_str(body, "description", 0, 0, DB_TEAMS_DESC_MAX, 0, &desc)) != 0 ||
	    (rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = audited(req, db_teams_create(req->db, name, desc, &id), "team.created", name, NULL)) != 0)
		goto out;
	rc = team_full(req, resp, id, 201);
out:
	json_decref(body);
	return rc;
}

int
api_teams_update(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "name", "description", NULL };
	const char *name, *desc;
	char object[32];
	json_t *body = NULL;
	int64_t id;
	int rc;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = req_param_id(req, "id", &id)) != 0 ||
	    (rc = api_body(req, keys, &body)) != 0)
		return rc;
	snprintf(object, sizeof(object), "team:%lld", (long long)id);
	if ((rc = json_in_str(body, "name", 0, 1, DB_TEAMS_NAME_MAX, 0, &name)) != 0 ||
	    (rc = json_in_str(body, "description", 0, 0, DB_TEAMS_DESC_MAX, 0, &desc)) != 0 ||
	    (rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = audited(req, db_teams_update(req->db, id, name, desc), "team.updated", object, NULL)) != 0)
		goto out;
	rc = team_full(req, resp, id, 200);
out:
	json_decref(body);
	return rc;
}

int
api_teams_delete(struct req *req, struct resp *resp)
{
	char object[32];
	int64_t id;
	int rc;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = req_param_id(req, "id", &id)) != 0)
		return rc;
	snprintf(object, sizeof(object), "team:%lld", (long long)id);
	if ((rc = db_begin(req->db)) != 0 ||
	    (rc = audited(req, db_teams_delete(req->db, id), "team.deleted", object, NULL)) != 0)
		return rc;
	return resp_bytes(resp, 204, NULL, "", 0);
}

/* PUT/DELETE /teams/{id}/<what>/{other}: one link added or removed. */
static int
team_link(struct req *req, struct resp *resp, const char *param, int add, int ca)
{
	char object[32], det[64];
	int64_t id, other;
	int rc, rc_change;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = req_param_id(req, "id", &id)) != 0 ||
	    (rc = req_param_id(req, param, &other)) != 0)
		return rc;
	snprintf(object, sizeof(object), "team:%lld", (long long)id);
	snprintf(det, sizeof(det), "{\"%s\":%lld}", ca ? "ca_id" : "user_id", (long long)other);
	if ((rc = db_begin(req->db)) != 0)
		return rc;
	if (ca)
		rc_change = add ? db_teams_add_ca(req->db, id, other) : db_teams_remove_ca(req->db, id, other);
	else
		rc_change = add ? db_teams_add_member(req->db, id, other) : db_teams_remove_member(req->db, id, other);
	if ((rc = audited(req, rc_change, ca ? (add ? "team.ca.granted" : "team.ca.removed") :
	    (add ? "team.member.added" : "team.member.removed"), object, det)) != 0)
		return rc;
	return resp_bytes(resp, 204, NULL, "", 0);
}

int
api_teams_add_member(struct req *req, struct resp *resp)
{
	return team_link(req, resp, "user_id", 1, 0);
}

int
api_teams_remove_member(struct req *req, struct resp *resp)
{
	return team_link(req, resp, "user_id", 0, 0);
}

int
api_teams_add_ca(struct req *req, struct resp *resp)
{
	return team_link(req, resp, "ca_id", 1, 1);
}

int
api_teams_remove_ca(struct req *req, struct resp *resp)
{
	return team_link(req, resp, "ca_id", 0, 1);
}
