/*
 * tok_cms.c: token-backed CMS signing and envelope decryption (see tok_cms.h).
 *
 * May call: tok_pkey_get() (tok_internal.h) for an EVP_PKEY backed by the token key,
 * tok_cert_get() for the shared decoded certificates (RA, CA chain: decoded once, not per call),
 * and OpenSSL's CMS code around it. Must never: let that EVP_PKEY or anything derived from the key
 * leave this file, or decrypt an envelope for a certificate that is not the key's own (phase 2's
 * signer enforces exactly this, DESIGN.md §"The key boundary").
 *
 * Single DES: OpenSSL 3 keeps it in the legacy provider. Rather than loading that provider into
 * the default library context (which would make DES, RC4, MD4 ... available to every other
 * OpenSSL user in the process), we build one private context with "default" + "legacy" and use it
 * only for parsing and decrypting SCEP envelopes: CMS_ContentInfo_new_ex(ctx) before
 * d2i_CMS_ContentInfo makes CMS fetch the content cipher from that context. The token key itself
 * is a libp11 (legacy-method) key, which OpenSSL drives the same way in any context.
 */
#include <pthread.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "err.h"
#include "tok_cms.h"
#include "libctx.h"
#include "tok_internal.h"

/* The envelope context, or NULL when the legacy provider is missing (then DES fails, the rest
 * still works in the default context). */
static OSSL_LIB_CTX *
envelope_ctx(void)
{
	return legacy_libctx();
}

/* The shared decoded X509 of der (tok_certs.c), or NULL when it is not one DER certificate. */
static X509 *
cert_from_der(const struct buf *der)
{
	return der != NULL ? tok_cert_get(der->data, der->len, TOK_CMS_MAX_CONTENT) : NULL;
}

/* The token key of keyref, checked to be the key of cert. */
static int
key_for_cert(struct tok *tok, const char *keyref, X509 *cert, EVP_PKEY **out)
{
	EVP_PKEY *pkey = NULL;
	int rc;

	*out = NULL;
	if ((rc = tok_pkey_get(tok, keyref, &pkey)) != 0)
		return rc;
	if (EVP_PKEY_eq(X509_get0_pubkey(cert), pkey) != 1) {
		EVP_PKEY_free(pkey);
		return err_set(HSMCA_E_INVALID, "the certificate is not the one of token key %s", keyref);
	}
	*out = pkey;
	return 0;
}

static const EVP_MD *
digest_by_name(const char *digest)
{
	static const char *const allowed[] = { "sha1", "sha256", "sha384", "sha512" };
	size_t i;

	for (i = 0; digest != NULL && i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (strcmp(digest, allowed[i]) == 0)
			return EVP_get_digestbyname(digest);
	}
	return NULL;
}

int
tok_sign_cms(struct tok *tok, const char *keyref, const struct buf *signer_cert_der,
    const struct buf *extra_certs, size_t n_extra, const uint8_t *content, size_t content_len,
    const struct tok_cms_attr *attrs, size_t n_attrs, const char *digest, struct buf *cms_der)
{
	const unsigned int flags = CMS_BINARY | CMS_PARTIAL | CMS_NOSMIMECAP;
	X509 *signer = NULL, *x = NULL;
	STACK_OF(X509) *extra = NULL;
	EVP_PKEY *pkey = NULL;
	CMS_ContentInfo *cms = NULL;
	CMS_SignerInfo *si;
	ASN1_OBJECT *obj = NULL;
	BIO *in = NULL;
	const EVP_MD *md;
	uint8_t *der = NULL;
	int rc = HSMCA_E_INTERNAL, n;
	size_t i;

	buf_free(cms_der);
	if (n_extra > TOK_CMS_MAX_CERTS || n_attrs > TOK_CMS_MAX_ATTRS || content_len > TOK_CMS_MAX_CONTENT) {
		rc = err_set(HSMCA_E_INVALID, "tok_sign_cms: too many certificates or attributes, or content too large");
		goto out;
	}
	if ((md = digest_by_name(digest)) == NULL) {
		rc = err_set(HSMCA_E_INVALID, "tok_sign_cms: digest %s is not allowed", digest ? digest : "(none)");
		goto out;
	}
	if ((signer = cert_from_der(signer_cert_der)) == NULL) {
		rc = err_set(HSMCA_E_INVALID, "tok_sign_cms: the signer certificate is not DER");
		goto out;
	}
	if ((extra = sk_X509_new_null()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n_extra; i++) {
		if ((x = cert_from_der(&extra_certs[i])) == NULL) {
			rc = err_set(HSMCA_E_INVALID, "tok_sign_cms: extra certificate %zu is not DER", i);
			goto out;
		}
		if (!sk_X509_push(extra, x)) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		x = NULL;
	}
	if ((rc = key_for_cert(tok, keyref, signer, &pkey)) != 0)
		goto out;
	rc = HSMCA_E_TOKEN;
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (cms == NULL) {
		err_set(rc, "CMS_sign failed");
		goto out;
	}
	si = CMS_add1_signer(cms, signer, pkey, md, flags);
	if (si == NULL) {
		err_set(rc, "CMS_add1_signer failed for %s", keyref);
		goto out;
	}
	/* The chain after the signer certificate (DER sorts the SET OF, so the order on the wire
	 * is the encoding's, not ours). */
	for (i = 0; i < (size_t)sk_X509_num(extra); i++) {
		if (!CMS_add1_cert(cms, sk_X509_value(extra, (int)i))) {
			err_set(rc, "CMS_add1_cert failed");
			goto out;
		}
	}
	for (i = 0; i < n_attrs; i++) {
		obj = OBJ_txt2obj(attrs[i].oid, 1);
		if (obj == NULL || attrs[i].len > TOK_CMS_MAX_CONTENT ||
		    !CMS_signed_add1_attr_by_OBJ(si, obj, attrs[i].type, attrs[i].data, (int)attrs[i].len)) {
			rc = err_set(HSMCA_E_INVALID, "tok_sign_cms: cannot add attribute %s", attrs[i].oid);
			goto out;
		}
		ASN1_OBJECT_free(obj);
		obj = NULL;
	}
	/* BIO_new_mem_buf refuses NULL; an empty content is still embedded (see tok_cms.h). */
	in = BIO_new_mem_buf(content_len > 0 ? (const void *)content : (const void *)"", (int)content_len);
	if (in == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	/* The signature itself happens here, through the token key. */
	if (CMS_final(cms, in, NULL, CMS_BINARY) != 1) {
		err_set(rc, "CMS_final (token signature) failed for %s", keyref);
		goto out;
	}
	n = i2d_CMS_ContentInfo(cms, &der);
	if (n <= 0) {
		err_set(rc, "i2d_CMS_ContentInfo failed");
		goto out;
	}
	if ((rc = buf_set(cms_der, der, (size_t)n)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		err_drain_openssl();
	if (rc == HSMCA_E_TOKEN)
		rc = tok_pkey_failed(tok, keyref, rc);
	OPENSSL_free(der);
	BIO_free(in);
	ASN1_OBJECT_free(obj);
	CMS_ContentInfo_free(cms);
	EVP_PKEY_free(pkey);
	X509_free(x);
	sk_X509_pop_free(extra, X509_free);
	X509_free(signer);
	return rc;
}

int
tok_decrypt_cms(struct tok *tok, const char *keyref, const struct buf *recipient_cert_der,
    const uint8_t *env_der, size_t env_len, struct buf *content)
{
	X509 *cert = NULL;
	EVP_PKEY *pkey = NULL;
	CMS_ContentInfo *cms = NULL;
	BIO *out = NULL;
	const uint8_t *p = env_der;
	char *data;
	long n;
	int rc = HSMCA_E_INTERNAL;

	buf_free(content);
	if (env_der == NULL || env_len == 0 || env_len > TOK_CMS_MAX_CONTENT) {
		rc = err_set(HSMCA_E_INVALID, "tok_decrypt_cms: envelope size out of range");
		goto out;
	}
	if ((cert = cert_from_der(recipient_cert_der)) == NULL) {
		rc = err_set(HSMCA_E_INVALID, "tok_decrypt_cms: the recipient certificate is not DER");
		goto out;
	}
	cms = CMS_ContentInfo_new_ex(envelope_ctx(), NULL);
	if (cms == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if (d2i_CMS_ContentInfo(&cms, &p, (long)env_len) == NULL || p != env_der + env_len ||
	    OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_enveloped) {
		rc = err_set(HSMCA_E_INVALID, "tok_decrypt_cms: not a DER EnvelopedData");
		goto out;
	}
	if ((rc = key_for_cert(tok, keyref, cert, &pkey)) != 0)
		goto out;
	if ((out = BIO_new(BIO_s_mem())) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	/* With cert given, CMS_decrypt only tries the RecipientInfo addressed to it, and fails
	 * rather than answering with a random key when it does not decrypt. */
	if (CMS_decrypt(cms, pkey, cert, NULL, out, CMS_BINARY) != 1) {
		rc = err_set(HSMCA_E_INVALID, "tok_decrypt_cms: the envelope does not decrypt with %s", keyref);
		/* The client's fault, unless the key itself has gone from the token. */
		err_drain_openssl();
		rc = tok_pkey_failed(tok, keyref, rc);
		goto out;
	}
	n = BIO_get_mem_data(out, &data);
	if (n <= 0 || n > TOK_CMS_MAX_CONTENT) {
		rc = err_set(HSMCA_E_INVALID, "tok_decrypt_cms: decrypted content size out of range");
		goto out;
	}
	if ((rc = buf_set(content, data, (size_t)n)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		err_drain_openssl();
	else
		ERR_clear_error();
	/* The mem BIO held the plaintext: wipe it before freeing. */
	if (out != NULL && (n = BIO_get_mem_data(out, &data)) > 0)
		OPENSSL_cleanse(data, (size_t)n);
	BIO_free(out);
	CMS_ContentInfo_free(cms);
	EVP_PKEY_free(pkey);
	X509_free(cert);
	return rc;
}

int
tok_cms_decrypt_cb(void *arg, const uint8_t *env_der, size_t env_len, struct buf *content)
{
	const struct tok_cms_key *k = arg;

	return tok_decrypt_cms(k->tok, k->keyref, k->cert, env_der, env_len, content);
}

int
tok_cms_sign_cb(void *arg, const uint8_t *content, size_t content_len,
    const struct tok_cms_attr *attrs, size_t n_attrs, const char *digest, struct buf *cms_der)
{
	const struct tok_cms_key *k = arg;

	return tok_sign_cms(k->tok, k->keyref, k->cert, k->extra_certs, k->n_extra, content,
	    content_len, attrs, n_attrs, digest, cms_der);
}
