/*
 * crl.c: CRL publication (see crl.h).
 *
 * May call: crl_der.h (encoding), db_crls.h / db_revocation.h (SQL), tok.h (signing), audit.h,
 * ca.h (ca_key_error: a CA key gone from the token).
 * Must never: build an X509_CRL (memory), or hold the database write lock while streaming and
 * signing: the entries are read in a read transaction (WAL readers block nobody), signed outside
 * any transaction, and only the final store takes the write lock, briefly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "audit.h"
#include "ca.h"
#include "ca_rollover.h"
#include "crl.h"
#include "crl_der.h"
#include "db.h"
#include "db_crls.h"
#include "db_revocation.h"
#include "err.h"
#include "log.h"
#include "tok.h"
#include "x509_build.h"

#define CRL_MAX_VALIDITY_DAYS 3650
#define MS_PER_DAY (86400LL * 1000)
/* A retired key's CRL that failed to publish is tried again this soon. Not sooner: the retry
 * publishes the current key's CRL too (one due time per CA), and a retired key that is gone from
 * the token would otherwise have a large current CRL re-signed every scheduler tick. */
#define CRL_RETRY_MS (10LL * 60 * 1000)

/* The AlgorithmIdentifier tok_sign_data uses for key_spec (tok.h: sha256WithRSAEncryption for RSA,
 * ecdsa-with-SHA256 for P-256, ecdsa-with-SHA384 for P-384). It must sit inside the TBS before
 * signing; the token's answer is compared with it afterwards and the CRL rebuilt once with the
 * token's if they ever differ. XXX(#4): a tok_sigalg(keyref) in tok.h would make this exact. */
static int
predict_algid(const char *key_spec, struct buf *out)
{
	X509_ALGOR *alg = NULL;
	unsigned char *der = NULL;
	int nid, len, rc = HSMCA_E_INTERNAL;

	out->data = NULL;
	out->len = 0;
	if (key_spec != NULL && strncmp(key_spec, "rsa-", 4) == 0)
		nid = NID_sha256WithRSAEncryption;
	else if (key_spec != NULL && strcmp(key_spec, "ec-256") == 0)
		nid = NID_ecdsa_with_SHA256;
	else if (key_spec != NULL && strcmp(key_spec, "ec-384") == 0)
		nid = NID_ecdsa_with_SHA384;
	else
		return err_set(HSMCA_E_POLICY, "CRL: unsupported CA key type '%s'", key_spec ? key_spec : "?");
	if ((alg = X509_ALGOR_new()) == NULL ||
	    !X509_ALGOR_set0(alg, OBJ_nid2obj(nid), nid == NID_sha256WithRSAEncryption ? V_ASN1_NULL :
	    V_ASN1_UNDEF, NULL) || (len = i2d_X509_ALGOR(alg, &der)) <= 0) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	rc = buf_set(out, der, (size_t)len);
out:
	OPENSSL_free(der);
	X509_ALGOR_free(alg);
	return rc;
}

/* Checks sig over tbs with the CA certificate's key and the digest algid names, so a token fault
 * never publishes a CRL that does not verify. */
static int
verify_sig(X509 *cacert, const struct buf *algid, const uint8_t *tbs, size_t tbs_len, const struct buf *sig)
{
	const unsigned char *p = algid->data;
	X509_ALGOR *alg = d2i_X509_ALGOR(NULL, &p, (long)algid->len);
	const ASN1_OBJECT *obj = NULL;
	EVP_MD_CTX *md = NULL;
	int md_nid, pk_nid, rc = HSMCA_E_INTERNAL;

	if (alg == NULL || p != algid->data + algid->len) {
		rc = err_set(HSMCA_E_TOKEN, "CRL: the token returned a malformed signature algorithm");
		goto out;
	}
	X509_ALGOR_get0(&obj, NULL, NULL, alg);
	if (!OBJ_find_sigid_algs(OBJ_obj2nid(obj), &md_nid, &pk_nid) || md_nid == NID_undef) {
		rc = err_set(HSMCA_E_TOKEN, "CRL: the token used an unexpected signature algorithm");
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(md, NULL, EVP_get_digestbynid(md_nid), NULL, X509_get0_pubkey(cacert)) != 1 ||
	    EVP_DigestVerify(md, sig->data, sig->len, tbs, tbs_len) != 1) {
		rc = err_set(HSMCA_E_TOKEN, "CRL: the token's signature does not verify with the CA certificate");
		goto out;
	}
	rc = 0;
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	X509_ALGOR_free(alg);
	return rc;
}

/* CRL entries and leaves must carry the same key identifier: the CA's SKI, or (as x509_build.c
 * does for AKIs when a CA has no SKI) the SHA-1 of its public key. */
static int
ca_keyid(X509 *cacert, uint8_t out[EVP_MAX_MD_SIZE], size_t *len)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cacert);
	unsigned int l = 0;

	if (ski != NULL && ASN1_STRING_length(ski) > 0 && ASN1_STRING_length(ski) <= 64) {
		*len = (size_t)ASN1_STRING_length(ski);
		memcpy(out, ASN1_STRING_get0_data(ski), *len);
		return 0;
	}
	if (!X509_pubkey_digest(cacert, EVP_sha1(), out, &l))
		return err_set(HSMCA_E_INTERNAL, "CRL: cannot hash the CA public key");
	*len = l;
	return 0;
}

static int
add_entry(const char *serial_hex, int64_t revoked_at_ms, int reason, void *arg)
{
	struct crl_der *w = arg;

	/* A reason outside CRLReason (only a corrupt row could hold one) must not stop the CA's
	 * whole CRL: the entry is still listed, as unspecified. */
	if (reason < 0 || reason > CRL_DER_REASON_MAX || reason == 7)
		reason = 0;
	return crl_der_add_hex(w, serial_hex, revoked_at_ms / 1000, reason);
}

/* The key generation a CRL is built for (ca_rollover.h): its certificate and token key. */
struct gen_key {
	int64_t gen;
	X509 *cert;
	const char *keyref;
	int current;
};

struct build {
	struct db_crls_ca_state st;
	int64_t this_update;      /* seconds */
	int64_t next_update;
	uint64_t entries;
	struct buf der;           /* the signed CertificateList */
};

/* One snapshot, one build, one signature. *rebuild_with gets the token's algorithm when it did
 * not sign with the one put into the TBS (the caller then builds again with it). */
static int
build_once(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct gen_key *k, const struct buf *algid,
    struct build *b, struct buf *rebuild_with)
{
	struct crl_der_params p;
	struct crl_der *w = NULL;
	unsigned char *name = NULL;
	uint8_t kid[EVP_MAX_MD_SIZE];
	size_t kid_len = 0, max_hex = 0;
	uint64_t n = 0, n_reason = 0;
	const uint8_t *tbs;
	size_t tbs_len;
	struct buf sig = { 0 }, token_alg = { 0 };
	int name_len, days, rc = HSMCA_E_INTERNAL;

	if ((name_len = i2d_X509_NAME(X509_get_subject_name(k->cert), &name)) <= 0)
		return HSMCA_E_NOMEM;
	if ((rc = ca_keyid(k->cert, kid, &kid_len)) != 0)
		goto out;
	if ((rc = db_crls_read_begin(ctx->db)) != 0)
		goto out;
	if ((rc = db_crls_ca_state(ctx->db, ca->id, &b->st)) != 0 ||
	    (rc = db_crls_revoked_stats(ctx->db, ca->id, k->gen, &n, &max_hex, &n_reason)) != 0)
		goto out;
	days = b->st.validity_days > 0 ? b->st.validity_days : ctx->cfg.crl_validity_days;
	if (days < 1 || days > CRL_MAX_VALIDITY_DAYS) {
		rc = err_set(HSMCA_E_POLICY, "CRL validity of %d days for CA %s is out of range", days, ca->slug);
		goto out;
	}
	b->this_update = db_now_ms() / 1000;
	b->next_update = b->this_update + (int64_t)days * 86400;
	memset(&p, 0, sizeof(p));
	p.sigalg = algid->data;
	p.sigalg_len = algid->len;
	p.issuer = name;
	p.issuer_len = (size_t)name_len;
	p.this_update = b->this_update;
	p.next_update = b->next_update;
	p.aki_keyid = kid;
	p.aki_keyid_len = kid_len;
	p.crl_number = (uint64_t)b->st.crl_number + 1;
	if ((rc = crl_der_begin(&p, crl_der_reserve_hint(n, (max_hex + 1) / 2, n_reason), &w)) != 0 ||
	    (rc = db_crls_revoked_walk(ctx->db, ca->id, k->gen, add_entry, w)) != 0)
		goto out;
	b->entries = crl_der_count(w);
	/* End the read snapshot before signing: a slow token must not pin the WAL. */
	if ((rc = db_commit(ctx->db)) != 0)
		goto out;
	if ((rc = crl_der_tbs(w, &tbs, &tbs_len)) != 0)
		goto out;
	if ((rc = tok_sign_data(ctx->tok, k->keyref, tbs, tbs_len, &sig, &token_alg)) != 0) {
		rc = ca_key_error(ca, k->keyref, rc);
		goto out;
	}
	if (token_alg.len != algid->len || memcmp(token_alg.data, algid->data, algid->len) != 0) {
		*rebuild_with = token_alg;
		token_alg.data = NULL;
		token_alg.len = 0;
		rc = HSMCA_E_BUSY;   /* internal signal to the caller: build again */
		goto out;
	}
	if ((rc = verify_sig(k->cert, algid, tbs, tbs_len, &sig)) != 0)
		goto out;
	rc = crl_der_finish(w, sig.data, sig.len, &b->der);
out:
	db_rollback(ctx->db);
	buf_free(&sig);
	buf_free(&token_alg);
	crl_der_free(w);
	OPENSSL_free(name);
	return rc;
}

/* next_due_cap (current generation only): the earliest time a retired generation's CRL must be
 * replaced, 0 for none; the CA is due again at the earlier of that and its own refresh time. */
static int
store(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct gen_key *k, const char *actor,
    struct build *b, int64_t next_due_cap, struct crl_info *info)
{
	struct db_crl row;
	char details[192];
	int64_t id, next_due, validity_ms;
	int still_due, rc;

	memset(&row, 0, sizeof(row));
	row.ca_id = ca->id;
	row.key_gen = k->gen;
	row.number = b->st.crl_number + 1;
	row.this_update_ms = b->this_update * 1000;
	row.next_update_ms = b->next_update * 1000;
	row.entry_count = (int64_t)b->entries;
	row.der = b->der;
	validity_ms = row.next_update_ms - row.this_update_ms;
	next_due = row.this_update_ms + validity_ms / CRL_REFRESH_DIVISOR;
	if (next_due_cap > 0 && next_due_cap < next_due)
		next_due = next_due_cap;
	snprintf(details, sizeof(details), "{\"number\":%lld,\"entries\":%llu,\"bytes\":%zu,\"key_generation\":%lld}",
	    (long long)row.number, (unsigned long long)b->entries, b->der.len, (long long)k->gen);
	if ((rc = db_begin(ctx->db)) != 0)
		return rc;
	if ((rc = db_crls_store(ctx->db, b->st.crl_number, &row, k->current, b->st.due_ms, b->st.has_due, next_due,
	    &id, &still_due)) != 0 ||
	    (rc = audit_write(ctx->db, actor, NULL, "crl.published", ca->slug, details)) != 0 ||
	    (rc = db_commit(ctx->db)) != 0) {
		db_rollback(ctx->db);
		return rc;
	}
	if (info != NULL) {
		info->crl_id = id;
		info->number = row.number;
		info->this_update_ms = row.this_update_ms;
		info->next_update_ms = row.next_update_ms;
		info->entries = b->entries;
		info->der_len = b->der.len;
	}
	return 0;
}

/* Builds, signs and stores one CRL of key generation k. */
static int
publish_gen(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct gen_key *k, const char *key_spec,
    const char *actor, int64_t next_due_cap, struct crl_info *info)
{
	struct buf algid = { 0 }, other = { 0 };
	struct build b;
	int attempt, rebuilt = 0, rc = HSMCA_E_INTERNAL;

	memset(&b, 0, sizeof(b));
	if ((rc = predict_algid(key_spec, &algid)) != 0)
		goto out;
	for (attempt = 0; attempt < CRL_PUBLISH_ATTEMPTS; attempt++) {
		buf_free(&b.der);
		rc = build_once(ctx, ca, k, &algid, &b, &other);
		if (rc == HSMCA_E_BUSY && other.data != NULL && !rebuilt) {
			buf_free(&algid);
			algid = other;
			other.data = NULL;
			other.len = 0;
			rebuilt = 1;
			attempt--;
			continue;
		}
		if (rc == HSMCA_E_BUSY && other.data != NULL) {
			rc = err_set(HSMCA_E_TOKEN, "CRL: the token keeps changing its signature algorithm");
			goto out;
		}
		if (rc != 0)
			goto out;
		rc = store(ctx, ca, k, actor, &b, next_due_cap, info);
		if (rc != HSMCA_E_CONFLICT)
			goto out;
		/* Another publisher stored this number first: build again from a newer snapshot. */
	}
	err_set(rc, "CRL for CA %s: other publishers kept winning; it stays due", ca->slug);
out:
	buf_free(&b.der);
	buf_free(&algid);
	buf_free(&other);
	return rc;
}

/*
 * A retired key generation (ca_rollover.h) keeps its CRL while a certificate it issued is
 * unexpired (*live). It is published again (*due) when it has none, when its newest one is past
 * its refresh time, or when the number of its revoked certificates changed (a revocation of a
 * certificate it issued). *refresh_ms: when its newest CRL must be replaced, 0 when it has none.
 */
static int
retired_state(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct ca_gen *g, int64_t now_ms, int *live,
    int *due, int64_t *refresh_ms)
{
	struct db_crl *latest = NULL;
	uint64_t n = 0, n_reason = 0;
	size_t max_hex = 0;
	int rc;

	*live = *due = 0;
	*refresh_ms = 0;
	/* Everything a key issued ends with its CA certificate (validity is clipped to it). */
	if (g->not_after_ms <= now_ms)
		return 0;
	if ((rc = db_crls_gen_live(ctx->db, ca->id, g->gen, now_ms, live)) != 0 || !*live)
		return rc;
	rc = db_crls_latest_gen(ctx->db, ca->id, g->gen, 0, &latest);
	if (rc == HSMCA_E_NOTFOUND) {
		err_clear();
		*due = 1;
		return 0;
	}
	if (rc != 0 || (rc = db_crls_revoked_stats(ctx->db, ca->id, g->gen, &n, &max_hex, &n_reason)) != 0)
		goto out;
	*refresh_ms = latest->this_update_ms + (latest->next_update_ms - latest->this_update_ms) / CRL_REFRESH_DIVISOR;
	*due = *refresh_ms <= now_ms || (int64_t)n != latest->entry_count;
out:
	db_crl_free(latest);
	return rc;
}

/* Builds, signs and stores one CRL of retired key generation g (the CA's due time untouched). */
static int
publish_retired_gen(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct ca_gen *g, const char *actor,
    struct crl_info *info)
{
	struct gen_key k;
	int rc;

	memset(&k, 0, sizeof(k));
	k.gen = g->gen;
	k.keyref = g->keyref;
	if ((rc = x509b_parse_cert(g->cert_der->data, g->cert_der->len, &k.cert)) == 0)
		rc = publish_gen(ctx, ca, &k, g->key_spec, actor, 0, info);
	X509_free(k.cert);
	return rc;
}

/* The retired generations' CRLs, before the current one's (crl_publish). *cap gets the earliest
 * time one of them must be published again (0: none); a failed one is tried again after
 * CRL_RETRY_MS. Returns the first error; the others are still tried. */
static int
publish_retired(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct ca_gens *gens, const char *actor,
    int64_t *cap)
{
	struct crl_info ri;
	int64_t now_ms = db_now_ms(), refresh;
	size_t i;
	int live, due, rc, first = 0;

	*cap = 0;
	for (i = 1; i < gens->n; i++) {
		rc = retired_state(ctx, ca, &gens->g[i], now_ms, &live, &due, &refresh);
		if (rc == 0 && live && due) {
			rc = publish_retired_gen(ctx, ca, &gens->g[i], actor, &ri);
			if (rc == 0)
				refresh = ri.this_update_ms + (ri.next_update_ms - ri.this_update_ms) / CRL_REFRESH_DIVISOR;
		}
		if (rc != 0) {
			/* An operator must act (the key is still needed for its CRL): error level. */
			log_msg(LOGL_ERROR, "crl", "crl.publish_failed", "CA %s retired key generation %lld: %s; "
			    "retried in %lld s", ca->slug, (long long)gens->g[i].gen, err_msg(rc),
			    (long long)(CRL_RETRY_MS / 1000));
			refresh = now_ms + CRL_RETRY_MS;
			if (first == 0)
				first = rc;
		}
		if (refresh > 0 && (*cap == 0 || refresh < *cap))
			*cap = refresh;
	}
	return first;
}

int
crl_publish(struct hsmca_ctx *ctx, const struct db_ca *ca, const char *actor, struct crl_info *info)
{
	struct ca_gens gens;
	struct gen_key k;
	int64_t cap = 0;
	int rc, retired_rc;

	memset(&gens, 0, sizeof(gens));
	memset(&k, 0, sizeof(k));
	if (info != NULL)
		memset(info, 0, sizeof(*info));
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_TOKEN, "CRL: the token is not open");
	if (actor == NULL)
		actor = "system";
	if (x509b_parse_cert(ca->cert_der.data, ca->cert_der.len, &k.cert) != 0) {
		rc = err_set(HSMCA_E_DB, "CRL: the stored certificate of CA %s does not parse", ca->slug);
		goto out;
	}
	k.gen = ca->key_gen;
	k.keyref = ca->keyref;
	k.current = 1;
	if ((rc = ca_gens_read(ctx, ca, &gens)) != 0)
		goto out;
	/* Retired keys first, so the current CRL's store sets the CA's due time knowing theirs. */
	retired_rc = publish_retired(ctx, ca, &gens, actor, &cap);
	rc = publish_gen(ctx, ca, &k, ca->key_spec, actor, cap, info);
	/* A failed retired CRL was logged and capped the due time: the CA is published again soon. */
	(void)retired_rc;
out:
	ca_gens_free(&gens);
	X509_free(k.cert);
	return rc;
}

int
crl_publish_slug(struct hsmca_ctx *ctx, const char *slug, const char *actor, struct crl_info *info)
{
	struct db_ca *ca = NULL;
	int rc;

	if ((rc = db_cas_get_by_slug(ctx->db, slug, &ca)) != 0)
		return rc;
	rc = crl_publish(ctx, ca, actor, info);
	db_ca_free(ca);
	return rc;
}

int
crl_mark_dirty(struct hsmca_ctx *ctx, int64_t ca_id)
{
	return db_revocation_mark_crl_due(ctx->db, ca_id, db_now_ms());
}

int
crl_publish_due(struct hsmca_ctx *ctx, int64_t now_ms, size_t *n_published)
{
	int64_t *ids = NULL;
	size_t n = 0, i, done = 0;
	struct db_ca *ca;
	int rc, first = 0;

	if (n_published != NULL)
		*n_published = 0;
	if ((rc = db_crls_due(ctx->db, now_ms, &ids, &n)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		ca = NULL;
		if ((rc = db_cas_get_by_id(ctx->db, ids[i], &ca)) == 0)
			rc = crl_publish(ctx, ca, "system", NULL);
		db_ca_free(ca);
		if (rc == 0)
			done++;
		else if (first == 0)
			first = rc;
	}
	free(ids);
	if (n_published != NULL)
		*n_published = done;
	return first;
}

int
crl_latest(struct hsmca_ctx *ctx, const char *slug, struct db_crl **out)
{
	struct db_ca *ca = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_cas_get_by_slug(ctx->db, slug, &ca)) != 0)
		return rc;
	rc = db_crls_latest(ctx->db, ca->id, 1, out);
	db_ca_free(ca);
	return rc;
}

int
crl_latest_gen(struct hsmca_ctx *ctx, const struct db_ca *ca, int64_t gen, struct db_crl **out)
{
	struct ca_gens gens;
	const struct ca_gen *g;
	int64_t refresh;
	int live = 0, due = 0, rc;

	*out = NULL;
	memset(&gens, 0, sizeof(gens));
	if (gen <= 0)
		gen = ca->key_gen;
	rc = db_crls_latest_gen(ctx->db, ca->id, gen, 1, out);
	if (rc != HSMCA_E_NOTFOUND)
		return rc;
	err_clear();
	if (gen == ca->key_gen) {
		if ((rc = crl_publish(ctx, ca, "system", NULL)) != 0)
			return rc;
		return db_crls_latest_gen(ctx->db, ca->id, gen, 1, out);
	}
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_TOKEN, "CRL: the token is not open");
	if ((rc = ca_gens_read(ctx, ca, &gens)) != 0)
		goto out;
	/* Only what crl_publish would keep: a key whose certificates have all expired gets no new CRL,
	 * so a request naming one costs no signature. */
	if ((g = ca_gens_find(&gens, gen)) == NULL ||
	    (rc = retired_state(ctx, ca, g, db_now_ms(), &live, &due, &refresh)) != 0 || !live) {
		if (rc == 0)
			rc = err_set(HSMCA_E_NOTFOUND, "key generation %lld of CA %s has no CRL", (long long)gen, ca->slug);
		goto out;
	}
	if ((rc = publish_retired_gen(ctx, ca, g, "system", NULL)) != 0)
		goto out;
	rc = db_crls_latest_gen(ctx->db, ca->id, gen, 1, out);
out:
	ca_gens_free(&gens);
	return rc;
}

int
crl_pem(const struct buf *der, struct buf *pem)
{
	BIO *bio = NULL;
	char *data = NULL;
	long len;
	int rc = HSMCA_E_NOMEM;

	pem->data = NULL;
	pem->len = 0;
	/* PEM_write_bio with the raw DER: no parsing (and no X509_CRL in memory) needed. */
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio(bio, PEM_STRING_X509_CRL, "", der->data, (long)der->len) <= 0)
		goto out;
	if ((len = BIO_get_mem_data(bio, &data)) <= 0)
		goto out;
	rc = buf_set(pem, data, (size_t)len);
out:
	BIO_free(bio);
	return rc;
}
