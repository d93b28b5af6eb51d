/*
 * api_rollover.c: /api/v1/cas/{id}/rollover (see api_rollover.h).
 * May call: ca_rollover.h, db_cas.h, auth.h, json_in.h, api_resources.h, x509_build.h (names).
 * Must never: do any of the work itself (keys, certificates and rows are ca_rollover.c's), or
 * show a keyref's key.
 */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "api.h"
#include "api_resources.h"
#include "api_rollover.h"
#include "auth.h"
#include "ca.h"
#include "ca_rollover.h"
#include "db_cas.h"
#include "err.h"
#include "json_in.h"
#include "log.h"
#include "x509_build.h"

#define J HTTP_LISTEN_TLS
#define AU HTTP_AUTH_USER

const struct http_route api_rollover_routes[] = {
	{ "POST", "/api/v1/cas/{id}/rollover", api_rollover_start, J, AU, 0 },
	{ "GET", "/api/v1/cas/{id}/rollover", api_rollover_get, J, AU, 0 },
	{ "DELETE", "/api/v1/cas/{id}/rollover", api_rollover_cancel, J, AU, 0 },
	{ "POST", "/api/v1/cas/{id}/rollover/activate", api_rollover_activate, J, AU, 0 },
};

const size_t api_rollover_routes_n = sizeof(api_rollover_routes) / sizeof(api_rollover_routes[0]);

#undef J
#undef AU

static const char *const key_specs[] = { "rsa-2048", "rsa-3072", "rsa-4096", "ec-256", "ec-384", NULL };

/* The next certificate's subject and issuer as RFC 2253 text (the console shows them; a
 * rollover keeps the subject, an intermediate's issuer is its parent). */
static int
next_names(const struct db_ca_next *n, char **subject, char **issuer)
{
	const unsigned char *p = n->cert_der.data;
	X509 *x = d2i_X509(NULL, &p, (long)n->cert_der.len);
	int rc;

	*subject = *issuer = NULL;
	if (x == NULL) {
		ERR_clear_error();
		return err_set(HSMCA_E_INTERNAL, "the stored next CA certificate does not parse");
	}
	if ((rc = x509b_name_text(X509_get_subject_name(x), subject)) == 0 &&
	    (rc = x509b_name_text(X509_get_issuer_name(x), issuer)) != 0) {
		free(*subject);
		*subject = NULL;
	}
	X509_free(x);
	return rc;
}

static json_t *
next_json(const struct db_ca_next *n)
{
	struct buf pem = { 0 }, ra_pem = { 0 };
	char *subject = NULL, *issuer = NULL;
	json_t *o;

	if (api_der_to_pem(n->cert_der.data, n->cert_der.len, &pem) != 0 ||
	    api_der_to_pem(n->ra_cert_der.data, n->ra_cert_der.len, &ra_pem) != 0 ||
	    next_names(n, &subject, &issuer) != 0) {
		buf_free(&ra_pem);
		buf_free(&pem);
		return NULL;
	}
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:o,s:s#,s:s#}", "serial", n->serial,
	    "subject", subject, "issuer", issuer,
	    "fingerprint_sha256", n->fingerprint_sha256, "key", n->key_spec,
	    "valid_from", api_time_json(n->not_before_ms), "valid_to", api_time_json(n->not_after_ms),
	    "created_by", n->created_by, "created_at", api_time_json(n->created_at_ms),
	    "certificate", (const char *)pem.data, (int)pem.len, "ra_certificate", (const char *)ra_pem.data,
	    (int)ra_pem.len);
	free(issuer);
	free(subject);
	buf_free(&ra_pem);
	buf_free(&pem);
	return o;
}

json_t *
api_rollover_next_json(struct db *db, int64_t ca_id)
{
	struct db_ca_next *n = NULL;
	json_t *o;
	int rc;

	if ((rc = db_cas_next_get(db, ca_id, &n)) != 0) {
		/* A CA JSON still answers without "next"; a store error must not pass for "none". */
		if (rc != HSMCA_E_NOTFOUND)
			log_msg(LOGL_ERROR, "ca", "ca.next_unreadable", "CA %lld: %s", (long long)ca_id, err_msg(rc));
		err_clear();
		return json_null();
	}
	o = next_json(n);
	db_ca_next_free(n);
	return o != NULL ? o : json_null();
}

/* Admin only, checked before the CA is looked up: a non-admin learns nothing about ids. On
 * success the caller frees *ca (db_ca_free) and *ctx (api_ctx_free). */
static int
load_for_change(struct req *req, struct db_ca **ca, struct hsmca_ctx **ctx)
{
	int rc;

	*ca = NULL;
	*ctx = NULL;
	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = api_load_ca(req, "id", AUTH_MANAGE, ca)) != 0)
		return rc;
	if ((*ctx = api_ctx_new(req)) == NULL) {
		db_ca_free(*ca);
		*ca = NULL;
		return HSMCA_E_NOMEM;
	}
	return 0;
}

int
api_rollover_start(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "days", "key", NULL };
	struct ca_rollover_req rr = { 0 };
	struct hsmca_ctx *ctx = NULL;
	struct db_ca_next *next = NULL;
	struct db_ca *ca = NULL;
	json_t *body = NULL;
	int64_t days = 0;
	int rc;

	if ((rc = load_for_change(req, &ca, &ctx)) != 0)
		return rc;
	/* The body is optional: no body, the CA's key type and the default validity. */
	if (req->body_len > 0 && ((rc = api_body(req, keys, &body)) != 0 ||
	    (rc = json_in_int(body, "days", 0, 1, CA_MAX_DAYS, 0, &days)) != 0 ||
	    (rc = json_in_enum(body, "key", 0, key_specs, &rr.key_spec)) != 0))
		goto out;
	rr.days = (int)days;
	rr.actor = api_actor(req);
	rr.ip = req->peer_ip;
	if (req->tok == NULL) {
		rc = err_set(HSMCA_E_TOKEN, "the token is not open");
		goto out;
	}
	if ((rc = ca_rollover_start(ctx, ca, &rr, &next)) != 0)
		goto out;
	rc = resp_json(resp, 201, json_pack("{s:I,s:s,s:o}", "id", (json_int_t)ca->id, "slug", ca->slug,
	    "next", next_json(next)));
out:
	db_ca_next_free(next);
	api_ctx_free(ctx);
	json_decref(body);
	db_ca_free(ca);
	return rc;
}

static json_t *
history_json(const struct db_ca_history *h, size_t n)
{
	json_t *items = json_array();
	size_t i;

	for (i = 0; items != NULL && i < n; i++) {
		if (json_array_append_new(items, json_pack("{s:I,s:s,s:s,s:o,s:o,s:o,s:I}", "id", (json_int_t)h[i].id,
		    "fingerprint_sha256", h[i].fingerprint_sha256, "key", h[i].key_spec,
		    "valid_from", api_time_json(h[i].not_before_ms), "valid_to", api_time_json(h[i].not_after_ms),
		    "retired_at", api_time_json(h[i].retired_at_ms), "key_generation", (json_int_t)h[i].key_gen)) != 0) {
			json_decref(items);
			return NULL;
		}
	}
	return items;
}

int
api_rollover_get(struct req *req, struct resp *resp)
{
	struct db_ca_history *hist = NULL;
	struct db_ca *ca = NULL;
	size_t n = 0;
	int rc;

	if ((rc = api_load_ca(req, "id", AUTH_READ, &ca)) != 0)
		return rc;
	if ((rc = db_cas_history_list(req->db, ca->id, &hist, &n)) == 0)
		rc = resp_json(resp, 200, json_pack("{s:I,s:s,s:o,s:o}", "id", (json_int_t)ca->id, "slug", ca->slug,
		    "next", api_rollover_next_json(req->db, ca->id), "history", history_json(hist, n)));
	db_ca_history_list_free(hist, n);
	db_ca_free(ca);
	return rc;
}

int
api_rollover_activate(struct req *req, struct resp *resp)
{
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL, *now = NULL;
	int rc;

	if ((rc = load_for_change(req, &ca, &ctx)) != 0)
		return rc;
	if ((rc = ca_rollover_activate(ctx, ca, api_actor(req), req->peer_ip, &now)) != 0)
		goto out;
	rc = resp_json(resp, 200, json_pack("{s:I,s:s,s:s,s:s,s:o,s:o}", "id", (json_int_t)now->id, "slug", now->slug,
	    "fingerprint_sha256", now->fingerprint_sha256, "key", now->key_spec,
	    "valid_from", api_time_json(now->not_before_ms), "valid_to", api_time_json(now->not_after_ms)));
out:
	db_ca_free(now);
	api_ctx_free(ctx);
	db_ca_free(ca);
	return rc;
}

int
api_rollover_cancel(struct req *req, struct resp *resp)
{
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL;
	int rc;

	if ((rc = load_for_change(req, &ca, &ctx)) != 0)
		return rc;
	if ((rc = ca_rollover_cancel(ctx, ca, api_actor(req), req->peer_ip)) != 0)
		goto out;
	rc = resp_json(resp, 200, json_pack("{s:I,s:s,s:b}", "id", (json_int_t)ca->id, "slug", ca->slug,
	    "cancelled", 1));
out:
	api_ctx_free(ctx);
	db_ca_free(ca);
	return rc;
}
