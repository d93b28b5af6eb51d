/*
 * ca.c: create, import, list and chain the appliance's certificate authorities (see ca.h).
 *
 * May call: tok.h (keys: generate, import, public key, sign, delete), db_cas/db_certs/audit
 * (storage), x509_build.h (certificate assembly). Must never: see a private key (keys are named by
 * keyref only), or leave a token key without its cas row (every failure after a key was put on
 * the token deletes it again).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "audit.h"
#include "ca.h"
#include "ca_rollover.h"
#include "db.h"
#include "db_certs.h"
#include "err.h"
#include "metrics.h"
#include "log.h"
#include "slug.h"
#include "tok.h"

#define CA_SERIAL_ATTEMPTS 8

int
ca_new_serial(struct db *db, ASN1_INTEGER **serial, char hex[X509B_SERIAL_HEX])
{
	int i, exists, rc;

	*serial = NULL;
	for (i = 0; i < CA_SERIAL_ATTEMPTS; i++) {
		if ((rc = x509b_random_serial(serial, hex)) != 0)
			return rc;
		if ((rc = db_certs_serial_exists(db, hex, &exists)) != 0) {
			ASN1_INTEGER_free(*serial);
			*serial = NULL;
			return rc;
		}
		if (!exists)
			return 0;
		ASN1_INTEGER_free(*serial);
		*serial = NULL;
	}
	return err_set(HSMCA_E_INTERNAL, "no unused serial number after %d attempts", CA_SERIAL_ATTEMPTS);
}

/* ca_cert_get's memo (see ca.h): the only mutable process-wide state of this file. */
struct ca_cert_slot {
	int64_t ca_id;             /* 0: free */
	uint8_t *der;
	size_t len;
	X509 *cert;                /* one reference held by the slot */
};

static pthread_mutex_t ca_cert_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ca_cert_slot ca_cert_slots[CA_CERT_CACHE_SLOTS];
static size_t ca_cert_next_victim;

/* A referenced X509 for exactly these bytes, or NULL. Call with ca_cert_mu held. */
static X509 *
ca_cert_lookup(const struct db_ca *ca)
{
	size_t i;

	for (i = 0; i < CA_CERT_CACHE_SLOTS; i++) {
		struct ca_cert_slot *s = &ca_cert_slots[i];

		if (s->ca_id == ca->id && s->len == ca->cert_der.len &&
		    memcmp(s->der, ca->cert_der.data, s->len) == 0)
			return X509_up_ref(s->cert) == 1 ? s->cert : NULL;
	}
	return NULL;
}

/* Puts x (one reference taken) in ca's slot, replacing what the slot held. Call with ca_cert_mu
 * held. Best effort: out of memory leaves the cache as it was. */
static void
ca_cert_store(const struct db_ca *ca, X509 *x)
{
	struct ca_cert_slot *s = NULL;
	uint8_t *der;
	size_t i;

	for (i = 0; i < CA_CERT_CACHE_SLOTS && s == NULL; i++)
		if (ca_cert_slots[i].ca_id == ca->id)
			s = &ca_cert_slots[i];
	for (i = 0; i < CA_CERT_CACHE_SLOTS && s == NULL; i++)
		if (ca_cert_slots[i].ca_id == 0)
			s = &ca_cert_slots[i];
	if (s == NULL) {
		s = &ca_cert_slots[ca_cert_next_victim];
		ca_cert_next_victim = (ca_cert_next_victim + 1) % CA_CERT_CACHE_SLOTS;
	}
	if ((der = malloc(ca->cert_der.len)) == NULL || X509_up_ref(x) != 1) {
		free(der);
		return;
	}
	memcpy(der, ca->cert_der.data, ca->cert_der.len);
	/* Threads still using the old X509 hold their own references. */
	X509_free(s->cert);
	free(s->der);
	s->ca_id = ca->id;
	s->der = der;
	s->len = ca->cert_der.len;
	s->cert = x;
}

int
ca_cert_get(const struct db_ca *ca, X509 **out)
{
	X509 *x;
	int rc;

	*out = NULL;
	pthread_mutex_lock(&ca_cert_mu);
	x = ca_cert_lookup(ca);
	pthread_mutex_unlock(&ca_cert_mu);
	if (x != NULL) {
		*out = x;
		return 0;
	}
	/* Parse outside the lock; two threads missing at once both parse, the last one stays. */
	if ((rc = x509b_parse_cert(ca->cert_der.data, ca->cert_der.len, &x)) != 0)
		return err_set(rc, "the certificate of CA '%s' does not parse", ca->slug);
	/* Fill OpenSSL's lazily computed extension cache now, while x is still private; it is
	 * lock-protected, but then no reader ever has to write it. */
	(void)X509_check_purpose(x, -1, 0);
	pthread_mutex_lock(&ca_cert_mu);
	ca_cert_store(ca, x);
	pthread_mutex_unlock(&ca_cert_mu);
	*out = x;
	return 0;
}

int
ca_key_error(const struct db_ca *ca, const char *keyref, int rc)
{
	if (rc != HSMCA_E_NOTFOUND)
		return rc;
	return err_set(HSMCA_E_CONFLICT, "CA '%s': its private key (%s) is not on the token; restore the key or "
	    "delete the CA", ca->slug, keyref);
}

/* TBS DER of cert, signed by the token with keyref (timed for the metrics). */
static int
ca_token_sign(struct tok *tok, const char *keyref, const char *key_spec, X509 *cert, struct buf *tbs,
    struct buf *der)
{
	struct timespec t0, t1;
	int rc;

	if ((rc = x509b_tbs_der(cert, key_spec, tbs)) != 0)
		return rc;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = tok_sign_certificate(tok, keyref, tbs->data, tbs->len, der);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	metrics_observe_token_sign((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return rc;
}

int
ca_sign_der(struct tok *tok, const char *keyref, const char *key_spec, X509 *cert, EVP_PKEY *verify_key,
    struct buf *der, char *digest, size_t digestsz)
{
	struct buf tbs = { 0 };
	char why[256];
	int rc;

	der->data = NULL;
	der->len = 0;
	digest[0] = '\0';
	if ((rc = ca_token_sign(tok, keyref, key_spec, cert, &tbs, der)) != 0)
		goto out;
	if ((rc = x509b_check_signed(der->data, der->len, &tbs, verify_key, digest, digestsz)) != 0) {
		snprintf(why, sizeof(why), "%s", err_msg(rc));
		rc = err_set(HSMCA_E_TOKEN, "the certificate signed by %s: %s", keyref, why);
	}
out:
	if (rc != 0)
		buf_free(der);
	buf_free(&tbs);
	return rc;
}

int
ca_sign(struct tok *tok, const char *keyref, const char *key_spec, X509 *cert, EVP_PKEY *verify_key,
    struct buf *der, X509 **signed_cert)
{
	struct buf tbs = { 0 };
	X509 *x = NULL;
	int rc;

	der->data = NULL;
	der->len = 0;
	*signed_cert = NULL;
	if ((rc = ca_token_sign(tok, keyref, key_spec, cert, &tbs, der)) != 0)
		goto out;
	if ((rc = x509b_parse_cert(der->data, der->len, &x)) != 0) {
		rc = err_set(HSMCA_E_TOKEN, "the token returned a malformed certificate");
		goto out;
	}
	if (X509_verify(x, verify_key) != 1) {
		ERR_clear_error();
		rc = err_set(HSMCA_E_TOKEN, "the certificate signed by %s does not verify with the issuer's key", keyref);
		goto out;
	}
	*signed_cert = x;
	x = NULL;
	rc = 0;
out:
	if (rc != 0)
		buf_free(der);
	X509_free(x);
	buf_free(&tbs);
	return rc;
}

/* Name rules: non-empty, at most CA_NAME_MAX bytes (it is the CN), no control characters, and
 * neither the name nor its slug in use. */
static int
ca_check_name(struct hsmca_ctx *ctx, const char *name, char slug[SLUG_MAX])
{
	size_t i, n;
	int exists, rc;

	if (name == NULL || (n = strlen(name)) == 0)
		return err_set(HSMCA_E_INVALID, "a CA needs a name");
	if (n > CA_NAME_MAX)
		return err_set(HSMCA_E_INVALID, "the CA name is longer than %d bytes", CA_NAME_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return err_set(HSMCA_E_INVALID, "the CA name contains a control character");
	if ((rc = slug_from_name(name, slug)) != 0)
		return rc;
	if ((rc = db_cas_exists(ctx->db, name, slug, &exists)) != 0)
		return rc;
	if (exists)
		return err_set(HSMCA_E_EXISTS, "a CA named '%s' or with the URL name '%s' already exists", name, slug);
	return 0;
}

static int
ca_subject(const char *name, X509_NAME **out)
{
	X509_NAME *n;

	*out = NULL;
	if ((n = X509_NAME_new()) == NULL)
		return HSMCA_E_NOMEM;
	if (!X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1, -1, 0)) {
		X509_NAME_free(n);
		ERR_clear_error();
		return err_set(HSMCA_E_INVALID, "the CA name is not valid UTF-8");
	}
	*out = n;
	return 0;
}

int
ca_add_ca_extensions(X509 *tbs, long pathlen, const char *base_url, const struct db_ca *parent,
    X509 *parent_cert)
{
	char ext[64];
	int rc;

	if (pathlen >= 0)
		snprintf(ext, sizeof(ext), "critical,CA:TRUE,pathlen:%ld", pathlen);
	else
		snprintf(ext, sizeof(ext), "critical,CA:TRUE");
	if ((rc = x509b_add_ext(tbs, NULL, NID_basic_constraints, ext)) != 0 ||
	    (rc = x509b_add_ext(tbs, NULL, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")) != 0 ||
	    (rc = x509b_add_ski(tbs)) != 0)
		return rc;
	if (parent == NULL)
		return 0;
	if ((rc = x509b_add_aki(tbs, parent_cert)) != 0)
		return rc;
	return x509b_add_ca_urls(tbs, base_url, parent->slug, parent->key_gen, 0);
}

/* The token key's public key as an EVP_PKEY (public only: for building and verifying). */
static int
ca_token_pubkey(struct tok *tok, const char *keyref, struct buf *spki, EVP_PKEY **out)
{
	const unsigned char *p;
	int rc;

	*out = NULL;
	if ((rc = tok_public_key(tok, keyref, spki)) != 0)
		return rc;
	p = spki->data;
	*out = d2i_PUBKEY(NULL, &p, (long)spki->len);
	if (*out == NULL || p != spki->data + spki->len) {
		EVP_PKEY_free(*out);
		*out = NULL;
		ERR_clear_error();
		return err_set(HSMCA_E_TOKEN, "the token returned a malformed public key for %s", keyref);
	}
	return 0;
}

/* Fills the certificate-derived fields of row from the signed certificate. */
static int
ca_row_from_cert(X509 *cert, const struct buf *der, struct db_ca *row, char fpr[X509B_SHA256_HEX],
    char **subject)
{
	int rc;

	if ((rc = x509b_name_text(X509_get_subject_name(cert), subject)) != 0 ||
	    (rc = x509b_sha256_hex(der->data, der->len, fpr)) != 0 ||
	    (rc = x509b_time_ms(X509_get0_notBefore(cert), &row->not_before_ms)) != 0 ||
	    (rc = x509b_time_ms(X509_get0_notAfter(cert), &row->not_after_ms)) != 0)
		return rc;
	row->subject = *subject;
	row->fingerprint_sha256 = fpr;
	row->cert_der = *der;
	return 0;
}

static int
ca_audit_details(const struct db_ca *row, char **out)
{
	json_t *j;

	*out = NULL;
	j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "name", row->name, "kind", row->kind,
	    "key_spec", row->key_spec, "subject", row->subject, "fingerprint_sha256", row->fingerprint_sha256,
	    "parent_id", (json_int_t)row->parent_id);
	if (j == NULL)
		return HSMCA_E_NOMEM;
	*out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	return *out != NULL ? 0 : HSMCA_E_NOMEM;
}

/* The cas row, the issued-by-parent certificate row (intermediates) and the audit row commit
 * together or not at all. */
static int
ca_store(struct hsmca_ctx *ctx, const struct db_ca *row, const struct db_cert *cert_row,
    const char *actor, int64_t *id)
{
	char *details = NULL;
	int64_t cert_id;
	int rc;

	*id = 0;
	if ((rc = ca_audit_details(row, &details)) != 0)
		return rc;
	if ((rc = db_begin(ctx->db)) != 0)
		goto out;
	if ((rc = db_cas_insert(ctx->db, row, id)) != 0)
		goto out;
	if (cert_row != NULL && (rc = db_certs_insert(ctx->db, cert_row, &cert_id)) != 0)
		goto out;
	if ((rc = audit_write(ctx->db, actor != NULL ? actor : "cli", NULL, "ca.created", row->slug, details)) != 0)
		goto out;
	rc = db_commit(ctx->db);
out:
	if (rc != 0) {
		db_rollback(ctx->db);
		*id = 0;
	}
	free(details);
	return rc;
}

/* Deletes a key this call created, keeping the detail of the failure that made us delete it. */
static void
ca_drop_key(struct hsmca_ctx *ctx, const char *keyref)
{
	char saved[512];

	snprintf(saved, sizeof(saved), "%s", err_msg(HSMCA_E_INTERNAL));
	/* An orphan key costs token space but is harmless (no cas row names it); an operator can
	 * find it with pkcs11-tool by its "ca-<slug>" label. */
	if (tok_delete_key(ctx->tok, keyref) != 0)
		log_msg(LOGL_ERROR, "ca", "token_key.delete.failed", "could not delete the unused key %s", keyref);
	err_set(HSMCA_E_INTERNAL, "%s", saved);
}

static int
ca_create(struct hsmca_ctx *ctx, const struct ca_create_req *req, int is_root, struct db_ca **out)
{
	char slug[SLUG_MAX], label[SLUG_MAX + 8], serial_hex[X509B_SERIAL_HEX], fpr[X509B_SHA256_HEX];
	char digest[32];
	struct db_ca *parent = NULL, row;
	struct db_cert crow;
	X509 *parent_cert = NULL, *tbs = NULL, *cert = NULL;
	X509_NAME *subject = NULL;
	ASN1_INTEGER *serial = NULL;
	EVP_PKEY *pub = NULL;
	struct buf spki = { 0 }, der = { 0 };
	enum tok_key_spec spec;
	char *keyref = NULL, *subject_text = NULL, *issuer_text = NULL;
	int64_t now = (int64_t)time(NULL), nb, na, id = 0;
	long parent_pathlen = -1;
	int days, pathlen, rc;

	*out = NULL;
	memset(&row, 0, sizeof(row));
	memset(&crow, 0, sizeof(crow));
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_INTERNAL, "creating a CA needs the token");
	if ((rc = ca_check_name(ctx, req->name, slug)) != 0)
		goto out;
	days = req->days > 0 ? req->days : (is_root ? CA_ROOT_DEFAULT_DAYS : CA_INTERMEDIATE_DEFAULT_DAYS);
	if (days > CA_MAX_DAYS) {
		rc = err_set(HSMCA_E_INVALID, "validity of %d days is over the maximum of %d", days, CA_MAX_DAYS);
		goto out;
	}
	rc = tok_key_spec_parse(req->key_spec != NULL ? req->key_spec :
	    (is_root ? CA_ROOT_DEFAULT_KEY : CA_INTERMEDIATE_DEFAULT_KEY), &spec);
	if (rc != 0)
		goto out;
	pathlen = req->pathlen;
	nb = now - X509B_BACKDATE_SECONDS;
	na = now + (int64_t)days * 86400;
	if (!is_root) {
		if (req->parent_slug == NULL) {
			rc = err_set(HSMCA_E_INVALID, "an intermediate CA needs a parent CA");
			goto out;
		}
		if ((rc = db_cas_get_by_slug(ctx->db, req->parent_slug, &parent)) != 0)
			goto out;
		if (strcmp(parent->status, "active") != 0) {
			rc = err_set(HSMCA_E_POLICY, "parent CA '%s' is %s", parent->slug, parent->status);
			goto out;
		}
		if ((rc = x509b_parse_cert(parent->cert_der.data, parent->cert_der.len, &parent_cert)) != 0)
			goto out;
		parent_pathlen = X509_get_pathlen(parent_cert);
		if (parent_pathlen == 0) {
			rc = err_set(HSMCA_E_POLICY, "parent CA '%s' has pathlen 0 and may not sign CAs", parent->slug);
			goto out;
		}
		if (parent->not_after_ms <= now * 1000) {
			rc = err_set(HSMCA_E_POLICY, "parent CA '%s' has expired", parent->slug);
			goto out;
		}
		if (pathlen < 0)
			pathlen = 0;
		if (parent_pathlen > 0 && pathlen >= parent_pathlen)
			pathlen = (int)parent_pathlen - 1;
		/* The parent's validity bounds the child's (RFC 5280 path validation would reject
		 * the part that sticks out). */
		if (na * 1000 > parent->not_after_ms)
			na = parent->not_after_ms / 1000;
		if (nb * 1000 < parent->not_before_ms)
			nb = parent->not_before_ms / 1000;
	}
	if ((rc = ca_subject(req->name, &subject)) != 0 || (rc = ca_new_serial(ctx->db, &serial, serial_hex)) != 0)
		goto out;

	snprintf(label, sizeof(label), "ca-%s", slug);
	if ((rc = tok_generate_key(ctx->tok, spec, label, 0, &keyref)) != 0)
		goto out;
	/* From here on a failure must delete the key again (see out:). */
	if ((rc = ca_token_pubkey(ctx->tok, keyref, &spki, &pub)) != 0)
		goto out;
	rc = x509b_new_cert(serial, subject, is_root ? subject : X509_get_subject_name(parent_cert), nb, na, pub, &tbs);
	if (rc != 0)
		goto out;
	if ((rc = ca_add_ca_extensions(tbs, pathlen, ctx->cfg.public_base_url, is_root ? NULL : parent,
	    parent_cert)) != 0)
		goto out;
	if (is_root)
		rc = ca_sign(ctx->tok, keyref, tok_key_spec_name(spec), tbs, pub, &der, &cert);
	else
		rc = ca_key_error(parent, parent->keyref, ca_sign(ctx->tok, parent->keyref, parent->key_spec, tbs,
		    X509_get0_pubkey(parent_cert), &der, &cert));
	if (rc != 0)
		goto out;

	row.name = (char *)req->name;
	row.slug = slug;
	row.parent_id = is_root ? 0 : parent->id;
	row.kind = is_root ? "root" : "intermediate";
	row.keyref = keyref;
	row.key_spec = (char *)tok_key_spec_name(spec);
	row.status = "active";
	if ((rc = ca_row_from_cert(cert, &der, &row, fpr, &subject_text)) != 0)
		goto out;
	if (!is_root) {
		/* The parent's inventory holds the intermediate, so the parent can revoke it. */
		if ((rc = x509b_name_text(X509_get_issuer_name(cert), &issuer_text)) != 0 ||
		    (rc = x509b_digest_name(cert, digest, sizeof(digest))) != 0)
			goto out;
		crow.ca_id = parent->id;
		crow.ca_key_gen = parent->key_gen;
		crow.serial = serial_hex;
		crow.subject = subject_text;
		crow.issuer = issuer_text;
		crow.common_name = (char *)req->name;
		crow.not_before_ms = row.not_before_ms;
		crow.not_after_ms = row.not_after_ms;
		crow.key_algorithm = row.key_spec;
		crow.digest = digest;
		crow.fingerprint_sha256 = fpr;
		crow.source = "managed";
		crow.profile = "subca";
		crow.keyref = keyref;
		crow.der = der;
	}
	if ((rc = ca_store(ctx, &row, is_root ? NULL : &crow, req->actor, &id)) != 0)
		goto out;
	rc = db_cas_get_by_id(ctx->db, id, out);
out:
	if (rc != 0 && keyref != NULL && id == 0)
		ca_drop_key(ctx, keyref);
	free(issuer_text);
	free(subject_text);
	buf_free(&der);
	X509_free(cert);
	X509_free(tbs);
	EVP_PKEY_free(pub);
	buf_free(&spki);
	free(keyref);
	ASN1_INTEGER_free(serial);
	X509_NAME_free(subject);
	X509_free(parent_cert);
	db_ca_free(parent);
	return rc;
}

int
ca_create_root(struct hsmca_ctx *ctx, const struct ca_create_req *req, struct db_ca **out)
{
	return ca_create(ctx, req, 1, out);
}

int
ca_create_intermediate(struct hsmca_ctx *ctx, const struct ca_create_req *req, struct db_ca **out)
{
	return ca_create(ctx, req, 0, out);
}

/* The appliance CA that issued cert (name match and a verifying signature) with its current key
 * or one retired by a rollover (ca_rollover.h), or 0. */
static int
ca_find_issuer(struct hsmca_ctx *ctx, X509 *cert, int64_t *parent_id)
{
	struct db_ca **cas = NULL;
	struct ca_gens gens;
	X509 *c = NULL;
	size_t i, k, n = 0;
	int rc;

	*parent_id = 0;
	if (X509_get_extension_flags(cert) & EXFLAG_SS)
		return 0;
	if ((rc = db_cas_list(ctx->db, &cas, &n)) != 0)
		return rc;
	for (i = 0; i < n && *parent_id == 0; i++) {
		if (ca_gens_read(ctx, cas[i], &gens) != 0)
			continue;
		for (k = 0; k < gens.n && *parent_id == 0; k++) {
			if (x509b_parse_cert(gens.g[k].cert_der->data, gens.g[k].cert_der->len, &c) != 0)
				continue;
			if (X509_check_issued(c, cert) == X509_V_OK && X509_verify(cert, X509_get0_pubkey(c)) == 1)
				*parent_id = cas[i]->id;
			X509_free(c);
			c = NULL;
		}
		ca_gens_free(&gens);
	}
	err_clear();
	ERR_clear_error();
	db_ca_list_free(cas, n);
	return 0;
}

int
ca_import(struct hsmca_ctx *ctx, const struct ca_import_req *req, struct db_ca **out)
{
	char slug[SLUG_MAX], label[SLUG_MAX + 8], fpr[X509B_SHA256_HEX];
	struct db_ca row;
	X509 *cert = NULL;
	struct buf spki = { 0 }, der = { 0 };
	unsigned char *cert_spki = NULL;
	enum tok_key_spec spec;
	char *keyref = NULL, *subject_text = NULL;
	int owned_key = 0, sources, cert_spki_len, rc;
	int64_t id = 0, now_ms = db_now_ms();
	unsigned char *p = NULL;
	uint32_t flags;

	*out = NULL;
	memset(&row, 0, sizeof(row));
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_INTERNAL, "importing a CA needs the token");
	if ((rc = ca_check_name(ctx, req->name, slug)) != 0)
		goto out;
	sources = (req->key_pem != NULL) + (req->p12 != NULL) + (req->keyref != NULL);
	if (sources != 1) {
		rc = err_set(HSMCA_E_INVALID, "give exactly one key: a PEM key file, a PKCS#12 file or a keyref");
		goto out;
	}
	if (req->cert == NULL || (rc = x509b_read_cert(req->cert, req->cert_len, &cert)) != 0) {
		rc = err_set(HSMCA_E_INVALID, "the CA certificate is not a PEM or DER certificate");
		goto out;
	}
	flags = X509_get_extension_flags(cert);
	if (!(flags & EXFLAG_CA) || (flags & EXFLAG_INVALID)) {
		rc = err_set(HSMCA_E_POLICY, "the certificate is not a CA certificate (no basicConstraints CA:TRUE)");
		goto out;
	}
	if ((flags & EXFLAG_KUSAGE) && !(X509_get_key_usage(cert) & KU_KEY_CERT_SIGN)) {
		rc = err_set(HSMCA_E_POLICY, "the CA certificate's keyUsage lacks keyCertSign");
		goto out;
	}
	if ((cert_spki_len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &cert_spki)) <= 0) {
		rc = err_set(HSMCA_E_INVALID, "the certificate's public key cannot be encoded");
		goto out;
	}
	{
		int dlen = i2d_X509(cert, &p);

		if (dlen <= 0) {
			rc = err_set(HSMCA_E_INVALID, "the certificate cannot be encoded");
			goto out;
		}
		rc = buf_set(&der, p, (size_t)dlen);
		OPENSSL_free(p);
		if (rc != 0)
			goto out;
	}
	row.name = (char *)req->name;
	row.slug = slug;
	row.kind = "imported";
	row.status = "active";
	if ((rc = ca_row_from_cert(cert, &der, &row, fpr, &subject_text)) != 0)
		goto out;
	if (row.not_after_ms <= now_ms) {
		rc = err_set(HSMCA_E_POLICY, "the CA certificate has expired");
		goto out;
	}

	snprintf(label, sizeof(label), "ca-%s", slug);
	if (req->key_pem != NULL) {
		rc = tok_import_key_pem(ctx->tok, req->key_pem, req->key_pem_len, label, &keyref);
		owned_key = rc == 0;
	} else if (req->p12 != NULL) {
		rc = tok_import_key_pkcs12(ctx->tok, req->p12, req->p12_len,
		    req->p12_password != NULL ? req->p12_password : "", label, &keyref);
		owned_key = rc == 0;
	} else {
		keyref = strdup(req->keyref);
		rc = keyref != NULL ? 0 : HSMCA_E_NOMEM;
	}
	if (rc != 0)
		goto out;
	if ((rc = tok_public_key(ctx->tok, keyref, &spki)) != 0)
		goto out;
	if (spki.len != (size_t)cert_spki_len || memcmp(spki.data, cert_spki, spki.len) != 0) {
		rc = err_set(HSMCA_E_POLICY, "the private key does not match the CA certificate's public key");
		goto out;
	}
	if ((rc = tok_key_spec_of(ctx->tok, keyref, &spec)) != 0)
		goto out;
	if ((rc = ca_find_issuer(ctx, cert, &row.parent_id)) != 0)
		goto out;
	row.keyref = keyref;
	row.key_spec = (char *)tok_key_spec_name(spec);
	if ((rc = ca_store(ctx, &row, NULL, req->actor, &id)) != 0)
		goto out;
	rc = db_cas_get_by_id(ctx->db, id, out);
out:
	if (rc != 0 && owned_key && id == 0)
		ca_drop_key(ctx, keyref);
	free(subject_text);
	free(keyref);
	OPENSSL_free(cert_spki);
	buf_free(&spki);
	buf_free(&der);
	X509_free(cert);
	return rc;
}

int
ca_list(struct hsmca_ctx *ctx, struct db_ca ***cas, size_t *n)
{
	return db_cas_list(ctx->db, cas, n);
}

int
ca_get_by_slug(struct hsmca_ctx *ctx, const char *slug, struct db_ca **out)
{
	return db_cas_get_by_slug(ctx->db, slug, out);
}

int
ca_get_by_id(struct hsmca_ctx *ctx, int64_t id, struct db_ca **out)
{
	return db_cas_get_by_id(ctx->db, id, out);
}

void
ca_chain_free(struct buf *ders, size_t n)
{
	size_t i;

	if (ders == NULL)
		return;
	for (i = 0; i < n; i++)
		buf_free(&ders[i]);
	free(ders);
}

int
ca_chain(struct hsmca_ctx *ctx, const struct db_ca *ca, struct buf **ders, size_t *n)
{
	struct buf *list = NULL;
	struct db_ca *cur = NULL;
	X509 *child = NULL, *parent_x = NULL;
	int64_t next;
	size_t count = 0;
	int rc = HSMCA_E_NOMEM;

	*ders = NULL;
	*n = 0;
	if ((list = calloc(CA_CHAIN_MAX, sizeof(*list))) == NULL)
		return HSMCA_E_NOMEM;
	if ((rc = buf_set(&list[count++], ca->cert_der.data, ca->cert_der.len)) != 0)
		goto out;
	next = ca->parent_id;
	while (next > 0) {
		if (count == CA_CHAIN_MAX) {
			rc = err_set(HSMCA_E_DB, "CA '%s' has a parent chain longer than %d (a loop?)", ca->slug,
			    CA_CHAIN_MAX);
			goto out;
		}
		if ((rc = db_cas_get_by_id(ctx->db, next, &cur)) != 0)
			goto out;
		/* Not simply the parent's current certificate: after a rollover of the parent, the
		 * one whose key signed the previous link (ca_rollover.h). */
		if (child == NULL && (rc = ca_cert_get(ca, &child)) != 0)
			goto out;
		if ((rc = ca_rollover_issuer_cert(ctx, cur, child, &list[count], &parent_x)) != 0)
			goto out;
		count++;
		X509_free(child);
		child = parent_x;
		parent_x = NULL;
		next = cur->parent_id;
		db_ca_free(cur);
		cur = NULL;
	}
	*ders = list;
	*n = count;
	list = NULL;
	count = 0;
	rc = 0;
out:
	X509_free(child);
	db_ca_free(cur);
	if (list != NULL)
		ca_chain_free(list, CA_CHAIN_MAX);
	return rc;
}
