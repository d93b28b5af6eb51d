/*
 * tok_obj.c: token objects through the raw function list: key references, searches by CKA_ID,
 * attribute reads, the key spec of an object and the software copy of a public key.
 *
 * May call: the PKCS#11 function list on pool sessions, OpenSSL to build public keys. Never
 * reads a private attribute value here (tok_export.c does, after checking CKA_EXTRACTABLE).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "err.h"
#include "tok_internal.h"

/* DER OIDs for CKA_EC_PARAMS (RFC 5480 namedCurve). */
static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

const uint8_t *
tok_ec_params(enum tok_key_spec spec, size_t *len)
{
	switch (spec) {
	case TOK_KEY_EC_256:
		*len = sizeof(oid_p256);
		return oid_p256;
	case TOK_KEY_EC_384:
		*len = sizeof(oid_p384);
		return oid_p384;
	default:
		*len = 0;
		return NULL;
	}
}

int
tok_err_no_key(struct tok *tok, const char *keyref)
{
	return err_set(HSMCA_E_NOTFOUND, "no private key %s in token %s", keyref, tok->label);
}

int
tok_keyref_parse(struct tok *tok, const char *keyref, struct tok_uri *u)
{
	int rc;

	if ((rc = tok_uri_parse(keyref, u)) != 0)
		return rc;
	/* A key reference stored for another token must not silently pick a key with the same id
	 * here (a restored database against a fresh token, say). */
	if (u->token[0] != '\0' && strcmp(u->token, tok->label) != 0)
		return err_set(HSMCA_E_NOTFOUND, "key reference names token %s, the open token is %s",
		    u->token, tok->label);
	if (u->id_len == 0)
		return err_set(HSMCA_E_INVALID, "key reference has no id= attribute");
	if (strcmp(u->type, "cert") == 0)
		return err_set(HSMCA_E_INVALID, "key reference names a certificate, not a key");
	return 0;
}

int
tok_keyref_make(struct tok *tok, const uint8_t *id, size_t id_len, const char *label, char **keyref)
{
	struct tok_uri u;

	memset(&u, 0, sizeof(u));
	snprintf(u.token, sizeof(u.token), "%s", tok->label);
	if (id_len > sizeof(u.id))
		return err_set(HSMCA_E_INVALID, "CKA_ID longer than %zu bytes", sizeof(u.id));
	memcpy(u.id, id, id_len);
	u.id_len = id_len;
	if (label != NULL && strlen(label) <= TOK_URI_LABEL_MAX)
		snprintf(u.object, sizeof(u.object), "%s", label);
	snprintf(u.type, sizeof(u.type), "private");
	return tok_uri_format(&u, keyref);
}

int
tok_find_objects(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const uint8_t *id,
    size_t id_len, CK_OBJECT_HANDLE *objs, size_t max, size_t *n)
{
	CK_ATTRIBUTE tmpl[2];
	CK_ULONG count = 0, nt = 0;
	CK_RV rv;

	*n = 0;
	tmpl[nt].type = CKA_CLASS;
	tmpl[nt].pValue = &cls;
	tmpl[nt++].ulValueLen = sizeof(cls);
	if (id != NULL) {
		tmpl[nt].type = CKA_ID;
		tmpl[nt].pValue = (void *)id;
		tmpl[nt++].ulValueLen = id_len;
	}
	pthread_rwlock_rdlock(&tok->store_lock);
	if ((rv = tok->fl->C_FindObjectsInit(s, tmpl, nt)) != CKR_OK) {
		pthread_rwlock_unlock(&tok->store_lock);
		return tok_ckr(HSMCA_E_TOKEN, "C_FindObjectsInit", rv);
	}
	rv = tok->fl->C_FindObjects(s, objs, (CK_ULONG)max, &count);
	tok->fl->C_FindObjectsFinal(s);
	pthread_rwlock_unlock(&tok->store_lock);
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_FindObjects", rv);
	*n = count;
	return 0;
}

int
tok_find_object(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const uint8_t *id,
    size_t id_len, CK_OBJECT_HANDLE *obj)
{
	size_t n;
	int rc;

	*obj = CK_INVALID_HANDLE;
	if ((rc = tok_find_objects(tok, s, cls, id, id_len, obj, 1, &n)) != 0)
		return rc;
	if (n == 0)
		return err_set(HSMCA_E_NOTFOUND, "no such object in token %s", tok->label);
	return 0;
}

int
tok_attr_get(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    uint8_t **val, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	uint8_t *p = NULL;
	CK_RV rv;

	*val = NULL;
	*len = 0;
	rv = tok->fl->C_GetAttributeValue(s, obj, &a, 1);
	if (rv == CKR_ATTRIBUTE_SENSITIVE)
		return tok_ckr(HSMCA_E_CONFLICT, "C_GetAttributeValue", rv);
	if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return tok_ckr(HSMCA_E_TOKEN, "C_GetAttributeValue", rv);
	if (a.ulValueLen > 64 * 1024)
		return err_set(HSMCA_E_TOKEN, "token attribute 0x%lx is implausibly large", (unsigned long)type);
	/* One spare byte so that a zero-length value still has an allocation to free. */
	if ((p = OPENSSL_zalloc(a.ulValueLen + 1)) == NULL)
		return HSMCA_E_NOMEM;
	a.pValue = p;
	rv = tok->fl->C_GetAttributeValue(s, obj, &a, 1);
	if (rv != CKR_OK) {
		OPENSSL_clear_free(p, a.ulValueLen + 1);
		return tok_ckr(rv == CKR_ATTRIBUTE_SENSITIVE ? HSMCA_E_CONFLICT : HSMCA_E_TOKEN,
		    "C_GetAttributeValue", rv);
	}
	*val = p;
	*len = a.ulValueLen;
	return 0;
}

int
tok_attr_bool(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, int *out)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = { type, &b, sizeof(b) };
	CK_RV rv;

	*out = 0;
	if ((rv = tok->fl->C_GetAttributeValue(s, obj, &a, 1)) != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_GetAttributeValue", rv);
	*out = b != CK_FALSE;
	return 0;
}

int
tok_attr_ulong(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    CK_ULONG *out)
{
	CK_ATTRIBUTE a = { type, out, sizeof(*out) };
	CK_RV rv;

	*out = 0;
	if ((rv = tok->fl->C_GetAttributeValue(s, obj, &a, 1)) != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_GetAttributeValue", rv);
	return 0;
}

int
tok_spec_of_object(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, enum tok_key_spec *spec)
{
	CK_ULONG type;
	uint8_t *v = NULL;
	size_t len = 0, i = 0, bits;
	int rc;

	*spec = TOK_KEY__MAX;
	if ((rc = tok_attr_ulong(tok, s, obj, CKA_KEY_TYPE, &type)) != 0)
		return rc;
	if (type == CKK_RSA) {
		/* CKA_MODULUS is on both halves of an RSA pair (CKA_MODULUS_BITS only on the public). */
		if ((rc = tok_attr_get(tok, s, obj, CKA_MODULUS, &v, &len)) != 0)
			return rc;
		while (i < len && v[i] == 0)
			i++;
		bits = (len - i) * 8;
		if (i < len) {
			for (uint8_t top = v[i]; top < 0x80; top <<= 1)
				bits--;
		}
		OPENSSL_free(v);
		if (bits == 2048)
			*spec = TOK_KEY_RSA_2048;
		else if (bits == 3072)
			*spec = TOK_KEY_RSA_3072;
		else if (bits == 4096)
			*spec = TOK_KEY_RSA_4096;
		else
			return err_set(HSMCA_E_POLICY, "RSA key of %zu bits: hsmca uses 2048, 3072 or 4096", bits);
		return 0;
	}
	if (type == CKK_EC) {
		if ((rc = tok_attr_get(tok, s, obj, CKA_EC_PARAMS, &v, &len)) != 0)
			return rc;
		if (len == sizeof(oid_p256) && memcmp(v, oid_p256, len) == 0)
			*spec = TOK_KEY_EC_256;
		else if (len == sizeof(oid_p384) && memcmp(v, oid_p384, len) == 0)
			*spec = TOK_KEY_EC_384;
		OPENSSL_free(v);
		if (*spec == TOK_KEY__MAX)
			return err_set(HSMCA_E_POLICY, "EC key on a curve other than P-256 or P-384");
		return 0;
	}
	return err_set(HSMCA_E_POLICY, "key type 0x%lx is neither RSA nor EC", (unsigned long)type);
}

/* CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 2.40 2.3.3); some modules give
 * the bare point. Returns a pointer into v and the point's length. */
static const uint8_t *
ec_point_unwrap(const uint8_t *v, size_t len, size_t *plen)
{
	if (len >= 2 && v[0] == 0x04 && v[1] < 0x80 && (size_t)v[1] + 2 == len) {
		*plen = v[1];
		return v + 2;
	}
	if (len >= 3 && v[0] == 0x04 && v[1] == 0x81 && (size_t)v[2] + 3 == len) {
		*plen = v[2];
		return v + 3;
	}
	*plen = len;
	return v;
}

static int
pkey_from_params(const char *type, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int rc = HSMCA_E_TOKEN;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		err_set(rc, "the token's public key attributes do not form a valid %s key", type);
		err_drain_openssl();
		goto out;
	}
	rc = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return rc;
}

int
tok_public_pkey(struct tok *tok, const uint8_t *id, size_t id_len, EVP_PKEY **out)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE obj;
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *n = NULL, *e = NULL;
	uint8_t *mod = NULL, *exp = NULL, *point = NULL;
	size_t mod_len, exp_len, point_len, plen;
	const uint8_t *p;
	enum tok_key_spec spec;
	int rc;

	*out = NULL;
	if ((rc = tok_session_get(tok, &s)) != 0)
		return rc;
	rc = tok_find_object(tok, s, CKO_PUBLIC_KEY, id, id_len, &obj);
	if (rc == HSMCA_E_NOTFOUND)
		rc = tok_find_object(tok, s, CKO_PRIVATE_KEY, id, id_len, &obj);
	if (rc == HSMCA_E_NOTFOUND) {
		rc = err_set(HSMCA_E_NOTFOUND, "no key with that id in token %s", tok->label);
		goto out;
	}
	if (rc != 0 || (rc = tok_spec_of_object(tok, s, obj, &spec)) != 0)
		goto out;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if (spec == TOK_KEY_RSA_2048 || spec == TOK_KEY_RSA_3072 || spec == TOK_KEY_RSA_4096) {
		if ((rc = tok_attr_get(tok, s, obj, CKA_MODULUS, &mod, &mod_len)) != 0 ||
		    (rc = tok_attr_get(tok, s, obj, CKA_PUBLIC_EXPONENT, &exp, &exp_len)) != 0)
			goto out;
		if ((n = BN_bin2bn(mod, (int)mod_len, NULL)) == NULL || (e = BN_bin2bn(exp, (int)exp_len, NULL)) == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e)) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		rc = pkey_from_params("RSA", bld, out);
	} else {
		/* EC public points live on the public key object only. */
		rc = tok_attr_get(tok, s, obj, CKA_EC_POINT, &point, &point_len);
		if (rc != 0) {
			rc = err_set(HSMCA_E_NOTFOUND, "the EC key has no public key object in token %s", tok->label);
			goto out;
		}
		p = ec_point_unwrap(point, point_len, &plen);
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		    spec == TOK_KEY_EC_256 ? "prime256v1" : "secp384r1", 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, p, plen)) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
		rc = pkey_from_params("EC", bld, out);
	}
out:
	tok_session_put(tok, s);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	OPENSSL_free(mod);
	OPENSSL_free(exp);
	OPENSSL_free(point);
	return rc;
}

int
tok_key_attrs(struct tok *tok, const char *keyref, struct tok_key_attrs *a)
{
	static const CK_ATTRIBUTE_TYPE types[] = {
		CKA_SENSITIVE, CKA_EXTRACTABLE, CKA_PRIVATE, CKA_TOKEN,
		CKA_ALWAYS_SENSITIVE, CKA_NEVER_EXTRACTABLE, CKA_SIGN, CKA_DECRYPT,
	};
	int *dst[] = {
		&a->sensitive, &a->extractable, &a->private_, &a->token,
		&a->always_sensitive, &a->never_extractable, &a->sign, &a->decrypt,
	};
	struct tok_uri u;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj;
	size_t i;
	int rc;

	memset(a, 0, sizeof(*a));
	if ((rc = tok_keyref_parse(tok, keyref, &u)) != 0)
		return rc;
	if ((rc = tok_session_get(tok, &s)) != 0)
		return rc;
	rc = tok_find_object(tok, s, CKO_PRIVATE_KEY, u.id, u.id_len, &obj);
	if (rc == HSMCA_E_NOTFOUND)
		rc = tok_err_no_key(tok, keyref);
	for (i = 0; rc == 0 && i < sizeof(types) / sizeof(types[0]); i++)
		rc = tok_attr_bool(tok, s, obj, types[i], dst[i]);
	tok_session_put(tok, s);
	return rc;
}
