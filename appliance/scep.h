/*
 * scep.h: SCEP over HTTP (RFC 8894 §4): /scep/{slug} and /scep/{slug}/pkiclient.exe on the
 * plain-HTTP listener, GET and POST.
 *
 * scep_handle() is the whole protocol step without HTTP types, so unit tests drive it directly;
 * scep_http() (the route handler) only unpacks struct req into a struct scep_request.
 *
 * Operations: GetCACaps, GetCACert (message= absent, a CA identifier, 0, 1, ...: all the same CA),
 * PKIOperation (POST body of any content type, or GET message= in base64, URL-encoded or not,
 * bounded by cfg.max_scep_body_bytes before decoding), GetNextCACert (RFC 8894 §4.7, while a
 * rollover is pending: ca_rollover.h; 404 otherwise).
 * PKIOperation message types: PKCSReq, RenewalReq, CertPoll, GetCert, GetCRL. GetCRL answers with
 * the CRL of the CA key generation that issued the certificate its IssuerAndSerialNumber names
 * (crl_latest_gen; the current key's for a serial this CA never issued).
 *
 * Answers (one table, in scep.c): a request we cannot address a CertRep to (no transactionID or
 * senderNonce could be read) is HTTP 400; everything else is HTTP 200 with a CertRep signed by
 * the CA's RA: SUCCESS, PENDING (manual approval), or FAILURE with failInfo: badMessageCheck
 * (signature, envelope), badAlg, badTime, badRequest (authentication, policy, a transactionID
 * replayed with another key, an unknown message type), badCertId (CertPoll/GetCert of nothing,
 * GetCRL naming another issuer or finding no CRL).
 * HTTP Basic credentials that name no entry, a disabled one, or carry a wrong secret: HTTP 401.
 * Every exchange writes one scep_logs row; every PKCSReq/RenewalReq that reaches issuance is an
 * order of type "scep" (issue.h).
 *
 * Thread safety: uses the caller's ctx->db (one thread) and the shared token.
 */
#ifndef HSMCA_SCEP_H
#define HSMCA_SCEP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ctx.h"
#include "http.h"

/* Allowed difference between a request's signingTime and our clock (badTime beyond). */
#define SCEP_MAX_SKEW_S (24 * 3600)
/* Route body cap; cfg.max_scep_body_bytes applies below it. */
#define SCEP_ROUTE_MAX_BODY (1024 * 1024)

struct scep_request {
	const char *ca_slug;
	const char *operation;          /* operation= */
	const char *message;            /* message= (already URL-decoded by the HTTP layer), or NULL */
	const uint8_t *body;            /* POST body, or NULL */
	size_t body_len;
	int is_post;
	const char *basic_user;         /* HTTP Basic credentials, or NULL */
	const uint8_t *basic_secret;
	size_t basic_secret_len;
	const char *peer;               /* client IP */
};

struct scep_response {
	int status;                     /* HTTP status */
	const char *content_type;       /* static */
	struct buf body;                /* owned: scep_response_clear */
	int www_authenticate;           /* 401: add WWW-Authenticate: Basic */
};

void scep_response_clear(struct scep_response *r);

/* One SCEP exchange. Fills out in every case but out of memory (HSMCA_E_NOMEM); never fails
 * the process on bad input. */
int scep_handle(struct hsmca_ctx *ctx, const struct scep_request *r, struct scep_response *out);

/*
 * Manual approval: approve (issue, through the same path as an automatic enrollment) or reject
 * the pending SCEP transaction tx_id; the client's next CertPoll gets the certificate or a
 * FAILURE. A rejection's reason (may be NULL) is kept in the transaction's error. HSMCA_E_NOTFOUND,
 * HSMCA_E_CONFLICT (not pending, or decided meanwhile), or the issuance's error (the
 * transaction is then "failed"). *certificate_id: the issued certificate.
 */
int scep_decide(struct hsmca_ctx *ctx, int64_t tx_id, int approve, const char *reason, const char *actor,
    int64_t *certificate_id);

/* The route handler for GET/POST /scep/{slug} and /scep/{slug}/pkiclient.exe. */
int scep_http(struct req *req, struct resp *resp);

/* Decodes a base64 message= value: '+' that arrived as ' ' (form decoding), base64url's '-' and
 * '_', line breaks and missing padding are all accepted. HSMCA_E_TOOLARGE past max_der bytes,
 * HSMCA_E_INVALID for anything else that is not base64. Exposed for the unit test. */
int scep_b64_decode(const char *s, size_t max_der, struct buf *out);

#endif
