/* libctx.c: the private library contexts (see libctx.h). */
#include <pthread.h>

#include <openssl/err.h>
#include <openssl/provider.h>

#include "libctx.h"

static pthread_once_t legacy_once = PTHREAD_ONCE_INIT, null_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *legacy_ctx, *null_ctx;   /* written once under their once, then read-only */

/* A new context with these providers (NULL-terminated), or NULL. A context with no provider
 * loaded would fall back to the default one, hence "null" rather than none. Providers loaded
 * into a context stay until it is freed: no handles to keep. */
static OSSL_LIB_CTX *
ctx_with(const char *const *providers)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();

	for (; ctx != NULL && *providers != NULL; providers++) {
		if (OSSL_PROVIDER_load(ctx, *providers) == NULL) {
			OSSL_LIB_CTX_free(ctx);
			ctx = NULL;
			ERR_clear_error();
		}
	}
	return ctx;
}

static void
legacy_init(void)
{
	static const char *const providers[] = { "default", "legacy", NULL };

	legacy_ctx = ctx_with(providers);
}

static void
null_init(void)
{
	static const char *const providers[] = { "null", NULL };

	null_ctx = ctx_with(providers);
}

OSSL_LIB_CTX *
legacy_libctx(void)
{
	pthread_once(&legacy_once, legacy_init);
	return legacy_ctx;
}

OSSL_LIB_CTX *
null_libctx(void)
{
	pthread_once(&null_once, null_init);
	return null_ctx;
}
