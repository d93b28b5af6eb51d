/*
 * tok_internal.h: what the files of pkcs11/ share. Never included outside pkcs11/.
 *
 * Two views of one module in one process: libp11 (login, EVP_PKEY for signing and RSA
 * decryption) and the raw PKCS#11 function list (key generation with explicit templates,
 * attribute reads, object creation and deletion), as NOTES.md verified: the raw view dlopens the
 * same module, treats CKR_CRYPTOKI_ALREADY_INITIALIZED as success, never finalises while libp11
 * holds the module, and its sessions share libp11's login.
 */
#ifndef HSMCA_TOK_INTERNAL_H
#define HSMCA_TOK_INTERNAL_H

#include <pthread.h>

#include <openssl/evp.h>

#define CK_PTR *
#define CK_DECLARE_FUNCTION(rtype, func) rtype func
#define CK_DECLARE_FUNCTION_POINTER(rtype, func) rtype (*func)
#define CK_CALLBACK_FUNCTION(rtype, func) rtype (*func)
#ifndef NULL_PTR
#define NULL_PTR NULL
#endif
#include <p11-kit/pkcs11.h>

#include "tok.h"
#include "tok_uri.h"

#define TOK_POOL_MAX 32
#define TOK_KEY_CACHE_MAX 256
#define TOK_ID_LEN 16

struct tok_cached_key {
	unsigned char id[TOK_URI_ID_MAX];
	size_t id_len;
	EVP_PKEY *pkey;     /* libp11-backed private key */
};

struct tok {
	void *p11ctx;               /* PKCS11_CTX * */
	void *slots;                /* PKCS11_SLOT * array */
	unsigned int n_slots;
	void *slot;                 /* PKCS11_SLOT * of our token */
	char label[33];
	void *dl;                   /* raw view of the module */
	CK_FUNCTION_LIST_PTR fl;
	CK_SLOT_ID slot_id;

	pthread_mutex_t pool_lock;  /* raw session pool */
	pthread_cond_t pool_cond;
	CK_SESSION_HANDLE pool[TOK_POOL_MAX];
	int pool_free[TOK_POOL_MAX];
	int pool_size;

	pthread_mutex_t key_lock;   /* libp11 enumeration and the key cache */
	struct tok_cached_key keys[TOK_KEY_CACHE_MAX];
	size_t n_keys;
	CK_OBJECT_HANDLE seal_key;  /* tok_seal's AES key, 0 until first use (under key_lock) */
};

/* A raw session from the pool (blocks while all are busy) and its return. */
int tok_session_get(struct tok *tok, CK_SESSION_HANDLE *s);
void tok_session_put(struct tok *tok, CK_SESSION_HANDLE s);

/* Records a PKCS#11 failure as the thread's detail: "<what>: <CKR name> (0x..)". */
int tok_ckr(int code, const char *what, CK_RV rv);

/* Parses keyref, checks it names this token, and gives its CKA_ID. */
int tok_keyref_id(struct tok *tok, const char *keyref, unsigned char *id, size_t *id_len);

/* Finds the object of class cls with CKA_ID id. HSMCA_E_NOTFOUND when absent. */
int tok_find_object(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls, const unsigned char *id,
    size_t id_len, CK_OBJECT_HANDLE *obj);

/* Reads one attribute into a malloc'd buffer (caller frees with OPENSSL_clear_free). */
int tok_get_attr(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    unsigned char **val, size_t *len);

/* A CK_BBOOL attribute as 0/1. */
int tok_get_bool(struct tok *tok, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type,
    int *out);

/* Software EVP_PKEY of the public half of the key pair with CKA_ID id (from the public key
 * object, else the private key's public attributes). Caller frees. */
int tok_public_pkey(struct tok *tok, const unsigned char *id, size_t id_len, EVP_PKEY **out);

/* An EVP_PKEY backed by the token private key named by keyref, for EVP_DigestSign and RSA
 * PKCS#1 v1.5 decryption, usable from any thread. Caller frees with EVP_PKEY_free. */
int tok_pkey_get(struct tok *tok, const char *keyref, EVP_PKEY **pkey);

/* Drops id from the key cache (after deletion). */
void tok_cache_forget(struct tok *tok, const unsigned char *id, size_t id_len);

/* The digest that goes with a key: SHA-384 for P-384, SHA-256 otherwise. */
const EVP_MD *tok_digest_for(EVP_PKEY *pkey);

/* A fresh random CKA_ID and the URI naming its private key. */
int tok_new_id(unsigned char id[TOK_ID_LEN]);
int tok_keyref_make(struct tok *tok, const unsigned char *id, size_t id_len, const char *label,
    char **keyref);

#endif
