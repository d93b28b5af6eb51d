/*
 * tok_sign.c: signing with token keys: certificates, CRLs, raw data, CSRs.
 *
 * The caller sends the TBS structure; this file parses it (a TBS that does not parse as a
 * certificate or CRL is refused: the signer signs only what it understands, STYLE.md §6), sets
 * the signature AlgorithmIdentifier that fits the key, and signs through libp11's EVP_PKEY.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "tok_internal.h"

/* Upper bound on a TBS we accept: a 1M-entry TBSCertList is tens of MB. */
#define TOK_TBS_MAX (256u * 1024 * 1024)

/* Header length of a DER SEQUENCE with content length len. */
static size_t
der_seq_header(size_t len, unsigned char hdr[6])
{
	size_t n = 0, i;

	hdr[n++] = 0x30;
	if (len < 0x80) {
		hdr[n++] = (unsigned char)len;
		return n;
	}
	for (i = 4; i > 0; i--)
		if (len >> ((i - 1) * 8))
			break;
	hdr[n++] = (unsigned char)(0x80 | i);
	for (; i > 0; i--)
		hdr[n++] = (unsigned char)(len >> ((i - 1) * 8));
	return n;
}

/* Checks that tbs is exactly one DER SEQUENCE (no trailing bytes), then wraps it as
 * SEQUENCE { tbs, placeholder AlgorithmIdentifier, empty BIT STRING } so OpenSSL can parse the
 * whole as a signed structure and re-sign it. */
static int
tok_wrap_tbs(const uint8_t *tbs, size_t tbs_len, struct buf *out)
{
	/* sha256WithRSAEncryption, NULL; and BIT STRING with zero unused bits, no content. */
	static const unsigned char tail[] = {
		0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00,
		0x03, 0x01, 0x00,
	};
	const unsigned char *p = tbs;
	long len;
	int tag, cls, inf;
	unsigned char hdr[6];
	size_t h;

	out->data = NULL;
	out->len = 0;
	if (tbs_len == 0 || tbs_len > TOK_TBS_MAX)
		return err_set(HSMCA_E_INVALID, "TBS structure is empty or too large");
	inf = ASN1_get_object(&p, &len, &tag, &cls, (long)tbs_len);
	if ((inf & 0x80) || inf != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE || cls != V_ASN1_UNIVERSAL ||
	    (size_t)(p - tbs) + (size_t)len != tbs_len) {
		ERR_clear_error();
		return err_set(HSMCA_E_INVALID, "TBS structure is not one DER SEQUENCE");
	}
	h = der_seq_header(tbs_len + sizeof(tail), hdr);
	out->data = malloc(h + tbs_len + sizeof(tail) + 1);
	if (out->data == NULL)
		return HSMCA_E_NOMEM;
	memcpy(out->data, hdr, h);
	memcpy(out->data + h, tbs, tbs_len);
	memcpy(out->data + h + tbs_len, tail, sizeof(tail));
	out->len = h + tbs_len + sizeof(tail);
	return 0;
}

/* A signing context for the token key: RSA PKCS#1 v1.5 or ECDSA, with the key's digest. */
static int
tok_sign_ctx(struct tok *tok, const char *keyref, EVP_MD_CTX **mctx)
{
	EVP_PKEY *pkey = NULL;
	int rc;

	*mctx = NULL;
	rc = tok_pkey_get(tok, keyref, &pkey);
	if (rc != 0)
		return rc;
	*mctx = EVP_MD_CTX_new();
	if (*mctx == NULL || EVP_DigestSignInit(*mctx, NULL, tok_digest_for(pkey), NULL, pkey) != 1) {
		EVP_MD_CTX_free(*mctx);
		*mctx = NULL;
		rc = err_set(HSMCA_E_TOKEN, "cannot start signing with %s", keyref);
		err_drain_openssl();
	}
	EVP_PKEY_free(pkey);
	return rc;
}

int
tok_sign_certificate(struct tok *tok, const char *keyref, const uint8_t *tbs, size_t tbs_len, struct buf *cert_der)
{
	struct buf wrapped = { 0 };
	EVP_MD_CTX *mctx = NULL;
	const unsigned char *p;
	unsigned char *der = NULL;
	X509 *x = NULL;
	int len, rc;

	cert_der->data = NULL;
	cert_der->len = 0;
	rc = tok_wrap_tbs(tbs, tbs_len, &wrapped);
	if (rc != 0)
		goto out;
	p = wrapped.data;
	x = d2i_X509(NULL, &p, (long)wrapped.len);
	if (x == NULL || p != wrapped.data + wrapped.len) {
		rc = err_set(HSMCA_E_INVALID, "TBS does not parse as a certificate");
		goto out;
	}
	rc = tok_sign_ctx(tok, keyref, &mctx);
	if (rc != 0)
		goto out;
	if (X509_sign_ctx(x, mctx) <= 0) {
		rc = err_set(HSMCA_E_TOKEN, "token signature failed for %s", keyref);
		goto out;
	}
	len = i2d_X509(x, &der);
	rc = len > 0 ? buf_set(cert_der, der, (size_t)len) : HSMCA_E_INTERNAL;
out:
	if (rc != 0)
		err_drain_openssl();
	OPENSSL_free(der);
	X509_free(x);
	EVP_MD_CTX_free(mctx);
	buf_free(&wrapped);
	return rc;
}

int
tok_sign_crl(struct tok *tok, const char *keyref, const uint8_t *tbs, size_t tbs_len, struct buf *crl_der)
{
	struct buf wrapped = { 0 };
	EVP_MD_CTX *mctx = NULL;
	const unsigned char *p;
	unsigned char *der = NULL;
	X509_CRL *crl = NULL;
	int len, rc;

	crl_der->data = NULL;
	crl_der->len = 0;
	rc = tok_wrap_tbs(tbs, tbs_len, &wrapped);
	if (rc != 0)
		goto out;
	p = wrapped.data;
	crl = d2i_X509_CRL(NULL, &p, (long)wrapped.len);
	if (crl == NULL || p != wrapped.data + wrapped.len) {
		rc = err_set(HSMCA_E_INVALID, "TBS does not parse as a CRL");
		goto out;
	}
	rc = tok_sign_ctx(tok, keyref, &mctx);
	if (rc != 0)
		goto out;
	if (X509_CRL_sign_ctx(crl, mctx) <= 0) {
		rc = err_set(HSMCA_E_TOKEN, "token signature failed for %s", keyref);
		goto out;
	}
	len = i2d_X509_CRL(crl, &der);
	rc = len > 0 ? buf_set(crl_der, der, (size_t)len) : HSMCA_E_INTERNAL;
out:
	if (rc != 0)
		err_drain_openssl();
	OPENSSL_free(der);
	X509_CRL_free(crl);
	EVP_MD_CTX_free(mctx);
	buf_free(&wrapped);
	return rc;
}

int
tok_sign_data(struct tok *tok, const char *keyref, const uint8_t *data, size_t data_len, struct buf *sig,
    struct buf *sigalg_der)
{
	EVP_MD_CTX *mctx = NULL;
	X509_ALGOR *alg = NULL;
	unsigned char *s = NULL, *der = NULL;
	size_t s_len = 0;
	int len, rc;

	sig->data = sigalg_der->data = NULL;
	sig->len = sigalg_der->len = 0;
	rc = tok_sign_ctx(tok, keyref, &mctx);
	if (rc != 0)
		return rc;
	rc = HSMCA_E_TOKEN;
	if (EVP_DigestSign(mctx, NULL, &s_len, data, data_len) != 1 || (s = OPENSSL_malloc(s_len)) == NULL ||
	    EVP_DigestSign(mctx, s, &s_len, data, data_len) != 1) {
		err_set(rc, "token signature failed for %s", keyref);
		goto out;
	}
	/* The AlgorithmIdentifier OpenSSL would write for this key and digest. */
	alg = X509_ALGOR_new();
	if (alg == NULL)
		goto out;
	{
		EVP_PKEY_CTX *pctx = EVP_MD_CTX_get_pkey_ctx(mctx);
		EVP_PKEY *pkey = EVP_PKEY_CTX_get0_pkey(pctx);
		int md_nid = EVP_MD_get_type(EVP_MD_CTX_get0_md(mctx)), sig_nid;

		if (!OBJ_find_sigid_by_algs(&sig_nid, md_nid, EVP_PKEY_get_base_id(pkey)) ||
		    !X509_ALGOR_set0(alg, OBJ_nid2obj(sig_nid),
		        EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA ? V_ASN1_NULL : V_ASN1_UNDEF, NULL))
			goto out;
	}
	len = i2d_X509_ALGOR(alg, &der);
	if (len <= 0)
		goto out;
	if ((rc = buf_set(sig, s, s_len)) != 0 || (rc = buf_set(sigalg_der, der, (size_t)len)) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		err_drain_openssl();
		buf_free(sig);
		buf_free(sigalg_der);
	}
	OPENSSL_free(der);
	X509_ALGOR_free(alg);
	OPENSSL_free(s);
	EVP_MD_CTX_free(mctx);
	return rc;
}

/* "CN=a,O=b" or "/CN=a/O=b" into an X509_NAME (UTF-8). */
static int
tok_parse_subject(const char *subject, X509_NAME **out)
{
	char copy[1024], *p, *field, *save = NULL, *eq;
	const char *sep = ",";
	X509_NAME *name = NULL;

	*out = NULL;
	if (subject == NULL || *subject == '\0' || strlen(subject) >= sizeof(copy))
		return err_set(HSMCA_E_INVALID, "subject must be 1 to 1023 characters like 'CN=name,O=org'");
	memcpy(copy, subject, strlen(subject) + 1);
	p = copy;
	if (*p == '/') {
		sep = "/";
		p++;
	}
	name = X509_NAME_new();
	if (name == NULL)
		return HSMCA_E_NOMEM;
	for (field = strtok_r(p, sep, &save); field != NULL; field = strtok_r(NULL, sep, &save)) {
		while (*field == ' ')
			field++;
		eq = strchr(field, '=');
		if (eq == NULL || eq == field || eq[1] == '\0')
			goto bad;
		*eq = '\0';
		if (!X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, (unsigned char *)eq + 1, -1, -1, 0))
			goto bad;
	}
	if (X509_NAME_entry_count(name) == 0)
		goto bad;
	*out = name;
	return 0;
bad:
	ERR_clear_error();
	X509_NAME_free(name);
	return err_set(HSMCA_E_INVALID, "subject '%s' is not like 'CN=name,O=org'", subject);
}

/* "DNS:x", "IP:y", "email:z", "URI:u" joined for OpenSSL's subjectAltName syntax, each checked. */
static int
tok_san_ext(const char *const *sans, size_t n_sans, X509_EXTENSION **ext)
{
	char joined[8192];
	size_t used = 0, i, l;

	*ext = NULL;
	for (i = 0; i < n_sans; i++) {
		const char *v = sans[i];

		if (strncmp(v, "DNS:", 4) != 0 && strncmp(v, "IP:", 3) != 0 && strncmp(v, "email:", 6) != 0 &&
		    strncmp(v, "URI:", 4) != 0)
			return err_set(HSMCA_E_INVALID, "SAN '%s' must start with DNS:, IP:, email: or URI:", v);
		l = strlen(v);
		if (strchr(v, ',') != NULL || used + l + 2 > sizeof(joined))
			return err_set(HSMCA_E_INVALID, "SAN '%s' is malformed or the list is too long", v);
		if (used)
			joined[used++] = ',';
		memcpy(joined + used, v, l + 1);
		used += l;
	}
	*ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name, joined);
	if (*ext == NULL) {
		ERR_clear_error();
		return err_set(HSMCA_E_INVALID, "SAN list '%s' is not valid", joined);
	}
	return 0;
}

int
tok_make_csr(struct tok *tok, const char *keyref, const char *subject, const char *const *sans, size_t n_sans,
    struct buf *csr_der)
{
	unsigned char id[TOK_URI_ID_MAX], *der = NULL;
	size_t id_len;
	EVP_PKEY *pub = NULL;
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	X509_EXTENSION *ext = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	EVP_MD_CTX *mctx = NULL;
	int len, rc;

	csr_der->data = NULL;
	csr_der->len = 0;
	if ((rc = tok_parse_subject(subject, &name)) != 0)
		goto out;
	if (n_sans > 0 && (rc = tok_san_ext(sans, n_sans, &ext)) != 0)
		goto out;
	if ((rc = tok_keyref_id(tok, keyref, id, &id_len)) != 0 || (rc = tok_public_pkey(tok, id, id_len, &pub)) != 0)
		goto out;
	rc = HSMCA_E_INTERNAL;
	req = X509_REQ_new();
	if (req == NULL || !X509_REQ_set_version(req, 0) || !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, pub))
		goto out;
	if (ext != NULL) {
		exts = sk_X509_EXTENSION_new_null();
		if (exts == NULL || !sk_X509_EXTENSION_push(exts, ext))
			goto out;
		ext = NULL;
		if (!X509_REQ_add_extensions(req, exts))
			goto out;
	}
	if ((rc = tok_sign_ctx(tok, keyref, &mctx)) != 0)
		goto out;
	rc = HSMCA_E_TOKEN;
	if (X509_REQ_sign_ctx(req, mctx) <= 0) {
		err_set(rc, "token signature failed for %s", keyref);
		goto out;
	}
	len = i2d_X509_REQ(req, &der);
	rc = len > 0 ? buf_set(csr_der, der, (size_t)len) : HSMCA_E_INTERNAL;
out:
	if (rc != 0)
		err_drain_openssl();
	OPENSSL_free(der);
	EVP_MD_CTX_free(mctx);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_EXTENSION_free(ext);
	X509_REQ_free(req);
	X509_NAME_free(name);
	EVP_PKEY_free(pub);
	return rc;
}
