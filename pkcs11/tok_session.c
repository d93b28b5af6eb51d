/*
 * tok_session.c: module load, token login, the raw session pool and the key cache.
 *
 * The sole holder of the PIN: it is read from a file (mode 0600 or stricter) or an environment
 * variable, handed to the module once, and wiped. May call libp11 and the PKCS#11 function list.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "buf.h"
#include "err.h"
#include "tok_internal.h"

#define TOK_PIN_MAX 256

static const char *const tok_spec_names[TOK_KEY__MAX] = {
	"rsa-2048", "rsa-3072", "rsa-4096", "ec-256", "ec-384",
};

int
tok_key_spec_parse(const char *name, enum tok_key_spec *out)
{
	int i;

	for (i = 0; name != NULL && i < TOK_KEY__MAX; i++)
		if (strcmp(name, tok_spec_names[i]) == 0) {
			*out = (enum tok_key_spec)i;
			return 0;
		}
	return err_set(HSMCA_E_INVALID, "unknown key type '%s' (use rsa-2048, rsa-3072, rsa-4096, ec-256 or ec-384)",
	    name ? name : "");
}

const char *
tok_key_spec_name(enum tok_key_spec spec)
{
	return (unsigned)spec < TOK_KEY__MAX ? tok_spec_names[spec] : "unsupported";
}

int
tok_ckr(int code, const char *what, CK_RV rv)
{
	const char *name;

	switch (rv) {
	case CKR_PIN_INCORRECT: name = "CKR_PIN_INCORRECT"; break;
	case CKR_PIN_LOCKED: name = "CKR_PIN_LOCKED"; break;
	case CKR_USER_NOT_LOGGED_IN: name = "CKR_USER_NOT_LOGGED_IN"; break;
	case CKR_DEVICE_REMOVED: name = "CKR_DEVICE_REMOVED"; break;
	case CKR_TOKEN_NOT_PRESENT: name = "CKR_TOKEN_NOT_PRESENT"; break;
	case CKR_ATTRIBUTE_TYPE_INVALID: name = "CKR_ATTRIBUTE_TYPE_INVALID"; break;
	case CKR_ATTRIBUTE_SENSITIVE: name = "CKR_ATTRIBUTE_SENSITIVE"; break;
	case CKR_TEMPLATE_INCONSISTENT: name = "CKR_TEMPLATE_INCONSISTENT"; break;
	case CKR_MECHANISM_INVALID: name = "CKR_MECHANISM_INVALID"; break;
	default: name = "CKR"; break;
	}
	return err_set(code, "token: %s failed: %s (0x%lx)", what, name, (unsigned long)rv);
}

/* Reads the PIN, refusing a file others could read. */
static int
tok_read_pin(const struct tok_config *cfg, char pin[TOK_PIN_MAX + 1])
{
	struct buf file = { 0 };
	struct stat st;
	const char *env;
	size_t len;
	int rc;

	if (cfg->pin_file != NULL) {
		if (stat(cfg->pin_file, &st) != 0)
			return err_set(HSMCA_E_PIN, "PIN file %s is missing", cfg->pin_file);
		if ((st.st_mode & 077) != 0)
			return err_set(HSMCA_E_PIN, "PIN file %s is readable by group or others (mode %03o); "
			    "chmod 600 it", cfg->pin_file, (unsigned)(st.st_mode & 0777));
		rc = buf_read_file(cfg->pin_file, TOK_PIN_MAX + 2, &file);
		if (rc != 0)
			return rc == HSMCA_E_TOOLARGE ? err_set(HSMCA_E_PIN, "PIN file %s is too long", cfg->pin_file) : rc;
		len = file.len;
		while (len > 0 && (file.data[len - 1] == '\n' || file.data[len - 1] == '\r'))
			len--;
		if (len == 0 || len > TOK_PIN_MAX || memchr(file.data, '\0', len) != NULL) {
			buf_free(&file);
			return err_set(HSMCA_E_PIN, "PIN file %s holds no usable PIN", cfg->pin_file);
		}
		memcpy(pin, file.data, len);
		pin[len] = '\0';
		buf_free(&file);
		return 0;
	}
	env = cfg->pin_env != NULL ? getenv(cfg->pin_env) : NULL;
	if (env == NULL || *env == '\0')
		return err_set(HSMCA_E_PIN, "no token PIN: neither a PIN file nor $%s is set",
		    cfg->pin_env ? cfg->pin_env : "HSMCA_PIN");
	if (strlen(env) > TOK_PIN_MAX)
		return err_set(HSMCA_E_PIN, "the PIN in $%s is too long", cfg->pin_env);
	memcpy(pin, env, strlen(env) + 1);
	return 0;
}

/* The raw view: same module, its function list, sessions sharing libp11's login. */
static int
tok_open_raw(struct tok *tok, const char *module)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;
	int i;

	tok->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL);
	if (tok->dl == NULL)
		return err_set(HSMCA_E_TOKEN, "cannot load PKCS#11 module %s: %s", module, dlerror());
	*(void **)&get_list = dlsym(tok->dl, "C_GetFunctionList");
	if (get_list == NULL || get_list(&tok->fl) != CKR_OK)
		return err_set(HSMCA_E_TOKEN, "PKCS#11 module %s has no function list", module);
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = tok->fl->C_Initialize(&args);
	/* libp11 initialised the module already: that is the expected answer (NOTES.md). */
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return tok_ckr(HSMCA_E_TOKEN, "C_Initialize", rv);
	for (i = 0; i < tok->pool_size; i++) {
		rv = tok->fl->C_OpenSession(tok->slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &tok->pool[i]);
		if (rv != CKR_OK)
			return tok_ckr(HSMCA_E_TOKEN, "C_OpenSession", rv);
		tok->pool_free[i] = 1;
	}
	return 0;
}

int
tok_open(const struct tok_config *cfg, struct tok **out)
{
	struct tok *tok = NULL;
	PKCS11_SLOT *slots, *slot = NULL;
	const char *module = cfg->module_path ? cfg->module_path : TOK_DEFAULT_MODULE;
	char pin[TOK_PIN_MAX + 1];
	unsigned int i;
	int rc = HSMCA_E_TOKEN;

	*out = NULL;
	pin[0] = '\0';
	if (cfg->token_label == NULL || *cfg->token_label == '\0' || strlen(cfg->token_label) > 32)
		return err_set(HSMCA_E_INVALID, "token label must be 1 to 32 characters");
	tok = calloc(1, sizeof(*tok));
	if (tok == NULL)
		return HSMCA_E_NOMEM;
	pthread_mutex_init(&tok->pool_lock, NULL);
	pthread_cond_init(&tok->pool_cond, NULL);
	pthread_mutex_init(&tok->key_lock, NULL);
	tok->pool_size = cfg->pool_size <= 0 ? 4 : cfg->pool_size > TOK_POOL_MAX ? TOK_POOL_MAX : cfg->pool_size;
	snprintf(tok->label, sizeof(tok->label), "%s", cfg->token_label);
	rc = tok_read_pin(cfg, pin);
	if (rc != 0)
		goto out;
	rc = HSMCA_E_TOKEN;
	tok->p11ctx = PKCS11_CTX_new();
	if (tok->p11ctx == NULL)
		goto out;
	if (PKCS11_CTX_load(tok->p11ctx, module) != 0) {
		rc = err_set(HSMCA_E_TOKEN, "cannot load PKCS#11 module %s", module);
		goto out;
	}
	if (PKCS11_enumerate_slots(tok->p11ctx, &slots, &tok->n_slots) != 0) {
		rc = err_set(HSMCA_E_TOKEN, "cannot list the slots of %s", module);
		goto out;
	}
	tok->slots = slots;
	for (i = 0; i < tok->n_slots; i++)
		if (slots[i].token != NULL && slots[i].token->initialized &&
		    strcmp(slots[i].token->label, cfg->token_label) == 0) {
			slot = &slots[i];
			break;
		}
	if (slot == NULL) {
		rc = err_set(HSMCA_E_TOKEN, "no token labelled '%s' in %s", cfg->token_label, module);
		goto out;
	}
	tok->slot = slot;
	tok->slot_id = PKCS11_get_slotid_from_slot(slot);
	if (PKCS11_login(slot, 0, pin) != 0) {
		rc = err_set(HSMCA_E_PIN, "login to token '%s' refused: wrong PIN (or the PIN is locked)", cfg->token_label);
		goto out;
	}
	rc = tok_open_raw(tok, module);
	if (rc != 0)
		goto out;
	*out = tok;
	tok = NULL;
	rc = 0;
out:
	OPENSSL_cleanse(pin, sizeof(pin));
	if (rc != 0)
		err_drain_openssl();
	ERR_clear_error();
	tok_close(tok);
	return rc;
}

void
tok_close(struct tok *tok)
{
	size_t i;
	int j;

	if (tok == NULL)
		return;
	for (i = 0; i < tok->n_keys; i++)
		EVP_PKEY_free(tok->keys[i].pkey);
	if (tok->fl != NULL)
		for (j = 0; j < tok->pool_size; j++)
			if (tok->pool[j] != 0)
				tok->fl->C_CloseSession(tok->pool[j]);
	/* No C_Finalize on the raw view: libp11 owns the module's life. */
	if (tok->slots != NULL)
		PKCS11_release_all_slots(tok->p11ctx, tok->slots, tok->n_slots);
	if (tok->p11ctx != NULL) {
		PKCS11_CTX_unload(tok->p11ctx);
		PKCS11_CTX_free(tok->p11ctx);
	}
	if (tok->dl != NULL)
		dlclose(tok->dl);
	pthread_mutex_destroy(&tok->key_lock);
	pthread_cond_destroy(&tok->pool_cond);
	pthread_mutex_destroy(&tok->pool_lock);
	free(tok);
}

const char *
tok_label(const struct tok *tok)
{
	return tok->label;
}

int
tok_session_get(struct tok *tok, CK_SESSION_HANDLE *s)
{
	int i;

	pthread_mutex_lock(&tok->pool_lock);
	for (;;) {
		for (i = 0; i < tok->pool_size; i++)
			if (tok->pool_free[i]) {
				tok->pool_free[i] = 0;
				*s = tok->pool[i];
				pthread_mutex_unlock(&tok->pool_lock);
				return 0;
			}
		pthread_cond_wait(&tok->pool_cond, &tok->pool_lock);
	}
}

void
tok_session_put(struct tok *tok, CK_SESSION_HANDLE s)
{
	int i;

	pthread_mutex_lock(&tok->pool_lock);
	for (i = 0; i < tok->pool_size; i++)
		if (tok->pool[i] == s)
			tok->pool_free[i] = 1;
	pthread_cond_signal(&tok->pool_cond);
	pthread_mutex_unlock(&tok->pool_lock);
}

int
tok_ping(struct tok *tok)
{
	CK_SESSION_HANDLE s;
	CK_SESSION_INFO info;
	CK_RV rv;

	tok_session_get(tok, &s);
	rv = tok->fl->C_GetSessionInfo(s, &info);
	tok_session_put(tok, s);
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_GetSessionInfo", rv);
	if (info.state != CKS_RW_USER_FUNCTIONS && info.state != CKS_RO_USER_FUNCTIONS)
		return err_set(HSMCA_E_TOKEN, "token '%s' is no longer logged in", tok->label);
	return 0;
}

int
tok_keyref_id(struct tok *tok, const char *keyref, unsigned char *id, size_t *id_len)
{
	struct tok_uri u;
	int rc;

	rc = tok_uri_parse(keyref, &u);
	if (rc != 0)
		return rc;
	if (u.token[0] != '\0' && strcmp(u.token, tok->label) != 0)
		return err_set(HSMCA_E_NOTFOUND, "key %s is on token '%s', not on '%s'", keyref, u.token, tok->label);
	if (u.id_len == 0)
		return err_set(HSMCA_E_INVALID, "key reference %s has no id", keyref);
	memcpy(id, u.id, u.id_len);
	*id_len = u.id_len;
	return 0;
}

int
tok_new_id(unsigned char id[TOK_ID_LEN])
{
	return RAND_bytes(id, TOK_ID_LEN) == 1 ? 0 : err_set(HSMCA_E_INTERNAL, "no randomness for a key id");
}

int
tok_keyref_make(struct tok *tok, const unsigned char *id, size_t id_len, const char *label, char **keyref)
{
	struct tok_uri u;

	memset(&u, 0, sizeof(u));
	snprintf(u.token, sizeof(u.token), "%s", tok->label);
	snprintf(u.object, sizeof(u.object), "%s", label ? label : "");
	snprintf(u.type, sizeof(u.type), "private");
	memcpy(u.id, id, id_len);
	u.id_len = id_len;
	return tok_uri_format(&u, keyref);
}

int
tok_find_object(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const unsigned char *id,
    size_t id_len, CK_OBJECT_HANDLE *obj)
{
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_ID, (void *)id, id_len },
	};
	CK_ULONG n = 0;
	CK_RV rv;

	rv = tok->fl->C_FindObjectsInit(s, tmpl, 2);
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_FindObjectsInit", rv);
	rv = tok->fl->C_FindObjects(s, obj, 1, &n);
	tok->fl->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_FindObjects", rv);
	if (n == 0)
		return err_set(HSMCA_E_NOTFOUND, "no such key on token '%s'", tok->label);
	return 0;
}

int
tok_get_attr(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    unsigned char **val, size_t *len)
{
	CK_ATTRIBUTE a = { type, NULL, 0 };
	CK_RV rv;

	*val = NULL;
	*len = 0;
	rv = tok->fl->C_GetAttributeValue(s, obj, &a, 1);
	if (rv != CKR_OK)
		return tok_ckr(rv == CKR_ATTRIBUTE_SENSITIVE ? HSMCA_E_CONFLICT : HSMCA_E_TOKEN, "C_GetAttributeValue", rv);
	if (a.ulValueLen == (CK_ULONG)-1 || a.ulValueLen > 1 << 20)
		return err_set(HSMCA_E_TOKEN, "token returned an unusable attribute length");
	a.pValue = malloc(a.ulValueLen + 1);
	if (a.pValue == NULL)
		return HSMCA_E_NOMEM;
	rv = tok->fl->C_GetAttributeValue(s, obj, &a, 1);
	if (rv != CKR_OK) {
		free(a.pValue);
		return tok_ckr(HSMCA_E_TOKEN, "C_GetAttributeValue", rv);
	}
	*val = a.pValue;
	*len = a.ulValueLen;
	return 0;
}

int
tok_get_bool(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, int *out)
{
	CK_BBOOL b = CK_FALSE;
	CK_ATTRIBUTE a = { type, &b, sizeof(b) };
	CK_RV rv;

	rv = tok->fl->C_GetAttributeValue(s, obj, &a, 1);
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_GetAttributeValue", rv);
	*out = b == CK_TRUE;
	return 0;
}

/* Looks id up among libp11's keys; re-enumerates once, since keys made through the raw view are
 * unknown to libp11 until it lists the token again. Called with key_lock held. */
static int
tok_libp11_key(struct tok *tok, const unsigned char *id, size_t id_len, EVP_PKEY **pkey)
{
	PKCS11_SLOT *slot = tok->slot;
	PKCS11_KEY *keys;
	unsigned int n, i;

	if (PKCS11_enumerate_keys(slot->token, &keys, &n) != 0)
		return err_set(HSMCA_E_TOKEN, "cannot list the keys of token '%s'", tok->label);
	for (i = 0; i < n; i++)
		if (keys[i].isPrivate && keys[i].id_len == id_len && memcmp(keys[i].id, id, id_len) == 0) {
			*pkey = PKCS11_get_private_key(&keys[i]);
			if (*pkey == NULL)
				return err_set(HSMCA_E_TOKEN, "libp11 cannot use the key");
			return 0;
		}
	return err_set(HSMCA_E_NOTFOUND, "no such private key on token '%s'", tok->label);
}

int
tok_pkey_get(struct tok *tok, const char *keyref, EVP_PKEY **pkey)
{
	unsigned char id[TOK_URI_ID_MAX];
	size_t id_len, i;
	EVP_PKEY *found = NULL;
	int rc;

	*pkey = NULL;
	rc = tok_keyref_id(tok, keyref, id, &id_len);
	if (rc != 0)
		return rc;
	pthread_mutex_lock(&tok->key_lock);
	for (i = 0; i < tok->n_keys; i++)
		if (tok->keys[i].id_len == id_len && memcmp(tok->keys[i].id, id, id_len) == 0) {
			found = tok->keys[i].pkey;
			break;
		}
	if (found == NULL) {
		/* libp11 keeps keys it once listed even after they are destroyed: ask the token
		 * itself whether the key exists before trusting libp11's list. */
		CK_SESSION_HANDLE s;
		CK_OBJECT_HANDLE obj;

		tok_session_get(tok, &s);
		rc = tok_find_object(tok, s, CKO_PRIVATE_KEY, id, id_len, &obj);
		tok_session_put(tok, s);
		if (rc == 0)
			rc = tok_libp11_key(tok, id, id_len, &found);
		if (rc == 0 && tok->n_keys < TOK_KEY_CACHE_MAX) {
			memcpy(tok->keys[tok->n_keys].id, id, id_len);
			tok->keys[tok->n_keys].id_len = id_len;
			tok->keys[tok->n_keys].pkey = found;
			tok->n_keys++;
		} else if (rc == 0) {
			/* Cache full: hand over this reference, uncached. */
			*pkey = found;
			pthread_mutex_unlock(&tok->key_lock);
			return 0;
		}
	}
	if (found != NULL && EVP_PKEY_up_ref(found) == 1)
		*pkey = found;
	else if (rc == 0)
		rc = HSMCA_E_INTERNAL;
	pthread_mutex_unlock(&tok->key_lock);
	return rc;
}

void
tok_cache_forget(struct tok *tok, const unsigned char *id, size_t id_len)
{
	size_t i;

	pthread_mutex_lock(&tok->key_lock);
	for (i = 0; i < tok->n_keys; i++)
		if (tok->keys[i].id_len == id_len && memcmp(tok->keys[i].id, id, id_len) == 0) {
			EVP_PKEY_free(tok->keys[i].pkey);
			tok->keys[i] = tok->keys[--tok->n_keys];
			break;
		}
	pthread_mutex_unlock(&tok->key_lock);
}

const EVP_MD *
tok_digest_for(EVP_PKEY *pkey)
{
	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC && EVP_PKEY_get_bits(pkey) == 384)
		return EVP_sha384();
	return EVP_sha256();
}
