/*
 * auth.h: who is calling and what they may do. Logins, lockout, sessions, API tokens, TOTP,
 * permission checks by role and team.
 *
 * Secrets: session and API tokens are 32 random bytes (256 bits), shown once and stored only as
 * SHA-256. A plain hash is right for them, unlike passwords: scrypt's cost exists to slow the
 * guessing of low-entropy human secrets; nobody can enumerate 2^256 candidates, so the cost would
 * only slow every API request, and a fast unsalted hash also lets the row be found by an indexed
 * lookup on the hash (a salted hash would need a scan). Tokens carry a type prefix ("hsmca_st_"
 * session, "hsmca_at_" API token) so a leaked one is recognisable by secret scanners.
 *
 * Roles: admin does everything; auditor reads everything and changes nothing; operator reads and
 * acts only on CAs granted to one of their teams (a user in no team can log in but can issue
 * nothing). Thread safety: functions take the caller's struct db; no shared state.
 */
#ifndef HSMCA_AUTH_H
#define HSMCA_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct config;
struct db;
struct tok;

enum auth_role {
	AUTH_ROLE_ADMIN,
	AUTH_ROLE_OPERATOR,
	AUTH_ROLE_AUDITOR,
	AUTH_ROLE__MAX
};

#define AUTH_TOKEN_PREFIX_SESSION "hsmca_st_"
#define AUTH_TOKEN_PREFIX_API "hsmca_at_"
/* Prefix (9) + base64url of 32 bytes (43). */
#define AUTH_TOKEN_LEN 52
#define AUTH_SESSION_COOKIE "hsmca_session"
#define AUTH_CSRF_HEADER "X-CSRF-Token"

struct auth_actor {
	int64_t user_id;
	char username[65];
	enum auth_role role;
	int64_t session_id;               /* non-zero when authenticated by a session */
	int64_t token_id;                 /* non-zero when authenticated by an API token */
	int must_change_password;         /* only auth/me and auth/password are allowed */
	int totp_enrollment_required;     /* totp_required and not enrolled: only enrolment allowed */
	int via_cookie;                   /* session cookie (the console): writes need the CSRF header */
};

const char *auth_role_name(enum auth_role role);
int auth_role_parse(const char *name, enum auth_role *out);

/* SHA-256 of a token string as 64 lowercase hex characters plus NUL (out: 65 bytes). */
void auth_token_hash(const char *token, char out[65]);

/* A fresh random token with the given prefix. *out: caller frees with passwd_free(). */
int auth_token_new(const char *prefix, char **out);

struct auth_login_result {
	char *token;                      /* session token, shown once; passwd_free() */
	char *csrf_token;                 /* for the console's cookie session; passwd_free() */
	int64_t expires_at;               /* ms */
	struct auth_actor actor;
};

void auth_login_result_clear(struct auth_login_result *r);

/*
 * Checks username/password (and the TOTP code when the user has TOTP), applies lockout, records
 * the attempt in login_attempts and an audit row, and opens a session. Errors, each with a
 * detail fit for the client:
 *   HSMCA_E_AUTH  wrong username or password (one message for both), wrong or missing TOTP
 *                 (*reason_code "totp_required" when the code was missing, so the console asks)
 *   HSMCA_E_PERM  account disabled ("account_disabled") or locked ("account_locked")
 * *reason_code (may be NULL) gets a static snake_case code for the error body.
 */
int auth_login(struct db *db, struct tok *tok, const struct config *cfg, const char *username, const char *password,
    const char *totp, const char *ip, const char *user_agent, struct auth_login_result *out,
    const char **reason_code);

/* Ends the session (deletes its row) and audits it. */
int auth_logout(struct db *db, const struct auth_actor *actor, const char *ip);

/* Resolves a bearer token (session or API) to an actor. HSMCA_E_AUTH for an unknown, expired or
 * revoked token; HSMCA_E_PERM when the user is disabled (its tokens stop working at once) or
 * locked. Touches last_seen/last_used. */
int auth_bearer(struct db *db, const struct config *cfg, const char *token, struct auth_actor *out);

/* Cookie session for the console: as auth_bearer, and for a state-changing method csrf must
 * match the session's CSRF token. */
int auth_cookie(struct db *db, const struct config *cfg, const char *token, const char *method,
    const char *csrf, struct auth_actor *out);

/* Creates an API token for user_id valid validity_days (1..3650). *token: shown once,
 * passwd_free(). Audited. */
int auth_token_create(struct db *db, const char *actor_label, const char *ip, int64_t user_id,
    const char *name, int validity_days, char **token, int64_t *token_id);

/* Changes the actor's own password (needs the current one); clears must_change_password and
 * ends the user's other sessions. HSMCA_E_AUTH for a wrong current password, HSMCA_E_POLICY for
 * a weak new one. */
int auth_change_password(struct db *db, const struct auth_actor *actor, const char *ip,
    const char *current, const char *new_password);

/* Usernames: 1..64 of [A-Za-z0-9._@-], starting with a letter or digit (safe in logs, audit
 * labels such as "user:<name>", URLs and shells). Emails: 3..254 bytes, one '@', no spaces or
 * control characters. HSMCA_E_INVALID with a detail otherwise. */
int auth_check_username(const char *username);
int auth_check_email(const char *email);

/* --- permissions --- */

enum auth_action {
	AUTH_READ,        /* list and show */
	AUTH_ISSUE,       /* request certificates */
	AUTH_REVOKE,
	AUTH_MANAGE,      /* create/change/delete CAs, users, teams, settings */
	AUTH_ACTION__MAX
};

/* Action on the system as a whole (users, teams, logs, audit, creating CAs): admin all; auditor
 * AUTH_READ; operator nothing. HSMCA_E_PERM with a detail otherwise. */
int auth_check(const struct auth_actor *actor, enum auth_action action);

/* Action on one CA: admin all; auditor AUTH_READ; operator AUTH_READ/ISSUE/REVOKE when one of
 * their teams is granted the CA; nothing else. HSMCA_E_PERM with a detail otherwise. */
int auth_check_ca(struct db *db, const struct auth_actor *actor, int64_t ca_id, enum auth_action action);

/* Whether the actor may read every CA (admin, auditor): list filters use team membership when
 * not. */
int auth_reads_all(const struct auth_actor *actor);

/* The label written as the audit actor and order requested_by: "user:<name>" or
 * "token:<id>:<name>". */
void auth_actor_label(const struct auth_actor *actor, char *out, size_t cap);

#endif
