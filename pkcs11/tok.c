/*
 * tok.c: the tok.h operations that only read or remove token objects: key specs, public keys,
 * the exportable flag, listing and deletion.
 *
 * May call: tok_obj.c and tok_session.c helpers. Never reads a private key value.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "err.h"
#include "tok_internal.h"

static const char *const spec_names[TOK_KEY__MAX] = {
	[TOK_KEY_RSA_2048] = "rsa-2048",
	[TOK_KEY_RSA_3072] = "rsa-3072",
	[TOK_KEY_RSA_4096] = "rsa-4096",
	[TOK_KEY_EC_256] = "ec-256",
	[TOK_KEY_EC_384] = "ec-384",
};

int
tok_key_spec_parse(const char *name, enum tok_key_spec *out)
{
	int i;

	for (i = 0; i < TOK_KEY__MAX; i++) {
		if (name != NULL && strcmp(name, spec_names[i]) == 0) {
			*out = (enum tok_key_spec)i;
			return 0;
		}
	}
	return err_set(HSMCA_E_INVALID, "unknown key type '%s': use rsa-2048, rsa-3072, rsa-4096, ec-256 or ec-384",
	    name != NULL ? name : "");
}

const char *
tok_key_spec_name(enum tok_key_spec spec)
{
	if ((int)spec < 0 || spec >= TOK_KEY__MAX)
		return "unsupported";
	return spec_names[spec];
}

int
tok_key_spec_of(struct tok *tok, const char *keyref, enum tok_key_spec *spec)
{
	struct tok_uri u;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE obj;
	int rc;

	*spec = TOK_KEY__MAX;
	if ((rc = tok_keyref_parse(tok, keyref, &u)) != 0)
		return rc;
	if ((rc = tok_session_get(tok, &s)) != 0)
		return rc;
	rc = tok_find_object(tok, s, strcmp(u.type, "public") == 0 ? CKO_PUBLIC_KEY : CKO_PRIVATE_KEY,
	    u.id, u.id_len, &obj);
	if (rc == HSMCA_E_NOTFOUND)
		rc = err_set(HSMCA_E_NOTFOUND, "no key %s in token %s", keyref, tok->label);
	if (rc == 0)
		rc = tok_spec_of_object(tok, s, obj, spec);
	tok_session_put(tok, s);
	return rc;
}

int
tok_key_is_exportable(struct tok *tok, const char *keyref, int *exportable)
{
	struct tok_key_attrs a;
	int rc;

	*exportable = 0;
	if ((rc = tok_key_attrs(tok, keyref, &a)) != 0)
		return rc;
	*exportable = a.extractable;
	return 0;
}

int
tok_public_key(struct tok *tok, const char *keyref, struct buf *spki_der)
{
	struct tok_uri u;
	EVP_PKEY *pk = NULL;
	uint8_t *der = NULL;
	int len, rc;

	buf_free(spki_der);
	if ((rc = tok_keyref_parse(tok, keyref, &u)) != 0)
		return rc;
	if ((rc = tok_public_pkey(tok, u.id, u.id_len, &pk)) != 0) {
		if (rc == HSMCA_E_NOTFOUND)
			rc = err_set(HSMCA_E_NOTFOUND, "no key %s in token %s", keyref, tok->label);
		return rc;
	}
	if ((len = i2d_PUBKEY(pk, &der)) <= 0) {
		rc = err_set(HSMCA_E_INTERNAL, "i2d_PUBKEY failed");
		err_drain_openssl();
	} else {
		rc = buf_set(spki_der, der, (size_t)len);
	}
	OPENSSL_free(der);
	EVP_PKEY_free(pk);
	return rc;
}

void
tok_key_list_free(struct tok_key_info *keys, size_t n_keys)
{
	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < n_keys; i++) {
		free(keys[i].keyref);
		free(keys[i].label);
		free(keys[i].spec);
	}
	free(keys);
}

/* Fills one entry from the private key object obj. */
static int
key_info(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, struct tok_key_info *ki)
{
	uint8_t *id = NULL, *label = NULL;
	size_t id_len = 0, label_len = 0;
	enum tok_key_spec spec;
	int rc;

	if ((rc = tok_attr_get(tok, s, obj, CKA_ID, &id, &id_len)) != 0)
		goto out;
	/* A key without a label is legal; treat a missing one as empty. */
	if (tok_attr_get(tok, s, obj, CKA_LABEL, &label, &label_len) != 0)
		label_len = 0;
	if ((ki->label = malloc(label_len + 1)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if (label_len > 0)
		memcpy(ki->label, label, label_len);
	ki->label[label_len] = '\0';
	if (id_len == 0 || id_len > TOK_URI_ID_MAX) {
		/* Keys hsmca did not make may lack a usable id: listed, but with no reference. */
		ki->keyref = strdup("");
	} else if ((rc = tok_keyref_make(tok, id, id_len, ki->label, &ki->keyref)) != 0) {
		goto out;
	}
	ki->spec = strdup(tok_spec_of_object(tok, s, obj, &spec) == 0 ? tok_key_spec_name(spec) : "unsupported");
	if (ki->keyref == NULL || ki->spec == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = tok_attr_bool(tok, s, obj, CKA_EXTRACTABLE, &ki->exportable)) != 0 ||
	    (rc = tok_attr_bool(tok, s, obj, CKA_SENSITIVE, &ki->sensitive)) != 0)
		goto out;
	rc = 0;
out:
	OPENSSL_free(id);
	OPENSSL_free(label);
	return rc;
}

int
tok_list_keys(struct tok *tok, struct tok_key_info **keys, size_t *n_keys)
{
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE *objs = NULL;
	struct tok_key_info *out = NULL;
	size_t n = 0, i;
	int rc;

	*keys = NULL;
	*n_keys = 0;
	if ((objs = calloc(TOK_FIND_MAX, sizeof(*objs))) == NULL)
		return HSMCA_E_NOMEM;
	if ((rc = tok_session_get(tok, &s)) != 0)
		goto out;
	if ((rc = tok_find_objects(tok, s, CKO_PRIVATE_KEY, NULL, 0, objs, TOK_FIND_MAX, &n)) != 0)
		goto out;
	if ((out = calloc(n + 1, sizeof(*out))) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rc = key_info(tok, s, objs[i], &out[i])) != 0) {
			n = i + 1;
			goto out;
		}
	}
	*keys = out;
	*n_keys = n;
	out = NULL;
	rc = 0;
out:
	tok_session_put(tok, s);
	tok_key_list_free(out, n);
	free(objs);
	return rc;
}

int
tok_delete_key(struct tok *tok, const char *keyref)
{
	static const CK_OBJECT_CLASS classes[] = { CKO_CERTIFICATE, CKO_PUBLIC_KEY, CKO_PRIVATE_KEY };
	CK_OBJECT_HANDLE objs[16];
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_RV rv = CKR_OK;
	struct tok_uri u;
	size_t c, i, n;
	int rc;

	if ((rc = tok_keyref_parse(tok, keyref, &u)) != 0)
		return rc;
	/* Session, then key_lock (lock order, tok_internal.h); key_lock held throughout so that no
	 * thread loads the key into the cache between our eviction and the destruction. */
	if ((rc = tok_session_get(tok, &s)) != 0)
		return rc;
	pthread_mutex_lock(&tok->key_lock);
	tok_cache_forget(tok, u.id, u.id_len);
	if ((rc = tok_find_objects(tok, s, CKO_PRIVATE_KEY, u.id, u.id_len, objs, 1, &n)) != 0)
		goto out;
	if (n == 0) {
		rc = tok_err_no_key(tok, keyref);
		goto out;
	}
	/* Certificate and public key first, the private key last: a failure half-way leaves the
	 * key usable rather than an orphaned public half. */
	for (c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
		if ((rc = tok_find_objects(tok, s, classes[c], u.id, u.id_len, objs, 16, &n)) != 0)
			goto out;
		for (i = 0; i < n; i++) {
			pthread_rwlock_wrlock(&tok->store_lock);
			rv = tok->fl->C_DestroyObject(s, objs[i]);
			pthread_rwlock_unlock(&tok->store_lock);
			if (rv != CKR_OK) {
				rc = tok_ckr(HSMCA_E_TOKEN, "C_DestroyObject", rv);
				goto out;
			}
		}
	}
	rc = 0;
out:
	pthread_mutex_unlock(&tok->key_lock);
	tok_session_put_rv(tok, s, rv);
	return rc;
}
