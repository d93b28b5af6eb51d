/*
 * api_ocsp.c: the OCSP responder on the plain-HTTP listener (RFC 6960 appendix A):
 *   POST /ocsp/{slug}            body: DER OCSPRequest, Content-Type application/ocsp-request,
 *                                at most OCSP_MAX_REQUEST_BYTES (http.c answers 413 above);
 *   GET  /ocsp/{slug}/{base64}   the URL-encoded base64 of the request (clients such as Windows
 *                                CryptoAPI use GET for small requests).
 * Every request that reaches ocsp.c gets 200 application/ocsp-response: failures are OCSP response
 * statuses (malformedRequest, unauthorized, ...) that OCSP clients understand, not JSON.
 * May call: ocsp.h. Must never: interpret the request itself (ocsp.c parses it).
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "api_issue4.h"
#include "api_resources.h"
#include "buf.h"
#include "ctx.h"
#include "err.h"
#include "ocsp.h"

static int
answer(struct req *req, struct resp *resp, const char *slug, const uint8_t *der, size_t len)
{
	static const uint8_t empty[1];
	struct hsmca_ctx *ctx;
	struct buf out = { NULL, 0 };
	int rc;

	if ((ctx = api_ctx_new(req)) == NULL)
		return HSMCA_E_NOMEM;
	rc = ocsp_respond(ctx, slug, der != NULL ? der : empty, len, &out);
	api_ctx_free(ctx);
	if (rc != 0)
		return rc;
	/* Every answer is made now and carries no nextUpdate: nothing for a cache to keep. */
	if ((rc = resp_header(resp, "Cache-Control", "no-cache")) == 0)
		rc = resp_bytes(resp, 200, "application/ocsp-response", out.data, out.len);
	buf_free(&out);
	return rc;
}

/* RFC 6960 A.1.1: the POST body is application/ocsp-request. Parameters are tolerated. */
static int
content_type_ok(const char *ct)
{
	static const char want[] = "application/ocsp-request";
	size_t n = sizeof(want) - 1;

	return ct != NULL && strncasecmp(ct, want, n) == 0 && (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

int
api_ocsp_post(struct req *req, struct resp *resp)
{
	const char *slug = req_param(req, "slug");

	if (!content_type_ok(req_header(req, "Content-Type")))
		return resp_error(resp, 415, "unsupported_media_type",
		    "an OCSP request must be sent with Content-Type: application/ocsp-request");
	return answer(req, resp, slug, req->body, req->body_len);
}

int
api_ocsp_get(struct req *req, struct resp *resp)
{
	const char *slug = req_param(req, "slug"), *tail;
	struct buf der = { NULL, 0 };
	size_t skip;
	int rc;

	/* The request is everything after "/ocsp/<slug>/" in the decoded path: base64's '/' arrives
	 * as %2F and http.c has already split the path on it (see the route table). */
	skip = strlen("/ocsp/") + strlen(slug) + 1;
	if (strlen(req->path) <= skip || strncmp(req->path, "/ocsp/", 6) != 0)
		return answer(req, resp, slug, NULL, 0);
	tail = req->path + skip;
	/* Bad base64 is a malformed request like bad DER: the client gets malformedRequest. */
	if (ocsp_get_decode(tail, &der) != 0) {
		err_clear();
		return answer(req, resp, slug, NULL, 0);
	}
	rc = answer(req, resp, slug, der.data, der.len);
	buf_free(&der);
	return rc;
}
