/*
 * tok_import.c: puts an existing CA private key into the token, sensitive and never extractable.
 *
 * The key is parsed in software (it arrives in software: a PEM or PKCS#12 file), written to the
 * token with C_CreateObject, and every software copy is wiped. Only key types hsmca signs with
 * are accepted.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "err.h"
#include "tok_internal.h"

#define TOK_IMPORT_MAX (1024 * 1024)

static const unsigned char oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

struct bn_attr {
	const char *param;
	CK_ATTRIBUTE_TYPE type;
	unsigned char *val;
	int len;
};

static int
tok_check_importable(EVP_PKEY *pkey)
{
	int bits = EVP_PKEY_get_bits(pkey);

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA && bits >= 2048 && bits <= 4096)
		return 0;
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC && (bits == 256 || bits == 384))
		return 0;
	return err_set(HSMCA_E_POLICY, "cannot import a %s-%d key: hsmca uses RSA 2048-4096, P-256 and P-384",
	    EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "unknown", bits);
}

static int
tok_import_rsa(struct tok *tok, CK_SESSION_HANDLE s, EVP_PKEY *pkey, const unsigned char *id, const char *label)
{
	struct bn_attr a[] = {
		{ OSSL_PKEY_PARAM_RSA_N, CKA_MODULUS, NULL, 0 },
		{ OSSL_PKEY_PARAM_RSA_E, CKA_PUBLIC_EXPONENT, NULL, 0 },
		{ OSSL_PKEY_PARAM_RSA_D, CKA_PRIVATE_EXPONENT, NULL, 0 },
		{ OSSL_PKEY_PARAM_RSA_FACTOR1, CKA_PRIME_1, NULL, 0 },
		{ OSSL_PKEY_PARAM_RSA_FACTOR2, CKA_PRIME_2, NULL, 0 },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT1, CKA_EXPONENT_1, NULL, 0 },
		{ OSSL_PKEY_PARAM_RSA_EXPONENT2, CKA_EXPONENT_2, NULL, 0 },
		{ OSSL_PKEY_PARAM_RSA_COEFFICIENT1, CKA_COEFFICIENT, NULL, 0 },
	};
	CK_OBJECT_CLASS priv_cls = CKO_PRIVATE_KEY, pub_cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt = CKK_RSA;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE priv[20], pub[10];
	CK_OBJECT_HANDLE h_priv = 0, h_pub;
	BIGNUM *bn = NULL;
	size_t i, np = 0, nq = 0;
	int rc = 0;
	CK_RV rv;

	for (i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
		if (!EVP_PKEY_get_bn_param(pkey, a[i].param, &bn)) {
			rc = err_set(HSMCA_E_INVALID, "RSA key lacks its CRT parameters");
			goto out;
		}
		a[i].len = BN_num_bytes(bn);
		a[i].val = OPENSSL_malloc((size_t)a[i].len + 1);
		if (a[i].val == NULL) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		BN_bn2bin(bn, a[i].val);
		BN_clear_free(bn);
		bn = NULL;
	}
#define ADD(t, n, typ, v, l) (t[n].type = (typ), t[n].pValue = (void *)(v), t[n].ulValueLen = (l), n++)
	ADD(priv, np, CKA_CLASS, &priv_cls, sizeof(priv_cls));
	ADD(priv, np, CKA_KEY_TYPE, &kt, sizeof(kt));
	ADD(priv, np, CKA_TOKEN, &yes, sizeof(yes));
	ADD(priv, np, CKA_PRIVATE, &yes, sizeof(yes));
	ADD(priv, np, CKA_SENSITIVE, &yes, sizeof(yes));
	ADD(priv, np, CKA_EXTRACTABLE, &no, sizeof(no));
	ADD(priv, np, CKA_SIGN, &yes, sizeof(yes));
	ADD(priv, np, CKA_DECRYPT, &yes, sizeof(yes));
	ADD(priv, np, CKA_ID, id, TOK_ID_LEN);
	ADD(priv, np, CKA_LABEL, label, strlen(label));
	for (i = 0; i < sizeof(a) / sizeof(a[0]); i++)
		ADD(priv, np, a[i].type, a[i].val, (CK_ULONG)a[i].len);
	ADD(pub, nq, CKA_CLASS, &pub_cls, sizeof(pub_cls));
	ADD(pub, nq, CKA_KEY_TYPE, &kt, sizeof(kt));
	ADD(pub, nq, CKA_TOKEN, &yes, sizeof(yes));
	ADD(pub, nq, CKA_PRIVATE, &no, sizeof(no));
	ADD(pub, nq, CKA_VERIFY, &yes, sizeof(yes));
	ADD(pub, nq, CKA_ENCRYPT, &yes, sizeof(yes));
	ADD(pub, nq, CKA_ID, id, TOK_ID_LEN);
	ADD(pub, nq, CKA_LABEL, label, strlen(label));
	ADD(pub, nq, CKA_MODULUS, a[0].val, (CK_ULONG)a[0].len);
	ADD(pub, nq, CKA_PUBLIC_EXPONENT, a[1].val, (CK_ULONG)a[1].len);
	rv = tok->fl->C_CreateObject(s, priv, np, &h_priv);
	if (rv == CKR_OK)
		rv = tok->fl->C_CreateObject(s, pub, nq, &h_pub);
	if (rv != CKR_OK) {
		if (h_priv != 0)
			tok->fl->C_DestroyObject(s, h_priv);
		rc = tok_ckr(HSMCA_E_TOKEN, "C_CreateObject", rv);
	}
out:
	BN_clear_free(bn);
	for (i = 0; i < sizeof(a) / sizeof(a[0]); i++)
		OPENSSL_clear_free(a[i].val, (size_t)a[i].len + 1);
	return rc;
}

static int
tok_import_ec(struct tok *tok, CK_SESSION_HANDLE s, EVP_PKEY *pkey, const unsigned char *id, const char *label)
{
	CK_OBJECT_CLASS priv_cls = CKO_PRIVATE_KEY, pub_cls = CKO_PUBLIC_KEY;
	CK_KEY_TYPE kt = CKK_EC;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE priv[12], pub[10];
	CK_OBJECT_HANDLE h_priv = 0, h_pub;
	const unsigned char *oid = EVP_PKEY_get_bits(pkey) == 256 ? oid_p256 : oid_p384;
	size_t oid_len = EVP_PKEY_get_bits(pkey) == 256 ? sizeof(oid_p256) : sizeof(oid_p384);
	unsigned char *d = NULL, point[256], *point_der = NULL;
	size_t point_len = 0, np = 0, nq = 0;
	ASN1_OCTET_STRING *os = NULL;
	BIGNUM *bn = NULL;
	int d_len = 0, der_len, rc = HSMCA_E_INTERNAL;
	CK_RV rv;

	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) ||
	    !EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point), &point_len))
		goto out;
	/* CKA_VALUE is the private scalar, left-padded to the field size. */
	d_len = (EVP_PKEY_get_bits(pkey) + 7) / 8;
	d = OPENSSL_malloc((size_t)d_len);
	if (d == NULL || BN_bn2binpad(bn, d, d_len) != d_len)
		goto out;
	os = ASN1_OCTET_STRING_new();
	if (os == NULL || !ASN1_OCTET_STRING_set(os, point, (int)point_len) ||
	    (der_len = i2d_ASN1_OCTET_STRING(os, &point_der)) <= 0)
		goto out;
	ADD(priv, np, CKA_CLASS, &priv_cls, sizeof(priv_cls));
	ADD(priv, np, CKA_KEY_TYPE, &kt, sizeof(kt));
	ADD(priv, np, CKA_TOKEN, &yes, sizeof(yes));
	ADD(priv, np, CKA_PRIVATE, &yes, sizeof(yes));
	ADD(priv, np, CKA_SENSITIVE, &yes, sizeof(yes));
	ADD(priv, np, CKA_EXTRACTABLE, &no, sizeof(no));
	ADD(priv, np, CKA_SIGN, &yes, sizeof(yes));
	ADD(priv, np, CKA_ID, id, TOK_ID_LEN);
	ADD(priv, np, CKA_LABEL, label, strlen(label));
	ADD(priv, np, CKA_EC_PARAMS, oid, oid_len);
	ADD(priv, np, CKA_VALUE, d, (CK_ULONG)d_len);
	ADD(pub, nq, CKA_CLASS, &pub_cls, sizeof(pub_cls));
	ADD(pub, nq, CKA_KEY_TYPE, &kt, sizeof(kt));
	ADD(pub, nq, CKA_TOKEN, &yes, sizeof(yes));
	ADD(pub, nq, CKA_PRIVATE, &no, sizeof(no));
	ADD(pub, nq, CKA_VERIFY, &yes, sizeof(yes));
	ADD(pub, nq, CKA_ID, id, TOK_ID_LEN);
	ADD(pub, nq, CKA_LABEL, label, strlen(label));
	ADD(pub, nq, CKA_EC_PARAMS, oid, oid_len);
	ADD(pub, nq, CKA_EC_POINT, point_der, (CK_ULONG)der_len);
#undef ADD
	rc = 0;
	rv = tok->fl->C_CreateObject(s, priv, np, &h_priv);
	if (rv == CKR_OK)
		rv = tok->fl->C_CreateObject(s, pub, nq, &h_pub);
	if (rv != CKR_OK) {
		if (h_priv != 0)
			tok->fl->C_DestroyObject(s, h_priv);
		rc = tok_ckr(HSMCA_E_TOKEN, "C_CreateObject", rv);
	}
out:
	if (rc == HSMCA_E_INTERNAL)
		err_set(rc, "cannot read the EC key to import"), err_drain_openssl();
	OPENSSL_free(point_der);
	ASN1_OCTET_STRING_free(os);
	OPENSSL_clear_free(d, (size_t)d_len);
	BN_clear_free(bn);
	return rc;
}

static int
tok_import_pkey(struct tok *tok, EVP_PKEY *pkey, const char *label, char **keyref)
{
	unsigned char id[TOK_ID_LEN];
	CK_SESSION_HANDLE s;
	int rc;

	*keyref = NULL;
	if (label == NULL || *label == '\0' || strlen(label) > 64)
		return err_set(HSMCA_E_INVALID, "key label must be 1 to 64 characters");
	if ((rc = tok_check_importable(pkey)) != 0 || (rc = tok_new_id(id)) != 0)
		return rc;
	tok_session_get(tok, &s);
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA)
		rc = tok_import_rsa(tok, s, pkey, id, label);
	else
		rc = tok_import_ec(tok, s, pkey, id, label);
	tok_session_put(tok, s);
	if (rc != 0)
		return rc;
	return tok_keyref_make(tok, id, sizeof(id), label, keyref);
}

/* Refuses passphrase prompts: an encrypted PEM is an error, never a hang on a terminal. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

int
tok_import_key_pem(struct tok *tok, const uint8_t *pem, size_t pem_len, const char *label, char **keyref)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	int rc;

	*keyref = NULL;
	if (pem_len == 0 || pem_len > TOK_IMPORT_MAX)
		return err_set(HSMCA_E_INVALID, "private key file is empty or too large");
	bio = BIO_new_mem_buf(pem, (int)pem_len);
	if (bio == NULL)
		return HSMCA_E_NOMEM;
	pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		ERR_clear_error();
		return err_set(HSMCA_E_INVALID, "not an unencrypted PEM private key");
	}
	rc = tok_import_pkey(tok, pkey, label, keyref);
	EVP_PKEY_free(pkey);
	return rc;
}

int
tok_import_key_pkcs12(struct tok *tok, const uint8_t *p12, size_t p12_len, const char *password, const char *label,
    char **keyref)
{
	const unsigned char *p = p12;
	PKCS12 *pk = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	int rc;

	*keyref = NULL;
	if (p12_len == 0 || p12_len > TOK_IMPORT_MAX)
		return err_set(HSMCA_E_INVALID, "PKCS#12 file is empty or too large");
	pk = d2i_PKCS12(NULL, &p, (long)p12_len);
	if (pk == NULL || p != p12 + p12_len) {
		rc = err_set(HSMCA_E_INVALID, "not a PKCS#12 file");
		goto out;
	}
	if (!PKCS12_parse(pk, password ? password : "", &pkey, &cert, &ca) || pkey == NULL) {
		rc = err_set(HSMCA_E_INVALID, "cannot open the PKCS#12 file: wrong password or no private key in it");
		goto out;
	}
	rc = tok_import_pkey(tok, pkey, label, keyref);
out:
	ERR_clear_error();
	sk_X509_pop_free(ca, X509_free);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	PKCS12_free(pk);
	return rc;
}
