/*
 * api_crl.c: CRLs over HTTP.
 *   GET  /crl/{slug}.crl (plain, public): the CA's newest CRL, DER (the CDP of issued certificates)
 *        or PEM with ?format=pem; ETag "<ca_id>-<number>" and Last-Modified = thisUpdate so that
 *        pollers get a 304 without the body. The first request for a CA that has never published
 *        makes its first CRL (the scheduler would within a second anyway). After a rollover each
 *        key generation has its own CRL (ca_rollover.h): {slug} is "<slug>" for the CA's first key
 *        and "<slug>.g<N>" for generation N (slug_gen_name), the URL its certificates carry.
 *   POST /api/v1/cas/{id}/crl: publish now (admin, operator of the CA).
 *   GET  /api/v1/cas/{id}/crls: history; GET /api/v1/crls/{id}: one CRL parsed for "Show CRL".
 * May call: crl.h, db_crls.h, db_cas.h, auth.h, slug.h, OpenSSL (parsing a stored CRL only).
 * Must never: parse a CRL larger than API_CRL_PARSE_MAX_BYTES (memory), or build one itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "api.h"
#include "api_issue4.h"
#include "api_resources.h"
#include "auth.h"
#include "crl.h"
#include "ctx.h"
#include "db_cas.h"
#include "db_crls.h"
#include "err.h"
#include "json_in.h"
#include "revoke.h"
#include "slug.h"

/* "Show CRL" parses the stored DER with OpenSSL, which needs several times its size in memory;
 * above this (about 300k entries) only the metadata is shown. */
#define API_CRL_PARSE_MAX_BYTES (16 * 1024 * 1024)
#define API_CRL_ENTRIES_DEFAULT 500
#define API_CRL_ENTRIES_MAX 10000
#define API_CRL_HISTORY_DEFAULT 50
#define API_CRL_HISTORY_MAX 500

/* IMF-fixdate (RFC 9110 5.6.7) of epoch ms. */
static void
http_date(int64_t ms, char out[40])
{
	struct tm tm;
	time_t s = (time_t)(ms / 1000);

	gmtime_r(&s, &tm);
	if (strftime(out, 40, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
		out[0] = '\0';
}

/* RFC 9110 13.1.2: If-None-Match is "*" or a list of entity tags, possibly weak (W/"..."); the
 * weak comparison applies to GET. 1 when etag (quoted) is among them. */
static int
etag_matches(const char *header, const char *etag)
{
	size_t elen = strlen(etag), n;
	const char *p = header;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		n = strcspn(p, ",");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == elen && memcmp(p, etag, elen) == 0)
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

/* 1 when If-Modified-Since holds a date at or after this_update (whole seconds). An unparsable
 * date is ignored, as RFC 9110 13.1.3 requires. */
static int
not_modified_since(const char *header, int64_t this_update_ms)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(header, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return 0;
	return this_update_ms / 1000 <= (int64_t)timegm(&tm);
}

/* The newest CRL of key generation gen of ca (with its DER when with_der); makes the first one
 * when there is none and the generation keeps one (crl_latest_gen: the current key, or a retired
 * key while a certificate it issued is unexpired), as SCEP GetCRL does. */
static int
latest_or_first(struct req *req, const struct db_ca *ca, int64_t gen, int with_der, struct db_crl **out)
{
	struct hsmca_ctx *ctx = NULL;
	struct db_crl *made = NULL;
	int rc;

	rc = db_crls_latest_gen(req->db, ca->id, gen, with_der, out);
	if (rc != HSMCA_E_NOTFOUND)
		return rc;
	if (req->tok == NULL || strcmp(ca->status, "retired") == 0)
		return err_set(HSMCA_E_NOTFOUND, "CA '%s' has not published a CRL yet", ca->slug);
	if ((ctx = api_ctx_new(req)) == NULL)
		return HSMCA_E_NOMEM;
	rc = crl_latest_gen(ctx, ca, gen, &made);
	api_ctx_free(ctx);
	db_crl_free(made);
	if (rc == HSMCA_E_NOTFOUND)
		return err_set(HSMCA_E_NOTFOUND, "CA '%s' has no CRL for key generation %lld", ca->slug, (long long)gen);
	if (rc != 0)
		return rc;
	return db_crls_latest_gen(req->db, ca->id, gen, with_der, out);
}

int
api_crl_download(struct req *req, struct resp *resp)
{
	const char *name = req_param(req, "slug"), *format = req_query(req, "format"), *h;
	struct db_ca *ca = NULL;
	struct db_crl *meta = NULL, *crl = NULL;
	struct buf pem = { NULL, 0 };
	char etag[64], date[40], slug[SLUG_MAX];
	long long gen;
	int pem_wanted = 0, rc;

	/* A malformed name (%2e%2e, NUL, a generation the CA never had) names no CA: answer as for an
	 * unknown one. */
	if (name == NULL || slug_gen_parse(name, slug, &gen) != 0 || db_cas_get_by_slug(req->db, slug, &ca) != 0)
		return err_set(HSMCA_E_NOTFOUND, "no such CA");
	if (gen > ca->key_gen) {
		rc = err_set(HSMCA_E_NOTFOUND, "no such CA");
		goto out;
	}
	if (format != NULL) {
		if (strcmp(format, "pem") == 0)
			pem_wanted = 1;
		else if (strcmp(format, "der") != 0) {
			rc = err_set(HSMCA_E_INVALID, "query parameter 'format' must be 'der' or 'pem'");
			goto out;
		}
	}
	/* Metadata first: a poller that has this CRL gets its 304 without the DER being read. */
	if ((rc = latest_or_first(req, ca, gen, 0, &meta)) != 0)
		goto out;
	snprintf(etag, sizeof(etag), "\"%lld-%lld%s\"", (long long)ca->id, (long long)meta->number,
	    pem_wanted ? "-pem" : "");
	http_date(meta->this_update_ms, date);
	if ((rc = resp_header(resp, "ETag", etag)) != 0 || (rc = resp_header(resp, "Last-Modified", date)) != 0 ||
	    /* Stored, but revalidated on every use: a revocation publishes a new CRL at once. */
	    (rc = resp_header(resp, "Cache-Control", "public, no-cache")) != 0)
		goto out;
	if ((h = req_header(req, "If-None-Match")) != NULL ? etag_matches(h, etag) :
	    ((h = req_header(req, "If-Modified-Since")) != NULL && not_modified_since(h, meta->this_update_ms))) {
		rc = resp_bytes(resp, 304, NULL, "", 0);
		goto out;
	}
	if ((rc = db_crls_get(req->db, meta->id, 1, &crl)) != 0)
		goto out;
	if (crl->der.len == 0) {
		rc = err_set(HSMCA_E_INTERNAL, "newest CRL %lld of CA %s has no DER", (long long)crl->id, ca->slug);
		goto out;
	}
	if (pem_wanted) {
		if ((rc = crl_pem(&crl->der, &pem)) == 0)
			rc = resp_bytes(resp, 200, "application/x-pem-file", pem.data, pem.len);
	} else {
		/* RFC 5280 4.2.1.13 / RFC 2585 3: a DER CRL is application/pkix-crl. */
		rc = resp_bytes(resp, 200, "application/pkix-crl", crl->der.data, crl->der.len);
	}
out:
	buf_free(&pem);
	db_crl_free(crl);
	db_crl_free(meta);
	db_ca_free(ca);
	return rc;
}

/* The metadata of one CRL (history rows, publish answer). ca_slug may be NULL. */
static json_t *
crl_json(const struct db_crl *c, const char *ca_slug)
{
	return json_pack("{s:I,s:I,s:o,s:I,s:o,s:o,s:I,s:o,s:b,s:I}", "id", (json_int_t)c->id,
	    "ca_id", (json_int_t)c->ca_id, "ca", api_str_or_null(ca_slug), "number", (json_int_t)c->number,
	    "this_update", api_time_json(c->this_update_ms), "next_update", api_time_json(c->next_update_ms),
	    "entries", (json_int_t)c->entry_count, "created_at", api_time_json(c->created_at_ms),
	    "der_available", c->der.len > 0, "key_generation", (json_int_t)c->key_gen);
}

int
api_crl_publish(struct req *req, struct resp *resp)
{
	static const char *const keys[] = { NULL };
	struct hsmca_ctx *ctx = NULL;
	struct db_ca *ca = NULL;
	struct db_crl *crl = NULL;
	struct crl_info info;
	json_t *body = NULL, *o;
	int rc;

	if ((rc = api_load_ca(req, "id", AUTH_REVOKE, &ca)) != 0)
		return rc;
	/* No options yet: an empty body or {} (unknown fields refused as everywhere). */
	if (req->body_len > 0 && (rc = api_body(req, keys, &body)) != 0)
		goto out;
	if (strcmp(ca->status, "retired") == 0) {
		rc = err_set(HSMCA_E_CONFLICT, "CA '%s' is retired: it publishes no more CRLs", ca->slug);
		goto out;
	}
	if ((ctx = api_ctx_new(req)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	if ((rc = crl_publish(ctx, ca, api_actor(req), &info)) != 0)
		goto out;
	if ((rc = db_crls_get(req->db, info.crl_id, 0, &crl)) != 0)
		goto out;
	o = crl_json(crl, ca->slug);
	if (o != NULL) {
		json_object_set_new(o, "der_available", json_true());
		json_object_set_new(o, "size_bytes", json_integer((json_int_t)info.der_len));
	}
	rc = resp_json(resp, 201, o);
out:
	db_crl_free(crl);
	api_ctx_free(ctx);
	json_decref(body);
	db_ca_free(ca);
	return rc;
}

int
api_crl_list(struct req *req, struct resp *resp)
{
	struct db_ca *ca = NULL;
	struct db_crl **list = NULL;
	size_t n = 0, i;
	int64_t before;
	int limit, rc;
	json_t *items;

	if ((rc = api_load_ca(req, "id", AUTH_READ, &ca)) != 0)
		return rc;
	/* The cursor is a CRL number: the page holds numbers below it, newest first. */
	if ((rc = req_page(req, API_CRL_HISTORY_DEFAULT, API_CRL_HISTORY_MAX, &limit, &before)) != 0 ||
	    (rc = db_crls_list(req->db, ca->id, before, limit, &list, &n)) != 0)
		goto out;
	items = json_array();
	for (i = 0; i < n && items != NULL; i++)
		json_array_append_new(items, crl_json(list[i], ca->slug));
	rc = api_list_resp(resp, items, n == (size_t)limit && list[n - 1]->number > 1 ? list[n - 1]->number : 0);
out:
	db_crl_list_free(list, n);
	db_ca_free(ca);
	return rc;
}

static int64_t
asn1_time_ms(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm) * 1000;
}

/* Uppercase hex of an ASN1_INTEGER (the serial form used everywhere else), or NULL. */
static char *
int_hex(const ASN1_INTEGER *ai)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL, *out = NULL;

	BN_free(bn);
	if (hex != NULL)
		out = strdup(hex);
	OPENSSL_free(hex);
	return out;
}

/* RFC 2253 text of a name, or NULL. */
static char *
name_text(const X509_NAME *name)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long len;

	if (bio == NULL)
		return NULL;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
	    (len = BIO_get_mem_data(bio, &data)) >= 0 && (out = malloc((size_t)len + 1)) != NULL) {
		memcpy(out, data, (size_t)len);
		out[len] = '\0';
	}
	BIO_free(bio);
	return out;
}

/* Adds the parsed content of der to o: issuer, signature algorithm, number, AKI, and the first
 * `limit` entries after `offset` (serial, revoked_at, reason). */
static int
add_parsed(json_t *o, const struct buf *der, int64_t offset, int limit)
{
	const unsigned char *p = der->data;
	X509_CRL *crl = NULL;
	STACK_OF(X509_REVOKED) *revoked;
	ASN1_INTEGER *num = NULL;
	ASN1_ENUMERATED *reason;
	AUTHORITY_KEYID *akid = NULL;
	json_t *entries = NULL, *e;
	char *s = NULL;
	int i, n, crit, rc = HSMCA_E_NOMEM;

	crl = d2i_X509_CRL(NULL, &p, (long)der->len);
	if (crl == NULL || p != der->data + der->len) {
		err_drain_openssl();
		rc = err_set(HSMCA_E_INTERNAL, "a stored CRL does not parse");
		goto out;
	}
	if ((s = name_text(X509_CRL_get_issuer(crl))) == NULL)
		goto out;
	json_object_set_new(o, "issuer", json_string(s));
	free(s);
	s = NULL;
	json_object_set_new(o, "signature_algorithm",
	    json_string(OBJ_nid2ln(X509_CRL_get_signature_nid(crl))));
	if ((num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL)) != NULL && (s = int_hex(num)) != NULL)
		json_object_set_new(o, "crl_number_hex", json_string(s));
	free(s);
	s = NULL;
	if ((akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier, &crit, NULL)) != NULL &&
	    akid->keyid != NULL && (s = OPENSSL_buf2hexstr(akid->keyid->data, akid->keyid->length)) != NULL) {
		json_object_set_new(o, "authority_key_identifier", json_string(s));
		OPENSSL_free(s);
	}
	s = NULL;
	json_object_set_new(o, "this_update", api_time_json(asn1_time_ms(X509_CRL_get0_lastUpdate(crl))));
	json_object_set_new(o, "next_update", api_time_json(asn1_time_ms(X509_CRL_get0_nextUpdate(crl))));
	if ((entries = json_array()) == NULL)
		goto out;
	revoked = X509_CRL_get_REVOKED(crl);
	n = revoked != NULL ? sk_X509_REVOKED_num(revoked) : 0;
	for (i = (int)(offset < n ? offset : n); i < n && json_array_size(entries) < (size_t)limit; i++) {
		const X509_REVOKED *r = sk_X509_REVOKED_value(revoked, i);
		long code = REVOKE_REASON_UNSPECIFIED;

		if ((s = int_hex(X509_REVOKED_get0_serialNumber(r))) == NULL)
			goto out;
		if ((reason = X509_REVOKED_get_ext_d2i(r, NID_crl_reason, &crit, NULL)) != NULL) {
			code = ASN1_ENUMERATED_get(reason);
			ASN1_ENUMERATED_free(reason);
		}
		e = json_pack("{s:s,s:o,s:s}", "serial", s, "revoked_at",
		    api_time_json(asn1_time_ms(X509_REVOKED_get0_revocationDate(r))),
		    "reason", revoke_reason_name((int)code));
		free(s);
		s = NULL;
		if (e == NULL || json_array_append_new(entries, e) != 0)
			goto out;
	}
	json_object_set_new(o, "revoked", entries);
	entries = NULL;
	json_object_set_new(o, "entries_offset", json_integer((json_int_t)offset));
	json_object_set_new(o, "entries_truncated", json_boolean(i < n));
	rc = 0;
out:
	json_decref(entries);
	free(s);
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(num);
	X509_CRL_free(crl);
	return rc;
}

int
api_crl_get(struct req *req, struct resp *resp)
{
	struct db_crl *crl = NULL;
	struct db_ca *ca = NULL;
	int64_t id, offset;
	int limit, rc;
	json_t *o = NULL;

	if ((rc = req_param_id(req, "id", &id)) != 0)
		return err_set(rc, "no CRL has id '%s'", req_param(req, "id") != NULL ? req_param(req, "id") : "");
	if ((rc = req_page(req, API_CRL_ENTRIES_DEFAULT, API_CRL_ENTRIES_MAX, &limit, &offset)) != 0)
		return rc;
	if ((rc = db_crls_get(req->db, id, 1, &crl)) != 0) {
		if (rc == HSMCA_E_NOTFOUND)
			err_set(rc, "no CRL has id %lld", (long long)id);
		return rc;
	}
	if ((rc = auth_check_ca(req->db, &req->actor, crl->ca_id, AUTH_READ)) != 0)
		goto out;
	if (db_cas_get_by_id(req->db, crl->ca_id, &ca) != 0)
		ca = NULL;
	if ((o = crl_json(crl, ca != NULL ? ca->slug : NULL)) == NULL) {
		rc = HSMCA_E_NOMEM;
		goto out;
	}
	json_object_set_new(o, "size_bytes", json_integer((json_int_t)crl->der.len));
	/* Older CRLs keep only their metadata (DB_CRLS_KEEP_DER); huge ones are not parsed here. */
	if (crl->der.len > 0 && crl->der.len <= API_CRL_PARSE_MAX_BYTES) {
		if ((rc = add_parsed(o, &crl->der, offset, limit)) != 0)
			goto out;
		/* "after" pages through the entries: the next page starts after this many. */
		if (json_is_true(json_object_get(o, "entries_truncated")))
			json_object_set_new(o, "next", json_sprintf("%lld", (long long)(offset + limit)));
		else
			json_object_set_new(o, "next", json_null());
	} else {
		json_object_set_new(o, "revoked", json_null());
	}
	rc = resp_json(resp, 200, o);
	o = NULL;
out:
	json_decref(o);
	db_ca_free(ca);
	db_crl_free(crl);
	return rc;
}
