/*
 * api_cas.c: /api/v1/cas — certificate authorities: list (filtered to the caller's teams for an
 * operator), create root or intermediate, import, show, rename and settings, delete, and the CA
 * certificate, chain and (exportable keys only) private key as PEM.
 * May call: ca.h (creation, import, chain), db_cas_query.h, db_certs_query.h, tok.h (key
 * attributes, export, delete), audit.h, json_in.h, ra.h and db_scep.h (SCEP state of a CA). Must never: return a non-exportable key in any
 * form, or delete a token key unless the request says delete_key=true (exception: the keys of a
 * pending rollover, which the delete cancels; no row would name them afterwards).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>

#include "api.h"
#include "api_resources.h"
#include "api_rollover.h"
#include "audit.h"
#include "auth.h"
#include "ca.h"
#include "ca_rollover.h"
#include "db.h"
#include "db_cas.h"
#include "db_cas_query.h"
#include "db_certs_query.h"
#include "db_scep.h"
#include "db_teams.h"
#include "err.h"
#include "json_in.h"
#include "log.h"
#include "ra.h"
#include "slug.h"
#include "tok.h"

#define API_CAS_IMPORT_MAX (512 * 1024)   /* decoded PKCS#12 or PEM bytes */
#define API_CAS_PASSWORD_MAX 256
#define API_CAS_MAX_CRL_DAYS 3650

static const char *const key_specs[] = { "rsa-2048", "rsa-3072", "rsa-4096", "ec-256", "ec-384", NULL };

static json_t *
ca_json(struct req *req, const struct db_ca *ca)
{
	struct db_ca_settings set;
	struct db_scep_ca scep;
	struct db_ca *parent = NULL;
	char url[640], gen_name[SLUG_GEN_MAX];
	json_t *o;

	if (db_cas_query_settings(req->db, ca->id, &set) != 0)
		memset(&set, 0, sizeof(set));
	/* SCEP's own settings (scep_cas, db_scep.h) decide whether /scep/<slug> answers; enabled
	 * by default, so a CA without a row reports true as the SCEP handler behaves. */
	if (db_scep_ca_get(req->db, ca->id, &scep) != 0) {
		err_clear();
		scep.enabled = 0;
	}
	if (ca->parent_id > 0 && db_cas_get_by_id(req->db, ca->parent_id, &parent) != 0)
		parent = NULL;
	/* The current certificate's own name: after a rollover, the plain one is the first key's. */
	slug_gen_name(ca->slug, (long long)ca->key_gen, gen_name);
	snprintf(url, sizeof(url), "%s/ca/%s.crt", req->cfg->public_base_url, gen_name);
	o = json_pack("{s:I,s:s,s:s,s:s,s:o,s:o,s:s,s:s,s:s,s:s,s:o,s:o,s:s,s:I,s:o,s:b,s:s,s:o}",
	    "id", (json_int_t)ca->id, "name", ca->name, "slug", ca->slug, "kind", ca->kind,
	    "parent_id", ca->parent_id > 0 ? json_integer(ca->parent_id) : json_null(),
	    "parent", parent != NULL ? json_string(parent->slug) : json_null(),
	    "subject", ca->subject, "key", ca->key_spec, "keyref", ca->keyref,
	    "fingerprint_sha256", ca->fingerprint_sha256,
	    "valid_from", api_time_json(ca->not_before_ms), "valid_to", api_time_json(ca->not_after_ms),
	    "status", ca->status, "crl_number", (json_int_t)ca->crl_number,
	    "crl_validity_days", set.crl_validity_days > 0 ? json_integer(set.crl_validity_days) : json_null(),
	    "scep_enabled", scep.enabled, "certificate_url", url,
	    "created_at", api_time_json(ca->created_at_ms));
	/* A pending rollover's next certificate (ca_rollover.h), or null. */
	if (o != NULL) {
		json_object_set_new(o, "next", api_rollover_next_json(req->db, ca->id));
		json_object_set_new(o, "key_generation", json_integer((json_int_t)ca->key_gen));
	}
	db_scep_ca_clear(&scep);
	db_ca_free(parent);
	return o;
}

int
api_cas_list(struct req *req, struct resp *resp)
{
	struct db_ca **cas = NULL;
	size_t n = 0, i;
	json_t *items = NULL;
	int all = auth_reads_all(&req->actor), yes, rc;

	if ((rc = db_cas_list(req->db, &cas, &n)) != 0)
		return rc;
	if ((items = json_array()) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		/* An operator sees the CAs granted to one of their teams, nothing else. */
		if (!all) {
			if ((rc = db_teams_user_has_ca(req->db, req->actor.user_id, cas[i]->id, &yes)) != 0)
				goto out;
			if (!yes)
				continue;
		}
		if (json_array_append_new(items, ca_json(req, cas[i])) != 0) {
			rc = HSMCA_E_NOMEM;
			goto out;
		}
	}
	rc = api_list_resp(resp, items, 0);
	items = NULL;
out:
	json_decref(items);
	db_ca_list_free(cas, n);
	return rc;
}

static int
answer_ca(struct req *req, struct resp *resp, int status, int64_t id)
{
	struct db_ca *ca = NULL;
	int rc;

	if ((rc = db_cas_get_by_id(req->db, id, &ca)) != 0)
		return rc;
	rc = resp_json(resp, status, ca_json(req, ca));
	db_ca_free(ca);
	return rc;
}

int
api_cas_create(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "name", "key", "days", "parent", "pathlen", NULL };
	struct ca_create_req cr;
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL;
	struct ra_info ra = { 0 };
	json_t *body = NULL;
	int64_t days, pathlen;
	int rc;

	memset(&cr, 0, sizeof(cr));
	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = api_body(req, keys, &body)) != 0)
		return rc;
	if ((rc = json_in_str(body, "name", 1, 1, CA_NAME_MAX, 0, &cr.name)) != 0 ||
	    (rc = json_in_enum(body, "key", 0, key_specs, &cr.key_spec)) != 0 ||
	    (rc = json_in_int(body, "days", 0, 1, CA_MAX_DAYS, 0, &days)) != 0 ||
	    (rc = json_in_str(body, "parent", 0, 1, 63, 0, &cr.parent_slug)) != 0 ||
	    (rc = json_in_int(body, "pathlen", 0, 0, 16, -1, &pathlen)) != 0)
		goto out;
	cr.days = (int)days;
	cr.pathlen = (int)pathlen;
	cr.actor = api_actor(req);
	if (req->tok == NULL) {
		rc = err_set(HSMCA_E_TOKEN, "the token is not open");
		goto out;
	}
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	rc = cr.parent_slug != NULL ? ca_create_intermediate(ctx, &cr, &ca) : ca_create_root(ctx, &cr, &ca);
	if (rc != 0)
		goto out;
	/* Issue #6: a new CA is SCEP-enabled at once, with its RSA RA (even for an EC CA: SCEP
	 * envelopes need RSA). The CA stands if this fails; the SCEP handler then makes the RA on
	 * the CA's first request (ra_ensure is idempotent). */
	if ((rc = ra_ensure(ctx, ca, &ra)) != 0) {
		log_msg(LOGL_WARNING, "scep", "scep.ra_deferred", "CA %s created; its SCEP RA was not made now "
		    "(%s), it is made on the first SCEP request", ca->slug, err_msg(rc));
		err_clear();
	}
	ra_info_clear(&ra);
	rc = resp_json(resp, 201, ca_json(req, ca));
out:
	db_ca_free(ca);
	api_ctx_free(ctx);
	json_decref(body);
	return rc;
}

/* Base64 (whitespace allowed, as pasted from a file) to bytes. */
static int
b64_decode(const char *in, struct buf *out)
{
	EVP_ENCODE_CTX *ec = NULL;
	uint8_t *data = NULL;
	size_t len = strlen(in);
	int n1 = 0, n2 = 0, rc = HSMCA_E_NOMEM;

	out->data = NULL;
	out->len = 0;
	if ((ec = EVP_ENCODE_CTX_new()) == NULL || (data = malloc(len / 4 * 3 + 4)) == NULL)
		goto out;
	EVP_DecodeInit(ec);
	if (EVP_DecodeUpdate(ec, data, &n1, (const unsigned char *)in, (int)len) < 0 ||
	    EVP_DecodeFinal(ec, data + n1, &n2) != 1 || n1 + n2 == 0) {
		rc = err_set(HSMCA_E_INVALID, "field 'pkcs12' must be base64");
		goto out;
	}
	out->data = data;
	out->len = (size_t)(n1 + n2);
	data = NULL;
	rc = 0;
out:
	if (data != NULL)
		OPENSSL_clear_free(data, len / 4 * 3 + 4);
	EVP_ENCODE_CTX_free(ec);
	ERR_clear_error();
	return rc;
}

/* The certificate inside a PKCS#12 (ca_import reads the key from it itself). */
static int
p12_cert(const struct buf *p12, const char *password, struct buf *der)
{
	const unsigned char *p = p12->data;
	PKCS12 *pk = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	unsigned char *d = NULL;
	int len, rc;

	der->data = NULL;
	der->len = 0;
	if ((pk = d2i_PKCS12(NULL, &p, (long)p12->len)) == NULL || p != p12->data + p12->len) {
		rc = err_set(HSMCA_E_INVALID, "field 'pkcs12' is not a PKCS#12 file");
		goto out;
	}
	if (PKCS12_parse(pk, password != NULL ? password : "", &key, &cert, NULL) != 1 || cert == NULL) {
		rc = err_set(HSMCA_E_INVALID, "the PKCS#12 file cannot be opened with this password, or holds no "
		    "certificate");
		goto out;
	}
	if ((len = i2d_X509(cert, &d)) <= 0) {
		rc = HSMCA_E_INTERNAL;
		goto out;
	}
	rc = buf_set(der, d, (size_t)len);
out:
	OPENSSL_free(d);
	X509_free(cert);
	EVP_PKEY_free(key);
	PKCS12_free(pk);
	ERR_clear_error();
	return rc;
}

int
api_cas_import(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "name", "certificate", "key", "pkcs12", "password", "keyref", NULL };
	const char *name, *cert_pem, *key_pem, *p12_b64, *password, *keyref;
	struct ca_import_req ir;
	struct buf p12 = { 0 }, p12cert = { 0 };
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL;
	json_t *body = NULL;
	int sources, rc;

	memset(&ir, 0, sizeof(ir));
	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = api_body(req, keys, &body)) != 0)
		return rc;
	if ((rc = json_in_str(body, "name", 1, 1, CA_NAME_MAX, 0, &name)) != 0 ||
	    (rc = json_in_str(body, "certificate", 0, 1, API_CAS_IMPORT_MAX, 1, &cert_pem)) != 0 ||
	    (rc = json_in_str(body, "key", 0, 1, API_CAS_IMPORT_MAX, 1, &key_pem)) != 0 ||
	    (rc = json_in_str(body, "pkcs12", 0, 1, API_CAS_IMPORT_MAX * 4 / 3 + 4096, 1, &p12_b64)) != 0 ||
	    (rc = json_in_str(body, "password", 0, 0, API_CAS_PASSWORD_MAX, 1, &password)) != 0 ||
	    (rc = json_in_str(body, "keyref", 0, 8, 1024, 0, &keyref)) != 0)
		goto out;
	sources = (key_pem != NULL) + (p12_b64 != NULL) + (keyref != NULL);
	if (sources != 1) {
		rc = err_set(HSMCA_E_INVALID, "give exactly one of 'key' (PEM), 'pkcs12' (base64) or 'keyref'");
		goto out;
	}
	if (p12_b64 == NULL && cert_pem == NULL) {
		rc = err_set(HSMCA_E_INVALID, "field 'certificate' is required");
		goto out;
	}
	if (p12_b64 != NULL) {
		if ((rc = b64_decode(p12_b64, &p12)) != 0)
			goto out;
		if (cert_pem == NULL && (rc = p12_cert(&p12, password, &p12cert)) != 0)
			goto out;
	}
	ir.name = name;
	if (cert_pem != NULL) {
		ir.cert = (const uint8_t *)cert_pem;
		ir.cert_len = strlen(cert_pem);
	} else {
		ir.cert = p12cert.data;
		ir.cert_len = p12cert.len;
	}
	if (key_pem != NULL) {
		ir.key_pem = (const uint8_t *)key_pem;
		ir.key_pem_len = strlen(key_pem);
	}
	if (p12.data != NULL) {
		ir.p12 = p12.data;
		ir.p12_len = p12.len;
		ir.p12_password = password != NULL ? password : "";
	}
	ir.keyref = keyref;
	ir.actor = api_actor(req);
	if (req->tok == NULL) {
		rc = err_set(HSMCA_E_TOKEN, "the token is not open");
		goto out;
	}
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = ca_import(ctx, &ir, &ca)) != 0)
		goto out;
	rc = resp_json(resp, 201, ca_json(req, ca));
out:
	db_ca_free(ca);
	api_ctx_free(ctx);
	buf_free(&p12cert);
	buf_free(&p12);
	json_decref(body);
	return rc;
}

int
api_cas_get(struct req *req, struct resp *resp)
{
	struct db_ca *ca = NULL;
	int rc;

	if ((rc = api_load_ca(req, "id", AUTH_READ, &ca)) != 0)
		return rc;
	rc = resp_json(resp, 200, ca_json(req, ca));
	db_ca_free(ca);
	return rc;
}

int
api_cas_update(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { "name", "status", "crl_validity_days", NULL };
	static const char *const statuses[] = { "active", "disabled", NULL };
	const char *name, *status;
	struct db_ca *ca = NULL;
	char *det = NULL;
	json_t *body = NULL, *o;
	int64_t crl_days;
	int rc;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = api_load_ca(req, "id", AUTH_MANAGE, &ca)) != 0)
		return rc;
	if ((rc = api_body(req, keys, &body)) != 0)
		goto out;
	if ((rc = json_in_str(body, "name", 0, 1, CA_NAME_MAX, 0, &name)) != 0 ||
	    (rc = json_in_enum(body, "status", 0, statuses, &status)) != 0 ||
	    (rc = json_in_int(body, "crl_validity_days", 0, 0, API_CAS_MAX_CRL_DAYS, -1, &crl_days)) != 0)
		goto out;
	/* The slug stays: it is in the CDP and AIA URLs of every certificate already issued. */
	o = json_pack("{s:o,s:o,s:o}", "name", api_str_or_null(name), "status", api_str_or_null(status),
	    "crl_validity_days", crl_days >= 0 ? json_integer(crl_days) : json_null());
	det = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (det == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = db_cas_query_update(req->db, ca->id, name, status, (int)crl_days)) != 0 ||
	    (rc = audit_write(req->db, api_actor(req), req->peer_ip, "ca.updated", ca->slug, det)) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	rc = answer_ca(req, resp, 200, ca->id);
out:
	free(det);
	json_decref(body);
	db_ca_free(ca);
	return rc;
}

/* A boolean query parameter: absent, "false" or "0" is 0; "true" or "1" is 1. */
static int
query_bool(struct req *req, const char *name, int *out)
{
	const char *v = req_query(req, name);

	*out = 0;
	if (v == NULL || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
		*out = 1;
		return 0;
	}
	return err_set(HSMCA_E_INVALID, "query parameter '%s' must be true or false", name);
}

int
api_cas_delete(struct req *req, struct resp *resp)
{
	struct db_ca *ca = NULL;
	struct hsmca_ctx *ctx = NULL;
	struct ca_rollover_keys rkeys = { NULL, 0, 0 };
	int64_t live = 0, children = 0;
	int force, delete_key, key_deleted = 0, rc;
	char det[160];

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0)
		return rc;
	if ((rc = query_bool(req, "force", &force)) != 0 || (rc = query_bool(req, "delete_key", &delete_key)) != 0)
		return rc;
	if ((rc = api_load_ca(req, "id", AUTH_MANAGE, &ca)) != 0)
		return rc;
	if ((rc = db_cas_query_count_children(req->db, ca->id, &children)) != 0 ||
	    (rc = db_certs_query_count_live(req->db, ca->id, db_now_ms(), &live)) != 0)
		goto out;
	if (children > 0) {
		rc = err_set(HSMCA_E_CONFLICT, "CA '%s' has %lld subordinate CA(s); delete them first", ca->slug,
		    (long long)children);
		goto out;
	}
	if (live > 0 && !force) {
		rc = err_set(HSMCA_E_CONFLICT, "CA '%s' has %lld unexpired, unrevoked certificate(s); revoke them "
		    "or delete with force=true", ca->slug, (long long)live);
		goto out;
	}
	snprintf(det, sizeof(det), "{\"delete_key\":%s,\"force\":%s,\"live_certificates\":%lld}",
	    delete_key ? "true" : "false", force ? "true" : "false", (long long)live);
	/* A pending rollover's keys and the retired keys are named only by rows the delete cascades
	 * away: read them first, delete them after the commit (ca_rollover.h). */
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = ca_rollover_keys_read(ctx, ca->id, &rkeys)) != 0)
		goto out;
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	if ((rc = db_cas_query_delete(req->db, ca->id)) != 0 ||
	    (rc = audit_write(req->db, api_actor(req), req->peer_ip, "ca.deleted", ca->slug, det)) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	/* The row is gone for good; the key goes only on explicit request, after the commit, so a
	 * failed delete never leaves a CA without its key. */
	if (delete_key && req->tok != NULL && ca_key_in_use(ctx, ca->keyref)) {
		log_msg(LOGL_NOTICE, "api", "ca.key.kept", "CA %s deleted; its key stays: another CA uses it", ca->slug);
	} else if (delete_key && req->tok != NULL) {
		if (tok_delete_key(req->tok, ca->keyref) == 0) {
			key_deleted = 1;
			if (db_begin(req->db) == 0 &&
			    (audit_write(req->db, api_actor(req), req->peer_ip, "ca.key.deleted", ca->slug, NULL) != 0 ||
			    db_commit(req->db) != 0))
				db_rollback(req->db);
		} else {
			log_msg(LOGL_ERROR, "api", "ca.key.delete_failed", "CA %s deleted but its key %s was not: %s",
			    ca->slug, ca->keyref, err_msg(HSMCA_E_TOKEN));
		}
	}
	ca_rollover_keys_delete(ctx, &rkeys, delete_key);
	rc = resp_json(resp, 200, json_pack("{s:I,s:s,s:b,s:b}", "id", (json_int_t)ca->id, "slug", ca->slug,
	    "deleted", 1, "key_deleted", key_deleted));
out:
	ca_rollover_keys_free(&rkeys);
	api_ctx_free(ctx);
	db_ca_free(ca);
	return rc;
}

int
api_cas_certificate(struct req *req, struct resp *resp)
{
	struct db_ca *ca = NULL;
	struct buf pem = { 0 };
	int rc;

	if ((rc = api_load_ca(req, "id", AUTH_READ, &ca)) != 0)
		return rc;
	if ((rc = api_der_to_pem(ca->cert_der.data, ca->cert_der.len, &pem)) == 0)
		rc = resp_bytes(resp, 200, "application/x-pem-file", pem.data, pem.len);
	buf_free(&pem);
	db_ca_free(ca);
	return rc;
}

int
api_cas_chain(struct req *req, struct resp *resp)
{
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL;
	struct buf *ders = NULL, pem = { 0 };
	size_t n = 0, i;
	int rc;

	if ((rc = api_load_ca(req, "id", AUTH_READ, &ca)) != 0)
		return rc;
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = ca_chain(ctx, ca, &ders, &n)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if ((rc = api_der_to_pem(ders[i].data, ders[i].len, &pem)) != 0)
			goto out;
	rc = resp_bytes(resp, 200, "application/x-pem-file", pem.data, pem.len);
out:
	buf_free(&pem);
	ca_chain_free(ders, n);
	api_ctx_free(ctx);
	db_ca_free(ca);
	return rc;
}

/* PKCS#8 PEM of an exportable token key, through a PKCS#12 made under a one-time random password
 * that never leaves this function. */
static int
export_key_pem(struct req *req, const struct db_ca *ca, struct buf *out)
{
	unsigned char rnd[24];
	char pw[49];
	struct buf pfx = { 0 };
	const unsigned char *p;
	PKCS12 *p12 = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	BUF_MEM *bm;
	size_t i;
	int rc = HSMCA_E_INTERNAL;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		goto out;
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
	if ((rc = tok_export_pkcs12(req->tok, ca->keyref, &ca->cert_der, NULL, 0, ca->slug, pw, 0, &pfx)) != 0)
		goto out;
	p = pfx.data;
	rc = HSMCA_E_INTERNAL;
	if ((p12 = d2i_PKCS12(NULL, &p, (long)pfx.len)) == NULL || PKCS12_parse(p12, pw, &key, NULL, NULL) != 1 ||
	    key == NULL || (bio = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio_PKCS8PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1) {
		err_set(rc, "cannot convert the exported key to PEM");
		err_drain_openssl();
		goto out;
	}
	BIO_get_mem_ptr(bio, &bm);
	rc = buf_set(out, bm->data, bm->length);
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(rnd, sizeof(rnd));
	BIO_free(bio);
	EVP_PKEY_free(key);
	PKCS12_free(p12);
	buf_free(&pfx);
	return rc;
}

int
api_cas_private_key(struct req *req, struct resp *resp)
{
	struct db_ca *ca = NULL;
	struct buf pem = { 0 };
	int exportable = 0, rc;

	if ((rc = auth_check(&req->actor, AUTH_MANAGE)) != 0 || (rc = api_load_ca(req, "id", AUTH_MANAGE, &ca)) != 0)
		return rc;
	if (req->tok == NULL) {
		rc = err_set(HSMCA_E_TOKEN, "the token is not open");
		goto out;
	}
	if ((rc = tok_key_is_exportable(req->tok, ca->keyref, &exportable)) != 0)
		goto out;
	if (!exportable) {
		rc = err_set(HSMCA_E_CONFLICT, "the key is held non-extractable in token %s", tok_label(req->tok));
		goto out;
	}
	if ((rc = db_begin(req->db)) != 0)
		goto out;
	/* Audited before the key leaves: a failed answer after an exported key still shows here. */
	if ((rc = audit_write(req->db, api_actor(req), req->peer_ip, "ca.private_key.exported", ca->slug, NULL)) != 0 ||
	    (rc = db_commit(req->db)) != 0) {
		db_rollback(req->db);
		goto out;
	}
	if ((rc = export_key_pem(req, ca, &pem)) != 0)
		goto out;
	rc = resp_bytes(resp, 200, "application/x-pem-file", pem.data, pem.len);
out:
	buf_free(&pem);
	db_ca_free(ca);
	return rc;
}
