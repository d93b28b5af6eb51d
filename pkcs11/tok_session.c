/*
 * tok_session.c: module load, token login, the raw session pool and the token EVP_PKEY cache.
 *
 * The sole holder of the PIN: read from a file (mode 0600 or stricter) or an environment
 * variable, given to the module once, then wiped; only a salted SHA-256 of it stays, to check a
 * second tok_open() of the same token. May call libp11 and the PKCS#11 function list.
 *
 * Process-wide state (the only mutable globals of pkcs11/): the list of loaded modules and of
 * open tokens, under registry_lock. One libp11 context per module path, shared by every token of
 * that module, because C_Initialize/C_Finalize are per process: a second context would get
 * CKR_CRYPTOKI_ALREADY_INITIALIZED and its unload would finalise the module under the first.
 *
 * SoftHSM reads SOFTHSM2_CONF in C_Initialize only. So a module stays bound to the SOFTHSM2_CONF
 * it was loaded with until the last token of it is closed; tok_open() refuses (HSMCA_E_BUSY) a
 * different SOFTHSM2_CONF meanwhile, rather than silently using the old token directory.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libp11.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "buf.h"
#include "err.h"
#include "tok_internal.h"

struct tok_module {
	struct tok_module *next;
	int refs;
	char *path;
	char *softhsm_conf;         /* SOFTHSM2_CONF at load time, or NULL */
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned int n_slots;
	void *dl;
	CK_FUNCTION_LIST *fl;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tok_module *modules;  /* under registry_lock */
static struct tok *toks;            /* under registry_lock */

int
tok_registry_lock_idle(void)
{
	pthread_mutex_lock(&registry_lock);
	return modules == NULL;
}

void
tok_registry_unlock(void)
{
	pthread_mutex_unlock(&registry_lock);
}

int
tok_ckr(int code, const char *what, CK_RV rv)
{
	const char *name;

	switch (rv) {
	case CKR_PIN_INCORRECT: name = "CKR_PIN_INCORRECT"; code = HSMCA_E_PIN; break;
	case CKR_PIN_INVALID: name = "CKR_PIN_INVALID"; code = HSMCA_E_PIN; break;
	case CKR_PIN_LEN_RANGE: name = "CKR_PIN_LEN_RANGE"; code = HSMCA_E_PIN; break;
	case CKR_PIN_EXPIRED: name = "CKR_PIN_EXPIRED"; code = HSMCA_E_PIN; break;
	case CKR_PIN_LOCKED: name = "CKR_PIN_LOCKED"; code = HSMCA_E_PIN; break;
	case CKR_USER_NOT_LOGGED_IN: name = "CKR_USER_NOT_LOGGED_IN"; break;
	case CKR_ATTRIBUTE_SENSITIVE: name = "CKR_ATTRIBUTE_SENSITIVE"; break;
	case CKR_ATTRIBUTE_TYPE_INVALID: name = "CKR_ATTRIBUTE_TYPE_INVALID"; break;
	case CKR_ATTRIBUTE_VALUE_INVALID: name = "CKR_ATTRIBUTE_VALUE_INVALID"; break;
	case CKR_TEMPLATE_INCONSISTENT: name = "CKR_TEMPLATE_INCONSISTENT"; break;
	case CKR_TEMPLATE_INCOMPLETE: name = "CKR_TEMPLATE_INCOMPLETE"; break;
	case CKR_OBJECT_HANDLE_INVALID: name = "CKR_OBJECT_HANDLE_INVALID"; break;
	case CKR_SESSION_HANDLE_INVALID: name = "CKR_SESSION_HANDLE_INVALID"; break;
	case CKR_DEVICE_REMOVED: name = "CKR_DEVICE_REMOVED"; break;
	case CKR_TOKEN_NOT_PRESENT: name = "CKR_TOKEN_NOT_PRESENT"; break;
	case CKR_DEVICE_MEMORY: name = "CKR_DEVICE_MEMORY"; break;
	case CKR_HOST_MEMORY: name = "CKR_HOST_MEMORY"; code = HSMCA_E_NOMEM; break;
	case CKR_MECHANISM_INVALID: name = "CKR_MECHANISM_INVALID"; break;
	case CKR_DOMAIN_PARAMS_INVALID: name = "CKR_DOMAIN_PARAMS_INVALID"; break;
	case CKR_FUNCTION_FAILED: name = "CKR_FUNCTION_FAILED"; break;
	case CKR_GENERAL_ERROR: name = "CKR_GENERAL_ERROR"; break;
	default: name = "CKR"; break;
	}
	return err_set(code, "%s: %s (0x%lx)", what, name, (unsigned long)rv);
}

/* --- the PIN --- */

/* Reads the PIN from cfg (file, else environment) into a fresh NUL-terminated allocation that
 * the caller wipes and frees with OPENSSL_clear_free(pin, TOK_PIN_MAX + 1). */
static int
pin_read(const struct tok_config *cfg, char **out)
{
	char *pin = NULL;
	const char *env;
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd = -1, rc = HSMCA_E_PIN;

	*out = NULL;
	if ((pin = OPENSSL_zalloc(TOK_PIN_MAX + 1)) == NULL)
		return HSMCA_E_NOMEM;
	if (cfg->pin_file != NULL) {
		fd = open(cfg->pin_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0) {
			rc = err_set(HSMCA_E_PIN, "cannot open the PIN file %s: %s", cfg->pin_file, strerror(errno));
			goto out;
		}
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
			rc = err_set(HSMCA_E_PIN, "the PIN file %s is not a regular file", cfg->pin_file);
			goto out;
		}
		/* A PIN others can read is not a secret any more: refuse rather than use it. */
		if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
			rc = err_set(HSMCA_E_PIN, "the PIN file %s is readable by group or others (mode %03o); "
			    "chmod 600 it", cfg->pin_file, (unsigned)(st.st_mode & 0777));
			goto out;
		}
		while (len < TOK_PIN_MAX) {
			n = read(fd, pin + len, TOK_PIN_MAX - len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = err_set(HSMCA_E_PIN, "cannot read the PIN file %s: %s", cfg->pin_file, strerror(errno));
				goto out;
			}
			if (n == 0)
				break;
			len += (size_t)n;
		}
		if (len == TOK_PIN_MAX) {
			rc = err_set(HSMCA_E_PIN, "the PIN file %s is longer than %d bytes", cfg->pin_file, TOK_PIN_MAX);
			goto out;
		}
	} else if (cfg->pin_env != NULL) {
		env = getenv(cfg->pin_env);
		if (env == NULL) {
			rc = err_set(HSMCA_E_PIN, "the environment variable %s holding the PIN is not set", cfg->pin_env);
			goto out;
		}
		len = strlen(env);
		if (len >= TOK_PIN_MAX) {
			rc = err_set(HSMCA_E_PIN, "the PIN in %s is longer than %d bytes", cfg->pin_env, TOK_PIN_MAX);
			goto out;
		}
		memcpy(pin, env, len);
	} else {
		rc = err_set(HSMCA_E_PIN, "no token PIN configured (neither a PIN file nor an environment variable)");
		goto out;
	}
	/* Editors and `echo` add a newline; a PIN never ends with one. */
	while (len > 0 && (pin[len - 1] == '\n' || pin[len - 1] == '\r'))
		pin[--len] = '\0';
	if (len == 0 || memchr(pin, '\0', len) != NULL) {
		rc = err_set(HSMCA_E_PIN, "the token PIN is empty or contains a NUL byte");
		goto out;
	}
	*out = pin;
	pin = NULL;
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	OPENSSL_clear_free(pin, TOK_PIN_MAX + 1);
	return rc;
}

static int
pin_digest(const uint8_t salt[16], const char *pin, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok;

	ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, salt, 16) == 1 && EVP_DigestUpdate(c, pin, strlen(pin)) == 1 &&
	    EVP_DigestFinal_ex(c, out, NULL) == 1;
	EVP_MD_CTX_free(c);
	return ok ? 0 : err_set(HSMCA_E_INTERNAL, "SHA-256 failed");
}

/* --- modules --- */

static void
module_unref(struct tok_module *m)
{
	struct tok_module **pp;

	if (m == NULL || --m->refs > 0)
		return;
	for (pp = &modules; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	if (m->slots != NULL)
		PKCS11_release_all_slots(m->ctx, m->slots, m->n_slots);
	if (m->ctx != NULL) {
		/* The one C_Finalize of this module in the process. */
		PKCS11_CTX_unload(m->ctx);
		PKCS11_CTX_free(m->ctx);
	}
	if (m->dl != NULL)
		dlclose(m->dl);
	free(m->softhsm_conf);
	free(m->path);
	free(m);
}

static int
same_conf(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* The loaded module for path (refs + 1), loading it when needed. Under registry_lock. */
static int
module_get(const char *path, struct tok_module **out)
{
	struct tok_module *m;
	const char *conf = getenv("SOFTHSM2_CONF");
	CK_C_GetFunctionList gfl;
	CK_RV rv;
	int rc = HSMCA_E_TOKEN;

	*out = NULL;
	for (m = modules; m != NULL; m = m->next) {
		if (strcmp(m->path, path) != 0)
			continue;
		if (!same_conf(m->softhsm_conf, conf))
			return err_set(HSMCA_E_BUSY, "the PKCS#11 module %s was initialised in this process with "
			    "SOFTHSM2_CONF=%s, now it is %s; a module reads it only once: close every token first",
			    path, m->softhsm_conf ? m->softhsm_conf : "(unset)", conf ? conf : "(unset)");
		m->refs++;
		*out = m;
		return 0;
	}
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return HSMCA_E_NOMEM;
	m->refs = 1;
	if ((m->path = strdup(path)) == NULL || (conf != NULL && (m->softhsm_conf = strdup(conf)) == NULL)) {
		rc = HSMCA_E_NOMEM;
		goto fail;
	}
	if ((m->ctx = PKCS11_CTX_new()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto fail;
	}
	if (PKCS11_CTX_load(m->ctx, path) != 0) {
		rc = err_set(HSMCA_E_TOKEN, "cannot load the PKCS#11 module %s", path);
		err_drain_openssl();
		PKCS11_CTX_free(m->ctx);
		m->ctx = NULL;
		goto fail;
	}
	if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->n_slots) != 0) {
		rc = err_set(HSMCA_E_TOKEN, "cannot list the slots of %s", path);
		err_drain_openssl();
		goto fail;
	}
	/* The raw view: the same shared object, so the same module instance libp11 initialised. */
	if ((m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (gfl = (CK_C_GetFunctionList)dlsym(m->dl, "C_GetFunctionList")) == NULL) {
		rc = err_set(HSMCA_E_TOKEN, "cannot open %s for direct PKCS#11 calls", path);
		goto fail;
	}
	if ((rv = gfl(&m->fl)) != CKR_OK) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_GetFunctionList", rv);
		goto fail;
	}
	rv = m->fl->C_Initialize(NULL);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		rc = tok_ckr(HSMCA_E_TOKEN, "C_Initialize", rv);
		goto fail;
	}
	m->next = modules;
	modules = m;
	*out = m;
	return 0;
fail:
	m->next = NULL;
	/* Not in the list yet: module_unref's unlink finds nothing and only frees. */
	module_unref(m);
	return rc;
}

/* --- open / close --- */

static void
tok_free(struct tok *tok)
{
	size_t i;
	int j;

	if (tok == NULL)
		return;
	for (i = 0; i < tok->n_cache; i++)
		EVP_PKEY_free(tok->cache[i].pkey);
	for (j = 0; j < tok->n_idle; j++)
		tok->fl->C_CloseSession(tok->idle[j]);
	pthread_mutex_destroy(&tok->pool_lock);
	pthread_cond_destroy(&tok->pool_cond);
	pthread_mutex_destroy(&tok->key_lock);
	pthread_rwlock_destroy(&tok->store_lock);
	OPENSSL_cleanse(tok->pin_digest, sizeof(tok->pin_digest));
	free(tok);
}

/* The slot whose initialised token carries label. */
static PKCS11_SLOT *
find_slot(struct tok_module *m, const char *label)
{
	unsigned int i;

	for (i = 0; i < m->n_slots; i++) {
		PKCS11_TOKEN *t = m->slots[i].token;

		if (t != NULL && t->initialized && t->label != NULL && strcmp(t->label, label) == 0)
			return &m->slots[i];
	}
	return NULL;
}

static int
login(struct tok *tok, const char *pin)
{
	CK_SESSION_HANDLE s;
	CK_RV rv;

	/* Our own C_Login first: it gives the exact CKR_PIN_* code, which libp11's error queue only
	 * hints at. libp11's login after it answers from CKR_USER_ALREADY_LOGGED_IN, and libp11
	 * then knows the slot is logged in (and keeps the PIN to log in again after a fork). */
	rv = tok->fl->C_OpenSession(tok->slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_OpenSession", rv);
	rv = tok->fl->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, (CK_ULONG)strlen(pin));
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		tok->fl->C_CloseSession(s);
		if (rv == CKR_PIN_INCORRECT)
			return err_set(HSMCA_E_PIN, "wrong PIN for token %s", tok->label);
		return tok_ckr(HSMCA_E_PIN, "C_Login", rv);
	}
	/* Kept: the first session of the pool. */
	tok->idle[tok->n_idle++] = s;
	tok->n_open++;
	if (PKCS11_login((PKCS11_SLOT *)tok->slot, 0, pin) != 0) {
		err_set(HSMCA_E_PIN, "libp11 login to token %s failed", tok->label);
		err_drain_openssl();
		return HSMCA_E_PIN;
	}
	return 0;
}

int
tok_open(const struct tok_config *cfg, struct tok **out)
{
	const char *path;
	struct tok *tok = NULL, *t;
	struct tok_module *mod = NULL;
	PKCS11_SLOT *slot;
	char *pin = NULL;
	uint8_t digest[32];
	int rc = HSMCA_E_INTERNAL, locked = 0;

	*out = NULL;
	if (cfg == NULL || cfg->token_label == NULL || cfg->token_label[0] == '\0' ||
	    strlen(cfg->token_label) > TOK_URI_TOKEN_MAX)
		return err_set(HSMCA_E_INVALID, "token label missing or longer than %d bytes", TOK_URI_TOKEN_MAX);
	path = cfg->module_path != NULL ? cfg->module_path : TOK_DEFAULT_MODULE;
	if ((rc = pin_read(cfg, &pin)) != 0)
		goto out;

	pthread_mutex_lock(&registry_lock);
	locked = 1;
	for (t = toks; t != NULL; t = t->next) {
		if (strcmp(t->mod->path, path) == 0 && strcmp(t->label, cfg->token_label) == 0)
			break;
	}
	if (t != NULL) {
		/* Already logged in: the module would accept any PIN now, so check it ourselves. */
		if ((rc = pin_digest(t->pin_salt, pin, digest)) != 0)
			goto out;
		if (CRYPTO_memcmp(digest, t->pin_digest, sizeof(digest)) != 0) {
			rc = err_set(HSMCA_E_PIN, "wrong PIN for token %s", t->label);
			goto out;
		}
		t->refs++;
		*out = t;
		rc = 0;
		goto out;
	}
	if ((rc = module_get(path, &mod)) != 0)
		goto out;
	if ((slot = find_slot(mod, cfg->token_label)) == NULL) {
		/* A configuration or set-up fault, not a client's unknown id: HSMCA_E_TOKEN. */
		rc = err_set(HSMCA_E_TOKEN, "no token labelled %s in %s", cfg->token_label, path);
		goto out;
	}
	if ((tok = calloc(1, sizeof(*tok))) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	pthread_mutex_init(&tok->pool_lock, NULL);
	pthread_cond_init(&tok->pool_cond, NULL);
	pthread_mutex_init(&tok->key_lock, NULL);
	pthread_rwlock_init(&tok->store_lock, NULL);
	tok->refs = 1;
	tok->mod = mod;
	tok->fl = mod->fl;
	tok->slot = slot;
	tok->slot_id = PKCS11_get_slotid_from_slot(slot);
	tok->pool_max = cfg->pool_size <= 0 ? TOK_POOL_DEFAULT :
	    cfg->pool_size > TOK_POOL_MAX ? TOK_POOL_MAX : cfg->pool_size;
	snprintf(tok->label, sizeof(tok->label), "%s", cfg->token_label);
	if ((rc = login(tok, pin)) != 0)
		goto out;
	if (RAND_bytes(tok->pin_salt, sizeof(tok->pin_salt)) != 1) {
		rc = err_set(HSMCA_E_INTERNAL, "RAND_bytes failed");
		goto out;
	}
	if ((rc = pin_digest(tok->pin_salt, pin, tok->pin_digest)) != 0)
		goto out;
	tok->next = toks;
	toks = tok;
	*out = tok;
	tok = NULL;
	mod = NULL;
	rc = 0;
out:
	if (rc != 0)
		ERR_clear_error();
	tok_free(tok);
	module_unref(mod);
	if (locked)
		pthread_mutex_unlock(&registry_lock);
	OPENSSL_cleanse(digest, sizeof(digest));
	OPENSSL_clear_free(pin, TOK_PIN_MAX + 1);
	return rc;
}

void
tok_close(struct tok *tok)
{
	struct tok **pp;
	struct tok_module *mod;
	PKCS11_SLOT *slot;

	if (tok == NULL)
		return;
	pthread_mutex_lock(&registry_lock);
	if (--tok->refs > 0) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	for (pp = &toks; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == tok) {
			*pp = tok->next;
			break;
		}
	}
	mod = tok->mod;
	slot = tok->slot;
	/* libp11 EVP_PKEYs and our sessions first, then the login, then (last user) the module. */
	tok_free(tok);
	PKCS11_logout(slot);
	module_unref(mod);
	pthread_mutex_unlock(&registry_lock);
}

const char *
tok_label(const struct tok *tok)
{
	return tok->label;
}

int
tok_ping(struct tok *tok)
{
	CK_SESSION_HANDLE s;
	CK_SESSION_INFO info;
	CK_RV rv;
	int rc;

	if ((rc = tok_session_get(tok, &s)) != 0)
		return rc;
	rv = tok->fl->C_GetSessionInfo(s, &info);
	tok_session_put_rv(tok, s, rv);
	if (rv != CKR_OK)
		return tok_ckr(HSMCA_E_TOKEN, "C_GetSessionInfo", rv);
	if (info.state != CKS_RW_USER_FUNCTIONS)
		return err_set(HSMCA_E_TOKEN, "token %s is no longer logged in", tok->label);
	return 0;
}

/* --- the raw session pool --- */

int
tok_session_get(struct tok *tok, CK_SESSION_HANDLE *s)
{
	CK_RV rv;
	int rc = 0;

	*s = CK_INVALID_HANDLE;
	pthread_mutex_lock(&tok->pool_lock);
	while (tok->n_idle == 0 && tok->n_open >= tok->pool_max)
		pthread_cond_wait(&tok->pool_cond, &tok->pool_lock);
	if (tok->n_idle > 0) {
		*s = tok->idle[--tok->n_idle];
	} else {
		/* Sessions opened after the login are logged in too (login is per token, PKCS#11 2.40
		 * section 5.6). Read/write: key generation, import and deletion create or destroy
		 * token objects. */
		rv = tok->fl->C_OpenSession(tok->slot_id, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, s);
		if (rv != CKR_OK)
			rc = tok_ckr(HSMCA_E_TOKEN, "C_OpenSession", rv);
		else
			tok->n_open++;
	}
	pthread_mutex_unlock(&tok->pool_lock);
	return rc;
}

void
tok_session_put(struct tok *tok, CK_SESSION_HANDLE s)
{
	tok_session_put_rv(tok, s, CKR_OK);
}

void
tok_session_put_rv(struct tok *tok, CK_SESSION_HANDLE s, CK_RV last_rv)
{
	int dead;

	if (s == CK_INVALID_HANDLE)
		return;
	dead = last_rv == CKR_SESSION_HANDLE_INVALID || last_rv == CKR_SESSION_CLOSED ||
	    last_rv == CKR_DEVICE_REMOVED || last_rv == CKR_TOKEN_NOT_PRESENT || last_rv == CKR_DEVICE_ERROR;
	pthread_mutex_lock(&tok->pool_lock);
	if (dead) {
		tok->fl->C_CloseSession(s);
		tok->n_open--;
	} else {
		tok->idle[tok->n_idle++] = s;
	}
	pthread_cond_signal(&tok->pool_cond);
	pthread_mutex_unlock(&tok->pool_lock);
}

/* --- the token EVP_PKEY cache --- */

static struct tok_cached_key *
cache_find(struct tok *tok, const uint8_t *id, size_t id_len)
{
	size_t i;

	for (i = 0; i < tok->n_cache; i++) {
		if (tok->cache[i].id_len == id_len && memcmp(tok->cache[i].id, id, id_len) == 0)
			return &tok->cache[i];
	}
	return NULL;
}

void
tok_cache_forget(struct tok *tok, const uint8_t *id, size_t id_len)
{
	struct tok_cached_key *c;

	if ((c = cache_find(tok, id, id_len)) != NULL) {
		EVP_PKEY_free(c->pkey);
		*c = tok->cache[--tok->n_cache];
	}
}

/* The libp11 EVP_PKEY of the private key with CKA_ID id. Under key_lock: libp11 reallocates its
 * key list while enumerating. */
static int
libp11_key(struct tok *tok, const uint8_t *id, size_t id_len, EVP_PKEY **out)
{
	PKCS11_SLOT *slot = tok->slot;
	PKCS11_KEY *keys = NULL;
	unsigned int n = 0, i, j;
	int rc;

	*out = NULL;
	pthread_rwlock_rdlock(&tok->store_lock);
	rc = PKCS11_enumerate_keys(slot->token, &keys, &n);
	pthread_rwlock_unlock(&tok->store_lock);
	if (rc != 0) {
		err_set(HSMCA_E_TOKEN, "libp11 cannot list the keys of token %s", tok->label);
		err_drain_openssl();
		return HSMCA_E_TOKEN;
	}
	/* The last match: libp11 keeps an entry whose object was deleted behind its back and appends
	 * a key restored under the same CKA_ID (a new handle) after it, so the first match would be
	 * the dead handle. */
	for (i = n, j = 0; j < n; j++) {
		if (keys[j].id_len == id_len && memcmp(keys[j].id, id, id_len) == 0)
			i = j;
	}
	if (i == n)
		return err_set(HSMCA_E_NOTFOUND, "libp11 does not see the key in token %s", tok->label);
	/* libp11 0.4.12 returns a new reference (checked: freeing it leaves the key usable). */
	if ((*out = PKCS11_get_private_key(&keys[i])) == NULL) {
		err_set(HSMCA_E_TOKEN, "libp11 cannot load the private key from token %s", tok->label);
		err_drain_openssl();
		return HSMCA_E_TOKEN;
	}
	return 0;
}

/* A cache hit for id: a new reference in *pkey. Under key_lock. */
static int
cache_take(struct tok *tok, const uint8_t *id, size_t id_len, EVP_PKEY **pkey, enum tok_key_spec *spec)
{
	struct tok_cached_key *c = cache_find(tok, id, id_len);

	if (c == NULL)
		return 0;
	EVP_PKEY_up_ref(c->pkey);
	*pkey = c->pkey;
	if (spec != NULL)
		*spec = c->spec;
	c->last_use = ++tok->use_clock;
	return 1;
}

int
tok_pkey_get_spec(struct tok *tok, const char *keyref, EVP_PKEY **pkey, enum tok_key_spec *spec)
{
	struct tok_uri u;
	struct tok_cached_key *c;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE obj;
	EVP_PKEY *pk = NULL;
	enum tok_key_spec sp = TOK_KEY__MAX;
	size_t i, oldest;
	int rc, hit;

	*pkey = NULL;
	if ((rc = tok_keyref_parse(tok, keyref, &u)) != 0)
		return rc;
	/* The fast path (every signature after the first): no session, no token call. */
	pthread_mutex_lock(&tok->key_lock);
	hit = cache_take(tok, u.id, u.id_len, pkey, spec);
	pthread_mutex_unlock(&tok->key_lock);
	if (hit)
		return 0;

	/* Lock order: session, then key_lock (tok_internal.h). */
	if ((rc = tok_session_get(tok, &s)) != 0)
		return rc;
	pthread_mutex_lock(&tok->key_lock);
	if (cache_take(tok, u.id, u.id_len, pkey, spec)) {
		rc = 0;
		goto out;
	}
	/* Ask the token itself first, under key_lock so that no deletion runs in between:
	 * libp11's list keeps keys deleted behind its back. */
	rc = tok_find_object(tok, s, CKO_PRIVATE_KEY, u.id, u.id_len, &obj);
	if (rc == HSMCA_E_NOTFOUND)
		rc = tok_err_no_key(tok, keyref);
	if (rc != 0 || (rc = tok_spec_of_object(tok, s, obj, &sp)) != 0)
		goto out;
	if ((rc = libp11_key(tok, u.id, u.id_len, &pk)) != 0)
		goto out;
	if (tok->n_cache == TOK_KEY_CACHE_MAX) {
		for (oldest = 0, i = 1; i < tok->n_cache; i++) {
			if (tok->cache[i].last_use < tok->cache[oldest].last_use)
				oldest = i;
		}
		EVP_PKEY_free(tok->cache[oldest].pkey);
		tok->cache[oldest] = tok->cache[--tok->n_cache];
	}
	c = &tok->cache[tok->n_cache++];
	memcpy(c->id, u.id, u.id_len);
	c->id_len = u.id_len;
	c->spec = sp;
	c->pkey = pk;
	c->last_use = ++tok->use_clock;
	EVP_PKEY_up_ref(pk);
	*pkey = pk;
	if (spec != NULL)
		*spec = sp;
	rc = 0;
out:
	pthread_mutex_unlock(&tok->key_lock);
	tok_session_put(tok, s);
	return rc;
}

int
tok_pkey_get(struct tok *tok, const char *keyref, EVP_PKEY **pkey)
{
	return tok_pkey_get_spec(tok, keyref, pkey, NULL);
}

int
tok_pkey_failed(struct tok *tok, const char *keyref, int rc)
{
	struct tok_uri u;
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE obj;
	int found;

	/* The failed operation parsed keyref already; this cannot fail but must not hide rc. */
	if (tok_uri_parse(keyref, &u) != 0)
		return rc;
	if ((found = tok_session_get(tok, &s)) != 0)
		return found;
	/* Session, then key_lock (lock order); under key_lock so that the answer and the eviction
	 * cannot straddle a tok_pkey_get loading the key. */
	pthread_mutex_lock(&tok->key_lock);
	found = tok_find_object(tok, s, CKO_PRIVATE_KEY, u.id, u.id_len, &obj);
	if (found == HSMCA_E_NOTFOUND)
		tok_cache_forget(tok, u.id, u.id_len);
	pthread_mutex_unlock(&tok->key_lock);
	tok_session_put(tok, s);
	if (found == HSMCA_E_NOTFOUND)
		return tok_err_no_key(tok, keyref);
	return found != 0 ? found : rc;
}
