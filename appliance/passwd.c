/*
 * passwd.c: scrypt password hashes and random passwords (see passwd.h).
 *
 * May call: OpenSSL (EVP_KDF "SCRYPT", RAND_bytes, base64), err.h. Must never: log or keep a
 * password, compare hashes with memcmp.
 *
 * Cost: N=2^15, r=8, p=1 is the RFC 7914 §2 interactive recommendation and OWASP's scrypt
 * minimum; it costs 32 MiB and ~50-100 ms per hash, which also paces online guessing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "err.h"
#include "passwd.h"

#define SCRYPT_N 32768
#define SCRYPT_R 8
#define SCRYPT_P 1
#define SALT_LEN 16
#define HASH_LEN 32
/* Bounds on parameters read back from the database: a row edited to N=2^30 must not turn one
 * login into a 1 TiB allocation. */
#define SCRYPT_N_MAX (1u << 20)
#define SCRYPT_R_MAX 32
#define SCRYPT_P_MAX 16
#define SCRYPT_MAXMEM ((uint64_t)1100 * 1024 * 1024)

static int
scrypt_derive(const char *password, const uint8_t *salt, size_t salt_len, uint64_t n, uint32_t r,
    uint32_t p, uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = NULL;
	EVP_KDF_CTX *kctx = NULL;
	OSSL_PARAM params[7], *q = params;
	uint64_t maxmem = SCRYPT_MAXMEM;
	int rc = HSMCA_E_INTERNAL;

	kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL);
	if (kdf == NULL) {
		err_set(HSMCA_E_INTERNAL, "EVP_KDF_fetch(SCRYPT) failed");
		err_drain_openssl();
		goto out;
	}
	kctx = EVP_KDF_CTX_new(kdf);
	if (kctx == NULL)
		goto out;
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)password, strlen(password));
	*q++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*q++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	*q++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem);
	*q = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, out_len, params) != 1) {
		err_set(HSMCA_E_INTERNAL, "EVP_KDF_derive(SCRYPT) failed");
		err_drain_openssl();
		goto out;
	}
	rc = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return rc;
}

static int
check_input(const char *password)
{
	size_t len;

	if (password == NULL)
		return err_set(HSMCA_E_INVALID, "password missing");
	len = strlen(password);
	if (len == 0)
		return err_set(HSMCA_E_INVALID, "password is empty");
	if (len > PASSWD_MAX_LEN)
		return err_set(HSMCA_E_INVALID, "password is longer than %d bytes", PASSWD_MAX_LEN);
	return 0;
}

int
passwd_hash(const char *password, char **encoded_out)
{
	uint8_t salt[SALT_LEN], hash[HASH_LEN];
	char salt_b64[4 * ((SALT_LEN + 2) / 3) + 1], hash_b64[4 * ((HASH_LEN + 2) / 3) + 1];
	char *enc = NULL;
	size_t cap;
	int rc;

	*encoded_out = NULL;
	if ((rc = check_input(password)) != 0)
		return rc;
	if (RAND_bytes(salt, sizeof(salt)) != 1) {
		err_drain_openssl();
		return err_set(HSMCA_E_INTERNAL, "RAND_bytes failed");
	}
	if ((rc = scrypt_derive(password, salt, sizeof(salt), SCRYPT_N, SCRYPT_R, SCRYPT_P, hash,
	    sizeof(hash))) != 0)
		goto out;
	EVP_EncodeBlock((unsigned char *)salt_b64, salt, sizeof(salt));
	EVP_EncodeBlock((unsigned char *)hash_b64, hash, sizeof(hash));
	cap = 64 + sizeof(salt_b64) + sizeof(hash_b64);
	enc = malloc(cap);
	if (enc == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	snprintf(enc, cap, "scrypt$%u$%u$%u$%s$%s", SCRYPT_N, SCRYPT_R, SCRYPT_P, salt_b64, hash_b64);
	*encoded_out = enc;
	rc = 0;
out:
	OPENSSL_cleanse(hash, sizeof(hash));
	return rc;
}

/* Parses a decimal field ended by '$' and advances *p past the '$'. */
static int
parse_u(const char **p, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > max)
			return -1;
		s++;
	}
	if (*s != '$')
		return -1;
	*p = s + 1;
	*out = v;
	return 0;
}

/* Decodes one base64 field (up to the next '$' or the end) into out, exactly want bytes. */
static int
decode_b64(const char *s, size_t slen, uint8_t *out, size_t want)
{
	uint8_t tmp[128];
	int n;
	size_t pad = 0;

	if (slen == 0 || slen % 4 != 0 || slen / 4 * 3 > sizeof(tmp))
		return -1;
	n = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)slen);
	if (n < 0)
		return -1;
	/* EVP_DecodeBlock counts padding as zero bytes; take it off. */
	if (s[slen - 1] == '=')
		pad++;
	if (s[slen - 2] == '=')
		pad++;
	if ((size_t)n - pad != want)
		return -1;
	memcpy(out, tmp, want);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return 0;
}

int
passwd_verify(const char *password, const char *encoded)
{
	uint8_t salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	uint64_t n, r, p;
	const char *s, *dollar;
	int rc;

	if ((rc = check_input(password)) != 0)
		return rc;
	if (encoded == NULL || strncmp(encoded, "scrypt$", 7) != 0)
		return err_set(HSMCA_E_INVALID, "stored password hash has an unknown format");
	s = encoded + 7;
	if (parse_u(&s, SCRYPT_N_MAX, &n) != 0 || n < 2 || (n & (n - 1)) != 0 ||
	    parse_u(&s, SCRYPT_R_MAX, &r) != 0 || r == 0 ||
	    parse_u(&s, SCRYPT_P_MAX, &p) != 0 || p == 0)
		return err_set(HSMCA_E_INVALID, "stored password hash has bad scrypt parameters");
	dollar = strchr(s, '$');
	if (dollar == NULL || decode_b64(s, (size_t)(dollar - s), salt, sizeof(salt)) != 0 ||
	    decode_b64(dollar + 1, strlen(dollar + 1), want, sizeof(want)) != 0)
		return err_set(HSMCA_E_INVALID, "stored password hash is malformed");
	rc = scrypt_derive(password, salt, sizeof(salt), n, (uint32_t)r, (uint32_t)p, got, sizeof(got));
	if (rc == 0)
		rc = CRYPTO_memcmp(got, want, sizeof(got)) == 0 ? 0 : HSMCA_E_AUTH;
	OPENSSL_cleanse(got, sizeof(got));
	OPENSSL_cleanse(want, sizeof(want));
	return rc;
}

/* 59 symbols: letters and digits minus 0 O o 1 l I, plus a few punctuation marks that survive
 * shells, URLs and JSON unquoted. log2(59^24) ~ 141 bits. */
static const char alphabet[] =
    "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.";

int
passwd_generate(char **password_out)
{
	const size_t n_sym = sizeof(alphabet) - 1;
	/* Rejection sampling: bytes at or above the largest multiple of n_sym would bias the
	 * first symbols. */
	const unsigned limit = 256 - (256 % n_sym);
	uint8_t rnd[64];
	char *pw = NULL;
	size_t got = 0, i;

	*password_out = NULL;
	pw = malloc(PASSWD_GEN_LEN + 1);
	if (pw == NULL)
		return HSMCA_E_NOMEM;
	while (got < PASSWD_GEN_LEN) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			OPENSSL_clear_free(pw, PASSWD_GEN_LEN + 1);
			err_drain_openssl();
			return err_set(HSMCA_E_INTERNAL, "RAND_bytes failed");
		}
		for (i = 0; i < sizeof(rnd) && got < PASSWD_GEN_LEN; i++)
			if (rnd[i] < limit)
				pw[got++] = alphabet[rnd[i] % n_sym];
	}
	pw[got] = '\0';
	OPENSSL_cleanse(rnd, sizeof(rnd));
	*password_out = pw;
	return 0;
}

int
passwd_check_policy(const char *password)
{
	size_t len, i;

	if (password == NULL)
		return err_set(HSMCA_E_INVALID, "password missing");
	len = strlen(password);
	if (len < PASSWD_MIN_LEN)
		return err_set(HSMCA_E_POLICY, "password must be at least %d characters", PASSWD_MIN_LEN);
	if (len > PASSWD_MAX_LEN)
		return err_set(HSMCA_E_POLICY, "password must be at most %d bytes", PASSWD_MAX_LEN);
	for (i = 0; i < len; i++)
		if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f)
			return err_set(HSMCA_E_POLICY, "password must not contain control characters");
	return 0;
}

void
passwd_free(char *password)
{
	if (password != NULL)
		OPENSSL_clear_free(password, strlen(password) + 1);
}
