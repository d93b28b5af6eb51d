/*
 * libctx.h: the two private OpenSSL library contexts, each made once (thread-safe) and borrowed
 * until the process ends. Neither is the default context, so nothing else picks them up.
 */
#ifndef HSMCA_LIBCTX_H
#define HSMCA_LIBCTX_H

#include <openssl/types.h>

/* Default and legacy providers: single DES, which old SCEP clients use for envelopes. Only the
 * SCEP envelope code asks for it, so nothing else can pick a legacy algorithm by accident. NULL
 * when the legacy provider is not installed (then DES fails and everything else still works). */
OSSL_LIB_CTX *legacy_libctx(void);

/* Only the "null" provider: d2i in it skips OpenSSL 3.0's costly opportunistic public key decode
 * (csr.c builds the key itself). NULL if it could not be made (callers use the default one). */
OSSL_LIB_CTX *null_libctx(void);

#endif
