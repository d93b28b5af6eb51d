/*
 * tok_sign.c: signatures with token keys: TBSCertificate, TBSCertList and raw data.
 *
 * May call: tok_pkey_get_spec() for the libp11 EVP_PKEY, OpenSSL's X.509 code around it. The
 * key never leaves the token; only digests go in and signatures come out.
 *
 * A TBS is signed by wrapping it as Certificate/CertificateList { tbs, placeholder
 * AlgorithmIdentifier, empty BIT STRING } and parsing that with d2i: OpenSSL validates the TBS
 * for us, and X509_sign_ctx / X509_CRL_sign_ctx then write the AlgorithmIdentifier that fits the
 * key into both places (the TBS's signature field and the outer one, RFC 5280 4.1.1.2 wants them
 * equal), re-encode the TBS and sign it through libp11. libp11's ECDSA path returns the DER
 * ECDSA-Sig-Value X.509 needs (checked: every signature starts with 0x30 and verifies).
 */
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include "err.h"
#include "tok_internal.h"

/* Largest TBS accepted: a TBSCertList with a million entries is some tens of MB. */
#define TOK_TBS_MAX (256L * 1024 * 1024)

/* sha256WithRSAEncryption, NULL: only a placeholder, replaced when signing. */
static const uint8_t placeholder_alg[] = {
	0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
};
static const uint8_t empty_bits[] = { 0x03, 0x01, 0x00 };

const EVP_MD *
tok_digest_for(enum tok_key_spec spec)
{
	return spec == TOK_KEY_EC_384 ? EVP_sha384() : EVP_sha256();
}

static int
sig_nid(enum tok_key_spec spec)
{
	switch (spec) {
	case TOK_KEY_EC_256: return NID_ecdsa_with_SHA256;
	case TOK_KEY_EC_384: return NID_ecdsa_with_SHA384;
	default: return NID_sha256WithRSAEncryption;
	}
}

/* AlgorithmIdentifier DER for spec: RSA with NULL parameters (RFC 4055 2.1), ECDSA without
 * (RFC 5758 3.2). */
static int
sigalg_der(enum tok_key_spec spec, struct buf *out)
{
	X509_ALGOR *alg = NULL;
	uint8_t *der = NULL;
	int nid = sig_nid(spec), len, rc = HSMCA_E_NOMEM;

	if ((alg = X509_ALGOR_new()) == NULL ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(nid), nid == NID_sha256WithRSAEncryption ? V_ASN1_NULL : V_ASN1_UNDEF, NULL) ||
	    (len = i2d_X509_ALGOR(alg, &der)) <= 0)
		goto out;
	rc = buf_set(out, der, (size_t)len);
out:
	OPENSSL_free(der);
	X509_ALGOR_free(alg);
	return rc;
}

int
tok_sigalg(struct tok *tok, const char *keyref, struct buf *out)
{
	enum tok_key_spec spec;
	int rc;

	buf_free(out);
	if ((rc = tok_key_spec_of(tok, keyref, &spec)) != 0)
		return rc;
	return sigalg_der(spec, out);
}

/* Checks that tbs is exactly one definite-length DER SEQUENCE and wraps it as
 * SEQUENCE { tbs, placeholder_alg, empty_bits }. *out is OPENSSL_malloc'd. */
static int
wrap_tbs(const char *what, const uint8_t *tbs, size_t tbs_len, uint8_t **out, size_t *out_len)
{
	const uint8_t *p = tbs;
	long body_len;
	int tag, cls, ret;
	size_t inner, hdr, i;
	uint8_t *w;

	*out = NULL;
	if (tbs == NULL || tbs_len < 2 || tbs_len > (size_t)TOK_TBS_MAX)
		return err_set(HSMCA_E_INVALID, "%s: empty or larger than %ld bytes", what, TOK_TBS_MAX);
	ret = ASN1_get_object(&p, &body_len, &tag, &cls, (long)tbs_len);
	if ((ret & 0x80) != 0 || ret != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL) {
		ERR_clear_error();
		return err_set(HSMCA_E_INVALID, "%s is not a DER SEQUENCE", what);
	}
	/* Trailing bytes after the TBS would be signed by nobody and stored by someone. */
	if ((size_t)(p - tbs) + (size_t)body_len != tbs_len)
		return err_set(HSMCA_E_INVALID, "%s: %zu bytes after the SEQUENCE", what,
		    tbs_len - ((size_t)(p - tbs) + (size_t)body_len));
	inner = tbs_len + sizeof(placeholder_alg) + sizeof(empty_bits);
	hdr = inner < 0x80 ? 2 : inner <= 0xff ? 3 : inner <= 0xffff ? 4 : inner <= 0xffffff ? 5 : 6;
	if ((w = OPENSSL_malloc(hdr + inner)) == NULL)
		return HSMCA_E_NOMEM;
	w[0] = 0x30;
	if (hdr == 2) {
		w[1] = (uint8_t)inner;
	} else {
		w[1] = (uint8_t)(0x80 | (hdr - 2));
		for (i = 0; i < hdr - 2; i++)
			w[2 + i] = (uint8_t)(inner >> (8 * (hdr - 3 - i)));
	}
	memcpy(w + hdr, tbs, tbs_len);
	memcpy(w + hdr + tbs_len, placeholder_alg, sizeof(placeholder_alg));
	memcpy(w + hdr + tbs_len + sizeof(placeholder_alg), empty_bits, sizeof(empty_bits));
	*out = w;
	*out_len = hdr + inner;
	return 0;
}

/* An EVP_MD_CTX ready to sign with the token key of keyref (PKCS#1 v1.5 for RSA). */
static int
sign_ctx(struct tok *tok, const char *keyref, EVP_MD_CTX **out, enum tok_key_spec *spec)
{
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *md = NULL;
	int rc;

	*out = NULL;
	if ((rc = tok_pkey_get_spec(tok, keyref, &pkey, spec)) != 0)
		return rc;
	if ((md = EVP_MD_CTX_new()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	/* The EVP_PKEY_CTX inside md takes its own reference to pkey. */
	if (EVP_DigestSignInit(md, NULL, tok_digest_for(*spec), NULL, pkey) != 1) {
		rc = err_set(HSMCA_E_TOKEN, "EVP_DigestSignInit failed for %s", keyref);
		err_drain_openssl();
		goto out;
	}
	*out = md;
	md = NULL;
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	return rc;
}

int
tok_sign_certificate(struct tok *tok, const char *keyref, const uint8_t *tbs, size_t tbs_len,
    struct buf *cert_der)
{
	uint8_t *wrapped = NULL, *der = NULL;
	const uint8_t *p;
	size_t wlen = 0;
	X509 *x = NULL;
	EVP_MD_CTX *md = NULL;
	enum tok_key_spec spec;
	int len, rc;

	buf_free(cert_der);
	if ((rc = wrap_tbs("TBSCertificate", tbs, tbs_len, &wrapped, &wlen)) != 0)
		goto out;
	p = wrapped;
	if ((x = d2i_X509(NULL, &p, (long)wlen)) == NULL || p != wrapped + wlen) {
		rc = err_set(HSMCA_E_INVALID, "TBSCertificate does not parse");
		err_drain_openssl();
		goto out;
	}
	if ((rc = sign_ctx(tok, keyref, &md, &spec)) != 0)
		goto out;
	if (X509_sign_ctx(x, md) <= 0) {
		rc = err_set(HSMCA_E_TOKEN, "signing the certificate with %s failed", keyref);
		err_drain_openssl();
		goto out;
	}
	if ((len = i2d_X509(x, &der)) <= 0) {
		rc = err_set(HSMCA_E_INTERNAL, "i2d_X509 failed");
		err_drain_openssl();
		goto out;
	}
	rc = buf_set(cert_der, der, (size_t)len);
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	X509_free(x);
	OPENSSL_free(wrapped);
	return rc;
}

int
tok_sign_crl(struct tok *tok, const char *keyref, const uint8_t *tbs, size_t tbs_len, struct buf *crl_der)
{
	uint8_t *wrapped = NULL, *der = NULL;
	const uint8_t *p;
	size_t wlen = 0;
	X509_CRL *crl = NULL;
	EVP_MD_CTX *md = NULL;
	enum tok_key_spec spec;
	int len, rc;

	buf_free(crl_der);
	if ((rc = wrap_tbs("TBSCertList", tbs, tbs_len, &wrapped, &wlen)) != 0)
		goto out;
	p = wrapped;
	if ((crl = d2i_X509_CRL(NULL, &p, (long)wlen)) == NULL || p != wrapped + wlen) {
		rc = err_set(HSMCA_E_INVALID, "TBSCertList does not parse");
		err_drain_openssl();
		goto out;
	}
	if ((rc = sign_ctx(tok, keyref, &md, &spec)) != 0)
		goto out;
	if (X509_CRL_sign_ctx(crl, md) <= 0) {
		rc = err_set(HSMCA_E_TOKEN, "signing the CRL with %s failed", keyref);
		err_drain_openssl();
		goto out;
	}
	if ((len = i2d_X509_CRL(crl, &der)) <= 0) {
		rc = err_set(HSMCA_E_INTERNAL, "i2d_X509_CRL failed");
		err_drain_openssl();
		goto out;
	}
	rc = buf_set(crl_der, der, (size_t)len);
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	X509_CRL_free(crl);
	OPENSSL_free(wrapped);
	return rc;
}

int
tok_sign_data(struct tok *tok, const char *keyref, const uint8_t *data, size_t data_len,
    struct buf *sig, struct buf *sigalg)
{
	EVP_MD_CTX *md = NULL;
	uint8_t *s = NULL;
	size_t slen = 0;
	enum tok_key_spec spec;
	int rc;

	buf_free(sig);
	buf_free(sigalg);
	if (data == NULL && data_len > 0)
		return err_set(HSMCA_E_INVALID, "tok_sign_data: no data");
	if ((rc = sign_ctx(tok, keyref, &md, &spec)) != 0)
		goto out;
	if (EVP_DigestSign(md, NULL, &slen, data != NULL ? data : (const uint8_t *)"", data_len) != 1 ||
	    (s = OPENSSL_malloc(slen)) == NULL ||
	    EVP_DigestSign(md, s, &slen, data != NULL ? data : (const uint8_t *)"", data_len) != 1) {
		rc = err_set(HSMCA_E_TOKEN, "signing with %s failed", keyref);
		err_drain_openssl();
		goto out;
	}
	if ((rc = buf_set(sig, s, slen)) != 0 || (rc = sigalg_der(spec, sigalg)) != 0) {
		buf_free(sig);
		goto out;
	}
	rc = 0;
out:
	OPENSSL_free(s);
	EVP_MD_CTX_free(md);
	return rc;
}
