/*
 * tok_sign.c: signatures with token keys: TBSCertificate, TBSCertList and raw data.
 *
 * May call: tok_pkey_get_spec() for the libp11 EVP_PKEY, OpenSSL's X.509 code around it. The
 * key never leaves the token; only digests go in and signatures come out.
 *
 * A TBSCertificate whose signature field already names the key's algorithm (x509_build.c writes
 * it so) is signed as it is: the TBS bytes go through EVP_DigestSign and the Certificate
 * SEQUENCE { tbs, algorithm, BIT STRING } is assembled here, without decoding the certificate
 * (d2i_X509 + X509_sign_ctx + i2d_X509 cost ~1.5 M instructions per certificate; the caller,
 * ca.c's ca_sign_der, parses and verifies the result anyway). Any other TBS, and every
 * TBSCertList, is wrapped as Certificate/CertificateList { tbs, placeholder AlgorithmIdentifier,
 * empty BIT STRING } and parsed with d2i: OpenSSL validates the TBS for us, and X509_sign_ctx /
 * X509_CRL_sign_ctx then write the AlgorithmIdentifier that fits the key into both places (the
 * TBS's signature field and the outer one, RFC 5280 4.1.1.2 wants them equal), re-encode the TBS
 * and sign it through libp11. libp11's ECDSA path returns the DER ECDSA-Sig-Value X.509 needs
 * (checked: every signature starts with 0x30 and verifies).
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

/* Bytes of a DER tag + definite length header for a body of len bytes (len < 2^32). */
static size_t
der_header_len(size_t len)
{
	return len < 0x80 ? 2 : len <= 0xff ? 3 : len <= 0xffff ? 4 : len <= 0xffffff ? 5 : 6;
}

/* Writes tag and the DER length of len at w; returns the header's size. */
static size_t
der_header(uint8_t *w, uint8_t tag, size_t len)
{
	size_t hdr = der_header_len(len), i;

	w[0] = tag;
	if (hdr == 2) {
		w[1] = (uint8_t)len;
		return hdr;
	}
	w[1] = (uint8_t)(0x80 | (hdr - 2));
	for (i = 0; i < hdr - 2; i++)
		w[2 + i] = (uint8_t)(len >> (8 * (hdr - 3 - i)));
	return hdr;
}

/* Checks that tbs is exactly one definite-length DER SEQUENCE. */
static int
tbs_check(const char *what, const uint8_t *tbs, size_t tbs_len)
{
	const uint8_t *p = tbs;
	long body_len;
	int tag, cls, ret;

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
	return 0;
}

/* tbs_check, then wraps tbs as SEQUENCE { tbs, placeholder_alg, empty_bits }. *out is
 * OPENSSL_malloc'd. */
static int
wrap_tbs(const char *what, const uint8_t *tbs, size_t tbs_len, uint8_t **out, size_t *out_len)
{
	size_t inner, hdr;
	uint8_t *w;
	int rc;

	*out = NULL;
	if ((rc = tbs_check(what, tbs, tbs_len)) != 0)
		return rc;
	inner = tbs_len + sizeof(placeholder_alg) + sizeof(empty_bits);
	if ((w = OPENSSL_malloc(der_header_len(inner) + inner)) == NULL)
		return HSMCA_E_NOMEM;
	hdr = der_header(w, 0x30, inner);
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

/*
 * The signature AlgorithmIdentifier of a tbs that passed tbs_check, when its top level has the
 * shape of a TBSCertificate (RFC 5280 4.1): optional [0] version, serial INTEGER, the algorithm
 * SEQUENCE, then at least issuer, validity, subject and subjectPublicKeyInfo, every element one
 * well-formed TLV. 0 when it has not: the caller then lets d2i_X509 judge it.
 */
static int
tbs_sigalg(const uint8_t *tbs, size_t tbs_len, const uint8_t **alg, size_t *alg_len)
{
	const uint8_t *p = tbs, *end = tbs + tbs_len, *start;
	long len;
	int tag, cls, ret, n = 0, alg_at = 1;

	*alg = NULL;
	*alg_len = 0;
	ret = ASN1_get_object(&p, &len, &tag, &cls, (long)tbs_len);
	if ((ret & 0x80) != 0)
		goto out;
	for (; p < end; n++) {
		start = p;
		ret = ASN1_get_object(&p, &len, &tag, &cls, end - p);
		if ((ret & 0x80) != 0 || len > end - p)
			goto out;
		p += len;
		if (n == 0 && cls == V_ASN1_CONTEXT_SPECIFIC && tag == 0 && ret == V_ASN1_CONSTRUCTED)
			alg_at = 2;
		else if (n == alg_at - 1 && (cls != V_ASN1_UNIVERSAL || tag != V_ASN1_INTEGER || ret != 0))
			goto out;
		if (n == alg_at) {
			if (cls != V_ASN1_UNIVERSAL || tag != V_ASN1_SEQUENCE || ret != V_ASN1_CONSTRUCTED)
				goto out;
			*alg = start;
			*alg_len = (size_t)(p - start);
		}
	}
	if (p == end && n >= alg_at + 5)
		return 1;
out:
	ERR_clear_error();
	*alg = NULL;
	*alg_len = 0;
	return 0;
}

/* EVP_DigestSign with md over data; *sig is OPENSSL_malloc'd. */
static int
digest_sign(EVP_MD_CTX *md, const char *keyref, const uint8_t *data, size_t data_len, uint8_t **sig,
    size_t *sig_len)
{
	const uint8_t *d = data != NULL ? data : (const uint8_t *)"";
	uint8_t *s = NULL;
	size_t slen = 0;

	*sig = NULL;
	if (EVP_DigestSign(md, NULL, &slen, d, data_len) != 1 || (s = OPENSSL_malloc(slen)) == NULL ||
	    EVP_DigestSign(md, s, &slen, d, data_len) != 1) {
		OPENSSL_free(s);
		err_drain_openssl();
		return err_set(HSMCA_E_TOKEN, "signing with %s failed", keyref);
	}
	*sig = s;
	*sig_len = slen;
	return 0;
}

/* Certificate ::= SEQUENCE { tbs, alg, BIT STRING signature } with tbs signed by md. */
static int
sign_assembled(EVP_MD_CTX *md, const char *keyref, const uint8_t *tbs, size_t tbs_len,
    const struct buf *alg, struct buf *cert_der)
{
	uint8_t *sig = NULL, *w = NULL;
	size_t slen = 0, bits, inner, at;
	int rc;

	if ((rc = digest_sign(md, keyref, tbs, tbs_len, &sig, &slen)) != 0)
		return rc;
	bits = 1 + slen;    /* no unused bits */
	inner = tbs_len + alg->len + der_header_len(bits) + bits;
	if ((w = OPENSSL_malloc(der_header_len(inner) + inner)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	at = der_header(w, 0x30, inner);
	memcpy(w + at, tbs, tbs_len);
	at += tbs_len;
	memcpy(w + at, alg->data, alg->len);
	at += alg->len;
	at += der_header(w + at, 0x03, bits);
	w[at++] = 0x00;
	memcpy(w + at, sig, slen);
	rc = buf_set(cert_der, w, at + slen);
out:
	OPENSSL_free(w);
	OPENSSL_free(sig);
	return rc;
}

int
tok_sign_certificate(struct tok *tok, const char *keyref, const uint8_t *tbs, size_t tbs_len,
    struct buf *cert_der)
{
	struct buf want = { 0 };
	uint8_t *wrapped = NULL, *der = NULL;
	const uint8_t *p, *alg;
	size_t wlen = 0, alg_len;
	X509 *x = NULL;
	EVP_MD_CTX *md = NULL;
	enum tok_key_spec spec;
	int len, rc;

	buf_free(cert_der);
	if ((rc = tbs_check("TBSCertificate", tbs, tbs_len)) != 0)
		goto out;
	/* The usual case: the TBS already names the key's algorithm, so its bytes are final. */
	if (tbs_sigalg(tbs, tbs_len, &alg, &alg_len)) {
		if ((rc = sign_ctx(tok, keyref, &md, &spec)) != 0 || (rc = sigalg_der(spec, &want)) != 0)
			goto out;
		if (want.len == alg_len && memcmp(want.data, alg, alg_len) == 0) {
			rc = sign_assembled(md, keyref, tbs, tbs_len, &want, cert_der);
			goto out;
		}
	}
	if ((rc = wrap_tbs("TBSCertificate", tbs, tbs_len, &wrapped, &wlen)) != 0)
		goto out;
	p = wrapped;
	if ((x = d2i_X509(NULL, &p, (long)wlen)) == NULL || p != wrapped + wlen) {
		rc = err_set(HSMCA_E_INVALID, "TBSCertificate does not parse");
		err_drain_openssl();
		goto out;
	}
	if (md == NULL && (rc = sign_ctx(tok, keyref, &md, &spec)) != 0)
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
	if (rc == HSMCA_E_TOKEN)
		rc = tok_pkey_failed(tok, keyref, rc);
	buf_free(&want);
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
	if (rc == HSMCA_E_TOKEN)
		rc = tok_pkey_failed(tok, keyref, rc);
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
	if ((rc = sign_ctx(tok, keyref, &md, &spec)) != 0 ||
	    (rc = digest_sign(md, keyref, data, data_len, &s, &slen)) != 0)
		goto out;
	if ((rc = buf_set(sig, s, slen)) != 0 || (rc = sigalg_der(spec, sigalg)) != 0) {
		buf_free(sig);
		goto out;
	}
	rc = 0;
out:
	if (rc == HSMCA_E_TOKEN)
		rc = tok_pkey_failed(tok, keyref, rc);
	OPENSSL_free(s);
	EVP_MD_CTX_free(md);
	return rc;
}
