/*
 * issue.c: issue certificates from CSRs under a profile (see issue.h for the flow and profiles).
 *
 * May call: csr.h (parse/policy), ca.h (serial, signing through the token), orders.h, db_certs.h,
 * audit.h, x509_build.h, tok.h (only for server-side key generation). Must never: hand out a
 * certificate before its row is committed, or write anything for a request refused in step 1.
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
#include "csr.h"
#include "db.h"
#include "db_cas.h"
#include "db_certs.h"
#include "err.h"
#include "metrics.h"
#include "issue.h"
#include "log.h"
#include "orders.h"
#include "tok.h"

static const char *const profile_names[ISSUE_PROFILE__MAX] = { "server", "client", "subca" };

int
issue_profile_parse(const char *name, enum issue_profile *out)
{
	int i;

	for (i = 0; i < ISSUE_PROFILE__MAX; i++)
		if (name != NULL && strcmp(name, profile_names[i]) == 0) {
			*out = (enum issue_profile)i;
			return 0;
		}
	return err_set(HSMCA_E_INVALID, "unknown profile '%s' (server, client or subca)", name != NULL ? name : "");
}

const char *
issue_profile_name(enum issue_profile p)
{
	return (unsigned)p < ISSUE_PROFILE__MAX ? profile_names[p] : "unknown";
}

void
issue_result_free(struct issue_result *res)
{
	if (res == NULL)
		return;
	buf_free(&res->cert_der);
	free(res->keyref);
	res->keyref = NULL;
}

/* Everything step 1 decided, and what the later steps made; freed by issue_job_free. */
struct issue_job {
	const struct db_ca *ca;          /* req->ca, or ca_owned */
	struct db_ca *ca_owned;
	X509 *ca_cert;                   /* reference from ca_cert_get */
	const struct csr *csr;           /* req->csr, or csr_owned */
	struct csr *csr_owned;
	enum issue_profile profile;
	int64_t not_before;              /* seconds */
	int64_t not_after;
	GENERAL_NAMES *sans;             /* what goes into the certificate */
	int days;
	const char *order_type;          /* borrowed from the request, like the three below */
	const char *requested_by;
	const char *ip;
	const char *keyref;              /* issue_with_token_key: the key's URI, stored on the row */
	const char *key_label;
	int64_t order_id;                /* 0 until issue_job_open */
	char serial[X509B_SERIAL_HEX];
	X509 *tbs;                       /* the certificate as built: every stored field comes from it */
	struct buf der;                  /* the signed certificate */
	char digest[32];
};

void
issue_job_free(struct issue_job *job)
{
	if (job == NULL)
		return;
	db_ca_free(job->ca_owned);
	X509_free(job->ca_cert);
	csr_free(job->csr_owned);
	GENERAL_NAMES_free(job->sans);
	X509_free(job->tbs);
	buf_free(&job->der);
	free(job);
}

static int
push_dns(GENERAL_NAMES *names, const char *dns)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (gn == NULL || s == NULL || !ASN1_STRING_set(s, dns, -1)) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(s);
		return HSMCA_E_NOMEM;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	if (!sk_GENERAL_NAME_push(names, gn)) {
		GENERAL_NAME_free(gn);
		return HSMCA_E_NOMEM;
	}
	return 0;
}

/* The SANs the profile allows, copied from the CSR. */
static int
issue_pick_sans(struct issue_job *job)
{
	const GENERAL_NAME *gn;
	GENERAL_NAME *copy;
	const char *cn = job->csr->common_name;
	int i, rc;

	if ((job->sans = sk_GENERAL_NAME_new_null()) == NULL)
		return HSMCA_E_NOMEM;
	if (job->profile == ISSUE_PROFILE_SUBCA)
		return 0;   /* a CA certificate names no hosts */
	for (i = 0; i < sk_GENERAL_NAME_num(job->csr->sans); i++) {
		gn = sk_GENERAL_NAME_value(job->csr->sans, i);
		if (job->profile == ISSUE_PROFILE_SERVER && gn->type != GEN_DNS && gn->type != GEN_IPADD)
			return err_set(HSMCA_E_POLICY, "CSR: the server profile takes DNS and IP subjectAltNames only");
		if ((copy = GENERAL_NAME_dup(gn)) == NULL)
			return HSMCA_E_NOMEM;
		if (!sk_GENERAL_NAME_push(job->sans, copy)) {
			GENERAL_NAME_free(copy);
			return HSMCA_E_NOMEM;
		}
	}
	/* Browsers ignore the CN (RFC 6125, CA/B BR 7.1.4.2): a server certificate whose CSR only
	 * has a host name in the CN gets it as a DNS SAN, or it would be useless. */
	if (job->profile == ISSUE_PROFILE_SERVER && sk_GENERAL_NAME_num(job->sans) == 0) {
		if (cn == NULL || !csr_dns_name_ok(cn, strlen(cn)))
			return err_set(HSMCA_E_POLICY, "CSR: a server certificate needs a DNS or IP subjectAltName "
			    "or a host name as its common name");
		if ((rc = push_dns(job->sans, cn)) != 0)
			return rc;
	}
	return 0;
}

/* Step 1: everything that can refuse the request without writing anything. */
int
issue_job_new(struct hsmca_ctx *ctx, const struct issue_req *req, struct issue_job **out)
{
	struct issue_job *job = NULL;
	int64_t now = (int64_t)time(NULL);
	int rc;

	*out = NULL;
	if ((unsigned)req->profile >= ISSUE_PROFILE__MAX)
		return err_set(HSMCA_E_INVALID, "unknown profile %d", (int)req->profile);
	if ((job = calloc(1, sizeof(*job))) == NULL)
		return HSMCA_E_NOMEM;
	job->profile = req->profile;
	job->order_type = req->order_type != NULL ? req->order_type : "csr";
	job->requested_by = req->requested_by != NULL ? req->requested_by : "cli";
	job->ip = req->ip;
	job->days = req->days > 0 ? req->days : ctx->cfg.default_leaf_days;
	if (job->days <= 0 || job->days > ISSUE_MAX_DAYS) {
		rc = err_set(HSMCA_E_INVALID, "validity must be 1 to %d days", ISSUE_MAX_DAYS);
		goto out;
	}
	if (req->ca != NULL) {
		job->ca = req->ca;
	} else {
		if (req->ca_slug == NULL) {
			rc = err_set(HSMCA_E_INVALID, "no CA given");
			goto out;
		}
		if ((rc = db_cas_get_by_slug(ctx->db, req->ca_slug, &job->ca_owned)) != 0)
			goto out;
		job->ca = job->ca_owned;
	}
	if (strcmp(job->ca->status, "active") != 0) {
		rc = err_set(HSMCA_E_POLICY, "CA '%s' is %s", job->ca->slug, job->ca->status);
		goto out;
	}
	if ((rc = ca_cert_get(job->ca, &job->ca_cert)) != 0)
		goto out;
	if (req->csr != NULL) {
		job->csr = req->csr;
	} else {
		if ((rc = csr_parse(req->csr_der, req->csr_len, &job->csr_owned)) != 0)
			goto out;
		job->csr = job->csr_owned;
	}
	if (job->profile == ISSUE_PROFILE_SUBCA && X509_get_pathlen(job->ca_cert) == 0) {
		rc = err_set(HSMCA_E_POLICY, "CA '%s' has pathlen 0 and may not issue CA certificates", job->ca->slug);
		goto out;
	}
	if ((rc = issue_pick_sans(job)) != 0)
		goto out;
	job->not_before = now - X509B_BACKDATE_SECONDS;
	job->not_after = now + (int64_t)job->days * 86400;
	/* Never past the issuer: a chain validator would reject the part that sticks out. */
	if (job->not_after * 1000 > job->ca->not_after_ms)
		job->not_after = job->ca->not_after_ms / 1000;
	if (job->not_before * 1000 < job->ca->not_before_ms)
		job->not_before = job->ca->not_before_ms / 1000;
	if (job->not_after <= now) {
		rc = err_set(HSMCA_E_POLICY, "CA '%s' has expired", job->ca->slug);
		goto out;
	}
	*out = job;
	job = NULL;
	rc = 0;
out:
	issue_job_free(job);
	return rc;
}

static int
issue_extensions(struct hsmca_ctx *ctx, struct issue_job *job, X509 *cert)
{
	int rc, san_critical;

	switch (job->profile) {
	case ISSUE_PROFILE_SUBCA:
		if ((rc = x509b_add_ext(cert, NULL, NID_basic_constraints, "critical,CA:TRUE,pathlen:0")) != 0 ||
		    (rc = x509b_add_ext(cert, NULL, NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")) != 0)
			return rc;
		break;
	case ISSUE_PROFILE_SERVER:
	case ISSUE_PROFILE_CLIENT:
		/* keyEncipherment only makes sense for RSA key transport (TLS 1.2 RSA kx). */
		if ((rc = x509b_add_ext(cert, NULL, NID_basic_constraints, "critical,CA:FALSE")) != 0 ||
		    (rc = x509b_add_ext(cert, NULL, NID_key_usage, job->csr->key_type == CSR_KEY_RSA ?
		    "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature")) != 0 ||
		    (rc = x509b_add_ext(cert, NULL, NID_ext_key_usage,
		    job->profile == ISSUE_PROFILE_SERVER ? "serverAuth" : "clientAuth")) != 0)
			return rc;
		break;
	default:
		return HSMCA_E_INTERNAL;
	}
	if (sk_GENERAL_NAME_num(job->sans) > 0) {
		/* RFC 5280 4.2.1.6: critical when the subject is empty. */
		san_critical = X509_NAME_entry_count(X509_get_subject_name(cert)) == 0;
		if (X509_add1_ext_i2d(cert, NID_subject_alt_name, job->sans, san_critical, X509V3_ADD_DEFAULT) != 1)
			return err_set(HSMCA_E_INTERNAL, "cannot add the subjectAltName");
	}
	if ((rc = x509b_add_ski(cert)) != 0 || (rc = x509b_add_aki(cert, job->ca_cert)) != 0)
		return rc;
	return x509b_add_ca_urls(cert, ctx->cfg.public_base_url, job->ca->slug, job->ca->key_gen, 1);
}

static int
issue_order_params(const struct issue_job *job, const char *key_label, char **out)
{
	char *sans = NULL;
	json_t *j = NULL;
	int rc;

	*out = NULL;
	if ((rc = x509b_sans_json(job->sans, &sans)) != 0)
		return rc;
	j = json_pack("{s:s, s:s, s:i, s:s, s:s, s:o}", "ca", job->ca->slug, "profile",
	    issue_profile_name(job->profile), "days", job->days, "subject", job->csr->subject,
	    "key_algorithm", job->csr->key_algorithm, "sans", json_loads(sans, 0, NULL));
	if (j != NULL && key_label != NULL)
		json_object_set_new(j, "key_label", json_string(key_label));
	if (j != NULL)
		*out = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	free(sans);
	return *out != NULL ? 0 : HSMCA_E_NOMEM;
}

static const char *
issue_audit_event(const char *order_type)
{
	if (strcmp(order_type, "local") == 0)
		return "certificate.request_automated.submitted";
	if (strcmp(order_type, "scep") == 0)
		return "certificate.request_scep.submitted";
	if (strcmp(order_type, "renewal") == 0)
		return "certificate.request_renewal.submitted";
	return "certificate.request_csr.submitted";
}

/* Step 2, inside the caller's transaction. */
int
issue_job_open(struct hsmca_ctx *ctx, struct issue_job *job, int64_t *order_id)
{
	char *params = NULL;
	int rc;

	*order_id = 0;
	if ((rc = issue_order_params(job, job->key_label, &params)) != 0)
		return rc;
	rc = orders_open_in(ctx->db, job->order_type, job->ca->id, job->csr->common_name, job->requested_by,
	    params, &job->order_id);
	free(params);
	*order_id = job->order_id;
	return rc;
}

void
issue_job_abandon(struct hsmca_ctx *ctx, struct issue_job *job, const char *why)
{
	if (job == NULL || job->order_id == 0)
		return;
	orders_fail(ctx->db, job->order_id, why);
	job->order_id = 0;
}

/* Step 3: build the TBSCertificate and have the token sign it with the CA key. */
int
issue_job_sign(struct hsmca_ctx *ctx, struct issue_job *job, const struct buf **cert_der, const char **serial)
{
	ASN1_INTEGER *sn = NULL;
	int rc;

	*cert_der = NULL;
	*serial = NULL;
	if (job->order_id == 0 || job->tbs != NULL)
		return err_set(HSMCA_E_INTERNAL, "issue: sign needs an opened, unsigned job");
	if ((rc = ca_new_serial(ctx->db, &sn, job->serial)) != 0)
		goto out;
	/* The CSR's SubjectPublicKeyInfo as it is: no decode and re-encode of the key. */
	rc = x509b_new_cert_spki(sn, X509_REQ_get_subject_name(job->csr->req), X509_get_subject_name(job->ca_cert),
	    job->not_before, job->not_after, X509_REQ_get_X509_PUBKEY(job->csr->req), &job->tbs);
	if (rc != 0 || (rc = issue_extensions(ctx, job, job->tbs)) != 0)
		goto out;
	rc = ca_sign_der(ctx->tok, job->ca->keyref, job->ca->key_spec, job->tbs, X509_get0_pubkey(job->ca_cert),
	    &job->der, job->digest, sizeof(job->digest));
	/* A CA key gone from the token is the administrator's to fix, not the requester's to retry:
	 * 409 with the CA's name, and the order fails with that reason. */
	if ((rc = ca_key_error(job->ca, job->ca->keyref, rc)) != 0)
		goto out;
	*cert_der = &job->der;
	*serial = job->serial;
out:
	if (rc != 0) {
		job->serial[0] = '\0';
		issue_job_abandon(ctx, job, err_msg(rc));
	}
	ASN1_INTEGER_free(sn);
	return rc;
}

/* Steps 4 and 5 (see issue.h). */
int
issue_job_store(struct hsmca_ctx *ctx, struct issue_job *job, issue_store_hook hook, void *arg,
    struct issue_result *res)
{
	char fpr[X509B_SHA256_HEX], *details = NULL;
	char *subject = NULL, *issuer = NULL, *cn = NULL, *sans = NULL;
	struct db_cert row;
	json_t *j = NULL;
	int64_t cert_id = 0;
	int committed = 0, rc;

	memset(res, 0, sizeof(*res));
	memset(&row, 0, sizeof(row));
	if (job->der.len == 0)
		return err_set(HSMCA_E_INTERNAL, "issue: store needs a signed job");
	/* x509b_check_signed proved the certificate carries job->tbs byte for byte, so its fields
	 * are read from there rather than from a decoded copy of the DER. */
	if ((rc = x509b_name_text(X509_get_subject_name(job->tbs), &subject)) != 0 ||
	    (rc = x509b_name_text(X509_get_issuer_name(job->tbs), &issuer)) != 0 ||
	    (rc = x509b_name_cn(X509_get_subject_name(job->tbs), &cn)) != 0 ||
	    (rc = x509b_sans_json(job->sans, &sans)) != 0 ||
	    (rc = x509b_sha256_hex(job->der.data, job->der.len, fpr)) != 0 ||
	    (rc = x509b_time_ms(X509_get0_notBefore(job->tbs), &row.not_before_ms)) != 0 ||
	    (rc = x509b_time_ms(X509_get0_notAfter(job->tbs), &row.not_after_ms)) != 0)
		goto out;
	row.ca_id = job->ca->id;
	row.ca_key_gen = job->ca->key_gen;   /* the key that signed: job->ca->keyref */
	row.serial = job->serial;
	row.subject = subject;
	row.issuer = issuer;
	row.common_name = cn;
	row.sans = sans;
	row.key_algorithm = (char *)job->csr->key_algorithm;
	row.digest = job->digest;
	row.fingerprint_sha256 = fpr;
	row.source = "managed";
	row.profile = (char *)issue_profile_name(job->profile);
	row.keyref = (char *)job->keyref;
	row.order_id = job->order_id;
	row.der = job->der;
	j = json_pack("{s:s, s:s, s:s, s:I, s:s}", "serial", job->serial, "ca", job->ca->slug, "profile",
	    row.profile, "order_id", (json_int_t)job->order_id, "fingerprint_sha256", fpr);
	if (j == NULL || (details = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	/* Committed without waiting for the disk, then synced once the write lock is free
	 * (db_sync): the next issuance's commit need not queue behind this one's fsync. Nothing
	 * is returned before the sync. */
	if ((rc = db_begin_unsynced(ctx->db)) != 0 ||
	    (rc = db_certs_insert(ctx->db, &row, &cert_id)) != 0 ||
	    (rc = orders_complete(ctx->db, job->order_id, cert_id)) != 0 ||
	    (rc = audit_write(ctx->db, job->requested_by, job->ip, issue_audit_event(job->order_type), job->serial,
	    details)) != 0)
		goto out;
	res->certificate_id = cert_id;
	res->order_id = job->order_id;
	memcpy(res->serial, job->serial, sizeof(res->serial));
	if ((hook != NULL && (rc = hook(arg, ctx->db, res)) != 0) || (rc = db_commit(ctx->db)) != 0)
		goto out;
	committed = 1;
	if ((rc = db_sync(ctx->db)) != 0) {
		/* Committed but perhaps not on disk (the disk failed): the certificate is not handed
		 * out. Its row and its completed order stay: they are in the store already. */
		log_msg(LOGL_ERROR, "issue", "issue.sync_failed", "%s", err_msg(rc));
		goto out;
	}
	metrics_inc_certificates_issued();
	res->cert_der = job->der;
	job->der.data = NULL;
	job->der.len = 0;
	job->order_id = 0;
	rc = 0;
out:
	if (rc != 0) {
		memset(res, 0, sizeof(*res));
		if (!committed) {
			db_rollback(ctx->db);
			issue_job_abandon(ctx, job, err_msg(rc));
		}
	}
	json_decref(j);
	free(details);
	free(sans);
	free(cn);
	free(issuer);
	free(subject);
	return rc;
}

/* Steps 2-5 in issue_from_csr's order: the order in its own commit, then the rest. The order's
 * commit does not wait for the disk: the certificate's commit (or the failure's) is synced and
 * comes before any answer, and makes the order durable with it. */
static int
issue_run(struct hsmca_ctx *ctx, struct issue_job *job, struct issue_result *res)
{
	const struct buf *der;
	const char *serial;
	int64_t order_id;
	int rc;

	if ((rc = db_begin_unsynced(ctx->db)) != 0)
		return rc;
	if ((rc = issue_job_open(ctx, job, &order_id)) != 0 || (rc = db_commit(ctx->db)) != 0) {
		db_rollback(ctx->db);
		job->order_id = 0;
		return rc;
	}
	if ((rc = issue_job_sign(ctx, job, &der, &serial)) != 0)
		return rc;
	return issue_job_store(ctx, job, NULL, NULL, res);
}

int
issue_from_csr(struct hsmca_ctx *ctx, const struct issue_req *req, struct issue_result *res)
{
	struct issue_job *job = NULL;
	int rc;

	memset(res, 0, sizeof(*res));
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_INTERNAL, "issuing needs the token");
	if ((rc = issue_job_new(ctx, req, &job)) == 0)
		rc = issue_run(ctx, job, res);
	issue_job_free(job);
	return rc;
}

int
issue_with_token_key(struct hsmca_ctx *ctx, const struct issue_key_req *req, struct issue_result *res)
{
	struct issue_job *job = NULL;
	struct issue_req ireq;
	struct db_ca *ca = NULL;
	struct buf csr = { 0 };
	enum tok_key_spec spec;
	char *keyref = NULL, saved[512];
	int rc;

	memset(res, 0, sizeof(*res));
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_INTERNAL, "issuing needs the token");
	if (req->key_label == NULL || *req->key_label == '\0' || req->subject == NULL)
		return err_set(HSMCA_E_INVALID, "a key label and a subject are required");
	if ((rc = tok_key_spec_parse(req->key_spec, &spec)) != 0)
		return rc;
	/* Refuse an unknown CA before a key is generated for nothing. */
	if ((rc = db_cas_get_by_slug(ctx->db, req->ca_slug != NULL ? req->ca_slug : "", &ca)) != 0)
		return rc;
	if ((rc = tok_generate_key(ctx->tok, spec, req->key_label, 1, &keyref)) != 0)
		goto out;
	if ((rc = tok_make_csr(ctx->tok, keyref, req->subject, req->sans, req->n_sans, &csr)) != 0)
		goto out;
	memset(&ireq, 0, sizeof(ireq));
	ireq.ca = ca;
	ireq.csr_der = csr.data;
	ireq.csr_len = csr.len;
	ireq.profile = req->profile;
	ireq.days = req->days;
	ireq.requested_by = req->requested_by;
	ireq.order_type = "local";
	ireq.ip = req->ip;
	if ((rc = issue_job_new(ctx, &ireq, &job)) != 0)
		goto out;
	job->keyref = keyref;
	job->key_label = req->key_label;
	if ((rc = issue_run(ctx, job, res)) != 0)
		goto out;
	res->keyref = keyref;
	keyref = NULL;
out:
	if (keyref != NULL) {
		snprintf(saved, sizeof(saved), "%s", err_msg(rc));
		if (tok_delete_key(ctx->tok, keyref) != 0)
			log_msg(LOGL_ERROR, "issue", "token_key.delete.failed", "could not delete the unused key %s", keyref);
		err_set(rc, "%s", saved);
	}
	issue_job_free(job);
	free(keyref);
	buf_free(&csr);
	db_ca_free(ca);
	return rc;
}
