/*
 * tok_export.c: PKCS#12 of an endpoint key that was generated exportable.
 *
 * CKA_EXTRACTABLE is read from the token first; a key without it is refused whatever the caller
 * believes. The key is rebuilt in software only for the duration of PKCS12_create and wiped.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/param_build.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "err.h"
#include "tok_internal.h"

/* The password is random (16+ characters), so the work factor is secondary; 10000 matches
 * Java keytool and keeps exports quick. */
#define TOK_PFX_ITER 10000
#define TOK_PFX_LEGACY_ITER 2048

/* OpenSSL 3.0 has no OSSL_PARAM_clear_free: wipe the values (private key material) by hand. */
static void
params_wipe_free(OSSL_PARAM *params)
{
	OSSL_PARAM *p;

	for (p = params; p != NULL && p->key != NULL; p++)
		if (p->data != NULL)
			OPENSSL_cleanse(p->data, p->data_size);
	OSSL_PARAM_free(params);
}

/* Reads the private components of an extractable key into a software EVP_PKEY. */
static int
tok_read_private(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, EVP_PKEY *pub, EVP_PKEY **out)
{
	static const struct { const char *param; CK_ATTRIBUTE_TYPE type; } rsa[] = {
		{ OSSL_PKEY_PARAM_RSA_N, CKA_MODULUS },
		{ OSSL_PKEY_PARAM_RSA_E, CKA_PUBLIC_EXPONENT },
		{ OSSL_PKEY_PARAM_RSA_D, CKA_PRIVATE_EXPONENT },
		{ OSSL_PKEY_PARAM_RSA_FACTOR1, CKA_PRIME_1 },
		{ OSSL_PKEY_PARAM_RSA_FACTOR2, CKA_PRIME_2 },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT1, CKA_EXPONENT_1 },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT2, CKA_EXPONENT_2 },
		{ OSSL_PKEY_PARAM_RSA_COEFFICIENT1, CKA_COEFFICIENT },
	};
	BIGNUM *bns[8] = { 0 };
	unsigned char *v = NULL, pubpt[256];
	size_t v_len = 0, i, pt_len = 0;
	char group[32];
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int rc = HSMCA_E_INTERNAL, is_rsa = EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA;

	*out = NULL;
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL)
		goto out;
	if (is_rsa) {
		for (i = 0; i < 8; i++) {
			if ((rc = tok_get_attr(tok, s, obj, rsa[i].type, &v, &v_len)) != 0)
				goto out;
			bns[i] = BN_bin2bn(v, (int)v_len, NULL);
			OPENSSL_clear_free(v, v_len + 1);
			v = NULL;
			rc = HSMCA_E_INTERNAL;
			if (bns[i] == NULL || !OSSL_PARAM_BLD_push_BN(bld, rsa[i].param, bns[i]))
				goto out;
		}
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		if ((rc = tok_get_attr(tok, s, obj, CKA_VALUE, &v, &v_len)) != 0)
			goto out;
		rc = HSMCA_E_INTERNAL;
		bns[0] = BN_bin2bn(v, (int)v_len, NULL);
		if (bns[0] == NULL ||
		    !EVP_PKEY_get_utf8_string_param(pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) ||
		    !EVP_PKEY_get_octet_string_param(pub, OSSL_PKEY_PARAM_PUB_KEY, pubpt, sizeof(pubpt), &pt_len) ||
		    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pubpt, pt_len) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bns[0]))
			goto out;
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (pctx == NULL || params == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_KEYPAIR, params) <= 0)
		goto out;
	rc = 0;
out:
	if (rc == HSMCA_E_INTERNAL)
		err_set(rc, "cannot rebuild the exportable key"), err_drain_openssl();
	OPENSSL_clear_free(v, v_len + 1);
	EVP_PKEY_CTX_free(pctx);
	params_wipe_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (i = 0; i < 8; i++)
		BN_clear_free(bns[i]);
	return rc;
}

static X509 *
x509_from_buf(const struct buf *b)
{
	const unsigned char *p = b->data;
	X509 *x = d2i_X509(NULL, &p, (long)b->len);

	if (x != NULL && p != b->data + b->len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int
tok_export_pkcs12(struct tok *tok, const char *keyref, const struct buf *cert_der, const struct buf *chain_der,
    size_t n_chain, const char *friendly_name, const char *password, int legacy, struct buf *pfx_der)
{
	unsigned char id[TOK_URI_ID_MAX], *der = NULL;
	size_t id_len, i;
	CK_SESSION_HANDLE s = 0;
	CK_OBJECT_HANDLE obj;
	EVP_PKEY *pub = NULL, *priv = NULL;
	X509 *cert = NULL, *c;
	STACK_OF(X509) *chain = NULL;
	PKCS12 *p12 = NULL;
	int exportable = 0, have_session = 0, len, rc;
	int key_nid, cert_nid, iter;
	const EVP_MD *mac_md;

	pfx_der->data = NULL;
	pfx_der->len = 0;
	if (password == NULL || strlen(password) < 8)
		return err_set(HSMCA_E_INVALID, "a PFX password of at least 8 characters is required");
	if ((rc = tok_keyref_id(tok, keyref, id, &id_len)) != 0)
		return rc;
	tok_session_get(tok, &s);
	have_session = 1;
	if ((rc = tok_find_object(tok, s, CKO_PRIVATE_KEY, id, id_len, &obj)) != 0 ||
	    (rc = tok_get_bool(tok, s, obj, CKA_EXTRACTABLE, &exportable)) != 0)
		goto out;
	if (!exportable) {
		rc = err_set(HSMCA_E_CONFLICT, "the key is held non-extractable in token %s", tok->label);
		goto out;
	}
	tok_session_put(tok, s);
	have_session = 0;
	if ((rc = tok_public_pkey(tok, id, id_len, &pub)) != 0)
		goto out;
	tok_session_get(tok, &s);
	have_session = 1;
	if ((rc = tok_read_private(tok, s, obj, pub, &priv)) != 0)
		goto out;
	rc = HSMCA_E_INVALID;
	cert = x509_from_buf(cert_der);
	if (cert == NULL || X509_check_private_key(cert, priv) != 1) {
		err_set(rc, "the certificate does not match the exported key");
		goto out;
	}
	rc = HSMCA_E_NOMEM;
	chain = sk_X509_new_null();
	if (chain == NULL)
		goto out;
	for (i = 0; i < n_chain; i++) {
		c = x509_from_buf(&chain_der[i]);
		if (c == NULL || !sk_X509_push(chain, c)) {
			X509_free(c);
			rc = err_set(HSMCA_E_INVALID, "a chain certificate does not parse");
			goto out;
		}
	}
	if (legacy) {
		/* Old Windows (before 2016/1709) only reads 3DES with SHA-1. */
		key_nid = cert_nid = NID_pbe_WithSHA1And3_Key_TripleDES_CBC;
		iter = TOK_PFX_LEGACY_ITER;
		mac_md = EVP_sha1();
	} else {
		key_nid = cert_nid = NID_aes_256_cbc;   /* PBES2 with PBKDF2-HMAC-SHA256 */
		iter = TOK_PFX_ITER;
		mac_md = EVP_sha256();
	}
	rc = HSMCA_E_INTERNAL;
	p12 = PKCS12_create(password, friendly_name, priv, cert, chain, key_nid, cert_nid, iter, -1, 0);
	if (p12 == NULL || !PKCS12_set_mac(p12, password, -1, NULL, 0, iter, mac_md)) {
		err_set(rc, "cannot build the PKCS#12");
		goto out;
	}
	len = i2d_PKCS12(p12, &der);
	rc = len > 0 ? buf_set(pfx_der, der, (size_t)len) : HSMCA_E_INTERNAL;
out:
	if (rc != 0)
		err_drain_openssl();
	if (have_session)
		tok_session_put(tok, s);
	OPENSSL_free(der);
	PKCS12_free(p12);
	sk_X509_pop_free(chain, X509_free);
	X509_free(cert);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(pub);
	return rc;
}
