/*
 * audit.c: the audit hash chain (see audit.h).
 *
 * May call: db_audit.h, OpenSSL's SHA-256. Must never: open its own transaction (the row must
 * commit with the change it records) or store a secret.
 *
 * Canonical encoding (version 1), hashed after the previous hash's 64 hex characters:
 * the tag "hsmca-audit-v1", then each field as a 4-byte big-endian length and its bytes, with
 * 0xFFFFFFFF for a NULL field. Lengths make the encoding unambiguous (no separator an attacker
 * could embed in a field), and the tag lets a later version change the encoding.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "audit.h"
#include "db.h"
#include "db_audit.h"
#include "err.h"

#define AUDIT_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_TAG "hsmca-audit-v1"

static int
hash_field(EVP_MD_CTX *md, const char *s)
{
	uint8_t len[4];
	size_t n;

	if (s == NULL) {
		memset(len, 0xff, sizeof(len));
		return EVP_DigestUpdate(md, len, sizeof(len));
	}
	n = strlen(s);
	len[0] = (uint8_t)(n >> 24);
	len[1] = (uint8_t)(n >> 16);
	len[2] = (uint8_t)(n >> 8);
	len[3] = (uint8_t)n;
	return EVP_DigestUpdate(md, len, sizeof(len)) && EVP_DigestUpdate(md, s, n);
}

/* hash of row (its prev_hash and fields; row->hash is not read) into out as lowercase hex. */
static int
audit_hash(const struct db_audit_row *row, char out[DB_AUDIT_HASH_HEX])
{
	EVP_MD_CTX *md = NULL;
	unsigned char dig[32];
	unsigned int dlen = 0;
	char id[24], at[24];
	int ok, i, rc = HSMCA_E_INTERNAL;

	snprintf(id, sizeof(id), "%" PRId64, row->id);
	snprintf(at, sizeof(at), "%" PRId64, row->at_ms);
	md = EVP_MD_CTX_new();
	if (md == NULL)
		return HSMCA_E_NOMEM;
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(md, row->prev_hash, strlen(row->prev_hash)) &&
	    hash_field(md, AUDIT_TAG) && hash_field(md, id) && hash_field(md, at) &&
	    hash_field(md, row->actor) && hash_field(md, row->ip) && hash_field(md, row->event) &&
	    hash_field(md, row->object) && hash_field(md, row->details) &&
	    EVP_DigestFinal_ex(md, dig, &dlen) && dlen == sizeof(dig);
	if (!ok) {
		rc = err_set(HSMCA_E_INTERNAL, "audit: SHA-256 failed");
		goto out;
	}
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", dig[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(md);
	return rc;
}

static int
event_name_ok(const char *e)
{
	size_t i, n = strlen(e);

	if (n == 0 || n > 128)
		return 0;
	for (i = 0; i < n; i++)
		if (!((e[i] >= 'a' && e[i] <= 'z') || (e[i] >= '0' && e[i] <= '9') || e[i] == '_' || e[i] == '.'))
			return 0;
	return 1;
}

int
audit_write(struct db *db, const char *actor, const char *ip, const char *event,
    const char *object, const char *details_json)
{
	struct db_audit_row row;
	char prev[DB_AUDIT_HASH_HEX], hash[DB_AUDIT_HASH_HEX];
	int64_t last_id;
	int rc;

	/* The chain's "read last, append next" is only race-free under the write lock that
	 * BEGIN IMMEDIATE holds; outside a transaction two writers could fork the chain. */
	if (!db_in_transaction(db))
		return err_set(HSMCA_E_INTERNAL, "audit: %s written outside a transaction", event);
	if (!event_name_ok(event))
		return err_set(HSMCA_E_INTERNAL, "audit: bad event name '%s'", event);
	if (actor == NULL || *actor == '\0')
		return err_set(HSMCA_E_INTERNAL, "audit: %s without an actor", event);
	if ((rc = db_audit_last(db, &last_id, prev)) != 0)
		return rc;
	if (last_id == 0)
		memcpy(prev, AUDIT_GENESIS, sizeof(prev));
	memset(&row, 0, sizeof(row));
	row.id = last_id + 1;
	row.at_ms = db_now_ms();
	row.actor = actor;
	row.ip = ip;
	row.event = event;
	row.object = object;
	row.details = details_json != NULL ? details_json : "{}";
	row.prev_hash = prev;
	if ((rc = audit_hash(&row, hash)) != 0)
		return rc;
	row.hash = hash;
	return db_audit_insert(db, &row);
}

struct verify_state {
	char expect_prev[DB_AUDIT_HASH_HEX];
	int64_t bad_id;
};

static int
verify_row(const struct db_audit_row *row, void *arg)
{
	struct verify_state *vs = arg;
	struct db_audit_row copy = *row;
	char hash[DB_AUDIT_HASH_HEX];
	int rc;

	/* A NULL in a NOT NULL column can only come from a hand edit of the schema; count it as
	 * a broken row rather than crash on it. */
	if (row->prev_hash == NULL || row->hash == NULL || row->actor == NULL || row->event == NULL ||
	    row->details == NULL || strlen(row->hash) != DB_AUDIT_HASH_HEX - 1 ||
	    strcmp(row->prev_hash, vs->expect_prev) != 0) {
		vs->bad_id = row->id;
		return 1;
	}
	if ((rc = audit_hash(&copy, hash)) != 0)
		return rc;
	if (CRYPTO_memcmp(hash, row->hash, DB_AUDIT_HASH_HEX - 1) != 0) {
		vs->bad_id = row->id;
		return 1;
	}
	memcpy(vs->expect_prev, hash, sizeof(hash));
	return 0;
}

int
audit_verify(struct db *db, int64_t *first_bad_id)
{
	struct verify_state vs;
	int rc;

	*first_bad_id = 0;
	memset(&vs, 0, sizeof(vs));
	memcpy(vs.expect_prev, AUDIT_GENESIS, sizeof(vs.expect_prev));
	rc = db_audit_walk(db, verify_row, &vs);
	if (rc == 1) {
		*first_bad_id = vs.bad_id;
		return 0;
	}
	return rc;
}
