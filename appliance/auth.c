/*
 * auth.c: logins, lockout, sessions, API tokens and permission checks (see auth.h).
 *
 * May call: db_users/db_sessions/db_tokens/db_teams/db_login_attempts, audit.h, passwd.h,
 * totp.h, OpenSSL (RNG, SHA-256, constant-time compare), log.h. Must never: log or store a
 * password, token, CSRF token or TOTP code; hold the database write lock while scrypt runs (a
 * slow hash inside BEGIN IMMEDIATE would serialise every writer behind each login).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "audit.h"
#include "auth.h"
#include "config.h"
#include "db.h"
#include "db_login_attempts.h"
#include "db_sessions.h"
#include "db_teams.h"
#include "db_tokens.h"
#include "db_users.h"
#include "err.h"
#include "log.h"
#include "passwd.h"
#include "totp.h"
#include "totp_store.h"

/* last_seen_at / last_used_at are refreshed at most this often: a write (and, with
 * synchronous=FULL, an fsync) on every API call would cap the request rate at the disk's. */
#define AUTH_TOUCH_INTERVAL_MS (60 * 1000)

static const char *const role_names[AUTH_ROLE__MAX] = { "admin", "operator", "auditor" };

const char *
auth_role_name(enum auth_role role)
{
	return (int)role >= 0 && role < AUTH_ROLE__MAX ? role_names[role] : "unknown";
}

int
auth_role_parse(const char *name, enum auth_role *out)
{
	int i;

	for (i = 0; i < AUTH_ROLE__MAX; i++)
		if (name != NULL && strcmp(name, role_names[i]) == 0) {
			*out = (enum auth_role)i;
			return 0;
		}
	return err_set(HSMCA_E_INVALID, "role must be admin, operator or auditor");
}

void
auth_token_hash(const char *token, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	SHA256((const unsigned char *)token, strlen(token), md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	OPENSSL_cleanse(md, sizeof(md));
}

int
auth_token_new(const char *prefix, char **out)
{
	unsigned char rnd[32], b64[48];
	size_t plen = strlen(prefix), i, n;
	char *t;

	*out = NULL;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
		err_drain_openssl();
		return err_set(HSMCA_E_INTERNAL, "RAND_bytes failed");
	}
	EVP_EncodeBlock(b64, rnd, sizeof(rnd));   /* 44 chars with one '=' */
	OPENSSL_cleanse(rnd, sizeof(rnd));
	t = malloc(plen + 44 + 1);
	if (t == NULL) {
		OPENSSL_cleanse(b64, sizeof(b64));
		return HSMCA_E_NOMEM;
	}
	memcpy(t, prefix, plen);
	/* base64url without padding (RFC 4648 §5): safe in headers, cookies and URLs. */
	for (i = 0, n = plen; i < 44 && b64[i] != '='; i++)
		t[n++] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
	t[n] = '\0';
	OPENSSL_cleanse(b64, sizeof(b64));
	*out = t;
	return 0;
}

void
auth_login_result_clear(struct auth_login_result *r)
{
	if (r == NULL)
		return;
	passwd_free(r->token);
	passwd_free(r->csrf_token);
	memset(r, 0, sizeof(*r));
}

void
auth_actor_label(const struct auth_actor *actor, char *out, size_t cap)
{
	if (actor->token_id != 0)
		snprintf(out, cap, "token:%lld:%s", (long long)actor->token_id, actor->username);
	else
		snprintf(out, cap, "user:%s", actor->username);
}

/* A JSON object string from key/value pairs (NULL-terminated), for audit details. */
static char *
details(const char *k1, const char *v1, const char *k2, const char *v2)
{
	json_t *o = json_object();
	char *s;

	if (o == NULL)
		return NULL;
	if (k1 != NULL && v1 != NULL)
		json_object_set_new(o, k1, json_string(v1));
	if (k2 != NULL && v2 != NULL)
		json_object_set_new(o, k2, json_string(v2));
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

/* Records a login attempt and its audit row in one transaction (with an optional lockout
 * increment), so the trail and the counter can never disagree. */
static int
record_attempt(struct db *db, const char *username, const struct db_user *u, const char *ip,
    int success, const char *reason, int count_failure, int max_failures, int *locked_now)
{
	char actor[96], *det = NULL;
	int rc;

	if (locked_now != NULL)
		*locked_now = 0;
	snprintf(actor, sizeof(actor), "user:%.64s", username);
	det = details("reason", reason, "username", username);
	if ((rc = db_begin(db)) != 0)
		goto out;
	if (u != NULL && count_failure &&
	    (rc = db_users_login_failed(db, u->id, max_failures, locked_now)) != 0)
		goto fail;
	if ((rc = db_login_attempts_add(db, username, ip, success, reason)) != 0)
		goto fail;
	if ((rc = audit_write(db, actor, ip, success ? "user.login.succeeded" : "user.login.failed",
	    u != NULL ? actor : NULL, det != NULL ? det : "{}")) != 0)
		goto fail;
	if (locked_now != NULL && *locked_now && (u == NULL || !u->locked) &&
	    (rc = audit_write(db, "system", ip, "user.locked", actor, "{\"reason\":\"too_many_failures\"}")) != 0)
		goto fail;
	rc = db_commit(db);
	if (rc == 0)
		goto out;
fail:
	db_rollback(db);
out:
	free(det);
	return rc;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char *dummy_hash;

static void
dummy_make(void)
{
	/* A hash to verify against when the username is unknown, so the answer takes as long as
	 * for a known user and timing does not reveal which usernames exist. */
	if (passwd_hash("no such user: dummy password", &dummy_hash) != 0)
		dummy_hash = NULL;
}

static void
fill_actor(const struct db_user *u, struct auth_actor *a)
{
	enum auth_role role = AUTH_ROLE_AUDITOR;

	memset(a, 0, sizeof(*a));
	a->user_id = u->id;
	snprintf(a->username, sizeof(a->username), "%s", u->username);
	/* An unknown role in the database (edited by hand) gets the least privilege. */
	if (auth_role_parse(u->role, &role) != 0)
		role = AUTH_ROLE_AUDITOR;
	err_clear();
	a->role = role;
}

int
auth_login(struct db *db, struct tok *tok, const struct config *cfg, const char *username, const char *password,
    const char *totp, const char *ip, const char *user_agent, struct auth_login_result *out,
    const char **reason_code)
{
	struct db_user *u = NULL;
	char th[65], ch[65], *token = NULL, *csrf = NULL;
	int rc = HSMCA_E_INTERNAL, vr, locked = 0;
	int64_t now, sid = 0, step = 0;
	const char *code = "invalid_credentials";

	memset(out, 0, sizeof(*out));
	rc = db_users_get_by_name(db, username, &u);
	if (rc == HSMCA_E_NOTFOUND) {
		pthread_once(&dummy_once, dummy_make);
		if (dummy_hash != NULL)
			(void)passwd_verify(password, dummy_hash);
		record_attempt(db, username, NULL, ip, 0, "unknown_user", 0, 0, NULL);
		rc = err_set(HSMCA_E_AUTH, "invalid username or password");
		goto out;
	}
	if (rc != 0)
		goto out;
	if (u->locked) {
		record_attempt(db, username, u, ip, 0, "locked", 0, 0, NULL);
		code = "account_locked";
		rc = err_set(HSMCA_E_PERM, "this account is locked after too many failed logins; an "
		    "administrator must reset its login attempts");
		goto out;
	}
	vr = u->password_hash != NULL ? passwd_verify(password, u->password_hash) : HSMCA_E_AUTH;
	if (vr != 0) {
		if (vr != HSMCA_E_AUTH)
			log_msg(LOGL_ERROR, "auth", "password.verify_failed", "user %s: %s", u->username, err_msg(vr));
		record_attempt(db, username, u, ip, 0, "bad_password", 1, cfg->login_max_failures, &locked);
		rc = err_set(HSMCA_E_AUTH, "invalid username or password");
		goto out;
	}
	if (!u->enabled) {
		record_attempt(db, username, u, ip, 0, "disabled", 0, 0, NULL);
		code = "account_disabled";
		rc = err_set(HSMCA_E_PERM, "this account is disabled");
		goto out;
	}
	if (u->totp_enabled && u->totp_secret != NULL) {
		if (totp == NULL || totp[0] == '\0') {
			/* Not a failure of the user's: the console asks for the code after this answer. */
			record_attempt(db, username, u, ip, 0, "totp_required", 0, 0, NULL);
			code = "totp_required";
			rc = err_set(HSMCA_E_AUTH, "a two-factor code is required for this account");
			goto out;
		}
		if (totp_store_verify(tok, u->id, u->totp_secret, u->totp_secret_len, (int64_t)time(NULL), totp,
		    &step) != 0 || db_users_totp_step_use(db, u->id, step) != 0) {
			record_attempt(db, username, u, ip, 0, "bad_totp", 1, cfg->login_max_failures, &locked);
			code = "invalid_totp";
			rc = err_set(HSMCA_E_AUTH, "the two-factor code is wrong or expired");
			goto out;
		}
	}
	if ((rc = auth_token_new(AUTH_TOKEN_PREFIX_SESSION, &token)) != 0 ||
	    (rc = auth_token_new("", &csrf)) != 0)
		goto out;
	auth_token_hash(token, th);
	auth_token_hash(csrf, ch);
	now = db_now_ms();
	if ((rc = db_begin(db)) != 0)
		goto out;
	if ((rc = db_users_login_succeeded(db, u->id, ip, now)) != 0 ||
	    (rc = db_sessions_create(db, th, ch, u->id, now + (int64_t)cfg->session_ttl_minutes * 60000,
	    ip, user_agent, u->totp_enabled, &sid)) != 0 ||
	    (rc = db_login_attempts_add(db, username, ip, 1, "ok")) != 0) {
		db_rollback(db);
		goto out;
	}
	{
		char actor[96], sidbuf[32], *det;

		snprintf(actor, sizeof(actor), "user:%s", u->username);
		snprintf(sidbuf, sizeof(sidbuf), "%lld", (long long)sid);
		det = details("session_id", sidbuf, NULL, NULL);
		rc = audit_write(db, actor, ip, "user.login.succeeded", actor, det != NULL ? det : "{}");
		free(det);
	}
	if (rc != 0 || (rc = db_commit(db)) != 0) {
		db_rollback(db);
		goto out;
	}
	fill_actor(u, &out->actor);
	out->actor.session_id = sid;
	out->actor.must_change_password = u->must_change_password;
	out->actor.totp_enrollment_required = cfg->totp_required && !u->totp_enabled;
	out->token = token;
	out->csrf_token = csrf;
	out->expires_at = now + (int64_t)cfg->session_ttl_minutes * 60000;
	token = csrf = NULL;
	code = NULL;
	rc = 0;
out:
	if (reason_code != NULL)
		*reason_code = code;
	passwd_free(token);
	passwd_free(csrf);
	db_user_free(u);
	return rc;
}

int
auth_logout(struct db *db, const struct auth_actor *actor, const char *ip)
{
	char label[96];
	int rc;

	auth_actor_label(actor, label, sizeof(label));
	if ((rc = db_begin(db)) != 0)
		return rc;
	if (actor->session_id != 0 && (rc = db_sessions_delete(db, actor->session_id)) != 0)
		goto fail;
	if ((rc = audit_write(db, label, ip, "user.logout.succeeded", label, NULL)) != 0)
		goto fail;
	return db_commit(db);
fail:
	db_rollback(db);
	return rc;
}

/* Loads the user behind a session or token and refuses a disabled one. */
static int
actor_user(struct db *db, int64_t user_id, struct auth_actor *out, struct db_user **user_out)
{
	struct db_user *u = NULL;
	int rc;

	rc = db_users_get(db, user_id, &u);
	if (rc == HSMCA_E_NOTFOUND)
		return err_set(HSMCA_E_AUTH, "invalid or expired token");
	if (rc != 0)
		return rc;
	if (!u->enabled) {
		db_user_free(u);
		return err_set(HSMCA_E_PERM, "this account is disabled");
	}
	fill_actor(u, out);
	*user_out = u;
	return 0;
}

static int
session_actor(struct db *db, const struct config *cfg, const char *token, struct auth_actor *out,
    struct db_session *s)
{
	struct db_user *u = NULL;
	char th[65];
	int64_t now = db_now_ms();
	int rc;

	auth_token_hash(token, th);
	rc = db_sessions_find(db, th, s);
	if (rc == HSMCA_E_NOTFOUND || (rc == 0 && s->expires_at <= now))
		return err_set(HSMCA_E_AUTH, "invalid or expired session; log in again");
	if (rc != 0)
		return rc;
	if ((rc = actor_user(db, s->user_id, out, &u)) != 0)
		return rc;
	out->session_id = s->id;
	out->must_change_password = u->must_change_password;
	out->totp_enrollment_required = cfg->totp_required && !u->totp_enabled;
	db_user_free(u);
	if (now - s->last_seen_at > AUTH_TOUCH_INTERVAL_MS)
		(void)db_sessions_touch(db, s->id, now);
	return 0;
}

int
auth_bearer(struct db *db, const struct config *cfg, const char *token, struct auth_actor *out)
{
	struct db_session s;
	struct db_token t;
	struct db_user *u = NULL;
	char th[65];
	int64_t now = db_now_ms();
	int rc;

	memset(out, 0, sizeof(*out));
	if (token == NULL || strlen(token) != AUTH_TOKEN_LEN)
		return err_set(HSMCA_E_AUTH, "invalid or expired token");
	if (strncmp(token, AUTH_TOKEN_PREFIX_SESSION, strlen(AUTH_TOKEN_PREFIX_SESSION)) == 0)
		return session_actor(db, cfg, token, out, &s);
	if (strncmp(token, AUTH_TOKEN_PREFIX_API, strlen(AUTH_TOKEN_PREFIX_API)) != 0)
		return err_set(HSMCA_E_AUTH, "invalid or expired token");
	auth_token_hash(token, th);
	rc = db_tokens_find(db, th, &t);
	if (rc == HSMCA_E_NOTFOUND || (rc == 0 && t.revoked_at != 0))
		return err_set(HSMCA_E_AUTH, "invalid or expired token");
	if (rc != 0)
		return rc;
	if (t.expires_at != 0 && t.expires_at <= now)
		return err_set(HSMCA_E_AUTH, "this API token has expired");
	if ((rc = actor_user(db, t.user_id, out, &u)) != 0)
		return rc;
	db_user_free(u);
	/* A token acts for automation with exactly its user's role; the console-only steps
	 * (password change, TOTP enrolment) do not apply to it. */
	out->token_id = t.id;
	if (now - t.last_used_at > AUTH_TOUCH_INTERVAL_MS)
		(void)db_tokens_touch(db, t.id, now);
	return 0;
}

int
auth_cookie(struct db *db, const struct config *cfg, const char *token, const char *method,
    const char *csrf, struct auth_actor *out)
{
	struct db_session s;
	char ch[65];
	int rc;

	memset(out, 0, sizeof(*out));
	if (token == NULL || strlen(token) != AUTH_TOKEN_LEN ||
	    strncmp(token, AUTH_TOKEN_PREFIX_SESSION, strlen(AUTH_TOKEN_PREFIX_SESSION)) != 0)
		return err_set(HSMCA_E_AUTH, "invalid or expired session; log in again");
	if ((rc = session_actor(db, cfg, token, out, &s)) != 0)
		return rc;
	out->via_cookie = 1;
	/* Cookies ride along on cross-site requests; a header a foreign page cannot set proves the
	 * request came from our console (double submit, compared in constant time). */
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		if (csrf == NULL || strlen(csrf) > 128 || s.csrf_hash[0] == '\0')
			return err_set(HSMCA_E_PERM, "missing %s header", AUTH_CSRF_HEADER);
		auth_token_hash(csrf, ch);
		if (CRYPTO_memcmp(ch, s.csrf_hash, 64) != 0)
			return err_set(HSMCA_E_PERM, "wrong %s header", AUTH_CSRF_HEADER);
	}
	return 0;
}

int
auth_token_create(struct db *db, const char *actor_label, const char *ip, int64_t user_id,
    const char *name, int validity_days, char **token, int64_t *token_id)
{
	struct db_user *u = NULL;
	char th[65], prefix[24], object[48], *t = NULL, *det = NULL;
	json_t *o = NULL;
	int rc;

	*token = NULL;
	*token_id = 0;
	if (validity_days < 1 || validity_days > 3650)
		return err_set(HSMCA_E_INVALID, "validity_days must be between 1 and 3650");
	if ((rc = auth_token_new(AUTH_TOKEN_PREFIX_API, &t)) != 0)
		return rc;
	auth_token_hash(t, th);
	/* Prefix plus 6 characters: 36 bits, enough to tell tokens apart in a list, useless to a thief. */
	snprintf(prefix, sizeof(prefix), "%.15s", t);
	if ((rc = db_begin(db)) != 0)
		goto out;
	if ((rc = db_users_get(db, user_id, &u)) != 0)
		goto fail;
	if ((rc = db_tokens_create(db, name, th, prefix, user_id,
	    db_now_ms() + (int64_t)validity_days * 86400000, token_id)) != 0)
		goto fail;
	o = json_pack("{s:I,s:s,s:i,s:s}", "token_id", (json_int_t)*token_id, "name", name,
	    "validity_days", validity_days, "prefix", prefix);
	det = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	snprintf(object, sizeof(object), "user:%lld", (long long)user_id);
	if ((rc = audit_write(db, actor_label, ip, "api_token.created", object, det)) != 0)
		goto fail;
	if ((rc = db_commit(db)) != 0)
		goto fail;
	*token = t;
	t = NULL;
	goto out;
fail:
	db_rollback(db);
	*token_id = 0;
out:
	json_decref(o);
	free(det);
	db_user_free(u);
	passwd_free(t);
	return rc;
}

int
auth_change_password(struct db *db, const struct auth_actor *actor, const char *ip,
    const char *current, const char *new_password)
{
	struct db_user *u = NULL;
	char label[96], *hash = NULL;
	int rc;

	if ((rc = db_users_get(db, actor->user_id, &u)) != 0)
		goto out;
	if (u->password_hash == NULL || passwd_verify(current, u->password_hash) != 0) {
		/* Bad input from a caller whose session is valid: a 401 here would tell the console
		 * that the session ended and log the user out. */
		rc = err_set(HSMCA_E_INVALID, "the current password is wrong");
		goto out;
	}
	if ((rc = passwd_check_policy(new_password)) != 0)
		goto out;
	if (strcmp(current, new_password) == 0) {
		rc = err_set(HSMCA_E_POLICY, "the new password must differ from the current one");
		goto out;
	}
	if ((rc = passwd_hash(new_password, &hash)) != 0)
		goto out;
	auth_actor_label(actor, label, sizeof(label));
	if ((rc = db_begin(db)) != 0)
		goto out;
	/* Other sessions may belong to whoever knew the old password: end them. */
	if ((rc = db_users_set_password(db, u->id, hash, 0)) != 0 ||
	    (rc = db_sessions_delete_user(db, u->id, actor->session_id)) != 0 ||
	    (rc = audit_write(db, label, ip, "user.password.changed", label, NULL)) != 0 ||
	    (rc = db_commit(db)) != 0)
		db_rollback(db);
out:
	free(hash);
	db_user_free(u);
	return rc;
}

int
auth_check_username(const char *username)
{
	size_t i, n = username != NULL ? strlen(username) : 0;
	char c;

	if (n == 0 || n > DB_USERS_NAME_MAX)
		return err_set(HSMCA_E_INVALID, "username must be 1 to %d characters", DB_USERS_NAME_MAX);
	for (i = 0; i < n; i++) {
		c = username[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    (i > 0 && (c == '.' || c == '_' || c == '-' || c == '@'))))
			return err_set(HSMCA_E_INVALID, "username may hold only letters, digits and . _ - @, "
			    "and must start with a letter or digit");
	}
	return 0;
}

int
auth_check_email(const char *email)
{
	size_t i, n = email != NULL ? strlen(email) : 0;
	const char *at;

	if (n < 3 || n > DB_USERS_EMAIL_MAX)
		return err_set(HSMCA_E_INVALID, "email must be 3 to %d characters", DB_USERS_EMAIL_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)email[i] <= 0x20 || email[i] == 0x7f)
			return err_set(HSMCA_E_INVALID, "email must not contain spaces or control characters");
	at = strchr(email, '@');
	if (at == NULL || at == email || at[1] == '\0' || strchr(at + 1, '@') != NULL)
		return err_set(HSMCA_E_INVALID, "email must look like name@domain");
	return 0;
}

int
auth_check(const struct auth_actor *actor, enum auth_action action)
{
	if (actor == NULL)
		return err_set(HSMCA_E_AUTH, "authentication required");
	if (actor->role == AUTH_ROLE_ADMIN)
		return 0;
	if (actor->role == AUTH_ROLE_AUDITOR && action == AUTH_READ)
		return 0;
	return err_set(HSMCA_E_PERM, "the %s role may not do this", auth_role_name(actor->role));
}

int
auth_reads_all(const struct auth_actor *actor)
{
	return actor != NULL && (actor->role == AUTH_ROLE_ADMIN || actor->role == AUTH_ROLE_AUDITOR);
}

int
auth_check_ca(struct db *db, const struct auth_actor *actor, int64_t ca_id, enum auth_action action)
{
	int yes = 0, rc;

	if (actor == NULL)
		return err_set(HSMCA_E_AUTH, "authentication required");
	if (actor->role == AUTH_ROLE_ADMIN)
		return 0;
	if (actor->role == AUTH_ROLE_AUDITOR)
		return action == AUTH_READ ? 0 :
		    err_set(HSMCA_E_PERM, "the auditor role can read but not change anything");
	if (action == AUTH_MANAGE || (int)action < 0 || action >= AUTH_ACTION__MAX)
		return err_set(HSMCA_E_PERM, "only an administrator may manage CAs");
	if ((rc = db_teams_user_has_ca(db, actor->user_id, ca_id, &yes)) != 0)
		return rc;
	return yes ? 0 : err_set(HSMCA_E_PERM, "none of your teams is granted this CA");
}
