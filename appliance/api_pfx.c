/*
 * api_pfx.c: POST /api/v1/certificates/{id}/pfx {"legacy"?} -> 200 {"password","pfx"} ("Download
 * PFX"). Only for certificates whose key the appliance generated on the token (pfx.c answers 409
 * otherwise). A private key leaves the appliance, so the caller needs AUTH_ISSUE on the CA (admin,
 * operator of a team granted it), not mere read access; a revoked certificate is refused.
 * May call: pfx.h, auth.h. Must never: keep, log or audit the password or the PKCS#12: both go
 * straight into the response body, which http.c wipes when freed; every copy here is wiped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "api.h"
#include "api_issue4.h"
#include "api_resources.h"
#include "auth.h"
#include "buf.h"
#include "ctx.h"
#include "db_certs.h"
#include "err.h"
#include "json_in.h"
#include "pfx.h"

/* Far above any PKCS#12 of one key and a chain; keeps the base64 arithmetic in int range. */
#define API_PFX_MAX_BYTES (1024 * 1024)

int
api_pfx_export(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "legacy", NULL };
	struct hsmca_ctx *ctx = NULL;
	struct db_cert *cert = NULL;
	struct buf pfx = { NULL, 0 };
	char *pw = NULL, *body = NULL;
	size_t b64_len = 0, cap = 0, off;
	json_t *in = NULL;
	int legacy = 0, n, rc;

	if ((rc = api_issue4_load_cert(req, AUTH_ISSUE, &cert)) != 0)
		return rc;
	if (req->body_len > 0 && ((rc = api_body(req, keys, &in)) != 0 ||
	    (rc = json_in_bool(in, "legacy", 0, 0, &legacy)) != 0))
		goto out;
	if (cert->revoked_at_ms != 0) {
		rc = err_set(HSMCA_E_CONFLICT, "certificate %s is revoked: its key is not handed out", cert->serial);
		goto out;
	}
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = pfx_export(ctx, cert->id, api_actor(req), req->peer_ip, legacy, &pw, &pfx)) != 0)
		goto out;
	if (pfx.len == 0 || pfx.len > API_PFX_MAX_BYTES) {
		rc = err_set(HSMCA_E_INTERNAL, "PKCS#12 of certificate %s has an unexpected size", cert->serial);
		goto out;
	}
	b64_len = (pfx.len + 2) / 3 * 4;
	cap = b64_len + strlen(pw) + 160;
	if ((body = malloc(cap)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	/* The password alphabet (pfx.c) and base64 need no JSON escaping. */
	n = snprintf(body, cap, "{\"certificate_id\":%lld,\"legacy\":%s,\"password\":\"%s\",\"pfx\":\"",
	    (long long)cert->id, legacy ? "true" : "false", pw);
	if (n < 0 || (size_t)n + b64_len + 3 > cap) {
		rc = err_set(HSMCA_E_INTERNAL, "PFX answer does not fit");
		goto out;
	}
	off = (size_t)n;
	if (EVP_EncodeBlock((unsigned char *)body + off, pfx.data, (int)pfx.len) != (int)b64_len) {
		rc = err_set(HSMCA_E_INTERNAL, "base64 of the PKCS#12 failed");
		goto out;
	}
	off += b64_len;
	memcpy(body + off, "\"}", 3);
	off += 2;
	rc = resp_bytes(resp, 200, "application/json", body, off);
out:
	if (body != NULL)
		OPENSSL_clear_free(body, cap);
	if (pw != NULL)
		OPENSSL_clear_free(pw, strlen(pw));
	if (pfx.data != NULL)
		OPENSSL_cleanse(pfx.data, pfx.len);
	buf_free(&pfx);
	json_decref(in);
	api_ctx_free(ctx);
	db_cert_free(cert);
	return rc;
}
