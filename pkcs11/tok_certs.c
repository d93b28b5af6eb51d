/*
 * tok_certs.c: decoded certificates for tok_cms.c, shared across calls (see tok_internal.h).
 *
 * Callers hand the token layer certificate bytes only (tok_cms.h), and every SCEP enrollment
 * names the same RA certificate and CA chain: decoding them afresh cost three or more d2i_X509
 * per enrollment (~1.5 M instructions each, most of it the public key). This keeps one decoded
 * X509 per distinct DER, found by the SHA-256 of the bytes, so a hit costs one hash of ~1 KB.
 *
 * Process-wide rather than per token: a certificate is public data, the same bytes decode to the
 * same object whichever token's key it goes with, and nothing here touches a token. The cache
 * holds one reference per entry; callers get their own (X509_up_ref) and may keep it past an
 * eviction. The shared X509 is only read (CMS signer/recipient, EVP_PKEY_eq); OpenSSL guards
 * its lazily computed fields (extension cache) with the object's own lock.
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include "tok_internal.h"

/* RA + CA + chain of a few CAs, plus their rollover successors. */
#define TOK_CERTS_MAX 32

struct cert_entry {
	uint8_t sha256[SHA256_DIGEST_LENGTH];
	size_t len;
	X509 *x;                 /* one reference held by the cache; NULL: free slot */
	unsigned long last_use;
};

static pthread_mutex_t certs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cert_entry certs[TOK_CERTS_MAX];
static unsigned long certs_clock;

/* One DER Certificate, nothing after it, or NULL. */
static X509 *
decode(const uint8_t *der, size_t len)
{
	const uint8_t *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);

	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	if (x == NULL)
		ERR_clear_error();
	return x;
}

/* The entry for (digest, len), or NULL. Caller holds certs_lock. */
static struct cert_entry *
lookup(const uint8_t digest[SHA256_DIGEST_LENGTH], size_t len)
{
	size_t i;

	for (i = 0; i < TOK_CERTS_MAX; i++) {
		if (certs[i].x != NULL && certs[i].len == len && memcmp(certs[i].sha256, digest, sizeof(certs[i].sha256)) == 0)
			return &certs[i];
	}
	return NULL;
}

/* A free slot, else the least recently used one (emptied). Caller holds certs_lock. */
static struct cert_entry *
victim(void)
{
	struct cert_entry *v = &certs[0];
	size_t i;

	for (i = 0; i < TOK_CERTS_MAX && v->x != NULL; i++) {
		if (certs[i].x == NULL || certs[i].last_use < v->last_use)
			v = &certs[i];
	}
	X509_free(v->x);
	v->x = NULL;
	return v;
}

X509 *
tok_cert_get(const uint8_t *der, size_t len, size_t max_len)
{
	uint8_t digest[SHA256_DIGEST_LENGTH];
	struct cert_entry *e;
	X509 *x = NULL, *mine;

	if (der == NULL || len == 0 || len > max_len || len > (size_t)LONG_MAX)
		return NULL;
	if (EVP_Digest(der, len, digest, NULL, EVP_sha256(), NULL) != 1) {
		ERR_clear_error();
		return NULL;
	}
	pthread_mutex_lock(&certs_lock);
	if ((e = lookup(digest, len)) != NULL && X509_up_ref(e->x) == 1) {
		e->last_use = ++certs_clock;
		x = e->x;
	}
	pthread_mutex_unlock(&certs_lock);
	if (x != NULL)
		return x;
	/* Decoded outside the lock; two threads missing at once both decode, one entry is kept. */
	if ((mine = decode(der, len)) == NULL)
		return NULL;
	pthread_mutex_lock(&certs_lock);
	if ((e = lookup(digest, len)) == NULL && X509_up_ref(mine) == 1) {
		e = victim();
		memcpy(e->sha256, digest, sizeof(e->sha256));
		e->len = len;
		e->x = mine;
		e->last_use = ++certs_clock;
	}
	pthread_mutex_unlock(&certs_lock);
	return mine;
}
