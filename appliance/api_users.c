/*
 * api_users.c: /api/v1/users — local accounts (admin manages, auditor reads, anyone reads self).
 * May call: auth.h, db_users.h, db_sessions.h, passwd.h, audit.h, json_in.h. Must never: return a
 * password hash or TOTP secret, or keep a generated password after answering.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "db_sessions.h"
#include "db_users.h"
#include "err.h"
#include "json_in.h"
#include "passwd.h"

static const char *const roles[] = { "admin", "operator", "auditor", NULL };

json_t *
api_user_json(const struct db_user *u)
{
	return json_pack("{s:I,s:s,s:o,s:s,s:b,s:b,s:b,s:i,s:b,s:o,s:o,s:o,s:o}",
	    "id", (json_int_t)u->id, "username", u->username,
	    "email", u->email != NULL ? json_string(u->email) : json_null(),
	    "role", u->role, "enabled", u->enabled, "must_change_password", u->must_change_password,
	    "locked", u->locked, "failed_logins", u->failed_logins, "totp_enabled", u->totp_enabled,
	    "last_login_at", api_time_json(u->last_login_at),
	    "last_login_ip", u->last_login_ip != NULL ? json_string(u->last_login_ip) : json_null(),
	    "created_at", api_time_json(u->created_at), "updated_at", api_time_json(u->updated_at));
}

int
api_users_list(struct req *req, struct resp *resp)
{
	struct db_user **users = NULL;
	size_t n = 0, i;
	int64_t after;
	int limit, rc;
	json_t *items;

	if ((rc = auth_check(&req->actor, AUTH_READ)) != 0 || (rc = req_page(req, 50, 500, &limit, &after)) != 0)
		return rc;
	if ((rc = db_users_list(req->db, after, limit, &users, &n)) != 0)
		return rc;
	items = json_array();
	for (i = 0; i < n && items != NULL; i++)
		json_array_append_new(items, api_user_json(users[i]));
	rc = api_list_resp(resp, items, n == (size_t)limit ? users[n - 1]->id : 0);
	db_users_list_free(users, n);
	return rc;
}

/* Loads the user named by {id}: an admin or auditor may see anyone, others only themselves. */
static int
load_visible(struct req *req, struct db_user **out)
{
	int64_t id;
	int rc;

	*out = NULL;
	if ((rc = req_param_id(req, "id", &id)) != 0)
		return rc;
	if (id != req->actor.user_id && (rc = auth_check(&req->actor, AUTH_READ)) != 0)
		return rc;
	rc = db_users_get(req->db, id, out);
	if (rc == HSMCA_E_NOTFOUND)
		err_set(rc, "no user has id %lld", (long long)id);
	return rc;
}

int
api_users_get(struct req *req, struct resp *resp)
{
	struct db_user *u = NULL;
	int rc;

	if ((rc = load_visible(req, &u)) != 0)
		return rc;
	rc = resp_json(resp, 200, api_user_json(u));
	db_user_free(u);
	return rc;
}

int
api_users_create(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "username", "email", "role", "password", "must_change_password",
		NULL };
	const char *username, *email, *role, *password;
	char *generated = NULL, *hash = NULL, *det = NULL;
	struct db_user *u = NULL;
	json_t *body = NULL, *o;
	int must_change, rc;
	int64_t id = 0;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = api_body(req, keys, &body)) != 0)
		return rc;
	if ((rc = json_in_str(body, "username", 1, 1, DB_USERS_NAME_MAX, 0, &username)) != 0 ||
	    (rc = auth_check_username(username)) != 0 ||
	    (rc = json_in_str(body, "email", 0, 0, DB_USERS_EMAIL_MAX, 0, &email)) != 0 ||
	    (email != NULL && email[0] != '\0' && (rc = auth_check_email(email)) != 0) ||
	    (rc = json_in_enum(body, "role", 1, roles, &role)) != 0 ||
	    (rc = json_in_str(body, "password", 0, 1, PASSWD_MAX_LEN, 1, &password)) != 0 ||
	    (rc = json_in_bool(body, "must_change_password", 0, -1, &must_change)) != 0)
		goto out;
	if (password != NULL && (rc = passwd_check_policy(password)) != 0)
		goto out;
	if (password == NULL) {
		/* "Generate a random password": shown once in this answer, never stored in clear. */
		if ((rc = passwd_generate(&generated)) != 0)
			goto out;
	}
	/* Default: a generated password was seen by the admin, so its owner replaces it; a password
	 * the admin chose (provisioning) stays unless must_change_password says otherwise. */
	if (must_change < 0)
		must_change = generated != NULL;
	if ((rc = passwd_hash(password != NULL ? password : generated, &hash)) != 0)
		goto out;
	o = json_pack("{s:s,s:s}", "username", username, "role", role);
	det = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = db_users_create(req->db, username, email, role, hash, must_change, &id)) != 0 ||
	    (rc = audit_write(req->db, api_actor(req), req->peer_ip, "user.created", username, det)) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	if ((rc = db_users_get(req->db, id, &u)) != 0)
		goto out;
	o = api_user_json(u);
	if (o != NULL && generated != NULL)
		json_object_set_new(o, "password", json_string(generated));
	rc = resp_json(resp, 201, o);
out:
	db_user_free(u);
	free(det);
	free(hash);
	passwd_free(generated);
	json_decref(body);
	return rc;
}

/* Refuses to leave the appliance without an enabled admin. */
static int
keep_an_admin(struct req *req, const struct db_user *u, const char *new_role, int new_enabled, int deleting)
{
	int64_t n = 0;
	int rc;

	if (strcmp(u->role, "admin") != 0 || !u->enabled)
		return 0;
	if (!deleting && (new_role == NULL || strcmp(new_role, "admin") == 0) && new_enabled != 0)
		return 0;
	if ((rc = db_users_count_enabled_admins(req->db, &n)) != 0)
		return rc;
	return n <= 1 ? err_set(HSMCA_E_CONFLICT, "this is the last enabled administrator") : 0;
}

int
api_users_update(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "email", "role", "enabled", "password", "must_change_password",
		NULL };
	const char *email, *role, *password;
	struct db_user *u = NULL, *after = NULL;
	char *hash = NULL, *det = NULL;
	json_t *body = NULL, *o;
	int enabled, must_change, rc;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = load_visible(req, &u)) != 0)
		return rc;
	if ((rc = api_body(req, keys, &body)) != 0)
		goto out;
	if ((rc = json_in_str(body, "email", 0, 0, DB_USERS_EMAIL_MAX, 0, &email)) != 0 ||
	    (email != NULL && email[0] != '\0' && (rc = auth_check_email(email)) != 0) ||
	    (rc = json_in_enum(body, "role", 0, roles, &role)) != 0 ||
	    (rc = json_in_bool(body, "enabled", 0, -1, &enabled)) != 0 ||
	    (rc = json_in_str(body, "password", 0, 1, PASSWD_MAX_LEN, 1, &password)) != 0 ||
	    (rc = json_in_bool(body, "must_change_password", 0, -1, &must_change)) != 0)
		goto out;
	if (password != NULL && (rc = passwd_check_policy(password)) != 0)
		goto out;
	if ((rc = keep_an_admin(req, u, role, enabled, 0)) != 0)
		goto out;
	if (password != NULL && (rc = passwd_hash(password, &hash)) != 0)
		goto out;
	/* Audit which fields changed, never their secret values. */
	o = json_pack("{s:b,s:b,s:b,s:b,s:b}", "email", email != NULL, "role", role != NULL,
	    "enabled", enabled >= 0, "password", password != NULL, "must_change_password", must_change >= 0);
	det = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((email != NULL || role != NULL || enabled >= 0) &&
	    (rc = db_users_update(req->db, u->id, email, role, enabled)) != 0)
		goto fail;
	/* A password the admin chose is theirs to hand over; must_change_password asks for a change. */
	if (hash != NULL && (rc = db_users_set_password(req->db, u->id, hash,
	    must_change >= 0 ? must_change : 0)) != 0)
		goto fail;
	if (hash == NULL && must_change >= 0 && u->password_hash != NULL &&
	    (rc = db_users_set_password(req->db, u->id, u->password_hash, must_change)) != 0)
		goto fail;
	/* A disabled account or a reset password ends the sessions that were open. */
	if ((enabled == 0 || hash != NULL) && (rc = db_sessions_delete_user(req->db, u->id, 0)) != 0)
		goto fail;
	if ((rc = audit_write(req->db, api_actor(req), req->peer_ip,
	    hash != NULL ? "user.password.reset" : "user.updated", u->username, det)) != 0)
		goto fail;
	if ((rc = db_commit(req->db)) != 0)
		goto fail;
	if ((rc = db_users_get(req->db, u->id, &after)) != 0)
		goto out;
	rc = resp_json(resp, 200, api_user_json(after));
	goto out;
fail:
	db_rollback(req->db);
out:
	db_user_free(after);
	db_user_free(u);
	free(det);
	free(hash);
	json_decref(body);
	return rc;
}

int
api_users_delete(struct req *req, struct resp *resp)
{
	struct db_user *u = NULL;
	int rc;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = load_visible(req, &u)) != 0)
		return rc;
	if (u->id == req->actor.user_id) {
		rc = err_set(HSMCA_E_CONFLICT, "you cannot delete your own account");
		goto out;
	}
	if ((rc = keep_an_admin(req, u, NULL, 0, 1)) != 0)
		goto out;
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = db_users_delete(req->db, u->id)) != 0 ||
	    (rc = audit_write(req->db, api_actor(req), req->peer_ip, "user.deleted", u->username, NULL)) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	rc = resp_bytes(resp, 204, NULL, "", 0);
out:
	db_user_free(u);
	return rc;
}

/* Shared body of the two admin resets: runs op in a transaction with its audit row. */
static int
admin_reset(struct req *req, struct resp *resp, int totp)
{
	struct db_user *u = NULL, *after = NULL;
	int rc;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = load_visible(req, &u)) != 0)
		return rc;
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	rc = totp ? db_users_set_totp(req->db, u->id, NULL, 0, 0) : db_users_reset_login_attempts(req->db, u->id);
	if (rc == 0)
		rc = audit_write(req->db, api_actor(req), req->peer_ip,
		    totp ? "user.totp.reset" : "user.login_attempts.reset", u->username, NULL);
	if (rc != 0 || (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	if ((rc = db_users_get(req->db, u->id, &after)) != 0)
		goto out;
	rc = resp_json(resp, 200, api_user_json(after));
out:
	db_user_free(after);
	db_user_free(u);
	return rc;
}

int
api_users_reset_login_attempts(struct req *req, struct resp *resp)
{
	return admin_reset(req, resp, 0);
}

int
api_users_reset_totp(struct req *req, struct resp *resp)
{
	return admin_reset(req, resp, 1);
}
