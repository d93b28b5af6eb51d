/*
 * tok_seal.c: sealing small recoverable secrets (TOTP keys) under a token AES key.
 *
 * Hashing is right for what only needs checking (passwords, API tokens, codes); a TOTP key must
 * be read back to compute codes, so it is encrypted instead, under a key that is generated on
 * the token, sensitive and never extractable: a stolen database alone reveals nothing.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "err.h"
#include "tok_internal.h"

#define SEAL_VERSION 0x01
#define SEAL_IV_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_LABEL "hsmca-seal-v1"
#define SEAL_AAD_MAX 256

/* Finds or makes the sealing key; called with key_lock held. */
static int
seal_key_locked(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *key)
{
	CK_OBJECT_CLASS cls = CKO_SECRET_KEY;
	CK_KEY_TYPE kt = CKK_AES;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ULONG value_len = 32, n = 0;
	CK_ATTRIBUTE find[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_LABEL, (void *)SEAL_LABEL, sizeof(SEAL_LABEL) - 1 },
	};
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_ENCRYPT, &yes, sizeof(yes) },
		{ CKA_DECRYPT, &yes, sizeof(yes) },
		{ CKA_VALUE_LEN, &value_len, sizeof(value_len) },
		{ CKA_LABEL, (void *)SEAL_LABEL, sizeof(SEAL_LABEL) - 1 },
	};
	CK_MECHANISM gen = { CKM_AES_KEY_GEN, NULL, 0 };
	CK_RV rv;

	if (tok->seal_key != 0) {
		*key = tok->seal_key;
		return 0;
	}
	pthread_rwlock_rdlock(&tok->store_lock);
	rv = tok->fl->C_FindObjectsInit(s, find, 2);
	if (rv == CKR_OK) {
		rv = tok->fl->C_FindObjects(s, key, 1, &n);
		tok->fl->C_FindObjectsFinal(s);
	}
	pthread_rwlock_unlock(&tok->store_lock);
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_FindObjects(seal key)", rv);
	if (n == 0) {
		pthread_rwlock_wrlock(&tok->store_lock);
		rv = tok->fl->C_GenerateKey(s, &gen, tmpl, sizeof(tmpl) / sizeof(tmpl[0]), key);
		pthread_rwlock_unlock(&tok->store_lock);
		if (rv != CKR_OK)
			return tok_ckr(HSMCA_E_TOKEN, "C_GenerateKey(seal key)", rv);
	}
	tok->seal_key = *key;
	return 0;
}

static int
seal_key(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *key)
{
	int rc;

	pthread_mutex_lock(&tok->key_lock);
	rc = seal_key_locked(tok, s, key);
	pthread_mutex_unlock(&tok->key_lock);
	return rc;
}

int
tok_seal(struct tok *tok, const char *aad, const uint8_t *plain, size_t plain_len, struct buf *sealed)
{
	unsigned char iv[SEAL_IV_LEN], *out = NULL;
	CK_GCM_PARAMS gcm;
	CK_MECHANISM mech = { CKM_AES_GCM, &gcm, sizeof(gcm) };
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_ULONG out_len;
	size_t cap;
	CK_RV rv;
	int rc;

	sealed->data = NULL;
	sealed->len = 0;
	if (aad == NULL || strlen(aad) > SEAL_AAD_MAX || plain_len == 0 || plain_len > TOK_SEAL_MAX)
		return err_set(HSMCA_E_INVALID, "nothing to seal, or too much");
	if (RAND_bytes(iv, sizeof(iv)) != 1)
		return err_set(HSMCA_E_INTERNAL, "no randomness for a seal IV");
	cap = 1 + SEAL_IV_LEN + plain_len + SEAL_TAG_LEN;
	out = malloc(cap + 1);
	if (out == NULL)
		return HSMCA_E_NOMEM;
	memset(&gcm, 0, sizeof(gcm));
	gcm.iv_ptr = iv;
	gcm.iv_len = sizeof(iv);
	gcm.iv_bits = sizeof(iv) * 8;
	gcm.aad_ptr = (unsigned char *)aad;
	gcm.aad_len = strlen(aad);
	gcm.tag_bits = SEAL_TAG_LEN * 8;
	tok_session_get(tok, &s);
	rc = seal_key(tok, s, &key);
	if (rc == 0) {
		out_len = (CK_ULONG)(cap - 1 - SEAL_IV_LEN);
		rv = tok->fl->C_EncryptInit(s, &mech, key);
		if (rv == CKR_OK)
			rv = tok->fl->C_Encrypt(s, (CK_BYTE_PTR)plain, plain_len, out + 1 + SEAL_IV_LEN, &out_len);
		if (rv != CKR_OK)
			rc = tok_ckr(HSMCA_E_TOKEN, "C_Encrypt(AES-GCM)", rv);
	}
	tok_session_put(tok, s);
	if (rc != 0) {
		free(out);
		return rc;
	}
	out[0] = SEAL_VERSION;
	memcpy(out + 1, iv, SEAL_IV_LEN);
	sealed->data = out;
	sealed->len = 1 + SEAL_IV_LEN + out_len;
	return 0;
}

int
tok_unseal(struct tok *tok, const char *aad, const uint8_t *sealed, size_t sealed_len, struct buf *plain)
{
	CK_GCM_PARAMS gcm;
	CK_MECHANISM mech = { CKM_AES_GCM, &gcm, sizeof(gcm) };
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	unsigned char *out = NULL;
	CK_ULONG out_len;
	size_t ct_len;
	CK_RV rv;
	int rc;

	plain->data = NULL;
	plain->len = 0;
	if (aad == NULL || strlen(aad) > SEAL_AAD_MAX || sealed == NULL ||
	    sealed_len < 1 + SEAL_IV_LEN + SEAL_TAG_LEN + 1 || sealed_len > 1 + SEAL_IV_LEN + TOK_SEAL_MAX + SEAL_TAG_LEN ||
	    sealed[0] != SEAL_VERSION)
		return err_set(HSMCA_E_INVALID, "sealed value is malformed");
	ct_len = sealed_len - 1 - SEAL_IV_LEN;
	out = malloc(ct_len + 1);
	if (out == NULL)
		return HSMCA_E_NOMEM;
	memset(&gcm, 0, sizeof(gcm));
	gcm.iv_ptr = (unsigned char *)sealed + 1;
	gcm.iv_len = SEAL_IV_LEN;
	gcm.iv_bits = SEAL_IV_LEN * 8;
	gcm.aad_ptr = (unsigned char *)aad;
	gcm.aad_len = strlen(aad);
	gcm.tag_bits = SEAL_TAG_LEN * 8;
	tok_session_get(tok, &s);
	rc = seal_key(tok, s, &key);
	if (rc == 0) {
		out_len = (CK_ULONG)ct_len;
		rv = tok->fl->C_DecryptInit(s, &mech, key);
		if (rv == CKR_OK)
			rv = tok->fl->C_Decrypt(s, (CK_BYTE_PTR)sealed + 1 + SEAL_IV_LEN, ct_len, out, &out_len);
		/* With the key and IV accepted, a failing decryption means the tag did not verify;
		 * SoftHSM reports that as a general failure rather than CKR_ENCRYPTED_DATA_INVALID. */
		if (rv == CKR_ENCRYPTED_DATA_INVALID || rv == CKR_ENCRYPTED_DATA_LEN_RANGE ||
		    rv == CKR_FUNCTION_FAILED || rv == CKR_GENERAL_ERROR)
			rc = err_set(HSMCA_E_INVALID, "sealed value was altered or belongs elsewhere");
		else if (rv != CKR_OK)
			rc = tok_ckr(HSMCA_E_TOKEN, "C_Decrypt(AES-GCM)", rv);
	}
	tok_session_put(tok, s);
	if (rc != 0) {
		OPENSSL_clear_free(out, ct_len + 1);
		return rc;
	}
	plain->data = out;
	plain->len = out_len;
	out[out_len] = '\0';
	return 0;
}
