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

/* Everything step 1 decided; owned by the job and freed by issue_job_free. */
struct issue_job {
	struct db_ca *ca;
	X509 *ca_cert;
	struct csr *csr;
	enum issue_profile profile;
	int64_t not_before;      /* seconds */
	int64_t not_after;
	GENERAL_NAMES *sans;     /* what goes into the certificate */
	int days;
};

static void
issue_job_free(struct issue_job *job)
{
	db_ca_free(job->ca);
	X509_free(job->ca_cert);
	csr_free(job->csr);
	GENERAL_NAMES_free(job->sans);
	memset(job, 0, sizeof(*job));
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
static int
issue_prepare(struct hsmca_ctx *ctx, const char *ca_slug, const uint8_t *der, size_t len,
    enum issue_profile profile, int days, struct issue_job *job)
{
	int64_t now = (int64_t)time(NULL);
	int rc;

	memset(job, 0, sizeof(*job));
	if ((unsigned)profile >= ISSUE_PROFILE__MAX)
		return err_set(HSMCA_E_INVALID, "unknown profile %d", (int)profile);
	job->profile = profile;
	job->days = days > 0 ? days : ctx->cfg.default_leaf_days;
	if (job->days <= 0 || job->days > ISSUE_MAX_DAYS)
		return err_set(HSMCA_E_INVALID, "validity must be 1 to %d days", ISSUE_MAX_DAYS);
	if (ca_slug == NULL)
		return err_set(HSMCA_E_INVALID, "no CA given");
	if ((rc = db_cas_get_by_slug(ctx->db, ca_slug, &job->ca)) != 0)
		return rc;
	if (strcmp(job->ca->status, "active") != 0)
		return err_set(HSMCA_E_POLICY, "CA '%s' is %s", job->ca->slug, job->ca->status);
	if ((rc = x509b_parse_cert(job->ca->cert_der.data, job->ca->cert_der.len, &job->ca_cert)) != 0)
		return rc;
	if ((rc = csr_parse(der, len, &job->csr)) != 0)
		return rc;
	if (profile == ISSUE_PROFILE_SUBCA && X509_get_pathlen(job->ca_cert) == 0)
		return err_set(HSMCA_E_POLICY, "CA '%s' has pathlen 0 and may not issue CA certificates", job->ca->slug);
	if ((rc = issue_pick_sans(job)) != 0)
		return rc;
	job->not_before = now - X509B_BACKDATE_SECONDS;
	job->not_after = now + (int64_t)job->days * 86400;
	/* Never past the issuer: a chain validator would reject the part that sticks out. */
	if (job->not_after * 1000 > job->ca->not_after_ms)
		job->not_after = job->ca->not_after_ms / 1000;
	if (job->not_before * 1000 < job->ca->not_before_ms)
		job->not_before = job->ca->not_before_ms / 1000;
	if (job->not_after <= now)
		return err_set(HSMCA_E_POLICY, "CA '%s' has expired", job->ca->slug);
	return 0;
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
	return x509b_add_ca_urls(cert, ctx->cfg.public_base_url, job->ca->slug, 1);
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

/* Steps 2-5 (see issue.h). */
static int
issue_run(struct hsmca_ctx *ctx, struct issue_job *job, const char *order_type, const char *requested_by,
    const char *ip, const char *keyref, const char *key_label, struct issue_result *res)
{
	char digest[32], fpr[X509B_SHA256_HEX], *params = NULL, *details = NULL;
	char *subject = NULL, *issuer = NULL, *cn = NULL, *sans = NULL;
	ASN1_INTEGER *serial = NULL;
	X509 *tbs = NULL, *cert = NULL;
	struct buf der = { 0 };
	struct db_cert row;
	json_t *j = NULL;
	int64_t order_id = 0, cert_id = 0;
	int rc;

	memset(&row, 0, sizeof(row));
	if ((rc = issue_order_params(job, key_label, &params)) != 0)
		goto out;
	rc = orders_open(ctx->db, order_type, job->ca->id, job->csr->common_name, requested_by, params, &order_id);
	if (rc != 0)
		goto out;

	if ((rc = ca_new_serial(ctx->db, &serial, res->serial)) != 0)
		goto out;
	rc = x509b_new_cert(serial, X509_REQ_get_subject_name(job->csr->req), X509_get_subject_name(job->ca_cert),
	    job->not_before, job->not_after, X509_REQ_get0_pubkey(job->csr->req), &tbs);
	if (rc != 0 || (rc = issue_extensions(ctx, job, tbs)) != 0)
		goto out;
	rc = ca_sign(ctx->tok, job->ca->keyref, job->ca->key_spec, tbs, X509_get0_pubkey(job->ca_cert), &der, &cert);
	if (rc != 0)
		goto out;

	if ((rc = x509b_name_text(X509_get_subject_name(cert), &subject)) != 0 ||
	    (rc = x509b_name_text(X509_get_issuer_name(cert), &issuer)) != 0 ||
	    (rc = x509b_name_cn(X509_get_subject_name(cert), &cn)) != 0 ||
	    (rc = x509b_sans_json(job->sans, &sans)) != 0 ||
	    (rc = x509b_digest_name(cert, digest, sizeof(digest))) != 0 ||
	    (rc = x509b_sha256_hex(der.data, der.len, fpr)) != 0 ||
	    (rc = x509b_time_ms(X509_get0_notBefore(cert), &row.not_before_ms)) != 0 ||
	    (rc = x509b_time_ms(X509_get0_notAfter(cert), &row.not_after_ms)) != 0)
		goto out;
	row.ca_id = job->ca->id;
	row.serial = res->serial;
	row.subject = subject;
	row.issuer = issuer;
	row.common_name = cn;
	row.sans = sans;
	row.key_algorithm = job->csr->key_algorithm;
	row.digest = digest;
	row.fingerprint_sha256 = fpr;
	row.source = "managed";
	row.profile = (char *)issue_profile_name(job->profile);
	row.keyref = (char *)keyref;
	row.order_id = order_id;
	row.der = der;
	j = json_pack("{s:s, s:s, s:s, s:I, s:s}", "serial", res->serial, "ca", job->ca->slug, "profile",
	    row.profile, "order_id", (json_int_t)order_id, "fingerprint_sha256", fpr);
	if (j == NULL || (details = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}

	if ((rc = db_begin(ctx->db)) != 0 ||
	    (rc = db_certs_insert(ctx->db, &row, &cert_id)) != 0 ||
	    (rc = orders_complete(ctx->db, order_id, cert_id)) != 0 ||
	    (rc = audit_write(ctx->db, requested_by, ip, issue_audit_event(order_type), res->serial, details)) != 0 ||
	    (rc = db_commit(ctx->db)) != 0)
		goto out;
	metrics_inc_certificates_issued();
	res->cert_der = der;
	der.data = NULL;
	der.len = 0;
	res->certificate_id = cert_id;
	res->order_id = order_id;
	rc = 0;
out:
	if (rc != 0) {
		db_rollback(ctx->db);
		if (order_id != 0)
			orders_fail(ctx->db, order_id, err_msg(rc));
		res->serial[0] = '\0';
	}
	json_decref(j);
	free(details);
	free(sans);
	free(cn);
	free(issuer);
	free(subject);
	buf_free(&der);
	X509_free(cert);
	X509_free(tbs);
	ASN1_INTEGER_free(serial);
	free(params);
	return rc;
}

int
issue_from_csr(struct hsmca_ctx *ctx, const struct issue_req *req, struct issue_result *res)
{
	struct issue_job job;
	int rc;

	memset(res, 0, sizeof(*res));
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_INTERNAL, "issuing needs the token");
	if ((rc = issue_prepare(ctx, req->ca_slug, req->csr_der, req->csr_len, req->profile, req->days, &job)) == 0)
		rc = issue_run(ctx, &job, req->order_type != NULL ? req->order_type : "csr",
		    req->requested_by != NULL ? req->requested_by : "cli", req->ip, NULL, NULL, res);
	issue_job_free(&job);
	return rc;
}

int
issue_with_token_key(struct hsmca_ctx *ctx, const struct issue_key_req *req, struct issue_result *res)
{
	struct issue_job job;
	struct db_ca *ca = NULL;
	struct buf csr = { 0 };
	enum tok_key_spec spec;
	char *keyref = NULL, saved[512];
	int rc;

	memset(res, 0, sizeof(*res));
	memset(&job, 0, sizeof(job));
	if (ctx->tok == NULL)
		return err_set(HSMCA_E_INTERNAL, "issuing needs the token");
	if (req->key_label == NULL || *req->key_label == '\0' || req->subject == NULL)
		return err_set(HSMCA_E_INVALID, "a key label and a subject are required");
	if ((rc = tok_key_spec_parse(req->key_spec, &spec)) != 0)
		return rc;
	/* Refuse an unknown CA before a key is generated for nothing. */
	if ((rc = db_cas_get_by_slug(ctx->db, req->ca_slug != NULL ? req->ca_slug : "", &ca)) != 0)
		return rc;
	db_ca_free(ca);
	if ((rc = tok_generate_key(ctx->tok, spec, req->key_label, 1, &keyref)) != 0)
		return rc;
	if ((rc = tok_make_csr(ctx->tok, keyref, req->subject, req->sans, req->n_sans, &csr)) != 0)
		goto out;
	if ((rc = issue_prepare(ctx, req->ca_slug, csr.data, csr.len, req->profile, req->days, &job)) != 0)
		goto out;
	rc = issue_run(ctx, &job, "local", req->requested_by != NULL ? req->requested_by : "cli", req->ip, keyref,
	    req->key_label, res);
	if (rc != 0)
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
	free(keyref);
	buf_free(&csr);
	issue_job_free(&job);
	return rc;
}
