/*
 * api_auth.c: /api/v1/auth/... — login, logout, who am I, change own password, TOTP enrolment.
 * May call: auth.h, db_users.h, db_teams.h, totp.h, audit.h, json_in.h. Must never: echo a
 * password or code back, or log one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "db_teams.h"
#include "db_users.h"
#include "err.h"
#include "json_in.h"
#include "passwd.h"
#include "totp.h"
#include "totp_store.h"

#define TOTP_ISSUER "hsmca"

int
api_auth_login(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "username", "password", "totp", NULL };
	struct auth_login_result lr;
	const char *username, *password, *totp, *code = NULL, *name;
	char cookie[256];
	json_t *body = NULL, *user = NULL;
	int rc, status;

	memset(&lr, 0, sizeof(lr));
	if ((rc = api_body(req, keys, &body)) != 0)
		return rc;
	if ((rc = json_in_str(body, "username", 1, 1, DB_USERS_NAME_MAX, 0, &username)) != 0 ||
	    (rc = json_in_str(body, "password", 1, 1, PASSWD_MAX_LEN, 0, &password)) != 0 ||
	    (rc = json_in_str(body, "totp", 0, 0, 16, 0, &totp)) != 0)
		goto out;
	rc = auth_login(req->db, req->tok, req->cfg, username, password, totp, req->peer_ip,
	    req_header(req, "User-Agent"), &lr, &code);
	if (rc != 0) {
		if (code == NULL || rc == HSMCA_E_DB || rc == HSMCA_E_BUSY || rc == HSMCA_E_NOMEM ||
		    rc == HSMCA_E_INTERNAL)
			goto out;
		status = http_status_of(rc, &name);
		rc = resp_error(resp, status, code, "%s", err_msg(rc));
		goto out;
	}
	snprintf(req->actor_label, sizeof(req->actor_label), "user:%s", lr.actor.username);
	/* The console keeps the session in an HttpOnly cookie that scripts cannot read; API clients
	 * use the token from the body. */
	snprintf(cookie, sizeof(cookie), "%s=%s; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=%d",
	    AUTH_SESSION_COOKIE, lr.token, req->cfg->session_ttl_minutes * 60);
	rc = resp_header(resp, "Set-Cookie", cookie);
	OPENSSL_cleanse(cookie, sizeof(cookie));
	if (rc != 0)
		goto out;
	user = json_pack("{s:I,s:s,s:s}", "id", (json_int_t)lr.actor.user_id, "username", lr.actor.username,
	    "role", auth_role_name(lr.actor.role));
	rc = resp_json(resp, 200, json_pack("{s:s,s:s,s:o,s:b,s:b,s:o}", "token", lr.token,
	    "csrf_token", lr.csrf_token, "expires_at", api_time_json(lr.expires_at),
	    "must_change_password", lr.actor.must_change_password,
	    "totp_enrollment_required", lr.actor.totp_enrollment_required, "user", user));
out:
	auth_login_result_clear(&lr);
	json_decref(body);
	return rc;
}

int
api_auth_logout(struct req *req, struct resp *resp)
{
	char cookie[128];
	int rc;

	if ((rc = auth_logout(req->db, &req->actor, req->peer_ip)) != 0)
		return rc;
	snprintf(cookie, sizeof(cookie), "%s=; Path=/; HttpOnly; Secure; SameSite=Strict; Max-Age=0",
	    AUTH_SESSION_COOKIE);
	if ((rc = resp_header(resp, "Set-Cookie", cookie)) != 0)
		return rc;
	return resp_bytes(resp, 204, NULL, "", 0);
}

int
api_auth_me(struct req *req, struct resp *resp)
{
	struct db_user *u = NULL;
	struct db_team_ref *teams = NULL;
	size_t n = 0, i;
	json_t *o, *arr;
	int rc;

	if ((rc = db_users_get(req->db, req->actor.user_id, &u)) != 0)
		return rc;
	if ((rc = db_teams_of_user(req->db, u->id, &teams, &n)) != 0)
		goto out;
	o = api_user_json(u);
	arr = json_array();
	for (i = 0; i < n && arr != NULL; i++)
		json_array_append_new(arr, json_pack("{s:I,s:s}", "id", (json_int_t)teams[i].id, "name",
		    teams[i].name));
	if (o != NULL && arr != NULL) {
		json_object_set_new(o, "teams", arr);
		arr = NULL;
		json_object_set_new(o, "auth", json_string(req->actor.token_id != 0 ? "api_token" : "session"));
		json_object_set_new(o, "totp_enrollment_required",
		    json_boolean(req->actor.totp_enrollment_required));
	}
	json_decref(arr);
	rc = resp_json(resp, 200, o);
out:
	free(teams);
	db_user_free(u);
	return rc;
}

int
api_auth_password(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "current_password", "new_password", NULL };
	const char *cur, *neu;
	json_t *body = NULL;
	int rc;

	if ((rc = api_body(req, keys, &body)) != 0)
		return rc;
	if ((rc = json_in_str(body, "current_password", 1, 1, PASSWD_MAX_LEN, 0, &cur)) != 0 ||
	    (rc = json_in_str(body, "new_password", 1, 1, PASSWD_MAX_LEN, 1, &neu)) != 0 ||
	    (rc = auth_change_password(req->db, &req->actor, req->peer_ip, cur, neu)) != 0)
		goto out;
	rc = resp_bytes(resp, 204, NULL, "", 0);
out:
	json_decref(body);
	return rc;
}

int
api_auth_totp_enroll(struct req *req, struct resp *resp)
{
	unsigned char secret[TOTP_SECRET_LEN];
	struct db_user *u = NULL;
	struct buf sealed = { 0 };
	char *b32 = NULL, *uri = NULL;
	int rc;

	if ((rc = db_users_get(req->db, req->actor.user_id, &u)) != 0)
		return rc;
	if (u->totp_enabled) {
		rc = err_set(HSMCA_E_CONFLICT, "two-factor authentication is already enabled for this "
		    "account; an administrator can reset it");
		goto out;
	}
	if (RAND_bytes(secret, sizeof(secret)) != 1) {
		err_drain_openssl();
		rc = err_set(HSMCA_E_INTERNAL, "RAND_bytes failed");
		goto out;
	}
	if ((rc = totp_base32_encode(secret, sizeof(secret), &b32)) != 0 ||
	    (rc = totp_uri(TOTP_ISSUER, u->username, secret, sizeof(secret), &uri)) != 0)
		goto out;
	/* The secret waits with totp_enabled = 0 until a code made from it is confirmed, so a user
	 * who never finishes enrolment is not locked out. */
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = totp_store_seal(req->tok, u->id, secret, sizeof(secret), &sealed)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	if ((rc = db_users_set_totp(req->db, u->id, sealed.data, sealed.len, 0)) != 0 ||
	    (rc = audit_write(req->db, api_actor(req), req->peer_ip, "user.totp.enrollment_started",
	    api_actor(req), NULL)) != 0 || (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	rc = resp_json(resp, 200, json_pack("{s:s,s:s,s:s,s:i,s:i}", "secret", b32, "otpauth_uri", uri,
	    "algorithm", "SHA1", "digits", TOTP_DIGITS, "period", TOTP_STEP_S));
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	buf_free(&sealed);
	if (b32 != NULL)
		OPENSSL_clear_free(b32, strlen(b32));
	if (uri != NULL)
		OPENSSL_clear_free(uri, strlen(uri));
	db_user_free(u);
	return rc;
}

int
api_auth_totp_confirm(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "code", NULL };
	struct db_user *u = NULL;
	const char *code;
	json_t *body = NULL;
	int64_t step = 0;
	int rc;

	if ((rc = api_body(req, keys, &body)) != 0)
		return rc;
	if ((rc = json_in_str(body, "code", 1, 1, 16, 0, &code)) != 0 ||
	    (rc = db_users_get(req->db, req->actor.user_id, &u)) != 0)
		goto out;
	if (u->totp_enabled || u->totp_secret == NULL) {
		rc = err_set(HSMCA_E_CONFLICT, u->totp_enabled ? "two-factor authentication is already enabled" :
		    "no enrolment in progress; POST /api/v1/auth/totp/enroll first");
		goto out;
	}
	if ((rc = totp_store_verify(req->tok, u->id, u->totp_secret, u->totp_secret_len, (int64_t)time(NULL), code,
	    &step)) != 0 || (rc = db_users_totp_step_use(req->db, u->id, step)) != 0) {
		if (rc == HSMCA_E_AUTH)
			rc = err_set(HSMCA_E_INVALID, "the two-factor code is wrong or expired");
		goto out;
	}
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = db_users_set_totp(req->db, u->id, u->totp_secret, u->totp_secret_len, 1)) != 0 ||
	    (rc = audit_write(req->db, api_actor(req), req->peer_ip, "user.totp.enrolled", api_actor(req),
	    NULL)) != 0 || (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	rc = resp_json(resp, 200, json_pack("{s:b}", "totp_enabled", 1));
out:
	db_user_free(u);
	json_decref(body);
	return rc;
}
