/*
 * api_resources.c: the routing table of the CA resources (api_resources.h) and the helpers the
 * resource files share: a CA-core context for a request, loading a CA with a permission check,
 * query-parameter readers.
 * May call: auth.h, ca.h, db_cas.h, http.h. Must never: touch MHD or SQL.
 */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/pem.h>

#include "api.h"
#include "api_resources.h"
#include "auth.h"
#include "ctx.h"
#include "db_cas.h"
#include "err.h"

#define J HTTP_LISTEN_TLS
#define P HTTP_LISTEN_PLAIN
#define AN HTTP_AUTH_NONE
#define AU HTTP_AUTH_USER

/* Every entry is documented in docs/openapi-resources.yaml. POST /api/v1/cas/import comes before
 * nothing that could shadow it: /cas/{id} has no POST. */
const struct http_route api_resources_routes[] = {
	{ "GET", "/api/v1/cas", api_cas_list, J, AU, 0 },
	{ "POST", "/api/v1/cas", api_cas_create, J, AU, 0 },
	{ "POST", "/api/v1/cas/import", api_cas_import, J, AU, 0 },
	{ "GET", "/api/v1/cas/{id}", api_cas_get, J, AU, 0 },
	{ "PATCH", "/api/v1/cas/{id}", api_cas_update, J, AU, 0 },
	{ "DELETE", "/api/v1/cas/{id}", api_cas_delete, J, AU, 0 },
	{ "GET", "/api/v1/cas/{id}/certificate", api_cas_certificate, J, AU, 0 },
	{ "GET", "/api/v1/cas/{id}/chain", api_cas_chain, J, AU, 0 },
	{ "GET", "/api/v1/cas/{id}/private-key", api_cas_private_key, J, AU, 0 },

	{ "GET", "/api/v1/certificates", api_certs_list, J, AU, 0 },
	{ "POST", "/api/v1/certificates", api_certs_create, J, AU, 0 },
	{ "GET", "/api/v1/certificates/{id}", api_certs_get, J, AU, 0 },
	{ "GET", "/api/v1/certificates/{id}/pem", api_certs_pem, J, AU, 0 },

	{ "GET", "/api/v1/orders", api_orders_list, J, AU, 0 },
	{ "GET", "/api/v1/orders/{id}", api_orders_get, J, AU, 0 },

	{ "GET", "/api/v1/keys", api_keys_list, J, AU, 0 },
	{ "POST", "/api/v1/keys", api_keys_create, J, AU, 0 },
	{ "POST", "/api/v1/csr", api_csr_create, J, AU, 0 },

	{ "GET", "/api/v1/audit", api_audit_list, J, AU, 0 },

	{ "GET", "/ca/{slug}.crt", api_public_ca_der, P, AN, 0 },
	{ "GET", "/ca/{slug}.pem", api_public_ca_pem, P, AN, 0 },
};

const size_t api_resources_routes_n = sizeof(api_resources_routes) / sizeof(api_resources_routes[0]);

struct hsmca_ctx *
api_ctx_new(const struct req *req)
{
	struct hsmca_ctx *ctx;

	if ((ctx = calloc(1, sizeof(*ctx))) == NULL)
		return NULL;
	ctx->cfg = *req->cfg;
	ctx->db = req->db;
	ctx->tok = req->tok;
	return ctx;
}

void
api_ctx_free(struct hsmca_ctx *ctx)
{
	/* db and tok are borrowed from the request and the server. */
	free(ctx);
}

int
api_load_ca(struct req *req, const char *param, int action, struct db_ca **out)
{
	struct db_ca *ca = NULL;
	int64_t id;
	int rc;

	*out = NULL;
	if ((rc = req_param_id(req, param, &id)) != 0)
		return err_set(rc, "no CA has id '%s'", req_param(req, param) != NULL ? req_param(req, param) : "");
	if ((rc = db_cas_get_by_id(req->db, id, &ca)) != 0) {
		if (rc == HSMCA_E_NOTFOUND)
			err_set(rc, "no CA has id %lld", (long long)id);
		return rc;
	}
	if ((rc = auth_check_ca(req->db, &req->actor, ca->id, (enum auth_action)action)) != 0) {
		db_ca_free(ca);
		return rc;
	}
	*out = ca;
	return 0;
}

int
api_der_to_pem(const uint8_t *der, size_t len, struct buf *out)
{
	BIO *bio = NULL;
	BUF_MEM *mem;
	uint8_t *grown;
	int rc = HSMCA_E_NOMEM;

	if (len == 0 || len > LONG_MAX)
		return err_set(HSMCA_E_INTERNAL, "empty certificate");
	if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio(bio, PEM_STRING_X509, "", der, (long)len) <= 0)
		goto out;
	BIO_get_mem_ptr(bio, &mem);
	if ((grown = realloc(out->data, out->len + mem->length + 1)) == NULL)
		goto out;
	memcpy(grown + out->len, mem->data, mem->length);
	out->data = grown;
	out->len += mem->length;
	out->data[out->len] = '\0';
	rc = 0;
out:
	BIO_free(bio);
	return rc;
}

json_t *
api_str_or_null(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

int
api_query_int(const char *name, const char *value, int64_t min, int64_t max, int64_t dflt, int64_t *out)
{
	char *end;
	long long v;

	*out = dflt;
	if (value == NULL)
		return 0;
	if (!isdigit((unsigned char)value[0]) || strlen(value) > 18)
		goto bad;
	v = strtoll(value, &end, 10);
	if (*end != '\0' || v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return err_set(HSMCA_E_INVALID, "query parameter '%s' must be an integer from %lld to %lld", name,
	    (long long)min, (long long)max);
}

int
api_query_time(const char *name, const char *value, int64_t *ms)
{
	struct tm tm;
	const char *end;
	int64_t secs;

	*ms = 0;
	if (value == NULL)
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (strlen(value) == 10 && (end = strptime(value, "%Y-%m-%d", &tm)) != NULL && *end == '\0')
		goto have_tm;
	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(value, "%Y-%m-%dT%H:%M:%SZ", &tm)) != NULL && *end == '\0')
		goto have_tm;
	if (api_query_int(name, value, 0, 253402300799LL, 0, &secs) == 0) {
		*ms = secs * 1000;
		return 0;
	}
	return err_set(HSMCA_E_INVALID, "query parameter '%s' must be a date (2026-01-31), an RFC 3339 UTC "
	    "time (2026-01-31T12:00:00Z) or epoch seconds", name);
have_tm:
	*ms = (int64_t)timegm(&tm) * 1000;
	return 0;
}
