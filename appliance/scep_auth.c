/*
 * scep_auth.c: SCEP authentication entries: secrets, their hashes, matching and use (see
 * scep_auth.h).
 * May call: db_scep.h, audit.h, OpenSSL (SHA-256, RAND). Must never: log, store or return in an
 * error detail a secret or challengePassword.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "audit.h"
#include "db.h"
#include "db_scep.h"
#include "err.h"
#include "scep_auth.h"

#define SALT_LEN 16
#define SECRET_RAND_BYTES 24    /* base64url: 32 characters */

static void
hex(const uint8_t *in, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[in[i] >> 4];
		out[2 * i + 1] = d[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
unhex(const char *s, size_t n, uint8_t *out)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		hi = OPENSSL_hexchar2int((unsigned char)s[2 * i]);
		lo = OPENSSL_hexchar2int((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static int
salted_sha256(const uint8_t salt[SALT_LEN], const uint8_t *secret, size_t len, uint8_t md[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int mdlen = 0;
	int ok;

	ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, salt, SALT_LEN) == 1 && EVP_DigestUpdate(c, secret, len) == 1 &&
	    EVP_DigestFinal_ex(c, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(c);
	return ok ? 0 : err_set(HSMCA_E_INTERNAL, "SHA-256 failed");
}

int
scep_auth_hash(const uint8_t *secret, size_t len, char out[SCEP_AUTH_HASH_MAX])
{
	uint8_t salt[SALT_LEN], md[32];
	char salt_hex[2 * SALT_LEN + 1], md_hex[65];
	int rc;

	out[0] = '\0';
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return err_set(HSMCA_E_INTERNAL, "No random bytes for a salt");
	if ((rc = salted_sha256(salt, secret, len, md)) != 0)
		return rc;
	hex(salt, SALT_LEN, salt_hex);
	hex(md, 32, md_hex);
	snprintf(out, SCEP_AUTH_HASH_MAX, "sha256$%s$%s", salt_hex, md_hex);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

int
scep_auth_verify(const char *stored, const uint8_t *secret, size_t len)
{
	uint8_t salt[SALT_LEN], want[32], got[32];
	int ok;

	if (stored == NULL || strlen(stored) != 7 + 2 * SALT_LEN + 1 + 64 || strncmp(stored, "sha256$", 7) != 0 ||
	    stored[7 + 2 * SALT_LEN] != '$')
		return 0;
	if (unhex(stored + 7, SALT_LEN, salt) != 0 || unhex(stored + 8 + 2 * SALT_LEN, 32, want) != 0)
		return 0;
	if (salted_sha256(salt, secret, len, got) != 0)
		return 0;
	ok = CRYPTO_memcmp(want, got, 32) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

int
scep_auth_check_name(const char *name)
{
	size_t i, n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > SCEP_AUTH_NAME_MAX)
		return err_set(HSMCA_E_INVALID, "The name must be 1 to %d characters", SCEP_AUTH_NAME_MAX);
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		    c == '_' || c == '@' || c == '-'))
			return err_set(HSMCA_E_INVALID, "The name may contain only letters, digits and . _ @ -");
	}
	return 0;
}

void
scep_auth_secret_free(char *secret)
{
	if (secret != NULL)
		OPENSSL_clear_free(secret, strlen(secret) + 1);
}

static int
new_secret(char **out)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t r[SECRET_RAND_BYTES];
	char *s;
	size_t i, o = 0;

	*out = NULL;
	if ((s = malloc(SCEP_AUTH_SECRET_LEN + 1)) == NULL)
		return HSMCA_E_NOMEM;
	if (RAND_bytes(r, sizeof(r)) != 1) {
		free(s);
		return err_set(HSMCA_E_INTERNAL, "No random bytes for a secret");
	}
	for (i = 0; i < sizeof(r); i += 3) {
		uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];

		s[o++] = b64url[(v >> 18) & 63];
		s[o++] = b64url[(v >> 12) & 63];
		s[o++] = b64url[(v >> 6) & 63];
		s[o++] = b64url[v & 63];
	}
	s[o] = '\0';
	OPENSSL_cleanse(r, sizeof(r));
	*out = s;
	return 0;
}

int
scep_auth_create(struct db *db, const char *name, int64_t ca_id, int reusable, int64_t expires_at_ms,
    const char *actor, const char *ip, char **secret, int64_t *id)
{
	char hash[SCEP_AUTH_HASH_MAX], object[32];
	char *s = NULL, *details = NULL;
	json_t *j = NULL;
	int rc;

	*secret = NULL;
	*id = 0;
	if ((rc = scep_auth_check_name(name)) != 0)
		return rc;
	if ((rc = new_secret(&s)) != 0 || (rc = scep_auth_hash((const uint8_t *)s, strlen(s), hash)) != 0)
		goto out;
	if ((rc = db_begin(db)) != 0)
		goto out;
	if ((rc = db_scep_auth_insert(db, name, ca_id, hash, reusable, expires_at_ms, actor, id)) != 0)
		goto fail;
	snprintf(object, sizeof(object), "scep_auth:%lld", (long long)*id);
	j = json_pack("{s:s, s:I, s:b, s:I}", "name", name, "ca_id", (json_int_t)ca_id, "reusable", reusable,
	    "expires_at_ms", (json_int_t)expires_at_ms);
	if (j == NULL || (details = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto fail;
	}
	if ((rc = audit_write(db, actor != NULL ? actor : "cli", ip, "scep_auth.created", object, details)) != 0 ||
	    (rc = db_commit(db)) != 0)
		goto fail;
	*secret = s;
	s = NULL;
	rc = 0;
	goto out;
fail:
	db_rollback(db);
	*id = 0;
out:
	free(details);
	json_decref(j);
	scep_auth_secret_free(s);
	return rc;
}

int
scep_auth_match_challenge(struct db *db, int64_t ca_id, const uint8_t *challenge, size_t len, int64_t *auth_id)
{
	struct db_scep_auth **v = NULL;
	size_t n = 0, i;
	int rc;

	*auth_id = 0;
	if (challenge == NULL || len == 0)
		return err_set(HSMCA_E_AUTH, "The request has no challengePassword and no HTTP Basic credentials");
	if ((rc = db_scep_auth_candidates(db, ca_id, &v, &n)) != 0)
		return rc;
	/* Every candidate is hashed, match or not, so the time taken does not tell which entry or
	 * how many entries come before the right one. */
	for (i = 0; i < n; i++)
		if (scep_auth_verify(v[i]->secret_hash, challenge, len) && *auth_id == 0)
			*auth_id = v[i]->id;
	db_scep_auth_list_free(v, n);
	if (*auth_id == 0)
		return err_set(HSMCA_E_AUTH, "The challengePassword matches no enabled SCEP authentication entry of "
		    "this CA");
	return 0;
}

int
scep_auth_match_basic(struct db *db, int64_t ca_id, const char *name, const uint8_t *secret, size_t len,
    int64_t *auth_id)
{
	struct db_scep_auth *a = NULL;
	int rc, ok;

	*auth_id = 0;
	if (scep_auth_check_name(name) != 0)
		return err_set(HSMCA_E_AUTH, "Unknown SCEP credentials");
	rc = db_scep_auth_get_by_name(db, ca_id, name, &a);
	if (rc == HSMCA_E_NOTFOUND)
		return err_set(HSMCA_E_AUTH, "Unknown SCEP credentials");
	if (rc != 0)
		return rc;
	ok = scep_auth_verify(a->secret_hash, secret, len);
	if (!ok)
		rc = err_set(HSMCA_E_AUTH, "Wrong secret for SCEP credentials '%s'", a->name);
	else if (!a->enabled)
		rc = err_set(HSMCA_E_AUTH, "SCEP credentials '%s' are disabled", a->name);
	else
		*auth_id = a->id;
	db_scep_auth_free(a);
	return rc;
}

int
scep_auth_use(struct db *db, int64_t auth_id)
{
	int ok = 0, rc;

	if ((rc = db_scep_auth_consume(db, auth_id, db_now_ms(), &ok)) != 0)
		return rc;
	if (!ok)
		return err_set(HSMCA_E_AUTH, "SCEP authentication entry %lld is expired, disabled or already used",
		    (long long)auth_id);
	return 0;
}

void
scep_auth_unuse(struct db *db, int64_t auth_id)
{
	(void)db_scep_auth_unconsume(db, auth_id);
}
