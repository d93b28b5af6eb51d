/*
 * legacy_ctx.h: the one OpenSSL library context that has the legacy provider (single DES, which
 * old SCEP clients use for envelopes). It is never the default context: only the SCEP envelope
 * code asks for it, so nothing else can pick a legacy algorithm by accident.
 */
#ifndef HSMCA_LEGACY_CTX_H
#define HSMCA_LEGACY_CTX_H

#include <openssl/types.h>

/* The context with the default and legacy providers, made once (thread-safe); NULL when the
 * legacy provider is not installed (then DES fails and everything else still works). Borrowed:
 * lives until the process ends. */
OSSL_LIB_CTX *legacy_libctx(void);

#endif
