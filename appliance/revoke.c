/*
 * revoke.c: two-step revocation with a six-digit code (see revoke.h for the threat model).
 *
 * May call: db_certs.h, db_revocation.h, crl.h, audit.h, OpenSSL RAND/SHA-256.
 * Must never: log, audit or err_set a code; compare codes other than in constant time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "audit.h"
#include "crl.h"
#include "db.h"
#include "db_cas.h"
#include "db_certs.h"
#include "db_crls.h"
#include "db_revocation.h"
#include "err.h"
#include "log.h"
#include "revoke.h"

#define SALT_BYTES 16
/* The largest multiple of 10^6 that fits in 32 bits: values at or above it are drawn again, so
 * value % 10^6 is exactly uniform (the bias of a plain modulo would be ~2^-12 per code). */
#define CODE_LIMIT 4294000000u

static const struct {
	const char *name;
	int value;
} reasons[] = {
	{ "unspecified", REVOKE_REASON_UNSPECIFIED },
	{ "keyCompromise", REVOKE_REASON_KEY_COMPROMISE },
	{ "cACompromise", REVOKE_REASON_CA_COMPROMISE },
	{ "affiliationChanged", REVOKE_REASON_AFFILIATION_CHANGED },
	{ "superseded", REVOKE_REASON_SUPERSEDED },
	{ "cessationOfOperation", REVOKE_REASON_CESSATION_OF_OPERATION },
};

int
revoke_reason_parse(const char *name, int *reason)
{
	size_t i;

	*reason = REVOKE_REASON_UNSPECIFIED;
	if (name == NULL || name[0] == '\0')
		return 0;
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (strcmp(name, reasons[i].name) == 0) {
			*reason = reasons[i].value;
			return 0;
		}
	return err_set(HSMCA_E_INVALID, "unknown revocation reason; use one of keyCompromise, cACompromise, "
	    "affiliationChanged, superseded, cessationOfOperation, unspecified");
}

const char *
revoke_reason_name(int reason)
{
	static const char *const names[] = { "unspecified", "keyCompromise", "cACompromise",
	    "affiliationChanged", "superseded", "cessationOfOperation", "certificateHold", "unknown",
	    "removeFromCRL", "privilegeWithdrawn", "aACompromise" };

	if (reason < 0 || reason >= (int)(sizeof(names) / sizeof(names[0])))
		return "unknown";
	return names[reason];
}

int
revoke_code_new(char code[REVOKE_CODE_DIGITS + 1])
{
	unsigned char b[4];
	uint32_t v;
	int i;

	memset(code, 0, REVOKE_CODE_DIGITS + 1);
	/* Rejection happens with probability ~0.02%; the bound only guards a broken RNG. */
	for (i = 0; i < 64; i++) {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return err_set(HSMCA_E_INTERNAL, "random number generator failed");
		v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		if (v < CODE_LIMIT) {
			snprintf(code, REVOKE_CODE_DIGITS + 1, "%06u", (unsigned)(v % 1000000u));
			OPENSSL_cleanse(b, sizeof(b));
			return 0;
		}
	}
	return err_set(HSMCA_E_INTERNAL, "random number generator keeps returning out-of-range values");
}

static void
hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int
salted_sha256(const unsigned char salt[SALT_BYTES], const char *code, unsigned char md[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok;

	ok = c != NULL && EVP_DigestInit_ex(c, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(c, salt, SALT_BYTES) == 1 && EVP_DigestUpdate(c, code, strlen(code)) == 1 &&
	    EVP_DigestFinal_ex(c, md, &len) == 1 && len == 32;
	EVP_MD_CTX_free(c);
	return ok ? 0 : err_set(HSMCA_E_INTERNAL, "SHA-256 failed");
}

int
revoke_code_hash(const char *code, char out[REVOKE_HASH_LEN])
{
	unsigned char salt[SALT_BYTES], md[32];
	int rc;

	out[0] = '\0';
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return err_set(HSMCA_E_INTERNAL, "random number generator failed");
	if ((rc = salted_sha256(salt, code, md)) != 0)
		return rc;
	memcpy(out, "v1$", 3);
	hex(salt, SALT_BYTES, out + 3);
	out[3 + 2 * SALT_BYTES] = '$';
	hex(md, sizeof(md), out + 4 + 2 * SALT_BYTES);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

static int
unhex(const char *in, size_t n, unsigned char *out)
{
	size_t i;
	int v[2], k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < 2; k++) {
			char ch = in[2 * i + k];

			if (ch >= '0' && ch <= '9')
				v[k] = ch - '0';
			else if (ch >= 'a' && ch <= 'f')
				v[k] = ch - 'a' + 10;
			else
				return -1;
		}
		out[i] = (unsigned char)(v[0] << 4 | v[1]);
	}
	return 0;
}

int
revoke_code_check(const char *code, const char *stored)
{
	unsigned char salt[SALT_BYTES], want[32], got[32];
	size_t i;
	int ok;

	if (code == NULL || stored == NULL || strlen(stored) != REVOKE_HASH_LEN - 1 ||
	    strncmp(stored, "v1$", 3) != 0 || stored[3 + 2 * SALT_BYTES] != '$' ||
	    unhex(stored + 3, SALT_BYTES, salt) != 0 || unhex(stored + 4 + 2 * SALT_BYTES, 32, want) != 0)
		return 0;
	/* Only six ASCII digits can be a code; anything else is a wrong try, not an error. */
	if (strlen(code) != REVOKE_CODE_DIGITS)
		return 0;
	for (i = 0; i < REVOKE_CODE_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return 0;
	if (salted_sha256(salt, code, got) != 0)
		return 0;
	ok = CRYPTO_memcmp(got, want, sizeof(got)) == 0;
	OPENSSL_cleanse(got, sizeof(got));
	return ok;
}

/* The certificate must exist, be issued by one of our CAs and not be revoked yet. */
static int
load_revocable(struct db *db, int64_t cert_id, struct db_cert **out)
{
	struct db_cert *c = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_certs_get_by_id(db, cert_id, &c)) != 0)
		return rc;
	if (c->ca_id == 0) {
		rc = err_set(HSMCA_E_CONFLICT, "certificate %s was not issued by a CA of this appliance; "
		    "only its issuer can revoke it", c->serial != NULL ? c->serial : "?");
		db_cert_free(c);
		return rc;
	}
	if (c->revoked_at_ms != 0) {
		db_cert_free(c);
		return err_set(HSMCA_E_CONFLICT, "the certificate is already revoked; revocation is permanent");
	}
	*out = c;
	return 0;
}

int
revoke_request(struct hsmca_ctx *ctx, int64_t cert_id, int64_t user_id, const char *actor,
    const char *ip, char code_out[REVOKE_CODE_DIGITS + 1], int64_t *expires_ms)
{
	struct db_cert *cert = NULL;
	char code[REVOKE_CODE_DIGITS + 1], hash[REVOKE_HASH_LEN], details[128];
	int64_t now = db_now_ms(), id;
	int rc;

	memset(code_out, 0, REVOKE_CODE_DIGITS + 1);
	*expires_ms = 0;
	if (actor == NULL)
		actor = "cli";
	if ((rc = revoke_code_new(code)) != 0 || (rc = revoke_code_hash(code, hash)) != 0)
		goto out;
	if ((rc = db_begin(ctx->db)) != 0)
		goto out;
	if ((rc = load_revocable(ctx->db, cert_id, &cert)) != 0)
		goto out;
	snprintf(details, sizeof(details), "{\"certificate_id\":%lld,\"expires_at\":%lld}", (long long)cert_id,
	    (long long)(now + REVOKE_CODE_TTL_MS));
	if ((rc = db_revocation_codes_insert(ctx->db, cert_id, user_id, hash, now, now + REVOKE_CODE_TTL_MS,
	    &id)) != 0 ||
	    (rc = audit_write(ctx->db, actor, ip, "certificate.revoke.requested", cert->serial, details)) != 0 ||
	    (rc = db_commit(ctx->db)) != 0)
		goto out;
	memcpy(code_out, code, sizeof(code));
	*expires_ms = now + REVOKE_CODE_TTL_MS;
	rc = 0;
out:
	db_rollback(ctx->db);
	db_cert_free(cert);
	OPENSSL_cleanse(code, sizeof(code));
	return rc;
}

/*
 * Burst batching (issue #4): a revocation publishes the CA's CRL at once only when the CA's
 * newest CRL is older than crl_batch_seconds (or there is none, or it cannot be read: publishing
 * is the safe side). Otherwise the CA stays due (revoke_confirm marks it in the revocation's
 * transaction) and the scheduler publishes it within crl_batch_seconds + SCHEDULER_TICK_MS, so a
 * burst of revocations shares one CRL instead of signing one per revocation.
 */
static int
publish_now(struct db *db, int64_t ca_id, int batch_seconds)
{
	struct db_crl *latest = NULL;
	int64_t now_ms = db_now_ms();
	int now;

	if (batch_seconds <= 0)
		return 1;
	if (db_crls_latest(db, ca_id, 0, &latest) != 0) {
		err_clear();
		return 1;
	}
	/* A CRL dated in the future (clock stepped back) does not hold publishing up. */
	now = latest->created_at_ms <= now_ms - (int64_t)batch_seconds * 1000 || latest->created_at_ms > now_ms;
	db_crl_free(latest);
	return now;
}

int
revoke_confirm(struct hsmca_ctx *ctx, int64_t cert_id, int64_t user_id, const char *actor,
    const char *ip, const char *code, int reason, int64_t *crl_number)
{
	struct db_cert *cert = NULL;
	struct db_revocation_code live = { 0 };
	struct db_ca *ca = NULL;
	struct crl_info info;
	char details[160];
	int64_t now = db_now_ms();
	int rc, attempts, left;

	if (crl_number != NULL)
		*crl_number = 0;
	if (actor == NULL)
		actor = "cli";
	if (reason < REVOKE_REASON_UNSPECIFIED || reason > REVOKE_REASON_CESSATION_OF_OPERATION)
		return err_set(HSMCA_E_INVALID, "revocation reason %d is not one of the six allowed", reason);
	if ((rc = db_begin(ctx->db)) != 0)
		return rc;
	if ((rc = load_revocable(ctx->db, cert_id, &cert)) != 0)
		goto out;
	rc = db_revocation_codes_live(ctx->db, cert_id, user_id, now, REVOKE_MAX_ATTEMPTS, &live);
	if (rc == HSMCA_E_NOTFOUND) {
		rc = err_set(HSMCA_E_POLICY, "no valid revocation code for this certificate: it expired, was "
		    "used, had too many wrong tries, or was never requested by you; request a new one");
		goto out;
	}
	if (rc != 0)
		goto out;
	if (!revoke_code_check(code, live.code_hash)) {
		/* The counter must survive the refusal: commit it, then refuse. */
		if ((rc = db_revocation_codes_fail(ctx->db, live.id, &attempts)) != 0 ||
		    (rc = db_commit(ctx->db)) != 0)
			goto out;
		left = REVOKE_MAX_ATTEMPTS - attempts;
		if (left > 0)
			rc = err_set(HSMCA_E_POLICY, "wrong revocation code (%d %s left)", left,
			    left == 1 ? "try" : "tries");
		else
			rc = err_set(HSMCA_E_POLICY, "wrong revocation code; the code is now void, request a new one");
		goto out;
	}
	snprintf(details, sizeof(details), "{\"certificate_id\":%lld,\"reason\":\"%s\",\"ca_id\":%lld}",
	    (long long)cert_id, revoke_reason_name(reason), (long long)cert->ca_id);
	if ((rc = db_revocation_codes_use(ctx->db, live.id, reason, now)) != 0 ||
	    (rc = db_revocation_mark_revoked(ctx->db, cert_id, now, reason)) != 0 ||
	    (rc = db_revocation_mark_crl_due(ctx->db, cert->ca_id, now)) != 0 ||
	    (rc = audit_write(ctx->db, actor, ip, "certificate.revoke.confirmed", cert->serial, details)) != 0 ||
	    (rc = db_commit(ctx->db)) != 0)
		goto out;
	/* Committed: from here on the revocation stands whatever happens to the CRL. A failed or
	 * batched publish leaves the CA due (the mark above), so the scheduler publishes it. */
	if (ctx->tok != NULL && !publish_now(ctx->db, cert->ca_id, ctx->cfg.crl_batch_seconds)) {
		log_msg(LOGL_INFO, "crl", "crl.publish_batched", "certificate %s revoked; CRL of CA %lld is "
		    "published by the scheduler within %d s", cert->serial, (long long)cert->ca_id,
		    ctx->cfg.crl_batch_seconds + 1);
		err_clear();
		rc = 0;
		goto out;
	}
	if (ctx->tok != NULL && (rc = db_cas_get_by_id(ctx->db, cert->ca_id, &ca)) == 0)
		rc = crl_publish(ctx, ca, actor, &info);
	if (ctx->tok != NULL && rc == 0 && crl_number != NULL)
		*crl_number = info.number;
	if (ctx->tok == NULL || rc != 0)
		log_msg(LOGL_WARNING, "crl", "crl.publish_deferred", "certificate %s revoked; CRL of CA %lld "
		    "not published now (%s), it stays due", cert->serial, (long long)cert->ca_id,
		    ctx->tok == NULL ? "no token" : err_msg(rc));
	err_clear();
	rc = 0;
out:
	db_rollback(ctx->db);
	db_revocation_code_clear(&live);
	db_ca_free(ca);
	db_cert_free(cert);
	return rc;
}
