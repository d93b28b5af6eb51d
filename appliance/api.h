/*
 * api.h: the REST and public handlers that http.c's routing table points at. Each api_<x>.c
 * holds one resource; a handler sees only struct req / struct resp (http.h).
 */
#ifndef HSMCA_API_H
#define HSMCA_API_H

#include "http.h"

/* api_health.c */
int api_healthz(struct req *req, struct resp *resp);
int api_metrics(struct req *req, struct resp *resp);

/* api_auth.c */
int api_auth_login(struct req *req, struct resp *resp);
int api_auth_logout(struct req *req, struct resp *resp);
int api_auth_me(struct req *req, struct resp *resp);
int api_auth_password(struct req *req, struct resp *resp);
int api_auth_totp_enroll(struct req *req, struct resp *resp);
int api_auth_totp_confirm(struct req *req, struct resp *resp);

/* api_users.c */
int api_users_list(struct req *req, struct resp *resp);
int api_users_create(struct req *req, struct resp *resp);
int api_users_get(struct req *req, struct resp *resp);
int api_users_update(struct req *req, struct resp *resp);
int api_users_delete(struct req *req, struct resp *resp);
int api_users_reset_login_attempts(struct req *req, struct resp *resp);
int api_users_reset_totp(struct req *req, struct resp *resp);
/* The JSON view of a user (never the hash or TOTP secret); NULL on allocation failure. */
struct db_user;
json_t *api_user_json(const struct db_user *u);

/* api_tokens.c */
int api_tokens_list(struct req *req, struct resp *resp);
int api_tokens_create(struct req *req, struct resp *resp);
int api_tokens_delete(struct req *req, struct resp *resp);

/* api_teams.c */
int api_teams_list(struct req *req, struct resp *resp);
int api_teams_create(struct req *req, struct resp *resp);
int api_teams_get(struct req *req, struct resp *resp);
int api_teams_update(struct req *req, struct resp *resp);
int api_teams_delete(struct req *req, struct resp *resp);
int api_teams_add_member(struct req *req, struct resp *resp);
int api_teams_remove_member(struct req *req, struct resp *resp);
int api_teams_add_ca(struct req *req, struct resp *resp);
int api_teams_remove_ca(struct req *req, struct resp *resp);

/* api_logs.c */
int api_logs_login_attempts(struct req *req, struct resp *resp);

/* Shared helpers (api_util.c) */
/* RFC 3339 UTC (seconds) from epoch ms into out (32 bytes); 0 gives "" (caller emits null). */
void api_time(int64_t ms, char out[32]);
/* json string of an RFC 3339 time, or JSON null for 0. */
json_t *api_time_json(int64_t ms);
/* {"items": items, "next": next_cursor or null}; takes items. */
int api_list_resp(struct resp *resp, json_t *items, int64_t next_after);
/* Parses the body (req->body) as a JSON object with only the allowed keys. */
int api_body(struct req *req, const char *const *allowed, json_t **out);
/* Audit actor label of the request (req->actor_label). */
const char *api_actor(const struct req *req);

#endif
