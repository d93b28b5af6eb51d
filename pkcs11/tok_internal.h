/*
 * tok_internal.h: what the files of pkcs11/ share. Never included outside pkcs11/ (and the
 * token layer's own unit tests).
 *
 * Two views of one module in one process: libp11 (login, EVP_PKEY for signing and RSA
 * decryption) and the raw PKCS#11 function list (key generation with explicit templates,
 * attribute reads, object creation and deletion). As NOTES.md verified, the raw view dlopens the
 * same module, treats CKR_CRYPTOKI_ALREADY_INITIALIZED as success, never finalises while libp11
 * holds the module, and its sessions (opened on libp11's slot id) share libp11's login.
 *
 * p11-kit's pkcs11.h defines CK_PTR, CK_DECLARE_FUNCTION & co. itself in its default
 * CRYPTOKI_COMPAT mode (NOTES.md says otherwise; checked against p11-kit 0.24.1: no macro is
 * needed, and defining them first is harmless but pointless). It has no NULL_PTR: we use NULL.
 */
#ifndef HSMCA_TOK_INTERNAL_H
#define HSMCA_TOK_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>

#include "buf.h"
#include "tok.h"
#include "tok_uri.h"

#define TOK_POOL_MAX      32    /* cap on tok_config.pool_size */
#define TOK_POOL_DEFAULT  4
#define TOK_KEY_CACHE_MAX 64    /* libp11 EVP_PKEYs kept per token */
#define TOK_ID_LEN        16    /* bytes of a fresh random CKA_ID */
#define TOK_LABEL_MAX     TOK_URI_LABEL_MAX  /* our cap on a key's CKA_LABEL */
#define TOK_PIN_MAX       256
#define TOK_FIND_MAX      4096  /* objects one search returns at most */

struct tok_module;

struct tok_cached_key {
	uint8_t id[TOK_URI_ID_MAX];
	size_t id_len;
	enum tok_key_spec spec;
	EVP_PKEY *pkey;             /* libp11-backed private key; one reference held by the cache */
	unsigned long last_use;
};

/*
 * One open token. tok_open() of a (module, label) pair that is already open in this process
 * returns the same struct with refs + 1 (after checking the PIN), because PKCS#11 login state is
 * per application and per token: a second libp11 context would "log in" with any PIN and its
 * C_Finalize would pull the module from under the first. Fields above the locks are written once
 * in tok_open and read-only afterwards.
 */
struct tok {
	struct tok *next;           /* registry list, under the registry lock */
	int refs;                   /* under the registry lock */
	struct tok_module *mod;
	void *slot;                 /* PKCS11_SLOT * of our token (libp11 view) */
	CK_SLOT_ID slot_id;         /* the same slot, raw view */
	CK_FUNCTION_LIST *fl;       /* raw view of the module */
	char label[TOK_URI_TOKEN_MAX + 1];
	uint8_t pin_salt[16];       /* SHA-256(salt || PIN) recognises the PIN on a second open */
	uint8_t pin_digest[32];

	pthread_mutex_t pool_lock;  /* the raw session pool */
	pthread_cond_t pool_cond;
	CK_SESSION_HANDLE idle[TOK_POOL_MAX];
	int n_idle, n_open, pool_max;

	pthread_mutex_t key_lock;   /* libp11 key enumeration, the key cache, seal_key */
	/* Object creation and destruction (write) against object searches (read). SoftHSM 2.6's
	 * file store is not safe for both at once from threads of one process: a search that meets
	 * a key being written answers CKR_OBJECT_HANDLE_INVALID or misses it, and two creations
	 * can fail with CKR_GENERAL_ERROR (tests/unit/test_tok.c, test_concurrent_keygen). Held
	 * only around the single PKCS#11 call, so it nests inside every other lock. */
	pthread_rwlock_t store_lock;
	struct tok_cached_key cache[TOK_KEY_CACHE_MAX];
	size_t n_cache;
	unsigned long use_clock;
	CK_OBJECT_HANDLE seal_key;  /* tok_seal.c's AES key, 0 until first use */
};

/*
 * Lock order: a pool session first, then key_lock (tok_pkey_get, tok_delete_key, tok_seal.c).
 * Never wait for a pool session while holding key_lock: with every session held by a thread
 * waiting for key_lock, that would deadlock.
 */

/* --- tok_session.c: raw sessions --- */

/* A logged-in read/write session from the pool; blocks while all are busy. Give it back with
 * tok_session_put(), or tok_session_put_rv() with the last CK_RV seen on it so that a dead
 * session (CKR_SESSION_HANDLE_INVALID, CKR_DEVICE_REMOVED ...) is closed, not reused.
 * Both accept CK_INVALID_HANDLE (no-op). */
int tok_session_get(struct tok *tok, CK_SESSION_HANDLE *s);
void tok_session_put(struct tok *tok, CK_SESSION_HANDLE s);
void tok_session_put_rv(struct tok *tok, CK_SESSION_HANDLE s, CK_RV last_rv);

/* Records a PKCS#11 failure as the thread's detail, "<what>: CKR_... (0x..)", and returns code
 * (HSMCA_E_PIN for the CKR_PIN_* family whatever code says). */
int tok_ckr(int code, const char *what, CK_RV rv);

/* For tok_softhsm.c: takes the process-wide registry lock and says whether no module is loaded
 * (only then may SOFTHSM2_CONF change). Release with tok_registry_unlock(). */
int tok_registry_lock_idle(void);
void tok_registry_unlock(void);

/* --- tok_obj.c: objects and attributes --- */

/* Parses keyref, checks that token= (when present) names this token and that an id is given. */
int tok_keyref_parse(struct tok *tok, const char *keyref, struct tok_uri *u);

/* A fresh URI for the private key with CKA_ID id and CKA_LABEL label (may be NULL). */
int tok_keyref_make(struct tok *tok, const uint8_t *id, size_t id_len, const char *label,
    char **keyref);

/* Records the detail "no private key <keyref> in token <label>" and returns HSMCA_E_NOTFOUND: the
 * one wording callers outside pkcs11/ may rely on for a key that is not on the token. */
int tok_err_no_key(struct tok *tok, const char *keyref);

/* The first object of class cls with CKA_ID id. HSMCA_E_NOTFOUND when there is none. */
int tok_find_object(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const uint8_t *id,
    size_t id_len, CK_OBJECT_HANDLE *obj);

/* Up to max handles of class cls (every object of that class when id is NULL). */
int tok_find_objects(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const uint8_t *id,
    size_t id_len, CK_OBJECT_HANDLE *objs, size_t max, size_t *n);

/* One attribute in a fresh allocation; caller frees with OPENSSL_clear_free(*val, *len).
 * HSMCA_E_CONFLICT for CKR_ATTRIBUTE_SENSITIVE (the value may not leave the token). */
int tok_attr_get(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    uint8_t **val, size_t *len);

/* A CK_BBOOL attribute as 0/1, a CK_ULONG attribute. */
int tok_attr_bool(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    int *out);
int tok_attr_ulong(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    CK_ULONG *out);

/* The spec of a key object (private or public) from CKA_KEY_TYPE and the modulus / curve.
 * HSMCA_E_POLICY for anything tok_key_spec cannot name. */
int tok_spec_of_object(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
    enum tok_key_spec *spec);

/* The DER OID (CKA_EC_PARAMS) of an EC spec, NULL for RSA. */
const uint8_t *tok_ec_params(enum tok_key_spec spec, size_t *len);

/* A software EVP_PKEY of the public half of the pair with CKA_ID id: the public key object, else
 * (RSA) the private key's public attributes. Caller frees with EVP_PKEY_free. */
int tok_public_pkey(struct tok *tok, const uint8_t *id, size_t id_len, EVP_PKEY **out);

/* The attributes the key policy is about, read from the private key (for tests and listings). */
struct tok_key_attrs {
	int sensitive, extractable, private_, token;
	int always_sensitive, never_extractable, sign, decrypt;
};
int tok_key_attrs(struct tok *tok, const char *keyref, struct tok_key_attrs *a);

/* --- tok_session.c: the token EVP_PKEY --- */

/*
 * An EVP_PKEY backed by the token private key named by keyref, for EVP_DigestSign and RSA
 * PKCS#1 v1.5 decryption (EVP_PKEY_decrypt, CMS_decrypt), usable from any thread (libp11 0.4.12
 * keeps a per-slot session pool for its operations). spec (may be NULL) gets the key's spec.
 * Caller frees with EVP_PKEY_free, and must do so before tok_close(). HSMCA_E_NOTFOUND when the
 * token has no private key with that CKA_ID.
 */
int tok_pkey_get(struct tok *tok, const char *keyref, EVP_PKEY **pkey);
int tok_pkey_get_spec(struct tok *tok, const char *keyref, EVP_PKEY **pkey, enum tok_key_spec *spec);

/* Drops id from the key cache (before the objects are destroyed). The caller holds key_lock. */
void tok_cache_forget(struct tok *tok, const uint8_t *id, size_t id_len);

/*
 * For an operation with tok_pkey_get's EVP_PKEY of keyref that failed with rc. A cached EVP_PKEY
 * outlives its object when the key is deleted behind the appliance's back (pkcs11-tool
 * --delete-object): every signature with it then fails as if the token were broken. This asks
 * the token whether the private key is still there. Gone: the key leaves the cache and the result
 * is HSMCA_E_NOTFOUND (tok_err_no_key). The token cannot answer: the probe's own error. Still
 * there: rc, detail untouched. Call it after draining OpenSSL's queue, so that its detail is the
 * last word.
 */
int tok_pkey_failed(struct tok *tok, const char *keyref, int rc);

/* --- tok_keygen.c: the attribute policy --- */

/* A fresh random CKA_ID (from the token's RNG-independent OpenSSL DRBG). */
int tok_new_id(uint8_t id[TOK_ID_LEN]);

/* Checks a key label: 1..TOK_LABEL_MAX bytes, no control characters. */
int tok_label_check(const char *label);

/* --- tok_certs.c: decoded certificates --- */

/* The X509 of der[0..len), which must be one DER Certificate of at most max_len bytes with
 * nothing after it, else NULL. Decoded once per distinct DER and kept in a small process-wide
 * cache keyed by its SHA-256. The object is shared: read it only. Caller frees with X509_free. */
X509 *tok_cert_get(const uint8_t *der, size_t len, size_t max_len);

/* --- tok_sign.c --- */

/* The digest that goes with a spec: SHA-384 for P-384, SHA-256 otherwise. */
const EVP_MD *tok_digest_for(enum tok_key_spec spec);

#endif
