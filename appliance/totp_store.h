/*
 * totp_store.h: TOTP keys at rest. A TOTP key must be read back to compute codes, so it cannot
 * be hashed; it is sealed under the token's AES key (tok_seal) with the user id as associated
 * data, so a sealed key copied to another user's row does not open.
 */
#ifndef HSMCA_TOTP_STORE_H
#define HSMCA_TOTP_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct tok;

/* Seals key for user_id. sealed: caller frees with buf_free(). */
int totp_store_seal(struct tok *tok, int64_t user_id, const uint8_t *key, size_t key_len, struct buf *sealed);

/* Opens the sealed key of user_id and checks code at unix_time (±1 step). 0 when it matches,
 * HSMCA_E_AUTH when it does not, HSMCA_E_TOKEN without a token. *step_out (may be NULL) gets the
 * matching time step, for replay protection. */
int totp_store_verify(struct tok *tok, int64_t user_id, const uint8_t *sealed, size_t sealed_len,
    int64_t unix_time, const char *code, int64_t *step_out);

#endif
