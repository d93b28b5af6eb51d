/*
 * tok_import.c: CA key import (PEM or PKCS#12) into the token as a non-extractable key.
 *
 * May call: OpenSSL to parse the key in software, C_CreateObject on a pool session. The
 * software copy is the one moment a CA private key exists outside the token: every component is
 * copied into buffers that are wiped (OPENSSL_clear_free / BN_clear_free), and the EVP_PKEY is
 * freed before returning. Only keys tok_key_spec names are accepted (HSMCA_E_POLICY otherwise).
 *
 * PKCS#12 files whose certificate bag is RC2-40 encrypted (old Windows exports) need OpenSSL's
 * legacy provider, which the process's default context does not load: PKCS12_parse fails and
 * the caller gets HSMCA_E_INVALID; re-export with AES or 3DES.
 */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "err.h"
#include "tok_internal.h"

#define TOK_IMPORT_MAX (64 * 1024)
#define RSA_PARTS 8

/* Refuses encrypted PEM instead of letting OpenSSL prompt on a terminal. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* One big-endian component of pkey into a wiped-on-free buffer. */
static int
bn_param(const EVP_PKEY *pkey, const char *name, int pad, uint8_t **out, size_t *len)
{
	BIGNUM *bn = NULL;
	int n, rc = HSMCA_E_INVALID;

	*out = NULL;
	*len = 0;
	if (!EVP_PKEY_get_bn_param(pkey, name, &bn)) {
		err_set(rc, "the key has no %s component (multi-prime or incomplete RSA keys are refused)", name);
		goto out;
	}
	n = pad > 0 ? pad : BN_num_bytes(bn);
	if (n <= 0 || (*out = OPENSSL_malloc((size_t)n)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if (BN_bn2binpad(bn, *out, n) != n) {
		OPENSSL_clear_free(*out, (size_t)n);
		*out = NULL;
		rc = err_set(HSMCA_E_INVALID, "key component %s too large", name);
		goto out;
	}
	*len = (size_t)n;
	rc = 0;
out:
	BN_clear_free(bn);
	return rc;
}

/* The spec of a software key, or HSMCA_E_POLICY saying why not. */
static int
software_spec(const EVP_PKEY *pkey, enum tok_key_spec *spec)
{
	char group[64];
	int bits = EVP_PKEY_get_bits(pkey);

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
		if (bits == 2048)
			*spec = TOK_KEY_RSA_2048;
		else if (bits == 3072)
			*spec = TOK_KEY_RSA_3072;
		else if (bits == 4096)
			*spec = TOK_KEY_RSA_4096;
		else
			return err_set(HSMCA_E_POLICY, "RSA key of %d bits: only 2048, 3072 and 4096 are accepted", bits);
		return 0;
	}
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL))
			return err_set(HSMCA_E_POLICY, "EC key without a named curve: only P-256 and P-384 are accepted");
		if (OBJ_sn2nid(group) == NID_X9_62_prime256v1 || strcmp(group, "P-256") == 0)
			*spec = TOK_KEY_EC_256;
		else if (OBJ_sn2nid(group) == NID_secp384r1 || strcmp(group, "P-384") == 0)
			*spec = TOK_KEY_EC_384;
		else
			return err_set(HSMCA_E_POLICY, "EC key on curve %s: only P-256 and P-384 are accepted", group);
		return 0;
	}
	return err_set(HSMCA_E_POLICY, "key type %s: only RSA and EC (P-256, P-384) are accepted",
	    OBJ_nid2sn(EVP_PKEY_get_base_id(pkey)));
}

/* The uncompressed point of an EC key, DER-wrapped as CKA_EC_POINT wants (OCTET STRING). */
static int
ec_point_der(const EVP_PKEY *pkey, enum tok_key_spec spec, uint8_t **out, size_t *len)
{
	uint8_t raw[160], *der;
	size_t rlen = 0;
	EC_GROUP *group = NULL;
	EC_POINT *pt = NULL;
	int rc = HSMCA_E_INVALID;

	*out = NULL;
	if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, raw, sizeof(raw), &rlen))
		return err_set(rc, "the EC key has no public point");
	/* Normalise a compressed point to the uncompressed form every module accepts. */
	if ((group = EC_GROUP_new_by_curve_name(spec == TOK_KEY_EC_256 ? NID_X9_62_prime256v1 : NID_secp384r1)) == NULL ||
	    (pt = EC_POINT_new(group)) == NULL || !EC_POINT_oct2point(group, pt, raw, rlen, NULL) ||
	    (rlen = EC_POINT_point2oct(group, pt, POINT_CONVERSION_UNCOMPRESSED, raw, sizeof(raw), NULL)) == 0) {
		err_set(rc, "the EC public point is invalid");
		goto out;
	}
	if ((der = OPENSSL_malloc(rlen + 2)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	der[0] = 0x04;
	der[1] = (uint8_t)rlen;   /* 65 or 97: short form */
	memcpy(der + 2, raw, rlen);
	*out = der;
	*len = rlen + 2;
	rc = 0;
out:
	EC_POINT_free(pt);
	EC_GROUP_free(group);
	return rc;
}

#define ADD(t, v, l) do { \
	tmpl[n].type = (t); tmpl[n].pValue = (void *)(v); tmpl[n].ulValueLen = (CK_ULONG)(l); n++; \
} while (0)

/* Creates the private and public key objects for pkey under a fresh CKA_ID. */
static int
store_key(struct tok *tok, EVP_PKEY *pkey, const char *label, char **keyref)
{
	static const CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static const char *const rsa_names[RSA_PARTS] = {
		OSSL_PKEY_PARAM_RSA_N, OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_D,
		OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_EXPONENT1,
		OSSL_PKEY_PARAM_RSA_EXPONENT2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
	};
	static const CK_ATTRIBUTE_TYPE rsa_types[RSA_PARTS] = {
		CKA_MODULUS, CKA_PUBLIC_EXPONENT, CKA_PRIVATE_EXPONENT, CKA_PRIME_1, CKA_PRIME_2,
		CKA_EXPONENT_1, CKA_EXPONENT_2, CKA_COEFFICIENT,
	};
	const CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
	CK_KEY_TYPE key_type;
	CK_ATTRIBUTE priv[24], pub[12], *tmpl;
	CK_ULONG n, n_priv;
	CK_OBJECT_HANDLE h_priv = CK_INVALID_HANDLE, h_pub;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_RV rv = CKR_OK;
	uint8_t *part[RSA_PARTS] = { NULL }, *ec_value = NULL, *ec_point = NULL;
	size_t part_len[RSA_PARTS] = { 0 }, ec_value_len = 0, ec_point_len = 0, ec_len = 0, i;
	const uint8_t *ec_params = NULL;
	uint8_t id[TOK_ID_LEN];
	enum tok_key_spec spec = TOK_KEY__MAX;
	int rc, is_rsa;

	if ((rc = software_spec(pkey, &spec)) != 0)
		return rc;
	is_rsa = EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA;
	key_type = is_rsa ? CKK_RSA : CKK_EC;
	if ((rc = tok_new_id(id)) != 0)
		return rc;
	if (is_rsa) {
		for (i = 0; i < RSA_PARTS; i++) {
			if ((rc = bn_param(pkey, rsa_names[i], 0, &part[i], &part_len[i])) != 0)
				goto out;
		}
	} else {
		ec_params = tok_ec_params(spec, &ec_len);
		if ((rc = bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, spec == TOK_KEY_EC_256 ? 32 : 48,
		    &ec_value, &ec_value_len)) != 0 || (rc = ec_point_der(pkey, spec, &ec_point, &ec_point_len)) != 0)
			goto out;
	}

	tmpl = priv;
	n = 0;
	ADD(CKA_CLASS, &priv_class, sizeof(priv_class));
	ADD(CKA_KEY_TYPE, &key_type, sizeof(key_type));
	ADD(CKA_TOKEN, &yes, sizeof(yes));
	ADD(CKA_PRIVATE, &yes, sizeof(yes));
	ADD(CKA_SENSITIVE, &yes, sizeof(yes));
	ADD(CKA_EXTRACTABLE, &no, sizeof(no));
	ADD(CKA_SIGN, &yes, sizeof(yes));
	ADD(CKA_DECRYPT, is_rsa ? &yes : &no, sizeof(yes));
	ADD(CKA_DERIVE, &no, sizeof(no));
	ADD(CKA_ID, id, sizeof(id));
	ADD(CKA_LABEL, label, strlen(label));
	if (is_rsa) {
		for (i = 0; i < RSA_PARTS; i++)
			ADD(rsa_types[i], part[i], part_len[i]);
	} else {
		ADD(CKA_EC_PARAMS, ec_params, ec_len);
		ADD(CKA_VALUE, ec_value, ec_value_len);
	}
	n_priv = n;

	tmpl = pub;
	n = 0;
	ADD(CKA_CLASS, &pub_class, sizeof(pub_class));
	ADD(CKA_KEY_TYPE, &key_type, sizeof(key_type));
	ADD(CKA_TOKEN, &yes, sizeof(yes));
	ADD(CKA_PRIVATE, &no, sizeof(no));
	ADD(CKA_VERIFY, &yes, sizeof(yes));
	ADD(CKA_ENCRYPT, is_rsa ? &yes : &no, sizeof(yes));
	ADD(CKA_ID, id, sizeof(id));
	ADD(CKA_LABEL, label, strlen(label));
	if (is_rsa) {
		ADD(CKA_MODULUS, part[0], part_len[0]);
		ADD(CKA_PUBLIC_EXPONENT, part[1], part_len[1]);
	} else {
		ADD(CKA_EC_PARAMS, ec_params, ec_len);
		ADD(CKA_EC_POINT, ec_point, ec_point_len);
	}

	if ((rc = tok_session_get(tok, &s)) != 0)
		goto out;
	/* Both objects under one hold of store_lock: no search sees the private half alone. */
	pthread_rwlock_wrlock(&tok->store_lock);
	if ((rv = tok->fl->C_CreateObject(s, priv, n_priv, &h_priv)) != CKR_OK) {
		pthread_rwlock_unlock(&tok->store_lock);
		rc = tok_ckr(HSMCA_E_TOKEN, "C_CreateObject (private key)", rv);
		goto out;
	}
	if ((rv = tok->fl->C_CreateObject(s, pub, n, &h_pub)) != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_CreateObject (public key)", rv);
		/* No half-imported key: without its public object libp11 cannot use an EC key. */
		tok->fl->C_DestroyObject(s, h_priv);
		pthread_rwlock_unlock(&tok->store_lock);
		goto out;
	}
	pthread_rwlock_unlock(&tok->store_lock);
	rc = tok_keyref_make(tok, id, sizeof(id), label, keyref);
out:
	tok_session_put_rv(tok, s, rv);
	for (i = 0; i < RSA_PARTS; i++)
		OPENSSL_clear_free(part[i], part_len[i]);
	OPENSSL_clear_free(ec_value, ec_value_len);
	OPENSSL_free(ec_point);
	return rc;
}

int
tok_import_key_pem(struct tok *tok, const uint8_t *pem, size_t pem_len, const char *label, char **keyref)
{
	BIO *bio = NULL;
	EVP_PKEY *pkey = NULL;
	int rc;

	*keyref = NULL;
	if ((rc = tok_label_check(label)) != 0)
		return rc;
	if (pem == NULL || pem_len == 0 || pem_len > TOK_IMPORT_MAX)
		return err_set(HSMCA_E_INVALID, "private key PEM empty or larger than %d bytes", TOK_IMPORT_MAX);
	if ((bio = BIO_new_mem_buf(pem, (int)pem_len)) == NULL)
		return HSMCA_E_NOMEM;
	if ((pkey = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL)) == NULL) {
		rc = err_set(HSMCA_E_INVALID, "no unencrypted private key in the PEM (PKCS#8 or traditional)");
		err_drain_openssl();
		goto out;
	}
	rc = store_key(tok, pkey, label, keyref);
out:
	EVP_PKEY_free(pkey);   /* OpenSSL clears private key material when freeing */
	BIO_free(bio);
	return rc;
}

int
tok_import_key_pkcs12(struct tok *tok, const uint8_t *p12, size_t p12_len, const char *password,
    const char *label, char **keyref)
{
	const uint8_t *p = p12;
	PKCS12 *pk12 = NULL;
	EVP_PKEY *pkey = NULL;
	X509 *cert = NULL;
	STACK_OF(X509) *ca = NULL;
	int rc;

	*keyref = NULL;
	if ((rc = tok_label_check(label)) != 0)
		return rc;
	if (p12 == NULL || p12_len == 0 || p12_len > TOK_IMPORT_MAX)
		return err_set(HSMCA_E_INVALID, "PKCS#12 empty or larger than %d bytes", TOK_IMPORT_MAX);
	if ((pk12 = d2i_PKCS12(NULL, &p, (long)p12_len)) == NULL || p != p12 + p12_len) {
		rc = err_set(HSMCA_E_INVALID, "not a DER PKCS#12 file");
		err_drain_openssl();
		goto out;
	}
	if (!PKCS12_parse(pk12, password != NULL ? password : "", &pkey, &cert, &ca)) {
		rc = err_set(HSMCA_E_INVALID, "the PKCS#12 does not open (wrong password or unsupported encryption)");
		err_drain_openssl();
		goto out;
	}
	if (pkey == NULL) {
		rc = err_set(HSMCA_E_INVALID, "the PKCS#12 holds no private key");
		goto out;
	}
	rc = store_key(tok, pkey, label, keyref);
out:
	sk_X509_pop_free(ca, X509_free);
	X509_free(cert);
	EVP_PKEY_free(pkey);
	PKCS12_free(pk12);
	return rc;
}
