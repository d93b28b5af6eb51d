/*
 * ca_rollover.c: start, activate and cancel a CA certificate rollover; the GetNextCACert
 * certificates (see ca_rollover.h).
 *
 * May call: tok.h (generate, public key, delete), ca.h (serial, signing, chain), ra.h (the next
 * RA's certificate), db_cas/db_certs/db_revocation, audit.h, x509_build.h. Must never: leave a
 * ca_next row whose key is not on the token, or delete a key a committed row still names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "audit.h"
#include "ca.h"
#include "ca_rollover.h"
#include "db.h"
#include "db_certs.h"
#include "db_revocation.h"
#include "err.h"
#include "log.h"
#include "ra.h"
#include "slug.h"
#include "tok.h"
#include "x509_build.h"

/* RFC 5280 CRLReason for a cancelled next certificate: its key was destroyed unused. */
#define ROLLOVER_REVOKE_REASON 5   /* cessationOfOperation */

/* Everything one rollover start holds; freed by rollover_clear. */
struct rollover {
	X509 *cur;                 /* the CA's current certificate */
	struct db_ca *parent;      /* intermediates only */
	X509 *parent_cert;
	int is_root;
	enum tok_key_spec spec;
	char *keyref;              /* the next CA key, while this call owns it */
	char *ra_keyref;           /* the next RA key, likewise */
	EVP_PKEY *pub;
	X509 *next;                /* the signed next certificate */
	struct buf next_der, ra_der;
	char serial[X509B_SERIAL_HEX];
	char fpr[X509B_SHA256_HEX];
};

static void
rollover_clear(struct hsmca_ctx *ctx, struct rollover *r)
{
	/* Keys still owned here were never committed: take them off the token again. */
	if (r->keyref != NULL && tok_delete_key(ctx->tok, r->keyref) != 0)
		log_msg(LOGL_ERROR, "ca", "token_key.delete.failed", "could not delete the unused key %s", r->keyref);
	if (r->ra_keyref != NULL && tok_delete_key(ctx->tok, r->ra_keyref) != 0)
		log_msg(LOGL_ERROR, "ca", "token_key.delete.failed", "could not delete the unused key %s", r->ra_keyref);
	free(r->keyref);
	free(r->ra_keyref);
	buf_free(&r->ra_der);
	buf_free(&r->next_der);
	X509_free(r->next);
	EVP_PKEY_free(r->pub);
	X509_free(r->parent_cert);
	db_ca_free(r->parent);
	X509_free(r->cur);
	ERR_clear_error();
}

/* Which key signs the next certificate: the new key itself (a self-signed CA) or the parent's,
 * which must still be able to sign CAs (the checks of ca_create_intermediate). */
static int
rollover_issuer(struct hsmca_ctx *ctx, const struct db_ca *ca, struct rollover *r)
{
	int64_t now_ms = db_now_ms();
	long pathlen;

	r->is_root = (X509_get_extension_flags(r->cur) & EXFLAG_SS) != 0;
	if (r->is_root)
		return 0;
	if (ca->parent_id <= 0)
		return err_set(HSMCA_E_POLICY, "CA '%s' was issued by a CA that is not on this appliance; roll it "
		    "over there and import the result", ca->slug);
	if (db_cas_get_by_id(ctx->db, ca->parent_id, &r->parent) != 0)
		return err_set(HSMCA_E_POLICY, "the parent of CA '%s' is gone", ca->slug);
	if (strcmp(r->parent->status, "active") != 0)
		return err_set(HSMCA_E_POLICY, "parent CA '%s' is %s", r->parent->slug, r->parent->status);
	if (r->parent->not_after_ms <= now_ms)
		return err_set(HSMCA_E_POLICY, "parent CA '%s' has expired", r->parent->slug);
	if (x509b_parse_cert(r->parent->cert_der.data, r->parent->cert_der.len, &r->parent_cert) != 0)
		return err_set(HSMCA_E_DB, "the certificate of parent CA '%s' does not parse", r->parent->slug);
	pathlen = X509_get_pathlen(r->parent_cert);
	if (pathlen == 0)
		return err_set(HSMCA_E_POLICY, "parent CA '%s' has pathlen 0 and may not sign CAs", r->parent->slug);
	return 0;
}

/* The new key's public half (for the certificate and to check the signature). */
static int
rollover_pubkey(struct hsmca_ctx *ctx, struct rollover *r)
{
	struct buf spki = { 0 };
	const unsigned char *p;
	int rc;

	if ((rc = tok_public_key(ctx->tok, r->keyref, &spki)) != 0)
		return rc;
	p = spki.data;
	r->pub = d2i_PUBKEY(NULL, &p, (long)spki.len);
	if (r->pub == NULL || p != spki.data + spki.len)
		rc = err_set(HSMCA_E_TOKEN, "the token returned a malformed public key for %s", r->keyref);
	buf_free(&spki);
	return rc;
}

/* The next certificate: the current subject byte for byte (clients chain by name), the current
 * basicConstraints pathlen, ca.c's keyUsage, SKI; AKI, CRL DP and AIA of the parent for an
 * intermediate. Valid from now, clipped to the parent's validity. */
static int
rollover_certificate(struct hsmca_ctx *ctx, int days, struct rollover *r)
{
	ASN1_INTEGER *serial = NULL;
	X509 *tbs = NULL;
	int64_t now = (int64_t)time(NULL), nb, na;
	long pathlen = X509_get_pathlen(r->cur);
	int rc;

	nb = now - X509B_BACKDATE_SECONDS;
	na = now + (int64_t)days * 86400;
	if (!r->is_root) {
		long parent_pathlen = X509_get_pathlen(r->parent_cert);

		if (parent_pathlen > 0 && (pathlen < 0 || pathlen >= parent_pathlen))
			pathlen = parent_pathlen - 1;
		if (na * 1000 > r->parent->not_after_ms)
			na = r->parent->not_after_ms / 1000;
		if (nb * 1000 < r->parent->not_before_ms)
			nb = r->parent->not_before_ms / 1000;
	}
	if ((rc = ca_new_serial(ctx->db, &serial, r->serial)) != 0)
		goto out;
	rc = x509b_new_cert(serial, X509_get_subject_name(r->cur),
	    r->is_root ? X509_get_subject_name(r->cur) : X509_get_subject_name(r->parent_cert), nb, na, r->pub, &tbs);
	if (rc != 0)
		goto out;
	if ((rc = ca_add_ca_extensions(tbs, pathlen, ctx->cfg.public_base_url, r->is_root ? NULL : r->parent,
	    r->parent_cert)) != 0)
		goto out;
	if (r->is_root)
		rc = ca_sign(ctx->tok, r->keyref, tok_key_spec_name(r->spec), tbs, r->pub, &r->next_der, &r->next);
	else
		rc = ca_key_error(r->parent, r->parent->keyref, ca_sign(ctx->tok, r->parent->keyref,
		    r->parent->key_spec, tbs, X509_get0_pubkey(r->parent_cert), &r->next_der, &r->next));
	if (rc != 0)
		goto out;
	rc = x509b_sha256_hex(r->next_der.data, r->next_der.len, r->fpr);
out:
	X509_free(tbs);
	ASN1_INTEGER_free(serial);
	return rc;
}

/* The next RA: ra.c's certificate, issued by the next CA (a db_ca view of it). */
static int
rollover_ra(struct hsmca_ctx *ctx, const struct db_ca *ca, struct rollover *r)
{
	struct db_ca view = *ca;
	char label[SLUG_MAX + 16];
	int rc;

	snprintf(label, sizeof(label), "ra-%s-next", ca->slug);
	if ((rc = tok_generate_key(ctx->tok, TOK_KEY_RSA_2048, label, 0, &r->ra_keyref)) != 0)
		return rc;
	view.cert_der = r->next_der;
	view.keyref = r->keyref;
	view.key_spec = (char *)tok_key_spec_name(r->spec);
	if ((rc = x509b_time_ms(X509_get0_notBefore(r->next), &view.not_before_ms)) != 0 ||
	    (rc = x509b_time_ms(X509_get0_notAfter(r->next), &view.not_after_ms)) != 0)
		return rc;
	return ra_issue_certificate(ctx, &view, r->ra_keyref, &r->ra_der);
}

static char *
rollover_details(const char *event_what, const struct db_ca_next *n)
{
	json_t *j;
	char *s;

	j = json_pack("{s:s, s:s, s:s, s:s}", "action", event_what, "serial", n->serial, "key_spec", n->key_spec,
	    "fingerprint_sha256", n->fingerprint_sha256);
	if (j == NULL)
		return NULL;
	s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return s;
}

/* The parent's inventory row for an intermediate's next certificate (so the parent can revoke
 * it, as ca.c does for the first one). */
static int
rollover_store_subca(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct db_ca_next *n, struct rollover *r)
{
	struct db_cert row;
	char *subject = NULL, *issuer = NULL, digest[32];
	int64_t id;
	int rc;

	memset(&row, 0, sizeof(row));
	if ((rc = x509b_name_text(X509_get_subject_name(r->next), &subject)) != 0 ||
	    (rc = x509b_name_text(X509_get_issuer_name(r->next), &issuer)) != 0 ||
	    (rc = x509b_digest_name(r->next, digest, sizeof(digest))) != 0)
		goto out;
	row.ca_id = r->parent->id;
	row.ca_key_gen = r->parent->key_gen;
	row.serial = n->serial;
	row.subject = subject;
	row.issuer = issuer;
	row.common_name = ca->name;
	row.not_before_ms = n->not_before_ms;
	row.not_after_ms = n->not_after_ms;
	row.key_algorithm = n->key_spec;
	row.digest = digest;
	row.fingerprint_sha256 = n->fingerprint_sha256;
	row.source = "managed";
	row.profile = "subca";
	row.keyref = n->keyref;
	row.der = n->cert_der;
	rc = db_certs_insert(ctx->db, &row, &id);
out:
	free(issuer);
	free(subject);
	return rc;
}

int
ca_rollover_start(struct hsmca_ctx *ctx, const struct db_ca *ca, const struct ca_rollover_req *req,
    struct db_ca_next **out)
{
	struct rollover r;
	struct db_ca_next row, *pending = NULL;
	char label[SLUG_MAX + 16], *details = NULL;
	const char *actor = req->actor != NULL ? req->actor : "cli";
	int days, rc;

	if (out != NULL)
		*out = NULL;
	memset(&r, 0, sizeof(r));
	memset(&row, 0, sizeof(row));
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_TOKEN, "a rollover needs the token");
	rc = db_cas_next_get(ctx->db, ca->id, &pending);
	db_ca_next_free(pending);
	if (rc == 0)
		return err_set(HSMCA_E_CONFLICT, "CA '%s' already has a pending rollover; activate or cancel it first",
		    ca->slug);
	if (rc != HSMCA_E_NOTFOUND)
		return rc;
	err_clear();
	if (strcmp(ca->status, "retired") == 0)
		return err_set(HSMCA_E_POLICY, "CA '%s' is retired", ca->slug);
	if ((rc = tok_key_spec_parse(req->key_spec != NULL ? req->key_spec : ca->key_spec, &r.spec)) != 0)
		return rc;
	if ((rc = x509b_parse_cert(ca->cert_der.data, ca->cert_der.len, &r.cur)) != 0 ||
	    (rc = rollover_issuer(ctx, ca, &r)) != 0)
		goto out;
	days = req->days > 0 ? req->days : (r.is_root ? CA_ROOT_DEFAULT_DAYS : CA_INTERMEDIATE_DEFAULT_DAYS);
	if (days > CA_MAX_DAYS) {
		rc = err_set(HSMCA_E_INVALID, "validity of %d days is over the maximum of %d", days, CA_MAX_DAYS);
		goto out;
	}

	snprintf(label, sizeof(label), "ca-%s-next", ca->slug);
	if ((rc = tok_generate_key(ctx->tok, r.spec, label, 0, &r.keyref)) != 0)
		goto out;
	/* From here on rollover_clear deletes what is still owned in r. */
	if ((rc = rollover_pubkey(ctx, &r)) != 0 || (rc = rollover_certificate(ctx, days, &r)) != 0 ||
	    (rc = rollover_ra(ctx, ca, &r)) != 0)
		goto out;

	row.ca_id = ca->id;
	row.cert_der = r.next_der;
	row.serial = r.serial;
	row.fingerprint_sha256 = r.fpr;
	row.keyref = r.keyref;
	row.key_spec = (char *)tok_key_spec_name(r.spec);
	row.ra_keyref = r.ra_keyref;
	row.ra_cert_der = r.ra_der;
	row.created_by = (char *)actor;
	if ((rc = x509b_time_ms(X509_get0_notBefore(r.next), &row.not_before_ms)) != 0 ||
	    (rc = x509b_time_ms(X509_get0_notAfter(r.next), &row.not_after_ms)) != 0)
		goto out;
	if ((details = rollover_details("created", &row)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = db_begin(ctx->db)) != 0)
		goto out;
	rc = db_cas_next_insert(ctx->db, &row);
	if (rc == HSMCA_E_EXISTS)
		rc = err_set(HSMCA_E_CONFLICT, "CA '%s' already has a pending rollover", ca->slug);
	if (rc == 0 && !r.is_root)
		rc = rollover_store_subca(ctx, ca, &row, &r);
	if (rc == 0)
		rc = audit_write(ctx->db, actor, req->ip, "ca.rollover.created", ca->slug, details);
	if (rc == 0)
		rc = db_commit(ctx->db);
	if (rc != 0) {
		db_rollback(ctx->db);
		goto out;
	}
	/* Committed: the row owns the keys now. */
	free(r.keyref);
	free(r.ra_keyref);
	r.keyref = r.ra_keyref = NULL;
	log_msg(LOGL_INFO, "ca", "ca.rollover.created", "CA %s: next certificate %s (%s) on the token", ca->slug,
	    row.serial, row.key_spec);
	rc = out != NULL ? db_cas_next_get(ctx->db, ca->id, out) : 0;
out:
	free(details);
	rollover_clear(ctx, &r);
	return rc;
}

int
ca_rollover_activate(struct hsmca_ctx *ctx, const struct db_ca *ca, const char *actor, const char *ip,
    struct db_ca **out)
{
	struct db_ca_next *next = NULL;
	char *details = NULL;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (actor == NULL)
		actor = "cli";
	if ((rc = db_cas_next_get(ctx->db, ca->id, &next)) != 0)
		return rc;
	if (next->not_after_ms <= db_now_ms()) {
		rc = err_set(HSMCA_E_POLICY, "the next certificate of CA '%s' has expired; cancel it", ca->slug);
		goto out;
	}
	if ((details = rollover_details("activated", next)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = db_begin(ctx->db)) != 0)
		goto out;
	/* The CRL is due at once: the new key's certificates point at its own CRL URL, which has
	 * none yet, and the retired key's CRL now covers only what it issued. */
	if ((rc = db_cas_next_activate(ctx->db, ca, next, db_now_ms())) != 0 ||
	    (rc = db_revocation_mark_crl_due(ctx->db, ca->id, db_now_ms())) != 0 ||
	    (rc = audit_write(ctx->db, actor, ip, "ca.rollover.activated", ca->slug, details)) != 0 ||
	    (rc = db_commit(ctx->db)) != 0) {
		db_rollback(ctx->db);
		goto out;
	}
	log_msg(LOGL_INFO, "ca", "ca.rollover.activated", "CA %s now signs with %s (certificate %s)", ca->slug,
	    next->keyref, next->serial);
	rc = out != NULL ? db_cas_get_by_id(ctx->db, ca->id, out) : 0;
out:
	free(details);
	db_ca_next_free(next);
	return rc;
}

/* An intermediate's cancelled next certificate is in its parent's inventory: revoke it there. */
static int
rollover_revoke_subca(struct hsmca_ctx *ctx, const struct db_ca_next *next)
{
	struct db_cert *cert = NULL;
	int64_t now = db_now_ms();
	int rc;

	rc = db_certs_get_by_serial(ctx->db, next->serial, &cert);
	if (rc == HSMCA_E_NOTFOUND) {
		err_clear();
		return 0;   /* a root's next certificate: no inventory row */
	}
	if (rc != 0)
		return rc;
	/* The fingerprint check: a root's next serial is not reserved in certificates. */
	if (strcmp(cert->fingerprint_sha256, next->fingerprint_sha256) == 0 && cert->revoked_at_ms == 0 &&
	    cert->ca_id > 0 &&
	    ((rc = db_revocation_mark_revoked(ctx->db, cert->id, now, ROLLOVER_REVOKE_REASON)) != 0 ||
	    (rc = db_revocation_mark_crl_due(ctx->db, cert->ca_id, now)) != 0)) {
		db_cert_free(cert);
		return rc;
	}
	db_cert_free(cert);
	return 0;
}

int
ca_rollover_cancel(struct hsmca_ctx *ctx, const struct db_ca *ca, const char *actor, const char *ip)
{
	struct db_ca_next *next = NULL;
	char *details = NULL;
	int rc;

	if (actor == NULL)
		actor = "cli";
	if ((rc = db_cas_next_get(ctx->db, ca->id, &next)) != 0)
		return rc;
	if ((details = rollover_details("cancelled", next)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = db_begin(ctx->db)) != 0)
		goto out;
	if ((rc = db_cas_next_delete(ctx->db, ca->id, next->fingerprint_sha256)) != 0 ||
	    (rc = rollover_revoke_subca(ctx, next)) != 0 ||
	    (rc = audit_write(ctx->db, actor, ip, "ca.rollover.cancelled", ca->slug, details)) != 0 ||
	    (rc = db_commit(ctx->db)) != 0) {
		db_rollback(ctx->db);
		goto out;
	}
	/* After the commit: no row names these keys any more. */
	if (ctx->tok == NULL || tok_delete_key(ctx->tok, next->keyref) != 0)
		log_msg(LOGL_ERROR, "ca", "token_key.delete.failed", "rollover of CA %s cancelled but its key %s "
		    "stays on the token", ca->slug, next->keyref);
	if (ctx->tok == NULL || tok_delete_key(ctx->tok, next->ra_keyref) != 0)
		log_msg(LOGL_ERROR, "ca", "token_key.delete.failed", "rollover of CA %s cancelled but its RA key %s "
		    "stays on the token", ca->slug, next->ra_keyref);
	err_clear();
	log_msg(LOGL_INFO, "ca", "ca.rollover.cancelled", "CA %s: next certificate %s cancelled", ca->slug,
	    next->serial);
	rc = 0;
out:
	free(details);
	db_ca_next_free(next);
	return rc;
}

int
ca_rollover_next_certs(struct hsmca_ctx *ctx, const struct db_ca *ca, struct buf **certs, size_t *n)
{
	struct db_ca_next *next = NULL;
	struct db_ca *parent = NULL;
	struct buf *chain = NULL, *list = NULL;
	size_t n_chain = 0, count = 0, i;
	int rc;

	*certs = NULL;
	*n = 0;
	if ((rc = db_cas_next_get(ctx->db, ca->id, &next)) != 0)
		return rc;
	/* The next certificate's issuer is the parent as it is now (or itself). */
	if (ca->parent_id > 0) {
		if ((rc = db_cas_get_by_id(ctx->db, ca->parent_id, &parent)) != 0 ||
		    (rc = ca_chain(ctx, parent, &chain, &n_chain)) != 0)
			goto out;
	}
	if ((list = calloc(n_chain + 2, sizeof(*list))) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = buf_set(&list[count++], next->ra_cert_der.data, next->ra_cert_der.len)) != 0 ||
	    (rc = buf_set(&list[count++], next->cert_der.data, next->cert_der.len)) != 0)
		goto out;
	for (i = 0; i < n_chain; i++)
		if ((rc = buf_set(&list[count++], chain[i].data, chain[i].len)) != 0)
			goto out;
	*certs = list;
	*n = count;
	list = NULL;
	rc = 0;
out:
	if (list != NULL)
		ca_chain_free(list, count);
	ca_chain_free(chain, n_chain);
	db_ca_free(parent);
	db_ca_next_free(next);
	return rc;
}

/* --------------------------------------------------------------- key generations */

void
ca_gens_free(struct ca_gens *g)
{
	if (g == NULL)
		return;
	free(g->g);
	db_ca_history_list_free(g->hist, g->n_hist);
	memset(g, 0, sizeof(*g));
}

int
ca_gens_read(struct hsmca_ctx *ctx, const struct db_ca *ca, struct ca_gens *out)
{
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = db_cas_history_list(ctx->db, ca->id, &out->hist, &out->n_hist)) != 0)
		return rc;
	if ((out->g = calloc(out->n_hist + 1, sizeof(*out->g))) == NULL) {
		ca_gens_free(out);
		return HSMCA_E_NOMEM;
	}
	out->g[0].gen = ca->key_gen;
	out->g[0].cert_der = &ca->cert_der;
	out->g[0].keyref = ca->keyref;
	out->g[0].key_spec = ca->key_spec;
	out->g[0].not_after_ms = ca->not_after_ms;
	out->g[0].current = 1;
	for (i = 0; i < out->n_hist; i++) {
		struct ca_gen *g = &out->g[i + 1];

		g->gen = out->hist[i].key_gen;
		g->cert_der = &out->hist[i].cert_der;
		g->keyref = out->hist[i].keyref;
		g->key_spec = out->hist[i].key_spec;
		g->not_after_ms = out->hist[i].not_after_ms;
	}
	out->n = out->n_hist + 1;
	return 0;
}

const struct ca_gen *
ca_gens_find(const struct ca_gens *g, int64_t gen)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (g->g[i].gen == gen)
			return &g->g[i];
	return NULL;
}

/* The key identifier an AKI made by x509_build.c would carry for cert: its SKI, else SHA-1 of
 * its key. 0 and *len = 0 when neither is available. */
static void
rollover_keyid(X509 *cert, unsigned char out[EVP_MAX_MD_SIZE], unsigned int *len)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(cert);

	*len = 0;
	if (ski != NULL && ASN1_STRING_length(ski) > 0 && ASN1_STRING_length(ski) <= EVP_MAX_MD_SIZE) {
		*len = (unsigned int)ASN1_STRING_length(ski);
		memcpy(out, ASN1_STRING_get0_data(ski), *len);
	} else if (!X509_pubkey_digest(cert, EVP_sha1(), out, len)) {
		*len = 0;
	}
}

/* 1 when cand's key signed child: by key identifier when child has an AKI, else by signature. */
static int
rollover_signed_by(X509 *child, X509 *cand)
{
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(child);
	unsigned char kid[EVP_MAX_MD_SIZE];
	unsigned int kl;

	if (aki != NULL) {
		rollover_keyid(cand, kid, &kl);
		return kl > 0 && (int)kl == ASN1_STRING_length(aki) && memcmp(kid, ASN1_STRING_get0_data(aki), kl) == 0;
	}
	return X509_verify(child, X509_get0_pubkey(cand)) == 1;
}

int
ca_rollover_issuer_cert(struct hsmca_ctx *ctx, const struct db_ca *parent, X509 *child, struct buf *out,
    X509 **out_x)
{
	struct ca_gens gens;
	const struct buf *pick = &parent->cert_der;
	X509 *cur = NULL, *cand = NULL;
	size_t i;
	int rc;

	memset(&gens, 0, sizeof(gens));
	out->data = NULL;
	out->len = 0;
	*out_x = NULL;
	/* The usual case first: the parent's current certificate, decoded once per process. */
	if ((rc = ca_cert_get(parent, &cur)) != 0)
		goto out;
	if (rollover_signed_by(child, cur))
		goto found;
	if ((rc = ca_gens_read(ctx, parent, &gens)) != 0)
		goto out;
	for (i = 1; i < gens.n; i++) {
		if (x509b_parse_cert(gens.g[i].cert_der->data, gens.g[i].cert_der->len, &cand) != 0)
			continue;
		if (rollover_signed_by(child, cand)) {
			pick = gens.g[i].cert_der;
			break;
		}
		X509_free(cand);
		cand = NULL;
	}
found:
	if ((rc = buf_set(out, pick->data, pick->len)) != 0)
		goto out;
	*out_x = cand != NULL ? cand : cur;
	if (cand != NULL)
		cand = NULL;
	else
		cur = NULL;
out:
	ERR_clear_error();
	X509_free(cand);
	X509_free(cur);
	ca_gens_free(&gens);
	return rc;
}

/* ------------------------------------------------------- keys left by a CA deletion */

void
ca_rollover_keys_free(struct ca_rollover_keys *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->n; i++)
		free(k->keyrefs[i]);
	free(k->keyrefs);
	memset(k, 0, sizeof(*k));
}

static int
rollover_keys_add(struct ca_rollover_keys *k, const char *keyref)
{
	char **grown;

	if (keyref == NULL || keyref[0] == '\0')
		return 0;
	if ((grown = realloc(k->keyrefs, (k->n + 1) * sizeof(*grown))) == NULL)
		return HSMCA_E_NOMEM;
	k->keyrefs = grown;
	if ((k->keyrefs[k->n] = strdup(keyref)) == NULL)
		return HSMCA_E_NOMEM;
	k->n++;
	return 0;
}

int
ca_rollover_keys_read(struct hsmca_ctx *ctx, int64_t ca_id, struct ca_rollover_keys *out)
{
	struct db_ca_next *next = NULL;
	struct db_ca_history *hist = NULL;
	size_t n_hist = 0, i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = db_cas_next_get(ctx->db, ca_id, &next);
	if (rc == HSMCA_E_NOTFOUND) {
		err_clear();
		rc = 0;
	} else if (rc == 0 && ((rc = rollover_keys_add(out, next->keyref)) != 0 ||
	    (rc = rollover_keys_add(out, next->ra_keyref)) != 0)) {
		goto out;
	}
	if (rc != 0)
		goto out;
	out->n_pending = out->n;
	if ((rc = db_cas_history_list(ctx->db, ca_id, &hist, &n_hist)) != 0)
		goto out;
	for (i = 0; i < n_hist; i++)
		if ((rc = rollover_keys_add(out, hist[i].keyref)) != 0)
			goto out;
out:
	if (rc != 0)
		ca_rollover_keys_free(out);
	db_ca_history_list_free(hist, n_hist);
	db_ca_next_free(next);
	return rc;
}

int
ca_key_in_use(struct hsmca_ctx *ctx, const char *keyref)
{
	struct db_ca **cas = NULL;
	size_t n = 0, i;
	int used = 0;

	if (db_cas_list(ctx->db, &cas, &n) != 0)
		return 1;
	for (i = 0; i < n && !used; i++)
		used = strcmp(cas[i]->keyref, keyref) == 0;
	db_ca_list_free(cas, n);
	return used;
}

size_t
ca_rollover_keys_delete(struct hsmca_ctx *ctx, const struct ca_rollover_keys *k, int with_retired)
{
	size_t i, done = 0;

	if (ctx->tok == NULL)
		return 0;
	for (i = 0; i < k->n; i++) {
		if (i >= k->n_pending && (!with_retired || ca_key_in_use(ctx, k->keyrefs[i])))
			continue;
		if (tok_delete_key(ctx->tok, k->keyrefs[i]) == 0)
			done++;
		else
			log_msg(LOGL_ERROR, "ca", "token_key.delete.failed", "the CA is deleted but its %s key %s "
			    "stays on the token", i < k->n_pending ? "pending rollover" : "retired", k->keyrefs[i]);
	}
	err_clear();
	return done;
}
