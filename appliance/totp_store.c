/*
 * totp_store.c: sealing and checking TOTP keys at rest (see totp_store.h).
 */
#include <stdio.h>

#include "err.h"
#include "tok.h"
#include "totp.h"
#include "totp_store.h"

static void
totp_aad(int64_t user_id, char out[48])
{
	snprintf(out, 48, "hsmca:totp:user:%lld", (long long)user_id);
}

int
totp_store_seal(struct tok *tok, int64_t user_id, const uint8_t *key, size_t key_len, struct buf *sealed)
{
	char aad[48];

	if (tok == NULL)
		return err_set(HSMCA_E_TOKEN, "two-factor keys need the token, which is not open");
	totp_aad(user_id, aad);
	return tok_seal(tok, aad, key, key_len, sealed);
}

int
totp_store_verify(struct tok *tok, int64_t user_id, const uint8_t *sealed, size_t sealed_len, int64_t unix_time,
    const char *code, int64_t *step_out)
{
	struct buf key = { 0 };
	char aad[48];
	int rc;

	if (tok == NULL)
		return err_set(HSMCA_E_TOKEN, "two-factor keys need the token, which is not open");
	totp_aad(user_id, aad);
	rc = tok_unseal(tok, aad, sealed, sealed_len, &key);
	if (rc == HSMCA_E_INVALID)
		return err_set(HSMCA_E_AUTH, "the stored two-factor key does not open; an administrator must reset it");
	if (rc != 0)
		return rc;
	rc = totp_verify(key.data, key.len, unix_time, code, step_out);
	buf_free(&key);
	return rc;
}
