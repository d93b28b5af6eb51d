/* legacy_ctx.c: the private library context with the legacy provider (see legacy_ctx.h). */
#include <pthread.h>

#include <openssl/err.h>
#include <openssl/provider.h>

#include "legacy_ctx.h"

static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *legacy_ctx;   /* written once under legacy_once, then read-only */

static void
legacy_init(void)
{
	OSSL_LIB_CTX *ctx = OSSL_LIB_CTX_new();

	if (ctx == NULL)
		return;
	/* Providers loaded into a context stay until it is freed: no handles to keep. */
	if (OSSL_PROVIDER_load(ctx, "default") == NULL || OSSL_PROVIDER_load(ctx, "legacy") == NULL) {
		OSSL_LIB_CTX_free(ctx);
		ERR_clear_error();
		return;
	}
	legacy_ctx = ctx;
}

OSSL_LIB_CTX *
legacy_libctx(void)
{
	pthread_once(&legacy_once, legacy_init);
	return legacy_ctx;
}
