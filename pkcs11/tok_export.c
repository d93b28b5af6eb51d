/*
 * tok_export.c: PKCS#12 export of exportable endpoint keys.
 *
 * The only file that reads private key values from the token, and only after reading
 * CKA_EXTRACTABLE from the token itself (never from the database or the keyref). The value is
 * rebuilt into a software EVP_PKEY just long enough for PKCS12_create, then freed; every
 * component buffer is wiped.
 *
 * Modern: AES-256-CBC with PBKDF2 (hmacWithSHA256) for both bags, SHA-256 MAC. Legacy (old
 * Windows, Java 8): pbeWithSHA1And3-KeyTripleDES-CBC for both bags, SHA-1 MAC.
 */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/params.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include "err.h"
#include "tok_internal.h"

#define RSA_PARTS 8
#define TOK_P12_ITER 10000
#define TOK_CHAIN_MAX 16

/* The private key object's values as a software key. Caller frees with EVP_PKEY_free. */
static int
rebuild_key(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, enum tok_key_spec spec, EVP_PKEY **out)
{
	static const CK_ATTRIBUTE_TYPE rsa_types[RSA_PARTS] = {
		CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
		CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
	};
	static const char *const rsa_names[RSA_PARTS] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	uint8_t *v = NULL, pub[160];
	size_t vlen = 0, pub_len, i;
	BIGNUM *bn[RSA_PARTS] = { NULL };
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EC_GROUP *group = NULL;
	EC_POINT *pt = NULL;
	int is_rsa = spec != TOK_KEY_EC_256 && spec != TOK_KEY_EC_384, rc;

	*out = NULL;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL)
		return HSMCA_E_NOMEM;
	for (i = 0; i < (is_rsa ? RSA_PARTS : 1); i++) {
		rc = tok_attr_get(tok, s, obj, is_rsa ? rsa_types[i] : CKA_VALUE, &v, &vlen);
		if (rc == HSMCA_E_CONFLICT)
			rc = err_set(HSMCA_E_CONFLICT, "the key is held sensitive in token %s", tok->label);
		if (rc != 0)
			goto out;
		bn[i] = BN_secure_new();
		if (bn[i] == NULL || BN_bin2bn(v, (int)vlen, bn[i]) == NULL) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		OPENSSL_clear_free(v, vlen + 1);
		v = NULL;
		if (is_rsa && !OSSL_PARAM_BLD_push_BN(bld, rsa_names[i], bn[i])) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
	}
	if (!is_rsa) {
		/* The public point from the scalar, so the PKCS#8 carries it whatever the token keeps. */
		if ((group = EC_GROUP_new_by_curve_name(spec == TOK_KEY_EC_256 ? NID_X9_62_prime256v1 : NID_secp384r1)) == NULL ||
		    (pt = EC_POINT_new(group)) == NULL || !EC_POINT_mul(group, pt, bn[0], NULL, NULL, NULL) ||
		    (pub_len = EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof(pub), NULL)) == 0 ||
		    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		    spec == TOK_KEY_EC_256 ? "prime256v1" : "secp384r1", 0) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn[0]) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, pub_len)) {
			rc = err_set(HSMCA_E_TOKEN, "the token's EC key value is not a valid scalar");
			goto out;
		}
	}
	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, is_rsa ? "RSA" : "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) != 1) {
		rc = err_set(HSMCA_E_TOKEN, "the token's key values do not form a valid key");
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		err_drain_openssl();
	OPENSSL_clear_free(v, vlen + 1);
	EC_POINT_free(pt);
	EC_GROUP_free(group);
	EVP_PKEY_CTX_free(ctx);
	/* OpenSSL 3.0 has no OSSL_PARAM_clear_free: wipe the key values by hand. */
	for (OSSL_PARAM *q = params; q != NULL && q->key != NULL; q++) {
		if (q->data != NULL)
			OPENSSL_cleanse(q->data, q->data_size);
	}
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (i = 0; i < RSA_PARTS; i++)
		BN_clear_free(bn[i]);
	return rc;
}

static X509 *
cert_parse(const struct buf *der)
{
	const uint8_t *p;
	X509 *x;

	if (der == NULL || der->data == NULL || der->len == 0 || der->len > 64 * 1024)
		return NULL;
	p = der->data;
	x = d2i_X509(NULL, &p, (long)der->len);
	if (x != NULL && p != der->data + der->len) {
		X509_free(x);
		return NULL;
	}
	return x;
}

int
tok_export_pkcs12(struct tok *tok, const char *keyref, const struct buf *cert_der,
    const struct buf *chain_der, size_t n_chain, const char *friendly_name, const char *password,
    int legacy, struct buf *pfx_der)
{
	struct tok_uri u;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE obj;
	enum tok_key_spec spec;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL, *x = NULL;
	STACK_OF(X509) *chain = NULL;
	PKCS12 *p12 = NULL;
	uint8_t *der = NULL;
	int extractable = 0, nid = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : NID_aes_256_cbc;
	int len, rc;
	size_t i;

	buf_free(pfx_der);
	/* Callers generate the password (16+ random characters); a short one is a caller bug. */
	if (password == NULL || strlen(password) < 8)
		return err_set(HSMCA_E_INVALID, "a PFX password of at least 8 characters is required");
	if (n_chain > TOK_CHAIN_MAX || (n_chain > 0 && chain_der == NULL))
		return err_set(HSMCA_E_INVALID, "at most %d chain certificates", TOK_CHAIN_MAX);
	if (friendly_name != NULL && strlen(friendly_name) > TOK_LABEL_MAX)
		return err_set(HSMCA_E_INVALID, "friendly name longer than %d bytes", TOK_LABEL_MAX);
	if ((rc = tok_keyref_parse(tok, keyref, &u)) != 0)
		return rc;
	if ((cert = cert_parse(cert_der)) == NULL) {
		rc = err_set(HSMCA_E_INVALID, "the certificate to export is not DER");
		goto out;
	}
	if ((chain = sk_X509_new_null()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n_chain; i++) {
		if ((x = cert_parse(&chain_der[i])) == NULL) {
			rc = err_set(HSMCA_E_INVALID, "chain certificate %zu is not DER", i);
			goto out;
		}
		if (!sk_X509_push(chain, x)) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		x = NULL;
	}

	if ((rc = tok_session_get(tok, &s)) != 0)
		goto out;
	rc = tok_find_object(tok, s, CKO_PRIVATE_KEY, u.id, u.id_len, &obj);
	if (rc == HSMCA_E_NOTFOUND)
		rc = tok_err_no_key(tok, keyref);
	if (rc != 0)
		goto out;
	/* The token's word, not the database's: CKA_EXTRACTABLE can only go from TRUE to FALSE. */
	if ((rc = tok_attr_bool(tok, s, obj, CKA_EXTRACTABLE, &extractable)) != 0)
		goto out;
	if (!extractable) {
		rc = err_set(HSMCA_E_CONFLICT, "the key is held non-extractable in token %s", tok->label);
		goto out;
	}
	if ((rc = tok_spec_of_object(tok, s, obj, &spec)) != 0 || (rc = rebuild_key(tok, s, obj, spec, &pkey)) != 0)
		goto out;
	tok_session_put(tok, s);
	s = CK_INVALID_HANDLE;

	if (EVP_PKEY_eq(X509_get0_pubkey(cert), pkey) != 1) {
		rc = err_set(HSMCA_E_INVALID, "the certificate is not the one of key %s", keyref);
		goto out;
	}
	/* mac_iter -1: no MAC yet; PKCS12_create would add a SHA-1 one. */
	p12 = PKCS12_create_ex(password, friendly_name, pkey, cert, chain, nid, nid, TOK_P12_ITER, -1, 0, NULL, NULL);
	if (p12 == NULL ||
	    !PKCS12_set_mac(p12, password, -1, NULL, 0, TOK_P12_ITER, legacy ? EVP_sha1() : EVP_sha256())) {
		rc = err_set(HSMCA_E_INTERNAL, "PKCS12_create failed");
		goto out;
	}
	if ((len = i2d_PKCS12(p12, &der)) <= 0) {
		rc = err_set(HSMCA_E_INTERNAL, "i2d_PKCS12 failed");
		goto out;
	}
	rc = buf_set(pfx_der, der, (size_t)len);
out:
	if (rc != 0)
		err_drain_openssl();
	tok_session_put(tok, s);
	OPENSSL_free(der);
	PKCS12_free(p12);
	EVP_PKEY_free(pkey);
	X509_free(x);
	sk_X509_pop_free(chain, X509_free);
	X509_free(cert);
	return rc;
}
