/*
 * ocsp.h: the OCSP responder (RFC 6960) for the appliance's CAs.
 *
 * ocsp_req_parse is PURE (bytes in, struct out; the fuzz target tests/fuzz/fuzz_ocsp_req.c drives
 * it). ocsp_respond answers every request with an OCSPResponse DER for the HTTP layer to send with
 * status 200 and Content-Type application/ocsp-response, whatever the outcome:
 *   successful        good / revoked (time, reason) / unknown for each CertID, the request's nonce
 *                     echoed, responderID byKey, producedAt and thisUpdate = now, no nextUpdate
 *                     (fresh information is always available), signed on the token by the CA key;
 *   malformedRequest  bad DER, trailing bytes, no or too many CertIDs, an oversized nonce;
 *   unauthorized      an unknown CA slug (we are not authoritative for it);
 *   internalError / tryLater  database or token failure / busy.
 * A CertID is answered "unknown" when its issuer hashes do not name this CA (SHA-1 and SHA-256
 * CertIDs are understood) or its serial was never issued by this CA with that key.
 * After a rollover (ca_rollover.h) a CertID may name a retired certificate of the CA: the
 * response is then signed by that retired key (still on the token) and carries that certificate,
 * since RFC 6960 4.2.2.2 wants the issuer of the certificate in question to sign. One response
 * has one signer: the key named by the first CertID that names one; CertIDs naming another key
 * of the CA in the same request are answered "unknown" (clients ask one certificate at a time).
 * XXX(#4): delegated responder certificates (id-pkix-ocsp-nocheck) are not done; the CA key signs.
 */
#ifndef HSMCA_OCSP_H
#define HSMCA_OCSP_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ocsp.h>

#include "buf.h"
#include "ctx.h"

#define OCSP_MAX_REQUEST_BYTES 16384
#define OCSP_MAX_CERTIDS 32
/* RFC 8954 2.1: a nonce is 1 to 32 octets; the whole extension stays far below this. */
#define OCSP_MAX_NONCE_EXT_BYTES 128

struct ocsp_certid {
	OCSP_CERTID *cid;              /* owned copy, for the response */
	int md_nid;                    /* NID_sha1 or NID_sha256; NID_undef for another hash */
	uint8_t name_hash[64];
	size_t name_hash_len;
	uint8_t key_hash[64];
	size_t key_hash_len;
	char serial[48];               /* uppercase hex, "" when not a usable serial */
};

struct ocsp_req {
	size_t n;
	struct ocsp_certid ids[OCSP_MAX_CERTIDS];
	uint8_t *nonce_ext;            /* DER of the nonce Extension, or NULL */
	size_t nonce_ext_len;
};

/* Parses an OCSPRequest (at most OCSP_MAX_REQUEST_BYTES, no trailing bytes, 1..OCSP_MAX_CERTIDS
 * CertIDs). HSMCA_E_INVALID (detail says why) for anything else. The request's optional signature
 * is not checked (RFC 6960 does not require signed requests). Caller frees with ocsp_req_free. */
int ocsp_req_parse(const uint8_t *der, size_t len, struct ocsp_req **out);
void ocsp_req_free(struct ocsp_req *r);

/* See above. Returns 0 with *resp_der set (caller frees with buf_free) in every case but
 * HSMCA_E_NOMEM. */
int ocsp_respond(struct hsmca_ctx *ctx, const char *ca_slug, const uint8_t *req_der, size_t len,
    struct buf *resp_der);

/* GET /ocsp/{slug}/{base64}: decodes the (already URL-decoded) base64 of a request. */
int ocsp_get_decode(const char *b64, struct buf *req_der);

#endif
