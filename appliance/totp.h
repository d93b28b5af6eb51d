/*
 * totp.h: pure RFC 4226 (HOTP) / RFC 6238 (TOTP) with the parameters every authenticator app
 * supports: HMAC-SHA-1, 6 digits, 30-second steps; verification accepts one step either side
 * for clock skew. Base32 (RFC 4648, no padding on output) for secrets and the otpauth:// URI of
 * Google Authenticator's Key Uri Format.
 *
 * Pure: no I/O, no clock (callers pass the time), no randomness (callers make the secret), no
 * globals. Safe from any thread.
 */
#ifndef HSMCA_TOTP_H
#define HSMCA_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define TOTP_DIGITS 6
#define TOTP_STEP_S 30
#define TOTP_SECRET_LEN 20   /* 160 bits, the RFC 4226 recommended key size for HMAC-SHA-1 */

/* HOTP value for key and counter (RFC 4226 §5.3), 0..999999. */
int totp_hotp(const uint8_t *key, size_t key_len, uint64_t counter, uint32_t *code);

/* The 6-digit code for unix_time, as text ("012345"). */
int totp_code_at(const uint8_t *key, size_t key_len, int64_t unix_time, char out[TOTP_DIGITS + 1]);

/* Checks a submitted code against unix_time's step and one step either side, comparing in
 * constant time. 0 and *step_out (the matching step, may be NULL) on success; HSMCA_E_AUTH on
 * mismatch; HSMCA_E_INVALID when code is not exactly 6 digits. */
int totp_verify(const uint8_t *key, size_t key_len, int64_t unix_time, const char *code,
    int64_t *step_out);

/* Base32 without padding; *out malloc'd, caller frees (wipe: it is a secret). */
int totp_base32_encode(const uint8_t *data, size_t len, char **out);
/* Accepts upper/lower case, ignores spaces and '=' padding. *out malloc'd, caller frees. */
int totp_base32_decode(const char *text, uint8_t **out, size_t *out_len);

/* otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * with issuer and account percent-encoded. *out malloc'd, caller frees. */
int totp_uri(const char *issuer, const char *account, const uint8_t *key, size_t key_len, char **out);

#endif
