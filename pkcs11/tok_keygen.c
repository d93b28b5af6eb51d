/*
 * tok_keygen.c: key generation with explicit templates, and what can be read back about keys.
 *
 * libp11 0.4.12 can only generate RSA keys, without control over attributes, so key pairs are
 * made here with C_GenerateKeyPair. The attribute policy lives in one place (tok_priv_policy).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include "err.h"
#include "tok_internal.h"

/* DER OIDs of the curves hsmca uses, as CKA_EC_PARAMS carries them. */
static const unsigned char oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };

int
tok_generate_key(struct tok *tok, enum tok_key_spec spec, const char *label, int exportable, char **keyref)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL sensitive = exportable ? CK_FALSE : CK_TRUE, extractable = exportable ? CK_TRUE : CK_FALSE;
	CK_ULONG bits = 2048;
	CK_BYTE e[] = { 0x01, 0x00, 0x01 };
	CK_MECHANISM mech_rsa = { CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0 };
	CK_MECHANISM mech_ec = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	unsigned char id[TOK_ID_LEN];
	CK_OBJECT_HANDLE pub, priv;
	CK_SESSION_HANDLE s;
	CK_RV rv;
	int is_rsa = spec <= TOK_KEY_RSA_4096, rc;
	size_t label_len;

	*keyref = NULL;
	if ((unsigned)spec >= TOK_KEY__MAX)
		return err_set(HSMCA_E_INVALID, "unknown key type");
	if (label == NULL || (label_len = strlen(label)) == 0 || label_len > 64)
		return err_set(HSMCA_E_INVALID, "key label must be 1 to 64 characters");
	if (spec == TOK_KEY_RSA_3072)
		bits = 3072;
	else if (spec == TOK_KEY_RSA_4096)
		bits = 4096;
	rc = tok_new_id(id);
	if (rc != 0)
		return rc;
	{
		CK_ATTRIBUTE pub_rsa[] = {
			{ CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &no, sizeof(no) },
			{ CKA_VERIFY, &yes, sizeof(yes) },
			{ CKA_ENCRYPT, &yes, sizeof(yes) },
			{ CKA_MODULUS_BITS, &bits, sizeof(bits) },
			{ CKA_PUBLIC_EXPONENT, e, sizeof(e) },
			{ CKA_ID, id, sizeof(id) },
			{ CKA_LABEL, (void *)label, label_len },
		};
		CK_ATTRIBUTE pub_ec[] = {
			{ CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &no, sizeof(no) },
			{ CKA_VERIFY, &yes, sizeof(yes) },
			{ CKA_EC_PARAMS, (void *)(spec == TOK_KEY_EC_256 ? oid_p256 : oid_p384),
			  spec == TOK_KEY_EC_256 ? sizeof(oid_p256) : sizeof(oid_p384) },
			{ CKA_ID, id, sizeof(id) },
			{ CKA_LABEL, (void *)label, label_len },
		};
		/* The attribute policy: CA and RA keys never leave the token; endpoint keys meant for a
		 * PFX are extractable (and then cannot be sensitive) but still private. */
		CK_ATTRIBUTE priv_tmpl[] = {
			{ CKA_TOKEN, &yes, sizeof(yes) },
			{ CKA_PRIVATE, &yes, sizeof(yes) },
			{ CKA_SENSITIVE, &sensitive, sizeof(sensitive) },
			{ CKA_EXTRACTABLE, &extractable, sizeof(extractable) },
			{ CKA_SIGN, &yes, sizeof(yes) },
			/* RSA keys decrypt SCEP envelopes (RA keys); EC keys only sign. */
			{ CKA_DECRYPT, is_rsa ? &yes : &no, sizeof(yes) },
			{ CKA_UNWRAP, &no, sizeof(no) },
			{ CKA_DERIVE, &no, sizeof(no) },
			{ CKA_ID, id, sizeof(id) },
			{ CKA_LABEL, (void *)label, label_len },
		};
		CK_ULONG n_priv = sizeof(priv_tmpl) / sizeof(priv_tmpl[0]);
		tok_session_get(tok, &s);
		if (is_rsa)
			rv = tok->fl->C_GenerateKeyPair(s, &mech_rsa, pub_rsa, 8, priv_tmpl, n_priv, &pub, &priv);
		else
			rv = tok->fl->C_GenerateKeyPair(s, &mech_ec, pub_ec, 6, priv_tmpl, n_priv, &pub, &priv);
		tok_session_put(tok, s);
	}
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_GenerateKeyPair", rv);
	return tok_keyref_make(tok, id, sizeof(id), label, keyref);
}

/* Builds a software EVP_PKEY from public attributes of obj (public or private key object). */
static int
tok_pkey_from_attrs(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, EVP_PKEY **out)
{
	unsigned char *a = NULL, *b = NULL;
	size_t a_len = 0, b_len = 0;
	CK_KEY_TYPE kt;
	CK_ATTRIBUTE kta = { CKA_KEY_TYPE, &kt, sizeof(kt) };
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	BIGNUM *n = NULL, *e = NULL;
	const unsigned char *p;
	ASN1_OCTET_STRING *point = NULL;
	const char *group = NULL;
	int rc = HSMCA_E_INTERNAL;
	CK_RV rv;

	*out = NULL;
	rv = tok->fl->C_GetAttributeValue(s, obj, &kta, 1);
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_GetAttributeValue(CKA_KEY_TYPE)", rv);
	bld = OSSL_PARAM_BLD_new();
	if (bld == NULL)
		goto out;
	if (kt == CKK_RSA) {
		if ((rc = tok_get_attr(tok, s, obj, CKA_MODULUS, &a, &a_len)) != 0 ||
		    (rc = tok_get_attr(tok, s, obj, CKA_PUBLIC_EXPONENT, &b, &b_len)) != 0)
			goto out;
		rc = HSMCA_E_INTERNAL;
		n = BN_bin2bn(a, (int)a_len, NULL);
		e = BN_bin2bn(b, (int)b_len, NULL);
		if (n == NULL || e == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto out;
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else if (kt == CKK_EC) {
		if ((rc = tok_get_attr(tok, s, obj, CKA_EC_PARAMS, &a, &a_len)) != 0 ||
		    (rc = tok_get_attr(tok, s, obj, CKA_EC_POINT, &b, &b_len)) != 0)
			goto out;
		rc = HSMCA_E_POLICY;
		if (a_len == sizeof(oid_p256) && memcmp(a, oid_p256, a_len) == 0)
			group = "P-256";
		else if (a_len == sizeof(oid_p384) && memcmp(a, oid_p384, a_len) == 0)
			group = "P-384";
		else {
			rc = err_set(HSMCA_E_POLICY, "token key uses a curve hsmca does not support");
			goto out;
		}
		rc = HSMCA_E_INTERNAL;
		/* CKA_EC_POINT is the DER OCTET STRING around the point (PKCS#11 2.40). */
		p = b;
		point = d2i_ASN1_OCTET_STRING(NULL, &p, (long)b_len);
		if (point == NULL || p != b + b_len ||
		    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point->data, (size_t)point->length))
			goto out;
		pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	} else {
		rc = err_set(HSMCA_E_POLICY, "token key type is neither RSA nor EC");
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (pctx == NULL || params == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		goto out;
	rc = 0;
out:
	if (rc == HSMCA_E_INTERNAL)
		err_set(rc, "cannot rebuild the public key read from the token"), err_drain_openssl();
	ASN1_OCTET_STRING_free(point);
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	free(a);
	free(b);
	return rc;
}

int
tok_public_pkey(struct tok *tok, const unsigned char *id, size_t id_len, EVP_PKEY **out)
{
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj;
	int rc;

	tok_session_get(tok, &s);
	rc = tok_find_object(tok, s, CKO_PUBLIC_KEY, id, id_len, &obj);
	if (rc == HSMCA_E_NOTFOUND)
		rc = tok_find_object(tok, s, CKO_PRIVATE_KEY, id, id_len, &obj);
	if (rc == 0)
		rc = tok_pkey_from_attrs(tok, s, obj, out);
	tok_session_put(tok, s);
	return rc;
}

static int
tok_spec_of_pkey(EVP_PKEY *pkey, enum tok_key_spec *spec)
{
	int bits = EVP_PKEY_get_bits(pkey);

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
		if (bits == 2048) { *spec = TOK_KEY_RSA_2048; return 0; }
		if (bits == 3072) { *spec = TOK_KEY_RSA_3072; return 0; }
		if (bits == 4096) { *spec = TOK_KEY_RSA_4096; return 0; }
		return err_set(HSMCA_E_POLICY, "RSA-%d keys are not supported (use 2048, 3072 or 4096)", bits);
	}
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC) {
		if (bits == 256) { *spec = TOK_KEY_EC_256; return 0; }
		if (bits == 384) { *spec = TOK_KEY_EC_384; return 0; }
	}
	return err_set(HSMCA_E_POLICY, "key type not supported (use RSA 2048-4096, P-256 or P-384)");
}

int
tok_public_key(struct tok *tok, const char *keyref, struct buf *spki_der)
{
	unsigned char id[TOK_URI_ID_MAX], *der = NULL;
	size_t id_len;
	EVP_PKEY *pkey = NULL;
	int len, rc;

	spki_der->data = NULL;
	spki_der->len = 0;
	rc = tok_keyref_id(tok, keyref, id, &id_len);
	if (rc == 0)
		rc = tok_public_pkey(tok, id, id_len, &pkey);
	if (rc != 0)
		return rc;
	len = i2d_PUBKEY(pkey, &der);
	rc = len > 0 ? buf_set(spki_der, der, (size_t)len) : HSMCA_E_INTERNAL;
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	return rc;
}

int
tok_key_spec_of(struct tok *tok, const char *keyref, enum tok_key_spec *spec)
{
	unsigned char id[TOK_URI_ID_MAX];
	size_t id_len;
	EVP_PKEY *pkey = NULL;
	int rc;

	rc = tok_keyref_id(tok, keyref, id, &id_len);
	if (rc == 0)
		rc = tok_public_pkey(tok, id, id_len, &pkey);
	if (rc == 0)
		rc = tok_spec_of_pkey(pkey, spec);
	EVP_PKEY_free(pkey);
	return rc;
}

int
tok_key_is_exportable(struct tok *tok, const char *keyref, int *exportable)
{
	unsigned char id[TOK_URI_ID_MAX];
	size_t id_len;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj;
	int rc;

	rc = tok_keyref_id(tok, keyref, id, &id_len);
	if (rc != 0)
		return rc;
	tok_session_get(tok, &s);
	rc = tok_find_object(tok, s, CKO_PRIVATE_KEY, id, id_len, &obj);
	if (rc == 0)
		rc = tok_get_bool(tok, s, obj, CKA_EXTRACTABLE, exportable);
	tok_session_put(tok, s);
	return rc;
}

void
tok_key_list_free(struct tok_key_info *keys, size_t n_keys)
{
	size_t i;

	for (i = 0; keys != NULL && i < n_keys; i++) {
		free(keys[i].keyref);
		free(keys[i].label);
		free(keys[i].spec);
	}
	free(keys);
}

/* Fills one entry for the private key obj. */
static int
tok_describe(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, struct tok_key_info *k)
{
	unsigned char *id = NULL, *label = NULL;
	size_t id_len, label_len;
	CK_OBJECT_HANDLE pub_obj;
	EVP_PKEY *pkey = NULL;
	enum tok_key_spec spec;
	char *text;
	int rc;

	rc = tok_get_attr(tok, s, obj, CKA_ID, &id, &id_len);
	if (rc == 0)
		rc = tok_get_attr(tok, s, obj, CKA_LABEL, &label, &label_len);
	if (rc != 0)
		goto out;
	if (id_len == 0 || id_len > TOK_URI_ID_MAX) {
		rc = err_set(HSMCA_E_TOKEN, "a private key on the token has no usable CKA_ID");
		goto out;
	}
	label[label_len] = '\0';
	if ((rc = tok_get_bool(tok, s, obj, CKA_EXTRACTABLE, &k->exportable)) != 0 ||
	    (rc = tok_get_bool(tok, s, obj, CKA_SENSITIVE, &k->sensitive)) != 0)
		goto out;
	/* EC private key objects carry no CKA_EC_POINT: describe the pair from its public half. */
	if (tok_find_object(tok, s, CKO_PUBLIC_KEY, id, id_len, &pub_obj) != 0)
		pub_obj = obj;
	rc = tok_pkey_from_attrs(tok, s, pub_obj, &pkey);
	text = strdup(rc == 0 && tok_spec_of_pkey(pkey, &spec) == 0 ? tok_key_spec_name(spec) : "unsupported");
	k->spec = text;
	k->label = strdup((char *)label);
	rc = tok_keyref_make(tok, id, id_len, (char *)label, &k->keyref);
	if (rc == 0 && (k->spec == NULL || k->label == NULL))
		rc = HSMCA_E_NOMEM;
out:
	EVP_PKEY_free(pkey);
	free(id);
	free(label);
	return rc;
}

int
tok_list_keys(struct tok *tok, struct tok_key_info **keys, size_t *n_keys)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE tmpl[] = { { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE objs[512];
	CK_ULONG n = 0, i;
	CK_SESSION_HANDLE s;
	struct tok_key_info *list = NULL;
	CK_RV rv;
	int rc = 0;

	*keys = NULL;
	*n_keys = 0;
	tok_session_get(tok, &s);
	rv = tok->fl->C_FindObjectsInit(s, tmpl, 1);
	if (rv == CKR_OK) {
		rv = tok->fl->C_FindObjects(s, objs, 512, &n);
		tok->fl->C_FindObjectsFinal(s);
	}
	if (rv != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_FindObjects", rv);
		goto out;
	}
	list = calloc(n ? n : 1, sizeof(*list));
	if (list == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = tok_describe(tok, s, objs[i], &list[i]);
	if (rc != 0)
		goto out;
	*keys = list;
	*n_keys = n;
	list = NULL;
out:
	tok_session_put(tok, s);
	tok_key_list_free(list, n);
	return rc;
}

int
tok_delete_key(struct tok *tok, const char *keyref)
{
	static const CK_OBJECT_CLASS classes[] = { CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_CERTIFICATE };
	unsigned char id[TOK_URI_ID_MAX];
	size_t id_len, i;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj;
	int rc, found = 0;
	CK_RV rv;

	rc = tok_keyref_id(tok, keyref, id, &id_len);
	if (rc != 0)
		return rc;
	tok_cache_forget(tok, id, id_len);
	tok_session_get(tok, &s);
	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		rc = tok_find_object(tok, s, classes[i], id, id_len, &obj);
		if (rc == HSMCA_E_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc != 0)
			break;
		rv = tok->fl->C_DestroyObject(s, obj);
		if (rv != CKR_OK) {
			rc = tok_ckr(HSMCA_E_TOKEN, "C_DestroyObject", rv);
			break;
		}
		found = 1;
	}
	tok_session_put(tok, s);
	if (rc == 0 && !found)
		rc = err_set(HSMCA_E_NOTFOUND, "no such key on token '%s'", tok->label);
	return rc;
}
