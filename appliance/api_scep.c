/*
 * api_scep.c: the SCEP route table and the REST resources that manage SCEP (see api_scep.h).
 * May call: scep.h, scep_auth.h, ra.h, db_scep.h, db_cas.h, auth.h, audit.h, json_in.h,
 * api_resources.h. Must never: return or log a secret other than once, at creation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "api.h"
#include "api_resources.h"
#include "api_scep.h"
#include "audit.h"
#include "auth.h"
#include "ctx.h"
#include "db.h"
#include "db_cas.h"
#include "db_scep.h"
#include "err.h"
#include "json_in.h"
#include "ra.h"
#include "scep.h"
#include "scep_auth.h"
#include "x509_build.h"

#define J HTTP_LISTEN_TLS
#define P HTTP_LISTEN_PLAIN
#define AN HTTP_AUTH_NONE
#define AU HTTP_AUTH_USER

const struct http_route scep_routes[] = {
	{ "GET", "/scep/{slug}", scep_http, P, AN, SCEP_ROUTE_MAX_BODY },
	{ "POST", "/scep/{slug}", scep_http, P, AN, SCEP_ROUTE_MAX_BODY },
	{ "GET", "/scep/{slug}/pkiclient.exe", scep_http, P, AN, SCEP_ROUTE_MAX_BODY },
	{ "POST", "/scep/{slug}/pkiclient.exe", scep_http, P, AN, SCEP_ROUTE_MAX_BODY },

	{ "GET", "/api/v1/scep-auth", api_scep_auth_list, J, AU, 0 },
	{ "POST", "/api/v1/scep-auth", api_scep_auth_create, J, AU, 0 },
	{ "GET", "/api/v1/scep-auth/{id}", api_scep_auth_get, J, AU, 0 },
	{ "PATCH", "/api/v1/scep-auth/{id}", api_scep_auth_update, J, AU, 0 },
	{ "DELETE", "/api/v1/scep-auth/{id}", api_scep_auth_delete, J, AU, 0 },
	{ "GET", "/api/v1/cas/{id}/scep", api_scep_settings_get, J, AU, 0 },
	{ "PATCH", "/api/v1/cas/{id}/scep", api_scep_settings_update, J, AU, 0 },
	{ "GET", "/api/v1/cas/{id}/scep-logs", api_scep_logs_ca, J, AU, 0 },
	{ "GET", "/api/v1/logs/scep", api_scep_logs_list, J, AU, 0 },
	{ "GET", "/api/v1/logs/scep/{id}", api_scep_logs_get, J, AU, 0 },
	{ "GET", "/api/v1/scep-requests", api_scep_requests_list, J, AU, 0 },
	{ "POST", "/api/v1/scep-requests/{id}/approve", api_scep_requests_approve, J, AU, 0 },
	{ "POST", "/api/v1/scep-requests/{id}/reject", api_scep_requests_reject, J, AU, 0 },
};

const size_t scep_routes_n = sizeof(scep_routes) / sizeof(scep_routes[0]);

#undef J
#undef P
#undef AN
#undef AU

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

/* ---------------------------------------------------------------- scep-auth */

static json_t *
auth_json(const struct db_scep_auth *a, int64_t now_ms)
{
	const char *state = !a->enabled ? "disabled" :
	    (a->expires_at_ms > 0 && a->expires_at_ms <= now_ms) ? "expired" :
	    (!a->reusable && a->use_count > 0) ? "used" : "active";

	return json_pack("{s:I,s:s,s:I,s:s,s:b,s:b,s:b,s:o,s:o,s:I,s:s,s:o,s:o}", "id", (json_int_t)a->id,
	    "name", a->name, "ca_id", (json_int_t)a->ca_id, "ca", a->ca_slug, "enabled", a->enabled,
	    "one_time", !a->reusable, "reusable", a->reusable, "expires_at", api_time_json(a->expires_at_ms),
	    "used_at", api_time_json(a->used_at_ms), "use_count", (json_int_t)a->use_count, "state", state,
	    "created_by", api_str_or_null(a->created_by), "created_at", api_time_json(a->created_at_ms));
}

/* Loads the entry named by {id} and checks action on its CA. */
static int
load_auth(struct req *req, enum auth_action action, struct db_scep_auth **out)
{
	int64_t id;
	int rc;

	*out = NULL;
	if ((rc = req_param_id(req, "id", &id)) != 0)
		return err_set(HSMCA_E_NOTFOUND, "No SCEP authentication entry has that id");
	if ((rc = db_scep_auth_get(req->db, id, out)) != 0)
		return rc;
	if ((rc = auth_check_ca(req->db, &req->actor, (*out)->ca_id, action)) != 0) {
		db_scep_auth_free(*out);
		*out = NULL;
	}
	return rc;
}

int
api_scep_auth_create(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "name", "ca", "one_time", "expires_at", NULL };
	const char *name, *slug, *exp;
	struct db_ca *ca = NULL;
	struct db_scep_auth *a = NULL;
	char *secret = NULL;
	json_t *body = NULL, *o;
	int64_t expires = 0, id = 0;
	int one_time, rc;

	if ((rc = api_body(req, keys, &body)) != 0)
		return rc;
	if ((rc = json_in_str(body, "name", 1, 1, SCEP_AUTH_NAME_MAX, 0, &name)) != 0 ||
	    (rc = json_in_str(body, "ca", 1, 1, 128, 0, &slug)) != 0 ||
	    (rc = json_in_bool(body, "one_time", 0, 1, &one_time)) != 0 ||
	    (rc = json_in_str(body, "expires_at", 0, 1, 40, 0, &exp)) != 0)
		goto out;
	if ((rc = scep_auth_check_name(name)) != 0)
		goto out;
	if (exp != NULL) {
		if ((rc = api_query_time("expires_at", exp, &expires)) != 0)
			goto out;
		if (expires <= db_now_ms()) {
			rc = err_set(HSMCA_E_INVALID, "The expiry time 'expires_at' is in the past");
			goto out;
		}
	}
	if ((rc = db_cas_get_by_slug(req->db, slug, &ca)) != 0) {
		if (rc == HSMCA_E_NOTFOUND)
			rc = err_set(HSMCA_E_INVALID, "No CA has the URL name '%s'", slug);
		goto out;
	}
	if ((rc = auth_check_ca(req->db, &req->actor, ca->id, AUTH_ISSUE)) != 0)
		goto out;
	if ((rc = scep_auth_create(req->db, name, ca->id, !one_time, expires, api_actor(req), req->peer_ip, &secret,
	    &id)) != 0)
		goto out;
	if ((rc = db_scep_auth_get(req->db, id, &a)) != 0)
		goto out;
	/* The secret is in this answer and nowhere else, ever. */
	o = auth_json(a, db_now_ms());
	if (o == NULL || json_object_set_new(o, "secret", json_string(secret)) != 0) {
		json_decref(o);
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	rc = resp_json(resp, 201, o);
out:
	scep_auth_secret_free(secret);
	db_scep_auth_free(a);
	db_ca_free(ca);
	json_decref(body);
	return rc;
}

int
api_scep_auth_list(struct req *req, struct resp *resp)
{
	struct db_scep_auth **v = NULL;
	struct db_ca *ca = NULL;
	const char *slug = req_query(req, "ca");
	int64_t after, ca_id = 0, now = db_now_ms();
	size_t n = 0, i;
	int limit, rc;
	json_t *items;

	if ((rc = req_page(req, PAGE_DEFAULT, PAGE_MAX, &limit, &after)) != 0)
		return rc;
	if (slug != NULL) {
		if ((rc = db_cas_get_by_slug(req->db, slug, &ca)) != 0)
			return rc == HSMCA_E_NOTFOUND ? err_set(HSMCA_E_INVALID, "No CA has the URL name given in 'ca'") : rc;
		ca_id = ca->id;
		db_ca_free(ca);
	}
	if ((rc = db_scep_auth_list(req->db, ca_id, after, limit, &v, &n)) != 0)
		return rc;
	items = json_array();
	for (i = 0; i < n && items != NULL; i++) {
		/* An operator sees the entries of their teams' CAs only. */
		if (!auth_reads_all(&req->actor) && auth_check_ca(req->db, &req->actor, v[i]->ca_id, AUTH_READ) != 0)
			continue;
		json_array_append_new(items, auth_json(v[i], now));
	}
	err_clear();
	rc = api_list_resp(resp, items, n == (size_t)limit ? v[n - 1]->id : 0);
	db_scep_auth_list_free(v, n);
	return rc;
}

int
api_scep_auth_get(struct req *req, struct resp *resp)
{
	struct db_scep_auth *a = NULL;
	int rc;

	if ((rc = load_auth(req, AUTH_READ, &a)) != 0)
		return rc;
	rc = resp_json(resp, 200, auth_json(a, db_now_ms()));
	db_scep_auth_free(a);
	return rc;
}

static int
audit_one(struct req *req, const char *event, const char *object, json_t *details)
{
	char *det = details != NULL ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	int rc;

	json_decref(details);
	if (det == NULL)
		return HSMCA_E_NOMEM;
	rc = audit_write(req->db, api_actor(req), req->peer_ip, event, object, det);
	free(det);
	return rc;
}

int
api_scep_auth_update(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "enabled", NULL };
	struct db_scep_auth *a = NULL;
	json_t *body = NULL;
	char object[32];
	int enabled, rc;

	if ((rc = load_auth(req, AUTH_ISSUE, &a)) != 0)
		return rc;
	if ((rc = api_body(req, keys, &body)) != 0 || (rc = json_in_bool(body, "enabled", 1, 1, &enabled)) != 0)
		goto out;
	snprintf(object, sizeof(object), "scep_auth:%lld", (long long)a->id);
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = db_scep_auth_set_enabled(req->db, a->id, enabled)) != 0 ||
	    (rc = audit_one(req, "scep_auth.updated", object, json_pack("{s:b}", "enabled", enabled))) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	db_scep_auth_free(a);
	a = NULL;
	if ((rc = load_auth(req, AUTH_READ, &a)) != 0)
		goto out;
	rc = resp_json(resp, 200, auth_json(a, db_now_ms()));
out:
	json_decref(body);
	db_scep_auth_free(a);
	return rc;
}

int
api_scep_auth_delete(struct req *req, struct resp *resp)
{
	struct db_scep_auth *a = NULL;
	char object[32];
	int rc;

	if ((rc = load_auth(req, AUTH_ISSUE, &a)) != 0)
		return rc;
	snprintf(object, sizeof(object), "scep_auth:%lld", (long long)a->id);
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = db_scep_auth_delete(req->db, a->id)) != 0 ||
	    (rc = audit_one(req, "scep_auth.deleted", object, json_pack("{s:s}", "name", a->name))) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	rc = resp_bytes(resp, 204, NULL, NULL, 0);
out:
	db_scep_auth_free(a);
	return rc;
}

/* ---------------------------------------------------------------- per-CA settings */

static int
settings_answer(struct req *req, struct resp *resp, const struct db_ca *ca)
{
	struct db_scep_ca s;
	char url[700], fpr[X509B_SHA256_HEX];
	json_t *o, *ra = json_null();
	int rc;

	if ((rc = db_scep_ca_get(req->db, ca->id, &s)) != 0)
		return rc;
	snprintf(url, sizeof(url), "%s/scep/%s", req->cfg->public_base_url, ca->slug);
	if (s.ra_cert_der.len > 0) {
		X509 *x = NULL;
		char *subj = NULL;
		int64_t na = 0;

		if (x509b_parse_cert(s.ra_cert_der.data, s.ra_cert_der.len, &x) == 0) {
			(void)x509b_name_text(X509_get_subject_name(x), &subj);
			(void)x509b_time_ms(X509_get0_notAfter(x), &na);
			(void)x509b_sha256_hex(s.ra_cert_der.data, s.ra_cert_der.len, fpr);
			ra = json_pack("{s:s,s:o,s:s,s:s}", "subject", subj != NULL ? subj : "", "valid_to",
			    api_time_json(na), "fingerprint_sha256", fpr, "key", "rsa-2048");
			free(subj);
			X509_free(x);
		}
	}
	o = json_pack("{s:I,s:s,s:b,s:s,s:s,s:o,s:o}", "ca_id", (json_int_t)ca->id, "ca", ca->slug, "enabled",
	    s.enabled, "approval", s.approval, "url", url, "profile", api_str_or_null(s.profile), "ra", ra);
	db_scep_ca_clear(&s);
	return resp_json(resp, 200, o);
}

int
api_scep_settings_get(struct req *req, struct resp *resp)
{
	struct db_ca *ca = NULL;
	int rc;

	if ((rc = api_load_ca(req, "id", AUTH_READ, &ca)) != 0)
		return rc;
	rc = settings_answer(req, resp, ca);
	db_ca_free(ca);
	return rc;
}

int
api_scep_settings_update(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "enabled", "approval", NULL };
	static const char *const approvals[] = { "auto", "manual", NULL };
	struct db_ca *ca = NULL;
	struct hsmca_ctx *ctx = NULL;
	struct ra_info ra;
	const char *approval;
	json_t *body = NULL;
	int enabled, rc;

	memset(&ra, 0, sizeof(ra));
	if ((rc = api_load_ca(req, "id", AUTH_ISSUE, &ca)) != 0)
		return rc;
	if ((rc = api_body(req, keys, &body)) != 0 || (rc = json_in_bool(body, "enabled", 0, -1, &enabled)) != 0 ||
	    (rc = json_in_enum(body, "approval", 0, approvals, &approval)) != 0)
		goto out;
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = db_scep_ca_set(req->db, ca->id, enabled, approval)) != 0 ||
	    (rc = audit_one(req, "scep.settings.updated", ca->slug, json_pack("{s:o,s:o}", "enabled",
	    enabled < 0 ? json_null() : json_boolean(enabled), "approval", api_str_or_null(approval)))) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	/* Enabling SCEP makes the RA now, so the first client does not wait for the token. */
	if (enabled == 1 && req->tok != NULL && (ctx = api_ctx_new(req)) != NULL)
		(void)ra_ensure(ctx, ca, &ra);
	rc = settings_answer(req, resp, ca);
out:
	ra_info_clear(&ra);
	api_ctx_free(ctx);
	json_decref(body);
	db_ca_free(ca);
	return rc;
}

/* ---------------------------------------------------------------- logs */

static json_t *
log_json(const struct db_scep_log *l, int with_content)
{
	json_t *o, *d;

	o = json_pack("{s:I,s:o,s:o,s:o,s:o,s:o,s:s,s:o,s:o,s:o}", "id", (json_int_t)l->id, "at",
	    api_time_json(l->at_ms), "peer", api_str_or_null(l->peer), "ca_id",
	    l->ca_id > 0 ? json_integer(l->ca_id) : json_null(), "message_type", api_str_or_null(l->message_type),
	    "transaction_id", api_str_or_null(l->transaction_id), "result", l->result, "fail_info",
	    api_str_or_null(l->fail_info), "order_id", l->order_id > 0 ? json_integer(l->order_id) : json_null(),
	    "http_status", l->http_status > 0 ? json_integer(l->http_status) : json_null());
	if (o == NULL || !with_content)
		return o;
	d = json_loads(l->details != NULL ? l->details : "{}", 0, NULL);
	json_object_set_new(o, "content", d != NULL ? d : json_object());
	if (l->request_der.len > 0) {
		size_t cap = 4 * ((l->request_der.len + 2) / 3) + 1;
		char *b64 = malloc(cap);

		if (b64 != NULL) {
			EVP_EncodeBlock((unsigned char *)b64, l->request_der.data, (int)l->request_der.len);
			json_object_set_new(o, "request_der_base64", json_string(b64));
			free(b64);
		}
		json_object_set_new(o, "request_bytes", json_integer((json_int_t)l->request_der.len));
	}
	return o;
}

static int
logs_list(struct req *req, struct resp *resp, int64_t ca_id)
{
	struct db_scep_log_filter f;
	struct db_scep_log **v = NULL;
	struct db_ca *ca = NULL;
	const char *slug = req_query(req, "ca"), *t;
	size_t n = 0, i;
	int64_t after;
	int limit, rc;
	json_t *items;

	memset(&f, 0, sizeof(f));
	if ((rc = req_page(req, PAGE_DEFAULT, PAGE_MAX, &limit, &after)) != 0)
		return rc;
	f.limit = limit;
	f.before = after;
	f.ca_id = ca_id;
	if (ca_id == 0 && slug != NULL) {
		if ((rc = db_cas_get_by_slug(req->db, slug, &ca)) != 0)
			return rc == HSMCA_E_NOTFOUND ? err_set(HSMCA_E_INVALID, "No CA has the URL name given in 'ca'") : rc;
		f.ca_id = ca->id;
		db_ca_free(ca);
	}
	f.message_type = req_query(req, "message_type");
	f.result = req_query(req, "result");
	f.transaction_id = req_query(req, "transaction_id");
	if ((f.message_type != NULL && strlen(f.message_type) > 32) || (f.result != NULL && strlen(f.result) > 16) ||
	    (f.transaction_id != NULL && strlen(f.transaction_id) > 128))
		return err_set(HSMCA_E_INVALID, "A filter value is too long");
	if ((t = req_query(req, "since")) != NULL && (rc = api_query_time("since", t, &f.since_ms)) != 0)
		return rc;
	if ((t = req_query(req, "until")) != NULL && (rc = api_query_time("until", t, &f.until_ms)) != 0)
		return rc;
	if ((rc = db_scep_log_list(req->db, &f, &v, &n)) != 0)
		return rc;
	items = json_array();
	for (i = 0; i < n && items != NULL; i++) {
		if (!auth_reads_all(&req->actor) &&
		    (v[i]->ca_id == 0 || auth_check_ca(req->db, &req->actor, v[i]->ca_id, AUTH_READ) != 0))
			continue;
		json_array_append_new(items, log_json(v[i], 0));
	}
	err_clear();
	rc = api_list_resp(resp, items, n == (size_t)limit ? v[n - 1]->id : 0);
	db_scep_log_list_free(v, n);
	return rc;
}

int
api_scep_logs_list(struct req *req, struct resp *resp)
{
	int rc;

	/* Operators see their teams' CAs (filtered per row); a user in no team sees nothing. */
	if (auth_reads_all(&req->actor) || (rc = auth_check(&req->actor, AUTH_READ)) == 0 ||
	    req->actor.role == AUTH_ROLE_OPERATOR)
		return logs_list(req, resp, 0);
	return rc;
}

int
api_scep_logs_ca(struct req *req, struct resp *resp)
{
	struct db_ca *ca = NULL;
	int rc;

	if ((rc = api_load_ca(req, "id", AUTH_READ, &ca)) != 0)
		return rc;
	rc = logs_list(req, resp, ca->id);
	db_ca_free(ca);
	return rc;
}

int
api_scep_logs_get(struct req *req, struct resp *resp)
{
	struct db_scep_log *l = NULL;
	int64_t id;
	int rc;

	if ((rc = req_param_id(req, "id", &id)) != 0)
		return err_set(HSMCA_E_NOTFOUND, "No SCEP log entry has that id");
	if ((rc = db_scep_log_get(req->db, id, 1, &l)) != 0)
		return rc;
	if (!auth_reads_all(&req->actor) &&
	    (l->ca_id == 0 || (rc = auth_check_ca(req->db, &req->actor, l->ca_id, AUTH_READ)) != 0)) {
		rc = rc != 0 ? rc : err_set(HSMCA_E_PERM, "Not allowed to read this SCEP log entry");
		goto out;
	}
	rc = resp_json(resp, 200, log_json(l, 1));
out:
	db_scep_log_free(l);
	return rc;
}

/* ---------------------------------------------------------------- manual approval */

static json_t *
tx_json(const struct db_scep_tx *t)
{
	return json_pack("{s:I,s:I,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "id", (json_int_t)t->id, "ca_id",
	    (json_int_t)t->ca_id, "transaction_id", t->transaction_id, "message_type", t->message_type, "status",
	    t->status, "peer", api_str_or_null(t->peer), "subject", api_str_or_null(t->subject), "order_id",
	    t->order_id > 0 ? json_integer(t->order_id) : json_null(), "certificate_id",
	    t->certificate_id > 0 ? json_integer(t->certificate_id) : json_null(), "error", api_str_or_null(t->error),
	    "decided_by", api_str_or_null(t->decided_by), "created_at", api_time_json(t->created_at_ms), "updated_at",
	    api_time_json(t->updated_at_ms));
}

int
api_scep_requests_list(struct req *req, struct resp *resp)
{
	static const char *const statuses[] = { "processing", "pending", "issued", "rejected", "failed", NULL };
	struct db_scep_tx **v = NULL;
	const char *status = req_query(req, "status");
	size_t n = 0, i;
	int64_t after;
	int limit, rc, ok = status == NULL;

	for (i = 0; statuses[i] != NULL && !ok; i++)
		ok = strcmp(statuses[i], status) == 0;
	if (!ok)
		return err_set(HSMCA_E_INVALID, "The status filter must be processing, pending, issued, rejected or failed");
	if ((rc = req_page(req, PAGE_DEFAULT, PAGE_MAX, &limit, &after)) != 0)
		return rc;
	if ((rc = db_scep_tx_list(req->db, status, 0, after, limit, &v, &n)) != 0)
		return rc;
	{
		json_t *items = json_array();

		for (i = 0; i < n && items != NULL; i++) {
			if (!auth_reads_all(&req->actor) &&
			    auth_check_ca(req->db, &req->actor, v[i]->ca_id, AUTH_READ) != 0)
				continue;
			json_array_append_new(items, tx_json(v[i]));
		}
		err_clear();
		rc = api_list_resp(resp, items, n == (size_t)limit ? v[n - 1]->id : 0);
	}
	db_scep_tx_list_free(v, n);
	return rc;
}

#define SCEP_REJECT_REASON_MAX 200

static int
decide(struct req *req, struct resp *resp, int approve)
{
	static const char *const no_keys[] = { NULL };
	static const char *const reject_keys[] = { "reason", NULL };
	struct db_scep_tx *t = NULL;
	struct hsmca_ctx *ctx = NULL;
	json_t *body = NULL;
	const char *reason = NULL;
	char object[40];
	int64_t id, cert_id = 0;
	int rc;

	if ((rc = req_param_id(req, "id", &id)) != 0)
		return err_set(HSMCA_E_NOTFOUND, "No SCEP request has that id");
	/* No body, {} or (to reject) {"reason": "..."}: the reason ends up in what the client's
	 * CertPoll FAILURE and the request's error say, so it stays one short line. */
	if (req->body_len > 0 && ((rc = api_body(req, approve ? no_keys : reject_keys, &body)) != 0 ||
	    (rc = json_in_str(body, "reason", 0, 1, SCEP_REJECT_REASON_MAX, 0, &reason)) != 0))
		goto out;
	if ((rc = db_scep_tx_get_id(req->db, id, 0, &t)) != 0)
		goto out;
	if ((rc = auth_check_ca(req->db, &req->actor, t->ca_id, AUTH_ISSUE)) != 0)
		goto out;
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = scep_decide(ctx, id, approve, reason, api_actor(req), &cert_id)) != 0)
		goto out;
	snprintf(object, sizeof(object), "scep_request:%lld", (long long)id);
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = audit_one(req, approve ? "scep.request.approved" : "scep.request.rejected", object,
	    json_pack("{s:s,s:o,s:o}", "transaction_id", t->transaction_id, "certificate_id",
	    cert_id > 0 ? json_integer(cert_id) : json_null(), "reason",
	    reason != NULL ? json_string(reason) : json_null()))) != 0 || (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	db_scep_tx_free(t);
	t = NULL;
	if ((rc = db_scep_tx_get_id(req->db, id, 0, &t)) != 0)
		goto out;
	rc = resp_json(resp, 200, tx_json(t));
out:
	api_ctx_free(ctx);
	db_scep_tx_free(t);
	json_decref(body);
	return rc;
}

int
api_scep_requests_approve(struct req *req, struct resp *resp)
{
	return decide(req, resp, 1);
}

int
api_scep_requests_reject(struct req *req, struct resp *resp)
{
	return decide(req, resp, 0);
}
