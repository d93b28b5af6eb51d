/*
 * totp.c: HOTP/TOTP, base32 and otpauth URIs (see totp.h).
 *
 * May call: OpenSSL HMAC and CRYPTO_memcmp, err.h. Must never: read the clock or the RNG (kept
 * pure so the unit test can use the RFC 6238 Appendix B vectors at their fixed times).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "err.h"
#include "totp.h"

int
totp_hotp(const uint8_t *key, size_t key_len, uint64_t counter, uint32_t *code)
{
	uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0, off;
	int i;

	*code = 0;
	if (key == NULL || key_len == 0 || key_len > 64)
		return err_set(HSMCA_E_INVALID, "TOTP key must be 1..64 bytes");
	for (i = 7; i >= 0; i--) {
		msg[i] = (uint8_t)(counter & 0xff);
		counter >>= 8;
	}
	if (HMAC(EVP_sha1(), key, (int)key_len, msg, sizeof(msg), mac, &mac_len) == NULL || mac_len != 20) {
		err_drain_openssl();
		return err_set(HSMCA_E_INTERNAL, "HMAC-SHA1 failed");
	}
	/* RFC 4226 §5.3 dynamic truncation. */
	off = mac[19] & 0x0f;
	*code = (((uint32_t)mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
	    (uint32_t)mac[off + 2] << 8 | (uint32_t)mac[off + 3]) % 1000000;
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int
totp_code_at(const uint8_t *key, size_t key_len, int64_t unix_time, char out[TOTP_DIGITS + 1])
{
	uint32_t v;
	int rc;

	out[0] = '\0';
	if (unix_time < 0)
		return err_set(HSMCA_E_INVALID, "time before the epoch");
	if ((rc = totp_hotp(key, key_len, (uint64_t)(unix_time / TOTP_STEP_S), &v)) != 0)
		return rc;
	snprintf(out, TOTP_DIGITS + 1, "%06u", v);
	return 0;
}

int
totp_verify(const uint8_t *key, size_t key_len, int64_t unix_time, const char *code, int64_t *step_out)
{
	char want[TOTP_DIGITS + 1];
	int64_t step, d;
	int i, rc, ok = 0;

	if (step_out != NULL)
		*step_out = 0;
	if (code == NULL || strlen(code) != TOTP_DIGITS)
		return err_set(HSMCA_E_INVALID, "the two-factor code must be %d digits", TOTP_DIGITS);
	for (i = 0; i < TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return err_set(HSMCA_E_INVALID, "the two-factor code must be %d digits", TOTP_DIGITS);
	if (unix_time < TOTP_STEP_S)
		return err_set(HSMCA_E_INVALID, "time before the epoch");
	step = unix_time / TOTP_STEP_S;
	/* All three windows are computed and compared every time, so timing does not tell which
	 * window (if any) matched. */
	for (d = -1; d <= 1; d++) {
		if ((rc = totp_code_at(key, key_len, (step + d) * TOTP_STEP_S, want)) != 0)
			return rc;
		if (CRYPTO_memcmp(want, code, TOTP_DIGITS) == 0 && !ok) {
			ok = 1;
			if (step_out != NULL)
				*step_out = step + d;
		}
	}
	OPENSSL_cleanse(want, sizeof(want));
	return ok ? 0 : err_set(HSMCA_E_AUTH, "the two-factor code is wrong or expired");
}

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int
totp_base32_encode(const uint8_t *data, size_t len, char **out)
{
	char *s;
	size_t i, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	*out = NULL;
	s = malloc(len * 8 / 5 + 2);
	if (s == NULL)
		return HSMCA_E_NOMEM;
	for (i = 0; i < len; i++) {
		acc = (acc << 8) | data[i];
		bits += 8;
		while (bits >= 5) {
			s[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		s[o++] = b32[(acc << (5 - bits)) & 31];
	s[o] = '\0';
	*out = s;
	return 0;
}

int
totp_base32_decode(const char *text, uint8_t **out, size_t *out_len)
{
	uint8_t *d;
	size_t i, o = 0;
	uint32_t acc = 0;
	int bits = 0, v;
	char c;

	*out = NULL;
	*out_len = 0;
	if (text == NULL)
		return err_set(HSMCA_E_INVALID, "base32 text missing");
	d = malloc(strlen(text) * 5 / 8 + 1);
	if (d == NULL)
		return HSMCA_E_NOMEM;
	for (i = 0; text[i] != '\0'; i++) {
		c = text[i];
		if (c == ' ' || c == '=')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= '2' && c <= '7')
			v = c - '2' + 26;
		else {
			OPENSSL_clear_free(d, strlen(text) * 5 / 8 + 1);
			return err_set(HSMCA_E_INVALID, "not base32");
		}
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			d[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	*out = d;
	*out_len = o;
	return 0;
}

/* RFC 3986 unreserved characters pass; everything else is %XX. */
static size_t
pct_encode(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	unsigned char c;

	for (; *in != '\0'; in++) {
		c = (unsigned char)*in;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~') {
			if (o + 1 >= cap)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 3 >= cap)
				break;
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

int
totp_uri(const char *issuer, const char *account, const uint8_t *key, size_t key_len, char **out)
{
	char iss[256], acc[256], *secret = NULL, *uri = NULL;
	size_t cap;
	int rc;

	*out = NULL;
	if (issuer == NULL || account == NULL || strlen(issuer) > 80 || strlen(account) > 80)
		return err_set(HSMCA_E_INVALID, "issuer and account must be at most 80 bytes");
	pct_encode(issuer, iss, sizeof(iss));
	pct_encode(account, acc, sizeof(acc));
	if ((rc = totp_base32_encode(key, key_len, &secret)) != 0)
		return rc;
	cap = strlen(iss) * 2 + strlen(acc) + strlen(secret) + 128;
	uri = malloc(cap);
	if (uri == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	snprintf(uri, cap, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=%d&period=%d",
	    iss, acc, secret, iss, TOTP_DIGITS, TOTP_STEP_S);
	*out = uri;
	rc = 0;
out:
	OPENSSL_clear_free(secret, strlen(secret));
	return rc;
}
