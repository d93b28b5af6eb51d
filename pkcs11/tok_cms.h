/*
 * tok_cms.h: CMS operations with a token key (DESIGN.md "The key boundary": sign_cms,
 * decrypt_cms). Blobs in, blobs out, like tok.h: DER certificates and CMS in, DER out; the
 * private key is named by its keyref and never leaves pkcs11/.
 *
 * Used by SCEP: the RA (or CA) key opens pkcsPKIEnvelopes and signs CertReps. The two
 * tok_cms_*_cb adapters have the shapes of scep_msg.h's struct scep_keyops and scep_reply.h's
 * struct scep_signops, so the SCEP glue only fills a struct tok_cms_key.
 *
 * Thread safety: as tok.h. Errors: 0 or a negative HSMCA_E_* with an err_set() detail.
 * Ownership: struct buf out-parameters are cleared on entry and owned by the caller on success.
 */
#ifndef HSMCA_TOK_CMS_H
#define HSMCA_TOK_CMS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "tok.h"

/* Largest content tok_decrypt_cms returns, and largest content tok_sign_cms signs. */
#define TOK_CMS_MAX_CONTENT (1024 * 1024)
/* Most signed attributes / extra certificates one call takes. */
#define TOK_CMS_MAX_ATTRS   16
#define TOK_CMS_MAX_CERTS   16

/* One signed attribute with a single value: dotted OID, ASN.1 universal type (V_ASN1_* from
 * <openssl/asn1.h>: PRINTABLESTRING, OCTET_STRING, UTF8STRING, IA5STRING) and its bytes. */
struct tok_cms_attr {
	const char *oid;
	int type;
	const uint8_t *data;
	size_t len;
};

/*
 * CMS SignedData over content (content_len may be 0: an empty eContent is still embedded, so
 * OpenSSL's PKCS7_verify, which certmonger uses, finds content to verify), eContentType id-data,
 * one SignerInfo with issuerAndSerialNumber, signed attributes contentType, messageDigest,
 * signingTime plus attrs, digest "sha1", "sha256", "sha384" or "sha512". certificates holds
 * signer_cert_der then extra_certs[0..n_extra). The key must be the one of signer_cert_der
 * (HSMCA_E_INVALID otherwise). Returns the ContentInfo DER.
 */
int tok_sign_cms(struct tok *tok, const char *keyref, const struct buf *signer_cert_der,
    const struct buf *extra_certs, size_t n_extra, const uint8_t *content, size_t content_len,
    const struct tok_cms_attr *attrs, size_t n_attrs, const char *digest, struct buf *cms_der);

/*
 * Opens a DER ContentInfo(EnvelopedData) addressed to recipient_cert_der (key transport, RSA
 * PKCS#1 v1.5) with the token key keyref, which must be that certificate's key. Content
 * encryption AES-128/256-CBC, 3DES or single DES: DES comes from OpenSSL's legacy provider,
 * loaded once into a private library context used only here (the process's default context
 * never gets it). HSMCA_E_INVALID for an envelope that is malformed, not addressed to the
 * certificate, or does not decrypt.
 */
int tok_decrypt_cms(struct tok *tok, const char *keyref, const struct buf *recipient_cert_der,
    const uint8_t *env_der, size_t env_len, struct buf *content);

/* Adapters: arg is a struct tok_cms_key (borrowed for the call). */
struct tok_cms_key {
	struct tok *tok;
	const char *keyref;
	const struct buf *cert;          /* the key's certificate (RA or CA) */
	const struct buf *extra_certs;   /* sign only: added to certificates; may be NULL */
	size_t n_extra;
};

/* scep_keyops.decrypt shape: tok_decrypt_cms(k->tok, k->keyref, k->cert, ...). */
int tok_cms_decrypt_cb(void *arg, const uint8_t *env_der, size_t env_len, struct buf *content);

/* scep_signops.sign shape: tok_sign_cms(k->tok, k->keyref, k->cert, k->extra_certs, ...). */
int tok_cms_sign_cb(void *arg, const uint8_t *content, size_t content_len,
    const struct tok_cms_attr *attrs, size_t n_attrs, const char *digest, struct buf *cms_der);

#endif
