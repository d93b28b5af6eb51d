/*
 * scep_reply.h: builds CertRep pkiMessages (RFC 8894 §3.3.2) answering a parsed request.
 *
 * Signed attributes: messageType "3", pkiStatus, failInfo (FAILURE only), transactionID echoed,
 * a fresh random senderNonce, recipientNonce = the request's senderNonce; digest = the request's
 * (SHA-256 when it had none we accept). The signature is made by the caller's struct
 * scep_signops, normally tok_cms_sign_cb() with the RA key and certificate (plus the CA chain as
 * extra certificates): certmonger verifies CertReps with PKCS7_verify against the GetCACert
 * certificates, so the RA certificate must be in the reply's certificates.
 *
 * SUCCESS envelope cipher: the one the client used (AES-128/256-CBC, 3DES, or single DES). The
 * envelope carries only certificates or a CRL, which are public, so answering a DES client
 * with DES exposes nothing secret, while answering it with AES would lock out the old devices
 * that only speak DES; clients that chose AES get AES.
 *
 * Not pure (it draws random nonces and may load OpenSSL's legacy provider for DES into a private
 * library context), but it does no I/O and touches neither database nor token except through
 * the signops callback. Thread safe.
 */
#ifndef HSMCA_SCEP_REPLY_H
#define HSMCA_SCEP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "scep_msg.h"
#include "tok_cms.h"

/* The signer: same shape as tok_cms_sign_cb (arg a struct tok_cms_key). content may be empty. */
struct scep_signops {
	int (*sign)(void *arg, const uint8_t *content, size_t content_len,
	    const struct tok_cms_attr *attrs, size_t n_attrs, const char *digest, struct buf *cms_der);
	void *arg;
};

/*
 * SUCCESS: certs[0..n_certs) (normally the one issued certificate; for GetCert the requested
 * one) and/or crl_der (GetCRL) in a degenerate PKCS#7, enveloped to req's signer certificate,
 * then signed. req must have parsed successfully (req->signer_cert and req->cipher set).
 */
int scep_reply_success(const struct scep_msg *req, const struct buf *certs, size_t n_certs,
    const struct buf *crl_der, const struct scep_signops *signer, struct buf *out);

/* FAILURE with failInfo: req may be a failed parse, as long as req->replyable. No envelope: the
 * signed content is empty (embedded, zero length, which PKCS7_verify accepts). */
int scep_reply_failure(const struct scep_msg *req, enum scep_fail fail,
    const struct scep_signops *signer, struct buf *out);

/* PENDING (manual approval): as FAILURE without failInfo. */
int scep_reply_pending(const struct scep_msg *req, const struct scep_signops *signer,
    struct buf *out);

/* The envelope cipher a SUCCESS reply to req uses (OpenSSL name, e.g. "aes-256-cbc"). */
const char *scep_reply_cipher(const struct scep_msg *req);

#endif
