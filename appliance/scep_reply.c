/*
 * scep_reply.c: CertRep builder (see scep_reply.h).
 *
 * May call: OpenSSL (CMS envelope to the requester's public key, random nonces), scep_caps.c
 * for the degenerate PKCS#7, and the signops callback. Must never: see a private key (the
 * envelope only needs the requester's public key; the signature is the callback's).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "err.h"
#include "libctx.h"
#include "scep_caps.h"
#include "scep_reply.h"

#define OID_MESSAGE_TYPE    "2.16.840.1.113733.1.9.2"
#define OID_PKI_STATUS      "2.16.840.1.113733.1.9.3"
#define OID_FAIL_INFO       "2.16.840.1.113733.1.9.4"
#define OID_SENDER_NONCE    "2.16.840.1.113733.1.9.5"
#define OID_RECIPIENT_NONCE "2.16.840.1.113733.1.9.6"
#define OID_TRANSACTION_ID  "2.16.840.1.113733.1.9.7"

const char *
scep_reply_cipher(const struct scep_msg *req)
{
	static const char *const known[] = { "aes-128-cbc", "aes-256-cbc", "des-ede3-cbc", "des-cbc" };
	size_t i;

	for (i = 0; req != NULL && i < sizeof(known) / sizeof(known[0]); i++) {
		if (strcmp(req->cipher, known[i]) == 0)
			return known[i];
	}
	return "aes-256-cbc";
}

/* The requester's certificate: the one scep_msg_parse decoded (a reference of our own), else
 * decoded from req->signer_cert. NULL when neither is there. */
static X509 *
requester_cert(const struct scep_msg *req)
{
	const uint8_t *p = req->signer_cert.data;

	if (req->signer != NULL)
		return X509_up_ref(req->signer) == 1 ? req->signer : NULL;
	return p != NULL ? d2i_X509(NULL, &p, (long)req->signer_cert.len) : NULL;
}

/* pkcsPKIEnvelope (RFC 8894 §3.2.2) of data for the requester's certificate. */
static int
envelope(const struct scep_msg *req, const char *cipher_name, const struct buf *data, struct buf *out)
{
	OSSL_LIB_CTX *ctx = NULL;
	EVP_CIPHER *cipher = NULL;
	STACK_OF(X509) *recips = NULL;
	CMS_ContentInfo *env = NULL;
	X509 *cert = NULL;
	BIO *in = NULL;
	uint8_t *der = NULL;
	int rc = HSMCA_E_INTERNAL, n;

	if (strcmp(cipher_name, "des-cbc") == 0) {
		/* Single DES lives in the legacy provider, in its own context (libctx.h). */
		if ((ctx = legacy_libctx()) == NULL) {
			rc = err_set(HSMCA_E_INTERNAL, "OpenSSL's legacy provider (single DES) is not available");
			goto out;
		}
	}
	if ((cert = requester_cert(req)) == NULL) {
		rc = err_set(HSMCA_E_INVALID, "CertRep: the requester certificate is not DER");
		goto out;
	}
	if ((cipher = EVP_CIPHER_fetch(ctx, cipher_name, NULL)) == NULL) {
		rc = err_set(HSMCA_E_INTERNAL, "CertRep: cipher %s unavailable", cipher_name);
		goto out;
	}
	if ((recips = sk_X509_new_null()) == NULL || !sk_X509_push(recips, cert) ||
	    (in = BIO_new_mem_buf(data->data, (int)data->len)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	/* Key transport with issuerAndSerialNumber (the default): what Go's pkcs7 and OpenSSL's
	 * PKCS7_decrypt (micromdm, certmonger) look for. */
	env = CMS_encrypt_ex(recips, in, cipher, CMS_BINARY, ctx, NULL);
	if (env == NULL || (n = i2d_CMS_ContentInfo(env, &der)) <= 0) {
		rc = err_set(HSMCA_E_INVALID, "CertRep: cannot encrypt to the requester certificate");
		goto out;
	}
	rc = buf_set(out, der, (size_t)n);
out:
	OPENSSL_free(der);
	CMS_ContentInfo_free(env);
	BIO_free(in);
	sk_X509_free(recips);
	X509_free(cert);
	EVP_CIPHER_free(cipher);
	return rc;
}

/* Signs content with the CertRep attributes for status (and fail when FAILURE). */
static int
sign_reply(const struct scep_msg *req, enum scep_status status, enum scep_fail fail,
    const struct buf *content, const struct scep_signops *signer, struct buf *out)
{
	struct tok_cms_attr attrs[6];
	uint8_t nonce[SCEP_NONCE_LEN];
	char status_txt[4], fail_txt[4];
	size_t n = 0;
	int rc;

	if (req == NULL || !req->replyable || req->transaction_id[0] == '\0')
		return err_set(HSMCA_E_INVALID, "CertRep: the request has no transactionID/senderNonce to answer");
	if (signer == NULL || signer->sign == NULL)
		return err_set(HSMCA_E_INVALID, "CertRep: no signer");
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return err_set(HSMCA_E_INTERNAL, "RAND_bytes failed");
	snprintf(status_txt, sizeof(status_txt), "%d", scep_status_wire(status));
	snprintf(fail_txt, sizeof(fail_txt), "%d", (int)fail);
	attrs[n++] = (struct tok_cms_attr){ OID_MESSAGE_TYPE, V_ASN1_PRINTABLESTRING, (const uint8_t *)"3", 1 };
	attrs[n++] = (struct tok_cms_attr){ OID_PKI_STATUS, V_ASN1_PRINTABLESTRING,
	    (const uint8_t *)status_txt, strlen(status_txt) };
	if (status == SCEP_STATUS_FAILURE)
		attrs[n++] = (struct tok_cms_attr){ OID_FAIL_INFO, V_ASN1_PRINTABLESTRING,
		    (const uint8_t *)fail_txt, strlen(fail_txt) };
	attrs[n++] = (struct tok_cms_attr){ OID_TRANSACTION_ID, V_ASN1_PRINTABLESTRING,
	    (const uint8_t *)req->transaction_id, strlen(req->transaction_id) };
	attrs[n++] = (struct tok_cms_attr){ OID_SENDER_NONCE, V_ASN1_OCTET_STRING, nonce, sizeof(nonce) };
	attrs[n++] = (struct tok_cms_attr){ OID_RECIPIENT_NONCE, V_ASN1_OCTET_STRING,
	    req->sender_nonce, SCEP_NONCE_LEN };
	rc = signer->sign(signer->arg, content != NULL ? content->data : NULL,
	    content != NULL ? content->len : 0, attrs, n,
	    req->digest[0] != '\0' ? req->digest : "sha256", out);
	if (rc != 0)
		buf_free(out);
	return rc;
}

int
scep_reply_success(const struct scep_msg *req, const struct buf *certs, size_t n_certs,
    const struct buf *crl_der, const struct scep_signops *signer, struct buf *out)
{
	struct buf degenerate = { 0 }, env = { 0 };
	int rc;

	buf_free(out);
	if (req == NULL || req->signer_cert.data == NULL)
		return err_set(HSMCA_E_INVALID, "CertRep SUCCESS: the request was not fully parsed");
	if ((rc = scep_certs_only(certs, n_certs, crl_der, &degenerate)) != 0)
		goto out;
	if ((rc = envelope(req, scep_reply_cipher(req), &degenerate, &env)) != 0)
		goto out;
	rc = sign_reply(req, SCEP_STATUS_SUCCESS, SCEP_FAIL_BADREQUEST, &env, signer, out);
out:
	if (rc != 0)
		err_drain_openssl();
	buf_free(&env);
	buf_free(&degenerate);
	return rc;
}

int
scep_reply_failure(const struct scep_msg *req, enum scep_fail fail,
    const struct scep_signops *signer, struct buf *out)
{
	buf_free(out);
	if ((unsigned)fail >= SCEP_FAIL__MAX)
		return err_set(HSMCA_E_INVALID, "CertRep: failInfo %d out of range", (int)fail);
	return sign_reply(req, SCEP_STATUS_FAILURE, fail, NULL, signer, out);
}

int
scep_reply_pending(const struct scep_msg *req, const struct scep_signops *signer, struct buf *out)
{
	buf_free(out);
	return sign_reply(req, SCEP_STATUS_PENDING, SCEP_FAIL_BADREQUEST, NULL, signer, out);
}
