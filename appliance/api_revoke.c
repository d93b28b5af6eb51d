/*
 * api_revoke.c: the route table of issue #4 (api_issue4.h) and the two revocation steps:
 *   POST /api/v1/certificates/{id}/revocation  -> 201 {"code","expires_at"}  (revoke_request)
 *   POST /api/v1/certificates/{id}/revoke {"code","reason"} -> 200            (revoke_confirm)
 * The right to revoke is checked here (AUTH_REVOKE on the certificate's CA: admins, operators of
 * a team granted the CA); the code is the second step revoke.c enforces.
 * May call: auth.h, revoke.h, db_certs.h, json_in.h, http.h. Must never: log the code or keep it
 * in memory after the answer is built (it is written straight into the response body, which
 * http.c wipes when freed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api.h"
#include "api_issue4.h"
#include "api_resources.h"
#include "auth.h"
#include "ctx.h"
#include "db_certs.h"
#include "err.h"
#include "json_in.h"
#include "ocsp.h"
#include "revoke.h"

#define J HTTP_LISTEN_TLS
#define P HTTP_LISTEN_PLAIN
#define AN HTTP_AUTH_NONE
#define AU HTTP_AUTH_USER

/* Every entry is documented in docs/openapi-issue4.yaml. The OCSP GET form carries the request
 * as base64 in the path; base64 may contain '/', which splits it into segments, so the tail is
 * matched by one pattern per segment count (the handler reads the whole tail from the path). */
const struct http_route api_issue4_routes[] = {
	{ "POST", "/api/v1/certificates/{id}/revocation", api_revoke_request, J, AU, 0 },
	{ "POST", "/api/v1/certificates/{id}/revoke", api_revoke_confirm, J, AU, 0 },
	{ "POST", "/api/v1/certificates/{id}/pfx", api_pfx_export, J, AU, 0 },
	{ "POST", "/api/v1/cas/{id}/crl", api_crl_publish, J, AU, 0 },
	{ "GET", "/api/v1/cas/{id}/crls", api_crl_list, J, AU, 0 },
	{ "GET", "/api/v1/crls/{id}", api_crl_get, J, AU, 0 },

	{ "GET", "/crl/{slug}.crl", api_crl_download, P, AN, 0 },
	{ "POST", "/ocsp/{slug}", api_ocsp_post, P, AN, OCSP_MAX_REQUEST_BYTES },
	{ "GET", "/ocsp/{slug}/{request...}", api_ocsp_get, P, AN, 0 },
};

const size_t api_issue4_routes_n = sizeof(api_issue4_routes) / sizeof(api_issue4_routes[0]);

int
api_issue4_load_cert(struct req *req, int action, struct db_cert **out)
{
	struct db_cert *c = NULL;
	int64_t id;
	int rc;

	*out = NULL;
	if ((rc = req_param_id(req, "id", &id)) != 0)
		return err_set(rc, "no certificate has id '%s'", req_param(req, "id") != NULL ? req_param(req, "id") : "");
	if ((rc = db_certs_get_by_id(req->db, id, &c)) != 0) {
		if (rc == HSMCA_E_NOTFOUND)
			err_set(rc, "no certificate has id %lld", (long long)id);
		return rc;
	}
	/* A certificate of another issuer (discovered) falls under the system-wide rule: only an
	 * administrator passes, and the core then refuses it for what it is. */
	rc = c->ca_id > 0 ? auth_check_ca(req->db, &req->actor, c->ca_id, (enum auth_action)action) :
	    auth_check(&req->actor, (enum auth_action)action);
	if (rc != 0) {
		db_cert_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int
api_revoke_request(struct req *req, struct resp *resp)
{
	struct hsmca_ctx *ctx = NULL;
	struct db_cert *cert = NULL;
	char code[REVOKE_CODE_DIGITS + 1], when[32], body[160];
	int64_t expires_ms = 0;
	int n, rc;

	memset(code, 0, sizeof(code));
	memset(body, 0, sizeof(body));
	if ((rc = api_issue4_load_cert(req, AUTH_REVOKE, &cert)) != 0)
		return rc;
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = revoke_request(ctx, cert->id, req->actor.user_id, api_actor(req), req->peer_ip, code,
	    &expires_ms)) != 0)
		goto out;
	api_time(expires_ms, when);
	/* Built by hand, not through jansson, so the only copies of the code are this stack buffer
	 * (wiped below) and the response body (wiped by http.c). */
	n = snprintf(body, sizeof(body), "{\"code\":\"%s\",\"expires_at\":\"%s\",\"certificate_id\":%lld}",
	    code, when, (long long)cert->id);
	if (n < 0 || (size_t)n >= sizeof(body)) {
		rc = err_set(HSMCA_E_INTERNAL, "revocation answer does not fit");
		goto out;
	}
	rc = resp_bytes(resp, 201, "application/json", body, (size_t)n);
out:
	OPENSSL_cleanse(code, sizeof(code));
	OPENSSL_cleanse(body, sizeof(body));
	api_ctx_free(ctx);
	db_cert_free(cert);
	return rc;
}

/* Six ASCII digits; anything else is malformed input (400), not a wrong guess (422), and so does
 * not use up one of the code's tries. */
static int
code_wellformed(const char *code)
{
	size_t i;

	if (code == NULL || strlen(code) != REVOKE_CODE_DIGITS)
		return 0;
	for (i = 0; i < REVOKE_CODE_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	return 1;
}

int
api_revoke_confirm(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "code", "reason", NULL };
	struct hsmca_ctx *ctx = NULL;
	struct db_cert *cert = NULL, *after = NULL;
	const char *code = NULL, *reason_name = NULL;
	json_t *body = NULL;
	int64_t crl_number = 0;
	int reason, rc;

	if ((rc = api_issue4_load_cert(req, AUTH_REVOKE, &cert)) != 0)
		return rc;
	if ((rc = api_body(req, keys, &body)) != 0)
		goto out;
	if ((rc = json_in_str(body, "code", 1, 1, 32, 0, &code)) != 0 ||
	    (rc = json_in_str(body, "reason", 0, 0, 64, 0, &reason_name)) != 0)
		goto out;
	if (!code_wellformed(code)) {
		rc = err_set(HSMCA_E_INVALID, "field 'code' must be the six digits from POST "
		    "/api/v1/certificates/%lld/revocation", (long long)cert->id);
		goto out;
	}
	if ((rc = revoke_reason_parse(reason_name, &reason)) != 0)
		goto out;
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = revoke_confirm(ctx, cert->id, req->actor.user_id, api_actor(req), req->peer_ip, code, reason,
	    &crl_number)) != 0)
		goto out;
	if ((rc = db_certs_get_by_id(req->db, cert->id, &after)) != 0)
		goto out;
	rc = resp_json(resp, 200, json_pack("{s:I,s:s,s:s,s:o,s:s,s:o}", "id", (json_int_t)after->id,
	    "serial", after->serial, "status", "revoked", "revoked_at", api_time_json(after->revoked_at_ms),
	    "reason", revoke_reason_name(after->revocation_reason),
	    "crl_number", crl_number > 0 ? json_integer((json_int_t)crl_number) : json_null()));
out:
	/* The code sits in the parsed body: wipe it before jansson frees it. */
	if (code != NULL)
		OPENSSL_cleanse((void *)code, strlen(code));
	json_decref(body);
	api_ctx_free(ctx);
	db_cert_free(after);
	db_cert_free(cert);
	return rc;
}
